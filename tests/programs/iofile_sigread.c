/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile_sigread.c -- a caught green signal during a 64 MiB pread(2) of
 * a regular file (held by userfaultfd) does not interrupt it: the full
 * count comes back, and the handler (no SA_RESTART) has run by then.
 */
#include <signal.h>
#include <stdbool.h>

#include "iofile.h"
#include "legacy_driver.h"

static ssize_t got = -2;
static volatile sig_atomic_t handled;
static volatile sig_atomic_t in_read;

static void
on_usr1(int sig)
{
	(void)sig;
	handled = 1;
}

static void *
reader(void *arg)
{
	struct sigaction sa;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART: would be EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	in_read = 1;
	got = pread(big_fd, big_buf, BIG, 0);
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	sigset_t usr1;
	pthread_t t;

	pingpong_alone();
	(void)argc;
	(void)argv;
	pthread_create(&t, NULL, reader, NULL);
	/* Signals are per process: only the reader may take it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	while (!in_read)
		usleep(1000);
	usleep(1000);		/* the reader is now in its pread */
	CHECK(pthread_kill(t, SIGUSR1) == 0, "pthread_kill");
	pingpong();
	CHECK(handled == 0, "the handler ran during the read");
	big_let_go();
	pthread_join(t, NULL);
	CHECK(big_check(got), "pread %zd", got);
	CHECK(handled == 1, "the handler has not run");
	printf("legacy: done\n");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "iofile_sigread", NULL },
	.timeout = 30,
	.before = big_setup,
};
