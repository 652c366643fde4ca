/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tls.c -- per-green-thread TLS (issue 16).  The programs run
 * natively and under `greenrun -w 1` (every green thread on one worker,
 * where a shared TLS block would show at once): output and wait status
 * must be the same.  tls_optin checks the library user's opt-in
 * (gp_attr_settls) against its expected output.
 *
 * Under a sanitizer tier the greenrun programs come from the plain
 * build (a sanitized preload cannot go into a foreign program), as in
 * test_greenrun.c.  No timing is asserted: a run that does not end
 * within LIMIT_S is killed and fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(tls, .timeout = 120.0);

#define LIMIT_S	60

static const char *
dir(bool plain)
{
	const char *s = getenv("GREENPROC_TEST_SAN");
	const char *v = getenv(plain && s != NULL && s[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)v, NULL), "run the tests with make test");
	return v;
}

/*
 * Run (prog), under `greenrun -w 1` with (green), without LD_PRELOAD or
 * GREENPROC_ variables from our environment; collect stdout+stderr and
 * the wait status.
 */
static void
run(struct tu_run *o, bool green, bool plain, const char *prog)
{
	char path[4096], gr[4096];
	const char *argv[6];
	char **env;
	int i = 0;

	snprintf(path, sizeof(path), "%s/%s", dir(plain), prog);
	snprintf(gr, sizeof(gr), "%s/greenrun", dir(true));
	cr_assert(eq(int, access(path, X_OK), 0), "%s: %s", path,
	    strerror(errno));
	if (green) {
		argv[i++] = gr;
		argv[i++] = "-w";
		argv[i++] = "1";
	}
	argv[i++] = path;
	argv[i] = NULL;
	env = tu_env(NULL, NULL);
	cr_assert(ne(ptr, env, NULL));
	cr_assert(eq(int, tu_start(o, argv, env, false), 0), "%s: %s", prog,
	    strerror(errno));
	free(env);
	tu_finish(o, LIMIT_S);
	cr_assert(not(o->timed_out), "%s hung; said:\n%s", prog, o->buf);
}

/* Natively and under greenrun -w 1: the same output and status. */
static void
same(const char *prog)
{
	static struct tu_run native, green;

	run(&native, false, true, prog);
	run(&green, true, true, prog);
	cr_expect(eq(str, green.buf, native.buf),
	    "%s: output differs\n--- native:\n%s--- greenrun -w 1:\n%s", prog,
	    native.buf, green.buf);
	cr_expect(eq(int, green.status, native.status), "%s: status %#x, "
	    "natively %#x", prog, green.status, native.status);
	cr_expect(eq(int, native.status, 0), "%s natively: %#x\n%s", prog,
	    native.status, native.buf);
}

Test(tls, thread_counters_one_worker) { same("tests/greenrun/gr_tls_count"); }
/* A non-PIE executable that takes malloc's address: its TLS is switched. */
Test(tls, thread_counters_non_pie_executable)
{
	same("tests/greenrun/gr_tls_nopie");
}
Test(tls, cxx_thread_local_ctor_dtor) { same("tests/programs/tls_cxx"); }
Test(tls, errno_h_errno_shared_lib) { same("tests/greenrun/gr_tls_lib"); }
/*
 * A library dlopen'd after the threads exist (dynamic TLS, as libjvm.so's
 * under a JVM): per thread, fresh for a thread's first use, fresh again
 * after dlclose and a second dlopen.
 */
Test(tls, dlopened_library) { same("tests/greenrun/gr_tls_dlopen"); }

/* A library user's opt-in, on one worker; no preload. */
Test(tls, optin_attr)
{
	static struct tu_run o;

	run(&o, false, false, "tests/programs/tls_optin");
	cr_expect(eq(str, o.buf,
	    "0: 5 -> 5100\n"
	    "1: 5 -> 105100\n"
	    "2: 5 -> 205100\n"
	    "3: 5 -> 305100\n"
	    "child: 5 -> 77\n"
	    "host: 1\n"));
	cr_expect(eq(int, o.status, 0));
}
