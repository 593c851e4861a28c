/*
 * registry.c - the registry file of a namespace: creating, validating and
 * mapping it, its lock and the repair that follows a dead lock owner, and
 * the key index.  The counterpart of ipc/util.c.
 *
 * Locking scheme (see also layout.h):
 *
 *   hdr->lock   robust, process-shared mutex.  Protects every mutable
 *               header field and every slot, key index entry, task and
 *               attachment record.  Taken by every call that changes the
 *               registry, and by readers that must reap dead tasks.
 *               Never held while waiting for anything but the kernel.
 *   hdr->gen    sequence counter for lock-free readers.  Writers (holding
 *               hdr->lock) make it odd around each change that such
 *               readers look at: slot fields, key index entries, slot
 *               attachment lists.
 *
 * Crash safety.  A process can die at any instant, also while it holds
 * hdr->lock.  The next process to lock gets EOWNERDEAD and calls
 * ushm__recover_locked() before anything else.  That works because every
 * mutation keeps these rules (the invariants of docs/INVARIANTS.md):
 *
 *   R1  Primary data is the slot states and fields, the task states and
 *       the attachment records.  Everything else (the key index, in_use,
 *       shm_tot, max_idx, nattch, the slot attachment lists, task natt)
 *       is derived, and recovery recomputes it from the primary data.
 *   R2  A slot becomes LIVE in a single store, after its file exists at
 *       full size; a half-made segment is CREATING, which no lookup sees
 *       and which recovery undoes (unlinks the file, frees the slot).
 *   R3  A slot leaves LIVE in a single store (to DESTROYING) before its
 *       file is unlinked; recovery finishes what DESTROYING started.
 *   R4  The allocator state that a creation installs is written to the
 *       intent journal before the slot becomes LIVE, and recovery
 *       installs it if the slot is LIVE (so ids follow the kernel's
 *       sequence even across a crash at that instant).
 *   R5  Attachment records of a process that died are dropped by reaping
 *       (task.c), which recovery does not need to special-case: the dead
 *       lock owner is just one more dead task.
 *   R6  gen is made even by recovery.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ipc.h"

#define REGISTRY_NAME	"registry"
#define LOCKFILE_NAME	"lock"
#define SEGDIR_NAME	"segments"

/* Expected geometry, the only one this library reads. */
static void geometry(struct ushm_hdr *g)
{
	memset(g, 0, sizeof(*g));
	g->magic = USHM_MAGIC;
	g->version = USHM_LAYOUT_VERSION;
	g->hdr_size = sizeof(struct ushm_hdr);
	g->nslots = USHM_SLOTS;
	g->nkeyidx = USHM_KEYIDX;
	g->ntasks = USHM_TASKS;
	g->natts = USHM_ATTS;
	g->off_slots = USHM_OFF_SLOTS;
	g->off_keyidx = USHM_OFF_KEYIDX;
	g->off_tasks = USHM_OFF_TASKS;
	g->off_atts = USHM_OFF_ATTS;
	g->nthreads = USHM_THREADS;
	g->off_threads = USHM_OFF_THREADS;
	g->file_size = USHM_FILE_SIZE;
}

/* Lock depth of this thread, for USHM_ASSERT_LOCKED. */
static __thread int lock_depth;

void ushm__assert_locked(struct ushm_ns *ns)
{
	(void)ns;
	if (lock_depth <= 0)
		__builtin_trap();	/* a library bug, never bad input */
}

void ushm__rcopy(void *dst, const void *src, size_t len)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < len / 8; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* ---- creating and opening ---- */

/*
 * Make a new registry as a file with no name (O_TMPFILE), fill it in, and
 * give it its name with link(2), which fails if another process got there
 * first: so a registry is never seen half-made, and a failure anywhere
 * leaves nothing behind.  Where the file system has no O_TMPFILE, a
 * temporary name stands in (removed again whatever happens).  Returns 0,
 * -EEXIST (lost the race: open the winner's) or another negative errno.
 */
static int registry_create(struct ushm_ns *ns)
{
	static unsigned counter;
	struct ushm_hdr g, *h;
	char tmp[64] = "", proc[64];
	int fd, r = 0;
	mode_t mode = ns->shared ? 0666 : 0600;

	geometry(&g);
	fd = ushm__os_openat(ns->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
			     mode);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		snprintf(tmp, sizeof(tmp), "registry.new.%d.%u",
			 (int)getpid(),
			 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
		fd = ushm__os_openat(ns->dirfd, tmp, O_RDWR | O_CREAT |
				     O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	}
	if (fd < 0) {
		r = -errno;
		ushm__seterr("cannot create the registry in %s: %s", ns->path,
			     strerror(errno));
		return r;
	}
	/* Every page of the tables but the attachment records is allocated
	 * now, so that touching one later can never raise SIGBUS on a full
	 * filesystem; records are allocated in chunks as they are needed. */
	if (ushm__os_fchmod(fd, mode) < 0 ||
	    ushm__os_ftruncate(fd, (off_t)g.file_size) < 0 ||
	    ushm__os_fallocate(fd, 0, (off_t)g.off_atts) < 0 ||
	    ushm__os_fallocate(fd, (off_t)g.off_threads,
			       (off_t)(g.file_size - g.off_threads)) < 0) {
		r = -errno;
		ushm__seterr("cannot size the registry in %s: %s", ns->path,
			     strerror(errno));
		goto out;
	}
	h = ushm__os_mmap(NULL, USHM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	if (h == MAP_FAILED) {
		r = -errno;
		ushm__seterr("cannot map the registry in %s: %s", ns->path,
			     strerror(errno));
		goto out;
	}
	*h = g;
	h->shared = ns->shared;
	h->shmmax = USHM_DFL_SHMMAX;
	h->shmall = USHM_DFL_SHMALL;
	h->shmmni = USHM_DFL_SHMMNI;
	h->rmid_forced = 0;
	h->next_id = -1;
	h->max_idx = -1;
	h->next_idx = 0;
	h->last_idx = -1;
	h->seq = 0;
	r = ushm__init_robust(&h->lock);
	ushm__os_munmap(h, USHM_PAGE);
	if (r) {
		ushm__seterr("cannot initialise the registry lock: %s",
			     strerror(-r));
		goto out;
	}
	if (tmp[0]) {
		r = ushm__os_linkat(ns->dirfd, tmp, ns->dirfd, REGISTRY_NAME,
				    0);
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		r = ushm__os_linkat(AT_FDCWD, proc, ns->dirfd, REGISTRY_NAME,
				    AT_SYMLINK_FOLLOW);
	}
	if (r < 0) {
		r = -errno;
		if (r != -EEXIST)
			ushm__seterr("cannot publish the registry in %s: %s",
				     ns->path, strerror(errno));
	}
out:
	if (tmp[0])
		ushm__os_unlinkat(ns->dirfd, tmp, 0);
	ushm__os_close(fd);
	return r;
}

/* Refuse anything that is not exactly a registry of this layout.  H is a
 * private copy of the header, ST the file's status. */
static int registry_validate(struct ushm_ns *ns, const struct ushm_hdr *h,
			     const struct stat *st)
{
	struct ushm_hdr g;

	geometry(&g);
	if (h->magic != USHM_MAGIC) {
		ushm__seterr("%s/registry is not a ushm registry (bad magic)",
			     ns->path);
		return -EUCLEAN;
	}
	if (h->version != USHM_LAYOUT_VERSION) {
		ushm__seterr("%s/registry has layout version %u; this library "
			     "reads version %u", ns->path, h->version,
			     USHM_LAYOUT_VERSION);
		return -EUCLEAN;
	}
	if (h->hdr_size != g.hdr_size || h->nslots != g.nslots ||
	    h->nkeyidx != g.nkeyidx || h->ntasks != g.ntasks ||
	    h->natts != g.natts || h->off_slots != g.off_slots ||
	    h->off_keyidx != g.off_keyidx || h->off_tasks != g.off_tasks ||
	    h->off_atts != g.off_atts || h->nthreads != g.nthreads ||
	    h->off_threads != g.off_threads || h->file_size != g.file_size) {
		ushm__seterr("%s/registry has a foreign geometry (tables or "
			     "sizes differ from this library's)", ns->path);
		return -EUCLEAN;
	}
	if ((uint64_t)st->st_size != h->file_size) {
		ushm__seterr("%s/registry is %lld bytes, expected %llu: "
			     "truncated or extended", ns->path,
			     (long long)st->st_size,
			     (unsigned long long)h->file_size);
		return -EUCLEAN;
	}
	return 0;
}

/*
 * Who may own the registry, the lock file and segments/: the namespace's
 * owner, and in a private namespace root as well.  In a shared one every
 * user may create names in the directory, so a file of anyone else there
 * was not made by this library for the namespace: refused, whatever it
 * is.  Only those who may own them make them (ushm__ns_may_make).  The
 * semaphore file (semfile.c) follows the same rules.
 */
static bool owner_ok(const struct ushm_ns *ns, uid_t uid)
{
	return uid == ns->owner || (!ns->shared && uid == 0);
}

bool ushm__ns_may_make(const struct ushm_ns *ns, const char *what)
{
	if (owner_ok(ns, ushm__cred()->euid))
		return true;
	ushm__seterr("%s/%s does not exist, and only the namespace's owner "
		     "(uid %u) may make it", ns->path, what,
		     (unsigned)ns->owner);
	return false;
}

/* Check FD, opened as NS's WHAT, against what it must be: a file of
 * type TYPE (S_IFREG, S_IFDIR) of an owner owner_ok accepts.  0, or
 * -EUCLEAN (-EACCES for another user's) with the reason. */
int ushm__ns_check_own(struct ushm_ns *ns, int fd, const char *what,
		       mode_t type, struct stat *st)
{
	if (ushm__os_fstat(fd, st) < 0) {
		int e = errno;

		ushm__seterr("cannot stat %s/%s: %s", ns->path, what,
			     strerror(e));
		return -e;
	}
	if ((st->st_mode & S_IFMT) != type) {
		ushm__seterr("%s/%s is not a %s", ns->path, what,
			     type == S_IFDIR ? "directory" : "regular file");
		return -EUCLEAN;
	}
	if (!owner_ok(ns, st->st_uid)) {
		ushm__seterr("%s/%s belongs to uid %u, not to the namespace's "
			     "owner (uid %u): refusing to use it", ns->path,
			     what, (unsigned)st->st_uid, (unsigned)ns->owner);
		return -EACCES;
	}
	return 0;
}

/* A name of the namespace directory that is not what it must be: ELOOP
 * (a symbolic link, not followed) is said as such. */
static int open_fail(struct ushm_ns *ns, const char *what)
{
	int e = errno;

	if (e == ELOOP) {
		ushm__seterr("%s/%s is a symbolic link: refusing to follow it",
			     ns->path, what);
		return -EUCLEAN;
	}
	ushm__seterr("cannot open %s/%s: %s", ns->path, what, strerror(e));
	return -e;
}

static int open_lockfile(struct ushm_ns *ns)
{
	mode_t mode = ns->shared ? 0666 : 0600;
	struct stat st;
	int fd = -1, r;

	fd = ushm__os_open_beneath(ns->dirfd, LOCKFILE_NAME, O_RDWR |
				   O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT) {
		if (!ushm__ns_may_make(ns, LOCKFILE_NAME))
			return -EACCES;
		fd = ushm__os_open_beneath(ns->dirfd, LOCKFILE_NAME, O_RDWR |
					   O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 && ushm__os_fchmod(fd, mode) < 0) {
			r = -errno;
			ushm__seterr("cannot set up %s/lock: %s", ns->path,
				     strerror(errno));
			ushm__os_close(fd);
			return r;
		}
		if (fd < 0 && errno == EEXIST)	/* made meanwhile */
			fd = ushm__os_open_beneath(ns->dirfd, LOCKFILE_NAME,
						   O_RDWR | O_CLOEXEC, 0);
	}
	if (fd < 0)
		return open_fail(ns, LOCKFILE_NAME);
	if ((r = ushm__ns_check_own(ns, fd, LOCKFILE_NAME, S_IFREG, &st)) != 0) {
		ushm__os_close(fd);
		return r;
	}
	ns->lockfd = fd;
	return 0;
}

/*
 * The segments/ directory: made with the namespace, writable by all the
 * namespace's users; in a shared namespace sticky (mode 01777), so that
 * only a file's owner (or root) can remove, rename or replace it
 * (segfile.c).  A shared namespace made before segments/ was sticky has
 * it 0777: its owner makes it sticky when opening the namespace, and
 * until then every other user refuses the namespace (the message says
 * why).
 */
static int open_segdir(struct ushm_ns *ns)
{
	mode_t mode = ns->shared ? 01777 : 0700;
	struct stat st;
	int fd, r;

	fd = ushm__os_open_beneath(ns->dirfd, SEGDIR_NAME, O_RDONLY |
				   O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT) {
		if (!ushm__ns_may_make(ns, SEGDIR_NAME))
			return -EACCES;
		if (ushm__os_mkdirat(ns->dirfd, SEGDIR_NAME, 0700) < 0 &&
		    errno != EEXIST)
			return open_fail(ns, SEGDIR_NAME);
		fd = ushm__os_open_beneath(ns->dirfd, SEGDIR_NAME, O_RDONLY |
					   O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (fd < 0)
		return open_fail(ns, SEGDIR_NAME);
	if ((r = ushm__ns_check_own(ns, fd, SEGDIR_NAME, S_IFDIR, &st)) != 0)
		goto fail;
	/* Just made (0700, whatever the umask), or made before it was
	 * sticky: its owner gives it its mode, through the descriptor. */
	if ((st.st_mode & 07777) != mode && st.st_uid == ushm__cred()->euid &&
	    ((st.st_mode & 07777) == 0700 || ns->shared)) {
		if (ushm__os_fchmod(fd, mode) < 0) {
			r = -errno;
			ushm__seterr("cannot make %s/segments mode %04o: %s",
				     ns->path, (unsigned)mode, strerror(errno));
			goto fail;
		}
		st.st_mode = (st.st_mode & ~07777u) | mode;
	}
	if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)) {
		ushm__seterr("%s/segments is writable by others without the "
			     "sticky bit (a namespace made by an older ushm): "
			     "its owner (uid %u) makes it sticky by using the "
			     "namespace once", ns->path, (unsigned)st.st_uid);
		r = -EACCES;
		goto fail;
	}
	ns->segfd = fd;
	return 0;
fail:
	ushm__os_close(fd);
	return r;
}

int ushm__registry_open(struct ushm_ns *ns)
{
	struct ushm_hdr h;
	struct stat st;
	void *map;
	int fd, r;

	for (int attempt = 0;; attempt++) {
		fd = ushm__os_open_beneath(ns->dirfd, REGISTRY_NAME,
					   O_RDWR | O_CLOEXEC, 0);
		if (fd >= 0)
			break;
		if (errno != ENOENT || attempt >= 3)
			return open_fail(ns, REGISTRY_NAME);
		if (!ushm__ns_may_make(ns, REGISTRY_NAME))
			return -EACCES;
		r = registry_create(ns);
		if (r && r != -EEXIST)
			return r;
	}
	r = ushm__ns_check_own(ns, fd, REGISTRY_NAME, S_IFREG, &st);
	if (r)
		goto out;
	r = -EUCLEAN;
	if (st.st_size < (off_t)sizeof(h)) {
		ushm__seterr("%s/registry is truncated (%lld bytes)", ns->path,
			     (long long)st.st_size);
		goto out;
	}
	errno = 0;
	if (ushm__os_pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		r = errno ? -errno : -EIO;
		ushm__seterr("cannot read %s/registry: %s", ns->path,
			     strerror(-r));
		goto out;
	}
	r = registry_validate(ns, &h, &st);
	if (r)
		goto out;
	map = ushm__os_mmap(NULL, h.file_size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		ushm__seterr("cannot map %s/registry: %s", ns->path,
			     strerror(errno));
		goto out;
	}
	ns->hdr = map;
	ns->maplen = h.file_size;
	r = open_lockfile(ns);
	if (!r)
		r = open_segdir(ns);
	if (r) {
		if (ns->lockfd >= 0)
			ushm__os_close(ns->lockfd);
		ns->lockfd = -1;
		ushm__os_munmap(map, h.file_size);
		ns->hdr = NULL;
		goto out;
	}
	ns->regfd = fd;
	return 0;
out:
	ushm__os_close(fd);
	return r;
}

/* ---- the lock ---- */

/*
 * The thread holding the registry lock, as it said itself (hdr->lock_tid:
 * the mutex's own word is the C library's business, never read here).
 * 0 while the lock is free, and for the instant between a thread taking
 * it and saying so.
 */
static pid_t lock_owner(struct ushm_ns *ns)
{
	return __atomic_load_n(&ns->hdr->lock_tid, __ATOMIC_RELAXED);
}

/* Whether OWNER, read while the lock was found held, cannot be the thread
 * inside: none named (a held lock whose holder never said who it is, a
 * wait after it was taken), or one that does not exist. */
static bool owner_missing(pid_t owner)
{
	return owner <= 0 || !ushm__os_tid_exists(owner);
}

static __thread pid_t my_tid;

/* This thread took the lock: say so, for lock_owner(). */
static void lock_taken(struct ushm_ns *ns)
{
	if (!my_tid)
		my_tid = (pid_t)syscall(SYS_gettid);
	lock_depth++;
	__atomic_store_n(&ns->hdr->lock_tid, my_tid, __ATOMIC_RELAXED);
}

/* Wait for the lock for LOCK_WAIT_NS at most. */
#define LOCK_WAIT_NS	200000000L
static int lock_for_a_while(struct ushm_ns *ns)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += LOCK_WAIT_NS;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_nsec -= 1000000000L;
		t.tv_sec++;
	}
	return pthread_mutex_timedlock(&ns->hdr->lock, &t);
}

/*
 * The lock is busy: wait for it, 200 ms at a time.  A robust
 * process-shared mutex can lose a wakeup when a waiter is killed as it is
 * woken (docs/INVARIANTS.md, finding 6): a bounded wait turns that hang
 * into a short delay.  An owner that dies
 * is the kernel's business (the next locker gets EOWNERDEAD); but a
 * damaged or hostile registry can name an owner that never existed, and
 * nobody would ever wake us.  So after each wait without the lock, the
 * owner must still exist; twice in a row not: the lock is unusable.
 */
static int lock_slow(struct ushm_ns *ns)
{
	int missing = 0, r;
	pid_t owner = lock_owner(ns);

	/* Already found missing by an earlier call: do not wait again. */
	if (ns->bad_lock && owner == ns->bad_owner && owner_missing(owner))
		missing = 1;
	for (;;) {
		if (!missing) {
			r = lock_for_a_while(ns);
			if (r != ETIMEDOUT)
				return r;
		}
		owner = lock_owner(ns);
		if (owner_missing(owner)) {
			if (++missing >= 2) {
				ns->bad_lock = true;
				ns->bad_owner = owner;
				if (owner > 0)
					ushm__seterr("the registry lock of %s "
						     "is held by thread %d, "
						     "which does not exist; "
						     "`ushm repair` can reset "
						     "it", ns->path,
						     (int)owner);
				else
					ushm__seterr("the registry lock of %s "
						     "is held by no known "
						     "thread; `ushm repair` "
						     "can reset it",
						     ns->path);
				return ESRCH;
			}
		} else {
			missing = 0;
		}
		if (missing) {
			/* Give a real owner, slow to be seen, a while. */
			r = lock_for_a_while(ns);
			if (r != ETIMEDOUT)
				return r;
		}
	}
}

int ushm__lock(struct ushm_ns *ns)
{
	int r = pthread_mutex_trylock(&ns->hdr->lock);

	if (r == EBUSY)
		r = lock_slow(ns);
	if (r == ESRCH)
		return -EUCLEAN;	/* lock_slow said why */
	if (r == EOWNERDEAD) {
		/* The previous owner died inside a critical section. */
		lock_taken(ns);
		ushm__recover_locked(ns, false);
		ns->hdr->recoveries++;
		pthread_mutex_consistent(&ns->hdr->lock);
		return 0;
	}
	if (r != 0) {
		ushm__seterr("the registry lock of %s is unusable (%s); "
			     "`ushm repair` can reset it", ns->path,
			     strerror(r));
		return -EUCLEAN;
	}
	lock_taken(ns);
	return 0;
}

/*
 * For `ushm repair`: a lock whose owner does not exist (lock_slow found
 * it so, twice, a wait apart) protects nobody inside; make a new one
 * and take it.  0 or -EUCLEAN.
 */
int ushm__lock_reset(struct ushm_ns *ns)
{
	if (!ns->bad_lock || lock_owner(ns) != ns->bad_owner ||
	    !owner_missing(ns->bad_owner))
		return -EUCLEAN;
	if (ushm__init_robust(&ns->hdr->lock) != 0)
		return -EUCLEAN;
	ns->hdr->lock_tid = 0;
	ns->bad_lock = false;
	ns->bad_owner = 0;
	ushm__clearerr();
	return ushm__lock(ns);
}

bool ushm__lock_held_here(void)
{
	return lock_depth > 0;
}

/* For tests that run _locked functions on a registry image they built
 * themselves (the fuzz targets), with no lock to take. */
void ushm__test_lock_depth(int delta)
{
	lock_depth += delta;
}

/* In a forked child: the lock the parent's thread held is not ours. */
void ushm__lock_forget(void)
{
	lock_depth = 0;
	my_tid = 0;	/* the parent's thread's, copied */
}

void ushm__unlock(struct ushm_ns *ns)
{
	lock_depth--;
	__atomic_store_n(&ns->hdr->lock_tid, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ns->hdr->lock);
}

/* ---- the key index (ipc.c's, over the registry's table) ---- */

/* Lock-free: the caller validates what it finds under hdr->gen. */
int32_t ushm__key_find(struct ushm_hdr *h, int32_t key)
{
	return ushm__ipc_key_find(ushm__keyidx(h), key);
}

void ushm__key_insert_locked(struct ushm_ns *ns, int32_t key, uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	ushm__ipc_key_insert(ushm__keyidx(h), &h->keyidx_tombs, key, idx);
}

void ushm__key_remove_locked(struct ushm_ns *ns, int32_t key, uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;

	USHM_ASSERT_LOCKED(ns);
	if (ushm__ipc_key_remove(ushm__keyidx(h), &h->keyidx_tombs, key, idx))
		CRASH_POINT("key.removed");
	/* Tombstones lengthen every probe: sweep them when they pile up. */
	if (h->keyidx_tombs > USHM_KEYIDX / 4)
		ushm__key_rebuild_locked(ns);
}

void ushm__key_rebuild_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_keyent *t = ushm__keyidx(h);

	USHM_ASSERT_LOCKED(ns);
	ushm__ipc_key_clear(t, &h->keyidx_tombs);
	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, i);

		if (s->state != SLOT_LIVE || s->key == 0)
			continue;
		/* Two live slots with one key cannot arise from any sequence
		 * of calls or crashes; if a damaged file has them, the later
		 * one becomes private so that lookups stay unambiguous. */
		if (ushm__key_find(h, s->key) >= 0)
			s->key = 0;
		else
			ushm__key_insert_locked(ns, s->key, i);
	}
}

/* ---- derived data ---- */

void ushm__count_slots(struct ushm_hdr *h, struct ushm_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->max_idx = -1;
	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, i);

		if (s->state == SLOT_FREE)
			continue;
		c->in_use++;
		c->shm_tot += s->pages;
		if (SEGF_RESERVES(s->flags))
			c->reserved += ushm__seg_maplen(s);
		c->max_idx = (int32_t)i;
	}
}

void ushm__recount_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_counts c;

	USHM_ASSERT_LOCKED(ns);
	ushm__count_slots(h, &c);
	h->in_use = c.in_use;
	h->shm_tot = c.shm_tot;
	h->reserved = c.reserved;
	h->max_idx = c.max_idx;
}

/* Rebuild the slot attachment lists, nattch and task natt from the
 * records, dropping records that point nowhere.  Returns records dropped. */
static int relink_atts_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t hwm = 0;
	int dropped = 0;

	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		ushm__slot(h, i)->att_head = 0;
		ushm__slot(h, i)->nattch = 0;
	}
	for (uint32_t t = 0; t < USHM_TASKS; t++)
		ushm__task(h, t)->natt = 0;
	if (h->att_hwm > USHM_ATTS)
		h->att_hwm = USHM_ATTS;
	if (h->att_alloc > USHM_ATTS)
		h->att_alloc = USHM_ATTS;
	/* Every allocated record, also beyond a damaged high water mark. */
	for (uint32_t r = 0; r < h->att_hwm || r < h->att_alloc; r++) {
		struct ushm_att *a = ushm__att(h, r);
		struct ushm_slot *s;
		struct ushm_task *t;

		if (a->state == ATT_FREE)
			continue;
		if (a->state != ATT_LIVE || a->slot >= USHM_SLOTS ||
		    a->task >= USHM_TASKS)
			goto drop;
		s = ushm__slot(h, a->slot);
		t = ushm__task(h, a->task);
		if (s->state != SLOT_LIVE || s->seq != a->seq ||
		    t->state == TASK_FREE || t->state > TASK_EMBRYO)
			goto drop;
		if (a->pieces == 0) {
			/* Its last piece was closed by a process that died
			 * before it finished: finish that close (shm_close's
			 * dtime and lpid) and free the record. */
			s->dtime = ushm__now();
			s->lpid = t->pid;
			goto drop;
		}
		a->prev = 0;
		a->next = s->att_head;
		if (s->att_head)
			ushm__att(h, s->att_head - 1)->prev = r + 1;
		s->att_head = r + 1;
		s->nattch += a->pieces;
		t->natt++;
		hwm = r + 1;
		continue;
drop:
		memset(a, 0, sizeof(*a));
		dropped++;
	}
	h->att_hwm = hwm;
	h->att_hint = 0;
	/* Records in use sit on pages that were written, so allocated: a
	 * damaged count of allocated records is raised to cover them. */
	if (h->att_alloc < hwm) {
		h->att_alloc = (hwm + USHM_ATT_CHUNK - 1) / USHM_ATT_CHUNK *
			       USHM_ATT_CHUNK;
		if (h->att_alloc > USHM_ATTS)
			h->att_alloc = USHM_ATTS;
		dropped++;
	}
	return dropped;
}

/* The high water marks cover every entry in use (an entry is counted
 * before it is used, but a damaged file may say otherwise). */
static int highwater_locked(struct ushm_ns *ns)
{
	struct ushm_hdr *h = ns->hdr;
	uint32_t t = USHM_TASKS, th = USHM_THREADS;
	int fixed = 0;

	while (t > 0 && ushm__task(h, t - 1)->state == TASK_FREE)
		t--;
	while (th > 0 && ushm__thread(h, th - 1)->state == THREAD_FREE)
		th--;
	if (h->task_hwm < t) {
		h->task_hwm = t;
		fixed++;
	}
	if (h->thread_hwm < th) {
		h->thread_hwm = th;
		fixed++;
	}
	return fixed;
}

/*
 * Repair after the lock owner died (thorough = false), or for `ushm
 * repair` (thorough = true: also fix values no crash can produce, and
 * reconcile the directory with the slots).  Returns the number of fixes.
 */
int ushm__recover_locked(struct ushm_ns *ns, bool thorough)
{
	struct ushm_hdr *h = ns->hdr;
	int fixed = 0;

	USHM_ASSERT_LOCKED(ns);
	if (h->gen & 1) {
		h->gen++;
		fixed++;
	}
	ushm__wbegin(h);

	/* R4: a creation that made its slot LIVE installs its ids. */
	if (h->intent.op == INTENT_CREATE) {
		if (h->intent.slot < USHM_SLOTS &&
		    ushm__slot(h, h->intent.slot)->state == SLOT_LIVE) {
			h->next_idx = h->intent.next_idx;
			h->last_idx = h->intent.last_idx;
			h->seq = h->intent.seq;
			h->next_id = h->intent.next_id;
		}
		memset(&h->intent, 0, sizeof(h->intent));
		fixed++;
	} else if (h->intent.op == INTENT_SET) {
		/* An IPC_SET that died half-way: complete it. */
		struct ushm_slot *s = h->intent.slot < USHM_SLOTS
					      ? ushm__slot(h, h->intent.slot)
					      : NULL;

		if (s && s->state == SLOT_LIVE && s->seq == h->intent.seq) {
			s->uid = h->intent.uid;
			s->gid = h->intent.gid;
			s->mode = h->intent.mode & (USHM_MODE_PERMS |
						    USHM_MODE_DEST |
						    USHM_MODE_LOCKED);
			s->ctime = h->intent.ctime;
		}
		memset(&h->intent, 0, sizeof(h->intent));
		fixed++;
	} else if (h->intent.op == INTENT_FILE) {
		/* A file being made for a slot that does not know it yet:
		 * debris (the next attach makes it again). */
		struct ushm_slot *s = h->intent.slot < USHM_SLOTS
					      ? ushm__slot(h, h->intent.slot)
					      : NULL;

		if (s && s->state == SLOT_LIVE && !(s->flags & SEGF_FILE) &&
		    s->seq < USHM_SEQ_LIMIT)
			ushm__seg_unlink(ns, s->orig_key,
					 ushm__id(h->intent.slot, s->seq), 0);
		memset(&h->intent, 0, sizeof(h->intent));
		fixed++;
	} else if (h->intent.op != INTENT_NONE) {
		/* No operation writes this: damage. */
		memset(&h->intent, 0, sizeof(h->intent));
		fixed++;
	}

	CRASH_POINT("recover.begin");
	/* R2, R3: undo half-made segments, finish half-destroyed ones. */
	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		static const struct ushm_slot zero;
		struct ushm_slot *s = ushm__slot(h, i);
		bool bad = false;

		if (s->state == SLOT_FREE) {
			/* A creation that died before its slot was CREATING
			 * leaves fields in a free slot: blank it (I3). */
			if (memcmp(s, &zero, sizeof(zero))) {
				memset(s, 0, sizeof(*s));
				fixed++;
			}
			continue;
		}
		if (s->state == SLOT_LIVE) {
			if (thorough && (s->seq >= USHM_SEQ_LIMIT ||
					 s->segsz == 0)) {
				bad = true;
			} else {
				uint32_t m = s->mode & (USHM_MODE_PERMS |
							USHM_MODE_DEST |
							USHM_MODE_LOCKED);
				uint64_t pages = (s->segsz + USHM_PAGE - 1) /
						 USHM_PAGE;

				if (m != s->mode || pages != s->pages) {
					s->mode = m;
					s->pages = pages;
					fixed++;
				}
				/* RMID sets DEST, then the key to 0. */
				if ((s->mode & USHM_MODE_DEST) && s->key) {
					s->key = 0;
					fixed++;
				}
				continue;
			}
		}
		if (s->state == SLOT_CREATING || s->state == SLOT_DESTROYING ||
		    bad || s->state > SLOT_DESTROYING) {
			if (s->seq < USHM_SEQ_LIMIT)
				ushm__seg_unlink(ns, s->orig_key,
						 ushm__id(i, s->seq),
						 s->flags & SEGF_FILE ? s->ino
								      : 0);
			if (s->state == SLOT_DESTROYING)
				h->destroyed++;
			memset(s, 0, sizeof(*s));
			fixed++;
		}
	}

	for (uint32_t t = 0; t < USHM_TASKS; t++) {
		struct ushm_task *k = ushm__task(h, t);

		if (k->state > TASK_EMBRYO) {
			memset(k, 0, sizeof(*k));
			fixed++;
		}
	}
	if (h->task_hwm > USHM_TASKS)
		h->task_hwm = USHM_TASKS;
	if (h->thread_hwm > USHM_THREADS)
		h->thread_hwm = USHM_THREADS;
	for (uint32_t t = 0; t < USHM_THREADS; t++) {
		struct ushm_thread *k = ushm__thread(h, t);

		if (k->state > THREAD_LIVE) {
			k->state = THREAD_FREE;
			fixed++;
		}
	}

	CRASH_POINT("recover.relink");
	fixed += relink_atts_locked(ns);
	ushm__key_rebuild_locked(ns);
	ushm__recount_locked(ns);
	fixed += highwater_locked(ns);

	/* A detach that died after its count fell to 0 but before it
	 * destroyed a segment marked for destruction: finish it (I11). */
	for (int32_t i = 0; i <= ushm__max_idx(h); i++) {
		struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

		if (s->state == SLOT_LIVE && (s->mode & USHM_MODE_DEST) &&
		    s->nattch == 0) {
			ushm__destroy_locked(ns, (uint32_t)i);
			fixed++;
		}
	}

	if (thorough) {
		struct ushm_hdr g;

		/* I1: the geometry is the layout's (the library uses its own
		 * constants; the header's copy is for readers of the file). */
		geometry(&g);
		if (memcmp(h, &g, offsetof(struct ushm_hdr, shared))) {
			memcpy(h, &g, offsetof(struct ushm_hdr, shared));
			fixed++;
		}
		for (uint32_t i = 0; i < USHM_SLOTS; i++) {
			struct ushm_slot *s = ushm__slot(h, i);

			if (s->state == SLOT_LIVE && s->creator > USHM_THREADS) {
				s->creator = 0;
				fixed++;
			}
		}
		if (h->shmmni > USHM_MAX_SHMMNI) {
			h->shmmni = USHM_MAX_SHMMNI;
			fixed++;
		}
		if (h->rmid_forced != 0 && h->rmid_forced != 1) {
			h->rmid_forced = 1;
			fixed++;
		}
		if (h->next_id < -1) {
			h->next_id = -1;
			fixed++;
		}
		if (h->next_idx < 0 || h->next_idx > USHM_SLOTS ||
		    h->last_idx < -1 || h->last_idx >= USHM_SLOTS ||
		    h->seq >= USHM_SEQ_LIMIT) {
			h->next_idx = 0;
			h->last_idx = -1;
			h->seq %= USHM_SEQ_LIMIT;
			fixed++;
		}
	}
	ushm__wend(h);
	return fixed;
}
