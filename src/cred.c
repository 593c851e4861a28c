/*
 * cred.c - the caller's credentials and the kernel's permission rules
 * (ipc/util.c ipcperms(), SEMANTICS.md section 7).
 *
 * The kernel reads current_cred() for free; user space pays a system
 * call per id.  So the credentials are cached, and the cache is dropped
 * whenever they can change: this file wraps the C library's set*id(),
 * setgroups() and initgroups() (the wrapped call runs first, then the
 * cache is dropped), and ushm_credentials_changed() drops it for changes
 * made by raw system calls.  Capabilities are not cached: they are asked
 * for (capget) only on the rare path where the plain rule says no.
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "ipc.h"
#include "ushm.h"

/* Two buffers, so that a refresh never rewrites the one a concurrent
 * caller may still be reading; cur points at the valid one or is NULL.
 * cred_lock serialises refreshes. */
static struct ushm_cred bufs[2];
static struct ushm_cred *cur;
static unsigned flip;
static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;

const struct ushm_cred *ushm__cred(void)
{
	struct ushm_cred *c = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);

	if (c)
		return c;
	pthread_mutex_lock(&cred_lock);
	c = &bufs[flip++ & 1];
	c->euid = (uid_t)syscall(SYS_geteuid);
	c->ruid = (uid_t)syscall(SYS_getuid);
	/* setfsgid() with an invalid id changes nothing and returns the
	 * current fsgid; the raw call keeps our own wrapper out of it. */
	c->fsgid = (gid_t)syscall(SYS_setfsgid, -1);
	c->ngroups = (int)syscall(SYS_getgroups, 64, c->groups);
	c->more_groups = c->ngroups < 0;
	if (c->ngroups < 0)
		c->ngroups = 0;
	__atomic_store_n(&cur, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&cred_lock);
	return c;
}

/* Bumped at every change, for what was obtained with the old
 * credentials (fdcache.c). */
static uint32_t generation;

void ushm_credentials_changed(void)
{
	__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&cur, NULL, __ATOMIC_RELEASE);
}

uint32_t ushm__credgen(void)
{
	return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

bool ushm__in_group(const struct ushm_cred *c, gid_t g)
{
	if (c->fsgid == g)
		return true;
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return true;
	if (c->more_groups) {
		static __thread gid_t all[65536];
		long n = syscall(SYS_getgroups, 65536, all);

		for (long i = 0; i < n; i++)
			if (all[i] == g)
				return true;
	}
	return false;
}

bool ushm__capable(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* The segment's kern_ipc_perm, for the generic functions (ipc.c). */
static struct ushm_perm slot_perm(const struct ushm_slot *s)
{
	return (struct ushm_perm){ .uid = s->uid, .gid = s->gid,
				   .cuid = s->cuid, .cgid = s->cgid,
				   .mode = s->mode };
}

int ushm__ipcperms(const struct ushm_slot *s, int flag)
{
	struct ushm_perm p = slot_perm(s);

	return ushm__ipc_perms(&p, flag);
}

bool ushm__owner_or_creator(const struct ushm_slot *s)
{
	struct ushm_perm p = slot_perm(s);

	return ushm__ipc_owner_or_creator(&p);
}

/*
 * The wrappers.  Exported with default visibility so that they come
 * before the C library's in symbol lookup, both from libushm.so and when
 * libushm.a is linked into a program.
 */
#define EXPORT __attribute__((visibility("default")))
#define WRAP(name, params, args)                                           \
	EXPORT int name params                                             \
	{                                                                  \
		static int (*real) params;                                 \
		int ret_, err_;                                            \
		if (!real)                                                 \
			real = (int (*) params)dlsym(RTLD_NEXT, #name);    \
		if (!real) {                                               \
			errno = ENOSYS;                                    \
			return -1;                                         \
		}                                                          \
		ret_ = real args;                                          \
		err_ = errno;                                              \
		ushm_credentials_changed();                                \
		errno = err_;                                              \
		return ret_;                                               \
	}

WRAP(setuid, (uid_t u), (u))
WRAP(setgid, (gid_t g), (g))
WRAP(seteuid, (uid_t u), (u))
WRAP(setegid, (gid_t g), (g))
WRAP(setreuid, (uid_t r, uid_t e), (r, e))
WRAP(setregid, (gid_t r, gid_t e), (r, e))
WRAP(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
WRAP(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
WRAP(setfsuid, (uid_t u), (u))
WRAP(setfsgid, (gid_t g), (g))
WRAP(setgroups, (size_t n, const gid_t *l), (n, l))
WRAP(initgroups, (const char *user, gid_t g), (user, g))
