/*
 * semexec.c - undo lists that survive exec (S-SEM 7.3): the "process
 * byte" of docs/SEMAPHORES.md section 4, here one byte per undo record.
 *
 * A task's liveness byte (task.c) is held through a close-on-exec
 * descriptor, so exec drops it; the kernel keeps a process's undo list
 * across exec and applies it when the new program exits.  So each undo
 * record also has a byte of the lock file, USHM_UNDO_BYTE(record), locked
 * through proc_fd, a description of the lock file of this process's own.
 * proc_fd is close-on-exec too, except across an exec made through the
 * wrappers below, which clear the flag just before the real call (and
 * set it again if the call fails): the new program, whatever it is, then
 * holds the bytes until it exits.  A record is dead when its task is
 * dead and its byte is free (semundo.c).
 *
 * fork: the child closes its copy of proc_fd (the same description as
 * the parent's: keeping it would keep the parent's records alive), and
 * starts with no records (S-SEM 7.2).  A vfork child, which shares our
 * memory but not our descriptor table, is recognised by its pid and
 * execs with the flag set.  posix_spawn and raw clone children never see
 * proc_fd without close-on-exec.
 *
 * Not done: the new program, if it uses ushm, does not adopt the old
 * records (its own SEM_UNDO starts a new list; the old one is applied at
 * its exit, as the kernel's would be).
 *
 * proc_lock (a process-private mutex) protects proc_fd, proc_ns and
 * proc_pid.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "seminternal.h"

static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;
static int proc_fd = -1;
static struct ushm_ns *proc_ns;
static pid_t proc_pid;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_child(void)
{
	ushm__sem_cont_fork_child();
	pthread_mutex_init(&proc_lock, NULL);
	if (proc_fd >= 0)
		ushm__os_close(proc_fd);
	proc_fd = -1;
	proc_ns = NULL;
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

void ushm__sem_fork_init(void)
{
	pthread_once(&atfork_once, atfork_register);
}

int ushm__undo_byte_take(struct ushm_semns *sn, uint32_t u)
{
	int r = 0;

	ushm__sem_fork_init();
	pthread_mutex_lock(&proc_lock);
	if (proc_fd >= 0 && (proc_ns != sn->ns || proc_pid != getpid())) {
		ushm__os_close(proc_fd);
		proc_fd = -1;
	}
	if (proc_fd < 0) {
		proc_fd = ushm__os_openat(sn->ns->dirfd, "lock", O_RDWR |
					  O_CLOEXEC | O_NOFOLLOW, 0);
		if (proc_fd < 0) {
			r = -errno;
			goto out;
		}
		proc_ns = sn->ns;
		proc_pid = getpid();
	}
	if (ushm__os_lock_byte(proc_fd, USHM_UNDO_BYTE(u)) < 0)
		r = errno == EAGAIN || errno == EACCES ? -EAGAIN : -errno;
out:
	pthread_mutex_unlock(&proc_lock);
	return r;
}

bool ushm__undo_byte_held(struct ushm_semns *sn, uint32_t u)
{
	/* When the kernel cannot answer, held: never undo a live list. */
	return ushm__os_byte_locked(sn->ns->lockfd, USHM_UNDO_BYTE(u)) != 0;
}

void ushm__undo_forget(void)
{
	pthread_mutex_lock(&proc_lock);
	if (proc_fd >= 0)
		ushm__os_close(proc_fd);
	proc_fd = -1;
	proc_ns = NULL;
	pthread_mutex_unlock(&proc_lock);
}

/* ---- the exec wrappers ---- */

/* Let proc_fd through the exec, in this process only (not in a vfork
 * child, which returns before it touches the lock: the parent's threads
 * may hold it).  Returns whether the flag must be put back on failure. */
bool ushm__exec_prepare(void)
{
	bool cleared = false;

	if (__atomic_load_n(&proc_pid, __ATOMIC_RELAXED) != getpid())
		return false;
	pthread_mutex_lock(&proc_lock);
	if (proc_fd >= 0 && proc_pid == getpid())
		cleared = fcntl(proc_fd, F_SETFD, 0) == 0;
	pthread_mutex_unlock(&proc_lock);
	return cleared;
}

void ushm__exec_failed(bool cleared)
{
	int e = errno;

	if (cleared) {
		pthread_mutex_lock(&proc_lock);
		if (proc_fd >= 0)
			fcntl(proc_fd, F_SETFD, FD_CLOEXEC);
		pthread_mutex_unlock(&proc_lock);
	}
	errno = e;
}

/* Weak: the shim (shim/exec.c) has an execve of its own, which wins in
 * libushm-preload.so and calls ushm__exec_prepare/_failed itself. */
#define EXPORT __attribute__((visibility("default"), weak))
#define REAL(name, type)                                                    \
	static type real;                                                   \
	if (!real)                                                          \
		real = (type)dlsym(RTLD_NEXT, #name);                       \
	if (!real) {                                                        \
		errno = ENOSYS;                                             \
		return -1;                                                  \
	}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*unshare_fn)(int);

/*
 * unshare(CLONE_SYSVSEM) gives the caller an undo list of its own: the
 * old one is applied at once if the caller was its last user (S-SEM
 * 7.5).  ushm has one list per process, shared by its threads, so it is
 * applied whoever calls, and the process starts a new one.  CLONE_NEWIPC,
 * which implies CLONE_SYSVSEM in the kernel, does not: a kernel IPC
 * namespace is not a ushm namespace.
 */
EXPORT int unshare(int flags)
{
	int r;

	REAL(unshare, unshare_fn);
	r = real(flags);
	if (r == 0 && (flags & CLONE_SYSVSEM)) {
		int e = errno;

		ushm__undo_detach_all();
		errno = e;
	}
	return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	bool c;
	int r;

	REAL(execve, execve_fn);
	c = ushm__exec_prepare();
	r = real(path, argv, envp);
	ushm__exec_failed(c);
	return r;
}

EXPORT int execv(const char *path, char *const argv[])
{
	bool c;
	int r;

	REAL(execv, execv_fn);
	c = ushm__exec_prepare();
	r = real(path, argv);
	ushm__exec_failed(c);
	return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	bool c;
	int r;

	REAL(execvp, execv_fn);
	c = ushm__exec_prepare();
	r = real(file, argv);
	ushm__exec_failed(c);
	return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	bool c;
	int r;

	REAL(execvpe, execve_fn);
	c = ushm__exec_prepare();
	r = real(file, argv, envp);
	ushm__exec_failed(c);
	return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	bool c;
	int r;

	REAL(fexecve, fexecve_fn);
	c = ushm__exec_prepare();
	r = real(fd, argv, envp);
	ushm__exec_failed(c);
	return r;
}

/* The execl family: the arguments into an array (freed if the exec
 * fails), then the v form.  COUNT is the number of arguments after ARG0,
 * the NULL included. */
static char **argv_from(const char *arg0, va_list *ap, size_t count)
{
	char **argv = malloc((count + 1) * sizeof(char *));

	if (!argv)
		return NULL;
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= count; i++)
		argv[i] = va_arg(*ap, char *);
	return argv;
}

static size_t count_args(va_list ap)
{
	size_t n = 1;

	while (va_arg(ap, char *))
		n++;
	return n;
}

#define EXECL_BODY(first, call)                                             \
	char **argv;                                                        \
	va_list ap, cp;                                                     \
	size_t n;                                                           \
	int r;                                                              \
	va_start(ap, arg);                                                  \
	va_copy(cp, ap);                                                    \
	n = count_args(cp);                                                 \
	va_end(cp);                                                         \
	argv = argv_from(arg, &ap, n);                                     \
	first;                                                              \
	va_end(ap);                                                         \
	if (!argv) {                                                        \
		errno = ENOMEM;                                             \
		return -1;                                                  \
	}                                                                   \
	r = call;                                                           \
	free(argv);                                                         \
	return r

EXPORT int execl(const char *path, const char *arg, ...)
{
	EXECL_BODY((void)0, execv(path, argv));
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	EXECL_BODY((void)0, execvp(file, argv));
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char **envp = NULL;

	EXECL_BODY(envp = va_arg(ap, char **), execve(path, argv, envp));
}
