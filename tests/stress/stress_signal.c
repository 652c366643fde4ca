/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_signal.c -- green signals under churn.
 *
 * The host thread spawns NPROC processes in batches of BATCH (children
 * of init) and reaps them with gp_waitpid(-1, WUNTRACED | WCONTINUED),
 * continuing every child it sees stopped.  Meanwhile NHOST host threads
 * and NLWP LWPs of init send random SIGKILL, SIGTERM, SIGSTOP and
 * SIGCONT to processes of the current batch.  The children yield, nap,
 * run a second LWP or ignore SIGTERM, then exit with a code of their own.
 *
 * Every process must be reaped exactly once, with a status consistent
 * with what was sent to it: the exit code it chose when no fatal signal
 * was sent, else that or WTERMSIG of a fatal signal that was sent.  No
 * hang (alarm watchdog), and live_procs back where it started.
 * GREENPROC_STRESS_PROCS overrides NPROC.
 *
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"

#define NPROC_DEFAULT	10000
#define BATCH		250
#define NHOST		2
#define NLWP		3

#define SENT_KILL	1
#define SENT_TERM	2

struct rec {
	atomic_int	pid;		/* 0 until spawned */
	atomic_int	sent;		/* SENT_* bits, set before the kill */
	int		reaped;		/* host thread only */
	int		status;
};

static struct rec *recs;
static int nproc;
static atomic_int batch_lo, batch_hi;	/* the killers' targets */
static atomic_int done;
static atomic_long nsent[4], nstops, nconts_seen;

static int
code_of(int i)
{
	return (i * 7 + 3) & 0x7f;
}

/* ------------------------------------------------------------ children */

static void *
second_lwp(void *arg)
{
	(void)arg;
	for (int k = 0; k < 20; k++)
		gp_yield();
	return NULL;
}

static int
child(void *arg)
{
	int i = (int)(intptr_t)arg, k;
	struct timespec ts = { 0, 200 * 1000 };
	struct sigaction sa;
	gp_lwp_t l;

	switch (i % 4) {
	case 0:
		for (k = 0; k < 30; k++)
			gp_yield();
		break;
	case 1:
		for (k = 0; k < 3; k++)
			gp_nanosleep(&ts, NULL);
		break;
	case 2:
		if (gp_lwp_create(&l, second_lwp, NULL, NULL) == 0) {
			for (k = 0; k < 10; k++)
				gp_yield();
			gp_lwp_join(l, NULL);
		}
		break;
	case 3:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		gp_sigaction(SIGTERM, &sa, NULL);
		for (k = 0; k < 20; k++)
			gp_yield();
		gp_nanosleep(&ts, NULL);
		break;
	}
	return code_of(i);
}

/* ------------------------------------------------------------ killers */

static void
shoot(unsigned *seed)
{
	int lo = atomic_load(&batch_lo), hi = atomic_load(&batch_hi), i, r;
	int sig, bit = 0;
	pid_t pid;

	if (hi <= lo)
		return;
	i = lo + (int)(rand_r(seed) % (unsigned)(hi - lo));
	if ((pid = atomic_load(&recs[i].pid)) == 0)
		return;
	r = (int)(rand_r(seed) % 100);
	if (r < 4) {
		sig = SIGKILL;
		bit = SENT_KILL;
	} else if (r < 10) {
		sig = SIGTERM;
		bit = SENT_TERM;
	} else if (r < 50) {
		sig = SIGSTOP;
	} else {
		sig = SIGCONT;
	}
	if (bit != 0)
		atomic_fetch_or(&recs[i].sent, bit);
	if (gp_kill(pid, sig) == 0)
		atomic_fetch_add(&nsent[bit != 0 ? (bit == SENT_KILL ? 0 : 1) :
		    (sig == SIGSTOP ? 2 : 3)], 1);
	else if (errno != ESRCH) {
		fprintf(stderr, "stress_signal: gp_kill(%d, %d): %s\n",
		    (int)pid, sig, strerror(errno));
		exit(1);
	}
}

static void *
host_killer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&done)) {
		shoot(&seed);
		tu_host_sleep_ns(20 * 1000);
	}
	return NULL;
}

static void *
lwp_killer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct timespec ts = { 0, 20 * 1000 };

	while (!atomic_load(&done)) {
		shoot(&seed);
		if (seed & 1)
			gp_yield();
		else
			gp_nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ------------------------------------------------------------ main */

static int
find(int lo, int hi, pid_t pid)
{
	for (int i = lo; i < hi; i++)
		if (atomic_load(&recs[i].pid) == pid)
			return i;
	return -1;
}

static int
fail(const char *msg, int i, int st)
{
	fprintf(stderr, "stress_signal: FAIL: %s (proc %d pid %d status %#x "
	    "sent %#x)\n", msg, i, i >= 0 ? atomic_load(&recs[i].pid) : 0, st,
	    i >= 0 ? atomic_load(&recs[i].sent) : 0);
	return 1;
}

/* Is status (st) of proc (i) consistent with what was sent to it? */
static int
check_status(int i, int st)
{
	int sent = atomic_load(&recs[i].sent);

	if (WIFEXITED(st))
		return WEXITSTATUS(st) == code_of(i) ? 0 :
		    fail("wrong exit code", i, st);
	if (!WIFSIGNALED(st))
		return fail("neither exited nor signaled", i, st);
	if (WTERMSIG(st) == SIGKILL && (sent & SENT_KILL))
		return 0;
	if (WTERMSIG(st) == SIGTERM && (sent & SENT_TERM))
		return 0;
	return fail("killed by a signal that was not sent", i, st);
}

int
main(void)
{
	pthread_t ht[NHOST];
	gp_lwp_t lk[NLWP];
	struct gp_counters st0, st;
	const char *env = getenv("GREENPROC_STRESS_PROCS");
	long nkilled = 0, nterm = 0, nexit = 0;
	uint64_t t0 = tu_now_ns();
	int i, lo, hi, status, left;
	pid_t r;

	alarm(60);
	nproc = env != NULL ? atoi(env) : NPROC_DEFAULT;
	if (nproc <= 0)
		nproc = NPROC_DEFAULT;
	recs = calloc((size_t)nproc, sizeof(*recs));
	if (recs == NULL || gp_init(0) != 0 || gp_stats(&st0) != 0) {
		fprintf(stderr, "stress_signal: setup failed\n");
		return 1;
	}
	for (i = 0; i < NHOST; i++)
		if (pthread_create(&ht[i], NULL, host_killer,
		    (void *)(uintptr_t)(i + 1)) != 0)
			return fail("pthread_create", -1, 0);
	for (i = 0; i < NLWP; i++)
		if (gp_lwp_create(&lk[i], lwp_killer,
		    (void *)(uintptr_t)(100 + i * 2 + (i & 1)), NULL) != 0)
			return fail("gp_lwp_create", -1, 0);

	for (lo = 0; lo < nproc; lo = hi) {
		hi = lo + BATCH < nproc ? lo + BATCH : nproc;
		atomic_store(&batch_lo, lo);
		atomic_store(&batch_hi, hi);
		for (i = lo; i < hi; i++) {
			pid_t p = gp_spawn(child, (void *)(intptr_t)i, NULL);

			if (p <= 0)
				return fail("gp_spawn", i, errno);
			atomic_store(&recs[i].pid, (int)p);
		}
		for (left = hi - lo; left > 0;) {
			r = gp_waitpid(-1, &status, WUNTRACED | WCONTINUED);
			if (r < 0)
				return fail(strerror(errno), -1, 0);
			if ((i = find(lo, hi, r)) < 0) {
				/* Which one was it (a bug report aid)? */
				if ((i = find(0, lo, r)) >= 0) {
					fprintf(stderr, "stress_signal: pid %d "
					    "(proc %d of an earlier batch, "
					    "reaped %d times, status then %#x) "
					    "reported again\n", (int)r, i,
					    recs[i].reaped, recs[i].status);
					return fail("a reaped process was "
					    "reported again", i, status);
				}
				return fail("reaped an unknown pid", -1, status);
			}
			if (WIFSTOPPED(status)) {
				atomic_fetch_add(&nstops, 1);
				if (WSTOPSIG(status) != SIGSTOP)
					return fail("wrong stop signal", i,
					    status);
				gp_kill(r, SIGCONT);
				continue;
			}
			if (WIFCONTINUED(status)) {
				atomic_fetch_add(&nconts_seen, 1);
				continue;
			}
			if (recs[i].reaped++ != 0)
				return fail("reaped twice", i, status);
			recs[i].status = status;
			if (check_status(i, status) != 0)
				return 1;
			if (WIFEXITED(status))
				nexit++;
			else if (WTERMSIG(status) == SIGKILL)
				nkilled++;
			else
				nterm++;
			left--;
		}
	}
	atomic_store(&done, 1);
	for (i = 0; i < NHOST; i++)
		pthread_join(ht[i], NULL);
	for (i = 0; i < NLWP; i++)
		if (gp_lwp_join(lk[i], NULL) != 0)
			return fail("gp_lwp_join", -1, 0);

	for (i = 0; i < nproc; i++)
		if (recs[i].reaped != 1)
			return fail("not reaped exactly once", i, 0);
	errno = 0;
	if (gp_waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		return fail("children left after the last reap", -1, 0);
	for (i = 0; i < 5000; i++) {
		if (gp_stats(&st) != 0)
			return fail("gp_stats", -1, 0);
		if (st.live_procs == st0.live_procs)
			break;
		tu_host_sleep_ns(TU_MS);
	}
	if (st.live_procs != st0.live_procs) {
		fprintf(stderr, "stress_signal: FAIL: live_procs %ld, want "
		    "%ld\n", st.live_procs, st0.live_procs);
		return 1;
	}
	printf("stress_signal: %d processes in %.2f s: %ld exited, %ld "
	    "SIGKILLed, %ld SIGTERMed; sent KILL %ld TERM %ld STOP %ld CONT "
	    "%ld; %ld stops and %ld continues reported\n", nproc,
	    (double)(tu_now_ns() - t0) / 1e9, nexit, nkilled, nterm,
	    atomic_load(&nsent[0]), atomic_load(&nsent[1]),
	    atomic_load(&nsent[2]), atomic_load(&nsent[3]),
	    atomic_load(&nstops), atomic_load(&nconts_seen));
	free(recs);
	if (gp_shutdown() != 0) {
		fprintf(stderr, "stress_signal: gp_shutdown: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}
