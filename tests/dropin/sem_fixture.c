/*
 * sem_fixture.c - a plain <sys/sem.h> program (kernel, or ushm under the
 * shim) that makes the semaphore sets tests/sh/dropin_sem.sh looks at
 * with util-linux, then prints their ids as shell assignments:
 *
 *   A  key 0x5e0001, 3 semaphores, 0644; SETALL {1, 2, 3}, then a semop
 *      of +1 on semaphore 0 (sempid, otime)
 *   B  key 0x5e0002, 1 semaphore, 0600, untouched (otime "Not set")
 *   C  IPC_PRIVATE, 5 semaphores, 0666, given to nobody by IPC_SET (0640)
 *   D  key 0x5e0004, 250 semaphores, 0400
 *
 * P is its pid (the sempid the views show).  Exits 0, or 1 with a message on the first call that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static int must(int r, const char *what)
{
	if (r < 0) {
		perror(what);
		exit(1);
	}
	return r;
}

int main(void)
{
	unsigned short vals[3] = { 1, 2, 3 };
	struct sembuf up = { 0, 1, 0 };
	struct semid_ds ds;
	union semun arg;
	int a, b, c, d;

	a = must(semget(0x5e0001, 3, IPC_CREAT | IPC_EXCL | 0644), "semget A");
	b = must(semget(0x5e0002, 1, IPC_CREAT | IPC_EXCL | 0600), "semget B");
	c = must(semget(IPC_PRIVATE, 5, IPC_CREAT | 0666), "semget C");
	d = must(semget(0x5e0004, 250, IPC_CREAT | IPC_EXCL | 0400),
		 "semget D");
	arg.array = vals;
	must(semctl(a, 0, SETALL, arg), "SETALL A");
	must(semop(a, &up, 1), "semop A");
	arg.buf = &ds;
	must(semctl(c, 0, IPC_STAT, arg), "IPC_STAT C");
	ds.sem_perm.uid = 65534;
	ds.sem_perm.gid = 65534;
	ds.sem_perm.mode = 0640;
	must(semctl(c, 0, IPC_SET, arg), "IPC_SET C");
	printf("A=%d B=%d C=%d D=%d P=%d\n", a, b, c, d, (int)getpid());
	return 0;
}
