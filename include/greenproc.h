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
 */
#ifndef GREENPROC_H
#define GREENPROC_H

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
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
 */
#define GP_WORKERS_MAX	1024
GP_EXPORT int	gp_init(int nworkers);
GP_EXPORT int	gp_shutdown(void);

/* Attributes; a NULL attr means the defaults. */
GP_EXPORT int	gp_attr_init(gp_attr_t **attr);
GP_EXPORT int	gp_attr_destroy(gp_attr_t *attr);
GP_EXPORT int	gp_attr_setstacksize(gp_attr_t *attr, size_t bytes);
GP_EXPORT int	gp_attr_getstacksize(const gp_attr_t *attr, size_t *bytes);
GP_EXPORT int	gp_attr_setname(gp_attr_t *attr, const char *name);
GP_EXPORT int	gp_attr_setexitsignal(gp_attr_t *attr, int sig);
GP_EXPORT int	gp_attr_setdetached(gp_attr_t *attr, int detached);

/* Processes. */
GP_EXPORT pid_t	gp_spawn(int (*entry)(void *), void *arg, const gp_attr_t *attr);
GP_EXPORT pid_t	gp_spawn_main(int (*main_fn)(int, char **), int argc,
		    char **argv, const gp_attr_t *attr);
GP_NORETURN GP_EXPORT void gp_exit(int status);
GP_NORETURN GP_EXPORT void gp__exit(int status);
GP_EXPORT int	gp_extexit(int how, int status, void *addr);
GP_EXPORT int	gp_exec(int (*entry)(void *), void *arg);
GP_EXPORT int	gp_atexit(void (*fn)(void));
GP_EXPORT int	gp_at_exit(gp_exitlist_fn fn);
GP_EXPORT int	gp_rm_at_exit(gp_exitlist_fn fn);

GP_EXPORT pid_t	gp_wait4(pid_t pid, int *status, int options, struct rusage *ru);
GP_EXPORT pid_t	gp_waitpid(pid_t pid, int *status, int options);
GP_EXPORT int	gp_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);

GP_EXPORT pid_t	gp_getpid(void);
GP_EXPORT pid_t	gp_getppid(void);
GP_EXPORT int	gp_setpgid(pid_t pid, pid_t pgid);
GP_EXPORT pid_t	gp_getpgid(pid_t pid);
GP_EXPORT int	gp_reaper_acquire(void);
GP_EXPORT int	gp_reaper_release(void);
GP_EXPORT int	gp_proc_watch(pid_t pid);

/* Green signals. */
GP_EXPORT int	gp_kill(pid_t pid, int sig);
GP_EXPORT int	gp_sigaction(int sig, const struct sigaction *act,
		    struct sigaction *oact);
GP_EXPORT int	gp_sigprocmask(int how, const sigset_t *set, sigset_t *oset);

/*
 * LWPs: green threads of the calling process (of init on a host thread).
 * gp_lwp_join() may block; EDEADLK for self, EINVAL for a detached or
 * already joined LWP.  gp_lwp_exit() on the last LWP of a green process
 * is gp_exit(0).  gp_lwp_self() is NULL on a host thread.
 */
GP_EXPORT int	gp_lwp_create(gp_lwp_t *lwp, void *(*fn)(void *), void *arg,
		    const gp_attr_t *attr);
GP_NORETURN GP_EXPORT void gp_lwp_exit(void *retval);
GP_EXPORT int	gp_lwp_join(gp_lwp_t lwp, void **retval);
GP_EXPORT int	gp_lwp_detach(gp_lwp_t lwp);
GP_EXPORT gp_lwp_t gp_lwp_self(void);
GP_EXPORT void	gp_yield(void);
GP_EXPORT int	gp_nanosleep(const struct timespec *req, struct timespec *rem);

/* Introspection. */
GP_EXPORT int	gp_ps(FILE *out);
GP_EXPORT int	gp_dump(FILE *out);
/*
 * Write gp_dump() to stderr (or GREENPROC_DUMP_FILE) whenever (sig)
 * arrives, from a dedicated thread; 0 turns it off.  The environment
 * variable GREENPROC_DUMP_SIGNAL=QUIT asks for it at gp_init().
 */
GP_EXPORT int	gp_dump_on_signal(int sig);

/*
 * Counters, for tests and gp_ps's footer.  Totals count since gp_init();
 * "live" values are what exists now.
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
};
GP_EXPORT int	gp_stats(struct gp_counters *st);

#ifdef __cplusplus
}
#endif
#endif /* GREENPROC_H */
