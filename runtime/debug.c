/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * debug.c -- gp_dump: every green process and each of its LWPs.
 *
 * The walk is an RCU read of the pid table plus each process's p_lock
 * for its LWP list, so a dump never stalls an exit for longer than one
 * list walk and never sees freed memory.  An LWP's state is read racily
 * (it may change while we print): a dump is a snapshot, not a barrier.
 *
 * Each LWP is listed with its id, state and stack, then its backtrace
 * (unwind.c: libunwind, loaded with dlopen on first use, on a snapshot of
 * the suspended LWP's stack; a running LWP is shown as running).
 *
 * NOTE: no I/O and no unwinding under p_lock.  Under it, dump_lwps only
 * copies: each LWP's id, state and stack bounds, and its stack snapshot
 * (gpi_unwind_take).  p_lock keeps every LWP on p_lwps, hence its stack
 * and struct, mapped while we copy; once it is dropped an LWP may exit
 * and its stack be cached, reused or unmapped, so from then on nothing
 * of it is read: the walk and the printing use the copies only.  An LWP
 * whose walk is not whole is looked for again under p_lock, by address
 * and id, and taken again (bounded: DUMP_RETAKES a process); one gone by
 * then is printed from what was taken.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *
lwp_state(const struct gp_lwp *l)
{
	switch (__atomic_load_n(&l->l_stat, __ATOMIC_RELAXED)) {
	case GPI_LIDL:
		return "new";
	case GPI_LRUN:
		return "runnable";
	case GPI_LONPROC:
		return "running";
	case GPI_LSLEEP:
		return "sleeping";
	default:
		return "exiting";
	}
}

/* Retakes a process may ask for: bounds the list walks under p_lock. */
#define DUMP_RETAKES	32
#define DUMP_TAKES	6	/* takes of one LWP (unwind.c's UW_TRIES) */

/* What dump_lwps prints of an LWP, copied under p_lock. */
struct dump_lwp {
	const struct gp_lwp *d_lwp;	/* identity only: never read unlocked */
	int		 d_tid;
	const char	*d_state;
	bool		 d_intr;	/* sleeping interruptibly */
	void		*d_stklo;
	size_t		 d_stksize;
	int		 d_worker;	/* w_id of a started one's, or -1 */
	struct gpi_unwind *d_uw;
};

/* Copy (l) into (d).  Caller holds p_lock with (l) on p_lwps. */
static void
dump_take(struct dump_lwp *d, const struct gp_lwp *l)
{
	struct gp_worker *w;

	GPI_LOCK_ASSERT(&l->l_proc->p_lock);
	d->d_lwp = l;
	d->d_tid = l->l_tid;
	d->d_state = lwp_state(l);
	d->d_intr = __atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) ==
	    GPI_LSLEEP && (l->l_sleeper.s_flags & GPI_PCATCH);
	d->d_stklo = l->l_stklo;
	d->d_stksize = l->l_stksize;
	/* Fixed once started; a new one's may still be stolen: not shown. */
	w = __atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) != GPI_LIDL ?
	    __atomic_load_n(&l->l_worker, __ATOMIC_RELAXED) : NULL;
	d->d_worker = w != NULL ? w->w_id : -1;
	gpi_unwind_take(d->d_uw, l);
}

/* Take (d)'s LWP again if it is still on p_lwps; false if it is gone. */
static bool
dump_retake(struct gp_proc *p, struct dump_lwp *d)
{
	struct gp_lwp *l;

	gpi_spin_lock(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (l == d->d_lwp && l->l_tid == d->d_tid)
			break;
	if (l != NULL)
		gpi_unwind_take(d->d_uw, l);
	gpi_spin_unlock(&p->p_lock);
	return l != NULL;
}

static void
dump_lwps(struct gp_proc *p, FILE *out)
{
	struct dump_lwp *d = NULL, *nd;
	struct gp_lwp *l;
	size_t i, n, cap = 0;
	int takes, retakes = DUMP_RETAKES;
	bool gone;

	/* Room for every LWP, made before p_lock (a loop: they come and go). */
	for (;;) {
		gpi_spin_lock(&p->p_lock);
		for (n = 0, l = p->p_lwps; l != NULL; l = l->l_pnext)
			n++;
		if (n <= cap)
			break;
		gpi_spin_unlock(&p->p_lock);
		if ((nd = realloc(d, (n + 4) * sizeof(*d))) == NULL)
			goto nomem;
		d = nd;
		for (; cap < n + 4; cap++)
			if ((d[cap].d_uw = gpi_unwind_new()) == NULL)
				goto nomem;
	}
	for (i = 0, l = p->p_lwps; l != NULL; l = l->l_pnext)
		dump_take(&d[i++], l);
	gpi_spin_unlock(&p->p_lock);

	for (i = 0; i < n; i++) {
		fprintf(out, "    lwp %-8d %-9s stack %p+%zu", d[i].d_tid,
		    d[i].d_state, d[i].d_stklo, d[i].d_stksize);
		if (d[i].d_worker >= 0)
			fprintf(out, " worker %d", d[i].d_worker);
		fprintf(out, "%s\n", d[i].d_intr ? " (interruptible)" : "");
		gone = false;
		for (takes = 1; gpi_unwind_show(d[i].d_uw, out, "      ",
		    gone || takes == DUMP_TAKES || retakes == 0) == 1;
		    takes++) {
			if (takes >= 2)
				gpi_os_yield();	/* its worker may be preempted */
			retakes--;
			/* Gone: show what was taken. */
			gone = !dump_retake(p, &d[i]);
		}
	}
	goto out;
nomem:
	fprintf(out, "    (LWPs not shown: out of memory)\n");
out:
	for (i = 0; i < cap; i++)
		gpi_unwind_free(d[i].d_uw);
	free(d);
}

static void
dump_one(struct gp_proc *p, pid_t pid, void *arg)
{
	FILE *out = arg;
	char comm[sizeof(p->p_comm)];

	if (!gpi_proc_lock_pid(p, pid))
		return;			/* reaped meanwhile */
	memcpy(comm, p->p_comm, sizeof(comm));
	gpi_spin_unlock(&p->p_lock);
	fprintf(out, "  pid %d (%s)%s\n", (int)pid, comm,
	    (gpi_pflags(p) & GPI_P_STOPPED) ? " stopped" : "");
	dump_lwps(p, out);
}

int
gp_dump(FILE *out)
{
	if (out == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (gp_ps(out) != 0)
		return -1;
	gpi_watchdog_dump(out);
	fprintf(out, "LWPs:\n  pid %d (init)\n", (int)GP_PID_INIT);
	dump_lwps(&gpi_proc0, out);
	gpi_rcu_read_lock();
	gpi_proc_foreach(0, NULL, false, dump_one, out);
	gpi_rcu_read_unlock();
	return 0;
}

/* -------------------------------------------------------- dump on signal */

/*
 * A dump on a signal (SIGQUIT by default, like the JVM's thread dump):
 * the handler only writes one byte to a pipe -- async-signal-safe, and
 * nothing else happens inside it -- and a dedicated thread, which reads
 * the pipe, writes the dump to stderr or to GREENPROC_DUMP_FILE.
 */
static int dump_pipe[2] = { -1, -1 };	/* (g) */
static pthread_t dump_thread;		/* (g) */
static int dump_sig;			/* (g) 0: off */
static struct sigaction dump_oldsa;	/* (g) */
/*
 * (g) above is dump_lock, not gpi_rt.rt_lock: the dump thread takes
 * rt_lock (gp_stats), so stopping it under rt_lock would deadlock.
 */
static gpi_spin_t dump_lock = GPI_SPIN_INIT(GPI_RANK_DUMP);

static void
on_dump_signal(int sig)
{
	char c = 'd';
	int saved = errno;

	(void)sig;
	if (gpi_sys_write(dump_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a dump is pending already. */
	}
	errno = saved;
}

static void *
dump_main(void *arg)
{
	const char *path;
	FILE *out;
	char c;

	(void)arg;
	while (gpi_sys_read(dump_pipe[0], &c, 1) == 1 && c == 'd') {
		path = getenv("GREENPROC_DUMP_FILE");
		out = path != NULL && *path != '\0' ?
		    GPI_LIBC(fopen)(path, "a") : stderr;
		if (out == NULL) {
			gpi_env_bad(GPI_ENV_DUMP_FILE, strerror(errno));
			out = stderr;
		}
		fprintf(out, "greenproc: dump on signal %d\n", dump_sig);
		(void)gp_dump(out);
		if (out != stderr)
			GPI_LIBC(fclose)(out);
		else
			fflush(out);
	}
	return NULL;
}

static void
dump_stop(void)
{
	char c = 'q';

	if (dump_sig == 0)
		return;
	GPI_LIBC(sigaction)(dump_sig, &dump_oldsa, NULL);
	if (gpi_sys_write(dump_pipe[1], &c, 1) == 1)
		GPI_LIBC(pthread_join)(dump_thread, NULL);
	gpi_rtfd_close(dump_pipe[0]);
	gpi_rtfd_close(dump_pipe[1]);
	dump_pipe[0] = dump_pipe[1] = -1;
	dump_sig = 0;
}

/*
 * Write a dump whenever (sig) arrives; 0 turns it off.  The runtime
 * must be up.  Returns 0, or -1 with EINVAL (a signal that cannot be
 * caught) or an error from creating the pipe or the thread.
 */
int
gp_dump_on_signal(int sig)
{
	struct sigaction sa;
	sigset_t all, old;
	int error;

	if (sig < 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP ||
	    sig == SIGSEGV || sig == SIGBUS) {
		errno = EINVAL;
		return -1;
	}
	if ((error = gpi_runtime_ensure()) != 0) {
		errno = error;
		return -1;
	}
	gpi_spin_lock(&dump_lock);
	dump_stop();
	if (sig == 0)
		goto out;
	/* The pipe is the runtime's (rtfd.c). */
	if (GPI_LIBC(pipe2)(dump_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		error = errno;
		goto out;
	}
	dump_pipe[0] = gpi_rtfd_keep(dump_pipe[0]);
	error = dump_pipe[0] < 0 ? errno : 0;
	dump_pipe[1] = gpi_rtfd_keep(dump_pipe[1]);
	if (error != 0 || dump_pipe[1] < 0) {
		error = error != 0 ? error : errno;
		gpi_rtfd_close(dump_pipe[0]);
		gpi_rtfd_close(dump_pipe[1]);
		dump_pipe[0] = dump_pipe[1] = -1;
		goto out;
	}
	/* The reader blocks; only the signal handler's end is nonblocking. */
	GPI_LIBC(fcntl)(dump_pipe[0], F_SETFL, 0);
	/* The thread takes no signals itself (the handler runs elsewhere). */
	sigfillset(&all);
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &all, &old);
	error = GPI_LIBC(pthread_create)(&dump_thread, NULL, dump_main,
	    NULL);
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		gpi_rtfd_close(dump_pipe[0]);
		gpi_rtfd_close(dump_pipe[1]);
		dump_pipe[0] = dump_pipe[1] = -1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_dump_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	GPI_LIBC(sigaction)(sig, &sa, &dump_oldsa);
	dump_sig = sig;
out:
	gpi_spin_unlock(&dump_lock);
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

/* gp_init: GREENPROC_DUMP_SIGNAL=QUIT (or a number) asks for it. */
void
gpi_dump_init(void)
{
	int sig = (int)gpi_env(GPI_ENV_DUMP_SIGNAL);

	if (sig != 0 && gp_dump_on_signal(sig) != 0)
		gpi_env_bad(GPI_ENV_DUMP_SIGNAL, errno == EINVAL ?
		    "a signal gp_dump_on_signal cannot take" : strerror(errno));
}

/* gp_shutdown, before it takes gpi_rt.rt_lock (see dump_lock). */
void
gpi_dump_fini(void)
{
	gpi_spin_lock(&dump_lock);
	dump_stop();
	gpi_spin_unlock(&dump_lock);
}

/* ------------------------------------------------------------ gp_ps */

/* STAT for gp_ps; caller holds p->p_lock. */
static char
proc_state(struct gp_proc *p)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	if (p->p_stat == GPI_SZOMB)
		return 'Z';
	if (gpi_pflags(p) & GPI_P_STOPPED)
		return 'T';
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (__atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) !=
		    GPI_LSLEEP)
			return 'R';
	return 'S';
}

/*
 * One line per green process: PID PPID PGID STAT NLWP NFD TIME NAME
 * (NFD: the descriptors it owns, fd.c).  Never stalls an exit: the walk
 * is an RCU read of the pid table, and each line is copied under that
 * process's lock, then printed.
 */
int
gp_ps(FILE *out)
{
	struct gp_counters st;
	struct gp_proc *p;
	struct timeval tv;
	struct {
		pid_t	 pid, ppid, pgid;
		int	 nlwp, nfd;
		char	 stat;
		char	 comm[sizeof(p->p_comm)];
	} row;
	int i, n;

	if (out == NULL) {
		errno = EINVAL;
		return -1;
	}
	fprintf(out, "%10s %10s %10s %4s %4s %5s %9s %s\n", "PID", "PPID",
	    "PGID", "STAT", "NLWP", "NFD", "TIME", "NAME");
	if (gpi_pidtab_end() < 0)
		return 0;
	gpi_rcu_read_lock();
	n = gpi_pidtab_end();
	for (i = 0; i < n; i++) {
		if ((p = gpi_pidtab_lock(i)) == NULL)
			continue;
		row.pid = p->p_pid;
		/* p_pptr moves under the parent's lock, not ours. */
		row.ppid = __atomic_load_n(&__atomic_load_n(&p->p_pptr,
		    __ATOMIC_ACQUIRE)->p_pid, __ATOMIC_RELAXED);
		row.pgid = p->p_pgid;
		row.nlwp = atomic_load(&p->p_nthreads);
		row.nfd = gpi_phost(p) != NULL ? atomic_load_explicit(
		    &gpi_phost(p)->h_nfds, memory_order_relaxed) : 0;
		row.stat = proc_state(p);
		memcpy(row.comm, p->p_comm, sizeof(row.comm));
		gpi_ticks_to_timeval(__atomic_load_n(&p->p_ru.ru_ticks,
		    __ATOMIC_RELAXED), &tv);
		gpi_spin_unlock(&p->p_lock);
		fprintf(out, "%10d %10d %10d %4c %4d %5d %3ld:%02ld.%02ld "
		    "%s\n", (int)row.pid, (int)row.ppid, (int)row.pgid,
		    row.stat, row.nlwp, row.nfd, (long)tv.tv_sec / 60,
		    (long)tv.tv_sec % 60,
		    (long)tv.tv_usec / 10000, row.comm);
	}
	gpi_rcu_read_unlock();
	/* Footer: the runtime's counters (gp_stats). */
	if (gp_stats(&st) == 0)
		fprintf(out, "-- procs %ld lwps %ld stacks %ld workers %ld | "
		    "spawns %lu exits %lu reaps %lu | lwps created %lu "
		    "reaped %lu | switches %lu steals %lu\n", st.live_procs,
		    st.live_lwps, st.live_stacks, st.nworkers, st.spawns,
		    st.exits, st.reaps, st.lwps_created, st.lwps_reaped,
		    st.switches, st.steals);
	return 0;
}
