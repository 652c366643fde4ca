/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spawn.c -- real processes started from green code: fork, forkpty,
 * vfork, system, popen/pclose, posix_spawn(p); and the exec family.
 *
 * A green fork makes a real child the host never sees (runtime/fork.c),
 * except in green-init mode, where fork is glibc's (host_fork); the
 * green process waits for it like any child, and those waits park the
 * LWP.  system() and popen() are built on that fork, so their waits
 * are green too.  posix_spawn keeps glibc's implementation (file actions,
 * attributes): its child is then tracked through a pidfd, but it has the
 * usual SIGCHLD exit signal, so a host waitpid(-1) racing with it could
 * take it first.  ptrace is the kernel's; a green tracer's attaches and
 * detaches are told to the runtime, whose waits then report the tracees'
 * stops (runtime/fork.c).  An exec made on a green thread gives the new
 * program the thread's green mask and the process's ignored signals, not
 * the worker's kernel ones (kernsigs_green).  On a host thread all of
 * these are glibc's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utmp.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

/*
 * Every real function resolved before a fork where a first use would
 * be dlsym's (gpi_preload_resolve; nothing to do where dlnext.c's walk
 * works, which takes no lock): its child may call an interposer (_exit,
 * say), and another thread may have held the loader's or malloc's lock
 * at the fork, held for good in the child.  A clone3 fork runs no atfork
 * handler at all (system and popen, as glibc's posix_spawn-based ones
 * run none either).
 */
static pid_t
green_fork(void)
{
	gpi_preload_resolve();
	return gpi_fork();
}

/* A pidfd for real child (pid), the runtime's (rtfd.c). */
static int
pidfd_of(pid_t pid)
{
	return gpi_rtfd_keep((int)syscall(SYS_pidfd_open, pid, 0));
}

/*
 * Green-init mode's process forks with glibc's fork, as natively: the
 * program's atfork handlers run (prepare in reverse order, parent and
 * child in order, on the forking green thread), and glibc takes its own
 * locks (malloc's arenas, stdio's list) around the fork, so none is
 * inherited held by another worker.  Its first child handler resets the
 * runtime (gpi_fork_child_glibc, registered below before any of the
 * program's).  The kernel sends the host SIGCHLD for the child, which the
 * forwarder posts as a green one; the green waits see it through its
 * pidfd.  A gp_spawn'ed process keeps the clone3 fork (green pids,
 * exit signal 0).
 */
static pid_t
host_fork(void)
{
	struct gpi_rchild *rc;
	pid_t pid;
	int fd;

	if ((rc = malloc(sizeof(*rc))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pid = REAL(fork)();
	if (pid <= 0) {
		free(rc);
		return pid;
	}
	if ((fd = pidfd_of(pid)) < 0) {
		free(rc);	/* not waitable in green form: no descriptor */
		return pid;
	}
	gpi_rchild_add(gpi_curproc(), rc, pid, fd, false);
	return pid;
}

/*
 * The preload's one fork-child handler (a registration per file cost
 * every exec a call into glibc each): the runtime's reset first (see
 * above), then the locks and counters of the interposers.
 */
static GPI_PASSTEXT void
preload_fork_child(void)
{
	gpi_fork_child_glibc();
	gpi_stdio_fork_child();
	gpi_once_fork_child();
	gpi_handles_fork_child();
}

/*
 * pthread_atfork itself, as libc_nonshared.a's is: that stub is linked
 * at the far end of .text, a page fault of its own at every exec.
 */
extern int __register_atfork(void (*)(void), void (*)(void), void (*)(void),
    void *);
extern void *__dso_handle __attribute__((visibility("hidden")));

__attribute__((constructor(101))) static void
spawn_init(void)
{
	(void)__register_atfork(NULL, NULL, preload_fork_child, __dso_handle);
}

EXPORT pid_t
fork(void)
{
	gpi_preload_resolve();
	if (!green())
		return REAL(fork)();
	if (gpi_is_hostproc(gpi_curproc()))
		return host_fork();
	return gpi_fork();
}

/*
 * forkpty: glibc's forks with its internal fork, which no interposer
 * sees, so under greenrun the child was nobody's and waitpid said ECHILD
 * (CPython's pty.fork and pty.spawn).  From green code it is what it is
 * defined to be, on the fork above: openpty, then in the child the slave
 * as its controlling terminal and standard descriptors (login_tty), in
 * the parent the master.
 */
EXPORT pid_t
forkpty(int *amaster, char *name, const struct termios *termp,
    const struct winsize *winp)
{
	int master, slave, error;
	pid_t pid;

	if (!green())
		return REAL(forkpty)(amaster, name, termp, winp);
	if (openpty(&master, &slave, name, termp, winp) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		error = errno;
		(void)close(master);
		(void)close(slave);
		errno = error;
		return -1;
	}
	if (pid == 0) {
		(void)close(master);
		if (login_tty(slave) != 0)
			_exit(1);
		return 0;
	}
	(void)close(slave);
	*amaster = master;
	return pid;
}

/*
 * vfork's child may only exec or _exit, which a fork's child can do as
 * well: from green code vfork is fork (the parent must not be suspended
 * on its worker, which would stall the worker's other LWPs).
 */
static pid_t
green_vfork(void)
{
	return green_fork();
}

#ifdef GPI_VFORK_STUB
/*
 * Where the vfork stub (preload/arch/x86_64/vfork.S) jumps: glibc's vfork
 * on a host thread -- a real vfork, the parent's memory shared until the
 * child execs or exits -- the green one on an LWP.
 */
void	*gpi_vfork_route(void) __attribute__((visibility("hidden")));

void *
gpi_vfork_route(void)
{
	if (green())
		return (void *)green_vfork;
	/*
	 * The child may call _exit: resolve it here, in the parent, not by
	 * a dlsym in the child, which would write the parent's memory.
	 */
	(void)REAL(_exit);
	(void)REAL(_Exit);
	return (void *)REAL(vfork);
}
#else
/*
 * Portable fallback (ARCH=generic): a C wrapper cannot pass a real vfork
 * on (its child would return from our frame and clobber it under the
 * suspended parent), so the host's vfork is a fork, as POSIX allows.
 */
EXPORT pid_t
vfork(void)
{
	if (!green())
		return REAL(fork)();
	return green_vfork();
}
#endif

EXPORT int
system(const char *cmd)
{
	pid_t pid;
	int status;

	if (!green())
		return REAL(system)(cmd);
	if (cmd == NULL)
		return access("/bin/sh", X_OK) == 0;
	if ((pid = green_fork()) < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "--", cmd, (char *)NULL);
		_exit(127);
	}
	while (gp_waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/* popen'ed streams of green code and their children. */
struct gpopen {
	struct gpopen	*g_next;
	FILE		*g_file;
	pid_t		 g_pid;
};
static gpi_spin_t popen_lock = GPI_SPIN_INIT(GPI_RANK_POPEN);
static struct gpopen *popens;		/* (popen_lock) */

EXPORT FILE *
popen(const char *cmd, const char *mode)
{
	struct gpopen *g;
	int fds[2], mine, theirs, target;
	bool reading;
	pid_t pid;

	if (!green())
		return REAL(popen)(cmd, mode);
	if (mode == NULL || (mode[0] != 'r' && mode[0] != 'w')) {
		errno = EINVAL;
		return NULL;
	}
	reading = mode[0] == 'r';
	if ((g = malloc(sizeof(*g))) == NULL)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(g);
		return NULL;
	}
	mine = reading ? fds[0] : fds[1];
	theirs = reading ? fds[1] : fds[0];
	target = reading ? STDOUT_FILENO : STDIN_FILENO;
	if ((pid = green_fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(g);
		return NULL;
	}
	if (pid == 0) {
		if (theirs != target) {
			dup2(theirs, target);	/* dup2 clears FD_CLOEXEC */
		} else {
			fcntl(theirs, F_SETFD, 0);
		}
		execl("/bin/sh", "sh", "-c", "--", cmd, (char *)NULL);
		_exit(127);
	}
	close(theirs);
	if ((g->g_file = fdopen(mine, reading ? "r" : "w")) == NULL) {
		close(mine);
		free(g);
		return NULL;
	}
	g->g_pid = pid;
	gpi_spin_lock(&popen_lock);
	g->g_next = popens;
	popens = g;
	gpi_spin_unlock(&popen_lock);
	return g->g_file;
}

EXPORT int
pclose(FILE *f)
{
	struct gpopen *g, **gp;
	int status;
	pid_t pid;

	gpi_spin_lock(&popen_lock);
	for (gp = &popens; (g = *gp) != NULL && g->g_file != f;
	    gp = &g->g_next)
		;
	if (g != NULL)
		*gp = g->g_next;
	gpi_spin_unlock(&popen_lock);
	if (g == NULL)
		return REAL(pclose)(f);
	pid = g->g_pid;
	free(g);
	fclose(f);
	while (gp_waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/*
 * Track a real child that glibc's posix_spawn or a direct clone made in
 * the green process that made it; (clone_child) as rc_clone.
 */
static void
track(pid_t pid, bool clone_child)
{
	struct gpi_rchild *rc;
	int fd;

	if ((fd = pidfd_of(pid)) < 0)
		return;
	if ((rc = malloc(sizeof(*rc))) == NULL) {
		gpi_rtfd_close(fd);
		return;
	}
	gpi_rchild_add(gpi_curproc(), rc, pid, fd, clone_child);
}

/*
 * The kernel's signal state for a new program made from a green thread:
 * an exec keeps the calling thread's mask and the signals ignored, and
 * posix_spawn's child (a clone) starts with them.  Those are the
 * worker's (the forwarded signals and more blocked) and the host's (the
 * program's ignored signals are green only, p_sigignore): `greenrun
 * bash -c 'exec prog'` ran prog with SIGTERM, SIGINT, SIGALRM, SIGUSR1
 * and SIGCHLD blocked (Python's test_threadsignals then paused for
 * good, deaf to timeout's SIGTERM), and `greenrun nohup prog` ran prog
 * without SIGHUP ignored.  So for the call the kernel ignores exactly
 * what the green process ignores, and for an exec the thread's mask is
 * its green one; a call that fails puts both back.
 * WARNING: the dispositions are the process's: another worker runs on
 * meanwhile, for which a signal the program ignores is now dropped by
 * the kernel (as the program asked) instead of reaching the forwarder.
 * The synchronous faults and glibc's two internal signals are left
 * alone, as for a fork child (gpi_sig_kernel_follows).
 * A handler needs nothing: exec resets it to the default, and so does
 * posix_spawn's child.  The green signals pending and blocked at an
 * exec go pending on the thread in the kernel, last, since natively
 * they stay pending in the new program (gpi_sig_exec_carry); taken back
 * if it fails.
 * The dispositions are read and set with the system call, in the
 * kernel's own struct: 32 bytes a signal, not glibc's 152 (this runs on
 * the caller's stack, which may be PTHREAD_STACK_MIN), and one read back
 * is the kernel's exactly, restorer and all.
 */
struct ksigaction {
	void		*handler;
	unsigned long	 flags;
	void		*restorer;
	uint64_t	 mask;
};

struct kernsigs {
	uint64_t		changed;	/* dispositions set here */
	uint64_t		carried;	/* made pending in the kernel */
	bool			masked;		/* the mask set here */
	sigset_t		mask;		/* the worker's */
	struct ksigaction	old[64];
};

static int
ksigaction(int sig, const struct ksigaction *sa, struct ksigaction *old)
{
	return (int)GPI_LIBC(syscall)(SYS_rt_sigaction, sig, sa, old,
	    sizeof(uint64_t));
}

static void
kernsigs_green(struct kernsigs *k, bool mask)
{
	uint64_t ign = __atomic_load_n(&gpi_curproc()->p_sigignore,
	    __ATOMIC_RELAXED), bit;
	struct ksigaction sa, *o;
	sigset_t set;
	int sig;

	k->changed = 0;
	k->carried = 0;
	k->masked = false;
	memset(&sa, 0, sizeof(sa));
	for (sig = 1; sig <= 64; sig++) {
		bit = 1ULL << (sig - 1);
		o = &k->old[sig - 1];
		if (!gpi_sig_kernel_follows(sig) ||
		    ksigaction(sig, NULL, o) != 0)
			continue;
		if (((ign & bit) != 0) == (o->handler == (void *)SIG_IGN))
			continue;
		sa.handler = (ign & bit) ? (void *)SIG_IGN : (void *)SIG_DFL;
		if (ksigaction(sig, &sa, NULL) == 0)
			k->changed |= bit;
	}
	/* Last: from here on a signal may land on this thread. */
	if (mask && pthread_sigmask(SIG_BLOCK, NULL, &set) == 0 &&  /* green */
	    REAL(pthread_sigmask)(SIG_SETMASK, &set, &k->mask) == 0) {
		k->masked = true;
		k->carried = gpi_sig_exec_carry(gpi_curlwp());
	}
}

/* The call failed: the worker's mask and the host's dispositions back. */
static void
kernsigs_back(struct kernsigs *k)
{
	int error = errno, sig;

	gpi_sig_exec_failed(k->carried);
	if (k->masked)
		(void)REAL(pthread_sigmask)(SIG_SETMASK, &k->mask, NULL);
	for (sig = 1; sig <= 64; sig++)
		if (k->changed & (1ULL << (sig - 1)))
			(void)ksigaction(sig, &k->old[sig - 1], NULL);
	errno = error;
}

/*
 * A green caller's child starts with the caller's green mask, as a
 * native one starts with its thread's, not with the worker's kernel
 * mask (nearly everything blocked), unless the attributes set a mask;
 * and with the green process's ignored signals (kernsigs_green).
 */
static const posix_spawnattr_t *
green_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *mine)
{
	short flags = 0;
	sigset_t set;

	if (!green())
		return attr;
	if (attr != NULL) {
		if (posix_spawnattr_getflags(attr, &flags) != 0 ||
		    (flags & POSIX_SPAWN_SETSIGMASK))
			return attr;
		*mine = *attr;
	} else if (posix_spawnattr_init(mine) != 0) {
		return attr;
	}
	if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0)	/* green */
		return attr;
	posix_spawnattr_setsigmask(mine, &set);
	posix_spawnattr_setflags(mine, flags | POSIX_SPAWN_SETSIGMASK);
	return mine;
}

/* posix_spawn or posix_spawnp (real): one body, the search apart. */
static int
green_spawn(__typeof__(posix_spawn) *real, pid_t *pidp, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	posix_spawnattr_t mine;
	struct kernsigs k;
	bool g = green();
	pid_t pid;
	int error;

	if (g)
		kernsigs_green(&k, false);
	error = real(&pid, path, fa, green_attr(attr, &mine), argv, envp);
	if (g)
		kernsigs_back(&k);
	if (error == 0 && g)
		track(pid, false);
	if (error == 0 && pidp != NULL)
		*pidp = pid;
	return error;
}

EXPORT int
posix_spawn(pid_t *pidp, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	return green_spawn(REAL(posix_spawn), pidp, path, fa, attr, argv,
	    envp);
}

EXPORT int
posix_spawnp(pid_t *pidp, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	return green_spawn(REAL(posix_spawnp), pidp, file, fa, attr, argv,
	    envp);
}

/*
 * The exec family.  glibc's execl*, execv* and fexecve reach the kernel
 * through its own execve, not through the name, so each is interposed;
 * the variadic ones gather their arguments as glibc does and go to the
 * array form.  A green caller's exec is made with kernsigs_green; on a
 * host thread, or in a fork child (green() is false there), glibc's.
 */
#define GREEN_EXEC(call)						\
	do {								\
		struct kernsigs k;					\
		int r;							\
									\
		if (!green())						\
			return (call);					\
		kernsigs_green(&k, true);				\
		r = (call);						\
		kernsigs_back(&k);					\
		return r;						\
	} while (0)

EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	GREEN_EXEC(REAL(execve)(path, argv, envp));
}

EXPORT int
execv(const char *path, char *const argv[])
{
	GREEN_EXEC(REAL(execv)(path, argv));
}

EXPORT int
execvp(const char *file, char *const argv[])
{
	GREEN_EXEC(REAL(execvp)(file, argv));
}

EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	GREEN_EXEC(REAL(execvpe)(file, argv, envp));
}

EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	GREEN_EXEC(REAL(fexecve)(fd, argv, envp));
}

EXPORT int
execveat(int dirfd, const char *path, char *const argv[],
    char *const envp[], int flags)
{
	GREEN_EXEC(REAL(execveat)(dirfd, path, argv, envp, flags));
}

/*
 * The arguments of execl, execlp and execle after (arg0), up to their
 * NULL, counted: E2BIG past INT_MAX, as glibc.
 */
static ptrdiff_t
count_args(va_list ap)
{
	ptrdiff_t n = 1;

	while (va_arg(ap, char *) != NULL)
		if (++n == INT_MAX) {
			errno = E2BIG;
			return -1;
		}
	return n;
}

enum exec_list { EXEC_L, EXEC_LP, EXEC_LE };

/*
 * execl, execlp or execle (how): the list (arg, ap...) gathered into an
 * array on the stack, then the array form of the same search (execle's
 * environment follows the list's NULL).
 */
static int
exec_list(enum exec_list how, const char *path, const char *arg, va_list ap)
{
	char *const *envp = NULL;
	va_list count;
	ptrdiff_t n, i;

	va_copy(count, ap);
	n = count_args(count);
	if (how == EXEC_LE)
		envp = va_arg(count, char *const *);
	va_end(count);
	if (n < 0)
		return -1;
	{
		const char *argv[n + 1];

		argv[0] = arg;
		for (i = 1; i <= n; i++)	/* [n] is the NULL */
			argv[i] = va_arg(ap, const char *);
		if (how == EXEC_L)
			return execv(path, (char *const *)argv);
		if (how == EXEC_LP)
			return execvp(path, (char *const *)argv);
		return execve(path, (char *const *)argv, envp);
	}
}

EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_L, path, arg, ap);
	va_end(ap);
	return r;
}

EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_LP, file, arg, ap);
	va_end(ap);
	return r;
}

EXPORT int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_LE, path, arg, ap);
	va_end(ap);
	return r;
}

/*
 * A child made by a direct clone() is the caller's child as much as a
 * fork's, and a program waits for it the same way (container tools and
 * spawn libraries do): tracked like posix_spawn's, so a green wait finds
 * it.  Not a thread (CLONE_THREAD: the runtime does not know a raw
 * kernel thread, ARCHITECTURE 21), nor one made a sibling of the caller
 * (CLONE_PARENT).  The child runs (fn) on its own stack and never
 * returns here; with CLONE_VFORK the parent gets here once it has
 * exec'ed or exited, a zombie then that pidfd_open still finds.  The
 * optional arguments are passed on whatever they are, as the kernel
 * reads only those (flags) name.
 */
void
gpi_cloned(pid_t pid, unsigned long flags, int exitsig)
{
	if (pid > 0 && green() && !(flags & (CLONE_THREAD | CLONE_PARENT)))
		track(pid, exitsig != SIGCHLD);
}

/*
 * The child's first frame runs gpi_clone_child, so that the program's
 * function starts with what a fork child has (the green mask, not the
 * worker's, and the dispositions).  Its record sits at the top of the
 * child's own stack: the parent may return before the child reads it.
 */
struct clone_start {
	int		(*cs_fn)(void *);
	void		*cs_arg;
	struct gp_proc	*cs_proc;
	struct gp_lwp	*cs_lwp;
	int		 cs_flags;
};

static int
clone_child(void *arg)
{
	const struct clone_start *cs = arg;
	int (*fn)(void *) = cs->cs_fn;
	void *fnarg = cs->cs_arg;

	gpi_clone_child(cs->cs_proc, cs->cs_lwp, (unsigned)cs->cs_flags);
	return fn(fnarg);
}

EXPORT int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_start *cs;
	va_list ap;
	pid_t *ptid, *ctid;
	void *tls;
	int pid, error;

	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!green() || fn == NULL || stack == NULL || (flags & CLONE_THREAD))
		return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	cs = (struct clone_start *)(((uintptr_t)stack - sizeof(*cs)) &
	    ~(uintptr_t)15);
	cs->cs_fn = fn;
	cs->cs_arg = arg;
	cs->cs_proc = gpi_curproc();
	cs->cs_lwp = gpi_curlwp();
	cs->cs_flags = flags;
	pid = REAL(clone)(clone_child, cs, flags, cs, ptid, tls, ctid);
	error = errno;
	gpi_cloned(pid, (unsigned)flags, flags & CSIGNAL);
	errno = error;
	return pid;
}

/*
 * ptrace(2) on a green thread: the kernel attaches the tracee to this
 * worker's kernel thread and reports its stops to the host, where only
 * the green waits of the tracing process may take them.  So the runtime
 * learns each task the process attaches to (PTRACE_ATTACH, PTRACE_SEIZE)
 * or lets go (PTRACE_DETACH); tasks attached at a tracee's fork or clone
 * it learns from the wait that reports the event (runtime/fork.c).  The
 * result and errno are the kernel's: a PEEK request returns data.
 */
EXPORT long
ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;
	long r;
	int error;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	r = REAL(ptrace)(req, pid, addr, data);
	if (r != 0 || !green())
		return r;
	error = errno;
	if (req == PTRACE_ATTACH || req == PTRACE_SEIZE)
		gpi_rchild_trace(gpi_curproc(), pid);
	else if (req == PTRACE_DETACH)
		gpi_rchild_untrace(gpi_curproc(), pid);
	errno = error;
	return r;
}
