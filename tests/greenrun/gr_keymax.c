/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_keymax.c -- a program can make all of glibc's PTHREAD_KEYS_MAX
 * keys, and each of them is per thread (glibc's tst-key4).  Under
 * greenrun the runtime held one key, made on a host thread's first call
 * into it (greenrun's host main waiting for the program, the forwarder
 * posting a SIGCHLD), so the program's last pthread_key_create failed
 * with EAGAIN.  A fork and wait before and after: the host threads have
 * called in, and still work with every key taken.  And a key not in use
 * is EINVAL to pthread_setspecific (glibc's tst-tss-basic), where a
 * green thread stored the value.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_key_t keys[PTHREAD_KEYS_MAX + 1];
static int nkeys;

static void *
set_all(void *arg)
{
	(void)arg;
	for (int i = 0; i < nkeys; i++)
		if (pthread_setspecific(keys[i], (void *)(long)(i + 1)) != 0)
			return (void *)1;
	for (int i = 0; i < nkeys; i++)
		if (pthread_getspecific(keys[i]) != (void *)(long)(i + 1))
			return (void *)1;
	return NULL;
}

static void *
none_set(void *arg)
{
	(void)arg;
	for (int i = 0; i < nkeys; i++)
		if (pthread_getspecific(keys[i]) != NULL)
			return (void *)1;
	return NULL;
}

static int
round_of(void *(*fn)(void *))
{
	pthread_t t[2];
	void *r;
	int bad = 0;

	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, fn, NULL) != 0)
			exit(1);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	return bad;
}

int
main(void)
{
	int status, bad = 0, e;
	pid_t pid;

	/* A key never made, and one deleted: EINVAL (tst-tss-basic). */
	printf("set of a key never made: %s\n",
	    strerror(pthread_setspecific(PTHREAD_KEYS_MAX - 1, &status)));
	if (pthread_key_create(&keys[0], NULL) != 0 ||
	    pthread_key_delete(keys[0]) != 0)
		return 1;
	printf("set of a deleted key: %s\n",
	    strerror(pthread_setspecific(keys[0], &status)));
	if ((pid = fork()) == 0)
		_exit(7);
	waitpid(pid, &status, 0);
	printf("child: %d\n", WEXITSTATUS(status));

	nkeys = 0;
	while ((e = pthread_key_create(&keys[nkeys], NULL)) == 0)
		if (++nkeys == PTHREAD_KEYS_MAX)
			break;
	printf("keys made: %d of %d (%s)\n", nkeys, PTHREAD_KEYS_MAX,
	    e == 0 ? "no error" : strerror(e));
	for (int i = 0; i < 3; i++) {
		bad += round_of(set_all);
		bad += round_of(none_set);
	}
	printf("threads with a wrong value: %d\n", bad);
	if ((pid = fork()) == 0)
		_exit(8);
	waitpid(pid, &status, 0);
	printf("child: %d\n", WEXITSTATUS(status));
	return 0;
}
