/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_libspin.c -- preemption in shared libraries, and where it must not
 * happen.  Run on one worker, where both threads share it.
 *
 *	gr_libspin lib		a thread busy-waits inside libgrspin.so
 *				(grspin_until) on a flag that main sets
 *				once the thread has started: the loop is
 *				library code, as CPython's interpreter loop
 *				is in a shared libpython.  Without
 *				preemption there, main never runs again.
 *	gr_libspin dlopen	the same in libgrspindl.so, which the
 *				program loads with dlopen (a Python
 *				extension module, a plug-in).
 *	gr_libspin phdr		a thread computes for 300 ms inside its
 *				dl_iterate_phdr callback, which runs with
 *				the loader's lock held; main then calls
 *				dl_iterate_phdr too.  Natively main waits
 *				for the lock, so its callback never sees
 *				the other one inside.  A preemption inside
 *				the callback would let main, on the same
 *				kernel thread, enter that recursive lock
 *				as if it held it.
 *
 * Prints what it saw; the run must print the same natively.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void	grspin_until(atomic_int *flag);

#define HOLD_NS	300000000LL		/* phdr: time inside the callback */

static atomic_int started, flag, inside;
static void (*spin_until)(atomic_int *) = grspin_until;

static void *
lib_spinner(void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	spin_until(&flag);
	return NULL;
}

/* spin_until from libgrspindl.so, beside the executable. */
static void
load_spin_until(void)
{
	char path[4096], *slash;
	ssize_t n;
	void *h;

	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 32)) <= 0)
		exit(2);
	path[n] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		exit(2);
	strcpy(slash + 1, "libgrspindl.so");
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	if ((spin_until = (void (*)(atomic_int *))dlsym(h,
	    "grspin_until")) == NULL || spin_until == grspin_until)
		exit(2);
}

static int
lib(const char *mode)
{
	pthread_t t;

	if (pthread_create(&t, NULL, lib_spinner, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	while (!atomic_load(&started))
		;
	atomic_store(&flag, 1);
	pthread_join(t, NULL);
	printf("%s: the library's loop ended\n", mode);
	return 0;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The first object only: hold the loader's lock for HOLD_NS. */
static int
hold_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	long long end = now_ns() + HOLD_NS;

	(void)info;
	(void)size;
	(void)arg;
	atomic_store(&inside, 1);
	atomic_store(&started, 1);
	while (now_ns() < end)
		;
	atomic_store(&inside, 0);
	return 1;
}

static int
peek_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	*(int *)arg = atomic_load(&inside);
	return 1;
}

static void *
phdr_holder(void *arg)
{
	(void)arg;
	dl_iterate_phdr(hold_cb, NULL);
	return NULL;
}

static int
phdr(void)
{
	pthread_t t;
	int saw = -1;

	if (pthread_create(&t, NULL, phdr_holder, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	while (!atomic_load(&started))
		;
	dl_iterate_phdr(peek_cb, &saw);
	pthread_join(t, NULL);
	printf("phdr: %s\n", saw == 0 ? "waited for the lock" :
	    "entered the lock while another thread held it");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "phdr") == 0)
		return phdr();
	if (argc > 1 && strcmp(argv[1], "dlopen") == 0) {
		load_spin_until();
		return lib("dlopen");
	}
	return lib("lib");
}
