/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dump.c -- backtraces of suspended LWPs (runtime/unwind.c) and
 * gp_dump showing them.
 *
 * A green process parks its LWP in a uniquely named function (one long
 * gp_nanosleep, so it stays put while the host looks); the host then
 * asks for its backtrace, directly (gpi_unwind_lwp, reached through the
 * static library) and through gp_dump, and finds that name; also from
 * green code, and in tests/programs/gdb_target under the preload (where
 * green code's getpid() is the green pid).  The churn test unwinds LWPs
 * that keep switching, many times: every walk must end cleanly (a trace,
 * "running" or "kept running"), never crash.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"

/* runtime/unwind.c (hidden; the runner links the static library). */
int	gpi_unwind_lwp(const struct gp_lwp *l, FILE *out, const char *indent);

static void
setup(void)
{
	cr_assert(eq(int, gp_init(2), 0));
}

static void
teardown(void)
{
	cr_assert(eq(int, gp_shutdown(), 0));
}

TestSuite(dump, .init = setup, .fini = teardown, .timeout = 60.0);


/* ------------------------------------------------------------ helpers */

static int
killed_by(int status, int sig)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static int
exited_with(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* No trace, for a good reason: it was running, or ran during the walk. */
static int
said_running(const char *out)
{
	return strstr(out, "(running on a worker)") != NULL ||
	    strstr(out, "(no backtrace: the LWP kept running") != NULL;
}

/* Run fn(arg) with its output in a string; the caller frees it. */
static char *
capture(int (*fn)(FILE *, void *), void *arg, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	cr_assert(ne(ptr, f, NULL));
	*rc = fn(f, arg);
	cr_assert(eq(int, fclose(f), 0));
	return buf;
}

static int
do_dump(FILE *f, void *arg)
{
	(void)arg;
	return gp_dump(f);
}

static int
do_unwind(FILE *f, void *arg)
{
	return gpi_unwind_lwp(arg, f, "      ");
}

/* ------------------------------------------------------------ parked */

static atomic_int parked;		/* set just before the long sleep */
static _Atomic(gp_lwp_t) parked_lwp;
static atomic_int woke;

/* Not inlined, and not a tail call: it keeps a frame of its own. */
__attribute__((noinline)) static void
parked_in_uniquely_named_function(void)
{
	struct timespec ts = tu_ts(30 * TU_S);

	atomic_store(&parked_lwp, gp_lwp_self());
	atomic_store(&parked, 1);
	(void)gp_nanosleep(&ts, NULL);	/* killed here by the host */
	atomic_fetch_add(&woke, 1);
	__asm__ __volatile__("" ::: "memory");
}

static int
parked_main(void *arg)
{
	(void)arg;
	parked_in_uniquely_named_function();
	return 0;
}

/* Spawn the parked process and wait until its LWP is inside the sleep. */
static pid_t
spawn_parked(void)
{
	pid_t pid;

	atomic_store(&parked, 0);
	atomic_store(&parked_lwp, NULL);
	pid = gp_spawn(parked_main, NULL, NULL);
	cr_assert(gt(int, (int)pid, 0), "gp_spawn: %s", strerror(errno));
	cr_assert(eq(int, pt_wait_for(&parked, 1, 10 * TU_S), 0),
	    "the green process never parked");
	return pid;
}

static void
kill_parked(pid_t pid)
{
	int status = 0;

	cr_assert(eq(int, gp_kill(pid, SIGKILL), 0));
	cr_assert(eq(long, pt_waitpid(pid, &status, 0), (long)pid));
	cr_assert(eq(int, killed_by(status, SIGKILL), 1), "status %#x", status);
	cr_assert(eq(int, atomic_load(&woke), 0), "the sleep returned");
}

/*
 * Between "parked" and the switch out there are a few instructions: ask
 * again (for up to 5 s) until the LWP shows the frame, not "running".
 */
static char *
capture_until(int (*fn)(FILE *, void *), void *arg, const char *want)
{
	uint64_t end = tu_now_ns() + 5 * TU_S;
	char *out;
	int rc;

	for (;;) {
		out = capture(fn, arg, &rc);
		cr_assert(eq(int, rc, 0), "output:\n%s", out);
		if (strstr(out, want) != NULL || tu_now_ns() >= end)
			return out;
		free(out);
		tu_host_sleep_ns(TU_MS);
	}
}

Test(dump, unwind_names_the_parked_function)
{
	pid_t pid = spawn_parked();
	gp_lwp_t l = atomic_load(&parked_lwp);
	char *out;

	out = capture_until(do_unwind, l, "parked_in_uniquely_named_function");
	cr_log_info("gpi_unwind_lwp:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_in_uniquely_named_function+0x"),
	    NULL), "no frame in the parked function:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "gp_nanosleep+0x"), NULL),
	    "no frame in gp_nanosleep:\n%s", out);
	/* Frames are numbered from #0 and the walk ends at the entry. */
	cr_assert(eq(int, strncmp(out, "      #0 0x", 11), 0), "%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_main+0x"), NULL), "%s", out);
	cr_assert(eq(ptr, strstr(out, "(backtrace ends"), NULL), "%s", out);
	cr_assert(eq(ptr, strstr(out, "more frames not shown"), NULL), "%s",
	    out);
	free(out);
	kill_parked(pid);
	end_test();
}

Test(dump, gp_dump_names_the_parked_function)
{
	pid_t pid = spawn_parked();
	char *out, tag[64];
	char *line, *w;
	int wid;

	out = capture_until(do_dump, NULL,
	    "parked_in_uniquely_named_function");
	cr_log_info("gp_dump:\n%s", out);
	snprintf(tag, sizeof(tag), "pid %d ", (int)pid);
	cr_assert(ne(ptr, strstr(out, tag), NULL), "pid %d not listed:\n%s",
	    (int)pid, out);
	cr_assert(ne(ptr, strstr(out, "parked_in_uniquely_named_function+0x"),
	    NULL), "gp_dump shows no frame in the parked function (does "
	    "debug.c call gpi_unwind_lwp?):\n%s", out);
	/* A started LWP's line names its worker. */
	line = strstr(out, "sleeping  stack 0x");
	cr_assert(ne(ptr, line, NULL), "no sleeping LWP:\n%s", out);
	w = strstr(line, " worker ");
	cr_assert(ne(ptr, w, NULL), "no worker on the LWP's line:\n%s", out);
	cr_assert(lt(ptr, w, strchr(line, '\n')), "no worker on the LWP's "
	    "line:\n%s", out);
	cr_assert(eq(int, sscanf(w, " worker %d", &wid), 1));
	cr_assert(ge(int, wid, 0));
	free(out);
	kill_parked(pid);
	end_test();
}

/*
 * Names that dladdr cannot give: a hidden-visibility function and a
 * static one are in no dynamic symbol table, only in .symtab, which
 * libdw reads (unwsym.c).
 */
__attribute__((visibility("hidden"))) void
    parked_in_a_hidden_function(void);
__attribute__((noinline, visibility("hidden"))) void
parked_in_a_hidden_function(void)
{
	struct timespec ts = tu_ts(30 * TU_S);

	atomic_store(&parked_lwp, gp_lwp_self());
	atomic_store(&parked, 1);
	(void)gp_nanosleep(&ts, NULL);	/* killed here by the host */
	atomic_fetch_add(&woke, 1);
	__asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void
parked_in_a_static_function(void)
{
	parked_in_a_hidden_function();
	__asm__ __volatile__("" ::: "memory");	/* no tail call */
}

static int
parked_static_main(void *arg)
{
	(void)arg;
	parked_in_a_static_function();
	return 0;
}

Test(dump, gp_dump_names_static_and_hidden_functions)
{
	pid_t pid;
	char *out;

	atomic_store(&parked, 0);
	pid = gp_spawn(parked_static_main, NULL, NULL);
	cr_assert(gt(int, (int)pid, 0), "gp_spawn: %s", strerror(errno));
	cr_assert(eq(int, pt_wait_for(&parked, 1, 10 * TU_S), 0),
	    "the green process never parked");
	out = capture_until(do_dump, NULL, "parked_in_a_hidden_function");
	cr_log_info("gp_dump:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_in_a_hidden_function+0x"),
	    NULL), "the hidden function is not named:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_in_a_static_function+0x"),
	    NULL), "the static function is not named:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_static_main+0x"), NULL),
	    "%s", out);
	free(out);
	kill_parked(pid);
	end_test();
}

/* From green code: a default-sized green stack, so no file:line. */
static char *green_out;

static int
green_unwinder(void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	GCHECK(f != NULL, "open_memstream");
	if (f == NULL)
		return 1;
	GCHECK(gpi_unwind_lwp(arg, f, "  ") == 0, "gpi_unwind_lwp");
	fclose(f);
	green_out = buf;
	return 0;
}

Test(dump, unwind_from_a_green_process)
{
	pid_t pid = spawn_parked(), u;
	uint64_t end = tu_now_ns() + 5 * TU_S;
	int status;

	for (;;) {
		green_out = NULL;
		u = gp_spawn(green_unwinder, atomic_load(&parked_lwp), NULL);
		cr_assert(gt(int, (int)u, 0));
		cr_assert(eq(long, pt_waitpid(u, &status, 0), (long)u));
		cr_assert(eq(int, exited_with(status, 0), 1), "status %#x",
		    status);
		assert_no_green_failures();
		cr_assert(ne(ptr, green_out, NULL));
		if (strstr(green_out, "parked_in_uniquely_named_function+0x") !=
		    NULL || tu_now_ns() >= end)
			break;
		free(green_out);
		tu_host_sleep_ns(TU_MS);
	}
	cr_log_info("gpi_unwind_lwp from green code:\n%s", green_out);
	cr_assert(ne(ptr, strstr(green_out,
	    "parked_in_uniquely_named_function+0x"), NULL), "%s", green_out);
	cr_assert(ne(ptr, strstr(green_out, "gpi_lwp_start+0x"), NULL), "%s",
	    green_out);
	free(green_out);
	kill_parked(pid);
	end_test();
}

/* ------------------------------------------------------------ running */

static atomic_int spin_started, spin_stop;
static _Atomic(gp_lwp_t) spin_lwp;

static int
spinning_main(void *arg)
{
	(void)arg;
	atomic_store(&spin_lwp, gp_lwp_self());
	atomic_store(&spin_started, 1);
	while (!atomic_load(&spin_stop))	/* never yields: LONPROC */
		__asm__ __volatile__("pause" ::: "memory");
	return 0;
}

Test(dump, running_lwp_is_shown_running)
{
	char *out;
	pid_t pid;
	int rc, status = 0;

	pid = gp_spawn(spinning_main, NULL, NULL);
	cr_assert(gt(int, (int)pid, 0));
	cr_assert(eq(int, pt_wait_for(&spin_started, 1, 10 * TU_S), 0));
	out = capture(do_unwind, atomic_load(&spin_lwp), &rc);
	atomic_store(&spin_stop, 1);
	cr_assert(eq(int, rc, 0));
	cr_assert(eq(str, out, "      (running on a worker)\n"));
	free(out);
	cr_assert(eq(long, pt_waitpid(pid, &status, 0), (long)pid));
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x", status);
	end_test();
}

/* ------------------------------------------------------------ churn */

#define CHURNERS	8
#define CHURN_WALKS	300

static atomic_int churn_ready, churn_stop;
static gp_lwp_t churners[CHURNERS];

/* Recurse to a depth that changes, switching at the bottom. */
__attribute__((noinline)) static int
churn_recurse(int depth, int i)
{
	int r;

	if (depth == 0) {
		if (i & 1)
			gp_yield();
		else
			pt_nap_ns(20000);
		return 1;
	}
	r = churn_recurse(depth - 1, i);
	__asm__ __volatile__("" ::: "memory");
	return r + 1;
}

static void *
churn_lwp(void *arg)
{
	int i, id = (int)(intptr_t)arg;

	atomic_fetch_add(&churn_ready, 1);
	for (i = 0; !atomic_load(&churn_stop); i++)
		(void)churn_recurse((i + id) % 13, i);
	return NULL;
}

static int
churn_main(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < CHURNERS; i++)
		GCHECK(gp_lwp_create(&churners[i], churn_lwp,
		    (void *)(intptr_t)i, NULL) == 0, "create %d", i);
	for (i = 0; i < CHURNERS; i++)
		GCHECK(gp_lwp_join(churners[i], NULL) == 0, "join %d", i);
	return 0;
}

/*
 * LWPs that switch all the time, unwound over and over from the host: a
 * walk may catch one mid-switch, and must then say so, not crash.  Every
 * output is a whole trace (to gpi_lwp_start), "running", "kept running",
 * or a trace marked as ending early (torn); most must be whole traces.
 */
Test(dump, churning_lwps_unwind_safely)
{
	int i, rc, traces = 0, torn = 0, status = 0;
	char *out;
	pid_t pid;

	pid = gp_spawn(churn_main, NULL, NULL);
	cr_assert(gt(int, (int)pid, 0));
	cr_assert(eq(int, pt_wait_for(&churn_ready, CHURNERS, 10 * TU_S), 0));
	for (i = 0; i < CHURN_WALKS; i++) {
		out = capture(do_unwind, churners[i % CHURNERS], &rc);
		cr_assert(eq(int, rc, 0), "%s", out);
		if (strstr(out, "(backtrace ends early") != NULL) {
			/* Torn snapshot after every retry: said so. */
			torn++;
		} else if (strstr(out, "churn_lwp+0x") != NULL) {
			/* (gcc may inline churn_recurse's bottom: no name) */
			traces++;
			cr_assert(ne(ptr, strstr(out, "gpi_lwp_start+0x"),
			    NULL), "%s", out);
			cr_assert(eq(ptr, strstr(out, "(backtrace ends"),
			    NULL), "%s", out);
		} else {
			cr_assert(eq(int, said_running(out), 1), "%s", out);
		}
		free(out);
	}
	atomic_store(&churn_stop, 1);
	cr_assert(eq(long, pt_waitpid(pid, &status, 0), (long)pid));
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x", status);
	assert_no_green_failures();
	cr_log_info("%d of %d walks gave a trace, %d a torn one", traces,
	    CHURN_WALKS, torn);
	cr_assert(ge(int, traces, CHURN_WALKS / 4));
	end_test();
}

/* ------------------------------------------------------------ locks */

/* runtime/spin.c: runtime spinlocks this thread holds. */
extern __thread int gpi_tls_nlocks;

struct lockcheck {
	int	 max_locks;	/* most spinlocks held during a write */
	size_t	 bytes;
	int	 traces;	/* writes that hold a frame (" #0 0x") */
};

/* Every line gp_dump writes reaches this at once (unbuffered). */
static ssize_t
lockcheck_write(void *cookie, const char *buf, size_t len)
{
	struct lockcheck *lc = cookie;

	if (gpi_tls_nlocks > lc->max_locks)
		lc->max_locks = gpi_tls_nlocks;
	lc->bytes += len;
	if (memmem(buf, len, " #0 0x", 6) != NULL)
		lc->traces++;
	return (ssize_t)len;
}

static int
dump_to_lockcheck(struct lockcheck *lc)
{
	cookie_io_functions_t io = { .write = lockcheck_write };
	FILE *f;
	int rc;

	f = fopencookie(lc, "w", io);
	cr_assert(ne(ptr, f, NULL));
	setvbuf(f, NULL, _IONBF, 0);
	rc = gp_dump(f);
	fclose(f);
	return rc;
}

/*
 * No I/O and no unwinding under a spinlock (issue 10, item 4): gp_dump
 * snapshots under p_lock and writes after.  Every write of a dump that
 * lists and unwinds a parked LWP sees no runtime spinlock held.
 */
Test(dump, gp_dump_writes_with_no_spinlock_held)
{
	struct lockcheck lc = { 0, 0, 0 };
	pid_t pid = spawn_parked();

	cr_assert(eq(int, dump_to_lockcheck(&lc), 0));
	cr_assert(gt(int, lc.traces, 0));
	cr_assert(eq(int, lc.max_locks, 0),
	    "gp_dump wrote with %d spinlock(s) held", lc.max_locks);
	kill_parked(pid);
	end_test();
}

#define EXITERS		4
#define EXITER_LWPS	4

static atomic_int exit_stop;

static void *
short_lwp(void *arg)
{
	(void)arg;
	pt_nap_ns(500000);
	return NULL;
}

/*
 * Processes of several LWPs, with stacks of an odd size (freed by munmap,
 * not cached), that come and go.
 */
static int
exiter_main(void *arg)
{
	gp_lwp_t l[EXITER_LWPS];
	gp_attr_t *a;
	int i;

	(void)arg;
	GCHECK(gp_attr_init(&a) == 0, "gp_attr_init");
	GCHECK(gp_attr_setstacksize(a, 96 * 1024) == 0, "setstacksize");
	for (i = 0; i < EXITER_LWPS; i++)
		GCHECK(gp_lwp_create(&l[i], short_lwp, NULL, a) == 0,
		    "create %d", i);
	gp_attr_destroy(a);
	/* Half joined, half left behind for the process's exit. */
	for (i = 0; i < EXITER_LWPS / 2; i++)
		GCHECK(gp_lwp_join(l[i], NULL) == 0, "join %d", i);
	return 0;
}

static void *
exiter_host(void *arg)
{
	gp_attr_t *a;
	pid_t pid;
	int status;

	(void)arg;
	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setstacksize(a, 80 * 1024), 0));
	while (!atomic_load(&exit_stop)) {
		pid = gp_spawn(exiter_main, NULL, a);
		if (pid < 0)
			continue;
		(void)pt_waitpid(pid, &status, 0);
	}
	gp_attr_destroy(a);
	return NULL;
}

/*
 * gp_dump while processes exit beside it: what it unwinds after dropping
 * p_lock may have exited and had its stack unmapped meanwhile.  Every
 * dump completes, with no spinlock held while it writes.
 */
Test(dump, gp_dump_beside_exiting_processes)
{
	struct lockcheck lc = { 0, 0, 0 };
	pthread_t t[EXITERS];
	int i;

	atomic_store(&exit_stop, 0);
	for (i = 0; i < EXITERS; i++)
		cr_assert(eq(int, pthread_create(&t[i], NULL, exiter_host,
		    NULL), 0));
	for (i = 0; i < 200; i++)
		cr_assert(eq(int, dump_to_lockcheck(&lc), 0));
	atomic_store(&exit_stop, 1);
	for (i = 0; i < EXITERS; i++)
		pthread_join(t[i], NULL);
	assert_no_green_failures();
	cr_log_info("%d of 200 dumps unwound an LWP", lc.traces);
	cr_assert(gt(int, lc.traces, 0), "no dump found an LWP to unwind");
	cr_assert(eq(int, lc.max_locks, 0),
	    "gp_dump wrote with %d spinlock(s) held", lc.max_locks);
	end_test();
}

/* ------------------------------------------------------------ preload */

/*
 * Run build/tests/programs/(name) (arg) under LD_PRELOAD (gcc's libasan
 * first in ASan builds); its stdout and stderr, and its status.
 */
static char *run_preloaded_at(const char *prog, const char *arg,
    int *status);

static char *
run_preloaded(const char *name, const char *arg, int *status)
{
	const char *build = getenv("GREENPROC_TEST_BUILD");
	char prog[4096];

	cr_assert(eq(int, build != NULL, 1), "GREENPROC_TEST_BUILD is not set");
	snprintf(prog, sizeof(prog), "%s/tests/programs/%s", build, name);
	return run_preloaded_at(prog, arg, status);
}

/* The same, for the program at path (prog). */
static char *
run_preloaded_at(const char *prog, const char *arg, int *status)
{
	const char *build = getenv("GREENPROC_TEST_BUILD");
	const char *asan = getenv("GREENPROC_TEST_SAN_PRELOAD");
	char ld[8300], *out;
	int fds[2];
	pid_t pid;

	cr_assert(eq(int, build != NULL, 1), "GREENPROC_TEST_BUILD is not set");
	snprintf(ld, sizeof(ld), "LD_PRELOAD=%s%s%s/libgreenproc_preload.so",
	    asan != NULL ? asan : "", asan != NULL && asan[0] != '\0' ?
	    " " : "", build);
	cr_assert(eq(int, access(prog, X_OK), 0), "%s: %s", prog,
	    strerror(errno));
	cr_assert(eq(int, pipe(fds), 0));
	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, (int)pid, 0));
	if (pid == 0) {
		char *const argv[] = { (char *)prog, (char *)arg, NULL };

		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		putenv(ld);
		execv(prog, argv);
		_exit(127);
	}
	close(fds[1]);
	out = tu_read_all(fds[0]);
	cr_assert(ne(ptr, out, NULL));
	close(fds[0]);
	cr_assert(eq(int, (int)waitpid(pid, status, 0), (int)pid));
	return out;
}

/* gdb_target dump: a green process's gp_dump names the parked function. */
Test(dump, gp_dump_under_the_preload_from_green_code)
{
	int status = 0;
	char *out = run_preloaded("gdb_target", "dump", &status);

	cr_log_info("gdb_target dump under the preload:\n%s", out);
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x:\n%s",
	    status, out);
	cr_assert(ne(ptr, strstr(out, " (gdb-target)"), NULL), "%s", out);
	cr_assert(ne(ptr, strstr(out,
	    "gdb_target_parked_in_unique_function+0x"), NULL),
	    "no frame in the parked function (does debug.c call "
	    "gpi_unwind_lwp?):\n%s", out);
	free(out);
}

/*
 * Names from a separate debug file: gdb_target stripped, its symbols in
 * gdb_target.debug beside it (found by .gnu_debuglink, as distributions
 * ship them).  The stripped file's .dynsym has no static function, so
 * only a symbolizer that follows the link (libdw's) names the parked one.
 */
Test(dump, gp_dump_names_from_a_separate_debug_file)
{
	const char *build = getenv("GREENPROC_TEST_BUILD");
	char dir[] = "/tmp/gp-debuglink-XXXXXX", cmd[16384], prog[4200];
	int status = 0;
	char *out;

	cr_assert(eq(int, build != NULL, 1), "GREENPROC_TEST_BUILD is not set");
	if (system("command -v objcopy >/dev/null 2>&1") != 0)
		cr_skip_test("no objcopy to strip a program with");
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(prog, sizeof(prog), "%s/gdb_target", dir);
	snprintf(cmd, sizeof(cmd), "cd %s && cp '%s/tests/programs/gdb_target' "
	    "gdb_target && objcopy --only-keep-debug gdb_target "
	    "gdb_target.debug && objcopy --strip-all "
	    "--add-gnu-debuglink=gdb_target.debug gdb_target", dir, build);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
	out = run_preloaded_at(prog, "dump", &status);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	cr_log_info("stripped gdb_target dump under the preload:\n%s", out);
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x:\n%s",
	    status, out);
	cr_assert(ne(ptr, strstr(out,
	    "gdb_target_parked_in_unique_function+0x"), NULL),
	    "the parked function is not named from the debug file:\n%s", out);
	free(out);
}

/*
 * The runtime calls glibc's functions, never the names the preload
 * interposes (issue 10, item 1).  gp_dump from green code, on an LWP
 * whose walk is never whole (the unwinder retries and yields its
 * thread): no green sched_yield, hence no switch with p_lock held
 * (DEBUG=1 panicked).  See tests/programs/dump_preloaded.c.
 */
Test(dump, green_gp_dump_under_the_preload_never_yields_greenly)
{
	int status = 0;
	char *out = run_preloaded("dump_preloaded", "yield", &status);

	cr_log_info("dump_preloaded yield:\n%s", out);
	cr_assert(ne(ptr, strstr(out, "parked_with_a_broken_frame+0x"), NULL),
	    "%s", out);
	cr_assert(eq(ptr, strstr(out, "FAIL"), NULL), "%s", out);
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x:\n%s",
	    status, out);
	free(out);
}

/*
 * gp_dump_on_signal from green code: the dump thread is a host thread
 * (no LWP), it dumps on the signal, and the host's exit() stops it.
 */
Test(dump, green_gp_dump_on_signal_under_the_preload_makes_a_host_thread)
{
	int status = 0;
	char *out = run_preloaded("dump_preloaded", "signal", &status);

	cr_log_info("dump_preloaded signal:\n%s", out);
	cr_assert(eq(ptr, strstr(out, "FAIL"), NULL), "%s", out);
	cr_assert(eq(int, exited_with(status, 0), 1), "status %#x:\n%s",
	    status, out);
	free(out);
}
