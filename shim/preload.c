/*
 * preload.c - shmget, shmat, shmdt and shmctl for unmodified programs.
 *
 * Loaded with LD_PRELOAD (ushm run does that), this library comes first
 * in symbol lookup, so a program's calls to the four functions land here
 * and go to the library's ushm_* functions, which set errno themselves:
 * the program sees the library's return values and errno, unchanged.  No
 * SysV shared memory system call is made.
 *
 * glibc defines the four at version GLIBC_2.2.5 and every program built
 * against it refers to them at that version; shim/preload.map gives ours
 * the same version, so versioned references (and dlvsym(..., "shmget",
 * "GLIBC_2.2.5")) bind here as plain ones do.  Calls that reach libc's
 * own entry points anyway (RTLD_DEEPBIND, dlmopen) are sent here by
 * patch.c.
 *
 * syscall() is the library's, which sends syscall(SYS_shmget, ...) and
 * friends here (ushm__sysv_route), the numbers that change mappings to
 * the library's piece-aware wrappers, and the rest to the kernel.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "route.h"
#include "shim.h"
#include "ushm.h"

/*
 * A failure of the environment (an unusable namespace, a damaged
 * registry) would otherwise reach the program as a bare errno that it
 * reports in terms of SysV IPC; say once, on stderr, what is really
 * wrong.  USHM_QUIET=1 silences it.
 */
static void explain(void)
{
	static int said;
	const char *why = ushm_strerror();
	int e = errno;

	if (!why || !*why || __atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		return;
	if (!secure_getenv("USHM_QUIET"))
		fprintf(stderr, "ushm: %s\n", why);
	errno = e;
}

int shim__shmget(key_t key, size_t size, int shmflg)
{
	int r = ushm_shmget(key, size, shmflg);

	if (r < 0)
		explain();
	return r;
}

void *shim__shmat(int shmid, const void *addr, int shmflg)
{
	void *p = ushm_shmat(shmid, addr, shmflg);

	if (p == (void *)-1)
		explain();
	return p;
}

int shim__shmdt(const void *addr)
{
	return ushm_shmdt(addr);
}

int shim__shmctl(int shmid, int cmd, void *buf)
{
	int r = ushm_shmctl(shmid, cmd, buf);

	if (r < 0)
		explain();
	return r;
}

SHIM_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	return shim__shmget(key, size, shmflg);
}

SHIM_EXPORT void *shmat(int shmid, const void *addr, int shmflg)
{
	return shim__shmat(shmid, addr, shmflg);
}

SHIM_EXPORT int shmdt(const void *addr)
{
	return shim__shmdt(addr);
}

SHIM_EXPORT int shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	return shim__shmctl(shmid, cmd, buf);
}

/* ---- semaphores ---- */

/* semctl(2)'s fourth argument, as the caller declares it (glibc declares
 * none): a value the size of a pointer, passed through unchanged. */
union shim_semun {
	int val;
	void *ptr;
};

int shim__semget(key_t key, int nsems, int semflg)
{
	int r = ushm_semget(key, nsems, semflg);

	if (r < 0)
		explain();
	return r;
}

int shim__semtimedop(int semid, struct sembuf *sops, size_t nsops,
		     const struct timespec *timeout)
{
	int r = ushm_semtimedop(semid, sops, nsops, timeout);

	if (r < 0)
		explain();
	return r;
}

int shim__semop(int semid, struct sembuf *sops, size_t nsops)
{
	return shim__semtimedop(semid, sops, nsops, NULL);
}

/* ARG: the fourth argument's bits (a union semun passed by value). */
int shim__semctl(int semid, int semnum, int cmd, unsigned long arg)
{
	union shim_semun u;
	int r;

	/* The low 32 bits for SETVAL, as the kernel takes them (S-SEM 8.3);
	 * a pointer otherwise. */
	if (cmd == SETVAL)
		u.val = (int)arg;
	else
		u.ptr = (void *)arg;
	r = ushm_semctl(semid, semnum, cmd, u);
	if (r < 0)
		explain();
	return r;
}

SHIM_EXPORT int semget(key_t key, int nsems, int semflg)
{
	return shim__semget(key, nsems, semflg);
}

SHIM_EXPORT int semop(int semid, struct sembuf *sops, size_t nsops)
{
	return shim__semop(semid, sops, nsops);
}

SHIM_EXPORT int semtimedop(int semid, struct sembuf *sops, size_t nsops,
			   const struct timespec *timeout)
{
	return shim__semtimedop(semid, sops, nsops, timeout);
}

/* Variadic like libc's, which reads the fourth argument only for the
 * commands that take one (S-SEM 8.3); reading it for the others would
 * read a register the caller never set, harmless but pointless. */
SHIM_EXPORT int semctl(int semid, int semnum, int cmd, ...)
{
	unsigned long arg = 0;
	va_list ap;

	switch (cmd) {
	case SETVAL: case GETALL: case SETALL: case IPC_STAT: case IPC_SET:
	case SEM_STAT: case SEM_STAT_ANY: case IPC_INFO: case SEM_INFO:
		va_start(ap, cmd);
		arg = va_arg(ap, unsigned long);
		va_end(ap);
		break;
	}
	return shim__semctl(semid, semnum, cmd, arg);
}

/*
 * syscall(3) is the library's (src/vma.c: it routes the mapping numbers
 * to the piece-aware wrappers); it hands every other number here first.
 * The raw calls take what glibc's wrappers pass: on x86_64 struct
 * shmid64_ds is glibc's struct shmid_ds, and cmd goes through unchanged
 * (a cmd with IPC_64 set is EINVAL on the kernel, and so in ushm).
 */
bool ushm__sysv_route(long n, const long args[6], long *ret)
{
	long r;

	switch (n) {
	case SYS_shmget:
		r = shim__shmget((key_t)args[0], (size_t)args[1], (int)args[2]);
		break;
	case SYS_shmat: {
		void *p = shim__shmat((int)args[0], (const void *)args[1],
				      (int)args[2]);

		r = p == (void *)-1 ? -1 : (long)p;
		break;
	}
	case SYS_shmdt:
		r = shim__shmdt((const void *)args[0]);
		break;
	case SYS_shmctl:
		r = shim__shmctl((int)args[0], (int)args[1], (void *)args[2]);
		break;
	case SYS_semget:
		r = shim__semget((key_t)args[0], (int)args[1], (int)args[2]);
		break;
	case SYS_semop:
		r = shim__semop((int)args[0], (struct sembuf *)args[1],
				(size_t)args[2]);
		break;
	case SYS_semtimedop:
		r = shim__semtimedop((int)args[0], (struct sembuf *)args[1],
				     (size_t)args[2],
				     (const struct timespec *)args[3]);
		break;
	case SYS_semctl:
		r = shim__semctl((int)args[0], (int)args[1], (int)args[2],
				 (unsigned long)args[3]);
		break;
	default:
		return false;
	}
	*ret = r == -1 ? -errno : r;
	return true;
}

__attribute__((constructor)) static void shim_init(void)
{
	shim__exec_init();
	shim__sysctl_adopt();
	shim__patch_base();
}
