# ushm - System V shared memory in user space.  GNU make and gcc only.
#
#   make            build the library, the shim, the tool, the examples, the tests
#   make test       run every test; ends with "N passed, N failed"
#   make check      the same as make test
#   make install    install the library, header, ushm.pc, tool, shim, man page
#                   (PREFIX=/usr/local DESTDIR= LIBDIR BINDIR INCLUDEDIR MANDIR:
#                   see "Installing" below and in README.md)
#   make uninstall  remove what make install installed, with the same variables
#   make sem-selftest  the semaphore suite (tests/sem/), kernel on both sides
#   make scenarios SEEDS=N   N random multi-process scenarios vs the kernel
#   make demo       the writer/reader demo on the default namespace
#   make SAN=1 ...  build with AddressSanitizer and UndefinedBehaviorSanitizer
#
# Objects of a sanitizer build go to build-san/ so both can coexist.

CC      ?= gcc
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
-include config.mk

# Where `make install` puts things (GNU names, overridable on the command
# line, in the environment or in config.mk).  The shim goes in a directory
# of its own; the tool finds it there relative to itself (cmd_run.c).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
PKGLIBDIR  ?= $(LIBDIR)/ushm
SONAME     := libushm.so.1
VERSION    := 1.0.0

ifeq ($(SAN),1)
B       := build-san
SANFLAGS:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B       := build
SANFLAGS:=
endif

CFLAGS_ALL  = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -fPIC -fvisibility=hidden -Iinclude -Isrc $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
LIBS        = -lpthread

LIB_SRC  := $(wildcard src/*.c)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/lib/%.o)
TEST_SRC := $(wildcard tests/*.c)
# The semaphore suite (tests/sem/) is part of ushm-tests; `make
# sem-selftest` runs it with the kernel on both sides (below).
TEST_SRC += $(wildcard tests/sem/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(B)/obj/tests/%.o)
TOOL_SRC := $(wildcard tools/*.c)
TOOL_OBJ := $(TOOL_SRC:tools/%.c=$(B)/obj/tools/%.o)
SHIM_SRC := $(wildcard shim/*.c)
SHIM_OBJ := $(SHIM_SRC:shim/%.c=$(B)/obj/shim/%.o)
EX_SRC   := $(wildcard examples/*.c)
EX_BIN   := $(EX_SRC:examples/%.c=$(B)/examples/%) \
	    $(EX_SRC:examples/%.c=$(B)/examples/plain/%)
BENCH_SRC:= $(wildcard bench/*.c)

TARGETS := $(B)/$(SONAME) $(B)/libushm.so $(B)/libushm.a $(B)/ushm-tests $(EX_BIN)
ifneq ($(TOOL_SRC),)
TARGETS += $(B)/ushm
endif
ifneq ($(SHIM_SRC),)
TARGETS += $(B)/libushm-preload.so
endif
# The tool tests' helper programs (tests/sh/tool_*.sh): the segment fixture
# and a registry corrupter.  Standalone, so they live in tests/fixture/
# rather than tests/*.c (all linked into ushm-tests).
TARGETS += $(B)/shm-fixture $(B)/ushm-corrupt
# The crash tests' program (tests/sh/crash.sh, `make torture`).
TARGETS += $(B)/ushm-crash
# The drop-in tests' sandbox: CMD with the kernel's SysV IPC blocked by a
# seccomp filter (tests/sh/dropin_*.sh).
TARGETS += $(B)/ushm-noipc

all: $(TARGETS)

$(B)/obj/lib/%.o: src/%.c $(wildcard src/*.h) include/ushm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/obj/tests/%.o: tests/%.c $(wildcard tests/*.h tests/sem/*.h) $(wildcard src/*.h) include/ushm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -fvisibility=default -c $< -o $@

$(B)/obj/tools/%.o: tools/%.c $(wildcard tools/*.h) $(wildcard src/*.h) include/ushm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# `ushm run` looks for the shim next to itself (the build tree), then at
# this path relative to its own directory (an installed tool: BINDIR to
# PKGLIBDIR), so that DESTDIR staging and a moved prefix both work.  The
# path is in $(B)/shim-reldir, rewritten when it changes (not by install,
# which only checks it: see install below), so cmd_run.o follows it.
SHIM_REL := $(shell realpath -m -s --relative-to='$(BINDIR)' '$(PKGLIBDIR)')
ifneq ($(filter-out install uninstall,$(or $(MAKECMDGOALS),all)),)
$(shell mkdir -p $(B) && [ "$$(cat $(B)/shim-reldir 2>/dev/null)" = '$(SHIM_REL)' ] || \
	echo '$(SHIM_REL)' > $(B)/shim-reldir)
endif
$(B)/shim-reldir:
	@mkdir -p $(@D)
	echo '$(SHIM_REL)' > $@

$(B)/obj/tools/cmd_run.o: $(B)/shim-reldir
$(B)/obj/tools/cmd_run.o: CFLAGS_ALL += -DUSHM_SHIM_RELDIR='"$(SHIM_REL)"'

$(B)/obj/shim/%.o: shim/%.c $(wildcard shim/*.h) $(wildcard src/*.h) include/ushm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libushm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The real file has the soname's name, so that a program linked with
# -L$(B) -lushm (through the libushm.so link) and an rpath finds it.
$(B)/$(SONAME): $(LIB_OBJ) src/libushm.map
	$(CC) -shared -Wl,--version-script=src/libushm.map -Wl,-soname,$(SONAME) $(LDFLAGS_ALL) -o $@ $(LIB_OBJ) $(LIBS)

$(B)/libushm.so: $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# The shim's version script gives its shmget/shmat/shmdt/shmctl glibc's
# version, GLIBC_2.2.5, so versioned references bind to them (shim/preload.c).
$(B)/libushm-preload.so: $(SHIM_OBJ) $(LIB_OBJ) shim/preload.map
	$(CC) -shared -Wl,--version-script=shim/preload.map $(LDFLAGS_ALL) -o $@ $(SHIM_OBJ) $(LIB_OBJ) $(LIBS) -ldl

$(B)/ushm: $(TOOL_OBJ) $(B)/libushm.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TOOL_OBJ) $(B)/libushm.a $(LIBS)

$(B)/ushm-tests: $(TEST_OBJ) $(B)/libushm.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(B)/libushm.a $(LIBS)

$(B)/shm-fixture: tests/fixture/shm_fixture.c include/ushm.h $(B)/libushm.a
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Iinclude -o $@ $< $(B)/libushm.a $(LIBS)

$(B)/ushm-corrupt: tests/fixture/corrupt.c src/layout.h
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Isrc -o $@ $<

$(B)/ushm-noipc: tests/fixture/noipc.c
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -o $@ $<

# The examples twice: on libushm directly, and plain (kernel, or ushm
# under the drop-in shim).
$(B)/examples/plain/%: examples/%.c $(wildcard examples/*.h)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -o $@ $<

$(B)/examples/%: examples/%.c $(wildcard examples/*.h) $(B)/libushm.a
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -DUSE_USHM -Iinclude -o $@ $< $(B)/libushm.a $(LIBS)

# ---- drop-in test helpers (tests/dropin/): plain <sys/shm.h> programs,
# built without the library or sanitizers, that tests/sh/dropin_*.sh run on
# the kernel and under the preload shim; lib*.c become shared libraries.
DROPIN_LSRC := $(wildcard tests/dropin/lib*.c)
DROPIN_SRC  := $(filter-out $(DROPIN_LSRC),$(wildcard tests/dropin/*.c))
DROPIN_OUT  := $(DROPIN_SRC:tests/dropin/%.c=$(B)/dropin/%) \
	       $(DROPIN_LSRC:tests/dropin/%.c=$(B)/dropin/%.so)
all: $(DROPIN_OUT)

$(B)/dropin/%.so: tests/dropin/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) -fPIC -shared -o $@ $<

$(B)/dropin/%: tests/dropin/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) -o $@ $< -ldl

test: all
	tests/run $(B)

check: test

# ---- installing ----
# Only copies what `all` built (in $(B): build-san/ with SAN=1); runs
# ldconfig only for a real install as root (never with DESTDIR).  The
# tool was built to find the shim at $(B)/shim-reldir from its own
# directory: BINDIR and LIBDIR here must give the same relative path, or
# the installed `ushm run` would not find its shim.
INST_BIN := $(B)/$(SONAME) $(B)/libushm.a $(B)/ushm $(B)/libushm-preload.so \
	    $(B)/shim-reldir
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(patsubst $(PREFIX),$${prefix},$(1)))

install: $(INST_BIN) include/ushm.h ushm.pc.in docs/ushm.1
	@[ "$$(cat $(B)/shim-reldir)" = '$(SHIM_REL)' ] || { \
	  echo "make install: $(B)/ushm finds its shim at BINDIR/$$(cat $(B)/shim-reldir)," \
	       "but this BINDIR and LIBDIR need BINDIR/$(SHIM_REL): run make with" \
	       "the same BINDIR, LIBDIR (or PKGLIBDIR) first" >&2; exit 1; }
	install -d -m 755 '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(PKGLIBDIR)' \
		'$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(INCLUDEDIR)' \
		'$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1'
	install -m 644 $(B)/$(SONAME) '$(DESTDIR)$(LIBDIR)/$(SONAME)'
	ln -sf $(SONAME) '$(DESTDIR)$(LIBDIR)/libushm.so'
	install -m 644 $(B)/libushm.a '$(DESTDIR)$(LIBDIR)/libushm.a'
	install -m 644 $(B)/libushm-preload.so '$(DESTDIR)$(PKGLIBDIR)/libushm-preload.so'
	install -m 644 include/ushm.h '$(DESTDIR)$(INCLUDEDIR)/ushm.h'
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|' ushm.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/ushm.pc'
	chmod 644 '$(DESTDIR)$(PKGCONFIGDIR)/ushm.pc'
	install -m 755 $(B)/ushm '$(DESTDIR)$(BINDIR)/ushm'
	install -m 644 docs/ushm.1 '$(DESTDIR)$(MANDIR)/man1/ushm.1'
	@if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" = 0 ] && command -v ldconfig > /dev/null; then \
	  echo ldconfig; ldconfig; fi

# Exactly what install made, and the one directory that is ushm's own.
uninstall:
	rm -f '$(DESTDIR)$(LIBDIR)/$(SONAME)' '$(DESTDIR)$(LIBDIR)/libushm.so' \
	      '$(DESTDIR)$(LIBDIR)/libushm.a' '$(DESTDIR)$(PKGLIBDIR)/libushm-preload.so' \
	      '$(DESTDIR)$(INCLUDEDIR)/ushm.h' '$(DESTDIR)$(PKGCONFIGDIR)/ushm.pc' \
	      '$(DESTDIR)$(BINDIR)/ushm' '$(DESTDIR)$(MANDIR)/man1/ushm.1'
	if [ -d '$(DESTDIR)$(PKGLIBDIR)' ]; then \
	  rmdir --ignore-fail-on-non-empty '$(DESTDIR)$(PKGLIBDIR)'; fi

# ---- the semaphore suite validated on the kernel alone (tests/sem/):
# -DSEM_SELFTEST makes its "ushm" side the kernel's calls again, in an IPC
# namespace of its own; the harness and runner are the shm suite's.
SEMT_SRC := $(wildcard tests/sem/*.c)
SEMT_OBJ := $(SEMT_SRC:tests/sem/%.c=$(B)/obj/sem-selftest/%.o)

$(B)/obj/sem-selftest/%.o: tests/sem/%.c $(wildcard tests/*.h tests/sem/*.h) include/ushm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -fvisibility=default -DSEM_SELFTEST -c $< -o $@

$(B)/ushm-sem-selftest: $(SEMT_OBJ) $(B)/obj/tests/diff.o $(B)/obj/tests/runner.o $(B)/libushm.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(SEMT_OBJ) $(B)/obj/tests/diff.o $(B)/obj/tests/runner.o $(B)/libushm.a $(LIBS)

sem-selftest: $(B)/ushm-sem-selftest
	$(B)/ushm-sem-selftest $(SEMT)

# ---- random multi-process scenarios, kernel vs ushm (tests/t_scen.c):
# `make test` runs seeds 1..100; this runs SEEDS of them from FIRST.
SEEDS ?= 2000
FIRST ?= 1
scenarios: $(B)/ushm-tests
	USHM_TEST_TIMEOUT=0 USHM_SCEN_SEEDS=$(SEEDS) USHM_SCEN_FIRST=$(FIRST) \
		$(B)/ushm-tests scen_random

# ---- benchmark (bench/: one program, run by `make bench`) ----
$(B)/ushm-bench: $(BENCH_SRC) $(wildcard bench/*.h) $(B)/libushm.a
	$(CC) $(CSTD) $(WARN) -O2 -g -Iinclude -Isrc -o $@ $(BENCH_SRC) $(B)/libushm.a $(LIBS)

bench: $(B)/ushm-bench
	$(B)/ushm-bench

# ---- crash safety (crash/: torture and crash-point tests) ----
CRASH_SRC := $(wildcard crash/*.c)
# --wrap: every CRASH_POINT() goes through crash/log.c first, which notes
# the point's name in memory the supervisor shares, so reports name it.
$(B)/ushm-crash: $(CRASH_SRC) $(wildcard crash/*.h) tests/rmtree.h $(LIB_SRC) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -DUSHM_CRASHTEST -Iinclude -Isrc -Wl,--wrap=ushm__crash_point -o $@ $(CRASH_SRC) $(LIB_SRC) $(LIBS)

torture: $(B)/ushm-crash
	$(B)/ushm-crash torture 10000

# ---- fuzzing (fuzz/: libFuzzer targets, built with clang) ----
FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
# No comparison tracing: the checker and recovery compare every entry of
# tables of 32768+ entries, and tracing those took 85% of the time (40
# instead of 250 runs/s) for little guidance.
FUZZ_COV ?= -fno-sanitize-coverage=trace-cmp
# fuzz-toolchain installs clang and libFuzzer with apt-get if they are
# missing (idempotent; tests/sh/lib/fuzz_toolchain.sh).
build/fuzz/%: fuzz/%.c $(LIB_SRC) $(wildcard src/*.h) tests/rmtree.h | fuzz-toolchain
	@mkdir -p $(@D)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(FUZZ_COV) -Iinclude -Isrc -o $@ $< $(LIB_SRC) $(LIBS)

fuzz-toolchain:
	@tests/sh/lib/fuzz_toolchain.sh

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do echo "# $$f"; mkdir -p build/fuzz/corpus-$${f##*/}; \
	  $$f -max_total_time=$${FUZZ_SECONDS:-300} -artifact_prefix=build/fuzz/ build/fuzz/corpus-$${f##*/} || exit 1; done

demo: all
	examples/demo.sh $(B)

clean:
	rm -rf build build-san

.PHONY: all test check install uninstall demo clean bench torture fuzz fuzz-toolchain sem-selftest scenarios
