# pg_sequence.sh - a PostgreSQL 15 server's life on SysV shared memory,
# with its segments recorded after each step (used by dropin_pg.sh).
#
#   sh pg_sequence.sh run DIR       the sequence, in DIR (mode 0755)
#   sh pg_sequence.sh cleanup DIR   stop whatever of it is still running
#
# Environment: RUN, a prefix for every PostgreSQL command and for reading
# /proc/sysvipc/shm ("ushm run -N NS --" for ushm, empty for the kernel);
# KERNEL_WATCH=1 to record in DIR/kernel-leaks any segment of the server's
# user in the kernel's own table; FILTER_WATCH=1 to record in DIR/seccomp,
# after each step, the seccomp mode of each server process ("STEP PID
# MODE": 2 is a filter, as ushm-noipc installs; "gone" if it just left).  The server runs as nobody, with a
# private data directory and unix socket directory, no TCP.
#
# DIR/states gets one line per segment per step:
#   STEP KEY ID PERMS SIZE NATTCH UID
# KEY is K1, K2... by order of first appearance (PostgreSQL takes keys
# from the data directory's inode and at random, which differ between
# runs); NATTCH is "all" when it equals the number of server processes
# (the postmaster and its children, which all inherit the attachment).
set -u
what=$1
D=$2
PGBIN=/usr/lib/postgresql/15/bin
RUN=${RUN:-}

pg() {
	$RUN setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME="$D" PGHOST="$D/sock" PGPORT=54329 PGUSER=postgres "$@"
}

# Whether process $1 runs (a zombie, waiting for its reaper, does not).
alive() {
	[ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

postmaster() {
	pm=$(head -n 1 "$D/data/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] && alive "$pm" && echo "$pm"
}

children() {
	grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/status|\1|'
}


# procs: server processes, once the main segment's nattch has caught up
# with them (children attach as they start; bounded wait).
settle() {
	procs=0
	pm=$(postmaster) || return 0
	i=0
	while [ $i -lt 100 ]; do
		kids=$(children "$pm")
		echo "$pm $kids" | tr ' ' '\n' >> "$D/pids"
		procs=$(($(echo "$kids" | grep -c .) + 1))
		main=$($RUN cat /proc/sysvipc/shm |
		       awk 'NR > 1 && $4 + 0 > max { max = $4 + 0; n = $7 }
			    END { print n + 0 }')
		[ "$main" -eq "$procs" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "$1: nattch $main never matched $procs processes" >> "$D/states"
}

state() {
	settle "$1"
	$RUN cat /proc/sysvipc/shm > "$D/shm.now"
	awk -v step="$1" -v procs="$procs" -v keys="$D/keys" '
		BEGIN { while ((getline k < keys) > 0) label[k] = "K" ++n }
		NR == 1 { next }
		{
			k = $1
			if (k == 0) {
				l = "private"
			} else {
				if (!(k in label)) {
					label[k] = "K" ++n
					print k >> keys
				}
				l = label[k]
			}
			na = ($7 == procs && procs > 0) ? "all" : $7
			print step, l, $2, $3, $4, na, $8
		}
		END { print step, "-" }' "$D/shm.now" >> "$D/states"
	if [ -n "${FILTER_WATCH:-}" ] && pm=$(postmaster); then
		for p in $pm $(children "$pm"); do
			m=$(sed -n 's/^Seccomp:[[:space:]]*//p' \
				"/proc/$p/status" 2>/dev/null)
			echo "$1 $p ${m:-gone}" >> "$D/seccomp"
		done
	fi
	if [ -n "${KERNEL_WATCH:-}" ]; then
		awk -v step="$1" 'NR > 1 && $8 == 65534 { print step, $0 }' \
			/proc/sysvipc/shm >> "$D/kernel-leaks"
	fi
}

fail() {
	echo "FAILED: $*"
	for f in "$D"/*.log "$D/sock/log"; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
	done
	cleanup
	exit 1
}

start() {
	pg "$PGBIN/pg_ctl" -D "$D/data" -l "$D/sock/log" -w -t 60 start \
		> "$D/pg_ctl.log" 2>&1 || return 1
	i=0
	until pg "$PGBIN/pg_isready" -q; do
		i=$((i + 1))
		[ $i -gt 300 ] && return 1
		sleep 0.1
	done
}

committed() {
	n=$(pg "$PGBIN/psql" -Atqc 'select count(*) from pgbench_history' \
		postgres 2> "$D/psql.log")
	echo "committed $n" >> "$D/states"
}

cleanup() {
	if pm=$(postmaster); then
		pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate -w -t 20 stop \
			> /dev/null 2>&1 || kill -9 "$pm" 2>/dev/null
	fi
	# Children of a killed postmaster leave on their own; make sure.
	[ -f "$D/pids" ] && sort -u "$D/pids" | while read -r p; do
		[ -n "$p" ] && [ "$(stat -c %U "/proc/$p" 2>/dev/null)" = nobody ] &&
			kill -9 "$p" 2>/dev/null
	done
	return 0
}

# Wait (bounded) until none of the pids given is alive.
wait_gone() {
	i=0
	for p in "$@"; do
		while alive "$p"; do
			i=$((i + 1))
			[ $i -gt 300 ] && return 1
			sleep 0.1
		done
	done
}

run() {
	mkdir -p "$D/data" "$D/sock" && chown nobody:nogroup "$D/data" "$D/sock" ||
		fail "making the directories"
	: > "$D/states"; : > "$D/keys"; : > "$D/pids"; : > "$D/kernel-leaks"
	state begin
	pg "$PGBIN/initdb" -D "$D/data" --no-locale -E UTF8 -A trust \
		-U postgres --no-sync > "$D/initdb.log" 2>&1 || fail initdb
	state initdb
	cat >> "$D/data/postgresql.conf" <<-EOF
	shared_memory_type = sysv
	dynamic_shared_memory_type = sysv
	huge_pages = off
	shared_buffers = 16MB
	listen_addresses = ''
	unix_socket_directories = '$D/sock'
	autovacuum = off
	fsync = off
	EOF
	start || fail "pg_ctl start"
	state started
	pg "$PGBIN/pgbench" -i -q postgres > "$D/init.log" 2>&1 ||
		fail "pgbench -i"
	pg "$PGBIN/pgbench" -n -t 200 -c 1 postgres > "$D/bench.out" 2>&1 ||
		fail "pgbench -t 200"
	grep -q "^number of transactions actually processed: 200/200" \
		"$D/bench.out" || fail "pgbench: not 200 transactions"
	committed
	state bench
	pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate -w stop \
		> "$D/pg_ctl.log" 2>&1 || fail "pg_ctl -m immediate stop"
	state immediate-stop
	start || fail "start after the immediate stop"
	state restarted
	committed
	# A crash: the postmaster killed, its children leave when they
	# notice; postmaster.pid stays, naming the old segment's key.
	pm=$(postmaster) || fail "no postmaster"
	kids=$(children "$pm")
	kill -9 "$pm"
	wait_gone "$pm" $kids || fail "the server's children did not exit"
	state crashed
	start || fail "start after the crash"
	state after-crash-restart
	committed
	pg "$PGBIN/pg_ctl" -D "$D/data" -m fast -w stop > "$D/pg_ctl.log" 2>&1 ||
		fail "pg_ctl stop"
	state stopped
	# The postmaster removes postmaster.pid just before it exits.
	wait_gone $(sort -u "$D/pids")
	sort -u "$D/pids" | while read -r p; do
		[ -n "$p" ] && alive "$p" && echo "$p"
	done > "$D/pids-alive"
	return 0
}

case $what in
run) run ;;
cleanup) cleanup ;;
*) echo "usage: pg_sequence.sh run|cleanup DIR" >&2; exit 2 ;;
esac
