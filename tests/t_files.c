/*
 * t_files.c - no file of a namespace is used by a name another user can
 * replace (segfile.c, registry.c, namespace.c).
 *
 * As nobody against root's segments in a shared namespace: a symbolic
 * link to a root-only file, or a file of nobody's, put in place of a
 * segment file, the registry, the lock file or segments/.  With
 * segments/ sticky the kernel refuses most of these renames (tested);
 * what stays possible is tested with root's calls after it: a name
 * nobody takes before root, the file of a segment nobody created, and
 * a segments/ that is not sticky (a namespace of an older ushm, before
 * its owner opens it again).  Root's calls must never act on the link's
 * target or on nobody's file: the tests compare their mode, owner and
 * contents before and after, and look for root's data in them.
 *
 * Then the default namespaces, each in a private mount namespace with
 * its own /run, /dev/shm and /tmp (tmpfs), so that the machine's are
 * never touched: /run/ushm made by root's first use, refused when it is
 * not root's directory, used by other users only when it is root's and
 * sticky; private fallbacks passed over when someone else has taken
 * them.
 */
#include "test.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define PG	4096
#define K1	0x6e000001
#define K2	0x6e000002
#define K3	0x6e000003
#define K4	0x6e000004
#define K5	0x6e000005
#define NOBODY	65534
#define OTHER	4242		/* a third user, no account needed */

static const char secret[] = "root-only secret";
static char ns_dir[600], target[700];

/* ---- helpers ---- */

/* A fresh shared namespace of root's, and next to it (outside it) the
 * root-only file that nobody's links will point at. */
static void setup(void)
{
	const char *ns = test_namespace(1);
	int fd;

	snprintf(ns_dir, sizeof(ns_dir), "%s", ns);
	snprintf(target, sizeof(target), "%s.target", ns);
	fd = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, secret, sizeof(secret)) == (ssize_t)sizeof(secret));
	close(fd);
}

/* The target is as setup made it: root's, 0600, no ACL, same bytes. */
static void target_intact(void)
{
	char buf[256];
	struct stat st;
	int fd;

	CHECK(lstat(target, &st) == 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_size, sizeof(secret));
	CHECK(getxattr(target, "system.posix_acl_access", buf,
		       sizeof(buf)) < 0);
	fd = open(target, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(read(fd, buf, sizeof(buf)), sizeof(secret));
	CHECK(!memcmp(buf, secret, sizeof(secret)));
	close(fd);
}

static void seg_path(char *buf, size_t len, int key, int id)
{
	char name[64];

	ushm__seg_name(name, sizeof(name), key, id);
	snprintf(buf, len, "%s/segments/%s", ns_dir, name);
}

/* Segment KEY, SIZE bytes, mode 0600, its first bytes DATA. */
static int make_seg(int key, size_t size, const char *data)
{
	int id = ushm_shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
	char *p;

	CHECK(id >= 0);
	p = ushm_shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	strcpy(p, data);
	CHECK(ushm_shmdt(p) == 0);
	return id;
}

/* Whether the file open as FD holds exactly DATA (nul included) and is
 * LEN bytes long: nothing of root's reached it, nothing truncated it. */
static void file_holds(int fd, const char *data, off_t len)
{
	char buf[64];
	struct stat st;

	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ(st.st_size, len);
	CHECK_EQ(pread(fd, buf, strlen(data) + 1, 0), strlen(data) + 1);
	CHECK(!memcmp(buf, data, strlen(data) + 1));
}

/* As nobody: a file of nobody's, LEN bytes holding DATA, at PATH. */
static void nobody_file(const char *path, const char *data, off_t len)
{
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666);

	CHECK(fd >= 0);
	CHECK(fchmod(fd, 0666) == 0);
	CHECK(ftruncate(fd, len) == 0);
	CHECK_EQ(pwrite(fd, data, strlen(data) + 1, 0), strlen(data) + 1);
	close(fd);
}

/* Run FN(ARG) in a child as root with no descriptor of the library's
 * cached from before (which would be open on the real file, whatever the
 * name holds now): it must look the file up by its name. */
static void *fresh_arg;
static void (*fresh_fn)(void *);

static void fresh(void *arg)
{
	(void)arg;
	ushm__fd_reset();
	fresh_fn(fresh_arg);
}

static void as_fresh_root(void (*fn)(void *), void *arg)
{
	int st;

	fresh_fn = fn;
	fresh_arg = arg;
	st = test_in_child(fresh, NULL);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void in_child_ok(void (*fn)(void *), void *arg)
{
	int st = test_in_child(fn, arg);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- the kernel refuses the renames once segments/ is sticky ---- */

static int seg_a;

static void nobody_tries_renames(void *arg)
{
	static const char *const names[] = { "registry", "lock", "segments" };
	char path[800], mine[800], link[800];

	(void)arg;
	test_become_nobody();
	/* Made beside segments/ (so that `ushm check` has no strays to
	 * report), renamed into it: the same file system. */
	snprintf(mine, sizeof(mine), "%s/nobody.file", ns_dir);
	nobody_file(mine, "nobody", PG);
	snprintf(link, sizeof(link), "%s/nobody.link", ns_dir);
	CHECK(symlink(target, link) == 0);
	seg_path(path, sizeof(path), K1, seg_a);
	CHECK_ERR(rename(mine, path), EPERM);
	CHECK_ERR(rename(link, path), EPERM);
	CHECK_ERR(unlink(path), EPERM);
	CHECK_ERR(truncate(path, 0), EACCES);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ns_dir, names[i]);
		CHECK_ERR(rename(mine, path), EPERM);
		CHECK_ERR(rename(link, path), EPERM);
		if (i < 2)
			CHECK_ERR(unlink(path), EPERM);
		else
			CHECK_ERR(rmdir(path), EPERM);
	}
	/* Nor segments/ by a directory of nobody's. */
	snprintf(mine, sizeof(mine), "%s/nobody.dir", ns_dir);
	CHECK(mkdir(mine, 0777) == 0);
	snprintf(path, sizeof(path), "%s/segments", ns_dir);
	CHECK_ERR(rename(mine, path), EPERM);
}

static void root_carries_on(void *arg)
{
	struct shmid_ds ds;
	char *p;

	(void)arg;
	CHECK_EQ(ushm_shmget(K1, 0, 0), seg_a);
	p = ushm_shmat(seg_a, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK(!strcmp(p, "root-data"));
	strcpy(p, "root-data-2");
	CHECK(ushm_shmctl(seg_a, IPC_STAT, &ds) == 0);
	ds.shm_perm.mode = 0640;
	CHECK(ushm_shmctl(seg_a, IPC_SET, &ds) == 0);
	CHECK(ushm_shmdt(p) == 0);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
	CHECK(ushm_repair() >= 0);
	CHECK(ushm_shmctl(seg_a, IPC_RMID, NULL) == 0);
}

TEST(files_sticky_refuses_renames)
{
	char path[800];
	struct stat st;

	setup();
	snprintf(path, sizeof(path), "%s/segments", ns_dir);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
	CHECK_EQ(st.st_uid, 0);
	seg_a = make_seg(K1, 2 * PG, "root-data");
	in_child_ok(nobody_tries_renames, NULL);
	as_fresh_root(root_carries_on, NULL);
	target_intact();
}

/* ---- names nobody takes before root ---- */

static void nobody_takes_names(void *arg)
{
	char path[800];

	(void)arg;
	test_become_nobody();
	/* The first two ids of a fresh namespace are 0 and 1. */
	seg_path(path, sizeof(path), K1, 0);
	nobody_file(path, "nobody", 2 * PG);
	seg_path(path, sizeof(path), K2, 1);
	CHECK(symlink(target, path) == 0);
}

TEST(files_names_taken_first)
{
	char path[800];
	int fd, a, b;
	struct stat st;
	char *p;

	setup();
	in_child_ok(nobody_takes_names, NULL);
	seg_path(path, sizeof(path), K1, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);	/* nobody's, kept */
	CHECK(fd >= 0);
	a = ushm_shmget(K1, 2 * PG, IPC_CREAT | 0600);
	b = ushm_shmget(K2, 2 * PG, IPC_CREAT | 0600);
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 1);
	/* Root removed what was there and made its own files. */
	CHECK(lstat(path, &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_uid == 0);
	seg_path(path, sizeof(path), K2, 1);
	CHECK(lstat(path, &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_uid == 0);
	for (int id = 0; id < 2; id++) {
		p = ushm_shmat(id, NULL, 0);
		CHECK(p != (void *)-1);
		strcpy(p, "root-data");
		CHECK(ushm_shmdt(p) == 0);
		CHECK(ushm_shmctl(id, IPC_RMID, NULL) == 0);
	}
	file_holds(fd, "nobody", 2 * PG);
	close(fd);
	target_intact();
}

/* A user other than root cannot remove nobody's file at the name its
 * segment needs (the sticky bit): its shmget fails, and uses nothing. */
static void other_creates(void *arg)
{
	(void)arg;
	CHECK(setgroups(0, NULL) == 0 && setgid(OTHER) == 0 &&
	      setuid(OTHER) == 0);
	ushm__clearerr();
	CHECK_ERR(ushm_shmget(K1, 2 * PG, IPC_CREAT | 0600), ENOMEM);
	CHECK(strstr(ushm_strerror(), "another user's"));
	CHECK_EQ(ushm_check(NULL, NULL), 1);	/* the file of no segment */
}

TEST(files_name_taken_from_a_user)
{
	char path[800];
	int fd;

	setup();
	in_child_ok(nobody_takes_names, NULL);
	seg_path(path, sizeof(path), K1, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	seg_path(path, sizeof(path), K2, 1);
	CHECK(unlink(path) == 0);	/* the link: not needed here */
	in_child_ok(other_creates, NULL);
	file_holds(fd, "nobody", 2 * PG);
	close(fd);
}

/* Before root's first use of a shared directory: nobody's registry, a
 * link as the lock file, nobody's segments/.  Root refuses each (and
 * makes nothing through the link). */
static void nobody_prepares(void *arg)
{
	const char *what = arg;
	char path[800];

	test_become_nobody();
	snprintf(path, sizeof(path), "%s/%s", ns_dir, what);
	if (!strcmp(what, "registry"))
		nobody_file(path, "nobody", PG);
	else if (!strcmp(what, "lock"))
		CHECK(symlink(target, path) == 0);
	else
		CHECK(mkdir(path, 0777) == 0);
}

TEST(files_namespace_files_taken_first)
{
	static const char *const what[] = { "registry", "lock", "segments" };
	const char *base = test_namespace(0);

	for (int i = 0; i < 3; i++) {
		snprintf(ns_dir, sizeof(ns_dir), "%s.%d", base, i);
		snprintf(target, sizeof(target), "%s.target", ns_dir);
		CHECK(mkdir(ns_dir, 0700) == 0 && chmod(ns_dir, 01777) == 0);
		int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		CHECK(fd >= 0);
		CHECK(write(fd, secret, sizeof(secret)) ==
		      (ssize_t)sizeof(secret));
		close(fd);
		in_child_ok(nobody_prepares, (void *)what[i]);
		errno = 0;
		CHECK(ushm_namespace_set(ns_dir) == -1);
		CHECK(errno == EACCES || errno == EUCLEAN);
		CHECK(*ushm_strerror());
		target_intact();
	}
}

/* ---- segments/ not sticky: a namespace of an older ushm ---- */

/* segments/ as an older ushm made it; root's process has the namespace
 * open already (its owner makes it sticky again at its next open). */
static void unstick(void)
{
	char path[800];

	snprintf(path, sizeof(path), "%s/segments", ns_dir);
	CHECK(chmod(path, 0777) == 0);
}

static int ids[5];

/* Nobody: a link to the target in place of segment 0's file and 2's,
 * nobody's files in place of 1's and 3's, and 4's (attached by root
 * now) replaced by nobody's file. */
static void nobody_swaps(void *arg)
{
	static const int keys[5] = { K1, K2, K3, K4, K5 };
	char path[800];

	(void)arg;
	test_become_nobody();
	for (int i = 0; i < 5; i++) {
		seg_path(path, sizeof(path), keys[i], ids[i]);
		CHECK(unlink(path) == 0);
		if (i == 0 || i == 2)
			CHECK(symlink(target, path) == 0);
		else
			nobody_file(path, "nobody", 2 * PG);
	}
}

static int nobody_fd[5];

static void keep_nobody_files(void)
{
	static const int keys[5] = { K1, K2, K3, K4, K5 };
	char path[800];

	static const int which[3] = { 1, 3, 4 };

	for (int w = 0; w < 3; w++) {
		int i = which[w];

		seg_path(path, sizeof(path), keys[i], ids[i]);
		nobody_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		CHECK(nobody_fd[i] >= 0);
	}
}

static void root_refused(void *arg)
{
	struct shmid_ds ds;

	(void)arg;
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(ushm_shmget(i ? K2 : K1, 0, 0), ids[i]);
		ushm__clearerr();
		CHECK_ERR(ushm_shmat(ids[i], NULL, 0), EUCLEAN);
		CHECK(*ushm_strerror());
		CHECK_ERR(ushm_shmat(ids[i], NULL, SHM_RDONLY), EUCLEAN);
		CHECK(ushm_shmctl(ids[i], IPC_STAT, &ds) == 0);
		ds.shm_perm.mode = 0666;
		ds.shm_perm.uid = NOBODY;
		CHECK_ERR(ushm_shmctl(ids[i], IPC_SET, &ds), EUCLEAN);
		CHECK(ushm_shmctl(ids[i], IPC_STAT, &ds) == 0);
		CHECK_EQ(ds.shm_perm.mode & 0777, 0600);	/* unchanged */
		CHECK_EQ(ds.shm_perm.uid, 0);
	}
	CHECK(ushm_check(NULL, NULL) >= 4);
	/* Removal: nothing truncated, nothing followed. */
	CHECK(ushm_shmctl(ids[2], IPC_RMID, NULL) == 0);
	CHECK(ushm_shmctl(ids[3], IPC_RMID, NULL) == 0);
}

/* Root attached segment 4 before the swap: it carries on with the real
 * file, and its last detach after IPC_RMID truncates that file only. */
static int att_pipe[2];

static void root_attached(void *arg)
{
	char *p, c;

	(void)arg;
	p = ushm_shmat(ids[4], NULL, 0);
	CHECK(p != (void *)-1);
	CHECK(write(att_pipe[1], "a", 1) == 1);
	CHECK(read(att_pipe[0], &c, 1) == 1);	/* swapped now */
	CHECK(!strcmp(p, "root-4"));
	strcpy(p, "root-4-after");
	CHECK(ushm_shmctl(ids[4], IPC_RMID, NULL) == 0);
	CHECK(ushm_shmdt(p) == 0);
}

static void root_repairs(void *arg)
{
	char *p;

	(void)arg;
	/* Never adopted: the impostors' names go, new files come. */
	CHECK(ushm_repair() >= 2);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
	for (int i = 0; i < 2; i++) {
		p = ushm_shmat(ids[i], NULL, 0);
		CHECK(p != (void *)-1);
		CHECK_EQ(p[0], 0);	/* the data went with the file */
		strcpy(p, "root-new");
		CHECK(ushm_shmdt(p) == 0);
		CHECK(ushm_shmctl(ids[i], IPC_RMID, NULL) == 0);
	}
}

TEST(files_not_sticky_impostors)
{
	static const int keys[5] = { K1, K2, K3, K4, K5 };
	char d[16] = "root-0";
	pid_t pid;
	int st, p2[2];

	setup();
	for (int i = 0; i < 5; i++) {
		d[5] = (char)('0' + i);
		ids[i] = make_seg(keys[i], 2 * PG, d);
	}
	unstick();
	/* Segment 4: root attached before the swap. */
	CHECK(pipe(att_pipe) == 0 && pipe(p2) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		att_pipe[0] = p2[0];
		root_attached(NULL);
		_exit(0);
	}
	CHECK(read(att_pipe[0], d, 1) == 1);	/* attached */
	in_child_ok(nobody_swaps, NULL);
	keep_nobody_files();
	CHECK(write(p2[1], "s", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	as_fresh_root(root_refused, NULL);
	for (int i = 1; i < 5; i += 2)
		file_holds(nobody_fd[i], "nobody", 2 * PG);
	file_holds(nobody_fd[4], "nobody", 2 * PG);
	target_intact();
	as_fresh_root(root_repairs, NULL);
	for (int i = 1; i < 5; i += 2)
		file_holds(nobody_fd[i], "nobody", 2 * PG);
	file_holds(nobody_fd[4], "nobody", 2 * PG);
	target_intact();
}

/* Renaming one segment's file over another's: IPC_RMID of the one whose
 * name it took neither truncates nor removes it. */
static void nobody_renames_b_over_a(void *arg)
{
	char a[800], b[800];

	(void)arg;
	test_become_nobody();
	seg_path(a, sizeof(a), K1, ids[0]);
	seg_path(b, sizeof(b), K2, ids[1]);
	CHECK(rename(b, a) == 0);
}

static void root_removes_a(void *arg)
{
	(void)arg;
	CHECK_ERR(ushm_shmat(ids[0], NULL, 0), EUCLEAN);
	CHECK(ushm_shmctl(ids[0], IPC_RMID, NULL) == 0);
	CHECK(ushm_shmctl(ids[1], IPC_RMID, NULL) == 0);
}

TEST(files_not_sticky_segment_over_segment)
{
	char a[800];
	int fd;

	setup();
	ids[0] = make_seg(K1, 2 * PG, "A-data");
	ids[1] = make_seg(K2, 3 * PG, "B-data");
	unstick();
	in_child_ok(nobody_renames_b_over_a, NULL);
	seg_path(a, sizeof(a), K1, ids[0]);
	fd = open(a, O_RDONLY | O_CLOEXEC);	/* B's file, at A's name */
	CHECK(fd >= 0);
	as_fresh_root(root_removes_a, NULL);
	file_holds(fd, "B-data", 3 * PG);
	close(fd);
}

/* The legacy namespace as such: its owner makes segments/ sticky again,
 * anyone else refuses it until then. */
static void nobody_opens(void *arg)
{
	(void)arg;
	test_become_nobody();
	ushm__clearerr();
	CHECK_ERR(ushm_namespace_set(ns_dir), EACCES);
	CHECK(strstr(ushm_strerror(), "sticky"));
}

TEST(files_legacy_segments_dir)
{
	char path[800];
	struct stat st;

	setup();
	unstick();
	in_child_ok(nobody_opens, NULL);
	CHECK(ushm_namespace_set(ns_dir) == 0);	/* its owner */
	snprintf(path, sizeof(path), "%s/segments", ns_dir);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
}

/* ---- the file of a segment nobody created ---- */

static int nseg;

static void nobody_links_own_file(void *arg)
{
	char path[800];
	int kind = *(int *)arg;
	char *p;

	test_become_nobody();
	CHECK(ushm_namespace_set(ns_dir) == 0);
	nseg = ushm_shmget(K3, 2 * PG, IPC_CREAT | 0600);
	CHECK(nseg >= 0);
	p = ushm_shmat(nseg, NULL, 0);
	CHECK(p != (void *)-1);
	strcpy(p, "nobody-seg");
	CHECK(ushm_shmdt(p) == 0);
	seg_path(path, sizeof(path), K3, nseg);
	/* Its own file: the sticky bit lets nobody replace it. */
	CHECK(unlink(path) == 0);
	if (kind == 0)
		CHECK(symlink(target, path) == 0);
	else if (kind == 1)
		nobody_file(path, "nobody", 2 * PG);
	else if (kind == 2)
		CHECK_ERR(link(target, path), EPERM);	/* protected_hardlinks */
	else
		CHECK(mkfifo(path, 0666) == 0);	/* would block an open */
	_exit(nseg == 0 ? 0 : 1);
}

static void root_uses_nobodys(void *arg)
{
	struct shmid_ds ds;
	int kind = *(int *)arg;

	CHECK_EQ(ushm_shmget(K3, 0, 0), 0);
	if (kind != 2) {
		CHECK_ERR(ushm_shmat(0, NULL, 0), EUCLEAN);
		CHECK_ERR(ushm_shmat(0, NULL, SHM_RDONLY), EUCLEAN);
	} else
		CHECK(ushm_shmat(0, NULL, 0) == (void *)-1);
	/* The attack the reviewer measured: IPC_SET by root changed the
	 * mode of whatever the link pointed at. */
	CHECK(ushm_shmctl(0, IPC_STAT, &ds) == 0);
	ds.shm_perm.mode = 0666;
	CHECK(ushm_shmctl(0, IPC_SET, &ds) == -1);
	CHECK(ushm_shmctl(0, IPC_RMID, NULL) == 0);
}

TEST(files_nobodys_segment_replaced)
{
	char path[800];

	/* 0 a link to the target, 1 a file of nobody's, 2 a hard link to
	 * the target (refused by the kernel), 3 a FIFO. */
	for (int kind = 0; kind < 4; kind++) {
		int st, fd = -1;

		setup();
		st = test_in_child(nobody_links_own_file, &kind);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		seg_path(path, sizeof(path), K3, 0);
		if (kind == 1) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			CHECK(fd >= 0);
		}
		as_fresh_root(root_uses_nobodys, &kind);
		if (fd >= 0) {
			file_holds(fd, "nobody", 2 * PG);
			close(fd);
		}
		target_intact();
	}
}

/* ---- the cost of the sticky bit ---- */

/* Nobody, the last detacher of root's removed segment, cannot remove
 * its file: the segment goes, the file is emptied and left for repair. */
static int rm_pipe[2], go_pipe[2];

static void nobody_last_detacher(void *arg)
{
	char *p, c;

	(void)arg;
	test_become_nobody();
	p = ushm_shmat(ids[0], NULL, 0);
	CHECK(p != (void *)-1);
	CHECK(write(rm_pipe[1], "a", 1) == 1);
	CHECK(read(go_pipe[0], &c, 1) == 1);	/* root removed it */
	ushm__clearerr();
	CHECK(ushm_shmdt(p) == 0);
	CHECK(strstr(ushm_strerror(), "left for its owner"));
}

TEST(files_sticky_destroyed_by_another_user)
{
	struct shmid_ds ds;
	char path[800], c;
	struct stat st;
	int wst;
	pid_t pid;

	setup();
	ids[0] = ushm_shmget(K1, 2 * PG, IPC_CREAT | 0666);
	CHECK(ids[0] >= 0);
	seg_path(path, sizeof(path), K1, ids[0]);
	CHECK(pipe(rm_pipe) == 0 && pipe(go_pipe) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		nobody_last_detacher(NULL);
		_exit(0);
	}
	CHECK(read(rm_pipe[0], &c, 1) == 1);
	CHECK(ushm_shmctl(ids[0], IPC_RMID, NULL) == 0);
	CHECK(write(go_pipe[1], "g", 1) == 1);
	CHECK(waitpid(pid, &wst, 0) == pid);
	CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	CHECK(ushm_shmctl(ids[0], IPC_STAT, &ds) == -1 && errno == EINVAL);
	CHECK(lstat(path, &st) == 0);
	CHECK_EQ(st.st_size, 0);		/* emptied */
	CHECK_EQ(ushm_check(NULL, NULL), 1);	/* a file of no segment */
	CHECK(ushm_repair() >= 1);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
	CHECK(lstat(path, &st) != 0 && errno == ENOENT);
}

/* ---- default namespaces, in a private mount namespace ---- */

static void mount_ns(void)
{
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	CHECK(mount("ushm-test", "/run", "tmpfs", 0, "mode=0755") == 0);
	CHECK(mount("ushm-test", "/dev/shm", "tmpfs", 0, "mode=1777") == 0);
	CHECK(mount("ushm-test", "/tmp", "tmpfs", 0, "mode=1777") == 0);
	unsetenv("USHM_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("TMPDIR");
}

static void in_mount_ns(void (*fn)(void *), void *arg)
{
	int st = test_in_child(fn, arg);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void check_mode(const char *path, uid_t uid, mode_t mode)
{
	struct stat st;

	CHECK(lstat(path, &st) == 0);
	if (st.st_uid != uid || (st.st_mode & 07777) != mode)
		test_fail(__FILE__, __LINE__, "%s: uid %u mode %04o, want "
			  "uid %u mode %04o", path, (unsigned)st.st_uid,
			  (unsigned)(st.st_mode & 07777), (unsigned)uid,
			  (unsigned)mode);
}

static void default_is(const char *want)
{
	CHECK(ushm_namespace_set(NULL) == 0);
	if (strcmp(ushm_namespace_path(), want))
		test_fail(__FILE__, __LINE__, "default namespace %s, want %s",
			  ushm_namespace_path(), want);
}

static void become(uid_t uid)
{
	CHECK(setgroups(0, NULL) == 0 && setgid(uid) == 0 && setuid(uid) == 0);
}

static void nobody_default(void *arg)
{
	become(NOBODY);
	default_is(arg);
}

static void sys_made_by_root(void *arg)
{
	(void)arg;
	mount_ns();
	default_is("/run/ushm");
	check_mode("/run/ushm", 0, 01777);
	check_mode("/run/ushm/registry", 0, 0666);
	check_mode("/run/ushm/lock", 0, 0666);
	check_mode("/run/ushm/segments", 0, 01777);
	CHECK(ushm_shmget(K1, PG, IPC_CREAT | 0644) >= 0);
	/* Other users share it, as they share the kernel's. */
	in_mount_ns(nobody_default, "/run/ushm");
	/* Not sticky (not the library's doing): users keep to their own. */
	CHECK(chmod("/run/ushm", 0755) == 0);
	in_mount_ns(nobody_default, "/dev/shm/ushm-65534");
}

TEST(files_system_namespace_made_by_root)
{
	in_mount_ns(sys_made_by_root, NULL);
}

/* /run is root's and writable by root alone: no other user can put
 * anything at /run/ushm.  Something that is not root's directory there
 * came from root's own tooling, and root refuses it, with a reason. */
static void sys_refused(void *arg)
{
	int kind = *(int *)arg;

	mount_ns();
	CHECK(mkdir("/run/elsewhere", 0777) == 0);
	if (kind == 0) {
		CHECK(mkdir("/run/ushm", 01777) == 0);
		CHECK(chown("/run/ushm", NOBODY, NOBODY) == 0);
	} else if (kind == 1) {
		CHECK(close(open("/run/ushm", O_CREAT | O_WRONLY, 0666)) == 0);
	} else {
		CHECK(symlink("/run/elsewhere", "/run/ushm") == 0);
	}
	ushm__clearerr();
	errno = 0;
	CHECK(ushm_namespace_set(NULL) == -1);
	CHECK_EQ(errno, kind == 0 ? EACCES : ENOTDIR);
	CHECK(*ushm_strerror());
	CHECK(rmdir("/run/elsewhere") == 0);	/* nothing made in it */
}

TEST(files_system_namespace_not_roots)
{
	for (int kind = 0; kind < 3; kind++)
		in_mount_ns(sys_refused, &kind);
}

/* Another user (OTHER) or nobody itself takes /dev/shm/ushm-65534 before
 * nobody's first use: nobody passes over it. */
static void other_takes(void *arg)
{
	int kind = *(int *)arg;

	become(kind < 3 ? OTHER : NOBODY);
	if (kind == 0 || kind == 3)
		CHECK(close(open("/dev/shm/ushm-65534", O_CREAT | O_WRONLY,
				 0666)) == 0);
	else if (kind == 1)
		CHECK(mkdir("/dev/shm/ushm-65534", 01777) == 0);
	else
		CHECK(symlink(kind == 2 ? "/tmp/other" : "/tmp/mine",
			      "/dev/shm/ushm-65534") == 0);
	if (kind == 2)
		CHECK(mkdir("/tmp/other", 0777) == 0 &&
		      chmod("/tmp/other", 0777) == 0);
}

static void nobody_falls_back(void *arg)
{
	int kind = *(int *)arg;
	struct stat st;

	become(NOBODY);
	if (kind == 4)
		CHECK(mkdir("/tmp/mine", 0700) == 0);
	/* XDG_RUNTIME_DIR of someone else's: passed over. */
	setenv("XDG_RUNTIME_DIR", "/run/user-other", 1);
	/* $TMPDIR taken as well: a file there. */
	CHECK(mkdir("/tmp/tmpdir", 0700) == 0);
	CHECK(close(open("/tmp/tmpdir/ushm-65534", O_CREAT | O_WRONLY,
			 0600)) == 0);
	setenv("TMPDIR", "/tmp/tmpdir", 1);
	default_is("/tmp/ushm-65534");
	check_mode("/tmp/ushm-65534", NOBODY, 0700);
	CHECK(stat("/dev/shm/ushm-65534", &st) != 0 || !S_ISDIR(st.st_mode) ||
	      st.st_uid != NOBODY || kind == 4);
	/* Nothing made through the link. */
	if (kind == 2 || kind == 4)
		CHECK(access(kind == 2 ? "/tmp/other/registry"
				       : "/tmp/mine/registry", F_OK) != 0);
	/* With $TMPDIR free: there. */
	unsetenv("XDG_RUNTIME_DIR");
	CHECK(unlink("/tmp/tmpdir/ushm-65534") == 0);
	default_is("/tmp/tmpdir/ushm-65534");
}

static void fallbacks(void *arg)
{
	mount_ns();
	CHECK(mkdir("/run/user-other", 0700) == 0);
	CHECK(chown("/run/user-other", OTHER, OTHER) == 0);
	in_mount_ns(other_takes, arg);
	in_mount_ns(nobody_falls_back, arg);
}

TEST(files_private_fallbacks)
{
	/* 0 another's file, 1 another's directory, 2 another's link, 3
	 * nobody's own file, 4 nobody's own link (to its own directory). */
	for (int kind = 0; kind < 5; kind++)
		in_mount_ns(fallbacks, &kind);
}

/* The first choice, when it is there: $XDG_RUNTIME_DIR/ushm. */
static void xdg_first(void *arg)
{
	(void)arg;
	mount_ns();
	CHECK(mkdir("/run/user-nobody", 0700) == 0);
	CHECK(chown("/run/user-nobody", NOBODY, NOBODY) == 0);
	setenv("XDG_RUNTIME_DIR", "/run/user-nobody", 1);
	in_mount_ns(nobody_default, "/run/user-nobody/ushm");
	check_mode("/run/user-nobody/ushm", NOBODY, 0700);
	unsetenv("XDG_RUNTIME_DIR");
	in_mount_ns(nobody_default, "/dev/shm/ushm-65534");
}

TEST(files_private_default_order)
{
	in_mount_ns(xdg_first, NULL);
}

/* A namespace made under a tight umask still gets its mode (set through
 * the descriptor, not by name). */
TEST(files_made_whatever_the_umask)
{
	const char *base = test_namespace(0);
	char path[700];
	struct stat st;

	snprintf(path, sizeof(path), "%s.umask", base);
	umask(0277);
	CHECK(ushm_namespace_set(path) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s.umask-shared", base);
	CHECK(ushm_namespace_create(path, 1) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
	strcat(path, "/segments");
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
}

/* ---- the semaphore file: the registry's rules ---- */

static void nobody_uses_sems(void *arg)
{
	(void)arg;
	test_become_nobody();
	CHECK(ushm_namespace_set(ns_dir) == 0);
	int id = ushm_semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);

	CHECK(id >= 0);
	CHECK(ushm_semctl(id, 0, IPC_RMID) == 0);
}

/* ARG 0: nobody's own, valid semaphore file (made in a namespace of
 * nobody's, then moved in); 1: a link to the root-only file. */
static void nobody_plants_sem(void *arg)
{
	char path[800], own[800];

	snprintf(path, sizeof(path), "%s/sem", ns_dir);
	snprintf(own, sizeof(own), "%s.nobody", ns_dir);
	CHECK(mkdir(own, 0700) == 0 && chown(own, NOBODY, NOBODY) == 0);
	test_become_nobody();
	if (arg) {
		CHECK(symlink(target, path) == 0);
		return;
	}
	CHECK(ushm_namespace_set(own) == 0);
	CHECK(ushm_semget(IPC_PRIVATE, 1, IPC_CREAT | 0666) >= 0);
	strcat(own, "/sem");
	CHECK(rename(own, path) == 0);
}

TEST(files_sem_file)
{
	const char *base;
	char path[800];
	struct stat st;

	/* Root's shared namespace: its owner made the file at once, and
	 * another user's semaphores live in it. */
	setup();
	snprintf(path, sizeof(path), "%s/sem", ns_dir);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0);
	in_child_ok(nobody_uses_sems, NULL);
	/* Taken before root's first use: nobody's file, or a link to a
	 * root-only file.  Root's semaphore calls refuse it and make
	 * nothing through the link. */
	base = test_namespace(0);
	for (int i = 0; i < 2; i++) {
		snprintf(ns_dir, sizeof(ns_dir), "%s.sem%d", base, i);
		snprintf(target, sizeof(target), "%s.target", ns_dir);
		CHECK(mkdir(ns_dir, 0700) == 0 && chmod(ns_dir, 01777) == 0);
		int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		CHECK(fd >= 0);
		CHECK(write(fd, secret, sizeof(secret)) ==
		      (ssize_t)sizeof(secret));
		close(fd);
		in_child_ok(nobody_plants_sem, i ? (void *)1 : NULL);
		CHECK(ushm_namespace_set(ns_dir) == 0);
		errno = 0;
		CHECK(ushm_semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) == -1);
		CHECK(errno == EACCES || errno == EUCLEAN);
		CHECK(*ushm_strerror());
		target_intact();
	}
}
