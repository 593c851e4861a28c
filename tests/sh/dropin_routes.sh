#!/bin/sh
# dropin_routes.sh BUILDDIR - every route that changes mappings, in an
# unmodified program under the preload shim, as on the kernel.
#
# tests/dropin/shm_routes.c goes through each route (the libc functions,
# syscall(3) with their numbers, remap_file_pages(2) both ways, and the
# same from a library loaded with dlopen(RTLD_DEEPBIND), whose calls bind
# to libc's patched entries) and prints a call's result and nattch after
# each step.  It runs on the kernel (unshare --ipc) and under `ushm run`,
# and the traces must match line for line.  strace shows that under the
# shim no SysV shm system call is made.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

U=$B/ushm
D=$B/dropin
SHIM=$B/libushm-preload.so

if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
	skip "a sanitizer build of the shim cannot be preloaded into plain programs"
	finish
	exit
fi
if [ "$(id -u)" -ne 0 ] || ! can_unshare; then
	skip "needs root for a private IPC namespace (the kernel's trace)"
	finish
	exit
fi
need strace strace || not_ok "strace is available"

NS=$(mktemp -d /dev/shm/ushm-routes.XXXXXX) || exit 2
chmod 1777 "$NS"
at_exit "rm -rf '$NS'"
shim_run() { "$U" run -N "$NS" -- "$@"; }

for r in libc syscall deep deepsys; do
	unshare --ipc "$D/shm_routes" "$r" "$D/libshmroutes.so" \
		> "$T/$r.k" 2>&1
	check "$r: the program ran on the kernel" [ $? -eq 0 ]
	shim_run strace -f -qq -o "$T/$r.strace" \
		-e trace=shmget,shmat,shmdt,shmctl \
		"$D/shm_routes" "$r" "$D/libshmroutes.so" > "$T/$r.u" 2>&1
	check "$r: the program ran under the shim" [ $? -eq 0 ]
	same "$r: every step as on the kernel" "$T/$r.k" "$T/$r.u"
	check "$r: no SysV shm system call under the shim" \
		sh -c "! grep -Eq 'shm(get|at|dt|ctl)\\(' '$T/$r.strace'"
done

# The traces show what they claim (so the comparison can fail).
check "a middle-page munmap makes two pieces" \
	grep -qx "munmap-middle r=0 nattch=2" "$T/syscall.k"
check "a remapped page adds a piece" \
	grep -qx "remap-page1-to-3 r=0 nattch=3" "$T/syscall.k"
check "shmdt skips the remapped page" \
	grep -qx "shmdt r=0 nattch=1" "$T/syscall.k"
check "the remap loop ends with EINVAL and the segment destroyed" \
	grep -qx "loop-removed r=-22 stat-errno=22" "$T/deepsys.k"

check "no segment left in the namespace" \
	sh -c "! ls '$NS'/segments/* > /dev/null 2>&1"

# Without the libc patches, the DEEPBIND library's calls miss the shim:
# shows that the deep runs go through the patched entries.  (Its remaps
# then go to the kernel unaccounted, and may end in SIGBUS: in a
# namespace of its own.)
NS2=$(mktemp -d /dev/shm/ushm-routes.XXXXXX) || exit 2
chmod 1777 "$NS2"
at_exit "rm -rf '$NS2'"
USHM_SHIM_NOPATCH=1 "$U" run -N "$NS2" -- "$D/shm_routes" deep \
	"$D/libshmroutes.so" > "$T/nopatch.u" 2>&1
check "deep without the libc patches differs from the kernel" \
	sh -c "! cmp -s '$T/deep.k' '$T/nopatch.u'"
finish
