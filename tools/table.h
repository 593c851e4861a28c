/*
 * table.h - a table printed as libsmartcols prints lsipc's when the
 * output is not a terminal: aligned columns (each as wide as its widest
 * cell or header, right-aligned ones padded on the left, the last one
 * not padded), raw (one space between cells, blanks and unprintable
 * bytes as \xHH) or JSON (every value a string, an empty cell null).
 */
#ifndef USHM_TOOL_TABLE_H
#define USHM_TOOL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

enum table_mode { TABLE_ALIGNED, TABLE_RAW, TABLE_JSON };

struct table_col {
	const char *name;
	bool right;
};

struct table {
	size_t ncols, nrows, cap;
	const struct table_col *cols;
	char **cells;		/* nrows * ncols, NULL: empty */
};

void table_init(struct table *t, const struct table_col *cols, size_t n);
/* Add a row of ncols malloc'd cells (the table takes them); -1 on ENOMEM. */
int table_add(struct table *t, char **cells);
/* JSON_NAME is the name of the array ("sharedmemory"). */
void table_print(const struct table *t, FILE *f, enum table_mode mode,
		 bool noheadings, const char *json_name);
void table_free(struct table *t);

#endif
