/*
 * t_fault.c - every system call the library makes, made to fail.
 *
 * For each public operation, for each OS call of the seam (src/os.h), for
 * each errno that call can really give, the Nth call fails, N = 1, 2, ...
 * until the operation no longer reaches an Nth call.  Each time:
 *   - a failure has a clean errno: one the kernel's call can give, or an
 *     environment failure that ushm_strerror() explains;
 *   - an EINTR is survived where the wrapper retries (os.h's contract):
 *     the operation then succeeds;
 *   - a failure leaves nothing behind: what users observe, the segment
 *     files, this process's mappings and descriptors and the id
 *     allocator are as before, and ushm_check() finds nothing;
 *   - a success despite the fault leaves exactly what a plain success
 *     leaves;
 *   - the same operation then works without the fault.
 * Every operation runs in a private and in a shared namespace (the file
 * of a segment is made at its first attach in the one, at shmget in the
 * other).  A full tmpfs, mounted in a private mount namespace, shows
 * ENOMEM at shmget rather than SIGBUS later, and a clear error for a
 * registry that does not fit.
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"
#include "rmtree.h"

#define PG		4096
#define FK1		0x6a000001
#define FK2		0x6a000002
#define SNAP		8192
#define MAX_N		64	/* more calls of one kind than any op makes */

/* ---- what users, the file system and this process can observe ---- */

__attribute__((format(printf, 4, 5)))
static void add(char *b, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mappings of segment files, and descriptors that are not segment files
 * (the library caches some of those), in this process. */
static void proc_counts(int *maps, int *fds)
{
	char line[512], path[300], target[512];
	FILE *f = fopen("/proc/self/maps", "r");
	DIR *d;
	struct dirent *e;

	*maps = *fds = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/segments/SYSV"))
			(*maps)++;
	if (f)
		fclose(f);
	d = opendir("/proc/self/fd");
	while (d && (e = readdir(d)) != NULL) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (!strstr(target, "/segments/SYSV"))
			(*fds)++;
	}
	if (d)
		closedir(d);
}

/*
 * The state as canonical text, segments sorted (ids left out: a create
 * that failed and one that worked use different ids).  EXACT adds what
 * only a failure must leave unchanged: times, pids, the allocator.
 */
static void snapshot(char *buf, size_t len, bool exact)
{
	struct ushm_ns *ns = ushm__p.ns;
	char *lines[256], segdir[PATH_MAX + 16];
	struct shm_info si;
	size_t pos = 0;
	int max, n = 0, maps, fds;
	DIR *d;
	struct dirent *e;

	max = ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	for (int i = 0; i <= max && n < 256; i++) {
		struct shmid_ds ds;
		struct stat st;
		char name[64], l[512];
		int id = ushm_shmctl(i, SHM_STAT_ANY, &ds);

		if (id < 0)
			continue;
		ushm__seg_name(name, sizeof(name),
			       ushm__slot(ns->hdr, (uint32_t)i)->orig_key, id);
		if (fstatat(ns->segfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(&st, 0, sizeof(st));
		snprintf(l, sizeof(l), "seg key=%#x size=%zu mode=%#o uid=%u "
			 "gid=%u nattch=%lu file=%#o", (unsigned)ds.shm_perm.__key,
			 ds.shm_segsz, ds.shm_perm.mode, ds.shm_perm.uid,
			 ds.shm_perm.gid, (unsigned long)ds.shm_nattch,
			 st.st_mode & 0777);
		if (exact)
			snprintf(l + strlen(l), sizeof(l) - strlen(l),
				 " atime=%ld dtime=%ld ctime=%ld lpid=%d id=%d",
				 (long)ds.shm_atime, (long)ds.shm_dtime,
				 (long)ds.shm_ctime, (int)ds.shm_lpid, id);
		lines[n++] = strdup(l);
	}
	qsort(lines, (size_t)n, sizeof(lines[0]), cmp_lines);
	add(buf, len, &pos, "used=%d tot=%lu\n", si.used_ids, si.shm_tot);
	for (int i = 0; i < n; i++) {
		add(buf, len, &pos, "%s\n", lines[i]);
		free(lines[i]);
	}
	snprintf(segdir, sizeof(segdir), "%s/segments", ns->path);
	n = 0;
	d = opendir(segdir);
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	add(buf, len, &pos, "files=%d\n", n);
	d = opendir(ns->path);
	while (d && (e = readdir(d)) != NULL)
		if (!strncmp(e->d_name, "registry.", 9))
			add(buf, len, &pos, "debris %s\n", e->d_name);
	if (d)
		closedir(d);
	proc_counts(&maps, &fds);
	add(buf, len, &pos, "maps=%d fds=%d\n", maps, fds);
	if (exact)
		add(buf, len, &pos, "alloc %d %d %u %d\n", ns->hdr->next_idx,
		    ns->hdr->last_idx, ns->hdr->seq, ns->hdr->next_id);
}

/* Close and munmap faults: the seam fails them without closing or
 * unmapping, which the kernel never does for a whole descriptor or
 * mapping; the counts of those cannot be compared then. */
static void strip_counts(char *snap)
{
	char *m = strstr(snap, "maps="), *e;

	if (!m)
		return;
	e = strchr(m, '\n');
	if (!e)
		*m = '\0';
	else
		memmove(m, e + 1, strlen(e + 1) + 1);
}

/* A segment's file made early is owned by its slot (the checker's I10
 * says so); for operations that may make it, its presence is not a
 * leftover. */
static void strip_files(char *snap)
{
	char *p;

	while ((p = strstr(snap, " file=")) != NULL) {
		char *e = p + 6;

		while (*e && *e != ' ' && *e != '\n')
			e++;
		memmove(p, e, strlen(e) + 1);
	}
	if ((p = strstr(snap, "files=")) != NULL) {
		char *e = strchr(p, '\n');

		memmove(p, e ? e + 1 : p + strlen(p), strlen(e ? e + 1 : p) + 1);
	}
}

static int violations(void)
{
	return ushm_check(NULL, NULL);
}

static void report(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "#   %s\n", line);
}

/* ---- the operations ---- */

struct fx {
	int s;			/* a segment attached once (its file exists) */
	int t;			/* made by prep */
	char *p;		/* attached by prep */
};

/* Each returns 0 on success, else -1 with errno. */
struct op {
	const char *name;
	const int *kernel;	/* errnos the kernel's call can give */
	void (*prep)(struct fx *);	/* before each try, no faults */
	int (*run)(struct fx *);
	void (*undo)(struct fx *);	/* after a success, no faults */
	void (*unprep)(struct fx *);	/* after a failure, no faults */
	bool lazy_file;		/* may make the segment's file, and keep it
				 * (a private namespace's first attach) */
	int doc_call, doc_err;	/* this fault is documented to succeed
				 * with the file's permissions unchanged */
	/* Documented outcomes (README, "Limits and known differences"):
	 * - doc_repair_call: the operation succeeds, but a segment whose
	 *   file cannot be removed stays, marked, until a repair (which
	 *   must then leave exactly the success's state);
	 * - doc_fork_calls: when the fork handler cannot open or lock a
	 *   descriptor for the child, the child's inherited attachments
	 *   are not counted; the parent's state is unchanged and sound. */
	int doc_repair_call;
	bool doc_fork_calls;
};

static const int E_GET[] = { EACCES, EEXIST, EINVAL, ENFILE, ENOENT, ENOMEM,
			     ENOSPC, EPERM, 0 };
/* do_shmat's alloc_file_clone can give ENFILE. */
static const int E_AT[] = { EACCES, EIDRM, EINVAL, ENOMEM, ENFILE, 0 };
static const int E_DT[] = { EINVAL, 0 };
static const int E_CTL[] = { EACCES, EFAULT, EIDRM, EINVAL, ENOMEM, EOVERFLOW,
			     EPERM, 0 };
static const int E_MUNMAP[] = { EINVAL, ENOMEM, 0 };
static const int E_LIMIT[] = { EINVAL, EACCES, EPERM, 0 };
static const int E_FORK[] = { EAGAIN, ENOMEM, 0 };

static int last_id = -1;

static int run_create_key(struct fx *f)
{
	(void)f;
	last_id = ushm_shmget(FK1, 3 * PG, IPC_CREAT | IPC_EXCL | 0600);
	return last_id < 0 ? -1 : 0;
}

static int run_create_private(struct fx *f)
{
	(void)f;
	last_id = ushm_shmget(IPC_PRIVATE, 5000, 0640);
	return last_id < 0 ? -1 : 0;
}

static void undo_create(struct fx *f)
{
	(void)f;
	CHECK(ushm_shmctl(last_id, IPC_RMID, NULL) == 0);
}

static int run_get_existing(struct fx *f)
{
	(void)f;
	return ushm_shmget(FK2, 0, 0) < 0 ? -1 : 0;
}

static int run_attach(struct fx *f)
{
	f->p = ushm_shmat(f->s, NULL, 0);
	return f->p == (void *)-1 ? -1 : 0;
}

static void undo_detach(struct fx *f)
{
	CHECK(ushm_shmdt(f->p) == 0);
}

/* A segment never attached: in a private namespace, no file yet. */
static void prep_fresh(struct fx *f)
{
	f->t = ushm_shmget(IPC_PRIVATE, 2 * PG, 0600);
	CHECK(f->t >= 0);
}

static int run_attach_fresh(struct fx *f)
{
	f->p = ushm_shmat(f->t, NULL, 0);
	return f->p == (void *)-1 ? -1 : 0;
}

static void undo_detach_fresh(struct fx *f)
{
	undo_detach(f);
	CHECK(ushm_shmctl(f->t, IPC_RMID, NULL) == 0);
}

static void prep_attached(struct fx *f)
{
	f->p = ushm_shmat(f->s, NULL, 0);
	CHECK(f->p != (void *)-1);
}

static int run_detach(struct fx *f)
{
	return ushm_shmdt(f->p);
}

static int run_munmap(struct fx *f)
{
	return munmap(f->p + PG, PG);
}

static int run_stat(struct fx *f)
{
	struct shmid_ds ds;

	return ushm_shmctl(f->s, IPC_STAT, &ds);
}

static int set_mode(int id, int mode)
{
	struct shmid_ds ds;

	if (ushm_shmctl(id, IPC_STAT, &ds) < 0)
		return -1;
	ds.shm_perm.mode = (unsigned short)mode;
	return ushm_shmctl(id, IPC_SET, &ds);
}

static int run_set(struct fx *f)
{
	return set_mode(f->s, 0640);
}

static void undo_set(struct fx *f)
{
	CHECK(set_mode(f->s, 0600) == 0);
}

static int run_rmid_t(struct fx *f)
{
	return ushm_shmctl(f->t, IPC_RMID, NULL);
}

static void prep_fresh_attached(struct fx *f)
{
	prep_fresh(f);
	f->p = ushm_shmat(f->t, NULL, 0);
	CHECK(f->p != (void *)-1);
}

static void undo_detach_p(struct fx *f)
{
	CHECK(ushm_shmdt(f->p) == 0);
}

static void prep_removed_attached(struct fx *f)
{
	prep_fresh_attached(f);
	CHECK(ushm_shmctl(f->t, IPC_RMID, NULL) == 0);
}

static int run_lock(struct fx *f)
{
	return ushm_shmctl(f->s, SHM_LOCK, NULL);
}

static void undo_lock(struct fx *f)
{
	CHECK(ushm_shmctl(f->s, SHM_UNLOCK, NULL) == 0);
}

static int run_info(struct fx *f)
{
	struct shm_info si;

	(void)f;
	return ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si) < 0
		       ? -1 : 0;
}

static int run_limit(struct fx *f)
{
	(void)f;
	return ushm_limit_set("shmmni", "4000");
}

static void undo_limit(struct fx *f)
{
	(void)f;
	CHECK(ushm_limit_set("shmmni", "4096") == 0);
}

static void unprep_detach(struct fx *f)
{
	CHECK(ushm_shmdt(f->p) == 0);
}

static void unprep_rmid(struct fx *f)
{
	CHECK(ushm_shmctl(f->t, IPC_RMID, NULL) == 0);
}

static void unprep_detach_rmid(struct fx *f)
{
	CHECK(ushm_shmdt(f->p) == 0);
	ushm_shmctl(f->t, IPC_RMID, NULL);	/* maybe gone already */
}

/* fork: the child must find its inherited attachment counted (the
 * kernel copies it inside fork, which cannot fail for it). */
static int run_fork(struct fx *f)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct shmid_ds ds;

		ushm__os_fault(OS_NCALLS, 0, 0, 0);
		_exit(ushm_shmctl(f->s, IPC_STAT, &ds) == 0 &&
		      ds.shm_nattch == 2 ? 0 : 1);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "#   the forked child's inherited attachment "
			"is not counted (status %#x)\n", st);
		errno = 0;
		return -1;
	}
	return 0;
}

/* ---- the driver ---- */

static const int *injected(enum ushm_os_call c)
{
	static const int e_open[] = { EMFILE, ENFILE, ENOSPC, EACCES, ENOMEM,
				      EINTR, 0 };
	/* The seam fails close() without closing, which Linux never does
	 * (the descriptor is released whatever close returns): a fault
	 * there only leaks a descriptor the library believes closed, and
	 * with it an OFD lock (a fork's embryo then looks alive forever).
	 * Not injected. */
	static const int e_close[] = { 0 };
	static const int e_stat[] = { ENOMEM, EACCES, 0 };
	static const int e_trunc[] = { EFBIG, ENOSPC, EINTR, 0 };
	static const int e_falloc[] = { ENOSPC, EINTR, 0 };
	static const int e_perm[] = { EPERM, 0 };
	static const int e_mmap[] = { ENOMEM, EACCES, ENFILE, 0 };
	static const int e_nomem[] = { ENOMEM, 0 };
	static const int e_mkdir[] = { ENOSPC, EACCES, 0 };
	static const int e_unlink[] = { EACCES, EBUSY, 0 };
	static const int e_link[] = { ENOSPC, EMLINK, 0 };
	static const int e_lock[] = { ENOLCK, EINTR, 0 };
	static const int e_statfs[] = { ENOMEM, ENOSYS, 0 };
	static const int e_copy[] = { EFAULT, 0 };
	static const int e_xattr[] = { ENOTSUP, ENOSPC, 0 };
	static const int e_read[] = { EIO, EINTR, 0 };
	static const int e_dup[] = { EMFILE, 0 };

	switch (c) {
	case OS_OPENAT: return e_open;
	case OS_CLOSE: return e_close;
	case OS_FSTAT: case OS_FSTATAT: return e_stat;
	case OS_FTRUNCATE: return e_trunc;
	case OS_FALLOCATE: return e_falloc;
	case OS_FCHMOD: case OS_FCHOWN: return e_perm;
	case OS_MMAP: return e_mmap;
	case OS_MUNMAP: return e_nomem;
	case OS_MKDIRAT: return e_mkdir;
	case OS_UNLINKAT: return e_unlink;
	case OS_LINKAT: return e_link;
	case OS_LOCK: return e_lock;
	case OS_FSTATFS: return e_statfs;
	case OS_COPY: return e_copy;
	case OS_XATTR: return e_xattr;
	case OS_READ: return e_read;
	case OS_DUP: return e_dup;
	default: return e_nomem;
	}
}

/* The wrappers that loop on EINTR (os.c). */
static bool retries_eintr(enum ushm_os_call c)
{
	return c == OS_OPENAT || c == OS_FTRUNCATE || c == OS_FALLOCATE ||
	       c == OS_LOCK || c == OS_READ;
}

/* With the unlink, the look at the name that comes before it (open
 * O_PATH, fstat: segfile.c removes a file only once it has seen that the
 * name holds it) may fail the same way, and leave the same repair to do;
 * but these calls come elsewhere as well, where there is nothing to
 * repair. */
static bool may_need_repair(const struct op *op, int c)
{
	return op->doc_repair_call == OS_UNLINKAT &&
	       (c == OS_OPENAT || c == OS_FSTAT);
}

static bool in(const int *l, int e)
{
	for (; *l; l++)
		if (*l == e)
			return true;
	return false;
}

/* One operation under every fault; returns the number of problems.
 * Each (call, errno) is reported once, with how many N went wrong. */
static int fault_op(const struct op *op, struct fx *f)
{
	static char before[SNAP], after[SNAP], ref[SNAP], refs[SNAP];
	int bad = 0, tries = 0;

	/* The reference: a plain success. */
	if (op->prep)
		op->prep(f);
	if (op->run(f) != 0) {
		fprintf(stderr, "# %s: fails without a fault: %s\n", op->name,
			strerror(errno));
		return 1;
	}
	snapshot(ref, SNAP, false);
	memcpy(refs, ref, SNAP);
	strip_counts(refs);
	if (op->undo)
		op->undo(f);

	for (int c = 0; c < OS_NCALLS; c++) {
		const int *errs = injected((enum ushm_os_call)c);
		bool counts = c != OS_CLOSE && c != OS_MUNMAP;

		for (int ei = 0; errs[ei]; ei++) {
			int e = errs[ei], nbad = 0, first = 0;
			char msg[600] = "";

			for (int n = 1; n <= MAX_N; n++) {
				const char *why = NULL;
				int r, err, fired;

				if (op->prep)
					op->prep(f);
				snapshot(before, SNAP, true);
				ushm__clearerr();
				ushm__os_fault((enum ushm_os_call)c, n, e, 1);
				errno = 0;
				r = op->run(f);
				err = errno;
				fired = ushm__os_fault(OS_NCALLS, 0, 0, 0);
				tries++;
				if (!fired) {
					/* No Nth call: this kind is done. */
					if (r == 0 && op->undo)
						op->undo(f);
					else if (r != 0 && op->unprep)
						op->unprep(f);
					break;
				}
				if (r == 0 && c == op->doc_repair_call &&
				    ushm_repair() < 1)
					why = "the segment whose file could "
					      "not go is not repaired";
				else if (r == 0 && may_need_repair(op, c))
					ushm_repair();
				if (r != 0 && op->doc_fork_calls &&
				    (c == OS_OPENAT || c == OS_LOCK) &&
				    e != EINTR && violations() == 0) {
					/* The documented uncounted child:
					 * the parent's side must be sound
					 * and as after a success. */
					snapshot(after, SNAP, false);
					if (strcmp(after, ref))
						why = "an uncounted child, and "
						      "the parent's state is "
						      "not a success's";
					goto reported;
				}
				if (r == 0) {
					static char want[SNAP];

					snapshot(after, SNAP, false);
					memcpy(want, counts ? ref : refs, SNAP);
					if (!counts)
						strip_counts(after);
					if (c == op->doc_call &&
					    e == op->doc_err) {
						strip_files(after);
						strip_files(want);
					}
					if (strcmp(after, want))
						why = e == EINTR ? "EINTR "
						      "survived, but the state "
						      "is not a success's" :
						      "succeeded, but the state "
						      "is not a success's";
				} else if (e == EINTR && retries_eintr(c)) {
					why = "EINTR is retried by the "
					      "wrapper, yet the call failed";
				} else if (!err || (!in(op->kernel, err) &&
						    !ushm_strerror()[0])) {
					why = "unclean errno (no kernel call "
					      "gives it, no message says why)";
				} else {
					snapshot(after, SNAP, true);
					if (!counts) {
						strip_counts(before);
						strip_counts(after);
					}
					if (op->lazy_file) {
						strip_files(before);
						strip_files(after);
					}
					if (strcmp(after, before))
						why = "failed, but left something "
						      "behind";
				}
				if (!why && violations() != 0)
					why = "the checker finds violations";
reported:
				if (why && !nbad++) {
					first = n;
					snprintf(msg, sizeof(msg), "result %d "
						 "errno %s (%s): %s", r,
						 err ? strerrorname_np(err) :
						       "0", ushm_strerror(),
						 why);
					if (r != 0 && strcmp(after, before))
						fprintf(stderr, "#   before:\n%s"
							"#   after:\n%s",
							before, after);
					ushm_check(report, NULL);
				}
				if (r == 0) {
					if (op->undo)
						op->undo(f);
					continue;
				}
				/* The next call works. */
				if (op->run(f) != 0) {
					if (!nbad++) {
						first = n;
						snprintf(msg, sizeof(msg),
							 "the next call fails "
							 "too: %s",
							 strerror(errno));
					}
					if (op->unprep)
						op->unprep(f);
					continue;
				}
				if (op->undo)
					op->undo(f);
			}
			if (nbad)
				fprintf(stderr, "# %s: %s #%d fails with %s: %s "
					"(%d of the N went wrong)\n", op->name,
					ushm__os_call_name(c), first,
					strerrorname_np(e), msg, nbad);
			bad += nbad;
		}
	}
	fprintf(stderr, "# %s: %d tries, %d problems\n", op->name, tries,
		bad);
	return bad;
}

static void run_ops(const struct op *op, int shared)
{
	struct fx f = { 0 };
	void *p;

	test_namespace(shared);
	f.s = ushm_shmget(FK2, 4 * PG, IPC_CREAT | 0600);
	CHECK(f.s >= 0);
	p = ushm_shmat(f.s, NULL, 0);	/* its file exists from now on */
	CHECK(p != (void *)-1);
	CHECK(ushm_shmdt(p) == 0);
	CHECK_EQ(fault_op(op, &f), 0);
}

#define FAULT_TEST(name_, kernel_, prep_, run_, undo_, unprep_)            \
	static const struct op op_##name_ = {                              \
		#name_, kernel_, prep_, run_, undo_, unprep_,              \
		!strcmp(#name_, "shmat_first"),                            \
		/* README "Limits": a caller the file refuses (EPERM)     \
		 * changes the segment, not its file. */                   \
		!strcmp(#name_, "ipc_set") ? OS_FCHMOD : -1, EPERM,        \
		!strcmp(#name_, "shmdt_last_of_removed") ? OS_UNLINKAT     \
							  : -1,            \
		!strcmp(#name_, "fork_attached") };                        \
	TEST_T(fault_##name_, 120)                                         \
	{                                                                  \
		run_ops(&op_##name_, 0);                                   \
		run_ops(&op_##name_, 1);                                   \
	}

FAULT_TEST(shmget_create_key, E_GET, NULL, run_create_key, undo_create, NULL)
FAULT_TEST(shmget_create_private, E_GET, NULL, run_create_private,
	   undo_create, NULL)
FAULT_TEST(shmget_existing, E_GET, NULL, run_get_existing, NULL, NULL)
FAULT_TEST(shmat, E_AT, NULL, run_attach, undo_detach, NULL)
FAULT_TEST(shmat_first, E_AT, prep_fresh, run_attach_fresh,
	   undo_detach_fresh, unprep_rmid)
FAULT_TEST(shmdt, E_DT, prep_attached, run_detach, NULL, unprep_detach)
FAULT_TEST(munmap_partial, E_MUNMAP, prep_attached, run_munmap,
	   undo_detach_p, unprep_detach)
FAULT_TEST(ipc_stat, E_CTL, NULL, run_stat, NULL, NULL)
FAULT_TEST(ipc_set, E_CTL, NULL, run_set, undo_set, NULL)
FAULT_TEST(ipc_rmid, E_CTL, prep_fresh, run_rmid_t, NULL, unprep_rmid)
FAULT_TEST(ipc_rmid_attached, E_CTL, prep_fresh_attached, run_rmid_t,
	   undo_detach_p, unprep_detach_rmid)
FAULT_TEST(shmdt_last_of_removed, E_DT, prep_removed_attached, run_detach,
	   NULL, unprep_detach)
FAULT_TEST(shm_lock, E_CTL, NULL, run_lock, undo_lock, NULL)
FAULT_TEST(shm_info, E_CTL, NULL, run_info, NULL, NULL)
FAULT_TEST(limit_set, E_LIMIT, NULL, run_limit, undo_limit, NULL)
FAULT_TEST(fork_attached, E_FORK, prep_attached, run_fork, undo_detach_p,
	   unprep_detach)

/* ---- faults while a namespace is made or opened ---- */

static int count_fds(void)
{
	int maps, fds;

	proc_counts(&maps, &fds);
	return fds;
}

static int count_maps_of(const char *path)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, path))
			n++;
	if (f)
		fclose(f);
	return n;
}

/* Debris in a namespace directory: a registry being made, never named. */
static int debris(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (!strncmp(e->d_name, "registry.", 9))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void rm_rf(const char *path)
{
	rmtree_at(AT_FDCWD, path);
}

static int namespace_faults(int shared, bool existing)
{
	char base[PATH_MAX], dir[PATH_MAX + 32];
	int bad = 0, k = 0;

	snprintf(base, sizeof(base), "%s", test_namespace(0));
	for (int c = 0; c < OS_NCALLS; c++) {
		const int *errs = injected((enum ushm_os_call)c);

		for (int ei = 0; errs[ei]; ei++) {
			int nbad = 0;

			for (int n = 1; n <= MAX_N; n++) {
				int e = errs[ei], fds, r, err, fired;
				const char *why = NULL;

				snprintf(dir, sizeof(dir), "%s.c%d", base, k++);
				if (existing)
					CHECK(ushm_namespace_create(dir, shared)
					      == 0);
				fds = count_fds();
				ushm__clearerr();
				ushm__os_fault((enum ushm_os_call)c, n, e, 1);
				errno = 0;
				r = ushm_namespace_create(dir, shared);
				err = errno;
				fired = ushm__os_fault(OS_NCALLS, 0, 0, 0);
				if (!fired) {
					rm_rf(dir);
					break;
				}
				if (r != 0 && e == EINTR && retries_eintr(c))
					why = "EINTR is retried by the wrapper, "
					      "yet the call failed";
				else if (r != 0 && !ushm_strerror()[0])
					why = "failed with no message";
				else if (debris(dir))
					why = "a registry being made was left "
					      "behind";
				else if (c != OS_CLOSE && count_fds() != fds)
					why = "a descriptor leaked";
				else if (c != OS_MUNMAP && count_maps_of(dir))
					why = "a mapping leaked";
				else if (ushm_namespace_create(dir, shared) != 0)
					why = "the next call fails";
				if (why && !nbad++) {
					fprintf(stderr, "# namespace %s: %s #%d "
						"fails with %s: result %d errno "
						"%s (%s): %s\n", existing ?
						"open" : "create",
						ushm__os_call_name(c), n,
						strerrorname_np(e), r,
						err ? strerrorname_np(err) : "0",
						ushm_strerror(), why);
				}
				rm_rf(dir);
			}
			bad += nbad;
		}
	}
	return bad;
}

TEST_T(fault_namespace_create, 120)
{
	CHECK_EQ(namespace_faults(0, false), 0);
	CHECK_EQ(namespace_faults(1, false), 0);
}

TEST_T(fault_namespace_open, 120)
{
	CHECK_EQ(namespace_faults(0, true), 0);
}

/* The first attach of a namespace allocates the attachment table's
 * first pages: on a full file system that is a clean ENOMEM, and the
 * next attach works. */
TEST(fault_attachment_table_grows)
{
	static char before[SNAP], after[SNAP];
	int id, fired, err;
	void *p;

	test_namespace(0);
	id = ushm_shmget(IPC_PRIVATE, PG, 0600);
	CHECK(id >= 0);
	snapshot(before, SNAP, true);
	ushm__os_fault(OS_FALLOCATE, 1, ENOSPC, 1);
	errno = 0;
	p = ushm_shmat(id, NULL, 0);
	err = errno;
	fired = ushm__os_fault(OS_NCALLS, 0, 0, 0);
	CHECK(fired == 1);
	CHECK(p == (void *)-1);
	CHECK_EQ(err, ENOMEM);
	snapshot(after, SNAP, true);
	CHECK(!strcmp(before, after));
	CHECK_EQ(violations(), 0);
	p = ushm_shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK(ushm_shmdt(p) == 0);
}

/* ---- a full tmpfs ---- */

/* A tmpfs of SIZE bytes at a new directory, in a private mount
 * namespace (this test process's; it dies with it). */
static const char *small_tmpfs(const char *size)
{
	static char mnt[PATH_MAX];
	char opts[64];
	const char *ns = test_namespace(0);

	snprintf(mnt, sizeof(mnt), "%s.tmpfs", ns);
	CHECK(mkdir(mnt, 0755) == 0);
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	snprintf(opts, sizeof(opts), "size=%s", size);
	CHECK(mount("tmpfs", mnt, "tmpfs", 0, opts) == 0);
	return mnt;
}

static uint64_t free_bytes(const char *path)
{
	struct statfs fs;

	CHECK(statfs(path, &fs) == 0);
	return (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize;
}

/* A registry that does not fit: a clear error, and nothing left. */
TEST(full_tmpfs_registry)
{
	const char *mnt = small_tmpfs("1m");
	char dir[PATH_MAX + 8];
	uint64_t empty = free_bytes(mnt);

	snprintf(dir, sizeof(dir), "%s/ns", mnt);
	ushm__clearerr();
	errno = 0;
	CHECK(ushm_namespace_create(dir, 0) == -1);
	CHECK(errno == ENOSPC || errno == ENOMEM);
	fprintf(stderr, "# %s: %s\n", strerrorname_np(errno),
		ushm_strerror());
	CHECK(strstr(ushm_strerror(), "registry") != NULL);
	CHECK_EQ(debris(dir), 0);
	CHECK_EQ(free_bytes(mnt), empty);	/* nothing left allocated */
	CHECK(umount(mnt) == 0);
}

/* Segments that do not fit are refused at shmget (ENOMEM), so that
 * touching every page of every segment that was made never raises
 * SIGBUS: not one big one, and not several that each fit alone. */
TEST(full_tmpfs_no_sigbus)
{
	const char *mnt = small_tmpfs("8m");
	char dir[PATH_MAX + 8];
	uint64_t avail, unit;
	int ids[8], n = 0, st;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/ns", mnt);
	CHECK(ushm_namespace_set(dir) == 0);
	/* The registry takes its share first (and the first attach its
	 * attachment table). */
	ids[0] = ushm_shmget(IPC_PRIVATE, PG, 0600);
	CHECK(ids[0] >= 0);
	CHECK(ushm_shmdt(ushm_shmat(ids[0], NULL, 0)) == 0);
	CHECK(ushm_shmctl(ids[0], IPC_RMID, NULL) == 0);
	avail = free_bytes(mnt);
	fprintf(stderr, "# %llu KiB free for segments\n",
		(unsigned long long)avail >> 10);
	CHECK_ERR(ushm_shmget(IPC_PRIVATE, avail + 1024 * 1024, 0600), ENOMEM);
	unit = (avail / 3) & ~(uint64_t)(PG - 1);
	for (n = 0; n < 8; n++) {
		ids[n] = ushm_shmget(IPC_PRIVATE, unit, 0600);
		if (ids[n] < 0) {
			CHECK_EQ(errno, ENOMEM);
			break;
		}
	}
	fprintf(stderr, "# %d segments of %llu KiB made (%llu KiB free)\n",
		n, (unsigned long long)unit >> 10,
		(unsigned long long)avail >> 10);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			volatile char *p = ushm_shmat(ids[i], NULL, 0);

			if (p == (void *)-1)
				_exit(2);
			for (uint64_t off = 0; off < unit; off += PG)
				p[off] = 1;
		}
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		fprintf(stderr, "# touching the pages: %s\n",
			strsignal(WTERMSIG(st)));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < n; i++)
		CHECK(ushm_shmctl(ids[i], IPC_RMID, NULL) == 0);
}
