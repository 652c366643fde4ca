/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_ttybg.c -- job control of a terminal: a process of a background
 * group that reads its controlling terminal is stopped by SIGTTIN (and
 * reads once its group is made the foreground one and continued, with
 * O_NONBLOCK too); one
 * that ignores SIGTTIN reads EIO; one that catches it runs its handler
 * and the read fails with EINTR; with TOSTOP a write stops it by
 * SIGTTOU, without TOSTOP it goes through; tcsetattr stops it by
 * SIGTTOU whatever TOSTOP says; and a reader whose parent, as in
 * `sh -c cat &`, is in its group is stopped too (the group is not
 * orphaned: the shell, the parent's parent, holds it).  A child of ours is the
 * session leader of a pseudo-terminal and plays the shell; each job is
 * this program again ("reader"), under greenrun when we are (a fork
 * child leaves green-init mode: the program greenrun runs is the one to
 * test, as in `greenrun cat &`).
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int master, slave;
static volatile sig_atomic_t caught;

static void
on_ttin(int sig)
{
	(void)sig;
	caught = 1;
}

static const char *
err(int e)
{
	return e == 0 ? "0" : e == EIO ? "EIO" : e == EINTR ? "EINTR" :
	    strerror(e);
}

/* The background reader (or writer): what it got, as its exit status. */
static int
reader(const char *how)
{
	struct sigaction sa;
	char buf[16];
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	signal(SIGTTOU, SIG_DFL);	/* the shell ignores it */
	if (strcmp(how, "ignore") == 0) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGTTIN, &sa, NULL);
	} else if (strcmp(how, "catch") == 0) {
		sa.sa_handler = on_ttin;	/* no SA_RESTART */
		sigaction(SIGTTIN, &sa, NULL);
	}
	if (strcmp(how, "nonblock") == 0)
		fcntl(slave, F_SETFL, fcntl(slave, F_GETFL) | O_NONBLOCK);
	if (strcmp(how, "write") == 0 || strcmp(how, "tostop") == 0) {
		n = write(slave, "out\n", 4);
	} else if (strcmp(how, "tcsetattr") == 0) {
		struct termios t;

		tcgetattr(slave, &t);
		n = tcsetattr(slave, TCSANOW, &t);
	} else
		n = read(slave, buf, sizeof(buf));
	if (n < 0) {
		printf("  %s: %s%s\n", how, err(errno), caught ?
		    ", handler ran" : "");
		fflush(stdout);
		return 2;
	}
	printf("  %s: %zd bytes\n", how, n);
	fflush(stdout);
	return 0;
}

/* The shell: run (how) in a background group and report what it did. */
static void
job(const char *how)
{
	pid_t pid;
	int st;
	char buf[64];

	fflush(stdout);
	if ((pid = fork()) == 0) {
		const char *pre = getenv("LD_PRELOAD");

		setpgid(0, 0);
		/* sh -c: the reader is our child, in our group, and we wait. */
		if (strcmp(how, "viash") == 0 && (pid = fork()) != 0) {
			signal(SIGTTIN, SIG_DFL);
			if (pid < 0 || waitpid(pid, &st, 0) != pid)
				_exit(126);
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 125);
		}
		if (pre != NULL && strstr(pre, "greenproc") != NULL)
			setenv("GREENPROC_INIT", "1", 1);
		snprintf(buf, sizeof(buf), "%d", slave);
		execl("/proc/self/exe", "gr_ttybg", "reader", how, buf,
		    (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	if (waitpid(pid, &st, WUNTRACED) != pid) {
		printf("%s: waitpid: %s\n", how, strerror(errno));
		return;
	}
	if (WIFSTOPPED(st)) {
		printf("%s: stopped by %s\n", how, WSTOPSIG(st) == SIGTTIN ?
		    "SIGTTIN" : WSTOPSIG(st) == SIGTTOU ? "SIGTTOU" :
		    "another signal");
		/* fg: its group to the foreground, fed a line, continued. */
		tcsetpgrp(slave, pid);
		if (write(master, "hi\n", 3) != 3)
			printf("%s: write to the master failed\n", how);
		kill(-pid, SIGCONT);
		if (waitpid(pid, &st, 0) != pid) {
			printf("%s: waitpid: %s\n", how, strerror(errno));
			return;
		}
		tcsetpgrp(slave, getpgrp());
	}
	printf("%s: %s %d\n", how, WIFEXITED(st) ? "exited" : "killed",
	    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	/* What the terminal echoed or was written: not ours to check. */
	while (read(master, buf, sizeof(buf)) > 0)
		;
}

int
main(int argc, char **argv)
{
	struct termios t;
	pid_t pid;
	int st, fl;

	if (argc == 4 && strcmp(argv[1], "reader") == 0) {
		slave = atoi(argv[3]);
		return reader(argv[2]);
	}

	if (openpty(&master, &slave, NULL, NULL, NULL) != 0) {
		perror("openpty");
		return 1;
	}
	if ((pid = fork()) == 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) {
			perror("setsid/TIOCSCTTY");
			_exit(1);
		}
		signal(SIGTTOU, SIG_IGN);	/* the shell's own tcsetpgrp */
		fl = fcntl(master, F_GETFL);
		fcntl(master, F_SETFL, fl | O_NONBLOCK);
		job("read");
		job("viash");
		job("nonblock");
		job("ignore");
		job("catch");
		job("write");
		tcgetattr(slave, &t);
		t.c_lflag |= TOSTOP;
		tcsetattr(slave, TCSANOW, &t);
		job("tostop");
		job("tcsetattr");
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		printf("the session leader failed: 0x%x\n", st);
	return 0;
}
