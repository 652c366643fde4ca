/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grslowinit.c -- libgrslowinit.so for tests/programs/passthru_dlnext.c:
 * a constructor, run inside dlopen with the dynamic loader's lock held,
 * that says so on descriptor 61 and returns only once a byte arrives on
 * descriptor 62.  Meanwhile dlsym in any other thread waits for it.
 */
#include <unistd.h>

__attribute__((constructor)) static void
slow_init(void)
{
	char c;

	(void)!write(61, "i", 1);
	(void)!read(62, &c, 1);
}
