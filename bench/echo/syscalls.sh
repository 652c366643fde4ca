#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# syscalls.sh -- system calls per echoed request, for the servers of
# bench/bench_echo.c: what the green I/O path costs the kernel, counted
# rather than timed, so that it is repeatable on a loaded machine (the
# figures of docs/ARCHITECTURE.md section 23, "What a socket is,
# remembered").  Needs perf with the syscalls tracepoints (root, or
# perf_event_paranoid <= -1) and a built tree (make bench-echo's
# programs).
#
#	bench/echo/syscalls.sh [BUILD [CONNS [ROUNDS]]]
#
# For each server: greenproc on 1 worker with GREENPROC_IO=uring and
# =epoll, the epoll loop and the io_uring loop (the floor).  The client connects everything, does one
# round trip per connection, waits ("idle"); perf then counts the
# server's system calls over the timed rounds only.  Prints per request:
# all system calls, and those of the read path.
set -eu
B=${1:-build}
C=${2:-1000}
R=${3:-200}
T=${TMPDIR:-/tmp}/gp-syscalls.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
ulimit -n 20000 2>/dev/null || true
EV=raw_syscalls:sys_enter
for n in read recvfrom preadv2 write sendto pwritev2 fcntl getsockopt \
    epoll_wait epoll_ctl io_uring_enter; do
	EV="$EV,syscalls:sys_enter_$n"
done

one() {	# label, then the server's command line
	label=$1; shift
	: > "$T/port"
	"$@" > "$T/port" &
	S=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	P=$(head -1 "$T/port")
	rm -f "$T/ctl"; mkfifo "$T/ctl"
	"$B/examples/echo_client" -p "$P" -c "$C" -r "$R" -s 64 -t 10 -i \
	    < "$T/ctl" > "$T/client" &
	CL=$!
	exec 7> "$T/ctl"
	i=0
	while ! grep -q idle "$T/client" && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	perf stat -e "$EV" -p $S -o "$T/perf" 2>/dev/null &
	PP=$!
	sleep 0.3
	echo go >&7
	wait $CL || true
	exec 7>&-
	kill -INT $PP; wait $PP || true
	req=$(tail -1 "$T/client" | sed 's/.*requests=\([0-9]*\).*/\1/')
	printf '%-26s' "$label"
	awk -v r="$req" '$1 ~ /^[0-9,]+$/ { gsub(",", "", $1); n = $2;
	    sub(/.*sys_enter_?/, "", n); if (n == "") n = "all";
	    if ($1 > 0) printf " %s=%.2f", n, $1 / r }' "$T/perf"
	echo
	kill $S 2>/dev/null; wait $S 2>/dev/null || true
}

echo "system calls per request, $C connections x $R rounds ($(uptime | sed 's/.*load/load/'))"
one "greenproc io_uring" env GREENPROC_IO=uring GREENPROC_WORKERS=1 \
    LD_PRELOAD="$B/libgreenproc_preload.so" "$B/examples/echo_green"
one "greenproc epoll" env GREENPROC_IO=epoll GREENPROC_WORKERS=1 \
    LD_PRELOAD="$B/libgreenproc_preload.so" "$B/examples/echo_green"
one "epoll loop" "$B/bench/echo/echo_epoll"
one "io_uring loop" "$B/bench/echo/echo_uring"
