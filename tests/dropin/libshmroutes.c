/*
 * libshmroutes.c - the mapping calls of shm_routes.c, from a library
 * that shm_routes loads with dlopen(RTLD_DEEPBIND): its references to
 * syscall and remap_file_pages then bind to libc ahead of the shim, and
 * must still change ushm's pieces (shim/patch.c patches libc's entries).
 * Each returns what the call returned, -1 with errno set on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

long deep_syscall(long n, long a, long b, long c, long d, long e, long f);
int deep_remap(void *p, size_t size, int prot, size_t pgoff, int flags);

long deep_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	return syscall(n, a, b, c, d, e, f);
}

int deep_remap(void *p, size_t size, int prot, size_t pgoff, int flags)
{
	return remap_file_pages(p, size, prot, pgoff, flags);
}
