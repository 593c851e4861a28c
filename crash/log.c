/*
 * log.c - notes the crash points a process passes.
 *
 * The library's hook (src/crashpoint.c) kills a process at the Nth point
 * but cannot say which point that was.  The link wraps it, so every
 * CRASH_POINT() comes here first: the name is written to memory shared
 * with the supervising process (which outlives the victim) and then the
 * real hook runs, and maybe kills.  So after a death the supervisor
 * knows the exact point, and a report can name it.
 */
#include <string.h>

#include "crash.h"

/* The names of the crash points seen so far, by any process: learnt
 * rather than listed, so that new points join the torture by themselves. */
struct crash_names *crash_names;

void crash_names_init(void)
{
	crash_names = shared_alloc(sizeof(*crash_names));
}

static void learn(const char *name)
{
	uint32_t n = __atomic_load_n(&crash_names->n, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n && i < CRASH_NAMES_MAX; i++)
		if (!strncmp(crash_names->name[i], name, NAME_LEN - 1))
			return;
	/* Two processes may both add a new name: a duplicate is harmless. */
	n = __atomic_fetch_add(&crash_names->n, 1, __ATOMIC_ACQ_REL);
	if (n < CRASH_NAMES_MAX) {
		strncpy(crash_names->name[n], name, NAME_LEN - 1);
		__atomic_store_n(&crash_names->ready[n], 1, __ATOMIC_RELEASE);
	}
}

static struct crash_log *log_all;
static char *log_last;
static const int *log_mute;

/* Start noting into LOG (every name) and LAST (the latest); NULL for
 * neither.  Inherited by fork, like the library's arming. */
void crash_log_to(struct crash_log *log, char *last)
{
	log_all = log;
	log_last = last;
}

void crash_log_mute(const int *mute)
{
	log_mute = mute;
}

void __wrap_ushm__crash_point(const char *name)
{
	if (crash_names)
		learn(name);
	if (log_all) {
		uint32_t i = __atomic_fetch_add(&log_all->n, 1,
						__ATOMIC_RELAXED);

		if (i < log_all->cap)
			strncpy(log_all->names[i], name, NAME_LEN - 1);
	}
	if (log_last) {
		strncpy(log_last, name, NAME_LEN - 1);
		log_last[NAME_LEN - 1] = '\0';
	}
	/* The name is in shared memory before the hook may kill us. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (log_mute && __atomic_load_n(log_mute, __ATOMIC_RELAXED))
		return;
	__real_ushm__crash_point(name);
}
