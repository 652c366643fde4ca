/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.c -- the host's own libc functions, for the runtime.
 *
 * The runtime is linked twice: into libgreenproc.so/.a, and into
 * libgreenproc_preload.so, which exports interposers of libc names
 * (preload/preload.map) that are green on an LWP.  In the preload a
 * plain call such as sched_yield() or pthread_create() from runtime code
 * binds to the interposer: the runtime would call back into itself, on a
 * green thread with green semantics (a green yield under p_lock, a dump
 * thread that is an LWP).  So the runtime never names those functions
 * (musl's layering: internal code calls an internal name, the public
 * name is only the outside's); it calls GPI_LIBC(name)(...), the function
 * that gpi_libc_lookup() finds:
 *
 *	libgreenproc.so/.a	dlsym(RTLD_DEFAULT): what a plain call in
 *				the program binds to (a sanitizer's
 *				interceptor included), as before;
 *	the preload		dlsym(RTLD_NEXT) from the preload, which
 *				overrides the weak lookup below: the
 *				definition after its own, glibc's (the same
 *				one the interposers' REAL() reaches).
 *
 * `make check-layering` (tools/check-layering.sh) fails when a runtime
 * object refers to a name that preload.map exports.  Where a bare system
 * call is what is meant, the runtime makes it (gpi_os_yield: sched_yield).
 *
 * Resolution is lazy, one lookup per name, and done for every name by
 * gp_init (gpi_libc_init) before any signal handler or fork child of the
 * runtime can need one: dlsym is not async-signal-safe (the preload's
 * lookup, preload/dlnext.c, is; dlsym is its fallback).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static const char *const libc_names[GPI_LIBC_N] = {
#define GPI_X(name)	#name,
	GPI_LIBC_NAMES(GPI_X)
#undef GPI_X
};

/*
 * (a) relaxed: a slot goes from NULL to the one pointer dlsym returns
 * for its name, whoever stores it; the function it points at was set up
 * by the dynamic loader before any of our code ran.
 */
void *gpi_libc_fns[GPI_LIBC_N] GPI_PASSDATA;

/* libgreenproc.so/.a; the preload's strong definition replaces it. */
__attribute__((__weak__)) void *
gpi_libc_lookup(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

/*
 * gpi_libc_lookup(name), or the process ends with a line on stderr.
 * Also the preload's REAL() lookup (there gpi_libc_lookup is RTLD_NEXT).
 */
GPI_PASSTEXT void *
gpi_libc_find(const char *name)
{
	static const char msg[] = "greenproc: libc function not found: ";
	void *f;

	if ((f = gpi_libc_lookup(name)) == NULL) {
		/* Nothing of libc's to call, not even abort(): say so, go. */
		(void)!gpi_sys_write(2, msg, sizeof(msg) - 1);
		(void)!gpi_sys_write(2, name, strlen(name));
		(void)!gpi_sys_write(2, "\n", 1);
		GPI_LIBC(syscall)(SYS_exit_group, 127);
	}
	return f;
}

GPI_PASSTEXT void *
gpi_libc_resolve(int i)
{
	void *f = gpi_libc_find(libc_names[i]);

	__atomic_store_n(&gpi_libc_fns[i], f, __ATOMIC_RELAXED);
	return f;
}

void
gpi_libc_init(void)
{
	int i;

	for (i = 0; i < GPI_LIBC_N; i++)
		(void)gpi_libc_fn(i);
}

ssize_t
gpi_sys_read(int fd, void *buf, size_t n)
{
	return GPI_LIBC(syscall)(SYS_read, fd, buf, n);
}

ssize_t
gpi_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = (int)GPI_LIBC(syscall)(SYS_openat, AT_FDCWD, path,
	    O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = gpi_sys_read(fd, buf, len - 1);
	(void)GPI_LIBC(syscall)(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return n;
}

ssize_t
gpi_sys_write(int fd, const void *buf, size_t n)
{
	return GPI_LIBC(syscall)(SYS_write, fd, buf, n);
}

/* liburcu's inline futex calls (internal.h): glibc's syscall(). */
long
gpi_urcu_syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return GPI_LIBC(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
