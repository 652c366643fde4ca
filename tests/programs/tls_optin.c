/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls_optin.c -- a library user opts LWPs in to their own TLS with
 * gp_attr_settls(): on one worker, 4 opted-in LWPs bump their own
 * __thread values across gp_yield()s and start from the initial image;
 * the LWPs one of them creates inherit the mode.  test_tls.c checks the
 * output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "greenproc.h"

#define NT	4

static __thread long tv = 5;
static __thread long tz;
static long got[NT + 1], start[NT + 1];

static void *
child(void *arg)
{
	(void)arg;
	start[NT] = tv;
	tv = 77;
	gp_yield();
	got[NT] = tv;
	return NULL;
}

static void *
run(void *arg)
{
	long i, id = (long)arg;
	gp_lwp_t c;

	start[id] = tv + tz;
	for (i = 0; i < 100; i++) {
		tv += id;
		tz++;
		gp_yield();
	}
	if (id == 0) {
		if (gp_lwp_create(&c, child, NULL, NULL) != 0 ||
		    gp_lwp_join(c, NULL) != 0)
			puts("child failed");
	}
	got[id] = tv * 1000 + tz;
	return NULL;
}

int
main(void)
{
	gp_attr_t *attr;
	gp_lwp_t l[NT];
	long i;

	if (gp_init(1) != 0 || gp_attr_init(&attr) != 0 ||
	    gp_attr_settls(attr, 1) != 0) {
		printf("setup: %s\n", strerror(errno));
		return 1;
	}
	if (gp_attr_settls(attr, 2) != EINVAL || gp_attr_settls(NULL, 1) !=
	    EINVAL)
		puts("bad values accepted");
	tv = 1;
	for (i = 0; i < NT; i++)
		if (gp_lwp_create(&l[i], run, (void *)i, attr) != 0)
			puts("create failed");
	for (i = 0; i < NT; i++)
		(void)gp_lwp_join(l[i], NULL);
	gp_attr_destroy(attr);
	for (i = 0; i < NT; i++)
		printf("%ld: %ld -> %ld\n", i, start[i], got[i]);
	printf("child: %ld -> %ld\nhost: %ld\n", start[NT], got[NT], tv);
	return 0;
}
