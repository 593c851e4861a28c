/*
 * crash.h - what the files of ushm-crash share.
 *
 * ushm-crash is built from the files in crash/ and every library source, with
 * -DUSHM_CRASHTEST (so CRASH_POINT() is live) and with the linker
 * wrapping ushm__crash_point (-Wl,--wrap), so that this program can note
 * the name of each crash point a process passes before the library's own
 * hook decides whether to kill it (log.c).
 *
 *   ushm-crash points            crash at every point of every operation
 *   ushm-crash torture N         random kills until N kills
 *   ushm-crash torture --seconds S
 *   ushm-crash waiters [--seconds S]  kill processes waiting for the lock
 */
#ifndef USHM_CRASH_H
#define USHM_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"
#include "ushm.h"

#define PAGE		4096UL
#define NAME_LEN	32

/* ---- log.c: the names of the crash points passed ---- */

/* Where a process notes the points it passes: a shared array (points
 * mode: every name in order) and/or one "last point" field (torture). */
struct crash_log {
	uint32_t n;			/* names noted (may exceed cap) */
	uint32_t cap;
	char names[][NAME_LEN];
};
void crash_log_to(struct crash_log *log, char *last);
/* While *MUTE is non-zero, crash points no longer kill (the torture's
 * supervisor mutes its workers before it stops them). */
void crash_log_mute(const int *mute);
void __wrap_ushm__crash_point(const char *name);
void __real_ushm__crash_point(const char *name);

/* The crash points seen so far (shared by all processes of a run once
 * crash_names_init() made the table), for random arming and statistics. */
#define CRASH_NAMES_MAX	128
struct crash_names {
	uint32_t n;
	int ready[CRASH_NAMES_MAX];
	char name[CRASH_NAMES_MAX][NAME_LEN];
	long kills[CRASH_NAMES_MAX];	/* deaths there (torture) */
};
extern struct crash_names *crash_names;
void crash_names_init(void);

/* ---- util.c ---- */

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *shared_alloc(size_t len);		/* MAP_SHARED | MAP_ANONYMOUS */
/* A fresh directory under $USHM_CRASH_TMP, else /dev/shm. */
char *ns_make(const char *prefix);
void rm_tree(const char *path);
double now_s(void);
uint64_t rng_next(uint64_t *s);
uint32_t rng_below(uint64_t *s, uint32_t n);

/* Write or read exactly LEN bytes; read returns the count before EOF. */
void write_all(int fd, const void *buf, size_t len);
size_t read_full(int fd, void *buf, size_t len);

/* In a child: be killed when the parent dies, so that nothing of ours
 * outlives a supervisor killed by a time limit. */
void die_with_parent(void);

/* SIGKILL ourselves, the way a crash point (or kill -9) ends us. */
void die_now(void) __attribute__((noreturn));

/* Run ushm_check(), printing each violation as "# TAG: line".  Returns
 * the number of violations (a failed check counts as one). */
int check_print(const char *tag);

/* The pids of the processes whose names a snapshot uses ("P", "V", ...). */
struct roles {
	int n;
	pid_t pid[16];
	char name[16];
};
void roles_add(struct roles *r, pid_t pid, char name);

/* The observable state of the namespace as canonical text: limits,
 * allocator, and each segment as IPC_STAT/SHM_STAT shows it (times as
 * zero or not, pids as role names).  Observing reaps the dead, as the
 * kernel's exit would have.  Returns the number of segments whose file
 * does not carry the segment's permissions (printed), which the OS
 * enforces and the checker does not look at. */
int snapshot(char *buf, size_t len, const struct roles *r);

/* After a test: remove every segment, then require an empty namespace
 * (no segment, no page, no file, no violation).  Returns the problems
 * found, printed as "# TAG: ...". */
int drain_and_verify(const char *tag);

/* ---- the commands ---- */
int cmd_points(int argc, char **argv);
int cmd_torture(int argc, char **argv);
int cmd_waiters(int argc, char **argv);

#endif
