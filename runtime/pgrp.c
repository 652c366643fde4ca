/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pgrp.c -- process ids and groups, and reaper status (DragonFly
 * kern_prot.c's getpid/setpgid and procctl(PROC_REAP_*)).  Groups are
 * not objects: a group is the processes whose p_pgid names it, found by
 * a walk of the pid table (pid.c) under RCU.
 */
#include "internal.h"

/* ------------------------------------------------------------ ids, groups */

pid_t
gp_getpid(void)
{
	return gpi_curproc()->p_pid;
}

pid_t
gp_getppid(void)
{
	struct gp_proc *p = gpi_curproc(), *pp;
	pid_t pid;

	if (p == &gpi_proc0)
		return 0;		/* as the real init's */
	/* Locked: an unlocked parent could be reaped and reused meanwhile. */
	pp = gpi_lock_parent(p);
	pid = pp->p_pid;
	gpi_spin_unlock(&pp->p_lock);
	return pid;
}

pid_t
gp_getpgid(pid_t pid)
{
	struct gp_proc *p;
	pid_t pgid;

	if (pid == 0)
		return gpi_curproc()->p_pgid;
	gpi_rcu_read_lock();
	if ((p = gpi_pfind(pid)) == NULL || !gpi_proc_lock_pid(p, pid)) {
		gpi_rcu_read_unlock();
		errno = ESRCH;
		return -1;
	}
	pgid = __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED);
	gpi_spin_unlock(&p->p_lock);
	gpi_rcu_read_unlock();
	return pgid;
}

/*
 * Count the members of group (pgid) that satisfy (what).  A scan of the
 * pid table: groups are not kept as objects, so this costs O(procs); it
 * runs only for setpgid, group kills and job control, never on the
 * spawn/exit/wait fast paths.  Caller is inside gpi_rcu_read_lock().
 *
 * NOTE: a zombie stays in its group until it is reaped, as in kern_wait,
 * which calls leavepgrp only when it reaps: so a group whose members have
 * all exited still exists for setpgid (and for a group kill, which finds
 * it and signals nobody) until its parent waits.  The job-control counts
 * (LINKED, STOPPED) are of members that still run: exit1 takes a dying
 * process out of them (fixjobc) before it becomes a zombie.
 */
int
gpi_pgrp_scan(pid_t pgid, int what)
{
	struct gp_proc *p, *pp;
	int i, count = 0, n;

	n = gpi_pidtab_end();
	for (i = 0; i < n; i++) {
		p = gpi_pidtab_get(i);
		if (p == NULL || __atomic_load_n(&p->p_pid,
		    __ATOMIC_RELAXED) == 0 ||
		    __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED) != pgid)
			continue;
		if (what != GPI_PGRP_MEMBERS && (__atomic_load_n(&p->p_stat,
		    __ATOMIC_RELAXED) == GPI_SZOMB ||
		    (gpi_pflags(p) & GPI_P_WEXIT)))
			continue;
		switch (what) {
		case GPI_PGRP_MEMBERS:
			count++;
			break;
		case GPI_PGRP_LINKED:
			/* Header fields only: p or pp may be reused. */
			pp = __atomic_load_n(&p->p_pptr, __ATOMIC_ACQUIRE);
			if (pp != NULL && pp != &gpi_proc0 &&
			    __atomic_load_n(&pp->p_pgid,
			    __ATOMIC_RELAXED) != pgid)
				count++;
			break;
		case GPI_PGRP_STOPPED:
			if (gpi_pflags(p) & GPI_P_STOPPED)
				count++;
			break;
		}
	}
	return count;
}

/*
 * Call fn on every green process in group (pgid), or on every one but
 * (self) if pgid is 0; on zombies too if (zombies).  Caller is inside
 * gpi_rcu_read_lock(); fn must not switch.
 */
void
gpi_proc_foreach(pid_t pgid, struct gp_proc *self, bool zombies,
    void (*fn)(struct gp_proc *, pid_t, void *), void *arg)
{
	struct gp_proc *p;
	pid_t pid;
	int i, n;

	n = gpi_pidtab_end();
	for (i = 0; i < n; i++) {
		p = gpi_pidtab_get(i);
		/* Header fields only; fn rechecks (pid) under p_lock. */
		if (p == NULL || (pid = __atomic_load_n(&p->p_pid,
		    __ATOMIC_RELAXED)) == 0 || (!zombies &&
		    __atomic_load_n(&p->p_stat, __ATOMIC_RELAXED) ==
		    GPI_SZOMB))
			continue;
		if (pgid != 0 ? __atomic_load_n(&p->p_pgid,
		    __ATOMIC_RELAXED) != pgid : p == self)
			continue;
		fn(p, pid, arg);
	}
}

static bool
pgrp_exists(pid_t pgid)
{
	return gpi_pgrp_scan(pgid, GPI_PGRP_MEMBERS) > 0;
}

/*
 * setpgid(2) for green processes.  All green processes form one session
 * (init stands outside it), so the POSIX rules reduce to: (pid) is the
 * caller or a child of it (ESRCH), a child that has not run gp_exec
 * (EACCES); (pgid) is (pid) itself or an existing group (EPERM).  Init
 * may regroup any of its children, but has no group to change.
 */
int
gp_setpgid(pid_t pid, pid_t pgid)
{
	struct gp_proc *q = gpi_curproc(), *p;
	pid_t own;
	int error = 0;

	if (pgid < 0) {
		errno = EINVAL;
		return -1;
	}
	gpi_rcu_read_lock();
	if (pid == 0 || pid == q->p_pid) {
		p = q;
	} else if ((p = gpi_pfind(pid)) == NULL ||
	    __atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED) != q) {
		error = ESRCH;
		goto out;
	}
	if (p == &gpi_proc0) {
		error = EPERM;
		goto out;
	}
	/*
	 * A child's p_pid may be cleared by its reap under us: read once.
	 * A reaped child (0) is caught by the identity check below.
	 */
	own = gpi_proc_pid(p);
	if (pgid == 0)
		pgid = own;
	if (pgid != own && !pgrp_exists(pgid)) {
		error = EPERM;
		goto out;
	}
	if (p != q) {
		/* p_pptr is stable under the parent's (our) lock. */
		gpi_spin_lock(&q->p_lock);
		/* The pid too: p may have been reaped and reused since. */
		if (p->p_pptr != q || gpi_proc_pid(p) != pid ||
		    p->p_stat == GPI_SZOMB)
			error = ESRCH;
		else if (gpi_pflags(p) & GPI_P_EXEC)
			error = EACCES;
		else
			__atomic_store_n(&p->p_pgid, pgid, __ATOMIC_RELAXED);
		gpi_spin_unlock(&q->p_lock);
	} else {
		__atomic_store_n(&p->p_pgid, pgid, __ATOMIC_RELAXED);
	}
out:
	gpi_rcu_read_unlock();
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ reapers */

/*
 * procctl(PROC_REAP_ACQUIRE): orphans of the caller's descendants come
 * to it instead of init.  Init already adopts every orphan.
 */
int
gp_reaper_acquire(void)
{
	struct gp_proc *p = gpi_curproc();

	if (p == &gpi_proc0)
		return 0;
	gpi_spin_lock(&p->p_lock);
	gpi_pflags_set(p, GPI_P_REAPER);
	gpi_spin_unlock(&p->p_lock);
	return 0;
}

/*
 * Give up reaper status.  Children already adopted stay; later orphans
 * go further up.  Releasing without holding it is EINVAL (procctl).
 */
int
gp_reaper_release(void)
{
	struct gp_proc *p = gpi_curproc();
	int error = 0;

	if (p == &gpi_proc0) {
		errno = EINVAL;
		return -1;
	}
	gpi_spin_lock(&gpi_reparent_lock);
	gpi_spin_lock(&p->p_lock);
	if (gpi_pflags(p) & GPI_P_REAPER)
		gpi_pflags_clear(p, GPI_P_REAPER);
	else
		error = EINVAL;
	gpi_spin_unlock(&p->p_lock);
	gpi_spin_unlock(&gpi_reparent_lock);
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}
