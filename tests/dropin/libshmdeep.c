/*
 * libshmdeep.c - a library that uses SysV shared memory on its own,
 * loaded by shm_dlopen.c with dlopen(RTLD_DEEPBIND) or dlmopen: its
 * references to shmget & co. then bind to libc ahead of the shim, and
 * must still reach ushm (shim/patch.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int deep_create(key_t key, const char *text);
int deep_errno_of_missing(key_t key);

/* Create KEY, write TEXT into it, detach; returns the id or -errno. */
int deep_create(key_t key, const char *text)
{
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	char *p;

	if (id < 0)
		return -errno;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return -errno;
	strcpy(p, text);
	if (shmdt(p) < 0)
		return -errno;
	return id;
}

/* The errno this library sees (its own libc's) for a missing key. */
int deep_errno_of_missing(key_t key)
{
	errno = 0;
	if (shmget(key, 0, 0) != -1)
		return 0;
	return errno;
}
