/*
 * shm_exits.c - a plain <sys/shm.h> program whose children end attached
 * in each way a process ends: exit() (with an atexit handler that still
 * detaches), _exit(), _Exit(), SIGKILL, and a vfork child's _exit.
 * After each, main reports nattch and whose pid lpid is, without a
 * look between an end and the event after it.  tests/sh/exits_shim.sh
 * runs it on the kernel and under the shim and compares.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t a, b;
static void *att;

static void report(int id, const char *what)
{
	struct shmid_ds d;

	if (shmctl(id, IPC_STAT, &d) < 0) {
		perror("shmctl");
		exit(1);
	}
	printf("%s: nattch %lu lpid %s\n", what, (unsigned long)d.shm_nattch,
	       d.shm_lpid == getpid() ? "main" : d.shm_lpid == a ? "A" :
	       d.shm_lpid == b ? "B" : "other");
}

static void end_wait(pid_t p)
{
	while (waitpid(p, NULL, 0) < 0)
		;
}

static void dt_at_exit(void)
{
	printf("child's atexit shmdt: %d\n", shmdt(att));
	fflush(stdout);
}

int main(void)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);
	pid_t v;

	att = shmat(id, NULL, 0);
	if (id < 0 || att == (void *)-1)
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	if ((a = fork()) == 0)
		for (;;)
			pause();
	if ((b = fork()) == 0)
		_exit(0);
	end_wait(b);
	kill(a, SIGKILL);
	end_wait(a);
	report(id, "B _exit, then A killed");
	if ((v = vfork()) == 0)
		_exit(3);
	end_wait(v);
	report(id, "a vfork child's _exit");
	if ((a = fork()) == 0)
		_exit(0);
	end_wait(a);
	if ((b = fork()) == 0)
		_Exit(0);
	end_wait(b);
	report(id, "A _exit, then B _Exit");
	if ((a = fork()) == 0)
		_exit(0);
	end_wait(a);
	if ((b = fork()) == 0)
		for (;;)
			pause();
	report(id, "A _exit, then B forked");
	kill(b, SIGKILL);
	end_wait(b);
	if ((a = fork()) == 0) {
		atexit(dt_at_exit);
		exit(0);
	}
	end_wait(a);
	if ((b = fork()) == 0)
		exit(0);
	end_wait(b);
	report(id, "B killed, A exit with an atexit shmdt, B exit");
	shmdt(att);
	report(id, "main detached");
	shmctl(id, IPC_RMID, NULL);
	return 0;
}
