#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench-icount.sh -- instructions per operation of the fast paths, under
# callgrind, for each way of linking greenproc.
#
# Usage: tools/bench-icount.sh OUTDIR FASTPATH-BIN...
#
# Each FASTPATH-BIN is bench/link/fastpath.c linked one way (its name ends
# in -so, -static or -lto).  For each op (yield, create, spawn) it runs
# under valgrind --tool=callgrind twice, with N and 2N operations; the
# difference of the two totals over the difference of the operation
# counts is the cost of one operation, with start-up, gp_init and exit
# cancelled out.  --fair-sched=yes: valgrind runs one thread at a time,
# and with its default lock the watchdog could starve the worker long
# enough to call it stuck and start a spare (then the two yielders split
# and stop switching: a count that changes from run to run); each count
# is the median of three runs.  They repeat to within a few instructions
# per op; a busy machine cannot move them.
#
# Writes OUTDIR/icount.tsv (the figures format of bench/benchutil.h) and,
# through tools/bench-report.sh, OUTDIR/icount.json and OUTDIR/icount.md.

set -eu

[ $# -ge 2 ] || { echo "usage: $0 OUTDIR FASTPATH-BIN..." >&2; exit 2; }
out=$1
shift
if ! command -v valgrind >/dev/null 2>&1; then
	echo "bench-icount: valgrind is not installed (apt-get install valgrind)" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tsv=$out/icount.tsv
{
	printf 'machine\tnproc\t%s\n' "$(nproc 2>/dev/null || echo 1)"
	printf 'machine\tmodel\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	printf 'machine\tkernel\t%s\n' "$(uname -sr)"
	printf 'run\tcommit\t%s\n' "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- runtime include bench 2>/dev/null || echo -dirty)"
	printf 'run\tdate\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'run\tcc\t%s\n' "$(${CC:-cc} --version 2>/dev/null | head -n 1)"
	printf 'run\tvalgrind\t%s\n' "$(valgrind --version)"
} > "$tsv"

# ir1 BIN OP N: callgrind's total instruction count of one run.
ir1() {
	valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file=/dev/null \
	    "$1" "$2" "$3" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# ir BIN OP N: the median of three runs.  Even with --fair-sched one run
# in ten or so still lands on the watchdog's spare (a yield count 25 %
# off); the median drops it.
ir() {
	{ ir1 "$@"; ir1 "$@"; ir1 "$@"; } | sort -n | sed -n 2p
}

# Operations one run of N does: the loop and its warm-up of N/8; a yield
# run has two yielders.
ops() {
	w=$(( $2 / 8 )); [ "$w" -gt 0 ] || w=1
	if [ "$1" = yield ]; then echo $(( 2 * ($2 + w) )); else echo $(( $2 + w )); fi
}

printf '%-8s' op
for b in "$@"; do printf ' %16s' "${b##*fastpath-}"; done
printf '   (instructions per op)\n'
for op in yield create spawn; do
	case $op in
	yield)	n=20000 ;;
	*)	n=10000 ;;
	esac
	printf '%-8s' $op
	for b in "$@"; do
		link=${b##*fastpath-}
		a=$(ir "$b" $op $n)
		c=$(ir "$b" $op $((2 * n)))
		if [ -z "$a" ] || [ -z "$c" ]; then
			printf ' %16s' failed
			continue
		fi
		per=$(awk -v a="$a" -v c="$c" -v oa="$(ops $op $n)" -v oc="$(ops $op $((2 * n)))" \
		    'BEGIN { printf "%.1f", (c - a) / (oc - oa) }')
		printf ' %16s' "$per"
		peer=""
		[ "$link" = static ] || peer="$op, static"
		printf 'fig\tbench_icount\t%s, %s\tinstructions\t%s\t%s\n' "$op" "$link" "$per" "$peer" >> "$tsv"
	done
	printf '\n'
done
sh "$here/bench-report.sh" "$tsv" "$out/icount.json" "$out/icount.md"
echo "bench-icount: $out/icount.json, $out/icount.md"
