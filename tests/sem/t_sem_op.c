/*
 * t_sem_op.c - SEMANTICS-SEM.md sections 3 (semop/semtimedop argument
 * checks) and 4 (operation semantics).
 */
#include "semops.h"

#include <limits.h>
#include <unistd.h>

static struct sembuf many[501];

/* 3.1-3.2 (1-5) EFAULT for the timeout first, E2BIG, nsops 0, EFAULT for
 * the sops before the semid checks, then semid < 0. */
SEM_TEST(sem_s3_2_order_before_id)
{
	void *bad = sem_bad_ptr();
	struct timespec ts = { 0, 0 };

	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_ERR("bad timeout, nsops 0", o->timedop(0, NULL, 0, bad), EFAULT);
	X_ERR("bad timeout, nsops 501", o->timedop(0, many, 501, bad), EFAULT);
	X_ERR("bad timeout, bad id", o->timedop(-1, NULL, 1, bad), EFAULT);
	X_ERR("501 sops, NULL", o->op(0, NULL, 501), E2BIG);
	X_ERR("501 sops, semid -1", o->op(-1, many, 501), E2BIG);
	X_ERR("501 sops, bad ptr", o->op(0, bad, 501), E2BIG);
	X_ERR("SIZE_MAX sops", o->op(0, many, SIZE_MAX), E2BIG);
	X_ERR("timed 501 sops", o->timedop(0, many, 501, &ts), E2BIG);
	X_ERR("nsops 0", o->op(0, many, 0), EINVAL);
	X_ERR("nsops 0, bad id", o->op(12345, NULL, 0), EINVAL);
	X_ERR("nsops 0, semid -1", o->op(-1, NULL, 0), EINVAL);
	X_ERR("NULL sops, semid -1", o->op(-1, NULL, 1), EFAULT);
	X_ERR("NULL sops, absent id", o->op(999999, NULL, 1), EFAULT);
	X_ERR("bad sops, good id", o->op(0, bad, 2), EFAULT);
	X_ERR("semid -1", o->op(-1, OPS({ 0, 1, 0 })), EINVAL);
	X_ERR("semid INT_MIN", o->op(INT_MIN, OPS({ 0, 1, 0 })), EINVAL);
	rec_sems(o, "untouched", 0, 3);
}

/* 3.2 (6-10) a bad timeout (before the id lookup and EFBIG, even when
 * the call could proceed), SEM_UNDO with a bad id, the id, EFBIG (before
 * EACCES), EACCES. */
SEM_TEST(sem_s3_2_order_after_id)
{
	struct timespec t1 = { 0, 1000000000L }, t2 = { 0, -1 },
			t3 = { -1, 0 }, ok = { 0, 0 };

	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_ERR("nsec 1e9", o->timedop(0, OPS({ 0, 1, 0 }), &t1), EINVAL);
	X_ERR("nsec -1", o->timedop(0, OPS({ 0, 1, 0 }), &t2), EINVAL);
	X_ERR("sec -1", o->timedop(0, OPS({ 0, 0, 0 }), &t3), EINVAL);
	X_ERR("bad timeout before EFBIG",
	      o->timedop(0, OPS({ 9, 1, 0 }), &t1), EINVAL);
	X_ERR("bad timeout, bad id", o->timedop(77, OPS({ 0, 1, 0 }), &t3),
	      EINVAL);
	X_ERR("SEM_UNDO, bad id", o->op(77, OPS({ 0, 1, SEM_UNDO })), EINVAL);
	X_ERR("bad id", o->op(77, OPS({ 0, 1, 0 })), EINVAL);
	X_ERR("bad id before EFBIG", o->op(77, OPS({ 9, 1, 0 })), EINVAL);
	X_ERR("sem_num 3 of 3", o->op(0, OPS({ 3, 1, 0 })), EFBIG);
	X_ERR("sem_num 65535", o->op(0, OPS({ 65535, 1, 0 })), EFBIG);
	X_ERR("EFBIG in the last sop",
	      o->op(0, OPS({ 0, 1, 0 }, { 1, 1, 0 }, { 3, 0, 0 })), EFBIG);
	X_ERR("timed EFBIG", o->timedop(0, OPS({ 3, 1, 0 }), &ok), EFBIG);
	rec_sems(o, "untouched", 0, 3);
	rec_semstat(o, "stat", 0, IPC_STAT, NULL);
	if (diff_fork() == 0) {
		test_become_nobody();
		X_ERR("nobody: EFBIG before EACCES",
		      o->op(0, OPS({ 5, 1, 0 })), EFBIG);
		X_ERR("nobody: EACCES", o->op(0, OPS({ 0, 1, 0 })), EACCES);
		X_ERR("nobody: bad timeout before EACCES",
		      o->timedop(0, OPS({ 0, 1, 0 }), &t2), EINVAL);
		diff_exit();
	}
	diff_wait(1);
}

/* 3.3 nsops == SEMOPM (500) is allowed, all on one semaphore. */
SEM_TEST(sem_s3_3_semopm_ok)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	for (int i = 0; i < 500; i++)
		many[i] = (struct sembuf){ 0, 1, 0 };
	X_EQ("500 x +1", o->op(0, many, 500), 0);
	X_VAL(o, "value", 0, 0, 500);
	for (int i = 0; i < 500; i++)
		many[i] = (struct sembuf){ (unsigned short)(i % 2),
					   (short)(i % 2 ? 1 : -1), 0 };
	X_EQ("250 x -1, 250 x +1", o->op(0, many, 500), 0);
	X_ALL(o, "values", 0, 2, 250, 250);
	X_EQ("sem 250 32000 10", o->set_limit_text("sem", "250 32000 10"), 0);
	X_ERR("11 > 10", o->op(0, many, 11), E2BIG);
	X_EQ("10", o->op(0, many, 10), 0);
}

/* 3.4 Only IPC_NOWAIT and SEM_UNDO mean anything in sem_flg. */
SEM_TEST(sem_s3_4_unknown_flags_ignored)
{
	X_EQ("set", o->get(IPC_PRIVATE, 1, 0600), 0);
	if (diff_fork() == 0) {
		X_EQ("+1, flags 0x2001 (no undo)",
		     o->op(0, OPS({ 0, 1, 0x2001 })), 0);
		X_EQ("+1, flags 0x4000|0x0100",
		     o->op(0, OPS({ 0, 1, (short)0xc100 })), 0);
		X_ERR("-5 with IPC_NOWAIT|0x2001",
		      o->op(0, OPS({ 0, -5, IPC_NOWAIT | 0x2001 })), EAGAIN);
		diff_exit();
	}
	diff_wait(1);
	X_VAL(o, "no undo applied at exit", 0, 0, 2);
}

/* 3.5 A failed argument check has no side effect. */
SEM_TEST(sem_s3_5_failed_check_no_effect)
{
	struct timespec bad = { 0, -5 };

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	if (diff_fork() == 0) {
		X_ERR("bad timeout with undo",
		      o->timedop(0, OPS({ 0, 3, SEM_UNDO }, { 1, 1, 0 }), &bad),
		      EINVAL);
		X_ERR("EFBIG with undo",
		      o->op(0, OPS({ 0, 3, SEM_UNDO }, { 2, 1, 0 })), EFBIG);
		diff_exit();
	}
	diff_wait(1);
	rec_sems(o, "untouched", 0, 2);
	rec_semstat(o, "stat", 0, IPC_STAT, NULL);
}

/* 4.1 All or nothing; success returns 0. */
SEM_TEST(sem_s4_1_atomic)
{
	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_ERR("+1 +1 then -1 (would block)",
	      o->op(0, OPS({ 0, 1, 0 }, { 1, 1, 0 }, { 2, -1, IPC_NOWAIT })),
	      EAGAIN);
	X_ALL(o, "nothing applied", 0, 3, 0, 0, 0);
	rec_sems(o, "no pid", 0, 3);
	X_EQ("+1 +2 +3", o->op(0, OPS({ 0, 1, 0 }, { 1, 2, 0 }, { 2, 3, 0 })),
	     0);
	X_ALL(o, "all applied", 0, 3, 1, 2, 3);
	X_ERR("-1 -2 -4", o->op(0, OPS({ 0, -1, 0 }, { 1, -2, 0 },
				       { 2, -4, IPC_NOWAIT })), EAGAIN);
	X_ALL(o, "still", 0, 3, 1, 2, 3);
}

/* 4.2 Sops are evaluated in order, cumulatively. */
SEM_TEST(sem_s4_2_sequential)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("[+1,-1] on 0", o->op(0, OPS({ 0, 1, 0 }, { 0, -1, 0 })), 0);
	X_VAL(o, "value", 0, 0, 0);
	X_ERR("[-1,+1] on 0", o->op(0, OPS({ 0, -1, IPC_NOWAIT }, { 0, 1, 0 })),
	      EAGAIN);
	X_EQ("[0,+1] on 0", o->op(0, OPS({ 0, 0, 0 }, { 0, 1, 0 })), 0);
	X_EQ("[-1,0] on 1", o->op(0, OPS({ 0, -1, 0 }, { 0, 0, 0 })), 0);
	X_EQ("[+2,-1,-1,0]", o->op(0, OPS({ 0, 2, 0 }, { 0, -1, 0 },
					  { 0, -1, 0 }, { 0, 0, 0 })), 0);
	X_ERR("[+1,0] on 0", o->op(0, OPS({ 0, 1, 0 }, { 0, 0, IPC_NOWAIT })),
	      EAGAIN);
	X_EQ("[+3 on 1, -3 on 1]", o->op(0, OPS({ 1, 3, 0 }, { 1, -3, 0 })), 0);
	X_ALL(o, "values", 0, 2, 0, 0);
}

/* 4.3 SEMVMX: ERANGE above 32767; semadj limits [-32768, 32767]. */
SEM_TEST(sem_s4_3_ranges)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("+32767", o->op(0, OPS({ 0, 32767, 0 })), 0);
	X_ERR("+1 over", o->op(0, OPS({ 0, 1, 0 })), ERANGE);
	X_ERR("+1 over, NOWAIT", o->op(0, OPS({ 0, 1, IPC_NOWAIT })), ERANGE);
	X_VAL(o, "value", 0, 0, 32767);
	if (diff_fork() == 0) {
		/* semadj high: -32767 recorded as +32767 */
		X_EQ("-32767 undo", o->op(0, OPS({ 0, -32767, SEM_UNDO })), 0);
		X_EQ("+1", o->op(0, OPS({ 0, 1, 0 })), 0);
		X_ERR("-1 undo: semadj 32768",
		      o->op(0, OPS({ 0, -1, SEM_UNDO })), ERANGE);
		/* semadj low on sem 1 */
		X_EQ("+32767 undo", o->op(0, OPS({ 1, 32767, SEM_UNDO })), 0);
		X_EQ("-1", o->op(0, OPS({ 1, -1, 0 })), 0);
		X_EQ("+1 undo: semadj -32768",
		     o->op(0, OPS({ 1, 1, SEM_UNDO })), 0);
		X_EQ("-1 again", o->op(0, OPS({ 1, -1, 0 })), 0);
		X_ERR("+1 undo: semadj -32769",
		      o->op(0, OPS({ 1, 1, SEM_UNDO })), ERANGE);
		rec_sems(o, "child", 0, 2);
		diff_exit();
	}
	diff_wait(1);
	/* exit: sem0 1 + 32767 = 32768 clamps to 32767; sem1 32766 - 32768
	 * clamps to 0 */
	X_ALL(o, "after exit, clamped", 0, 2, 32767, 0);
}

/* 4.4 The first failing sop decides EAGAIN vs ERANGE. */
SEM_TEST(sem_s4_4_first_failing_sop)
{
	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_EQ("sem2=1", o->ctl(0, 2, SETVAL, 1), 0);
	X_ERR("block then overflow",
	      o->op(0, OPS({ 0, -1, IPC_NOWAIT }, { 2, 32767, 0 })), EAGAIN);
	X_ERR("overflow then block",
	      o->op(0, OPS({ 2, 32767, 0 }, { 0, -1, IPC_NOWAIT })), ERANGE);
	X_ERR("overflow then block (no NOWAIT): at once",
	      o->op(0, OPS({ 2, 32767, 0 }, { 0, -1, 0 })), ERANGE);
	X_ERR("intermediate overflow",
	      o->op(0, OPS({ 2, 32767, 0 }, { 2, -1, 0 })), ERANGE);
	X_ERR("overflow with NOWAIT", o->op(0, OPS({ 2, 32767, IPC_NOWAIT })),
	      ERANGE);
	X_ALL(o, "no change", 0, 3, 0, 0, 1);
	rec_sems(o, "no pid", 0, 3);
}

/* 4.5-4.6 IPC_NOWAIT is per sop: a call whose blocking sop has no
 * IPC_NOWAIT sleeps; its retry then fails at a NOWAIT sop: EAGAIN. */
SEM_TEST(sem_s4_5_6_nowait_per_sop)
{
	int c;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("values (1, 0)", o->ctl(0, 0, SETVAL, 1), 0);
	c = sem_spawn_sleeper(o, 0, 2, OPS({ 0, -1, IPC_NOWAIT },
					   { 1, -1, 0 }));
	rec_sems(o, "sleeping", 0, 2);
	X_EQ("waker [0-1, 1+1]", o->op(0, OPS({ 0, -1, 0 }, { 1, 1, 0 })), 0);
	rec_sems(o, "after the waker", 0, 2);
	rec_report("sleeper", c);
	X_ALL(o, "values (0, 1)", 0, 2, 0, 1);
	sem_release(c);
}

/* 4.6 ... and with ERANGE: the retry overflows. */
SEM_TEST(sem_s4_6_sleeper_erange)
{
	int c;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("sem1 = 32000", o->ctl(0, 1, SETVAL, 32000), 0);
	c = sem_spawn_sleeper(o, 0, 2, OPS({ 0, -1, 0 }, { 1, 1000, 0 }));
	X_EQ("sem1 = 32767", o->op(0, OPS({ 1, 767, 0 })), 0);
	X_EQ("sem0 + 1", o->op(0, OPS({ 0, 1, 0 })), 0);
	rec_report("sleeper", c);
	rec_sems(o, "after", 0, 2);
	sem_release(c);
}

/* 4.7 sempid is set on every semaphore named, zero sops too; failed
 * calls set none. */
SEM_TEST(sem_s4_7_sempid)
{
	X_EQ("set", o->get(IPC_PRIVATE, 4, 0666), 0);
	X_EQ("main +1 on 0", o->op(0, OPS({ 0, 1, 0 })), 0);
	if (diff_fork() == 0) {
		X_EQ("child: [1 zero, 2 +1]",
		     o->op(0, OPS({ 1, 0, 0 }, { 2, 1, 0 })), 0);
		X_ERR("child: failing call on 3",
		      o->op(0, OPS({ 3, 1, 0 }, { 0, -5, IPC_NOWAIT })),
		      EAGAIN);
		X_ERR("child: erange on 0", o->op(0, OPS({ 0, 32767, 0 })),
		      ERANGE);
		diff_exit();
	}
	diff_wait(1);
	rec_sems(o, "pids", 0, 4);
	X_EQ("main: zero on 3", o->op(0, OPS({ 3, 0, 0 })), 0);
	rec_sems(o, "pids", 0, 4);
}

/* 4.8 sem_otime = now on success (also zero-only calls); failures leave
 * it; semop never changes sem_ctime. */
SEM_TEST(sem_s4_8_otime_ctime)
{
	struct semid_ds a, b;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	rec_semstat(o, "new", 0, IPC_STAT, &a);
	X_ERR("failing call", o->op(0, OPS({ 0, -1, IPC_NOWAIT })), EAGAIN);
	rec_semstat(o, "after a failure", 0, IPC_STAT, &b);
	EXPECT(b.sem_otime == 0);
	diff_tick();
	X_EQ("zero-only call", o->op(0, OPS({ 0, 0, 0 }, { 1, 0, 0 })), 0);
	rec_semstat(o, "after it", 0, IPC_STAT, &b);
	EXPECT(b.sem_otime != 0);
	rec_cmp("ctime unchanged", b.sem_ctime, a.sem_ctime);
	EXPECT(b.sem_ctime == a.sem_ctime);
	rec_cmp("otime > ctime", b.sem_otime, b.sem_ctime);
	a = b;
	diff_tick();
	X_ERR("failing call", o->op(0, OPS({ 0, -1, IPC_NOWAIT })), EAGAIN);
	rec_semstat(o, "after a failure", 0, IPC_STAT, &b);
	rec_cmp("otime kept", b.sem_otime, a.sem_otime);
	EXPECT(b.sem_otime == a.sem_otime);
	X_EQ("+1", o->op(0, OPS({ 1, 1, 0 })), 0);
	rec_semstat(o, "after +1", 0, IPC_STAT, &b);
	rec_cmp("otime advanced", b.sem_otime, a.sem_otime);
	EXPECT(b.sem_otime > a.sem_otime);
	rec_cmp("ctime still", b.sem_ctime, a.sem_ctime);
}

/* 4.10 SEM_UNDO: +1 records -1; zero sops and failed calls change no
 * semadj (seen at the process's exit). */
SEM_TEST(sem_s4_10_semadj_recorded)
{
	X_EQ("set", o->get(IPC_PRIVATE, 3, 0600), 0);
	X_EQ("sem2 = 5", o->ctl(0, 2, SETVAL, 5), 0);
	if (diff_fork() == 0) {
		X_EQ("+3 undo on 0", o->op(0, OPS({ 0, 3, SEM_UNDO })), 0);
		X_EQ("zero undo on 1", o->op(0, OPS({ 1, 0, SEM_UNDO })), 0);
		X_ERR("failed: +4 undo on 1, then block",
		      o->op(0, OPS({ 1, 4, SEM_UNDO },
				   { 0, -9, SEM_UNDO | IPC_NOWAIT })), EAGAIN);
		X_EQ("-2 undo on 2", o->op(0, OPS({ 2, -2, SEM_UNDO })), 0);
		X_EQ("-1 undo on 0", o->op(0, OPS({ 0, -1, SEM_UNDO })), 0);
		X_ALL(o, "child", 0, 3, 2, 0, 3);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_ALL(o, "while the child lives", 0, 3, 2, 0, 3);
	rec_sems(o, "pids before exit", 0, 3);
	sem_release(1);
	X_ALL(o, "after exit", 0, 3, 0, 0, 5);
	rec_sems(o, "pids after exit", 0, 3);
}
