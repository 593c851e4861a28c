/*
 * thread.c - which thread created a segment, and whether it still lives
 * (the kernel's shm_creator and exit_shm, SEMANTICS.md 6.6-6.8).
 *
 * A thread that creates a segment takes an entry of the registry's
 * thread table and locks its robust mutex `live` for good.  When the
 * thread ends (exit, pthread_exit, a fatal signal, exec), the kernel
 * walks its robust list and marks the mutex's owner dead in the futex
 * word itself.  So anyone can tell a creator's death by reading one
 * word: no system call, no daemon.  A segment whose creator is dead is
 * an orphan; with shm_rmid_forced an orphan nobody has attached is
 * destroyed, which happens here, lazily, before any answer that depends
 * on it.
 *
 * The thread table is protected by hdr->lock, except `live`, which only
 * its thread locks (and a registering thread re-initialises once the
 * entry is free).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* This thread's entry, in the registry it was made in. */
static __thread int32_t my_idx = -1;
static __thread uint32_t my_gen;
static __thread const struct ushm_hdr *my_hdr;

/*
 * Whether a thread holds M, a robust mutex that its owner takes for good:
 * asked through the mutex's public interface (its word is the C
 * library's business).  A trylock does it without a system call: EBUSY
 * says a thread holds it; EOWNERDEAD says its owner ended (the kernel
 * marked it), and we now hold it: released without being made
 * consistent, it stays unusable (ENOTRECOVERABLE) and so reads as dead
 * from then on, until its entry is made anew (ushm__init_robust).  A free
 * mutex is taken and given back: nobody holds it.  (A second prober in
 * the instant a first one holds a dead owner's mutex gets EBUSY and takes
 * the owner for alive: the safe side, since it only delays a reaping to
 * the next call that looks.)
 */
bool ushm__owner_alive(pthread_mutex_t *m)
{
	int r = pthread_mutex_trylock(m);

	if (r == EBUSY)
		return true;
	if (r == 0 || r == EOWNERDEAD)
		pthread_mutex_unlock(m);
	return false;
}

/*
 * The same for a task's liveness mutex, on the hot path of every
 * lock-free IPC_STAT and shmget (one probe per attached process).
 * XXX: this reads the robust futex word inside glibc's pthread_mutex_t
 * (the kernel marks it FUTEX_OWNER_DIED when the owner thread ends),
 * because the trylock of ushm__owner_alive made IPC_STAT of a segment
 * attached by 100 processes 1.4-1.6 times the kernel's time instead of
 * 0.7-1.0 (build/ushm-bench --case ipc_stat_100_attachers, 2026-12-04).
 * The locks of docs/SEMAPHORES.md section 3 replace it.
 */
bool ushm__live_fast(const pthread_mutex_t *m)
{
	unsigned v = __atomic_load_n((const unsigned *)&m->__data.__lock,
				     __ATOMIC_ACQUIRE);

	return (v & FUTEX_TID_MASK) && !(v & FUTEX_OWNER_DIED);
}

/* Lock-free: whether the creator of S (a slot or a copy of one) lives. */
bool ushm__creator_alive(struct ushm_ns *ns, const struct ushm_slot *s)
{
	struct ushm_thread *t;
	uint32_t c = s->creator;

	if (c == 0 || c > USHM_THREADS)
		return false;
	t = ushm__thread(ns->hdr, c - 1);
	if (__atomic_load_n(&t->state, __ATOMIC_RELAXED) != THREAD_LIVE ||
	    __atomic_load_n(&t->gen, __ATOMIC_RELAXED) != s->creator_gen)
		return false;
	return ushm__owner_alive(&t->live);
}

int ushm__init_robust(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int r;

	if ((r = pthread_mutexattr_init(&a)) != 0)
		return -r;
	r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!r)
		r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return -r;
}

/* The calling thread's entry, made on first use.  No entry to be had
 * (4096 creating threads alive at once) leaves segments without a
 * creator, as orphans from the start: shmget itself never fails for it. */
int ushm__thread_register_locked(struct ushm_ns *ns, uint32_t *idx,
				 uint32_t *gen)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	if (my_idx >= 0 && my_hdr == h) {
		struct ushm_thread *t = ushm__thread(h, (uint32_t)my_idx);

		if (t->state == THREAD_LIVE && t->gen == my_gen) {
			*idx = (uint32_t)my_idx;
			*gen = my_gen;
			return 0;
		}
	}
	for (uint32_t i = 0; i < USHM_THREADS; i++) {
		struct ushm_thread *t = ushm__thread(h, i);

		if (t->state == THREAD_LIVE && ushm__owner_alive(&t->live))
			continue;
		/* Free, or its thread is gone: its segments are orphans
		 * whatever this entry becomes (the generation changes). */
		if (ushm__init_robust(&t->live) != 0 ||
		    pthread_mutex_trylock(&t->live) != 0)
			continue;
		CRASH_POINT("thread.locked");
		if (i >= h->thread_hwm)	/* before the entry is in use */
			h->thread_hwm = i + 1;
		ushm__wbegin(h);
		t->gen++;
		t->tid = (int32_t)syscall(SYS_gettid);
		t->state = THREAD_LIVE;
		ushm__wend(h);
		my_idx = (int32_t)i;
		my_gen = t->gen;
		my_hdr = h;
		*idx = i;
		*gen = t->gen;
		return 0;
	}
	return -ENOSPC;
}

/*
 * Segments whose creator has died become orphans (exit_shm); with
 * shm_rmid_forced those that may go are destroyed.  ONLY names one slot,
 * or is -1 for all.  Returns the number destroyed.
 */
int ushm__orphans_locked(struct ushm_ns *ns, int32_t only)
{
	struct ushm_hdr *h = ns->hdr;
	int32_t i = only >= 0 ? only : 0;
	int32_t end = only >= 0 ? only : ushm__max_idx(h);
	int n = 0;

	USHM_ASSERT_LOCKED(ns);
	for (; i <= end && i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

		if (s->state != SLOT_LIVE)
			continue;
		if (s->creator && !ushm__creator_alive(ns, s)) {
			ushm__wbegin(h);
			s->creator = 0;
			ushm__wend(h);
		}
		if (s->creator == 0 && h->rmid_forced &&
		    ushm__may_destroy(h, s)) {
			ushm__destroy_locked(ns, (uint32_t)i);
			n++;
		}
	}
	return n;
}

/* A forked child is a new thread: creator status does not pass to it
 * (SEMANTICS 6.6). */
void ushm__thread_fork_child(void)
{
	my_idx = -1;
	my_hdr = NULL;
}
