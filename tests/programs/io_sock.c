/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_sock.c -- sockets on green threads, what the kernel would do:
 *
 *  refused      connect() to a closed loopback port: ECONNREFUSED.
 *  rcvtimeo     SO_RCVTIMEO: recv() and read() give -1/EAGAIN, never
 *               before the timeout (CLOCK_MONOTONIC), and another green
 *               thread of the worker ran meanwhile (the LWP parked).
 *  sndtimeo     SO_SNDTIMEO: a send with no room gives -1/EAGAIN, never
 *               before the timeout.
 *  accept_many  several green threads in accept() on one listening
 *               socket (run it with GREENPROC_WORKERS=2): each connection
 *               (made from the host thread) is accepted by exactly one of
 *               them, the others stay parked until their own.
 *  accept_kill  SIGKILL (from the host) of a green process whose threads
 *               are parked in accept() ends it at once: waitpid says
 *               SIGKILL (a process that cannot be killed is a hang: the
 *               alarm fails it).
 *  send_slow    a writer of a known socket (on io_uring, parked in
 *               IORING_OP_SEND) whose peer reads slowly: every write
 *               returns its whole count, every byte arrives in order,
 *               and a ping-pong of the same worker runs meanwhile.
 *  send_kill    SIGKILL of a process parked in such a send ends it.
 *  send_epipe   the peer closes under a writer parked in such a send:
 *               -1/EPIPE, and one SIGPIPE, on the writing thread.
 *  ring_rr      io_uring only: request and response over loopback TCP
 *               between two green threads (64 bytes each way, read into
 *               4 KiB) make no recvfrom or sendto system call once both
 *               sockets are known, while a third green thread keeps
 *               yielding (others runnable): a read after a read that
 *               emptied the socket goes to the ring at once
 *               (IORING_OP_RECV), and a reply -- a write after a read --
 *               to a blocking stream socket goes there as it is
 *               (IORING_OP_SEND).  Checked with a seccomp filter that
 *               makes both calls fail with EPERM after the first rounds
 *               (skipped if seccomp is refused); every byte is checked.
 *
 * Legacy code on top (libc only), except the host parts, which are the
 * driver's.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "io.h"

/* A listening TCP socket on a free loopback port; its address in *sin. */
static int
listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)sin, sizeof(*sin)) == 0 &&
	    listen(s, 16) == 0 && getsockname(s, (struct sockaddr *)sin,
	    &len) == 0, "listening socket: %s", strerror(errno));
	return s;
}

/* ------------------------------------------------------------ refused */

static int
case_refused(void)
{
	struct sockaddr_in sin;
	int s, c, r;

	/* A port that was just free: bound, then closed without listening. */
	s = listener(&sin);
	close(s);
	c = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(c, (struct sockaddr *)&sin, sizeof(sin));
	CHECK(r == -1 && errno == ECONNREFUSED, "connect = %d (%s)", r,
	    strerror(errno));
	close(c);
	printf("refused: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ rcvtimeo */

#define TIMEO_MS	200

static atomic_int t_started, t_stop;
static atomic_long t_spins;

/* Runs whenever the worker is free. */
static void *
spinner(void *arg)
{
	(void)arg;
	atomic_store(&t_started, 1);
	while (!atomic_load(&t_stop)) {
		atomic_fetch_add(&t_spins, 1);
		sched_yield();
	}
	return NULL;
}

static void
timed_out(int s, bool use_read)
{
	char buf[8];
	long spins0 = atomic_load(&t_spins);
	uint64_t t0 = io_now(), took;
	ssize_t r;

	r = use_read ? read(s, buf, sizeof(buf)) : recv(s, buf, sizeof(buf),
	    0);
	took = io_now() - t0;
	CHECK(r == -1 && errno == EAGAIN, "%s = %zd (%s)", use_read ? "read" :
	    "recv", r, strerror(errno));
	CHECK(took >= TIMEO_MS * IO_MS, "%s returned early: %.3f ms",
	    use_read ? "read" : "recv", (double)took / 1e6);
	CHECK(atomic_load(&t_spins) > spins0, "no other thread ran while "
	    "%s waited", use_read ? "read" : "recv");
}

static int
case_rcvtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	pthread_t t;
	int sv[2], e;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
	    strerror(errno));
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_RCVTIMEO: %s", strerror(errno));
	e = pthread_create(&t, NULL, spinner, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&t_started, 1);
	timed_out(sv[0], false);
	timed_out(sv[0], true);
	atomic_store(&t_stop, 1);
	pthread_join(t, NULL);
	printf("rcvtimeo: done\n");
	return io_green_exit();
}

/* SO_SNDTIMEO: a send that finds no room at all times out with EAGAIN. */
static int
case_sndtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	char buf[4096];
	long filled = 0;
	uint64_t t0, took;
	ssize_t r;
	int sv[2];

	memset(buf, 's', sizeof(buf));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
	    strerror(errno));
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_SNDTIMEO: %s", strerror(errno));
	while ((r = send(sv[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		filled += r;
	CHECK(r == -1 && errno == EAGAIN, "filling send = %zd (%s)", r,
	    strerror(errno));
	t0 = io_now();
	r = send(sv[0], buf, 1, 0);
	took = io_now() - t0;
	CHECK(r == -1 && errno == EAGAIN, "send = %zd (%s) after %ld bytes", r,
	    strerror(errno), filled);
	CHECK(took >= TIMEO_MS * IO_MS, "send returned early: %.3f ms",
	    (double)took / 1e6);
	printf("sndtimeo: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ accept */

#define ACCEPTORS	4

static int lsock;
static struct sockaddr_in laddr;
static atomic_int a_started, a_accepted, a_errors, a_ready;
static atomic_int a_seen[ACCEPTORS];

/* One accept; the client says which connection it is. */
static void *
acceptor(void *arg)
{
	unsigned char id = 0xff;
	int c;

	(void)arg;
	atomic_fetch_add(&a_started, 1);
	c = accept(lsock, NULL, NULL);
	if (c < 0) {
		atomic_fetch_add(&a_errors, 1);
		CHECK(c >= 0, "accept: %s", strerror(errno));
		return NULL;
	}
	CHECK(read(c, &id, 1) == 1 && id < ACCEPTORS, "read id = %u (%s)", id,
	    strerror(errno));
	if (id < ACCEPTORS)
		atomic_fetch_add(&a_seen[id], 1);
	atomic_fetch_add(&a_accepted, 1);
	close(c);
	return NULL;
}

static int
case_accept_many(void)
{
	pthread_t t[ACCEPTORS];
	int i, e;

	lsock = listener(&laddr);
	for (i = 0; i < ACCEPTORS; i++) {
		e = pthread_create(&t[i], NULL, acceptor, NULL);
		CHECK(e == 0, "pthread_create: %s", strerror(e));
	}
	io_wait_for(&a_started, ACCEPTORS);
	atomic_store(&a_ready, 1);	/* the host connects now */
	for (i = 0; i < ACCEPTORS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < ACCEPTORS; i++)
		CHECK(atomic_load(&a_seen[i]) == 1, "connection %d accepted %d "
		    "times", i, atomic_load(&a_seen[i]));
	close(lsock);
	printf("accept_many: done\n");
	return io_green_exit();
}

/* Host thread: sleep, as the host sleeps (not a green sleep). */
static void
host_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

/* Until *v == want (the alarm bounds it). */
static void
host_wait(atomic_int *v, int want)
{
	while (atomic_load(v) != want)
		host_ms(1);
}

/*
 * One connection at a time: exactly one acceptor more returns for each;
 * the rest, still parked, do not return with an error meanwhile.
 */
static void
host_accept_many(pid_t pid)
{
	int c[ACCEPTORS], i;
	unsigned char id;

	(void)pid;
	host_wait(&a_ready, 1);
	for (i = 0; i < ACCEPTORS; i++) {
		id = (unsigned char)i;
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(connect(c[i], (struct sockaddr *)&laddr,
		    sizeof(laddr)) == 0, "connect %d: %s", i, strerror(errno));
		CHECK(write(c[i], &id, 1) == 1, "write: %s", strerror(errno));
		host_wait(&a_accepted, i + 1);
		host_ms(20);	/* room for a wrong second accept */
		CHECK(atomic_load(&a_accepted) == i + 1 &&
		    atomic_load(&a_errors) == 0, "after connection %d: %d "
		    "accepted, %d errors", i, atomic_load(&a_accepted),
		    atomic_load(&a_errors));
	}
	for (i = 0; i < ACCEPTORS; i++)
		close(c[i]);
}

static atomic_int k_ready;

static void *
kill_acceptor(void *arg)
{
	(void)arg;
	atomic_fetch_add(&a_started, 1);
	(void)accept(lsock, NULL, NULL);
	printf("FAIL: NOT REACHED: accept returned (%s)\n", strerror(errno));
	return NULL;
}

static int
case_accept_kill(void)
{
	pthread_t t;
	int e;

	lsock = listener(&laddr);
	e = pthread_create(&t, NULL, kill_acceptor, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&a_started, 1);
	io_yield_some();
	atomic_store(&k_ready, 1);	/* the host kills now */
	(void)accept(lsock, NULL, NULL);
	printf("FAIL: NOT REACHED: accept returned (%s)\n", strerror(errno));
	return 1;
}

static void
host_kill(pid_t pid)
{
	host_wait(&k_ready, 1);
	host_ms(20);	/* the main thread parks in its accept */
	printf("driver: SIGKILL\n");
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
}

/* ------------------------------------------------------------ send */

#define SEND_CHUNK	(256 * 1024)
#define SEND_N		16		/* writes of SEND_CHUNK */

static int s_sv[2];
static atomic_int s_written, s_parked;
static pthread_t s_writer_thread;
static atomic_int s_pipes, s_pipes_elsewhere;

static void *
s_late_byte(void *arg)
{
	io_yield_some();
	CHECK_QUIET(write((int)(intptr_t)arg, "k", 1) == 1, "late write: %s",
	    strerror(errno));
	return NULL;
}

/*
 * A read that blocks once, so that fdinfo.c knows (fd) for what follows
 * (a write of a known socket is the send that parks in IORING_OP_SEND).
 */
static void
know_socket(int fd, int peer)
{
	char c = 0;
	int e;
	pthread_t t;

	e = pthread_create(&t, NULL, s_late_byte, (void *)(intptr_t)peer);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	CHECK(read(fd, &c, 1) == 1 && c == 'k', "priming read: %s",
	    strerror(errno));
	pthread_join(t, NULL);
}

/* Fill (fd)'s send buffer (and the peer's receive buffer). */
static long
fill(int fd)
{
	static char junk[65536];
	long filled = 0;
	ssize_t r;

	while ((r = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		filled += r;
	CHECK(r == -1 && errno == EAGAIN, "filling send = %zd (%s)", r,
	    strerror(errno));
	return filled;
}

static void *
s_writer(void *arg)
{
	static char buf[SEND_CHUNK];
	ssize_t r;
	int i, k;

	(void)arg;
	for (i = 0; i < SEND_N; i++) {
		for (k = 0; k < SEND_CHUNK; k++)
			buf[k] = (char)(i * 7 + k % 251);
		atomic_store(&s_parked, 1);
		r = write(s_sv[0], buf, sizeof(buf));
		CHECK(r == SEND_CHUNK, "write %d = %zd (%s)", i, r,
		    strerror(errno));
		atomic_fetch_add(&s_written, 1);
	}
	return NULL;
}

/* Reads slowly: 4 KiB, then a yield, checking every byte. */
static void *
s_reader(void *arg)
{
	char buf[4096];
	long got = 0, bad = -1;
	ssize_t r, k;

	(void)arg;
	while (got < (long)SEND_CHUNK * SEND_N) {
		r = read(s_sv[1], buf, sizeof(buf));
		if (r <= 0)
			break;
		for (k = 0; k < r && bad < 0; k++, got++)
			if (buf[k] != (char)((got / SEND_CHUNK) * 7 +
			    (got % SEND_CHUNK) % 251))
				bad = got;
		got += r - k;
		sched_yield();
	}
	CHECK(got == (long)SEND_CHUNK * SEND_N && bad < 0,
	    "reader: %ld bytes, first wrong at %ld (%s)", got, bad,
	    strerror(errno));
	return NULL;
}

static int
case_send_slow(void)
{
	pthread_t w, r;
	double alone, with;
	int e1, e2;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s_sv) == 0,
	    "socketpair: %s", strerror(errno));
	know_socket(s_sv[0], s_sv[1]);
	alone = pingpong();
	e1 = pthread_create(&w, NULL, s_writer, NULL);
	CHECK(e1 == 0, "pthread_create: %s", strerror(e1));
	io_wait_for(&s_parked, 1);
	/* Nobody reads yet: the writer is parked on a full buffer. */
	with = pingpong();
	CHECK(atomic_load(&s_written) < SEND_N, "all %d writes done with "
	    "nobody reading", SEND_N);
	pingpong_report("send", alone, with);
	e2 = pthread_create(&r, NULL, s_reader, NULL);
	CHECK(e2 == 0, "pthread_create: %s", strerror(e2));
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	CHECK(atomic_load(&s_written) == SEND_N, "writes %d of %d",
	    atomic_load(&s_written), SEND_N);
	printf("send_slow: done\n");
	return io_green_exit();
}

static int
case_send_kill(void)
{
	static char buf[SEND_CHUNK];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s_sv) == 0,
	    "socketpair: %s", strerror(errno));
	know_socket(s_sv[0], s_sv[1]);
	(void)fill(s_sv[0]);
	atomic_store(&k_ready, 1);	/* the host kills now */
	(void)write(s_sv[0], buf, sizeof(buf));
	printf("FAIL: NOT REACHED: write returned (%s)\n", strerror(errno));
	return 1;
}

static void
on_sigpipe(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), s_writer_thread))
		atomic_fetch_add(&s_pipes, 1);
	else
		atomic_fetch_add(&s_pipes_elsewhere, 1);
}

static void *
s_closer(void *arg)
{
	(void)arg;
	io_yield_some();	/* the writer parks first */
	CHECK(close(s_sv[1]) == 0, "close: %s", strerror(errno));
	return NULL;
}

static int
case_send_epipe(void)
{
	static char buf[SEND_CHUNK];
	pthread_t t;
	ssize_t r;
	int e;

	CHECK(signal(SIGPIPE, on_sigpipe) != SIG_ERR, "signal: %s",
	    strerror(errno));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s_sv) == 0,
	    "socketpair: %s", strerror(errno));
	know_socket(s_sv[0], s_sv[1]);
	(void)fill(s_sv[0]);
	s_writer_thread = pthread_self();
	e = pthread_create(&t, NULL, s_closer, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	r = write(s_sv[0], buf, sizeof(buf));
	CHECK(r == -1 && errno == EPIPE, "write = %zd (%s), want EPIPE", r,
	    strerror(errno));
	pthread_join(t, NULL);
	CHECK(atomic_load(&s_pipes) == 1 && atomic_load(&s_pipes_elsewhere) ==
	    0, "SIGPIPE: %d on the writer, %d elsewhere",
	    atomic_load(&s_pipes), atomic_load(&s_pipes_elsewhere));
	printf("send_epipe: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ ring_rr */

#define RR_MSG		64
#define RR_WARM		3		/* rounds before the filter */
#define RR_ROUNDS	200		/* rounds under it */

static int rr_sv[2];			/* [0] the client's, [1] the server's */

/* Echo until EOF; on any error close, so the client sees EOF and fails. */
static void *
rr_server(void *arg)
{
	char buf[4096];
	ssize_t n;

	(void)arg;
	while ((n = read(rr_sv[1], buf, sizeof(buf))) > 0) {
		if (write(rr_sv[1], buf, (size_t)n) != n)
			break;
	}
	CHECK_QUIET(n == 0, "server: read = %zd (%s)", n, strerror(errno));
	close(rr_sv[1]);
	return NULL;
}

/* One request and its whole response; false at the first failure. */
static bool
rr_round(int k)
{
	char msg[RR_MSG], buf[4096];
	ssize_t r, got = 0;
	int i;

	for (i = 0; i < RR_MSG; i++)
		msg[i] = (char)(k * 31 + i);
	r = write(rr_sv[0], msg, sizeof(msg));
	if (r != RR_MSG) {
		printf("FAIL: round %d: write = %zd (%s)\n", k, r,
		    strerror(errno));
		return false;
	}
	while (got < RR_MSG) {
		r = read(rr_sv[0], buf + got, sizeof(buf) - (size_t)got);
		if (r <= 0) {
			printf("FAIL: round %d: read = %zd after %zd bytes "
			    "(%s)\n", k, r, got, strerror(errno));
			return false;
		}
		got += r;
	}
	if (got != RR_MSG || memcmp(buf, msg, RR_MSG) != 0) {
		printf("FAIL: round %d: %zd bytes, not the request\n", k, got);
		return false;
	}
	return true;
}

/*
 * Runnable whenever the others park: a reply's send goes to the ring
 * only while another LWP of the worker is runnable to share the
 * submission (runtime/iocall.c, xfer).
 */
static atomic_int rr_stop;

static void *
rr_spinner(void *arg)
{
	(void)arg;
	while (!atomic_load(&rr_stop))
		sched_yield();
	return NULL;
}

/* From now on recvfrom and sendto fail with EPERM, on every thread. */
static bool
rr_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_recvfrom, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendto, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		printf("ok: ring_rr: seccomp refused (%s): skipped\n",
		    strerror(errno));
		return false;
	}
	return true;
}

static int
case_ring_rr(void)
{
	struct sockaddr_in sin;
	pthread_t t, spin;
	int l, e, k, one = 1;
	bool ok = true;

	l = listener(&sin);
	rr_sv[0] = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(rr_sv[0] >= 0 && connect(rr_sv[0], (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && (rr_sv[1] = accept(l, NULL, NULL)) >= 0,
	    "connection: %s", strerror(errno));
	close(l);
	(void)setsockopt(rr_sv[0], IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	(void)setsockopt(rr_sv[1], IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	e = pthread_create(&t, NULL, rr_server, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	/* Both sides block once in read: the runtime learns the sockets. */
	for (k = 0; k < RR_WARM && ok; k++)
		ok = rr_round(k);
	CHECK(ok, "warm-up rounds");
	e = pthread_create(&spin, NULL, rr_spinner, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	if (strcmp(io_engine(), "uring") == 0 && ok && rr_filter()) {
		for (; k < RR_WARM + RR_ROUNDS && ok; k++)
			ok = rr_round(k);
		CHECK(ok, "%d rounds with no recvfrom or sendto",
		    RR_ROUNDS);
	}
	atomic_store(&rr_stop, 1);
	pthread_join(spin, NULL);
	shutdown(rr_sv[0], SHUT_WR);
	pthread_join(t, NULL);
	close(rr_sv[0]);
	printf("ring_rr: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ driver */

static const struct io_case cases[] = {
	{ "refused", case_refused, NULL, 0 },
	{ "rcvtimeo", case_rcvtimeo, NULL, 0 },
	{ "sndtimeo", case_sndtimeo, NULL, 0 },
	{ "accept_many", case_accept_many, host_accept_many, 0 },
	{ "accept_kill", case_accept_kill, host_kill, SIGKILL },
	{ "send_slow", case_send_slow, NULL, 0 },
	{ "send_kill", case_send_kill, host_kill, SIGKILL },
	{ "send_epipe", case_send_epipe, NULL, 0 },
	{ "ring_rr", case_ring_rr, NULL, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
