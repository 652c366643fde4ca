/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fork.c -- real (kernel) children of green processes (the host side of
 * kern_fork.c's fork1).
 *
 * A fork from green code is a clone3() with exit signal 0 and a pidfd:
 * the kernel never sends the host SIGCHLD for it, and the host's
 * waitpid(-1) (which does not pass __WALL) never takes it.  The green
 * process that forked keeps {pid, pidfd} on its h_rchildren (struct
 * gpi_phost), and its waits
 * see real and green children alike: a wait polls the pidfds of the
 * matching real children with waitid(P_PIDFD, ..., WNOHANG | __WALL),
 * for exits and, as the wait asked, stops and continues.  Tasks the
 * process ptraces are on that list too, by pid (gpi_rchild_trace):
 * the kernel reports their ptrace stops to the tracer, so a debugger or
 * strace run green waits for them as natively.  While a green process
 * has real children, its blocking waits sleep in slices of
 * RCHILD_POLL_NS so that a real exit is seen promptly; green exits, and
 * under greenrun the kernel's SIGCHLD (gpi_rchild_changed), wake them at
 * once.
 *
 * The child keeps only the calling thread, so the runtime is reset there
 * (gpi_fork_child): every interposer passes through, the runtime's locks
 * are free, and a gp_ call starts a fresh runtime.  glibc's fork is not
 * used (it cannot make a child with another exit signal), so what glibc
 * does in its child is done here: the cached thread id is fixed; atfork
 * handlers do not run, as for vfork.  Fork then exec, or fork then _exit,
 * is what this is for.  The child's thread gets the forking LWP's mask
 * and its process's dispositions (gpi_sig_fork_real), as a native
 * child gets its parent's, not the worker's kernel mask.
 */
#include <linux/sched.h>
#include <sched.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef P_PIDFD
#define P_PIDFD		3
#endif

/* A green process's real children that are gone with it: reaped later. */
static gpi_spin_t orphan_lock = GPI_SPIN_INIT(GPI_RANK_ORPHAN);
static struct gpi_rchild *orphans;	/* (orphan_lock) */

/*
 * Where glibc keeps the thread id in its thread descriptor, found by
 * looking for our own tid near pthread_self(); -1 if not found once.
 */
static long
tid_offset(void)
{
	static long off = -2;
	pid_t tid = (pid_t)GPI_LIBC(syscall)(SYS_gettid);
	const pid_t *tcb = (const pid_t *)GPI_LIBC(pthread_self)();
	long i, found = -1;

	if (off != -2)
		return off;
	for (i = 0; i < 1024 / (long)sizeof(pid_t); i++) {
		if (tcb[i] == tid) {
			if (found >= 0)
				return off = -1;	/* ambiguous */
			found = i;
		}
	}
	return off = found;
}

/*
 * In the child: the runtime's threads are gone; forget them.  Locks
 * another thread held at the clone stay held in our copy: free them.
 */
static void
fork_child_reset(long tidoff)
{
	if (tidoff >= 0)
		((pid_t *)GPI_LIBC(pthread_self)())[tidoff] =
		    (pid_t)GPI_LIBC(syscall)(SYS_gettid);
	gpi_sched_forget();
	gpi_proc_forget();
	gpi_stack_forget();
	gpi_synch_forget();
	gpi_exit_forget();
	gpi_pool_forget();
	gpi_rtfd_forget();
	orphans = NULL;
	gpi_spin_reset(&orphan_lock);
}

/*
 * fork(2) for a green process.  Returns the child's pid in the parent,
 * 0 in the child, or -1 with errno.
 */
pid_t
gpi_fork(void)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_proc *p = gpi_curproc();
	struct clone_args ca;
	struct gpi_rchild *rc;
	long tidoff = tid_offset();
	int pidfd = -1;
	pid_t pid;

	if ((rc = malloc(sizeof(*rc))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	/*
	 * Green-init mode: the host is the real parent that the program
	 * would be, and the kernel's SIGCHLD for its children is forwarded
	 * to it as a green one (preload/init.c), which make -j and shells
	 * wait for.  Nothing in that host takes children with waitpid(-1).
	 */
	ca.exit_signal = gpi_is_hostproc(p) ? SIGCHLD : 0;
	pid = (pid_t)GPI_LIBC(syscall)(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		free(rc);
		return -1;
	}
	if (pid == 0) {
		fork_child_reset(tidoff);
		/* Our copies of p and l: the green signal state, made real. */
		if (l != NULL)
			gpi_sig_fork_real(p, l, 0);
		return 0;
	}
	/* The pidfd is the runtime's (rtfd.c). */
	gpi_rchild_add(p, rc, pid, gpi_rtfd_keep(pidfd), false);
	return pid;
}

/*
 * Green-init mode's fork is glibc's (preload/spawn.c), which runs the
 * atfork handlers; this is the first child handler registered, so it
 * runs before any of the program's.  A fork made on a green thread
 * (ours, or one inside libc such as daemon's) leaves a child whose only
 * thread is the worker's copy on the LWP's stack: the runtime is reset
 * as for a clone3 child, and the thread gets the LWP's green mask and
 * its process's dispositions.  glibc has already fixed the cached tid.
 * On a host thread it does nothing.
 */
void
gpi_fork_child_glibc(void)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_proc *p;

	if (l == NULL)
		return;
	p = l->l_proc;
	fork_child_reset(-1);
	gpi_sig_fork_real(p, l, 0);
}

/*
 * In the child of a direct clone() that LWP (l) of (p) made with
 * (flags) (preload/spawn.c), before the program's function runs: what a
 * fork child gets.  Without CLONE_VM the child owns a copy of all
 * memory, reset as a fork child's.  With it, the child shares ours and
 * is meant to exec or _exit: it must not write a byte of the runtime's
 * (a worker runs on beside it), so it sets only its own kernel state,
 * the mask and (without CLONE_SIGHAND) the dispositions, which an exec
 * keeps where they ignore or block.  WARNING: such a child runs on the
 * caller's thread pointer (unless CLONE_SETTLS), so an interposer it
 * calls would take it for the caller's worker: it may make system calls
 * and exec, as natively it may call little more than that.
 */
void
gpi_clone_child(struct gp_proc *p, struct gp_lwp *l, unsigned long flags)
{
	if (!(flags & CLONE_VM))
		fork_child_reset(-1);
	gpi_sig_fork_real(p, l, flags & (CLONE_VM | CLONE_SIGHAND));
}

/*
 * The head of (p)'s real children list (struct gpi_phost), or of the
 * empty list (*nil) if it has no host struct.  p_lock held.
 */
static struct gpi_rchild **
rchildren(struct gp_proc *p, struct gpi_rchild **nil)
{
	struct gpi_phost *h = gpi_phost(p);

	*nil = NULL;
	return h != NULL ? &h->h_rchildren : nil;
}

/* Track real child (pid, pidfd) of green process (p). */
void
gpi_rchild_add(struct gp_proc *p, struct gpi_rchild *rc, pid_t pid,
    int pidfd, bool clone_child)
{
	struct gpi_phost *h = gpi_proc_host(p);

	if (h == NULL) {
		/* ENOMEM: not waitable in green form, as with no pidfd. */
		gpi_rtfd_close(pidfd);
		free(rc);
		return;
	}
	rc->rc_pid = pid;
	rc->rc_pidfd = pidfd;
	rc->rc_clone = clone_child;
	gpi_spin_lock(&p->p_lock);
	rc->rc_next = h->h_rchildren;
	__atomic_store_n(&h->h_rchildren, rc, __ATOMIC_RELAXED);
	gpi_spin_unlock(&p->p_lock);
}

/*
 * (p) now ptraces kernel task (pid), attached by PTRACE_ATTACH or
 * PTRACE_SEIZE, or automatically at a traced task's fork or clone: the
 * kernel reports its stops and its exit to the tracer, so (p)'s waits
 * must look at it as at a child.  A task that is (p)'s real child
 * already is waited for through its pidfd.  A tracee is waited for by
 * pid: the kernel keeps it, and its pid, until its tracer has waited for
 * its exit or detached it, so the pid cannot name another task first.
 * Never blocks; on ENOMEM the tracee is not seen.
 */
void
gpi_rchild_trace(struct gp_proc *p, pid_t pid)
{
	struct gpi_phost *h = gpi_proc_host(p);
	struct gpi_rchild *rc, *it;

	if (h == NULL || (rc = malloc(sizeof(*rc))) == NULL)
		return;
	rc->rc_pid = pid;
	rc->rc_pidfd = -1;
	rc->rc_clone = false;
	gpi_spin_lock(&p->p_lock);
	for (it = h->h_rchildren; it != NULL; it = it->rc_next)
		if (it->rc_pid == pid)
			break;
	if (it == NULL) {
		rc->rc_next = h->h_rchildren;
		__atomic_store_n(&h->h_rchildren, rc, __ATOMIC_RELAXED);
		rc = NULL;
	}
	gpi_spin_unlock(&p->p_lock);
	free(rc);
}

/* (p) detached tracee (pid): its reports go to its parent again. */
void
gpi_rchild_untrace(struct gp_proc *p, pid_t pid)
{
	struct gpi_rchild *rc, **rcp, *nil;

	gpi_spin_lock(&p->p_lock);
	for (rcp = rchildren(p, &nil); (rc = *rcp) != NULL;
	    rcp = &rc->rc_next) {
		if (rc->rc_pid == pid && rc->rc_pidfd < 0) {
			*rcp = rc->rc_next;
			break;
		}
	}
	gpi_spin_unlock(&p->p_lock);
	free(rc);
}

/*
 * waitid() as the system call (under the preload, the libc name is the
 * green interposer): a real child through its pidfd, a tracee by pid.
 */
static int
sys_waitid(const struct gpi_rchild *rc, siginfo_t *si, int options,
    struct rusage *ru)
{
	return (int)GPI_LIBC(syscall)(SYS_waitid, rc->rc_pidfd >= 0 ?
	    P_PIDFD : P_PID, rc->rc_pidfd >= 0 ? rc->rc_pidfd : rc->rc_pid,
	    si, options, ru);
}

/*
 * The wait status of a real child's report from its siginfo.  A ptrace
 * stop's si_status is the whole stop code, with the PTRACE_EVENT_* bits
 * above the signal, which waitpid's status carries in bits 8-23.
 */
static int
rc_status(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return W_EXITCODE(si->si_status & 0xff, 0);
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	case CLD_STOPPED:
	case CLD_TRAPPED:
		return (si->si_status << 8) | 0x7f;
	case CLD_CONTINUED:
		return 0xffff;
	default:
		return si->si_status & 0x7f;
	}
}

static bool
rc_gone(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED || si->si_code == CLD_KILLED ||
	    si->si_code == CLD_DUMPED;
}

/* Detach tracee (pid) if it is in a ptrace stop; no signal. */
static void
untrace(pid_t pid)
{
	(void)GPI_LIBC(syscall)(SYS_ptrace, PTRACE_DETACH, pid, NULL, NULL);
}

/*
 * A tracee stopped at a fork, vfork or clone event: the new task is
 * traced too (PTRACE_O_TRACEFORK...), and its stops go to the tracer,
 * which need not name it before it waits for them.  The caller is the
 * LWP that waits, on the kernel thread that ptraces (ptrace(2) answers
 * only the thread that attached, and an LWP never leaves its worker), so
 * it can ask the kernel for the new task's pid.  Where it cannot, the
 * new task is not seen.
 */
static pid_t
rc_newtracee(const siginfo_t *si)
{
	unsigned long msg = 0;
	int event = si->si_status >> 8;

	if (si->si_code != CLD_TRAPPED || (event != PTRACE_EVENT_FORK &&
	    event != PTRACE_EVENT_VFORK && event != PTRACE_EVENT_CLONE))
		return 0;
	if (GPI_LIBC(syscall)(SYS_ptrace, PTRACE_GETEVENTMSG, si->si_pid,
	    NULL, &msg) != 0)
		return 0;
	return (pid_t)msg;
}

/*
 * Whether a wait with (options) considers real child (rc), as Linux's
 * eligible_child: a clone child only with __WCLONE, any other only
 * without it, every one with __WALL; a tracee always.
 */
static bool
rc_eligible(const struct gpi_rchild *rc, int options)
{
	return (options & __WALL) || rc->rc_pidfd < 0 ||
	    rc->rc_clone == ((options & __WCLONE) != 0);
}

/*
 * Report on a real child or tracee of (p) selected by (pid) (-1: any,
 * < -1: those in kernel process group -pid), as waitid() with (options)
 * (WEXITED, WSTOPPED, WCONTINUED, WNOWAIT, and Linux's __WALL and
 * __WCLONE) would.  Returns its pid with *statusp, *ru and *info set
 * (each may be NULL), 0 if none has anything to report, -ECHILD if (p)
 * has no such real child.  An exit reported without WNOWAIT forgets the
 * child.
 * Caller holds no lock.  Never blocks.
 */
pid_t
gpi_rchild_reap(struct gp_proc *p, pid_t pid, int options, int *statusp,
    struct rusage *ru, siginfo_t *info)
{
	struct gpi_rchild *rc, **rcp, *done = NULL, *nil;
	siginfo_t si;
	bool any = false;
	pid_t newpid;
	int select = options;

	GPI_LOCK_ASSERT_NONE();
	options &= WEXITED | WSTOPPED | WCONTINUED | WNOWAIT;
	gpi_spin_lock(&p->p_lock);
	for (rcp = rchildren(p, &nil); (rc = *rcp) != NULL;) {
		if ((pid > 0 && rc->rc_pid != pid) || (pid < -1 &&
		    GPI_LIBC(syscall)(SYS_getpgid, rc->rc_pid) != -pid) ||
		    !rc_eligible(rc, select)) {
			rcp = &rc->rc_next;
			continue;
		}
		memset(&si, 0, sizeof(si));
		if (sys_waitid(rc, &si, options | WNOHANG | __WALL, ru) != 0 &&
		    rc->rc_pidfd < 0 && errno == ECHILD) {
			/* Not ours any more: detached, or a thread's tid
			 * gone at its thread group's exec. */
			*rcp = rc->rc_next;
			rc->rc_next = done;
			done = rc;
			continue;
		}
		any = true;
		if (si.si_pid == 0) {
			rcp = &rc->rc_next;
			continue;
		}
		if (rc_gone(&si) && !(options & WNOWAIT)) {
			*rcp = rc->rc_next;
			rc->rc_next = done;
			done = rc;
		}
		gpi_spin_unlock(&p->p_lock);
		if (statusp != NULL)
			*statusp = rc_status(&si);
		if (info != NULL)
			*info = si;
		if (!(options & WNOWAIT) && (newpid = rc_newtracee(&si)) > 0)
			gpi_rchild_trace(p, newpid);
		pid = si.si_pid;
		goto out;
	}
	gpi_spin_unlock(&p->p_lock);
	pid = any ? 0 : -ECHILD;
out:
	for (; done != NULL; done = rc) {
		rc = done->rc_next;
		if (done->rc_pidfd >= 0)
			gpi_rtfd_close(done->rc_pidfd);
		free(done);
	}
	return pid;
}

/* Try to reap the real orphans of dead green processes.  Never blocks. */
bool
gpi_rchild_no_orphans(void)
{
	return __atomic_load_n(&orphans, __ATOMIC_RELAXED) == NULL;
}

void
gpi_rchild_reap_orphans(void)
{
	struct gpi_rchild *rc, **rcp, *done = NULL;
	siginfo_t si;

	if (__atomic_load_n(&orphans, __ATOMIC_RELAXED) == NULL)
		return;
	gpi_spin_lock(&orphan_lock);
	for (rcp = &orphans; (rc = *rcp) != NULL;) {
		memset(&si, 0, sizeof(si));
		if (sys_waitid(rc, &si, WEXITED | WNOHANG | __WALL, NULL) == 0 &&
		    rc_gone(&si)) {
			*rcp = rc->rc_next;
			rc->rc_next = done;
			done = rc;
			continue;
		}
		/* A ptrace stop of a child that traced itself to its
		 * dead parent: let it go on, untraced. */
		if (si.si_pid != 0 && si.si_code == CLD_TRAPPED)
			untrace(rc->rc_pid);
		rcp = &rc->rc_next;
	}
	gpi_spin_unlock(&orphan_lock);
	for (; done != NULL; done = rc) {
		rc = done->rc_next;
		gpi_rtfd_close(done->rc_pidfd);
		free(done);
	}
}

/*
 * exit1: the real children of (p) have no green parent any more; the
 * runtime reaps them as init would.  Its tracees are let go, as the
 * kernel detaches a dead tracer's: here only those in a ptrace stop can
 * be (the tracer is a worker thread, which lives on), and one that runs
 * stays traced until the host exits (ARCHITECTURE 21).  Caller holds no
 * lock.
 */
void
gpi_rchild_orphan(struct gp_proc *p)
{
	struct gpi_rchild *rc, *next, **head, *nil;

	GPI_LOCK_ASSERT_NONE();
	gpi_spin_lock(&p->p_lock);
	head = rchildren(p, &nil);
	rc = *head;
	__atomic_store_n(head, NULL, __ATOMIC_RELAXED);
	gpi_spin_unlock(&p->p_lock);
	for (; rc != NULL; rc = next) {
		next = rc->rc_next;
		if (rc->rc_pidfd < 0) {
			untrace(rc->rc_pid);
			free(rc);
			continue;
		}
		gpi_spin_lock(&orphan_lock);
		rc->rc_next = orphans;
		__atomic_store_n(&orphans, rc, __ATOMIC_RELAXED);
		gpi_spin_unlock(&orphan_lock);
	}
	gpi_rchild_reap_orphans();
}

/*
 * The kernel sent the host SIGCHLD: a real child or tracee of green
 * process (pid) may have changed state (exit, stop, continue, ptrace
 * stop).  Wake its waits to look again now rather than at the end of
 * their polling slice: a tracer such as strace waits for every system
 * call of its tracee twice.  Any thread; takes p_lock.
 */
void
gpi_rchild_changed(pid_t pid)
{
	struct gp_proc *p;

	/* RCU keeps p's memory while we lock it (it never switches). */
	gpi_rcu_read_lock();
	if ((p = gpi_pfind(pid)) != NULL && gpi_has_rchildren(p)) {
		gpi_spin_lock(&p->p_lock);
		gpi_waitgen_bump(p);
		gpi_waitgen_unlock_wakeup(p);
	}
	gpi_rcu_read_unlock();
}
