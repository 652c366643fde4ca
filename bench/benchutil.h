/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h -- the clock, the median and the report lines every
 * benchmark uses.  A program sets BENCH_LABEL_W, the width of its label
 * column, before including it.
 *
 * Figures for build/bench/results.json: fig() and point() append one
 * tab-separated line each to the file $GREENPROC_BENCH_OUT names (make
 * bench sets it; unset, they do nothing); tools/bench-report.sh turns the
 * lines into results.json and results.md.
 *
 * How quiet the machine was: quiet_begin() at the start of main(),
 * quiet_end() before the targets.  Between the two, from /proc/stat and
 * getrusage: the steal time (the hypervisor ran someone else on our
 * vCPUs) and the CPU time that neither this process nor its reaped
 * children used (other work on the machine), each as a percentage of
 * all CPU time; loadavg at both ends.  judge() prints "not judged: noisy"
 * instead of met/missed when either share is over QUIET_MAX_PCT: a
 * target missed on a busy machine says nothing about the code.
 *
 * Steal time and load miss one kind of noise these VMs have: for minutes
 * at a time one vCPU runs switch-heavy code up to 1.7x slower than the
 * other (a random-pair switch pinned there: 16 ns against 9.3 ns; a yield
 * 8.5 against 6.1), with no steal, no other work and the same speed in a
 * plain arithmetic loop -- contention for the core under it on the host.
 * So quiet_begin() and quiet_end() also time a fixed probe (speed_probe:
 * indirect calls along a pointer chase, what a switch leans on) pinned to
 * each CPU in turn, and the run is noisy when its slowest sample is over
 * QUIET_MAX_SPREAD times its fastest.
 */
#ifndef GREENPROC_BENCHUTIL_H
#define GREENPROC_BENCHUTIL_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_LABEL_W
#define BENCH_LABEL_W	46
#endif

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); -1 for no samples. */
static inline double
median(double *v, int n)
{
	if (n <= 0)
		return -1.0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* A measured time, in ns or us by its size; negative: not measured. */
static inline void
row(const char *what, double ns)
{
	if (ns < 0)
		printf("  %-*s %13s\n", BENCH_LABEL_W, what, "n/a");
	else if (ns >= 100000.0)
		printf("  %-*s %10.1f us\n", BENCH_LABEL_W, what, ns / 1000.0);
	else if (ns >= 10000.0)
		printf("  %-*s %10.2f us\n", BENCH_LABEL_W, what, ns / 1000.0);
	else
		printf("  %-*s %10.1f ns\n", BENCH_LABEL_W, what, ns);
}

/* How many times (ours) fits in (peer); n/a when either is missing. */
static inline void
ratio(const char *what, double peer, double ours)
{
	if (peer < 0 || ours <= 0) {
		printf("  %-*s %11s\n", BENCH_LABEL_W, what, "n/a");
		return;
	}
	printf("  %-*s %10.1fx\n", BENCH_LABEL_W, what, peer / ours);
}

/* ------------------------------------------------------------ figures */

/* The program's name, the first field of every line. */
static inline const char *
bench_prog(void)
{
	return program_invocation_short_name;
}

static inline FILE *
bench_out(void)
{
	static FILE *f;
	static int tried;
	const char *path;

	if (!tried) {
		tried = 1;
		if ((path = getenv("GREENPROC_BENCH_OUT")) != NULL &&
		    *path != '\0' && (f = fopen(path, "a")) != NULL)
			setvbuf(f, NULL, _IOLBF, 0);
	}
	return f;
}

/*
 * One figure: (name) in (unit), and the name of the figure it is
 * compared with (peer; NULL or "" for none).  Not measured (negative):
 * not written.  Names hold no tab or newline.
 *	fig <TAB> prog <TAB> name <TAB> unit <TAB> value <TAB> peer
 */
static inline void
fig(const char *name, const char *unit, double value, const char *peer)
{
	FILE *f = bench_out();

	if (f == NULL || value < 0)
		return;
	fprintf(f, "fig\t%s\t%s\t%s\t%.6g\t%s\n", bench_prog(), name, unit,
	    value, peer != NULL ? peer : "");
}

/*
 * One point of a plotted series: (y) in (yunit) at (x) in (xunit).
 *	point <TAB> prog <TAB> series <TAB> xunit <TAB> x <TAB> yunit <TAB> y
 */
static inline void
point(const char *series, const char *xunit, double x, const char *yunit,
    double y)
{
	FILE *f = bench_out();

	if (f == NULL || y < 0)
		return;
	fprintf(f, "point\t%s\t%s\t%s\t%.6g\t%s\t%.6g\n", bench_prog(),
	    series, xunit, x, yunit, y);
}

/* ------------------------------------------------------------ budget */

/*
 * make bench keeps to a few minutes (README): the largest sizes (1M
 * green processes, bench_proc's climb) are opt-in with BENCH_BIG=1 in
 * the environment, or stop where a time budget runs out.
 */
static inline int
bench_big(void)
{
	const char *v = getenv("BENCH_BIG");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* ------------------------------------------------------------ quiet */

#ifndef QUIET_MAX_PCT
#define QUIET_MAX_PCT	5.0	/* steal or foreign CPU share: noisy above */
#endif
#define QUIET_MAX_SPREAD 1.15	/* slowest / fastest probe: noisy above */
#define PROBE_NODES	4096	/* 64 KiB: beyond L1, within L2 */
#define PROBE_STEPS	200000	/* ~0.5 ms a sample */
#define PROBE_CPUS	64	/* CPUs probed at most */

/*
 * The probe's work: PROBE_STEPS indirect calls to one of four small
 * functions, each found by a load through a random cyclic permutation of
 * PROBE_NODES nodes.  The same every run (a fixed seed), so its time
 * moves only with the CPU under it.
 */
struct probe_node {
	struct probe_node *next;
	unsigned	(*fn)(unsigned);
};

static __attribute__((noinline)) unsigned probe_f0(unsigned x) { return x + 1; }
static __attribute__((noinline)) unsigned probe_f1(unsigned x) { return x ^ 3; }
static __attribute__((noinline)) unsigned probe_f2(unsigned x) { return x * 5; }
static __attribute__((noinline)) unsigned probe_f3(unsigned x) { return x >> 1; }

/* ns per step, the best of 3 samples on the CPU we run on; -1: no memory. */
static inline double
speed_probe_here(void)
{
	static struct probe_node *nodes;
	static unsigned (*const fns[4])(unsigned) = {
		probe_f0, probe_f1, probe_f2, probe_f3 };
	unsigned perm[PROBE_NODES], i, j, t, x = 1, seed = 12345;
	double best = -1, ns;
	struct probe_node *n;
	uint64_t t0;
	int r;

	if (nodes == NULL) {
		if ((nodes = calloc(PROBE_NODES, sizeof(*nodes))) == NULL)
			return -1;
		for (i = 0; i < PROBE_NODES; i++)
			perm[i] = i;
		for (i = PROBE_NODES - 1; i > 0; i--) {
			seed = seed * 1103515245u + 12345u;
			j = (seed >> 8) % (i + 1);
			t = perm[i], perm[i] = perm[j], perm[j] = t;
		}
		for (i = 0; i < PROBE_NODES; i++) {
			nodes[perm[i]].next = &nodes[perm[(i + 1) % PROBE_NODES]];
			nodes[perm[i]].fn = fns[(perm[i] * 7u) % 4];
		}
	}
	for (r = 0; r < 3; r++) {
		n = nodes;
		t0 = now_ns();
		for (i = 0; i < PROBE_STEPS; i++) {
			x = n->fn(x);
			n = n->next;
		}
		ns = (double)(now_ns() - t0) / PROBE_STEPS;
		if (best < 0 || ns < best)
			best = ns;
	}
	__asm__ volatile("" : : "r"(x), "r"(n));
	return best;
}

/*
 * The probe on each CPU we may run on, the calling thread pinned there
 * for the while and given its own mask back after (bench programs call
 * it before they start workers, which would inherit a pin).  Returns
 * the number of CPUs probed; v[k] their ns per step.
 */
static inline int
speed_probe(double *v)
{
	cpu_set_t mine, one;
	int cpu, k = 0;

	if (sched_getaffinity(0, sizeof(mine), &mine) != 0) {
		v[0] = speed_probe_here();
		return v[0] < 0 ? 0 : 1;
	}
	for (cpu = 0; cpu < CPU_SETSIZE && k < PROBE_CPUS; cpu++) {
		if (!CPU_ISSET(cpu, &mine))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			continue;
		if ((v[k] = speed_probe_here()) >= 0)
			k++;
	}
	(void)sched_setaffinity(0, sizeof(mine), &mine);
	return k;
}

struct quiet_snap {
	double	 busy;		/* jiffies: user nice system irq softirq */
	double	 steal;
	double	 total;		/* every field of the cpu line */
	double	 own;		/* our CPU time and our reaped children's, s */
	double	 load1;
	uint64_t t;
};

static struct {
	struct quiet_snap b, e;
	int		 ended;
	double		 steal_pct, foreign_pct;
	double		 probe[2][PROBE_CPUS];	/* begin, end: ns a step */
	int		 nprobe[2];
	double		 spread;	/* slowest / fastest probe sample */
} quiet __attribute__((unused));

static inline int
quiet_noisy(void)
{
	return quiet.steal_pct > QUIET_MAX_PCT ||
	    quiet.foreign_pct > QUIET_MAX_PCT || quiet.steal_pct < 0 ||
	    quiet.spread > QUIET_MAX_SPREAD;
}

static inline void
quiet_snap(struct quiet_snap *s)
{
	unsigned long long v[10] = { 0 };
	struct rusage ru, rc;
	FILE *f;
	int i;

	memset(s, 0, sizeof(*s));
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu "
		    "%llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		    &v[6], &v[7], &v[8], &v[9]) < 8)
			memset(v, 0, sizeof(v));
		fclose(f);
	}
	/* user nice system idle iowait irq softirq steal guest guest_nice:
	 * guest time is already in user. */
	s->busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]);
	s->steal = (double)v[7];
	for (i = 0; i < 8; i++)
		s->total += (double)v[i];
	getrusage(RUSAGE_SELF, &ru);
	getrusage(RUSAGE_CHILDREN, &rc);
	s->own = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    rc.ru_utime.tv_sec + rc.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec +
	    rc.ru_utime.tv_usec + rc.ru_stime.tv_usec) / 1e6;
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%lf", &s->load1) != 1)
			s->load1 = -1;
		fclose(f);
	}
	s->t = now_ns();
}

static inline void
quiet_begin(void)
{
	quiet.nprobe[0] = speed_probe(quiet.probe[0]);
	quiet_snap(&quiet.b);
	quiet.ended = 0;
}

/* The probe's samples, begin then end, as "cpu0 2.1/2.1, cpu1 ..." */
static inline void
quiet_probe_line(char *buf, size_t len)
{
	double lo = -1, hi = -1, x;
	size_t off = 0;
	int i, k;

	buf[0] = '\0';
	for (k = 0; k < quiet.nprobe[0] || k < quiet.nprobe[1]; k++) {
		for (i = 0; i < 2; i++) {
			if (k >= quiet.nprobe[i])
				continue;
			x = quiet.probe[i][k];
			lo = lo < 0 || x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off,
			    "%s%.2f/%.2f", k == 0 ? "" : ", ",
			    k < quiet.nprobe[0] ? quiet.probe[0][k] : -1.0,
			    k < quiet.nprobe[1] ? quiet.probe[1][k] : -1.0);
	}
	quiet.spread = lo > 0 ? hi / lo : 0;
}

/*
 * Ends the window (once: later calls keep the first), prints one line
 * and records the figures.  Foreign CPU: all busy CPU time less ours
 * (jiffies are 1/sysconf(_SC_CLK_TCK) s).
 */
static inline void
quiet_end(void)
{
	double dt, hz = (double)sysconf(_SC_CLK_TCK), foreign;

	char probes[256];

	if (quiet.ended)
		return;
	quiet.ended = 1;
	quiet_snap(&quiet.e);
	quiet.nprobe[1] = speed_probe(quiet.probe[1]);
	quiet_probe_line(probes, sizeof(probes));
	dt = quiet.e.total - quiet.b.total;
	if (dt <= 0 || hz <= 0) {
		quiet.steal_pct = quiet.foreign_pct = -1;
	} else {
		quiet.steal_pct = 100.0 * (quiet.e.steal - quiet.b.steal) / dt;
		foreign = (quiet.e.busy - quiet.b.busy) -
		    (quiet.e.own - quiet.b.own) * hz;
		quiet.foreign_pct = foreign > 0 ? 100.0 * foreign / dt : 0.0;
	}
	printf("\nmachine during %s (%.1f s): steal %.1f %%, other work "
	    "%.1f %% of all CPU time, loadavg %.2f -> %.2f: %s\n", bench_prog(),
	    (double)(quiet.e.t - quiet.b.t) / 1e9, quiet.steal_pct,
	    quiet.foreign_pct, quiet.b.load1, quiet.e.load1,
	    quiet_noisy() ? "NOISY (targets not judged)" : "quiet");
	printf("CPU speed probe, ns a step on each CPU at start/end: %s; "
	    "slowest / fastest %.2f%s\n", probes, quiet.spread,
	    quiet.spread > QUIET_MAX_SPREAD ? " (uneven: NOISY)" : "");
	fig("steal time", "%", quiet.steal_pct, NULL);
	fig("CPU speed probe, slowest / fastest", "", quiet.spread, NULL);
	fig("other work on the machine", "% CPU", quiet.foreign_pct, NULL);
	fig("loadavg at start", "", quiet.b.load1, NULL);
	fig("loadavg at end", "", quiet.e.load1, NULL);
}

/*
 * A target: (v) in (unit) against (goal), met when v <= goal (le) or
 * v >= goal (!le); negative v: not measured.  On a noisy run: not judged.
 * Recorded as a line of its own:
 *	target <TAB> prog <TAB> name <TAB> unit <TAB> value <TAB> op <TAB>
 *	goal <TAB> verdict
 */
static inline void
judge(const char *what, double v, double goal, const char *unit, int le)
{
	const char *verdict;

	quiet_end();
	if (v < 0)
		verdict = "not measured";
	else if (quiet_noisy())
		verdict = "not judged: noisy";
	else
		verdict = (le ? v <= goal : v >= goal) ? "met" : "missed";
	printf("  %-*s %10.*f %-5s (target %s %g %s: %s)\n", BENCH_LABEL_W,
	    what, v < 10.0 ? 2 : 1, v, unit, le ? "<=" : ">=", goal, unit,
	    verdict);
	if (bench_out() != NULL)
		fprintf(bench_out(), "target\t%s\t%s\t%s\t%.6g\t%s\t%g\t%s\n",
		    bench_prog(), what, unit, v, le ? "<=" : ">=", goal,
		    verdict);
}

#endif /* GREENPROC_BENCHUTIL_H */
