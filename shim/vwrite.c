/*
 * vwrite.c - writes to the virtual sysctls /proc/sys/kernel/shm*.
 *
 * The kernel parses a sysctl write in write() itself and fails it there
 * (EINVAL for a value out of range).  A memfd cannot do that, so the
 * shim sees every write(): the exported write() catches calls through
 * the PLT, and patch.c sends libc's own write (which stdio's fflush,
 * bash's `echo N > FILE` and coreutils' echo use internally) here too.
 *
 * Which descriptors are sysctls?  vfile.c registers each memfd it opens
 * for writing: its inode, and an open file description of our own on
 * it.  Descriptors get dup2'd (bash moves the file onto fd 1), inherited
 * by children and kept across exec, so a write is matched by the inode
 * (fstat), not by the descriptor number; after exec, the constructor
 * finds inherited ones by their memfd name (shim__sysctl_adopt).
 *
 * Cost: while no sysctl is open for writing, write() is one load and a
 * writev() (same semantics as write(), also a cancellation point; libc's
 * write itself may be patched, so it cannot be called).  While one may
 * be open, each write costs an fstat.  To know when none is open any
 * more, the sysctl's own open file description holds an OFD lock on it,
 * which the kernel drops when the last descriptor of that description
 * closes; our own description tests it (F_OFD_GETLK), and a write to any
 * other file sweeps the registrations whose lock is gone.
 *
 * The write itself follows proc_sys_call_handler with the default
 * sysctl_writes_strict=1: a write at file position 0 is parsed as a
 * whole (ushm_limit_set: EINVAL, EACCES), and on success consumes
 * everything and advances the position; a write at another position is
 * ignored, yet reported as written in full (as the kernel does).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"
#include "ushm.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define NREG 32
#define MEMFD_PREFIX "/memfd:ushm-"

struct reg {
	int used;		/* 0 free, 1 being set up, 2 live */
	int priv;		/* our own description of the memfd */
	dev_t dev;
	ino_t ino;
	enum shim_vfile v;
};

static struct reg regs[NREG];
static int nregs;		/* live registrations: the fast path's test */

/* ---- who may write ---- */

/*
 * The kernel checks at open(): root owns /proc/sys/kernel (0644), and
 * shm_next_id (0444) opens for writing only with CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE.  The library knows the rule (with the
 * namespace's owner in root's place for its own namespace); asking it
 * early makes the open fail as the kernel's does.
 */
int shim__sysctl_may_write(enum shim_vfile v)
{
	return ushm_limit_may_set(shim__vfile_limit(v)) == 0 ? 0 : -errno;
}

/* ---- registrations ---- */

static void lock_description(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 1 };

	shim_raw3(SYS_fcntl, fd, F_OFD_SETLK, &fl);
}

/* Whether some descriptor of the sysctl's description is still open. */
static bool still_open(const struct reg *r)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 1 };

	if (shim_raw3(SYS_fcntl, r->priv, F_OFD_GETLK, &fl) != 0)
		return false;
	return fl.l_type != F_UNLCK;
}

int shim__sysctl_register(int fd, enum shim_vfile v)
{
	char self[40];
	struct stat st;
	long priv;

	if (shim_raw3(SYS_fstat, fd, &st, 0) != 0)
		return -EIO;
	for (int i = 0; i < NREG; i++)
		if (__atomic_load_n(&regs[i].used, __ATOMIC_ACQUIRE) == 2 &&
		    regs[i].dev == st.st_dev && regs[i].ino == st.st_ino)
			return 0;	/* known already */
	lock_description(fd);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	priv = shim_raw6(SYS_openat, AT_FDCWD, (long)self,
			 O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (priv < 0)
		return (int)priv;
	for (int i = 0; i < NREG; i++) {
		int free_ = 0;

		if (!__atomic_compare_exchange_n(&regs[i].used, &free_, 1,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		regs[i].priv = (int)priv;
		regs[i].dev = st.st_dev;
		regs[i].ino = st.st_ino;
		regs[i].v = v;
		__atomic_add_fetch(&nregs, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&regs[i].used, 2, __ATOMIC_RELEASE);
		return 0;
	}
	shim_raw3(SYS_close, priv, 0, 0);
	return -EMFILE;
}

/* Drop registrations whose description is closed everywhere. */
static void sweep(void)
{
	for (int i = 0; i < NREG; i++) {
		int live = 2;

		if (__atomic_load_n(&regs[i].used, __ATOMIC_ACQUIRE) != 2 ||
		    still_open(&regs[i]))
			continue;
		if (!__atomic_compare_exchange_n(&regs[i].used, &live, 1, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		shim_raw3(SYS_close, regs[i].priv, 0, 0);
		__atomic_sub_fetch(&nregs, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&regs[i].used, 0, __ATOMIC_RELEASE);
	}
}

/* FD, inherited, is a sysctl memfd if its link TARGET names one
 * ("/memfd:ushm-shmmni (deleted)"); register it if it was opened for
 * writing. */
static void adopt_fd(int fd, const char *target)
{
	const char *t = target + strlen(MEMFD_PREFIX);
	int fl;

	for (int v = VF_NONE + 1; v < VF_N; v++) {
		const char *name = shim__vfile_limit((enum shim_vfile)v);
		size_t l = name ? strlen(name) : 0;

		if (!name || strncmp(t, name, l) || (t[l] && t[l] != ' '))
			continue;
		fl = (int)shim_raw3(SYS_fcntl, fd, F_GETFL, 0);
		if (fl >= 0 && (fl & O_ACCMODE) != O_RDONLY)
			shim__sysctl_register(fd, (enum shim_vfile)v);
		return;
	}
}

/* After exec: descriptors of sysctl memfds that we inherited. */
void shim__sysctl_adopt(void)
{
	char link[40], target[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    fd == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, MEMFD_PREFIX, strlen(MEMFD_PREFIX)))
			adopt_fd(fd, target);
	}
	closedir(d);
}

/* ---- write ---- */

static ssize_t real_write(int fd, const void *buf, size_t n)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

	return writev(fd, &iov, 1);
}

static ssize_t sysctl_write(int fd, enum shim_vfile v, const void *buf,
			    size_t n)
{
	char text[256];
	long pos = shim_raw3(SYS_lseek, fd, 0, SEEK_CUR);

	if (pos > 0)
		return (ssize_t)n;	/* sysctl_writes_strict: ignored */
	if (n >= sizeof(text)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(text, buf, n);
	text[n] = '\0';
	if (ushm_limit_set(shim__vfile_limit(v), text) != 0)
		return -1;
	shim_raw3(SYS_lseek, fd, (long)n, SEEK_CUR);
	return (ssize_t)n;
}

static ssize_t slow_write(int fd, const void *buf, size_t n)
{
	struct stat st;

	if (shim_raw3(SYS_fstat, fd, &st, 0) == 0) {
		for (int i = 0; i < NREG; i++) {
			if (__atomic_load_n(&regs[i].used, __ATOMIC_ACQUIRE) ==
				    2 &&
			    regs[i].dev == st.st_dev &&
			    regs[i].ino == st.st_ino)
				return sysctl_write(fd, regs[i].v, buf, n);
		}
	}
	sweep();
	return real_write(fd, buf, n);
}

ssize_t shim__write(int fd, const void *buf, size_t n)
{
	if (__builtin_expect(!__atomic_load_n(&nregs, __ATOMIC_RELAXED), 1))
		return real_write(fd, buf, n);
	return slow_write(fd, buf, n);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	return shim__write(fd, buf, n);
}
