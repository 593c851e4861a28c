/*
 * sempid.c - sempid across pid namespaces (S-SEM 8.7): the kernel keeps
 * a struct pid and GETPID answers with the number the caller's pid
 * namespace gives it, 0 when it has none there.  The registry stores the
 * number in the namespace of the /proc that the processes see (the
 * first entry of NSpid in /proc/self/status), and GETPID translates it
 * back for a caller in a nested pid namespace through /proc/PID/status.
 * Callers in that outermost namespace (the usual case) pay nothing.
 *
 * pid_lock (process-private) protects the cache, recomputed when
 * ushm__p.pid changes (fork).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seminternal.h"

static pthread_mutex_t pid_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t cache_for;		/* ushm__p.pid it was computed for */
static int32_t outer_pid;	/* our pid in /proc's namespace */
static int depth;		/* pid namespaces below that one */
static char ns_link[64];	/* /proc/self/ns/pid */

/* The NSpid numbers of /proc/WHO/status into PIDS (at most MAX); their
 * count, 0 if there is no such line. */
static int read_nspid(const char *who, int32_t *pids, int max)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd, k = 0;

	snprintf(path, sizeof(path), "/proc/%s/status", who);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strstr(buf, "\nNSpid:");
	if (!p)
		return 0;
	p += 7;
	while (k < max) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[k++] = (int32_t)v;
		p = end;
		if (*p == '\n')
			break;
	}
	return k;
}

static void compute(void)
{
	int32_t pids[32];
	int n = read_nspid("self", pids, 32);
	ssize_t l;

	outer_pid = n ? pids[0] : ushm__p.pid;
	depth = n ? n - 1 : 0;
	l = readlink("/proc/self/ns/pid", ns_link, sizeof(ns_link) - 1);
	ns_link[l > 0 ? l : 0] = 0;
	cache_for = ushm__p.pid;
}

int32_t ushm__sem_pid(void)
{
	int32_t p;

	if (__atomic_load_n(&cache_for, __ATOMIC_ACQUIRE) == ushm__p.pid &&
	    cache_for)
		return outer_pid;
	pthread_mutex_lock(&pid_lock);
	if (cache_for != ushm__p.pid || !cache_for)
		compute();
	p = outer_pid;
	pthread_mutex_unlock(&pid_lock);
	return p;
}

int32_t ushm__sem_pid_vnr(int32_t stored)
{
	int32_t pids[32];
	char who[16], path[64], link[64];
	ssize_t l;
	int n;

	ushm__sem_pid();
	if (depth == 0 || stored <= 0)
		return stored;
	snprintf(who, sizeof(who), "%d", (int)stored);
	n = read_nspid(who, pids, 32);
	if (n - 1 < depth)
		return 0;	/* outside our namespace (or gone) */
	if (n - 1 > depth)
		return pids[depth];	/* in one below ours */
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)stored);
	l = readlink(path, link, sizeof(link) - 1);
	if (l <= 0)
		return 0;
	link[l] = 0;
	return strcmp(link, ns_link) ? 0 : pids[depth];
}
