/*
 * sem_harness.c - recording and waiting helpers of the semaphore suite
 * (see semops.h).  Everything else (traces, pids by name, children and
 * their pipes, credentials) is the shm harness's, ../diff.c.
 */
#include "semops.h"

#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#define AWAIT_MS 5000

static const char *errname(int e)
{
	const char *s = e ? strerrorname_np(e) : "0";

	return s ? s : "E?";
}

static void msleep1(void)
{
	struct timespec ts = { 0, 1000000L };

	nanosleep(&ts, NULL);
}

void rec_sems(const struct sem_ops *o, const char *label, int id, int n)
{
	for (int i = 0; i < n; i++) {
		int v, p, nc, zc;

		errno = 0;
		v = o->ctl(id, i, GETVAL);
		p = o->ctl(id, i, GETPID);
		nc = o->ctl(id, i, GETNCNT);
		zc = o->ctl(id, i, GETZCNT);
		if (v == -1 || p == -1 || nc == -1 || zc == -1) {
			rec("%s[%d]: -1 %s", label, i, errname(errno));
			continue;
		}
		rec("%s[%d]: val %d pid %s ncnt %d zcnt %d", label, i, v,
		    diff_pid_name(p), nc, zc);
	}
}

long long x_val(const char *file, int line, const struct sem_ops *o,
		const char *label, int id, int num, long long want)
{
	errno = 0;
	return x_ret(file, line, label, o->ctl(id, num, GETVAL), XM_EQ, want);
}

void x_all(const char *file, int line, const struct sem_ops *o,
	   const char *label, int id, int n, const unsigned short *want)
{
	unsigned short v[64];
	char buf[512];
	size_t off = 0;
	int r;

	CHECK(n > 0 && n <= 64);
	memset(v, 0xa5, sizeof(v));
	errno = 0;
	r = o->ctl(id, 0, GETALL, (union semun){ .array = v });
	if (r == -1) {
		rec("%s: GETALL -1 %s", label, errname(errno));
		if (diff_kernel_run && want)
			diff_expect_fail(file, line, "%s: GETALL failed",
					 label);
		return;
	}
	for (int i = 0; i < n; i++)
		off += snprintf(buf + off, sizeof(buf) - off, " %u", v[i]);
	rec("%s: GETALL %d:%s", label, r, buf);
	for (int i = 0; diff_kernel_run && want && i < n; i++)
		if (v[i] != want[i])
			diff_expect_fail(file, line, "%s: want value %u at "
					 "%d, got %u", label, want[i], i, v[i]);
}

int rec_semstat(const struct sem_ops *o, const char *label, int id, int cmd,
		struct semid_ds *out)
{
	struct semid_ds ds;
	int r, e;

	memset(&ds, 0xa5, sizeof(ds));
	errno = 0;
	r = o->ctl(id, 0, cmd, (union semun){ .buf = &ds });
	e = errno;
	rec_ret(label, r);
	if (r != -1) {
		const struct ipc_perm *p = &ds.sem_perm;

		rec("%s.key: 0x%08x", label, (unsigned)p->__key);
		rec("%s.mode: %05o", label, (unsigned)p->mode);
		rec("%s.uid: %u gid: %u", label, p->uid, p->gid);
		rec("%s.cuid: %u cgid: %u", label, p->cuid, p->cgid);
		rec("%s.seq: %u", label, p->__seq);
		rec("%s.nsems: %lu", label, (unsigned long)ds.sem_nsems);
		rec_time(L("%s.otime", label), ds.sem_otime);
		rec_time(L("%s.ctime", label), ds.sem_ctime);
		if (p->__pad2 || p->__glibc_reserved1 ||
		    p->__glibc_reserved2 || ds.__sem_otime_high ||
		    ds.__sem_ctime_high || ds.__glibc_reserved3 ||
		    ds.__glibc_reserved4)
			rec("%s.reserved: not zero", label);
		else
			rec("%s.reserved: 0", label);
	} else {
		memset(&ds, 0, sizeof(ds));
	}
	if (out)
		*out = ds;
	errno = e;
	return r;
}

int rec_seminfo(const struct sem_ops *o, const char *label, int id, int cmd,
		struct seminfo *out)
{
	struct seminfo in;
	int r, e;

	memset(&in, 0xa5, sizeof(in));
	errno = 0;
	r = o->ctl(id, 0, cmd, (union semun){ .__buf = &in });
	e = errno;
	rec_ret(label, r);
	if (r != -1) {
		rec("%s: semmap %d semmni %d semmns %d semmnu %d", label,
		    in.semmap, in.semmni, in.semmns, in.semmnu);
		rec("%s: semmsl %d semopm %d semume %d semusz %d", label,
		    in.semmsl, in.semopm, in.semume, in.semusz);
		rec("%s: semvmx %d semaem %d", label, in.semvmx, in.semaem);
	} else {
		memset(&in, 0, sizeof(in));
	}
	if (out)
		*out = in;
	errno = e;
	return r;
}

int rec_sem_limit(const struct sem_ops *o, const char *name, char *out,
		  size_t len)
{
	char buf[128] = "";
	int r;

	errno = 0;
	r = o->get_limit_text(name, buf, sizeof(buf));
	if (r == -1)
		rec_ret(L("limit %s", name), r);
	else
		rec("limit %s: %s", name, buf);
	if (out)
		snprintf(out, len, "%s", r == -1 ? "" : buf);
	return r;
}

int rec_set_sem_limit(const struct sem_ops *o, const char *name,
		      const char *text)
{
	errno = 0;
	return rec_ret(L("set %s=%s", name, text),
		       o->set_limit_text(name, text));
}

/* ---- waiting ---- */

void sem_await(const struct sem_ops *o, int id, int num, int cmd, int want)
{
	int v = -1;

	for (int ms = 0; ms < AWAIT_MS; ms++) {
		v = o->ctl(id, num, cmd);
		if (v == want)
			return;
		msleep1();
	}
	test_fail(__FILE__, __LINE__, "%s of sem %d of id %d: %d, not %d "
		  "after %d ms", cmd == GETNCNT ? "GETNCNT" : "GETZCNT", num,
		  id, v, want, AWAIT_MS);
}

int sem_sleepers(const struct sem_ops *o, int id, int n)
{
	int sum = 0;

	for (int i = 0; i < n; i++) {
		int a = o->ctl(id, i, GETNCNT), b = o->ctl(id, i, GETZCNT);

		if (a < 0 || b < 0)
			return -1;
		sum += a + b;
	}
	return sum;
}

void sem_await_sleepers(const struct sem_ops *o, int id, int n, int want)
{
	int v = -1;

	for (int ms = 0; ms < AWAIT_MS; ms++) {
		v = sem_sleepers(o, id, n);
		if (v == want)
			return;
		msleep1();
	}
	test_fail(__FILE__, __LINE__, "sleepers on id %d: %d, not %d after "
		  "%d ms", id, v, want, AWAIT_MS);
}

/* ---- children ---- */

int sem_spawn(const struct sem_ops *o, int id, const struct sembuf *sops,
	      size_t nsops, const struct timespec *timeout)
{
	struct sembuf copy[64];
	int n, r;

	CHECK(nsops <= 64);
	memcpy(copy, sops, nsops * sizeof(*sops));
	n = diff_fork();
	if (n)
		return n;
	errno = 0;
	if (timeout)
		r = o->timedop(id, copy, nsops, timeout);
	else
		r = o->op(id, copy, nsops);
	to_parent(r == -1 ? -errno : r);
	from_parent();
	diff_exit();
}

int sem_spawn_sleeper(const struct sem_ops *o, int id, int nsems,
		      const struct sembuf *sops, size_t nsops)
{
	int before = sem_sleepers(o, id, nsems);
	int n;

	CHECK(before >= 0);
	n = sem_spawn(o, id, sops, nsops, NULL);
	sem_await_sleepers(o, id, nsems, before + 1);
	return n;
}

static void rec_code(const char *label, int code)
{
	if (code == INT_MIN)
		rec("%s: no report", label);
	else if (code < 0)
		rec("%s: -1 %s", label, errname(-code));
	else
		rec("%s: %d", label, code);
}

int rec_report(const char *label, int n)
{
	int code = from_child(n);

	rec_code(label, code);
	if (code < 0 && code != INT_MIN) {
		errno = -code;
		return -1;
	}
	return code;
}

void sem_release(int n)
{
	to_child(n, 0);
	diff_wait(n);
}

/* Poll the children of KIDS not yet in GOT for reports, up to the
 * deadline; store the codes. */
static int poll_reports(const int *kids, int nk, unsigned *got, int *codes,
			int want)
{
	int have = __builtin_popcount(*got);

	for (int ms = 0; have < want && ms < AWAIT_MS; ms++) {
		struct pollfd p[32];
		int idx[32], np = 0;

		for (int i = 0; i < nk && np < 32; i++) {
			if (*got & (1u << i))
				continue;
			p[np].fd = diff_child_fd(kids[i]);
			p[np].events = POLLIN;
			idx[np++] = i;
		}
		if (poll(p, np, 1) <= 0)
			continue;
		for (int j = 0; j < np; j++) {
			if (!(p[j].revents & (POLLIN | POLLHUP)))
				continue;
			codes[idx[j]] = from_child(kids[idx[j]]);
			*got |= 1u << idx[j];
			have++;
		}
	}
	return have;
}

unsigned sem_collect(const char *label, const int *kids, int nk, int want)
{
	int codes[32];
	unsigned got = 0;
	int have;

	CHECK(nk <= 32);
	have = poll_reports(kids, nk, &got, codes, want);
	if (have != want)
		test_fail(__FILE__, __LINE__, "%s: %d of %d reports after "
			  "%d ms", label, have, want, AWAIT_MS);
	for (int i = 0; i < nk; i++)
		if (got & (1u << i))
			rec_code(L("%s: child#%d", label, kids[i]), codes[i]);
	return got;
}

int sem_next_report(const char *label, const int *kids, int nk)
{
	unsigned got = sem_collect(label, kids, nk, 1);

	return __builtin_ctz(got);
}

void sem_drop_caps(const struct sem_ops *o, unsigned long long mask)
{
	diff_set_caps(~mask, o->creds_changed);
}

struct semid_ds sem_set_buf(uid_t uid, gid_t gid, int mode)
{
	struct semid_ds ds;

	memset(&ds, 0, sizeof(ds));
	ds.sem_perm.uid = uid;
	ds.sem_perm.gid = gid;
	ds.sem_perm.mode = mode;
	return ds;
}

void *sem_bad_ptr(void)
{
	static void *p;

	if (!p) {
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		CHECK(p != MAP_FAILED);
	}
	return p;
}
