/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c -- difftest: run sequences on Linux and on greenproc, compare.
 *
 *   difftest [-n N] [-s SEED] [-l LEN] [-r FILE] [-v]
 *
 * Runs the sequences of FILE (tests/diff/regress.txt: the seeds and
 * sequences that once diverged), then N generated ones, seeds SEED,
 * SEED+1...  Each runs twice on Linux (the two must agree: the real side
 * is deterministic) and once on green processes.  On a divergence it
 * prints the seed, the sequence in the file's form, and both transcripts
 * with the first differing line marked; `make difftest SEED=x N=1`
 * replays it.  Exit status 1 on any divergence not marked "known".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "greenproc.h"

static int verbose;
static int nrun, ndiv, nunstable, nknown;

static void
print_seq(const struct seq *s)
{
	char b[256];
	int i;

	printf("seq seed %llu\n", (unsigned long long)s->seed);
	for (i = 0; i < s->nops; i++) {
		op_unparse(&s->ops[i], b, sizeof(b));
		printf("%s\n", b);
	}
	printf("end\n");
}

/* Both transcripts, line by line; ">>" marks the first difference. */
static void
print_pair(const char *na, const char *a, const char *nb, const char *b)
{
	const char *pa = a, *pb = b;
	int marked = 0;

	for (int side = 0; side < 2; side++) {
		const char *p = side ? b : a, *q = side ? a : b;

		printf("--- %s\n", side ? nb : na);
		pa = p;
		pb = q;
		marked = 0;
		while (*pa != '\0') {
			size_t la = strcspn(pa, "\n"), lb = strcspn(pb, "\n");
			bool same = la == lb && memcmp(pa, pb, la) == 0;

			printf("%s%.*s\n", !same && !marked ? ">> " : "   ",
			    (int)la, pa);
			if (!same)
				marked = 1;
			pa += la + (pa[la] != '\0');
			pb += lb + (pb[lb] != '\0');
		}
	}
}

/* Run one sequence; true if it diverged. */
static bool
check(const struct seq *s, bool from_file, bool known,
    const struct backend *green)
{
	char *r1 = NULL, *r2 = NULL, *g;
	size_t len = 0, cap = 4096;
	bool bad = false;

	nrun++;
	if (real_send(s) != 0)
		goto gone;
	g = malloc(cap);
	g[0] = '\0';
	run_seq(s, green, &g, &len, &cap);
	if (real_receive(&r1, &r2) != 0)
		goto gone;
	if (strcmp(r1, r2) != 0) {
		printf("== UNSTABLE real side, seed %llu\n", (unsigned long long)s->seed);
		print_seq(s);
		print_pair("linux (1st run)", r1, "linux (2nd run)", r2);
		nunstable++;
		bad = true;
	} else if (strcmp(r1, g) != 0 && known && !verbose) {
		printf("difftest: known difference still there (seq seed %llu "
		    "of the regression file; -v shows it)\n",
		    (unsigned long long)s->seed);
		nknown++;
	} else if (strcmp(r1, g) != 0) {
		if (from_file)
			printf("== %sDIVERGENCE, seq seed %llu of the regression "
			    "file (replay: difftest -r FILE -n 0)\n",
			    known ? "known " : "", (unsigned long long)s->seed);
		else
			printf("== DIVERGENCE, seed %llu (replay: make difftest "
			    "SEED=%llu N=1)\n", (unsigned long long)s->seed,
			    (unsigned long long)s->seed);
		print_seq(s);
		print_pair("linux", r1, "green", g);
		if (known)
			nknown++;
		else
			ndiv++;
		bad = true;
	} else if (verbose) {
		print_seq(s);
		printf("%s", g);
	}
	free(r1);
	free(r2);
	free(g);
	fflush(stdout);
	return bad;
gone:
	fprintf(stderr, "difftest: the real side's server is gone\n");
	exit(2);
}

/*
 * The regression file: "seed N [LEN]" lines and "seq" ... "end" blocks of
 * op lines; either may start with "known" (a documented difference: run
 * and shown, never a failure).  '#' starts a comment.
 */
static void
run_file(const char *path, int deflen, const struct backend *green)
{
	char line[512];
	FILE *f = fopen(path, "r");
	struct seq s;
	bool in = false, known = false;
	unsigned long long seed;
	int len, lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "difftest: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		lineno++;
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (!in && (known = strncmp(p, "known ", 6) == 0))
			p += 6;
		if (in) {
			if (strncmp(p, "end", 3) == 0) {
				in = false;
				(void)check(&s, true, known, green);
			} else if (s.nops >= MAXOPS || op_parse(p, &s.ops[s.nops++]) != 0) {
				fprintf(stderr, "%s:%d: bad op\n", path, lineno);
				exit(2);
			}
		} else if (sscanf(p, "seed %llu %d", &seed, &len) >= 1) {
			if (sscanf(p, "seed %*u %d", &len) != 1)
				len = deflen;
			gen_seq(seed, len, &s);
			(void)check(&s, false, known, green);
		} else if (strncmp(p, "seq", 3) == 0) {
			memset(&s, 0, sizeof(s));
			(void)sscanf(p, "seq seed %llu", &seed);
			s.seed = seed;
			in = true;
		} else {
			fprintf(stderr, "%s:%d: what is this?\n", path, lineno);
			exit(2);
		}
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	unsigned long long seed = 1;
	const char *file = NULL;
	struct backend green;
	struct gp_counters st;
	struct seq s;
	int n = 100, len = 24, c, i;

	while ((c = getopt(argc, argv, "n:s:l:r:v")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'l': len = atoi(optarg); break;
		case 'r': file = optarg; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: difftest [-n N] [-s SEED] [-l LEN] "
			    "[-r FILE] [-v]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* Before any thread exists: the server forks freely. */
	if (real_server_start() != 0) {
		perror("difftest: real side");
		return 2;
	}
	if (gp_init(0) != 0) {
		perror("difftest: gp_init");
		return 2;
	}
	green_setup(&green);
	if (file != NULL)
		run_file(file, len, &green);
	for (i = 0; i < n; i++) {
		gen_seq(seed + (unsigned long long)i, len, &s);
		(void)check(&s, false, false, &green);
	}
	(void)gp_stats(&st);
	printf("difftest: %d sequences, %d divergences, %d known, %d unstable "
	    "real runs; %d settle timeouts; %ld workers\n", nrun, ndiv, nknown,
	    nunstable, settle_timeouts, st.nworkers);
	if (gp_shutdown() != 0)
		perror("difftest: gp_shutdown");
	return ndiv + nunstable > 0;
}
