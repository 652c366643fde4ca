/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy.c -- "legacy" code for the demo: plain C and libc, written as
 * if for a process of its own.  It includes no greenproc header and
 * calls no gp_ function.
 *
 * demo.c runs these functions in green processes (gp_spawn_main), and
 * `make demo` runs the demo under LD_PRELOAD=libgreenproc_preload.so, so
 * that every libc call below made on a green thread gets green
 * semantics: getpid()/getppid() give green pids, atexit() registers
 * with the green process, pthread_create() makes a green LWP, usleep()
 * and mutex/condition waits park only that LWP, fork() makes a real
 * child that waitpid() waits for, and exit() ends only the green
 * process, after its own atexit handlers.
 *
 * Like much legacy code it keeps its state in globals: run one job and
 * one spinner at a time.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "legacy.h"

/* A wait status in words (glibc's macros only). */
static const char *
status_str(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited, status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

/* ------------------------------------------------------------ the job */

#define JOB_THREADS	2
#define JOB_NAP_MS	300	/* thread k sleeps JOB_NAP_MS + 50 * k */

static const char *job_name = "legacy-job";
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static int job_done;			/* (job_lock) threads done */

static void
job_bye_1(void)
{
	printf("  [%s] atexit #1 (registered first, runs last): "
	    "getpid() = %d\n", job_name, (int)getpid());
}

static void
job_bye_2(void)
{
	printf("  [%s] atexit #2: flush the report\n", job_name);
}

static void
job_bye_3(void)
{
	printf("  [%s] atexit #3 (registered last, runs first): "
	    "remove the lock file\n", job_name);
}

static void *
job_thread(void *arg)
{
	long k = (long)arg;
	unsigned ms = JOB_NAP_MS + 50 * (unsigned)k;

	printf("  [%s] thread %ld: getpid() = %d, usleep(%u ms)\n", job_name,
	    k, (int)getpid(), ms);
	usleep(ms * 1000);

	pthread_mutex_lock(&job_lock);
	job_done++;
	pthread_cond_signal(&job_cond);
	pthread_mutex_unlock(&job_lock);

	printf("  [%s] thread %ld: pthread_exit((void *)%ld)\n", job_name, k,
	    100 + k);
	pthread_exit((void *)(100 + k));
}

/* fork(); the child runs (child); the parent waits and says how it went. */
static int
run_child(void (*child)(void), const char *what)
{
	char buf[64];
	pid_t pid, r;
	int st = 0;

	fflush(stdout);		/* nothing buffered twice */
	if ((pid = fork()) < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		child();
		_exit(127);
	}
	r = waitpid(pid, &st, 0);
	if (r != pid) {
		perror("waitpid");
		return -1;
	}
	printf("  [%s] waitpid(%d, &st, 0) = %d (%s): %s\n", job_name,
	    (int)pid, (int)r, what, status_str(st, buf, sizeof(buf)));
	return st;
}

static void
child_echo(void)
{
	execl("/bin/echo", "echo", "  [/bin/echo] a real process, forked and "
	    "exec'd by legacy code", (char *)NULL);
}

static void
child_exit4(void)
{
	char buf[96];
	ssize_t n;
	int len;

	/* Only write(2) in the child: no stdio lock taken after fork. */
	len = snprintf(buf, sizeof(buf), "  [real child] getpid() = %d "
	    "(a kernel pid), _exit(4)\n", (int)getpid());
	n = write(STDOUT_FILENO, buf, (size_t)len);
	(void)n;
	_exit(4);
}

int
legacy_job(int argc, char **argv)
{
	pthread_t t[JOB_THREADS];
	void *ret;
	int code = argc > 1 ? atoi(argv[1]) : 0;
	long k;
	int error;

	if (argc > 0)
		job_name = argv[0];
	printf("  [%s] getpid() = %d, getppid() = %d\n", job_name,
	    (int)getpid(), (int)getppid());

	atexit(job_bye_1);
	atexit(job_bye_2);
	atexit(job_bye_3);
	printf("  [%s] atexit() x3; pthread_create() x%d\n", job_name,
	    JOB_THREADS);

	for (k = 0; k < JOB_THREADS; k++) {
		error = pthread_create(&t[k], NULL, job_thread, (void *)k);
		if (error != 0) {
			fprintf(stderr, "pthread_create: %s\n",
			    strerror(error));
			exit(70);
		}
	}

	pthread_mutex_lock(&job_lock);
	while (job_done < JOB_THREADS)
		pthread_cond_wait(&job_cond, &job_lock);
	pthread_mutex_unlock(&job_lock);
	printf("  [%s] pthread_cond_wait: both threads are done\n", job_name);

	for (k = 0; k < JOB_THREADS; k++) {
		pthread_join(t[k], &ret);
		printf("  [%s] pthread_join(thread %ld) -> %ld\n", job_name, k,
		    (long)ret);
	}

	printf("  [%s] fork() + execl(\"/bin/echo\")\n", job_name);
	run_child(child_echo, "the echo");
	printf("  [%s] fork() + _exit(4)\n", job_name);
	run_child(child_exit4, "the other");

	printf("  [%s] exit(%d)\n", job_name, code);
	exit(code);
}

/* ------------------------------------------------------------ the spinner */

static const char *spin_name = "spinner";
static atomic_long spins;
static volatile sig_atomic_t spin_stop;

static void
spin_on_term(int sig)
{
	(void)sig;
	spin_stop = 1;
}

static void
spin(void)
{
	while (!spin_stop) {
		atomic_fetch_add(&spins, 1);
		usleep(1000);
	}
}

static void *
spin_thread(void *arg)
{
	(void)arg;
	spin();
	return NULL;
}

static void
spin_bye(void)
{
	printf("  [%s] atexit: %ld spins in all\n", spin_name,
	    atomic_load(&spins));
}

long
legacy_spin_count(void)
{
	return atomic_load(&spins);
}

int
legacy_spinner(int argc, char **argv)
{
	pthread_t t;
	int error;

	if (argc > 0)
		spin_name = argv[0];
	signal(SIGTERM, spin_on_term);
	atexit(spin_bye);
	if ((error = pthread_create(&t, NULL, spin_thread, NULL)) != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(error));
		return 70;
	}
	spin();
	printf("  [%s] caught SIGTERM (a signal() handler) after %ld spins; "
	    "joining my thread\n", spin_name, atomic_load(&spins));
	pthread_join(t, NULL);
	printf("  [%s] return 0 from main\n", spin_name);
	return 0;			/* as exit(0): the atexit handler runs */
}
