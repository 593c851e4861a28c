/*
 * seminternal.h - what the semaphore files share (semfile.c, sem.c,
 * semop.c, semundo.c).  Not installed.  Locks are those of semlayout.h.
 */
#ifndef USHM_SEMINTERNAL_H
#define USHM_SEMINTERNAL_H

#include "internal.h"
#include "semlayout.h"

/* A namespace's semaphore registry, as this process has it mapped.
 * Immutable once made (semfile.c); the file's contents are locked as
 * semlayout.h says. */
struct ushm_semns {
	struct ushm_ns *ns;	/* the namespace it belongs to */
	struct ushm_semhdr *h;
	int fd;
};

/* The current namespace's semaphore registry, opened (made) on first
 * use.  0 or a negative errno. */
int ushm__semns(struct ushm_semns **out);

/* In a spin loop. */
static inline void ushm__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Changes that the lock-free key lookup looks at (hdr.gen odd/even). */
static inline void ushm__sem_wbegin(struct ushm_semhdr *h)
{
	__atomic_store_n(&h->gen, h->gen + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
static inline void ushm__sem_wend(struct ushm_semhdr *h)
{
	__atomic_store_n(&h->gen, h->gen + 1, __ATOMIC_RELEASE);
}

/* Changes of set S that lock-free readers look at (set.vgen). */
static inline void ushm__set_wbegin(struct ushm_semset *s)
{
	__atomic_add_fetch(&s->vgen, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
static inline void ushm__set_wend(struct ushm_semset *s)
{
	__atomic_add_fetch(&s->vgen, 1, __ATOMIC_RELEASE);
}

/* The current namespace's semaphore registry if this process has it
 * open, else NULL (nothing is opened). */
struct ushm_semns *ushm__semns_if_open(void);

/* The table lock: 0 or -EUCLEAN.  A dead owner's work is repaired first
 * (semfile.c). */
int ushm__sem_table_lock(struct ushm_semns *sn);
void ushm__sem_table_unlock(struct ushm_semns *sn);

/* A set's lock, by index: 0 or -EUCLEAN; a dead owner's half-done change
 * is finished or dropped from the set's journal first. */
int ushm__sem_set_lock(struct ushm_semns *sn, uint32_t idx);
void ushm__sem_set_unlock(struct ushm_semns *sn, uint32_t idx);

/* Pool units (16 bytes): N contiguous, allocated in the file system.
 * The table lock is held.  0 with *OFF, -ENOSPC or -ENOMEM. */
int ushm__pool_alloc_locked(struct ushm_semns *sn, uint32_t n, uint32_t *off);
void ushm__pool_free_locked(struct ushm_semns *sn, uint32_t off, uint32_t n);

static inline struct ushm_semset *ushm__semset(struct ushm_semhdr *h,
					       uint32_t i)
{
	return (struct ushm_semset *)((char *)h + USHM_SOFF_SETS) + i;
}
static inline struct ushm_keyent *ushm__semkeys(struct ushm_semhdr *h)
{
	return (struct ushm_keyent *)((char *)h + USHM_SOFF_KEYIDX);
}
static inline struct ushm_semwait *ushm__semwait(struct ushm_semhdr *h,
						 uint32_t i)
{
	return (struct ushm_semwait *)((char *)h + USHM_SOFF_WAITERS) + i;
}
static inline struct ushm_semundo *ushm__semundo(struct ushm_semhdr *h,
						 uint32_t i)
{
	return (struct ushm_semundo *)((char *)h + USHM_SOFF_UNDOS) + i;
}
static inline uint64_t *ushm__poolmap(struct ushm_semhdr *h)
{
	return (uint64_t *)((char *)h + USHM_SOFF_POOLMAP);
}
static inline void *ushm__pool(struct ushm_semhdr *h, uint32_t unit)
{
	return (char *)h + USHM_SOFF_POOL + (uint64_t)unit * 16;
}
/* A set's pool ranges lie inside the pool (checked when its lock is
 * taken: ushm__sem_set_sane). */
static inline struct ushm_sem *ushm__sems(struct ushm_semhdr *h,
					  const struct ushm_semset *s)
{
	return ushm__pool(h, s->sems_off);
}
static inline struct ushm_semjrn *ushm__jrn(struct ushm_semhdr *h,
					    const struct ushm_semset *s)
{
	return ushm__pool(h, s->jrn_off);
}
static inline int16_t *ushm__undo_adj(struct ushm_semhdr *h,
				      const struct ushm_semundo *u)
{
	return ushm__pool(h, u->adj_off);
}
/* Pool units of an undo record's adjustments for NSEMS semaphores. */
static inline uint32_t ushm__adj_units(uint32_t nsems)
{
	return (nsems * 2 + 15) / 16;
}
bool ushm__sem_set_sane(const struct ushm_semset *s);

/* The set named by ID, locked and LIVE with ID's seq: 0 (then *IDX), or
 * -EINVAL, -EUCLEAN.  Dead tasks' undo records and waiters on it are
 * dealt with first (semundo.c). */
int ushm__sem_obtain(struct ushm_semns *sn, int id, uint32_t *idx);

/* The sempid of this process (sempid.c), and a stored sempid as the
 * caller's pid namespace numbers it (GETPID). */
int32_t ushm__sem_pid(void);
int32_t ushm__sem_pid_vnr(int32_t stored);

/* Register this process as a task (the shm registry's table). */
int ushm__sem_task(struct ushm_semns *sn);
/* Whether task T of generation GEN still lives. */
bool ushm__sem_task_alive(struct ushm_semns *sn, uint32_t t, uint32_t gen);

/* Threads to wake once the set's lock is released. */
struct ushm_wakeq {
	uint32_t n;
	uint32_t w[64];		/* waiter indices; beyond: woken at once */
};
void ushm__wakeq_add(struct ushm_semns *sn, struct ushm_wakeq *q,
		     uint32_t w);
void ushm__wakeq_run(struct ushm_semns *sn, struct ushm_wakeq *q);

/* ---- semop.c, with the set's lock held ---- */
/* update_queue after a change: TOUCHED (N sops) or every semaphore
 * (NULL).  Returns whether a sleeper completed. */
bool ushm__sem_update_locked(struct ushm_semns *sn, uint32_t idx,
			     const struct sembuf *touched, uint32_t n,
			     struct ushm_wakeq *q);
/* Wake every sleeper with ERR (IPC_RMID: -EIDRM). */
void ushm__sem_wake_all_locked(struct ushm_semns *sn, uint32_t idx, int err,
			       struct ushm_wakeq *q);
/* Sleepers whose thread is stopped (SIGSTOP) leave with EINTR, as the
 * kernel's do when the stop interrupts them (before GETNCNT/GETZCNT). */
void ushm__sem_reap_stopped_locked(struct ushm_semns *sn, uint32_t idx);
/* In a forked child: no sleepers of ours (the SIGCONT handler). */
void ushm__sem_cont_fork_child(void);
/* Drop the waiters of dead tasks from the queue. */
void ushm__sem_reap_waiters_locked(struct ushm_semns *sn, uint32_t idx);
/* Finish a journal left COMPLETE (recovery), or drop a partial one. */
void ushm__sem_journal_recover_locked(struct ushm_semns *sn, uint32_t idx);
/* Rebuild the set's queue from the waiter table (recovery). */
void ushm__sem_queue_rebuild_locked(struct ushm_semns *sn, uint32_t idx);

/* ---- semundo.c ---- */
/* The caller's undo record for set IDX + 1, or 0 (set lock held). */
uint32_t ushm__undo_find_locked(struct ushm_semns *sn, uint32_t idx);
/* The same, made if there is none (table lock and set lock held): 0 with
 * *OUT, or -ENOMEM. */
int ushm__undo_make_locked(struct ushm_semns *sn, uint32_t idx,
			   uint32_t *out);
/* Apply the records of dead tasks of set IDX (its lock held); returns
 * whether any was applied (the caller then runs the queue). */
bool ushm__undo_reap_set_locked(struct ushm_semns *sn, uint32_t idx,
				struct ushm_wakeq *q);
/* unshare(CLONE_SYSVSEM): apply this process's records now, as its exit
 * would, and start with none (S-SEM 7.5). */
void ushm__undo_detach_all(void);
/* Clear semaphore NUM's adjustments (all: NUM < 0) in every record. */
void ushm__undo_clear_locked(struct ushm_semns *sn, uint32_t idx, int num);
/* Free every record of set IDX (IPC_RMID; table and set lock held). */
void ushm__undo_free_set_locked(struct ushm_semns *sn, uint32_t idx);
/* Rebuild the set's record list from the undo table (recovery). */
void ushm__undo_relink_locked(struct ushm_semns *sn, uint32_t idx);
/* Forget this process's undo bytes (namespace change; semexec.c). */
void ushm__undo_forget(void);

/* ---- semexec.c: the bytes that keep undo records alive across exec ---- */
/* The fork handler of the semaphore code (once per process). */
void ushm__sem_fork_init(void);
/* Lock-file byte of undo record U (beyond the task bytes). */
#define USHM_UNDO_BYTE(u)	((off_t)(1 << 24) + (off_t)(u))
/* Take record U's byte for this process: 0, -EAGAIN (another holds it:
 * use another record) or another -errno. */
int ushm__undo_byte_take(struct ushm_semns *sn, uint32_t u);
/* Whether some process (or a program it exec'd) holds record U's byte. */
bool ushm__undo_byte_held(struct ushm_semns *sn, uint32_t u);

/* ---- sem.c ---- */
/* freeary: destroy set IDX (table lock and set lock held; the set lock
 * is released).  Wakes its sleepers with EIDRM. */
void ushm__sem_destroy_locked(struct ushm_semns *sn, uint32_t idx);
void ushm__sem_recount_locked(struct ushm_semns *sn);

#endif
