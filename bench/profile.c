/*
 * profile.c - one side, one case, a fixed number of iterations, in this
 * process: no workers, no warm-up, no alternation.  For pointing a
 * profiler at one side (strace -c -f, valgrind --tool=callgrind, perf):
 *
 *   ushm-bench --profile shmat_shmdt_4k --side ushm --iters 100000
 *
 * prints the time per op; prepare and teardown are outside the loop but
 * inside the process, so divide a profiler's counts by ITERS knowing that
 * a few setup calls are in them (run with 0 iterations to see those).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

int bench_profile(const struct bench_case *c, const struct side *s,
		  long iters)
{
	char dir[256] = "";
	int changed, r = -1;
	double t = 0;

	if (s == &bench_side_ushm && bench_tmpdir_make(dir, sizeof(dir)) < 0) {
		bench_fail("cannot make a namespace directory");
		goto out;
	}
	if (s->setup(dir) < 0 ||
	    bench_population(s, c->population, &changed) < 0)
		goto out_population;
	if (c->prepare(s) == 0 && (iters == 0 || (t = c->run(iters)) >= 0))
		r = 0;
	c->teardown();
out_population:
	bench_population(s, 0, &changed);
out:
	if (*dir)
		bench_tmpdir_remove(dir);
	if (r < 0) {
		fprintf(stderr, "ushm-bench: %s\n", bench_error());
		return 1;
	}
	printf("%s %s: %ld iterations, %.2f ns per op\n", c->name, s->name,
	       iters, iters ? t * 1e9 / ((double)iters * c->ops_per_iter)
			    : 0.0);
	return 0;
}
