/*
 * columns.c - the column table of `ushm ls` and the value of each cell,
 * following util-linux 2.38.1 lsipc.c do_shm(), except for its CGID
 * column: lsipc prints the creator's uid there (a bug), ushm its gid.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "columns.h"

const struct coldesc coldescs[NCOLS] = {
	[COL_KEY] = { "KEY", "Resource key", "Key", 0 },
	[COL_ID] = { "ID", "Resource ID", "ID", 0 },
	[COL_OWNER] = { "OWNER", "Owner's username or UID", "Owner",
			COLF_RIGHT },
	[COL_PERMS] = { "PERMS", "Permissions", "Permissions", COLF_RIGHT },
	[COL_CUID] = { "CUID", "Creator UID", "Creator UID", COLF_RIGHT },
	[COL_CUSER] = { "CUSER", "Creator user", "Creator user", 0 },
	[COL_CGID] = { "CGID", "Creator GID", "Creator GID", COLF_RIGHT },
	[COL_CGROUP] = { "CGROUP", "Creator group", "Creator group", 0 },
	[COL_UID] = { "UID", "User ID", "UID", COLF_RIGHT },
	[COL_USER] = { "USER", "User name", "User name", 0 },
	[COL_GID] = { "GID", "Group ID", "GID", COLF_RIGHT },
	[COL_GROUP] = { "GROUP", "Group name", "Group name", 0 },
	[COL_CTIME] = { "CTIME", "Time of the last change", "Last change",
			COLF_RIGHT },
	[COL_SIZE] = { "SIZE", "Segment size", "Segment size", COLF_RIGHT },
	[COL_NATTCH] = { "NATTCH", "Number of attached processes",
			 "Attached processes", COLF_RIGHT },
	[COL_STATUS] = { "STATUS", "Status", "Status", 0 },
	[COL_ATTACH] = { "ATTACH", "Attach time", "Attach time", COLF_RIGHT },
	[COL_DETACH] = { "DETACH", "Detach time", "Detach time", COLF_RIGHT },
	[COL_COMMAND] = { "COMMAND", "Creator command line",
			  "Creator command", 0 },
	[COL_CPID] = { "CPID", "PID of the creator", "Creator PID",
		       COLF_RIGHT },
	[COL_LPID] = { "LPID", "PID of last user", "Last user PID",
		       COLF_RIGHT },
	[COL_RSS] = { "RSS", "Resident memory (the file's pages)",
		      "Resident memory", COLF_RIGHT | COLF_USHM },
	[COL_FILE] = { "FILE", "The segment's file", "File", COLF_USHM },
};

int col_lookup(const char *name, size_t len)
{
	for (int i = 0; i < NCOLS; i++)
		if (strlen(coldescs[i].name) == len &&
		    !strncasecmp(coldescs[i].name, name, len))
			return i;
	return -1;
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static char *user_or_id(uid_t uid)
{
	const char *n = fmt_user(uid);

	return n ? strdup(n) : dupf("%u", uid);
}

/* lsipc's CUSER, USER, CGROUP and GROUP cells stay empty without a name. */
static char *name_only(const char *n)
{
	return n ? strdup(n) : NULL;
}

static char *time_cell(int64_t t, const struct col_ctl *ctl)
{
	char buf[64];

	if (!t)
		return NULL;
	fmt_time(buf, sizeof(buf), t, ctl->time);
	return strdup(buf);
}

static char *size_cell(uint64_t bytes, const struct col_ctl *ctl)
{
	char buf[32];

	if (ctl->bytes)
		return dupf("%" PRIu64, bytes);
	fmt_human(buf, sizeof(buf), bytes);
	return strdup(buf);
}

char *col_value(int col, const struct seg *g, const struct col_ctl *ctl)
{
	const struct ushm_slot *s = &g->s;
	char buf[4096];

	switch (col) {
	case COL_KEY:
		return dupf("0x%08x", (unsigned)s->key);
	case COL_ID:
		return dupf("%d", g->id);
	case COL_OWNER:
		return user_or_id(s->uid);
	case COL_PERMS:
		if (ctl->numperms)
			return dupf("%#o", s->mode & 0777);
		fmt_perms(buf, s->mode);
		return strdup(buf);
	case COL_CUID:
		return dupf("%u", s->cuid);
	case COL_CUSER:
		return name_only(fmt_user(s->cuid));
	case COL_CGID:
		return dupf("%u", s->cgid);
	case COL_CGROUP:
		return name_only(fmt_group(s->cgid));
	case COL_UID:
		return dupf("%u", s->uid);
	case COL_USER:
		return name_only(fmt_user(s->uid));
	case COL_GID:
		return dupf("%u", s->gid);
	case COL_GROUP:
		return name_only(fmt_group(s->gid));
	case COL_CTIME:
		return time_cell(s->ctime, ctl);
	case COL_SIZE:
		return size_cell(s->segsz, ctl);
	case COL_NATTCH:
		return dupf("%" PRIu64, s->nattch);
	case COL_STATUS:
		fmt_status(buf, sizeof(buf), s->mode);
		return *buf ? strdup(buf) : NULL;
	case COL_ATTACH:
		return time_cell(s->atime, ctl);
	case COL_DETACH:
		return time_cell(s->dtime, ctl);
	case COL_COMMAND:
		return fmt_cmdline(s->cpid);
	case COL_CPID:
		return dupf("%u", (unsigned)s->cpid);
	case COL_LPID:
		return dupf("%u", (unsigned)s->lpid);
	case COL_RSS:
		return size_cell((uint64_t)g->rss * 4096, ctl);
	case COL_FILE:
		seg_path(ctl->ns, g, buf, sizeof(buf));
		return strdup(buf);
	}
	return NULL;
}

size_t col_help(char *buf, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < NCOLS; i++) {
		int r = snprintf(buf + n, n < len ? len - n : 0,
				 "  %8s  %s%s\n", coldescs[i].name,
				 coldescs[i].help,
				 (coldescs[i].flags & COLF_USHM) ?
				 " (ushm)" : "");

		if (r > 0)
			n += (size_t)r;
	}
	return n;
}
