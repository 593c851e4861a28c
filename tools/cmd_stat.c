/*
 * cmd_stat.c - `ushm stat ID...`: everything about a segment in one view:
 * every field of its slot, its file, the processes attached to it (with
 * the pieces each counts for in nattch), and its resident pages, both as
 * the file's allocated blocks (what the kernel's rss shows) and as pages
 * in memory (mincore() on a private read-only mapping, which faults
 * nothing in).  One "name: value" line per field; the first word after
 * the colon is the raw value, for scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "format.h"
#include "resident.h"
#include "seg.h"
#include "ushm.h"

static void when(const char *name, int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;

	if (!t) {
		printf("%-12s 0 (Not set)\n", name);
		return;
	}
	ctime_r(&tt, buf);
	buf[strcspn(buf, "\n")] = '\0';
	printf("%-12s %" PRId64 " (%s)\n", name, t, buf);
}

static void who(const char *name, uid_t uid, gid_t gid)
{
	const char *u = fmt_user(uid), *g = fmt_group(gid);

	printf("%-12s %u %u (user %s, group %s)\n", name, uid, gid,
	       u ? u : "?", g ? g : "?");
}

static void process(const char *name, pid_t pid)
{
	char comm[64], *cmd;

	if (!pid) {
		printf("%-12s 0\n", name);
		return;
	}
	cmd = fmt_cmdline(pid);
	fmt_comm(comm, sizeof(comm), pid);
	if (*comm)
		printf("%-12s %d (%s: %s)\n", name, (int)pid, comm,
		       cmd ? cmd : "");
	else
		printf("%-12s %d (exited)\n", name, (int)pid);
	free(cmd);
}

static void attachers(struct ushm_ns *ns, const struct seg *g)
{
	struct seg_att *v;
	size_t n;

	if (seg_attachers(ns, g, &v, &n) != 0)
		return;
	printf("%-12s %zu record%s\n", "attachments:", n, n == 1 ? "" : "s");
	if (n)
		printf("  %8s %6s %-6s %-18s %-12s %s\n", "PID", "PIECES",
		       "ACCESS", "ADDRESS", "LENGTH", "COMMAND");
	for (size_t i = 0; i < n; i++) {
		char comm[64], *cmd = fmt_cmdline(v[i].pid);
		const char *access = (v[i].shmflg & SHM_RDONLY) ?
			((v[i].shmflg & SHM_EXEC) ? "r-x" : "r--") :
			((v[i].shmflg & SHM_EXEC) ? "rwx" : "rw-");

		fmt_comm(comm, sizeof(comm), v[i].pid);
		printf("  %8d %6u %-6s 0x%-16" PRIx64 " %-12" PRIu64 " %s\n",
		       (int)v[i].pid, v[i].pieces, access, v[i].addr,
		       v[i].len, v[i].alive ? (cmd ? cmd : comm) :
		       "(exited, not yet reaped)");
		free(cmd);
	}
	free(v);
}

static void resident(struct ushm_ns *ns, const struct seg *g)
{
	uint64_t pages = g->s.pages;
	long long mem;
	int fd;

	/* Opened as the library opens it: no link followed, and only the
	 * segment's own file (segfile.c). */
	ushm__clearerr();
	fd = ushm__seg_open(ns, &g->s, g->idx, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		errno = -fd;

	printf("%-12s %ld of %" PRIu64 " pages (%.1f%%, %" PRIu64
	       " bytes) allocated in the file\n", "resident:", g->rss, pages,
	       pages ? 100.0 * (double)g->rss / (double)pages : 0.0,
	       (uint64_t)g->rss * 4096);
	if (fd < 0 && !(g->s.flags & SEGF_FILE)) {
		printf("%-12s 0 of %" PRIu64 " pages (no file yet: a private "
		       "namespace makes it at the first attach)\n",
		       "in memory:", pages);
		return;
	}
	if (fd < 0) {
		printf("%-12s ? (cannot open the file: %s)\n", "in memory:",
		       *ushm_strerror() ? ushm_strerror() : strerror(errno));
		return;
	}
	mem = resident_count(fd, pages, MAP_PRIVATE);
	close(fd);
	if (mem < 0)
		printf("%-12s ? (mincore: %s)\n", "in memory:", strerror(errno));
	else
		printf("%-12s %lld of %" PRIu64 " pages (mincore)\n",
		       "in memory:", mem, pages);
}

static void show(struct ushm_ns *ns, const struct seg *g)
{
	const struct ushm_slot *s = &g->s;
	char path[4200], perms[16], st[32];

	seg_path(ns, g, path, sizeof(path));
	fmt_perms(perms, s->mode);
	fmt_status(st, sizeof(st), s->mode);
	printf("%-12s %d (index %u, sequence %u)\n", "id:", g->id, g->idx,
	       s->seq);
	printf("%-12s 0x%08x%s\n", "key:", (unsigned)s->key,
	       s->key ? "" : " (private)");
	if (s->orig_key != s->key)
		printf("%-12s 0x%08x\n", "created key:", (unsigned)s->orig_key);
	printf("%-12s %s\n", "file:", path);
	printf("%-12s %" PRIu64 " bytes (%" PRIu64 " page%s, mapped as %"
	       PRIu64 " bytes)\n", "size:", s->segsz, s->pages,
	       s->pages == 1 ? "" : "s",
	       ushm__seg_maplen(s));
	printf("%-12s %04o (%s)\n", "perms:", s->mode & 0777, perms);
	printf("%-12s %s\n", "status:", *st ? st : "-");
	if (s->flags & (SEGF_HUGETLB | SEGF_NORESERVE))
		printf("%-12s %s%s%s\n", "flags:",
		       (s->flags & SEGF_HUGETLB) ? "hugetlb" : "",
		       (s->flags & SEGF_HUGETLB) &&
		       (s->flags & SEGF_NORESERVE) ? "," : "",
		       (s->flags & SEGF_NORESERVE) ? "noreserve" : "");
	if (s->mode & USHM_MODE_LOCKED)
		printf("%-12s %u\n", "locked by:", s->lock_uid);
	who("owner:", s->uid, s->gid);
	who("creator:", s->cuid, s->cgid);
	process("cpid:", s->cpid);
	process("lpid:", s->lpid);
	when("atime:", s->atime);
	when("dtime:", s->dtime);
	when("ctime:", s->ctime);
	printf("%-12s %" PRIu64 "\n", "nattch:", s->nattch);
	resident(ns, g);
	attachers(ns, g);
}

static int stat_run(int argc, char **argv)
{
	struct ushm_ns *ns;
	struct seg_list l;
	int r, fails = 0;

	if (argc < 2) {
		cmd_warn("stat: which segment? (ushm stat ID...)");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		int id;

		if (seg_parse_id(argv[i], &id, "id argument"))
			return EXIT_USAGE;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	if ((r = seg_snapshot(ns, &l)) != 0)
		return r;
	for (int i = 1; i < argc; i++) {
		const struct seg *g;
		int id;

		seg_parse_id(argv[i], &id, "id argument");
		g = seg_by_id(&l, id);
		if (!g) {
			cmd_warn("id %d not found", id);
			fails++;
			continue;
		}
		if (i > 1)
			printf("\n");
		show(ns, g);
	}
	seg_list_free(&l);
	return fails ? EXIT_FAIL : 0;
}

USHM_CMD(stat, "stat", "everything about a segment: fields, file, "
	 "attachers, memory",
	 "Usage: ushm stat ID...\n"
	 "\n"
	 "Show every field of the segment ID, its file, its resident pages\n"
	 "(allocated in the file, as the kernel's rss counts them, and in\n"
	 "memory, by mincore(), which faults nothing in) and the processes\n"
	 "attached to it, with the pieces each counts for in nattch.  One\n"
	 "\"name: value\" line per field; the first word after the colon is\n"
	 "the raw value (times in seconds since the epoch).\n"
	 "\n"
	 "Exit status: 0 success, 1 an unknown ID, 2 bad usage, 3 the\n"
	 "namespace cannot be used.\n",
	 stat_run)
