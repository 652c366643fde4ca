/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * green.c -- the green side: green processes that obey commands, in this
 * process, through the public API only (include/greenproc.h).
 *
 * The coordinator is a host thread, so it is init (p0).  Each green
 * process runs green_main(): it naps (a cancellation point, so stops,
 * kills and handlers reach it) until its mailbox holds a command, runs
 * it, and posts the answer.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "diff.h"
#include "greenproc.h"

#define ANSWER_NS (3ULL * 1000 * 1000 * 1000)
#define POLL_NS	50000

struct box {
	atomic_uint	req, done;	/* command number posted / answered */
	struct op	op;		/* written before req is bumped */
	pid_t		pids[MAXP];
	struct res	r;		/* written before done is bumped */
};

static struct box box[MAXP];
static atomic_int caught[MAXP];
static pid_t gpids[MAXP];		/* for the handler: pid -> index */
static struct res init_res;

static void
on_usr1(int sig)
{
	pid_t me = gp_getpid();
	int j;

	(void)sig;
	for (j = MAXP - 1; j > 0; j--)
		if (__atomic_load_n(&gpids[j], __ATOMIC_RELAXED) == me) {
			atomic_fetch_add(&caught[j], 1);
			return;
		}
}

static int green_main(void *arg) __attribute__((noreturn));

static bool
timed_out(const uint64_t *end)
{
	if (now_ns() >= *end)
		return true;
	nap_ns(50000);
	return false;
}

static void
execute(const struct op *op, const pid_t *pids, struct res *r)
{
	struct sigaction sa;
	siginfo_t si;
	pid_t pid = 0;
	idtype_t idt = P_ALL;
	/*
	 * Init's calls run on the coordinator: a blocking wait there polls
	 * (same answer), so that a divergence cannot hang the run.
	 */
	int poll = op->actor == 0 && (op->kind == OP_WAITPID ||
	    op->kind == OP_WAITID) && !(op->c & WNOHANG) ? WNOHANG : 0;
	uint64_t end = now_ns() + ANSWER_NS;

	memset(r, 0, sizeof(*r));
	errno = 0;
	switch (op->kind) {
	case OP_SPAWN:
		r->ret = gp_spawn(green_main, (void *)(intptr_t)op->a, NULL);
		break;
	case OP_EXIT:
		gp_exit(op->a);
	case OP_KILL:
		r->ret = gp_kill(op->b ? -pids[op->a] : pids[op->a], op->c);
		break;
	case OP_WAITPID:
		pid = wait_pid_arg(op, pids);
		r->ret = gp_waitpid(pid, &r->status, op->c | poll);
		while (poll && r->ret == 0 && !timed_out(&end))
			r->ret = gp_waitpid(pid, &r->status, op->c | poll);
		break;
	case OP_WAITID:
		idt = wait_idtype(op, pids, &pid);
		memset(&si, 0, sizeof(si));
		r->ret = gp_waitid(idt, (id_t)pid, &si, op->c | poll);
		while (poll && r->ret == 0 && si.si_pid == 0 && !timed_out(&end))
			r->ret = gp_waitid(idt, (id_t)pid, &si, op->c | poll);
		r->w_pid = si.si_pid;
		r->w_code = si.si_code;
		r->w_status = si.si_status;
		break;
	case OP_SETPGID:
		r->ret = gp_setpgid((op->c & ZERO_PID) ? 0 : pids[op->a],
		    (op->c & ZERO_PGID) ? 0 : pids[op->b]);
		break;
	case OP_REAPER:
		r->ret = op->a ? gp_reaper_acquire() : gp_reaper_release();
		break;
	case OP_SIGCHLD:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = op->a == CHLD_IGN ? SIG_IGN : SIG_DFL;
		sa.sa_flags = op->a == CHLD_NOCLDWAIT ? SA_NOCLDWAIT : 0;
		r->ret = gp_sigaction(SIGCHLD, &sa, NULL);
		break;
	case OP_CATCH:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = op->a ? on_usr1 : SIG_DFL;
		sa.sa_flags = SA_RESTART;
		r->ret = gp_sigaction(SIGUSR1, &sa, NULL);
		break;
	case OP_GETPPID:
		r->ret = gp_getppid();
		break;
	}
	if (r->ret == -1)
		r->err = errno;
	if (poll && r->ret == 0 && (op->kind == OP_WAITPID || r->w_pid == 0))
		r->timeout = true;
}

static int
green_main(void *arg)
{
	int idx = (int)(intptr_t)arg;
	struct box *b = &box[idx];
	struct timespec nap = { 0, POLL_NS };
	/* Not req: the first command may be posted before we run. */
	unsigned seen = atomic_load(&b->done);

	for (;;) {
		while (atomic_load(&b->req) == seen)
			(void)gp_nanosleep(&nap, NULL);
		seen = atomic_load(&b->req);
		execute(&b->op, b->pids, &b->r);
		atomic_store(&b->done, seen);
	}
}

/* ------------------------------------------------------------ backend */

static int
g_begin(void *ctx)
{
	(void)ctx;
	memset(gpids, 0, sizeof(gpids));
	for (int j = 0; j < MAXP; j++) {
		atomic_store(&caught[j], 0);
		atomic_store(&box[j].req, 0);
		atomic_store(&box[j].done, 0);
	}
	return 0;
}

static void
g_start(void *ctx, const struct op *op, const pid_t *pids)
{
	struct box *b = &box[op->actor];

	(void)ctx;
	if (op->actor == 0) {
		execute(op, pids, &init_res);
		return;
	}
	b->op = *op;
	memcpy(b->pids, pids, sizeof(b->pids));
	atomic_fetch_add(&b->req, 1);
}

static void
g_finish(void *ctx, const struct op *op, struct res *r)
{
	struct box *b = &box[op->actor];
	uint64_t end = now_ns() + ANSWER_NS, spin = 0;

	(void)ctx;
	if (op->actor == 0) {
		*r = init_res;
	} else if (op->kind == OP_EXIT) {
		r->none = true;
	} else {
		while (atomic_load(&b->done) != atomic_load(&b->req)) {
			if (now_ns() >= end) {
				memset(r, 0, sizeof(*r));
				r->timeout = true;
				return;
			}
			nap_ns(spin++ < 20 ? 10000 : 100000);
		}
		*r = b->r;
	}
	if (op->kind == OP_SPAWN && r->ret > 0)
		__atomic_store_n(&gpids[op->a], (pid_t)r->ret, __ATOMIC_RELAXED);
}

static void
g_observe(void *ctx, const pid_t *pids, int n, struct pstate *ps)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int pid, ppid, pgid, j;
	char stat;

	(void)ctx;
	for (j = 1; j < n; j++)
		ps[j].st = M_GONE;
	if (f == NULL)
		return;
	(void)gp_ps(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %d %d %c", &pid, &ppid, &pgid, &stat) != 4)
			continue;
		/* A reused pid is the latest index's. */
		for (j = n - 1; j > 0 && pids[j] != pid; j--)
			;
		if (j == 0)
			continue;
		ps[j].st = stat == 'Z' ? M_ZOMB : stat == 'T' ? M_STOP : M_RUN;
		ps[j].ppid = ppid;
		ps[j].pgid = pgid;
		ps[j].caught = atomic_load(&caught[j]);
	}
	free(buf);
}

static bool
g_is_init(void *ctx, pid_t pid)
{
	(void)ctx;
	return pid == GP_PID_INIT;
}

static int
g_end(void *ctx, const pid_t *pids, int n)
{
	struct pstate ps[MAXP];
	struct gp_counters st;
	uint64_t end = now_ns() + ANSWER_NS;
	int j;

	memset(ps, 0, sizeof(ps));
	g_observe(ctx, pids, n, ps);
	for (j = 1; j < n; j++)
		if (ps[j].st == M_RUN || ps[j].st == M_STOP)
			(void)gp_kill(pids[j], SIGKILL);
	for (;;) {
		while (gp_waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (gp_stats(&st) != 0 || st.live_procs == 0 || now_ns() >= end)
			return (int)st.live_procs;
		nap_ns(100000);
	}
}

void
green_setup(struct backend *be)
{
	static const struct backend g = { "green", g_begin, g_start, g_finish,
	    g_observe, g_is_init, g_end, NULL };

	*be = g;
}
