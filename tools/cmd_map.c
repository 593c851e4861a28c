/*
 * cmd_map.c - `ushm map ID`: a picture of which pages of a segment are in
 * memory, read at a glance in a terminal.  One character per page, or
 * per group of pages for a big segment, so that the picture stays within
 * WIDTH columns and ROWS rows; each row starts with the offset of its
 * first page.  mincore() on a PROT_READ MAP_SHARED mapping of the file
 * faults nothing in, and is read in 1 GiB chunks (resident.c), so a
 * segment of many GiB takes milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd.h"
#include "opt.h"
#include "format.h"
#include "resident.h"
#include "seg.h"
#include "ushm.h"

struct picture {
	uint64_t pages, per;	/* pages in all, pages per cell */
	uint64_t ncells;
	uint32_t *count;	/* resident pages of each cell */
	uint64_t resident;
};

static void tally(void *ctx, uint64_t first, const unsigned char *vec,
		  size_t n)
{
	struct picture *p = ctx;

	for (size_t i = 0; i < n; i++) {
		if (vec[i] & 1) {
			p->count[(first + i) / p->per]++;
			p->resident++;
		}
	}
}

static char cell_char(const struct picture *p, uint64_t c)
{
	uint64_t in = p->count[c];
	uint64_t all = c + 1 < p->ncells ? p->per : p->pages - c * p->per;

	if (in == 0)
		return '.';
	if (in == all)
		return '#';
	return in * 2 >= all ? '+' : ':';
}

static int parse_dim(const char *s, const char *what, uint64_t *v)
{
	unsigned long long x;

	if (cmd_parse_ull(s, &x) || x == 0 || x > 100000) {
		cmd_warn("map: bad %s '%s' (a number from 1 to 100000)", what,
			 s);
		return -1;
	}
	*v = x;
	return 0;
}

static int draw(struct ushm_ns *ns, const struct seg *g, uint64_t width,
		uint64_t rows)
{
	struct picture p = { .pages = g->s.pages };
	char path[4200], h1[32], h2[32];
	int fd;

	seg_path(ns, g, path, sizeof(path));
	/* A segment never attached in a private namespace has no file yet:
	 * no page of it is in memory. */
	fd = -1;
	ushm__clearerr();
	if ((g->s.flags & SEGF_FILE) &&
	    (fd = ushm__seg_open(ns, &g->s, g->idx, O_RDONLY | O_NONBLOCK)) <
		    0) {
		/* Opened as the library opens it: no link followed, and
		 * only the segment's own file (segfile.c). */
		cmd_warn("map: cannot open %s: %s", path, *ushm_strerror()
			 ? ushm_strerror() : strerror(-fd));
		return EXIT_FAIL;
	}
	/* As few pages per cell as fit in WIDTH x ROWS. */
	p.per = (p.pages + width * rows - 1) / (width * rows);
	if (p.per == 0)
		p.per = 1;
	p.ncells = (p.pages + p.per - 1) / p.per;
	p.count = calloc(p.ncells ? p.ncells : 1, sizeof(*p.count));
	if (!p.count ||
	    (fd >= 0 && resident_scan(fd, p.pages, MAP_SHARED, tally, &p))) {
		cmd_warn("map: %s: %s", path, strerror(errno));
		free(p.count);
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	if (fd >= 0)
		close(fd);
	fmt_human(h1, sizeof(h1), p.resident * 4096);
	fmt_human(h2, sizeof(h2), g->s.segsz);
	printf("segment %d: %" PRIu64 " bytes (%s) in %" PRIu64 " page%s, %"
	       PRIu64 " in memory (%s, %.1f%%)\n", g->id, g->s.segsz, h2,
	       p.pages, p.pages == 1 ? "" : "s", p.resident, h1,
	       p.pages ? 100.0 * (double)p.resident / (double)p.pages : 0.0);
	if (p.per == 1) {
		printf("one character per page: '#' in memory, '.' not\n");
	} else {
		fmt_human(h1, sizeof(h1), p.per * 4096);
		printf("one character per %" PRIu64 " pages (%s): '#' all in "
		       "memory, '+' half or more,\n':' less than half, '.' none"
		       "\n", p.per, h1);
	}
	for (uint64_t c = 0; c < p.ncells; c++) {
		if (c % width == 0) {
			fmt_human(h1, sizeof(h1), c * p.per * 4096);
			printf("%s%8s ", c ? "\n" : "\n", c ? h1 : "0");
		}
		putchar(cell_char(&p, c));
	}
	printf("\n");
	free(p.count);
	return 0;
}

static int map_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "width", required_argument, NULL, 'w' },
		{ "rows", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t width = 64, rows = 16;
	struct ushm_ns *ns;
	struct seg_list l;
	const struct seg *g;
	int c, id, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_dim(optarg, "width", &width))
				return EXIT_USAGE;
			break;
		case 'r':
			if (parse_dim(optarg, "number of rows", &rows))
				return EXIT_USAGE;
			break;
		default:
			return opt_error("map", c, argv);
		}
	}
	if (optind + 1 != argc) {
		cmd_warn("map: which segment? (ushm map ID)");
		return EXIT_USAGE;
	}
	if (seg_parse_id(argv[optind], &id, "id argument"))
		return EXIT_USAGE;
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	if ((r = seg_snapshot(ns, &l)) != 0)
		return r;
	g = seg_by_id(&l, id);
	if (!g) {
		cmd_warn("id %d not found", id);
		r = EXIT_FAIL;
	} else {
		r = draw(ns, g, width, rows);
	}
	seg_list_free(&l);
	return r;
}

USHM_CMD(map, "map", "a picture of a segment's pages in memory",
	 "Usage: ushm map [-w WIDTH] [-r ROWS] ID\n"
	 "\n"
	 "Draw which pages of segment ID are in memory: one character per\n"
	 "page, or per group of pages when the segment has more than WIDTH x\n"
	 "ROWS pages ('#' all in memory, '+' half or more, ':' less, '.'\n"
	 "none).  Each row starts with the offset of its first page.  Looking\n"
	 "faults nothing in (mincore() on a read-only mapping).\n"
	 "\n"
	 "Options:\n"
	 "  -w, --width N   characters per row (default 64)\n"
	 "  -r, --rows N    at most N rows (default 16)\n"
	 "  -h, --help      this text\n"
	 "\n"
	 "Exit status: 0 success, 1 an unknown ID or an unreadable file, 2 bad\n"
	 "usage, 3 the namespace cannot be used.\n",
	 map_run)
