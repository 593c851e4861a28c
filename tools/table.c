/*
 * table.c - printing a table the way libsmartcols prints lsipc's output
 * into a pipe or file (see table.h).  Widths count bytes: the cells are
 * ids, names, numbers and command lines, shown as they are.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, const struct table_col *cols, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = n;
}

int table_add(struct table *t, char **cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return -1;
		t->cells = c;
		t->cap = cap;
	}
	memcpy(t->cells + t->nrows * t->ncols, cells,
	       t->ncols * sizeof(*cells));
	t->nrows++;
	return 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* A cell as libsmartcols shows it: unprintable bytes as \xHH, and in
 * raw mode also blanks and backslashes (so that a line splits on
 * spaces).  Returns its width. */
static size_t encode(const char *s, bool raw, FILE *f)
{
	size_t w = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (raw && (c == ' ' ||
						      c == '\\'))) {
			if (f)
				fprintf(f, "\\x%02x", c);
			w += 4;
		} else {
			if (f)
				fputc(c, f);
			w++;
		}
	}
	return w;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void print_aligned(const struct table *t, FILE *f, bool noheadings)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

	if (!w)
		return;
	/* The header counts even when it is not printed, as in
	 * libsmartcols. */
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c].name);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t n = encode(t->cells[r * t->ncols + c], false,
					  NULL);

			if (n > w[c])
				w[c] = n;
		}
	}
	for (size_t r = noheadings ? 1 : 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c]
					  : t->cols[c].name;
			size_t n = encode(s, false, NULL);
			bool last = c + 1 == t->ncols;

			if (c)
				fputc(' ', f);
			/* An empty last cell is not padded, even when its
			 * column is right-aligned. */
			if (last && n == 0)
				continue;
			if (t->cols[c].right)
				pad(f, w[c] - n);
			encode(s, false, f);
			if (!t->cols[c].right && !last)
				pad(f, w[c] - n);
		}
		fputc('\n', f);
	}
	free(w);
}

static void print_raw(const struct table *t, FILE *f, bool noheadings)
{
	for (size_t r = noheadings ? 1 : 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				fputc(' ', f);
			encode(r ? t->cells[(r - 1) * t->ncols + c]
				 : t->cols[c].name, true, f);
		}
		fputc('\n', f);
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The JSON key of a column: its name in lower case. */
static void json_key(FILE *f, const char *name)
{
	fputc('"', f);
	for (; *name; name++)
		fputc(tolower((unsigned char)*name), f);
	fputs("\": ", f);
}

static void print_json(const struct table *t, FILE *f, const char *name)
{
	fprintf(f, "{\n   \"%s\": [", name);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(r ? "},{\n" : "\n      {\n", f);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			fputs("         ", f);
			json_key(f, t->cols[c].name);
			if (s && *s)
				json_string(f, s);
			else
				fputs("null", f);
			fputs(c + 1 < t->ncols ? ",\n" : "\n", f);
		}
		fputs("      ", f);
	}
	fputs(t->nrows ? "}\n   ]\n}\n" : "\n   ]\n}\n", f);
}

void table_print(const struct table *t, FILE *f, enum table_mode mode,
		 bool noheadings, const char *json_name)
{
	switch (mode) {
	case TABLE_RAW:
		print_raw(t, f, noheadings);
		break;
	case TABLE_JSON:
		print_json(t, f, json_name);
		break;
	default:
		print_aligned(t, f, noheadings);
		break;
	}
}
