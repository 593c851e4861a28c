/*
 * cmd_ls.c - `ushm ls`: the segments as a table, like util-linux lsipc -m
 * (same columns, values, JSON structure), driven by the column table of
 * columns.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "columns.h"
#include "seg.h"
#include "table.h"

static const int dflt_cols[] = {
	COL_KEY, COL_ID, COL_PERMS, COL_OWNER, COL_SIZE, COL_NATTCH,
	COL_STATUS, COL_CTIME, COL_CPID, COL_LPID,
};

struct ls_cols {
	int v[NCOLS * 4];
	size_t n;
};

static int add(struct ls_cols *c, int col)
{
	if (c->n >= sizeof(c->v) / sizeof(c->v[0])) {
		cmd_warn("too many columns");
		return -1;
	}
	c->v[c->n++] = col;
	return 0;
}

/* -o LIST: comma-separated names; "+LIST" adds to the default. */
static int parse_list(struct ls_cols *c, const char *list)
{
	const char *p = list, *e;

	if (*p == '+')
		p++;
	else
		c->n = 0;
	for (; *p; p = *e ? e + 1 : e) {
		int col;

		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		col = col_lookup(p, (size_t)(e - p));
		if (col < 0) {
			cmd_warn("unknown column: %.*s", (int)(e - p), p);
			return -1;
		}
		if (add(c, col))
			return -1;
	}
	if (c->n == 0) {
		cmd_warn("no columns in '%s'", list);
		return -1;
	}
	return 0;
}

/* lsipc -i ID: one "Label: value" line per column. */
static void print_one(const struct seg *g, const struct ls_cols *c,
		      const struct col_ctl *ctl)
{
	for (size_t i = 0; i < c->n; i++) {
		char *v = col_value(c->v[i], g, ctl);
		char label[64];

		snprintf(label, sizeof(label), "%s:", coldescs[c->v[i]].label);
		printf("%-20s %s\n", label, v ? v : "");
		free(v);
	}
}

static int ls_run(int argc, char **argv)
{
	enum { OPT_TIMEFMT = 256, OPT_NOHEAD };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "raw", no_argument, NULL, 'r' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "creator", no_argument, NULL, 'c' },
		{ "time", no_argument, NULL, 't' },
		{ "numeric-perms", no_argument, NULL, 'P' },
		{ "time-format", required_argument, NULL, OPT_TIMEFMT },
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct col_ctl ctl = { .time = TIME_SHORT };
	enum table_mode mode = TABLE_ALIGNED;
	struct table_col tcols[NCOLS * 4];
	const char *outarg = NULL;
	bool noheadings = false, creator = false, times = false;
	int c, id = -1, r;
	struct ls_cols cols = { .n = 0 };
	struct seg_list l;
	struct table t;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:JrbnctPi:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': outarg = optarg; break;
		case 'J': mode = TABLE_JSON; break;
		case 'r': mode = TABLE_RAW; break;
		case 'b': ctl.bytes = true; break;
		case 'n': noheadings = true; break;
		case 'c': creator = true; break;
		case 't': times = true; break;
		case 'P': ctl.numperms = true; break;
		case 'i':
			if (seg_parse_id(optarg, &id, "id argument"))
				return EXIT_USAGE;
			break;
		case OPT_TIMEFMT:
			if (!strcmp(optarg, "short"))
				ctl.time = TIME_SHORT;
			else if (!strcmp(optarg, "full"))
				ctl.time = TIME_FULL;
			else if (!strcmp(optarg, "iso"))
				ctl.time = TIME_ISO;
			else {
				cmd_warn("unknown time format: %s", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return opt_error("ls", c, argv);
		}
	}
	if (optind < argc) {
		cmd_warn("ls: unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	/* lsipc's default set, with -t and -c where lsipc puts them. */
	for (size_t i = 0; i < sizeof(dflt_cols) / sizeof(dflt_cols[0]); i++)
		add(&cols, dflt_cols[i]);
	if (times && !creator) {
		add(&cols, COL_ATTACH);
		add(&cols, COL_DETACH);
	}
	add(&cols, COL_COMMAND);
	if (creator) {
		add(&cols, COL_CUID);
		add(&cols, COL_CGID);
		add(&cols, COL_UID);
		add(&cols, COL_GID);
		if (times) {
			add(&cols, COL_ATTACH);
			add(&cols, COL_DETACH);
		}
	}
	if (outarg && parse_list(&cols, outarg))
		return EXIT_USAGE;
	if (!(ctl.ns = seg_ns()))
		return EXIT_NAMESPACE;
	if ((r = seg_snapshot(ctl.ns, &l)) != 0)
		return r;
	if (id >= 0 || (id < -1)) {
		const struct seg *g = seg_by_id(&l, id);

		r = 0;
		if (!g) {
			cmd_warn("id %d not found", id);
			r = EXIT_FAIL;
		} else {
			print_one(g, &cols, &ctl);
		}
		seg_list_free(&l);
		return r;
	}
	for (size_t i = 0; i < cols.n; i++) {
		tcols[i].name = coldescs[cols.v[i]].name;
		tcols[i].right = coldescs[cols.v[i]].flags & COLF_RIGHT;
	}
	table_init(&t, tcols, cols.n);
	for (size_t i = 0; i < l.n; i++) {
		char *cells[NCOLS * 4];

		for (size_t k = 0; k < cols.n; k++)
			cells[k] = col_value(cols.v[k], &l.v[i], &ctl);
		if (table_add(&t, cells)) {
			for (size_t k = 0; k < cols.n; k++)
				free(cells[k]);
			cmd_warn("%s", strerror(ENOMEM));
			r = EXIT_FAIL;
			break;
		}
	}
	/* lsipc prints nothing at all for no segments; JSON stays JSON. */
	if (!r && (t.nrows || mode == TABLE_JSON))
		table_print(&t, stdout, mode, noheadings, "sharedmemory");
	table_free(&t);
	seg_list_free(&l);
	return r;
}

static char ls_usage[8192];

USHM_CMD(ls, "ls", "list segments as util-linux lsipc -m does",
	 ls_usage, ls_run)

/* The usage text ends with the column table, so it is built at start. */
__attribute__((constructor)) static void ls_usage_init(void)
{
	size_t n = (size_t)snprintf(ls_usage, sizeof(ls_usage),
		"Usage: ushm ls [options]\n"
		"\n"
		"List the namespace's segments as util-linux lsipc -m lists the\n"
		"kernel's: the same columns, values and JSON structure.\n"
		"\n"
		"Options:\n"
		"  -o, --output LIST      the columns to show (comma-separated;\n"
		"                         +LIST adds them to the default ones)\n"
		"  -J, --json             JSON output (every value a string,\n"
		"                         an empty one null)\n"
		"  -r, --raw              raw output: one space between values,\n"
		"                         blanks inside them as \\x20\n"
		"  -n, --noheadings       no header line\n"
		"  -b, --bytes            sizes in bytes\n"
		"  -c, --creator          add creator and owner ids\n"
		"  -t, --time             add attach and detach times\n"
		"  -P, --numeric-perms    permissions as octal numbers\n"
		"      --time-format TYPE short (default), full or iso\n"
		"  -i, --id ID            one segment, one \"Label: value\" line\n"
		"                         per column\n"
		"  -h, --help             this text\n"
		"\n"
		"Default columns: KEY ID PERMS OWNER SIZE NATTCH STATUS CTIME "
		"CPID LPID\nCOMMAND.\n\nColumns:\n");

	n += col_help(ls_usage + n, sizeof(ls_usage) - n);
	if (n < sizeof(ls_usage))
		snprintf(ls_usage + n, sizeof(ls_usage) - n,
			 "\nWith no segments nothing is printed (JSON: an empty "
			 "array).  Exit status:\n0 success, 1 an unknown -i ID, "
			 "2 bad usage, 3 the namespace cannot\nbe used.\n");
}
