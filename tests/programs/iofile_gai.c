/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile_gai.c -- getaddrinfo("localhost") held in progress: in private
 * mount and network namespaces "localhost" goes to a name server of
 * ours (a host thread) that answers only after a ping-pong of two other
 * green threads of the one worker is over.  Without the namespaces (not
 * root) the lookup is not held.
 */
#include <netdb.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <net/if.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "iofile.h"
#include "legacy_driver.h"

static int release[2];
static int gai_rc = -100;
static char gai_addr[64];
static int dns_fd = -1;

/*
 * The name server of the private network namespace: answers every query
 * with 127.0.0.1 (an A query) or no data, from the release on.
 */
static void *
dns_server(void *arg)
{
	unsigned char q[512], *p;
	static const unsigned char a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
	    0, 4, 127, 0, 0, 1 };
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;
	size_t qlen;
	char c;

	(void)arg;
	if (read(release[0], &c, 1) != 1)
		return NULL;
	for (;;) {
		fl = sizeof(from);
		if ((n = recvfrom(dns_fd, q, sizeof(q) - sizeof(a), 0,
		    (struct sockaddr *)&from, &fl)) < 12)
			continue;
		for (p = q + 12; p < q + n && *p != 0; p += *p + 1)
			;
		qlen = (size_t)(p + 5 - q);	/* header, name, type, class */
		if (qlen > (size_t)n)
			continue;
		q[2] = 0x81;
		q[3] = 0x80;			/* a response, no error */
		q[6] = 0;
		q[8] = q[9] = q[10] = q[11] = 0;
		q[7] = p[2] == 1 ? 1 : 0;	/* an answer for type A */
		if (q[7])
			memcpy(q + qlen, a, sizeof(a));
		(void)sendto(dns_fd, q, qlen + (q[7] ? sizeof(a) : 0), 0,
		    (struct sockaddr *)&from, fl);
	}
}

/* Bind a new regular file with (text) over (path). */
static int
over(const char *path, const char *text)
{
	char tmp[64];
	int fd, r;

	snprintf(tmp, sizeof(tmp), "/tmp/gp_iofile_etc_%d", getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	if (r == 0)
		r = mount(tmp, path, NULL, MS_BIND, NULL);
	(void)unlink(tmp);
	return r;
}

/*
 * Host side, before the green process: a private mount and network
 * namespace (root only) where "localhost" is not in /etc/hosts and the
 * name server is ours, on a loopback of our own.
 */
static int
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(53), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct ifreq ifr;
	pthread_t t;
	int s;

	if (pipe(release) != 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    (s = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) != 0 ||
	    over("/etc/hosts", "# no localhost here\n") != 0 ||
	    over("/etc/resolv.conf", "nameserver 127.0.0.1\n"
	    "options timeout:30 attempts:1\n") != 0 ||
	    over("/etc/nsswitch.conf", "hosts: files dns\n") != 0 ||
	    (dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(dns_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		printf("gai: no private name server: not held\n");
		(void)write(release[1], "g", 1);
		return 0;
	}
	close(s);
	if (pthread_create(&t, NULL, dns_server, NULL) != 0)
		return 1;
	printf("gai: held by our name server\n");
	return 0;
}

static void *
resolver(void *arg)
{
	struct addrinfo hints, *res = NULL;

	(void)arg;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	gai_rc = getaddrinfo("localhost", "80", &hints, &res);
	if (gai_rc == 0) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->
		    sin_addr, gai_addr, sizeof(gai_addr));
		freeaddrinfo(res);
	}
	return NULL;
}

/* Our name server answers now. */
static void
let_go(void)
{
	CHECK(write(release[1], "g", 1) == 1, "release");
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	hold_during_pingpong(resolver, let_go);
	CHECK(gai_rc == 0, "getaddrinfo: %s", gai_strerror(gai_rc));
	CHECK(strcmp(gai_addr, "127.0.0.1") == 0, "address %s", gai_addr);
	printf("legacy: done\n");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "iofile_gai", NULL },
	.timeout = 30,
	.before = setup,
};
