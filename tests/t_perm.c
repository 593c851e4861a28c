/*
 * t_perm.c - SEMANTICS.md section 7: permissions, with processes of
 * different users sharing segments in one namespace.
 */
#include "diff.h"

#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <unistd.h>

#define K1 0x7b000001
#define K2 0x7b000002
#define K3 0x7b000003

static void expect_res(const char *label, long long r, int ok, long long want)
{
	if (ok)
		X_EQ(label, r, want);
	else
		X_ERR(label, r, EACCES);
}

static void expect_at(const struct shm_ops *o, const char *label, int id,
		      int flags, int ok)
{
	void *p;

	if (!ok) {
		AT_ERR(label, o->at(id, NULL, flags), EACCES);
		return;
	}
	p = AT_OK(label, o->at(id, NULL, flags), NULL);
	if (p != (void *)-1)
		o->dt(p);
}

/*
 * The one documented difference (README, "Limits and known differences"):
 * CAP_IPC_OWNER without CAP_DAC_OVERRIDE passes the permission check but
 * not the segment file's own permissions, which are what keeps a
 * segment's data from processes that ignore the library.  So the kernel
 * attaches and ushm refuses with EACCES; each side is checked for its own
 * outcome, and the traces record the same line.
 */
static void expect_at_ipc_owner_only(const struct shm_ops *o,
				     const char *label, int id, int flags)
{
	void *p = o->at(id, NULL, flags);
	int e = errno;

	if (!strcmp(o->name, "kernel")) {
		CHECK(p != (void *)-1);
		o->dt(p);
	} else {
		CHECK(p == (void *)-1 && e == EACCES);
	}
	rec("%s: kernel attaches, ushm's file refuses (documented)", label);
}

/*
 * Every classic-permission check on segment ID (key KEY, index IDX) by the
 * calling process, whose class grants BITS (rwx as 4/2/1): shmget lookups
 * asking for r and w, shmat read-only, read-write and exec, IPC_STAT and
 * SHM_STAT.
 */
static void probe_as(const struct shm_ops *o, const char *who, int id,
		     key_t key, int bits, int ipc_owner_only)
{
	struct shmid_ds ds;

	expect_res(L("%s: shmget 0400", who), o->get(key, 0, 0400), bits & 4,
		   id);
	expect_res(L("%s: shmget 0020", who), o->get(key, 0, 0020), bits & 2,
		   id);
	expect_res(L("%s: shmget 0", who), o->get(key, 0, 0), 1, id);
	if (ipc_owner_only) {
		expect_at_ipc_owner_only(o, L("%s: shmat SHM_RDONLY", who), id,
					 SHM_RDONLY);
		expect_at_ipc_owner_only(o, L("%s: shmat rw", who), id, 0);
		expect_at_ipc_owner_only(o, L("%s: shmat SHM_RDONLY|SHM_EXEC",
					      who), id, SHM_RDONLY | SHM_EXEC);
	} else {
		expect_at(o, L("%s: shmat SHM_RDONLY", who), id, SHM_RDONLY,
			  bits & 4);
		expect_at(o, L("%s: shmat rw", who), id, 0, (bits & 6) == 6);
		expect_at(o, L("%s: shmat SHM_RDONLY|SHM_EXEC", who), id,
			  SHM_RDONLY | SHM_EXEC, (bits & 5) == 5);
	}
	expect_res(L("%s: IPC_STAT", who), o->ctl(id, IPC_STAT, &ds), bits & 4,
		   0);
	expect_res(L("%s: SHM_STAT", who), o->ctl(id & 0x7fff, SHM_STAT, &ds),
		   bits & 4, id);
	X_EQ(L("%s: SHM_STAT_ANY", who),
	     o->ctl(id & 0x7fff, SHM_STAT_ANY, &ds), id);
}

static void probe(const struct shm_ops *o, const char *who, int id, key_t key,
		  int bits)
{
	probe_as(o, who, id, key, bits, 0);
}

/* 7.1 Owner class (euid == cuid or uid), no fall-through. */
DIFF_TEST(s7_1_owner_class_no_fallthrough)
{
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody creates 0066", o->get(K1, PAGE, IPC_CREAT | 0066),
		     0);
		probe(o, "owner of 0066", 0, K1, 0);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		diff_become(1, 1, 0, NULL);
		probe(o, "other of 0066", 0, K1, 6);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		diff_become(2, 65534, 0, NULL);
		probe(o, "group of 0066", 0, K1, 6);
		diff_exit();
	}
	diff_wait(3);
}

/* 7.1 Group class (fsgid or a group == cgid or gid), no fall-through. */
DIFF_TEST(s7_1_group_class_no_fallthrough)
{
	struct shmid_ds ds = diff_set_buf(0, 65534, 0606);

	X_EQ("root creates 0606", o->get(K1, PAGE, IPC_CREAT | 0606), 0);
	X_EQ("gid 65534", o->ctl(0, IPC_SET, &ds), 0);
	X_EQ("root creates 0060", o->get(K2, PAGE, IPC_CREAT | 0060), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		probe(o, "group (gid) of 0606", 0, K1, 0);
		probe(o, "other of 0060", 1, K2, 0);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		/* cgid 0 through a supplementary group */
		static const gid_t g0[] = { 0 };

		diff_become(65534, 65534, 1, g0);
		probe(o, "group (cgid, supplementary) of 0606", 0, K1, 0);
		probe(o, "group (cgid, supplementary) of 0060", 1, K2, 6);
		diff_exit();
	}
	diff_wait(2);
	ds = diff_set_buf(0, 4444, 0060);
	X_EQ("0060: gid 4444", o->ctl(1, IPC_SET, &ds), 0);
	if (diff_fork() == 0) {
		static const gid_t g[] = { 4444 };

		diff_become(65534, 65534, 1, g);
		probe(o, "group (gid, supplementary) of 0060", 1, K2, 6);
		diff_exit();
	}
	diff_wait(3);
	if (diff_fork() == 0) {
		diff_become(65534, 0, 0, NULL);
		probe(o, "group (cgid, egid) of 0060", 1, K2, 6);
		diff_exit();
	}
	diff_wait(4);
}

/* 7.1 Otherwise the other class: its bits alone decide. */
DIFF_TEST(s7_1_other_class)
{
	static const int modes[] = { 0604, 0602, 0606, 0607, 0605, 0670, 0 };

	for (int i = 0; i < 7; i++)
		X_EQ(L("create %04o", modes[i]),
		     o->get(K1 + i, PAGE, IPC_CREAT | modes[i]), i);
	if (diff_fork() == 0) {
		test_become_nobody();
		for (int i = 0; i < 7; i++)
			probe(o, L("other of %04o", modes[i]), i, K1 + i,
			      modes[i] & 7);
		diff_exit();
	}
	diff_wait(1);
}

/* 7.2 Effective ids only; fsgid and groups, not egid if fsgid differs. */
DIFF_TEST(s7_2_effective_ids)
{
	struct shmid_ds ds;

	X_EQ("root's 0600", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody's 0600", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("0060 gid 1234", o->get(K3, PAGE, IPC_CREAT | 0060), 2);
	ds = diff_set_buf(0, 1234, 0060);
	X_EQ("gid 1234", o->ctl(2, IPC_SET, &ds), 0);
	X_EQ("0060 gid 65534", o->get(K3 + 1, PAGE, IPC_CREAT | 0060), 3);
	ds = diff_set_buf(0, 65534, 0060);
	X_EQ("gid 65534", o->ctl(3, IPC_SET, &ds), 0);
	if (diff_fork() == 0) {
		/* ruid 0, euid 65534: no capabilities in effect */
		CHECK(setgroups(0, NULL) == 0);
		CHECK(setresgid(65534, 65534, 65534) == 0);
		CHECK(setresuid(0, 65534, 0) == 0);
		probe(o, "euid 65534, ruid 0: root's", 0, K1, 0);
		probe(o, "euid 65534, ruid 0: nobody's", 1, K2, 6);
		ds = diff_set_buf(65534, 65534, 0640);
		X_EQ("euid 65534: IPC_SET nobody's", o->ctl(1, IPC_SET, &ds),
		     0);
		X_ERR("euid 65534: IPC_SET root's", o->ctl(0, IPC_SET, &ds),
		      EPERM);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		/* ruid 65534, euid 0, without CAP_IPC_OWNER */
		CHECK(setresuid(65534, 0, 65534) == 0);
		diff_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		probe(o, "euid 0, ruid 65534: root's", 0, K1, 6);
		probe(o, "euid 0, ruid 65534: nobody's (0640)", 1, K2, 0);
		diff_exit();
	}
	diff_wait(3);
	if (diff_fork() == 0) {
		/* fsgid 1234, egid 65534 */
		CHECK(setgroups(0, NULL) == 0);
		CHECK(setresgid(65534, 65534, 65534) == 0);
		setfsgid(1234);
		CHECK(setresuid(65534, 65534, 65534) == 0);
		CHECK((gid_t)setfsgid(-1) == 1234);
		probe(o, "fsgid 1234: gid 1234", 2, K3, 6);
		probe(o, "fsgid 1234: gid 65534 (egid)", 3, K3 + 1, 0);
		diff_exit();
	}
	diff_wait(4);
}

/* 7.3 The creator keeps owner-class access through cuid. */
DIFF_TEST(s7_3_creator_owner_class)
{
	struct shmid_ds ds = diff_set_buf(65534, 65534, 0600);

	X_EQ("create 0600", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	X_EQ("give away", o->ctl(0, IPC_SET, &ds), 0);
	X_EQ("create 0066", o->get(K2, PAGE, IPC_CREAT | 0066), 1);
	ds = diff_set_buf(65534, 65534, 0066);
	X_EQ("give away", o->ctl(1, IPC_SET, &ds), 0);
	if (diff_fork() == 0) {
		diff_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		probe(o, "creator of 0600", 0, K1, 6);
		probe(o, "creator of 0066", 1, K2, 0);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		test_become_nobody();
		probe(o, "new owner of 0600", 0, K1, 6);
		probe(o, "new owner of 0066", 1, K2, 0);
		diff_exit();
	}
	diff_wait(2);
}

/* 7.4 CAP_IPC_OWNER bypasses the check; root without it: EACCES. */
DIFF_TEST(s7_4_cap_ipc_owner)
{
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody creates mode 0", o->get(K1, PAGE, IPC_CREAT), 0);
		diff_exit();
	}
	diff_wait(1);
	probe(o, "root", 0, K1, 7);
	X_EQ("root: shmget 0777", o->get(K1, 0, 0777), 0);
	if (diff_fork() == 0) {
		diff_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		probe(o, "root without CAP_IPC_OWNER", 0, K1, 0);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		/* CAP_IPC_OWNER alone, as another user */
		CHECK(prctl(PR_SET_KEEPCAPS, 1) == 0);
		CHECK(setgroups(0, NULL) == 0 && setgid(4321) == 0);
		CHECK(setresuid(4321, 4321, 4321) == 0);
		diff_keep_caps(o, CAPBIT(CAP_IPC_OWNER));
		probe_as(o, "uid 4321 with CAP_IPC_OWNER", 0, K1, 7, 1);
		diff_exit();
	}
	diff_wait(3);
}

/* 7.5 SET/RMID: owner, creator or CAP_SYS_ADMIN; LOCK: CAP_IPC_LOCK. */
DIFF_TEST(s7_5_caps_for_set_rmid_lock)
{
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody creates", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
		X_EQ("nobody creates 2", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(65534, 65534, 0640);

		diff_drop_caps(o, CAPBIT(CAP_SYS_ADMIN));
		X_ERR("no CAP_SYS_ADMIN: IPC_SET", o->ctl(0, IPC_SET, &ds),
		      EPERM);
		X_ERR("no CAP_SYS_ADMIN: IPC_RMID", o->ctl(0, IPC_RMID, NULL),
		      EPERM);
		X_EQ("no CAP_SYS_ADMIN: SHM_LOCK", o->ctl(0, SHM_LOCK, NULL),
		     0);
		X_EQ("no CAP_SYS_ADMIN: SHM_UNLOCK",
		     o->ctl(0, SHM_UNLOCK, NULL), 0);
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(65534, 65534, 0644);

		diff_drop_caps(o, CAPBIT(CAP_IPC_LOCK));
		X_ERR("no CAP_IPC_LOCK: SHM_LOCK", o->ctl(0, SHM_LOCK, NULL),
		      EPERM);
		X_ERR("no CAP_IPC_LOCK: SHM_UNLOCK",
		      o->ctl(0, SHM_UNLOCK, NULL), EPERM);
		X_EQ("no CAP_IPC_LOCK: IPC_SET", o->ctl(0, IPC_SET, &ds), 0);
		diff_exit();
	}
	diff_wait(3);
	if (diff_fork() == 0) {
		struct shmid_ds ds = diff_set_buf(65534, 65534, 0600);

		CHECK(prctl(PR_SET_KEEPCAPS, 1) == 0);
		CHECK(setgroups(0, NULL) == 0 && setgid(4321) == 0);
		CHECK(setresuid(4321, 4321, 4321) == 0);
		diff_keep_caps(o, CAPBIT(CAP_SYS_ADMIN));
		X_EQ("uid 4321, CAP_SYS_ADMIN: IPC_SET",
		     o->ctl(0, IPC_SET, &ds), 0);
		X_ERR("uid 4321, CAP_SYS_ADMIN: SHM_LOCK",
		      o->ctl(0, SHM_LOCK, NULL), EPERM);
		X_EQ("uid 4321, CAP_SYS_ADMIN: IPC_RMID",
		     o->ctl(0, IPC_RMID, NULL), 0);
		diff_exit();
	}
	diff_wait(4);
	if (diff_fork() == 0) {
		CHECK(prctl(PR_SET_KEEPCAPS, 1) == 0);
		CHECK(setgroups(0, NULL) == 0 && setgid(4321) == 0);
		CHECK(setresuid(4321, 4321, 4321) == 0);
		diff_keep_caps(o, CAPBIT(CAP_IPC_LOCK));
		X_EQ("uid 4321, CAP_IPC_LOCK: SHM_LOCK",
		     o->ctl(1, SHM_LOCK, NULL), 0);
		X_EQ("uid 4321, CAP_IPC_LOCK: SHM_UNLOCK",
		     o->ctl(1, SHM_UNLOCK, NULL), 0);
		X_ERR("uid 4321, CAP_IPC_LOCK: IPC_RMID",
		      o->ctl(1, IPC_RMID, NULL), EPERM);
		diff_exit();
	}
	diff_wait(5);
	X_ERR("removed", o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
	rec_stat(o, "the other", 1, IPC_STAT, NULL);
}

/* 7.6 SHM_STAT_ANY, IPC_INFO and SHM_INFO need no permission. */
DIFF_TEST(s7_6_no_perm_needed)
{
	X_EQ("root creates mode 0", o->get(K1, PAGE, IPC_CREAT), 0);
	X_EQ("root creates 0600", o->get(IPC_PRIVATE, PAGE, 0600), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("SHM_STAT_ANY mode 0",
		     rec_stat(o, "any 0", 0, SHM_STAT_ANY, NULL), 0);
		X_EQ("SHM_STAT_ANY 0600",
		     rec_stat(o, "any 1", 1, SHM_STAT_ANY, NULL), 1);
		X_EQ("IPC_INFO", rec_ipc_info(o, "ipc_info", 0, NULL), 1);
		X_EQ("SHM_INFO", rec_shm_info(o, "shm_info", 0, NULL), 1);
		diff_exit();
	}
	diff_wait(1);
}

/* 7.7 Only root writes the SHM sysctls; everyone reads them. */
DIFF_TEST(s7_7_sysctl_write_root_only)
{
	static const char *const names[] = { "shmmax", "shmall", "shmmni",
					     "shm_rmid_forced", "shm_next_id" };

	if (diff_fork() == 0) {
		test_become_nobody();
		for (int i = 0; i < 5; i++) {
			X_SUCC(L("nobody reads %s", names[i]),
			     rec_limit(o, names[i], NULL));
			X_ERR(L("nobody writes %s", names[i]),
			      o->set_limit(names[i], 1), EACCES);
		}
		diff_exit();
	}
	diff_wait(1);
	for (int i = 0; i < 5; i++)
		rec_limit(o, names[i], NULL);
	X_EQ("root writes shmmni", o->set_limit("shmmni", 77), 0);
	rec_limit(o, "shmmni", NULL);
	if (diff_fork() == 0) {
		/* the files are 0644 root: uid 0 writes without capabilities */
		diff_keep_caps(o, 0);
		X_REC("root without capabilities writes shmmni",
		      o->set_limit("shmmni", 78));
		X_REC("root without capabilities writes shm_next_id",
		      o->set_limit("shm_next_id", 78));
		diff_exit();
	}
	diff_wait(2);
	rec_limit(o, "shmmni", NULL);
	rec_limit(o, "shm_next_id", NULL);
}

/* 7.1 Users share segments as the mode allows (root, nobody, uid 1). */
DIFF_TEST(s7_1_users_share_segments)
{
	char *p;

	X_EQ("root creates 0604", o->get(K1, PAGE, IPC_CREAT | 0604), 0);
	X_EQ("root creates 0666", o->get(K2, PAGE, IPC_CREAT | 0666), 1);
	p = AT_OK("root attaches 0604", o->at(0, NULL, 0), NULL);
	if (p != (void *)-1)
		strcpy(p, "from root");
	if (diff_fork() == 0) {
		char *q;

		test_become_nobody();
		q = AT_OK("nobody attaches 0604 read-only",
			  o->at(o->get(K1, 0, 0), NULL, SHM_RDONLY), NULL);
		if (q != (void *)-1)
			rec("nobody reads: %s", q);
		AT_ERR("nobody attaches 0604 rw", o->at(0, NULL, 0), EACCES);
		q = AT_OK("nobody attaches 0666 rw",
			  o->at(o->get(K2, 0, 0666), NULL, 0), NULL);
		if (q != (void *)-1)
			strcpy(q, "from nobody");
		X_EQ("nobody creates 0600",
		     o->get(K3, PAGE, IPC_CREAT | 0600), 2);
		q = AT_OK("nobody attaches its own", o->at(2, NULL, 0), NULL);
		if (q != (void *)-1)
			strcpy(q, "nobody's secret");
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	/* root's, its copy inherited by the child, the child's own */
	X_NATTCH(o, "0604 nattch", 0, 3);
	X_NATTCH(o, "0666 nattch", 1, 1);
	p = AT_OK("root attaches 0666", o->at(1, NULL, SHM_RDONLY), NULL);
	if (p != (void *)-1)
		rec("root reads: %s", p);
	p = AT_OK("root attaches nobody's 0600", o->at(2, NULL, 0), NULL);
	if (p != (void *)-1)
		rec("root reads: %s", p);
	if (diff_fork() == 0) {
		diff_become(1, 1, 0, NULL);
		AT_ERR("uid 1 attaches nobody's 0600",
		       o->at(2, NULL, SHM_RDONLY), EACCES);
		X_ERR("uid 1 looks nobody's 0600 up", o->get(K3, 0, 0400),
		      EACCES);
		diff_exit();
	}
	diff_wait(2);
	to_child(1, 0);
	diff_wait(1);
	rec_stat(o, "0604", 0, IPC_STAT, NULL);
	rec_stat(o, "0666", 1, IPC_STAT, NULL);
	rec_stat(o, "nobody's", 2, IPC_STAT, NULL);
}

/* 7.1 Group members share: 0660 rw and 0640 read-only for the group. */
DIFF_TEST(s7_1_group_shares_segment)
{
	struct shmid_ds ds = diff_set_buf(0, 65534, 0660);
	char *p;

	X_EQ("root creates 0660", o->get(K1, PAGE, IPC_CREAT | 0660), 0);
	X_EQ("gid 65534", o->ctl(0, IPC_SET, &ds), 0);
	X_EQ("root creates 0640", o->get(K2, PAGE, IPC_CREAT | 0640), 1);
	ds = diff_set_buf(0, 65534, 0640);
	X_EQ("gid 65534", o->ctl(1, IPC_SET, &ds), 0);
	if (diff_fork() == 0) {
		char *q;

		test_become_nobody();
		q = AT_OK("nobody attaches 0660 rw", o->at(0, NULL, 0), NULL);
		if (q != (void *)-1)
			strcpy(q, "group write");
		AT_ERR("nobody attaches 0640 rw", o->at(1, NULL, 0), EACCES);
		AT_OK("nobody attaches 0640 read-only",
		      o->at(1, NULL, SHM_RDONLY), NULL);
		diff_exit();
	}
	diff_wait(1);
	p = AT_OK("root attaches 0660", o->at(0, NULL, 0), NULL);
	if (p != (void *)-1)
		rec("root reads: %s", p);
}
