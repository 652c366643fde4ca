/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_rtqueue.c -- real-time signals queue (POSIX): one sent N times
 * while blocked is delivered N times, each with its own siginfo
 * (sigqueue's value, SI_QUEUE; kill's SI_USER; pthread_kill's SI_TKILL),
 * in the order sent, the lowest number first; a standard signal pending
 * already merges.  Sent by the program to itself (kill, sigqueue, raise,
 * pthread_kill, pthread_sigqueue), to another thread, and from outside
 * (rt_sigqueueinfo through the kernel: greenrun's forwarder).  sigqueue
 * fails with EAGAIN past RLIMIT_SIGPENDING, where kill still succeeds.
 * Under greenrun a second instance merged with the first (glibc's
 * tst-signal3 handled 9996 of 10000) and every value read SI_USER.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NREC	64

static struct rec {
	int	 sig, code, value;
	pid_t	 pid;
} recs[NREC];
static volatile int nrec;

static void
handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nrec < NREC) {
		recs[nrec].sig = sig;
		recs[nrec].code = si->si_code;
		recs[nrec].value = si->si_value.sival_int;
		recs[nrec].pid = si->si_pid;
		nrec++;
	}
}

static const char *
signame(int sig)
{
	static char buf[32];

	if (sig == SIGUSR1)
		return "SIGUSR1";
	snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	return buf;
}

static const char *
codename(int code)
{
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TKILL:
		return "SI_TKILL";
	default:
		return "other";
	}
}

/* Print and forget what the handler saw. */
static void
show(const char *what)
{
	int i;

	printf("%s: %d delivered\n", what, nrec);
	for (i = 0; i < nrec; i++)
		printf("  %s %s%s value %d\n", signame(recs[i].sig),
		    codename(recs[i].code),
		    recs[i].code == SI_QUEUE || recs[i].code == SI_USER ?
		    (recs[i].pid == getpid() ? " from self" : " from other") :
		    "", recs[i].code == SI_QUEUE ? recs[i].value : 0);
	nrec = 0;
}

static void
catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	/*
	 * Everything blocked in the handler: natively, several signals
	 * unblocked at once would otherwise get nested frames, the last
	 * one set up running first.  One at a time, the order is POSIX's.
	 */
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void
mask(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

static int
queue(pid_t pid, int sig, int v)
{
	union sigval val;

	val.sival_int = v;
	return sigqueue(pid, sig, val);
}

/* Blocked, sent to the process in a mixed order, then unblocked. */
static void
process_directed(void)
{
	pid_t me = getpid();
	int s[] = { SIGUSR1, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		catch(s[i]);
		mask(SIG_BLOCK, s[i]);
	}
	queue(me, SIGRTMIN + 1, 10);
	queue(me, SIGRTMIN, 20);
	queue(me, SIGRTMIN + 1, 11);
	kill(me, SIGRTMIN);
	kill(me, SIGRTMIN);
	queue(me, SIGRTMIN + 2, 40);
	queue(me, SIGUSR1, 30);
	queue(me, SIGUSR1, 31);		/* merged: the first stays */
	queue(me, SIGRTMIN, 21);
	for (i = 0; i < 4; i++)
		mask(SIG_UNBLOCK, s[i]);
	show("process-directed, unblocked one by one");

	for (i = 0; i < 4; i++)
		mask(SIG_BLOCK, s[i]);
	queue(me, SIGRTMIN + 2, 1);
	queue(me, SIGRTMIN + 1, 2);
	queue(me, SIGRTMIN, 3);
	queue(me, SIGRTMIN + 2, 4);
	{
		sigset_t none;

		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
	}
	show("process-directed, unblocked at once");
}

/* To the calling thread: raise, pthread_kill, pthread_sigqueue. */
static void
self_directed(void)
{
	union sigval v;
	int sig = SIGRTMIN + 3;

	catch(sig);
	mask(SIG_BLOCK, sig);
	raise(sig);
	v.sival_int = 50;
	pthread_sigqueue(pthread_self(), sig, v);
	pthread_kill(pthread_self(), sig);
	v.sival_int = 51;
	pthread_sigqueue(pthread_self(), sig, v);
	mask(SIG_UNBLOCK, sig);
	show("thread-directed to itself");
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static void *
other(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	stage = 1;
	pthread_cond_broadcast(&cv);
	while (stage != 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	mask(SIG_UNBLOCK, SIGRTMIN + 4);	/* all five land here */
	return NULL;
}

/* To another thread that blocks it, then unblocks it. */
static void
other_thread(void)
{
	union sigval v;
	pthread_t t;
	int sig = SIGRTMIN + 4, i;

	catch(sig);
	mask(SIG_BLOCK, sig);		/* inherited by the thread */
	pthread_create(&t, NULL, other, NULL);
	pthread_mutex_lock(&mu);
	while (stage != 1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < 3; i++) {
		v.sival_int = 60 + i;
		pthread_sigqueue(t, sig, v);
	}
	pthread_kill(t, sig);
	pthread_kill(t, sig);
	pthread_mutex_lock(&mu);
	stage = 2;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	show("thread-directed to another");
	mask(SIG_UNBLOCK, sig);
}

/* sigwaitinfo takes them one by one, oldest first. */
static void
waited(void)
{
	const struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;
	int sig = SIGRTMIN + 5, i, r;

	mask(SIG_BLOCK, sig);
	for (i = 0; i < 5; i++)
		queue(getpid(), sig, 70 + i);
	sigemptyset(&set);
	sigaddset(&set, sig);
	printf("sigwaitinfo:");
	for (i = 0; i < 5; i++) {
		r = sigwaitinfo(&set, &si);
		printf(" %s/%d", r == sig ? "ok" : "wrong",
		    si.si_value.sival_int);
	}
	r = sigtimedwait(&set, &si, &zero);
	printf("; then %s\n", r < 0 && errno == EAGAIN ? "EAGAIN" : "more");
}

/* Sent through the kernel: greenrun's forwarder posts each one. */
static void
from_outside(void)
{
	const struct timespec two = { 2, 0 };
	siginfo_t si;
	sigset_t set;
	int sig = SIGRTMIN + 6, i, r;

	mask(SIG_BLOCK, sig);
	for (i = 0; i < 4; i++) {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = 80 + i;
		syscall(SYS_rt_sigqueueinfo, getpid(), sig, &si);
	}
	sigemptyset(&set);
	sigaddset(&set, sig);
	printf("from the kernel:");
	for (i = 0; i < 4; i++) {
		r = sigtimedwait(&set, &si, &two);
		if (r != sig) {
			printf(" timeout");
			break;
		}
		printf(" %s/%d", codename(si.si_code), si.si_value.sival_int);
	}
	printf("\n");
}

/*
 * The signals queued for the user now (the kernel counts per user, and
 * /proc/self/status says how many: "SigQ: n/limit"), or 0.
 */
static long
queued_now(void)
{
	char line[256];
	long n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "SigQ:", 5) == 0)
			n = strtol(line + 5, NULL, 10);
	fclose(f);
	return n;
}

/*
 * EAGAIN past RLIMIT_SIGPENDING; kill still makes it pending.  The
 * kernel counts per user, other processes' pending signals too (a
 * parallel test's), so the limit is what is queued now plus 4, and the
 * number queued is not printed: only that EAGAIN came after some, and
 * that as many are taken (kill's merges with them).
 */
static void
limit(void)
{
	const struct timespec zero = { 0, 0 };
	struct rlimit old, rl;
	sigset_t set;
	int sig = SIGRTMIN + 7, i, n = 0, err = 0, k, taken;

	getrlimit(RLIMIT_SIGPENDING, &old);
	rl.rlim_cur = rl.rlim_max = (rlim_t)queued_now() + 4;
	setrlimit(RLIMIT_SIGPENDING, &rl);
	mask(SIG_BLOCK, sig);
	for (i = 0; i < 1000; i++) {
		if (queue(getpid(), sig, i) == 0) {
			n++;
		} else {
			err = errno;
			break;
		}
	}
	k = kill(getpid(), sig);
	printf("limit: %s queued, then %s; kill past it: %d\n",
	    n >= 1 ? "some" : "none", err == EAGAIN ? "EAGAIN" : "no error",
	    k);
	sigemptyset(&set);
	sigaddset(&set, sig);
	for (taken = 0; sigtimedwait(&set, NULL, &zero) == sig; taken++)
		;
	printf("limit: as many taken: %s\n", taken == n ? "yes" : "no");
	setrlimit(RLIMIT_SIGPENDING, &old);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	process_directed();
	self_directed();
	other_thread();
	waited();
	from_outside();
	limit();
	return 0;
}
