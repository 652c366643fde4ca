/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fds.c (preload) -- the calls that make and end descriptors, so that a
 * green process owns what it opens and its exit closes what it left
 * open (runtime/fd.c, "fdfree").  Each is the real call; on a green
 * thread the descriptor it made is then recorded (gpi_fd_opened), and
 * one about to be ended forgotten first (gpi_fd_closing).  On a host
 * thread each is the real call after one thread-local load.
 *
 * Not here: accept/accept4 (io.c: gp_accept4 records), open/openat
 * (files.c, the helper pool: they record with gpi_fd_opened too).
 * fdopen and fdopendir make no descriptor, so they change nothing: the
 * stream's descriptor is owned if and only if it was.  fclose, closedir
 * and freopen close inside glibc, where no interposer sees it: they are
 * interposed for that.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((visibility("default")))

static inline bool
green(void)
{
	return unlikely(gpi_curlwp() != NULL);
}

/* (fd), just made by the caller, is its process's. */
static inline int
opened(int fd)
{
	if (fd >= 0 && green())
		gpi_fd_opened(fd);
	else if (fd >= 0)
		gpi_fdinfo_forget(fd);	/* (gpi_fd_opened does it) */
	return fd;
}

static inline int
opened2(int r, const int fds[2])
{
	if (r == 0 && green()) {
		gpi_fd_opened(fds[0]);
		gpi_fd_opened(fds[1]);
	} else if (r == 0) {
		gpi_fdinfo_forget(fds[0]);
		gpi_fdinfo_forget(fds[1]);
	}
	return r;
}

static inline FILE *
fopened(FILE *f)
{
	if (f != NULL && green())
		gpi_fd_opened(fileno(f));
	else if (f != NULL)
		gpi_fdinfo_forget(fileno(f));
	return f;
}

/* ------------------------------------------------------------ ending */

EXPORT int
close(int fd)
{
	return gp_close(fd);
}

EXPORT int
dup2(int oldfd, int newfd)
{
	return gp_dup2(oldfd, newfd);
}

EXPORT int
dup3(int oldfd, int newfd, int flags)
{
	return gp_dup3(oldfd, newfd, flags);
}

/*
 * A daemon's closefrom(3) or close_range(3, ~0U, 0) closes what it
 * opened, not the runtime's descriptors (runtime/rtfd.c).  glibc's
 * closefrom makes its system call inside libc, so it is interposed too.
 * What the green process owned is forgotten lazily (fd.c's NOTE: the
 * record is a claim, checked before it is acted on).
 */
EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
	return gpi_rtfd_close_range(first, last, flags);
}

EXPORT void
closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	(void)gpi_rtfd_close_range((unsigned)lowfd, ~0U, 0);
}

EXPORT int
fclose(FILE *f)
{
	int fd = f != NULL ? fileno(f) : -1;	/* -1 for a memory stream */
	int r;

	if (green())
		gpi_fd_closing(fd);
	r = GPI_LIBC(fclose)(f);
	gpi_fdinfo_forget(fd);	/* after: the old file is gone (fdinfo.c) */
	return r;
}

EXPORT int
closedir(DIR *d)
{
	int fd = dirfd(d), r;

	if (green())
		gpi_fd_closing(fd);
	r = GPI_LIBC(closedir)(d);
	gpi_fdinfo_forget(fd);
	return r;
}

/* freopen ends the stream's descriptor, then (maybe) makes another. */
static FILE *
reopen(FILE *(*real)(const char *, const char *, FILE *), const char *path,
    const char *mode, FILE *f)
{
	int fd = f != NULL ? fileno(f) : -1;

	if (!green()) {
		f = real(path, mode, f);
		gpi_fdinfo_forget(fd);
		return f;
	}
	gpi_fd_closing(fd);
	f = real(path, mode, f);
	gpi_fdinfo_forget(fd);
	return fopened(f);
}

EXPORT FILE *
freopen(const char *path, const char *mode, FILE *f)
{
	return reopen(GPI_LIBC(freopen), path, mode, f);
}

EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *f)
{
	return reopen(GPI_LIBC(freopen64), path, mode, f);
}

/* ------------------------------------------------------------ making */

EXPORT int
dup(int fd)
{
	return opened(GPI_LIBC(dup)(fd));
}

/*
 * fcntl's third argument, whatever its type, is read as glibc reads it:
 * one pointer-sized word (an int is passed in one too).  Only F_DUPFD
 * and F_DUPFD_CLOEXEC make a descriptor.
 * NOTE: record locks (F_SETLK...) belong to the host process: every
 * green process is that one process to the kernel, so they give no
 * exclusion between green processes.
 */
static int
fcntl_common(int (*real)(int, int, ...), int fd, int cmd, va_list ap)
{
	void *arg = va_arg(ap, void *);
	int r;

	/* A lock wait goes off the worker (runtime/iofile.c). */
	if (cmd == F_SETLKW || cmd == F_OFD_SETLKW)
		return gp_fcntl(fd, cmd, arg);
	r = real(fd, cmd, arg);
	if (cmd == F_SETFL)
		gpi_fdinfo_flush();	/* O_NONBLOCK may have changed */
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? opened(r) : r;
}

/*
 * The terminal requests the kernel's job control stops a background
 * process for (tty_check_change: tcsetattr, tcsetpgrp, tcflush, tcflow,
 * a line discipline), which a worker, blocking SIGTTOU, makes unchecked.
 */
static bool
tty_change(unsigned long req)
{
	switch (req) {
	case TCSETS: case TCSETSW: case TCSETSF:
	case TCSETA: case TCSETAW: case TCSETAF:
	case TIOCSPGRP: case TCFLSH: case TCXONC: case TIOCSETD:
		return true;
	default:
		return false;
	}
}

/*
 * Green-init mode's job control before a change of terminal (fd): 0, or
 * -1 with errno.  For ioctl below, and for glibc's own terminal calls,
 * which make their ioctl inside libc, past that interposer.
 */
static int
tty_changed(int fd)
{
	int error;

	if (!gpi_greenrun ||
	    (error = gpi_tty_check(fd, GPI_TTY_CHANGE, true)) == 0)
		return 0;
	errno = error;
	return -1;
}

/*
 * ioctl is interposed for green-init mode's job control (above), and it
 * and setsockopt are interposed to see the changes that
 * runtime/fdinfo.c must hear of: FIONBIO sets or clears O_NONBLOCK, and
 * SO_RCVTIMEO/SO_SNDTIMEO (either time layout) a socket's timeout, for
 * every number of the description (so: every entry, after the call).
 * The third argument of ioctl is read as one pointer-sized word, as
 * glibc passes it on.
 */
EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (tty_change(req) && tty_changed(fd) != 0)
		return -1;
	r = GPI_LIBC(ioctl)(fd, req, arg);
	if (req == FIONBIO)
		gpi_fdinfo_flush();
	return r;
}

EXPORT int
tcsetattr(int fd, int act, const struct termios *t)
{
	return tty_changed(fd) != 0 ? -1 : LIBREAL(tcsetattr)(fd, act, t);
}

EXPORT int
tcsetpgrp(int fd, pid_t pgrp)
{
	return tty_changed(fd) != 0 ? -1 : LIBREAL(tcsetpgrp)(fd, pgrp);
}

EXPORT int
tcflush(int fd, int queue)
{
	return tty_changed(fd) != 0 ? -1 : LIBREAL(tcflush)(fd, queue);
}

EXPORT int
tcflow(int fd, int action)
{
	return tty_changed(fd) != 0 ? -1 : LIBREAL(tcflow)(fd, action);
}

static bool
is_timeout(int level, int name)
{
	if (level != SOL_SOCKET)
		return false;
#if defined(SO_RCVTIMEO_OLD) && defined(SO_RCVTIMEO_NEW)
	if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW ||
	    name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)
		return true;
#endif
	return name == SO_RCVTIMEO || name == SO_SNDTIMEO;
}

EXPORT int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = GPI_LIBC(setsockopt)(fd, level, name, val, len);

	if (is_timeout(level, name))
		gpi_fdinfo_flush();
	return r;
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(GPI_LIBC(fcntl), fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(GPI_LIBC(fcntl64), fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int
socket(int domain, int type, int protocol)
{
	return opened(GPI_LIBC(socket)(domain, type, protocol));
}

EXPORT int
socketpair(int domain, int type, int protocol, int sv[2])
{
	return opened2(GPI_LIBC(socketpair)(domain, type, protocol, sv), sv);
}

EXPORT int
pipe(int fds[2])
{
	return opened2(GPI_LIBC(pipe)(fds), fds);
}

EXPORT int
pipe2(int fds[2], int flags)
{
	return opened2(GPI_LIBC(pipe2)(fds, flags), fds);
}

EXPORT int
eventfd(unsigned int initval, int flags)
{
	return opened(GPI_LIBC(eventfd)(initval, flags));
}

EXPORT int
epoll_create(int size)
{
	return opened(GPI_LIBC(epoll_create)(size));
}

EXPORT int
epoll_create1(int flags)
{
	return opened(GPI_LIBC(epoll_create1)(flags));
}

/* signalfd(-1, ...) makes one; signalfd(fd, ...) changes fd's mask. */
EXPORT int
signalfd(int fd, const sigset_t *mask, int flags)
{
	int r = GPI_LIBC(signalfd)(fd, mask, flags);

	if (r >= 0)
		gpi_greenrun_signalfd(mask);	/* left to the kernel now */
	return fd == -1 ? opened(r) : r;
}

EXPORT int
timerfd_create(int clockid, int flags)
{
	return opened(GPI_LIBC(timerfd_create)(clockid, flags));
}

EXPORT int
memfd_create(const char *name, unsigned int flags)
{
	return opened(GPI_LIBC(memfd_create)(name, flags));
}

EXPORT int
inotify_init(void)
{
	return opened(GPI_LIBC(inotify_init)());
}

EXPORT int
inotify_init1(int flags)
{
	return opened(GPI_LIBC(inotify_init1)(flags));
}

EXPORT int
mkstemp(char *tmpl)
{
	return opened(GPI_LIBC(mkstemp)(tmpl));
}

EXPORT int
mkostemp(char *tmpl, int flags)
{
	return opened(GPI_LIBC(mkostemp)(tmpl, flags));
}

EXPORT FILE *
fopen(const char *path, const char *mode)
{
	return fopened(GPI_LIBC(fopen)(path, mode));
}

EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	return fopened(GPI_LIBC(fopen64)(path, mode));
}

EXPORT FILE *
tmpfile(void)
{
	return fopened(GPI_LIBC(tmpfile)());
}

EXPORT FILE *
tmpfile64(void)
{
	return fopened(GPI_LIBC(tmpfile64)());
}

EXPORT DIR *
opendir(const char *path)
{
	DIR *d = GPI_LIBC(opendir)(path);

	if (d != NULL && green())
		gpi_fd_opened(dirfd(d));
	else if (d != NULL)
		gpi_fdinfo_forget(dirfd(d));
	return d;
}
