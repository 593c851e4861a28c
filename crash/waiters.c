/*
 * waiters.c - `ushm-crash waiters`: processes that wait for the registry
 * lock are killed too, and no one must be left waiting on a free lock.
 *
 * Six processes call ushm_reap() (lock, reap, unlock) in a loop; random
 * ones are killed with SIGKILL, whether they hold the lock, wait for it
 * or are woken for it, and replaced.  After each round of 100 kills they
 * are asked to stop after their call; every one must stop within two
 * seconds.  One that does not is asleep in the lock: a lost wakeup (a
 * woken waiter killed before it took the lock, while a newcomer took it
 * without the "waiters" bit), i.e. a hang that lasts until some other
 * process happens to contend.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"

#define NW		6
#define ROUNDS		200
#define ROUND_KILLS	100

struct wshared {
	int stop;
	int stopped[NW];
};

static struct wshared *ws;

static void waiter(int i)
{
	die_with_parent();
	for (;;) {
		if (ushm_reap() < 0)
			_exit(3);
		if (__atomic_load_n(&ws->stop, __ATOMIC_ACQUIRE)) {
			ws->stopped[i] = 1;
			for (;;)
				pause();
		}
	}
}

static pid_t start(int i)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		waiter(i);
	return pid;
}

static void kill_all(pid_t *pid)
{
	for (int i = 0; i < NW; i++)
		kill(pid[i], SIGKILL);
	for (int i = 0; i < NW; i++)
		waitpid(pid[i], NULL, 0);
}

int cmd_waiters(int argc, char **argv)
{
	double seconds = argc > 2 && !strcmp(argv[1], "--seconds") ?
			 atof(argv[2]) : 60, t0 = now_s();
	uint64_t rng = (uint64_t)time(NULL) | 1;
	pid_t pid[NW];
	char *dir = ns_make("ushm-waiters");
	long kills = 0;
	int round, hung = 0;

	ws = shared_alloc(sizeof(*ws));
	if (ushm_namespace_set(dir) < 0)
		die("namespace %s: %s (%s)", dir, strerror(errno),
		    ushm_strerror());
	for (round = 0; round < ROUNDS && now_s() - t0 < seconds && !hung;
	     round++) {
		memset(ws, 0, sizeof(*ws));
		for (int i = 0; i < NW; i++)
			pid[i] = start(i);
		for (int k = 0; k < ROUND_KILLS; k++, kills++) {
			int i = (int)rng_below(&rng, NW);
			struct timespec ts = { 0, (long)rng_below(&rng, 100) *
						  1000 };

			nanosleep(&ts, NULL);
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
			pid[i] = start(i);
		}
		__atomic_store_n(&ws->stop, 1, __ATOMIC_RELEASE);
		for (int t = 0; t < 2000; t++) {
			struct timespec ms = { 0, 1000000 };
			int all = 1;

			for (int i = 0; i < NW; i++)
				all &= ws->stopped[i];
			if (all)
				break;
			nanosleep(&ms, NULL);
		}
		for (int i = 0; i < NW; i++) {
			if (ws->stopped[i])
				continue;
			hung++;
			printf("# round %d: process %d still waits for the "
			       "registry lock after 2 s; held by thread %d\n",
			       round, (int)pid[i],
			       ushm__p.ns->hdr->lock_tid);
		}
		kill_all(pid);
	}
	rm_tree(dir);
	free(dir);
	printf("# %d rounds, %ld kills, %.1f s\n", round, kills,
	       now_s() - t0);
	printf("%s 1 - no waiter left asleep on a free registry lock\n",
	       hung ? "not ok" : "ok");
	printf("%d passed, %d failed\n", !hung, !!hung);
	return hung ? 1 : 0;
}
