/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grspin.c -- libgrspin.so for gr_libspin: a busy-wait whose loop is in
 * a shared library, not in the program's executable.
 */
#include <stdatomic.h>

void	grspin_until(atomic_int *flag);

/* Returns once (*flag) is set; calls nothing while it waits. */
void
grspin_until(atomic_int *flag)
{
	while (!atomic_load_explicit(flag, memory_order_acquire))
		;
}
