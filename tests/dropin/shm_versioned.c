/*
 * shm_versioned.c - references to shmget & co. at glibc's version,
 * GLIBC_2.2.5, must bind to the shim: a plain call (the compiler emits a
 * versioned reference, which dropin_basic.sh checks with readelf), an
 * explicit .symver reference, dlsym and dlvsym.  Prints where each one
 * lands (the file that defines it) and uses the .symver'd one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int shmget_v(key_t key, size_t size, int flg);
__asm__(".symver shmget_v, shmget@GLIBC_2.2.5");

static const char *where(void *p)
{
	Dl_info info;

	return p && dladdr(p, &info) && info.dli_fname ? info.dli_fname : "?";
}

int main(void)
{
	const char *names[] = { "shmget", "shmat", "shmdt", "shmctl" };
	int id;

	for (int i = 0; i < 4; i++) {
		printf("dlvsym %s %s\n", names[i],
		       where(dlvsym(RTLD_DEFAULT, names[i], "GLIBC_2.2.5")));
		printf("dlsym %s %s\n", names[i],
		       where(dlsym(RTLD_DEFAULT, names[i])));
	}
	printf("symver shmget %s\n", where((void *)shmget_v));
	id = shmget_v(IPC_PRIVATE, 4096, 0600);
	if (id < 0 || shmctl(id, IPC_RMID, NULL) < 0) {
		perror("shmget@GLIBC_2.2.5");
		return 1;
	}
	return 0;
}
