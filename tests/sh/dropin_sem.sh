#!/bin/sh
# dropin_sem.sh BUILDDIR - util-linux's ipcs, lsipc, ipcmk, ipcrm and the
# semaphore sysctls, unmodified, on ushm's semaphores under `ushm run`.
#
# The same script runs on the kernel, in a new IPC namespace (unshare
# --ipc), and under `ushm run` on a fresh namespace with the kernel's
# SysV IPC blocked (lib/noipc.sh); both start empty, so ids agree.  The
# fixture's pid, dates and times are normalised, and the outputs must then
# be the same byte for byte (S-SEM 10: /proc/sysvipc/sem, ipcs -s in
# every mode, lsipc -s, ipcmk -S, ipcrm -s/-S/--all=sem, kernel.sem).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

U=$B/ushm
FIX=$B/dropin/sem_fixture
need_shim_and_kernel
. "$(dirname "$0")/lib/noipc.sh"
for c in ipcs:util-linux lsipc:util-linux ipcmk:util-linux setpriv:util-linux \
	 sysctl:procps; do
	need "${c%%:*}" "${c#*:}" || not_ok "${c%%:*} is available"
done
ipcs -s | tail -n +4 | sort > "$T/kbefore"

cat > "$T/sem.sh" <<'SCRIPT'
ids=$("$FIX") || exit 1
eval "$ids"
[ -n "$A" ] && [ -n "$P" ] || exit 1
echo "$P" > "$OUT/pid"
v() { n=$1; shift; "$@" > "$OUT/$n" 2>&1; echo "exit $?" >> "$OUT/$n"; }
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
v proc_sysvipc_sem cat /proc/sysvipc/sem
v ipcs_s ipcs -s
v ipcs_s_c ipcs -s -c
v ipcs_s_t ipcs -s -t
v ipcs_s_p ipcs -s -p
v ipcs_s_i_A ipcs -s -i "$A"
v ipcs_s_i_B ipcs -s -i "$B"
v ipcs_s_i_C ipcs -s -i "$C"
v ipcs_s_i_missing ipcs -s -i 4242
v ipcs_s_l ipcs -s -l
v ipcs_s_l_b ipcs -s -l -b
v ipcs_s_u ipcs -s -u
v ipcs_all ipcs
v lsipc_s lsipc -s
v lsipc_s_i_A lsipc -s -i "$A"
v lsipc_s_json lsipc -s --json
v lsipc_s_raw lsipc -s --raw --numeric-perms
v lsipc_g lsipc -g
v nobody_ipcs_s nobody ipcs -s
v nobody_ipcs_s_i_D nobody ipcs -s -i "$D"
v nobody_proc nobody cat /proc/sysvipc/sem
v sysctl_sem sysctl kernel.sem kernel.sem_next_id
v sysctl_write sh -c 'echo "250 64000 32 100" > /proc/sys/kernel/sem &&
	cat /proc/sys/kernel/sem && ipcs -s -l'
v sysctl_erange sh -c 'echo "300 64000 40 99999" > /proc/sys/kernel/sem;
	cat /proc/sys/kernel/sem'
v nobody_write nobody sh -c 'echo "1 1 1 1" > /proc/sys/kernel/sem'
v ipcmk_bad ipcmk -S 0
v ipcrm_s ipcrm -s "$B"
v ipcrm_S ipcrm -S 0x5e0004
v ipcrm_missing ipcrm -s 4242
v after_rm ipcs -s
v ipcrm_all ipcrm --all=sem
v after_all ipcs -s
v next_id sh -c 'echo 77 > /proc/sys/kernel/sem_next_id && ipcmk -S 2 &&
	cat /proc/sys/kernel/sem_next_id && ipcrm --all=sem && ipcs -s'
SCRIPT

run_both() {	# run_both NAME SCRIPT
	mkdir -p "$T/$1.k" "$T/$1.u"
	unshare --ipc env OUT="$T/$1.k" FIX="$FIX" sh "$2" \
		> "$T/$1.k.log" 2>&1 || not_ok "$1: kernel run ($(cat "$T/$1.k.log"))"
	NSDIR=$(mktemp -d /dev/shm/ushm-dropin-sem.XXXXXX) &&
		chmod 1777 "$NSDIR" && at_exit "rm -rf '$NSDIR'"
	$NOIPC "$U" run -N "$NSDIR" -- env OUT="$T/$1.u" FIX="$FIX" sh "$2" \
		> "$T/$1.u.log" 2>&1 || not_ok "$1: ushm run ($(cat "$T/$1.u.log"))"
}

# norm FILE PID: dates and times (ipcs's ctime() text, lsipc's, epoch
# seconds of the last day) and the fixture's pid out.
norm() {
	sed -E -e 's/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}/DATE/g' \
	    -e 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}/DATE/g' \
	    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:,+-]+/DATE/g' \
	    -e 's/ [0-9]{2}:[0-9]{2} / HH:MM /g' -e 's/ [0-9]{2}:[0-9]{2}$/ HH:MM/' \
	    -e "s/\\b$2\\b/PID/g" "$1" |
	awk -v now="$(date +%s)" '{
		n = split($0, f, /[^0-9]+/)
		for (i = 1; i <= n; i++)
			if (length(f[i]) == 10 && f[i] + 0 > now - 86400 &&
			    f[i] + 0 <= now + 60)
				gsub(f[i], "TIME")
		print
	}'
}

run_both sem "$T/sem.sh"
kp=$(cat "$T/sem.k/pid" 2>/dev/null)
up=$(cat "$T/sem.u/pid" 2>/dev/null)
n=0
for f in "$T/sem.k"/*; do
	b=${f##*/}
	[ "$b" = pid ] && continue
	n=$((n + 1))
	norm "$f" "${kp:-NOPID}" > "$T/k.cmp"
	norm "$T/sem.u/$b" "${up:-NOPID}" > "$T/u.cmp"
	same "sem: $b" "$T/k.cmp" "$T/u.cmp"
done
check "the script produced its 33 views on both sides (saw $n)" [ "$n" -eq 33 ]

# The exact layout of /proc/sysvipc/sem (S-SEM 10.2), which the shim
# writes: every row as the kernel's printf makes it.
awk 'NR == 1 || /^exit / { next }
{
	row = sprintf("%10s %10s  %4s %10s %5s %5s %5s %5s %10s %10s",
		      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	if (row != $0) { print "bad row: " $0; bad = 1 }
}
END { exit bad }' "$T/sem.u/proc_sysvipc_sem" > "$T/rows" 2>&1
check "/proc/sysvipc/sem rows have the kernel's widths ($(cat "$T/rows"))" \
	[ ! -s "$T/rows" ]

# Nothing reached the kernel's sets (they are blocked there anyway).
ipcs -s | tail -n +4 | sort > "$T/kafter"
same "the kernel's semaphore sets are untouched" "$T/kbefore" "$T/kafter"
finish
