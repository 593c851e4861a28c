/*
 * runner.c - runs the tests declared with TEST() (see test.h).
 *
 *   ushm-tests              run every test
 *   ushm-tests PATTERN...   run the tests whose names match a glob
 *   ushm-tests -l           list the tests
 *   ushm-tests -n NAME      run one test in this process, for gdb
 *
 * USHM_TEST_TIMEOUT=S replaces every test's time limit (0: none).
 *
 * Each test runs in a forked child, in its own process group, with an
 * alarm of its time limit.  After it ends the runner kills whatever is
 * left of its process group and removes its scratch directory, so a test
 * leaves nothing behind even when it fails or hangs.  The last line is
 * "N passed, N failed".
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ushm.h"
#include "rmtree.h"

static struct test_case *tests;
static int ntests;
static char scratch[256];	/* this test's scratch directory */
static int scratch_n;

void test_register(struct test_case *tc)
{
	/* Keep declaration order: constructors run in file order. */
	struct test_case **p = &tests;

	while (*p)
		p = &(*p)->next;
	*p = tc;
	ntests++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(1);
}

const char *test_scratch(void)
{
	return scratch;
}

const char *test_namespace(int shared)
{
	static char path[300];

	/* A name not taken yet: a forked child of a test counts from
	 * where its parent's count was when it forked. */
	for (;;) {
		snprintf(path, sizeof(path), "%s/ns%d", scratch, scratch_n++);
		if (mkdir(path, 0700) == 0)
			break;
		if (errno != EEXIST)
			test_fail(__FILE__, __LINE__, "mkdir %s: %s", path,
				  strerror(errno));
	}
	if (shared && chmod(path, 01777) != 0)
		test_fail(__FILE__, __LINE__, "chmod %s: %s", path,
			  strerror(errno));
	if (ushm_namespace_set(path) != 0)
		test_fail(__FILE__, __LINE__, "ushm_namespace_set(%s): %s (%s)",
			  path, strerror(errno), ushm_strerror());
	return path;
}

void test_kernel_ns(void)
{
	if (unshare(CLONE_NEWIPC) != 0)
		test_fail(__FILE__, __LINE__, "unshare(CLONE_NEWIPC): %s",
			  strerror(errno));
}

int test_in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		fn(arg);
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			test_fail(__FILE__, __LINE__, "waitpid: %s",
				  strerror(errno));
	return status;
}

void test_become_nobody(void)
{
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
	    setuid(65534) != 0)
		test_fail(__FILE__, __LINE__, "dropping to nobody: %s",
			  strerror(errno));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The test's limit, or USHM_TEST_TIMEOUT's (seconds; 0: none), for long
 * runs such as `make scenarios`. */
static unsigned time_limit(const struct test_case *tc)
{
	const char *v = getenv("USHM_TEST_TIMEOUT");

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : (unsigned)tc->timeout;
}

static int run_one(struct test_case *tc, int n)
{
	double t0 = now();
	int status;
	pid_t pid;

	snprintf(scratch, sizeof(scratch), "/dev/shm/ushm-test.%d.%d",
		 (int)getpid(), n);
	if (mkdir(scratch, 0755) != 0) {
		printf("not ok %d - %s: scratch %s: %s\n", n, tc->name,
		       scratch, strerror(errno));
		return 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGALRM, SIG_DFL);
		alarm(time_limit(tc));
		tc->fn();
		fflush(NULL);
		_exit(0);
	}
	setpgid(pid, pid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);	/* whatever the test left running */
	while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
		;
	rmtree_at(AT_FDCWD, scratch);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s (%.2fs)\n", n, tc->name, now() - t0);
		return 1;
	}
	if (WIFSIGNALED(status))
		printf("not ok %d - %s: killed by signal %d%s\n", n, tc->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
	else
		printf("not ok %d - %s: exit %d\n", n, tc->name,
		       WEXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, n = 0;
	struct test_case *tc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "-l")) {
		for (tc = tests; tc; tc = tc->next)
			printf("%s\n", tc->name);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		for (tc = tests; tc; tc = tc->next)
			if (!strcmp(tc->name, argv[2])) {
				snprintf(scratch, sizeof(scratch),
					 "/dev/shm/ushm-test.%d.0",
					 (int)getpid());
				mkdir(scratch, 0755);
				tc->fn();
				rmtree_at(AT_FDCWD, scratch);
				printf("ok - %s\n", tc->name);
				return 0;
			}
		fprintf(stderr, "no test named %s\n", argv[2]);
		return 2;
	}
	for (tc = tests; tc; tc = tc->next) {
		int match = argc < 2;

		for (int i = 1; i < argc && !match; i++)
			match = fnmatch(argv[i], tc->name, 0) == 0;
		if (!match)
			continue;
		if (run_one(tc, ++n))
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
