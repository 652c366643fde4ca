/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_jobctl.c -- signals that are not plain deliveries, driven by the
 * test from outside (the test sends signals to the pid):
 *
 *   stop       says "ready", then waits for SIGUSR1; its SIGCONT
 *              handler says "continued" each time (the test stops and
 *              continues it with SIGTSTP and SIGSTOP in between);
 *   tstp       a SIGTSTP handler: the signal runs it, nothing stops;
 *   selfstop   raise(SIGTSTP) with the default action: the parent sees
 *              it stopped, and after SIGCONT it goes on;
 *   dump       two threads parked in parked_here(); the test sends the
 *              dump signal, then SIGUSR1 to end it;
 *   timer      timer_create(SIGEV_THREAD): the notification function
 *              wakes a thread waiting on a condition variable;
 *   altstack   sigaltstack is accepted, and a SA_ONSTACK handler runs;
 *   signalfd   reads the SIGUSR1 the test sends, then its own SIGUSR2.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done, nparked;

static void
say(const char *s)
{
	(void)!write(1, s, strlen(s));
}

static void
on_cont(int sig)
{
	(void)sig;
	say("continued\n");
}

static void
on_tstp(int sig)
{
	(void)sig;
	got = 1;
}

/* Block SIGUSR1: before making threads, which inherit the mask. */
static void
block_usr1(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Wait for SIGUSR1 with sigwait. */
static void
await_usr1(void)
{
	sigset_t set;
	int sig;

	block_usr1();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	say("ready\n");
	while (sigwait(&set, &sig) != 0 || sig != SIGUSR1)
		;
}

static __attribute__((noinline)) void
parked_here(void)
{
	pthread_mutex_lock(&mu);
	nparked++;
	pthread_cond_broadcast(&cv);
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *
parker(void *arg)
{
	(void)arg;
	parked_here();
	return NULL;
}

static void
notify(union sigval v)
{
	(void)v;
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void *
on_alt;

static void
on_usr2(int sig)
{
	(void)sig;
	got = 1;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t t[2];
	int i;

	if (strcmp(mode, "stop") == 0) {
		signal(SIGCONT, on_cont);
		await_usr1();
		say("done\n");
	} else if (strcmp(mode, "tstp") == 0) {
		signal(SIGTSTP, on_tstp);
		say("ready\n");
		while (!got)
			pause();
		say("handled SIGTSTP\n");
	} else if (strcmp(mode, "selfstop") == 0) {
		say("stopping\n");
		raise(SIGTSTP);
		say("went on\n");
	} else if (strcmp(mode, "dump") == 0) {
		block_usr1();
		for (i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, parker, NULL);
		/* Both wait in parked_here before the test asks for a dump. */
		pthread_mutex_lock(&mu);
		while (nparked < 2)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		await_usr1();
		pthread_mutex_lock(&mu);
		done = 1;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		say("done\n");
	} else if (strcmp(mode, "timer") == 0) {
		struct sigevent ev;
		struct itimerspec its;
		timer_t tm;

		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = SIGEV_THREAD;
		ev.sigev_notify_function = notify;
		memset(&its, 0, sizeof(its));
		its.it_value.tv_nsec = 20 * 1000 * 1000;
		pthread_create(&t[0], NULL, parker, NULL);
		if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0 ||
		    timer_settime(tm, 0, &its, NULL) != 0) {
			say("timer_create failed\n");
			return 1;
		}
		pthread_join(t[0], NULL);
		timer_delete(tm);
		say("the timer's thread woke the waiter\n");
	} else if (strcmp(mode, "altstack") == 0) {
		struct sigaction sa;
		stack_t ss, old;

		ss.ss_size = 1 << 16;
		ss.ss_sp = on_alt = malloc(ss.ss_size);
		ss.ss_flags = 0;
		say(sigaltstack(&ss, NULL) == 0 ? "sigaltstack set\n" :
		    "sigaltstack failed\n");
		say(sigaltstack(NULL, &old) == 0 ? "sigaltstack read\n" :
		    "sigaltstack read failed\n");
		ss.ss_size = 16;
		say(sigaltstack(&ss, NULL) != 0 ? "too small: refused\n" :
		    "too small: accepted\n");
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr2;
		sa.sa_flags = SA_ONSTACK;
		sigaction(SIGUSR2, &sa, NULL);
		raise(SIGUSR2);
		say(got ? "SA_ONSTACK handler ran\n" : "handler did not run\n");
	} else if (strcmp(mode, "signalfd") == 0) {
		struct signalfd_siginfo fsi;
		sigset_t set;
		int fd, n;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		/* Under greenrun the forwarder is waiting by now, as usual. */
		usleep(50 * 1000);
		if ((fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
			say("signalfd failed\n");
			return 1;
		}
		say("ready\n");
		for (n = 0; n < 2; n++) {
			if (read(fd, &fsi, sizeof(fsi)) != sizeof(fsi)) {
				say("read failed\n");
				return 1;
			}
			if (fsi.ssi_signo == SIGUSR1)
				say(fsi.ssi_pid == (unsigned)getppid() ?
				    "signalfd: SIGUSR1 from the parent\n" :
				    "signalfd: SIGUSR1 from elsewhere\n");
			else
				say(fsi.ssi_signo == SIGUSR2 ?
				    "signalfd: SIGUSR2\n" : "signalfd: other\n");
			if (n == 0)
				raise(SIGUSR2);
		}
	} else {
		say("modes: stop tstp selfstop dump timer altstack signalfd\n");
		return 2;
	}
	return 0;
}
