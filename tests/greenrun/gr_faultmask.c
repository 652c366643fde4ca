/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_faultmask.c -- a program's handlers for the fault signals run with
 * the mask the kernel gives them: their sa_mask and, unless SA_NODEFER,
 * their own signal blocked; SA_RESETHAND resets the action first.
 * Under greenrun (and in a plain child forked there) the runtime's own
 * fault handler takes these signals and calls the program's; it used
 * to call it with nothing blocked, so a handler that raised its own
 * signal recursed until the signal stack overflowed (stress-ng's
 * signest died of SIGSEGV).
 *
 * Each case prints the order in which the handlers ran; main runs them
 * on its (green) thread, then in a forked child, then the nested and
 * longjmp cases on four threads at once.
 *
 * - "self":  SIGILL's handler raises SIGILL: the second runs after the
 *            first returns;
 * - "mask":  SIGFPE's handler (sa_mask SIGILL) raises SIGILL: after;
 * - "nodefer": SA_NODEFER: the raise runs inside;
 * - "reset": SA_RESETHAND: the second raise of SIGTRAP kills (child);
 * - "nested": SIGSEGV's handler unblocks SIGSEGV with pthread_sigmask
 *            (as a JVM's does) and faults again; the inner run repairs
 *            the page; the outer one then yields, and its frame must be
 *            intact after;
 * - "jump":  a thousand faults left by siglongjmp, each restoring the
 *            mask, on four threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS	4
#define JUMPS	1000

/* Written by the handlers: volatile, read again after each raise. */
static volatile char trail[64];
static volatile int ntrail;
static volatile int depth;

static void
note(char c)
{
	if (ntrail < (int)sizeof(trail) - 1)
		trail[ntrail++] = c;
}

static void
on_sig(int sig)
{
	note('(');
	note(sig == SIGILL ? 'I' : sig == SIGFPE ? 'F' : 'T');
	if (depth++ == 0) {
		if (sig == SIGFPE)
			raise(SIGILL);
		else
			raise(sig);
	}
	note(')');
}

static void
set(int sig, int flags, int masked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	sigaction(sig, &sa, NULL);
}

static void
one(const char *name, int sig, int flags, int masked)
{
	ntrail = 0;
	depth = 0;
	for (size_t i = 0; i < sizeof(trail); i++)
		trail[i] = '\0';
	set(SIGILL, 0, 0);
	set(sig, flags, masked);
	raise(sig);
	printf("%s %s\n", name, (const char *)trail);
}

/* ---------------------------------------------------- nested faults */

static long pagesz;
static __thread volatile char *tpage;
static __thread int tdepth;
static __thread sigjmp_buf tjump;
static __thread int tjumping;

static atomic_int torn;		/* outer handler frames found overwritten */

static void
on_segv(int sig, siginfo_t *si, void *ctx)
{
	volatile uintptr_t canary = (uintptr_t)&canary ^ (uintptr_t)tpage;
	sigset_t s;

	(void)sig;
	(void)si;
	(void)ctx;
	if (tjumping)
		siglongjmp(tjump, 1);
	if (tdepth++ == 0) {
		sigemptyset(&s);
		sigaddset(&s, SIGSEGV);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		tpage[1] = 1;		/* faults again, inside */
		/*
		 * Back in the outer handler: a yield here must not let another
		 * thread's fault build its frame over this one.
		 */
		sched_yield();
		if (canary != ((uintptr_t)&canary ^ (uintptr_t)tpage))
			atomic_fetch_add(&torn, 1);
	} else {
		mprotect((void *)tpage, (size_t)pagesz,
		    PROT_READ | PROT_WRITE);
	}
	tdepth--;
}

static void *
faults(void *arg)
{
	volatile long bad = 0;
	long i;

	(void)arg;
	tpage = mmap(NULL, (size_t)pagesz, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tpage == MAP_FAILED)
		return (void *)-1L;
	for (i = 0; i < 100; i++) {
		mprotect((void *)tpage, (size_t)pagesz, PROT_NONE);
		tpage[0] = 2;		/* nested case */
		if (tpage[0] != 2 || tpage[1] != 1)
			bad++;
	}
	mprotect((void *)tpage, (size_t)pagesz, PROT_NONE);
	tjumping = 1;
	for (i = 0; i < JUMPS; i++) {
		if (sigsetjmp(tjump, 1) == 0) {
			tpage[2] = 3;
			bad++;		/* never: the store faults */
		}
	}
	tjumping = 0;
	munmap((void *)tpage, (size_t)pagesz);
	return (void *)(long)bad;
}

int
main(void)
{
	struct sigaction sa;
	pthread_t t[THREADS];
	long bad = 0;
	void *r;
	pid_t pid;
	int i, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pagesz = sysconf(_SC_PAGESIZE);
	one("self", SIGILL, 0, 0);
	one("mask", SIGFPE, 0, SIGILL);
	one("nodefer", SIGILL, SA_NODEFER, 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		one("child-self", SIGILL, 0, 0);
		one("child-mask", SIGFPE, 0, SIGILL);
		fflush(stdout);
		set(SIGTRAP, SA_RESETHAND, 0);
		depth = 1;
		raise(SIGTRAP);
		printf("child: survived the first SIGTRAP\n");
		fflush(stdout);
		raise(SIGTRAP);
		printf("child: survived the second SIGTRAP\n");
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("child: %s %d\n", WIFSIGNALED(st) ? "killed by" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, faults, NULL);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	printf("nested and jump: %ld bad, %d torn frames\n", bad,
	    atomic_load(&torn));
	return 0;
}
