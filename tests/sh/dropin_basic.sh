#!/bin/sh
# dropin_basic.sh BUILDDIR - unmodified programs on ushm through the
# preload shim (libushm-preload.so) and `ushm run`.
#
# Where a behaviour can be compared, the same program runs on the kernel
# (in a new IPC namespace, so nothing touches the machine's segments) and
# under the shim, and the outputs must match.  strace proves that under
# the shim no SysV shm system call is made, and that without it the same
# programs do make them (so those checks can fail).  The ushm side runs
# under ushm-noipc (lib/noipc.sh), as in a sandbox without the kernel's
# SysV IPC: a call that escaped the shim would fail there.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

U=$B/ushm
D=$B/dropin
SHIM=$B/libushm-preload.so
SYSV='trace=shmget,shmat,shmdt,shmctl'

if ldd "$SHIM" 2>/dev/null | grep -q libasan; then
	skip "a sanitizer build of the shim cannot be preloaded into plain programs"
	finish
	exit
fi
. "$(dirname "$0")/lib/noipc.sh"
root=
[ "$(id -u)" -eq 0 ] && can_unshare && root=1
need strace strace || not_ok "strace is available"
need ipcs util-linux || not_ok "ipcs is available"
ipcs -m | tail -n +4 | sort > "$T/kbefore"

# A fresh namespace that every user may use, on tmpfs like /dev/shm/ushm.
# (Sets NSDIR; not in a subshell, so that at_exit registers the removal.)
newns() {
	NSDIR=$(mktemp -d /dev/shm/ushm-dropin.XXXXXX) &&
		chmod 1777 "$NSDIR" && at_exit "rm -rf '$NSDIR'"
}
newns
NS=$NSDIR

# shim_run CMD...: CMD under `ushm run` on $NS, the kernel's SysV IPC
# blocked.
shim_run() { $NOIPC "$U" run -N "$NS" -- "$@"; }

# no_sysv NAME LOG: strace LOG shows no SysV shm call, but shows others.
no_sysv() {
	if grep -Eq '(^|[] ])shm(get|at|dt|ctl)\(' "$2"; then
		not_ok "$1: no SysV shm system call under the shim"
		grep -E 'shm(get|at|dt|ctl)\(' "$2" | head -5 | sed 's/^/#   /'
	else
		ok "$1: no SysV shm system call under the shim"
	fi
}
# has_sysv NAME LOG: the kernel run did make them (N of the four kinds).
has_sysv() {
	n=0
	for c in shmget shmat shmdt shmctl; do
		grep -q "$c(" "$2" && n=$((n + 1))
	done
	check "$1: natively all four calls reach the kernel" [ "$n" -eq 4 ]
}

# ---- ushm run: the environment it makes
out=$(LD_PRELOAD=libm.so.6 $NOIPC "$U" run -N "$NS" -- sh -c 'echo "$LD_PRELOAD|$USHM_DIR"')
check "ushm run appends the shim to LD_PRELOAD" \
	[ "${out%%|*}" = "libm.so.6:$SHIM" ]
check "ushm run sets USHM_DIR to the namespace" [ "${out#*|}" = "$NS" ]
out=$(cd "$NS/.." && $NOIPC "$U" --namespace "${NS##*/}" run sh -c 'echo "$USHM_DIR"')
check "ushm --namespace REL run: USHM_DIR made absolute" [ "$out" = "$NS" ]
out=$(shim_run sh -c 'echo "$LD_PRELOAD"' | tr ':' '\n' | grep -c preload)
check "ushm run inside ushm run: the shim once" [ "$out" -eq 1 ]
shim_run /nonexistent/program 2> /dev/null
check "ushm run: a missing program exits 127" [ $? -eq 127 ]
USHM_DIR=/dev/null $NOIPC "$U" run true 2> /dev/null
check "ushm run: an unusable namespace exits 3" [ $? -eq 3 ]

# ---- what cannot be covered is said: a statically linked program
printf 'int main(void) { return 0; }\n' > "$T/static.c"
if ${CC:-cc} -static -o "$T/static" "$T/static.c" 2> /dev/null; then
	shim_run "$T/static" 2> "$T/static.err"
	check "ushm run warns that a static program escapes the shim" \
		grep -q "statically linked" "$T/static.err"
	shim_run "$D/shm_basic" 2> "$T/dyn.err" > /dev/null
	check "and says nothing for a dynamic one" [ ! -s "$T/dyn.err" ]
else
	skip "no static C library to build a static program"
fi

# ---- the examples (plain <sys/shm.h> writer and reader)
EX=$B/examples/plain
if [ -x "$EX/shm_writer" ] && [ -x "$EX/shm_reader" ]; then
	cat > "$T/demo.sh" <<-EOF
	"$EX/shm_reader" > "$T/reader.out" &
	printf 'hello from the writer\nsecond line\nend\n' | "$EX/shm_writer" > /dev/null
	wait
	EOF
	shim_run strace -f -qq -o "$T/demo.strace" -e "$SYSV" sh "$T/demo.sh"
	check "examples: the reader got what the writer wrote" \
		grep -q "You wrote: second line" "$T/reader.out"
	no_sysv "examples" "$T/demo.strace"
	if [ -n "$root" ]; then
		unshare --ipc strace -f -qq -o "$T/demo.kstrace" -e "$SYSV" \
			sh "$T/demo.sh"
		has_sysv "examples" "$T/demo.kstrace"
	fi
else
	skip "examples/ not built"
fi

# ---- a program of our own, under strace
shim_run strace -f -qq -o "$T/basic.strace" -e "$SYSV" "$D/shm_basic" \
	> "$T/basic.out" 2>&1
check "shm_basic runs under the shim" \
	grep -q "segsz=10000 nattch=1 cpid_ok=1 mode=600" "$T/basic.out"
no_sysv "shm_basic" "$T/basic.strace"
if [ -n "$root" ]; then
	unshare --ipc strace -f -qq -o "$T/basic.kstrace" -e "$SYSV" \
		"$D/shm_basic" > /dev/null
	has_sysv "shm_basic" "$T/basic.kstrace"
fi

# ---- the shim carries the library's wrappers that keep nattch and the
# credential cache exact (src/vma.c, src/cred.c)
exports_all() {
	readelf --dyn-syms -W "$SHIM" > "$T/dynsyms"
	for f in mmap munmap mprotect mremap setuid setresuid setgroups; do
		grep -Eq " FUNC +GLOBAL +DEFAULT +[0-9]+ $f\$" "$T/dynsyms" ||
			return 1
	done
}
check "the shim exports mmap, munmap, mprotect, mremap and the set*id wrappers" \
	exports_all

# ---- /proc/sysvipc/shm by other names: relative to the cwd, through
# /proc/self/.., with doubled slashes
shim_run "$D/shm_users" create 0x7001 0600 x > /dev/null
shim_run cat /proc/sysvipc/shm > "$T/proc.abs"
check "/proc/sysvipc/shm lists the namespace's segment" \
	grep -q "^ *28673 " "$T/proc.abs"
shim_run sh -c 'cd /proc/sysvipc && cat shm' > "$T/proc.rel"
same "cat shm in /proc/sysvipc: the same file" "$T/proc.abs" "$T/proc.rel"
shim_run cat /proc/self/../sysvipc//shm > "$T/proc.dots"
same "/proc/self/../sysvipc//shm: the same file" "$T/proc.abs" "$T/proc.dots"
shim_run ipcrm -M 0x7001

# ---- nattch counts mapping pieces, as the kernel's VMAs (SEMANTICS 4.6)
shim_run "$D/shm_pieces" > "$T/pieces.u" 2>&1
if [ -n "$root" ]; then
	unshare --ipc "$D/shm_pieces" > "$T/pieces.k" 2>&1
	same "nattch after partial munmap/mprotect/mremap/fork: as the kernel" \
		"$T/pieces.k" "$T/pieces.u"
fi
check "nattch: a munmap of the middle page makes two pieces" \
	grep -qx "munmap-middle 2" "$T/pieces.u"
check "nattch: mprotect of the middle page makes three" \
	grep -qx "mprotect-restored 3" "$T/pieces.u"

# ---- /proc/PID/maps names the segment's file
shim_run "$D/shm_pieces" maps 0x1234 > "$T/maps.out" 2>&1
id=$(sed -n 's/^id=//p' "$T/maps.out")
check "/proc/PID/maps shows .../segments/SYSV00001234.<id>, rw-s" \
	grep -Eq "^[0-9a-f]+-[0-9a-f]+ rw-s 00000000 .* $NS/segments/SYSV00001234\\.$id\$" \
	"$T/maps.out"

# ---- dlopen, dlopen(RTLD_DEEPBIND), dlmopen(LM_ID_NEWLM)
for m in plain deepbind dlmopen; do
	shim_run strace -f -qq -o "$T/dl.$m" -e "$SYSV" \
		"$D/shm_dlopen" "$m" "$D/libshmdeep.so" 0x4242 > "$T/dl.$m.out" 2>&1
	check "$m: the library and the program share one ushm segment" \
		grep -q "shared one segment; errno in the library ENOENT" \
		"$T/dl.$m.out"
	no_sysv "$m" "$T/dl.$m"
done
if [ -n "$root" ]; then
	# Without the libc patches, RTLD_DEEPBIND reaches the kernel (so
	# the check above can fail); in a new IPC namespace, to leave no trace.
	USHM_SHIM_NOPATCH=1 shim_run unshare --ipc "$D/shm_dlopen" deepbind \
		"$D/libshmdeep.so" 0x4242 > /dev/null 2>&1
	check "deepbind without the libc patches does miss the shim" [ $? -ne 0 ]
fi

# ---- syscall(SYS_shmget, ...) and the rest through syscall()
shim_run strace -f -qq -o "$T/sys.strace" -e "$SYSV" "$D/shm_syscall" \
	> "$T/sys.u" 2>&1
no_sysv "syscall()" "$T/sys.strace"
check "syscall(): IPC_64 in cmd is EINVAL" \
	grep -qx "IPC_STAT|IPC_64 r=-1 errno=Invalid argument" "$T/sys.u"
if [ -n "$root" ]; then
	unshare --ipc "$D/shm_syscall" > "$T/sys.k" 2>&1
	same "syscall(): what each call returns, as the kernel" "$T/sys.k" "$T/sys.u"
fi

# ---- references at version GLIBC_2.2.5 bind to the shim
check "the program refers to shmget@GLIBC_2.2.5" \
	sh -c "readelf --dyn-syms -W '$D/shm_versioned' | grep -q 'shmget@GLIBC_2.2.5'"
shim_run "$D/shm_versioned" > "$T/ver.out" 2>&1
check "GLIBC_2.2.5 references run" [ $? -eq 0 ]
check "dlsym, dlvsym(GLIBC_2.2.5), .symver: all the shim's" \
	[ "$(grep -c "libushm-preload.so\$" "$T/ver.out")" -eq 9 ]
"$D/shm_versioned" > "$T/ver.native" 2>&1
check "without the shim they are libc's" \
	[ "$(grep -c "libc.so.6\$" "$T/ver.native")" -eq 9 ]

# ---- children that exec with an environment of their own stay under it
shim_run strace -f -qq -o "$T/envi.strace" -e "$SYSV" \
	env -i "$D/shm_basic" > "$T/envi.out" 2>&1
check "env -i CMD: CMD still runs on ushm" grep -q "nattch=1" "$T/envi.out"
no_sysv "env -i CMD" "$T/envi.strace"
out=$(shim_run env -i /bin/sh -c 'echo "$LD_PRELOAD|$USHM_DIR"')
check "env -i: LD_PRELOAD and USHM_DIR are put back" [ "$out" = "$SHIM|$NS" ]
out=$(shim_run env -i USHM_INHERIT=0 /bin/sh -c 'echo "$LD_PRELOAD|$USHM_DIR"')
check "USHM_INHERIT=0: a program may leave ushm on purpose" [ "$out" = "|" ]

# ---- users sharing segments through a shared namespace
if [ -n "$root" ] && need setpriv util-linux; then
	cat > "$T/users.sh" <<-'EOF'
	X=$1
	nob() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	u12() { setpriv --reuid=12345 --regid=12345 --clear-groups "$@"; }
	nob $X create 0x5001 0644 from-nobody
	u12 $X create 0x5002 0600 from-12345
	$X read 0x5001
	$X read 0x5002
	$X write 0x5001 root-was-here
	nob $X read 0x5001
	u12 $X read 0x5001
	u12 $X write 0x5001 x
	nob $X read 0x5002
	$X drop 0x5003 0x5004 0x5005
	ipcs -m -c
	for k in 0x5001 0x5002 0x5003 0x5004 0x5005; do ipcrm -M $k; done
	ipcs -m
	EOF
	unshare --ipc sh "$T/users.sh" "$D/shm_users" > "$T/users.k" 2>&1
	newns
	$NOIPC "$U" run -N "$NSDIR" -- sh "$T/users.sh" "$D/shm_users" \
		> "$T/users.u" 2>&1
	check "users: root reads what nobody made" \
		grep -q '^read: "from-nobody"' "$T/users.u"
	same "users: root server, clients of other uids, a service that drops privileges: as the kernel" \
		"$T/users.k" "$T/users.u"
else
	skip "users: needs root, unshare and setpriv"
fi

# ---- the system namespace: made by root's first use, then everyone's.
# In a private mount namespace with its own /run (and /dev/shm), so that
# the machine's /run/ushm is not touched.
if [ -n "$root" ] && unshare --mount true 2> /dev/null; then
	cat > "$T/sysns.sh" <<-EOF
	mount --make-rprivate / &&
	mount -t tmpfs -o mode=0755 ushm-test /run &&
	mount -t tmpfs -o mode=1777 ushm-test /dev/shm || exit 1
	unset USHM_DIR
	$NOIPC "$U" run -- "$D/shm_users" create 0x8001 0644 system-ns
	stat -c '%U %a' /run/ushm
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$NOIPC "$U" run -- sh -c 'echo "\$USHM_DIR"; "$D/shm_users" read 0x8001' |
		head -n 2
	$NOIPC "$U" run -- ipcrm -M 0x8001
	EOF
	unshare --mount sh "$T/sysns.sh" > "$T/sysns.out" 2>&1
	printf '%s\n' 'create 0x8001: ok' 'root 1777' /run/ushm \
		'read: "system-ns"' > "$T/sysns.want"
	same "system namespace: root's first use makes it, nobody uses it" \
		"$T/sysns.want" "$T/sysns.out"
fi

# ---- mixing: the kernel's segments and ushm's are separate worlds
if [ -n "$root" ]; then
	cat > "$T/mix.sh" <<-EOF
	"$D/shm_users" create 0x6001 0644 kernel-side
	shim_() { $NOIPC "$U" run -N "$NS" -- "\$@"; }
	shim_ "$D/shm_users" read 0x6001
	shim_ "$D/shm_users" create 0x6001 0644 ushm-side
	"$D/shm_users" read 0x6001 | head -n 1
	shim_ "$D/shm_users" read 0x6001 | head -n 1
	shim_ ipcrm -M 0x6001
	EOF
	unshare --ipc sh "$T/mix.sh" > "$T/mix.out" 2>&1
	printf '%s\n' 'create 0x6001: ok' 'lookup 0x6001: No such file or directory' \
		'create 0x6001: ok' 'read: "kernel-side"' 'read: "ushm-side"' \
		> "$T/mix.want"
	same "one key, two segments: the kernel's and ushm's do not meet" \
		"$T/mix.want" "$T/mix.out"
fi

ipcs -m | tail -n +4 | sort > "$T/kafter"
same "no kernel segment was made or left" "$T/kbefore" "$T/kafter"
finish
