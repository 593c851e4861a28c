#!/bin/sh
# exits_shim.sh BUILDDIR - under the preload shim, processes that end by
# exit(), _exit(), _Exit() or SIGKILL leave nattch and lpid as on the
# kernel, and a vfork child's _exit leaves its parent's alone: the shim
# has the library's _exit and _Exit (src/exit.c), since it links the
# library's objects.  tests/dropin/shm_exits.c runs on the kernel (in a
# new IPC namespace) and under `ushm run`; the outputs must match.
. "$(dirname "$0")/lib/common.sh"

SHIM=$B/libushm-preload.so
P=$B/dropin/shm_exits

if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
	skip "a sanitizer build of the shim cannot be preloaded into plain programs"
	finish
	exit
fi
if ! can_unshare; then
	not_ok "a kernel IPC namespace to compare with (unshare --ipc)"
	finish
	exit
fi
NS=$(mktemp -d /dev/shm/ushm-exits.XXXXXX) || exit 2
at_exit "rm -rf '$NS'"

check "the shim exports _exit and _Exit" \
	sh -c "nm -D '$SHIM' | grep -q ' T _exit\$' && nm -D '$SHIM' | grep -q ' T _Exit\$'"
unshare --ipc "$P" > "$T/kernel" 2>&1
check "on the kernel: runs" [ $? -eq 0 ]
"$B/ushm" run -N "$NS" -- "$P" > "$T/shim" 2>&1
check "under the shim: runs" [ $? -eq 0 ]
same "under the shim: nattch and lpid after each end as on the kernel" \
	"$T/kernel" "$T/shim"
finish
