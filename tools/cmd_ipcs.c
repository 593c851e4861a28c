/*
 * cmd_ipcs.c - `ushm ipcs`: the shared memory part of util-linux 2.38.1
 * ipcs, printing byte for byte what it prints for kernel segments with
 * the same attributes (SEMANTICS.md 8.9-8.16).  The formats are those of
 * ipcs.c do_shm() and print_shm(); ids, names and times come from the
 * registry instead of /proc/sysvipc/shm.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "opt.h"
#include "format.h"
#include "seg.h"
#include "ushm.h"

enum { F_DEFAULT, F_CREATOR, F_PID, F_TIME, F_LIMITS, F_STATUS };
enum { U_DEFAULT, U_BYTES, U_HUMAN, U_KB };

/* ipc_print_size(): MSG (NULL, "name=" or a label), SIZE in UNIT, END. */
static void print_size(int unit, const char *msg, uint64_t size,
		       const char *end, int width)
{
	char h[32];

	if (!msg)
		;
	else if (msg[strlen(msg) - 1] == '=')
		printf("%s", msg);
	else if (unit == U_BYTES)
		printf("%s (bytes) = ", msg);
	else if (unit == U_KB)
		printf("%s (kbytes) = ", msg);
	else
		printf("%s = ", msg);
	switch (unit) {
	case U_KB:
		size /= 1024;
		/* fall through */
	case U_DEFAULT:
	case U_BYTES:
		printf("%*" PRIu64, width, size);
		break;
	default:
		fmt_human(h, sizeof(h), size);
		printf("%*s", width, h);
		break;
	}
	if (end)
		printf("%s", end);
}

/* The id and owner that start most rows: a name is cut at 10. */
static void print_id_owner(const struct seg *g)
{
	const char *u = fmt_user(g->s.uid);

	if (u)
		printf("%-10d %-10.10s", g->id, u);
	else
		printf("%-10d %-10u", g->id, g->s.uid);
}

/* ctime(t) + 4 for -t, cut at 16 by the caller's format. */
static const char *time16(int64_t t)
{
	static char buf[32];
	time_t tt = (time_t)t;

	if (!t)
		return "Not set";
	ctime_r(&tt, buf);
	return buf + 4;
}

static void name_or_id(const char *name, unsigned id, const char *end)
{
	if (name)
		printf(" %-10s%s", name, end);
	else
		printf(" %-10u%s", id, end);
}

static void print_row(const struct seg *g, int format, int unit)
{
	const struct ushm_slot *s = &g->s;

	switch (format) {
	case F_CREATOR:
		printf("%-10d %-10o", g->id, s->mode & 0777);
		name_or_id(fmt_user(s->cuid), s->cuid, "");
		name_or_id(fmt_group(s->cgid), s->cgid, "");
		name_or_id(fmt_user(s->uid), s->uid, "");
		name_or_id(fmt_group(s->gid), s->gid, "\n");
		break;
	case F_PID:
		print_id_owner(g);
		printf(" %-10u %-10u\n", (unsigned)s->cpid, (unsigned)s->lpid);
		break;
	case F_TIME:
		print_id_owner(g);
		printf(" %-20.16s", time16(s->atime));
		printf(" %-20.16s", time16(s->dtime));
		printf(" %-20.16s\n", time16(s->ctime));
		break;
	default:
		printf("0x%08x ", (unsigned)s->key);
		print_id_owner(g);
		printf(" %-10o ", s->mode & 0777);
		if (unit == U_HUMAN)
			print_size(unit, NULL, s->segsz, "    ", 6);
		else
			print_size(unit, NULL, s->segsz, NULL, -10);
		printf(" %-10ju %-6s %-6s\n", (uintmax_t)s->nattch,
		       (s->mode & USHM_MODE_DEST) ? "dest" : " ",
		       (s->mode & USHM_MODE_LOCKED) ? "locked" : " ");
		break;
	}
}

static void print_header(int format, int unit)
{
	switch (format) {
	case F_CREATOR:
		printf("------ Shared Memory Segment Creators/Owners --------\n");
		printf("%-10s %-10s %-10s %-10s %-10s %-10s\n", "shmid",
		       "perms", "cuid", "cgid", "uid", "gid");
		break;
	case F_PID:
		printf("------ Shared Memory Creator/Last-op PIDs --------\n");
		printf("%-10s %-10s %-10s %-10s\n", "shmid", "owner", "cpid",
		       "lpid");
		break;
	case F_TIME:
		printf("------ Shared Memory Attach/Detach/Change Times "
		       "--------\n");
		printf("%-10s %-10s %-20s %-20s %-20s\n", "shmid", "owner",
		       "attached", "detached", "changed");
		break;
	default:
		printf("------ Shared Memory Segments --------\n");
		printf("%-10s %-10s %-10s %-10s %-10s %-10s %-12s\n", "key",
		       "shmid", "owner", "perms",
		       unit == U_HUMAN ? "size" : "bytes", "nattch", "status");
		break;
	}
}

static int get_limit(const char *name, uint64_t *v)
{
	char buf[64];

	if (ushm_limit_get(name, buf, sizeof(buf)) != 0)
		return -1;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

static int print_limits(int unit)
{
	uint64_t mni, max, all, tot, pgsz = 4096;

	if (get_limit("shmmni", &mni) || get_limit("shmmax", &max) ||
	    get_limit("shmall", &all)) {
		cmd_warn("%s", ushm_strerror());
		return EXIT_NAMESPACE;
	}
	printf("------ Shared Memory Limits --------\n");
	printf("max number of segments = %ju\n", (uintmax_t)mni);
	print_size(unit == U_DEFAULT ? U_KB : unit, "max seg size", max, "\n",
		   0);
	if (unit == U_DEFAULT) {
		/* In kbytes: shmall * 4, saturated (ipcs.c). */
		tot = all * (pgsz / 1024);
		if (all != 0 && tot / all != pgsz / 1024)
			tot = UINT64_MAX - (UINT64_MAX % (pgsz / 1024));
		printf("max total shared memory (kbytes) = %ju\n",
		       (uintmax_t)tot);
	} else {
		tot = all * pgsz;
		if (all != 0 && tot / all != pgsz)
			tot = UINT64_MAX - (UINT64_MAX % pgsz);
		print_size(unit, "max total shared memory", tot, "\n", 0);
	}
	print_size(unit == U_DEFAULT ? U_BYTES : unit, "min seg size", 1,
		   "\n", 0);
	return 0;
}

static int print_status(void)
{
	struct shm_info si;

	if (ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)&si) < 0) {
		cmd_warn("%s", *ushm_strerror() ? ushm_strerror()
						 : strerror(errno));
		return EXIT_NAMESPACE;
	}
	printf("------ Shared Memory Status --------\n");
	printf("segments allocated %d\n"
	       "pages allocated %ld\n"
	       "pages resident  %ld\n"
	       "pages swapped   %ld\n"
	       "Swap performance: %ld attempts\t %ld successes\n",
	       si.used_ids, (long)si.shm_tot, (long)si.shm_rss,
	       (long)si.shm_swp, (long)si.swap_attempts,
	       (long)si.swap_successes);
	return 0;
}

/* print_shm(): the one segment of -i. */
static void print_one(const struct seg *g, int unit)
{
	const struct ushm_slot *s = &g->s;
	time_t a = (time_t)s->atime, d = (time_t)s->dtime, c = (time_t)s->ctime;
	char buf[32];

	printf("\nShared memory Segment shmid=%d\n", g->id);
	printf("uid=%u\tgid=%u\tcuid=%u\tcgid=%u\n", s->uid, s->gid, s->cuid,
	       s->cgid);
	printf("mode=%#o\taccess_perms=%#o\n", s->mode, s->mode & 0777);
	print_size(unit, unit == U_HUMAN ? "size=" : "bytes=", s->segsz, "\t",
		   0);
	printf("lpid=%u\tcpid=%u\tnattch=%jd\n", (unsigned)s->lpid,
	       (unsigned)s->cpid, (intmax_t)s->nattch);
	printf("att_time=%-26.24s\n", a ? ctime_r(&a, buf) : "Not set");
	printf("det_time=%-26.24s\n", d ? ctime_r(&d, buf) : "Not set");
	printf("change_time=%-26.24s\n", ctime_r(&c, buf));
	printf("\n");
}

static int ipcs_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "shmems", no_argument, NULL, 'm' },
		{ "queues", no_argument, NULL, 'q' },
		{ "semaphores", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "time", no_argument, NULL, 't' },
		{ "pid", no_argument, NULL, 'p' },
		{ "creator", no_argument, NULL, 'c' },
		{ "limits", no_argument, NULL, 'l' },
		{ "summary", no_argument, NULL, 'u' },
		{ "human", no_argument, NULL, 'H' },
		{ "bytes", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int format = F_DEFAULT, unit = U_DEFAULT, shm = 0, other = 0;
	int c, id = -1, have_id = 0, r;
	struct ushm_ns *ns;
	struct seg_list l;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:mqsatpclubV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (seg_parse_id(optarg, &id, "id argument"))
				return EXIT_USAGE;
			have_id = 1;
			break;
		case 'm': shm = 1; break;
		case 'a': shm = 1; break;
		case 'q':
		case 's': other = 1; break;
		case 't': format = F_TIME; break;
		case 'p': format = F_PID; break;
		case 'c': format = F_CREATOR; break;
		case 'l': format = F_LIMITS; break;
		case 'u': format = F_STATUS; break;
		case 'H': unit = U_HUMAN; break;
		case 'b': unit = U_BYTES; break;
		default:
			return opt_error("ipcs", c, argv);
		}
	}
	if (optind < argc) {
		cmd_warn("ipcs: unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (other) {
		cmd_warn("ipcs: only shared memory (-m) exists in a ushm "
			 "namespace");
		return EXIT_USAGE;
	}
	if (have_id && !shm) {
		cmd_warn("when using an ID, a single resource must be "
			 "specified");
		return EXIT_FAIL;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	if (format == F_LIMITS || format == F_STATUS) {
		if (have_id)
			goto one;
		printf("\n");
		r = format == F_LIMITS ? print_limits(unit) : print_status();
		if (r == 0)
			printf("\n");
		return r;
	}
one:
	if ((r = seg_snapshot(ns, &l)) != 0)
		return r;
	if (have_id) {
		const struct seg *g = seg_by_id(&l, id);

		/* ipcs says so and still exits 0. */
		if (!g)
			cmd_warn("id %d not found", id);
		else
			print_one(g, unit);
	} else {
		printf("\n");
		print_header(format, unit);
		for (size_t i = 0; i < l.n; i++)
			print_row(&l.v[i], format, unit);
		printf("\n");
	}
	seg_list_free(&l);
	return 0;
}

USHM_CMD(ipcs, "ipcs", "show segments as util-linux ipcs -m does",
	 "Usage: ushm ipcs [-m] [-i ID] [-c|-p|-t|-l|-u] [-b|--human]\n"
	 "\n"
	 "Show the namespace's shared memory segments exactly as util-linux\n"
	 "ipcs shows the kernel's (only shared memory exists in ushm, so -m\n"
	 "is implied and -a is the same as -m).\n"
	 "\n"
	 "Options:\n"
	 "  -m, --shmems      shared memory segments (the default)\n"
	 "  -a, --all         the same as -m\n"
	 "  -i, --id ID       details of the segment ID (needs -m)\n"
	 "  -c, --creator     creators and owners\n"
	 "  -p, --pid         creator and last-operation pids\n"
	 "  -t, --time        attach, detach and change times\n"
	 "  -l, --limits      the namespace's limits\n"
	 "  -u, --summary     usage summary (SHM_INFO)\n"
	 "  -b, --bytes       sizes in bytes\n"
	 "      --human       sizes in human-readable form\n"
	 "  -h, --help        this text\n"
	 "\n"
	 "An unknown ID is reported on stderr and the exit status stays 0, as\n"
	 "with ipcs.  Exit status: 0 success, 1 failure, 2 bad usage, 3 the\n"
	 "namespace cannot be used.\n",
	 ipcs_run)
