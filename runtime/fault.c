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
 * WARNING: a fault while the worker holds a runtime or libc lock cannot
 * be contained (the lock would never be released): in debug builds the
 * runtime's own locks are counted and such a fault aborts with the
 * report; libc's cannot be seen.
 *
 * Faults elsewhere (a host thread, or not a guard page) go to the
 * handler that was installed before ours, or take the default action.
 */
#include <dlfcn.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define ALTSTACK_SIZE	(64 * 1024)

static struct sigaction old_segv, old_bus;	/* (g) */
static bool installed;				/* (g) */

/* Write (s) to stderr without stdio: the handler may interrupt it. */
static void
say(const char *s)
{
	size_t n = strlen(s);
	ssize_t r;

	while (n > 0 && (r = write(STDERR_FILENO, s, n)) > 0) {
		s += r;
		n -= (size_t)r;
	}
}

static void
report(struct gp_lwp *l, siginfo_t *si, ucontext_t *uc, const char *what)
{
	struct gp_proc *p = l->l_proc;
	char buf[512];
	Dl_info di;
	void *pc = gpi_md_fault_pc(uc);

	snprintf(buf, sizeof(buf), "greenproc: %s in green process %d (%s), "
	    "LWP %d, stack %zu bytes at %p, fault address %p\n", what,
	    (int)p->p_pid, p->p_comm, l->l_tid, l->l_stksize, l->l_stklo,
	    si->si_addr);
	say(buf);
	if (dladdr(pc, &di) != 0 && di.dli_sname != NULL)
		snprintf(buf, sizeof(buf), "  at %p %s+0x%lx (%s)\n", pc,
		    di.dli_sname, (unsigned long)((char *)pc -
		    (char *)di.dli_saddr), di.dli_fname);
	else
		snprintf(buf, sizeof(buf), "  at %p\n", pc);
	say(buf);
	if (gpi_unwind_ucontext_hook != NULL)
		gpi_unwind_ucontext_hook(uc, "  ");
}

static void *
proxy_exit(void *arg)
{
	/* exit1 on a fresh stack: the others die, the parent learns. */
	(void)arg;
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
		gpi_host_sigaction(sig, &dfl, NULL);
	}
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
	struct gp_lwp *l = w != NULL ? w->w_curlwp : NULL, *proxy;
	struct gp_proc *p;
	int saved = errno;

	if (l == NULL) {
		chain(sig, si, ctx);
		errno = saved;
		return;
	}
	p = l->l_proc;
	if (sig != SIGSEGV || !guard_hit(l, si->si_addr) || p == &gpi_proc0) {
		report(l, si, ctx, sig == SIGBUS ? "bus error" :
		    "segmentation fault");
		chain(sig, si, ctx);
		errno = saved;
		return;
	}
	report(l, si, ctx, "stack overflow");
#ifdef GREENPROC_DEBUG
	if (gpi_tls_nlocks != 0) {
		say("greenproc: the overflow happened holding a runtime lock: "
		    "cannot be contained\n");
		abort();
	}
#endif
	/*
	 * Off the process, a proxy to exit it, off the CPU.  Nothing here
	 * touches the dead stack, and nothing sleeps: the altstack frame is
	 * abandoned when we switch away.
	 */
	gpi_spin_lock(&p->p_lock);
	__atomic_store_n(&p->p_killsig, SIGSEGV, __ATOMIC_RELAXED);
	(void)gpi_lwp_unlink(p, l, true);
	gpi_spin_unlock(&p->p_lock);
	/* If the process is exiting already, its exiter finishes the job. */
	if (gpi_lwp_create(p, &proxy, proxy_exit, NULL, NULL, true) != 0 &&
	    !(__atomic_load_n(&p->p_flags, __ATOMIC_RELAXED) & GPI_P_WEXIT)) {
		say("greenproc: cannot start the exit of the overflowed "
		    "process\n");
		abort();
	}
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
	if (sigaltstack(&ss, NULL) != 0) {
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
	sigaltstack(&ss, NULL);
	munmap(altstack, ALTSTACK_SIZE);
}

void (*gpi_unwind_ucontext_hook)(void *uc, const char *indent);

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
		return gpi_host_sigaction(sig, act, oact);
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
	const char *e = getenv("GREENPROC_NO_FAULT_HANDLER");

	if (installed || (e != NULL && *e == '1'))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	gpi_host_sigaction(SIGSEGV, &sa, &old_segv);
	gpi_host_sigaction(SIGBUS, &sa, &old_bus);
	installed = true;
}

/* Put back what was there (gp_shutdown). */
void
gpi_fault_fini(void)
{
	if (!installed)
		return;
	gpi_host_sigaction(SIGSEGV, &old_segv, NULL);
	gpi_host_sigaction(SIGBUS, &old_bus, NULL);
	installed = false;
}
