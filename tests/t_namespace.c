/*
 * t_namespace.c - the namespace directory: which one is chosen, and the
 * ones that are refused (DESIGN.md, "Namespace"; issue 2, "Bad input and
 * a bad environment").  A refused directory gets a clear error (errno and
 * one line from ushm_strerror()) and is never used: nothing is created in
 * it.
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ushm.h"

/* A directory under this test's scratch directory (made by the runner,
 * removed after the test), with MODE exactly. */
static const char *scratch_dir(const char *name, mode_t mode)
{
	static char path[4][400];
	static int n;
	const char *ns = test_namespace(0);	/* <scratch>/nsN */
	const char *slash = strrchr(ns, '/');
	char *p = path[n++ % 4];

	/* A sibling of nsN, reachable without passing through it. */
	snprintf(p, sizeof(path[0]), "%.*s/%s", (int)(slash - ns), ns, name);
	CHECK(mkdir(p, 0700) == 0);
	CHECK(chmod(p, mode) == 0);
	return p;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Refused: -1 with ERR, a message naming the path, and nothing made. */
static void refused(const char *dir, int err, const char *words)
{
	errno = 0;
	CHECK_EQ(ushm_namespace_set(dir), -1);
	CHECK_EQ(errno, err);
	CHECK(strstr(ushm_strerror(), dir) != NULL);
	if (words && !strstr(ushm_strerror(), words))
		test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'",
			  ushm_strerror(), words);
}

TEST(ns_writable_without_sticky_refused)
{
	const char *d = scratch_dir("open", 0777);

	refused(d, EACCES, "without the sticky bit");
	CHECK_EQ(entries(d), 0);
	d = scratch_dir("group", 0770);
	refused(d, EACCES, "without the sticky bit");
	CHECK_EQ(entries(d), 0);
}

TEST(ns_sticky_shared_accepted)
{
	const char *d = scratch_dir("shared", 01777);

	CHECK(ushm_namespace_set(d) == 0);
	CHECK(ushm_shmget(IPC_PRIVATE, 4096, 0600) >= 0);
}

TEST(ns_other_users_dir_refused)
{
	const char *d = scratch_dir("theirs", 0700);

	CHECK(chown(d, 65534, 65534) == 0);
	refused(d, EACCES, "belongs to uid 65534");
	CHECK_EQ(entries(d), 0);
}

TEST(ns_not_a_directory_refused)
{
	const char *d = scratch_dir("holder", 0700);
	char file[500], link[500];
	int fd;

	snprintf(file, sizeof(file), "%s/file", d);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	refused(file, ENOTDIR, "not a directory");
	/* A symbolic link to a good directory is not followed either. */
	snprintf(link, sizeof(link), "%s/link", d);
	CHECK(symlink(scratch_dir("target", 0700), link) == 0);
	refused(link, ENOTDIR, "symbolic link");
}

static void unreachable_as_nobody(void *arg)
{
	const char *dir = arg;

	test_become_nobody();
	refused(dir, EACCES, "cannot open");
}

TEST(ns_unreachable_refused)
{
	const char *d = scratch_dir("locked", 0700);
	char inner[500];

	snprintf(inner, sizeof(inner), "%s/ns", d);
	CHECK(mkdir(inner, 01777) == 0);
	CHECK_EQ(test_in_child(unreachable_as_nobody, inner), 0);
}

TEST(ns_missing_is_made_private)
{
	const char *d = scratch_dir("parent", 0755);
	char ns[500];
	struct stat st;

	snprintf(ns, sizeof(ns), "%s/new", d);
	CHECK(ushm_namespace_set(ns) == 0);
	CHECK(stat(ns, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
	CHECK(strcmp(ushm_namespace_path(), ns) == 0);
}

TEST(ns_create_shared)
{
	const char *d = scratch_dir("mk", 0755);
	char ns[500], reg[520];
	struct stat st;

	snprintf(ns, sizeof(ns), "%s/shared", d);
	CHECK(ushm_namespace_create(ns, 1) == 0);
	CHECK(stat(ns, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
	snprintf(reg, sizeof(reg), "%s/registry", ns);
	CHECK(stat(reg, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0666);
	/* Made again: left as it is. */
	CHECK(ushm_namespace_create(ns, 1) == 0);
}

static void default_for_nobody(void *arg)
{
	const char *xdg = arg;
	char want[500];

	test_become_nobody();
	unsetenv("USHM_DIR");
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	CHECK(ushm_namespace_set(NULL) == 0);
	snprintf(want, sizeof(want), "%s/ushm", xdg);
	/* No system namespace (the /run of this mount namespace is empty):
	 * the private one under XDG_RUNTIME_DIR. */
	if (strcmp(ushm_namespace_path(), want) != 0)
		test_fail(__FILE__, __LINE__, "default namespace %s, want %s",
			  ushm_namespace_path(), want);
}

/* In a private mount namespace with an empty /run, so that the
 * machine's /run/ushm neither matters nor is touched (more in
 * t_files.c). */
static void with_empty_run(void *arg)
{
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	CHECK(mount("ushm-test", "/run", "tmpfs", 0, "mode=0755") == 0);
	CHECK_EQ(test_in_child(default_for_nobody, arg), 0);
}

TEST(ns_default_private_for_users)
{
	const char *xdg = scratch_dir("xdg", 0700);

	CHECK(chown(xdg, 65534, 65534) == 0);
	CHECK_EQ(test_in_child(with_empty_run, (void *)xdg), 0);
}

static void env_dir(void *arg)
{
	setenv("USHM_DIR", arg, 1);
	CHECK(ushm_namespace_set(NULL) == 0);
	CHECK(strcmp(ushm_namespace_path(), arg) == 0);
}

TEST(ns_ushm_dir_chosen)
{
	const char *d = scratch_dir("env", 0700);

	CHECK_EQ(test_in_child(env_dir, (void *)d), 0);
}
