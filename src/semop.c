/*
 * semop.c - semop and semtimedop (~do_semtimedop): the argument checks,
 * the atomic evaluation of a call, the queue of sleepers and the
 * wake-ups, and the journal that makes every change crash safe.
 *
 * The waker does the work (S-SEM 5.2, 13.1).  Every change of values
 * (semop, SETVAL, SETALL, an exit-time undo) runs update_queue under the
 * set's lock before it returns: wait-for-zero sleepers first, then the
 * altering sleepers in arrival order, each evaluated against the values
 * the others left and applied when it can complete (its values, sempid,
 * semadj, then its status word); after each completion the zero-waiters
 * of what it touched, and the scan starts again.  A sleeper only reads
 * its status.  It waits with FUTEX_WAIT (shared) on its own word, in
 * slices of at most WAIT_SLICE, so that it sees, while it sleeps, a dead
 * task whose undo it waits for.
 *
 * Crash safety.  A change is computed into the set's journal (absolute
 * new values per semaphore, and the new semadj of one undo record), the
 * journal is marked COMPLETE, then applied and cleared.  The next locker
 * after a dead owner applies a COMPLETE journal again (idempotent) and
 * drops a partial one, so a change is applied wholly or not at all.
 *
 * Interruptions.  semop is never restarted (S-SEM 6.2-6.3).  A futex wait
 * with a timeout returns EINTR after a handled signal whatever SA_RESTART
 * says, but after SIGSTOP/SIGCONT with no handler the kernel restarts it
 * transparently; so while a thread of the process sleeps here, SIGCONT,
 * if its disposition is the default, gets an empty handler (the default
 * action, continuing, is the kernel's and happens anyway), and the
 * default is put back when the last sleeper leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "seminternal.h"
#include "ushm.h"

#define WAIT_SLICE_NS	100000000L	/* 100 ms */
#define SOPS_FAST	64		/* SEMOPM_FAST */
#define SLEEP_SPIN	100		/* looks at the word before sleeping */

/* ---- the journal ---- */

/* Evaluate SOPS (perform_atomic_semop) on set S into its journal, with
 * ADJ the caller's adjustments (NULL: no undo record) and PID the sempid
 * to set.  0: the journal holds the change (WRITING); 1: would block at
 * sop *BLOCKING; -EAGAIN (that sop has IPC_NOWAIT) or -ERANGE: the
 * journal is cleared. */
static int perform(struct ushm_semhdr *h, struct ushm_semset *s,
		   const struct sembuf *sops, uint32_t nsops,
		   const int16_t *adj, int32_t pid, uint32_t *blocking)
{
	const struct ushm_sem *sem = ushm__sems(h, s);
	struct ushm_semjrn *j = ushm__jrn(h, s);
	uint32_t n = 0, i;
	int r;

	s->jstate = JRN_WRITING;
	for (i = 0; i < nsops; i++) {
		const struct sembuf *op = &sops[i];
		struct ushm_semjrn *e = NULL;
		int result;

		if (op->sem_num >= s->nsems) {
			/* Only a damaged waiter record: callers' sops
			 * were checked (EFBIG). */
			r = -EFBIG;
			goto fail;
		}
		for (uint32_t k = 0; k < n; k++)
			if (j[k].num == op->sem_num) {
				e = &j[k];
				break;
			}
		if (!e) {
			e = &j[n++];
			e->num = op->sem_num;
			e->val = sem[op->sem_num].semval;
			e->pid = pid;
			e->adj = adj ? adj[op->sem_num] : 0;
			e->flags = 0;
		}
		result = e->val;
		if (!op->sem_op && result)
			goto block;
		result += op->sem_op;
		if (result < 0)
			goto block;
		if (result > USHM_SEMVMX) {
			r = -ERANGE;
			goto fail;
		}
		if ((op->sem_flg & SEM_UNDO) && adj) {
			int u = e->adj - op->sem_op;

			if (u < -USHM_SEMAEM - 1 || u > USHM_SEMAEM) {
				r = -ERANGE;
				goto fail;
			}
			e->adj = (int16_t)u;
			e->flags |= JRN_ADJ;
		}
		e->val = result;
	}
	s->jcount = n;
	return 0;
block:
	*blocking = i;
	r = (sops[i].sem_flg & IPC_NOWAIT) ? -EAGAIN : 1;
fail:
	s->jcount = 0;
	s->jstate = JRN_NONE;
	return r;
}

static void queue_unlink(struct ushm_semhdr *h, struct ushm_semset *s,
			 uint32_t w)
{
	struct ushm_semwait *q = ushm__semwait(h, w);

	if (q->prev && q->prev <= USHM_SEM_WAITERS)
		ushm__semwait(h, q->prev - 1)->next = q->next;
	else
		s->q_head = q->next;
	if (q->next && q->next <= USHM_SEM_WAITERS)
		ushm__semwait(h, q->next - 1)->prev = q->prev;
	else
		s->q_tail = q->prev;
	q->next = q->prev = 0;
}

/* Waiter W (queued on S) gets its result: out of the queue, status,
 * then the word its sleeper waits on; a sleeper in FUTEX_WAIT is woken
 * through Q (after the lock is released), or at once without Q. */
static void waiter_done(struct ushm_semns *sn, struct ushm_semset *s,
			uint32_t w, int status, struct ushm_wakeq *q)
{
	struct ushm_semwait *r = ushm__semwait(sn->h, w);

	queue_unlink(sn->h, s, w);
	r->status = status;
	__atomic_store_n(&r->state, SW_DONE, __ATOMIC_RELEASE);
	if (__atomic_exchange_n(&r->futex, FW_DONE, __ATOMIC_ACQ_REL) !=
	    FW_ASLEEP)
		return;
	if (q)
		ushm__wakeq_add(sn, q, w);
	else
		syscall(SYS_futex, &r->futex, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int16_t *undo_adj_of(struct ushm_semns *sn, struct ushm_semset *s,
			    uint32_t ref)
{
	struct ushm_semundo *u;

	if (!ref || ref > USHM_SEM_UNDOS)
		return NULL;
	u = ushm__semundo(sn->h, ref - 1);
	if (u->state != SU_LIVE ||
	    u->set != (uint32_t)(s - ushm__semset(sn->h, 0)) ||
	    u->seq != s->perm.seq ||
	    (uint64_t)u->adj_off + ushm__adj_units(s->nsems) > USHM_POOL_UNITS)
		return NULL;
	return ushm__undo_adj(sn->h, u);
}

/* Apply a COMPLETE journal (again), or drop a partial one; a waiter it
 * completes is woken through Q, or at once without Q.  Set lock. */
static void journal_apply(struct ushm_semns *sn, uint32_t idx,
			  struct ushm_wakeq *q)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	struct ushm_sem *sem = ushm__sems(h, s);
	struct ushm_semjrn *j = ushm__jrn(h, s);
	int16_t *adj;

	if (s->jstate != JRN_COMPLETE) {
		s->jstate = JRN_NONE;
		s->jcount = 0;
		return;
	}
	adj = undo_adj_of(sn, s, s->jundo);
	ushm__set_wbegin(s);
	for (uint32_t i = 0; i < s->jcount && i < s->nsems; i++) {
		if (j[i].num >= s->nsems)
			continue;
		sem[j[i].num].semval = j[i].val;
		if (j[i].pid)
			sem[j[i].num].sempid = j[i].pid;
		if ((j[i].flags & JRN_ADJ) && adj)
			adj[j[i].num] = j[i].adj;
		CRASH_POINT("sem.journal.entry");
	}
	if (s->jotime && s->jotime_num < s->nsems)
		sem[s->jotime_num].otime = s->jotime;
	ushm__set_wend(s);
	if (s->jwaiter && s->jwaiter <= USHM_SEM_WAITERS) {
		struct ushm_semwait *w = ushm__semwait(h, s->jwaiter - 1);

		if (w->state == SW_QUEUED && w->set == idx &&
		    w->seq == s->perm.seq)
			waiter_done(sn, s, s->jwaiter - 1, s->jstatus, q);
	}
	s->jcount = 0;
	s->jundo = s->jwaiter = 0;
	s->jotime = 0;
	__atomic_store_n(&s->jstate, JRN_NONE, __ATOMIC_RELEASE);
}

void ushm__sem_journal_recover_locked(struct ushm_semns *sn, uint32_t idx)
{
	journal_apply(sn, idx, NULL);
}

/* Commit what perform() left in the journal. */
static void commit(struct ushm_semns *sn, uint32_t idx, uint32_t undo,
		   uint32_t waiter, int status, uint32_t otime_num,
		   struct ushm_wakeq *q)
{
	struct ushm_semset *s = ushm__semset(sn->h, idx);

	s->jundo = undo;
	s->jwaiter = waiter;
	s->jstatus = status;
	s->jotime_num = otime_num;
	s->jotime = ushm__now();
	__atomic_store_n(&s->jstate, JRN_COMPLETE, __ATOMIC_RELEASE);
	CRASH_POINT("sem.journal.complete");
	journal_apply(sn, idx, q);
}

/* ---- the queue ---- */

static bool waiter_alive(struct ushm_semns *sn, const struct ushm_semwait *w)
{
	return ushm__sem_task_alive(sn, w->task, w->task_gen);
}

void ushm__sem_reap_waiters_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t w = s->q_head, steps = 0;

	while (w && w <= USHM_SEM_WAITERS && steps++ < USHM_SEM_WAITERS) {
		struct ushm_semwait *q = ushm__semwait(h, w - 1);
		uint32_t next = q->next;

		if (!waiter_alive(sn, q)) {
			queue_unlink(h, s, w - 1);
			__atomic_store_n(&q->state, SW_FREE, __ATOMIC_RELEASE);
		}
		w = next;
	}
}

/* Whether thread TID of process PID is stopped (state T). */
static bool thread_stopped(int32_t pid, int32_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	if (pid <= 0 || tid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'T';
}

void ushm__sem_reap_stopped_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t w = s->q_head, steps = 0;

	while (w && w <= USHM_SEM_WAITERS && steps++ < USHM_SEM_WAITERS) {
		struct ushm_semwait *q = ushm__semwait(h, w - 1);
		uint32_t next = q->next;

		if (thread_stopped(q->pid, q->tid))
			waiter_done(sn, s, w - 1, -EINTR, NULL);
		w = next;
	}
}

void ushm__sem_wake_all_locked(struct ushm_semns *sn, uint32_t idx, int err,
			       struct ushm_wakeq *q)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t steps = 0;

	while (s->q_head && s->q_head <= USHM_SEM_WAITERS &&
	       steps++ < USHM_SEM_WAITERS)
		waiter_done(sn, s, s->q_head - 1, err, q);
	s->q_head = s->q_tail = 0;
}

void ushm__sem_queue_rebuild_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint64_t last = 0;
	bool first = true;

	s->q_head = s->q_tail = 0;
	for (;;) {
		/* Append the oldest queued record after the last appended
		 * (arrival numbers are unique within a set). */
		uint32_t best = 0;
		uint64_t ba = 0;

		for (uint32_t i = 0; i < USHM_SEM_WAITERS; i++) {
			struct ushm_semwait *w = ushm__semwait(h, i);

			if (w->state != SW_QUEUED || w->set != idx ||
			    w->seq != s->perm.seq ||
			    (!first && w->arrival <= last))
				continue;
			if (!best || w->arrival < ba) {
				best = i + 1;
				ba = w->arrival;
			}
		}
		if (!best)
			break;
		first = false;
		last = ba;
		ushm__semwait(h, best - 1)->next = 0;
		ushm__semwait(h, best - 1)->prev = s->q_tail;
		if (s->q_tail)
			ushm__semwait(h, s->q_tail - 1)->next = best;
		else
			s->q_head = best;
		s->q_tail = best;
	}
	for (uint32_t i = 0; i < USHM_SEM_WAITERS; i++) {
		struct ushm_semwait *w = ushm__semwait(h, i);

		/* Valid sops only: the waker trusts them. */
		if (w->state == SW_QUEUED && w->set == idx &&
		    w->seq == s->perm.seq) {
			bool bad = w->nsops < 1 || w->nsops > SOPS_FAST;

			for (uint32_t k = 0; !bad && k < w->nsops; k++)
				bad = w->sops[k].sem_num >= s->nsems;
			if (bad)
				waiter_done(sn, s, i, -EIDRM, NULL);
		}
	}
}

/* Retry waiter W: 1 still blocked, 0 completed, <0 failed (done). */
static int retry(struct ushm_semns *sn, uint32_t idx, uint32_t w,
		 struct ushm_wakeq *q)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	struct ushm_semwait *r = ushm__semwait(h, w);
	uint32_t blk = 0;
	int e;

	e = perform(h, s, r->sops, r->nsops, undo_adj_of(sn, s, r->undo),
		    r->pid, &blk);
	if (e == 1) {
		r->blocking = blk;
		return 1;
	}
	if (e == 0) {
		commit(sn, idx, r->undo, w + 1, 0, r->sops[0].sem_num, q);
		return 0;
	}
	waiter_done(sn, s, w, e, q);
	return e;
}

bool ushm__sem_update_locked(struct ushm_semns *sn, uint32_t idx,
			     const struct sembuf *touched, uint32_t n,
			     struct ushm_wakeq *q)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	const struct ushm_sem *sem = ushm__sems(h, s);
	struct sembuf tz[SOPS_FAST];
	bool completed = false;
	uint32_t guard = 0;

	if (touched && n > SOPS_FAST)
		touched = NULL;		/* "all changed": a superset */
	if (touched) {
		memcpy(tz, touched, n * sizeof(*tz));
		touched = tz;
	}
again:
	if (guard++ > 4 * USHM_SEM_WAITERS)
		return completed;	/* a damaged queue */
	{
		/* do_smart_wakeup_zero: the zero-waiters first. */
		bool got_zero = false;
		uint32_t w, steps = 0;

		if (touched) {
			for (uint32_t k = 0; k < n; k++)
				got_zero |= sem[tz[k].sem_num].semval == 0;
		} else {
			for (uint32_t k = 0; k < s->nsems && !got_zero; k++)
				got_zero = sem[k].semval == 0;
		}
		for (w = s->q_head; got_zero && w && w <= USHM_SEM_WAITERS &&
		     steps++ < USHM_SEM_WAITERS;) {
			struct ushm_semwait *r = ushm__semwait(h, w - 1);
			uint32_t next = r->next;

			if (r->alter) {
				w = next;
				continue;
			}
			if (r->nsops < 1 || r->nsops > SOPS_FAST ||
			    r->sops[0].sem_num >= s->nsems) {
				waiter_done(sn, s, w - 1, -EINVAL, q);
			} else if (!waiter_alive(sn, r)) {
				queue_unlink(h, s, w - 1);
				__atomic_store_n(&r->state, SW_FREE,
						 __ATOMIC_RELEASE);
			} else if (r->nsops > 1 ||
				   sem[r->sops[0].sem_num].semval == 0) {
				if (retry(sn, idx, w - 1, q) == 0)
					completed = true;
			}
			w = next;
		}
	}
	{
		/* update_queue: the altering sleepers in arrival order. */
		uint32_t w, steps = 0;

		for (w = s->q_head; w && w <= USHM_SEM_WAITERS &&
		     steps++ < USHM_SEM_WAITERS;) {
			struct ushm_semwait *r = ushm__semwait(h, w - 1);
			uint32_t next = r->next;

			if (!r->alter) {
				w = next;
				continue;
			}
			if (r->nsops < 1 || r->nsops > SOPS_FAST) {
				waiter_done(sn, s, w - 1, -EINVAL, q);
				w = next;
				continue;
			}
			if (!waiter_alive(sn, r)) {
				queue_unlink(h, s, w - 1);
				__atomic_store_n(&r->state, SW_FREE,
						 __ATOMIC_RELEASE);
				w = next;
				continue;
			}
			/* Its sops, before its record can be reused. */
			n = r->nsops;
			memcpy(tz, r->sops, n * sizeof(*tz));
			if (retry(sn, idx, w - 1, q) == 0) {
				completed = true;
				touched = tz;
				goto again;
			}
			w = next;
		}
	}
	return completed;
}

/* ---- sleeping ---- */

static pthread_mutex_t cont_lock = PTHREAD_MUTEX_INITIALIZER;
static int cont_users;		/* sleepers of this process (cont_lock) */
static bool cont_ours;		/* our handler is installed (cont_lock) */

static void on_sigcont(int sig)
{
	(void)sig;
}

/* One sigaction each way: ours goes in, and comes out again at once if
 * what it replaced was not the default (the program's own handler, or
 * SIG_IGN, stays). */
static void cont_get(void)
{
	struct sigaction old, sa;

	pthread_mutex_lock(&cont_lock);
	if (cont_users++ == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigcont;
		sigemptyset(&sa.sa_mask);
		cont_ours = sigaction(SIGCONT, &sa, &old) == 0;
		if (cont_ours && ((old.sa_flags & SA_SIGINFO) ||
				  old.sa_handler != SIG_DFL)) {
			sigaction(SIGCONT, &old, NULL);
			cont_ours = false;
		}
	}
	pthread_mutex_unlock(&cont_lock);
}

/* In a forked child: the sleepers counted were the parent's threads. */
void ushm__sem_cont_fork_child(void)
{
	struct sigaction cur, sa;

	pthread_mutex_init(&cont_lock, NULL);
	if (cont_users && cont_ours && sigaction(SIGCONT, NULL, &cur) == 0 &&
	    !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == on_sigcont) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCONT, &sa, NULL);
	}
	cont_users = 0;
	cont_ours = false;
}

static void cont_put(void)
{
	struct sigaction cur, sa;

	pthread_mutex_lock(&cont_lock);
	if (--cont_users == 0 && cont_ours) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		/* The program set its own meanwhile: that one stays. */
		if (sigaction(SIGCONT, &sa, &cur) == 0 &&
		    ((cur.sa_flags & SA_SIGINFO) ||
		     cur.sa_handler != on_sigcont))
			sigaction(SIGCONT, &cur, NULL);
		cont_ours = false;
	}
	pthread_mutex_unlock(&cont_lock);
}

static uint32_t claim_hint;

/* This thread's id, asked once (again in a forked child). */
static int32_t my_tid(void)
{
	static __thread int32_t tid;
	static __thread pid_t for_pid;

	if (for_pid != ushm__p.pid || !tid) {
		tid = (int32_t)syscall(SYS_gettid);
		for_pid = ushm__p.pid;
	}
	return tid;
}

/* A free waiter record for this thread, or one a dead task left. */
static int waiter_claim(struct ushm_semns *sn, uint32_t *out)
{
	struct ushm_semhdr *h = sn->h;
	uint32_t start = __atomic_load_n(&claim_hint, __ATOMIC_RELAXED) %
			 USHM_SEM_WAITERS;

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t k = 0; k < USHM_SEM_WAITERS; k++) {
			uint32_t i = (start + k) % USHM_SEM_WAITERS;
			struct ushm_semwait *w = ushm__semwait(h, i);
			uint32_t st = __atomic_load_n(&w->state,
						      __ATOMIC_ACQUIRE);

			/* A DONE record's task fields are complete: it was
			 * queued.  One whose sleeper died is reclaimed. */
			if (pass == 1 && st == SW_DONE &&
			    !waiter_alive(sn, w)) {
				/* fall through to the exchange */
			} else if (st != SW_FREE) {
				continue;
			}
			if (__atomic_compare_exchange_n(&w->state, &st,
							SW_OWNED, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED)) {
				__atomic_store_n(&claim_hint, i + 1,
						 __ATOMIC_RELAXED);
				*out = i;
				return 0;
			}
		}
	}
	ushm__seterr("the waiter table of %s is full (%d sleepers)",
		     sn->ns->path, USHM_SEM_WAITERS);
	return -ENOMEM;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Sleep on waiter W of set IDX (queued, lock released) until its status
 * is written, the deadline (ns of CLOCK_MONOTONIC, 0: none) passes or a
 * signal arrives.  Returns the call's result. */
static int sleep_on(struct ushm_semns *sn, uint32_t idx, uint32_t w,
		    int64_t deadline)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semwait *r = ushm__semwait(h, w);
	struct ushm_semset *s = ushm__semset(h, idx);
	int res;

	/* A waker that comes soon finds us awake and issues no wake-up. */
	for (int i = 0; i < SLEEP_SPIN; i++) {
		if (__atomic_load_n(&r->futex, __ATOMIC_ACQUIRE) == FW_DONE)
			goto done;
		ushm__cpu_relax();
	}
	for (;;) {
		struct timespec ts = { 0, WAIT_SLICE_NS };
		uint32_t cur = FW_QUEUED;
		long e;

		if (!__atomic_compare_exchange_n(&r->futex, &cur, FW_ASLEEP,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE) &&
		    cur == FW_DONE)
			goto done;
		if (deadline) {
			int64_t left = deadline - mono_ns();

			if (left <= 0) {
				res = -EAGAIN;
				goto leave;
			}
			if (left < WAIT_SLICE_NS)
				ts.tv_nsec = left;
		}
		e = syscall(SYS_futex, &r->futex, FUTEX_WAIT, FW_ASLEEP, &ts,
			    NULL, 0);
		if (e != 0)
			e = errno;
		if (__atomic_load_n(&r->futex, __ATOMIC_ACQUIRE) == FW_DONE)
			goto done;
		if (e == EINTR) {
			res = -EINTR;
			goto leave;
		}
		if (e == ETIMEDOUT && s->undo_head) {
			/* Someone we may wait for may have died: the
			 * lookup applies dead tasks' undo and wakes. */
			uint32_t i2;

			if (ushm__sem_obtain(sn, ushm__id(idx, r->seq),
					     &i2) == 0)
				ushm__sem_set_unlock(sn, i2);
		}
	}
done:
	res = r->status;
	__atomic_store_n(&r->state, SW_FREE, __ATOMIC_RELEASE);
	return res;
leave:
	/* Leave the queue, unless the waker's result is there already:
	 * then it wins (S-SEM 6.4). */
	if (ushm__sem_set_lock(sn, idx) != 0)
		return -EUCLEAN;	/* the record stays queued: it is
					 * dropped when this task ends */
	if (r->state == SW_DONE)
		res = r->status;
	else if (r->state == SW_QUEUED)
		queue_unlink(h, s, w);
	__atomic_store_n(&r->state, SW_FREE, __ATOMIC_RELEASE);
	ushm__sem_set_unlock(sn, idx);
	return res;
}

/* ---- semop ---- */

/* The caller's undo record for set ID (made if needed), with the set
 * locked: find_alloc_undo.  0 with *IDX and *UNDO, or -errno. */
static int obtain_with_undo(struct ushm_semns *sn, int id, uint32_t *idx,
			    uint32_t *undo)
{
	int r;

	if ((r = ushm__sem_obtain(sn, id, idx)) != 0)
		return r;
	if ((*undo = ushm__undo_find_locked(sn, *idx)) != 0)
		return 0;
	/* None yet: making one needs the table lock, taken first. */
	ushm__sem_set_unlock(sn, *idx);
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return r;
	if ((r = ushm__sem_obtain(sn, id, idx)) == 0) {
		r = ushm__undo_make_locked(sn, *idx, undo);
		if (r)
			ushm__sem_set_unlock(sn, *idx);
	}
	ushm__sem_table_unlock(sn);
	return r;
}

static int do_semtimedop(int semid, struct sembuf *usops, size_t unsops,
			 const struct timespec *utimeout, bool timed)
{
	struct sembuf fast[SOPS_FAST], *sops = fast;
	struct ushm_semns *sn;
	struct ushm_semhdr *h;
	struct ushm_semset *s;
	struct ushm_wakeq q = { 0 };
	struct timespec to;
	unsigned nsops = (unsigned)unsops;	/* the syscall's width */
	uint32_t idx, undo = 0, blk = 0, w;
	unsigned max = 0;
	bool undos = false, alter = false;
	int64_t deadline = 0;
	int r;

	if (timed && utimeout &&
	    ushm__os_copy_in(&to, utimeout, sizeof(to)) != 0)
		return -EFAULT;
	if ((r = ushm__semns(&sn)) != 0)
		return r;
	h = sn->h;
	if (nsops > (unsigned)__atomic_load_n(&h->semopm, __ATOMIC_RELAXED))
		return -E2BIG;
	if (nsops == 0)
		return -EINVAL;
	if (nsops > SOPS_FAST && !(sops = malloc(nsops * sizeof(*sops))))
		return -ENOMEM;
	if (ushm__os_copy_in(sops, usops, nsops * sizeof(*sops)) != 0) {
		r = -EFAULT;
		goto out_free;
	}
	if (semid < 0) {
		r = -EINVAL;
		goto out_free;
	}
	if (timed && utimeout) {
		if (to.tv_sec < 0 || to.tv_nsec < 0 ||
		    to.tv_nsec >= 1000000000L) {
			r = -EINVAL;
			goto out_free;
		}
	}
	for (unsigned i = 0; i < nsops; i++) {
		if (sops[i].sem_num > max)
			max = sops[i].sem_num;
		if (sops[i].sem_flg & SEM_UNDO)
			undos = true;
		if (sops[i].sem_op != 0)
			alter = true;
	}
	/* Waiters and undo records belong to a task. */
	if ((r = ushm__sem_task(sn)) != 0)
		goto out_free;
	if (undos)
		r = obtain_with_undo(sn, semid, &idx, &undo);
	else
		r = ushm__sem_obtain(sn, semid, &idx);
	if (r)
		goto out_free;
	s = ushm__semset(h, idx);
	if (max >= s->nsems) {
		r = -EFBIG;
		goto out_unlock;
	}
	if ((r = ushm__ipc_perms(&s->perm, alter ? 0222 : 0444)) != 0)
		goto out_unlock;
	r = perform(h, s, sops, nsops, undo_adj_of(sn, s, undo),
		    ushm__sem_pid(), &blk);
	if (r == 0) {
		commit(sn, idx, undo, 0, 0, sops[0].sem_num, NULL);
		if (alter)
			ushm__sem_update_locked(sn, idx, sops, nsops, &q);
		goto out_unlock;
	}
	if (r < 0)
		goto out_unlock;
	/* It must sleep. */
	if (timed && utimeout && to.tv_sec == 0 && to.tv_nsec == 0) {
		r = -EAGAIN;
		goto out_unlock;
	}
	if (nsops > USHM_SEM_WAIT_SOPS) {
		/* A documented limit of this first cut. */
		ushm__seterr("a sleeping semop holds at most %d sops",
			     USHM_SEM_WAIT_SOPS);
		r = -ENOMEM;
		goto out_unlock;
	}
	if ((r = waiter_claim(sn, &w)) != 0)
		goto out_unlock;
	{
		struct ushm_semwait *rec = ushm__semwait(h, w);

		rec->task = (uint32_t)ushm__p.task;
		rec->task_gen = ushm__p.task_gen;
		rec->pid = ushm__sem_pid();
		rec->tid = my_tid();
		rec->set = idx;
		rec->seq = s->perm.seq;
		rec->nsops = nsops;
		memcpy(rec->sops, sops, nsops * sizeof(*sops));
		rec->alter = alter;
		rec->blocking = blk;
		rec->status = SW_BUSY;
		rec->futex = FW_QUEUED;
		rec->undo = undo;
		rec->arrival = s->arrivals++;
		rec->next = 0;
		rec->prev = s->q_tail;
		if (s->q_tail)
			ushm__semwait(h, s->q_tail - 1)->next = w + 1;
		else
			s->q_head = w + 1;
		s->q_tail = w + 1;
		__atomic_store_n(&rec->state, SW_QUEUED, __ATOMIC_RELEASE);
	}
	if (timed && utimeout)
		deadline = mono_ns() + (int64_t)to.tv_sec * 1000000000LL +
			   to.tv_nsec;
	ushm__sem_fork_init();
	cont_get();
	ushm__sem_set_unlock(sn, idx);
	r = sleep_on(sn, idx, w, deadline);
	cont_put();
	goto out_free;
out_unlock:
	ushm__sem_set_unlock(sn, idx);
	ushm__wakeq_run(sn, &q);
out_free:
	if (sops != fast)
		free(sops);
	return r;
}

int ushm_semop(int semid, struct sembuf *sops, size_t nsops)
{
	int r = do_semtimedop(semid, sops, nsops, NULL, false);

	return r < 0 ? (errno = -r, -1) : 0;
}

int ushm_semtimedop(int semid, struct sembuf *sops, size_t nsops,
		    const struct timespec *timeout)
{
	int r = do_semtimedop(semid, sops, nsops, timeout, true);

	return r < 0 ? (errno = -r, -1) : 0;
}
