/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_openhere.c -- opens that cannot block are made where they are asked,
 * and what an open answers is the native answer.
 *
 * Under greenrun an open for reading of a regular file or a directory
 * whose name is in the dentry cache is made on the worker (iofile.c,
 * open_here); it used to go to the worker's io_uring, whose kernel thread
 * made it, at four times the native cost.  Each step opens one kind of
 * name NOPEN times and counts the thread's voluntary context switches
 * (getrusage RUSAGE_THREAD: a green thread's are its parks), saying "few"
 * or "one per open".  Then the answers: errno for names that are not
 * there or not what the flags want, the file status flags (O_NONBLOCK is
 * not left behind), the descriptor number (the lowest free one), and a
 * FIFO's reader open, which must wait for a writer, and a writer's
 * O_CREAT open of it, which must wait for a reader.  Opens that create or
 * truncate are made on the worker too (create_here): a file truncated
 * NOPEN times and NOPEN new files are counted as above.
 *
 * With the argument "lease": another process holds a write lease on the
 * file (it lets go 0.3 s after the kernel asks it to), and a green thread
 * opens the file for reading: the open must wait for the lease, and must
 * not hold its worker meanwhile (a ticker thread beside it keeps running;
 * test_greenrun.c runs this with one worker).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parks.h"

#define NOPEN	200

static char dir[] = "/tmp/gr_openhere.XXXXXX";
static char file[64], link_[64], fifo[64];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open (path) NOPEN times; say whether the thread parked at each. */
static void
opens(const char *what, const char *path, int flags, int want_errno)
{
	long before;
	int i, fd;

	(void)open(path, flags, 0600);	/* into the dentry cache */
	before = nvcsw();
	for (i = 0; i < NOPEN; i++) {
		fd = open(path, flags, 0600);
		if (want_errno == 0 ? fd < 0 : fd >= 0 || errno != want_errno) {
			printf("%s: open %d said %d (%s)\n", what, i, fd,
			    strerror(errno));
			exit(1);
		}
		if (fd >= 0)
			close(fd);
	}
	printf("%s: %s\n", what, nvcsw() - before < NOPEN / 4 ? "few switches" :
	    "a switch per open");
}

static void
answer(const char *what, const char *path, int flags)
{
	int fd = open(path, flags), fl;

	if (fd < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	fl = fcntl(fd, F_GETFL);
	printf("%s: opened,%s%s%s\n", what,
	    (fl & O_NONBLOCK) ? " O_NONBLOCK" : " blocking",
	    (fl & O_APPEND) ? " O_APPEND" : "",
	    (fl & O_NOATIME) ? " O_NOATIME" : "");
	close(fd);
}

/* NOPEN new files, made and removed: whether the thread parked at each. */
static void
new_files(void)
{
	char name[96];
	long before = nvcsw();
	int i, fd;

	for (i = 0; i < NOPEN; i++) {
		snprintf(name, sizeof(name), "%s/new%d", dir, i);
		if ((fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
			perror(name);
			exit(1);
		}
		close(fd);
		unlink(name);
	}
	printf("new files, O_CREAT | O_EXCL: %s\n", nvcsw() - before <
	    NOPEN / 4 ? "few switches" : "a switch per open");
}

static atomic_int writer_opening, reader_opening;

/* A writer's O_CREAT open of a FIFO with no reader yet waits for one. */
static void *
fifo_writer(void *arg)
{
	int fd;

	(void)arg;
	if ((fd = open(fifo, O_WRONLY | O_CREAT, 0600)) < 0) {
		perror("open fifo for writing, O_CREAT");
		exit(1);
	}
	printf("FIFO writer's O_CREAT open %s for a reader\n",
	    atomic_load(&reader_opening) ? "waited" : "did not wait");
	if (write(fd, "ho", 2) != 2)
		perror("write fifo");
	close(fd);
	return NULL;
}

static void *
fifo_reader(void *arg)
{
	char buf[8] = "";
	int fd;

	(void)arg;
	if ((fd = open(fifo, O_RDONLY)) < 0) {
		perror("open fifo");
		exit(1);
	}
	printf("FIFO reader's open %s for a writer\n",
	    atomic_load(&writer_opening) ? "waited" : "did not wait");
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		perror("read fifo");
	printf("FIFO reader read \"%s\"\n", buf);
	close(fd);
	return NULL;
}

static void
fifo_test(void)
{
	struct timespec ts = { 0, 200000000 };
	char buf[8];
	pthread_t t;
	int fd;

	if (mkfifo(fifo, 0600) != 0) {
		perror("mkfifo");
		exit(2);
	}
	pthread_create(&t, NULL, fifo_reader, NULL);
	nanosleep(&ts, NULL);
	atomic_store(&writer_opening, 1);
	if ((fd = open(fifo, O_WRONLY)) < 0) {
		perror("open fifo for writing");
		exit(1);
	}
	if (write(fd, "hi", 2) != 2)
		perror("write fifo");
	close(fd);
	pthread_join(t, NULL);

	pthread_create(&t, NULL, fifo_writer, NULL);
	nanosleep(&ts, NULL);
	atomic_store(&reader_opening, 1);
	if ((fd = open(fifo, O_RDONLY)) < 0) {
		perror("open fifo for reading");
		exit(1);
	}
	memset(buf, 0, sizeof(buf));
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		perror("read fifo");
	printf("FIFO reader read \"%s\"\n", buf);
	close(fd);
	pthread_join(t, NULL);
}

/* --- "lease" --- */

static volatile sig_atomic_t broken;

static void
on_sigio(int sig)
{
	(void)sig;
	broken = 1;
}

static atomic_int ticking, ticks;

static void *
ticker(void *arg)
{
	struct timespec ts = { 0, 10000000 };

	(void)arg;
	while (atomic_load(&ticking)) {
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static int
lease_test(void)
{
	struct timespec hold = { 0, 300000000 };
	int p[2], fd, st;
	char c = 0;
	pthread_t t;
	double t0, took;
	pid_t pid;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    close(fd) != 0 || pipe(p) != 0) {
		perror("setup");
		return 2;
	}
	if ((pid = fork()) == 0) {
		signal(SIGIO, on_sigio);
		if ((fd = open(file, O_RDWR)) < 0 ||
		    fcntl(fd, F_SETLEASE, F_WRLCK) != 0)
			c = 1;		/* no leases here: say so */
		(void)!write(p[1], &c, 1);
		if (c)
			_exit(0);
		while (!broken)
			pause();
		nanosleep(&hold, NULL);
		fcntl(fd, F_SETLEASE, F_UNLCK);
		_exit(0);
	}
	if (read(p[0], &c, 1) != 1 || c != 0) {
		printf("no write lease here\n");
		waitpid(pid, &st, 0);
		return 0;
	}
	atomic_store(&ticking, 1);
	pthread_create(&t, NULL, ticker, NULL);
	t0 = now_s();
	fd = open(file, O_RDONLY);
	took = now_s() - t0;
	atomic_store(&ticking, 0);
	pthread_join(t, NULL);
	printf("open under a lease: %s, %s for the lease, the ticker %s\n",
	    fd >= 0 ? "opened" : strerror(errno),
	    took >= 0.2 ? "waited" : "did not wait",
	    atomic_load(&ticks) >= 3 ? "ran meanwhile" : "stopped");
	close(fd);
	waitpid(pid, &st, 0);
	return 0;
}

int
main(int argc, char **argv)
{
	char name[80];
	pthread_t yt;
	int fd, lo, r = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(link_, sizeof(link_), "%s/link", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (argc > 1 && strcmp(argv[1], "lease") == 0) {
		r = lease_test();
		unlink(file);
		rmdir(dir);
		return r;
	}
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, "x", 1) != 1 || close(fd) != 0 ||
	    symlink("file", link_) != 0) {
		perror("setup");
		return 2;
	}

	pthread_create(&yt, NULL, yielder, NULL);
	opens("a file, read-only", file, O_RDONLY, 0);
	opens("a directory, O_DIRECTORY", dir, O_RDONLY | O_DIRECTORY, 0);
	opens("a file, O_PATH", file, O_PATH, 0);
	snprintf(name, sizeof(name), "%s/none", dir);
	opens("a name not there", name, O_RDONLY, ENOENT);
	opens("a file, O_WRONLY | O_CREAT | O_TRUNC", file,
	    O_WRONLY | O_CREAT | O_TRUNC, 0);
	new_files();
	atomic_store(&yielding, 0);
	pthread_join(yt, NULL);

	answer("a name not there", name, O_RDONLY);
	snprintf(name, sizeof(name), "%s/file/x", dir);
	answer("a name under a file", name, O_RDONLY);
	answer("a file, O_DIRECTORY", file, O_RDONLY | O_DIRECTORY);
	answer("a symlink, O_NOFOLLOW", link_, O_RDONLY | O_NOFOLLOW);
	answer("a symlink", link_, O_RDONLY);
	answer("a directory, for writing", dir, O_WRONLY);
	answer("a file", file, O_RDONLY);
	answer("a file, O_NONBLOCK", file, O_RDONLY | O_NONBLOCK);
	answer("a file, O_APPEND O_NOATIME", file,
	    O_RDONLY | O_APPEND | O_NOATIME);
	answer("a file, unknown flag bits", file, O_RDONLY | 0x80000000);

	lo = dup(0);
	close(lo);
	fd = open(file, O_RDONLY);
	printf("the lowest free number: %s\n", fd == lo ? "yes" : "no");
	close(fd);

	fifo_test();

	unlink(fifo);
	unlink(link_);
	unlink(file);
	rmdir(dir);
	return 0;
}
