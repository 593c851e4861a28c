/*
 * segfile.c - the file behind each segment, the counterpart of the
 * kernel's shmem file.  One sparse file per segment in the namespace's
 * segments/ directory, named SYSV<key at creation, %08x>.<id>, so that
 * /proc/PID/maps shows which segment a mapping is.  Its size is the
 * mapping length; pages are allocated when first touched, as shmem_fault
 * does.  Its owner and mode carry the segment's, so the operating system
 * itself refuses a process that the permission bits refuse.
 *
 * segments/ is writable by every user of a shared namespace and not
 * sticky, because whoever destroys a segment (its last detacher, maybe
 * another user) must be able to unlink its file.  Someone could then
 * swap a file for their own; so the slot records the file's inode, and
 * shmat refuses a file whose inode differs (see ushm__seg_open).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void ushm__seg_name(char *buf, size_t len, int32_t orig_key, int id)
{
	snprintf(buf, len, "SYSV%08x.%d", (uint32_t)orig_key, id);
}

uint64_t ushm__seg_maplen(const struct ushm_slot *s)
{
	uint64_t unit = (s->flags & SEGF_HUGETLB) ? USHM_HUGEPAGE : USHM_PAGE;

	return (s->segsz + unit - 1) / unit * unit;
}

int ushm__seg_create(struct ushm_ns *ns, int32_t key, int id, mode_t mode,
		     uint64_t len, uint64_t *ino)
{
	struct stat st;
	char name[64];
	int fd, r;

	ushm__seg_name(name, sizeof(name), key, id);
	for (int attempt = 0;; attempt++) {
		fd = ushm__os_openat(ns->segfd, name, O_RDWR | O_CREAT |
				     O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				     mode & 0777);
		if (fd >= 0)
			break;
		/* No slot owns this name (it is being created now), so a
		 * file under it is debris of some earlier failure. */
		if (errno == EEXIST && attempt == 0 &&
		    ushm__os_unlinkat(ns->segfd, name, 0) == 0)
			continue;
		r = -errno;
		ushm__seterr("cannot create %s/segments/%s: %s", ns->path, name,
			     strerror(errno));
		return r;
	}
	/* The mode must not depend on the caller's umask. */
	if (ushm__os_fchmod(fd, mode & 0777) < 0 ||
	    ushm__os_ftruncate(fd, (off_t)len) < 0 ||
	    ushm__os_fstat(fd, &st) < 0) {
		r = -errno;
		ushm__seterr("cannot set up %s/segments/%s: %s", ns->path, name,
			     strerror(errno));
		ushm__os_unlinkat(ns->segfd, name, 0);
		ushm__os_close(fd);
		return r;
	}
	*ino = st.st_ino;
	ushm__os_close(fd);
	return 0;
}

int ushm__seg_open(struct ushm_ns *ns, const struct ushm_slot *s,
		   uint32_t idx, int flags)
{
	struct stat st;
	char name[64];
	int fd;

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	fd = ushm__os_openat(ns->segfd, name,
			     flags | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0) {
		int e = errno;

		if (e != EACCES)
			ushm__seterr("cannot open %s/segments/%s: %s",
				     ns->path, name, strerror(e));
		return -e;
	}
	if (ushm__os_fstat(fd, &st) < 0 || st.st_ino != s->ino ||
	    !S_ISREG(st.st_mode)) {
		ushm__seterr("%s/segments/%s is not the file the segment was "
			     "created with", ns->path, name);
		ushm__os_close(fd);
		return -EUCLEAN;
	}
	return fd;
}

int ushm__seg_unlink(struct ushm_ns *ns, int32_t orig_key, int id)
{
	char name[64];

	ushm__seg_name(name, sizeof(name), orig_key, id);
	if (ushm__os_unlinkat(ns->segfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

long ushm__seg_resident(struct ushm_ns *ns, const struct ushm_slot *s,
			uint32_t idx)
{
	struct stat st;
	char name[64];

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	if (ushm__os_fstatat(ns->segfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	/* st_blocks is in 512-byte units; tmpfs allocates whole pages. */
	return (long)((uint64_t)st.st_blocks * 512 / USHM_PAGE);
}

/*
 * After IPC_SET: give the file the segment's new owner, group and mode,
 * as far as the caller may (changing the owner needs root).  Where it may
 * not, the file keeps the old owner, and the new owner's access to the
 * data follows the file's group and other bits (README, "Limits").
 */
void ushm__seg_sync_perms(struct ushm_ns *ns, const struct ushm_slot *s,
			  uint32_t idx)
{
	char name[64];

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	ushm__os_fchownat(ns->segfd, name, s->uid, s->gid);
	ushm__os_fchmodat(ns->segfd, name, s->mode & 0777);
}
