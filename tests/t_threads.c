/*
 * t_threads.c - several processes of several threads racing on shared
 * keys: get, attach, detach, remove, stat, partial munmap.
 *
 * No update is lost: each thread attaches a counter segment and adds to
 * it under a lock that lives in the segment itself, and the total is
 * exact.  No deadlock: every process has a time limit (a hang is a
 * SIGALRM).  At a barrier where every thread holds the counter segment
 * exactly once, nattch is exactly the number of threads; after they all
 * detach it is 0.  At the end the checker finds nothing and removing
 * everything leaves an empty namespace.
 */
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ushm.h"

#define NPROC	3
#define NTHR	4
#define ITERS	2000
#define PG	4096
#define KCOUNT	0x6c000000
#define KCHURN	0x6c000100
#define NCHURN	4

struct shared {
	pthread_barrier_t barrier;	/* all NPROC * NTHR threads */
	long done[NPROC * NTHR];	/* increments each thread made */
	int bad;			/* a result no kernel would give */
	char why[160];
};

struct counter {			/* at the start of the counter segment */
	int lock;
	long total;
};

static struct shared *sh;

__attribute__((format(printf, 1, 2)))
static void bad(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED) == 0) {
		va_start(ap, fmt);
		vsnprintf(sh->why, sizeof(sh->why), fmt, ap);
		va_end(ap);
	}
}

static void count_once(int id)
{
	struct counter *c = ushm_shmat(id, NULL, 0);

	if (c == (void *)-1) {
		bad("shmat of the counter: %s", strerror(errno));
		return;
	}
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&c->lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	c->total++;
	__atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
	if (ushm_shmdt(c) < 0)
		bad("shmdt of the counter: %s", strerror(errno));
}

/* One random operation on the churn keys; errors the kernel gives when
 * another thread removed the segment meanwhile are expected. */
static void churn(unsigned *seed)
{
	int key = KCHURN + (int)(rand_r(seed) % NCHURN), id;
	struct shmid_ds ds;
	char *p;

	id = ushm_shmget(key, 2 * PG, IPC_CREAT | 0600);
	if (id < 0) {
		bad("shmget churn: %s", strerror(errno));
		return;
	}
	switch (rand_r(seed) % 4) {
	case 0:
		if (ushm_shmctl(id, IPC_RMID, NULL) < 0 && errno != EINVAL &&
		    errno != EIDRM)
			bad("IPC_RMID: %s", strerror(errno));
		return;
	case 1:
		if (ushm_shmctl(id, IPC_STAT, &ds) < 0 && errno != EINVAL &&
		    errno != EIDRM)
			bad("IPC_STAT: %s", strerror(errno));
		return;
	default:
		break;
	}
	p = ushm_shmat(id, NULL, 0);
	if (p == (void *)-1) {
		if (errno != EINVAL && errno != EIDRM)
			bad("shmat churn: %s", strerror(errno));
		return;
	}
	p[0] = 1;
	p[PG] = 2;
	if (rand_r(seed) % 2 && munmap(p + PG, PG) < 0)	/* partial */
		bad("munmap: %s", strerror(errno));
	if (ushm_shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch < 1)
		bad("IPC_STAT while attached: nattch %lu",
		    (unsigned long)ds.shm_nattch);
	if (ushm_shmdt(p) < 0)
		bad("shmdt churn: %s", strerror(errno));
}

struct targ {
	int proc, thr, counter;
};

static void *thread_main(void *arg)
{
	struct targ *t = arg;
	unsigned seed = (unsigned)(t->proc * 100 + t->thr + 1);
	int me = t->proc * NTHR + t->thr;
	struct shmid_ds ds;
	void *p;

	for (int i = 0; i < ITERS; i++) {
		int id = ushm_shmget(KCOUNT, 0, 0);

		if (id != t->counter) {
			bad("shmget of the counter: %d, not %d", id,
			    t->counter);
			break;
		}
		count_once(id);
		sh->done[me]++;
		churn(&seed);
	}
	/* Every thread holds the counter once: nattch is exact. */
	p = ushm_shmat(t->counter, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		bad("final shmat: %s", strerror(errno));
	pthread_barrier_wait(&sh->barrier);
	if (me == 0 && (ushm_shmctl(t->counter, IPC_STAT, &ds) < 0 ||
			ds.shm_nattch != NPROC * NTHR))
		bad("with every thread attached once, nattch is %lu, not %d",
		    (unsigned long)ds.shm_nattch, NPROC * NTHR);
	pthread_barrier_wait(&sh->barrier);
	if (p != (void *)-1 && ushm_shmdt(p) < 0)
		bad("final shmdt: %s", strerror(errno));
	pthread_barrier_wait(&sh->barrier);
	if (me == 0 && (ushm_shmctl(t->counter, IPC_STAT, &ds) < 0 ||
			ds.shm_nattch != 0))
		bad("with every thread detached, nattch is %lu",
		    (unsigned long)ds.shm_nattch);
	return NULL;
}

static void process_main(int proc, int counter)
{
	pthread_t th[NTHR];
	struct targ a[NTHR];

	alarm(50);		/* a deadlock ends as SIGALRM */
	for (int i = 0; i < NTHR; i++) {
		a[i] = (struct targ){ proc, i, counter };
		if (pthread_create(&th[i], NULL, thread_main, &a[i]) != 0)
			_exit(2);
	}
	for (int i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

TEST_T(threads_race, 90)
{
	pthread_barrierattr_t ba;
	pid_t pid[NPROC];
	struct shm_info si;
	struct shmid_ds ds;
	long want = 0;
	int counter, st, max;
	struct counter *c;

	test_namespace(0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	CHECK(pthread_barrier_init(&sh->barrier, &ba, NPROC * NTHR) == 0);
	counter = ushm_shmget(KCOUNT, 2 * PG, IPC_CREAT | 0600);
	CHECK(counter >= 0);
	fflush(NULL);
	for (int i = 0; i < NPROC; i++) {
		pid[i] = fork();
		CHECK(pid[i] >= 0);
		if (pid[i] == 0)
			process_main(i, counter);
	}
	for (int i = 0; i < NPROC; i++) {
		CHECK(waitpid(pid[i], &st, 0) == pid[i]);
		if (WIFSIGNALED(st))
			test_fail(__FILE__, __LINE__, "process %d: %s", i,
				  strsignal(WTERMSIG(st)));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	if (sh->bad)
		test_fail(__FILE__, __LINE__, "%d bad results; first: %s",
			  sh->bad, sh->why);
	for (int i = 0; i < NPROC * NTHR; i++)
		want += sh->done[i];
	CHECK_EQ(want, NPROC * NTHR * ITERS);
	c = ushm_shmat(counter, NULL, SHM_RDONLY);
	CHECK(c != (void *)-1);
	CHECK_EQ(c->total, want);	/* no lost update */
	CHECK(ushm_shmdt(c) == 0);
	CHECK(ushm_shmctl(counter, IPC_STAT, &ds) == 0);
	CHECK_EQ(ds.shm_nattch, 0);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
	/* Remove everything: the namespace is empty again. */
	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	for (int i = 0; i <= max; i++) {
		int id = ushm_shmctl(i, SHM_STAT_ANY, &ds);

		if (id >= 0) {
			CHECK_EQ(ds.shm_nattch, 0);
			CHECK(ushm_shmctl(id, IPC_RMID, NULL) == 0);
		}
	}
	ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	CHECK_EQ(si.used_ids, 0);
	CHECK_EQ(si.shm_tot, 0);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
}
