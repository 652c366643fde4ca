/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_passthrough.c -- what having libgreenproc_preload.so in LD_PRELOAD
 * must not change for code that is not green, and one runtime per
 * process (issue 10, items 7 and 8).  Each program of tests/programs/
 * runs in its own process with its output captured; the checks are on
 * its exit status and lines.  No timing is asserted here: the start-up
 * cost is measured by bench/bench_preload.c.
 *
 * Under a sanitizer tier the programs and the preload come from the plain
 * build, as in test_preload.c (a sanitized preload cannot start green
 * threads under ASan's pthread_create interceptor).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

TestSuite(passthru, .timeout = 120.0);

struct prun {
	int status;		/* wait status */
	char *out, *err;	/* NUL-terminated, freed by prun_free */
};

static const char *
build_dir(void)
{
	const char *s = getenv("GREENPROC_TEST_SAN");
	const char *v = getenv(s != NULL && s[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)v, NULL), "run the tests with make test");
	return v;
}

/*
 * Run build/tests/programs/name with arg (or none), LD_PRELOAD set to the
 * preload or unset, stdin /dev/null; collect its output and status.  The
 * program is killed (and the test fails) after 60 s.
 */
static void
prun(struct prun *r, const char *name, const char *arg, bool preload)
{
	char path[4096], ld[4200], **env;
	const char *argv[3] = { path, arg, NULL };
	int op[2], ep[2];
	size_t n = 0, k = 0, i;
	struct stat sb;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/tests/programs/%s", build_dir(), name);
	cr_assert(eq(int, stat(path, &sb), 0), "%s: %s", path, strerror(errno));
	snprintf(ld, sizeof(ld), "LD_PRELOAD=%s/libgreenproc_preload.so",
	    build_dir());
	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	cr_assert(ne(ptr, env, NULL));
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	}
	if (preload)
		env[k++] = ld;
	fflush(NULL);
	cr_assert(eq(int, pipe2(op, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(ep, O_CLOEXEC), 0));
	pid = fork();
	cr_assert(ge(int, (int)pid, 0));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(nul, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		alarm(60);
		execve(path, (char *const *)argv, env);
		_exit(127);
	}
	free(env);
	close(op[1]);
	close(ep[1]);
	/* Small outputs: stderr cannot fill its pipe while stdout drains. */
	r->out = tu_read_all(op[0]);
	r->err = tu_read_all(ep[0]);
	close(op[0]);
	close(ep[0]);
	cr_assert(eq(int, (int)waitpid(pid, &r->status, 0), (int)pid));
	kill(-pid, SIGKILL);	/* whatever it left behind */
	cr_assert(ne(ptr, r->out, NULL));
	cr_assert(ne(ptr, r->err, NULL));
}

static void
prun_free(struct prun *r)
{
	free(r->out);
	free(r->err);
}

static bool
exited(const struct prun *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

#define DESC(r)	"status 0x%x\n--- stdout ---\n%s--- stderr ---\n%s", \
	(r)->status, (r)->out, (r)->err

/* Run (name) (arg) under the preload: it must exit 0 saying ALL OK. */
static void
prun_all_ok(const char *name, const char *arg)
{
	struct prun r;

	prun(&r, name, arg, true);
	cr_assert(exited(&r, 0) && strstr(r.out, "ALL OK") != NULL, DESC(&r));
	prun_free(&r);
}

/* ------------------------------------------------------------ item 8 */

Test(passthru, host_vfork_shares_memory)
{
	const char *stub = getenv("GREENPROC_TEST_VFORK_STUB");
	struct prun r;

	if (stub != NULL && strcmp(stub, "0") == 0)
		cr_skip("ARCH=generic: the host's vfork is a fork there");
	prun(&r, "host_vfork", NULL, true);
	cr_assert(exited(&r, 0) && strstr(r.out, "ALL OK") != NULL, DESC(&r));
	prun_free(&r);
}

Test(passthru, runtime_unloaded_until_green_code)
{
	struct prun r;

	prun(&r, "passthru_cheap", NULL, true);
	cr_assert(exited(&r, 0) && strstr(r.out, "ALL OK") != NULL, DESC(&r));
	prun_free(&r);
}

/* The real functions: found as dlsym(RTLD_NEXT) would, without a lock. */
Test(passthru, real_function_is_the_next_definition)
{
	prun_all_ok("passthru_dlnext", "next");
}

/*
 * dlnext.c beside dlsym(RTLD_NEXT), for every name the searched objects
 * define and every name the preload looks up, with the lookup's object
 * before the preload and another preload, after both, and before the
 * preload in a program linked -z now with a library needed ahead of libc.
 */
Test(passthru, real_function_lookup_agrees_with_dlsym_first)
{
	prun_all_ok("passthru_dlnext", "first");
}

Test(passthru, real_function_lookup_agrees_with_dlsym_last)
{
	prun_all_ok("passthru_dlnext", "last");
}

Test(passthru, real_function_lookup_agrees_with_dlsym_z_now)
{
	prun_all_ok("passthru_dlnext_now", "needed");
}

/* With audit modules dlsym may answer otherwise: then it is dlsym. */
Test(passthru, real_function_lookup_is_dlsym_under_ld_audit)
{
	prun_all_ok("passthru_dlnext", "audit");
}

/* LD_PRELOAD loads nothing into a static-pie program: plain glibc. */
Test(passthru, static_pie_program_runs)
{
	prun_all_ok("passthru_spie", NULL);
}

Test(passthru, real_function_lookup_takes_no_loader_lock)
{
	prun_all_ok("passthru_dlnext", "lock");
}

/* ------------------------------------------------------------ item 7 */

Test(passthru, static_copy_under_preload_refuses)
{
	struct prun r;

	prun(&r, "static_two_runtimes", "libc", true);
	cr_assert(exited(&r, 0) && strstr(r.out, "gp_init: -1 EEXIST\n") !=
	    NULL, DESC(&r));
	cr_assert(ne(ptr, strstr(r.err, "greenproc: two runtimes in one "
	    "process"), NULL), DESC(&r));
	prun_free(&r);
}

Test(passthru, static_copy_alone_works)
{
	struct prun r;

	prun(&r, "static_two_runtimes", "gp", false);
	cr_assert(exited(&r, 0) && strstr(r.out, "gp_init: 0\n") != NULL &&
	    strstr(r.out, "green status: exited 1 code 3\n") != NULL,
	    DESC(&r));
	cr_assert(eq(str, r.err, ""), DESC(&r));
	prun_free(&r);
}

Test(passthru, shared_lib_defers_to_preload)
{
	struct prun r;

	prun(&r, "shared_one_runtime", NULL, true);
	cr_assert(exited(&r, 0) && strstr(r.out, "ALL OK") != NULL, DESC(&r));
	prun_free(&r);
}
