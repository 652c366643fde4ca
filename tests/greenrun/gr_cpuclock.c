/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_cpuclock.c -- per-thread CPU time: one thread spins for ~200 ms,
 * another sleeps for as long; on one worker (test_greenrun.c runs it
 * under greenrun -w 1, and -w 2) the two share a kernel thread.  Each one's
 * CLOCK_THREAD_CPUTIME_ID and getrusage(RUSAGE_THREAD) must be its own
 * (the spinner's large, the sleeper's small), and so must the clocks
 * pthread_getcpuclockid gives for them, read by main while they run and
 * after they end; a joined thread's clock is gone (EINVAL).  Bounds are
 * generous: on a loaded machine a spinner gets less than its wall time.
 * Under greenrun the clocks were the worker's (the sleeper's counted the
 * spinner's time) and pthread_getcpuclockid said ENOENT.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MS	1000000LL		/* ns */

/* Both start; both are done; main has read their clocks. */
static pthread_barrier_t start, done, release;

static long long
ns_of(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static long long
now(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return -1;
	return ns_of(&ts);
}

static long long
rusage_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return -1;
	return ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000LL + ((long long)ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) * 1000LL;
}

struct result {
	long long	 clock;		/* its own CLOCK_THREAD_CPUTIME_ID */
	long long	 ru;		/* its RUSAGE_THREAD user + system */
};

static void *
spinner(void *arg)
{
	struct result *r = arg;
	long long start_ns, end;
	volatile unsigned long n = 0;

	pthread_barrier_wait(&start);
	/*
	 * 200 ms, and at least 60 ms of its own CPU time: a loaded machine
	 * may give it less than its wall time (capped at 5 s).
	 */
	start_ns = now(CLOCK_MONOTONIC);
	end = start_ns + 200 * MS;
	while ((now(CLOCK_MONOTONIC) < end ||
	    now(CLOCK_THREAD_CPUTIME_ID) < 60 * MS) &&
	    now(CLOCK_MONOTONIC) < start_ns + 5000 * MS)
		n++;
	r->clock = now(CLOCK_THREAD_CPUTIME_ID);
	r->ru = rusage_ns();
	pthread_barrier_wait(&done);
	pthread_barrier_wait(&release);
	return NULL;
}

static void *
sleeper(void *arg)
{
	struct result *r = arg;
	struct timespec ts = { 0, 250 * MS };

	pthread_barrier_wait(&start);
	nanosleep(&ts, NULL);
	r->clock = now(CLOCK_THREAD_CPUTIME_ID);
	r->ru = rusage_ns();
	pthread_barrier_wait(&done);
	pthread_barrier_wait(&release);
	return NULL;
}

static const char *
judge(long long v, long long lo, long long hi)
{
	if (v < 0)
		return strerror(errno);
	return v >= lo && v < hi ? "ok" : "out of bounds";
}

int
main(void)
{
	struct result rs = { -1, -1 }, rz = { -1, -1 };
	struct timespec res, ts = { 0, 100 * MS };
	clockid_t cs, cz, cp;
	pthread_t ts_, tz;
	long long mid_s, mid_z, end_s, end_z;
	int e;

	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	pthread_barrier_init(&release, NULL, 3);
	pthread_create(&ts_, NULL, spinner, &rs);
	pthread_create(&tz, NULL, sleeper, &rz);
	if ((e = pthread_getcpuclockid(ts_, &cs)) != 0 ||
	    (e = pthread_getcpuclockid(tz, &cz)) != 0) {
		printf("pthread_getcpuclockid: %s\n", strerror(e));
		cs = cz = CLOCK_THREAD_CPUTIME_ID;
	}
	pthread_barrier_wait(&start);
	/* While they run: the spinner has spun, the sleeper has not. */
	nanosleep(&ts, NULL);
	mid_s = now(cs);
	mid_z = now(cz);
	if (getenv("GR_CPUCLOCK_SHOW") != NULL)
		fprintf(stderr, "mid %lld %lld\n", mid_s, mid_z);
	/*
	 * On one worker main may run only after the spinner (whose loop is
	 * in libc, where greenrun does not preempt): then "mid-run" is its
	 * end.  On two, main reads a clock that is running.
	 */
	printf("spinner's clock from main, mid-run: %s\n",
	    judge(mid_s, 0, 6000 * MS));
	printf("sleeper's clock from main, mid-run: %s\n",
	    judge(mid_z, 0, 10 * MS));
	pthread_barrier_wait(&done);
	/* Done, still alive (an ended thread's clock is gone natively). */
	end_s = now(cs);
	end_z = now(cz);
	printf("spinner's clock from main, at the end: %s\n",
	    judge(end_s, 50 * MS, 6000 * MS));
	printf("sleeper's clock from main, at the end: %s\n",
	    judge(end_z, 0, 20 * MS));
	printf("spinner's clock moved forward: %s\n",
	    end_s >= mid_s ? "ok" : "no");
	printf("clock_getres of a thread clock: %s\n",
	    clock_getres(cs, &res) == 0 && res.tv_sec == 0 &&
	    res.tv_nsec > 0 && res.tv_nsec <= 1000000 ? "ok" :
	    strerror(errno));
	pthread_barrier_wait(&release);
	printf("spinner's own clock: %s\n", judge(rs.clock, 50 * MS, 6000 * MS));
	printf("spinner's RUSAGE_THREAD: %s\n", judge(rs.ru, 40 * MS, 6000 * MS));
	printf("sleeper's own clock: %s\n", judge(rz.clock, 0, 20 * MS));
	printf("sleeper's RUSAGE_THREAD: %s\n", judge(rz.ru, 0, 20 * MS));
	/*
	 * The process clock is the kernel's: readable, and running.  No
	 * lower bound: under greenrun the spinner's clock is its time on
	 * the worker, which on a loaded machine includes time the kernel
	 * gave to others, so its 60 ms may be less CPU than that.
	 */
	if (clock_getcpuclockid(0, &cp) == 0)
		printf("process clock: %s\n", judge(now(cp), 1,
		    3600000 * MS));
	pthread_join(ts_, NULL);
	pthread_join(tz, NULL);
	errno = 0;
	printf("a joined thread's clock: %s\n", now(cs) < 0 ?
	    strerror(errno) : "still there");
	return 0;
}
