/*
 * cmd_repair.c - `ushm repair`: bring the namespace back to a state where
 * every invariant holds (the repair a process does when it finds the
 * lock's previous owner dead, plus the files no slot owns), and say, one
 * line each, what was wrong and whether it was fixed.
 *
 * A registry lock held by a thread that does not exist stops every call,
 * `ushm check` included: nothing behind it can be checked.  So that is
 * repaired first (a new lock, ushm__lock_reset), and only then is the
 * registry checked, repaired and checked again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "seg.h"
#include "ushm.h"

/* Lines a check reported, in order. */
struct lines {
	char **v;
	size_t n, cap;
	int nomem;
};

static void collect(void *ctx, const char *line)
{
	struct lines *l = ctx;
	char *d;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->nomem = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(d = strdup(line))) {
		l->nomem = 1;
		return;
	}
	l->v[l->n++] = d;
}

static int has_line(const struct lines *l, const char *line)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], line))
			return 1;
	return 0;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static const char *why(void)
{
	return *ushm_strerror() ? ushm_strerror() : strerror(errno);
}

/*
 * The lock held by a thread that does not exist (the check just found it
 * so): a new lock, taken and released.  1 if it was that and is fixed,
 * 0 if it was not that, -1 if it could not be reset.
 */
static int reset_dead_lock(struct ushm_ns *ns, struct lines *found)
{
	char line[160];
	int r;

	if (!seg_dead_lock(ns, line, sizeof(line)))
		return 0;
	collect(found, line);
	if ((r = ushm__lock_reset(ns)) != 0) {
		cmd_warn("repair: cannot reset the registry lock: %s",
			 *ushm_strerror() ? ushm_strerror() : strerror(-r));
		return -1;
	}
	ushm__unlock(ns);
	return 1;
}

static int repair_run(int argc, char **argv)
{
	struct lines found = { 0 }, still = { 0 };
	int before, fixed = -1, after = -1, lock, rc = EXIT_NAMESPACE;
	struct ushm_ns *ns;

	(void)argv;
	if (argc > 1) {
		cmd_warn("repair: no arguments expected");
		return EXIT_USAGE;
	}
	if (!(ns = seg_ns()))
		return EXIT_NAMESPACE;
	before = ushm_check(collect, &found);
	lock = before < 0 ? reset_dead_lock(ns, &found) : 0;
	if (lock < 0)
		goto out;
	if (lock > 0)
		before = ushm_check(collect, &found);
	if (before >= 0)
		fixed = ushm_repair();
	if (fixed >= 0)
		after = ushm_check(collect, &still);
	if (after < 0) {
		cmd_warn("repair: %s", why());
		goto out;
	}
	if (found.nomem || still.nomem) {
		cmd_warn("repair: %s", strerror(ENOMEM));
		goto out;
	}
	/* What was found and is gone is what was fixed (ushm_repair()'s
	 * own count also counts what no check reports). */
	fixed = 0;
	for (size_t i = 0; i < found.n; i++) {
		if (has_line(&still, found.v[i]))
			continue;
		printf("fixed: %s\n", found.v[i]);
		fixed++;
	}
	for (size_t i = 0; i < still.n; i++)
		printf("still: %s\n", still.v[i]);
	printf("%s: %zu problem%s found, %d fixed, %s\n", ns->path, found.n,
	       found.n == 1 ? "" : "s", fixed,
	       after ? "some remain" : "now sound");
	rc = after ? EXIT_FAIL : 0;
out:
	lines_free(&found);
	lines_free(&still);
	return rc;
}

USHM_CMD(repair, "repair", "fix what `ushm check` finds",
	 "Usage: ushm repair\n"
	 "\n"
	 "Repair the namespace: make a new registry lock if the old one is\n"
	 "held by a thread that does not exist, recompute what is derived\n"
	 "from the segment slots (counters, key index, attachment counts),\n"
	 "undo half-made and finish half-destroyed segments, recreate a\n"
	 "missing segment file (its data is lost) and remove files no\n"
	 "segment owns.  Prints each problem it fixed (\"fixed: ...\"), each\n"
	 "that remains (\"still: ...\") and a summary line.\n"
	 "\n"
	 "Exit status: 0 the namespace is sound, 1 problems remain, 2 bad\n"
	 "usage, 3 the namespace cannot be used.\n",
	 repair_run)
