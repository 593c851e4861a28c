#!/bin/sh
# bench_smoke.sh BUILDDIR - the benchmark runs and prints its table.
#
# Asserts structure only, never speed: `ushm-bench --quick --case
# shmget_existing_10` exits 0, prints the table line of that case with two
# numeric rates, and leaves no namespace directory behind.
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 2
bin=$B/ushm-bench
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }

# The bench rule links the plain library; a sanitizer build has none.
if [ "$B" = build ]; then
	make -s "$bin" >/dev/null 2>&1 || { not_ok "build $bin"; }
fi
if [ ! -x "$bin" ]; then
	echo "# $bin not built; skipped"
	echo "$pass passed, $fail failed"
	exit 0
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
before=$(ls -d /dev/shm/ushm-bench.* 2>/dev/null | wc -l)
if timeout 60 "$bin" --quick --case shmget_existing_10 >"$out" 2>&1; then
	ok "ushm-bench --quick --case shmget_existing_10 exits 0"
else
	not_ok "ushm-bench --quick --case shmget_existing_10 exits 0"
	sed 's/^/# /' "$out"
fi
if grep -Eq '^shmget_existing_10 +[0-9]+ +[0-9]+ +op/s +[0-9]+\.[0-9]+ ' "$out"
then
	ok "table line with kernel and ushm op/s and a ratio"
else
	not_ok "table line with kernel and ushm op/s and a ratio"
	sed 's/^/# /' "$out"
fi
if grep -q '^# command: .*ushm-bench --quick --case shmget_existing_10$' \
	"$out" && grep -q '^# kernel: .*uname -r' "$out"; then
	ok "header names the command and the machine"
else
	not_ok "header names the command and the machine"
fi
after=$(ls -d /dev/shm/ushm-bench.* 2>/dev/null | wc -l)
if [ "$after" -le "$before" ]; then
	ok "no namespace directory left behind"
else
	not_ok "no namespace directory left behind"
fi
echo "$pass passed, $fail failed"
