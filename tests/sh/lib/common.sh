# common.sh - sourced by test suites (tests/sh/*.sh): counting and
# comparing, in the form tests/run adds up.
#
#   . "$(dirname "$0")/lib/common.sh"       (with BUILDDIR as $1)
#
# Sets B (the build directory, absolute) and T (a scratch directory,
# removed at exit unless KEEP=1; register more cleanup with at_exit).
# Each suite ends with `finish`, which prints "N passed, N failed" as its
# last line.
B=$(cd "${1:-build}" && pwd) || exit 2
pass=0
fail=0
skipped=0
cleanups=
T=$(mktemp -d "${TMPDIR:-/tmp}/ushm-sh.XXXXXX") || exit 2
chmod 755 "$T"

# at_exit CMD: run CMD (a shell string) at exit, before T is removed;
# the last registered runs first.
at_exit() { cleanups="$1
$cleanups"; }
common_cleanup() {
	eval "$cleanups"
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap 'common_cleanup' EXIT
trap 'exit 1' INT TERM HUP

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
skip() { skipped=$((skipped + 1)); echo "ok - # skip $*"; }

# check NAME CMD...: CMD's exit status says whether NAME holds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# same NAME FILE1 FILE2: equal byte for byte, or a diff is shown.
same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff -u "$2" "$3" | sed 's/^/#   /' | head -40
	fi
}

# Whether we may make kernel IPC namespaces (root, usually).
can_unshare() { unshare --ipc true 2> /dev/null; }

# For the drop-in suites that compare plain programs under the shim with
# the kernel: end the suite with a skip when that cannot be done (a
# sanitizer build of the shim, which plain programs cannot preload; no
# root or no unshare --ipc).
need_shim_and_kernel() {
	if ldd "$B/libushm-preload.so" 2>/dev/null | grep -q libasan; then
		skip "a sanitizer build of the shim cannot be preloaded into plain programs"
		finish
		exit
	fi
	if [ "$(id -u)" -ne 0 ] || ! can_unshare; then
		skip "needs root and unshare --ipc to compare with the kernel"
		finish
		exit
	fi
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
