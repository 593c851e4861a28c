/*
 * syscost.c - what the building blocks of ushm's calls cost on this
 * machine (ushm-bench --syscalls), next to the kernel's whole calls.
 *
 * ushm's slow paths are sums of these system calls on a tmpfs directory
 * (openat, fstat, mmap, munmap, close, ftruncate, unlinkat, fcntl), so
 * their price here says what removing one of them would buy.  Each is
 * timed alone in a loop, median of 5 loops of N calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define N	20000
#define LOOPS	5

static int dfd = -1, fd4k = -1, fd1g = -1;

enum probe {
	P_GETPPID, P_OPEN_CLOSE, P_FSTAT, P_FSTATFS, P_MMAP_4K, P_MMAP_1G,
	P_OFD_GETLK, P_CREATE, P_FCHMOD, P_FTRUNCATE, P_RENAME,
	P_K_AT_DT, P_K_CREATE,
};

static const char *const names[] = {
	[P_GETPPID] = "getppid (a null system call)",
	[P_OPEN_CLOSE] = "openat + close of an existing file",
	[P_FSTAT] = "fstat",
	[P_FSTATFS] = "fstatfs",
	[P_MMAP_4K] = "mmap + munmap, 4 KiB file, MAP_SHARED",
	[P_MMAP_1G] = "mmap + munmap, 1 GiB file, MAP_SHARED",
	[P_OFD_GETLK] = "fcntl(F_OFD_GETLK)",
	[P_CREATE] = "openat(O_CREAT|O_EXCL) + close + unlinkat",
	[P_FCHMOD] = "fchmod",
	[P_FTRUNCATE] = "ftruncate to 4 KiB",
	[P_RENAME] = "renameat in the same directory",
	[P_K_AT_DT] = "kernel shmat + shmdt, 4 KiB (reference)",
	[P_K_CREATE] = "kernel shmget(IPC_PRIVATE) + IPC_RMID (reference)",
};

static long one(enum probe p, int i, int kid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_start = 7, .l_len = 1 };
	struct statfs sf;
	struct stat st;
	char name[32];
	void *a;
	int f;

	switch (p) {
	case P_GETPPID:
		return syscall(SYS_getppid);
	case P_OPEN_CLOSE:
		f = openat(dfd, "seg4k", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		return close(f);
	case P_FSTAT:
		return fstat(fd4k, &st);
	case P_FSTATFS:
		return fstatfs(dfd, &sf);
	case P_MMAP_4K:
	case P_MMAP_1G:
		a = (void *)syscall(SYS_mmap, NULL, p == P_MMAP_4K ? 4096 :
				    1UL << 30, PROT_READ | PROT_WRITE,
				    MAP_SHARED, p == P_MMAP_4K ? fd4k : fd1g, 0);
		return syscall(SYS_munmap, a, p == P_MMAP_4K ? 4096 :
			       1UL << 30);
	case P_OFD_GETLK:
		return fcntl(fd4k, F_OFD_GETLK, &fl);
	case P_CREATE:
		snprintf(name, sizeof(name), "new.%d", i);
		f = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			   0600);
		close(f);
		return unlinkat(dfd, name, 0);
	case P_FCHMOD:
		return fchmod(fd4k, 0600);
	case P_FTRUNCATE:
		return ftruncate(fd4k, 4096);
	case P_RENAME:
		return renameat(dfd, i & 1 ? "seg4k.b" : "seg4k", dfd,
				i & 1 ? "seg4k" : "seg4k.b");
	case P_K_AT_DT:
		a = shmat(kid, NULL, 0);
		return shmdt(a);
	case P_K_CREATE:
		f = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		return shmctl(f, IPC_RMID, NULL);
	}
	return 0;
}

int bench_syscalls(void)
{
	char dir[256];
	int kid = -1, r = 1;

	/* The kernel references in a namespace of their own, as the
	 * benchmark's kernel side; without one, skip them. */
	if (unshare(CLONE_NEWIPC) == 0)
		kid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (bench_tmpdir_make(dir, sizeof(dir)) < 0) {
		fprintf(stderr, "ushm-bench: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd4k = openat(dfd, "seg4k", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	fd1g = openat(dfd, "seg1g", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (dfd < 0 || fd4k < 0 || fd1g < 0 || ftruncate(fd4k, 4096) < 0 ||
	    ftruncate(fd1g, 1L << 30) < 0) {
		fprintf(stderr, "ushm-bench: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	printf("system call costs on this machine (%s, tmpfs), median of %d "
	       "loops of %d:\n", dir, LOOPS, N);
	for (int p = 0; p <= P_K_CREATE; p++) {
		double t[LOOPS];

		if ((p == P_K_AT_DT || p == P_K_CREATE) && kid < 0)
			continue;
		for (int l = 0; l < LOOPS; l++) {
			double t0 = bench_now();

			for (int i = 0; i < N; i++)
				one((enum probe)p, i, kid);
			t[l] = (bench_now() - t0) * 1e9 / N;
		}
		printf("  %-52s %8.0f ns\n", names[p], bench_median(t, LOOPS));
	}
	r = 0;
out:
	if (kid >= 0)
		shmctl(kid, IPC_RMID, NULL);
	bench_tmpdir_remove(dir);
	return r;
}
