/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runtime.c -- starting and stopping the runtime, attributes, counters
 * and the panic path.
 *
 * gp_init() is idempotent and implied by first use.  gp_shutdown() is
 * the host-level teardown: kill every LWP, wait (bounded) for all of them
 * to reach a cancellation point and die, stop the workers, free every
 * stack and struct.  An LWP stuck in user code cannot be stopped: it is
 * named on stderr, its worker is abandoned and gp_shutdown() fails with
 * EBUSY after freeing the rest.
 *
 * NOTE: what an abandoned worker may touch is never freed, and the next
 * runtime shares none of it: the worker array, every stack slab, every
 * process but the zombies nothing runs for (leaked on purpose, counted in
 * gp_stats, said on stderr).  The worker itself runs its LWP's user code
 * until that comes back to the runtime at a fence point (gpi_fence), where
 * the worker parks for good: so after gp_init() it touches neither init,
 * nor the pools, nor the tables of the new runtime.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Passthrough data: exit(3) reads rt_state in every process. */
struct gpi_runtime gpi_rt GPI_PASSDATA = {
	.rt_lock = GPI_SPIN_INIT(GPI_RANK_RT),
};

/*
 * Aligned, so that the parent's side of wait and exit is in two lines
 * (the NOTE in struct gp_proc): init is the parent of every process a
 * host thread spawns.
 */
#ifndef GREENPROC_DEBUG		/* its checked spinlock is 8 bytes more */
#define PROC_LINE(f)	(offsetof(struct gp_proc, f) / 64)
_Static_assert(PROC_LINE(p_lock) == 0 && PROC_LINE(p_flags) == 0 &&
    PROC_LINE(p_nwaiters) == 1 && PROC_LINE(p_rq_tail) == 1 &&
    PROC_LINE(p_waitgen) == 1 && PROC_LINE(p_children) == 1,
    "init's wait and exit fields: two cache lines");
#endif

struct gp_proc gpi_proc0 __attribute__((aligned(64))) = {
	.p_pid = GP_PID_INIT,
	.p_lock = GPI_SPIN_INIT(GPI_RANK_PROC),
	.p_stat = GPI_SACTIVE,
	.p_comm = "init",
};

int gpi_preloaded GPI_PASSDATA;

void
gpi_panic(const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "greenproc: panic at %s:%d (%s): ", file, line, func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Not abort(): under the preload that is green on an LWP. */
	gpi_host_abort();
}

/*
 * One runtime per process.  gp_init is exported by the object that holds
 * the process's runtime (the preload, or libgreenproc.so); a program
 * linked with libgreenproc.a has a copy whose names it does not export.
 * If the gp_init the dynamic linker finds lives in another object than
 * this copy, there are two runtimes: their LWPs would not see each
 * other's TLS, so the preload would take this copy's green code for host
 * code (exit() in a green process would end the host, abort() abort it).
 * This copy refuses to start: EEXIST, and one line on stderr.  (Making it
 * defer to the other would mean a forwarding check in every gp_ entry
 * point, and the gpi_ internals a static program may use cannot be
 * forwarded at all.)
 */
static int
sole_runtime(void)
{
	static atomic_bool told;
	Dl_info mine, other;
	void *sym;

	if ((sym = dlsym(RTLD_DEFAULT, "gp_init")) == NULL)
		return 0;		/* nothing exports it: we are alone */
	if (dladdr((void *)sole_runtime, &mine) == 0 ||
	    dladdr(sym, &other) == 0 || mine.dli_fbase == other.dli_fbase)
		return 0;
	if (!atomic_exchange(&told, true))
		fprintf(stderr, "greenproc: two runtimes in one process: %s "
		    "has one and %s another; this one (gp_init) fails with "
		    "EEXIST.  Under libgreenproc_preload.so, link "
		    "libgreenproc.so (-lgreenproc), not libgreenproc.a.\n",
		    mine.dli_fname, other.dli_fname);
	return EEXIST;
}

int
gp_init(int nworkers)
{
	bool dump_wanted = false;
	int error = 0;

	/* Checked first, even when up: a bad argument is always refused. */
	if (nworkers < 0 || nworkers > GP_WORKERS_MAX) {
		errno = EINVAL;
		return -1;
	}
	gpi_libc_init();
	gpi_spin_lock(&gpi_rt.rt_lock);
	if (atomic_load(&gpi_rt.rt_state) == GPI_RT_UP)
		goto out;
	if ((error = sole_runtime()) != 0 || (error = gpi_rcu_load()) != 0)
		goto out;
	if (nworkers == 0 && (nworkers = (int)gpi_env(GPI_ENV_WORKERS)) == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		nworkers = ncpu < 1 ? 1 : ncpu > GP_WORKERS_MAX ?
		    GP_WORKERS_MAX : (int)ncpu;
	}
	/* Per-LWP C++ exception state, only where libstdc++ is loaded. */
	gpi_rt.rt_cxa_globals = (void *(*)(void))dlsym(RTLD_DEFAULT,
	    "__cxa_get_globals");
	(void)gpi_stack_default();
	if ((error = gpi_stack_init()) != 0 ||
	    (error = gpi_proc_init(nworkers + GPI_SPARES)) != 0)
		goto out;
	/* Before the workers: their mask leaves its signal open. */
	if ((error = gpi_preempt_init()) != 0 ||
	    (error = gpi_sched_start(nworkers)) != 0) {
		gpi_preempt_fini();
		gpi_proc_fini();
		goto out;
	}
	gpi_fault_init();
	/* Release: workers and structs are set up before anyone sees UP. */
	atomic_store_explicit(&gpi_rt.rt_state, GPI_RT_UP,
	    memory_order_release);
	dump_wanted = true;
out:
	gpi_spin_unlock(&gpi_rt.rt_lock);
	if (error != 0) {
		errno = error;
		return -1;
	}
	if (dump_wanted)
		gpi_dump_init();	/* takes rt_lock itself */
	return 0;
}

int
gpi_runtime_ensure(void)
{
	int state = atomic_load_explicit(&gpi_rt.rt_state,
	    memory_order_acquire);

	if (likely(state == GPI_RT_UP))
		return 0;
	if (state == GPI_RT_STOPPING)
		return EAGAIN;
	return gp_init(0) == 0 ? 0 : errno;
}

/* LWPs created and not yet off their stacks, summed over all threads. */
long
gpi_lwps_alive(void)
{
	long n = (long)atomic_load(&gpi_rt.rt_ncreated);
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		n += (long)GPI_RD(gpi_rt.rt_workers[i].w_ncreated);
		n -= (long)GPI_RD(gpi_rt.rt_workers[i].w_nexited);
	}
	return n;
}

static void
kill_all(struct gp_proc *p)
{
	struct gp_lwp *l;

	gpi_spin_lock(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		gpi_lwp_kill(l);
	gpi_spin_unlock(&p->p_lock);
}

/*
 * Name the LWP that kept abandoned worker (w): the one running there.
 * Its process is left allocated (gpi_proc_abandon), and the worker is
 * in user code, so the LWP and its process hold still while we read.
 */
static void
name_stuck(struct gp_worker *w)
{
	struct gp_lwp *l = __atomic_load_n(&w->w_curlwp, __ATOMIC_RELAXED);
	struct gp_proc *p;
	void *entry;
	Dl_info di;

	if (l == NULL) {
		fprintf(stderr, "greenproc: shutdown: worker %d did not stop "
		    "and runs no LWP\n", w->w_id);
		return;
	}
	p = l->l_proc;
	entry = gpi_lwp_entry(l);
	fprintf(stderr, "greenproc: shutdown: LWP %d of pid %d (%s) never "
	    "reached a cancellation point: it runs user code (entry ", l->l_tid,
	    (int)__atomic_load_n(&p->p_pid, __ATOMIC_RELAXED), p->p_comm);
	/* A name if it is exported, else object+offset for addr2line. */
	if (dladdr(entry, &di) == 0 || di.dli_fname == NULL)
		fprintf(stderr, "%p", entry);
	else if (di.dli_sname != NULL && di.dli_saddr == entry)
		fprintf(stderr, "%s", di.dli_sname);
	else
		fprintf(stderr, "%s+%#lx", di.dli_fname, (unsigned long)
		    ((char *)entry - (char *)di.dli_fbase));
	fprintf(stderr, ") on worker %d, which is abandoned\n", w->w_id);
}

/*
 * A shutdown gave up on (nabandoned) workers (and LWPs that did not die
 * may be queued anywhere): leave everything they may touch allocated
 * (see the NOTE above), count it and say so.
 */
static void
abandon(int nabandoned)
{
	size_t left;
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		if (gpi_rt.rt_workers[i].w_abandoned)
			name_stuck(&gpi_rt.rt_workers[i]);
	if (nabandoned == 0)
		fprintf(stderr, "greenproc: shutdown: %ld LWPs did not die\n",
		    gpi_lwps_alive());
	left = gpi_proc_abandon();
	left += gpi_stack_abandon();
	left += (size_t)gpi_rt.rt_nworkers * sizeof(struct gp_worker);
	gpi_rt.rt_nabandoned += nabandoned;
	gpi_rt.rt_leaked += left;
	fprintf(stderr, "greenproc: shutdown: gave up on %d worker thread%s; "
	    "left %zu bytes of stacks and structs to them (gp_stats: "
	    "leaked_bytes)\n", nabandoned, nabandoned == 1 ? "" : "s", left);
}

/*
 * (w)'s LWP came back from user code to a fence point: go on, unless
 * gp_shutdown has given up on the worker (the handshake with may_abandon
 * in sched.c: one CAS each, so exactly one of them decides).  Then the
 * worker parks here for good: it holds no lock (fence points hold none),
 * and from now on touches nothing but its own stack.
 */
void
gpi_fence_slow(struct gp_worker *w)
{
	struct gp_lwp *l = w->w_curlwp;
	char buf[192];
	int f = GPI_FENCE_STOP, n;

	if (atomic_compare_exchange_strong(&w->w_fence, &f, GPI_FENCE_LEAVE) ||
	    f != GPI_FENCE_ABANDON)
		return;
	n = snprintf(buf, sizeof(buf), "greenproc: LWP %d came back to the "
	    "runtime after gp_shutdown gave up on it: its worker thread "
	    "stops here for good\n", l != NULL ? l->l_tid : -1);
	if (gpi_sys_write(STDERR_FILENO, buf, (size_t)n) < 0)
		n = 0;		/* nothing more to do about it */
	for (;;)
		gpi_futex_wait(&w->w_fence, GPI_FENCE_ABANDON, 0);
}

static void
reset_counters(void)
{
	atomic_store(&gpi_rt.rt_ncreated, 0);
	atomic_store(&gpi_rt.rt_nreaped, 0);
	atomic_store(&gpi_rt.rt_nstacks, 0);
	atomic_store(&gpi_rt.rt_tidgen, 0);
}

uint64_t
gpi_exit_timeout_ns(void)
{
	return (uint64_t)gpi_env(GPI_ENV_EXIT_TIMEOUT_MS) * 1000000u;
}

int
gp_shutdown(void)
{
	uint64_t deadline;
	static const struct timespec nap = { 0, 200000 };
	int i, abandoned;
	long alive;

	if (gpi_curlwp() != NULL) {
		/* It would wait for its own death. */
		errno = EDEADLK;
		return -1;
	}
	/* First, and without rt_lock: the dump thread takes rt_lock. */
	gpi_dump_fini();
	gpi_spin_lock(&gpi_rt.rt_lock);
	if (atomic_load(&gpi_rt.rt_state) != GPI_RT_UP) {
		gpi_spin_unlock(&gpi_rt.rt_lock);
		return 0;
	}
	atomic_store(&gpi_rt.rt_state, GPI_RT_STOPPING);
	/* Before the kill: a worker's first fence point after it decides. */
	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		atomic_store(&gpi_rt.rt_workers[i].w_fence, GPI_FENCE_STOP);
	deadline = gpi_now() + gpi_exit_timeout_ns();

	/*
	 * Kill, then wait for every LWP to die at its next cancellation
	 * point.  Killing again each round catches nothing new (creation is
	 * refused now) but is cheap and harmless.
	 */
	gpi_proc_kill_all();
	kill_all(&gpi_proc0);
	while (gpi_lwps_alive() > 0 && gpi_now() < deadline) {
		GPI_LIBC(nanosleep)(&nap, NULL);
		gpi_proc_kill_all();
		kill_all(&gpi_proc0);
	}
	alive = gpi_lwps_alive();
	abandoned = gpi_sched_stop(alive > 0 ? gpi_now() + 10000000u : 0);

	/* Free everything, or everything but what abandoned workers hold. */
	gpi_fault_fini();
	gpi_preempt_fini();
	if (alive == 0 && abandoned == 0) {
		gpi_proc_fini();
		gpi_stack_fini();
		free(gpi_rt.rt_workers);
	} else {
		abandon(abandoned);
	}
	gpi_rt.rt_workers = NULL;
	gpi_rt.rt_nworkers = 0;
	reset_counters();
	atomic_store(&gpi_rt.rt_state, GPI_RT_DOWN);
	gpi_spin_unlock(&gpi_rt.rt_lock);
	if (alive != 0 || abandoned != 0) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

int
gp_stats(struct gp_counters *st)
{
	struct gp_worker *w;
	int i;

	if (st == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	gpi_spin_lock(&gpi_rt.rt_lock);
	st->lwps_created = atomic_load(&gpi_rt.rt_ncreated);
	st->lwps_reaped = atomic_load(&gpi_rt.rt_nreaped);
	st->live_stacks = atomic_load(&gpi_rt.rt_nstacks);
	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		st->lwps_created += GPI_RD(w->w_ncreated);
		st->lwps_reaped += GPI_RD(w->w_nreaped);
		st->switches += GPI_RD(w->w_nswitch);
		st->steals += GPI_RD(w->w_nsteal);
		st->live_stacks += GPI_RD(w->w_nstacks);
	}
	st->live_lwps = (long)(st->lwps_created - st->lwps_reaped);
	gpi_proc_counters(st);
	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		st->nworkers += atomic_load(&gpi_rt.rt_workers[i].w_active);
	st->stuck_workers = atomic_load(&gpi_rt.rt_nstuck);
	st->spare_workers = atomic_load(&gpi_rt.rt_nspares_started);
	st->abandoned_workers = gpi_rt.rt_nabandoned;
	st->leaked_bytes = gpi_rt.rt_leaked;
	gpi_spin_unlock(&gpi_rt.rt_lock);
	return 0;
}

/* ------------------------------------------------------------ attributes */

int
gp_attr_init(gp_attr_t **attr)
{
	gp_attr_t *a;

	if (attr == NULL)
		return EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ENOMEM;
	a->a_exitsig = SIGCHLD;
	*attr = a;
	return 0;
}

int
gp_attr_destroy(gp_attr_t *attr)
{
	if (attr == NULL)
		return EINVAL;
	free(attr->a_fds);
	free(attr);
	return 0;
}

int
gp_attr_setstacksize(gp_attr_t *attr, size_t bytes)
{
	size_t sz;

	if (attr == NULL || (sz = gpi_stack_round(bytes)) == 0)
		return EINVAL;
	attr->a_stacksize = sz;
	return 0;
}

/*
 * The caller's stack.  At least GPI_STACK_MIN (PTHREAD_STACK_MIN, as
 * pthread_attr_setstack checks it), not rounded: the LWP runs on exactly
 * [addr, addr + bytes).  A stack size set later replaces this one's
 * size, as with pthread_attr_setstacksize; gp_attr_setstacksize after
 * this keeps the address.
 */
int
gp_attr_setstack(gp_attr_t *attr, void *addr, size_t bytes)
{
	if (attr == NULL || addr == NULL || bytes < GPI_STACK_MIN ||
	    bytes > GPI_STACK_MAX ||
	    (uintptr_t)addr + bytes < (uintptr_t)addr)
		return EINVAL;
	attr->a_stackaddr = addr;
	attr->a_stacksize = bytes;
	return 0;
}

/*
 * The guard below the stack, rounded up to whole pages, as
 * pthread_attr_setguardsize's: 0 is none.  Any other than the one page
 * of a default stack makes the stack a mapping of its own.  Ignored with
 * a caller's stack (gp_attr_setstack), which is the caller's to guard.
 */
int
gp_attr_setguardsize(gp_attr_t *attr, size_t bytes)
{
	size_t ps = gpi_stack_page();

	if (attr == NULL || bytes > GPI_STACK_MAX)
		return EINVAL;
	attr->a_guardsize = (bytes + ps - 1) & ~(ps - 1);
	attr->a_guardset = attr->a_guardsize != ps;
	return 0;
}

int
gp_attr_getguardsize(const gp_attr_t *attr, size_t *bytes)
{
	if (attr == NULL || bytes == NULL)
		return EINVAL;
	*bytes = attr->a_guardset ? attr->a_guardsize : gpi_stack_page();
	return 0;
}

int
gp_attr_getstacksize(const gp_attr_t *attr, size_t *bytes)
{
	if (attr == NULL || bytes == NULL)
		return EINVAL;
	*bytes = attr->a_stacksize != 0 ? attr->a_stacksize :
	    gpi_stack_default();
	return 0;
}

int
gp_attr_setname(gp_attr_t *attr, const char *name)
{
	if (attr == NULL || name == NULL)
		return EINVAL;
	snprintf(attr->a_name, sizeof(attr->a_name), "%s", name);
	return 0;
}

int
gp_attr_setexitsignal(gp_attr_t *attr, int sig)
{
	if (attr == NULL || (sig != 0 && sig != SIGCHLD && sig != SIGUSR1))
		return EINVAL;
	attr->a_exitsig = sig;
	return 0;
}

int
gp_attr_setdetached(gp_attr_t *attr, int detached)
{
	if (attr == NULL || (detached != 0 && detached != 1))
		return EINVAL;
	attr->a_detached = detached;
	return 0;
}

int
gp_attr_settls(gp_attr_t *attr, int own)
{
	if (attr == NULL || (own != 0 && own != 1))
		return EINVAL;
	attr->a_tls = own ? GPI_TLS_INIT : GPI_TLS_OFF;
	return 0;
}
