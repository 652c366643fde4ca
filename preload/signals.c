/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signals.c -- the preload's signal, kill and wait interposers.
 *
 * On a green thread: green signals (a green SIG_IGN for SIGCHLD never
 * reaches the kernel, which would then auto-reap the host's real
 * children) and waits for the green process's children.  Synchronous
 * faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) are the kernel's:
 * their handlers stay real, behind the runtime's (fault.c), as does a
 * host thread's SIGABRT handler (a green one is green: abort() below);
 * a raise of one is a real one, and fault.c alone decides its fate.
 * On a host thread: glibc, except that green pids (and a wait for any
 * child while init has green children) are served by the runtime, the
 * host being init.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM	(1U << 31)	/* Linux 4.7 */
#endif

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
	if (host != 0 && pid > 0 && green() && pid == REAL(getpid)()) {
		/* A stop by default stops the host, for its parent to see. */
		if (gpi_greenrun_stops(sig))
			return gpi_greenrun_stop(sig);
		if (gpi_greenrun_sfd(sig))	/* for its signalfd */
			return REAL(kill)(pid, sig);
		if (gp_kill(host, sig) != 0)
			return -1;
		gpi_sigpoint();		/* not a cancellation point */
		return 0;
	}
	return REAL(kill)(pid, sig);
}

EXPORT int
raise(int sig)
{
	int error;

	if (!green())
		return REAL(raise)(sig);
	if (gpi_is_hostproc(gpi_curproc()) && gpi_greenrun_stops(sig))
		return gpi_greenrun_stop(sig);		/* as kill above */
	if (gpi_is_hostproc(gpi_curproc()) && gpi_greenrun_sfd(sig))
		return REAL(kill)(REAL(getpid)(), sig);
	/*
	 * The faults' dispositions are the kernel's (section 28): raised
	 * for real on this thread, where the runtime's handler decides as
	 * for a real fault (fault.c, on_fault): the program's handler runs
	 * now, SIG_IGN ignores a sent signal, and at SIG_DFL the green
	 * process dies of it and nothing else does.
	 */
	if (fault_signal(sig))
		return REAL(raise)(sig);
	/*
	 * POSIX: in a threaded process raise(sig) is
	 * pthread_kill(pthread_self(), sig) -- the signal is the calling
	 * thread's, not any thread's (a blocked one stays pending on it).
	 */
	if (sig == 0)
		error = gp_kill(gp_getpid(), sig) != 0 ? errno : 0;
	else if (sig < 0 || sig > 64)
		error = EINVAL;
	else
		error = gpi_lwp_signal(gpi_curlwp(), sig);
	if (error != 0) {
		errno = error;
		return -1;
	}
	/* Delivered before raise returns; not a cancellation point. */
	gpi_sigpoint();
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
	gpi_exit1(gpi_curlwp(), SIGABRT);
}

/*
 * A handler may call interposers, whose first use looks the real
 * function up: resolve them all before the first handler is installed
 * where that lookup would be dlsym's, which is not async-signal-safe
 * (gpi_preload_resolve returns at once where dlnext.c's walk works).
 */
static inline void
resolve_for(sighandler_t handler)
{
	if (handler != SIG_DFL && handler != SIG_IGN)
		gpi_preload_resolve();
}

/*
 * A green thread changes a disposition.  A signal that came before the
 * call was sent under the old one: natively it would have been delivered
 * at once, asynchronously; a green signal waits for a signal point, and
 * one the kernel holds waits for the forwarder (init.c).  So the ones
 * already here are delivered first, then the disposition changes.
 */
static int
green_sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	if (act != NULL) {
		gpi_greenrun_drain(sig);
		gpi_sigpoint();		/* not a cancellation point */
	}
	return gp_sigaction(sig, act, oact);
}

EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	if (act != NULL)
		resolve_for(act->sa_handler);
	if (green() && !fault_signal(sig))
		return green_sigaction(sig, act, oact);
	if ((fault_signal(sig) || sig == SIGABRT) && gpi_fault_installed())
		return gpi_fault_sigaction(sig, act, oact);
	return REAL(sigaction)(sig, act, oact);
}

/*
 * signal() and its other names: a handler with (flags), through ours.
 * glibc's signal (and bsd_signal, ssignal: the same function) has BSD
 * semantics, SA_RESTART; sysv_signal (__sysv_signal, which a program
 * built with -std=c99 calls for signal(), as zstd is) resets the handler
 * and neither blocks the signal nor restarts.  glibc builds sysv_signal
 * on its internal sigaction, which no interposer sees: zstd's SIGINT
 * handler went to the kernel, the green SIGINT killed it with its
 * default action and left the partial output file behind.
 */
static sighandler_t
set_handler(int sig, sighandler_t handler, int flags, bool bsd)
{
	struct sigaction sa, osa;

	resolve_for(handler);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	if ((fault_signal(sig) || (sig == SIGABRT && !green())) &&
	    gpi_fault_installed()) {
		if (gpi_fault_sigaction(sig, &sa, &osa) != 0)
			return SIG_ERR;
		return osa.sa_handler;
	}
	if (!green() || fault_signal(sig)) {
		if (bsd)
			return REAL(signal)(sig, handler);
		if (handler == SIG_ERR || REAL(sigaction)(sig, &sa, &osa) != 0)
			return SIG_ERR;
		return osa.sa_handler;
	}
	if (green_sigaction(sig, &sa, &osa) != 0)
		return SIG_ERR;
	return osa.sa_handler;
}

EXPORT sighandler_t
signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, true);
}

/* glibc exports it; its headers no longer declare it. */
EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler);

EXPORT sighandler_t
bsd_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, true);
}

EXPORT sighandler_t
ssignal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, true);
}

EXPORT sighandler_t
__sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

EXPORT sighandler_t
sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *oset)
{
	if (green())
		return gp_sigprocmask(how, set, oset);
	return REAL(sigprocmask)(how, set, oset);
}

/*
 * The System V forms: glibc builds them on its internal sigprocmask and
 * sigaction, which no interposer sees, so a green thread would change the
 * worker's kernel mask.  They are what they are defined as, on ours.
 */
static int
mask_one(int how, int sig)
{
	sigset_t one;

	sigemptyset(&one);
	if (sigaddset(&one, sig) != 0)
		return -1;			/* EINVAL */
	return sigprocmask(how, &one, NULL);
}

EXPORT int
sighold(int sig)
{
	return mask_one(SIG_BLOCK, sig);
}

EXPORT int
sigrelse(int sig)
{
	return mask_one(SIG_UNBLOCK, sig);
}

EXPORT int
sigignore(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	return sigaction(sig, &sa, NULL);
}

/*
 * sigqueue to a green process, or in green-init mode to the program's own
 * pid: posted green before it returns, as kill is (natively the signal is
 * pending when sigqueue returns; going through the kernel and the
 * forwarder it would arrive later, and out of order), with SI_QUEUE and
 * its value; a real-time one queues (runtime/signal.c, "Queued
 * signals"), EAGAIN past RLIMIT_SIGPENDING.
 */
EXPORT int
sigqueue(pid_t pid, int sig, const union sigval value)
{
	pid_t host = __atomic_load_n(&gpi_hostproc_pid, __ATOMIC_RELAXED);

	if (green() && GP_IS_GREEN(pid))
		return gpi_sigqueue(pid, sig, value);
	if (green() && host != 0 && pid > 0 && pid == REAL(getpid)()) {
		if (gpi_greenrun_stops(sig))
			return gpi_greenrun_stop(sig);	/* as kill */
		if (gpi_greenrun_sfd(sig))	/* for its signalfd */
			return REAL(sigqueue)(pid, sig, value);
		if (gpi_sigqueue(host, sig, value) != 0)
			return -1;
		gpi_sigpoint();		/* not a cancellation point */
		return 0;
	}
	return REAL(sigqueue)(pid, sig, value);
}

/*
 * pthread_sigqueue (GNU) of a green thread: to that thread alone, with
 * SI_QUEUE and the value, as pthread_kill; glibc's would queue to the
 * worker's kernel thread.
 */
EXPORT int
pthread_sigqueue(pthread_t t, int sig, const union sigval value)
{
	struct gp_lwp *l;
	int error;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_sigqueue)(t, sig, value);
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (atomic_load(&l->l_jstate) & GPI_J_ZLIST)
		return 0;	/* exited, not joined: as pthread_kill */
	if ((error = gpi_lwp_sigqueue(l, sig, value)) != 0)
		return error == ESRCH ? 0 : error;
	if (l == gpi_curlwp())
		gpi_sigpoint_l(l);	/* delivered before it returns */
	return 0;
}

/*
 * Does (fd) name the program's own process, for pidfd_send_signal: a
 * pidfd of its pid (its fdinfo's "Pid:" line) or a /proc/<pid>
 * directory (the same inode as /proc/self)?  Raw system calls: the
 * probe's descriptor is nobody's and lives only here.
 */
static bool
pidfd_is_self(int fd)
{
	struct stat st, self;

	if (GPI_LIBC(syscall)(SYS_fstat, fd, &st) != 0)
		return false;
	if (S_ISDIR(st.st_mode))
		return GPI_LIBC(syscall)(SYS_newfstatat, AT_FDCWD,
		    "/proc/self", &self, 0) == 0 && st.st_dev == self.st_dev &&
		    st.st_ino == self.st_ino;
	return gpi_pidfd_pid(fd) == REAL(getpid)();
}

/*
 * pidfd_send_signal(2), from glibc's wrapper or syscall() (sync.c; CPython
 * makes it so): in green-init mode, a signal the program sends its own
 * process by pidfd is kill of its own pid, posted green and delivered
 * before the call returns, as natively (the kernel would hand it to the
 * forwarder, and the handler would run later: CPython's test_signal
 * lost its KeyboardInterrupt so).  A siginfo or flags go to the kernel.
 * Returns -2 when the call is not such a one.
 */
long
gpi_pidfd_send_self(int pidfd, int sig, const siginfo_t *info,
    unsigned flags)
{
	if (!green() || info != NULL || flags != 0 ||
	    !gpi_is_hostproc(gpi_curproc()) || !pidfd_is_self(pidfd))
		return -2;
	return kill(REAL(getpid)(), sig);
}

EXPORT int
pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	long r;

	if ((r = gpi_pidfd_send_self(pidfd, sig, info, flags)) != -2)
		return (int)r;
	return (int)GPI_LIBC(syscall)(SYS_pidfd_send_signal, pidfd, sig, info,
	    flags);
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
	/*
	 * A thread that has exited, or is exiting, and is not joined yet
	 * still has a valid handle: since 2.34 glibc answers 0 and sends
	 * nothing (ESRCH was its old answer; glibc's tst-pthread_kill-exited
	 * and -exiting).  A joined or detached-and-gone handle is stale.
	 */
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (atomic_load(&l->l_jstate) & GPI_J_ZLIST)
		return 0;
	/* Directed at that thread (POSIX), not at any of its process's. */
	if (sig != 0 && gpi_lwp_signal(l, sig) != 0)
		return 0;
	/*
	 * To itself: delivered before pthread_kill returns.  A signal point,
	 * not a cancellation point; and a thread that loops here yields
	 * when the watchdog asks (gpi_sigpoint_l).
	 */
	if (l == gpi_curlwp())
		gpi_sigpoint_l(l);
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

/*
 * sigaltstack on a green thread.  A green handler runs on the thread's
 * own stack, at a cancellation point, never on an alternate one
 * (SA_ONSTACK is accepted and not followed), and the worker's kernel
 * alternate stack is the runtime's, where its stack-overflow handler
 * runs (runtime/fault.c): so the call is checked as the kernel checks
 * it, nothing is installed, and the answer is always SS_DISABLE.
 */
EXPORT int
sigaltstack(const stack_t *ss, stack_t *old)
{
	unsigned bad = ss != NULL ? (unsigned)ss->ss_flags &
	    ~(SS_DISABLE | SS_AUTODISARM) : 0;

	if (!green())
		return GPI_LIBC(sigaltstack)(ss, old);
	if (ss != NULL && (bad != 0 || (!(ss->ss_flags & SS_DISABLE) &&
	    ss->ss_size < (size_t)MINSIGSTKSZ))) {
		errno = bad != 0 ? EINVAL : ENOMEM;
		return -1;
	}
	if (old != NULL) {
		old->ss_sp = NULL;
		old->ss_size = 0;
		old->ss_flags = SS_DISABLE;
	}
	return 0;
}
