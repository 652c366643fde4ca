# SPDX-License-Identifier: BSD-2-Clause
#
# Makefile -- greenproc: one non-recursive GNU Makefile (musl style).
#
#   make [all]          build/libgreenproc.so (+ .so.0), build/libgreenproc.a,
#                       build/libgreenproc_preload.so
#   make lib | preload  only the runtime libraries | only the preload object
#   make greenrun       build/greenrun, which runs a program as a green process
#   make test           Criterion suite (tests/*.c, tests/*.cc) + check-abi
#                       + check-layering + check-docs
#   make difftest       the differential test against Linux (tests/diff/,
#                       docs/DIFFTEST.md): N=1000 SEED=1 WORKERS= LEN=24
#   make stress         every tests/stress/*.c, one program each, in turn
#   make soak           tests/soak/soak.c for SOAK_S seconds (default 600)
#   make bench          every bench/*.c, one program each, in turn
#                       (BENCH_RUNS=5: five runs, median and spread)
#   make bench-echo     bench/bench_echo.c only (loopback echo, 1k/10k conns)
#   make bench-icount   callgrind instruction counts of the fast paths
#                       (yield, create+join, spawn+exit+wait) per linkage
#   make plots          build/bench/results.json to PNGs (docs/plots/ with
#                       PLOTS_DIR=docs/plots; needs gnuplot)
#   make demo           examples/demo.c
#   make check-abi      libgreenproc.so exports only gp_* symbols
#   make check-layering no runtime object calls a name preload.map exports
#   make check-docs     every `name` in docs/*.md and README.md is in the code
#   make install        PREFIX=/usr/local DESTDIR= (header, libraries, .pc,
#                       greenrun)
#   make clean          remove build*/
#
# Variables: CC (CXX follows it: clang -> clang++, gcc -> g++), CFLAGS,
# CXXFLAGS, CPPFLAGS, LDFLAGS (yours; CFLAGS defaults to -O3 -g),
# WERROR=1, DEBUG=1 (-DGREENPROC_DEBUG=1: debug-only checks), LTO=auto|0|1,
# SAN=address|undefined|thread, SOAK_S, ARCH (default: uname -m;
# ARCH=generic forces the portable context switch), TEST_JOBS, TEST_ARGS,
# PREFIX, BINDIR, LIBDIR, INCLUDEDIR, DESTDIR.
#
# Everything goes under $(BUILD): build/, or build-$(SAN)/ with a
# sanitizer, so sanitized and plain trees live side by side.  A change of
# compiler or flags rebuilds every object (see config.stamp below).

.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

VERSION		:= 0.1.0
SOVERSION	:= 0

PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
BINDIR		?= $(PREFIX)/bin
INCLUDEDIR	?= $(PREFIX)/include
DESTDIR		?=

# ----------------------------------------------------------------------
# Configuration

SAN		?=
WERROR		?= 0
DEBUG		?= 0
TEST_JOBS	?= 2
TEST_ARGS	?=

ifneq ($(filter-out address undefined thread,$(SAN)),)
$(error SAN must be address, undefined or thread (got '$(SAN)'))
endif

# gcc 12's TSan stops at 8128 fibers: the thread tier always uses clang.
ifeq ($(SAN),thread)
override CC	:= clang
override CXX	:= clang++
endif

# The C++ compiler follows CC unless CXX was given.
ifeq ($(origin CXX),default)
ifneq ($(findstring clang,$(CC)),)
CXX		:= $(subst clang,clang++,$(CC))
else ifneq ($(findstring gcc,$(CC)),)
CXX		:= $(subst gcc,g++,$(CC))
endif
endif

BUILD		:= build$(if $(SAN),-$(SAN))
PLAIN_BUILD	:= build

# Goals that need neither the dependencies nor a configured tree.
NOCONF_GOALS	:= clean help
GOALS		:= $(or $(MAKECMDGOALS),all)
CONFIGURING	:= $(filter-out $(NOCONF_GOALS),$(GOALS))

ifneq ($(and $(filter test,$(GOALS)),$(filter thread,$(SAN))),)
$(error Criterion's runner cannot start under TSan: the thread tier is 'make SAN=thread stress')
endif

# ----------------------------------------------------------------------
# Dependency check: the first thing any goal but clean does, while make
# reads this file, so that the pkg-config queries below see what it
# installed.  tools/deps.sh installs with apt-get when run as root, else
# stops with the command to run.

ifneq ($(CONFIGURING),)
ifeq ($(GREENPROC_DEPS_CHECKED),)
DEPS_GROUPS	:= core
ifneq ($(filter bench,$(GOALS)),)
DEPS_GROUPS	+= extra
endif
ifneq ($(filter bench bench-echo,$(GOALS)),)
DEPS_GROUPS	+= uv
endif
ifneq ($(filter bench,$(GOALS)),)
DEPS_GROUPS	+= boost
endif
ifneq ($(and $(filter stress,$(GOALS)),$(filter thread,$(SAN))),)
DEPS_GROUPS	+= extra
endif
ifneq ($(findstring clang,$(CC)),)
DEPS_GROUPS	+= clang
endif
$(shell CC='$(CC)' sh tools/deps.sh $(sort $(DEPS_GROUPS)) 1>&2)
ifneq ($(.SHELLSTATUS),0)
$(error missing build dependencies (see above))
endif
# The sub-make that builds the plain preload for sanitized tests (below)
# need not check again.
export GREENPROC_DEPS_CHECKED := 1
endif
endif

# ----------------------------------------------------------------------
# Flags

PKG_CONFIG	?= pkg-config
pc_libs		= $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)
pc_cflags	= $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)

ifneq ($(CONFIGURING),)
URCU_CFLAGS	:= $(patsubst -I%,-isystem %,$(call pc_cflags,liburcu-memb))
CRITERION_LIBS	:= $(call pc_libs,criterion)
endif
CRITERION_LIBS	:= $(or $(strip $(CRITERION_LIBS)),-lcriterion)

# Neither libunwind, libdw nor liburcu is linked: the runtime dlopen()s them when
# it needs them (docs/ARCHITECTURE.md), so that merely loading it (every
# program under the preload) costs no more than its own object.
# liburing (the io_uring engine, runtime/iouring.c) is linked statically
# into both shared objects and into libgreenproc.a: a ring is made by
# every gp_init, and the version scripts keep its names local.  It is
# liburing under other names (gpi_io_uring_submit...): the preload
# interposes liburing's own names for the program's rings (preload/
# uring.c), so the runtime's copy must not define them.  objcopy renames
# the archive's functions and iouring.c is compiled with the same list
# as macros (uring-names.h), both made from nm's list of the archive.
URING_A		:= $(shell $(CC) -print-file-name=liburing.a)
URING_DIR	:= $(BUILD)/uring
URING_GPI	:= $(URING_DIR)/liburing-gpi.a
URING_STAMP	:= $(URING_DIR)/stamp
LIBS		:= -ldl -pthread $(URING_GPI)

CFLAGS		?= -O3 -g
CXXFLAGS	?= -O2 -g
CPPFLAGS	?=
LDFLAGS		?=

WARN		:= -Wall -Wextra -Wshadow $(if $(filter 1,$(WERROR)),-Werror)

# Link-time optimisation.  The runtime's fast paths cross its files on
# every call (spawn -> pid slot -> LWP -> stack cache; exit1 -> report
# -> wakeup): inlining across them took bench_proc's spawn/exit/wait
# round trip from 188 to 148 ns.  LTO=auto turns it on for gcc builds
# without a sanitizer (clang would need llvm-ar for its archives); LTO=0
# or LTO=1 forces it.  The static library holds fat objects, so a
# program linked without -flto still gets ordinary code.
LTO		?= auto
ifeq ($(LTO),auto)
ifeq ($(CONFIGURING),)
override LTO	:= 0
else
override LTO	:= $(if $(or $(SAN),$(shell $(CC) -dM -E -x c /dev/null \
		   2>/dev/null | grep __clang__)),0,1)
endif
endif
LTO_FLAGS	:= $(if $(filter 1,$(LTO)),-flto=auto -ffat-lto-objects)
# An LTO link compiles: it takes the compile flags too (-g for gdb).
LTO_LDFLAGS	:= $(if $(filter 1,$(LTO)),$(LTO_FLAGS) $(CFLAGS))
WARN_C		:= $(WARN) -Wstrict-prototypes -Wmissing-prototypes
WARN_CXX	:= $(WARN)

SAN_FLAGS_address	:= -fsanitize=address -fno-omit-frame-pointer
SAN_FLAGS_undefined	:= -fsanitize=undefined -fno-sanitize-recover=undefined \
			   -fno-omit-frame-pointer
SAN_FLAGS_thread	:= -fsanitize=thread
SAN_DEFS_address	:= -DGREENPROC_ASAN=1
SAN_DEFS_undefined	:= -DGREENPROC_UBSAN=1
SAN_DEFS_thread		:= -DGREENPROC_TSAN=1
SAN_FLAGS	:= $(SAN_FLAGS_$(SAN))

ALL_CPPFLAGS	:= -Iinclude -Iruntime -D_GNU_SOURCE $(SAN_DEFS_$(SAN)) \
		   $(if $(filter 1,$(DEBUG)),-DGREENPROC_DEBUG=1) \
		   $(URCU_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS	:= -std=gnu11 $(CFLAGS) $(WARN_C) -pthread $(SAN_FLAGS)
ALL_CXXFLAGS	:= -std=c++17 $(CXXFLAGS) $(WARN_CXX) -pthread $(SAN_FLAGS)
# Assembly is never instrumented: the switch routine must not be.
ALL_ASFLAGS	:= $(CFLAGS) -Wa,--noexecstack
# initial-exec TLS: the runtime (and liburcu's reader counter) is loaded at
# start-up (linked or LD_PRELOADed), so its TLS is static and a TLS read
# is one load, not a __tls_get_addr call on every switch and wait.
LIB_FLAGS	:= -fPIC -fvisibility=hidden -ftls-model=initial-exec $(LTO_FLAGS)
# The runtime's own calls to its exported gp_ functions (gp_exit from a
# process's entry, gp_sigprocmask, gp_init...) bind inside the object:
# without this, -fPIC keeps every one a PLT call that the program could
# interpose, and no such call can be inlined (ARCHITECTURE section 20).
# Not for the preload's own objects, whose libc-named interposers stay
# interposable as libc's are.
RT_FLAGS	:= -fno-semantic-interposition
DEPFLAGS	= -MMD -MP -MF $(@:.o=.d)
ALL_LDFLAGS	:= $(LDFLAGS) $(SAN_FLAGS) -pthread $(LTO_LDFLAGS)
# clang leaves the sanitizer runtime out of shared objects: no -z defs there.
SO_DEFS		:= $(if $(SAN),,-Wl,-z,defs)

# ----------------------------------------------------------------------
# Sources

# ARCH only from the command line: kernel trees export ARCH=x86 and such.
ifneq ($(origin ARCH),command line)
ARCH		:= $(shell uname -m)
endif
ARCH_DIR	:= $(if $(wildcard runtime/arch/$(ARCH)/.),runtime/arch/$(ARCH),runtime/arch/generic)
ARCH_SRCS	:= $(sort $(wildcard $(ARCH_DIR)/*.S $(ARCH_DIR)/*.c))
# x86-64 (not ARCH=generic): struct gp_ctx and the inline switch of
# runtime/arch/x86_64/switch.h (arch.h).  Every object sees it, since
# struct gp_lwp embeds a gp_ctx, and it is part of the config stamp.
ALL_CPPFLAGS	+= $(if $(filter %/x86_64,$(ARCH_DIR)),-DGPI_ARCH_X86_64=1)
RT_SRCS		:= $(sort $(wildcard runtime/*.c)) $(ARCH_SRCS)
# x86-64 (not ARCH=generic): vfork is an assembly stub (preload/arch/).
PRELOAD_ARCH_SRCS := $(if $(filter %/x86_64,$(ARCH_DIR)),$(sort $(wildcard preload/arch/x86_64/*.S)))
PRELOAD_SRCS	:= $(sort $(wildcard preload/*.c)) $(PRELOAD_ARCH_SRCS)
PRELOAD_DEFS	:= $(if $(PRELOAD_ARCH_SRCS),-DGPI_VFORK_STUB=1)
# Echo (below): the example, its client and bench_echo's peers.
HAVE_UV		:= $(wildcard /usr/include/uv.h)
ECHO_BINS	:= $(addprefix $(BUILD)/examples/,echo echo_client echo_green)
ECHO_PEERS	:= $(BUILD)/bench/echo/echo_epoll $(BUILD)/bench/echo/echo_uring \
		   $(if $(HAVE_UV),$(BUILD)/bench/echo/echo_uv)
ECHO_OBJS	= $(call obj,$(wildcard examples/echo*.c bench/echo/*.c))
TEST_SRCS	:= $(sort $(wildcard tests/*.c tests/*.cc))
PROG_SRCS	:= $(sort $(wildcard tests/programs/*.c tests/programs/*.cc))
# tests/greenrun/: plain pthread programs that know nothing of greenproc,
# run natively and under greenrun by tests/test_greenrun.c.
GR_SRCS		:= $(sort $(wildcard tests/greenrun/*.c tests/greenrun/*.cc))
STRESS_SRCS	:= $(sort $(wildcard tests/stress/*.c))
DIFF_SRCS	:= $(sort $(wildcard tests/diff/*.c))
SOAK_SRCS	:= $(wildcard tests/soak/soak.c)
BENCH_SRCS	:= $(sort $(wildcard bench/*.c))
DEMO_SRC	:= $(wildcard examples/demo.c)

obj		= $(patsubst %,$(BUILD)/obj/%.o,$(basename $(1)))

RT_OBJS		:= $(call obj,$(RT_SRCS))
PRELOAD_OBJS	:= $(call obj,$(PRELOAD_SRCS))
TEST_OBJS	:= $(call obj,$(TEST_SRCS))
PROG_OBJS	:= $(call obj,$(PROG_SRCS))
GR_OBJS		:= $(call obj,$(GR_SRCS) tools/greenrun.c)
STRESS_OBJS	:= $(call obj,$(STRESS_SRCS))
DIFF_OBJS	:= $(call obj,$(DIFF_SRCS))
SOAK_OBJS	:= $(call obj,$(SOAK_SRCS))
BENCH_OBJS	:= $(call obj,$(BENCH_SRCS))
DEMO_OBJ	:= $(call obj,$(DEMO_SRC))
ALL_OBJS	:= $(RT_OBJS) $(PRELOAD_OBJS) $(TEST_OBJS) $(PROG_OBJS) $(GR_OBJS) \
		   $(STRESS_OBJS) $(SOAK_OBJS) $(BENCH_OBJS) $(DEMO_OBJ) \
		   $(DIFF_OBJS) $(call obj,bench/link/fastpath bench/link/fastpath-lto)

SONAME		:= libgreenproc.so.$(SOVERSION)
SHLIB		:= $(BUILD)/$(SONAME)
SHLINK		:= $(BUILD)/libgreenproc.so
STLIB		:= $(BUILD)/libgreenproc.a
PRELOAD		:= $(BUILD)/libgreenproc_preload.so
PCFILE		:= $(BUILD)/greenproc.pc
RUNNER		:= $(BUILD)/tests/runner
PROGS		:= $(patsubst tests/programs/%,$(BUILD)/tests/programs/%,$(basename $(PROG_SRCS)))
GR_BINS		:= $(patsubst %,$(BUILD)/%,$(basename $(GR_SRCS))) \
		   $(BUILD)/tests/greenrun/gr_tls_nopie
GREENRUN	:= $(BUILD)/greenrun
STRESS_BINS	:= $(patsubst tests/stress/%.c,$(BUILD)/stress/%,$(STRESS_SRCS))
DIFF_BIN	:= $(if $(DIFF_SRCS),$(BUILD)/tests/difftest)
SOAK_BIN	:= $(patsubst tests/soak/%.c,$(BUILD)/soak/%,$(SOAK_SRCS))
BENCH_BINS	:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
DEMO_BIN	:= $(BUILD)/demo

# The runner is linked by the C++ driver once there is C++ in it.
RUNNER_LD	:= $(if $(filter %.cc,$(TEST_SRCS)),$(CXX),$(CC))

# GNU Pth, a peer the benchmarks compare against: every benchmark may use
# it (GREENPROC_HAVE_PTH), and links it only if it does (--as-needed).
HAVE_PTH	:= $(wildcard /usr/include/pth.h)
BENCH_DEFS	:= $(if $(HAVE_PTH),-DGREENPROC_HAVE_PTH=1)
ifneq ($(HAVE_PTH),)
BENCH_LIBS	:= -Wl,--as-needed -lpth -Wl,--no-as-needed
endif
# Boost.Context, the other user-space peer of bench_lwp: a small C++
# program (bench/peers/boost_context.cc) that bench_lwp runs, built only
# where Boost.Context is installed (tools/deps.sh group boost); without it
# bench_lwp prints n/a.
HAVE_BOOST_CTX	:= $(wildcard /usr/include/boost/context/fiber.hpp)
BOOST_PEER	:= $(if $(HAVE_BOOST_CTX),$(BUILD)/bench/peers/boost_context)
BENCH_DEFS	+= $(if $(BOOST_PEER),-DGREENPROC_BOOST_PEER='"$(abspath $(BOOST_PEER))"')

# ----------------------------------------------------------------------
# Stamps.  config.stamp changes when the compiler or the flags do (every
# object depends on it); sources.stamp when a source file appears or goes
# (every link depends on it).  Both are rewritten only when they differ,
# while make reads this file.

# DT_RELR for the preload (-z pack-relative-relocs: binutils 2.38, glibc
# 2.36), where the linker and the C library both have it: probed while
# make reads this file.
ifneq ($(CONFIGURING),)
PRELOAD_RELR	:= $(shell $(CC) -shared -fPIC -Wl,--fatal-warnings \
		   -Wl,-z,pack-relative-relocs -o /dev/null -x c /dev/null \
		   2>/dev/null && echo -Wl,-z,pack-relative-relocs)
endif

CONFIG_STAMP	:= $(BUILD)/config.stamp
SOURCES_STAMP	:= $(BUILD)/sources.stamp
CONFIG		:= $(strip $(CC) $(CXX) $(ALL_CPPFLAGS) $(ALL_CFLAGS) \
		   $(ALL_CXXFLAGS) $(ALL_ASFLAGS) $(ALL_LDFLAGS) $(LIBS) \
		   $(CRITERION_LIBS) $(BENCH_DEFS) $(BENCH_LIBS) $(PRELOAD_DEFS) \
		   $(LIB_FLAGS) $(RT_FLAGS) $(PRELOAD_RELR))
SOURCES		:= $(strip $(RT_SRCS) $(PRELOAD_SRCS) $(TEST_SRCS))

ifneq ($(CONFIGURING),)
$(shell mkdir -p $(BUILD))
ifneq ($(strip $(file <$(CONFIG_STAMP))),$(CONFIG))
$(file >$(CONFIG_STAMP),$(CONFIG))
endif
ifneq ($(strip $(file <$(SOURCES_STAMP))),$(SOURCES))
$(file >$(SOURCES_STAMP),$(SOURCES))
endif
endif

# ----------------------------------------------------------------------
# Libraries

.PHONY: all lib preload greenrun
all: lib preload greenrun
lib: $(SHLINK) $(STLIB)
preload: $(PRELOAD)
greenrun: $(GREENRUN)

# greenrun (tools/greenrun.c) finds the preload beside itself, in ../lib,
# or in the LIBDIR it was built for.
$(BUILD)/obj/tools/greenrun.o: tools/greenrun.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -DGREENRUN_LIBDIR='"$(LIBDIR)"' $(ALL_CFLAGS) \
	    $(DEPFLAGS) -c -o $@ $<

$(GREENRUN): $(BUILD)/obj/tools/greenrun.o
	$(CC) $(ALL_LDFLAGS) -o $@ $<

$(URING_STAMP): $(URING_A)
	@mkdir -p $(URING_DIR)/obj
	nm -g --defined-only $(URING_A) | \
	    awk 'NF == 3 && $$2 == "T" { print $$3, "gpi_" $$3 }' | \
	    sort -u > $(URING_DIR)/renames
	objcopy --redefine-syms=$(URING_DIR)/renames $(URING_A) $(URING_GPI)
	awk '{ print "#define " $$1 " " $$2 }' $(URING_DIR)/renames > \
	    $(URING_DIR)/uring-names.h
	rm -f $(URING_DIR)/obj/*
	cd $(URING_DIR)/obj && $(AR) x ../liburing-gpi.a
	touch $@

$(BUILD)/obj/runtime/iouring.o: $(URING_STAMP)
$(BUILD)/obj/runtime/iouring.o: RT_FLAGS += -include $(URING_DIR)/uring-names.h

$(SHLIB): $(RT_OBJS) runtime/greenproc.map $(SOURCES_STAMP) $(URING_STAMP)
	$(CC) -shared -Wl,-soname,$(SONAME) \
	    -Wl,--version-script=runtime/greenproc.map $(SO_DEFS) \
	    $(ALL_LDFLAGS) -o $@ $(RT_OBJS) $(LIBS)

$(SHLINK): $(SHLIB)
	ln -sf $(SONAME) $@

$(STLIB): $(RT_OBJS) $(SOURCES_STAMP) $(URING_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(RT_OBJS) $(URING_DIR)/obj/*

# The preload carries its own copy of the runtime (same PIC objects), so
# LD_PRELOAD needs nothing else; the version script keeps it all local
# except the interposers.  Every exec under the preload maps it:
# -z noseparate-code makes that 2 segments instead of 4 (2 mmaps and
# their page faults fewer; bench/bench_preload.c); DT_RELR (PRELOAD_RELR)
# packs its relative relocations into a bitmap the loader walks in a
# few dozen instructions, instead of 155 entries of 24 bytes.
$(PRELOAD): $(PRELOAD_OBJS) $(RT_OBJS) preload/preload.map $(SOURCES_STAMP) \
    $(URING_STAMP)
	$(CC) -shared -Wl,-soname,libgreenproc_preload.so \
	    -Wl,-z,noseparate-code $(PRELOAD_RELR) \
	    -Wl,--version-script=preload/preload.map $(SO_DEFS) \
	    $(ALL_LDFLAGS) -o $@ $(PRELOAD_OBJS) $(RT_OBJS) $(LIBS)

# ----------------------------------------------------------------------
# Objects.  The runtime and the preload are PIC with hidden visibility;
# everything else (tests, programs, stress, bench, demo) is plain.

$(BUILD)/obj/runtime/%.o: runtime/%.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LIB_FLAGS) $(RT_FLAGS) $(DEPFLAGS) \
	    -c -o $@ $<

$(BUILD)/obj/runtime/%.o: runtime/%.S $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_ASFLAGS) $(LIB_FLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/preload/%.o: preload/%.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PRELOAD_DEFS) $(ALL_CFLAGS) $(LIB_FLAGS) \
	    $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/preload/%.o: preload/%.S $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_ASFLAGS) $(LIB_FLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/bench/%.o: bench/%.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(BENCH_DEFS) $(ALL_CFLAGS) $(LTO_FLAGS) \
	    $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# libasan calls dl_iterate_phdr, which the preload wraps, before its
# shadow memory exists: the wrapper and the lookup of the real function
# must make no instrumented access (preload/loader.c).
$(BUILD)/obj/preload/loader.o $(BUILD)/obj/preload/dlnext.o: \
    ALL_CFLAGS := $(filter-out -fsanitize=%,$(ALL_CFLAGS))

$(BUILD)/obj/%.o: %.cc $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) $(DEPFLAGS) -c -o $@ $<

-include $(ALL_OBJS:.o=.d)

# ----------------------------------------------------------------------
# ABI check: libgreenproc.so exports gp_* and nothing else; the preload
# exports no runtime symbol.  A GP_EXPORT function of the header that the
# library does not define yet is only reported (ABI_STRICT=1: an error).

ABI_STRICT	?= 0

.PHONY: check-abi
check-abi: $(SHLINK) $(PRELOAD)
	@sh tools/check-abi.sh $(SHLIB) $(PRELOAD) include/greenproc.h \
	    $(if $(filter 1,$(ABI_STRICT)),strict)

# Layering check: no runtime object refers to a libc name the preload
# interposes (in the preload that name is the interposer): runtime code
# calls GPI_LIBC(name) (runtime/host.c).

.PHONY: check-layering
check-layering: $(RT_OBJS) preload/preload.map
	@sh tools/check-layering.sh preload/preload.map $(RT_OBJS)

# Docs check: every identifier docs/*.md and README.md put in backticks
# exists in the code outside comments, or is an outside name on
# tools/check-docs.allow -- so that the docs cannot go on naming what
# was renamed or removed.

DOCS		:= $(sort $(wildcard docs/*.md)) README.md

.PHONY: check-docs
check-docs:
	@sh tools/check-docs.sh $(DOCS)

# ----------------------------------------------------------------------
# Tests.  One Criterion runner from tests/*.c and tests/*.cc, linked with
# the static library (so tests may reach gpi_ internals); helper programs
# from tests/programs/, one per file, run under the preload by the tests.
#
# The runner finds its helpers through the environment:
#   GREENPROC_TEST_BUILD        this tree ($(BUILD)): programs, preload
#   GREENPROC_TEST_PLAIN_BUILD  the unsanitized tree (build/), whose preload
#                               can go into foreign programs (bash, python3)
#   GREENPROC_TEST_SAN          $(SAN), empty for none
#   GREENPROC_TEST_SAN_PRELOAD  with gcc's ASan, the libasan.so to put first
#                               in LD_PRELOAD when preloading the sanitized
#                               preload into a sanitized program

SAN_PRELOAD	:= $(strip $(if $(filter address,$(SAN)),$(if $(findstring clang,$(CC)),,\
		   $(filter /%,$(shell $(CC) -print-file-name=libasan.so)))))

TEST_ENV	:= GREENPROC_TEST_BUILD='$(abspath $(BUILD))' \
		   GREENPROC_TEST_PLAIN_BUILD='$(abspath $(PLAIN_BUILD))' \
		   GREENPROC_TEST_SAN='$(SAN)' \
		   GREENPROC_TEST_SAN_PRELOAD='$(SAN_PRELOAD)' \
		   GREENPROC_TEST_VFORK_STUB='$(if $(PRELOAD_ARCH_SRCS),1,0)' \
		   LSAN_OPTIONS='suppressions=$(abspath tools/lsan.supp):print_suppressions=0'

# The differential test (docs/DIFFTEST.md): make test replays every
# sequence of tests/diff/regress.txt and DIFF_TEST_N generated ones
# (skipped when TEST_ARGS picks a subset); make difftest runs N from SEED
# on WORKERS workers (default: one per CPU).
DIFF_TEST_N	?= 300
N		?= 1000
SEED		?= 1
LEN		?= 24
WORKERS		?=
DIFF_REGRESS	:= tests/diff/regress.txt

.PHONY: test plain-preload difftest
test: all check-abi check-layering check-docs $(if $(TEST_SRCS),$(RUNNER)) $(PROGS) $(DIFF_BIN) \
    $(ECHO_BINS) $(GR_BINS) $(if $(SAN),plain-preload)
ifeq ($(TEST_SRCS),)
	@echo "make test: no tests yet (tests/*.c, tests/*.cc)"
else
	$(TEST_ENV) $(RUNNER) --jobs $(TEST_JOBS) $(TEST_ARGS)
endif
ifneq ($(and $(DIFF_BIN),$(if $(TEST_ARGS),,1)),)
	$(TEST_ENV) $(DIFF_BIN) -r $(DIFF_REGRESS) -n $(DIFF_TEST_N) -s 1
endif

difftest: $(DIFF_BIN)
	$(if $(WORKERS),GREENPROC_WORKERS=$(WORKERS)) $(DIFF_BIN) \
	    $(if $(filter 1,$(REGRESS)),-r $(DIFF_REGRESS)) -n $(N) -s $(SEED) -l $(LEN)

# A sanitized preload cannot go into foreign programs: sanitized test runs
# also build the plain one (a second configuration, hence a sub-make).
plain-preload:
	@$(MAKE) --no-print-directory SAN= $(PLAIN_BUILD)/libgreenproc_preload.so \
	    $(patsubst $(BUILD)/%,$(PLAIN_BUILD)/%,$(PROGS) $(ECHO_BINS) \
	    $(GREENRUN) $(GR_BINS))

$(RUNNER): $(TEST_OBJS) $(STLIB) $(SOURCES_STAMP)
	@mkdir -p $(@D)
	$(RUNNER_LD) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(STLIB) \
	    $(CRITERION_LIBS) $(LIBS)

# static_*: linked with libgreenproc.a, a copy of the runtime of their
# own (the one-runtime-per-process check).  make picks this rule over the
# one below for them: its stem is shorter.
$(BUILD)/tests/programs/static_%: $(BUILD)/obj/tests/programs/static_%.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STLIB) $(LIBS)

# Programs stay unmodified C: libgreenproc.so is linked only if a program
# calls gp_* itself (--as-needed).
$(BUILD)/tests/programs/%: $(BUILD)/obj/tests/programs/%.o $(SHLINK)
	@mkdir -p $(@D)
	$(if $(wildcard tests/programs/$*.cc),$(CXX),$(CC)) $(ALL_LDFLAGS) \
	    -o $@ $< -L$(BUILD) -Wl,-rpath,'$(abspath $(BUILD))' \
	    -Wl,--as-needed -lgreenproc -Wl,--no-as-needed

# Not linked with greenproc at all: greenrun brings the preload.
# gr_openmp calls GCC's OpenMP runtime (Debian's libgomp1, which gcc
# needs) by its entry points, so that clang builds it too.
$(BUILD)/tests/greenrun/gr_openmp: GR_LIBS := -l:libgomp.so.1
# gr_uring's rings are liburing.so's (liburing-dev, a build dependency).
$(BUILD)/tests/greenrun/gr_uring: GR_LIBS := -luring
# gr_kaio's contexts are libaio's (libaio-dev, a test dependency).
$(BUILD)/tests/greenrun/gr_kaio: GR_LIBS := -laio
$(BUILD)/tests/greenrun/%: $(BUILD)/obj/tests/greenrun/%.o
	@mkdir -p $(@D)
	$(if $(wildcard tests/greenrun/$*.cc),$(CXX),$(CC)) $(ALL_LDFLAGS) -o $@ $< \
	    $(GR_LIBS)

# Shared libraries for the tests.  With TLS of their own: gr_tls_lib
# links libgrtls.so, gr_tls_dlopen loads libgrtlsdl.so with dlopen from
# its own directory (dynamic TLS), gr_malloc_lib's malloc is
# libgrmalloc.so's; gr_libspin busy-waits in libgrspin.so and in
# libgrspindl.so, which it loads with dlopen.
$(BUILD)/tests/greenrun/libgrspindl.so: tests/tlslib/grspin.c
$(BUILD)/tests/greenrun/lib%.so: tests/tlslib/%.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) -shared -fPIC $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# passthru_dlnext: a second preload after greenproc's, a library whose
# constructor holds the loader's lock, the check that preload/dlnext.c
# answers as dlsym(RTLD_NEXT) (libgrdlcheck.so: dlnext.c built into it,
# with the names the preload looks up, taken from its tables), and a copy
# of the program linked -z now with libgrnext.so needed ahead of libc.
$(BUILD)/tests/programs/passthru_dlnext: $(BUILD)/tests/greenrun/libgrnext.so \
    $(BUILD)/tests/greenrun/libgrslowinit.so \
    $(BUILD)/tests/greenrun/libgrdlcheck.so \
    $(BUILD)/tests/programs/passthru_dlnext_now

$(BUILD)/tests/programs/passthru_dlnext_now: \
    $(BUILD)/obj/tests/programs/passthru_dlnext.o \
    $(BUILD)/tests/greenrun/libgrnext.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -Wl,-z,now -o $@ $< -L$(BUILD)/tests/greenrun \
	    -Wl,-rpath,'$(abspath $(BUILD))/tests/greenrun' -Wl,--no-as-needed \
	    -lgrnext -ldl

$(BUILD)/tests/greenrun/libgrdlcheck.so: preload/dlnext.c \
    $(BUILD)/tests/greenrun/dlnames.h
$(BUILD)/tests/greenrun/libgrdlcheck.so: ALL_CPPFLAGS += -I$(BUILD)/tests/greenrun

# Every name in the preload's real-function tables (F() of preload.h,
# REAL_LAZY() of its files, X() of GPI_LIBC_NAMES), the three it names
# otherwise, and a few words of no libc's the patterns also catch.
$(BUILD)/tests/greenrun/dlnames.h: preload/preload.h runtime/internal.h \
    $(wildcard preload/*.c)
	@mkdir -p $(@D)
	{ grep -ho -E '\b(F|X|REAL_LAZY)\([A-Za-z0-9_]+\)' preload/preload.h \
	    preload/*.c runtime/internal.h | sed -E 's/.*\((.*)\)/\1/'; \
	  echo prctl; echo __overflow; echo __cxa_thread_atexit_impl; } | \
	    sort -u | sed 's/.*/"&",/' > $@.tmp && mv $@.tmp $@

# Linked -static-pie: LD_PRELOAD cannot load into it.  Built from its
# source without the sanitizer: a sanitizer's runtime does not link
# statically (libasan.a wants libm's signgam).
$(BUILD)/tests/programs/passthru_spie: tests/programs/passthru_spie.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize=%,$(ALL_CPPFLAGS) $(ALL_CFLAGS)) \
	    $(filter-out -fsanitize=%,$(LDFLAGS)) -static-pie -o $@ $<

$(BUILD)/tests/greenrun/gr_tls_lib: $(BUILD)/obj/tests/greenrun/gr_tls_lib.o $(BUILD)/tests/greenrun/libgrtls.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(@D) -lgrtls -Wl,-rpath,'$$ORIGIN'

$(BUILD)/tests/greenrun/gr_tls_dlopen: $(BUILD)/obj/tests/greenrun/gr_tls_dlopen.o $(BUILD)/tests/greenrun/libgrtlsdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -ldl -pthread

# gr_tls_count as a non-PIE executable (see there).
$(BUILD)/tests/greenrun/gr_tls_nopie: tests/greenrun/gr_tls_count.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fno-pie $(ALL_LDFLAGS) -no-pie \
	    -o $@ $< -pthread

$(BUILD)/tests/greenrun/gr_malloc_lib: $(BUILD)/obj/tests/greenrun/gr_malloc_lib.o $(BUILD)/tests/greenrun/libgrmalloc.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(@D) -lgrmalloc -Wl,-rpath,'$$ORIGIN'

$(BUILD)/tests/greenrun/gr_libspin: $(BUILD)/obj/tests/greenrun/gr_libspin.o $(BUILD)/tests/greenrun/libgrspin.so $(BUILD)/tests/greenrun/libgrspindl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(@D) -lgrspin -Wl,-rpath,'$$ORIGIN' -ldl -pthread

# ----------------------------------------------------------------------
# Stress (the TSan tier: plain main() programs) and benchmarks.

# clang 14's TSan wants a narrow mmap layout; run without ASLR when allowed.
STRESS_RUN	:= $(if $(filter thread,$(SAN)),TSAN_OPTIONS='suppressions=$(abspath tools/tsan.supp)' \
		   $(shell setarch $$(uname -m) -R true \
		   >/dev/null 2>&1 && echo setarch $$(uname -m) -R))

run_each	= for p in $(1); do \
			echo "== $$p"; \
			$(2) $$p || { rc=$$?; echo "FAIL: $$p (exit $$rc)" >&2; exit 1; }; \
		done

.PHONY: stress bench
stress: $(STRESS_BINS)
	@$(if $(STRESS_BINS),$(call run_each,$(STRESS_BINS),$(STRESS_RUN)),echo "make stress: no programs in tests/stress/")

# make fuzz: the libFuzzer target tests/fuzz/fuzz_api.c (clang, ASan,
# DEBUG=1, in build-fuzz/) for FUZZ_S seconds, from the seed corpus
# tests/fuzz/corpus/; what it finds new goes to build-fuzz/corpus/, a
# crash to build-fuzz/crash-* (add it to tests/fuzz/corpus/).
FUZZ_S		?= 60
FUZZ_BUILD	:= build-fuzz

.PHONY: fuzz
fuzz:
	$(MAKE) CC=clang SAN=address DEBUG=1 LTO=0 BUILD=$(FUZZ_BUILD) \
	    CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' \
	    $(FUZZ_BUILD)/tests/fuzz/fuzz_api
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/tests/fuzz/fuzz_api -max_total_time=$(FUZZ_S) \
	    -timeout=20 -artifact_prefix=$(FUZZ_BUILD)/ -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus tests/fuzz/corpus

$(BUILD)/tests/fuzz/fuzz_api: $(BUILD)/obj/tests/fuzz/fuzz_api.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(STLIB) $(LIBS)

# bench_preload compares the preload with an empty preloaded object.
BENCH_EMPTY_SO	:= $(BUILD)/bench/libempty.so

# bench/link/fastpath.c, linked the ways a program can link greenproc:
# -lgreenproc as the .pc file says (fastpath-so), libgreenproc.a without
# LTO (fastpath-static: the plain code of the fat objects) and, when the
# library has LTO objects, with -flto (fastpath-lto).  bench_link times
# them interleaved; make bench-icount counts their instructions.
FASTPATH	:= $(BUILD)/bench/link/fastpath
FASTPATH_BINS	:= $(FASTPATH)-so $(FASTPATH)-static \
		   $(if $(filter 1,$(LTO)),$(FASTPATH)-lto)
FASTPATH_LD	:= $(LDFLAGS) $(SAN_FLAGS) -pthread

$(BUILD)/obj/bench/link/fastpath.o: bench/link/fastpath.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/bench/link/fastpath-lto.o: bench/link/fastpath.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LTO_FLAGS) $(DEPFLAGS) -c -o $@ $<

$(FASTPATH)-so: $(BUILD)/obj/bench/link/fastpath.o $(SHLINK)
	@mkdir -p $(@D)
	$(CC) $(FASTPATH_LD) -o $@ $< -L$(BUILD) \
	    -Wl,-rpath,'$(abspath $(BUILD))' -lgreenproc

$(FASTPATH)-static: $(BUILD)/obj/bench/link/fastpath.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(FASTPATH_LD) -o $@ $< $(STLIB) $(LIBS)

$(FASTPATH)-lto: $(BUILD)/obj/bench/link/fastpath-lto.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(FASTPATH_LD) $(LTO_LDFLAGS) -o $@ $< $(STLIB) $(LIBS)

# tools/bench-run.sh runs them in turn, then writes $(BUILD)/bench/results.json
# and results.md from the figures they record (bench/benchutil.h).
# BENCH_RUNS=N repeats the whole run N times back to back (each run's
# results.json is kept in $(BUILD)/bench/runs/) and writes the median and
# spread of every figure and target to $(BUILD)/bench/spread.md
# (tools/bench-spread.sh): one run on a shared VM can be off by 2x.
BENCH_RUNS	?= 1
bench: $(BENCH_BINS) $(BOOST_PEER) $(PRELOAD) $(BENCH_EMPTY_SO) $(ECHO_BINS) \
    $(ECHO_PEERS) $(GREENRUN) $(BUILD)/tests/greenrun/gr_bench $(FASTPATH_BINS)
	@$(if $(BENCH_BINS),:,echo "make bench: no programs in bench/"; exit 0); \
	rm -rf $(BUILD)/bench/runs; rc=0; \
	for k in $$(seq $(BENCH_RUNS)); do \
		[ $(BENCH_RUNS) -eq 1 ] || echo "== make bench: run $$k of $(BENCH_RUNS)"; \
		CC='$(CC)' sh tools/bench-run.sh $(BUILD)/bench $(BENCH_BINS) || rc=1; \
		mkdir -p $(BUILD)/bench/runs; \
		cp $(BUILD)/bench/results.json $(BUILD)/bench/runs/$$k.json; \
	done; \
	if [ $(BENCH_RUNS) -gt 1 ]; then \
		sh tools/bench-spread.sh $(BUILD)/bench/runs/*.json > $(BUILD)/bench/spread.md && \
		echo "make bench: $(BUILD)/bench/spread.md (median and spread of $(BENCH_RUNS) runs)"; \
	fi; exit $$rc

# make plots: the PNGs of tools/plots.sh from the last make bench (gnuplot,
# installed by tools/deps.sh plots as for the other groups; no other target
# needs it).  PLOTS_DIR=docs/plots refreshes the README's reference plots.
PLOTS_DIR	?= $(BUILD)/plots

.PHONY: plots
plots:
	@sh tools/deps.sh plots
	sh tools/plots.sh $(BUILD)/bench/results.json $(PLOTS_DIR)

# Instructions per operation of the fast paths under callgrind, for each
# linkage: noise on the machine cannot move them (tools/bench-icount.sh;
# needs valgrind).  Writes $(BUILD)/bench/icount.json and icount.md.
.PHONY: bench-icount
bench-icount: $(FASTPATH_BINS)
	CC='$(CC)' sh tools/bench-icount.sh $(BUILD)/bench $(FASTPATH_BINS)

$(DIFF_BIN): $(DIFF_OBJS) $(STLIB) $(SOURCES_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DIFF_OBJS) $(STLIB) $(LIBS)

$(BUILD)/stress/%: $(BUILD)/obj/tests/stress/%.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STLIB) $(LIBS)

$(BENCH_EMPTY_SO): $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) -shared -fPIC $(ALL_LDFLAGS) -o $@ -x c /dev/null

# ----------------------------------------------------------------------
# Echo (issue 13): examples/echo.c, a thread-per-connection server on
# plain pthreads; examples/echo_green.c, the same main() run in a green
# process (with -lgreenproc, under the preload); examples/echo_client.c,
# the load generator; and the other servers bench_echo compares with,
# bench/echo/*.c (echo_uv only with libuv: tools/deps.sh group uv).
# tests/test_echo.c runs them; make bench-echo runs bench_echo alone.

# (ECHO_BINS and the rest are defined with the sources, above: the test
# and bench targets name them before this point.)

-include $(ECHO_OBJS:.o=.d)

.PHONY: bench-echo
bench-echo: $(BUILD)/bench/bench_echo $(ECHO_BINS) $(ECHO_PEERS) $(PRELOAD)
	$(BUILD)/bench/bench_echo

$(BUILD)/examples/echo_green: $(BUILD)/obj/examples/echo_green.o $(SHLINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(BUILD) \
	    -Wl,-rpath,'$(abspath $(BUILD))' -lgreenproc

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $<

# The io_uring floor links the system's liburing as it is (not the
# runtime's renamed copy: it is a program of its own, no preload).
$(BUILD)/bench/echo/echo_uring: $(BUILD)/obj/bench/echo/echo_uring.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(URING_A)

$(BUILD)/bench/echo/echo_uv: $(BUILD)/obj/bench/echo/echo_uv.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -luv

$(BUILD)/bench/echo/%: $(BUILD)/obj/bench/echo/%.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $<

# ----------------------------------------------------------------------
# Soak: random churn of the process model for SOAK_S seconds, with a
# ledger of every process (tests/soak/soak.c says what it checks).  CI
# runs SOAK_S=60 in the ASan and TSan tiers.

SOAK_S		?= 600
SOAK_RUN	:= $(STRESS_RUN) $(if $(filter address,$(SAN)),LSAN_OPTIONS='suppressions=$(abspath tools/lsan.supp):print_suppressions=0')

.PHONY: soak
soak: $(SOAK_BIN)
	$(SOAK_RUN) $(SOAK_BIN) $(SOAK_S)

$(BUILD)/soak/%: $(BUILD)/obj/tests/soak/%.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STLIB) $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STLIB) $(BENCH_LIBS) $(LIBS)

$(BUILD)/bench/peers/boost_context: bench/peers/boost_context.cc $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -O2 -o $@ $< -lboost_context

# bench_tls needs the runtime's TLS out of its executable's block.
$(BUILD)/bench/bench_tls: $(BUILD)/obj/bench/bench_tls.o $(SHLINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(BUILD) \
	    -Wl,-rpath,'$(abspath $(BUILD))' -lgreenproc $(LIBS)

# ----------------------------------------------------------------------
# Demo: examples/demo.c (the gp_ API) and examples/legacy.c (libc only),
# linked against libgreenproc.so as a user program would be, and run
# under the preload so that the legacy code's libc calls are green.  The
# preload exports the gp_ API too: the demo's gp_ calls bind to it, and
# there is one runtime.  ASan's pthread_create interceptor cannot start
# green threads: with SAN=address the sanitized demo runs under the plain
# preload (as the sanitized tests run their preload programs), which then
# comes before libasan.

DEMO_LEGACY	:= $(if $(DEMO_SRC),$(wildcard examples/legacy.c))
DEMO_OBJS	:= $(DEMO_OBJ) $(call obj,$(DEMO_LEGACY))
ifeq ($(SAN),address)
DEMO_PRELOAD	:= $(PLAIN_BUILD)/libgreenproc_preload.so
DEMO_ENV	:= ASAN_OPTIONS=verify_asan_link_order=0:$$ASAN_OPTIONS
else
DEMO_PRELOAD	:= $(PRELOAD)
DEMO_ENV	:=
endif

-include $(patsubst %.o,%.d,$(call obj,$(DEMO_LEGACY)))

.PHONY: demo demo-plain-preload
demo: $(if $(DEMO_SRC),$(DEMO_BIN) $(if $(filter address,$(SAN)),demo-plain-preload,$(PRELOAD)))
ifeq ($(DEMO_SRC),)
	@echo "make demo: examples/demo.c does not exist yet"
else
	$(DEMO_ENV) LD_PRELOAD='$(abspath $(DEMO_PRELOAD))' $(DEMO_BIN)
endif

demo-plain-preload:
	@$(MAKE) --no-print-directory SAN= $(PLAIN_BUILD)/libgreenproc_preload.so

$(DEMO_BIN): $(DEMO_OBJS) $(SHLINK)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DEMO_OBJS) -L$(BUILD) \
	    -Wl,-rpath,'$(abspath $(BUILD))' -lgreenproc

# ----------------------------------------------------------------------
# Install

.PHONY: install FORCE
pc_dir		= $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
# A program linked from the .pc finds libgreenproc.so.0 at run time
# without ldconfig or LD_LIBRARY_PATH: outside the system's own library
# directories (where the dynamic linker looks anyway, and where distro
# packages must not carry an rpath) Libs carries -rpath ${libdir}.
# /usr/local/lib is in Debian's ld.so.conf, but its cache only learns of
# a new library from ldconfig, which make install does not run.
PC_RPATH	:= $(if $(filter /lib /lib64 /lib/% /usr/lib /usr/lib64 /usr/lib/%,$(LIBDIR)),,-Wl,-rpath,$${libdir} )

$(PCFILE): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' \
	    'prefix=$(PREFIX)' \
	    'libdir=$(call pc_dir,$(LIBDIR))' \
	    'includedir=$(call pc_dir,$(INCLUDEDIR))' \
	    '' \
	    'Name: greenproc' \
	    'Description: M:N green threads with the process model of a BSD kernel' \
	    'Version: $(VERSION)' \
	    'Cflags: -I$${includedir}' \
	    'Libs: -L$${libdir} $(PC_RPATH)-lgreenproc' \
	    'Libs.private: -ldl -pthread' > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv -f $@.tmp $@

install: all $(PCFILE)
	install -d '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(LIBDIR)/pkgconfig' \
	    '$(DESTDIR)$(BINDIR)'
	install -m 644 include/greenproc.h '$(DESTDIR)$(INCLUDEDIR)/'
	install -m 755 $(SHLIB) '$(DESTDIR)$(LIBDIR)/'
	ln -sf $(SONAME) '$(DESTDIR)$(LIBDIR)/libgreenproc.so'
	install -m 644 $(STLIB) '$(DESTDIR)$(LIBDIR)/'
	install -m 755 $(PRELOAD) '$(DESTDIR)$(LIBDIR)/'
	install -m 644 $(PCFILE) '$(DESTDIR)$(LIBDIR)/pkgconfig/'
	install -m 755 $(GREENRUN) '$(DESTDIR)$(BINDIR)/'

# ----------------------------------------------------------------------

.PHONY: clean help
clean:
	rm -rf build build-*

help:
	@sed -n '3,/DESTDIR\.$$/p' Makefile | sed 's/^# \{0,1\}//'
