/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * model.c -- what Linux does with a sequence, as far as the generator
 * needs to know: which processes exist, their states, parents, groups
 * and pending reports.  The generator uses it to emit only operations
 * whose outcome is deterministic; the executors use it to know which
 * state to wait for after each step (docs/DIFFTEST.md).
 *
 * NOTE: the model only predicts; the transcripts compare what the two
 * systems actually did.  A wrong prediction costs a settle timeout
 * (counted, and reported at the end), not a false divergence.
 */
#include <string.h>
#include <sys/wait.h>

#include "diff.h"

void
model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->n = 1;
	m->busy = -1;
	m->p[0].st = M_RUN;
	m->p[0].pgid = -2;		/* init is in no group (green) */
}

bool
model_eq(const struct model *a, const struct model *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct mproc *x = &a->p[i], *y = &b->p[i];

		if (x->st != y->st || x->ppid != y->ppid || x->pgid != y->pgid ||
		    x->caught != y->caught || x->pend != y->pend ||
		    x->pendfatal != y->pendfatal ||
		    x->rep != y->rep || x->xst != y->xst)
			return false;
	}
	return true;
}

static bool
live(const struct mproc *p)
{
	return p->st == M_RUN || p->st == M_STOP;
}

/*
 * Linux's find_new_reaper(): the nearest ancestor that is a subreaper
 * and not exiting, else the real root's own subreaper, which the
 * transcripts call init (and which reaps at once, as green init does).
 */
static int
find_reaper(const struct model *m, int x)
{
	int q;

	for (q = m->p[x].ppid; q > 0; q = m->p[q].ppid)
		if (m->p[q].reaper && live(&m->p[q]))
			return q;
	return PP_INIT_ADOPTED;
}

/* Process (x) ends with wait status (xst). */
static void
die(struct model *m, int x, int xst)
{
	struct mproc *p = &m->p[x];
	int c, r, pp;

	for (c = 1; c < m->n; c++) {
		struct mproc *cp = &m->p[c];

		if (cp->ppid != x || cp->st == M_NONE || cp->st == M_GONE)
			continue;
		r = find_reaper(m, x);
		cp->ppid = r;
		/* A zombie orphan is reaped at once by init or by a reaper
		 * that does not wait (Linux reparent_leader()). */
		if (cp->st == M_ZOMB && (r == PP_INIT_ADOPTED || m->p[r].nocld))
			cp->st = M_GONE;
	}
	p->st = M_ZOMB;
	p->xst = xst;
	p->rep = R_EXIT;
	p->pend = false;
	p->pendfatal = 0;
	p->reaper = false;
	pp = p->ppid;
	if (pp == PP_INIT_ADOPTED || (pp > 0 && m->p[pp].nocld))
		p->st = M_GONE;
}

static void
signal_one(struct model *m, int t, int sig)
{
	struct mproc *p = &m->p[t];

	if (!live(p))
		return;
	/*
	 * A stopped process acts on SIGKILL and SIGCONT only: another fatal
	 * signal waits until it continues (Linux's wants_signal(), BSD).
	 */
	if (p->st == M_STOP && (sig == SIGTERM || (sig == SIGUSR1 &&
	    !p->catching))) {
		if (p->pendfatal == 0 || sig < p->pendfatal)
			p->pendfatal = sig;
		return;
	}
	switch (sig) {
	case SIGKILL:
	case SIGTERM:
		die(m, t, sig);
		break;
	case SIGUSR1:
		if (!p->catching)
			die(m, t, sig);
		else if (p->st == M_STOP)
			p->pend = true;
		else
			p->caught++;
		break;
	case SIGSTOP:
		if (p->st == M_RUN) {
			p->st = M_STOP;
			p->rep = (p->rep & ~R_CONT) | R_STOP;
		}
		break;
	case SIGCONT:
		if (p->st == M_STOP) {
			p->st = M_RUN;
			p->rep = (p->rep & ~R_STOP) | R_CONT;
			/* Pending signals go lowest first: USR1 before TERM. */
			if (p->pend) {
				p->pend = false;
				p->caught++;
			}
			if (p->pendfatal != 0)
				die(m, t, p->pendfatal);
		}
		break;
	}
}

/* Does child (c) of (w) match the selector? */
static bool
selected(const struct model *m, int w, int sel, int id, int c)
{
	const struct mproc *cp = &m->p[c];

	if (cp->ppid != w || cp->st == M_NONE || cp->st == M_GONE)
		return false;
	switch (sel) {
	case SEL_PID:	 return c == id;
	case SEL_ANY:	 return true;
	case SEL_OWNGRP: return cp->pgid == m->p[w].pgid;
	default:	 return cp->pgid == id;
	}
}

/* The R_* reports a wait with (kind, options) takes; 0 for EINVAL. */
static int
wait_wants(int kind, int opts)
{
	int want = 0;

	if (kind == OP_WAITPID) {
		if (opts & WNOWAIT)
			return 0;
		return R_EXIT | ((opts & WUNTRACED) ? R_STOP : 0) |
		    ((opts & WCONTINUED) ? R_CONT : 0);
	}
	if (opts & WEXITED)
		want |= R_EXIT;
	if (opts & WSTOPPED)
		want |= R_STOP;
	if (opts & WCONTINUED)
		want |= R_CONT;
	return want;
}

int
model_wait_scan(const struct model *m, const struct op *op, int *nmatch,
    int *nrep)
{
	int want = wait_wants(op->kind, op->c), c, first = -1;

	*nmatch = *nrep = 0;
	if (want == 0)
		return -1;
	for (c = 1; c < m->n; c++) {
		if (!selected(m, op->actor, op->a, op->b, c))
			continue;
		(*nmatch)++;
		if (m->p[c].rep & want) {
			if (first < 0)
				first = c;
			(*nrep)++;
		}
	}
	return first;
}

/* How many children the wait selects that are not zombies. */
int
model_live_match(const struct model *m, const struct op *op)
{
	int c, n = 0;

	for (c = 1; c < m->n; c++)
		if (selected(m, op->actor, op->a, op->b, c) && live(&m->p[c]))
			n++;
	return n;
}

static int
do_wait(struct model *m, const struct op *op)
{
	int nmatch, nrep, c, want = wait_wants(op->kind, op->c);
	bool nowait = op->kind == OP_WAITID && (op->c & WNOWAIT);
	struct mproc *cp;

	c = model_wait_scan(m, op, &nmatch, &nrep);
	if (c < 0 || nowait)
		return c;
	cp = &m->p[c];
	if (cp->rep & want & R_EXIT)
		cp->st = M_GONE;
	else if (cp->rep & want & R_STOP)
		cp->rep &= ~R_STOP;
	else
		cp->rep &= ~R_CONT;
	return c;
}

static bool
group_exists(const struct model *m, int g)
{
	int j;

	for (j = 1; j < m->n; j++)
		if (m->p[j].pgid == g && m->p[j].st != M_NONE &&
		    m->p[j].st != M_GONE)
			return true;
	return false;
}

int
model_apply(struct model *m, const struct op *op)
{
	struct mproc *a = &m->p[op->actor], *t;
	int j;

	switch (op->kind) {
	case OP_SPAWN:
		t = &m->p[op->a];
		memset(t, 0, sizeof(*t));
		t->st = M_RUN;
		t->ppid = op->actor;
		t->pgid = op->actor == 0 ? op->a : a->pgid;
		m->n = op->a + 1;
		break;
	case OP_EXIT:
		die(m, op->actor, W_EXITCODE(op->a, 0));
		break;
	case OP_KILL:
		if (!op->b) {
			signal_one(m, op->a, op->c);
			break;
		}
		/* Members in index order: parents before children. */
		for (j = 1; j < m->n; j++)
			if (m->p[j].pgid == op->a && live(&m->p[j]))
				signal_one(m, j, op->c);
		break;
	case OP_WAITPID:
	case OP_WAITID:
		return do_wait(m, op);
	case OP_SETPGID: {
		int tgt = (op->c & ZERO_PID) ? op->actor : op->a;
		int g = (op->c & ZERO_PGID) ? tgt : op->b;

		t = &m->p[tgt];
		if (tgt != op->actor && t->ppid != op->actor)
			return -1;		/* ESRCH */
		if (g != tgt && !group_exists(m, g))
			return -1;		/* EPERM */
		t->pgid = g;
		break;
	}
	case OP_REAPER:
		a->reaper = op->a != 0;
		break;
	case OP_SIGCHLD:
		a->nocld = op->a != CHLD_DFL;
		break;
	case OP_CATCH:
		a->catching = op->a != 0;
		break;
	}
	return -1;
}
