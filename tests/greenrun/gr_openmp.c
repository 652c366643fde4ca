/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_openmp.c -- GCC's OpenMP runtime (libgomp), as compiled OpenMP code
 * calls it: parallel regions of more threads than workers, with a
 * barrier, a critical section and a reduction in each.  libgomp parks
 * its threads with futex system calls made inline, which no interposer
 * sees: green, a thread parked there held its worker, and the thread
 * that would have woken it never ran.  Natively and under greenrun the
 * same.  Linked with libgomp directly (its entry points are declared
 * here), so that any C compiler builds it without -fopenmp.
 */
#include <stdatomic.h>
#include <stdio.h>

void	GOMP_parallel(void (*)(void *), void *, unsigned, unsigned);
void	GOMP_barrier(void);
void	GOMP_critical_start(void);
void	GOMP_critical_end(void);
int	omp_get_thread_num(void);
int	omp_get_num_threads(void);

#define THREADS		4
#define REGIONS		200

struct region {
	atomic_long	 sum;		/* the reduction */
	atomic_int	 arrived;	/* before the barrier */
	int		 crit;		/* under the critical section */
	atomic_int	 late;		/* threads that passed it too early */
	atomic_int	 ids;		/* bit per thread number */
	int		 nthreads;
};

static void
body(void *arg)
{
	struct region *r = arg;
	int id = omp_get_thread_num();
	long i, local = 0;

	for (i = id; i < 100000; i += omp_get_num_threads())
		local += i % 7;
	atomic_fetch_add(&r->sum, local);
	atomic_fetch_or(&r->ids, 1 << id);
	atomic_fetch_add(&r->arrived, 1);
	GOMP_barrier();
	if (atomic_load(&r->arrived) != omp_get_num_threads())
		atomic_fetch_add(&r->late, 1);
	GOMP_critical_start();
	r->crit++;
	GOMP_critical_end();
	if (id == 0)
		r->nthreads = omp_get_num_threads();
}

int
main(void)
{
	struct region r;
	long sums = 0;
	int k, bad = 0;

	for (k = 0; k < REGIONS; k++) {
		atomic_init(&r.sum, 0);
		atomic_init(&r.arrived, 0);
		atomic_init(&r.late, 0);
		atomic_init(&r.ids, 0);
		r.crit = 0;
		r.nthreads = 0;
		GOMP_parallel(body, &r, THREADS, 0);
		sums += atomic_load(&r.sum);
		if (r.nthreads != THREADS || r.crit != THREADS ||
		    atomic_load(&r.ids) != (1 << THREADS) - 1 ||
		    atomic_load(&r.late) != 0)
			bad++;
	}
	printf("%d regions of %d threads, %d wrong, sum %ld\n", REGIONS,
	    THREADS, bad, sums);
	return 0;
}
