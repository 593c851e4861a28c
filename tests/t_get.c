/*
 * t_get.c - SEMANTICS.md section 2: shmget.
 */
#include "diff.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <grp.h>
#include <sys/mman.h>
#include <unistd.h>

#define K1 0x2e000001
#define K2 0x2e000002

/* 2.1 IPC_PRIVATE always creates; IPC_CREAT, IPC_EXCL don't matter. */
DIFF_TEST(s2_1_private_always_new)
{
	X_EQ("plain", o->get(IPC_PRIVATE, 10, 0600), 0);
	X_EQ("IPC_CREAT", o->get(IPC_PRIVATE, 10, IPC_CREAT | 0600), 1);
	X_EQ("IPC_CREAT|IPC_EXCL",
	     o->get(IPC_PRIVATE, 10, IPC_CREAT | IPC_EXCL | 0600), 2);
	X_EQ("IPC_EXCL", o->get(IPC_PRIVATE, 10, IPC_EXCL | 0600), 3);
	X_EQ("SHM_STAT 3", rec_stat(o, "stat", 3, SHM_STAT, NULL), 3);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 3);
}

/* 2.2 A SHM_DEST segment has key 0; its old key is free at once. */
DIFF_TEST(s2_2_dest_key_free)
{
	struct shmid_ds ds;
	int a = X_EQ("create", o->get(K1, 100, IPC_CREAT | 0600), 0);
	void *p = AT_OK("attach", o->at(a, NULL, 0), NULL);

	X_EQ("rmid", o->ctl(a, IPC_RMID, NULL), 0);
	rec_stat(o, "marked", a, IPC_STAT, &ds);
	EXPECT(ds.shm_perm.__key == 0);
	EXPECT(ds.shm_perm.mode == (SHM_DEST | 0600));
	X_ERR("lookup", o->get(K1, 0, 0), ENOENT);
	X_ERR("lookup IPC_EXCL", o->get(K1, 0, IPC_EXCL), ENOENT);
	X_EQ("new with the key", o->get(K1, 100, IPC_CREAT | IPC_EXCL | 0600),
	     1);
	X_EQ("found by key", o->get(K1, 0, 0), 1);
	X_EQ("detach", o->dt(p), 0);
	X_ERR("old one gone", o->ctl(a, IPC_STAT, &ds), EINVAL);
	X_EQ("new one stays", o->get(K1, 0, 0), 1);
}

/* 2.3 One segment per non-zero key; any number with key 0. */
DIFF_TEST(s2_3_one_segment_per_key)
{
	X_EQ("create", o->get(K1, 100, IPC_CREAT | 0600), 0);
	X_EQ("IPC_CREAT again", o->get(K1, 100, IPC_CREAT | 0600), 0);
	X_EQ("other key", o->get(K2, 100, IPC_CREAT | 0600), 1);
	for (int i = 0; i < 5; i++)
		X_EQ(L("private %d", i), o->get(IPC_PRIVATE, 100, 0600), 2 + i);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 6);
	for (int i = 0; i < 7; i++)
		rec_stat(o, L("stat %d", i), i, IPC_STAT, NULL);
}

/* 2.4 Key not found, no IPC_CREAT: ENOENT, before size/mode/limits. */
DIFF_TEST(s2_4_enoent)
{
	X_ERR("plain", o->get(K1, 100, 0600), ENOENT);
	X_ERR("size 0", o->get(K1, 0, 0), ENOENT);
	X_ERR("huge size", o->get(K1, SIZE_MAX, 0777), ENOENT);
	X_ERR("IPC_EXCL alone", o->get(K1, 100, IPC_EXCL | 0600), ENOENT);
	X_ERR("SHM_HUGETLB", o->get(K1, 100, SHM_HUGETLB | 0600), ENOENT);
	X_EQ("shmmni=0", o->set_limit("shmmni", 0), 0);
	X_EQ("shmmax=0", o->set_limit("shmmax", 0), 0);
	X_EQ("shmall=0", o->set_limit("shmall", 0), 0);
	X_ERR("with every limit at 0", o->get(K1, 100, 0600), ENOENT);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody", o->get(K1, 100, 0600), ENOENT);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("SHM_INFO: nothing created", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 2.5 Found with IPC_CREAT|IPC_EXCL: EEXIST, before size and perm. */
DIFF_TEST(s2_5_eexist_first)
{
	X_EQ("create", o->get(K1, 100, IPC_CREAT | 0600), 0);
	X_ERR("same size", o->get(K1, 100, IPC_CREAT | IPC_EXCL | 0600),
	      EEXIST);
	X_ERR("bigger size", o->get(K1, 5000, IPC_CREAT | IPC_EXCL | 0600),
	      EEXIST);
	X_ERR("size 0", o->get(K1, 0, IPC_CREAT | IPC_EXCL), EEXIST);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, no permission",
		      o->get(K1, 100, IPC_CREAT | IPC_EXCL | 0666), EEXIST);
		X_ERR("nobody, bigger",
		      o->get(K1, 9999, IPC_CREAT | IPC_EXCL | 0666), EEXIST);
		X_ERR("nobody, plain lookup", o->get(K1, 100, 0600), EACCES);
		diff_exit();
	}
	diff_wait(1);
}

/* 2.6 Key found with IPC_EXCL but no IPC_CREAT: a plain lookup. */
DIFF_TEST(s2_6_excl_alone_is_lookup)
{
	X_EQ("create", o->get(K1, 100, IPC_CREAT | 0600), 0);
	X_EQ("IPC_EXCL alone", o->get(K1, 100, IPC_EXCL | 0600), 0);
	X_ERR("IPC_EXCL alone, bigger", o->get(K1, 101, IPC_EXCL), EINVAL);
}

/* 2.7 Found and size > segsz: EINVAL, in bytes (4097 rejects 4098). */
DIFF_TEST(s2_7_size_in_bytes)
{
	X_EQ("create 4097", o->get(K1, 4097, IPC_CREAT | 0600), 0);
	X_EQ("4097", o->get(K1, 4097, 0600), 0);
	X_ERR("4098", o->get(K1, 4098, 0600), EINVAL);
	X_ERR("8192", o->get(K1, 8192, IPC_CREAT | 0600), EINVAL);
	X_ERR("SIZE_MAX", o->get(K1, SIZE_MAX, 0), EINVAL);
}

/* 2.7 The size check comes before the permission check. */
DIFF_TEST(s2_7_size_checked_before_perm)
{
	X_EQ("create 0600", o->get(K1, 4097, IPC_CREAT | 0600), 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("bigger, no permission", o->get(K1, 4098, 0600), EINVAL);
		X_ERR("same size, no permission", o->get(K1, 4097, 0600),
		      EACCES);
		diff_exit();
	}
	diff_wait(1);
}

/* 2.8 Found: any size 0..segsz is accepted; shmmax is not consulted. */
DIFF_TEST(s2_8_lookup_size_range)
{
	X_EQ("create 5000", o->get(K1, 5000, IPC_CREAT | 0600), 0);
	X_EQ("size 0", o->get(K1, 0, 0600), 0);
	X_EQ("size 1", o->get(K1, 1, 0600), 0);
	X_EQ("size 4999", o->get(K1, 4999, 0600), 0);
	X_EQ("size 5000", o->get(K1, 5000, 0600), 0);
	X_EQ("shmmax=100", o->set_limit("shmmax", 100), 0);
	X_EQ("shmmni=0", o->set_limit("shmmni", 0), 0);
	X_EQ("shmall=0", o->set_limit("shmall", 0), 0);
	X_EQ("size 4000 > shmmax", o->get(K1, 4000, IPC_CREAT | 0600), 0);
	X_ERR("new one is refused", o->get(K2, 4000, IPC_CREAT | 0600), EINVAL);
}

/* 2.9 Found: access asked is the union of shmflg's rwx triplets. */
DIFF_TEST(s2_9_lookup_perm_union)
{
	static const int modes[] = { 0600, 0604, 0606, 0602, 0660, 0000,
				     0004, 0040, 0400, 0777, 0601 };
	static const int flags[] = { 0, 0400, 0200, 0600, 0040, 0004, 0020,
				     0002, 0100, 0010, 0001, 0444, 0666, 0700,
				     IPC_CREAT, IPC_CREAT | 0004,
				     IPC_CREAT | 0666, 01000000 | 0004 };
	const int nm = sizeof(modes) / sizeof(modes[0]);
	const int nf = sizeof(flags) / sizeof(flags[0]);

	for (int i = 0; i < nm; i++)
		X_EQ(L("create %04o", modes[i]),
		     o->get(K1 + i, 10, IPC_CREAT | modes[i]), i);
	if (diff_fork() == 0) {
		/* nobody: the other class of these root-owned segments */
		test_become_nobody();
		for (int i = 0; i < nm; i++)
			for (int j = 0; j < nf; j++) {
				int f = flags[j] & 0777;
				int req = ((f >> 6) | (f >> 3) | f) & 7;
				int r = o->get(K1 + i, 10, flags[j]);

				if (req & ~modes[i] & 7)
					X_ERR(L("mode %04o flags %o", modes[i],
						flags[j]), r, EACCES);
				else
					X_EQ(L("mode %04o flags %o", modes[i],
					       flags[j]), r, i);
			}
		diff_exit();
	}
	diff_wait(1);
}

/* 2.10 Found: returns the id and changes nothing, ctime included. */
DIFF_TEST(s2_10_lookup_no_side_effects)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0640), 0);

	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	X_EQ("IPC_CREAT|0777, smaller", o->get(K1, 10, IPC_CREAT | 0777), id);
	X_EQ("0", o->get(K1, 0, 0), id);
	if (diff_fork() == 0) {
		/* a lookup from another process does not touch lpid */
		X_EQ("child lookup", o->get(K1, 0, 0600), id);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "after", id, IPC_STAT, &b);
	rec_cmp("ctime after vs before", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_ctime == a.shm_ctime && b.shm_perm.mode == 0640 &&
	       b.shm_segsz == 5000 && b.shm_lpid == 0 && b.shm_atime == 0);
}

/* 2.11(a) Creating: size < 1 or size > shmmax gives EINVAL. */
DIFF_TEST(s2_11a_size_einval)
{
	X_ERR("size 0", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("size 0, key", o->get(K1, 0, IPC_CREAT | 0600), EINVAL);
	X_ERR("SIZE_MAX", o->get(IPC_PRIVATE, SIZE_MAX, 0600), EINVAL);
	X_ERR("default shmmax + 1",
	      o->get(IPC_PRIVATE, 18446744073692774400ULL, 0600), EINVAL);
	X_EQ("shmmax=8192", o->set_limit("shmmax", 8192), 0);
	X_EQ("8192", o->get(IPC_PRIVATE, 8192, 0600), 0);
	X_ERR("8193", o->get(IPC_PRIVATE, 8193, 0600), EINVAL);
	/* (a) before (c) and (f) */
	X_EQ("shmall=0", o->set_limit("shmall", 0), 0);
	X_EQ("shmmni=0", o->set_limit("shmmni", 0), 0);
	X_ERR("8193 with shmall 0 and shmmni 0",
	      o->get(IPC_PRIVATE, 8193, 0600), EINVAL);
	X_ERR("0 with shmall 0 and shmmni 0", o->get(IPC_PRIVATE, 0, 0600),
	      EINVAL);
	X_ERR("8192 with shmall 0 and shmmni 0",
	      o->get(IPC_PRIVATE, 8192, 0600), ENOSPC);
}

/* 2.11(b) An overflow of the page count gives ENOSPC. */
DIFF_TEST(s2_11b_pagecount_overflow)
{
	X_EQ("shmmax=ULONG_MAX", o->set_limit("shmmax", -1), 0);
	rec_limit(o, "shmmax", NULL);
	X_ERR("SIZE_MAX", o->get(IPC_PRIVATE, SIZE_MAX, 0600), ENOSPC);
	X_ERR("SIZE_MAX - 4094", o->get(IPC_PRIVATE, SIZE_MAX - 4094, 0600),
	      ENOSPC);
	/* no overflow: goes on to (e), size > LLONG_MAX */
	X_ERR("SIZE_MAX - 4095", o->get(IPC_PRIVATE, SIZE_MAX - 4095, 0600),
	      EINVAL);
}

/* 2.11(c) shm_tot + ceil(size/4096) > shmall gives ENOSPC. */
DIFF_TEST(s2_11c_shmall_enospc)
{
	X_EQ("shmall=10", o->set_limit("shmall", 10), 0);
	X_EQ("8 pages", o->get(IPC_PRIVATE, 8 * 4096, 0600), 0);
	X_ERR("3 pages", o->get(IPC_PRIVATE, 2 * 4096 + 1, 0600), ENOSPC);
	X_EQ("2 pages", o->get(IPC_PRIVATE, 2 * 4096, 0600), 1);
	X_ERR("1 byte", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	/* (c) before (e): a 64 TiB request is ENOSPC, not ENOMEM */
	X_ERR("64 TiB", o->get(IPC_PRIVATE, 64ULL << 40, 0600), ENOSPC);
	X_EQ("shmall=0", o->set_limit("shmall", 0), 0);
	X_ERR("shmall 0", o->get(K1, 1, IPC_CREAT | 0600), ENOSPC);
	/* (c) before (d) */
	X_ERR("hugetlb, shmall 0",
	      o->get(IPC_PRIVATE, 1, SHM_HUGETLB | SHM_HUGE_1MB_FLAG | 0600),
	      ENOSPC);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 1);
}

/* 2.11(d) SHM_HUGETLB: bad size code EINVAL, then EPERM, then ENOMEM. */
DIFF_TEST(s2_11d_hugetlb_order)
{
	X_ERR("root, 1 MiB pages",
	      o->get(IPC_PRIVATE, 4096, SHM_HUGETLB | SHM_HUGE_1MB_FLAG | 0600),
	      EINVAL);
	X_ERR("root, 4 MiB pages",
	      o->get(IPC_PRIVATE, 4096, SHM_HUGETLB | (22 << 26) | 0600),
	      EINVAL);
	X_ERR("root, no huge pages",
	      o->get(IPC_PRIVATE, 4096, SHM_HUGETLB | 0600), ENOMEM);
	X_ERR("root, no 1 GiB huge pages",
	      o->get(IPC_PRIVATE, 4096, SHM_HUGETLB | (30 << 26) | 0600),
	      ENOMEM);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, 1 MiB pages",
		      o->get(IPC_PRIVATE, 4096,
			     SHM_HUGETLB | SHM_HUGE_1MB_FLAG | 0600), EINVAL);
		X_ERR("nobody", o->get(IPC_PRIVATE, 4096, SHM_HUGETLB | 0600),
		      EPERM);
		X_ERR("nobody, 2 MiB code",
		      o->get(IPC_PRIVATE, 4096,
			     SHM_HUGETLB | SHM_HUGE_2MB_FLAG | 0600), EPERM);
		diff_exit();
	}
	diff_wait(1);
}

/* 2.11(e) size > LLONG_MAX gives EINVAL, and a commit refusal ENOMEM. */
DIFF_TEST(s2_11e_backing_object)
{
	X_ERR("LLONG_MAX + 1", o->get(IPC_PRIVATE, (size_t)LLONG_MAX + 1, 0600),
	      EINVAL);
	X_ERR("LLONG_MAX + 1, SHM_NORESERVE",
	      o->get(IPC_PRIVATE, (size_t)LLONG_MAX + 1, SHM_NORESERVE | 0600),
	      EINVAL);
	X_ERR("64 TiB", o->get(IPC_PRIVATE, 64ULL << 40, 0600), ENOMEM);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 2.11(f) count >= shmmni: ENOSPC, checked last (ENOMEM wins). */
DIFF_TEST(s2_11f_shmmni_last)
{
	X_EQ("shmmni=2", o->set_limit("shmmni", 2), 0);
	X_EQ("a", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("b", o->get(K1, 1, IPC_CREAT | 0600), 1);
	X_ERR("private", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_ERR("key", o->get(K2, 1, IPC_CREAT | 0600), ENOSPC);
	X_EQ("lookup still fine", o->get(K1, 1, IPC_CREAT | 0600), 1);
	X_ERR("64 TiB: ENOMEM first", o->get(IPC_PRIVATE, 64ULL << 40, 0600),
	      ENOMEM);
	X_ERR("size 0: EINVAL first", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("hugetlb: ENOMEM first",
	      o->get(IPC_PRIVATE, 1, SHM_HUGETLB | 0600), ENOMEM);
	X_EQ("shmmni=0", o->set_limit("shmmni", 0), 0);
	X_ERR("shmmni below count", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("existing usable", o->ctl(0, IPC_RMID, NULL), 0);
	X_EQ("shmmni=2 again", o->set_limit("shmmni", 2), 0);
	X_EQ("c", o->get(IPC_PRIVATE, 1, 0600), 2);
}

/* 2.12 New segment: mode, uids, cpid, lpid 0, times, exact segsz. */
DIFF_TEST(s2_12_initial_state)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0640), 0);

	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_perm.__key == K1 && ds.shm_perm.mode == 0640);
	EXPECT(ds.shm_perm.uid == 0 && ds.shm_perm.cuid == 0);
	EXPECT(ds.shm_perm.gid == 0 && ds.shm_perm.cgid == 0);
	EXPECT(ds.shm_cpid == getpid() && ds.shm_lpid == 0);
	EXPECT(ds.shm_atime == 0 && ds.shm_dtime == 0);
	EXPECT(ds.shm_ctime >= time(NULL) - 2 && ds.shm_ctime <= time(NULL));
	EXPECT(ds.shm_segsz == 5000 && ds.shm_nattch == 0);
	X_EQ("odd size", o->get(IPC_PRIVATE, 1, 0), 1);
	rec_stat(o, "stat odd", 1, IPC_STAT, NULL);
}

/* 2.12 Created by nobody: uid = cuid = 65534, gid = cgid = 65534. */
DIFF_TEST(s2_12_created_by_nobody)
{
	static const gid_t groups[] = { 0, 100 };

	if (diff_fork() == 0) {
		diff_become(65534, 65534, 2, groups);
		X_EQ("create", o->get(K1, 3, IPC_CREAT | 0606), 0);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "stat", 0, IPC_STAT, NULL);
	if (diff_fork() == 0) {
		/* effective ids, not real ones */
		CHECK(setresgid(0, 4321, 0) == 0);
		CHECK(setresuid(0, 1234, 0) == 0);
		X_EQ("create as euid 1234", o->get(K2, 3, IPC_CREAT | 0666), 1);
		diff_exit();
	}
	diff_wait(2);
	rec_stat(o, "stat euid", 1, IPC_STAT, NULL);
}

static void *thread_create(void *arg)
{
	const struct shm_ops *o = arg;

	X_EQ("create in a thread", o->get(K1, 100, IPC_CREAT | 0600), 0);
	return NULL;
}

/* 2.12 cpid is the caller's tgid, even when a thread creates it. */
DIFF_TEST(s2_12_thread_cpid_is_tgid)
{
	struct shmid_ds ds;
	pthread_t t;

	CHECK(pthread_create(&t, NULL, thread_create, (void *)o) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	rec_stat(o, "stat", 0, IPC_STAT, &ds);
	EXPECT(ds.shm_cpid == getpid());
}

/* 2.13 Only shmflg & 0777 is stored in the mode. */
DIFF_TEST(s2_13_mode_low9)
{
	X_EQ("IPC_CREAT|IPC_EXCL|0777",
	     o->get(K1, 10, IPC_CREAT | IPC_EXCL | 0777), 0);
	X_EQ("SHM_NORESERVE|0640",
	     o->get(IPC_PRIVATE, 10, SHM_NORESERVE | 0640), 1);
	X_EQ("unknown bits|0604",
	     o->get(IPC_PRIVATE, 10, 0x100000 | 0x8000000 | 0604), 2);
	X_EQ("IPC_CREAT alone", o->get(K2, 10, IPC_CREAT), 3);
	for (int i = 0; i < 4; i++)
		rec_stat(o, L("stat %d", i), i, IPC_STAT, NULL);
}

/* 2.14 shmflg = 07777 includes SHM_HUGETLB: with no huge pages, ENOMEM. */
DIFF_TEST(s2_14_07777_is_hugetlb)
{
	X_ERR("07777", o->get(IPC_PRIVATE, 10, 07777), ENOMEM);
	X_ERR("key, 07777", o->get(K1, 10, 07777), ENOMEM);
	X_EQ("0777", o->get(IPC_PRIVATE, 10, 0777), 0);
}

/* 2.15 A new segment reads as zeros, the tail of the last page too. */
DIFF_TEST(s2_15_zero_filled)
{
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	if (p == (void *)-1)
		return;
	rec("all zero: %d", diff_all_zero(p, 8192));
	EXPECT(diff_all_zero(p, 8192));
	diff_fill(p, 8192, 7);
	X_EQ("detach", o->dt(p), 0);
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	id = X_EQ("create again", o->get(K1, 5000, IPC_CREAT | 0600), 1);
	p = AT_OK("attach again", o->at(id, NULL, 0), NULL);
	if (p == (void *)-1)
		return;
	rec("all zero again: %d", diff_all_zero(p, 8192));
	EXPECT(diff_all_zero(p, 8192));
}

/* 2.16 64 TiB: ENOMEM, but succeeds with SHM_NORESERVE. */
DIFF_TEST(s2_16_noreserve)
{
	struct shm_info si;
	char *p;
	int id;

	X_ERR("64 TiB", o->get(IPC_PRIVATE, 64ULL << 40, 0600), ENOMEM);
	id = X_EQ("64 TiB SHM_NORESERVE",
		  o->get(IPC_PRIVATE, 64ULL << 40, SHM_NORESERVE | 0600), 0);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.shm_tot == (64UL << 40) / 4096 && si.shm_rss == 0);
	p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (p == (void *)-1)
		return;
	p[(32UL << 40) + 5] = 42;
	p[(64UL << 40) - 1] = 43;
	rec("read back: %d %d", p[(32UL << 40) + 5], p[(64UL << 40) - 1]);
	rec_shm_info(o, "info touched", 0, &si);
	EXPECT(si.shm_rss == 2);
	X_EQ("detach", o->dt(p), 0);
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	rec_shm_info(o, "info after", 0, NULL);
}

/* 2.16 A 5 GiB segment fits commit accounting; offsets past 4 GiB work. */
DIFF_TEST(s2_16_five_gib)
{
	size_t sz = 5ULL << 30;
	int id = X_EQ("5 GiB", o->get(K1, sz, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL), *q;

	if (p == (void *)-1)
		return;
	p[(4ULL << 30) + 12345] = 'x';
	p[sz - 1] = 'y';
	q = AT_OK("attach again", o->at(id, NULL, SHM_RDONLY), NULL);
	if (q == (void *)-1)
		return;
	rec("seen through the second attachment: %c %c",
	    q[(4ULL << 30) + 12345], q[sz - 1]);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 2.17 SHM_HUGETLB: EPERM unless CAP_IPC_LOCK or group; ENOMEM; NORESERVE. */
DIFF_TEST(s2_17_hugetlb)
{
	static const gid_t group0[] = { 0 };
	struct shm_info si;
	void *p;
	int id;

	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody", o->get(IPC_PRIVATE, 5000, SHM_HUGETLB | 0600),
		      EPERM);
		X_ERR("nobody, SHM_NORESERVE",
		      o->get(IPC_PRIVATE, 5000,
			     SHM_HUGETLB | SHM_NORESERVE | 0600), EPERM);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		/* hugetlb_shm_group is 0: a supplementary group counts */
		diff_become(65534, 65534, 1, group0);
		X_ERR("group member", o->get(IPC_PRIVATE, 5000,
					     SHM_HUGETLB | 0600), ENOMEM);
		X_EQ("group member, SHM_NORESERVE",
		     o->get(IPC_PRIVATE, 5000,
			    SHM_HUGETLB | SHM_NORESERVE | 0600), 0);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		/* root without CAP_IPC_LOCK: its fsgid 0 is the group */
		diff_drop_caps(o, CAPBIT(CAP_IPC_LOCK));
		X_ERR("root without CAP_IPC_LOCK, gid 0",
		      o->get(IPC_PRIVATE, 5000, SHM_HUGETLB | 0600), ENOMEM);
		/* and with neither: EPERM */
		CHECK(setgroups(0, NULL) == 0 && setgid(65534) == 0);
		X_ERR("root without CAP_IPC_LOCK, gid 65534",
		      o->get(IPC_PRIVATE, 5000, SHM_HUGETLB | 0600), EPERM);
		diff_exit();
	}
	diff_wait(3);
	X_ERR("root", o->get(IPC_PRIVATE, 5000, SHM_HUGETLB | 0600), ENOMEM);
	id = X_EQ("root, SHM_NORESERVE",
		  o->get(K1, 5000, IPC_CREAT | SHM_HUGETLB | SHM_NORESERVE |
			 SHM_HUGE_2MB_FLAG | 0600), 1);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.shm_tot == 2 + 2);
	p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (p != (void *)-1) {
		rec("aligned to 2 MiB: %d", (uintptr_t)p % (2 << 20) == 0);
		rec_maps("maps", p);
	}
}

/* 2.18 Creation adds ceil(size/4096) to shm_tot, destruction removes it. */
DIFF_TEST(s2_18_shm_tot)
{
	struct shm_info si;
	int a = X_EQ("1 byte", o->get(IPC_PRIVATE, 1, 0600), 0);
	void *p;

	X_EQ("4096", o->get(IPC_PRIVATE, 4096, 0600), 1);
	X_EQ("4097", o->get(IPC_PRIVATE, 4097, 0600), 2);
	X_EQ("10000", o->get(IPC_PRIVATE, 10000, 0600), 3);
	rec_shm_info(o, "info", 0, &si);
	EXPECT(si.shm_tot == 1 + 1 + 2 + 3 && si.used_ids == 4);
	p = AT_OK("attach 3", o->at(3, NULL, 0), NULL);
	X_EQ("rmid 3 (attached)", o->ctl(3, IPC_RMID, NULL), 0);
	rec_shm_info(o, "info marked", 0, &si);
	EXPECT(si.shm_tot == 7 && si.used_ids == 4);
	X_EQ("rmid 0", o->ctl(a, IPC_RMID, NULL), 0);
	rec_shm_info(o, "info destroyed 0", 0, &si);
	EXPECT(si.shm_tot == 6 && si.used_ids == 3);
	X_EQ("detach 3", o->dt(p), 0);
	rec_shm_info(o, "info destroyed 3", 0, &si);
	EXPECT(si.shm_tot == 3 && si.used_ids == 2);
}
