/*
 * patch.c - make libc's own entry points jump to the shim.
 *
 * LD_PRELOAD interposition catches calls that the dynamic linker binds
 * through the global scope.  Three routes get past it:
 *   - a library loaded with dlopen(RTLD_DEEPBIND) binds to its own
 *     dependencies first, so its shmget is libc's;
 *   - dlmopen() loads a second copy of libc in another link-map
 *     namespace, where the preload library is not loaded at all;
 *   - libc calls itself internally without the PLT: stdio's fflush and
 *     bash's `echo 5 > /proc/sys/kernel/shmmni` write through libc's
 *     internal alias of write(), and system(), popen(), posix_spawn() and
 *     the exec*() family all end in its internal execve().
 *
 * Two ways were weighed.  Patching the GOT/PLT entries of each object
 * loaded after us (wrapping dlopen, walking link_map and each object's
 * JUMP_SLOT and GLOB_DAT relocations) covers the first route only: a
 * DEEPBIND library that itself calls dlopen goes to libc's dlopen, not
 * ours; libc's internal calls have no relocation to patch; and wrapping
 * dlopen hides the caller from glibc, which uses the caller's RUNPATH and
 * namespace for the search.  Patching libc's entry points covers all
 * three routes with one write per function, done once: whoever reaches
 * libc's shmget, by whatever binding, runs ours.  So that is what this
 * file does: the first 14 bytes of each function become
 *     jmp *0(%rip); .quad handler
 * which leaves every register as the caller set it, so the handler runs
 * as if it had been called directly and returns to the caller.
 *
 * The functions patched are tiny system call wrappers (shmget, shmat,
 * shmdt, shmctl, syscall, remap_file_pages, execve) and write; none is
 * ever run through libc's code afterwards, so nothing needs relocating:
 * a real write is done with writev() (same semantics, also a
 * cancellation point), a real execve or syscall with the raw
 * instruction.  Before patching, each
 * address is checked to be the start of that symbol in libc with room
 * for the jump (dladdr1 and st_size); otherwise it is left alone.
 *
 * The bytes are written through /proc/self/mem, which copies the page on
 * write like a debugger's breakpoint and never makes the text writable;
 * where that is refused, mprotect is used around the write.  If both are
 * refused (a hardened kernel), only the PLT-level interposition is left:
 * docs/DROPIN.md says what that misses.
 *
 * dlmopen: the new namespace's libc is patched after the load, with
 * thunks that set errno in that libc's own thread-local errno (each copy
 * of libc has its own).  Only the SysV calls, syscall() and
 * remap_file_pages() are patched there: the /proc files and exec are
 * handled in the base namespace only.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"
#include "route.h"
#include "shim.h"

#define JMP_LEN 14

static bool nopatch;

static void jmp_bytes(unsigned char *b, void *to)
{
	uintptr_t a = (uintptr_t)to;

	b[0] = 0xff;		/* jmp *0(%rip) */
	b[1] = 0x25;
	memset(b + 2, 0, 4);
	memcpy(b + 6, &a, sizeof(a));
}

/* /proc/self/mem, opened once per batch of patches (or -1). */
static long mem_open(void)
{
	return shim_raw6(SYS_openat, AT_FDCWD, (long)"/proc/self/mem",
			 O_RDWR | O_CLOEXEC, 0, 0, 0);
}

static int poke(long mem, void *addr, const unsigned char *bytes, size_t len)
{
	uintptr_t pg = (uintptr_t)addr & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)addr + len + 4095) & ~(uintptr_t)4095;

	if (mem >= 0 && shim_raw6(SYS_pwrite64, mem, (long)bytes, (long)len,
				  (long)addr, 0, 0) == (long)len)
		return 0;
	if (shim_raw3(SYS_mprotect, pg, end - pg,
		      PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
		return -1;
	memcpy(addr, bytes, len);
	shim_raw3(SYS_mprotect, pg, end - pg, PROT_READ | PROT_EXEC);
	return 0;
}

/* Patch the function at P, which must be the start of a function
 * symbol of the object loaded at BASE, to jump to HANDLER. */
static void patch_one(long mem, void *p, void *base, void *handler)
{
	unsigned char want[JMP_LEN];
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!p || !dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return;
	if (info.dli_saddr != p || info.dli_fbase != base ||
	    sym->st_size < JMP_LEN || ELF64_ST_TYPE(sym->st_info) != STT_FUNC)
		return;
	jmp_bytes(want, handler);
	if (memcmp(p, want, JMP_LEN) == 0)
		return;		/* done already (a second dlmopen) */
	poke(mem, p, want, JMP_LEN);
}

/* ---- the base namespace ---- */

/* libc's syscall() is variadic; with integer arguments only, a function
 * taking seven longs receives them in the same registers and stack slot. */
static long base_syscall(long n, long a, long b, long c, long d, long e,
			 long f)
{
	return ushm__os_libc(ushm__syscall_route(n, a, b, c, d, e, f));
}

/* remap_file_pages(2): a DEEPBIND library's reaches libc's entry. */
static int base_remap(void *start, size_t size, int prot, size_t pgoff,
		      int flags)
{
	return (int)ushm__os_libc(ushm__vma_remap_file_pages(
		(uintptr_t)start, size, prot, pgoff, flags));
}

static void *object_base(void *handle)
{
	struct link_map *lm = NULL;
	Dl_info info;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
		return NULL;
	/* l_ld lies inside the object: dladdr gives its load base. */
	if (!dladdr(lm->l_ld, &info))
		return NULL;
	return info.dli_fbase;
}

void shim__patch_base(void)
{
	static const char *const names[] = {
		"shmget", "shmat", "shmdt", "shmctl", "syscall", "write",
		"execve", "remap_file_pages",
		"semget", "semop", "semtimedop", "semctl",
	};
	void *handlers[] = {
		(void *)shim__shmget, (void *)shim__shmat,
		(void *)shim__shmdt, (void *)shim__shmctl,
		(void *)base_syscall, (void *)shim__write,
		(void *)shim__execve, (void *)base_remap,
		/* libc's semctl is variadic: its fourth argument arrives in
		 * the register shim__semctl's fourth is read from. */
		(void *)shim__semget, (void *)shim__semop,
		(void *)shim__semtimedop, (void *)shim__semctl,
	};
	void *libc, *base;
	long mem;

	/* For tests: show what the patches catch by leaving them out. */
	if (secure_getenv("USHM_SHIM_NOPATCH"))
		nopatch = true;
	if (nopatch)
		return;
	libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (!libc)
		return;
	base = object_base(libc);
	mem = mem_open();
	/* dlsym on libc's handle searches libc (and ld.so), never us. */
	for (size_t i = 0; base && i < sizeof(names) / sizeof(names[0]); i++)
		patch_one(mem, dlsym(libc, names[i]), base, handlers[i]);
	if (mem >= 0)
		shim_raw3(SYS_close, mem, 0, 0);
	dlclose(libc);
}

/* ---- other link-map namespaces (dlmopen) ---- */

#define NS_MAX 16		/* glibc's DL_NNS */

static int *(*ns_errno[NS_MAX])(void);

#define NS_THUNKS(i)                                                       \
	static int shmget_##i(key_t k, size_t s, int f)                    \
	{                                                                  \
		int r = shim__shmget(k, s, f);                             \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static void *shmat_##i(int id, const void *a, int f)               \
	{                                                                  \
		void *p = shim__shmat(id, a, f);                           \
		if (p == (void *)-1)                                       \
			*ns_errno[i]() = errno;                            \
		return p;                                                  \
	}                                                                  \
	static int shmdt_##i(const void *a)                                \
	{                                                                  \
		int r = shim__shmdt(a);                                    \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static int shmctl_##i(int id, int c, void *b)                      \
	{                                                                  \
		int r = shim__shmctl(id, c, b);                            \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static long syscall_##i(long n, long a, long b, long c, long d,    \
				long e, long f)                            \
	{                                                                  \
		long r = ushm__syscall_route(n, a, b, c, d, e, f);         \
		if (r < 0 && r >= -4095) {                                 \
			*ns_errno[i]() = (int)-r;                          \
			return -1;                                         \
		}                                                          \
		return r;                                                  \
	}                                                                  \
	static int remap_##i(void *s, size_t z, int p, size_t o, int f)    \
	{                                                                  \
		long r = ushm__vma_remap_file_pages((uintptr_t)s, z, p, o, \
						    f);                    \
		if (r < 0) {                                               \
			*ns_errno[i]() = (int)-r;                          \
			return -1;                                         \
		}                                                          \
		return 0;                                                  \
	}                                                                  \
	static int semget_##i(key_t k, int n, int f)                       \
	{                                                                  \
		int r = shim__semget(k, n, f);                             \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static int semop_##i(int id, struct sembuf *s, size_t n)           \
	{                                                                  \
		int r = shim__semop(id, s, n);                             \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static int semtimedop_##i(int id, struct sembuf *s, size_t n,      \
				  const struct timespec *t)                \
	{                                                                  \
		int r = shim__semtimedop(id, s, n, t);                     \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}                                                                  \
	static int semctl_##i(int id, int n, int c, unsigned long a)       \
	{                                                                  \
		int r = shim__semctl(id, n, c, a);                         \
		if (r == -1)                                               \
			*ns_errno[i]() = errno;                            \
		return r;                                                  \
	}
#define NS_ENTRY(i) { (void *)shmget_##i, (void *)shmat_##i,               \
		      (void *)shmdt_##i, (void *)shmctl_##i,               \
		      (void *)syscall_##i, (void *)remap_##i,              \
		      (void *)semget_##i, (void *)semop_##i,               \
		      (void *)semtimedop_##i, (void *)semctl_##i }

NS_THUNKS(1) NS_THUNKS(2) NS_THUNKS(3) NS_THUNKS(4) NS_THUNKS(5)
NS_THUNKS(6) NS_THUNKS(7) NS_THUNKS(8) NS_THUNKS(9) NS_THUNKS(10)
NS_THUNKS(11) NS_THUNKS(12) NS_THUNKS(13) NS_THUNKS(14) NS_THUNKS(15)

static void *const ns_handlers[NS_MAX][10] = {
	{ NULL },
	NS_ENTRY(1), NS_ENTRY(2), NS_ENTRY(3), NS_ENTRY(4), NS_ENTRY(5),
	NS_ENTRY(6), NS_ENTRY(7), NS_ENTRY(8), NS_ENTRY(9), NS_ENTRY(10),
	NS_ENTRY(11), NS_ENTRY(12), NS_ENTRY(13), NS_ENTRY(14), NS_ENTRY(15),
};

static void patch_namespace(void *handle)
{
	static const char *const names[] = {
		"shmget", "shmat", "shmdt", "shmctl", "syscall",
		"remap_file_pages", "semget", "semop", "semtimedop", "semctl",
	};
	Lmid_t lm;
	void *el, *base;
	Dl_info info;
	long mem;

	if (nopatch || dlinfo(handle, RTLD_DI_LMID, &lm) != 0 || lm <= 0 ||
	    lm >= NS_MAX)
		return;
	/* That namespace's libc, if the new object brought one in. */
	el = dlsym(handle, "__errno_location");
	if (!el || !dladdr(el, &info))
		return;
	base = info.dli_fbase;
	ns_errno[lm] = (int *(*)(void))el;
	mem = mem_open();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		patch_one(mem, dlsym(handle, names[i]), base,
			  ns_handlers[lm][i]);
	if (mem >= 0)
		shim_raw3(SYS_close, mem, 0, 0);
}

/*
 * Wrapping dlmopen means glibc sees the shim, not the program, as the
 * caller: a bare file name is then searched without the caller's
 * RUNPATH (docs/DROPIN.md).  dlopen is not wrapped, for that reason; its
 * RTLD_DEEPBIND case is covered by the base patches above.
 */
SHIM_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	static void *(*real)(Lmid_t, const char *, int);
	void *h;

	if (!real)
		real = (void *(*)(Lmid_t, const char *, int))
			dlsym(RTLD_NEXT, "dlmopen");
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	h = real(lmid, file, mode);
	if (h)
		patch_namespace(h);
	return h;
}
