/*
 * points.h - the operations `ushm-crash points` crashes inside, and the
 * context they run in (scenarios.c), for the runner (points.c).
 *
 * Each operation runs in a victim process V, forked by a runner process
 * R that owns a fresh namespace.  R prepares (creates segments, starts
 * helper processes H that hold attachments), V sets itself up (attaches),
 * R does what must come between (IPC_RMID), then V arms the crash hook
 * and runs the operation.  V ends by SIGKILL: at the armed crash point,
 * or right after the operation, or (for the reference "before") right
 * before it.
 */
#ifndef USHM_CRASH_POINTS_H
#define USHM_CRASH_POINTS_H

#include "crash.h"

#define KEY_A	0x7c000001
#define KEY_B	0x7c000002
#define KEY_C	0x7c000003
#define KEY_D	0x7c000004

struct ctx {
	int id[4];		/* segments R made */
	char *p[4];		/* V's attachments */
	int hold_fd;		/* read end nobody writes: helpers block on it */
	int hold_wr;		/* its write end, held by R alone: at R's end
				 * the helpers read EOF and go */
	int msg_fd;		/* write end: V and its children tell R things */
	struct roles *roles;	/* R's pid names */
	pid_t helper[8];	/* R's helpers, killed at the end */
	int nhelpers;
	int gdead;		/* fork reference: the child dies at once */
};

/* Scenario flags. */
#define S_FORK		0x1	/* the operation forks a child G */
#define S_RECOVER	0x2	/* a first victim W dies before V runs */

struct scenario {
	const char *name;
	void (*prep)(struct ctx *);	/* in R, first */
	void (*vsetup)(struct ctx *);	/* in V, before arming */
	void (*mid)(struct ctx *);	/* in R, after V's setup */
	void (*op)(struct ctx *);	/* in V, armed */
	int flags;
	/* S_RECOVER: after prep, W (forked by R) runs wsetup, then wop
	 * armed to die at its k-th crash point, for each k in turn; V's
	 * operation then finds the lock's owner dead and recovers. */
	void (*wsetup)(struct ctx *);
	void (*wop)(struct ctx *);
};

extern const struct scenario scenarios[];
extern const size_t nscenarios;

/* For scenarios.c: fail the setup of a run (in any process). */
void setup_fail(const char *what) __attribute__((noreturn));

#endif
