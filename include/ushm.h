/*
 * ushm.h - System V shared memory in user space.
 *
 * The four calls have the signatures, types and errno values of the
 * kernel's shmget(2), shmat(2), shmdt(2) and shmctl(2): they return -1
 * (or (void *)-1 for ushm_shmat) and set errno exactly where the kernel
 * would.  They work on a *namespace*: a directory shared by every process
 * that must see the same segments (see README.md, "Namespaces").
 *
 * Failures of the environment rather than of the call (a namespace
 * directory that is unsafe or unreachable, a registry file that is
 * corrupted, foreign or of another layout version, a full filesystem)
 * also return -1; errno is then one the kernel's calls never give for
 * the call in question where possible (ENOTDIR, EUCLEAN, EMFILE, ...) and
 * ushm_strerror() says in one line what is wrong.
 */
#ifndef USHM_H
#define USHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define USHM_EXTERN __attribute__((visibility("default")))
#else
#define USHM_EXTERN
#endif

/* The four calls, as in <sys/shm.h>. */
USHM_EXTERN int ushm_shmget(key_t key, size_t size, int shmflg);
USHM_EXTERN void *ushm_shmat(int shmid, const void *shmaddr, int shmflg);
USHM_EXTERN int ushm_shmdt(const void *shmaddr);
USHM_EXTERN int ushm_shmctl(int shmid, int cmd, struct shmid_ds *buf);

/*
 * System V semaphores, as in <sys/sem.h>: the signatures and errno values
 * of semget(2), semop(2), semtimedop(2) and semctl(2), on the same
 * namespace.  semctl's fourth argument is a union semun, which the
 * caller declares (as with the C library's semctl); it is read only for
 * the commands that take it.  Not yet: exec keeps no undo list (the
 * adjustments are applied when the process execs; README, "Limits and
 * known differences").
 */
USHM_EXTERN int ushm_semget(key_t key, int nsems, int semflg);
USHM_EXTERN int ushm_semop(int semid, struct sembuf *sops, size_t nsops);
USHM_EXTERN int ushm_semtimedop(int semid, struct sembuf *sops, size_t nsops,
				const struct timespec *timeout);
USHM_EXTERN int ushm_semctl(int semid, int semnum, int cmd, ...);

/*
 * Choose this process's namespace directory.  NULL returns to the default
 * rules (USHM_DIR, then the system namespace /run/ushm, then a private
 * per-user one).  The directory is opened and checked at once; a missing
 * directory is created (mode 0700).  Fails with EBUSY while the process
 * has segments attached.  Returns 0, or -1 with errno and ushm_strerror().
 */
USHM_EXTERN int ushm_namespace_set(const char *dir);

/* The directory of the namespace in use, opening the default one if none
 * is open yet; NULL (with errno and ushm_strerror()) if it cannot be used. */
USHM_EXTERN const char *ushm_namespace_path(void);

/*
 * Create a namespace directory DIR and its registry.  SHARED gives a
 * sticky world-writable directory whose registry every user may use (the
 * way the system namespace is made); otherwise the directory is private to
 * the caller (0700).  An existing, valid namespace is left as it is.
 */
USHM_EXTERN int ushm_namespace_create(const char *dir, int shared);

/* One line describing the last failure of this thread that was not a
 * plain kernel errno (an environment failure), or "" if there was none. */
USHM_EXTERN const char *ushm_strerror(void);

/*
 * The namespace's limits, by their sysctl names: "shmmax", "shmall",
 * "shmmni", "shm_rmid_forced", "shm_next_id", "sem" (four numbers:
 * SEMMSL SEMMNS SEMOPM SEMMNI, tab-separated when read; written as the
 * kernel takes them: fewer change only the leading ones, SEMMNI outside
 * 0..32768 gives ERANGE and keeps the other three) and "sem_next_id", as
 * the decimal text that
 * /proc/sys/kernel/<name> holds (without the newline).  Setting follows
 * the kernel's rules for writing that file: a value out of range or not a
 * number gives EINVAL; only root or the namespace's owner may write
 * (EACCES otherwise), and shm_next_id needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE.  Writing 1 to shm_rmid_forced destroys the
 * orphaned segments at once, as the kernel does.
 */
USHM_EXTERN int ushm_limit_get(const char *name, char *buf, size_t len);
USHM_EXTERN int ushm_limit_set(const char *name, const char *text);
/* Whether this caller may set limit NAME (0), or not (-1, EACCES; ENOENT
 * for an unknown name): what opening /proc/sys/kernel/<name> for writing
 * would say, asked without writing. */
USHM_EXTERN int ushm_limit_may_set(const char *name);

/*
 * Drop what dead processes held (their attachments, with the dtime and
 * lpid the kernel's exit path would set) and destroy the segments that
 * this frees.  Every call that depends on it does this by itself; this is
 * for tools.  Returns the number of dead processes reaped, or -1.
 */
USHM_EXTERN int ushm_reap(void);

/*
 * Check every invariant of the namespace's registry (docs/INVARIANTS.md).
 * REPORT, if not NULL, is called once per violation with a one-line
 * description.  Returns the number of violations (0: sound), or -1 if the
 * registry cannot be read at all.
 */
USHM_EXTERN int ushm_check(void (*report)(void *ctx, const char *line),
			   void *ctx);

/* Bring the registry back to a state where every invariant holds (the same
 * repair a process does when it finds the lock's previous owner dead), and
 * remove segment files that no slot owns.  Returns the number of problems
 * fixed, or -1. */
USHM_EXTERN int ushm_repair(void);

/*
 * Tell the library that this process changed its credentials by a route
 * it cannot see (a raw syscall).  Changes made through the C library's
 * set*id(), setgroups() and capset() need no call: the library sees them.
 */
USHM_EXTERN void ushm_credentials_changed(void);

#ifdef __cplusplus
}
#endif
#endif /* USHM_H */
