/*
 * t_corrupt.c - corrupted and hostile registry files.
 *
 * 1. Damage to the geometry (truncated, zeroed, random, wrong magic,
 *    version, sizes, offsets; not a regular file): opening the namespace
 *    fails with EUCLEAN (or, for a link, another clear error), says why
 *    in ushm_strerror(), and leaves the file exactly as it was.
 * 2. Damage inside a valid geometry, one field at a time, for every
 *    invariant of docs/INVARIANTS.md: ushm_check() reports it under its
 *    number, without crashing, and ushm_repair() brings the registry back
 *    to 0 violations, after which the namespace works.
 * 3. Hostile values where the public calls read them (a local user of a
 *    shared namespace can write the registry): the calls must not crash,
 *    hang or write outside the tables; each runs in a child with a time
 *    limit.
 */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"

#define PG	4096
#define KA	0x6b000001
#define KB	0x6b000002

/* ---- 1. the geometry ---- */

static char *read_file(const char *path, off_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	*len = st.st_size;
	buf = malloc((size_t)st.st_size + 1);
	CHECK(buf != NULL);
	CHECK(pread(fd, buf, (size_t)st.st_size, 0) == st.st_size);
	close(fd);
	return buf;
}

/* A new namespace directory next to the test's own, made and closed. */
static const char *fresh_dir(void)
{
	static char dir[PATH_MAX];
	static int n;
	const char *base = ushm_namespace_path();

	CHECK(base != NULL);
	snprintf(dir, sizeof(dir), "%s.g%d", base, n++);
	CHECK(ushm_namespace_create(dir, 0) == 0);
	return dir;
}

static void patch(const char *reg, off_t off, const void *bytes, size_t len)
{
	int fd = open(reg, O_RDWR);

	CHECK(fd >= 0);
	CHECK(pwrite(fd, bytes, len, off) == (ssize_t)len);
	close(fd);
}

/* Opening DIR must fail with WANT (0: any errno) and a message, and
 * leave its registry byte for byte as it was. */
static void refused(const char *dir, int want)
{
	char reg[PATH_MAX + 16];
	struct stat st0, st1;
	char *before = NULL, *after;
	off_t n0 = 0, n1;
	int r, err;

	snprintf(reg, sizeof(reg), "%s/registry", dir);
	CHECK(lstat(reg, &st0) == 0);
	if (S_ISREG(st0.st_mode))
		before = read_file(reg, &n0);
	ushm__clearerr();
	errno = 0;
	r = ushm_namespace_set(dir);
	err = errno;
	fprintf(stderr, "# %s: %s\n", err ? strerrorname_np(err) : "0",
		ushm_strerror());
	CHECK_EQ(r, -1);
	if (want)
		CHECK_EQ(err, want);
	CHECK(ushm_strerror()[0] != '\0');
	CHECK(lstat(reg, &st1) == 0);
	CHECK_EQ(st1.st_mode, st0.st_mode);
	CHECK_EQ(st1.st_size, st0.st_size);
	CHECK_EQ(st1.st_ino, st0.st_ino);
	if (before) {
		after = read_file(reg, &n1);
		CHECK_EQ(n1, n0);
		CHECK(memcmp(before, after, (size_t)n0) == 0);
		free(after);
		free(before);
	}
}

static void reg_path(char *buf, size_t len, const char *dir)
{
	snprintf(buf, len, "%s/registry", dir);
}

TEST(corrupt_open_truncated)
{
	char reg[PATH_MAX + 16];
	const char *dir;

	test_namespace(0);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(truncate(reg, 0) == 0);
	refused(dir, EUCLEAN);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(truncate(reg, 100) == 0);
	refused(dir, EUCLEAN);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(truncate(reg, 8 * 1024 * 1024) == 0);	/* header intact */
	refused(dir, EUCLEAN);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	{
		struct stat st;

		CHECK(stat(reg, &st) == 0);
		CHECK(truncate(reg, st.st_size + PG) == 0);	/* extended */
	}
	refused(dir, EUCLEAN);
}

TEST(corrupt_open_zeroed_random)
{
	char reg[PATH_MAX + 16], page[PG];
	const char *dir;
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	test_namespace(0);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	memset(page, 0, sizeof(page));
	patch(reg, 0, page, sizeof(page));
	refused(dir, EUCLEAN);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	for (size_t i = 0; i < sizeof(page); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		page[i] = (char)x;
	}
	patch(reg, 0, page, sizeof(page));
	refused(dir, EUCLEAN);
}

/* One header field changed at a time. */
#define FIELD_CASE(field, value)                                           \
	do {                                                               \
		struct ushm_hdr h_;                                        \
		__typeof__(h_.field) v_ = (value);                         \
		dir = fresh_dir();                                         \
		reg_path(reg, sizeof(reg), dir);                           \
		fprintf(stderr, "# %s = %s\n", #field, #value);            \
		patch(reg, offsetof(struct ushm_hdr, field), &v_,          \
		      sizeof(v_));                                         \
		refused(dir, EUCLEAN);                                     \
	} while (0)

TEST(corrupt_open_foreign_geometry)
{
	char reg[PATH_MAX + 16];
	const char *dir;

	test_namespace(0);
	FIELD_CASE(magic, USHM_MAGIC + 1);
	FIELD_CASE(magic, 0x7f454c4602010100ULL);	/* an ELF file */
	FIELD_CASE(version, USHM_LAYOUT_VERSION + 1);
	FIELD_CASE(version, 0);
	FIELD_CASE(hdr_size, 64);
	FIELD_CASE(nslots, USHM_SLOTS * 2);
	FIELD_CASE(nkeyidx, 1);
	FIELD_CASE(ntasks, 0xffffffff);
	FIELD_CASE(natts, USHM_ATTS + 1);
	FIELD_CASE(nthreads, 0);
	FIELD_CASE(off_slots, 0);
	FIELD_CASE(off_keyidx, 1ULL << 40);
	FIELD_CASE(off_tasks, 12345);
	FIELD_CASE(off_atts, ~0ULL);
	FIELD_CASE(off_threads, 8);
	FIELD_CASE(file_size, 1ULL << 50);
	FIELD_CASE(file_size, 4096);
}

/* The geometry says a size, and the file has that size: still foreign. */
TEST(corrupt_open_consistent_but_foreign_size)
{
	char reg[PATH_MAX + 16];
	const char *dir;
	uint64_t size;
	struct stat st;

	test_namespace(0);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(stat(reg, &st) == 0);
	size = (uint64_t)st.st_size + 16 * PG;
	patch(reg, offsetof(struct ushm_hdr, file_size), &size, sizeof(size));
	CHECK(truncate(reg, (off_t)size) == 0);
	refused(dir, EUCLEAN);
}

TEST(corrupt_open_not_a_file)
{
	char reg[PATH_MAX + 16], other[PATH_MAX + 16];
	const char *dir;

	test_namespace(0);
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(unlink(reg) == 0 && mkdir(reg, 0700) == 0);
	refused(dir, 0);		/* EISDIR from open(2), or EUCLEAN */
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(unlink(reg) == 0 && mkfifo(reg, 0600) == 0);
	refused(dir, EUCLEAN);
	/* A link to a valid registry elsewhere is not followed. */
	snprintf(other, sizeof(other), "%s/registry", fresh_dir());
	dir = fresh_dir();
	reg_path(reg, sizeof(reg), dir);
	CHECK(unlink(reg) == 0 && symlink(other, reg) == 0);
	refused(dir, 0);
}

/* ---- 2. damage inside the geometry: check, then repair ---- */

struct world {
	struct ushm_hdr *h;
	int a, b, c;		/* KA and KB attached by us; c private */
	uint32_t ia, ib, ic;	/* their slot indexes */
	char *pa, *pb;
};

static void build(struct world *w)
{
	test_namespace(0);
	w->a = ushm_shmget(KA, 2 * PG, IPC_CREAT | 0600);
	w->b = ushm_shmget(KB, 3 * PG, IPC_CREAT | 0600);
	w->c = ushm_shmget(IPC_PRIVATE, PG, 0600);
	CHECK(w->a >= 0 && w->b >= 0 && w->c >= 0);
	w->pa = ushm_shmat(w->a, NULL, 0);
	w->pb = ushm_shmat(w->b, NULL, 0);
	CHECK(w->pa != (void *)-1 && w->pb != (void *)-1);
	w->h = ushm__p.ns->hdr;
	w->ia = ushm__id_idx(w->a);
	w->ib = ushm__id_idx(w->b);
	w->ic = ushm__id_idx(w->c);
	CHECK_EQ(ushm_check(NULL, NULL), 0);
}

static char found[4096];

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "#   %s\n", line);
	if (strlen(found) + strlen(line) + 2 < sizeof(found)) {
		strcat(found, line);
		strcat(found, "\n");
	}
}

/* The record of our attachment of slot IDX. */
static uint32_t rec_of(struct world *w, uint32_t idx)
{
	return ushm__slot(w->h, idx)->att_head - 1;
}

/* The checker names LABEL, repair brings it to 0, the namespace works. */
static void check_and_repair(struct world *w, const char *label)
{
	struct shmid_ds ds;
	int n, fixed;

	found[0] = '\0';
	n = ushm_check(collect, NULL);
	CHECK(n > 0);
	if (!strstr(found, label))
		test_fail(__FILE__, __LINE__, "the checker did not report %s",
			  label);
	fixed = ushm_repair();
	fprintf(stderr, "# repair fixed %d\n", fixed);
	CHECK(fixed >= 0);
	found[0] = '\0';
	n = ushm_check(collect, NULL);
	if (n != 0)
		test_fail(__FILE__, __LINE__, "after repair, %d violations "
			  "remain:\n%s", n, found);
	/* Still a working namespace. */
	n = ushm_shmget(IPC_PRIVATE, PG, 0600);
	CHECK(n >= 0);
	CHECK(ushm_shmctl(n, IPC_STAT, &ds) == 0);
	CHECK(ushm_shmctl(n, IPC_RMID, NULL) == 0);
	(void)w;
	CHECK_EQ(ushm_check(NULL, NULL), 0);
}

#define DAMAGE_TEST(name_, label_)                                         \
	static void damage_##name_(struct world *w);                       \
	TEST(corrupt_##name_)                                              \
	{                                                                  \
		struct world w;                                            \
		build(&w);                                                 \
		damage_##name_(&w);                                        \
		check_and_repair(&w, label_);                              \
	}                                                                  \
	static void damage_##name_(struct world *w)

DAMAGE_TEST(gen_odd, "I2:")
{
	w->h->gen |= 1;
}

DAMAGE_TEST(slot_state_unknown, "I3:")
{
	ushm__slot(w->h, w->ic)->state = 7;
}

DAMAGE_TEST(slot_creating, "I3:")
{
	ushm__slot(w->h, w->ic)->state = SLOT_CREATING;
}

DAMAGE_TEST(slot_destroying, "I3:")
{
	ushm__slot(w->h, w->ic)->state = SLOT_DESTROYING;
}

DAMAGE_TEST(slot_seq_range, "I4:")
{
	ushm__slot(w->h, w->ic)->seq = 70000;
}

DAMAGE_TEST(slot_size_zero, "I4:")
{
	ushm__slot(w->h, w->ic)->segsz = 0;
}

DAMAGE_TEST(slot_pages, "I4:")
{
	ushm__slot(w->h, w->ic)->pages = 12345;
}

DAMAGE_TEST(slot_mode_bits, "I4:")
{
	ushm__slot(w->h, w->ic)->mode |= 0100000;
}

DAMAGE_TEST(slot_dest_with_key, "I4:")
{
	ushm__slot(w->h, w->ib)->mode |= USHM_MODE_DEST;
}

DAMAGE_TEST(key_missing, "I5:")
{
	struct ushm_keyent *t = ushm__keyidx(w->h);

	for (uint32_t e = 0; e < USHM_KEYIDX; e++)
		if (t[e].key == KA)
			t[e].ref = KEYENT_EMPTY;
}

DAMAGE_TEST(key_out_of_range, "I5:")
{
	struct ushm_keyent *t = ushm__keyidx(w->h);

	t[12345].key = 0x1234;
	t[12345].ref = 40000;
}

DAMAGE_TEST(key_to_free_slot, "I5:")
{
	struct ushm_keyent *t = ushm__keyidx(w->h);

	t[777].key = 0x4321;
	t[777].ref = 30000 + 1;
}

DAMAGE_TEST(key_tombs, "I5:")
{
	w->h->keyidx_tombs += 3;
}

DAMAGE_TEST(key_twice, "I5:")
{
	/* Two live segments with one key. */
	ushm__slot(w->h, w->ic)->key = KA;
}

DAMAGE_TEST(count_in_use, "I6:")
{
	w->h->in_use += 5;
}

DAMAGE_TEST(count_pages, "I6:")
{
	w->h->shm_tot = 1;
}

DAMAGE_TEST(count_max_idx, "I6:")
{
	w->h->max_idx = 99999;
}

DAMAGE_TEST(atts_bounds, "I7:")
{
	w->h->att_hwm = w->h->att_alloc + 10;
}

DAMAGE_TEST(att_slot_range, "I7:")
{
	ushm__att(w->h, rec_of(w, w->ia))->slot = 99999;
}

DAMAGE_TEST(att_task_range, "I7:")
{
	ushm__att(w->h, rec_of(w, w->ia))->task = 99999;
}

DAMAGE_TEST(att_free_task, "I7:")
{
	struct ushm_att *a = ushm__att(w->h, rec_of(w, w->ia));

	a->task = USHM_TASKS - 1;	/* never used */
}

DAMAGE_TEST(att_dead_slot, "I7:")
{
	struct ushm_att *a = ushm__att(w->h, rec_of(w, w->ia));

	a->seq += 1;			/* an earlier segment in that slot */
}

DAMAGE_TEST(att_head_range, "I7:")
{
	ushm__slot(w->h, w->ia)->att_head = 0xfffffff0;
}

DAMAGE_TEST(att_list_loop, "I7:")
{
	uint32_t r = rec_of(w, w->ia);

	ushm__att(w->h, r)->next = r + 1;
}

DAMAGE_TEST(att_nattch, "I7:")
{
	ushm__slot(w->h, w->ia)->nattch = 9;
}

DAMAGE_TEST(att_beyond_hwm, "I7:")
{
	/* A live record past the high water mark, inside the allocated
	 * part of the table. */
	struct ushm_att *a = ushm__att(w->h, w->h->att_hwm + 5);

	*a = *ushm__att(w->h, rec_of(w, w->ia));
	a->next = a->prev = 0;
}

DAMAGE_TEST(task_state, "I8:")
{
	ushm__task(w->h, (uint32_t)ushm__p.task)->state = 9;
}

DAMAGE_TEST(task_natt, "I8:")
{
	ushm__task(w->h, (uint32_t)ushm__p.task)->natt = 77;
}

DAMAGE_TEST(task_hwm_range, "I8:")
{
	w->h->task_hwm = 99999;
}

DAMAGE_TEST(task_beyond_hwm, "I8:")
{
	w->h->task_hwm = (uint32_t)ushm__p.task;
}

DAMAGE_TEST(alloc_range, "I9:")
{
	w->h->next_idx = -5;
	w->h->seq = 70000;
}

DAMAGE_TEST(limits_range, "I9:")
{
	w->h->shmmni = 99999;
	w->h->rmid_forced = 7;
	w->h->next_id = -5;
}

static void seg_file(struct world *w, uint32_t idx, char *buf, size_t len)
{
	struct ushm_slot *s = ushm__slot(w->h, idx);
	char name[64];

	ushm__seg_name(name, sizeof(name), s->orig_key, ushm__id(idx, s->seq));
	snprintf(buf, len, "%s/segments/%s", ushm__p.ns->path, name);
}

DAMAGE_TEST(file_missing, "I10:")
{
	char path[PATH_MAX + 80];

	seg_file(w, w->ia, path, sizeof(path));
	CHECK(unlink(path) == 0);
}

DAMAGE_TEST(file_stray, "I10:")
{
	char path[PATH_MAX + 80];
	int fd;

	(void)w;
	snprintf(path, sizeof(path), "%s/segments/SYSV12345678.424242",
		 ushm__p.ns->path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
}

DAMAGE_TEST(file_size, "I10:")
{
	char path[PATH_MAX + 80];

	seg_file(w, w->ib, path, sizeof(path));
	CHECK(truncate(path, 100 * PG) == 0);
}

DAMAGE_TEST(dest_unattached, "I11:")
{
	struct ushm_slot *s = ushm__slot(w->h, w->ic);

	s->mode |= USHM_MODE_DEST;	/* removed, nothing attached */
}

DAMAGE_TEST(intent_pending, "I12:")
{
	w->h->intent.op = INTENT_CREATE;
	w->h->intent.slot = w->ic;
	w->h->intent.next_idx = w->h->next_idx;
	w->h->intent.last_idx = w->h->last_idx;
	w->h->intent.seq = w->h->seq;
	w->h->intent.next_id = w->h->next_id;
}

/* ---- 3. hostile values where the public calls read them ---- */

static struct world hw;

/* Run FN in a child with a time limit: it must end by itself, without a
 * signal (SIGSEGV: an access outside the mapping; SIGALRM: a hang). */
static void survives(void (*fn)(void *), const char *what)
{
	int st = test_in_child(fn, NULL);

	if (WIFSIGNALED(st))
		test_fail(__FILE__, __LINE__, "%s: killed by %s", what,
			  strsignal(WTERMSIG(st)));
	CHECK(WIFEXITED(st));
}

static void all_calls(void *arg)
{
	struct shmid_ds ds;
	struct shm_info si;
	void *p;

	(void)arg;
	alarm(5);
	ushm_shmget(KA, 0, 0);
	ushm_shmget(IPC_PRIVATE, PG, 0600);
	p = ushm_shmat(hw.a, NULL, 0);
	if (p != (void *)-1)
		ushm_shmdt(p);
	ushm_shmctl(hw.a, IPC_STAT, &ds);
	ushm_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	ushm_shmctl(hw.b, SHM_LOCK, NULL);
	ushm_shmctl(hw.a, IPC_RMID, NULL);
	ushm_reap();
	ushm_check(NULL, NULL);
	_exit(0);
}

#define HOSTILE_TEST(name_)                                                \
	static void hostile_##name_(struct world *w);                      \
	TEST(hostile_##name_)                                              \
	{                                                                  \
		build(&hw);                                                \
		CHECK(ushm_shmdt(hw.pa) == 0);                             \
		CHECK(ushm_shmdt(hw.pb) == 0);                             \
		hostile_##name_(&hw);                                      \
		survives(all_calls, #name_);                               \
	}                                                                  \
	static void hostile_##name_(struct world *w)

/* A dead attacher whose record is on A's list (a killed child). */
static uint32_t dead_attacher(struct world *w)
{
	pid_t pid = fork();
	int st;

	CHECK(pid >= 0);
	if (pid == 0) {
		if (ushm_shmat(w->a, NULL, 0) == (void *)-1)
			_exit(1);
		raise(SIGKILL);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	CHECK(ushm__slot(w->h, w->ia)->att_head != 0);
	return ushm__slot(w->h, w->ia)->att_head - 1;
}

HOSTILE_TEST(max_idx)
{
	w->h->max_idx = 0x7fffffff;
}

HOSTILE_TEST(att_head)
{
	ushm__slot(w->h, w->ia)->att_head = 0xfffffff0;
}

HOSTILE_TEST(att_next)
{
	uint32_t r = dead_attacher(w);

	ushm__att(w->h, r)->next = 0xfffffff0;
}

HOSTILE_TEST(att_task)
{
	uint32_t r = dead_attacher(w);

	ushm__att(w->h, r)->task = 0x7ffffff0;
}

HOSTILE_TEST(att_slot)
{
	uint32_t r = dead_attacher(w);

	ushm__att(w->h, r)->slot = 0x7ffffff0;
}

HOSTILE_TEST(att_hint)
{
	w->h->att_hwm = 0xffffffff;
	w->h->att_hint = 0xfffffff0;
}

HOSTILE_TEST(dead_task_natt)
{
	(void)dead_attacher(w);
	w->h->att_hwm = 0xffffffff;
	for (uint32_t t = 0; t < USHM_TASKS; t++)
		if (ushm__task(w->h, t)->state != TASK_FREE)
			ushm__task(w->h, t)->natt = 0x7fffffff;
}

HOSTILE_TEST(task_hwm)
{
	w->h->task_hwm = 0xffffffff;
}

HOSTILE_TEST(creator)
{
	ushm__slot(w->h, w->ia)->creator = 0xffffffff;
	w->h->rmid_forced = 1;
}

HOSTILE_TEST(key_ref)
{
	struct ushm_keyent *t = ushm__keyidx(w->h);

	for (uint32_t e = 0; e < USHM_KEYIDX; e++)
		if (t[e].key == KA)
			t[e].ref = 0xfffffff0;
}

HOSTILE_TEST(intent_slot)
{
	w->h->intent.op = INTENT_CREATE;
	w->h->intent.slot = 0xffffffff;
	w->h->gen |= 1;
}

/* The lock held by a thread that does not exist and was never marked
 * dead (a copied file, or a hostile write): a locker must not wait
 * forever.  Made without touching the mutex's insides: a child takes the
 * lock, then unmaps the registry before it exits, so the kernel cannot
 * mark the mutex when it walks the child's robust list. */
HOSTILE_TEST(lock_owner_gone)
{
	pid_t pid = fork();
	int st;

	CHECK(pid >= 0);
	if (pid == 0) {
		if (ushm__lock(ushm__p.ns) != 0)
			_exit(1);
		syscall(SYS_munmap, ushm__p.ns->hdr, ushm__p.ns->maplen);
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(w->h->lock_tid == pid);	/* a one-thread child: tid = pid */
}
