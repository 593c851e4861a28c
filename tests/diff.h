/*
 * diff.h - differential tests: the same scenario against the kernel and ushm.
 *
 * A scenario is a function of a struct shm_ops.  DIFF_TEST() runs it twice,
 * each time in a forked child: once with the kernel's calls in a fresh
 * private IPC namespace, once with ushm's calls in a fresh shared ushm
 * namespace.  Everything the scenario observes is recorded, one line at a
 * time, into a trace (rec*() and the X_* / AT_* helpers); the test fails
 * at the first line where the ushm trace differs from the kernel trace.
 *
 * Traces hold nothing that differs between two faithful runs: ids and
 * errno names exactly, times only as classes ("0", "now", or compared with
 * each other), pids as names ("main", "child#N"), attach addresses as
 * "requested address" / "page-aligned address".
 *
 * The X_* and AT_* helpers also state what SEMANTICS.md says the result
 * is; in the kernel run a contradiction is collected and fails the test,
 * so each test checks both that the kernel matches the spec and that ushm
 * matches the kernel.  In the ushm run they only record.
 *
 * Child processes: diff_fork() returns 0 in the child (which ends with
 * diff_exit()), and the child's number N >= 1 in the parent, which must
 * collect it with diff_wait(N).  to_parent()/from_parent() and
 * to_child()/from_child() pass ints through pipes, for synchronisation.
 * Only one process records at a time: the others wait on a pipe or in
 * waitpid(), so traces are deterministic.
 */
#ifndef USHM_DIFF_H
#define USHM_DIFF_H

#include <stdint.h>
#include <linux/capability.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <time.h>

#include "test.h"

struct shm_ops {
	const char *name;	/* "kernel" or "ushm" */
	int (*get)(key_t key, size_t size, int shmflg);
	void *(*at)(int shmid, const void *shmaddr, int shmflg);
	int (*dt)(const void *shmaddr);
	int (*ctl)(int shmid, int cmd, struct shmid_ds *buf);
	/* Enter a fresh, empty namespace (again: another fresh one). */
	void (*enter)(void);
	/* Sysctl-like limits by name, as numbers; shmmax and shmall carry
	 * the bit pattern of an unsigned long (written and read as
	 * unsigned decimal text). */
	int (*set_limit)(const char *name, long long v);
	int (*get_limit)(const char *name, long long *v);
	/* The same as the file's decimal text, without the newline. */
	int (*set_limit_text)(const char *name, const char *text);
	int (*get_limit_text)(const char *name, char *buf, size_t len);
	/* After credentials changed through a raw syscall (capset). */
	void (*creds_changed)(void);
	int is_kernel;
};

extern const struct shm_ops diff_kernel_ops;
extern const struct shm_ops diff_ushm_ops;

/* Run SCENARIO on the kernel and on ushm and compare (see above). */
void diff_run(const char *name, void (*scenario)(const struct shm_ops *o));

/* The same for any ops table (the semaphore suite's, tests/sem/): side 0
 * is the oracle, side 1 is compared with it.  Each side's ENTER moves the
 * run's main process into a fresh namespace; SCENARIO gets its OPS. */
struct diff_side {
	const char *name;
	int is_kernel;		/* expectations are checked in this run */
	void (*enter)(void);
	const void *ops;
};
void diff_run_sides(const char *name, const struct diff_side side[2],
		    void (*scenario)(const void *ops));

#define DIFF_TEST_T(name_, secs_)                                          \
	static void scen_##name_(const struct shm_ops *o);                 \
	TEST_T(name_, secs_)                                               \
	{                                                                  \
		diff_run(#name_, scen_##name_);                            \
	}                                                                  \
	static void scen_##name_(const struct shm_ops *o)

#define DIFF_TEST(name_) DIFF_TEST_T(name_, 60)

/* 1 in the kernel run (and its children), 0 in the ushm run. */
extern int diff_kernel_run;

/* ---- recording ---- */

/* One free-form trace line. */
void rec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A label built with printf formatting; the buffer is one of a few
 * static ones, valid until a few more calls.  Keeps errno. */
const char *L(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "label: R", or "label: -1 ENAME" (errno as it is on entry). */
long long rec_ret(const char *label, long long r);

/* shmat's result: "-1 ENAME", "NULL", "requested address" (P == WANT,
 * WANT not NULL), "page-aligned address" or "unaligned address". */
void *rec_at(const char *label, void *p, const void *want);

/* IPC_STAT / SHM_STAT / SHM_STAT_ANY with a buffer pre-filled with 0xa5;
 * records the return and every field.  Copies the buffer to OUT (if not
 * NULL; zeroed on failure).  Returns the call's result, errno kept. */
int rec_stat(const struct shm_ops *o, const char *label, int id, int cmd,
	     struct shmid_ds *out);
/* IPC_INFO and SHM_INFO the same way. */
int rec_ipc_info(const struct shm_ops *o, const char *label, int id,
		 struct shminfo *out);
int rec_shm_info(const struct shm_ops *o, const char *label, int id,
		 struct shm_info *out);

/* Pids by name: "0", "main", "child#N", or "unknown". */
const char *diff_pid_name(pid_t pid);
void rec_pid(const char *label, pid_t pid);
/* Time class: "0", "now" (since the run began, a second of slack each
 * side), "past" or "future". */
void rec_time(const char *label, time_t t);
/* "label: <", "=" or ">" comparing A with B. */
void rec_cmp(const char *label, long long a, long long b);

/* Limits: "limit NAME: V" / "set NAME=V: R". */
int rec_limit(const struct shm_ops *o, const char *name, long long *out);
int rec_set_limit(const struct shm_ops *o, const char *name, long long v);

/* The /proc/self/maps entry holding ADDR: length, perms, offset and the
 * name reduced to "SYSV<8 hex digits>" (or "other"/"anon"), or
 * "unmapped".  Returns 1 if mapped. */
int rec_maps(const char *label, const void *addr);
/* Number of /proc/self/maps entries that overlap [ADDR, ADDR+LEN). */
int diff_count_maps(const void *addr, size_t len);

/* ---- expectations (checked in the kernel run only) ---- */

void diff_expect_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define EXPECT(cond)                                                       \
	do {                                                               \
		if (diff_kernel_run && !(cond))                            \
			diff_expect_fail(__FILE__, __LINE__, "EXPECT(%s)", \
					 #cond);                           \
	} while (0)

long long x_ret(const char *file, int line, const char *label, long long r,
		int mode, long long want);
void *x_at(const char *file, int line, const char *label, void *p,
	   int mode, const void *want, int err);

enum { XM_REC, XM_ERR, XM_OK, XM_EQ };

/* Record a call's result and state what the kernel must return:
 * X_ERR -1 with errno ERR, X_SUCC anything but -1, X_EQ exactly V. */
#define X_REC(label, call)                                                 \
	x_ret(__FILE__, __LINE__, (label), (long long)(intptr_t)(call),    \
	      XM_REC, 0)
#define X_ERR(label, call, err)                                            \
	x_ret(__FILE__, __LINE__, (label), (long long)(intptr_t)(call),    \
	      XM_ERR, (err))
#define X_SUCC(label, call)                                                  \
	x_ret(__FILE__, __LINE__, (label), (long long)(intptr_t)(call),    \
	      XM_OK, 0)
#define X_EQ(label, call, v)                                               \
	x_ret(__FILE__, __LINE__, (label), (long long)(intptr_t)(call),    \
	      XM_EQ, (long long)(v))

/* Record the nattch of ID ("label: nattch N", or the IPC_STAT error)
 * and state that it is WANT. */
long long x_nattch(const char *file, int line, const struct shm_ops *o,
		   const char *label, int id, long long want);
#define X_NATTCH(o, label, id, want)                                       \
	x_nattch(__FILE__, __LINE__, (o), (label), (id), (want))

/* shmat: AT_ERR fails with ERR; AT_OK succeeds (at WANT unless WANT is
 * NULL); AT_EQ returns exactly WANT, NULL included. */
#define AT_ERR(label, call, err)                                           \
	x_at(__FILE__, __LINE__, (label), (call), XM_ERR, NULL, (err))
#define AT_OK(label, call, want)                                           \
	x_at(__FILE__, __LINE__, (label), (call), XM_OK, (want), 0)
#define AT_EQ(label, call, want)                                           \
	x_at(__FILE__, __LINE__, (label), (call), XM_EQ, (want), 0)

/* ---- processes ---- */

int diff_fork(void);
void diff_exit(void) __attribute__((noreturn));
/* Wait for child N and record "child#N: exit S" / "child#N: signal S".
 * Returns the waitpid() status. */
int diff_wait(int n);
pid_t diff_child_pid(int n);
void to_parent(int v);
int from_parent(void);		/* INT_MIN on EOF */
void to_child(int n, int v);
int from_child(int n);		/* INT_MIN on EOF */
/* In a child: its ends of the two pipes (read from parent, write to
 * parent), e.g. to hand them to an exec'd program. */
void diff_child_fds(int *rd, int *wr);
/* In the parent: the end it reads child N's messages from (for poll). */
int diff_child_fd(int n);

/* ---- credentials ---- */

#define CAPBIT(c) (1ULL << (c))
/* Remove the capabilities in MASK from the effective, permitted and
 * inheritable sets (capset(2) by syscall), then o->creds_changed(). */
void diff_drop_caps(const struct shm_ops *o, unsigned long long mask);
/* Keep only the capabilities in MASK. */
void diff_keep_caps(const struct shm_ops *o, unsigned long long mask);
/* Keep only the capabilities in KEEP, then CHANGED(). */
void diff_set_caps(unsigned long long keep, void (*changed)(void));
/* setgroups(NGROUPS, GROUPS), setgid(GID), setuid(UID). */
void diff_become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups);

/* ---- misc ---- */

/* An IPC_SET buffer: zeros but for uid, gid and mode. */
struct shmid_ds diff_set_buf(uid_t uid, gid_t gid, int mode);

/* Sleep until the wall-clock second changes, so that a time set after
 * this differs from one set before. */
void diff_tick(void);
/* A fixed, unused address for attaching at a given place: slot N of a
 * region no allocator uses, 256 MiB apart. */
void *diff_addr(int n);
/* Fill / verify bytes of an attachment. */
void diff_fill(void *p, size_t len, int seed);
int diff_check_fill(const void *p, size_t len, int seed);
int diff_all_zero(const void *p, size_t len);

#define PAGE 4096UL
#define SHM_HUGE_2MB_FLAG (21 << 26)
#define SHM_HUGE_1MB_FLAG (20 << 26)

#endif
