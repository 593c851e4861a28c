/*
 * shm_dlopen.c - reach shmget through a library loaded at run time.
 *
 *   shm_dlopen deepbind|dlmopen|plain LIB KEY
 *
 * LIB (libshmdeep.so) creates segment KEY and writes into it; then this
 * program, through its own (preloaded) shmget, finds KEY and reads it
 * back.  On the kernel both sides use the kernel; under the shim both
 * must use ushm: were the library's calls to miss the shim, the segment
 * would be in the kernel and our lookup would fail with ENOENT.  Also
 * checks that the library sees the library's errno (ENOENT for a missing
 * key) in its own libc's errno, which for dlmopen is another copy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv)
{
	int (*create)(key_t, const char *);
	int (*missing)(key_t);
	key_t key;
	void *h;
	char *p;
	int id, mine, e;

	if (argc != 4)
		return 2;
	key = (key_t)strtol(argv[3], NULL, 0);
	if (!strcmp(argv[1], "deepbind"))
		h = dlopen(argv[2], RTLD_NOW | RTLD_DEEPBIND);
	else if (!strcmp(argv[1], "dlmopen"))
		h = dlmopen(LM_ID_NEWLM, argv[2], RTLD_NOW);
	else
		h = dlopen(argv[2], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	create = (int (*)(key_t, const char *))dlsym(h, "deep_create");
	missing = (int (*)(key_t))dlsym(h, "deep_errno_of_missing");
	if (!create || !missing)
		return 1;
	id = create(key, argv[1]);
	mine = shmget(key, 0, 0);
	if (id < 0 || mine != id) {
		printf("%s: library made %d, we found %d (errno %d)\n",
		       argv[1], id, mine, errno);
		return 1;
	}
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1 || strcmp(p, argv[1])) {
		printf("%s: contents differ\n", argv[1]);
		return 1;
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	e = missing(key);
	printf("%s: shared one segment; errno in the library %s\n", argv[1],
	       e == ENOENT ? "ENOENT" : strerror(e));
	return e == ENOENT ? 0 : 1;
}
