/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ktid.h -- the kernel thread the caller runs on, for the programs that
 * check that green threads share a few of them.  Not gettid(): under
 * greenrun each green thread has an id of its own there, as natively
 * each thread does.  /proc/thread-self is resolved by the kernel for
 * the calling kernel thread.
 */
#ifndef GR_KTID_H
#define GR_KTID_H

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline pid_t
kernel_tid(void)
{
	char buf[64];
	ssize_t n = readlink("/proc/thread-self", buf, sizeof(buf) - 1);
	const char *slash;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash != NULL ? (pid_t)atoi(slash + 1) : -1;
}

#endif
