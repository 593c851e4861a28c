/*
 * semlayout.h - the semaphore registry file: <namespace>/sem, one per
 * namespace beside the shm registry, mapped MAP_SHARED by every process
 * that uses semaphores.  It plays the part of the kernel's sem_ids (the
 * id table and key index), of every sem_array with its sems, sem_queues
 * and sem_undos.  Processes (tasks) and their liveness stay in the shm
 * registry's task table and lock file (task.c): waiters and undo records
 * name a task by index and generation.
 *
 *   offset 0              struct ushm_semhdr (one page)
 *   USHM_SOFF_SETS        struct ushm_semset[USHM_SEM_SETS]   ~ sem_array
 *   USHM_SOFF_KEYIDX      struct ushm_keyent[USHM_KEYIDX]     ~ key hash
 *   USHM_SOFF_WAITERS     struct ushm_semwait[USHM_SEM_WAITERS] ~ sem_queue
 *   USHM_SOFF_UNDOS       struct ushm_semundo[USHM_SEM_UNDOS] ~ sem_undo
 *   USHM_SOFF_POOLMAP     one bit per pool block (64 bytes), 1 = in use
 *   USHM_SOFF_POOL        the pool, 16-byte units: the semaphores of
 *                         each set, its journal, the adjustments of each
 *                         undo record; sparse (a range is allocated in
 *                         the file system when a set or record takes it)
 *
 * Locking (details in sem.c):
 *   hdr.lock    robust process-shared mutex, the table lock: creation
 *               and removal of sets, the allocator, the key index, the
 *               limits, used_sems, the pool bitmap and the undo table.
 *   set.lock    robust process-shared mutex, one per set: every field of
 *               the set below perm.state, its semaphores, its journal,
 *               its waiters' queue links and status words, and the
 *               adjustments of its undo records.
 *   Order: hdr.lock, then one set's lock; never two sets at once.
 *   hdr.gen     sequence counter of the table: made odd by hdr.lock's
 *               holder around changes of perm fields and key index
 *               entries.
 *   set.vgen    sequence counter of one set, for lock-free GETVAL and
 *               IPC_STAT: odd around every change of its perm fields,
 *               state, values, otimes and undo list.
 * Waiter records are claimed and released with compare-and-swap on their
 * state (no lock): FREE -> OWNED by the sleeping thread, which links it
 * into its set's queue under the set's lock.
 *
 * All integers are in the machine's byte order.
 */
#ifndef USHM_SEMLAYOUT_H
#define USHM_SEMLAYOUT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/sem.h>

#include "ipc.h"
#include "layout.h"

#define USHM_SEM_MAGIC		0x4d45534d48535575ULL	/* "uUSHMSEM" */
#define USHM_SEM_VERSION	1

#define USHM_SEM_SETS		32768		/* IPCMNI */
#define USHM_SEM_WAITERS	4096		/* threads asleep at once */
#define USHM_SEM_UNDOS		32768		/* (task, set) undo records */
#define USHM_SEM_WAIT_SOPS	64		/* sops kept in a waiter */
#define USHM_POOL_UNITS		(1u << 22)	/* 16-byte units: 64 MiB */
#define USHM_POOL_BLOCK		4		/* units per bitmap bit */
#define USHM_POOL_BLOCKS	(USHM_POOL_UNITS / USHM_POOL_BLOCK)

/* Kernel values (include/uapi/linux/sem.h, ipc/sem.c). */
#define USHM_SEMMSL		32000
#define USHM_SEMMNS		1024000000
#define USHM_SEMOPM		500
#define USHM_SEMMNI		32000
#define USHM_SEMVMX		32767
#define USHM_SEMAEM		32767
#define USHM_SEMMAP		1024000000
#define USHM_SEMMNU		1024000000
#define USHM_SEMUME		500
#define USHM_SEMUSZ		20
#define USHM_SEMMNI_MAX		32768		/* IPCMNI */

/* One semaphore (~struct sem).  Protected by its set's lock. */
struct ushm_sem {
	int32_t semval;
	int32_t sempid;
	int64_t otime;		/* of the last semop on it; 0 never */
};

/*
 * A journal entry: what a change does to one semaphore, written before
 * the change is applied (sem.c, "Crash safety").  16 bytes.
 */
struct ushm_semjrn {
	uint32_t num;		/* semaphore */
	int32_t val;		/* new semval */
	int32_t pid;		/* new sempid; 0: unchanged */
	int16_t adj;		/* new semadj in the journal's undo record */
	uint16_t flags;		/* JRN_ADJ: adj applies */
};
#define JRN_ADJ			0x1

/* Journal states (ushm_semset.jstate). */
enum {
	JRN_NONE = 0,
	JRN_WRITING,		/* being written: dropped by recovery */
	JRN_COMPLETE,		/* complete: applied (again) by recovery */
};

/*
 * One set (~sem_array): the generic part first.  perm.state and the
 * perm fields are written under hdr.lock (with hdr.gen odd); IPC_SET
 * also holds the set's lock.  The rest is the set lock's.  256 bytes.
 */
struct ushm_semset {
	struct ushm_perm perm;
	uint32_t nsems;		/* fixed while the set is LIVE */
	uint32_t sems_off;	/* pool unit of sems[0] */
	uint32_t jrn_off;	/* pool unit of the journal: nsems entries */
	uint32_t units;		/* pool units of sems + journal */
	pthread_mutex_t lock;	/* the set lock (see top of file) */
	uint32_t q_head, q_tail;	/* waiters, arrival order: idx + 1 */
	uint32_t undo_head;	/* undo records of the set: idx + 1 */
	uint32_t vgen;		/* sequence counter of this set for the
				 * lock-free GETVAL and IPC_STAT: odd
				 * while its lock's holder (or a creator
				 * of the set) changes what they read */
	/* The journal of the change under way (JRN_*). */
	uint32_t jstate;
	uint32_t jcount;	/* entries */
	uint32_t jundo;		/* undo record + 1 whose adj it sets, 0 */
	uint32_t jwaiter;	/* waiter + 1 it completes, 0 */
	int32_t jstatus;	/* that waiter's result */
	uint32_t jotime_num;	/* the semaphore whose otime it sets */
	int64_t jotime;		/* that otime, 0: none */
	uint64_t arrivals;	/* waiters ever queued: their order */
	/* The thread holding `lock`, as it says itself (semfile.c): only
	 * for telling an owner that does not exist from a slow one. */
	int32_t lock_tid;
	uint32_t pad2;
	uint64_t pad[11];
};

/* Waiter states. */
enum {
	SW_FREE = 0,
	SW_OWNED,		/* claimed by a thread, not queued */
	SW_QUEUED,		/* in its set's queue */
	SW_DONE,		/* status written by a waker or RMID */
};
#define SW_BUSY			1	/* status while no result yet */

/* ushm_semwait.futex: the waker exchanges it with FW_DONE and issues
 * FUTEX_WAKE only if it was FW_ASLEEP. */
enum {
	FW_QUEUED = 0,		/* no result yet, the sleeper awake */
	FW_DONE = 1,		/* status written */
	FW_ASLEEP = 2,		/* no result yet, the sleeper in FUTEX_WAIT */
};

/*
 * One sleeping semop (~sem_queue).  state moves by compare-and-swap; the
 * other fields are written by the owner before it queues the record and
 * then, while SW_QUEUED, under the set's lock (blocking, status, futex,
 * the links).  512 bytes.
 */
struct ushm_semwait {
	uint32_t state;		/* SW_* */
	uint32_t task, task_gen;	/* the sleeper's task */
	int32_t pid;		/* its tgid: the sempid it sets */
	uint32_t set, seq;	/* the set it sleeps on */
	uint32_t next, prev;	/* the set's queue: idx + 1 */
	uint32_t nsops;
	uint32_t alter;		/* some sop has sem_op != 0 */
	uint32_t blocking;	/* index of the sop it blocks on */
	int32_t status;		/* SW_BUSY, 0 or -errno */
	uint32_t futex;		/* FW_*: the word the sleeper waits on */
	uint32_t undo;		/* its undo record + 1 (SEM_UNDO), 0 */
	int32_t tid;		/* the sleeping thread */
	uint64_t arrival;	/* its place in the queue */
	struct sembuf sops[USHM_SEM_WAIT_SOPS];
	uint8_t pad2[512 - 72 - USHM_SEM_WAIT_SOPS * 6];
};

/* Undo record states. */
enum {
	SU_FREE = 0,
	SU_LIVE,
	SU_APPLIED,		/* its dead task's undo was applied; freed
				 * by the next holder of both locks */
};

/*
 * The adjustments of one task for one set (~sem_undo).  Allocated and
 * freed under hdr.lock and the set's lock; adj values under the set's
 * lock.  32 bytes.
 */
struct ushm_semundo {
	uint32_t state;		/* SU_* */
	uint32_t task, task_gen;
	int32_t pid;		/* the task's tgid: sempid at exit */
	uint32_t set, seq;
	uint32_t next;		/* the set's list: idx + 1 */
	uint32_t adj_off;	/* pool unit of int16_t adj[nsems] */
};

/* Creation journal of the table (hdr.intent), as the shm registry's. */
struct ushm_semintent {
	uint32_t op;		/* INTENT_NONE or INTENT_CREATE */
	uint32_t slot;
	struct ushm_ids_alloc alloc;	/* allocator state to install */
};

struct ushm_semhdr {
	/* Geometry: written before the file is published, then read-only. */
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t file_size;
	uint32_t nsets, nkeyidx, nwaiters, nundos;
	uint32_t pool_units, pool_block;
	uint64_t off_sets, off_keyidx, off_waiters, off_undos;
	uint64_t off_poolmap, off_pool;
	uint32_t shared;
	uint32_t pad0;

	/* The table lock (see top of file). */
	pthread_mutex_t lock;
	int32_t lock_tid;	/* its holder, as ushm_semset.lock_tid */
	uint32_t pad1;

	/* Sequence counter for lock-free readers. */
	uint64_t gen;

	/* Limits, as /proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI. */
	int32_t semmsl, semmns, semopm, semmni;

	/* The id allocator, in_use, max_idx and sem_next_id (ipc.c). */
	struct ushm_ids ids;
	int64_t used_sems;	/* sum of nsems of sets not FREE */
	uint32_t pool_hint;	/* where to look for free blocks */
	uint32_t undo_hint;
	uint64_t recoveries;
	struct ushm_semintent intent;
};

#define USHM_SOFF_SETS		USHM_PAGE
#define USHM_SOFF_KEYIDX	(USHM_SOFF_SETS + (uint64_t)USHM_SEM_SETS * \
				 sizeof(struct ushm_semset))
#define USHM_SOFF_WAITERS	(USHM_SOFF_KEYIDX + (uint64_t)USHM_KEYIDX * \
				 sizeof(struct ushm_keyent))
#define USHM_SOFF_UNDOS		(USHM_SOFF_WAITERS + \
				 (uint64_t)USHM_SEM_WAITERS * \
				 sizeof(struct ushm_semwait))
#define USHM_SOFF_POOLMAP	(USHM_SOFF_UNDOS + (uint64_t)USHM_SEM_UNDOS * \
				 sizeof(struct ushm_semundo))
#define USHM_SOFF_POOL		(USHM_SOFF_POOLMAP + USHM_POOL_BLOCKS / 8)
#define USHM_SEM_FILE_SIZE	(USHM_SOFF_POOL + \
				 (uint64_t)USHM_POOL_UNITS * 16)

_Static_assert(sizeof(struct ushm_sem) == 16, "sem size");
_Static_assert(sizeof(struct ushm_semjrn) == 16, "journal entry size");
_Static_assert(sizeof(struct ushm_semset) == 256, "set size");
_Static_assert(sizeof(struct ushm_semwait) == 512, "waiter size");
_Static_assert(sizeof(struct ushm_semundo) == 32, "undo size");
_Static_assert(sizeof(struct ushm_semhdr) <= USHM_PAGE, "sem header size");
_Static_assert(USHM_SOFF_POOL % USHM_PAGE == 0, "pool alignment");

#endif
