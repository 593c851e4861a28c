/*
 * stats.c - the clock, medians, and how many iterations a run needs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* ceil() without libm, which the bench rule does not link. */
static long ceil_long(double x)
{
	long l = (long)x;

	return l + ((double)l < x);
}

/* CLOCK_MONOTONIC: never stepped by NTP or by hand, unlike REALTIME. */
double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(const double *v, int n)
{
	double s[BENCH_MAX_RUNS];

	if (n <= 0 || n > BENCH_MAX_RUNS)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void bench_minmax(const double *v, int n, double *lo, double *hi)
{
	*lo = *hi = n > 0 ? v[0] : NAN;
	for (int i = 1; i < n; i++) {
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

/*
 * Warm up and calibrate at once: grow the iteration count until one call
 * of RUN takes WARM_S (caches, page tables, lazily built library state
 * are warm by then), and return the count that makes a run last RUN_S,
 * with a 10% margin so that runs are not shorter than asked.  -1 if RUN
 * failed.
 */
long bench_calibrate(double (*run)(long), double warm_s, double run_s)
{
	long iters = 1;
	double t, grow;

	for (;;) {
		t = run(iters);
		if (t < 0)
			return -1;
		if (t >= warm_s || iters >= (1L << 40))
			break;
		/* Aim past WARM_S so that this ends in a few steps, but
		 * never jump more than 100x on one noisy short sample. */
		grow = t > 0 ? warm_s / t * 1.5 : 100;
		if (grow < 2)
			grow = 2;
		if (grow > 100)
			grow = 100;
		iters = ceil_long((double)iters * grow);
	}
	iters = ceil_long((double)iters * run_s / t * 1.1);
	return iters > 0 ? iters : 1;
}
