/*
 * torture.c - `ushm-crash torture`: workers (worker.c) doing random ushm
 * operations on one namespace are killed with SIGKILL at random instants
 * (a random delay of microseconds to milliseconds, then kill -9), or die
 * at the crash point they were armed with (half of them), and are
 * respawned, until N kills (or S seconds).
 *
 * Every ROUND kills, and at the end, the supervisor stops the workers
 * (each finishes its operation and waits, holding its attachments), then:
 *   - ushm_check() must report 0 violations (the lock recovers first);
 *   - every segment's nattch must equal the pieces the living workers
 *     hold, and the set of segments must be the ones the workers made
 *     and did not remove (allowing for operations a death left unknown,
 *     and for shm_rmid_forced, on in odd rounds, destroying segments
 *     nobody holds);
 * then kills every worker, removes every segment, and requires an empty
 * namespace: no segment, no page charged, no file, no violation.
 *
 * Last line but one: "kills: N, recoveries: R, violations: V", where R
 * is hdr->recoveries (lock owners found dead and repaired) and V counts
 * checker violations, state mismatches, workers that died otherwise than
 * by SIGKILL or saw results no kernel gives, and deadlocks.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "torture.h"

#define ROUND_KILLS	100
#define STOP_SECONDS	20
#define WATCHDOG	120

static struct tshared *sh;
static int nworkers = 4;
static uint64_t rng, seed;
static uint64_t spawned;
static long kills, plain_kills, point_kills, violations;
static uint64_t ops;

/* Outcomes a death left unknown, this round. */
static int uncertain_creates;
static int uncertain_rmid[T_MAXIDS], nuncertain_rmid;

static void on_watchdog(int sig)
{
	static const char msg[] = "# deadlock: the supervisor's own ushm "
				  "call did not return\n";

	(void)sig;
	for (int i = 0; i < T_MAXW; i++)
		if (sh->w[i].pid > 0)
			kill(-sh->w[i].pid, SIGKILL);
	write(1, msg, sizeof(msg) - 1);
	_exit(1);
}

static void spawn(int i)
{
	struct wslot *w = &sh->w[i];
	uint64_t s = seed + ++spawned * 0x9e3779b97f4a7c15ULL;
	int armed = rng_below(&rng, 2);
	pid_t pid;

	memset(w, 0, sizeof(*w));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		die_with_parent();
		signal(SIGALRM, SIG_DFL);
		alarm(0);
		worker_main(sh, i, s, armed);
	}
	setpgid(pid, pid);	/* before any kill(-pid), whoever runs first */
	w->pid = pid;
}

/* Worker I is a zombie or dead with STATUS; BY_US if we sent the kill. */
static void on_death(int i, int status, bool by_us)
{
	struct wslot *w = &sh->w[i];

	ops += w->ops;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		kills++;
		if (by_us) {
			plain_kills++;
		} else {
			point_kills++;
			for (uint32_t p = 0; p < crash_names->n &&
					     p < CRASH_NAMES_MAX; p++)
				if (!strcmp(w->last, crash_names->name[p])) {
					crash_names->kills[p]++;
					break;
				}
		}
	} else {
		violations++;
		printf("# worker %d (pid %d) ended with status %#x during %s, "
		       "last crash point %s\n", i, (int)w->pid, status, w->op,
		       w->last[0] ? w->last : "-");
	}
	if (w->bad) {
		violations += w->bad;
		printf("# worker %d: %d bad results; first: %s\n", i, w->bad,
		       w->badmsg);
	}
	if (w->pend == PEND_CREATE)
		uncertain_creates++;
	else if (w->pend == PEND_RMID && nuncertain_rmid < T_MAXIDS)
		uncertain_rmid[nuncertain_rmid++] = w->pend_id;
	memset(w, 0, sizeof(*w));
}

static int worker_of(pid_t pid)
{
	for (int i = 0; i < nworkers; i++)
		if (sh->w[i].pid == pid)
			return i;
	return -1;
}

/* Collect every process that has ended: a worker's group is killed
 * while its zombie still holds the group id (its children die with it),
 * then it is reaped and maybe replaced. */
static void reap_some(bool respawn)
{
	for (;;) {
		siginfo_t si;
		int st, i;

		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		i = worker_of(si.si_pid);
		if (i >= 0)
			kill(-si.si_pid, SIGKILL);
		while (waitpid(si.si_pid, &st, 0) < 0 && errno == EINTR)
			;
		if (i >= 0) {
			on_death(i, st, false);
			if (respawn)
				spawn(i);
		}
	}
}

/* Sleep a random time between ~20 us and ~4 ms (log-uniform). */
static void random_delay(void)
{
	double us = 20.0 * (double)(1u << rng_below(&rng, 8));
	struct timespec ts;

	us *= 1.0 + (double)rng_below(&rng, 1000) / 1000.0;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(us * 1000.0);
	nanosleep(&ts, NULL);
}

/* Our children now: the living workers, or also orphans of killed ones
 * that are not gone yet (we are their subreaper). */
static bool only_workers_left(void)
{
	char path[64], buf[4096];
	FILE *f;
	bool ok = true;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	f = fopen(path, "r");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (worker_of((pid_t)atoi(t)) < 0)
			ok = false;
	return ok;
}

static void pause_ms(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

/* For a deadlock report: where a stuck process waits. */
static void print_file(const char *what, const char *path)
{
	char buf[2048];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		printf("#   %s: %s\n", what, l);
}

static void print_stuck(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	print_file("wchan", path);
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	print_file("stack", path);
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	print_file("syscall", path);
	printf("#   (registry lock at %p, init_lock at %p)\n",
	       (void *)&ushm__p.ns->hdr->lock, (void *)&ushm__p.init_lock);
}

/* The thread holding the registry lock, as it said itself (lock_tid). */
static void print_lock_owner(void)
{
	int tid = __atomic_load_n(&ushm__p.ns->hdr->lock_tid,
				  __ATOMIC_RELAXED);
	char path[64];

	printf("# registry lock held by thread %d\n", tid);
	if (tid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (access(path, F_OK) != 0) {
		printf("#   owner %d does not exist\n", tid);
		return;
	}
	print_file("owner", path);
	print_stuck((pid_t)tid);
}

/* Stop the workers; false if one did not stop in time (a deadlock). */
static bool stop_workers(void)
{
	double deadline = now_s() + STOP_SECONDS;
	bool all;

	__atomic_store_n(&sh->mute, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	do {
		reap_some(false);
		all = true;
		for (int i = 0; i < nworkers; i++)
			if (sh->w[i].pid > 0 &&
			    !__atomic_load_n(&sh->w[i].stopped,
					     __ATOMIC_ACQUIRE))
				all = false;
		if (all && only_workers_left())
			return true;
		pause_ms();
	} while (now_s() < deadline);
	for (int i = 0; i < nworkers; i++)
		if (sh->w[i].pid > 0 && !sh->w[i].stopped) {
			printf("# deadlock: worker %d (pid %d) did not stop "
			       "within %d s, in %s, last crash point %s\n", i,
			       (int)sh->w[i].pid, STOP_SECONDS, sh->w[i].op,
			       sh->w[i].last[0] ? sh->w[i].last : "-");
			print_stuck(sh->w[i].pid);
		}
	print_lock_owner();
	if (all)
		printf("# deadlock: a killed worker's child did not end\n");
	violations++;
	return false;
}

static void kill_all(void)
{
	int st;

	for (int i = 0; i < nworkers; i++)
		if (sh->w[i].pid > 0)
			kill(-sh->w[i].pid, SIGKILL);
	for (int i = 0; i < nworkers; i++) {
		if (sh->w[i].pid <= 0)
			continue;
		while (waitpid(sh->w[i].pid, &st, 0) < 0 && errno == EINTR)
			;
		ops += sh->w[i].ops;
		memset(&sh->w[i], 0, sizeof(sh->w[i]));
	}
	/* The orphans of the groups just killed. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

static bool in_list(const int *l, uint32_t n, int v)
{
	for (uint32_t i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

__attribute__((format(printf, 1, 2)))
static void mismatch(const char *fmt, ...)
{
	va_list ap;

	violations++;
	printf("# mismatch: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* The namespace against what the stopped workers hold (see top). */
static void compare_model(void)
{
	static int known[T_MAXIDS], removed[T_MAXIDS], seen[T_MAXIDS];
	uint32_t nk = sh->nknown < T_MAXIDS ? sh->nknown : T_MAXIDS;
	uint32_t nr = sh->nremoved < T_MAXIDS ? sh->nremoved : T_MAXIDS;
	int budget = uncertain_creates, nseen = 0, max;
	struct shm_info si;

	for (uint32_t i = 0; i < nk; i++)
		known[i] = sh->known[i].idp1 - 1;
	for (uint32_t i = 0; i < nr; i++)
		removed[i] = sh->removed_p1[i] - 1;
	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	for (int idx = 0; idx <= max; idx++) {
		struct shmid_ds ds;
		int id = ushm_shmctl(idx, SHM_STAT_ANY, &ds);
		unsigned want = 0;
		bool rm, urm, dest;

		if (id < 0)
			continue;
		if (nseen < T_MAXIDS)
			seen[nseen++] = id;
		for (int i = 0; i < nworkers; i++)
			for (int j = 0; j < sh->w[i].nhold; j++)
				if (sh->w[i].hold[j].id == id)
					want += hold_pieces(sh->w[i].hold[j].mask);
		if (!in_list(known, nk, id)) {
			if (budget-- <= 0)
				mismatch("segment %d (key %#x) was made by "
					 "nobody", id,
					 (unsigned)ds.shm_perm.__key);
		}
		if (ds.shm_nattch != want)
			mismatch("segment %d: nattch %lu, the living hold %u",
				 id, (unsigned long)ds.shm_nattch, want);
		rm = in_list(removed, nr, id);
		urm = in_list(uncertain_rmid, (uint32_t)nuncertain_rmid, id);
		dest = ds.shm_perm.mode & SHM_DEST;
		if (rm && !dest)
			mismatch("segment %d was removed but is not marked "
				 "for destruction", id);
		if (dest && want == 0)
			mismatch("segment %d is marked for destruction, nobody "
				 "holds it, yet it exists", id);
		if (dest && !rm && !urm)
			mismatch("segment %d is marked for destruction, but "
				 "nobody removed it", id);
	}
	for (uint32_t i = 0; i < nk; i++) {
		int id = known[i];
		unsigned want = 0;

		if (id < 0 || in_list(seen, (uint32_t)nseen, id))
			continue;
		for (int w = 0; w < nworkers; w++)
			for (int j = 0; j < sh->w[w].nhold; j++)
				if (sh->w[w].hold[j].id == id)
					want++;
		if (want)
			mismatch("segment %d is gone, but living workers hold "
				 "it", id);
		else if (!in_list(removed, nr, id) &&
			 !in_list(uncertain_rmid, (uint32_t)nuncertain_rmid,
				  id) && !sh->rmid_forced)
			mismatch("segment %d is gone, but nobody removed it",
				 id);
		known[i] = -1;		/* report an id once */
		for (uint32_t j = i + 1; j < nk; j++)
			if (known[j] == id)
				known[j] = -1;
	}
}

static void round_start(int round)
{
	char v[4];

	memset(sh, 0, sizeof(*sh));
	uncertain_creates = 0;
	nuncertain_rmid = 0;
	sh->rmid_forced = round & 1;
	snprintf(v, sizeof(v), "%d", sh->rmid_forced);
	if (ushm_limit_set("shm_rmid_forced", v) < 0)
		die("ushm_limit_set: %s", strerror(errno));
	for (int i = 0; i < nworkers; i++)
		spawn(i);
}

static void round_end(int round)
{
	char tag[32];

	alarm(WATCHDOG);
	if (stop_workers()) {
		snprintf(tag, sizeof(tag), "round %d", round);
		violations += check_print(tag);
		compare_model();
		violations += check_print(tag);
	}
	kill_all();
	snprintf(tag, sizeof(tag), "round %d cleanup", round);
	violations += drain_and_verify(tag);
	alarm(0);
}

int cmd_torture(int argc, char **argv)
{
	long target = -1;
	double seconds = -1, t0 = now_s();
	char *dir;
	int round = 0;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seconds") && a + 1 < argc)
			seconds = atof(argv[++a]);
		else if (!strcmp(argv[a], "--workers") && a + 1 < argc)
			nworkers = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (argv[a][0] != '-')
			target = atol(argv[a]);
		else
			die("unknown option %s", argv[a]);
	}
	if ((target < 0 && seconds < 0) || nworkers < 1 || nworkers > T_MAXW)
		die("usage: ushm-crash torture N | --seconds S [--workers W] "
		    "[--seed X]");
	rng = seed | 1;
	printf("# torture: %d workers, seed %#llx\n", nworkers,
	       (unsigned long long)seed);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGALRM, on_watchdog);
	sh = shared_alloc(sizeof(*sh));
	crash_names_init();
	dir = ns_make("ushm-torture");
	if (ushm_namespace_set(dir) < 0)
		die("namespace %s: %s (%s)", dir, strerror(errno),
		    ushm_strerror());

	while ((target < 0 || kills < target) &&
	       (seconds < 0 || now_s() - t0 < seconds)) {
		long until = kills + ROUND_KILLS;

		round_start(++round);
		while (kills < until && (target < 0 || kills < target) &&
		       (seconds < 0 || now_s() - t0 < seconds)) {
			int i;

			reap_some(true);
			random_delay();
			reap_some(true);
			if (kills >= until || (target >= 0 && kills >= target))
				break;
			i = (int)rng_below(&rng, (uint32_t)nworkers);
			if (sh->w[i].pid <= 0) {
				spawn(i);
				continue;
			}
			{
				pid_t pid = sh->w[i].pid;
				int st;

				kill(-pid, SIGKILL);
				while (waitpid(pid, &st, 0) < 0 &&
				       errno == EINTR)
					;
				on_death(i, st, true);
				spawn(i);
			}
		}
		round_end(round);
	}

	printf("# %d rounds in %.1f s, %llu operations finished; %ld kills by "
	       "the supervisor, %ld at crash points:", round, now_s() - t0,
	       (unsigned long long)ops, plain_kills, point_kills);
	for (uint32_t p = 0; p < crash_names->n && p < CRASH_NAMES_MAX; p++)
		if (crash_names->kills[p])
			printf(" %s=%ld", crash_names->name[p],
			       crash_names->kills[p]);
	printf("\n");
	printf("kills: %ld, recoveries: %llu, violations: %ld\n", kills,
	       (unsigned long long)ushm__p.ns->hdr->recoveries, violations);
	printf("%d passed, %d failed\n", violations ? 0 : 1, violations ? 1 : 0);
	rm_tree(dir);
	free(dir);
	return violations ? 1 : 0;
}
