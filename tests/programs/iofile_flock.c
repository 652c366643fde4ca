/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile_flock.c -- contended flock(2) and fcntl(F_SETLKW): a real child
 * process holds both locks until a ping-pong of two other green threads
 * of the one worker is over.  Then a flock with a caught signal (no
 * SA_RESTART) says EINTR, as natively.
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>

#include "iofile.h"
#include "legacy_driver.h"

static char path[64];
static int release[2];
static pid_t holder;
static int flock_rc = -2, setlkw_rc = -2, intr_rc = -2, intr_errno;
static volatile sig_atomic_t handled, in_lock;

static int
setup(void)
{
	int ready[2], fd;
	char c;

	snprintf(path, sizeof(path), "/tmp/gp_iofile_lock_%d", getpid());
	if (pipe(release) != 0 || pipe(ready) != 0)
		return 1;
	if ((holder = fork()) == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) != 0 ||
		    fcntl(fd, F_SETLK, &fl) != 0)
			_exit(1);
		(void)write(ready[1], "r", 1);
		(void)read(release[0], &c, 1);
		_exit(0);
	}
	close(release[0]);
	if (holder < 0 || read(ready[0], &c, 1) != 1)
		return 1;
	printf("flock: held by process %d\n", (int)holder);
	return 0;
}

static void *
flocker(void *arg)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	(void)arg;
	flock_rc = flock(fd, LOCK_EX);
	return NULL;
}

static void *
setlkwer(void *arg)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	(void)arg;
	setlkw_rc = fcntl(fd, F_SETLKW, &fl);
	return NULL;
}

static void
on_usr1(int sig)
{
	(void)sig;
	handled = 1;
}

static void *
interrupted(void *arg)
{
	struct sigaction sa;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	in_lock = 1;
	intr_rc = flock(fd, LOCK_EX);
	intr_errno = errno;
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	pthread_t a, b, c;
	sigset_t usr1;
	int fd;

	pingpong_alone();
	(void)argc;
	(void)argv;
	pthread_create(&a, NULL, flocker, NULL);
	pthread_create(&b, NULL, setlkwer, NULL);
	usleep(1000);		/* both are now waiting for their lock */
	pingpong();
	CHECK(flock_rc == -2 && setlkw_rc == -2, "a lock was taken early");
	CHECK(write(release[1], "g", 1) == 1, "release");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(flock_rc == 0, "flock: %d", flock_rc);
	CHECK(setlkw_rc == 0, "fcntl(F_SETLKW): %d", setlkw_rc);

	/* flock is held by thread a's description now: c must wait. */
	pthread_create(&c, NULL, interrupted, NULL);
	/* Signals are per process: only c may take it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	while (!in_lock)
		usleep(1000);
	usleep(1000);
	CHECK(pthread_kill(c, SIGUSR1) == 0, "pthread_kill");
	pthread_join(c, NULL);
	CHECK(intr_rc == -1 && intr_errno == EINTR, "flock %d errno %d",
	    intr_rc, intr_errno);
	CHECK(handled == 1, "the handler has not run");
	fd = open(path, O_RDONLY);
	unlink(path);
	close(fd);
	printf("legacy: done\n");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "iofile_flock", NULL },
	.timeout = 30,
	.before = setup,
};
