/*
 * segfile.c - the file behind each segment, the counterpart of the
 * kernel's shmem file.  One sparse file per segment in the namespace's
 * segments/ directory, named SYSV<key at creation, %08x>.<id>, so that
 * /proc/PID/maps shows which segment a mapping is.  Its size is the
 * mapping length; pages are allocated when first touched, as shmem_fault
 * does.  Its owner and mode carry the segment's, so the operating system
 * itself refuses a process that the permission bits refuse.
 *
 * segments/ of a shared namespace is writable by every user, so nothing
 * here trusts a name (README, "Namespaces", its trust model):
 *  - segments/ is sticky (registry.c): only a file's owner (and root) can
 *    remove, rename or replace it there, so no other user can put
 *    anything under the name of a file that exists;
 *  - a file is opened without following links (ushm__os_open_beneath)
 *    and checked before any use (seg_check): a regular file with one
 *    link, the inode the slot recorded at creation, owned by the
 *    segment's creator or the namespace's owner.  A file that fails is
 *    never mapped, changed or truncated;
 *  - modes and ACLs are changed through that descriptor, and a file is
 *    removed only after the name was seen to hold the slot's inode.
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
		fd = ushm__os_open_beneath(ns->segfd, name, O_RDWR | O_CREAT |
					   O_EXCL | O_CLOEXEC, mode & 0777);
		if (fd >= 0)
			break;
		/* No slot owns this name (it is being created now), so a
		 * file under it is debris of some earlier failure, or put
		 * there by someone: in a sticky segments/ only its owner or
		 * root can remove it, and otherwise the creation fails. */
		r = -errno;
		if (r == -EEXIST && attempt == 0 &&
		    ushm__os_unlinkat(ns->segfd, name, 0) == 0)
			continue;
		ushm__seterr("cannot create %s/segments/%s: %s", ns->path,
			     name, r == -EEXIST ? "the name is taken, by a "
						  "file of another user's"
						: strerror(-r));
		/* EEXIST would tell shmget's caller that the key exists; the
		 * segment's overhead cannot be made, which is ENOMEM. */
		return r == -EEXIST ? -ENOMEM : r;
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
		/* Just made with O_EXCL, in a directory where only we (or
		 * root) may rename it: the name is still this file's. */
		ushm__os_unlinkat(ns->segfd, name, 0);
		ushm__os_close(fd);
		return r;
	}
	*ino = st.st_ino;
	return fd;
}

/* Whether UID may own the file of segment S: its creator (who made the
 * file, or was given it by root), or the namespace's owner (who may make
 * the file of a segment root created in a private namespace). */
bool ushm__seg_owner_ok(const struct ushm_ns *ns, const struct ushm_slot *s,
			uid_t uid)
{
	return uid == s->cuid || uid == ns->owner;
}

/*
 * Is FD, opened under NAME, the file of slot S?  0, or -EUCLEAN with the
 * reason in ushm_strerror() (unless QUIET); ST gets its status.  EUCLEAN
 * is what the library says of a namespace that is not as it made it; no
 * errno of the kernel's fits a file put in place by someone else.
 */
static int seg_check(struct ushm_ns *ns, const struct ushm_slot *s,
		     const char *name, int fd, struct stat *st, bool quiet)
{
	const char *why;

	if (ushm__os_fstat(fd, st) < 0) {
		int e = errno;

		if (!quiet)
			ushm__seterr("cannot stat %s/segments/%s: %s",
				     ns->path, name, strerror(e));
		return -e;
	}
	if (!S_ISREG(st->st_mode))
		why = "is not a regular file";
	else if (st->st_ino != s->ino)
		why = "is not the file the segment was created with";
	else if (!ushm__seg_owner_ok(ns, s, st->st_uid))
		why = "belongs to another user than the segment's creator";
	else if (st->st_nlink != 1)
		why = "has other names (hard links)";
	else
		return 0;
	if (!quiet)
		ushm__seterr("%s/segments/%s %s: not using it", ns->path, name,
			     why);
	return -EUCLEAN;
}

/* Open the file of slot IDX (S) with FLAGS, checked (seg_check). */
static int seg_fopen(struct ushm_ns *ns, const struct ushm_slot *s,
		     uint32_t idx, int flags, bool quiet)
{
	struct stat st;
	char name[64];
	int fd, r;

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	/* O_NONBLOCK: a FIFO in the file's place would block the open (it
	 * changes nothing for a regular file); openat2 refuses it with
	 * O_PATH, which opens nothing anyway. */
	if (!(flags & O_PATH))
		flags |= O_NONBLOCK;
	fd = ushm__os_open_beneath(ns->segfd, name, flags | O_CLOEXEC, 0);
	if (fd < 0 && (errno == ELOOP || errno == ENXIO)) {
		/* A symbolic link (not followed), or a FIFO or socket: not
		 * a file the library made (see seg_check for the errno). */
		if (!quiet)
			ushm__seterr("%s/segments/%s is a symbolic link or a "
				     "special file: not using it", ns->path,
				     name);
		return -EUCLEAN;
	}
	if (fd < 0) {
		int e = errno;

		if (e != EACCES && !quiet)
			ushm__seterr("cannot open %s/segments/%s: %s",
				     ns->path, name, strerror(e));
		return -e;
	}
	if ((r = seg_check(ns, s, name, fd, &st, quiet)) != 0) {
		ushm__os_close(fd);
		return r;
	}
	return fd;
}

int ushm__seg_open(struct ushm_ns *ns, const struct ushm_slot *s,
		   uint32_t idx, int flags)
{
	return seg_fopen(ns, s, idx, flags, false);
}

int ushm__seg_open_trunc(struct ushm_ns *ns, const struct ushm_slot *s,
			 uint32_t idx)
{
	return seg_fopen(ns, s, idx, O_WRONLY, true);
}

/*
 * Remove the file named for ORIG_KEY and ID.  INO, if not 0, is the
 * inode the slot recorded: only that file is removed (the name is opened
 * without following links and its inode compared first), and a name
 * that holds another file, or none, leaves the segment with no file to
 * remove: 0.  INO 0 is a creation's debris, whose inode was never
 * recorded; ids are unique, so no other segment's file has the name.
 *
 * Between the comparison and the unlink the name could change only if
 * its file's owner renamed another file over it: segments/ is sticky, so
 * no one else can, and the owner can only make us remove a file of
 * their own.  Root may remove any name there, and a caller the sticky
 * bit refuses (not the file's owner: the last detacher of another
 * user's segment) leaves the file to its owner and `ushm repair`, and
 * says so in ushm_strerror(); the segment goes all the same (README,
 * "Namespaces").  0 or a negative errno (nothing removed).
 */
int ushm__seg_unlink(struct ushm_ns *ns, int32_t orig_key, int id,
		     uint64_t ino)
{
	struct stat st;
	char name[64];
	int fd, e;

	ushm__seg_name(name, sizeof(name), orig_key, id);
	st.st_uid = 0;
	if (ino) {
		fd = ushm__os_open_beneath(ns->segfd, name, O_PATH | O_CLOEXEC,
					   0);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		e = ushm__os_fstat(fd, &st) < 0 ? errno : 0;
		ushm__os_close(fd);
		if (e)
			return -e;
		if (st.st_ino != ino || !S_ISREG(st.st_mode))
			return 0;	/* not the segment's: left alone */
	}
	if (ushm__os_unlinkat(ns->segfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	e = errno;
	if (ino && e == EPERM && ns->shared &&
	    st.st_uid != ushm__cred()->euid) {
		ushm__seterr("%s/segments/%s is left for its owner (uid %u): "
			     "the sticky bit lets only its owner remove it",
			     ns->path, name, (unsigned)st.st_uid);
		return 0;
	}
	return -e;
}

long ushm__seg_resident(struct ushm_ns *ns, const struct ushm_slot *s,
			uint32_t idx)
{
	struct stat st;
	char name[64];
	int fd;

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	fd = ushm__os_open_beneath(ns->segfd, name, O_PATH | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (seg_check(ns, s, name, fd, &st, true) != 0)
		st.st_blocks = 0;	/* not the segment's: not its pages */
	ushm__os_close(fd);
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
	static const char xname[] = "system.posix_acl_access";
	bool opath = false;
	int n = 0, r, fd;

	/* A descriptor to change the file through.  Changing a mode or an
	 * ACL takes ownership, not access, and the owner may have neither
	 * read nor write access to the file: then an O_PATH one. */
	fd = seg_fopen(ns, s, idx, O_RDONLY, false);
	if (fd == -EACCES) {
		fd = seg_fopen(ns, s, idx, O_PATH, false);
		opath = true;
	}
	if (fd < 0)
		return fd;
	r = opath ? ushm__os_fchmod_opath(fd, s->mode & 0777)
		  : ushm__os_fchmod(fd, s->mode & 0777);
	if (r < 0)
		goto out;
	if (s->uid == s->cuid && s->gid == s->cgid) {
		r = opath ? ushm__os_fremovexattr_opath(fd, xname)
			  : ushm__os_fremovexattr(fd, xname);
		if (r < 0 && (errno == ENODATA || errno == EOPNOTSUPP))
			r = 0;
		goto out;
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
	r = opath ? ushm__os_fsetxattr_opath(fd, xname, &acl,
					     sizeof(acl.version) +
						     n * sizeof(acl.e[0]))
		  : ushm__os_fsetxattr(fd, xname, &acl,
				       sizeof(acl.version) +
					       n * sizeof(acl.e[0]));
	if (r < 0 && errno == EOPNOTSUPP)
		r = 0;
out:
	r = r < 0 ? -errno : 0;
	ushm__os_close(fd);
	return r;
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
		ushm__seg_unlink(ns, s->orig_key, id, ino);
		ushm__os_close(fd);
		return r == -EPERM || r == -EACCES ? -EACCES : -ENOMEM;
	}
	if (!ushm__fd_insert_locked(ns, s, idx, fd, true))
		ushm__os_close(fd);
	return 0;
}
