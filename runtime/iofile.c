/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile.c -- the calls that have no readiness: open, file reads and
 * writes, fsync, flock, fcntl locks, getaddrinfo.  On an LWP none of them
 * may block its worker, so each goes, in this order of preference:
 *  - nowhere, if it need not block: a read or write with RWF_NOWAIT
 *    (data in the page cache costs one system call, as natively), a lock
 *    tried with LOCK_NB / F_SETLK first;
 *  - to the worker's io_uring, which has the operation (OPENAT,
 *    READV/WRITEV with an offset, FSYNC) and runs it in its own io-wq
 *    kernel threads when it would block;
 *  - else to the helper pool (iopool.c): getaddrinfo, getnameinfo, flock,
 *    F_SETLKW, and everything on the epoll engine.
 * On a host thread each is the plain call after one thread-local load.
 *
 * Signals (signal(7)): disk I/O is not interrupted.  A file operation or
 * a name lookup completes, and a caught signal's handler runs right
 * after it (gpi_userret), as the kernel delivers it on the way back to
 * user space.  A kill waits for it too: the kernel, or a helper, writes
 * into the LWP's memory until the operation ends (GPI_PNOKILL).
 * flock(2) and F_SETLKW are interruptible natively, and here: a signal
 * or a kill interrupts the helper's call (EINTR), then the handlers run
 * and the call restarts if they all had SA_RESTART (signal(7) lists the
 * file lock calls among those SA_RESTART restarts).
 */
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <limits.h>
#include <linux/openat2.h>

#include "internal.h"

/* The real function if it is resolved and we are a host thread. */
#define HOST_FAST(name)	(likely(GPI_LIBC_PEEK(name) != NULL &&		\
			    gpi_io_lwp() == NULL))

#define IOV_STACK	8

/* ------------------------------------------------------------ the ring */

/*
 * One operation on the running LWP's ring, waited for whatever comes (a
 * signal, a kill): the kernel owns (iw)'s buffers until its CQE.
 * Returns the CQE's result (-errno on failure).
 */
static int
ring_op(struct gpi_iowait *iw)
{
	int error;

	error = gpi_io_wait(iw, 1, 0, GPI_PNOKILL);
	KASSERT(error == 0 && iw->iw_ended);
	(void)error;
	return iw->iw_res;
}

static bool
use_ring(void)
{
	return gpi_ioengine == GPI_IO_URING;
}

/* A result of the ring or the pool, as the call returns it. */
static long
ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* ------------------------------------------------------------ read/write */

struct rwjob {
	bool		 rw_out;
	int		 rw_fd;
	const struct iovec *rw_iov;
	int		 rw_cnt;
	off_t		 rw_off;
};

static long
rw_job(void *arg)
{
	struct rwjob *j = arg;

	/* preadv2/pwritev2 take -1 as the file position; preadv does not. */
	return j->rw_out ? pwritev2(j->rw_fd, j->rw_iov, j->rw_cnt, j->rw_off,
	    0) : preadv2(j->rw_fd, j->rw_iov, j->rw_cnt, j->rw_off, 0);
}

/*
 * Buffered writes to a regular file on a local filesystem: on the worker.
 *
 * ext4, xfs and tmpfs refuse RWF_NOWAIT for buffered writes, so every
 * such write used to go to the ring, and the ring hands each to one of
 * its io-wq kernel threads and wakes us from there: a 1-byte write cost
 * 11 us green against 1.4 natively, and a program that logs line by line
 * or writes its output in stdio's 4 KiB pieces ran several times slower.
 * Yet such a write only copies into the page cache; it blocks for long
 * only when the kernel throttles a writer of too many dirty pages or
 * waits for the journal.  So a write of at most INLINE_MAX bytes is made
 * where it is asked, on the worker, as Go's runtime makes its file
 * writes, and timed: after two in a row that took longer than
 * GREENPROC_FILE_INLINE_US (500 us; 0: never on the worker), every file
 * write goes to the ring for INLINE_BACKOFF_NS, and then one is tried on
 * the worker again.  What makes a write slow (the dirty-page throttle, a
 * journal commit, a busy disk) is seldom one file's alone, and lasts:
 * two in a row, where one alone may be a write the kernel preempted on a
 * loaded machine, or the first of a new file.  So while writes are slow
 * at most two in INLINE_BACKOFF_NS hold a worker long.  While one is
 * held, the worker's other LWPs wait, as behind any LWP that holds its
 * worker (the watchdog starts a spare after 10 ms).  Larger writes go to
 * the ring: the copy then runs beside the worker.
 *
 * Only on filesystems whose writes end without anyone's help here: a
 * FUSE or network filesystem may wait for a server, which may be a green
 * thread of this program behind the very worker that waits.
 */
#define INLINE_MAX		65536
#define INLINE_BACKOFF_NS	250000000u

uint64_t gpi_file_inline_ns;
/* (a, relaxed) No write on a worker before this CLOCK_MONOTONIC time. */
static _Atomic uint64_t inline_resume;

/*
 * What (fd)'s filesystem is.  LOCAL: its calls end without anyone's help
 * here (a disk or memory), not mounted sync (then every write waits for
 * the disk: LOCAL_SYNC).  PSEUDO: procfs, sysfs and cgroupfs, whose files
 * the kernel makes up as they are read, with no disk behind them.  FAR:
 * the rest, FUSE and network filesystems among them, whose calls may
 * wait for a server -- which may be a green thread behind the very
 * worker that waits.
 */
enum fs_kind { FS_FAR, FS_LOCAL, FS_LOCAL_SYNC, FS_PSEUDO };

static enum fs_kind
fs_kind(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) != 0)
		return FS_FAR;
	switch ((unsigned long)sf.f_type) {
	case EXT4_SUPER_MAGIC:	/* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
	case OVERLAYFS_SUPER_MAGIC:
		return (sf.f_flags & ST_SYNCHRONOUS) ? FS_LOCAL_SYNC :
		    FS_LOCAL;
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
		return FS_PSEUDO;
	}
	return FS_FAR;
}

unsigned
gpi_file_refused(int fd, bool out)
{
	uint64_t ticket = gpi_fdinfo_begin(fd);	/* before the calls */
	unsigned bits = GPI_FDI_PLAIN | (out ? GPI_FDI_NOWAITW :
	    gpi_fdinfo_get(fd) & (GPI_FDI_NOWAITW | GPI_FDI_INLINEW));
	enum fs_kind kind;
	struct stat st;
	int fl;

	if (ticket == 0 || fstat(fd, &st) != 0 || !gpi_plain_mode(st.st_mode) ||
	    (fl = GPI_LIBC(fcntl)(fd, F_GETFL)) < 0)
		return 0;
	if (fl & O_NONBLOCK)
		bits |= GPI_FDI_NONBLOCK;
	kind = S_ISREG(st.st_mode) ? fs_kind(fd) : FS_FAR;
	if (kind == FS_PSEUDO)
		bits |= GPI_FDI_PSEUDO;
	/* O_SYNC and O_DSYNC writes wait for the disk: the ring's. */
	else if (out && kind == FS_LOCAL && !(fl & O_DSYNC))
		bits |= GPI_FDI_INLINEW;
	gpi_fdinfo_put(fd, ticket, bits);
	return bits;
}

/* Calls timed by inline_end may be made on the worker: now, else 0. */
static uint64_t
inline_begin(void)
{
	uint64_t now;

	if (gpi_file_inline_ns == 0)
		return 0;
	now = gpi_now();
	return now >= atomic_load_explicit(&inline_resume,
	    memory_order_relaxed) ? now : 0;
}

/* The write may be made on the worker: its start time, else 0. */
static uint64_t
inline_start(int fd, const struct iovec *iov, int cnt)
{
	size_t want = 0;
	int i;

	if (!(gpi_fdinfo_get(fd) & GPI_FDI_INLINEW))
		return 0;
	for (i = 0; i < cnt; i++)
		if ((want += iov[i].iov_len) > INLINE_MAX)
			return 0;
	return inline_begin();
}

/*
 * The second in a row on this worker that took too long: every worker's
 * are the ring's for a while.  In a row per worker, so that another
 * worker's quick writes to another file do not hide this one's slow.
 */
static void
inline_end(uint64_t t0)
{
	struct gp_worker *w = gpi_tls_worker;
	uint64_t now = gpi_now();

	if (now - t0 <= gpi_file_inline_ns) {
		w->w_fileslow = 0;
		return;
	}
	if (++w->w_fileslow < 2)
		return;
	w->w_fileslow = 0;
	atomic_store_explicit(&inline_resume, now + INLINE_BACKOFF_NS,
	    memory_order_relaxed);
}

ssize_t
gpi_file_rw(bool out, int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_op = out ? GPI_IOOP_WRITEV :
	    GPI_IOOP_READV, .iw_addr = (void *)(uintptr_t)iov,
	    .iw_len = (socklen_t)cnt, .iw_off = off };
	struct rwjob j = { out, fd, iov, cnt, off };
	uint64_t t0;
	ssize_t r;

	KASSERT(gpi_io_lwp() != NULL);
	if (gpi_fdinfo_get(fd) & GPI_FDI_PSEUDO) {
		r = out ? pwritev2(fd, iov, cnt, off, 0) :
		    preadv2(fd, iov, cnt, off, 0);
	} else if (out && (t0 = inline_start(fd, iov, cnt)) != 0) {
		r = pwritev2(fd, iov, cnt, off, 0);
		inline_end(t0);
	} else if (use_ring())
		r = ret(ring_op(&iw));
	else
		r = gpi_pool_call(rw_job, &j, 0);
	gpi_userret();		/* a signal that came meanwhile: its turn */
	return r;
}

/* Drop (n) bytes from the front of an iov we own. */
static void
iov_skip(struct iovec **v, int *cnt, size_t n)
{
	while (n > 0 && *cnt > 0) {
		if (n < (*v)->iov_len) {
			(*v)->iov_base = (char *)(*v)->iov_base + n;
			(*v)->iov_len -= n;
			return;
		}
		n -= (*v)->iov_len;
		(*v)++;
		(*cnt)--;
	}
}

/*
 * pread/pwrite family on an LWP: RWF_NOWAIT first, then the ring or the
 * pool.  A write goes on until all is written, as the blocking call does
 * on a regular file.  A read goes on until all is read or the file ends:
 * RWF_NOWAIT stops short at the first page not in the page cache, where
 * a blocking read of a file would wait for it.  A JVM reads each class
 * file with one pread and does not look at the count: it parsed the
 * zeros behind a short one ("Unknown constant tag 0") about one run in
 * ten on a loaded machine.
 */
static ssize_t
prw(bool out, int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct iovec stk[IOV_STACK], *mine = stk, *v;
	size_t want = 0, done;
	unsigned fi;
	ssize_t r;
	int i, error, saved_errno = errno;	/* a success leaves errno alone */

	if (cnt < 0 || cnt > IOV_MAX || off < 0) {
		errno = EINVAL;
		return -1;
	}
	fi = gpi_fdinfo_get(fd);
	/* A write known to refuse it goes straight on (gpi_file_rw). */
	if (out && (fi & GPI_FDI_NOWAITW)) {
		r = -1;
	} else if (fi & GPI_FDI_PSEUDO) {
		r = -1;
		errno = EOPNOTSUPP;
	} else {
		r = out ? pwritev2(fd, iov, cnt, off, RWF_NOWAIT) :
		    preadv2(fd, iov, cnt, off, RWF_NOWAIT);
		if (r < 0 && errno != EAGAIN && errno != EOPNOTSUPP)
			return -1;
		if (r < 0 && errno == EOPNOTSUPP)
			fi = gpi_file_refused(fd, out);
	}
	/* A file of procfs or sysfs: one plain call, as natively. */
	if (fi & GPI_FDI_PSEUDO) {
		r = out ? pwritev2(fd, iov, cnt, off, 0) :
		    preadv2(fd, iov, cnt, off, 0);
		if (r >= 0)
			gpi_sigpoint_io();
		return r;
	}
	for (i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	if (r >= 0 && ((size_t)r >= want || r == 0)) {
		gpi_sigpoint_io();	/* as the kernel on its way out */
		return r;
	}
	/* The rest, on a copy of the iov that we may advance. */
	if (cnt > IOV_STACK && (mine = malloc((size_t)cnt *
	    sizeof(*mine))) == NULL) {
		errno = ENOMEM;
		return r > 0 ? r : -1;
	}
	memcpy(mine, iov, (size_t)cnt * sizeof(*mine));
	v = mine;
	done = r > 0 ? (size_t)r : 0;
	iov_skip(&v, &cnt, done);
	/*
	 * A read stopped short at the file's end or at a page not cached:
	 * RWF_NOWAIT again says which (0 or EAGAIN).  The end used to cost
	 * the ring's hand-off.
	 */
	while (!out && r > 0 && (r = preadv2(fd, v, cnt, off + (off_t)done,
	    RWF_NOWAIT)) > 0) {
		if ((done += (size_t)r) >= want)
			goto out;
		iov_skip(&v, &cnt, (size_t)r);
	}
	if (!out && (r == 0 || (r < 0 && errno != EAGAIN && done > 0)))
		goto out;
	for (;;) {
		r = gpi_file_rw(out, fd, v, cnt, off + (off_t)done);
		if (r <= 0)
			break;
		done += (size_t)r;
		if (done >= want)
			break;
		iov_skip(&v, &cnt, (size_t)r);
	}
out:
	error = errno;
	if (mine != stk)
		free(mine);
	if (r < 0 && done == 0) {
		errno = error;
		return -1;
	}
	errno = saved_errno;	/* not the probe's EAGAIN */
	return (ssize_t)done;
}

ssize_t
gp_pread(int fd, void *buf, size_t n, off_t off)
{
	struct iovec iov = { buf, n };

	if (HOST_FAST(pread))
		return GPI_LIBC_PEEK(pread)(fd, buf, n, off);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(pread)(fd, buf, n, off);
	return prw(false, fd, &iov, 1, off);
}

ssize_t
gp_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };

	if (HOST_FAST(pwrite))
		return GPI_LIBC_PEEK(pwrite)(fd, buf, n, off);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(pwrite)(fd, buf, n, off);
	return prw(true, fd, &iov, 1, off);
}

ssize_t
gp_preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (HOST_FAST(preadv))
		return GPI_LIBC_PEEK(preadv)(fd, iov, cnt, off);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(preadv)(fd, iov, cnt, off);
	return prw(false, fd, iov, cnt, off);
}

ssize_t
gp_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (HOST_FAST(pwritev))
		return GPI_LIBC_PEEK(pwritev)(fd, iov, cnt, off);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(pwritev)(fd, iov, cnt, off);
	return prw(true, fd, iov, cnt, off);
}

/* ------------------------------------------------------------ open, sync */

struct openjob {
	int		 o_dirfd;
	const char	*o_path;
	int		 o_flags;
	mode_t		 o_mode;
};

static long
open_job(void *arg)
{
	struct openjob *j = arg;

	return GPI_LIBC(openat)(j->o_dirfd, j->o_path, j->o_flags, j->o_mode);
}

/*
 * Opens on the worker, when they cannot block.
 *
 * An open on the ring goes to io-wq (IOSQE_ASYNC, iouring.c): a hand-off
 * to a kernel thread and back, 15 us against 3.4 natively here, paid for
 * every header a compiler opens and every name it does not find on its
 * include path.  What can make an open wait:
 *  - the lookup, for a name not in the dentry cache (a disk read):
 *    RESOLVE_CACHED (openat2, Linux 5.12) makes the kernel say EAGAIN
 *    instead;
 *  - creating or truncating (the journal), which RESOLVE_CACHED refuses
 *    too, and a write open on overlayfs (a copy-up): only opens for
 *    reading are tried here;
 *  - the file's own open: a FIFO waits for its peer, a device for its
 *    driver, FUSE and network filesystems for a server (which may be a
 *    green thread behind this very worker);
 *  - a lease another process holds on the file (up to lease-break-time):
 *    O_NONBLOCK makes that EWOULDBLOCK.
 * So the name is first looked up with O_PATH, which opens nothing (no
 * side effect on a FIFO or a device), under RESOLVE_CACHED.  Only a
 * regular file or a directory on a local or pseudo filesystem (fs_kind,
 * learned once per device and worker) is then opened here, under
 * RESOLVE_CACHED and, a regular file, with O_NONBLOCK (taken off again
 * unless asked for).  The rest, and every failure but the lookup's
 * ENOENT and ENOTDIR (which the open would give), go to the ring as
 * before; so does what openat2 refuses and openat takes (unknown flag
 * bits).  An O_PATH open is the lookup alone.  A cached open of a
 * regular file costs five system calls, 8 us; a name not found, one.
 *
 * The opened file's fstat, which fd.c needs anyway (its tag), must name
 * what the lookup found; else the name was renamed over between the two
 * (a FIFO over a file, opened with O_NONBLOCK): it is closed and the
 * ring opens the name again, as it blocks.  It also tells fdinfo.c that
 * the descriptor is a plain file, which a read's first short count would
 * have asked fstat again.
 *
 * NOTE: the lookup's descriptor is closed before the open: the open gets
 * the lowest free number, as natively.
 */
#define OPEN_RING	INT_MIN		/* open_here: not here, the ring */

/* (a, relaxed) openat2 with RESOLVE_CACHED was refused: never again. */
static atomic_bool openat2_refused;

static int
openat2_cached(int dirfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(unsigned)flags,
	    .resolve = RESOLVE_CACHED };

	return (int)GPI_LIBC(syscall)(SYS_openat2, dirfd, path, &how,
	    sizeof(how));
}

/* (fd)'s filesystem, of device (dev): known on this worker, or asked. */
static enum fs_kind
dev_kind(int fd, dev_t dev)
{
	struct gp_worker *w = gpi_tls_worker;
	unsigned i, n = w->w_nlocaldev;
	enum fs_kind kind;

	for (i = 0; i < n && i < GPI_NLOCALDEV; i++)
		if (w->w_localdev[i].d_dev == dev)
			return (enum fs_kind)w->w_localdev[i].d_kind;
	if ((kind = fs_kind(fd)) == FS_FAR)
		return FS_FAR;
	w->w_localdev[n % GPI_NLOCALDEV].d_dev = dev;
	w->w_localdev[n % GPI_NLOCALDEV].d_kind = (unsigned char)kind;
	w->w_nlocaldev = n + 1;
	return kind;
}

/*
 * Look (path) up with O_PATH and (look)'s flags under RESOLVE_CACHED,
 * which opens nothing: 0 with its fstat in *st and, for a regular file
 * or a directory, its filesystem in *kind (FS_FAR for anything else, or
 * if fstat failed); else -1 with the lookup's errno (EAGAIN: not in the
 * dentry cache).  A refusal of RESOLVE_CACHED itself is remembered.
 */
static int
cached_lookup(int dirfd, const char *path, int look, struct stat *st,
    enum fs_kind *kind)
{
	int fd;

	if ((fd = openat2_cached(dirfd, path, O_PATH | O_CLOEXEC | look)) < 0) {
		/* Our own flags: only RESOLVE_CACHED can be refused. */
		if (errno == ENOSYS || errno == EINVAL || errno == EPERM)
			atomic_store_explicit(&openat2_refused, true,
			    memory_order_relaxed);
		return -1;
	}
	*kind = fstat(fd, st) == 0 && (S_ISREG(st->st_mode) ||
	    S_ISDIR(st->st_mode)) ? dev_kind(fd, st->st_dev) : FS_FAR;
	(void)GPI_LIBC(close)(fd);
	return 0;
}

/*
 * (fd), just opened here with O_NONBLOCK added if (nonblock): its fstat
 * in *opened, which must name what (was) names if not NULL (else the
 * name was renamed over since the lookup: a FIFO over a file, opened
 * with O_NONBLOCK), and O_NONBLOCK taken off again.  Returns (fd), or
 * closes it and says OPEN_RING.
 */
static int
opened_here(int fd, int flags, bool nonblock, const struct stat *was,
    struct stat *opened, bool *have_st)
{
	/* F_SETFL sets these four; O_ASYNC is not one that open sets. */
	if (fstat(fd, opened) != 0 || (was != NULL &&
	    (opened->st_ino != was->st_ino || opened->st_dev != was->st_dev)) ||
	    (nonblock && GPI_LIBC(fcntl)(fd, F_SETFL,
	    flags & (O_APPEND | O_DIRECT | O_NOATIME)) != 0)) {
		(void)GPI_LIBC(close)(fd);
		return OPEN_RING;
	}
	*have_st = true;
	return fd;
}

/*
 * What fdinfo.c may keep of (fd), just opened with (flags), of fstat's
 * (st): that it is a plain file, and of a regular file on a local
 * filesystem opened for writing what its first write would learn
 * (gpi_file_refused: its small writes are made on the worker), or of
 * one on procfs or sysfs that its calls are the plain ones.  A new
 * file's first write made a refused RWF_NOWAIT attempt and six system
 * calls of learning before.  0 for the rest: they learn at their first
 * call that would block.
 */
static unsigned
opened_bits(int fd, const struct stat *st, int flags)
{
	unsigned bits;

	if (!gpi_plain_mode(st->st_mode))
		return 0;
	bits = GPI_FDI_PLAIN | ((flags & O_NONBLOCK) ? GPI_FDI_NONBLOCK : 0);
	if (!S_ISREG(st->st_mode))
		return bits;
	switch (dev_kind(fd, st->st_dev)) {
	case FS_PSEUDO:
		return bits | GPI_FDI_PSEUDO;
	case FS_LOCAL:
		/* O_SYNC, O_DSYNC and O_DIRECT writes wait for the disk. */
		if ((flags & O_ACCMODE) != O_RDONLY &&
		    !(flags & (O_DSYNC | O_DIRECT)))
			bits |= GPI_FDI_NOWAITW | GPI_FDI_INLINEW;
		return bits;
	default:
		return bits;
	}
}

/*
 * An open that may create or truncate, for writing, on the worker: when
 * the name's directory is in the dentry cache and on a local filesystem
 * (looked up as open_here looks up a name), timed as a small write is
 * (inline_begin, inline_end: after two slow ones in a row on a worker,
 * the ring's for a while).  Creating takes the journal and may read an
 * inode bitmap, truncating frees blocks: RESOLVE_CACHED does not cover
 * them (openat2 refuses it with O_CREAT and O_TRUNC), so the clock says.
 * A shell's "> file", a compiler's output, tar's and cp's files cost the
 * ring's hand-off each before.  With O_NONBLOCK, taken off after: a
 * lease then says EWOULDBLOCK, and a FIFO (one not in the cache when
 * looked up) with no reader ENXIO, both then the ring's, which waits.
 * Not for reading: a reader's open of a FIFO would not wait for a
 * writer.  Any other failure is the open's own answer.
 */
static int
create_here(int dirfd, const char *path, int flags, mode_t mode,
    struct stat *opened, bool *have_st)
{
	const char *slash;
	char dir[PATH_MAX];
	struct stat st;
	enum fs_kind kind;
	bool nonblock = !(flags & O_NONBLOCK), local = false;
	uint64_t t0;
	int fd;

	if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		return OPEN_RING;
	/*
	 * The name first: an existing regular file of a local filesystem is
	 * opened (and truncated) here, anything else there is the ring's.
	 * The kernel reads the path: a bad pointer says EFAULT, not a fault
	 * of ours in strrchr below.
	 */
	if (cached_lookup(dirfd, path, flags & O_NOFOLLOW, &st, &kind) == 0) {
		if (!(local = kind == FS_LOCAL && S_ISREG(st.st_mode)))
			return OPEN_RING;
	} else if (errno != ENOENT && errno != EAGAIN) {
		return OPEN_RING;
	}
	/* Not there, or not cached: its directory's filesystem says. */
	if (!local) {
		if ((slash = strrchr(path, '/')) == NULL) {
			strcpy(dir, ".");
		} else if (slash == path) {
			strcpy(dir, "/");
		} else {
			if (slash[1] == '\0' ||
			    (size_t)(slash - path) >= sizeof(dir))
				return OPEN_RING;
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
		}
		local = cached_lookup(dirfd, dir, O_DIRECTORY, &st, &kind) ==
		    0 && kind == FS_LOCAL;
	}
	if (!local || (t0 = inline_begin()) == 0)
		return OPEN_RING;
	fd = GPI_LIBC(openat)(dirfd, path, flags | (nonblock ? O_NONBLOCK : 0),
	    mode);
	inline_end(t0);
	if (fd < 0)
		return errno == EWOULDBLOCK || errno == ENXIO ? OPEN_RING :
		    -errno;
	return opened_here(fd, flags, nonblock, NULL, opened, have_st);
}

/*
 * An fd, -errno, or OPEN_RING.  With an fd, (*opened) its fstat if it
 * made one ((*have_st) true).
 */
static int
open_here(int dirfd, const char *path, int flags, mode_t mode,
    struct stat *opened, bool *have_st)
{
	struct stat st;
	enum fs_kind kind;
	bool nonblock;
	int fd;

	if (atomic_load_explicit(&openat2_refused, memory_order_relaxed))
		return OPEN_RING;
	if (flags & (O_CREAT | O_TRUNC))
		return create_here(dirfd, path, flags, mode, opened, have_st);
	if ((flags & O_TMPFILE) == O_TMPFILE ||
	    (!(flags & O_PATH) && (flags & O_ACCMODE) != O_RDONLY))
		return OPEN_RING;
	if ((flags & O_PATH) != 0) {
		fd = openat2_cached(dirfd, path, flags);
		return fd >= 0 ? fd : errno == ENOENT || errno == ENOTDIR ?
		    -errno : OPEN_RING;
	}
	if (cached_lookup(dirfd, path, flags & (O_NOFOLLOW | O_DIRECTORY), &st,
	    &kind) != 0)
		return errno == ENOENT || errno == ENOTDIR ? -errno : OPEN_RING;
	if (kind == FS_FAR)
		return OPEN_RING;
	nonblock = S_ISREG(st.st_mode) && !(flags & O_NONBLOCK);
	if ((fd = openat2_cached(dirfd, path, flags |
	    (nonblock ? O_NONBLOCK : 0))) < 0)
		return OPEN_RING;
	return opened_here(fd, flags, nonblock, &st, opened, have_st);
}

/*
 * The open; the calling process owns what it opens (fd.c: fdfree), and
 * one opened here is known to be a plain file (fdinfo.c).
 */
static int
green_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct gpi_iowait iw = { .iw_fd = dirfd, .iw_op = GPI_IOOP_OPENAT,
	    .iw_addr = (void *)(uintptr_t)path, .iw_flags = flags,
	    .iw_mode = (int)mode };
	struct openjob j = { dirfd, path, flags, mode };
	struct stat st;
	bool have_st = false;
	unsigned known = 0;
	uint64_t ticket;
	int r;

	if ((r = open_here(dirfd, path, flags, mode, &st, &have_st)) !=
	    OPEN_RING)
		r = (int)ret(r);
	else if (use_ring())
		r = (int)ret(ring_op(&iw));
	else
		r = (int)gpi_pool_call(open_job, &j, 0);
	if (r >= 0) {
		/* Only fdinfo.c's caching (the preload's) wants it here. */
		if (!have_st && gpi_preloaded)
			have_st = fstat(r, &st) == 0;
		if (have_st)
			known = opened_bits(r, &st, flags);
		gpi_fd_opened_stat(r, have_st ? &st : NULL);
		if (known != 0 && (ticket = gpi_fdinfo_begin(r)) != 0)
			gpi_fdinfo_put(r, ticket, known);
	}
	gpi_userret();
	return r;
}

/* The mode argument is there only with O_CREAT or O_TMPFILE. */
#define NEEDS_MODE(flags)	(((flags) & O_CREAT) ||			\
				    ((flags) & O_TMPFILE) == O_TMPFILE)

int
gp_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (NEEDS_MODE(flags)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(openat)(dirfd, path, flags, mode);
	return green_openat(dirfd, path, flags, mode);
}

int
gp_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (NEEDS_MODE(flags)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return gp_openat(AT_FDCWD, path, flags, mode);
}

struct syncjob {
	int		 s_fd;
	bool		 s_data;
};

static long
sync_job(void *arg)
{
	struct syncjob *j = arg;

	return j->s_data ? GPI_LIBC(fdatasync)(j->s_fd) :
	    GPI_LIBC(fsync)(j->s_fd);
}

static int
green_sync(int fd, bool data)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_op = GPI_IOOP_FSYNC,
	    .iw_flags = data };
	struct syncjob j = { fd, data };
	int r;

	if (use_ring())
		r = (int)ret(ring_op(&iw));
	else
		r = (int)gpi_pool_call(sync_job, &j, 0);
	gpi_userret();
	return r;
}

int
gp_fsync(int fd)
{
	if (HOST_FAST(fsync))
		return GPI_LIBC_PEEK(fsync)(fd);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(fsync)(fd);
	return green_sync(fd, false);
}

int
gp_fdatasync(int fd)
{
	if (HOST_FAST(fdatasync))
		return GPI_LIBC_PEEK(fdatasync)(fd);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(fdatasync)(fd);
	return green_sync(fd, true);
}

/* ------------------------------------------------------------ locks */

struct lockjob {
	int		 k_fd;
	int		 k_cmd;		/* 0: flock(k_op) */
	int		 k_op;
	void		*k_arg;
};

static long
lock_job(void *arg)
{
	struct lockjob *j = arg;

	return j->k_cmd == 0 ? GPI_LIBC(flock)(j->k_fd, j->k_op) :
	    GPI_LIBC(fcntl)(j->k_fd, j->k_cmd, j->k_arg);
}

/*
 * A lock that must wait: on a helper, interruptible, restarted as the
 * kernel restarts it.  (nb) is the attempt that does not wait, made on
 * the worker first.
 */
static int
green_lock(struct lockjob *nb, struct lockjob *wait)
{
	long r;

	if ((r = lock_job(nb)) == 0 || (errno != EWOULDBLOCK &&
	    errno != EACCES && errno != EAGAIN))
		return (int)r;
	return (int)gpi_pool_call_intr(lock_job, wait, true);
}

int
gp_flock(int fd, int op)
{
	struct lockjob nb = { fd, 0, op | LOCK_NB, NULL };
	struct lockjob wait = { fd, 0, op, NULL };

	if (HOST_FAST(flock))
		return GPI_LIBC_PEEK(flock)(fd, op);
	if (gpi_io_lwp() == NULL || (op & LOCK_NB) || (op & LOCK_UN))
		return GPI_LIBC(flock)(fd, op);
	return green_lock(&nb, &wait);
}

/*
 * fcntl(2): only the waiting lock commands are ours; the argument is
 * read as a pointer, as glibc's fcntl reads it, and handed on unchanged.
 */
int
gp_fcntl(int fd, int cmd, ...)
{
	struct lockjob nb, wait;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_SETFL) {
		/* O_NONBLOCK may change: what iocall.c knew is void. */
		r = GPI_LIBC(fcntl)(fd, cmd, arg);
		gpi_fdinfo_flush();
		return r;
	}
	if ((cmd != F_SETLKW && cmd != F_OFD_SETLKW) || gpi_io_lwp() == NULL)
		return GPI_LIBC(fcntl)(fd, cmd, arg);
	nb = (struct lockjob){ fd, cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK, 0,
	    arg };
	wait = (struct lockjob){ fd, cmd, 0, arg };
	return green_lock(&nb, &wait);
}

/* ------------------------------------------------------------ names */

struct gaijob {
	const char	*g_node;
	const char	*g_service;
	const struct addrinfo *g_hints;
	struct addrinfo	**g_res;
};

static long
gai_job(void *arg)
{
	struct gaijob *j = arg;

	return GPI_LIBC(getaddrinfo)(j->g_node, j->g_service, j->g_hints,
	    j->g_res);
}

/*
 * A name lookup may read files, talk to a DNS server and time out: on a
 * helper, not interrupted (a kill waits for it to end, as long as the
 * resolver's own timeout at most).
 */
int
gp_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct gaijob j = { node, service, hints, res };
	int r;

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(getaddrinfo)(node, service, hints, res);
	r = (int)gpi_pool_call(gai_job, &j, 0);
	gpi_userret();
	return r;
}

struct gnijob {
	const struct sockaddr *n_sa;
	socklen_t	 n_salen;
	char		*n_host;
	socklen_t	 n_hostlen;
	char		*n_serv;
	socklen_t	 n_servlen;
	int		 n_flags;
};

static long
gni_job(void *arg)
{
	struct gnijob *j = arg;

	return GPI_LIBC(getnameinfo)(j->n_sa, j->n_salen, j->n_host,
	    j->n_hostlen, j->n_serv, j->n_servlen, j->n_flags);
}

int
gp_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	struct gnijob j = { sa, salen, host, hostlen, serv, servlen, flags };
	int r;

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(getnameinfo)(sa, salen, host, hostlen, serv,
		    servlen, flags);
	r = (int)gpi_pool_call(gni_job, &j, 0);
	gpi_userret();
	return r;
}
