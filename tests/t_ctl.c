/*
 * t_ctl.c - SEMANTICS.md section 5: shmctl.
 */
#include "diff.h"

#include <limits.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define K1 0x5c000001
#define K2 0x5c000002

/* A read-only page: copying out to it faults. */
static void *ro_page(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	CHECK(p != MAP_FAILED);
	return p;
}

static void set_memlock(rlim_t bytes)
{
	struct rlimit rl = { bytes, bytes };

	CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
}

/* 5.1 cmd < 0 or shmid < 0: EINVAL for every command, before anything. */
DIFF_TEST(s5_1_negative_cmd_or_id)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_ERR("cmd -1", o->ctl(id, -1, &ds), EINVAL);
	X_ERR("cmd -1, bad buf", o->ctl(id, -1, (struct shmid_ds *)8), EINVAL);
	X_ERR("cmd INT_MIN", o->ctl(id, INT_MIN, &ds), EINVAL);
	X_ERR("cmd -1, id -1", o->ctl(-1, -1, NULL), EINVAL);
	X_ERR("IPC_SET id -1, bad buf", o->ctl(-1, IPC_SET, NULL), EINVAL);
	X_ERR("IPC_INFO id -1, bad buf", o->ctl(-1, IPC_INFO, NULL), EINVAL);
	X_ERR("SHM_INFO id -1", o->ctl(-1, SHM_INFO, &ds), EINVAL);
	rec_stat(o, "still there", id, IPC_STAT, NULL);
}

/* 5.2 Any cmd but 0-3 and 11-15 gives EINVAL, IPC_64 (0x100) included. */
DIFF_TEST(s5_2_unknown_cmds)
{
	static const int cmds[] = { 4, 5, 6, 7, 8, 9, 10, 16, 17, 100, 1000,
				    0x100 | IPC_RMID, 0x100 | IPC_SET,
				    0x100 | IPC_STAT, 0x100 | IPC_INFO,
				    0x100 | SHM_LOCK, 0x100 | SHM_STAT,
				    0x100 | SHM_INFO, INT_MAX };
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ds = diff_set_buf(0, 0, 0600);
		X_ERR(L("cmd %d", cmds[i]), o->ctl(id, cmds[i], &ds), EINVAL);
	}
	rec_stat(o, "unchanged", id, IPC_STAT, NULL);
}

/* 5.4 No EOVERFLOW with the 64-bit structures, even for big uids. */
DIFF_TEST(s5_4_no_eoverflow)
{
	struct shmid_ds ds = diff_set_buf(4000000000U, 4000000001U, 0640);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_EQ("IPC_SET big ids", o->ctl(id, IPC_SET, &ds), 0);
	X_EQ("IPC_STAT", rec_stat(o, "stat", id, IPC_STAT, NULL), 0);
	X_EQ("SHM_STAT", rec_stat(o, "shm_stat", 0, SHM_STAT, NULL), id);
}

/* 5.5 IPC_STAT: id lookup (EINVAL), read perm (EACCES), copy-out (EFAULT). */
DIFF_TEST(s5_5_stat_order)
{
	void *ro = ro_page();
	int id = X_EQ("create 0600", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_ERR("bad id, NULL", o->ctl(5, IPC_STAT, NULL), EINVAL);
	X_ERR("bad id, read-only buf", o->ctl(5, IPC_STAT, ro), EINVAL);
	X_ERR("NULL", o->ctl(id, IPC_STAT, NULL), EFAULT);
	X_ERR("(void *)1", o->ctl(id, IPC_STAT, (struct shmid_ds *)1), EFAULT);
	X_ERR("read-only buf", o->ctl(id, IPC_STAT, ro), EFAULT);
	X_ERR("SHM_STAT NULL", o->ctl(0, SHM_STAT, NULL), EFAULT);
	X_ERR("SHM_STAT read-only", o->ctl(0, SHM_STAT, ro), EFAULT);
	X_ERR("SHM_STAT empty slot, NULL", o->ctl(3, SHM_STAT, NULL), EINVAL);
	X_ERR("SHM_STAT_ANY NULL", o->ctl(0, SHM_STAT_ANY, NULL), EFAULT);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, bad id, NULL", o->ctl(5, IPC_STAT, NULL),
		      EINVAL);
		X_ERR("nobody, NULL", o->ctl(id, IPC_STAT, NULL), EACCES);
		X_ERR("nobody, read-only", o->ctl(id, IPC_STAT, ro), EACCES);
		X_ERR("nobody, SHM_STAT NULL", o->ctl(0, SHM_STAT, NULL),
		      EACCES);
		X_ERR("nobody, SHM_STAT_ANY NULL",
		      o->ctl(0, SHM_STAT_ANY, NULL), EFAULT);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "unchanged", id, IPC_STAT, NULL);
}

/* 5.6 IPC_STAT fills every field, mode with 01000/02000; reserved are 0. */
DIFF_TEST(s5_6_stat_fields)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 12345, IPC_CREAT | 0640), 0);
	void *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	(void)p;
	X_EQ("IPC_STAT", rec_stat(o, "plain", id, IPC_STAT, &ds), 0);
	X_EQ("lock", o->ctl(id, SHM_LOCK, NULL), 0);
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("IPC_STAT", rec_stat(o, "locked+dest", id, IPC_STAT, &ds), 0);
	EXPECT(ds.shm_perm.mode == (SHM_DEST | SHM_LOCKED | 0640));
	EXPECT(ds.shm_perm.__key == 0);
	EXPECT(ds.shm_perm.__pad2 == 0 && ds.shm_perm.__glibc_reserved1 == 0 &&
	       ds.shm_perm.__glibc_reserved2 == 0 &&
	       ds.__glibc_reserved5 == 0 && ds.__glibc_reserved6 == 0);
}

/* 5.7 The owner of a mode-0 segment is refused IPC_STAT with EACCES. */
DIFF_TEST(s5_7_owner_needs_r)
{
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("create 0000", o->get(IPC_PRIVATE, 1, 0), 0);
		X_EQ("create 0200", o->get(IPC_PRIVATE, 1, 0200), 1);
		X_EQ("create 0066", o->get(IPC_PRIVATE, 1, 0066), 2);
		for (int i = 0; i < 3; i++) {
			X_ERR(L("IPC_STAT %d", i),
			      o->ctl(i, IPC_STAT, &(struct shmid_ds){ 0 }),
			      EACCES);
			X_ERR(L("SHM_STAT %d", i),
			      o->ctl(i, SHM_STAT, &(struct shmid_ds){ 0 }),
			      EACCES);
			X_EQ(L("SHM_STAT_ANY %d", i),
			     o->ctl(i, SHM_STAT_ANY, &(struct shmid_ds){ 0 }),
			     i);
		}
		diff_exit();
	}
	diff_wait(1);
}

/* 5.8 IPC_STAT changes nothing. */
DIFF_TEST(s5_8_stat_no_change)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 1, IPC_CREAT | 0644), 0);

	rec_stat(o, "first", id, IPC_STAT, &a);
	diff_tick();
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody IPC_STAT", o->ctl(id, IPC_STAT, &b), 0);
		X_EQ("nobody SHM_STAT", o->ctl(0, SHM_STAT, &b), 0);
		X_EQ("nobody SHM_STAT_ANY", o->ctl(0, SHM_STAT_ANY, &b), 0);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "second", id, IPC_STAT, &b);
	rec("same: %d", !memcmp(&a, &b, sizeof(a)));
	EXPECT(!memcmp(&a, &b, sizeof(a)));
}

/* 5.9 SHM_STAT takes an index (low 15 bits): 40000 is slot 7232. */
DIFF_TEST(s5_9_shm_stat_index)
{
	X_ERR("empty table, 0", o->ctl(0, SHM_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_EQ("next_id=7232", o->set_limit("shm_next_id", 7232), 0);
	X_EQ("create at 7232", o->get(IPC_PRIVATE, 1, 0600), 7232);
	X_EQ("40000", rec_stat(o, "40000", 40000, SHM_STAT, NULL), 7232);
	X_EQ("SHM_STAT_ANY 40000",
	     rec_stat(o, "any 40000", 40000, SHM_STAT_ANY, NULL), 7232);
	X_ERR("7233", o->ctl(7233, SHM_STAT, &(struct shmid_ds){ 0 }), EINVAL);
	X_ERR("32768 (slot 0)",
	      o->ctl(32768, SHM_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_EQ("create at 0", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("32768 now", o->ctl(32768, SHM_STAT, &(struct shmid_ds){ 0 }), 0);
	X_EQ("INT_MAX (slot 32767) empty", o->ctl(INT_MAX, SHM_STAT_ANY,
						  &(struct shmid_ds){ 0 }), -1);
}

/* 5.10 SHM_STAT returns the full id and fills the buffer as IPC_STAT. */
DIFF_TEST(s5_10_shm_stat_returns_id)
{
	struct shmid_ds a, b, c;
	int id;

	for (int i = 0; i < 64; i++)
		X_EQ(L("cycle %d", i),
		     o->ctl(o->get(IPC_PRIVATE, 1, 0600), IPC_RMID, NULL), 0);
	id = X_EQ("create seq 1", o->get(K1, 777, IPC_CREAT | 0640), 32768);
	AT_OK("attach", o->at(id, NULL, 0), NULL);
	X_EQ("IPC_STAT", rec_stat(o, "ipc_stat", id, IPC_STAT, &a), 0);
	X_EQ("SHM_STAT", rec_stat(o, "shm_stat", 0, SHM_STAT, &b), id);
	X_EQ("SHM_STAT_ANY", rec_stat(o, "any", 0, SHM_STAT_ANY, &c), id);
	rec("same buffers: %d %d", !memcmp(&a, &b, sizeof(a)),
	    !memcmp(&a, &c, sizeof(a)));
}

/* 5.11 SHM_STAT needs read permission; SHM_STAT_ANY none. */
DIFF_TEST(s5_11_shm_stat_perm)
{
	X_EQ("0600", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("0604", o->get(IPC_PRIVATE, 1, 0604), 1);
	X_EQ("0000", o->get(IPC_PRIVATE, 1, 0), 2);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("SHM_STAT 0600", rec_stat(o, "0600", 0, SHM_STAT, NULL),
		      EACCES);
		X_EQ("SHM_STAT 0604", rec_stat(o, "0604", 1, SHM_STAT, NULL),
		     1);
		X_EQ("SHM_STAT_ANY 0600",
		     rec_stat(o, "any 0600", 0, SHM_STAT_ANY, NULL), 0);
		X_EQ("SHM_STAT_ANY 0000",
		     rec_stat(o, "any 0000", 2, SHM_STAT_ANY, NULL), 2);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		/* root without CAP_IPC_OWNER is the owner here: r is there */
		diff_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		X_ERR("SHM_STAT 0000, no CAP_IPC_OWNER",
		      rec_stat(o, "0000", 2, SHM_STAT, NULL), EACCES);
		X_EQ("SHM_STAT_ANY 0000, no CAP_IPC_OWNER",
		     rec_stat(o, "any 0000", 2, SHM_STAT_ANY, NULL), 2);
		diff_exit();
	}
	diff_wait(2);
}

/* 5.12 A SHM_DEST segment stays visible to SHM_STAT and IPC_STAT. */
DIFF_TEST(s5_12_dest_visible)
{
	int id = X_EQ("create", o->get(K1, 1, IPC_CREAT | 0600), 0);
	void *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("IPC_STAT", rec_stat(o, "ipc_stat", id, IPC_STAT, NULL), 0);
	X_EQ("SHM_STAT", rec_stat(o, "shm_stat", 0, SHM_STAT, NULL), id);
	X_EQ("SHM_STAT_ANY", rec_stat(o, "any", 0, SHM_STAT_ANY, NULL), id);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
	X_EQ("detach", o->dt(p), 0);
	X_ERR("SHM_STAT gone", o->ctl(0, SHM_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
}

/* 5.13 IPC_SET copies in first: EFAULT before EINVAL and EPERM. */
DIFF_TEST(s5_13_set_efault_first)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_ERR("bad id, NULL", o->ctl(9, IPC_SET, NULL), EFAULT);
	X_ERR("bad id, (void *)1", o->ctl(9, IPC_SET, (struct shmid_ds *)1),
	      EFAULT);
	X_ERR("NULL", o->ctl(id, IPC_SET, NULL), EFAULT);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, NULL", o->ctl(id, IPC_SET, NULL), EFAULT);
		X_ERR("nobody, bad id, NULL", o->ctl(9, IPC_SET, NULL), EFAULT);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "unchanged", id, IPC_STAT, NULL);
}

/* 5.14 IPC_SET: EINVAL, then owner/creator/CAP_SYS_ADMIN or EPERM; no rw. */
DIFF_TEST(s5_14_set_perm)
{
	struct shmid_ds ds = diff_set_buf(65534, 65534, 0);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0666), 0);
	int mine = X_EQ("create 2", o->get(IPC_PRIVATE, 1, 0666), 1);

	X_ERR("bad id", o->ctl(9, IPC_SET, &ds), EINVAL);
	X_EQ("give 1 to nobody, mode 0", o->ctl(mine, IPC_SET, &ds), 0);
	if (diff_fork() == 0) {
		struct shmid_ds b = diff_set_buf(65534, 65534, 0644);

		test_become_nobody();
		X_ERR("nobody, bad id", o->ctl(9, IPC_SET, &b), EINVAL);
		X_ERR("nobody, not owner", o->ctl(id, IPC_SET, &b), EPERM);
		X_EQ("nobody, owner of a mode-0 segment",
		     o->ctl(mine, IPC_SET, &b), 0);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "0", id, IPC_STAT, NULL);
	rec_stat(o, "1", mine, IPC_STAT, NULL);
}

/* 5.15 IPC_SET takes uid, gid, mode & 0777; keeps SHM_DEST/SHM_LOCKED. */
DIFF_TEST(s5_15_set_fields)
{
	struct shmid_ds ds, st;
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0600), 0);
	void *p;

	rec_stat(o, "before", id, IPC_STAT, &st);
	memset(&ds, 0x5a, sizeof(ds));
	ds.shm_perm.uid = 1234;
	ds.shm_perm.gid = 5678;
	ds.shm_perm.mode = 07777;
	X_EQ("IPC_SET junk", o->ctl(id, IPC_SET, &ds), 0);
	rec_stat(o, "after", id, IPC_STAT, &st);
	EXPECT(st.shm_perm.mode == 0777 && st.shm_perm.uid == 1234 &&
	       st.shm_perm.gid == 5678 && st.shm_perm.cuid == 0 &&
	       st.shm_perm.__key == K1 && st.shm_segsz == 5000);
	X_EQ("lock", o->ctl(id, SHM_LOCK, NULL), 0);
	p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	(void)p;
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	ds = diff_set_buf(0, 0, 0640 | SHM_DEST | SHM_LOCKED);
	X_EQ("IPC_SET locked+dest", o->ctl(id, IPC_SET, &ds), 0);
	rec_stat(o, "kept bits", id, IPC_STAT, &st);
	EXPECT(st.shm_perm.mode == (0640 | SHM_DEST | SHM_LOCKED));
	X_EQ("unlock", o->ctl(id, SHM_UNLOCK, NULL), 0);
	ds = diff_set_buf(0, 0, 0600 | SHM_LOCKED);
	X_EQ("IPC_SET cannot lock", o->ctl(id, IPC_SET, &ds), 0);
	rec_stat(o, "not locked", id, IPC_STAT, &st);
	EXPECT(st.shm_perm.mode == (0600 | SHM_DEST));
	X_EQ("IPC_SET a fresh one cannot mark",
	     o->ctl(o->get(K1, 1, IPC_CREAT | 0600), IPC_SET, &ds), 0);
	rec_stat(o, "not marked", 1, IPC_STAT, &st);
}

/* 5.16 IPC_SET sets ctime = now and returns 0. */
DIFF_TEST(s5_16_set_ctime)
{
	struct shmid_ds a, b, ds = diff_set_buf(0, 0, 0640);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	X_EQ("IPC_SET", o->ctl(id, IPC_SET, &ds), 0);
	rec_stat(o, "after", id, IPC_STAT, &b);
	rec_cmp("ctime after vs before", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_ctime > a.shm_ctime);
	diff_tick();
	ds = diff_set_buf(0, 0, 0640);
	X_EQ("IPC_SET same values", o->ctl(id, IPC_SET, &ds), 0);
	rec_stat(o, "again", id, IPC_STAT, &a);
	rec_cmp("ctime again vs after", a.shm_ctime, b.shm_ctime);
}

/* 5.17 IPC_SET with uid or gid (uid_t)-1 gives EINVAL. */
DIFF_TEST(s5_17_set_invalid_ids)
{
	struct shmid_ds ds = diff_set_buf((uid_t)-1, 0, 0600);
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_ERR("uid -1", o->ctl(id, IPC_SET, &ds), EINVAL);
	ds = diff_set_buf(0, (gid_t)-1, 0600);
	X_ERR("gid -1", o->ctl(id, IPC_SET, &ds), EINVAL);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, uid -1", o->ctl(id, IPC_SET, &ds), EPERM);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "unchanged", id, IPC_STAT, NULL);
}

/* 5.18 Owners give segments away; the creator keeps SET, RMID, LOCK. */
DIFF_TEST(s5_18_give_away)
{
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(1, 1, 0600);

		test_become_nobody();
		X_EQ("create", o->get(K1, 1, IPC_CREAT | 0600), 0);
		X_EQ("give to uid 1", o->ctl(0, IPC_SET, &ds), 0);
		rec_stat(o, "given", 0, IPC_STAT, NULL);
		X_EQ("creator: SHM_LOCK", o->ctl(0, SHM_LOCK, NULL), 0);
		X_EQ("creator: SHM_UNLOCK", o->ctl(0, SHM_UNLOCK, NULL), 0);
		ds = diff_set_buf(2, 2, 0640);
		X_EQ("creator: IPC_SET", o->ctl(0, IPC_SET, &ds), 0);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(2, 2, 0660);

		diff_become(2, 2, 0, NULL);
		X_EQ("new owner: IPC_SET", o->ctl(0, IPC_SET, &ds), 0);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(3, 3, 0666);

		diff_become(1, 1, 0, NULL);
		X_ERR("old owner: IPC_SET", o->ctl(0, IPC_SET, &ds), EPERM);
		X_ERR("old owner: IPC_RMID", o->ctl(0, IPC_RMID, NULL), EPERM);
		X_ERR("old owner: SHM_LOCK", o->ctl(0, SHM_LOCK, NULL), EPERM);
		diff_exit();
	}
	diff_wait(3);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("creator: IPC_RMID", o->ctl(0, IPC_RMID, NULL), 0);
		diff_exit();
	}
	diff_wait(4);
	X_ERR("removed", o->get(K1, 0, 0), ENOENT);
}

/* 5.19 IPC_RMID ignores buf; owner, creator or CAP_SYS_ADMIN, else EPERM. */
DIFF_TEST(s5_19_rmid_buf_and_perm)
{
	X_EQ("create", o->get(K1, 1, IPC_CREAT | 0666), 0);
	X_EQ("create 2", o->get(K2, 1, IPC_CREAT | 0666), 1);
	X_EQ("rmid, buf (void *)1", o->ctl(1, IPC_RMID, (struct shmid_ds *)1),
	     0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody", o->ctl(0, IPC_RMID, NULL), EPERM);
		X_ERR("nobody, bad id", o->ctl(5, IPC_RMID, NULL), EINVAL);
		X_EQ("nobody creates mode 0", o->get(IPC_PRIVATE, 1, 0), 2);
		X_EQ("nobody removes its own", o->ctl(2, IPC_RMID, NULL), 0);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 5.20 With nattch == 0 IPC_RMID destroys the segment at once. */
DIFF_TEST(s5_20_rmid_destroys)
{
	int id = X_EQ("create", o->get(K1, 10000, IPC_CREAT | 0600), 0);

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_ERR("IPC_STAT", o->ctl(id, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	AT_ERR("shmat", o->at(id, NULL, 0), EINVAL);
	X_ERR("rmid again", o->ctl(id, IPC_RMID, NULL), EINVAL);
	X_ERR("key", o->get(K1, 0, 0), ENOENT);
	X_EQ("SHM_INFO", rec_shm_info(o, "info", 0, NULL), 0);
}

/* 5.21 RMID with nattch > 0: SHM_DEST, key 0, usable until nattch 0. */
DIFF_TEST(s5_21_rmid_attached_marks)
{
	struct shmid_ds ds = diff_set_buf(0, 0, 0644);
	int id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL), *q;

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	rec_stat(o, "marked", id, IPC_STAT, NULL);
	X_ERR("key gone", o->get(K1, 0, 0), ENOENT);
	q = AT_OK("shmat by id", o->at(id, NULL, 0), NULL);
	if (p != (void *)-1 && q != (void *)-1) {
		p[5] = 'k';
		rec("memory shared: %c", q[5]);
	}
	X_EQ("IPC_SET", o->ctl(id, IPC_SET, &ds), 0);
	X_EQ("SHM_LOCK", o->ctl(id, SHM_LOCK, NULL), 0);
	rec_stat(o, "set and locked", id, IPC_STAT, NULL);
	X_EQ("detach 1", o->dt(p), 0);
	X_EQ("detach 2", o->dt(q), 0);
	X_ERR("destroyed", o->ctl(id, IPC_STAT, &ds), EINVAL);
}

/* 5.22 IPC_RMID does not change ctime. */
DIFF_TEST(s5_22_rmid_keeps_ctime)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);

	AT_OK("attach", o->at(id, NULL, 0), NULL);
	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	rec_stat(o, "after", id, IPC_STAT, &b);
	rec_cmp("ctime after vs before", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_ctime == a.shm_ctime);
}

/* 5.23 IPC_RMID on a segment already marked succeeds again (5.24: 0). */
DIFF_TEST(s5_23_rmid_twice)
{
	int id = X_EQ("create", o->get(K1, 4096, IPC_CREAT | 0600), 0);
	void *p = AT_OK("attach", o->at(id, NULL, 0), NULL);

	X_EQ("rmid", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("rmid again", o->ctl(id, IPC_RMID, NULL), 0);
	X_EQ("and again", o->ctl(id, IPC_RMID, (struct shmid_ds *)1), 0);
	rec_stat(o, "marked", id, IPC_STAT, NULL);
	X_EQ("detach", o->dt(p), 0);
	X_ERR("gone", o->ctl(id, IPC_RMID, NULL), EINVAL);
}

/* 5.25 IPC_INFO needs no permission and ignores shmid (if >= 0). */
DIFF_TEST(s5_25_ipc_info_any)
{
	X_EQ("create", o->get(IPC_PRIVATE, 1, 0), 0);
	X_EQ("create", o->get(IPC_PRIVATE, 1, 0), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("id 0", rec_ipc_info(o, "info 0", 0, NULL), 1);
		X_EQ("id 12345", rec_ipc_info(o, "info 12345", 12345, NULL), 1);
		X_EQ("id INT_MAX", rec_ipc_info(o, "info max", INT_MAX, NULL),
		     1);
		diff_exit();
	}
	diff_wait(1);
}

/* 5.26 IPC_INFO: shmmax, shmmin 1, shmmni, shmseg = shmmni, shmall. */
DIFF_TEST(s5_26_ipc_info_fields)
{
	struct shminfo in;

	rec_ipc_info(o, "defaults", 0, &in);
	EXPECT(in.shmmax == 18446744073692774399UL && in.shmmin == 1 &&
	       in.shmmni == 4096 && in.shmseg == 4096 &&
	       in.shmall == 18446744073692774399UL);
	X_EQ("shmmax=123456", o->set_limit("shmmax", 123456), 0);
	X_EQ("shmall=789", o->set_limit("shmall", 789), 0);
	X_EQ("shmmni=100", o->set_limit("shmmni", 100), 0);
	rec_ipc_info(o, "set", 0, &in);
	EXPECT(in.shmmax == 123456 && in.shmmin == 1 && in.shmmni == 100 &&
	       in.shmseg == 100 && in.shmall == 789);
	X_EQ("shmmax=ULONG_MAX", o->set_limit("shmmax", -1), 0);
	X_EQ("shmall=0", o->set_limit("shmall", 0), 0);
	X_EQ("shmmni=0", o->set_limit("shmmni", 0), 0);
	rec_ipc_info(o, "extremes", 0, &in);
}

/* 5.27 IPC_INFO returns the highest idx in use, or 0 when none. */
DIFF_TEST(s5_27_ipc_info_maxidx)
{
	X_EQ("empty", rec_ipc_info(o, "empty", 0, NULL), 0);
	X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("one at 0", rec_ipc_info(o, "one", 0, NULL), 0);
	X_EQ("next_id=300", o->set_limit("shm_next_id", 300), 0);
	X_EQ("create at 300", o->get(IPC_PRIVATE, 1, 0600), 300);
	X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 1);
	X_EQ("with 300", rec_ipc_info(o, "300", 0, NULL), 300);
	X_EQ("rmid 300", o->ctl(300, IPC_RMID, NULL), 0);
	X_EQ("after rmid", rec_ipc_info(o, "after", 0, NULL), 1);
	X_EQ("rmid 0", o->ctl(0, IPC_RMID, NULL), 0);
	X_EQ("rmid 1", o->ctl(1, IPC_RMID, NULL), 0);
	X_EQ("empty again", rec_ipc_info(o, "empty again", 0, NULL), 0);
}

/* 5.28 IPC_INFO with a bad buf gives EFAULT. */
DIFF_TEST(s5_28_ipc_info_efault)
{
	X_ERR("NULL", o->ctl(0, IPC_INFO, NULL), EFAULT);
	X_ERR("(void *)1", o->ctl(0, IPC_INFO, (struct shmid_ds *)1), EFAULT);
	X_ERR("read-only", o->ctl(0, IPC_INFO, ro_page()), EFAULT);
}

/* 5.29 SHM_INFO, no perm: used_ids, shm_tot, shm_rss, shm_swp, swap 0. */
DIFF_TEST(s5_29_shm_info)
{
	struct shm_info si;
	int a = X_EQ("create 3 pages", o->get(IPC_PRIVATE, 3 * PAGE, 0), 0);
	char *p;

	X_EQ("create 5000", o->get(IPC_PRIVATE, 5000, 0), 1);
	rec_shm_info(o, "untouched", 0, &si);
	EXPECT(si.used_ids == 2 && si.shm_tot == 5 && si.shm_rss == 0 &&
	       si.shm_swp == 0);
	p = AT_OK("attach", o->at(a, NULL, 0), NULL);
	if (p != (void *)-1) {
		p[0] = p[PAGE] = p[2 * PAGE + 100] = 1;
		rec_shm_info(o, "touched", 0, &si);
		EXPECT(si.shm_rss == 3);
		X_EQ("detach", o->dt(p), 0);
	}
	rec_shm_info(o, "detached", 0, &si);
	EXPECT(si.shm_rss == 3);
	p = AT_OK("attach 1", o->at(1, NULL, 0), NULL);
	X_EQ("rmid 1", o->ctl(1, IPC_RMID, NULL), 0);
	rec_shm_info(o, "marked", 0, &si);
	EXPECT(si.used_ids == 2);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody", rec_shm_info(o, "nobody", 99, NULL), 1);
		diff_exit();
	}
	diff_wait(1);
}

/* 5.30 SHM_INFO returns the same highest idx as IPC_INFO. */
DIFF_TEST(s5_30_shm_info_ret)
{
	X_EQ("empty", rec_shm_info(o, "empty", 0, NULL), 0);
	X_EQ("next_id=4000", o->set_limit("shm_next_id", 4000), 0);
	X_EQ("create at 4000", o->get(IPC_PRIVATE, 1, 0600), 4000);
	X_EQ("4000", rec_shm_info(o, "4000", 0, NULL), 4000);
	X_EQ("IPC_INFO", rec_ipc_info(o, "ipc_info", 0, NULL), 4000);
}

/* 5.31 SHM_INFO with a bad buf gives EFAULT. */
DIFF_TEST(s5_31_shm_info_efault)
{
	X_ERR("NULL", o->ctl(0, SHM_INFO, NULL), EFAULT);
	X_ERR("(void *)1", o->ctl(0, SHM_INFO, (struct shmid_ds *)1), EFAULT);
	X_ERR("read-only", o->ctl(0, SHM_INFO, ro_page()), EFAULT);
}

/* 5.32 SHM_LOCK: EINVAL, owner/creator or CAP_IPC_LOCK, RLIMIT 0: EPERM. */
DIFF_TEST(s5_32_lock_checks)
{
	int root = X_EQ("root's 0666", o->get(IPC_PRIVATE, 1, 0666), 0);

	X_EQ("buf (void *)1", o->ctl(root, SHM_LOCK, (struct shmid_ds *)1), 0);
	X_EQ("unlock buf (void *)1",
	     o->ctl(root, SHM_UNLOCK, (struct shmid_ds *)1), 0);
	X_ERR("bad id", o->ctl(7, SHM_LOCK, NULL), EINVAL);
	X_ERR("unlock bad id", o->ctl(7, SHM_UNLOCK, NULL), EINVAL);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody, bad id", o->ctl(7, SHM_LOCK, NULL), EINVAL);
		X_ERR("nobody, root's", o->ctl(root, SHM_LOCK, NULL), EPERM);
		X_ERR("nobody unlock, root's", o->ctl(root, SHM_UNLOCK, NULL),
		      EPERM);
		X_EQ("nobody's mode 0", o->get(IPC_PRIVATE, 1, 0), 1);
		X_EQ("owner, mode 0", o->ctl(1, SHM_LOCK, NULL), 0);
		X_EQ("owner unlock, mode 0", o->ctl(1, SHM_UNLOCK, NULL), 0);
		set_memlock(0);
		X_ERR("RLIMIT_MEMLOCK 0", o->ctl(1, SHM_LOCK, NULL), EPERM);
		X_EQ("unlock with RLIMIT_MEMLOCK 0",
		     o->ctl(1, SHM_UNLOCK, NULL), 0);
		X_ERR("RLIMIT_MEMLOCK 0, root's", o->ctl(root, SHM_LOCK, NULL),
		      EPERM);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		diff_drop_caps(o, CAPBIT(CAP_IPC_LOCK));
		X_ERR("root without CAP_IPC_LOCK, nobody's",
		      o->ctl(1, SHM_LOCK, NULL), EPERM);
		X_EQ("root without CAP_IPC_LOCK, its own",
		     o->ctl(root, SHM_LOCK, NULL), 0);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		CHECK(prctl(PR_SET_KEEPCAPS, 1) == 0);
		CHECK(setresuid(4321, 4321, 4321) == 0);
		diff_keep_caps(o, CAPBIT(CAP_IPC_LOCK));
		X_EQ("CAP_IPC_LOCK only, nobody's", o->ctl(1, SHM_LOCK, NULL),
		     0);
		set_memlock(0);
		X_EQ("CAP_IPC_LOCK, RLIMIT_MEMLOCK 0",
		     o->ctl(1, SHM_UNLOCK, NULL), 0);
		X_EQ("CAP_IPC_LOCK, RLIMIT_MEMLOCK 0, lock",
		     o->ctl(1, SHM_LOCK, NULL), 0);
		diff_exit();
	}
	diff_wait(3);
	rec_stat(o, "root's", root, IPC_STAT, NULL);
	rec_stat(o, "nobody's", 1, IPC_STAT, NULL);
}

/* 5.33 SHM_LOCK sets 02000, SHM_UNLOCK clears it; ctime is unchanged. */
DIFF_TEST(s5_33_lock_flag)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 5000, IPC_CREAT | 0640), 0);

	rec_stat(o, "before", id, IPC_STAT, &a);
	diff_tick();
	X_EQ("lock", o->ctl(id, SHM_LOCK, NULL), 0);
	rec_stat(o, "locked", id, IPC_STAT, &b);
	EXPECT(b.shm_perm.mode == (SHM_LOCKED | 0640));
	rec_cmp("ctime kept", b.shm_ctime, a.shm_ctime);
	EXPECT(b.shm_ctime == a.shm_ctime);
	X_EQ("lock again", o->ctl(id, SHM_LOCK, NULL), 0);
	X_EQ("unlock", o->ctl(id, SHM_UNLOCK, NULL), 0);
	rec_stat(o, "unlocked", id, IPC_STAT, &b);
	EXPECT(b.shm_perm.mode == 0640 && b.shm_ctime == a.shm_ctime);
	rec_cmp("ctime kept", b.shm_ctime, a.shm_ctime);
}

/* 5.34 SHM_LOCK charges pages per user; over RLIMIT_MEMLOCK: ENOMEM. */
DIFF_TEST(s5_34_memlock_accounting)
{
	if (diff_fork() == 0) {
		set_memlock(8 * PAGE);
		test_become_nobody();
		X_EQ("A 5 pages", o->get(IPC_PRIVATE, 4 * PAGE + 1, 0600), 0);
		X_EQ("B 4 pages", o->get(IPC_PRIVATE, 4 * PAGE, 0600), 1);
		X_EQ("C 3 pages", o->get(IPC_PRIVATE, 3 * PAGE, 0600), 2);
		X_EQ("D 9 pages", o->get(IPC_PRIVATE, 9 * PAGE, 0600), 3);
		X_ERR("lock D: over the limit", o->ctl(3, SHM_LOCK, NULL),
		      ENOMEM);
		X_EQ("lock A (5)", o->ctl(0, SHM_LOCK, NULL), 0);
		X_ERR("lock B (5+4)", o->ctl(1, SHM_LOCK, NULL), ENOMEM);
		X_EQ("relock A: no charge", o->ctl(0, SHM_LOCK, NULL), 0);
		X_EQ("lock C (5+3)", o->ctl(2, SHM_LOCK, NULL), 0);
		X_EQ("unlock A", o->ctl(0, SHM_UNLOCK, NULL), 0);
		X_EQ("unlock A again: no release", o->ctl(0, SHM_UNLOCK, NULL),
		     0);
		X_EQ("lock B (3+4)", o->ctl(1, SHM_LOCK, NULL), 0);
		X_ERR("lock A (7+5)", o->ctl(0, SHM_LOCK, NULL), ENOMEM);
		X_EQ("rmid C: destruction releases", o->ctl(2, IPC_RMID, NULL),
		     0);
		X_ERR("lock A (4+5)", o->ctl(0, SHM_LOCK, NULL), ENOMEM);
		X_EQ("rmid B", o->ctl(1, IPC_RMID, NULL), 0);
		X_EQ("lock A (5)", o->ctl(0, SHM_LOCK, NULL), 0);
		rec_stat(o, "A", 0, IPC_STAT, NULL);
		/* the kernel's charge is per user, system-wide, and a dead
		 * namespace is freed later: release it now */
		X_EQ("unlock A", o->ctl(0, SHM_UNLOCK, NULL), 0);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		/* the soft limit counts */
		struct rlimit rl = { 4 * PAGE, 8 * PAGE };

		CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		test_become_nobody();
		X_ERR("soft limit 4 pages, lock A (5)",
		      o->ctl(0, SHM_LOCK, NULL), ENOMEM);
		rl.rlim_cur = 0;
		CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		X_ERR("soft limit 0, hard 8 pages", o->ctl(0, SHM_LOCK, NULL),
		      EPERM);
		diff_exit();
	}
	diff_wait(2);
	/* root has CAP_IPC_LOCK: no limit */
	set_memlock(PAGE);
	X_EQ("root, D over the limit", o->ctl(3, SHM_LOCK, NULL), 0);
	rec_stat(o, "D", 3, IPC_STAT, NULL);
	X_EQ("unlock D", o->ctl(3, SHM_UNLOCK, NULL), 0);
}

/* 5.35 SHM_UNLOCK on an unlocked segment succeeds and does nothing. */
DIFF_TEST(s5_35_unlock_unlocked)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, 1, 0600), 0);

	X_EQ("unlock", o->ctl(id, SHM_UNLOCK, NULL), 0);
	X_EQ("unlock again", o->ctl(id, SHM_UNLOCK, NULL), 0);
	rec_stat(o, "stat", id, IPC_STAT, NULL);
}

/* 5.36 SHM_LOCK and SHM_UNLOCK on hugetlb succeed and do nothing. */
DIFF_TEST(s5_36_lock_hugetlb_noop)
{
	struct shmid_ds ds;
	int id = X_EQ("create hugetlb",
		      o->get(IPC_PRIVATE, 4096,
			     SHM_HUGETLB | SHM_NORESERVE | 0600), 0);

	X_EQ("lock", o->ctl(id, SHM_LOCK, NULL), 0);
	rec_stat(o, "stat", id, IPC_STAT, &ds);
	EXPECT(ds.shm_perm.mode == 0600);
	X_EQ("unlock", o->ctl(id, SHM_UNLOCK, NULL), 0);
}
