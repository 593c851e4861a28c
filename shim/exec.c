/*
 * exec.c - children that exec stay under the shim.
 *
 * `ushm run` puts LD_PRELOAD and USHM_DIR in the environment, and
 * children inherit it: fork, threads and a plain exec need nothing.  But
 * a program may exec with an environment of its own making (execle,
 * execve, env -i, a daemon scrubbing its environment), and its child
 * would then use the kernel's SysV IPC, or another namespace, without a
 * word.  So every execve of the process (libc's, patched by patch.c, is
 * what execl*, execv*, system, popen and posix_spawn end in) passes
 * through here: if the new environment lacks this library in LD_PRELOAD,
 * or USHM_DIR while we had one, they are added back.  A program that
 * means to leave ushm puts USHM_INHERIT=0 in the new environment.
 *
 * This may run in the child of vfork or posix_spawn, on a small stack
 * shared with nothing but not allowed to allocate: it uses bounded stack
 * buffers only, and passes an environment that does not fit through
 * unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "shim.h"

#define MAX_ENV		512	/* entries we rewrite; more pass unchanged */
#define MAX_PRELOAD	4096	/* length of the LD_PRELOAD= entry we build */

static char self[PATH_MAX];	/* this library, as LD_PRELOAD names it */
static char ns_entry[PATH_MAX + 16];	/* "USHM_DIR=...", or "" */
static bool active;

static bool is_self(const char *tok, size_t len)
{
	const char *base = "libushm-preload.so";
	size_t bl = strlen(base);

	if (len == strlen(self) && !strncmp(tok, self, len))
		return true;
	/* Another copy of the shim counts too (another build directory). */
	return len >= bl && !strncmp(tok + len - bl, base, bl) &&
	       (len == bl || tok[len - bl - 1] == '/');
}

/* Whether LD_PRELOAD's value V names the shim (':' or ' ' separated). */
static bool preload_has_self(const char *v)
{
	while (*v) {
		size_t len = strcspn(v, ": ");

		if (len && is_self(v, len))
			return true;
		v += len;
		if (*v)
			v++;
	}
	return false;
}

void shim__exec_init(void)
{
	const char *pre = secure_getenv("LD_PRELOAD");
	const char *dir = secure_getenv("USHM_DIR");
	Dl_info info;

	/* Only when preloaded: a program linked with the shim on purpose
	 * does not make its children use it. */
	if (!pre || !preload_has_self(pre) ||
	    !dladdr((void *)shim__exec_init, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, self))
		return;
	if (dir && *dir)
		snprintf(ns_entry, sizeof(ns_entry), "USHM_DIR=%s", dir);
	active = true;
}

/* Append S to BUF (of MAX_PRELOAD bytes) at *LEN; false if it does not
 * fit. */
static bool cat(char *buf, size_t *len, const char *s)
{
	size_t l = strlen(s);

	if (*len + l >= MAX_PRELOAD)
		return false;
	memcpy(buf + *len, s, l + 1);
	*len += l;
	return true;
}

/* The exec itself, letting the undo lists' descriptor through it as the
 * library's exec wrappers do (src/semexec.c: S-SEM 7.3). */
static int raw_execve(const char *path, char *const argv[],
		      char *const envp[])
{
	bool cleared = ushm__exec_prepare();
	long r = shim_raw3(SYS_execve, path, argv, envp);

	ushm__exec_failed(cleared);
	errno = (int)-r;
	return -1;
}

int shim__execve(const char *path, char *const argv[], char *const envp[])
{
	const char *pre = NULL;
	bool has_dir = false;
	size_t n = 0, k = 0;

	if (!active || !envp)
		return raw_execve(path, argv, envp);
	for (; envp[n]; n++) {
		if (!strncmp(envp[n], "LD_PRELOAD=", 11))
			pre = envp[n] + 11;
		else if (!strncmp(envp[n], "USHM_DIR=", 9))
			has_dir = true;
		else if (!strcmp(envp[n], "USHM_INHERIT=0"))
			return raw_execve(path, argv, envp);
	}
	if ((pre && preload_has_self(pre)) && (has_dir || !ns_entry[0]))
		return raw_execve(path, argv, envp);
	if (n > MAX_ENV)
		return raw_execve(path, argv, envp);
	{
		char *nenv[MAX_ENV + 3];
		char preload[MAX_PRELOAD];
		size_t len = 0;

		/* No snprintf here: we may be in a vfork child. */
		if (!cat(preload, &len, "LD_PRELOAD=") ||
		    (pre && *pre && !cat(preload, &len, pre)) ||
		    (!(pre && preload_has_self(pre)) &&
		     ((pre && *pre && !cat(preload, &len, ":")) ||
		      !cat(preload, &len, self))))
			return raw_execve(path, argv, envp);
		for (size_t i = 0; i < n; i++)
			if (strncmp(envp[i], "LD_PRELOAD=", 11))
				nenv[k++] = envp[i];
		nenv[k++] = preload;
		if (!has_dir && ns_entry[0])
			nenv[k++] = ns_entry;
		nenv[k] = NULL;
		return raw_execve(path, argv, nenv);
	}
}

SHIM_EXPORT int execve(const char *path, char *const argv[],
		       char *const envp[])
{
	return shim__execve(path, argv, envp);
}
