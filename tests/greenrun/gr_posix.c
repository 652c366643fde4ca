/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_posix.c -- POSIX signal rules among threads that the Open POSIX
 * Test Suite found broken under greenrun (ARCHITECTURE section 26).
 * argv[1]:
 *   tkill     pthread_kill reaches the thread named, not any thread: the
 *             handler runs on it although main, which does not block the
 *             signal either, passes delivery points first
 *   raise     raise() of a blocked signal leaves it pending on the caller
 *             alone: a new thread does not see it in sigpending
 *   spin      a thread that loops on mutex lock/unlock takes the signals
 *             pthread_kill sends it, and main (asleep) still runs to stop
 *             it: it never enters a cancellation point
 *   semintr   a handler without SA_RESTART interrupts sem_wait (EINTR);
 *             with SA_RESTART the wait goes on until the post
 *   mutexsig  a handler runs on a thread blocked in pthread_mutex_lock,
 *             which then waits on: the holder unlocks only once it ran
 *   spinsig   a handler runs on a thread spinning in pthread_spin_lock
 *   mutexcancel  pthread_cancel of a thread blocked in pthread_mutex_lock,
 *             which is not a cancellation point: it gets the lock, and
 *             the cancel acts at its next cancellation point
 *   fault     raise() of SEGV, BUS, FPE, ILL and TRAP runs the handler
 *             the program installed, an ignored one is ignored, and at
 *             SIG_DFL raise(SIGSEGV) kills the process with SIGSEGV
 *   cancelfirst  a cancel that comes before the new thread ever ran acts
 *             at its first cancellation point, after its start routine
 *             pushed its cleanup handlers: they run
 *   asynclock  with PTHREAD_CANCEL_ASYNCHRONOUS, a thread blocked for
 *             ever in pthread_mutex_lock is cancelled
 *   sigqueue  sighold/sigrelse block and unblock; signals sigqueue'd to
 *             the own pid are pending when it returns, and sigwaitinfo
 *             takes the lowest first
 *   abrtfork  a forked child that installs a SIGABRT handler after the
 *             fork runs it when its parent sends SIGABRT
 * Each prints what it saw; the test compares it with a native run.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_t target;
static volatile sig_atomic_t on_target, hits, ran;
static sem_t sem;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

static void
on_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), target))
		on_target = 1;
	ran = 1;
}

static void
post_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), target))
		hits++;
	sem_post(&sem);
}

static void
catch(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void *
wait_sem(void *arg)
{
	(void)arg;
	while (sem_wait(&sem) != 0 && errno == EINTR)
		;
	return NULL;
}

static int
tkill(void)
{
	int i;

	catch(SIGUSR1, on_usr1, SA_RESTART);
	pthread_create(&target, NULL, wait_sem, NULL);
	usleep(20000);
	pthread_kill(target, SIGUSR1);
	for (i = 0; i < 20 && !ran; i++)
		usleep(1000);	/* delivery points for main */
	while (!ran)
		usleep(1000);
	sem_post(&sem);
	pthread_join(target, NULL);
	printf("handler ran on the thread killed: %s\n",
	    on_target ? "yes" : "no");
	return 0;
}

static void *
report_pending(void *arg)
{
	sigset_t set;

	sigpending(&set);
	*(int *)arg = sigismember(&set, SIGUSR1);
	return NULL;
}

static int
raise_blocked(void)
{
	sigset_t set;
	pthread_t t;
	int child, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	pthread_create(&t, NULL, report_pending, &child);
	pthread_join(t, NULL);
	printf("pending in a new thread: %s\n", child ? "yes" : "no");
	sigpending(&set);
	printf("pending in the caller: %s\n",
	    sigismember(&set, SIGUSR1) ? "yes" : "no");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
	printf("sigwait took: %s\n", sig == SIGUSR1 ? "SIGUSR1" : "other");
	return 0;
}

static void *
spinner(void *arg)
{
	(void)arg;
	while (!stop) {
		pthread_mutex_lock(&mtx);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void *
sender(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100; i++) {
		while (sem_wait(&sem) != 0)
			;
		pthread_kill(target, SIGUSR1);
	}
	return NULL;
}

static int
spin(void)
{
	pthread_t s;

	catch(SIGUSR1, post_usr1, 0);
	sem_post(&sem);
	pthread_create(&target, NULL, spinner, NULL);
	pthread_create(&s, NULL, sender, NULL);
	pthread_join(s, NULL);
	while (sem_wait(&sem) != 0)	/* the 100th handler's post */
		;
	usleep(50000);			/* main must get to run again */
	stop = 1;
	pthread_join(target, NULL);
	printf("signals taken by the spinning thread: %d\n", (int)hits);
	return 0;
}

static void *
kill_later(void *arg)
{
	(void)arg;
	usleep(50000);
	pthread_kill(target, SIGUSR1);
	usleep(50000);
	sem_post(&sem);
	return NULL;
}

static int
semintr(void)
{
	pthread_t t;
	int r, e;

	target = pthread_self();
	catch(SIGUSR1, on_usr1, 0);
	pthread_create(&t, NULL, kill_later, NULL);
	r = sem_wait(&sem);
	e = errno;
	printf("without SA_RESTART: %d %s\n", r, r != 0 ? strerror(e) : "");
	pthread_join(t, NULL);
	while (sem_trywait(&sem) == 0)
		;
	catch(SIGUSR1, on_usr1, SA_RESTART);
	ran = 0;
	pthread_create(&t, NULL, kill_later, NULL);
	r = sem_wait(&sem);
	printf("with SA_RESTART: %d, handler ran: %s\n", r,
	    ran ? "yes" : "no");
	pthread_join(t, NULL);
	return 0;
}

static void *
holder(void *arg)
{
	int i;

	(void)arg;
	pthread_mutex_lock(&mtx);
	sem_post(&sem);
	usleep(50000);			/* main is blocked on mtx by now */
	pthread_kill(target, SIGUSR1);
	for (i = 0; i < 5000 && !on_target; i++)
		usleep(1000);
	pthread_mutex_unlock(&mtx);
	return NULL;
}

static int
mutexsig(void)
{
	pthread_t t;

	target = pthread_self();
	catch(SIGUSR1, on_usr1, 0);
	pthread_create(&t, NULL, holder, NULL);
	while (sem_wait(&sem) != 0)
		;
	pthread_mutex_lock(&mtx);	/* held: blocks until it unlocks */
	printf("handler ran while blocked on the mutex: %s\n",
	    on_target ? "yes" : "no");
	pthread_mutex_unlock(&mtx);
	pthread_join(t, NULL);
	return 0;
}

static pthread_spinlock_t spl;

static void *
spin_waiter(void *arg)
{
	(void)arg;
	pthread_spin_lock(&spl);
	pthread_spin_unlock(&spl);
	return NULL;
}

static int
spinsig(void)
{
	int i;

	catch(SIGUSR1, on_usr1, 0);
	pthread_spin_init(&spl, PTHREAD_PROCESS_PRIVATE);
	pthread_spin_lock(&spl);
	pthread_create(&target, NULL, spin_waiter, NULL);
	usleep(20000);
	pthread_kill(target, SIGUSR1);
	for (i = 0; i < 5000 && !on_target; i++)
		usleep(1000);
	pthread_spin_unlock(&spl);
	pthread_join(target, NULL);
	printf("handler ran while spinning: %s\n", on_target ? "yes" : "no");
	return 0;
}

static volatile int got_lock;

static void *
lock_then_testcancel(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mtx);
	got_lock = 1;
	pthread_mutex_unlock(&mtx);
	pthread_testcancel();
	got_lock = 2;		/* not reached */
	return NULL;
}

static int
mutexcancel(void)
{
	void *ret;

	pthread_mutex_lock(&mtx);
	pthread_create(&target, NULL, lock_then_testcancel, NULL);
	usleep(50000);		/* it is blocked on mtx */
	pthread_cancel(target);
	usleep(50000);
	pthread_mutex_unlock(&mtx);
	pthread_join(target, &ret);
	printf("got the lock after the cancel: %s; cancelled: %s\n",
	    got_lock == 1 ? "yes" : got_lock == 2 ? "yes, not cancelled" :
	    "no", ret == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

static void
count_hit(int sig)
{
	(void)sig;
	hits++;
}

static int
fault(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	unsigned i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		catch(sigs[i], count_hit, 0);
		raise(sigs[i]);
	}
	printf("handlers run by raise: %d\n", (int)hits);
	signal(SIGFPE, SIG_IGN);
	raise(SIGFPE);
	printf("ignored SIGFPE: still here\n");
	fflush(stdout);
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	printf("not reached\n");
	return 0;
}

static volatile int cleaned;

static void
cleanup(void *arg)
{
	cleaned = (int)(intptr_t)arg;
}

static void *
pushes_then_sleeps(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, (void *)(intptr_t)7);
	sleep(10);		/* the first cancellation point */
	pthread_cleanup_pop(0);
	return NULL;
}

static int
cancelfirst(void)
{
	pthread_t t;
	void *rv = NULL;

	pthread_create(&t, NULL, pushes_then_sleeps, NULL);
	pthread_cancel(t);	/* before it ever ran, on one worker */
	pthread_join(t, &rv);
	printf("canceled %d, cleanup ran with %d\n", rv == PTHREAD_CANCELED,
	    (int)cleaned);
	return 0;
}

static void *
async_locker(void *arg)
{
	(void)arg;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	sem_post(&sem);
	pthread_mutex_lock(&mtx);	/* held by main: for ever */
	printf("async_locker: got the lock\n");
	return NULL;
}

static int
asynclock(void)
{
	pthread_t t;
	void *rv = NULL;

	pthread_mutex_lock(&mtx);
	pthread_create(&t, NULL, async_locker, NULL);
	sem_wait(&sem);
	usleep(50000);		/* it is blocked in the lock */
	pthread_cancel(t);
	pthread_join(t, &rv);
	printf("async cancel in a lock wait: canceled %d\n",
	    rv == PTHREAD_CANCELED);
	pthread_mutex_unlock(&mtx);
	return 0;
}

/* sighold and sigrelse are obsolescent, but programs (and suites) use them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int
sigqueue_lowest(void)
{
	union sigval v = { .sival_int = 5 };
	sigset_t set, pend;
	int sig, got;

	sigemptyset(&set);
	for (sig = SIGRTMAX; sig >= SIGRTMIN; sig--) {
		sighold(sig);
		sigaddset(&set, sig);
	}
	for (sig = SIGRTMAX; sig >= SIGRTMIN; sig -= 4)
		sigqueue(getpid(), sig, v);
	sigpending(&pend);
	printf("pending at once: SIGRTMAX %d, SIGRTMIN %d\n",
	    sigismember(&pend, SIGRTMAX), sigismember(&pend, SIGRTMIN));
	got = sigwaitinfo(&set, NULL);
	printf("sigwaitinfo took SIGRTMIN+%d first\n", got - SIGRTMIN);
	sighold(SIGUSR2);
	catch(SIGUSR2, on_usr1, 0);
	raise(SIGUSR2);
	sigpending(&pend);
	printf("held SIGUSR2 pending %d, handler ran %d\n",
	    sigismember(&pend, SIGUSR2), (int)ran);
	sigrelse(SIGUSR2);
	printf("after sigrelse: handler ran %d\n", (int)ran);
	return 0;
}
#pragma GCC diagnostic pop

static volatile sig_atomic_t abrt_seen;

static void
on_abrt(int sig)
{
	(void)sig;
	abrt_seen = 1;
}

static int
abrtfork(void)
{
	int fds[2], st;
	char c;
	pid_t pid;

	if (pipe(fds) != 0)
		return 2;
	if ((pid = fork()) == 0) {
		int i;

		catch(SIGABRT, on_abrt, 0);
		(void)write(fds[1], "r", 1);
		for (i = 0; i < 500 && !abrt_seen; i++)
			usleep(10000);
		_exit(abrt_seen ? 0 : 1);
	}
	(void)read(fds[0], &c, 1);
	kill(pid, SIGABRT);
	waitpid(pid, &st, 0);
	printf("child: exited %d status %d, signaled %d\n", WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "tkill";

	sem_init(&sem, 0, 0);
	if (strcmp(how, "tkill") == 0)
		return tkill();
	if (strcmp(how, "raise") == 0)
		return raise_blocked();
	if (strcmp(how, "spin") == 0)
		return spin();
	if (strcmp(how, "semintr") == 0)
		return semintr();
	if (strcmp(how, "mutexsig") == 0)
		return mutexsig();
	if (strcmp(how, "fault") == 0)
		return fault();
	if (strcmp(how, "spinsig") == 0)
		return spinsig();
	if (strcmp(how, "mutexcancel") == 0)
		return mutexcancel();
	if (strcmp(how, "cancelfirst") == 0)
		return cancelfirst();
	if (strcmp(how, "asynclock") == 0)
		return asynclock();
	if (strcmp(how, "sigqueue") == 0)
		return sigqueue_lowest();
	if (strcmp(how, "abrtfork") == 0)
		return abrtfork();
	fprintf(stderr, "gr_posix: unknown case %s\n", how);
	return 2;
}
