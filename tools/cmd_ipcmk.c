/*
 * cmd_ipcmk.c - `ushm ipcmk -M SIZE [-p MODE]`: create a segment with a
 * random key, as util-linux ipcmk does (shmget(key, size, IPC_CREAT |
 * mode), mode 0644 by default), and print its id.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cmd.h"
#include "opt.h"
#include "format.h"
#include "seg.h"
#include "ushm.h"

/* A random key that is not IPC_PRIVATE. */
static key_t random_key(void)
{
	key_t k = 0;

	while (k == IPC_PRIVATE)
		if (getrandom(&k, sizeof(k), 0) != (ssize_t)sizeof(k))
			k = (key_t)(rand() ^ (rand() << 16));
	return k;
}

static int ipcmk_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shmem", required_argument, NULL, 'M' },
		{ "mode", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t size = 0;
	unsigned long mode = 0644;
	int c, id, have_size = 0;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":M:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			if (fmt_parse_size(optarg, &size) != 0) {
				cmd_warn("failed to parse size: '%s': %s",
					 optarg, strerror(errno));
				return EXIT_USAGE;
			}
			have_size = 1;
			break;
		case 'p':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (errno || end == optarg || *end || mode > 0777) {
				cmd_warn("failed to parse mode: '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return opt_error("ipcmk", c, argv);
		}
	}
	if (!have_size || optind < argc) {
		cmd_warn("bad usage (see %s ipcmk --help)", cmd_prog);
		return EXIT_USAGE;
	}
	if (!seg_ns())
		return EXIT_NAMESPACE;
	id = ushm_shmget(random_key(), (size_t)size, IPC_CREAT | (int)mode);
	if (id < 0) {
		cmd_warn("create share memory failed: %s",
			 *ushm_strerror() ? ushm_strerror() : strerror(errno));
		return EXIT_FAIL;
	}
	printf("Shared memory id: %d\n", id);
	return 0;
}

USHM_CMD(ipcmk, "ipcmk", "create a segment (util-linux ipcmk -M)",
	 "Usage: ushm ipcmk -M SIZE [-p MODE]\n"
	 "\n"
	 "Create a shared memory segment with a random key, as util-linux\n"
	 "ipcmk does, and print \"Shared memory id: N\".\n"
	 "\n"
	 "Options:\n"
	 "  -M, --shmem SIZE   its size in bytes; K, M, G, T, P, E (or KiB,\n"
	 "                     MiB...) multiply by powers of 1024, KB, MB...\n"
	 "                     by powers of 1000\n"
	 "  -p, --mode MODE    its permissions, in octal (default 644)\n"
	 "  -h, --help         this text\n"
	 "\n"
	 "Exit status: 0 created, 1 the creation failed (the kernel's rules:\n"
	 "size 0 or above shmmax, limits reached), 2 bad usage, 3 the\n"
	 "namespace cannot be used.\n",
	 ipcmk_run)
