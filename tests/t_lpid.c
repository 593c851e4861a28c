/*
 * t_lpid.c - lpid, dtime and nattch after deaths: a process's end comes
 * before the events after it, and ends come in the order they happened
 * (task.c, exit.c).  Nobody looks (IPC_STAT) between a death and the
 * event after it unless the test says so: the event itself must apply
 * the death first.
 */
#include "diff.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define K1 0x6c000001

enum { BY_EXIT, BY__EXIT, BY__EXIT_C99, BY_KILL };

/* A child that holds what it inherited until told how to end. */
static int holder(void)
{
	int n = diff_fork();

	if (n == 0) {
		int how;

		to_parent(0);
		how = from_parent();
		fflush(NULL);
		if (how == BY_EXIT)
			exit(0);
		if (how == BY__EXIT)
			_exit(0);
		if (how == BY__EXIT_C99)
			_Exit(0);
		for (;;)
			pause();	/* BY_KILL */
	}
	from_child(n);
	return n;
}

static void end(int n, int how)
{
	if (how == BY_KILL)
		CHECK(kill(diff_child_pid(n), SIGKILL) == 0);
	else
		to_child(n, how);
	diff_wait(n);
}

/* A child ends attached; main then forks (shm_open: lpid = main), and
 * only then looks. */
static void exit_then_fork(const struct shm_ops *o, int how)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	int a, b;

	if (p == (void *)-1)
		return;
	a = holder();
	end(a, how);
	b = holder();
	rec_stat(o, "after the second fork", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 2 && ds.shm_lpid == getpid());
	end(b, BY__EXIT);
	rec_stat(o, "after the second child's end", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 1 && ds.shm_lpid == diff_child_pid(b));
	X_EQ("detach", o->dt(p), 0);
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

DIFF_TEST(lpid_exit_then_fork)
{
	exit_then_fork(o, BY_EXIT);
}

DIFF_TEST(lpid__exit_then_fork)
{
	exit_then_fork(o, BY__EXIT);
}

DIFF_TEST(lpid__Exit_then_fork)
{
	exit_then_fork(o, BY__EXIT_C99);
}

DIFF_TEST(lpid_kill_then_fork)
{
	exit_then_fork(o, BY_KILL);
}

/* Two children attached end in the order A, B: lpid is B's, whatever
 * the order of their records.  FIRST and SECOND say how each ends; a
 * kill is applied by the next event, here the other's end. */
static void two_ends(const struct shm_ops *o, int first, int second,
		     int b_first)
{
	struct shmid_ds ds;
	int id = X_SUCC("create", o->get(K1, PAGE, IPC_CREAT | 0600));
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	int a, b;

	if (p == (void *)-1)
		return;
	a = holder();
	b = holder();
	X_EQ("main detaches", o->dt(p), 0);
	if (b_first) {
		int t = a;

		a = b;
		b = t;
	}
	end(a, first);
	end(b, second);
	rec_stat(o, "after both ends", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0 && ds.shm_lpid == diff_child_pid(b));
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

DIFF_TEST(lpid_two__exits_in_order)
{
	two_ends(o, BY__EXIT, BY__EXIT, 0);
	two_ends(o, BY__EXIT, BY__EXIT, 1);
}

DIFF_TEST(lpid_two_exits_in_order)
{
	two_ends(o, BY_EXIT, BY_EXIT, 0);
	two_ends(o, BY_EXIT, BY_EXIT, 1);
}

DIFF_TEST(lpid_kill_then__exit)
{
	two_ends(o, BY_KILL, BY__EXIT, 0);
	two_ends(o, BY_KILL, BY__EXIT, 1);
}

DIFF_TEST(lpid_exit_then_kill)
{
	two_ends(o, BY_EXIT, BY_KILL, 0);
	two_ends(o, BY__EXIT_C99, BY_KILL, 1);
}

/* A killed attacher, then main splits its attachment (munmap of the
 * middle page: one piece opens, one closes, lpid = main). */
DIFF_TEST(lpid_kill_then_split)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 3 * PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	int a;

	if (p == (void *)-1)
		return;
	a = holder();
	end(a, BY_KILL);
	X_EQ("munmap the middle page", munmap(p + PAGE, PAGE), 0);
	rec_stat(o, "after the split", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 2 && ds.shm_lpid == getpid());
	X_EQ("detach", o->dt(p), 0);
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

/* A killed attacher, then main detaches: lpid = main. */
DIFF_TEST(lpid_kill_then_detach)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	int a;

	if (p == (void *)-1)
		return;
	a = holder();
	end(a, BY_KILL);
	X_EQ("detach", o->dt(p), 0);
	rec_stat(o, "after the detach", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0 && ds.shm_lpid == getpid());
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

/* The program's atexit handler still finds its attachment: the
 * library's own detach at exit comes after it. */
static void *dt_at_exit_p;
static const struct shm_ops *dt_at_exit_o;

static void dt_at_exit(void)
{
	errno = 0;
	rec_ret("child's atexit shmdt", dt_at_exit_o->dt(dt_at_exit_p));
}

DIFF_TEST(lpid_atexit_handler_detaches)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	int n;

	if (p == (void *)-1)
		return;
	X_EQ("main detaches", o->dt(p), 0);
	n = diff_fork();
	if (n == 0) {
		dt_at_exit_o = o;
		dt_at_exit_p = AT_OK("child attaches", o->at(id, NULL, 0),
				     NULL);
		CHECK(atexit(dt_at_exit) == 0);
		fflush(NULL);
		exit(0);
	}
	diff_wait(n);
	rec_stat(o, "after the child's exit", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0 && ds.shm_lpid == diff_child_pid(n));
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

/* Attachments made by a thread are the process's: its _exit detaches
 * them too. */
struct th_arg {
	const struct shm_ops *o;
	int id;
};

static void *th_attach(void *v)
{
	struct th_arg *t = v;

	AT_OK("thread attaches", t->o->at(t->id, NULL, 0), NULL);
	AT_OK("thread attaches again", t->o->at(t->id, NULL, SHM_RDONLY),
	      NULL);
	return NULL;
}

DIFF_TEST(lpid_thread_attachments_at__exit)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	int n = diff_fork(), m;

	if (n == 0) {
		struct th_arg t = { o, id };
		pthread_t th;

		CHECK(pthread_create(&th, NULL, th_attach, &t) == 0);
		CHECK(pthread_join(th, NULL) == 0);
		to_parent(0);
		from_parent();
		_exit(0);
	}
	from_child(n);
	rec_stat(o, "while the child lives", id, IPC_STAT, &ds);
	to_child(n, 0);
	diff_wait(n);
	/* A fork after the end: nothing to copy, but no look came first. */
	m = diff_fork();
	if (m == 0)
		diff_exit();
	diff_wait(m);
	rec_stat(o, "after the child's _exit", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 0 && ds.shm_lpid == diff_child_pid(n));
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}

/* A vfork child that calls _exit shares main's memory but none of its
 * attachments: main's state is as before. */
DIFF_TEST(lpid_vfork_child__exit)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	pid_t pid;
	int st;

	if (p == (void *)-1)
		return;
	rec_stat(o, "before vfork", id, IPC_STAT, &a);
	pid = vfork();
	if (pid == 0)
		_exit(7);
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	rec("vfork child: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	rec_stat(o, "after the vfork child's _exit", id, IPC_STAT, &b);
	EXPECT(b.shm_nattch == 1 && b.shm_lpid == getpid() &&
	       b.shm_dtime == 0);
	p[0] = 1;		/* still mapped, still ours */
	X_EQ("detach", o->dt(p), 0);
	rec_stat(o, "after main's detach", id, IPC_STAT, &b);
	X_EQ("remove", o->ctl(id, IPC_RMID, NULL), 0);
}
