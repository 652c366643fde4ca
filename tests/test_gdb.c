/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_gdb.c -- tools/greenproc-gdb.py under gdb in batch mode.
 *
 * tests/programs/gdb_target parks one green process's LWP in a uniquely
 * named function, keeps another running, and calls greenproc_gdb_marker.
 * The live test runs it under gdb with a breakpoint there and checks that
 * "info green" lists both processes and their LWPs and that "green bt"
 * unwinds the parked LWP (by tid and by pointer) and shows the running
 * one's worker thread.  The core test lets the program abort() at the
 * same point and runs the same commands on the kernel's core file.
 *
 * Skipped, with the reason, where gdb is not on PATH and in sanitizer
 * builds (gdb is slow on them and the script is not what they test).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(gdb, .timeout = 120.0);

/* ------------------------------------------------------------ helpers */

static char gdb_path[PATH_MAX];

/* gdb on PATH, or skip; and skip under a sanitizer. */
static void
need_gdb(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (san != NULL && san[0] != '\0')
		cr_skip_test("gdb test skipped in the SAN=%s build", san);
	if (path == NULL)
		path = "/usr/bin:/bin";
	copy = strdup(path);
	cr_assert(ne(ptr, copy, NULL));
	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(gdb_path, sizeof(gdb_path), "%s/gdb",
		    dir[0] != '\0' ? dir : ".");
		if (access(gdb_path, X_OK) == 0) {
			free(copy);
			return;
		}
	}
	free(copy);
	cr_skip_test("gdb not found on PATH: the gdb helper is not tested");
}

static const char *
build_dir(void)
{
	const char *b = getenv("GREENPROC_TEST_BUILD");

	return b != NULL && b[0] != '\0' ? b : "build";
}

/* The helper program, built by the Makefile from tests/programs/. */
static void
target_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/tests/programs/gdb_target", build_dir());
	cr_assert(eq(int, access(buf, X_OK), 0), "%s: %s", buf,
	    strerror(errno));
}

/*
 * tools/greenproc-gdb.py: next to the build tree (build/ and build-SAN/
 * are in the repository root), else under the working directory (make
 * test runs from the root), else next to this file.
 */
static void
script_path(char *buf, size_t len)
{
	char dir[PATH_MAX - 64], *slash;

	snprintf(dir, sizeof(dir), "%s", build_dir());
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		snprintf(buf, len, "%s/tools/greenproc-gdb.py", dir);
		if (access(buf, R_OK) == 0)
			return;
	}
	snprintf(buf, len, "tools/greenproc-gdb.py");
	if (access(buf, R_OK) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	snprintf(buf, len, "%s/../tools/greenproc-gdb.py", dir);
	cr_assert(eq(int, access(buf, R_OK), 0), "greenproc-gdb.py not found");
}

/*
 * Run argv (argv[0] a path) with stdout and stderr into a string; in
 * (dir) if not NULL, with core dumps allowed if (cores).  Returns the
 * output (the caller frees it); *status is the wait status.
 */
static char *
run(char *const argv[], const char *dir, int cores, int *status)
{
	char *out;
	int fds[2], devnull;
	struct rlimit rl;
	pid_t pid;

	cr_assert(eq(int, pipe2(fds, O_CLOEXEC), 0));
	pid = fork();
	cr_assert(ge(int, (int)pid, 0));
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (dir != NULL && chdir(dir) != 0)
			_exit(126);
		if (cores) {
			rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
			if (setrlimit(RLIMIT_CORE, &rl) != 0) {
				getrlimit(RLIMIT_CORE, &rl);
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_CORE, &rl);
			}
		}
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	out = tu_read_all(fds[0]);
	cr_assert(ne(ptr, out, NULL));
	close(fds[0]);
	cr_assert(eq(int, (int)waitpid(pid, status, 0), (int)pid));
	return out;
}

static int
has(const char *out, const char *s)
{
	return strstr(out, s) != NULL;
}

/*
 * "    lwp N      sleeping" under "pid P (gdb-target)" in info green's
 * output: N, or -1.
 */
static int
parked_tid(const char *out)
{
	const char *p = strstr(out, "(gdb-target)");
	int tid;

	if (p == NULL || (p = strstr(p, "\n    lwp ")) == NULL ||
	    sscanf(p, "\n    lwp %d sleeping", &tid) != 1)
		return -1;
	return tid;
}

/* Common checks on info green + green bt output. */
static void
check_green_output(const char *out)
{
	char want[64];
	int tid;

	cr_assert(eq(int, has(out, "no pid table found"), 0),
	    "no runtime debug info?\n%s", out);
	cr_assert(eq(int, has(out, "Traceback"), 0), "python error:\n%s",
	    out);
	/* info green: init, both processes, their LWPs. */
	cr_assert(eq(int, has(out, " (init) "), 1), "%s", out);
	cr_assert(eq(int, has(out, " (gdb-target) "), 1), "%s", out);
	cr_assert(eq(int, has(out, " (gdb-spinner) "), 1), "%s", out);
	tid = parked_tid(out);
	cr_assert(gt(int, tid, 0), "no sleeping LWP under gdb-target:\n%s",
	    out);
	/* green bt of the parked LWP: its header, then the frames. */
	snprintf(want, sizeof(want), "lwp %d of pid ", tid);
	cr_assert(eq(int, has(out, want), 1), "%s", out);
	cr_assert(eq(int, has(out, "in gdb_target_parked_in_unique_function "
	    "at gdb_target.c:"), 1), "no frame in the parked function:\n%s",
	    out);
	cr_assert(eq(int, has(out, "in gp_nanosleep at lwp.c:"), 1), "%s",
	    out);
	cr_assert(eq(int, has(out, "in gpi_lwp_start at lwp.c:"), 1), "%s",
	    out);
	cr_assert(eq(int, has(out, "unwinder failed"), 0), "%s", out);
	cr_assert(eq(int, has(out, "backtrace ends"), 0), "%s", out);
	/* green bt of the running LWP: its worker thread's backtrace. */
	cr_assert(eq(int, has(out, "(running on worker "), 1), "%s", out);
	cr_assert(eq(int, has(out, "gdb_target_spinning_function ()"), 1),
	    "%s", out);
}

/* ------------------------------------------------------------ tests */

Test(gdb, info_green_and_green_bt_on_a_live_process)
{
	char prog[PATH_MAX], script[PATH_MAX], src[PATH_MAX + 16];
	char *out;
	int status;

	need_gdb();
	target_path(prog, sizeof(prog));
	script_path(script, sizeof(script));
	snprintf(src, sizeof(src), "source %s", script);
	{
		char *const argv[] = {
			gdb_path, "-nx", "-batch",
			"-ex", "set debuginfod enabled off",
			"-ex", "set pagination off",
			"-ex", "break greenproc_gdb_marker",
			"-ex", "run",
			"-ex", src,
			"-ex", "info green",
			"-ex", "green bt gdb_target_lwp->l_tid",
			"-ex", "green bt gdb_target_lwp",
			"-ex", "green bt gdb_spinner_lwp",
			"-ex", "kill",
			prog, NULL
		};

		out = run(argv, NULL, 0, &status);
	}
	cr_log_info("gdb:\n%s", out);
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0),
	    "gdb status %#x:\n%s", status, out);
	cr_assert(eq(int, has(out, "hit Breakpoint 1, greenproc_gdb_marker"),
	    1), "the program never reached the marker:\n%s", out);
	check_green_output(out);
	free(out);
}

/* The core file the kernel wrote in dir: "core" or "core.PID". */
static int
find_core(const char *dir, char *buf, size_t len)
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "core", 4) == 0 &&
		    (de->d_name[4] == '\0' || de->d_name[4] == '.')) {
			snprintf(buf, len, "%s/%s", dir, de->d_name);
			found = 1;
			break;
		}
	closedir(d);
	return found;
}

static void
remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

Test(gdb, info_green_and_green_bt_on_a_core_file)
{
	char prog[PATH_MAX], script[PATH_MAX], src[PATH_MAX + 16];
	char dir[] = "/tmp/greenproc-gdb-XXXXXX", core[PATH_MAX];
	char pattern[256] = "?";
	char *out;
	FILE *f;
	int status;

	need_gdb();
	target_path(prog, sizeof(prog));
	script_path(script, sizeof(script));
	snprintf(src, sizeof(src), "source %s", script);
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	{
		char *const argv[] = { prog, "abort", NULL };

		out = run(argv, dir, 1, &status);
	}
	free(out);
	if (!find_core(dir, core, sizeof(core))) {
		if ((f = fopen("/proc/sys/kernel/core_pattern", "r")) != NULL) {
			if (fgets(pattern, sizeof(pattern), f) != NULL)
				pattern[strcspn(pattern, "\n")] = '\0';
			fclose(f);
		}
		remove_dir(dir);
		cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		    SIGABRT), "gdb_target abort: status %#x", status);
		cr_skip_test("no core file written here (core_pattern \"%s\", "
		    "core dumped: %d): the core-file path is not tested",
		    pattern, WCOREDUMP(status) ? 1 : 0);
	}
	{
		char *const argv[] = {
			gdb_path, "-nx", "-batch",
			"-ex", "set debuginfod enabled off",
			"-ex", "set pagination off",
			"-ex", src,
			"-ex", "info green",
			"-ex", "green bt all",
			prog, core, NULL
		};

		out = run(argv, NULL, 0, &status);
	}
	remove_dir(dir);
	cr_log_info("gdb:\n%s", out);
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0),
	    "gdb status %#x:\n%s", status, out);
	check_green_output(out);
	free(out);
}
