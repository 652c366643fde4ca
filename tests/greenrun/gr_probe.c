/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_probe.c -- are our threads green?  40 threads alive at once report
 * their kernel thread id: natively 41 distinct ids (with main's), under
 * greenrun at most as many as there are workers.  Also: getpid() is the
 * kernel's (/proc/<pid>/ is ours), and main's stack is as deep as the
 * stack limit allows (a 4 MiB frame under an 8 MiB limit).
 * "gr_probe env" prints its environment and that of a program it runs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktid.h"

#define N	40

static pid_t tids[N + 1];
static pthread_barrier_t bar;

static void *
run(void *arg)
{
	tids[(long)arg] = kernel_tid();
	pthread_barrier_wait(&bar);
	return NULL;
}

static int
deep(void)
{
	volatile char big[4 << 20];

	memset((char *)big, 1, sizeof(big));
	return big[12345];
}

int
main(int argc, char **argv)
{
	pthread_t t[N];
	char path[64];
	struct rlimit rl;
	int i, j, distinct = 0;

	if (argc > 1 && strcmp(argv[1], "env") == 0) {
		printf("mine: GREENPROC_INIT=%s\n", getenv("GREENPROC_INIT"));
		fflush(stdout);
		return system("env");
	}

	pthread_barrier_init(&bar, NULL, N + 1);
	tids[N] = kernel_tid();
	for (i = 0; i < N; i++)
		pthread_create(&t[i], NULL, run, (void *)(long)i);
	pthread_barrier_wait(&bar);
	for (i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i <= N; i++) {
		for (j = 0; j < i && tids[j] != tids[i]; j++)
			;
		distinct += j == i;
	}
	printf("distinct tids %d\n", distinct);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
	printf("proc of getpid %s\n", access(path, R_OK) == 0 ? "yes" : "no");
	printf("getppid is real %s\n", kill(getppid(), 0) == 0 ? "yes" : "no");
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= (8u << 20))
		printf("deep main %d\n", deep());
	return 0;
}
