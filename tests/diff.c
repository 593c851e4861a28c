/*
 * diff.c - the differential test harness (see diff.h).
 *
 * diff_run() maps one MAP_SHARED area holding both traces, the table of
 * pids (index 0 is the scenario's main process, N the child "child#N")
 * and the kernel's contradictions of the spec, then forks the kernel run
 * and the ushm run one after the other and compares their traces.
 */
#include "diff.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ushm.h"

#define TRACE_MAX (4UL << 20)
#define MAX_PIDS 128
#define VIOL_MAX 8192

struct trace {
	size_t len;		/* may exceed TRACE_MAX: then truncated */
	char buf[TRACE_MAX];
};

struct shared {
	struct trace tr[2];	/* kernel, ushm */
	int npids;		/* entries of pids[] in use */
	pid_t pids[MAX_PIDS];
	int child_fail;		/* children that exited non-zero */
	int nviol;
	size_t viol_len;
	char viol[VIOL_MAX];
};

static struct shared *sh;
static struct trace *cur;
static time_t run_start;	/* time() when this run began */
int diff_kernel_run;

/* ---- the two implementations ---- */

static int limit_unsigned(const char *name)
{
	return !strcmp(name, "shmmax") || !strcmp(name, "shmall");
}

static int k_set_limit_text(const char *name, const char *text)
{
	char path[128], buf[80];
	int fd, n, e;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	n = snprintf(buf, sizeof(buf), "%s\n", text);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int k_get_limit_text(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Numbers over text, the same way for both implementations. */
static int set_num(int (*set)(const char *, const char *), const char *name,
		   long long v)
{
	char text[32];

	if (limit_unsigned(name))
		snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	else
		snprintf(text, sizeof(text), "%lld", v);
	return set(name, text);
}

static int get_num(int (*get)(const char *, char *, size_t), const char *name,
		   long long *v)
{
	char text[64];

	if (get(name, text, sizeof(text)) != 0)
		return -1;
	if (limit_unsigned(name))
		*v = (long long)strtoull(text, NULL, 10);
	else
		*v = strtoll(text, NULL, 10);
	return 0;
}

static int k_set_limit(const char *name, long long v)
{
	return set_num(k_set_limit_text, name, v);
}

static int k_get_limit(const char *name, long long *v)
{
	return get_num(k_get_limit_text, name, v);
}

static void k_creds_changed(void)
{
}

const struct shm_ops diff_kernel_ops = {
	.name = "kernel",
	.get = shmget,
	.at = shmat,
	.dt = shmdt,
	.ctl = shmctl,
	.enter = test_kernel_ns,
	.set_limit = k_set_limit,
	.get_limit = k_get_limit,
	.set_limit_text = k_set_limit_text,
	.get_limit_text = k_get_limit_text,
	.creds_changed = k_creds_changed,
	.is_kernel = 1,
};

static void u_enter(void)
{
	test_namespace(1);
}

static int u_set_limit(const char *name, long long v)
{
	return set_num(ushm_limit_set, name, v);
}

static int u_get_limit(const char *name, long long *v)
{
	return get_num(ushm_limit_get, name, v);
}

const struct shm_ops diff_ushm_ops = {
	.name = "ushm",
	.get = ushm_shmget,
	.at = ushm_shmat,
	.dt = ushm_shmdt,
	.ctl = ushm_shmctl,
	.enter = u_enter,
	.set_limit = u_set_limit,
	.get_limit = u_get_limit,
	.set_limit_text = ushm_limit_set,
	.get_limit_text = ushm_limit_get,
	.creds_changed = ushm_credentials_changed,
	.is_kernel = 0,
};

/* ---- small helpers ---- */

static const char *ename(int e)
{
	static char buf[4][16];
	static int i;
	const char *s = e ? strerrorname_np(e) : "0";

	if (s)
		return s;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "E#%d", e);
	return buf[i];
}

const char *L(const char *fmt, ...)
{
	static char buf[8][256];
	static int i;
	int saved = errno;
	va_list ap;

	i = (i + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(buf[i], sizeof(buf[i]), fmt, ap);
	va_end(ap);
	errno = saved;
	return buf[i];
}

/* ---- recording ---- */

void rec(const char *fmt, ...)
{
	char line[512];
	int saved = errno;
	size_t n, off;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = len < 0 ? 0 : (size_t)len;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	off = __atomic_fetch_add(&cur->len, n, __ATOMIC_SEQ_CST);
	if (off + n <= TRACE_MAX)
		memcpy(cur->buf + off, line, n);
	errno = saved;
}

long long rec_ret(const char *label, long long r)
{
	int e = errno;

	if (r == -1)
		rec("%s: -1 %s", label, ename(e));
	else
		rec("%s: %lld", label, r);
	errno = e;
	return r;
}

void *rec_at(const char *label, void *p, const void *want)
{
	int e = errno;

	if (p == (void *)-1)
		rec("%s: -1 %s", label, ename(e));
	else if (p == NULL)
		rec("%s: NULL", label);
	else if (want && p == want)
		rec("%s: requested address", label);
	else if ((uintptr_t)p % PAGE)
		rec("%s: unaligned address", label);
	else
		rec("%s: page-aligned address", label);
	errno = e;
	return p;
}

const char *diff_pid_name(pid_t pid)
{
	static char buf[8][24];
	static int k;

	if (pid == 0)
		return "0";
	for (int i = 0; i < sh->npids && i < MAX_PIDS; i++) {
		if (sh->pids[i] != pid)
			continue;
		if (i == 0)
			return "main";
		k = (k + 1) % 8;
		snprintf(buf[k], sizeof(buf[k]), "child#%d", i);
		return buf[k];
	}
	return "unknown";
}

void rec_pid(const char *label, pid_t pid)
{
	rec("%s: %s", label, diff_pid_name(pid));
}

void rec_time(const char *label, time_t t)
{
	time_t now = time(NULL);

	/* "now": set during this run (which lasts a few seconds), with a
	 * second of slack for clocks read at a tick */
	if (t == 0)
		rec("%s: 0", label);
	else if (t >= run_start - 1 && t <= now + 1)
		rec("%s: now", label);
	else
		rec("%s: %s", label, t < now ? "past" : "future");
}

void rec_cmp(const char *label, long long a, long long b)
{
	rec("%s: %s", label, a < b ? "<" : a == b ? "=" : ">");
}

static void rec_ds(const char *label, const struct shmid_ds *ds)
{
	const struct ipc_perm *p = &ds->shm_perm;

	rec("%s.key: 0x%08x", label, (unsigned)p->__key);
	rec("%s.mode: %05o", label, (unsigned)p->mode);
	rec("%s.uid: %u gid: %u", label, p->uid, p->gid);
	rec("%s.cuid: %u cgid: %u", label, p->cuid, p->cgid);
	rec("%s.seq: %u", label, p->__seq);
	rec("%s.segsz: %zu", label, ds->shm_segsz);
	rec_time(L("%s.atime", label), ds->shm_atime);
	rec_time(L("%s.dtime", label), ds->shm_dtime);
	rec_time(L("%s.ctime", label), ds->shm_ctime);
	rec("%s.cpid: %s", label, diff_pid_name(ds->shm_cpid));
	rec("%s.lpid: %s", label, diff_pid_name(ds->shm_lpid));
	rec("%s.nattch: %lu", label, (unsigned long)ds->shm_nattch);
	if (p->__pad2 || p->__glibc_reserved1 || p->__glibc_reserved2 ||
	    ds->__glibc_reserved5 || ds->__glibc_reserved6)
		rec("%s.reserved: not zero (%x %lx %lx %lx %lx)", label,
		    p->__pad2, p->__glibc_reserved1, p->__glibc_reserved2,
		    ds->__glibc_reserved5, ds->__glibc_reserved6);
	else
		rec("%s.reserved: 0", label);
}

int rec_stat(const struct shm_ops *o, const char *label, int id, int cmd,
	     struct shmid_ds *out)
{
	struct shmid_ds ds;
	int r, e;

	memset(&ds, 0xa5, sizeof(ds));
	errno = 0;
	r = o->ctl(id, cmd, &ds);
	e = errno;
	rec_ret(label, r);
	if (r != -1)
		rec_ds(label, &ds);
	else
		memset(&ds, 0, sizeof(ds));
	if (out)
		*out = ds;
	errno = e;
	return r;
}

int rec_ipc_info(const struct shm_ops *o, const char *label, int id,
		 struct shminfo *out)
{
	struct shminfo in;
	int r, e;

	memset(&in, 0xa5, sizeof(in));
	errno = 0;
	r = o->ctl(id, IPC_INFO, (struct shmid_ds *)&in);
	e = errno;
	rec_ret(label, r);
	if (r != -1) {
		rec("%s.shmmax: %lu", label, in.shmmax);
		rec("%s.shmmin: %lu", label, in.shmmin);
		rec("%s.shmmni: %lu", label, in.shmmni);
		rec("%s.shmseg: %lu", label, in.shmseg);
		rec("%s.shmall: %lu", label, in.shmall);
		rec("%s.reserved: %s", label,
		    in.__glibc_reserved1 || in.__glibc_reserved2 ||
		    in.__glibc_reserved3 || in.__glibc_reserved4 ?
		    "not zero" : "0");
	} else {
		memset(&in, 0, sizeof(in));
	}
	if (out)
		*out = in;
	errno = e;
	return r;
}

int rec_shm_info(const struct shm_ops *o, const char *label, int id,
		 struct shm_info *out)
{
	struct shm_info in;
	int r, e;

	memset(&in, 0xa5, sizeof(in));
	errno = 0;
	r = o->ctl(id, SHM_INFO, (struct shmid_ds *)&in);
	e = errno;
	rec_ret(label, r);
	if (r != -1) {
		rec("%s.used_ids: %d", label, in.used_ids);
		rec("%s.shm_tot: %lu", label, in.shm_tot);
		rec("%s.shm_rss: %lu", label, in.shm_rss);
		rec("%s.shm_swp: %lu", label, in.shm_swp);
		rec("%s.swap_attempts: %lu successes: %lu", label,
		    in.swap_attempts, in.swap_successes);
	} else {
		memset(&in, 0, sizeof(in));
	}
	if (out)
		*out = in;
	errno = e;
	return r;
}

int rec_limit(const struct shm_ops *o, const char *name, long long *out)
{
	long long v = 0;
	int r;

	errno = 0;
	r = o->get_limit(name, &v);
	if (r == -1)
		rec_ret(L("limit %s", name), r);
	else if (limit_unsigned(name))
		rec("limit %s: %llu", name, (unsigned long long)v);
	else
		rec("limit %s: %lld", name, v);
	if (out)
		*out = v;
	return r;
}

int rec_set_limit(const struct shm_ops *o, const char *name, long long v)
{
	int r;

	errno = 0;
	r = o->set_limit(name, v);
	if (limit_unsigned(name))
		rec_ret(L("set %s=%llu", name, (unsigned long long)v), r);
	else
		rec_ret(L("set %s=%lld", name, v), r);
	return r;
}

int rec_maps(const char *label, const void *addr)
{
	unsigned long a = (unsigned long)addr, s, e, off;
	char line[512], perms[8], name[16];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	CHECK(f != NULL);
	while (!found && fgets(line, sizeof(line), f)) {
		int pos = 0;
		char *path, *base;

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*u %n", &s, &e, perms,
			   &off, &pos) < 4 || a < s || a >= e)
			continue;
		found = 1;
		path = line + pos;
		path[strcspn(path, "\n")] = 0;
		base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (!*path)
			snprintf(name, sizeof(name), "anon");
		else if (!strncmp(base, "SYSV", 4))
			snprintf(name, sizeof(name), "SYSV%.8s", base + 4);
		else
			snprintf(name, sizeof(name), "other");
		rec("%s: len=0x%lx perms=%s off=0x%lx name=%s", label, e - s,
		    perms, off, name);
	}
	fclose(f);
	if (!found)
		rec("%s: unmapped", label);
	return found;
}

int diff_count_maps(const void *addr, size_t len)
{
	unsigned long a = (unsigned long)addr, s, e;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int n = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < a + len &&
		    e > a)
			n++;
	fclose(f);
	return n;
}

/* ---- expectations ---- */

void diff_expect_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[600];
	size_t n, off;
	va_list ap;
	int saved = errno;
	int len;

	len = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(msg + len, sizeof(msg) - len - 1, fmt, ap);
	va_end(ap);
	n = strlen(msg);
	msg[n++] = '\n';
	__atomic_fetch_add(&sh->nviol, 1, __ATOMIC_SEQ_CST);
	off = __atomic_fetch_add(&sh->viol_len, n, __ATOMIC_SEQ_CST);
	if (off + n < VIOL_MAX)
		memcpy(sh->viol + off, msg, n);
	errno = saved;
}

long long x_ret(const char *file, int line, const char *label, long long r,
		int mode, long long want)
{
	int e = errno;

	rec_ret(label, r);
	if (!diff_kernel_run)
		goto out;
	switch (mode) {
	case XM_ERR:
		if (r != -1 || e != want)
			diff_expect_fail(file, line,
					 "%s: want -1 %s, got %lld %s",
					 label, ename((int)want), r,
					 r == -1 ? ename(e) : "");
		break;
	case XM_OK:
		if (r == -1)
			diff_expect_fail(file, line,
					 "%s: want success, got -1 %s", label,
					 ename(e));
		break;
	case XM_EQ:
		if (r != want)
			diff_expect_fail(file, line,
					 "%s: want %lld, got %lld %s",
					 label, want, r,
					 r == -1 ? ename(e) : "");
		break;
	}
out:
	errno = e;
	return r;
}

long long x_nattch(const char *file, int line, const struct shm_ops *o,
		   const char *label, int id, long long want)
{
	struct shmid_ds ds;
	long long n = -1;

	if (o->ctl(id, IPC_STAT, &ds) == -1) {
		rec("%s: IPC_STAT -1 %s", label, ename(errno));
	} else {
		n = ds.shm_nattch;
		rec("%s: nattch %lld", label, n);
	}
	if (diff_kernel_run && n != want)
		diff_expect_fail(file, line, "%s: want nattch %lld, got %lld",
				 label, want, n);
	return n;
}

void *x_at(const char *file, int line, const char *label, void *p,
	   int mode, const void *want, int err)
{
	int e = errno;

	rec_at(label, p, want);
	if (!diff_kernel_run)
		goto out;
	switch (mode) {
	case XM_ERR:
		if (p != (void *)-1 || e != err)
			diff_expect_fail(file, line,
					 "%s: want -1 %s, got %p %s",
					 label, ename(err), p,
					 p == (void *)-1 ? ename(e) : "");
		break;
	case XM_OK:
		if (p == (void *)-1 || (want && p != want))
			diff_expect_fail(file, line, "%s: want %p, got %p %s",
					 label, want, p,
					 p == (void *)-1 ? ename(e) : "");
		break;
	case XM_EQ:
		if (p != want)
			diff_expect_fail(file, line, "%s: want %p, got %p %s",
					 label, want, p,
					 p == (void *)-1 ? ename(e) : "");
		break;
	}
out:
	errno = e;
	return p;
}

/* ---- processes ---- */

struct kid {
	pid_t pid;
	int rd, wr;		/* from the child, to the child */
	int waited;
};

static struct kid kids[MAX_PIDS];	/* by child number */
static int up_rd = -1, up_wr = -1;	/* in a child: from/to its parent */

static void close_kid(struct kid *k)
{
	if (k->rd >= 0)
		close(k->rd);
	if (k->wr >= 0)
		close(k->wr);
	k->rd = k->wr = -1;
}

int diff_fork(void)
{
	int p2c[2], c2p[2], n;
	pid_t pid;

	CHECK(pipe2(p2c, O_CLOEXEC) == 0);
	CHECK(pipe2(c2p, O_CLOEXEC) == 0);
	n = __atomic_fetch_add(&sh->npids, 1, __ATOMIC_SEQ_CST);
	CHECK(n < MAX_PIDS);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		sh->pids[n] = getpid();
		for (int i = 0; i < MAX_PIDS; i++)
			if (kids[i].pid)
				close_kid(&kids[i]);
		memset(kids, 0, sizeof(kids));
		if (up_rd >= 0)
			close(up_rd);
		if (up_wr >= 0)
			close(up_wr);
		close(p2c[1]);
		close(c2p[0]);
		up_rd = p2c[0];
		up_wr = c2p[1];
		return 0;
	}
	sh->pids[n] = pid;
	close(p2c[0]);
	close(c2p[1]);
	kids[n] = (struct kid){ .pid = pid, .rd = c2p[0], .wr = p2c[1] };
	return n;
}

void diff_exit(void)
{
	fflush(NULL);
	_exit(0);
}

pid_t diff_child_pid(int n)
{
	CHECK(n > 0 && n < MAX_PIDS && kids[n].pid > 0);
	return kids[n].pid;
}

int diff_wait(int n)
{
	int st;

	CHECK(n > 0 && n < MAX_PIDS && kids[n].pid > 0 && !kids[n].waited);
	while (waitpid(kids[n].pid, &st, 0) < 0)
		CHECK(errno == EINTR);
	kids[n].waited = 1;
	close_kid(&kids[n]);
	if (WIFEXITED(st)) {
		/* non-zero: a CHECK failed in the child, the test is broken */
		if (WEXITSTATUS(st))
			__atomic_fetch_add(&sh->child_fail, 1,
					   __ATOMIC_SEQ_CST);
		rec("child#%d: exit %d", n, WEXITSTATUS(st));
	} else {
		rec("child#%d: signal %d", n, WTERMSIG(st));
	}
	return st;
}

static void reap_kids(void)
{
	for (int i = 0; i < MAX_PIDS; i++) {
		if (!kids[i].pid || kids[i].waited)
			continue;
		kill(kids[i].pid, SIGKILL);
		while (waitpid(kids[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		kids[i].waited = 1;
		close_kid(&kids[i]);
	}
}

static void put_int(int fd, int v)
{
	CHECK(fd >= 0);
	CHECK(write(fd, &v, sizeof(v)) == (ssize_t)sizeof(v));
}

static int get_int(int fd)
{
	size_t got = 0;
	int v;

	CHECK(fd >= 0);
	while (got < sizeof(v)) {
		ssize_t r = read(fd, (char *)&v + got, sizeof(v) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return INT_MIN;
		got += r;
	}
	return v;
}

void to_parent(int v)
{
	put_int(up_wr, v);
}

int from_parent(void)
{
	return get_int(up_rd);
}

void to_child(int n, int v)
{
	CHECK(n > 0 && n < MAX_PIDS);
	put_int(kids[n].wr, v);
}

int from_child(int n)
{
	CHECK(n > 0 && n < MAX_PIDS);
	return get_int(kids[n].rd);
}

int diff_child_fd(int n)
{
	CHECK(n > 0 && n < MAX_PIDS && kids[n].rd >= 0);
	return kids[n].rd;
}

void diff_child_fds(int *rd, int *wr)
{
	*rd = up_rd;
	*wr = up_wr;
}

/* ---- credentials ---- */

void diff_set_caps(unsigned long long keep, void (*changed)(void))
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct d[2];

	CHECK(syscall(SYS_capget, &h, d) == 0);
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		d[i].permitted &= k;
		d[i].effective = d[i].permitted;
		d[i].inheritable &= k;
	}
	CHECK(syscall(SYS_capset, &h, d) == 0);
	changed();
}

void diff_drop_caps(const struct shm_ops *o, unsigned long long mask)
{
	diff_set_caps(~mask, o->creds_changed);
}

void diff_keep_caps(const struct shm_ops *o, unsigned long long mask)
{
	diff_set_caps(mask, o->creds_changed);
}

void diff_become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	CHECK(setgroups(ngroups, groups) == 0);
	CHECK(setgid(gid) == 0);
	CHECK(setuid(uid) == 0);
}

/* ---- misc ---- */

struct shmid_ds diff_set_buf(uid_t uid, gid_t gid, int mode)
{
	struct shmid_ds ds;

	memset(&ds, 0, sizeof(ds));
	ds.shm_perm.uid = uid;
	ds.shm_perm.gid = gid;
	ds.shm_perm.mode = mode;
	return ds;
}

void diff_tick(void)
{
	time_t t0 = time(NULL);

	/* time() is the coarse clock, a tick behind CLOCK_REALTIME */
	while (time(NULL) == t0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (ts.tv_sec > t0)
			ts.tv_nsec = 1000000L;
		else
			ts.tv_nsec = 1000000000L - ts.tv_nsec + 1000000L;
		ts.tv_sec = 0;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		nanosleep(&ts, NULL);
	}
}

void *diff_addr(int n)
{
	/* below AddressSanitizer's heap at 0x600000000000 */
	return (void *)(0x500000000000UL + (unsigned long)n * 0x10000000UL);
}

void diff_fill(void *p, size_t len, int seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		c[i] = (unsigned char)(i * 31 + seed);
}

int diff_check_fill(const void *p, size_t len, int seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != (unsigned char)(i * 31 + seed))
			return 0;
	return 1;
}

int diff_all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return 0;
	return 1;
}

/* ---- running and comparing ---- */

static const char *line_at(const struct trace *t, size_t *pos, size_t *len)
{
	size_t end = t->len < TRACE_MAX ? t->len : TRACE_MAX;
	const char *s, *nl;

	if (*pos >= end)
		return NULL;
	s = t->buf + *pos;
	nl = memchr(s, '\n', end - *pos);
	*len = nl ? (size_t)(nl - s) : end - *pos;
	*pos += *len + 1;
	return s;
}

static void dump(const char *name, const struct trace *t)
{
	size_t pos = 0, len;
	const char *s;

	fprintf(stderr, "# ---- %s trace ----\n", name);
	while ((s = line_at(t, &pos, &len)) != NULL)
		fprintf(stderr, "#   %.*s\n", (int)len, s);
}

static void compare(const char *name)
{
	const struct trace *k = &sh->tr[0], *u = &sh->tr[1];
	size_t kp = 0, up = 0, kl = 0, ul = 0;
	const char *ks, *us, *ctx[3] = { 0 };
	size_t ctxl[3] = { 0 };
	int line = 0;

	for (;;) {
		ks = line_at(k, &kp, &kl);
		us = line_at(u, &up, &ul);
		line++;
		if (!ks && !us)
			return;
		if (ks && us && kl == ul && !memcmp(ks, us, kl)) {
			ctx[0] = ctx[1];
			ctxl[0] = ctxl[1];
			ctx[1] = ctx[2];
			ctxl[1] = ctxl[2];
			ctx[2] = ks;
			ctxl[2] = kl;
			continue;
		}
		break;
	}
	fprintf(stderr, "# %s: ushm differs from the kernel at trace line %d\n",
		name, line);
	for (int i = 0; i < 3; i++)
		if (ctx[i])
			fprintf(stderr, "#         %.*s\n", (int)ctxl[i],
				ctx[i]);
	fprintf(stderr, "# kernel: %.*s\n", ks ? (int)kl : 15,
		ks ? ks : "(end of trace)");
	fprintf(stderr, "# ushm:   %.*s\n", us ? (int)ul : 15,
		us ? us : "(end of trace)");
	test_fail(__FILE__, __LINE__, "%s: ushm differs from the kernel", name);
}

void diff_run_sides(const char *name, const struct diff_side side[2],
		    void (*scenario)(const void *ops))
{
	int status[2];

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(sh != MAP_FAILED);
	for (int i = 0; i < 2; i++) {
		pid_t pid;

		cur = &sh->tr[i];
		sh->npids = 1;
		diff_kernel_run = side[i].is_kernel;
		fflush(NULL);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			run_start = time(NULL);
			sh->pids[0] = getpid();
			side[i].enter();
			scenario(side[i].ops);
			reap_kids();
			fflush(NULL);
			_exit(0);
		}
		sh->pids[0] = pid;
		while (waitpid(pid, &status[i], 0) < 0)
			CHECK(errno == EINTR);
		if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0)
			rec("== end");
		else if (WIFEXITED(status[i]))
			rec("== run failed: exit %d", WEXITSTATUS(status[i]));
		else
			rec("== run failed: signal %d (%s)",
			    WTERMSIG(status[i]),
			    strsignal(WTERMSIG(status[i])));
		if (cur->len > TRACE_MAX)
			test_fail(__FILE__, __LINE__, "%s: %s trace overflow",
				  name, side[i].name);
	}
	if (getenv("USHM_DIFF_TRACE")) {
		dump(side[0].name, &sh->tr[0]);
		dump(side[1].name, &sh->tr[1]);
	}
	if (sh->nviol) {
		fprintf(stderr, "# %s: the kernel contradicts SEMANTICS.md "
			"(%d time(s)):\n", name, sh->nviol);
		fprintf(stderr, "%.*s", (int)(sh->viol_len < VIOL_MAX ?
					      sh->viol_len : VIOL_MAX),
			sh->viol);
		test_fail(__FILE__, __LINE__, "%s: kernel contradicts the spec",
			  name);
	}
	if (sh->child_fail) {
		dump("kernel", &sh->tr[0]);
		dump("ushm", &sh->tr[1]);
		test_fail(__FILE__, __LINE__, "%s: a scenario child failed "
			  "(see its message above)", name);
	}
	if (!WIFEXITED(status[0]) || WEXITSTATUS(status[0]) != 0) {
		dump("kernel", &sh->tr[0]);
		test_fail(__FILE__, __LINE__, "%s: the kernel run failed",
			  name);
	}
	compare(name);
	munmap(sh, sizeof(*sh));
}

/* The shm suite's scenarios through the generic runner. */
static void (*shm_scenario)(const struct shm_ops *o);

static void shm_trampoline(const void *ops)
{
	shm_scenario(ops);
}

void diff_run(const char *name, void (*scenario)(const struct shm_ops *o))
{
	const struct diff_side side[2] = {
		{ "kernel", 1, diff_kernel_ops.enter, &diff_kernel_ops },
		{ "ushm", 0, diff_ushm_ops.enter, &diff_ushm_ops },
	};

	shm_scenario = scenario;
	diff_run_sides(name, side, shm_trampoline);
}
