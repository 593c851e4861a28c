/*
 * namespace.c - choosing, checking and opening the namespace directory
 * (the counterpart of an ipc_namespace).
 *
 * Selection (DESIGN.md, "Namespace"; README, "Namespaces"):
 *   1. ushm_namespace_set(dir), or else the USHM_DIR environment variable
 *      (read with secure_getenv: a set-user-ID program ignores it);
 *   2. the system namespace /run/ushm.  Root makes it on first use
 *      (sticky, world-writable, root's, with its registry, lock file and
 *      segments/ at once); other users use it if it is a directory of
 *      root's, sticky and world-writable, and otherwise
 *   3. a private one (mode 0700): $XDG_RUNTIME_DIR/ushm, else
 *      /dev/shm/ushm-<uid>, else $TMPDIR/ushm-<uid> (or /tmp).  A place
 *      another user has taken first (a file, a link, a directory not
 *      ours) is passed over for the next.
 * /run belongs to root and is writable by root alone, so no other user
 * can put anything at /run/ushm: a /run/ushm that is not a directory of
 * root's was made by root's own tooling, and root refuses it rather
 * than guess (the error says why).
 *
 * A directory owned by another user than the caller and root, or
 * writable by others without the sticky bit, is refused: whoever controls
 * it could control what the caller's segments are.  Each is opened
 * relative to its parent directory, without following a link at the
 * last step, and made (mkdirat) and given its mode (fchmod) through
 * descriptors, never by a name that could change in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define SYSTEM_PARENT	"/run"
#define SYSTEM_NAME	"ushm"

struct ushm_proc ushm__p = {
	.init_lock = PTHREAD_MUTEX_INITIALIZER,
	.task = -1,
	.embryo = -1,
	.embryo_fd = -1,
};

static int check_dir(const char *path, const struct stat *st, uid_t me)
{
	if (!S_ISDIR(st->st_mode)) {
		ushm__seterr("namespace %s is not a directory", path);
		return -ENOTDIR;
	}
	if (st->st_uid != me && st->st_uid != 0) {
		ushm__seterr("namespace %s belongs to uid %u, neither you nor "
			     "root: refusing to use it", path,
			     (unsigned)st->st_uid);
		return -EACCES;
	}
	if ((st->st_mode & 0022) && !(st->st_mode & S_ISVTX)) {
		ushm__seterr("namespace %s is writable by others without the "
			     "sticky bit: refusing to use it", path);
		return -EACCES;
	}
	return 0;
}

/*
 * Open directory NAME of PARENTFD (PATH in full, for messages), making
 * it with CREATE_MODE if that is not 0 and it does not exist.  Made 0700
 * and then given its mode through the descriptor, whatever the umask; in
 * the meantime no one else can replace it: its parent is ours or root's,
 * sticky if others may write it.  Returns the descriptor, or a negative
 * errno with the reason.
 */
static int open_dir(int parentfd, const char *name, const char *path,
		    int create_mode)
{
	uid_t me = (uid_t)syscall(SYS_geteuid);
	bool made = false;
	struct stat st;
	int fd, r;

	for (;;) {
		fd = ushm__os_open_beneath(parentfd, name, O_RDONLY |
					   O_DIRECTORY | O_CLOEXEC, 0);
		if (fd >= 0)
			break;
		r = -errno;
		if (r == -ENOENT && create_mode && !made) {
			if (ushm__os_mkdirat(parentfd, name, 0700) == 0) {
				made = true;
				continue;
			}
			if (errno == EEXIST)
				continue;	/* made meanwhile */
			r = -errno;
		}
		if (r == -ENOTDIR || r == -ELOOP)
			ushm__seterr("namespace %s is not a directory (or is a "
				     "symbolic link)", path);
		else
			ushm__seterr("cannot %s namespace %s: %s",
				     r == -ENOENT || !create_mode ? "open"
								  : "make",
				     path, strerror(-r));
		return r == -ELOOP ? -ENOTDIR : r;
	}
	if (ushm__os_fstat(fd, &st) < 0) {
		r = -errno;
		ushm__seterr("cannot stat namespace %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	if (made && st.st_uid == me &&
	    (st.st_mode & 07777) != (mode_t)create_mode) {
		if (ushm__os_fchmod(fd, (mode_t)create_mode) < 0) {
			r = -errno;
			ushm__seterr("cannot make namespace %s mode %04o: %s",
				     path, (unsigned)create_mode,
				     strerror(errno));
			goto fail;
		}
		st.st_mode = (st.st_mode & ~07777u) | (mode_t)create_mode;
	}
	if ((r = check_dir(path, &st, me)) != 0)
		goto fail;
	return fd;
fail:
	ushm__os_close(fd);
	return r;
}

/* Open namespace directory DIRFD (PATH) as a namespace. */
static int ns_from_dir(int dirfd, const char *path, struct ushm_ns **out)
{
	struct ushm_ns *ns;
	struct stat st;
	int r;

	if (strlen(path) >= sizeof(ns->path)) {
		ushm__os_close(dirfd);
		ushm__seterr("namespace path is too long");
		return -ENAMETOOLONG;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		ushm__os_close(dirfd);
		return -ENOMEM;
	}
	strcpy(ns->path, path);
	ns->dirfd = dirfd;
	ns->lockfd = -1;
	ns->segfd = -1;
	ns->regfd = -1;
	if (ushm__os_fstat(ns->dirfd, &st) < 0) {
		r = -errno;
		ushm__seterr("cannot stat namespace %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	ns->owner = st.st_uid;
	ns->shared = (st.st_mode & S_ISVTX) && (st.st_mode & 0002);
	r = ushm__registry_open(ns);
	if (r)
		goto fail;
	ushm__sem_file_prepare(ns);
	*out = ns;
	return 0;
fail:
	ushm__os_close(ns->dirfd);
	free(ns);
	return r;
}

/* A PATH with no last name to make or look at ("/", "x/.", ".."):
 * opened as it is. */
static int open_whole(const char *path, struct ushm_ns **out)
{
	struct stat st;
	int fd, r;

	fd = ushm__os_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY |
			     O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		ushm__seterr("cannot open namespace %s: %s", path,
			     strerror(-r));
		return r;
	}
	if (ushm__os_fstat(fd, &st) < 0) {
		r = -errno;
		ushm__seterr("cannot stat namespace %s: %s", path,
			     strerror(-r));
	} else {
		r = check_dir(path, &st, (uid_t)syscall(SYS_geteuid));
	}
	if (r) {
		ushm__os_close(fd);
		return r;
	}
	return ns_from_dir(fd, path, out);
}

/* Open PATH as a namespace.  CREATE_MODE, if not 0, is the mode to make
 * it with when it does not exist.  The directories on the way to it are
 * the caller's choice; the last one is opened without following a link
 * (an explicit path that ends in a link is refused, as ENOTDIR). */
int ushm__ns_open(const char *path, int create_mode, struct ushm_ns **out)
{
	char parent[PATH_MAX];
	const char *name;
	size_t len;
	int pfd, fd;

	if (!path || !*path || (len = strlen(path)) >= sizeof(parent)) {
		ushm__seterr("namespace path is empty or too long");
		return -ENAMETOOLONG;
	}
	memcpy(parent, path, len + 1);
	while (len > 1 && parent[len - 1] == '/')
		parent[--len] = '\0';
	name = strrchr(parent, '/');
	if (!name) {
		name = parent;
		pfd = AT_FDCWD;
	} else {
		parent[name - parent] = '\0';
		name++;
		pfd = -1;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return open_whole(path, out);
	if (pfd < 0) {
		pfd = ushm__os_openat(AT_FDCWD, *parent ? parent : "/",
				      O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (pfd < 0) {
			int e = errno;

			ushm__seterr("cannot open namespace %s: %s", path,
				     strerror(e));
			return e == ELOOP ? -ENOTDIR : -e;
		}
	}
	fd = open_dir(pfd, name, path, create_mode);
	if (pfd != AT_FDCWD)
		ushm__os_close(pfd);
	if (fd < 0)
		return fd;
	return ns_from_dir(fd, path, out);
}

void ushm__ns_close(struct ushm_ns *ns)
{
	if (!ns)
		return;
	ushm__sem_ns_closed(ns);
	if (ns->hdr)
		ushm__os_munmap(ns->hdr, ns->maplen);
	if (ns->lockfd >= 0)
		ushm__os_close(ns->lockfd);
	if (ns->segfd >= 0)
		ushm__os_close(ns->segfd);
	if (ns->regfd >= 0)
		ushm__os_close(ns->regfd);
	if (ns->dirfd >= 0)
		ushm__os_close(ns->dirfd);
	free(ns);
}

/*
 * A parent directory of a default namespace: PATH, a directory of root's
 * or ours (OWNER_ME: ours only), which others may write only if it is
 * sticky.  Its descriptor, or -1 when it is unfit (then the next
 * default).
 */
static int open_parent(const char *path, bool owner_me)
{
	uid_t me = (uid_t)syscall(SYS_geteuid);
	struct stat st;
	int fd;

	if (path[0] != '/')
		return -1;	/* relative: not a default of anyone's */
	fd = ushm__os_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY |
			     O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (ushm__os_fstat(fd, &st) < 0 ||
	    (st.st_uid != me && (owner_me || st.st_uid != 0)) ||
	    ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))) {
		ushm__os_close(fd);
		return -1;
	}
	return fd;
}

/*
 * A default namespace: NAME in the directory PARENT (see open_parent),
 * made with CREATE_MODE if it does not exist.  0, or a negative errno;
 * *PASS is set when the place itself is unfit or taken by someone else
 * (then the next default is tried), not when the namespace in it is
 * damaged (that is said, not hidden behind another namespace).
 */
static int try_default(const char *parent, bool owner_me, const char *name,
		       int create_mode, struct ushm_ns **out, bool *pass)
{
	char path[PATH_MAX];
	int pfd, fd;

	*pass = true;
	if (snprintf(path, sizeof(path), "%s/%s", parent, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((pfd = open_parent(parent, owner_me)) < 0)
		return -ENOENT;
	fd = open_dir(pfd, name, path, create_mode);
	ushm__os_close(pfd);
	if (fd < 0)
		return fd;
	*pass = false;
	return ns_from_dir(fd, path, out);
}

/* Whether the system namespace is there for a user other than root: a
 * directory of root's, sticky and world-writable. */
static bool system_ns_ready(void)
{
	struct stat st;
	int pfd = open_parent(SYSTEM_PARENT, false), fd;
	bool ok;

	if (pfd < 0)
		return false;
	fd = ushm__os_open_beneath(pfd, SYSTEM_NAME, O_RDONLY | O_DIRECTORY |
				   O_CLOEXEC, 0);
	ushm__os_close(pfd);
	if (fd < 0)
		return false;
	ok = ushm__os_fstat(fd, &st) == 0 && st.st_uid == 0 &&
	     (st.st_mode & S_ISVTX) && (st.st_mode & 0002);
	ushm__os_close(fd);
	return ok;
}

/* Open the default namespace (see the top of this file). */
static int open_default(struct ushm_ns **out)
{
	uid_t me = (uid_t)syscall(SYS_geteuid);
	const char *env = secure_getenv("USHM_DIR");
	char name[32];
	bool pass;
	int r;

	if (env && *env)
		return ushm__ns_open(env, 0700, out);
	if (me == 0 || system_ns_ready()) {
		r = try_default(SYSTEM_PARENT, false, SYSTEM_NAME,
				me == 0 ? 01777 : 0, out, &pass);
		/* Root's: /run is root's, so whatever is wrong with it is
		 * said, not passed over; unless there is no /run at all. */
		if (me != 0 || !pass || r != -ENOENT)
			return r;
	}
	snprintf(name, sizeof(name), "ushm-%u", (unsigned)me);
	env = secure_getenv("XDG_RUNTIME_DIR");
	if (env && *env) {
		r = try_default(env, true, "ushm", 0700, out, &pass);
		if (!pass)
			return r;
	}
	r = try_default("/dev/shm", false, name, 0700, out, &pass);
	if (!pass)
		return r;
	env = secure_getenv("TMPDIR");
	if (env && *env) {
		r = try_default(env, false, name, 0700, out, &pass);
		if (!pass)
			return r;
	}
	r = try_default("/tmp", false, name, 0700, out, &pass);
	if (pass && r == -ENOENT)
		ushm__seterr("no place for a private namespace: /dev/shm and "
			     "/tmp are unusable, or taken by other users");
	return r;
}

struct ushm_ns *ushm__ns(int *err)
{
	struct ushm_ns *ns = __atomic_load_n(&ushm__p.ns, __ATOMIC_ACQUIRE);

	if (ns)
		return ns;
	pthread_mutex_lock(&ushm__p.init_lock);
	ns = ushm__p.ns;
	if (!ns) {
		ushm__task_fork_init();
		*err = open_default(&ns);
		if (*err == 0) {
			ushm__p.pid = getpid();
			__atomic_store_n(&ushm__p.ns, ns, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&ushm__p.init_lock);
	return ns;
}

struct ushm_ns *ushm__ns_locked(int *err)
{
	struct ushm_ns *ns;

	ushm__clearerr();
	if (!(ns = ushm__ns(err)))
		return NULL;
	if ((*err = ushm__lock(ns)) != 0)
		return NULL;
	return ns;
}

int ushm_namespace_set(const char *dir)
{
	struct ushm_ns *ns = NULL, *old;
	int r;

	ushm__clearerr();
	pthread_mutex_lock(&ushm__p.init_lock);
	if (ushm__p.nlocals > 0) {
		ushm__seterr("this process has segments attached in %s",
			     ushm__p.ns ? ushm__p.ns->path : "?");
		r = -EBUSY;
		goto out;
	}
	ushm__task_fork_init();
	r = dir ? ushm__ns_open(dir, 0700, &ns) : open_default(&ns);
	if (r)
		goto out;
	old = ushm__p.ns;
	ushm__p.pid = getpid();
	ushm__p.task = -1;
	__atomic_store_n(&ushm__p.ns, ns, __ATOMIC_RELEASE);
	/* Closing the old lock file ends our task there: with no
	 * attachments, it owns nothing.  The old registry stays mapped:
	 * threads of ours may hold robust mutexes in it (thread.c), and the
	 * C library's robust-mutex list would then point into unmapped
	 * memory. */
	if (old) {
		old->hdr = NULL;
		ushm__ns_close(old);
	}
	ushm__fd_reset();
out:
	pthread_mutex_unlock(&ushm__p.init_lock);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

const char *ushm_namespace_path(void)
{
	int err = 0;
	struct ushm_ns *ns = ushm__ns(&err);

	if (!ns) {
		errno = -err;
		return NULL;
	}
	return ns->path;
}

int ushm_namespace_create(const char *dir, int shared)
{
	struct ushm_ns *ns;
	int r;

	ushm__clearerr();
	r = ushm__ns_open(dir, shared ? 01777 : 0700, &ns);
	if (r) {
		errno = -r;
		return -1;
	}
	ushm__ns_close(ns);
	return 0;
}
