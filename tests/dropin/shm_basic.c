/*
 * shm_basic.c - a plain <sys/shm.h> program: create a private segment,
 * attach it, write, read IPC_STAT, detach, remove.  Prints one line of
 * what it saw and exits 0 if every call behaved.  Run natively it makes
 * the four system calls; under the shim it must make none (dropin_basic.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(void)
{
	struct shmid_ds ds;
	int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
	char *p;

	if (id < 0) {
		perror("shmget");
		return 1;
	}
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		perror("shmat");
		return 1;
	}
	strcpy(p, "hello");
	if (shmctl(id, IPC_STAT, &ds) < 0) {
		perror("shmctl");
		return 1;
	}
	printf("segsz=%zu nattch=%lu cpid_ok=%d mode=%o\n", ds.shm_segsz,
	       (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid(),
	       ds.shm_perm.mode);
	if (shmdt(p) < 0 || shmctl(id, IPC_RMID, NULL) < 0) {
		perror("shmdt/IPC_RMID");
		return 1;
	}
	/* errno is the library's: a stale id is EINVAL, as on the kernel. */
	if (shmctl(id, IPC_STAT, &ds) != -1 || errno != EINVAL) {
		fprintf(stderr, "stale id: errno %d\n", errno);
		return 1;
	}
	return 0;
}
