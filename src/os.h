/*
 * os.h - every operating-system call the library makes, in one place.
 *
 * The library calls these rather than the C library, so that there is one
 * seam where tests can make any call fail (see ushm__os_fault) and one
 * place that deals with EINTR.  Each returns what the system call returns;
 * on failure -1 with errno set (mmap: MAP_FAILED).
 */
#ifndef USHM_OS_H
#define USHM_OS_H

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>

/* The calls that can be made to fail, by name in tests. */
enum ushm_os_call {
	OS_OPENAT, OS_CLOSE, OS_FSTAT, OS_FSTATAT, OS_FTRUNCATE, OS_FALLOCATE,
	OS_FCHMOD, OS_FCHOWN, OS_MMAP, OS_MUNMAP, OS_MKDIRAT, OS_UNLINKAT,
	OS_LINKAT, OS_LOCK, OS_FSTATFS, OS_COPY,
	OS_XATTR, OS_READ, OS_DUP,
	OS_NCALLS
};

int ushm__os_openat(int dirfd, const char *path, int flags, mode_t mode);
int ushm__os_close(int fd);
int ushm__os_fstat(int fd, struct stat *st);
int ushm__os_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int ushm__os_ftruncate(int fd, off_t len);
int ushm__os_fallocate(int fd, off_t off, off_t len);
int ushm__os_fchmod(int fd, mode_t mode);
int ushm__os_fchown(int fd, uid_t uid, gid_t gid);
void *ushm__os_mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off);
int ushm__os_munmap(void *addr, size_t len);
int ushm__os_mkdirat(int dirfd, const char *path, mode_t mode);
int ushm__os_unlinkat(int dirfd, const char *path, int flags);
int ushm__os_linkat(int olddirfd, const char *oldpath, int newdirfd,
		    const char *newpath, int flags);
int ushm__os_fstatfs(int fd, struct statfs *st);
ssize_t ushm__os_pread(int fd, void *buf, size_t len, off_t off);
int ushm__os_dup(int fd);

/*
 * Files in directories other users may write.  ushm__os_open_beneath
 * opens NAME, one component, relative to DIRFD without following a
 * symbolic link: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where
 * the kernel has it, else openat; always O_NOFOLLOW (counts as openat
 * for fault injection).  The rest change a file through a descriptor;
 * the _opath ones take an O_PATH descriptor (via /proc/self/fd, which
 * names the open file itself).
 */
int ushm__os_open_beneath(int dirfd, const char *name, int flags,
			  mode_t mode);
int ushm__os_fsetxattr(int fd, const char *name, const void *val,
		       size_t len);
int ushm__os_fremovexattr(int fd, const char *name);
int ushm__os_fchmod_opath(int fd, mode_t mode);
int ushm__os_fsetxattr_opath(int fd, const char *name, const void *val,
			     size_t len);
int ushm__os_fremovexattr_opath(int fd, const char *name);

/* OFD locks on one byte: set (F_WRLCK, non-blocking), or test
 * whether another open file description holds it (1 held, 0 free). */
int ushm__os_lock_byte(int fd, off_t byte);
int ushm__os_byte_locked(int fd, off_t byte);

/*
 * A system call made with the machine's own instruction, never through
 * a function of the C library: the library exports syscall() (vma.c)
 * and the shim patches libc's, so the wrappers' own calls must not reach
 * either.  Returns what the kernel returns: -errno on failure.  On
 * machines without the inline form (USHM_RAW_ASM undefined; building with
 * -DUSHM_NO_RAW_ASM shows that form here) it is libc's syscall(), and
 * the library then exports no syscall() of its own.
 */
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(USHM_NO_RAW_ASM)
#define USHM_RAW_ASM 1
#endif
long ushm__os_raw(long n, long a, long b, long c, long d, long e, long f);
#define ushm__os_raw3(n, a, b, c)                                          \
	ushm__os_raw((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* A kernel-style result (-errno) as the C library returns it: -1 with
 * errno set. */
static inline long ushm__os_libc(long r)
{
	if (r < 0 && r >= -4095) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Whether a thread with this id exists (in our pid namespace). */
bool ushm__os_tid_exists(pid_t tid);

/* Copy between this process's memory and a caller's buffer, failing with
 * EFAULT (never a signal) when the buffer is not accessible. */
int ushm__os_copy_out(void *dst, const void *src, size_t len);
int ushm__os_copy_in(void *dst, const void *src, size_t len);

/*
 * Fault injection, for tests: the NTH next call (1 = the very next one)
 * of CALL fails with ERR, and so do the REPEAT - 1 calls after it.  ERR
 * may be EINTR, which the wrappers that retry on EINTR must survive.
 * ushm__os_fault(OS_NCALLS, 0, 0, 0) clears every fault.  Returns how
 * many times a fault has fired since the last clear.
 */
int ushm__os_fault(enum ushm_os_call call, int nth, int err, int repeat);
const char *ushm__os_call_name(enum ushm_os_call call);

#endif
