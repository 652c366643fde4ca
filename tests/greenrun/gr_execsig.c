/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_execsig.c -- what a program started by exec or posix_spawn gets of
 * its starter's signal state: the calling thread's mask and the signals
 * ignored, not the runtime's.  The starter ignores SIGHUP (as nohup
 * does) and SIGQUIT, blocks SIGUSR1 and SIGTERM, then runs this program
 * again ("probe") through each member of the exec family, in a child it
 * forks (the exec is made on that child's green thread under greenrun),
 * through posix_spawn, and by an exec of its own as its last act.
 * The probe prints its mask and ignored signals among a few and whether
 * GREENPROC_INIT reached it: greenrun's mode is the starter's alone,
 * and this program, as bash does, defines an unsetenv of its own that
 * does nothing yet.  An exec that fails leaves the starter as it was:
 * its SIGUSR2 handler still runs on a raise, and a SIGHUP that another
 * process sends reaches a handler set after it (under greenrun: the
 * worker that made the exec has its kernel mask back; with the green
 * one left, the kernel gave it the signal, at SIG_DFL, and the host died).
 * Before its own exec the starter has SIGTERM and a queued SIGRTMIN+2
 * pending and blocked: a failed exec leaves them pending, and the new
 * program finds them pending, the real-time one with its value.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
    SIGTERM, SIGALRM, SIGCHLD };
static const char *const names[] = { "HUP", "INT", "QUIT", "USR1", "USR2",
    "TERM", "ALRM", "CHLD" };
static volatile sig_atomic_t usr2, hup;
static unsigned long long blk, ign, pnd;

/* As bash's, before its shell has read the environment: nothing. */
int
unsetenv(const char *name)
{
	(void)name;
	return 0;
}

/* A hex mask of /proc/self/status's line (key), or ~0 if it is missing. */
static unsigned long long
status_mask(const char *key)
{
	char line[256];
	unsigned long long m = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = strlen(key);

	if (f == NULL)
		return m;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0)
			m = strtoull(line + n, NULL, 16);
	fclose(f);
	return m;
}

/*
 * The state exec gave, read before main: a probe that greenrun's mode
 * reached would block signals of its own at main.
 */
__attribute__((constructor)) static void
exec_state(void)
{
	blk = status_mask("SigBlk:");
	ign = status_mask("SigIgn:");
	pnd = status_mask("SigPnd:") | status_mask("ShdPnd:");
}

/* The signals pending at the exec; the queued one's value. */
static void
print_pending(void)
{
	const struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;
	int i;

	printf("; pending:");
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (pnd & (1ULL << (sigs[i] - 1)))
			printf(" %s", names[i]);
	if (pnd & (1ULL << (SIGRTMIN + 2 - 1))) {
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + 2);
		if (sigtimedwait(&set, &si, &zero) == SIGRTMIN + 2)
			printf(" RTMIN+2 (value %d)", si.si_value.sival_int);
		else
			printf(" RTMIN+2 (not taken: %s)", strerror(errno));
	}
}

static int
probe(const char *how)
{
	char env[8192];
	ssize_t n;
	int fd, i;
	bool init = false;

	printf("%-12s blocked:", how);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (blk & (1ULL << (sigs[i] - 1)))
			printf(" %s", names[i]);
	printf("; ignored:");
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (ign & (1ULL << (sigs[i] - 1)))
			printf(" %s", names[i]);
	/* What exec passed, before this program's own constructors. */
	if ((fd = open("/proc/self/environ", O_RDONLY)) >= 0) {
		if ((n = read(fd, env, sizeof(env) - 1)) > 0) {
			env[n] = '\0';
			for (i = 0; i < n; i += (int)strlen(env + i) + 1)
				if (strncmp(env + i, "GREENPROC_INIT=", 15) == 0)
					init = true;
		}
		close(fd);
	}
	print_pending();
	printf("; greenrun's mode passed on: %s\n", init ? "yes" : "no");
	return 0;
}

static void
on_usr2(int sig)
{
	(void)sig;
	usr2 = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

/* Run the probe by (how) in a child, and wait for it. */
static void
run(const char *how)
{
	char *const argv[] = { "gr_execsig", "probe", (char *)how, NULL };
	pid_t pid;
	int fd;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (strcmp(how, "execv") == 0)
			execv("/proc/self/exe", argv);
		else if (strcmp(how, "execve") == 0)
			execve("/proc/self/exe", argv, environ);
		else if (strcmp(how, "execvp") == 0)
			execvp("/proc/self/exe", argv);
		else if (strcmp(how, "execvpe") == 0)
			execvpe("/proc/self/exe", argv, environ);
		else if (strcmp(how, "execl") == 0)
			execl("/proc/self/exe", "gr_execsig", "probe", how,
			    (char *)NULL);
		else if (strcmp(how, "execlp") == 0)
			execlp("/proc/self/exe", "gr_execsig", "probe", how,
			    (char *)NULL);
		else if (strcmp(how, "execle") == 0)
			execle("/proc/self/exe", "gr_execsig", "probe", how,
			    (char *)NULL, environ);
		else if (strcmp(how, "fexecve") == 0 &&
		    (fd = open("/proc/self/exe", O_RDONLY)) >= 0)
			fexecve(fd, argv, environ);
		printf("%s: %s\n", how, strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		printf("%s: fork or wait failed\n", how);
}

int
main(int argc, char **argv)
{
	char *const spawnargv[] = { "gr_execsig", "probe", "posix_spawn", NULL };
	char *const lastargv[] = { "gr_execsig", "probe", "own exec", NULL };
	static const char *const hows[] = { "execv", "execve", "execvp",
	    "execvpe", "execl", "execlp", "execle", "fexecve" };
	struct sigaction sa;
	sigset_t set;
	pid_t pid;
	size_t i;

	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);

	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (i = 0; i < sizeof(hows) / sizeof(hows[0]); i++)
		run(hows[i]);
	fflush(stdout);
	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, spawnargv,
	    environ) != 0 || waitpid(pid, NULL, 0) != pid)
		printf("posix_spawn failed\n");

	/* Pending and blocked, for the exec: a fork child would lose them. */
	raise(SIGTERM);
	sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 42 });
	/* A failed exec: the starter's state is as it was. */
	if (execl("/nonexistent/gr_execsig", "x", (char *)NULL) == 0 ||
	    errno != ENOENT)
		printf("the failed exec said %s\n", strerror(errno));
	sigpending(&set);
	printf("after a failed exec: pending TERM %d RTMIN+2 %d\n",
	    sigismember(&set, SIGTERM), sigismember(&set, SIGRTMIN + 2));
	raise(SIGUSR2);
	printf("after a failed exec: SIGUSR2 handled %d\n", (int)usr2);
	/* SIGHUP caught now: one another process sends reaches us. */
	signal(SIGHUP, on_hup);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		kill(getppid(), SIGHUP);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (i = 0; i < 2000 && !hup; i++)
		usleep(1000);
	printf("after a failed exec: SIGHUP from another process handled "
	    "%d\n", (int)hup);
	fflush(stdout);

	execv("/proc/self/exe", lastargv);
	printf("own exec: %s\n", strerror(errno));
	return 1;
}
