/*
 * ipc.h - the part of System V IPC that every kind shares (~ipc/util.h):
 * the generic object header (kern_ipc_perm), the cyclic id allocator
 * (ipc_idr_alloc), the permission check (ipcperms) and the key index.
 * The semaphore registry (semlayout.h) is built on it; the shm registry
 * keeps its own copies of these fields for now (layout.h) and moves onto
 * it in a later change (docs/SEMAPHORES.md, section 2).
 */
#ifndef USHM_IPC_H
#define USHM_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

/* Object states (struct ushm_perm.state): the values of SLOT_*. */
enum {
	IPC_OBJ_FREE = SLOT_FREE,
	IPC_OBJ_CREATING = SLOT_CREATING,
	IPC_OBJ_LIVE = SLOT_LIVE,
	IPC_OBJ_DESTROYING = SLOT_DESTROYING,
};

/*
 * The generic part of an object (~kern_ipc_perm), first member of every
 * kind's slot.  Written by the holder of its kind's table lock, with the
 * kind's sequence counter odd (lock-free readers).  48 bytes.
 */
struct ushm_perm {
	uint32_t state;		/* IPC_OBJ_* */
	uint32_t seq;		/* id = seq * 32768 + index */
	int32_t key;		/* 0 if private */
	int32_t orig_key;	/* key at creation */
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;		/* 0777 perms */
	uint32_t pad;
	int64_t ctime;
};

/* What a creation installs in the allocator (journalled before the new
 * object becomes LIVE, so a crash cannot make ids go backwards). */
struct ushm_ids_alloc {
	int32_t next_idx;	/* where the cyclic search starts */
	int32_t last_idx;	/* last index handed out, -1 none */
	uint32_t seq;		/* current sequence number */
	int32_t next_id;	/* *_next_id: -1 cyclic */
};

/* One kind's ids (~ipc_ids).  Protected by the kind's table lock. */
struct ushm_ids {
	struct ushm_ids_alloc a;
	uint32_t in_use;	/* objects not FREE */
	int32_t max_idx;	/* highest index not FREE, -1 none */
	uint32_t keyidx_tombs;	/* tombstones in the key index */
	uint32_t pad;
};

void ushm__ids_init(struct ushm_ids *ids);

/*
 * ipc_idr_alloc: the index and sequence number of a new object, as the
 * kernel chooses them (SEMANTICS 1.4-1.17, S-SEM 1.2).  IS_FREE(ctx, i)
 * tells whether index I is free.  On success *IDX, *SEQ (the new object's)
 * and *OUT (the allocator state to install once the object is LIVE) are
 * set; -ENOSPC when no index is free.
 */
int ushm__ipc_idr_alloc(const struct ushm_ids *ids, uint32_t nslots,
			bool (*is_free)(void *ctx, uint32_t i), void *ctx,
			uint32_t *idx, uint32_t *seq,
			struct ushm_ids_alloc *out);

/* ipcperms(): 0 or -EACCES; flag's rwx triplets are unioned (S-SEM 9.1). */
int ushm__ipc_perms(const struct ushm_perm *p, int flag);
/* euid is the owner or the creator (IPC_SET, IPC_RMID). */
bool ushm__ipc_owner_or_creator(const struct ushm_perm *p);

/* The key index: open addressing over USHM_KEYIDX entries.  find is
 * lock-free (the caller validates under its sequence counter); insert and
 * remove need the table lock. */
int32_t ushm__ipc_key_find(const struct ushm_keyent *t, int32_t key);
void ushm__ipc_key_insert(struct ushm_keyent *t, uint32_t *tombs,
			  int32_t key, uint32_t idx);
/* Whether KEY -> IDX was there (now a tombstone). */
bool ushm__ipc_key_remove(struct ushm_keyent *t, uint32_t *tombs,
			  int32_t key, uint32_t idx);
void ushm__ipc_key_clear(struct ushm_keyent *t, uint32_t *tombs);

#endif
