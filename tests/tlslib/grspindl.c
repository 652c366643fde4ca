/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grspindl.c -- libgrspindl.so for gr_libspin dlopen: the same busy-wait
 * as libgrspin.so, in a library the program loads with dlopen.
 */
#include "grspin.c"
