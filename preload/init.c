/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * init.c -- green-init mode (greenrun, GREENPROC_INIT=1): the program's
 * main() runs as the first green process, so that every thread it makes
 * is a green LWP of it.  docs/ARCHITECTURE.md, "Green-init mode".
 *
 * The host main thread, after the constructors (which ran on it, as
 * natively), starts the signal forwarder, spawns that process, and waits.
 * The process ends the host in one of three ways:
 *
 *   exit(3), a return from main, the last pthread_exit: gp_exit runs
 *	glibc's exit on the exiting LWP (runtime/exit.c), which ends the
 *	host with the status: the host never sees the zombie;
 *   _exit(2): exit1 and a zombie; the host's wait returns, and the
 *	host _exits with the same status;
 *   a signal's default action (a green kill): the host resets that
 *	signal to SIG_DFL, unblocks it and raises it, so its own parent
 *	sees the death it would see natively.
 *
 * Signals sent to the host from outside (kill, the terminal, alarm) are
 * blocked on every host thread and taken by the forwarder thread with
 * sigwaitinfo, which posts each to the first green process as a green
 * signal: its handlers run on its LWPs, with their masks.
 *
 * The mode is not inherited: the constructor removes GREENPROC_INIT from
 * the environment, so what the program execs runs with the preload
 * (still in LD_PRELOAD) in passthrough.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

/* Set by the constructor, before any thread: read-only afterwards. */
bool gpi_greenrun GPI_PASSDATA;

/* (c): set by the host main thread before the first process exists. */
static int (*g_main)(int, char **, char **);	/* (c) */
static int g_argc;				/* (c) */
static char **g_argv, **g_envp;			/* (c) */
static uint64_t g_ignored;	/* (c) signals the host inherited ignored */
static sigset_t g_mask;		/* (c) the mask it inherited */
static sigset_t g_forward;	/* (c) what the forwarder takes */
static pid_t g_pid;		/* (c) the first green process */
/* (a) 0 until g_pid is set: then 1, or -1 if main runs natively. */
static atomic_int g_go;
static struct gp_proc *g_proc;	/* (a) it, once its first LWP runs */
static uint64_t g_sfd;		/* (a, relaxed) signals a signalfd reads */
/*
 * Held from a forwarded signal's take off the kernel's queue to its post
 * as a green one, by the forwarder, gpi_greenrun_drain and
 * gpi_greenrun_drain_pending (around its rt_sigpending too): a signal
 * is then either still the kernel's or already the green process's,
 * never in a hand between the two.  Outermost (GPI_RANK_TAKE).
 */
static gpi_spin_t take_lock = GPI_SPIN_INIT(GPI_RANK_TAKE);
#define KILL_GRACE_MS	500	/* a killed process's LWPs have to die */

/*
 * Unblock (sig) on this host thread for a moment: one pending for it or
 * for the host is delivered here, and a stop by default stops the host
 * before this returns (the kernel continues it on SIGCONT).
 */
static void
let_in(int sig)
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, sig);
	(void)REAL(pthread_sigmask)(SIG_UNBLOCK, &one, NULL);
	(void)REAL(pthread_sigmask)(SIG_BLOCK, &one, NULL);
}

/*
 * Does the parent (pp) of a member of group (pgrp) of session (sid) keep
 * the group from being orphaned: is it in another group of the session?
 * init never does (the kernel skips a member whose parent it is).
 */
static bool
holds_group(pid_t pp, pid_t pgrp, pid_t sid)
{
	return pp > 1 && (pid_t)GPI_LIBC(syscall)(SYS_getpgid, pp) != pgrp &&
	    (pid_t)GPI_LIBC(syscall)(SYS_getsid, pp) == sid;
}

/*
 * Is the program's kernel process group orphaned?  As the kernel (its
 * will_become_orphaned_pgrp): not if some live member has its parent in
 * another group of the same session.  The host's own parent first: the
 * shell, in the common case.  Else every other member, found in /proc:
 * `sh -c 'greenrun cat' &` has the host's parent, sh, in its own group,
 * and the interactive shell that holds the group is sh's parent; a read
 * there failed with EIO where natively the job stops.  Raw system calls:
 * the preload replaces open and read.  A /proc that cannot be read
 * leaves the host's parent's answer.
 */
static bool
orphaned(pid_t pgrp)
{
	pid_t sid = (pid_t)GPI_LIBC(syscall)(SYS_getsid, 0), pid, pp, g, s;
	char dents[4096] __attribute__((aligned(8)));
	char path[64], line[512], *p, state;
	long n, off;
	int dir;
	bool held = false;

	if (holds_group((pid_t)GPI_LIBC(syscall)(SYS_getppid), pgrp, sid))
		return false;
	dir = (int)GPI_LIBC(syscall)(SYS_openat, AT_FDCWD, "/proc",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return true;
	while (!held && (n = GPI_LIBC(syscall)(SYS_getdents64, dir, dents,
	    sizeof(dents))) > 0) {
		for (off = 0; !held && off < n;
		    off += ((struct dirent64 *)(dents + off))->d_reclen) {
			pid = (pid_t)strtol(((struct dirent64 *)(dents +
			    off))->d_name, &p, 10);
			if (pid <= 0 || *p != '\0')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
			/* "pid (comm) state ppid pgrp session": comm may hold ')'. */
			if (gpi_read_text(path, line, sizeof(line)) <= 0 ||
			    (p = strrchr(line, ')')) == NULL ||
			    sscanf(p + 1, " %c %d %d %d", &state, &pp, &g,
			    &s) != 4)
				continue;
			held = g == pgrp && s == sid && state != 'Z' &&
			    holds_group(pp, pgrp, sid);
		}
	}
	(void)GPI_LIBC(syscall)(SYS_close, dir);
	return !held;
}

/*
 * gpi_tty_access_hook: the kernel's job control of a terminal access
 * (its tty_check_change), for the calling LWP.  A worker blocks SIGTTIN
 * and SIGTTOU, so the kernel lets its access through or, for a read,
 * says EIO, where a background program would stop: `greenrun cat &` in
 * an interactive shell read EIO and ended instead of "Stopped (tty
 * input)".  As the kernel: nothing unless (fd) is the controlling
 * terminal and the host's group is not its foreground one (a write only
 * with TOSTOP set); an ignored or blocked signal lets a write or change
 * through and makes a read EIO, as an orphaned group does; else the group is
 * sent the signal.  Its default action stops the host, the shell's job
 * (the kernel continues it, and the caller looks again); a handler of
 * the program's own is posted to the program, the rest of the group
 * sent nothing.  Returns 0, EIO, or -1 (sent: wait, then look again).
 */
static int
tty_access(int fd, int how)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_proc *p = gpi_curproc();
	int sig = how == GPI_TTY_READ ? SIGTTIN : SIGTTOU;
	uint64_t bit = 1ULL << (sig - 1);
	struct sigaction dfl;
	struct termios t;
	pid_t fg, me;
	unsigned ptn;

	/*
	 * TIOCGPGRP fails but on the controlling terminal, or on a pty
	 * master, which gives its slave's group and which no job control
	 * concerns (TIOCGPTN answers only there).  No group: no check.
	 */
	if (l == NULL || GPI_LIBC(ioctl)(fd, TIOCGPGRP, &fg) != 0 ||
	    fg <= 0 || (me = (pid_t)GPI_LIBC(syscall)(SYS_getpgid, 0)) == fg ||
	    GPI_LIBC(ioctl)(fd, TIOCGPTN, &ptn) == 0)
		return 0;
	if (how == GPI_TTY_WRITE && (GPI_LIBC(ioctl)(fd, TCGETS, &t) != 0 ||
	    !(t.c_lflag & TOSTOP)))
		return 0;
	if ((__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) & bit) ||
	    (__atomic_load_n(&p->p_sigignore, __ATOMIC_RELAXED) & bit))
		return how == GPI_TTY_READ ? EIO : 0;
	if (orphaned(me))
		return EIO;
	if (__atomic_load_n(&p->p_sigcatch, __ATOMIC_RELAXED) & bit) {
		(void)gp_kill(__atomic_load_n(&p->p_pid, __ATOMIC_RELAXED),
		    sig);
		return -1;
	}
	/*
	 * The program's disposition is the default: the host's must be too
	 * (one ignored before exec stays ignored in the kernel, whatever the
	 * program set since, and the stop was discarded); then, as
	 * host_stop, unblocked here the signal stops the host at once.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)GPI_LIBC(sigaction)(sig, &dfl, NULL);
	(void)GPI_LIBC(syscall)(SYS_kill, -me, sig);
	let_in(sig);
	return -1;
}

/*
 * Take (name) out of the environment: its last value, or NULL.  Not
 * getenv and unsetenv: a program may define its own, which the
 * preload's calls then bind to.  bash does, and its unsetenv does
 * nothing before the shell has read the environment: GREENPROC_INIT
 * stayed, bash took it in, and every program it ran was green-init
 * too.  The entries are shifted down in place, as glibc's unsetenv
 * does (main's envp is the same array); the strings stay where they are.
 */
static GPI_PASSTEXT const char *
take_env(const char *name)
{
	size_t len = strlen(name);
	const char *v = NULL;
	char **ep, **dp;

	for (ep = environ; ep != NULL && *ep != NULL;) {
		if (strncmp(*ep, name, len) != 0 || (*ep)[len] != '=') {
			ep++;
			continue;
		}
		v = *ep + len + 1;
		for (dp = ep; (dp[0] = dp[1]) != NULL; dp++)
			;
	}
	return v;
}

/* The preload's constructor: the mode is on for this program only. */
GPI_PASSTEXT void
gpi_greenrun_check(void)
{
	const char *v = take_env("GREENPROC_INIT");

	if (v == NULL)
		return;
	gpi_greenrun = strcmp(v, "1") == 0;
	/* Its threads were written for a preemptive kernel (preempt.c). */
	if (gpi_greenrun) {
		gpi_preempt_want();
		gpi_tty_access_hook = tty_access;
	}
}

/*
 * The signals forwarded: every one whose default action ends the process
 * or is ignored and that comes from outside, and the real-time ones.
 * SIGCHLD too: the kernel sends it for the program's real children
 * (posix_spawn's, and gpi_fork's from this process), whose exits the
 * green process is told of as natively (make -j waits for it); their
 * waits still go through pidfds.
 * SIGTSTP and SIGCONT too: a program's handler for them runs green, and
 * a SIGTSTP with the default action stops the host (host_stop); the
 * kernel continues a stopped host on SIGCONT whether it is blocked or not.
 * SIGABRT too: one sent from outside runs the program's green handler
 * or kills it; an abort() on a green thread is green (signals.c), and
 * glibc's internal one (a failed assert) unblocks SIGABRT on its thread
 * before it raises it, so fault.c still contains it.
 * Not: the synchronous faults (the kernel's, on the faulting thread),
 * SIGPIPE (raised on the writer, made green by the I/O engine), SIGSTOP
 * (it cannot be blocked), SIGTTIN and SIGTTOU (the kernel's, sent for a
 * background terminal access; but the workers block them, so a read or
 * a TOSTOP write is checked here instead, tty_access), glibc's
 * two internal ones below SIGRTMIN, and the runtime's dump signal.
 */
static void
forward_set(sigset_t *set)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
	    SIGALRM, SIGTERM, SIGWINCH, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
	    SIGURG, SIGXCPU, SIGSTKFLT, SIGCHLD, SIGTSTP, SIGCONT, SIGABRT };
	int dump = (int)gpi_env(GPI_ENV_DUMP_SIGNAL);
	size_t i;
	int sig;

	sigemptyset(set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(set, sig);
	if (dump > 0)
		sigdelset(set, dump);
}

/*
 * Would (sig) stop the green-init process with its default action?  Its
 * disposition is read without its lock: a sigaction racing with the
 * signal may go either way, as natively.
 */
static bool
stops_by_default(struct gp_proc *p, int sig)
{
	uint64_t bit = 1ULL << (sig - 1);

	if (sig == SIGSTOP)
		return true;
	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return false;
	return p == NULL || !((__atomic_load_n(&p->p_sigcatch,
	    __ATOMIC_RELAXED) | __atomic_load_n(&p->p_sigignore,
	    __ATOMIC_RELAXED)) & bit);
}

bool
gpi_greenrun_stops(int sig)
{
	return gpi_greenrun && stops_by_default(__atomic_load_n(&g_proc,
	    __ATOMIC_ACQUIRE), sig);
}

/*
 * Stop the whole host with (sig), as the kernel stops a native program:
 * it is blocked on every host thread, so the forwarder sends it to
 * itself and unblocks it; the default action stops the process (its
 * parent sees WSTOPSIG (sig)) until a SIGCONT, then it is blocked again.
 */
static void
host_stop(int sig)
{
	(void)REAL(pthread_kill)(REAL(pthread_self)(), sig);
	let_in(sig);
}

/* kill or raise of the program's own pid with a stop by default. */
int
gpi_greenrun_stop(int sig)
{
	if (sig != SIGTSTP)
		return REAL(kill)(REAL(getpid)(), sig);
	host_stop(sig);		/* blocked here too: stop before returning */
	return 0;
}

/*
 * signalfd: a signal a signalfd of the program reads is left pending in
 * the kernel (blocked on every host thread, as it was), where reading
 * the descriptor takes it, instead of being made green.  The forwarder
 * learns of a new one when it next wakes: that first signal it took
 * itself goes back with its siginfo (rt_sigqueueinfo to our own pid:
 * the sender's pid and uid are kept, its si_code becomes SI_QUEUE).
 */
void
gpi_greenrun_signalfd(const sigset_t *mask)
{
	uint64_t m = 0;
	int sig;

	if (!gpi_greenrun)
		return;
	for (sig = 1; sig <= 64; sig++)
		if (sigismember(mask, sig) == 1 && sigismember(&g_forward,
		    sig) == 1)
			m |= 1ULL << (sig - 1);
	__atomic_fetch_or(&g_sfd, m, __ATOMIC_RELAXED);
}

bool
gpi_greenrun_sfd(int sig)
{
	return sig >= 1 && sig <= 64 && (__atomic_load_n(&g_sfd,
	    __ATOMIC_RELAXED) & (1ULL << (sig - 1)));
}
/*
 * Post (si), taken from the kernel, to the first green process, (pid).
 * g_pid is for the forwarder only, which waits for g_go: the program's
 * own threads may run before the host main thread has stored it, so
 * gpi_greenrun_drain names the process by gpi_hostproc_pid, which its
 * main stored before the program began.  The drain posted to pid 0, and
 * the signal was lost, until the host main got that far (gr_mqnotify).
 */
static void
post(pid_t pid, const siginfo_t *si)
{
	(void)gpi_kill_info(pid, si);		/* its siginfo kept */
	if (si->si_signo == SIGCHLD)
		gpi_rchild_changed(pid);	/* its waits look now */
}

/*
 * The program is about to change the disposition of (sig): a forwarded
 * signal the kernel already holds for it was sent under the old one.
 * Natively it would have been delivered when it came, before the call;
 * here the forwarder may not have run yet (a loaded machine), and then
 * the new handler took it.  CPython's test_signal measures the timer's
 * resolution with a handler that arms a 1 us timer once more than it
 * counts; the last signal came after the test's next handler was set and
 * threw its count off by one, and a timer still armed at the end killed
 * the run.  So the caller takes it here (one sigtimedwait that does not
 * wait) and posts it, and sigaction delivers it before the change.  One
 * the forwarder has already taken is posted by then too: both take under
 * take_lock, and the forwarder learns that one is pending from its
 * signalfd, which takes nothing, so it never holds one unlocked.  Only
 * while it is caught or ignored: one that kills is the forwarder's, which
 * sees the program die (KILL_GRACE_MS).  Not SIGURG, whose copies pending
 * on a worker are the runtime's preemption (section 24), nor a signal a
 * signalfd reads.
 */
static void	drain_locked(int sig, struct gp_lwp *to);

void
gpi_greenrun_drain(int sig)
{
	gpi_spin_lock(&take_lock);
	drain_locked(sig, NULL);
	gpi_spin_unlock(&take_lock);
}

/*
 * gpi_greenrun_drain's work, under take_lock.  With (to), the calling
 * LWP, a caught signal that it does not block is given to it
 * (gpi_kill_info_to), as the kernel gives a signal to the thread that
 * sleeps in the wait it ends.
 */
static void
drain_locked(int sig, struct gp_lwp *to)
{
	const struct timespec zero = { 0, 0 };
	struct gp_proc *p = __atomic_load_n(&g_proc, __ATOMIC_ACQUIRE);
	pid_t pid = __atomic_load_n(&gpi_hostproc_pid, __ATOMIC_RELAXED);
	uint64_t bit;
	siginfo_t si;
	sigset_t one;

	if (!gpi_greenrun || p == NULL || p != gpi_curproc() || sig < 1 ||
	    sig > 64 || sig == SIGURG || sigismember(&g_forward, sig) != 1 ||
	    gpi_greenrun_sfd(sig))
		return;
	bit = 1ULL << (sig - 1);
	if (!((__atomic_load_n(&p->p_sigcatch, __ATOMIC_RELAXED) |
	    __atomic_load_n(&p->p_sigignore, __ATOMIC_RELAXED)) & bit))
		return;
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (sigtimedwait(&one, &si, &zero) != sig)
		return;
	if (to != NULL && sig != SIGCHLD)
		(void)gpi_kill_info_to(to, pid, &si);
	else
		post(pid, &si);
}

/*
 * A wait of the calling green thread that another process can end (a
 * process-shared barrier) has ended.  Natively a signal that process
 * sent us first is delivered by then: the kernel runs the handler on
 * the thread's way back from its futex wait, before the wait returns
 * (glibc's tst-mqueue5: the other process's mq_send notifies us, then
 * it passes the barrier we wait at).  Here the forwarder may not have
 * taken it yet: take every such signal the kernel holds and post it
 * now, as gpi_greenrun_drain does for one, to the calling thread if it
 * may take it (the kernel's choice: the thread asleep in the wait).
 * Under take_lock throughout: one the forwarder has taken already is
 * posted by the time we have the lock (it posts under it).  One system
 * call per such wait.
 */
void
gpi_greenrun_drain_pending(void)
{
	sigset_t pend;
	int sig;

	if (!gpi_greenrun)
		return;
	gpi_spin_lock(&take_lock);
	if (GPI_LIBC(syscall)(SYS_rt_sigpending, &pend, (size_t)_NSIG / 8) ==
	    0) {
		for (sig = 1; sig <= 64; sig++)
			if (sigismember(&pend, sig) == 1)
				drain_locked(sig, gpi_curlwp());
	}
	gpi_spin_unlock(&take_lock);
}

/* The signal the first green process is being killed with, or 0. */
static int
killsig(void)
{
	struct gp_proc *p;
	int sig = 0;

	gpi_rcu_read_lock();
	if ((p = gpi_pfind(g_pid)) != NULL)
		sig = __atomic_load_n(&p->p_killsig, __ATOMIC_RELAXED);
	gpi_rcu_read_unlock();
	return sig;
}

_Noreturn static void	die_of(int sig);

/*
 * The forwarder's signalfd, made by the host main thread before the
 * program starts, and -1 if it could not be.  Made here it would take
 * the lowest free number for a moment while main already ran (rtfd.c's
 * NOTE): a loaded machine started the forwarder late, and the program's
 * first open(2) was given 5 instead of 3 (gr_fds, in CI).
 */
static int
make_sigfd(void)
{
	return gpi_rtfd_keep((int)GPI_LIBC(syscall)(SYS_signalfd4, -1,
	    &g_forward, (size_t)_NSIG / 8, SFD_NONBLOCK | SFD_CLOEXEC));
}

/*
 * The forwarder's wait: until one of (set) is pending, without taking it
 * (sigfd polled, not read), then one taken and posted under take_lock.
 * False if none was left (the drain took it) or on error.  sigfd's mask
 * follows (set); without one, sigwaitinfo.
 */
static bool
take_one(const sigset_t *set, siginfo_t *si, int sigfd)
{
	const struct timespec zero = { 0, 0 };
	struct pollfd pfd;
	int fd = -1, sig;

	if (sigfd >= 0)
		fd = (int)GPI_LIBC(syscall)(SYS_signalfd4, sigfd, set,
		    (size_t)_NSIG / 8, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd >= 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (GPI_LIBC(syscall)(SYS_ppoll, &pfd, 1, NULL, NULL, 0) <= 0)
			return false;
		gpi_spin_lock(&take_lock);
		sig = sigtimedwait(set, si, &zero);
	} else {
		/* No signalfd: take as it comes, the window left open. */
		sig = sigwaitinfo(set, si);
	}
	/* The forwarder does the other two itself, unlocked. */
	if (sig > 0 && !gpi_greenrun_sfd(sig) && !(sig == SIGTSTP &&
	    stops_by_default(__atomic_load_n(&g_proc, __ATOMIC_ACQUIRE),
	    SIGTSTP)))
		post(g_pid, si);
	if (fd >= 0)
		gpi_spin_unlock(&take_lock);
	return sig > 0;
}

static void *
forwarder(void *arg)
{
	const struct timespec step = { 0, 10 * 1000000L };
	siginfo_t si;
	sigset_t set;
	uint64_t sfd;
	int sig, i, sigfd = (int)(intptr_t)arg;

	/* Made before the process, so that a failure can still go native. */
	while ((i = atomic_load(&g_go)) == 0)
		gpi_futex_wait(&g_go, 0, 0);
	if (i < 0)
		return NULL;
	/* The SIGURG a worker takes and that is not the runtime's. */
	gpi_preempt_forward_to((pid_t)GPI_LIBC(syscall)(SYS_gettid));
	for (;;) {
		set = g_forward;
		sfd = __atomic_load_n(&g_sfd, __ATOMIC_RELAXED);
		for (sig = 1; sfd != 0 && sig <= 64; sig++)
			if (sfd & (1ULL << (sig - 1)))
				sigdelset(&set, sig);
		/* Posted there, but for these two (ESRCH once the process
		 * is gone: the host is ending). */
		if (!take_one(&set, &si, sigfd))
			continue;
		if (gpi_greenrun_sfd(si.si_signo)) {
			/* Back to the process, pending for the signalfd. */
			gpi_sig_requeue(0, &si);
			continue;
		}
		if (si.si_signo == SIGTSTP && stops_by_default(
		    __atomic_load_n(&g_proc, __ATOMIC_ACQUIRE), SIGTSTP)) {
			host_stop(SIGTSTP);
			continue;
		}
		/*
		 * A signal that kills it (its default action): each LWP dies
		 * at its next cancellation point, and one that computes
		 * without calling anything never gets there, so SIGTERM from
		 * `timeout` would never end the program.  Natively the kernel
		 * ends every thread at once: after KILL_GRACE_MS for the green
		 * exit (gpi_greenrun_main then dies of the signal itself), the
		 * host dies of it here.
		 */
		for (i = 0; i < KILL_GRACE_MS / 10 && (sig = killsig()) != 0;
		    i++)
			(void)REAL(nanosleep)(&step, NULL);
		if (sig != 0 && (sig = killsig()) != 0)
			die_of(sig);
	}
	return NULL;
}

/* The first LWP of the first green process: main(), as the kernel starts it. */
static int
first_main(void *arg)
{
	struct sigaction sa;
	int sig;

	(void)arg;
	__atomic_store_n(&gpi_hostproc_ltid, gpi_curlwp()->l_tid,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&gpi_hostproc_pid, gp_getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&g_proc, gpi_curproc(), __ATOMIC_RELEASE);
	/* What exec passed on: ignored signals stay ignored, and the mask. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	for (sig = 1; sig <= 64; sig++)
		if (g_ignored & (1ULL << (sig - 1)))
			(void)gp_sigaction(sig, &sa, NULL);
	(void)gp_sigprocmask(SIG_SETMASK, &g_mask, NULL);
	return g_main(g_argc, g_argv, g_envp);
}

struct gp_proc *
gpi_greenrun_proc(void)
{
	return __atomic_load_n(&g_proc, __ATOMIC_ACQUIRE);
}

/* Stack sizes as natively: main's from RLIMIT_STACK, threads' glibc's. */
static size_t
main_stack(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > GPI_STACK_MAX)
		return GPI_STACK_MAX;
	return rl.rlim_cur < GPI_STACK_MIN ? GPI_STACK_MIN : rl.rlim_cur;
}

static size_t
thread_stack(void)
{
	pthread_attr_t a;
	size_t sz = 0;

	if (pthread_getattr_default_np(&a) == 0) {
		(void)pthread_attr_getstacksize(&a, &sz);
		pthread_attr_destroy(&a);
	}
	return sz < GPI_STACK_MIN ? 8u << 20 : sz > GPI_STACK_MAX ?
	    GPI_STACK_MAX : sz;
}

/* The host dies of (sig) with its default action, as the program did. */
_Noreturn static void
die_of(int sig)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)REAL(sigaction)(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)REAL(pthread_sigmask)(SIG_UNBLOCK, &set, NULL);
	(void)REAL(raise)(sig);
	REAL(_exit)(128 + sig);		/* not a deadly one after all */
	__builtin_unreachable();
}

/*
 * Run main as the first green process and end the host as it ends.  On
 * the host main thread, after the constructors; never returns.  If the
 * runtime cannot start, main runs natively (said on stderr).
 */
_Noreturn void
gpi_greenrun_main(int (*main_fn)(int, char **, char **), int argc,
    char **argv, char **envp)
{
	struct sigaction sa, dfl;	/* sa: a scratch copy */
	gp_attr_t *attr = NULL;
	pthread_t t;
	sigset_t old;
	int sig, st, error, sigfd;

	g_main = main_fn;
	g_argc = argc;
	g_argv = argv;
	g_envp = envp;

	/*
	 * Block the forwarded signals here, before the workers and the
	 * forwarder exist (they inherit it): from now on only sigwaitinfo
	 * takes them.  One the program inherited ignored would be dropped
	 * by the kernel even while blocked, so the host takes the default
	 * (harmless while blocked) and the green process gets the SIG_IGN.
	 */
	forward_set(&g_forward);
	(void)REAL(pthread_sigmask)(SIG_BLOCK, &g_forward, &old);
	g_mask = old;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    REAL(sigaction)(sig, NULL, &sa) != 0 ||
		    sa.sa_handler != SIG_IGN)
			continue;
		g_ignored |= 1ULL << (sig - 1);
		if (sigismember(&g_forward, sig) == 1)
			(void)REAL(sigaction)(sig, &dfl, NULL);
	}

	/* EBUSY: a constructor already made green stacks; keep their size. */
	(void)gpi_stack_set_default(thread_stack());
	if ((error = gp_attr_init(&attr)) != 0 ||
	    (error = gp_attr_setstacksize(attr, main_stack())) != 0)
		goto native;
	(void)gp_attr_setname(attr, "main");
	/*
	 * main's TLS takes part in the switch, starting from this thread's
	 * values (constructors may have set them, as natively); its
	 * threads get their own from the initial images (tls.c).
	 */
	attr->a_tls = GPI_TLS_CALLER;
	/*
	 * The forwarder first: once main is a green process there is no
	 * way back, and a host without its forwarder would never pass the
	 * program a signal (pthread_create can fail: EAGAIN, no memory).
	 */
	sigfd = make_sigfd();
	if ((error = REAL(pthread_create)(&t, NULL, forwarder,
	    (void *)(intptr_t)sigfd)) != 0) {
		(void)gpi_rtfd_close(sigfd);
		goto native;
	}
	if ((g_pid = gp_spawn(first_main, NULL, attr)) < 0) {
		error = errno;
		atomic_store(&g_go, -1);
		gpi_futex_wake(&g_go, 1);
		(void)REAL(pthread_join)(t, NULL);
		(void)gpi_rtfd_close(sigfd);
		goto native;
	}
	atomic_store(&g_go, 1);
	gpi_futex_wake(&g_go, 1);
	gp_attr_destroy(attr);

	while (gp_waitpid(g_pid, &st, 0) < 0)
		if (errno != EINTR)
			GPI_PANIC("greenrun: lost the first green process");
	if (WIFSIGNALED(st))
		die_of(WTERMSIG(st));
	REAL(_exit)(WEXITSTATUS(st));	/* _exit(2): nothing to run or flush */
	__builtin_unreachable();

native:
	if (attr != NULL)
		gp_attr_destroy(attr);
	fprintf(stderr, "greenproc: cannot run main as a green process (%s); "
	    "it runs natively\n", strerror(error));
	sa.sa_handler = SIG_IGN;
	for (sig = 1; sig <= 64; sig++)
		if (g_ignored & (1ULL << (sig - 1)))
			(void)REAL(sigaction)(sig, &sa, NULL);
	(void)REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	exit(main_fn(argc, argv, envp));
}
