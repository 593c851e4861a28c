/*
 * torture.h - what the torture's supervisor (torture.c) and its workers
 * (worker.c) share: one MAP_SHARED | MAP_ANONYMOUS table made before the
 * first fork, so that it outlives every worker.
 *
 * A worker writes down what it holds and what it did: each attachment
 * with the pages still mapped (its pieces, as the kernel counts VMAs),
 * the ids it learnt from shmget, the ids it removed.  An operation whose
 * outcome a sudden death would leave unknown (a creation, a removal) is
 * noted as pending before the call and cleared after its result is
 * written down; a worker killed in between leaves the supervisor an
 * uncertainty, which it allows for in both directions.
 */
#ifndef USHM_CRASH_TORTURE_H
#define USHM_CRASH_TORTURE_H

#include "crash.h"

#define T_MAXW		8
#define T_MAXHOLD	24
#define T_MAXIDS	16384
#define T_NKEYS		8
#define T_KEYBASE	0x7d000000
#define T_SEGPAGES	4
#define T_MAXLIVE	40	/* segments a round may have at once, about */

enum { PEND_NONE, PEND_CREATE, PEND_RMID };

struct hold {
	int id;
	unsigned mask;		/* bit i: page i still mapped */
	char *addr;
};

struct wslot {
	pid_t pid;		/* 0: no worker */
	int stopped;		/* the worker waits to be killed */
	int pend, pend_key, pend_id;
	int nhold;
	struct hold hold[T_MAXHOLD];
	uint64_t ops;		/* operations finished */
	int bad;		/* results no kernel would give */
	char badmsg[160];
	char op[16];		/* the operation under way */
	char last[NAME_LEN];	/* the last crash point passed */
};

struct tshared {
	int stop;		/* workers: finish the operation, then wait */
	int mute;		/* crash points no longer kill */
	int rmid_forced;	/* this round's shm_rmid_forced */
	uint32_t nknown;
	struct {
		int idp1;	/* id + 1; 0 until written */
		int key;
	} known[T_MAXIDS];
	uint32_t nremoved;
	int removed_p1[T_MAXIDS];
	struct wslot w[T_MAXW];
};

/* The worker's main loop; never returns. */
void worker_main(struct tshared *sh, int i, uint64_t seed, int armed)
	__attribute__((noreturn));

/* Pieces of an attachment: runs of mapped pages (shm VMAs never merge). */
unsigned hold_pieces(unsigned mask);

#endif
