/*
 * worker.c - one process per side, and the pipe protocol to it.
 *
 * A worker is forked before either side is touched, sets its side up
 * (private IPC namespace, or the ushm namespace directory) and then
 * serves commands one at a time:
 *   BEGIN case   population to size, prepare, warm up and calibrate;
 *                reply with the iterations per run;
 *   RUN          one timed run (after a short untimed lead-in, because
 *                the other side ran in between and cooled the caches);
 *   END          teardown;
 *   QUIT         exit (the kernel's namespace and every segment in it go
 *                with the worker and its children).
 * Each side thus runs in the same kind of process, and a side's state (a
 * 30,000-segment population) survives across its runs while the other
 * side runs.  Workers die with the coordinator (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static char errbuf[512];

int bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -1;
}

const char *bench_error(void)
{
	return errbuf[0] ? errbuf : "unknown failure";
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *b = buf;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR && !bench_stop)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0, or -1 at EOF, on error, or when a signal asked us to stop. */
static int read_full(int fd, void *buf, size_t len)
{
	char *b = buf;

	while (len) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR && !bench_stop)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- the worker side ---- */

static const struct bench_case *current;
static long run_iters;

static void serve(const struct side *s, const struct bench_cmd *c,
		  struct bench_reply *r)
{
	const struct bench_case *bc;
	double t0, t, mult;

	switch (c->op) {
	case CMD_BEGIN:
		bc = &bench_cases[c->icase];
		t0 = bench_now();
		if (bench_population(s, bc->population, &r->pop_changed) < 0)
			return;
		r->pop_secs = bench_now() - t0;
		current = bc;
		if (bc->prepare(s) < 0)
			return;
		mult = bc->run_mult > 1 ? bc->run_mult : 1;
		r->iters = bench_calibrate(bc->run, c->warm_s * mult,
					   c->run_s * mult);
		if (r->iters < 0)
			return;
		run_iters = r->iters;
		r->ok = 1;
		return;
	case CMD_RUN:
		if (!current)
			return (void)bench_fail("RUN without BEGIN");
		if (run_iters >= 20 && current->run(run_iters / 20) < 0)
			return;
		t = current->run(run_iters);
		if (t < 0)
			return;
		r->iters = run_iters;
		r->ns_per_op = t * 1e9 /
			       ((double)run_iters * current->ops_per_iter);
		r->ok = 1;
		return;
	case CMD_END:
		if (current)
			current->teardown();
		current = NULL;
		r->ok = 1;
		return;
	}
	bench_fail("unknown command %d", c->op);
}

static void worker_main(const struct side *s, const char *ushm_dir,
			int cmd_fd, int reply_fd, pid_t parent)
{
	struct bench_reply r;
	struct bench_cmd c;

	/* The coordinator's handlers are not ours: die of the signal. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	memset(&r, 0, sizeof(r));
	r.ok = s->setup(ushm_dir) == 0;
	if (!r.ok)
		snprintf(r.err, sizeof(r.err), "%s", bench_error());
	if (write_full(reply_fd, &r, sizeof(r)) < 0 || !r.ok)
		_exit(1);
	while (read_full(cmd_fd, &c, sizeof(c)) == 0 && c.op != CMD_QUIT) {
		memset(&r, 0, sizeof(r));
		errbuf[0] = '\0';
		serve(s, &c, &r);
		if (!r.ok) {
			snprintf(r.err, sizeof(r.err), "%s", bench_error());
			/* Leave no children behind a failed prepare. */
			if (c.op == CMD_BEGIN && current)
				current->teardown();
			current = NULL;
		}
		if (write_full(reply_fd, &r, sizeof(r)) < 0)
			break;
	}
	if (current)
		current->teardown();
	bench_population(s, 0, &r.pop_changed);
	_exit(0);
}

/* ---- the coordinator side ---- */

int bench_worker_start(struct bench_worker *w, const struct side *s,
		       const char *ushm_dir)
{
	struct bench_reply r;
	int cmd[2], reply[2];
	pid_t me = getpid();

	w->side = s;
	w->pid = -1;
	w->cmd_fd = w->reply_fd = -1;
	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(reply, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return -1;
	}
	fflush(NULL);	/* nothing buffered may be written twice */
	w->pid = fork();
	if (w->pid == 0) {
		close(cmd[1]);
		close(reply[0]);
		worker_main(s, ushm_dir, cmd[0], reply[1], me);
	}
	close(cmd[0]);
	close(reply[1]);
	w->cmd_fd = cmd[1];
	w->reply_fd = reply[0];
	if (w->pid < 0)
		return -1;
	if (read_full(w->reply_fd, &r, sizeof(r)) < 0) {
		fprintf(stderr, "ushm-bench: %s worker died during setup\n",
			s->name);
		return -1;
	}
	if (!r.ok) {
		fprintf(stderr, "ushm-bench: %s\n", r.err);
		return -1;
	}
	return 0;
}

int bench_worker_call(struct bench_worker *w, const struct bench_cmd *c,
		      struct bench_reply *r)
{
	if (write_full(w->cmd_fd, c, sizeof(*c)) < 0 ||
	    read_full(w->reply_fd, r, sizeof(*r)) < 0) {
		if (!bench_stop)
			fprintf(stderr, "ushm-bench: the %s worker died\n",
				w->side->name);
		return -1;
	}
	if (!r->ok) {
		fprintf(stderr, "ushm-bench: %s: %s\n", w->side->name, r->err);
		return -1;
	}
	return 0;
}

/* FORCE: kill rather than ask; either way the worker is reaped. */
void bench_worker_stop(struct bench_worker *w, int force)
{
	struct bench_cmd c = { .op = CMD_QUIT };

	if (w->pid <= 0)
		return;
	if (force || write_full(w->cmd_fd, &c, sizeof(c)) < 0)
		kill(w->pid, SIGKILL);
	close(w->cmd_fd);
	close(w->reply_fd);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
}
