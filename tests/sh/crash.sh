#!/bin/sh
# crash.sh BUILDDIR - nothing is lost to crashes (issue 3), within make test.
#
#   1. `ushm-crash points`: a process dies at every crash point of every
#      operation; after each death the next locker recovers, ushm_check()
#      finds nothing wrong and the state is the one before or after the
#      operation, never half of it.
#   2. `ushm-crash torture --seconds 100`: workers doing random operations
#      are killed at random instants and at random crash points; every
#      round the checker must find nothing and every segment's nattch
#      must be what the living hold.  Its line "kills: N, recoveries: R,
#      violations: V" is shown; V must be 0.
#   3. `ushm-crash waiters`: processes waiting for the registry lock are
#      killed too; none may be left asleep on a free lock.
# Namespaces live under a mktemp -d directory removed by the trap; the
# program kills and reaps its own workers (and they die with it).
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 2
bin=$B/ushm-crash
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }

[ -x "$bin" ] || make -s "$bin" >/dev/null 2>&1
if [ ! -x "$bin" ]; then
	not_ok "build $bin"
	echo "$pass passed, $fail failed"
	exit 1
fi
tmp=$(mktemp -d /dev/shm/ushm-crash-sh.XXXXXX) || exit 2
out=$(mktemp)
trap 'rm -rf "$tmp" "$out"' EXIT
export USHM_CRASH_TMP="$tmp"

# Each run is bounded: a deadlock inside shows as a failed run, and a
# hang of the program itself as a timeout.
timeout -s KILL 120 "$bin" points >"$out" 2>&1
rc=$?
grep -E '^(not ok|# )' "$out" | grep -v '^# crash points:' | sed 's/^/# /'
sed -n 's/^# crash points: /# /p' "$out"
# Each crash point counts as one test of this suite.
last=$(tail -1 "$out")
case $last in
*" passed, "*" failed")
	p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed*}
	pass=$((pass + p)); fail=$((fail + f))
	echo "# crash points: $p recovered cleanly, $f did not"
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || not_ok "ushm-crash points: exit $rc"
	;;
*)	not_ok "ushm-crash points: no result (exit $rc)" ;;
esac

timeout -s KILL 180 "$bin" torture --seconds "${CRASH_SECONDS:-100}" >"$out" 2>&1
rc=$?
grep '^# ' "$out" | head -40 | sed 's/^/# /'
line=$(grep '^kills: ' "$out")
echo "# $line"
case $line in
*", violations: 0")
	[ $rc -eq 0 ] && ok "torture: $line" || not_ok "torture: exit $rc"
	;;
*)	not_ok "torture: ${line:-no result (exit $rc)}" ;;
esac

# Processes killed while they wait for the registry lock must not leave
# another waiting forever on a free lock (a lost wakeup).
timeout -s KILL 60 "$bin" waiters --seconds "${WAITERS_SECONDS:-10}" >"$out" 2>&1
rc=$?
grep '^# ' "$out" | head -10 | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q '^ok 1' "$out"; then
	ok "no process left waiting on a free registry lock after kills"
else
	not_ok "no process left waiting on a free registry lock after kills"
fi

left=$(find "$tmp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
if [ "$left" -eq 0 ]; then
	ok "no namespace left behind"
else
	not_ok "$left namespaces left behind"
fi
echo "$pass passed, $fail failed"
