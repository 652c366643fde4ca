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

static void
dump_lwps(struct gp_proc *p, FILE *out)
{
	struct gp_lwp *l;

	gpi_spin_lock(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext) {
		fprintf(out, "    lwp %-8d %-9s stack %p+%zu%s\n", l->l_tid,
		    lwp_state(l), l->l_stklo, l->l_stksize,
		    __atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) ==
		    GPI_LSLEEP && (l->l_sleeper.s_flags & GPI_PCATCH) ?
		    " (interruptible)" : "");
		/* p_lock keeps l on p_lwps, so it is not freed meanwhile. */
		(void)gpi_unwind_lwp(l, out, "      ");
	}
	gpi_spin_unlock(&p->p_lock);
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
	    (__atomic_load_n(&p->p_flags, __ATOMIC_RELAXED) & GPI_P_STOPPED) ?
	    " stopped" : "");
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
	gpi_unwind_warm();	/* not under p_lock: the first load is slow */
	fprintf(out, "LWPs:\n  pid %d (init)\n", (int)GP_PID_INIT);
	dump_lwps(&gpi_proc0, out);
	gpi_rcu_read_lock();
	gpi_proc_foreach(0, NULL, dump_one, out);
	gpi_rcu_read_unlock();
	return 0;
}

/* ------------------------------------------------------------ dump on signal */

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
static gpi_spin_t dump_lock = GPI_SPIN_INIT;

static void
on_dump_signal(int sig)
{
	char c = 'd';
	int saved = errno;

	(void)sig;
	if (write(dump_pipe[1], &c, 1) < 0) {
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
	while (read(dump_pipe[0], &c, 1) == 1 && c == 'd') {
		path = getenv("GREENPROC_DUMP_FILE");
		out = path != NULL && *path != '\0' ? fopen(path, "a") : stderr;
		if (out == NULL)
			continue;
		fprintf(out, "greenproc: dump on signal %d\n", dump_sig);
		(void)gp_dump(out);
		if (out != stderr)
			fclose(out);
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
	if (write(dump_pipe[1], &c, 1) == 1)
		GPI_LIBC(pthread_join)(dump_thread, NULL);
	close(dump_pipe[0]);
	close(dump_pipe[1]);
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
	if (pipe2(dump_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		error = errno;
		goto out;
	}
	/* The reader blocks; only the signal handler's end is nonblocking. */
	fcntl(dump_pipe[0], F_SETFL, 0);
	/* The thread takes no signals itself (the handler runs elsewhere). */
	sigfillset(&all);
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &all, &old);
	error = GPI_LIBC(pthread_create)(&dump_thread, NULL, dump_main,
	    NULL);
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		close(dump_pipe[0]);
		close(dump_pipe[1]);
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
	const char *e = getenv("GREENPROC_DUMP_SIGNAL");
	int sig;

	if (e == NULL || *e == '\0')
		return;
	if (strncmp(e, "SIG", 3) == 0)
		e += 3;
	if (strcmp(e, "QUIT") == 0)
		sig = SIGQUIT;
	else if (strcmp(e, "USR1") == 0)
		sig = SIGUSR1;
	else if (strcmp(e, "USR2") == 0)
		sig = SIGUSR2;
	else if ((sig = atoi(e)) <= 0)
		return;
	(void)gp_dump_on_signal(sig);
}

/* gp_shutdown, before it takes gpi_rt.rt_lock (see dump_lock). */
void
gpi_dump_fini(void)
{
	gpi_spin_lock(&dump_lock);
	dump_stop();
	gpi_spin_unlock(&dump_lock);
}
