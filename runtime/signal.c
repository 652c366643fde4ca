/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * signal.c -- green signals (DragonFly kern_sig.c: kill, sigaction,
 * sigprocmask, psignal, issignal/postsig, proc_stop/proc_unstop).
 *
 * Signals are per process: a pending set, dispositions (default, ignore,
 * a handler) and flags; each LWP has its own mask.  Posting a signal
 * marks the LWPs that could take it with GPI_LWP_AST and interrupts one
 * of them if it sleeps interruptibly; an LWP acts on signals only at a
 * cancellation point (gpi_userret), never in the middle of user code,
 * and never costs the switch or spawn paths anything but the one l_flags
 * load userret already does.
 *
 * Default actions are Linux's: terminate (the last LWP exits with
 * WTERMSIG), stop (SIGSTOP/TSTP/TTIN/TTOU), continue (SIGCONT), ignore
 * (SIGCHLD, SIGURG, SIGWINCH).  A stop is reported to the parent at once,
 * as the seed's proc_stop does, and each LWP parks at its next
 * cancellation point; SIGCONT wakes them and is reported as 0xffff.  A
 * report not yet collected is replaced by the opposite one (stop, then
 * continue: only CONTINUED; see notify_parent).
 *
 * Sets are uint64_t masks of signals 1..64 internally; sigset_t only at
 * the API edge.  Locks: p_lock, then sleep-queue buckets.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

#define SIGBIT(sig)	((uint64_t)1 << ((sig) - 1))
#define STOPSIGS	(SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | \
			 SIGBIT(SIGTTOU))
#define TTYSTOPS	(SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
#define IGNDFL		(SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH))
#define CANTMASK	(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define NSIGS		64
#define SIGQUEUED(sig)	((sig) >= 32)	/* the kernel's SIGRTMIN: each
					 * instance kept (below) */

/*
 * A caught signal's action, compact: signals are 1..NSIGS, so sa_mask
 * fits in 64 bits (a struct sigaction is 152 bytes, its sigset_t 1024
 * bits).  The table stays with its type-stable struct (gpi_sig_free),
 * so it is kept small: 1.5 KiB, not 10.
 */
struct gpi_sigact {
	union {
		void	(*h)(int);
		void	(*sa)(int, siginfo_t *, void *);
	}		 sa_fn;		/* .sa if SA_SIGINFO, else .h */
	uint64_t	 sa_mask;
	int		 sa_flags;
};

struct gpi_sigacts {
	struct gpi_sigact ps_act[NSIGS];	/* (p) [sig - 1]; live only
						 * where p_sigcatch has it */
};

/* Tables allocated (gpi_proc_held): relaxed, a statistic. */
static atomic_long nsigacts;

static uint64_t
set_to_mask(const sigset_t *set)
{
	uint64_t m = 0;
	int sig;

	for (sig = 1; sig <= NSIGS; sig++)
		if (sigismember(set, sig) == 1)
			m |= SIGBIT(sig);
	return m;
}

static void
mask_to_set(uint64_t m, sigset_t *set)
{
	int sig;

	sigemptyset(set);
	for (sig = 1; sig <= NSIGS; sig++)
		if (m & SIGBIT(sig))
			sigaddset(set, sig);
}

static bool
sig_valid(int sig)
{
	return sig >= 1 && sig <= NSIGS;
}

/* ------------------------------------------------------------ queued signals */

/*
 * Queued signals.  POSIX: a real-time signal (the kernel's 32..64; glibc
 * keeps 32 and 33, so its SIGRTMIN is 34) sent N times while pending is
 * delivered N times, each with its own siginfo (sigqueue's value), in
 * the order sent, and the lowest pending number goes first; a standard
 * signal that is pending already is not made pending again (merged).
 * Before, every signal was one bit: glibc's tst-signal3 lost 4 of 10000.
 *
 * The bit in p_siglist / l_siglist still says "pending".  Beside it, a
 * list (p_sigq, l_sigq) holds one struct gpi_sigq per instance that has
 * a siginfo to give: every real-time one, and a standard one posted with
 * a siginfo (sigqueue; the kernel's, taken by greenrun's forwarder).  A
 * pending standard signal without one reads SI_USER.  The list is
 * circular, its pointer the newest entry (whose q_next is the oldest):
 * append is O(1), a take scans from the oldest.
 *
 * Invariants, under the list's p_lock: an entry for sig is on a list only
 * while sig's bit is set in the same list's set; a standard signal has
 * at most one entry.  take removes the oldest entry of its signal and
 * clears the bit only when no other entry of it is left there.  Entries
 * are made before p_lock is taken (sigq_new, malloc) and freed under it
 * or after (free, as gp_sigaction's calloc under it).
 *
 * Limit: live entries count against RLIMIT_SIGPENDING (soft), in its
 * spirit -- the kernel counts per user, the kernel-side pending ones too.
 * sigqueue and pthread_sigqueue fail with EAGAIN past it; kill, raise,
 * pthread_kill and tgkill of a real-time signal then still make it
 * pending, with no entry (merged with the others: Linux's
 * __send_signal does so for SI_USER); a forwarded standard signal is
 * kept past it (the kernel's own signals override the limit too), a
 * forwarded real-time one merges.
 */
struct gpi_sigq {
	struct gpi_sigq	*q_next;	/* (p_lock of the list's process) */
	siginfo_t	 q_info;	/* (c) */
};

/* Live entries, against RLIMIT_SIGPENDING: relaxed, a count. */
static atomic_long nsigq;

/* A new entry holding (si), or NULL past the limit (unless force). */
static struct gpi_sigq *
sigq_new(const siginfo_t *si, bool force)
{
	struct gpi_sigq *q;
	struct rlimit rl;
	long n;

	n = atomic_fetch_add_explicit(&nsigq, 1, memory_order_relaxed) + 1;
	if ((!force && getrlimit(RLIMIT_SIGPENDING, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (rlim_t)n > rl.rlim_cur) ||
	    (q = malloc(sizeof(*q))) == NULL) {
		atomic_fetch_sub_explicit(&nsigq, 1, memory_order_relaxed);
		return NULL;
	}
	q->q_next = NULL;
	q->q_info = *si;
	return q;
}

static void
sigq_free(struct gpi_sigq *q)
{
	if (q == NULL)
		return;
	free(q);
	atomic_fetch_sub_explicit(&nsigq, 1, memory_order_relaxed);
}

/*
 * The siginfo the calling thread's kill (SI_USER), tgkill/pthread_kill
 * (SI_TKILL) or sigqueue (SI_QUEUE, with *v) gives: its process's pid
 * as that process's getpid() says it (the host's for the green-init
 * process and for a host thread), its uid.
 */
static void
sender_info(siginfo_t *si, int sig, int code, const union sigval *v)
{
	struct gp_proc *q = gpi_curproc();

	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = code;
	si->si_pid = (q == NULL || q == &gpi_proc0 || gpi_is_hostproc(q)) ?
	    gpi_host_pid() : __atomic_load_n(&q->p_pid, __ATOMIC_RELAXED);
	si->si_uid = getuid();
	if (v != NULL)
		si->si_value = *v;
}

/* The entry a real-time (sig) sent with (code) carries; NULL if none. */
static struct gpi_sigq *
sigq_sender(int sig, int code)
{
	siginfo_t si;

	if (!SIGQUEUED(sig))
		return NULL;
	sender_info(&si, sig, code, NULL);
	return sigq_new(&si, false);
}

static void
sigq_append(struct gpi_sigq **last, struct gpi_sigq *q)
{
	if (*last == NULL) {
		q->q_next = q;
	} else {
		q->q_next = (*last)->q_next;
		(*last)->q_next = q;
	}
	*last = q;
}

/*
 * Make (sig) pending in (*set), keeping the instance *qp (if any) on the
 * list (*last) when it is one to keep: always for a real-time signal,
 * for a standard one only if it was not pending already (merged).  A
 * kept entry is consumed (*qp = NULL); the caller frees what is left.
 * Under p_lock.
 */
static void
pend(uint64_t *set, struct gpi_sigq **last, int sig, struct gpi_sigq **qp)
{
	uint64_t bit = SIGBIT(sig);

	if (qp != NULL && *qp != NULL && (SIGQUEUED(sig) ||
	    !(__atomic_load_n(set, __ATOMIC_RELAXED) & bit))) {
		sigq_append(last, *qp);
		*qp = NULL;
	}
	__atomic_fetch_or(set, bit, __ATOMIC_RELAXED);
}

/*
 * Take pending (sig) off (*set) and (*last): its oldest entry, returned
 * (NULL if it has none), and its bit unless another entry of it is left.
 * Under p_lock.
 */
static struct gpi_sigq *
sigq_take(uint64_t *set, struct gpi_sigq **last, int sig)
{
	struct gpi_sigq *tail = *last, *prev, *q, *found = NULL;
	bool more = false, end;

	if (tail != NULL) {
		prev = tail;
		do {
			q = prev->q_next;
			end = q == tail;
			if (q->q_info.si_signo != sig) {
				prev = q;
			} else if (found != NULL) {
				more = true;
				break;
			} else {
				found = q;
				if (q == prev) {
					*last = NULL;	/* it was alone */
				} else {
					prev->q_next = q->q_next;
					if (q == tail)
						*last = prev;
				}
			}
		} while (!end);
	}
	if (!more)
		__atomic_fetch_and(set, ~SIGBIT(sig), __ATOMIC_RELAXED);
	return found;
}

/* Free the entries of (bits) on list (*last).  Under p_lock, or owned. */
static void
sigq_discard(struct gpi_sigq **last, uint64_t bits)
{
	struct gpi_sigq *q, *next;

	if (*last == NULL)
		return;
	q = (*last)->q_next;		/* the oldest */
	(*last)->q_next = NULL;		/* a plain list now */
	*last = NULL;
	for (; q != NULL; q = next) {
		next = q->q_next;
		if (bits & SIGBIT(q->q_info.si_signo))
			sigq_free(q);
		else
			sigq_append(last, q);
	}
}

void
gpi_sig_lwp_gone(struct gp_lwp *l)
{
	GPI_LOCK_ASSERT(&l->l_proc->p_lock);
	sigq_discard(&l->l_sigq, ~(uint64_t)0);
}

/* ------------------------------------------------------------ posting */

/*
 * Green sigwait/sigsuspend (gpi_sig_wait): a waiter blocks the signals
 * it waits for, so posting does not interrupt it (signal_lwps); instead
 * every post that leaves a signal pending bumps sig_gen and wakes the
 * waiters, of every process (posts are rare; each rechecks its own).
 * (a) seq_cst: the waiter counts itself, then checks p_siglist under
 * p_lock; the poster sets p_siglist under p_lock, then reads the count.
 */
static atomic_int sig_waiters;
static atomic_int sig_gen;

static void
sig_posted(void)
{
	if (atomic_load(&sig_waiters) != 0) {
		atomic_fetch_add(&sig_gen, 1);
		gpi_wakeup(&sig_gen);		/* p_lock -> bucket */
	}
}

/*
 * Let the LWPs of (p) that do not block (sig) see it at their next
 * cancellation point, and interrupt one that sleeps interruptibly.
 * Caller holds p->p_lock.
 */
static void
signal_lwps(struct gp_proc *p, int sig)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	/*
	 * Any of them may take it; each looks at its next cancellation
	 * point, and interruptible sleepers are woken to do so (the first
	 * to get p_lock in postsig takes the signal, the others find none).
	 */
	for (l = p->p_lwps; l != NULL; l = l->l_pnext) {
		if (__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) &
		    SIGBIT(sig))
			continue;
		atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
		gpi_sleep_interrupt(l);
	}
}

/* Does every LWP of (p) block (bit)?  Caller holds p->p_lock. */
static bool
all_block(struct gp_proc *p, uint64_t bit)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (!(__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) & bit))
			return false;
	return p->p_lwps != NULL;
}

/*
 * Discard pending (bits) from (p) and from each of its LWPs' own lists
 * (SIGCONT discards stops, a stop discards SIGCONT, SIG_IGN discards the
 * signal: POSIX says so of a signal pending on the process or on any of
 * its threads).  Caller holds p->p_lock.
 */
static void
discard(struct gp_proc *p, uint64_t bits)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	__atomic_fetch_and(&p->p_siglist, ~bits, __ATOMIC_RELAXED);
	sigq_discard(&p->p_sigq, bits);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (l->l_siglist & bits) {
			__atomic_fetch_and(&l->l_siglist, ~bits,
			    __ATOMIC_RELAXED);
			sigq_discard(&l->l_sigq, bits);
		}
}

/* Every LWP of (p) looks at its signals (stop, continue, new mask). */
static void
ast_all(struct gp_proc *p)
{
	struct gp_lwp *l;

	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
}

static void
notify_parent(struct gp_proc *p, pid_t pid, int what)
{
	struct gp_proc *pp;
	bool tell, stopped;

	/* Reaped and reused since the signal: not ours to report. */
	if ((pp = gpi_lock_parent(p)) == NULL)
		return;
	tell = !(gpi_pflags(pp) & GPI_PS_NOCLDSTOP);
	/*
	 * Recheck under the parent's lock (p_stat is written under both,
	 * and a child's identity cannot change under it): p may have
	 * exited since the signal (an exit report supersedes a stop or
	 * continue), been reaped and reused, and an orphan init adopted
	 * has nobody to tell.
	 */
	if (gpi_proc_pid(p) != pid || p->p_stat == GPI_SZOMB ||
	    (gpi_pflags(p) & GPI_P_AUTOREAP)) {
		gpi_spin_unlock(&pp->p_lock);
		return;
	}
	/*
	 * NOTE: the newer of a stop and a continue supersedes the older
	 * (Linux's SIGNAL_STOP_STOPPED / SIGNAL_STOP_CONTINUED, FreeBSD's
	 * P_STOPPED / P_CONTINUED): a child never has both reports queued.
	 * Notices run after p_lock is dropped, so two of them may arrive out
	 * of order; the one that no longer matches the child's state is
	 * stale and reports nothing.  Every poster wrote GPI_P_STOPPED before
	 * its notice took pp's lock, so the last notice to run here sees the
	 * final state and leaves the report that matches it.
	 */
	stopped = (gpi_pflags(p) & GPI_P_STOPPED) != 0;
	if (stopped != (what == GPI_R_STOP)) {
		gpi_spin_unlock(&pp->p_lock);
		return;
	}
	gpi_report_clear(pp, p, what == GPI_R_STOP ? GPI_R_CONT : GPI_R_STOP);
	gpi_report(pp, p, what);
	if (tell && pp != &gpi_proc0)
		gpi_psignal_locked(pp, SIGCHLD);
	gpi_waitgen_unlock_wakeup(pp);
}

/* A group is orphaned when no member has a parent in another group of
 * the session (links to init do not count).  Under RCU. */
static bool
pgrp_orphaned(pid_t pgid)
{
	return gpi_pgrp_scan(pgid, GPI_PGRP_LINKED) == 0;
}

/*
 * psignal_locked(): post (sig) to (p), with the queued instance *qp if
 * qp and *qp are not NULL (consumed if it is kept: pend).  Caller holds
 * p->p_lock.  Returns
 * true if the caller must stop or continue the process after dropping the lock
 * (the parent's lock comes after ours in no order, so never nested).
 */
static int
psignal_locked(struct gp_proc *p, int sig, struct gpi_sigq **qp)
{
	uint64_t bit = SIGBIT(sig);

	GPI_LOCK_ASSERT(&p->p_lock);
	/* Every exit sends one: SIGCHLD not caught goes nowhere. */
	if ((bit & IGNDFL) && !(p->p_sigcatch & bit))
		return 0;
	if (p == &gpi_proc0 || p->p_stat == GPI_SZOMB ||
	    (gpi_pflags(p) & GPI_P_WEXIT))
		return 0;
	if (sig == SIGKILL) {
		if (p->p_killsig == 0)
			__atomic_store_n(&p->p_killsig, SIGKILL,
			    __ATOMIC_RELAXED);
		gpi_pflags_clear(p, GPI_P_STOPPED);
		atomic_fetch_add(&p->p_stopgen, 1);
		gpi_wakeup(&p->p_stopgen);
		gpi_proc_kill_locked(p);
		return 0;
	}
	if (sig == SIGCONT) {
		/* Continue even if caught or ignored; discard stops. */
		discard(p, STOPSIGS);
		if (gpi_pflags(p) & GPI_P_STOPPED) {
			gpi_pflags_clear(p, GPI_P_STOPPED);
			atomic_fetch_add(&p->p_stopgen, 1);
			gpi_wakeup(&p->p_stopgen);	/* p_lock -> bucket */
			if (p->p_sigcatch & bit) {
				pend(&p->p_siglist, &p->p_sigq, sig, qp);
				signal_lwps(p, sig);
			}
			return GPI_R_CONT;
		}
		if (!(p->p_sigcatch & bit))
			return 0;
	} else if (bit & STOPSIGS) {
		discard(p, SIGBIT(SIGCONT));
	}
	if (p->p_sigignore & bit)
		return 0;
	if (!(p->p_sigcatch & bit)) {
		/* Default action. */
		if (bit & IGNDFL)
			return 0;
		if (!(bit & CANTMASK) && all_block(p, bit)) {
			/* Acted on when an LWP unblocks it (postsig). */
			pend(&p->p_siglist, &p->p_sigq, sig, qp);
			sig_posted();
			return 0;
		}
		if (bit & STOPSIGS) {
			if (gpi_pflags(p) & GPI_P_STOPPED)
				return 0;
			gpi_pflags_set(p, GPI_P_STOPPED);
			__atomic_store_n(&p->p_xsig, sig, __ATOMIC_RELAXED);
			ast_all(p);
			return GPI_R_STOP;
		}
		/*
		 * NOTE: a stopped process acts on SIGKILL and SIGCONT only
		 * (Linux's wants_signal(), BSD's P_SHOULDSTOP): any other
		 * fatal signal waits in p_siglist, and postsig() acts on it
		 * once SIGCONT lets an LWP run (tests/diff/regress.txt).
		 */
		if (gpi_pflags(p) & GPI_P_STOPPED) {
			pend(&p->p_siglist, &p->p_sigq, sig, qp);
			return 0;
		}
		/* Terminate (core-dumping ones too: no cores here). */
		if (p->p_killsig == 0)
			__atomic_store_n(&p->p_killsig, sig, __ATOMIC_RELAXED);
		gpi_proc_kill_locked(p);
		return 0;
	}
	pend(&p->p_siglist, &p->p_sigq, sig, qp);
	signal_lwps(p, sig);
	sig_posted();
	return 0;
}

/* Post (sig) to (p), whose lock the caller holds; stop/cont deferred. */
void
gpi_psignal_locked(struct gp_proc *p, int sig)
{
	int what;

	GPI_LOCK_ASSERT(&p->p_lock);
	what = psignal_locked(p, sig, NULL);
	/* Called with a lock held: tell the parent from a clean context. */
	if (what != 0)
		gpi_pflags_set(p, what == GPI_R_STOP ? GPI_P_TELLSTOP :
		    GPI_P_TELLCONT);
}

/*
 * Post (sig) to (p), which was process (pid) when looked up, with the
 * queued instance (q) (NULL: a kill's, made here for a real-time
 * signal), and tell its parent of a stop or continue.  Nothing if p has
 * been reaped since.  (q) is the callee's.
 */
static void
psignal_q(struct gp_proc *p, pid_t pid, int sig, struct gpi_sigq *q)
{
	int what;
	bool orphan_stop;

	if (q == NULL)
		q = sigq_sender(sig, SI_USER);
	if (!gpi_proc_lock_pid(p, pid)) {
		sigq_free(q);
		return;
	}
	/*
	 * In an orphaned group, TSTP/TTIN/TTOU do not stop (Linux): nobody
	 * in the session could continue it.  Default action only.
	 */
	orphan_stop = (SIGBIT(sig) & TTYSTOPS) &&
	    !(p->p_sigcatch & SIGBIT(sig)) && !(p->p_sigignore & SIGBIT(sig));
	gpi_spin_unlock(&p->p_lock);
	if (orphan_stop) {
		gpi_rcu_read_lock();
		orphan_stop = pgrp_orphaned(__atomic_load_n(&p->p_pgid,
		    __ATOMIC_RELAXED));
		gpi_rcu_read_unlock();
		if (orphan_stop) {
			sigq_free(q);
			return;
		}
	}
	if (!gpi_proc_lock_pid(p, pid)) {
		sigq_free(q);
		return;
	}
	what = psignal_locked(p, sig, &q);
	gpi_spin_unlock(&p->p_lock);
	sigq_free(q);		/* not kept: merged, ignored, acted on */
	if (what != 0)
		notify_parent(p, pid, what);
}

void
gpi_psignal(struct gp_proc *p, pid_t pid, int sig)
{
	psignal_q(p, pid, sig, NULL);
}

/*
 * Post (sig) to LWP (l) alone: pthread_kill, and raise (which POSIX
 * makes pthread_kill(pthread_self(), sig) in a threaded process).  A
 * caught signal, or one (l) blocks, pends on l_siglist, where only l
 * takes it (postsig, gpi_sig_wait) and only l is interrupted; otherwise
 * the action is the process's -- a default action stops or kills the
 * whole process, and SIGKILL, SIGSTOP and SIGCONT always act on it --
 * so that is an ordinary process post.  (l) came from a handle lookup
 * and may have exited since: it is looked for on p_lwps under p_lock
 * (O(threads), but pthread_kill is rare; the caller's own LWP needs no
 * look).  Returns 0, or ESRCH if (l) is gone.
 */
static int lwp_post_locked(struct gp_proc *p, pid_t pid, struct gp_lwp *l,
    int sig, struct gpi_sigq *q);

/* gpi_lwp_signal with the queued instance (q), the callee's. */
static int
lwp_signal_q(struct gp_lwp *l, int sig, struct gpi_sigq *q)
{
	struct gp_proc *p = __atomic_load_n(&l->l_proc, __ATOMIC_RELAXED);
	pid_t pid = __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED);
	struct gp_lwp *x;

	if (!gpi_proc_lock_pid(p, pid)) {
		sigq_free(q);
		return ESRCH;
	}
	if (l != gpi_curlwp()) {
		for (x = p->p_lwps; x != NULL && x != l; x = x->l_pnext)
			;
		if (x == NULL) {
			gpi_spin_unlock(&p->p_lock);
			sigq_free(q);
			return ESRCH;
		}
	}
	return lwp_post_locked(p, pid, l, sig, q);
}

int
gpi_lwp_signal(struct gp_lwp *l, int sig)
{
	return lwp_signal_q(l, sig, sigq_sender(sig, SI_TKILL));
}

int
gpi_lwp_sigqueue(struct gp_lwp *l, int sig, union sigval value)
{
	struct gpi_sigq *q;
	siginfo_t si;

	if (sig < 0 || sig > NSIGS)
		return EINVAL;
	if (sig == 0)
		return lwp_signal_q(l, 0, NULL);
	sender_info(&si, sig, SI_QUEUE, &value);
	if ((q = sigq_new(&si, false)) == NULL)
		return EAGAIN;
	return lwp_signal_q(l, sig, q);
}

/*
 * The same for the LWP of (p) whose gettid() is (tid) (gpi_lwp_gettid:
 * the preload's tgkill and tkill), found and posted under p_lock
 * (gpi_lwp_tid_lock), so it cannot exit in between.  Signal 0 only
 * checks that it lives.  Returns
 * 0, or ESRCH if no live LWP of (p) has that id.
 */
int
gpi_lwp_signal_tid(struct gp_proc *p, pid_t tid, int sig)
{
	struct gpi_sigq *q;
	struct gp_lwp *x;
	pid_t pid;

	if (sig == 0) {
		if (gpi_lwp_tid_lock(p, tid, &pid) == NULL)
			return ESRCH;
		gpi_spin_unlock(&p->p_lock);
		return 0;
	}
	q = sigq_sender(sig, SI_TKILL);		/* before p_lock */
	if ((x = gpi_lwp_tid_lock(p, tid, &pid)) == NULL) {
		sigq_free(q);
		return ESRCH;
	}
	return lwp_post_locked(p, pid, x, sig, q);
}

/*
 * gpi_lwp_signal's post, with p_lock held (it is released), with the
 * queued instance (q), the callee's.  Signal 0 posts nothing.
 */
static int
lwp_post_locked(struct gp_proc *p, pid_t pid, struct gp_lwp *l, int sig,
    struct gpi_sigq *q)
{
	uint64_t bit = SIGBIT(sig);

	if (sig == 0) {
		gpi_spin_unlock(&p->p_lock);
		return 0;
	}
	if ((bit & (CANTMASK | SIGBIT(SIGCONT))) || p->p_stat == GPI_SZOMB ||
	    (gpi_pflags(p) & GPI_P_WEXIT) || (p->p_sigignore & bit) ||
	    (!(p->p_sigcatch & bit) && ((bit & IGNDFL) ||
	    !(__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) & bit)))) {
		gpi_spin_unlock(&p->p_lock);
		psignal_q(p, pid, sig, q);
		return 0;
	}
	pend(&l->l_siglist, &l->l_sigq, sig, &q);
	if (!(__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) & bit)) {
		atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
		gpi_sleep_interrupt(l);
	}
	sig_posted();
	gpi_spin_unlock(&p->p_lock);
	sigq_free(q);
	return 0;
}

/* Deferred parent notices (gpi_psignal_locked); caller holds no lock. */
void
gpi_sig_tell(struct gp_proc *p)
{
	int f;

	GPI_LOCK_ASSERT_NONE();
	gpi_spin_lock(&p->p_lock);
	f = gpi_pflags(p) & (GPI_P_TELLSTOP | GPI_P_TELLCONT);
	gpi_pflags_clear(p, f);
	gpi_spin_unlock(&p->p_lock);
	if (f & GPI_P_TELLSTOP)
		notify_parent(p, p->p_pid, GPI_R_STOP);
	if (f & GPI_P_TELLCONT)
		notify_parent(p, p->p_pid, GPI_R_CONT);
}

/* ------------------------------------------------------------ kill */

struct killarg {
	int	ka_sig;
	int	ka_found;
	struct gp_proc *ka_self;
};

static void
kill_one(struct gp_proc *p, pid_t pid, void *arg)
{
	struct killarg *ka = arg;

	ka->ka_found++;
	if (ka->ka_sig != 0)
		gpi_psignal(p, pid, ka->ka_sig);
}

int
gp_kill(pid_t pid, int sig)
{
	struct gp_proc *q = gpi_curproc(), *p;
	struct killarg ka = { sig, 0, q };

	if (sig < 0 || sig > NSIGS) {
		errno = EINVAL;
		return -1;
	}
	if (pid == GP_PID_INIT || pid == -GP_PID_INIT) {
		errno = EPERM;
		return -1;
	}
	if (pid > 0) {
		if (!GP_IS_GREEN(pid)) {
			errno = ESRCH;
			return -1;
		}
		/* RCU keeps p's memory while we post (it never switches). */
		gpi_rcu_read_lock();
		if ((p = gpi_pfind(pid)) == NULL) {
			gpi_rcu_read_unlock();
			errno = ESRCH;
			return -1;
		}
		/* A zombie takes no signal, but exists (kill(2) returns 0). */
		if (sig != 0)
			gpi_psignal(p, pid, sig);
		gpi_rcu_read_unlock();
		return 0;
	}
	if (pid == 0) {
		if (q == &gpi_proc0) {
			errno = ESRCH;
			return -1;
		}
		pid = -__atomic_load_n(&q->p_pgid, __ATOMIC_RELAXED);
	}
	if (pid < -1 && !GP_IS_GREEN(pid)) {
		errno = ESRCH;
		return -1;
	}
	gpi_rcu_read_lock();
	/*
	 * Zombies count as found (kill(2) returns 0 for a group of zombies
	 * only, as for one zombie by pid); psignal posts nothing to them.
	 */
	gpi_proc_foreach(pid == -1 ? 0 : -pid, q, true, kill_one, &ka);
	gpi_rcu_read_unlock();
	if (ka.ka_found == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ sigaction */

int
gp_sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	struct gp_proc *p = gpi_curproc();
	struct gpi_sigacts *ps;
	uint64_t bit;

	if (!sig_valid(sig) || (act != NULL && (sig == SIGKILL ||
	    sig == SIGSTOP))) {
		errno = EINVAL;
		return -1;
	}
	bit = SIGBIT(sig);
	if (p == &gpi_proc0 && act != NULL && (sig != SIGCHLD ||
	    (act->sa_handler != SIG_IGN && act->sa_handler != SIG_DFL))) {
		/* Init takes no green signals; it may only ignore SIGCHLD. */
		errno = EINVAL;
		return -1;
	}
	gpi_spin_lock(&p->p_lock);
	if (oact != NULL) {
		memset(oact, 0, sizeof(*oact));
		if (p->p_sigcatch & bit) {
			const struct gpi_sigact *a = &p->p_sigacts->ps_act[sig - 1];

			if (a->sa_flags & SA_SIGINFO)
				oact->sa_sigaction = a->sa_fn.sa;
			else
				oact->sa_handler = a->sa_fn.h;
			oact->sa_flags = a->sa_flags;
			mask_to_set(a->sa_mask, &oact->sa_mask);
		} else
			oact->sa_handler = (p->p_sigignore & bit) ? SIG_IGN :
			    SIG_DFL;
		if (sig == SIGCHLD) {
			if (gpi_pflags(p) & GPI_PS_NOCLDSTOP)
				oact->sa_flags |= SA_NOCLDSTOP;
			if (gpi_pflags(p) & GPI_PS_NOCLDWAIT)
				oact->sa_flags |= SA_NOCLDWAIT;
		}
	}
	if (act == NULL) {
		gpi_spin_unlock(&p->p_lock);
		return 0;
	}
	if (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
		if ((ps = p->p_sigacts) == NULL &&
		    (ps = calloc(1, sizeof(*ps))) == NULL) {
			gpi_spin_unlock(&p->p_lock);
			errno = ENOMEM;
			return -1;
		}
		if (p->p_sigacts == NULL)
			atomic_fetch_add_explicit(&nsigacts, 1,
			    memory_order_relaxed);
		p->p_sigacts = ps;
		if (act->sa_flags & SA_SIGINFO)
			ps->ps_act[sig - 1].sa_fn.sa = act->sa_sigaction;
		else
			ps->ps_act[sig - 1].sa_fn.h = act->sa_handler;
		ps->ps_act[sig - 1].sa_flags = act->sa_flags;
		ps->ps_act[sig - 1].sa_mask = set_to_mask(&act->sa_mask);
		p->p_sigcatch |= bit;
		p->p_sigignore &= ~bit;
	} else {
		p->p_sigcatch &= ~bit;
		if (act->sa_handler == SIG_IGN ||
		    (act->sa_handler == SIG_DFL && (bit & IGNDFL)))
			discard(p, bit);	/* discard pending */
		if (act->sa_handler == SIG_IGN)
			p->p_sigignore |= bit;
		else
			p->p_sigignore &= ~bit;
	}
	if (sig == SIGCHLD) {
		gpi_pflags_clear(p, GPI_PS_NOCLDSTOP | GPI_PS_NOCLDWAIT);
		if (act->sa_flags & SA_NOCLDSTOP)
			gpi_pflags_set(p, GPI_PS_NOCLDSTOP);
		if (act->sa_flags & SA_NOCLDWAIT)
			gpi_pflags_set(p, GPI_PS_NOCLDWAIT);
		/* PS_CLDSIGIGN: children are reaped without a wait. */
		if (act->sa_handler == SIG_IGN)
			gpi_pflags_set(p, GPI_PS_NOCLDWAIT);
	}
	gpi_spin_unlock(&p->p_lock);
	return 0;
}

/*
 * May (sig)'s kernel disposition be set to the green process's, for a
 * real child or a new program (gpi_sig_fork_real, the preload's exec and
 * posix_spawn)?  Not SIGKILL and SIGSTOP; not the synchronous faults,
 * whose real handlers are the runtime's (fault.c) and whose kernel
 * delivery cannot be ignored; not glibc's two internal signals.
 */
bool
gpi_sig_kernel_follows(int sig)
{
	return !(SIGBIT(sig) & CANTMASK) && sig != SIGSEGV && sig != SIGBUS &&
	    sig != SIGILL && sig != SIGFPE && sig != SIGTRAP &&
	    !(sig > 31 && sig < SIGRTMIN);
}

/*
 * In the real child that LWP (l) of (p) forked (fork.c): its only thread
 * gets what a native fork child would -- the forking thread's mask and
 * the process's dispositions (ignored, caught, default) -- not the
 * worker's mask (nearly everything blocked) and the host's handlers.
 * The synchronous faults keep the host's real handlers, which are the
 * green ones' (preload/signals.c); glibc's two internal signals are
 * left alone.  The child is single-threaded and owns its copy of p:
 * no lock.
 *
 * A child that shares our memory (a direct clone() with CLONE_VM, made
 * to exec or _exit: gpi_clone_child) passes (shared): it writes nothing
 * of ours, so its SIGABRT is set in the kernel only, not through
 * fault.c's record, and with CLONE_SIGHAND, whose table is the parent's
 * own, it sets only its mask.
 */
void
gpi_sig_fork_real(struct gp_proc *p, struct gp_lwp *l, unsigned long shared)
{
	const struct gpi_sigact *a;
	struct sigaction sa;
	sigset_t set;
	uint64_t bit;
	int sig;

	for (sig = 1; sig <= NSIGS && !(shared & CLONE_SIGHAND); sig++) {
		bit = SIGBIT(sig);
		if (!gpi_sig_kernel_follows(sig))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		if (p->p_sigignore & bit) {
			sa.sa_handler = SIG_IGN;
		} else if ((p->p_sigcatch & bit) && p->p_sigacts != NULL) {
			a = &p->p_sigacts->ps_act[sig - 1];
			sa.sa_flags = a->sa_flags;
			if (a->sa_flags & SA_SIGINFO)
				sa.sa_sigaction = a->sa_fn.sa;
			else
				sa.sa_handler = a->sa_fn.h;
			mask_to_set(a->sa_mask, &sa.sa_mask);
		}
		/*
		 * SIGABRT's kernel handler is fault.c's, which chains to
		 * what it records: setting the kernel's directly would
		 * unseat it while the preload's sigaction still records
		 * behind it (a later handler would never be installed).
		 */
		if (sig == SIGABRT && !(shared & CLONE_VM) &&
		    gpi_fault_installed())
			(void)gpi_fault_sigaction(sig, &sa, NULL);
		else
			(void)GPI_LIBC(sigaction)(sig, &sa, NULL);
	}
	mask_to_set(l->l_sigmask, &set);
	(void)GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &set, NULL);
}

/*
 * (l), made and not yet started, starts with mask (set) instead of its
 * creator's (pthread_attr_setsigmask_np).  Its start is a signal point,
 * where what the mask lets through is delivered.
 */
void
gpi_lwp_startmask(struct gp_lwp *l, const sigset_t *set)
{
	__atomic_store_n(&l->l_sigmask, set_to_mask(set) & ~CANTMASK,
	    __ATOMIC_RELAXED);
	atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
}

int
gp_sigprocmask(int how, const sigset_t *set, sigset_t *oset)
{
	struct gp_lwp *l = gpi_curlwp();
	uint64_t m, old;

	if (l == NULL)
		return GPI_LIBC(pthread_sigmask)(how, set, oset) == 0 ? 0 :
		    (errno = EINVAL, -1);
	old = __atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED);
	if (oset != NULL)
		mask_to_set(old, oset);
	if (set == NULL)
		return 0;
	m = set_to_mask(set);
	switch (how) {
	case SIG_BLOCK:
		m = old | m;
		break;
	case SIG_UNBLOCK:
		m = old & ~m;
		break;
	case SIG_SETMASK:
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (unlikely(l->l_worker->w_althandler == l))
		gpi_fault_mask(how, set);
	__atomic_store_n(&l->l_sigmask, m & ~CANTMASK, __ATOMIC_RELAXED);
	/* Newly unblocked pending signals are delivered now (not a cancel). */
	atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
	gpi_sigpoint_l(l);
	return 0;
}

/* ------------------------------------------------------------ delivery */

/* Park a stopped LWP until SIGCONT or a kill.  Caller holds no lock. */
static void
stop_here(struct gp_lwp *l, struct gp_proc *p)
{
	int gen;

	GPI_LOCK_ASSERT_NONE();
	for (;;) {
		gpi_spin_lock(&p->p_lock);
		if (!(gpi_pflags(p) & GPI_P_STOPPED) ||
		    (atomic_load(&l->l_flags) & GPI_LWP_WEXIT)) {
			gpi_spin_unlock(&p->p_lock);
			return;
		}
		gen = atomic_load(&p->p_stopgen);
		gpi_spin_unlock(&p->p_lock);
		if (gpi_tsleep(&p->p_stopgen, &p->p_stopgen, gen, GPI_PINVOL,
		    0) ==
		    EINTR && (atomic_load(&l->l_flags) & GPI_LWP_WEXIT))
			return;
	}
}

/*
 * Post (sig) with the queued instance (q), the callee's, to green
 * process (pid): gp_kill of one pid.  0, or -1 with errno.
 */
static int
kill_q(pid_t pid, int sig, struct gpi_sigq *q)
{
	struct gp_proc *p;

	if (pid == GP_PID_INIT || pid <= 0 || !GP_IS_GREEN(pid)) {
		sigq_free(q);
		errno = pid == GP_PID_INIT ? EPERM : ESRCH;
		return -1;
	}
	gpi_rcu_read_lock();
	if ((p = gpi_pfind(pid)) == NULL) {
		gpi_rcu_read_unlock();
		sigq_free(q);
		errno = ESRCH;
		return -1;
	}
	psignal_q(p, pid, sig, q);	/* a zombie takes none */
	gpi_rcu_read_unlock();
	return 0;
}

int
gpi_sigqueue(pid_t pid, int sig, union sigval value)
{
	struct gpi_sigq *q;
	siginfo_t si;

	if (sig < 0 || sig > NSIGS) {
		errno = EINVAL;
		return -1;
	}
	if (sig == 0)
		return gp_kill(pid, 0);
	sender_info(&si, sig, SI_QUEUE, &value);
	if ((q = sigq_new(&si, false)) == NULL) {
		errno = EAGAIN;
		return -1;
	}
	return kill_q(pid, sig, q);
}

void
gpi_sig_requeue(pid_t tid, siginfo_t *si)
{
	if (si->si_code >= 0 || si->si_code == SI_TKILL)
		si->si_code = SI_QUEUE;
	if (tid != 0)
		(void)GPI_LIBC(syscall)(SYS_rt_tgsigqueueinfo, gpi_host_pid(),
		    tid, si->si_signo, si);
	else
		(void)GPI_LIBC(syscall)(SYS_rt_sigqueueinfo, gpi_host_pid(),
		    si->si_signo, si);
}

/*
 * Green-init mode: a signal greenrun's forwarder took from the kernel for
 * the host process, posted with the kernel's siginfo (a POSIX timer's
 * SI_TIMER and timer id, a sender's pid and uid, a sigqueue value),
 * which the handler or sigwaitinfo that takes it is given (take).
 * Without it a handler saw SI_USER and nothing else, and flock -w, whose
 * SIGALRM handler looks for SI_TIMER, never timed out.  A real-time one
 * queues as the kernel queued it; a standard one is kept past the limit
 * (the kernel's own signals override it).
 */
int
gpi_kill_info(pid_t pid, const siginfo_t *si)
{
	int sig = si->si_signo;

	if (sig < 1 || sig > NSIGS)
		return gp_kill(pid, sig);
	return kill_q(pid, sig, sigq_new(si, !SIGQUEUED(sig)));
}

int
gpi_kill_info_to(struct gp_lwp *l, pid_t pid, const siginfo_t *si)
{
	struct gp_proc *p = __atomic_load_n(&l->l_proc, __ATOMIC_RELAXED);
	int sig = si->si_signo;
	uint64_t bit;

	if (sig < 1 || sig > NSIGS ||
	    __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED) != pid)
		return gpi_kill_info(pid, si);
	bit = SIGBIT(sig);
	if (!(__atomic_load_n(&p->p_sigcatch, __ATOMIC_RELAXED) & bit) ||
	    (__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED) & bit))
		return gpi_kill_info(pid, si);
	return lwp_signal_q(l, sig, sigq_new(si, !SIGQUEUED(sig)));
}

/*
 * Take pending (sig) off (l)'s own list, else off (p)'s, and fill (si)
 * (if not NULL) with its siginfo: its queued instance's (the oldest), or
 * SI_USER.  Under p_lock.
 */
static void
take(struct gp_proc *p, struct gp_lwp *l, int sig, siginfo_t *si)
{
	struct gpi_sigq *q;

	GPI_LOCK_ASSERT(&p->p_lock);
	if (l->l_siglist & SIGBIT(sig))
		q = sigq_take(&l->l_siglist, &l->l_sigq, sig);
	else
		q = sigq_take(&p->p_siglist, &p->p_sigq, sig);
	if (si != NULL) {
		if (q != NULL) {
			*si = q->q_info;
		} else {
			memset(si, 0, sizeof(*si));
			si->si_signo = sig;
			si->si_code = SI_USER;
		}
	}
	sigq_free(q);
}

/*
 * Take one deliverable signal for (l) and run its handler.  Returns the
 * signal, or 0 if none.  *restart is cleared unless it had SA_RESTART.
 */
static int
postsig(struct gp_lwp *l, struct gp_proc *p, bool *restart)
{
	struct gpi_sigact sa;
	uint64_t pend, mask;
	siginfo_t si;
	int sig;

	gpi_spin_lock(&p->p_lock);
	mask = __atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED);
	pend = (p->p_siglist | l->l_siglist) & ~mask;
	if (pend == 0) {
		gpi_spin_unlock(&p->p_lock);
		return 0;
	}
	sig = __builtin_ctzll(pend) + 1;
	take(p, l, sig, &si);
	if (!(p->p_sigcatch & SIGBIT(sig))) {
		/*
		 * A default action held back while every LWP blocked it, or
		 * a disposition changed since the post: act on it now.
		 */
		gpi_spin_unlock(&p->p_lock);
		if (!(p->p_sigignore & SIGBIT(sig)) &&
		    !(SIGBIT(sig) & IGNDFL))
			gpi_psignal(p, p->p_pid, sig);
		return sig;
	}
	sa = p->p_sigacts->ps_act[sig - 1];
	if (sa.sa_flags & SA_RESETHAND) {
		p->p_sigcatch &= ~SIGBIT(sig);
	}
	gpi_spin_unlock(&p->p_lock);

	if (!(sa.sa_flags & SA_RESTART))
		*restart = false;
	l->l_nhandled++;
	/* Run it with sa_mask and the signal itself blocked. */
	__atomic_store_n(&l->l_sigmask, mask | sa.sa_mask |
	    ((sa.sa_flags & SA_NODEFER) ? 0 : SIGBIT(sig)), __ATOMIC_RELAXED);
	if (sa.sa_flags & SA_SIGINFO) {
		sa.sa_fn.sa(sig, &si, NULL);
	} else {
		sa.sa_fn.h(sig);
	}
	__atomic_store_n(&l->l_sigmask, mask, __ATOMIC_RELAXED);
	return sig;
}

/*
 * The signal part of a cancellation point: stop if the process is
 * stopped, run the handlers of deliverable signals.  Returns true if
 * every handler run had SA_RESTART (an interrupted call may restart).
 */
bool
gpi_sig_ast(struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;
	bool restart = true;

	atomic_fetch_and(&l->l_flags, ~GPI_LWP_AST);
	if (p == &gpi_proc0)
		return true;
	if (gpi_pflags(p) & (GPI_P_TELLSTOP | GPI_P_TELLCONT))
		gpi_sig_tell(p);
	for (;;) {
		if (gpi_pflags(p) & GPI_P_STOPPED)
			stop_here(l, p);
		if (atomic_load(&l->l_flags) & GPI_LWP_WEXIT)
			return true;
		if (postsig(l, p, &restart) == 0)
			break;
	}
	return restart;
}

/* Is a signal deliverable to (l) pending?  For GPI_PCATCH sleeps. */
bool
gpi_sig_pending(struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;

	return ((__atomic_load_n(&p->p_siglist, __ATOMIC_RELAXED) |
	    __atomic_load_n(&l->l_siglist, __ATOMIC_RELAXED)) &
	    ~__atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED)) != 0;
}

/* ------------------------------------------------------------ waits */

/*
 * sigwait/sigwaitinfo/sigtimedwait on (l): take the lowest pending
 * signal of (set) from its process, waiting until (deadline) (0: none).
 * Returns the signal, or -EAGAIN (timed out, as sigtimedwait says) or
 * -EINTR (a signal outside the set ran a handler; a kill ends l in
 * gpi_userret before that).
 */
int
gpi_sig_wait(struct gp_lwp *l, const sigset_t *set, uint64_t deadline,
    siginfo_t *si)
{
	struct gp_proc *p = l->l_proc;
	uint64_t want = set_to_mask(set) & ~CANTMASK, pend;
	int gen, sig, error;

	for (;;) {
		atomic_fetch_add(&sig_waiters, 1);
		gen = atomic_load(&sig_gen);
		gpi_spin_lock(&p->p_lock);
		pend = (p->p_siglist | l->l_siglist) & want;
		if (pend != 0) {
			sig = __builtin_ctzll(pend) + 1;
			take(p, l, sig, si);
			gpi_spin_unlock(&p->p_lock);
			atomic_fetch_sub(&sig_waiters, 1);
			return sig;
		}
		gpi_spin_unlock(&p->p_lock);
		error = gpi_tsleep(&sig_gen, &sig_gen, gen, GPI_PCATCH,
		    deadline);
		atomic_fetch_sub(&sig_waiters, 1);
		if (error == ETIMEDOUT)
			return -EAGAIN;
		if (error == EINTR && !gpi_userret_restart(l))
			return -EINTR;
	}
}

/*
 * sigsuspend on (l): wait with (mask) as its mask until a signal is
 * delivered (its handler runs with that mask), then restore the old one.
 */
void
gpi_sig_suspend(struct gp_lwp *l, const sigset_t *mask)
{
	uint64_t old = __atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED);
	int gen, error;

	__atomic_store_n(&l->l_sigmask, set_to_mask(mask) & ~CANTMASK,
	    __ATOMIC_RELAXED);
	for (;;) {
		atomic_fetch_add(&sig_waiters, 1);
		gen = atomic_load(&sig_gen);
		if (gpi_sig_pending(l)) {
			atomic_fetch_sub(&sig_waiters, 1);
			break;
		}
		error = gpi_tsleep(&sig_gen, &sig_gen, gen, GPI_PCATCH, 0);
		atomic_fetch_sub(&sig_waiters, 1);
		if (error == EINTR || gpi_sig_pending(l) ||
		    (atomic_load(&l->l_flags) & GPI_LWP_WEXIT))
			break;
	}
	/*
	 * Handlers run (or the LWP dies) with the temporary mask.  A signal
	 * posted while the old mask blocked it set no AST, and gpi_userret
	 * looks at nothing else: unblocked by the new mask it is delivered
	 * here, as sigprocmask does.  Without this sigsuspend returned at
	 * once with no handler run, and nginx's master, which blocks
	 * SIGCHLD between its sigsuspends, spun for ever over a SIGCHLD
	 * that came while it was signalling its workers.
	 */
	atomic_fetch_or(&l->l_flags, GPI_LWP_AST);
	gpi_userret();
	__atomic_store_n(&l->l_sigmask, old, __ATOMIC_RELAXED);
}

/*
 * sigpending on (l): the signals pending on its process or on it alone
 * that l blocks.
 */
void
gpi_sig_pendingset(struct gp_lwp *l, sigset_t *set)
{
	mask_to_set((__atomic_load_n(&l->l_proc->p_siglist, __ATOMIC_RELAXED) |
	    __atomic_load_n(&l->l_siglist, __ATOMIC_RELAXED)) &
	    __atomic_load_n(&l->l_sigmask, __ATOMIC_RELAXED), set);
}

/* ------------------------------------------------------------ spawn/exec */

/* posix_spawn inheritance: ignored stays ignored, mask inherited. */
void
gpi_sig_fork(struct gp_proc *pp, struct gp_lwp *parent, struct gp_proc *p,
    struct gp_lwp *l)
{
	if (pp != &gpi_proc0)
		p->p_sigignore = __atomic_load_n(&pp->p_sigignore,
		    __ATOMIC_RELAXED) & ~SIGBIT(SIGCHLD);
	/* A child of init starts with an empty mask. */
	if (parent != NULL && pp != &gpi_proc0)
		l->l_sigmask = __atomic_load_n(&parent->l_sigmask,
		    __ATOMIC_RELAXED);
}

/* execve: caught handlers reset to default; pending and mask stay. */
void
gpi_sig_exec(struct gp_proc *p)
{
	gpi_spin_lock(&p->p_lock);
	p->p_sigcatch = 0;
	gpi_spin_unlock(&p->p_lock);
}

/*
 * An exec by the running LWP (l), whose thread's kernel mask is now its
 * green one (the preload's kernsigs_green): the green signals pending on
 * it or its process that it blocks go pending on its kernel thread, with
 * their siginfo, because the kernel keeps a thread's pending signals
 * across execve and a native program finds them pending after its exec.
 * Those it lets through would have been delivered at a signal point
 * already.  The green ones stay, for an exec that fails
 * (gpi_sig_exec_failed).  Each queued instance goes, up to EXEC_CARRY;
 * a standard signal as its sender's kill would have it (SI_QUEUE, as
 * only the main thread may queue SI_USER: gpi_sig_requeue).  Returns the
 * signals made pending.
 */
#define EXEC_CARRY	16		/* siginfos on the caller's stack */

uint64_t
gpi_sig_exec_carry(struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;
	struct gpi_sigq *tails[2], *q;
	siginfo_t si[EXEC_CARRY];
	uint64_t set, bare;
	int i, n = 0, sig;

	gpi_spin_lock(&p->p_lock);
	set = (p->p_siglist | l->l_siglist) & l->l_sigmask;
	for (sig = 1; sig <= NSIGS; sig++)
		if (!gpi_sig_kernel_follows(sig))
			set &= ~SIGBIT(sig);
	bare = set;
	tails[0] = l->l_sigq;
	tails[1] = p->p_sigq;
	for (i = 0; i < 2; i++) {
		if ((q = tails[i]) == NULL)
			continue;
		do {			/* circular, from the oldest */
			q = q->q_next;
			sig = q->q_info.si_signo;
			if (!(set & SIGBIT(sig)))
				continue;
			bare &= ~SIGBIT(sig);
			if (n < EXEC_CARRY)
				si[n++] = q->q_info;
		} while (q != tails[i]);
	}
	gpi_spin_unlock(&p->p_lock);
	for (sig = 1; sig <= NSIGS && n < EXEC_CARRY; sig++)
		if (bare & SIGBIT(sig))
			sender_info(&si[n++], sig, SI_USER, NULL);
	for (i = 0; i < n; i++)
		gpi_sig_requeue(l->l_worker->w_tid, &si[i]);
	return set;
}

/* The exec failed: its thread takes back what gpi_sig_exec_carry sent. */
void
gpi_sig_exec_failed(uint64_t set)
{
	const struct timespec zero = { 0, 0 };
	sigset_t s;

	if (set == 0)
		return;
	mask_to_set(set, &s);
	while (sigtimedwait(&s, NULL, &zero) > 0)
		;
}

/*
 * At reap.  NOTE: the handler table is not freed here: it is part of the
 * struct's constructed state (internal.h, Lifetime) and is reused, stale,
 * by the next process in the struct -- proc_alloc clears p_sigcatch, and
 * no entry is read without its bit.  Freeing it at every reap made each
 * catching process a 10 KB malloc and free on whatever threads spawned
 * and reaped it, and the workers' malloc arenas kept the pages those
 * touched (a thread arena's top is never trimmed): RSS that crept for as
 * long as the soak ran (docs/ARCHITECTURE.md, section 22).  The table
 * goes back to malloc with its struct (gpi_sig_destroy).
 */
void
gpi_sig_free(struct gp_proc *p)
{
	sigq_discard(&p->p_sigq, ~(uint64_t)0);	/* unreachable: no lock */
	if (p->p_watchfd >= 0)
		gpi_rtfd_close(p->p_watchfd);
	p->p_watchfd = -1;
}

/* ------------------------------------------------------------ watch */

/*
 * KNOTE(NOTE_EXIT): an eventfd that becomes readable when (pid) exits.
 * The process keeps the eventfd and hands out duplicates, so a caller
 * closing its copy early is harmless and nothing is ever written to a
 * descriptor the caller may have reused.
 */
int
gp_proc_watch(pid_t pid)
{
	struct gp_proc *p;
	int fd = -1, error = 0;

	gpi_rcu_read_lock();
	if (!GP_IS_GREEN(pid) || (p = gpi_pfind(pid)) == NULL ||
	    p == &gpi_proc0) {
		gpi_rcu_read_unlock();
		errno = ESRCH;
		return -1;
	}
	if (!gpi_proc_lock_pid(p, pid)) {
		gpi_rcu_read_unlock();
		errno = ESRCH;
		return -1;
	}
	if (p->p_watchfd < 0 && (p->p_watchfd = GPI_FAILPT(GPI_FAIL_FD) ?
	    (errno = EMFILE, -1) : gpi_rtfd_keep(GPI_LIBC(eventfd)(
	    p->p_stat == GPI_SZOMB ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK))) < 0)
		error = errno;
	else if ((fd = GPI_FAILPT(GPI_FAIL_FD) ? (errno = EMFILE, -1) :
	    GPI_LIBC(fcntl)(p->p_watchfd, F_DUPFD_CLOEXEC, 0)) < 0)
		error = errno;
	gpi_spin_unlock(&p->p_lock);
	gpi_rcu_read_unlock();
	if (error != 0) {
		errno = error;
		return -1;
	}
	gpi_fd_opened(fd);	/* the caller's, closed at its exit */
	return fd;
}

/* exit1's KNOTE: wake the watchers.  Caller holds p->p_lock. */
void
gpi_watch_exit(struct gp_proc *p)
{
	uint64_t one = 1;

	GPI_LOCK_ASSERT(&p->p_lock);
	if (p->p_watchfd >= 0 &&
	    gpi_sys_write(p->p_watchfd, &one, sizeof(one)) < 0)
		return;		/* EAGAIN: already readable */
}

/* The struct goes back to malloc (pool trimming, shutdown). */
void
gpi_sig_destroy(struct gp_proc *p)
{
	if (p->p_sigacts == NULL)
		return;
	free(p->p_sigacts);
	p->p_sigacts = NULL;
	atomic_fetch_sub_explicit(&nsigacts, 1, memory_order_relaxed);
}

/* Bytes of malloc chunks the tables hold (gpi_proc_held). */
size_t
gpi_sig_held(void)
{
	size_t sz = (sizeof(struct gpi_sigacts) + 8 + 15) & ~(size_t)15;

	return (size_t)atomic_load_explicit(&nsigacts, memory_order_relaxed) *
	    sz;
}
