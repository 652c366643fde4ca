/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * demo.c -- greenproc's process model, end to end, as a short story.
 *
 * A "shell" green process starts a few jobs, some with children of their
 * own, then works through them one scene at a time:
 *
 *   1. the process tree (init -> shell -> jobs -> their children), one
 *      job being legacy code (examples/legacy.c) run with gp_spawn_main;
 *   2. job control: SIGSTOP, a stopped-report through WUNTRACED, gp_ps
 *      while jobs are stopped, SIGCONT and its WCONTINUED report;
 *   3. a caught signal: the worker's SIGUSR1 handler (gp_sigaction);
 *   4. legacy code under the preload: a libc-only job with getpid,
 *      atexit, pthreads, usleep, a mutex and a condition variable, real
 *      fork/exec children and waitpid, exit(3); the shell stops it midway
 *      and takes a gp_dump of everything;
 *   5. exits: a build job waits for its compilers' statuses, then exits,
 *      its gp_atexit handlers running last-registered-first;
 *   6. a reaper: "svc" holds reaper status; its child "launcher" exits
 *      and leaves two daemons behind, which svc adopts and reaps;
 *   7. kills: SIGKILL of a stopped job, SIGTERM of a running one, and a
 *      SIGTERM that the legacy spinner catches with signal().
 *
 * Init (this host thread) waits for the shell, then prints the counters
 * and shuts the runtime down.  The demo itself uses only the public API;
 * `make demo` runs it under LD_PRELOAD=libgreenproc_preload.so, which
 * gives the legacy code's libc calls their green meaning (the preload
 * exports the gp_ API too, so the demo's calls reach the same runtime).
 *
 * Scenes are kept in order with a few shared flags that green code polls
 * with gp_nanosleep (a cancellation point, so signals, stops and kills
 * are taken while waiting).  Every check that fails prints UNEXPECTED and
 * makes the program exit 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* sigabbrev_np */
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"
#include "legacy.h"

#define NJOBPROCS	9	/* processes below the shell that say hello() */
#define NLEGACY		2	/* legacy processes: the spinner and the job */
#define AWAIT_MS	3000	/* no gate takes this long unless broken */
#define NO_PRELOAD	2	/* the shell's status without the preload */

static atomic_int failures;

/* Gates: the shell releases each scene; children report progress. */
static atomic_int started;		/* processes below the shell, up */
static atomic_int go_build;		/* scene 4 */
static atomic_int go_reaper;		/* scene 5 */
static atomic_int daemons_ready;	/* daemons that saw their first parent */
static atomic_long ticks;		/* the worker's LWPs' work */
static atomic_int usr1_caught;		/* the worker's handler ran */
static atomic_int sigchld_caught;	/* the shell's handler ran */

/* ------------------------------------------------------------ helpers */

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	atomic_fetch_add(&failures, 1);
	va_start(ap, fmt);
	printf("UNEXPECTED: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* A caught signal (the shell's SIGCHLD) interrupts: sleep the rest. */
	while (gp_nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Wait until *v >= want, taking signals meanwhile; 0, or -1 on timeout. */
static int
await(atomic_int *v, int want, const char *what)
{
	int ms;

	for (ms = 0; ms < AWAIT_MS; ms++) {
		if (atomic_load(v) >= want)
			return 0;
		nap_ms(1);
	}
	check(0, "timed out waiting for %s", what);
	return -1;
}

/* Who is who: every process registers itself when it starts. */
struct proc_info {
	pid_t	pid;
	pid_t	ppid;
	char	name[32];
};
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc_info reg[32];
static int nreg;

static void
reg_add(pid_t pid, pid_t ppid, const char *name)
{
	pthread_mutex_lock(&reg_lock);
	if (nreg < (int)(sizeof(reg) / sizeof(reg[0]))) {
		reg[nreg].pid = pid;
		reg[nreg].ppid = ppid;
		snprintf(reg[nreg].name, sizeof(reg[nreg].name), "%s", name);
		nreg++;
	}
	pthread_mutex_unlock(&reg_lock);
}

static const char *
name_of(pid_t pid)
{
	const char *name = "?";
	int i;

	if (pid == GP_PID_INIT)
		return "init";
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nreg; i++)
		if (reg[i].pid == pid)
			name = reg[i].name;
	pthread_mutex_unlock(&reg_lock);
	return name;		/* entries are never changed once added */
}

/* Register the calling process under (name); count it as started. */
static void
hello(const char *name)
{
	reg_add(gp_getpid(), gp_getppid(), name);
	atomic_fetch_add(&started, 1);
}

static pid_t
spawn_named(int (*fn)(void *), void *arg, const char *name)
{
	gp_attr_t *attr;
	pid_t pid;
	int error;

	if ((error = gp_attr_init(&attr)) != 0 ||
	    (error = gp_attr_setname(attr, name)) != 0) {
		check(0, "gp_attr for %s: %s", name, strerror(error));
		return -1;
	}
	pid = gp_spawn(fn, arg, attr);
	gp_attr_destroy(attr);
	check(pid > 0, "gp_spawn(%s): %s", name, strerror(errno));
	return pid;
}

/* gp_spawn_main an unmodified main(); registered here: it cannot hello(). */
static pid_t
spawn_main_named(int (*fn)(int, char **), int argc, char **argv,
    const char *name)
{
	gp_attr_t *attr;
	pid_t pid;
	int error;

	if ((error = gp_attr_init(&attr)) != 0 ||
	    (error = gp_attr_setname(attr, name)) != 0) {
		check(0, "gp_attr for %s: %s", name, strerror(error));
		return -1;
	}
	pid = gp_spawn_main(fn, argc, argv, attr);
	gp_attr_destroy(attr);
	check(pid > 0, "gp_spawn_main(%s): %s", name, strerror(errno));
	if (pid > 0)
		reg_add(pid, gp_getpid(), name);
	return pid;
}

/* A wait status in words. */
static const char *
describe(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "WIFEXITED, WEXITSTATUS = %d",
		    WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "WIFSIGNALED, WTERMSIG = %d (SIG%s)",
		    WTERMSIG(st), sigabbrev_np(WTERMSIG(st)));
	else if (WIFSTOPPED(st))
		snprintf(buf, len, "WIFSTOPPED, WSTOPSIG = %d (SIG%s)",
		    WSTOPSIG(st), sigabbrev_np(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(buf, len, "WIFCONTINUED");
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

/* waitpid and say what came back; returns the status (or -1). */
static int
wait_report(const char *who, pid_t pid, int options, const char *optname)
{
	char buf[96];
	pid_t r;
	int st = 0;

	r = gp_waitpid(pid, &st, options);
	if (r != pid) {
		check(0, "%s: gp_waitpid(%d, %s) = %d: %s", who, (int)pid,
		    optname, (int)r, strerror(errno));
		return -1;
	}
	printf("  %s: gp_waitpid(%s, %s) -> %s\n", who, name_of(pid),
	    optname, describe(st, buf, sizeof(buf)));
	return st;
}

static void
scene(const char *title)
{
	printf("\n== %s\n", title);
}

/* ------------------------------------------------------------ build */

/* A compiler: the first one succeeds, the second fails. */
static int
cc_main(void *arg)
{
	int idx = (int)(long)arg;
	const char *name = idx == 0 ? "cc main.c" : "cc util.c";

	hello(name);
	await(&go_build, 1, "the build gate");
	nap_ms(20 + 30 * idx);
	if (idx == 0) {
		printf("  [%s] main.o written, exiting 0\n", name);
		return 0;			/* returning is gp_exit(0) */
	}
	printf("  [%s] util.c:42: error: expected ';', exiting 1\n", name);
	gp_exit(1);
}

static void
build_atexit_1(void)
{
	printf("  [build] atexit #1 (registered first, runs last): "
	    "remove the temp dir\n");
}

static void
build_atexit_2(void)
{
	printf("  [build] atexit #2: close build.log\n");
}

static void
build_atexit_3(void)
{
	printf("  [build] atexit #3 (registered last, runs first): "
	    "print summary\n");
}

static int
build_main(void *arg)
{
	pid_t pid;
	int st, failed = 0, n = 0;
	char buf[96];

	(void)arg;
	gp_atexit(build_atexit_1);
	gp_atexit(build_atexit_2);
	gp_atexit(build_atexit_3);
	spawn_named(cc_main, (void *)0L, "cc main.c");
	spawn_named(cc_main, (void *)1L, "cc util.c");
	hello("build");
	await(&go_build, 1, "the build gate");
	printf("  [build] waiting for my 2 compilers\n");
	while ((pid = gp_waitpid(-1, &st, 0)) > 0) {
		printf("  [build] gp_waitpid(-1) -> %s: %s\n", name_of(pid),
		    describe(st, buf, sizeof(buf)));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		n++;
	}
	check(errno == ECHILD && n == 2, "build reaped %d (errno %d)", n,
	    errno);
	printf("  [build] %d of %d units failed: gp_exit(%d)\n", failed, n,
	    failed);
	gp_exit(failed);
}

/* ------------------------------------------------------------ worker */

static void
worker_usr1(int sig)
{
	/* Runs on one of the worker's LWPs, at a cancellation point. */
	printf("  [worker] handler for SIG%s runs in pid %d, ticks so far: "
	    "%ld\n", sigabbrev_np(sig), (int)gp_getpid(), atomic_load(&ticks));
	atomic_store(&usr1_caught, 1);
}

static void *
tick_lwp(void *arg)
{
	(void)arg;
	for (;;) {
		atomic_fetch_add(&ticks, 1);
		nap_ms(2);		/* a cancellation point */
	}
	return NULL;
}

/* Two LWPs doing the work; the first LWP joins them (until killed). */
static int
worker_main(void *arg)
{
	struct sigaction sa;
	gp_lwp_t lwp[2];
	int i, error;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	check(gp_sigaction(SIGUSR1, &sa, NULL) == 0, "worker sigaction: %s",
	    strerror(errno));
	for (i = 0; i < 2; i++) {
		error = gp_lwp_create(&lwp[i], tick_lwp, NULL, NULL);
		check(error == 0, "gp_lwp_create: %s", strerror(error));
	}
	printf("  [worker] 2 LWPs ticking (gp_lwp_create); my first LWP "
	    "joins them\n");
	hello("worker");
	for (i = 0; i < 2; i++)
		gp_lwp_join(lwp[i], NULL);	/* they never end */
	return 0;
}

/* ------------------------------------------------------------ sleeper */

static int
sleeper_main(void *arg)
{
	(void)arg;
	hello("sleeper");
	for (;;)
		nap_ms(60 * 1000);
	return 0;
}

/* ------------------------------------------------------------ reaper */

static pid_t svc_pid;

static int
daemon_main(void *arg)
{
	int idx = (int)(long)arg, ms;
	const char *name = idx == 0 ? "daemon-a" : "daemon-b";
	pid_t before, after;

	hello(name);
	await(&go_reaper, 1, "the reaper gate");
	nap_ms(10 * idx);		/* a tidier story: a first, then b */
	before = gp_getppid();
	printf("  [%s] gp_getppid() = %d (%s)\n", name, (int)before,
	    name_of(before));
	atomic_fetch_add(&daemons_ready, 1);
	for (ms = 0; ms < AWAIT_MS && (after = gp_getppid()) == before; ms++)
		nap_ms(1);
	printf("  [%s] gp_getppid() = %d (%s): adopted by the reaper\n",
	    name, (int)after, name_of(after));
	check(after == svc_pid, "%s adopted by %d, not by svc %d", name,
	    (int)after, (int)svc_pid);
	nap_ms(20 + 20 * idx);
	printf("  [%s] exiting %d\n", name, 20 + idx);
	return 20 + idx;
}

static int
launcher_main(void *arg)
{
	(void)arg;
	spawn_named(daemon_main, (void *)0L, "daemon-a");
	spawn_named(daemon_main, (void *)1L, "daemon-b");
	hello("launcher");
	await(&go_reaper, 1, "the reaper gate");
	await(&daemons_ready, 2, "the daemons");
	printf("  [launcher] exiting without waiting for my daemons\n");
	return 0;
}

static int
svc_main(void *arg)
{
	char buf[96];
	pid_t pid;
	int st, n = 0;

	(void)arg;
	svc_pid = gp_getpid();
	check(gp_reaper_acquire() == 0, "gp_reaper_acquire: %s",
	    strerror(errno));
	spawn_named(launcher_main, NULL, "launcher");
	hello("svc");
	/* Blocks until scene 5: the launcher, then its orphans. */
	while ((pid = gp_waitpid(-1, &st, 0)) > 0) {
		printf("  [svc] gp_waitpid(-1) -> %s (pid %d): %s\n",
		    name_of(pid), (int)pid, describe(st, buf, sizeof(buf)));
		n++;
	}
	check(errno == ECHILD && n == 3, "svc reaped %d (errno %d)", n, errno);
	printf("  [svc] gp_waitpid(-1): ECHILD, reaped %d; exiting 0\n", n);
	return 0;
}

/* ------------------------------------------------------------ shell */

static int
by_pid(const void *a, const void *b)
{
	const struct proc_info *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The registry as a tree, children in pid (= spawn) order. */
static void
print_tree(pid_t pid, int depth)
{
	struct proc_info v[32];
	int i, n;

	pthread_mutex_lock(&reg_lock);
	n = nreg;
	memcpy(v, reg, sizeof(v));
	pthread_mutex_unlock(&reg_lock);
	qsort(v, (size_t)n, sizeof(v[0]), by_pid);
	for (i = 0; i < n; i++) {
		if (v[i].ppid != pid)
			continue;
		printf("  %*s%s %d\n", 4 * depth, "", v[i].name, (int)v[i].pid);
		print_tree(v[i].pid, depth + 1);
	}
}

static void
shell_sigchld(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigchld_caught, 1);
}

/* Wait until the legacy spinner has spun (it says nothing until then). */
static int
await_spins(long want)
{
	int ms;

	for (ms = 0; ms < AWAIT_MS; ms++) {
		if (legacy_spin_count() >= want)
			return 0;
		nap_ms(1);
	}
	check(0, "timed out waiting for the spinner");
	return -1;
}

static int
shell_main(void *arg)
{
	pid_t build, worker, sleeper, svc, spinner, job;
	char *spinner_argv[] = { "spinner", NULL };
	char *job_argv[] = { "legacy-job", "3", NULL };
	struct sigaction sa;
	long t0, t1, t2, s0, s1, s2;
	int st;

	(void)arg;
	/*
	 * The legacy code needs the preload: without it, its libc calls are
	 * the host's (getpid() is the kernel's pid, pthread_create makes a
	 * real thread, usleep blocks a worker) and scene 7 would never end.
	 */
	if (getpid() != gp_getpid())
		return NO_PRELOAD;
	reg_add(gp_getpid(), gp_getppid(), "shell");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = shell_sigchld;
	sa.sa_flags = SA_RESTART;	/* our waits carry on after it */
	sigemptyset(&sa.sa_mask);
	check(gp_sigaction(SIGCHLD, &sa, NULL) == 0, "shell sigaction: %s",
	    strerror(errno));

	/* ---------------------------------------------------------- 1 */
	scene("1. A tree of green processes");
	printf("  [shell] pid %d, parent %d (%s), group %d\n",
	    (int)gp_getpid(), (int)gp_getppid(), name_of(gp_getppid()),
	    (int)gp_getpgid(0));
	build = spawn_named(build_main, NULL, "build");
	worker = spawn_named(worker_main, NULL, "worker");
	svc = spawn_named(svc_main, NULL, "svc");
	sleeper = spawn_named(sleeper_main, NULL, "sleeper");
	if (await(&started, NJOBPROCS, "the jobs to start") != 0)
		return 1;
	printf("  [shell] gp_spawn_main(legacy_spinner, {\"spinner\"}): "
	    "examples/legacy.c, libc only\n");
	spinner = spawn_main_named(legacy_spinner, 1, spinner_argv,
	    "spinner");
	if (spinner < 0 || await_spins(1) != 0)
		return 1;
	printf("  [shell] all %d jobs and their children are up:\n",
	    NJOBPROCS + 1);
	printf("  init %d\n", GP_PID_INIT);
	print_tree(GP_PID_INIT, 1);
	nap_ms(50);

	/* ---------------------------------------------------------- 2 */
	scene("2. Job control: SIGSTOP, WUNTRACED, SIGCONT, WCONTINUED");
	printf("  [shell] the worker has ticked %ld times, the spinner spun "
	    "%ld times\n", atomic_load(&ticks), legacy_spin_count());
	printf("  [shell] gp_kill(SIGSTOP) to worker, sleeper and spinner\n");
	gp_kill(worker, SIGSTOP);
	gp_kill(sleeper, SIGSTOP);
	gp_kill(spinner, SIGSTOP);
	st = wait_report("shell", worker, WUNTRACED, "WUNTRACED");
	check(st != -1 && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	    "worker not reported stopped");
	st = wait_report("shell", sleeper, WUNTRACED, "WUNTRACED");
	check(st != -1 && WIFSTOPPED(st), "sleeper not reported stopped");
	st = wait_report("shell", spinner, WUNTRACED, "WUNTRACED");
	check(st != -1 && WIFSTOPPED(st), "spinner not reported stopped");
	nap_ms(30);		/* each LWP parks at its next nap */
	t1 = atomic_load(&ticks);
	s1 = legacy_spin_count();
	nap_ms(100);
	t2 = atomic_load(&ticks);
	s2 = legacy_spin_count();
	printf("  [shell] worker's tick counter: %ld, 100 ms later: %ld "
	    "(frozen)\n", t1, t2);
	printf("  [shell] spinner's usleep() loop: %ld, 100 ms later: %ld "
	    "(frozen)\n", s1, s2);
	check(t1 == t2, "a stopped worker ticked %ld times", t2 - t1);
	check(s1 == s2, "a stopped spinner spun %ld times", s2 - s1);
	printf("  [shell] gp_ps(stdout) with three jobs stopped:\n");
	fflush(stdout);
	gp_ps(stdout);
	printf("  [shell] gp_kill(SIGCONT) to worker and spinner\n");
	gp_kill(worker, SIGCONT);
	gp_kill(spinner, SIGCONT);
	st = wait_report("shell", worker, WCONTINUED, "WCONTINUED");
	check(st != -1 && WIFCONTINUED(st), "worker not reported continued");
	st = wait_report("shell", spinner, WCONTINUED, "WCONTINUED");
	check(st != -1 && WIFCONTINUED(st), "spinner not reported continued");
	nap_ms(50);
	t0 = atomic_load(&ticks);
	s0 = legacy_spin_count();
	printf("  [shell] 50 ms later: %ld ticks, %ld spins: both going "
	    "again\n", t0, s0);
	check(t0 > t2, "a continued worker does not tick");
	check(s0 > s2, "a continued spinner does not spin");

	/* ---------------------------------------------------------- 3 */
	scene("3. A caught signal (gp_sigaction)");
	printf("  [shell] gp_kill(worker, SIGUSR1)\n");
	gp_kill(worker, SIGUSR1);
	await(&usr1_caught, 1, "the worker's SIGUSR1 handler");
	printf("  [shell] the worker lives on after its handler\n");
	check(gp_kill(worker, 0) == 0, "worker gone after SIGUSR1");

	/* ---------------------------------------------------------- 4 */
	scene("4. Legacy code under the preload (examples/legacy.c: libc "
	    "only)");
	printf("  [shell] gp_spawn_main(legacy_job, {\"legacy-job\", \"3\"})\n");
	job = spawn_main_named(legacy_job, 2, job_argv, "legacy-job");
	if (job < 0)
		return 1;
	nap_ms(100);		/* its threads are in usleep() by now */
	printf("  [shell] gp_kill(legacy-job, SIGSTOP) while its threads "
	    "sleep\n");
	gp_kill(job, SIGSTOP);
	st = wait_report("shell", job, WUNTRACED, "WUNTRACED");
	check(st != -1 && WIFSTOPPED(st), "legacy-job not reported stopped");
	printf("  [shell] gp_dump(stdout): every process and LWP, "
	    "legacy-job and sleeper stopped:\n");
	fflush(stdout);
	gp_dump(stdout);
	fflush(stdout);
	printf("  [shell] gp_kill(legacy-job, SIGCONT)\n");
	gp_kill(job, SIGCONT);
	st = wait_report("shell", job, WCONTINUED, "WCONTINUED");
	check(st != -1 && WIFCONTINUED(st), "legacy-job not reported "
	    "continued");
	st = wait_report("shell", job, 0, "0");
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3,
	    "legacy-job's status");

	/* ---------------------------------------------------------- 5 */
	scene("5. Exits, wait statuses and gp_atexit handlers (LIFO)");
	atomic_store(&go_build, 1);
	st = wait_report("shell", build, 0, "0");
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "build's status");

	/* ---------------------------------------------------------- 6 */
	scene("6. A reaper adopts and reaps orphaned grandchildren");
	printf("  [shell] svc called gp_reaper_acquire(); its child launcher "
	    "has two daemons\n");
	atomic_store(&go_reaper, 1);
	st = wait_report("shell", svc, 0, "0");
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "svc's status");

	/* ---------------------------------------------------------- 7 */
	scene("7. Kills: SIGKILL of a stopped job, SIGTERM of running ones");
	printf("  [shell] gp_kill(sleeper, SIGKILL) while it is stopped\n");
	gp_kill(sleeper, SIGKILL);
	st = wait_report("shell", sleeper, 0, "0");
	check(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "sleeper's status");
	printf("  [shell] gp_kill(worker, SIGTERM): both its LWPs and the "
	    "one joining them die\n");
	gp_kill(worker, SIGTERM);
	st = wait_report("shell", worker, 0, "0");
	check(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "worker's status");
	printf("  [shell] gp_kill(spinner, SIGTERM): the legacy code "
	    "catches it\n");
	gp_kill(spinner, SIGTERM);
	st = wait_report("shell", spinner, 0, "0");
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "spinner's status");

	check(gp_waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	    "shell still has children");
	printf("  [shell] gp_waitpid(-1): ECHILD, no children left\n");
	printf("  [shell] my SIGCHLD handler ran %d times (signals of one "
	    "kind coalesce while pending)\n", atomic_load(&sigchld_caught));
	check(atomic_load(&sigchld_caught) > 0, "no SIGCHLD in the shell");
	printf("  [shell] exiting 0\n");
	return 0;
}

/* ------------------------------------------------------------ init */

int
main(void)
{
	struct gp_counters c;
	gp_attr_t *attr;
	pid_t shell;
	char buf[96];
	int st, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("greenproc demo: green processes inside one host process\n");
	if (gp_init(0) != 0) {
		perror("gp_init");
		return 1;
	}
	gp_stats(&c);
	printf("runtime up: %ld worker threads; this host thread is init, "
	    "pid %d\n", c.nworkers, (int)gp_getpid());

	gp_attr_init(&attr);
	gp_attr_setname(attr, "shell");
	shell = gp_spawn(shell_main, NULL, attr);
	gp_attr_destroy(attr);
	if (shell < 0) {
		perror("gp_spawn(shell)");
		return 1;
	}
	if (gp_waitpid(shell, &st, 0) != shell) {
		perror("gp_waitpid(shell)");
		return 1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == NO_PRELOAD) {
		printf("demo: libgreenproc_preload.so is not loaded: run `make "
		    "demo`, or\n  LD_PRELOAD=$PWD/build/libgreenproc_preload.so "
		    "build/demo\n");
		gp_shutdown();
		return 1;
	}
	scene("8. Back in init");
	printf("  [init] gp_waitpid(shell, 0) -> %s\n",
	    describe(st, buf, sizeof(buf)));
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "shell's status");
	printf("  [init] gp_ps(stdout) now that everything is reaped:\n");
	gp_ps(stdout);

	gp_stats(&c);
	printf("  [init] gp_stats:\n");
	printf("    spawns %lu, exits %lu, reaps %lu, live_procs %ld\n",
	    c.spawns, c.exits, c.reaps, c.live_procs);
	printf("    lwps_created %lu, lwps_reaped %lu, live_lwps %ld, "
	    "live_stacks %ld\n", c.lwps_created, c.lwps_reaped, c.live_lwps,
	    c.live_stacks);
	printf("    switches %lu, steals %lu, nworkers %ld\n", c.switches,
	    c.steals, c.nworkers);
	check(c.spawns == NJOBPROCS + NLEGACY + 1 && c.exits == c.spawns &&
	    c.reaps == c.spawns && c.live_procs == 0,
	    "process counters do not balance");

	rc = gp_shutdown();
	printf("  [init] gp_shutdown() = %d\n", rc);
	check(rc == 0, "gp_shutdown: %s", strerror(errno));
	if (atomic_load(&failures) != 0) {
		printf("demo: %d unexpected results\n",
		    atomic_load(&failures));
		return 1;
	}
	printf("demo: done\n");
	return 0;
}
