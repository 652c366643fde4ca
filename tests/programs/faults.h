/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faults.h -- one synchronous fault of each kind, made by plain libc
 * code (no greenproc header), for tests/test_fault.c (no preload) and
 * tests/programs/fault_kinds.c (under the preload).
 *
 * fault_make(kind) does what its kind says and never returns when the
 * fault kills: a NULL dereference, a write to a read-only page (a wild
 * write), a misaligned aligned-store (movaps, x86-64: #GP), abort(3),
 * a failed assert (glibc's own abort, which no interposer sees), an
 * integer division by zero, ud2, int3, a read past the end of a
 * truncated file mapping, and a stack overflow; and, not a fault but
 * taken for one, raise(3) of each of the five fault signals at SIG_DFL
 * ("raise-" kinds: sent, contained without a report).
 *
 * Under ASan its own handlers (installed before the runtime's) take
 * SIGSEGV, SIGBUS and SIGFPE; the runtime chains to them, so those kinds
 * are not contained there: fault_asan_takes() says which.
 */
#ifndef GP_PROGRAMS_FAULTS_H
#define GP_PROGRAMS_FAULTS_H

#undef NDEBUG
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fault_kind {
	const char	*name;
	int		 sig;	/* the WTERMSIG the parent must see */
	bool		 sent;	/* raise(sig): no report on stderr */
};

static const struct fault_kind fault_kinds[] = {
	{ "null", SIGSEGV, false },
	{ "wild", SIGSEGV, false },
#if defined(__x86_64__)
	{ "misaligned", SIGSEGV, false },
#endif
	{ "abort", SIGABRT, false },
	{ "assert", SIGABRT, false },
	{ "fpe", SIGFPE, false },
#if defined(__x86_64__) || defined(__i386__)
	{ "ill", SIGILL, false },
	{ "trap", SIGTRAP, false },
#endif
	{ "bus", SIGBUS, false },
	{ "overflow", SIGSEGV, false },
	{ "raise-segv", SIGSEGV, true },
	{ "raise-bus", SIGBUS, true },
	{ "raise-ill", SIGILL, true },
	{ "raise-fpe", SIGFPE, true },
	{ "raise-trap", SIGTRAP, true },
};
#define NFAULT_KINDS	(sizeof(fault_kinds) / sizeof(fault_kinds[0]))

static inline bool
fault_asan_takes(const struct fault_kind *k)
{
	const char *san = getenv("GREENPROC_TEST_SAN");

	return san != NULL && *san != '\0' && strcmp(k->name, "overflow") &&
	    (k->sig == SIGSEGV || k->sig == SIGBUS || k->sig == SIGFPE);
}

static int __attribute__((noinline))
fault_recurse(int n)
{
	/* Not the shape of test_fault.c's overflow_here: LTO would fold them. */
	volatile char frame[1536];

	memset((char *)frame, n ^ 0x5a, sizeof(frame));
	return n == 0 ? frame[3] : fault_recurse(n - 1) - frame[11];
}

/* Make the fault (kind); returns only if it did not kill (a failure). */
static int __attribute__((noinline))
fault_make(const char *kind)
{
	static volatile int zero;
	long pg = sysconf(_SC_PAGESIZE);

	if (strcmp(kind, "null") == 0)
		return *(volatile int *)(uintptr_t)zero;
	if (strcmp(kind, "wild") == 0) {
		char *ro = mmap(NULL, (size_t)pg, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (ro == MAP_FAILED)
			return -1;
		*(volatile char *)(ro + 17) = 1;
		return -2;
	}
#if defined(__x86_64__)
	if (strcmp(kind, "misaligned") == 0) {
		static char buf[64] __attribute__((aligned(16)));

		__asm__ volatile("xorps %%xmm0, %%xmm0\n\t"
		    "movaps %%xmm0, (%0)" : : "r"(buf + 1 + zero) :
		    "xmm0", "memory");
		return -2;
	}
#endif
	if (strcmp(kind, "abort") == 0)
		abort();
	if (strcmp(kind, "assert") == 0) {
		assert(zero == 1 && "the fault test's failed assert");
		return -2;
	}
	if (strcmp(kind, "fpe") == 0) {
		/* Not 1 / zero: compilers make that a compare, no division. */
		static volatile int num = 1000;

		return num / zero;
	}
#if defined(__x86_64__) || defined(__i386__)
	if (strcmp(kind, "ill") == 0)
		__asm__ volatile("ud2");
	if (strcmp(kind, "trap") == 0) {
		__asm__ volatile("int3");
		return -2;
	}
#endif
	if (strcmp(kind, "bus") == 0) {
		char path[] = "/tmp/gp-bus-XXXXXX";
		int fd = mkstemp(path);
		char *m;

		if (fd < 0)
			return -1;
		unlink(path);
		if (ftruncate(fd, pg) != 0)
			return -1;
		m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (m == MAP_FAILED || ftruncate(fd, 0) != 0)
			return -1;
		return *(volatile char *)m;
	}
	if (strcmp(kind, "overflow") == 0)
		return fault_recurse(1 << 24);
	if (strncmp(kind, "raise-", 6) == 0) {
		size_t i;

		for (i = 0; i < NFAULT_KINDS; i++)
			if (strcmp(kind, fault_kinds[i].name) == 0) {
				raise(fault_kinds[i].sig);
				return -2;
			}
	}
	return -3;
}

#endif /* GP_PROGRAMS_FAULTS_H */
