/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * files.c (preload) -- the calls of unmodified code that have no
 * readiness: open, pread/pwrite, fsync, flock, fcntl locks, getaddrinfo
 * (runtime/iofile.c).  On a green thread they go through the worker's
 * io_uring or the helper pool; on a host thread the gp_ call is the plain
 * one.  Every open goes through gp_openat, the one place a later record
 * of who opened what can hook.  On x86_64 the ...64 names are the same
 * functions (off_t is 64 bits).
 */
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>

#include "greenproc.h"
#include "preload.h"

#define EXPORT	__attribute__((visibility("default")))

_Static_assert(sizeof(off_t) == 8, "the ...64 names need a 64-bit off_t");

extern void __chk_fail(void) __attribute__((noreturn));
int	__open_2(const char *, int);
int	__open64_2(const char *, int);
int	__openat_2(int, const char *, int);
int	__openat64_2(int, const char *, int);
ssize_t	__pread_chk(int, void *, size_t, off_t, size_t);
ssize_t	__pread64_chk(int, void *, size_t, off_t, size_t);
int	open64(const char *, int, ...);
int	openat64(int, const char *, int, ...);
int	creat64(const char *, mode_t);
ssize_t	pread64(int, void *, size_t, off_t);
ssize_t	pwrite64(int, const void *, size_t, off_t);
ssize_t	preadv64(int, const struct iovec *, int, off_t);
ssize_t	pwritev64(int, const struct iovec *, int, off_t);
int	fcntl64(int, int, ...);
int	lockf64(int, int, off_t);

/* The mode argument is read only with O_CREAT or O_TMPFILE, as glibc. */
#define MODE_ARG(flags, mode) do {					\
	(mode) = 0;							\
	if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {\
		va_list ap;						\
		va_start(ap, flags);					\
		(mode) = (mode_t)va_arg(ap, int);			\
		va_end(ap);						\
	}								\
} while (0)

EXPORT int
open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return gp_openat(AT_FDCWD, path, flags, mode);
}

EXPORT int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return gp_openat(AT_FDCWD, path, flags, mode);
}

EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return gp_openat(dirfd, path, flags, mode);
}

EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return gp_openat(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE: open without a mode must not ask to create. */
EXPORT int
__open_2(const char *path, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		__chk_fail();
	return gp_openat(AT_FDCWD, path, flags);
}

EXPORT int
__open64_2(const char *path, int flags)
{
	return __open_2(path, flags);
}

EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		__chk_fail();
	return gp_openat(dirfd, path, flags);
}

EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	return __openat_2(dirfd, path, flags);
}

EXPORT int
creat(const char *path, mode_t mode)
{
	return gp_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int
creat64(const char *path, mode_t mode)
{
	return creat(path, mode);
}

EXPORT ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	return gp_pread(fd, buf, n, off);
}

EXPORT ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	return gp_pread(fd, buf, n, off);
}

EXPORT ssize_t
__pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return gp_pread(fd, buf, n, off);
}

EXPORT ssize_t
__pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	return __pread_chk(fd, buf, n, off, buflen);
}

EXPORT ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return gp_pwrite(fd, buf, n, off);
}

EXPORT ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return gp_pwrite(fd, buf, n, off);
}

EXPORT ssize_t
preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return gp_preadv(fd, iov, cnt, off);
}

EXPORT ssize_t
preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return gp_preadv(fd, iov, cnt, off);
}

EXPORT ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return gp_pwritev(fd, iov, cnt, off);
}

EXPORT ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return gp_pwritev(fd, iov, cnt, off);
}

EXPORT int
fsync(int fd)
{
	return gp_fsync(fd);
}

EXPORT int
fdatasync(int fd)
{
	return gp_fdatasync(fd);
}

EXPORT int
flock(int fd, int op)
{
	return gp_flock(fd, op);
}

/*
 * lockf(F_LOCK) is fcntl's F_SETLKW on the region from the offset on
 * (POSIX; a len of 0 runs to the end of the file), and waits as that
 * does: off the worker, interruptible, a cancellation point.  glibc makes
 * the fcntl call inside libc, where the fcntl interposer never sees it:
 * the green thread waited on its worker, which nothing else could use
 * meanwhile, and a cancel did not end the wait: lockf returned once the
 * lock was free and the thread went on (glibc's tst-cancel16,
 * gr_lockf).  The other commands do not wait: glibc's.
 */
EXPORT int
lockf(int fd, int cmd, off_t len)
{
	struct flock fl;

	if (cmd != F_LOCK)
		return REAL(lockf)(fd, cmd, len);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_CUR;
	fl.l_start = 0;
	fl.l_len = len;
	return gp_fcntl(fd, F_SETLKW, &fl);
}

EXPORT int
lockf64(int fd, int cmd, off_t len)
{
	return lockf(fd, cmd, len);
}

EXPORT int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	return gp_getaddrinfo(node, service, hints, res);
}

EXPORT int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	return gp_getnameinfo(sa, salen, host, hostlen, serv, servlen,
	    flags);
}
