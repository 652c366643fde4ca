/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault.c -- synchronous faults in green code: a stack overflow kills
 * only its green process; other faults are reported with the green
 * context, then take their usual course.
 *
 * A guard-page hit means the LWP's stack is gone: nothing may run on it
 * again.  The SIGSEGV handler therefore runs on a per-worker sigaltstack
 * and, from there, takes the LWP off its process and off the CPU for
 * good (it joins its worker's dead list like any exiting LWP), after
 * starting a proxy LWP on a fresh stack that makes the process exit with
 * WTERMSIG == SIGSEGV (exit1 by proxy, off the dead stack).  The handler
 * never returns: the worker resumes another context, leaving the signal
 * frame behind on the altstack, which the next fault reuses.  SA_NODEFER
 * keeps SIGSEGV unblocked, or the next fault on this worker would kill
 * the host.
 *
 * The report: the handler prints what it knows (process, LWP, stack,
 * fault address, the bare PC: see report), then saves the fault's registers in its worker
 * (w_fault_regs, w_fault_lwp); the proxy takes them first thing and
 * prints the dead LWP's backtrace (gpi_unwind_regs) before its exit1.
 * The proxy runs next on this worker (w_runnext, see on_fault), so no
 * other fault here can overwrite the registers first; should it not,
 * w_fault_lwp no longer names its LWP and it says so instead.  The dead
 * LWP's struct and stack stay valid meanwhile: it is on p_zlwps until
 * its process is reaped, which cannot happen before the proxy's exit1.
 * The proxy gets a PROXY_STACK stack (libunwind and libdw's names want
 * ~40 KB of it), or the default one if that cannot be had.
 *
 * WARNING: a fault while the worker holds a runtime or libc lock cannot
 * be contained (the lock would never be released): in debug builds the
 * runtime's own locks are counted and such a fault aborts with the
 * report; libc's cannot be seen.  An overflow inside malloc's locked
 * part hangs the worker in the proxy's backtrace (which allocates) or
 * its exit1, as it would in any later allocation on that worker.
 *
 * Faults elsewhere (a host thread, or not a guard page) go to the
 * handler that was installed before ours, or take the default action.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define ALTSTACK_SIZE	(64 * 1024)
#define PROXY_STACK	(256 * 1024)

static struct sigaction old_segv, old_bus;	/* (g) */
static bool installed;				/* (g) */
/*
 * The proxy's attributes, filled at install: no gp_attr_init() (malloc)
 * in the handler.  Its stack is a mapping of its own, which stack.c
 * records with a small malloc(), as carve() does for default stacks when
 * the caches are empty.  Safe here for the reason the proxy may allocate
 * at all: the interrupted code never resumes, so this is no reentry into
 * a malloc() it was in; if it was in one, holding its lock, the WARNING
 * above applies whoever allocates next.
 */
static struct gp_attr proxy_attr;		/* (g) */
/* The fallback: the default stack.  Neither takes the faulter's TLS mode:
 * no malloc in a fault handler. */
static const struct gp_attr proxy_dflt = { .a_tls = GPI_TLS_NONE };

/* Write (s) to stderr without stdio: the handler may interrupt it. */
static void
say(const char *s)
{
	size_t n = strlen(s);
	ssize_t r;

	while (n > 0 && (r = gpi_sys_write(STDERR_FILENO, s, n)) > 0) {
		s += r;
		n -= (size_t)r;
	}
}

/*
 * NOTE: this runs in the signal handler, on the altstack, and may have
 * interrupted malloc or the dynamic loader: it only formats into a local
 * buffer (snprintf with %s, %d, %zu, %p: no locale, no allocation) and
 * writes.  So the pc goes out bare: dladdr takes the loader's lock (a
 * fault inside dlopen would hang here) and libdw allocates.  The names
 * follow in the backtrace the proxy prints, off the handler (unwsym.c).
 */
static void
report(struct gp_lwp *l, siginfo_t *si, ucontext_t *uc, const char *what)
{
	struct gp_proc *p = l->l_proc;
	char buf[512];

	snprintf(buf, sizeof(buf), "greenproc: %s in green process %d (%s), "
	    "LWP %d, stack %zu bytes at %p, fault address %p\n  at %p\n",
	    what, (int)p->p_pid, p->p_comm, l->l_tid, l->l_stksize,
	    l->l_stklo, si->si_addr, gpi_md_fault_pc(uc));
	say(buf);
}

/*
 * The proxy of an overflowed LWP (arg): its backtrace, then exit1 on a
 * fresh stack: the others die, the parent learns.
 */
/*
 * In a proxy, first thing: the backtrace of (dead) from the registers
 * its fault left in this worker (they are ours until the next fault).
 */
static void
print_dead_backtrace(struct gp_lwp *dead)
{
	struct gp_worker *w = gpi_curworker();
	uint64_t regs[8];
	bool have = false;

	if (w != NULL && w->w_fault_lwp == dead) {
		memcpy(regs, w->w_fault_regs, sizeof(regs));
		w->w_fault_lwp = NULL;
		have = true;
	}
	fprintf(stderr, "  backtrace:\n");
	if (have)
		(void)gpi_unwind_regs(dead, regs, stderr, "    ");
	else
		fprintf(stderr, "    (no backtrace: another fault took the "
		    "registers first)\n");
}

static void *
proxy_exit(void *arg)
{
	print_dead_backtrace(arg);
	gpi_exit1(SIGSEGV);
}

/* Pass a fault we do not handle to whoever would have had it. */
static void
chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
		old->sa_sigaction(sig, si, ctx);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN &&
	    old->sa_handler != NULL) {
		old->sa_handler(sig);
		return;
	}
	/* Default action: returning re-executes the fault, which kills. */
	{
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		GPI_LIBC(sigaction)(sig, &dfl, NULL);
	}
}

static bool
has_handler(int sig)
{
	struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	return ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) ||
	    (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN &&
	    old->sa_handler != NULL);
}

/*
 * A fault in green code that nobody handles kills the host (the default
 * action), but first the green backtrace is printed: by a proxy LWP, off
 * the faulting context, since nothing unsafe may run in the handler.
 * The proxy then takes the default action with the same signal.
 */
static void *
proxy_fatal(void *arg)
{
	int sig = gpi_curworker()->w_fault_sig;

	print_dead_backtrace(arg);
	fflush(stderr);
	gpi_host_raise_default(sig);
}

/*
 * From the handler: leave (l)'s registers in its worker and create the
 * proxy that will print them, running (fn) in l's process, next on this
 * worker.  The proxy goes to w_runnext; the next pick takes it first
 * unless it is the one pick in NEWQ_FAIRNESS that looks at w_newq
 * before: that is put off by one, so nothing else runs (and faults) here
 * before the proxy has taken the registers.  A big stack for the
 * backtrace; failing that (no memory, or the map count), the default
 * one.  Returns 0, or the error (then no proxy will take the registers).
 */
static int
start_proxy(struct gp_worker *w, struct gp_lwp *l, void *(*fn)(void *),
    void *ctx)
{
	struct gp_lwp *proxy;
	int error;

	gpi_md_fault_regs(ctx, w->w_fault_regs);
	w->w_fault_lwp = l;
	if (w->w_fairness <= 1)
		w->w_fairness = 2;
	error = gpi_lwp_create(l->l_proc, &proxy, fn, l, &proxy_attr, true);
	if (error != 0)
		error = gpi_lwp_create(l->l_proc, &proxy, fn, l, &proxy_dflt,
		    true);
	if (error != 0)
		w->w_fault_lwp = NULL;
	return error;
}

/*
 * Hand (l)'s fault to proxy_fatal and leave the CPU for good.  Returns
 * only if no proxy could be started (the caller then takes the default
 * action right here, without the backtrace).
 */
static void
fatal_by_proxy(struct gp_worker *w, struct gp_lwp *l, int sig, void *ctx)
{
	struct gp_proc *p = l->l_proc;

	w->w_fault_sig = sig;
	if (start_proxy(w, l, proxy_fatal, ctx) != 0)
		return;
	/* Kept (as a master) until a reap that will not come: the host dies. */
	gpi_spin_lock(&p->p_lock);
	(void)gpi_lwp_unlink(p, l, true);
	gpi_spin_unlock(&p->p_lock);
	/*
	 * NOTE: off the CPU for good, but not onto the dead list.  Reaping
	 * would mark it DEAD, which tells a joiner it ended (gp_lwp_join
	 * returned 0 with a NULL value, and the host could exit 0 before
	 * the proxy raised the signal), and would let that joiner free the
	 * stack the proxy is about to unwind.  It stays LZOMB and never
	 * DEAD: a fault that is not contained never looks like an end.
	 */
	__atomic_store_n(&l->l_stat, GPI_LZOMB, __ATOMIC_RELAXED);
	gpi_mi_switch(l);
	GPI_PANIC("faulted LWP %d resumed", l->l_tid);
}

static bool
exiting(const struct gp_proc *p)
{
	return gpi_pflags(p) & GPI_P_WEXIT;
}

static bool
guard_hit(const struct gp_lwp *l, const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)l->l_stklo;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	/* The guard, and a little below it: a big frame steps over. */
	return a < lo && a + 16 * page >= lo;
}

static void
on_fault(int sig, siginfo_t *si, void *ctx)
{
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *l = w != NULL ? w->w_curlwp : NULL;
	struct gp_proc *p;
	int n, saved = errno;

	/*
	 * Not a worker's LWP, or one gp_shutdown gave up on: containing it
	 * would start a proxy in whatever runtime is up now.
	 */
	/*
	 * Not a fault but a signal sent (si_code <= 0: kill, tgkill, the
	 * preload's raise of a caught one, sigqueue): nothing to report or
	 * contain, the program's handler or the default takes it.
	 */
	if (l == NULL || si == NULL || si->si_code <= 0 ||
	    atomic_load_explicit(&w->w_fence,
	    memory_order_relaxed) == GPI_FENCE_ABANDON) {
		chain(sig, si, ctx);
		errno = saved;
		return;
	}
	p = l->l_proc;
	if (sig != SIGSEGV || !guard_hit(l, si->si_addr) || p == &gpi_proc0) {
		report(l, si, ctx, sig == SIGBUS ? "bus error" :
		    "segmentation fault");
		if (!has_handler(sig) && gpi_tls_nlocks == 0)
			fatal_by_proxy(w, l, sig, ctx);	/* if it can */
		chain(sig, si, ctx);
		errno = saved;
		return;
	}
	report(l, si, ctx, "stack overflow");
	if (gpi_tls_nlocks != 0) {
		say("greenproc: the overflow happened holding a runtime lock: "
		    "cannot be contained\n");
		gpi_host_abort();
	}
	/*
	 * The proxy first, while p_killsig is still clear: an LWP created in
	 * a killed process is born killed (gpi_lwp_create) and would die at
	 * its first cancellation point, before its backtrace.  It does not
	 * run before we switch away.  If the process is exiting already, no
	 * proxy can start, and its exiter finishes the job.
	 */
	if (start_proxy(w, l, proxy_exit, ctx) != 0 && !exiting(p)) {
		say("greenproc: cannot start the exit of the overflowed "
		    "process\n");
		gpi_host_abort();
	}
	/*
	 * Off the process and off the CPU.  Nothing here touches the dead
	 * stack, and nothing sleeps: the altstack frame is abandoned when we
	 * switch away.  p_killsig with the unlink, under p_lock: whoever is
	 * last to leave (the proxy's exit1, or another LWP) dies of SIGSEGV.
	 */
	gpi_spin_lock(&p->p_lock);
	__atomic_store_n(&p->p_killsig, SIGSEGV, __ATOMIC_RELAXED);
	n = gpi_lwp_unlink(p, l, true);
	gpi_spin_unlock(&p->p_lock);
	/* killalllwps() waits for the exiter to be the last one left. */
	if (n == 1 && (gpi_pflags(p) & (GPI_P_WEXIT | GPI_P_INEXEC)))
		gpi_wakeup(&p->p_nthreads);
	gpi_lwp_die_by_proxy(l);
	/* NOTREACHED */
}

/*
 * Called once per worker thread: an alternate stack for the handler.
 * Returns the mapping for gpi_fault_thread_fini.
 */
void *
gpi_fault_thread_init(void)
{
	stack_t ss;
	void *p;

	p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	ss.ss_sp = p;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (GPI_LIBC(sigaltstack)(&ss, NULL) != 0) {
		munmap(p, ALTSTACK_SIZE);
		return NULL;
	}
	return p;
}

void
gpi_fault_thread_fini(void *altstack)
{
	stack_t ss;

	if (altstack == NULL)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	GPI_LIBC(sigaltstack)(&ss, NULL);
	munmap(altstack, ALTSTACK_SIZE);
}

bool
gpi_fault_installed(void)
{
	return __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
}

/*
 * A SIGSEGV/SIGBUS handler set by green code goes behind ours: it still
 * gets every fault that is not a green stack overflow.
 */
int
gpi_fault_sigaction(int sig, const struct sigaction *act,
    struct sigaction *oact)
{
	struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if (!installed || (sig != SIGSEGV && sig != SIGBUS))
		return GPI_LIBC(sigaction)(sig, act, oact);
	if (oact != NULL)
		*oact = *old;
	if (act != NULL)
		*old = *act;
	return 0;
}

/* Install the handlers (gp_init); GREENPROC_NO_FAULT_HANDLER=1 opts out. */
void
gpi_fault_init(void)
{
	struct sigaction sa;
	if (installed || gpi_env(GPI_ENV_NO_FAULT_HANDLER) == 1)
		return;
	memset(&proxy_attr, 0, sizeof(proxy_attr));
	proxy_attr.a_stacksize = gpi_stack_round(PROXY_STACK);
	proxy_attr.a_tls = GPI_TLS_NONE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	GPI_LIBC(sigaction)(SIGSEGV, &sa, &old_segv);
	GPI_LIBC(sigaction)(SIGBUS, &sa, &old_bus);
	installed = true;
}

/* Put back what was there (gp_shutdown). */
void
gpi_fault_fini(void)
{
	if (!installed)
		return;
	GPI_LIBC(sigaction)(SIGSEGV, &old_segv, NULL);
	GPI_LIBC(sigaction)(SIGBUS, &old_bus, NULL);
	installed = false;
}
