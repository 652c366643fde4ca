/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_iopool.c -- the helper pool and the ring's file operations under
 * load, on each engine, two workers.
 *
 * NPROC green processes at a time, each with NLWP LWPs.  In half of
 * them the LWPs contend for one flock (separate open file descriptions:
 * the losers wait on pool helpers, GPI_POOL_INTR) and, holding it,
 * open/pwrite/fsync/pread a file of their own (io_uring, or the pool on
 * epoll: the lock holder needs a helper while every other helper may be
 * waiting for its lock), then resolve a numeric address (pool).  In the
 * other half the LWPs do the file calls and then wait for a lock the
 * host holds for good, and those processes are killed with SIGKILL: a
 * kill interrupts a lock wait (the helper gets its real signal) and
 * waits for file I/O to complete.  Every process must end, and the
 * survivors must have done all their rounds.  (A killed process never
 * holds a lock: nothing closes its descriptors yet, fdfree.)
 *
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"

#define NPROC	8
#define NLWP	4
#define ROUNDS	30

static char lockpath[64], heldpath[80];
static atomic_int rounds_done;

static void *
doomed_lwp(void *arg)
{
	char path[96], buf[8];
	int fd;

	snprintf(path, sizeof(path), "%s.%d.d%ld", lockpath, (int)getpid(),
	    (long)(uintptr_t)arg);
	fd = gp_open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || gp_pwrite(fd, "abc", 3, 0) != 3 || gp_fsync(fd) != 0 ||
	    gp_pread(fd, buf, 3, 0) != 3)
		return (void *)1;
	unlink(path);
	gp_close(fd);
	if ((fd = gp_open(heldpath, O_RDWR | O_CLOEXEC)) < 0)
		return (void *)2;
	(void)gp_flock(fd, LOCK_EX);	/* held by the host: until killed */
	return (void *)3;
}

static void *
worker_lwp(void *arg)
{
	char path[96], buf[64];
	struct addrinfo *res;
	int lfd, fd, i;

	snprintf(path, sizeof(path), "%s.%d.%ld", lockpath, (int)getpid(),
	    (long)(uintptr_t)arg);
	if ((lfd = gp_open(lockpath, O_RDWR | O_CLOEXEC)) < 0)
		return (void *)1;
	for (i = 0; i < ROUNDS; i++) {
		if (gp_flock(lfd, LOCK_EX) != 0)
			return (void *)2;
		fd = gp_open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
		if (fd < 0 || gp_pwrite(fd, "abcdef", 6, 0) != 6 ||
		    gp_fsync(fd) != 0 || gp_pread(fd, buf, 6, 0) != 6)
			return (void *)3;
		gp_close(fd);
		if (gp_flock(lfd, LOCK_UN) != 0)
			return (void *)4;
		if (gp_getaddrinfo("127.0.0.1", NULL, NULL, &res) != 0)
			return (void *)5;
		freeaddrinfo(res);
		atomic_fetch_add(&rounds_done, 1);
	}
	unlink(path);
	gp_close(lfd);
	return NULL;
}

static int
proc_main(void *arg)
{
	gp_lwp_t l[NLWP];
	void *rv;
	int i, bad = 0;

	(void)arg;
	for (i = 0; i < NLWP; i++)
		if (gp_lwp_create(&l[i], arg != NULL ? doomed_lwp : worker_lwp,
		    (void *)(uintptr_t)i, NULL) != 0)
			return 10;
	for (i = 0; i < NLWP; i++) {
		if (gp_lwp_join(l[i], &rv) != 0 || rv != NULL)
			bad = (int)(uintptr_t)rv;
	}
	return bad;
}

static int
run(const char *io)
{
	pid_t pid[NPROC];
	int i, st, killed = 0;
	char name[1];

	setenv("GREENPROC_IO", io, 1);
	if (gp_init(2) != 0) {
		perror("gp_init");
		return 1;
	}
	atomic_store(&rounds_done, 0);
	for (i = 0; i < NPROC; i++)
		if ((pid[i] = gp_spawn(proc_main, i % 2 == 0 ? (void *)1 :
		    NULL, NULL)) < 0) {
			perror("gp_spawn");
			return 1;
		}
	usleep(20000);
	for (i = 0; i < NPROC; i += 2)
		if (gp_kill(pid[i], SIGKILL) == 0)
			killed++;
	for (i = 0; i < NPROC; i++) {
		if (gp_waitpid(pid[i], &st, 0) != pid[i]) {
			perror("gp_waitpid");
			return 1;
		}
		if (i % 2 == 1 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
			fprintf(stderr, "%s: process %d: status 0x%x\n", io, i,
			    st);
			return 1;
		}
	}
	if (gp_shutdown() != 0) {
		perror("gp_shutdown");
		return 1;
	}
	printf("stress_iopool %s: %d processes (%d killed), %d rounds\n", io,
	    NPROC, killed, atomic_load(&rounds_done));
	(void)name;
	return 0;
}

int
main(void)
{
	int fd, held;

	snprintf(lockpath, sizeof(lockpath), "/tmp/gp_stress_iopool_%d",
	    (int)getpid());
	snprintf(heldpath, sizeof(heldpath), "%s.held", lockpath);
	if ((fd = open(lockpath, O_RDWR | O_CREAT, 0600)) < 0 ||
	    (held = open(heldpath, O_RDWR | O_CREAT, 0600)) < 0 ||
	    flock(held, LOCK_EX) != 0) {
		perror(lockpath);
		return 1;
	}
	gp_close(fd);
	if (run("uring") != 0 || run("epoll") != 0)
		return 1;
	unlink(lockpath);
	unlink(heldpath);
	return 0;
}
