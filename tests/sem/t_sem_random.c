/*
 * t_sem_random.c - seeded random scenarios over the whole semaphore API.
 *
 * One set of NSEM semaphores, the scenario's main process and up to
 * NWORK worker children.  A worker runs the semop calls the parent sends
 * it through its pipe (so it can hold SEM_UNDO adjustments from earlier
 * calls when it blocks, exits or is killed) and reports each result.
 * Every step is one of: main's non-blocking semop, SETVAL, SETALL, a
 * worker's semop (which completes, fails, or sleeps: the parent waits
 * until either its report arrives or one more sleeper counts), a worker's
 * exit or SIGKILL (idle or sleeping), a stat.  After each change, the
 * sleepers that stopped counting are exactly those the change completed
 * or failed; their reports are recorded in worker order.  The set is
 * removed at the end (remaining sleepers: EIDRM).  Pids are names in the
 * trace, times classes.
 */
#include "semops.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#define NSEM 3
#define NWORK 6
#define STEPS 60
#define SEEDS_PER_TEST 10

enum { W_NONE, W_IDLE, W_SLEEP };

struct worker {
	int n;			/* child number, 0 if none */
	int state;
};

static unsigned seed;		/* this run's seed */
static unsigned rs;		/* random state */
static struct worker w[NWORK];
static int sleeping;		/* workers in W_SLEEP */

static unsigned rnd(unsigned n)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs % n;
}

/* A sop as two ints on a pipe: number and flags, then the operation. */
static void send_sop(int n, const struct sembuf *s)
{
	to_child(n, s->sem_num | (s->sem_flg & 0xffff) << 16);
	to_child(n, s->sem_op);
}

static struct sembuf recv_sop(void)
{
	unsigned a = (unsigned)from_parent();
	int op = from_parent();

	return (struct sembuf){ (unsigned short)(a & 0xffff), (short)op,
				(short)(a >> 16) };
}

/* Up to 3 random sops; NOWAIT_ALL puts IPC_NOWAIT on every one. */
static size_t random_sops(struct sembuf *s, int nowait_all)
{
	size_t n = 1 + rnd(3);

	for (size_t i = 0; i < n; i++) {
		int undo, nowait;

		s[i].sem_num = (unsigned short)rnd(NSEM);
		/* now and then a big one: ERANGE, semadj limits */
		if (rnd(12))
			s[i].sem_op = (short)((int)rnd(5) - 2);
		else
			s[i].sem_op = rnd(2) ? 32767 : -32767;
		undo = rnd(2) ? SEM_UNDO : 0;
		nowait = nowait_all || !rnd(4) ? IPC_NOWAIT : 0;
		s[i].sem_flg = (short)(undo | nowait);
	}
	return n;
}

static const char *sops_text(const struct sembuf *s, size_t n)
{
	static char buf[128];
	size_t off = 0;

	for (size_t i = 0; i < n; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%u%+d%s%s",
				i ? " " : "", s[i].sem_num, s[i].sem_op,
				s[i].sem_flg & SEM_UNDO ? "u" : "",
				s[i].sem_flg & IPC_NOWAIT ? "n" : "");
	return buf;
}

static void worker_loop(const struct sem_ops *o, int id)
{
	for (;;) {
		struct sembuf s[8];
		struct timespec zero = { 0, 0 }, lng = { 30, 0 };
		int n = from_parent(), timed, r;

		if (n <= 0 || n > 8)
			diff_exit();
		for (int i = 0; i < n; i++)
			s[i] = recv_sop();
		timed = from_parent();
		errno = 0;
		if (timed)
			r = o->timedop(id, s, n, timed == 1 ? &zero : &lng);
		else
			r = o->op(id, s, n);
		to_parent(r == -1 ? -errno : r);
	}
}

/* The sleepers that no longer count have finished: record them. */
static void settle(const struct sem_ops *o, int id, const char *why)
{
	int kids[NWORK], idx[NWORK], nk = 0, now, done;
	unsigned got;

	now = sem_sleepers(o, id, NSEM);
	CHECK(now >= 0 && now <= sleeping);
	done = sleeping - now;
	for (int i = 0; i < NWORK; i++)
		if (w[i].state == W_SLEEP) {
			idx[nk] = i;
			kids[nk++] = w[i].n;
		}
	if (done) {
		got = sem_collect(why, kids, nk, done);
		for (int j = 0; j < nk; j++)
			if (got & (1u << j))
				w[idx[j]].state = W_IDLE;
		sleeping -= done;
	}
	rec_sems(o, why, id, NSEM);
}

static int worker_fd_ready(int n)
{
	struct pollfd p = { diff_child_fd(n), POLLIN, 0 };

	return poll(&p, 1, 0) == 1;
}

/* Send worker I a random call, then wait for its report or its sleep. */
static void worker_op(const struct sem_ops *o, int id, int i, int step)
{
	struct sembuf s[3];
	size_t n = random_sops(s, 0);
	/* 0: semop; 1: semtimedop, zero timeout; 2: 30 s (blocks) */
	unsigned t = rnd(6);
	int timed = t < 2 ? (int)t + 1 : 0;

	if (w[i].state == W_NONE) {
		w[i].n = diff_fork();
		if (w[i].n == 0)
			worker_loop(o, id);
		w[i].state = W_IDLE;
	}
	to_child(w[i].n, (int)n);
	for (size_t j = 0; j < n; j++)
		send_sop(w[i].n, &s[j]);
	to_child(w[i].n, timed);
	/* A zero timeout never sleeps, but the kernel queues the call for
	 * an instant (it can count in GETNCNT then): wait for its report. */
	for (int ms = 0; ms < 5000; ms++) {
		if (timed == 1 || worker_fd_ready(w[i].n)) {
			rec_report(L("%d: child#%d %s[%s]", step, w[i].n,
				     timed == 1 ? "timed 0 " :
				     timed == 2 ? "timed 30 " : "",
				     sops_text(s, n)), w[i].n);
			settle(o, id, L("%d: after", step));
			return;
		}
		/* Two reads in a row: the counts are read one semaphore at
		 * a time, so a read that a completing call (which moves
		 * other sleepers' blocking sops) straddles can see one
		 * sleeper twice; the worker's call is one change, so it
		 * straddles one read at most, and a real sleeper stays. */
		if (sem_sleepers(o, id, NSEM) == sleeping + 1 &&
		    sem_sleepers(o, id, NSEM) == sleeping + 1 &&
		    !worker_fd_ready(w[i].n)) {
			rec("%d: child#%d %s[%s]: sleeps", step, w[i].n,
			    timed == 2 ? "timed 30 " : "", sops_text(s, n));
			w[i].state = W_SLEEP;
			sleeping++;
			rec_sems(o, L("%d: sleeping", step), id, NSEM);
			return;
		}
		usleep(1000);
	}
	test_fail(__FILE__, __LINE__, "seed %u step %d: worker neither "
		  "reported nor slept", seed, step);
}

static void worker_end(const struct sem_ops *o, int id, int i, int step,
		       int kill9)
{
	if (w[i].state == W_SLEEP)
		sleeping--;
	if (kill9) {
		CHECK(kill(diff_child_pid(w[i].n), SIGKILL) == 0);
		diff_wait(w[i].n);
	} else {
		/* a sleeping worker only reads the word after waking */
		CHECK(w[i].state == W_IDLE);
		sem_release(w[i].n);
	}
	w[i].state = W_NONE;
	w[i].n = 0;
	settle(o, id, L("%d: after %s", step, kill9 ? "SIGKILL" : "exit"));
}

static int pick(int state)
{
	int c[NWORK], k = 0;

	for (int i = 0; i < NWORK; i++)
		if (w[i].state == state)
			c[k++] = i;
	return k ? c[rnd(k)] : -1;
}

static void scen_random(const struct sem_ops *o)
{
	int id;

	rs = seed * 2654435761u + 1;
	memset(w, 0, sizeof(w));
	sleeping = 0;
	rec("seed %u", seed);
	id = X_EQ("set", o->get(IPC_PRIVATE, NSEM, 0600), 0);
	for (int step = 0; step < STEPS; step++) {
		struct sembuf s[3];
		unsigned short v[NSEM];
		size_t n;
		int i, a = rnd(12);

		switch (a) {
		case 0:
		case 1:
			n = random_sops(s, 1);
			X_REC(L("%d: main [%s]", step, sops_text(s, n)),
			      o->op(id, s, n));
			settle(o, id, L("%d: after", step));
			break;
		case 2:
			i = rnd(NSEM);
			n = rnd(8) ? rnd(4) : 32767;
			X_EQ(L("%d: SETVAL %d = %zu", step, i, n),
			     o->ctl(id, i, SETVAL, (int)n), 0);
			settle(o, id, L("%d: after", step));
			break;
		case 3:
			for (i = 0; i < NSEM; i++)
				v[i] = (unsigned short)rnd(4);
			X_EQ(L("%d: SETALL %u %u %u", step, v[0], v[1], v[2]),
			     o->ctl(id, 0, SETALL, (union semun){ .array = v }),
			     0);
			settle(o, id, L("%d: after", step));
			break;
		case 4:
		case 5:
		case 6:
		case 7:
			i = rnd(2) ? pick(W_IDLE) : pick(W_NONE);
			if (i < 0)
				i = pick(W_NONE) >= 0 ? pick(W_NONE) :
				    pick(W_IDLE);
			if (i >= 0)
				worker_op(o, id, i, step);
			break;
		case 8:
			i = pick(W_IDLE);
			if (i >= 0)
				worker_end(o, id, i, step, rnd(2));
			break;
		case 9:
			i = pick(W_SLEEP);
			if (i >= 0)
				worker_end(o, id, i, step, 1);
			break;
		default:
			rec_semstat(o, L("%d: stat", step), id, IPC_STAT,
				    NULL);
			break;
		}
	}
	X_EQ("IPC_RMID", o->ctl(id, 0, IPC_RMID), 0);
	{
		int kids[NWORK], nk = 0;

		for (int i = 0; i < NWORK; i++)
			if (w[i].state == W_SLEEP)
				kids[nk++] = w[i].n;
		if (nk)
			sem_collect("removed", kids, nk, nk);
	}
	for (int i = 0; i < NWORK; i++)
		if (w[i].state != W_NONE)
			sem_release(w[i].n);
}

static void seeds(int first)
{
	for (int k = 0; k < SEEDS_PER_TEST; k++) {
		seed = (unsigned)(first + k);
		sem_run(L("sem_random seed %u", seed), scen_random);
	}
}

#define RANDOM_TEST(n_)                                                    \
	TEST_T(sem_random_##n_, 120)                                       \
	{                                                                  \
		seeds((n_) * SEEDS_PER_TEST);                              \
	}

RANDOM_TEST(0)
RANDOM_TEST(1)
RANDOM_TEST(2)
RANDOM_TEST(3)
RANDOM_TEST(4)
RANDOM_TEST(5)
RANDOM_TEST(6)
RANDOM_TEST(7)
RANDOM_TEST(8)
RANDOM_TEST(9)
