/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault.c -- synchronous faults in green code: each kills only its green
 * process, as the kernel kills a process that takes one.
 *
 * The synchronous signals are SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
 * (raised by the kernel for the instruction that ran: si_code > 0) and
 * any of those or SIGABRT that a thread sent itself (tgkill: raise(3),
 * abort(3), glibc's own abort after a failed assert or heap check; the
 * preload's raise of the first five is a real one, so that this file
 * alone decides what becomes of it, handler, ignored or death).  On a
 * worker whose current LWP belongs to a green process other than init,
 * one of them is contained: the handler runs on a per-worker sigaltstack
 * and, from there, takes the LWP off its process and off the CPU for
 * good (it joins its worker's dead list like any exiting LWP), after
 * starting a proxy LWP on a fresh stack that makes the process exit with
 * WTERMSIG == the signal (exit1 by proxy, off the faulting stack, which
 * may be gone: a guard-page hit).  The handler never returns: the worker
 * resumes another context, leaving the signal frame behind on the
 * altstack, which the next fault reuses.  SA_NODEFER keeps the signal
 * unblocked, or the next fault on this worker would kill the host.
 * abort(3) is safe to leave this way: glibc's drops its lock before it
 * raises SIGABRT.
 *
 * The report: the handler prints what it knows (process, LWP, stack,
 * fault address, the bare PC: see report), then saves the fault's
 * registers in its worker (w_fault_regs, w_fault_lwp); the proxy takes
 * them first thing and prints the dead LWP's backtrace (gpi_unwind_regs)
 * before its exit1.  The proxy runs next on this worker (w_runnext, see
 * start_proxy), so no other fault here can overwrite the registers
 * first; should it not, w_fault_lwp no longer names its LWP and it says
 * so instead.  The dead LWP's struct and stack stay valid meanwhile: it
 * is on p_zlwps until its process is reaped, which cannot happen before
 * the proxy's exit1.  The proxy gets a PROXY_STACK stack (libunwind and
 * libdw's names want ~40 KB of it), or the default one if that cannot be
 * had.  A raise of one of the five (not SIGABRT) is contained without
 * any of this (quiet): the program asked to die of the signal, the
 * kernel says nothing of a raise either, and si_addr is no fault
 * address there; green-init mode (greenrun) gives then the output a
 * native run gives.  abort(3) and a failed assert keep their report:
 * the backtrace is the one clue to where they were.
 *
 * What is not contained (decide_fault says which, in this order):
 * - a signal some thread sent with kill/sigqueue, or another thread's
 *   tgkill to a worker (that looks like raise and is taken for one), is
 *   the host's, not a fault: the handler before ours, or the default;
 * - a fault on a host thread, or while gp_shutdown abandons the worker:
 *   the same;
 * - a fault while this thread holds a runtime lock (gpi_tls_nlocks,
 *   counted in every build): the lock would never be released, so the
 *   host dies of the fault's signal, default action, after the report;
 * - a fault the program handles (a handler installed before gp_init, or
 *   under the preload any time, which goes behind ours: see
 *   gpi_fault_sigaction): its handler runs, on the altstack, in the
 *   faulting context; a stack overflow is the exception (its stack is
 *   gone: contained anyway);
 * - a fault on an LWP of init (the host program's own green code): the
 *   host dies of it with its default action, after the green backtrace
 *   (proxy_fatal);
 * - a fault of a process's exiter inside exit1 (a gp_at_exit callout),
 *   or any fault where no proxy can be made: the host dies of it.
 * A fault inside libc while libc holds a lock of its own (malloc finding
 * its heap corrupt mid-operation) cannot be seen: it is contained, and
 * the proxy's backtrace or exit1 then blocks on that lock for good, as
 * any later allocation on that thread would; the watchdog (watchdog.c)
 * sees the worker stuck and the other green processes run on a spare.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define PROXY_STACK	(256 * 1024)

/*
 * The signals taken, and for each the action that was there before ours
 * (or that the program set since, under the preload): it runs for what
 * we do not contain.
 */
static const int fault_sigs[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT
};
#define NFAULT_SIGS	(sizeof(fault_sigs) / sizeof(fault_sigs[0]))
static struct sigaction old_act[NFAULT_SIGS];	/* (g) */
static bool installed;				/* (g) */

void
gpi_fault_delset(sigset_t *set)
{
	size_t i;

	for (i = 0; i < NFAULT_SIGS; i++)
		sigdelset(set, fault_sigs[i]);
}
/*
 * The proxy's attributes, filled at install: no gp_attr_init() (malloc)
 * in the handler.  Its stack is a mapping of its own, which stack.c
 * records with a small malloc(), as carve() does for default stacks when
 * the caches are empty.  Safe here for the reason the proxy may allocate
 * at all: the interrupted code never resumes, so this is no reentry into
 * a malloc() it was in; if it was in one, holding its lock, the libc
 * case above applies whoever allocates next.
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

/* The proxy of a quiet containment (a raise): exit1 without a word. */
static void *
proxy_exit_quiet(void *arg)
{
	struct gp_lwp *dead = arg;

	/* Set before we ran, and never cleared: the fault's signal. */
	gpi_exit1(gpi_curlwp(), __atomic_load_n(&dead->l_proc->p_killsig,
	    __ATOMIC_RELAXED) & 0x7f);
}

/*
 * The proxy of a contained LWP (arg): its backtrace, then exit1 on a
 * fresh stack: the others die, the parent learns.
 */
static void *
proxy_exit(void *arg)
{
	print_dead_backtrace(arg);
	return proxy_exit_quiet(arg);
}

/* The saved action of (sig), or NULL if it is not one of ours. */
static struct sigaction *
old_of(int sig)
{
	size_t i;

	for (i = 0; i < NFAULT_SIGS; i++)
		if (fault_sigs[i] == sig)
			return &old_act[i];
	return NULL;
}

/*
 * Did the kernel raise (si) for the instruction that ran (a fault or a
 * trap), or did this thread send it itself (tgkill from raise/abort)?
 * Either way the code that was running asked for it.  Another thread's
 * pthread_kill of a worker looks the same as the worker's own raise and
 * is taken for one.
 */
static bool
synchronous(int sig, const siginfo_t *si)
{
	if (si->si_code == SI_TKILL && si->si_pid == gpi_host_pid())
		return true;
	return sig != SIGABRT && si->si_code > 0;
}

static bool
has_handler(int sig)
{
	struct sigaction *old = old_of(sig);

	return ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) ||
	    (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN &&
	    old->sa_handler != NULL);
}

/*
 * Run the program's handler (act) for (sig) as the kernel would have
 * delivered it: with act's sa_mask and, unless SA_NODEFER, (sig) itself
 * blocked, and reset to the default first under SA_RESETHAND.  Ours is
 * SA_NODEFER with an empty mask (an abandoned containment frame must
 * leave nothing blocked), so the blocking is done here, in the kernel's
 * mask: a raise of (sig) inside the handler then waits until it returns,
 * where the sigreturn that ends on_fault puts back the mask of the
 * interrupted code and the kernel delivers it.  Unblocked, a handler
 * that raises its own signal (stress-ng's signest) recursed until the
 * altstack overflowed.  A siglongjmp out restores its saved mask itself
 * (glibc's, the kernel's); a green pthread_sigmask inside the handler
 * reaches the kernel's mask for these signals (gpi_fault_mask).
 */
static void
call_handler(int sig, siginfo_t *si, void *ctx, struct sigaction *act)
{
	struct sigaction run = *act;
	sigset_t block = run.sa_mask;

	if (!(run.sa_flags & SA_NODEFER))
		sigaddset(&block, sig);
	if (run.sa_flags & SA_RESETHAND) {
		memset(act, 0, sizeof(*act));
		act->sa_handler = SIG_DFL;
	}
	GPI_LIBC(pthread_sigmask)(SIG_BLOCK, &block, NULL);
	if (run.sa_flags & SA_SIGINFO)
		run.sa_sigaction(sig, si, ctx);
	else
		run.sa_handler(sig);
}

/* Pass a fault we do not handle to whoever would have had it. */
static void
chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *old = old_of(sig);

	if (has_handler(sig)) {
		call_handler(sig, si, ctx, old);
		return;
	}
	/*
	 * Default action.  A fault re-executes when we return, and kills
	 * with the faulting instruction's registers in the core; a trap
	 * (int3 returns past itself) or a signal somebody sent would not
	 * come again: raise it.
	 */
	if (old->sa_handler == SIG_IGN && !synchronous(sig, si))
		return;
	if (sig == SIGTRAP || sig == SIGABRT || si->si_code <= 0)
		gpi_host_raise_default(sig);
	{
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		GPI_LIBC(sigaction)(sig, &dfl, NULL);
	}
}

/*
 * chain() for LWP (l), current on worker (w): a program's handler runs
 * on the worker's altstack, which (l) must not leave to another LWP
 * until it returns (w_althandler, gpi_lwp_yield).  A fault nested in
 * that handler (a JVM unblocks SIGSEGV in its handler and may fault
 * there) puts the outer mark back when it returns, rather than clearing
 * it while the outer handler still runs there.
 */
static void
chain_on_worker(struct gp_worker *w, struct gp_lwp *l, int sig,
    siginfo_t *si, void *ctx)
{
	struct gp_lwp *outer = w->w_althandler;

	w->w_althandler = l;
	chain(sig, si, ctx);
	w->w_althandler = outer;
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
 * From the handler: leave (l)'s registers (from ctx; none if NULL, for a
 * quiet proxy) in its worker and create the proxy that will print them,
 * running (fn) in l's process, next on this worker.  The proxy goes to
 * w_runnext; the next pick takes it first unless it is the one pick in
 * NEWQ_FAIRNESS that looks at w_newq before: that is put off by one, so
 * nothing else runs (and faults) here before the proxy has taken the
 * registers.  A big stack for the backtrace; failing that (no memory,
 * or the map count), the default one.  Returns 0, or the error (then no
 * proxy will take the registers).
 */
static int
start_proxy(struct gp_worker *w, struct gp_lwp *l, void *(*fn)(void *),
    void *ctx)
{
	struct gp_lwp *proxy;
	int error;

	if (ctx != NULL) {
		gpi_md_fault_regs(ctx, w->w_fault_regs);
		w->w_fault_lwp = l;
		if (w->w_fairness <= 1)
			w->w_fairness = 2;
	}
	error = gpi_lwp_create(l->l_proc, &proxy, fn, l, &proxy_attr, true);
	if (error != 0)
		error = gpi_lwp_create(l->l_proc, &proxy, fn, l, &proxy_dflt,
		    true);
	if (error != 0 && ctx != NULL)
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

/* What the report calls (sig). */
static const char *
fault_name(int sig, bool overflow)
{
	switch (sig) {
	case SIGSEGV:
		return overflow ? "stack overflow" : "segmentation fault";
	case SIGBUS:
		return "bus error";
	case SIGILL:
		return "illegal instruction";
	case SIGFPE:
		return "arithmetic fault";
	case SIGTRAP:
		return "breakpoint trap";
	default:
		return "abort";
	}
}

static void
on_fault(int sig, siginfo_t *si, void *ctx)
{
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *l = w != NULL ? w->w_curlwp : NULL;
	struct gp_proc *p;
	bool overflow, quiet;
	int n, saved = errno;

	/*
	 * Not a worker's LWP, or one gp_shutdown gave up on (containing it
	 * would start a proxy in whatever runtime is up now), or not the
	 * running code's doing: the host's.
	 */
	if (l == NULL || atomic_load_explicit(&w->w_fence,
	    memory_order_relaxed) == GPI_FENCE_ABANDON ||
	    !synchronous(sig, si)) {
		if (l != NULL)
			chain_on_worker(w, l, sig, si, ctx);
		else
			chain(sig, si, ctx);
		errno = saved;
		return;
	}
	/*
	 * Sent by the thread to itself (raise, with or without the preload)
	 * while the program ignores it: ignored, as the kernel does.  Only
	 * a real fault at SIG_IGN is forced to its default action.
	 */
	if (si->si_code <= 0 && !(old_of(sig)->sa_flags & SA_SIGINFO) &&
	    old_of(sig)->sa_handler == SIG_IGN) {
		errno = saved;
		return;
	}
	p = l->l_proc;
	overflow = sig == SIGSEGV && si->si_code > 0 &&
	    guard_hit(l, si->si_addr);
	/* The program's handler, in the faulting context: its business. */
	if (!overflow && has_handler(sig)) {
		chain_on_worker(w, l, sig, si, ctx);
		errno = saved;
		return;
	}
	/* A raise(SIGSEGV) and the like: no report (see the top). */
	quiet = si->si_code <= 0 && sig != SIGABRT;
	if (!quiet)
		report(l, si, ctx, fault_name(sig, overflow));
	if (gpi_tls_nlocks != 0) {
		say("greenproc: the fault happened holding a runtime lock: "
		    "cannot be contained\n");
		gpi_host_raise_default(sig);
	}
	/* Init's own code: the host's fault.  An overflow with a handler too. */
	if (p == &gpi_proc0) {
		if (!has_handler(sig) && !quiet)
			fatal_by_proxy(w, l, sig, ctx);	/* if it can */
		chain_on_worker(w, l, sig, si, ctx);
		errno = saved;
		return;
	}
	/*
	 * The proxy first, while p_killsig is still clear: an LWP created in
	 * a killed process is born killed (gpi_lwp_create) and would die at
	 * its first cancellation point, before its backtrace.  It does not
	 * run before we switch away.  If the process is exiting already, no
	 * proxy can start, and its exiter finishes the job.
	 */
	if (start_proxy(w, l, quiet ? proxy_exit_quiet : proxy_exit,
	    quiet ? NULL : ctx) != 0 && !exiting(p)) {
		say("greenproc: cannot start the exit of the faulted "
		    "process\n");
		gpi_host_raise_default(sig);
	}
	/*
	 * Exiting, and the only LWP left: we are its exiter, faulting in
	 * exit1 (a gp_at_exit callout, say).  Nobody else would finish the
	 * exit, and no proxy can be made in an exiting process: not
	 * contained (found by reading, tests/test_fault.c).
	 */
	if (exiting(p) && atomic_load(&p->p_nthreads) == 1) {
		say("greenproc: the fault happened in its process's exit: "
		    "cannot be contained\n");
		gpi_host_raise_default(sig);
	}
	/*
	 * Off the process and off the CPU.  Nothing here touches the
	 * faulting stack, and nothing sleeps: the altstack frame is
	 * abandoned when we switch away.  p_killsig with the unlink, under
	 * p_lock: whoever is last to leave (the proxy's exit1, or another
	 * LWP) dies of it.  A kill that came first keeps its signal.
	 */
	gpi_spin_lock(&p->p_lock);
	if (p->p_killsig == 0)
		__atomic_store_n(&p->p_killsig, (uint8_t)sig,
		    __ATOMIC_RELAXED);
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

	p = mmap(NULL, GPI_ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	ss.ss_sp = p;
	ss.ss_size = GPI_ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (GPI_LIBC(sigaltstack)(&ss, NULL) != 0) {
		munmap(p, GPI_ALTSTACK_SIZE);
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
	munmap(altstack, GPI_ALTSTACK_SIZE);
}

bool
gpi_fault_installed(void)
{
	return __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
}

/*
 * A handler for one of our signals set by green code (the preload) goes
 * behind ours: it still gets every fault we do not contain.
 */
int
gpi_fault_sigaction(int sig, const struct sigaction *act,
    struct sigaction *oact)
{
	struct sigaction *old = old_of(sig);

	if (!installed || old == NULL)
		return GPI_LIBC(sigaction)(sig, act, oact);
	if (oact != NULL)
		*oact = *old;
	if (act != NULL)
		*old = *act;
	return 0;
}

/*
 * A green sigprocmask (how, set) made by an LWP inside a program's fault
 * handler (w_althandler): its fault signals' part goes to the kernel's
 * mask too, where call_handler blocked them, as it would natively.  A
 * JVM unblocks SIGSEGV first thing in its handler, which may then fault
 * again (a nested fault must reach it, not kill the host).
 */
void
gpi_fault_mask(int how, const sigset_t *set)
{
	sigset_t block, unblock;
	size_t i;

	sigemptyset(&block);
	sigemptyset(&unblock);
	for (i = 0; i < NFAULT_SIGS; i++) {
		if (sigismember(set, fault_sigs[i]))
			sigaddset(how == SIG_UNBLOCK ? &unblock : &block,
			    fault_sigs[i]);
		else if (how == SIG_SETMASK)
			sigaddset(&unblock, fault_sigs[i]);
	}
	GPI_LIBC(pthread_sigmask)(SIG_BLOCK, &block, NULL);
	GPI_LIBC(pthread_sigmask)(SIG_UNBLOCK, &unblock, NULL);
}

/* Install the handlers (gp_init); GREENPROC_NO_FAULT_HANDLER=1 opts out. */
void
gpi_fault_init(void)
{
	struct sigaction sa;
	size_t i;

	if (installed || gpi_env(GPI_ENV_NO_FAULT_HANDLER) == 1)
		return;
	memset(&proxy_attr, 0, sizeof(proxy_attr));
	proxy_attr.a_stacksize = gpi_stack_round(PROXY_STACK);
	proxy_attr.a_tls = GPI_TLS_NONE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFAULT_SIGS; i++)
		GPI_LIBC(sigaction)(fault_sigs[i], &sa, &old_act[i]);
	installed = true;
}

/* Put back what was there (gp_shutdown). */
void
gpi_fault_fini(void)
{
	size_t i;

	if (!installed)
		return;
	for (i = 0; i < NFAULT_SIGS; i++)
		GPI_LIBC(sigaction)(fault_sigs[i], &old_act[i], NULL);
	installed = false;
}
