/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * syscall.c -- syscall(2) of a call that the preload makes green, on a
 * green thread: made by that call's interposer, not by the kernel.
 *
 * Programs make some system calls through syscall(): one their libc had
 * no wrapper for, a wrapper they would rather not trust, habit.  Made as
 * it is, a blocking one (read, a sleep, a wait) waits in the kernel on
 * the worker's thread, with every LWP queued there, and a signal call
 * reaches the worker, not the green thread: rt_sigprocmask would change
 * the worker's mask, sched_yield would yield the worker's CPU but keep
 * the spinning LWP on it.  So on a green thread the calls below go to
 * the interposer of the same meaning, which answers as the kernel does
 * (-1 with errno; the kernel's other arguments are checked here where
 * the interposer has none: a signal set's size).  Differences that
 * remain: these interposers are cancellation points where glibc's
 * syscall() is none, and ppoll leaves the caller's timeout as it was.
 * The other calls below are those that take or give a thread id, and
 * the fork-like ones; a futex is sync.c's (gpi_futex_syscall).
 */
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

/* The preload's green one, not the runtime's kernel one (internal.h). */
#undef sigtimedwait

/* The kernel's signal set: 64 signals (sigsetsize, for the rt_ calls). */
#define KSIGSET_SIZE	8

#define ARG(i, type)	((type)a[i])

/*
 * A kernel signal set (8 bytes) as glibc's sigset_t (128), which the
 * interposers read and write whole: copied in and out, never passed.
 * NULL stays NULL.
 */
static sigset_t *
kset_in(long kset, sigset_t *set)
{
	if (kset == 0)
		return NULL;
	sigemptyset(set);
	memcpy(set, (const void *)kset, KSIGSET_SIZE);
	return set;
}

static void
kset_out(long kset, const sigset_t *set)
{
	if (kset != 0)
		memcpy((void *)kset, set, KSIGSET_SIZE);
}

/* A kernel signal set's size other than 8: EINVAL, as the kernel says. */
static bool
bad_size(long size, long *r)
{
	if (size == KSIGSET_SIZE)
		return false;
	errno = EINVAL;
	*r = -1;
	return true;
}

/*
 * syscall(nr, a[0..5]) on a green thread: true and the result in (*r)
 * if the call is one of these; false to make it as it is.
 */
static bool
green_call(long nr, const long *a, long *r)
{
	sigset_t set, old;

	switch (nr) {
	case SYS_read:
		*r = read(ARG(0, int), ARG(1, void *), ARG(2, size_t));
		return true;
	case SYS_write:
		*r = write(ARG(0, int), ARG(1, const void *), ARG(2, size_t));
		return true;
	case SYS_readv:
		*r = readv(ARG(0, int), ARG(1, const struct iovec *),
		    ARG(2, int));
		return true;
	case SYS_writev:
		*r = writev(ARG(0, int), ARG(1, const struct iovec *),
		    ARG(2, int));
		return true;
	case SYS_pread64:
		*r = pread(ARG(0, int), ARG(1, void *), ARG(2, size_t),
		    ARG(3, off_t));
		return true;
	case SYS_pwrite64:
		*r = pwrite(ARG(0, int), ARG(1, const void *), ARG(2, size_t),
		    ARG(3, off_t));
		return true;
	case SYS_poll:
		*r = poll(ARG(0, struct pollfd *), ARG(1, nfds_t), ARG(2, int));
		return true;
	case SYS_ppoll:
		if (a[3] != 0 && bad_size(a[4], r))
			return true;
		*r = ppoll(ARG(0, struct pollfd *), ARG(1, nfds_t),
		    ARG(2, const struct timespec *), kset_in(a[3], &set));
		return true;
	case SYS_epoll_wait:
		*r = epoll_wait(ARG(0, int), ARG(1, struct epoll_event *),
		    ARG(2, int), ARG(3, int));
		return true;
	case SYS_epoll_pwait:
		if (a[4] != 0 && bad_size(a[5], r))
			return true;
		*r = epoll_pwait(ARG(0, int), ARG(1, struct epoll_event *),
		    ARG(2, int), ARG(3, int), kset_in(a[4], &set));
		return true;
	case SYS_accept:
		*r = accept(ARG(0, int), ARG(1, struct sockaddr *),
		    ARG(2, socklen_t *));
		return true;
	case SYS_accept4:
		*r = accept4(ARG(0, int), ARG(1, struct sockaddr *),
		    ARG(2, socklen_t *), ARG(3, int));
		return true;
	case SYS_connect:
		*r = connect(ARG(0, int), ARG(1, const struct sockaddr *),
		    ARG(2, socklen_t));
		return true;
	case SYS_recvfrom:
		*r = recvfrom(ARG(0, int), ARG(1, void *), ARG(2, size_t),
		    ARG(3, int), ARG(4, struct sockaddr *), ARG(5, socklen_t *));
		return true;
	case SYS_sendto:
		*r = sendto(ARG(0, int), ARG(1, const void *), ARG(2, size_t),
		    ARG(3, int), ARG(4, const struct sockaddr *),
		    ARG(5, socklen_t));
		return true;
	case SYS_recvmsg:
		*r = recvmsg(ARG(0, int), ARG(1, struct msghdr *), ARG(2, int));
		return true;
	case SYS_sendmsg:
		*r = sendmsg(ARG(0, int), ARG(1, const struct msghdr *),
		    ARG(2, int));
		return true;
	case SYS_nanosleep:
		*r = nanosleep(ARG(0, const struct timespec *),
		    ARG(1, struct timespec *));
		return true;
	case SYS_clock_nanosleep:
		/* The call's error is its result; the system call's, errno. */
		if ((*r = clock_nanosleep(ARG(0, clockid_t), ARG(1, int),
		    ARG(2, const struct timespec *), ARG(3, struct timespec *)))
		    != 0) {
			errno = (int)*r;
			*r = -1;
		}
		return true;
	case SYS_pause:
		*r = pause();
		return true;
	case SYS_sched_yield:
		*r = sched_yield();
		return true;
	case SYS_wait4:
		*r = wait4(ARG(0, pid_t), ARG(1, int *), ARG(2, int),
		    ARG(3, struct rusage *));
		return true;
	case SYS_waitid:
		if (a[4] != 0)		/* the kernel's rusage: not waitid(3)'s */
			return false;
		*r = waitid(ARG(0, idtype_t), ARG(1, id_t), ARG(2, siginfo_t *),
		    ARG(3, int));
		return true;
	case SYS_kill:
		*r = kill(ARG(0, pid_t), ARG(1, int));
		return true;
	case SYS_rt_sigprocmask:
		if (bad_size(a[3], r))
			return true;
		if ((*r = sigprocmask(ARG(0, int), kset_in(a[1], &set),
		    a[2] != 0 ? &old : NULL)) == 0)
			kset_out(a[2], &old);
		return true;
	case SYS_rt_sigsuspend:
		if (bad_size(a[1], r))
			return true;
		*r = sigsuspend(kset_in(a[0], &set));
		return true;
	case SYS_rt_sigtimedwait:
		if (bad_size(a[3], r))
			return true;
		*r = sigtimedwait(kset_in(a[0], &set), ARG(1, siginfo_t *),
		    ARG(2, const struct timespec *));
		return true;
	case SYS_rt_sigpending:
		if (bad_size(a[1], r))
			return true;
		if ((*r = sigpending(&old)) == 0)
			kset_out(a[0], &old);
		return true;
	}
	return false;
}

/*
 * The fork-like system calls through syscall(): gpi_cloned in the
 * parent.  clone3's arguments are read only once the kernel has read
 * them (a bad pointer is its EFAULT, not our crash).
 *
 * The child returns through these frames, so it runs gpi_clone_child
 * here, as a clone() child does from its first frame: else it keeps
 * the worker's mask (nearly every signal blocked) and execs with it.
 * Only a child with its own copy of memory gets here in a state to run
 * on: one that shares ours (CLONE_VM) returns on the parent's stack or
 * on a new one with no frame to return to, which natively breaks too.
 */
static long
syscall_clone(long nr, const long *a)
{
	const struct clone_args *ca = (const struct clone_args *)a[0];
	struct gp_lwp *l = gpi_curlwp();
	unsigned long flags = 0;
	int exitsig = SIGCHLD, error;
	long r;

	if (l != NULL)
		gpi_preload_resolve();	/* as before fork(): green_fork */
	r = GPI_LIBC(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (r < 0)
		return r;
	error = errno;
	if (nr == SYS_clone) {
		flags = (unsigned long)a[0];
		exitsig = (int)(flags & CSIGNAL);
	} else if (nr == SYS_clone3) {
		flags = ca->flags;
		exitsig = (int)ca->exit_signal;
	}
	if (r == 0) {
		if (l != NULL && !(flags & CLONE_VM))
			gpi_clone_child(l->l_proc, l, flags);
		errno = error;
		return 0;
	}
	gpi_cloned((pid_t)r, flags, exitsig);
	errno = error;
	return r;
}

/*
 * syscall() of anything but a futex: the calls that take or give a
 * thread id (thread.c), pidfd_send_signal (signals.c), the scheduling
 * calls (thread.c), the AIO waits (kaio.c) and the fork-like calls as
 * their interposers make them; on a green thread the calls green_call
 * knows; the rest as they are.
 */
static long
other_syscall(long nr, const long *a)
{
	long r;
	int rv;

	switch (nr) {
	case SYS_pidfd_send_signal:
		if ((r = gpi_pidfd_send_self((int)a[0], (int)a[1],
		    (const siginfo_t *)a[2], (unsigned)a[3])) != -2)
			return r;
		break;
	case SYS_gettid:
		return gettid();
	case SYS_tgkill:
		if (gpi_tid_kill((pid_t)a[0], (pid_t)a[1], (int)a[2], &rv))
			return rv;
		break;
	case SYS_tkill:
		if (gpi_tid_kill(-1, (pid_t)a[0], (int)a[1], &rv))
			return rv;
		break;
	case SYS_sched_getscheduler:
	case SYS_sched_setscheduler:
	case SYS_sched_getparam:
	case SYS_sched_setparam:
	case SYS_sched_getattr:
	case SYS_sched_setattr:
		if (gpi_sched_green(nr, a, &r))
			return r;
		break;
	case SYS_sched_getaffinity:
	case SYS_sched_setaffinity:
		if ((rv = gpi_tid_kernel((pid_t)a[0])) == -1 && a[0] != -1)
			return -1;
		return GPI_LIBC(syscall)(nr, (long)rv, a[1], a[2]);
	case SYS_io_getevents:
	case SYS_io_pgetevents:
		if ((r = gpi_kaio_syscall(nr, a)) != -2)
			return r;
		break;
	case SYS_fork:
	case SYS_clone:
	case SYS_clone3:
		/*
		 * A child the green waits must know (spawn.c).  Not
		 * SYS_vfork: its child would return through this frame
		 * and call on over it while the parent waits in the
		 * kernel.
		 */
		return syscall_clone(nr, a);
	}
	if (gpi_curlwp() != NULL && green_call(nr, a, &r))
		return r;
	return GPI_LIBC(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/*
 * NOTE: the runtime never calls syscall() (check-layering): here it is
 * this interposer.  It calls GPI_LIBC(syscall).
 */
EXPORT long
syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	int i;

	/* As glibc's: six register-sized arguments, whatever was passed. */
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_futex)
		return gpi_futex_syscall(a);
	return other_syscall(nr, a);
}
