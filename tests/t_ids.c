/*
 * t_ids.c - SEMANTICS.md section 1: identifiers, index allocation,
 * namespaces.
 */
#include "diff.h"

#include <limits.h>

#define K1 0x1d000001

/* Create and remove private segments with idx FROM..63 until the index
 * wraps; returns the id of the creation at idx 0 seq 1. */
static int cycle_to_seq1(const struct shm_ops *o, int from)
{
	int id = -1;

	for (int i = from; i < 64; i++) {
		id = X_EQ(L("create #%d", i), o->get(IPC_PRIVATE, 1, 0600), i);
		X_EQ(L("rmid #%d", i), o->ctl(id, IPC_RMID, NULL), 0);
	}
	return X_EQ("create after wrap", o->get(IPC_PRIVATE, 1, 0600), 32768);
}

/* 1.1 An id is seq * 32768 + idx, idx in 0..32767 and seq in 0..65534. */
DIFF_TEST(s1_1_id_composition)
{
	struct shmid_ds ds;
	int id = cycle_to_seq1(o, 0);

	/* idx 0 with seq 1: SHM_STAT of index 0 gives back the full id */
	X_EQ("SHM_STAT idx 0", rec_stat(o, "shm_stat 0", 0, SHM_STAT, &ds), id);
	EXPECT(ds.shm_perm.__seq == 1);
	EXPECT(id == ds.shm_perm.__seq * 32768 + 0);
	/* the next one is idx 1, seq 1 */
	X_EQ("create idx 1 seq 1", o->get(IPC_PRIVATE, 1, 0600), 32769);
}

/* 1.2 IPC_STAT reports the segment's seq in shm_perm.__seq. */
DIFF_TEST(s1_2_stat_seq_field)
{
	struct shmid_ds ds;
	int a = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	rec_stat(o, "stat seq 0", a, IPC_STAT, &ds);
	EXPECT(ds.shm_perm.__seq == 0);
	X_EQ("rmid", o->ctl(a, IPC_RMID, NULL), 0);
	a = cycle_to_seq1(o, 1);
	rec_stat(o, "stat seq 1", a, IPC_STAT, &ds);
	EXPECT(ds.shm_perm.__seq == 1);
}

/* 1.3 In a fresh namespace the first segment gets id 0, the second 1. */
DIFF_TEST(s1_3_fresh_ids)
{
	X_EQ("first", o->get(IPC_PRIVATE, 100, 0600), 0);
	X_EQ("second", o->get(K1, 100, IPC_CREAT | 0600), 1);
	X_EQ("third", o->get(IPC_PRIVATE, 100, 0600), 2);
}

/* The allocator model of 1.4 and 1.5. */
struct model {
	unsigned char used[32768];
	int n, next, last_idx, seq;
};

static int model_create(struct model *m)
{
	int r = 3 * m->n / 2, idx = -1;

	if (r < 64)
		r = 64;
	if (r > 32768)
		r = 32768;
	for (int i = m->next; i < r && idx < 0; i++)
		if (!m->used[i])
			idx = i;
	for (int i = 0; i < r && idx < 0; i++)
		if (!m->used[i])
			idx = i;
	if (idx < 0)
		return -1;
	m->used[idx] = 1;
	m->n++;
	m->next = idx + 1;
	if (idx <= m->last_idx && ++m->seq == 65535)
		m->seq = 0;
	m->last_idx = idx;
	return m->seq * 32768 + idx;
}

static void model_remove(struct model *m, int id)
{
	m->used[id % 32768] = 0;
	m->n--;
}

/* 1.4 Cyclic index in [next, R-1] then [0, R-1]; 1.5 seq on wrap. */
DIFF_TEST(s1_4_cyclic_index)
{
	static struct model m = { .last_idx = -1 };
	static int live[400];
	unsigned int lcg = 12345;
	int nlive = 0;

	/* grow to ~150 live segments, then shrink, with random removals */
	for (int step = 0; step < 420; step++) {
		int grow = step < 250 ? 3 : 1;

		lcg = lcg * 1103515245 + 12345;
		if (nlive == 0 || (int)((lcg >> 16) % 5) < grow + 1) {
			int want = model_create(&m);
			int id = X_EQ(L("create %d", step),
				      o->get(IPC_PRIVATE, 1, 0600), want);

			if (id < 0)
				continue;
			live[nlive++] = id;
		} else {
			int k = (int)((lcg >> 8) % nlive);

			X_EQ(L("rmid %d", live[k]),
			     o->ctl(live[k], IPC_RMID, NULL), 0);
			model_remove(&m, live[k]);
			live[k] = live[--nlive];
		}
	}
	rec("live: %d", nlive);
}

/* 1.4 R = max(3n/2, 64) grows with the number of segments. */
DIFF_TEST(s1_4_range_grows)
{
	int ids[70];

	for (int i = 0; i < 64; i++)
		ids[i] = X_EQ(L("create %d", i), o->get(IPC_PRIVATE, 1, 0600),
			      i);
	X_EQ("rmid 3", o->ctl(ids[3], IPC_RMID, NULL), 0);
	/* n = 63: R = 94, next = 64 */
	X_EQ("create with n=63", o->get(IPC_PRIVATE, 1, 0600), 64);
	X_EQ("create with n=64", o->get(IPC_PRIVATE, 1, 0600), 65);
}

/* 1.5 seq is incremented when the new idx is <= the previous idx. */
DIFF_TEST(s1_5_seq_bumps_on_wrap)
{
	int a, b;

	for (int i = 0; i < 60; i++)
		X_EQ(L("rmid %d", i),
		     o->ctl(o->get(IPC_PRIVATE, 1, 0600), IPC_RMID, NULL), 0);
	/* 60 is kept, 61..63 cycled */
	a = X_EQ("keep 60", o->get(IPC_PRIVATE, 1, 0600), 60);
	for (int i = 61; i < 64; i++)
		X_EQ(L("rmid %d", i),
		     o->ctl(o->get(IPC_PRIVATE, 1, 0600), IPC_RMID, NULL), 0);
	/* wraps to 0: seq 1 */
	b = X_EQ("wrap to idx 0", o->get(IPC_PRIVATE, 1, 0600), 32768);
	X_EQ("idx 1 same seq", o->get(IPC_PRIVATE, 1, 0600), 32769);
	rec_stat(o, "stat wrapped", b, IPC_STAT, NULL);
	rec_stat(o, "stat old", a, IPC_STAT, NULL);
}

/* 1.6 A freed index is not reused at once. */
DIFF_TEST(s1_6_not_lowest_free)
{
	int a = X_EQ("a", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_EQ("b", o->get(IPC_PRIVATE, 1, 0600), 1);
	X_EQ("rmid a", o->ctl(a, IPC_RMID, NULL), 0);
	X_EQ("c takes idx 2, not 0", o->get(IPC_PRIVATE, 1, 0600), 2);
}

/* 1.6 Re-creating a removed key gives a new, different id. */
DIFF_TEST(s1_6_recreate_key_new_id)
{
	int a = X_EQ("create key", o->get(K1, 10, IPC_CREAT | 0600), 0);

	X_EQ("rmid", o->ctl(a, IPC_RMID, NULL), 0);
	X_ERR("lookup after rmid", o->get(K1, 10, 0600), ENOENT);
	X_EQ("re-create key", o->get(K1, 10, IPC_CREAT | 0600), 1);
	X_ERR("old id stale", o->ctl(a, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
}

/* 1.7 When the range is full but for holes, the wrap finds them. */
DIFF_TEST(s1_7_wrap_finds_holes)
{
	int ids[64];

	for (int i = 0; i < 40; i++)
		ids[i] = X_EQ(L("create %d", i), o->get(IPC_PRIVATE, 1, 0600),
			      i);
	for (int i = 0; i < 30; i++)
		if (i != 7 && i != 20)
			X_EQ(L("rmid %d", i), o->ctl(ids[i], IPC_RMID, NULL),
			     0);
	/* n = 12..35 while filling 40..63: R stays 64 */
	for (int i = 40; i < 64; i++)
		X_EQ(L("fill %d", i), o->get(IPC_PRIVATE, 1, 0600), i);
	/* [64, 63] is empty: wrap, lowest hole 0, seq 1 */
	X_EQ("hole 0", o->get(IPC_PRIVATE, 1, 0600), 32768 + 0);
	X_EQ("hole 1", o->get(IPC_PRIVATE, 1, 0600), 32768 + 1);
	for (int i = 2; i < 7; i++)
		X_EQ(L("hole %d", i), o->get(IPC_PRIVATE, 1, 0600), 32768 + i);
	X_EQ("skips used 7", o->get(IPC_PRIVATE, 1, 0600), 32768 + 8);
}

/* 1.7 With all 32768 slots used but one, the next gets that one. */
DIFF_TEST_T(s1_7_full_table_last_slot, 120)
{
	int hole = 12345, id;

	X_EQ("shmmni=32768", o->set_limit("shmmni", 32768), 0);
	for (int i = 0; i < 32768; i++) {
		id = o->get(IPC_PRIVATE, 1, 0600);
		if (id != i) {
			X_EQ(L("create %d", i), id, i);
			return;
		}
	}
	rec("32768 created");
	X_ERR("table full", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("rmid hole", o->ctl(hole, IPC_RMID, NULL), 0);
	X_EQ("gets the hole", o->get(IPC_PRIVATE, 1, 0600), 32768 + hole);
	X_EQ("IPC_INFO max idx", rec_ipc_info(o, "info", 0, NULL), 32767);
	X_EQ("SHM_INFO max idx", rec_shm_info(o, "shm_info", 0, NULL), 32767);
}

/* 1.8 Failed creations (EINVAL/ENOSPC/ENOMEM/EPERM) don't advance. */
DIFF_TEST(s1_8_failures_do_not_advance)
{
	X_EQ("a", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_ERR("EINVAL size 0", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("ENOMEM 64 TiB", o->get(IPC_PRIVATE, 64ULL << 40, 0600), ENOMEM);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("EPERM hugetlb as nobody",
		      o->get(IPC_PRIVATE, 2 << 20, SHM_HUGETLB | 0600), EPERM);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("shmall=1", o->set_limit("shmall", 1), 0);
	X_ERR("ENOSPC shmall", o->get(IPC_PRIVATE, 8192, 0600), ENOSPC);
	X_EQ("shmall back", o->set_limit("shmall", 1000), 0);
	X_EQ("shmmni=1", o->set_limit("shmmni", 1), 0);
	X_ERR("ENOSPC shmmni", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("shmmni back", o->set_limit("shmmni", 4096), 0);
	X_EQ("b is idx 1 seq 0", o->get(IPC_PRIVATE, 1, 0600), 1);
}

/* Every id-taking call on ID, expecting EINVAL. */
static void all_calls_einval(const struct shm_ops *o, int id, const char *what)
{
	struct shmid_ds ds = { 0 };

	AT_ERR(L("%s: shmat", what), o->at(id, NULL, 0), EINVAL);
	X_ERR(L("%s: IPC_STAT", what), o->ctl(id, IPC_STAT, &ds), EINVAL);
	ds.shm_perm.mode = 0600;
	X_ERR(L("%s: IPC_SET", what), o->ctl(id, IPC_SET, &ds), EINVAL);
	X_ERR(L("%s: IPC_RMID", what), o->ctl(id, IPC_RMID, NULL), EINVAL);
	X_ERR(L("%s: SHM_LOCK", what), o->ctl(id, SHM_LOCK, NULL), EINVAL);
	X_ERR(L("%s: SHM_UNLOCK", what), o->ctl(id, SHM_UNLOCK, NULL), EINVAL);
}

/* 1.9 The calls look up slot id & 0x7fff; an empty slot gives EINVAL. */
DIFF_TEST(s1_9_empty_slot_einval)
{
	X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);
	all_calls_einval(o, 1, "empty slot 1");
	all_calls_einval(o, 5000, "empty slot 5000");
	all_calls_einval(o, 32768 + 1, "empty slot 1 seq 1");
	all_calls_einval(o, INT_MAX, "INT_MAX");
}

/* 1.9 An occupied slot with another seq gives EINVAL, not EIDRM. */
DIFF_TEST(s1_9_stale_seq_einval)
{
	int id = cycle_to_seq1(o, 0);	/* 32768: idx 0 seq 1 */

	all_calls_einval(o, 0, "idx 0 seq 0");
	all_calls_einval(o, 2 * 32768, "idx 0 seq 2");
	rec_stat(o, "current still fine", id, IPC_STAT, NULL);
}

/* 1.10 SHM_STAT and SHM_STAT_ANY use only arg & 0x7fff. */
DIFF_TEST(s1_10_shm_stat_ignores_seq)
{
	int id = cycle_to_seq1(o, 0);

	X_EQ("SHM_STAT idx", rec_stat(o, "by idx", 0, SHM_STAT, NULL), id);
	X_EQ("SHM_STAT full id",
	     rec_stat(o, "by id", id, SHM_STAT, NULL), id);
	X_EQ("SHM_STAT wrong seq",
	     rec_stat(o, "wrong seq", 5 * 32768, SHM_STAT, NULL), id);
	X_EQ("SHM_STAT_ANY wrong seq",
	     rec_stat(o, "any wrong seq", 7 * 32768, SHM_STAT_ANY, NULL), id);
}

/* 1.11 A negative shmid: EINVAL in shmat and every shmctl cmd, first. */
DIFF_TEST(s1_11_negative_id)
{
	static const int cmds[] = { IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO,
				    SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO,
				    SHM_STAT_ANY };
	struct shmid_ds ds = { 0 };
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	(void)id;
	AT_ERR("shmat -1", o->at(-1, NULL, 0), EINVAL);
	AT_ERR("shmat INT_MIN", o->at(INT_MIN, NULL, 0), EINVAL);
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ds.shm_perm.mode = 0600;
		X_ERR(L("shmctl(-1, %d)", cmds[i]), o->ctl(-1, cmds[i], &ds),
		      EINVAL);
		/* before the buffer is touched */
		X_ERR(L("shmctl(-1, %d, bad buf)", cmds[i]),
		      o->ctl(-1, cmds[i], (struct shmid_ds *)8), EINVAL);
		X_ERR(L("shmctl(INT_MIN, %d)", cmds[i]),
		      o->ctl(INT_MIN, cmds[i], NULL), EINVAL);
	}
}

/* 1.12 A deterministic single-threaded sequence never gives EIDRM. */
DIFF_TEST(s1_12_no_eidrm)
{
	int a = X_EQ("a", o->get(K1, 4096, IPC_CREAT | 0600), 0);
	void *p = AT_OK("attach a", o->at(a, NULL, 0), NULL);

	X_EQ("rmid attached", o->ctl(a, IPC_RMID, NULL), 0);
	rec_stat(o, "marked", a, IPC_STAT, NULL);
	X_EQ("detach last", o->dt(p), 0);
	all_calls_einval(o, a, "destroyed");
	X_ERR("SHM_STAT destroyed",
	      o->ctl(0, SHM_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
}

/* 1.14 kernel.shm_next_id defaults to -1. */
DIFF_TEST(s1_14_next_id_default)
{
	long long v;

	X_EQ("get", rec_limit(o, "shm_next_id", &v), 0);
	EXPECT(v == -1);
}

/* 1.15 shm_next_id >= 0: the next creation's id is exactly the value. */
DIFF_TEST(s1_15_next_id_exact)
{
	X_EQ("next_id=500", o->set_limit("shm_next_id", 500), 0);
	X_EQ("private gets 500", o->get(IPC_PRIVATE, 1, 0600), 500);
	X_EQ("next_id=3*32768+77",
	     rec_set_limit(o, "shm_next_id", 3 * 32768 + 77), 0);
	X_EQ("keyed gets it", o->get(K1, 1, IPC_CREAT | 0600), 3 * 32768 + 77);
	rec_stat(o, "stat", 3 * 32768 + 77, IPC_STAT, NULL);
	X_EQ("SHM_STAT 77", rec_stat(o, "shm_stat", 77, SHM_STAT, NULL),
	     3 * 32768 + 77);
}

/* 1.15 idx taken: lowest free idx above it, with seq = value >> 15. */
DIFF_TEST(s1_15_next_id_collision)
{
	for (int i = 0; i < 4; i++)
		X_EQ(L("create %d", i), o->get(IPC_PRIVATE, 1, 0600), i);
	X_EQ("next_id=32768+1", o->set_limit("shm_next_id", 32768 + 1), 0);
	X_EQ("collides: idx 4 seq 1", o->get(IPC_PRIVATE, 1, 0600), 32768 + 4);
}

/* 1.15 The largest value: seq 65535, idx 32767. */
DIFF_TEST(s1_15_next_id_int_max)
{
	X_EQ("next_id=INT_MAX", o->set_limit("shm_next_id", INT_MAX), 0);
	X_EQ("gets INT_MAX", o->get(IPC_PRIVATE, 1, 0600), INT_MAX);
	rec_stat(o, "stat", INT_MAX, IPC_STAT, NULL);
	X_EQ("rmid", o->ctl(INT_MAX, IPC_RMID, NULL), 0);
}

/* 1.16 After such a creation shm_next_id reads -1 again. */
DIFF_TEST(s1_16_next_id_reset)
{
	long long v;

	X_EQ("next_id=10", o->set_limit("shm_next_id", 10), 0);
	rec_limit(o, "shm_next_id", &v);
	EXPECT(v == 10);
	X_EQ("uses it", o->get(IPC_PRIVATE, 1, 0600), 10);
	rec_limit(o, "shm_next_id", &v);
	EXPECT(v == -1);
}

/* 1.16 Failed creations and lookups don't consume shm_next_id. */
DIFF_TEST(s1_16_next_id_not_consumed)
{
	long long v;

	X_EQ("existing", o->get(K1, 10, IPC_CREAT | 0600), 0);
	X_EQ("next_id=20", o->set_limit("shm_next_id", 20), 0);
	X_ERR("fails EINVAL", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("fails ENOENT", o->get(K1 + 1, 10, 0600), ENOENT);
	X_ERR("fails ENOMEM", o->get(IPC_PRIVATE, 64ULL << 40, 0600), ENOMEM);
	X_EQ("lookup", o->get(K1, 10, IPC_CREAT | 0600), 0);
	rec_limit(o, "shm_next_id", &v);
	EXPECT(v == 20);
	X_EQ("consumed now", o->get(IPC_PRIVATE, 1, 0600), 20);
	rec_limit(o, "shm_next_id", &v);
	EXPECT(v == -1);
}

/* 1.17 shm_next_id creations leave next, last_idx, seq alone. */
DIFF_TEST(s1_17_next_id_keeps_cyclic_state)
{
	X_EQ("a", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("b", o->get(IPC_PRIVATE, 1, 0600), 1);
	X_EQ("next_id=1000", o->set_limit("shm_next_id", 1000), 0);
	X_EQ("explicit", o->get(IPC_PRIVATE, 1, 0600), 1000);
	X_EQ("next_id=40000", o->set_limit("shm_next_id", 40000), 0);
	X_EQ("explicit, seq 1", o->get(IPC_PRIVATE, 1, 0600), 40000);
	X_EQ("cyclic continues at 2 seq 0", o->get(IPC_PRIVATE, 1, 0600), 2);
}

/* 1.18 shm_next_id takes 0..INT_MAX; negative EINVAL; others EACCES. */
DIFF_TEST(s1_18_next_id_range)
{
	X_EQ("0", o->set_limit("shm_next_id", 0), 0);
	X_EQ("INT_MAX", o->set_limit("shm_next_id", INT_MAX), 0);
	X_ERR("-1", o->set_limit("shm_next_id", -1), EINVAL);
	X_ERR("-5", o->set_limit("shm_next_id", -5), EINVAL);
	X_ERR("INT_MAX+1", o->set_limit("shm_next_id", INT_MAX + 1LL),
	      EINVAL);
	rec_limit(o, "shm_next_id", NULL);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody writes", o->set_limit("shm_next_id", 7),
		      EACCES);
		X_SUCC("nobody reads", rec_limit(o, "shm_next_id", NULL));
		diff_exit();
	}
	diff_wait(1);
	rec_limit(o, "shm_next_id", NULL);
}

/* 1.18 CAP_CHECKPOINT_RESTORE alone may write shm_next_id. */
DIFF_TEST(s1_18_next_id_checkpoint_restore)
{
	if (diff_fork() == 0) {
		diff_drop_caps(o, CAPBIT(CAP_SYS_ADMIN));
		X_EQ("CAP_CHECKPOINT_RESTORE writes",
		     rec_set_limit(o, "shm_next_id", 9), 0);
		X_EQ("used", o->get(IPC_PRIVATE, 1, 0600), 9);
		diff_drop_caps(o, CAPBIT(CAP_CHECKPOINT_RESTORE));
		X_REC("root without either capability",
		      o->set_limit("shm_next_id", 11));
		diff_exit();
	}
	diff_wait(1);
	rec_limit(o, "shm_next_id", NULL);
}

/* 1.19 A new namespace: own table and state, default limits. */
DIFF_TEST(s1_19_ns_defaults_and_isolation)
{
	static const char *const names[] = { "shmmax", "shmall", "shmmni",
					     "shm_rmid_forced", "shm_next_id" };
	long long v;

	for (int i = 0; i < 5; i++)
		rec_limit(o, names[i], NULL);
	rec_limit(o, "shmmax", &v);
	EXPECT((unsigned long long)v == 18446744073692774399ULL);
	rec_limit(o, "shmall", &v);
	EXPECT((unsigned long long)v == 18446744073692774399ULL);
	rec_limit(o, "shmmni", &v);
	EXPECT(v == 4096);
	rec_limit(o, "shm_rmid_forced", &v);
	EXPECT(v == 0);
	X_EQ("a", o->get(K1, 1, IPC_CREAT | 0600), 0);
	X_EQ("b", o->get(IPC_PRIVATE, 1, 0600), 1);
	X_EQ("shmmni=100", o->set_limit("shmmni", 100), 0);
	X_EQ("shmmax=5000", o->set_limit("shmmax", 5000), 0);
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);

	o->enter();
	rec("-- new namespace");
	for (int i = 0; i < 5; i++)
		rec_limit(o, names[i], NULL);
	rec_limit(o, "shmmni", &v);
	EXPECT(v == 4096);
	X_ERR("key unknown here", o->get(K1, 1, 0600), ENOENT);
	X_EQ("first id 0", o->get(K1, 1, IPC_CREAT | 0600), 0);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}
