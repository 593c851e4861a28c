#!/bin/sh
# files_setuid.sh BUILDDIR - a set-user-ID root program linked with
# libushm, run by nobody with USHM_DIR, XDG_RUNTIME_DIR and TMPDIR
# pointing at directories nobody controls: the library reads them with
# secure_getenv, so the program uses the default (root's: /run/ushm) and
# makes nothing where they point.  Without the set-user-ID bit the same
# run does use USHM_DIR (so the check can fail).
#
# In a private mount namespace with tmpfs over /run, /dev/shm and /tmp:
# the machine's /run/ushm is never touched, and the program lives on
# that /run, mounted without nosuid (checked with findmnt), gone with it.
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" -ne 0 ] || ! unshare --mount true 2> /dev/null ||
   ! command -v setpriv > /dev/null || ! command -v findmnt > /dev/null; then
	skip "setuid: needs root, unshare --mount, setpriv and findmnt"
	finish
	exit
fi
if nm "$B/libushm.a" 2> /dev/null | grep -q __asan; then
	skip "setuid: a sanitizer build is not made set-user-ID"
	finish
	exit
fi
cd "$(dirname "$0")/../.." || exit 2
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude -o "$T/setuid_ns" \
	tests/fixture/setuid_ns.c "$B/libushm.a" -lpthread; then
	not_ok "setuid: the test program builds"
	finish
	exit
fi

cat > "$T/inner.sh" <<-EOF
	set -e
	mount --make-rprivate /
	mount -t tmpfs -o mode=0755 ushm-test /run
	mkdir /run/bin
	cp "$T/setuid_ns" /run/bin/prog
	mount -t tmpfs -o mode=1777 ushm-test /dev/shm
	mount -t tmpfs -o mode=1777 ushm-test /tmp
	chown root:root /run/bin/prog
	chmod 4755 /run/bin/prog
	if findmnt -no OPTIONS -T /run/bin | grep -q nosuid; then
		echo "/run is nosuid"; exit 1
	fi
	mkdir /tmp/evil /tmp/evil/dir /tmp/evil/xdg /tmp/evil/tmp
	chown -R nobody /tmp/evil
	set +e
	hostile() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env USHM_DIR=/tmp/evil/dir XDG_RUNTIME_DIR=/tmp/evil/xdg \
			TMPDIR=/tmp/evil/tmp "\$@"
	}
	echo "setuid: \$(hostile /run/bin/prog)"
	echo "made there: \$(find /tmp/evil -mindepth 2 | wc -l)"
	stat -c 'system namespace: %U %a' /run/ushm
	chmod 0755 /run/bin/prog
	echo "plain: \$(hostile /run/bin/prog)"
	echo "made there: \$(find /tmp/evil -mindepth 2 -name lock)"
EOF
unshare --mount sh "$T/inner.sh" > "$T/out" 2>&1
printf '%s\n' 'setuid: /run/ushm' 'made there: 0' \
	'system namespace: root 1777' 'plain: /tmp/evil/dir' \
	'made there: /tmp/evil/dir/lock' > "$T/want"
same "setuid: hostile USHM_DIR, XDG_RUNTIME_DIR, TMPDIR are ignored (secure_getenv); without setuid USHM_DIR is used" \
	"$T/want" "$T/out"
finish
