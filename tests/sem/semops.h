/*
 * semops.h - the System V semaphore differential suite (tests/sem/).
 *
 * The same harness as the shm suite (../diff.h): each SEM_TEST scenario
 * runs twice, on the kernel in a fresh private IPC namespace and on ushm
 * in a fresh namespace directory, and the traces are compared line for
 * line; the X_* helpers also state what SEMANTICS-SEM.md says, checked in
 * the kernel run.
 *
 * Built with -DSEM_SELFTEST (`make sem-selftest`), the second side calls
 * the kernel too, in a fresh IPC namespace of its own: both runs must
 * agree and the first run's expectations must hold.  That validates the
 * scenarios until ushm's semaphores exist.
 */
#ifndef USHM_SEMOPS_H
#define USHM_SEMOPS_H

#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#include "../diff.h"

/*
 * The ushm API under test, as it will be in include/ushm.h (drop these
 * declarations then): the same signatures and semantics as the libc
 * calls; limits through ushm_limit_get/set("sem"), ("sem_next_id").
 */
int ushm_semget(key_t key, int nsems, int semflg);
int ushm_semop(int semid, struct sembuf *sops, size_t nsops);
int ushm_semtimedop(int semid, struct sembuf *sops, size_t nsops,
		    const struct timespec *timeout);
int ushm_semctl(int semid, int semnum, int cmd, ...);

/* semctl(2)'s fourth argument: the caller declares it. */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct sem_ops {
	const char *name;	/* "kernel" or "ushm" */
	int (*get)(key_t key, int nsems, int semflg);
	int (*op)(int semid, struct sembuf *sops, size_t nsops);
	int (*timedop)(int semid, struct sembuf *sops, size_t nsops,
		       const struct timespec *timeout);
	int (*ctl)(int semid, int semnum, int cmd, ...);
	/* The same side's shmget, for keys shared across kinds (1.1). */
	int (*shmget)(key_t key, size_t size, int shmflg);
	/* Enter a fresh, empty namespace. */
	void (*enter)(void);
	/* Limits by sysctl name ("sem", "sem_next_id") as the file's
	 * text, without the newline. */
	int (*set_limit_text)(const char *name, const char *text);
	int (*get_limit_text)(const char *name, char *buf, size_t len);
	/* After credentials changed through a raw syscall (capset). */
	void (*creds_changed)(void);
	int is_kernel;
};

extern const struct sem_ops sem_kernel_ops;
extern const struct sem_ops sem_ushm_ops;

void sem_run(const char *name, void (*scenario)(const struct sem_ops *o));

#define SEM_TEST_T(name_, secs_)                                           \
	static void scen_##name_(const struct sem_ops *o);                 \
	TEST_T(name_, secs_)                                               \
	{                                                                  \
		sem_run(#name_, scen_##name_);                             \
	}                                                                  \
	static void scen_##name_(const struct sem_ops *o)

#define SEM_TEST(name_) SEM_TEST_T(name_, 60)

/* A sop array and its length, for o->op(id, OPS({0, -1, 0}, ...)). */
#define OPS(...)                                                           \
	(struct sembuf[]){ __VA_ARGS__ },                                  \
	(sizeof((struct sembuf[]){ __VA_ARGS__ }) / sizeof(struct sembuf))

#define NOWAIT IPC_NOWAIT
#define UNDO SEM_UNDO

/* ---- recording ---- */

/* Per semaphore: "label[i]: val V pid P ncnt N zcnt Z" (GETVAL, GETPID
 * as a name, GETNCNT, GETZCNT), for semnum 0..N-1. */
void rec_sems(const struct sem_ops *o, const char *label, int id, int n);
/* GETVAL of one semaphore, recorded and stated: X_VAL(o, l, id, num, v). */
long long x_val(const char *file, int line, const struct sem_ops *o,
		const char *label, int id, int num, long long want);
#define X_VAL(o, label, id, num, want)                                     \
	x_val(__FILE__, __LINE__, (o), (label), (id), (num), (want))
/* GETALL: "label: v0 v1 ...", stated equal to WANT (NULL: not stated). */
void x_all(const char *file, int line, const struct sem_ops *o,
	   const char *label, int id, int n, const unsigned short *want);
#define X_ALL(o, label, id, n, ...)                                        \
	x_all(__FILE__, __LINE__, (o), (label), (id), (n),                 \
	      (const unsigned short[]){ __VA_ARGS__ })

/* IPC_STAT / SEM_STAT / SEM_STAT_ANY into a 0xa5-filled buffer: the
 * return and every field (times as classes).  OUT may be NULL. */
int rec_semstat(const struct sem_ops *o, const char *label, int id, int cmd,
		struct semid_ds *out);
/* IPC_INFO / SEM_INFO the same way. */
int rec_seminfo(const struct sem_ops *o, const char *label, int id, int cmd,
		struct seminfo *out);
/* The "sem" or "sem_next_id" text: "limit NAME: TEXT"; "set NAME=T: R". */
int rec_sem_limit(const struct sem_ops *o, const char *name, char *out,
		  size_t len);
int rec_set_sem_limit(const struct sem_ops *o, const char *name,
		      const char *text);

/* ---- waiting for observable states (bounded: fail after 5 s) ---- */

/* Until GETNCNT or GETZCNT (CMD) of NUM is WANT. */
void sem_await(const struct sem_ops *o, int id, int num, int cmd, int want);
/* Until the sum of GETNCNT and GETZCNT over semaphores 0..N-1 is WANT:
 * every sleeper counts exactly once (5.8). */
void sem_await_sleepers(const struct sem_ops *o, int id, int n, int want);
/* The sum itself. */
int sem_sleepers(const struct sem_ops *o, int id, int n);

/* ---- children doing one semop ---- */

/* Fork a child that calls semop (TIMEOUT NULL) or semtimedop on its
 * copy of SOPS, reports the result to the parent (r, or -errno), then
 * waits for the parent's word (or EOF) and exits 0.  Returns N. */
int sem_spawn(const struct sem_ops *o, int id, const struct sembuf *sops,
	      size_t nsops, const struct timespec *timeout);
/* The same, then wait until the child sleeps: the number of sleepers on
 * semaphores 0..NSEMS-1 of ID reaches BEFORE + 1. */
int sem_spawn_sleeper(const struct sem_ops *o, int id, int nsems,
		      const struct sembuf *sops, size_t nsops);
/* Read child N's report and record "LABEL: R" / "LABEL: -1 ENAME";
 * returns r (or -1 with errno set). */
int rec_report(const char *label, int n);
/* Tell child N to exit, and wait for it (recorded). */
void sem_release(int n);
/* Wait until WANT of the NK children in KIDS have reported (5 s at
 * most), then record "LABEL: child#N R" for each in the order of KIDS
 * and return a bit mask of those that reported (bit i for KIDS[i]). */
unsigned sem_collect(const char *label, const int *kids, int nk, int want);
/* Wait for exactly one report from the NK children in KIDS, record
 * "LABEL: child#N R" and return its index in KIDS. */
int sem_next_report(const char *label, const int *kids, int nk);

/* ---- credentials ---- */
void sem_drop_caps(const struct sem_ops *o, unsigned long long mask);

/* An IPC_SET buffer: zeros but for uid, gid and mode. */
struct semid_ds sem_set_buf(uid_t uid, gid_t gid, int mode);

/* A page that is mapped PROT_NONE (for EFAULT cases). */
void *sem_bad_ptr(void);

#define K1 0x5e000001
#define K2 0x5e000002
#define K3 0x5e000003

#endif
