#!/bin/sh
# fuzz_toolchain.sh - make sure clang and libFuzzer are installed, for the
# fuzz targets (fuzz/*.c, `make fuzz`, tests/sh/fuzz_smoke.sh).
#
# Idempotent: does nothing when `clang -fsanitize=fuzzer` links a program;
# otherwise installs clang and its runtime (libclang-rt-*-dev) with
# apt-get, as root, and checks again.  Exit 0 only if it works.
works() {
	d=$(mktemp -d) || return 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' > "$d/t.c"
	clang -fsanitize=fuzzer,address,undefined -o "$d/t" "$d/t.c" >/dev/null 2>&1
	r=$?
	rm -rf "$d"
	return $r
}
command -v clang >/dev/null 2>&1 && works && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "fuzz_toolchain: clang with libFuzzer is missing; install clang and libclang-rt-dev" >&2
	exit 1
fi
echo "fuzz_toolchain: installing clang and libFuzzer with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q clang >/dev/null 2>&1 ||
	{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q clang >/dev/null 2>&1; }
if ! works; then
	v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	[ -n "$v" ] && apt-get install -y -q "libclang-rt-$v-dev" >/dev/null 2>&1
fi
works && exit 0
echo "fuzz_toolchain: clang -fsanitize=fuzzer still does not link" >&2
exit 1
