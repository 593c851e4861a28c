#!/bin/sh
# tool_ipcs.sh BUILDDIR - `ushm ipcs` against util-linux ipcs, byte for byte.
#
# The fixture program builds the same segments (attached twice, private
# and locked, marked for destruction while attached, given to nobody and
# to 4242, 5 GiB, key 0xdeadbeef) once on the kernel, inside a new IPC
# namespace, and once in a fresh ushm namespace, and runs every ipcs mode
# while they exist.  Both namespaces are fresh, so the ids are the same;
# the fixture's pid and the times differ and are normalised.
. "$(dirname "$0")/tool_common"

if ! can_unshare; then
	echo "# skip: cannot make a kernel IPC namespace (unshare --ipc)"
	finish
	exit
fi

# name:args, "_" for a blank.
# Not compared, on purpose: -a and --human alone (ipcs adds its message
# queue and semaphore sections; ushm has only shared memory) and a
# negative -i ID (ipcs then shows the first segment under that id).
modes="m:-m c:-m_-c p:-m_-p t:-m_-t b:-m_-b human:-m_--human
i0:-m_-i_0 i1:-m_-i_1 i2:-m_-i_2 i3:-m_-i_3 i4:-m_-i_4 i5:-m_-i_5
i6:-m_-i_6 i5b:-m_-i_5_-b i5h:-m_-i_5_--human
l:-m_-l lb:-m_-l_-b lh:-m_-l_--human u:-m_-u
missing:-m_-i_999999 noresource:-i_0"
cat > "$T/modes.sh" <<'SCRIPT'
for m in $MODES; do
	n=${m%%:*}
	a=$(echo "${m#*:}" | tr _ ' ')
	$PROG $a > "$OUT/$n" 2>&1
	echo "exit $?" >> "$OUT/$n"
done
SCRIPT
mkdir "$T/k" "$T/u"
unshare --ipc env MODES="$modes" OUT="$T/k" PROG=ipcs \
	"$FIX" -- sh "$T/modes.sh" || not_ok "kernel fixture ran"
USHM_DIR=$(newns) MODES="$modes" OUT="$T/u" PROG="$U ipcs" \
	"$FIX" -u -- sh "$T/modes.sh" || not_ok "ushm fixture ran"

# The fixture's pid (cpid, lpid) is the first number on the -p rows.
kpid=$(awk 'NR == 4 { print $3 }' "$T/k/p")
upid=$(awk 'NR == 4 { print $3 }' "$T/u/p")
norm() {
	sed -E -e "s/\\b$1\\b */PID /g" \
	    -e 's/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}/DATE/g' \
	    -e 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}/DATE/g' \
	    -e 's/^ipcs: /ushm: /' "$2"
}
check "the fixture's pids were found" [ -n "$kpid" ] && [ -n "$upid" ]
for m in $modes; do
	n=${m%%:*}
	norm "$kpid" "$T/k/$n" > "$T/k.$n"
	norm "$upid" "$T/u/$n" > "$T/u.$n"
	same "ipcs $(echo "${m#*:}" | tr _ ' ')" "$T/k.$n" "$T/u.$n"
done

ns=$(newns)
expect "ipcs -m -i -5: not found, exit 0" 0 '^ushm: id -5 not found$' \
	env USHM_DIR="$ns" "$U" ipcs -m -i -5
expect "ipcs -m -i abc: malformed" 2 "^ushm: failed to parse id argument: 'abc'$" \
	env USHM_DIR="$ns" "$U" ipcs -m -i abc
expect "ipcs -q: not in ushm" 2 'only shared memory' \
	env USHM_DIR="$ns" "$U" ipcs -q
expect "ipcs on an unusable namespace" 3 '^ushm: .*not a directory' \
	env USHM_DIR=/dev/null "$U" ipcs
check "a fixture pid is not one of the fixture's values" \
	sh -c "! echo ' 0 1 2 3 4 5 6 100 1000 4096 4242 4343 12345 65534 65536 ' | grep -q ' $kpid \\| $upid '"
finish
