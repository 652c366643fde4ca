/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_greenrun.c -- the same unmodified pthread program natively and
 * under greenrun (green-init mode, one worker): thread create+join, a
 * condition-variable ping-pong between two threads, 16 threads on one
 * mutex, a thread writing 64-byte messages to a loopback TCP socket that
 * another reads, and one thread writing a file a byte at a time (a regular file
 * has no readiness: each write goes to the worker's ring, or on a file
 * system with RWF_NOWAIT buffered writes is made at once;
 * tests/greenrun/gr_bench.c).  Runs alternate (native, green,
 * native...), RUNS each; medians and the ratio.  Issue 15's targets:
 * create+join >= 100x faster than native, ping-pong >= 20x.
 *
 * The native side runs a tenth of the count of the first two
 * (NATIVE_DIV; not the mutex, whose 16 thread creates would weigh on a
 * tenth, nor the writes, cheap natively too): a kernel thread
 * create+join costs tens of us, 100k of them took most of this
 * program's minute, and the cost per operation does not depend on the
 * count (one after another).
 */
#define BENCH_LABEL_W	30
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define RUNS		3	/* was 5: make bench keeps to minutes */
#define NATIVE_DIV	10

static char prog[4096], greenrun[4096];

/* ns per op of one run, or -1. */
static double
run(const char *mode, const char *n, int green)
{
	char nn[32];
	char *nat[] = { prog, (char *)mode, nn, NULL };
	char *grn[] = { greenrun, "-w", "1", "--", prog, (char *)mode,
	    (char *)n, NULL };
	char buf[128];
	int p[2], st;
	ssize_t r;
	pid_t pid;
	double v = -1;

	/* Not the mutex: its 16 thread creates would weigh on a tenth. */
	snprintf(nn, sizeof(nn), "%ld", atol(n) /
	    (strcmp(mode, "create") == 0 || strcmp(mode, "pingpong") == 0 ?
	    NATIVE_DIV : 1));
	if (pipe(p) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(green ? greenrun : prog, green ? grn : nat);
		_exit(127);
	}
	close(p[1]);
	r = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		buf[r] = '\0';
		(void)sscanf(buf, "ns_per_op %lf", &v);
	}
	return v;
}

/* Targets, judged once every run is done (quiet_end). */
static struct {
	const char	*label;
	double		 ratio, target;
} judged[4];
static int njudged;

static void
one(const char *label, const char *mode, const char *n, double target)
{
	double nat[RUNS], grn[RUNS], mn, mg;
	int i;

	for (i = 0; i < RUNS; i++) {
		nat[i] = run(mode, n, 0);
		grn[i] = run(mode, n, 1);
	}
	mn = median(nat, RUNS);
	mg = median(grn, RUNS);
	printf("  %-*s native %9.1f ns  greenrun %8.1f ns  %7.1fx",
	    BENCH_LABEL_W, label, mn, mg, mg > 0 ? mn / mg : 0.0);
	printf("\n");
	{
		char a[160], b[160];

		snprintf(a, sizeof(a), "%s, native", label);
		snprintf(b, sizeof(b), "%s, greenrun", label);
		fig(a, "ns", mn, NULL);
		fig(b, "ns", mg, a);
	}
	if (target > 0 && njudged < 4) {
		judged[njudged].label = label;
		judged[njudged].ratio = mg > 0 ? mn / mg : -1.0;
		judged[njudged++].target = target;
	}
}

int
main(int argc, char **argv)
{
	char self[2048], *slash;
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)argc;
	(void)argv;
	quiet_begin();
	if (k <= 0)
		return 1;
	self[k] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	/* build/bench/bench_greenrun -> build/greenrun, build/tests/... */
	snprintf(greenrun, sizeof(greenrun), "%s/../greenrun", self);
	snprintf(prog, sizeof(prog), "%s/../tests/greenrun/gr_bench", self);
	if (access(greenrun, X_OK) != 0 || access(prog, X_OK) != 0) {
		printf("bench_greenrun: %s or %s missing (make greenrun "
		    "test builds them)\n", greenrun, prog);
		return 0;
	}
	printf("bench_greenrun: medians of %d alternating runs, greenrun -w 1"
	    "\n(native runs 1/%d of the count)\n", RUNS, NATIVE_DIV);
	one("create+join (100k threads)", "create", "100000", 100);
	one("cond ping-pong (100k rounds)", "pingpong", "100000", 20);
	one("16 threads on one mutex", "mutex", "1600000", 0);
	one("1-byte writes to a file", "write1", "20000", 0);
	one("64-byte writes to TCP", "tcpwrite", "200000", 0);
	one("open+read a 10 KiB file", "fileread", "20000", 0);
	one("open+read /proc/self/stat", "procread", "20000", 0);
	one("open, name not there", "noent", "50000", 0);
	quiet_end();
	for (int i = 0; i < njudged; i++)
		judge(judged[i].label, judged[i].ratio, judged[i].target, "x",
		    0);
	return 0;
}
