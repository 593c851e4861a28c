#!/bin/sh
# dropin_utils.sh BUILDDIR - util-linux's ipcs, lsipc, ipcmk, ipcrm and the
# shm sysctls, unmodified, on ushm under `ushm run`.
#
# Each script below runs twice: on the kernel, in a new IPC namespace
# (unshare --ipc), and under `ushm run` on a fresh shared namespace.
# Both start empty, so ids agree; pids, times and ipcmk's random keys are
# normalised, and the outputs must then be the same byte for byte: what
# the shim shows in /proc/sysvipc/shm and /proc/sys/kernel/shm* is what
# the kernel shows for the same segments and limits.  The ushm run is
# under ushm-noipc (lib/noipc.sh): the kernel's SysV IPC blocked, as in
# the sandboxes ushm is for.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

U=$B/ushm
FIX=$B/shm-fixture
need_shim_and_kernel
. "$(dirname "$0")/lib/noipc.sh"
for c in ipcs:util-linux lsipc:util-linux ipcmk:util-linux setpriv:util-linux; do
	need "${c%%:*}" "${c#*:}" || not_ok "${c%%:*} is available"
done
ipcs -m | tail -n +4 | sort > "$T/kbefore"

# A namespace every user may use (as /dev/shm/ushm is), on tmpfs so that
# rss comes from the segment files' blocks as the kernel's from shmem.
# (Sets NSDIR; not in a subshell, so that at_exit registers the removal.)
newns() {
	NSDIR=$(mktemp -d /dev/shm/ushm-dropin.XXXXXX) &&
		chmod 1777 "$NSDIR" && at_exit "rm -rf '$NSDIR'"
}

# run_both NAME SCRIPT [FIXTURE_ARGS]: SCRIPT writes its outputs to $OUT.
run_both() {
	mkdir -p "$T/$1.k" "$T/$1.u"
	unshare --ipc env OUT="$T/$1.k" "$FIX" $3 -- sh "$2" \
		> "$T/$1.k.log" 2>&1 || not_ok "$1: kernel run ($(cat "$T/$1.k.log"))"
	newns
	$NOIPC "$U" run -N "$NSDIR" -- env OUT="$T/$1.u" "$FIX" $3 -- sh "$2" \
		> "$T/$1.u.log" 2>&1 || not_ok "$1: ushm run ($(cat "$T/$1.u.log"))"
}

# norm FILE PID: the fixture's pid, dates, times (ipcs's text, lsipc's
# HH:MM, and epoch seconds of the last day) out, and runs of blanks
# squeezed: the pids of two runs may differ in digits, and so the widths
# of the columns that hold them.  The exact layout of /proc/sysvipc/shm,
# which the shim writes, is checked on its own below.
norm() {
	sed -E -e 's/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}/DATE/g' \
	    -e 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}/DATE/g' \
	    -e 's/ [0-9]{2}:[0-9]{2} / HH:MM /g' \
	    -e "s/\\b$2\\b/PID/g" "$1" |
	awk -v now="$(date +%s)" '{
		n = split($0, f, " ")
		for (i = 1; i <= n; i++)
			if (f[i] ~ /^[0-9]+$/ && length(f[i]) == 10 &&
			    f[i] + 0 > now - 86400 && f[i] + 0 <= now + 60)
				gsub(f[i], "TIME")
		print
	}' | tr -s ' '
}

# proc_format FILE: every row of FILE is what the kernel's printf makes
# of its fields (SEMANTICS 8.2), and the header is the kernel's.
proc_format() {
	head -n 1 "$1" > "$T/hdr.u"
	head -n 1 "$2" > "$T/hdr.k"
	cmp -s "$T/hdr.u" "$T/hdr.k" || return 1
	awk 'NR == 1 || /^exit / { next }
	{
		row = sprintf("%10s %10s  %4s %21s %5s %5s  %5s %5s %5s %5s %5s " \
			      "%10s %10s %10s %21s %21s", $1, $2, $3, $4, $5, $6,
			      $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		if (row != $0) { print "bad row: " $0; bad = 1 }
	}
	END { exit bad }' "$1"
}

compare() {	# compare NAME: every output file of run NAME
	kp=$(cat "$T/$1.k/pid" 2>/dev/null)
	up=$(cat "$T/$1.u/pid" 2>/dev/null)
	for f in "$T/$1.k"/*; do
		n=${f##*/}
		norm "$f" "${kp:-NOPID}" > "$T/k.cmp"
		norm "$T/$1.u/$n" "${up:-NOPID}" > "$T/u.cmp"
		same "$1: $n" "$T/k.cmp" "$T/u.cmp"
	done
}

# ---- 1. the views of a fixture of seven segments (samples/ describes it)
cat > "$T/views.sh" <<'EOF'
echo "$FIXTURE_PID" > "$OUT/pid"
v() { n=$1; shift; "$@" > "$OUT/$n" 2>&1; echo "exit $?" >> "$OUT/$n"; }
v ipcs_m ipcs -m
v ipcs_m_c ipcs -m -c
v ipcs_m_p ipcs -m -p
v ipcs_m_t ipcs -m -t
v ipcs_m_b ipcs -m -b
v ipcs_m_human ipcs -m --human
v ipcs_m_i_A ipcs -m -i "$A"
v ipcs_m_i_C ipcs -m -i "$C"
v ipcs_m_i_F ipcs -m -i "$F"
v ipcs_m_l ipcs -m -l
v ipcs_m_u ipcs -m -u
v lsipc_m lsipc -m
v lsipc_m_b lsipc -m -b --notruncate
v lsipc_g lsipc -g
v lsipc_m_i_A lsipc -m -i "$A"
v proc_sysvipc_shm cat /proc/sysvipc/shm
v proc_nobody setpriv --reuid=nobody --regid=nogroup --clear-groups cat /proc/sysvipc/shm
v ipcs_nobody setpriv --reuid=nobody --regid=nogroup --clear-groups ipcs -m
EOF
run_both views "$T/views.sh"
compare views
check "/proc/sysvipc/shm: the kernel's header and row layout" \
	proc_format "$T/views.u/proc_sysvipc_shm" "$T/views.k/proc_sysvipc_shm"

# ---- 2. ipcmk, ipcrm -m, ipcrm -M, and the limits through /proc/sys
cat > "$T/acts.sh" <<'EOF'
echo $$ > "$OUT/pid"
keys() { sed -E 's/^0x[0-9a-f]{8} /0xKEY       /'; }
exec > "$OUT/acts" 2>&1
id=$(ipcmk -M 4096 | sed 's/.*: //'); echo "ipcmk -M 4096: id $id rc $?"
ipcs -m | keys
ipcrm -m "$id"; echo "ipcrm -m $id: rc $?"
ipcs -m | keys
id=$(ipcmk -M 100 -p 0600 | sed 's/.*: //'); echo "ipcmk -M 100 -p 0600: id $id"
key=$(ipcs -m | awk -v id="$id" '$2 == id { print $1 }')
ipcs -m | keys
ipcrm -M "$key"; echo "ipcrm -M: rc $?"
ipcrm -M "$key" 2>&1 | sed "s/$key/KEY/"; echo "ipcrm -M again"
ipcrm -m 12345; echo "ipcrm -m 12345: rc $?"
ipcs -m | keys
echo 100 > /proc/sys/kernel/shmmni; echo "shmmni=100: rc $?"
cat /proc/sys/kernel/shmmni
ipcs -m -l
echo 40000 > /proc/sys/kernel/shmmni; echo "shmmni=40000: rc $?"
# A program that inherits the open file across exec, writing with stdio.
/bin/echo 99 > /proc/sys/kernel/shmmni; echo "/bin/echo 99: rc $?"
cat /proc/sys/kernel/shmmni
/bin/echo 99999 > /proc/sys/kernel/shmmni; echo "/bin/echo 99999: rc $?"
echo 100 > /proc/sys/kernel/shmmni
printf 65536 > /proc/sys/kernel/shmmax; echo "shmmax: rc $?"
ipcmk -M 65537; echo "ipcmk over shmmax: rc $?"
echo -1 > /proc/sys/kernel/shmall; echo "shmall=-1: rc $?"
echo 2 > /proc/sys/kernel/shm_rmid_forced; echo "rmid_forced=2: rc $?"
ipcs -m -l -b
lsipc -g
cat /proc/sys/kernel/shm_next_id
echo 7 > /proc/sys/kernel/shm_next_id; echo "shm_next_id=7: rc $?"
ipcmk -M 10; echo "ipcmk with shm_next_id: rc $?"
cat /proc/sys/kernel/shm_next_id
ipcs -m | keys
test -w /proc/sys/kernel/shmmni; echo "root may write shmmni: $?"
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '
	cat /proc/sys/kernel/shmmni
	test -r /proc/sys/kernel/shmmni; echo "nobody may read: $?"
	test -w /proc/sys/kernel/shmmni; echo "nobody may write: $?"
	echo 5 > /proc/sys/kernel/shmmni; echo "nobody writes: rc $?"
	ipcmk -M 10 > /dev/null; echo "nobody ipcmk: rc $?"
	ipcs -m -c | sed -E "s/^[0-9]+ /ID /"' 2>&1 | sed 's/^[a-z]*: [0-9]*: //'
# Shared memory only: ipcrm -a goes on to semaphores and message queues,
# which ushm does not do yet, and under ushm-noipc the kernel's answer
# for those is ENOSYS ("kernel not configured for semaphores", exit 1).
ipcrm --all=shm; echo "ipcrm --all=shm: rc $?"
ipcs -m
EOF
run_both acts "$T/acts.sh" -e
compare acts

# Nothing of ours reached the kernel's own namespace.
ipcs -m | tail -n +4 | sort > "$T/kafter"
same "no kernel segment was made or left" "$T/kbefore" "$T/kafter"
finish
