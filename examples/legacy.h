/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy.h -- the entry points of examples/legacy.c, plain C code that
 * knows nothing of greenproc.  demo.c runs them in green processes with
 * gp_spawn_main(); under LD_PRELOAD=libgreenproc_preload.so their libc
 * calls get green semantics.
 */
#ifndef DEMO_LEGACY_H
#define DEMO_LEGACY_H

/*
 * A job: prints its pids, registers three atexit handlers, runs two
 * pthreads (mutex, condition variable, usleep, pthread_exit, join),
 * forks two real children (one execs /bin/echo, one _exit(4)s) and
 * waitpid()s them, then exit(atoi(argv[1]))s.
 */
int	legacy_job(int argc, char **argv);

/*
 * A spinner: it and one pthread count spins, usleep(1000) between each,
 * until SIGTERM (caught with signal()); then both stop, and it exits 0.
 */
int	legacy_spinner(int argc, char **argv);

/* The spinner's count so far (read under its mutex). */
long	legacy_spin_count(void);

#endif /* DEMO_LEGACY_H */
