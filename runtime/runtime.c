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
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct gpi_runtime gpi_rt = {
	.rt_lock = GPI_SPIN_INIT,
};

struct gp_proc gpi_proc0 = {
	.p_pid = GP_PID_INIT,
	.p_lock = GPI_SPIN_INIT,
	.p_stat = GPI_SACTIVE,
	.p_comm = "init",
};

#define EXIT_TIMEOUT_MS	2000

int gpi_preloaded;
/*
 * The host's exit(3) and _exit(2).  Under the preload, exit and _exit
 * are its interposers, which would send an LWP of init back here: the
 * preload points these at glibc's instead.
 */
void (*gpi_host_exit)(int) = exit;
void (*gpi_host__exit)(int) = _exit;
pthread_t (*gpi_host_pthread_self)(void) = pthread_self;
int (*gpi_host_sigaction)(int, const struct sigaction *, struct sigaction *) =
    sigaction;

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

static int
env_int(const char *name, int dflt)
{
	const char *e = getenv(name);
	char *end;
	long v;

	if (e == NULL || *e == '\0')
		return dflt;
	v = strtol(e, &end, 10);
	if (*end != '\0' || v <= 0 || v > INT_MAX)
		return dflt;
	return (int)v;
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

	if (nworkers < 0) {
		errno = EINVAL;
		return -1;
	}
	gpi_spin_lock(&gpi_rt.rt_lock);
	if (atomic_load(&gpi_rt.rt_state) == GPI_RT_UP)
		goto out;
	if ((error = sole_runtime()) != 0 || (error = gpi_rcu_load()) != 0)
		goto out;
	if (nworkers == 0)
		nworkers = env_int("GREENPROC_WORKERS",
		    (int)sysconf(_SC_NPROCESSORS_ONLN));
	if (nworkers < 1)
		nworkers = 1;
	/* Per-LWP C++ exception state, only where libstdc++ is loaded. */
	gpi_rt.rt_cxa_globals = (void *(*)(void))dlsym(RTLD_DEFAULT,
	    "__cxa_get_globals");
	(void)gpi_stack_default();
	if ((error = gpi_proc_init(nworkers)) != 0)
		goto out;
	if ((error = gpi_sched_start(nworkers)) != 0) {
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

static void
name_stuck(struct gp_proc *p)
{
	struct gp_lwp *l;

	gpi_spin_lock(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		fprintf(stderr, "greenproc: shutdown: LWP %d of pid %d never "
		    "reached a cancellation point (running user code?)\n",
		    l->l_tid, (int)p->p_pid);
	gpi_spin_unlock(&p->p_lock);
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
	return (uint64_t)env_int("GREENPROC_EXIT_TIMEOUT_MS",
	    EXIT_TIMEOUT_MS) * 1000000u;
}

int
gp_shutdown(void)
{
	uint64_t deadline;
	int stuck = 0;

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
	deadline = gpi_now() + (uint64_t)env_int("GREENPROC_EXIT_TIMEOUT_MS",
	    EXIT_TIMEOUT_MS) * 1000000u;

	/*
	 * Kill, then wait for every LWP to die at its next cancellation
	 * point.  Killing again each round catches nothing new (creation is
	 * refused now) but is cheap and harmless.
	 */
	gpi_proc_kill_all();
	kill_all(&gpi_proc0);
	while (gpi_lwps_alive() > 0 && gpi_now() < deadline) {
		usleep(200);
		gpi_proc_kill_all();
		kill_all(&gpi_proc0);
	}
	if (gpi_lwps_alive() > 0) {
		name_stuck(&gpi_proc0);
		stuck = 1;
	}
	if (gpi_sched_stop(stuck ? gpi_now() + 10000000u : 0) != 0)
		stuck = 1;

	/*
	 * Free everything.  Stacks of stuck LWPs are still in use, so with
	 * a stuck LWP the stacks and workers are left mapped (a leak the
	 * caller was told about), and everything else is freed.
	 */
	gpi_fault_fini();
	if (!stuck) {
		gpi_proc_fini();
		gpi_stack_fini();
		free(gpi_rt.rt_workers);
		gpi_proc0.p_lwps = NULL;
		gpi_proc0.p_nthreads = 0;
	}
	gpi_rt.rt_workers = NULL;
	gpi_rt.rt_nworkers = 0;
	reset_counters();
	atomic_store(&gpi_rt.rt_state, GPI_RT_DOWN);
	gpi_spin_unlock(&gpi_rt.rt_lock);
	if (stuck) {
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
	st->nworkers = gpi_rt.rt_nworkers;
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
