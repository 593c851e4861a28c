/*
 * t_dt.c - SEMANTICS.md section 4: shmdt, munmap and other mapping
 * changes.
 */
#include "diff.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define K1 0x4d000001
#define P4 (4 * PAGE)

/* Attach ID at diff_addr(N), which must be free. */
static char *attach_at(const struct shm_ops *o, int id, int n, size_t len)
{
	char *a = diff_addr(n);

	CHECK(diff_count_maps(a, len) == 0);
	return AT_EQ(L("attach %d at slot %d", id, n), o->at(id, a, 0), a);
}

/* 4.1 An address that is not page-aligned gives EINVAL, checked first. */
DIFF_TEST(s4_1_unaligned)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 8192, 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	X_ERR("p + 1", o->dt(p + 1), EINVAL);
	X_ERR("p + 4095", o->dt(p + 4095), EINVAL);
	X_ERR("(void *)1", o->dt((void *)1), EINVAL);
	X_NATTCH(o, "still attached", id, 1);
	X_EQ("p", o->dt(p), 0);
}

/* 4.2 shmdt EINVAL: NULL, unattached, middle, non-SysV, twice, piece. */
DIFF_TEST(s4_2_einval_cases)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 3 * PAGE, 0600), 0);
	char *p = attach_at(o, id, 0, 3 * PAGE);
	char *anon, *shanon, *file;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shanon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	file = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(anon != MAP_FAILED && shanon != MAP_FAILED && file != MAP_FAILED);
	X_ERR("NULL", o->dt(NULL), EINVAL);
	X_ERR("unattached", o->dt(diff_addr(1)), EINVAL);
	X_ERR("middle", o->dt(p + PAGE), EINVAL);
	X_ERR("last page", o->dt(p + 2 * PAGE), EINVAL);
	X_ERR("anonymous", o->dt(anon), EINVAL);
	X_ERR("shared anonymous", o->dt(shanon), EINVAL);
	X_ERR("file", o->dt(file), EINVAL);
	X_NATTCH(o, "after the failures", id, 1);
	/* a piece whose start is not the original start */
	X_EQ("munmap head page", munmap(p, PAGE), 0);
	X_ERR("start of the surviving piece", o->dt(p + PAGE), EINVAL);
	X_NATTCH(o, "head unmapped", id, 1);
	X_EQ("the original address", o->dt(p), 0);
	X_NATTCH(o, "detached", id, 0);
	rec("pieces left: %d", diff_count_maps(p, 3 * PAGE));
	X_ERR("twice", o->dt(p), EINVAL);
}

/* 4.3 shmdt removes every piece of the attachment made at addr. */
DIFF_TEST(s4_3_detach_all_pieces)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *p = attach_at(o, id, 0, P4);

	if (p == (void *)-1)
		return;
	X_EQ("munmap page 1", munmap(p + PAGE, PAGE), 0);
	X_EQ("mprotect page 3", mprotect(p + 3 * PAGE, PAGE, PROT_READ), 0);
	X_NATTCH(o, "three pieces", id, 3);
	X_EQ("shmdt", o->dt(p), 0);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0);
	rec("pieces left: %d", diff_count_maps(p, P4));
	EXPECT(diff_count_maps(p, P4) == 0);
}

/* 4.3 Pieces of other segments or attachments in the range stay. */
DIFF_TEST(s4_3_other_pieces_stay)
{
	int x = X_EQ("x 4 pages", o->get(IPC_PRIVATE, P4, 0600), 0);
	int y = X_EQ("y 1 page", o->get(IPC_PRIVATE, PAGE, 0600), 1);
	char *b = attach_at(o, x, 0, P4);

	if (b == (void *)-1)
		return;
	X_EQ("munmap x pages 2-3", munmap(b + 2 * PAGE, 2 * PAGE), 0);
	AT_EQ("y at b + 2 pages", o->at(y, b + 2 * PAGE, 0), b + 2 * PAGE);
	AT_EQ("x again at b + 3 pages", o->at(x, b + 3 * PAGE, 0),
	      b + 3 * PAGE);
	X_NATTCH(o, "x", x, 2);
	X_EQ("shmdt b", o->dt(b), 0);
	X_NATTCH(o, "x after", x, 1);
	X_NATTCH(o, "y after", y, 1);
	rec_maps("y's page", b + 2 * PAGE);
	rec_maps("x's second attachment", b + 3 * PAGE);
	X_EQ("shmdt b + 3 pages", o->dt(b + 3 * PAGE), 0);
	X_EQ("shmdt b + 2 pages", o->dt(b + 2 * PAGE), 0);
	X_NATTCH(o, "x end", x, 0);
	X_NATTCH(o, "y end", y, 0);
}

/* 4.4 A detach: nattch -= 1, dtime = now, lpid = caller; atime kept. */
DIFF_TEST(s4_4_detach_fields)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);

	if (diff_fork() == 0) {
		void *p = AT_OK("child attach", o->at(id, NULL, 0), NULL);

		to_parent(0);
		from_parent();
		X_EQ("child detach", o->dt(p), 0);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_stat(o, "attached", id, IPC_STAT, &a);
	diff_tick();
	to_child(1, 0);
	from_child(1);
	rec_stat(o, "detached", id, IPC_STAT, &b);
	rec_cmp("dtime vs atime", b.shm_dtime, b.shm_atime);
	rec_cmp("atime kept", b.shm_atime, a.shm_atime);
	rec_cmp("ctime kept", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_nattch == 0 && b.shm_dtime > a.shm_atime &&
	       b.shm_atime == a.shm_atime && b.shm_ctime == a.shm_ctime &&
	       b.shm_lpid == diff_child_pid(1));
	to_child(1, 0);
	diff_wait(1);
	rec_stat(o, "after the child's exit", id, IPC_STAT, NULL);
}

/* 4.4 A SHM_DEST segment is destroyed when nattch reaches 0. */
DIFF_TEST(s4_4_dest_destroyed_at_last_detach)
{
	struct shm_info si;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach 1", o->at(id, NULL, 0), NULL);
	char *q = AT_OK("attach 2", o->at(id, NULL, 0), NULL);

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("detach 1", o->dt(p), 0);
	rec_stat(o, "one left", id, IPC_STAT, NULL);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.used_ids == 1);
	X_EQ("detach 2", o->dt(q), 0);
	X_ERR("gone", o->ctl(id, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.used_ids == 0 && si.shm_tot == 0);
}

/* 4.5 munmap of a whole attachment is the same as shmdt. */
DIFF_TEST(s4_5_munmap_whole)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	diff_tick();
	X_EQ("munmap", munmap(p, 8192), 0);
	rec_stat(o, "after munmap", id, IPC_STAT, &ds);
	rec_cmp("dtime vs atime", ds.shm_dtime, ds.shm_atime);
	EXPECT(ds.shm_nattch == 0 && ds.shm_dtime > ds.shm_atime);
	X_ERR("shmdt after munmap", o->dt(p), EINVAL);
	p = AT_OK("attach again", o->at(id, NULL, 0), NULL);
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("munmap", munmap(p, 8192), 0);
	X_ERR("destroyed", o->ctl(id, IPC_STAT, &ds), EINVAL);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 4.6 nattch counts pieces: munmap/mprotect of a page split VMAs. */
DIFF_TEST(s4_6_nattch_counts_pieces)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, P4, 0600), 0);
	char *a = attach_at(o, id, 0, P4), *b, *c, *d;

	if (a == (void *)-1)
		return;
	X_EQ("a: munmap middle page", munmap(a + PAGE, PAGE), 0);
	X_NATTCH(o, "middle", id, 2);
	X_EQ("a: shmdt", o->dt(a), 0);
	X_NATTCH(o, "0", id, 0);

	b = attach_at(o, id, 1, P4);
	X_EQ("b: munmap head page", munmap(b, PAGE), 0);
	X_NATTCH(o, "head", id, 1);
	c = attach_at(o, id, 2, P4);
	X_EQ("c: munmap tail page", munmap(c + 3 * PAGE, PAGE), 0);
	X_NATTCH(o, "head + tail", id, 2);
	d = attach_at(o, id, 3, P4);
	X_EQ("d: mprotect middle page", mprotect(d + PAGE, PAGE, PROT_READ), 0);
	X_NATTCH(o, "mprotect", id, 5);
	X_EQ("d: mprotect back",
	     mprotect(d + PAGE, PAGE, PROT_READ | PROT_WRITE), 0);
	X_NATTCH(o, "mprotect back", id, 5);
	X_EQ("d: shmdt", o->dt(d), 0);
	X_EQ("c: shmdt", o->dt(c), 0);
	X_EQ("b: shmdt", o->dt(b), 0);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0);
}

/* 4.7 mremap: move keeps nattch, duplicate adds a piece, grow is allowed. */
DIFF_TEST(s4_7_mremap)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 3 * PAGE, 0600), 0);
	char *p = attach_at(o, id, 0, 3 * PAGE), *n = diff_addr(1), *q;

	if (p == (void *)-1)
		return;
	p[0] = 'm';
	CHECK(diff_count_maps(n, 3 * PAGE) == 0);
	q = mremap(p, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, n);
	rec("moved: %d", q == n);
	X_NATTCH(o, "moved", id, 1);
	X_ERR("shmdt old address", o->dt(p), EINVAL);
	X_EQ("shmdt new address", o->dt(n), 0);
	X_NATTCH(o, "detached", id, 0);

	p = attach_at(o, id, 0, 3 * PAGE);
	q = mremap(p, 3 * PAGE, PAGE, 0);
	rec("shrunk in place: %d", q == p);
	X_NATTCH(o, "shrunk", id, 1);
	X_EQ("shmdt shrunk", o->dt(p), 0);
	X_NATTCH(o, "detached", id, 0);

	p = attach_at(o, id, 0, 3 * PAGE);
	q = mremap(p, 0, 3 * PAGE, MREMAP_MAYMOVE);
	rec("duplicated: %d", q != MAP_FAILED && q != p);
	X_NATTCH(o, "duplicate", id, 2);
	if (q != MAP_FAILED)
		rec("duplicate shares: %c", q[0]);
	X_EQ("shmdt duplicate", o->dt(q), 0);
	X_NATTCH(o, "duplicate detached", id, 1);
	rec_maps("original", p);

	q = mremap(p, 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE);
	rec("grown: %d", q != MAP_FAILED);
	X_NATTCH(o, "grown", id, 1);
	if (q != MAP_FAILED) {
		rec_maps("grown", q);
		X_EQ("shmdt grown", o->dt(q), 0);
	}
	X_NATTCH(o, "end", id, 0);
}

/* 4.8 MADV_DONTNEED neither detaches nor loses data. */
DIFF_TEST(s4_8_madv_dontneed)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 3 * PAGE, 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	if (p == (void *)-1)
		return;
	diff_fill(p, 3 * PAGE, 3);
	X_EQ("madvise", madvise(p, 3 * PAGE, MADV_DONTNEED), 0);
	rec("data kept: %d", diff_check_fill(p, 3 * PAGE, 3));
	X_NATTCH(o, "after", id, 1);
}

/* 4.9 A segment not marked survives nattch == 0 with its contents. */
DIFF_TEST(s4_9_persist)
{
	int id = X_EQ("create", o->get(K1, 3 * PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	if (p == (void *)-1)
		return;
	diff_fill(p, 3 * PAGE, 9);
	X_EQ("detach", o->dt(p), 0);
	if (diff_fork() == 0) {
		p = AT_OK("child attach", o->at(o->get(K1, 0, 0), NULL, 0),
			  NULL);
		if (p != (void *)-1)
			rec("child sees the data: %d",
			    diff_check_fill(p, 3 * PAGE, 9));
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 4.10 Destruction frees contents, slot, key and shm_tot; id: EINVAL. */
DIFF_TEST(s4_10_destroy_frees)
{
	struct shm_info si;
	int id = X_EQ("create", o->get(K1, 3 * PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	if (p == (void *)-1)
		return;
	diff_fill(p, 3 * PAGE, 1);
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("detach", o->dt(p), 0);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.used_ids == 0 && si.shm_tot == 0);
	X_ERR("IPC_STAT", o->ctl(id, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_ERR("SHM_STAT slot", o->ctl(0, SHM_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	AT_ERR("shmat", o->at(id, NULL, 0), EINVAL);
	X_ERR("key free", o->get(K1, 0, 0), ENOENT);
	id = X_EQ("new with the key", o->get(K1, 3 * PAGE, IPC_CREAT | 0600),
		  1);
	p = AT_OK("attach new", o->at(id, NULL, 0), NULL);
	if (p != (void *)-1)
		rec("new is zero: %d", diff_all_zero(p, 3 * PAGE));
}
