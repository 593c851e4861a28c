/*
 * cmd_check.c - `ushm check`: verify every invariant of the namespace
 * (docs/INVARIANTS.md) and say, one line each, which do not hold.  A
 * registry lock held by a thread that does not exist is one line too: it
 * hides the rest until `ushm repair` replaces it.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "seg.h"
#include "ushm.h"

static void report(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
}

static int check_run(int argc, char **argv)
{
	int n, quiet = argc == 2 && (!strcmp(argv[1], "-q") ||
				     !strcmp(argv[1], "--quiet"));
	struct ushm_ns *ns;
	char what[160];

	if (argc > 1 + quiet) {
		cmd_warn("check: unexpected argument %s", argv[1]);
		return EXIT_USAGE;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	n = ushm_check(report, NULL);
	if (n < 0 && seg_dead_lock(ns, what, sizeof(what))) {
		/* A violation that `ushm repair` fixes, not an unusable
		 * namespace; nothing behind the lock can be checked. */
		printf("%s: %s, so nothing else can be checked; `%s repair` "
		       "makes a new one\n", ns->path, what, cmd_prog);
		return EXIT_FAIL;
	}
	if (n < 0) {
		cmd_warn("check: %s", *ushm_strerror() ? ushm_strerror()
							: strerror(errno));
		return EXIT_NAMESPACE;
	}
	if (n && !quiet)
		printf("%s: %d violation%s; `%s repair` fixes them\n", ns->path,
		       n, n == 1 ? "" : "s", cmd_prog);
	else if (!quiet)
		printf("%s: sound\n", ns->path);
	return n ? EXIT_FAIL : 0;
}

USHM_CMD(check, "check", "verify the namespace's invariants",
	 "Usage: ushm check [-q]\n"
	 "\n"
	 "Check every invariant of the namespace's registry and files\n"
	 "(docs/INVARIANTS.md) and print each violation on one line.\n"
	 "  -q, --quiet   print only the violations\n"
	 "\n"
	 "Exit status: 0 every invariant holds, 1 some do not, or the\n"
	 "registry lock is held by a thread that does not exist (ushm repair\n"
	 "fixes them), 2 bad usage, 3 the namespace cannot be used (a\n"
	 "registry that is not one, of another layout version...).\n",
	 check_run)
