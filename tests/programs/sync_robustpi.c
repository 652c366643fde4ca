/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_robustpi.c -- sync_robust.c with robust priority-inherit mutexes.
 */
#define SYNC_ROBUST_PI 1
#include "sync_robust.c"
