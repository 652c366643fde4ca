/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_uv.c -- the echo server as people write it with libuv, the event
 * loop most of them pick: one loop, uv_read_start on every connection,
 * a uv_write of each chunk read.
 *
 *	echo_uv [PORT]
 *
 * Same protocol as examples/echo.c: listens on 127.0.0.1:PORT (0 or
 * none: ephemeral), prints the port on stdout, echoes every byte back.
 * The buffer that was read goes out as the write's own buffer (freed in
 * the write callback), the idiomatic libuv echo.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#define BACKLOG		65535

struct echo_write {
	uv_write_t	req;
	uv_buf_t	buf;
};

static uv_loop_t *loop;

static void
die(const char *what, int err)
{
	fprintf(stderr, "echo_uv: %s: %s\n", what, uv_strerror(err));
	exit(1);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(hint);
	buf->len = buf->base != NULL ? hint : 0;
}

static void
on_close(uv_handle_t *h)
{
	free(h);
}

static void
on_write(uv_write_t *req, int status)
{
	struct echo_write *w = (struct echo_write *)req;

	(void)status;		/* a failed write: the read sees the error */
	free(w->buf.base);
	free(w);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct echo_write *w;
	int err;

	if (n <= 0) {
		free(buf->base);
		/* 0 is "nothing now" (EAGAIN); below 0 is EOF or an error. */
		if (n < 0)
			uv_close((uv_handle_t *)s, on_close);
		return;
	}
	if ((w = malloc(sizeof(*w))) == NULL) {
		free(buf->base);
		uv_close((uv_handle_t *)s, on_close);
		return;
	}
	w->buf = uv_buf_init(buf->base, (unsigned)n);
	if ((err = uv_write(&w->req, s, &w->buf, 1, on_write)) != 0) {
		free(buf->base);
		free(w);
		uv_close((uv_handle_t *)s, on_close);
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	uv_tcp_t *c;

	if (status < 0)
		return;
	if ((c = malloc(sizeof(*c))) == NULL)
		return;
	uv_tcp_init(loop, c);
	if (uv_accept(server, (uv_stream_t *)c) != 0) {
		uv_close((uv_handle_t *)c, on_close);
		return;
	}
	uv_tcp_nodelay(c, 1);
	uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	int len = sizeof(sin), err;
	struct rlimit rl;
	uv_tcp_t server;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	loop = uv_default_loop();
	uv_tcp_init(loop, &server);
	uv_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0, &sin);
	if ((err = uv_tcp_bind(&server, (struct sockaddr *)&sin, 0)) != 0)
		die("bind", err);
	if ((err = uv_listen((uv_stream_t *)&server, BACKLOG,
	    on_connection)) != 0)
		die("listen", err);
	if ((err = uv_tcp_getsockname(&server, (struct sockaddr *)&sin,
	    &len)) != 0)
		die("getsockname", err);
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	return uv_run(loop, UV_RUN_DEFAULT);
}
