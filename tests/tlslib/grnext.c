/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grnext.c -- libgrnext.so, a second preload after greenproc's for
 * tests/programs/passthru_dlnext.c: its getppid is the definition that
 * follows the preload's interposer, so the interposer's real getppid
 * (dlsym(RTLD_NEXT) order, preload/dlnext.c) must be this one.
 */
#include <unistd.h>

#define GRNEXT_PPID	4242

pid_t
getppid(void)
{
	return GRNEXT_PPID;
}
