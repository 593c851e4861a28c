/*
 * ipc.c - what every System V IPC kind shares (~ipc/util.c): the cyclic
 * id allocator, the permission check and the key index.  No locks of its
 * own: each function says what its caller holds.
 */
#include <errno.h>
#include <linux/capability.h>

#include "internal.h"
#include "ipc.h"

void ushm__ids_init(struct ushm_ids *ids)
{
	ids->a.next_idx = 0;
	ids->a.last_idx = -1;
	ids->a.seq = 0;
	ids->a.next_id = -1;
	ids->in_use = 0;
	ids->max_idx = -1;
	ids->keyidx_tombs = 0;
}

/* The caller holds the kind's table lock. */
int ushm__ipc_idr_alloc(const struct ushm_ids *ids, uint32_t nslots,
			bool (*is_free)(void *ctx, uint32_t i), void *ctx,
			uint32_t *idx, uint32_t *seq,
			struct ushm_ids_alloc *out)
{
	*out = ids->a;
	if (ids->a.next_id >= 0) {
		/* *_next_id: that seq, the lowest free idx from its idx on;
		 * the cyclic state is left alone (SEMANTICS 1.15-1.17). */
		for (uint32_t i = ushm__id_idx(ids->a.next_id); i < nslots;
		     i++) {
			if (is_free(ctx, i)) {
				*idx = i;
				*seq = ushm__id_seq(ids->a.next_id);
				out->next_id = -1;
				return 0;
			}
		}
		return -ENOSPC;
	} else {
		/* idr_alloc_cyclic over [0, R) from next (SEMANTICS 1.4). */
		uint32_t r = ids->in_use * 3 / 2, i;
		uint32_t start = (uint32_t)ids->a.next_idx;

		if (r < 64)
			r = 64;
		if (r > nslots)
			r = nslots;
		for (i = start; i < r; i++)
			if (is_free(ctx, i))
				goto found;
		for (i = 0; i < r && i < start; i++)
			if (is_free(ctx, i))
				goto found;
		return -ENOSPC;
found:
		out->next_idx = (int32_t)i + 1;
		if ((int32_t)i <= ids->a.last_idx) {
			out->seq = ids->a.seq + 1;
			if (out->seq >= USHM_SEQ_LIMIT)
				out->seq = 0;
		}
		out->last_idx = (int32_t)i;
		*idx = i;
		*seq = out->seq;
		return 0;
	}
}

int ushm__ipc_perms(const struct ushm_perm *p, int flag)
{
	const struct ushm_cred *c = ushm__cred();
	int requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
	int granted = (int)p->mode;

	if (c->euid == p->cuid || c->euid == p->uid)
		granted >>= 6;
	else if (ushm__in_group(c, p->cgid) || ushm__in_group(c, p->gid))
		granted >>= 3;
	/* No fall-through to a more generous class (SEMANTICS 7.1). */
	if ((requested & ~granted & 7) && !ushm__capable(CAP_IPC_OWNER))
		return -EACCES;
	return 0;
}

bool ushm__ipc_owner_or_creator(const struct ushm_perm *p)
{
	const struct ushm_cred *c = ushm__cred();

	return c->euid == p->uid || c->euid == p->cuid;
}

/* ---- the key index ---- */

static inline uint32_t key_hash(int32_t key)
{
	return ((uint32_t)key * 2654435761u) >> 16;	/* 16 bits */
}

static inline uint64_t keyent_load(const struct ushm_keyent *e)
{
	return __atomic_load_n((const uint64_t *)e, __ATOMIC_RELAXED);
}

static inline void keyent_store(struct ushm_keyent *e, int32_t key,
				uint32_t ref)
{
	uint64_t v = (uint64_t)ref << 32 | (uint32_t)key;

	__atomic_store_n((uint64_t *)e, v, __ATOMIC_RELAXED);
}

int32_t ushm__ipc_key_find(const struct ushm_keyent *t, int32_t key)
{
	uint32_t i = key_hash(key);

	for (uint32_t n = 0; n < USHM_KEYIDX; n++) {
		uint64_t e = keyent_load(&t[i]);
		uint32_t ref = (uint32_t)(e >> 32);

		if (ref == KEYENT_EMPTY)
			return -1;
		if (ref != KEYENT_TOMB && (int32_t)(uint32_t)e == key &&
		    ref <= USHM_SLOTS)
			return (int32_t)ref - 1;
		i = (i + 1) & (USHM_KEYIDX - 1);
	}
	return -1;
}

void ushm__ipc_key_insert(struct ushm_keyent *t, uint32_t *tombs,
			  int32_t key, uint32_t idx)
{
	uint32_t i = key_hash(key);

	/* At most 32768 keys in 65536 entries: a free entry exists. */
	for (uint32_t n = 0; n < USHM_KEYIDX; n++) {
		uint32_t ref = (uint32_t)(keyent_load(&t[i]) >> 32);

		if (ref == KEYENT_EMPTY || ref == KEYENT_TOMB) {
			if (ref == KEYENT_TOMB)
				(*tombs)--;
			keyent_store(&t[i], key, idx + 1);
			return;
		}
		i = (i + 1) & (USHM_KEYIDX - 1);
	}
}

bool ushm__ipc_key_remove(struct ushm_keyent *t, uint32_t *tombs,
			  int32_t key, uint32_t idx)
{
	uint32_t i = key_hash(key);

	for (uint32_t n = 0; n < USHM_KEYIDX; n++) {
		uint64_t e = keyent_load(&t[i]);
		uint32_t ref = (uint32_t)(e >> 32);

		if (ref == KEYENT_EMPTY)
			return false;
		if (ref == idx + 1 && (int32_t)(uint32_t)e == key) {
			keyent_store(&t[i], 0, KEYENT_TOMB);
			(*tombs)++;
			return true;
		}
		i = (i + 1) & (USHM_KEYIDX - 1);
	}
	return false;
}

void ushm__ipc_key_clear(struct ushm_keyent *t, uint32_t *tombs)
{
	for (uint32_t i = 0; i < USHM_KEYIDX; i++)
		keyent_store(&t[i], 0, KEYENT_EMPTY);
	*tombs = 0;
}
