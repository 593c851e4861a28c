/*
 * resident.c - mincore() over a segment file, chunk by chunk (see
 * resident.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "resident.h"

#define CHUNK_PAGES	(1UL << 18)	/* 1 GiB of mapping, 256 KiB of vector */
#define PAGE		4096UL

int resident_scan(int fd, uint64_t pages, int flags, resident_fn fn,
		  void *ctx)
{
	unsigned char *vec;
	uint64_t first;

	vec = malloc(pages < CHUNK_PAGES ? (pages ? pages : 1) : CHUNK_PAGES);
	if (!vec)
		return -1;
	for (first = 0; first < pages; first += CHUNK_PAGES) {
		size_t n = pages - first < CHUNK_PAGES ? pages - first
						       : CHUNK_PAGES;
		void *p = mmap(NULL, n * PAGE, PROT_READ, flags, fd,
			       (off_t)(first * PAGE));
		int r, e;

		if (p == MAP_FAILED)
			goto fail;
		r = mincore(p, n * PAGE, vec);
		e = errno;
		munmap(p, n * PAGE);
		if (r < 0) {
			errno = e;
			goto fail;
		}
		fn(ctx, first, vec, n);
	}
	free(vec);
	return 0;
fail:
	free(vec);
	return -1;
}

static void count(void *ctx, uint64_t first, const unsigned char *vec,
		  size_t n)
{
	long long *c = ctx;

	(void)first;
	for (size_t i = 0; i < n; i++)
		*c += vec[i] & 1;
}

long long resident_count(int fd, uint64_t pages, int flags)
{
	long long c = 0;

	if (resident_scan(fd, pages, flags, count, &c) < 0)
		return -1;
	return c;
}
