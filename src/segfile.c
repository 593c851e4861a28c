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

/* "SYSV%08x.%d", by hand: it is on the path of every shmat and shmget. */
void ushm__seg_name(char *buf, size_t len, int32_t orig_key, int id)
{
	static const char hex[] = "0123456789abcdef";
	char digits[12], *p = buf;
	uint32_t k = (uint32_t)orig_key, v = (uint32_t)id;
	int n = 0;

	if (len < 25) {		/* 4 + 8 + 1 + 10 + NUL, with room */
		snprintf(buf, len, "SYSV%08x.%d", k, id);
		return;
	}
	memcpy(p, "SYSV", 4);
	p += 4;
	for (int i = 7; i >= 0; i--)
		*p++ = hex[(k >> (i * 4)) & 0xf];
	*p++ = '.';
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = digits[--n];
	*p = '\0';
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
		ushm__seterr("cannot create %s/segments/%s: %s", ns->path,
			     name, strerror(errno));
		return r;
	}
	/* The mode must not depend on the caller's umask: fix it if the
	 * umask took bits away. */
	if (ushm__os_fstat(fd, &st) < 0 ||
	    ((st.st_mode & 0777) != (mode & 0777) &&
	     ushm__os_fchmod(fd, mode & 0777) < 0) ||
	    ushm__os_ftruncate(fd, (off_t)len) < 0) {
		r = -errno;
		ushm__seterr("cannot set up %s/segments/%s: %s", ns->path,
			     name, strerror(errno));
		ushm__os_unlinkat(ns->segfd, name, 0);
		ushm__os_close(fd);
		return r;
	}
	*ino = st.st_ino;
	return fd;
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
 * After IPC_SET: make the file grant what the segment's permissions
 * grant.  The kernel's rule (ipcperms) has two owners (uid and cuid) and
 * two groups (gid and cgid); a file has one of each.  A POSIX ACL has
 * exactly the kernel's shape: the file's owner (cuid, who created it)
 * and a named user entry for uid take the owner bits, the file's group
 * (cgid) and a named group entry for gid the group bits, with no
 * fall-through between classes.  So while uid == cuid and gid == cgid
 * the mode is enough, and otherwise the file gets that ACL.
 *
 * Only the file's owner (the creator) or a privileged caller may do
 * this: others get the error (EPERM), and IPC_SET then changes nothing,
 * so that the file never grants more than the segment's permissions do.
 * A filesystem without ACLs keeps the mode only (README, "Limits").
 * Returns 0 or a negative errno.
 */
struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};
enum {
	ACL_USER_OBJ = 0x01, ACL_USER = 0x02, ACL_GROUP_OBJ = 0x04,
	ACL_GROUP = 0x08, ACL_MASK = 0x10, ACL_OTHER = 0x20,
	ACL_XATTR_VERSION = 2,
};

int ushm__seg_sync_perms(struct ushm_ns *ns, const struct ushm_slot *s,
			 uint32_t idx)
{
	struct {
		uint32_t version;
		struct acl_entry e[6];
	} acl;
	uint16_t own = (s->mode >> 6) & 7, grp = (s->mode >> 3) & 7;
	char name[64], path[128];
	int n = 0, r;

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", ns->segfd, name);
	if (ushm__os_fchmodat(ns->segfd, name, s->mode & 0777) < 0)
		return -errno;
	if (s->uid == s->cuid && s->gid == s->cgid) {
		r = ushm__os_lremovexattr(path, "system.posix_acl_access");
		if (r < 0 && errno != ENODATA && errno != EOPNOTSUPP)
			return -errno;
		return 0;
	}
	/* Entries in the order the kernel requires: by tag, then id. */
	acl.version = ACL_XATTR_VERSION;
	acl.e[n++] = (struct acl_entry){ ACL_USER_OBJ, own, ~0u };
	if (s->uid != s->cuid)
		acl.e[n++] = (struct acl_entry){ ACL_USER, own, s->uid };
	acl.e[n++] = (struct acl_entry){ ACL_GROUP_OBJ, grp, ~0u };
	if (s->gid != s->cgid)
		acl.e[n++] = (struct acl_entry){ ACL_GROUP, grp, s->gid };
	acl.e[n++] = (struct acl_entry){ ACL_MASK, (uint16_t)(own | grp), ~0u };
	acl.e[n++] = (struct acl_entry){ ACL_OTHER, s->mode & 7, ~0u };
	r = ushm__os_lsetxattr(path, "system.posix_acl_access", &acl,
			       sizeof(acl.version) + n * sizeof(acl.e[0]));
	if (r < 0 && errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

/*
 * Make the file of slot IDX (S) at its first attach.  In a private
 * namespace shmget makes no file: a segment that is never attached (an
 * IPC_PRIVATE create and RMID, a lookup by key) then costs no file
 * system work at all.  Only one user (and root) uses a private namespace,
 * so whoever attaches first may make the file; root gives it to the
 * creator.  The intent journal lets recovery remove a file that a crash
 * left half-made.
 */
int ushm__seg_materialize_locked(struct ushm_ns *ns, struct ushm_slot *s,
				 uint32_t idx)
{
	struct ushm_hdr *h = ns->hdr;
	const struct ushm_cred *c = ushm__cred();
	int id = ushm__id(idx, s->seq);
	char name[64];
	uint64_t ino;
	int fd, r;

	USHM_ASSERT_LOCKED(ns);
	memset(&h->intent, 0, sizeof(h->intent));
	h->intent.slot = idx;
	h->intent.op = INTENT_FILE;
	fd = ushm__seg_create(ns, s->orig_key, id, s->mode & 0777,
			      ushm__seg_maplen(s), &ino);
	CRASH_POINT("file.made");
	if (fd < 0) {
		memset(&h->intent, 0, sizeof(h->intent));
		/* What shmat can say of a file it cannot make. */
		return fd == -EMFILE || fd == -ENFILE || fd == -EACCES
			       ? fd : -ENOMEM;
	}
	if (c->euid != s->cuid || c->fsgid != s->cgid)
		ushm__os_fchown(fd, s->cuid, s->cgid);
	ushm__wbegin(h);
	s->ino = ino;
	s->flags |= SEGF_FILE;
	memset(&h->intent, 0, sizeof(h->intent));
	ushm__wend(h);
	if ((s->uid != s->cuid || s->gid != s->cgid) &&
	    (r = ushm__seg_sync_perms(ns, s, idx)) != 0) {
		/* The file cannot carry the segment's two owners: without
		 * it, the next attach tries again. */
		ushm__wbegin(h);
		s->flags &= ~SEGF_FILE;
		s->ino = 0;
		ushm__wend(h);
		ushm__seg_name(name, sizeof(name), s->orig_key, id);
		ushm__os_unlinkat(ns->segfd, name, 0);
		ushm__os_close(fd);
		return r == -EPERM || r == -EACCES ? -EACCES : -ENOMEM;
	}
	if (!ushm__fd_insert_locked(ns, s, idx, fd, true))
		ushm__os_close(fd);
	return 0;
}
