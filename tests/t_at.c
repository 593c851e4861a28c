/*
 * t_at.c - SEMANTICS.md section 3: shmat.
 */
#include "diff.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define K1 0x3a000001

/* An anonymous mapping of LEN bytes at exactly ADDR (which must be free). */
static void *anon_at(void *addr, size_t len)
{
	void *p;

	CHECK(diff_count_maps(addr, len) == 0);
	p = mmap(addr, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(p == addr);
	return p;
}

/* 3.1 A negative shmid gives EINVAL. */
DIFF_TEST(s3_1_negative_id)
{
	X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);
	AT_ERR("-1", o->at(-1, NULL, 0), EINVAL);
	AT_ERR("-32768", o->at(-32768, NULL, SHM_RDONLY), EINVAL);
	AT_ERR("-1 at an address", o->at(-1, diff_addr(0), 0), EINVAL);
}

/* 3.2 Unaligned shmaddr: EINVAL; with SHM_RND it is rounded down. */
DIFF_TEST(s3_2_misaligned_and_rnd)
{
	char *a = diff_addr(0);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 8192, 0600), 0);

	CHECK(diff_count_maps(a, 1 << 20) == 0);
	AT_ERR("misaligned", o->at(id, a + 123, 0), EINVAL);
	AT_ERR("misaligned, SHM_REMAP", o->at(id, a + 123, SHM_REMAP), EINVAL);
	AT_ERR("misaligned, SHM_RDONLY", o->at(id, a + 4095, SHM_RDONLY),
	       EINVAL);
	AT_EQ("SHM_RND", o->at(id, a + 123, SHM_RND), a);
	AT_EQ("SHM_RND, +4095 of the next page",
	      o->at(id, a + 65536 + 4095, SHM_RND), a + 65536);
	AT_EQ("SHM_RND, aligned", o->at(id, a + 131072, SHM_RND), a + 131072);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.3 SHM_RND to 0: EINVAL with REMAP, NULL for root, EPERM for others. */
DIFF_TEST(s3_3_rnd_to_zero)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0606), 0);

	AT_ERR("SHM_RND|SHM_REMAP", o->at(id, (void *)100, SHM_RND | SHM_REMAP),
	       EINVAL);
	if (diff_fork() == 0) {
		volatile char *p = AT_EQ("root, SHM_RND to 0",
					 o->at(id, (void *)100, SHM_RND), NULL);

		if (p == NULL) {
			p[10] = 'z';
			rec_stat(o, "attached at 0", id, IPC_STAT, NULL);
			X_EQ("shmdt(NULL)", o->dt(NULL), 0);
		}
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		test_become_nobody();
		AT_ERR("nobody, SHM_RND to 0", o->at(id, (void *)4095, SHM_RND),
		       EPERM);
		diff_exit();
	}
	diff_wait(2);
	{
		char *q = AT_OK("attach", o->at(id, NULL, SHM_RDONLY), NULL);

		if (q != (void *)-1)
			rec("written at 0: %c", q[10]);
	}
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.4 shmaddr == NULL together with SHM_REMAP gives EINVAL. */
DIFF_TEST(s3_4_null_remap)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);

	AT_ERR("NULL, SHM_REMAP", o->at(id, NULL, SHM_REMAP), EINVAL);
	AT_ERR("NULL, SHM_REMAP|SHM_RND", o->at(id, NULL, SHM_REMAP | SHM_RND),
	       EINVAL);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.5 Order: id<0, alignment/REMAP, id lookup, EACCES, then range checks. */
DIFF_TEST(s3_5_order)
{
	int a = X_EQ("0600", o->get(IPC_PRIVATE, 8192, 0600), 0);
	int b = X_EQ("0606", o->get(IPC_PRIVATE, 8192, 0606), 1);
	char *busy = anon_at(diff_addr(1), 4096);

	if (diff_fork() == 0) {
		test_become_nobody();
		AT_ERR("no perm, misaligned", o->at(a, busy + 1, 0), EINVAL);
		AT_ERR("no perm, NULL|SHM_REMAP", o->at(a, NULL, SHM_REMAP),
		       EINVAL);
		AT_ERR("no perm, rounds to 0 with SHM_REMAP",
		       o->at(a, (void *)5, SHM_RND | SHM_REMAP), EINVAL);
		AT_ERR("bad id", o->at(7, NULL, 0), EINVAL);
		AT_ERR("bad id, overlap", o->at(7, busy, 0), EINVAL);
		AT_ERR("no perm, overlap", o->at(a, busy, 0), EACCES);
		AT_ERR("no perm, above the user limit",
		       o->at(a, (void *)0x800000000000UL, 0), EACCES);
		AT_ERR("no perm, rounds to 0", o->at(a, (void *)5, SHM_RND),
		       EACCES);
		AT_ERR("perm, overlap", o->at(b, busy, 0), EINVAL);
		AT_ERR("perm, above the user limit",
		       o->at(b, (void *)0x800000000000UL, 0), ENOMEM);
		AT_ERR("perm, rounds to 0", o->at(b, (void *)5, SHM_RND),
		       EPERM);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "stat a", a, IPC_STAT, NULL);
	rec_stat(o, "stat b", b, IPC_STAT, NULL);
}

/* 3.6 Needs r with SHM_RDONLY, else rw; SHM_EXEC adds x; else EACCES. */
DIFF_TEST(s3_6_perm_bits)
{
	static const int modes[] = { 0600, 0604, 0606, 0602, 0605, 0607,
				     0601, 0603, 0000, 0777 };
	static const int flags[] = { 0, SHM_RDONLY, SHM_EXEC,
				     SHM_RDONLY | SHM_EXEC };
	const int nm = sizeof(modes) / sizeof(modes[0]);

	for (int i = 0; i < nm; i++)
		X_EQ(L("create %04o", modes[i]),
		     o->get(IPC_PRIVATE, 4096, modes[i]), i);
	if (diff_fork() == 0) {
		test_become_nobody();
		for (int i = 0; i < nm; i++)
			for (int j = 0; j < 4; j++) {
				int f = flags[j];
				int need = 4 | (f & SHM_RDONLY ? 0 : 2) |
					   (f & SHM_EXEC ? 1 : 0);
				const char *l = L("mode %04o flags %o",
						  modes[i], f);
				void *p;

				if (need & ~modes[i] & 7) {
					AT_ERR(l, o->at(i, NULL, f), EACCES);
					continue;
				}
				p = AT_OK(l, o->at(i, NULL, f), NULL);
				if (p != (void *)-1)
					X_EQ(L("detach %s", l), o->dt(p), 0);
			}
		diff_exit();
	}
	diff_wait(1);
	for (int i = 0; i < nm; i++)
		rec_stat(o, L("stat %d", i), i, IPC_STAT, NULL);
}

/* 3.7 Mapping is rw-s, r--s, rwxs or r-xs as SHM_RDONLY/SHM_EXEC say. */
DIFF_TEST(s3_7_maps_perms)
{
	static const int flags[] = { 0, SHM_RDONLY, SHM_EXEC,
				     SHM_RDONLY | SHM_EXEC };
	int id = X_EQ("create", o->get(K1, 8192, IPC_CREAT | 0600), 0);

	for (int j = 0; j < 4; j++) {
		void *p = AT_OK(L("attach %o", flags[j]),
				o->at(id, NULL, flags[j]), NULL);

		if (p != (void *)-1)
			rec_maps(L("maps %o", flags[j]), p);
	}
	X_EQ("SHM_STAT", rec_stat(o, "stat", 0, SHM_STAT, NULL), 0);
}

/* 3.7 Writing through an SHM_RDONLY attachment raises SIGSEGV. */
DIFF_TEST(s3_7_rdonly_write_segv)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);
	volatile char *p = AT_OK("attach", o->at(id, NULL, SHM_RDONLY), NULL);

	if (p == (void *)-1)
		return;
	if (diff_fork() == 0) {
		signal(SIGSEGV, SIG_DFL);
		p[0] = 1;
		diff_exit();
	}
	{
		int st = diff_wait(1);

		EXPECT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	}
	rec("still zero: %d", p[0]);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.7 mprotect adding PROT_WRITE to an SHM_RDONLY attachment: EACCES. */
DIFF_TEST(s3_7_rdonly_mprotect_eacces)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 8192, 0600), 0);
	void *p = AT_OK("attach", o->at(id, NULL, SHM_RDONLY), NULL);
	void *q = AT_OK("attach rw", o->at(id, NULL, 0), NULL);

	if (p == (void *)-1 || q == (void *)-1)
		return;
	X_ERR("mprotect RW", mprotect(p, 8192, PROT_READ | PROT_WRITE), EACCES);
	X_ERR("mprotect W one page", mprotect(p, 4096, PROT_WRITE), EACCES);
	X_EQ("mprotect NONE", mprotect(p, 8192, PROT_NONE), 0);
	X_EQ("mprotect back to R", mprotect(p, 8192, PROT_READ), 0);
	X_EQ("rw attachment: mprotect R", mprotect(q, 8192, PROT_READ), 0);
	X_EQ("rw attachment: mprotect RW again",
	     mprotect(q, 8192, PROT_READ | PROT_WRITE), 0);
	X_REC("rw attachment: mprotect RWX",
	      mprotect(q, 8192, PROT_READ | PROT_WRITE | PROT_EXEC));
	rec_maps("maps ro", p);
	rec_maps("maps rw", q);
}

/* 3.8 With shmaddr == NULL the kernel picks a free, page-aligned address. */
DIFF_TEST(s3_8_null_page_aligned)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 5000, 0600), 0);
	char *p = AT_OK("first", o->at(id, NULL, 0), NULL);
	char *q = AT_OK("second", o->at(id, NULL, 0), NULL);

	EXPECT(((uintptr_t)p & 4095) == 0 && ((uintptr_t)q & 4095) == 0);
	rec("distinct: %d", p != q);
	rec("not overlapping: %d", p + 8192 <= q || q + 8192 <= p);
}

/* 3.9 Overlap: EINVAL; wrapping range: EINVAL; above user limit: ENOMEM. */
DIFF_TEST(s3_9_address_range)
{
	char *a = diff_addr(2);
	int id = X_EQ("create 3 pages", o->get(IPC_PRIVATE, 3 * 4096, 0600), 0);
	int small = X_EQ("create 1 page", o->get(IPC_PRIVATE, 4096, 0606), 1);

	anon_at(a + 4 * 4096, 4096);
	AT_ERR("exact overlap", o->at(small, a + 4 * 4096, 0), EINVAL);
	AT_ERR("overlap at the end", o->at(id, a + 2 * 4096, 0), EINVAL);
	AT_ERR("overlap at the start", o->at(id, a + 4 * 4096, 0), EINVAL);
	AT_ERR("overlap in the middle", o->at(id, a + 3 * 4096, 0), EINVAL);
	AT_EQ("just below", o->at(id, a + 1 * 4096, 0), a + 1 * 4096);
	AT_EQ("just above", o->at(small, a + 5 * 4096, 0), a + 5 * 4096);
	AT_ERR("over a shm attachment", o->at(small, a + 2 * 4096, 0), EINVAL);
	AT_ERR("wraps", o->at(id, (void *)0xfffffffffffff000UL, 0), EINVAL);
	AT_ERR("above the limit", o->at(id, (void *)0x800000000000UL, 0),
	       ENOMEM);
	AT_ERR("across the limit", o->at(id, (void *)0x7ffffffff000UL, 0),
	       ENOMEM);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	if (diff_fork() == 0) {
		/* mmap_min_addr is 4096: 0x1000 is allowed to anyone */
		test_become_nobody();
		CHECK(diff_count_maps((void *)0x1000, 4096) == 0);
		AT_EQ("nobody at 0x1000", o->at(small, (void *)0x1000, 0),
		      (void *)0x1000);
		diff_exit();
	}
	diff_wait(1);
}

/* 3.10 SHM_REMAP replaces whatever is mapped there; returns the address. */
DIFF_TEST(s3_10_remap)
{
	char *a = diff_addr(3);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 8192, 0600), 0);
	int other = X_EQ("other", o->get(IPC_PRIVATE, 4096, 0600), 1);
	char *p, *q;

	q = AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (q == (void *)-1)
		return;
	memset(q, 's', 8192);
	memset(anon_at(a, 8192), 'a', 8192);
	p = AT_EQ("over anonymous memory", o->at(id, a, SHM_REMAP), a);
	if (p == a)
		rec("content: %c %c", p[0], p[8191]);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	/* over another segment's attachment: that one is detached */
	p = AT_EQ("other at a+16 pages", o->at(other, a + 65536, 0), a + 65536);
	p = AT_EQ("remap over it", o->at(id, a + 65536, SHM_REMAP), a + 65536);
	if (p != (void *)-1)
		rec("content: %c", p[4096]);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	rec_stat(o, "stat other", other, IPC_STAT, NULL);
	/* over itself */
	AT_EQ("remap over itself", o->at(id, a, SHM_REMAP | SHM_RDONLY), a);
	rec_maps("maps", a);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.11 Length is segsz rounded to a page; the tail is usable and shared. */
DIFF_TEST(s3_11_tail_shared)
{
	int id = X_EQ("create 5000", o->get(IPC_PRIVATE, 5000, 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	char *q;

	if (p == (void *)-1)
		return;
	rec_maps("maps", p);
	p[6000] = 't';
	p[8191] = 'u';
	if (diff_fork() == 0) {
		q = AT_OK("child attach", o->at(id, NULL, SHM_RDONLY), NULL);
		if (q != (void *)-1)
			rec("child sees: %c %c", q[6000], q[8191]);
		p[8000] = 'v';
		diff_exit();
	}
	diff_wait(1);
	rec("parent sees the child's write: %c", p[8000]);
}

/* 3.12 shmat: nattch += 1, atime = now, lpid = caller; ctime, dtime kept. */
DIFF_TEST(s3_12_attach_fields)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);

	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	if (diff_fork() == 0) {
		AT_OK("child attach", o->at(id, NULL, 0), NULL);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_stat(o, "after child attach", id, IPC_STAT, &b);
	rec_cmp("atime vs ctime", b.shm_atime, b.shm_ctime);
	rec_cmp("ctime kept", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_nattch == 1 && b.shm_atime > a.shm_ctime &&
	       b.shm_ctime == a.shm_ctime && b.shm_dtime == 0 &&
	       b.shm_lpid == diff_child_pid(1));
	AT_OK("main attach", o->at(id, NULL, 0), NULL);
	rec_stat(o, "after main attach", id, IPC_STAT, &b);
	EXPECT(b.shm_nattch == 2 && b.shm_lpid == getpid());
	to_child(1, 0);
	diff_wait(1);
}

struct thread_op {
	const struct shm_ops *o;
	int id;
	void *p;
};

static void *thread_attach(void *arg)
{
	struct thread_op *t = arg;

	t->p = AT_OK("thread attach", t->o->at(t->id, NULL, 0), NULL);
	return NULL;
}

static void *thread_detach(void *arg)
{
	struct thread_op *t = arg;

	X_EQ("thread detach", t->o->dt(t->p), 0);
	return NULL;
}

/* 3.12/4.4 lpid is the caller's tgid when a thread attaches or detaches. */
DIFF_TEST(s3_12_thread_lpid_is_tgid)
{
	struct thread_op t = { o, 0, NULL };
	struct shmid_ds ds;
	pthread_t th;

	t.id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);
	if (diff_fork() == 0) {
		/* the attach and detach come from a thread of child#1 */
		CHECK(pthread_create(&th, NULL, thread_attach, &t) == 0);
		CHECK(pthread_join(th, NULL) == 0);
		rec_stat(o, "attached by a thread", t.id, IPC_STAT, &ds);
		EXPECT(ds.shm_lpid == getpid() && ds.shm_nattch == 1);
		CHECK(pthread_create(&th, NULL, thread_detach, &t) == 0);
		CHECK(pthread_join(th, NULL) == 0);
		rec_stat(o, "detached by a thread", t.id, IPC_STAT, &ds);
		EXPECT(ds.shm_lpid == getpid() && ds.shm_nattch == 0);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_stat(o, "seen from main", t.id, IPC_STAT, NULL);
	to_child(1, 0);
	diff_wait(1);
}

/* 3.13 A failed shmat changes nothing: nattch, atime and lpid stay. */
DIFF_TEST(s3_13_failed_at_no_change)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 8192, IPC_CREAT | 0600), 0);
	char *busy = anon_at(diff_addr(4), 4096);

	/* forked before the attach, so that it inherits nothing (6.1) */
	if (diff_fork() == 0) {
		test_become_nobody();
		from_parent();
		AT_ERR("nobody", o->at(id, NULL, 0), EACCES);
		diff_exit();
	}
	AT_OK("attach", o->at(id, NULL, 0), NULL);
	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	AT_ERR("overlap", o->at(id, busy, 0), EINVAL);
	AT_ERR("misaligned", o->at(id, busy + 1, 0), EINVAL);
	AT_ERR("above the limit", o->at(id, (void *)0x800000000000UL, 0),
	       ENOMEM);
	to_child(1, 0);
	diff_wait(1);
	rec_stat(o, "after", id, IPC_STAT, &b);
	rec_cmp("atime kept", b.shm_atime, a.shm_atime);
	EXPECT(b.shm_nattch == 1 && b.shm_atime == a.shm_atime &&
	       b.shm_lpid == getpid() && b.shm_dtime == 0);
}

/* 3.14 A SHM_DEST segment can be attached; once destroyed, EINVAL. */
DIFF_TEST(s3_14_attach_dest)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL), *q;

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	q = AT_OK("attach marked", o->at(id, NULL, 0), NULL);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 2 && (ds.shm_perm.mode & SHM_DEST));
	if (p != (void *)-1 && q != (void *)-1) {
		p[1] = 'd';
		rec("shared: %c", q[1]);
	}
	X_EQ("detach 1", o->dt(p), 0);
	X_EQ("detach 2", o->dt(q), 0);
	AT_ERR("attach destroyed", o->at(id, NULL, 0), EINVAL);
}

/* 3.15 A process may attach a segment many times; each one counts. */
DIFF_TEST(s3_15_many_attachments)
{
	static void *ps[300];
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);
	int ok = 0;

	for (int i = 0; i < 300; i++) {
		ps[i] = o->at(id, NULL, i % 2 ? SHM_RDONLY : 0);
		ok += ps[i] != (void *)-1;
	}
	rec("attached: %d", ok);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 300);
	ok = 0;
	for (int i = 0; i < 300; i += 2)
		ok += o->dt(ps[i]) == 0;
	rec("detached: %d", ok);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 150);
}

/* 3.16 Unknown bits in shmflg are ignored. */
DIFF_TEST(s3_16_unknown_flags)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);
	void *p;

	p = AT_OK("0777|IPC_CREAT|IPC_EXCL|04000",
		  o->at(id, NULL, 0777 | IPC_CREAT | IPC_EXCL | 04000), NULL);
	if (p != (void *)-1)
		rec_maps("maps", p);
	p = AT_OK("high bits", o->at(id, NULL, 0x200000 | 0x40000000), NULL);
	if (p != (void *)-1)
		rec_maps("maps", p);
	p = AT_OK("high bits, SHM_RDONLY",
		  o->at(id, NULL, 0x400000 | SHM_RDONLY), NULL);
	if (p != (void *)-1)
		rec_maps("maps", p);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 3.17 shmat returns the attach address, or (void *)-1 with errno set. */
DIFF_TEST(s3_17_return_value)
{
	char *a = diff_addr(5);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 4096, 0600), 0);
	char *p;

	CHECK(diff_count_maps(a, 4096) == 0);
	p = AT_EQ("at a", o->at(id, a, 0), a);
	if (p == a) {
		p[0] = 1;
		rec("usable: %d", p[0]);
	}
	errno = 0;
	p = o->at(id + 1, NULL, 0);
	rec("failure: %s, errno %s", p == (void *)-1 ? "(void *)-1" : "other",
	    errno == EINVAL ? "EINVAL" : "other");
	EXPECT(p == (void *)-1 && errno == EINVAL);
}

/* 3.18 maps shows /SYSV<creation key %08x>, kept after RMID, piece offsets. */
DIFF_TEST(s3_18_maps_name)
{
	char *a = diff_addr(6);
	key_t kneg = (key_t)0xdeadbeef;
	int neg = X_EQ("key 0xdeadbeef",
		       o->get(kneg, 3 * 4096, IPC_CREAT | 0600), 0);
	int priv = X_EQ("private", o->get(IPC_PRIVATE, 4096, 0600), 1);
	char *p, *q;

	CHECK(diff_count_maps(a, 3 * 4096) == 0);
	p = AT_EQ("attach", o->at(neg, a, 0), a);
	q = AT_OK("attach private", o->at(priv, NULL, 0), NULL);
	if (p != a || q == (void *)-1)
		return;
	rec_maps("maps deadbeef", p);
	rec_maps("maps private", q);
	X_EQ("rmid", o->ctl(neg, IPC_RMID, NULL), 0);
	rec_maps("maps after rmid", p);
	X_EQ("munmap first page", munmap(p, 4096), 0);
	rec_maps("maps piece", p + 4096);
	rec_maps("maps first page", p);
	if (diff_kernel_run) {
		/* the inode column is the shmid (not reproducible in ushm) */
		char line[512];
		unsigned long s, e, ino = 1;
		FILE *f = fopen("/proc/self/maps", "re");

		CHECK(f != NULL);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &s, &e,
				   &ino) == 3 && s == (unsigned long)q)
				break;
		fclose(f);
		EXPECT(ino == (unsigned long)priv);
		EXPECT(strstr(line, "/SYSV00000000 (deleted)") != NULL);
	}
}
