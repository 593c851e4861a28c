#!/bin/sh
# examples/demo.sh [BUILDDIR] - the writer/reader pair on ushm.
#
# The writer reads lines into a shared segment (key 1234), the reader
# prints them as "You wrote: ..." and removes the segment after "end".
# Both use the default namespace: $USHM_DIR if set, else the system
# namespace /run/ushm (made on first use by root), else a private one.
# A namespace that the demo itself made is removed again at the end.
set -e
B=${1:-build}
cd "$(dirname "$0")/.."
ns=${USHM_DIR:-}
if [ -z "$ns" ]; then
	if [ "$(id -u)" = 0 ]; then ns=/run/ushm
	elif [ -d /run/ushm ] && [ -k /run/ushm ]; then ns=/run/ushm
	elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then ns=$XDG_RUNTIME_DIR/ushm
	else ns=/dev/shm/ushm-$(id -u)
	fi
fi
made_ns=
[ -e "$ns" ] || made_ns=1
echo "# namespace: $ns"

"$B/examples/shm_reader" > "${TMPDIR:-/tmp}/ushm-demo-reader.$$" &
reader=$!
printf 'hello from the writer\nSystem V shared memory, in user space\nend\n' |
	"$B/examples/shm_writer"
wait "$reader"
echo "# the reader printed:"
cat "${TMPDIR:-/tmp}/ushm-demo-reader.$$"
rm -f "${TMPDIR:-/tmp}/ushm-demo-reader.$$"
if [ -x "$B/ushm" ]; then
	echo "# segments left in the namespace (the reader removed its own):"
	"$B/ushm" ipcs -m
fi
if [ -n "$made_ns" ] && [ -z "$(ls -A "$ns/segments" 2>/dev/null)" ]; then
	rm -rf "$ns"
	echo "# removed the namespace the demo made"
fi
