/*
 * t_sem_get.c - SEMANTICS-SEM.md sections 1 (ids, allocator, sem_next_id),
 * 2 (semget) and 11 (limits).
 */
#include "semops.h"

#include <limits.h>
#include <sys/shm.h>
#include <unistd.h>

/* 1.1 Sets have their own ids and keys: the first set is id 0 even with
 * a shm segment of the same key; 1.5 a fresh namespace starts empty,
 * with the default limits, and namespaces are independent. */
SEM_TEST(sem_s1_1_5_own_ids_fresh_ns)
{
	X_EQ("SEM_INFO empty", rec_seminfo(o, "info", 0, SEM_INFO, NULL), 0);
	rec_sem_limit(o, "sem", NULL, 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_EQ("shm segment K1", o->shmget(K1, 4096, IPC_CREAT | IPC_EXCL | 0600),
	     0);
	X_EQ("shm segment K3", o->shmget(K3, 4096, IPC_CREAT | IPC_EXCL | 0600),
	     1);
	X_EQ("first set, K1 too", o->get(K1, 1, IPC_CREAT | IPC_EXCL | 0600),
	     0);
	X_EQ("second set", o->get(K2, 1, IPC_CREAT | IPC_EXCL | 0600), 1);
	X_EQ("private set", o->get(IPC_PRIVATE, 1, 0600), 2);
	X_ERR("no set K3", o->get(K3, 0, 0), ENOENT);
	X_EQ("sem 100 200 30 40", o->set_limit_text("sem", "100 200 30 40"), 0);
	X_EQ("sem_next_id 9", o->set_limit_text("sem_next_id", "9"), 0);
	o->enter();
	rec("another fresh namespace");
	X_EQ("SEM_INFO empty", rec_seminfo(o, "info", 0, SEM_INFO, NULL), 0);
	rec_sem_limit(o, "sem", NULL, 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_ERR("K1 not here", o->get(K1, 0, 0), ENOENT);
	X_EQ("first set here", o->get(K1, 1, IPC_CREAT | IPC_EXCL | 0600), 0);
}

/* 1.2 Ids are seq * 32768 + idx; the index allocator is cyclic, not
 * lowest-free; wrapping around the range of 64 advances seq. */
SEM_TEST(sem_s1_2_id_composition_cyclic)
{
	struct semid_ds ds;
	int a, b, c, d, id = -1;

	a = X_EQ("a", o->get(IPC_PRIVATE, 1, 0600), 0);
	b = X_EQ("b", o->get(IPC_PRIVATE, 1, 0600), 1);
	c = X_EQ("c", o->get(IPC_PRIVATE, 1, 0600), 2);
	X_EQ("rmid a", o->ctl(a, 0, IPC_RMID), 0);
	d = X_EQ("d: next index, not lowest free",
		 o->get(IPC_PRIVATE, 1, 0600), 3);
	X_EQ("rmid b", o->ctl(b, 0, IPC_RMID), 0);
	X_EQ("rmid c", o->ctl(c, 0, IPC_RMID), 0);
	X_EQ("rmid d", o->ctl(d, 0, IPC_RMID), 0);
	for (int i = 4; i < 64; i++) {
		id = o->get(IPC_PRIVATE, 1, 0600);
		if (id != i || o->ctl(id, 0, IPC_RMID) != 0)
			break;
	}
	X_EQ("created 4..63 in turn", id, 63);
	id = X_EQ("wrapped: idx 0, seq 1", o->get(IPC_PRIVATE, 1, 0600),
		  32768);
	rec_semstat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.sem_perm.__seq == 1);
	X_ERR("old id 0: stale", o->ctl(0, 0, IPC_STAT,
					(union semun){ .buf = &ds }), EINVAL);
	X_EQ("next: idx 1, seq 1", o->get(K1, 1, IPC_CREAT | 0600), 32769);
}

/* 1.3 A stale id (seq mismatch) or a removed one: EINVAL, never EIDRM. */
SEM_TEST(sem_s1_3_stale_ids_einval)
{
	int a = X_EQ("a", o->get(IPC_PRIVATE, 2, 0600), 0);
	struct semid_ds ds;

	X_ERR("stale seq IPC_STAT", o->ctl(a + 32768, 0, IPC_STAT,
					   (union semun){ .buf = &ds }),
	      EINVAL);
	X_ERR("stale seq GETVAL", o->ctl(a + 32768, 0, GETVAL), EINVAL);
	X_ERR("stale seq semop", o->op(a + 32768, OPS({ 0, 1, 0 })), EINVAL);
	X_ERR("stale seq SETVAL", o->ctl(a + 32768, 0, SETVAL, 1), EINVAL);
	X_ERR("empty slot semop", o->op(5, OPS({ 0, 1, 0 })), EINVAL);
	X_EQ("rmid", o->ctl(a, 0, IPC_RMID), 0);
	X_ERR("removed semop", o->op(a, OPS({ 0, 1, 0 })), EINVAL);
	X_ERR("removed semtimedop", o->timedop(a, OPS({ 0, 1, 0 }),
					       &(struct timespec){ 0, 0 }),
	      EINVAL);
	X_ERR("removed GETALL", o->ctl(a, 0, GETALL,
				       (union semun){ .array = NULL }),
	      EINVAL);
	X_ERR("removed IPC_SET", o->ctl(a, 0, IPC_SET,
					(union semun){ .buf = &ds }), EINVAL);
	X_ERR("removed IPC_RMID", o->ctl(a, 0, IPC_RMID), EINVAL);
	X_ERR("removed SEM_STAT", o->ctl(0, 0, SEM_STAT,
					 (union semun){ .buf = &ds }), EINVAL);
}

/* 1.4 (with SEMANTICS.md 1.14-1.18) sem_next_id: -1 by default,
 * 0..INT_MAX, negative values (even -1) EINVAL; taken by the next
 * successful creation (seq = v >> 15, lowest free idx >= v & 0x7fff),
 * then -1 again; the cyclic allocator is left as it was. */
SEM_TEST(sem_s1_4_next_id)
{
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_ERR("set -2", o->set_limit_text("sem_next_id", "-2"), EINVAL);
	X_ERR("set -1", o->set_limit_text("sem_next_id", "-1"), EINVAL);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_EQ("K2", o->get(K2, 1, IPC_CREAT | 0600), 0);
	X_EQ("set 7", o->set_limit_text("sem_next_id", "7"), 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_ERR("failed creation", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("failed lookup", o->get(K1, 0, 0), ENOENT);
	X_EQ("lookup of K2", o->get(K2, 1, IPC_CREAT | 0600), 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_EQ("created at 7", o->get(IPC_PRIVATE, 1, 0600), 7);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_EQ("normal allocator untouched", o->get(IPC_PRIVATE, 1, 0600), 1);
	X_EQ("set 5*32768+3", o->set_limit_text("sem_next_id", "163843"), 0);
	X_EQ("created with seq 5", o->get(K1, 1, IPC_CREAT | 0600), 163843);
	X_EQ("found by key", o->get(K1, 0, 0), 163843);
	X_EQ("set 7 (taken)", o->set_limit_text("sem_next_id", "7"), 0);
	X_EQ("taken: the next free idx", o->get(IPC_PRIVATE, 1, 0600), 8);
	X_EQ("set INT_MAX", o->set_limit_text("sem_next_id", "2147483647"), 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_REC("created from INT_MAX", o->get(IPC_PRIVATE, 1, 0600));
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_EQ("normal allocator", o->get(IPC_PRIVATE, 1, 0600), 2);
}

/* 2.1 nsems < 0 or > SEMMSL: EINVAL, before the key lookup. */
SEM_TEST(sem_s2_1_nsems_range_first)
{
	X_ERR("absent key, 32001", o->get(K1, 32001, 0600), EINVAL);
	X_ERR("absent key, -1", o->get(K1, -1, 0600), EINVAL);
	X_ERR("absent key, INT_MIN", o->get(K1, INT_MIN, IPC_CREAT | 0600),
	      EINVAL);
	X_EQ("create", o->get(K1, 3, IPC_CREAT | 0600), 0);
	X_ERR("existing, 32001", o->get(K1, 32001, 0), EINVAL);
	X_ERR("existing, -1", o->get(K1, -1, 0), EINVAL);
	X_ERR("existing, excl, 32001",
	      o->get(K1, 32001, IPC_CREAT | IPC_EXCL | 0600), EINVAL);
	X_EQ("32000 ok", o->get(IPC_PRIVATE, 32000, 0600), 1);
	X_EQ("semmsl=10", o->set_limit_text("sem", "10"), 0);
	X_ERR("11 > semmsl", o->get(K2, 11, IPC_CREAT | 0600), EINVAL);
	X_ERR("existing, 11 > semmsl", o->get(K1, 11, 0), EINVAL);
	X_EQ("10 == semmsl", o->get(K2, 10, IPC_CREAT | 0600), 2);
	X_EQ("existing set of 32000 still found by stat",
	     rec_semstat(o, "stat", 1, IPC_STAT, NULL), 0);
}

/* 2.2 IPC_PRIVATE always creates, with or without IPC_CREAT/IPC_EXCL. */
SEM_TEST(sem_s2_2_private_always_new)
{
	X_EQ("no flags", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("IPC_CREAT", o->get(IPC_PRIVATE, 2, IPC_CREAT | 0600), 1);
	X_EQ("IPC_CREAT|IPC_EXCL",
	     o->get(IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | 0600), 2);
	X_EQ("IPC_EXCL", o->get(IPC_PRIVATE, 2, IPC_EXCL), 3);
	X_EQ("SEM_INFO", rec_seminfo(o, "info", 0, SEM_INFO, NULL), 3);
	rec_semstat(o, "private", 3, IPC_STAT, NULL);
}

/* 2.3 ENOENT, EEXIST, IPC_EXCL alone is a lookup. */
SEM_TEST(sem_s2_3_key_rules)
{
	X_ERR("absent", o->get(K1, 1, 0600), ENOENT);
	X_ERR("absent, IPC_EXCL alone", o->get(K1, 1, IPC_EXCL | 0600),
	      ENOENT);
	X_ERR("absent, nsems 0", o->get(K1, 0, 0), ENOENT);
	X_EQ("create", o->get(K1, 2, IPC_CREAT | 0600), 0);
	X_ERR("excl", o->get(K1, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	X_EQ("IPC_EXCL alone: lookup", o->get(K1, 2, IPC_EXCL), 0);
	X_EQ("IPC_CREAT again: lookup", o->get(K1, 2, IPC_CREAT | 0600), 0);
	X_EQ("plain lookup", o->get(K1, 1, 0), 0);
	X_EQ("other key", o->get(K2, 1, IPC_CREAT | IPC_EXCL | 0600), 1);
	X_EQ("rmid", o->ctl(0, 0, IPC_RMID), 0);
	X_ERR("key free after rmid", o->get(K1, 1, 0), ENOENT);
	X_EQ("key reusable", o->get(K1, 1, IPC_CREAT | IPC_EXCL | 0600), 2);
}

/* 2.4 Lookup order: EEXIST, then nsems > sem_nsems (EINVAL), then
 * EACCES with the mode bits of semflg. */
SEM_TEST(sem_s2_4_lookup_order)
{
	X_EQ("create 3, 0600", o->get(K1, 3, IPC_CREAT | 0600), 0);
	X_ERR("EEXIST beats nsems", o->get(K1, 4, IPC_CREAT | IPC_EXCL),
	      EEXIST);
	X_ERR("nsems 4 > 3", o->get(K1, 4, 0), EINVAL);
	X_EQ("nsems 3", o->get(K1, 3, 0), 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody: EEXIST before EACCES",
		      o->get(K1, 1, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
		X_ERR("nobody: nsems before EACCES", o->get(K1, 4, 0600),
		      EINVAL);
		X_EQ("nobody: no mode bits pass", o->get(K1, 1, 0), 0);
		X_ERR("nobody: 0400", o->get(K1, 1, 0400), EACCES);
		X_ERR("nobody: 0004", o->get(K1, 1, 0004), EACCES);
		X_ERR("nobody: 0200", o->get(K1, 1, 0200), EACCES);
		X_ERR("nobody: 0020", o->get(K1, 1, 0020), EACCES);
		X_EQ("nobody: IPC_CREAT alone", o->get(K1, 1, IPC_CREAT), 0);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("0604", o->get(K2, 1, IPC_CREAT | 0604), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody: 0004 on 0604", o->get(K2, 1, 0004), 1);
		X_EQ("nobody: 0400 on 0604 (other's r)", o->get(K2, 1, 0400),
		     1);
		X_ERR("nobody: 0002 on 0604", o->get(K2, 1, 0002), EACCES);
		X_ERR("nobody: 0666 on 0604", o->get(K2, 1, 0666), EACCES);
		diff_exit();
	}
	diff_wait(2);
}

/* 2.5 A lookup accepts any nsems in 0..sem_nsems, with no effect. */
SEM_TEST(sem_s2_5_lookup_nsems)
{
	X_EQ("create 5", o->get(K1, 5, IPC_CREAT | 0600), 0);
	X_EQ("nsems 0", o->get(K1, 0, 0), 0);
	X_EQ("nsems 1", o->get(K1, 1, IPC_CREAT | 0600), 0);
	X_EQ("nsems 5", o->get(K1, 5, 0), 0);
	rec_semstat(o, "unchanged", 0, IPC_STAT, NULL);
	X_EQ("SEM_INFO", rec_seminfo(o, "info", 0, SEM_INFO, NULL), 0);
}

/* 2.6 Creation order: nsems 0 EINVAL; SEMMNS ENOSPC; SEMMNI ENOSPC; the
 * exact limits fit. */
SEM_TEST(sem_s2_6_create_checks)
{
	X_ERR("private, 0", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_ERR("new key, 0", o->get(K1, 0, IPC_CREAT | 0600), EINVAL);
	X_EQ("sem 250 10 32 2",
	     o->set_limit_text("sem", "250 10 32 2"), 0);
	X_EQ("6 of 10", o->get(IPC_PRIVATE, 6, 0600), 0);
	X_ERR("6 more: semmns", o->get(IPC_PRIVATE, 5, 0600), ENOSPC);
	X_EQ("exactly 4 more", o->get(K1, 4, IPC_CREAT | 0600), 1);
	X_ERR("semmni 2 reached", o->get(IPC_PRIVATE, 0, 0600), EINVAL);
	X_EQ("sem 250 100 32 2", o->set_limit_text("sem", "250 100 32 2"),
	     0);
	X_ERR("semmni", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("sem 250 10 32 5", o->set_limit_text("sem", "250 10 32 5"), 0);
	X_ERR("semmns before semmni", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("rmid 1", o->ctl(1, 0, IPC_RMID), 0);
	X_EQ("usage dropped", o->get(IPC_PRIVATE, 4, 0600), 2);
	X_EQ("SEM_INFO", rec_seminfo(o, "info", 0, SEM_INFO, NULL), 2);
}

/* 2.7 A new set's fields; created by nobody, owned by nobody. */
SEM_TEST(sem_s2_7_initial_state)
{
	int id = X_EQ("create", o->get(K1, 3, IPC_CREAT | IPC_EXCL | 017777),
		      0);
	struct semid_ds ds;

	rec_semstat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.sem_perm.mode == 0777);
	EXPECT(ds.sem_otime == 0);
	EXPECT(ds.sem_nsems == 3);
	EXPECT(ds.sem_perm.__key == K1);
	rec_sems(o, "sems", id, 3);
	X_ALL(o, "values", id, 3, 0, 0, 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody creates", o->get(K2, 2, IPC_CREAT | 0640), 1);
		rec_semstat(o, "nobody's", 1, IPC_STAT, &ds);
		EXPECT(ds.sem_perm.uid == 65534 && ds.sem_perm.cuid == 65534);
		EXPECT(ds.sem_perm.gid == 65534 && ds.sem_perm.cgid == 65534);
		diff_exit();
	}
	diff_wait(1);
	rec_semstat(o, "nobody's, seen by root", 1, IPC_STAT, NULL);
}

/* 2.8 used_sems: creation adds nsems, IPC_RMID subtracts. */
SEM_TEST(sem_s2_8_used_sems)
{
	struct seminfo in;

	o->get(IPC_PRIVATE, 7, 0600);
	o->get(IPC_PRIVATE, 5, 0600);
	rec_seminfo(o, "two sets", 0, SEM_INFO, &in);
	EXPECT(in.semusz == 2 && in.semaem == 12);
	X_EQ("rmid 0", o->ctl(0, 0, IPC_RMID), 0);
	rec_seminfo(o, "one set", 0, SEM_INFO, &in);
	EXPECT(in.semusz == 1 && in.semaem == 5);
}

/* 11.1-11.4 The "sem" file: format, partial writes, no range checks for
 * the first three, SEMMNI 0..32768 (ERANGE, the others kept), lowering a
 * limit only affects later calls. */
SEM_TEST(sem_s11_1_4_limits)
{
	char t[128];

	rec_sem_limit(o, "sem", t, sizeof(t));
	EXPECT(!strcmp(t, "32000\t1024000000\t500\t32000"));
	X_EQ("partial: 250", o->set_limit_text("sem", "250"), 0);
	rec_sem_limit(o, "sem", NULL, 0);
	X_EQ("partial: 250 1000", o->set_limit_text("sem", "250 1000"), 0);
	rec_sem_limit(o, "sem", NULL, 0);
	X_EQ("zeros and negatives", o->set_limit_text("sem", "0 -3 -1 10"),
	     0);
	rec_sem_limit(o, "sem", NULL, 0);
	X_ERR("semmsl 0: nsems 1", o->get(IPC_PRIVATE, 1, 0600), EINVAL);
	X_EQ("semmsl -5", o->set_limit_text("sem", "-5 100 10 10"), 0);
	X_ERR("semmsl -5: nsems 0 lookup", o->get(K1, 0, 0), EINVAL);
	X_ERR("semmni 32769", o->set_limit_text("sem", "11 22 33 32769"),
	      ERANGE);
	rec_sem_limit(o, "sem", t, sizeof(t));
	EXPECT(!strcmp(t, "11\t22\t33\t10"));
	X_ERR("semmni -1", o->set_limit_text("sem", "12 23 34 -1"), ERANGE);
	rec_sem_limit(o, "sem", NULL, 0);
	X_EQ("semmni 32768", o->set_limit_text("sem", "250 100 5 32768"), 0);
	rec_sem_limit(o, "sem", NULL, 0);
	X_EQ("a set of 50", o->get(IPC_PRIVATE, 50, 0600), 0);
	X_EQ("semmns below usage", o->set_limit_text("sem", "10 20 2 1"), 0);
	X_EQ("the set still works", o->op(0, OPS({ 49, 1, 0 })), 0);
	X_ERR("semmsl: later calls", o->get(IPC_PRIVATE, 11, 0600), EINVAL);
	X_ERR("semmns/semmni: later calls", o->get(IPC_PRIVATE, 1, 0600),
	      ENOSPC);
	X_ERR("3 sops > semopm 2",
	      o->op(0, OPS({ 0, 1, 0 }, { 1, 1, 0 }, { 2, 1, 0 })), E2BIG);
	X_EQ("2 sops == semopm", o->op(0, OPS({ 0, 1, 0 }, { 1, 1, 0 })), 0);
	rec_seminfo(o, "info", 0, IPC_INFO, NULL);
}

/* 11.5 (and 1.4) Only root writes "sem" and "sem_next_id"; everyone
 * reads them; sem_next_id beyond INT_MAX is EINVAL. */
SEM_TEST(sem_s11_5_sysctl_write_root_only)
{
	static const char *const names[] = { "sem", "sem_next_id" };

	if (diff_fork() == 0) {
		test_become_nobody();
		for (int i = 0; i < 2; i++) {
			X_SUCC(L("nobody reads %s", names[i]),
			       rec_sem_limit(o, names[i], NULL, 0));
			X_ERR(L("nobody writes %s", names[i]),
			      o->set_limit_text(names[i], "1"), EACCES);
		}
		diff_exit();
	}
	diff_wait(1);
	rec_sem_limit(o, "sem", NULL, 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
	X_ERR("sem_next_id INT_MAX+1",
	      o->set_limit_text("sem_next_id", "2147483648"), EINVAL);
	if (diff_fork() == 0) {
		/* uid 0 without capabilities: what the kernel does */
		diff_set_caps(0, o->creds_changed);
		X_REC("root without capabilities writes sem",
		      o->set_limit_text("sem", "100"));
		X_REC("root without capabilities writes sem_next_id",
		      o->set_limit_text("sem_next_id", "5"));
		diff_exit();
	}
	diff_wait(2);
	rec_sem_limit(o, "sem", NULL, 0);
	rec_sem_limit(o, "sem_next_id", NULL, 0);
}
