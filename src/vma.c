/*
 * vma.c - the pieces of our attachments, as the kernel's VMAs.
 *
 * The kernel's nattch counts VMAs, not shmat calls (SEMANTICS.md 4.6):
 * a VMA split by a partial munmap, mprotect, madvise or mlock opens a
 * new one (shm_open: nattch + 1, atime, lpid), every VMA unmapped closes
 * one (shm_close: nattch - 1, dtime, lpid), and a VMA merges with a
 * neighbour only where no VMA has to go for it (every shm VMA has a close
 * operation; mm/vma.c since 6.12).  shmdt works on VMAs too (4.2, 4.3).
 * So this process keeps the list of its pieces (ushm__p.locals), and the
 * library wraps the C library's munmap, mprotect, madvise, mremap, mmap,
 * mlock family and remap_file_pages, and syscall(3) with their numbers
 * (route.h), to replay on that list what the kernel does to its VMAs,
 * counting each open and close in the registry.  The wrappers make the
 * real calls with os.h's raw system call, which none of ours intercepts.
 *
 * Locking: the piece list is protected by the registry lock of
 * ushm__p.ns.  The wrappers take that lock around the real call when
 * this process has pieces, so that no shmat of another thread can land
 * in a range between the call and its accounting.  Without pieces they
 * cost one load.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "route.h"

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
	l->vmf = 0;
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

/* A piece [START, END) at OFFSET with L's attachment and flags. */
static int piece_add_like(uintptr_t start, uintptr_t end, uint64_t offset,
			  const struct ushm_local *l)
{
	int r = ushm__piece_add_locked(start, end, offset, l->prot, l->rec,
				       l->slot, l->seq);

	if (r == 0) {
		ushm__p.locals[ushm__p.nlocals - 1].dontfork = l->dontfork;
		ushm__p.locals[ushm__p.nlocals - 1].vmf = l->vmf;
	}
	return r;
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
			if (piece_add_like(b, l.end, l.offset + (b - l.start),
					   &l) == 0)
				piece_open(ns, &l);
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

/*
 * What a VMA's flags hold that the library tracks, because a change of
 * them splits VMAs: the protection, VM_DONTCOPY (dontfork) and, in vmf,
 * the others that madvise and mlock set.
 */
enum {
	VMF_RAND_READ = 1,	/* MADV_RANDOM */
	VMF_SEQ_READ = 2,	/* MADV_SEQUENTIAL */
	VMF_HUGEPAGE = 4,	/* MADV_HUGEPAGE */
	VMF_NOHUGEPAGE = 8,	/* MADV_NOHUGEPAGE */
	VMF_DONTDUMP = 16,	/* MADV_DONTDUMP */
	VMF_LOCKED = 32,	/* mlock */
	VMF_LOCKONFAULT = 64,	/* mlock2(MLOCK_ONFAULT) */
};

/* A change of flags: a new protection and no-fork mark (-1: kept), and
 * vmf bits cleared, then set. */
struct flagchg {
	int prot, dontfork;
	uint8_t clr, set;
};

static void flags_apply(struct ushm_local *l, const struct flagchg *f)
{
	if (f->prot >= 0)
		l->prot = f->prot;
	if (f->dontfork >= 0)
		l->dontfork = f->dontfork;
	l->vmf = (uint8_t)((l->vmf & ~f->clr) | f->set);
}

static bool same_flags(const struct ushm_local *x, const struct ushm_local *y)
{
	return x->prot == y->prot && x->dontfork == y->dontfork &&
	       x->vmf == y->vmf;
}

static long piece_at(uintptr_t addr)
{
	for (size_t i = 0; i < ushm__p.nlocals; i++)
		if (ushm__p.locals[i].start <= addr &&
		    addr < ushm__p.locals[i].end)
			return (long)i;
	return -1;
}

/* The piece that ends at A, or starts at B; -1 if none. */
static long piece_ending_at(uintptr_t a)
{
	for (size_t i = 0; i < ushm__p.nlocals; i++)
		if (ushm__p.locals[i].end == a)
			return (long)i;
	return -1;
}

static long piece_starting_at(uintptr_t b)
{
	for (size_t i = 0; i < ushm__p.nlocals; i++)
		if (ushm__p.locals[i].start == b)
			return (long)i;
	return -1;
}

/* The lowest piece that overlaps [A, B), or -1. */
static long piece_first_in(uintptr_t a, uintptr_t b)
{
	long best = -1;

	for (size_t i = 0; i < ushm__p.nlocals; i++) {
		const struct ushm_local *l = &ushm__p.locals[i];

		if (l->end > a && l->start < b &&
		    (best < 0 || l->start < ushm__p.locals[best].start))
			best = (long)i;
	}
	return best;
}

/* Whether X and Y are VMAs of the same file (the same attachment: each
 * shmat has a file of its own) with the same flags. */
static bool alike(const struct ushm_local *x, const struct ushm_local *y)
{
	return x->rec == y->rec && x->slot == y->slot && x->seq == y->seq &&
	       same_flags(x, y);
}

/*
 * Merging (mm/vma.c since 6.12): the kernel joins a VMA to an adjacent
 * one of the same file and flags whose offsets follow on, as long as no
 * VMA with a close operation (every shm VMA has one) has to go for it.
 * So a changed or new range that touches such a neighbour at one end
 * extends it instead of splitting off (or opening) a VMA of its own,
 * while a whole VMA never merges away.  Measured on the kernel:
 * tests/t_routes.c, routes_merge.
 */

/* Split the pieces at A and B and give [A, B) new flags (mprotect,
 * madvise, mlock), per VMA as mprotect_fixup, madvise_update_vma and
 * mlock_fixup do: a piece whose flags do not change stays whole; one
 * changed whole keeps its bounds; a changed head or tail joins the
 * neighbour it touches if it can (no open), else splits off
 * (__split_vma: an open per split). */
static void pieces_set_locked(struct ushm_ns *ns, uintptr_t a, uintptr_t b,
			      const struct flagchg *f)
{
	uintptr_t at = a;
	long i, j;

	while ((i = piece_first_in(at, b)) >= 0) {
		struct ushm_local l = ushm__p.locals[i], c = l;
		uintptr_t la = l.start > a ? l.start : a;
		uintptr_t lb = l.end < b ? l.end : b;

		at = l.end;
		flags_apply(&c, f);	/* what the changed part becomes */
		if (same_flags(&c, &l))
			continue;
		if (la == l.start && lb == l.end) {
			flags_apply(&ushm__p.locals[i], f);
			continue;
		}
		if (la == l.start && (j = piece_ending_at(la)) >= 0 &&
		    alike(&ushm__p.locals[j], &c) &&
		    ushm__p.locals[j].offset + (la - ushm__p.locals[j].start) ==
			    l.offset) {
			ushm__p.locals[j].end = lb;	/* joins left */
			ushm__p.locals[i].start = lb;
			ushm__p.locals[i].offset += lb - l.start;
			continue;
		}
		if (lb == l.end && (j = piece_starting_at(lb)) >= 0 &&
		    alike(&ushm__p.locals[j], &c) &&
		    l.offset + (lb - l.start) == ushm__p.locals[j].offset) {
			ushm__p.locals[j].start = la;	/* joins right */
			ushm__p.locals[j].offset -= lb - la;
			ushm__p.locals[i].end = la;
			continue;
		}
		if (l.start < la) {
			if (piece_add_like(l.start, la, l.offset, &l) == 0)
				piece_open(ns, &l);
			ushm__p.locals[i].start = la;
			ushm__p.locals[i].offset += la - l.start;
		}
		if (l.end > lb) {
			if (piece_add_like(lb, l.end, l.offset + (lb - l.start),
					   &l) == 0)
				piece_open(ns, &l);
			ushm__p.locals[i].end = lb;
		}
		flags_apply(&ushm__p.locals[i], f);
	}
}

/* A new VMA [A, B) at OFFSET of L's file with L's flags (copy_vma for
 * mremap, do_mmap for remap_file_pages): vma_merge_new_range joins it
 * to the piece before it if it can, else to the one after; only a VMA
 * that joins none is opened (shm_open).  0, or -ENOMEM. */
static int piece_new_locked(struct ushm_ns *ns, const struct ushm_local *l,
			    uintptr_t a, uintptr_t b, uint64_t offset)
{
	long j = piece_ending_at(a);
	int r;

	if (j >= 0 && alike(&ushm__p.locals[j], l) &&
	    ushm__p.locals[j].offset + (a - ushm__p.locals[j].start) ==
		    offset) {
		ushm__p.locals[j].end = b;
		return 0;
	}
	j = piece_starting_at(b);
	if (j >= 0 && alike(&ushm__p.locals[j], l) &&
	    offset + (b - a) == ushm__p.locals[j].offset) {
		ushm__p.locals[j].start = a;
		ushm__p.locals[j].offset = offset;
		return 0;
	}
	if ((r = piece_add_like(a, b, offset, l)) != 0)
		return r;
	piece_open(ns, l);
	return 0;
}

/* After a successful mremap of [OLD, OLD + OLD_LEN) to [NEW, NEW +
 * NEW_LEN) within piece L. */
static void pieces_remapped_locked(struct ushm_ns *ns, struct ushm_local l,
				   uintptr_t old, size_t old_len,
				   uintptr_t new, size_t new_len, int flags)
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
	/* A copy (OLD_LEN 0) or a move: a new VMA, unless it merges; a move
	 * then unmaps the source, unless MREMAP_DONTUNMAP keeps it (whole,
	 * without VM_LOCKED: move_vma). */
	piece_new_locked(ns, &l, new, new + new_len, off);
	if (old_len && (flags & MREMAP_DONTUNMAP)) {
		long i = piece_at(old);

		if (i >= 0)
			ushm__p.locals[i].vmf &=
				(uint8_t)~(VMF_LOCKED | VMF_LOCKONFAULT);
	} else if (old_len) {
		/* Keep the new piece out of the unmapped range's way. */
		ushm__pieces_unmapped_locked(ns, old, old + old_len);
	}
}

/*
 * shmdt (ksys_shmdt): the first piece at or above ADDR that started at
 * ADDR - its offset goes, and then every later piece of the same file
 * (the same attachment: each shmat has a file of its own) that did too
 * and ends within the segment's size from ADDR.  Offsets are what
 * munmap, mremap and remap_file_pages left them.  Here they
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

		if (l.start > first.start && l.rec == first.rec &&
		    l.slot == first.slot && l.seq == first.seq &&
		    l.start - addr == l.offset &&
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

/*
 * Each wrapper makes the real call with os.h's raw system call, which
 * nothing of ours intercepts, and returns the kernel's value (-errno on
 * failure); the exported functions below turn that into libc's form.
 */
long ushm__vma_munmap(uintptr_t addr, size_t len)
{
	struct ushm_ns *ns = lock_if_pieces();
	long r = ushm__os_raw3(SYS_munmap, addr, len, 0);

	if (ns) {
		if (r == 0 && len)
			ushm__pieces_unmapped_locked(ns, addr,
						     addr + PAGE_UP(len));
		ushm__unlock(ns);
	}
	return r;
}

/* Whether every page of [A, B) is mapped: mincore fails with ENOMEM
 * on a hole. */
static bool all_mapped(uintptr_t a, uintptr_t b)
{
	unsigned char vec[256];

	while (a < b) {
		size_t n = (b - a) / USHM_PAGE;

		if (n > sizeof(vec))
			n = sizeof(vec);
		if (ushm__os_raw3(SYS_mincore, a, n * USHM_PAGE, vec) != 0)
			return false;
		a += n * USHM_PAGE;
	}
	return true;
}

/*
 * After the real call R changed flags over [A, A + LEN): on success the
 * whole range; on ENOMEM (a hole) what the kernel changed before it
 * gave up: with UPTO_HOLE (mprotect, mlock) the VMAs from A up to the
 * first hole, if A itself is mapped, else (madvise) every VMA of the
 * range.  Other errors come before any change.
 */
static void set_after(struct ushm_ns *ns, long r, uintptr_t a, size_t len,
		      const struct flagchg *f, bool upto_hole)
{
	uintptr_t b = a + PAGE_UP(len), at = a;
	long i;

	if (!len || (r != 0 && r != -ENOMEM))
		return;
	if (r == 0 || !upto_hole) {
		pieces_set_locked(ns, a, b, f);
		return;
	}
	while ((i = piece_first_in(at, b)) >= 0) {
		uintptr_t s = ushm__p.locals[i].start > a
				      ? ushm__p.locals[i].start : a;
		uintptr_t e = ushm__p.locals[i].end < b
				      ? ushm__p.locals[i].end : b;

		if (!all_mapped(at, s))
			return;
		pieces_set_locked(ns, s, e, f);
		at = e;
	}
}

/* mprotect, or (N SYS_pkey_mprotect) pkey_mprotect, whose key -1 is
 * mprotect's; another key is a flag of the VMA too, not tracked here: a
 * key cannot be had without the CPU's protection keys, and the machines
 * tested have none (pkey_alloc: EINVAL). */
long ushm__vma_mprotect(long n, uintptr_t addr, size_t len, int prot,
			int pkey)
{
	struct flagchg f = { .prot = prot, .dontfork = -1 };
	struct ushm_ns *ns = lock_if_pieces();
	long r = ushm__os_raw(n, (long)addr, (long)len, prot, pkey, 0, 0);

	if (ns) {
		set_after(ns, r, addr, len, &f, true);
		ushm__unlock(ns);
	}
	return r;
}

/* The flags ADVICE changes (madvise_vma_behavior); false if none. */
static bool advice_flags(int advice, struct flagchg *f)
{
	*f = (struct flagchg){ .prot = -1, .dontfork = -1 };
	switch (advice) {
	case MADV_NORMAL:
		f->clr = VMF_RAND_READ | VMF_SEQ_READ;
		return true;
	case MADV_RANDOM:
		f->clr = VMF_SEQ_READ;
		f->set = VMF_RAND_READ;
		return true;
	case MADV_SEQUENTIAL:
		f->clr = VMF_RAND_READ;
		f->set = VMF_SEQ_READ;
		return true;
	case MADV_DONTFORK:
	case MADV_DOFORK:
		f->dontfork = advice == MADV_DONTFORK;
		return true;
	case MADV_HUGEPAGE:
		f->clr = VMF_NOHUGEPAGE;
		f->set = VMF_HUGEPAGE;
		return true;
	case MADV_NOHUGEPAGE:
		f->clr = VMF_HUGEPAGE;
		f->set = VMF_NOHUGEPAGE;
		return true;
	case MADV_DONTDUMP:
		f->set = VMF_DONTDUMP;
		return true;
	case MADV_DODUMP:
		f->clr = VMF_DONTDUMP;
		return true;
	}
	return false;	/* no flag: no split (routes_vma_flags) */
}

long ushm__vma_madvise(uintptr_t addr, size_t len, int advice)
{
	struct flagchg f;
	struct ushm_ns *ns = advice_flags(advice, &f) ? lock_if_pieces()
						       : NULL;
	long r = ushm__os_raw3(SYS_madvise, addr, len, advice);

	if (ns) {
		set_after(ns, r, addr, len, &f, false);
		ushm__unlock(ns);
	}
	return r;
}

/* mlock, mlock2 and munlock: VM_LOCKED (and VM_LOCKONFAULT) over the
 * range, as apply_vma_lock_flags sets them.  A failure to fault the
 * pages in afterwards (EAGAIN) leaves the flags set, as there. */
long ushm__vma_mlock(long n, uintptr_t addr, size_t len, unsigned int flags)
{
	struct flagchg f = { .prot = -1, .dontfork = -1,
			     .clr = VMF_LOCKED | VMF_LOCKONFAULT };
	/* The range rounded out to pages, as mlock takes it. */
	uintptr_t a = addr & ~(uintptr_t)(USHM_PAGE - 1);
	size_t alen = PAGE_UP(len + (addr - a));
	struct ushm_ns *ns = lock_if_pieces();
	long r = n == SYS_mlock2 ? ushm__os_raw3(n, addr, len, flags)
				 : ushm__os_raw3(n, addr, len, 0);
	long done;

	if (n != SYS_munlock)
		f.set = VMF_LOCKED |
			((flags & MLOCK_ONFAULT) ? VMF_LOCKONFAULT : 0);
	/* What changed: EAGAIN (faulting in) comes after the flags are
	 * set; ENOMEM with no hole is RLIMIT_MEMLOCK's, before any. */
	done = r == -EAGAIN ? 0 : r;
	if (ns && r == -ENOMEM && all_mapped(a, a + alen))
		done = -EPERM;
	if (ns) {
		set_after(ns, done, a, alen, &f, true);
		ushm__unlock(ns);
	}
	return r;
}

/* mlockall(MCL_CURRENT) and munlockall change every VMA whole: no split,
 * but the flags that later merges compare.  (MCL_FUTURE's VM_LOCKED on
 * mappings made later is not modelled.) */
long ushm__vma_mlockall(long n, int flags)
{
	struct ushm_ns *ns = lock_if_pieces();
	long r = ushm__os_raw3(n, flags, 0, 0);
	bool now = n == SYS_munlockall || (flags & MCL_CURRENT);
	uint8_t set = 0;

	if (n == SYS_mlockall)
		set = VMF_LOCKED | ((flags & MCL_ONFAULT) ? VMF_LOCKONFAULT
							   : 0);
	if (ns) {
		for (size_t i = 0; r == 0 && now && i < ushm__p.nlocals; i++)
			ushm__p.locals[i].vmf = (uint8_t)
				((ushm__p.locals[i].vmf &
				  ~(VMF_LOCKED | VMF_LOCKONFAULT)) | set);
		ushm__unlock(ns);
	}
	return r;
}

long ushm__vma_mremap(uintptr_t old, size_t old_len, size_t new_len,
		      int flags, uintptr_t new_addr)
{
	struct ushm_ns *ns = lock_if_pieces();
	long r, i;

	r = ushm__os_raw(SYS_mremap, (long)old, (long)old_len, (long)new_len,
			 flags, (long)new_addr, 0);
	if (ns) {
		i = piece_at(old);
		if (!(r < 0 && r >= -4095) && i >= 0) {
			if (flags & MREMAP_FIXED)	/* target unmapped */
				ushm__pieces_unmapped_locked(ns, (uintptr_t)r,
					(uintptr_t)r + PAGE_UP(new_len));
			i = piece_at(old);
			if (i >= 0)
				pieces_remapped_locked(ns, ushm__p.locals[i],
					old, PAGE_UP(old_len),
					(uintptr_t)r, PAGE_UP(new_len), flags);
		}
		ushm__unlock(ns);
	}
	return r;
}

long ushm__vma_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	/* Only MAP_FIXED replaces what was there. */
	struct ushm_ns *ns = (flags & MAP_FIXED) ? lock_if_pieces() : NULL;
	long r = ushm__os_raw(SYS_mmap, (long)addr, (long)len, prot, flags, fd,
			      (long)off);

	if (ns) {
		if (!(r < 0 && r >= -4095) && len)
			ushm__pieces_unmapped_locked(ns, (uintptr_t)r,
					(uintptr_t)r + PAGE_UP(len));
		ushm__unlock(ns);
	}
	return r;
}

EXPORT int munmap(void *addr, size_t len)
{
	return (int)ushm__os_libc(ushm__vma_munmap((uintptr_t)addr, len));
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	return (int)ushm__os_libc(ushm__vma_mprotect(SYS_mprotect,
						     (uintptr_t)addr, len,
						     prot, 0));
}

EXPORT int pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	/* libc's makes key -1 the mprotect system call */
	return (int)ushm__os_libc(ushm__vma_mprotect(
		pkey == -1 ? SYS_mprotect : SYS_pkey_mprotect,
		(uintptr_t)addr, len, prot, pkey));
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
	return (int)ushm__os_libc(ushm__vma_madvise((uintptr_t)addr, len,
						    advice));
}

EXPORT int mlock(const void *addr, size_t len)
{
	return (int)ushm__os_libc(ushm__vma_mlock(SYS_mlock, (uintptr_t)addr,
						  len, 0));
}

EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	return (int)ushm__os_libc(ushm__vma_mlock(SYS_mlock2, (uintptr_t)addr,
						  len, flags));
}

EXPORT int munlock(const void *addr, size_t len)
{
	return (int)ushm__os_libc(ushm__vma_mlock(SYS_munlock,
						  (uintptr_t)addr, len, 0));
}

EXPORT int mlockall(int flags)
{
	return (int)ushm__os_libc(ushm__vma_mlockall(SYS_mlockall, flags));
}

EXPORT int munlockall(void)
{
	return (int)ushm__os_libc(ushm__vma_mlockall(SYS_munlockall, 0));
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags,
		    ...)
{
	void *new_addr = NULL;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return (void *)ushm__os_libc(ushm__vma_mremap((uintptr_t)old,
						      old_len, new_len, flags,
						      (uintptr_t)new_addr));
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	return (void *)ushm__os_libc(ushm__vma_mmap((uintptr_t)addr, len,
						    prot, flags, fd, off));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off) __attribute__((alias("mmap")));

/* ---- remap_file_pages ---- */

/* Whether pieces cover [L's end, B) with no hole, each of L's attachment
 * (the kernel's "the same file") with L's flags: the range
 * remap_file_pages takes may span several VMAs, if they are alike. */
static bool pieces_cover(const struct ushm_local *l, uintptr_t b)
{
	uintptr_t at = l->end;

	while (at < b) {
		long j = piece_at(at);
		const struct ushm_local *n;

		if (j < 0)
			return false;
		n = &ushm__p.locals[j];
		if (!alike(n, l))
			return false;
		at = n->end;
	}
	return true;
}

/*
 * The new VMA: it joins a neighbour if it can (then do_mmap never calls
 * shm_mmap: no open, and no look-up of the id), else it opens (shm_mmap's
 * __shm_open: nattch + 1, atime, lpid).  Its attachment's record went
 * with its last piece if the remapped range held them all (the kernel's
 * file of the attachment lives on in the new VMA): then a record of one
 * piece is made again.
 */
static int remap_open_locked(struct ushm_ns *ns, struct ushm_local *l,
			     uint32_t shmflg)
{
	uint32_t rec;
	int r;

	if (piece_counted(ns, l))
		return piece_new_locked(ns, l, l->start, l->end, l->offset);
	if ((r = ushm__att_alloc_locked(ns, &rec)) != 0)
		return r;
	ushm__att_link_locked(ns, rec, (uint32_t)ushm__p.task, l->slot,
			      l->start, l->end - l->start, 0, (int)shmflg);
	CRASH_POINT("remap.record");
	l->rec = rec;
	/* A record of no piece goes with the task if this fails. */
	return piece_new_locked(ns, l, l->start, l->end, l->offset);
}

/*
 * remap_file_pages of [A, A + SIZE), which starts in our piece I: what
 * the kernel does since 4.0, a MAP_FIXED | MAP_SHARED mmap of the VMA's
 * file at page offset PGOFF over the range (mm/mmap.c), here of the
 * segment's file.  The old range is unmapped first, its pieces closed (a
 * removed segment is destroyed if they were its last), and then the new
 * VMA opens, or fails with EINVAL if the segment is gone (destroyed, or
 * the id reused: shm_mmap), which leaves the range unmapped.
 *
 * The new mapping is made first at an address of the kernel's choice and
 * moved into place with mremap, which replaces what was there at once:
 * so a failure of our own (no descriptor, no memory) leaves everything
 * as it was.
 */
static long remap_locked(struct ushm_ns *ns, size_t i, uintptr_t a,
			 size_t size, size_t pgoff, int flags)
{
	struct ushm_local l = ushm__p.locals[i];
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, l.slot);
	uint32_t shmflg = ushm__att(h, l.rec)->shmflg;
	uintptr_t b = a + size;
	struct fdc *ent;
	long r;
	void *t;
	int fd;

	USHM_ASSERT_LOCKED(ns);
	/* VM_SHARED: the file of an SHM_RDONLY attachment is opened
	 * read-only, and do_mmap makes a shared mapping of such a file
	 * without it. */
	if ((shmflg & SHM_RDONLY) || !pieces_cover(&l, b))
		return -EINVAL;
	/* do_mmap's file_mmap_ok, before anything is unmapped. */
	if (size > (uint64_t)LLONG_MAX ||
	    pgoff > ((uint64_t)LLONG_MAX - size) / USHM_PAGE)
		return -EOVERFLOW;
	if (s->state != SLOT_LIVE || s->seq != l.seq)
		return -EINVAL;	/* counted pieces keep it: damage */
	fd = ushm__fd_get_locked(ns, s, l.slot, O_RDWR, &ent);
	if (fd < 0)
		return fd;
	t = ushm__os_mmap(NULL, size, l.prot, MAP_SHARED | MAP_POPULATE |
			  (flags & MAP_NONBLOCK) |
			  ((l.vmf & VMF_LOCKED) ? MAP_LOCKED : 0), fd,
			  (off_t)(pgoff * USHM_PAGE));
	r = t == MAP_FAILED ? -errno : 0;
	ushm__fd_put_locked(ns, ent, fd);
	if (r)
		return r;
	ushm__pieces_unmapped_locked(ns, a, b);
	CRASH_POINT("remap.unmapped");
	if (s->state != SLOT_LIVE || s->seq != l.seq) {
		r = -EINVAL;	/* __shm_open: the id is gone */
		goto unmap;
	}
	r = ushm__os_raw(SYS_mremap, (long)t, (long)size, (long)size,
			 MREMAP_MAYMOVE | MREMAP_FIXED, (long)a, 0);
	if (r != (long)a)
		goto unmap;
	t = MAP_FAILED;
	l.start = a;
	l.end = b;
	l.offset = (uint64_t)pgoff * USHM_PAGE;
	/* A new VMA: do_mmap's flags, VM_LOCKED from MAP_LOCKED only. */
	l.dontfork = false;
	l.vmf &= VMF_LOCKED;
	if ((r = remap_open_locked(ns, &l, shmflg)) != 0)
		goto unmap;
	return 0;

unmap:
	/* The kernel's failure after the unmapping leaves a hole. */
	if (t != MAP_FAILED)
		ushm__os_munmap(t, size);
	ushm__os_munmap((void *)a, size);
	return r < 0 && r >= -4095 ? r : -ENOMEM;
}

long ushm__vma_remap_file_pages(uintptr_t start, size_t size, int prot,
				size_t pgoff, int flags)
{
	uintptr_t a = start & ~(uintptr_t)(USHM_PAGE - 1);
	size_t len = size & ~(size_t)(USHM_PAGE - 1);
	struct ushm_ns *ns;
	long i, r;

	/* The kernel's checks before it looks at the mappings, in its
	 * order; what follows holds only for a range that is ours. */
	if (prot || a + len <= a || pgoff + len / USHM_PAGE < pgoff)
		return -EINVAL;
	ns = lock_if_pieces();
	i = ns ? piece_at(a) : -1;
	if (i >= 0 && piece_counted(ns, &ushm__p.locals[i]))
		r = remap_locked(ns, (size_t)i, a, len, pgoff, flags);
	else
		r = ushm__os_raw(SYS_remap_file_pages, (long)start,
				 (long)size, prot, (long)pgoff, flags, 0);
	if (ns)
		ushm__unlock(ns);
	return r;
}

EXPORT int remap_file_pages(void *start, size_t size, int prot,
			    size_t pgoff, int flags)
{
	return (int)ushm__os_libc(ushm__vma_remap_file_pages(
		(uintptr_t)start, size, prot, pgoff, flags));
}

/* ---- syscall(3) ---- */

long ushm__syscall_route(long n, long a, long b, long c, long d, long e,
			 long f)
{
	long args[6] = { a, b, c, d, e, f }, r;

#ifdef USHM_RAW_ASM	/* x86_64, aarch64: these numbers and arguments */
	switch (n) {
	case SYS_munmap:
		return ushm__vma_munmap((uintptr_t)a, (size_t)b);
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		return ushm__vma_mprotect(n, (uintptr_t)a, (size_t)b, (int)c,
					  (int)d);
	case SYS_madvise:
		return ushm__vma_madvise((uintptr_t)a, (size_t)b, (int)c);
	case SYS_mremap:
		return ushm__vma_mremap((uintptr_t)a, (size_t)b, (size_t)c,
					(int)d, (uintptr_t)e);
	case SYS_mmap:
		return ushm__vma_mmap((uintptr_t)a, (size_t)b, (int)c, (int)d,
				      (int)e, (off_t)f);
	case SYS_mlock:
	case SYS_munlock:
		return ushm__vma_mlock(n, (uintptr_t)a, (size_t)b, 0);
	case SYS_mlock2:
		return ushm__vma_mlock(n, (uintptr_t)a, (size_t)b,
				       (unsigned int)c);
	case SYS_mlockall:
	case SYS_munlockall:
		return ushm__vma_mlockall(n, (int)a);
	case SYS_remap_file_pages:
		return ushm__vma_remap_file_pages((uintptr_t)a, (size_t)b,
						  (int)c, (size_t)d, (int)e);
	}
#endif
	if (ushm__sysv_route && ushm__sysv_route(n, args, &r))
		return r;
	return ushm__os_raw(n, a, b, c, d, e, f);
}

#ifdef USHM_RAW_ASM
/* Variadic like libc's; all arguments are integers, so reading six
 * longs is what libc's own syscall() does (the unused ones are junk that
 * the kernel ignores).  The sixth is on the caller's stack, past what a
 * caller of fewer arguments passed, as libc's reads it: not a read for
 * AddressSanitizer to check. */
__attribute__((no_sanitize("address")))
EXPORT long syscall(long n, ...)
{
	long a, b, c, d, e, f;
	va_list ap;

	va_start(ap, n);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	c = va_arg(ap, long);
	d = va_arg(ap, long);
	e = va_arg(ap, long);
	f = va_arg(ap, long);
	va_end(ap);
	return ushm__os_libc(ushm__syscall_route(n, a, b, c, d, e, f));
}
#endif

/* Normal exit: detach in the registry now (exit.c), rather than leave it
 * to the next caller that finds us dead.  Priority 101, the last a
 * program may use: destructors run in the reverse order of their
 * priorities, so this one comes after the program's own (and after its
 * atexit handlers, which exit() runs before any destructor). */
__attribute__((destructor(101))) static void pieces_at_exit(void)
{
	ushm__exit_detach();
}
