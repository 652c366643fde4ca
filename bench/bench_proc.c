/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_proc.c -- green processes against fork, vfork, pthreads and the
 * kernel's waitpid(-1).
 *
 * Four measurements, each a median of several runs unless said
 * otherwise; every peer is measured in the same run:
 *
 * 1. Round trip: gp_spawn of a child that returns 0, then gp_waitpid of
 *    its pid; ns per round trip.  From a green parent (a process spawned
 *    by the host runs the loop) on 1 and on 2 workers, and from the host
 *    thread.  Peers: fork + _exit + waitpid, vfork + _exit + waitpid,
 *    pthread_create + pthread_join.  The host thread's round trip is a
 *    cross-CPU hand-off (the child runs on a worker thread): beside it,
 *    what such a hand-off costs on this machine at the least (two threads
 *    passing one cache line back and forth), and the round trip with the
 *    host thread and its worker forced onto one CPU (then every hand-off
 *    is a switch of kernel threads).
 *
 * 2. wait(any) with N children, green N = 1k, 4k, 16k and the climb
 *    (128k, 512k, 1M while a time budget lasts: green_climb()) against the
 *    kernel's N = 256, 1k, 4k real children (its cost per call grows
 *    with N already there; 16k real children took most of a minute and
 *    told nothing more).  One batch of N children
 *    gives two numbers:
 *	any-of-live	the K newest children (N/4, at most 256: enough waits
 *			per round to time) exit while the N-K older ones
 *			stay alive (blocked); then K waits for any child are
 *			timed.  This is the case that costs the kernel a scan
 *			of its children list (oldest first) on every wait.
 *	drain		then the N-K others exit too; once all of them are
 *			zombies, N-K waits for any child are timed.  The
 *			kernel finds a zombie at the head of its list here,
 *			so this is its cheap case.
 *    Green children sleep (gp_nanosleep) until deadlines their parent
 *    publishes once it has spawned them all: the probes' leaves time for
 *    every child to run once and fall asleep (from the first-run cost
 *    seen so far), the older ones' time to reap the probes.  A round
 *    where a child had not started, or an older one exited, before the
 *    probes were reaped is discarded (and retried), not reported.  Real
 *    children sleep in pause() until the parent SIGKILLs them; the timing
 *    starts only once /proc says that each one to be reaped is a zombie.
 *    Medians of a few rounds; one round per N of the climb and for the
 *    kernel at 4k (its forks cost most of the time, and it is ~1000x).
 *    Green: 1 worker, the parent is a green process.  It stays 1: the
 *    parent yields every 2 ms while it spawns (spawn_pace), or the
 *    watchdog would take the spawn loop for a stuck worker and start a
 *    spare, which steals the children (issue 18's spikes).  The kernel
 *    peer's precondition holds: on one worker an exit counted is a
 *    zombie, so no timed wait sleeps; a round in which one did, or a
 *    spare ran, is discarded (and retried in a fresh runtime).
 *    BENCH_PROC_WAIT=rounds prints every round of 1k-16k and what
 *    happened in it (wait_debug_main).  The wait target
 *    applies to any-of-live, the measure (N live children, one
 *    waitable); drain is reported without one: N zombies that went cold,
 *    reaped in random order, cost a few cache and TLB misses each.
 *
 * 3. RSS per idle green process: VmRSS before and after spawning the
 *    children of each N of the climb (all alive and asleep when it is
 *    read), in a fresh runtime so that no cached stack hides a page; the
 *    same at 1k and 16k (one round each) for the plot.  The target is
 *    judged at the largest N reached (1M with BENCH_BIG=1).  Also
 *    vm.max_map_count, whether MADV_GUARD_INSTALL works here, and the
 *    number of mappings with the largest N alive.
 *
 * 4. Independent spawn trees: ROOTS processes spawned by the host, each
 *    running the same number of spawn + wait of its own children (sized
 *    for ~150 ms on 1 worker); wall-clock time of the whole with
 *    gp_init(1), gp_init(2) and gp_init(4).
 *
 * The kernel peers run before the first gp_init(), so that no worker
 * competes with them and fork copies a small process.  Every figure is
 * also recorded for results.json (benchutil.h), with the plots' series:
 * wait(any) and RSS against N, spawn throughput against workers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"
#define BENCH_LABEL_W	56
#include "benchutil.h"

#define RUNS		7
#define RUN_NS		30000000.0	/* round trip runs: ~30 ms each */
#define RT_MIN		1000L
#define RT_MAX		1000000L
#define FORK_N		200L		/* was 500: ~100 us each, 5 runs */
#define VFORK_N		1000L
#define PT_N		2000L
#define PEER_RUNS	5

#define WAIT_ROUNDS	5		/* green 1k, 4k, 16k */
#define KWAIT_ROUNDS	3		/* kernel 256, 1k; 4k: KWAIT_BIG */
#define KWAIT_BIG	1		/* 4k: its 4096 forks were most of
					 * bench_proc; ~1000x green's cost
					 * needs no median to be seen */
#define NKN		3		/* kernel Ns */
#define NGN		3		/* green Ns below 1M */
#define NRSS		2		/* RSS rounds below the climb */
#define BIG_N		(1L << 20)	/* "1M": the top of the climb */
#define CLIMB_N0	(1L << 17)	/* the climb's first N: 128k */
#define CLIMB_S		20.0		/* its budget, s (BENCH_BIG=1: none) */
#define CLIMB_MAX	4		/* 128k, 512k, 1M */

#define ROOTS		4
#define TREE_NS		150000000.0	/* a 1-worker tree run: ~150 ms */
#define TREE_RUNS	3

#define TARGET_GREEN_RT	50.0		/* issue 18 and DESIGN's budget */
#define TARGET_HOST_RT	1000.0
#define TARGET_WAIT	100.0
#define TARGET_RSS_KIB	4.3
#define TARGET_SPEEDUP	1.8

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

static void
die(const char *what)
{
	fprintf(stderr, "bench_proc: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

static long
vmrss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long
count_lines(const char *path)
{
	long n = 0;
	FILE *f;
	int c;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static long
read_long(const char *path)
{
	long v = -1;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The first three fields of /proc/loadavg. */
static void
read_loadavg(char *buf, size_t len)
{
	double a = -1, b = -1, c = -1;
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
			a = b = c = -1;
		fclose(f);
	}
	snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
}

/* Sleep until CLOCK_MONOTONIC reads (t): parks a green caller. */
static void
sleep_until(uint64_t t)
{
	struct timespec ts;
	uint64_t now;

	while ((now = now_ns()) < t) {
		ts.tv_sec = (time_t)((t - now) / 1000000000ULL);
		ts.tv_nsec = (long)((t - now) % 1000000000ULL);
		gp_nanosleep(&ts, NULL);
	}
}

static void
stats(struct gp_counters *s)
{
	if (gp_stats(s) != 0)
		die("gp_stats");
}

/* ====================================================== 1. round trip */

/* --- kernel and pthread peers --- */

/* A child that exits at once, by fork(). */
static pid_t
fork_one(void)
{
	pid_t pid;

	if ((pid = fork()) == 0)
		_exit(0);
	return pid;
}

/* Its own frame, so that nothing of the loop is live across vfork(). */
static __attribute__((noinline)) pid_t
vfork_one(void)
{
	pid_t pid;

	if ((pid = vfork()) == 0)
		_exit(0);
	return pid;
}

/* (n) children made by (one) and reaped with waitpid: ns per child. */
static double
bench_forklike(pid_t (*one)(void), long n, const char *what)
{
	double v[PEER_RUNS];
	uint64_t t0;
	pid_t pid;
	long i;
	int r, st;

	for (r = 0; r < PEER_RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if ((pid = one()) < 0)
				die(what);
			if (waitpid(pid, &st, 0) != pid)
				die("waitpid");
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	return median(v, PEER_RUNS);
}

static void *
pt_nop(void *arg)
{
	return arg;
}

static double
bench_pthread(void)
{
	double v[PEER_RUNS];
	pthread_t t;
	uint64_t t0;
	long i;
	int r;

	for (r = 0; r < PEER_RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < PT_N; i++) {
			if ((errno = pthread_create(&t, NULL, pt_nop, NULL)) != 0)
				die("pthread_create");
			pthread_join(t, NULL);
		}
		v[r] = (double)(now_ns() - t0) / PT_N;
	}
	return median(v, PEER_RUNS);
}

/* --- greenproc --- */

static int
ret_zero(void *arg)
{
	(void)arg;
	return 0;
}

struct rt_loop {
	long		 n;
	uint64_t	 ns;
	int		 failed;	/* 0, or the errno of the first failure */
	int		 bad_status;
};

/* A green parent: n round trips. */
static int
rt_parent(void *arg)
{
	struct rt_loop *rl = arg;
	uint64_t t0;
	pid_t pid;
	long i;
	int st;

	t0 = now_ns();
	for (i = 0; i < rl->n; i++) {
		if ((pid = gp_spawn(ret_zero, NULL, NULL)) < 0) {
			rl->failed = errno;
			return 1;
		}
		if (gp_waitpid(pid, &st, 0) != pid) {
			rl->failed = errno;
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rl->bad_status++;
	}
	rl->ns = now_ns() - t0;
	return 0;
}

static double
green_rt_run(long n)
{
	struct rt_loop rl = { .n = n };
	pid_t pid;
	int st;

	if ((pid = gp_spawn(rt_parent, &rl, NULL)) < 0)
		die("gp_spawn");
	if (gp_waitpid(pid, &st, 0) != pid)
		die("gp_waitpid");
	if (rl.failed != 0 || rl.bad_status != 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_proc: green round trip: %s, %d bad "
		    "statuses, parent status %#x\n", strerror(rl.failed),
		    rl.bad_status, st);
		exit(1);
	}
	return (double)rl.ns / (double)n;
}

static double
host_rt_run(long n)
{
	uint64_t t0;
	pid_t pid;
	long i;
	int st;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if ((pid = gp_spawn(ret_zero, NULL, NULL)) < 0)
			die("gp_spawn (host)");
		if (gp_waitpid(pid, &st, 0) != pid)
			die("gp_waitpid (host)");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench_proc: host round trip: status "
			    "%#x\n", st);
			exit(1);
		}
	}
	return (double)(now_ns() - t0) / (double)n;
}

/*
 * The floor of a cross-CPU hand-off: two threads pass one cache line back
 * and forth (store, spin until the other stores back); ns per round trip.
 */
#define PINGPONG_N	200000L

static _Atomic int pingpong_line __attribute__((aligned(64)));

static void *
pingpong_peer(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < PINGPONG_N; i++) {
		while (atomic_load_explicit(&pingpong_line,
		    memory_order_acquire) != 1)
			;
		atomic_store_explicit(&pingpong_line, 0, memory_order_release);
	}
	return NULL;
}

static double
bench_pingpong(void)
{
	double r[RUNS];
	pthread_t t;
	uint64_t t0;
	long i;
	int k;

	for (k = 0; k < RUNS; k++) {
		if (pthread_create(&t, NULL, pingpong_peer, NULL) != 0)
			die("pthread_create");
		t0 = now_ns();
		for (i = 0; i < PINGPONG_N; i++) {
			atomic_store_explicit(&pingpong_line, 1,
			    memory_order_release);
			while (atomic_load_explicit(&pingpong_line,
			    memory_order_acquire) != 0)
				;
		}
		r[k] = (double)(now_ns() - t0) / (double)PINGPONG_N;
		pthread_join(t, NULL);
	}
	return median(r, RUNS);
}

/*
 * The host thread's round trip with the host thread and its one worker on
 * the same CPU: gp_init's threads inherit the caller's affinity.
 */
static double
bench_host_one_cpu(long n)
{
	cpu_set_t all, one;
	double r[RUNS];
	int k, cpu;

	if (sched_getaffinity(0, sizeof(all), &all) != 0 ||
	    (cpu = sched_getcpu()) < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		return -1;
	if (gp_init(1) != 0)
		die("gp_init");
	(void)host_rt_run(n / 10);		/* warm */
	for (k = 0; k < RUNS; k++)
		r[k] = host_rt_run(n);
	if (gp_shutdown() != 0)
		die("gp_shutdown");
	(void)sched_setaffinity(0, sizeof(all), &all);
	return median(r, RUNS);
}

/* Round trips per run for runs of about RUN_NS, from a first guess. */
static long
rt_count(double ns)
{
	double n = RUN_NS / (ns > 1.0 ? ns : 1.0);

	return n < RT_MIN ? RT_MIN : n > RT_MAX ? RT_MAX : (long)n;
}

struct rt_result {
	long	 nworkers;
	long	 green_n;	/* round trips per run */
	long	 host_n;
	double	 green_ns;
	double	 host_ns;
	double	 sw_per_rt;	/* context switches per green round trip */
};

static void
bench_roundtrip(int nworkers, struct rt_result *res)
{
	double g[RUNS], h[RUNS];
	struct gp_counters s0, s1;
	int i;

	if (gp_init(nworkers) != 0)
		die("gp_init");
	stats(&s0);
	res->nworkers = s0.nworkers;
	/* Warm the caches and size the runs (twice: the first is cold). */
	res->green_n = rt_count(green_rt_run(RT_MIN));
	res->green_n = rt_count(green_rt_run(res->green_n));
	res->host_n = rt_count(host_rt_run(RT_MIN));
	res->host_n = rt_count(host_rt_run(res->host_n));
	stats(&s0);
	for (i = 0; i < RUNS; i++)
		g[i] = green_rt_run(res->green_n);
	stats(&s1);
	res->sw_per_rt = (double)(s1.switches - s0.switches) /
	    ((double)RUNS * (double)res->green_n);
	for (i = 0; i < RUNS; i++)
		h[i] = host_rt_run(res->host_n);
	res->green_ns = median(g, RUNS);
	res->host_ns = median(h, RUNS);
	if (gp_shutdown() != 0)
		die("gp_shutdown");
}

/* ====================================================== 2. wait(any) */

/* --- the kernel: real children --- */

/* The state letter of /proc/<pid>/stat, or 0. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2];
}

static void
wait_zombies(const pid_t *pids, long n)
{
	long i;

	for (i = 0; i < n; i++)
		while (proc_state(pids[i]) != 'Z')
			usleep(100);
}

struct kwait {
	long	 n;		/* asked for */
	long	 forked;	/* got */
	int	 fork_errno;	/* why fewer */
	long	 k;
	double	 live_ns;	/* per wait, K zombies among N-K live */
	double	 drain_ns;	/* per wait, all zombies */
	int	 wrong;		/* a wait returned an unexpected pid */
};

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void
kernel_wait_round(struct kwait *kw)
{
	pid_t *pids, *got, pid, parent = getpid();
	uint64_t t0;
	long i, n, k;
	int st;

	if ((pids = malloc((size_t)kw->n * sizeof(*pids))) == NULL ||
	    (got = malloc((size_t)kw->n * sizeof(*got))) == NULL)
		die("malloc");
	memset(got, 0, (size_t)kw->n * sizeof(*got));	/* as the green one */
	fflush(NULL);
	kw->fork_errno = 0;
	for (n = 0; n < kw->n; n++) {
		if ((pid = fork()) < 0) {
			kw->fork_errno = errno;
			break;
		}
		if (pid == 0) {
			/* Never outlive an interrupted benchmark. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			for (;;)
				pause();
		}
		pids[n] = pid;
	}
	kw->forked = n;
	k = kw->k < n / 2 ? kw->k : n / 2;

	/* The K newest exit: they sit at the tail of the children list. */
	for (i = n - k; i < n; i++)
		kill(pids[i], SIGKILL);
	wait_zombies(pids + n - k, k);
	t0 = now_ns();
	for (i = 0; i < k; i++)
		got[i] = waitpid(-1, &st, 0);
	kw->live_ns = k > 0 ? (double)(now_ns() - t0) / (double)k : -1.0;

	/* Every one returned must be one of the K. */
	qsort(got, (size_t)k, sizeof(*got), cmp_pid);
	qsort(pids + n - k, (size_t)k, sizeof(*pids), cmp_pid);
	kw->wrong += memcmp(got, pids + n - k, (size_t)k * sizeof(*got)) != 0;

	/* Then the rest, all zombies before the clock starts. */
	for (i = 0; i < n - k; i++)
		kill(pids[i], SIGKILL);
	wait_zombies(pids, n - k);
	t0 = now_ns();
	for (i = 0; i < n - k; i++)
		got[i] = waitpid(-1, &st, 0);
	kw->drain_ns = n - k > 0 ? (double)(now_ns() - t0) / (double)(n - k) :
	    -1.0;
	for (i = 0; i < n - k; i++)
		kw->wrong += got[i] <= 0;
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		kw->wrong++;
	free(pids);
	free(got);
}

static void
bench_kernel_wait(long n, int rounds, struct kwait *out)
{
	double live[KWAIT_ROUNDS], drain[KWAIT_ROUNDS];
	struct kwait kw;
	int r;

	memset(out, 0, sizeof(*out));
	out->n = n;
	out->forked = n;
	for (r = 0; r < rounds; r++) {
		memset(&kw, 0, sizeof(kw));
		kw.n = n;
		kw.k = n / 4 < 256 ? n / 4 : 256;
		kernel_wait_round(&kw);
		live[r] = kw.live_ns;
		drain[r] = kw.drain_ns;
		out->k = kw.k;
		out->wrong += kw.wrong;
		if (kw.forked < out->forked) {
			out->forked = kw.forked;
			out->fork_errno = kw.fork_errno;
		}
	}
	out->live_ns = median(live, rounds);
	out->drain_ns = median(drain, rounds);
}

/* --- greenproc --- */

/*
 * The children sleep until deadlines that the parent publishes after it
 * has spawned them all and before it first parks.  With one worker a
 * child first runs only once its parent parks, so it always finds them;
 * one that runs earlier (another worker stole it) waits for them.
 */
static struct {
	_Atomic uint64_t t_old;		/* the N-K older children */
	_Atomic uint64_t t_new;		/* the K newest */
	atomic_long	 started;
} g_dl;

static int
child_sleep(_Atomic uint64_t *deadline)
{
	struct timespec ts = { 0, 1000000 };
	uint64_t t;

	/*
	 * Polls, 1 ms at first, then twice as long each time up to 16 ms:
	 * up to hundreds of early children wait through a spawn phase that
	 * may last seconds (spawn_pace), and at 1 ms each their wakeups
	 * took the worker from the spawning parent.  A deadline seen up to
	 * 16 ms late only delays the exits, which the parent waits for.
	 */
	atomic_fetch_add(&g_dl.started, 1);
	while ((t = atomic_load(deadline)) == 0) {
		gp_nanosleep(&ts, NULL);
		if (ts.tv_nsec < 16000000)
			ts.tv_nsec *= 2;
	}
	sleep_until(t);
	return 0;
}

static int
old_child(void *arg)
{
	(void)arg;
	return child_sleep(&g_dl.t_old);
}

/*
 * BENCH_PROC_WAIT (wait_debug_main): what happened in a round, for the
 * report of every round.  Not used by make bench.
 */
static int wait_debug;			/* 1; 2: also count zombies */
static pid_t dbg_tids[256];		/* the threads the probes exited on */
static atomic_long dbg_ntids;

struct gwdebug {
	long	 stuck0;	/* stuck_workers at the round's start, */
	long	 stuck_spawned;	/* once all are spawned, */
	long	 stuck_t0;	/* and when the timed loop starts */
	long	 workers;	/* nworkers (spares included) at t0 */
	long	 steals;	/* unstarted children stolen, start to t0 */
	long	 remote;	/* probes that exited on another thread */
	long	 zombies;	/* probes waitable at t0 (mode 2 only) */
	/* In the timed loop: */
	long	 switches;	/* context switches (a wait that slept) */
	long	 slow;		/* waits over 1 us */
	double	 max_ns;	/* the slowest wait */
	double	 fast_ns;	/* mean of the others */
	long	 minflt;	/* page faults of the worker's thread */
	long	 nivcsw;	/* its preemptions by the kernel */
};

static int
new_child(void *arg)
{
	long i;

	(void)arg;
	(void)child_sleep(&g_dl.t_new);
	if (wait_debug && (i = atomic_fetch_add(&dbg_ntids, 1)) < 256)
		dbg_tids[i] = gettid();
	return 0;
}

struct gwait {
	/* in */
	long		 n;		/* children in all */
	long		 k;		/* of which the newest K exit first */
	double		 est_start_ns;	/* expected first-run cost per child */
	int		 rss;		/* read VmRSS once all are asleep */
	/* out */
	long		 spawned;
	int		 spawn_errno;	/* why fewer than n */
	double		 spawn_ns;	/* gp_spawn of a child, not run yet */
	double		 start_ns;	/* its first run, until it sleeps */
	double		 exit_ns;	/* deadline to zombie, per child */
	double		 live_ns;
	double		 drain_ns;
	long		 rss_before;	/* KiB */
	long		 rss_after;
	long		 alive_at_rss;
	long		 maps_at_rss;
	int		 invalid;	/* deadlines too short, or not on one
					 * worker: not measured */
	int		 spares;	/* a spare worker ran: start afresh */
	int		 wrong;		/* wrong pids, statuses or counts */
	int		 stuck;		/* zombies never showed up */
	struct gwdebug	 d;		/* BENCH_PROC_WAIT only */
};

static long
exits_since(const struct gp_counters *s0)
{
	struct gp_counters s;

	stats(&s);
	return (long)(s.exits - s0->exits);
}

/* Park until (want) children have exited since (s0), or until (limit). */
static int
await_exits(const struct gp_counters *s0, long want, uint64_t limit)
{
	struct timespec ms = { 0, 1000000 };

	while (exits_since(s0) < want) {
		if (now_ns() > limit)
			return -1;
		gp_nanosleep(&ms, NULL);
	}
	return 0;
}

/*
 * The diagnostics of BENCH_PROC_WAIT around and in the timed loop: the
 * runtime's counters and the worker thread's rusage, each wait timed on
 * its own, getppid() and getpgrp() as markers for strace -f (the loop's
 * system calls lie between).  Mode 2 also asks, with WNOWAIT, how many
 * probes are waitable zombies before the clock starts (which warms their
 * memory: not the benchmark's condition).
 */
static struct gp_counters dbg_s0;
static struct rusage dbg_ru0;

static void
wait_debug_begin(struct gwait *gw, const pid_t *probes, long k)
{
	siginfo_t si;
	long i;

	for (i = 0; i < k && i < atomic_load(&dbg_ntids); i++)
		gw->d.remote += dbg_tids[i] != gettid();
	if (wait_debug > 1)
		for (i = 0; i < k; i++) {
			memset(&si, 0, sizeof(si));
			if (gp_waitid(P_PID, (id_t)probes[i], &si, WEXITED |
			    WNOHANG | WNOWAIT) == 0 && si.si_pid == probes[i])
				gw->d.zombies++;
		}
	stats(&dbg_s0);
	gw->d.stuck_t0 = (long)dbg_s0.stuck_workers;
	gw->d.steals += (long)dbg_s0.steals;
	gw->d.workers = dbg_s0.nworkers;
	getrusage(RUSAGE_THREAD, &dbg_ru0);
}

static void
wait_debug_loop(struct gwait *gw, pid_t *got, long k)
{
	uint64_t a, b, fast = 0;
	long i;
	int st;

	(void)getppid();
	a = now_ns();
	for (i = 0; i < k; i++) {
		got[i] = gp_waitpid(-1, &st, 0);
		b = now_ns();
		if ((double)(b - a) > gw->d.max_ns)
			gw->d.max_ns = (double)(b - a);
		if (b - a > 1000)
			gw->d.slow++;
		else
			fast += b - a;
		a = b;
	}
	(void)getpgrp();
	gw->d.fast_ns = k > gw->d.slow ? (double)fast /
	    (double)(k - gw->d.slow) : -1.0;
}

static void
wait_debug_end(struct gwait *gw)
{
	struct gp_counters s;
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	stats(&s);
	gw->d.switches = (long)(s.switches - dbg_s0.switches);
	gw->d.minflt = ru.ru_minflt - dbg_ru0.ru_minflt;
	gw->d.nivcsw = ru.ru_nivcsw - dbg_ru0.ru_nivcsw;
}

static void
wait_debug_print(long n, int r, const struct gwait *gw)
{
	const struct gwdebug *d = &gw->d;

	printf("N=%-5ld r=%-2d live %6.1f ns%s | spawn %6.0f ns stuck "
	    "%ld/%ld/%ld workers %ld steals %5ld remote %3ld zombies %3ld | "
	    "sw %ld slow %2ld max %6.0f fast %6.1f flt %ld nivcsw %ld\n", n,
	    r, gw->live_ns, gw->invalid ? " INVALID" : "", gw->spawn_ns,
	    d->stuck0, d->stuck_spawned, d->stuck_t0, d->workers, d->steals,
	    d->remote, d->zombies, d->switches, d->slow, d->max_ns,
	    d->fast_ns, d->minflt, d->nivcsw);
}

/*
 * Spawning N children holds the worker with every new one queued behind
 * the parent.  Past 10 ms of that the watchdog calls the worker stuck
 * and starts a spare (ARCHITECTURE 24), which steals the children: from
 * then on "1 worker" is 2 or 3 until gp_shutdown, the probes exit on
 * another CPU, and the parent reaps zombies whose every line sits in
 * the other CPU's cache (issue 18's spikes: 3-5x, in the rounds where
 * the spare took the probes).  A cold spawn (a stack never used) costs
 * 3-40 us, so 1k of them can take over 10 ms.  So the parent yields
 * every SPAWN_SLICE_NS: the worker switches (a queued child runs once
 * and sleeps), and the watchdog sees it move.  Checked every 64 spawns.
 */
#define SPAWN_SLICE_NS	2000000ULL

static void
spawn_pace(long n, uint64_t *last)
{
	uint64_t t;

	if ((n & 63) != 63 || (t = now_ns()) - *last < SPAWN_SLICE_NS)
		return;
	gp_yield();
	*last = now_ns();
}

static int
gwait_parent(void *arg)
{
	struct gwait *gw = arg;
	struct timespec ms = { 0, 1000000 };
	struct gp_counters s0, sw0, sw1;
	uint64_t t0, t1, t_old, t_new, budget, paced;
	pid_t *probes, *got, pid;
	long i, n, k, nold, reaped = 0;
	int st;

	k = gw->k;
	nold = gw->n - k;
	if ((probes = malloc((size_t)k * sizeof(*probes))) == NULL ||
	    (got = malloc((size_t)k * sizeof(*got))) == NULL) {
		gw->wrong++;
		return 1;
	}
	/*
	 * Touched now: a first touch inside the timed loop (~12 us here)
	 * would weigh as much as 200 of its waits.
	 */
	memset(got, 0, (size_t)k * sizeof(*got));
	atomic_store(&g_dl.t_old, 0);
	atomic_store(&g_dl.t_new, 0);
	atomic_store(&g_dl.started, 0);
	atomic_store(&dbg_ntids, 0);
	stats(&s0);
	gw->d.stuck0 = (long)s0.stuck_workers;
	gw->d.steals = -(long)s0.steals;
	if (gw->rss)
		gw->rss_before = vmrss_kib();

	/* N-K older children, then the K newest: the probes. */
	t0 = paced = now_ns();
	for (n = 0; n < nold; n++) {
		if (gp_spawn(old_child, NULL, NULL) < 0) {
			gw->spawn_errno = errno;
			break;
		}
		spawn_pace(n, &paced);
	}
	nold = n;
	for (i = 0; i < k && gw->spawn_errno == 0; i++) {
		if ((probes[i] = gp_spawn(new_child, NULL, NULL)) < 0) {
			gw->spawn_errno = errno;
			break;
		}
		spawn_pace(i, &paced);
	}
	k = i;
	t1 = now_ns();
	if (wait_debug) {
		struct gp_counters sd;

		stats(&sd);
		gw->d.stuck_spawned = (long)sd.stuck_workers;
	}
	gw->spawned = nold + k;
	gw->spawn_ns = gw->spawned > 0 ?
	    (double)(t1 - t0) / (double)gw->spawned : -1.0;

	/*
	 * Deadlines: the probes once every child has had time to run and
	 * fall asleep; the older ones well after the probes are reaped.
	 */
	budget = (uint64_t)((double)gw->spawned * gw->est_start_ns * 2.5) +
	    50000000ULL;
	t_new = t1 + budget;
	t_old = t_new + 100000000ULL + (uint64_t)gw->spawned * 100;
	atomic_store(&g_dl.t_new, t_new);
	atomic_store(&g_dl.t_old, t_old);

	/* Let them all run once and fall asleep. */
	while (atomic_load(&g_dl.started) < gw->spawned && now_ns() < t_new)
		gp_nanosleep(&ms, NULL);
	t0 = now_ns();
	gw->start_ns = gw->spawned > 0 ?
	    (double)(t0 - t1) / (double)gw->spawned : -1.0;
	if (atomic_load(&g_dl.started) < gw->spawned || exits_since(&s0) != 0)
		gw->invalid = 1;
	if (gw->rss) {
		gw->rss_after = vmrss_kib();
		gw->maps_at_rss = count_lines("/proc/self/maps");
		gw->alive_at_rss = gw->spawned - exits_since(&s0);
	}

	/* The K probes exit; the older ones must all still be alive. */
	if (gw->invalid || await_exits(&s0, k, t_old) != 0 ||
	    now_ns() + 1000000 > t_old) {
		gw->invalid = 1;
		gw->live_ns = -1.0;
	} else {
		if (wait_debug)
			wait_debug_begin(gw, probes, k);
		stats(&sw0);
		t0 = now_ns();
		if (wait_debug)
			wait_debug_loop(gw, got, k);
		else
			for (i = 0; i < k; i++)
				got[i] = gp_waitpid(-1, &st, 0);
		t1 = now_ns();
		stats(&sw1);
		if (wait_debug)
			wait_debug_end(gw);
		reaped = k;
		gw->live_ns = k > 0 ? (double)(t1 - t0) / (double)k : -1.0;
		/*
		 * The kernel peer's precondition: each of the K a zombie
		 * when the clock starts.  On one worker, an exit counted is
		 * a zombie (exit1 counts it and makes the zombie in one run
		 * of the dying LWP), so no wait sleeps -- unless a spare ran
		 * the probes.  A wait that slept, or a spare: not measured.
		 */
		gw->spares = sw0.nworkers > 1 || sw1.nworkers > 1;
		if (exits_since(&s0) != k || gw->spares ||
		    sw1.switches != sw0.switches) {
			gw->invalid = 1;
			gw->live_ns = -1.0;
		}
		qsort(got, (size_t)k, sizeof(*got), cmp_pid);
		qsort(probes, (size_t)k, sizeof(*probes), cmp_pid);
		gw->wrong += memcmp(got, probes, (size_t)k * sizeof(*got)) != 0;
	}

	/* Then every other one, once all are zombies. */
	sleep_until(t_old);
	if (await_exits(&s0, gw->spawned, t_old + 60000000000ULL) != 0) {
		gw->stuck = 1;
		fprintf(stderr, "bench_proc: only %ld of %ld children exited "
		    "within 60 s of their deadline\n", exits_since(&s0),
		    gw->spawned);
	}
	n = gw->spawned - reaped;
	gw->exit_ns = n > 0 ? (double)(now_ns() - t_old) / (double)n : -1.0;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if ((pid = gp_waitpid(-1, &st, 0)) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			gw->wrong++;
	t1 = now_ns();
	gw->drain_ns = n > 0 ? (double)(t1 - t0) / (double)n : -1.0;
	if (gp_waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		gw->wrong++;
	free(probes);
	free(got);
	return 0;
}

static void
green_wait_round(struct gwait *gw)
{
	pid_t pid;
	int st;

	if ((pid = gp_spawn(gwait_parent, gw, NULL)) < 0)
		die("gp_spawn");
	if (gp_waitpid(pid, &st, 0) != pid)
		die("gp_waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		gw->wrong++;
}

struct gwait_result {
	long	 n;
	long	 k;
	int	 rounds;	/* valid ones */
	double	 live_ns;
	double	 drain_ns;
	double	 spawn_ns;
	double	 start_ns;
	int	 invalid;
	int	 wrong;
	struct gwait last;
};

/*
 * (rounds) rounds with (n) children, and one or two more if a round's
 * deadlines were too short; *est is the first-run cost per child seen so
 * far, raised by what these rounds see.
 */
static void
bench_green_wait(long n, int rounds, double *est, int rss,
    struct gwait_result *res)
{
	double live[WAIT_ROUNDS], drain[WAIT_ROUNDS], sp[WAIT_ROUNDS],
	    st[WAIT_ROUNDS];
	struct gwait gw;
	int r, tries, maxtries = rounds + (rounds > 1 ? 2 : 1);

	memset(res, 0, sizeof(*res));
	res->n = n;
	for (r = tries = 0; r < rounds && tries < maxtries; tries++) {
		memset(&gw, 0, sizeof(gw));
		gw.n = n;
		gw.k = n / 4 < 256 ? n / 4 : 256;
		gw.est_start_ns = *est;
		gw.rss = rss;
		green_wait_round(&gw);
		if (wait_debug)
			wait_debug_print(n, tries, &gw);
		res->k = gw.k;
		res->wrong += gw.wrong + gw.stuck;
		res->last = gw;
		if (gw.start_ns > *est)
			*est = gw.start_ns;
		if (gw.invalid) {
			res->invalid++;
			/*
			 * RSS wants a fresh runtime: no stack cached.  A
			 * spare worker stays until gp_shutdown.
			 */
			if ((rss || gw.spares) && (gp_shutdown() != 0 ||
			    gp_init(1) != 0))
				die("gp_shutdown + gp_init");
			continue;
		}
		live[r] = gw.live_ns;
		drain[r] = gw.drain_ns;
		sp[r] = gw.spawn_ns;
		st[r] = gw.start_ns;
		r++;
	}
	res->rounds = r;
	res->live_ns = median(live, r);
	res->drain_ns = median(drain, r);
	res->spawn_ns = median(sp, r);
	res->start_ns = median(st, r);
}

/* ====================================================== 4. spawn trees */

static int
tree_root(void *arg)
{
	struct rt_loop *rl = arg;

	return rt_parent(rl);
}

static long tree_rounds;		/* per root */

static double
tree_run(void)
{
	struct rt_loop rl[ROOTS];
	pid_t pid[ROOTS];
	uint64_t t0, t1;
	int i, st;

	memset(rl, 0, sizeof(rl));
	t0 = now_ns();
	for (i = 0; i < ROOTS; i++) {
		rl[i].n = tree_rounds;
		if ((pid[i] = gp_spawn(tree_root, &rl[i], NULL)) < 0)
			die("gp_spawn");
	}
	for (i = 0; i < ROOTS; i++)
		if (gp_waitpid(pid[i], &st, 0) != pid[i] || rl[i].failed ||
		    rl[i].bad_status)
			die("tree root");
	t1 = now_ns();
	return (double)(t1 - t0);
}

/* The process's user + system time so far, ns. */
static double
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3);
}

/*
 * Median wall time of a run.  Also, over all timed runs: the CPU time
 * per spawn+wait (*cpu_op) and how many CPUs were busy on average
 * (*busy).  They tell why 2 workers fall short of 2x: a CPU time per
 * operation that grows is contention between the workers (shared lines,
 * locks); one that stays with fewer than 2 CPUs busy is a worker idle
 * or held off its CPU (imbalance, the host).
 */
static double
bench_trees(int nworkers, long *got_workers, unsigned long *steals,
    double *cpu_op, double *busy)
{
	double v[TREE_RUNS], c0, t0, wall;
	struct gp_counters s0, s1;
	int i;

	if (gp_init(nworkers) != 0)
		die("gp_init");
	stats(&s0);
	*got_workers = s0.nworkers;
	(void)tree_run();
	c0 = cpu_ns();
	t0 = (double)now_ns();
	for (i = 0; i < TREE_RUNS; i++)
		v[i] = tree_run();
	wall = (double)now_ns() - t0;
	c0 = cpu_ns() - c0;
	*cpu_op = c0 / ((double)TREE_RUNS * ROOTS * (double)tree_rounds);
	*busy = wall > 0 ? c0 / wall : -1;
	stats(&s1);
	*steals = s1.steals - s0.steals;
	if (gp_shutdown() != 0)
		die("gp_shutdown");
	return median(v, TREE_RUNS);
}

/* ====================================================== report */

static const char *
kcount(long n)
{
	static char buf[4][24];
	static int i;
	char *b = buf[i++ & 3];

	if (n >= BIG_N && n % BIG_N == 0)
		snprintf(b, 24, "%ldM", n / BIG_N);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(b, 24, "%ldk", n / 1024);
	else
		snprintf(b, 24, "%ld", n);
	return b;
}

static struct {
	const char	*name;
	uint64_t	 t;
} phases[16];
static int nphases;

/*
 * The climb: one round of measurements 2 and 3 at N = 128k, then 4N
 * (512k), then 1M, each in a fresh runtime (no cached stack hides a page
 * of the RSS), while the next N, priced at this one's wall time scaled
 * by the square of N's growth and a margin, still fits in CLIMB_S
 * seconds; in practice a plain make bench stops at 128k, and the plots
 * show the trend as far as it went.  BENCH_BIG=1 goes to 1M
 * whatever it costs (the figure "1M alive at once").  Returns the
 * number of rounds in out[]; the last is the largest N.
 */
static int
green_climb(struct gwait_result *out, double *est)
{
	int big = bench_big(), i = 0;
	uint64_t t0 = now_ns(), t;
	long n = CLIMB_N0;
	double spent, step;

	for (;;) {
		t = now_ns();
		if (gp_init(1) != 0)
			die("gp_init");
		bench_green_wait(n, 1, est, 1, &out[i]);
		if (gp_shutdown() != 0)
			die("gp_shutdown");
		step = (double)(now_ns() - t) / 1e9;
		spent = (double)(now_ns() - t0) / 1e9;
		i++;
		if (n >= BIG_N || i >= CLIMB_MAX)
			break;
		n = 4 * n < BIG_N ? 4 * n : BIG_N;
		/*
		 * Priced at the square of the growth: until the deadline is
		 * set, every child polls (child_sleep, every 16 ms at most),
		 * so a round's wakeups grow with N times its length, and
		 * the spawning parent waits behind more of them.  Linear
		 * pricing took a run to 512k that had not ended after 10
		 * minutes.  1.3: the larger N runs colder.
		 */
		if (!big && spent + step * 1.3 * ((double)n /
		    (double)out[i - 1].n) * ((double)n /
		    (double)out[i - 1].n) > CLIMB_S)
			break;
	}
	return i;
}

/* The end of a phase of main(), for the time line of the last line. */
static void
phase(const char *name)
{
	if (nphases < 16) {
		phases[nphases].name = name;
		phases[nphases++].t = now_ns();
	}
}

static int
guard_install_works(void)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *p;
	int ok;

	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	ok = madvise(p, ps, MADV_GUARD_INSTALL) == 0;
	munmap(p, 2 * ps);
	return ok;
}

/*
 * BENCH_PROC_WAIT=rounds[,mode[,N]]: section 2's green 1k, 4k, 16k only,
 * in one runtime as main() runs them, (rounds) rounds each, every round
 * printed with what happened in its timed loop.  With N: (rounds) rounds
 * of N as the climb runs them (a fresh runtime, RSS read).
 */
static int
wait_debug_main(void)
{
	static const long gn[] = { 1024, 4096, 16384 };
	struct gwait_result res;
	const char *v = getenv("BENCH_PROC_WAIT"), *c;
	double est = 2000.0;
	int rounds, i;

	rounds = atoi(v);
	if (rounds < 1 || rounds > WAIT_ROUNDS)
		rounds = WAIT_ROUNDS;
	wait_debug = (c = strchr(v, ',')) != NULL ? atoi(c + 1) : 1;
	if (wait_debug < 1)
		wait_debug = 1;
	if (c != NULL && (c = strchr(c + 1, ',')) != NULL && atol(c + 1) > 0) {
		for (i = 0; i < rounds; i++) {
			if (gp_init(1) != 0)
				die("gp_init");
			bench_green_wait(atol(c + 1), 1, &est, 1, &res);
			if (gp_shutdown() != 0)
				die("gp_shutdown");
		}
		return 0;
	}
	if (gp_init(1) != 0)
		die("gp_init");
	for (i = 0; i < 3; i++) {
		bench_green_wait(gn[i], rounds, &est, 0, &res);
		printf("N=%-6ld median live %.1f ns drain %.1f ns\n", gn[i],
		    res.live_ns, res.drain_ns);
	}
	if (gp_shutdown() != 0)
		die("gp_shutdown");
	return 0;
}

int
main(void)
{
	static const long kn[NKN] = { 256, 1024, 4096 };
	static const int krounds[NKN] = { KWAIT_ROUNDS, KWAIT_ROUNDS,
	    KWAIT_BIG };
	static const long gn[NGN] = { 1024, 4096, 16384 };
	static const long rn[NRSS] = { 1024, 16384 };
	struct rt_result r1, r2;
	struct kwait kw[NKN];
	struct gwait_result gw[NGN], big, rss[NRSS], climb[CLIMB_MAX];
	int nclimb;
	double fork_ns, vfork_ns, pt_ns, host1cpu_ns, pingpong_ns, est, tree1;
	double tree2, tree4, worst, drain_worst, cpuop[3], busy[3];
	unsigned long steals1, steals2, steals4;
	long w1, w2, w4, maxmap, alive;
	char label[96], loadavg[64];
	uint64_t t_start = now_ns();
	int i, guard;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BENCH_PROC_WAIT") != NULL)
		return wait_debug_main();
	quiet_begin();
	phase("start");
	read_loadavg(loadavg, sizeof(loadavg));
	maxmap = read_long("/proc/sys/vm/max_map_count");
	guard = guard_install_works();

	/* Kernel and pthread peers first: no workers, a small process. */
	fork_ns = bench_forklike(fork_one, FORK_N, "fork");
	vfork_ns = bench_forklike(vfork_one, VFORK_N, "vfork");
	pt_ns = bench_pthread();
	phase("peers");
	for (i = 0; i < NKN; i++)
		bench_kernel_wait(kn[i], krounds[i], &kw[i]);
	phase("kernel wait");

	/* 1. Round trips. */
	bench_roundtrip(1, &r1);
	bench_roundtrip(2, &r2);
	host1cpu_ns = bench_host_one_cpu(r1.host_n / 4);
	pingpong_ns = bench_pingpong();
	phase("round trips");
	tree_rounds = (long)(TREE_NS / (ROOTS * r1.green_ns));
	if (tree_rounds < 10000)
		tree_rounds = 10000;

	/* 2. wait(any), 1k and 16k: one worker. */
	if (gp_init(1) != 0)
		die("gp_init");
	est = 2000.0;
	for (i = 0; i < NGN; i++)
		bench_green_wait(gn[i], WAIT_ROUNDS, &est, 0, &gw[i]);
	if (gp_shutdown() != 0)
		die("gp_shutdown");
	phase("green wait 1k-16k");

	/* 3. RSS against N: one round each in a fresh runtime. */
	for (i = 0; i < NRSS; i++) {
		if (gp_init(1) != 0)
			die("gp_init");
		bench_green_wait(rn[i], 1, &est, 1, &rss[i]);
		if (gp_shutdown() != 0)
			die("gp_shutdown");
	}
	phase("RSS 1k-16k");

	/* 2 and 3. The climb to 1M, one fresh runtime per N (the RSS). */
	nclimb = green_climb(climb, &est);
	big = climb[nclimb - 1];
	phase("climb 128k-1M");

	/* 4. Independent spawn trees. */
	tree1 = bench_trees(1, &w1, &steals1, &cpuop[0], &busy[0]);
	tree2 = bench_trees(2, &w2, &steals2, &cpuop[1], &busy[1]);
	tree4 = bench_trees(4, &w4, &steals4, &cpuop[2], &busy[2]);
	phase("spawn trees");

	/* ---------------------------------------------------------- */
	printf("\nbench_proc: medians of %d runs (peers %d) unless said "
	    "otherwise; load average\nat the start %s (other work on the "
	    "machine skews every number)\n\n", RUNS, PEER_RUNS, loadavg);

	printf("1. spawn + exit + wait round trip, per round trip\n   (run "
	    "sizes: green parent %ld/%ld, host %ld/%ld on 1/2 workers)\n",
	    r1.green_n, r2.green_n, r1.host_n, r2.host_n);
	snprintf(label, sizeof(label), "greenproc, green parent, %ld worker "
	    "(%.1f sw/rt)", r1.nworkers, r1.sw_per_rt);
	row(label, r1.green_ns);
	snprintf(label, sizeof(label), "greenproc, green parent, %ld workers "
	    "(%.1f sw/rt)", r2.nworkers, r2.sw_per_rt);
	row(label, r2.green_ns);
	snprintf(label, sizeof(label), "greenproc, host thread, %ld worker",
	    r1.nworkers);
	row(label, r1.host_ns);
	snprintf(label, sizeof(label), "greenproc, host thread, %ld workers",
	    r2.nworkers);
	row(label, r2.host_ns);
	row("greenproc, host thread and its worker on one CPU", host1cpu_ns);
	row("(a cache line's round trip between two CPUs)", pingpong_ns);
	row("fork + _exit + waitpid", fork_ns);
	row("vfork + _exit + waitpid", vfork_ns);
	row("pthread_create + pthread_join", pt_ns);
	printf("  ratios (peer / greenproc, 1 worker)\n");
	ratio("fork / green parent", fork_ns, r1.green_ns);
	ratio("vfork / green parent", vfork_ns, r1.green_ns);
	ratio("pthread / green parent", pt_ns, r1.green_ns);
	ratio("fork / host thread", fork_ns, r1.host_ns);
	ratio("vfork / host thread", vfork_ns, r1.host_ns);
	ratio("pthread / host thread", pt_ns, r1.host_ns);
	fig("spawn+exit+wait, green parent, 1 worker", "ns", r1.green_ns,
	    "fork+_exit+waitpid");
	fig("spawn+exit+wait, green parent, 2 workers", "ns", r2.green_ns,
	    "fork+_exit+waitpid");
	fig("spawn+exit+wait, green parent, 1 worker (vs vfork)", "ns",
	    r1.green_ns, "vfork+_exit+waitpid");
	fig("spawn+exit+wait, green parent, 1 worker (vs pthread)", "ns",
	    r1.green_ns, "pthread_create+pthread_join");
	fig("spawn+exit+wait, host thread, 1 worker", "ns", r1.host_ns,
	    "fork+_exit+waitpid");
	fig("spawn+exit+wait, host thread, 2 workers", "ns", r2.host_ns,
	    "fork+_exit+waitpid");
	fig("spawn+exit+wait, host thread, 1 worker, one CPU", "ns",
	    host1cpu_ns, "fork+_exit+waitpid");
	fig("cache-line round trip between two CPUs", "ns", pingpong_ns, NULL);
	fig("fork+_exit+waitpid", "ns", fork_ns, NULL);
	fig("vfork+_exit+waitpid", "ns", vfork_ns, NULL);
	fig("pthread_create+pthread_join", "ns", pt_ns, NULL);

	printf("\n2. wait(any) per call, N children: K newest exit while "
	    "N-K live, then the\n   other N-K all zombies (drain)\n");
	for (i = 0; i < NGN; i++) {
		snprintf(label, sizeof(label), "greenproc N=%s, any of %ld "
		    "live (K=%ld, %d rounds)", kcount(gw[i].n),
		    gw[i].n - gw[i].k, gw[i].k, gw[i].rounds);
		row(label, gw[i].live_ns);
		snprintf(label, sizeof(label), "greenproc N=%s, drain",
		    kcount(gw[i].n));
		row(label, gw[i].drain_ns);
	}
	snprintf(label, sizeof(label), "greenproc N=%s, any of %ld live "
	    "(K=%ld, 1 round)", kcount(big.n), big.n - big.k, big.k);
	row(label, big.live_ns);
	snprintf(label, sizeof(label), "greenproc N=%s, drain",
	    kcount(big.n));
	row(label, big.drain_ns);
	if (big.last.spawned < big.n)
		printf("  (green N=%s: only %ld spawned, %s; no probes "
		    "left: see 3.)\n", kcount(big.n), big.last.spawned,
		    strerror(big.last.spawn_errno));
	for (i = 0; i < NKN; i++) {
		snprintf(label, sizeof(label), "kernel N=%s, any of %ld live "
		    "(K=%ld, %d rounds)", kcount(kw[i].forked),
		    kw[i].forked - kw[i].k, kw[i].k, krounds[i]);
		row(label, kw[i].live_ns);
		snprintf(label, sizeof(label), "kernel N=%s, drain",
		    kcount(kw[i].forked));
		row(label, kw[i].drain_ns);
		if (kw[i].forked < kw[i].n)
			printf("  (kernel: only %ld of %ld forks succeeded: "
			    "%s)\n", kw[i].forked, kw[i].n,
			    strerror(kw[i].fork_errno));
	}
	printf("  ratios (kernel / greenproc)\n");
	ratio("any-of-live: kernel 1k / green 1k", kw[1].live_ns,
	    gw[0].live_ns);
	ratio("any-of-live: kernel 4k / green 4k", kw[2].live_ns,
	    gw[1].live_ns);
	snprintf(label, sizeof(label), "any-of-live: kernel 4k / green %s",
	    kcount(big.n));
	ratio(label, kw[2].live_ns, big.live_ns);
	ratio("drain: kernel 1k / green 1k", kw[1].drain_ns, gw[0].drain_ns);
	ratio("drain: kernel 4k / green 4k", kw[2].drain_ns,
	    gw[1].drain_ns);
	fig("wait(any) among 1k live, greenproc", "ns", gw[0].live_ns,
	    "wait(any) among 1k live, kernel");
	fig("wait(any) among 4k live, greenproc", "ns", gw[1].live_ns,
	    "wait(any) among 4k live, kernel");
	snprintf(label, sizeof(label), "wait(any) among %s live, greenproc "
	    "(vs kernel 4k)", kcount(big.n));
	fig(label, "ns", big.live_ns, "wait(any) among 4k live, kernel");
	/* How far the climb went (BENCH_BIG=1: to 1M). */
	fig("largest N, wait(any) and RSS (climb)", "processes",
	    (double)big.n, NULL);
	fig("wait(any) among 1k live, kernel", "ns", kw[1].live_ns, NULL);
	fig("wait(any) among 4k live, kernel", "ns", kw[2].live_ns, NULL);
	/* The plot: any-of-live and drain against N, both sides. */
	for (i = 0; i < NGN; i++) {
		point("wait(any) among N live, greenproc", "children",
		    (double)gw[i].n, "ns", gw[i].live_ns);
		point("wait(any) draining N zombies, greenproc", "children",
		    (double)gw[i].n, "ns", gw[i].drain_ns);
	}
	for (i = 0; i < nclimb; i++) {
		point("wait(any) among N live, greenproc", "children",
		    (double)climb[i].n, "ns", climb[i].live_ns);
		point("wait(any) draining N zombies, greenproc", "children",
		    (double)climb[i].n, "ns", climb[i].drain_ns);
	}
	for (i = 0; i < NKN; i++) {
		point("wait(any) among N live, kernel", "children",
		    (double)kw[i].forked, "ns", kw[i].live_ns);
		point("wait(any) draining N zombies, kernel", "children",
		    (double)kw[i].forked, "ns", kw[i].drain_ns);
	}
	printf("  spawn of a child that sleeps (gp_spawn only; its first "
	    "run until it sleeps)\n");
	for (i = 0; i < NGN; i++) {
		snprintf(label, sizeof(label), "greenproc N=%s: spawn, first "
		    "run", kcount(gw[i].n));
		printf("  %-56s %7.1f ns %7.1f ns\n", label, gw[i].spawn_ns,
		    gw[i].start_ns);
	}
	snprintf(label, sizeof(label), "greenproc N=%s: spawn, first run "
	    "(cold memory)", kcount(big.n));
	printf("  %-56s %7.1f ns %7.1f ns\n", label, big.last.spawn_ns,
	    big.last.start_ns);
	snprintf(label, sizeof(label), "greenproc N=%s: wake at the "
	    "deadline, exit (per child)", kcount(big.n));
	row(label, big.last.exit_ns);
	for (i = 0; i < NGN; i++)
		if (gw[i].invalid)
			printf("  (green N=%s: %d rounds discarded: the "
			    "children took longer to start than planned)\n",
			    kcount(gw[i].n), gw[i].invalid);
	for (i = 0; i < nclimb; i++)
		if (climb[i].invalid)
			printf("  (green N=%s: %d round(s) discarded: the "
			    "children took longer to start than planned)\n",
			    kcount(climb[i].n), climb[i].invalid);

	printf("\n3. RSS per idle green process (1 worker, fresh runtime)\n");
	alive = big.last.alive_at_rss;
	printf("  climb: N = 128k, 512k, 1M while the next fits in %.0f s "
	    "(BENCH_BIG=1: to 1M);\n  reached %s\n", CLIMB_S,
	    kcount(big.n));
	if (big.last.spawned < big.n)
		printf("  spawned only %ld of %ld: %s\n", big.last.spawned,
		    big.n, strerror(big.last.spawn_errno));
	printf("  %-56s %10ld\n", "alive when VmRSS was read", alive);
	printf("  %-56s %10ld KiB\n", "VmRSS before", big.last.rss_before);
	printf("  %-56s %10ld KiB\n", "VmRSS with them alive",
	    big.last.rss_after);
	if (alive > 0) {
		double b = (double)(big.last.rss_after - big.last.rss_before) *
		    1024.0 / (double)alive;

		printf("  %-56s %10.0f B = %.2f KiB\n", "RSS per process", b,
		    b / 1024.0);
	}
	for (i = 0; i < NRSS; i++) {
		double kib = rss[i].last.alive_at_rss > 0 ?
		    (double)(rss[i].last.rss_after - rss[i].last.rss_before) /
		    (double)rss[i].last.alive_at_rss : -1.0;

		snprintf(label, sizeof(label), "RSS per process, %s alive",
		    kcount(rss[i].last.alive_at_rss));
		printf("  %-56s %10.2f KiB\n", label, kib);
		point("RSS per idle green process", "processes",
		    (double)rss[i].last.alive_at_rss, "KiB", kib);
	}
	/* The climb's rounds, the last one (big) printed above. */
	for (i = 0; i < nclimb; i++) {
		long a = climb[i].last.alive_at_rss;
		double kib = a > 0 ? (double)(climb[i].last.rss_after -
		    climb[i].last.rss_before) / (double)a : -1.0;

		if (i < nclimb - 1) {
			snprintf(label, sizeof(label), "RSS per process, %s "
			    "alive", kcount(a));
			printf("  %-56s %10.2f KiB\n", label, kib);
		}
		point("RSS per idle green process", "processes", (double)a,
		    "KiB", kib);
	}
	printf("  %-56s %10ld\n", "mappings (/proc/self/maps) with them alive",
	    big.last.maps_at_rss);
	printf("  %-56s %10ld\n", "vm.max_map_count", maxmap);
	printf("  %-56s %10s\n", "MADV_GUARD_INSTALL available",
	    guard ? "yes" : "no");
	if (!guard)
		printf("  without MADV_GUARD_INSTALL each live stack costs a "
		    "VMA: at most ~%ld processes\n  alive under this "
		    "vm.max_map_count\n", maxmap);

	printf("\n4. independent spawn trees: %d roots x %ld spawn+wait "
	    "(median of %d)\n", ROOTS, tree_rounds, TREE_RUNS);
	snprintf(label, sizeof(label), "%ld worker: wall time, throughput", w1);
	printf("  %-56s %7.1f ms %6.2f M rt/s\n", label, tree1 / 1e6,
	    (double)ROOTS * (double)tree_rounds / tree1 * 1e3);
	snprintf(label, sizeof(label), "%ld workers: wall time, throughput "
	    "(%lu steals)", w2, steals2);
	printf("  %-56s %7.1f ms %6.2f M rt/s\n", label, tree2 / 1e6,
	    (double)ROOTS * (double)tree_rounds / tree2 * 1e3);
	snprintf(label, sizeof(label), "%ld workers: wall time, throughput "
	    "(%lu steals)", w4, steals4);
	printf("  %-56s %7.1f ms %6.2f M rt/s\n", label, tree4 / 1e6,
	    (double)ROOTS * (double)tree_rounds / tree4 * 1e3);
	ratio("speedup 2 workers / 1 worker", tree1, tree2);
	for (i = 0; i < 3; i++) {
		snprintf(label, sizeof(label), "%ld worker%s: CPU time per "
		    "spawn+wait, CPUs busy", i == 0 ? w1 : i == 1 ? w2 : w4,
		    i == 0 ? "" : "s");
		printf("  %-56s %7.1f ns %6.2f\n", label, cpuop[i], busy[i]);
	}
	fig("spawn trees, 1 worker: CPU time per spawn+wait", "ns",
	    cpuop[0], NULL);
	fig("spawn trees, 2 workers: CPU time per spawn+wait", "ns",
	    cpuop[1], "spawn trees, 1 worker: CPU time per spawn+wait");
	fig("spawn trees, 2 workers: CPUs busy", "", busy[1], NULL);
	(void)steals1;
	fig("spawn trees, 1 worker", "M spawn+wait/s", (double)ROOTS *
	    (double)tree_rounds / tree1 * 1e3, NULL);
	fig("spawn trees, 2 workers", "M spawn+wait/s", (double)ROOTS *
	    (double)tree_rounds / tree2 * 1e3, "spawn trees, 1 worker");
	point("spawn+exit+wait throughput, independent trees", "workers",
	    (double)w1, "M/s", (double)ROOTS * (double)tree_rounds / tree1 *
	    1e3);
	point("spawn+exit+wait throughput, independent trees", "workers",
	    (double)w2, "M/s", (double)ROOTS * (double)tree_rounds / tree2 *
	    1e3);
	point("spawn+exit+wait throughput, independent trees", "workers",
	    (double)w4, "M/s", (double)ROOTS * (double)tree_rounds / tree4 *
	    1e3);

	quiet_end();
	printf("\ntargets\n");
	judge("round trip, green parent, 1 worker", r1.green_ns,
	    TARGET_GREEN_RT, "ns", 1);
	judge("round trip, host thread, 1 worker", r1.host_ns,
	    TARGET_HOST_RT, "ns", 1);
	/*
	 * The target is the measure: wait(any) among N live
	 * children, one of which has exited.  Draining N zombies that all
	 * went cold is reported beside it: cache- and TLB-bound, not O(N).
	 */
	worst = drain_worst = -1;
	for (i = 0; i < nclimb; i++) {
		if (climb[i].live_ns > worst)
			worst = climb[i].live_ns;
		if (climb[i].drain_ns > drain_worst)
			drain_worst = climb[i].drain_ns;
	}
	for (i = 0; i < NGN; i++) {
		if (gw[i].live_ns > worst)
			worst = gw[i].live_ns;
		if (gw[i].drain_ns > drain_worst)
			drain_worst = gw[i].drain_ns;
	}
	judge("wait(any) among N live children, worst N", worst,
	    TARGET_WAIT, "ns", 1);
	printf("  %-56s %10.1f ns  (no target: cold memory)\n",
	    "wait(any) draining N cold zombies, worst N", drain_worst);
	if (alive > 0)
		judge("RSS per idle process",
		    (double)(big.last.rss_after - big.last.rss_before) /
		    (double)alive, TARGET_RSS_KIB, "KiB", 1);
	printf("  %-56s %10s     (target: 1M; BENCH_BIG=1)\n",
	    "alive at once",
	    kcount(alive));
	judge("spawn trees, 2 workers vs 1", tree1 / tree2, TARGET_SPEEDUP,
	    "x", 0);

	i = 0;
	for (int j = 0; j < NKN; j++)
		i += kw[j].wrong;
	for (int j = 0; j < nclimb; j++)
		i += climb[j].wrong;
	if (i + gw[0].wrong + gw[1].wrong + gw[2].wrong != 0)
		printf("\nWRONG RESULTS: kernel and climb %d, green 1k %d, "
		    "4k %d, 16k %d (unexpected pids, statuses or counts)\n",
		    i, gw[0].wrong, gw[1].wrong, gw[2].wrong);
	printf("\nbench_proc: %.1f s in all:", (double)(now_ns() - t_start) /
	    1e9);
	for (i = 1; i < nphases; i++)
		printf("%s %s %.1f s", i > 1 ? "," : "", phases[i].name,
		    (double)(phases[i].t - phases[i - 1].t) / 1e9);
	printf("\n");
	return 0;
}
