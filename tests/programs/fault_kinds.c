/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault_kinds.c -- every kind of synchronous fault (faults.h) in a green
 * process kills only that process: its parent sees the fault's signal,
 * a bystander process runs on and exits normally, and the host lives.
 * Run under the preload (abort() is then the preload's, a failed assert
 * still glibc's own) and without it, by tests/test_preload.c.
 *
 * argv[1], if given, names the kinds to make (those whose name starts
 * with it: "raise-" is the five raises); else every kind runs, one after
 * another, in the same host, and then a green process raises each fault
 * signal once with a handler installed (it runs, raise returns) and once
 * ignored (nothing happens), and must exit normally.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include <greenproc.h>

#include "check.h"
#include "faults.h"

static atomic_int ticks, stop;

static int
bystander(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		gp_nanosleep(&ts, NULL);
	}
	return 7;
}

static int
faulter(void *arg)
{
	return 100 + fault_make(arg);
}

static const int raised[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
#define NRAISED	(sizeof(raised) / sizeof(raised[0]))
static atomic_int hits;

static void
count_hit(int sig)
{
	(void)sig;
	atomic_fetch_add(&hits, 1);
}

/* Handled, then ignored: returns the handler runs seen, or -1. */
static int
raise_handled_ignored(void *arg)
{
	struct sigaction sa;
	size_t i;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_hit;
	for (i = 0; i < NRAISED; i++)
		if (sigaction(raised[i], &sa, NULL) != 0 ||
		    raise(raised[i]) != 0)
			return 99;
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < NRAISED; i++)
		if (sigaction(raised[i], &sa, NULL) != 0 ||
		    raise(raised[i]) != 0)
			return 99;
	return atomic_load(&hits);
}

int
main(int argc, char **argv)
{
	struct timespec ts = { 0, 2000000 };
	int st, before, n = 0;
	pid_t by, pid;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	by = gp_spawn(bystander, NULL, NULL);
	CHECK(by > 0, "bystander spawn: %s", strerror(errno));
	for (i = 0; i < NFAULT_KINDS; i++) {
		const struct fault_kind *k = &fault_kinds[i];

		if ((argc > 1 && strncmp(argv[1], k->name,
		    strlen(argv[1])) != 0) ||
		    fault_asan_takes(k))
			continue;
		before = atomic_load(&ticks);
		pid = gp_spawn(faulter, (void *)k->name, NULL);
		CHECK(pid > 0, "spawn: %s", strerror(errno));
		st = -1;
		CHECK(gp_waitpid(pid, &st, 0) == pid, "wait: %s",
		    strerror(errno));
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == k->sig,
		    "%s: status %#x, want signal %d", k->name, st, k->sig);
		/* The bystander still ticks. */
		while (atomic_load(&ticks) == before)
			gp_nanosleep(&ts, NULL);
		CHECK(gp_kill(by, 0) == 0, "bystander gone after %s", k->name);
		printf("%s: killed its process only (signal %d)\n", k->name,
		    WTERMSIG(st));
		n++;
	}
	if (argc <= 1) {
		pid = gp_spawn(raise_handled_ignored, NULL, NULL);
		CHECK(pid > 0, "spawn: %s", strerror(errno));
		st = -1;
		CHECK(gp_waitpid(pid, &st, 0) == pid, "wait: %s",
		    strerror(errno));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == (int)NRAISED,
		    "raise handled and ignored: status %#x, want exit %d", st,
		    (int)NRAISED);
		printf("raise: %d handlers ran, ignored ones ignored\n",
		    WEXITSTATUS(st));
	}
	atomic_store(&stop, 1);
	st = -1;
	CHECK(gp_waitpid(by, &st, 0) == by, "wait bystander");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "bystander status %#x",
	    st);
	printf("host survived %d faults\n", n);
	return check_exit_code();
}
