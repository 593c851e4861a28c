/*
 * seg.h - what the views read from the registry: a consistent snapshot of
 * every segment (taken under the registry lock, after the dead are
 * reaped, as the kernel's exit path would already have done), the
 * attachments of one segment, and the paths of segment files.
 */
#ifndef USHM_TOOL_SEG_H
#define USHM_TOOL_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

struct seg {
	int id;
	uint32_t idx;
	struct ushm_slot s;	/* a copy, taken under the lock */
	long rss;		/* pages the file holds (st_blocks) */
};

struct seg_list {
	struct seg *v;
	size_t n;
	uint64_t shm_tot;	/* pages, from the header */
	uint32_t in_use;
};

/* One attachment record of a segment. */
struct seg_att {
	pid_t pid;
	uint32_t task;
	uint32_t pieces;	/* what it counts for in nattch */
	uint64_t addr, len;
	uint32_t shmflg;	/* SHM_RDONLY, SHM_EXEC */
	bool alive;
};

/* The namespace of this run (--namespace, $USHM_DIR or the default), or
 * NULL after saying why in one line. */
struct ushm_ns *seg_ns(void);

/* Whether the last lock attempt found the registry lock held by a thread
 * that does not exist (ushm__lock_reset can replace it); WHAT then says
 * so in a line. */
bool seg_dead_lock(const struct ushm_ns *ns, char *what, size_t len);

/* Every live segment in index order.  0, or the tool's exit status after
 * saying why in one line.  Free with seg_list_free(). */
int seg_snapshot(struct ushm_ns *ns, struct seg_list *l);
void seg_list_free(struct seg_list *l);
const struct seg *seg_by_id(const struct seg_list *l, int id);

/* The attachments of G (if it is still the same segment); the caller
 * frees *out.  0 or an exit status. */
int seg_attachers(struct ushm_ns *ns, const struct seg *g,
		  struct seg_att **out, size_t *n);

/* The full path of G's file. */
void seg_path(struct ushm_ns *ns, const struct seg *g, char *buf,
	      size_t len);

/* Parse an id argument (decimal, as ipcs and ipcrm read it); on failure
 * say so in one line ("failed to parse WHAT: 'S'") and return -1. */
int seg_parse_id(const char *s, int *id, const char *what);

#endif
