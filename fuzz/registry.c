/*
 * fuzz/registry.c - libFuzzer target: the registry as untrusted data.
 *
 * A real registry image is made once (LLVMFuzzerInitialize), in a child
 * process, by the library itself: keyed and private segments, live and
 * dead attachers, a removed segment still attached, a forked child's
 * copies.  Each input is a list of patches to that image, aimed at its
 * tables (so that the fuzzer explores inside the geometry rather than
 * being refused at the magic number):
 *
 *   byte 0          flags: bit 0 also open a registry file with this
 *                   header (the geometry checks of ushm__ns_open);
 *                   bit 1 thorough repair (as `ushm repair`)
 *   then, repeated  region (1 byte), offset (3 bytes, little endian),
 *                   length (1 byte, 1..16), that many bytes
 *
 * The geometry at the top of the header (magic .. off_threads) is
 * checked once, when a process opens the registry; the patched header
 * goes through those checks (flag bit 0), but the _locked functions
 * then see the template's geometry again, unless USHM_FUZZ_GEOMETRY=1:
 * the library reads the table offsets from the shared header on every
 * access, so a geometry changed after the checks sends every index
 * anywhere (a finding, reported; it would hide everything else).
 *
 * On the patched image: ushm__check_locked(), ushm__recover_locked(),
 * and ushm__check_locked() again.  With USHM_FUZZ_STRICT=1 in the
 * environment, a thorough repair that leaves a violation (other than
 * I10: the image's segment files do not exist here) aborts, so the
 * fuzzer also looks for damage that repair cannot undo.
 *
 * There is no lock to take on an image in private memory: the _locked
 * functions run with ushm__test_lock_depth(+1).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ushm.h"
#include "../tests/rmtree.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[64];
static struct ushm_hdr *tmpl;	/* the image as the library made it */
static struct ushm_hdr *img;	/* the one each input patches */
static size_t img_len;
static size_t att_dirty;	/* records to restore: template + patched */
static struct ushm_ns fns;
static int strict, geometry;

static void cleanup(void)
{
	if (tmpdir[0])
		rmtree_at(AT_FDCWD, tmpdir);
}

static void die(const char *what)
{
	perror(what);
	abort();
}

/* In a child: a namespace with a bit of everything, then a copy of its
 * registry as it is (the child leaves by _exit: its attachments stay
 * recorded). */
static void make_template(const char *ns, const char *copy)
{
	int a, b, c, in, out;
	char reg[128], buf[1 << 16];
	ssize_t n;
	pid_t pid;

	if (ushm_namespace_set(ns) < 0)
		_exit(1);
	a = ushm_shmget(0x66000001, 3 * 4096, IPC_CREAT | 0600);
	b = ushm_shmget(0x66000002, 5000, IPC_CREAT | 0640);
	c = ushm_shmget(IPC_PRIVATE, 4096, 0600);
	if (a < 0 || b < 0 || c < 0 || ushm_shmat(a, NULL, 0) == (void *)-1)
		_exit(1);
	{
		char *p = ushm_shmat(b, NULL, 0);

		if (p == (void *)-1 || munmap(p + 4096, 4096) < 0)
			_exit(1);
	}
	pid = fork();			/* a dead attacher of a and c */
	if (pid == 0) {
		ushm_shmat(c, NULL, SHM_RDONLY);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	pid = fork();			/* a child with copies, alive */
	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (ushm_shmctl(b, IPC_RMID, NULL) < 0)	/* removed, attached */
		_exit(1);
	snprintf(reg, sizeof(reg), "%s/registry", ns);
	in = open(reg, O_RDONLY);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0)
		_exit(1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	_exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char ns[96], copy[96], segs[96];
	struct stat st;
	int fd, status;
	pid_t pid;

	(void)argc;
	(void)argv;
	strict = getenv("USHM_FUZZ_STRICT") &&
		 !strcmp(getenv("USHM_FUZZ_STRICT"), "1");
	geometry = getenv("USHM_FUZZ_GEOMETRY") &&
		   !strcmp(getenv("USHM_FUZZ_GEOMETRY"), "1");
	snprintf(tmpdir, sizeof(tmpdir), "%s/ushm-fuzz.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	atexit(cleanup);
	snprintf(ns, sizeof(ns), "%s/ns", tmpdir);
	snprintf(copy, sizeof(copy), "%s/template", tmpdir);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		make_template(ns, copy);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "registry fuzzer: cannot make the template\n");
		abort();
	}
	fd = open(copy, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(copy);
	img_len = (size_t)st.st_size;
	tmpl = mmap(NULL, img_len, PROT_READ, MAP_PRIVATE, fd, 0);
	/* The image, and far more than the tables past it unmapped: an
	 * index that escapes them faults at once. */
	img = mmap(NULL, img_len + (64UL << 20), PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (tmpl == MAP_FAILED || img == MAP_FAILED ||
	    mprotect(img, img_len, PROT_READ | PROT_WRITE) < 0)
		die("mmap");
	close(fd);
	memcpy(img, tmpl, img_len);
	att_dirty = tmpl->att_hwm + 8;
	/* Recovery unlinks segment files: in an empty directory. */
	snprintf(segs, sizeof(segs), "%s/segments", tmpdir);
	if (mkdir(segs, 0700) < 0)
		die(segs);
	memset(&fns, 0, sizeof(fns));
	snprintf(fns.path, sizeof(fns.path), "%s", tmpdir);
	fns.dirfd = fns.regfd = fns.lockfd = -1;
	fns.segfd = open(segs, O_RDONLY | O_DIRECTORY);
	fns.hdr = img;
	fns.maplen = img_len;
	if (fns.segfd < 0)
		die(segs);
	return 0;
}

/* Put the image back as the template has it, where a run may have
 * written: everything but the unused part of the attachment table. */
static void restore(void)
{
	size_t atts = tmpl->off_atts, rec = sizeof(struct ushm_att);
	size_t dirty = att_dirty < USHM_ATTS ? att_dirty : USHM_ATTS;

	memcpy(img, tmpl, atts + dirty * rec);
	memcpy((char *)img + tmpl->off_threads,
	       (char *)tmpl + tmpl->off_threads, img_len - tmpl->off_threads);
	att_dirty = tmpl->att_hwm + 8;
}

/* Where a patch goes: a region of the image and its size. */
static size_t region(uint8_t sel, size_t *len)
{
	const struct ushm_hdr *g = tmpl;

	switch (sel % 8) {
	case 0: *len = sizeof(struct ushm_hdr); return 0;
	case 1: *len = 8 * sizeof(struct ushm_slot); return g->off_slots;
	case 2: *len = USHM_SLOTS * sizeof(struct ushm_slot); return g->off_slots;
	case 3: *len = USHM_KEYIDX * sizeof(struct ushm_keyent);
		return g->off_keyidx;
	case 4: *len = 16 * sizeof(struct ushm_task); return g->off_tasks;
	case 5: *len = 64 * sizeof(struct ushm_att); return g->off_atts;
	case 6: *len = 8 * sizeof(struct ushm_thread); return g->off_threads;
	default: *len = img_len; return 0;
	}
}

static void apply(const uint8_t *d, size_t n)
{
	while (n >= 6) {
		size_t len, base = region(d[0], &len);
		size_t off = base + (((size_t)d[1] | (size_t)d[2] << 8 |
				      (size_t)d[3] << 16) % len);
		size_t k = (size_t)(d[4] % 16) + 1;

		d += 5;
		n -= 5;
		if (k > n)
			k = n;
		if (off + k > img_len)
			off = img_len - k;
		memcpy((char *)img + off, d, k);
		if (off >= tmpl->off_atts && off < tmpl->off_threads) {
			size_t r = (off + k - tmpl->off_atts) /
				   sizeof(struct ushm_att) + 1;

			if (r > att_dirty)
				att_dirty = r;
		}
		d += k;
		n -= k;
	}
}

/* The geometry checks of ushm__ns_open, on a file with this header. */
static void open_file(void)
{
	char dir[96], reg[128];
	struct ushm_ns *ns;
	int fd;

	snprintf(dir, sizeof(dir), "%s/open", tmpdir);
	mkdir(dir, 0700);
	snprintf(reg, sizeof(reg), "%s/registry", dir);
	fd = open(reg, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (pwrite(fd, img, USHM_PAGE, 0) == (ssize_t)USHM_PAGE &&
	    ftruncate(fd, (off_t)(img->file_size % (64ULL << 20))) == 0) {
		if (ushm__ns_open(dir, 0, &ns) == 0)
			ushm__ns_close(ns);
	}
	close(fd);
}

static int left;
static bool thorough;

static void count_left(void *ctx, const char *line)
{
	(void)ctx;
	if (strncmp(line, "I10:", 4) && !left++ && strict && thorough)
		fprintf(stderr, "after repair: %s\n", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	thorough = data[0] & 2;
	apply(data + 1, size - 1);
	if (data[0] & 1)
		open_file();
	if (!geometry)		/* as validated when the file was opened */
		memcpy(img, tmpl, offsetof(struct ushm_hdr, lock));
	ushm__test_lock_depth(+1);
	ushm__check_locked(&fns, NULL, NULL);
	ushm__recover_locked(&fns, thorough);
	left = 0;
	ushm__check_locked(&fns, count_left, NULL);
	ushm__test_lock_depth(-1);
	if (strict && thorough && left)
		abort();
	restore();
	return 0;
}
