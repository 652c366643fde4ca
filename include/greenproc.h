/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * greenproc.h -- the public interface of greenproc.
 *
 * Green threads (LWPs) scheduled M:N on a few worker threads, grouped into
 * green processes with the process model of a BSD kernel (DragonFly's
 * kern_exit.c): pids, parents, children, process groups, exit statuses,
 * zombies, wait, reapers and green signals.
 *
 * Errors: gp_lwp_* and gp_attr_* return 0 or an error number, as pthread
 * calls do.  Every other call that can fail returns -1 and sets errno,
 * except gp_rm_at_exit(), which returns 1 (removed) or 0 (not found).
 *
 * Every call is safe from green threads and from host threads unless it
 * says otherwise.  "May block" means: a green caller parks its LWP (its
 * worker runs other LWPs meanwhile); a host thread sleeps on a futex.
 * A call that does not say it may block does not (it may spin briefly on
 * a runtime lock).  Nothing preempts: an LWP switches only inside calls
 * that may block, gp_yield() and gp_exit()-like calls, which are also its
 * cancellation points, where it acts on green signals and dies when killed.
 *
 * Init: host threads (and the LWPs they create) are process GP_PID_INIT.
 * Green processes spawned from a host thread are init's children, and
 * init adopts every orphan: a host thread may wait for them with
 * gp_wait*() like any parent.  What each call does in init is said at
 * the call.
 *
 * A return from the host's main() is the host's exit(3), which ends every
 * green process as if killed (their atexit handlers do not run).  Under
 * libgreenproc_preload.so that exit first kills them and stops the
 * workers (gp_shutdown()), so the host's atexit handlers never run beside
 * green code; a program that is not preloaded gets that order by ending
 * with gp_exit(status) instead of returning.
 */
#ifndef GREENPROC_H
#define GREENPROC_H

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GP_EXPORT __attribute__((__visibility__("default")))
#ifdef __cplusplus
#define GP_NORETURN [[noreturn]]
#else
#define GP_NORETURN _Noreturn
#endif

#define GP_PID_BASE	(1 << 30)		/* green pids are > GP_PID_BASE */
#define GP_PID_INIT	(GP_PID_BASE + 1)	/* init: the host threads */
/*
 * One exception: under greenrun (the preload's green-init mode) the
 * green process that runs the program's main answers getpid() and
 * friends with the host's ids, so GP_IS_GREEN(getpid()) is false there;
 * gp_getpid() still gives its green pid.
 */
#define GP_IS_GREEN(pid) (((pid) < 0 ? -(pid) : (pid)) > GP_PID_BASE)

/* gp_extexit() how = who | action (as DragonFly's EXTEXIT_*). */
#define GP_EXTEXIT_SIMPLE	0
#define GP_EXTEXIT_SETINT	1
#define GP_EXTEXIT_PROC		(0 << 16)
#define GP_EXTEXIT_LWP		(1 << 16)

typedef struct gp_attr gp_attr_t;	/* opaque spawn / LWP attributes */
typedef struct gp_lwp *gp_lwp_t;	/* green LWP handle */
typedef void (*gp_exitlist_fn)(pid_t pid); /* global exit callout */

/*
 * Runtime.  gp_init(0) starts one worker per online CPU (GREENPROC_WORKERS
 * overrides); it is idempotent and implied by the first call that needs the
 * runtime.  gp_shutdown() kills every green process and LWP, stops the
 * workers and frees everything; gp_init() works again afterwards.  It
 * returns -1 with EBUSY when an LWP never reached a cancellation point
 * within GREENPROC_EXIT_TIMEOUT_MS (default 2000): every such LWP is named
 * on stderr (pid, LWP id, entry), its worker thread is abandoned, and
 * what that worker may still touch (its LWPs' stacks, their processes,
 * the workers' structs) is left allocated on purpose, said on stderr and
 * counted in gp_stats(); everything else is freed.  The worker parks for
 * good when its LWP next enters the runtime; the runtime that a later
 * gp_init() starts shares nothing with it.
 *
 * gp_init(n) fails with EINVAL if n < 0 or n > GP_WORKERS_MAX: workers are
 * host threads that only pay off beyond the CPUs while LWPs block them in
 * host calls, idle workers scan every other worker's queue to steal, and
 * each keeps its own pid batches, so past a thousand they cost more than
 * they give.  gp_init(0) uses GREENPROC_WORKERS or the online CPUs, capped
 * the same.  A GREENPROC_* variable with a bad value is named on stderr
 * (once per process) and its default used.
 *
 * One runtime per process: gp_init() fails with EEXIST, and says so on
 * stderr, in a copy of the runtime that another one in the process
 * overrides -- a program linked with libgreenproc.a run under
 * libgreenproc_preload.so (link libgreenproc.so, or nothing, to use the
 * preload's runtime).  ELIBACC: liburcu-memb could not be loaded.
 * ENOTSUP: GREENPROC_GUARD=madvise on a kernel without MADV_GUARD_INSTALL
 * (auto, the default, falls back to mprotect guards; mprotect forces them).
 * gp_init() returns 0 (also when the runtime is already up); it starts
 * threads but does not block.  Every call that needs the runtime and
 * cannot start it fails with gp_init()'s errno.
 *
 * gp_shutdown() returns 0, or -1 with EBUSY (above) or EDEADLK when
 * called on an LWP (it would wait for its own death): call it from a host
 * thread.  It may block, up to about GREENPROC_EXIT_TIMEOUT_MS for each
 * set of stuck workers.
 */
#define GP_WORKERS_MAX	1024
GP_EXPORT int	gp_init(int nworkers);
GP_EXPORT int	gp_shutdown(void);

/*
 * Attributes; a NULL attr means the defaults.  Each returns 0 or EINVAL
 * for a NULL attr or a bad value; gp_attr_init() also ENOMEM.
 */
GP_EXPORT int	gp_attr_init(gp_attr_t **attr);
GP_EXPORT int	gp_attr_destroy(gp_attr_t *attr);
/*
 * Stack size of the first LWP of a spawned process or of an LWP: 16 KiB
 * to 1 GiB (rounded up to a page; EINVAL outside), default 64 KiB or
 * GREENPROC_STACK_SIZE.  Stacks are committed lazily, below a guard page.
 */
GP_EXPORT int	gp_attr_setstacksize(gp_attr_t *attr, size_t bytes);
/* The set size, or the default when none was set. */
GP_EXPORT int	gp_attr_getstacksize(const gp_attr_t *attr, size_t *bytes);
/*
 * The guard below the stack: bytes rounded up to whole pages, 0 for none
 * (EINVAL above 1 GiB), as pthread_attr_setguardsize; default one page.
 * Any other size makes the stack a mapping of its own (an mmap and a
 * munmap per LWP).  Ignored with gp_attr_setstack.
 */
GP_EXPORT int	gp_attr_setguardsize(gp_attr_t *attr, size_t bytes);
/* The set guard size, rounded, or one page when none was set. */
GP_EXPORT int	gp_attr_getguardsize(const gp_attr_t *attr, size_t *bytes);
/*
 * Run the LWP (or a spawned process's first LWP) on the caller's stack,
 * [addr, addr + bytes), bytes at least 16 KiB (EINVAL below), as
 * pthread_attr_setstack.  The runtime never frees, caches or guards it:
 * the caller may reuse it once the LWP is joined (or its process
 * reaped).  The LWP's own bookkeeping lives elsewhere.
 */
GP_EXPORT int	gp_attr_setstack(gp_attr_t *attr, void *addr, size_t bytes);
/* The name gp_ps() and gp_dump() show (truncated to fit). */
GP_EXPORT int	gp_attr_setname(gp_attr_t *attr, const char *name);
/* The signal the parent gets at exit: SIGCHLD (default), SIGUSR1, or 0. */
GP_EXPORT int	gp_attr_setexitsignal(gp_attr_t *attr, int sig);
/* gp_lwp_create() only: 1 starts the LWP detached, 0 joinable (default). */
GP_EXPORT int	gp_attr_setdetached(gp_attr_t *attr, int detached);
/*
 * gp_lwp_create() and gp_spawn(): 1 gives the LWP (a process's first
 * one) its own values of the __thread / thread_local variables of the
 * executable and of the libraries loaded at start (not libc's), from
 * their initial images; the LWPs it creates get the same.  0 (default):
 * it shares its worker's.  Costs a copy of those variables at each
 * switch between two such LWPs (docs/ARCHITECTURE.md, section 27).
 */
GP_EXPORT int	gp_attr_settls(gp_attr_t *attr, int own);
/*
 * gp_spawn() only: the child is given the n descriptors of fds (copied):
 * they leave the spawner's process (if it owned them) and the child owns
 * them, so they are closed at its exit (see "Descriptors" below).  A
 * spawn with one that is not open fails with EBADF.  EINVAL for a number
 * below 3, n < 0, or fds NULL with n > 0; ENOMEM.  n = 0 clears the list.
 */
GP_EXPORT int	gp_attr_setfds(gp_attr_t *attr, const int *fds, int n);

/*
 * Processes.
 *
 * gp_spawn() makes a green process, child of the caller's process (init
 * on a host thread), whose first LWP runs entry(arg); a return from entry
 * is gp_exit(its return value), so the return value is the exit status.
 * Returns the new pid (> GP_PID_BASE), or -1: EINVAL (entry NULL), EAGAIN
 * (GREENPROC_MAX_PROCS reached, exactly, whichever worker spawns; no room
 * for a stack's guard page, as at vm.max_map_count with GREENPROC_GUARD=
 * mprotect; or the runtime is shutting down), ENOMEM,
 * or gp_init()'s errno.  Does not block: the child may run before or
 * after the call returns.  Called by an LWP that has held its worker for
 * a slice (the watchdog asked), it yields on its way out, so a loop of
 * spawns lets the children run.  gp_spawn_main() is the same with main()'s
 * signature: argv (argc strings, then NULL) is copied; EINVAL for argc
 * < 0 or a NULL argv[i] below argc.
 */
GP_EXPORT pid_t	gp_spawn(int (*entry)(void *), void *arg, const gp_attr_t *attr);
GP_EXPORT pid_t	gp_spawn_main(int (*main_fn)(int, char **), int argc,
		    char **argv, const gp_attr_t *attr);
/*
 * gp_exit() is exit(3): the process's atexit list (LIFO), then
 * gp__exit(), which is _exit(2): every LWP of the process is killed, the
 * parent is told (exit signal, wait) and the orphans go to a reaper.
 * Neither returns.  May block while the other LWPs die.  In init (any
 * host thread or LWP of init) they are the host's own exit(3) / _exit(2),
 * after the green teardown that gp_shutdown() does.
 */
GP_NORETURN GP_EXPORT void gp_exit(int status);
GP_NORETURN GP_EXPORT void gp__exit(int status);
/*
 * DragonFly's extexit(2): how = GP_EXTEXIT_PROC or GP_EXTEXIT_LWP, |
 * GP_EXTEXIT_SETINT to store status at addr first (EFAULT if addr is
 * NULL).  _PROC is gp__exit(status); _LWP ends only the calling LWP (the
 * last LWP: gp__exit(status)).  Returns -1 only: EINVAL (bad how), EPERM
 * in init.
 */
GP_EXPORT int	gp_extexit(int how, int status, void *addr);
/*
 * killalllwps(forexec): every other LWP of the process dies, then the
 * same pid runs entry(arg) on a fresh LWP, its return the exit status.
 * No return on success; -1 with EINVAL (entry NULL) or EPERM in init.
 * When another LWP of the process is already exec'ing or exiting, the
 * caller's LWP just ends; when no stack can be had for the new image, the
 * process dies as if killed.  May block while the other LWPs die.
 */
GP_EXPORT int	gp_exec(int (*entry)(void *), void *arg);
/*
 * gp_atexit(): fn on the calling process's atexit list, run LIFO at
 * gp_exit() (not at gp__exit() or a kill); in init it is the host's
 * atexit(3).  gp_at_exit(): fn(pid) at every green process's exit, from
 * the exiting process; registering one again moves it to the end.  Both
 * return 0, or -1 with EINVAL (fn NULL) or ENOMEM.  gp_rm_at_exit()
 * returns 1 (removed) or 0 (not registered).
 */
GP_EXPORT int	gp_atexit(void (*fn)(void));
GP_EXPORT int	gp_at_exit(gp_exitlist_fn fn);
GP_EXPORT int	gp_rm_at_exit(gp_exitlist_fn fn);

/*
 * wait4(2), waitpid(2), waitid(2) on the caller's green children (init's
 * on a host thread: those spawned from host threads or init's LWPs; an
 * orphan init adopts reaps itself and is never waited for, ECHILD).  May
 * block, unless WNOHANG.  Statuses use the Linux encoding (WIFEXITED()
 * and the rest of <sys/wait.h> read them); ru is the child's green run
 * time and switch counts.  -1 with ECHILD (no such child), EINTR (a
 * caught green signal whose handler lacks SA_RESTART; never on a host
 * thread), EINVAL (bad options or idtype).  Under the preload a green
 * process's real children (fork) are its own to wait for too.
 */
GP_EXPORT pid_t	gp_wait4(pid_t pid, int *status, int options, struct rusage *ru);
GP_EXPORT pid_t	gp_waitpid(pid_t pid, int *status, int options);
GP_EXPORT int	gp_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);

/* GP_PID_INIT on a host thread; never fail.  gp_getppid() in init is 0. */
GP_EXPORT pid_t	gp_getpid(void);
GP_EXPORT pid_t	gp_getppid(void);
/*
 * setpgid(2)/getpgid(2) on green pids (0: the caller).  -1 with EINVAL
 * (pgid < 0), ESRCH (not the caller or one of its children), EPERM
 * (init, or a group that does not exist in the session), EACCES (the
 * child has exec'd).
 */
GP_EXPORT int	gp_setpgid(pid_t pid, pid_t pgid);
GP_EXPORT pid_t	gp_getpgid(pid_t pid);
/*
 * The calling process adopts the orphans of its descendants (procctl's
 * PROC_REAP_ACQUIRE).  0; in init acquire is 0 (init adopts every orphan
 * already) and release is EINVAL; release is EINVAL when not a reaper.
 */
GP_EXPORT int	gp_reaper_acquire(void);
GP_EXPORT int	gp_reaper_release(void);
/*
 * A new file descriptor (eventfd) that becomes readable once green
 * process pid has exited (at once if it is a zombie); the caller closes
 * it.  -1 with ESRCH (no such green process, or init) or the errno of
 * eventfd(2).
 */
GP_EXPORT int	gp_proc_watch(pid_t pid);

/*
 * Green signals.
 *
 * gp_kill(): pid is a green pid, 0 (the caller's group), -1 (every green
 * process but the caller) or -pgid.  0 (a zombie counts as existing),
 * or -1 with EINVAL (bad signal), EPERM (init), ESRCH (no such green
 * process or group; every real pid).  Does not block; the target acts on
 * it at its next cancellation point.
 */
GP_EXPORT int	gp_kill(pid_t pid, int sig);
/*
 * Per process.  -1 with EINVAL (bad signal, or SIGKILL/SIGSTOP with act),
 * ENOMEM.  In init (host threads) only SIGCHLD may be set, to SIG_IGN or
 * SIG_DFL (EINVAL otherwise): init takes no green signals.
 */
GP_EXPORT int	gp_sigaction(int sig, const struct sigaction *act,
		    struct sigaction *oact);
/* Per LWP; on a host thread it is pthread_sigmask(3).  -1 with EINVAL. */
GP_EXPORT int	gp_sigprocmask(int how, const sigset_t *set, sigset_t *oset);

/*
 * LWPs: green threads of the calling process (of init on a host thread).
 * gp_lwp_create() returns 0 or EINVAL (lwp or fn NULL), EAGAIN (the
 * process is exiting, or no room for the stack's guard page), ENOMEM,
 * or gp_init()'s error; it does not block (an LWP's call may yield on its
 * way out, as gp_spawn's).  The LWP ends by returning
 * from fn or by gp_lwp_exit(), and its value goes to gp_lwp_join().
 * gp_lwp_join() may block; EDEADLK for self, EINVAL for a detached or
 * already joined LWP, ESRCH for a handle already freed.  gp_lwp_detach():
 * 0, EINVAL (detached or being joined), ESRCH.  gp_lwp_exit() on the
 * last LWP of a green process is gp_exit(0); on a host thread (not an
 * LWP) it aborts with a message.  gp_lwp_self() is NULL on a host thread.
 * gp_yield() lets the worker run other LWPs (sched_yield(2) on a host
 * thread).  gp_nanosleep() may block, as nanosleep(2): 0, or -1 with
 * EINVAL (bad req) or EINTR (a caught green signal; rem is then the time
 * left).
 */
GP_EXPORT int	gp_lwp_create(gp_lwp_t *lwp, void *(*fn)(void *), void *arg,
		    const gp_attr_t *attr);
GP_NORETURN GP_EXPORT void gp_lwp_exit(void *retval);
GP_EXPORT int	gp_lwp_join(gp_lwp_t lwp, void **retval);
GP_EXPORT int	gp_lwp_detach(gp_lwp_t lwp);
GP_EXPORT gp_lwp_t gp_lwp_self(void);
GP_EXPORT void	gp_yield(void);
GP_EXPORT int	gp_nanosleep(const struct timespec *req, struct timespec *rem);

/*
 * Green I/O.  On an LWP each of these is its system call, except that
 * where the call would block, the LWP parks and its worker runs others
 * until the descriptor is ready (io_uring on each worker, or epoll where
 * io_uring is refused; GREENPROC_IO=uring|epoll chooses).  On a host
 * thread each is exactly the system call.  The program's descriptors
 * are never made non-blocking behind its back, and the kernel's rules
 * hold (README, "I/O"):
 *  - O_NONBLOCK set by the program: EAGAIN as natively;
 *  - SO_RCVTIMEO/SO_SNDTIMEO are honoured (EAGAIN), never restarted;
 *  - a caught green signal while parked: EINTR, or the call goes on if
 *    the handler had SA_RESTART (never for the poll family, nor for a
 *    socket with a timeout); a partial transfer returns its count;
 *  - a write on a blocking descriptor writes everything (looped);
 *  - EPIPE comes with a green SIGPIPE to the writer's process (not with
 *    MSG_NOSIGNAL);
 *  - errno is the kernel's.
 * Regular files have no readiness: the transfer goes to the worker's
 * io_uring or to the helper pool (below) and is not interrupted.
 * gp_fdwait() waits for one descriptor: the revents (> 0), 0 at the
 * timeout (milliseconds, -1 for none), or -1 with errno (EINTR...).
 */
GP_EXPORT int	gp_fdwait(int fd, short events, int timeout_ms);
GP_EXPORT ssize_t gp_read(int fd, void *buf, size_t n);
GP_EXPORT ssize_t gp_write(int fd, const void *buf, size_t n);
GP_EXPORT ssize_t gp_readv(int fd, const struct iovec *iov, int cnt);
GP_EXPORT ssize_t gp_writev(int fd, const struct iovec *iov, int cnt);
GP_EXPORT ssize_t gp_recv(int fd, void *buf, size_t n, int flags);
GP_EXPORT ssize_t gp_send(int fd, const void *buf, size_t n, int flags);
GP_EXPORT ssize_t gp_recvfrom(int fd, void *buf, size_t n, int flags,
		    struct sockaddr *addr, socklen_t *addrlen);
GP_EXPORT ssize_t gp_sendto(int fd, const void *buf, size_t n, int flags,
		    const struct sockaddr *addr, socklen_t addrlen);
GP_EXPORT ssize_t gp_recvmsg(int fd, struct msghdr *msg, int flags);
GP_EXPORT ssize_t gp_sendmsg(int fd, const struct msghdr *msg, int flags);
struct mmsghdr;
GP_EXPORT int	gp_recvmmsg(int fd, struct mmsghdr *v, unsigned vlen,
		    int flags, struct timespec *timeout);
GP_EXPORT int	gp_sendmmsg(int fd, struct mmsghdr *v, unsigned vlen,
		    int flags);
GP_EXPORT int	gp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
GP_EXPORT int	gp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen,
		    int flags);
GP_EXPORT int	gp_connect(int fd, const struct sockaddr *addr,
		    socklen_t len);
GP_EXPORT int	gp_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
GP_EXPORT int	gp_ppoll(struct pollfd *fds, nfds_t n,
		    const struct timespec *ts, const sigset_t *sigmask);
GP_EXPORT int	gp_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		    struct timeval *tv);
GP_EXPORT int	gp_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		    const struct timespec *ts, const sigset_t *sigmask);
struct epoll_event;
GP_EXPORT int	gp_epoll_pwait(int epfd, struct epoll_event *ev, int max,
		    int timeout_ms, const sigset_t *sigmask);
GP_EXPORT ssize_t gp_sendfile(int out, int in, off_t *off, size_t count);
GP_EXPORT ssize_t gp_splice(int in, off_t *inoff, int out, off_t *outoff,
		    size_t len, unsigned flags);

/*
 * Calls without readiness.  On an LWP none of these blocks its worker:
 * each goes through the worker's io_uring (open, read/write at an
 * offset, fsync) or a helper pool of GREENPROC_IO_THREADS threads
 * (getaddrinfo, getnameinfo, flock, F_SETLKW; everything on epoll),
 * after a first attempt that cannot block where there is one
 * (RWF_NOWAIT, LOCK_NB).  As signal(7) says of disk I/O, they are not
 * interrupted: they complete, and a caught signal's handler runs right
 * after.  flock and fcntl(F_SETLKW, F_OFD_SETLKW) are interrupted as
 * natively (EINTR, or restarted with SA_RESTART).  On a host thread each
 * is exactly the plain call.  gp_fcntl does only the waiting lock
 * commands itself; the others are fcntl(2).
 */
struct addrinfo;
GP_EXPORT int	gp_open(const char *path, int flags, ...);
GP_EXPORT int	gp_openat(int dirfd, const char *path, int flags, ...);
GP_EXPORT ssize_t gp_pread(int fd, void *buf, size_t n, off_t off);
GP_EXPORT ssize_t gp_pwrite(int fd, const void *buf, size_t n, off_t off);
GP_EXPORT ssize_t gp_preadv(int fd, const struct iovec *iov, int cnt,
		    off_t off);
GP_EXPORT ssize_t gp_pwritev(int fd, const struct iovec *iov, int cnt,
		    off_t off);
GP_EXPORT int	gp_fsync(int fd);
GP_EXPORT int	gp_fdatasync(int fd);
GP_EXPORT int	gp_flock(int fd, int op);
GP_EXPORT int	gp_fcntl(int fd, int cmd, ...);
GP_EXPORT int	gp_getaddrinfo(const char *node, const char *service,
		    const struct addrinfo *hints, struct addrinfo **res);
GP_EXPORT int	gp_getnameinfo(const struct sockaddr *sa, socklen_t salen,
		    char *host, socklen_t hostlen, char *serv,
		    socklen_t servlen, int flags);
/*
 * close(2), dup2(2) and dup3(2), except that an LWP parked on the number
 * keeps the open file it started on, as a thread blocked in the kernel
 * does (its operation never touches a file that later reuses the number).
 * The runtime's own descriptors (workers' eventfds and rings, pidfds,
 * kept at the top of the range, 768 up for a limit of 1024) are not open
 * to them: EBADF, as for a number nothing uses.
 */
GP_EXPORT int	gp_close(int fd);
GP_EXPORT int	gp_dup2(int oldfd, int newfd);
GP_EXPORT int	gp_dup3(int oldfd, int newfd, int flags);

/*
 * Descriptors.  All green processes share the host's descriptor table,
 * but a descriptor a green process makes through the runtime is its own:
 * under the preload every call that makes one (open, socket, accept,
 * pipe, dup, fcntl(F_DUPFD), eventfd, epoll_create, signalfd, timerfd,
 * memfd, inotify, fopen, opendir, mkstemp, tmpfile...), and gp_accept4,
 * gp_dup2, gp_dup3, gp_open, gp_openat, gp_proc_watch and gp_fd_own.
 * close, fclose and closedir (gp_close) give it up -- a program linked
 * without the preload must close with gp_close (or gp_fd_disown first):
 * a number released by glibc's close stays recorded, and if the same
 * file (device and inode) comes back under it, the owner's exit closes
 * it.  What is left is closed when the process
 * exits, after its atexit handlers and before its parent hears of it, so
 * a peer sees EOF; gp_exec closes the FD_CLOEXEC ones.  A number closed
 * behind the runtime's back (syscall(), another process) and reused is
 * left alone: its device and inode no longer match.  Never owned: 0-2,
 * descriptors made on host threads or in init, and those a child did not
 * open itself: by default a spawned child owns none of its parent's
 * (they are shared, as threads of one host process share them), unless
 * gp_attr_setfds() hands some over.  fdopen/fdopendir change nothing.
 * fcntl record locks belong to the host process: they give no exclusion
 * between green processes.
 *
 * gp_fd_own(): the calling green process owns fd from now on (0, or -1
 * with EBADF: not open; EINVAL: 0-2; EPERM: in init).  gp_fd_disown():
 * it no longer does, and fd stays open (0, or -1 with EBADF: not owned).
 */
GP_EXPORT int	gp_fd_own(int fd);
GP_EXPORT int	gp_fd_disown(int fd);

/*
 * Introspection.  gp_ps(): one line per green process; gp_dump(): that,
 * plus a backtrace of every LWP.  0, or -1 with EINVAL (out NULL).  They
 * take the runtime's lock (as gp_stats() does), so they can wait behind
 * gp_init() or gp_shutdown(); they never park an LWP.
 */
GP_EXPORT int	gp_ps(FILE *out);
GP_EXPORT int	gp_dump(FILE *out);
/*
 * Write gp_dump() to stderr (or GREENPROC_DUMP_FILE) whenever (sig)
 * arrives, from a dedicated thread; 0 turns it off.  The environment
 * variable GREENPROC_DUMP_SIGNAL=QUIT asks for it at gp_init().  0, or
 * -1 with EINVAL (a signal that cannot be caught) or the errno of
 * creating the pipe or the thread.
 */
GP_EXPORT int	gp_dump_on_signal(int sig);

/*
 * Counters, for tests and gp_ps's footer.  Totals count since gp_init();
 * "live" values are what exists now.  A snapshot is consistent one way:
 * a process it no longer counts in live_procs is counted in reaps.
 */
struct gp_counters {
	unsigned long	lwps_created;	/* LWPs ever created */
	unsigned long	lwps_reaped;	/* LWPs whose stack and struct are freed */
	unsigned long	switches;	/* context switches */
	unsigned long	steals;		/* unstarted LWPs taken by another worker */
	unsigned long	spawns;		/* green processes spawned */
	unsigned long	exits;		/* green processes that exited */
	unsigned long	reaps;		/* zombies reaped */
	long		live_lwps;	/* LWPs not yet reaped */
	long		live_stacks;	/* stacks handed out, not in a cache */
	long		live_procs;	/* green processes, zombies included */
	long		nworkers;	/* worker threads running */
	/* Since the program started (gp_init does not reset these): */
	long		abandoned_workers; /* workers gp_shutdown gave up on */
	unsigned long	leaked_bytes;	/* left allocated for them on purpose */
	/* The watchdog (README, "Stuck workers"), since gp_init: */
	unsigned long	stuck_workers;	/* times a worker was found held by one
					 * LWP with others waiting */
	long		spare_workers;	/* spare workers it started */
};
/* 0, or -1 with EINVAL (st NULL).  Takes the runtime's lock. */
GP_EXPORT int	gp_stats(struct gp_counters *st);

#ifdef __cplusplus
}
#endif
#endif /* GREENPROC_H */
