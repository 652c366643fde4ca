#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-layering.sh -- the runtime never calls a name its preload exports.
#
# Usage: tools/check-layering.sh MAP OBJECT...
#
# Fails when an OBJECT (the runtime's: runtime/*.o, runtime/arch/*/*.o)
# refers to (has undefined) a name that MAP (preload/preload.map) exports.
# The runtime is linked into the preload too, where such a name is the
# preload's interposer, green on an LWP; runtime code calls GPI_LIBC(name)
# instead (runtime/host.c).  Patterns of MAP (gp_*: the runtime's own API)
# are not libc names and are skipped.

set -eu

map=$1
shift

# The names of MAP's global: section, one a line, without patterns.
names=$(sed -e 's,/\*.*\*/,,' "$map" |
    awk '/global:/ { on = 1; sub(/.*global:/, "") }
	 /local:/ { on = 0 }
	 on { gsub(/;/, " "); for (i = 1; i <= NF; i++) print $i }' |
    grep -v '[*?[]' | sort -u)
[ -n "$names" ] || { echo "check-layering: no names in $map" >&2; exit 1; }

# Undefined symbols of an object, without @VERSION.  readelf reads the
# ELF symbol table itself: nm reads the LTO plugin's view of a fat LTO
# object, which leaves out some (exit, _exit).  nm for anything else.
undefined() {
	if readelf -h "$1" >/dev/null 2>&1; then
		readelf -sW "$1" | awk '$7 == "UND" && $8 != "" { print $8 }'
	else
		nm -u "$1" | awk '{ print $NF }'
	fi | sed 's/@.*//' | sort -u
}

bad=
for o in "$@"; do
	[ -r "$o" ] || { echo "check-layering: $o: not found" >&2; exit 1; }
	hits=$(undefined "$o" | grep -xF "$names" || true)
	for h in $hits; do
		bad="$bad$o: $h
"
	done
done
if [ -n "$bad" ]; then
	echo "check-layering: runtime objects call names the preload" \
	    "interposes (use GPI_LIBC(name), runtime/host.c):" >&2
	printf '%s' "$bad" | sed 's/^/\t/' >&2
	exit 1
fi
echo "check-layering: ok ($# objects)"
