/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen.c -- random but valid sequences, and their text forms.
 *
 * The generator proposes an operation at random and keeps it only if the
 * model says its outcome does not depend on timing or on a documented
 * difference (docs/DIFFTEST.md, "What the generator avoids").
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "diff.h"

/* splitmix64: small, seedable, the same everywhere. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
pick(uint64_t *s, int n)
{
	return n <= 0 ? 0 : (int)(rnd(s) % (uint64_t)n);
}

static bool
live(const struct mproc *p)
{
	return p->st == M_RUN || p->st == M_STOP;
}

static bool
exists(const struct mproc *p)
{
	return live(p) || p->st == M_ZOMB;
}

/* A random index in [lo, m->n) with (ok); -1 if none. */
static int
pick_proc(const struct model *m, uint64_t *s, int lo,
    bool (*ok)(const struct model *, int, int), int arg)
{
	int cand[MAXP], n = 0, i;

	for (i = lo; i < m->n; i++)
		if (ok(m, i, arg))
			cand[n++] = i;
	return n == 0 ? -1 : cand[pick(s, n)];
}

static bool
can_act(const struct model *m, int i, int arg)
{
	(void)arg;
	return m->p[i].st == M_RUN && m->busy != i;
}

static bool
is_existing(const struct model *m, int i, int arg)
{
	(void)arg;
	return exists(&m->p[i]);
}

static bool
is_child_of(const struct model *m, int i, int w)
{
	return exists(&m->p[i]) && m->p[i].ppid == w;
}

/* A group that exists (some member not reaped): its leader's index. */
static int
pick_group(const struct model *m, uint64_t *s)
{
	int j = pick_proc(m, s, 1, is_existing, 0);

	return j < 0 ? -1 : m->p[j].pgid;
}

static const int sigs[] = { SIGKILL, SIGTERM, SIGSTOP, SIGCONT, SIGUSR1 };

/* Propose one operation; false if nothing fits the kind drawn. */
static bool
propose(const struct model *m, uint64_t *s, struct op *op)
{
	static const int weight[OP_NKINDS] = {
		[OP_SPAWN] = 16, [OP_EXIT] = 8, [OP_KILL] = 22,
		[OP_WAITPID] = 16, [OP_WAITID] = 14, [OP_SETPGID] = 8,
		[OP_REAPER] = 4, [OP_SIGCHLD] = 5, [OP_CATCH] = 5,
		[OP_GETPPID] = 4,
	};
	int total = 0, r, k, w;

	for (k = 0; k < OP_NKINDS; k++)
		total += weight[k];
	r = pick(s, total);
	for (k = 0; r >= weight[k]; k++)
		r -= weight[k];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	/* Init only spawns, kills, waits and moves its children. */
	if (k == OP_SPAWN || k == OP_KILL || k == OP_WAITPID ||
	    k == OP_WAITID || k == OP_SETPGID)
		w = pick(s, 3) == 0 ? 0 : pick_proc(m, s, 0, can_act, 0);
	else
		w = pick_proc(m, s, 1, can_act, 0);
	if (w < 0)
		return false;
	op->actor = w;
	switch (k) {
	case OP_SPAWN:
		if (m->n >= MAXP)
			return false;
		op->a = m->n;
		return true;
	case OP_EXIT:
		op->a = pick(s, 4) == 0 ? 0 : 1 + pick(s, 254);
		return true;
	case OP_KILL:
		op->c = sigs[pick(s, 5)];
		op->b = pick(s, 3) == 0;
		op->a = op->b ? pick_group(m, s) : pick_proc(m, s, 1, is_existing, 0);
		return op->a > 0;
	case OP_WAITPID:
	case OP_WAITID:
		op->a = pick(s, 4);
		if (op->a == SEL_OWNGRP && w == 0)
			op->a = SEL_ANY;	/* init has no group */
		if (op->a == SEL_PID) {
			/* Mostly a child; else anyone (ECHILD). */
			op->b = pick(s, 5) > 0 ? pick_proc(m, s, 1, is_child_of, w) : -1;
			if (op->b < 0)
				op->b = pick_proc(m, s, 1, is_existing, 0);
			if (op->b < 0)
				op->a = SEL_ANY;
		} else if (op->a == SEL_GRP) {
			op->b = pick_group(m, s);
			if (op->b < 0)
				op->a = SEL_ANY;
		}
		if (k == OP_WAITPID) {
			static const int o[] = { WNOHANG, WUNTRACED, WCONTINUED, WNOWAIT };
			int bits = pick(s, 16);

			/* WNOWAIT (EINVAL in waitpid) only now and then. */
			if ((bits & 8) && pick(s, 4) != 0)
				bits &= ~8;
			for (r = 0; r < 4; r++)
				if (bits & (1 << r))
					op->c |= o[r];
		} else {
			static const int o[] = { WNOHANG, WEXITED, WSTOPPED, WCONTINUED, WNOWAIT };
			int bits = pick(s, 32);

			/* None of WEXITED/WSTOPPED/WCONTINUED: EINVAL, rarely. */
			if (!(bits & 14) && pick(s, 4) != 0)
				bits |= 2 << pick(s, 3);
			for (r = 0; r < 5; r++)
				if (bits & (1 << r))
					op->c |= o[r];
		}
		return true;
	case OP_SETPGID: {
		int tgt;

		/* Self, or a child (sometimes another process: ESRCH). */
		tgt = w != 0 && pick(s, 3) == 0 ? w : pick_proc(m, s, 1, is_child_of, w);
		if (pick(s, 8) == 0)
			tgt = pick_proc(m, s, 1, is_existing, 0);
		if (tgt < 0 || (tgt > 0 && !live(&m->p[tgt])))
			return false;
		op->a = tgt;
		if (tgt == w && pick(s, 2) == 0)
			op->c |= ZERO_PID;
		switch (pick(s, 3)) {
		case 0:
			op->c |= ZERO_PGID;
			break;
		case 1:
			op->b = tgt;
			break;
		default:
			op->b = pick_group(m, s);
			if (op->b < 0)
				op->b = tgt;
		}
		return true;
	}
	case OP_REAPER:
		/* Releasing what is not held: EINVAL (procctl) on green,
		 * success on Linux; only release what is held. */
		op->a = !m->p[w].reaper;
		return true;
	case OP_SIGCHLD:
		op->a = pick(s, 3);
		return true;
	case OP_CATCH:
		op->a = pick(s, 3) != 0;
		return true;
	case OP_GETPPID:
		return true;
	}
	return false;
}

static bool
orphaned(const struct model *m, int g, bool linux_rules)
{
	int j, pp;

	for (j = 1; j < m->n; j++) {
		if (m->p[j].pgid != g || !live(&m->p[j]))
			continue;
		pp = m->p[j].ppid;
		if (pp <= 0) {
			/* Linux: init is in the session; green: outside. */
			if (linux_rules)
				return false;
		} else if (m->p[pp].pgid != g) {
			return false;
		}
	}
	return true;
}

/*
 * NOTE: green init stands outside the session, the real one cannot; so
 * "orphaned process group" differs whenever init links a group.  An
 * exit that orphans a group with a stopped member (SIGHUP + SIGCONT
 * follow) under either rule is avoided.
 */
static bool
orphans_safe(const struct model *before, const struct model *after)
{
	int g, j, rules;
	bool stopped;

	for (g = 1; g < after->n; g++) {
		stopped = false;
		for (j = 1; j < after->n; j++)
			if (after->p[j].pgid == g && after->p[j].st == M_STOP)
				stopped = true;
		if (!stopped)
			continue;
		for (rules = 0; rules < 2; rules++)
			if (!orphaned(before, g, rules) && orphaned(after, g, rules))
				return false;
	}
	return true;
}

/* Apply (op) in descending index order (children first). */
static void
apply_reversed(struct model *m, const struct op *op)
{
	struct op one = *op;
	int j;

	if (op->kind != OP_KILL || !op->b) {
		(void)model_apply(m, op);
		return;
	}
	one.b = 0;
	for (j = m->n - 1; j > 0; j--) {
		if (m->p[j].pgid == op->a && (m->p[j].st == M_RUN ||
		    m->p[j].st == M_STOP)) {
			one.a = j;
			(void)model_apply(m, &one);
		}
	}
}

/*
 * May (op) run now, with an outcome that depends on neither timing nor a
 * documented difference?  On success *after is the model after it.
 */
static bool
valid(const struct model *m, const struct op *op, struct model *after)
{
	struct model rev;
	int nmatch, nrep, tgt;

	*after = *m;
	switch (op->kind) {
	case OP_KILL:
		if (!op->b) {
			tgt = op->a;
			/* Stopping or ending oneself: no answer comes back. */
			if (tgt == op->actor && op->c != SIGCONT &&
			    !(op->c == SIGUSR1 && m->p[tgt].catching))
				return false;
		} else if (op->actor > 0 && m->p[op->actor].pgid == op->a) {
			return false;
		}
		/*
		 * Known divergence: continued with a caught and a fatal signal
		 * pending, Linux dies before the handler reaches user space;
		 * green runs the handler first.
		 */
		if (op->c == SIGCONT) {
			int j;

			for (j = 1; j < m->n; j++)
				if ((op->b ? m->p[j].pgid == op->a : j == op->a) &&
				    m->p[j].st == M_STOP && m->p[j].pend &&
				    m->p[j].pendfatal != 0)
					return false;
		}
		if (m->busy >= 0 && ((!op->b && op->a == m->busy) ||
		    (op->b && m->p[m->busy].pgid == op->a)))
			return false;
		break;
	case OP_WAITPID:
	case OP_WAITID:
		(void)model_wait_scan(m, op, &nmatch, &nrep);
		/*
		 * Linux takes several reports in children-list order, green
		 * in report order: only one may match.
		 */
		if (nrep > 1)
			return false;
		break;
	case OP_SETPGID:
		/* Green init has no group to move into or out of. */
		if (op->a == 0 || (!(op->c & ZERO_PGID) && op->b <= 0))
			return false;
		/*
		 * Green init adopts orphans as its children; the real init's
		 * subreaper is not the coordinator.  Only init's own.
		 */
		if (op->actor == 0 && m->p[op->a].ppid != 0)
			return false;
		break;
	default:
		break;
	}
	(void)model_apply(after, op);
	if (op->kind == OP_EXIT || op->kind == OP_KILL) {
		if (!orphans_safe(m, after))
			return false;
		/* A group kill must end the same in any order. */
		rev = *m;
		apply_reversed(&rev, op);
		if (!model_eq(&rev, after) || !orphans_safe(m, &rev))
			return false;
	}
	return true;
}

/* A blocking wait with nothing to take yet: find the op that makes
 * exactly one report (or takes the last child: ECHILD).  */
static bool
find_trigger(const struct model *m, uint64_t *s, const struct op *wop,
    struct op *trig, struct model *after)
{
	struct model blocked = *m, t;
	int tries, nmatch, nrep;

	blocked.busy = wop->actor;
	for (tries = 0; tries < 40; tries++) {
		if (!propose(&blocked, s, trig) || trig->actor == wop->actor)
			continue;
		/* Only exits and signals wake a waiter on Linux. */
		if (trig->kind != OP_EXIT && trig->kind != OP_KILL)
			continue;
		if (!valid(&blocked, trig, &t))
			continue;
		(void)model_wait_scan(&t, wop, &nmatch, &nrep);
		if (nrep == 1 || nmatch == 0) {
			*after = t;
			after->busy = -1;
			(void)model_apply(after, wop);
			return true;
		}
	}
	return false;
}

void
gen_seq(uint64_t seed, int len, struct seq *s)
{
	struct model m, after;
	struct op op, trig;
	uint64_t st = seed * 0x2545f4914f6cdd1dULL + 1;
	int tries, nmatch, nrep;

	memset(s, 0, sizeof(*s));
	s->seed = seed;
	model_init(&m);
	if (len > MAXOPS)
		len = MAXOPS;
	for (tries = 0; s->nops < len && tries < 50 * len; tries++) {
		if (!propose(&m, &st, &op) || !valid(&m, &op, &after))
			continue;
		if ((op.kind == OP_WAITPID || op.kind == OP_WAITID) &&
		    !(op.c & WNOHANG)) {
			(void)model_wait_scan(&m, &op, &nmatch, &nrep);
			if (nmatch > 0 && nrep == 0) {
				/* Init's calls run on the coordinator itself. */
				if (op.actor != 0 && s->nops + 2 <= len &&
				    find_trigger(&m, &st, &op, &trig, &after)) {
					op.pending = 1;
					s->ops[s->nops++] = op;
					s->ops[s->nops++] = trig;
					m = after;
					continue;
				}
				op.c |= WNOHANG;
				after = m;
				(void)model_apply(&after, &op);
			}
		}
		s->ops[s->nops++] = op;
		m = after;
	}
}

/* ------------------------------------------------------------ text */

static const char *const kindname[OP_NKINDS] = {
	"spawn", "exit", "kill", "waitpid", "waitid", "setpgid", "reaper",
	"sigchld", "catch", "getppid",
};

static const char *
signame(int sig)
{
	switch (sig) {
	case SIGKILL: return "KILL";
	case SIGTERM: return "TERM";
	case SIGSTOP: return "STOP";
	case SIGCONT: return "CONT";
	case SIGUSR1: return "USR1";
	default:      return "?";
	}
}

static void
optstr(int o, bool waitid, char *b, size_t n)
{
	static const struct { int bit; const char *name; } f[] = {
		{ WNOHANG, "WNOHANG" }, { WUNTRACED, "WUNTRACED" },
		{ WSTOPPED, "WSTOPPED" },
		{ WEXITED, "WEXITED" }, { WCONTINUED, "WCONTINUED" },
		{ WNOWAIT, "WNOWAIT" },
	};
	size_t i, len = 0;

	b[0] = '\0';
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		/* WUNTRACED and WSTOPPED are one bit: name it per call. */
		if ((o & f[i].bit) && (f[i].bit != WSTOPPED ||
		    strcmp(f[i].name, waitid ? "WSTOPPED" : "WUNTRACED") == 0))
			len += (size_t)snprintf(b + len, n - len, "%s%s",
			    len ? "|" : "", f[i].name);
	if (len == 0)
		snprintf(b, n, "0");
}

int
op_format(const struct op *op, char *buf, size_t n)
{
	char o[96], sel[32];
	int k;

	k = snprintf(buf, n, "p%d ", op->actor);
	switch (op->kind) {
	case OP_SPAWN:
		k += snprintf(buf + k, n - k, "spawn -> p%d", op->a);
		break;
	case OP_EXIT:
		k += snprintf(buf + k, n - k, "exit(%d)", op->a);
		break;
	case OP_KILL:
		k += snprintf(buf + k, n - k, "kill(%s%d, %s)", op->b ? "-g" : "p",
		    op->a, signame(op->c));
		break;
	case OP_WAITPID:
	case OP_WAITID:
		optstr(op->c, op->kind == OP_WAITID, o, sizeof(o));
		if (op->kind == OP_WAITPID) {
			switch (op->a) {
			case SEL_PID: snprintf(sel, sizeof(sel), "p%d", op->b); break;
			case SEL_ANY: snprintf(sel, sizeof(sel), "-1"); break;
			case SEL_OWNGRP: snprintf(sel, sizeof(sel), "0"); break;
			default: snprintf(sel, sizeof(sel), "-g%d", op->b);
			}
		} else {
			switch (op->a) {
			case SEL_PID: snprintf(sel, sizeof(sel), "P_PID, p%d", op->b); break;
			case SEL_ANY: snprintf(sel, sizeof(sel), "P_ALL, 0"); break;
			case SEL_OWNGRP: snprintf(sel, sizeof(sel), "P_PGID, 0"); break;
			default: snprintf(sel, sizeof(sel), "P_PGID, g%d", op->b);
			}
		}
		k += snprintf(buf + k, n - k, "%s(%s, %s)%s", kindname[op->kind],
		    sel, o, op->pending ? " [blocks until the next step]" : "");
		break;
	case OP_SETPGID: {
		char t[16], g[16];

		if (op->c & ZERO_PID)
			snprintf(t, sizeof(t), "0");
		else
			snprintf(t, sizeof(t), "p%d", op->a);
		if (op->c & ZERO_PGID)
			snprintf(g, sizeof(g), "0");
		else
			snprintf(g, sizeof(g), "g%d", op->b);
		k += snprintf(buf + k, n - k, "setpgid(%s, %s)", t, g);
		break;
	}
	case OP_REAPER:
		k += snprintf(buf + k, n - k, "reaper %s", op->a ? "acquire" : "release");
		break;
	case OP_SIGCHLD:
		k += snprintf(buf + k, n - k, "sigaction(SIGCHLD, %s)",
		    op->a == CHLD_DFL ? "SIG_DFL" : op->a == CHLD_IGN ? "SIG_IGN" :
		    "SIG_DFL+SA_NOCLDWAIT");
		break;
	case OP_CATCH:
		k += snprintf(buf + k, n - k, "sigaction(SIGUSR1, %s)",
		    op->a ? "handler+SA_RESTART" : "SIG_DFL");
		break;
	case OP_GETPPID:
		k += snprintf(buf + k, n - k, "getppid");
		break;
	}
	return k;
}

int
op_unparse(const struct op *op, char *buf, size_t n)
{
	char human[160];

	op_format(op, human, sizeof(human));
	return snprintf(buf, n, "op %s %d %d %d %d %d   # %s", kindname[op->kind],
	    op->actor, op->a, op->b, op->c, op->pending, human);
}

int
op_parse(const char *line, struct op *op)
{
	char name[16];
	int k;

	memset(op, 0, sizeof(*op));
	if (sscanf(line, "op %15s %d %d %d %d %d", name, &op->actor, &op->a,
	    &op->b, &op->c, &op->pending) != 6)
		return -1;
	for (k = 0; k < OP_NKINDS; k++)
		if (strcmp(name, kindname[k]) == 0)
			break;
	if (k == OP_NKINDS || op->actor < 0 || op->actor >= MAXP)
		return -1;
	op->kind = k;
	return 0;
}
