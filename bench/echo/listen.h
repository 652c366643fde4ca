/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.h -- the start that bench_echo's own echo peers share: SIGPIPE
 * ignored (a client gone mid-write is EPIPE, not a dead server),
 * RLIMIT_NOFILE raised to its hard limit (10k connections), and a socket
 * listening on the loopback port argv[1] names (none or 0: any).
 * examples/echo.c does the same in its own words: it is the program
 * users read.
 */
#ifndef GREENPROC_ECHO_LISTEN_H
#define GREENPROC_ECHO_LISTEN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/*
 * The listening socket (SOCK_STREAM | (type_flags)), its address in
 * *sin; -1 with errno on failure.
 */
static inline int
echo_listen(int argc, char **argv, int type_flags, int backlog,
    struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	struct rlimit rl;
	int lfd, one = 1;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
	if ((lfd = socket(AF_INET, SOCK_STREAM | type_flags, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    listen(lfd, backlog) != 0 ||
	    getsockname(lfd, (struct sockaddr *)sin, &len) != 0)
		return -1;
	return lfd;
}

#endif /* GREENPROC_ECHO_LISTEN_H */
