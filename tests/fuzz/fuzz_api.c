/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_api.c -- libFuzzer target for the public API (make fuzz).
 *
 * Each input is one gp_init(1) ... gp_shutdown() on one worker, so an
 * input replays exactly: the host thread spawns a driver process that
 * reads the input as a program of gp_ calls with arbitrary arguments
 * (bad pids, signals 0..1000, option bits, stack sizes 0..2^40, names of
 * any length).  Some calls spawn children or exec images that go on
 * reading the same input from where they start, so several green
 * processes make calls.  Calls that would end the host are left out (no
 * gp_exit in init, no gp_shutdown but the last); waits are WNOHANG so
 * that a stopped child cannot hang the input; a stop signal is followed
 * by SIGCONT.  After the program the driver kills what it can reach,
 * the host reaps its children and gp_shutdown (which kills the orphans
 * init adopted: they are not waitable) must succeed.
 *
 * Every failure's errno must be one the header (include/greenproc.h)
 * documents for that call: anything else is a crash (abort), as are a
 * sanitizer report and a hang (libFuzzer's -timeout).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"

#define MAXPIDS	16
#define MAXOPS	64	/* calls per green process */
#define NEVER_OPEN	(1 << 24)	/* above any RLIMIT_NOFILE */

struct input {
	const uint8_t	*data;
	size_t		 len;
};

/* What one green process reads: the input from (pos), (depth) deep. */
struct reader {
	const struct input *in;
	size_t		 pos;
	int		 depth;
	pid_t		 pids[MAXPIDS];	/* children and other pids it knew */
	int		 npids;
};

static uint8_t
byte(struct reader *r)
{
	return r->pos < r->in->len ? r->in->data[r->pos++] : 0;
}

static uint32_t
u32(struct reader *r)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | byte(r);
	return v;
}

static bool
done(const struct reader *r)
{
	return r->pos >= r->in->len;
}

/* ------------------------------------------------------------ contract */

static void
contract(const char *call, int e, const int *ok)
{
	const int *p;

	for (p = ok; *p != 0; p++)
		if (*p == e)
			return;
	fprintf(stderr, "fuzz_api: %s failed with errno %d (%s), "
	    "not in its contract\n", call, e, strerror(e));
	abort();
}

#define CHECK_RC(call, rc, ...) do {					\
	static const int ok_[] = { __VA_ARGS__, 0 };			\
	if ((rc) < 0)							\
		contract(call, errno, ok_);				\
} while (0)
#define CHECK_ERR(call, err, ...) do {					\
	static const int ok_[] = { __VA_ARGS__, 0 };			\
	if ((err) != 0)							\
		contract(call, (err), ok_);				\
} while (0)

/* ------------------------------------------------------------ arguments */

/* A pid: one it knows, its own, 0, -1, a group, init, or any number. */
static pid_t
any_pid(struct reader *r)
{
	uint8_t b = byte(r);

	switch (b % 8) {
	case 0: case 1: case 2:
		return r->npids > 0 ? r->pids[byte(r) % r->npids] : 0;
	case 3:
		return gp_getpid();
	case 4:
		return 0;
	case 5:
		return -1;
	case 6:
		return r->npids > 0 ? -r->pids[byte(r) % r->npids] : 1;
	default:
		return (pid_t)u32(r);
	}
}

/* Signals 0..1000, weighted to the real ones. */
static int
any_sig(struct reader *r)
{
	uint8_t b = byte(r);

	return b < 200 ? b % 66 : (int)(u32(r) % 1001);
}

static bool
stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU;
}

/*
 * 0..2^40, mostly small: under ASan every stack of up to 1 GiB is
 * unpoisoned whole at each allocation, which would make the big ones
 * most of the run time.
 */
static size_t
any_size(struct reader *r)
{
	uint8_t b = byte(r);

	if (b < 96)
		return (size_t)byte(r) * 4096 + byte(r);
	if (b < 240)
		return u32(r) % (4u << 20);
	return (size_t)u32(r) << 8 | byte(r);
}

static void
remember(struct reader *r, pid_t pid)
{
	if (pid > 0) {
		if (r->npids < MAXPIDS)
			r->pids[r->npids++] = pid;
		else
			r->pids[byte(r) % MAXPIDS] = pid;
	}
}

/* ------------------------------------------------------------ callees */

static void on_sig(int sig) { (void)sig; }
static void on_sig_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
}
static void at_exit_fn(pid_t pid) { (void)pid; }
static void atexit_fn(void) { }

static void *
lwp_fn(void *arg)
{
	uintptr_t n = (uintptr_t)arg % 4;

	while (n-- > 0)
		gp_yield();
	return arg;
}

static int interpret(struct reader *r);

/*
 * A spawned or exec'd image reads on from its own copy of the reader.
 * The copies live in a pool of the input's, not on the heap: a child
 * killed before it runs would leak its copy (LSan would say so).
 */
#define MAXIMAGES	256
static struct reader images[MAXIMAGES];
static int nimages;

static int
image_main(void *arg)
{
	struct reader r = *(struct reader *)arg;

	r.npids = 0;
	return interpret(&r);
}

static int
image_main_argv(int argc, char **argv)
{
	(void)argv;
	return argc & 0x7f;
}

/* Only the driver's worker runs green code: no lock for the pool. */
static struct reader *
image_from(const struct reader *r, size_t skip)
{
	struct reader *im;

	if (nimages == MAXIMAGES)
		return NULL;
	im = &images[nimages++];
	*im = *r;
	im->pos = r->pos + skip;
	im->depth = r->depth + 1;
	return im;
}

/* ------------------------------------------------------------ the calls */

/*
 * Attributes are the input's, destroyed by the host at its end: a green
 * process killed between gp_attr_init and gp_attr_destroy would leak its
 * attr (the address space is shared; a killed process frees nothing it
 * allocated).  Green code runs on one worker: no lock.
 */
#define MAXATTRS	512
static gp_attr_t *attrs[MAXATTRS];
static int nattrs;

/* An attr, or NULL; *fd is a descriptor it hands over, or -1. */
static gp_attr_t *
any_attr(struct reader *r, int *fd)
{
	gp_attr_t *a;
	char name[600];
	uint8_t b = byte(r);
	size_t n;
	int fds[2], rc;

	*fd = -1;
	if (b % 4 == 0 || nattrs == MAXATTRS)
		return NULL;
	if (gp_attr_init(&a) != 0)
		return NULL;
	attrs[nattrs++] = a;
	if (b & 4) {
		rc = gp_attr_setstacksize(a, any_size(r));
		CHECK_ERR("gp_attr_setstacksize", rc, EINVAL);
	}
	if (b & 8) {
		n = byte(r) * 2u + byte(r) % 2;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memset(name, 'a' + n % 26, n);
		name[n] = '\0';
		rc = gp_attr_setname(a, name);
		CHECK_ERR("gp_attr_setname", rc, EINVAL);
	}
	if (b & 16) {
		rc = gp_attr_setexitsignal(a, any_sig(r));
		CHECK_ERR("gp_attr_setexitsignal", rc, EINVAL);
	}
	if (b & 32) {
		rc = gp_attr_settls(a, (int)byte(r) - 1);
		CHECK_ERR("gp_attr_settls", rc, EINVAL);
	}
	if (b & 64) {
		rc = gp_attr_setdetached(a, (int)byte(r) - 1);
		CHECK_ERR("gp_attr_setdetached", rc, EINVAL);
	}
	if (b & 128) {
		/*
		 * A descriptor of ours, or numbers that are never open (EBADF
		 * at spawn: above any RLIMIT_NOFILE) or bad (EINVAL).  Not
		 * any open number: the child closes what it is given at its
		 * exit, and closing the runtime's own eventfds or rings is
		 * close(2) of a random descriptor, which breaks any library.
		 * An early version used 1000 and up and leaked its dups,
		 * which came to take those numbers after a few thousand
		 * inputs: a child then closed a process's watch eventfd, and
		 * gp_proc_watch met EBADF.
		 */
		int nfds;

		fds[0] = byte(r) & 1 ? dup(2) : NEVER_OPEN;
		fds[1] = byte(r) & 1 ? NEVER_OPEN + 1 + byte(r) :
		    (int)(byte(r) % 4) - 1;
		nfds = byte(r) % 3;
		rc = gp_attr_setfds(a, fds, nfds);
		CHECK_ERR("gp_attr_setfds", rc, EINVAL);
		/* Ours to hand over if listed; else closed now. */
		if (fds[0] >= 0 && fds[0] != NEVER_OPEN) {
			if (rc == 0 && nfds >= 1)
				*fd = fds[0];
			else
				close(fds[0]);
		}
	}
	return a;
}

static void
op_spawn(struct reader *r)
{
	int fd;
	gp_attr_t *a = any_attr(r, &fd);
	uint8_t b = byte(r);
	struct reader *im = NULL;
	pid_t pid;

	if (b % 3 != 0 && r->depth < 3)
		im = image_from(r, byte(r) % 32);
	if (im == NULL) {
		char *argv[] = { "x", "y", NULL };

		pid = gp_spawn_main(image_main_argv, b % 3, argv, a);
	} else
		pid = gp_spawn(image_main, im, a);
	CHECK_RC("gp_spawn", pid, EINVAL, EAGAIN, ENOMEM, EBADF);
	remember(r, pid);
	/* A spawn that worked gave it to the child; else it is still ours. */
	if (fd >= 0 && pid < 0)
		close(fd);
}

static void
op_kill(struct reader *r)
{
	pid_t pid = any_pid(r);
	int sig = any_sig(r), rc;

	/*
	 * A stop only to another single process, continued at once: a
	 * process that stopped itself, or its group, would wait forever.
	 */
	if (stop_sig(sig) && (pid <= 0 || pid == gp_getpid()))
		return;
	rc = gp_kill(pid, sig);
	CHECK_RC("gp_kill", rc, EINVAL, EPERM, ESRCH);
	if (rc == 0 && stop_sig(sig))
		(void)gp_kill(pid, SIGCONT);
}

static void
op_wait(struct reader *r)
{
	int st, opt = (int)u32(r) | WNOHANG;
	struct rusage ru;
	siginfo_t si;
	pid_t rc;

	switch (byte(r) % 3) {
	case 0:
		rc = gp_waitpid(any_pid(r), &st, opt);
		CHECK_RC("gp_waitpid", rc, ECHILD, EINTR, EINVAL);
		break;
	case 1:
		rc = gp_wait4(any_pid(r), byte(r) & 1 ? &st : NULL, opt,
		    byte(r) & 1 ? &ru : NULL);
		CHECK_RC("gp_wait4", rc, ECHILD, EINTR, EINVAL);
		break;
	default:
		rc = gp_waitid((idtype_t)(byte(r) % 5), (id_t)any_pid(r), &si,
		    opt);
		CHECK_RC("gp_waitid", rc, ECHILD, EINTR, EINVAL);
	}
}

static void
op_sigaction(struct reader *r)
{
	struct sigaction sa, old;
	uint8_t b = byte(r);
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = (int)u32(r);
	if (sa.sa_flags & SA_SIGINFO)
		sa.sa_sigaction = on_sig_info;
	else
		sa.sa_handler = b % 3 == 0 ? SIG_IGN : b % 3 == 1 ? SIG_DFL :
		    on_sig;
	sigemptyset(&sa.sa_mask);
	if (b & 8)
		sigaddset(&sa.sa_mask, any_sig(r) % 65 + 1);
	rc = gp_sigaction(any_sig(r), b & 16 ? NULL : &sa,
	    b & 32 ? NULL : &old);
	CHECK_RC("gp_sigaction", rc, EINVAL, ENOMEM);
}

static void
op_sigprocmask(struct reader *r)
{
	sigset_t set, old;
	int rc, how = (int)(byte(r) % 5) - 1;

	sigemptyset(&set);
	sigaddset(&set, any_sig(r) % 65 + 1);
	rc = gp_sigprocmask(how, byte(r) & 1 ? NULL : &set, &old);
	CHECK_RC("gp_sigprocmask", rc, EINVAL);
}

static void
op_lwp(struct reader *r)
{
	int fd;
	gp_attr_t *a = any_attr(r, &fd);
	uint8_t b = byte(r);
	gp_lwp_t l;
	void *v;
	int rc;

	rc = gp_lwp_create(&l, lwp_fn, (void *)(uintptr_t)b, a);
	CHECK_ERR("gp_lwp_create", rc, EINVAL, EAGAIN, ENOMEM);
	if (rc == 0) {
		if (b & 1) {
			rc = gp_lwp_detach(l);
			CHECK_ERR("gp_lwp_detach", rc, EINVAL, ESRCH);
		} else {
			rc = gp_lwp_join(l, &v);
			CHECK_ERR("gp_lwp_join", rc, EINVAL, ESRCH, EDEADLK);
		}
	}
	if (fd >= 0)
		close(fd);	/* an LWP takes no descriptors */
}

static void
op_pgrp(struct reader *r)
{
	int rc;

	if (byte(r) & 1) {
		rc = gp_setpgid(any_pid(r), any_pid(r));
		CHECK_RC("gp_setpgid", rc, EINVAL, ESRCH, EPERM, EACCES);
	} else {
		rc = gp_getpgid(any_pid(r));
		CHECK_RC("gp_getpgid", rc, ESRCH, EINVAL);
	}
}

static void
op_watch(struct reader *r)
{
	int fd = gp_proc_watch(any_pid(r));

	CHECK_RC("gp_proc_watch", fd, ESRCH, EMFILE, ENFILE, ENOMEM);
	if (fd >= 0)
		gp_close(fd);
}

static void
op_exitlists(struct reader *r)
{
	int rc;

	switch (byte(r) % 3) {
	case 0:
		rc = gp_at_exit(at_exit_fn);
		CHECK_RC("gp_at_exit", rc, EINVAL, ENOMEM);
		break;
	case 1:
		(void)gp_rm_at_exit(at_exit_fn);
		break;
	default:
		rc = gp_atexit(atexit_fn);
		CHECK_RC("gp_atexit", rc, EINVAL, ENOMEM);
	}
}

static void
op_reaper(struct reader *r)
{
	int rc;

	if (byte(r) & 1) {
		rc = gp_reaper_acquire();
		CHECK_RC("gp_reaper_acquire", rc, EINVAL);
	} else {
		rc = gp_reaper_release();
		CHECK_RC("gp_reaper_release", rc, EINVAL);
	}
}

static void
op_sleep(struct reader *r)
{
	struct timespec ts = { 0, (long)(byte(r) % 8) * 100000 };
	int rc;

	if (byte(r) & 1) {
		gp_yield();
		return;
	}
	if (byte(r) == 255)
		ts.tv_nsec = -1;	/* EINVAL */
	rc = gp_nanosleep(&ts, NULL);
	CHECK_RC("gp_nanosleep", rc, EINVAL, EINTR);
}

/* Ends this process's program: exec (the rest, as a new image) or exit. */
static void
op_end(struct reader *r)
{
	uint8_t b = byte(r);
	int rc, status = (int)u32(r);

	if (b % 3 == 0 && r->depth < 3) {
		struct reader *im = image_from(r, 0);

		if (im != NULL) {
			rc = gp_exec(image_main, im);
			CHECK_RC("gp_exec", rc, EINVAL, EPERM);
		}
		return;
	}
	if (b % 3 == 1) {
		rc = gp_extexit((int)u32(r), status, byte(r) & 1 ? NULL :
		    &status);
		CHECK_RC("gp_extexit", rc, EINVAL, EPERM, EFAULT);
		return;
	}
	gp_exit(status & 0xff);
}

static int
interpret(struct reader *r)
{
	int n;

	for (n = 0; n < MAXOPS && !done(r); n++) {
		switch (byte(r) % 13) {
		case 0: op_spawn(r); break;
		case 1: op_kill(r); break;
		case 2: op_wait(r); break;
		case 3: op_sigaction(r); break;
		case 4: op_sigprocmask(r); break;
		case 5: op_lwp(r); break;
		case 6: op_pgrp(r); break;
		case 7: op_watch(r); break;
		case 8: op_exitlists(r); break;
		case 9: op_reaper(r); break;
		case 10: op_sleep(r); break;
		case 11: op_wait(r); break;
		default:
			if (r->depth > 0)
				op_end(r);
			else
				gp_yield();
		}
	}
	return 0;
}

/* The driver: the program, then nothing of it left running. */
static int
driver(void *arg)
{
	struct reader r = { .in = arg };
	sigset_t none;
	int st;

	(void)interpret(&r);
	sigemptyset(&none);
	(void)gp_sigprocmask(SIG_SETMASK, &none, NULL);
	(void)gp_kill(-1, SIGKILL);
	while (gp_waitpid(-1, &st, 0) > 0)
		;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input in = { data, len };
	int st, rc;
	pid_t d;

	nimages = 0;
	nattrs = 0;
	if (gp_init(1) != 0)
		abort();
	d = gp_spawn(driver, &in, NULL);
	if (d < 0)
		abort();
	/* The driver, then every orphan: init adopts them. */
	while ((rc = gp_waitpid(-1, &st, 0)) > 0 || (rc < 0 && errno == EINTR))
		;
	if (errno != ECHILD)
		abort();
	/*
	 * Orphans init adopted are not waitable (they reap themselves,
	 * ARCHITECTURE section 11) and may still run: gp_shutdown kills
	 * them.  Only then is nothing green left to use the attrs.
	 */
	if (gp_shutdown() != 0) {
		fprintf(stderr, "fuzz_api: gp_shutdown: %s\n", strerror(errno));
		abort();
	}
	while (nattrs > 0)
		gp_attr_destroy(attrs[--nattrs]);
	return 0;
}
