#!/bin/sh
# tool_admin.sh BUILDDIR - the acting subcommands of ushm: ipcmk, ipcrm
# (also against util-linux's messages), limits, check and repair, reap,
# namespace, map, and their answers to bad input: one line, a non-zero
# exit, nothing changed.
. "$(dirname "$0")/tool_common"

nseg() { "$U" -N "$1" ipcs -m | grep -c '^0x'; }

# ---- ipcmk ----
ns=$(newns)
expect "ipcmk -M 100 -p 600" 0 '' "$U" -N "$ns" ipcmk -M 100 -p 600
check "... prints the id" grep -qx 'Shared memory id: 0' "$T/out"
"$U" -N "$ns" ipcmk -M 1K > /dev/null
"$U" -N "$ns" ipcmk -M 2KiB > /dev/null
"$U" -N "$ns" ipcmk -M 1MB > /dev/null
"$U" -N "$ns" ipcmk -M 1.5K > /dev/null
"$U" -N "$ns" ipcs -m -b | awk '/^0x/ { print $4, $5 }' > "$T/sizes"
printf '600 100\n644 1024\n644 2048\n644 1000000\n644 1536\n' > "$T/want"
same "ipcmk sizes and modes (1K, 2KiB, 1MB, 1.5K; -p 600)" "$T/want" "$T/sizes"
expect "ipcmk -M 0" 1 '^ushm: create share memory failed: Invalid argument$' \
	"$U" -N "$ns" ipcmk -M 0
expect "ipcmk -M abc" 2 "^ushm: failed to parse size: 'abc'" \
	"$U" -N "$ns" ipcmk -M abc
expect "ipcmk -M 1Q" 2 "failed to parse size" "$U" -N "$ns" ipcmk -M 1Q
expect "ipcmk -p 999" 2 "^ushm: failed to parse mode: '999'$" \
	"$U" -N "$ns" ipcmk -M 10 -p 999
expect "ipcmk without -M" 2 'bad usage' "$U" -N "$ns" ipcmk
check "... and none of them made a segment" [ "$(nseg "$ns")" -eq 5 ]

# ---- ipcrm ----
key=$("$U" -N "$ns" ipcs -m | awk '$2 == 1 { print $1 }')
expect "ipcrm -m 0" 0 '' "$U" -N "$ns" ipcrm -m 0
expect "ipcrm -M KEY" 0 '' "$U" -N "$ns" ipcrm -M "$key"
check "... both gone" [ "$(nseg "$ns")" -eq 3 ]
expect "ipcrm -m 99" 1 '^ushm: invalid id \(99\)$' "$U" -N "$ns" ipcrm -m 99
expect "ipcrm -M 0x55" 1 '^ushm: invalid key \(0x55\)$' \
	"$U" -N "$ns" ipcrm -M 0x55
expect "ipcrm -M 0" 1 '^ushm: illegal key \(0\)$' "$U" -N "$ns" ipcrm -M 0
expect "ipcrm -m 2 -m abc: malformed, nothing removed" 2 \
	"^ushm: failed to parse argument: 'abc'$" \
	"$U" -N "$ns" ipcrm -m 2 -m abc
expect "ipcrm -m 2147483648" 2 'Numerical result out of range' \
	"$U" -N "$ns" ipcrm -m 2147483648
check "... nothing was removed" [ "$(nseg "$ns")" -eq 3 ]
expect "ipcrm -m 99 -m 2: the good one still goes" 1 'invalid id \(99\)' \
	"$U" -N "$ns" ipcrm -m 99 -m 2
check "... it did" [ "$(nseg "$ns")" -eq 2 ]
expect "ipcrm -a" 0 '' "$U" -N "$ns" ipcrm -a
check "... every segment went" [ "$(nseg "$ns")" -eq 0 ]

# The same mistakes on the kernel give the same lines and exit statuses.
if can_unshare; then
	cat > "$T/errs.sh" <<'SCRIPT'
for a in "-m 99" "-M 0x55" "-M 0" "-m -1" "-m 99 -m 98"; do
	$PROG $a 2>&1
	echo "exit $?"
done
SCRIPT
	unshare --ipc env PROG=ipcrm sh "$T/errs.sh" 2>&1 |
		sed 's/^ipcrm: /ushm: /' > "$T/kerrs"
	USHM_DIR=$(newns) PROG="$U ipcrm" sh "$T/errs.sh" > "$T/uerrs" 2>&1
	same "ipcrm mistakes as util-linux ipcrm says them" "$T/kerrs" "$T/uerrs"
fi

# Removing an attached segment marks it; its key goes private at once.
ns=$(newns)
cat > "$T/rm.sh" <<'SCRIPT'
"$U" ipcrm -m "$A" && "$U" ipcrm -M 0x7fffffff &&
"$U" ipcs -m | awk -v a="$A" '$2 == a { print $1, $6, $7 }'
"$U" ipcs -m | grep -c '^0x7fffffff'
SCRIPT
USHM_DIR=$ns U="$U" "$FIX" -u -- sh "$T/rm.sh" > "$T/rm.out" 2>&1
printf '0x00000000 2 dest\n0\n' > "$T/want"
same "ipcrm of an attached segment marks it dest, key private" \
	"$T/want" "$T/rm.out"
check "... and it went with its last detach" [ "$(nseg "$ns")" -eq 3 ]

# As nobody, root's segments in a shared namespace cannot be removed.
if command -v setpriv > /dev/null && [ "$(id -u)" -eq 0 ]; then
	ns=$(newns)
	"$U" namespace create --shared "$ns" > /dev/null
	"$U" -N "$ns" ipcmk -M 10 > /dev/null
	expect "ipcrm as nobody: permission denied" 1 \
		'^ushm: permission denied for id \(0\)$' \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$U" -N "$ns" ipcrm -m 0
	expect "ipcs as nobody sees root's segment" 0 '' \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$U" -N "$ns" ipcs -m
	check "... listed" grep -q '^0x.* 0  *root ' "$T/out"
	expect "limits as nobody: not allowed, one line" 1 'permission denied' \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$U" -N "$ns" limits shmmni=5
fi

# ---- limits ----
ns=$(newns)
expect "limits shows five" 0 '' "$U" -N "$ns" limits
printf 'shmmax           18446744073692774399\nshmall           18446744073692774399\nshmmni           4096\nshm_rmid_forced  0\nshm_next_id      -1\n' > "$T/want"
same "... with the kernel's defaults" "$T/want" "$T/out"
expect "limits shmmni=1 shm_next_id=100" 0 '' \
	"$U" -N "$ns" limits shmmni=1 shm_next_id=100
expect "... then a segment has id 100" 0 '' "$U" -N "$ns" ipcmk -M 1
check "... it has" grep -qx 'Shared memory id: 100' "$T/out"
expect "... and shmmni=1 refuses a second" 1 'No space left on device' \
	"$U" -N "$ns" ipcmk -M 1
expect "limits shmmax=5 shmmni=40000: nothing changed" 2 \
	'^ushm: limits: shmmni=40000: invalid value' \
	"$U" -N "$ns" limits shmmax=5 shmmni=40000
expect "limits shm_rmid_forced=2" 2 'invalid value' \
	"$U" -N "$ns" limits shm_rmid_forced=2
expect "limits nope=1" 2 '^ushm: limits: no limit named nope' \
	"$U" -N "$ns" limits nope=1
expect "limits shmmax" 2 'not NAME=VALUE' "$U" -N "$ns" limits shmmax
"$U" -N "$ns" limits > "$T/lim"
check "... shmmax unchanged by the failed settings" \
	grep -qx 'shmmax           18446744073692774399' "$T/lim"

# ---- check and repair ----
# A shared namespace: its segments get their files at shmget (a private
# one makes them at the first attach).
ns=$(newns)
"$U" namespace create --shared "$ns" > /dev/null
"$U" -N "$ns" ipcmk -M 4096 > /dev/null
"$U" -N "$ns" ipcmk -M 8192 > /dev/null
expect "check: a sound namespace" 0 '' "$U" -N "$ns" check
check "... says so" grep -q ': sound$' "$T/out"
rm "$ns"/segments/SYSV*.0
: > "$ns/segments/SYSVdeadbeef.77"
expect "check: a deleted and a stray segment file" 1 '' "$U" -N "$ns" check
check "... the missing file, on one line" \
	grep -q '^I10: id 0: its file SYSV.*\.0 is missing$' "$T/out"
check "... the stray file, on one line" \
	grep -q '^I10: .*/segments/SYSVdeadbeef.77 belongs to no segment$' "$T/out"
expect "repair" 0 '' "$U" -N "$ns" repair
check "... says what it fixed, one line each" \
	[ "$(grep -c '^fixed: I10: ' "$T/out")" -eq 2 ]
check "... and that it is sound" grep -q '2 problems found, 2 fixed, now sound$' "$T/out"
expect "check after repair" 0 '' "$U" -N "$ns" check
check "... the stray file is gone" [ ! -e "$ns/segments/SYSVdeadbeef.77" ]
check "... the segment is back" [ "$(nseg "$ns")" -eq 2 ]
"$B/ushm-corrupt" "$ns" in_use
"$B/ushm-corrupt" "$ns" nattch 1
expect "check: a corrupted counter and nattch" 1 '' "$U" -N "$ns" check -q
check "... the segment count, on one line" \
	grep -q '^I6: counters say 3 segments, .*; the slots say 2, ' "$T/out"
check "... the nattch, on one line" \
	grep -q '^I7: slot 1: nattch 1, its records count 0$' "$T/out"
expect "repair of the counters" 0 '' "$U" -N "$ns" repair
expect "check after that repair" 0 '' "$U" -N "$ns" check

# A registry lock held by a thread that does not exist (a copied file, a
# hostile write: never marked dead, so no locker recovers it) stops every
# call; `ushm repair` makes a new lock.  A segment with data made before
# must come through.
ns=$(newns)
"$U" namespace create --shared "$ns" > /dev/null
"$U" -N "$ns" ipcmk -M 4096 > /dev/null
# The segment's memory is its file (every attachment maps it shared).
seg=$(ls "$ns"/segments/SYSV*.0)
printf 'kept across the repair' |
	dd of="$seg" conv=notrunc status=none
head -c 22 "$seg" > "$T/data"
"$B/ushm-corrupt" "$ns" lock_owner
expect "check: a lock whose owner does not exist" 1 '' "$U" -N "$ns" check
check "... one line, naming the thread and the repair" \
	sh -c "[ \$(wc -l < '$T/out') -eq 1 ] && grep -q 'lock is held by thread 1073741822, which does not exist.*ushm repair' '$T/out'"
expect "repair of that lock" 0 '' "$U" -N "$ns" repair
check "... says it fixed the lock" \
	grep -qx 'fixed: the registry lock is held by thread 1073741822, which does not exist' "$T/out"
check "... and that the namespace is sound" \
	grep -q ': 1 problem found, 1 fixed, now sound$' "$T/out"
expect "check after the lock's repair" 0 '' "$U" -N "$ns" check
check "... sound" grep -q ': sound$' "$T/out"
head -c 22 "$seg" > "$T/data.after"
check "... the data written before is there" grep -qx 'kept across the repair' "$T/data"
same "... the segment is still there with its data" "$T/data" "$T/data.after"
expect "ipcs works again" 0 '' "$U" -N "$ns" ipcs -m
check "... and lists the segment" grep -Eq '^0x[0-9a-f]{8} +0 +root +644 +4096 ' "$T/out"

mkdir "$T/foreign" && printf 'not a registry' > "$T/foreign/registry"
expect "check of a foreign registry: unusable, exit 3" 3 \
	'registry is .*(truncated|not a ushm registry)' \
	"$U" -N "$T/foreign" check

# ---- reap ----
ns=$(newns)
cat > "$T/reap.sh" <<'SCRIPT'
kill -9 "$HOLDER_PID"
# Wait until it is dead (a zombie of the fixture): its lock is gone then.
while [ "$(cut -d' ' -f3 "/proc/$HOLDER_PID/stat" 2>/dev/null)" != Z ]; do :; done
"$U" reap
"$U" ipcs -m -i "$A" | grep nattch
SCRIPT
USHM_DIR=$ns U="$U" "$FIX" -u -- sh "$T/reap.sh" > "$T/reap.out" 2>&1
check "reap: one dead process" grep -qx 'reaped 1 dead process' "$T/reap.out"
check "... its attachment dropped" grep -q 'nattch=1$' "$T/reap.out"

# ---- namespace ----
ns=$(newns)
expect "namespace create" 0 '' "$U" namespace create "$ns"
check "... private" grep -q 'created a private namespace' "$T/out"
expect "namespace create again" 0 '' "$U" namespace create "$ns"
check "... already one" grep -q 'already a private namespace' "$T/out"
expect "namespace shows it" 0 '' "$U" -N "$ns" namespace
check "... its path and kind" sh -c "grep -qx 'path:       $ns' '$T/out' && grep -q '^kind:       private' '$T/out'"
expect "namespace on a file" 3 'not a directory' "$U" -N /dev/null namespace
expect "ipcs on a missing parent" 3 '^ushm: ' \
	"$U" -N "$T/no/such/dir" ipcs
if [ "$(id -u)" -eq 0 ]; then
	mkdir -m 700 "$T/theirs" && chown 65534 "$T/theirs"
	expect "a namespace of another user is refused" 3 \
		'belongs to uid 65534' "$U" -N "$T/theirs" ipcs
	check "... and left untouched" [ -z "$(ls -A "$T/theirs")" ]
fi
expect "namespace create without DIR" 2 'usage' "$U" namespace create

# ---- map ----
ns=$(newns)
cat > "$T/map.sh" <<'SCRIPT'
"$U" map "$B"
"$U" map "$F" | head -n 3
"$U" map "$F" | tail -n 16 | cut -c 10- | sort | uniq -c
SCRIPT
USHM_DIR=$ns U="$U" "$FIX" -u -- sh "$T/map.sh" > "$T/map.out" 2>&1
check "map: 3 of 16 pages, one character each" \
	grep -qx '       0 ###.............' "$T/map.out"
check "map: 5 GiB in 16 rows of 64, one cell touched" \
	grep -q '^ *15 \.\{64\}$' "$T/map.out"
check "map: 1280 pages per character" \
	grep -q 'one character per 1280 pages (5M)' "$T/map.out"
expect "map of a missing id" 1 '^ushm: id 7 not found$' "$U" -N "$ns" map 7
expect "map -w 0" 2 'bad width' "$U" -N "$ns" map -w 0 1
expect "stat of a missing id" 1 '^ushm: id 7 not found$' "$U" -N "$ns" stat 7
expect "stat abc" 2 "failed to parse id argument: 'abc'" "$U" -N "$ns" stat abc

# ---- help and usage ----
for c in ipcs ipcrm ipcmk ls stat map limits namespace reap check repair; do
	expect "$c --help" 0 '' "$U" "$c" --help
	check "... is its usage" grep -q "^Usage: ushm $c" "$T/out"
done
expect "ipcs --bogus" 2 'unknown option' "$U" -N "$ns" ipcs --bogus
expect "reap extra" 2 'no arguments' "$U" -N "$ns" reap extra
expect "ipcs -i without its argument" 2 \
	'^ushm: ipcs: option requires an argument -i ' "$U" -N "$ns" ipcs -i
expect "ls -o without its argument" 2 'option requires an argument -o' \
	"$U" -N "$ns" ls -o
expect "ipcrm --all=msg" 2 'only shared memory' "$U" -N "$ns" ipcrm --all=msg
finish
