/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload.h -- shared by the files of libgreenproc_preload.so: the real
 * libc functions (resolved with dlsym(RTLD_NEXT)) and small helpers.
 */
#ifndef GREENPROC_PRELOAD_H
#define GREENPROC_PRELOAD_H

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

/* Declared by no header, but interposed. */
int	__cxa_atexit(void (*)(void *), void *, void *);
int	__libc_start_main(int (*)(int, char **, char **), int, char **,
	    void (*)(void), void (*)(void), void (*)(void), void *);
int	__isoc99_vfscanf(FILE *, const char *, __gnuc_va_list);
int	__vfprintf_chk(FILE *, int, const char *, __gnuc_va_list);

#define F(name)	__typeof__(name) *name

struct gpi_real {
	F(exit); F(_exit); F(_Exit); F(on_exit); F(__cxa_atexit);
	F(__libc_start_main);
	F(pthread_create); F(pthread_exit); F(pthread_join); F(pthread_detach);
	F(pthread_self); F(pthread_equal); F(pthread_tryjoin_np);
	F(pthread_timedjoin_np); F(pthread_clockjoin_np);
	F(pthread_setattr_default_np);
	F(pthread_getattr_np);
	F(pthread_setname_np); F(pthread_getname_np); F(pthread_kill);
	F(pthread_sigmask); F(pthread_cancel); F(pthread_setcancelstate);
	F(pthread_testcancel); F(pthread_key_create); F(pthread_key_delete);
	F(pthread_getspecific); F(pthread_setspecific);
	F(waitpid); F(wait); F(wait4); F(waitid); F(kill); F(raise); F(abort);
	F(sigaction); F(signal); F(sigprocmask); F(sigqueue);
	F(pthread_sigqueue);
	F(sleep); F(usleep); F(nanosleep); F(clock_nanosleep); F(sched_yield);
	F(getpid); F(getppid); F(setpgid); F(getpgid); F(getpgrp);
	int (*prctl)(int, ...);
	F(fork); F(vfork); F(system); F(popen); F(pclose);
	F(posix_spawn); F(posix_spawnp); F(ptrace); F(forkpty); F(clone);
	F(execve); F(execv); F(execvp); F(execvpe); F(fexecve); F(execveat);
	/* loader.c */
	F(dlclose); F(dl_iterate_phdr);
	/* files.c: lockf's commands that do not wait */
	F(lockf);
	/* sync.c */
	F(pthread_mutex_lock); F(pthread_mutex_timedlock);
	F(pthread_mutex_unlock); F(pthread_cond_wait);
	F(pthread_cond_timedwait); F(pthread_cond_signal);
	F(pthread_cond_broadcast); F(pthread_rwlock_rdlock);
	F(pthread_rwlock_wrlock); F(pthread_rwlock_unlock);
	F(pthread_rwlock_tryrdlock); F(pthread_rwlock_trywrlock);
	F(pthread_barrier_wait); F(pthread_barrier_init);
	F(pthread_barrier_destroy); F(pthread_once); F(sem_wait); F(sem_post);
	F(sem_timedwait); F(pthread_mutex_trylock); F(pthread_mutex_consistent);
	F(pthread_spin_lock); F(pthread_mutex_clocklock);
	F(pthread_cond_clockwait); F(pthread_rwlock_timedrdlock);
	F(pthread_rwlock_timedwrlock); F(pthread_rwlock_clockrdlock);
	F(pthread_rwlock_clockwrlock); F(sem_clockwait);
	/* thread.c: scheduling of host threads */
	F(pthread_getschedparam); F(pthread_setschedparam);
	F(pthread_setschedprio); F(pthread_getcpuclockid);
	F(pthread_getaffinity_np); F(pthread_setaffinity_np);
	F(tgkill); F(sched_getaffinity); F(sched_setaffinity);
	F(getpriority); F(setpriority); F(nice); F(sched_getscheduler);
	F(sched_setscheduler); F(sched_getparam); F(sched_setparam);
	/* clock.c: CPU-time clocks */
	F(clock_gettime); F(clock_getres); F(getrusage);
	/* signals.c: signal waits of host threads */
	F(sigwait); F(sigwaitinfo); F(sigtimedwait); F(sigsuspend); F(pause);
	F(sigpending);
	/* stdio.c */
	F(flockfile); F(ftrylockfile); F(funlockfile); F(fgets); F(getline);
	F(getdelim); F(fread); F(fgetc); F(getc); F(getchar); F(vfscanf);
	F(__isoc99_vfscanf); F(fwrite); F(fputs); F(puts); F(fputc);
	F(putc); F(putchar); F(vfprintf); F(__vfprintf_chk); F(fflush);
	F(fwrite_unlocked); F(fputs_unlocked); F(fputc_unlocked);
	F(putc_unlocked); F(putchar_unlocked); F(fflush_unlocked);
	int (*__overflow)(FILE *, int);
};
#undef F

extern struct gpi_real gpi_real __attribute__((visibility("hidden")));

/*
 * dlnext.c: dlsym(RTLD_NEXT, name) read from the hash tables of the
 * objects after this one, up to libc: no lock, no allocation, so
 * async-signal-safe.  NULL where it cannot answer as dlsym would (then
 * ask dlsym).  gpi_dlnext_ok: the walk is usable in this process.
 */
void	*gpi_dlnext(const char *name) __attribute__((visibility("hidden")));
bool	gpi_dlnext_ok(void) __attribute__((visibility("hidden")));

/*
 * Resolve every real function (once) before a signal handler or a fork
 * child could need one, where a lookup would have to be dlsym's, which
 * is not async-signal-safe: only in a process where gpi_dlnext cannot
 * walk the objects (it returns at once otherwise).  Called at the first
 * sigaction/signal that installs a handler and at fork.
 */
void	gpi_preload_resolve(void) __attribute__((visibility("hidden")));
/* dlsym(RTLD_NEXT, name) (gpi_dlnext first), or a line on stderr, exit 127. */
void	*gpi_preload_resolve_one(const char *name)
	    __attribute__((visibility("hidden")));

/*
 * The real function, resolved on its first use (gpi_dlnext): a process
 * that never runs green code looks up only what it calls, about 150
 * instructions a name.  Racing resolvers store the same value; the slot
 * is read and written relaxed (a plain mov).
 */
#define RESOLVED(slot, name) (*({					\
	__typeof__(slot) real_ = __atomic_load_n(&(slot), __ATOMIC_RELAXED); \
	if (__builtin_expect(real_ == NULL, 0)) {			\
		real_ = (__typeof__(real_))gpi_preload_resolve_one(#name); \
		__atomic_store_n(&(slot), real_, __ATOMIC_RELAXED);	\
	}								\
	real_;								\
}))
#define REAL(name)	RESOLVED(gpi_real.name, name)
/*
 * The same for a library that few programs load (liburing, libaio): a
 * slot of the call site's own, not in gpi_real's table, which
 * gpi_preload_resolve fills in every process.
 */
#define LIBREAL(name) (*({						\
	static __typeof__(&name) lib_slot_;				\
	&RESOLVED(lib_slot_, name);					\
}))

/*
 * spawn.c: (pid) is a child that the caller's clone() or clone, clone3
 * or fork system call made with (flags) and exit signal (exitsig).
 */
void	gpi_cloned(pid_t pid, unsigned long flags, int exitsig)
	    __attribute__((visibility("hidden")));
/*
 * kaio.c: syscall(SYS_io_getevents or SYS_io_pgetevents, args (a)): the
 * result, or -2 when the caller is to make the call itself.
 */
long	gpi_kaio_syscall(long nr, const long *a)
	    __attribute__((visibility("hidden")));
/*
 * thread.c: the sched_* system call (nr) with args (a) for a green
 * thread: 1 with the result in *r (-1 and errno), 0 if the kernel's.
 */
int	gpi_sched_green(long nr, const long *a, long *r)
	    __attribute__((visibility("hidden")));
/* sync.c: syscall(SYS_futex, args (a)), for syscall.c's syscall(). */
long	gpi_futex_syscall(const long *a) __attribute__((visibility("hidden")));
/* thread.c: green thread ids (gettid, tgkill; see there). */
int	gpi_tid_kill(pid_t tgid, pid_t tid, int sig, int *rv)
	    __attribute__((visibility("hidden")));
pid_t	gpi_tid_kernel(pid_t pid) __attribute__((visibility("hidden")));
/*
 * thread.c: green threads' CPU-time clock ids.  The id of (l)'s clock (0:
 * no handle slot); is (clk) one of ours; the live LWP (clk) names, or
 * NULL.
 */
clockid_t gpi_thread_clockid(struct gp_lwp *l)
	    __attribute__((visibility("hidden")));
bool	gpi_is_thread_clock(clockid_t clk)
	    __attribute__((visibility("hidden")));
struct gp_lwp *gpi_thread_clock_lwp(clockid_t clk)
	    __attribute__((visibility("hidden")));
/* init.c: the program's green process under greenrun, or NULL. */
struct gp_proc *gpi_greenrun_proc(void) __attribute__((visibility("hidden")));
/* After a dlclose: forget which call sites make kernel threads. */
void	gpi_kthread_forget(void) __attribute__((visibility("hidden")));
/* thread.c: green pthread_t handles (see there). */
/* Has (l) set PTHREAD_CANCEL_ASYNCHRONOUS?  A lock wait then cancels. */
bool	gpi_thread_cancel_async(const struct gp_lwp *l)
	    __attribute__((visibility("hidden")));
/* Is (t) a green handle (stale or not)?  Reads no memory. */
bool	gpi_is_green_thread(pthread_t t) __attribute__((visibility("hidden")));
/* The LWP of green handle (t), or NULL if it is stale. */
struct gp_lwp *gpi_thread_lwp(pthread_t t) __attribute__((visibility("hidden")));
/* (l)'s handle, made on first need; 0 if out of memory. */
pthread_t gpi_thread_handle(struct gp_lwp *l) __attribute__((visibility("hidden")));
/*
 * signals.c: pidfd_send_signal of the green-init program to itself, as
 * kill of its own pid; -2 if (pidfd, info, flags) is not such a call.
 */
long	gpi_pidfd_send_self(int pidfd, int sig, const siginfo_t *info,
	    unsigned flags) __attribute__((visibility("hidden")));
/*
 * Green-init mode (init.c): would (sig) stop the program with its default
 * action?  Then kill/raise of its own pid send it to the host for real.
 */
bool	gpi_greenrun_stops(int sig) __attribute__((visibility("hidden")));
int	gpi_greenrun_stop(int sig) __attribute__((visibility("hidden")));
/*
 * Green-init mode: a signalfd reads (mask); true if (sig) is in such a
 * mask, so a kill of the program's own pid stays the kernel's.
 */
void	gpi_greenrun_signalfd(const sigset_t *mask) __attribute__((visibility("hidden")));
bool	gpi_greenrun_sfd(int sig) __attribute__((visibility("hidden")));
/*
 * Green-init mode, before the program's own process changes the
 * disposition of (sig): post the forwarded signal the kernel holds for
 * it, if any, while the old disposition catches or ignores it.
 */
void	gpi_greenrun_drain(int sig) __attribute__((visibility("hidden")));
/* Green-init mode, after a wait another process may have ended: all of them. */
void	gpi_greenrun_drain_pending(void) __attribute__((visibility("hidden")));
/* pthread_exit of the calling green thread: cleanup handlers, then the end. */
_Noreturn void gpi_thread_exit(void *retval) __attribute__((visibility("hidden")));
/* (l)'s handle slot + 1 (its mutex owner id), made on first need; 0 if none. */
unsigned gpi_thread_slot(struct gp_lwp *l) __attribute__((visibility("hidden")));
/*
 * init.c: green-init mode.  gpi_greenrun is set by the constructor
 * (gpi_greenrun_check) from GREENPROC_INIT, before any thread; then
 * gpi_greenrun_main runs main as the first green process.
 */
extern bool gpi_greenrun __attribute__((visibility("hidden")));
void	gpi_greenrun_check(void) __attribute__((visibility("hidden")));
_Noreturn void gpi_greenrun_main(int (*main_fn)(int, char **, char **),
    int argc, char **argv, char **envp) __attribute__((visibility("hidden")));
/*
 * Fork-child resets, run by spawn.c's one atfork handler: stdio.c's
 * bucket locks, sync.c's fork generation of pthread_once, thread.c's
 * handle table lock.
 */
void	gpi_stdio_fork_child(void) __attribute__((visibility("hidden")));
void	gpi_once_fork_child(void) __attribute__((visibility("hidden")));
void	gpi_handles_fork_child(void) __attribute__((visibility("hidden")));
/* sync.c: wake-ups of green waiters by the backstop (exported: tests). */
unsigned long __greenproc_sync_backstops(void);
/*
 * thread.c: the policy and priority a thread made with (attr) starts
 * with: its creator's (l, the caller's LWP), or the attributes' own,
 * checked (0, or EINVAL).
 */
int	gpi_sched_attr(const struct gp_lwp *l, const pthread_attr_t *attr,
    int *policy, int *prio) __attribute__((visibility("hidden")));
/* thread.c: 0 if (prio) is one of (policy)'s priorities, else EINVAL. */
int	gpi_sched_check(int policy, int prio)
    __attribute__((visibility("hidden")));
/* thread.c: 0 if (set) meets the host's CPUs, else EINVAL. */
int	gpi_affinity_check(size_t size, const cpu_set_t *set)
    __attribute__((visibility("hidden")));
/*
 * sync.c: an absolute time on (clock) as a green deadline in *deadline:
 * 0, or EINVAL for a clock the *clock* calls refuse or bad nanoseconds.
 */
int	gpi_abs_deadline(clockid_t clock, const struct timespec *abs,
    uint64_t *deadline) __attribute__((visibility("hidden")));
/* sync.c: resolve its real functions (called from resolve()). */
void	gpi_sync_resolve(void) __attribute__((visibility("hidden")));
/* stdio.c: resolve its real functions (called from resolve()). */
void	gpi_stdio_resolve(void) __attribute__((visibility("hidden")));

#endif /* GREENPROC_PRELOAD_H */
