/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_clone.c -- children made by a direct clone(), not fork: glibc's
 * clone() wrapper with SIGCHLD as exit signal (a fork in all but name),
 * with CLONE_VM | CLONE_VFORK (how spawn libraries start a program),
 * with no exit signal at all (a "clone child", which only __WCLONE or
 * __WALL waits find), and the raw system call.  Each is waited for by
 * pid and by waitpid(-1), with its status; natively and under greenrun
 * the same: a green wait used to say ECHILD for all of them.  A child
 * starts with its parent thread's mask and dispositions, which an exec
 * keeps (blocked and ignored signals): not the worker's under greenrun,
 * whether clone() or the raw system call through syscall() made it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waitshow.h"

#define STACK	(64 * 1024)

/*
 * The child is a copy of the runtime's caller under greenrun, in no
 * state to run green code: only system calls.
 */
/* grep, not a shell: a shell sets its own mask. */
static char *const show_sigs[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)",
    "/proc/self/status", NULL };

static int
exec_main(void *arg)
{
	(void)arg;
	syscall(SYS_execve, show_sigs[0], show_sigs, NULL);
	syscall(SYS_exit_group, 127);
	return 0;
}

static int
child_main(void *arg)
{
	int code = (int)(long)arg;

	if (code < 0)
		syscall(SYS_kill, syscall(SYS_getpid), -code);
	syscall(SYS_exit_group, code);
	return 0;
}

static pid_t
start(int flags, int code)
{
	char *stack = malloc(STACK);
	pid_t pid;

	/* Leaked on purpose: a CLONE_VM child may still be on it. */
	pid = clone(child_main, stack + STACK, flags, (void *)(long)code);
	if (pid < 0)
		printf("clone: %s\n", strerror(errno));
	return pid;
}

/* waitpid(-1) until it reports (a WNOHANG loop: a wait of ours too). */
static pid_t
wait_any(int *st, int options)
{
	pid_t r;

	while ((r = waitpid(-1, st, options | WNOHANG)) == 0)
		usleep(1000);
	return r;
}

int
main(void)
{
	pid_t pid, r;
	int st = 0;
	siginfo_t si;

	setvbuf(stdout, NULL, _IONBF, 0);

	pid = start(SIGCHLD, 3);
	r = waitpid(pid, &st, 0);
	show("clone(SIGCHLD), waitpid(pid)", r, pid, st);

	pid = start(SIGCHLD, 4);
	r = wait_any(&st, 0);
	show("clone(SIGCHLD), waitpid(-1)", r, pid, st);

	pid = start(CLONE_VM | CLONE_VFORK | SIGCHLD, 5);
	r = waitpid(pid, &st, 0);
	show("clone(VM | VFORK | SIGCHLD), waitpid(pid)", r, pid, st);

	/* No exit signal: only __WCLONE or __WALL waits see it. */
	pid = start(0, 6);
	r = waitpid(pid, &st, WNOHANG);
	show("clone(0), waitpid(pid, WNOHANG)", r, pid, st);
	r = waitpid(-1, &st, WNOHANG);
	show("clone(0), waitpid(-1, WNOHANG)", r, pid, st);
	r = waitpid(pid, &st, __WCLONE);
	show("clone(0), waitpid(pid, __WCLONE)", r, pid, st);

	pid = start(0, 7);
	r = wait_any(&st, __WALL);
	show("clone(0), waitpid(-1, __WALL)", r, pid, st);

	/* A fork child is no clone child: __WCLONE skips it. */
	pid = start(SIGCHLD, 8);
	r = waitpid(pid, &st, __WCLONE | WNOHANG);
	show("clone(SIGCHLD), waitpid(pid, __WCLONE)", r, pid, st);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)pid, &si, WEXITED);
	printf("clone(SIGCHLD), waitid(P_PID): %d, %s, status %d\n", r,
	    si.si_pid == pid ? "its pid" : "another pid", si.si_status);

	/* The system call itself, fork-like (no new stack). */
	pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		syscall(SYS_exit_group, 9);
	r = waitpid(pid, &st, 0);
	show("syscall(SYS_clone, SIGCHLD), waitpid(pid)", r, pid, st);

	/* Killed by a signal: the status says so. */
	pid = start(SIGCHLD, -SIGTERM);
	r = waitpid(pid, &st, 0);
	show("clone(SIGCHLD) killed", r, pid, st);

	/* What an exec'ed child is left with: SIGUSR1 blocked, SIGHUP
	 * ignored, as its parent thread had them. */
	{
		sigset_t set, old;
		char *stack = malloc(STACK);

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &set, &old);
		signal(SIGHUP, SIG_IGN);
		pid = clone(exec_main, stack + STACK, CLONE_VM | CLONE_VFORK |
		    SIGCHLD, NULL);
		r = waitpid(pid, &st, 0);
		show("clone(VM | VFORK) exec", r, pid, st);
		pid = clone(exec_main, stack + STACK, SIGCHLD, NULL);
		r = waitpid(pid, &st, 0);
		show("clone(SIGCHLD) exec", r, pid, st);
		/* The raw system calls: the child returns through syscall(). */
		pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		if (pid == 0)
			exec_main(NULL);
		r = waitpid(pid, &st, 0);
		show("syscall(SYS_clone, SIGCHLD) exec", r, pid, st);
		pid = (pid_t)syscall(SYS_fork);
		if (pid == 0)
			exec_main(NULL);
		r = waitpid(pid, &st, 0);
		show("syscall(SYS_fork) exec", r, pid, st);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		signal(SIGHUP, SIG_DFL);
		free(stack);
	}

	r = waitpid(-1, &st, WNOHANG | __WALL);
	show("none left", r, 0, st);
	return 0;
}
