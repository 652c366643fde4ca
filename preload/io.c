/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io.c (preload) -- blocking I/O calls of unmodified code: on a green
 * thread they park the LWP (runtime/iocall.c); on a host thread the gp_
 * call is the plain one, one thread-local load away.  The _chk variants
 * are what _FORTIFY_SOURCE builds call; they check as glibc's do.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "greenproc.h"
#include "preload.h"

#define EXPORT	__attribute__((visibility("default")))

/* glibc's own checker, which the _chk variants end in, and them. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t	__read_chk(int, void *, size_t, size_t);
ssize_t	__recv_chk(int, void *, size_t, size_t, int);
ssize_t	__recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
	    socklen_t *);
int	__poll_chk(struct pollfd *, nfds_t, int, size_t);
int	__ppoll_chk(struct pollfd *, nfds_t, const struct timespec *,
	    const sigset_t *, size_t);

EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
	return gp_read(fd, buf, n);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return gp_read(fd, buf, n);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
	return gp_write(fd, buf, n);
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	return gp_readv(fd, iov, cnt);
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	return gp_writev(fd, iov, cnt);
}

EXPORT ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	return gp_recv(fd, buf, n, flags);
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return gp_recv(fd, buf, n, flags);
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
    socklen_t *addrlen)
{
	return gp_recvfrom(fd, buf, n, flags, addr, addrlen);
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
    struct sockaddr *addr, socklen_t *addrlen)
{
	if (n > buflen)
		__chk_fail();
	return gp_recvfrom(fd, buf, n, flags, addr, addrlen);
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	return gp_recvmsg(fd, msg, flags);
}

EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags,
    struct timespec *timeout)
{
	return gp_recvmmsg(fd, v, vlen, flags, timeout);
}

EXPORT ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	return gp_send(fd, buf, n, flags);
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *addr, socklen_t addrlen)
{
	return gp_sendto(fd, buf, n, flags, addr, addrlen);
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return gp_sendmsg(fd, msg, flags);
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags)
{
	return gp_sendmmsg(fd, v, vlen, flags);
}

EXPORT int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return gp_accept4(fd, addr, addrlen, 0);
}

EXPORT int
accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	return gp_accept4(fd, addr, addrlen, flags);
}

EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return gp_connect(fd, addr, len);
}

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return gp_poll(fds, n, timeout);
}

EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return gp_poll(fds, n, timeout);
}

EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *sigmask)
{
	return gp_ppoll(fds, n, ts, sigmask);
}

EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *sigmask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return gp_ppoll(fds, n, ts, sigmask);
}

EXPORT int
select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	return gp_select(nfds, rd, wr, ex, tv);
}

EXPORT int
pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
    const struct timespec *ts, const sigset_t *sigmask)
{
	return gp_pselect(nfds, rd, wr, ex, ts, sigmask);
}

EXPORT int
epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	return gp_epoll_pwait(epfd, ev, max, timeout, NULL);
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
    const sigset_t *sigmask)
{
	return gp_epoll_pwait(epfd, ev, max, timeout, sigmask);
}

EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	return gp_sendfile(out, in, off, count);
}

EXPORT ssize_t
splice(int in, off_t *inoff, int out, off_t *outoff, size_t len,
    unsigned flags)
{
	return gp_splice(in, inoff, out, outoff, len, flags);
}
