/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fork.c -- fork + exec + waitpid from a thread and from main: the
 * children run sh, which exits with a status the parent prints.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int
run(const char *cmd)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *
thread(void *arg)
{
	return (void *)(long)run(arg);
}

int
main(void)
{
	pthread_t t;
	void *r;

	printf("main child %d\n", run("echo from child; exit 7"));
	pthread_create(&t, NULL, thread, "exit 9");
	pthread_join(t, &r);
	printf("thread child %ld\n", (long)r);
	printf("killed child %d\n", run("kill -TERM $$"));
	return 0;
}
