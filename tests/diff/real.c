/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * real.c -- the Linux side: real processes that obey commands.
 *
 * A server process, forked before the green runtime starts (so it has
 * one thread and may fork freely), runs each sequence twice.  Per run:
 *
 *   server
 *     S    setsid(), PR_SET_CHILD_SUBREAPER; reaps whatever comes to it
 *       I  the coordinator, and init (p0) of the transcript
 *         p1, p2...  children that read commands from a pipe
 *
 * Green init adopts orphans and reaps them itself, so orphans must not
 * come to I (whose children are waitable): they come to S, which reaps
 * them at once.  Both S and I are "p0" in the transcript.  A child of
 * I calls setpgid(0, 0): a green child of init starts its own group.
 * A fork copies dispositions and a spawn does not (posix_spawn): a new
 * child puts SIGUSR1 and SIGCHLD back to SIG_DFL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

#define XBUF	(1 << 20)
#define ANSWER_NS (3ULL * 1000 * 1000 * 1000)

struct shared {
	int	caught[MAXP];		/* SIGUSR1 handlers run, per index */
	size_t	len;
	char	text[XBUF];		/* I's transcript */
};

struct cmd {
	struct op	op;
	pid_t		pids[MAXP];
};

struct real {
	struct shared	*sh;
	int		cmd[MAXP][2], res[MAXP][2];
	int		pidfd[MAXP];
	pid_t		self, subreaper;
	struct res	init_res;	/* init's own calls answer at once */
};

static struct real R;
static int self_idx;			/* in each child: its index */

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static bool
pidfd_alive(int fd)
{
	return syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0;
}

static void
on_usr1(int sig)
{
	(void)sig;
	__atomic_fetch_add(&R.sh->caught[self_idx], 1, __ATOMIC_RELAXED);
}

static int
full_io(int fd, void *buf, size_t n, bool wr)
{
	char *p = buf;
	ssize_t k;

	while (n > 0) {
		k = wr ? write(fd, p, n) : read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void child_loop(int idx) __attribute__((noreturn));

/*
 * fork(), and return once the child is set up: a spawn is complete when
 * it returns (a later setpgid() by the parent must not be undone by the
 * child's own setpgid(0, 0), as it could in a shell).
 */
static pid_t
do_fork(int idx, bool of_init)
{
	struct sigaction sa;
	struct res ready;
	pid_t pid = fork();

	if (pid != 0) {
		if (pid > 0 && full_io(R.res[idx][0], &ready, sizeof(ready),
		    false) != 0)
			_exit(122);
		return pid;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	if (of_init)
		(void)setpgid(0, 0);
	memset(&ready, 0, sizeof(ready));
	if (full_io(R.res[idx][1], &ready, sizeof(ready), true) != 0)
		_exit(123);
	child_loop(idx);
}

/* Run (c) in the calling process (its actor). */
static bool
timed_out(const uint64_t *end)
{
	if (now_ns() >= *end)
		return true;
	nap_ns(50000);
	return false;
}

static void
execute(const struct cmd *c, struct res *r)
{
	const struct op *op = &c->op;
	const pid_t *pids = c->pids;
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
		r->ret = do_fork(op->a, op->actor == 0);
		break;
	case OP_EXIT:
		_exit(op->a);
	case OP_KILL:
		r->ret = kill(op->b ? -pids[op->a] : pids[op->a], op->c);
		break;
	case OP_WAITPID:
		pid = wait_pid_arg(op, pids);
		r->ret = waitpid(pid, &r->status, op->c | poll);
		while (poll && r->ret == 0 && !timed_out(&end))
			r->ret = waitpid(pid, &r->status, op->c | poll);
		break;
	case OP_WAITID:
		idt = wait_idtype(op, pids, &pid);
		memset(&si, 0, sizeof(si));
		r->ret = waitid(idt, (id_t)pid, &si, op->c | poll);
		while (poll && r->ret == 0 && si.si_pid == 0 && !timed_out(&end))
			r->ret = waitid(idt, (id_t)pid, &si, op->c | poll);
		r->w_pid = si.si_pid;
		r->w_code = si.si_code;
		r->w_status = si.si_status;
		break;
	case OP_SETPGID:
		r->ret = setpgid((op->c & ZERO_PID) ? 0 : pids[op->a],
		    (op->c & ZERO_PGID) ? 0 : pids[op->b]);
		break;
	case OP_REAPER:
		r->ret = prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)op->a, 0, 0, 0);
		break;
	case OP_SIGCHLD:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = op->a == CHLD_IGN ? SIG_IGN : SIG_DFL;
		sa.sa_flags = op->a == CHLD_NOCLDWAIT ? SA_NOCLDWAIT : 0;
		r->ret = sigaction(SIGCHLD, &sa, NULL);
		break;
	case OP_CATCH:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = op->a ? on_usr1 : SIG_DFL;
		sa.sa_flags = SA_RESTART;
		r->ret = sigaction(SIGUSR1, &sa, NULL);
		break;
	case OP_GETPPID:
		r->ret = getppid();
		break;
	}
	if (r->ret == -1)
		r->err = errno;
	if (poll && r->ret == 0 && (op->kind == OP_WAITPID || r->w_pid == 0))
		r->timeout = true;
}

static void
child_loop(int idx)
{
	struct cmd c;
	struct res r;

	self_idx = idx;
	for (;;) {
		if (full_io(R.cmd[idx][0], &c, sizeof(c), false) != 0)
			_exit(120);
		execute(&c, &r);
		if (full_io(R.res[idx][1], &r, sizeof(r), true) != 0)
			_exit(121);
	}
}

/* ------------------------------------------------------------ backend */

static int
r_begin(void *ctx)
{
	int i;

	(void)ctx;
	for (i = 0; i < MAXP; i++) {
		if (pipe(R.cmd[i]) != 0 || pipe(R.res[i]) != 0)
			return -1;
		R.pidfd[i] = -1;
	}
	memset(R.sh->caught, 0, sizeof(R.sh->caught));
	return 0;
}

static void
r_start(void *ctx, const struct op *op, const pid_t *pids)
{
	struct cmd c;

	(void)ctx;
	memset(&c, 0, sizeof(c));
	c.op = *op;
	memcpy(c.pids, pids, sizeof(c.pids));
	if (op->actor == 0) {
		execute(&c, &R.init_res);
		return;
	}
	(void)full_io(R.cmd[op->actor][1], &c, sizeof(c), true);
}

static void
r_finish(void *ctx, const struct op *op, struct res *r)
{
	struct pollfd pfd;

	(void)ctx;
	if (op->actor == 0) {
		*r = R.init_res;
	} else if (op->kind == OP_EXIT) {
		r->none = true;
	} else {
		pfd.fd = R.res[op->actor][0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(ANSWER_NS / 1000000)) != 1 ||
		    full_io(pfd.fd, r, sizeof(*r), false) != 0) {
			memset(r, 0, sizeof(*r));
			r->timeout = true;
		}
	}
	if (op->kind == OP_SPAWN && r->ret > 0)
		R.pidfd[op->a] = pidfd_open((pid_t)r->ret);
}

/* Parse /proc/PID/stat: the state letter, ppid and pgrp. */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %d %d", state, ppid, pgid) != 3)
		return -1;
	return 0;
}

static void
r_observe(void *ctx, const pid_t *pids, int n, struct pstate *ps)
{
	char state;
	int j;

	(void)ctx;
	(void)pids;
	for (j = 1; j < n; j++) {
		ps[j].st = M_GONE;
		if (R.pidfd[j] < 0 || !pidfd_alive(R.pidfd[j]) ||
		    proc_stat(pids[j], &state, &ps[j].ppid, &ps[j].pgid) != 0 ||
		    state == 'X')
			continue;
		/* Still the same process after the read: no pid reuse. */
		if (!pidfd_alive(R.pidfd[j]))
			continue;
		ps[j].st = state == 'Z' ? M_ZOMB : state == 'T' ? M_STOP : M_RUN;
		ps[j].caught = __atomic_load_n(&R.sh->caught[j], __ATOMIC_RELAXED);
	}
}

static bool
r_is_init(void *ctx, pid_t pid)
{
	(void)ctx;
	return pid == R.self || pid == R.subreaper;
}

static int
r_end(void *ctx, const pid_t *pids, int n)
{
	uint64_t end = now_ns() + ANSWER_NS;
	int j, left;

	(void)ctx;
	for (j = 1; j < n; j++)
		if (R.pidfd[j] >= 0 && pidfd_alive(R.pidfd[j]))
			(void)kill(pids[j], SIGKILL);
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		for (left = 0, j = 1; j < n; j++)
			if (R.pidfd[j] >= 0 && pidfd_alive(R.pidfd[j]))
				left++;
		if (left == 0 || now_ns() >= end)
			return left;
		nap_ns(100000);
	}
}

/* ------------------------------------------------------------ server */

static void
run_once(const struct seq *s)
{
	struct backend be = { "linux", r_begin, r_start, r_finish, r_observe,
	    r_is_init, r_end, NULL };
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	pid_t s_pid, i_pid;

	R.sh->len = 0;
	if ((s_pid = fork()) == 0) {
		(void)setsid();
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		if ((i_pid = fork()) == 0) {
			R.self = getpid();
			R.subreaper = getppid();
			run_seq(s, &be, &out, &len, &cap);
			if (len > XBUF)
				len = XBUF;
			memcpy(R.sh->text, out, len);
			R.sh->len = len;
			_exit(0);
		}
		/* Init's reaper: everything that comes here goes at once. */
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		_exit(0);
	}
	free(out);
	while (waitpid(s_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int req_fd[2], ans_fd[2];

int
real_server_start(void)
{
	struct seq s;
	size_t len;
	int round;

	R.sh = mmap(NULL, sizeof(*R.sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (R.sh == MAP_FAILED || pipe(req_fd) != 0 || pipe(ans_fd) != 0)
		return -1;
	switch (fork()) {
	case -1:
		return -1;
	case 0:
		break;
	default:
		close(req_fd[0]);
		close(ans_fd[1]);
		return 0;
	}
	close(req_fd[1]);
	close(ans_fd[0]);
	while (full_io(req_fd[0], &s, sizeof(s), false) == 0) {
		for (round = 0; round < 2; round++) {
			run_once(&s);
			len = R.sh->len;
			if (full_io(ans_fd[1], &len, sizeof(len), true) != 0 ||
			    full_io(ans_fd[1], R.sh->text, len, true) != 0)
				_exit(1);
		}
	}
	_exit(0);
}

/* Hand (s) to the server, which runs it while the green side does. */
int
real_send(const struct seq *s)
{
	return full_io(req_fd[1], (void *)s, sizeof(*s), true);
}

/* Both transcripts of the sequence sent, malloc'd and NUL-terminated. */
int
real_receive(char **t1, char **t2)
{
	char **t[2] = { t1, t2 };
	size_t len;
	int i;

	for (i = 0; i < 2; i++) {
		if (full_io(ans_fd[0], &len, sizeof(len), false) != 0 ||
		    (*t[i] = malloc(len + 1)) == NULL ||
		    full_io(ans_fd[0], *t[i], len, false) != 0)
			return -1;
		(*t[i])[len] = '\0';
	}
	return 0;
}
