/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile_read.c -- a 64 MiB read(2) of a regular file, held in progress
 * by userfaultfd until a ping-pong of two other green threads of the one
 * worker is over: the read must not block the worker.  Run with
 * GREENPROC_WORKERS=1 and GREENPROC_IO=uring or epoll.
 */
#include <stdbool.h>

#include "iofile.h"
#include "legacy_driver.h"

static ssize_t got = -2;

static void *
reader(void *arg)
{
	(void)arg;
	got = read(big_fd, big_buf, BIG);
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK(lseek(big_fd, 0, SEEK_SET) == 0, "lseek");
	hold_during_pingpong(reader, big_let_go);
	CHECK(big_check(got), "read %zd", got);
	printf("legacy: done\n");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "iofile_read", NULL },
	.timeout = 30,
	.before = big_setup,
};
