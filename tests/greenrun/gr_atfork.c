/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_atfork.c -- fork is glibc's fork: pthread_atfork handlers run
 * (prepare in reverse order of registration, parent and child in order),
 * on the forking thread; the child is a plain process whose only thread
 * has the forking thread's signal mask, handlers and ignored signals,
 * and it may malloc, print and make threads.  Then children of
 * posix_spawn, system and popen start with the caller's mask; daemon()
 * leaves a child that goes on after its parent's exit.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void
say(const char *s)
{
	(void)!write(1, s, strlen(s));
}

/* The parent's, printed after the child ends: no interleaving. */
static char parent_log[64];

static void
note(const char *s)
{
	strcat(parent_log, s);
}

static void prep_a(void) { say("prepare a\n"); }
static void prep_b(void) { say("prepare b\n"); pthread_mutex_lock(&mu); }
static void prep_c(void) { say("prepare c\n"); }
static void par_a(void) { note("parent a\n"); }
static void par_b(void) { pthread_mutex_unlock(&mu); note("parent b\n"); }
static void par_c(void) { note("parent c\n"); }
static void chi_a(void) { say("child a\n"); }
static void chi_b(void) { pthread_mutex_unlock(&mu); say("child b\n"); }
static void chi_c(void) { say("child c\n"); }

static void
usr2(int sig)
{
	(void)sig;
	say("child: SIGUSR2 handler ran\n");
}

/* The SigBlk line of /proc/self/status. */
static void
sigblk(const char *who)
{
	char buf[4096], *s, *e;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((s = strstr(buf, "SigBlk:")) == NULL)
		return;
	if ((e = strchr(s, '\n')) != NULL)
		e[1] = '\0';
	say(who);
	say(s);
}

static void *
in_child_thread(void *arg)
{
	(void)arg;
	say("child: a thread of the child ran\n");
	return NULL;
}

static void *
forker(void *arg)
{
	sigset_t set;
	pthread_t t;
	char *p;
	pid_t pid;
	int st;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pid = fork();
	if (pid == 0) {
		sigblk("child: ");
		p = malloc(100);
		snprintf(p, 100, "child: malloc and printf work\n");
		fputs(p, stdout);
		fflush(stdout);
		free(p);
		pthread_create(&t, NULL, in_child_thread, NULL);
		pthread_join(t, NULL);
		kill(getpid(), SIGUSR2);	/* caught */
		kill(getpid(), SIGHUP);		/* ignored */
		pthread_mutex_lock(&mu);	/* the child handler freed it */
		pthread_mutex_unlock(&mu);
		_exit(5);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		say("parent: no child\n");
		return NULL;
	}
	say(parent_log);
	printf("parent: child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) :
	    -1);
	fflush(stdout);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return NULL;
}

static void
spawned(void)
{
	char *argv[] = { "grep", "SigBlk", "/proc/self/status", NULL };
	sigset_t set;
	pid_t pid;
	int st;
	FILE *f;
	char line[256];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* Not through sh: it would set its own mask. */
	say("posix_spawn child: ");
	if (posix_spawnp(&pid, "grep", NULL, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
	fflush(stdout);
	st = system("echo -n 'system child: '; grep SigBlk /proc/self/status");
	printf("system: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if ((f = popen("grep SigBlk /proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			printf("popen child: %s", line);
		pclose(f);
	}
	fflush(stdout);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void
daemonized(void)
{
	pid_t before = getpid();

	say("before daemon\n");
	if (daemon(1, 1) != 0) {
		say("daemon failed\n");
		return;
	}
	/* The parent has exited; we go on in a new session. */
	usleep(50 * 1000);
	say(getpid() != before && getsid(0) == getpid() ?
	    "daemon child: a new process, leading its session\n" :
	    "daemon child: wrong\n");
	exit(0);
}

int
main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && strcmp(argv[1], "daemon") == 0) {
		daemonized();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "spawn") == 0) {
		spawned();
		return 0;
	}
	signal(SIGUSR2, usr2);
	signal(SIGHUP, SIG_IGN);
	pthread_atfork(prep_a, par_a, chi_a);
	pthread_atfork(prep_b, par_b, chi_b);
	pthread_atfork(prep_c, par_c, chi_c);
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, NULL);
	return 0;
}
