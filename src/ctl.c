/*
 * ctl.c - shmctl, the counterpart of ksys_shmctl() and its helpers
 * (shmctl_stat, shmctl_down, shmctl_ipc_info, shmctl_shm_info,
 * shmctl_do_lock).  The error precedence is SEMANTICS.md 5.I.
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"
#include "ushm.h"

#define NEED_LOCK	(-1000000)
#define LOCKLESS_TRIES	64

static inline int fail(int r)
{
	errno = -r;
	return -1;
}

static void fill_stat(struct shmid_ds *d, const struct ushm_slot *s)
{
	memset(d, 0, sizeof(*d));
	d->shm_perm.__key = s->key;
	d->shm_perm.uid = s->uid;
	d->shm_perm.gid = s->gid;
	d->shm_perm.cuid = s->cuid;
	d->shm_perm.cgid = s->cgid;
	d->shm_perm.mode = (unsigned short)s->mode;
	d->shm_perm.__seq = (unsigned short)s->seq;
	d->shm_segsz = s->segsz;
	d->shm_atime = s->atime;
	d->shm_dtime = s->dtime;
	d->shm_ctime = s->ctime;
	d->shm_cpid = s->cpid;
	d->shm_lpid = s->lpid;
	d->shm_nattch = s->nattch;
}

/*
 * A consistent copy of slot IDX, as it is once the dead that it depends
 * on are reaped.  SEQ is the id's sequence, or -1 to take the slot by
 * index (SHM_STAT).  No lock and no system call unless another process
 * is attached (one F_OFD_GETLK each) or a dead one must be reaped.
 */
static int slot_snapshot(struct ushm_ns *ns, uint32_t idx, int64_t seq,
			 struct ushm_slot *out)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s;
	int r;

	for (int tries = 0; tries < LOCKLESS_TRIES; tries++) {
		uint64_t g = ushm__rbegin(h);

		if (g & 1) {
			__builtin_ia32_pause();
			continue;
		}
		ushm__rcopy(out, ushm__slot(h, idx), sizeof(*out));
		if (ushm__rretry(h, g))
			continue;
		if (out->state != SLOT_LIVE || (seq >= 0 && out->seq != seq))
			return -EINVAL;
		if (ushm__slot_needs_reap(ns, out, idx))
			break;
		if (!ushm__rretry(h, g))
			return 0;
	}
	if ((r = ushm__lock(ns)) != 0)
		return r;
	s = ushm__slot(h, idx);
	if (s->state == SLOT_LIVE && (seq < 0 || s->seq == seq))
		ushm__reap_slot_locked(ns, idx);
	if (s->state != SLOT_LIVE || (seq >= 0 && s->seq != seq))
		r = -EINVAL;
	else
		*out = *s;
	ushm__unlock(ns);
	return r;
}

static int do_stat(struct ushm_ns *ns, int shmid, int cmd,
		   struct shmid_ds *buf)
{
	uint32_t idx = ushm__id_idx(shmid);
	struct ushm_slot s;
	struct shmid_ds d;
	int r;

	r = slot_snapshot(ns, idx,
			  cmd == IPC_STAT ? (int64_t)ushm__id_seq(shmid) : -1,
			  &s);
	if (r)
		return r;
	if (cmd != SHM_STAT_ANY && ushm__ipcperms(&s, 0444))
		return -EACCES;
	fill_stat(&d, &s);
	if (ushm__os_copy_out(buf, &d, sizeof(d)) < 0)
		return -EFAULT;
	return cmd == IPC_STAT ? 0 : ushm__id(idx, s.seq);
}

/* The slot of SHMID if it names a live segment, else NULL. */
static struct ushm_slot *lookup_locked(struct ushm_ns *ns, int shmid)
{
	struct ushm_slot *s = ushm__slot(ns->hdr, ushm__id_idx(shmid));

	USHM_ASSERT_LOCKED(ns);
	if (s->state != SLOT_LIVE || s->seq != ushm__id_seq(shmid))
		return NULL;
	return s;
}

/* IPC_SET and IPC_RMID: owner, creator or CAP_SYS_ADMIN (5.14, 5.19). */
static int down_locked(struct ushm_ns *ns, int shmid, int cmd,
		       const struct shmid_ds *in)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t idx = ushm__id_idx(shmid);
	struct ushm_slot *s;

	USHM_ASSERT_LOCKED(ns);
	/* Whether RMID destroys at once depends on nattch: count without
	 * the dead first, as the kernel would have at their exit. */
	if (cmd == IPC_RMID && lookup_locked(ns, shmid))
		ushm__reap_slot_locked(ns, idx);
	if (!(s = lookup_locked(ns, shmid)))
		return -EINVAL;
	if (!ushm__owner_or_creator(s) && !ushm__capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd == IPC_SET) {
		if (in->shm_perm.uid == (uid_t)-1 ||
		    in->shm_perm.gid == (gid_t)-1)
			return -EINVAL;
		/* The file first.  A caller the kernel allows but who may
		 * not change the file (the new owner of a segment given
		 * away, CAP_SYS_ADMIN alone) gets the kernel's answer and
		 * the file keeps its permissions (README, "Limits"); any
		 * other failure changes nothing. */
		if (s->flags & SEGF_FILE) {
			struct ushm_slot next = *s;
			int r;

			next.uid = in->shm_perm.uid;
			next.gid = in->shm_perm.gid;
			next.mode = (s->mode & ~USHM_MODE_PERMS) |
				    (in->shm_perm.mode & USHM_MODE_PERMS);
			r = ushm__seg_sync_perms(ns, &next, idx);
			if (r && r != -EPERM && r != -EACCES) {
				ushm__seg_sync_perms(ns, s, idx);	/* undo */
				ushm__seterr("cannot give the file of segment "
					     "%d its new permissions: %s",
					     shmid, strerror(-r));
				return r;
			}
		}
		/* Four stores: journalled first, so that recovery completes
		 * an IPC_SET that died half-way (registry.c, R4). */
		memset(&h->intent, 0, sizeof(h->intent));
		h->intent.slot = idx;
		h->intent.seq = s->seq;
		h->intent.uid = in->shm_perm.uid;
		h->intent.gid = in->shm_perm.gid;
		h->intent.mode = (s->mode & ~USHM_MODE_PERMS) |
				 (in->shm_perm.mode & USHM_MODE_PERMS);
		h->intent.ctime = ushm__now();
		h->intent.op = INTENT_SET;
		ushm__wbegin(h);
		s->uid = h->intent.uid;
		s->gid = h->intent.gid;
		CRASH_POINT("set.half");
		s->mode = h->intent.mode;
		s->ctime = h->intent.ctime;
		memset(&h->intent, 0, sizeof(h->intent));
		ushm__wend(h);
		return 0;
	}
	if (s->nattch == 0)
		return ushm__destroy_locked(ns, idx);
	/* do_shm_rmid: mark, then make the key private.  Crash order: a
	 * DEST slot with its key still set is finished by recovery. */
	ushm__wbegin(h);
	s->mode |= USHM_MODE_DEST;
	CRASH_POINT("rmid.marked");
	if (s->key) {
		ushm__key_remove_locked(ns, s->key, idx);
		s->key = IPC_PRIVATE;
	}
	ushm__wend(h);
	return 0;
}

/* Pages of locked segments charged to user UID (user_shm_lock's count). */
static uint64_t locked_pages_locked(struct ushm_hdr *h, uid_t uid)
{
	uint64_t n = 0;

	for (int32_t i = 0; i <= ushm__max_idx(h); i++) {
		struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

		if (s->state == SLOT_LIVE && (s->mode & USHM_MODE_LOCKED) &&
		    s->lock_uid == uid)
			n += s->pages;
	}
	return n;
}

static int lock_locked(struct ushm_ns *ns, int shmid, int cmd)
{
	struct ushm_hdr *h = ns->hdr;
	const struct ushm_cred *c = ushm__cred();
	struct ushm_slot *s;
	struct rlimit rl;

	USHM_ASSERT_LOCKED(ns);
	/* The locked total counts segments that dead processes' exits
	 * would have destroyed: reap first (it may destroy this one). */
	if (cmd == SHM_LOCK)
		ushm__reap_all_locked(ns);
	if (!(s = lookup_locked(ns, shmid)))
		return -EINVAL;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		rl.rlim_cur = RLIM_INFINITY;
	if (!ushm__capable(CAP_IPC_LOCK)) {
		if (!ushm__owner_or_creator(s))
			return -EPERM;
		if (cmd == SHM_LOCK && rl.rlim_cur == 0)
			return -EPERM;
	}
	if (s->flags & SEGF_HUGETLB)
		return 0;		/* shmctl_do_lock: a no-op (5.36) */
	if (cmd == SHM_UNLOCK) {
		if (s->mode & USHM_MODE_LOCKED) {
			ushm__wbegin(h);
			s->mode &= ~USHM_MODE_LOCKED;
			s->lock_uid = 0;
			ushm__wend(h);
		}
		return 0;
	}
	if (s->mode & USHM_MODE_LOCKED)
		return 0;		/* charged once (5.34) */
	/* user_shm_lock: the real user's locked total against the limit. */
	if (rl.rlim_cur != RLIM_INFINITY &&
	    locked_pages_locked(h, c->ruid) + s->pages >
		    rl.rlim_cur / USHM_PAGE &&
	    !ushm__capable(CAP_IPC_LOCK))
		return -ENOMEM;
	/* Whom to charge first: a crash between the two stores leaves the
	 * segment unlocked, never locked and charged to someone else. */
	ushm__wbegin(h);
	s->lock_uid = c->ruid;
	CRASH_POINT("lock.marked");
	s->mode |= USHM_MODE_LOCKED;
	ushm__wend(h);
	return 0;
}

static int info_locked(struct ushm_ns *ns, int cmd, void *buf)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	/* used_ids and the highest index count segments that dead
	 * processes' exits would already have destroyed. */
	ushm__reap_all_locked(ns);
	if (cmd == IPC_INFO) {
		struct shminfo si;

		memset(&si, 0, sizeof(si));
		si.shmmax = h->shmmax;
		si.shmmin = 1;
		si.shmmni = h->shmmni;
		si.shmseg = h->shmmni;
		si.shmall = h->shmall;
		if (ushm__os_copy_out(buf, &si, sizeof(si)) < 0)
			return -EFAULT;
	} else {
		struct shm_info si;

		memset(&si, 0, sizeof(si));
		si.used_ids = (int)h->in_use;
		si.shm_tot = h->shm_tot;
		for (int32_t i = 0; i <= ushm__max_idx(h); i++) {
			struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

			if (s->state == SLOT_LIVE && (s->flags & SEGF_FILE))
				si.shm_rss += (unsigned long)
					ushm__seg_resident(ns, s, (uint32_t)i);
		}
		if (ushm__os_copy_out(buf, &si, sizeof(si)) < 0)
			return -EFAULT;
	}
	return h->max_idx < 0 ? 0 : ushm__max_idx(h);
}

int ushm_shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	struct shmid_ds in;
	struct ushm_ns *ns;
	int err = 0, r;

	if (cmd < 0 || shmid < 0)
		return fail(-EINVAL);
	switch (cmd) {
	case IPC_STAT: case SHM_STAT: case SHM_STAT_ANY:
	case IPC_INFO: case SHM_INFO: case IPC_RMID:
	case SHM_LOCK: case SHM_UNLOCK:
		break;
	case IPC_SET:
		/* The buffer is copied in before anything else (5.13). */
		if (ushm__os_copy_in(&in, buf, sizeof(in)) < 0)
			return fail(-EFAULT);
		break;
	default:
		return fail(-EINVAL);
	}
	ns = ushm__ns(&err);
	if (!ns)
		return fail(err);
	if (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY) {
		r = do_stat(ns, shmid, cmd, buf);
		return r < 0 ? fail(r) : r;
	}
	if ((r = ushm__lock(ns)) != 0)
		return fail(r);
	switch (cmd) {
	case IPC_INFO:
	case SHM_INFO:
		r = info_locked(ns, cmd, buf);
		break;
	case IPC_SET:
		r = down_locked(ns, shmid, cmd, &in);
		break;
	case IPC_RMID:
		r = down_locked(ns, shmid, cmd, NULL);
		break;
	default:
		r = lock_locked(ns, shmid, cmd);
		break;
	}
	ushm__unlock(ns);
	return r < 0 ? fail(r) : r;
}
