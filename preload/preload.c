/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload.c -- libgreenproc_preload.so, the LD_PRELOAD object: libc calls
 * made on a green thread get green semantics; every other caller passes
 * straight through to glibc, same result, same errno.
 *
 * The green-or-host decision is one TLS load (gpi_curlwp()).  The real
 * functions are looked up on first use (REAL, in preload.h) as
 * dlsym(RTLD_NEXT) would find them, by dlnext.c, without the loader's
 * lock; the constructor resolves nothing, and the runtime is not started
 * (nor liburcu loaded) until green code is first needed.  Nothing here
 * calls malloc before the real function it needs is known, so a dlsym
 * (the fallback) that callocs cannot recurse into us.
 *
 * Interposers are exported unversioned (preload.map is an anonymous
 * version script): an unversioned definition binds references of every
 * symbol version, e.g. both pthread_create@GLIBC_2.2.5 and @GLIBC_2.34.
 * The runtime is linked in, and the gp_ API is exported too, so that a
 * program that calls gp_* while preloaded uses this runtime: one runtime
 * per process.
 *
 * Green pthread_t values are handles with a generation (thread.c); a
 * host pthread_t points at glibc's thread descriptor.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

struct gpi_real gpi_real GPI_PASSDATA;
/*
 * Set once every real function is resolved.  Not a pthread_once: that
 * name is ours here, and resolving twice is harmless (each lookup stores
 * the same pointer), so racing first callers need no lock.
 */
static atomic_bool resolved GPI_PASSDATA;

#define RESOLVE(name) __atomic_store_n(&gpi_real.name,			\
	(__typeof__(gpi_real.name))gpi_preload_resolve_one(#name),	\
	__ATOMIC_RELAXED)

static void
resolve(void)
{
	RESOLVE(exit);
	RESOLVE(_exit);
	RESOLVE(_Exit);
	RESOLVE(on_exit);
	RESOLVE(__cxa_atexit);
	RESOLVE(__libc_start_main);
	RESOLVE(pthread_create);
	RESOLVE(pthread_exit);
	RESOLVE(pthread_join);
	RESOLVE(pthread_detach);
	RESOLVE(pthread_self);
	RESOLVE(pthread_equal);
	RESOLVE(pthread_tryjoin_np);
	RESOLVE(pthread_timedjoin_np);
	RESOLVE(pthread_clockjoin_np);
	RESOLVE(pthread_setattr_default_np);
	RESOLVE(pthread_getattr_np);
	RESOLVE(pthread_setname_np);
	RESOLVE(pthread_getname_np);
	RESOLVE(pthread_kill);
	RESOLVE(pthread_sigmask);
	RESOLVE(pthread_cancel);
	RESOLVE(pthread_setcancelstate);
	RESOLVE(pthread_testcancel);
	RESOLVE(pthread_key_create);
	RESOLVE(pthread_key_delete);
	RESOLVE(pthread_getspecific);
	RESOLVE(pthread_setspecific);
	RESOLVE(waitpid);
	RESOLVE(wait);
	RESOLVE(wait4);
	RESOLVE(waitid);
	RESOLVE(kill);
	RESOLVE(raise);
	RESOLVE(abort);
	RESOLVE(sigaction);
	RESOLVE(signal);
	RESOLVE(sigprocmask);
	RESOLVE(sleep);
	RESOLVE(usleep);
	RESOLVE(nanosleep);
	RESOLVE(clock_nanosleep);
	RESOLVE(clock_gettime);
	RESOLVE(clock_getres);
	RESOLVE(getrusage);
	RESOLVE(sched_yield);
	RESOLVE(getpid);
	RESOLVE(getppid);
	RESOLVE(setpgid);
	RESOLVE(getpgid);
	RESOLVE(getpgrp);
	RESOLVE(prctl);
	RESOLVE(fork);
	RESOLVE(vfork);
	RESOLVE(system);
	RESOLVE(popen);
	RESOLVE(pclose);
	RESOLVE(posix_spawn);
	RESOLVE(posix_spawnp);
	RESOLVE(ptrace);
	RESOLVE(forkpty);
	RESOLVE(clone);
	RESOLVE(execve);
	RESOLVE(execv);
	RESOLVE(execvp);
	RESOLVE(execvpe);
	RESOLVE(fexecve);
	RESOLVE(execveat);
	RESOLVE(lockf);
	gpi_sync_resolve();
	gpi_stdio_resolve();
}

GPI_PASSTEXT void
gpi_preload_resolve(void)
{
	/* Every lookup is async-signal-safe already: none ahead of need. */
	if (gpi_dlnext_ok())
		return;
	if (!atomic_load_explicit(&resolved, memory_order_acquire)) {
		resolve();
		atomic_store_explicit(&resolved, true, memory_order_release);
	}
}

/* glibc's (name): the runtime's lookup, RTLD_NEXT here (below). */
GPI_PASSTEXT void *
gpi_preload_resolve_one(const char *name)
{
	void *f = gpi_dlnext(name);

	return f != NULL ? f : gpi_libc_find(name);
}

/*
 * Nothing expensive here: every program run with the preload in
 * LD_PRELOAD runs this, green code or not (bench/bench_preload.c).
 */
__attribute__((constructor(101))) static void
preload_init(void)
{
	/* exit(3) from green code flushes stdio like the real one. */
	gpi_preloaded = 1;
	gpi_greenrun_check();		/* one getenv when the mode is off */
}

/*
 * The runtime's libc functions (runtime/host.c): here our own exports
 * are the interposers, so the runtime gets the definition after ours,
 * as REAL() does.  Overrides host.c's weak lookup.
 */
GPI_PASSTEXT void *
gpi_libc_lookup(const char *name)
{
	void *f = gpi_dlnext(name);

	return f != NULL ? f : dlsym(RTLD_NEXT, name);
}

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

/*
 * On an LWP of a green process with an atexit list of its own: not init,
 * whose list is the host's, nor the host program in green-init mode,
 * whose one list is glibc's too (glibc's exit runs it: runtime/exit.c).
 */
static inline bool
green_proc(void)
{
	struct gp_lwp *l = gpi_curlwp();

	return l != NULL && l->l_proc != &gpi_proc0 &&
	    !gpi_is_hostproc(l->l_proc);
}

/* ------------------------------------------------------------ start, exit */

static int (*user_main)(int, char **, char **) GPI_PASSDATA;

static GPI_PASSTEXT int
wrap_main(int argc, char **argv, char **envp)
{
	/* Green-init mode (init.c): main is the first green process. */
	if (gpi_greenrun)
		gpi_greenrun_main(user_main, argc, argv, envp);
	/* A return from main takes the same host exit path as exit(). */
	exit(user_main(argc, argv, envp));
}

EXPORT GPI_PASSTEXT int
__libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
    void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
    void *stack_end)
{
	user_main = main;
	return REAL(__libc_start_main)(wrap_main, argc, argv, init, fini,
	    rtld_fini, stack_end);
}

/*
 * Host exit with green processes alive: kill them, wait (bounded by
 * GREENPROC_EXIT_TIMEOUT_MS), stop the workers -- so host atexit handlers
 * and C++ static destructors never run beside green code -- then exit.
 */
static void
host_teardown(void)
{
	if (atomic_load(&gpi_rt.rt_state) == GPI_RT_UP)
		(void)gp_shutdown();
}

EXPORT GPI_PASSTEXT void
exit(int status)
{
	if (green()) {
		fflush(NULL);
		gp_exit(status);
	}
	/*
	 * Green-init mode, once the program's main runs green: a host
	 * thread of the program (glibc's helper that runs SIGEV_THREAD
	 * timer and mq_notify callbacks) ends the program as a green
	 * thread's exit does: glibc's exit, its one atexit list on this
	 * thread while the green threads still run, then exit_group.  The
	 * teardown waited for every green process to end, the program's
	 * main among them, which may never (glibc's tst-bz28213, gr_hostexit).
	 */
	if (!gpi_greenrun || __atomic_load_n(&gpi_hostproc_pid,
	    __ATOMIC_RELAXED) == 0)
		host_teardown();
	REAL(exit)(status);
	__builtin_unreachable();
}

EXPORT void
_exit(int status)
{
	if (green())
		gp__exit(status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

EXPORT void
_Exit(int status)
{
	if (green())
		gp__exit(status);
	REAL(_Exit)(status);
	__builtin_unreachable();
}

EXPORT int
on_exit(void (*fn)(int, void *), void *arg)
{
	if (green_proc())
		return gpi_atexit_add(GPI_AE_ONEXIT, (void *)fn, arg) == 0 ?
		    0 : -1;
	return REAL(on_exit)(fn, arg);
}

/*
 * atexit() compiles into __cxa_atexit(fn, NULL, __dso_handle): from green
 * code that is a per-process entry.  C++ static destructors (an object
 * argument) stay host-level.
 */
EXPORT int
__cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
	if (arg == NULL && green_proc())
		return gpi_atexit_add(GPI_AE_ARG, (void *)fn, NULL) == 0 ?
		    0 : -1;
	return REAL(__cxa_atexit)(fn, arg, dso);
}

/* ------------------------------------------------------------ pthreads */

#define LEGACY_STACK	(256 * 1024)	/* pthread_create without a size */

/*
 * Threads that must be the kernel's.  GCC's OpenMP runtime, libgomp,
 * parks its threads and wakes them with futex system calls made inline
 * (no syscall() or libc wrapper an interposer could see).  A green
 * thread parked there holds its worker in the kernel, and started LWPs
 * never leave their worker: with more OpenMP threads than workers, the
 * thread that would wake it waits behind it for good.  So the threads
 * libgomp creates are host threads, as natively: its team runs on the
 * kernel's scheduler, and a green thread that enters a parallel region
 * (main, usually) waits there as a host thread would, holding only its
 * own worker, which the other threads of the team do not need.
 */
static const char *const kthread_libs[] = { "libgomp.so" };

/*
 * Verdicts by return address, direct-mapped: (address << 1 | verdict),
 * 0 for none.  A program creates its threads from few call sites; a
 * stale entry can only follow a dlclose, which empties the cache.
 */
#define KTHREAD_SLOTS	8
static uintptr_t kthread_cache[KTHREAD_SLOTS];	/* (relaxed) */

void
gpi_kthread_forget(void)
{
	size_t i;

	for (i = 0; i < KTHREAD_SLOTS; i++)
		__atomic_store_n(&kthread_cache[i], 0, __ATOMIC_RELAXED);
}

/* Is (ra), pthread_create's return address, in a kthread_libs library? */
static bool
kthread_caller(const void *ra)
{
	uintptr_t a = (uintptr_t)ra, *slot, e;
	Dl_info di;
	bool yes;

	slot = &kthread_cache[(a >> 4) % KTHREAD_SLOTS];
	e = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (e >> 1 == a)
		return e & 1;
	yes = dladdr(ra, &di) != 0 && gpi_lib_named(di.dli_fname,
	    kthread_libs, sizeof(kthread_libs) / sizeof(kthread_libs[0]));
	__atomic_store_n(slot, a << 1 | yes, __ATOMIC_RELAXED);
	return yes;
}

/*
 * Set once the program calls pthread_setattr_default_np: from then on a
 * green pthread_create without attributes reads glibc's defaults (stack
 * size, signal mask), which cost a lock and a copy a creation.
 */
static atomic_bool default_attr_set;	/* (a) */

EXPORT int
pthread_setattr_default_np(const pthread_attr_t *attr)
{
	int error = REAL(pthread_setattr_default_np)(attr);

	if (error == 0)
		atomic_store_explicit(&default_attr_set, true,
		    memory_order_release);
	return error;
}

/* glibc's default thread stack size, as its create would take it. */
static int
default_stacksize(size_t *sz)
{
	pthread_attr_t def;
	int error;

	if ((error = pthread_getattr_default_np(&def)) != 0)
		return error;
	error = pthread_attr_getstacksize(&def, sz);
	pthread_attr_destroy(&def);
	return error;
}

static int
green_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	struct gp_attr ga;
	struct gp_lwp *l;
	cpu_set_t cpus;
	sigset_t mask;
	size_t sz = 0, usz, gs;
	void *lo = NULL;
	int ds = PTHREAD_CREATE_JOINABLE, error, policy, prio;

	memset(&ga, 0, sizeof(ga));
	if ((error = gpi_sched_attr(gpi_curlwp(), attr, &policy, &prio)) != 0)
		return error;
	if (attr != NULL) {
		pthread_attr_getstacksize(attr, &sz);
		pthread_attr_getdetachstate(attr, &ds);
		/* A guard other than glibc's default page: tst-default-attr. */
		if (pthread_attr_getguardsize(attr, &gs) == 0 &&
		    (error = gp_attr_setguardsize(&ga, gs)) != 0)
			return error;
		/*
		 * A stack of the caller's (pthread_attr_setstack, or the
		 * old setstackaddr, which names its top): glibc keeps the
		 * top and getstack answers top - size, so the top is 0
		 * exactly when no address was set.  With an address but
		 * no size glibc's create takes the default size below it.
		 */
		pthread_attr_getstack(attr, &lo, &usz);
		if ((uintptr_t)lo + usz == 0)
			lo = NULL;
		else if ((sz = usz) == 0) {
			if ((error = default_stacksize(&sz)) != 0)
				return error;
			lo = (char *)lo - sz;
		}
		/*
		 * An affinity in the attributes is checked as
		 * pthread_setaffinity_np checks it (not applied): glibc's
		 * create fails with EINVAL when it names no usable CPU.
		 * Without one, glibc answers with every CPU.
		 */
		if (pthread_attr_getaffinity_np(attr, sizeof(cpus),
		    &cpus) == 0 && (error = gpi_affinity_check(sizeof(cpus),
		    &cpus)) != 0)
			return error;
	}
	if (lo != NULL) {
		/* glibc's check, for a size the attributes never refused. */
		if (sz < (size_t)PTHREAD_STACK_MIN || sz > GPI_STACK_MAX)
			return EINVAL;
		ga.a_stackaddr = lo;
		ga.a_stacksize = sz;
	} else if (sz == 0 || attr == NULL) {
		/* Green-init mode made glibc's default the runtime's. */
		sz = gpi_greenrun || gpi_env(GPI_ENV_STACK_SIZE) != 0 ?
		    gpi_stack_default() : LEGACY_STACK;
		ga.a_stacksize = gpi_stack_round(sz < GPI_STACK_MIN ?
		    GPI_STACK_MIN : sz);
	} else {
		ga.a_stacksize = gpi_stack_round(sz < GPI_STACK_MIN ?
		    GPI_STACK_MIN : sz);
		/* Reported as asked (gpi_stack_report): tst-default-attr. */
		ga.a_stackasked = sz;
	}
	ga.a_detached = ds == PTHREAD_CREATE_DETACHED;
	/* Its handle exists before it runs: it may look at itself first. */
	error = gpi_lwp_create(gpi_curlwp()->l_proc, &l, fn, arg, &ga, false);
	if (error != 0)
		return error;
	/* Not started, and no handle names it yet: nobody else reads these. */
	__atomic_store_n(&l->l_schedpolicy, policy, __ATOMIC_RELAXED);
	__atomic_store_n(&l->l_schedprio, prio, __ATOMIC_RELAXED);
	if ((*t = gpi_thread_handle(l)) == 0) {
		gpi_lwp_discard(l);
		return EAGAIN;
	}
	/*
	 * A mask in the attributes (glibc 2.32) is the thread's first one,
	 * else its creator's (the new thread had its creator's always:
	 * glibc's tst-pthread-attr-sigmask, gr_attrmask).
	 */
	if (attr != NULL && pthread_attr_getsigmask_np(attr, &mask) == 0)
		gpi_lwp_startmask(l, &mask);
	gpi_sched_spread(l);
	gpi_resched_point(gpi_curlwp());	/* as gp_lwp_create */
	return 0;
}

EXPORT int
pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	pthread_attr_t def;
	int error;

	if (!green() || kthread_caller(__builtin_return_address(0)))
		return REAL(pthread_create)(t, attr, fn, arg);
	/* No attributes: the program's defaults, if it set any. */
	if (attr == NULL && atomic_load_explicit(&default_attr_set,
	    memory_order_acquire) && pthread_getattr_default_np(&def) == 0) {
		error = green_create(t, &def, fn, arg);
		pthread_attr_destroy(&def);
		return error;
	}
	return green_create(t, attr, fn, arg);
}

EXPORT void
pthread_exit(void *retval)
{
	/* Never the real one on a green thread: it would end the worker. */
	if (green())
		gpi_thread_exit(retval);	/* thread.c: unwinds first */
	REAL(pthread_exit)(retval);
	__builtin_unreachable();
}

EXPORT int
pthread_join(pthread_t t, void **retval)
{
	if (gpi_is_green_thread(t))
		return gpi_lwp_join(gpi_thread_lwp(t), retval, 0, false);
	return REAL(pthread_join)(t, retval);
}

EXPORT int
pthread_tryjoin_np(pthread_t t, void **retval)
{
	if (gpi_is_green_thread(t))
		return gpi_lwp_join(gpi_thread_lwp(t), retval, 0, true);
	return REAL(pthread_tryjoin_np)(t, retval);
}

/*
 * A join that gives up at (abs) on (clock) (none: NULL).  glibc's
 * pthread_clockjoin_np (2.31) was not interposed: on a green thread it
 * read the handle as glibc's own descriptor and crashed the program.
 */
static int
join_until(pthread_t t, void **retval, clockid_t clock,
    const struct timespec *abs)
{
	struct gp_lwp *l;
	uint64_t deadline = 0;
	int error;

	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (abs != NULL && (error = gpi_abs_deadline(clock, abs,
	    &deadline)) != 0)
		return error;
	return gpi_lwp_join(l, retval, deadline, false);
}

EXPORT int
pthread_timedjoin_np(pthread_t t, void **retval, const struct timespec *abs)
{
	if (!gpi_is_green_thread(t))
		return REAL(pthread_timedjoin_np)(t, retval, abs);
	return join_until(t, retval, CLOCK_REALTIME, abs);
}

EXPORT int
pthread_clockjoin_np(pthread_t t, void **retval, clockid_t clock,
    const struct timespec *abs)
{
	if (!gpi_is_green_thread(t))
		return REAL(pthread_clockjoin_np)(t, retval, clock, abs);
	return join_until(t, retval, clock, abs);
}

EXPORT int
pthread_detach(pthread_t t)
{
	if (gpi_is_green_thread(t))
		return gp_lwp_detach(gpi_thread_lwp(t));
	return REAL(pthread_detach)(t);
}

EXPORT pthread_t
pthread_self(void)
{
	struct gp_lwp *l = gpi_curlwp();
	pthread_t t;

	if (l == NULL)
		return REAL(pthread_self)();
	if ((t = gpi_thread_handle(l)) == 0)
		GPI_PANIC("pthread_self: no memory for a thread handle");
	return t;
}

/*
 * glibc's header may define pthread_equal inline; the exported symbol is
 * defined under another C name with the libc name as its assembler name.
 */
EXPORT int preload_pthread_equal(pthread_t a, pthread_t b)
    __asm__("pthread_equal");

int
preload_pthread_equal(pthread_t a, pthread_t b)
{
	return a == b;
}

EXPORT int
pthread_getattr_np(pthread_t t, pthread_attr_t *attr)
{
	struct gp_lwp *l;
	size_t size;
	void *lo;
	int error;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_getattr_np)(t, attr);
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if ((error = pthread_attr_init(attr)) != 0)
		return error;
	gpi_stack_report(l, &lo, &size);
	pthread_attr_setstack(attr, lo, size);
	/* glibc puts no guard below a caller's stack, and says so. */
	pthread_attr_setguardsize(attr, l->l_ustack ? 0 : l->l_guard);
	if (atomic_load(&l->l_jstate) & GPI_J_DETACH)
		pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	return 0;
}

/*
 * A green thread's name is its LWP's (l_name), not its worker's.
 * greenrun's main thread is the one green thread whose id the kernel
 * knows (the host pid: /proc/self/task/<pid>/comm, /proc/self/comm, ps):
 * its name goes to the host's main kernel thread too, which does nothing
 * else while the program runs.  Before, /proc kept the program's name
 * (glibc's tst-setgetname, gr_threadname).  Any other green thread's id
 * has no /proc entry (ARCHITECTURE 21).  (name) fits: at most 15 bytes.
 */
static void
name_set(struct gp_lwp *l, const char *name)
{
	char path[64];
	size_t n = strlen(name);
	int fd;

	memcpy(l->l_name, name, n);
	memset(l->l_name + n, 0, sizeof(l->l_name) - n);
	if (!gpi_lwp_is_hostmain(l))
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm",
	    (int)gpi_host_pid());
	if ((fd = GPI_LIBC(open)(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)!GPI_LIBC(write)(fd, name, n);
		GPI_LIBC(close)(fd);
	}
}

EXPORT int
pthread_setname_np(pthread_t t, const char *name)
{
	struct gp_lwp *l;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_setname_np)(t, name);
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (strlen(name) >= sizeof(l->l_name))
		return ERANGE;
	name_set(l, name);
	return 0;
}

EXPORT int
pthread_getname_np(pthread_t t, char *buf, size_t len)
{
	struct gp_lwp *l;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_getname_np)(t, buf, len);
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (len <= strlen(l->l_name))
		return ERANGE;
	memcpy(buf, l->l_name, strlen(l->l_name) + 1);
	return 0;
}

/* ------------------------------------------------------------ processes */

/*
 * NOTE: the one exception to "green code sees green pids": the green
 * process that is the host program (green-init mode) passes for the
 * real process, so that /proc/<getpid()>/, a real child's getppid() and
 * killpg(getpgrp(), sig) mean what they mean natively.  Its ids are the
 * host's; kill() of the host's pid reaches it as a green signal
 * (signals.c).  Processes it gp_spawns keep green pids.
 */
static inline bool
green_ids(void)
{
	struct gp_lwp *l = gpi_curlwp();

	return l != NULL && !gpi_is_hostproc(l->l_proc);
}

EXPORT pid_t
getpid(void)
{
	return green_ids() ? gp_getpid() : REAL(getpid)();
}

EXPORT pid_t
getppid(void)
{
	return green_ids() ? gp_getppid() : REAL(getppid)();
}

EXPORT pid_t
getpgrp(void)
{
	return green_ids() ? gp_getpgid(0) : REAL(getpgrp)();
}

EXPORT pid_t
getpgid(pid_t pid)
{
	if (green_ids() || GP_IS_GREEN(pid))
		return gp_getpgid(pid);
	return REAL(getpgid)(pid);
}

EXPORT int
setpgid(pid_t pid, pid_t pgid)
{
	if (green_ids() || GP_IS_GREEN(pid))
		return gp_setpgid(pid, pgid);
	return REAL(setpgid)(pid, pgid);
}

EXPORT int
prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;
	int i;

	va_start(ap, option);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_CHILD_SUBREAPER && green())
		return a[0] != 0 ? gp_reaper_acquire() : gp_reaper_release();
	/* The calling thread's name: the LWP's, not the worker's. */
	if (option == PR_SET_NAME && green()) {
		const char *src = (const char *)a[0];
		char name[16];

		/* As the kernel: the first 15 bytes, terminated. */
		for (i = 0; i < (int)sizeof(name) - 1 && src[i] != '\0'; i++)
			name[i] = src[i];
		name[i] = '\0';
		name_set(gpi_curlwp(), name);
		return 0;
	}
	if (option == PR_GET_NAME && green()) {
		memcpy((char *)a[0], gpi_curlwp()->l_name, 16);
		return 0;
	}
	return REAL(prctl)(option, a[0], a[1], a[2], a[3]);
}

/* ------------------------------------------------------------ sleeping */

EXPORT int
nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (green())
		return gp_nanosleep(req, rem);
	return REAL(nanosleep)(req, rem);
}

EXPORT int
clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
    struct timespec *rem)
{
	struct timespec now, rel;

	if (!green())
		return REAL(clock_nanosleep)(clk, flags, req, rem);
	if (req == NULL || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L)
		return EINVAL;
	rel = *req;
	if (flags & TIMER_ABSTIME) {
		if (clock_gettime(clk, &now) != 0)
			return EINVAL;
		rel.tv_sec = req->tv_sec - now.tv_sec;
		rel.tv_nsec = req->tv_nsec - now.tv_nsec;
		if (rel.tv_nsec < 0) {
			rel.tv_sec--;
			rel.tv_nsec += 1000000000L;
		}
		if (rel.tv_sec < 0)
			return 0;
		rem = NULL;
	}
	return gp_nanosleep(&rel, rem) == 0 ? 0 : errno;
}

EXPORT unsigned int
sleep(unsigned int secs)
{
	struct timespec ts = { (time_t)secs, 0 }, rem = { 0, 0 };

	if (!green())
		return REAL(sleep)(secs);
	if (gp_nanosleep(&ts, &rem) == 0)
		return 0;
	return (unsigned int)rem.tv_sec + (rem.tv_nsec > 0);
}

EXPORT int
usleep(useconds_t usec)
{
	struct timespec ts = { (time_t)(usec / 1000000),
	    (long)(usec % 1000000) * 1000 };

	if (!green())
		return REAL(usleep)(usec);
	return gp_nanosleep(&ts, NULL);
}

EXPORT int
sched_yield(void)
{
	if (!green())
		return REAL(sched_yield)();
	gp_yield();
	return 0;
}
