/*
 * layout.h - the registry file: one per namespace, mapped MAP_SHARED by
 * every process that uses the namespace.  It plays the part of the
 * kernel's ipc_ids (the id table and the key index) and of every
 * shmid_kernel (the segment slots), plus what user space needs on top:
 * the tasks (processes) and their attachment records.
 *
 *   offset 0            struct ushm_hdr (one page)
 *   hdr.off_slots       struct ushm_slot[USHM_SLOTS]      ~ shmid_kernel
 *   hdr.off_keyidx      struct ushm_keyent[USHM_KEYIDX]   ~ the key hash
 *   hdr.off_tasks       struct ushm_task[USHM_TASKS]      ~ task_struct.sysvshm
 *   hdr.off_atts        struct ushm_att[USHM_ATTS]        ~ the shm VMAs
 *   hdr.off_threads     struct ushm_thread[USHM_THREADS]  ~ shm_creator
 *
 * Locking: hdr.lock (a robust process-shared mutex) protects every field
 * below it in the header and every table entry; nothing is written without
 * it.  The geometry above hdr.lock is written once, at creation, before
 * the file gets its name, and never changes.  Readers that do not take
 * the lock (the key lookup of shmget, IPC_STAT) read under the sequence
 * counter hdr.gen: a writer makes it odd before it changes anything such
 * readers look at and even again afterwards, and a reader retries (or
 * falls back to the lock) when it saw it odd or changed.
 *
 * All integers are in the machine's byte order; the file is not meant to
 * move between machines.  The layout version changes whenever any of
 * these structures does.
 */
#ifndef USHM_LAYOUT_H
#define USHM_LAYOUT_H

#include <pthread.h>
#include <stdint.h>

#define USHM_MAGIC		0x4745524d48535575ULL	/* "uUSHMREG" */
#define USHM_LAYOUT_VERSION	4

#define USHM_PAGE		4096UL		/* PAGE_SIZE = SHMLBA */
#define USHM_HUGEPAGE		(2UL << 20)	/* x86_64 default huge page */
#define USHM_SLOTS		32768		/* IPCMNI */
#define USHM_SEQ_MULT		32768		/* id = seq * 32768 + idx */
#define USHM_SEQ_LIMIT		65535		/* seq runs 0..65534 */
#define USHM_KEYIDX		65536		/* power of two, 2 * slots */
#define USHM_TASKS		16384
#define USHM_ATTS		262144
#define USHM_ATT_CHUNK		4096		/* records allocated at a time */
#define USHM_THREADS		4096		/* threads that created segments */

/* Kernel defaults (include/uapi/linux/shm.h). */
#define USHM_DFL_SHMMAX		(~0UL - (1UL << 24))
#define USHM_DFL_SHMALL		(~0UL - (1UL << 24))
#define USHM_DFL_SHMMNI		4096
#define USHM_MAX_SHMMNI		32768

/* Segment slot states (struct ushm_slot.state). */
enum {
	SLOT_FREE = 0,
	SLOT_CREATING,		/* file being made; invisible to lookups */
	SLOT_LIVE,		/* visible: by id, and by key unless private */
	SLOT_DESTROYING,	/* file being unlinked; invisible */
};

/* struct ushm_slot.flags */
#define SEGF_HUGETLB		0x1
#define SEGF_NORESERVE		0x2
#define SEGF_MAPPED		0x4	/* attached at least once */
#define SEGF_FILE		0x8	/* its file exists (segfile.c) */
/* Segments whose pages are promised room at shmget (shm.c, reserve). */
#define SEGF_RESERVES(flags)	(!((flags) & (SEGF_NORESERVE | SEGF_HUGETLB)))

/* Mode bits kept in struct ushm_slot.mode besides the 0777 permissions;
 * the same values as the kernel's SHM_DEST and SHM_LOCKED. */
#define USHM_MODE_PERMS		0777
#define USHM_MODE_DEST		01000
#define USHM_MODE_LOCKED	02000

/*
 * One segment: shmid_kernel with its kern_ipc_perm.  Protected by
 * hdr.lock; the fields read by lock-free readers are written only with
 * hdr.gen odd.  128 bytes; what a shmget of an existing key needs comes
 * first (USHM_SLOT_HEAD).
 */
struct ushm_slot {
	uint32_t state;		/* SLOT_* */
	uint32_t seq;		/* id = seq * 32768 + index */
	int32_t key;		/* current key: 0 if private or removed */
	int32_t orig_key;	/* key at creation; names the file */
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;		/* 0777 perms | USHM_MODE_DEST | _LOCKED */
	uint32_t flags;		/* SEGF_* */
	uint64_t segsz;		/* size asked for, in bytes, unrounded */
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch;	/* sum of pieces of the attachment records */
	uint64_t pages;		/* ceil(segsz / 4096): charged to shm_tot */
	uint32_t creator;	/* creating thread's index + 1, 0: orphan */
	uint32_t creator_gen;	/* that thread entry's generation */
	uint32_t lock_uid;	/* user charged for SHM_LOCK */
	uint32_t att_head;	/* first attachment record + 1, 0: none */
	uint64_t ino;		/* inode of the segment file */
	uint64_t pad;
};

/* Key index entry: open addressing, linear probing on hash(key). */
#define KEYENT_EMPTY		0u
#define KEYENT_TOMB		0xffffffffu
struct ushm_keyent {
	int32_t key;
	uint32_t ref;		/* slot index + 1, or KEYENT_EMPTY/_TOMB */
};

/* Task states. */
enum {
	TASK_FREE = 0,
	TASK_LIVE,		/* a registered process; holds its lock byte */
	TASK_EMBRYO,		/* made by a forking parent for its child */
};

/*
 * A process using the namespace.  It holds an exclusive OFD lock on byte
 * <index> of the namespace's lock file for as long as it lives: the kernel
 * drops the lock when the process exits, is killed or execs, which is how
 * any other process learns that it is gone.  That takes a system call to
 * ask; `live` answers most of the time without one: a thread of the
 * process holds that robust mutex, and the kernel marks its owner dead in
 * the futex word when the thread ends (task.c).  96 bytes.
 */
struct ushm_task {
	uint32_t state;		/* TASK_* */
	uint32_t gen;		/* bumped each time the entry is reused */
	int32_t pid;		/* 0 for an embryo until its child runs */
	uint32_t natt;		/* attachment records it owns */
	int64_t since;		/* when it registered (seconds) */
	uint32_t parent;	/* embryo: the forking task's index + 1 */
	uint32_t pad;
	pthread_mutex_t live;	/* held by a thread of the task */
	uint64_t pad2[3];
};

/* Attachment records: in ushm_att.shmflg besides SHM_RDONLY/SHM_EXEC, a
 * shmat still under way (counted while it maps, do_shmat's nattch++). */
#define ATT_PENDING		0x80000000u

/* Attachment record states. */
enum {
	ATT_FREE = 0,
	ATT_LIVE,
};

/*
 * One attachment of one segment by one task: the VMAs of one shmat.
 * Linked into its slot's list.  48 bytes.
 */
struct ushm_att {
	uint32_t state;		/* ATT_* */
	uint32_t task;		/* task index */
	uint32_t slot;		/* slot index */
	uint32_t seq;		/* the slot's seq when attached */
	uint64_t addr;		/* where it is mapped, in the task */
	uint64_t len;		/* mapping length */
	uint32_t pieces;	/* mapping pieces it counts for in nattch */
	uint32_t shmflg;	/* SHM_RDONLY, SHM_EXEC */
	uint32_t next, prev;	/* slot's list, record index + 1 */
};

/* Thread entry states. */
enum {
	THREAD_FREE = 0,
	THREAD_LIVE,
};

/*
 * A thread that created segments: the kernel remembers a segment's
 * creating thread (shm_creator), and with shm_rmid_forced its exit
 * destroys what it created and nobody has attached.  The thread holds
 * `live`, a robust mutex, from registration until it ends: the kernel
 * marks a robust mutex's owner dead when the owning thread exits or
 * execs, which is how others learn of it, with no system call (a
 * trylock that gets EOWNERDEAD).  64 bytes.
 */
struct ushm_thread {
	pthread_mutex_t live;	/* held by the thread while it lives */
	uint32_t state;		/* THREAD_* (protected by hdr->lock) */
	uint32_t gen;		/* bumped at each reuse */
	int32_t tid;
	uint32_t pad[3];
};

/* Journal of a commit that must be finished by recovery if its writer
 * dies after making the slot LIVE (see shm.c, create_commit). */
enum {
	INTENT_NONE = 0,
	INTENT_CREATE,
	INTENT_FILE,		/* making slot's file (segfile.c) */
	INTENT_SET,		/* IPC_SET of slot (ctl.c) */
};
struct ushm_intent {
	uint32_t op;
	uint32_t slot;
	int32_t next_idx, last_idx;	/* CREATE: allocator state to install */
	uint32_t seq;			/* CREATE: new seq; SET: slot's seq */
	int32_t next_id;		/* CREATE: shm_next_id to install */
	uint32_t uid, gid, mode;	/* SET: what to install */
	uint32_t pad;
	int64_t ctime;			/* SET */
};

struct ushm_hdr {
	/* Geometry: written before the file is published, then read-only. */
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t file_size;
	uint32_t nslots, nkeyidx, ntasks, natts;
	uint64_t off_slots, off_keyidx, off_tasks, off_atts, off_threads;
	uint32_t nthreads, pad2;
	uint32_t shared;	/* made for several users (mode 0666) */
	uint32_t pad0;

	/* Protects everything below, and every table entry. */
	pthread_mutex_t lock;

	/* Sequence counter for lock-free readers (see top of file). */
	uint64_t gen;

	/* Limits, as /proc/sys/kernel/shm* of an IPC namespace. */
	uint64_t shmmax;
	uint64_t shmall;	/* pages */
	uint32_t shmmni;
	int32_t rmid_forced;
	int32_t next_id;	/* -1: use the cyclic allocator */
	/* The thread holding `lock`: written by it right after it takes the
	 * lock, cleared right before it lets go (registry.c).  Only for
	 * telling an owner that does not exist from a slow one; the lock
	 * itself never reads it. */
	int32_t lock_tid;

	/* Derived counters: recomputed from the slots by recovery. */
	uint32_t in_use;	/* slots not FREE */
	int32_t max_idx;	/* highest slot not FREE, -1 if none */
	uint64_t shm_tot;	/* sum of pages of slots not FREE */
	uint64_t reserved;	/* sum of mapping lengths of those that
				 * reserve (not SHM_NORESERVE or hugetlb):
				 * what the file system must be able to
				 * hold for their pages (shm.c) */

	/* The kernel's cyclic id allocator (ipc_idr_alloc). */
	int32_t next_idx;
	int32_t last_idx;
	uint32_t seq;
	uint32_t keyidx_tombs;	/* tombstones in the key index */

	/* Table use. */
	uint32_t task_hwm;	/* tasks [0, task_hwm) have been used */
	uint32_t att_hwm;	/* records [0, att_hwm) have been used */
	uint32_t att_alloc;	/* records whose pages are allocated */
	uint32_t att_hint;	/* where to look for a free record */
	uint32_t thread_hwm;	/* threads [0, thread_hwm) have been used */
	uint32_t pad3;

	uint64_t destroyed;	/* segments destroyed, ever */
	uint64_t recoveries;	/* times a dead lock owner was repaired */
	struct ushm_intent intent;
};

/*
 * The geometry, fixed by the layout version: where each table starts.
 * The header repeats it (checked at open); the library itself always
 * uses these constants, never the header's copy, which any user of a
 * shared namespace could rewrite later.
 */
#define USHM_OFF_SLOTS		USHM_PAGE
#define USHM_OFF_KEYIDX		(USHM_OFF_SLOTS + (uint64_t)USHM_SLOTS * \
				 sizeof(struct ushm_slot))
#define USHM_OFF_TASKS		(USHM_OFF_KEYIDX + (uint64_t)USHM_KEYIDX * \
				 sizeof(struct ushm_keyent))
#define USHM_OFF_ATTS		(USHM_OFF_TASKS + (uint64_t)USHM_TASKS * \
				 sizeof(struct ushm_task))
#define USHM_OFF_THREADS	(USHM_OFF_ATTS + (uint64_t)USHM_ATTS * \
				 sizeof(struct ushm_att))
#define USHM_FILE_SIZE		(USHM_OFF_THREADS + (uint64_t)USHM_THREADS * \
				 sizeof(struct ushm_thread))

_Static_assert(sizeof(struct ushm_slot) == 128, "slot size");
/* What a lookup by key reads (state .. segsz): one cache line of a
 * 128-byte-aligned slot. */
#define USHM_SLOT_HEAD	48
_Static_assert(__builtin_offsetof(struct ushm_slot, segsz) + 8 ==
	       USHM_SLOT_HEAD, "slot head");
_Static_assert(sizeof(struct ushm_task) == 96, "task size");
_Static_assert(sizeof(struct ushm_att) == 48, "att size");
_Static_assert(sizeof(struct ushm_thread) == 64, "thread size");
_Static_assert(sizeof(struct ushm_hdr) <= USHM_PAGE, "header size");

#endif
