/*
 * ushm-bench - the kernel's System V shared memory and ushm, side by side.
 *
 *   ushm-bench                 every case: warm-up, then 5 runs of at
 *                              least 0.2 s per side, alternating (11
 *                              for the cases with a 5% target)
 *   ushm-bench --quick         3 short runs per side, for a smoke run
 *   ushm-bench --case NAME     only that case (after the empty loop)
 *   ushm-bench --runs N        N runs per side
 *   ushm-bench --list          the cases, their targets
 *   ushm-bench --profile NAME --side kernel|ushm --iters N
 *                              one side alone, for a profiler (profile.c)
 *   ushm-bench --syscalls      what single system calls cost (syscost.c)
 *
 * Method (STYLE.md 8): the same loop on both sides, monotonic clock,
 * warm-up, enough iterations per run for the run time, median of runs,
 * an empty-loop baseline first.  The kernel side runs in a private IPC
 * namespace, ushm in a fresh namespace directory under /dev/shm that is
 * removed at the end; both are worker processes (worker.c) that this
 * process drives and reaps, so nothing is left behind, even on SIGINT.
 *
 * Needs root (or user namespaces) for the private IPC namespace.  It is
 * never part of `make test`: timings are not assertions.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

volatile sig_atomic_t bench_stop;

static void on_signal(int sig)
{
	bench_stop = sig;
}

/* No SA_RESTART: a blocked read of a worker's reply returns EINTR, and
 * the coordinator goes to its cleanup. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a dead worker: EPIPE, not death */
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ushm-bench [--quick] [--runs N] [--case NAME] "
		   "[--list]\n"
		   "       ushm-bench --profile NAME [--side kernel|ushm] "
		   "[--iters N]\n"
		   "       ushm-bench --syscalls\n");
}

static void list_cases(void)
{
	for (int i = 0; i < bench_ncases; i++) {
		const struct bench_case *c = &bench_cases[i];

		printf("%-24s %s", c->name, c->what);
		if (c->target > 0)
			printf(" (target: ratio <= %.2f)", c->target);
		printf("\n");
	}
}

/* BEGIN on both sides, RUNS alternating pairs, END on both. */
static int run_case(struct bench_worker w[2], int icase, int runs,
		    double warm_s, double run_s, struct case_result *res)
{
	struct bench_cmd c = { .icase = icase, .warm_s = warm_s,
			       .run_s = run_s };
	struct bench_reply r[2];
	int err = 0;

	memset(res, 0, sizeof(*res));
	res->c = &bench_cases[icase];
	if (res->c->noisy)
		runs = runs * 2 + 1 < BENCH_MAX_RUNS ? runs * 2 + 1
						     : BENCH_MAX_RUNS;
	c.op = CMD_BEGIN;
	for (int s = 0; s < 2; s++)
		if (bench_worker_call(&w[s], &c, &r[s]) < 0)
			return -1;
	res->k_iters = r[0].iters;
	res->u_iters = r[1].iters;
	res->k_pop_secs = r[0].pop_secs;
	res->u_pop_secs = r[1].pop_secs;
	res->pop_changed = r[1].pop_changed;
	c.op = CMD_RUN;
	for (int i = 0; i < runs && !err; i++) {
		for (int s = 0; s < 2 && !err; s++)
			err = bench_worker_call(&w[s], &c, &r[s]);
		if (err)
			break;
		res->k_ns[i] = r[0].ns_per_op;
		res->u_ns[i] = r[1].ns_per_op;
		res->nruns++;
	}
	c.op = CMD_END;
	for (int s = 0; s < 2; s++)
		if (bench_worker_call(&w[s], &c, &r[s]) < 0)
			err = -1;
	return err;
}

int main(int argc, char **argv)
{
	static struct case_result res[64];
	struct bench_worker w[2] = { { .pid = -1 }, { .pid = -1 } };
	const struct bench_case *only = NULL, *profile = NULL;
	const struct side *side = &bench_side_ushm;
	long iters = 10000;
	double warm_s = 0.1, run_s = 0.2;
	int runs = 5, quick = 0, status = 0, n = 0;
	char dir[256] = "";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = 1;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
			only = bench_case_find(argv[++i]);
			if (!only) {
				fprintf(stderr, "ushm-bench: no case %s; "
					"these exist:\n", argv[i]);
				list_cases();
				return 2;
			}
		} else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
			profile = bench_case_find(argv[++i]);
			if (!profile) {
				fprintf(stderr, "ushm-bench: no case %s\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--side") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "kernel") == 0) {
				side = &bench_side_kernel;
			} else if (strcmp(argv[i], "ushm") == 0) {
				side = &bench_side_ushm;
			} else {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
			iters = atol(argv[++i]);
		} else if (strcmp(argv[i], "--syscalls") == 0) {
			bench_print_machine(argc, argv);
			return bench_syscalls();
		} else if (strcmp(argv[i], "--list") == 0) {
			list_cases();
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (profile)
		return bench_profile(profile, side, iters);
	if (quick) {
		warm_s = 0.01;
		run_s = 0.02;
		if (runs == 5)
			runs = 3;
	}
	if (runs < 1 || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "ushm-bench: --runs must be 1..%d\n",
			BENCH_MAX_RUNS);
		return 2;
	}

	printf("ushm-bench: kernel System V shared memory vs ushm, same loops\n");
	bench_print_machine(argc, argv);
	printf("# method:  CLOCK_MONOTONIC; per case and side a warm-up of "
	       ">= %.2f s, then %d runs of >= %.2f s, alternating kernel, "
	       "ushm (%d for first touch and memcpy); medians\n", warm_s, runs,
	       run_s, runs * 2 + 1 < BENCH_MAX_RUNS ? runs * 2 + 1
						    : BENCH_MAX_RUNS);
	printf("# ratio:   ushm time per op / kernel time per op, median over "
	       "the pairs of runs (< 1: ushm faster)\n");

	catch_signals();
	if (bench_tmpdir_make(dir, sizeof(dir)) < 0) {
		fprintf(stderr, "ushm-bench: cannot make a namespace directory "
			"(%s): %s\n", dir, strerror(errno));
		return 1;
	}
	printf("# kernel side: a private IPC namespace, shmmni %s\n",
	       BENCH_SHMMNI);
	printf("# ushm side:   namespace %s (fresh, removed at exit), "
	       "shmmni %s\n\n", dir, BENCH_SHMMNI);
	fflush(stdout);

	if (bench_worker_start(&w[0], &bench_side_kernel, dir) < 0 ||
	    bench_worker_start(&w[1], &bench_side_ushm, dir) < 0) {
		status = 1;
		goto out;
	}
	bench_print_table_head();
	for (int i = 0; i < bench_ncases && !bench_stop; i++) {
		/* The empty loop always runs first: it is the baseline. */
		if (only && i != 0 && &bench_cases[i] != only)
			continue;
		if (run_case(w, i, runs, warm_s, run_s, &res[n]) < 0) {
			status = 1;
			break;
		}
		bench_print_row(&res[n++]);
	}
out:
	bench_worker_stop(&w[1], status || bench_stop);
	bench_worker_stop(&w[0], status || bench_stop);
	bench_tmpdir_remove(dir);
	if (bench_stop) {
		fprintf(stderr, "ushm-bench: interrupted; cleaned up\n");
		signal(bench_stop, SIG_DFL);
		raise(bench_stop);
		return 1;
	}
	if (n)
		bench_print_details(res, n);
	return status;
}
