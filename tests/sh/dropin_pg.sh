#!/bin/sh
# dropin_pg.sh BUILDDIR - PostgreSQL 15 with SysV shared memory, unmodified,
# on ushm under `ushm run`, as a user other than root.
#
# One sequence (tests/sh/lib/pg_sequence.sh) runs twice: on the kernel,
# in a new IPC namespace, and under `ushm run` on a fresh namespace:
#   initdb; start; pgbench -i; pgbench -t 200 (the transactions are
#   counted); pg_ctl -m immediate stop; start again; kill -9 of the
#   postmaster (its children then die); start again, which finds its old
#   segment by the key in postmaster.pid, sees nobody attached and
#   replaces it; a clean stop.
# After each step it records the segments (keys by order of appearance,
# ids, perms, sizes, nattch against the number of server processes); the
# two records must be the same.  Under ushm, the kernel's own segment
# table must show no segment of nobody's at any step, and every command
# runs under ushm-noipc (lib/noipc.sh): the kernel's SysV IPC blocked for
# the postmaster and every backend, which inherit the filter.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

PGBIN=/usr/lib/postgresql/15/bin
if [ "$(id -u)" -ne 0 ] || ! can_unshare; then
	skip "needs root (a server user, unshare --ipc for the kernel run)"
	finish
	exit
fi
if ldd "$B/libushm-preload.so" 2>/dev/null | grep -q libasan; then
	skip "a sanitizer build of the shim cannot be preloaded into PostgreSQL"
	finish
	exit
fi
. "$(dirname "$0")/lib/noipc.sh"
if [ ! -x "$PGBIN/postgres" ]; then
	need_pkg postgresql-15 || true
fi
if [ ! -x "$PGBIN/postgres" ] || ! need setpriv util-linux; then
	not_ok "PostgreSQL 15 and setpriv are available"
	finish
	exit
fi

SEQ=$(cd "$(dirname "$0")" && pwd)/lib/pg_sequence.sh
started=$(date +%s)

mkdir "$T/kernel" "$T/ushm"
chmod 755 "$T/kernel" "$T/ushm"
# Whatever happens, no server is left running (each run stops its own
# too; this is for a run that was itself killed).
at_exit "sh '$SEQ' cleanup '$T/kernel'; sh '$SEQ' cleanup '$T/ushm'"

# A subreaper reaps the killed postmaster at once (see subreaper.c).
unshare --ipc "$B/dropin/subreaper" sh "$SEQ" run "$T/kernel" \
	> "$T/kernel.log" 2>&1
rc=$?
check "kernel run completed" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/kernel.log"

NS=$(mktemp -d /dev/shm/ushm-pg.XXXXXX) && chmod 1777 "$NS"
at_exit "rm -rf '$NS'"
RUN="$NOIPC $B/ushm run -N $NS --" KERNEL_WATCH=1 FILTER_WATCH=1 \
	"$B/dropin/subreaper" sh "$SEQ" run "$T/ushm" > "$T/ushm.log" 2>&1
rc=$?
check "ushm run completed" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/ushm.log"

check "pgbench: 200 transactions processed and committed under ushm" \
	grep -qx "committed 200" "$T/ushm/states"
# After the crash the old main segment (K1, the key postmaster.pid names)
# is left unattached; the restart removes it and makes K1 anew.
old=$(awk '$1 == "crashed" && $2 == "K1" && $6 == 0 { print $3 }' "$T/ushm/states")
new=$(awk '$1 == "after-crash-restart" && $2 == "K1" { print $3 }' "$T/ushm/states")
check "after the crash the old segment stays, unattached" [ -n "$old" ]
replaced() {
	[ -n "$new" ] && [ "$new" != "$old" ] &&
		! grep -q "^after-crash-restart [^ ]* $old " "$T/ushm/states"
}
check "the restart found it by its key and replaced it" replaced
same "the sequence of segment states: as on the kernel" \
	"$T/kernel/states" "$T/ushm/states"
check "the kernel's segment table never had a segment of the server" \
	[ ! -s "$T/ushm/kernel-leaks" ]
if [ -n "$NOIPC" ]; then
	# The postmaster and every backend inherited ushm-noipc's filter.
	filtered() {
		[ "$(awk '$3 == 2' "$T/ushm/seccomp" | wc -l)" -ge 5 ] &&
			! awk '$3 != 2 && $3 != "gone"' "$T/ushm/seccomp" | grep -q .
	}
	check "every server process ran with the kernel's SysV IPC blocked" filtered
	awk '$3 != 2' "$T/ushm/seccomp" | head -5 | sed 's/^/#   /'
fi
check "no server process is left" \
	sh -c "! grep -q . '$T/ushm/pids-alive' 2>/dev/null"
grep -E '^(tps|number of transactions)' "$T/ushm/bench.out" | sed 's/^/# ushm: /'
grep -E '^(tps|number of transactions)' "$T/kernel/bench.out" | sed 's/^/# kernel: /'
sed 's/^/# /' "$T/ushm/states"
echo "# $(($(date +%s) - started)) s"
finish
