/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pshbarrier.c -- a process-shared barrier between the program and a
 * forked child.  Each round the child first signals its parent, then
 * comes to the barrier: natively the parent's handler has run by the
 * time its wait returns (the kernel delivers the signal on the way back
 * from the futex wait), as glibc's tst-mqueue5 relies on.  A second wait
 * ends the round once the parent has looked, so that no later signal
 * comes first or merges with it.  Exactly one of the two is the serial
 * thread of each wait.  Meanwhile another thread of the parent keeps
 * running beside the waits.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS	20

static volatile sig_atomic_t got;
static atomic_int stop, ticks;

static void
handler(int sig)
{
	(void)sig;
	got++;
}

static void *
ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		usleep(1000);
	}
	return NULL;
}

int
main(void)
{
	struct {
		pthread_barrier_t b;
		atomic_int serial;
	} *sh;
	pthread_barrierattr_t a;
	struct sigaction sa;
	pthread_t t;
	int i, r, late = 0, st;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	pthread_barrierattr_init(&a);
	pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->b, &a, 2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);

	if ((pid = fork()) == 0) {
		for (i = 0; i < ROUNDS; i++) {
			usleep(i == 0 ? 200000 : 2000);
			kill(getppid(), SIGUSR1);
			if (pthread_barrier_wait(&sh->b) ==
			    PTHREAD_BARRIER_SERIAL_THREAD)
				atomic_fetch_add(&sh->serial, 1);
			if (pthread_barrier_wait(&sh->b) ==
			    PTHREAD_BARRIER_SERIAL_THREAD)
				atomic_fetch_add(&sh->serial, 1);
		}
		_exit(0);
	}
	pthread_create(&t, NULL, ticker, NULL);
	for (i = 0; i < ROUNDS; i++) {
		r = pthread_barrier_wait(&sh->b);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			atomic_fetch_add(&sh->serial, 1);
		else if (r != 0)
			printf("round %d: barrier_wait gave %d\n", i, r);
		if (got != i + 1)
			late++;
		r = pthread_barrier_wait(&sh->b);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			atomic_fetch_add(&sh->serial, 1);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	waitpid(pid, &st, 0);
	printf("rounds whose signal was handled before the wait returned: "
	    "%d of %d\n", ROUNDS - late, ROUNDS);
	printf("serial threads: %d of %d\n", atomic_load(&sh->serial),
	    2 * ROUNDS);
	printf("the other thread ran during the waits: %s\n",
	    atomic_load(&ticks) >= 50 ? "yes" : "no");
	printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" :
	    "failed");
	return 0;
}
