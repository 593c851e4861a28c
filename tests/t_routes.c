/*
 * t_routes.c - every route that changes mappings changes the pieces as
 * the kernel's VMAs change (SEMANTICS.md 4.2, 4.3, 4.6, 4.7): the C
 * library's munmap, mprotect, madvise, mremap and mmap, syscall(3) with
 * their numbers, and remap_file_pages(2), as the function and through
 * syscall(SYS_remap_file_pages).
 *
 * Each scenario runs once per route, against the kernel and against
 * ushm, and records nattch after each step, shmdt's result, what stays
 * mapped and the segment's fate.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define K1 0x4d000011
#define P4 (4 * PAGE)

enum { VIA_LIBC, VIA_SYSCALL, NVIA };
static const char *const via_name[NVIA] = { "libc", "syscall" };

static int r_munmap(int v, void *a, size_t len)
{
	return v == VIA_LIBC ? munmap(a, len)
			     : (int)syscall(SYS_munmap, a, len);
}

static int r_mprotect(int v, void *a, size_t len, int prot)
{
	return v == VIA_LIBC ? mprotect(a, len, prot)
			     : (int)syscall(SYS_mprotect, a, len, prot);
}

static int r_madvise(int v, void *a, size_t len, int advice)
{
	return v == VIA_LIBC ? madvise(a, len, advice)
			     : (int)syscall(SYS_madvise, a, len, advice);
}

static void *r_mremap(int v, void *old, size_t old_len, size_t new_len,
		      int flags, void *new_addr)
{
	if (v == VIA_LIBC)
		return mremap(old, old_len, new_len, flags, new_addr);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
			       new_addr);
}

static void *r_mmap(int v, void *a, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (v == VIA_LIBC)
		return mmap(a, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, a, len, prot, flags, fd, off);
}

static int r_remap(int v, void *a, size_t size, int prot, size_t pgoff,
		   int flags)
{
	if (v == VIA_LIBC)
		return remap_file_pages(a, size, prot, pgoff, flags);
	return (int)syscall(SYS_remap_file_pages, a, size, prot, pgoff,
			    flags);
}

/* Attach ID at diff_addr(N), which must be free. */
static char *attach_at(const struct shm_ops *o, int id, int n, int flg)
{
	char *a = diff_addr(n);

	CHECK(diff_count_maps(a, P4) == 0);
	return AT_EQ(L("attach %d at slot %d", id, n), o->at(id, a, flg), a);
}

/* Page I of a 4-page attachment holds 'A' + I. */
static void mark(char *p)
{
	for (int i = 0; i < 4; i++)
		p[i * PAGE] = (char)('A' + i);
}

/* What each page of [P, P + N pages) holds, or '-' if unmapped. */
static void rec_pages(const char *label, const char *p, int n)
{
	char s[17];

	for (int i = 0; i < n && i < 16; i++)
		s[i] = diff_count_maps(p + i * PAGE, PAGE) ? p[i * PAGE] : '-';
	s[n < 16 ? n : 16] = 0;
	rec("%s: %s", label, s);
}

/* munmap of the middle page: 2 pieces; shmdt takes both. */
DIFF_TEST(routes_munmap)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0);

		if (p == (void *)-1)
			return;
		X_EQ(L("%s: munmap page 1", w), r_munmap(v, p + PAGE, PAGE), 0);
		X_NATTCH(o, L("%s: two pieces", w), id, 2);
		X_EQ(L("%s: munmap page 3", w),
		     r_munmap(v, p + 3 * PAGE, PAGE), 0);
		X_NATTCH(o, L("%s: tail gone", w), id, 2);
		X_EQ(L("%s: munmap nothing mapped", w),
		     r_munmap(v, p + PAGE, PAGE), 0);
		X_ERR(L("%s: munmap unaligned", w), r_munmap(v, p + 1, PAGE),
		      EINVAL);
		X_NATTCH(o, L("%s: after the failure", w), id, 2);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		rec("%s: maps left: %d", w, diff_count_maps(p, P4));
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* munmap of the middle page, then mprotect of the first: 3 pieces. */
DIFF_TEST(routes_mprotect)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0);

		if (p == (void *)-1)
			return;
		X_EQ(L("%s: munmap page 1", w), r_munmap(v, p + PAGE, PAGE), 0);
		X_EQ(L("%s: mprotect page 0", w),
		     r_mprotect(v, p, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: two pieces", w), id, 2);
		X_EQ(L("%s: mprotect page 2", w),
		     r_mprotect(v, p + 2 * PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: three pieces", w), id, 3);
		X_EQ(L("%s: mprotect page 2 again", w),
		     r_mprotect(v, p + 2 * PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: same value, no split", w), id, 3);
		X_ERR(L("%s: mprotect a hole", w),
		      r_mprotect(v, p, 2 * PAGE, PROT_READ), ENOMEM);
		X_NATTCH(o, L("%s: after the failure", w), id, 3);
		rec_maps(L("%s: page 2", w), p + 2 * PAGE);
		/* (No maps line after this: ushm's own file mappings merge
		 * where the kernel's shm VMAs do not.) */
		X_EQ(L("%s: pkey_mprotect key -1, page 3", w),
		     v == VIA_LIBC ? pkey_mprotect(p + 3 * PAGE, PAGE,
						   PROT_READ, -1)
				   : syscall(SYS_pkey_mprotect, p + 3 * PAGE,
					     PAGE, PROT_READ, -1), 0);
		X_NATTCH(o, L("%s: changed whole: no join", w), id, 3);
		X_EQ(L("%s: pkey_mprotect key -1, page 2 back", w),
		     v == VIA_LIBC ? pkey_mprotect(p + 2 * PAGE, PAGE,
						   PROT_READ | PROT_WRITE, -1)
				   : syscall(SYS_pkey_mprotect, p + 2 * PAGE,
					     PAGE, PROT_READ | PROT_WRITE, -1),
		     0);
		X_NATTCH(o, L("%s: still three", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		rec("%s: maps left: %d", w, diff_count_maps(p, P4));
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* mremap: a moved attachment is detached at its new address; a copy
 * adds a piece; a shrink closes the tail. */
DIFF_TEST(routes_mremap)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), 2 * v);
		char *p = attach_at(o, id, 0, 0), *n = diff_addr(1), *q;

		if (p == (void *)-1)
			return;
		mark(p);
		CHECK(diff_count_maps(n, P4) == 0);
		q = r_mremap(v, p, P4, P4, MREMAP_MAYMOVE | MREMAP_FIXED, n);
		rec("%s: moved: %d", w, q == n);
		X_NATTCH(o, L("%s: moved", w), id, 1);
		X_ERR(L("%s: shmdt old address", w), o->dt(p), EINVAL);
		rec_pages(L("%s: at the new address", w), n, 4);
		X_EQ(L("%s: shmdt new address", w), o->dt(n), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		rec("%s: maps left: %d", w, diff_count_maps(n, P4));

		p = attach_at(o, id, 0, 0);
		q = r_mremap(v, p, 0, P4, MREMAP_MAYMOVE, NULL);
		rec("%s: copied: %d", w, q != MAP_FAILED && q != p);
		X_NATTCH(o, L("%s: copy", w), id, 2);
		q = r_mremap(v, p, P4, PAGE, 0, NULL);
		rec("%s: shrunk in place: %d", w, q == p);
		X_NATTCH(o, L("%s: shrunk", w), id, 2);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: the copy is left", w), id, 1);
		X_ERR(L("%s: mremap of nothing", w),
		      (long)r_mremap(v, p, PAGE, PAGE, 0, NULL), EFAULT);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
		rec_stat(o, L("%s: the copy keeps it", w), id, IPC_STAT, NULL);

		/* MREMAP_DONTUNMAP: the source stays, whole. */
		id = X_EQ(L("%s: create another", w),
			  o->get(IPC_PRIVATE, P4, 0600), 2 * v + 1);
		p = attach_at(o, id, 2, 0);
		mark(p);
		q = r_mremap(v, p, P4, P4, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
			     NULL);
		rec("%s: moved, source kept: %d", w, q != MAP_FAILED);
		X_NATTCH(o, L("%s: DONTUNMAP", w), id, 2);
		rec_pages(L("%s: the source", w), p, 4);
		q = r_mremap(v, p + PAGE, 2 * PAGE, 2 * PAGE,
			     MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
		rec("%s: part moved: %d", w, q != MAP_FAILED);
		X_NATTCH(o, L("%s: no split", w), id, 3);
		X_EQ(L("%s: shmdt the source", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: the copies stay", w), id, 2);
		rec("%s: maps left: %d", w, diff_count_maps(p, P4));
	}
	/* The copies still count until the run ends: they go with the
	 * process, as on the kernel. */
}

/* madvise(MADV_DONTFORK) splits; the child inherits the rest only. */
DIFF_TEST(routes_madvise)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0);

		if (p == (void *)-1)
			return;
		X_EQ(L("%s: DONTFORK page 1", w),
		     r_madvise(v, p + PAGE, PAGE, MADV_DONTFORK), 0);
		X_NATTCH(o, L("%s: three pieces", w), id, 3);
		X_EQ(L("%s: DONTNEED page 2", w),
		     r_madvise(v, p + 2 * PAGE, PAGE, MADV_DONTNEED), 0);
		X_NATTCH(o, L("%s: no split", w), id, 3);
		int c = diff_fork();

		if (c == 0) {
			X_NATTCH(o, L("%s: in the child", w), id, 5);
			diff_exit();
		}
		diff_wait(c);
		X_NATTCH(o, L("%s: child gone", w), id, 3);
		X_EQ(L("%s: DOFORK page 1", w),
		     r_madvise(v, p + PAGE, PAGE, MADV_DOFORK), 0);
		X_NATTCH(o, L("%s: no merge", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* mmap(MAP_FIXED) over the middle: 2 pieces; without MAP_FIXED: none. */
DIFF_TEST(routes_mmap)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0), *q;

		if (p == (void *)-1)
			return;
		q = r_mmap(v, p + PAGE, PAGE, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		rec("%s: fixed: %d", w, q == p + PAGE);
		X_NATTCH(o, L("%s: two pieces", w), id, 2);
		q = r_mmap(v, p + 2 * PAGE, PAGE, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		rec("%s: a hint elsewhere: %d", w, q != MAP_FAILED &&
		    q != p + 2 * PAGE);
		X_NATTCH(o, L("%s: untouched", w), id, 2);
		if (q != MAP_FAILED)
			munmap(q, PAGE);
		q = r_mmap(v, p + 2 * PAGE, PAGE, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			   -1, 0);
		X_ERR(L("%s: NOREPLACE", w), (long)q, EEXIST);
		X_NATTCH(o, L("%s: still two", w), id, 2);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		rec_maps(L("%s: the anonymous page", w), p + PAGE);
		munmap(p + PAGE, PAGE);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* ---- remap_file_pages ---- */

/*
 * One page remapped to another offset adds a piece, and shmdt then
 * skips it (ksys_shmdt's vm_pgoff test); remapped to its own offset it
 * is detached with the rest.
 */
DIFF_TEST(routes_remap_piece)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		struct shmid_ds ds;
		char *p = attach_at(o, id, 0, 0);

		if (p == (void *)-1)
			return;
		mark(p);
		diff_tick();
		X_EQ(L("%s: page 1 shows page 3", w),
		     r_remap(v, p + PAGE, PAGE, 0, 3, 0), 0);
		X_NATTCH(o, L("%s: three pieces", w), id, 3);
		rec_pages(L("%s: pages", w), p, 4);
		rec_maps(L("%s: the remapped page", w), p + PAGE);
		rec_stat(o, L("%s: after the remap", w), id, IPC_STAT, &ds);
		rec_cmp(L("%s: atime vs dtime", w), ds.shm_atime,
			ds.shm_dtime);
		X_EQ(L("%s: page 0 shows page 0", w),
		     r_remap(v, p, PAGE, 0, 0, MAP_NONBLOCK), 0);
		X_NATTCH(o, L("%s: same count", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: the remapped page stays", w), id, 1);
		rec_pages(L("%s: after shmdt", w), p, 4);
		X_ERR(L("%s: shmdt again", w), o->dt(p), EINVAL);
		X_ERR(L("%s: shmdt at the page", w), o->dt(p + PAGE), EINVAL);
		X_NATTCH(o, L("%s: still", w), id, 1);
		/* Where an attachment would have started for its offset to
		 * match: ksys_shmdt takes it from there. */
		X_EQ(L("%s: shmdt 2 pages below", w), o->dt(p - 2 * PAGE), 0);
		X_NATTCH(o, L("%s: none", w), id, 0);
		rec("%s: maps left: %d", w, diff_count_maps(p, P4));

		/* Remapped to the offsets it had: shmdt takes it all. */
		p = attach_at(o, id, 0, 0);
		mark(p);
		X_EQ(L("%s: page 2 to page 2", w),
		     r_remap(v, p + 2 * PAGE, PAGE, 0, 2, 0), 0);
		/* It joins page 1 (mm/vma.c merges): no new piece. */
		X_NATTCH(o, L("%s: joined", w), id, 2);
		X_EQ(L("%s: pages 0-3 in order", w),
		     r_remap(v, p, P4, 0, 0, 0), 0);
		X_NATTCH(o, L("%s: one piece", w), id, 1);
		rec_pages(L("%s: in order", w), p, 4);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);
		rec("%s: maps left: %d", w, diff_count_maps(p, P4));
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/*
 * A program that remaps until it fails: the whole attachment of a
 * removed segment is its last piece, so the first remap closes it, the
 * segment is destroyed and the new mapping fails with EINVAL, leaving
 * the range unmapped.  A segment not removed is remapped for ever.
 */
DIFF_TEST(routes_remap_until_fails)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(K1 + v, 2 * PAGE, IPC_CREAT | 0600), v);
		struct shm_info si;
		char *p = attach_at(o, id, 0, 0);
		int n, r = 0;

		if (p == (void *)-1)
			return;
		for (n = 0; n < 20; n++)
			if (r_remap(v, p, 2 * PAGE, 0, n % 2, 0) != 0)
				break;
		rec("%s: not removed: %d remaps, errno %d", w, n,
		    n < 20 ? errno : 0);
		X_NATTCH(o, L("%s: one piece", w), id, 1);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
		rec_stat(o, L("%s: removed, attached", w), id, IPC_STAT, NULL);
		for (n = 0; n < 1000; n++) {
			errno = 0;
			if ((r = r_remap(v, p, 2 * PAGE, 0, 1, 0)) != 0)
				break;
		}
		X_ERR(L("%s: the remap that failed", w), r, EINVAL);
		rec("%s: remaps before it: %d", w, n);
		EXPECT(n == 0);
		X_ERR(L("%s: destroyed", w),
		      o->ctl(id, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
		rec_shm_info(o, L("%s: info", w), 0, &si);
		rec("%s: maps left: %d", w, diff_count_maps(p, 2 * PAGE));
		X_ERR(L("%s: shmdt", w), o->dt(p), EINVAL);
	}
}

/* A removed segment with another attachment lives on: the remap
 * succeeds, and the segment goes with the last piece. */
DIFF_TEST(routes_remap_dest_shared)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0), *q;

		if (p == (void *)-1)
			return;
		mark(p);
		q = attach_at(o, id, 1, SHM_RDONLY);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
		X_EQ(L("%s: remap all", w), r_remap(v, p, P4, 0, 1, 0), 0);
		X_NATTCH(o, L("%s: both", w), id, 2);
		/* Page 3 now shows what lies past the end: not read. */
		rec_pages(L("%s: remapped", w), p, 3);
		X_ERR(L("%s: read-only attachment", w),
		      r_remap(v, q, PAGE, 0, 1, 0), EINVAL);
		X_NATTCH(o, L("%s: unchanged", w), id, 2);
		X_EQ(L("%s: shmdt the read-only one", w), o->dt(q), 0);
		X_NATTCH(o, L("%s: one left", w), id, 1);
		X_ERR(L("%s: shmdt skips the remapped one", w), o->dt(p),
		      EINVAL);
		X_EQ(L("%s: munmap it", w), munmap(p, P4), 0);
		X_ERR(L("%s: destroyed", w),
		      o->ctl(id, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
	}
}

/* In a child: the remap's accounting is the child's (lpid, atime). */
DIFF_TEST(routes_remap_lpid)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *p = attach_at(o, id, 0, 0);

	if (p == (void *)-1)
		return;
	diff_tick();
	if (diff_fork() == 0) {
		X_EQ("child: remap", r_remap(VIA_LIBC, p, PAGE, 0, 2, 0), 0);
		rec_stat(o, "child: after", id, IPC_STAT, NULL);
		diff_tick();
		X_EQ("child: munmap", munmap(p, P4), 0);
		rec_stat(o, "child: unmapped", id, IPC_STAT, NULL);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "parent: child gone", id, IPC_STAT, NULL);
	diff_tick();
	X_EQ("parent: remap", r_remap(VIA_SYSCALL, p, PAGE, 0, 2, 0), 0);
	rec_stat(o, "parent: after", id, IPC_STAT, NULL);
}

/* The validation errors, each leaving the attachment as it was. */
DIFF_TEST(routes_remap_errors)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), 2 * v);
		int id2 = X_EQ(L("%s: create 2", w),
			       o->get(IPC_PRIVATE, P4, 0600), 2 * v + 1);
		char *p = attach_at(o, id, 0, 0), *q, *anon;
		int fd;

		if (p == (void *)-1)
			return;
		mark(p);
		X_ERR(L("%s: prot READ", w),
		      r_remap(v, p, PAGE, PROT_READ, 1, 0), EINVAL);
		X_ERR(L("%s: prot NONE|EXEC", w),
		      r_remap(v, p, PAGE, PROT_EXEC, 1, 0), EINVAL);
		X_ERR(L("%s: size 0", w), r_remap(v, p, 0, 0, 1, 0), EINVAL);
		X_ERR(L("%s: size below a page", w),
		      r_remap(v, p, 100, 0, 1, 0), EINVAL);
		X_ERR(L("%s: pgoff wraps", w),
		      r_remap(v, p, 2 * PAGE, 0, SIZE_MAX, 0), EINVAL);
		X_ERR(L("%s: pgoff past the largest file", w),
		      r_remap(v, p, PAGE, 0, (size_t)1 << 52, 0), EOVERFLOW);
		X_ERR(L("%s: range wraps", w),
		      r_remap(v, (void *)-PAGE, 2 * PAGE, 0, 0, 0), EINVAL);
		X_ERR(L("%s: past the end", w),
		      r_remap(v, p, 5 * PAGE, 0, 0, 0), EINVAL);
		X_ERR(L("%s: unmapped", w),
		      r_remap(v, diff_addr(3), PAGE, 0, 0, 0), EINVAL);
		X_NATTCH(o, L("%s: after the failures", w), id, 1);
		rec_pages(L("%s: pages", w), p, 4);

		/* Rounded down: start, size; other flags ignored. */
		X_EQ(L("%s: unaligned start", w),
		     r_remap(v, p + 1, PAGE, 0, 3, 0), 0);
		X_NATTCH(o, L("%s: rounded", w), id, 2);
		X_EQ(L("%s: unaligned size, flags ignored", w),
		     r_remap(v, p + 2 * PAGE, PAGE + 100, 0, 1,
			     MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS), 0);
		X_NATTCH(o, L("%s: rounded too", w), id, 4);
		rec_pages(L("%s: pages", w), p, 4);
		X_EQ(L("%s: past the segment's end", w),
		     r_remap(v, p + 3 * PAGE, PAGE, 0, 100, 0), 0);
		X_NATTCH(o, L("%s: a piece past the end", w), id, 4);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: all but the remapped ones", w), id, 3);
		rec_pages(L("%s: after shmdt", w), p, 3);
		X_EQ(L("%s: munmap the rest", w), munmap(p, P4), 0);
		X_NATTCH(o, L("%s: none", w), id, 0);

		/* Across pieces: alike ones, then differing flags, holes,
		 * another attachment. */
		p = attach_at(o, id, 0, 0);
		X_EQ(L("%s: mprotect page 1", w),
		     mprotect(p + PAGE, PAGE, PROT_READ), 0);
		X_ERR(L("%s: across different flags", w),
		      r_remap(v, p, 2 * PAGE, 0, 0, 0), EINVAL);
		X_EQ(L("%s: mprotect back", w),
		     mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE), 0);
		X_NATTCH(o, L("%s: three alike pieces", w), id, 3);
		X_EQ(L("%s: across alike pieces", w),
		     r_remap(v, p, 3 * PAGE, 0, 1, 0), 0);
		X_NATTCH(o, L("%s: two", w), id, 2);
		X_EQ(L("%s: DONTFORK page 3", w),
		     madvise(p + 3 * PAGE, PAGE, MADV_DONTFORK), 0);
		X_ERR(L("%s: across DONTFORK", w),
		      r_remap(v, p + 2 * PAGE, 2 * PAGE, 0, 0, 0), EINVAL);
		X_NATTCH(o, L("%s: still two", w), id, 2);
		X_EQ(L("%s: munmap page 2", w), munmap(p + 2 * PAGE, PAGE), 0);
		X_ERR(L("%s: across a hole", w),
		      r_remap(v, p, P4, 0, 0, 0), EINVAL);
		X_EQ(L("%s: munmap", w), munmap(p, P4), 0);
		X_NATTCH(o, L("%s: gone", w), id, 0);

		p = attach_at(o, id, 0, 0);
		munmap(p + 2 * PAGE, 2 * PAGE);
		q = AT_EQ(L("%s: another attachment next to it", w),
			  o->at(id, p + 2 * PAGE, 0), p + 2 * PAGE);
		X_ERR(L("%s: across attachments", w),
		      r_remap(v, p + PAGE, 2 * PAGE, 0, 0, 0), EINVAL);
		AT_EQ(L("%s: another segment after that", w),
		      o->at(id2, p + 6 * PAGE, 0), p + 6 * PAGE);
		X_ERR(L("%s: across segments", w),
		      r_remap(v, p + 5 * PAGE, 2 * PAGE, 0, 0, 0), EINVAL);
		X_NATTCH(o, L("%s: two attachments", w), id, 2);
		X_NATTCH(o, L("%s: the other segment", w), id2, 1);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_EQ(L("%s: shmdt the second", w), o->dt(q), 0);
		X_EQ(L("%s: shmdt the other", w), o->dt(p + 6 * PAGE), 0);

		/* Not ours: the kernel answers. */
		anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(anon != MAP_FAILED);
		X_ERR(L("%s: private anonymous", w),
		      r_remap(v, anon, PAGE, 0, 0, 0), EINVAL);
		munmap(anon, PAGE);
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		anon = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
		CHECK(anon != MAP_FAILED);
		X_ERR(L("%s: file opened read-only", w),
		      r_remap(v, anon, PAGE, 0, 0, 0), EINVAL);
		munmap(anon, PAGE);
		close(fd);
		anon = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		CHECK(anon != MAP_FAILED);
		X_EQ(L("%s: shared anonymous", w),
		     r_remap(v, anon, PAGE, 0, 1, 0), 0);
		munmap(anon, 2 * PAGE);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
		X_EQ(L("%s: rmid 2", w), o->ctl(id2, IPC_RMID, NULL), 0);
	}
}

/*
 * Merging (mm/vma.c since 6.12): a changed head or tail joins the
 * neighbour it touches when that one is of the same attachment with the
 * same flags and following offsets, as no VMA with a close operation
 * goes for it; a VMA changed whole never merges away.  A mapping moved
 * back where it came from joins what it was split from.
 */
DIFF_TEST(routes_merge)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0), *x = diff_addr(1), *q;

		if (p == (void *)-1)
			return;
		X_EQ(L("%s: page 0 read-only", w),
		     r_mprotect(v, p, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: split", w), id, 2);
		X_EQ(L("%s: page 1 read-only", w),
		     r_mprotect(v, p + PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: joins the one before", w), id, 2);
		rec_maps(L("%s: pages 0-1", w), p);
		X_EQ(L("%s: page 3 read-only", w),
		     r_mprotect(v, p + 3 * PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: split again", w), id, 3);
		X_EQ(L("%s: page 2 read-only", w),
		     r_mprotect(v, p + 2 * PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: changed whole: stays", w), id, 3);
		X_EQ(L("%s: pages 1-2 writable", w),
		     r_mprotect(v, p + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE),
		     0);
		X_NATTCH(o, L("%s: a tail and a whole", w), id, 4);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);

		p = attach_at(o, id, 0, 0);
		X_EQ(L("%s: page 3 read-only", w),
		     r_mprotect(v, p + 3 * PAGE, PAGE, PROT_READ), 0);
		X_EQ(L("%s: page 2 read-only", w),
		     r_mprotect(v, p + 2 * PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: joins the one after", w), id, 2);
		rec_maps(L("%s: pages 2-3", w), p + 2 * PAGE);
		X_EQ(L("%s: DONTFORK 0", w),
		     r_madvise(v, p, PAGE, MADV_DONTFORK), 0);
		X_EQ(L("%s: DONTFORK 1", w),
		     r_madvise(v, p + PAGE, PAGE, MADV_DONTFORK), 0);
		X_NATTCH(o, L("%s: DONTFORK joins", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: detached", w), id, 0);

		p = attach_at(o, id, 0, 0);
		q = r_mremap(v, p + 2 * PAGE, 2 * PAGE, 2 * PAGE,
			     MREMAP_MAYMOVE | MREMAP_FIXED, x);
		rec("%s: moved away: %d", w, q == x);
		X_NATTCH(o, L("%s: two", w), id, 2);
		q = r_mremap(v, x, 2 * PAGE, 2 * PAGE,
			     MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * PAGE);
		rec("%s: moved back: %d", w, q == p + 2 * PAGE);
		X_NATTCH(o, L("%s: joined", w), id, 1);
		q = r_mremap(v, p, 0, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			     p + 4 * PAGE);
		rec("%s: page 0 copied after the end: %d", w,
		    q == p + 4 * PAGE);
		X_NATTCH(o, L("%s: the copy does not follow on", w), id, 2);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: the copy stays", w), id, 1);
		X_EQ(L("%s: munmap the copy", w), munmap(p + 4 * PAGE, PAGE),
		     0);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* ksys_shmdt takes only pieces of the file it found first: a piece of
 * another attachment of the same segment whose offset matches stays. */
DIFF_TEST(routes_remap_shmdt_file)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *p = attach_at(o, id, 0, 0), *q;

	if (p == (void *)-1)
		return;
	X_EQ("munmap pages 2-3", munmap(p + 2 * PAGE, 2 * PAGE), 0);
	q = AT_EQ("again at page 2", o->at(id, p + 2 * PAGE, 0), p + 2 * PAGE);
	X_EQ("its page 0 shows page 2",
	     r_remap(VIA_LIBC, q, PAGE, 0, 2, 0), 0);
	X_NATTCH(o, "three", id, 3);
	X_EQ("shmdt the first", o->dt(p), 0);
	X_NATTCH(o, "the second's pieces stay", id, 2);
	rec_maps("its remapped page", q);
	/* Its page 1 matches, and is the first that does. */
	X_EQ("shmdt the second", o->dt(q), 0);
	X_NATTCH(o, "one", id, 1);
	rec_maps("its remapped page", q);
	X_EQ("shmdt where its remapped page fits", o->dt(q - 2 * PAGE), 0);
	X_NATTCH(o, "none", id, 0);
}

/* The advice that sets a VMA flag splits (and joins), the rest does
 * not; mlock and munlock as well. */
DIFF_TEST(routes_vma_flags)
{
	static const struct {
		const char *name;
		int advice;
	} adv[] = {
		{ "NORMAL", MADV_NORMAL }, { "RANDOM", MADV_RANDOM },
		{ "SEQUENTIAL", MADV_SEQUENTIAL },
		{ "WILLNEED", MADV_WILLNEED },
		{ "DONTNEED", MADV_DONTNEED }, { "FREE", MADV_FREE },
		{ "REMOVE", MADV_REMOVE }, { "DONTFORK", MADV_DONTFORK },
		{ "DOFORK", MADV_DOFORK }, { "MERGEABLE", MADV_MERGEABLE },
		{ "UNMERGEABLE", MADV_UNMERGEABLE },
		{ "HUGEPAGE", MADV_HUGEPAGE },
		{ "NOHUGEPAGE", MADV_NOHUGEPAGE },
		{ "DONTDUMP", MADV_DONTDUMP }, { "DODUMP", MADV_DODUMP },
		{ "WIPEONFORK", MADV_WIPEONFORK },
		{ "KEEPONFORK", MADV_KEEPONFORK }, { "COLD", MADV_COLD },
		{ "PAGEOUT", MADV_PAGEOUT },
		{ "POPULATE_READ", MADV_POPULATE_READ },
		{ "POPULATE_WRITE", MADV_POPULATE_WRITE },
	};
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);

	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];

		for (size_t k = 0; k < sizeof(adv) / sizeof(adv[0]); k++) {
			char *p = attach_at(o, id, 0, 0);
			const char *n = adv[k].name;

			if (p == (void *)-1)
				return;
			X_REC(L("%s: %s page 1", w, n),
			      r_madvise(v, p + PAGE, PAGE, adv[k].advice));
			X_REC(L("%s: nattch after %s page 1", w, n),
			      rec_stat(o, L("%s: %s", w, n), id, IPC_STAT,
				       NULL));
			X_REC(L("%s: %s page 2", w, n),
			      r_madvise(v, p + 2 * PAGE, PAGE, adv[k].advice));
			X_REC(L("%s: %s page 0-3", w, n),
			      r_madvise(v, p, P4, adv[k].advice));
			rec_stat(o, L("%s: %s joined", w, n), id, IPC_STAT,
				 NULL);
			X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		}
	}
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
}

/* A hole in the range: mprotect and mlock change the VMAs up to it,
 * madvise every VMA of the range, and each then fails with ENOMEM. */
DIFF_TEST(routes_partial)
{
	for (int v = 0; v < NVIA; v++) {
		const char *w = via_name[v];
		int id = X_EQ(L("%s: create", w),
			      o->get(IPC_PRIVATE, P4, 0600), v);
		char *p = attach_at(o, id, 0, 0);

		if (p == (void *)-1)
			return;
		X_EQ(L("%s: munmap page 2", w),
		     r_munmap(v, p + 2 * PAGE, PAGE), 0);
		X_NATTCH(o, L("%s: two", w), id, 2);
		X_ERR(L("%s: mprotect 1-3", w),
		      r_mprotect(v, p + PAGE, 3 * PAGE, PROT_READ), ENOMEM);
		X_NATTCH(o, L("%s: page 1 split off, page 3 kept", w), id, 3);
		rec_maps(L("%s: page 1", w), p + PAGE);
		rec_maps(L("%s: page 3", w), p + 3 * PAGE);
		X_ERR(L("%s: mprotect from the hole", w),
		      r_mprotect(v, p + 2 * PAGE, 2 * PAGE, PROT_READ), ENOMEM);
		X_NATTCH(o, L("%s: nothing", w), id, 3);
		X_ERR(L("%s: madvise 0-3", w),
		      r_madvise(v, p, P4, MADV_DONTDUMP), ENOMEM);
		X_NATTCH(o, L("%s: every piece", w), id, 3);
		X_EQ(L("%s: madvise 0-1", w),
		     r_madvise(v, p, 2 * PAGE, MADV_DODUMP), 0);
		X_NATTCH(o, L("%s: whole ones", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);

		p = attach_at(o, id, 0, 0);
		X_EQ(L("%s: munmap page 2", w),
		     r_munmap(v, p + 2 * PAGE, PAGE), 0);
		X_ERR(L("%s: mlock 1-3", w),
		      v == VIA_LIBC ? mlock(p + PAGE, 3 * PAGE)
				    : syscall(SYS_mlock, p + PAGE, 3 * PAGE),
		      ENOMEM);
		X_NATTCH(o, L("%s: page 1 locked", w), id, 3);
		X_EQ(L("%s: mlock2 page 3", w),
		     v == VIA_LIBC ? mlock2(p + 3 * PAGE, PAGE, MLOCK_ONFAULT)
				   : syscall(SYS_mlock2, p + 3 * PAGE, PAGE,
					     MLOCK_ONFAULT), 0);
		X_NATTCH(o, L("%s: whole", w), id, 3);
		X_EQ(L("%s: munlock 0-1", w),
		     v == VIA_LIBC ? munlock(p, 2 * PAGE)
				   : syscall(SYS_munlock, p, 2 * PAGE), 0);
		X_NATTCH(o, L("%s: page 1 unlocked", w), id, 3);
		X_EQ(L("%s: mprotect 0-1", w),
		     r_mprotect(v, p, PAGE, PROT_READ), 0);
		X_EQ(L("%s: mprotect 1", w),
		     r_mprotect(v, p + PAGE, PAGE, PROT_READ), 0);
		X_NATTCH(o, L("%s: 0 and 1 alike: whole", w), id, 3);
#ifndef __SANITIZE_ADDRESS__
		/* (AddressSanitizer's shadow memory is too big to lock: the
		 * sanitizer build of this test leaves these two out.) */
		X_EQ(L("%s: mlockall", w),
		     v == VIA_LIBC ? mlockall(MCL_CURRENT)
				   : syscall(SYS_mlockall, MCL_CURRENT), 0);
		X_NATTCH(o, L("%s: all locked, nothing split", w), id, 3);
		X_EQ(L("%s: munlockall", w),
		     v == VIA_LIBC ? munlockall() : syscall(SYS_munlockall), 0);
#endif
		X_EQ(L("%s: mlock page 0, unaligned", w),
		     mlock(p + 100, 10), 0);
		X_NATTCH(o, L("%s: page 0 locked: whole", w), id, 3);
		X_EQ(L("%s: remap page 0 (locked)", w),
		     r_remap(v, p, PAGE, 0, 1, 0), 0);
		X_NATTCH(o, L("%s: remapped", w), id, 3);
		X_EQ(L("%s: mlock page 1", w), mlock(p + PAGE, PAGE), 0);
		X_NATTCH(o, L("%s: not alike: page 1's offset", w), id, 3);
		X_ERR(L("%s: munlock 0-3, the hole", w), munlock(p, P4),
		      ENOMEM);
		X_NATTCH(o, L("%s: unlocked up to the hole", w), id, 3);
		X_EQ(L("%s: shmdt", w), o->dt(p), 0);
		X_NATTCH(o, L("%s: the remapped page stays", w), id, 1);
		X_EQ(L("%s: munmap", w), munmap(p, P4), 0);
		X_EQ(L("%s: rmid", w), o->ctl(id, IPC_RMID, NULL), 0);
	}
}

/* remap_file_pages spans VMAs only if all their flags are alike: the
 * madvise and mlock flags count too. */
DIFF_TEST(routes_remap_flags)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *p = attach_at(o, id, 0, 0);

	if (p == (void *)-1)
		return;
	X_EQ("RANDOM page 1", madvise(p + PAGE, PAGE, MADV_RANDOM), 0);
	X_ERR("across RANDOM", r_remap(VIA_LIBC, p, 2 * PAGE, 0, 0, 0), EINVAL);
	X_EQ("NORMAL page 1", madvise(p + PAGE, PAGE, MADV_NORMAL), 0);
	X_NATTCH(o, "three, alike again", id, 3);
	X_EQ("across alike", r_remap(VIA_SYSCALL, p, 2 * PAGE, 0, 0, 0), 0);
	/* The new [0, 2) at offset 0 joins [2, 4) at offset 2. */
	X_NATTCH(o, "one: joined the rest", id, 1);
	X_EQ("mlock page 2", mlock(p + 2 * PAGE, PAGE), 0);
	X_ERR("across VM_LOCKED",
	      r_remap(VIA_LIBC, p + PAGE, 2 * PAGE, 0, 1, 0), EINVAL);
	X_EQ("remap the locked page",
	     r_remap(VIA_LIBC, p + 2 * PAGE, PAGE, 0, 2, 0), 0);
	X_NATTCH(o, "locked, it stays apart", id, 3);
	X_EQ("DONTDUMP page 3", madvise(p + 3 * PAGE, PAGE, MADV_DONTDUMP), 0);
	X_EQ("remap page 3", r_remap(VIA_LIBC, p + 3 * PAGE, PAGE, 0, 3, 0), 0);
	X_NATTCH(o, "DONTDUMP is not kept: it joins nothing locked", id, 3);
	X_EQ("munlock", munlock(p, P4), 0);
	X_NATTCH(o, "unlocked whole", id, 3);
	X_EQ("shmdt", o->dt(p), 0);
	X_NATTCH(o, "detached", id, 0);
}

/* Remapped pieces, the whole attachment's included (its record made
 * again), go to a forked child as the kernel copies VMAs. */
DIFF_TEST(routes_remap_fork)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *p = attach_at(o, id, 0, 0);
	int c;

	if (p == (void *)-1)
		return;
	mark(p);
	X_EQ("remap all to 1", r_remap(VIA_LIBC, p, 3 * PAGE, 0, 1, 0), 0);
	X_NATTCH(o, "two", id, 2);
	X_EQ("remap all to 0", r_remap(VIA_LIBC, p, P4, 0, 0, 0), 0);
	X_NATTCH(o, "one, a record of its own", id, 1);
	X_EQ("remap page 3 to 0", r_remap(VIA_SYSCALL, p + 3 * PAGE, PAGE, 0, 0,
					  0), 0);
	X_EQ("DONTFORK page 1", madvise(p + PAGE, PAGE, MADV_DONTFORK), 0);
	X_NATTCH(o, "four", id, 4);
	c = diff_fork();
	if (c == 0) {
		X_NATTCH(o, "child: three more", id, 7);
		rec_pages("child: pages", p, 4);
		X_EQ("child: shmdt", o->dt(p), 0);
		X_NATTCH(o, "child: page 3 stays", id, 5);
		X_ERR("child: shmdt again", o->dt(p), EINVAL);
		diff_exit();
	}
	diff_wait(c);
	X_NATTCH(o, "parent: child gone", id, 4);
	X_EQ("parent: shmdt", o->dt(p), 0);
	X_NATTCH(o, "parent: page 3 stays", id, 1);
	X_EQ("parent: shmdt at page 3, offset 0", o->dt(p + 3 * PAGE), 0);
	X_NATTCH(o, "none", id, 0);
}
