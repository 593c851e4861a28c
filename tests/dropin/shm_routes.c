/*
 * shm_routes.c - every route that changes mappings changes nattch as
 * the kernel's VMAs (SEMANTICS 4.2, 4.3, 4.6, 4.7).  Prints one line per
 * step (a call's result, nattch, what is mapped); dropin_routes.sh runs
 * it on the kernel (in a private IPC namespace) and under the shim and
 * compares the traces line for line.
 *
 *   shm_routes ROUTE [LIB]
 *     libc     munmap, mprotect, madvise, mremap, mmap, remap_file_pages
 *     syscall  syscall(SYS_munmap, ...) and the rest, remap_file_pages
 *              through syscall(SYS_remap_file_pages, ...)
 *     deep     the same through syscall() and remap_file_pages() of LIB
 *              (libshmroutes.so), loaded with dlopen(RTLD_DEEPBIND)
 *     deepsys  as deep, remap_file_pages through LIB's syscall()
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL
#define P4 (4 * PG)

static const char *route;
static long (*deep_syscall)(long, long, long, long, long, long, long);
static int (*deep_remap)(void *, size_t, int, size_t, int);
static int id;

static long sys(long n, long a, long b, long c, long d, long e)
{
	if (deep_syscall)
		return deep_syscall(n, a, b, c, d, e, 0);
	return syscall(n, a, b, c, d, e);
}

static bool via_libc(void)
{
	return !strcmp(route, "libc");
}

static long r_munmap(void *p, size_t len)
{
	return via_libc() ? munmap(p, len) : sys(SYS_munmap, (long)p,
						  (long)len, 0, 0, 0);
}

static long r_mprotect(void *p, size_t len, int prot)
{
	return via_libc() ? mprotect(p, len, prot)
			  : sys(SYS_mprotect, (long)p, (long)len, prot, 0, 0);
}

static long r_madvise(void *p, size_t len, int advice)
{
	return via_libc() ? madvise(p, len, advice)
			  : sys(SYS_madvise, (long)p, (long)len, advice, 0, 0);
}

static void *r_mremap(void *p, size_t ol, size_t nl, int flags, void *to)
{
	if (via_libc())
		return mremap(p, ol, nl, flags, to);
	return (void *)sys(SYS_mremap, (long)p, (long)ol, (long)nl, flags,
			   (long)to);
}

static void *r_mmap_anon_fixed(void *p, size_t len)
{
	if (via_libc())
		return mmap(p, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
			    MAP_FIXED, -1, 0);
	if (deep_syscall)
		return (void *)deep_syscall(SYS_mmap, (long)p, (long)len,
					    PROT_READ, MAP_PRIVATE |
					    MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return (void *)syscall(SYS_mmap, p, len, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static int r_remap(void *p, size_t size, int prot, size_t pgoff, int flags)
{
	if (via_libc())
		return remap_file_pages(p, size, prot, pgoff, flags);
	if (deep_remap && !strcmp(route, "deep"))
		return deep_remap(p, size, prot, pgoff, flags);
	return (int)sys(SYS_remap_file_pages, (long)p, (long)size, prot,
			(long)pgoff, flags);
}

/* "STEP r=R" (or "STEP r=-ERRNO") then nattch (or the stat errno). */
static void step(const char *what, long r)
{
	struct shmid_ds ds;

	printf("%s r=%ld", what, r == -1 ? -(long)errno : r);
	if (shmctl(id, IPC_STAT, &ds) < 0)
		printf(" stat-errno=%d\n", errno);
	else
		printf(" nattch=%lu\n", (unsigned long)ds.shm_nattch);
}

/* What each page of [P, P + N pages) holds, '-' if unmapped. */
static void pages(const char *what, const char *p, int n)
{
	unsigned char v;

	printf("%s ", what);
	for (int i = 0; i < n; i++)
		putchar(mincore((void *)(p + i * PG), PG, &v) == 0 ? p[i * PG]
								   : '-');
	putchar('\n');
}

static char *attach(void)
{
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1) {
		perror("shmat");
		exit(1);
	}
	for (int i = 0; i < 4; i++)
		p[i * PG] = (char)('A' + i);
	return p;
}

/* A free place for 4 pages (reserved, then given back). */
static char *hole(void)
{
	char *h = mmap(NULL, 2 * P4, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (h == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	munmap(h, 2 * P4);
	return h;
}

static void new_segment(size_t size)
{
	id = shmget(IPC_PRIVATE, size, 0600);
	if (id < 0) {
		perror("shmget");
		exit(1);
	}
}

static void pieces(void)
{
	char *p, *q, *h;

	new_segment(P4);
	p = attach();
	step("munmap-middle", r_munmap(p + PG, PG));
	step("mprotect-first", r_mprotect(p, PG, PROT_READ));
	step("mprotect-third", r_mprotect(p + 2 * PG, PG, PROT_READ));
	step("mprotect-second-hole", r_mprotect(p, 2 * PG, PROT_READ));
	step("shmdt", shmdt(p));
	pages("left", p, 4);

	p = attach();
	h = hole();
	q = r_mremap(p, P4, P4, MREMAP_MAYMOVE | MREMAP_FIXED, h);
	step("mremap-moved", q == h);
	step("shmdt-old", shmdt(p));
	pages("moved", h, 4);
	step("shmdt-new", shmdt(h));
	q = r_mremap(h, PG, PG, 0, NULL);
	step("mremap-nothing", q == MAP_FAILED ? -1 : 0);
	p = attach();
	q = r_mremap(p, P4, P4, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	step("mremap-dontunmap", q != MAP_FAILED);
	step("shmdt-source", shmdt(p));
	pages("copy", q, 4);
	step("shmdt-copy", shmdt(q));

	p = attach();
	step("madvise-dontfork", r_madvise(p + PG, PG, MADV_DONTFORK));
	fflush(stdout);
	if (fork() == 0) {
		step("child", 0);
		_exit(0);
	}
	wait(NULL);
	step("madvise-dofork", r_madvise(p + PG, PG, MADV_DOFORK));
	step("mprotect-third-page", r_mprotect(p + 2 * PG, PG, PROT_READ));
	step("mprotect-fourth-page", r_mprotect(p + 3 * PG, PG, PROT_READ));
	step("shmdt", shmdt(p));

	p = attach();
	q = r_mmap_anon_fixed(p + PG, PG);
	step("mmap-fixed", q == p + PG);
	step("shmdt", shmdt(p));
	munmap(p + PG, PG);
	shmctl(id, IPC_RMID, NULL);
}

static void remaps(void)
{
	char *p;
	int n, r = 0;

	new_segment(P4);
	p = attach();
	step("remap-page1-to-3", r_remap(p + PG, PG, 0, 3, 0));
	pages("remapped", p, 4);
	step("remap-page2-to-2", r_remap(p + 2 * PG, PG, 0, 2, 0));
	step("shmdt", shmdt(p));
	pages("left", p, 4);
	step("shmdt-again", shmdt(p));
	step("shmdt-below", shmdt(p - 2 * PG));
	pages("gone", p, 4);

	p = attach();
	step("prot", r_remap(p, PG, PROT_READ, 1, 0));
	step("size0", r_remap(p, 0, 0, 1, 0));
	step("small", r_remap(p, 100, 0, 1, 0));
	step("wrap", r_remap(p, 2 * PG, 0, SIZE_MAX, 0));
	step("overflow", r_remap(p, PG, 0, (size_t)1 << 52, 0));
	step("past-end", r_remap(p, 5 * PG, 0, 0, 0));
	step("unaligned", r_remap(p + 1, PG + 1, 0, 2, MAP_NONBLOCK | 0x40));
	step("mprotect", r_mprotect(p + PG, PG, PROT_READ));
	step("across-flags", r_remap(p + PG, 2 * PG, 0, 0, 0));
	pages("pages", p, 4);
	step("shmdt", shmdt(p));
	step("munmap-rest", munmap(p, P4));

	p = attach();
	for (n = 0; n < 10; n++)
		if (r_remap(p, P4, 0, (size_t)n % 2, 0) != 0)
			break;
	step("loop-not-removed", n);
	shmctl(id, IPC_RMID, NULL);
	for (n = 0; n < 1000; n++)
		if ((r = r_remap(p, P4, 0, 1, 0)) != 0)
			break;
	step("loop-removed", r);
	printf("loop-removed remaps=%d\n", n);
	pages("after", p, 4);
	step("shmdt", shmdt(p));
}

int main(int argc, char **argv)
{
	route = argc > 1 ? argv[1] : "libc";
	if (!strncmp(route, "deep", 4)) {
		void *h = dlopen(argc > 2 ? argv[2] : "libshmroutes.so",
				 RTLD_NOW | RTLD_DEEPBIND);

		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		deep_syscall = (long (*)(long, long, long, long, long, long,
					 long))
			dlsym(h, "deep_syscall");
		deep_remap = (int (*)(void *, size_t, int, size_t, int))
			dlsym(h, "deep_remap");
		if (!deep_syscall || !deep_remap)
			return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pieces();
	remaps();
	return 0;
}
