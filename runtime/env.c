/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * env.c -- the GREENPROC_* environment variables, parsed in one place.
 *
 * Every variable has a row here: its name, what a valid value looks like
 * and the default.  A value that is set but not valid is never ignored in
 * silence: one line on stderr names the variable, the value, why it was
 * refused and the default used instead.  The complaint is made once per
 * process and variable, however often the value is read (the exit
 * timeout is read at every shutdown) and across gp_shutdown()/gp_init().
 * An empty value counts as unset.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

enum env_kind {
	EV_NUMBER,		/* a decimal (or for ev_base 0, 0x/0) integer */
	EV_SIGNAL,		/* QUIT, USR1, USR2 (SIG prefix optional), a number */
	EV_FLAG,		/* 0 or 1 */
	EV_PATH,		/* anything; its user says when it fails */
	EV_IO,			/* uring or epoll: enum gpi_ioengine */
	EV_GUARD,		/* auto, madvise, mprotect: enum gpi_guard */
};

static const struct envvar {
	const char	*ev_name;
	enum env_kind	 ev_kind;
	int		 ev_base;	/* strtol base for EV_NUMBER */
	long		 ev_min, ev_max; /* inclusive, for numbers */
	long		 ev_dflt;	/* what gpi_env returns otherwise */
	const char	*ev_dflt_text;	/* the default, for the complaint */
} envvars[GPI_ENV_NVARS] = {
	/* 0: one per online CPU, capped (gp_init). */
	[GPI_ENV_WORKERS] = { "GREENPROC_WORKERS", EV_NUMBER, 10,
	    1, GP_WORKERS_MAX, 0, "one per online CPU (at most "
	    STR(GP_WORKERS_MAX) ")" },
	/* 0: GPI_STACK_DEFAULT, or LEGACY_STACK for the preload's pthreads. */
	[GPI_ENV_STACK_SIZE] = { "GREENPROC_STACK_SIZE", EV_NUMBER, 0,
	    GPI_STACK_MIN, (long)GPI_STACK_MAX, 0,
	    "65536 (262144 for pthread_create under the preload)" },
	[GPI_ENV_EXIT_TIMEOUT_MS] = { "GREENPROC_EXIT_TIMEOUT_MS", EV_NUMBER,
	    10, 1, INT_MAX, GPI_EXIT_TIMEOUT_MS, "2000" },
	/* The pid table grows to the limit: 16M slots is 256 MiB. */
	[GPI_ENV_MAX_PROCS] = { "GREENPROC_MAX_PROCS", EV_NUMBER, 10,
	    1, 1L << 24, GPI_MAXPROCS_DEFAULT, "2097152" },
	[GPI_ENV_DUMP_SIGNAL] = { "GREENPROC_DUMP_SIGNAL", EV_SIGNAL, 0,
	    1, 64, 0, "none" },
	[GPI_ENV_DUMP_FILE] = { "GREENPROC_DUMP_FILE", EV_PATH, 0, 0, 0, 0,
	    "stderr" },
	[GPI_ENV_NO_FAULT_HANDLER] = { "GREENPROC_NO_FAULT_HANDLER", EV_FLAG,
	    0, 0, 1, 0, "0" },
	[GPI_ENV_IO] = { "GREENPROC_IO", EV_IO, 0, 0, 0, GPI_IO_NONE,
	    "io_uring where it works, else epoll" },
	[GPI_ENV_IO_THREADS] = { "GREENPROC_IO_THREADS", EV_NUMBER, 10,
	    1, 1024, 4, "4" },
	[GPI_ENV_GUARD] = { "GREENPROC_GUARD", EV_GUARD, 0, 0, 0,
	    GPI_GUARD_AUTO, "auto" },
	/* Read by greenrun's constructor only (preempt.c). */
	[GPI_ENV_PREEMPT] = { "GREENPROC_PREEMPT", EV_FLAG, 0, 0, 1, 1, "1" },
	/* Under the preload: each green thread's own CPU clock (sched.c). */
	[GPI_ENV_THREAD_CLOCK] = { "GREENPROC_THREAD_CLOCK", EV_NUMBER, 10,
	    0, 2, 2, "2" },
	/* Under the preload: file writes and creating opens on the worker. */
	[GPI_ENV_FILE_INLINE_US] = { "GREENPROC_FILE_INLINE_US", EV_NUMBER,
	    10, 0, 10000000, 500, "500" },
};

static atomic_uint env_warned;	/* (a) bit per gpi_env_id: complained */

void
gpi_env_bad(enum gpi_env_id id, const char *why)
{
	const struct envvar *ev = &envvars[id];
	const char *e = getenv(ev->ev_name);

	if (atomic_fetch_or(&env_warned, 1u << id) & (1u << id))
		return;
	/* One call, one line: stderr is unbuffered. */
	fprintf(stderr, "greenproc: %s=%s: %s; using the default, %s\n",
	    ev->ev_name, e != NULL ? e : "", why, ev->ev_dflt_text);
}

/* (s) as a number in [ev_min, ev_max], or a complaint in *why. */
static bool
parse_number(const struct envvar *ev, const char *s, long *v,
    char *why, size_t len)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, ev->ev_base);
	if (end == s || *end != '\0') {
		snprintf(why, len, "not a number");
		return false;
	}
	if (errno == ERANGE || *v < ev->ev_min || *v > ev->ev_max) {
		snprintf(why, len, "not in %ld..%ld", ev->ev_min, ev->ev_max);
		return false;
	}
	return true;
}

static bool
parse(const struct envvar *ev, const char *s, long *v, char *why,
    size_t len)
{
	switch (ev->ev_kind) {
	case EV_NUMBER:
		return parse_number(ev, s, v, why, len);
	case EV_SIGNAL:
		if (strncmp(s, "SIG", 3) == 0)
			s += 3;
		*v = strcmp(s, "QUIT") == 0 ? SIGQUIT : strcmp(s, "USR1") == 0 ?
		    SIGUSR1 : strcmp(s, "USR2") == 0 ? SIGUSR2 : 0;
		if (*v != 0 || parse_number(ev, s, v, why, len))
			return true;
		snprintf(why, len, "not a signal (QUIT, USR1, USR2 or a "
		    "number in %ld..%ld)", ev->ev_min, ev->ev_max);
		return false;
	case EV_FLAG:
		if ((s[0] == '0' || s[0] == '1') && s[1] == '\0') {
			*v = s[0] - '0';
			return true;
		}
		snprintf(why, len, "not 0 or 1");
		return false;
	case EV_IO:
		*v = strcmp(s, "uring") == 0 ? GPI_IO_URING :
		    strcmp(s, "epoll") == 0 ? GPI_IO_EPOLL : GPI_IO_NONE;
		if (*v != GPI_IO_NONE)
			return true;
		snprintf(why, len, "not uring or epoll");
		return false;
	case EV_GUARD:
		*v = strcmp(s, "auto") == 0 ? GPI_GUARD_AUTO :
		    strcmp(s, "madvise") == 0 ? GPI_GUARD_MADVISE :
		    strcmp(s, "mprotect") == 0 ? GPI_GUARD_MPROTECT : -1;
		if (*v >= 0)
			return true;
		snprintf(why, len, "not auto, madvise or mprotect");
		return false;
	case EV_PATH:
		break;
	}
	return false;
}

long
gpi_env(enum gpi_env_id id)
{
	const struct envvar *ev = &envvars[id];
	const char *e = getenv(ev->ev_name);
	int saved = errno;	/* callers' errno is not ours to change */
	char why[96];
	long v;
	bool ok;

	if (e == NULL || *e == '\0')
		return ev->ev_dflt;
	ok = parse(ev, e, &v, why, sizeof(why));
	errno = saved;
	if (ok)
		return v;
	gpi_env_bad(id, why);
	return ev->ev_dflt;
}
