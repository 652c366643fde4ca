/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_failpt.c -- every resource request along a call fails in turn
 * (runtime/failpt.c, debug builds): the call returns its documented
 * error, nothing is left half-made (the live counts go back; make
 * SAN=address adds LSan's leak check at exit) and the runtime works on
 * (a later spawn succeeds).  For k = 1, 2, ... the k-th request fails,
 * until a k the call no longer reaches.  Release builds skip these.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "internal.h"

TestSuite(failpt, .timeout = 120.0);
TestSuite(limits, .timeout = 60.0);

#ifdef GREENPROC_DEBUG

#define KMAX	400		/* more requests than any call makes */
#define ALL	(GPI_FAIL_MALLOC | GPI_FAIL_MMAP | GPI_FAIL_FD | \
		 GPI_FAIL_RING | GPI_FAIL_THREAD)

static int
exit0(void *arg)
{
	(void)arg;
	return 0;
}

static void *
lwp_ret(void *arg)
{
	return arg;
}

static void
on_exit_noop(pid_t pid)
{
	(void)pid;
}

/* ------------------------------------------------ the calls */

/*
 * Each call arms the k-th request itself, around just the call under
 * test (a child that makes it arms and disarms in the child), and
 * returns 0 or the errno it failed with (-2: something else failed).
 * The sweep then asks gpi_failpt_disarm() whether the failure happened.
 */
static int
call_spawn(long k)
{
	pid_t pid;
	int st;

	gpi_failpt_arm(k, ALL);
	pid = gp_spawn(exit0, NULL, NULL);
	(void)gpi_failpt_disarm();
	if (pid < 0)
		return errno;
	return gp_waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? 0 : -2;
}

static int
main_argc(int argc, char **argv)
{
	return argc == 3 && strcmp(argv[2], "c") == 0 ? 0 : 1;
}

/* Every option that allocates: argv, descriptors, own TLS, own stack. */
static int
call_spawn_full(long k)
{
	char *argv[] = { "a", "b", "c", NULL };
	gp_attr_t *attr;
	int fds[2], st, error = 0;
	pid_t pid;

	if (pipe(fds) != 0 || gp_attr_init(&attr) != 0)
		return -2;
	(void)gp_attr_setfds(attr, fds, 2);
	(void)gp_attr_settls(attr, 1);
	(void)gp_attr_setstacksize(attr, 256 * 1024);
	(void)gp_attr_setname(attr, "a-rather-long-name-for-a-process");
	gpi_failpt_arm(k, ALL);
	pid = gp_spawn_main(main_argc, 3, argv, attr);
	(void)gpi_failpt_disarm();
	if (pid < 0)
		error = errno;
	else if (gp_waitpid(pid, &st, 0) != pid || st != 0)
		error = -2;
	gp_attr_destroy(attr);
	close(fds[0]);
	close(fds[1]);
	return error;
}

static int
call_lwp_create(long k)
{
	gp_lwp_t l;
	void *v;
	int error;

	gpi_failpt_arm(k, ALL);
	error = gp_lwp_create(&l, lwp_ret, (void *)7, NULL);
	(void)gpi_failpt_disarm();
	if (error != 0)
		return error;
	return gp_lwp_join(l, &v) == 0 && v == (void *)7 ? 0 : -2;
}

static int
call_at_exit(long k)
{
	int rc;

	gpi_failpt_arm(k, ALL);
	rc = gp_at_exit(on_exit_noop);
	(void)gpi_failpt_disarm();
	if (rc != 0)
		return errno;
	(void)gp_rm_at_exit(on_exit_noop);
	return 0;
}

static int
call_proc_watch(long k)
{
	pid_t pid = gp_spawn(exit0, NULL, NULL);
	int fd, st, error = 0;

	if (pid < 0)
		return -2;
	gpi_failpt_arm(k, ALL);
	fd = gp_proc_watch(pid);
	(void)gpi_failpt_disarm();
	if (fd < 0)
		error = errno;
	else
		gp_close(fd);
	return gp_waitpid(pid, &st, 0) == pid ? error : -2;
}

static long child_k;

static void
on_usr1(int sig)
{
	(void)sig;
}

/* A fresh process per call: its first sigaction allocates. */
static int
sigaction_child(void *arg)
{
	struct sigaction sa;
	int rc;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* a handler: SIG_IGN allocates nothing */
	gpi_failpt_arm(child_k, ALL);
	rc = gp_sigaction(SIGUSR1, &sa, NULL);
	(void)gpi_failpt_disarm();
	return rc == 0 ? 0 : 100 + errno;
}

static int
exec_image(void *arg)
{
	(void)arg;
	(void)gpi_failpt_disarm();
	return 0;
}

static int
exec_child(void *arg)
{
	(void)arg;
	gpi_failpt_arm(child_k, ALL);
	(void)gp_exec(exec_image, NULL);
	(void)gpi_failpt_disarm();
	return 100 + errno;
}

/*
 * The child's status is the call's result; killed (SIGKILL) is gp_exec's
 * documented "no stack for the new image": counted as ENOMEM.
 */
static int
child_call(int (*entry)(void *), long k)
{
	pid_t pid;
	int st;

	child_k = k;
	pid = gp_spawn(entry, NULL, NULL);
	if (pid < 0 || gp_waitpid(pid, &st, 0) != pid)
		return -2;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGKILL ? ENOMEM : -2;
	if (WEXITSTATUS(st) == 0)
		return 0;
	return WEXITSTATUS(st) >= 100 ? WEXITSTATUS(st) - 100 : -2;
}

static int call_sigaction(long k) { return child_call(sigaction_child, k); }
static int call_exec(long k) { return child_call(exec_child, k); }

static int
call_iov(long k)
{
	static char buf[64];
	struct iovec iov[64];
	int fds[2], i, error = 0;
	ssize_t n;

	if (pipe(fds) != 0)
		return -2;
	for (i = 0; i < 64; i++) {
		iov[i].iov_base = buf + i;
		iov[i].iov_len = 1;
	}
	gpi_failpt_arm(k, ALL);
	n = gp_writev(fds[1], iov, 64);
	if (n != 64)
		error = n < 0 ? errno : -2;
	else if ((n = gp_readv(fds[0], iov, 64)) != 64)
		error = n < 0 ? errno : -2;
	(void)gpi_failpt_disarm();
	close(fds[0]);
	close(fds[1]);
	return error;
}

static int
call_poll(long k)
{
	struct pollfd pf[200];
	int fds[2], i, n, error = 0;

	if (pipe(fds) != 0)
		return -2;
	for (i = 0; i < 200; i++) {
		pf[i].fd = fds[1];
		pf[i].events = POLLOUT;
	}
	gpi_failpt_arm(k, ALL);
	n = gp_poll(pf, 200, 1000);
	(void)gpi_failpt_disarm();
	if (n != 200)
		error = n < 0 ? errno : -2;
	close(fds[0]);
	close(fds[1]);
	return error;
}

/* What one sweep saw, filled by the green driver. */
struct sweep {
	const char	*name;
	int		 (*call)(long k);
	const int	*errs;		/* the documented errors, 0-ended */
	int		 injected;	/* ks whose failure happened */
	int		 failed;	/* of those, calls that failed */
	int		 bad;		/* undocumented outcomes */
	char		 why[256];	/* the first of them */
	bool		 clean;		/* a k the call no longer reached */
};

static bool
documented(const int *errs, int e)
{
	for (; *errs != 0; errs++)
		if (*errs == e)
			return true;
	return false;
}

static void
note_bad(struct sweep *s, long k, int e, const char *what)
{
	if (s->bad++ == 0)
		snprintf(s->why, sizeof(s->why), "k=%ld: %s %d (%s)", k, what,
		    e, e > 0 ? strerror(e) : "not an errno");
}

/* The sweep, in a green process (gp_exec, gp_sigaction want one). */
static int
driver(void *arg)
{
	struct sweep *s = arg;
	long k;
	int e;

	for (k = 1; k <= KMAX; k++) {
		e = s->call(k);
		if (!gpi_failpt_disarm()) {
			if (e != 0)
				note_bad(s, k, e, "failed unhurt:");
			s->clean = true;
			break;
		}
		s->injected++;
		if (e != 0) {
			s->failed++;
			if (!documented(s->errs, e))
				note_bad(s, k, e, "errno");
		}
		/* The runtime works on. */
		if (call_spawn(KMAX * 10) != 0)
			note_bad(s, k, errno, "a later spawn failed:");
		(void)gpi_failpt_disarm();
	}
	return 0;
}

static void
sweep(const char *name, int (*call)(long), const int *errs)
{
	struct sweep s = { .name = name, .call = call, .errs = errs };
	struct gp_counters before, after;
	pid_t d;
	int st, i;

	cr_assert(eq(int, gp_init(1), 0));
	cr_assert(eq(int, gp_stats(&before), 0));
	d = gp_spawn(driver, &s, NULL);
	cr_assert(gt(int, d, 0));
	cr_assert(eq(int, gp_waitpid(d, &st, 0), d));
	cr_assert(eq(int, st, 0), "%s: driver status %#x", name, st);
	cr_log_info("%s: %d requests failed in turn, %d calls failed, "
	    "the rest covered", name, s.injected, s.failed);
	cr_assert(s.clean, "%s: more than %d requests", name, KMAX);
	cr_assert(eq(int, s.bad, 0), "%s: %d bad outcomes, the first %s",
	    name, s.bad, s.why);
	cr_assert(s.injected > 0, "%s: nothing to fail", name);
	for (i = 0; i < 400; i++) {
		cr_assert(eq(int, gp_stats(&after), 0));
		if (after.live_procs == before.live_procs &&
		    after.live_lwps == before.live_lwps)
			break;
		usleep(5000);
	}
	cr_assert(eq(long, after.live_procs, before.live_procs), "%s", name);
	cr_assert(eq(long, after.live_lwps, before.live_lwps), "%s", name);
	cr_assert(eq(int, gp_shutdown(), 0));
}

static const int e_spawn[] = { EAGAIN, ENOMEM, 0 };
static const int e_nomem[] = { ENOMEM, 0 };
static const int e_lwp[] = { EAGAIN, ENOMEM, 0 };
static const int e_watch[] = { ENOMEM, EMFILE, ENFILE, 0 };

Test(failpt, spawn) { sweep("gp_spawn", call_spawn, e_spawn); }
Test(failpt, spawn_main_with_every_option)
{
	sweep("gp_spawn_main", call_spawn_full, e_spawn);
}
Test(failpt, lwp_create) { sweep("gp_lwp_create", call_lwp_create, e_lwp); }
Test(failpt, at_exit) { sweep("gp_at_exit", call_at_exit, e_nomem); }
Test(failpt, proc_watch) { sweep("gp_proc_watch", call_proc_watch, e_watch); }
Test(failpt, exec) { sweep("gp_exec", call_exec, e_nomem); }
Test(failpt, sigaction) { sweep("gp_sigaction", call_sigaction, e_nomem); }
Test(failpt, readv_writev) { sweep("gp_readv/gp_writev", call_iov, e_nomem); }
Test(failpt, poll) { sweep("gp_poll", call_poll, e_nomem); }

/*
 * gp_init itself: each request failing in turn makes it fail with an
 * errno of its own (ENOMEM, EAGAIN for a thread, the eventfd's), or be
 * covered (a failed io_uring setup falls back to epoll); the next
 * gp_init works.
 */
Test(failpt, init)
{
	long k;
	int rc, e, n = 0;
	bool fired;

	for (k = 1; k <= KMAX; k++) {
		gpi_failpt_arm(k, ALL);
		rc = gp_init(2);
		e = errno;
		fired = gpi_failpt_disarm();
		if (rc == 0) {
			cr_assert(eq(int, call_spawn(KMAX * 10), 0), "k=%ld", k);
			cr_assert(eq(int, gp_shutdown(), 0));
		} else
			cr_assert(e == ENOMEM || e == EAGAIN || e == EMFILE,
			    "k=%ld: gp_init errno %d", k, e);
		if (!fired)
			break;
		n++;
	}
	cr_assert(lt(long, k, KMAX));
	cr_log_info("gp_init: %d requests failed in turn", n);
	cr_assert(eq(int, gp_init(1), 0));
	cr_assert(eq(int, call_spawn(KMAX * 10), 0));
	cr_assert(eq(int, gp_shutdown(), 0));
}

#else

Test(failpt, needs_a_debug_build)
{
	cr_skip_test("failure injection is in DEBUG=1 builds only");
}

#endif

/* ------------------------------------------------------------ limits */

static int
sleep_long(void *arg)
{
	struct timespec ts = { 0, 2000000 };

	(void)arg;
	for (;;)
		gp_nanosleep(&ts, NULL);
	return 0;
}

/*
 * Descriptors run out: gp_proc_watch fails with EMFILE and leaves
 * nothing behind (the process's own eventfd is made once, or not), and
 * works again once the limit allows.  In a child: the limit is the
 * whole process's.
 */
Test(limits, proc_watch_gives_emfile_when_descriptors_run_out)
{
	pid_t child;
	int st;

	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		struct rlimit rl;
		int fd, rc, e, i, last = -1;
		pid_t p;

		if (gp_init(1) != 0 || (p = gp_spawn(sleep_long, NULL,
		    NULL)) < 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(90);
		/* Fill the table up to a low limit. */
		for (i = 0; i < 64; i++)
			if ((fd = dup(2)) > last)
				last = fd;
		rl.rlim_cur = (rlim_t)last + 1;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(91);
		/* Twice: the first makes the process's eventfd, or not. */
		for (i = 0; i < 2; i++) {
			rc = gp_proc_watch(p);
			e = errno;
			if (rc != -1 || e != EMFILE)
				_exit(92 + i);
		}
		close(last);
		close(last - 1);
		if ((fd = gp_proc_watch(p)) < 0)
			_exit(94);
		gp_close(fd);
		gp_kill(p, SIGKILL);
		if (gp_waitpid(p, &st, 0) != p || gp_shutdown() != 0)
			_exit(95);
		_exit(0);
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	cr_assert(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -st, 0));
}

/* ------------------------------------------------ the process limit */

#ifdef GREENPROC_DEBUG

/*
 * The limit is exact on any worker (runtime/pid.c): a worker's spawn that
 * decided "far from the limit" and is held in its window (between its
 * count's store and the load that decides; before the fix, between the
 * decision and the store) while a parent on the other worker fills the
 * table through the exact count must not end one process past the
 * limit.  The hook holds worker A's thread there, as a preemption would.
 */
#define RLIMIT_PROCS	400	/* > (2 workers + 2 spares + 1) * 32 */

static atomic_int race_pid, race_in_window, race_b_done, race_release;
static atomic_int race_a_ok, race_done;

static void
race_window(void)
{
	int pid = atomic_load(&race_pid);

	if (pid == 0 || gp_getpid() != pid ||
	    !atomic_compare_exchange_strong(&race_pid, &pid, 0))
		return;
	atomic_store(&race_in_window, 1);
	/* This worker's thread stays here, as if preempted. */
	while (atomic_load(&race_b_done) == 0)
		usleep(200);
}

static int
race_child(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	while (atomic_load(&race_release) == 0)
		gp_nanosleep(&ts, NULL);
	return 0;
}

static int
race_a(void *arg)
{
	(void)arg;
	atomic_store(&race_pid, (int)gp_getpid());
	atomic_store(&race_a_ok, gp_spawn(race_child, NULL, NULL) > 0 ? 1 :
	    -errno);
	atomic_store(&race_done, 1);
	while (gp_waitpid(-1, NULL, 0) > 0)
		;
	return 0;
}

/*
 * A, a green parent, is held in its window far from the limit; the host
 * thread (whose spawns near the limit take the exact count, as a
 * worker's do) fills the table meanwhile.
 */
Test(limits, spawn_held_in_its_window_never_passes_the_limit)
{
	static pid_t kids[RLIMIT_PROCS + 1];
	struct gp_counters st;
	int total, i, n = 0;
	pid_t a;

	cr_assert(eq(int, setenv("GREENPROC_MAX_PROCS", "400", 1), 0));
	cr_assert(eq(int, gp_init(2), 0));
	gpi_debug_limit_window = race_window;
	a = gp_spawn(race_a, NULL, NULL);
	cr_assert(gt(int, a, 0));
	for (i = 0; i < 10000 && atomic_load(&race_in_window) == 0; i++)
		usleep(1000);
	cr_assert(eq(int, atomic_load(&race_in_window), 1));
	while (n <= RLIMIT_PROCS && (kids[n] = gp_spawn(race_child, NULL,
	    NULL)) > 0)
		n++;
	cr_assert(eq(int, errno, EAGAIN));
	atomic_store(&race_b_done, 1);
	for (i = 0; i < 10000 && atomic_load(&race_done) == 0; i++)
		usleep(1000);
	cr_assert(eq(int, atomic_load(&race_done), 1));
	cr_assert(eq(int, gp_stats(&st), 0));
	/* A, the host's children, and A's child if it had room. */
	total = 1 + n + (atomic_load(&race_a_ok) > 0);
	cr_assert(le(long, st.live_procs, RLIMIT_PROCS), "%ld live",
	    st.live_procs);
	cr_assert(eq(int, total, RLIMIT_PROCS), "%d processes made "
	    "(A's spawn: %d)", total, atomic_load(&race_a_ok));
	/* At the limit; and below it again after the reaps. */
	errno = 0;
	cr_assert(eq(int, (int)gp_spawn(race_child, NULL, NULL), -1));
	cr_assert(eq(int, errno, EAGAIN));
	gpi_debug_limit_window = NULL;
	atomic_store(&race_release, 1);
	for (i = 0; i < n; i++)
		cr_assert(eq(int, gp_waitpid(kids[i], NULL, 0), kids[i]));
	cr_assert(eq(int, gp_waitpid(a, NULL, 0), a));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.live_procs, 0));
	cr_assert(eq(int, call_spawn(KMAX * 10), 0));
	cr_assert(eq(int, gp_shutdown(), 0));
}

#endif /* GREENPROC_DEBUG */

/* ------------------------------------------------ the map count */

static int
guard_ret7(void *arg)
{
	(void)arg;
	return 7;
}

/* A spawn and its wait: 0 if it exited 7. */
static int
spawn_ret7(void)
{
	pid_t p = gp_spawn(guard_ret7, NULL, NULL);
	int st;

	if (p < 0)
		return errno;
	return gp_waitpid(p, &st, 0) == p && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 7 ? 0 : -2;
}

#ifdef GREENPROC_DEBUG

/*
 * GREENPROC_GUARD=mprotect: each stack's guard page is a VMA, and when
 * vm.max_map_count is reached mprotect says ENOMEM (injected here at the
 * guard, the one request that meets the map count without a new
 * mapping).  gp_spawn and gp_lwp_create then fail with EAGAIN, from a
 * host thread and from a green process, nothing is left half-made (the
 * live counts are back; make SAN=address adds the leak check) and the
 * next spawn works.
 */
static atomic_int guard_green_spawn, guard_green_lwp;

static int
guard_parent(void *arg)
{
	gp_lwp_t l;
	int e;

	(void)arg;
	gpi_failpt_arm(1, GPI_FAIL_GUARD);
	atomic_store(&guard_green_spawn, gp_spawn(guard_ret7, NULL, NULL) <
	    0 ? errno : 0);
	(void)gpi_failpt_disarm();
	gpi_failpt_arm(1, GPI_FAIL_GUARD);
	e = gp_lwp_create(&l, lwp_ret, NULL, NULL);
	(void)gpi_failpt_disarm();
	atomic_store(&guard_green_lwp, e);
	return 0;
}

Test(limits, guard_page_refused_fails_spawn_and_lwp_create_with_eagain)
{
	struct gp_counters before, after;
	gp_lwp_t l;
	pid_t p;
	int i, st;

	cr_assert(eq(int, setenv("GREENPROC_GUARD", "mprotect", 1), 0));
	cr_assert(eq(int, gp_init(2), 0));
	cr_assert(eq(int, gp_stats(&before), 0));
	for (i = 0; i < 3; i++) {
		gpi_failpt_arm(1, GPI_FAIL_GUARD);
		errno = 0;
		p = gp_spawn(guard_ret7, NULL, NULL);
		cr_assert(gpi_failpt_disarm(), "no guard was asked for");
		cr_assert(eq(int, (int)p, -1));
		cr_assert(eq(int, errno, EAGAIN));
		gpi_failpt_arm(1, GPI_FAIL_GUARD);
		cr_assert(eq(int, gp_lwp_create(&l, lwp_ret, NULL, NULL),
		    EAGAIN));
		cr_assert(gpi_failpt_disarm());
	}
	p = gp_spawn(guard_parent, NULL, NULL);
	cr_assert(gt(int, p, 0));
	cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
	cr_assert(eq(int, st, 0));
	cr_assert(eq(int, atomic_load(&guard_green_spawn), EAGAIN));
	cr_assert(eq(int, atomic_load(&guard_green_lwp), EAGAIN));
	cr_assert(eq(int, gp_stats(&after), 0));
	cr_assert(eq(long, after.live_procs, before.live_procs));
	cr_assert(eq(long, after.live_lwps, before.live_lwps));
	/* Room again: a spawn works, with a fresh slab. */
	cr_assert(eq(int, spawn_ret7(), 0));
	cr_assert(eq(int, gp_shutdown(), 0));
}

#endif /* GREENPROC_DEBUG */

/*
 * GREENPROC_GUARD=madvise where the kernel has no MADV_GUARD_INSTALL:
 * gp_init fails with ENOTSUP rather than every spawn; mprotect and auto
 * always start.  (Which one this kernel is, a scratch page says.)
 */
Test(limits, guard_knob_madvise_needs_the_kernels_guards)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool have;
	int rc;

	cr_assert(not(eq(ptr, m, MAP_FAILED)));
	have = madvise(m, (size_t)pg, 102 /* MADV_GUARD_INSTALL */) == 0;
	munmap(m, (size_t)pg);
	cr_assert(eq(int, setenv("GREENPROC_GUARD", "madvise", 1), 0));
	errno = 0;
	rc = gp_init(1);
	if (have) {
		cr_assert(eq(int, rc, 0));
		cr_assert(eq(int, gp_shutdown(), 0));
	} else {
		cr_assert(eq(int, rc, -1));
		cr_assert(eq(int, errno, ENOTSUP));
	}
	cr_assert(eq(int, setenv("GREENPROC_GUARD", "mprotect", 1), 0));
	cr_assert(eq(int, gp_init(1), 0));
	cr_assert(eq(int, spawn_ret7(), 0));
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* ------------------------------------------------ pid generations */

#ifdef GREENPROC_DEBUG

/*
 * Generations wrap (two per slot here, gpi_debug_pid_gens): a slot whose
 * last generation is reaped retires until the whole pid space is used,
 * so no stale pid acts on a newer process -- gp_kill, gp_waitpid,
 * gp_getpgid, gp_setpgid and gp_proc_watch on one give ESRCH/ECHILD --
 * and, past that, a pid that names a live process group (its leader
 * gone, a member left) is never given to a new process.
 */
#define GEN_SPACE	1024	/* 2 generations of the 512 slots below */

static atomic_int gen_member_pid, gen_release;

static int
gen_member(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	while (atomic_load(&gen_release) == 0)
		gp_nanosleep(&ts, NULL);
	return 0;
}

/* A group leader that leaves a member behind. */
static int
gen_leader(void *arg)
{
	pid_t m = gp_spawn(gen_member, NULL, NULL);

	(void)arg;
	atomic_store(&gen_member_pid, (int)m);
	return m > 0 ? 0 : 1;
}

static int
gen_exit0(void *arg)
{
	(void)arg;
	return 0;
}

Test(limits, stale_pids_never_reach_newer_processes_after_wrapping)
{
	static bool seen[4 * GEN_SPACE];
	pid_t stale[8], x, p, m = -1;
	int i, j, st, reissued = 0;

	/* 8 + (1 worker + 2 spares + 1) * 96 slots: 512. */
	cr_assert(eq(int, setenv("GREENPROC_MAX_PROCS", "8", 1), 0));
	gpi_debug_pid_gens = 2;
	cr_assert(eq(int, gp_init(1), 0));
	x = gp_spawn(gen_leader, NULL, NULL);
	cr_assert(gt(int, x, 0));
	cr_assert(eq(int, gp_waitpid(x, &st, 0), x));
	cr_assert(eq(int, st, 0));
	/* Its member, reparented to init, still in group x. */
	m = atomic_load(&gen_member_pid);
	cr_assert(gt(int, m, 0), "the member of group %d", (int)x);
	cr_assert(eq(int, gp_getpgid(m), x));
	for (i = 0; i < 8; i++) {
		stale[i] = gp_spawn(gen_exit0, NULL, NULL);
		cr_assert(gt(int, stale[i], 0));
		cr_assert(eq(int, gp_waitpid(stale[i], &st, 0), stale[i]));
	}
	/*
	 * Half the pid space (less than it minus what the free lists hold):
	 * each slot in use wraps after two spawns, and nothing repeats.
	 */
	for (i = 0; i < GEN_SPACE / 2; i++) {
		p = gp_spawn(gen_exit0, NULL, NULL);
		cr_assert(gt(int, p, 0), "spawn %d: %s", i, strerror(errno));
		cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
		cr_assert(not(eq(int, p, x)), "group %d's id reissued", (int)x);
		for (j = 0; j < 8; j++)
			cr_assert(not(eq(int, p, stale[j])),
			    "stale pid %d reissued after %d spawns", (int)p, i);
	}
	for (j = 0; j < 8; j++) {
		errno = 0;
		cr_assert(eq(int, gp_kill(stale[j], 0), -1));
		cr_assert(eq(int, errno, ESRCH));
		errno = 0;
		cr_assert(eq(int, gp_waitpid(stale[j], &st, WNOHANG), -1));
		cr_assert(eq(int, errno, ECHILD));
		errno = 0;
		cr_assert(eq(int, gp_getpgid(stale[j]), -1));
		cr_assert(eq(int, errno, ESRCH));
		errno = 0;
		cr_assert(eq(int, gp_setpgid(stale[j], 0), -1));
		cr_assert(eq(int, errno, ESRCH));
		errno = 0;
		cr_assert(eq(int, gp_proc_watch(stale[j]), -1));
		cr_assert(eq(int, errno, ESRCH));
	}
	/* Past the whole space: pids come back, but never group x's. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 3 * GEN_SPACE; i++) {
		p = gp_spawn(gen_exit0, NULL, NULL);
		cr_assert(gt(int, p, 0), "spawn %d: %s", i, strerror(errno));
		cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
		cr_assert(not(eq(int, p, x)), "group %d's id reissued", (int)x);
		j = (int)(p - x) & (4 * GEN_SPACE - 1);
		reissued += seen[j];
		seen[j] = true;
	}
	cr_assert(gt(int, reissued, 0), "the pid space never wrapped");
	cr_assert(eq(int, gp_getpgid(m), x));
	cr_assert(eq(int, gp_kill(-x, 0), 0));
	/* An orphan: init reaps it by itself. */
	atomic_store(&gen_release, 1);
	for (i = 0; i < 5000 && gp_kill(m, 0) == 0; i++)
		usleep(1000);
	cr_assert(eq(int, gp_kill(m, 0), -1));
	cr_assert(eq(int, gp_shutdown(), 0));
}

#endif /* GREENPROC_DEBUG */
