/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wait.c -- waiting for children (DragonFly kern_exit.c's kern_wait and
 * its sys_wait4/waitid front ends).
 *
 * The seed scans p_children for a zombie on every wait, which makes
 * reaping N children O(N^2).  Here a parent keeps a FIFO of the children
 * that have something to report (p_rq_tail, see gpi_report): wait(-1)
 * takes the head in O(1); wait(pid) finds the child by pid in O(1); a
 * group wait scans the (usually short) report queue.  The same queue
 * carries the reports a child can make -- exit now; stop and continue
 * with green signals -- and moves with the child when it is reparented.
 *
 * Each report is consumed under the parent's p_lock, so a child is
 * reported exactly once however many LWPs and host threads wait at
 * once.  A waiter that finds nothing sleeps against p_waitgen, which
 * every report bumps under the same lock (the seed's tsleep_interlock on
 * p_waitgen): no report can slip between the look and the sleep.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define RCHILD_POLL_NS	1000000	/* see fork.c */

/* Which children a wait is about: the seed's pid argument, decoded. */
struct waitsel {
	pid_t		 ws_pid;	/* > 0: that child */
	pid_t		 ws_pgid;	/* > 0: green children in that group;
					   -1: no green child */
	pid_t		 ws_rpgid;	/* with a ws_pgid: > 0 real children
					   in that kernel group, 0 none */
};				/* all 0: any child */

static bool
selected(const struct waitsel *ws, struct gp_proc *p)
{
	if (ws->ws_pid > 0)
		return p->p_pid == ws->ws_pid;
	if (ws->ws_pgid < 0)
		return false;
	if (ws->ws_pgid > 0)
		return __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED) ==
		    ws->ws_pgid;
	return true;
}

/*
 * Can child (p) still give a report in (want)?  NOTE: without WEXITED a
 * zombie cannot: its stops and continues are over.  As on Linux
 * (wait_task_zombie is skipped and leaves notask_error set), a wait that
 * selects only zombies without WEXITED fails with ECHILD, rather than
 * sleeping for a report that never comes.  p_stat is (P): our lock.
 */
static inline bool
waitable(const struct gp_proc *p, int want)
{
	return (want & GPI_R_EXIT) ||
	    __atomic_load_n(&p->p_stat, __ATOMIC_RELAXED) != GPI_SZOMB;
}

/*
 * Find a child of (q) with a report matching (ws), or say there is no
 * matching child at all.  Caller holds q->p_lock.
 */
static struct gp_proc *
find_report(struct gp_proc *q, const struct waitsel *ws, int want, bool *any)
{
	struct gp_proc *p;

	GPI_LOCK_ASSERT(&q->p_lock);
	if (ws->ws_pid > 0) {
		/*
		 * Usually the child waited for is the first to report: the
		 * head of our queue is our child, no lookup needed.
		 */
		if ((p = gpi_rq_head(q)) != NULL && p->p_pid == ws->ws_pid) {
			*any = waitable(p, want);
			return *any && (p->p_report & want) ? p : NULL;
		}
		gpi_rcu_read_lock();
		p = gpi_pfind(ws->ws_pid);
		/*
		 * Our children's p_pptr is stable under our lock.  NOTE: a
		 * zombie without its exit report is being reaped by another
		 * waiter: unlinked from us, its pid not yet freed (and
		 * p_pptr not cleared).  It is no child of ours any more, as
		 * Linux skips an EXIT_DEAD one: taking it for a live child
		 * would put us to sleep for a report that never comes.
		 */
		if (p != NULL && (p == &gpi_proc0 ||
		    __atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED) != q ||
		    (gpi_pflags(p) & GPI_P_AUTOREAP) ||
		    (__atomic_load_n(&p->p_stat, __ATOMIC_RELAXED) == GPI_SZOMB &&
		    !(p->p_report & GPI_R_EXIT))))
			p = NULL;
		gpi_rcu_read_unlock();
		*any = p != NULL && waitable(p, want);
		return *any && (p->p_report & want) ? p : NULL;
	}
	/* Usually the head: reports the caller ignores are skipped. */
	*any = ws->ws_pgid == 0 && (want & GPI_R_EXIT) &&
	    q->p_children != NULL;
	for (p = gpi_rq_head(q); p != NULL;
	    p = p == q->p_rq_tail ? NULL : p->p_rqnext) {
		if ((p->p_report & want) && selected(ws, p) &&
		    waitable(p, want)) {
			*any = true;
			return p;
		}
	}
	for (p = q->p_children; p != NULL && !*any; p = p->p_sibnext)
		*any = selected(ws, p) && waitable(p, want);
	return NULL;
}

/* Unlink reaped child (p) from (q).  Caller holds q->p_lock. */
void
gpi_unlink_child(struct gp_proc *q, struct gp_proc *p)
{
	GPI_LOCK_ASSERT(&q->p_lock);
	gpi_unreport(q, p);
	GPI_DLIST_REMOVE(&q->p_children, p, p_sibnext, p_sibprev);
	/* ruadd(&q->p_cru, &p->p_ru): the child's own and its reaped ones. */
	gpi_ruadd_cru(&q->p_cru, &p->p_ru);
}

static void
fill_siginfo(siginfo_t *info, struct gp_proc *p, int xstat)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = SIGCHLD;
	info->si_pid = p->p_pid;
	info->si_uid = getuid();
	if (WIFSTOPPED(xstat)) {
		info->si_code = CLD_STOPPED;
		info->si_status = WSTOPSIG(xstat);
	} else if (WIFCONTINUED(xstat)) {
		info->si_code = CLD_CONTINUED;
		info->si_status = SIGCONT;
	} else if (WIFSIGNALED(xstat)) {
		info->si_code = WCOREDUMP(xstat) ? CLD_DUMPED : CLD_KILLED;
		info->si_status = WTERMSIG(xstat);
	} else {
		info->si_code = CLD_EXITED;
		info->si_status = WEXITSTATUS(xstat);
	}
}

/*
 * Sleep until (q)'s next report (p_waitgen moves), a signal if (flags)
 * has GPI_PCATCH, or (deadline).  Caller holds q->p_lock, having found
 * nothing to report under it; returns unlocked, with gpi_tsleep's
 * result.  The waiter counts itself before it reads the generation, so
 * a waker that sees no waiter may skip the wakeup (p_nwaiters).
 * Out of line and cold: inlined, gcc hoisted gpi_tsleep's sleep-queue
 * hash of &q->p_waitgen (q is the loop's invariant) into every
 * kern_wait, where the common wait (the child ran in our yield and
 * reported) never sleeps: 21 instructions a spawn round trip for
 * nothing; without "cold" the .so's kern_wait kept registers for the
 * call and lost 8 of them back.  A wait that sleeps switches anyway.
 */
static GPI_NOINLINE __attribute__((__cold__)) int
waitgen_sleep(struct gp_proc *q, int flags, uint64_t deadline)
{
	int gen, error;

	GPI_LOCK_ASSERT(&q->p_lock);
	q->p_nwaiters++;
	gen = atomic_load(&q->p_waitgen);
	gpi_spin_unlock(&q->p_lock);
	error = gpi_tsleep(&q->p_waitgen, &q->p_waitgen, gen, flags,
	    deadline);
	gpi_spin_lock(&q->p_lock);
	q->p_nwaiters--;
	gpi_spin_unlock(&q->p_lock);
	return error;
}

/*
 * Linux's own wait flags: __WALL (clone children too) and __WNOTHREAD
 * (only the calling thread's children) say which of the kernel's
 * children a wait considers.  A green process's green children are all
 * of one kind, fork's, and all the process's own: both change nothing
 * for them, and __WCLONE alone (clone children only) finds none of them.
 * Its real children may be clone children (a clone() with an exit
 * signal other than SIGCHLD): fork.c sorts those by the flags.
 */
#define WAIT_LINUX	(__WALL | __WNOTHREAD | __WCLONE)

static bool
clone_only(int options)
{
	return (options & (__WCLONE | __WALL)) == __WCLONE;
}

/*
 * kern_wait: wait for a child of the caller's process selected by (ws),
 * with waitid's (options), Linux's flags among them.  Returns the
 * child's pid, 0 (WNOHANG and nothing to report), or a negative errno:
 * ECHILD (no such child), EINTR (a signal).
 * May block.  Caller holds no lock.
 */
_Static_assert(GPI_R_EXIT == WEXITED && GPI_R_STOP == WSTOPPED &&
    GPI_R_CONT == WCONTINUED, "kern_wait's want is its options masked");

static pid_t
kern_wait(const struct waitsel *ws, int options, int *statusp,
    struct rusage *ru, siginfo_t *info)
{
	struct gp_proc *q = gpi_curproc(), *p;
	struct gp_lwp *l, *next;
	bool any;
	int xstat, error, bit;
	pid_t rreal;
	int want = options & (GPI_R_EXIT | GPI_R_STOP | GPI_R_CONT);
	pid_t pid;

	GPI_LOCK_ASSERT_NONE();
	/*
	 * A child still in our runnext slot runs next anyway: yield to it
	 * before looking, instead of looking, finding nothing and sleeping
	 * (as join does).  If it exits without blocking, its report is here
	 * when we run again, and neither side went through a sleep queue.
	 * Unlocked, a guess: the slot is ours alone, and its LWP, not yet
	 * started, keeps its process alive; if its parent is not us after
	 * all, we only gave up our turn.
	 */
	if (!(options & WNOHANG) && (l = gpi_curlwp()) != NULL &&
	    (next = l->l_worker->w_runnext) != NULL &&
	    __atomic_load_n(&next->l_proc->p_pptr, __ATOMIC_RELAXED) == q)
		gpi_lwp_yield(l);

	for (;;) {
		/*
		 * Real children this process forked, and tasks it ptraces
		 * (fork.c), count as children too: polled without
		 * blocking, the kernel's report passed on as it is.
		 */
		rreal = -ECHILD;
		if (gpi_has_rchildren(q) &&
		    (ws->ws_pgid == 0 || ws->ws_rpgid > 0) &&
		    !GP_IS_GREEN(ws->ws_pid)) {
			rreal = gpi_rchild_reap(q, ws->ws_pid > 0 ? ws->ws_pid :
			    ws->ws_pgid != 0 ? -ws->ws_rpgid : -1, options,
			    statusp, ru, info);
			if (rreal > 0)
				return rreal;
		}
		gpi_spin_lock(&q->p_lock);
		any = false;
		p = clone_only(options) ? NULL : find_report(q, ws, want, &any);
		if (!any && rreal == -ECHILD) {
			gpi_spin_unlock(&q->p_lock);
			return -ECHILD;
		}
		if (p != NULL && (p->p_report & GPI_R_EXIT) &&
		    (options & WEXITED)) {
			/*
			 * Reaping many zombies in a row runs from cold
			 * memory: start fetching the next one, and its last
			 * LWP, while this one is reaped.
			 */
			if (p->p_rqnext != NULL)
				__builtin_prefetch(p->p_rqnext);
			__builtin_prefetch(p->p_zlwps);
			xstat = p->p_xstat;
			pid = p->p_pid;
			if (ru != NULL)
				gpi_ru_to_rusage(&p->p_ru, ru);
			if (info != NULL)
				fill_siginfo(info, p, xstat);
			if (options & WNOWAIT) {
				gpi_spin_unlock(&q->p_lock);
				return pid;
			}
			gpi_unlink_child(q, p);
			gpi_spin_unlock(&q->p_lock);
			if (statusp != NULL)
				*statusp = xstat;
			/* Slot and count go before we tell the caller. */
			gpi_proc_reap(p);
			return pid;
		}
		if (p != NULL) {
			/* A stop (WUNTRACED) or continue, reported once. */
			bit = (p->p_report & want & GPI_R_STOP) ? GPI_R_STOP :
			    GPI_R_CONT;
			xstat = bit == GPI_R_STOP ? W_STOPCODE(
			    __atomic_load_n(&p->p_xsig, __ATOMIC_RELAXED)) :
			    0xffff;
			pid = p->p_pid;
			if (info != NULL)
				fill_siginfo(info, p, xstat);
			if (ru != NULL)
				memset(ru, 0, sizeof(*ru));
			if (!(options & WNOWAIT))
				gpi_report_clear(q, p, bit);
			gpi_spin_unlock(&q->p_lock);
			if (statusp != NULL)
				*statusp = xstat;
			return pid;
		}
		if (options & WNOHANG) {
			gpi_spin_unlock(&q->p_lock);
			return 0;
		}
		/* Real children cannot wake us: poll them in slices. */
		error = waitgen_sleep(q, GPI_PCATCH,
		    rreal == 0 ? gpi_now() + RCHILD_POLL_NS : 0);
		if (error == EINTR && (l = gpi_curlwp()) != NULL) {
			/* Killed: dies here.  A handler: restart if it may. */
			gpi_userret_ex(l);
			if (!gpi_sig_ast(l))
				return -EINTR;
		}
	}
}

/*
 * Decode wait4's pid argument.  Returns 0 or -ECHILD.
 *
 * A group wait selects real children (fork.c) by their kernel group: a
 * real child's group is the kernel's, made by its own setpgid or its
 * parent's, never a green one.  So -pgid of a group that is not green
 * selects the real children in it (and no green child), and pid 0 of
 * the program's process under greenrun, whose getpgrp() is the kernel's
 * (green_ids, preload/preload.c), selects its green children in its
 * green group and its real children in its kernel group: `waitpid(0)`
 * after a plain fork, or `waitid(P_PGID)` of a group the child made,
 * said ECHILD.  Another green process's real children are in a kernel
 * group that is no group of its own: its pid 0 selects none of them.
 */
static int
waitsel_pid(pid_t pid, struct waitsel *ws)
{
	struct gp_proc *q = gpi_curproc();

	ws->ws_pid = ws->ws_pgid = ws->ws_rpgid = 0;
	if (pid > 0) {
		/* A real pid may name a real child this process forked. */
		if (pid == GP_PID_INIT)
			return -ECHILD;
		ws->ws_pid = pid;
	} else if (pid == 0) {
		/* Init has no group: pid 0 names nothing there. */
		if (q == &gpi_proc0)
			return -ECHILD;
		ws->ws_pgid = __atomic_load_n(&q->p_pgid, __ATOMIC_RELAXED);
		if (gpi_is_hostproc(q))
			ws->ws_rpgid = (pid_t)GPI_LIBC(syscall)(SYS_getpgid, 0);
	} else if (pid < -1) {
		if (GP_IS_GREEN(pid)) {
			ws->ws_pgid = -pid;
		} else {
			ws->ws_pgid = -1;
			ws->ws_rpgid = -pid;
		}
	}
	return 0;
}

#ifndef P_PIDFD
#define P_PIDFD		3
#endif

/*
 * The pid of process descriptor (fd), as the kernel shows it in its
 * fdinfo, or -errno: EBADF for no descriptor or one that is no pidfd
 * (the kernel's answer to both), ECHILD for one whose process is gone
 * ("Pid: -1").  A program
 * that waits by pidfd (GLib's child watch: pidfd_open, poll, then
 * waitid(P_PIDFD)) names a real child that the runtime waits for itself
 * (fork.c): the green wait for that pid answers, as the kernel would.
 * The open takes a low number for a moment (rtfd.c).  Also the
 * preload's pidfd_send_signal's test for the program's own process.
 */
pid_t
gpi_pidfd_pid(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	long pid;

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((n = gpi_read_text(path, buf, sizeof(buf))) < 0)
		return errno == ENOENT ? -EBADF : -errno;
	if (n == 0)
		return -EBADF;
	if ((p = strstr(buf, "\nPid:")) == NULL)
		return -EBADF;
	pid = strtol(p + 5, NULL, 10);
	return pid > 0 ? (pid_t)pid : -ECHILD;
}

pid_t
gp_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	struct waitsel ws;
	pid_t r;

	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | WAIT_LINUX)) {
		errno = EINVAL;
		return -1;
	}
	if ((r = waitsel_pid(pid, &ws)) == 0) {
		if (ru != NULL)
			memset(ru, 0, sizeof(*ru));
		r = kern_wait(&ws, options | WEXITED |
		    ((options & WUNTRACED) ? WSTOPPED : 0), status, ru, NULL);
	}
	/* A cancellation point on the way out too: a stop is taken here. */
	gpi_userret();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* Sleep until init's children report something, or until (deadline). */
void
gpi_wait_event(uint64_t deadline)
{
	gpi_spin_lock(&gpi_proc0.p_lock);
	/* A timeout is no error: the caller polls again. */
	(void)waitgen_sleep(&gpi_proc0, 0, deadline);
}

pid_t
gp_waitpid(pid_t pid, int *status, int options)
{
	return gp_wait4(pid, status, options, NULL);
}

int
gp_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	struct waitsel ws = { 0, 0, 0 };
	siginfo_t si;
	pid_t r;

	if ((options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED |
	    WNOWAIT | WAIT_LINUX)) ||
	    !(options & (WEXITED | WSTOPPED | WCONTINUED))) {
		errno = EINVAL;
		return -1;
	}
	switch (idtype) {
	case P_PID:
		if ((pid_t)id <= 0) {
			errno = EINVAL;
			return -1;
		}
		r = waitsel_pid((pid_t)id, &ws);
		break;
	case P_PGID:
		if ((pid_t)id < 0) {
			errno = EINVAL;
			return -1;
		}
		/* Group 1 is init's, which has none (as waitpid(-1)
		 * cannot name it). */
		r = id == 1 ? -ECHILD : waitsel_pid(id == 0 ? 0 :
		    -(pid_t)id, &ws);
		break;
	case P_ALL:
		r = 0;
		break;
	case P_PIDFD:
		if ((r = gpi_pidfd_pid((int)id)) > 0)
			r = waitsel_pid(r, &ws);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	memset(&si, 0, sizeof(si));
	if (r == 0)
		r = kern_wait(&ws, options, NULL, NULL, &si);
	gpi_userret();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (info != NULL)
		*info = si;		/* all zero with WNOHANG and nothing */
	return 0;
}
