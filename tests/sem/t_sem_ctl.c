/*
 * t_sem_ctl.c - SEMANTICS-SEM.md section 8 (semctl) and 9 (permissions).
 */
#include "semops.h"

#include <limits.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARR(...) ((union semun){ .array = (unsigned short[]){ __VA_ARGS__ } })
#define BUF(p) ((union semun){ .buf = (p) })

/* 8.1-8.3 semid < 0 always EINVAL; unknown cmds EINVAL (IPC_64 too);
 * semnum ignored where not used. */
SEM_TEST(sem_s8_1_3_general)
{
	static const int cmds[] = { IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO,
				    GETPID, GETVAL, GETALL, GETNCNT, GETZCNT,
				    SETVAL, SETALL, SEM_STAT, SEM_INFO,
				    SEM_STAT_ANY };
	static const int bad[] = { 4, 5, 10, 21, 99, -1, IPC_STAT | 0x100,
				   GETVAL | 0x100 };
	struct semid_ds ds;
	struct seminfo in;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		X_ERR(L("semid -1, cmd %d", cmds[i]),
		      o->ctl(-1, 0, cmds[i], BUF(&ds)), EINVAL);
	X_ERR("semid INT_MIN, SEM_INFO",
	      o->ctl(INT_MIN, 0, SEM_INFO, (union semun){ .__buf = &in }),
	      EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		X_ERR(L("cmd %d", bad[i]), o->ctl(0, 0, bad[i], BUF(&ds)),
		      EINVAL);
	X_EQ("SETALL, semnum 99", o->ctl(0, 99, SETALL, ARR(4, 5)), 0);
	X_EQ("GETALL, semnum -7", o->ctl(0, -7, GETALL, ARR(0, 0)), 0);
	X_EQ("IPC_STAT, semnum 99", o->ctl(0, 99, IPC_STAT, BUF(&ds)), 0);
	X_EQ("SETVAL as a plain int", o->ctl(0, 1, SETVAL, 9), 0);
	X_ALL(o, "values", 0, 2, 4, 9);
	X_EQ("IPC_RMID, semnum -5, junk arg",
	     o->ctl(0, -5, IPC_RMID, BUF(sem_bad_ptr())), 0);
}

/* 8.4 IPC_STAT: EINVAL before EFAULT, EFAULT, fields, reserved 0; a
 * mode-0 set denies it even to its owner (without CAP_IPC_OWNER). */
SEM_TEST(sem_s8_4_ipc_stat)
{
	struct semid_ds ds;

	X_EQ("set", o->get(K1, 3, IPC_CREAT | 0640), 0);
	X_ERR("bad id, bad buf", o->ctl(7, 0, IPC_STAT, BUF(sem_bad_ptr())),
	      EINVAL);
	X_ERR("bad buf", o->ctl(0, 0, IPC_STAT, BUF(sem_bad_ptr())), EFAULT);
	X_ERR("NULL buf", o->ctl(0, 0, IPC_STAT, BUF(NULL)), EFAULT);
	rec_semstat(o, "stat", 0, IPC_STAT, &ds);
	EXPECT(ds.sem_nsems == 3 && ds.sem_perm.mode == 0640);
	X_EQ("mode 0 set", o->get(K2, 1, IPC_CREAT | 0), 1);
	X_EQ("root (CAP_IPC_OWNER) reads it",
	     rec_semstat(o, "mode 0", 1, IPC_STAT, NULL), 0);
	if (diff_fork() == 0) {
		sem_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		X_ERR("owner without CAP_IPC_OWNER",
		      rec_semstat(o, "mode 0", 1, IPC_STAT, NULL), EACCES);
		X_ERR("GETVAL too", o->ctl(1, 0, GETVAL), EACCES);
		X_ERR("SEM_STAT too", o->ctl(1, 0, SEM_STAT, BUF(&ds)), EACCES);
		X_EQ("SEM_STAT_ANY needs nothing",
		     rec_semstat(o, "any", 1, SEM_STAT_ANY, NULL), 1);
		diff_exit();
	}
	diff_wait(1);
}

/* 8.5 SEM_STAT / SEM_STAT_ANY: index or full id, return the full id,
 * empty slot EINVAL, r needed by SEM_STAT only. */
SEM_TEST(sem_s8_5_sem_stat)
{
	struct semid_ds ds;

	for (int i = 0; i < 64; i++)
		o->ctl(o->get(IPC_PRIVATE, 1, 0600), 0, IPC_RMID);
	X_EQ("seq 1 idx 0", o->get(IPC_PRIVATE, 2, 0600), 32768);
	X_EQ("seq 1 idx 1, 0604", o->get(K1, 1, IPC_CREAT | 0604), 32769);
	X_EQ("SEM_STAT 0", rec_semstat(o, "idx 0", 0, SEM_STAT, NULL), 32768);
	X_EQ("SEM_STAT full id", rec_semstat(o, "full", 32768, SEM_STAT, NULL),
	     32768);
	X_EQ("SEM_STAT other seq", o->ctl(5 * 32768, 0, SEM_STAT, BUF(&ds)),
	     32768);
	X_EQ("SEM_STAT_ANY 1", rec_semstat(o, "any 1", 1, SEM_STAT_ANY, NULL),
	     32769);
	X_ERR("SEM_STAT empty", o->ctl(2, 0, SEM_STAT, BUF(&ds)), EINVAL);
	X_ERR("SEM_STAT_ANY empty", o->ctl(2, 0, SEM_STAT_ANY, BUF(&ds)),
	      EINVAL);
	X_ERR("SEM_STAT empty, bad buf",
	      o->ctl(3, 0, SEM_STAT, BUF(sem_bad_ptr())), EINVAL);
	X_ERR("SEM_STAT bad buf", o->ctl(0, 0, SEM_STAT, BUF(sem_bad_ptr())),
	      EFAULT);
	X_ERR("SEM_STAT_ANY bad buf",
	      o->ctl(0, 0, SEM_STAT_ANY, BUF(sem_bad_ptr())), EFAULT);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody: SEM_STAT 0600", o->ctl(0, 0, SEM_STAT, BUF(&ds)),
		      EACCES);
		X_EQ("nobody: SEM_STAT 0604", o->ctl(1, 0, SEM_STAT, BUF(&ds)),
		     32769);
		X_EQ("nobody: SEM_STAT_ANY 0600",
		     rec_semstat(o, "nobody any", 0, SEM_STAT_ANY, NULL),
		     32768);
		X_ERR("nobody: IPC_STAT 0600",
		      o->ctl(32768, 0, IPC_STAT, BUF(&ds)), EACCES);
		diff_exit();
	}
	diff_wait(1);
}

/* 8.6-8.9 GETVAL, GETPID, GETNCNT, GETZCNT, GETALL: id, r, semnum. */
SEM_TEST(sem_s8_6_9_get_cmds)
{
	static const int cmds[] = { GETVAL, GETPID, GETNCNT, GETZCNT };

	X_EQ("set 0600", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_EQ("set 0604", o->get(IPC_PRIVATE, 3, 0604), 1);
	X_EQ("SETALL", o->ctl(0, 0, SETALL, ARR(1, 2, 3)), 0);
	X_EQ("SETALL", o->ctl(1, 0, SETALL, ARR(7, 8, 9)), 0);
	for (int c = 0; c < 4; c++) {
		X_ERR(L("cmd %d bad id", cmds[c]), o->ctl(9, 0, cmds[c]),
		      EINVAL);
		X_ERR(L("cmd %d semnum 3", cmds[c]), o->ctl(0, 3, cmds[c]),
		      EINVAL);
		X_ERR(L("cmd %d semnum -1", cmds[c]), o->ctl(0, -1, cmds[c]),
		      EINVAL);
	}
	rec_sems(o, "GETVAL GETPID GETNCNT GETZCNT", 0, 3);
	X_EQ("GETVAL 2", o->ctl(0, 2, GETVAL), 3);
	X_ALL(o, "GETALL", 0, 3, 1, 2, 3);
	X_EQ("-1 on 0: sempid", o->op(0, OPS({ 0, -1, 0 })), 0);
	rec_pid("GETPID 0", o->ctl(0, 0, GETPID));
	EXPECT(o->ctl(0, 0, GETPID) == getpid());
	rec_sems(o, "after", 0, 3);
	X_ERR("GETALL bad buf", o->ctl(0, 0, GETALL,
				       (union semun){ .array = sem_bad_ptr() }),
	      EFAULT);
	X_ERR("GETALL bad id, bad buf",
	      o->ctl(9, 0, GETALL, (union semun){ .array = sem_bad_ptr() }),
	      EINVAL);
	if (diff_fork() == 0) {
		test_become_nobody();
		for (int c = 0; c < 4; c++) {
			X_ERR(L("nobody: cmd %d on 0600", cmds[c]),
			      o->ctl(0, 0, cmds[c]), EACCES);
			X_ERR(L("nobody: cmd %d semnum 5 on 0600", cmds[c]),
			      o->ctl(0, 5, cmds[c]), EACCES);
			if (cmds[c] == GETPID)
				rec_pid("nobody: GETPID on 0604",
					o->ctl(1, 2, GETPID));
			else
				X_SUCC(L("nobody: cmd %d on 0604", cmds[c]),
				       o->ctl(1, 2, cmds[c]));
			X_ERR(L("nobody: cmd %d semnum 5 on 0604", cmds[c]),
			      o->ctl(1, 5, cmds[c]), EINVAL);
		}
		X_ERR("nobody: GETALL 0600", o->ctl(0, 0, GETALL, ARR(0, 0, 0)),
		      EACCES);
		X_ERR("nobody: GETALL 0600, bad buf",
		      o->ctl(0, 0, GETALL, (union semun){
				     .array = sem_bad_ptr() }), EACCES);
		X_ALL(o, "nobody: GETALL 0604", 1, 3, 7, 8, 9);
		diff_exit();
	}
	diff_wait(1);
	rec_sems(o, "unchanged", 0, 3);
	X_ALL(o, "GETALL", 0, 3, 0, 2, 3);
}

/* 8.10 SETVAL: ERANGE first, id, semnum before EACCES, EACCES. */
SEM_TEST(sem_s8_10_setval_order)
{
	X_EQ("set 0600", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_ERR("32768, bad id", o->ctl(9, 0, SETVAL, 32768), ERANGE);
	X_ERR("-1, bad id", o->ctl(9, 0, SETVAL, -1), ERANGE);
	X_ERR("32768, bad semnum", o->ctl(0, 7, SETVAL, 32768), ERANGE);
	X_ERR("bad id", o->ctl(9, 0, SETVAL, 1), EINVAL);
	X_ERR("semnum 2", o->ctl(0, 2, SETVAL, 1), EINVAL);
	X_ERR("semnum -1", o->ctl(0, -1, SETVAL, 1), EINVAL);
	X_EQ("32767", o->ctl(0, 1, SETVAL, 32767), 0);
	X_EQ("0", o->ctl(0, 0, SETVAL, 0), 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody: 32768", o->ctl(0, 0, SETVAL, 32768), ERANGE);
		X_ERR("nobody: semnum 5", o->ctl(0, 5, SETVAL, 1), EINVAL);
		X_ERR("nobody: EACCES", o->ctl(0, 0, SETVAL, 1), EACCES);
		diff_exit();
	}
	diff_wait(1);
	X_ALL(o, "values", 0, 2, 0, 32767);
}

/* 8.11 SETVAL: sempid, ctime; otime only if it completed a sleeper;
 * it wakes sleepers. */
SEM_TEST(sem_s8_11_setval_effects)
{
	struct semid_ds a, b;
	int c;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	rec_semstat(o, "new", 0, IPC_STAT, &a);
	diff_tick();
	X_EQ("SETVAL 1 = 4", o->ctl(0, 1, SETVAL, 4), 0);
	rec_semstat(o, "after SETVAL", 0, IPC_STAT, &b);
	rec_cmp("ctime advanced", b.sem_ctime, a.sem_ctime);
	EXPECT(b.sem_ctime > a.sem_ctime && b.sem_otime == 0);
	rec_sems(o, "sempid", 0, 2);
	c = sem_spawn_sleeper(o, 0, 2, OPS({ 0, -2, 0 }));
	X_EQ("SETVAL 0 = 1: not enough", o->ctl(0, 0, SETVAL, 1), 0);
	rec_semstat(o, "no completion", 0, IPC_STAT, &b);
	EXPECT(b.sem_otime == 0);
	X_EQ("SETVAL 0 = 3", o->ctl(0, 0, SETVAL, 3), 0);
	rec_sems(o, "completed by SETVAL", 0, 2);
	rec_semstat(o, "completion", 0, IPC_STAT, &b);
	EXPECT(b.sem_otime != 0);
	rec_report("sleeper", c);
	sem_release(c);
}

/* 8.12 SETALL: id, EACCES, EFAULT, ERANGE with nothing set. */
SEM_TEST(sem_s8_12_setall_order)
{
	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_ERR("bad id, bad buf",
	      o->ctl(9, 0, SETALL, (union semun){ .array = sem_bad_ptr() }),
	      EINVAL);
	X_ERR("bad buf",
	      o->ctl(0, 0, SETALL, (union semun){ .array = sem_bad_ptr() }),
	      EFAULT);
	X_ERR("32768 last", o->ctl(0, 0, SETALL, ARR(1, 2, 32768)), ERANGE);
	X_ERR("65535 first", o->ctl(0, 0, SETALL, ARR(65535, 2, 3)), ERANGE);
	X_ALL(o, "nothing set", 0, 3, 0, 0, 0);
	rec_sems(o, "no pid", 0, 3);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody: EACCES before EFAULT",
		      o->ctl(0, 0, SETALL,
			     (union semun){ .array = sem_bad_ptr() }), EACCES);
		X_ERR("nobody: EACCES", o->ctl(0, 0, SETALL, ARR(1, 1, 1)),
		      EACCES);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("32767s", o->ctl(0, 0, SETALL, ARR(32767, 0, 32767)), 0);
}

/* 8.13 SETALL: values, every sempid, ctime; otime only on completion;
 * wakes sleepers. */
SEM_TEST(sem_s8_13_setall_effects)
{
	struct semid_ds a, b;
	int z, n;

	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_EQ("sem2 = 1", o->ctl(0, 2, SETVAL, 1), 0);
	z = sem_spawn_sleeper(o, 0, 3, OPS({ 2, 0, 0 }));
	n = sem_spawn_sleeper(o, 0, 3, OPS({ 0, -1, 0 }, { 1, -1, 0 }));
	rec_semstat(o, "before", 0, IPC_STAT, &a);
	diff_tick();
	X_EQ("SETALL (1, 0, 1): nobody completes",
	     o->ctl(0, 0, SETALL, ARR(1, 0, 1)), 0);
	rec_semstat(o, "after", 0, IPC_STAT, &b);
	rec_cmp("ctime advanced", b.sem_ctime, a.sem_ctime);
	EXPECT(b.sem_otime == 0);
	rec_sems(o, "every sempid main, n moved to 1", 0, 3);
	X_EQ("SETALL (1, 1, 0)", o->ctl(0, 0, SETALL, ARR(1, 1, 0)), 0);
	rec_semstat(o, "completions", 0, IPC_STAT, &b);
	EXPECT(b.sem_otime != 0);
	rec_sems(o, "after", 0, 3);
	sem_collect("both", (int[]){ z, n }, 2, 2);
	sem_release(z);
	sem_release(n);
}

/* 8.14 IPC_SET: EFAULT first, EINVAL, EPERM (owner, creator or
 * CAP_SYS_ADMIN), uid/gid/mode & 0777 taken, ctime; uid -1 EINVAL. */
SEM_TEST(sem_s8_14_ipc_set)
{
	struct semid_ds ds = sem_set_buf(65534, 65534, 07666), a, b;

	X_EQ("set", o->get(K1, 1, IPC_CREAT | 0600), 0);
	X_ERR("bad buf, bad id", o->ctl(9, 0, IPC_SET, BUF(sem_bad_ptr())),
	      EFAULT);
	X_ERR("bad buf", o->ctl(0, 0, IPC_SET, BUF(sem_bad_ptr())), EFAULT);
	X_ERR("bad id", o->ctl(9, 0, IPC_SET, BUF(&ds)), EINVAL);
	rec_semstat(o, "before", 0, IPC_STAT, &a);
	diff_tick();
	ds.sem_otime = 12345;
	ds.sem_nsems = 99;
	ds.sem_perm.cuid = 7;
	X_EQ("give to nobody, 07666", o->ctl(0, 0, IPC_SET, BUF(&ds)), 0);
	rec_semstat(o, "after", 0, IPC_STAT, &b);
	rec_cmp("ctime advanced", b.sem_ctime, a.sem_ctime);
	EXPECT(b.sem_perm.mode == 0666 && b.sem_perm.uid == 65534 &&
	       b.sem_perm.cuid == 0 && b.sem_nsems == 1);
	ds = sem_set_buf((uid_t)-1, 0, 0600);
	X_ERR("uid -1", o->ctl(0, 0, IPC_SET, BUF(&ds)), EINVAL);
	ds = sem_set_buf(0, (gid_t)-1, 0600);
	X_ERR("gid -1", o->ctl(0, 0, IPC_SET, BUF(&ds)), EINVAL);
	if (diff_fork() == 0) {
		/* the creator keeps the right after giving the set away */
		sem_drop_caps(o, CAPBIT(CAP_SYS_ADMIN));
		ds = sem_set_buf(65534, 65534, 0);
		X_EQ("creator root without CAP_SYS_ADMIN",
		     o->ctl(0, 0, IPC_SET, BUF(&ds)), 0);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("root's own set", o->get(K3, 1, IPC_CREAT | 0666), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		ds = sem_set_buf(65534, 65534, 0);
		X_EQ("owner nobody, mode 0", o->ctl(0, 0, IPC_SET, BUF(&ds)),
		     0);
		X_EQ("nobody creates", o->get(K2, 1, IPC_CREAT | 0666), 2);
		ds = sem_set_buf(0, 0, 0666);
		X_ERR("nobody: root's set", o->ctl(1, 0, IPC_SET, BUF(&ds)),
		      EPERM);
		X_ERR("nobody: bad buf on root's set",
		      o->ctl(1, 0, IPC_SET, BUF(sem_bad_ptr())), EFAULT);
		diff_exit();
	}
	diff_wait(2);
	rec_semstat(o, "nobody's", 2, IPC_STAT, NULL);
	if (diff_fork() == 0) {
		/* neither owner nor creator of set 2 */
		ds = sem_set_buf(0, 0, 0644);
		sem_drop_caps(o, CAPBIT(CAP_SYS_ADMIN));
		X_ERR("root without CAP_SYS_ADMIN",
		      o->ctl(2, 0, IPC_SET, BUF(&ds)), EPERM);
		X_ERR("... IPC_RMID", o->ctl(2, 0, IPC_RMID), EPERM);
		diff_exit();
	}
	diff_wait(3);
	ds = sem_set_buf(0, 0, 0644);
	X_EQ("root with CAP_SYS_ADMIN", o->ctl(2, 0, IPC_SET, BUF(&ds)), 0);
	rec_semstat(o, "taken back", 2, IPC_STAT, NULL);
}

/* 8.15 IPC_RMID: EPERM, twice EINVAL, key free, SEMMNS usage drops. */
SEM_TEST(sem_s8_15_ipc_rmid)
{
	struct seminfo in;

	X_EQ("sem 250 10", o->set_limit_text("sem", "250 10"), 0);
	X_EQ("set of 10", o->get(K1, 10, IPC_CREAT | 0666), 0);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody", o->ctl(0, 0, IPC_RMID), EPERM);
		X_EQ("nobody's", o->get(K2, 0, 0) == -1 ?
		     o->ctl(0, 0, GETVAL) : -2, 0);
		diff_exit();
	}
	diff_wait(1);
	X_ERR("full", o->get(IPC_PRIVATE, 1, 0600), ENOSPC);
	X_EQ("rmid", o->ctl(0, 0, IPC_RMID), 0);
	X_ERR("twice", o->ctl(0, 0, IPC_RMID), EINVAL);
	X_ERR("key free", o->get(K1, 0, 0), ENOENT);
	X_EQ("room again", o->get(IPC_PRIVATE, 10, 0600), 1);
	X_EQ("SEM_INFO", rec_seminfo(o, "info", 0, SEM_INFO, &in), 1);
}

/* 8.16-8.18 IPC_INFO and SEM_INFO: no permission, semid ignored, EFAULT,
 * highest index or 0, fields. */
SEM_TEST(sem_s8_16_18_info)
{
	struct seminfo in;

	X_EQ("IPC_INFO empty", rec_seminfo(o, "ipc_info", 0, IPC_INFO, &in),
	     0);
	EXPECT(in.semusz == 20 && in.semaem == 32767 && in.semvmx == 32767);
	X_EQ("SEM_INFO empty", rec_seminfo(o, "sem_info", 0, SEM_INFO, &in),
	     0);
	EXPECT(in.semusz == 0 && in.semaem == 0);
	X_ERR("IPC_INFO bad buf",
	      o->ctl(0, 0, IPC_INFO, (union semun){ .__buf = sem_bad_ptr() }),
	      EFAULT);
	X_ERR("SEM_INFO bad buf",
	      o->ctl(0, 0, SEM_INFO, (union semun){ .__buf = sem_bad_ptr() }),
	      EFAULT);
	o->get(IPC_PRIVATE, 3, 0600);
	o->get(IPC_PRIVATE, 4, 0600);
	X_EQ("sem_next_id 9", o->set_limit_text("sem_next_id", "9"), 0);
	o->get(IPC_PRIVATE, 5, 0600);
	X_EQ("rmid 0", o->ctl(0, 0, IPC_RMID), 0);
	X_EQ("sem 100 2000 50 7",
	     o->set_limit_text("sem", "100 2000 50 7"), 0);
	X_EQ("IPC_INFO, any semid", rec_seminfo(o, "ipc_info", 12345,
						IPC_INFO, &in), 9);
	EXPECT(in.semmni == 7 && in.semmns == 2000 && in.semmsl == 100 &&
	       in.semopm == 50 && in.semmap == 1024000000 &&
	       in.semmnu == 1024000000 && in.semume == 500);
	X_EQ("SEM_INFO", rec_seminfo(o, "sem_info", 77, SEM_INFO, &in), 9);
	EXPECT(in.semusz == 2 && in.semaem == 9);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("nobody: IPC_INFO",
		     rec_seminfo(o, "nobody", 0, IPC_INFO, NULL), 9);
		X_EQ("nobody: SEM_INFO",
		     rec_seminfo(o, "nobody", 0, SEM_INFO, NULL), 9);
		diff_exit();
	}
	diff_wait(1);
}

/* 9.1 Classes: owner by uid or cuid, group by gid or cgid (fsgid or a
 * supplementary group), no fall-through; CAP_IPC_OWNER bypasses. */
SEM_TEST(sem_s9_1_classes)
{
	static const gid_t g100[] = { 100 };
	struct semid_ds ds;

	X_EQ("0460 (owner r, group rw)", o->get(IPC_PRIVATE, 1, 0460), 0);
	ds = sem_set_buf(65534, 100, 0460);
	X_EQ("uid nobody gid 100", o->ctl(0, 0, IPC_SET, BUF(&ds)), 0);
	X_EQ("0006 (other only)", o->get(IPC_PRIVATE, 1, 0006), 1);
	ds = sem_set_buf(65534, 65534, 0006);
	X_EQ("uid/gid nobody", o->ctl(1, 0, IPC_SET, BUF(&ds)), 0);
	if (diff_fork() == 0) {
		diff_become(65534, 65534, 0, NULL);
		X_SUCC("owner by uid: r", o->ctl(0, 0, GETVAL));
		X_ERR("owner by uid: no w (no fall-through to group)",
		      o->ctl(0, 0, SETVAL, 1), EACCES);
		X_ERR("owner of a 0006 set: nothing", o->ctl(1, 0, GETVAL),
		      EACCES);
		diff_exit();
	}
	diff_wait(1);
	if (diff_fork() == 0) {
		diff_become(2, 100, 0, NULL);
		X_EQ("group by gid: w", o->ctl(0, 0, SETVAL, 2), 0);
		X_SUCC("group by gid: r", o->ctl(0, 0, GETVAL));
		diff_exit();
	}
	diff_wait(2);
	if (diff_fork() == 0) {
		diff_become(2, 3, 1, g100);
		X_EQ("group by supplementary group: w",
		     o->op(0, OPS({ 0, 1, 0 })), 0);
		X_EQ("other class on 0006: r", o->op(1, OPS({ 0, 0, 0 })), 0);
		diff_exit();
	}
	diff_wait(3);
	if (diff_fork() == 0) {
		/* creator (cuid 0) counts as owner; no CAP_IPC_OWNER */
		sem_drop_caps(o, CAPBIT(CAP_IPC_OWNER));
		X_SUCC("cuid: owner class r", o->ctl(0, 0, GETVAL));
		X_ERR("cuid: owner class no w", o->ctl(0, 0, SETVAL, 1),
		      EACCES);
		X_ERR("0006 as creator: owner class, nothing",
		      o->ctl(1, 0, GETVAL), EACCES);
		diff_exit();
	}
	diff_wait(4);
	X_EQ("root with CAP_IPC_OWNER", o->ctl(1, 0, SETVAL, 3), 0);
	rec_sems(o, "set 0", 0, 1);
}

/* 9.2 semop: any non-zero sem_op needs w, an all-zero call r. */
SEM_TEST(sem_s9_2_semop_perms)
{
	X_EQ("0602", o->get(IPC_PRIVATE, 1, 0602), 0);
	X_EQ("0644", o->get(IPC_PRIVATE, 1, 0644), 1);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_EQ("0602: +1", o->op(0, OPS({ 0, 1, 0 })), 0);
		X_EQ("0602: -1", o->op(0, OPS({ 0, -1, 0 })), 0);
		X_ERR("0602: wait for zero", o->op(0, OPS({ 0, 0, 0 })),
		      EACCES);
		X_EQ("0602: [0, +1] needs only w",
		     o->op(0, OPS({ 0, 0, 0 }, { 0, 1, 0 })), 0);
		X_EQ("0644: wait for zero", o->op(1, OPS({ 0, 0, 0 })), 0);
		X_ERR("0644: +1", o->op(1, OPS({ 0, 1, 0 })), EACCES);
		X_ERR("0644: [0, +1]", o->op(1, OPS({ 0, 0, 0 }, { 0, 1, 0 })),
		      EACCES);
		X_ERR("0644: -1 NOWAIT", o->op(1, OPS({ 0, -1, IPC_NOWAIT })),
		      EACCES);
		X_ERR("0644: SETVAL", o->ctl(1, 0, SETVAL, 1), EACCES);
		diff_exit();
	}
	diff_wait(1);
	rec_sems(o, "0602", 0, 1);
}

/* 8.7 GETPID gives the pid as seen in the caller's pid namespace: 0 for
 * a process it cannot see. */
SEM_TEST(sem_s8_7_getpid_pid_namespace)
{
	int st;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("main: sempid of 0", o->op(0, OPS({ 0, 1, 0 })), 0);
	if (diff_fork() == 0) {
		pid_t p;

		CHECK(unshare(CLONE_NEWPID) == 0);
		fflush(NULL);
		p = fork();
		CHECK(p >= 0);
		if (p == 0) {
			/* pid 1 of a new pid namespace */
			int a = o->ctl(0, 0, GETPID);
			int b = o->op(0, OPS({ 1, 1, 0 }));
			int c = o->ctl(0, 1, GETPID);

			_exit((a == 0 ? 0 : 1) | (b == 0 ? 0 : 2) |
			      (c == 1 ? 0 : 4));
		}
		CHECK(waitpid(p, &st, 0) == p);
		X_EQ("in a new pid namespace: main 0, itself 1",
		     WIFEXITED(st) ? WEXITSTATUS(st) : 99, 0);
		rec("its sempid seen from the parent namespace: %s",
		    o->ctl(0, 1, GETPID) == p ? "its pid there" : "other");
		diff_exit();
	}
	diff_wait(1);
	X_EQ("seen from main: a pid of the parent namespace",
	     o->ctl(0, 1, GETPID) > 0, 1);
}
