/*
 * semfile.c - the semaphore registry file <namespace>/sem: making it
 * (complete under O_TMPFILE, published with link, as registry.c makes
 * the shm registry), validating and mapping it, its locks with the repair
 * that follows a dead owner, and the pool of 16-byte units that holds the
 * semaphores, journals and adjustments.
 *
 * Locks (semlayout.h): the table lock hdr.lock, then one set's lock.
 * Both are robust process-shared mutexes (this first cut; the futex
 * locks of docs/SEMAPHORES.md section 3 replace them later).  A dead
 * owner is repaired by the next locker:
 *   table lock  the creation journal (hdr.intent) is finished if its set
 *               became LIVE; CREATING sets are dropped, DESTROYING ones
 *               finished; the counters, the key index and the pool bitmap
 *               are recomputed from the sets and undo records (primary
 *               data), since a crash may have left any of them half
 *               written.
 *   set lock    the set's journal: a COMPLETE one is applied again (its
 *               entries are absolute values, so applying twice is
 *               harmless), a partial one dropped (nothing of it was
 *               applied); then the queue and undo list are relinked from
 *               the waiter and undo tables.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "seminternal.h"

#define SEM_NAME	"sem"

/* This process's mapping of the current namespace's file.  open_lock (a
 * process-private mutex) protects cur while it is made or dropped. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ushm_semns cur = { NULL, NULL, -1 };

static void geometry(struct ushm_semhdr *g)
{
	memset(g, 0, sizeof(*g));
	g->magic = USHM_SEM_MAGIC;
	g->version = USHM_SEM_VERSION;
	g->hdr_size = sizeof(*g);
	g->file_size = USHM_SEM_FILE_SIZE;
	g->nsets = USHM_SEM_SETS;
	g->nkeyidx = USHM_KEYIDX;
	g->nwaiters = USHM_SEM_WAITERS;
	g->nundos = USHM_SEM_UNDOS;
	g->pool_units = USHM_POOL_UNITS;
	g->pool_block = USHM_POOL_BLOCK;
	g->off_sets = USHM_SOFF_SETS;
	g->off_keyidx = USHM_SOFF_KEYIDX;
	g->off_waiters = USHM_SOFF_WAITERS;
	g->off_undos = USHM_SOFF_UNDOS;
	g->off_poolmap = USHM_SOFF_POOLMAP;
	g->off_pool = USHM_SOFF_POOL;
}

/* Fill a new file's tables: every lock made once, here, and never again
 * while the file lives (a locker may sleep on any of them). */
static int file_init(int fd, bool shared)
{
	struct ushm_semhdr *h;
	int r = 0;

	h = ushm__os_mmap(NULL, USHM_SOFF_KEYIDX, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return -errno;
	geometry(h);
	h->shared = shared;
	h->semmsl = USHM_SEMMSL;
	h->semmns = USHM_SEMMNS;
	h->semopm = USHM_SEMOPM;
	h->semmni = USHM_SEMMNI;
	ushm__ids_init(&h->ids);
	r = ushm__init_robust(&h->lock);
	for (uint32_t i = 0; !r && i < USHM_SEM_SETS; i++)
		r = ushm__init_robust(&ushm__semset(h, i)->lock);
	ushm__os_munmap(h, USHM_SOFF_KEYIDX);
	return r;
}

static int file_create(struct ushm_ns *ns)
{
	static unsigned counter;
	char tmp[64] = "", proc[64];
	mode_t mode = ns->shared ? 0666 : 0600;
	int fd, r;

	fd = ushm__os_openat(ns->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
			     mode);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		snprintf(tmp, sizeof(tmp), "sem.new.%d.%u", (int)getpid(),
			 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
		fd = ushm__os_openat(ns->dirfd, tmp, O_RDWR | O_CREAT |
				     O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	}
	if (fd < 0) {
		r = -errno;
		ushm__seterr("cannot create %s/sem: %s", ns->path,
			     strerror(errno));
		return r;
	}
	/* The tables are allocated now, so that touching them can never
	 * raise SIGBUS on a full file system; the pool as it is used. */
	if (ushm__os_fchmod(fd, mode) < 0 ||
	    ushm__os_ftruncate(fd, (off_t)USHM_SEM_FILE_SIZE) < 0 ||
	    ushm__os_fallocate(fd, 0, (off_t)USHM_SOFF_POOL) < 0) {
		r = -errno;
		ushm__seterr("cannot size %s/sem: %s", ns->path,
			     strerror(errno));
		goto out;
	}
	r = file_init(fd, ns->shared);
	if (r) {
		ushm__seterr("cannot initialise %s/sem: %s", ns->path,
			     strerror(-r));
		goto out;
	}
	if (tmp[0]) {
		r = ushm__os_linkat(ns->dirfd, tmp, ns->dirfd, SEM_NAME, 0);
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		r = ushm__os_linkat(AT_FDCWD, proc, ns->dirfd, SEM_NAME,
				    AT_SYMLINK_FOLLOW);
	}
	if (r < 0) {
		r = -errno;
		if (r != -EEXIST)
			ushm__seterr("cannot publish %s/sem: %s", ns->path,
				     strerror(errno));
	}
out:
	if (tmp[0])
		ushm__os_unlinkat(ns->dirfd, tmp, 0);
	ushm__os_close(fd);
	return r;
}

static int file_validate(struct ushm_ns *ns, const struct ushm_semhdr *h,
			 const struct stat *st)
{
	struct ushm_semhdr g;

	geometry(&g);
	if (h->magic != USHM_SEM_MAGIC) {
		ushm__seterr("%s/sem is not a ushm semaphore registry (bad "
			     "magic)", ns->path);
		return -EUCLEAN;
	}
	if (h->version != USHM_SEM_VERSION) {
		ushm__seterr("%s/sem has layout version %u; this library "
			     "reads version %u", ns->path, h->version,
			     USHM_SEM_VERSION);
		return -EUCLEAN;
	}
	if (memcmp(h, &g, offsetof(struct ushm_semhdr, shared))) {
		ushm__seterr("%s/sem has a foreign geometry", ns->path);
		return -EUCLEAN;
	}
	if ((uint64_t)st->st_size != USHM_SEM_FILE_SIZE) {
		ushm__seterr("%s/sem is %lld bytes, expected %llu: truncated "
			     "or extended", ns->path, (long long)st->st_size,
			     (unsigned long long)USHM_SEM_FILE_SIZE);
		return -EUCLEAN;
	}
	return 0;
}

static int file_open(struct ushm_ns *ns, struct ushm_semns *out)
{
	struct ushm_semhdr h;
	struct stat st;
	void *map;
	int fd, r;

	/* As the registry (registry.c): no link followed, and only a file
	 * of the namespace's owner (in a shared namespace anyone may make
	 * names in the directory, so another user's file there is not one
	 * this library made), which only the owner makes. */
	for (int attempt = 0;; attempt++) {
		fd = ushm__os_open_beneath(ns->dirfd, SEM_NAME, O_RDWR |
					   O_CLOEXEC | O_NONBLOCK, 0);
		if (fd >= 0)
			break;
		if (errno != ENOENT || attempt >= 3) {
			r = -errno;
			ushm__seterr("cannot open %s/sem: %s", ns->path,
				     errno == ELOOP ? "a symbolic link"
						    : strerror(errno));
			return errno == ELOOP ? -EUCLEAN : r;
		}
		if (!ushm__ns_may_make(ns, SEM_NAME))
			return -EACCES;
		r = file_create(ns);
		if (r && r != -EEXIST)
			return r;
	}
	r = ushm__ns_check_own(ns, fd, SEM_NAME, S_IFREG, &st);
	if (r)
		goto out;
	r = -EUCLEAN;
	if (st.st_size < (off_t)sizeof(h)) {
		ushm__seterr("%s/sem is truncated (%lld bytes)", ns->path,
			     (long long)st.st_size);
		goto out;
	}
	errno = 0;
	if (ushm__os_pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	r = file_validate(ns, &h, &st);
	if (r)
		goto out;
	map = ushm__os_mmap(NULL, USHM_SEM_FILE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		ushm__seterr("cannot map %s/sem: %s", ns->path,
			     strerror(errno));
		goto out;
	}
	out->ns = ns;
	out->h = map;
	out->fd = fd;
	return 0;
out:
	ushm__os_close(fd);
	return r;
}

int ushm__semns(struct ushm_semns **out)
{
	struct ushm_ns *ns;
	int err = 0, r = 0;

	ushm__clearerr();
	if (!(ns = ushm__ns(&err)))
		return err;
	if (__atomic_load_n(&cur.ns, __ATOMIC_ACQUIRE) == ns) {
		*out = &cur;
		return 0;
	}
	pthread_mutex_lock(&open_lock);
	if (cur.ns != ns) {
		struct ushm_semns n;

		r = file_open(ns, &n);
		if (!r) {
			if (cur.h) {
				ushm__os_munmap(cur.h, USHM_SEM_FILE_SIZE);
				ushm__os_close(cur.fd);
			}
			ushm__undo_forget();
			cur.h = n.h;
			cur.fd = n.fd;
			__atomic_store_n(&cur.ns, ns, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&open_lock);
	*out = &cur;
	return r;
}

struct ushm_semns *ushm__semns_if_open(void)
{
	struct ushm_ns *ns = __atomic_load_n(&cur.ns, __ATOMIC_ACQUIRE);

	return ns && ns == ushm__p.ns ? &cur : NULL;
}

void ushm__sem_file_prepare(struct ushm_ns *ns)
{
	int fd;

	if (!ns->shared || ns->owner != ushm__cred()->euid)
		return;
	fd = ushm__os_open_beneath(ns->dirfd, SEM_NAME, O_PATH | O_CLOEXEC,
				   0);
	if (fd >= 0) {
		ushm__os_close(fd);
		return;
	}
	if (errno == ENOENT)
		file_create(ns);	/* a failure is said at first use */
}

/* The namespace NS is being closed (namespace.c). */
void ushm__sem_ns_closed(struct ushm_ns *ns)
{
	pthread_mutex_lock(&open_lock);
	if (cur.ns == ns) {
		__atomic_store_n(&cur.ns, NULL, __ATOMIC_RELEASE);
		ushm__os_munmap(cur.h, USHM_SEM_FILE_SIZE);
		ushm__os_close(cur.fd);
		cur.h = NULL;
		cur.fd = -1;
		ushm__undo_forget();
	}
	pthread_mutex_unlock(&open_lock);
}

/* ---- the pool ---- */

static bool block_used(const uint64_t *map, uint32_t b)
{
	return (map[b / 64] >> (b % 64)) & 1;
}

static void blocks_mark(uint64_t *map, uint32_t b, uint32_t n, bool used)
{
	for (uint32_t i = b; i < b + n; i++) {
		if (used)
			map[i / 64] |= 1ULL << (i % 64);
		else
			map[i / 64] &= ~(1ULL << (i % 64));
	}
}

int ushm__pool_alloc_locked(struct ushm_semns *sn, uint32_t n, uint32_t *off)
{
	struct ushm_semhdr *h = sn->h;
	uint64_t *map = ushm__poolmap(h);
	uint32_t need = (n + USHM_POOL_BLOCK - 1) / USHM_POOL_BLOCK;
	uint32_t start = h->pool_hint < USHM_POOL_BLOCKS ? h->pool_hint : 0;

	if (n == 0 || need > USHM_POOL_BLOCKS)
		return -ENOSPC;
	/* First fit from the hint, then from the start. */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t b = pass ? 0 : start;
		uint32_t end = pass ? start + need : USHM_POOL_BLOCKS;

		if (end > USHM_POOL_BLOCKS)
			end = USHM_POOL_BLOCKS;
		while (b + need <= end) {
			uint32_t run = 0;

			if (map[b / 64] == ~0ULL && b % 64 == 0) {
				b += 64;
				continue;
			}
			while (run < need && !block_used(map, b + run))
				run++;
			if (run < need) {
				b += run + 1;
				continue;
			}
			/* Room in the file system before it is promised. */
			if (ushm__os_fallocate(sn->fd, (off_t)(USHM_SOFF_POOL +
					       (uint64_t)b * USHM_POOL_BLOCK *
					       16), (off_t)need *
					       USHM_POOL_BLOCK * 16) < 0)
				return errno == ENOSPC ? -ENOSPC : -ENOMEM;
			blocks_mark(map, b, need, true);
			h->pool_hint = b + need;
			*off = b * USHM_POOL_BLOCK;
			return 0;
		}
	}
	return -ENOSPC;
}

void ushm__pool_free_locked(struct ushm_semns *sn, uint32_t off, uint32_t n)
{
	uint32_t b = off / USHM_POOL_BLOCK;
	uint32_t need = (n + USHM_POOL_BLOCK - 1) / USHM_POOL_BLOCK;

	if (b >= USHM_POOL_BLOCKS || need > USHM_POOL_BLOCKS - b)
		return;
	blocks_mark(ushm__poolmap(sn->h), b, need, false);
}

bool ushm__sem_set_sane(const struct ushm_semset *s)
{
	uint64_t end1 = (uint64_t)s->sems_off + s->nsems;
	uint64_t end2 = (uint64_t)s->jrn_off + s->nsems;

	return s->nsems >= 1 && end1 <= USHM_POOL_UNITS &&
	       end2 <= USHM_POOL_UNITS;
}

/* ---- tasks ---- */

int ushm__sem_task(struct ushm_semns *sn)
{
	struct ushm_ns *ns = sn->ns;
	int r;

	if (ushm__p.task >= 0)
		return 0;
	if ((r = ushm__lock(ns)) != 0)
		return r;
	r = ushm__task_register_locked(ns);
	ushm__unlock(ns);
	return r;
}

bool ushm__sem_task_alive(struct ushm_semns *sn, uint32_t t, uint32_t gen)
{
	struct ushm_task *k;

	if (t >= USHM_TASKS)
		return false;
	if ((int32_t)t == ushm__p.task && gen == ushm__p.task_gen)
		return true;
	k = ushm__task(sn->ns->hdr, t);
	if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) == TASK_FREE ||
	    __atomic_load_n(&k->gen, __ATOMIC_RELAXED) != gen)
		return false;
	return ushm__task_alive(sn->ns, t);
}

/* ---- wake-ups ---- */

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

void ushm__wakeq_add(struct ushm_semns *sn, struct ushm_wakeq *q, uint32_t w)
{
	if (q->n < sizeof(q->w) / sizeof(q->w[0]))
		q->w[q->n++] = w;
	else	/* correct under the lock too, only slower */
		futex_wake(&ushm__semwait(sn->h, w)->futex);
}

/* After the set's lock is released: the records may be reused by now,
 * and a wake-up of a reused one is spurious, which its sleeper allows. */
void ushm__wakeq_run(struct ushm_semns *sn, struct ushm_wakeq *q)
{
	for (uint32_t i = 0; i < q->n; i++)
		futex_wake(&ushm__semwait(sn->h, q->w[i])->futex);
	q->n = 0;
}

/* ---- locks and their repair ---- */

/* A short spin first: the holders' critical sections are short, and a
 * futex wait and wake cost more than they do. */
#define LOCK_SPIN	100
#define LOCK_WAIT_NS	200000000L

static __thread pid_t my_tid;
static __thread pid_t my_tid_pid;

static pid_t self_tid(void)
{
	if (!my_tid || my_tid_pid != ushm__p.pid) {
		my_tid = (pid_t)syscall(SYS_gettid);
		my_tid_pid = ushm__p.pid;
	}
	return my_tid;
}

/*
 * Take M, whose holder writes its thread id to *TID.  1 when the previous
 * owner died (the caller repairs), 0, or -EUCLEAN: unusable, or held by a
 * thread that does not exist (a damaged or hostile file), seen so twice
 * 200 ms apart.
 */
static int robust_lock(pthread_mutex_t *m, int32_t *tid)
{
	int missing = 0, r;

	for (int i = 0; i < LOCK_SPIN; i++) {
		r = pthread_mutex_trylock(m);
		if (r != EBUSY)
			goto got;
		ushm__cpu_relax();
	}
	/* 200 ms at a time: a robust process-shared mutex can lose a
	 * wake-up when a waiter is killed as it is woken (as registry.c
	 * says, docs/INVARIANTS.md finding 6); a bounded wait turns that
	 * hang into a delay, and lets us look at the owner. */
	for (;;) {
		struct timespec t;
		pid_t owner;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += LOCK_WAIT_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_nsec -= 1000000000L;
			t.tv_sec++;
		}
		r = pthread_mutex_timedlock(m, &t);
		if (r != ETIMEDOUT)
			break;
		owner = __atomic_load_n(tid, __ATOMIC_RELAXED);
		if (owner > 0 && ushm__os_tid_exists(owner))
			missing = 0;
		else if (++missing >= 2)
			return -EUCLEAN;
	}
got:
	if (r == 0 || r == EOWNERDEAD)
		__atomic_store_n(tid, self_tid(), __ATOMIC_RELAXED);
	if (r == EOWNERDEAD)
		return 1;
	return r ? -EUCLEAN : 0;
}

static void robust_unlock(pthread_mutex_t *m, int32_t *tid)
{
	__atomic_store_n(tid, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(m);
}

/* Recompute what derives from the sets and undo records (table lock). */
void ushm__sem_recount_locked(struct ushm_semns *sn)
{
	struct ushm_semhdr *h = sn->h;
	uint64_t *map = ushm__poolmap(h);

	memset(map, 0, USHM_POOL_BLOCKS / 8);
	h->ids.in_use = 0;
	h->ids.max_idx = -1;
	h->used_sems = 0;
	ushm__ipc_key_clear(ushm__semkeys(h), &h->ids.keyidx_tombs);
	for (uint32_t i = 0; i < USHM_SEM_SETS; i++) {
		struct ushm_semset *s = ushm__semset(h, i);

		if (s->perm.state == IPC_OBJ_FREE)
			continue;
		h->ids.in_use++;
		h->ids.max_idx = (int32_t)i;
		h->used_sems += s->nsems;
		blocks_mark(map, s->sems_off / USHM_POOL_BLOCK,
			    (s->units + USHM_POOL_BLOCK - 1) /
			    USHM_POOL_BLOCK, true);
		if (s->perm.key &&
		    ushm__ipc_key_find(ushm__semkeys(h), s->perm.key) < 0)
			ushm__ipc_key_insert(ushm__semkeys(h), &h->ids.keyidx_tombs,
					     s->perm.key, i);
	}
	for (uint32_t u = 0; u < USHM_SEM_UNDOS; u++) {
		struct ushm_semundo *r = ushm__semundo(h, u);
		struct ushm_semset *s;

		if (r->state != SU_LIVE)
			continue;
		s = r->set < USHM_SEM_SETS ? ushm__semset(h, r->set) : NULL;
		if (!s || s->perm.state != IPC_OBJ_LIVE ||
		    s->perm.seq != r->seq) {
			memset(r, 0, sizeof(*r));
			continue;
		}
		blocks_mark(map, r->adj_off / USHM_POOL_BLOCK,
			    (ushm__adj_units(s->nsems) + USHM_POOL_BLOCK - 1) /
			    USHM_POOL_BLOCK, true);
	}
}

/* The table lock's previous owner died: finish or undo its work. */
static void table_recover_locked(struct ushm_semns *sn)
{
	struct ushm_semhdr *h = sn->h;

	if (h->gen & 1)
		h->gen++;
	ushm__sem_wbegin(h);
	if (h->intent.op == INTENT_CREATE) {
		if (h->intent.slot < USHM_SEM_SETS &&
		    ushm__semset(h, h->intent.slot)->perm.state ==
		    IPC_OBJ_LIVE)
			h->ids.a = h->intent.alloc;
	}
	memset(&h->intent, 0, sizeof(h->intent));
	for (uint32_t i = 0; i < USHM_SEM_SETS; i++) {
		struct ushm_semset *s = ushm__semset(h, i);

		if (s->perm.state == IPC_OBJ_CREATING) {
			s->perm.state = IPC_OBJ_FREE;
		} else if (s->perm.state == IPC_OBJ_DESTROYING) {
			/* freeary died half-way: its waiters get EIDRM. */
			if (ushm__sem_set_lock(sn, i) == 0)
				ushm__sem_destroy_locked(sn, i);
			s->perm.state = IPC_OBJ_FREE;
		} else if (s->perm.state == IPC_OBJ_LIVE &&
			   !ushm__sem_set_sane(s)) {
			s->perm.state = IPC_OBJ_FREE;
		}
	}
	ushm__sem_recount_locked(sn);
	h->recoveries++;
	ushm__sem_wend(h);
}

int ushm__sem_table_lock(struct ushm_semns *sn)
{
	int r = robust_lock(&sn->h->lock, &sn->h->lock_tid);

	if (r == 1) {
		table_recover_locked(sn);
		pthread_mutex_consistent(&sn->h->lock);
		r = 0;
	}
	if (r)
		ushm__seterr("the semaphore table lock of %s is unusable (or "
			     "held by a thread that does not exist)",
			     sn->ns->path);
	return r;
}

void ushm__sem_table_unlock(struct ushm_semns *sn)
{
	robust_unlock(&sn->h->lock, &sn->h->lock_tid);
}

int ushm__sem_set_lock(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semset *s = ushm__semset(sn->h, idx);
	int r = robust_lock(&s->lock, &s->lock_tid);

	if (r == 1) {
		/* A dead owner may have left the set's counter odd. */
		if (s->vgen & 1)
			__atomic_add_fetch(&s->vgen, 1, __ATOMIC_RELEASE);
		if (s->perm.state == IPC_OBJ_LIVE && ushm__sem_set_sane(s)) {
			ushm__sem_journal_recover_locked(sn, idx);
			ushm__sem_queue_rebuild_locked(sn, idx);
			ushm__undo_relink_locked(sn, idx);
		}
		__atomic_add_fetch(&sn->h->recoveries, 1, __ATOMIC_RELAXED);
		pthread_mutex_consistent(&s->lock);
		r = 0;
	}
	if (r)
		ushm__seterr("the lock of semaphore set %u of %s is unusable "
			     "(or held by a thread that does not exist)", idx,
			     sn->ns->path);
	return r;
}

void ushm__sem_set_unlock(struct ushm_semns *sn, uint32_t idx)
{
	struct ushm_semset *s = ushm__semset(sn->h, idx);

	robust_unlock(&s->lock, &s->lock_tid);
}
