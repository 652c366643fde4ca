/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pty.c -- pseudo-terminals, as CPython's test_pty uses them.
 * "nonblock": a read of an O_NONBLOCK pty master with nothing to read is
 * EAGAIN at once, whether O_NONBLOCK came by fcntl or by FIONBIO; then a
 * line written on the slave is read on the master.  Under greenrun the
 * read waited for readiness that never came (a tty has no RWF_NOWAIT).
 * "forkpty": the child forkpty makes (glibc forks inside, past the
 * fork interposer) writes on its terminal, exits 3, and is waited for.
 * Under greenrun waitpid said ECHILD.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void
read_empty(int fd, const char *how)
{
	char buf[64];
	ssize_t r;

	r = read(fd, buf, sizeof(buf));
	printf("%s: read %zd %s\n", how, r, r < 0 && errno == EAGAIN ?
	    "EAGAIN" : r < 0 ? "other error" : "data");
}

static int
nonblock(void)
{
	char buf[64];
	int m, s, one = 1, zero = 0;
	ssize_t r;

	if (openpty(&m, &s, NULL, NULL, NULL) != 0) {
		perror("openpty");
		return 1;
	}
	alarm(20);	/* a hang is a failure, not a stuck test */
	(void)fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	read_empty(m, "fcntl O_NONBLOCK");
	(void)fcntl(m, F_SETFL, fcntl(m, F_GETFL) & ~O_NONBLOCK);
	(void)ioctl(m, FIONBIO, &one);
	read_empty(m, "FIONBIO");
	(void)ioctl(m, FIONBIO, &zero);
	if (write(s, "hello\n", 6) != 6)
		perror("write");
	r = read(m, buf, sizeof(buf));	/* blocking again: the line */
	printf("blocking read: %zd bytes\n", r);
	return 0;
}

static int
forkpty_child(void)
{
	char buf[64];
	pid_t pid, w;
	ssize_t r;
	int m, st;

	alarm(20);
	if ((pid = forkpty(&m, NULL, NULL, NULL)) < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		printf("child on a tty: %d\n", isatty(1));
		fflush(stdout);
		_exit(3);
	}
	r = read(m, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = '\0';
	printf("parent read: %s", buf);
	w = waitpid(pid, &st, 0);
	printf("waitpid: %s, status %d\n", w == pid ? "the child" :
	    w < 0 && errno == ECHILD ? "ECHILD" : "other",
	    w == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "forkpty") == 0)
		return forkpty_child();
	return nonblock();
}
