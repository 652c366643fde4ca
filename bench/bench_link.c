/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_link.c -- the fast paths as a user links greenproc: the shared
 * library (-lgreenproc, as pkg-config --libs greenproc says) against the
 * static library without LTO and with LTO into the program.
 *
 * bench/link/fastpath.c is one program, linked three ways by the
 * Makefile (fastpath-so, fastpath-static, fastpath-lto; the last only
 * when the library has LTO objects).  Each round runs every linkage once
 * for each op (yield, create+join, spawn+exit+wait), one process per
 * run, in an order that rotates from round to round: a burst of other
 * work on the machine then lands on each linkage in turn instead of on
 * one.  Medians of ROUNDS rounds; the target (issue 18) is the .so within
 * 1.05x of the static non-LTO build for each op.  make bench-icount gives
 * the instruction counts of the same runs, which noise cannot move.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define BENCH_LABEL_W	40
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define ROUNDS		9
#define TARGET_RATIO	1.05

static const struct {
	const char	*op;
	const char	*what;
	const char	*n;
} ops[] = {
	{ "yield",  "yield switch",	       "500000" },
	{ "create", "LWP create+run+join",     "200000" },
	{ "spawn",  "spawn+exit+wait",	       "200000" },
};
#define NOPS	(int)(sizeof(ops) / sizeof(ops[0]))

static const char *links[] = { "so", "static", "lto" };
#define NLINKS	3

static char dir[4096];

/* One run of (bin) for (op): its ns per op, or -1. */
static double
run_one(const char *bin, const char *op, const char *n)
{
	char line[128], name[32];
	double ns = -1.0;
	int fd[2], st;
	long got;
	pid_t pid;
	FILE *f;

	if (pipe(fd) != 0)
		return -1.0;
	if ((pid = fork()) == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl(bin, bin, op, n, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if (pid < 0 || (f = fdopen(fd[0], "r")) == NULL) {
		close(fd[0]);
		return -1.0;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%31s %ld %lf", name, &got, &ns) != 3)
		ns = -1.0;
	fclose(f);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		ns = -1.0;
	return ns;
}

int
main(void)
{
	double v[NOPS][NLINKS][ROUNDS], med[NOPS][NLINKS];
	char bin[NLINKS][4200], label[96], peer[96];
	int have[NLINKS], o, l, r, k, nr[NOPS][NLINKS];
	ssize_t len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	quiet_begin();
	if ((len = readlink("/proc/self/exe", dir, sizeof(dir) - 1)) < 0) {
		perror("bench_link: readlink");
		return 1;
	}
	dir[len] = '\0';
	*strrchr(dir, '/') = '\0';
	for (l = 0; l < NLINKS; l++) {
		snprintf(bin[l], sizeof(bin[l]), "%s/link/fastpath-%s", dir,
		    links[l]);
		have[l] = access(bin[l], X_OK) == 0;
	}
	if (!have[0] || !have[1]) {
		fprintf(stderr, "bench_link: %s or %s missing (make bench "
		    "builds them)\n", bin[0], bin[1]);
		return 1;
	}
	memset(nr, 0, sizeof(nr));
	for (r = 0; r < ROUNDS; r++)
		for (o = 0; o < NOPS; o++)
			for (k = 0; k < NLINKS; k++) {
				double ns;

				l = (k + r) % NLINKS;	/* rotate the order */
				if (!have[l])
					continue;
				ns = run_one(bin[l], ops[o].op, ops[o].n);
				if (ns > 0)
					v[o][l][nr[o][l]++] = ns;
			}
	for (o = 0; o < NOPS; o++)
		for (l = 0; l < NLINKS; l++)
			med[o][l] = have[l] && nr[o][l] > 0 ?
			    median(v[o][l], nr[o][l]) : -1.0;

	printf("\nbench_link: the fast paths by linkage, 1 worker; medians "
	    "of %d interleaved rounds\n(bench/link/fastpath.c: .so = "
	    "-lgreenproc as pkg-config says, static = libgreenproc.a\nwithout "
	    "LTO, LTO = libgreenproc.a with -flto into the program)\n\n",
	    ROUNDS);
	printf("  %-*s %10s %10s %10s\n", BENCH_LABEL_W, "ns per op", ".so",
	    "static", "LTO");
	for (o = 0; o < NOPS; o++) {
		printf("  %-*s", BENCH_LABEL_W, ops[o].what);
		for (l = 0; l < NLINKS; l++)
			if (med[o][l] < 0)
				printf(" %10s", "n/a");
			else
				printf(" %10.1f", med[o][l]);
		printf("\n");
		snprintf(peer, sizeof(peer), "%s, static", ops[o].what);
		for (l = 0; l < NLINKS; l++) {
			snprintf(label, sizeof(label), "%s, %s", ops[o].what,
			    links[l]);
			fig(label, "ns", med[o][l], l == 1 ? NULL : peer);
		}
	}
	printf("\n  ratios (time / static time; above 1: slower than "
	    "static)\n");
	for (o = 0; o < NOPS; o++) {
		snprintf(label, sizeof(label), "%s: .so / static", ops[o].what);
		printf("  %-*s %10.3f\n", BENCH_LABEL_W, label,
		    med[o][0] / med[o][1]);
		if (med[o][2] > 0) {
			snprintf(label, sizeof(label), "%s: LTO / static",
			    ops[o].what);
			printf("  %-*s %10.3f\n", BENCH_LABEL_W, label,
			    med[o][2] / med[o][1]);
		}
	}
	quiet_end();
	printf("\ntargets\n");
	for (o = 0; o < NOPS; o++) {
		snprintf(label, sizeof(label), "%s: .so / static", ops[o].what);
		judge(label, med[o][0] > 0 && med[o][1] > 0 ?
		    med[o][0] / med[o][1] : -1.0, TARGET_RATIO, "x", 1);
	}
	return 0;
}
