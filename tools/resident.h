/*
 * resident.h - which pages of a segment's file are in memory, by
 * mincore() on a read-only mapping of it, a chunk at a time so that a
 * segment of any size needs neither a huge vector nor a huge mapping.
 * Mapping a file and asking mincore() faults nothing in.
 */
#ifndef USHM_TOOL_RESIDENT_H
#define USHM_TOOL_RESIDENT_H

#include <stddef.h>
#include <stdint.h>

/* Called for each chunk: VEC[i] & 1 says whether page FIRST + i is in
 * memory. */
typedef void (*resident_fn)(void *ctx, uint64_t first,
			    const unsigned char *vec, size_t n);

/* Scan PAGES pages of the open file FD with a PROT_READ mapping of
 * FLAGS (MAP_SHARED or MAP_PRIVATE).  0, or -1 with errno. */
int resident_scan(int fd, uint64_t pages, int flags, resident_fn fn,
		  void *ctx);

/* The number of pages of FD in memory; -1 with errno on failure. */
long long resident_count(int fd, uint64_t pages, int flags);

#endif
