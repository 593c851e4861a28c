/*
 * cmd.h - the ushm tool's subcommands.
 *
 * Each subcommand lives in its own file, tools/cmd_<name>.c, and
 * registers itself with USHM_CMD(); tools/ushm.c finds it by name.  A
 * subcommand returns the tool's exit status:
 *   0  success
 *   1  the operation failed (a segment not found, a check that failed)
 *   2  bad usage (unknown option, malformed number)
 *   3  the namespace cannot be used (ushm_strerror() says why)
 */
#ifndef USHM_TOOL_CMD_H
#define USHM_TOOL_CMD_H

#include <stdio.h>

enum { EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NAMESPACE = 3 };

struct ushm_cmd {
	const char *name;
	const char *summary;	/* one line, for `ushm --help` */
	const char *usage;	/* the text of `ushm NAME --help` */
	int (*run)(int argc, char **argv);	/* argv[0] is NAME */
	struct ushm_cmd *next;
};

void cmd_register(struct ushm_cmd *c);

#define USHM_CMD(id, name_, summary_, usage_, fn_)                          \
	static struct ushm_cmd cmd_##id = { name_, summary_, usage_, fn_,  \
					    NULL };                        \
	__attribute__((constructor)) static void cmd_reg_##id(void)        \
	{                                                                  \
		cmd_register(&cmd_##id);                                   \
	}

/* The program name for messages ("ushm"), and one-line errors in the
 * style of err(3): "ushm: <what>". */
extern const char *cmd_prog;
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if argv has -h or --help; prints the command's usage then. */
int cmd_wants_help(struct ushm_cmd *c, int argc, char **argv);

/* Open the namespace (--namespace DIR or the default); on failure print
 * why in one line and return -1 (the command then exits EXIT_NAMESPACE). */
int cmd_open_namespace(const char *dir);

/* Parse a whole number (decimal, 0x hex or 0 octal); -1 if malformed. */
int cmd_parse_ull(const char *s, unsigned long long *v);

#endif
