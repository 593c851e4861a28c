/*
 * cmd_namespace.c - `ushm namespace`: which namespace this run uses (the
 * --namespace option, $USHM_DIR, the system namespace or a private one),
 * whether it is shared, and whose it is; `ushm namespace create` makes
 * one, `ushm namespace init` the system namespace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "format.h"
#include "seg.h"
#include "ushm.h"

#define SYSTEM_NS "/run/ushm"

static int show(void)
{
	struct ushm_ns *ns = seg_ns();
	const char *env = secure_getenv("USHM_DIR"), *u;
	struct seg_list l;
	uint32_t tasks = 0;
	int r;

	if (!ns)
		return EXIT_NAMESPACE;
	if ((r = seg_snapshot(ns, &l)) != 0)
		return r;
	for (uint32_t t = 0; t < ns->hdr->task_hwm && t < USHM_TASKS; t++)
		if (ushm__task(ns->hdr, t)->state != TASK_FREE)
			tasks++;
	u = fmt_user(ns->owner);
	printf("path:       %s\n", ns->path);
	printf("chosen by:  %s\n", env && *env ? "USHM_DIR (or --namespace)" :
	       !strcmp(ns->path, SYSTEM_NS) ? "default: the system namespace"
					    : "default: private to this user");
	printf("kind:       %s\n", ns->shared ?
	       "shared (sticky, every user may use it)" :
	       "private (only its owner may use it)");
	printf("owner:      %u (%s)\n", (unsigned)ns->owner, u ? u : "?");
	printf("segments:   %zu (%" PRIu64 " pages)\n", l.n, l.shm_tot);
	printf("processes:  %u registered\n", tasks);
	seg_list_free(&l);
	return 0;
}

static int create(const char *dir, int shared)
{
	char reg[4200];
	struct stat st;
	int existed;

	snprintf(reg, sizeof(reg), "%s/registry", dir);
	existed = stat(reg, &st) == 0;
	if (ushm_namespace_create(dir, shared) != 0) {
		cmd_warn("namespace %s: %s", dir, *ushm_strerror() ?
			 ushm_strerror() : strerror(errno));
		return EXIT_NAMESPACE;
	}
	printf("%s: %s %s namespace\n", dir, existed ? "already a" : "created a",
	       shared ? "shared" : "private");
	return 0;
}

static int namespace_run(int argc, char **argv)
{
	if (argc == 1)
		return show();
	if (!strcmp(argv[1], "create")) {
		int shared = argc == 4 && !strcmp(argv[2], "--shared");

		if (argc != 3 + shared || argv[2 + shared][0] == '-') {
			cmd_warn("namespace: usage: %s namespace create "
				 "[--shared] DIR", cmd_prog);
			return EXIT_USAGE;
		}
		return create(argv[2 + shared], shared);
	}
	if (!strcmp(argv[1], "init") && argc == 2) {
		if (geteuid() != 0) {
			cmd_warn("namespace init: only root makes the system "
				 "namespace %s", SYSTEM_NS);
			return EXIT_FAIL;
		}
		return create(SYSTEM_NS, 1);
	}
	cmd_warn("namespace: unknown argument %s (see %s namespace --help)",
		 argv[1], cmd_prog);
	return EXIT_USAGE;
}

USHM_CMD(namespace, "namespace", "show, create or initialise a namespace",
	 "Usage: ushm namespace\n"
	 "       ushm namespace create [--shared] DIR\n"
	 "       ushm namespace init\n"
	 "\n"
	 "Without arguments, show the namespace in use: its path, how it was\n"
	 "chosen (--namespace or $USHM_DIR, else the system namespace\n"
	 "/run/ushm, else a private one), whether it is shared or\n"
	 "private, its owner and what it holds.\n"
	 "\n"
	 "create makes DIR a namespace: private to you (mode 0700), or with\n"
	 "--shared sticky and world-writable, for every user.  An existing\n"
	 "namespace is left as it is.  init makes the system namespace\n"
	 "(root only).\n"
	 "\n"
	 "Exit status: 0 success, 1 not allowed, 2 bad usage, 3 the namespace\n"
	 "cannot be used or made.\n",
	 namespace_run)
