/*
 * points.c - `ushm-crash points`: die at every crash point of every
 * operation (scenarios.c) and show that it cost the others nothing.
 *
 * For each operation:
 *   1. reference "before": V sets up and dies just before the operation;
 *   2. reference "after" (and count): V runs the operation with the hook
 *      armed to count ("*", 0), then dies; the log (log.c) gives the
 *      count and the names of the points in order;
 *   3. for k = 1..count: V runs it armed to die at the k-th point.
 * Each run happens in a runner process R with a namespace of its own.
 * After V's death R locks (which recovers), runs ushm_check() (0
 * violations required), takes a snapshot of what users can observe
 * (snapshot() in util.c: it reaps the dead first, as their exit would
 * have), checks again, kills its helpers and removes everything, which
 * must leave the namespace empty.  The snapshot of a crash run must be
 * the "before" or the "after" one: never half.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "points.h"

#define SNAP_LEN	8192
#define LOG_CAP		256
#define RUN_SECONDS	30

enum mode { M_BEFORE, M_AFTER, M_CRASH, M_WCOUNT };

/* What R hands back to the top process, in shared memory. */
struct run {
	int finished;		/* R got to the end */
	int problems;		/* violations, leftovers, setup failures */
	int g_alive;		/* the fork child lived to be observed */
	long wcount;		/* M_WCOUNT: crash points W passed */
	char dir[128];		/* R's namespace, removed by the top if R died */
	char snap[SNAP_LEN];
	struct crash_log log;	/* must be last: names follow */
};

static struct run *run;		/* shared with R, V and G */
static const char *cur_tag = "setup";

void setup_fail(const char *what)
{
	printf("# %s: setup failed: %s: %s (%s)\n", cur_tag, what,
	       strerror(errno), ushm_strerror());
	fflush(NULL);
	_exit(3);
}

/* ---- the victim V ---- */

static void victim(const struct scenario *sc, struct ctx *c, int ready,
		   int go, enum mode mode, long k)
{
	char b;

	cur_tag = "V";
	die_with_parent();
	close(c->hold_wr);
	if (sc->vsetup)
		sc->vsetup(c);
	write_all(ready, "r", 1);
	if (read_full(go, &b, 1) != 1)
		_exit(5);
	if (mode == M_BEFORE)
		die_now();
	run->log.n = 0;
	crash_log_to(&run->log, NULL);
	ushm__crash_arm("*", mode == M_CRASH ? k : 0);
	sc->op(c);
	crash_log_to(NULL, NULL);
	die_now();
}

/* ---- the first victim W of an S_RECOVER scenario ---- */

/* W dies at its WK-th crash point (or, WK 0, counts them into the log). */
static void first_victim(const struct scenario *sc, struct ctx *c, long wk)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		cur_tag = "W";
		die_with_parent();
		close(c->hold_wr);
		if (sc->wsetup)
			sc->wsetup(c);
		run->log.n = 0;
		crash_log_to(&run->log, NULL);
		ushm__crash_arm("*", wk);
		sc->wop(c);
		crash_log_to(NULL, NULL);
		_exit(wk ? 4 : 0);
	}
	roles_add(c->roles, pid, 'W');
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	crash_log_to(NULL, NULL);
	if (wk == 0) {
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			setup_fail("the first victim's counting run failed");
		run->wcount = run->log.n;
		return;
	}
	/* The point may be in a child of W (fork): then W lives on. */
	if ((long)run->log.n != wk)
		setup_fail("the first victim did not reach its point");
}

/* ---- the runner R ---- */

static void read_messages(int fd, struct ctx *c)
{
	char buf[256];
	ssize_t n;

	/* The writers that matter (V, G) have written before V died. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
			int pid;

			if (sscanf(l, "G %d", &pid) == 1) {
				roles_add(c->roles, pid, 'V');
				c->helper[c->nhelpers++] = pid;
				run->g_alive = 1;
			}
		}
	}
}

static void runner(const struct scenario *sc, enum mode mode, long k,
		   int gdead, long wk)
{
	int ready[2], go[2], msg[2], hold[2], st;
	struct roles roles = { 0 };
	struct ctx c;
	pid_t v;
	char *dir;

	cur_tag = "R";
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	memset(&c, 0, sizeof(c));
	dir = ns_make("ushm-crash");
	snprintf(run->dir, sizeof(run->dir), "%s", dir);
	if (ushm_namespace_set(dir) < 0)
		setup_fail("ushm_namespace_set");
	if (pipe(ready) < 0 || pipe(go) < 0 || pipe(msg) < 0 ||
	    pipe(hold) < 0)
		setup_fail("pipe");
	c.hold_fd = hold[0];
	c.hold_wr = hold[1];
	c.msg_fd = msg[1];
	c.roles = &roles;
	c.gdead = gdead;
	roles_add(&roles, getpid(), 'P');
	if (sc->prep)
		sc->prep(&c);
	if (sc->flags & S_RECOVER)
		first_victim(sc, &c, mode == M_WCOUNT ? 0 : wk);
	if (mode == M_WCOUNT)
		goto cleanup;
	fflush(NULL);
	v = fork();
	if (v < 0)
		setup_fail("fork");
	if (v == 0) {
		close(ready[0]);
		close(go[1]);
		close(msg[0]);
		victim(sc, &c, ready[1], go[0], mode, k);
	}
	roles_add(&roles, v, 'V');
	close(ready[1]);
	close(go[0]);
	close(msg[1]);
	{
		char b;

		if (read_full(ready[0], &b, 1) != 1)
			setup_fail("V died in its setup");
	}
	if (sc->mid)
		sc->mid(&c);
	write_all(go[1], "g", 1);
	while (waitpid(v, &st, 0) < 0 && errno == EINTR)
		;
	read_messages(msg[0], &c);

	cur_tag = "R";
	run->problems += check_print("check after the crash");
	run->problems += snapshot(run->snap, sizeof(run->snap), &roles);
	run->problems += check_print("check after reaping");
cleanup:
	for (int i = 0; i < c.nhelpers; i++) {
		kill(c.helper[i], SIGKILL);
		waitpid(c.helper[i], NULL, 0);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;			/* orphans: we are their subreaper */
	run->problems += drain_and_verify("cleanup");
	rm_tree(dir);
	free(dir);
	run->dir[0] = '\0';
	run->finished = 1;
	fflush(NULL);
	_exit(0);
}

/* Run one R to the end, within RUN_SECONDS (a deadlock fails it). */
static void do_run(const struct scenario *sc, enum mode mode, long k,
		   int gdead, long wk)
{
	double deadline = now_s() + RUN_SECONDS;
	pid_t r;
	int st;

	memset(run, 0, sizeof(*run));
	run->log.cap = LOG_CAP;
	fflush(NULL);
	r = fork();
	if (r < 0)
		die("fork: %s", strerror(errno));
	if (r == 0) {
		setpgid(0, 0);
		die_with_parent();
		runner(sc, mode, k, gdead, wk);
	}
	setpgid(r, r);
	for (;;) {
		pid_t w = waitpid(r, &st, WNOHANG);
		struct timespec ts = { 0, 1000000 };

		if (w == r)
			break;
		if (now_s() > deadline) {
			printf("# deadlock: the run did not end in %d s\n",
			       RUN_SECONDS);
			kill(-r, SIGKILL);
			waitpid(r, &st, 0);
			run->problems++;
			break;
		}
		nanosleep(&ts, NULL);
	}
	kill(-r, SIGKILL);	/* anything of the run's group left */
	if (run->dir[0])
		rm_tree(run->dir);
	if (!run->finished)
		run->problems++;
}

/* Print the lines of A that B lacks, prefixed. */
static void diff_lines(const char *tag, const char *a, const char *b)
{
	char line[512];

	for (const char *p = a; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		snprintf(line, sizeof(line), "%.*s\n", (int)n, p);
		if (!strstr(b, line))
			printf("#   %s %s", tag, line);
		p += n + (e != NULL);
	}
}

/* Operation SC (after W's death at its WK-th point, if WK), as LABEL. */
static int points_k(const struct scenario *sc, long wk, const char *label,
		    int *tests)
{
	static char before[SNAP_LEN], after[SNAP_LEN], gdead[SNAP_LEN];
	static char names[LOG_CAP][NAME_LEN];
	long count;
	int fails = 0;

	do_run(sc, M_BEFORE, 0, 0, wk);
	memcpy(before, run->snap, SNAP_LEN);
	if (run->problems) {
		printf("not ok %d - %s: reference run \"before\"\n", ++*tests,
		       label);
		return 1;
	}
	do_run(sc, M_AFTER, 0, 0, wk);
	memcpy(after, run->snap, SNAP_LEN);
	count = run->log.n;
	if (count > LOG_CAP)
		count = LOG_CAP;
	memcpy(names, run->log.names, sizeof(names));
	if (run->problems) {
		printf("not ok %d - %s: reference run \"after\"\n", ++*tests,
		       label);
		return 1;
	}
	gdead[0] = '\0';
	if (sc->flags & S_FORK) {
		do_run(sc, M_AFTER, 0, 1, wk);
		memcpy(gdead, run->snap, SNAP_LEN);
		if (run->problems) {
			printf("not ok %d - %s: reference run \"after, the "
			       "child dead\"\n", ++*tests, label);
			return 1;
		}
	}
	for (long k = 1; k <= count; k++) {
		const char *why = NULL;
		bool half = false;

		do_run(sc, M_CRASH, k, 0, wk);
		if ((long)run->log.n != k ||
		    strcmp(run->log.names[k - 1], names[k - 1]))
			why = "the run did not die at that point";
		else if (run->problems)
			why = "violations";
		else if ((half = run->g_alive && strcmp(run->snap, after)))
			why = "the child lives but the state is not \"after\"";
		else if ((half = strcmp(run->snap, before) &&
				 strcmp(run->snap, after) &&
				 (!gdead[0] || strcmp(run->snap, gdead))))
			why = "the state is neither \"before\" nor \"after\"";
		if (!why) {
			printf("ok %d - %s: point %ld/%ld %s\n", ++*tests,
			       label, k, count, names[k - 1]);
			continue;
		}
		fails++;
		printf("not ok %d - %s: point %ld/%ld %s: %s\n", ++*tests,
		       label, k, count, names[k - 1], why);
		if (half) {
			diff_lines("crash: ", run->snap, before);
			diff_lines("before:", before, run->snap);
			diff_lines("after: ", after, run->snap);
		}
	}
	if (count == 0)
		printf("# %s: no crash point passed\n", label);
	return fails;
}

static int points_one(const struct scenario *sc, int *tests)
{
	static char wnames[LOG_CAP][NAME_LEN];
	char label[192];
	long wcount;
	int fails = 0;

	if (!(sc->flags & S_RECOVER))
		return points_k(sc, 0, sc->name, tests);
	do_run(sc, M_WCOUNT, 0, 0, 0);
	wcount = run->wcount < LOG_CAP ? run->wcount : LOG_CAP;
	memcpy(wnames, run->log.names, sizeof(wnames));
	if (run->problems || !wcount) {
		printf("not ok %d - recover (%s): counting the first victim's "
		       "points\n", ++*tests, sc->name);
		return 1;
	}
	for (long j = 1; j <= wcount; j++) {
		snprintf(label, sizeof(label), "recover after %.31s (%.100s)",
			 wnames[j - 1], sc->name);
		fails += points_k(sc, j, label, tests);
	}
	return fails;
}

int cmd_points(int argc, char **argv)
{
	int tests = 0, fails = 0;
	double t0 = now_s();

	run = shared_alloc(sizeof(*run) + LOG_CAP * NAME_LEN);
	crash_names_init();
	for (size_t i = 0; i < nscenarios; i++) {
		const struct scenario *sc = &scenarios[i];
		int match = argc < 2;

		for (int a = 1; a < argc && !match; a++)
			match = strstr(sc->name, argv[a]) != NULL ||
				(!strcmp(argv[a], "recover") &&
				 (sc->flags & S_RECOVER));
		if (match)
			fails += points_one(sc, &tests);
	}
	printf("# crash points: %d runs in %.1f s\n", tests, now_s() - t0);
	printf("%d passed, %d failed\n", tests - fails, fails);
	return fails ? 1 : 0;
}
