/*
 * cmd_repair.c - `ushm repair`: bring the namespace back to a state where
 * every invariant holds (the repair a process does when it finds the
 * lock's previous owner dead, plus the files no slot owns), and say what
 * was wrong before and whether anything still is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "seg.h"
#include "ushm.h"

static void report(void *ctx, const char *line)
{
	const char *prefix = ctx;

	printf("%s%s\n", prefix, line);
}

static int repair_run(int argc, char **argv)
{
	struct ushm_ns *ns;
	int before, fixed, after;

	(void)argv;
	if (argc > 1) {
		cmd_warn("repair: no arguments expected");
		return EXIT_USAGE;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	before = ushm_check(report, "found: ");
	fixed = before < 0 ? -1 : ushm_repair();
	after = fixed < 0 ? -1 : ushm_check(report, "still: ");
	if (before < 0 || fixed < 0 || after < 0) {
		cmd_warn("repair: %s", *ushm_strerror() ? ushm_strerror()
							 : strerror(errno));
		return EXIT_NAMESPACE;
	}
	printf("%s: %d problem%s found, %d fixed, %s\n", ns->path, before,
	       before == 1 ? "" : "s", fixed,
	       after ? "some remain" : "now sound");
	return after ? EXIT_FAIL : 0;
}

USHM_CMD(repair, "repair", "fix what `ushm check` finds",
	 "Usage: ushm repair\n"
	 "\n"
	 "Repair the namespace: recompute what is derived from the segment\n"
	 "slots (counters, key index, attachment counts), undo half-made and\n"
	 "finish half-destroyed segments, recreate a missing segment file\n"
	 "(its data is lost) and remove files no segment owns.  Prints each\n"
	 "problem found (\"found: ...\"), what remains after (\"still: ...\")\n"
	 "and a summary line.\n"
	 "\n"
	 "Exit status: 0 the namespace is sound, 1 problems remain, 2 bad\n"
	 "usage, 3 the namespace cannot be used.\n",
	 repair_run)
