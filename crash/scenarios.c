/*
 * scenarios.c - the operations of `ushm-crash points` (see points.h).
 *
 * Every public operation that changes the registry is here once, and
 * the paths inside the library that change it on someone else's behalf
 * (reaping a dead attacher, a normal exit's detaches, fork's copies and
 * the child's adoption, shm_rmid_forced destroying orphans, recovery
 * itself).  An operation that is cut short must leave either the state
 * before it or the state after it, once the dead are reaped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "points.h"

/* ---- helpers run by R ---- */

static int make_seg(key_t key, size_t size, int mode)
{
	int id = ushm_shmget(key, size, IPC_CREAT | mode);

	if (id < 0)
		setup_fail("shmget in prep");
	return id;
}

static void rmid(int id)
{
	if (ushm_shmctl(id, IPC_RMID, NULL) < 0)
		setup_fail("IPC_RMID in prep");
}

/* A helper H that attaches ID and then waits to be killed. */
static pid_t holder(struct ctx *c, int id)
{
	int rd[2];
	char b;
	pid_t pid;

	if (pipe(rd) < 0)
		setup_fail("pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		die_with_parent();
		close(rd[0]);
		close(c->hold_wr);
		if (ushm_shmat(id, NULL, 0) == (void *)-1)
			_exit(3);
		write_all(rd[1], "r", 1);
		read_full(c->hold_fd, &b, 1);	/* EOF: R is gone */
		_exit(0);
	}
	close(rd[1]);
	if (read_full(rd[0], &b, 1) != 1)
		setup_fail("holder did not attach");
	close(rd[0]);
	roles_add(c->roles, pid, 'H');
	c->helper[c->nhelpers++] = pid;
	return pid;
}

static void kill_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- create ---- */

static void op_create_key(struct ctx *c)
{
	(void)c;
	ushm_shmget(KEY_B, 3 * PAGE + 1, IPC_CREAT | IPC_EXCL | 0640);
}

static void op_create_private(struct ctx *c)
{
	(void)c;
	ushm_shmget(IPC_PRIVATE, 5000, 0600);
}

/* 64 segments made and removed: the cyclic allocator's next index is at
 * the end of its range, so the next creation wraps to index 0 with a
 * new sequence number (R4: the journal carries that across a crash). */
static void prep_wrap(struct ctx *c)
{
	int ids[64];

	(void)c;
	for (int i = 0; i < 64; i++)
		ids[i] = make_seg(IPC_PRIVATE, PAGE, 0600);
	for (int i = 0; i < 64; i++)
		rmid(ids[i]);
}

/* ---- attach, detach, pieces ---- */

static void prep_seg(struct ctx *c)
{
	c->id[0] = make_seg(KEY_A, 4 * PAGE, 0600);
}

static void v_attach(struct ctx *c)
{
	c->p[0] = ushm_shmat(c->id[0], NULL, 0);
	if (c->p[0] == (void *)-1)
		setup_fail("shmat in V");
	c->p[0][0] = 1;
}

static void op_attach(struct ctx *c)
{
	ushm_shmat(c->id[0], NULL, 0);
}

static void op_detach(struct ctx *c)
{
	ushm_shmdt(c->p[0]);
}

static void mid_rmid(struct ctx *c)
{
	rmid(c->id[0]);
}

static void op_munmap(struct ctx *c)
{
	munmap(c->p[0] + PAGE, PAGE);
}

static void op_mprotect(struct ctx *c)
{
	mprotect(c->p[0] + PAGE, PAGE, PROT_READ);
}

/* remap_file_pages: one page (a new piece), the whole attachment (its
 * record goes and a new one is made), a removed segment's last piece
 * (destroyed, the remap fails). */
static void op_remap_page(struct ctx *c)
{
	remap_file_pages(c->p[0] + PAGE, PAGE, 0, 3, 0);
}

static void op_remap_all(struct ctx *c)
{
	remap_file_pages(c->p[0], 4 * PAGE, 0, 0, 0);
}

/* ---- shmctl ---- */

static void op_rmid(struct ctx *c)
{
	ushm_shmctl(c->id[0], IPC_RMID, NULL);
}

static void prep_seg_held(struct ctx *c)
{
	prep_seg(c);
	holder(c, c->id[0]);
}

static void op_set(struct ctx *c)
{
	struct shmid_ds ds;

	memset(&ds, 0, sizeof(ds));
	ds.shm_perm.uid = 1;
	ds.shm_perm.gid = 1;
	ds.shm_perm.mode = 0644;
	ushm_shmctl(c->id[0], IPC_SET, &ds);
}

static void op_lock(struct ctx *c)
{
	ushm_shmctl(c->id[0], SHM_LOCK, NULL);
}

/* ---- limits ---- */

static void op_shmmni(struct ctx *c)
{
	(void)c;
	ushm_limit_set("shmmni", "1000");
}

/* An orphan (its creator has exited, nobody attached) and a segment
 * whose creator (R) lives: setting shm_rmid_forced destroys the first. */
static void prep_orphan(struct ctx *c)
{
	pid_t pid;
	int st;

	prep_seg_held(c);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		die_with_parent();
		_exit(ushm_shmget(KEY_C, 2 * PAGE, IPC_CREAT | 0600) < 0 ? 3 : 0);
	}
	roles_add(c->roles, pid, 'O');
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		setup_fail("orphan creator");
}

static void op_rmid_forced(struct ctx *c)
{
	(void)c;
	ushm_limit_set("shm_rmid_forced", "1");
}

/* ---- fork, exit, reaping ---- */

static void prep_two(struct ctx *c)
{
	c->id[0] = make_seg(KEY_A, 4 * PAGE, 0600);
	c->id[1] = make_seg(KEY_B, 2 * PAGE, 0600);
}

static void v_attach_two(struct ctx *c)
{
	v_attach(c);
	c->p[1] = ushm_shmat(c->id[1], NULL, SHM_RDONLY);
	if (c->p[1] == (void *)-1)
		setup_fail("shmat in V");
	if (munmap(c->p[0] + PAGE, PAGE) < 0)	/* two pieces */
		setup_fail("munmap in V");
}

/* The child G tells R that it lives (then waits to be killed), and V
 * that it has adopted its copies; V goes on when G did, or died. */
static void op_fork(struct ctx *c)
{
	int p[2];
	char b;
	pid_t pid;

	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "G %d\n", (int)getpid());

		close(p[0]);
		if (c->gdead)
			die_now();
		write_all(c->msg_fd, msg, (size_t)n);
		write_all(p[1], "g", 1);
		read_full(c->hold_fd, &b, 1);	/* EOF: R is gone */
		_exit(0);
	}
	close(p[1]);
	if (pid > 0)
		read_full(p[0], &b, 1);
	close(p[0]);
}

/* A fork whose child leaves at once (for a first victim W). */
static void op_fork_quick(struct ctx *c)
{
	pid_t pid;

	(void)c;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void v_attach_pieces(struct ctx *c)
{
	v_attach(c);
	if (munmap(c->p[0] + PAGE, PAGE) < 0)
		setup_fail("munmap in V");
}

/* A normal exit detaches everything (the library's destructor). */
static void op_exit(struct ctx *c)
{
	(void)c;
	exit(0);
}

/* _exit detaches too (exit.c's wrapper). */
static void op__exit(struct ctx *c)
{
	(void)c;
	_exit(0);
}

/* R's helper H, attached in prep, dies after V's setup: V's operation
 * must apply that death before its own event (task.c, "Reaping"). */
static void mid_kill_holder(struct ctx *c)
{
	kill_wait(c->helper[--c->nhelpers]);
}

static void prep_dead_attacher_removed(struct ctx *c)
{
	pid_t h;

	prep_seg(c);
	h = holder(c, c->id[0]);
	rmid(c->id[0]);
	kill_wait(h);
	c->nhelpers--;
}

static void prep_dead_attacher(struct ctx *c)
{
	pid_t h;

	prep_seg(c);
	h = holder(c, c->id[0]);
	kill_wait(h);
	c->nhelpers--;
}

static void op_reap(struct ctx *c)
{
	(void)c;
	ushm_reap();
}

static void op_stat(struct ctx *c)
{
	struct shmid_ds ds;

	ushm_shmctl(c->id[0], IPC_STAT, &ds);
}

/* ---- recovery: a first victim W dies at a point, then V recovers ---- */

/* W: setup, arm POINT (first pass), operation; W must die there. */
static void crashed(struct ctx *c, void (*wsetup)(struct ctx *),
		    void (*wop)(struct ctx *), const char *point)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		die_with_parent();
		close(c->hold_wr);
		if (wsetup)
			wsetup(c);
		ushm__crash_arm(point, 1);
		wop(c);
		_exit(4);		/* the point was not reached */
	}
	roles_add(c->roles, pid, 'W');
	if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) ||
	    WTERMSIG(st) != SIGKILL)
		setup_fail("the first victim did not die at its point");
}

static void op_create_d(struct ctx *c)
{
	(void)c;
	ushm_shmget(KEY_D, 2 * PAGE, IPC_CREAT | 0600);
}

static void op_recover(struct ctx *c)
{
	(void)c;
	ushm_check(NULL, NULL);		/* takes the lock: recovery */
}

/*
 * W attaches, removes the segment and dies in its shmdt at
 * detach.counted (its record: 0 pieces, still live), while V holds the
 * segment too.  Then V's munmap closes the last piece: the segment is
 * destroyed.  W's record must not outlive it pointing at a free slot.
 */
static void w_attach_rmid(struct ctx *c)
{
	v_attach(c);
	rmid(c->id[0]);
}

static void mid_crash_detach(struct ctx *c)
{
	crashed(c, w_attach_rmid, op_detach, "detach.counted");
}

static void op_munmap_all(struct ctx *c)
{
	munmap(c->p[0], 4 * PAGE);
}

const struct scenario scenarios[] = {
	{ "create by key", NULL, NULL, NULL, op_create_key, 0, NULL, NULL },
	{ "create private", NULL, NULL, NULL, op_create_private, 0, NULL, NULL },
	{ "create after the allocator wraps", prep_wrap, NULL, NULL,
	  op_create_private, 0, NULL, NULL },
	{ "attach", prep_seg, NULL, NULL, op_attach, 0, NULL, NULL },
	{ "detach", prep_seg, v_attach, NULL, op_detach, 0, NULL, NULL },
	{ "detach the last attachment of a removed segment", prep_seg,
	  v_attach, mid_rmid, op_detach, 0, NULL, NULL },
	{ "partial munmap", prep_seg, v_attach, NULL, op_munmap, 0, NULL, NULL },
	{ "partial mprotect", prep_seg, v_attach, NULL, op_mprotect, 0, NULL, NULL },
	{ "remap_file_pages of a page", prep_seg, v_attach, NULL, op_remap_page,
	  0, NULL, NULL },
	{ "remap_file_pages of a whole attachment", prep_seg, v_attach, NULL,
	  op_remap_all, 0, NULL, NULL },
	{ "remap_file_pages of a removed segment's last piece", prep_seg,
	  v_attach, mid_rmid, op_remap_all, 0, NULL, NULL },
	{ "IPC_RMID, not attached", prep_seg, NULL, NULL, op_rmid, 0, NULL, NULL },
	{ "IPC_RMID, attached by another process", prep_seg_held, NULL, NULL,
	  op_rmid, 0, NULL, NULL },
	{ "IPC_SET", prep_seg, NULL, NULL, op_set, 0, NULL, NULL },
	{ "SHM_LOCK", prep_seg, NULL, NULL, op_lock, 0, NULL, NULL },
	{ "set shmmni", NULL, NULL, NULL, op_shmmni, 0, NULL, NULL },
	{ "set shm_rmid_forced=1 with an orphan", prep_orphan, NULL, NULL,
	  op_rmid_forced, 0, NULL, NULL },
	{ "fork with attachments (parent and child)", prep_two, v_attach_two,
	  NULL, op_fork, S_FORK, NULL, NULL },
	{ "exit with the last attachments of a removed segment", prep_seg,
	  v_attach_pieces, mid_rmid, op_exit, 0, NULL, NULL },
	{ "last munmap after another's crash at detach.counted", prep_seg,
	  v_attach, mid_crash_detach, op_munmap_all, 0, NULL, NULL },
	{ "_exit with attachments, after another attacher's death",
	  prep_seg_held, v_attach_pieces, mid_kill_holder, op__exit, 0, NULL,
	  NULL },
	{ "fork after another attacher's death", prep_seg_held, v_attach,
	  mid_kill_holder, op_fork, S_FORK, NULL, NULL },
	{ "partial munmap after another attacher's death", prep_seg_held,
	  v_attach, mid_kill_holder, op_munmap, 0, NULL, NULL },
	{ "reap a dead attacher of a removed segment",
	  prep_dead_attacher_removed, NULL, NULL, op_reap, 0, NULL, NULL },
	{ "IPC_STAT reaps a dead attacher", prep_dead_attacher, NULL, NULL,
	  op_stat, 0, NULL, NULL },
	{ "create by key", NULL, NULL, NULL, op_recover, S_RECOVER,
	  NULL, op_create_d },
	{ "IPC_RMID, not attached", prep_seg, NULL, NULL, op_recover,
	  S_RECOVER, NULL, op_rmid },
	{ "IPC_RMID, attached by another process", prep_seg_held, NULL, NULL,
	  op_recover, S_RECOVER, NULL, op_rmid },
	{ "attach", prep_seg, NULL, NULL, op_recover, S_RECOVER, NULL,
	  op_attach },
	{ "detach, another process attached", prep_seg_held, NULL, NULL,
	  op_recover, S_RECOVER, v_attach, op_detach },
	{ "fork with an attachment", prep_seg, NULL, NULL, op_recover,
	  S_RECOVER, v_attach, op_fork_quick },
	{ "IPC_SET", prep_seg, NULL, NULL, op_recover, S_RECOVER, NULL,
	  op_set },
};
const size_t nscenarios = sizeof(scenarios) / sizeof(scenarios[0]);
