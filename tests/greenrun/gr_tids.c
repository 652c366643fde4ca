/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_tids.c -- every thread has a kernel thread id of its own: main's
 * is the pid, the others differ from it and from each other, and stay
 * the same for a thread's life; syscall(SYS_gettid) agrees with
 * gettid().  The calls that take one reach that thread: tgkill (and
 * the raw tgkill and tkill) run a handler on the thread named, to
 * itself before the call returns; sched_getaffinity takes one; a
 * joined thread's id is gone (ESRCH).  A forked child's main thread is
 * its pid again.  Under greenrun, green threads used to share their
 * worker's id (CPython's test_threading counts distinct native ids).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS	8

static pid_t tids[THREADS];
static volatile pid_t handled_on[THREADS];
static pthread_barrier_t ready, done;

static int
slot_of(pid_t tid)
{
	for (int i = 0; i < THREADS; i++)
		if (tids[i] == tid)
			return i;
	return -1;
}

static void
on_usr1(int sig)
{
	int i = slot_of(gettid());

	(void)sig;
	if (i >= 0)
		handled_on[i] = gettid();
}

static void *
run(void *arg)
{
	long i = (long)arg;
	pid_t t = gettid();
	int same = 1;

	tids[i] = t;
	if ((pid_t)syscall(SYS_gettid) != t)
		same = 0;
	/* To itself: handled before the call returns. */
	if (tgkill(getpid(), t, SIGUSR1) != 0 || handled_on[i] != t)
		same = 0;
	handled_on[i] = 0;
	pthread_barrier_wait(&ready);
	sched_yield();
	if (gettid() != t)
		same = 0;
	pthread_barrier_wait(&done);	/* main signals us meanwhile */
	return (void *)(long)same;
}

int
main(void)
{
	pthread_t th[THREADS];
	cpu_set_t cpus;
	int distinct = 1, stable = 1, reached = 0, aff = 1, st, rc;
	long i, j;
	void *r;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	printf("main: gettid is the pid: %d, syscall agrees: %d\n",
	    gettid() == getpid(), (pid_t)syscall(SYS_gettid) == getpid());
	pthread_barrier_init(&ready, NULL, THREADS + 1);
	pthread_barrier_init(&done, NULL, THREADS + 1);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	pthread_barrier_wait(&ready);
	for (i = 0; i < THREADS; i++) {
		if (tids[i] == getpid() || tids[i] <= 0)
			distinct = 0;
		for (j = 0; j < i; j++)
			if (tids[i] == tids[j])
				distinct = 0;
		if (sched_getaffinity(tids[i], sizeof(cpus), &cpus) != 0)
			aff = 0;
	}
	/* Each thread by its id, three ways. */
	for (i = 0; i < THREADS; i++) {
		if (i % 3 == 0)
			tgkill(getpid(), tids[i], SIGUSR1);
		else if (i % 3 == 1)
			syscall(SYS_tgkill, getpid(), tids[i], SIGUSR1);
		else
			syscall(SYS_tkill, tids[i], SIGUSR1);
	}
	pthread_barrier_wait(&done);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &r);
		stable &= (int)(long)r;
	}
	for (i = 0; i < THREADS; i++)
		reached += handled_on[i] == tids[i];
	printf("threads: distinct and not the pid: %d, stable: %d\n",
	    distinct, stable);
	printf("tgkill/tkill reached the thread named: %d of %d\n", reached,
	    THREADS);
	printf("sched_getaffinity of a thread id: %d\n", aff);
	errno = 0;
	rc = tgkill(getpid(), tids[0], 0);
	printf("tgkill of a joined thread: %d %s\n", rc, strerror(errno));
	if ((pid = fork()) == 0)
		_exit(gettid() == getpid() ? 0 : 1);
	waitpid(pid, &st, 0);
	printf("child: gettid is its pid: %d\n",
	    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}
