/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * passthrough.c -- no green code at all: a plain program using exit and
 * atexit, real pthreads with a mutex and a condition variable, real fork
 * children with waitpid, kill and signal handlers, nanosleep, getpid.
 * Under the preload it must behave exactly as without it: the test runs
 * it both ways and compares the output (deterministic: no pids, no times)
 * and the exit status.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void ae1(void) { printf("atexit 1\n"); }
static void ae2(void) { printf("atexit 2\n"); }

static void
oe(int status, void *arg)
{
	printf("on_exit status=%d arg=%s\n", status, (const char *)arg);
}

static pthread_t self_seen[4];

static void *
thread_fn(void *arg)
{
	intptr_t i = (intptr_t)arg;

	self_seen[i] = pthread_self();
	if (i % 2)
		pthread_exit((void *)(i * 10));
	return (void *)(i * 10);
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn;
static long count[2];

static void *
pingpong(void *arg)
{
	int me = (int)(intptr_t)arg, i;

	for (i = 0; i < 20000; i++) {
		pthread_mutex_lock(&m);
		while (turn != me)
			pthread_cond_wait(&c, &m);
		count[me]++;
		turn = !me;
		pthread_cond_signal(&c);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr1(int sig) { (void)sig; got_usr1++; }
static void on_usr2(int sig) { (void)sig; got_usr2++; }

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
pshared_barrier(void)
{
	pthread_barrierattr_t a;
	pthread_barrier_t *b;
	pid_t kid;
	int st = -1;

	b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	CHECK(b != MAP_FAILED, "mmap");
	if (b == MAP_FAILED)
		return;
	pthread_barrierattr_init(&a);
	pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	CHECK(pthread_barrier_init(b, &a, 2) == 0, "pshared barrier init");
	if ((kid = fork()) == 0) {
		pthread_barrier_wait(b);
		_exit(0);
	}
	pthread_barrier_wait(b);
	CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "pshared barrier child");
	CHECK(pthread_barrier_destroy(b) == 0, "pshared barrier destroy");
	munmap(b, 4096);
}

int
main(void)
{
	struct sigaction sa;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pthread_t t[4], a, b;
	pid_t pid, r;
	void *v;
	double t0;
	intptr_t i;
	int st, e, bad;

	atexit(ae1);
	on_exit(oe, "pt");
	atexit(ae2);

	/* ids */
	CHECK(getpid() == (pid_t)syscall(SYS_getpid), "getpid");
	CHECK(getppid() == (pid_t)syscall(SYS_getppid), "getppid");
	CHECK(getpgrp() == getpgid(0), "getpgrp");

	/* threads */
	for (i = 0; i < 4; i++)
		CHECK_QUIET(pthread_create(&t[i], NULL, thread_fn, (void *)i) ==
		    0, "pthread_create");
	bad = 0;
	for (i = 0; i < 4; i++) {
		v = NULL;
		e = pthread_join(t[i], &v);
		bad += e != 0 || (intptr_t)v != i * 10 ||
		    !pthread_equal(t[i], self_seen[i]);
	}
	CHECK(bad == 0, "%d threads joined wrong", bad);
	CHECK(!pthread_equal(t[0], pthread_self()), "pthread_equal");
	e = pthread_join(pthread_self(), NULL);
	CHECK(e == EDEADLK, "self-join = %d", e);

	/* mutex + cond between real threads */
	pthread_create(&a, NULL, pingpong, (void *)0);
	pthread_create(&b, NULL, pingpong, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(count[0] == 20000 && count[1] == 20000, "ping-pong");

	/* fork + _exit, waitpid */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(5);
	st = -1;
	r = waitpid(pid, &st, 0);
	CHECK(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	    "fork child status 0x%x", st);

	/* fork + kill(SIGTERM), wait */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(kill(pid, SIGTERM) == 0, "kill: %s", strerror(errno));
	st = -1;
	r = wait(&st);
	CHECK(r == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "killed child status 0x%x", st);

	/* no children left: ECHILD, errno as glibc's */
	errno = 0;
	r = waitpid(-1, &st, WNOHANG);
	CHECK(r == -1 && errno == ECHILD, "waitpid(-1) = %d errno %d", (int)r,
	    errno);
	errno = 0;
	CHECK(kill(999999999, 0) == -1 && errno == ESRCH, "kill ESRCH: %d",
	    errno);

	/* signal handlers: sigaction, signal, raise, kill(getpid()) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	CHECK(signal(SIGUSR2, on_usr2) != SIG_ERR, "signal");
	CHECK(raise(SIGUSR1) == 0 && got_usr1 == 1, "raise: %d", got_usr1);
	CHECK(kill(getpid(), SIGUSR2) == 0 && got_usr2 == 1, "kill self: %d",
	    got_usr2);
	CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0 && got_usr1 == 2,
	    "pthread_kill: %d", got_usr1);
	{
		sigset_t set, old;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask");
		raise(SIGUSR1);
		CHECK(got_usr1 == 2, "blocked signal delivered");
		CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0 &&
		    got_usr1 == 3, "unblocked signal not delivered: %d",
		    got_usr1);
	}

	/* SIGCHLD ignored: children are reaped by the kernel */
	CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR, "SIGCHLD SIG_IGN");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(1);
	errno = 0;
	r = wait(&st);
	CHECK(r == -1 && errno == ECHILD, "wait with SIGCHLD ignored = %d",
	    (int)r);
	signal(SIGCHLD, SIG_DFL);

	/* nanosleep */
	t0 = now_s();
	CHECK(nanosleep(&ts, NULL) == 0, "nanosleep");
	CHECK(now_s() - t0 >= 0.019, "slept too short");
	CHECK(usleep(1000) == 0, "usleep");
	CHECK(sched_yield() == 0, "sched_yield");

	/* A process-shared barrier between real processes stays glibc's. */
	pshared_barrier();

	return check_exit_code();
}
