#!/bin/sh
# dropin_noipc.sh BUILDDIR - the sandbox the drop-in suites run ushm in:
# ushm-noipc (tests/fixture/noipc.c) blocks the kernel's System V IPC
# with a seccomp filter, and ushm works under it.
#
#   - on the kernel, the twelve SysV IPC system calls answer (so that the
#     checks below can fail); under ushm-noipc every one fails with
#     ENOSYS, in the program and in its children after exec;
#   - under ushm-noipc and `ushm run`, shmget/shmat/shmdt/shmctl work
#     through ushm (the C library's functions and syscall(3) alike) and
#     answer as the kernel does, while semaphores and message queues,
#     which ushm does not do yet, still get ENOSYS.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/noipc.sh"

U=$B/ushm
P=$B/dropin/noipc_probe

if [ "$(uname -m)" != x86_64 ]; then
	not_ok "ushm-noipc supports this architecture ($(uname -m)): x86_64 only"
	finish
	exit
fi
NOIPC=$B/ushm-noipc	# what is tested here, even if lib/noipc.sh failed
ipcs -m 2> /dev/null | tail -n +4 | sort > "$T/kbefore"

CALLS="shmget shmat shmdt shmctl semget semop semtimedop semctl msgget msgsnd msgrcv msgctl"

# ---- the kernel answers, without the filter
if can_unshare; then
	unshare --ipc "$P" raw > "$T/kernel" 2>&1
	for c in $CALLS; do
		case $c in
		*get) want=ok ;;
		*) want=EINVAL ;;
		esac
		echo "$c $want"
	done > "$T/want"
	grep -v '^x32-' "$T/kernel" > "$T/kernel.12"
	same "the kernel: the twelve calls exist and answer" "$T/want" "$T/kernel.12"
	# Under the filter, in a private IPC namespace all the same: a
	# call that got through would leave nothing behind.
	IN=unshare\ --ipc
else
	skip "the kernel's answers: needs unshare --ipc"
	IN=
fi

# ---- under ushm-noipc: ENOSYS, every one
for c in $CALLS; do echo "$c ENOSYS"; done > "$T/want"
$IN "$NOIPC" "$P" raw > "$T/noipc" 2>&1
grep -v '^x32-' "$T/noipc" > "$T/noipc.12"
same "under ushm-noipc: all twelve fail with ENOSYS" "$T/want" "$T/noipc.12"
$IN "$NOIPC" sh -c 'sh -c "exec \"\$0\" raw" "$0"' "$P" > "$T/child" 2>&1
grep -v '^x32-' "$T/child" > "$T/child.12"
same "... and in a child of a child, after exec: the filter is inherited" \
	"$T/want" "$T/child.12"
"$NOIPC" sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status' |
	tr -s '\t ' ' ' > "$T/status"
printf 'NoNewPrivs: 1\nSeccomp: 2\n' > "$T/want"
same "... which is a seccomp filter, with no_new_privs" "$T/want" "$T/status"
$IN "$NOIPC" "$P" shm > "$T/libc" 2>&1
check "... the C library's shmget fails with ENOSYS" grep -qx 'shmget ENOSYS' \
	"$T/libc"
# The x32 ABI has the same calls at other numbers; only where the
# kernel runs x32 programs can the filter be seen refusing them.
if grep -qx 'x32-shmget ENOSYS' "$T/kernel" 2> /dev/null || [ -z "$IN" ]; then
	skip "x32 calls: this kernel has no x32 ABI (it refuses them itself)"
else
	check "... an x32 shmget fails with ENOSYS" \
		grep -qx 'x32-shmget ENOSYS' "$T/noipc"
fi
"$NOIPC" true
check "... other system calls work: a program runs and exits 0" [ $? -eq 0 ]
"$NOIPC" /nonexistent/program 2> /dev/null
check "ushm-noipc of a missing program exits 127" [ $? -eq 127 ]
"$NOIPC" 2> /dev/null
check "ushm-noipc without a command: usage, exit 2" [ $? -eq 2 ]

# ---- under ushm-noipc and ushm run: shm through ushm
if ldd "$B/libushm-preload.so" 2> /dev/null | grep -q libasan; then
	skip "a sanitizer build of the shim cannot be preloaded into plain programs"
else
	NS=$T/ns
	"$NOIPC" "$U" run -N "$NS" -- "$P" shm > "$T/ushm" 2>&1
	check "under ushm-noipc ushm run: shmget, shmat, write, read, shmdt, IPC_RMID work" \
		grep -qx 'shm ok' "$T/ushm"
	sed 's/^/#   /' "$T/ushm" | grep -v 'shm ok' | head -3
	"$NOIPC" "$U" run -N "$NS" -- "$P" raw > "$T/ushm.raw" 2>&1
	for c in $CALLS; do
		case $c in
		shmget|semget) want=ok ;;
		shm*|sem*) want=EINVAL ;;
		*) want=ENOSYS ;;
		esac
		echo "$c $want"
	done > "$T/want"
	grep -v '^x32-' "$T/ushm.raw" > "$T/ushm.12"
	same "... through syscall(3) too, answering as the kernel; msg still ENOSYS" \
		"$T/want" "$T/ushm.12"
	"$U" -N "$NS" ipcs -m | grep -c '^0x' > "$T/left"
	check "... and the namespace is left empty" [ "$(cat "$T/left")" -eq 0 ]
fi

ipcs -m 2> /dev/null | tail -n +4 | sort > "$T/kafter"
same "no kernel segment was made or left" "$T/kbefore" "$T/kafter"
finish
