/*
 * sem.c - System V semaphore sets (~ipc/sem.c): semget and semctl, and
 * the removal of a set.  semop is semop.c, undo records semundo.c, the
 * file and its locks semfile.c.
 *
 * Locking: semget, IPC_SET and IPC_RMID take the table lock, then the
 * set's lock (creation and removal change the table); every other command
 * takes only the set's lock.  Every answer about a set is given after the
 * dead tasks' adjustments on it were applied and their waiters dropped
 * (ushm__sem_obtain), which is how an exit's undo becomes visible.
 * GETVAL and IPC_STAT are answered under the set's lock in this first cut
 * (not lock-free: that needs the dead-task check without the lock).
 */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "seminternal.h"
#include "ushm.h"

/* ---- lookup ---- */

int ushm__sem_obtain(struct ushm_semns *sn, int id, uint32_t *idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct ushm_wakeq q = { 0 };
	uint32_t i;
	int r;

	if (id < 0)
		return -EINVAL;
	i = ushm__id_idx(id);
	s = ushm__semset(h, i);
	if (__atomic_load_n(&s->perm.state, __ATOMIC_ACQUIRE) != IPC_OBJ_LIVE)
		return -EINVAL;
	if ((r = ushm__sem_set_lock(sn, i)) != 0)
		return r;
	if (s->perm.state != IPC_OBJ_LIVE || s->perm.seq != ushm__id_seq(id)) {
		ushm__sem_set_unlock(sn, i);
		return -EINVAL;
	}
	if (!ushm__sem_set_sane(s)) {
		ushm__sem_set_unlock(sn, i);
		ushm__seterr("semaphore set %u of %s is damaged", i,
			     sn->ns->path);
		return -EUCLEAN;
	}
	ushm__sem_reap_waiters_locked(sn, i);
	if (ushm__undo_reap_set_locked(sn, i, &q))
		ushm__sem_update_locked(sn, i, NULL, 0, &q);
	ushm__wakeq_run(sn, &q);	/* under the lock: rare */
	*idx = i;
	return 0;
}

/*
 * The lock-free readers (GETVAL, IPC_STAT): what they read of set IDX is
 * taken between two reads of its counter (set.vgen) that agree and are
 * even.  A set with an undo record whose task may be dead is left to the
 * locked path, which applies it first; so are long undo lists.  Returns
 * 1 when READ answered (into *R), 0 for the locked path.
 */
#define FAST_UNDO_MAX	8

static bool undo_all_alive(struct ushm_semns *sn, const struct ushm_semset *s)
{
	uint32_t u = __atomic_load_n(&s->undo_head, __ATOMIC_RELAXED);

	for (int n = 0; u; n++) {
		const struct ushm_semundo *r;

		if (n >= FAST_UNDO_MAX || u > USHM_SEM_UNDOS)
			return false;
		r = ushm__semundo(sn->h, u - 1);
		if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) == SU_LIVE &&
		    !ushm__sem_task_alive(sn, __atomic_load_n(&r->task,
							      __ATOMIC_RELAXED),
					  __atomic_load_n(&r->task_gen,
							  __ATOMIC_RELAXED)))
			return false;
		u = __atomic_load_n(&r->next, __ATOMIC_RELAXED);
	}
	return true;
}

static int lockfree(struct ushm_semns *sn, int id,
		    int (*read)(struct ushm_semns *sn, struct ushm_semset *s,
				const struct ushm_perm *p, void *arg),
		    void *arg, int *r)
{
	struct ushm_semset *s = ushm__semset(sn->h, ushm__id_idx(id));
	struct ushm_perm p;

	for (int attempt = 0; attempt < 3; attempt++) {
		uint32_t g = __atomic_load_n(&s->vgen, __ATOMIC_ACQUIRE);
		int v;

		if (g & 1)
			continue;
		ushm__rcopy(&p, &s->perm, sizeof(p));
		if (p.state != IPC_OBJ_LIVE || p.seq != ushm__id_seq(id)) {
			v = -EINVAL;
		} else {
			uint32_t nsems = __atomic_load_n(&s->nsems,
							 __ATOMIC_RELAXED);
			struct ushm_semset copy;

			copy.nsems = nsems;
			copy.sems_off = __atomic_load_n(&s->sems_off,
							__ATOMIC_RELAXED);
			copy.jrn_off = __atomic_load_n(&s->jrn_off,
						       __ATOMIC_RELAXED);
			if (!ushm__sem_set_sane(&copy) ||
			    !undo_all_alive(sn, s))
				return 0;
			v = read(sn, s, &p, arg);
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->vgen, __ATOMIC_RELAXED) == g) {
			*r = v;
			return 1;
		}
	}
	return 0;
}

/* ---- semget ---- */

static bool set_free(void *ctx, uint32_t i)
{
	struct ushm_semns *sn = ctx;

	return ushm__semset(sn->h, i)->perm.state == IPC_OBJ_FREE;
}

/* newary(), with the checks in the kernel's order (S-SEM 2.6). */
static int newary_locked(struct ushm_semns *sn, key_t key, int nsems,
			 int semflg)
{
	struct ushm_semhdr *h = sn->h;
	const struct ushm_cred *c;
	struct ushm_ids_alloc a;
	struct ushm_semset *s;
	uint32_t idx, seq, off, units;
	int r;

	if (nsems == 0)
		return -EINVAL;
	if (h->used_sems + nsems > h->semmns)
		return -ENOSPC;
	/* sem_alloc: the semaphores and the journal, one entry each.  A
	 * pool that cannot hold them is ENOSPC, the errno of too many
	 * semaphores (the pool's capacity: docs/SEMAPHORES.md). */
	units = 2 * (uint32_t)nsems;
	if ((r = ushm__pool_alloc_locked(sn, units, &off)) != 0)
		return r;
	/* ipc_addid */
	if (h->ids.in_use >= (uint32_t)(h->semmni < 0 ? 0 : h->semmni) ||
	    h->ids.in_use >= USHM_SEM_SETS) {
		ushm__pool_free_locked(sn, off, units);
		return -ENOSPC;
	}
	if ((r = ushm__ipc_idr_alloc(&h->ids, USHM_SEM_SETS, set_free, sn,
				     &idx, &seq, &a)) != 0) {
		ushm__pool_free_locked(sn, off, units);
		return r;
	}
	c = ushm__cred();
	s = ushm__semset(h, idx);
	/* Invisible while CREATING: no lookup by id or key sees it. */
	ushm__sem_wbegin(h);
	ushm__set_wbegin(s);
	s->perm.seq = seq;
	s->perm.key = (int32_t)key;
	s->perm.orig_key = (int32_t)key;
	s->perm.uid = s->perm.cuid = c->euid;
	s->perm.gid = s->perm.cgid = c->fsgid;
	s->perm.mode = (uint32_t)semflg & 0777;
	s->perm.ctime = ushm__now();
	s->nsems = (uint32_t)nsems;
	s->sems_off = off;
	s->jrn_off = off + (uint32_t)nsems;
	s->units = units;
	s->q_head = s->q_tail = s->undo_head = 0;
	s->arrivals = 0;
	s->jstate = JRN_NONE;
	s->jcount = s->jundo = s->jwaiter = 0;
	memset(ushm__pool(h, off), 0, (size_t)units * 16);
	s->perm.state = IPC_OBJ_CREATING;
	ushm__set_wend(s);
	ushm__sem_wend(h);
	CRASH_POINT("sem.create.creating");

	/* Commit: the allocator state to the journal, LIVE in one store,
	 * then what derives from it (recovery recomputes that). */
	ushm__sem_wbegin(h);
	h->intent.alloc = a;
	h->intent.slot = idx;
	h->intent.op = INTENT_CREATE;
	ushm__set_wbegin(s);
	__atomic_store_n(&s->perm.state, IPC_OBJ_LIVE, __ATOMIC_RELEASE);
	ushm__set_wend(s);
	CRASH_POINT("sem.create.live");
	if (key != IPC_PRIVATE)
		ushm__ipc_key_insert(ushm__semkeys(h), &h->ids.keyidx_tombs, (int32_t)key,
				     idx);
	h->ids.in_use++;
	h->used_sems += nsems;
	if ((int32_t)idx > h->ids.max_idx)
		h->ids.max_idx = (int32_t)idx;
	h->ids.a = a;
	memset(&h->intent, 0, sizeof(h->intent));
	ushm__sem_wend(h);
	return ushm__id(idx, seq);
}

int ushm_semget(key_t key, int nsems, int semflg)
{
	struct ushm_semns *sn;
	struct ushm_semhdr *h;
	int r;

	if ((r = ushm__semns(&sn)) != 0)
		return errno = -r, -1;
	h = sn->h;
	/* S-SEM 2.1: before the key lookup. */
	if (nsems < 0 ||
	    nsems > __atomic_load_n(&h->semmsl, __ATOMIC_RELAXED))
		return errno = EINVAL, -1;
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return errno = -r, -1;
	if (key != IPC_PRIVATE) {
		int32_t i = ushm__ipc_key_find(ushm__semkeys(h), key);
		struct ushm_semset *s = i >= 0 ? ushm__semset(h, (uint32_t)i)
					       : NULL;

		if (s && (s->perm.state != IPC_OBJ_LIVE ||
			  s->perm.key != key)) {
			/* The index disagrees with the sets: rebuild it. */
			ushm__sem_wbegin(h);
			ushm__sem_recount_locked(sn);
			ushm__sem_wend(h);
			i = ushm__ipc_key_find(ushm__semkeys(h), key);
			s = i >= 0 ? ushm__semset(h, (uint32_t)i) : NULL;
		}
		if (s) {
			/* ipcget_public, sem_more_checks (S-SEM 2.4). */
			if ((semflg & IPC_CREAT) && (semflg & IPC_EXCL))
				r = -EEXIST;
			else if ((uint32_t)nsems > s->nsems)
				r = -EINVAL;
			else if ((r = ushm__ipc_perms(&s->perm, semflg)) == 0)
				r = ushm__id((uint32_t)i, s->perm.seq);
			goto out;
		}
		if (!(semflg & IPC_CREAT)) {
			r = -ENOENT;
			goto out;
		}
	}
	r = newary_locked(sn, key, nsems, semflg);
out:
	ushm__sem_table_unlock(sn);
	return r < 0 ? (errno = -r, -1) : r;
}

/* ---- removal ---- */

void ushm__sem_destroy_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	struct ushm_wakeq q = { 0 };

	/* One store takes it out of every lookup; recovery finishes what
	 * DESTROYING started. */
	ushm__sem_wbegin(h);
	ushm__set_wbegin(s);
	__atomic_store_n(&s->perm.state, IPC_OBJ_DESTROYING,
			 __ATOMIC_RELEASE);
	ushm__set_wend(s);
	ushm__sem_wend(h);
	CRASH_POINT("sem.rmid.destroying");
	ushm__sem_wake_all_locked(sn, idx, -EIDRM, &q);
	ushm__undo_free_set_locked(sn, idx);
	ushm__sem_wbegin(h);
	if (s->perm.key)
		ushm__ipc_key_remove(ushm__semkeys(h), &h->ids.keyidx_tombs, s->perm.key,
				     idx);
	h->ids.in_use--;
	h->used_sems -= s->nsems;
	ushm__pool_free_locked(sn, s->sems_off, s->units);
	ushm__set_wbegin(s);
	s->perm.key = 0;
	__atomic_store_n(&s->perm.state, IPC_OBJ_FREE, __ATOMIC_RELEASE);
	ushm__set_wend(s);
	if ((int32_t)idx == h->ids.max_idx) {
		int32_t m = (int32_t)idx;

		while (m >= 0 &&
		       ushm__semset(h, (uint32_t)m)->perm.state ==
		       IPC_OBJ_FREE)
			m--;
		h->ids.max_idx = m;
	}
	if (h->ids.keyidx_tombs > USHM_KEYIDX / 4)
		ushm__sem_recount_locked(sn);
	ushm__sem_wend(h);
	ushm__sem_set_unlock(sn, idx);
	ushm__wakeq_run(sn, &q);
}

/* ---- semctl ---- */

static int64_t set_otime(struct ushm_semhdr *h, const struct ushm_semset *s)
{
	const struct ushm_sem *sem = ushm__sems(h, s);
	int64_t t = 0;

	for (uint32_t i = 0; i < s->nsems; i++)
		if (sem[i].otime > t)
			t = sem[i].otime;
	return t;
}

static void fill_ds(struct ushm_semhdr *h, const struct ushm_semset *s,
		    uint32_t idx, struct semid_ds *ds)
{
	memset(ds, 0, sizeof(*ds));
	ds->sem_perm.__key = s->perm.key;
	ds->sem_perm.uid = s->perm.uid;
	ds->sem_perm.gid = s->perm.gid;
	ds->sem_perm.cuid = s->perm.cuid;
	ds->sem_perm.cgid = s->perm.cgid;
	ds->sem_perm.mode = (unsigned short)(s->perm.mode & 0777);
	ds->sem_perm.__seq = (unsigned short)s->perm.seq;
	ds->sem_otime = set_otime(h, s);
	ds->sem_ctime = s->perm.ctime;
	ds->sem_nsems = s->nsems;
	(void)idx;
}

static int ctl_info(struct ushm_semns *sn, int cmd, struct seminfo *out)
{
	struct ushm_semhdr *h = sn->h;
	struct seminfo si;
	int r, max;

	memset(&si, 0, sizeof(si));
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return r;
	si.semmni = h->semmni;
	si.semmns = h->semmns;
	si.semmsl = h->semmsl;
	si.semopm = h->semopm;
	si.semvmx = USHM_SEMVMX;
	si.semmnu = USHM_SEMMNU;
	si.semmap = USHM_SEMMAP;
	si.semume = USHM_SEMUME;
	if (cmd == SEM_INFO) {
		si.semusz = (int)h->ids.in_use;
		si.semaem = (int)h->used_sems;
	} else {
		si.semusz = USHM_SEMUSZ;
		si.semaem = USHM_SEMAEM;
	}
	max = h->ids.max_idx < 0 ? 0 : h->ids.max_idx;
	ushm__sem_table_unlock(sn);
	if (ushm__os_copy_out(out, &si, sizeof(si)) != 0)
		return -EFAULT;
	return max;
}

static int stat_read(struct ushm_semns *sn, struct ushm_semset *s,
		     const struct ushm_perm *p, void *arg)
{
	struct semid_ds *ds = arg;
	struct ushm_semset copy;
	int r;

	if ((r = ushm__ipc_perms(p, 0444)) != 0)
		return r;
	/* fill_ds over a copy: the perm read once, the otimes as they are
	 * (the counter says whether they all belong together). */
	copy.perm = *p;
	copy.nsems = __atomic_load_n(&s->nsems, __ATOMIC_RELAXED);
	copy.sems_off = __atomic_load_n(&s->sems_off, __ATOMIC_RELAXED);
	memset(ds, 0, sizeof(*ds));
	ds->sem_perm.__key = copy.perm.key;
	ds->sem_perm.uid = copy.perm.uid;
	ds->sem_perm.gid = copy.perm.gid;
	ds->sem_perm.cuid = copy.perm.cuid;
	ds->sem_perm.cgid = copy.perm.cgid;
	ds->sem_perm.mode = (unsigned short)(copy.perm.mode & 0777);
	ds->sem_perm.__seq = (unsigned short)copy.perm.seq;
	{
		const struct ushm_sem *sem = ushm__sems(sn->h, &copy);
		int64_t t = 0;

		for (uint32_t i = 0; i < copy.nsems; i++) {
			int64_t o = __atomic_load_n(&sem[i].otime,
						    __ATOMIC_RELAXED);

			if (o > t)
				t = o;
		}
		ds->sem_otime = t;
	}
	ds->sem_ctime = copy.perm.ctime;
	ds->sem_nsems = copy.nsems;
	return 0;
}

static int ctl_stat(struct ushm_semns *sn, int semid, int cmd,
		    struct semid_ds *out)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct semid_ds ds;
	uint32_t idx;
	int r, id;

	if (cmd == IPC_STAT) {
		if (lockfree(sn, semid, stat_read, &ds, &r)) {
			if (r)
				return r;
			if (ushm__os_copy_out(out, &ds, sizeof(ds)) != 0)
				return -EFAULT;
			return 0;
		}
		if ((r = ushm__sem_obtain(sn, semid, &idx)) != 0)
			return r;
		s = ushm__semset(h, idx);
	} else {
		/* SEM_STAT(_ANY): an index, no seq check (S-SEM 8.5). */
		idx = ushm__id_idx(semid);
		s = ushm__semset(h, idx);
		if (s->perm.state != IPC_OBJ_LIVE)
			return -EINVAL;
		if ((r = ushm__sem_obtain(sn, ushm__id(idx, s->perm.seq),
					  &idx)) != 0)
			return r;
	}
	if (cmd != SEM_STAT_ANY && (r = ushm__ipc_perms(&s->perm, 0444))) {
		ushm__sem_set_unlock(sn, idx);
		return r;
	}
	fill_ds(h, s, idx, &ds);
	id = ushm__id(idx, s->perm.seq);
	ushm__sem_set_unlock(sn, idx);
	if (ushm__os_copy_out(out, &ds, sizeof(ds)) != 0)
		return -EFAULT;
	return cmd == IPC_STAT ? 0 : id;
}

/* count_semcnt: the sleepers whose blocking sop is on NUM (S-SEM 5.8). */
static int count_semcnt(struct ushm_semns *sn, struct ushm_semset *s,
			uint32_t num, bool zero)
{
	struct ushm_semhdr *h = sn->h;
	uint32_t w = s->q_head, steps = 0;
	int n = 0;

	while (w && w <= USHM_SEM_WAITERS && steps++ < USHM_SEM_WAITERS) {
		struct ushm_semwait *q = ushm__semwait(h, w - 1);

		if (q->blocking < q->nsops &&
		    q->blocking < USHM_SEM_WAIT_SOPS) {
			const struct sembuf *op = &q->sops[q->blocking];

			if (op->sem_num == num &&
			    (zero ? op->sem_op == 0 : op->sem_op < 0))
				n++;
		}
		w = q->next;
	}
	return n;
}

struct getval_arg {
	int semnum;
};

static int getval_read(struct ushm_semns *sn, struct ushm_semset *s,
		       const struct ushm_perm *p, void *arg)
{
	int semnum = ((struct getval_arg *)arg)->semnum;
	int r;

	if ((r = ushm__ipc_perms(p, 0444)) != 0)
		return r;
	if (semnum < 0 || (uint32_t)semnum >= s->nsems)
		return -EINVAL;
	return __atomic_load_n(&ushm__sems(sn->h, s)[semnum].semval,
			       __ATOMIC_RELAXED);
}

static int ctl_get(struct ushm_semns *sn, int semid, int semnum, int cmd,
		   unsigned short *array)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct ushm_sem *sem;
	uint32_t idx;
	int r;

	if (cmd == GETVAL) {
		struct getval_arg a = { semnum };

		if (lockfree(sn, semid, getval_read, &a, &r))
			return r;
	}
	if ((r = ushm__sem_obtain(sn, semid, &idx)) != 0)
		return r;
	s = ushm__semset(h, idx);
	sem = ushm__sems(h, s);
	if ((r = ushm__ipc_perms(&s->perm, 0444)) != 0)
		goto out;
	if (cmd == GETALL) {
		unsigned short buf[256];

		/* Copied out piecewise: the kernel's copy is all or
		 * nothing only for a buffer that is wholly bad. */
		for (uint32_t i = 0; i < s->nsems && !r; i += 256) {
			uint32_t n = s->nsems - i < 256 ? s->nsems - i : 256;

			for (uint32_t j = 0; j < n; j++)
				buf[j] = (unsigned short)sem[i + j].semval;
			if (ushm__os_copy_out(array + i, buf, n * 2) != 0)
				r = -EFAULT;
		}
		goto out;
	}
	if (semnum < 0 || (uint32_t)semnum >= s->nsems) {
		r = -EINVAL;
		goto out;
	}
	switch (cmd) {
	case GETVAL:
		r = sem[semnum].semval;
		break;
	case GETPID:
		r = ushm__sem_pid_vnr(sem[semnum].sempid);
		break;
	case GETNCNT:
		ushm__sem_reap_stopped_locked(sn, idx);
		r = count_semcnt(sn, s, (uint32_t)semnum, false);
		break;
	case GETZCNT:
		ushm__sem_reap_stopped_locked(sn, idx);
		r = count_semcnt(sn, s, (uint32_t)semnum, true);
		break;
	}
out:
	ushm__sem_set_unlock(sn, idx);
	return r;
}

/*
 * SETVAL and SETALL, once the caller has written the new values into set
 * IDX's journal (N entries, state WRITING): the journal makes values and
 * sempids one change; the adjustments of SEMNUM (-1: all of the set) are
 * cleared in every process (idempotent and redone by nobody: a crash
 * between leaves some cleared, which a later SETVAL would also do); then
 * ctime, and the sleepers retried into Q.
 */
static void set_values_commit_locked(struct ushm_semns *sn, uint32_t idx,
				     uint32_t n, int semnum,
				     struct ushm_wakeq *q)
{
	struct ushm_semset *s = ushm__semset(sn->h, idx);

	s->jcount = n;
	s->jundo = s->jwaiter = 0;
	s->jotime = 0;
	__atomic_store_n(&s->jstate, JRN_COMPLETE, __ATOMIC_RELEASE);
	ushm__sem_journal_recover_locked(sn, idx);
	ushm__undo_clear_locked(sn, idx, semnum);
	ushm__set_wbegin(s);
	s->perm.ctime = ushm__now();
	ushm__set_wend(s);
	ushm__sem_update_locked(sn, idx, NULL, 0, q);
}

static int ctl_setval(struct ushm_semns *sn, int semid, int semnum, int val)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct ushm_semjrn *j;
	struct ushm_wakeq q = { 0 };
	uint32_t idx;
	int r;

	if (val < 0 || val > USHM_SEMVMX)
		return -ERANGE;
	if ((r = ushm__sem_obtain(sn, semid, &idx)) != 0)
		return r;
	s = ushm__semset(h, idx);
	if (semnum < 0 || (uint32_t)semnum >= s->nsems) {
		r = -EINVAL;
		goto out;
	}
	if ((r = ushm__ipc_perms(&s->perm, 0222)) != 0)
		goto out;
	j = ushm__jrn(h, s);
	s->jstate = JRN_WRITING;
	j[0] = (struct ushm_semjrn){ (uint32_t)semnum, val, ushm__sem_pid(), 0,
				     0 };
	set_values_commit_locked(sn, idx, 1, semnum, &q);
out:
	ushm__sem_set_unlock(sn, idx);
	ushm__wakeq_run(sn, &q);
	return r;
}

static int ctl_setall(struct ushm_semns *sn, int semid,
		      const unsigned short *array)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct ushm_semjrn *j;
	struct ushm_wakeq q = { 0 };
	unsigned short *vals = NULL;
	uint32_t idx;
	int32_t pid;
	int r;

	if ((r = ushm__sem_obtain(sn, semid, &idx)) != 0)
		return r;
	s = ushm__semset(h, idx);
	if ((r = ushm__ipc_perms(&s->perm, 0222)) != 0)
		goto out;
	if (!(vals = malloc((size_t)s->nsems * 2))) {
		r = -ENOMEM;
		goto out;
	}
	if (ushm__os_copy_in(vals, array, (size_t)s->nsems * 2) != 0) {
		r = -EFAULT;
		goto out;
	}
	for (uint32_t i = 0; i < s->nsems; i++)
		if (vals[i] > USHM_SEMVMX) {
			r = -ERANGE;
			goto out;
		}
	j = ushm__jrn(h, s);
	pid = ushm__sem_pid();
	s->jstate = JRN_WRITING;
	for (uint32_t i = 0; i < s->nsems; i++)
		j[i] = (struct ushm_semjrn){ i, vals[i], pid, 0, 0 };
	set_values_commit_locked(sn, idx, s->nsems, -1, &q);
out:
	ushm__sem_set_unlock(sn, idx);
	ushm__wakeq_run(sn, &q);
	free(vals);
	return r;
}

/* IPC_SET and IPC_RMID: semctl_down (S-SEM 8.14-8.15). */
static int ctl_down(struct ushm_semns *sn, int semid, int cmd,
		    const struct semid_ds *buf)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s;
	struct semid_ds ds;
	uint32_t idx;
	int r;

	if (cmd == IPC_SET && ushm__os_copy_in(&ds, buf, sizeof(ds)) != 0)
		return -EFAULT;
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return r;
	if ((r = ushm__sem_obtain(sn, semid, &idx)) != 0)
		goto out;
	s = ushm__semset(h, idx);
	if (!ushm__ipc_owner_or_creator(&s->perm) &&
	    !ushm__capable(CAP_SYS_ADMIN)) {
		r = -EPERM;
		goto out_set;
	}
	if (cmd == IPC_RMID) {
		ushm__sem_destroy_locked(sn, idx);	/* unlocks the set */
		goto out;
	}
	if (ds.sem_perm.uid == (uid_t)-1 || ds.sem_perm.gid == (gid_t)-1) {
		r = -EINVAL;
		goto out_set;
	}
	ushm__sem_wbegin(h);
	ushm__set_wbegin(s);
	s->perm.uid = ds.sem_perm.uid;
	s->perm.gid = ds.sem_perm.gid;
	s->perm.mode = (s->perm.mode & ~0777u) | (ds.sem_perm.mode & 0777);
	s->perm.ctime = ushm__now();
	ushm__set_wend(s);
	ushm__sem_wend(h);
out_set:
	ushm__sem_set_unlock(sn, idx);
out:
	ushm__sem_table_unlock(sn);
	return r;
}

union ushm_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

int ushm_semctl(int semid, int semnum, int cmd, ...)
{
	union ushm_semun arg = { 0 };
	struct ushm_semns *sn;
	va_list ap;
	int r;

	/* glibc reads the fourth argument for these commands only. */
	switch (cmd) {
	case SETVAL: case GETALL: case SETALL: case IPC_STAT: case IPC_SET:
	case SEM_STAT: case SEM_STAT_ANY: case IPC_INFO: case SEM_INFO:
		va_start(ap, cmd);
		arg = va_arg(ap, union ushm_semun);
		va_end(ap);
		break;
	}
	if (semid < 0)
		return errno = EINVAL, -1;
	switch (cmd) {
	case IPC_RMID: case IPC_SET: case IPC_STAT: case IPC_INFO:
	case GETPID: case GETVAL: case GETALL: case GETNCNT: case GETZCNT:
	case SETVAL: case SETALL: case SEM_STAT: case SEM_INFO:
	case SEM_STAT_ANY:
		break;
	default:
		return errno = EINVAL, -1;
	}
	if (cmd == SETVAL && (arg.val < 0 || arg.val > USHM_SEMVMX))
		return errno = ERANGE, -1;	/* S-SEM 8.10: before the id */
	if ((r = ushm__semns(&sn)) != 0)
		return errno = -r, -1;
	switch (cmd) {
	case IPC_INFO:
	case SEM_INFO:
		r = ctl_info(sn, cmd, arg.__buf);
		break;
	case IPC_STAT:
	case SEM_STAT:
	case SEM_STAT_ANY:
		r = ctl_stat(sn, semid, cmd, arg.buf);
		break;
	case GETVAL:
	case GETPID:
	case GETNCNT:
	case GETZCNT:
	case GETALL:
		r = ctl_get(sn, semid, semnum, cmd, arg.array);
		break;
	case SETVAL:
		r = ctl_setval(sn, semid, semnum, arg.val);
		break;
	case SETALL:
		r = ctl_setall(sn, semid, arg.array);
		break;
	default:
		r = ctl_down(sn, semid, cmd, arg.buf);
		break;
	}
	return r < 0 ? (errno = -r, -1) : r;
}
