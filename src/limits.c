/*
 * limits.c - the namespace's sysctls (ipc/ipc_sysctl.c): shmmax, shmall,
 * shmmni, shm_rmid_forced and shm_next_id, and sem and sem_next_id (kept
 * in the semaphore registry, under its table lock), read and written as
 * the text of /proc/sys/kernel/<name>.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seminternal.h"
#include "ushm.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

enum lim { L_SHMMAX, L_SHMALL, L_SHMMNI, L_RMID_FORCED, L_NEXT_ID,
	   L_SEM, L_SEM_NEXT_ID, L_N };
static const char *const lim_names[L_N] = {
	"shmmax", "shmall", "shmmni", "shm_rmid_forced", "shm_next_id",
	"sem", "sem_next_id",
};

static int lim_find(const char *name)
{
	for (int i = 0; name && i < L_N; i++)
		if (!strcmp(name, lim_names[i]))
			return i;
	return -1;
}

/* The namespace, and in *L the limit NAME names; NULL with errno (and a
 * message for an unknown name) otherwise. */
static struct ushm_ns *limit_ns(const char *name, int *l)
{
	struct ushm_ns *ns;
	int err = 0;

	ushm__clearerr();
	if ((*l = lim_find(name)) < 0) {
		ushm__seterr("no limit named %s", name ? name : "(null)");
		errno = ENOENT;
		return NULL;
	}
	if (!(ns = ushm__ns(&err)))
		errno = -err;
	return ns;
}

static int parse(const char *text, bool *neg, unsigned long long *v);

/* ---- the semaphore limits, in the semaphore registry ---- */

static int sem_get(int l, char *buf, size_t len)
{
	struct ushm_semns *sn;
	struct ushm_semhdr *h;
	int r;

	if ((r = ushm__semns(&sn)) != 0)
		return errno = -r, -1;
	h = sn->h;
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return errno = -r, -1;
	if (l == L_SEM)
		r = snprintf(buf, len, "%d\t%d\t%d\t%d", h->semmsl, h->semmns,
			     h->semopm, h->semmni);
	else
		r = snprintf(buf, len, "%d", h->ids.a.next_id);
	ushm__sem_table_unlock(sn);
	if (r < 0 || (size_t)r >= len)
		return errno = ERANGE, -1;
	return 0;
}

/* One integer of proc_dointvec: blanks, an optional sign, a number in C
 * notation, then a blank or the end.  0 (and *P past it), 1 at the end,
 * or -EINVAL. */
static int next_int(const char **p, int *out)
{
	const char *q = *p;
	unsigned long long v;
	char *end;
	bool neg;

	while (isspace((unsigned char)*q))
		q++;
	if (!*q)
		return 1;
	neg = *q == '-';
	if (*q == '-' || *q == '+')
		q++;
	if (!isdigit((unsigned char)*q))
		return -EINVAL;
	errno = 0;
	v = strtoull(q, &end, 0);
	if (errno || (*end && !isspace((unsigned char)*end)) ||
	    v > (neg ? (unsigned long long)INT_MAX + 1 : INT_MAX))
		return -EINVAL;
	*out = neg ? (int)(0 - v) : (int)v;
	*p = end;
	return 0;
}

/* proc_ipc_sem_dointvec: up to four numbers, each stored as it is read;
 * SEMMNI is put back when anything failed or it is outside 0..IPCMNI
 * (ERANGE), the others stay (S-SEM 11.2-11.3). */
static int sem_set_locked(struct ushm_semhdr *h, const char *text)
{
	int32_t *v[4] = { &h->semmsl, &h->semmns, &h->semopm, &h->semmni };
	int32_t semmni = h->semmni;
	const char *p = text;
	int i, r = 0, x;

	for (i = 0; i < 4; i++) {
		r = next_int(&p, &x);
		if (r)
			break;
		*v[i] = x;
	}
	if (r == 1)
		r = i ? 0 : -EINVAL;
	if (!r && (h->semmni < 0 || h->semmni > USHM_SEMMNI_MAX))
		r = -ERANGE;
	if (r)
		h->semmni = semmni;
	return r;
}

static int sem_set(int l, const char *text)
{
	unsigned long long v;
	struct ushm_semns *sn;
	bool neg;
	int r;

	if (l == L_SEM_NEXT_ID &&
	    (!text || parse(text, &neg, &v) || neg || v > INT_MAX))
		return errno = EINVAL, -1;
	if (!text)
		return errno = EINVAL, -1;
	if ((r = ushm__semns(&sn)) != 0)
		return errno = -r, -1;
	if ((r = ushm__sem_table_lock(sn)) != 0)
		return errno = -r, -1;
	if (l == L_SEM)
		r = sem_set_locked(sn->h, text);
	else
		sn->h->ids.a.next_id = (int32_t)v;
	ushm__sem_table_unlock(sn);
	return r ? (errno = -r, -1) : 0;
}

int ushm_limit_get(const char *name, char *buf, size_t len)
{
	struct ushm_ns *ns;
	struct ushm_hdr *h;
	int l, n = 0;

	if (!(ns = limit_ns(name, &l)))
		return -1;
	if (l == L_SEM || l == L_SEM_NEXT_ID)
		return sem_get(l, buf, len);
	h = ns->hdr;
	switch (l) {
	case L_SHMMAX:
		n = snprintf(buf, len, "%llu", (unsigned long long)
			     __atomic_load_n(&h->shmmax, __ATOMIC_RELAXED));
		break;
	case L_SHMALL:
		n = snprintf(buf, len, "%llu", (unsigned long long)
			     __atomic_load_n(&h->shmall, __ATOMIC_RELAXED));
		break;
	case L_SHMMNI:
		n = snprintf(buf, len, "%u",
			     __atomic_load_n(&h->shmmni, __ATOMIC_RELAXED));
		break;
	case L_RMID_FORCED:
		n = snprintf(buf, len, "%d", __atomic_load_n(&h->rmid_forced,
							      __ATOMIC_RELAXED));
		break;
	case L_NEXT_ID:
		n = snprintf(buf, len, "%d",
			     __atomic_load_n(&h->next_id, __ATOMIC_RELAXED));
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

/* proc_get_long(): optional blanks, an optional sign, a number in C
 * notation (base 0), optional trailing blanks.  Anything else: EINVAL. */
static int parse(const char *text, bool *neg, unsigned long long *v)
{
	const char *p = text;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	*neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*v = strtoull(p, &end, 0);
	if (errno)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -EINVAL : 0;
}

/* Root owns /proc/sys/kernel; a namespace's owner owns its own.
 * shm_next_id (mode 0444) needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE
 * (SEMANTICS 1.18). */
static int may_set(const struct ushm_ns *ns, int l)
{
	const struct ushm_cred *c = ushm__cred();

	if (c->euid != 0 && c->euid != ns->owner)
		return -EACCES;
	if ((l == L_NEXT_ID || l == L_SEM_NEXT_ID) &&
	    !ushm__capable(CAP_SYS_ADMIN) &&
	    !ushm__capable(CAP_CHECKPOINT_RESTORE))
		return -EACCES;
	return 0;
}

int ushm_limit_may_set(const char *name)
{
	struct ushm_ns *ns;
	int l, r;

	if (!(ns = limit_ns(name, &l)))
		return -1;
	if ((r = may_set(ns, l)) != 0)
		return errno = -r, -1;
	return 0;
}

int ushm_limit_set(const char *name, const char *text)
{
	unsigned long long v;
	struct ushm_ns *ns;
	struct ushm_hdr *h;
	int l, r;
	bool neg;

	if (!(ns = limit_ns(name, &l)))
		return -1;
	if ((r = may_set(ns, l)) != 0)
		return errno = -r, -1;
	if (l == L_SEM || l == L_SEM_NEXT_ID)
		return sem_set(l, text);
	if (!text || parse(text, &neg, &v))
		return errno = EINVAL, -1;
	switch (l) {
	case L_SHMMAX:
	case L_SHMALL:
		if (neg && v)
			return errno = EINVAL, -1;
		break;
	case L_SHMMNI:
		if (neg || v > USHM_MAX_SHMMNI)
			return errno = EINVAL, -1;
		break;
	case L_RMID_FORCED:
		if (neg || v > 1)
			return errno = EINVAL, -1;
		break;
	case L_NEXT_ID:
		if (neg || v > INT_MAX)
			return errno = EINVAL, -1;
		break;
	}
	h = ns->hdr;
	if ((r = ushm__lock(ns)) != 0)
		return errno = -r, -1;
	ushm__wbegin(h);
	switch (l) {
	case L_SHMMAX: h->shmmax = v; break;
	case L_SHMALL: h->shmall = v; break;
	case L_SHMMNI: h->shmmni = (uint32_t)v; break;
	case L_RMID_FORCED: h->rmid_forced = (int32_t)v; break;
	case L_NEXT_ID: h->next_id = (int32_t)v; break;
	}
	CRASH_POINT("limit.set");
	ushm__wend(h);
	/* shm_destroy_orphaned(): writing 1 destroys, at once, the orphans
	 * nobody has attached (SEMANTICS 6.8). */
	if (l == L_RMID_FORCED && v == 1) {
		ushm__reap_all_locked(ns);
		ushm__orphans_locked(ns, -1);
	}
	ushm__unlock(ns);
	return 0;
}
