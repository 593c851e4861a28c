/*
 * worker.c - a torture worker: random ushm operations on a shared
 * namespace, each written down in the shared table (torture.h) so that
 * the supervisor can tell what the living hold.
 *
 * The worker is killed at random instants, or dies at the crash point it
 * was armed with.  When asked to stop, it finishes the operation under
 * way and waits to be killed, holding its attachments, so that the
 * supervisor can compare what the namespace shows with what it holds.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "torture.h"

static struct tshared *sh;
static struct wslot *me;
static uint64_t rng;

unsigned hold_pieces(unsigned mask)
{
	unsigned n = 0;

	for (int i = 0; i < T_SEGPAGES; i++)
		if ((mask >> i & 1) && (i == 0 || !(mask >> (i - 1) & 1)))
			n++;
	return n;
}

/* Stores the supervisor reads after our death: in program order. */
#define PUBLISH(lhs, v) __atomic_store_n(&(lhs), (v), __ATOMIC_RELEASE)

__attribute__((format(printf, 1, 2)))
static void bad(const char *fmt, ...)
{
	va_list ap;

	if (!me->bad++) {
		va_start(ap, fmt);
		vsnprintf(me->badmsg, sizeof(me->badmsg), fmt, ap);
		va_end(ap);
	}
}

static void set_op(const char *op)
{
	strncpy(me->op, op, sizeof(me->op) - 1);
}

static int pick_known(void)
{
	uint32_t n = __atomic_load_n(&sh->nknown, __ATOMIC_ACQUIRE);
	int idp1;

	if (n > T_MAXIDS)
		n = T_MAXIDS;
	if (!n)
		return -1;
	idp1 = __atomic_load_n(&sh->known[rng_below(&rng, n)].idp1,
			       __ATOMIC_ACQUIRE);
	return idp1 - 1;
}

static void add_known(int id, int key)
{
	uint32_t n = __atomic_load_n(&sh->nknown, __ATOMIC_ACQUIRE), i;

	if (n > T_MAXIDS)
		n = T_MAXIDS;
	for (i = 0; i < n; i++)		/* a duplicate now and then is fine */
		if (__atomic_load_n(&sh->known[i].idp1, __ATOMIC_RELAXED) ==
		    id + 1)
			return;
	i = __atomic_fetch_add(&sh->nknown, 1, __ATOMIC_ACQ_REL);

	if (i < T_MAXIDS) {
		sh->known[i].key = key;
		PUBLISH(sh->known[i].idp1, id + 1);
	}
}

static void add_removed(int id)
{
	uint32_t i = __atomic_fetch_add(&sh->nremoved, 1, __ATOMIC_ACQ_REL);

	if (i < T_MAXIDS)
		PUBLISH(sh->removed_p1[i], id + 1);
}

static unsigned my_pieces(int id)
{
	unsigned n = 0;

	for (int i = 0; i < me->nhold; i++)
		if (me->hold[i].id == id)
			n += hold_pieces(me->hold[i].mask);
	return n;
}

static void hold_remove(int i)
{
	me->hold[i] = me->hold[me->nhold - 1];
	PUBLISH(me->nhold, me->nhold - 1);
}

/* ---- operations ---- */

static void op_get(bool private)
{
	int key = private ? IPC_PRIVATE
			  : T_KEYBASE + (int)rng_below(&rng, T_NKEYS);
	int flg = IPC_CREAT | 0600, id;
	uint32_t live = sh->nknown - sh->nremoved;

	if (private && (live > T_MAXLIVE || sh->nknown >= T_MAXIDS - 64))
		return;
	if (!private && rng_below(&rng, 8) == 0)
		flg |= IPC_EXCL;
	set_op(private ? "create" : "get");
	me->pend_key = key;
	PUBLISH(me->pend, PEND_CREATE);
	id = ushm_shmget(key, T_SEGPAGES * PAGE, flg);
	if (id >= 0)
		add_known(id, key);
	else if (errno != EEXIST)
		bad("shmget(%#x): %s (%s)", key, strerror(errno),
		    ushm_strerror());
	PUBLISH(me->pend, PEND_NONE);
}

static void op_attach(void)
{
	int id = pick_known(), flg = rng_below(&rng, 4) ? 0 : SHM_RDONLY;
	char *p;

	if (id < 0 || me->nhold >= T_MAXHOLD)
		return;
	set_op("attach");
	p = ushm_shmat(id, NULL, flg);
	if (p == (void *)-1) {
		if (errno != EINVAL && errno != EIDRM)
			bad("shmat(%d): %s (%s)", id, strerror(errno),
			    ushm_strerror());
		return;
	}
	me->hold[me->nhold].id = id;
	me->hold[me->nhold].mask = (1u << T_SEGPAGES) - 1;
	me->hold[me->nhold].addr = p;
	PUBLISH(me->nhold, me->nhold + 1);
	if (!flg)
		p[0]++;			/* pages are really there */
	else
		(void)*(volatile char *)p;
}

static void op_detach(void)
{
	int i;

	if (!me->nhold)
		return;
	set_op("detach");
	i = (int)rng_below(&rng, (uint32_t)me->nhold);
	if (ushm_shmdt(me->hold[i].addr) < 0)
		bad("shmdt: %s", strerror(errno));
	hold_remove(i);
}

static void op_munmap(void)
{
	int i, pg;
	struct hold *hd;

	if (!me->nhold)
		return;
	set_op("munmap");
	i = (int)rng_below(&rng, (uint32_t)me->nhold);
	hd = &me->hold[i];
	pg = (int)rng_below(&rng, T_SEGPAGES);
	if (!(hd->mask >> pg & 1))
		return;
	if (munmap(hd->addr + (size_t)pg * PAGE, PAGE) < 0)
		bad("munmap: %s", strerror(errno));
	PUBLISH(hd->mask, hd->mask & ~(1u << pg));
	if (!hd->mask)
		hold_remove(i);
}

static void op_rmid(void)
{
	int id = pick_known();

	if (id < 0)
		return;
	set_op("rmid");
	me->pend_id = id;
	PUBLISH(me->pend, PEND_RMID);
	if (ushm_shmctl(id, IPC_RMID, NULL) == 0)
		add_removed(id);
	else if (errno != EINVAL && errno != EIDRM)
		bad("IPC_RMID %d: %s", id, strerror(errno));
	PUBLISH(me->pend, PEND_NONE);
}

/* The living never see fewer attachments than they hold themselves. */
static void op_stat(void)
{
	int id = pick_known();
	struct shmid_ds ds;

	if (id < 0)
		return;
	set_op("stat");
	if (ushm_shmctl(id, IPC_STAT, &ds) == 0) {
		if (ds.shm_nattch < my_pieces(id))
			bad("IPC_STAT %d: nattch %lu, but this worker alone "
			    "holds %u", id, (unsigned long)ds.shm_nattch,
			    my_pieces(id));
	} else if (errno != EINVAL && errno != EIDRM) {
		bad("IPC_STAT %d: %s", id, strerror(errno));
	}
}

/* A child inherits the attachments (counted) and leaves in some way. */
static void op_fork(void)
{
	pid_t pid;
	int st;

	set_op("fork");
	pid = fork();
	if (pid < 0) {
		bad("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		die_with_parent();
		switch (rng_below(&rng, 5)) {
		case 0:
			exit(0);	/* detaches in the library's destructor */
		case 1:
			_exit(0);	/* left for reaping */
		case 2:
			die_now();
		case 3:
			if (me->nhold)
				ushm_shmdt(me->hold[0].addr);
			_exit(0);
		default:
			if (me->nhold && (me->hold[0].mask & 2))
				munmap(me->hold[0].addr + PAGE, PAGE);
			exit(0);
		}
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(st) ? WTERMSIG(st) != SIGKILL : WEXITSTATUS(st))
		bad("forked child ended with status %#x", st);
}

static void op_lock(void)
{
	int id = pick_known();

	if (id < 0)
		return;
	set_op("lock");
	if (ushm_shmctl(id, rng_below(&rng, 2) ? SHM_LOCK : SHM_UNLOCK,
			NULL) < 0 && errno != EINVAL && errno != EIDRM)
		bad("SHM_LOCK %d: %s", id, strerror(errno));
}

/* Limits that change nothing the model depends on, and this round's
 * shm_rmid_forced again (1 destroys the orphans at once). */
static void op_limits(void)
{
	static const char *const mni[] = { "4096", "3000", "32000" };
	char v[16];
	int r;

	set_op("limits");
	switch (rng_below(&rng, 3)) {
	case 0:
		r = ushm_limit_set("shmmni", mni[rng_below(&rng, 3)]);
		break;
	case 1:
		r = ushm_limit_set("shmall", "1000000000");
		break;
	default:
		snprintf(v, sizeof(v), "%d", sh->rmid_forced);
		r = ushm_limit_set("shm_rmid_forced", v);
		break;
	}
	if (r < 0)
		bad("ushm_limit_set: %s", strerror(errno));
}

static void op_info(void)
{
	struct shm_info si;
	struct shmid_ds ds;
	int max;

	set_op("info");
	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	for (int i = 0; i <= max && i < 128; i++)
		ushm_shmctl(i, SHM_STAT, &ds);
}

static void stop_here(void)
{
	set_op("stopped");
	PUBLISH(me->stopped, 1);
	for (;;)
		pause();
}

void worker_main(struct tshared *shared, int i, uint64_t seed, int armed)
{
	sh = shared;
	me = &sh->w[i];
	rng = seed | 1;
	crash_log_to(NULL, me->last);
	crash_log_mute(&sh->mute);
	if (armed) {
		uint32_t known = __atomic_load_n(&crash_names->n,
						 __ATOMIC_ACQUIRE);
		const char *name = "*";
		long n;

		if (known > CRASH_NAMES_MAX)
			known = CRASH_NAMES_MAX;
		if (known && rng_below(&rng, 10) < 7) {
			uint32_t p = rng_below(&rng, known);

			if (__atomic_load_n(&crash_names->ready[p],
					    __ATOMIC_ACQUIRE))
				name = crash_names->name[p];
		}
		n = 1 + (long)rng_below(&rng, strcmp(name, "*") ? 3 : 40);
		ushm__crash_arm(name, n);
	}
	for (;;) {
		uint32_t r;

		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
			stop_here();
		r = rng_below(&rng, 100);
		if (r < 15)
			op_get(false);
		else if (r < 20)
			op_get(true);
		else if (r < 35)
			op_attach();
		else if (r < 45)
			op_detach();
		else if (r < 55)
			op_munmap();
		else if (r < 63)
			op_rmid();
		else if (r < 73)
			op_stat();
		else if (r < 80)
			op_fork();
		else if (r < 86)
			op_lock();
		else if (r < 90)
			op_limits();
		else if (r < 95)
			op_info();
		else {
			set_op("reap");
			ushm_reap();
		}
		PUBLISH(me->ops, me->ops + 1);
	}
}
