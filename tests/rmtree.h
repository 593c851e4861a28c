/*
 * rmtree.h - rm -rf of a scratch tree, for the test programs (the test
 * runner, tests/t_fault.c, crash/, fuzz/): without following symbolic
 * links out of the tree.  Errors are ignored: it removes what it can.
 */
#ifndef USHM_TEST_RMTREE_H
#define USHM_TEST_RMTREE_H

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Remove NAME (relative to DIRFD, or a path with AT_FDCWD) and all below. */
static inline void rmtree_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		struct dirent *e;

		while (d && (e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				rmtree_at(fd, e->d_name);
		if (d)
			closedir(d);
		else
			close(fd);
		unlinkat(dirfd, name, AT_REMOVEDIR);
	} else {
		unlinkat(dirfd, name, 0);
	}
}

#endif
