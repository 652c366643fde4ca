/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fault.c -- surviving faults and seeing inside: every kind of
 * synchronous fault (tests/programs/faults.h) kills only its green
 * process (runtime/fault.c), a dump on SIGQUIT is
 * written by a thread while work goes on (runtime/debug.c), and a
 * shutdown facing an LWP that never reaches a cancellation point names
 * it and frees the rest (runtime/runtime.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "programs/faults.h"

TestSuite(fault, .timeout = 60.0);

/* Deep enough to run through any green stack, one page at a time. */
static int __attribute__((noinline))
overflow_here(int n)
{
	volatile char frame[1024];

	memset((char *)frame, n, sizeof(frame));
	return n == 0 ? frame[1] : overflow_here(n - 1) + frame[7];
}

static int
overflow(void *arg)
{
	(void)arg;
	return overflow_here(1 << 24);
}

static atomic_int bystander_ticks;

static int
bystander(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	while (atomic_load(&bystander_ticks) < 1000000) {
		atomic_fetch_add(&bystander_ticks, 1);
		gp_nanosleep(&ts, NULL);
	}
	return 7;
}

/*
 * Stderr goes to a file while the overflows report, so the test can
 * count the reports (and the test log stays readable).
 */
static int
redirect_stderr(char *path, size_t len)
{
	int fd, saved = dup(STDERR_FILENO);

	snprintf(path, len, "/tmp/gp-fault-%d.log", (int)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	cr_assert(ge(int, fd, 0));
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static int
count_lines(const char *path, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	cr_assert(not(eq(ptr, f, NULL)));
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/*
 * Reports (from a line containing (header) to the next one) that have a
 * line containing (needle).  The overflows below happen one at a time
 * and each report is complete before its waitpid returns (the proxy
 * prints before its exit1), so reports do not interleave.
 */
static int
count_reports_naming(const char *path, const char *header,
    const char *needle, char *first, size_t firstlen)
{
	char line[1024];
	int n = 0, in = 0, named = 0;
	size_t used = 0;
	FILE *f = fopen(path, "r");

	cr_assert(not(eq(ptr, f, NULL)));
	first[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, header) != NULL) {
			n += named;
			in++;
			named = 0;
		}
		if (in > 0 && strstr(line, needle) != NULL)
			named = 1;
		/* The first report, for the failure message. */
		if (in == 1 && used + strlen(line) < firstlen) {
			memcpy(first + used, line, strlen(line) + 1);
			used += strlen(line);
		}
	}
	fclose(f);
	return n + named;
}

Test(fault, hundred_overflows_kill_only_their_processes)
{
	struct gp_counters before, after;
	char path[64], first[8192];
	int i, st, saved, ok, named, noregs, bad = 0;
	pid_t p, by, r;

	cr_assert(eq(int, gp_init(2), 0));
	cr_assert(eq(int, gp_stats(&before), 0));
	by = gp_spawn(bystander, NULL, NULL);
	cr_assert(ge(int, by, GP_PID_BASE + 1));
	saved = redirect_stderr(path, sizeof(path));
	for (i = 0; i < 100; i++) {
		p = gp_spawn(overflow, NULL, NULL);
		r = gp_waitpid(p, &st, 0);
		if (r != p || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
			bad++;
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert(eq(int, bad, 0), "%d overflows not reported as SIGSEGV",
	    bad);
	/* Each one reported, naming the overflow. */
	cr_assert(eq(int, count_lines(path, "stack overflow in green process"),
	    100));
	/*
	 * And each one's backtrace names the overflowing function: its
	 * frame #0 is overflow_here or its memset, and a recursion that ran
	 * through the stack leaves overflow_here in every frame after, up
	 * to the frame cap.  So every report, not just some, must name it;
	 * a count of lines would not tell (one report names it ~60 times).
	 * Except where the machine layer cannot read a fault's registers
	 * (ARCH=generic: gpi_md_fault_regs gives zeros): then every report
	 * must say so instead.
	 */
	named = count_reports_naming(path, "stack overflow in green process",
	    "overflow_here", first, sizeof(first));
	noregs = count_reports_naming(path, "stack overflow in green process",
	    "(no backtrace: no registers from the fault)", first,
	    sizeof(first));
	if (noregs == 100 && named == 0)
		cr_log_warn("no backtraces in overflow reports: this build "
		    "cannot read a fault's registers");
	else
		cr_assert(eq(int, named, 100), "%d of 100 reports name "
		    "overflow_here; the first:\n%s", named, first);
	unlink(path);
	/* The host and the bystander ran on. */
	cr_assert(ge(int, atomic_load(&bystander_ticks), 1));
	cr_assert(eq(int, gp_kill(by, 0), 0));
	atomic_store(&bystander_ticks, 1000000);
	cr_assert(eq(int, gp_waitpid(by, &st, 0), by));
	ok = WIFEXITED(st) && WEXITSTATUS(st) == 7;
	cr_assert(eq(int, ok, 1), "bystander status %#x", st);
	/* Nothing leaked: stacks, LWPs and processes back where they were. */
	for (i = 0; i < 200; i++) {
		cr_assert(eq(int, gp_stats(&after), 0));
		if (after.live_stacks == before.live_stacks &&
		    after.live_lwps == before.live_lwps &&
		    after.live_procs == before.live_procs)
			break;
		usleep(5000);
	}
	cr_assert(eq(long, after.live_stacks, before.live_stacks));
	cr_assert(eq(long, after.live_lwps, before.live_lwps));
	cr_assert(eq(long, after.live_procs, before.live_procs));
	cr_assert(eq(u64, (uint64_t)(after.exits - before.exits), 101));
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* ------------------------------------------------------------ SIGQUIT */

static atomic_int worker_ticks;

static int
parked_for_the_sigquit_dump(void *arg)
{
	struct timespec ts = { 5, 0 };

	(void)arg;
	gp_nanosleep(&ts, NULL);
	return 0;
}

static int
busy_worker(void *arg)
{
	(void)arg;
	for (;;) {
		atomic_fetch_add(&worker_ticks, 1);
		gp_yield();
	}
	return 0;
}

Test(fault, sigquit_dump_is_written_while_work_goes_on)
{
	char path[64], buf[65536];
	pid_t parked, busy;
	int before, st, tries;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/gp-dump-%d.txt", (int)getpid());
	unlink(path);
	cr_assert(eq(int, setenv("GREENPROC_DUMP_SIGNAL", "QUIT", 1), 0));
	cr_assert(eq(int, setenv("GREENPROC_DUMP_FILE", path, 1), 0));
	cr_assert(eq(int, gp_init(2), 0));
	parked = gp_spawn(parked_for_the_sigquit_dump, NULL, NULL);
	busy = gp_spawn(busy_worker, NULL, NULL);
	usleep(100000);
	before = atomic_load(&worker_ticks);
	cr_assert(eq(int, kill(getpid(), SIGQUIT), 0));
	/* The dump thread writes it; the busy process keeps running. */
	for (tries = 0, n = 0; tries < 200; tries++) {
		usleep(10000);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, "parked_for_the_sigquit_dump") != NULL)
			break;
	}
	cr_assert(not(eq(ptr, strstr(buf, "dump on signal 3"), NULL)),
	    "no dump in %s: %s", path, buf);
	cr_assert(not(eq(ptr, strstr(buf, "parked_for_the_sigquit_dump"),
	    NULL)), "the parked function is not in the dump: %s", buf);
	/*
	 * Work went on: the busy process ticks after the signal.  Waited
	 * for, not sampled once: on a loaded host a worker thread may not
	 * get a CPU for tens of milliseconds.
	 */
	for (tries = 0; tries < 500 && atomic_load(&worker_ticks) <= before;
	    tries++)
		usleep(10000);
	cr_assert(ge(int, atomic_load(&worker_ticks), before + 1));
	gp_kill(busy, SIGKILL);
	gp_kill(parked, SIGKILL);
	cr_assert(eq(int, gp_waitpid(busy, &st, 0), busy));
	cr_assert(eq(int, gp_waitpid(parked, &st, 0), parked));
	unlink(path);
	unsetenv("GREENPROC_DUMP_SIGNAL");
	unsetenv("GREENPROC_DUMP_FILE");
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* ------------------------------------------------------------ stuck */

static atomic_int spinning;

static void *
compute_loop(void *arg)
{
	(void)arg;
	atomic_store(&spinning, 1);
	for (;;)
		atomic_fetch_add(&spinning, 1);	/* never a runtime call */
	return NULL;
}

/*
 * A shutdown facing an LWP that never reaches a cancellation point gives
 * up after GREENPROC_EXIT_TIMEOUT_MS, names the LWP, and fails with
 * EBUSY; the rest is freed and the host goes on.
 */
Test(fault, shutdown_names_a_stuck_lwp_and_fails_with_ebusy)
{
	char path[64];
	gp_lwp_t l;
	int saved, rc, err;

	cr_assert(eq(int, setenv("GREENPROC_EXIT_TIMEOUT_MS", "200", 1), 0));
	cr_assert(eq(int, gp_init(2), 0));
	cr_assert(eq(int, gp_lwp_create(&l, compute_loop, NULL, NULL), 0));
	while (atomic_load(&spinning) == 0)
		usleep(1000);
	saved = redirect_stderr(path, sizeof(path));
	rc = gp_shutdown();
	err = errno;
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert(eq(int, rc, -1));
	cr_assert(eq(int, err, EBUSY));
	cr_assert(ge(int, count_lines(path, "never reached a cancellation"),
	    1));
	unlink(path);
	unsetenv("GREENPROC_EXIT_TIMEOUT_MS");
}

/* ------------------------------------------------------------ other faults */

static int __attribute__((noinline))
null_deref_in_green_code(int *p)
{
	return *(volatile int *)p + 1;
}

/*
 * A fault nobody handles in init's own green code (an LWP a host thread
 * made) is the host's: the green backtrace is printed, then the default
 * action, so the host dies of SIGSEGV.
 */
static void *
null_deref_on_init_lwp(void *arg)
{
	return (void *)(intptr_t)null_deref_in_green_code(arg);
}

Test(fault, a_fault_in_init_prints_the_green_backtrace_then_kills_the_host)
{
	char path[64], line[512];
	bool named = false, died;
	pid_t child;
	gp_lwp_t l;
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "/tmp/gp-segv-%d.log", (int)getpid());
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

		dup2(fd, STDERR_FILENO);
		if (gp_init(2) != 0)
			_exit(90);
		if (gp_lwp_create(&l, null_deref_on_init_lwp, NULL, NULL) != 0)
			_exit(91);
		sleep(10);
		_exit(92);	/* the host should be dead by now */
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	/*
	 * Under ASan its own SEGV handler was there first, so it gets the
	 * fault (ours chains to it): it reports and exits with its code.
	 */
	if (getenv("GREENPROC_TEST_SAN") != NULL &&
	    *getenv("GREENPROC_TEST_SAN") != '\0') {
		died = WIFSIGNALED(st) || (WIFEXITED(st) &&
		    WEXITSTATUS(st) != 0 && WEXITSTATUS(st) < 90);
		cr_assert(died, "status %#x", st);
	} else
		cr_assert(eq(int, WIFSIGNALED(st) ? WTERMSIG(st) : -st,
		    SIGSEGV));
	cr_assert(not(eq(ptr, f = fopen(path, "r"), NULL)));
	while (fgets(line, sizeof(line), f) != NULL)
		named |= strstr(line, "null_deref_in_green_code") != NULL &&
		    strstr(line, "#0") != NULL;
	fclose(f);
	unlink(path);
	cr_assert(named, "no frame #0 in null_deref_in_green_code");
}

/* ------------------------------------------------------------ fault kinds */

static int
exit_seven(void *arg)
{
	(void)arg;
	return 7;
}

static int
fault_entry(void *arg)
{
	return 100 + fault_make(arg);
}

/*
 * (name) in a green process kills it with its signal, reported with its
 * backtrace on stderr (a raise of a fault signal: not reported); a
 * bystander runs on and exits normally, and the runtime keeps its counts
 * (nothing leaked).  Twice, on two workers.
 */
static void
contain(const char *name)
{
	const struct fault_kind *k = NULL;
	struct gp_counters before, after;
	int i, st, saved, ok, reports;
	char path[64];
	pid_t by, p;
	size_t j;

	for (j = 0; j < NFAULT_KINDS; j++)
		if (strcmp(fault_kinds[j].name, name) == 0)
			k = &fault_kinds[j];
	if (k == NULL)
		cr_skip_test("no %s fault on this machine", name);
	if (fault_asan_takes(k))
		cr_skip_test("ASan's handler takes %s", name);
	atomic_store(&bystander_ticks, 0);
	cr_assert(eq(int, gp_init(2), 0));
	cr_assert(eq(int, gp_stats(&before), 0));
	by = gp_spawn(bystander, NULL, NULL);
	cr_assert(ge(int, by, GP_PID_BASE + 1));
	saved = redirect_stderr(path, sizeof(path));
	for (i = 0; i < 2; i++) {
		int t0 = atomic_load(&bystander_ticks);

		p = gp_spawn(fault_entry, (void *)name, NULL);
		cr_assert(ge(int, p, GP_PID_BASE + 1));
		st = -1;
		cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
		ok = WIFSIGNALED(st) && WTERMSIG(st) == k->sig;
		cr_assert(ok, "%s: status %#x, want signal %d", name, st,
		    k->sig);
		/* The bystander ticks on. */
		while (atomic_load(&bystander_ticks) == t0)
			usleep(1000);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	reports = count_lines(path, " in green process ");
	unlink(path);
	cr_assert(eq(int, reports, k->sent ? 0 : 2), "%d reports of %s",
	    reports, name);
	cr_assert(eq(int, gp_kill(by, 0), 0));
	atomic_store(&bystander_ticks, 1000000);
	cr_assert(eq(int, gp_waitpid(by, &st, 0), by));
	ok = WIFEXITED(st) && WEXITSTATUS(st) == 7;
	cr_assert(ok, "bystander status %#x", st);
	for (i = 0; i < 200; i++) {
		cr_assert(eq(int, gp_stats(&after), 0));
		if (after.live_lwps == before.live_lwps &&
		    after.live_procs == before.live_procs)
			break;
		usleep(5000);
	}
	cr_assert(eq(long, after.live_lwps, before.live_lwps));
	cr_assert(eq(long, after.live_procs, before.live_procs));
	cr_assert(eq(int, gp_shutdown(), 0));
}

Test(fault, null_dereference_kills_only_its_process) { contain("null"); }
Test(fault, wild_write_kills_only_its_process) { contain("wild"); }
Test(fault, misaligned_store_kills_only_its_process) { contain("misaligned"); }
Test(fault, abort_kills_only_its_process) { contain("abort"); }
Test(fault, failed_assert_kills_only_its_process) { contain("assert"); }
Test(fault, division_by_zero_kills_only_its_process) { contain("fpe"); }
Test(fault, illegal_instruction_kills_only_its_process) { contain("ill"); }
Test(fault, breakpoint_trap_kills_only_its_process) { contain("trap"); }
Test(fault, bus_error_kills_only_its_process) { contain("bus"); }
Test(fault, overflow_kills_only_its_process) { contain("overflow"); }
/* raise(3) of a fault signal at SIG_DFL: the same death, no report. */
Test(fault, raise_sigsegv_kills_only_its_process) { contain("raise-segv"); }
Test(fault, raise_sigbus_kills_only_its_process) { contain("raise-bus"); }
Test(fault, raise_sigill_kills_only_its_process) { contain("raise-ill"); }
Test(fault, raise_sigfpe_kills_only_its_process) { contain("raise-fpe"); }
Test(fault, raise_sigtrap_kills_only_its_process) { contain("raise-trap"); }

/*
 * raise(3) of a fault signal the program handles (a handler installed
 * before gp_init, behind the runtime's) runs the handler on the raising
 * LWP, and raise returns; at SIG_IGN it is ignored, as the kernel
 * ignores a sent signal (only a real fault at SIG_IGN is forced to its
 * default).  Either way the green process goes on and exits normally.
 */
static const int raised_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
#define NRAISED	(sizeof(raised_sigs) / sizeof(raised_sigs[0]))
static atomic_int raised_hits;
static _Thread_local int raised_on_me;	/* the handler ran on this thread */

static void
count_raised(int sig)
{
	(void)sig;
	atomic_fetch_add(&raised_hits, 1);
	raised_on_me++;
}

static int
raise_each(void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < NRAISED; i++)
		if (raise(raised_sigs[i]) != 0)
			return 1;
	return 0;
}

static void
raise_with(void (*handler)(int), int want_hits)
{
	struct sigaction sa, old[NRAISED];
	int st, ok;
	size_t i;
	pid_t p;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	for (i = 0; i < NRAISED; i++)
		cr_assert(eq(int, sigaction(raised_sigs[i], &sa, &old[i]), 0));
	atomic_store(&raised_hits, 0);
	cr_assert(eq(int, gp_init(2), 0));
	p = gp_spawn(raise_each, NULL, NULL);
	cr_assert(ge(int, p, GP_PID_BASE + 1));
	cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
	ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	cr_assert(ok, "status %#x", st);
	cr_assert(eq(int, atomic_load(&raised_hits), want_hits));
	cr_assert(eq(int, gp_shutdown(), 0));
	for (i = 0; i < NRAISED; i++)
		cr_assert(eq(int, sigaction(raised_sigs[i], &old[i], NULL), 0));
}

Test(fault, raise_of_a_handled_fault_signal_runs_the_handler)
{
	raise_with(count_raised, (int)NRAISED);
	/* On the LWP, not on this (host) thread. */
	cr_assert(eq(int, raised_on_me, 0));
}

Test(fault, raise_of_an_ignored_fault_signal_is_ignored)
{
	raise_with(SIG_IGN, 0);
}

/*
 * A fault on a spare worker is contained too.  The watchdog starts the
 * spares, and its thread blocks every signal: a spare that kept that
 * mask had SIGSEGV blocked, so the kernel killed the host at its first
 * fault, without a word (found as fault::hundred_overflows_* crashing
 * under ASan now and then: its slow handler let the watchdog start a
 * spare, which stole the next overflowing process).  Here a hog holds
 * the only worker, so the overflow runs on a spare.
 */
static atomic_int hog_held, hog_release;

static int
hog(void *arg)
{
	(void)arg;
	atomic_store(&hog_held, 1);
	while (!atomic_load(&hog_release))
		;
	return 0;
}

Test(fault, a_fault_on_a_spare_worker_kills_only_its_process)
{
	struct gp_counters st;
	char path[64];
	int stat = -1, saved, ok, reports;
	pid_t h, p;

	cr_assert(eq(int, gp_init(1), 0));
	h = gp_spawn(hog, NULL, NULL);
	cr_assert(gt(int, h, 0));
	while (!atomic_load(&hog_held))
		usleep(1000);
	saved = redirect_stderr(path, sizeof(path));
	p = gp_spawn(overflow, NULL, NULL);
	cr_assert(gt(int, p, 0));
	cr_assert(eq(int, gp_waitpid(p, &stat, 0), p));
	dup2(saved, STDERR_FILENO);
	close(saved);
	reports = count_lines(path, "stack overflow in green process");
	unlink(path);
	ok = WIFSIGNALED(stat) && WTERMSIG(stat) == SIGSEGV;
	cr_assert(ok, "status %#x", stat);
	cr_assert(eq(int, reports, 1));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(long, st.spare_workers, 1L), "no spare was started");
	atomic_store(&hog_release, 1);
	cr_assert(eq(int, gp_waitpid(h, &stat, 0), h));
	cr_assert(eq(int, stat, 0));
	cr_assert(eq(int, gp_shutdown(), 0));
}

/*
 * A handler the program installed before gp_init runs for a fault in
 * green code (in the faulting context) instead of the containment: here
 * SIGTRAP's, after which int3 goes on.
 */
static atomic_int traps;

static void
count_trap(int sig)
{
	(void)sig;
	atomic_fetch_add(&traps, 1);
}

Test(fault, the_programs_own_handler_runs_instead)
{
	struct sigaction sa, old;
	int st, ok;
	pid_t p;

#if !defined(__x86_64__) && !defined(__i386__)
	cr_skip_test("no int3 here");
#endif
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_trap;
	cr_assert(eq(int, sigaction(SIGTRAP, &sa, &old), 0));
	cr_assert(eq(int, gp_init(2), 0));
	p = gp_spawn(fault_entry, (void *)"trap", NULL);
	cr_assert(eq(int, gp_waitpid(p, &st, 0), p));
	/* fault_make returns -2 after an int3 that did not kill. */
	ok = WIFEXITED(st) && WEXITSTATUS(st) == 98;
	cr_assert(ok, "status %#x", st);
	cr_assert(eq(int, atomic_load(&traps), 1));
	cr_assert(eq(int, gp_shutdown(), 0));
	cr_assert(eq(int, sigaction(SIGTRAP, &old, NULL), 0));
}

/*
 * Not contained: a fault on a host thread, and a fault signal somebody
 * sent the host (kill -SEGV, kill -ABRT) while green code runs: the host
 * dies of it, default action, as without the runtime.
 */
static int
spin_green(void *arg)
{
	(void)arg;
	for (;;)
		gp_yield();
	return 0;
}

static int
host_dies_of(int how)
{
	pid_t child;
	int st;

	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO);
		if (gp_init(2) != 0 || gp_spawn(spin_green, NULL, NULL) < 0)
			_exit(90);
		usleep(20000);
		if (how == 0)
			(void)fault_make("fpe");	/* on the host thread */
		else
			kill(getpid(), how);
		sleep(10);
		_exit(92);
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	return WIFSIGNALED(st) ? WTERMSIG(st) : -st;
}

Test(fault, a_host_fault_or_a_sent_signal_kills_the_host)
{
	int r;

	if (getenv("GREENPROC_TEST_SAN") == NULL ||
	    *getenv("GREENPROC_TEST_SAN") == '\0') {
		cr_assert(eq(int, host_dies_of(0), SIGFPE));
		cr_assert(eq(int, host_dies_of(SIGSEGV), SIGSEGV));
	} else {
		/* ASan's SEGV handler, chained to, reports and exits. */
		r = host_dies_of(SIGSEGV);
		cr_assert(r == SIGSEGV || (r < 0 && r > -90 * 256),
		    "status %#x", -r);
	}
	cr_assert(eq(int, host_dies_of(SIGABRT), SIGABRT));
	cr_assert(eq(int, host_dies_of(SIGILL), SIGILL));
	cr_assert(eq(int, host_dies_of(SIGTRAP), SIGTRAP));
}

/*
 * A fault in a process's own exit (a gp_at_exit callout runs in exit1,
 * after the other LWPs are gone): no proxy can be made in an exiting
 * process and nobody else would finish the exit, so it is not contained:
 * the host dies of the fault, rather than its parent waiting for ever.
 */
static void
faulting_callout(pid_t pid)
{
	(void)null_deref_in_green_code((int *)(intptr_t)(pid & 0));
}

Test(fault, a_fault_in_exit1_kills_the_host_instead_of_hanging)
{
	pid_t child;
	int st, hung;

	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		int fd = open("/dev/null", O_WRONLY);
		pid_t p;

		dup2(fd, STDERR_FILENO);
		alarm(20);	/* a hang dies of SIGALRM */
		if (gp_init(1) != 0 || gp_at_exit(faulting_callout) != 0 ||
		    (p = gp_spawn(exit_seven, NULL, NULL)) < 0)
			_exit(90);
		(void)gp_waitpid(p, &st, 0);
		_exit(92);
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	hung = WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM;
	cr_assert(eq(int, hung, 0), "the host hung: status %#x", st);
	/* Under ASan its SEGV handler reports and exits instead. */
	if (getenv("GREENPROC_TEST_SAN") == NULL ||
	    *getenv("GREENPROC_TEST_SAN") == '\0')
		cr_assert(eq(int, WIFSIGNALED(st) ? WTERMSIG(st) : -st,
		    SIGSEGV));
}

/* ------------------------------------------------------------ joined */

/*
 * A fault nobody handles on an LWP a host thread made, which that thread
 * joins: the host dies of the fault.  The join must never see the faulted
 * LWP as one that ended (it once returned 0 with a NULL value, and the
 * host exited 0, about half the time).  Codes >= 90 are the child's own.
 */
Test(fault, a_fault_on_a_joined_init_lwp_is_never_a_successful_exit)
{
	int i, st, rc, bad = 0, first = 0;
	bool san = getenv("GREENPROC_TEST_SAN") != NULL &&
	    *getenv("GREENPROC_TEST_SAN") != '\0';
	char path[64];
	gp_lwp_t l;
	pid_t child;
	void *v;

	snprintf(path, sizeof(path), "/tmp/gp-joined-%d.log", (int)getpid());
	for (i = 0; i < 20; i++) {
		fflush(NULL);
		child = fork();
		cr_assert(ge(int, child, 0));
		if (child == 0) {
			/* A file, not /dev/null: the report takes its time. */
			int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

			dup2(fd, STDERR_FILENO);
			if (gp_init(2) != 0)
				_exit(90);
			if (gp_lwp_create(&l, null_deref_on_init_lwp, NULL,
			    NULL) != 0)
				_exit(91);
			v = (void *)1;
			rc = gp_lwp_join(l, &v);
			/* Not reached: the host is dead of SIGSEGV by now. */
			_exit(rc == 0 ? (v == NULL ? 0 : 92) : 93);
		}
		cr_assert(eq(int, waitpid(child, &st, 0), child));
		/* Under ASan, its SEGV handler reports and exits (see above). */
		if (san ? !(WIFSIGNALED(st) || (WIFEXITED(st) &&
		    WEXITSTATUS(st) != 0 && WEXITSTATUS(st) < 90)) :
		    !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)) {
			if (bad++ == 0)
				first = st;
		}
	}
	unlink(path);
	cr_assert(eq(int, bad, 0), "%d of 20 hosts did not die of the fault; "
	    "the first: status %#x", bad, first);
}

/* ------------------------------------------------------------ init exits */

static int exit_pipe[2];

/* How many green processes are still running (not zombies)? */
static void
host_atexit_reports(void)
{
	char *buf = NULL, *line, *save;
	size_t len = 0;
	long running = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL || gp_ps(f) != 0)
		_exit(95);
	fclose(f);
	/* Skip the header and the counters footer; STAT is column 4. */
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char st[8] = "";

		if (strncmp(line, "--", 2) == 0 || strstr(line, "PID") != NULL)
			continue;
		if (sscanf(line, "%*d %*d %*d %7s", st) == 1 &&
		    strcmp(st, "Z") != 0)
			running++;
	}
	free(buf);
	if (write(exit_pipe[1], &running, sizeof(running)) !=
	    (ssize_t)sizeof(running))
		_exit(93);
}

static int
sleeper_forever(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	for (;;)
		gp_nanosleep(&ts, NULL);
	return 0;
}

static void *
init_lwp_exits_the_host(void *arg)
{
	struct timespec ts = { 0, 20000000 };

	(void)arg;
	gp_nanosleep(&ts, NULL);
	gp_exit(5);
}

/*
 * gp_exit on an LWP of init is the host's exit(3): the green processes
 * are killed and gone before the host's atexit handlers run.
 */
Test(fault, gp_exit_on_an_init_lwp_ends_the_host_after_the_green_ones)
{
	gp_lwp_t l;
	pid_t child;
	long live = -2;
	int st, i;

	cr_assert(eq(int, pipe(exit_pipe), 0));
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		if (gp_init(2) != 0)
			_exit(90);
		atexit(host_atexit_reports);
		for (i = 0; i < 5; i++)
			if (gp_spawn(sleeper_forever, NULL, NULL) < 0)
				_exit(91);
		if (gp_lwp_create(&l, init_lwp_exits_the_host, NULL, NULL) != 0)
			_exit(92);
		sleep(20);
		_exit(94);
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	cr_assert(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -st, 5));
	cr_assert(eq(int, (int)read(exit_pipe[0], &live, sizeof(live)),
	    (int)sizeof(live)));
	/* Every green process was dead (a zombie) before the host's atexit. */
	cr_assert(eq(long, live, 0));
}
