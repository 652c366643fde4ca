/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * watchdog.c -- notice a worker held by one LWP, and keep the rest moving.
 *
 * Green threads are cooperative: a compute loop that never calls the
 * runtime, or a blocking system call nobody made green (a syscall(2), a
 * library's own futex), holds its worker, and every LWP queued there
 * waits.  Nothing can take the worker back; what can still move is what
 * has not started there yet (unstarted LWPs in w_newq, which any worker
 * may steal, and new LWPs, which placement may send elsewhere).  So the
 * watchdog, a host thread, looks at the workers every TICK_NS while any
 * of them is busy: one that has not switched for STUCK_NS while LWPs
 * were ready behind its running one is marked w_stuck (least_loaded then
 * places nothing there), counted, and a spare worker is started -- one of
 * GPI_SPARES at the end of rt_workers -- unless an active worker is free
 * to steal (parked or spinning).  w_stuck clears when the worker switches
 * again.  gp_dump names a stuck worker, its LWP and the system call it
 * sits in (/proc/self/task/TID/syscall).
 *
 * In green-init mode a worker still held a tick after w_resched, by a
 * thread that runs, is sent a signal that preempts the program's own
 * code (preempt.c).
 *
 * It costs nothing while the runtime is idle: with every active worker
 * parked it sleeps on rt_wd_word without a timeout, and the first
 * worker to leave its engine wait wakes it (gpi_watchdog_kick: one
 * relaxed load on that path, a futex wake only after a fully idle
 * spell).  The pair: the watchdog stores rt_wd_word = 1 then reads
 * rt_nparked; a worker decrements rt_nparked then reads rt_wd_word (all
 * seq_cst), so one of them sees the other.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "internal.h"

#define TICK_NS		5000000u	/* 5 ms between looks while busy */
#define STUCK_NS	10000000u	/* held this long with others waiting */
#define RESCHED_NS	10000000u	/* held this long: ask it to yield */
/*
 * Green-init preemption (preempt.c): for PREEMPT_FAST_NS after a signal
 * that did take a worker back, the watchdog looks every FAST_TICK_NS and
 * the slice is FAST_SLICE_NS, about the kernel's: a program whose
 * threads spin on each other hands off every few ms, not every 20.
 * Otherwise it looks every TICK_NS, and a compute loop alone on its
 * worker costs a signal per 15-20 ms at most.
 */
#define FAST_TICK_NS	1000000u
#define FAST_SLICE_NS	2000000u
#define PREEMPT_FAST_NS	100000000u

enum { WD_RUN, WD_IDLE, WD_LEAVE };	/* rt_wd_word */

void
gpi_watchdog_kick_slow(void)
{
	int one = WD_IDLE;

	if (atomic_compare_exchange_strong(&gpi_rt.rt_wd_word, &one, WD_RUN))
		gpi_futex_wake(&gpi_rt.rt_wd_word, 1);
}

static int
nactive(void)
{
	int i, n = 0;

	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		n += atomic_load_explicit(&gpi_rt.rt_workers[i].w_active,
		    memory_order_acquire);
	return n;
}

/* Is an active, unstuck worker idle enough to steal from (w)? */
static bool
helper_free(void)
{
	struct gp_worker *v;
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		v = &gpi_rt.rt_workers[i];
		if (atomic_load(&v->w_active) && !atomic_load(&v->w_stuck) &&
		    atomic_load(&v->w_parked))
			return true;
	}
	return atomic_load(&gpi_rt.rt_nspinning) > 0;
}

/* Start the next spare, if any is left. */
static void
start_spare(void)
{
	struct gp_worker *w;
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		if (!w->w_spare || atomic_load(&w->w_active))
			continue;
		/*
		 * Counted before it starts: it may run the LWPs it was
		 * started for before this thread is scheduled again, and a
		 * caller that saw them run reads gp_stats (test_watchdog
		 * read 0 spares on a loaded machine).
		 */
		atomic_fetch_add(&gpi_rt.rt_nspares_started, 1);
		if (gpi_sched_start_spare(w) != 0)
			atomic_fetch_sub(&gpi_rt.rt_nspares_started, 1);
		return;
	}
}

/* A thread's CPU time in ns (the kernel's per-thread CPU clock id). */
static uint64_t
thread_cpu_ns(pid_t tid)
{
	clockid_t cid = (clockid_t)((~(unsigned)tid << 3) | 6);
	struct timespec ts;

	if (GPI_LIBC(clock_gettime)(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * /proc/self/task/TID/(name) into buf, NUL-terminated: its length, or 0.
 * For gp_dump only (its open takes a low number for a moment: rtfd.c).
 */
static size_t
read_task_file(pid_t tid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, name);
	r = gpi_read_text(path, buf, len);
	return r > 0 ? (size_t)r : 0;
}

/*
 * The scheduler state of (w)'s thread ('R', 'S', 'D'...), from the /proc
 * file it opened for us: read again from offset 0, /proc makes it anew.
 * Never an open here: this runs every tick of a busy runtime, and an
 * open takes the program's lowest free number for a moment (rtfd.c).
 */
static char
thread_state(struct gp_worker *w)
{
	int fd = atomic_load_explicit(&w->w_statfd, memory_order_relaxed);
	char text[256], *p;
	long r;

	if (fd < 0 || (r = GPI_LIBC(syscall)(SYS_pread64, fd, text,
	    sizeof(text) - 1, 0)) <= 0)
		return '?';
	text[r] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and parentheses. */
	if ((p = strrchr(text, ')')) == NULL || p[1] == '\0')
		return '?';
	return p[2];
}

/*
 * Held by its LWP, or only not given a CPU by the kernel (a loaded
 * machine preempts workers for whole time slices)?  Held: asleep in a
 * system call, or running and burning CPU (a compute loop): half the
 * window's worth since (cpu0), and (min) since (asked), when it was
 * asked to yield.  Runnable with less to show: preempted, not stuck.
 */
static bool
held(struct gp_worker *w, uint64_t cpu0, uint64_t asked, uint64_t min)
{
	uint64_t now;

	if (thread_state(w) != 'R')
		return true;
	now = thread_cpu_ns(__atomic_load_n(&w->w_tid, __ATOMIC_RELAXED));
	return now - cpu0 >= STUCK_NS / 2 && now - asked >= min;
}

static bool
waiting(struct gp_worker *w)
{
	return atomic_load_explicit(&w->w_queued, memory_order_relaxed) ||
	    atomic_load_explicit(&w->w_inbox, memory_order_relaxed) != NULL ||
	    atomic_load_explicit(&w->w_newq_len, memory_order_relaxed) > 0;
}

static void *
watchdog_main(void *arg)
{
	int n = gpi_rt.rt_nworkers, i, expect;
	unsigned long *last;
	uint64_t *since, *cpu, *moved, *asked, now, tick, slice, preempted = 0;
	struct gp_worker *w;
	sigset_t set;
	bool preempt = gpi_preempt_on(), fast = false, *kicked;

	(void)arg;
	sigfillset(&set);
	GPI_LIBC(pthread_sigmask)(SIG_BLOCK, &set, NULL);
	(void)GPI_LIBC(pthread_setname_np)(GPI_LIBC(pthread_self)(),
	    "gp-watchdog");
	last = calloc((size_t)n, sizeof(*last));
	since = calloc((size_t)n, sizeof(*since));
	cpu = calloc((size_t)n, sizeof(*cpu));
	moved = calloc((size_t)n, sizeof(*moved));
	kicked = calloc((size_t)n, sizeof(*kicked));
	asked = calloc((size_t)n, sizeof(*asked));
	if (last == NULL || since == NULL || cpu == NULL || moved == NULL ||
	    kicked == NULL || asked == NULL)
		goto out;
	for (;;) {
		tick = fast ? FAST_TICK_NS : TICK_NS;
		expect = WD_RUN;
		if (atomic_load(&gpi_rt.rt_nparked) >= nactive() &&
		    atomic_compare_exchange_strong(&gpi_rt.rt_wd_word, &expect,
		    WD_IDLE)) {
			/* Announced: a worker that unparks from now on kicks. */
			if (atomic_load(&gpi_rt.rt_nparked) >= nactive())
				gpi_futex_wait(&gpi_rt.rt_wd_word, WD_IDLE, 0);
			expect = WD_IDLE;
			(void)atomic_compare_exchange_strong(
			    &gpi_rt.rt_wd_word, &expect, WD_RUN);
		} else {
			gpi_futex_wait(&gpi_rt.rt_wd_word, WD_RUN,
			    gpi_now() + tick);
		}
		if (atomic_load(&gpi_rt.rt_wd_word) == WD_LEAVE)
			break;
		now = gpi_now();
		fast = preempted != 0 && now - preempted < PREEMPT_FAST_NS;
		slice = fast ? FAST_SLICE_NS : RESCHED_NS;
		for (i = 0; i < n; i++) {
			unsigned long sw;

			w = &gpi_rt.rt_workers[i];
			if (!atomic_load(&w->w_active))
				continue;
			sw = GPI_RD(w->w_nswitch);
			if (atomic_load(&w->w_parked) || sw != last[i]) {
				/* It moved: not stuck (any more). */
				if (kicked[i] && sw != last[i])
					preempted = now;	/* it worked */
				kicked[i] = false;
				last[i] = sw;
				since[i] = moved[i] = now;
				cpu[i] = thread_cpu_ns(__atomic_load_n(
				    &w->w_tid, __ATOMIC_RELAXED));
				if (atomic_load_explicit(&w->w_stuck,
				    memory_order_relaxed))
					atomic_store(&w->w_stuck, 0);
				continue;
			}
			/*
			 * Cooperative threads, a preemption at safe points:
			 * an LWP that has held its worker for a slice
			 * yields at its next signal point (a mutex call;
			 * gpi_sigpoint_l), so LWPs and timers behind it run.
			 * A worker with nothing behind it picks itself again
			 * at the cost of one pick.
			 */
			if (now - moved[i] >= slice &&
			    !atomic_load_explicit(&w->w_resched,
			    memory_order_relaxed)) {
				atomic_store_explicit(&w->w_resched, 1,
				    memory_order_relaxed);
				asked[i] = thread_cpu_ns(__atomic_load_n(
				    &w->w_tid, __ATOMIC_RELAXED));
			}
			/*
			 * Still held a tick after that request, and computing
			 * (not asleep in a system call): in green-init mode a
			 * signal interrupts the program's loop (preempt.c).
			 */
			if (preempt && now - moved[i] >= slice + tick &&
			    thread_state(w) == 'R') {
				gpi_preempt_kick(w, sw);
				kicked[i] = true;
			}
			/*
			 * Held since (since[i]); stuck once others waited
			 * behind it that long, and until it switches (a spare
			 * may have taken what waited meanwhile).
			 */
			if (!waiting(w) && !atomic_load(&w->w_stuck))
				since[i] = now;
			if (since[i] == now)
				cpu[i] = thread_cpu_ns(__atomic_load_n(
				    &w->w_tid, __ATOMIC_RELAXED));
			/*
			 * And never before the yield request, and the
			 * preemption signal if any, had a tick to work, and
			 * the thread had CPU time to act on it: an LWP that
			 * spawns or creates in a burst (a yield point each,
			 * gp_spawn) gives the worker back at its next call,
			 * and a spare started before it could would take its
			 * children for good (spares stay until gp_shutdown).
			 */
			if (now - since[i] < STUCK_NS ||
			    now - moved[i] < slice + (preempt ? 2 : 1) * tick ||
			    atomic_load(&w->w_stuck))
				continue;
			if (!held(w, cpu[i], asked[i], tick / 2)) {
				/* Preempted by the kernel: look again later. */
				since[i] = now;
				cpu[i] = thread_cpu_ns(__atomic_load_n(
				    &w->w_tid, __ATOMIC_RELAXED));
				continue;
			}
			atomic_store(&w->w_stuck, 1);
			atomic_fetch_add(&gpi_rt.rt_nstuck, 1);
			if (!helper_free())
				start_spare();
		}
	}
out:
	free(last);
	free(since);
	free(cpu);
	free(moved);
	free(kicked);
	free(asked);
	return NULL;
}

int
gpi_watchdog_start(void)
{
	int error;

	atomic_store(&gpi_rt.rt_wd_word, WD_RUN);
	error = GPI_FAILPT(GPI_FAIL_THREAD) ? EAGAIN :
	    GPI_LIBC(pthread_create)(&gpi_rt.rt_wd_thread, NULL,
	    watchdog_main, NULL);
	gpi_rt.rt_wd_running = error == 0;
	return error;
}

void
gpi_watchdog_stop(void)
{
	if (!gpi_rt.rt_wd_running)
		return;
	atomic_store(&gpi_rt.rt_wd_word, WD_LEAVE);
	gpi_futex_wake(&gpi_rt.rt_wd_word, 1);
	GPI_LIBC(pthread_join)(gpi_rt.rt_wd_thread, NULL);
	gpi_rt.rt_wd_running = false;
}

/* The system call a thread sits in, from /proc: "nanosleep (35)". */
static void
syscall_of(pid_t tid, char *buf, size_t len)
{
	static const struct { int nr; const char *name; } names[] = {
		{ SYS_read, "read" }, { SYS_write, "write" },
		{ SYS_poll, "poll" }, { SYS_select, "select" },
		{ SYS_nanosleep, "nanosleep" },
		{ SYS_clock_nanosleep, "clock_nanosleep" },
		{ SYS_futex, "futex" }, { SYS_wait4, "wait4" },
		{ SYS_waitid, "waitid" }, { SYS_accept, "accept" },
		{ SYS_accept4, "accept4" }, { SYS_connect, "connect" },
		{ SYS_recvfrom, "recvfrom" }, { SYS_sendto, "sendto" },
		{ SYS_epoll_wait, "epoll_wait" }, { SYS_ppoll, "ppoll" },
		{ SYS_pselect6, "pselect6" }, { SYS_openat, "openat" },
		{ SYS_flock, "flock" }, { SYS_fcntl, "fcntl" },
		{ SYS_fsync, "fsync" }, { SYS_pread64, "pread64" },
		{ SYS_pwrite64, "pwrite64" }, { SYS_pause, "pause" },
		{ SYS_io_uring_enter, "io_uring_enter" },
	};
	char text[128];
	size_t k;
	int nr;

	snprintf(buf, len, "unknown");
	if (read_task_file(tid, "syscall", text, sizeof(text)) == 0)
		return;
	if (strncmp(text, "running", 7) == 0) {
		snprintf(buf, len, "none (running user code)");
		return;
	}
	nr = atoi(text);
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (names[k].nr == nr) {
			snprintf(buf, len, "%s (%d)", names[k].name, nr);
			return;
		}
	snprintf(buf, len, "system call %d", nr);
}

void
gpi_watchdog_dump(FILE *out)
{
	struct gp_worker *w;
	unsigned long preempted, kicked;
	char sc[64];
	int i;

	fprintf(out, "workers: %ld stuck so far, %ld spares started\n",
	    (long)atomic_load(&gpi_rt.rt_nstuck),
	    atomic_load(&gpi_rt.rt_nspares_started));
	if (gpi_preempt_on()) {
		gpi_preempt_counts(&preempted, &kicked);
		fprintf(out, "preemption: %lu signals sent, %lu threads "
		    "preempted\n", kicked, preempted);
	}
	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		if (!atomic_load(&w->w_active) || !atomic_load(&w->w_stuck))
			continue;
		syscall_of(__atomic_load_n(&w->w_tid, __ATOMIC_RELAXED), sc,
		    sizeof(sc));
		fprintf(out, "  worker %d (tid %d) STUCK: LWP %u has not "
		    "switched for over %u ms with others waiting; in %s\n",
		    i, (int)__atomic_load_n(&w->w_tid, __ATOMIC_RELAXED),
		    atomic_load_explicit(&w->w_curtid, memory_order_relaxed),
		    STUCK_NS / 1000000u, sc);
	}
}
