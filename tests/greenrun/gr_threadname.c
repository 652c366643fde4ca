/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_threadname.c -- thread names (glibc's tst-setgetname).  Main's name
 * is the program's at first, as /proc says; what pthread_setname_np or
 * prctl(PR_SET_NAME) gives main is what /proc/self/task/<gettid()>/comm
 * and /proc/self/comm say; a new thread starts with its creator's name,
 * and prctl names the calling thread only.  Under greenrun main's name
 * was "", /proc kept the program's name whatever main set, and prctl
 * read and set the name of the worker under the thread.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_barrier_t bar;

static const char *
proc_name(const char *path)
{
	static char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return "(no file)";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return "(empty)";
	buf[n - (buf[n - 1] == '\n')] = '\0';
	return buf;
}

static void
show(const char *when)
{
	char task[64], name[16] = "", pr[17] = "";

	snprintf(task, sizeof(task), "/proc/self/task/%d/comm", (int)gettid());
	pthread_getname_np(pthread_self(), name, sizeof(name));
	prctl(PR_GET_NAME, pr);
	printf("%s: getname %s, prctl %s, task comm %s, process comm %s\n",
	    when, name, pr, proc_name(task), proc_name("/proc/self/comm"));
}

static void *
thread(void *arg)
{
	char name[16] = "", pr[17] = "";

	(void)arg;
	pthread_getname_np(pthread_self(), name, sizeof(name));
	prctl(PR_GET_NAME, pr);
	printf("new thread: getname %s, prctl %s\n", name, pr);
	prctl(PR_SET_NAME, "gr-thread");
	pthread_getname_np(pthread_self(), name, sizeof(name));
	printf("new thread after prctl: getname %s\n", name);
	pthread_barrier_wait(&bar);	/* main looks */
	pthread_barrier_wait(&bar);
	return NULL;
}

int
main(void)
{
	char name[16] = "";
	pthread_t t;

	pthread_barrier_init(&bar, NULL, 2);
	show("at start");
	printf("setname: %d\n", pthread_setname_np(pthread_self(), "gr-main"));
	show("after setname");
	printf("setname too long: %d\n", pthread_setname_np(pthread_self(),
	    "0123456789abcdefg"));
	show("after a refused one");
	prctl(PR_SET_NAME, "gr-main-by-prctl");	/* cut to 15 bytes */
	show("after prctl");
	pthread_create(&t, NULL, thread, NULL);
	pthread_barrier_wait(&bar);
	pthread_getname_np(t, name, sizeof(name));
	printf("thread's name from main: %s\n", name);
	show("main, thread renamed");
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	return 0;
}
