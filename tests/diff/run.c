/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run.c -- one sequence on one executor, written as a transcript that
 * names processes by creation index, never by pid.
 *
 * Each step: the operation, what it returned, then the tree once it has
 * settled.  Settling: some effects land asynchronously on both sides (a
 * killed process dies, a stop takes hold, a handler runs, init's
 * subreaper collects an orphan), so the runner polls the executor until
 * every process is in the state the model predicts, or a timeout passes;
 * the transcript shows what was observed either way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "diff.h"

#define SETTLE_NS	(2ULL * 1000 * 1000 * 1000)

int settle_timeouts;

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
nap_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL),
	    (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
bprintf(char **out, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*out + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		*cap = *cap * 2 + (size_t)n + 64;
		if ((*out = realloc(*out, *cap)) == NULL)
			abort();
	}
}

struct tx {
	char		**out;
	size_t		*len, *cap;
	const struct backend *be;
	pid_t		pids[MAXP];
	int		n;
};

#define TX(t, ...) bprintf((t)->out, (t)->len, (t)->cap, __VA_ARGS__)

pid_t
wait_pid_arg(const struct op *op, const pid_t *pids)
{
	switch (op->a) {
	case SEL_PID:	 return pids[op->b];
	case SEL_ANY:	 return -1;
	case SEL_OWNGRP: return 0;
	default:	 return -pids[op->b];
	}
}

idtype_t
wait_idtype(const struct op *op, const pid_t *pids, pid_t *id)
{
	switch (op->a) {
	case SEL_PID:	 *id = pids[op->b]; return P_PID;
	case SEL_ANY:	 *id = 0; return P_ALL;
	case SEL_OWNGRP: *id = 0; return P_PGID;
	default:	 *id = pids[op->b]; return P_PGID;
	}
}

/* A pid as a name: the latest index with that pid (green reuses pids). */
static void
name(struct tx *t, pid_t pid, char pfx, char *b, size_t n)
{
	int j;

	if (pid == 0 || pid == -1) {
		snprintf(b, n, "%d", (int)pid);
		return;
	}
	if (t->be->is_init(t->be->ctx, pid)) {
		snprintf(b, n, "%c0", pfx);
		return;
	}
	for (j = t->n - 1; j > 0; j--)
		if (t->pids[j] == pid) {
			snprintf(b, n, "%c%d", pfx, j);
			return;
		}
	snprintf(b, n, "%c?", pfx);
}

static const char *
errname(int e)
{
	static char b[16];

	switch (e) {
	case 0:      return "0";
	case ESRCH:  return "ESRCH";
	case ECHILD: return "ECHILD";
	case EPERM:  return "EPERM";
	case EINVAL: return "EINVAL";
	case EINTR:  return "EINTR";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	default:
		snprintf(b, sizeof(b), "E%d", e);
		return b;
	}
}

static void
print_status(struct tx *t, int st)
{
	if (WIFEXITED(st))
		TX(t, " exited(%d)", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		TX(t, " signaled(%d)", WTERMSIG(st));
	else if (WIFSTOPPED(st))
		TX(t, " stopped(%d)", WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		TX(t, " continued");
	else
		TX(t, " status=%#x", st);
}

static void
print_res(struct tx *t, int step, const struct op *op, const struct res *r)
{
	char b[16];

	TX(t, "  %d ->", step);
	if (r->timeout) {
		TX(t, " (no answer)\n");
		return;
	}
	if (r->none) {
		TX(t, " (does not return)\n");
		return;
	}
	if (r->ret == -1) {
		TX(t, " -1 %s\n", errname(r->err));
		return;
	}
	switch (op->kind) {
	case OP_SPAWN:
	case OP_GETPPID:
		name(t, (pid_t)r->ret, 'p', b, sizeof(b));
		TX(t, " %s", b);
		break;
	case OP_WAITPID:
		name(t, (pid_t)r->ret, 'p', b, sizeof(b));
		TX(t, " %s", b);
		if (r->ret > 0)
			print_status(t, r->status);
		break;
	case OP_WAITID:
		name(t, r->w_pid, 'p', b, sizeof(b));
		TX(t, " %ld si_pid=%s si_code=%d si_status=%d", r->ret, b,
		    r->w_code, r->w_status);
		break;
	default:
		TX(t, " %ld", r->ret);
	}
	TX(t, "\n");
}

static void
exec_op(struct tx *t, int step, const struct op *op)
{
	const struct backend *be = t->be;
	struct res r;

	memset(&r, 0, sizeof(r));
	be->start(be->ctx, op, t->pids);
	be->finish(be->ctx, op, &r);
	if (op->kind == OP_SPAWN && r.ret > 0) {
		t->pids[op->a] = (pid_t)r.ret;
		if (op->a >= t->n)
			t->n = op->a + 1;
	}
	print_res(t, step, op, &r);
}

static bool
matches(const struct model *m, const struct pstate *ps)
{
	int j;

	for (j = 1; j < m->n; j++) {
		int want = m->p[j].st;

		if (ps[j].st != want)
			return false;
		if (want != M_GONE && want != M_ZOMB && ps[j].caught != m->p[j].caught)
			return false;
	}
	return true;
}

static void
settle_and_print(struct tx *t, const struct model *m)
{
	static const char letter[] = { '?', 'R', 'T', 'Z', '-' };
	struct pstate ps[MAXP], prev[MAXP];
	uint64_t end = now_ns() + SETTLE_NS, spin = 0;
	char pp[16], pg[16];
	int j;

	/*
	 * NOTE: one observation is not a snapshot (gp_ps walks pid slots,
	 * the real side reads /proc file by file): a process may exit
	 * between two rows.  Two equal observations in a row are.
	 */
	memset(prev, 0xff, sizeof(prev));
	for (;;) {
		memset(ps, 0, sizeof(ps));
		t->be->observe(t->be->ctx, t->pids, t->n, ps);
		if (matches(m, ps) && memcmp(ps, prev, sizeof(ps)) == 0)
			break;
		memcpy(prev, ps, sizeof(ps));
		if (matches(m, ps))
			continue;
		if (now_ns() >= end) {
			settle_timeouts++;
			break;
		}
		nap_ns(spin++ < 10 ? 20000 : 200000);
	}
	TX(t, "  tree:");
	for (j = 1; j < t->n; j++) {
		if (ps[j].st == M_GONE) {
			TX(t, " p%d:gone", j);
			continue;
		}
		name(t, ps[j].ppid, 'p', pp, sizeof(pp));
		name(t, ps[j].pgid, 'g', pg, sizeof(pg));
		TX(t, " p%d:%c,%s,%s", j, letter[ps[j].st], pp, pg);
		if (ps[j].caught)
			TX(t, ",c%d", ps[j].caught);
	}
	TX(t, "\n");
}

void
run_seq(const struct seq *s, const struct backend *be, char **out,
    size_t *len, size_t *cap)
{
	struct tx t = { out, len, cap, be, { 0 }, 1 };
	struct model m;
	char b[192];
	struct res r;
	int i, leaked;

	model_init(&m);
	if (be->begin(be->ctx) != 0) {
		TX(&t, "executor %s: cannot start\n", be->name);
		return;
	}
	for (i = 0; i < s->nops; i++) {
		const struct op *op = &s->ops[i];

		op_format(op, b, sizeof(b));
		TX(&t, "%d: %s\n", i, b);
		if (op->pending && i + 1 < s->nops) {
			/* Start the wait; run its trigger; collect it. */
			be->start(be->ctx, op, t.pids);
			op_format(&s->ops[i + 1], b, sizeof(b));
			TX(&t, "%d: %s\n", i + 1, b);
			exec_op(&t, i + 1, &s->ops[i + 1]);
			memset(&r, 0, sizeof(r));
			be->finish(be->ctx, op, &r);
			print_res(&t, i, op, &r);
			(void)model_apply(&m, &s->ops[i + 1]);
			(void)model_apply(&m, op);
			i++;
		} else {
			exec_op(&t, i, op);
			(void)model_apply(&m, op);
		}
		settle_and_print(&t, &m);
	}
	leaked = be->end(be->ctx, t.pids, t.n);
	TX(&t, "end: %d left\n", leaked);
}
