/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_schedattr.c -- the scheduling a new thread starts with: its
 * creator's by default (PTHREAD_INHERIT_SCHED), the attributes' with
 * PTHREAD_EXPLICIT_SCHED, and pthread_create fails with EINVAL when
 * the attributes' priority is not one of their policy's (glibc's
 * tst-bad-schedattr: SCHED_OTHER with SCHED_FIFO's priority).  Under
 * greenrun a thread started at SCHED_OTHER 0 whatever the attributes
 * said, and the bad pairs made a thread.  Only what needs no privilege
 * (glibc's attributes take SCHED_OTHER, SCHED_FIFO and SCHED_RR only;
 * a FIFO thread needs CAP_SYS_NICE): the run must be the same as any
 * user.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static const char *
name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:	return "SCHED_OTHER";
	case SCHED_BATCH:	return "SCHED_BATCH";
	case SCHED_FIFO:	return "SCHED_FIFO";
	default:		return "other";
	}
}

static void *
report(void *arg)
{
	struct sched_param sp;
	int policy;

	pthread_getschedparam(pthread_self(), &policy, &sp);
	printf("%s: %s %d\n", (const char *)arg, name(policy),
	    sp.sched_priority);
	return NULL;
}

/*
 * A thread made with (policy, prio), explicit or inherited.  The
 * priority is set under (via), then the policy: glibc's attributes check
 * a priority against the policy they hold at the time.
 */
static void
make(const char *what, int explicit, int via, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	pthread_attr_t a;
	pthread_t t;
	int error;

	pthread_attr_init(&a);
	if (explicit) {
		pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&a, via);
		pthread_attr_setschedparam(&a, &sp);
		pthread_attr_setschedpolicy(&a, policy);
	}
	if ((error = pthread_create(&t, &a, report, (void *)what)) != 0)
		printf("%s: pthread_create: %s\n", what, strerror(error));
	else
		pthread_join(t, NULL);
	pthread_attr_destroy(&a);
}

int
main(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	make("inherited", 0, 0, 0, 0);
	make("explicit other", 1, SCHED_OTHER, SCHED_OTHER, 0);
	make("other with a FIFO priority", 1, SCHED_FIFO, SCHED_OTHER, 1);
	make("FIFO with priority 0", 1, SCHED_FIFO, SCHED_FIFO, 0);
	if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp) != 0)
		return 1;
	make("inherited from batch", 0, 0, 0, 0);
	make("explicit other from batch", 1, SCHED_OTHER, SCHED_OTHER, 0);
	return 0;
}
