/*
 * check.c - the invariants of a namespace (docs/INVARIANTS.md), one
 * checker for all of them, and `repair`.
 *
 * The checker reads the registry as untrusted data: every index is
 * bounds-checked before use and every walk is bounded, so that a damaged
 * or hostile file yields reports, never a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

struct checker {
	void (*report)(void *ctx, const char *line);
	void *ctx;
	int n;
};

__attribute__((format(printf, 2, 3)))
static void violation(struct checker *ck, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	ck->n++;
	if (!ck->report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ck->report(ck->ctx, line);
}

static void check_slots(struct ushm_hdr *h, struct checker *ck)
{
	struct ushm_counts c;

	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, i);
		int id = ushm__id(i, s->seq % USHM_SEQ_LIMIT);

		if (s->state == SLOT_FREE) {
			static const struct ushm_slot zero;

			if (memcmp(s, &zero, sizeof(zero)))
				violation(ck, "I3: free slot %u is not blank", i);
			continue;
		}
		if (s->state != SLOT_LIVE) {
			violation(ck, "I3: slot %u is in state %u with the lock "
				  "free (half-made or half-destroyed)", i,
				  s->state);
			continue;
		}
		if (s->seq >= USHM_SEQ_LIMIT)
			violation(ck, "I4: slot %u: seq %u out of range", i,
				  s->seq);
		if (s->segsz == 0 ||
		    s->pages != (s->segsz + USHM_PAGE - 1) / USHM_PAGE)
			violation(ck, "I4: id %d: size %llu but %llu pages", id,
				  (unsigned long long)s->segsz,
				  (unsigned long long)s->pages);
		if (s->creator > USHM_THREADS)
			violation(ck, "I8: id %d: creator %u out of range", id,
				  s->creator);
		if (s->mode & ~(uint32_t)(USHM_MODE_PERMS | USHM_MODE_DEST |
					 USHM_MODE_LOCKED))
			violation(ck, "I4: id %d: mode %#o has unknown bits",
				  id, s->mode);
		if ((s->mode & USHM_MODE_DEST) && s->key)
			violation(ck, "I4: id %d: marked for destruction but "
				  "key %#x is not private", id,
				  (unsigned)s->key);
		if ((s->mode & USHM_MODE_DEST) && s->nattch == 0)
			violation(ck, "I11: id %d: marked for destruction with "
				  "nothing attached, but not destroyed", id);
		if (s->key) {
			int32_t f = ushm__key_find(h, s->key);

			if (f < 0)
				violation(ck, "I5: id %d: key %#x is not in the "
					  "key index", id, (unsigned)s->key);
			else if ((uint32_t)f != i)
				violation(ck, "I5: id %d: key %#x leads to "
					  "slot %d", id, (unsigned)s->key, f);
		}
	}
	ushm__count_slots(h, &c);
	if (c.reserved != h->reserved)
		violation(ck, "I6: %llu bytes reserved, the slots say %llu",
			  (unsigned long long)h->reserved,
			  (unsigned long long)c.reserved);
	if (c.in_use != h->in_use || c.shm_tot != h->shm_tot ||
	    c.max_idx != h->max_idx)
		violation(ck, "I6: counters say %u segments, %llu pages, highest "
			  "index %d; the slots say %u, %llu, %d", h->in_use,
			  (unsigned long long)h->shm_tot, h->max_idx, c.in_use,
			  (unsigned long long)c.shm_tot, c.max_idx);
}

static void check_keyidx(struct ushm_hdr *h, struct checker *ck)
{
	struct ushm_keyent *t = ushm__keyidx(h);
	uint32_t tombs = 0;

	for (uint32_t e = 0; e < USHM_KEYIDX; e++) {
		uint32_t ref = t[e].ref;
		struct ushm_slot *s;

		if (ref == KEYENT_EMPTY)
			continue;
		if (ref == KEYENT_TOMB) {
			tombs++;
			continue;
		}
		if (ref > USHM_SLOTS) {
			violation(ck, "I5: key index entry %u points at slot "
				  "%u, out of range", e, ref - 1);
			continue;
		}
		s = ushm__slot(h, ref - 1);
		if (s->state != SLOT_LIVE || s->key != t[e].key || !t[e].key)
			violation(ck, "I5: key index entry %u (key %#x) points "
				  "at slot %u, which does not hold that key", e,
				  (unsigned)t[e].key, ref - 1);
	}
	if (tombs != h->keyidx_tombs)
		violation(ck, "I5: %u tombstones in the key index, %u counted",
			  tombs, h->keyidx_tombs);
}

static void check_atts(struct ushm_hdr *h, struct checker *ck)
{
	static uint64_t nattch[USHM_SLOTS];
	static uint32_t listed[USHM_SLOTS], natt[USHM_TASKS];
	uint32_t hwm = h->att_hwm < USHM_ATTS ? h->att_hwm : USHM_ATTS;

	if (h->att_hwm > h->att_alloc || h->att_alloc > USHM_ATTS)
		violation(ck, "I7: attachment table bounds: %u used, %u "
			  "allocated, %u capacity", h->att_hwm, h->att_alloc,
			  USHM_ATTS);
	memset(nattch, 0, sizeof(nattch));
	memset(natt, 0, sizeof(natt));
	for (uint32_t r = 0; r < USHM_ATTS; r++) {
		struct ushm_att *a;
		struct ushm_slot *s;

		if (r >= hwm && r >= h->att_alloc)
			break;
		a = ushm__att(h, r);
		if (a->state == ATT_FREE)
			continue;
		if (r >= hwm)
			violation(ck, "I7: record %u is in use beyond the high "
				  "water mark %u", r, hwm);
		if (a->state != ATT_LIVE || a->slot >= USHM_SLOTS ||
		    a->task >= USHM_TASKS) {
			violation(ck, "I7: record %u is malformed", r);
			continue;
		}
		s = ushm__slot(h, a->slot);
		if (s->state != SLOT_LIVE || s->seq != a->seq)
			violation(ck, "I7: record %u attaches slot %u seq %u, "
				  "which is not live", r, a->slot, a->seq);
		if (ushm__task(h, a->task)->state == TASK_FREE)
			violation(ck, "I7: record %u belongs to task %u, which "
				  "is free", r, a->task);
		if (a->pieces == 0)
			violation(ck, "I7: record %u counts no piece", r);
		nattch[a->slot] += a->pieces;
		natt[a->task]++;
	}
	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, i);
		uint32_t r = s->att_head, prev = 0, n = 0;

		listed[i] = 0;
		if (s->state == SLOT_FREE) {
			if (s->att_head)
				violation(ck, "I7: free slot %u has an "
					  "attachment list", i);
			continue;
		}
		while (r && n <= hwm) {
			struct ushm_att *a;

			if (r > hwm) {
				violation(ck, "I7: slot %u: list goes to record "
					  "%u, out of range", i, r - 1);
				break;
			}
			a = ushm__att(h, r - 1);
			if (a->state != ATT_LIVE || a->slot != i ||
			    a->prev != prev) {
				violation(ck, "I7: slot %u: list holds record "
					  "%u, which is not its own or is "
					  "mislinked", i, r - 1);
				break;
			}
			n++;
			prev = r;
			r = a->next;
		}
		if (n > hwm)
			violation(ck, "I7: slot %u: the attachment list loops",
				  i);
		listed[i] = n;
		if (s->nattch != nattch[i])
			violation(ck, "I7: slot %u: nattch %llu, its records "
				  "count %llu", i,
				  (unsigned long long)s->nattch,
				  (unsigned long long)nattch[i]);
	}
	for (uint32_t r = 0; r < hwm; r++) {
		struct ushm_att *a = ushm__att(h, r);

		if (a->state == ATT_LIVE && a->slot < USHM_SLOTS &&
		    listed[a->slot] == 0 &&
		    ushm__slot(h, a->slot)->state == SLOT_LIVE)
			violation(ck, "I7: record %u is not on slot %u's list",
				  r, a->slot);
	}
	for (uint32_t t = 0; t < USHM_TASKS; t++) {
		struct ushm_task *k = ushm__task(h, t);

		if (k->state > TASK_EMBRYO)
			violation(ck, "I8: task %u has state %u", t, k->state);
		else if (k->state != TASK_FREE && t >= h->task_hwm)
			violation(ck, "I8: task %u is in use beyond the high "
				  "water mark %u", t, h->task_hwm);
		if (k->state != TASK_FREE && k->natt != natt[t])
			violation(ck, "I8: task %u owns %u records, counts %u",
				  t, natt[t], k->natt);
	}
}

static void check_header(struct ushm_hdr *h, struct checker *ck)
{
	if (h->magic != USHM_MAGIC || h->version != USHM_LAYOUT_VERSION ||
	    h->off_slots != USHM_OFF_SLOTS || h->off_keyidx != USHM_OFF_KEYIDX ||
	    h->off_tasks != USHM_OFF_TASKS || h->off_atts != USHM_OFF_ATTS ||
	    h->off_threads != USHM_OFF_THREADS ||
	    h->file_size != USHM_FILE_SIZE || h->nslots != USHM_SLOTS ||
	    h->nkeyidx != USHM_KEYIDX || h->ntasks != USHM_TASKS ||
	    h->natts != USHM_ATTS || h->nthreads != USHM_THREADS)
		violation(ck, "I1: the header's geometry was changed after the "
			  "registry was made");
	if (h->thread_hwm > USHM_THREADS)
		violation(ck, "I8: thread high water mark %u out of range",
			  h->thread_hwm);
	for (uint32_t t = 0; t < USHM_THREADS; t++) {
		struct ushm_thread *k = ushm__thread(h, t);

		if (k->state > THREAD_LIVE)
			violation(ck, "I8: thread %u has state %u", t, k->state);
		else if (k->state != THREAD_FREE && t >= h->thread_hwm)
			violation(ck, "I8: thread %u is in use beyond the high "
				  "water mark %u", t, h->thread_hwm);
	}
	if (h->gen & 1)
		violation(ck, "I2: the sequence counter is odd with the lock "
			  "free (a writer died mid-change)");
	if (h->intent.op != INTENT_NONE)
		violation(ck, "I12: a creation's journal entry is pending");
	if (h->next_idx < 0 || h->next_idx > USHM_SLOTS || h->last_idx < -1 ||
	    h->last_idx >= USHM_SLOTS || h->seq >= USHM_SEQ_LIMIT)
		violation(ck, "I9: id allocator out of range (next %d, last %d, "
			  "seq %u)", h->next_idx, h->last_idx, h->seq);
	if (h->shmmni > USHM_MAX_SHMMNI ||
	    (h->rmid_forced != 0 && h->rmid_forced != 1) || h->next_id < -1)
		violation(ck, "I9: limits out of range (shmmni %u, "
			  "shm_rmid_forced %d, shm_next_id %d)", h->shmmni,
			  h->rmid_forced, h->next_id);
	if (h->task_hwm > USHM_TASKS)
		violation(ck, "I8: task high water mark %u out of range",
			  h->task_hwm);
}

/* Give segments/NAME length LEN if it still is file INO: truncated
 * through a descriptor checked to be that file, never by its name. */
static void resize(struct ushm_ns *ns, const char *name, uint64_t ino,
		   uint64_t len)
{
	struct stat st;
	int fd = ushm__os_open_beneath(ns->segfd, name, O_WRONLY | O_CLOEXEC |
				       O_NONBLOCK, 0);

	if (fd < 0)
		return;
	if (ushm__os_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_ino == ino)
		ushm__os_ftruncate(fd, (off_t)len);
	ushm__os_close(fd);
}

/* The status of segments/NAME itself (a link is not followed): 0, or -1
 * with errno. */
static int file_stat(struct ushm_ns *ns, const char *name, struct stat *st)
{
	int fd = ushm__os_open_beneath(ns->segfd, name, O_PATH | O_CLOEXEC,
				       0), r;

	if (fd < 0)
		return -1;
	r = ushm__os_fstat(fd, st);
	ushm__os_close(fd);
	return r;
}

/* A new, empty file for live slot S (ID) whose file is gone: the data
 * are lost, the id stays usable. */
static void remake(struct ushm_ns *ns, struct ushm_slot *s, int id,
		   int *fixed)
{
	uint64_t ino;
	int fd = ushm__seg_create(ns, s->orig_key, id, s->mode & 0777,
				  ushm__seg_maplen(s), &ino);

	if (fd < 0)
		return;
	if (ushm__cred()->euid != s->cuid)
		ushm__os_fchown(fd, s->cuid, s->cgid);
	ushm__os_close(fd);
	s->ino = ino;
	(*fixed)++;
}

/* I10: files and slots, one to one. */
static void check_files(struct ushm_ns *ns, struct checker *ck, bool fix,
			int *fixed)
{
	struct ushm_hdr *h = ns->hdr;
	int fd = ushm__os_dup(ns->segfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			ushm__os_close(fd);
		violation(ck, "I10: cannot list %s/segments", ns->path);
		return;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		unsigned key;
		int id, n = 0;
		bool ok = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (sscanf(e->d_name, "SYSV%8x.%d%n", &key, &id, &n) == 2 &&
		    e->d_name[n] == '\0' && id >= 0) {
			struct ushm_slot *s = ushm__slot(h, ushm__id_idx(id));

			/* A slot owns its file once it says it has one. */
			ok = s->state == SLOT_LIVE &&
			     (s->flags & SEGF_FILE) &&
			     s->seq == ushm__id_seq(id) &&
			     (uint32_t)s->orig_key == key;
		}
		if (ok)
			continue;
		violation(ck, "I10: %s/segments/%s belongs to no segment",
			  ns->path, e->d_name);
		if (fix && ushm__os_unlinkat(ns->segfd, e->d_name, 0) == 0)
			(*fixed)++;
	}
	closedir(d);
	for (uint32_t i = 0; i < USHM_SLOTS; i++) {
		struct ushm_slot *s = ushm__slot(h, i);
		char name[64];
		struct stat st;
		bool ours;
		int id;

		/* No file yet (a private namespace's segment never attached):
		 * nothing to check, and the scan above reports a stray one. */
		if (s->state != SLOT_LIVE || s->seq >= USHM_SEQ_LIMIT ||
		    !(s->flags & SEGF_FILE))
			continue;
		id = ushm__id(i, s->seq);
		ushm__seg_name(name, sizeof(name), s->orig_key, id);
		if (file_stat(ns, name, &st) < 0) {
			violation(ck, "I10: id %d: its file %s is missing", id,
				  name);
			if (fix && errno == ENOENT)
				remake(ns, s, id, fixed);
			continue;
		}
		if (S_ISREG(st.st_mode) && st.st_ino == s->ino &&
		    ushm__seg_owner_ok(ns, s, st.st_uid) && st.st_nlink == 1 &&
		    (uint64_t)st.st_size == ushm__seg_maplen(s))
			continue;
		/* A file the segment may own: a regular file with no other
		 * name, of its creator or of the namespace's owner.  Anything
		 * else is never adopted: it could be another user's (who
		 * would then read what the segment's users write) or a link
		 * to anything at all. */
		ours = S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		       ushm__seg_owner_ok(ns, s, st.st_uid);
		if (!ours) {
			violation(ck, "I10: id %d: %s is not the segment's "
				  "(%s of uid %u, %lu links): not adopted",
				  id, name, S_ISREG(st.st_mode) ? "a file"
				  : S_ISLNK(st.st_mode) ? "a symbolic link"
				  : "not a regular file", (unsigned)st.st_uid,
				  (unsigned long)st.st_nlink);
			/* Only the impostor's name goes (unlinkat follows no
			 * link); the data were lost when it took the place
			 * of the segment's file, and a new file keeps the
			 * id usable. */
			if (fix && ushm__os_unlinkat(ns->segfd, name, 0) == 0)
				remake(ns, s, id, fixed);
			continue;
		}
		violation(ck, "I10: id %d: %s is not the file it was created "
			  "as (inode or size differ)", id, name);
		if (fix) {
			/* Keep the file, at its size (bytes beyond it were
			 * never part of the segment). */
			s->ino = st.st_ino;
			if ((uint64_t)st.st_size != ushm__seg_maplen(s))
				resize(ns, name, st.st_ino,
				       ushm__seg_maplen(s));
			(*fixed)++;
		}
	}
}

int ushm__check_locked(struct ushm_ns *ns,
		       void (*report)(void *ctx, const char *line), void *ctx)
{
	struct checker ck = { report, ctx, 0 };

	check_header(ns->hdr, &ck);
	check_slots(ns->hdr, &ck);
	check_keyidx(ns->hdr, &ck);
	check_atts(ns->hdr, &ck);
	if (ns->segfd >= 0)
		check_files(ns, &ck, false, NULL);
	return ck.n;
}

int ushm_check(void (*report)(void *ctx, const char *line), void *ctx)
{
	int err = 0, n;
	struct ushm_ns *ns = ushm__ns_locked(&err);

	if (!ns) {
		errno = -err;
		return -1;
	}
	n = ushm__check_locked(ns, report, ctx);
	ushm__unlock(ns);
	return n;
}

int ushm_repair(void)
{
	int err = 0, fixed = 0;
	struct ushm_ns *ns = ushm__ns(&err);
	struct checker ck = { NULL, NULL, 0 };

	ushm__clearerr();
	if (!ns) {
		errno = -err;
		return -1;
	}
	if ((err = ushm__lock(ns)) != 0) {
		/* Held by a thread that does not exist: a new lock. */
		if ((err = ushm__lock_reset(ns)) != 0) {
			errno = -err;
			return -1;
		}
		fixed++;
	}
	fixed += ushm__recover_locked(ns, true);
	ushm__reap_all_locked(ns);
	ushm__wbegin(ns->hdr);
	check_files(ns, &ck, true, &fixed);
	ushm__wend(ns->hdr);
	ushm__unlock(ns);
	return fixed;
}
