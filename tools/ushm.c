/*
 * ushm.c - the ushm tool's entry point: finds the subcommand, handles
 * the options common to all of them.
 *
 *   ushm [--namespace DIR] COMMAND [ARGS...]
 *   ushm --help | COMMAND --help
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ushm.h"

const char *cmd_prog = "ushm";
static struct ushm_cmd *cmds;

void cmd_register(struct ushm_cmd *c)
{
	struct ushm_cmd **p = &cmds;

	while (*p && strcmp((*p)->name, c->name) < 0)
		p = &(*p)->next;
	c->next = *p;
	*p = c;
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_wants_help(struct ushm_cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(c->usage, stdout);
			return 1;
		}
	}
	return 0;
}

int cmd_open_namespace(const char *dir)
{
	const char *path;

	if (dir && ushm_namespace_set(dir) != 0) {
		cmd_warn("namespace %s: %s", dir, *ushm_strerror()
			 ? ushm_strerror() : strerror(errno));
		return -1;
	}
	path = ushm_namespace_path();
	if (!path) {
		cmd_warn("%s", *ushm_strerror() ? ushm_strerror()
						 : strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static bool looks_only(const char *name)
{
	static const char *const lookers[] = {
		"ipcs", "ls", "stat", "map", "check", "repair", "reap", "ipcrm",
	};

	for (size_t i = 0; i < sizeof(lookers) / sizeof(lookers[0]); i++)
		if (!strcmp(name, lookers[i]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [--namespace DIR] COMMAND [ARGS...]\n\n"
		   "System V shared memory in user space: look at and manage "
		   "a ushm namespace.\n\nCommands:\n", cmd_prog);
	for (struct ushm_cmd *c = cmds; c; c = c->next)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nThe namespace is DIR, else $USHM_DIR, else the system "
		   "namespace /run/ushm\n(or a private one for users other "
		   "than root when there is none).\n"
		   "`%s COMMAND --help` describes a command.\n\n"
		   "Exit status: 0 success, 1 the operation failed, 2 bad "
		   "usage,\n3 the namespace cannot be used.\n", cmd_prog);
}

int main(int argc, char **argv)
{
	const char *ns = NULL;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if ((!strcmp(argv[i], "--namespace") || !strcmp(argv[i], "-N"))
		    && i + 1 < argc) {
			ns = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--namespace=", 12)) {
			ns = argv[i] + 12;
			i++;
			continue;
		}
		cmd_warn("unknown option %s", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The subcommands choose the namespace through USHM_DIR, so that
	 * the programs `ushm run` starts inherit it too. */
	if (ns && setenv("USHM_DIR", ns, 1) != 0) {
		cmd_warn("%s", strerror(errno));
		return EXIT_FAIL;
	}
	for (struct ushm_cmd *c = cmds; c; c = c->next) {
		struct stat st;

		if (strcmp(c->name, argv[i]))
			continue;
		/* Looking must not create a namespace (a mistyped path
		 * would leave one behind); making and setting things may. */
		if (ns && looks_only(c->name) && stat(ns, &st) != 0) {
			cmd_warn("no namespace at %s (`%s namespace create %s` "
				 "makes one)", ns, cmd_prog, ns);
			return EXIT_NAMESPACE;
		}
		if (cmd_wants_help(c, argc - i, argv + i))
			return 0;
		return c->run(argc - i, argv + i);
	}
	cmd_warn("unknown command %s (see %s --help)", argv[i], cmd_prog);
	return EXIT_USAGE;
}
