#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# realprogs.sh -- run real, unmodified multi-threaded command-line tools
# natively and under `greenrun -w 2`, and print a PASS/FAIL table.
#
#	tools/realprogs.sh [-b BUILD] [-k] [CASE...]
#
# Not part of `make test`: it needs the Debian packages (xz-utils, zstd,
# pigz, pbzip2, lbzip2, plzip, pixz, p7zip-full, ripgrep, fd-find, rsync,
# parallel, git, make, curl, wget, openssl, python3, strace, gdb, stress-ng, fio,
# ffmpeg, guile-3.0, mold, binutils' ld.gold; a missing
# tool gives SKIP).  Each case is a shell command in which "$G" stands
# before the program under test: empty for the native run, "greenrun -w
# 2" for the green one.  A case PASSes when
# both runs end with the same status, print the same digest on stdout
# (the cases hash what they make), end within 60 s, leave no process
# behind and leave their stdin and stdout pipes without O_NONBLOCK.
# The ratio is green wall time over native wall time.  -k keeps the
# scratch directory.  CASE names select cases (default: all).
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
keep=0
while getopts b:k o; do
	case $o in
	b) build=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: $0 [-b BUILD] [-k] [CASE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
GR="$build/greenrun -w 2"
[ -x "$build/greenrun" ] || { echo "$build/greenrun: build it first" >&2; exit 2; }

# The green runs must really be green: the preload in the program.
$GR grep -q libgreenproc_preload /proc/self/maps ||
    { echo "$GR does not load the preload" >&2; exit 2; }

W=$(mktemp -d /tmp/realprogs.XXXXXX)
export W
cleanup() {
	[ -n "${srvpid:-}" ] && kill "$srvpid" 2>/dev/null
	[ "$keep" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

# ------------------------------------------------------------ the inputs
# Text that compresses somewhat (about 6 MiB), random bytes (4 MiB), and
# a 40 MiB text for sort.
awk 'BEGIN { x = 12345; for (i = 0; i < 220000; i++) {
	x = (x * 1103515245 + 12345) % 2147483648;
	printf "%d line %d %s\n", x % 1000003, i, (x % 2) ? "odd" : "even" } }' \
    > "$W/text"
head -c 4194304 /dev/urandom > "$W/rand"
cat "$W/text" "$W/rand" "$W/text" > "$W/mix"
for i in 1 2 3 4 5 6 7; do cat "$W/text"; done > "$W/big"
cp "$here/tools/realprogs/fio.job" "$W/fio.job"
cp "$here/tools/realprogs/"guile_*.scm "$W/"
# A small git repository with some history.
if command -v git >/dev/null; then
	(cd "$W" && git init -q repo && cd repo &&
	 git config user.email t@t && git config user.name t &&
	 for i in $(seq 1 30); do
		 head -c 20000 "$W/text" | sed "s/line/l$i/" > "f$((i % 7)).txt"
		 seq "$i" 1000 > "n$i.txt"
		 git add -A && git commit -qm "c$i"
	 done) >/dev/null 2>&1
fi
# A small C project for make.
mkdir -p "$W/proj"
for i in 0 1 2 3 4 5 6 7 8 9; do
	echo "int f$i(void) { return $i * $i; }" > "$W/proj/f$i.c"
done
{
	echo '#include <stdio.h>'
	for i in 0 1 2 3 4 5 6 7 8 9; do echo "int f$i(void);"; done
	printf 'int main(void) { printf("%%d\\n", 0'
	for i in 0 1 2 3 4 5 6 7 8 9; do printf ' + f%d()' "$i"; done
	echo '); return 0; }'
} > "$W/proj/main.c"
printf '%s\n' 'OBJS := main.o $(patsubst %.c,%.o,$(wildcard f*.c))' \
    'prog: $(OBJS)' '	cc -o $@ $(OBJS)' '%.o: %.c' '	cc -c -o $@ $<' \
    > "$W/proj/Makefile"
# 200 small objects and a main for the linkers (mold, ld.gold).
if command -v mold >/dev/null || command -v ld.gold >/dev/null; then
	mkdir -p "$W/objs"
	(cd "$W/objs" &&
	 for i in $(seq 1 200); do
		printf 'int g%d = %d;\nint f%d(int x) { return x * %d + g%d; }\n' \
		    "$i" "$i" "$i" "$i" "$i" > "f$i.c"
	 done &&
	 { echo '#include <stdio.h>'
	   for i in $(seq 1 200); do echo "int f$i(int);"; done
	   echo 'int main(void) { long s = 0;'
	   for i in $(seq 1 200); do echo "s += f$i($i);"; done
	   echo 'printf("%ld\n", s); return 0; }'; } > main.c &&
	 ls ./*.c | xargs -P2 -n 50 cc -O1 -g -c && rm ./*.c) >/dev/null 2>&1
fi
L=/usr/lib/x86_64-linux-gnu
export LDARGS="-dynamic-linker /lib64/ld-linux-x86-64.so.2 $L/crt1.o $L/crti.o $W/objs/main.o $W/objs/f*.o -L$L -lc $L/crtn.o"
# A tree for rsync, tar and find.
mkdir -p "$W/tree"
for i in $(seq 1 40); do
	mkdir -p "$W/tree/d$((i % 5))"
	head -c $((i * 3000)) "$W/mix" > "$W/tree/d$((i % 5))/f$i"
done
# A local HTTP server for curl and wget.
port=$((20000 + $$ % 20000))
srvpid=
if command -v python3 >/dev/null; then
	(cd "$W" && exec python3 -m http.server -b 127.0.0.1 "$port") \
	    >/dev/null 2>&1 &
	srvpid=$!
	for i in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
		sleep 0.1
	done
fi
export port

# ------------------------------------------------------------ the cases
# name | programs it needs | command (stdin: $W/mix through a pipe)
cases=(
"xz-T2-file|xz|\$G xz -T2 -1 -k -c \$W/mix > \$R.xz && \$G xz -T2 -d -c \$R.xz | sha256sum; sha256sum < \$R.xz"
"xz-T0-pipe|xz|\$G xz -T0 -1 -c | \$G xz -T0 -d | sha256sum"
"xz-T2-pipe-in|xz|\$G xz -T2 -2 | sha256sum"
"zstd-T2|zstd|\$G zstd -q -T2 -3 -c \$W/mix > \$R.zst && \$G zstd -q -T2 -d -c \$R.zst | sha256sum; sha256sum < \$R.zst"
"zstd-T2-pipe|zstd|\$G zstd -q -T2 --long -c | \$G zstd -q -d -c | sha256sum"
"pigz-p4|pigz|\$G pigz -p 4 -c \$W/mix > \$R.gz && \$G pigz -p 4 -d -c \$R.gz | sha256sum; sha256sum < \$R.gz"
"pigz-pipe|pigz|\$G pigz -p 4 | \$G pigz -d -p 4 | sha256sum"
"pbzip2|pbzip2|\$G pbzip2 -p2 -c < \$W/mix > \$R.bz2 && \$G pbzip2 -p2 -d -c < \$R.bz2 | sha256sum; sha256sum < \$R.bz2"
"pbzip2-file|pbzip2|cp \$W/text \$R.t && \$G pbzip2 -p2 -f \$R.t && \$G pbzip2 -p2 -d -f \$R.t.bz2 && sha256sum < \$R.t"
"lbzip2|lbzip2|\$G lbzip2 -n 2 -c | \$G lbzip2 -n 2 -d -c | sha256sum"
"gzip|gzip|\$G gzip -c | \$G gzip -d -c | sha256sum"
"sort-parallel|sort|\$G sort --parallel=4 -S 10M -T \$R.d -n -k1,1 -k3,3 \$W/big | sha256sum"
"sort-pipe|sort|\$G sort --parallel=2 -S 4M -T \$R.d -r < \$W/text | sha256sum"
"git-clone|git|\$G git clone -q \$W/repo \$R.c && git -C \$R.c log --format=%T | sha256sum"
"git-gc|git|cp -r \$W/repo \$R.g && \$G git -C \$R.g -c pack.threads=2 gc -q --aggressive && git -C \$R.g fsck 2>/dev/null && git -C \$R.g log --format=%T | sha256sum"
"git-grep|git|\$G git -C \$W/repo grep --threads=4 -c l17 | sha256sum"
"git-log-p|git|\$G git -C \$W/repo log -p --stat | sha256sum"
"rsync|rsync|\$G rsync -a \$W/tree/ \$R.r/ && (cd \$R.r && find . -type f | sort | xargs sha256sum) | sha256sum"
"make-j4|make cc|cp -r \$W/proj \$R.p && \$G make -s -j4 -C \$R.p && \$R.p/prog"
"tar-zstd|tar zstd|\$G tar -C \$W -I 'zstd -T2' -cf \$R.tzst tree && mkdir \$R.x && \$G tar -C \$R.x -I 'zstd -T2' -xf \$R.tzst && (cd \$R.x && find . -type f | sort | xargs sha256sum) | sha256sum"
"xargs-P4|xargs|find \$W/tree -type f | sort | \$G xargs -P4 -n3 sha256sum | sort | sha256sum"
"parallel|parallel|find \$W/tree -type f | sort | \$G parallel -j4 -k sha256sum | sha256sum"
"find-xargs|find xargs|\$G find \$W/tree -type f -print0 | \$G xargs -0 cat | sha256sum"
"curl|curl python3|\$G curl -s http://127.0.0.1:\$port/mix | sha256sum"
"wget|wget python3|\$G wget -q -O - http://127.0.0.1:\$port/mix | sha256sum"
"openssl-speed|openssl|\$G openssl speed -multi 2 -seconds 1 sha256 2>/dev/null | grep -c '^sha256'"
"b2sum-pipe|b2sum|\$G b2sum"
"sha256sum-pipe|sha256sum|\$G sha256sum"
"dd-pipe|dd|\$G dd bs=64k status=none | \$G dd bs=1k status=none | sha256sum"
"sort-compress|sort gzip|\$G sort --parallel=4 -S 1M --compress-program=gzip -T \$R.d \$W/text | sha256sum"
"git-clone-nolocal|git|\$G git clone -q --no-local \$W/repo \$R.c && git -C \$R.c fsck 2>/dev/null && git -C \$R.c log --format=%T | sha256sum"
"rg-j4|rg|\$G rg -j4 -n 'l1[0-9]' \$W/tree \$W/repo | sort | sha256sum"
"fdfind-j4|fdfind|\$G fdfind -j4 -t f . \$W/tree | sort | sha256sum"
"7z-mmt2|7z|\$G 7z a -mmt=2 -bd \$R.7z \$W/text \$W/rand > /dev/null && \$G 7z x -so \$R.7z text | sha256sum"
"pixz|pixz|\$G pixz -p 2 < \$W/text | \$G pixz -d | sha256sum"
"plzip|plzip|\$G plzip -n 2 -1 | \$G plzip -d -n 2 | sha256sum"
"stdin-closed|xz cat sort|\$G cat <&-; echo \$?; \$G xz -T2 -c <&-; echo \$?; \$G sort --parallel=2 <&-; echo \$?"
"timeout-term|xz timeout|sleep 3 | timeout 1 \$G xz -T2 > /dev/null; echo \$?; sleep 3 | timeout -s INT 1 \$G sort --parallel=2; echo \$?"
"dd-usr1|dd|\$G dd if=/dev/zero of=/dev/null bs=4k count=2000000 2>\$R.e & p=\$!; sleep 1; kill -USR1 \$p; wait \$p; echo \$?; grep -c copied \$R.e"
"flock-w|flock|flock \$R.l -c 'sleep 2' & sleep 0.3; \$G flock -w 0.3 \$R.l -c true; echo \$?; wait"
"zstd-sigint|zstd timeout|timeout --preserve-status -s INT 1 \$G zstd -q -T2 -19 -k -o \$R.zst \$W/mix; echo \$?; ls \$R.zst 2>/dev/null | wc -l"
"strace-f|strace|\$G strace -f -qq -e trace=execve -e signal=none -o \$R.s sh -c 'ls \$W/tree | sort | sha256sum; \$W/../bin/true 2>/dev/null; exit 3'; echo \$?; awk '{print \$1}' \$R.s | sort -u | wc -l"
"gdb-batch|gdb|\$G gdb -q -nx -batch -ex 'break write' -ex run -ex 'info frame' -ex kill --args sh -c 'echo hi' 2>&1 | grep -c -e '^Stack level 0' -e '^\\[Inferior 1 (process [0-9]*) killed\\]'"
"stress-ng-signals|stress-ng|\$G stress-ng --signest 2 --sigsegv 1 --sigtrap 1 --sigabrt 1 --sigfpe 1 --bad-altstack 1 --sigsuspend 1 -t 2 2>&1 | grep -c 'successful run completed'"
"stress-ng-procs|stress-ng|\$G stress-ng --pthread 2 --fork 1 --vfork 1 --clone 1 --wait 1 --kill 1 --exit-group 1 --pipe 1 -t 2 2>&1 | grep -c 'successful run completed'"
"fio|fio|\$G fio --output-format=terse --directory=\$R.d \$W/fio.job | cut -d\; -f3,5,6 | sort"
"mold|mold|\$G mold --no-fork --threads=4 -o \$R.exe \$LDARGS && sha256sum < \$R.exe && \$R.exe"
"ld-gold-threads|ld.gold|\$G ld.gold --threads --thread-count=4 -o \$R.exe \$LDARGS && sha256sum < \$R.exe && \$R.exe"
"guile-threads|guile-3.0|\$G guile-3.0 --no-auto-compile \$W/guile_threads.scm 200 | sha256sum"
"guile-signals|guile-3.0|\$G guile-3.0 --no-auto-compile \$W/guile_signals.scm; echo \$?"
"ffmpeg|ffmpeg|\$G ffmpeg -nostdin -v error -threads 2 -f lavfi -i testsrc=duration=2:size=320x240:rate=25 -c:v mpeg4 -f rawvideo - | sha256sum"
)

# O_NONBLOCK (04000) set on descriptor $1 of the calling shell's file?
nonblock() {
	local f
	f=$(awk '/^flags:/ { print $2 }' "/proc/self/fdinfo/$1" 2>/dev/null)
	[ -n "$f" ] && [ $((8#$f & 8#4000)) -ne 0 ]
}
export -f nonblock

# One run of a case: stdout is its digest, then "rc=N nb=..." on fd 3.
one() {
	local mode=$1 cmd=$2
	local G=
	[ "$mode" = green ] && G=$GR
	R=$W/$mode.$name
	mkdir -p "$R.d"
	export G R
	cat "$W/mix" | GREENPROC_REALPROGS=$tag bash -c '
		set -o pipefail
		'"$cmd"'
		rc=$?
		nb=
		nonblock 0 && nb="${nb}stdin "
		nonblock 1 && nb="${nb}stdout "
		echo "rc=$rc nb=$nb" >&3' 3>"$R.st" > "$R.out" 2>"$R.err"
}

# Processes whose environment carries this case's tag.
leftovers() {
	local p n=0
	for p in /proc/[0-9]*; do
		if tr '\0' '\n' 2>/dev/null < "$p/environ" |
		    grep -qx "GREENPROC_REALPROGS=$tag"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}

now() { date +%s.%N; }

pass=0 fail=0 skip=0
printf '%-16s %-6s %8s %8s %6s  %s\n' case result native green ratio note
for c in "${cases[@]}"; do
	name=${c%%|*}; rest=${c#*|}; need=${rest%%|*}; cmd=${rest#*|}
	if [ $# -gt 0 ]; then
		sel=0
		for a in "$@"; do [ "$a" = "$name" ] && sel=1; done
		[ $sel = 1 ] || continue
	fi
	missing=
	for p in $need; do command -v "$p" >/dev/null || missing="$missing $p"; done
	if [ -n "$missing" ]; then
		printf '%-16s %-6s %8s %8s %6s  %s\n' "$name" SKIP - - - "no$missing"
		skip=$((skip + 1))
		continue
	fi
	note=
	tag=$name.$$
	t0=$(now); timeout 60 bash -c "$(declare -f one); $(declare -p GR W); name=$name tag=$tag; one native $(printf %q "$cmd")"; t1=$(now)
	tag=$name.$$.g
	timeout 60 bash -c "$(declare -f one); $(declare -p GR W); name=$name tag=$tag; one green $(printf %q "$cmd")"; trc=$?; t2=$(now)
	[ $trc = 124 ] && note="$note hung;"
	nt=$(echo "$t1 - $t0" | bc); gt=$(echo "$t2 - $t1" | bc)
	ratio=$(echo "scale=2; $gt / $nt" | bc)
	nst=$(cat "$W/native.$name.st" 2>/dev/null)
	gst=$(cat "$W/green.$name.st" 2>/dev/null)
	[ "${nst%% *}" = "${gst%% *}" ] || note="$note status native ${nst%% *} green ${gst%% *};"
	cmp -s "$W/native.$name.out" "$W/green.$name.out" || note="$note output differs;"
	case $gst in "" | *"nb= "* | *"nb=") ;;
	*) note="$note O_NONBLOCK left: ${gst#*nb=};" ;; esac
	sleep 0.2
	left=$(leftovers)
	[ "$left" = 0 ] || note="$note $left process(es) left;"
	if [ -z "$note" ]; then
		res=PASS; pass=$((pass + 1))
	else
		res=FAIL; fail=$((fail + 1))
	fi
	printf '%-16s %-6s %8.2f %8.2f %6s  %s\n' "$name" $res "$nt" "$gt" \
	    "$ratio" "$note"
	if [ $res = FAIL ] && [ -s "$W/green.$name.err" ]; then
		head -c 600 "$W/green.$name.err" | sed 's/^/    | /'
	fi
done
echo "pass $pass fail $fail skip $skip"
[ "$keep" = 1 ] && echo "scratch: $W"
[ $fail = 0 ]
