/*
 * shim.h - what the files of libushm-preload.so share.
 *
 * The preload library puts ushm under unmodified, dynamically linked
 * programs (docs/DROPIN.md):
 *   preload.c  shmget/shmat/shmdt/shmctl (and syscall()'s numbers) -> ushm_*
 *   patch.c    libc's own entry points jump to the shim (dlopen with
 *              RTLD_DEEPBIND, dlmopen, internal calls)
 *   vfile.c    /proc/sysvipc/shm and /proc/sys/kernel/shm* as the
 *              namespace shows them (open, fopen, access)
 *   vwrite.c   writes to those sysctls, wherever the write comes from
 *   exec.c     children that exec stay under the shim
 * Everything here is hidden; only the functions a program calls by
 * name are exported, with SHIM_EXPORT.
 */
#ifndef USHM_SHIM_H
#define USHM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "os.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* ---- raw system calls: never through a function we may have patched ---- */

/* Returns the kernel's value: -errno on failure (os.h's raw call, the
 * library's one definition of it). */
static inline long shim_raw6(long n, long a, long b, long c, long d, long e,
			     long f)
{
	return ushm__os_raw(n, a, b, c, d, e, f);
}

#define shim_raw3(n, a, b, c) shim_raw6((n), (long)(a), (long)(b), \
					(long)(c), 0, 0, 0)

/* ---- preload.c ---- */
int shim__shmget(key_t key, size_t size, int shmflg);
void *shim__shmat(int shmid, const void *addr, int shmflg);
int shim__shmdt(const void *addr);
int shim__shmctl(int shmid, int cmd, void *buf);
struct sembuf;
struct timespec;
int shim__semget(key_t key, int nsems, int semflg);
int shim__semop(int semid, struct sembuf *sops, size_t nsops);
int shim__semtimedop(int semid, struct sembuf *sops, size_t nsops,
		     const struct timespec *timeout);
/* ARG: semctl's fourth argument's bits (a union semun by value). */
int shim__semctl(int semid, int semnum, int cmd, unsigned long arg);
/* syscall() is the library's (src/route.h): it routes the four SysV
 * shm numbers here, through ushm__sysv_route. */

/* ---- patch.c ---- */
/* Make libc's shmget/shmat/shmdt/shmctl/syscall (and, in the base
 * namespace, write and execve) jump to the shim.  Idempotent. */
void shim__patch_base(void);

/* ---- vfile.c ---- */
enum shim_vfile {
	VF_NONE = 0,
	VF_SYSVIPC_SHM,		/* /proc/sysvipc/shm */
	VF_SHMMAX,		/* /proc/sys/kernel/shmmax ... */
	VF_SHMALL,
	VF_SHMMNI,
	VF_SHM_NEXT_ID,
	VF_SHM_RMID_FORCED,
	VF_SYSVIPC_SEM,		/* /proc/sysvipc/sem */
	VF_SEM,			/* /proc/sys/kernel/sem */
	VF_SEM_NEXT_ID,
	VF_N
};
/* The limit name of a sysctl file (ushm_limit_get/set), NULL if none. */
const char *shim__vfile_limit(enum shim_vfile v);
/* Whether DIRFD/PATH names one of our files, and which. */
enum shim_vfile shim__vfile_classify(int dirfd, const char *path);

/* ---- vwrite.c ---- */
/* Check at open that the caller may write sysctl V (0 or -EACCES). */
int shim__sysctl_may_write(enum shim_vfile v);
/* FD (a memfd) was opened for writing sysctl V: route its writes. */
int shim__sysctl_register(int fd, enum shim_vfile v);
/* write(2) as seen by the program (exported write and libc's patched). */
ssize_t shim__write(int fd, const void *buf, size_t n);
/* Find descriptors for sysctl writes inherited across exec. */
void shim__sysctl_adopt(void);

/* ---- exec.c ---- */
void shim__exec_init(void);
int shim__execve(const char *path, char *const argv[], char *const envp[]);

#endif
