/*
 * t_life.c - SEMANTICS.md section 6: process lifecycle (fork, exec, exit,
 * kill -9, shm_rmid_forced).
 *
 * ushm reaps dead processes' attachments lazily, when a call depends on
 * them; every observation here is such a call (IPC_STAT, SHM_INFO), as it
 * would be against the kernel.
 */
#include "diff.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define K1 0x6f000001
#define K2 0x6f000002

/* In a child: exec a shell that tells the parent it runs (4 bytes) and
 * then waits forever, so that the state after exec can be observed. */
static void exec_waiting_shell(void)
{
	int rd, wr;

	diff_child_fds(&rd, &wr);
	/* out of the way first: either may already be 3 or 4 */
	rd = fcntl(rd, F_DUPFD, 10);
	wr = fcntl(wr, F_DUPFD, 10);
	CHECK(rd >= 10 && wr >= 10);
	CHECK(dup2(wr, 3) == 3 && dup2(rd, 4) == 4);
	execl("/bin/sh", "sh", "-c", "printf abcd >&3; read x <&4", (char *)0);
	_exit(127);
}

/* 6.1 fork: pieces inherited, nattch += pieces, atime, lpid = parent. */
DIFF_TEST(s6_1_fork_inherits)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(K1, 3 * PAGE, IPC_CREAT | 0600), 0);
	char *p = AT_OK("attach p", o->at(id, NULL, 0), NULL);
	char *q = AT_OK("attach q", o->at(id, NULL, SHM_RDONLY), NULL);

	if (p == (void *)-1 || q == (void *)-1)
		return;
	X_EQ("munmap p's middle page", munmap(p + PAGE, PAGE), 0);
	rec_stat(o, "before fork", id, IPC_STAT, &a);
	EXPECT(a.shm_nattch == 3);
	diff_tick();
	if (diff_fork() == 0) {
		rec_maps("child p", p);
		rec_maps("child p + 2 pages", p + 2 * PAGE);
		rec_maps("child q", q);
		p[0] = 'c';
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_stat(o, "after fork", id, IPC_STAT, &b);
	rec_cmp("atime after fork vs before", b.shm_atime, a.shm_atime);
	EXPECT(b.shm_nattch == 6 && b.shm_lpid == getpid() &&
	       b.shm_atime > a.shm_atime && b.shm_dtime == a.shm_dtime);
	rec("parent sees the child's write: %c", q[0]);
	diff_tick();
	to_child(1, 0);
	diff_wait(1);
	rec_stat(o, "after the child's exit", id, IPC_STAT, &a);
	rec_cmp("dtime vs atime", a.shm_dtime, a.shm_atime);
	EXPECT(a.shm_nattch == 3 && a.shm_lpid == diff_child_pid(1) &&
	       a.shm_dtime > a.shm_atime);
}

/* 6.1 Grandchildren inherit too; lpid is each forking parent. */
DIFF_TEST(s6_1_fork_chain)
{
	int id = X_EQ("create", o->get(IPC_PRIVATE, PAGE, 0600), 0);

	AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (diff_fork() == 0) {
		if (diff_fork() == 0) {
			to_parent(0);
			from_parent();
			diff_exit();
		}
		from_child(2);
		rec_stat(o, "grandchild forked", id, IPC_STAT, NULL);
		to_child(2, 0);
		diff_wait(2);
		rec_stat(o, "grandchild gone", id, IPC_STAT, NULL);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "child gone", id, IPC_STAT, NULL);
}

/* 6.2 Pieces marked MADV_DONTFORK are not inherited and do not count. */
DIFF_TEST(s6_2_dontfork)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(IPC_PRIVATE, PAGE, 0600), 0);
	char *p = AT_OK("attach p", o->at(id, NULL, 0), NULL);
	char *q = AT_OK("attach q", o->at(id, NULL, 0), NULL);

	X_EQ("MADV_DONTFORK q", madvise(q, PAGE, MADV_DONTFORK), 0);
	if (diff_fork() == 0) {
		rec_maps("child p", p);
		rec_maps("child q", q);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	rec_stat(o, "forked", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 3);
	to_child(1, 0);
	diff_wait(1);
	rec_stat(o, "child gone", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 2);
}

static void *idle_thread(void *arg)
{
	return arg;
}

/* 6.2 vfork and CLONE_VM threads do not change nattch. */
DIFF_TEST(s6_2_vfork_and_threads)
{
	struct shmid_ds a, b;
	int id = X_EQ("create", o->get(IPC_PRIVATE, PAGE, 0600), 0);
	char *p = AT_OK("attach", o->at(id, NULL, 0), NULL);
	pthread_t t;
	pid_t pid;
	int st;

	rec_stat(o, "before", id, IPC_STAT, &a);
	CHECK(pthread_create(&t, NULL, idle_thread, p) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	rec_stat(o, "after a thread", id, IPC_STAT, &b);
	EXPECT(b.shm_nattch == 1);
	pid = vfork();
	if (pid == 0)
		_exit(0);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	rec_stat(o, "after vfork", id, IPC_STAT, &b);
	EXPECT(b.shm_nattch == 1 && b.shm_lpid == a.shm_lpid &&
	       b.shm_dtime == 0);
}

/* 6.3 exec detaches everything: nattch, dtime = now, lpid = exec'er. */
DIFF_TEST(s6_3_exec_detaches)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 2 * PAGE, IPC_CREAT | 0600), 0);

	if (diff_fork() == 0) {
		char *p = AT_OK("child attach 1", o->at(id, NULL, 0), NULL);

		AT_OK("child attach 2", o->at(id, NULL, SHM_RDONLY), NULL);
		if (p != (void *)-1)
			X_EQ("split", munmap(p + PAGE, PAGE), 0);
		to_parent(0);
		from_parent();
		exec_waiting_shell();
	}
	from_child(1);
	rec_stat(o, "attached", id, IPC_STAT, &ds);
	EXPECT(ds.shm_nattch == 2 && ds.shm_lpid == diff_child_pid(1));
	diff_tick();
	to_child(1, 0);
	rec("shell started: %d", from_child(1) != INT_MIN);
	rec_stat(o, "after exec", id, IPC_STAT, &ds);
	rec_cmp("dtime vs atime", ds.shm_dtime, ds.shm_atime);
	EXPECT(ds.shm_nattch == 0 && ds.shm_lpid == diff_child_pid(1) &&
	       ds.shm_dtime > ds.shm_atime);
	kill(diff_child_pid(1), SIGKILL);
	diff_wait(1);
	rec_stat(o, "after the shell's death", id, IPC_STAT, NULL);
}

/* 6.3 A child that execs /bin/true: detached at exec, gone at exit. */
DIFF_TEST(s6_3_exec_true)
{
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);

	AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (diff_fork() == 0) {
		AT_OK("child attach", o->at(id, NULL, 0), NULL);
		execl("/bin/true", "true", (char *)0);
		_exit(127);
	}
	diff_wait(1);
	rec_stat(o, "after", id, IPC_STAT, NULL);
}

/* 6.3 A failed exec drops nothing. */
DIFF_TEST(s6_3_failed_exec_keeps)
{
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);

	if (diff_fork() == 0) {
		AT_OK("child attach", o->at(id, NULL, 0), NULL);
		X_ERR("exec", execl("/nonexistent/x", "x", (char *)0), ENOENT);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	X_NATTCH(o, "after the failed exec", id, 1);
	to_child(1, 0);
	diff_wait(1);
	X_NATTCH(o, "after exit", id, 0);
}

/* 6.4 exit (also _exit, fatal signal) detaches: nattch, dtime, lpid. */
DIFF_TEST(s6_4_exit_detaches)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, 3 * PAGE, IPC_CREAT | 0600), 0);

	for (int how = 0; how < 3; how++) {
		if (diff_fork() == 0) {
			char *p = AT_OK("child attach", o->at(id, NULL, 0),
					NULL);

			AT_OK("child attach 2", o->at(id, NULL, 0), NULL);
			if (p != (void *)-1)
				munmap(p + PAGE, PAGE);
			to_parent(0);
			from_parent();
			if (how == 0)
				exit(0);	/* atexit, stdio */
			if (how == 1)
				_exit(0);	/* neither */
			signal(SIGSEGV, SIG_DFL);	/* not a sanitizer's */
			raise(SIGSEGV);
			_exit(4);
		}
		from_child(how + 1);
		X_NATTCH(o, "attached", id, 3);
		diff_tick();
		to_child(how + 1, 0);
		diff_wait(how + 1);
		rec_stat(o, L("after exit %d", how), id, IPC_STAT, &ds);
		rec_cmp("dtime vs atime", ds.shm_dtime, ds.shm_atime);
		EXPECT(ds.shm_nattch == 0 &&
		       ds.shm_lpid == diff_child_pid(how + 1) &&
		       ds.shm_dtime > ds.shm_atime);
	}
}

/* 6.4 A process killed with SIGKILL while attached is detached as by exit. */
DIFF_TEST(s6_4_sigkill_detaches)
{
	struct shmid_ds ds;
	int id = X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);

	AT_OK("attach", o->at(id, NULL, 0), NULL);
	if (diff_fork() == 0) {
		AT_OK("child attach", o->at(id, NULL, 0), NULL);
		to_parent(0);
		for (;;)
			pause();
	}
	from_child(1);
	X_NATTCH(o, "attached", id, 3);
	diff_tick();
	kill(diff_child_pid(1), SIGKILL);
	diff_wait(1);
	rec_stat(o, "after kill", id, IPC_STAT, &ds);
	rec_cmp("dtime vs atime", ds.shm_dtime, ds.shm_atime);
	EXPECT(ds.shm_nattch == 1 && ds.shm_lpid == diff_child_pid(1) &&
	       ds.shm_dtime > ds.shm_atime);
}

/* 6.4 The last attacher's exit or death destroys a SHM_DEST segment. */
DIFF_TEST(s6_4_exit_destroys_dest)
{
	struct shm_info si;
	int a = X_EQ("a", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	int b = X_EQ("b", o->get(K2, PAGE, IPC_CREAT | 0600), 1);

	if (diff_fork() == 0) {
		AT_OK("child attach a", o->at(a, NULL, 0), NULL);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	if (diff_fork() == 0) {
		AT_OK("child attach b", o->at(b, NULL, 0), NULL);
		to_parent(0);
		for (;;)
			pause();
	}
	from_child(2);
	X_EQ("rmid a", o->ctl(a, IPC_RMID, NULL), 0);
	X_EQ("rmid b", o->ctl(b, IPC_RMID, NULL), 0);
	rec_shm_info(o, "marked", 0, &si);
	EXPECT(si.used_ids == 2);
	to_child(1, 0);
	diff_wait(1);
	X_ERR("a destroyed", o->ctl(a, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	kill(diff_child_pid(2), SIGKILL);
	diff_wait(2);
	X_ERR("b destroyed", o->ctl(b, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	rec_shm_info(o, "after", 0, &si);
	EXPECT(si.used_ids == 0 && si.shm_tot == 0);
}

/* 6.5 rmid_forced 0: a segment outlives its creator; cpid is kept. */
DIFF_TEST(s6_5_outlives_creator)
{
	struct shmid_ds ds;

	if (diff_fork() == 0) {
		int id = X_EQ("child creates",
			      o->get(K1, PAGE, IPC_CREAT | 0600), 0);
		char *p = AT_OK("child attach", o->at(id, NULL, 0), NULL);

		if (p != (void *)-1)
			strcpy(p, "left behind");
		X_EQ("child creates another", o->get(IPC_PRIVATE, PAGE, 0600),
		     1);
		diff_exit();
	}
	diff_wait(1);
	rec_stat(o, "after the creator's exit", 0, IPC_STAT, &ds);
	EXPECT(ds.shm_cpid == diff_child_pid(1) && ds.shm_nattch == 0);
	rec_stat(o, "the unattached one", 1, IPC_STAT, NULL);
	{
		char *p = AT_OK("attach", o->at(0, NULL, 0), NULL);

		if (p != (void *)-1)
			rec("data: %s", p);
	}
}

static pid_t creator_tid;

/* pthread_join returns at the thread's exit_mm(), before the kernel's
 * exit_shm(): wait until creator_tid is fully gone. */
static void wait_thread_gone(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)creator_tid);
	while (access(path, F_OK) == 0)
		usleep(1000);
}

static void *thread_creates(void *arg)
{
	const struct shm_ops *o = arg;

	creator_tid = gettid();
	X_EQ("thread creates", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	X_EQ("thread creates and attaches", o->get(K2, PAGE, IPC_CREAT | 0600),
	     1);
	AT_OK("thread attach", o->at(1, NULL, 0), NULL);
	return NULL;
}

/* 6.6 The creator is the thread: its exit makes orphans. */
DIFF_TEST(s6_6_thread_creator_orphan)
{
	pthread_t t;

	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	CHECK(pthread_create(&t, NULL, thread_creates, (void *)o) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	wait_thread_gone();
	X_ERR("unattached one destroyed",
	      o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
	X_NATTCH(o, "attached one survives", 1, 1);
	rec_shm_info(o, "info", 0, NULL);
}

/* 6.6 fork does not pass creator status to the child. */
DIFF_TEST(s6_6_fork_not_creator)
{
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_EQ("main creates", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	if (diff_fork() == 0) {
		X_EQ("child creates", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		diff_exit();
	}
	diff_wait(1);
	X_NATTCH(o, "main's survives the child", 0, 0);
	X_ERR("child's destroyed", o->ctl(1, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
}

/* 6.7(a) rmid_forced 1: creator exit destroys unattached segments. */
DIFF_TEST(s6_7a_creator_exit_destroys)
{
	void *p;

	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	if (diff_fork() == 0) {
		X_EQ("child creates a", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
		X_EQ("child creates b", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		to_parent(0);
		from_parent();
		diff_exit();
	}
	from_child(1);
	p = AT_OK("main attaches b", o->at(1, NULL, 0), NULL);
	to_child(1, 0);
	diff_wait(1);
	X_ERR("a destroyed", o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_ERR("a's key free", o->get(K1, 0, 0), ENOENT);
	rec_stat(o, "b survives", 1, IPC_STAT, NULL);
	X_EQ("detach b", o->dt(p), 0);
	X_ERR("b destroyed", o->ctl(1, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	/* the same when the creator is killed */
	if (diff_fork() == 0) {
		X_EQ("child creates c", o->get(K1, PAGE, IPC_CREAT | 0600), 2);
		X_EQ("child creates d", o->get(K2, PAGE, IPC_CREAT | 0600), 3);
		AT_OK("child attaches d", o->at(3, NULL, 0), NULL);
		to_parent(0);
		for (;;)
			pause();
	}
	from_child(2);
	p = AT_OK("main attaches d", o->at(3, NULL, 0), NULL);
	kill(diff_child_pid(2), SIGKILL);
	diff_wait(2);
	X_ERR("c destroyed", o->ctl(2, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	rec_stat(o, "d survives", 3, IPC_STAT, NULL);
	X_EQ("detach d", o->dt(p), 0);
	X_ERR("d destroyed", o->ctl(3, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
}

/* 6.7(b) rmid_forced 1: any last detach destroys the segment. */
DIFF_TEST(s6_7b_last_detach_destroys)
{
	void *p;

	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	X_EQ("create 2", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
	rec_stat(o, "unattached survives", 0, IPC_STAT, NULL);
	p = AT_OK("attach", o->at(0, NULL, 0), NULL);
	X_EQ("detach", o->dt(p), 0);
	X_ERR("destroyed", o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	if (diff_fork() == 0) {
		AT_OK("child attach 2", o->at(1, NULL, 0), NULL);
		diff_exit();
	}
	diff_wait(1);
	X_ERR("destroyed by the child's exit",
	      o->ctl(1, IPC_STAT, &(struct shmid_ds){ 0 }), EINVAL);
}

/* 6.7(c) rmid_forced 1: a failed shmat on nattch 0 destroys. */
DIFF_TEST(s6_7c_failed_shmat_destroys)
{
	char *busy = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	CHECK(busy != MAP_FAILED);
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0606), 0);
	X_EQ("create 2", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
	X_EQ("create 3", o->get(IPC_PRIVATE, PAGE, 0600), 2);
	AT_ERR("shmat over a mapping", o->at(0, busy, 0), EINVAL);
	X_ERR("destroyed", o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	AT_ERR("shmat above the user limit",
	       o->at(2, (void *)0x800000000000UL, 0), ENOMEM);
	X_ERR("destroyed too", o->ctl(2, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	if (diff_fork() == 0) {
		test_become_nobody();
		AT_ERR("nobody, no permission", o->at(1, NULL, 0), EACCES);
		diff_exit();
	}
	diff_wait(1);
	/* the permission check comes before the temporary attach */
	X_REC("after a refused shmat",
	      rec_stat(o, "refused", 1, IPC_STAT, NULL));
}

/* 6.8 Writing 1 to shm_rmid_forced destroys unattached orphans. */
DIFF_TEST(s6_8_sysctl_purges_orphans)
{
	void *p;

	if (diff_fork() == 0) {
		X_EQ("child creates a", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
		X_EQ("child creates b", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		diff_exit();
	}
	diff_wait(1);
	X_EQ("main creates c", o->get(IPC_PRIVATE, PAGE, 0600), 2);
	p = AT_OK("main attaches b", o->at(1, NULL, 0), NULL);
	X_NATTCH(o, "a still there", 0, 0);
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_ERR("orphan a destroyed", o->ctl(0, IPC_STAT,
					   &(struct shmid_ds){ 0 }), EINVAL);
	X_NATTCH(o, "attached orphan b survives", 1, 1);
	X_NATTCH(o, "c (live creator) survives", 2, 0);
	X_EQ("detach b", o->dt(p), 0);
	X_ERR("b destroyed", o->ctl(1, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_EQ("rmid_forced=1 again", o->set_limit("shm_rmid_forced", 1), 0);
	X_NATTCH(o, "c still there", 2, 0);
}

static void *thread_creates_orphan(void *arg)
{
	const struct shm_ops *o = arg;

	creator_tid = gettid();
	X_EQ("thread creates", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	return NULL;
}

/* 6.8 Orphans of a thread that exited while rmid_forced was 0 included. */
DIFF_TEST(s6_8_thread_orphan_purged)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, thread_creates_orphan, (void *)o) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	wait_thread_gone();
	X_EQ("main creates", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
	X_NATTCH(o, "the orphan survives with rmid_forced 0", 0, 0);
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_ERR("orphan destroyed", o->ctl(0, IPC_STAT, &(struct shmid_ds){ 0 }),
	      EINVAL);
	X_NATTCH(o, "main's survives", 1, 0);
}

/* 6.9 shm_rmid_forced back to 0 restores persistent segments. */
DIFF_TEST(s6_9_back_to_0)
{
	char *busy = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	void *p;

	CHECK(busy != MAP_FAILED);
	X_EQ("rmid_forced=1", o->set_limit("shm_rmid_forced", 1), 0);
	X_EQ("rmid_forced=0", o->set_limit("shm_rmid_forced", 0), 0);
	rec_limit(o, "shm_rmid_forced", NULL);
	X_EQ("create", o->get(K1, PAGE, IPC_CREAT | 0600), 0);
	p = AT_OK("attach", o->at(0, NULL, 0), NULL);
	X_EQ("detach", o->dt(p), 0);
	X_NATTCH(o, "survives the last detach", 0, 0);
	AT_ERR("failed shmat", o->at(0, busy, 0), EINVAL);
	X_NATTCH(o, "survives a failed shmat", 0, 0);
	if (diff_fork() == 0) {
		X_EQ("child creates", o->get(K2, PAGE, IPC_CREAT | 0600), 1);
		diff_exit();
	}
	diff_wait(1);
	X_NATTCH(o, "survives its creator", 1, 0);
}
