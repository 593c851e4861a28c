/*
 * seg.c - reading the registry for the views (see seg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "format.h"
#include "seg.h"
#include "ushm.h"

struct ushm_ns *seg_ns(void)
{
	struct ushm_ns *ns;
	int err = 0;

	if (cmd_open_namespace(NULL) != 0)
		return NULL;
	ns = ushm__ns(&err);
	if (!ns)
		cmd_warn("%s", *ushm_strerror() ? ushm_strerror()
						 : strerror(-err));
	return ns;
}

bool seg_dead_lock(const struct ushm_ns *ns, char *what, size_t len)
{
	if (!ns->bad_lock)
		return false;
	if (ns->bad_owner > 0)
		snprintf(what, len, "the registry lock is held by thread %d, "
			 "which does not exist", (int)ns->bad_owner);
	else
		snprintf(what, len, "the registry lock is held by no known "
			 "thread");
	return true;
}

int seg_snapshot(struct ushm_ns *ns, struct seg_list *l)
{
	struct ushm_hdr *h = ns->hdr;
	size_t cap = 0;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = ushm__lock(ns)) != 0) {
		cmd_warn("%s", ushm_strerror());
		return EXIT_NAMESPACE;
	}
	/* What the kernel shows has no dead attacher left in it. */
	ushm__reap_all_locked(ns);
	for (int32_t i = 0; i <= h->max_idx && i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, (uint32_t)i);

		if (s->state != SLOT_LIVE)
			continue;
		if (l->n == cap) {
			struct seg *v;

			cap = cap ? cap * 2 : 64;
			v = realloc(l->v, cap * sizeof(*v));
			if (!v) {
				ushm__unlock(ns);
				cmd_warn("%s", strerror(ENOMEM));
				seg_list_free(l);
				return EXIT_FAIL;
			}
			l->v = v;
		}
		l->v[l->n].s = *s;
		l->v[l->n].idx = (uint32_t)i;
		l->v[l->n].id = ushm__id((uint32_t)i, s->seq);
		l->n++;
	}
	l->shm_tot = h->shm_tot;
	l->in_use = h->in_use;
	ushm__unlock(ns);
	/* The file's blocks need no lock: a stat of one file. */
	for (size_t i = 0; i < l->n; i++)
		l->v[i].rss = ushm__seg_resident(ns, &l->v[i].s, l->v[i].idx);
	return 0;
}

void seg_list_free(struct seg_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const struct seg *seg_by_id(const struct seg_list *l, int id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

int seg_attachers(struct ushm_ns *ns, const struct seg *g,
		  struct seg_att **out, size_t *n)
{
	struct ushm_hdr *h = ns->hdr;
	struct ushm_slot *s = ushm__slot(h, g->idx);
	struct seg_att *v = NULL;
	size_t cap = 0;
	uint32_t r, steps = 0;

	*out = NULL;
	*n = 0;
	if (ushm__lock(ns) != 0) {
		cmd_warn("%s", ushm_strerror());
		return EXIT_NAMESPACE;
	}
	if (s->state != SLOT_LIVE || s->seq != g->s.seq)
		goto out;
	for (r = s->att_head; r && r <= USHM_ATTS && steps++ < USHM_ATTS;
	     r = ushm__att(h, r - 1)->next) {
		struct ushm_att *a = ushm__att(h, r - 1);

		if (*n == cap) {
			struct seg_att *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[*n].task = a->task;
		v[*n].pid = a->task < USHM_TASKS ?
			    ushm__task(h, a->task)->pid : 0;
		v[*n].pieces = a->pieces;
		v[*n].addr = a->addr;
		v[*n].len = a->len;
		v[*n].shmflg = a->shmflg;
		v[*n].alive = a->task < USHM_TASKS &&
			      ushm__task_alive(ns, a->task);
		(*n)++;
	}
out:
	ushm__unlock(ns);
	*out = v;
	return 0;
}

void seg_path(struct ushm_ns *ns, const struct seg *g, char *buf, size_t len)
{
	char name[64];

	ushm__seg_name(name, sizeof(name), g->s.orig_key, g->id);
	snprintf(buf, len, "%s/segments/%s", ns->path, name);
}

int seg_parse_id(const char *s, int *id, const char *what)
{
	if (fmt_parse_int(s, id) == 0)
		return 0;
	if (errno == ERANGE)
		cmd_warn("failed to parse %s: '%s': %s", what, s,
			 strerror(ERANGE));
	else
		cmd_warn("failed to parse %s: '%s'", what, s);
	return -1;
}
