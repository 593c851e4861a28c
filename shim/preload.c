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
 * syscall() is wrapped too, so that syscall(SYS_shmget, ...) and friends
 * reach ushm; every other number goes to the kernel unchanged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/*
 * The raw calls take what glibc's wrappers pass: on x86_64 struct
 * shmid64_ds is glibc's struct shmid_ds, and cmd goes through unchanged
 * (a cmd with IPC_64 set is EINVAL on the kernel, and so in ushm).
 */
long shim__syscall(long n, long a, long b, long c, long d, long e, long f,
		   int *err)
{
	long r;

	switch (n) {
	case SYS_shmget:
		r = shim__shmget((key_t)a, (size_t)b, (int)c);
		break;
	case SYS_shmat: {
		void *p = shim__shmat((int)a, (const void *)b, (int)c);

		r = p == (void *)-1 ? -1 : (long)p;
		break;
	}
	case SYS_shmdt:
		r = shim__shmdt((const void *)a);
		break;
	case SYS_shmctl:
		r = shim__shmctl((int)a, (int)b, (void *)c);
		break;
	default:
		r = shim_raw6(n, a, b, c, d, e, f);
		if (r < 0 && r >= -4095) {
			*err = (int)-r;
			return -1;
		}
		return r;
	}
	if (r == -1)
		*err = errno;
	return r;
}

/* Variadic like libc's; all arguments are integers, so reading six
 * longs is what libc's own syscall() does (the unused ones are junk that
 * the kernel ignores). */
SHIM_EXPORT long syscall(long n, ...)
{
	va_list ap;
	long a, b, c, d, e, f, r;
	int err = 0;

	va_start(ap, n);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	c = va_arg(ap, long);
	d = va_arg(ap, long);
	e = va_arg(ap, long);
	f = va_arg(ap, long);
	va_end(ap);
	r = shim__syscall(n, a, b, c, d, e, f, &err);
	if (r == -1 && err)
		errno = err;
	return r;
}

__attribute__((constructor)) static void shim_init(void)
{
	shim__exec_init();
	shim__sysctl_adopt();
	shim__patch_base();
}
