/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_ustack.c -- threads on stacks their creator gives them
 * (pthread_attr_setstack, and the old setstackaddr + setstacksize), and
 * what pthread_getattr_np reports of a stack the library allocates.
 *
 * A thread on a caller's stack runs there (its locals, at the top of a
 * deep recursion and after a sleep and yields, lie inside it), and
 * pthread_getattr_np reports that stack exactly, with no guard (glibc's
 * tst-stack1, on a PTHREAD_STACK_MIN stack).  The caller owns it: after
 * the join it is filled with a pattern, other threads are made and
 * joined, and the pattern must be intact (the library neither freed nor
 * reused it); then it is unmapped and one more thread is made.  Too
 * small a stack is EINVAL.  A stack of the library's is reported as the
 * size asked for, as glibc reports it (tst-default-attr): rounded down
 * to 64 bytes, not up to pages.  Under greenrun each used to run on a
 * stack of the runtime's, reported its own address and rounded size.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct probe {
	char	*lo;		/* the stack given, [lo, lo + size) */
	size_t	 size;
	int	 on;		/* every local seen was inside it */
	int	 exact;		/* pthread_getattr_np reported it exactly */
	size_t	 guard;		/* and this guard size */
	size_t	 rsize;		/* the size reported */
	int	 depth;		/* recursion to go */
};

static int
inside(const struct probe *pr, const void *p)
{
	return (const char *)p >= pr->lo && (const char *)p < pr->lo + pr->size;
}

/* Recurse (depth) frames of ~1 KiB each, checking every one. */
static int
deep(struct probe *pr, int depth)
{
	volatile char pad[1000];

	pad[0] = (char)depth;
	if (!inside(pr, (const void *)pad))
		return 0;
	if (depth == 0)
		return 1;
	return deep(pr, depth - 1) && pad[0] == (char)depth;
}

static void *
on_stack(void *arg)
{
	struct probe *pr = arg;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	pthread_attr_t a;
	size_t size = 0;
	void *lo = NULL;
	int local = 0;

	pr->on = inside(pr, &local) && deep(pr, pr->depth);
	/* Switched away and back: still there. */
	nanosleep(&ts, NULL);
	sched_yield();
	pr->on = pr->on && inside(pr, &local);
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return NULL;
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_getguardsize(&a, &pr->guard);
	pthread_attr_destroy(&a);
	pr->exact = lo == pr->lo && size == pr->size;
	pr->rsize = size;
	return NULL;
}

/* A thread of the library's stack, to run beside the caller's stacks. */
static void *
plain(void *arg)
{
	volatile char pad[4096];

	memset((char *)pad, 0x5a, sizeof(pad));
	*(int *)arg = pad[100];
	return NULL;
}

static void
show(const char *what, const struct probe *pr)
{
	printf("%s: %s, %s, guard %zu\n", what,
	    pr->on ? "runs on it" : "runs elsewhere",
	    pr->exact ? "reported exactly" : "reported otherwise", pr->guard);
}

/* pthread_attr_setstack on [lo, lo + size), (depth) frames deep. */
static void
given(const char *what, char *lo, size_t size, int depth)
{
	struct probe pr = { lo, size, 0, 0, 1, 0, depth };
	pthread_attr_t a;
	pthread_t t;
	int e;

	pthread_attr_init(&a);
	if ((e = pthread_attr_setstack(&a, lo, size)) != 0 ||
	    (e = pthread_create(&t, &a, on_stack, &pr)) != 0) {
		printf("%s: %s\n", what, strerror(e));
		return;
	}
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	show(what, &pr);
}

/* The caller's stack is the caller's once the thread is joined. */
static void
reuse(void)
{
	size_t size = 256 * 1024, i;
	char *lo = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t[8];
	int v[8], kept = 1;

	if (lo == MAP_FAILED)
		return;
	given("mmap'd, first", lo, size, 100);
	memset(lo, 0xa5, size);
	given("mmap'd, again", lo, size, 100);
	memset(lo, 0xa5, size);
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, plain, &v[i]);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < size; i++)
		kept &= (unsigned char)lo[i] == 0xa5;
	printf("after the join: %s\n", kept ? "left alone" : "written");
	munmap(lo, size);
	pthread_create(&t[0], NULL, plain, &v[0]);
	pthread_join(t[0], NULL);
	printf("after the unmap: a new thread runs\n");
}

/*
 * The old interface: the address is the stack's top, and without a size
 * the thread gets the default size below it.  Looked up, not linked: the
 * linker warns at every use of the deprecated name.
 */
static void
old_interface(bool sized)
{
	int (*setaddr)(pthread_attr_t *, void *) = (int (*)(pthread_attr_t *,
	    void *))dlsym(RTLD_DEFAULT, "pthread_attr_setstackaddr");
	pthread_attr_t a;
	size_t size = 64 * 1024;
	struct probe pr;
	pthread_t t;
	char *lo;
	int e;

	pthread_attr_init(&a);
	if (!sized)
		pthread_attr_getstacksize(&a, &size);	/* the default */
	lo = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (setaddr == NULL || lo == MAP_FAILED) {
		printf("setstackaddr: not there\n");
		return;
	}
	memset(&pr, 0, sizeof(pr));
	pr.lo = lo;
	pr.size = size;
	pr.guard = 1;
	pr.depth = 40;
	if ((e = setaddr(&a, lo + size)) != 0 ||
	    (sized && (e = pthread_attr_setstacksize(&a, size)) != 0) ||
	    (e = pthread_create(&t, &a, on_stack, &pr)) != 0) {
		printf("setstackaddr: %s\n", strerror(e));
		munmap(lo, size);
		return;
	}
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	show(sized ? "setstackaddr+setstacksize" : "setstackaddr alone", &pr);
	munmap(lo, size);
}

static void
too_small(void)
{
	pthread_attr_t a;
	char *lo = malloc(65536);

	pthread_attr_init(&a);
	printf("setstack of 1000 bytes: %s\n",
	    strerror(pthread_attr_setstack(&a, lo, 1000)));
	printf("setstack of PTHREAD_STACK_MIN - 1: %s\n",
	    strerror(pthread_attr_setstack(&a, lo, PTHREAD_STACK_MIN - 1)));
	printf("setstacksize of 1000 bytes: %s\n",
	    strerror(pthread_attr_setstacksize(&a, 1000)));
	pthread_attr_destroy(&a);
	free(lo);
}

/* A library stack of (ask) bytes: the size pthread_getattr_np says. */
static void
asked(size_t ask)
{
	struct probe pr;
	pthread_attr_t a;
	pthread_t t;

	memset(&pr, 0, sizeof(pr));
	pr.lo = NULL;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, ask);
	if (pthread_create(&t, &a, on_stack, &pr) != 0) {
		printf("asked %zu: create failed\n", ask);
		return;
	}
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	printf("asked %zu: reported %zu\n", ask, pr.rsize);
}

int
main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t min = (size_t)PTHREAD_STACK_MIN;
	void *s;

	/*
	 * First, and in increasing sizes, so that glibc's cache of stacks
	 * (which hands a bigger free stack to a smaller request, reported
	 * as its own size) has none big enough.
	 */
	asked(16385);
	asked(100000);
	asked(1024 * 1024 + page);
	asked(3 * 1024 * 1024 + 100);
	/* glibc's tst-stack1: the smallest stack, page aligned. */
	if (posix_memalign(&s, page, min) == 0) {
		given("PTHREAD_STACK_MIN", s, min, 4);
		free(s);
	}
	/* Unaligned both ends, from malloc. */
	if ((s = malloc(100 * 1024 + 24)) != NULL) {
		given("malloc'd, unaligned", (char *)s + 8, 100 * 1024 + 7,
		    60);
		free(s);
	}
	reuse();
	old_interface(true);
	old_interface(false);
	too_small();
	return 0;
}
