/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_signames.c -- the other names of signal(): sysv_signal and
 * __sysv_signal (what a program built with -std=c99 calls for signal(),
 * as zstd is), bsd_signal and ssignal.  Each installs a SIGUSR1 handler
 * that a signal from a child must run; then what sigaction says is
 * installed (SysV resets the handler after one delivery).  Under
 * greenrun glibc built the SysV ones on its internal sigaction: the
 * handler went to the kernel and the green SIGUSR1 killed the program.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

sighandler_t bsd_signal(int sig, sighandler_t handler);

static volatile sig_atomic_t got;

static void
on_usr1(int sig)
{
	(void)sig;
	got++;
}

static void
try(const char *name, sighandler_t (*set)(int, sighandler_t))
{
	struct timespec ts = { 0, 1000000 };
	struct sigaction now;
	pid_t pid;
	int i, st;

	got = 0;
	if (set(SIGUSR1, on_usr1) == SIG_ERR) {
		printf("%s: SIG_ERR\n", name);
		return;
	}
	if ((pid = fork()) == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	for (i = 0; i < 10000 && !got; i++)
		nanosleep(&ts, NULL);
	waitpid(pid, &st, 0);
	sigaction(SIGUSR1, NULL, &now);
	printf("%s: handled %d, then %s%s\n", name, (int)got,
	    now.sa_handler == on_usr1 ? "kept" : now.sa_handler == SIG_DFL ?
	    "default" : "other", (now.sa_flags & SA_RESTART) ?
	    " restarting" : "");
	/* Back to a handler, so that a late signal cannot kill us. */
	signal(SIGUSR1, on_usr1);
}

int
main(void)
{
	try("sysv_signal", sysv_signal);
	try("__sysv_signal", __sysv_signal);
	try("bsd_signal", bsd_signal);
	try("ssignal", ssignal);
	try("signal", signal);
	return 0;
}
