/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtfd.c -- the runtime's own descriptors, kept out of the program's way.
 *
 * The runtime holds descriptors of its own in the program's table: each
 * worker's eventfd and io_uring ring (or epoll set) and /proc stat file,
 * a process's watch eventfd, a real child's pidfd, a parked LWP's private
 * duplicate, gp_dump_on_signal's pipe.  Made where the kernel puts them,
 * the lowest free numbers, they broke two promises a program relies on:
 *
 *  - the lowest number is the program's.  `open` after `close(0)` is 0;
 *    a shell's `exec 3>file` is a dup2 onto 3.  Under greenrun the
 *    workers' descriptors were 3-6 before main: bash's `exec 3>f 4>f`
 *    replaced a worker's eventfd, and that worker never woke again (a
 *    script with background jobs hung).  And the watchdog's /proc reads
 *    held a low number for a moment, so a program's next open was
 *    sometimes given a higher one than natively.
 *  - a number the program did not open is not open: a daemon's
 *    close-every-descriptor loop (or closefrom) closed the runtime's.
 *
 * So every descriptor the runtime keeps is moved, as soon as it is made,
 * to the top of the program's range: gpi_rtfd_keep dups it (always
 * close-on-exec) to the lowest free number at or above rtfd_floor and
 * closes the original.  The floor is min(soft RLIMIT_NOFILE, 1024) less
 * RTFD_ROOM, computed once: well above the numbers programs use, below
 * FD_SETSIZE, and small enough that the kernel's table stays small when
 * the limit is a million.  The numbers there that are the runtime's are
 * marked in gpi_rtfd_map_, and the program's close, dup2/dup3 onto them,
 * close_range and closefrom (fd.c, the preload) treat them as not open:
 * EBADF, or skipped.
 *
 * NOTE: making a descriptor still takes the lowest number for the
 * moment between the system call and the move.  On the program's own
 * thread (gp_init's engines, a fork's pidfd, a process watch) the
 * program cannot see it; a background thread that makes one (a spare
 * worker started by the watchdog, gp_dump's /proc reads) may, for that
 * moment, make a program thread's open get the next number.  So what a
 * background thread needs is made before the program runs where it can
 * be: greenrun's forwarder gets its signalfd from the host main thread
 * (made by the forwarder, it made a program's first open give 5, not 3,
 * on a loaded machine), and the watchdog reads /proc, every tick of a
 * busy runtime, through descriptors each worker made at its start.
 * NOTE: when the floor cannot be had (a soft limit under 8, or every
 * number from the floor up taken) a descriptor is left where it was,
 * unmarked, and never at 0-2: a program that starts with stdin closed
 * must not read a worker's eventfd as its stdin.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include "internal.h"

#define RTFD_ROOM	GPI_RTFD_ROOM
#define RTFD_TOP	1024	/* the floor is below this, FD_SETSIZE */

/* (a) the floor; 0 until the first keep computes it (once, by CAS). */
int gpi_rtfd_floor_ GPI_PASSDATA;	/* every close reads it */
/* (a) bit i: number floor + i is the runtime's (set by keep, cleared by
 * close; relaxed: a number is marked before any other thread learns it). */
_Atomic uint64_t gpi_rtfd_map_[RTFD_ROOM / 64] GPI_PASSDATA;

static int
rtfd_floor(void)
{
	struct rlimit rl;
	long top;
	int floor = __atomic_load_n(&gpi_rtfd_floor_, __ATOMIC_RELAXED), z = 0;

	if (floor != 0)
		return floor;
	top = RTFD_TOP;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < RTFD_TOP)
		top = (long)rl.rlim_cur;
	floor = (int)(top >= 2 * RTFD_ROOM ? top - RTFD_ROOM : top / 2);
	if (floor < 3)
		floor = 3;
	/* The first to compute it wins; the map is relative to it. */
	if (!__atomic_compare_exchange_n(&gpi_rtfd_floor_, &z, floor, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		floor = z;
	return floor;
}

static void
mark(int fd, bool on)
{
	unsigned i = (unsigned)(fd - __atomic_load_n(&gpi_rtfd_floor_,
	    __ATOMIC_RELAXED));
	uint64_t bit = (uint64_t)1 << (i % 64);

	if (i >= RTFD_ROOM)
		return;
	if (on)
		atomic_fetch_or_explicit(&gpi_rtfd_map_[i / 64], bit,
		    memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&gpi_rtfd_map_[i / 64], ~bit,
		    memory_order_relaxed);
}

int
gpi_rtfd_dup(int fd)
{
	int r;

	if ((r = GPI_LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, rtfd_floor())) < 0 &&
	    (r = GPI_LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	mark(r, true);
	return r;
}

int
gpi_rtfd_keep(int fd)
{
	int r, error;

	if (fd < 0)
		return fd;
	if ((r = gpi_rtfd_dup(fd)) < 0) {
		if (fd > 2)
			return fd;	/* left where it is (NOTE above) */
		error = errno;
		(void)GPI_LIBC(close)(fd);
		errno = error;
		return -1;
	}
	(void)GPI_LIBC(close)(fd);
	return r;
}

int
gpi_rtfd_close(int fd)
{
	if (fd < 0)
		return 0;
	mark(fd, false);
	return GPI_LIBC(close)(fd);
}

/*
 * A forked child: the parent's runtime is forgotten, and so are its
 * descriptors, which nothing in the child will use; an exec would have
 * closed them (close-on-exec), a child that goes on without one must not
 * keep them (a pipe's end held here keeps its reader from seeing EOF).
 */
void
gpi_rtfd_forget(void)
{
	int floor = __atomic_load_n(&gpi_rtfd_floor_, __ATOMIC_RELAXED);
	uint64_t m;
	unsigned i;

	for (i = 0; i < RTFD_ROOM / 64; i++) {
		m = atomic_exchange_explicit(&gpi_rtfd_map_[i], 0,
		    memory_order_relaxed);
		while (m != 0) {
			(void)GPI_LIBC(close)(floor + (int)(i * 64) +
			    __builtin_ctzll(m));
			m &= m - 1;
		}
	}
}

/*
 * close_range(2) for the program: the same, around the runtime's
 * numbers.  Each run of numbers between two of ours is one call.
 */
int
gpi_rtfd_close_range(unsigned first, unsigned last, int flags)
{
	unsigned floor = (unsigned)__atomic_load_n(&gpi_rtfd_floor_,
	    __ATOMIC_RELAXED), lo = first, n;

	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	if (floor == 0 || last < floor || first >= floor + RTFD_ROOM)
		return (int)GPI_LIBC(syscall)(SYS_close_range, first, last,
		    flags);
	for (n = first > floor ? first : floor;
	    n <= last && n < floor + RTFD_ROOM; n++) {
		if (!gpi_rtfd_is((int)n))
			continue;
		if (n > lo && GPI_LIBC(syscall)(SYS_close_range, lo, n - 1,
		    flags) != 0)
			return -1;
		lo = n + 1;
	}
	if (lo > last)
		return 0;
	return (int)GPI_LIBC(syscall)(SYS_close_range, lo, last, flags);
}
