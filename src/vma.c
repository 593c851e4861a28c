/*
 * vma.c - the pieces of our attachments, as the kernel's VMAs.
 *
 * The kernel's nattch counts VMAs, not shmat calls (SEMANTICS.md 4.6):
 * a VMA split by a partial munmap or mprotect opens a new one (shm_open:
 * nattch + 1, atime, lpid), every VMA unmapped closes one (shm_close:
 * nattch - 1, dtime, lpid), and shm VMAs never merge back.  shmdt works
 * on VMAs too (4.2, 4.3).  So this process keeps the list of its pieces
 * (ushm__p.locals), and the library wraps the C library's munmap,
 * mprotect, mremap and mmap to replay on that list what the kernel does
 * to its VMAs, counting each open and close in the registry.
 *
 * Locking: the piece list is protected by the registry lock of
 * ushm__p.ns.  The wrappers take that lock around the real call when
 * this process has pieces, so that no shmat of another thread can land
 * in a range between the call and its accounting.  Without pieces they
 * cost one load.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define PAGE_UP(x)	(((x) + USHM_PAGE - 1) & ~(uintptr_t)(USHM_PAGE - 1))

int ushm__piece_add_locked(uintptr_t start, uintptr_t end, uint64_t offset,
			   int prot, uint32_t rec, uint32_t slot, uint32_t seq)
{
	struct ushm_local *l;

	if (ushm__p.nlocals == ushm__p.caplocals) {
		size_t cap = ushm__p.caplocals ? ushm__p.caplocals * 2 : 16;

		l = realloc(ushm__p.locals, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		ushm__p.locals = l;
		ushm__p.caplocals = cap;
	}
	l = &ushm__p.locals[ushm__p.nlocals];
	l->start = start;
	l->end = end;
	l->offset = offset;
	l->prot = prot;
	l->dontfork = false;
	l->rec = rec;
	l->slot = slot;
	l->seq = seq;
	l->child_rec = ~0u;
	__atomic_store_n(&ushm__p.nlocals, ushm__p.nlocals + 1,
			 __ATOMIC_RELEASE);
	return 0;
}

static void piece_remove(size_t i)
{
	ushm__p.locals[i] = ushm__p.locals[ushm__p.nlocals - 1];
	__atomic_store_n(&ushm__p.nlocals, ushm__p.nlocals - 1,
			 __ATOMIC_RELEASE);
}

/* Whether the piece's record is still ours (a repair may have dropped
 * it); pieces of a lost record are forgotten without accounting. */
static bool piece_counted(struct ushm_ns *ns, const struct ushm_local *l)
{
	const struct ushm_att *a = ushm__att(ns->hdr, l->rec);

	return a->state == ATT_LIVE && (int32_t)a->task == ushm__p.task &&
	       a->slot == l->slot && a->seq == l->seq;
}

static void piece_open(struct ushm_ns *ns, const struct ushm_local *l)
{
	if (piece_counted(ns, l))
		ushm__att_pieces_locked(ns, l->rec, +1);
}

static void piece_close(struct ushm_ns *ns, const struct ushm_local *l)
{
	if (piece_counted(ns, l))
		ushm__att_pieces_locked(ns, l->rec, -1);
}

/*
 * [A, B) was unmapped (munmap, MAP_FIXED, SHM_REMAP, mremap's source).
 * A piece inside it closes; a piece that sticks out is split first, each
 * split opening a VMA, as __split_vma does.
 */
void ushm__pieces_unmapped_locked(struct ushm_ns *ns, uintptr_t a,
				  uintptr_t b)
{
	USHM_ASSERT_LOCKED(ns);
	for (size_t i = 0; i < ushm__p.nlocals;) {
		struct ushm_local l = ushm__p.locals[i];

		if (l.end <= a || l.start >= b) {
			i++;
			continue;
		}
		if (l.start < a && l.end > b) {
			/* The middle goes: two splits, one close. */
			ushm__p.locals[i].end = a;
			piece_open(ns, &l);
			if (ushm__piece_add_locked(b, l.end,
						   l.offset + (b - l.start),
						   l.prot, l.rec, l.slot,
						   l.seq) == 0) {
				ushm__p.locals[ushm__p.nlocals - 1].dontfork =
					l.dontfork;
				piece_open(ns, &l);
			}
			piece_close(ns, &l);
			i++;
		} else if (l.start < a) {
			ushm__p.locals[i].end = a;	/* the tail goes */
			piece_open(ns, &l);
			piece_close(ns, &l);
			i++;
		} else if (l.end > b) {
			ushm__p.locals[i].start = b;	/* the head goes */
			ushm__p.locals[i].offset += b - l.start;
			piece_open(ns, &l);
			piece_close(ns, &l);
			i++;
		} else {
			piece_remove(i);	/* all of it */
			piece_close(ns, &l);
		}
	}
}

/* What a VMA's flags hold that the library tracks. */
enum piece_attr { ATTR_PROT, ATTR_DONTFORK };

static int attr_get(const struct ushm_local *l, enum piece_attr attr)
{
	return attr == ATTR_PROT ? l->prot : l->dontfork;
}

static void attr_set(struct ushm_local *l, enum piece_attr attr, int v)
{
	if (attr == ATTR_PROT)
		l->prot = v;
	else
		l->dontfork = v;
}

/*
 * [A, B) gets a new flag value (mprotect: the protection; madvise: the
 * no-fork mark).  Pieces whose value changes split at the range's ends,
 * each split opening a VMA (mprotect_fixup, madvise_update_vma); pieces
 * that already have the value stay whole.
 */
static void pieces_set_locked(struct ushm_ns *ns, uintptr_t a, uintptr_t b,
			      enum piece_attr attr, int v)
{
	size_t n = ushm__p.nlocals;

	for (size_t i = 0; i < n; i++) {
		struct ushm_local l = ushm__p.locals[i];

		if (l.end <= a || l.start >= b || attr_get(&l, attr) == v)
			continue;
		if (l.start < a) {
			if (ushm__piece_add_locked(l.start, a, l.offset, l.prot,
						   l.rec, l.slot, l.seq) == 0) {
				ushm__p.locals[ushm__p.nlocals - 1].dontfork =
					l.dontfork;
				piece_open(ns, &l);
			}
			ushm__p.locals[i].start = a;
			ushm__p.locals[i].offset += a - l.start;
		}
		if (l.end > b) {
			if (ushm__piece_add_locked(b, l.end,
						   l.offset + (b - l.start),
						   l.prot, l.rec, l.slot,
						   l.seq) == 0) {
				ushm__p.locals[ushm__p.nlocals - 1].dontfork =
					l.dontfork;
				piece_open(ns, &l);
			}
			ushm__p.locals[i].end = b;
		}
		attr_set(&ushm__p.locals[i], attr, v);
	}
}

static long piece_at(uintptr_t addr)
{
	for (size_t i = 0; i < ushm__p.nlocals; i++)
		if (ushm__p.locals[i].start <= addr &&
		    addr < ushm__p.locals[i].end)
			return (long)i;
	return -1;
}

/* After a successful mremap of [OLD, OLD + OLD_LEN) to [NEW, NEW +
 * NEW_LEN) within piece L. */
static void pieces_remapped_locked(struct ushm_ns *ns, struct ushm_local l,
				   uintptr_t old, size_t old_len,
				   uintptr_t new, size_t new_len)
{
	uint64_t off = l.offset + (old - l.start);

	if (new == old && old_len) {
		if (new_len < old_len) {
			ushm__pieces_unmapped_locked(ns, old + new_len,
						     old + old_len);
		} else {
			long i = piece_at(old);

			if (i >= 0 && ushm__p.locals[i].end == old + old_len)
				ushm__p.locals[i].end = old + new_len;
		}
		return;
	}
	/* A copy (OLD_LEN 0) or a move: a new VMA opens; a move then
	 * unmaps the source. */
	if (ushm__piece_add_locked(new, new + new_len, off, l.prot, l.rec,
				   l.slot, l.seq) == 0)
		piece_open(ns, &l);
	if (old_len) {
		/* Keep the new piece out of the unmapped range's way. */
		ushm__pieces_unmapped_locked(ns, old, old + old_len);
	}
}

/*
 * shmdt (ksys_shmdt): the first piece at or above ADDR that started at
 * ADDR - its offset goes, and then every later piece of the same segment
 * that did too and ends within the segment's size from ADDR.  Here they
 * only leave our list, into *OUT (N of them), which the caller unmaps,
 * closes (ushm__pieces_closed_locked) and gives to
 * ushm__shmdt_taken_free().
 */
static __thread struct ushm_local taken_buf[4];	/* usually enough */

void ushm__shmdt_taken_free(struct ushm_local *taken)
{
	if (taken != taken_buf)
		free(taken);
}

int ushm__shmdt_take_locked(struct ushm_ns *ns, uintptr_t addr,
			    struct ushm_local **out, size_t *n)
{
	struct ushm_local first, *taken;
	uint64_t size;
	long best = -1;
	size_t cap;

	USHM_ASSERT_LOCKED(ns);
	for (size_t i = 0; i < ushm__p.nlocals; i++) {
		struct ushm_local *l = &ushm__p.locals[i];

		if (l->start >= addr && l->start - addr == l->offset &&
		    (best < 0 || l->start < ushm__p.locals[best].start))
			best = (long)i;
	}
	if (best < 0)
		return -EINVAL;
	taken = taken_buf;
	cap = sizeof(taken_buf) / sizeof(taken_buf[0]);
	first = ushm__p.locals[best];
	size = ushm__seg_maplen(ushm__slot(ns->hdr, first.slot));
	/* Dead attachers' exits came before this detach. */
	ushm__reap_slot_locked(ns, first.slot);
	piece_remove((size_t)best);
	taken[0] = first;
	*n = 1;
	for (size_t i = 0; i < ushm__p.nlocals;) {
		struct ushm_local l = ushm__p.locals[i];

		if (l.start > first.start && l.slot == first.slot &&
		    l.seq == first.seq && l.start - addr == l.offset &&
		    l.end - addr <= size) {
			if (*n == cap) {
				struct ushm_local *t;

				t = taken == taken_buf
					    ? malloc(2 * cap * sizeof(*t))
					    : realloc(taken, 2 * cap * sizeof(*t));
				if (!t)
					break;	/* the rest stays attached */
				if (taken == taken_buf)
					memcpy(t, taken, cap * sizeof(*t));
				taken = t;
				cap *= 2;
			}
			piece_remove(i);
			taken[(*n)++] = l;
			continue;
		}
		i++;
	}
	*out = taken;
	return 0;
}

/* The N pieces L, unmapped, are closed (shm_close for each). */
void ushm__pieces_closed_locked(struct ushm_ns *ns,
				const struct ushm_local *l, size_t n)
{
	USHM_ASSERT_LOCKED(ns);
	for (size_t i = 0; i < n; i++)
		piece_close(ns, &l[i]);
}

/* At exit(): what exit_shm and the unmapping of our address space would
 * do to the registry, done now while we still can.  The memory itself
 * stays mapped: other threads may still run while exit handlers do. */
void ushm__pieces_exit_locked(struct ushm_ns *ns)
{
	USHM_ASSERT_LOCKED(ns);
	while (ushm__p.nlocals) {
		struct ushm_local l = ushm__p.locals[ushm__p.nlocals - 1];

		piece_remove(ushm__p.nlocals - 1);
		piece_close(ns, &l);
	}
}

/* ---- the wrappers ---- */

#define EXPORT __attribute__((visibility("default")))

/* The namespace, locked, if this process has pieces; else NULL. */
static struct ushm_ns *lock_if_pieces(void)
{
	struct ushm_ns *ns;

	if (!__atomic_load_n(&ushm__p.nlocals, __ATOMIC_ACQUIRE))
		return NULL;
	ns = __atomic_load_n(&ushm__p.ns, __ATOMIC_ACQUIRE);
	if (!ns || ushm__lock(ns) != 0)
		return NULL;
	return ns;
}

EXPORT int munmap(void *addr, size_t len)
{
	struct ushm_ns *ns = lock_if_pieces();
	int r, e;

	r = (int)syscall(SYS_munmap, addr, len);
	e = errno;
	if (ns) {
		if (r == 0 && len)
			ushm__pieces_unmapped_locked(ns, (uintptr_t)addr,
					(uintptr_t)addr + PAGE_UP(len));
		ushm__unlock(ns);
	}
	errno = e;
	return r;
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	struct ushm_ns *ns = lock_if_pieces();
	int r, e;

	r = (int)syscall(SYS_mprotect, addr, len, prot);
	e = errno;
	if (ns) {
		if (r == 0 && len)
			pieces_set_locked(ns, (uintptr_t)addr,
					(uintptr_t)addr + PAGE_UP(len),
					ATTR_PROT, prot);
		ushm__unlock(ns);
	}
	errno = e;
	return r;
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
	bool fork_advice = advice == MADV_DONTFORK || advice == MADV_DOFORK;
	struct ushm_ns *ns = fork_advice ? lock_if_pieces() : NULL;
	int r, e;

	r = (int)syscall(SYS_madvise, addr, len, advice);
	e = errno;
	if (ns) {
		if (r == 0 && len)
			pieces_set_locked(ns, (uintptr_t)addr,
					  (uintptr_t)addr + PAGE_UP(len),
					  ATTR_DONTFORK,
					  advice == MADV_DONTFORK);
		ushm__unlock(ns);
	}
	errno = e;
	return r;
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags,
		    ...)
{
	struct ushm_ns *ns = lock_if_pieces();
	void *new_addr = NULL, *r;
	va_list ap;
	long i;
	int e;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	r = (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
			    new_addr);
	e = errno;
	if (ns) {
		i = piece_at((uintptr_t)old);
		if (r != MAP_FAILED && i >= 0) {
			if (flags & MREMAP_FIXED)	/* target unmapped */
				ushm__pieces_unmapped_locked(ns,
					(uintptr_t)r,
					(uintptr_t)r + PAGE_UP(new_len));
			i = piece_at((uintptr_t)old);
			if (i >= 0)
				pieces_remapped_locked(ns, ushm__p.locals[i],
					(uintptr_t)old, PAGE_UP(old_len),
					(uintptr_t)r, PAGE_UP(new_len));
		}
		ushm__unlock(ns);
	}
	errno = e;
	return r;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	/* Only MAP_FIXED replaces what was there. */
	struct ushm_ns *ns = (flags & MAP_FIXED) ? lock_if_pieces() : NULL;
	void *r;
	int e;

	r = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	e = errno;
	if (ns) {
		if (r != MAP_FAILED && len)
			ushm__pieces_unmapped_locked(ns, (uintptr_t)r,
					(uintptr_t)r + PAGE_UP(len));
		ushm__unlock(ns);
	}
	errno = e;
	return r;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off) __attribute__((alias("mmap")));

/* Normal exit: detach in the registry now (exit.c), rather than leave it
 * to the next caller that finds us dead.  Priority 101, the last a
 * program may use: destructors run in the reverse order of their
 * priorities, so this one comes after the program's own (and after its
 * atexit handlers, which exit() runs before any destructor). */
__attribute__((destructor(101))) static void pieces_at_exit(void)
{
	ushm__exit_detach();
}
