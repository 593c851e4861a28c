/*
 * internal.h - what the library's files share.  Not installed.
 *
 * Naming: ushm_* is public, ushm__* is internal but not static, a
 * function whose name ends in _locked expects the caller to hold the
 * registry lock (hdr->lock) and asserts it.
 *
 * Errors: internal functions return 0 or a negative errno; the public
 * entry points turn that into -1 and errno once.
 */
#ifndef USHM_INTERNAL_H
#define USHM_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "layout.h"
#include "os.h"

/* ---- namespaces (namespace.c, registry.c) ---- */

/* An open namespace.  Immutable once published in ushm__p.ns, except the
 * registry contents, which hdr->lock protects. */
struct ushm_ns {
	char path[PATH_MAX];
	int dirfd;		/* the namespace directory */
	int segfd;		/* its segments/ subdirectory */
	int regfd;		/* the registry file (to grow its tables) */
	int lockfd;		/* lock file: our task byte + probing others */
	struct ushm_hdr *hdr;	/* the registry, mapped MAP_SHARED */
	size_t maplen;
	uid_t owner;		/* the directory's owner */
	bool shared;		/* sticky, for several users */
	bool bad_lock;		/* the registry lock was found held by a
				 * thread that does not exist (registry.c) */
	pid_t bad_owner;	/* which (hdr->lock_tid then) */
};

/*
 * One piece of an attachment of ours: what the kernel would hold as one
 * VMA.  shmat makes one; munmap, mprotect and mremap split, move, copy
 * and remove them (vma.c), and each piece counts once in nattch.
 */
struct ushm_local {
	uintptr_t start, end;
	uint64_t offset;	/* of start, into the segment */
	int prot;
	bool dontfork;		/* madvise(MADV_DONTFORK): not inherited */
	uint8_t vmf;		/* other flags that split VMAs (vma.c) */
	uint32_t rec;		/* its attachment record */
	uint32_t slot, seq;
	uint32_t child_rec;	/* the record's copy for a forking child */
};

/*
 * The process's state.  init_lock (a process-private mutex) protects ns
 * while it is opened or switched; ns is then read without it.  The task
 * and the locals table are protected by the registry lock of ns (they
 * change only together with the registry).
 */
struct ushm_proc {
	pthread_mutex_t init_lock;
	struct ushm_ns *ns;
	int32_t task;		/* our task index, -1 if not registered */
	uint32_t task_gen;
	pid_t pid;		/* getpid(), refreshed in a forked child */
	struct ushm_local *locals;
	size_t nlocals, caplocals;
	int embryo;		/* task made for the child of a fork, or -1 */
	int embryo_fd;		/* the lock fd holding the embryo's byte */
};
extern struct ushm_proc ushm__p;

/* The namespace in use, opening the default one on first use.  Returns
 * NULL with *err set (negative errno) if it cannot be used. */
struct ushm_ns *ushm__ns(int *err);
/* The same, locked (for the public calls that need the lock at once);
 * clears this thread's error message first. */
struct ushm_ns *ushm__ns_locked(int *err);
int ushm__ns_open(const char *path, int create_mode, struct ushm_ns **out);
void ushm__ns_close(struct ushm_ns *ns);
int ushm__registry_open(struct ushm_ns *ns);
/* The namespace's own files (registry.c): whether the caller may make
 * WHAT (else the reason in ushm_strerror()), and whether FD, opened as
 * WHAT, is a file of type TYPE of an owner the namespace accepts (0,
 * -EUCLEAN, or -EACCES for another user's). */
struct stat;
bool ushm__ns_may_make(const struct ushm_ns *ns, const char *what);
int ushm__ns_check_own(struct ushm_ns *ns, int fd, const char *what,
		       mode_t type, struct stat *st);
/* A shared namespace's owner makes the semaphore file at once, so that
 * no other user ever has to (semfile.c). */
void ushm__sem_file_prepare(struct ushm_ns *ns);
/* Around an exec (semexec.c): let the undo lists' descriptor through it;
 * prepare returns whether failed must put the flag back. */
bool ushm__exec_prepare(void);
void ushm__exec_failed(bool cleared);
void ushm__sem_ns_closed(struct ushm_ns *ns);	/* semfile.c */

/* ---- the registry lock (registry.c) ---- */
int ushm__lock(struct ushm_ns *ns);	/* 0 or -EUCLEAN */
int ushm__lock_reset(struct ushm_ns *ns);
void ushm__unlock(struct ushm_ns *ns);
void ushm__assert_locked(struct ushm_ns *ns);
/* Whether this thread holds a registry lock (counted once taken). */
bool ushm__lock_held_here(void);
void ushm__test_lock_depth(int delta);
#define USHM_ASSERT_LOCKED(ns) ushm__assert_locked(ns)

/* Publish changes that lock-free readers look at (hdr->gen odd/even). */
static inline void ushm__wbegin(struct ushm_hdr *h)
{
	__atomic_store_n(&h->gen, h->gen + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
static inline void ushm__wend(struct ushm_hdr *h)
{
	__atomic_store_n(&h->gen, h->gen + 1, __ATOMIC_RELEASE);
}
static inline uint64_t ushm__rbegin(const struct ushm_hdr *h)
{
	return __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);
}
static inline bool ushm__rretry(const struct ushm_hdr *h, uint64_t g)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (g & 1) || __atomic_load_n(&h->gen, __ATOMIC_RELAXED) != g;
}
/* Copy a table entry that a writer may be changing; validate afterwards
 * with ushm__rretry(). */
void ushm__rcopy(void *dst, const void *src, size_t len);

/* Tables. */
/* Tables, at the layout's fixed offsets (layout.h: never the header's
 * copy of them, which others can write). */
static inline struct ushm_slot *ushm__slot(struct ushm_hdr *h, uint32_t i)
{
	return (struct ushm_slot *)((char *)h + USHM_OFF_SLOTS) + i;
}
static inline struct ushm_keyent *ushm__keyidx(struct ushm_hdr *h)
{
	return (struct ushm_keyent *)((char *)h + USHM_OFF_KEYIDX);
}
static inline struct ushm_task *ushm__task(struct ushm_hdr *h, uint32_t i)
{
	return (struct ushm_task *)((char *)h + USHM_OFF_TASKS) + i;
}
static inline struct ushm_att *ushm__att(struct ushm_hdr *h, uint32_t i)
{
	return (struct ushm_att *)((char *)h + USHM_OFF_ATTS) + i;
}
static inline struct ushm_thread *ushm__thread(struct ushm_hdr *h,
					       uint32_t i)
{
	return (struct ushm_thread *)((char *)h + USHM_OFF_THREADS) + i;
}

/*
 * Values read from the registry are untrusted: a damaged or hostile file
 * may hold anything.  Every index taken from it passes through one of
 * these before it is used, so that no call can read or write outside the
 * mapping (the checker reports what is wrong; repair fixes it).
 */
static inline int32_t ushm__max_idx(const struct ushm_hdr *h)
{
	int32_t m = h->max_idx;

	return m < USHM_SLOTS ? m : USHM_SLOTS - 1;
}
/* A record reference (index + 1) that may be followed. */
static inline bool ushm__att_ref_ok(uint32_t ref)
{
	return ref >= 1 && ref <= USHM_ATTS;
}
static inline uint32_t ushm__att_hwm(const struct ushm_hdr *h)
{
	return h->att_hwm < USHM_ATTS ? h->att_hwm : USHM_ATTS;
}

/* Ids, as ipc/util.h builds them. */
static inline int ushm__id(uint32_t idx, uint32_t seq)
{
	return (int)(seq * USHM_SEQ_MULT + idx);
}
static inline uint32_t ushm__id_idx(int id)
{
	return (uint32_t)id & (USHM_SEQ_MULT - 1);
}
static inline uint32_t ushm__id_seq(int id)
{
	return (uint32_t)id / USHM_SEQ_MULT;
}

/* Key index (registry.c).  Callers hold the lock and a write section. */
int32_t ushm__key_find(struct ushm_hdr *h, int32_t key);	/* lock-free */
void ushm__key_insert_locked(struct ushm_ns *ns, int32_t key, uint32_t idx);
void ushm__key_remove_locked(struct ushm_ns *ns, int32_t key, uint32_t idx);
void ushm__key_rebuild_locked(struct ushm_ns *ns);

/* Derived counters and lists, recomputed from primary data. */
struct ushm_counts {
	uint32_t in_use;
	int32_t max_idx;
	uint64_t shm_tot;	/* pages */
	uint64_t reserved;	/* bytes */
};
void ushm__count_slots(struct ushm_hdr *h, struct ushm_counts *c);
void ushm__recount_locked(struct ushm_ns *ns);

/* Repair after a dead lock owner or for `ushm repair`; returns the number
 * of things fixed. */
int ushm__recover_locked(struct ushm_ns *ns, bool thorough);

/* Invariant checker (check.c). */
int ushm__check_locked(struct ushm_ns *ns,
		       void (*report)(void *ctx, const char *line), void *ctx);

/* ---- segment files (segfile.c) ---- */
void ushm__seg_name(char *buf, size_t len, int32_t orig_key, int id);
int ushm__seg_create(struct ushm_ns *ns, int32_t key, int id, mode_t mode,
		     uint64_t len, uint64_t *ino);	/* returns an O_RDWR fd */
int ushm__seg_open(struct ushm_ns *ns, const struct ushm_slot *s,
		   uint32_t idx, int flags);
int ushm__seg_unlink(struct ushm_ns *ns, int32_t orig_key, int id,
		     uint64_t ino);
int ushm__seg_open_trunc(struct ushm_ns *ns, const struct ushm_slot *s,
			 uint32_t idx);
uint64_t ushm__seg_maplen(const struct ushm_slot *s);
bool ushm__seg_owner_ok(const struct ushm_ns *ns, const struct ushm_slot *s,
			uid_t uid);
int ushm__seg_sync_perms(struct ushm_ns *ns, const struct ushm_slot *s,
			 uint32_t idx);
int ushm__seg_materialize_locked(struct ushm_ns *ns, struct ushm_slot *s,
				 uint32_t idx);
long ushm__seg_resident(struct ushm_ns *ns, const struct ushm_slot *s,
			uint32_t idx);

/* ---- descriptors of segment files (fdcache.c) ---- */
struct fdc;
int ushm__fd_get_locked(struct ushm_ns *ns, const struct ushm_slot *s,
			uint32_t idx, int oflags, struct fdc **ent);
void ushm__fd_put_locked(struct ushm_ns *ns, struct fdc *ent, int fd);
struct fdc *ushm__fd_insert_locked(struct ushm_ns *ns,
				   const struct ushm_slot *s, uint32_t idx,
				   int fd, bool rdwr);
int ushm__fd_cached_rdwr_locked(struct ushm_ns *ns, const struct ushm_slot *s,
				uint32_t idx);
void ushm__fd_drop_locked(struct ushm_ns *ns, uint32_t idx, uint32_t seq);
bool ushm__fd_evict_one_locked(struct ushm_ns *ns);
void ushm__fd_reset(void);
void ushm__fd_fork_child(void);

/* ---- credentials and permissions (cred.c) ---- */
struct ushm_cred {
	uid_t euid, ruid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[64];
	bool more_groups;	/* more than fit: ask the kernel */
};
const struct ushm_cred *ushm__cred(void);
uint32_t ushm__credgen(void);
bool ushm__in_group(const struct ushm_cred *c, gid_t g);
bool ushm__capable(int cap);
/* ipcperms(): 0 or -EACCES; flag's rwx triplets are unioned. */
int ushm__ipcperms(const struct ushm_slot *s, int flag);
bool ushm__owner_or_creator(const struct ushm_slot *s);

/* ---- tasks (task.c) ---- */
int ushm__task_register_locked(struct ushm_ns *ns);
bool ushm__task_alive(struct ushm_ns *ns, uint32_t t);
int ushm__reap_all_locked(struct ushm_ns *ns);
int ushm__reap_slot_locked(struct ushm_ns *ns, uint32_t idx);
bool ushm__slot_needs_reap(struct ushm_ns *ns, const struct ushm_slot *s,
			   uint32_t idx);
void ushm__task_fork_init(void);
void ushm__reap_task_locked(struct ushm_ns *ns, uint32_t t);
void ushm__reap_mine_locked(struct ushm_ns *ns);
void ushm__lock_forget(void);

/* ---- creating threads (thread.c) ---- */
bool ushm__owner_alive(pthread_mutex_t *m);
bool ushm__live_fast(const pthread_mutex_t *m);
/* A robust, process-shared mutex in shared memory: 0 or -errno. */
int ushm__init_robust(pthread_mutex_t *m);
int ushm__thread_register_locked(struct ushm_ns *ns, uint32_t *idx,
				 uint32_t *gen);
bool ushm__creator_alive(struct ushm_ns *ns, const struct ushm_slot *s);
int ushm__orphans_locked(struct ushm_ns *ns, int32_t only);
void ushm__thread_fork_child(void);

/* ---- segments (shm.c) ---- */
int ushm__destroy_locked(struct ushm_ns *ns, uint32_t idx);
void ushm__att_unlink_locked(struct ushm_ns *ns, uint32_t rec, pid_t pid,
			     int64_t now);
void ushm__att_pieces_locked(struct ushm_ns *ns, uint32_t rec, int delta);
void ushm__att_unpin_locked(struct ushm_ns *ns, uint32_t rec);
bool ushm__may_destroy(const struct ushm_hdr *h, const struct ushm_slot *s);
int ushm__att_alloc_locked(struct ushm_ns *ns, uint32_t *out);
void ushm__att_link_locked(struct ushm_ns *ns, uint32_t rec,
			   uint32_t task, uint32_t idx, uintptr_t addr,
			   size_t len, uint32_t pieces, int shmflg);

/* ---- pieces (vma.c) ---- */
int ushm__piece_add_locked(uintptr_t start, uintptr_t end, uint64_t offset,
			   int prot, uint32_t rec, uint32_t slot, uint32_t seq);
void ushm__pieces_unmapped_locked(struct ushm_ns *ns, uintptr_t a,
				  uintptr_t b);
int ushm__shmdt_take_locked(struct ushm_ns *ns, uintptr_t addr,
			    struct ushm_local **out, size_t *n);
void ushm__shmdt_taken_free(struct ushm_local *taken);
void ushm__pieces_closed_locked(struct ushm_ns *ns,
				const struct ushm_local *l, size_t n);
void ushm__pieces_exit_locked(struct ushm_ns *ns);

/* ---- the process's own end (exit.c) ---- */
void ushm__exit_detach(void);

/* ---- environment error messages (errmsg.c) ---- */
void ushm__seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ushm__clearerr(void);

int64_t ushm__now(void);

/*
 * Crash points, for the crash tests only (crash/, built with
 * -DUSHM_CRASHTEST): each names a step inside a critical section, where
 * the test can kill the process (crashpoint.c) to show that the next
 * locker repairs whatever state that leaves.  Free in normal builds.
 */
void ushm__crash_point(const char *name);
void ushm__crash_arm(const char *name, long n);
long ushm__crash_count(void);
#ifdef USHM_CRASHTEST
#define CRASH_POINT(name) ushm__crash_point(name)
#else
#define CRASH_POINT(name) ((void)0)
#endif

#endif
