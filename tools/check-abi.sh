#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-abi.sh -- the exported symbols of greenproc's shared objects.
#
# Usage: tools/check-abi.sh LIB PRELOAD HEADER [strict]
#
# Fails when LIB (libgreenproc.so) exports anything but gp_* (_init and
# _fini aside) or when PRELOAD exports a runtime internal (gpi_*): the
# preload exports the libc names it interposes and the gp_ API.  A GP_EXPORT function
# of HEADER that LIB does not define is reported; with "strict" it fails.

set -eu

lib=$1 preload=$2 header=$3 strict=${4:-}

# Defined dynamic symbols, without their @VERSION.
exports() {
	nm -D --defined-only "$1" | awk '{ sub(/@.*/, "", $NF); print $NF }' |
	    sort -u
}

bad=$(exports "$lib" | grep -v '^gp_' | grep -vxE '_init|_fini' || true)
if [ -n "$bad" ]; then
	echo "check-abi: $lib exports non-gp_ symbols:" >&2
	printf '\t%s\n' $bad >&2
	exit 1
fi

# The preload may export the gp_ API (a program that calls it while
# preloaded then uses the preload's runtime: one runtime per process), but
# never the runtime's internals.
bad=$(exports "$preload" | grep -E '^gpi_' || true)
if [ -n "$bad" ]; then
	echo "check-abi: $preload exports runtime symbols:" >&2
	printf '\t%s\n' $bad >&2
	exit 1
fi

# The first gp_ name followed by "(" on each GP_EXPORT line is the function.
want=$(awk '/^GP_EXPORT/ && match($0, /gp_[A-Za-z0-9_]*\(/) {
	print substr($0, RSTART, RLENGTH - 1) }' "$header" | sort -u)
have=$(exports "$lib")
missing=$(printf '%s\n' "$want" | grep -vxF "$have" || true)
[ -z "$have" ] && missing=$want

if [ -z "$missing" ]; then
	echo "check-abi: ok"
elif [ "$strict" = strict ]; then
	echo "check-abi: declared in $header but not exported by $lib:" >&2
	printf '\t%s\n' $missing >&2
	exit 1
else
	n=$(printf '%s\n' $missing | wc -l)
	echo "check-abi: ok ($n GP_EXPORT functions not defined yet;" \
	    "ABI_STRICT=1 lists them)"
fi
