/*
 * semundo.c - SEM_UNDO (~struct sem_undo, exit_sem): one record per
 * (task, set) with the task's adjustments for the set's semaphores.
 *
 * A record names its task by index and generation in the shm registry's
 * task table, so a task that ended (exit, _exit, a fatal signal, exec) is
 * recognised whatever reuses its entry; and it has a byte of the lock
 * file that its process holds, also across exec (semexec.c).  A record
 * whose task ended and whose byte is free is dead (S-SEM 7.3-7.4).  Its
 * records are applied by whoever takes the set's
 * lock next (ushm__sem_obtain, and sleepers on the set every
 * WAIT_SLICE): clamped to 0..SEMVMX, sempid the dead pid where the
 * adjustment is not 0, otime now, then the sleepers are retried (S-SEM
 * 7.6-7.7).  A forked child is a task of its own and starts with none
 * (7.2); threads share their process's task and so its records (7.1).
 *
 * Locks: a record is allocated (and its adjustments' pool units) with
 * the table lock and the set's lock held, and linked into the set's
 * list; its adjustments are the set lock's.  An applied record is marked
 * APPLIED under the set's lock alone and freed by the next holder of
 * both locks for that set.  The application goes through the set's
 * journal (the new values and the record's adjustments set to 0), so a
 * crash can neither lose it nor apply it twice.
 */
#include <errno.h>
#include <string.h>

#include "seminternal.h"

static uint32_t my_record(struct ushm_semns *sn, struct ushm_semset *s)
{
	struct ushm_semhdr *h = sn->h;
	uint32_t u = s->undo_head, steps = 0;

	while (u && u <= USHM_SEM_UNDOS && steps++ < USHM_SEM_UNDOS) {
		struct ushm_semundo *r = ushm__semundo(h, u - 1);

		if (r->state == SU_LIVE && (int32_t)r->task == ushm__p.task &&
		    r->task_gen == ushm__p.task_gen)
			return u;
		u = r->next;
	}
	return 0;
}

/* Free the APPLIED records of set IDX (both locks held). */
static void sweep_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t *link = &s->undo_head, steps = 0;

	while (*link && *link <= USHM_SEM_UNDOS && steps++ < USHM_SEM_UNDOS) {
		struct ushm_semundo *r = ushm__semundo(h, *link - 1);

		if (r->state == SU_APPLIED) {
			ushm__set_wbegin(s);
			*link = r->next;
			ushm__set_wend(s);
			ushm__pool_free_locked(sn, r->adj_off,
					       ushm__adj_units(s->nsems));
			memset(r, 0, sizeof(*r));
			continue;
		}
		link = &r->next;
	}
}

/* The caller's record for set IDX + 1, or 0 (set lock held). */
uint32_t ushm__undo_find_locked(struct ushm_semns *sn, uint32_t idx)
{
	return my_record(sn, ushm__semset(sn->h, idx));
}

/* The caller's record for set IDX, made if there is none: the table
 * lock and the set's lock held.  0 with *OUT (record + 1), or -ENOMEM. */
int ushm__undo_make_locked(struct ushm_semns *sn, uint32_t idx,
			    uint32_t *out)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	struct ushm_semundo *r = NULL;
	uint32_t u, off;
	int e;

	if ((*out = my_record(sn, s)) != 0)
		return 0;
	sweep_locked(sn, idx);
	for (uint32_t k = 0; k < USHM_SEM_UNDOS; k++) {
		u = (h->undo_hint + k) % USHM_SEM_UNDOS;
		if (ushm__semundo(h, u)->state != SU_FREE)
			continue;
		/* Its byte: held still by a program another process exec'd
		 * after the record was discarded (IPC_RMID): another one.
		 * Without a byte (no descriptor left) the record works, but
		 * lives only as long as the task, exec not included. */
		if (ushm__undo_byte_take(sn, u) == -EAGAIN)
			continue;
		r = ushm__semundo(h, u);
		break;
	}
	if (!r)
		return -ENOMEM;
	e = ushm__pool_alloc_locked(sn, ushm__adj_units(s->nsems), &off);
	if (e)
		return -ENOMEM;
	memset(ushm__pool(h, off), 0, (size_t)ushm__adj_units(s->nsems) * 16);
	r->task = (uint32_t)ushm__p.task;
	r->task_gen = ushm__p.task_gen;
	r->pid = ushm__sem_pid();
	r->set = idx;
	r->seq = s->perm.seq;
	r->adj_off = off;
	ushm__set_wbegin(s);
	r->next = s->undo_head;
	r->state = SU_LIVE;
	s->undo_head = u + 1;
	ushm__set_wend(s);
	h->undo_hint = u + 1;
	*out = u + 1;
	return 0;
}

/* exit_sem for record U of set IDX (its lock held): each adjustment
 * added, clamped to 0..SEMVMX, sempid the record's pid where it is not
 * 0, otime now (S-SEM 7.6-7.7), through the journal; then APPLIED. */
static void apply_record(struct ushm_semns *sn, uint32_t idx, uint32_t u)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	struct ushm_sem *sem = ushm__sems(h, s);
	struct ushm_semundo *r = ushm__semundo(h, u - 1);
	struct ushm_semjrn *j = ushm__jrn(h, s);
	int16_t *adj = ushm__undo_adj(h, r);
	uint32_t n = 0;

	s->jstate = JRN_WRITING;
	for (uint32_t i = 0; i < s->nsems; i++) {
		int v;

		if (!adj[i])
			continue;
		v = sem[i].semval + adj[i];
		if (v < 0)
			v = 0;
		if (v > USHM_SEMVMX)
			v = USHM_SEMVMX;
		j[n++] = (struct ushm_semjrn){ i, v, r->pid, 0, JRN_ADJ };
	}
	s->jcount = n;
	s->jundo = u;
	s->jwaiter = 0;
	s->jotime_num = 0;
	s->jotime = ushm__now();
	__atomic_store_n(&s->jstate, JRN_COMPLETE, __ATOMIC_RELEASE);
	CRASH_POINT("sem.undo.journal");
	ushm__sem_journal_recover_locked(sn, idx);
	ushm__set_wbegin(s);
	r->state = SU_APPLIED;
	ushm__set_wend(s);
}

static bool record_usable(const struct ushm_semundo *r,
			  const struct ushm_semset *s)
{
	return r->state == SU_LIVE &&
	       (uint64_t)r->adj_off + ushm__adj_units(s->nsems) <=
	       USHM_POOL_UNITS;
}

bool ushm__undo_reap_set_locked(struct ushm_semns *sn, uint32_t idx,
				struct ushm_wakeq *q)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t u = s->undo_head, steps = 0;
	bool any = false;

	(void)q;
	while (u && u <= USHM_SEM_UNDOS && steps++ < USHM_SEM_UNDOS) {
		struct ushm_semundo *r = ushm__semundo(h, u - 1);

		if (record_usable(r, s) &&
		    !ushm__sem_task_alive(sn, r->task, r->task_gen) &&
		    !ushm__undo_byte_held(sn, u - 1)) {
			apply_record(sn, idx, u);
			any = true;
		}
		u = r->next;
	}
	return any;
}

void ushm__undo_detach_all(void)
{
	struct ushm_semns *sn = ushm__semns_if_open();
	struct ushm_semhdr *h;

	if (!sn || ushm__p.task < 0)
		return;
	h = sn->h;
	for (uint32_t u = 0; u < USHM_SEM_UNDOS; u++) {
		struct ushm_semundo *r = ushm__semundo(h, u);
		struct ushm_wakeq q = { 0 };
		uint32_t idx = r->set;
		struct ushm_semset *s;

		if (r->state != SU_LIVE || (int32_t)r->task != ushm__p.task ||
		    r->task_gen != ushm__p.task_gen || idx >= USHM_SEM_SETS)
			continue;
		if (ushm__sem_set_lock(sn, idx) != 0)
			continue;
		s = ushm__semset(h, idx);
		/* Still ours, on the set it was made for? */
		if (s->perm.state == IPC_OBJ_LIVE && ushm__sem_set_sane(s) &&
		    r->seq == s->perm.seq && record_usable(r, s) &&
		    (int32_t)r->task == ushm__p.task &&
		    r->task_gen == ushm__p.task_gen) {
			apply_record(sn, idx, u + 1);
			ushm__sem_update_locked(sn, idx, NULL, 0, &q);
		}
		ushm__sem_set_unlock(sn, idx);
		ushm__wakeq_run(sn, &q);
	}
}

void ushm__undo_clear_locked(struct ushm_semns *sn, uint32_t idx, int num)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);
	uint32_t u = s->undo_head, steps = 0;

	while (u && u <= USHM_SEM_UNDOS && steps++ < USHM_SEM_UNDOS) {
		struct ushm_semundo *r = ushm__semundo(h, u - 1);

		if (r->state == SU_LIVE &&
		    (uint64_t)r->adj_off + ushm__adj_units(s->nsems) <=
		    USHM_POOL_UNITS) {
			int16_t *adj = ushm__undo_adj(h, r);

			if (num < 0)
				memset(adj, 0, (size_t)s->nsems * 2);
			else
				adj[num] = 0;
		}
		u = r->next;
	}
}

void ushm__undo_free_set_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);

	/* Every record naming the set, linked or not (a crash may have
	 * left one unlinked). */
	for (uint32_t u = 0; u < USHM_SEM_UNDOS; u++) {
		struct ushm_semundo *r = ushm__semundo(h, u);

		if (r->state == SU_FREE || r->set != idx ||
		    r->seq != s->perm.seq)
			continue;
		ushm__pool_free_locked(sn, r->adj_off,
				       ushm__adj_units(s->nsems));
		memset(r, 0, sizeof(*r));
	}
	s->undo_head = 0;
}

void ushm__undo_relink_locked(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semhdr *h = sn->h;
	struct ushm_semset *s = ushm__semset(h, idx);

	s->undo_head = 0;
	for (uint32_t u = 0; u < USHM_SEM_UNDOS; u++) {
		struct ushm_semundo *r = ushm__semundo(h, u);

		if (r->state == SU_FREE || r->set != idx ||
		    r->seq != s->perm.seq)
			continue;
		r->next = s->undo_head;
		s->undo_head = u + 1;
	}
}

