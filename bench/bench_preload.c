/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_preload.c -- what a process pays for merely having
 * libgreenproc_preload.so in LD_PRELOAD, when it never runs green code.
 *
 * 1. Exec start-up: posix_spawn + waitpid of /bin/true, RUNS times for
 *    each of three environments: no LD_PRELOAD, LD_PRELOAD of an empty
 *    shared object (build/bench/libempty.so: the price of any preload),
 *    and LD_PRELOAD of the greenproc preload.  Target: the preload within
 *    5 % of the empty object.
 * 2. Workloads, with and without the preload (target: within 2 %):
 *      shell  /bin/sh running a loop of common commands (ls, cat, grep,
 *             date, expr, a pipe), every one of them exec'd under the
 *             preload;
 *      C      this program re-exec'd as a small multi-threaded program:
 *             threads ping-pong through a mutex and a condition variable
 *             (interposed calls on host threads), fork + exec /bin/true
 *             and waitpid.
 *      cc     the C compiler building a generated 400-function file
 *             (cc, cc1, as: what a make -j of a C project runs).
 *      python python3, if there is one: threads, subprocesses and a
 *             multiprocessing pool of 2.
 *      read   host-thread read() of /dev/zero and write() to /dev/null,
 *             IO_CALLS each: the I/O interposers' cost to a host thread
 *             (issue 13: the same as without the preload, within noise).
 *
 * The environments take turns inside one loop (none, empty, preload,
 * none, ...), so a change of load on the machine hits all of them alike
 * (read, cc and python skip the empty preload: nothing compares with it);
 * each figure is the median of its samples.  No timing here is asserted
 * anywhere: tests check behaviour, this program reports.
 */
#define BENCH_LABEL_W	44
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

/*
 * Samples per environment, cut (from 100, 7, 7, 5, 5, 7) so that make
 * bench keeps to minutes: cc and python dominate this program, ~1 s of
 * CPU a sample; the environments alternate, so load hits them alike.
 */
#define EXEC_RUNS	60
#define SHELL_RUNS	5
#define C_RUNS		5
#define CC_RUNS		3
#define PY_RUNS		3
#define CC_FUNCS	200
#define IO_RUNS		5
#define IO_CALLS	100000	/* was 200000 */

#define WL_THREADS	4
#define WL_ROUNDS	2000	/* mutex/cond hand-offs per thread pair */
#define WL_EXECS	10	/* fork + exec per thread */

extern char **environ;

static char preload_so[PATH_MAX + 16];
static char empty_so[PATH_MAX + 16];
static char self_exe[PATH_MAX];

enum { ENV_NONE, ENV_EMPTY, ENV_PRELOAD, NENV };

static const char *const env_name[NENV] = { "no preload", "empty preload",
    "greenproc preload" };
static char **envs[NENV];

static void
die(const char *what)
{
	fprintf(stderr, "bench_preload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* environ without LD_PRELOAD, plus LD_PRELOAD=so if so is not NULL. */
static char **
env_with(const char *so)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	}
	if (so != NULL)
		env[k++] = (char *)so;
	env[k] = NULL;
	return env;
}

/*
 * ns for one posix_spawn + wait of argv under env, and in *cpu the CPU
 * time (user + system) of the child and its descendants, which a loaded
 * machine skews less than the wall time; exits on failure.
 */
static double
run_once(char *const argv[], char **env, double *cpu)
{
	uint64_t t0 = now_ns();
	struct rusage ru;
	pid_t pid;
	int st, error;

	if ((error = posix_spawn(&pid, argv[0], NULL, NULL, argv, env)) != 0) {
		errno = error;
		die(argv[0]);
	}
	if (wait4(pid, &st, 0, &ru) != pid)
		die("wait4");
	*cpu = ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_preload: %s failed (status 0x%x)\n",
		    argv[0], st);
		exit(1);
	}
	return (double)(now_ns() - t0);
}

/*
 * Medians of runs of argv in each environment, in turn: wall time in
 * med[], CPU time in cpu[].
 */
static void
measure(char *const argv[], int runs, bool empty, double med[NENV],
    double cpu[NENV])
{
	double *v[NENV], *c[NENV], dummy;
	int i, e;

	/*
	 * !empty: no run with the empty preload (its figure reads -1): the
	 * long workloads compare with no preload only, and a third fewer
	 * runs keep make bench to minutes.
	 */
#define SKIP(e)	(!empty && (e) == ENV_EMPTY)

	for (e = 0; e < NENV; e++) {
		v[e] = calloc((size_t)runs, sizeof(double));
		c[e] = calloc((size_t)runs, sizeof(double));
		if (v[e] == NULL || c[e] == NULL)
			die("calloc");
	}
	/* One untimed round: page cache and dynamic loader warm. */
	for (e = 0; e < NENV; e++)
		if (!SKIP(e))
			(void)run_once(argv, envs[e], &dummy);
	for (i = 0; i < runs; i++) {
		for (e = 0; e < NENV; e++)
			if (!SKIP(e))
				v[e][i] = run_once(argv, envs[e], &c[e][i]);
	}
#undef SKIP
	for (e = 0; e < NENV; e++) {
		med[e] = e == ENV_EMPTY && !empty ? -1 : median(v[e], runs);
		cpu[e] = e == ENV_EMPTY && !empty ? -1 : median(c[e], runs);
		free(v[e]);
		free(c[e]);
	}
}

/* ours against peer, to a tenth of a percent. */
static void
overhead(const char *what, double peer, double ours, double target_pct)
{
	printf("  %-*s %+9.1f %%   (target %+.0f %%)\n", BENCH_LABEL_W, what,
	    (ours / peer - 1.0) * 100.0, target_pct);
}

/* ------------------------------------------------------------ C workload */

static pthread_mutex_t wl_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wl_c = PTHREAD_COND_INITIALIZER;
static int wl_turn[WL_THREADS / 2];

static void *
wl_thread(void *arg)
{
	int id = (int)(intptr_t)arg, pair = id / 2, me = id % 2, i;
	char *argv[] = { "/bin/true", NULL };
	pid_t pid;
	int st;

	for (i = 0; i < WL_ROUNDS; i++) {
		pthread_mutex_lock(&wl_m);
		while (wl_turn[pair] != me)
			pthread_cond_wait(&wl_c, &wl_m);
		wl_turn[pair] = !me;
		pthread_cond_broadcast(&wl_c);
		pthread_mutex_unlock(&wl_m);
		if (i % (WL_ROUNDS / WL_EXECS) == 0) {
			if ((pid = fork()) == 0) {
				execve(argv[0], argv, environ);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid ||
			    st != 0)
				exit(2);
		}
	}
	return NULL;
}

static int
c_workload(void)
{
	pthread_t t[WL_THREADS];
	int i;

	for (i = 0; i < WL_THREADS; i++) {
		if (pthread_create(&t[i], NULL, wl_thread,
		    (void *)(intptr_t)i) != 0)
			return 2;
	}
	for (i = 0; i < WL_THREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* A host thread's read and write, through the interposers if preloaded. */
static int
io_workload(void)
{
	char buf[64];
	int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
	int i;

	if (in < 0 || out < 0)
		return 2;
	for (i = 0; i < IO_CALLS; i++) {
		if (read(in, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    write(out, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 2;
	}
	close(in);
	close(out);
	return 0;
}

/* ------------------------------------------------------------ main */

static const char shell_script[] =
    "i=0\n"
    "while [ $i -lt 15 ]; do\n"
    "  ls / >/dev/null\n"
    "  cat /etc/passwd | grep -c root >/dev/null\n"
    "  date >/dev/null\n"
    "  i=$(expr $i + 1)\n"
    "done\n";

static const char python_script[] =
    "import subprocess, threading, multiprocessing\n"
    "def sq(x): return x * x\n"
    "def work():\n"
    "    for _ in range(3): subprocess.run(['/bin/true'], check=True)\n"
    "ts = [threading.Thread(target=work) for _ in range(4)]\n"
    "[t.start() for t in ts]; [t.join() for t in ts]\n"
    "if __name__ == '__main__':\n"
    "    with multiprocessing.Pool(2) as p: assert sum(p.map(sq, range(200))) > 0\n";

static char cc_src[] = "/tmp/bench_preload_XXXXXX.c";
static char cc_cmd[PATH_MAX + 64];

/* A C file of CC_FUNCS small functions for the cc workload. */
static void
write_cc_source(void)
{
	FILE *f;
	int fd, i;

	if ((fd = mkstemps(cc_src, 2)) < 0 || (f = fdopen(fd, "w")) == NULL)
		die("mkstemps");
	for (i = 0; i < CC_FUNCS; i++)
		fprintf(f, "int f%d(int *a, int n) { int s = %d; "
		    "for (int i = 0; i < n; i++) s = s * 31 + a[i] / (i + 1); "
		    "return s; }\n", i, i);
	fclose(f);
	snprintf(cc_cmd, sizeof(cc_cmd), "cc -O2 -c -o /dev/null %s", cc_src);
}

/* argv's program found on PATH, or NULL. */
static char *
on_path(const char *prog)
{
	static char buf[PATH_MAX];
	const char *p = getenv("PATH"), *colon;

	for (; p != NULL && *p != '\0'; p = *colon ? colon + 1 : colon) {
		colon = strchrnul(p, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p,
		    prog);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

static void
find_objects(void)
{
	ssize_t n;
	char *slash;

	if ((n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1)) <
	    0)
		die("readlink /proc/self/exe");
	self_exe[n] = '\0';
	/* build/bench/bench_preload -> build/ */
	snprintf(empty_so, sizeof(empty_so), "LD_PRELOAD=%s", self_exe);
	slash = strrchr(empty_so, '/');
	snprintf(slash + 1, sizeof(empty_so) - (size_t)(slash + 1 - empty_so),
	    "libempty.so");
	snprintf(preload_so, sizeof(preload_so), "%s", empty_so);
	slash = strrchr(preload_so, '/');
	*slash = '\0';
	slash = strrchr(preload_so, '/');
	snprintf(slash + 1, sizeof(preload_so) - (size_t)(slash + 1 -
	    preload_so), "libgreenproc_preload.so");
	if (access(empty_so + 11, R_OK) != 0)
		die(empty_so + 11);
	if (access(preload_so + 11, R_OK) != 0)
		die(preload_so + 11);
}

int
main(int argc, char **argv)
{
	char *true_argv[] = { "/bin/true", NULL };
	char *sh_argv[] = { "/bin/sh", "-c", (char *)shell_script, NULL };
	char *c_argv[] = { self_exe, "--workload", NULL };
	char *io_argv[] = { self_exe, "--io", NULL };
	char *cc_argv[] = { "/bin/sh", "-c", cc_cmd, NULL };
	char *py_argv[] = { NULL, "-c", (char *)python_script, NULL };
	double ex[NENV], sh[NENV], cw[NENV], exc[NENV], shc[NENV], cwc[NENV];
	double cc[NENV], ccc[NENV], py[NENV], pyc[NENV], io[NENV], ioc[NENV];
	char loadavg[64] = "?";
	FILE *f;

	if (argc > 1 && strcmp(argv[1], "--workload") == 0)
		return c_workload();
	if (argc > 1 && strcmp(argv[1], "--io") == 0)
		return io_workload();
	quiet_begin();
	find_objects();
	envs[ENV_NONE] = env_with(NULL);
	envs[ENV_EMPTY] = env_with(empty_so);
	envs[ENV_PRELOAD] = env_with(preload_so);
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(loadavg, sizeof(loadavg), f) != NULL)
			loadavg[strcspn(loadavg, "\n")] = '\0';
		fclose(f);
	}

	measure(true_argv, EXEC_RUNS, true, ex, exc);
	measure(sh_argv, SHELL_RUNS, true, sh, shc);
	measure(c_argv, C_RUNS, true, cw, cwc);
	measure(io_argv, IO_RUNS, false, io, ioc);
	write_cc_source();
	measure(cc_argv, CC_RUNS, false, cc, ccc);
	unlink(cc_src);
	if ((py_argv[0] = on_path("python3")) != NULL)
		measure(py_argv, PY_RUNS, false, py, pyc);

	printf("\nbench_preload: medians (exec %d runs, workloads %d/%d), "
	    "environments in turn;\nload average at the start %s\n\n",
	    EXEC_RUNS, SHELL_RUNS, C_RUNS, loadavg);
	printf("1. exec start-up: posix_spawn + waitpid of /bin/true\n");
	row(env_name[ENV_NONE], ex[ENV_NONE]);
	row(env_name[ENV_EMPTY], ex[ENV_EMPTY]);
	row(env_name[ENV_PRELOAD], ex[ENV_PRELOAD]);
	overhead("greenproc preload vs empty preload", ex[ENV_EMPTY],
	    ex[ENV_PRELOAD], 5);
	printf("  %-*s %+9.1f %%\n", BENCH_LABEL_W, "greenproc preload vs none",
	    (ex[ENV_PRELOAD] / ex[ENV_NONE] - 1.0) * 100.0);
	printf("2. workloads, per run\n");
	printf("   shell loop of common commands\n");
	row(env_name[ENV_NONE], sh[ENV_NONE]);
	row(env_name[ENV_EMPTY], sh[ENV_EMPTY]);
	row(env_name[ENV_PRELOAD], sh[ENV_PRELOAD]);
	printf("   threads + mutex/cond + fork/exec (C)\n");
	row(env_name[ENV_NONE], cw[ENV_NONE]);
	row(env_name[ENV_EMPTY], cw[ENV_EMPTY]);
	row(env_name[ENV_PRELOAD], cw[ENV_PRELOAD]);
	printf("   host thread: %d read()s of /dev/zero + write()s to "
	    "/dev/null\n", IO_CALLS);
	row(env_name[ENV_NONE], io[ENV_NONE]);
	row(env_name[ENV_PRELOAD], io[ENV_PRELOAD]);
	printf("   cc -O2 of a %d-function file\n", CC_FUNCS);
	row(env_name[ENV_NONE], cc[ENV_NONE]);
	row(env_name[ENV_PRELOAD], cc[ENV_PRELOAD]);
	if (py_argv[0] != NULL) {
		printf("   python3: threads, subprocess, multiprocessing\n");
		row(env_name[ENV_NONE], py[ENV_NONE]);
		row(env_name[ENV_PRELOAD], py[ENV_PRELOAD]);
	}
	overhead("shell loop: greenproc preload vs none", sh[ENV_NONE],
	    sh[ENV_PRELOAD], 2);
	overhead("threaded C: greenproc preload vs none", cw[ENV_NONE],
	    cw[ENV_PRELOAD], 2);
	overhead("cc: greenproc preload vs none", cc[ENV_NONE],
	    cc[ENV_PRELOAD], 2);
	if (py_argv[0] != NULL)
		overhead("python3: greenproc preload vs none", py[ENV_NONE],
		    py[ENV_PRELOAD], 2);
	overhead("host read/write: greenproc preload vs none", io[ENV_NONE],
	    io[ENV_PRELOAD], 2);
	printf("3. the same in CPU time (user + system of the children)\n");
	overhead("exec: greenproc preload vs empty preload", exc[ENV_EMPTY],
	    exc[ENV_PRELOAD], 5);
	overhead("shell loop: empty preload vs none", shc[ENV_NONE],
	    shc[ENV_EMPTY], 2);
	overhead("shell loop: greenproc preload vs none", shc[ENV_NONE],
	    shc[ENV_PRELOAD], 2);
	overhead("threaded C: empty preload vs none", cwc[ENV_NONE],
	    cwc[ENV_EMPTY], 2);
	overhead("threaded C: greenproc preload vs none", cwc[ENV_NONE],
	    cwc[ENV_PRELOAD], 2);
	overhead("cc: greenproc preload vs none", ccc[ENV_NONE],
	    ccc[ENV_PRELOAD], 2);
	if (py_argv[0] != NULL)
		overhead("python3: greenproc preload vs none", pyc[ENV_NONE],
		    pyc[ENV_PRELOAD], 2);
	fig("exec /bin/true, greenproc preload", "ns", ex[ENV_PRELOAD],
	    "exec /bin/true, empty preload");
	fig("exec /bin/true, empty preload", "ns", ex[ENV_EMPTY], NULL);
	fig("shell loop, greenproc preload", "ns", sh[ENV_PRELOAD],
	    "shell loop, no preload");
	fig("shell loop, no preload", "ns", sh[ENV_NONE], NULL);
	fig("threaded C, greenproc preload", "ns", cw[ENV_PRELOAD],
	    "threaded C, no preload");
	fig("threaded C, no preload", "ns", cw[ENV_NONE], NULL);
	fig("cc -O2, greenproc preload", "ns", cc[ENV_PRELOAD],
	    "cc -O2, no preload");
	fig("cc -O2, no preload", "ns", cc[ENV_NONE], NULL);
	quiet_end();
	return 0;
}
