/*
 * t_sem_undo.c - SEMANTICS-SEM.md section 7: SEM_UNDO and semadj.
 */
#include "semops.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

struct thr {
	const struct sem_ops *o;
	int r;
};

static void *thread_inc(void *arg)
{
	struct thr *t = arg;

	t->r = t->o->op(0, OPS({ 0, 1, SEM_UNDO }));
	return NULL;
}

/* 7.1 Threads share one undo list; a thread's exit applies nothing, the
 * process's exit applies everything. */
SEM_TEST(sem_s7_1_threads_share_undo)
{
	X_EQ("set", o->get(IPC_PRIVATE, 1, 0600), 0);
	if (diff_fork() == 0) {
		struct thr t = { o, -1 };
		pthread_t th;

		CHECK(pthread_create(&th, NULL, thread_inc, &t) == 0);
		CHECK(pthread_join(th, NULL) == 0);
		X_EQ("thread: +1 undo", t.r, 0);
		X_EQ("main thread: +1 undo", o->op(0, OPS({ 0, 1, SEM_UNDO })),
		     0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_VAL(o, "the thread's exit applied nothing", 0, 0, 2);
	sem_release(1);
	X_VAL(o, "the process's exit applied both", 0, 0, 0);
	rec_sems(o, "after", 0, 1);
}

/* 7.2 A forked child has no undo list. */
SEM_TEST(sem_s7_2_fork_not_inherited)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	if (diff_fork() == 0) {
		int g;

		X_EQ("+3 undo", o->op(0, OPS({ 0, 3, SEM_UNDO })), 0);
		g = diff_fork();
		if (g == 0) {
			X_EQ("grandchild: +1 undo on 1",
			     o->op(0, OPS({ 1, 1, SEM_UNDO })), 0);
			diff_exit();
		}
		diff_wait(g);
		X_ALL(o, "after the grandchild's exit", 0, 2, 3, 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_sems(o, "child alive", 0, 2);
	sem_release(1);
	X_ALL(o, "after the child's exit", 0, 2, 0, 0);
}

/* 7.3 execve keeps the undo list: applied when the new program exits. */
SEM_TEST(sem_s7_3_exec_kept)
{
	X_EQ("set", o->get(IPC_PRIVATE, 1, 0600), 0);
	if (diff_fork() == 0) {
		int rd, wr;

		X_EQ("+2 undo", o->op(0, OPS({ 0, 2, SEM_UNDO })), 0);
		diff_child_fds(&rd, &wr);
		CHECK(dup2(rd, 0) == 0 && dup2(wr, 1) == 1);
		fflush(NULL);
		/* "abc\n" is one int on the pipe; then it waits for a line */
		execl("/bin/sh", "sh", "-c", "echo abc; read x", (char *)NULL);
		_exit(127);
	}
	rec("exec'd program started: %s", from_child(1) != INT_MIN ?
	    "yes" : "no");
	X_VAL(o, "after exec, still held", 0, 0, 2);
	to_child(1, 0x0a0a0a0a);
	diff_wait(1);
	X_VAL(o, "applied at the new program's exit", 0, 0, 0);
	rec_sems(o, "after", 0, 1);
}

/* 7.4 exit, _exit and death by a signal, SIGKILL included, apply
 * semadj. */
SEM_TEST(sem_s7_4_exit_and_kill)
{
	static const int how[] = { 0, 1, SIGTERM, SIGKILL };

	X_EQ("set", o->get(IPC_PRIVATE, 4, 0600), 0);
	for (int i = 0; i < 4; i++) {
		int c = diff_fork();

		if (c == 0) {
			X_EQ(L("+%d undo on %d", i + 1, i),
			     o->op(0, OPS({ (unsigned short)i,
					    (short)(i + 1), SEM_UNDO })), 0);
			to_parent(1);
			from_parent();
			if (how[i] == 0)
				exit(0);
			_exit(0);
		}
		from_child(c);
		X_VAL(o, L("held %d", i), 0, i, i + 1);
		if (how[i] > 1) {
			CHECK(kill(diff_child_pid(c), how[i]) == 0);
			diff_wait(c);
		} else {
			sem_release(c);
		}
		X_VAL(o, L("reverted %d", i), 0, i, 0);
	}
	rec_sems(o, "pids", 0, 4);
}

/* 7.4 SIGKILL while blocked in a semop, after holding adjustments. */
SEM_TEST(sem_s7_4_kill9_blocked_holder)
{
	int c;

	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	c = diff_fork();
	if (c == 0) {
		X_EQ("+5 undo on 1", o->op(0, OPS({ 1, 5, SEM_UNDO })), 0);
		o->op(0, OPS({ 0, -1, SEM_UNDO }));
		diff_exit();
	}
	sem_await(o, 0, 0, GETNCNT, 1);
	X_VAL(o, "held", 0, 1, 5);
	CHECK(kill(diff_child_pid(c), SIGKILL) == 0);
	diff_wait(c);
	rec_sems(o, "after SIGKILL", 0, 2);
	X_ALL(o, "reverted", 0, 2, 0, 0);
}

/* 7.5 unshare(CLONE_SYSVSEM) applies the undo list at once (the kernel
 * alone: ushm's API has no unshare; the drop-in shim's concern). */
TEST(sem_s7_5_unshare_sysvsem_kernel)
{
	int id, st;
	pid_t pid;

	test_kernel_ns();
	id = semget(IPC_PRIVATE, 1, 0600);
	CHECK(id == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (semop(id, OPS({ 0, 3, SEM_UNDO })) != 0)
			_exit(2);
		if (semctl(id, 0, GETVAL) != 3)
			_exit(3);
		if (unshare(CLONE_SYSVSEM) != 0)
			_exit(4);
		if (semctl(id, 0, GETVAL) != 0)
			_exit(5);
		if (semop(id, OPS({ 0, 1, SEM_UNDO })) != 0)
			_exit(6);
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EQ(st, 0);
	CHECK_EQ(semctl(id, 0, GETVAL), 0);
}

/* 7.6 Exit-time undo clamps to [0, 32767]. */
SEM_TEST(sem_s7_6_exit_clamps)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("sem1 = 5", o->ctl(0, 1, SETVAL, 5), 0);
	if (diff_fork() == 0) {
		X_EQ("+2 undo on 0", o->op(0, OPS({ 0, 2, SEM_UNDO })), 0);
		X_EQ("-5 undo on 1", o->op(0, OPS({ 1, -5, SEM_UNDO })), 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_EQ("someone takes the 2", o->op(0, OPS({ 0, -2, 0 })), 0);
	X_EQ("someone raises sem1 to 32767", o->op(0, OPS({ 1, 32767, 0 })),
	     0);
	sem_release(1);
	X_ALL(o, "clamped", 0, 2, 0, 32767);
	rec_sems(o, "after", 0, 2);
}

/* 7.7 Exit sets sempid only where semadj != 0, sem_otime on every set
 * of the list; it wakes sleepers. */
SEM_TEST(sem_s7_7_exit_pid_otime_wake)
{
	struct semid_ds a0, b0, a1, b1;
	int z;

	X_EQ("set A", o->get(IPC_PRIVATE, 2, 0600), 0);
	X_EQ("set B", o->get(IPC_PRIVATE, 1, 0600), 1);
	if (diff_fork() == 0) {
		X_EQ("A: +1 -1 undo (semadj 0)",
		     o->op(0, OPS({ 0, 1, SEM_UNDO }, { 0, -1, SEM_UNDO })), 0);
		X_EQ("B: +1 undo", o->op(1, OPS({ 0, 1, SEM_UNDO })), 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_EQ("main: A zero op", o->op(0, OPS({ 0, 0, 0 }, { 1, 0, 0 })), 0);
	z = sem_spawn_sleeper(o, 1, 1, OPS({ 0, 0, 0 }));
	rec_semstat(o, "A before", 0, IPC_STAT, &a0);
	rec_semstat(o, "B before", 1, IPC_STAT, &b0);
	diff_tick();
	sem_release(1);
	rec_semstat(o, "A after", 0, IPC_STAT, &a1);
	rec_semstat(o, "B after", 1, IPC_STAT, &b1);
	rec_cmp("A otime moved", a1.sem_otime, a0.sem_otime);
	rec_cmp("B otime moved", b1.sem_otime, b0.sem_otime);
	EXPECT(a1.sem_otime > a0.sem_otime && b1.sem_otime > b0.sem_otime);
	rec_sems(o, "A", 0, 2);
	rec_sems(o, "B", 1, 1);
	EXPECT(o->ctl(0, 0, GETPID) == getpid());
	rec_report("B's zero waiter", z);
	sem_release(z);
}

/* 7.8 SETVAL clears that semaphore's semadj in every process, SETALL
 * every semaphore's of the set. */
SEM_TEST(sem_s7_8_setval_setall_clear_semadj)
{
	X_EQ("set", o->get(IPC_PRIVATE, 2, 0600), 0);
	if (diff_fork() == 0) {
		X_EQ("+1 undo on 0 and 1",
		     o->op(0, OPS({ 0, 1, SEM_UNDO }, { 1, 1, SEM_UNDO })), 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_EQ("SETVAL sem0 = 5", o->ctl(0, 0, SETVAL, 5), 0);
	sem_release(1);
	X_ALL(o, "sem0 kept, sem1 undone", 0, 2, 5, 0);
	if (diff_fork() == 0) {
		X_EQ("+1 undo on 0 and 1",
		     o->op(0, OPS({ 0, 1, SEM_UNDO }, { 1, 1, SEM_UNDO })), 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(2);
	X_EQ("SETALL (3, 3)",
	     o->ctl(0, 0, SETALL, (union semun){
			     .array = (unsigned short[]){ 3, 3 } }), 0);
	sem_release(2);
	X_ALL(o, "nothing undone", 0, 2, 3, 3);
	rec_sems(o, "pids", 0, 2);
}

/* 7.9 IPC_RMID discards the undo entries: the exit does not touch a new
 * set with the same id. */
SEM_TEST(sem_s7_9_rmid_discards_undo)
{
	X_EQ("set", o->get(IPC_PRIVATE, 1, 0600), 0);
	if (diff_fork() == 0) {
		X_EQ("+1 undo", o->op(0, OPS({ 0, 1, SEM_UNDO })), 0);
		to_parent(1);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_EQ("rmid", o->ctl(0, 0, IPC_RMID), 0);
	X_EQ("sem_next_id=0", o->set_limit_text("sem_next_id", "0"), 0);
	X_EQ("new set, same id", o->get(IPC_PRIVATE, 1, 0600), 0);
	X_EQ("value 5", o->ctl(0, 0, SETVAL, 5), 0);
	sem_release(1);
	X_VAL(o, "untouched", 0, 0, 5);
	rec_sems(o, "after", 0, 1);
	rec_semstat(o, "stat", 0, IPC_STAT, NULL);
}

/* 7.10 No per-process limit on undo entries (SEMUME 500 is
 * informational): 600 sets, all undone at exit. */
SEM_TEST(sem_s7_10_many_undo_entries)
{
	int bad = 0;

	for (int i = 0; i < 600; i++)
		if (o->get(IPC_PRIVATE, 1, 0600) != i)
			bad++;
	X_EQ("600 sets", bad, 0);
	if (diff_fork() == 0) {
		int fails = 0;

		for (int i = 0; i < 600; i++)
			if (o->op(i, OPS({ 0, 1, SEM_UNDO })) != 0)
				fails++;
		X_EQ("600 undo entries", fails, 0);
		diff_exit();
	}
	diff_wait(1);
	bad = 0;
	for (int i = 0; i < 600; i++)
		if (o->ctl(i, 0, GETVAL) != 0 ||
		    o->ctl(i, 0, GETPID) != diff_child_pid(1))
			bad++;
	X_EQ("all undone by the child", bad, 0);
}
