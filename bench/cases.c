/*
 * cases.c - the loops the benchmark times (issue 6), the same code for
 * both sides: every call goes through struct side.
 *
 * A worker prepares one case at a time, so a case's state is file-static
 * (struct state).  Errors inside timed loops are counted, not branched on
 * per call beyond one compare, and reported after the clock stops.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SEG_4K		4096UL
#define SEG_1G		(1UL << 30)
#define SEG_256M	(256UL << 20)
#define PAGE		4096UL
#define COPY_LEN	(64UL << 20)
#define POP_MAX		32768
#define POP_KEY_BASE	0x75500000
/* A prime, so stepping by it modulo the population visits every key in a
 * scattered order: the lookups do not walk the tables sequentially. */
#define POP_STRIDE	7919
#define NATTACHERS	100
#define CHILD_TIMEOUT_MS 10000

#define SHMAT_FAILED	((void *)-1)

static const struct side *S;

static struct state {
	int id, id2;
	char *addr;
	char *src;			/* memcpy source, anonymous memory */
	pid_t kids[NATTACHERS];
	int nkids;
	int go_fd, done_fd;		/* to and from the shmat helper */
} st = { .id = -1, .id2 = -1, .go_fd = -1, .done_fd = -1 };

/* ---- helpers ---- */

static int new_segment(size_t size, int extra_flags)
{
	int id = S->get(IPC_PRIVATE, size, IPC_CREAT | 0600 | extra_flags);

	if (id < 0)
		bench_fail("%s: shmget(IPC_PRIVATE, %zu): %s", S->name, size,
			   strerror(errno));
	return id;
}

static void remove_segment(int *id)
{
	if (*id >= 0)
		S->ctl(*id, IPC_RMID, NULL);
	*id = -1;
}

static int check_nattch(int id, unsigned long want)
{
	struct shmid_ds ds;

	if (S->ctl(id, IPC_STAT, &ds) < 0)
		return bench_fail("%s: IPC_STAT: %s", S->name, strerror(errno));
	if (ds.shm_nattch != want)
		return bench_fail("%s: nattch is %lu, expected %lu", S->name,
				  (unsigned long)ds.shm_nattch, want);
	return 0;
}

/* Read exactly LEN bytes, giving up after CHILD_TIMEOUT_MS of silence, so
 * that a child that died early cannot hang the worker. */
int bench_read_timeout(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *b = buf;

	while (len) {
		ssize_t n;
		int r = poll(&p, 1, CHILD_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* In a child: die with the worker, so that nothing outlives the run. */
static void child_init(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

static void kill_kids(void)
{
	for (int i = 0; i < st.nkids; i++)
		kill(st.kids[i], SIGKILL);
	for (int i = 0; i < st.nkids; i++)
		while (waitpid(st.kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	st.nkids = 0;
}

/* ---- population of keyed segments, for the shmget lookups ---- */

static int pop_ids[POP_MAX];
static int pop_n;

int bench_population(const struct side *s, int n, int *changed)
{
	*changed = 0;
	S = s;
	if (n > POP_MAX)
		return bench_fail("population %d > %d", n, POP_MAX);
	while (pop_n > n) {
		S->ctl(pop_ids[--pop_n], IPC_RMID, NULL);
		++*changed;
	}
	while (pop_n < n) {
		int id = S->get(POP_KEY_BASE + pop_n, SEG_4K,
				IPC_CREAT | IPC_EXCL | 0600);

		if (id < 0)
			return bench_fail("%s: creating segment %d of %d: %s",
					  S->name, pop_n + 1, n,
					  strerror(errno));
		pop_ids[pop_n++] = id;
		++*changed;
	}
	return 0;
}

/* ---- empty loop: the harness's own cost, and the noise floor ---- */

static int prepare_nothing(const struct side *s)
{
	S = s;
	return 0;
}

static void teardown_nothing(void)
{
}

static double run_empty(long iters)
{
	double t0 = bench_now();

	for (long k = 0; k < iters; k++)
		__asm__ volatile("" ::: "memory");
	return bench_now() - t0;
}

/* ---- shmget of an existing key ---- */

static double run_shmget(long iters)
{
	unsigned n = (unsigned)pop_n, step = POP_STRIDE % n, i = 0;
	long bad = 0;
	double t0, t;

	t0 = bench_now();
	for (long k = 0; k < iters; k++) {
		bad += S->get(POP_KEY_BASE + (key_t)i, SEG_4K, 0600) < 0;
		i += step;
		if (i >= n)
			i -= n;
	}
	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: %ld of %ld lookups failed", S->name, bad,
				  iters);
	return t;
}

/* ---- IPC_STAT ---- */

static int prepare_stat_1(const struct side *s)
{
	S = s;
	if ((st.id = new_segment(SEG_4K, 0)) < 0)
		return -1;
	st.addr = S->at(st.id, NULL, 0);
	if (st.addr == SHMAT_FAILED) {
		st.addr = NULL;
		return bench_fail("%s: shmat: %s", S->name, strerror(errno));
	}
	return check_nattch(st.id, 1);
}

static void teardown_stat_1(void)
{
	if (st.addr)
		S->dt(st.addr);
	st.addr = NULL;
	remove_segment(&st.id);
}

/* Child: attach, say so, then sleep until teardown kills it. */
static void attacher(pid_t parent, int id, int ready_fd)
{
	char c = 1;

	child_init(parent);
	if (S->at(id, NULL, 0) == SHMAT_FAILED)
		c = 0;
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static int prepare_stat_100(const struct side *s)
{
	pid_t me = getpid();
	int ready[2], r = 0;
	char ok[NATTACHERS];

	S = s;
	/* Not attached here: a fork would copy our attachment into every
	 * child, and nattch would count them twice. */
	if ((st.id = new_segment(SEG_4K, 0)) < 0)
		return -1;
	if (pipe(ready) < 0)
		return bench_fail("pipe: %s", strerror(errno));
	for (int i = 0; i < NATTACHERS; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(ready[0]);
			attacher(me, st.id, ready[1]);
		}
		if (pid < 0) {
			r = bench_fail("fork: %s", strerror(errno));
			break;
		}
		st.kids[st.nkids++] = pid;
	}
	close(ready[1]);
	if (r == 0 && bench_read_timeout(ready[0], ok, (size_t)st.nkids) < 0)
		r = bench_fail("%s: attachers did not report", S->name);
	for (int i = 0; r == 0 && i < st.nkids; i++)
		if (!ok[i])
			r = bench_fail("%s: an attacher's shmat failed",
				       S->name);
	close(ready[0]);
	if (r == 0)
		r = check_nattch(st.id, NATTACHERS);
	return r;
}

static void teardown_stat_100(void)
{
	kill_kids();
	remove_segment(&st.id);
}

static double run_stat(long iters)
{
	struct shmid_ds ds;	/* on the stack, as callers usually have it */
	long bad = 0;
	double t0, t;

	t0 = bench_now();
	for (long k = 0; k < iters; k++)
		bad += S->ctl(st.id, IPC_STAT, &ds) < 0;
	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: IPC_STAT failed %ld times", S->name, bad);
	return t;
}

/* ---- shmat + shmdt ---- */

static int prepare_seg_4k(const struct side *s)
{
	S = s;
	return (st.id = new_segment(SEG_4K, 0)) < 0 ? -1 : 0;
}

static int prepare_seg_1g(const struct side *s)
{
	S = s;
	/* Never touched: reserving swap for it would measure nothing. */
	return (st.id = new_segment(SEG_1G, SHM_NORESERVE)) < 0 ? -1 : 0;
}

static void teardown_seg(void)
{
	remove_segment(&st.id);
}

static long attach_detach(int id, long iters)
{
	long bad = 0;

	for (long k = 0; k < iters; k++) {
		void *p = S->at(id, NULL, 0);

		if (p == SHMAT_FAILED)
			bad++;
		else
			bad += S->dt(p) < 0;
	}
	return bad;
}

static double run_at_dt(long iters)
{
	double t0 = bench_now(), t;
	long bad = attach_detach(st.id, iters);

	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: shmat/shmdt failed %ld times", S->name,
				  bad);
	return t;
}

/* ---- two processes attaching and detaching at once ---- */

/* Child: for each count N read from GO, N shmat+shmdt of its own
 * segment, then one byte on DONE (1: all succeeded).  0 or EOF: exit. */
static void at_dt_helper(pid_t parent, int id, int go, int done)
{
	long n;

	child_init(parent);
	while (read(go, &n, sizeof(n)) == sizeof(n) && n > 0) {
		char ok = attach_detach(id, n) == 0;

		if (write(done, &ok, 1) != 1)
			break;
	}
	_exit(0);
}

static int prepare_2proc(const struct side *s)
{
	pid_t me = getpid(), pid;
	int go[2], done[2];

	S = s;
	if ((st.id = new_segment(SEG_4K, 0)) < 0 ||
	    (st.id2 = new_segment(SEG_4K, 0)) < 0)
		return -1;
	if (pipe(go) < 0)
		return bench_fail("pipe: %s", strerror(errno));
	if (pipe(done) < 0) {
		close(go[0]);
		close(go[1]);
		return bench_fail("pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		at_dt_helper(me, st.id2, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	st.go_fd = go[1];
	st.done_fd = done[0];
	if (pid < 0)
		return bench_fail("fork: %s", strerror(errno));
	st.kids[st.nkids++] = pid;
	return 0;
}

static void teardown_2proc(void)
{
	if (st.go_fd >= 0)
		close(st.go_fd);	/* the helper sees EOF and exits */
	if (st.done_fd >= 0)
		close(st.done_fd);
	st.go_fd = st.done_fd = -1;
	for (int i = 0; i < st.nkids; i++)
		while (waitpid(st.kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	st.nkids = 0;
	remove_segment(&st.id);
	remove_segment(&st.id2);
}

/* ITERS each; the clock runs until both are done (throughput of both). */
static double run_2proc(long iters)
{
	double t0 = bench_now(), t;
	long bad;
	char ok = 0;

	if (write(st.go_fd, &iters, sizeof(iters)) != sizeof(iters))
		return bench_fail("%s: helper gone: %s", S->name,
				  strerror(errno));
	bad = attach_detach(st.id, iters);
	if (bench_read_timeout(st.done_fd, &ok, 1) < 0)
		return bench_fail("%s: helper did not finish", S->name);
	t = bench_now() - t0;
	if (bad || !ok)
		return bench_fail("%s: shmat/shmdt failed (here %ld, helper %s)",
				  S->name, bad, ok ? "ok" : "failed");
	return t;
}

/* ---- IPC_PRIVATE create + IPC_RMID ---- */

static double run_create_rmid(long iters)
{
	double t0 = bench_now(), t;
	long bad = 0;

	for (long k = 0; k < iters; k++) {
		int id = S->get(IPC_PRIVATE, SEG_4K, IPC_CREAT | 0600);

		if (id < 0)
			bad++;
		else
			bad += S->ctl(id, IPC_RMID, NULL) < 0;
	}
	t = bench_now() - t0;
	if (bad)
		return bench_fail("%s: create/RMID failed %ld times", S->name,
				  bad);
	return t;
}

/* ---- first touch ---- */

/* Each iteration: a fresh 256 MiB segment; only the writes of one byte
 * per page are timed (each is a page fault that allocates and zeroes). */
static double run_first_touch(long iters)
{
	double total = 0;

	for (long k = 0; k < iters; k++) {
		int id = new_segment(SEG_256M, 0);
		volatile char *p;
		double t0;

		if (id < 0)
			return -1;
		p = S->at(id, NULL, 0);
		if (p == SHMAT_FAILED) {
			remove_segment(&id);
			return bench_fail("%s: shmat: %s", S->name,
					  strerror(errno));
		}
		t0 = bench_now();
		for (size_t off = 0; off < SEG_256M; off += PAGE)
			p[off] = 1;
		total += bench_now() - t0;
		S->dt((const void *)p);
		remove_segment(&id);
	}
	return total;
}

/* ---- memcpy bandwidth ---- */

static int prepare_memcpy(const struct side *s)
{
	S = s;
	if ((st.id = new_segment(SEG_256M, 0)) < 0)
		return -1;
	st.addr = S->at(st.id, NULL, 0);
	if (st.addr == SHMAT_FAILED) {
		st.addr = NULL;
		return bench_fail("%s: shmat: %s", S->name, strerror(errno));
	}
	st.src = mmap(NULL, COPY_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st.src == MAP_FAILED) {
		st.src = NULL;
		return bench_fail("mmap: %s", strerror(errno));
	}
	/* Fault everything in now: this case measures copying only. */
	memset(st.addr, 0, SEG_256M);
	memset(st.src, 0x5a, COPY_LEN);
	return 0;
}

static void teardown_memcpy(void)
{
	if (st.src)
		munmap(st.src, COPY_LEN);
	st.src = NULL;
	teardown_stat_1();
}

static double run_memcpy(long iters)
{
	double t0 = bench_now();

	for (long k = 0; k < iters; k++) {
		memcpy(st.addr + (size_t)(k & 3) * COPY_LEN, st.src, COPY_LEN);
		__asm__ volatile("" ::: "memory");
	}
	return bench_now() - t0;
}

/* ---- the table ---- */

#define NO_PREP	.prepare = prepare_nothing, .teardown = teardown_nothing

const struct bench_case bench_cases[] = {
	{ .name = "empty_loop", .run = run_empty, NO_PREP,
	  .what = "empty loop: the harness's cost, and the noise floor",
	  .unit = "op/s", .ops_per_iter = 1 },
	{ .name = "shmget_existing_10", .run = run_shmget, NO_PREP,
	  .what = "shmget of an existing key, 10 segments",
	  .unit = "op/s", .ops_per_iter = 1, .target = 0.25,
	  .population = 10 },
	{ .name = "shmget_existing_1000", .run = run_shmget, NO_PREP,
	  .what = "shmget of an existing key, 1,000 segments",
	  .unit = "op/s", .ops_per_iter = 1, .target = 0.25,
	  .population = 1000 },
	{ .name = "shmget_existing_30000", .run = run_shmget, NO_PREP,
	  .what = "shmget of an existing key, 30,000 segments",
	  .unit = "op/s", .ops_per_iter = 1, .target = 0.25,
	  .population = 30000 },
	{ .name = "ipc_stat_1_attacher", .run = run_stat,
	  .prepare = prepare_stat_1, .teardown = teardown_stat_1,
	  .what = "IPC_STAT, attached by this process only",
	  .unit = "op/s", .ops_per_iter = 1, .target = 0.5 },
	{ .name = "ipc_stat_100_attachers", .run = run_stat,
	  .prepare = prepare_stat_100, .teardown = teardown_stat_100,
	  .what = "IPC_STAT, attached by 100 other processes",
	  .unit = "op/s", .ops_per_iter = 1 },
	{ .name = "shmat_shmdt_4k", .run = run_at_dt,
	  .prepare = prepare_seg_4k, .teardown = teardown_seg,
	  .what = "shmat + shmdt of a 4 KiB segment",
	  .unit = "op/s", .ops_per_iter = 1, .target = 1.0 },
	{ .name = "shmat_shmdt_1g", .run = run_at_dt,
	  .prepare = prepare_seg_1g, .teardown = teardown_seg,
	  .what = "shmat + shmdt of a 1 GiB segment (SHM_NORESERVE)",
	  .unit = "op/s", .ops_per_iter = 1, .target = 1.0 },
	{ .name = "private_create_rmid", .run = run_create_rmid, NO_PREP,
	  .what = "shmget(IPC_PRIVATE, 4 KiB) + IPC_RMID",
	  .unit = "op/s", .ops_per_iter = 1, .target = 1.5 },
	{ .name = "shmat_shmdt_2proc", .run = run_2proc,
	  .prepare = prepare_2proc, .teardown = teardown_2proc,
	  .what = "2 processes, shmat + shmdt of a segment each; total op/s",
	  .unit = "op/s", .ops_per_iter = 2 },
	{ .name = "semop_uncontended", .run = bench_sem_run_op,
	  .prepare = bench_sem_prepare_1, .teardown = bench_sem_teardown,
	  .what = "semop +1 / -1 on a set of one, nobody waiting",
	  .unit = "op/s", .ops_per_iter = 2, .target = 0.1 },
	{ .name = "semop_undo", .run = bench_sem_run_undo,
	  .prepare = bench_sem_prepare_1, .teardown = bench_sem_teardown,
	  .what = "semop +1 / -1 with SEM_UNDO, nobody waiting",
	  .unit = "op/s", .ops_per_iter = 2, .target = 0.25 },
	{ .name = "semctl_getval", .run = bench_sem_run_getval,
	  .prepare = bench_sem_prepare_1, .teardown = bench_sem_teardown,
	  .what = "semctl GETVAL",
	  .unit = "op/s", .ops_per_iter = 1, .target = 0.1 },
	{ .name = "sem_pingpong_2proc", .run = bench_sem_run_pingpong,
	  .prepare = bench_sem_prepare_pingpong,
	  .teardown = bench_sem_teardown,
	  .what = "2 processes hand a token back and forth through 2 "
		  "semaphores; round trips/s",
	  .unit = "trip/s", .ops_per_iter = 1, .target = 1.0 },
	{ .name = "semop_2proc_2sets", .run = bench_sem_run_2sets,
	  .prepare = bench_sem_prepare_2sets, .teardown = bench_sem_teardown,
	  .what = "2 processes, semop +1 / -1 on a set each; total op/s "
		  "(against semop_uncontended: the scaling)",
	  .unit = "op/s", .ops_per_iter = 4 },
	/*
	 * The last two have a 5% target, and page faults and memory
	 * bandwidth in a VM vary with its neighbours by more than that
	 * from one run to the next: more pairs of runs, and for first
	 * touch (0.3 s per segment) longer runs, so that a run is not
	 * one sample.
	 */
	{ .name = "first_touch_256m", .run = run_first_touch, NO_PREP,
	  .what = "first write to each 4 KiB page of a fresh 256 MiB segment",
	  .unit = "page/s", .ops_per_iter = (double)(SEG_256M / PAGE),
	  .target = 1.05, .run_mult = 2, .noisy = 1 },
	{ .name = "memcpy_64m", .run = run_memcpy,
	  .prepare = prepare_memcpy, .teardown = teardown_memcpy,
	  .what = "memcpy of 64 MiB into an attached 256 MiB segment",
	  .unit = "GB/s", .ops_per_iter = 1, .bytes_per_op = (double)COPY_LEN,
	  .target = 1.05, .noisy = 1 },
};
const int bench_ncases = (int)(sizeof(bench_cases) / sizeof(bench_cases[0]));

const struct bench_case *bench_case_find(const char *name)
{
	for (int i = 0; i < bench_ncases; i++)
		if (strcmp(bench_cases[i].name, name) == 0)
			return &bench_cases[i];
	return NULL;
}
