/*
 * sem_ops.c - the two semaphore implementations the suite compares.
 *
 * The kernel's: the libc calls, in a private IPC namespace, limits in
 * /proc/sys/kernel/sem and sem_next_id.  The other side is ushm's calls in
 * a fresh namespace directory, or, built with -DSEM_SELFTEST, the
 * kernel's again in an IPC namespace of its own, to validate the
 * scenarios while ushm has no semaphores.
 */
#include "semops.h"

#include <sys/shm.h>

#include "ushm.h"

static int k_set_text(const char *name, const char *text)
{
	return diff_kernel_ops.set_limit_text(name, text);
}

static int k_get_text(const char *name, char *buf, size_t len)
{
	return diff_kernel_ops.get_limit_text(name, buf, len);
}

static void k_creds_changed(void)
{
}

const struct sem_ops sem_kernel_ops = {
	.name = "kernel",
	.get = semget,
	.op = semop,
	.timedop = semtimedop,
	.ctl = semctl,
	.shmget = shmget,
	.enter = test_kernel_ns,
	.set_limit_text = k_set_text,
	.get_limit_text = k_get_text,
	.creds_changed = k_creds_changed,
	.is_kernel = 1,
};

#ifdef SEM_SELFTEST
const struct sem_ops sem_ushm_ops = {
	.name = "kernel-again",
	.get = semget,
	.op = semop,
	.timedop = semtimedop,
	.ctl = semctl,
	.shmget = shmget,
	.enter = test_kernel_ns,
	.set_limit_text = k_set_text,
	.get_limit_text = k_get_text,
	.creds_changed = k_creds_changed,
	.is_kernel = 0,
};
#else
static void u_enter(void)
{
	test_namespace(1);
}

const struct sem_ops sem_ushm_ops = {
	.name = "ushm",
	.get = ushm_semget,
	.op = ushm_semop,
	.timedop = ushm_semtimedop,
	.ctl = ushm_semctl,
	.shmget = ushm_shmget,
	.enter = u_enter,
	.set_limit_text = ushm_limit_set,
	.get_limit_text = ushm_limit_get,
	.creds_changed = ushm_credentials_changed,
	.is_kernel = 0,
};
#endif

static void (*sem_scenario)(const struct sem_ops *o);

static void trampoline(const void *ops)
{
	sem_scenario(ops);
}

void sem_run(const char *name, void (*scenario)(const struct sem_ops *o))
{
	const struct diff_side side[2] = {
		{ sem_kernel_ops.name, 1, sem_kernel_ops.enter,
		  &sem_kernel_ops },
		{ sem_ushm_ops.name, 0, sem_ushm_ops.enter, &sem_ushm_ops },
	};

	sem_scenario = scenario;
	diff_run_sides(name, side, trampoline);
}
