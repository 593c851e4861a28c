/*
 * opt.c - the error for a refused option (see opt.h).
 */
#include <getopt.h>

#include "cmd.h"
#include "opt.h"

int opt_error(const char *cmd, int c, char **argv)
{
	const char *what = c == ':' ? "option requires an argument"
				    : "unknown option";

	if (optopt)
		cmd_warn("%s: %s -%c (see %s %s --help)", cmd, what, optopt,
			 cmd_prog, cmd);
	else
		cmd_warn("%s: %s %s (see %s %s --help)", cmd, what,
			 argv[optind - 1], cmd_prog, cmd);
	return EXIT_USAGE;
}
