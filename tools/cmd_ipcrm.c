/*
 * cmd_ipcrm.c - `ushm ipcrm`: remove segments by id, by key, or all of
 * them, with util-linux ipcrm's messages (ipcrm.c remove_id, key_to_id).
 * Every argument is tried; the exit status is 1 if any failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "format.h"
#include "seg.h"
#include "ushm.h"

static int verbose;

/* IPC_RMID on ID; KEYSTR names the key it came from, if any. */
static int remove_id(int id, const char *keystr)
{
	const char *msg;

	if (verbose)
		printf("removing shared memory segment id `%d'\n", id);
	if (ushm_shmctl(id, IPC_RMID, NULL) == 0)
		return 0;
	switch (errno) {
	case EACCES:
	case EPERM:
		msg = keystr ? "permission denied for key"
			     : "permission denied for id";
		break;
	case EINVAL:
		msg = keystr ? "invalid key" : "invalid id";
		break;
	case EIDRM:
		msg = keystr ? "already removed key" : "already removed id";
		break;
	default:
		cmd_warn("%s failed: %s", keystr ? "key" : "id",
			 *ushm_strerror() ? ushm_strerror() : strerror(errno));
		return 1;
	}
	if (keystr)
		cmd_warn("%s (%s)", msg, keystr);
	else
		cmd_warn("%s (%d)", msg, id);
	return 1;
}

/* shmget(key, 0, 0), as ipcrm -M does; -1 after saying why. */
static int key_to_id(const char *s)
{
	unsigned long long k;
	const char *msg;
	int id;

	/* Keys are hex or decimal, read as strtoul(s, NULL, 0) does. */
	if (cmd_parse_ull(s, &k) != 0) {
		cmd_warn("failed to parse key: '%s'", s);
		return -2;
	}
	if ((key_t)k == IPC_PRIVATE) {
		cmd_warn("illegal key (%s)", s);
		return -1;
	}
	id = ushm_shmget((key_t)k, 0, 0);
	if (id >= 0)
		return id;
	switch (errno) {
	case EACCES:
		msg = "permission denied for key";
		break;
	case EIDRM:
		msg = "already removed key";
		break;
	case ENOENT:
		msg = "invalid key";
		break;
	default:
		cmd_warn("key failed: %s", *ushm_strerror() ? ushm_strerror()
							    : strerror(errno));
		return -1;
	}
	cmd_warn("%s (%s)", msg, s);
	return -1;
}

/* ipcrm -a: every segment the caller may remove. */
static int remove_all(struct ushm_ns *ns)
{
	struct seg_list l;
	int r, fails = 0;

	if ((r = seg_snapshot(ns, &l)) != 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		fails += remove_id(l.v[i].id, NULL);
	seg_list_free(&l);
	return fails ? EXIT_FAIL : 0;
}

static int ipcrm_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shmem-id", required_argument, NULL, 'm' },
		{ "shmem-key", required_argument, NULL, 'M' },
		{ "all", optional_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c, id, fails = 0, all = 0;
	struct ushm_ns *ns;

	/* Check every argument before removing anything. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:M:av", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (seg_parse_id(optarg, &id, "argument"))
				return EXIT_USAGE;
			break;
		case 'M': {
			unsigned long long k;

			if (cmd_parse_ull(optarg, &k) != 0) {
				cmd_warn("failed to parse key: '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'a':
			if (optarg && strcmp(optarg, "shm")) {
				cmd_warn("only shared memory (--all=shm) exists "
					 "in a ushm namespace");
				return EXIT_USAGE;
			}
			all = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return opt_error("ipcrm", c, argv);
		}
	}
	if (optind < argc) {
		cmd_warn("unknown argument: %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	optind = 0;	/* the second pass does the work, in order */
	while ((c = getopt_long(argc, argv, ":m:M:av", opts, NULL)) != -1) {
		if (c == 'm') {
			seg_parse_id(optarg, &id, "argument");
			fails += remove_id(id, NULL);
		} else if (c == 'M') {
			id = key_to_id(optarg);
			if (id < 0)
				fails++;
			else
				fails += remove_id(id, optarg);
		}
	}
	if (all && remove_all(ns))
		fails++;
	return fails ? EXIT_FAIL : 0;
}

USHM_CMD(ipcrm, "ipcrm", "remove segments (util-linux ipcrm -m/-M/-a)",
	 "Usage: ushm ipcrm [-v] [-m ID]... [-M KEY]... [-a]\n"
	 "\n"
	 "Remove shared memory segments, as util-linux ipcrm does: a segment\n"
	 "that is still attached is marked for destruction (its key becomes\n"
	 "private at once) and goes with its last detach.\n"
	 "\n"
	 "Options:\n"
	 "  -m, --shmem-id ID    remove the segment with this id\n"
	 "  -M, --shmem-key KEY  remove the segment with this key (hex with 0x)\n"
	 "  -a, --all[=shm]      remove every segment you may remove\n"
	 "  -v, --verbose        say what is removed\n"
	 "  -h, --help           this text\n"
	 "\n"
	 "Every argument is checked first: a malformed id or key changes\n"
	 "nothing.  Then each is tried; an unknown id or key is reported\n"
	 "(\"invalid id (N)\", \"invalid key (KEY)\") and the rest still go.\n"
	 "Exit status: 0 all removed, 1 some failed, 2 bad usage, 3 the\n"
	 "namespace cannot be used.\n",
	 ipcrm_run)
