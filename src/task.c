/*
 * task.c - processes as the registry knows them: registering, telling
 * the living from the dead, reaping the dead, and fork.
 *
 * Liveness.  A task holds an exclusive open-file-description lock on
 * byte <task index> of the namespace's lock file.  The kernel releases it
 * when the last descriptor of that open file description closes: at exit,
 * at a fatal signal, and at exec (the descriptor is close-on-exec).  Any
 * other process tests it with F_OFD_GETLK from its own open file
 * description: no daemon, no polling, no confusion from pid reuse.
 *
 * Reaping.  A dead task's attachments are dropped as the kernel's exit
 * path (shm_close) would drop them: nattch falls by each record's
 * pieces, dtime becomes now, lpid the dead task's pid, and a segment
 * that may now be destroyed is.  A process that ends through exit() or
 * _exit() does this itself as it ends (exit.c); reaping is for those
 * that could not (a fatal signal), and happens lazily, before any event
 * that reads or sets a segment's nattch, lpid, atime or dtime: the
 * death came before that event, so its effects must too, or they would
 * overwrite the event's.  The dead that matter to an event on segment S
 * are S's attachers (a dead task attached elsewhere only cannot change
 * S); reaping one of them applies its whole exit, to its other
 * segments too, since all of it happened before now.  What reaping
 * cannot know is the order in which two tasks died when nobody looked
 * between the deaths: a segment both attached then ends with the lpid
 * of whichever is reaped last (README, "Limits").  (Orphaned segments
 * are the business of their creating threads: thread.c.)
 *
 * Fork.  The kernel copies attachments into the child inside fork(); the
 * library does the same from pthread_atfork handlers:
 *   prepare  (parent, registry locked and kept locked across fork):
 *            make an EMBRYO task for the child, its lock byte held by a
 *            new open file description, and copy each attachment record
 *            to it, setting atime = now and lpid = parent, as the kernel's
 *            shm_open does for the child;
 *   parent   close our copy of the embryo's descriptor; if its byte is
 *            now free the child does not exist (fork failed) and the
 *            copies are taken back silently; unlock;
 *   child    adopt the embryo (its descriptor is the child's own liveness
 *            lock), drop the parent's lock descriptor, point the local
 *            attachment table at the copies.
 * A child that dies before adopting is a dead embryo, reaped like any
 * dead task.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

/* ---- registering ---- */

/* This thread takes the task's liveness mutex, for good. */
static void live_take(struct ushm_task *k)
{
	if (ushm__init_robust(&k->live) == 0)
		pthread_mutex_trylock(&k->live);
}

int ushm__task_register_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	if (ushm__p.task >= 0) {
		struct ushm_task *k = ushm__task(h, (uint32_t)ushm__p.task);

		/* The thread that held our liveness mutex ended: another
		 * one takes it, so that others can again tell we live
		 * without asking the kernel. */
		if (!ushm__live_fast(&k->live))
			live_take(k);
		return 0;
	}
	for (uint32_t t = 0; t < USHM_TASKS; t++) {
		struct ushm_task *k = ushm__task(h, t);

		if (k->state != TASK_FREE)
			continue;
		/* Free in the table but locked: a process that the table
		 * lost track of (after a repair); leave its byte alone. */
		if (ushm__os_lock_byte(ns->lockfd, t) < 0) {
			if (errno == EAGAIN || errno == EACCES)
				continue;
			ushm__seterr("cannot lock %s/lock: %s", ns->path,
				     strerror(errno));
			return -errno;
		}
		if (t >= h->task_hwm)	/* before the entry is in use */
			h->task_hwm = t + 1;
		k->gen++;
		k->pid = ushm__p.pid;
		k->natt = 0;
		k->parent = 0;
		live_take(k);
		CRASH_POINT("task.locked");
		k->since = ushm__now();
		k->state = TASK_LIVE;	/* last: the entry is complete */
		ushm__p.task = (int32_t)t;
		ushm__p.task_gen = k->gen;
		return 0;
	}
	ushm__seterr("the task table of %s is full (%d processes)", ns->path,
		     USHM_TASKS);
	return -ENOMEM;
}

bool ushm__task_alive(struct ushm_ns *ns, uint32_t t)
{
	int r;

	if ((int32_t)t == ushm__p.task)
		return true;
	/* Alive for sure while a thread of it holds `live`; when not, the
	 * lock file has the last word (that thread may have ended while
	 * the process lives on). */
	if (t < USHM_TASKS && ushm__live_fast(&ushm__task(ns->hdr, t)->live))
		return true;
	r = ushm__os_byte_locked(ns->lockfd, t);
	/* When the kernel cannot answer, never reap: a live task's
	 * attachments must not be dropped. */
	return r != 0;
}

/* ---- reaping ---- */

void ushm__reap_task_locked(struct ushm_ns *ns, uint32_t t)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_task *k = ushm__task(h, t);
	int64_t now = ushm__now();
	pid_t pid = k->pid;

	USHM_ASSERT_LOCKED(ns);
	for (uint32_t r = 0; k->natt && r < ushm__att_hwm(h); r++) {
		struct ushm_att *a = ushm__att(h, r);

		if (a->state == ATT_LIVE && a->task == t)
			ushm__att_unlink_locked(ns, r, pid, now);
		CRASH_POINT("reap.record");
	}
	ushm__wbegin(h);
	k->state = TASK_FREE;
	k->pid = 0;
	k->natt = 0;
	ushm__wend(h);
}

int ushm__reap_all_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	int n = 0;

	USHM_ASSERT_LOCKED(ns);
	for (uint32_t t = 0; t < h->task_hwm && t < USHM_TASKS; t++) {
		if (ushm__task(h, t)->state == TASK_FREE ||
		    ushm__task_alive(ns, t))
			continue;
		ushm__reap_task_locked(ns, t);
		n++;
	}
	if (h->rmid_forced)
		n += ushm__orphans_locked(ns, -1);
	return n;
}

/* The dead that slot IDX depends on: its attachers, and with
 * shm_rmid_forced its creator. */
int ushm__reap_slot_locked(struct ushm_ns *ns, uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, idx);
	uint32_t r, steps = 0;
	int n = 0;

	USHM_ASSERT_LOCKED(ns);
again:
	if (s->state != SLOT_LIVE)
		return n;
	for (r = s->att_head; ushm__att_ref_ok(r) && steps++ < USHM_ATTS;
	     r = ushm__att(h, r - 1)->next) {
		uint32_t t = ushm__att(h, r - 1)->task;

		if (t < USHM_TASKS && !ushm__task_alive(ns, t)) {
			ushm__reap_task_locked(ns, t);
			n++;
			goto again;	/* the list changed */
		}
	}
	/* A dead creator matters now only under shm_rmid_forced; otherwise
	 * orphans are found when shm_rmid_forced is set (limits.c). */
	if (h->rmid_forced)
		n += ushm__orphans_locked(ns, (int32_t)idx);
	return n;
}

/* The dead attachers of every segment this process has pieces of: for
 * an event that sets all their atime or dtime and lpid (fork's copies;
 * the detaches at our exit go through ushm__att_pieces_locked). */
void ushm__reap_mine_locked(struct ushm_ns *ns)
{
	uint64_t seen[USHM_SLOTS / 64] = { 0 };	/* each slot once */

	USHM_ASSERT_LOCKED(ns);
	for (size_t i = 0; i < ushm__p.nlocals; i++) {
		uint32_t idx = ushm__p.locals[i].slot;

		if (idx >= USHM_SLOTS || (seen[idx / 64] >> (idx % 64) & 1))
			continue;
		seen[idx / 64] |= 1ULL << (idx % 64);
		ushm__reap_slot_locked(ns, idx);
	}
}

/* Lock-free, under hdr->gen (the caller validates): whether slot S (a
 * copy of slot IDX) has a dead attacher, or a dead creator that matters. */
bool ushm__slot_needs_reap(struct ushm_ns *ns, const struct ushm_slot *s,
			   uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t r = s->att_head, steps = 0;

	(void)idx;
	while (r && r <= USHM_ATTS && steps++ < 4096) {
		const struct ushm_att *a = ushm__att(h, r - 1);
		uint32_t t = __atomic_load_n(&a->task, __ATOMIC_RELAXED);

		if (t < USHM_TASKS && !ushm__task_alive(ns, t))
			return true;
		r = __atomic_load_n(&a->next, __ATOMIC_RELAXED);
	}
	if (steps >= 4096)
		return true;	/* long list: let the locked path decide */
	if (__atomic_load_n(&h->rmid_forced, __ATOMIC_RELAXED) &&
	    s->creator && !ushm__creator_alive(ns, s))
		return true;
	return false;
}

int ushm_reap(void)
{
	int err = 0, n;
	struct ushm_ns *ns = ushm__ns_locked(&err);

	if (!ns) {
		errno = -err;
		return -1;
	}
	n = ushm__reap_all_locked(ns);
	ushm__unlock(ns);
	return n;
}

/* ---- fork ---- */

/* What prepare did, for the parent and child handlers.  Only the forking
 * thread runs the handlers, and init_lock keeps other forks out. */
static struct {
	bool init_locked;	/* ushm__p.init_lock held across fork */
	bool reg_locked;	/* registry lock held across fork */
} fork_state;

/* The pieces of record REC that a child inherits: all but those marked
 * MADV_DONTFORK (SEMANTICS 6.2). */
static uint32_t inherited_pieces(uint32_t rec)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ushm__p.nlocals; i++)
		if (ushm__p.locals[i].rec == rec &&
		    !ushm__p.locals[i].dontfork)
			n++;
	return n;
}

static void embryo_make_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	int64_t now = ushm__now();
	uint32_t e;
	int fd;

	for (e = 0; e < USHM_TASKS; e++)
		if (ushm__task(h, e)->state == TASK_FREE)
			break;
	if (e == USHM_TASKS)
		return;
	fd = ushm__os_openat(ns->dirfd, "lock", O_RDWR | O_CLOEXEC |
			     O_NOFOLLOW, 0);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
	    ushm__fd_evict_one_locked(ns))
		/* At the descriptor limit: a cached segment descriptor is
		 * worth less than the child's count. */
		fd = ushm__os_openat(ns->dirfd, "lock", O_RDWR | O_CLOEXEC |
				     O_NOFOLLOW, 0);
	if (fd < 0)
		return;
	if (ushm__os_lock_byte(fd, e) < 0) {
		ushm__os_close(fd);
		return;
	}
	{
		struct ushm_task *k = ushm__task(h, e);

		k->gen++;
		k->pid = ushm__p.pid;	/* until the child says who it is */
		k->natt = 0;
		k->since = now;
		k->parent = (uint32_t)ushm__p.task + 1;
		if (e >= h->task_hwm)	/* before the entry is in use */
			h->task_hwm = e + 1;
		k->state = TASK_EMBRYO;
		CRASH_POINT("fork.embryo");
	}
	for (size_t i = 0; i < ushm__p.nlocals; i++) {
		struct ushm_local *l = &ushm__p.locals[i];
		struct ushm_att *pa = ushm__att(h, l->rec);
		struct ushm_slot *s = ushm__slot(h, l->slot);
		uint32_t rec;

		/* One copy per record, shared by its pieces. */
		l->child_rec = ~0u;
		for (size_t j = 0; j < i; j++)
			if (ushm__p.locals[j].rec == l->rec)
				l->child_rec = ushm__p.locals[j].child_rec;
		if (l->child_rec != ~0u)
			continue;
		for (size_t j = 0; j < i; j++)
			if (ushm__p.locals[j].rec == l->rec)
				goto next;	/* its copy failed */
		if (pa->state != ATT_LIVE || s->state != SLOT_LIVE ||
		    s->seq != l->seq || !inherited_pieces(l->rec) ||
		    ushm__att_alloc_locked(ns, &rec))
			continue;
		ushm__att_link_locked(ns, rec, e, l->slot, pa->addr, pa->len,
				      inherited_pieces(l->rec),
				      (int)pa->shmflg);
		ushm__wbegin(h);
		s->atime = now;
		s->lpid = ushm__p.pid;	/* the parent: SEMANTICS 6.1 */
		ushm__wend(h);
		l->child_rec = rec;
next:;
		CRASH_POINT("fork.copied");
	}
	ushm__p.embryo = (int)e;
	ushm__p.embryo_fd = fd;
}

static void fork_prepare(void)
{
	struct ushm_ns *ns;

	pthread_mutex_lock(&ushm__p.init_lock);
	fork_state.init_locked = true;
	fork_state.reg_locked = false;
	ns = ushm__p.ns;
	if (!ns || ushm__p.task < 0 || ushm__p.nlocals == 0)
		return;
	if (ushm__lock(ns) != 0)
		return;
	fork_state.reg_locked = true;
	/* The dead attachers' exits came before this fork's shm_open of
	 * each attachment (which sets atime and lpid to us). */
	ushm__reap_mine_locked(ns);
	embryo_make_locked(ns);
}

/* Take back what was made for a child that does not exist: as if it had
 * never been counted (no dtime, no lpid). */
static void embryo_undo_locked(struct ushm_ns *ns, uint32_t e)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_task *k = ushm__task(h, e);

	for (uint32_t r = 0; k->natt && r < ushm__att_hwm(h); r++) {
		struct ushm_att *a = ushm__att(h, r);

		if (a->state == ATT_LIVE && a->task == e)
			ushm__att_unpin_locked(ns, r);
	}
	ushm__wbegin(h);
	k->state = TASK_FREE;
	k->pid = 0;
	ushm__wend(h);
}

static void fork_parent(void)
{
	struct ushm_ns *ns = ushm__p.ns;

	if (fork_state.reg_locked) {
		int e = ushm__p.embryo;

		if (e >= 0) {
			ushm__os_close(ushm__p.embryo_fd);
			if (ushm__os_byte_locked(ns->lockfd, (off_t)e) == 0)
				embryo_undo_locked(ns, (uint32_t)e);
		}
		ushm__unlock(ns);
	}
	ushm__p.embryo = -1;
	ushm__p.embryo_fd = -1;
	fork_state.reg_locked = false;
	if (fork_state.init_locked) {
		fork_state.init_locked = false;
		pthread_mutex_unlock(&ushm__p.init_lock);
	}
}

static void fork_child(void)
{
	struct ushm_ns *ns = ushm__p.ns;
	int e = ushm__p.embryo;
	size_t n = 0;

	/* The parent's thread owned these: start afresh. */
	pthread_mutex_init(&ushm__p.init_lock, NULL);
	ushm__lock_forget();
	fork_state.init_locked = false;
	fork_state.reg_locked = false;
	ushm__p.pid = getpid();
	ushm__p.task = -1;
	ushm__p.embryo = -1;
	ushm__thread_fork_child();
	ushm__fd_fork_child();
	if (!ns)
		return;
	/* Our copy of the parent's lock descriptor shares its open file
	 * description: through it the parent's byte would look unlocked to
	 * us, and while we keep it the parent would look alive after its
	 * death.  Use a description of our own: the embryo's, or a new one. */
	ushm__os_close(ns->lockfd);
	if (e >= 0) {
		ns->lockfd = ushm__p.embryo_fd;
	} else {
		ns->lockfd = ushm__os_openat(ns->dirfd, "lock", O_RDWR |
					     O_CLOEXEC | O_NOFOLLOW, 0);
	}
	ushm__p.embryo_fd = -1;
	if (e < 0 || ushm__lock(ns) != 0) {
		/* No copies were made: our inherited mappings stay, but
		 * uncounted, as if the registry had been full. */
		ushm__p.nlocals = 0;
		return;
	}
	{
		struct ushm_task *k = ushm__task(ns->hdr, (uint32_t)e);

		ushm__wbegin(ns->hdr);
		k->pid = ushm__p.pid;
		k->state = TASK_LIVE;
		ushm__wend(ns->hdr);
		live_take(k);
		CRASH_POINT("fork.adopted");
		ushm__p.task = e;
		ushm__p.task_gen = k->gen;
	}
	for (size_t i = 0; i < ushm__p.nlocals; i++) {
		struct ushm_local l = ushm__p.locals[i];

		if (l.child_rec == ~0u || l.dontfork)
			continue;	/* not mapped in the child */
		l.rec = l.child_rec;
		l.child_rec = ~0u;
		ushm__p.locals[n++] = l;
	}
	ushm__p.nlocals = n;
	ushm__unlock(ns);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void ushm__task_fork_init(void)
{
	pthread_once(&fork_once, fork_register);
}
