/*
 * noipc_probe.c - what the kernel's System V IPC answers this process
 * (tests/sh/dropin_noipc.sh): on the kernel, under ushm-noipc, and under
 * ushm-noipc and `ushm run`.
 *
 *   noipc_probe raw   each of the twelve SysV IPC system calls through
 *                     syscall(2), with arguments the kernel answers
 *                     without harm (private objects, removed at once;
 *                     id -1), one line each: "NAME ok", "NAME EINVAL",
 *                     "NAME ENOSYS" or "NAME errno N"; then the x32
 *                     ABI's shmget ("x32-shmget ...")
 *   noipc_probe shm   shmget, shmat, write, read back, shmdt, IPC_RMID
 *                     through the C library's functions: "shm ok", or
 *                     the first call that failed and its errno
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000L
#endif

static void say(const char *name, long r)
{
	if (r >= 0)
		printf("%s ok\n", name);
	else if (errno == ENOSYS)
		printf("%s ENOSYS\n", name);
	else if (errno == EINVAL)
		printf("%s EINVAL\n", name);
	else
		printf("%s errno %d\n", name, errno);
}

static void raw(void)
{
	struct sembuf sop = { 0, 1, 0 };
	struct timespec ts = { 0, 0 };
	struct shmid_ds sds;
	struct msqid_ds mds;
	long r;

	r = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	say("shmget", r);
	if (r >= 0)
		syscall(SYS_shmctl, r, IPC_RMID, NULL);
	say("shmat", syscall(SYS_shmat, -1, NULL, 0));
	say("shmdt", syscall(SYS_shmdt, (void *)1));
	say("shmctl", syscall(SYS_shmctl, -1, IPC_STAT, &sds));
	r = syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600);
	say("semget", r);
	if (r >= 0)
		syscall(SYS_semctl, r, 0, IPC_RMID, 0);
	say("semop", syscall(SYS_semop, -1, &sop, 1));
	say("semtimedop", syscall(SYS_semtimedop, -1, &sop, 1, &ts));
	say("semctl", syscall(SYS_semctl, -1, 0, IPC_RMID, 0));
	r = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
	say("msgget", r);
	if (r >= 0)
		syscall(SYS_msgctl, r, IPC_RMID, NULL);
	say("msgsnd", syscall(SYS_msgsnd, -1, &r, 0, IPC_NOWAIT));
	say("msgrcv", syscall(SYS_msgrcv, -1, &r, 0, 0, IPC_NOWAIT));
	say("msgctl", syscall(SYS_msgctl, -1, IPC_STAT, &mds));
#if defined(__x86_64__)
	r = syscall(__X32_SYSCALL_BIT | SYS_shmget, IPC_PRIVATE, 4096,
		    IPC_CREAT | 0600);
	say("x32-shmget", r);
	if (r >= 0)
		syscall(SYS_shmctl, r, IPC_RMID, NULL);
#endif
}

static int shm(void)
{
	static const char msg[] = "through ushm";
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p;

	if (id < 0) {
		say("shmget", -1);
		return 1;
	}
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		say("shmat", -1);
		shmctl(id, IPC_RMID, NULL);
		return 1;
	}
	memcpy(p, msg, sizeof(msg));
	if (shmdt(p) != 0 || (p = shmat(id, NULL, SHM_RDONLY)) == (void *)-1) {
		say("shmdt, shmat", -1);
		shmctl(id, IPC_RMID, NULL);
		return 1;
	}
	if (strcmp(p, msg) != 0) {
		printf("shm read back \"%.20s\"\n", p);
		return 1;
	}
	if (shmdt(p) != 0 || shmctl(id, IPC_RMID, NULL) != 0) {
		say("shmdt, IPC_RMID", -1);
		return 1;
	}
	printf("shm ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "raw")) {
		raw();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "shm"))
		return shm();
	fprintf(stderr, "usage: noipc_probe raw|shm\n");
	return 2;
}
