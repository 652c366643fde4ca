/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_surface.c -- the rest of the pthread surface, in a program that
 * knows nothing of greenproc; tests/test_greenrun.c runs each part
 * natively and under greenrun and compares what it prints and its status.
 *
 *   clock	condvars with a clock attribute, pthread_cond_clockwait,
 *		pthread_mutex_clocklock, rwlock timed and clock forms,
 *		sem_clockwait: timeouts, wake-ups, EINVAL
 *   c11	<threads.h>: thrd_*, mtx_*, cnd_*, tss_*, call_once
 *   c11probe	how many kernel threads carry 40 C11 threads
 *   futex	syscall(SYS_futex) WAIT, WAIT_BITSET, WAKE between threads
 *   sched	pthread_{get,set}schedparam, setschedprio, getcpuclockid,
 *		{get,set}affinity_np on threads
 *   sigwait	sigwait, sigwaitinfo, sigtimedwait, sigpending, sigsuspend
 *		and pause with signals from pthread_kill and kill
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "ktid.h"

#define CHECK(c) do { if (!(c)) { printf("FAILED %s:%d: %s\n", __FILE__, \
	__LINE__, #c); exit(1); } } while (0)

static struct timespec
in_ms(clockid_t clock, long ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_nsec += (ms % 1000) * 1000000;
	t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000;
	t.tv_nsec %= 1000000000;
	return t;
}

/* ------------------------------------------------------------ clock */

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mono;
static int flag;

static void *
signaller(void *arg)
{
	(void)arg;
	usleep(20000);
	pthread_mutex_lock(&cm);
	flag = 1;
	pthread_cond_signal(&mono);
	pthread_mutex_unlock(&cm);
	return NULL;
}

/*
 * The holders take their lock, say so (held), and keep it until main has
 * made its timed tries (release): no sleep decides the order, which a
 * loaded machine would upset.
 */
static sem_t held, release;

static void *
holder(void *arg)
{
	pthread_mutex_t *m = arg;

	pthread_mutex_lock(m);
	sem_post(&held);
	sem_wait(&release);
	pthread_mutex_unlock(m);
	return NULL;
}

static void *
rw_holder(void *arg)
{
	pthread_rwlock_wrlock(arg);
	sem_post(&held);
	sem_wait(&release);
	pthread_rwlock_unlock(arg);
	return NULL;
}

static void
part_clock(void)
{
	pthread_condattr_t ca;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	struct timespec t;
	pthread_t th;
	sem_t s;
	int r;

	/* A monotonic condvar: a timed wait 50 ms out times out once. */
	pthread_condattr_init(&ca);
	CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
	pthread_cond_init(&mono, &ca);
	pthread_mutex_lock(&cm);
	t = in_ms(CLOCK_MONOTONIC, 50);
	r = pthread_cond_timedwait(&mono, &cm, &t);
	printf("monotonic timedwait: %s\n", strerror(r));
	/* ... and is woken by a signal long before its 10 s. */
	pthread_create(&th, NULL, signaller, NULL);
	t = in_ms(CLOCK_MONOTONIC, 10000);
	r = 0;
	while (!flag && r == 0)
		r = pthread_cond_timedwait(&mono, &cm, &t);
	printf("monotonic woken: %s flag %d\n", strerror(r), flag);
	pthread_mutex_unlock(&cm);
	pthread_join(th, NULL);

	/* clockwait, on either clock, whatever the condvar's. */
	pthread_mutex_lock(&cm);
	t = in_ms(CLOCK_REALTIME, 30);
	printf("clockwait realtime: %s\n", strerror(pthread_cond_clockwait(
	    &mono, &cm, CLOCK_REALTIME, &t)));
	t = in_ms(CLOCK_MONOTONIC, 30);
	printf("clockwait monotonic: %s\n", strerror(pthread_cond_clockwait(
	    &mono, &cm, CLOCK_MONOTONIC, &t)));
	printf("clockwait bad clock: %s\n", strerror(pthread_cond_clockwait(
	    &mono, &cm, CLOCK_PROCESS_CPUTIME_ID, &t)));
	pthread_mutex_unlock(&cm);

	/* A held mutex: clocklock times out; a bad clock is EINVAL. */
	sem_init(&held, 0, 0);
	sem_init(&release, 0, 0);
	pthread_create(&th, NULL, holder, &m);
	sem_wait(&held);
	t = in_ms(CLOCK_MONOTONIC, 30);
	printf("clocklock held: %s\n", strerror(pthread_mutex_clocklock(&m,
	    CLOCK_MONOTONIC, &t)));
	printf("clocklock bad clock: %s\n", strerror(pthread_mutex_clocklock(
	    &m, 12345, &t)));
	sem_post(&release);
	t = in_ms(CLOCK_MONOTONIC, 5000);
	r = pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t);
	printf("clocklock after release: %s\n", strerror(r));
	pthread_mutex_unlock(&m);
	pthread_join(th, NULL);

	/* A write-held rwlock: every timed and clock form times out. */
	pthread_create(&th, NULL, rw_holder, &rw);
	sem_wait(&held);
	t = in_ms(CLOCK_REALTIME, 20);
	printf("timedrdlock: %s\n", strerror(pthread_rwlock_timedrdlock(&rw,
	    &t)));
	t = in_ms(CLOCK_REALTIME, 20);
	printf("timedwrlock: %s\n", strerror(pthread_rwlock_timedwrlock(&rw,
	    &t)));
	t = in_ms(CLOCK_MONOTONIC, 20);
	printf("clockrdlock: %s\n", strerror(pthread_rwlock_clockrdlock(&rw,
	    CLOCK_MONOTONIC, &t)));
	t = in_ms(CLOCK_MONOTONIC, 20);
	printf("clockwrlock: %s\n", strerror(pthread_rwlock_clockwrlock(&rw,
	    CLOCK_MONOTONIC, &t)));
	sem_post(&release);
	t = in_ms(CLOCK_MONOTONIC, 5000);
	printf("clockrdlock after release: %s\n", strerror(
	    pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &t)));
	pthread_rwlock_unlock(&rw);
	pthread_join(th, NULL);

	/* An empty semaphore: sem_clockwait times out, then gets a post. */
	sem_init(&s, 0, 0);
	t = in_ms(CLOCK_MONOTONIC, 20);
	r = sem_clockwait(&s, CLOCK_MONOTONIC, &t);
	printf("sem_clockwait empty: %d %s\n", r, strerror(errno));
	sem_post(&s);
	t = in_ms(CLOCK_MONOTONIC, 20);
	printf("sem_clockwait posted: %d\n", sem_clockwait(&s,
	    CLOCK_MONOTONIC, &t));
}

/* ------------------------------------------------------------ c11 */

static mtx_t cm11;
static cnd_t cc11;
static int turn, counter;
static tss_t key;
static once_flag once = ONCE_FLAG_INIT;
static int onces, dtors;

static void
dtor(void *v)
{
	mtx_lock(&cm11);
	dtors += (int)(long)v;
	mtx_unlock(&cm11);
}

static void
init_once(void)
{
	onces++;
}

/* Two threads take turns through a C11 condvar: 1000 rounds. */
static int
c11_player(void *arg)
{
	int me = (int)(long)arg, i;

	call_once(&once, init_once);
	tss_set(key, (void *)(long)(me + 1));
	for (i = 0; i < 1000; i++) {
		mtx_lock(&cm11);
		while (turn != me)
			cnd_wait(&cc11, &cm11);
		counter++;
		turn = !me;
		cnd_broadcast(&cc11);
		mtx_unlock(&cm11);
	}
	return me + 40;
}

static int
c11_exits(void *arg)
{
	(void)arg;
	thrd_yield();
	thrd_exit(9);
}

static void
part_c11(void)
{
	thrd_t a, b, c;
	mtx_t rm;
	struct timespec t, d = { 0, 1000000 };
	int ra, rb;

	CHECK(mtx_init(&cm11, mtx_plain) == thrd_success);
	CHECK(cnd_init(&cc11) == thrd_success);
	CHECK(tss_create(&key, dtor) == thrd_success);
	CHECK(thrd_create(&a, c11_player, (void *)0L) == thrd_success);
	CHECK(thrd_create(&b, c11_player, (void *)1L) == thrd_success);
	CHECK(thrd_join(a, &ra) == thrd_success);
	CHECK(thrd_join(b, &rb) == thrd_success);
	printf("c11 counter %d results %d %d once %d dtors %d\n", counter, ra,
	    rb, onces, dtors);
	CHECK(thrd_create(&c, c11_exits, NULL) == thrd_success);
	CHECK(thrd_join(c, &ra) == thrd_success);
	printf("thrd_exit %d\n", ra);
	printf("thrd_equal self %d\n", thrd_equal(thrd_current(),
	    thrd_current()) != 0);
	CHECK(mtx_init(&rm, mtx_recursive | mtx_timed) == thrd_success);
	CHECK(mtx_lock(&rm) == thrd_success);
	printf("recursive again %d\n", mtx_trylock(&rm) == thrd_success);
	mtx_unlock(&rm);
	mtx_unlock(&rm);
	mtx_lock(&cm11);
	t = in_ms(CLOCK_REALTIME, 20);
	printf("cnd_timedwait %s\n", cnd_timedwait(&cc11, &cm11, &t) ==
	    thrd_timedout ? "timed out" : "?");
	mtx_unlock(&cm11);
	printf("thrd_sleep %d\n", thrd_sleep(&d, NULL));
	CHECK(thrd_create(&c, c11_exits, NULL) == thrd_success);
	printf("thrd_detach %d\n", thrd_detach(c) == thrd_success);
	tss_delete(key);
	mtx_destroy(&rm);
	cnd_destroy(&cc11);
	mtx_destroy(&cm11);
}

/*
 * The probe: 40 C11 threads alive at once, each noting its kernel
 * thread.  Natively 40 of them; under greenrun -w 2, green threads on
 * at most 2 workers (glibc's thrd_create would make host threads).
 */
#define NPROBE	40
static pid_t tids[NPROBE];
static int arrived;

static int
prober(void *arg)
{
	int i = (int)(long)arg;

	tids[i] = kernel_tid();
	mtx_lock(&cm11);
	if (++arrived == NPROBE)
		cnd_broadcast(&cc11);
	while (arrived < NPROBE)
		cnd_wait(&cc11, &cm11);
	mtx_unlock(&cm11);
	return 0;
}

static void
part_c11probe(void)
{
	thrd_t t[NPROBE];
	int i, j, n = 0;

	mtx_init(&cm11, mtx_plain);
	cnd_init(&cc11);
	for (i = 0; i < NPROBE; i++)
		CHECK(thrd_create(&t[i], prober, (void *)(long)i) ==
		    thrd_success);
	for (i = 0; i < NPROBE; i++)
		thrd_join(t[i], NULL);
	for (i = 0; i < NPROBE; i++) {
		for (j = 0; j < i && tids[j] != tids[i]; j++)
			;
		n += j == i;
	}
	printf("distinct tids %d\n", n);
}

/* ------------------------------------------------------------ futex */

static atomic_int fword;
static atomic_int fdone;

static long
futex(atomic_int *w, int op, int val, const struct timespec *t, int bits)
{
	return syscall(SYS_futex, w, op, val, t, NULL, bits);
}

/* Waits for fword to reach each of 1..100, waking the main thread back. */
static void *
futex_peer(void *arg)
{
	int i;

	(void)arg;
	for (i = 1; i <= 100; i++) {
		while (atomic_load(&fword) != i)
			futex(&fword, FUTEX_WAIT_PRIVATE, i - 1, NULL, 0);
		atomic_store(&fdone, i);
		futex(&fdone, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	}
	return NULL;
}

static void
part_futex(void)
{
	struct timespec rel = { 0, 20000000 }, abs;
	pthread_t th;
	long r;
	int i;

	pthread_create(&th, NULL, futex_peer, NULL);
	for (i = 1; i <= 100; i++) {
		atomic_store(&fword, i);
		futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
		while (atomic_load(&fdone) != i)
			futex(&fdone, FUTEX_WAIT_BITSET_PRIVATE, i - 1, NULL,
			    FUTEX_BITSET_MATCH_ANY);
	}
	pthread_join(th, NULL);
	printf("futex ping-pong %d\n", atomic_load(&fdone));
	r = futex(&fword, FUTEX_WAIT_PRIVATE, 7, NULL, 0);
	printf("futex wait wrong value: %ld %s\n", r, strerror(errno));
	r = futex(&fword, FUTEX_WAIT_PRIVATE, 100, &rel, 0);
	printf("futex wait timeout: %ld %s\n", r, strerror(errno));
	abs = in_ms(CLOCK_MONOTONIC, 20);
	r = futex(&fword, FUTEX_WAIT_BITSET_PRIVATE, 100, &abs,
	    FUTEX_BITSET_MATCH_ANY);
	printf("futex bitset timeout: %ld %s\n", r, strerror(errno));
	abs = in_ms(CLOCK_REALTIME, 20);
	r = futex(&fword, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
	    100, &abs, FUTEX_BITSET_MATCH_ANY);
	printf("futex realtime bitset timeout: %ld %s\n", r, strerror(errno));
	/* Other system calls pass through. */
	printf("getpid via syscall %d\n", syscall(SYS_getpid) == getpid());
}

/* ------------------------------------------------------------ sched */

static pthread_barrier_t bar;

static void *
idler(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void
part_sched(void)
{
	struct sched_param sp;
	cpu_set_t set, none;
	clockid_t clk;
	pthread_t th;
	int policy, r;

	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, idler, NULL);
	pthread_barrier_wait(&bar);
	CHECK(pthread_getschedparam(th, &policy, &sp) == 0);
	printf("policy %s prio %d\n", policy == SCHED_OTHER ? "OTHER" : "?",
	    sp.sched_priority);
	sp.sched_priority = 5;
	printf("OTHER prio 5: %s\n", strerror(pthread_setschedparam(th,
	    SCHED_OTHER, &sp)));
	sp.sched_priority = 0;
	printf("bad policy: %s\n", strerror(pthread_setschedparam(th, 1234,
	    &sp)));
	sp.sched_priority = 0;
	r = pthread_setschedparam(th, SCHED_BATCH, &sp);
	printf("BATCH: %s\n", strerror(r));
	CHECK(pthread_getschedparam(th, &policy, &sp) == 0);
	printf("now %s prio %d\n", policy == SCHED_BATCH ? "BATCH" : "?",
	    sp.sched_priority);
	printf("setschedprio 3: %s\n", strerror(pthread_setschedprio(th, 3)));
	r = pthread_getcpuclockid(th, &clk);
	printf("cpuclockid: %s\n", r == 0 || r == ENOENT ? "ok" : strerror(r));
	CPU_ZERO(&set);
	CHECK(pthread_getaffinity_np(th, sizeof(set), &set) == 0);
	printf("affinity has a cpu: %d\n", CPU_COUNT(&set) > 0);
	printf("setaffinity same: %s\n", strerror(pthread_setaffinity_np(th,
	    sizeof(set), &set)));
	CPU_ZERO(&none);
	printf("setaffinity empty: %s\n", strerror(pthread_setaffinity_np(th,
	    sizeof(none), &none)));
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
}

/* ------------------------------------------------------------ sigwait */

static volatile sig_atomic_t got;

static void
on_usr2(int sig)
{
	got = sig;
}

static pthread_t waiter_of;

static void *
kicker(void *arg)
{
	(void)arg;
	usleep(20000);
	pthread_kill(waiter_of, SIGUSR1);
	usleep(20000);
	kill(getpid(), SIGUSR2);
	return NULL;
}

static void
part_sigwait(void)
{
	struct timespec ts = { 0, 20000000 };
	struct sigaction sa;
	sigset_t set, pend, old;
	siginfo_t si;
	pthread_t th;
	int sig, r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	/* A pending blocked signal: sigpending shows it, sigwait takes it. */
	raise(SIGUSR1);
	sigpending(&pend);
	printf("pending USR1 %d USR2 %d\n", sigismember(&pend, SIGUSR1),
	    sigismember(&pend, SIGUSR2));
	CHECK(sigwait(&set, &sig) == 0);
	printf("sigwait %s\n", sig == SIGUSR1 ? "USR1" : "?");
	sigpending(&pend);
	printf("pending after USR1 %d\n", sigismember(&pend, SIGUSR1));

	/* Nothing pending: sigtimedwait times out with EAGAIN. */
	r = sigtimedwait(&set, &si, &ts);
	printf("sigtimedwait %d %s\n", r, strerror(errno));

	/* Signals sent later by another thread wake the waiter. */
	waiter_of = pthread_self();
	pthread_create(&th, NULL, kicker, NULL);
	r = sigwaitinfo(&set, &si);
	printf("sigwaitinfo %s signo %s\n", r == SIGUSR1 ? "USR1" : "?",
	    si.si_signo == SIGUSR1 ? "USR1" : "?");
	/* sigsuspend with USR2 unblocked: its handler runs, then EINTR. */
	sigemptyset(&pend);
	r = sigsuspend(&pend);
	printf("sigsuspend %d %s got %s\n", r, strerror(errno),
	    got == SIGUSR2 ? "USR2" : "?");
	pthread_join(th, NULL);
	sigprocmask(SIG_SETMASK, NULL, &pend);
	printf("mask restored %d\n", sigismember(&pend, SIGUSR2));

	/* pause: ended by an alarm's handler. */
	sa.sa_handler = on_usr2;
	sigaction(SIGALRM, &sa, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	got = 0;
	alarm(1);
	r = pause();
	printf("pause %d %s got %s\n", r, strerror(errno),
	    got == SIGALRM ? "ALRM" : "?");
}

int
main(int argc, char **argv)
{
	const char *part = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(part, "clock") == 0)
		part_clock();
	else if (strcmp(part, "c11") == 0)
		part_c11();
	else if (strcmp(part, "c11probe") == 0)
		part_c11probe();
	else if (strcmp(part, "futex") == 0)
		part_futex();
	else if (strcmp(part, "sched") == 0)
		part_sched();
	else if (strcmp(part, "sigwait") == 0)
		part_sigwait();
	else
		return 2;
	return 0;
}
