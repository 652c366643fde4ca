/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signals.c -- the preload's signal, kill and wait interposers.
 *
 * On a green thread: green signals (a green SIG_IGN for SIGCHLD never
 * reaches the kernel, which would then auto-reap the host's real
 * children) and waits for the green process's children.  Synchronous
 * faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) are the kernel's:
 * their handlers stay real, behind the runtime's (fault.c), as does a
 * host thread's SIGABRT handler (a green one is green: abort() below).  On a host thread: glibc, except that green
 * pids (and a wait for any child while init has green children) are
 * served by the runtime, the host being init.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "preload.h"

#undef sigtimedwait	/* internal.h's is the runtime's: here, the interposer */
#define EXPORT	__attribute__((__visibility__("default")))
#define HOST_POLL_NS	1000000	/* host wait for real and green children */

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

static bool
fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	    sig == SIGFPE || sig == SIGTRAP;
}

EXPORT int
kill(pid_t pid, int sig)
{
	pid_t host = __atomic_load_n(&gpi_hostproc_pid, __ATOMIC_RELAXED);

	/*
	 * The green-init process passes for the host (preload.c): its 0
	 * and -1 are the kernel's, and the host's pid is its own, posted
	 * here so that it is delivered before kill returns, as natively.
	 */
	if (GP_IS_GREEN(pid) || (green() && (pid == 0 || pid == -1) &&
	    !gpi_is_hostproc(gpi_curproc())))
		return gp_kill(pid, sig);
	if (host != 0 && pid > 0 && green() && pid == REAL(getpid)())
		return gp_kill(host, sig) != 0 ? -1 : (gpi_userret(), 0);
	return REAL(kill)(pid, sig);
}

EXPORT int
raise(int sig)
{
	if (!green())
		return REAL(raise)(sig);
	if (gp_kill(gp_getpid(), sig) != 0)
		return -1;
	gpi_userret();		/* delivered before raise returns */
	return 0;
}

EXPORT void
abort(void)
{
	struct sigaction sa;

	if (!green()) {
		REAL(abort)();
		__builtin_unreachable();
	}
	/* A handler may run; if it returns, SIGABRT kills anyway. */
	(void)raise(SIGABRT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)gp_sigaction(SIGABRT, &sa, NULL);
	gpi_exit1(SIGABRT);
}

/*
 * A handler may call interposers, whose lazy dlsym is not
 * async-signal-safe: resolve them all before the first one is installed.
 */
static inline void
resolve_for(sighandler_t handler)
{
	if (handler != SIG_DFL && handler != SIG_IGN)
		gpi_preload_resolve();
}

EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	if (act != NULL)
		resolve_for(act->sa_handler);
	if (green() && !fault_signal(sig))
		return gp_sigaction(sig, act, oact);
	if ((fault_signal(sig) || sig == SIGABRT) && gpi_fault_installed())
		return gpi_fault_sigaction(sig, act, oact);
	return REAL(sigaction)(sig, act, oact);
}

EXPORT sighandler_t
signal(int sig, sighandler_t handler)
{
	struct sigaction sa, osa;

	resolve_for(handler);
	if ((fault_signal(sig) || (sig == SIGABRT && !green())) &&
	    gpi_fault_installed()) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = handler;
		sa.sa_flags = SA_RESTART;
		if (gpi_fault_sigaction(sig, &sa, &osa) != 0)
			return SIG_ERR;
		return osa.sa_handler;
	}
	if (!green() || fault_signal(sig))
		return REAL(signal)(sig, handler);
	/* glibc's signal() has BSD semantics: restart, not reset. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	if (gp_sigaction(sig, &sa, &osa) != 0)
		return SIG_ERR;
	return osa.sa_handler;
}

EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *oset)
{
	if (green())
		return gp_sigprocmask(how, set, oset);
	return REAL(sigprocmask)(how, set, oset);
}

EXPORT int
pthread_sigmask(int how, const sigset_t *set, sigset_t *oset)
{
	if (green())
		return gp_sigprocmask(how, set, oset) == 0 ? 0 : errno;
	return REAL(pthread_sigmask)(how, set, oset);
}

EXPORT int
pthread_kill(pthread_t t, int sig)
{
	struct gp_lwp *l;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_kill)(t, sig);
	if (sig < 0 || sig > 64)
		return EINVAL;
	if ((l = gpi_thread_lwp(t)) == NULL ||
	    (atomic_load(&l->l_jstate) & GPI_J_ZLIST))
		return ESRCH;		/* it has exited */
	if (sig != 0)
		gpi_psignal(l->l_proc, __atomic_load_n(&l->l_proc->p_pid,
		    __ATOMIC_RELAXED), sig);
	if (l == gpi_curlwp())
		gpi_userret();
	return 0;
}

/* ------------------------------------------------------------ waits */

/*
 * wait(-1) on a host thread while init has green children: the host's
 * real children and init's green ones, whichever comes first.  Real ones
 * are polled (HOST_POLL_NS); green ones wake the sleep at once.
 */
static pid_t
host_wait_any(int *status, int options, struct rusage *ru)
{
	pid_t r, g;
	bool real_none;

	for (;;) {
		r = REAL(wait4)(-1, status, options | WNOHANG, ru);
		if (r > 0 || (r < 0 && errno != ECHILD))
			return r;
		real_none = r < 0;
		g = gp_wait4(-1, status, options | WNOHANG, ru);
		if (g > 0 || (g < 0 && errno != ECHILD))
			return g;
		if (real_none && g < 0) {
			errno = ECHILD;
			return -1;
		}
		if (options & WNOHANG)
			return 0;
		gpi_wait_event(gpi_now() + HOST_POLL_NS);
	}
}

static bool
init_has_green_children(void)
{
	return __atomic_load_n(&gpi_proc0.p_children, __ATOMIC_RELAXED) != NULL;
}

EXPORT pid_t
wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	if (green() || (pid != -1 && GP_IS_GREEN(pid)))
		return gp_wait4(pid, status, options, ru);
	if (pid == -1 && init_has_green_children())
		return host_wait_any(status, options, ru);
	return REAL(wait4)(pid, status, options, ru);
}

EXPORT pid_t
waitpid(pid_t pid, int *status, int options)
{
	if (green() || (pid != -1 && GP_IS_GREEN(pid)))
		return gp_waitpid(pid, status, options);
	if (pid == -1 && init_has_green_children())
		return host_wait_any(status, options, NULL);
	return REAL(waitpid)(pid, status, options);
}

EXPORT pid_t
wait(int *status)
{
	if (green())
		return gp_waitpid(-1, status, 0);
	if (init_has_green_children())
		return host_wait_any(status, 0, NULL);
	return REAL(wait)(status);
}

EXPORT int
waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	if (green() || ((idtype == P_PID || idtype == P_PGID) &&
	    GP_IS_GREEN((pid_t)id)))
		return gp_waitid(idtype, id, info, options);
	return REAL(waitid)(idtype, id, info, options);
}

/* ------------------------------------------------------------ waits */

/*
 * The signal waits of a green thread are green (runtime/signal.c,
 * gpi_sig_wait): they take the process's pending green signals, which
 * is where a signal sent from outside (the greenrun forwarder) or by
 * kill/pthread_kill lands.
 */
static int
green_sigwait(struct gp_lwp *l, const sigset_t *set, siginfo_t *si,
    const struct timespec *rel)
{
	uint64_t deadline = 0;
	int sig;

	if (rel != NULL) {
		if (rel->tv_sec < 0 || rel->tv_nsec < 0 ||
		    rel->tv_nsec >= 1000000000L) {
			errno = EINVAL;
			return -1;
		}
		deadline = gpi_now() + (uint64_t)rel->tv_sec * 1000000000u +
		    (uint64_t)rel->tv_nsec;
		if (deadline == 0)
			deadline = 1;
	}
	if ((sig = gpi_sig_wait(l, set, deadline, si)) < 0) {
		errno = -sig;
		return -1;
	}
	return sig;
}

EXPORT int
sigwait(const sigset_t *set, int *sig)
{
	struct gp_lwp *l = gpi_curlwp();
	int r;

	if (l == NULL)
		return REAL(sigwait)(set, sig);
	/* sigwait is not interrupted: it waits on after a handler ran. */
	while ((r = green_sigwait(l, set, NULL, NULL)) < 0)
		if (errno != EINTR)
			return errno;
	*sig = r;
	return 0;
}

EXPORT int
sigwaitinfo(const sigset_t *set, siginfo_t *si)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(sigwaitinfo)(set, si);
	return green_sigwait(l, set, si, NULL);
}

EXPORT int
sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(sigtimedwait)(set, si, ts);
	return green_sigwait(l, set, si, ts);
}

EXPORT int
sigsuspend(const sigset_t *mask)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(sigsuspend)(mask);
	gpi_sig_suspend(l, mask);
	errno = EINTR;
	return -1;
}

EXPORT int
pause(void)
{
	struct gp_lwp *l = gpi_curlwp();
	sigset_t cur;

	if (l == NULL)
		return REAL(pause)();
	(void)gp_sigprocmask(SIG_BLOCK, NULL, &cur);
	gpi_sig_suspend(l, &cur);
	errno = EINTR;
	return -1;
}

EXPORT int
sigpending(sigset_t *set)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(sigpending)(set);
	gpi_sig_pendingset(l, set);
	return 0;
}
