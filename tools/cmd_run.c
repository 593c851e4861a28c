/*
 * cmd_run.c - `ushm run`: start a program with ushm in place of the
 * kernel's System V shared memory.
 *
 *   ushm [--namespace DIR] run [--namespace DIR] [--] CMD [ARGS...]
 *
 * The program gets LD_PRELOAD with libushm-preload.so (found through
 * /proc/self/exe: next to the ushm binary, as in the build tree, else at
 * USHM_SHIM_RELDIR from the binary's directory, as installed: see
 * find_shim), appended to any LD_PRELOAD it
 * already had, and USHM_DIR naming the namespace as an absolute path: the
 * one given, else $USHM_DIR, else the default one (DESIGN.md), opened
 * here first so that a namespace that cannot be used is reported before
 * the program starts.  Children inherit both through the environment;
 * the shim puts them back when a program execs with an environment of
 * its own (docs/DROPIN.md).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ushm.h"

#define PRELOAD_NAME "libushm-preload.so"

/*
 * Where the installed shim is from the installed tool's directory: the
 * path from BINDIR to PKGLIBDIR (Makefile, `make install`).  Relative, so
 * that a tree installed under DESTDIR, or a whole prefix moved elsewhere,
 * still finds its own shim and never another installation's.
 */
#ifndef USHM_SHIM_RELDIR
#define USHM_SHIM_RELDIR "../lib/ushm"
#endif

/*
 * The shim of this ushm, in BUF (PATH_MAX bytes): next to the binary (the
 * build tree), else at USHM_SHIM_RELDIR from it (an installed tool), as
 * an absolute path without "..", the one /proc/PID/maps will show.  Only
 * our own binary's directory is looked at, never the environment: what
 * is preloaded into every program run is what was installed with the
 * tool.
 */
static int find_shim(char buf[PATH_MAX])
{
	static const char *const rel[] = { ".", USHM_SHIM_RELDIR };
	char exe[PATH_MAX], cand[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int err = ENOENT;

	if (n <= 0) {
		cmd_warn("cannot read /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(cand, sizeof(cand), "%s/%s/%s", exe, rel[i],
			     PRELOAD_NAME) >= (int)sizeof(cand))
			continue;
		if (access(cand, R_OK) != 0) {
			/* A shim that is there but unreadable is worth
			 * saying, more than a missing one. */
			if (errno != ENOENT)
				err = errno;
			continue;
		}
		if (!realpath(cand, buf)) {
			err = errno;
			continue;
		}
		return 0;
	}
	cmd_warn("cannot find %s in %s or %s/%s: %s", PRELOAD_NAME, exe, exe,
		 USHM_SHIM_RELDIR, strerror(err));
	return -1;
}

/* Whether the LD_PRELOAD value V names SHIM already. */
static int preload_has(const char *v, const char *shim)
{
	size_t sl = strlen(shim);

	while (*v) {
		size_t len = strcspn(v, ": ");

		if (len == sl && !strncmp(v, shim, sl))
			return 1;
		v += len;
		if (*v)
			v++;
	}
	return 0;
}

static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;
	int r;

	if (old && preload_has(old, shim))
		return 0;
	if (old && *old) {
		v = malloc(strlen(old) + strlen(shim) + 2);
		if (!v)
			return -1;
		sprintf(v, "%s:%s", old, shim);
	} else {
		v = strdup(shim);
		if (!v)
			return -1;
	}
	r = setenv("LD_PRELOAD", v, 1);
	free(v);
	return r;
}

/* The namespace, opened (created if it is the default one or missing)
 * and exported as an absolute USHM_DIR. */
static int set_namespace(const char *dir)
{
	char abs[PATH_MAX];
	const char *path;

	if (!dir)
		dir = getenv("USHM_DIR");
	if (dir && !*dir)
		dir = NULL;
	if (cmd_open_namespace(dir) != 0)
		return -1;
	path = ushm_namespace_path();
	if (!realpath(path, abs)) {
		cmd_warn("namespace %s: %s", path, strerror(errno));
		return -1;
	}
	if (setenv("USHM_DIR", abs, 1) != 0) {
		cmd_warn("%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* CMD as execvp would find it, in BUF; -1 if it is not found. */
static int which(const char *cmd, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(cmd, '/'))
		return snprintf(buf, len, "%s", cmd) < (int)len ? 0 : -1;
	for (p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		if (snprintf(buf, len, "%.*s/%s", (int)n, n ? p : ".", cmd) <
		    (int)len && access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (*p)
			p++;
	}
	return -1;
}

/*
 * Whether FILE is an ELF program with no interpreter: statically linked,
 * so LD_PRELOAD does nothing and it would use the kernel's SysV IPC
 * without a word.  Anything unreadable or not ELF is given the benefit
 * of the doubt (a script's interpreter is dynamically linked, mostly).
 */
static int is_static(const char *file)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(file, O_RDONLY | O_CLOEXEC), interp = 0, elf = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
	    eh.e_phentsize == sizeof(ph)) {
		elf = 1;
		for (int i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (Elf64_Off)i * sizeof(ph))) != (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP)
				interp = 1;
		}
	}
	close(fd);
	return elf && !interp;
}

static int run(int argc, char **argv)
{
	const char *dir = NULL;
	char shim[PATH_MAX];
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if ((!strcmp(argv[i], "--namespace") || !strcmp(argv[i], "-N"))
		    && i + 1 < argc) {
			dir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--namespace=", 12)) {
			dir = argv[i] + 12;
			i++;
		} else {
			cmd_warn("run: unknown option %s", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cmd_warn("run: no command given (see %s run --help)", cmd_prog);
		return EXIT_USAGE;
	}
	if (find_shim(shim) != 0)
		return EXIT_FAIL;
	if (set_namespace(dir) != 0)
		return EXIT_NAMESPACE;
	if (set_preload(shim) != 0) {
		cmd_warn("%s", strerror(errno));
		return EXIT_FAIL;
	}
	if (which(argv[i], shim, sizeof(shim)) == 0 && is_static(shim))
		cmd_warn("%s is statically linked: LD_PRELOAD cannot reach it, "
			 "it will use the kernel's SysV shared memory "
			 "(docs/DROPIN.md)", shim);
	execvp(argv[i], argv + i);
	cmd_warn("%s: %s", argv[i], strerror(errno));
	/* As env(1) and the shells: 127 not found, 126 not runnable. */
	return errno == ENOENT ? 127 : 126;
}

USHM_CMD(run, "run", "start a program with ushm as its SysV shared memory",
	 "Usage: ushm [--namespace DIR] run [--namespace DIR] [--] CMD "
	 "[ARGS...]\n"
	 "\n"
	 "Run CMD with libushm-preload.so (next to the ushm binary, or as\n"
	 "installed, in " USHM_SHIM_RELDIR " from its directory) added to\n"
	 "LD_PRELOAD and USHM_DIR set to the namespace, so that its shmget,\n"
	 "shmat, shmdt and shmctl, and those of every child it starts, use\n"
	 "ushm instead of the kernel.  Under it, /proc/sysvipc/shm and\n"
	 "/proc/sys/kernel/shm* show the namespace, so ipcs, lsipc and ipcrm\n"
	 "work on it too.  Statically linked programs and raw system calls\n"
	 "other than through syscall(3) are not covered: see docs/DROPIN.md.\n"
	 "\n"
	 "  -N, --namespace DIR  the namespace (default: $USHM_DIR, else the\n"
	 "                       system or your private namespace)\n"
	 "\n"
	 "Exit status: CMD's; 126 or 127 if it cannot be started; 3 if the\n"
	 "namespace cannot be used.\n",
	 run)
