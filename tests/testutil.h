/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h -- small helpers shared by the Criterion tests and the
 * stress programs: clocks, host-thread sleeps, CPU time, polling
 * gp_stats() until the runtime has reaped what a test made, and running
 * a program with its output captured (tu_start, tu_finish).
 *
 * Everything here is static inline so that each test file can include it
 * without clashing at link time.  Nothing here asserts; callers do.
 */
#ifndef GP_TESTUTIL_H
#define GP_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"

/*
 * TU_UNDER_TSAN / TU_UNDER_SAN (TSan or ASan): programs that scale their
 * work down under a sanitizer.  gcc says so with __SANITIZE_*__, clang
 * with __has_feature.
 */
#if defined(__SANITIZE_THREAD__)
#define TU_UNDER_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_UNDER_TSAN	1
#endif
#endif
#if defined(TU_UNDER_TSAN) || defined(__SANITIZE_ADDRESS__)
#define TU_UNDER_SAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_UNDER_SAN	1
#endif
#endif

#define TU_MS	1000000ULL		/* nanoseconds per millisecond */
#define TU_S	1000000000ULL		/* nanoseconds per second */

/*
 * Plain loads of atomics, for use inside cr_assert(): Criterion prints the
 * asserted expression, and atomic_load() expands to a screenful.
 */
static inline int
tu_ld(atomic_int *v)
{
	return atomic_load(v);
}

static inline long
tu_ldl(atomic_long *v)
{
	return atomic_load(v);
}

static inline uintptr_t
tu_ldp(_Atomic uintptr_t *v)
{
	return atomic_load(v);
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TU_S + (uint64_t)ts.tv_nsec;
}

static inline struct timespec
tu_ts(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / TU_S);
	ts.tv_nsec = (long)(ns % TU_S);
	return ts;
}

/* Sleep the calling kernel thread (not through greenproc). */
static inline void
tu_host_sleep_ns(uint64_t ns)
{
	struct timespec ts = tu_ts(ns);

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		continue;
}

/* User plus system CPU time of the whole process, in nanoseconds. */
static inline uint64_t
tu_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	    TU_S + ((uint64_t)ru.ru_utime.tv_usec +
	    (uint64_t)ru.ru_stime.tv_usec) * 1000;
}

/* Burn CPU without yielding for about ns nanoseconds. */
static inline void
tu_spin_ns(uint64_t ns)
{
	uint64_t end = tu_now_ns() + ns;

	while (tu_now_ns() < end)
		continue;
}

/*
 * Poll gp_stats() from a host thread until live_lwps and live_stacks are
 * back to the given values or timeout_ns has passed.  Reaping may be
 * batched, so a join or a detached exit need not free at once.  Returns 0
 * when they match, -1 on timeout or gp_stats() failure; *st holds the last
 * reading either way.
 */
static inline int
tu_wait_live(long lwps, long stacks, uint64_t timeout_ns,
    struct gp_counters *st)
{
	uint64_t end = tu_now_ns() + timeout_ns;

	for (;;) {
		if (gp_stats(st) != 0)
			return -1;
		if (st->live_lwps == lwps && st->live_stacks == stacks)
			return 0;
		if (tu_now_ns() >= end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
}

/*
 * Everything (fd) gives until end of file, as a NUL-terminated string the
 * caller frees; NULL if memory ran out.
 */
static inline char *
tu_read_all(int fd)
{
	char *out = NULL, *bigger;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			if ((bigger = realloc(out, cap + 1)) == NULL) {
				free(out);
				return NULL;
			}
			out = bigger;
		}
		n = read(fd, out + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	return out;
}

/*
 * The stress programs' shape: start (nlwp) LWPs running fn(i) and
 * (nhost) host threads running fn(nlwp + i), and wait for all.
 * Returns the number of LWP joins that failed, or -1 (said on stderr,
 * naming (who)) if an actor could not be started.
 */
static inline int
tu_run_actors(const char *who, void *(*fn)(void *), int nlwp, int nhost)
{
	gp_lwp_t *dr = calloc((size_t)nlwp + 1, sizeof(*dr));
	pthread_t *th = calloc((size_t)nhost + 1, sizeof(*th));
	int i, rc, failed = -1;

	if (dr == NULL || th == NULL) {
		fprintf(stderr, "%s: out of memory\n", who);
		goto out;
	}
	for (i = 0; i < nlwp; i++) {
		rc = gp_lwp_create(&dr[i], fn, (void *)(intptr_t)i, NULL);
		if (rc != 0) {
			fprintf(stderr, "%s: driver: %s\n", who, strerror(rc));
			goto out;
		}
	}
	for (i = 0; i < nhost; i++) {
		if (pthread_create(&th[i], NULL, fn,
		    (void *)(intptr_t)(nlwp + i)) != 0) {
			fprintf(stderr, "%s: pthread_create failed\n", who);
			goto out;
		}
	}
	for (i = 0; i < nhost; i++)
		pthread_join(th[i], NULL);
	for (failed = 0, i = 0; i < nlwp; i++)
		failed += gp_lwp_join(dr[i], NULL) != 0;
out:
	free(dr);
	free(th);
	return failed;
}

/*
 * Descriptors open in this process that the test's own work may have
 * made: all of /proc/self/fd, less the directory's own descriptor and
 * the three (a ring or epoll instance, an eventfd and its /proc stat
 * file) of every spare worker the watchdog started.  -1 if /proc cannot be read.
 */
static inline int
tu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct gp_counters st;
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	if (gp_stats(&st) == 0)
		n -= 3 * (int)st.spare_workers;
	return n - 1;
}

/* ------------------------------------------------------------ programs */

#define TU_OUT_MAX	(256 * 1024)	/* output kept of a program run */

/* A program a test runs, its stdout and stderr in one pipe. */
struct tu_run {
	pid_t	pid;
	int	out;		/* read end of its stdout+stderr, -1 at EOF */
	int	status;		/* wait status, -1 until reaped */
	bool	pgrp;		/* in a process group of its own */
	bool	timed_out;	/* still running at the limit: killed */
	size_t	len;
	char	buf[TU_OUT_MAX + 1];	/* what it wrote, NUL-terminated */
};

/*
 * The environment for a program a test runs: environ without LD_PRELOAD
 * and the GREENPROC_ variables (the test's own, or make's), nor the
 * "NAME=" prefixes of (drop), then the "NAME=value" strings of (add);
 * either list may be NULL.  Calloc'd (the caller frees it), or NULL.
 */
static inline char **
tu_env(const char *const *drop, const char *const *add)
{
	size_t n = 0, k = 0, i, j;
	char **env;
	bool skip;

	while (environ[n] != NULL)
		n++;
	for (j = 0; add != NULL && add[j] != NULL; j++)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; environ[i] != NULL; i++) {
		skip = strncmp(environ[i], "LD_PRELOAD=", 11) == 0 ||
		    strncmp(environ[i], "GREENPROC_", 10) == 0;
		for (j = 0; !skip && drop != NULL && drop[j] != NULL; j++)
			skip = strncmp(environ[i], drop[j],
			    strlen(drop[j])) == 0;
		if (!skip)
			env[k++] = environ[i];
	}
	for (j = 0; add != NULL && add[j] != NULL; j++)
		env[k++] = (char *)add[j];
	env[k] = NULL;
	return env;
}

/*
 * In a child about to exec a program: the dispositions a test runner
 * may have changed (Criterion, make) back to their defaults, and nothing
 * blocked, so the program starts as it would from a shell.
 */
static inline void
tu_child_signals(void)
{
	static const int dfl[] = { SIGPIPE, SIGINT, SIGTERM, SIGTSTP,
	    SIGCONT, SIGQUIT, SIGALRM };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		signal(dfl[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Start argv (argv[0] a path) with (env): stdin /dev/null, stdout and
 * stderr into r->out, tu_child_signals(), and with (pgrp) in a process
 * group of its own (not an orphaned one: stop signals work there).
 * Returns 0, or -1 with errno set (nothing started).
 */
static inline int
tu_start(struct tu_run *r, const char *const *argv, char *const *env,
    bool pgrp)
{
	int p[2];

	memset(r, 0, offsetof(struct tu_run, buf));
	r->buf[0] = '\0';
	r->status = -1;
	r->pgrp = pgrp;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	if ((r->pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (r->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (pgrp)
			setpgid(0, 0);
		tu_child_signals();
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execve(argv[0], (char *const *)argv, env);
		dprintf(2, "execve %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pgrp)
		setpgid(r->pid, r->pid);	/* whichever runs first */
	close(p[1]);
	r->out = p[0];
	return 0;
}

/*
 * Read what r wrote within (ms) milliseconds (what does not fit in
 * r->buf is read and dropped); false at end of file.
 */
static inline bool
tu_drain(struct tu_run *r, int ms)
{
	struct pollfd pfd = { r->out, POLLIN, 0 };
	char tmp[4096];
	size_t c;
	ssize_t n;

	if (r->out < 0)
		return false;
	if (poll(&pfd, 1, ms) <= 0)
		return true;
	n = read(r->out, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(r->out);
		r->out = -1;
		return false;
	}
	c = (size_t)n < TU_OUT_MAX - r->len ? (size_t)n : TU_OUT_MAX - r->len;
	memcpy(r->buf + r->len, tmp, c);
	r->len += c;
	r->buf[r->len] = '\0';
	return true;
}

/*
 * Collect r's output until it has exited and its pipe is at end of file
 * (a child it left may hold the pipe a while), for at most (limit_s)
 * seconds from now: then SIGKILL it if it still runs (r->timed_out),
 * and take what is in the pipe.  With r->pgrp its whole group is killed
 * at the end, whatever it left behind.
 */
static inline void
tu_finish(struct tu_run *r, double limit_s)
{
	uint64_t end = tu_now_ns() + (uint64_t)(limit_s * 1e9);
	struct pollfd pfd;
	int st;

	for (;;) {
		if (r->status == -1 && waitpid(r->pid, &st, WNOHANG) == r->pid)
			r->status = st;
		if (r->status != -1 && r->out < 0)
			break;
		if (tu_now_ns() >= end) {
			if (r->status == -1) {
				r->timed_out = true;
				kill(r->pgrp ? -r->pid : r->pid, SIGKILL);
				if (waitpid(r->pid, &st, 0) == r->pid)
					r->status = st;
			}
			break;
		}
		if (!tu_drain(r, 20))
			tu_host_sleep_ns(TU_MS);	/* EOF: not reaped yet */
	}
	if (r->pgrp)
		kill(-r->pid, SIGKILL);
	pfd.fd = r->out;
	pfd.events = POLLIN;
	while (r->out >= 0 && poll(&pfd, 1, 0) > 0 && tu_drain(r, 0))
		;
	if (r->out >= 0) {
		close(r->out);
		r->out = -1;
	}
}

#endif /* GP_TESTUTIL_H */
