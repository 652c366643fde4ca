/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grnext.c -- libgrnext.so, for tests/programs/passthru_dlnext.c: a
 * second preload after greenproc's, or a library the program needs
 * (passthru_dlnext_now).  Its getppid is the definition that follows
 * the preload's interposer, so the interposer's real getppid
 * (dlsym(RTLD_NEXT) order, preload/dlnext.c) must be this one.
 *
 * Its constructor calls interposers -- the first calls of the process
 * where it is a needed library, whose constructors run before the
 * preload's -- and says in grnext_ctor_ok whether they worked: a thread
 * made and joined, a byte through a pipe.
 */
#include <pthread.h>
#include <unistd.h>

#define GRNEXT_PPID	4242

int	grnext_ctor_ok;

pid_t
getppid(void)
{
	return GRNEXT_PPID;
}

static void *
echo(void *arg)
{
	return arg;
}

__attribute__((constructor)) static void
grnext_init(void)
{
	static int arg;
	pthread_t t;
	void *r = NULL;
	int p[2];
	char c = 0;

	if (pthread_create(&t, NULL, echo, &arg) != 0 ||
	    pthread_join(t, &r) != 0 || r != &arg || pipe(p) != 0)
		return;
	if (write(p[1], "n", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'n')
		grnext_ctor_ok = 1;
	(void)close(p[0]);
	(void)close(p[1]);
}
