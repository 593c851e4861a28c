/*
 * tmpdir.c - the ushm side's namespace directory: made fresh for every
 * run of the program, removed at its end whatever happened.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* Under /dev/shm, where the system namespace would be (tmpfs: the page
 * faults are shmem faults, as the kernel's segments get); mkdtemp makes
 * it 0700. */
int bench_tmpdir_make(char *buf, size_t len)
{
	struct stat st;
	const char *base = "/dev/shm";

	if (stat(base, &st) < 0 || !S_ISDIR(st.st_mode)) {
		base = getenv("TMPDIR");
		if (!base || !*base)
			base = "/tmp";
	}
	if ((size_t)snprintf(buf, len, "%s/ushm-bench.XXXXXX", base) >= len)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;	/* carry on: remove as much as we can */
}

/* rm -rf, without following symbolic links. */
void bench_tmpdir_remove(const char *path)
{
	if (path && *path)
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
