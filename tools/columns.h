/*
 * columns.h - the columns of `ushm ls`: one static table (as util-linux
 * lsipc.c's coldescs[]) gives each column its name, used for the header,
 * for -o and (in lower case) for --json, its --help line, its label for
 * the one-segment view, and its alignment.
 */
#ifndef USHM_TOOL_COLUMNS_H
#define USHM_TOOL_COLUMNS_H

#include <stdbool.h>
#include <stdio.h>

#include "format.h"
#include "seg.h"

enum col_id {
	COL_KEY, COL_ID, COL_OWNER, COL_PERMS, COL_CUID, COL_CUSER, COL_CGID,
	COL_CGROUP, COL_UID, COL_USER, COL_GID, COL_GROUP, COL_CTIME,
	COL_SIZE, COL_NATTCH, COL_STATUS, COL_ATTACH, COL_DETACH,
	COL_COMMAND, COL_CPID, COL_LPID,
	/* ushm's own, not in lsipc */
	COL_RSS, COL_FILE,
	NCOLS
};

#define COLF_RIGHT	0x1	/* right-aligned (SCOLS_FL_RIGHT) */
#define COLF_USHM	0x2	/* not an lsipc column */

struct coldesc {
	const char *name;
	const char *help;
	const char *label;
	unsigned flags;
};

extern const struct coldesc coldescs[NCOLS];

/* How values are shown (lsipc -b, -P, --time-format). */
struct col_ctl {
	bool bytes;
	bool numperms;
	enum fmt_time time;
	struct ushm_ns *ns;	/* for FILE */
};

/* The column named NAME (LEN bytes, any case), or -1. */
int col_lookup(const char *name, size_t len);

/* The text of column COL for segment G, malloc'd; NULL for an empty cell
 * (JSON null). */
char *col_value(int col, const struct seg *g, const struct col_ctl *ctl);

/* The column list of --help: "  NAME  help" lines into BUF. */
size_t col_help(char *buf, size_t len);

#endif
