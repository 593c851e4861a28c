/*
 * t_rawperm.c - segment permissions hold against a process that ignores
 * the library and goes to the segment files directly.
 *
 * In a shared namespace the registry is writable by every user, so the
 * library's own permission checks only bind honest programs; what guards
 * a segment's data is its file's owner and mode, which the kernel
 * enforces (DESIGN.md, "Trust model").  So, as nobody:
 *   - a segment root made 0600 cannot be opened at all (EACCES);
 *   - one made 0644 can be opened and mapped read-only, not read-write;
 *   - after IPC_SET to 0600 the file follows: no longer readable;
 *   - root's segment file can be neither removed nor replaced (segments/
 *     is sticky), so root's next shmat maps root's data;
 * and a segment nobody made 0600 is closed to another user as well.
 */
#include "test.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define PG	4096
#define KR	0x6d000001
#define KW	0x6d000002
#define KN	0x6d000003

static char path_a[PATH_MAX + 80], path_b[PATH_MAX + 80];

static void seg_path(char *buf, size_t len, int id)
{
	struct ushm_slot *s = ushm__slot(ushm__p.ns->hdr, ushm__id_idx(id));
	char name[64];

	ushm__seg_name(name, sizeof(name), s->orig_key, id);
	snprintf(buf, len, "%s/segments/%s", ushm__p.ns->path, name);
}

static void expect_open(const char *path, int flags, int err)
{
	int fd;

	errno = 0;
	fd = open(path, flags | O_CLOEXEC);
	if (err) {
		if (fd >= 0)
			test_fail(__FILE__, __LINE__, "open(%s, %s) worked for "
				  "uid %d", path, flags == O_RDONLY ? "O_RDONLY"
				  : "O_RDWR", (int)geteuid());
		CHECK_EQ(errno, err);
	} else {
		CHECK(fd >= 0);
		close(fd);
	}
}

static void as_nobody(void *arg)
{
	const char *secret = arg;
	char *p;
	int fd;

	test_become_nobody();
	/* 0600, root's: no access at all. */
	expect_open(path_a, O_RDONLY, EACCES);
	expect_open(path_a, O_RDWR, EACCES);
	expect_open(path_a, O_WRONLY, EACCES);
	/* 0644, root's: read-only, and the data is there. */
	expect_open(path_b, O_RDWR, EACCES);
	fd = open(path_b, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(!strcmp(p, secret));
	/* Nor can the file be made bigger or smaller. */
	CHECK(ftruncate(fd, 0) < 0);
	close(fd);
}

TEST(rawperm_root_segments_from_nobody)
{
	int a, b, st;
	char *pb;

	test_namespace(1);
	a = ushm_shmget(KR, 2 * PG, IPC_CREAT | 0600);
	b = ushm_shmget(KW, 2 * PG, IPC_CREAT | 0644);
	CHECK(a >= 0 && b >= 0);
	pb = ushm_shmat(b, NULL, 0);	/* makes the file if not yet made */
	CHECK(pb != (void *)-1);
	strcpy(pb, "written by root");
	CHECK(ushm_shmdt(ushm_shmat(a, NULL, 0)) == 0);
	seg_path(path_a, sizeof(path_a), a);
	seg_path(path_b, sizeof(path_b), b);
	st = test_in_child(as_nobody, "written by root");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(ushm_shmdt(pb) == 0);
}

static void nobody_reads_b(void *arg)
{
	(void)arg;
	test_become_nobody();
	expect_open(path_b, O_RDONLY, EACCES);
}

/* IPC_SET takes read access away: the file follows. */
TEST(rawperm_ipc_set_follows)
{
	struct shmid_ds ds;
	int b, st;

	test_namespace(1);
	b = ushm_shmget(KW, PG, IPC_CREAT | 0644);
	CHECK(b >= 0);
	CHECK(ushm_shmdt(ushm_shmat(b, NULL, 0)) == 0);
	seg_path(path_b, sizeof(path_b), b);
	CHECK(ushm_shmctl(b, IPC_STAT, &ds) == 0);
	ds.shm_perm.mode = 0600;
	CHECK(ushm_shmctl(b, IPC_SET, &ds) == 0);
	st = test_in_child(nobody_reads_b, NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void nobody_swaps_a(void *arg)
{
	char other[4300];
	int fd;

	(void)arg;
	test_become_nobody();
	/* segments/ is sticky: root's file can be neither removed nor
	 * replaced by nobody (tests/t_files.c: what if it were not). */
	CHECK_ERR(unlink(path_a), EPERM);
	snprintf(other, sizeof(other), "%s.nobody", path_a);
	fd = open(other, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 2 * PG) == 0);
	CHECK(pwrite(fd, "nobody's data", 14, 0) == 14);
	close(fd);
	CHECK_ERR(rename(other, path_a), EPERM);
	CHECK(unlink(other) == 0);
}

/* ... nor the segment: root's next shmat maps root's file. */
TEST(rawperm_swapped_file_refused)
{
	int a, st;
	char *p;

	test_namespace(1);
	a = ushm_shmget(KR, 2 * PG, IPC_CREAT | 0600);
	CHECK(a >= 0);
	p = ushm_shmat(a, NULL, 0);
	CHECK(p != (void *)-1);
	strcpy(p, "root's data");
	CHECK(ushm_shmdt(p) == 0);
	seg_path(path_a, sizeof(path_a), a);
	st = test_in_child(nobody_swaps_a, NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* In a fresh process: no descriptor cached from before. */
	st = fork();
	CHECK(st >= 0);
	if (st == 0) {
		p = ushm_shmat(a, NULL, 0);
		_exit(p != (void *)-1 && !strcmp(p, "root's data") ? 0 : 1);
	}
	CHECK(waitpid(st, &st, 0) > 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int nobody_id = -1;

static void nobody_creates(void *arg)
{
	int *shared = arg;

	test_become_nobody();
	*shared = ushm_shmget(KN, PG, IPC_CREAT | 0600);
	if (*shared < 0)
		_exit(1);
	/* Attached once, so that the file exists in any namespace kind. */
	if (ushm_shmdt(ushm_shmat(*shared, NULL, 0)) != 0)
		_exit(1);
}

static void other_user_opens(void *arg)
{
	(void)arg;
	CHECK(setgroups(0, NULL) == 0 && setgid(65533) == 0 &&
	      setuid(65533) == 0);
	expect_open(path_a, O_RDONLY, EACCES);
	expect_open(path_a, O_RDWR, EACCES);
}

/* A user's 0600 segment is closed to another user. */
TEST(rawperm_user_segment_from_other_user)
{
	int *shared = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int st;

	CHECK(shared != MAP_FAILED);
	test_namespace(1);
	st = test_in_child(nobody_creates, shared);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	nobody_id = *shared;
	seg_path(path_a, sizeof(path_a), nobody_id);
	{
		struct stat sb;

		CHECK(stat(path_a, &sb) == 0);
		CHECK_EQ(sb.st_uid, 65534);
		CHECK_EQ(sb.st_mode & 0777, 0600);
	}
	st = test_in_child(other_user_opens, NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
