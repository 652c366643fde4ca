/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * debug.c -- gp_dump: every green process and each of its LWPs.
 *
 * The walk is an RCU read of the pid table plus each process's p_lock
 * for its LWP list, so a dump never stalls an exit for longer than one
 * list walk and never sees freed memory.  An LWP's state is read racily
 * (it may change while we print): a dump is a snapshot, not a barrier.
 *
 * Backtraces of suspended LWPs (libunwind, loaded with dlopen on first
 * use) are not part of this version: each LWP is listed with its id,
 * state, stack and what it sleeps on.
 */
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
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		fprintf(out, "    lwp %-8d %-9s stack %p+%zu%s\n", l->l_tid,
		    lwp_state(l), l->l_stklo, l->l_stksize,
		    __atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) ==
		    GPI_LSLEEP && (l->l_sleeper.s_flags & GPI_PCATCH) ?
		    " (interruptible)" : "");
	gpi_spin_unlock(&p->p_lock);
}

static void
dump_one(struct gp_proc *p, void *arg)
{
	FILE *out = arg;

	fprintf(out, "  pid %d (%s)%s\n", (int)p->p_pid, p->p_comm,
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
	fprintf(out, "LWPs:\n  pid %d (init)\n", (int)GP_PID_INIT);
	dump_lwps(&gpi_proc0, out);
	gpi_rcu_read_lock();
	gpi_proc_foreach(0, NULL, dump_one, out);
	gpi_rcu_read_unlock();
	return 0;
}
