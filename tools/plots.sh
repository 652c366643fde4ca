#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# plots.sh -- results.json (make bench) to PNGs with gnuplot.
#
# Usage: tools/plots.sh RESULTS.JSON OUTDIR
#
# Draws the "series" of results.json (bench/benchutil.h point()):
#   wait_any.png      wait(any) per call against N children, greenproc and
#                     the kernel, any-of-live and drain; log-log
#   rss.png           RSS per idle green process against N alive
#   spawn_workers.png spawn+exit+wait throughput of independent spawn
#                     trees against workers
#   echo.png          loopback echo requests/s against connections, one
#                     line per server
# The legend goes below the plot, where it hides no line.
# A plot whose series are all missing is left out.  Every plot names the
# machine and the commit of the run in its title.  800x500 pixels: the
# width of the README on GitHub.  results.json is written one series
# point per line (tools/bench-report.sh), which is all the parsing here
# relies on.

set -eu

[ $# -eq 2 ] || { echo "usage: $0 RESULTS.JSON OUTDIR" >&2; exit 2; }
json=$1
out=$2
command -v gnuplot >/dev/null 2>&1 || {
	echo "plots: gnuplot is not installed (tools/deps.sh plots)" >&2
	exit 1
}
[ -f "$json" ] || { echo "plots: no $json (run make bench first)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "key": "string" or "key": number, from one line of JSON (our strings
# hold no escaped quote).
jget() {
	sed -n -e "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" -e t \
	    -e "s/.*\"$1\": \\([-0-9.e+]*\\).*/\\1/p"
}

commit=$(grep -m 1 '"commit"' "$json" | jget commit)
model=$(grep -m 1 '"model"' "$json" | jget model)
nproc=$(grep -m 1 '"nproc"' "$json" | jget nproc)
date=$(grep -m 1 '"date"' "$json" | jget date)
# The busiest share of other work any program saw (bench/benchutil.h):
# a plot from a loaded machine says so on its face.
other=$(grep '"name": "other work on the machine"' "$json" | jget value |
    sort -g | tail -n 1)
stamp="$model, $nproc CPUs; commit $commit, ${date%%T*}"
[ -z "$other" ] || stamp="$stamp; other work up to $(printf '%.0f' "$other") % of the CPUs"

# One file per series, "x y" lines sorted by x: $tmp/<series>.dat, the
# series name with every character but letters and digits made "_".
grep '"series":' "$json" | while IFS= read -r line; do
	s=$(printf '%s\n' "$line" | jget series)
	x=$(printf '%s\n' "$line" | jget x)
	y=$(printf '%s\n' "$line" | jget y)
	f=$tmp/$(printf '%s' "$s" | tr -c 'A-Za-z0-9' '_').dat
	printf '%s %s\n' "$x" "$y" >> "$f"
done
for f in "$tmp"/*.dat; do
	[ -f "$f" ] && sort -g -o "$f" "$f"
done

dat() { printf '%s/%s.dat' "$tmp" "$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '_')"; }

# plot NAME TITLE XLABEL YLABEL LOGSCALE EXTRA "series|legend|style" ...
# (EXTRA: more gnuplot settings, or "")
plot() {
	name=$1 title=$2 xl=$3 yl=$4 logs=$5 extra=$6
	shift 6
	cmd=""
	for spec in "$@"; do
		s=${spec%%|*}; rest=${spec#*|}; leg=${rest%%|*}; style=${rest#*|}
		f=$(dat "$s")
		[ -s "$f" ] || continue
		cmd="$cmd${cmd:+, }'$f' using 1:2 with linespoints $style title '$leg'"
	done
	if [ -z "$cmd" ]; then
		echo "plots: $name.png: no data, left out"
		return 0
	fi
	gnuplot <<EOF
set terminal pngcairo size 800,560 font "DejaVu Sans,11" linewidth 1.5
set output '$out/$name.png'
set title "$title\\n{/*0.8 $stamp}"
set xlabel '$xl'
set ylabel '$yl'
set grid
set key below center vertical maxrows 3 samplen 2 font ",10"
set bmargin 8
$extra
$(case $logs in
	xy) echo 'set logscale xy'; echo 'set format x "10^{%L}"'; echo 'set format y "10^{%L}"' ;;
	x) echo 'set logscale x'; echo 'set format x "10^{%L}"'; echo 'set yrange [0:*]' ;;
	*) echo 'set yrange [0:*]' ;;
esac)
plot $cmd
EOF
	echo "plots: $out/$name.png"
}

plot wait_any "wait(any): cost of one call against the number of children" \
    "children of the waiting process (N)" "ns per wait(any) call" xy "" \
    "wait(any) among N live, greenproc|greenproc: 1 exited, N live|lw 2 pt 7 lc rgb '#1a7f37'" \
    "wait(any) draining N zombies, greenproc|greenproc: N zombies|dt 2 pt 6 lc rgb '#1a7f37'" \
    "wait(any) among N live, kernel|Linux waitpid(-1): 1 exited, N live|lw 2 pt 5 lc rgb '#cf222e'" \
    "wait(any) draining N zombies, kernel|Linux waitpid(-1): N zombies|dt 2 pt 4 lc rgb '#cf222e'"

plot rss "Memory per idle green process" \
    "green processes alive and asleep" "RSS per process (KiB)" x "" \
    "RSS per idle green process|greenproc, 1 worker, fresh runtime|lw 2 pt 7 lc rgb '#1a7f37'"

plot spawn_workers "spawn+exit+wait throughput, independent spawn trees" \
    "workers (kernel threads)" "million spawn+exit+wait per second" none \
    "set xtics 1; set xrange [0.5:4.5]" \
    "spawn+exit+wait throughput, independent trees|greenproc, 4 roots|lw 2 pt 7 lc rgb '#1a7f37'"

plot echo "Loopback echo, 64-byte messages" \
    "concurrent connections" "requests per second" x "" \
    "echo, greenproc 1 worker|greenproc, 1 worker|lw 2 pt 7 lc rgb '#1a7f37'" \
    "echo, greenproc 2 workers|greenproc, 2 workers|dt 2 pt 6 lc rgb '#1a7f37'" \
    "echo, pthreads|pthreads (same code)|lw 2 pt 5 lc rgb '#cf222e'" \
    "echo, epoll loop|hand-written epoll loop|lw 2 pt 9 lc rgb '#0969da'" \
    "echo, libuv|libuv|lw 2 pt 11 lc rgb '#8250df'"
