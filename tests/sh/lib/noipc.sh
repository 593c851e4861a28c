# noipc.sh - sourced by the drop-in suites (tests/sh/dropin_*.sh), after
# common.sh: NOIPC, a command prefix that runs its command with the
# kernel's System V IPC blocked (B/ushm-noipc, tests/fixture/noipc.c: a
# seccomp filter that children inherit), for the ushm side of each
# comparison; the kernel side runs without it, of course.
#
# That it works here is checked first: a shmget through the C library
# must fail with ENOSYS under it.  If it does not, that is a failure,
# and the suite goes on without the wrapper (NOIPC empty), so that its
# other results still count.
NOIPC=$B/ushm-noipc
if ! noipc_out=$("$NOIPC" "$B/dropin/noipc_probe" shm 2>&1) &&
   [ "$noipc_out" = "shmget ENOSYS" ]; then
	ok "ushm-noipc blocks the kernel's SysV IPC"
else
	not_ok "ushm-noipc blocks the kernel's SysV IPC ($noipc_out)"
	NOIPC=
fi
