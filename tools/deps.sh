#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# deps.sh -- check the build dependencies of greenproc, install them if we can.
#
# Usage: tools/deps.sh GROUP...
#
#	core	liburcu-memb (headers; the library is dlopen()ed), libunwind,
#		libdw (headers; dlopen()ed for backtrace names), liburing
#		(linked statically: the io_uring engine), Criterion, libaio
#		(a test program's AIO contexts) (libunwind-dev liburcu-dev
#		libdw-dev liburing-dev libcriterion-dev libaio-dev)
#	clang	the clang compiler (clang): TSan tier, CC=clang
#	pth	GNU Pth (libpth-dev): benchmarks
#	uv	libuv (libuv1-dev): the libuv peer of bench_echo only
#	boost	Boost.Context (libboost-context-dev): the Boost peer of
#		bench_lwp only (bench/peers/boost_context.cc)
#	plots	gnuplot (gnuplot-nox): make plots only
#	extra	clang + pth
#
# Every group is checked.  When something is missing and we run as root,
# apt-get installs the packages of every group asked for; otherwise we stop
# and print the exact command to run.  Exit status 0 when everything is
# there (or was installed), 1 otherwise.  Messages go to stderr: the
# Makefile runs us while it reads itself.

set -u

CC=${CC:-cc}
missing=""		# what is missing, for the message
pkgs=""			# Debian packages of every group asked for

have_pc() {
	command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$@"
}

# have_header HEADER: can the C preprocessor find it?  Used when there is
# no pkg-config (it is not part of build-essential).
have_header() {
	printf '#include <%s>\n' "$1" |
	    "$CC" -E -x c - >/dev/null 2>&1
}

check_core() {
	pkgs="$pkgs libunwind-dev liburcu-dev libdw-dev liburing-dev"
	pkgs="$pkgs libcriterion-dev libaio-dev"
	have_header libaio.h || missing="$missing <libaio.h>"
	if command -v pkg-config >/dev/null 2>&1; then
		for m in liburcu-memb libunwind libdw liburing criterion; do
			have_pc "$m" || missing="$missing $m"
		done
	else
		for h in urcu/urcu-memb.h libunwind.h elfutils/libdwfl.h \
		    liburing.h criterion/criterion.h; do
			have_header "$h" || missing="$missing <$h>"
		done
	fi
}

check_clang() {
	pkgs="$pkgs clang"
	command -v clang >/dev/null 2>&1 || missing="$missing clang"
}

check_pth() {
	pkgs="$pkgs libpth-dev"
	[ -f /usr/include/pth.h ] || missing="$missing /usr/include/pth.h"
}

check_uv() {
	pkgs="$pkgs libuv1-dev"
	if command -v pkg-config >/dev/null 2>&1; then
		have_pc libuv || missing="$missing libuv"
	else
		have_header uv.h || missing="$missing <uv.h>"
	fi
}

check_boost() {
	pkgs="$pkgs libboost-context-dev"
	[ -f /usr/include/boost/context/fiber.hpp ] ||
	    missing="$missing <boost/context/fiber.hpp>"
}

check_plots() {
	pkgs="$pkgs gnuplot-nox"
	command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot"
}

for g in "$@"; do
	case $g in
	core)	check_core ;;
	clang)	check_clang ;;
	pth)	check_pth ;;
	uv)	check_uv ;;
	boost)	check_boost ;;
	plots)	check_plots ;;
	extra)	check_clang; check_pth ;;
	*)	echo "deps.sh: unknown group '$g'" >&2; exit 2 ;;
	esac
done

[ -z "$missing" ] && exit 0

# Each package once, in the order the groups named them.
pkgs=$(printf '%s\n' $pkgs | awk '!seen[$0]++' | tr '\n' ' ')
pkgs=${pkgs% }

echo "greenproc: missing build dependencies:$missing" >&2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "greenproc: running apt-get install -y $pkgs" >&2
	export DEBIAN_FRONTEND=noninteractive
	if apt-get update >&2 && apt-get install -y $pkgs >&2; then
		exit 0
	fi
	echo "greenproc: apt-get failed" >&2
	exit 1
fi
echo "greenproc: install them with:" >&2
echo "sudo apt-get install -y $pkgs" >&2
exit 1
