/*
 * semcases.c - the semaphore loops of the benchmark (issue 10), the same
 * code for both sides, through struct side like cases.c.
 *
 *   semop_uncontended   +1 then -1 on a set of one: no waiter, no wake
 *   semop_undo          the same with SEM_UNDO (an undo record kept)
 *   semctl_getval       GETVAL
 *   sem_pingpong_2proc  a helper waits on semaphore 0 and posts 1; we post
 *                       0 and wait on 1: one round trip is two hand-offs,
 *                       each a sleep and a wake-up on both sides
 *   semop_2proc_2sets   a helper loops on a set of its own while we loop
 *                       on ours: what per-set locking lets run at once
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static const struct side *S;

static struct {
	int id, id2;
	pid_t kid;
	int go_fd, done_fd;
} ss = { .id = -1, .id2 = -1, .kid = -1, .go_fd = -1, .done_fd = -1 };

static int new_set(int nsems)
{
	int id = S->semget(IPC_PRIVATE, nsems, IPC_CREAT | 0600);

	if (id < 0)
		bench_fail("%s: semget(IPC_PRIVATE, %d): %s", S->name, nsems,
			   strerror(errno));
	return id;
}

int bench_sem_prepare_1(const struct side *s)
{
	S = s;
	return (ss.id = new_set(1)) < 0 ? -1 : 0;
}

/* N iterations of +1, -1 on semaphore 0 of ID with FLG; failures. */
static long up_down(int id, long n, short flg)
{
	struct sembuf up = { 0, 1, flg }, down = { 0, -1, flg };
	long bad = 0;

	for (long k = 0; k < n; k++) {
		bad += S->semop(id, &up, 1) < 0;
		bad += S->semop(id, &down, 1) < 0;
	}
	return bad;
}

static double timed_up_down(long iters, short flg)
{
	double t0 = bench_now(), t;
	long bad = up_down(ss.id, iters, flg);

	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: semop failed %ld times", S->name, bad);
	return t;
}

double bench_sem_run_op(long iters)
{
	return timed_up_down(iters, 0);
}

double bench_sem_run_undo(long iters)
{
	return timed_up_down(iters, SEM_UNDO);
}

double bench_sem_run_getval(long iters)
{
	double t0 = bench_now(), t;
	long bad = 0;

	for (long k = 0; k < iters; k++)
		bad += S->semctl(ss.id, 0, GETVAL) != 0;
	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: GETVAL failed %ld times", S->name, bad);
	return t;
}

/* ---- helpers in a child process ---- */

/* The helper's loops: for each count N read from GO, N iterations, then
 * one byte on DONE (1: all succeeded).  EOF or 0: exit. */
enum helper_kind { PINGPONG, OWN_SET };

static void helper(pid_t parent, enum helper_kind kind, int go, int done)
{
	struct sembuf wait0 = { 0, -1, 0 }, post1 = { 1, 1, 0 };
	long n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	while (read(go, &n, sizeof(n)) == sizeof(n) && n > 0) {
		long bad = 0;
		char ok;

		if (kind == OWN_SET) {
			bad = up_down(ss.id2, n, 0);
		} else {
			for (long k = 0; k < n && !bad; k++)
				bad = S->semop(ss.id, &wait0, 1) < 0 ||
				      S->semop(ss.id, &post1, 1) < 0;
		}
		ok = bad == 0;
		if (write(done, &ok, 1) != 1)
			break;
	}
	_exit(0);
}

static int start_helper(enum helper_kind kind)
{
	pid_t me = getpid();
	int go[2], done[2];

	if (pipe(go) < 0)
		return bench_fail("pipe: %s", strerror(errno));
	if (pipe(done) < 0) {
		close(go[0]);
		close(go[1]);
		return bench_fail("pipe: %s", strerror(errno));
	}
	ss.kid = fork();
	if (ss.kid == 0) {
		close(go[1]);
		close(done[0]);
		helper(me, kind, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	ss.go_fd = go[1];
	ss.done_fd = done[0];
	if (ss.kid < 0)
		return bench_fail("fork: %s", strerror(errno));
	return 0;
}

int bench_sem_prepare_pingpong(const struct side *s)
{
	S = s;
	if ((ss.id = new_set(2)) < 0)
		return -1;
	return start_helper(PINGPONG);
}

int bench_sem_prepare_2sets(const struct side *s)
{
	S = s;
	if ((ss.id = new_set(1)) < 0 || (ss.id2 = new_set(1)) < 0)
		return -1;
	return start_helper(OWN_SET);
}

/* Start the helper on ITERS, run OURS, wait for the helper. */
static double with_helper(long iters, long (*ours)(long))
{
	double t0 = bench_now(), t;
	long bad;
	char ok = 0;

	if (write(ss.go_fd, &iters, sizeof(iters)) != sizeof(iters))
		return bench_fail("%s: helper gone: %s", S->name,
				  strerror(errno));
	bad = ours(iters);
	if (bench_read_timeout(ss.done_fd, &ok, 1) < 0)
		return bench_fail("%s: helper did not finish", S->name);
	t = bench_now() - t0;
	if (bad || !ok)
		return bench_fail("%s: semop failed (here %ld, helper %s)",
				  S->name, bad, ok ? "ok" : "failed");
	return t;
}

static long pingpong_ours(long n)
{
	struct sembuf post0 = { 0, 1, 0 }, wait1 = { 1, -1, 0 };
	long bad = 0;

	for (long k = 0; k < n && !bad; k++)
		bad = S->semop(ss.id, &post0, 1) < 0 ||
		      S->semop(ss.id, &wait1, 1) < 0;
	return bad;
}

static long own_set_ours(long n)
{
	return up_down(ss.id, n, 0);
}

double bench_sem_run_pingpong(long iters)
{
	return with_helper(iters, pingpong_ours);
}

double bench_sem_run_2sets(long iters)
{
	return with_helper(iters, own_set_ours);
}

void bench_sem_teardown(void)
{
	if (ss.go_fd >= 0)
		close(ss.go_fd);	/* the helper sees EOF and exits */
	if (ss.done_fd >= 0)
		close(ss.done_fd);
	ss.go_fd = ss.done_fd = -1;
	if (ss.kid > 0)
		while (waitpid(ss.kid, NULL, 0) < 0 && errno == EINTR)
			;
	ss.kid = -1;
	if (ss.id >= 0)
		S->semctl(ss.id, 0, IPC_RMID);
	if (ss.id2 >= 0)
		S->semctl(ss.id2, 0, IPC_RMID);
	ss.id = ss.id2 = -1;
}
