/*
 * os.c - the library's system calls, behind one seam (see os.h).
 *
 * Fault injection state is process-wide and meant for single-threaded
 * tests; it is read with relaxed atomics so that threads using the library
 * at the same time do not race on it.
 */
#include "os.h"

#include <errno.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *const call_names[OS_NCALLS] = {
	[OS_OPENAT] = "openat", [OS_CLOSE] = "close", [OS_FSTAT] = "fstat",
	[OS_FSTATAT] = "fstatat", [OS_FTRUNCATE] = "ftruncate",
	[OS_FALLOCATE] = "fallocate", [OS_FCHMOD] = "fchmod",
	[OS_FCHOWN] = "fchown", [OS_MMAP] = "mmap", [OS_MUNMAP] = "munmap",
	[OS_MKDIRAT] = "mkdirat", [OS_UNLINKAT] = "unlinkat",
	[OS_LINKAT] = "linkat", [OS_LOCK] = "lock", [OS_FSTATFS] = "fstatfs",
	[OS_COPY] = "copy",
	[OS_XATTR] = "xattr", [OS_READ] = "read", [OS_DUP] = "dup",
};

/* Armed faults: call fails when its countdown reaches 1, for repeat calls. */
static struct {
	int countdown;
	int err;
	int repeat;
} faults[OS_NCALLS];
static int fault_armed;		/* any countdown set */
static int fault_fired;

const char *ushm__os_call_name(enum ushm_os_call call)
{
	return call < OS_NCALLS ? call_names[call] : "?";
}

int ushm__os_fault(enum ushm_os_call call, int nth, int err, int repeat)
{
	int fired = __atomic_load_n(&fault_fired, __ATOMIC_RELAXED);

	if (call >= OS_NCALLS) {
		memset(faults, 0, sizeof(faults));
		__atomic_store_n(&fault_armed, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&fault_fired, 0, __ATOMIC_RELAXED);
		return fired;
	}
	faults[call].countdown = nth;
	faults[call].err = err;
	faults[call].repeat = repeat > 0 ? repeat : 1;
	__atomic_store_n(&fault_armed, 1, __ATOMIC_RELAXED);
	return fired;
}

/* Returns the errno the call must fail with now, or 0. */
static int fault(enum ushm_os_call call)
{
	if (!__atomic_load_n(&fault_armed, __ATOMIC_RELAXED))
		return 0;
	if (faults[call].countdown <= 0)
		return 0;
	if (faults[call].countdown > 1) {
		faults[call].countdown--;
		return 0;
	}
	if (--faults[call].repeat <= 0)
		faults[call].countdown = 0;
	__atomic_add_fetch(&fault_fired, 1, __ATOMIC_RELAXED);
	return faults[call].err;
}

/* For the calls that are retried on EINTR: an injected fault comes
 * from inside the loop, as a real EINTR would, so it is retried too. */
#define RETRY(call, r, expr)                                               \
	do {                                                               \
		int e_ = fault(call);                                      \
		if (e_) {                                                  \
			errno = e_;                                        \
			(r) = -1;                                          \
		} else {                                                   \
			(r) = (expr);                                      \
		}                                                          \
	} while ((r) < 0 && errno == EINTR)

#define FAULT(call, fail)                                                  \
	do {                                                               \
		int e_ = fault(call);                                      \
		if (e_) {                                                  \
			errno = e_;                                        \
			return fail;                                       \
		}                                                          \
	} while (0)

int ushm__os_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	RETRY(OS_OPENAT, fd, openat(dirfd, path, flags, mode));
	return fd;
}

int ushm__os_close(int fd)
{
	FAULT(OS_CLOSE, -1);
	/* Linux closes the descriptor even when close() reports EINTR. */
	return close(fd);
}

int ushm__os_fstat(int fd, struct stat *st)
{
	FAULT(OS_FSTAT, -1);
	return fstat(fd, st);
}

int ushm__os_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	FAULT(OS_FSTATAT, -1);
	return fstatat(dirfd, path, st, flags);
}

int ushm__os_ftruncate(int fd, off_t len)
{
	int r;

	RETRY(OS_FTRUNCATE, r, ftruncate(fd, len));
	return r;
}

int ushm__os_fallocate(int fd, off_t off, off_t len)
{
	int r;

	RETRY(OS_FALLOCATE, r, fallocate(fd, 0, off, len));
	return r;
}

int ushm__os_fchmod(int fd, mode_t mode)
{
	FAULT(OS_FCHMOD, -1);
	return fchmod(fd, mode);
}

int ushm__os_fchown(int fd, uid_t uid, gid_t gid)
{
	FAULT(OS_FCHOWN, -1);
	return fchown(fd, uid, gid);
}

long ushm__os_raw(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(USHM_RAW_ASM) && defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(USHM_RAW_ASM) && defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#else
	/* Elsewhere the library exports no syscall() (os.h), so libc's is
	 * not ours. */
	long r = syscall(n, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
#endif
}

/* The memory calls go straight to the kernel: the library wraps the C
 * library's mmap, munmap, mprotect, mremap and syscall (vma.c), and must
 * not meet its own wrappers. */
void *ushm__os_mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	FAULT(OS_MMAP, MAP_FAILED);
	return (void *)ushm__os_libc(ushm__os_raw(SYS_mmap, (long)addr,
					       (long)len, prot, flags, fd,
					       (long)off));
}

int ushm__os_munmap(void *addr, size_t len)
{
	FAULT(OS_MUNMAP, -1);
	return (int)ushm__os_libc(ushm__os_raw3(SYS_munmap, addr, len, 0));
}

int ushm__os_mkdirat(int dirfd, const char *path, mode_t mode)
{
	FAULT(OS_MKDIRAT, -1);
	return mkdirat(dirfd, path, mode);
}

int ushm__os_unlinkat(int dirfd, const char *path, int flags)
{
	FAULT(OS_UNLINKAT, -1);
	return unlinkat(dirfd, path, flags);
}

int ushm__os_linkat(int olddirfd, const char *oldpath, int newdirfd,
		    const char *newpath, int flags)
{
	FAULT(OS_LINKAT, -1);
	return linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

int ushm__os_fstatfs(int fd, struct statfs *st)
{
	FAULT(OS_FSTATFS, -1);
	return fstatfs(fd, st);
}

ssize_t ushm__os_pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	RETRY(OS_READ, n, pread(fd, buf, len, off));
	return n;
}

int ushm__os_dup(int fd)
{
	FAULT(OS_DUP, -1);
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/*
 * ---- Files in directories other users may write (segfile.c,
 * registry.c, namespace.c): opened without following any link, then
 * changed only through the descriptor. ----
 */

/* 0: openat2 not tried yet, 1: the kernel has it, -1: ENOSYS (before
 * 5.6, or a sandbox that hides it). */
static int have_openat2;

int ushm__os_open_beneath(int dirfd, const char *name, int flags,
			  mode_t mode)
{
	struct open_how how;
	int fd;

	flags |= O_NOFOLLOW;
	if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED) >= 0) {
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)flags;
		/* openat2 refuses a mode without O_CREAT or O_TMPFILE. */
		how.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
				   ? mode & 07777 : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			      RESOLVE_NO_MAGICLINKS;
		RETRY(OS_OPENAT, fd, (int)syscall(SYS_openat2, dirfd, name,
						  &how, sizeof(how)));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
			__atomic_store_n(&have_openat2, 1, __ATOMIC_RELAXED);
			return fd;
		}
		/* ENOSYS: a kernel before 5.6, or a seccomp filter that
		 * hides it; EPERM: some container filters block openat2
		 * that way (openat below then says whether EPERM is real). */
		if (errno == ENOSYS)
			__atomic_store_n(&have_openat2, -1, __ATOMIC_RELAXED);
	}
	/* The names the library opens this way are one component each, so
	 * O_NOFOLLOW (on the last component) is all openat2 added. */
	RETRY(OS_OPENAT, fd, openat(dirfd, name, flags, mode));
	return fd;
}

int ushm__os_fsetxattr(int fd, const char *name, const void *val,
		       size_t len)
{
	FAULT(OS_XATTR, -1);
	return fsetxattr(fd, name, val, len, 0);
}

int ushm__os_fremovexattr(int fd, const char *name)
{
	FAULT(OS_XATTR, -1);
	return fremovexattr(fd, name);
}

/* The same, on an O_PATH descriptor (which fchmod and fsetxattr refuse):
 * through its /proc/self/fd link, which the kernel resolves to the very
 * file the descriptor is open on, not by any name in a directory. */
static void fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

int ushm__os_fchmod_opath(int fd, mode_t mode)
{
	char p[40];

	FAULT(OS_FCHMOD, -1);
	fd_path(p, sizeof(p), fd);
	return chmod(p, mode);
}

int ushm__os_fsetxattr_opath(int fd, const char *name, const void *val,
			     size_t len)
{
	char p[40];

	FAULT(OS_XATTR, -1);
	fd_path(p, sizeof(p), fd);
	return setxattr(p, name, val, len, 0);
}

int ushm__os_fremovexattr_opath(int fd, const char *name)
{
	char p[40];

	FAULT(OS_XATTR, -1);
	fd_path(p, sizeof(p), fd);
	return removexattr(p, name);
}

/* ---- end of the file wrappers ---- */

bool ushm__os_tid_exists(pid_t tid)
{
	/* kill(2) takes a thread's id as well as a process's. */
	return kill(tid, 0) == 0 || errno != ESRCH;
}

static int ofd_lock(int fd, int cmd, short type, off_t byte,
		    struct flock *fl)
{
	int r;

	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = byte;
	fl->l_len = 1;
	RETRY(OS_LOCK, r, fcntl(fd, cmd, fl));
	return r;
}

int ushm__os_lock_byte(int fd, off_t byte)
{
	struct flock fl;

	return ofd_lock(fd, F_OFD_SETLK, F_WRLCK, byte, &fl);
}

int ushm__os_byte_locked(int fd, off_t byte)
{
	struct flock fl;

	if (ofd_lock(fd, F_OFD_GETLK, F_WRLCK, byte, &fl) < 0)
		return -1;
	return fl.l_type != F_UNLCK;
}

/*
 * Buffers on the calling thread's stack, between this frame and the top
 * of the stack, are known to be mapped and writable: they are copied
 * directly.  Anything else goes through the kernel, which reports EFAULT
 * where a plain copy would raise SIGSEGV.
 */
static __thread uintptr_t stack_top;

static int on_my_stack(const void *p, size_t len)
{
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0);
	uintptr_t a = (uintptr_t)p;

	if (!stack_top) {
		pthread_attr_t at;
		void *base;
		size_t size;

		if (pthread_getattr_np(pthread_self(), &at) != 0)
			return 0;
		if (pthread_attr_getstack(&at, &base, &size) == 0)
			stack_top = (uintptr_t)base + size;
		pthread_attr_destroy(&at);
	}
	return a >= lo && a + len >= a && a + len <= stack_top;
}

/* The slow path: process_vm_{read,write}v on ourselves, or, where a
 * sandbox refuses that, a pipe (read(2) into a bad buffer gives EFAULT). */
static int kernel_copy(void *dst, const void *src, size_t len, int out)
{
	struct iovec local, remote;
	int p[2];
	ssize_t n;

	local.iov_base = out ? (void *)src : dst;
	local.iov_len = len;
	remote.iov_base = out ? dst : (void *)src;
	remote.iov_len = len;
	n = out ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
		: process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT) {
		errno = EFAULT;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	n = write(p[1], src, len);
	if (n == (ssize_t)len)
		n = read(p[0], dst, len);
	close(p[0]);
	close(p[1]);
	if (n != (ssize_t)len) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}

static int bad_user_range(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	/* NULL page, the kernel half, and wrap-around: EFAULT at once. */
	return a < 4096 || a + len < a || a + len > 0x800000000000UL;
}

int ushm__os_copy_out(void *dst, const void *src, size_t len)
{
	FAULT(OS_COPY, -1);
	if (bad_user_range(dst, len)) {
		errno = EFAULT;
		return -1;
	}
	if (on_my_stack(dst, len)) {
		memcpy(dst, src, len);
		return 0;
	}
	return kernel_copy(dst, src, len, 1);
}

int ushm__os_copy_in(void *dst, const void *src, size_t len)
{
	FAULT(OS_COPY, -1);
	if (bad_user_range(src, len)) {
		errno = EFAULT;
		return -1;
	}
	if (on_my_stack(src, len)) {
		memcpy(dst, src, len);
		return 0;
	}
	return kernel_copy(dst, src, len, 0);
}
