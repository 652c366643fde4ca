#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench-run.sh -- run the benchmarks, then write results.json and
# results.md from the figures they recorded.
#
# Usage: tools/bench-run.sh OUTDIR PROGRAM...
#
# Every PROGRAM runs in turn with GREENPROC_BENCH_OUT=OUTDIR/figures.tsv
# (bench/benchutil.h: fig(), point(), judge() append to it); its output
# goes to the terminal as before.  Around the whole run this script reads
# /proc/stat and /proc/loadavg, so that results.json says how busy the
# machine was (steal and busy shares of all CPU time over the run; the
# programs' own lines say the same per program, and judge by them).
# tools/bench-report.sh then writes OUTDIR/results.json and
# OUTDIR/results.md.  Exit status 1 when a program failed (the others
# still run, and the results are still written).

set -u

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR PROGRAM..." >&2; exit 2; }
out=$1
shift
mkdir -p "$out"
tsv=$out/figures.tsv
: > "$tsv"
here=$(cd "$(dirname "$0")" && pwd)

# cpu line of /proc/stat and the three load averages, as "k=v" words.
snap() {
	awk '/^cpu /{ printf "user=%s nice=%s system=%s idle=%s iowait=%s irq=%s softirq=%s steal=%s ", $2,$3,$4,$5,$6,$7,$8,$9 }' /proc/stat
	awk '{ printf "load1=%s load5=%s load15=%s\n", $1, $2, $3 }' /proc/loadavg
}

{
	printf 'machine\tnproc\t%s\n' "$(nproc 2>/dev/null || echo 1)"
	printf 'machine\tmodel\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	printf 'machine\tkernel\t%s\n' "$(uname -sr)"
	printf 'machine\thostname\t%s\n' "$(uname -n)"
	printf 'run\tcommit\t%s\n' "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- runtime include bench 2>/dev/null || echo -dirty)"
	printf 'run\tdate\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'run\tcc\t%s\n' "$(${CC:-cc} --version 2>/dev/null | head -n 1)"
	printf 'snap\tstart\t%s\n' "$(snap)"
} >> "$tsv"

# CPU time (user + system, s) of this shell's reaped children so far:
# fields 16 and 17 of /proc/$$/stat, in clock ticks.
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu() {
	sed 's/.*) //' /proc/$$/stat | awk -v hz="$hz" '{ printf "%.1f", ($14 + $15) / hz }'
}

rc=0
t0=$(date +%s)
for p in "$@"; do
	echo "== $p"
	s=$(date +%s.%N)
	c=$(cpu)
	if GREENPROC_BENCH_OUT=$(cd "$out" && pwd)/figures.tsv "$p"; then
		st=ok
	else
		st="exit $?"
		echo "FAIL: $p ($st)" >&2
		rc=1
	fi
	printf 'prog\t%s\t%s\t%s\t%s\n' "$(basename "$p")" \
	    "$(echo "$(date +%s.%N) $s" | awk '{ printf "%.1f", $1 - $2 }')" \
	    "$st" "$(echo "$(cpu) $c" | awk '{ printf "%.1f", $1 - $2 }')" >> "$tsv"
done
printf 'snap\tend\t%s\n' "$(snap)" >> "$tsv"
printf 'run\tseconds\t%s\n' "$(( $(date +%s) - t0 ))" >> "$tsv"

sh "$here/bench-report.sh" "$tsv" "$out/results.json" "$out/results.md" ||
    rc=1
echo "make bench: $out/results.json, $out/results.md ($(( $(date +%s) - t0 )) s)"
exit $rc
