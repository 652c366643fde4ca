/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spin.c -- the low-level primitives the rest of the runtime stands on:
 * spinlocks, futex(2) and the monotonic clock.
 */
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

__thread int gpi_tls_nlocks __attribute__((tls_model("initial-exec")));

/*
 * Contended path: spin on a plain load (no cache-line ping-pong), and
 * after a while give the CPU away, since the holder may have been
 * preempted by the kernel (a host thread, or a worker on a busy VM).
 */
void
gpi_spin_lock_slow(gpi_spin_t *s)
{
	unsigned spins = 0;

	for (;;) {
		while (atomic_load_explicit(&s->s_locked,
		    memory_order_relaxed)) {
			if (++spins < 128)
				gpi_md_relax();
			else
				gpi_os_yield();
		}
		if (!atomic_exchange_explicit(&s->s_locked, 1,
		    memory_order_acquire))
			return;
	}
}

/*
 * abort(3) of the host, from anywhere, signal handlers included: the
 * preload's abort is green on an LWP, and libc's takes locks.
 */
void
gpi_host_abort(void)
{
	gpi_host_raise_default(SIGABRT);
}

/* Die of (sig) with its default action, as the kernel would deliver it. */
void
gpi_host_raise_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	GPI_LIBC(sigaction)(sig, &dfl, NULL);
	syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), sig);
	__builtin_trap();
}

void
gpi_os_yield(void)
{
	syscall(SYS_sched_yield);
}

uint64_t
gpi_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
gpi_futex_wait(atomic_int *word, int val, uint64_t deadline)
{
	struct timespec ts, *tsp = NULL;

	if (deadline != 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
		ts.tv_sec = (time_t)(deadline / 1000000000u);
		ts.tv_nsec = (long)(deadline % 1000000000u);
		tsp = &ts;
	}
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, val, tsp, NULL,
	    FUTEX_BITSET_MATCH_ANY);
}

void
gpi_futex_wake(atomic_int *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
