/*
 * bench.h - what the benchmark's files share.
 *
 * One program times the same loops against the kernel's System V calls
 * and against ushm.  Each side lives in its own long-lived worker process
 * (worker.c): the kernel's in a private IPC namespace, ushm's in a fresh
 * namespace directory.  The coordinator (main.c) drives both through
 * pipes, alternating runs, and prints the table (report.c).
 */
#ifndef USHM_BENCH_H
#define USHM_BENCH_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define BENCH_MAX_RUNS	25
#define BENCH_SHMMNI	"32768"

/*
 * One implementation of the four calls.  Both sides are called through
 * these pointers, so both pay the same indirect call and the same loop.
 * setup() runs once in the side's worker before any case.
 */
struct side {
	const char *name;
	int (*setup)(const char *ushm_dir);
	int (*get)(key_t key, size_t size, int shmflg);
	void *(*at)(int shmid, const void *addr, int shmflg);
	int (*dt)(const void *addr);
	int (*ctl)(int shmid, int cmd, struct shmid_ds *buf);
	/* Semaphores (semcases.c); semctl's fourth argument as the caller
	 * declares it, a union semun: here the int or pointer it holds. */
	int (*semget)(key_t key, int nsems, int semflg);
	int (*semop)(int semid, struct sembuf *sops, size_t nsops);
	int (*semctl)(int semid, int semnum, int cmd, ...);
};
extern const struct side bench_side_kernel, bench_side_ushm;

/*
 * A case.  prepare() and teardown() are untimed; run(iters) does ITERS
 * iterations and returns the seconds of its timed part, or < 0 after
 * bench_fail().  An iteration is OPS_PER_ITER operations.
 */
struct bench_case {
	const char *name;
	const char *what;		/* one line, for --list */
	const char *unit;		/* what the rate columns count */
	double ops_per_iter;
	double bytes_per_op;		/* > 0: print GB/s rather than ops/s */
	double target;			/* max ratio ushm/kernel; 0: none */
	double run_mult;		/* longer warm-up and runs: 0 or > 1 */
	int noisy;			/* 2n + 1 runs rather than n */
	int population;			/* keyed segments that must exist */
	int (*prepare)(const struct side *s);
	double (*run)(long iters);
	void (*teardown)(void);
};
extern const struct bench_case bench_cases[];
extern const int bench_ncases;
const struct bench_case *bench_case_find(const char *name);

/* cases.c: make exactly N keyed 4 KiB segments exist; *CHANGED gets how
 * many were created or removed. */
int bench_population(const struct side *s, int n, int *changed);

/* cases.c: read exactly LEN bytes from a helper child, giving up after
 * 10 s of silence (a child that died early cannot hang the worker). */
int bench_read_timeout(int fd, void *buf, size_t len);

/* semcases.c: the semaphore cases' prepare/run/teardown. */
int bench_sem_prepare_1(const struct side *s);
int bench_sem_prepare_pingpong(const struct side *s);
int bench_sem_prepare_2sets(const struct side *s);
void bench_sem_teardown(void);
double bench_sem_run_op(long iters);
double bench_sem_run_undo(long iters);
double bench_sem_run_getval(long iters);
double bench_sem_run_pingpong(long iters);
double bench_sem_run_2sets(long iters);

/* stats.c */
double bench_now(void);
double bench_median(const double *v, int n);
void bench_minmax(const double *v, int n, double *lo, double *hi);
long bench_calibrate(double (*run)(long), double warm_s, double run_s);

/* worker.c: the side processes and the protocol to them. */
enum { CMD_BEGIN, CMD_RUN, CMD_END, CMD_QUIT };

struct bench_cmd {
	int op;
	int icase;			/* index into bench_cases */
	long iters;			/* CMD_RUN */
	double warm_s, run_s;		/* CMD_BEGIN */
};

struct bench_reply {
	int ok;
	long iters;			/* CMD_BEGIN: iterations per run */
	double ns_per_op;		/* CMD_RUN */
	double pop_secs;		/* CMD_BEGIN: population change */
	int pop_changed;
	char err[512];
};

struct bench_worker {
	const struct side *side;
	pid_t pid;
	int cmd_fd, reply_fd;
};

int bench_worker_start(struct bench_worker *w, const struct side *s,
		       const char *ushm_dir);
int bench_worker_call(struct bench_worker *w, const struct bench_cmd *c,
		      struct bench_reply *r);
void bench_worker_stop(struct bench_worker *w, int force);

/* Record a failure for the worker to report; returns -1. */
int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *bench_error(void);

/* Set by the coordinator's signal handler: stop, clean up, re-raise. */
extern volatile sig_atomic_t bench_stop;

/* profile.c: CASE on side S alone, in this process; exit status. */
int bench_profile(const struct bench_case *c, const struct side *s,
		  long iters);

/* syscost.c: the price of single system calls here; exit status. */
int bench_syscalls(void);

/* tmpdir.c */
int bench_tmpdir_make(char *buf, size_t len);
void bench_tmpdir_remove(const char *path);

/* sysinfo.c */
void bench_print_machine(int argc, char **argv);

/* report.c */
struct case_result {
	const struct bench_case *c;
	int nruns;
	double k_ns[BENCH_MAX_RUNS], u_ns[BENCH_MAX_RUNS];
	long k_iters, u_iters;
	double k_pop_secs, u_pop_secs;
	int pop_changed;
};
void bench_print_table_head(void);
void bench_print_row(const struct case_result *r);
void bench_print_details(const struct case_result *rs, int n);

#endif
