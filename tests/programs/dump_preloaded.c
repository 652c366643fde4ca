/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_preloaded.c -- gp_dump and gp_dump_on_signal called from green
 * code under LD_PRELOAD, where every libc name of preload.map is green
 * on an LWP: the runtime must reach glibc's own functions, never the
 * preload's interposers (tests/test_dump.c runs it).
 *
 * Usage: dump_preloaded yield | signal
 *
 * yield: an LWP parks with its return address overwritten, so that no
 * walk of its stack is ever whole and the unwinder takes its snapshot
 * again and again (yielding its thread between tries).  A green process
 * dumps three times.  This program defines sched_yield itself, ahead of
 * the preload's in the lookup order: it counts calls made on green
 * threads and passes them on to the next definition (the preload's,
 * gp_yield).  The count must stay 0: the runtime yields its thread with
 * glibc's own sched_yield, never the public name (which, on an LWP, was
 * a green switch with p_lock held; DEBUG=1 builds panicked).
 *
 * signal: a green process turns on gp_dump_on_signal: the dump thread
 * must be a host thread (no LWP is created), a signal then writes a dump
 * to GREENPROC_DUMP_FILE, and exit() stops the thread (dump_stop's
 * pthread_join) without a crash.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"
#include "check.h"

static atomic_int parked;

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
wait_flag(atomic_int *flag)
{
	int i;

	for (i = 0; !atomic_load(flag); i++) {
		if (i == 10000) {
			fprintf(stderr, "dump_preloaded: never parked\n");
			exit(1);
		}
		nap_ms(1);
	}
}

/* ------------------------------------------------------------ yield */

/*
 * Parks with its return address pointing at an unmapped page: the walk
 * stops there, never at the LWP's entry.  It is killed in the sleep, so
 * it never returns through the broken frame.
 */
__attribute__((noinline)) static void
parked_with_a_broken_frame(void)
{
	void *volatile *ra = (void *volatile *)__builtin_frame_address(0) + 1;
	struct timespec ts = { 60, 0 };
	void *saved = *ra;

	*ra = (void *)16;
	atomic_store(&parked, 1);
	(void)gp_nanosleep(&ts, NULL);
	*ra = saved;
}

static int
broken_main(void *arg)
{
	(void)arg;
	parked_with_a_broken_frame();
	return 0;
}

static atomic_int green_yields;

/* The public name: what an unmodified program's own call reaches. */
int
sched_yield(void)
{
	static int (*next)(void);

	if (gp_lwp_self() != NULL)
		atomic_fetch_add(&green_yields, 1);
	if (next == NULL)
		next = (int (*)(void))dlsym(RTLD_NEXT, "sched_yield");
	return next();
}

static int
dumper_main(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 3; i++)
		if (gp_dump(stdout) != 0)
			return 1;
	fflush(stdout);
	return 0;
}

static void
yield_mode(void)
{
	pid_t b, d;
	int status = 0;

	b = gp_spawn(broken_main, NULL, NULL);
	CHECK(b > 0, "gp_spawn");
	wait_flag(&parked);
	nap_ms(50);	/* from "parked" into the sleep: a few instructions */
	d = gp_spawn(dumper_main, NULL, NULL);
	CHECK(d > 0, "gp_spawn");
	CHECK(gp_waitpid(d, &status, 0) == d, "gp_waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
	    status);
	CHECK(atomic_load(&green_yields) == 0, "gp_dump called sched_yield "
	    "%d times on its green thread", atomic_load(&green_yields));
	gp_kill(b, SIGKILL);
	CHECK(gp_waitpid(b, &status, 0) == b, "gp_waitpid");
}

/* ------------------------------------------------------------ signal */

static int
dump_on_main(void *arg)
{
	struct gp_counters before, after;

	(void)arg;
	if (gp_stats(&before) != 0 || gp_dump_on_signal(SIGUSR2) != 0 ||
	    gp_stats(&after) != 0)
		return 1;
	/* The dump thread is the runtime's, not an LWP of this process. */
	return after.lwps_created == before.lwps_created ? 0 : 2;
}

static void
signal_mode(void)
{
	char path[] = "/tmp/dump_preloaded.XXXXXX";
	struct stat st;
	pid_t p;
	int fd, i, status = 0;

	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	close(fd);
	setenv("GREENPROC_DUMP_FILE", path, 1);
	p = gp_spawn(dump_on_main, NULL, NULL);
	CHECK(p > 0, "gp_spawn");
	CHECK(gp_waitpid(p, &status, 0) == p, "gp_waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "green gp_dump_on_signal: status %#x (2: it created an LWP)",
	    status);
	CHECK(kill(getpid(), SIGUSR2) == 0, "kill");
	for (i = 0; i < 10000; i++) {
		if (stat(path, &st) == 0 && st.st_size > 0)
			break;
		nap_ms(1);
	}
	CHECK(st.st_size > 0, "no dump in %s after the signal", path);
	unlink(path);
}

int
main(int argc, char **argv)
{
	/* A hang is a failure too (the test runner would wait forever). */
	alarm(60);
	if (argc != 2) {
		fprintf(stderr, "usage: dump_preloaded yield | signal\n");
		return 2;
	}
	if (gp_init(2) != 0) {
		perror("dump_preloaded: gp_init");
		return 1;
	}
	if (strcmp(argv[1], "yield") == 0)
		yield_mode();
	else if (strcmp(argv[1], "signal") == 0)
		signal_mode();
	else
		return 2;
	/* exit(), not gp_shutdown(): the host's exit stops the dump thread. */
	exit(check_exit_code());
}
