/*
 * fdcache.c - this process's open descriptors of segment files.
 *
 * Opening a segment's file costs an openat and a close, as much again as
 * the mmap that shmat exists for.  So a process keeps the descriptors of
 * the last few segments it attached (or created), and shmat checks that
 * a cached descriptor still is that file with one fstat (the program may
 * have closed it, or dup2'ed something over it).
 *
 * A descriptor is used only with the credentials it was opened with: the
 * file's permissions must judge each attach as an open would.
 *
 * A cached descriptor must never keep a destroyed segment's memory
 * alive: the destroyer truncates the file to nothing before unlinking it
 * (shm.c, ushm__destroy_locked), which frees the pages whoever holds the
 * file open, and each process closes its stale descriptors when it
 * notices that segments were destroyed (hdr->destroyed changed).
 *
 * Locking: the cache is this process's, protected by the registry lock
 * of ushm__p.ns.  An entry in use by a shmat that has dropped the lock
 * for its mmap is `busy` and is neither closed nor reused until put back.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FDC_SIZE	16

struct fdc {
	uint32_t slot, seq;
	uint64_t ino;
	int fd;			/* -1: empty */
	bool rdwr;		/* opened O_RDWR (else O_RDONLY) */
	uint32_t credgen;	/* the credentials it was opened with */
	bool doomed;		/* to be closed when no longer busy */
	int busy;		/* shmats using it outside the lock */
	uint64_t used;		/* for least-recently-used eviction */
};

static struct fdc fdc[FDC_SIZE] = {
	[0 ... FDC_SIZE - 1] = { .fd = -1 },
};
static uint64_t fdc_tick;
static uint64_t fdc_destroyed;	/* hdr->destroyed when last swept */

static void entry_close(struct fdc *e)
{
	if (e->busy) {
		e->doomed = true;	/* ushm__fd_put_locked closes it */
		return;
	}
	if (e->fd >= 0)
		ushm__os_close(e->fd);
	e->fd = -1;
	e->doomed = false;
}

/* Close what belongs to segments that no longer exist. */
static void sweep_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;

	if (h->destroyed == fdc_destroyed)
		return;
	fdc_destroyed = h->destroyed;
	for (int i = 0; i < FDC_SIZE; i++) {
		struct ushm_slot *s;

		if (fdc[i].fd < 0 || fdc[i].busy)
			continue;
		s = ushm__slot(h, fdc[i].slot);
		if (s->state != SLOT_LIVE || s->seq != fdc[i].seq ||
		    s->ino != fdc[i].ino)
			entry_close(&fdc[i]);
	}
}

/* Whether descriptor FD is still the file with inode INO. */
static bool still_ours(int fd, uint64_t ino)
{
	struct stat st;

	return ushm__os_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_ino == ino;
}

/* Keep FD (open on slot IDX of S, O_RDWR if RDWR) in the cache, evicting
 * the least recently used idle entry; returns the entry, or NULL if every
 * entry is busy (the caller then closes FD after use). */
struct fdc *ushm__fd_insert_locked(struct ushm_ns *ns,
				   const struct ushm_slot *s, uint32_t idx,
				   int fd, bool rdwr)
{
	struct fdc *victim = NULL;

	USHM_ASSERT_LOCKED(ns);
	for (int i = 0; i < FDC_SIZE; i++) {
		if (fdc[i].busy)
			continue;
		if (fdc[i].fd < 0) {
			victim = &fdc[i];
			break;
		}
		if (!victim || fdc[i].used < victim->used)
			victim = &fdc[i];
	}
	if (!victim)
		return NULL;
	entry_close(victim);
	victim->slot = idx;
	victim->seq = s->seq;
	victim->ino = s->ino;
	victim->fd = fd;
	victim->rdwr = rdwr;
	victim->credgen = ushm__credgen();
	victim->doomed = false;
	victim->used = ++fdc_tick;
	return victim;
}

/*
 * A descriptor of slot IDX (S) open for OFLAGS (O_RDONLY or O_RDWR),
 * pinned in *ENT until ushm__fd_put_locked().  From the cache when it
 * holds a valid one, else opened (and cached).  Negative errno on failure.
 */
int ushm__fd_get_locked(struct ushm_ns *ns, const struct ushm_slot *s,
			uint32_t idx, int oflags, struct fdc **ent)
{
	bool rdwr = (oflags & O_ACCMODE) == O_RDWR;
	int fd;

	USHM_ASSERT_LOCKED(ns);
	sweep_locked(ns);
	for (int i = 0; i < FDC_SIZE; i++) {
		struct fdc *e = &fdc[i];

		if (e->fd >= 0 && !e->busy && e->credgen != ushm__credgen())
			entry_close(e);	/* opened as someone else */
		/* The same access mode: an SHM_RDONLY attachment must not be
		 * able to gain write access with mprotect (SEMANTICS 3.7). */
		if (e->fd < 0 || e->doomed || e->slot != idx ||
		    e->seq != s->seq || e->ino != s->ino || rdwr != e->rdwr)
			continue;
		if (!e->busy && !still_ours(e->fd, s->ino)) {
			/* Closed or replaced by the program: the number is
			 * not ours to close any more. */
			e->fd = -1;
			continue;
		}
		e->busy++;
		e->used = ++fdc_tick;
		*ent = e;
		return e->fd;
	}
	fd = ushm__seg_open(ns, s, idx, oflags);
	if (fd < 0)
		return fd;
	*ent = ushm__fd_insert_locked(ns, s, idx, fd, rdwr);
	if (*ent)
		(*ent)->busy++;
	return fd;
}

void ushm__fd_put_locked(struct ushm_ns *ns, struct fdc *ent, int fd)
{
	USHM_ASSERT_LOCKED(ns);
	if (!ent) {
		ushm__os_close(fd);
		return;
	}
	if (ent->busy > 0)
		ent->busy--;
	if (ent->doomed && !ent->busy)
		entry_close(ent);	/* dropped while in use */
}

/* A cached read-write descriptor of slot IDX (S), or -1. */
int ushm__fd_cached_rdwr_locked(struct ushm_ns *ns, const struct ushm_slot *s,
				uint32_t idx)
{
	USHM_ASSERT_LOCKED(ns);
	for (int i = 0; i < FDC_SIZE; i++)
		if (fdc[i].fd >= 0 && !fdc[i].doomed && fdc[i].rdwr &&
		    fdc[i].slot == idx &&
		    fdc[i].seq == s->seq && fdc[i].ino == s->ino &&
		    still_ours(fdc[i].fd, s->ino))
			return fdc[i].fd;
	return -1;
}

/* Give back one idle cached descriptor (for a caller at the descriptor
 * limit); whether there was one. */
bool ushm__fd_evict_one_locked(struct ushm_ns *ns)
{
	struct fdc *victim = NULL;

	USHM_ASSERT_LOCKED(ns);
	for (int i = 0; i < FDC_SIZE; i++)
		if (fdc[i].fd >= 0 && !fdc[i].busy &&
		    (!victim || fdc[i].used < victim->used))
			victim = &fdc[i];
	if (!victim)
		return false;
	entry_close(victim);
	return true;
}

/* Slot IDX is being destroyed: close our descriptors of it. */
void ushm__fd_drop_locked(struct ushm_ns *ns, uint32_t idx, uint32_t seq)
{
	USHM_ASSERT_LOCKED(ns);
	for (int i = 0; i < FDC_SIZE; i++)
		if (fdc[i].fd >= 0 && fdc[i].slot == idx &&
		    fdc[i].seq == seq)
			entry_close(&fdc[i]);
}

/* Another namespace: nothing cached belongs to it.  (Not after fork: the
 * child has its own copies of the descriptors, still valid.) */
void ushm__fd_reset(void)
{
	for (int i = 0; i < FDC_SIZE; i++) {
		if (fdc[i].fd >= 0)
			ushm__os_close(fdc[i].fd);
		fdc[i].fd = -1;
		fdc[i].busy = 0;
		fdc[i].doomed = false;
	}
	fdc_destroyed = 0;
}

/* In a forked child only the forking thread exists: nothing is busy. */
void ushm__fd_fork_child(void)
{
	for (int i = 0; i < FDC_SIZE; i++) {
		fdc[i].busy = 0;
		if (fdc[i].doomed)
			entry_close(&fdc[i]);
	}
}
