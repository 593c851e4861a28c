/*
 * report.c - the table and what stands behind each of its numbers.
 *
 * Rates come from each side's median time per operation.  The ratio is
 * the median, over the alternating pairs of runs, of ushm's time per op
 * divided by the kernel's (< 1: ushm is faster): pairing runs that ran
 * next to each other cancels slow drifts of the machine.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static double ratio_of(const struct case_result *r, double *lo, double *hi)
{
	double q[BENCH_MAX_RUNS];

	for (int i = 0; i < r->nruns; i++)
		q[i] = r->u_ns[i] / r->k_ns[i];
	bench_minmax(q, r->nruns, lo, hi);
	return bench_median(q, r->nruns);
}

/* Rate for the table: ops/s, or GB/s for a bandwidth case. */
static double rate(const struct bench_case *c, double ns_per_op)
{
	if (c->bytes_per_op > 0)
		return c->bytes_per_op / ns_per_op;	/* bytes/ns = GB/s */
	return 1e9 / ns_per_op;
}

static void print_rate(const struct bench_case *c, double v)
{
	if (c->bytes_per_op > 0)
		printf(" %12.2f", v);
	else
		printf(" %12.0f", v);
}

static const char *fmt_time(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.2f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	return buf;
}

void bench_print_table_head(void)
{
	printf("%-24s %12s %12s  %-7s %7s  %-7s %s\n", "case", "kernel",
	       "ushm", "unit", "ratio", "target", "met");
}

void bench_print_row(const struct case_result *r)
{
	const struct bench_case *c = r->c;
	double lo, hi, q = ratio_of(r, &lo, &hi);
	char target[16] = "-";

	printf("%-24s", c->name);
	print_rate(c, rate(c, bench_median(r->k_ns, r->nruns)));
	print_rate(c, rate(c, bench_median(r->u_ns, r->nruns)));
	if (c->target > 0)
		snprintf(target, sizeof(target), "<=%.2f", c->target);
	printf("  %-7s %7.3f  %-7s %s\n", c->unit, q, target,
	       c->target <= 0 ? "-" : q <= c->target ? "yes" : "NO");
	fflush(stdout);
}

static void print_side(const char *name, const double *ns, int n,
		       long iters)
{
	char a[32], b[32], m[32];
	double lo, hi;

	bench_minmax(ns, n, &lo, &hi);
	printf("    %-6s %s per op [%s .. %s], %ld iterations per run\n", name,
	       fmt_time(m, sizeof(m), bench_median(ns, n)),
	       fmt_time(a, sizeof(a), lo), fmt_time(b, sizeof(b), hi), iters);
}

static const struct case_result *find(const struct case_result *rs, int n,
				      const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(rs[i].c->name, name) == 0)
			return &rs[i];
	return NULL;
}

void bench_print_details(const struct case_result *rs, int n)
{
	const struct case_result *s10, *s30k;
	int met = 0, missed = 0;

	printf("\ndetails: median time per op [fastest .. slowest run]\n");
	for (int i = 0; i < n; i++) {
		const struct case_result *r = &rs[i];
		double lo, hi, q = ratio_of(r, &lo, &hi);

		printf("  %s: %s\n", r->c->name, r->c->what);
		print_side("kernel", r->k_ns, r->nruns, r->k_iters);
		print_side("ushm", r->u_ns, r->nruns, r->u_iters);
		printf("    ratio %.3f [%.3f .. %.3f] over %d pairs\n", q, lo,
		       hi, r->nruns);
		if (r->pop_changed)
			printf("    population: %d keyed segments made or "
			       "removed before it, kernel %.2f s, ushm %.2f s "
			       "(untimed)\n", r->pop_changed, r->k_pop_secs,
			       r->u_pop_secs);
		if (r->c->target > 0) {
			if (q <= r->c->target)
				met++;
			else
				missed++;
		}
	}
	/* Issue 6 asks shmget to stay flat from 10 to 30,000 segments. */
	s10 = find(rs, n, "shmget_existing_10");
	s30k = find(rs, n, "shmget_existing_30000");
	if (s10 && s30k)
		printf("\nshmget from 10 to 30,000 segments: time per op x%.2f "
		       "on ushm, x%.2f on the kernel\n",
		       bench_median(s30k->u_ns, s30k->nruns) /
			       bench_median(s10->u_ns, s10->nruns),
		       bench_median(s30k->k_ns, s30k->nruns) /
			       bench_median(s10->k_ns, s10->nruns));
	if (met + missed)
		printf("\ntargets: %d met, %d missed (of %d cases with a "
		       "target)\n", met, missed, met + missed);
}
