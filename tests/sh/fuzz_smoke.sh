#!/bin/sh
# fuzz_smoke.sh BUILDDIR - a short run of the registry fuzzer (fuzz/registry.c).
#
# Installs clang and libFuzzer if they are missing (tests/sh/lib/
# fuzz_toolchain.sh), builds build/fuzz/registry and runs it for
# FUZZ_SMOKE_SECONDS (default 20) on a fresh corpus: it must end without
# a crash (no sanitizer report, no deadly signal).  The number of runs is
# shown.  Everything it makes lives in a mktemp -d directory, removed.
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }

if ! tests/sh/lib/fuzz_toolchain.sh; then
	not_ok "clang with libFuzzer"
	echo "$pass passed, $fail failed"
	exit 1
fi
bin=build/fuzz/registry
if ! make -s "$bin" >/dev/null 2>&1; then
	not_ok "build $bin"
	echo "$pass passed, $fail failed"
	exit 1
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus"
TMPDIR=$tmp timeout -s KILL 120 "$bin" -max_total_time="${FUZZ_SMOKE_SECONDS:-20}" \
	-artifact_prefix="$tmp/" "$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/log")
echo "# ${runs:-0} runs, $(ls "$tmp/corpus" | wc -l) inputs in the corpus"
if [ $rc -eq 0 ] && [ -n "$runs" ]; then
	ok "registry fuzzer: no crash in ${FUZZ_SMOKE_SECONDS:-20} s"
else
	grep -E 'ERROR|SUMMARY|deadly|Test unit|Base64' "$tmp/log" | head -10 | sed 's/^/# /'
	grep -A12 'ERROR: ' "$tmp/log" | grep '#[0-9]' | head -8 | sed 's/^/# /'
	not_ok "registry fuzzer: no crash in ${FUZZ_SMOKE_SECONDS:-20} s (exit $rc)"
fi
echo "$pass passed, $fail failed"
