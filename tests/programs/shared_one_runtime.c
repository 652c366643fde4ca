/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shared_one_runtime.c -- linked with libgreenproc.so and run under
 * libgreenproc_preload.so: two copies of the runtime are mapped, and the
 * preload's is the one.  The program's gp_ calls bind to the preload, so
 * exit() in green code is a green exit; and the copy in libgreenproc.so,
 * reached directly (dlsym on its handle), refuses to start a second
 * runtime (EEXIST).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "greenproc.h"

static int
green_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	exit(3);
}

int
main(void)
{
	char *gargv[] = { "green", NULL };
	int (*lib_init)(int);
	Dl_info di;
	void *h;
	pid_t pid;
	int st = -1, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(dladdr((void *)gp_init, &di) != 0 && di.dli_fname != NULL &&
	    strstr(di.dli_fname, "libgreenproc_preload") != NULL,
	    "gp_init binds to %s, not to the preload", di.dli_fname);
	CHECK(gp_init(2) == 0, "gp_init: %s", strerror(errno));
	pid = gp_spawn_main(green_main, 1, gargv, NULL);
	CHECK(pid > 0, "gp_spawn_main: %s", strerror(errno));
	CHECK(gp_waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 3, "green exit(3): status 0x%x", st);

	h = dlopen("libgreenproc.so.0", RTLD_NOW | RTLD_NOLOAD);
	CHECK(h != NULL, "libgreenproc.so.0 not loaded: %s", dlerror());
	if (h != NULL) {
		lib_init = (int (*)(int))dlsym(h, "gp_init");
		CHECK(lib_init != NULL && lib_init != gp_init,
		    "libgreenproc.so's own gp_init: %p", (void *)lib_init);
		errno = 0;
		r = lib_init != NULL ? lib_init(1) : 0;
		CHECK(r == -1 && errno == EEXIST, "the second copy's gp_init = "
		    "%d (%s)", r, strerror(errno));
	}
	CHECK(gp_shutdown() == 0, "gp_shutdown: %s", strerror(errno));
	return check_exit_code();
}
