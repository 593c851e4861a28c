/*
 * sides.c - the two implementations under test, and how each worker
 * isolates its side.
 *
 * Kernel: a private IPC namespace (unshare(CLONE_NEWIPC)), so no other
 * program's segments disturb the numbers, and every segment goes away
 * with the namespace when the worker and its children exit.
 * ushm: a namespace directory of its own, made fresh by the coordinator
 * and removed by it at the end.
 * Both get shmmni = 32768, for the 30,000-segment population.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ushm.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Without CAP_SYS_ADMIN, become root of a new user namespace first: that
 * root may make an IPC namespace and set its limits. */
static int enter_user_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER) < 0)
		return -1;
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}

static int kernel_setup(const char *ushm_dir)
{
	(void)ushm_dir;
	if (unshare(CLONE_NEWIPC) < 0 &&
	    (errno != EPERM || enter_user_namespace() < 0 ||
	     unshare(CLONE_NEWIPC) < 0))
		return bench_fail("kernel side: unshare(CLONE_NEWIPC): %s",
				  strerror(errno));
	/* The ipc sysctls belong to the writer's IPC namespace. */
	if (write_file("/proc/sys/kernel/shmmni", BENCH_SHMMNI) < 0)
		return bench_fail("kernel side: set shmmni: %s",
				  strerror(errno));
	return 0;
}

static int ushm_setup(const char *ushm_dir)
{
	if (ushm_namespace_set(ushm_dir) < 0)
		return bench_fail("ushm side: namespace %s: %s (%s)", ushm_dir,
				  strerror(errno), ushm_strerror());
	if (ushm_limit_set("shmmni", BENCH_SHMMNI) < 0)
		return bench_fail("ushm side: set shmmni: %s (%s)",
				  strerror(errno), ushm_strerror());
	return 0;
}

const struct side bench_side_kernel = {
	.name = "kernel",
	.setup = kernel_setup,
	.get = shmget,
	.at = shmat,
	.dt = shmdt,
	.ctl = shmctl,
	.semget = semget,
	.semop = semop,
	.semctl = semctl,
};

const struct side bench_side_ushm = {
	.name = "ushm",
	.setup = ushm_setup,
	.get = ushm_shmget,
	.at = ushm_shmat,
	.dt = ushm_shmdt,
	.ctl = ushm_shmctl,
	.semget = ushm_semget,
	.semop = ushm_semop,
	.semctl = ushm_semctl,
};
