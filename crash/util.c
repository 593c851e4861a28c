/*
 * util.c - small helpers of ushm-crash: memory shared with children,
 * scratch namespaces, pipes, the checker, and the snapshot of what a
 * namespace shows its users.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "../tests/rmtree.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ushm-crash: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu shared bytes: %s", len, strerror(errno));
	return p;
}

char *ns_make(const char *prefix)
{
	const char *base = getenv("USHM_CRASH_TMP");
	char *path = malloc(PATH_MAX);

	if (!path)
		die("out of memory");
	snprintf(path, PATH_MAX, "%s/%s.XXXXXX", base && *base ? base :
		 "/dev/shm", prefix);
	if (!mkdtemp(path))
		die("mkdtemp %s: %s", path, strerror(errno));
	return path;
}

void rm_tree(const char *path)
{
	rmtree_at(AT_FDCWD, path);
}

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* xorshift64*: reproducible from a printed seed. */
uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rng_next(s) >> 33) % n : 0;
}

void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* the reader is gone: nothing to tell */
		p += n;
		len -= (size_t)n;
	}
}

size_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

void die_with_parent(void)
{
	pid_t parent = getppid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* it died before we asked */
		_exit(1);
}

void die_now(void)
{
	for (;;)
		kill(getpid(), SIGKILL);
}

static void print_violation(void *ctx, const char *line)
{
	printf("# %s: %s\n", (const char *)ctx, line);
}

int check_print(const char *tag)
{
	int n = ushm_check(print_violation, (void *)tag);

	if (n < 0) {
		printf("# %s: ushm_check failed: %s (%s)\n", tag,
		       strerror(errno), ushm_strerror());
		return 1;
	}
	return n;
}

void roles_add(struct roles *r, pid_t pid, char name)
{
	if (r->n < 16) {
		r->pid[r->n] = pid;
		r->name[r->n++] = name;
	}
}

static char role_of(const struct roles *r, pid_t pid)
{
	if (pid == 0)
		return '0';
	for (int i = 0; i < r->n; i++)
		if (r->pid[i] == pid)
			return r->name[i];
	return '?';
}

/* Append to BUF (of LEN, holding *POS bytes) without overflowing. */
__attribute__((format(printf, 4, 5)))
static void add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

int snapshot(char *buf, size_t len, const struct roles *r)
{
	struct ushm_ns *ns = ushm__p.ns;
	struct ushm_hdr *h = ns->hdr;
	char lim[5][32];
	static const char *const lims[5] = {
		"shmmax", "shmall", "shmmni", "shm_rmid_forced", "shm_next_id",
	};
	struct shm_info si;
	uint32_t tasks = 0;
	size_t pos = 0;
	int max, bad = 0;

	buf[0] = '\0';
	for (int i = 0; i < 5; i++)
		if (ushm_limit_get(lims[i], lim[i], sizeof(lim[i])) < 0)
			snprintf(lim[i], sizeof(lim[i]), "?");
	add(buf, len, &pos, "limits %s %s %s %s %s\n", lim[0], lim[1], lim[2],
	    lim[3], lim[4]);
	/* SHM_INFO first: it reaps every dead task. */
	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	add(buf, len, &pos, "info max=%d used=%d tot=%lu\n", max, si.used_ids,
	    si.shm_tot);
	/* What the next creation will get (R4: the journal's effect). */
	add(buf, len, &pos, "alloc next=%d last=%d seq=%u\n", h->next_idx,
	    h->last_idx, h->seq);
	for (uint32_t t = 0; t < USHM_TASKS; t++)
		if (ushm__task(h, t)->state != TASK_FREE)
			tasks++;
	add(buf, len, &pos, "tasks %u\n", tasks);
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		struct stat st;
		char name[64];
		int id = ushm_shmctl(i, SHM_STAT_ANY, &ds);

		if (id < 0)
			continue;
		ushm__seg_name(name, sizeof(name), ushm__slot(h, (uint32_t)i)
						   ->orig_key, id);
		if (fstatat(ns->segfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(&st, 0, sizeof(st));
		/* Whether the file exists yet is not observable (a private
		 * namespace makes it at the first attach); its permissions,
		 * when it does, are: they are what the OS enforces. */
		add(buf, len, &pos,
		    "seg %d key=%#x size=%zu mode=%#o uid=%u gid=%u cuid=%u "
		    "cgid=%u nattch=%lu atime=%d dtime=%d cpid=%c lpid=%c\n",
		    id, (unsigned)ds.shm_perm.__key, ds.shm_segsz,
		    ds.shm_perm.mode, ds.shm_perm.uid, ds.shm_perm.gid,
		    ds.shm_perm.cuid, ds.shm_perm.cgid,
		    (unsigned long)ds.shm_nattch, ds.shm_atime != 0,
		    ds.shm_dtime != 0, role_of(r, ds.shm_cpid),
		    role_of(r, ds.shm_lpid));
		if (st.st_nlink && ((st.st_mode & 0707) !=
				    (ds.shm_perm.mode & 0707) ||
				    st.st_uid != ds.shm_perm.cuid)) {
			printf("# segment %d is %#o, but its file is %#o owned "
			       "by %u\n", id, ds.shm_perm.mode & 0777,
			       st.st_mode & 07777, (unsigned)st.st_uid);
			bad++;
		}
	}
	return bad;
}

int drain_and_verify(const char *tag)
{
	struct shm_info si;
	int max, bad = 0;
	char path[PATH_MAX + 16];
	DIR *d;
	struct dirent *e;

	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = ushm_shmctl(i, SHM_STAT_ANY, &ds);

		if (id >= 0 && ushm_shmctl(id, IPC_RMID, NULL) < 0) {
			printf("# %s: IPC_RMID %d: %s\n", tag, id,
			       strerror(errno));
			bad++;
		}
	}
	bad += check_print(tag);
	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	if (max != 0 || si.used_ids != 0 || si.shm_tot != 0) {
		printf("# %s: after removing everything: %d segments, %lu "
		       "pages, highest index %d\n", tag, si.used_ids,
		       si.shm_tot, max);
		bad++;
	}
	snprintf(path, sizeof(path), "%s/segments", ushm__p.ns->path);
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		printf("# %s: segments/%s left behind\n", tag, e->d_name);
		bad++;
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s", ushm__p.ns->path);
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "registry.new", 12))
			continue;
		printf("# %s: %s left behind\n", tag, e->d_name);
		bad++;
	}
	if (d)
		closedir(d);
	return bad;
}
