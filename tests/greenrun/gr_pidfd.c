/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pidfd.c -- pidfd_send_signal(2) to the program's own process, by a
 * pidfd of its pid or by a /proc/<pid> directory, through syscall() (as
 * CPython's signal.pidfd_send_signal makes it) and glibc's wrapper: the
 * handler has run when the call returns, as after kill of the own pid.
 * Under greenrun the signal went through the kernel and the forwarder
 * and ran later, and CPython's test_signal died of its KeyboardInterrupt
 * outside the assertRaises waiting for it.  Also: a child's pidfd still
 * kills the child, bad flags and descriptors fail as the kernel's do.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
on_usr1(int sig)
{
	(void)sig;
	got++;
}

static void
report(const char *what, long r)
{
	printf("%s: r=%ld errno=%s handler=%d\n", what, r,
	    r < 0 ? (errno == EBADF ? "EBADF" : errno == EINVAL ? "EINVAL" :
	    "other") : "-", (int)got);
	got = 0;
}

int
main(void)
{
	char path[64];
	int pfd, dfd, cfd, st;
	pid_t child;
	long r;

	signal(SIGUSR1, on_usr1);
	pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	snprintf(path, sizeof(path), "/proc/%d", (int)getpid());
	dfd = open(path, O_DIRECTORY | O_RDONLY);
	if (pfd < 0 || dfd < 0) {
		perror("pidfd_open/open");
		return 1;
	}
	r = syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 0);
	report("syscall pidfd", r);
	r = syscall(SYS_pidfd_send_signal, dfd, SIGUSR1, NULL, 0);
	report("syscall /proc dir", r);
	r = pidfd_send_signal(pfd, SIGUSR1, NULL, 0);
	report("glibc pidfd", r);
	r = syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0);
	report("signal 0", r);
	r = syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 0x100);
	report("bad flags", r);
	r = syscall(SYS_pidfd_send_signal, 0, SIGUSR1, NULL, 0);
	report("not a pidfd", r);
	r = syscall(SYS_pidfd_send_signal, 1000, SIGUSR1, NULL, 0);
	report("closed fd", r);

	if ((child = fork()) == 0) {
		for (;;)
			pause();
	}
	cfd = (int)syscall(SYS_pidfd_open, child, 0);
	r = syscall(SYS_pidfd_send_signal, cfd, SIGTERM, NULL, 0);
	report("child", r);
	if (waitpid(child, &st, 0) != child)
		perror("waitpid");
	printf("child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return 0;
}
