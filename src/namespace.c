/*
 * namespace.c - choosing, checking and opening the namespace directory
 * (the counterpart of an ipc_namespace).
 *
 * Selection (DESIGN.md, "Namespace"):
 *   1. ushm_namespace_set(dir), or else the USHM_DIR environment variable;
 *   2. the system namespace /dev/shm/ushm, if it is root's and sticky
 *      (root creates it, sticky and world-writable, on first use);
 *   3. for other users, a private one: $XDG_RUNTIME_DIR/ushm, else
 *      /dev/shm/ushm-<uid>, else $TMPDIR/ushm-<uid> (mode 0700).
 * A directory owned by another user than the caller and root, or
 * writable by others without the sticky bit, is refused: whoever controls
 * it could control what the caller's segments are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define SYSTEM_NS	"/dev/shm/ushm"

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

/* mkdir that sets the exact mode whatever the umask. */
static int make_dir(const char *path, mode_t mode)
{
	if (ushm__os_mkdirat(AT_FDCWD, path, 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (mode != 0700 && ushm__os_fchmodat(AT_FDCWD, path, mode) < 0)
		return -errno;
	return 0;
}

/* Open PATH as a namespace.  CREATE_MODE, if not 0, is the mode to make
 * it with when it does not exist. */
int ushm__ns_open(const char *path, int create_mode, struct ushm_ns **out)
{
	uid_t me = (uid_t)syscall(SYS_geteuid);
	struct ushm_ns *ns;
	struct stat st;
	int r;

	if (!path || !*path || strlen(path) >= sizeof(ns->path)) {
		ushm__seterr("namespace path is empty or too long");
		return -ENAMETOOLONG;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	strcpy(ns->path, path);
	ns->lockfd = -1;
	ns->segfd = -1;
	ns->regfd = -1;
	for (int attempt = 0;; attempt++) {
		ns->dirfd = ushm__os_openat(AT_FDCWD, path, O_RDONLY |
					    O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC, 0);
		if (ns->dirfd >= 0)
			break;
		r = -errno;
		if (r == -ENOENT && create_mode && attempt == 0) {
			r = make_dir(path, (mode_t)create_mode);
			if (r == 0)
				continue;
		}
		if (r == -ENOTDIR || r == -ELOOP)
			ushm__seterr("namespace %s is not a directory (or is a "
				     "symbolic link)", path);
		else
			ushm__seterr("cannot open namespace %s: %s", path,
				     strerror(-r));
		if (r == -ELOOP)
			r = -ENOTDIR;
		goto fail;
	}
	if (ushm__os_fstat(ns->dirfd, &st) < 0) {
		r = -errno;
		ushm__seterr("cannot stat namespace %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	r = check_dir(path, &st, me);
	if (r)
		goto fail;
	ns->owner = st.st_uid;
	ns->shared = (st.st_mode & S_ISVTX) && (st.st_mode & 0002);
	r = ushm__registry_open(ns);
	if (r)
		goto fail;
	*out = ns;
	return 0;
fail:
	if (ns->dirfd >= 0)
		ushm__os_close(ns->dirfd);
	free(ns);
	return r;
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

/* Work out the default namespace; returns its creation mode. */
static int default_path(char *buf, size_t len)
{
	uid_t me = (uid_t)syscall(SYS_geteuid);
	const char *env = getenv("USHM_DIR");
	struct stat st;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return 0700;
	}
	snprintf(buf, len, "%s", SYSTEM_NS);
	if (me == 0)
		return 01777;
	if (ushm__os_fstatat(AT_FDCWD, SYSTEM_NS, &st,
			     AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & S_ISVTX))
		return 0;
	env = getenv("XDG_RUNTIME_DIR");
	if (env && *env && ushm__os_fstatat(AT_FDCWD, env, &st, 0) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == me) {
		snprintf(buf, len, "%s/ushm", env);
		return 0700;
	}
	if (ushm__os_fstatat(AT_FDCWD, "/dev/shm", &st, 0) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(buf, len, "/dev/shm/ushm-%u", (unsigned)me);
		return 0700;
	}
	env = getenv("TMPDIR");
	snprintf(buf, len, "%s/ushm-%u", env && *env ? env : "/tmp",
		 (unsigned)me);
	return 0700;
}

struct ushm_ns *ushm__ns(int *err)
{
	struct ushm_ns *ns = __atomic_load_n(&ushm__p.ns, __ATOMIC_ACQUIRE);
	char path[PATH_MAX];
	int mode;

	if (ns)
		return ns;
	pthread_mutex_lock(&ushm__p.init_lock);
	ns = ushm__p.ns;
	if (!ns) {
		ushm__task_fork_init();
		mode = default_path(path, sizeof(path));
		*err = ushm__ns_open(path, mode, &ns);
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
	char path[PATH_MAX];
	struct ushm_ns *ns = NULL, *old;
	int r, mode = 0700;

	ushm__clearerr();
	if (!dir) {
		mode = default_path(path, sizeof(path));
		dir = path;
	}
	pthread_mutex_lock(&ushm__p.init_lock);
	if (ushm__p.nlocals > 0) {
		ushm__seterr("this process has segments attached in %s",
			     ushm__p.ns ? ushm__p.ns->path : "?");
		r = -EBUSY;
		goto out;
	}
	ushm__task_fork_init();
	r = ushm__ns_open(dir, mode, &ns);
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
