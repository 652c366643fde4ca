/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grmalloc.c -- libgrmalloc.so for gr_malloc_lib: a malloc of its own
 * with per-thread state in TLS, registered by address, as jemalloc's
 * tsd and tcache are (its thread's list entry lives in the TLS block).
 * A thread's state is set up on its first call; registering an address
 * that is already registered means two threads share one block, which
 * an allocator's thread cache cannot survive.  Blocks come from glibc.
 */
#include <stdatomic.h>
#include <stddef.h>

void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	 __libc_free(void *);

void	*malloc(size_t);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);
void	 free(void *);
int	 grmalloc_shared(void);

#define NREG	4096

struct tsd {
	int		 t_inited;
	unsigned long	 t_calls;
};

static __thread struct tsd tsd;
static struct tsd *reg[NREG];		/* (regl) */
static int nreg;			/* (regl) */
static int shared;			/* (regl) duplicate registrations */
/*
 * A bare spin lock: malloc is called from inside the runtime too, where
 * no interposed pthread call belongs.
 */
static atomic_flag regl = ATOMIC_FLAG_INIT;

static void
touch(void)
{
	int i;

	if (tsd.t_inited) {
		tsd.t_calls++;
		return;
	}
	tsd.t_inited = 1;
	while (atomic_flag_test_and_set_explicit(&regl, memory_order_acquire))
		;
	for (i = 0; i < nreg; i++)
		if (reg[i] == &tsd)
			shared++;
	if (nreg < NREG)
		reg[nreg++] = &tsd;
	atomic_flag_clear_explicit(&regl, memory_order_release);
}

int
grmalloc_shared(void)
{
	int n;

	while (atomic_flag_test_and_set_explicit(&regl, memory_order_acquire))
		;
	n = shared;
	atomic_flag_clear_explicit(&regl, memory_order_release);
	return n;
}

void *
malloc(size_t n)
{
	touch();
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	touch();
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	touch();
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	touch();
	__libc_free(p);
}
