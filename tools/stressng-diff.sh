#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# stressng-diff.sh -- run stress-ng stressors natively and under
# `greenrun -w 2`, and print SAME or DIFF for each: the exit status and
# stress-ng's verdict ("successful run completed", "unsuccessful run",
# "skipped", "failed") must be the same both ways.
#
#	tools/stressng-diff.sh [-b BUILD] [-t SECONDS] [STRESSOR...]
#
# Not part of `make test`: it needs stress-ng (apt-get install stress-ng)
# and takes about 2 x SECONDS + 1 s a stressor.  With no STRESSOR, stress-ng's
# scheduler class and the os-class stressors about processes, threads,
# signals, descriptors and file I/O, 104 in all.  Each runs 2 instances
# for SECONDS (default 2) in a scratch directory.  Exits 1 if any DIFF.
#
# What it tries: stress-ng runs each stressor in children it forks, and
# a child forked under greenrun is a plain process (ARCHITECTURE section
# 26, fork).  So this is the green parent's fork, wait, kill and signals
# against stress-ng's harness, and the preload passing calls through in
# the children; the stressors' own threads are not green threads.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
secs=2
while getopts b:t: o; do
	case $o in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-t SECONDS] [STRESSOR...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
command -v stress-ng >/dev/null ||
    { echo "stress-ng is not installed (apt-get install stress-ng)" >&2; exit 2; }
[ -x "$build/greenrun" ] || { echo "$build/greenrun: build it first" >&2; exit 2; }

if [ $# -eq 0 ]; then
	set -- $(stress-ng --class 'scheduler?' 2>&1 | sed -n 's/^class .* stressors: //p') \
	    aio aiol alarm access brk chdir chmod clock dup epoll fcntl \
	    file-ioctl flock fstat get getdent getrandom io iomix itimer lease \
	    link locka lockf lockofd malloc memfd mmap open pidfd pipe pipeherd \
	    prctl pty rename sendfile sigchld sigfd signal sigpending sigpipe \
	    sigq sigrt sigsuspend sock sockpair splice timer timerfd udp hdd \
	    seek sync-file readahead fallocate fsize copy-file dir dentry
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 2

# run PREFIX STRESSOR: "status verdicts" of one run.
run() {
	local out rc
	out=$(timeout -k 5 $((secs * 10 + 20)) $1 stress-ng --"$2" 2 -t "$secs" \
	    2>&1 </dev/null)
	rc=$?
	printf '%s [%s]' "$rc" "$(printf '%s\n' "$out" | grep -Eo \
	    'successful run completed|unsuccessful run|skipped|failed' |
	    sort -u | tr '\n' ' ')"
}

diffs=0
for s in "$@"; do
	n=$(run "" "$s")
	g=$(run "$build/greenrun -w 2" "$s")
	if [ "$n" = "$g" ]; then r=SAME; else r=DIFF; diffs=$((diffs + 1)); fi
	printf '%-4s %-16s native %s  green %s\n' "$r" "$s" "$n" "$g"
done
echo "$# stressors, $diffs differ"
[ "$diffs" -eq 0 ]
