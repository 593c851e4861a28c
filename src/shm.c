/*
 * shm.c - shmget, shmat and shmdt over the registry; the counterpart of
 * ipc/shm.c (newseg, do_shmat, ksys_shmdt, shm_destroy).
 *
 * Every check runs in the kernel's order, so that when several things
 * are wrong the caller gets the kernel's errno (SEMANTICS.md 2.11, 3.5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define SHM_HUGE_SHIFT_	26
#define SHM_HUGE_MASK_	0x3f

static inline int fail(int r)
{
	errno = -r;
	return -1;
}

/* ---- attachment records ---- */

/* Find a free record; allocate the pages of a new chunk of records
 * before anything touches them, so that a full filesystem is ENOMEM
 * here and never SIGBUS later. */
int ushm__att_alloc_locked(struct ushm_ns *ns, uint32_t *out)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t r;

	USHM_ASSERT_LOCKED(ns);
	for (r = h->att_hint; r < ushm__att_hwm(h); r++)
		if (ushm__att(h, r)->state == ATT_FREE)
			goto found;
	if (h->att_hwm < USHM_ATTS) {
		r = h->att_hwm;
		if (r >= h->att_alloc || h->att_alloc > USHM_ATTS) {
			off_t off = (off_t)(USHM_OFF_ATTS + (uint64_t)h->att_alloc *
						       sizeof(struct ushm_att));

			if (ushm__os_fallocate(ns->regfd, off, USHM_ATT_CHUNK *
					       sizeof(struct ushm_att)) < 0)
				return -ENOMEM;
			h->att_alloc += USHM_ATT_CHUNK;
		}
		h->att_hwm = r + 1;
		goto found;
	}
	for (r = 0; r < ushm__att_hwm(h); r++)
		if (ushm__att(h, r)->state == ATT_FREE)
			goto found;
	ushm__seterr("the attachment table of %s is full (%d attachments)",
		     ns->path, USHM_ATTS);
	return -ENOMEM;
found:
	h->att_hint = r + 1;
	*out = r;
	return 0;
}

/* Make record REC a live attachment of slot IDX by TASK and count it. */
void ushm__att_link_locked(struct ushm_ns *ns, uint32_t rec, uint32_t task,
			   uint32_t idx, uintptr_t addr, size_t len,
			   uint32_t pieces, int shmflg)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, idx);
	struct ushm_att *a = ushm__att(h, rec);

	USHM_ASSERT_LOCKED(ns);
	ushm__wbegin(h);
	a->task = task;
	a->slot = idx;
	a->seq = s->seq;
	a->addr = addr;
	a->len = len;
	a->pieces = pieces;
	a->shmflg = (uint32_t)shmflg & (SHM_RDONLY | SHM_EXEC | ATT_PENDING);
	a->prev = 0;
	a->next = ushm__att_ref_ok(s->att_head) ? s->att_head : 0;
	a->state = ATT_LIVE;	/* the record is primary data: complete it first */
	CRASH_POINT("attach.record");
	if (a->next)
		ushm__att(h, a->next - 1)->prev = rec + 1;
	s->att_head = rec + 1;
	s->nattch += pieces;
	ushm__task(h, task)->natt++;
	ushm__wend(h);
}

bool ushm__may_destroy(const struct ushm_hdr *h, const struct ushm_slot *s)
{
	return s->nattch == 0 &&
	       (h->rmid_forced || (s->mode & USHM_MODE_DEST));
}

/* Close N pieces of record REC as PID at NOW (shm_close, once per
 * VMA); the record goes with its last piece, and the segment with its
 * last attachment if it may. */
static void att_close_locked(struct ushm_ns *ns, uint32_t rec, uint32_t n,
			     pid_t pid, int64_t now)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_att *a = ushm__att(h, rec);
	uint32_t idx = a->slot;
	struct ushm_slot *s;

	USHM_ASSERT_LOCKED(ns);
	if (idx >= USHM_SLOTS) {	/* damaged: it counts for nothing */
		memset(a, 0, sizeof(*a));
		return;
	}
	s = ushm__slot(h, idx);
	if (n > a->pieces)
		n = a->pieces;
	ushm__wbegin(h);
	a->pieces -= n;
	s->nattch -= n <= s->nattch ? n : s->nattch;
	CRASH_POINT("detach.counted");
	s->dtime = now;
	s->lpid = pid;
	if (a->pieces == 0) {
		if (ushm__att_ref_ok(a->prev))
			ushm__att(h, a->prev - 1)->next = a->next;
		else
			s->att_head = a->next;
		if (ushm__att_ref_ok(a->next))
			ushm__att(h, a->next - 1)->prev = a->prev;
		if (a->task < USHM_TASKS && ushm__task(h, a->task)->natt)
			ushm__task(h, a->task)->natt--;
		memset(a, 0, sizeof(*a));
		if (rec < h->att_hint)
			h->att_hint = rec;
	}
	ushm__wend(h);
	if (ushm__may_destroy(h, s))
		ushm__destroy_locked(ns, idx);
}

/* Drop the whole of record REC, as the exit of PID at NOW would.  A
 * shmat that died before it mapped never was an attachment: it leaves
 * no dtime and no lpid behind (so the state is the one before it). */
void ushm__att_unlink_locked(struct ushm_ns *ns, uint32_t rec, pid_t pid,
			     int64_t now)
{
	struct ushm_att *a = ushm__att(ns->hdr, rec);

	if (a->shmflg & ATT_PENDING)
		ushm__att_unpin_locked(ns, rec);
	else
		att_close_locked(ns, rec, a->pieces, pid, now);
}

/* Take back the attachment that a failed shmat had counted while it
 * mapped (do_shmat's nattch-- on its error path): no dtime, no lpid. */
void ushm__att_unpin_locked(struct ushm_ns *ns, uint32_t rec)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_att *a = ushm__att(h, rec);
	struct ushm_slot *s = ushm__slot(h, a->slot % USHM_SLOTS);

	att_close_locked(ns, rec, a->pieces, s->lpid, s->dtime);
}

/* Our record REC gained (DELTA > 0: a VMA was split or copied, the
 * kernel's shm_open) or lost (DELTA < 0: shm_close) pieces. */
void ushm__att_pieces_locked(struct ushm_ns *ns, uint32_t rec, int delta)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_att *a = ushm__att(h, rec);
	struct ushm_slot *s = ushm__slot(h, a->slot);

	USHM_ASSERT_LOCKED(ns);
	/* Dead attachers' exits came before this open or close, which sets
	 * lpid and a time: theirs must not be written over it later. */
	if (a->slot < USHM_SLOTS)
		ushm__reap_slot_locked(ns, a->slot);
	if (delta < 0) {
		att_close_locked(ns, rec, (uint32_t)-delta, ushm__p.pid,
				 ushm__now());
		return;
	}
	ushm__wbegin(h);
	a->pieces += (uint32_t)delta;
	CRASH_POINT("pieces.open");
	s->nattch += (uint32_t)delta;
	s->atime = ushm__now();
	s->lpid = ushm__p.pid;
	ushm__wend(h);
}

/*
 * A descriptor that can free a dying segment's pages even while other
 * processes still hold its file open (fdcache.c): nothing maps it any
 * more (nattch is 0), so nothing can see the difference.  Needs write
 * access to the file; a destroyer without it leaves the pages to go when
 * the last descriptor closes.  -1 if there is none.
 */
static int truncate_fd_locked(struct ushm_ns *ns, const struct ushm_slot *s,
			      uint32_t idx)
{
	int fd = ushm__fd_cached_rdwr_locked(ns, s, idx);

	if (fd >= 0)
		return ushm__os_dup(fd);
	/* Checked to be the segment's own file (segfile.c). */
	fd = ushm__seg_open_trunc(ns, s, idx);
	return fd >= 0 ? fd : -1;
}

/* shm_destroy: the id, the key, the file and the accounting go.  0, or a
 * negative errno when the file cannot be removed (nothing changes then). */
int ushm__destroy_locked(struct ushm_ns *ns, uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, idx);
	int id = ushm__id(idx, s->seq), r, tfd;

	USHM_ASSERT_LOCKED(ns);
	/* R3: leave LIVE in one store, then unlink; recovery finishes a
	 * DESTROYING slot whose owner died in between. */
	ushm__wbegin(h);
	if (s->key)
		ushm__key_remove_locked(ns, s->key, idx);
	s->state = SLOT_DESTROYING;
	ushm__wend(h);
	CRASH_POINT("destroy.marked");
	/* A descriptor to free the pages with, taken before the name goes;
	 * used only once the file is gone, so that a file that cannot be
	 * removed keeps its contents. */
	tfd = (s->flags & (SEGF_FILE | SEGF_MAPPED)) == (SEGF_FILE | SEGF_MAPPED)
		      ? truncate_fd_locked(ns, s, idx) : -1;
	ushm__fd_drop_locked(ns, idx, s->seq);
	if ((s->flags & SEGF_FILE) &&
	    (r = ushm__seg_unlink(ns, s->orig_key, id, s->ino)) != 0) {
		if (tfd >= 0)
			ushm__os_close(tfd);
		/* The file cannot go (a read-only or damaged file system):
		 * neither does the segment, which stays as it was; its pages
		 * are freed already if it was truncated.  A later destroy,
		 * or `ushm repair`, tries again. */
		ushm__wbegin(h);
		s->state = SLOT_LIVE;
		if (s->key)
			ushm__key_insert_locked(ns, s->key, idx);
		ushm__wend(h);
		ushm__seterr("cannot remove the file of segment %d: %s", id,
			     strerror(-r));
		return r;
	}
	if (tfd >= 0) {
		ushm__os_ftruncate(tfd, 0);
		ushm__os_close(tfd);
	}
	ushm__wbegin(h);
	h->in_use--;
	CRASH_POINT("destroy.uncounted");
	h->shm_tot -= s->pages <= h->shm_tot ? s->pages : h->shm_tot;
	if (SEGF_RESERVES(s->flags)) {
		uint64_t len = ushm__seg_maplen(s);

		h->reserved -= len <= h->reserved ? len : h->reserved;
	}
	/* nattch is 0, so no record should be left; a damaged registry's
	 * strays go with the slot rather than point at a free one. */
	for (uint32_t ref = s->att_head, n = 0;
	     ushm__att_ref_ok(ref) && n < USHM_ATTS; n++) {
		struct ushm_att *a = ushm__att(h, ref - 1);

		ref = a->next;
		memset(a, 0, sizeof(*a));
	}
	memset(s, 0, sizeof(*s));
	if ((int32_t)idx == h->max_idx) {
		int32_t m = (int32_t)idx - 1;

		while (m >= 0 && ushm__slot(h, (uint32_t)m)->state == SLOT_FREE)
			m--;
		h->max_idx = m;
	}
	h->destroyed++;
	ushm__wend(h);
	return 0;
}

/* ---- shmget ---- */

/* The checks on an existing key, in ipcget_public()'s order. */
static int existing_checks(const struct ushm_slot *s, uint32_t idx,
			   size_t size, int shmflg)
{
	if ((shmflg & IPC_CREAT) && (shmflg & IPC_EXCL))
		return -EEXIST;
	if (size > s->segsz)				/* shm_more_checks */
		return -EINVAL;
	if (ushm__ipcperms(s, shmflg))
		return -EACCES;
	return ushm__id(idx, s->seq);
}

#define LOCKLESS_TRIES	64
#define NEED_LOCK	(-1000000)

/*
 * Look KEY up without the lock: no system call, no store.  Returns an id
 * or negative errno, -ENOENT when the key does not exist, or NEED_LOCK
 * when only the locked path can answer (a writer kept hdr->gen busy, or
 * shm_rmid_forced makes the answer depend on dead processes).
 */
static int lookup_lockless(struct ushm_ns *ns, key_t key, size_t size,
			   int shmflg)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot s;

	for (int tries = 0; tries < LOCKLESS_TRIES; tries++) {
		uint64_t g = ushm__rbegin(h);
		int32_t idx;

		if (g & 1) {
			__builtin_ia32_pause();
			continue;
		}
		idx = ushm__key_find(h, key);
		if (idx < 0) {
			if (ushm__rretry(h, g))
				continue;
			return -ENOENT;
		}
		ushm__rcopy(&s, ushm__slot(h, (uint32_t)idx), USHM_SLOT_HEAD);
		if (__atomic_load_n(&h->rmid_forced, __ATOMIC_RELAXED)) {
			if (ushm__rretry(h, g))
				continue;
			return NEED_LOCK;
		}
		if (ushm__rretry(h, g))
			continue;
		if (s.state != SLOT_LIVE || s.key != key)
			return NEED_LOCK;	/* damaged index: repair */
		return existing_checks(&s, (uint32_t)idx, size, shmflg);
	}
	return NEED_LOCK;
}

/* Huge page sizes the machine offers, by log2 (SHM_HUGE_2MB, _1GB). */
static bool huge_size_supported(int log2)
{
	char path[96];
	struct stat st;

	if (log2 == 0)
		return true;	/* the default size */
	if (log2 < 12 || log2 > 40)
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%lukB",
		 (1UL << log2) >> 10);
	return ushm__os_fstatat(AT_FDCWD, path, &st, 0) == 0;
}

static long read_long_file(const char *path, long dflt)
{
	char buf[64];
	int fd = ushm__os_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return dflt;
	n = ushm__os_pread(fd, buf, sizeof(buf) - 1, 0);
	ushm__os_close(fd);
	if (n <= 0)
		return dflt;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Free huge pages not promised to anyone (HugePages_Free - _Rsvd). */
static long huge_pages_available(void)
{
	long nr = read_long_file("/proc/sys/vm/nr_hugepages", 0);

	/* Without reserved pages there is nothing to reserve from; with
	 * some, the emulation does not track the kernel's reservations and
	 * lets the filesystem check below decide. */
	return nr;
}

/* hugetlb_file_setup's privilege rule: CAP_IPC_LOCK, or membership of
 * vm.hugetlb_shm_group. */
static bool can_do_hugetlb_shm(void)
{
	long g = read_long_file("/proc/sys/vm/hugetlb_shm_group", 0);

	return ushm__capable(CAP_IPC_LOCK) ||
	       ushm__in_group(ushm__cred(), (gid_t)g);
}

/*
 * Commit accounting.  Pages are allocated when first touched, as the
 * kernel's shmem does; a page that then finds the file system full would
 * be SIGBUS, so shmget promises room instead, and fails with ENOMEM when
 * the file system cannot hold what all reserving segments may still
 * need: their mapping lengths, less what their files already hold (that
 * part is no longer free space).  The sum of their lengths usually fits
 * in the free space alone, with no file to look at.
 */
static bool room_locked(struct ushm_ns *ns, uint64_t len)
{
	struct ushm_hdr *h = ns->hdr;
	uint64_t avail, held = 0;
	struct statfs fs;

	if (ushm__os_fstatfs(ns->segfd, &fs) != 0)
		return true;		/* cannot tell: as before */
	avail = (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize;
	if (h->reserved + len <= avail)
		return true;
	if (len > avail)
		return false;
	for (int32_t i = 0; i <= ushm__max_idx(h); i++) {
		struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

		if (s->state == SLOT_LIVE && (s->flags & SEGF_FILE) &&
		    SEGF_RESERVES(s->flags))
			held += (uint64_t)ushm__seg_resident(ns, s, (uint32_t)i) *
				USHM_PAGE;
	}
	return h->reserved - (held < h->reserved ? held : h->reserved) + len <=
	       avail;
}

/* The kernel's ipc_idr_alloc: the index and sequence of a new id. */
static int alloc_id_locked(struct ushm_hdr *h, uint32_t *idx_out,
			   uint32_t *seq_out, struct ushm_intent *in)
{
	in->next_idx = h->next_idx;
	in->last_idx = h->last_idx;
	in->seq = h->seq;
	in->next_id = h->next_id;
	if (h->next_id >= 0) {
		/* shm_next_id: that seq, the lowest free idx from there on;
		 * the cyclic allocator is left alone (SEMANTICS 1.15-1.17). */
		uint32_t want = ushm__id_idx(h->next_id);

		for (uint32_t i = want; i < USHM_SLOTS; i++) {
			if (ushm__slot(h, i)->state == SLOT_FREE) {
				*idx_out = i;
				*seq_out = ushm__id_seq(h->next_id);
				in->next_id = -1;
				return 0;
			}
		}
		return -ENOSPC;
	} else {
		/* idr_alloc_cyclic over [0, R) from next (SEMANTICS 1.4). */
		uint32_t n = h->in_use, r = n * 3 / 2;
		uint32_t start = (uint32_t)h->next_idx, i;

		if (r < 64)
			r = 64;
		if (r > USHM_SLOTS)
			r = USHM_SLOTS;
		for (i = start; i < r; i++)
			if (ushm__slot(h, i)->state == SLOT_FREE)
				goto found;
		for (i = 0; i < r && i < start; i++)
			if (ushm__slot(h, i)->state == SLOT_FREE)
				goto found;
		return -ENOSPC;
found:
		in->next_idx = (int32_t)i + 1;
		if ((int32_t)i <= h->last_idx) {
			in->seq = h->seq + 1;
			if (in->seq >= USHM_SEQ_LIMIT)
				in->seq = 0;
		}
		in->last_idx = (int32_t)i;
		*idx_out = i;
		*seq_out = in->seq;
		return 0;
	}
}

/* newseg(), with the checks in the kernel's order (SEMANTICS 2.11). */
static int newseg_locked(struct ushm_ns *ns, key_t key, size_t size,
			 int shmflg)
{
	struct ushm_hdr *h = ns->hdr;
	const struct ushm_cred *c;
	struct ushm_intent in = { 0 };
	struct ushm_slot *s;
	uint64_t pages, maplen, ino = 0;
	uint32_t idx, seq, flags = 0, creator, creator_gen;
	int r, id, fd;

	USHM_ASSERT_LOCKED(ns);
	if (size < 1 || size > h->shmmax)
		return -EINVAL;
	pages = (size + USHM_PAGE - 1) / USHM_PAGE;
	if (size + USHM_PAGE - 1 < size)
		return -ENOSPC;			/* page count overflows */
	if (h->shm_tot + pages < h->shm_tot ||
	    h->shm_tot + pages > h->shmall) {
		/* Dead processes may hold segments that are gone by now. */
		if (!ushm__reap_all_locked(ns) ||
		    h->shm_tot + pages < h->shm_tot ||
		    h->shm_tot + pages > h->shmall)
			return -ENOSPC;
	}
	maplen = pages * USHM_PAGE;
	if (shmflg & SHM_HUGETLB) {
		int log2 = (shmflg >> SHM_HUGE_SHIFT_) & SHM_HUGE_MASK_;

		if (!huge_size_supported(log2))
			return -EINVAL;
		if (!can_do_hugetlb_shm())
			return -EPERM;
		maplen = (size + USHM_HUGEPAGE - 1) / USHM_HUGEPAGE *
			 USHM_HUGEPAGE;
		if (!(shmflg & SHM_NORESERVE) &&
		    (uint64_t)huge_pages_available() * USHM_HUGEPAGE < maplen)
			return -ENOMEM;
		flags |= SEGF_HUGETLB;
	} else {
		if (size > (size_t)LLONG_MAX)
			return -EINVAL;		/* MAX_LFS_FILESIZE */
		if (!(shmflg & SHM_NORESERVE) && !room_locked(ns, maplen))
			return -ENOMEM;
	}
	if (shmflg & SHM_NORESERVE)
		flags |= SEGF_NORESERVE;
	if (h->in_use >= h->shmmni || h->in_use >= USHM_SLOTS) {
		if (!ushm__reap_all_locked(ns) || h->in_use >= h->shmmni ||
		    h->in_use >= USHM_SLOTS)
			return -ENOSPC;
	}
	if (ushm__thread_register_locked(ns, &creator, &creator_gen) == 0)
		creator++;
	else
		creator = creator_gen = 0;
	r = alloc_id_locked(h, &idx, &seq, &in);
	if (r)
		return r;
	id = ushm__id(idx, seq);
	c = ushm__cred();
	s = ushm__slot(h, idx);

	/* R2: CREATING until the file is complete; no lookup sees it. */
	ushm__wbegin(h);
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->key = (int32_t)key;
	s->orig_key = (int32_t)key;
	s->uid = s->cuid = c->euid;
	s->gid = s->cgid = c->fsgid;
	s->mode = (uint32_t)shmflg & USHM_MODE_PERMS;
	s->flags = flags;
	s->segsz = size;
	s->pages = pages;
	s->ctime = ushm__now();
	s->cpid = ushm__p.pid;
	s->creator = creator;
	s->creator_gen = creator_gen;
	s->state = SLOT_CREATING;
	ushm__wend(h);
	CRASH_POINT("create.creating");

	/* A private namespace makes the file at the first attach (segfile.c,
	 * ushm__seg_materialize_locked); a shared one now, as the creator. */
	fd = -1;
	if (ns->shared) {
		fd = ushm__seg_create(ns, (int32_t)key, id, s->mode, maplen,
				      &ino);
		CRASH_POINT("create.file_made");
		if (fd < 0) {
			ushm__wbegin(h);
			memset(s, 0, sizeof(*s));
			ushm__wend(h);
			return fd == -EFBIG ? -EINVAL : fd;
		}
		s->flags |= SEGF_FILE;
	}

	/* Commit.  R4: the allocator state goes to the journal first, the
	 * slot becomes LIVE in one store, then the derived data follows. */
	ushm__wbegin(h);
	s->ino = ino;
	in.op = INTENT_CREATE;
	in.slot = idx;
	h->intent = in;
	s->state = SLOT_LIVE;
	CRASH_POINT("create.live");
	if (key != IPC_PRIVATE)
		ushm__key_insert_locked(ns, (int32_t)key, idx);
	h->in_use++;
	CRASH_POINT("create.counted");
	h->shm_tot += pages;
	if (SEGF_RESERVES(s->flags))
		h->reserved += maplen;
	if ((int32_t)idx > h->max_idx)
		h->max_idx = (int32_t)idx;
	h->next_idx = in.next_idx;
	h->last_idx = in.last_idx;
	h->seq = in.seq;
	h->next_id = in.next_id;
	memset(&h->intent, 0, sizeof(h->intent));
	ushm__wend(h);
	/* Creating usually means attaching next: keep the descriptor. */
	if (fd >= 0 && !ushm__fd_insert_locked(ns, s, idx, fd, true))
		ushm__os_close(fd);
	return id;
}

static int shmget_locked(struct ushm_ns *ns, key_t key, size_t size,
			 int shmflg)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	if (key != IPC_PRIVATE) {
		int32_t idx = ushm__key_find(h, key);

		if (idx >= 0 && h->rmid_forced &&
		    ushm__reap_slot_locked(ns, (uint32_t)idx))
			idx = ushm__key_find(h, key);
		if (idx >= 0) {
			struct ushm_slot *s = ushm__slot(h, (uint32_t)idx);

			if (s->state == SLOT_LIVE && s->key == key)
				return existing_checks(s, (uint32_t)idx, size,
						       shmflg);
			/* The index disagrees with the slot. */
			ushm__wbegin(h);
			ushm__key_rebuild_locked(ns);
			ushm__wend(h);
			return shmget_locked(ns, key, size, shmflg);
		}
		if (!(shmflg & IPC_CREAT))
			return -ENOENT;
	}
	return newseg_locked(ns, key, size, shmflg);
}

int ushm_shmget(key_t key, size_t size, int shmflg)
{
	int err = 0, r;
	struct ushm_ns *ns = ushm__ns(&err);

	if (!ns)
		return fail(err);
	if (key != IPC_PRIVATE) {
		r = lookup_lockless(ns, key, size, shmflg);
		if (r != NEED_LOCK && (r != -ENOENT || !(shmflg & IPC_CREAT)))
			return r < 0 ? fail(r) : r;
	}
	if ((r = ushm__lock(ns)) != 0)
		return fail(r);
	r = shmget_locked(ns, key, size, shmflg);
	ushm__unlock(ns);
	return r < 0 ? fail(r) : r;
}

/* ---- shmat ---- */

/* An address where LEN bytes fit on a huge page boundary, as the
 * kernel's hugetlb_get_unmapped_area gives; 0 if there is none. */
static uintptr_t huge_aligned_hole(uint64_t len)
{
	uintptr_t p, a;

	p = (uintptr_t)ushm__os_mmap(NULL, len + USHM_HUGEPAGE, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_NORESERVE, -1, 0);
	if ((void *)p == MAP_FAILED)
		return 0;
	a = (p + USHM_HUGEPAGE - 1) & ~(USHM_HUGEPAGE - 1);
	if (a > p)
		ushm__os_munmap((void *)p, a - p);
	if (p + len + USHM_HUGEPAGE > a + len)
		ushm__os_munmap((void *)(a + len), p + len + USHM_HUGEPAGE -
						   (a + len));
	return a;	/* still reserved: MAP_FIXED replaces it */
}

/* A shmat between its two locked halves (do_shmat drops the lock for
 * do_mmap, holding the segment by nattch). */
struct attach {
	uint32_t idx, seq, rec;
	int prot, mflags, fd;
	struct fdc *ent;
	uint64_t maplen;
	uintptr_t addr;
	bool fixed;
	bool huge;		/* SHM_HUGETLB: aligned on a huge page */
};

/*
 * The checks, in do_shmat's order, then: count the attachment (a record
 * of one piece: nattch + 1, which also keeps the segment from being
 * destroyed while the lock is dropped) and get a descriptor of the file.
 */
static int shmat_begin_locked(struct ushm_ns *ns, int shmid, int shmflg,
			      struct attach *at)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t idx = ushm__id_idx(shmid);
	struct ushm_slot *s = ushm__slot(h, idx);
	int acc, oflags, r;

	USHM_ASSERT_LOCKED(ns);
	/* Dead attachers first: their exits came before this attach, and
	 * may have destroyed the segment (then the id is EINVAL). */
	if (s->state == SLOT_LIVE && s->seq == ushm__id_seq(shmid))
		ushm__reap_slot_locked(ns, idx);
	if (s->state != SLOT_LIVE || s->seq != ushm__id_seq(shmid))
		return -EINVAL;
	if (shmflg & SHM_RDONLY) {
		at->prot = PROT_READ;
		acc = 0444;
		oflags = O_RDONLY;
	} else {
		at->prot = PROT_READ | PROT_WRITE;
		acc = 0666;
		oflags = O_RDWR;
	}
	if (shmflg & SHM_EXEC) {
		at->prot |= PROT_EXEC;
		acc |= 0111;
	}
	if ((r = ushm__ipcperms(s, acc)) != 0)
		return r;
	if ((r = ushm__task_register_locked(ns)) != 0)
		return r;
	at->idx = idx;
	at->seq = s->seq;
	at->huge = s->flags & SEGF_HUGETLB;
	at->maplen = ushm__seg_maplen(s);
	at->mflags = MAP_SHARED;
	if (at->fixed)
		at->mflags |= (shmflg & SHM_REMAP) ? MAP_FIXED
						   : MAP_FIXED_NOREPLACE;
	if (at->fixed && !(shmflg & SHM_REMAP) &&
	    at->addr + at->maplen < at->addr)
		goto einval_may_destroy;
	/* A huge page mapping starts on a huge page boundary. */
	if (at->fixed && at->huge && (at->addr & (USHM_HUGEPAGE - 1)))
		goto einval_may_destroy;
	if ((r = ushm__att_alloc_locked(ns, &at->rec)) != 0)
		return r;
	if (!(s->flags & SEGF_FILE) &&
	    (r = ushm__seg_materialize_locked(ns, s, idx)) != 0)
		return r;
	at->fd = ushm__fd_get_locked(ns, s, idx, oflags, &at->ent);
	if (at->fd < 0)
		return at->fd;
	ushm__att_link_locked(ns, at->rec, (uint32_t)ushm__p.task, idx, 0,
			      at->maplen, 1, shmflg | (int)ATT_PENDING);
	CRASH_POINT("attach.counted");
	return 0;

einval_may_destroy:
	/* do_shmat's error path: with shm_rmid_forced, a segment nobody
	 * has attached goes (SEMANTICS 3.13, 6.7c). */
	if (ushm__may_destroy(h, s))
		ushm__destroy_locked(ns, idx);
	return -EINVAL;
}

/* Outside the lock: the mapping itself. */
static void *shmat_map(struct attach *at, int *err)
{
	uintptr_t addr = at->addr;
	int mflags = at->mflags;
	void *p;

	if (!at->fixed && at->huge) {
		addr = huge_aligned_hole(at->maplen);
		if (!addr) {
			*err = -ENOMEM;
			return MAP_FAILED;
		}
		mflags |= MAP_FIXED;
	}
	p = ushm__os_mmap((void *)addr, at->maplen, at->prot, mflags, at->fd,
			  0);
	if (p == MAP_FAILED) {
		/* An overlap is EINVAL for shmat, EEXIST for mmap. */
		*err = errno == EEXIST ? -EINVAL : -errno;
		if (addr && !at->fixed)
			ushm__os_munmap((void *)addr, at->maplen);
		return MAP_FAILED;
	}
	if ((at->fixed || addr) && (uintptr_t)p != addr) {
		ushm__os_munmap(p, at->maplen);	/* NOREPLACE unsupported */
		*err = -EINVAL;
		return MAP_FAILED;
	}
	return p;
}

/* Whether the count shmat_begin_locked took is still ours and its
 * segment still the same. */
static bool pin_held_locked(struct ushm_ns *ns, const struct attach *at)
{
	struct ushm_hdr *h = ns->hdr;
	const struct ushm_att *a = ushm__att(h, at->rec);
	const struct ushm_slot *s = ushm__slot(h, at->idx);

	return a->state == ATT_LIVE && (a->shmflg & ATT_PENDING) &&
	       (int32_t)a->task == ushm__p.task && a->slot == at->idx &&
	       a->seq == at->seq && s->state == SLOT_LIVE &&
	       s->seq == at->seq;
}

/* Back under the lock: account for the mapping (shm_open: atime, lpid),
 * or take back the count of a failed one. */
static void *shmat_end_locked(struct ushm_ns *ns, struct attach *at, void *p,
			      int *err)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, at->idx);
	int r;

	USHM_ASSERT_LOCKED(ns);
	ushm__fd_put_locked(ns, at->ent, at->fd);
	CRASH_POINT("attach.mapped");
	if (!pin_held_locked(ns, at)) {
		/* While we mapped, a repair took our count away (it found
		 * the registry damaged): the segment may be gone.  The
		 * kernel's answer to an object destroyed under a shmat. */
		if (p != MAP_FAILED)
			ushm__os_munmap(p, at->maplen);
		*err = -EIDRM;
		return MAP_FAILED;
	}
	if (p == MAP_FAILED) {
		ushm__att_unpin_locked(ns, at->rec);
		return MAP_FAILED;
	}
	if (at->mflags & MAP_FIXED)	/* it replaced what was there */
		ushm__pieces_unmapped_locked(ns, (uintptr_t)p,
					     (uintptr_t)p + at->maplen);
	r = ushm__piece_add_locked((uintptr_t)p, (uintptr_t)p + at->maplen, 0,
				   at->prot, at->rec, at->idx, at->seq);
	if (r) {
		ushm__os_munmap(p, at->maplen);
		ushm__att_unpin_locked(ns, at->rec);
		*err = r;
		return MAP_FAILED;
	}
	ushm__wbegin(h);
	ushm__att(h, at->rec)->addr = (uintptr_t)p;
	ushm__att(h, at->rec)->shmflg &= ~ATT_PENDING;
	s->atime = ushm__now();
	s->lpid = ushm__p.pid;
	s->flags |= SEGF_MAPPED;
	ushm__wend(h);
	return p;
}

void *ushm_shmat(int shmid, const void *shmaddr, int shmflg)
{
	struct attach at = { .addr = (uintptr_t)shmaddr, .fd = -1 };
	struct ushm_ns *ns;
	int err = 0, r;
	void *p;

	if (shmid < 0)
		goto einval;
	if (at.addr) {
		if (at.addr & (USHM_PAGE - 1)) {
			if (!(shmflg & SHM_RND))
				goto einval;
			at.addr &= ~(USHM_PAGE - 1);
			if (!at.addr && (shmflg & SHM_REMAP))
				goto einval;
		}
		at.fixed = true;	/* even when rounded down to 0 */
	} else if (shmflg & SHM_REMAP) {
		goto einval;
	}
	ns = ushm__ns(&err);
	if (!ns)
		goto error;
	if ((err = ushm__lock(ns)) != 0)
		goto error;
	err = shmat_begin_locked(ns, shmid, shmflg, &at);
	ushm__unlock(ns);
	if (err)
		goto error;
	p = shmat_map(&at, &err);
	if ((r = ushm__lock(ns)) != 0) {
		/* Only a registry made unusable meanwhile: the attachment
		 * stays counted for as long as we live. */
		if (p != MAP_FAILED)
			ushm__os_munmap(p, at.maplen);
		err = r;
		goto error;
	}
	p = shmat_end_locked(ns, &at, p, &err);
	ushm__unlock(ns);
	if (p != MAP_FAILED)
		return p;
error:
	errno = -err;
	return (void *)-1;
einval:
	errno = EINVAL;
	return (void *)-1;
}

/* ---- shmdt ---- */

int ushm_shmdt(const void *shmaddr)
{
	uintptr_t addr = (uintptr_t)shmaddr;
	struct ushm_ns *ns = __atomic_load_n(&ushm__p.ns, __ATOMIC_ACQUIRE);
	struct ushm_local *taken;
	size_t n, kept = 0;
	int r;

	if (addr & (USHM_PAGE - 1))
		return fail(-EINVAL);
	if (!ns)
		return fail(-EINVAL);	/* nothing was ever attached */
	if ((r = ushm__lock(ns)) != 0)
		return fail(r);
	r = ushm__shmdt_take_locked(ns, addr, &taken, &n);
	ushm__unlock(ns);
	if (r)
		return fail(r);
	/* Unmapped without the lock, as the kernel's munmap; the pieces
	 * stay counted until they are closed below. */
	for (size_t i = 0; i < n; i++) {
		if (ushm__os_munmap((void *)taken[i].start,
				    taken[i].end - taken[i].start) == 0) {
			taken[kept++] = taken[i];
			continue;
		}
		/* Still mapped (whole mappings always go; only a kernel out
		 * of memory keeps one): still attached, and the caller
		 * hears of it. */
		r = -errno;
		ushm__seterr("cannot unmap %p: %s", (void *)taken[i].start,
			     strerror(errno));
		if (ushm__lock(ns) == 0) {
			ushm__piece_add_locked(taken[i].start, taken[i].end,
					       taken[i].offset, taken[i].prot,
					       taken[i].rec, taken[i].slot,
					       taken[i].seq);
			ushm__unlock(ns);
		}
	}
	if (kept && ushm__lock(ns) == 0) {
		ushm__pieces_closed_locked(ns, taken, kept);
		ushm__unlock(ns);
	}
	ushm__shmdt_taken_free(taken);
	return r < 0 ? fail(r) : 0;
}
