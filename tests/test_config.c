/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c -- the GREENPROC_* environment and gp_init's argument.
 *
 * A bad value is never ignored in silence: the runtime prints one line
 * on stderr per bad variable (name, value, why, the default it uses) and
 * runs with the default.  Each case runs in a child of its own (the
 * environment is read once per process, and the complaint is made once
 * per process), with stderr in a file the test reads afterwards.
 * gp_init() refuses a worker count beyond GP_WORKERS_MAX at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"

/* Internals (the runner links the static library). */
size_t		gpi_stack_default(void);
uint64_t	gpi_exit_timeout_ns(void);

/* A broken gp_init(huge) starts threads for a minute: bound it. */
TestSuite(config, .timeout = 60.0);

/* What a child saw of the runtime it started. */
struct seen {
	int	init_rc;	/* gp_init(0), then errno if -1 */
	int	init_errno;
	long	nworkers;
	long	stack;		/* gpi_stack_default() */
	long	exit_ms;	/* gpi_exit_timeout_ns() in ms */
	int	child_exit;	/* a spawned process's exit code, or -1 */
	int	dump_handler;	/* gp_init installed a SIGQUIT handler */
	int	fault_handler;	/* gp_init installed a SIGSEGV handler */
	int	dumped;		/* a SIGQUIT dump reached stderr */
};

static char errbuf[16384];	/* the child's stderr */

static int
ret_7(void *arg)
{
	(void)arg;
	return 7;
}

static bool
handler_changed(int sig, const struct sigaction *before)
{
	struct sigaction now;

	sigaction(sig, NULL, &now);
	return now.sa_handler != before->sa_handler;
}

static size_t
read_all(int fd, char *buf, size_t max)
{
	ssize_t n = pread(fd, buf, max - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

/* In the child: start, use, stop and restart the runtime; report. */
static void
probe_child(int errfd, struct seen *out, bool quit)
{
	struct sigaction quit0, segv0;
	char buf[sizeof(errbuf)];
	uint64_t end;
	pid_t p;
	int ws;

	sigaction(SIGQUIT, NULL, &quit0);
	sigaction(SIGSEGV, NULL, &segv0);
	out->init_rc = gp_init(0);
	out->init_errno = errno;
	if (out->init_rc != 0)
		return;
	out->dump_handler = handler_changed(SIGQUIT, &quit0);
	out->fault_handler = handler_changed(SIGSEGV, &segv0);
	{
		struct gp_counters st;

		if (gp_stats(&st) == 0)
			out->nworkers = st.nworkers;
	}
	out->stack = (long)gpi_stack_default();
	out->exit_ms = (long)(gpi_exit_timeout_ns() / TU_MS);
	out->child_exit = -1;
	if ((p = gp_spawn(ret_7, NULL, NULL)) > 0 &&
	    gp_waitpid(p, &ws, 0) == p && WIFEXITED(ws))
		out->child_exit = WEXITSTATUS(ws);
	if (quit && out->dump_handler) {
		/* The dump thread writes it; wait for it (not timed). */
		raise(SIGQUIT);
		end = tu_now_ns() + 20 * TU_S;
		while (tu_now_ns() < end) {
			read_all(errfd, buf, sizeof(buf));
			if (strstr(buf, "greenproc: dump on signal") != NULL) {
				out->dumped = 1;
				break;
			}
			tu_host_sleep_ns(TU_MS);
		}
	}
	/* Once per process: a second start complains no more. */
	(void)gp_shutdown();
	(void)gp_init(0);
	(void)gp_shutdown();
}

/*
 * Run probe_child with (name)=(value) (and name2=value2 if not NULL) in
 * a fork of this test; its stderr lands in errbuf.
 */
static struct seen
probe2(const char *name, const char *value, const char *name2,
    const char *value2)
{
	struct seen *sh;
	struct seen s;
	int errfd, ws;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, (void *)sh, MAP_FAILED));
	memset(sh, 0, sizeof(*sh));
	sh->init_rc = -2;
	errfd = memfd_create("stderr", MFD_CLOEXEC);
	cr_assert(ge(int, errfd, 0), "memfd_create: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, (int)pid, 0));
	if (pid == 0) {
		dup2(errfd, 2);
		setenv(name, value, 1);
		if (name2 != NULL)
			setenv(name2, value2, 1);
		probe_child(errfd, sh, name2 != NULL &&
		    strcmp(name2, "GREENPROC_DUMP_SIGNAL") == 0);
		_exit(0);
	}
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	read_all(errfd, errbuf, sizeof(errbuf));
	close(errfd);
	cr_assert(eq(int, ws, 0), "the probe died: status %#x; stderr:\n%s",
	    ws, errbuf);
	s = *sh;
	munmap(sh, sizeof(*sh));
	cr_assert(eq(int, s.init_rc, 0), "gp_init: %s", strerror(s.init_errno));
	return s;
}

static struct seen
probe(const char *name, const char *value)
{
	return probe2(name, value, NULL, NULL);
}

/* Lines of (text) that contain (needle). */
static int
count_lines(const char *text, const char *needle)
{
	const char *l = text, *nl;
	int n = 0;
	char line[1024];

	for (; *l != '\0'; l = nl + 1) {
		size_t len;

		nl = strchr(l, '\n');
		if (nl == NULL)
			nl = l + strlen(l) - 1;
		len = (size_t)(nl - l + 1);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		if (strstr(line, needle) != NULL)
			n++;
	}
	return n;
}

/*
 * Exactly one line names (name)=(value), says why (why) and the default
 * (dflt), and nothing else complains.
 */
static void
assert_one_line(const char *name, const char *value, const char *why,
    const char *dflt)
{
	char what[256];

	snprintf(what, sizeof(what), "greenproc: %s=%s: ", name, value);
	cr_assert(eq(int, count_lines(errbuf, what), 1),
	    "want one line starting \"%s\" on stderr; got:\n%s", what, errbuf);
	cr_assert(eq(int, count_lines(errbuf, why), 1),
	    "want the reason \"%s\"; got:\n%s", why, errbuf);
	cr_assert(eq(int, count_lines(errbuf, dflt), 1),
	    "want the default \"%s\"; got:\n%s", dflt, errbuf);
	cr_assert(eq(int, count_lines(errbuf, "greenproc: "), 1),
	    "other complaints:\n%s", errbuf);
}

static long
ncpu_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > GP_WORKERS_MAX ? GP_WORKERS_MAX : n;
}

Test(config, bad_workers_are_named_and_the_default_used)
{
	static const char *const bad[][2] = {
		{ "-3", "not in 1.." }, { "abc", "not a number" },
		{ "4x", "not a number" }, { "0", "not in 1.." },
		{ "100000", "not in 1.." },
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = probe("GREENPROC_WORKERS", bad[i][0]);
		assert_one_line("GREENPROC_WORKERS", bad[i][0], bad[i][1],
		    "using the default");
		cr_assert(eq(long, s.nworkers, ncpu_workers()),
		    "GREENPROC_WORKERS=%s", bad[i][0]);
	}
	/* A good value: used, and nothing said. */
	s = probe("GREENPROC_WORKERS", "1");
	cr_assert(eq(long, s.nworkers, 1));
	cr_assert(eq(str, errbuf, ""));
}

Test(config, bad_stack_size_is_named_and_the_default_used)
{
	static const char *const bad[][2] = {
		{ "abc", "not a number" }, { "1", "not in 16384.." },
		{ "64k", "not a number" }, { "-65536", "not in 16384.." },
		{ "99999999999999999999", "not in 16384.." },
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = probe("GREENPROC_STACK_SIZE", bad[i][0]);
		assert_one_line("GREENPROC_STACK_SIZE", bad[i][0], bad[i][1],
		    "using the default, 65536");
		cr_assert(eq(long, s.stack, 65536), "STACK_SIZE=%s",
		    bad[i][0]);
		cr_assert(eq(int, s.child_exit, 7));
	}
	s = probe("GREENPROC_STACK_SIZE", "0x20000");
	cr_assert(eq(long, s.stack, 0x20000));
	cr_assert(eq(str, errbuf, ""));
}

Test(config, bad_exit_timeout_is_named_and_the_default_used)
{
	static const char *const bad[][2] = {
		{ "junk", "not a number" }, { "0", "not in 1.." },
		{ "-5", "not in 1.." }, { "10 ms", "not a number" },
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = probe("GREENPROC_EXIT_TIMEOUT_MS", bad[i][0]);
		/* Read by both shutdowns: still one line. */
		assert_one_line("GREENPROC_EXIT_TIMEOUT_MS", bad[i][0],
		    bad[i][1], "using the default, 2000");
		cr_assert(eq(long, s.exit_ms, 2000));
	}
	s = probe("GREENPROC_EXIT_TIMEOUT_MS", "300");
	cr_assert(eq(long, s.exit_ms, 300));
	cr_assert(eq(str, errbuf, ""));
}

Test(config, bad_max_procs_is_named_and_the_default_used)
{
	static const char *const bad[][2] = {
		{ "0", "not in 1.." }, { "-1", "not in 1.." },
		{ "lots", "not a number" }, { "99999999", "not in 1.." },
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = probe("GREENPROC_MAX_PROCS", bad[i][0]);
		assert_one_line("GREENPROC_MAX_PROCS", bad[i][0], bad[i][1],
		    "using the default, 2097152");
		cr_assert(eq(int, s.child_exit, 7), "MAX_PROCS=%s: no spawn",
		    bad[i][0]);
	}
}

Test(config, bad_dump_signal_is_named_and_none_installed)
{
	static const char *const bad[][2] = {
		{ "BOGUS", "not a signal" }, { "SIGBOGUS", "not a signal" },
		{ "99", "not a signal" }, { "-1", "not a signal" },
		{ "9", "cannot take" },
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = probe("GREENPROC_DUMP_SIGNAL", bad[i][0]);
		assert_one_line("GREENPROC_DUMP_SIGNAL", bad[i][0], bad[i][1],
		    "using the default, none");
		cr_assert(eq(int, s.dump_handler, 0));
	}
	s = probe("GREENPROC_DUMP_SIGNAL", "SIGQUIT");
	cr_assert(eq(int, s.dump_handler, 1));
	cr_assert(eq(str, errbuf, ""));
}

Test(config, bad_no_fault_handler_is_named_and_the_handler_installed)
{
	struct seen s;

	s = probe("GREENPROC_NO_FAULT_HANDLER", "yes");
	assert_one_line("GREENPROC_NO_FAULT_HANDLER", "yes", "not 0 or 1",
	    "using the default, 0");
	cr_assert(eq(int, s.fault_handler, 1));
	s = probe("GREENPROC_NO_FAULT_HANDLER", "1");
	cr_assert(eq(int, s.fault_handler, 0));
	cr_assert(eq(str, errbuf, ""));
	s = probe("GREENPROC_NO_FAULT_HANDLER", "0");
	cr_assert(eq(int, s.fault_handler, 1));
	cr_assert(eq(str, errbuf, ""));
}

Test(config, unopenable_dump_file_is_named_and_stderr_used)
{
	struct seen s;

	s = probe2("GREENPROC_DUMP_FILE", "/nonexistent/greenproc/dump",
	    "GREENPROC_DUMP_SIGNAL", "QUIT");
	cr_assert(eq(int, s.dump_handler, 1));
	cr_assert(eq(int, s.dumped, 1), "no dump on stderr:\n%s", errbuf);
	cr_assert(eq(int, count_lines(errbuf, "greenproc: GREENPROC_DUMP_FILE="
	    "/nonexistent/greenproc/dump: "), 1), "stderr:\n%s", errbuf);
	cr_assert(eq(int, count_lines(errbuf, "using the default, stderr"), 1),
	    "stderr:\n%s", errbuf);
}

Test(config, gp_init_refuses_more_workers_than_the_cap_at_once)
{
	int counts[] = { GP_WORKERS_MAX + 1, 100000, INT_MAX };
	struct gp_counters st;
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		errno = 0;
		cr_assert(eq(int, gp_init(counts[i]), -1), "gp_init(%d)",
		    counts[i]);
		cr_assert(eq(int, errno, EINVAL), "gp_init(%d): %s", counts[i],
		    strerror(errno));
	}
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.nworkers, 0), "a refused gp_init started workers");
	/* Refused while up too: the argument is checked first. */
	cr_assert(eq(int, gp_init(1), 0));
	errno = 0;
	cr_assert(eq(int, gp_init(GP_WORKERS_MAX + 1), -1));
	cr_assert(eq(int, errno, EINVAL));
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* The real start-up path: a program exec'd with every bad value at once. */
Test(config, a_program_with_bad_values_says_so_and_runs_with_defaults)
{
	static const char *const vars[][3] = {
		{ "GREENPROC_WORKERS", "-3", "not in 1.." },
		{ "GREENPROC_STACK_SIZE", "abc", "not a number" },
		{ "GREENPROC_DUMP_SIGNAL", "BOGUS", "not a signal" },
		{ "GREENPROC_MAX_PROCS", "0", "not in 1.." },
		{ "GREENPROC_EXIT_TIMEOUT_MS", "junk", "not a number" },
		{ "GREENPROC_NO_FAULT_HANDLER", "maybe", "not 0 or 1" },
	};
	const char *build = getenv("GREENPROC_TEST_BUILD");
	char prog[4096], out[4096], want[64], what[256];
	int errfd, outfd, ws;
	size_t i;
	pid_t pid;

	cr_assert(ne(ptr, (void *)build, NULL), "run with make test");
	snprintf(prog, sizeof(prog), "%s/tests/programs/config_probe", build);
	errfd = memfd_create("stderr", MFD_CLOEXEC);
	outfd = memfd_create("stdout", MFD_CLOEXEC);
	cr_assert(ge(int, errfd, 0));
	cr_assert(ge(int, outfd, 0));
	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, (int)pid, 0));
	if (pid == 0) {
		dup2(outfd, 1);
		dup2(errfd, 2);
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			setenv(vars[i][0], vars[i][1], 1);
		execl(prog, prog, (char *)NULL);
		dprintf(2, "exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	read_all(errfd, errbuf, sizeof(errbuf));
	read_all(outfd, out, sizeof(out));
	cr_assert(eq(int, ws, 0), "status %#x; stdout:\n%s\nstderr:\n%s", ws,
	    out, errbuf);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		snprintf(what, sizeof(what), "greenproc: %s=%s: %s", vars[i][0],
		    vars[i][1], vars[i][2]);
		cr_assert(eq(int, count_lines(errbuf, what), 1),
		    "want one line \"%s...\"; stderr:\n%s", what, errbuf);
	}
	cr_assert(eq(int, count_lines(errbuf, "greenproc: "), 6),
	    "stderr:\n%s", errbuf);
	snprintf(want, sizeof(want), "nworkers %ld\n", ncpu_workers());
	cr_assert(ne(ptr, (void *)strstr(out, want), NULL), "stdout:\n%s", out);
	cr_assert(ne(ptr, (void *)strstr(out, "child exit 7\n"), NULL),
	    "stdout:\n%s", out);
	close(errfd);
	close(outfd);
}
