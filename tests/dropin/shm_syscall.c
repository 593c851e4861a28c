/*
 * shm_syscall.c - the four calls through syscall(2), as some programs
 * make them.  Prints what each returned; dropin_basic.sh compares the
 * output on the kernel and under the shim (which wraps syscall()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IPC_64_FLAG 0x100	/* glibc never sets it; the kernel rejects it */

int main(void)
{
	struct shmid_ds ds;
	long id, r;
	char *p;

	id = syscall(SYS_shmget, IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	printf("shmget ok=%d\n", id >= 0);
	p = (char *)syscall(SYS_shmat, id, NULL, 0);
	printf("shmat ok=%d\n", p != (char *)-1);
	if (p == (char *)-1)
		return 1;
	strcpy(p, "raw");
	r = syscall(SYS_shmctl, id, IPC_STAT, &ds);
	printf("IPC_STAT r=%ld nattch=%lu segsz=%zu\n", r,
	       (unsigned long)ds.shm_nattch, ds.shm_segsz);
	errno = 0;
	r = syscall(SYS_shmctl, id, IPC_STAT | IPC_64_FLAG, &ds);
	printf("IPC_STAT|IPC_64 r=%ld errno=%s\n", r, strerror(errno));
	r = syscall(SYS_shmdt, p);
	printf("shmdt r=%ld\n", r);
	errno = 0;
	r = syscall(SYS_shmdt, p);
	printf("shmdt again r=%ld errno=%s\n", r, strerror(errno));
	r = syscall(SYS_shmctl, id, IPC_RMID, NULL);
	printf("IPC_RMID r=%ld\n", r);
	errno = 0;
	r = syscall(SYS_shmget, 0x7ffffffd, 0, 0);
	printf("missing key r=%ld errno=%s\n", r, strerror(errno));
	/* Other numbers still reach the kernel, errno included. */
	printf("getpid same=%d\n", syscall(SYS_getpid) == getpid());
	errno = 0;
	r = syscall(SYS_close, -1);
	printf("close(-1) r=%ld errno=%s\n", r, strerror(errno));
	return 0;
}
