/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysctl_run.h -- run a stress test with a sysctl changed, and put it
 * back whatever happens (stress_mapcount.c, stress_million.c).
 *
 * The sysctl is global: the run goes to a child, and the parent puts the
 * old value back when the child ends -- also when the parent is told to
 * stop (SIGINT, SIGTERM, SIGHUP: a timeout(1), a ^C), which it passes on
 * to the child as SIGKILL before it restores.
 */
#ifndef GP_STRESS_SYSCTL_RUN_H
#define GP_STRESS_SYSCTL_RUN_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((unused)) long
sysctl_read(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static __attribute__((unused)) int
sysctl_write(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

static volatile sig_atomic_t sysctl_child;

static __attribute__((unused)) void
sysctl_pass_on(int sig)
{
	(void)sig;
	if (sysctl_child > 0)
		kill((pid_t)sysctl_child, SIGKILL);
}

/* fn(arg) in a child with (path) at (want); 1 if anything failed. */
static __attribute__((unused)) int
sysctl_run(const char *who, const char *path, long want, int (*fn)(long),
    long arg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	long old;
	pid_t child;
	int st, rc;
	size_t i;

	if ((old = sysctl_read(path)) < 0 || sysctl_write(path, want) != 0) {
		fprintf(stderr, "%s: cannot set %s to %ld (root?)\n", who,
		    path, want);
		return 1;
	}
	printf("%s: %s %ld -> %ld for the run\n", who, path, old, want);
	fflush(stdout);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sysctl_pass_on;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if ((child = fork()) == 0) {
		rc = fn(arg);
		fflush(stdout);
		_exit(rc);
	}
	sysctl_child = child;
	rc = 1;
	while (child > 0 && waitpid(child, &st, 0) != child)
		if (errno != EINTR)
			break;
	if (child > 0 && WIFEXITED(st))
		rc = WEXITSTATUS(st);
	if (sysctl_write(path, old) != 0) {
		fprintf(stderr, "%s: could not put %s back to %ld\n", who,
		    path, old);
		return 1;
	}
	printf("%s: %s back to %ld\n", who, path, sysctl_read(path));
	return rc;
}

#endif /* GP_STRESS_SYSCTL_RUN_H */
