/*
 * t_scen.c - random multi-process scenarios, on the kernel and on ushm,
 * compared line for line (diff.c).
 *
 * A seed makes a scenario (the same seed, the same scenario): a main
 * process that creates, attaches, detaches, splits, writes and reads,
 * stats, changes, locks and removes up to three segments, and forks
 * children that inherit its attachments, attach and detach on their own
 * (also from a thread), and end in one of the ways a process ends:
 * exit(), exit() with an atexit handler that detaches, _exit(),
 * _Exit(), or SIGKILL from main.  Main waits for each end (waitpid)
 * before its next step, and one process acts at a time (the others
 * wait on a pipe), so the order of events is the same in both runs.
 *
 * A "look" records every segment ever made (IPC_STAT): nattch, lpid,
 * cpid, key, mode, size, and for each time whether it is 0, changed
 * since the previous look, or the same.  Odd seeds look after every
 * step; even ones now and then, so that a dead process's effects meet
 * the events after it (fork, detach, attach, split, IPC_RMID...)
 * before anybody looked.  Two processes killed by SIGKILL with no look
 * between have no order that ushm can know (README, "Limits"): the
 * generator looks before a second kill.
 *
 * Times have a resolution of one second, so a time set again within the
 * second of its previous value looks unchanged; such a value is "?" in
 * the trace, which matches anything (diff.h).  One seed in eight waits
 * for the next second somewhere in its course, so that the changes
 * after it are pinned down.
 *
 * A return from main is exit() (glibc's __libc_start_main calls it); a
 * child here cannot return from main, so exit() stands for both.
 *
 *   ushm-tests scen_random            seeds 1..100 (make test)
 *   USHM_TEST_TIMEOUT=0 USHM_SCEN_SEEDS=N USHM_SCEN_FIRST=F \
 *   ushm-tests scen_random            seeds F..F+N-1 (make scenarios)
 * A seed that differs prints the first differing line, the lines before
 * it and those after it in both traces; USHM_DIFF_TRACE=1 prints both
 * traces whole.
 */
#include "diff.h"
#include "rmtree.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEGS		3	/* segment places (keys) */
#define NIDS		12	/* ids ever made, at most */
#define NATT		6	/* attachments a process keeps */
#define NKIDS		3	/* children alive at once */
#define STEPS		36
#define KEY(i)		(0x5c000100 + (i))

static uint64_t rng;
static unsigned long scen_seed;

static uint32_t rnd(uint32_t n)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n ? (uint32_t)(z % n) : 0;
}

struct att {
	char *p;		/* NULL: free */
	int id;
	size_t len;
	int rdonly;
};

/* What every process of the scenario knows (a child's copy is its own
 * from the fork on). */
static struct {
	int ids[NIDS];		/* every id made, in order */
	int nids;
	int cur[NSEGS];		/* the id at each place, -1: none */
	size_t size[NSEGS];
	int keyed[NSEGS];
	struct att att[NATT];	/* this process's */
	time_t prev[NIDS][3];	/* times at the previous look */
	time_t since;		/* when the steps since that look began */
} st;

static const struct shm_ops *ops;

/* ---- what any process does ---- */

static int att_free(void)
{
	for (int i = 0; i < NATT; i++)
		if (!st.att[i].p)
			return i;
	return -1;
}

static int att_pick(void)
{
	int n = 0, which;

	for (int i = 0; i < NATT; i++)
		n += st.att[i].p != NULL;
	if (!n)
		return -1;
	which = (int)rnd((uint32_t)n);
	for (int i = 0; i < NATT; i++)
		if (st.att[i].p && which-- == 0)
			return i;
	return -1;
}

static void do_at(const char *who, int place, int rdonly)
{
	int slot = att_free(), id = st.cur[place];
	char *p;

	if (slot < 0 || id < 0)
		return;
	errno = 0;
	p = ops->at(id, NULL, rdonly ? SHM_RDONLY : 0);
	rec_at(L("%s: shmat place %d%s", who, place, rdonly ? " rdonly" : ""),
	       p, NULL);
	if (p == (void *)-1)
		return;
	st.att[slot] = (struct att){ p, id, st.size[place], rdonly };
}

static void do_dt(const char *who, int a)
{
	if (a < 0)
		return;
	errno = 0;
	rec_ret(L("%s: shmdt attachment %d", who, a), ops->dt(st.att[a].p));
	st.att[a].p = NULL;
}

/* Unmap the middle page of a 3-page attachment: two pieces, one more
 * in nattch; shmdt later takes both. */
static void do_split(const char *who, int a)
{
	if (a < 0 || st.att[a].len < 3 * PAGE)
		return;
	errno = 0;
	rec_ret(L("%s: munmap the middle of attachment %d", who, a),
		munmap(st.att[a].p + PAGE, PAGE));
	st.att[a].len = PAGE;	/* no second split */
}

static void do_write(const char *who, int a, int v)
{
	if (a < 0 || st.att[a].rdonly)
		return;
	st.att[a].p[0] = (char)v;
	rec("%s: write %d to attachment %d", who, v, a);
}

static void do_read(const char *who, int a)
{
	if (a < 0)
		return;
	rec("%s: read %d from attachment %d", who, st.att[a].p[0], a);
}

/* ---- children ---- */

enum { C_AT, C_DT, C_SPLIT, C_WRITE, C_THREAD_AT, C_END };
enum { END_EXIT, END_ATEXIT_DT, END__EXIT, END__EXIT_C99, END_KILL, NEND };

static const char *end_name[] = { "exit()", "exit() with an atexit shmdt",
				  "_exit()", "_Exit()", "SIGKILL" };
static char child_name[16];

static void atexit_dt(void)
{
	int a = att_pick();

	if (a >= 0)
		do_dt(L("%s (atexit)", child_name), a);
	else
		rec("%s (atexit): nothing attached", child_name);
}

struct thread_at {
	int place, rdonly;
};

static void *thread_at(void *arg)
{
	struct thread_at *t = arg;

	do_at(L("%s (thread)", child_name), t->place, t->rdonly);
	return NULL;
}

/* A child: commands from main, each answered when done. */
static void child_loop(void)
{
	snprintf(child_name, sizeof(child_name), "%s",
		 diff_pid_name(getpid()));
	for (;;) {
		int cmd = from_parent(), arg;

		if (cmd == INT_MIN)
			_exit(0);
		arg = from_parent();
		switch (cmd) {
		case C_AT:
			do_at(child_name, arg % NSEGS, arg / NSEGS);
			break;
		case C_DT:
			do_dt(child_name, arg);
			break;
		case C_SPLIT:
			do_split(child_name, arg);
			break;
		case C_WRITE:
			do_write(child_name, att_pick(), arg);
			break;
		case C_THREAD_AT: {
			struct thread_at t = { arg % NSEGS, arg / NSEGS };
			pthread_t th;

			CHECK(pthread_create(&th, NULL, thread_at, &t) == 0);
			CHECK(pthread_join(th, NULL) == 0);
			break;
		}
		case C_END:
			fflush(NULL);
			if (arg == END_ATEXIT_DT)
				CHECK(atexit(atexit_dt) == 0);
			if (arg == END_EXIT || arg == END_ATEXIT_DT)
				exit(0);
			if (arg == END__EXIT)
				_exit(0);
			if (arg == END__EXIT_C99)
				_Exit(0);
			break;		/* END_KILL: main kills us */
		}
		to_parent(0);
	}
}

/* ---- main's steps ---- */

static int kids[NKIDS];		/* child numbers alive, 0: none */
static int killed_unseen;	/* a kill since the last look */

static void look(void)
{
	time_t since = st.since;

	rec("look");
	for (int i = 0; i < st.nids; i++) {
		static const char *tn[3] = { "atime", "dtime", "ctime" };
		struct shmid_ds ds;
		char tbuf[3][8];
		time_t t[3];
		int r;

		errno = 0;
		r = ops->ctl(st.ids[i], IPC_STAT, &ds);
		if (r < 0) {
			rec("  id %d: -1 %s", i, strerrorname_np(errno));
			continue;
		}
		t[0] = ds.shm_atime;
		t[1] = ds.shm_dtime;
		t[2] = ds.shm_ctime;
		for (int k = 0; k < 3; k++) {
			const char *c;

			if (t[k] == 0)
				c = "0";
			else if (t[k] != st.prev[i][k])
				c = "changed";
			else if (t[k] < since)
				c = "same";
			else
				c = "?";	/* set again in its second? */
			snprintf(tbuf[k], sizeof(tbuf[k]), "%s", c);
			st.prev[i][k] = t[k];
		}
		rec("  id %d: nattch %lu lpid %s cpid %s key %s mode %04o "
		    "size %zu %s %s %s %s %s %s", i,
		    (unsigned long)ds.shm_nattch, diff_pid_name(ds.shm_lpid),
		    diff_pid_name(ds.shm_cpid),
		    ds.shm_perm.__key ? "set" : "0",
		    (unsigned)ds.shm_perm.mode, ds.shm_segsz, tn[0], tbuf[0],
		    tn[1], tbuf[1], tn[2], tbuf[2]);
	}
	st.since = time(NULL);
	killed_unseen = 0;
}

static void step_get(void)
{
	int place = (int)rnd(NSEGS), r;
	int flags = IPC_CREAT | 0600;

	if (st.cur[place] >= 0 && st.keyed[place]) {
		/* An existing key: found, or EEXIST. */
		if (rnd(3) == 0)
			flags |= IPC_EXCL;
		errno = 0;
		rec_ret(L("main: shmget existing place %d%s", place,
			  flags & IPC_EXCL ? " excl" : ""),
			ops->get(KEY(place), PAGE, flags));
		return;
	}
	if (st.nids == NIDS)
		return;
	st.keyed[place] = rnd(3) != 0;
	st.size[place] = PAGE * (1 + rnd(3));
	errno = 0;
	r = ops->get(st.keyed[place] ? KEY(place) : IPC_PRIVATE,
		     st.size[place], flags);
	rec("main: shmget place %d %s %zu: %s", place,
	    st.keyed[place] ? "key" : "private", st.size[place],
	    r < 0 ? strerrorname_np(errno) : L("id %d", st.nids));
	if (r < 0)
		return;
	st.cur[place] = r;
	st.ids[st.nids++] = r;
}

static void step_ctl(void)
{
	int place = (int)rnd(NSEGS), id = st.cur[place];
	struct shmid_ds ds;

	if (id < 0)
		return;
	errno = 0;
	switch (rnd(7)) {
	case 5: {
		struct shm_info si;
		int r = ops->ctl(0, SHM_INFO, (struct shmid_ds *)&si);

		rec("main: SHM_INFO: %s used_ids %d shm_tot %lu",
		    r < 0 ? strerrorname_np(errno) : "ok", r < 0 ? 0 :
		    si.used_ids, r < 0 ? 0 : si.shm_tot);
		break;
	}
	case 6: {
		/* by index: the id comes back */
		int r = ops->ctl(id % 32768, SHM_STAT, &ds);

		rec("main: SHM_STAT place %d: %s", place, r == id ? "its id" :
		    r < 0 ? strerrorname_np(errno) : "another id");
		break;
	}
	case 0:
		ds = diff_set_buf(0, 0, rnd(2) ? 0640 : 0600);
		rec_ret(L("main: IPC_SET place %d", place),
			ops->ctl(id, IPC_SET, &ds));
		break;
	case 1:
		rec_ret(L("main: SHM_LOCK place %d", place),
			ops->ctl(id, SHM_LOCK, NULL));
		break;
	case 2:
		rec_ret(L("main: SHM_UNLOCK place %d", place),
			ops->ctl(id, SHM_UNLOCK, NULL));
		break;
	case 3:
		rec_ret(L("main: IPC_STAT place %d", place),
			ops->ctl(id, IPC_STAT, &ds));
		break;
	default:
		rec_ret(L("main: IPC_RMID place %d", place),
			ops->ctl(id, IPC_RMID, NULL));
		st.cur[place] = -1;	/* the place may be made anew */
		break;
	}
}

static void step_fork(void)
{
	int k, n;

	for (k = 0; k < NKIDS && kids[k]; k++)
		;
	if (k == NKIDS)
		return;
	rec("main: fork");
	n = diff_fork();
	if (n == 0) {
		for (int i = 0; i < NKIDS; i++)
			kids[i] = 0;
		child_loop();
	}
	kids[k] = n;
	rec("main: forked child#%d", n);
}

static void tell(int n, int cmd, int arg)
{
	to_child(n, cmd);
	to_child(n, arg);
}

static void end_child(int k, int how)
{
	int n = kids[k];

	if (how == END_KILL && killed_unseen)
		look();		/* no two kills without a look (above) */
	rec("main: child#%d ends by %s", n, end_name[how]);
	tell(n, C_END, how);
	if (how == END_KILL) {
		from_child(n);
		CHECK(kill(diff_child_pid(n), SIGKILL) == 0);
		killed_unseen = 1;
	}
	diff_wait(n);
	kids[k] = 0;
}

static void step_child(void)
{
	int k = (int)rnd(NKIDS), n = kids[k];

	if (!n)
		return;
	switch (rnd(7)) {
	case 0:
		tell(n, C_AT, (int)rnd(2 * NSEGS));
		break;
	case 1:
		tell(n, C_DT, (int)rnd(NATT));
		break;
	case 2:
		tell(n, C_SPLIT, (int)rnd(NATT));
		break;
	case 3:
		tell(n, C_WRITE, (int)rnd(100));
		break;
	case 4:
		tell(n, C_THREAD_AT, (int)rnd(2 * NSEGS));
		break;
	default:
		end_child(k, (int)rnd(NEND));
		return;
	}
	from_child(n);
}

static void scenario(const struct shm_ops *o)
{
	int dense = scen_seed & 1;
	int tick_at = scen_seed % 8 == 0 ? (int)(scen_seed / 8 % STEPS) : -1;

	ops = o;
	rng = scen_seed * 0x2545f4914f6cdd1dULL + 1;
	memset(&st, 0, sizeof(st));
	memset(kids, 0, sizeof(kids));
	killed_unseen = 0;
	for (int i = 0; i < NSEGS; i++)
		st.cur[i] = -1;
	st.since = time(NULL);
	rec("seed %lu, %s", scen_seed, dense ? "look after every step"
					     : "look now and then");
	for (int s = 0; s < STEPS; s++) {
		uint32_t r = rnd(100);

		if (s == tick_at) {
			diff_tick();
			rec("main: next second");
		}
		if (r < 14)
			step_get();
		else if (r < 30)
			do_at("main", (int)rnd(NSEGS), rnd(4) == 0);
		else if (r < 40)
			do_dt("main", att_pick());
		else if (r < 45)
			do_split("main", att_pick());
		else if (r < 50)
			do_write("main", att_pick(), (int)rnd(100));
		else if (r < 54)
			do_read("main", att_pick());
		else if (r < 62)
			step_ctl();
		else if (r < 74)
			step_fork();
		else
			step_child();
		if (dense || rnd(4) == 0)
			look();
	}
	for (int k = 0; k < NKIDS; k++)
		if (kids[k])
			end_child(k, (int)rnd(NEND));
	look();
	for (int i = 0; i < NATT; i++)
		if (st.att[i].p)
			do_dt("main", i);
	for (int i = 0; i < st.nids; i++) {
		errno = 0;
		rec_ret(L("main: IPC_RMID id %d", i),
			ops->ctl(st.ids[i], IPC_RMID, NULL));
	}
	look();
}

static void run_seed(void *arg)
{
	char name[64];

	scen_seed = *(unsigned long *)arg;
	snprintf(name, sizeof(name), "scenario seed %lu", scen_seed);
	diff_run(name, scenario);
}

static unsigned long env_num(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* Empty the scratch directory: a seed's namespace is of no use to the
 * next, and thousands of seeds would fill /dev/shm. */
static void scratch_empty(void)
{
	DIR *d = opendir(test_scratch());
	struct dirent *e;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rmtree_at(dirfd(d), e->d_name);
	closedir(d);
}

TEST_T(scen_random, 120)
{
	unsigned long first = env_num("USHM_SCEN_FIRST", 1);
	unsigned long n = env_num("USHM_SCEN_SEEDS", 100), bad = 0;

	for (unsigned long seed = first; seed < first + n; seed++) {
		int status = test_in_child(run_seed, &seed);

		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "# seed %lu: differs (see above)\n",
				seed);
			bad++;
		}
		scratch_empty();
	}
	fprintf(stderr, "# scenarios: %lu of %lu seeds matched (%lu..%lu)\n",
		n - bad, n, first, first + n - 1);
	CHECK_EQ(bad, 0);
}
