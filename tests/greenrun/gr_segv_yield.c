/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_segv_yield.c -- threads that take faults their own SIGSEGV handler
 * repairs, as a JVM's do (a null check, a safepoint poll): the handler
 * calls pthread_sigmask and sched_yield, then unprotects the page, and
 * the faulting store runs again.  More threads than workers fault at
 * once.  Natively every handler runs on its own thread's stack; green,
 * a handler that gave up its worker there left its frame on the
 * worker's signal stack, where the next fault on that worker wrote its
 * own: the first thread then returned into garbage.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS		6
#define ROUNDS		2000

static char *pages[THREADS];
static long pagesz;

static void
on_segv(int sig, siginfo_t *si, void *ctx)
{
	sigset_t old;
	char *page = (char *)((uintptr_t)si->si_addr & ~(uintptr_t)(pagesz - 1));

	(void)sig;
	(void)ctx;
	pthread_sigmask(SIG_SETMASK, NULL, &old);
	sched_yield();
	mprotect(page, (size_t)pagesz, PROT_READ | PROT_WRITE);
}

static void *
run(void *arg)
{
	long id = (long)arg, i, bad = 0;
	volatile char *p = pages[id];

	for (i = 0; i < ROUNDS; i++) {
		if (mprotect(pages[id], (size_t)pagesz, PROT_NONE) != 0)
			return (void *)-1L;
		p[i % 64] = (char)(id + i);	/* faults, then runs again */
		if (p[i % 64] != (char)(id + i))
			bad++;
	}
	return (void *)bad;
}

int
main(void)
{
	struct sigaction sa;
	pthread_t t[THREADS];
	long i, bad = 0;
	void *r;

	pagesz = sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		return 1;
	for (i = 0; i < THREADS; i++) {
		pages[i] = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pages[i] == MAP_FAILED)
			return 1;
	}
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	printf("%d threads, %d faults each, %ld wrong\n", THREADS, ROUNDS, bad);
	return 0;
}
