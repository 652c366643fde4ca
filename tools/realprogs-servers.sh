#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# realprogs-servers.sh -- unmodified Debian interpreters, databases and
# servers, natively and under `greenrun -w 2`: python3 (threading,
# sockets, subprocess, signals, process pools, asyncio, sqlite3), perl
# threads, node, ruby threads, the Erlang BEAM, a JVM (java), memcached,
# redis-server, nginx, lighttpd, apache2 (event and worker MPMs),
# haproxy and MariaDB (a worker per thread, ARCHITECTURE 21).
# Each case
# is run both ways; it passes when the exit status and the checked
# output are the same, nothing hung (every run under timeout 60), a
# server stopped on its signal, no server process was left behind and
# the shared output descriptor was not left O_NONBLOCK.  Prints a table
# with the time ratio (greenrun / native; servers: the client's time).
#
# Not run by `make test`: it needs the packages (apt-get install -y
# python3 perl libthreads-perl libthread-queue-perl nodejs memcached
# redis-server redis-tools nginx-light lighttpd curl ruby erlang-base
# openjdk-17-jdk-headless apache2 apache2-utils haproxy mariadb-server
# mariadb-client); a missing one is SKIP.  Run from the top of the tree
# after `make`:
#     tools/realprogs-servers.sh [GREENRUN]
# Ports 28080-28090 and 21211, 23306, 26379 on 127.0.0.1 must be free.
# apache2's children run as www-data: the scratch directory is opened to
# them.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
here="$top/tools/realprogs"
GR=${1:-$top/build/greenrun}
[ -x "$GR" ] || { echo "no $GR: make first" >&2; exit 2; }
W=$(mktemp -d) || exit 1
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT INT TERM
PY=/usr/bin/python3
fails=0
# Every run's stderr is one pipe, one open file description: a flag a
# run leaves on it is seen after (nonblock).
mkfifo "$W/fifo" || exit 1
cat "$W/fifo" >"$W/shared.err" &
exec 5>"$W/fifo"

now() { date +%s.%N; }
ratio() { echo "scale=2; $2 / $1" | bc 2>/dev/null || echo "?"; }
nonblock() { $PY -c 'import fcntl,os; print(fcntl.fcntl(5,fcntl.F_GETFL)&os.O_NONBLOCK and 1 or 0)'; }
row() { printf '%-22s %-5s %8s %8s %6s  %s\n' "$1" "$2" "$3" "$4" "$5" "$6"; }
have() { for p; do command -v "$p" >/dev/null 2>&1 || [ -x "$p" ] || return 1; done; }

# one MODE PREFIX CMD...: run CMD (under PREFIX), output in $W/MODE.out,
# status in $W/MODE.rc, seconds in $W/MODE.t.
one() {
	m=$1; pre=$2; shift 2
	t0=$(now)
	timeout 60 $pre "$@" >"$W/$m.out" 2>&5 </dev/null
	echo $? >"$W/$m.rc"
	t1=$(now)
	echo "$t1 - $t0" | bc >"$W/$m.t"
}

# prog NAME CMD...: a program that ends by itself.
prog() {
	name=$1; shift
	one native "" "$@"
	one green "$GR -w 2" "$@"
	verdict "$name"
}

verdict() {
	why=""
	[ "$(cat "$W/native.rc")" = "$(cat "$W/green.rc")" ] ||
	    why="status $(cat "$W/native.rc") vs $(cat "$W/green.rc")"
	case "$(head -n 1 "$W/green.rc")" in
	124) why="hung" ;;
	137) why="hung, killed after the TERM" ;;	# timeout -k
	esac
	cmp -s "$W/native.out" "$W/green.out" || why="${why:+$why, }output differs"
	[ "$(nonblock)" = 0 ] || why="${why:+$why, }left O_NONBLOCK"
	tn=$(cat "$W/native.t"); tg=$(cat "$W/green.t")
	if [ -z "$why" ]; then st=PASS; else st=FAIL; fails=$((fails + 1)); fi
	row "$1" "$st" "$(printf %.2f "$tn")" "$(printf %.2f "$tg")" \
	    "$(ratio "$tn" "$tg")" "$why"
}

skip() { row "$1" SKIP - - - "not installed: $2"; }

# server NAME SIG PORT CHECK-CMD -- SERVER-CMD...: start the server, wait
# for PORT, run CHECK-CMD as the client (natively), send SIG, wait.
server_once() {
	m=$1; pre=$2; sig=$3; port=$4; check=$5; shift 5
	# Its own session (lighttpd's master signals its workers with
	# kill(0, ...)); --foreground: the signal goes to the server once,
	# not again to timeout's group (redis takes a second SIGINT as
	# "exit 1").  -k 10: a server hung for good (mariadbd under
	# greenrun) does not end on the TERM and would hold the script.
	setsid timeout --foreground -k 10 60 $pre "$@" >&5 2>&5 </dev/null &
	spid=$!
	i=0
	while [ $i -lt 50 ] && ! $PY -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	t0=$(now)
	sh -c "$check" >"$W/$m.out" 2>&5
	echo $? >"$W/$m.crc"
	t1=$(now)
	echo "$t1 - $t0" | bc >"$W/$m.t"
	kill -"$sig" $spid 2>/dev/null
	wait $spid
	echo $? >"$W/$m.rc"
	# the client's status counts too
	[ "$(cat "$W/$m.crc")" = 0 ] || echo "client $(cat "$W/$m.crc")" >>"$W/$m.rc"
}

server() {
	name=$1; sig=$2; port=$3; check=$4; pat=$5; shift 5
	server_once native "" "$sig" "$port" "$check" "$@"
	server_once green "$GR -w ${workers:-2}" "$sig" "$port" "$check" "$@"
	verdict "$name"
	sleep 0.3
	if pgrep -f "$pat" >/dev/null 2>&1; then
		row "  $name leftovers" FAIL - - - "$(pgrep -f "$pat" | tr '\n' ' ')"
		fails=$((fails + 1))
	fi
}

row case result native greenrun ratio why
if have $PY; then
	for s in threading sock proc async sqlite; do
		prog "python3 $s" $PY "$here/py_$s.py"
	done
else
	skip python3 python3
fi
if have perl && perl -Mthreads -MThread::Queue -e 1 2>/dev/null; then
	prog "perl threads" perl "$here/pl_threads.pl"
else
	skip "perl threads" libthreads-perl
fi
if have node; then
	prog "node libuv" node "$here/node_t.js"
	prog "node worker_threads" node "$here/node_workers.js"
else
	skip node nodejs
fi
if have ruby; then
	prog "ruby threads" ruby "$here/rb_threads.rb"
else
	skip "ruby threads" ruby
fi
if have escript; then
	# The BEAM: 4 schedulers, dirty schedulers, async threads.
	prog "erlang beam" escript "$here/erl_procs.escript"
else
	skip "erlang beam" erlang-base
fi
if have java; then
	# libjvm.so is dlopen'd: its thread-locals are dynamic TLS.
	prog "java threads" java "$here/JThreads.java"
else
	skip java openjdk-17-jdk-headless
fi

if have memcached; then
	for sig in TERM INT; do
		server "memcached -t 4 $sig" $sig 21211 \
		    "$PY $here/mc_client.py 21211 8" "memcached -u root -t 4 -p 21211" \
		    memcached -u root -t 4 -p 21211 -U 0 -l 127.0.0.1
	done
else
	skip memcached memcached
fi

if have redis-server redis-cli redis-benchmark; then
	rcheck="redis-benchmark -p 26379 -q -n 10000 -t set,get,incr,lpush,lpop,mset >/dev/null &&
	    $GR -w 2 redis-cli -p 26379 set k v && $GR -w 2 redis-cli -p 26379 get k &&
	    redis-cli -p 26379 bgrewriteaof >/dev/null && sleep 1 &&
	    redis-cli -p 26379 info persistence | grep -a aof_last_bgrewrite_status | tr -d '\r'"
	for sig in TERM INT; do
		rm -rf "$W/redis"; mkdir -p "$W/redis"
		server "redis-server $sig" $sig 26379 "$rcheck" "redis-server \*:26379" \
		    redis-server --port 26379 --bind 127.0.0.1 --dir "$W/redis" \
		    --save "" --appendonly yes
	done
	# Its main thread busy-waits for its I/O threads: it hung before
	# greenrun preempted spinning threads (ARCHITECTURE 24); few
	# requests, since each hand-off costs a preemption slice.
	rm -rf "$W/redis"; mkdir -p "$W/redis"
	server "redis --io-threads 2" TERM 26379 \
	    "redis-benchmark -p 26379 -q -c 20 -n 1000 -t set,get >/dev/null &&
	    redis-cli -p 26379 dbsize" "redis-server \*:26379" \
	    redis-server --port 26379 --bind 127.0.0.1 --dir "$W/redis" \
	    --save "" --io-threads 2 --io-threads-do-reads yes
else
	skip redis-server redis-server
fi

if have /usr/sbin/nginx curl; then
	n="$W/nginx"; mkdir -p "$n/html" "$n/logs" "$n/tmp"
	echo hello >"$n/html/index.html"
	head -c 300000 /dev/urandom >"$n/html/big.bin"
	cat >"$n/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $n/nginx.pid;
error_log $n/logs/error.log;
events { worker_connections 256; }
http {
  access_log $n/logs/access.log;
  client_body_temp_path $n/tmp; proxy_temp_path $n/tmp;
  fastcgi_temp_path $n/tmp; uwsgi_temp_path $n/tmp; scgi_temp_path $n/tmp;
  sendfile on; aio threads;
  server { listen 127.0.0.1:28080; root $n/html; }
}
EOF
	ncheck="for i in \$(seq 100); do curl -sf http://127.0.0.1:28080/ || exit 1; done | sort | uniq -c;
	    for i in \$(seq 10); do curl -sf http://127.0.0.1:28080/big.bin | md5sum & done | sort | uniq -c; wait;
	    md5sum <$n/html/big.bin"
	for sig in TERM INT QUIT; do
		server "nginx $sig" $sig 28080 "$ncheck" "$n/nginx.conf" \
		    /usr/sbin/nginx -p "$n" -c "$n/nginx.conf"
	done
else
	skip nginx nginx-light
fi

if have /usr/sbin/lighttpd curl; then
	l="$W/lighttpd"; mkdir -p "$l/html"
	echo hello >"$l/html/index.html"
	cat >"$l/lighttpd.conf" <<EOF
server.document-root = "$l/html"
server.port = 28081
server.bind = "127.0.0.1"
server.max-worker = 2
server.errorlog = "$l/error.log"
EOF
	lcheck="for i in \$(seq 100); do curl -sf http://127.0.0.1:28081/ || exit 1; done | sort | uniq -c"
	server "lighttpd TERM" TERM 28081 "$lcheck" "$l/lighttpd.conf" \
	    /usr/sbin/lighttpd -D -f "$l/lighttpd.conf"
else
	skip lighttpd lighttpd
fi

if have /usr/sbin/mariadbd mariadb mariadb-slap mariadb-install-db; then
	# InnoDB's group commit queues each waiting thread's thread_local
	# waiter for the leader to wake: under greenrun the green threads
	# of a worker share that address, and with -w 2 this hangs
	# (ARCHITECTURE 21, "A thread-local handed to another thread").  So
	# it runs the way round that section gives: a worker per thread.
	d="$W/mariadb"
	mariadb-install-db --datadir="$d" --user=root \
	    --auth-root-authentication-method=normal >/dev/null 2>&1
	m="mariadb --protocol=tcp -h 127.0.0.1 -P 23306 -uroot"
	mcheck="$m -e 'create database t' &&
	    for i in 1 2 3 4; do $m t -e \"create table a\$i (x int primary key) engine=innodb;
	        insert into a\$i values (1),(2)\" & done; wait;
	    mariadb-slap --protocol=tcp -h 127.0.0.1 -P 23306 -uroot --concurrency=16 \
	        --iterations=2 --number-of-queries=800 --auto-generate-sql >/dev/null &&
	    $m -N t -e 'select count(*) from a1 union all select count(*) from a4' &&
	    $m -e 'drop database t'"
	workers=48
	server "mariadbd TERM (-w 48)" TERM 23306 "$mcheck" \
	    "mariadbd --no-defaults --datadir=$d" \
	    /usr/sbin/mariadbd --no-defaults --datadir="$d" --user=root \
	    --bind-address=127.0.0.1 --port=23306 --socket="$W/mariadb.sock" \
	    --pid-file="$W/mariadb.pid" --log-error="$W/mariadb.err"
	workers=2
else
	skip mariadbd mariadb-server
fi

# apache2: the event and worker MPMs.  Forked children are native
# processes under greenrun (ARCHITECTURE section 26, forks), so the
# multi-process cases try the green master (its waits, pipe of death and
# graceful restarts); -X (one process, no fork) makes the listener and
# worker threads green.
if have /usr/sbin/apache2 ab curl; then
	a="$W/apache"; mkdir -p "$a/html" "$a/logs"
	chmod a+x "$W"; chmod 777 "$a/logs"
	echo hello >"$a/html/index.html"
	head -c 300000 /dev/urandom >"$a/html/big.bin"
	chmod -R a+rX "$a"
	for mpm in event worker; do
		port=28082; [ $mpm = worker ] && port=28083
		cat >"$a/$mpm.conf" <<EOF
ServerRoot $a
PidFile $a/logs/$mpm.pid
Listen 127.0.0.1:$port
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
User www-data
Group www-data
ServerName localhost
DocumentRoot $a/html
ErrorLog $a/logs/$mpm.error
TypesConfig /etc/mime.types
StartServers 2
MinSpareThreads 8
MaxSpareThreads 32
ThreadsPerChild 16
MaxRequestWorkers 64
ServerLimit 4
Mutex file:$a/logs default
<Directory $a/html>
  Require all granted
</Directory>
EOF
		u="http://127.0.0.1:$port"
		pf="$a/logs/$mpm.pid"
		acheck="ab -q -n 2000 -c 32 $u/index.html | grep -E '^(Complete|Failed|Non-2xx)';
		    ab -q -n 200 -c 16 $u/big.bin | grep -E '^(Complete|Failed|Non-2xx)';
		    for i in \$(seq 10); do curl -sf $u/big.bin | md5sum & done | sort | uniq -c; wait;
		    kill -USR1 \$(cat $pf); sleep 1.5; curl -sf $u/;
		    ab -q -n 500 -c 32 $u/index.html | grep -E '^(Complete|Failed)';
		    kill -HUP \$(cat $pf); sleep 1.5; curl -sf $u/;
		    ab -q -n 500 -c 32 $u/index.html | grep -E '^(Complete|Failed)'"
		server "apache2 $mpm" TERM $port "$acheck" "$a/$mpm.conf" \
		    /usr/sbin/apache2 -f "$a/$mpm.conf" -DFOREGROUND
		server "apache2 $mpm -X" TERM $port "$acheck" "$a/$mpm.conf" \
		    /usr/sbin/apache2 -f "$a/$mpm.conf" -DFOREGROUND -X
	done
else
	skip apache2 "apache2 apache2-utils"
fi

# haproxy with 4 threads (epoll) in front of two python http.servers,
# stopped by SIGTERM and by SIGINT (SIGUSR1, its soft stop, would end
# timeout(1) around it, not haproxy).
if have haproxy ab curl $PY; then
	h="$W/haproxy"; mkdir -p "$h/www"
	echo hello >"$h/www/index.html"
	head -c 300000 /dev/urandom >"$h/www/big.bin"
	cat >"$h/hap.cfg" <<EOF
global
    nbthread 4
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:28084
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:28085
    server s2 127.0.0.1:28086
EOF
	$PY -m http.server -d "$h/www" -b 127.0.0.1 28085 >/dev/null 2>&1 &
	b1=$!
	$PY -m http.server -d "$h/www" -b 127.0.0.1 28086 >/dev/null 2>&1 &
	b2=$!
	for i in $(seq 50); do
		curl -sf http://127.0.0.1:28085/ >/dev/null &&
		    curl -sf http://127.0.0.1:28086/ >/dev/null && break
		sleep 0.1
	done
	u=http://127.0.0.1:28084
	hcheck="ab -q -n 2000 -c 32 $u/index.html | grep -E '^(Complete|Failed|Non-2xx)';
	    ab -q -n 200 -c 16 $u/big.bin | grep -E '^(Complete|Failed|Non-2xx)';
	    for i in \$(seq 10); do curl -sf $u/big.bin | md5sum & done | sort | uniq -c; wait;
	    md5sum <$h/www/big.bin"
	for sig in TERM INT; do
		server "haproxy $sig" $sig 28084 "$hcheck" "$h/hap.cfg" \
		    haproxy -db -f "$h/hap.cfg"
	done
	kill $b1 $b2; wait $b1 $b2 2>/dev/null
else
	skip haproxy "haproxy apache2-utils"
fi

echo "failures: $fails"
[ $fails -eq 0 ]
