/*
 * route.h - the routes into the mapping wrappers (vma.c), for the
 * library's exported functions and the shim.
 *
 * Every route that changes mappings reaches one function here: the C
 * library's functions (munmap, mprotect, pkey_mprotect, madvise, mremap,
 * mmap, remap_file_pages, mlock, mlock2, munlock, mlockall, munlockall),
 * which the library exports, and syscall(3) with the same numbers, which
 * the library exports too (where os.h has a raw system call of its own:
 * USHM_RAW_ASM).  Each returns what the kernel's system call returns:
 * the result, or -errno.
 */
#ifndef USHM_ROUTE_H
#define USHM_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

long ushm__vma_munmap(uintptr_t addr, size_t len);
long ushm__vma_mprotect(long n, uintptr_t addr, size_t len, int prot,
			int pkey);
long ushm__vma_madvise(uintptr_t addr, size_t len, int advice);
long ushm__vma_mlock(long n, uintptr_t addr, size_t len, unsigned int flags);
long ushm__vma_mlockall(long n, int flags);
long ushm__vma_mremap(uintptr_t old, size_t old_len, size_t new_len,
		      int flags, uintptr_t new_addr);
long ushm__vma_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd,
		    off_t off);
long ushm__vma_remap_file_pages(uintptr_t start, size_t size, int prot,
				size_t pgoff, int flags);

/* syscall(3): the mapping numbers to the functions above, the rest to
 * ushm__sysv_route if it is linked in, else to the kernel. */
long ushm__syscall_route(long n, long a, long b, long c, long d, long e,
			 long f);

/*
 * The shim's handler of the SysV numbers (shim/preload.c): true, with
 * the kernel-style result in *RET, if N is one of them.  A weak
 * reference, resolved when the objects are linked: the library alone
 * has none (its syscall() leaves SysV IPC to the kernel), the shim's
 * library has it from its first instruction, with nothing to set at
 * load and no window before a constructor runs.
 */
bool ushm__sysv_route(long n, const long args[6], long *ret)
	__attribute__((weak, visibility("hidden")));

#endif
