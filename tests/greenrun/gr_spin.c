/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_spin.c -- threads that busy-wait on each other, and SIGURG.
 *
 *	gr_spin ring	NTHREADS threads pass a token round a ring ROUNDS
 *			times, each spinning on an atomic load (no call in
 *			the loop) until the token is its own; main spins
 *			until the count of passes is complete, as redis's
 *			main thread waits for its I/O threads.  More threads
 *			than workers, so some spinner always shares its
 *			worker with the thread it waits for: without
 *			preemption the program never ends.
 *	gr_spin urg	a SIGURG the kernel sends the process (kill(2) as a
 *			system call, not the preload's green kill) reaches
 *			the program's handler while a thread spins.
 *	gr_spin urgpoll	main polls and selects with a zero timeout in a
 *			loop while a child sends the process SIGURG from
 *			outside, which it leaves at its default (ignored):
 *			natively no call is interrupted.  Under greenrun
 *			the workers take SIGURG (preemption); one that
 *			came during the worker's own zero-timeout poll
 *			made the program's call fail with EINTR (seen as
 *			gr_eintr's flake on a loaded machine, where the
 *			watchdog's own SIGURG came late).
 *
 * Prints what it saw; the run must print the same natively.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS	4
#define ROUNDS		8

static atomic_int token, passes;

static void *
ring_thread(void *arg)
{
	int me = (int)(long)arg, r;

	for (r = 0; r < ROUNDS; r++) {
		while (atomic_load_explicit(&token, memory_order_acquire) != me)
			;
		atomic_fetch_add(&passes, 1);
		atomic_store_explicit(&token, (me + 1) % NTHREADS,
		    memory_order_release);
	}
	return NULL;
}

static int
ring(void)
{
	pthread_t t[NTHREADS];
	long i;

	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, ring_thread, (void *)i) != 0) {
			perror("pthread_create");
			return 1;
		}
	while (atomic_load(&passes) != NTHREADS * ROUNDS)
		;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("ring: %d passes, token at %d\n", atomic_load(&passes),
	    atomic_load(&token));
	return 0;
}

static atomic_int got_urg, stop;

static void
on_urg(int sig)
{
	(void)sig;
	atomic_store(&got_urg, 1);
}

static void *
spinner(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		;
	return NULL;
}

static int
urg(void)
{
	struct sigaction sa;
	pthread_t t;
	struct timespec nap = { 0, 1000000 };
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_urg;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGURG, &sa, NULL);
	if (pthread_create(&t, NULL, spinner, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	/* Through the kernel: the preload's kill() would post it green. */
	syscall(SYS_kill, getpid(), SIGURG);
	for (i = 0; i < 10000 && !atomic_load(&got_urg); i++)
		nanosleep(&nap, NULL);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("urg: handler %s\n", atomic_load(&got_urg) ? "ran" : "never ran");
	return 0;
}

static int
urgpoll(void)
{
	struct timespec nap = { 0, 100000 }, t0, t;
	struct pollfd pfd;
	struct timeval tv;
	fd_set rd;
	int p[2], st, eintr = 0, other = 0, calls = 0;
	pid_t pid, parent = getpid();

	if (pipe(p) != 0)
		return 1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		/* Through the kernel, for 300 ms. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			syscall(SYS_kill, parent, SIGURG);
			nanosleep(&nap, NULL);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) < 300000000L);
		_exit(0);
	}
	if (pid < 0)
		return 1;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) < 0)
			errno == EINTR ? eintr++ : other++;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		tv.tv_sec = tv.tv_usec = 0;
		if (select(p[0] + 1, &rd, NULL, NULL, &tv) < 0)
			errno == EINTR ? eintr++ : other++;
		calls += 2;
	}
	printf("urgpoll: %s calls, %d interrupted, %d other errors\n",
	    calls > 100 ? "many" : "few", eintr, other);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "urg") == 0)
		return urg();
	if (argc > 1 && strcmp(argv[1], "urgpoll") == 0)
		return urgpoll();
	return ring();
}
