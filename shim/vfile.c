/*
 * vfile.c - /proc/sysvipc/shm, /proc/sysvipc/sem, /proc/sys/kernel/shm*,
 * /proc/sys/kernel/sem and sem_next_id as the namespace shows them, so
 * that ipcs, lsipc, sysctl and scripts see ushm.
 *
 * util-linux reads these files with open/openat (also their _FORTIFY
 * variants __open_2 and __openat_2) and fopen, after access(F_OK)
 * (SEMANTICS 8.8, samples/strace_ipcs_sources.txt); bash's `echo 5 >
 * FILE` opens O_WRONLY|O_CREAT|O_TRUNC.  So those calls are wrapped:
 * when the path names one of the files, the caller gets a memfd holding
 * the text the kernel would show for the namespace, and everything else
 * (read, lseek, fstat, mmap, close, stdio) then works on a real
 * descriptor.  A sysctl opened for writing is registered with vwrite.c,
 * which applies what is written at write() time, as the kernel does.
 *
 * Any other path costs one strrchr and a compare of the last component:
 * only names starting with "shm" or "sem" are looked at more closely.  stat() is
 * not wrapped: the kernel's files exist and look the same (size 0).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "ushm.h"

static const struct {
	const char *path;
	const char *limit;	/* ushm_limit_get/set name */
} vfiles[VF_N] = {
	[VF_SYSVIPC_SHM] = { "/proc/sysvipc/shm", NULL },
	[VF_SHMMAX] = { "/proc/sys/kernel/shmmax", "shmmax" },
	[VF_SHMALL] = { "/proc/sys/kernel/shmall", "shmall" },
	[VF_SHMMNI] = { "/proc/sys/kernel/shmmni", "shmmni" },
	[VF_SHM_NEXT_ID] = { "/proc/sys/kernel/shm_next_id", "shm_next_id" },
	[VF_SHM_RMID_FORCED] = { "/proc/sys/kernel/shm_rmid_forced",
				 "shm_rmid_forced" },
	[VF_SYSVIPC_SEM] = { "/proc/sysvipc/sem", NULL },
	[VF_SEM] = { "/proc/sys/kernel/sem", "sem" },
	[VF_SEM_NEXT_ID] = { "/proc/sys/kernel/sem_next_id", "sem_next_id" },
};

/* The files that are tables (0444, no write method), and their memfd
 * names (vwrite.c recognises the sysctls' by their limit names). */
static bool is_table(enum shim_vfile v)
{
	return v == VF_SYSVIPC_SHM || v == VF_SYSVIPC_SEM;
}

const char *shim__vfile_limit(enum shim_vfile v)
{
	return v > VF_NONE && v < VF_N ? vfiles[v].limit : NULL;
}

/* Lexically clean an absolute path: no "//", ".", "..".  The paths we
 * compare against have no symbolic links above them (/proc/self is one,
 * but "/proc/self/.." is /proc either way). */
static void clean(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

enum shim_vfile shim__vfile_classify(int dirfd, const char *path)
{
	char buf[PATH_MAX], link[64];
	const char *base;
	size_t len = 0;
	ssize_t n;

	if (!path)
		return VF_NONE;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (base[0] != 's' || !((base[1] == 'h' && base[2] == 'm') ||
				(base[1] == 'e' && base[2] == 'm')))
		return VF_NONE;		/* the fast path */
	if (path[0] != '/') {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(buf, sizeof(buf)))
				return VF_NONE;
		} else {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			n = readlink(link, buf, sizeof(buf) - 1);
			if (n <= 0)
				return VF_NONE;
			buf[n] = '\0';
		}
		len = strlen(buf);
		if (len + 1 >= sizeof(buf))
			return VF_NONE;
		buf[len++] = '/';
	}
	if (len + strlen(path) >= sizeof(buf))
		return VF_NONE;
	strcpy(buf + len, path);
	clean(buf);
	for (int v = VF_NONE + 1; v < VF_N; v++)
		if (!strcmp(buf, vfiles[v].path))
			return (enum shim_vfile)v;
	return VF_NONE;
}

/* ---- the text of the files ---- */

struct rss {
	int id;
	unsigned long bytes;
};

/* Resident bytes of every segment, from its file's st_blocks (tmpfs
 * allocates whole pages; the kernel's rss column is pages * 4096).  The
 * files are segments/SYSV<key>.<id>; the id ends the name. */
static size_t rss_scan(struct rss **out)
{
	const char *ns = ushm_namespace_path();
	char dir[PATH_MAX];
	struct dirent *de;
	struct rss *v = NULL;
	size_t n = 0, cap = 0;
	DIR *d;

	*out = NULL;
	if (!ns || snprintf(dir, sizeof(dir), "%s/segments", ns) >=
		   (int)sizeof(dir))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');
		struct stat st;

		if (strncmp(de->d_name, "SYSV", 4) || !dot ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (n == cap) {
			struct rss *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].id = atoi(dot + 1);
		v[n].bytes = (unsigned long)st.st_blocks * 512 / 4096 * 4096;
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

/* /proc/sysvipc/shm: sysvipc_shm_proc_show (SEMANTICS 8.1-8.6), rows in
 * index order, taken with SHM_STAT_ANY as the kernel's walk of the idr
 * takes every segment whatever its mode. */
static int gen_sysvipc_shm(FILE *f)
{
	struct shm_info info;
	struct shmid_ds ds;
	struct rss *rss;
	size_t nrss = 0;
	int maxidx;

	fputs("       key      shmid perms                  size  cpid  lpid "
	      "nattch   uid   gid  cuid  cgid      atime      dtime      "
	      "ctime                   rss                  swap\n", f);
	maxidx = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	if (maxidx < 0)
		return -errno;
	if (info.used_ids == 0)
		return 0;
	nrss = rss_scan(&rss);
	for (int idx = 0; idx <= maxidx; idx++) {
		unsigned long bytes = 0;
		int id = ushm_shmctl(idx, SHM_STAT_ANY, &ds);

		if (id < 0)
			continue;
		for (size_t i = 0; i < nrss; i++)
			if (rss[i].id == id)
				bytes = rss[i].bytes;
		fprintf(f, "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u "
			"%10llu %10llu %10llu %21lu %21lu\n",
			ds.shm_perm.__key, id, ds.shm_perm.mode,
			(unsigned long)ds.shm_segsz, (unsigned)ds.shm_cpid,
			(unsigned)ds.shm_lpid, (unsigned long)ds.shm_nattch,
			ds.shm_perm.uid, ds.shm_perm.gid, ds.shm_perm.cuid,
			ds.shm_perm.cgid, (unsigned long long)ds.shm_atime,
			(unsigned long long)ds.shm_dtime,
			(unsigned long long)ds.shm_ctime, bytes, 0UL);
	}
	free(rss);
	return 0;
}

/* /proc/sysvipc/sem: sysvipc_sem_proc_show (S-SEM 10.1-10.2), rows in
 * index order through SEM_STAT_ANY, which needs no permission. */
static int gen_sysvipc_sem(FILE *f)
{
	struct seminfo info;
	struct semid_ds ds;
	int maxidx;

	fputs("       key      semid perms      nsems   uid   gid  cuid  cgid "
	      "     otime      ctime\n", f);
	maxidx = ushm_semctl(0, 0, SEM_INFO, &info);
	if (maxidx < 0)
		return -errno;
	if (info.semusz == 0)
		return 0;
	for (int idx = 0; idx <= maxidx; idx++) {
		int id = ushm_semctl(idx, 0, SEM_STAT_ANY, &ds);

		if (id < 0)
			continue;
		fprintf(f, "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n",
			ds.sem_perm.__key, id, ds.sem_perm.mode & 0777,
			(unsigned)ds.sem_nsems, ds.sem_perm.uid,
			ds.sem_perm.gid, ds.sem_perm.cuid, ds.sem_perm.cgid,
			(unsigned long long)ds.sem_otime,
			(unsigned long long)ds.sem_ctime);
	}
	return 0;
}

static int gen(enum shim_vfile v, char **text, size_t *len)
{
	char val[64];
	FILE *f;
	int r = 0;

	*text = NULL;
	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	if (v == VF_SYSVIPC_SHM) {
		r = gen_sysvipc_shm(f);
	} else if (v == VF_SYSVIPC_SEM) {
		r = gen_sysvipc_sem(f);
	} else if (ushm_limit_get(vfiles[v].limit, val, sizeof(val)) == 0) {
		fprintf(f, "%s\n", val);
	} else {
		r = -errno;
	}
	if (fclose(f) != 0 && !r)
		r = -ENOMEM;
	if (r) {
		free(*text);
		*text = NULL;
	}
	return r;
}

/* A descriptor holding the current text of V, opened as FLAGS asks.
 * Returns it, or -errno. */
static int vfile_open(enum shim_vfile v, int flags)
{
	int acc = flags & O_ACCMODE, cloexec = flags & O_CLOEXEC;
	char name[48], self[40], *text;
	size_t len, done = 0;
	long fd, ro;
	int r;

	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	if (acc != O_RDONLY) {
		/* The /proc/sysvipc tables are 0444, with no write method. */
		if (is_table(v))
			return -EACCES;
		if ((r = shim__sysctl_may_write(v)) != 0)
			return r;
	}
	if ((r = gen(v, &text, &len)) != 0)
		return r;
	/* vwrite.c recognises inherited sysctl descriptors by this name. */
	snprintf(name, sizeof(name), "ushm-%s",
		 v == VF_SYSVIPC_SHM ? "sysvipc-shm" :
		 v == VF_SYSVIPC_SEM ? "sysvipc-sem" : vfiles[v].limit);
	fd = shim_raw3(SYS_memfd_create, name, cloexec ? MFD_CLOEXEC : 0, 0);
	if (fd < 0) {
		free(text);
		return (int)fd;
	}
	while (done < len) {
		long w = shim_raw6(SYS_pwrite64, fd, (long)(text + done),
				   (long)(len - done), (long)done, 0, 0);

		if (w <= 0) {
			free(text);
			shim_raw3(SYS_close, fd, 0, 0);
			return w < 0 ? (int)w : -EIO;
		}
		done += (size_t)w;
	}
	free(text);
	if (acc != O_RDONLY) {
		r = shim__sysctl_register((int)fd, v);
		if (r) {
			shim_raw3(SYS_close, fd, 0, 0);
			return r;
		}
		return (int)fd;
	}
	/* Read-only, as the caller asked: writes then fail with EBADF. */
	snprintf(self, sizeof(self), "/proc/self/fd/%ld", fd);
	ro = shim_raw6(SYS_openat, AT_FDCWD, (long)self,
		       O_RDONLY | (cloexec ? O_CLOEXEC : 0), 0, 0, 0);
	shim_raw3(SYS_close, fd, 0, 0);
	return (int)ro;
}

/* ---- the wrapped calls ---- */

#define REAL(type, name)                                                   \
	static type real_##name;                                           \
	if (!real_##name)                                                  \
		real_##name = (type)dlsym(RTLD_NEXT, #name);               \
	if (!real_##name) {                                                \
		errno = ENOSYS;                                            \
		return -1;                                                 \
	}

static int ret_fd(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);

#define OPEN_WRAPPER(name)                                                 \
	SHIM_EXPORT int name(const char *path, int flags, ...)             \
	{                                                                  \
		enum shim_vfile v = shim__vfile_classify(AT_FDCWD, path);  \
		va_list ap;                                                \
		mode_t m;                                                  \
		if (v != VF_NONE && !(flags & O_PATH))                     \
			return ret_fd(vfile_open(v, flags));               \
		va_start(ap, flags);                                       \
		m = mode_arg(flags, ap);                                   \
		va_end(ap);                                                \
		{                                                          \
			REAL(open_fn, name)                                \
			return real_##name(path, flags, m);                \
		}                                                          \
	}

#define OPENAT_WRAPPER(name)                                               \
	SHIM_EXPORT int name(int dirfd, const char *path, int flags, ...)  \
	{                                                                  \
		enum shim_vfile v = shim__vfile_classify(dirfd, path);     \
		va_list ap;                                                \
		mode_t m;                                                  \
		if (v != VF_NONE && !(flags & O_PATH))                     \
			return ret_fd(vfile_open(v, flags));               \
		va_start(ap, flags);                                       \
		m = mode_arg(flags, ap);                                   \
		va_end(ap);                                                \
		{                                                          \
			REAL(openat_fn, name)                              \
			return real_##name(dirfd, path, flags, m);         \
		}                                                          \
	}

/* The _FORTIFY_SOURCE entry points (util-linux is built with it). */
#define OPEN2_WRAPPER(name)                                                \
	SHIM_EXPORT int name(const char *path, int flags);                 \
	SHIM_EXPORT int name(const char *path, int flags)                  \
	{                                                                  \
		enum shim_vfile v = shim__vfile_classify(AT_FDCWD, path);  \
		if (v != VF_NONE && !(flags & O_PATH))                     \
			return ret_fd(vfile_open(v, flags));               \
		{                                                          \
			REAL(open2_fn, name)                               \
			return real_##name(path, flags);                   \
		}                                                          \
	}

#define OPENAT2_WRAPPER(name)                                              \
	SHIM_EXPORT int name(int dirfd, const char *path, int flags);      \
	SHIM_EXPORT int name(int dirfd, const char *path, int flags)       \
	{                                                                  \
		enum shim_vfile v = shim__vfile_classify(dirfd, path);     \
		if (v != VF_NONE && !(flags & O_PATH))                     \
			return ret_fd(vfile_open(v, flags));               \
		{                                                          \
			REAL(openat2_fn, name)                             \
			return real_##name(dirfd, path, flags);            \
		}                                                          \
	}

OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)
OPEN2_WRAPPER(__open_2)
OPEN2_WRAPPER(__open64_2)
OPENAT2_WRAPPER(__openat_2)
OPENAT2_WRAPPER(__openat64_2)

/* fopen's mode as open(2) flags. */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

typedef FILE *(*fopen_fn)(const char *, const char *);

static FILE *vfile_fopen(enum shim_vfile v, const char *mode)
{
	int flags = fopen_flags(mode), fd;
	FILE *f;

	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = vfile_open(v, flags);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, mode);
	if (!f) {
		int e = errno;

		shim_raw3(SYS_close, fd, 0, 0);
		errno = e;
	}
	return f;
}

#define FOPEN_WRAPPER(name)                                                \
	SHIM_EXPORT FILE *name(const char *path, const char *mode)         \
	{                                                                  \
		enum shim_vfile v = shim__vfile_classify(AT_FDCWD, path);  \
		static fopen_fn real;                                      \
		if (v != VF_NONE && mode)                                  \
			return vfile_fopen(v, mode);                       \
		if (!real)                                                 \
			real = (fopen_fn)dlsym(RTLD_NEXT, #name);          \
		if (!real) {                                               \
			errno = ENOSYS;                                    \
			return NULL;                                       \
		}                                                          \
		return real(path, mode);                                   \
	}

FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

/* access() on our files: they exist and can be read by everyone; who may
 * write a sysctl is vwrite.c's rule; nothing is executable. */
static int vfile_access(enum shim_vfile v, int mode)
{
	int r = 0;

	if (mode & X_OK)
		r = -EACCES;
	else if (mode & W_OK)
		r = is_table(v) ? -EACCES : shim__sysctl_may_write(v);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);

SHIM_EXPORT int access(const char *path, int mode)
{
	enum shim_vfile v = shim__vfile_classify(AT_FDCWD, path);

	if (v != VF_NONE)
		return vfile_access(v, mode);
	{
		REAL(access_fn, access)
		return real_access(path, mode);
	}
}

SHIM_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	enum shim_vfile v = shim__vfile_classify(dirfd, path);

	if (v != VF_NONE)
		return vfile_access(v, mode);
	{
		REAL(faccessat_fn, faccessat)
		return real_faccessat(dirfd, path, mode, flags);
	}
}
