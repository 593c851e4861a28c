#!/bin/sh
# dropin_sem_programs.sh BUILDDIR - real programs' System V semaphores:
# Perl's IPC::Semaphore, python3-sysv-ipc's Semaphore and PHP's sysvsem,
# each between processes (a child that blocks and is released, SEM_UNDO,
# IPC_NOWAIT, removal), on the kernel (unshare --ipc) and under `ushm run`
# with the kernel's SysV IPC blocked (lib/noipc.sh): the same output; and
# stress-ng --sem-sysv with its verification.
# The interpreters and bindings are installed with apt-get if missing.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

U=$B/ushm
P=$(cd "$(dirname "$0")/progs" && pwd)
need_shim_and_kernel
. "$(dirname "$0")/lib/noipc.sh"

# both NAME CMD...: CMD's output on the kernel and on ushm, compared.
both() {
	bn=$1
	shift
	unshare --ipc "$@" > "$T/$bn.k" 2>&1
	echo "exit $?" >> "$T/$bn.k"
	ns=$(mktemp -d /dev/shm/ushm-semprog.XXXXXX) && at_exit "rm -rf '$ns'"
	$NOIPC "$U" run -N "$ns" -- "$@" > "$T/$bn.u" 2>&1
	echo "exit $?" >> "$T/$bn.u"
	check "$bn: the kernel run ends well ($(tail -n 3 "$T/$bn.k" |
		tr '\n' ' '))" [ "$(tail -n 1 "$T/$bn.k")" = "exit 0" ]
	same "$bn: ushm says what the kernel says" "$T/$bn.k" "$T/$bn.u"
}

if need perl perl && perl -MIPC::Semaphore -e 1 2> /dev/null; then
	both perl perl "$P/sem_perl.pl"
else
	not_ok "perl with IPC::Semaphore is available"
fi
# Debian's python3, the one python3-sysv-ipc is built for (another one
# may come first in PATH).
need_pkg python3-sysv-ipc > /dev/null || true
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import sysv_ipc' 2> /dev/null; then
	both python "$PY" "$P/sem_python.py"
else
	not_ok "python3-sysv-ipc is available"
fi
if need php php-cli && php -r 'exit(function_exists("sem_get") &&
	function_exists("pcntl_fork") ? 0 : 1);'; then
	both php php "$P/sem_php.php"
else
	not_ok "php-cli with sysvsem and pcntl is available"
fi
# SEM_UNDO kept across exec, by libc's execve (the shim's) and execvp
# (the library's wrapper): applied when the new program ends.
for how in execve execvp; do
	both "exec-$how" "$B/dropin/sem_exec" "$how"
	check "exec-$how: the undo waited for the new program's end" \
		grep -qx 'after exec: 1' "$T/exec-$how.u"
done

# stress-ng's SysV semaphore stressor with its own verification, under
# the shim: it must complete and leave a sound namespace.  (Its speed is
# not a test: `make bench` measures.)
if need stress-ng stress-ng; then
	ns=$(mktemp -d /dev/shm/ushm-semprog.XXXXXX) && at_exit "rm -rf '$ns'"
	$NOIPC "$U" run -N "$ns" -- stress-ng --sem-sysv 2 --sem-sysv-procs 4 \
		--sem-sysv-ops 40000 --verify --metrics-brief > "$T/stress" 2>&1
	check "stress-ng --sem-sysv --verify completes under ushm ($(tail -n 2 \
		"$T/stress" | tr '\n' ' '))" \
		grep -q 'successful run completed' "$T/stress"
	check "stress-ng reports no failure" sh -c "! grep -Eiq 'fail|error' '$T/stress'"
	check "the namespace is sound after stress-ng" "$U" -N "$ns" check
else
	not_ok "stress-ng is available"
fi
finish
