/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault_kinds.c -- every kind of synchronous fault (faults.h) in a green
 * process kills only that process: its parent sees the fault's signal,
 * a bystander process runs on and exits normally, and the host lives.
 * Run under the preload (abort() is then the preload's, a failed assert
 * still glibc's own) and without it, by tests/test_preload.c.
 *
 * argv[1], if given, names the one kind to make; else every kind runs,
 * one after another, in the same host.
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

		if ((argc > 1 && strcmp(argv[1], k->name) != 0) ||
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
	atomic_store(&stop, 1);
	st = -1;
	CHECK(gp_waitpid(by, &st, 0) == by, "wait bystander");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "bystander status %#x",
	    st);
	printf("host survived %d faults\n", n);
	return check_exit_code();
}
