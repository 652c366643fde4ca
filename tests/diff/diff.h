/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diff.h -- the differential test: one random sequence of process
 * operations, run on real Linux processes and on green ones, must give
 * the same transcript (docs/DIFFTEST.md).
 *
 * Processes are named by creation index: p0 is init (the real side's
 * coordinator, the green side's host thread), p1... the processes the
 * sequence spawns.  Pids never appear in a transcript.
 */
#ifndef GP_DIFF_H
#define GP_DIFF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#define MAXP	16		/* processes per sequence, init included */
#define MAXOPS	64		/* operations per sequence */

enum opkind {
	OP_SPAWN,	/* a: index of the new child */
	OP_EXIT,	/* a: exit code */
	OP_KILL,	/* a: target index, b: 1 = its group (kill(-pgid)), c: signal */
	OP_WAITPID,	/* a: SEL_*, b: index (pid or group), c: options */
	OP_WAITID,	/* a: SEL_*, b: index, c: options */
	OP_SETPGID,	/* a: target, b: group leader index, c: ZERO_* literals */
	OP_REAPER,	/* a: 1 acquire, 0 release */
	OP_SIGCHLD,	/* a: CHLD_* */
	OP_CATCH,	/* a: 1 SIGUSR1 caught (SA_RESTART), 0 default */
	OP_GETPPID,
	OP_NKINDS
};

enum { SEL_PID, SEL_ANY, SEL_OWNGRP, SEL_GRP };
enum { CHLD_DFL, CHLD_IGN, CHLD_NOCLDWAIT };
#define ZERO_PID	1	/* setpgid(0, ...) */
#define ZERO_PGID	2	/* setpgid(..., 0) */

struct op {
	int	kind, actor, a, b, c;
	/*
	 * A blocking wait that returns only after the next operation (its
	 * trigger) has run: the executors start it, run the trigger, then
	 * collect it.
	 */
	int	pending;
};

struct seq {
	uint64_t	seed;
	int		nops;
	struct op	ops[MAXOPS];
};

/* ------------------------------------------------------------ model */

/* Process states, as the model and the transcripts name them. */
enum { M_NONE, M_RUN, M_STOP, M_ZOMB, M_GONE };
#define R_EXIT	1	/* reports a child holds for its parent */
#define R_STOP	2
#define R_CONT	4
#define PP_INIT_ADOPTED	(-1)	/* an orphan init adopted (and will reap) */

struct mproc {
	int	st;		/* M_* */
	int	ppid;		/* index; 0 init's own child; PP_INIT_ADOPTED */
	int	pgid;		/* index of the group's leader */
	bool	reaper, nocld, catching, pend;
	int	caught;		/* SIGUSR1 handlers run */
	int	pendfatal;	/* a fatal signal held while stopped */
	int	rep;		/* R_* pending for the parent */
	int	xst;		/* wait status once a zombie */
};

struct model {
	int		n;	/* indices used, init (0) included */
	int		busy;	/* index blocked in a pending wait, or -1 */
	struct mproc	p[MAXP];
};

void	model_init(struct model *m);
/* Apply (op); for a wait, the child it reports (index) or -1. */
int	model_apply(struct model *m, const struct op *op);
bool	model_eq(const struct model *a, const struct model *b);
int	model_live_match(const struct model *m, const struct op *op);
/* The child a wait would report now (or -1), how many children it
 * selects and how many of them have a report it takes. */
int	model_wait_scan(const struct model *m, const struct op *op,
	    int *nmatch, int *nrep);

/* ------------------------------------------------------------ sequences */

void	gen_seq(uint64_t seed, int len, struct seq *s);
int	op_format(const struct op *op, char *buf, size_t n);
/* The "op ..." line of a sequence file, and its parser (0 on success). */
int	op_unparse(const struct op *op, char *buf, size_t n);
int	op_parse(const char *line, struct op *op);

/* ------------------------------------------------------------ executors */

/* What an operation returned, before normalisation. */
struct res {
	long	ret;		/* return value (a pid for spawn/wait/getppid) */
	int	err;		/* errno when ret == -1 */
	int	status;		/* waitpid */
	pid_t	w_pid;		/* waitid */
	int	w_code, w_status;
	bool	none;		/* the call never returned (exit) */
	bool	timeout;	/* the executor gave up waiting for it */
};

/* The observed state of one process (M_GONE: reaped). */
struct pstate {
	int	st;		/* M_RUN, M_STOP, M_ZOMB, M_GONE */
	pid_t	ppid, pgid;
	int	caught;
};

struct backend {
	const char *name;
	int	(*begin)(void *ctx);
	/* Start (op) as its actor; pids[] maps indices to pids. */
	void	(*start)(void *ctx, const struct op *op, const pid_t *pids);
	void	(*finish)(void *ctx, const struct op *op, struct res *r);
	/* The state of processes 1..n-1 (pids[i]; a pid reused by a later
	 * index belongs to the later one). */
	void	(*observe)(void *ctx, const pid_t *pids, int n, struct pstate *ps);
	bool	(*is_init)(void *ctx, pid_t pid);
	/* Kill and reap everything left; the number of processes leaked. */
	int	(*end)(void *ctx, const pid_t *pids, int n);
	void	*ctx;
};

/* The pid argument of waitpid() for a wait's selector (op->a, op->b). */
pid_t	wait_pid_arg(const struct op *op, const pid_t *pids);
/* The idtype of waitid() for it, its id in *id. */
idtype_t wait_idtype(const struct op *op, const pid_t *pids, pid_t *id);

/* Run (s) on (be), appending the transcript to (out, *len, cap). */
void	run_seq(const struct seq *s, const struct backend *be, char **out,
	    size_t *len, size_t *cap);

/* real.c */
int	real_server_start(void);
int	real_send(const struct seq *s);
int	real_receive(char **t1, char **t2);
/* green.c */
void	green_setup(struct backend *be);

/* Shared helpers. */
void	bprintf(char **out, size_t *len, size_t *cap, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
uint64_t now_ns(void);
void	nap_ns(uint64_t ns);
extern int settle_timeouts;	/* steps whose state never matched the model */

#endif /* GP_DIFF_H */
