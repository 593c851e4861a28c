#!/bin/sh
# install.sh BUILDDIR - `make install` and `make uninstall` into a staging
# directory (DESTDIR), as a packager runs them, and what a user of the
# installed tree does with it.
#
#   - the files installed, with their modes, for the default layout and
#     for another LIBDIR, BINDIR, INCLUDEDIR and MANDIR; a BINDIR/LIBDIR
#     pair the tool was not built for is refused, with nothing installed;
#   - install only copies what `all` built: nothing in BUILDDIR changes;
#   - a program built with the staged pkg-config file, and one built with
#     -LBUILDDIR -lushm and an rpath, start and use libushm (the staged
#     one, the build tree's one);
#   - the staged `ushm run` preloads the staged shim, and so does it once
#     the whole staged prefix is moved elsewhere;
#   - uninstall removes exactly what install made.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/need.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIXSRC=$ROOT/tests/fixture/installed.c
CC=${CC:-cc}
# The build directory's make flags: build-san/ is SAN=1's.
case ${B##*/} in
build) SANMAKE= ;;
build-san) SANMAKE=SAN=1 ;;
*)	not_ok "install.sh runs on build/ or build-san/, not $B"
	finish
	exit ;;
esac
# A sanitizer build's libraries need the sanitizer runtime first: in the
# programs that link them, and preloaded before the shim.
SANCC=
SANPRE=
if ldd "$B/libushm-preload.so" 2> /dev/null | grep -q libasan; then
	SANCC="-fsanitize=address,undefined"
	SANPRE=$($CC -print-file-name=libasan.so)
	export ASAN_OPTIONS=detect_leaks=0
fi

if ! need pkg-config pkgconf; then
	not_ok "pkg-config is available (apt-get install pkgconf)"
	finish
	exit
fi

# mk ARGS...: make in the source tree, on this build directory, and
# nothing from the make that runs the tests (its jobserver, its
# variables) leaking in.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u DESTDIR \
		-u BINDIR -u LIBDIR -u INCLUDEDIR -u MANDIR -u PKGCONFIGDIR \
		-u PKGLIBDIR make -s -C "$ROOT" --no-print-directory $SANMAKE "$@"
}

# files DIR: what is under DIR that is not a directory, with its mode
# and, for a link, its target.
files() {
	(cd "$1" && find . ! -type d -printf '%M %p %l\n') |
		sed -e 's| \./| |' -e 's/ $//' | sort -k 2
}

# A fresh namespace for each program run; removed with T.
n=0
newns() { n=$((n + 1)); echo "$T/ns.$n"; }

# ---- 1. the default layout, under a prefix of our own
S=$T/stage
P=/opt/ushm-test
touch "$T/before"
mk install DESTDIR="$S" PREFIX="$P" > "$T/install.log" 2>&1
check "make install DESTDIR PREFIX" [ $? -eq 0 ]
cat > "$T/want" <<EOF
-rwxr-xr-x opt/ushm-test/bin/ushm
-rw-r--r-- opt/ushm-test/include/ushm.h
-rw-r--r-- opt/ushm-test/lib/libushm.a
lrwxrwxrwx opt/ushm-test/lib/libushm.so libushm.so.1
-rw-r--r-- opt/ushm-test/lib/libushm.so.1
-rw-r--r-- opt/ushm-test/lib/pkgconfig/ushm.pc
-rw-r--r-- opt/ushm-test/lib/ushm/libushm-preload.so
-rw-r--r-- opt/ushm-test/share/man/man1/ushm.1
EOF
files "$S" > "$T/got"
same "... installs these files, with these modes" "$T/want" "$T/got"
find "$B" -newer "$T/before" > "$T/newer"
check "... and only copied: nothing in $B changed" [ ! -s "$T/newer" ]
sed 's/^/#   /' "$T/newer" | head -5
L=$S$P/lib
check "... libushm.so.1 is the library itself, soname libushm.so.1" \
	sh -c "readelf -d '$L/libushm.so.1' | grep -q 'SONAME.*\[libushm.so.1\]'"
check "... the header is the source tree's" cmp -s "$S$P/include/ushm.h" \
	"$ROOT/include/ushm.h"
check "... the man page is docs/ushm.1" cmp -s "$S$P/share/man/man1/ushm.1" \
	"$ROOT/docs/ushm.1"

# ---- the pkg-config file, read through the stage
# pc PCDIR ARGS...: pkg-config on PCDIR only, its paths in the stage.
pc() {
	d=$1
	shift
	PKG_CONFIG_PATH=$d PKG_CONFIG_LIBDIR=$d PKG_CONFIG_SYSROOT_DIR=$S \
		pkg-config "$@"
}
# pcs PCDIR ARGS...: its answer as one line, blanks squeezed (pkgconf
# ends it with one).
pcs() { echo $(pc "$@"); }
pcdir=$L/pkgconfig
check "ushm.pc: pkg-config --exists ushm" pc "$pcdir" --exists ushm
check "... cflags point into the stage" \
	[ "$(pcs "$pcdir" --cflags ushm)" = "-I$S$P/include" ]
check "... libs: -L into the stage -lushm" \
	[ "$(pcs "$pcdir" --libs ushm)" = "-L$L -lushm" ]
check "... static libs add -lpthread" \
	[ "$(pcs "$pcdir" --static --libs ushm)" = "-L$L -lushm -lpthread" ]
check "... it names the real prefix, libdir under it" \
	sh -c "grep -qx 'prefix=$P' '$pcdir/ushm.pc' &&
	       grep -qx 'libdir=\${prefix}/lib' '$pcdir/ushm.pc'"

# ---- a program built as the README says, run on the staged library
$CC $SANCC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$T/prog" "$FIXSRC" \
	$(pc "$pcdir" --cflags --libs ushm) 2> "$T/cc.err"
check "cc prog.c \$(pkg-config --cflags --libs ushm) builds" [ $? -eq 0 ]
sed 's/^/#   /' "$T/cc.err" | head -5
LD_LIBRARY_PATH=$L "$T/prog" "$(newns)" > "$T/prog.out" 2>&1
check "... runs: shmget, shmat, write, read, IPC_RMID through libushm" \
	grep -qx ok "$T/prog.out"
check "... on the staged libushm.so.1" \
	grep -qx "library $L/libushm.so.1" "$T/prog.out"
grep -qx ok "$T/prog.out" || sed 's/^/#   /' "$T/prog.out" | head -5
if ldconfig -p 2> /dev/null | grep -q 'libushm\.so\.1 '; then
	skip "without LD_LIBRARY_PATH: this machine has a libushm.so.1 installed"
else
	"$T/prog" "$(newns)" > /dev/null 2>&1
	check "... and without LD_LIBRARY_PATH it does not start (so that counts)" \
		[ $? -eq 127 ]
fi

# The static library, linked by name.
$CC $SANCC -std=c11 -D_GNU_SOURCE -o "$T/prog.static" "$FIXSRC" \
	$(pc "$pcdir" --cflags ushm) "$L/libushm.a" -lpthread 2> "$T/cc.err"
"$T/prog.static" "$(newns)" > "$T/static.out" 2>&1
check "a program linked with the staged libushm.a runs, on no libushm.so" \
	sh -c "grep -qx ok '$T/static.out' && ! grep -q '^library' '$T/static.out'"

# ---- the build tree: -LBUILDDIR -lushm with an rpath starts
$CC $SANCC -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -o "$T/prog.tree" \
	"$FIXSRC" -L"$B" -lushm -Wl,-rpath,"$B" 2> "$T/cc.err"
"$T/prog.tree" "$(newns)" > "$T/tree.out" 2>&1
check "-L$B -lushm -Wl,-rpath,$B: the program starts and runs" \
	grep -qx ok "$T/tree.out"
check "... on $B/libushm.so.1" grep -qx "library $B/libushm.so.1" \
	"$T/tree.out"

# ---- the staged ushm run preloads the staged shim
# probe DIR ROOTDIR: under DIR/bin/ushm run, a child prints LD_PRELOAD
# and the libushm-preload.so files mapped into it.
probe() {
	LD_PRELOAD=$SANPRE "$1/ushm" run -N "$(newns)" -- \
		sh -c 'echo "preload $LD_PRELOAD"
		       grep -o "/[^ ]*libushm-preload\.so$" /proc/self/maps | sort -u |
		       sed "s/^/mapped /"' 2>&1
}
shim=$L/ushm/libushm-preload.so
probe "$S$P/bin" > "$T/run.out"
printf 'preload %s\nmapped %s\n' "${SANPRE:+$SANPRE:}$shim" "$shim" > "$T/want"
same "the staged ushm run: LD_PRELOAD and the mapped shim are the staged one" \
	"$T/want" "$T/run.out"

# Moved: the whole staged prefix somewhere else.
mkdir "$T/moved"
mv "$S$P" "$T/moved/"
M=$T/moved/${P##*/}
probe "$M/bin" > "$T/moved.out"
printf 'preload %s\nmapped %s\n' "${SANPRE:+$SANPRE:}$M/lib/ushm/libushm-preload.so" \
	"$M/lib/ushm/libushm-preload.so" > "$T/want"
same "... and once the prefix is moved, the moved one" "$T/want" "$T/moved.out"
# Without its shim it says so, and does not take another one.
mv "$M/lib/ushm/libushm-preload.so" "$T/shim.aside"
LD_PRELOAD=$SANPRE "$M/bin/ushm" run -N "$(newns)" -- true 2> "$T/noshim.err"
rc=$?
check "... without its shim: ushm run fails (exit $rc), one line" \
	sh -c "[ $rc -ne 0 ] && [ \$(wc -l < '$T/noshim.err') -eq 1 ] &&
	       grep -q 'cannot find libushm-preload.so' '$T/noshim.err'"
mv "$T/shim.aside" "$M/lib/ushm/libushm-preload.so"
mv "$M" "$S$P"

# ---- uninstall: exactly what install made
printf 'not ushm' > "$L/other.so"
printf x > "$S$P/share/man/man1/other.1"
chmod 644 "$L/other.so" "$S$P/share/man/man1/other.1"
mk uninstall DESTDIR="$S" PREFIX="$P" > "$T/uninstall.log" 2>&1
check "make uninstall" [ $? -eq 0 ]
printf -- '-rw-r--r-- opt/ushm-test/lib/other.so\n-rw-r--r-- opt/ushm-test/share/man/man1/other.1\n' \
	> "$T/want"
files "$S" > "$T/got"
same "... leaves only the files that are not ushm's" "$T/want" "$T/got"
check "... and removed ushm's own directory, LIBDIR/ushm" [ ! -e "$L/ushm" ]
rm -f "$L/other.so" "$S$P/share/man/man1/other.1"
check "... so the stage has no file left" [ -z "$(find "$S" ! -type d)" ]

# ---- 2. another layout: LIBDIR, BINDIR, INCLUDEDIR, MANDIR of its own
S=$T/stage2
P=/opt/ushm-alt
set -- DESTDIR="$S" PREFIX="$P" BINDIR="$P/sbin" LIBDIR="$P/lib64" \
	PKGLIBDIR="$P/lib/ushm" INCLUDEDIR="$P/inc" MANDIR="$P/man"
mk install "$@" > "$T/install2.log" 2>&1
check "make install with LIBDIR, BINDIR, INCLUDEDIR, MANDIR" [ $? -eq 0 ]
cat > "$T/want" <<EOF
-rw-r--r-- opt/ushm-alt/inc/ushm.h
-rw-r--r-- opt/ushm-alt/lib/ushm/libushm-preload.so
-rw-r--r-- opt/ushm-alt/lib64/libushm.a
lrwxrwxrwx opt/ushm-alt/lib64/libushm.so libushm.so.1
-rw-r--r-- opt/ushm-alt/lib64/libushm.so.1
-rw-r--r-- opt/ushm-alt/lib64/pkgconfig/ushm.pc
-rw-r--r-- opt/ushm-alt/man/man1/ushm.1
-rwxr-xr-x opt/ushm-alt/sbin/ushm
EOF
files "$S" > "$T/got"
same "... installs there" "$T/want" "$T/got"
pcdir=$S$P/lib64/pkgconfig
check "... ushm.pc names them" \
	[ "$(pcs "$pcdir" --cflags --libs ushm)" = "-I$S$P/inc -L$S$P/lib64 -lushm" ]
$CC $SANCC -std=c11 -D_GNU_SOURCE -o "$T/prog2" "$FIXSRC" \
	$(pc "$pcdir" --cflags --libs ushm) 2> "$T/cc.err"
LD_LIBRARY_PATH=$S$P/lib64 "$T/prog2" "$(newns)" > "$T/prog2.out" 2>&1
check "... a program built with it runs on the staged lib64/libushm.so.1" \
	grep -qx "library $S$P/lib64/libushm.so.1" "$T/prog2.out"
probe "$S$P/sbin" > "$T/run2.out"
check "... its ushm run preloads its shim" \
	grep -qx "mapped $S$P/lib/ushm/libushm-preload.so" "$T/run2.out"
mk uninstall "$@" > "$T/uninstall2.log" 2>&1
check "... make uninstall leaves no file" \
	sh -c "[ -z \"\$(find '$S' ! -type d)\" ] && [ ! -e '$S$P/lib/ushm' ]"

# A BINDIR and LIBDIR from which the built tool would not find its shim.
S=$T/stage3
mk install DESTDIR="$S" PREFIX="$P" LIBDIR="$P/lib64" > "$T/install3.log" 2>&1
rc=$?
check "make install with a LIBDIR the tool was not built for: refused" \
	sh -c "[ $rc -ne 0 ] && grep -q 'run make with the same BINDIR, LIBDIR' '$T/install3.log'"
check "... with nothing installed" [ ! -e "$S" ]
find "$B" -newer "$T/before" > "$T/newer"
check "no install or uninstall changed anything in $B" [ ! -s "$T/newer" ]
finish
