#!/bin/sh
# tool_ls.sh BUILDDIR - `ushm ls` against util-linux lsipc -m, and its
# JSON against `ushm stat`.
#
# The same fixture as tool_ipcs.sh, on the kernel (lsipc) and on ushm
# (ushm ls), with the same command line (FIXTURE_USHM=1 selects ushm) so
# that COMMAND matches too.  CGID differs (lsipc prints the creator's uid
# there, a bug), so it is left out; the fixture's pid and the times are
# normalised.
. "$(dirname "$0")/tool_common"

cols=KEY,ID,PERMS,OWNER,SIZE,NATTCH,STATUS,CTIME,CPID,LPID,CUID,CUSER,CGROUP,UID,USER,GID,GROUP,ATTACH,DETACH
modes="default: dflt:-o_$cols bytes:-b_-o_$cols numperms:-P_-o_$cols
raw:--raw_-o_$cols json:--json_-o_$cols noheadings:--noheadings_-o_$cols
plus:-o_KEY_-o_+ID,NATTCH iso:--time-format_iso_-o_ID,CTIME,ATTACH,DETACH
full:--time-format_full_-o_ID,CTIME,ATTACH,DETACH"
cat > "$T/modes.sh" <<'SCRIPT'
for m in $MODES; do
	n=${m%%:*}
	a=$(echo "${m#*:}" | tr _ ' ')
	$PROG $a > "$OUT/$n" 2>&1
	echo "exit $?" >> "$OUT/$n"
done
[ -z "$STAT" ] && exit 0
# For the JSON check: ls --json, then stat of every segment.
$PROG --json -b -o KEY,ID,PERMS,OWNER,SIZE,NATTCH,STATUS,CPID,LPID,UID,GID,CUID,CGID > "$OUT/ls.json"
for id in $A $B $C $D $E $F $G; do
	$STAT "$id" > "$OUT/stat.$id" || echo "stat $id failed" >> "$OUT/errors"
done
SCRIPT
mkdir "$T/k" "$T/u"
if can_unshare; then
	unshare --ipc env MODES="$modes" OUT="$T/k" PROG="lsipc -m" \
		"$FIX" -- sh "$T/modes.sh" || not_ok "kernel fixture ran"
fi
USHM_DIR=$(newns) MODES="$modes" OUT="$T/u" PROG="$U ls" STAT="$U stat" \
	FIXTURE_USHM=1 "$FIX" -- sh "$T/modes.sh" || not_ok "ushm fixture ran"

if can_unshare; then
	# The fixture's pid is the CPID of every row; it becomes as many Ps.
	kpid=$(awk 'NR == 2 { print $9 }' "$T/k/dflt")
	upid=$(awk 'NR == 2 { print $9 }' "$T/u/dflt")
	norm() {
		p=$(echo "$1" | tr 0-9 P)
		sed -E -e "s/\\b$1\\b/$p/g" \
		    -e 's/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}/DATE/g' \
		    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{2}:[0-9]{2}/ISODATE/g' \
		    -e 's/\b[0-9]{2}:[0-9]{2}\b/HH:MM/g' "$2"
	}
	check "the fixture's pids were found" [ -n "$kpid" ] && [ -n "$upid" ]
	for m in $modes; do
		n=${m%%:*}
		norm "$kpid" "$T/k/$n" > "$T/k.$n"
		norm "$upid" "$T/u/$n" > "$T/u.$n"
		args=$(echo "${m#*:}" | tr _ ' ')
		[ -n "$args" ] || args="(default columns)"
		same "ls $(echo "$args" | cut -c1-40)$(echo "$args" | cut -c41- | sed 's/..*/.../') as lsipc -m" \
			"$T/k.$n" "$T/u.$n"
	done
else
	echo "# skip: no kernel IPC namespace (unshare --ipc): lsipc not compared"
fi

check "stat ran for every segment" [ ! -e "$T/u/errors" ]
# Every value of ls --json is the one stat shows.
if python3 - "$T/u" > "$T/json.out" 2>&1 <<'PY'
import json, os, pwd, sys
d = sys.argv[1]
rows = json.load(open(os.path.join(d, "ls.json")))["sharedmemory"]
assert len(rows) == 7, "want 7 segments, got %d" % len(rows)
bad = 0
for r in rows:
    st = {}
    for line in open(os.path.join(d, "stat." + r["id"])):
        if ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            st[k] = v.split()
    def name(uid):
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)
    want = {
        "key": st["key"][0], "id": st["id"][0],
        "perms": st["perms"][1].strip("()"),
        "owner": name(int(st["owner"][0])), "size": st["size"][0],
        "nattch": st["nattch"][0],
        "status": None if st["status"][0] == "-" else st["status"][0],
        "cpid": st["cpid"][0], "lpid": st["lpid"][0],
        "uid": st["owner"][0], "gid": st["owner"][1],
        "cuid": st["creator"][0], "cgid": st["creator"][1],
    }
    for k, v in want.items():
        if r[k] != v:
            print("id %s: %s is %r in ls --json, %r in stat" % (r["id"], k, r[k], v))
            bad += 1
sys.exit(1 if bad else 0)
PY
then
	ok "ls --json carries the values of stat for every segment"
else
	not_ok "ls --json carries the values of stat for every segment"
	sed 's/^/#   /' "$T/json.out"
fi
check "stat: dest segment nattch 1 by 1 process" \
	grep -q '^attachments: 1 record$' "$T/u/stat.2"
check "stat: attached twice, by two processes" \
	grep -q '^attachments: 2 records$' "$T/u/stat.0"
check "stat: 3 of 16 pages resident in segment 1" \
	grep -q '^resident:    3 of 16 pages' "$T/u/stat.1"
check "stat: 5 GiB segment, 1 page in memory" \
	grep -q '^in memory:   1 of 1310720 pages' "$T/u/stat.5"

ns=$(newns)
expect "ls on an empty namespace prints nothing" 0 '' env USHM_DIR="$ns" "$U" ls
check "... really nothing" [ ! -s "$T/out" ]
expect "ls --json on an empty namespace" 0 '' env USHM_DIR="$ns" "$U" ls --json
check "... is an empty array" python3 -c "import json,sys; assert json.load(open(sys.argv[1])) == {'sharedmemory': []}" "$T/out"
expect "ls -o with an unknown column" 2 '^ushm: unknown column: NOPE$' \
	env USHM_DIR="$ns" "$U" ls -o KEY,NOPE
expect "ls --time-format bad" 2 'unknown time format' \
	env USHM_DIR="$ns" "$U" ls --time-format never
expect "ls -i of a missing id" 1 '^ushm: id 3 not found$' \
	env USHM_DIR="$ns" "$U" ls -i 3
check "ls --help lists every column" sh -c "'$U' ls --help | grep -q '^      FILE  '"
finish
