/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload.c -- libgreenproc_preload.so, the LD_PRELOAD object.
 *
 * The runtime is linked into this object, so it is self-contained.  The
 * libc interposers (exit, pthread_exit, waitpid and friends; DESIGN.md,
 * Preload) come later; each one is listed in preload/preload.map, and
 * everything else here stays static.  For now this object exports nothing.
 */
#include "greenproc.h"
