/*
 * cmd_reap.c - `ushm reap`: drop what dead processes held, as their exit
 * would have on the kernel (every call that depends on it reaps by
 * itself; this is for looking at a namespace by hand).
 */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "seg.h"
#include "ushm.h"

static int reap_run(int argc, char **argv)
{
	int n;

	(void)argv;
	if (argc > 1) {
		cmd_warn("reap: no arguments expected");
		return EXIT_USAGE;
	}
	if (!seg_ns())
		return EXIT_NAMESPACE;
	n = ushm_reap();
	if (n < 0) {
		cmd_warn("reap: %s", *ushm_strerror() ? ushm_strerror()
						       : strerror(errno));
		return EXIT_NAMESPACE;
	}
	printf("reaped %d dead process%s\n", n, n == 1 ? "" : "es");
	return 0;
}

USHM_CMD(reap, "reap", "drop what dead processes held",
	 "Usage: ushm reap\n"
	 "\n"
	 "Drop the attachments of processes that died (with the dtime and\n"
	 "lpid their exit would have set on the kernel) and destroy the\n"
	 "segments this frees; print how many dead processes were reaped.\n"
	 "Every call that depends on it does this by itself.\n"
	 "\n"
	 "Exit status: 0 success, 2 bad usage, 3 the namespace cannot be "
	 "used.\n",
	 reap_run)
