/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stdio.c -- glibc's stdio on green threads.
 *
 * glibc's FILE functions read and write through its internal __read and
 * __write, which no interposer sees: a green fgets on an empty pipe would
 * block its worker and every LWP queued there.  So on an LWP each stdio
 * call interposed here first makes sure glibc's call will find what it
 * needs -- data in the FILE's read buffer, or a readable descriptor; room
 * in the write buffer, or a writable descriptor -- parking the LWP on the
 * worker's I/O engine until then (gpi_stdio_fdwait), and only then calls
 * glibc.  On a host thread every function is glibc's, one TLS load away.
 *
 * The FILE's state is read from glibc's public struct _IO_FILE (stable
 * ABI: the getc/putc macros of old binaries use the same pointers): the
 * read buffer is _IO_read_ptr.._IO_read_end, the write buffer
 * _IO_write_ptr.._IO_buf_end, plus the buffering mode in _flags.
 * Readiness is asked with poll(fd, 0) only when glibc would make a
 * system call: a regular file is always ready, so it needs no special
 * case, and a description the program made O_NONBLOCK is never waited on
 * (glibc's call gets its EAGAIN, as natively).
 *
 * FILE locks.  glibc's FILE lock is recursive per *kernel thread* (its
 * owner is the thread's TCB), and all LWPs of a worker share one: a
 * second LWP would walk into a FILE that the first locked and then
 * parked with.  Hence two rules:
 *
 *  (1) No LWP parks while holding glibc's lock of a FILE in these
 *      functions: every wait happens with nothing held, glibc's lock is
 *      then taken with ftrylockfile (parking while another thread holds
 *      it, never blocking the worker in glibc's futex), the buffer is
 *      looked at again under it, and the call goes ahead only if it
 *      will not block.  A read that needs more than one buffer fill
 *      (fgets of a line that arrives in pieces, fread, getdelim) is done
 *      here buffer by buffer, each piece under the lock and none waiting
 *      inside glibc.
 *  (2) flockfile on an LWP, which holds the FILE across whatever the
 *      program does (parks included), takes a green lock as well: a
 *      record FILE -> owning LWP (recursive per LWP) in a small hash
 *      table.  Every stdio call here, and flockfile itself, waits (parks)
 *      while another LWP owns a record of that FILE.  The owner keeps
 *      glibc's lock too, so host threads stay out, as they should.
 *
 * Lost wake-ups: a waiter reads its bucket's generation, counts itself
 * in b_waiters, and tries again before sleeping on the generation; every
 * release here (a record dropped, glibc's lock released by an LWP, or by
 * a host thread through funlockfile) bumps the generation when someone
 * waits.  glibc's lock released inside glibc by a host thread is not
 * seen: a waiter whose trylock failed with no green owner to blame
 * parks with a BACKSTOP_NS timeout.
 *
 * Limits (docs/ARCHITECTURE.md): readiness is not a guarantee (another
 * reader of a shared description may drain it first; a write bigger than
 * the pipe's free room still blocks in glibc); scanf and printf-sized
 * writes may need more than one buffer, and the wide-character, _unlocked
 * and cookie (fopencookie) paths are not covered; an LWP that dies while
 * holding flockfile leaves the FILE locked, as a thread would.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "internal.h"
#include "preload.h"

/* internal.h renames these for the runtime; here they are defined. */
#undef fprintf
#undef vfprintf
#undef fputc
#undef fflush

#define EXPORT		__attribute__((__visibility__("default")))
#define NBUCKET		64		/* power of two */
#define BACKSTOP_NS	(10 * 1000000ull)
#define FMT_STACK	512		/* printf output formatted on the stack */

/*
 * glibc's _flags bits beyond the three struct_FILE.h still names.  ABI:
 * libio's values, unchanged since glibc 2.0.
 */
#define F_UNBUFFERED	0x0002
#define F_NO_READS	0x0004		/* opened for writing only */
#define F_IN_BACKUP	0x0100		/* reading the ungetc area */
#define F_LINE_BUF	0x0200
#define F_PUTTING	0x0800		/* _IO_CURRENTLY_PUTTING */

/* Declared by no header without _FORTIFY_SOURCE, but interposed. */
char	*__fgets_chk(char *, size_t, int, FILE *);
size_t	 __fread_chk(void *, size_t, size_t, size_t, FILE *);
int	 __printf_chk(int, const char *, ...);
int	 __fprintf_chk(FILE *, int, const char *, ...);
int	 __vprintf_chk(int, const char *, va_list);
int	 __vsnprintf_chk(char *, size_t, int, size_t, const char *, va_list);
int	 __isoc99_fscanf(FILE *, const char *, ...);
int	 __isoc99_scanf(const char *, ...);
int	 __isoc99_vscanf(const char *, va_list);
int	 _IO_getc(FILE *);
int	 _IO_putc(int, FILE *);
extern void __chk_fail(void) __attribute__((noreturn));

/*
 * With optimization, stdio.h defines getline, getchar, putchar and
 * vprintf inline (bits/stdio.h); ours have other C names.
 */
EXPORT ssize_t	x_getline(char **, size_t *, FILE *) __asm__("getline");
EXPORT int	x_getchar(void) __asm__("getchar");
EXPORT int	x_putchar(int) __asm__("putchar");
EXPORT int	x_vprintf(const char *, va_list) __asm__("vprintf");
/* <stdio.h> makes these macros or inline functions when optimizing. */
EXPORT size_t	x_fwrite_unlocked(const void *, size_t, size_t, FILE *)
		    __asm__("fwrite_unlocked");
EXPORT int	x_fputs_unlocked(const char *, FILE *)
		    __asm__("fputs_unlocked");
EXPORT int	x_fputc_unlocked(int, FILE *) __asm__("fputc_unlocked");
EXPORT int	x_putc_unlocked(int, FILE *) __asm__("putc_unlocked");
EXPORT int	x_putchar_unlocked(int) __asm__("putchar_unlocked");
EXPORT int	x_fflush_unlocked(FILE *) __asm__("fflush_unlocked");

/* ------------------------------------------------------------ FILE locks */

/* A FILE held by an LWP through flockfile. */
struct frec {
	FILE		*fr_fp;
	struct gp_lwp	*fr_owner;
	unsigned	 fr_count;	/* flockfile depth; owner only */
	struct frec	*fr_next;	/* (b_lock) */
};

static struct bucket {
	gpi_spin_t	 b_lock;	/* Its list; never held across a park */
	struct frec	*b_recs;	/* (b_lock) */
	atomic_int	 b_gen;		/* (a) Bumped by a release when someone
					 * waits; the sleepers' interlock word */
	atomic_int	 b_waiters;	/* (a) LWPs parked on this bucket */
} __attribute__((aligned(64))) buckets[NBUCKET] = {
	[0 ... NBUCKET - 1] = { .b_lock = GPI_SPIN_INIT(GPI_RANK_STDIO) }
};

/* (a) Records in the table: 0, the common case, spares every lookup. */
static atomic_int nrecs GPI_PASSDATA;

static struct bucket *
bucket_of(const FILE *fp)
{
	uintptr_t h = (uintptr_t)fp;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return &buckets[(h >> 58) & (NBUCKET - 1)];
}

/* (b_lock held) */
static struct frec *
find(struct bucket *b, const FILE *fp)
{
	struct frec *r;

	for (r = b->b_recs; r != NULL; r = r->fr_next)
		if (r->fr_fp == fp)
			return r;
	return NULL;
}

/* Does an LWP other than (l) hold (fp) through flockfile? */
static bool
held_by_other(FILE *fp, struct gp_lwp *l)
{
	struct bucket *b;
	struct frec *r;
	bool other;

	if (atomic_load(&nrecs) == 0)
		return false;
	b = bucket_of(fp);
	gpi_spin_lock(&b->b_lock);
	r = find(b, fp);
	other = r != NULL && r->fr_owner != l;
	gpi_spin_unlock(&b->b_lock);
	return other;
}

/* Something about (fp) was released: wake its bucket's waiters, if any. */
static void
wake(FILE *fp)
{
	struct bucket *b = bucket_of(fp);

	if (atomic_load(&b->b_waiters) == 0)
		return;
	atomic_fetch_add(&b->b_gen, 1);
	gpi_wakeup(b);
}

/*
 * Take glibc's lock of (fp) for (l), once no other LWP holds (fp).
 * Parks while it cannot, holding nothing it did not hold before; never
 * enters glibc's futex wait.  Returns 0, or EINTR if (l) was killed
 * while parked (the caller drops what it holds, then gpi_userret()).
 */
static int
acquire(FILE *fp, struct gp_lwp *l)
{
	struct bucket *b = bucket_of(fp);
	bool other;
	int gen, error;

	for (;;) {
		if (!held_by_other(fp, l) && REAL(ftrylockfile)(fp) == 0)
			return 0;
		gen = atomic_load(&b->b_gen);
		atomic_fetch_add(&b->b_waiters, 1);
		other = held_by_other(fp, l);
		if (!other && REAL(ftrylockfile)(fp) == 0) {
			atomic_fetch_sub(&b->b_waiters, 1);
			return 0;
		}
		/* An LWP's release is seen; a host's inside glibc is not. */
		error = gpi_tsleep(b, &b->b_gen, gen, 0,
		    other ? 0 : gpi_now() + BACKSTOP_NS);
		atomic_fetch_sub(&b->b_waiters, 1);
		if (error == EINTR)
			return EINTR;
	}
}

static void
acquire_or_die(FILE *fp, struct gp_lwp *l)
{
	while (acquire(fp, l) != 0)
		gpi_userret();
}

/*
 * Set by enter() when glibc's call it lets go will write while a cancel
 * is in effect: the cancel acts in leave(), after the call.  Per worker
 * (the runtime's TLS), which is right: nothing between enter's return and
 * leave parks.
 */
static __thread bool cancel_after;

/*
 * Release what acquire() took; then act on a cancel enter() deferred to
 * here (its unwinding runs the thread's cleanup handlers, which may use
 * stdio, so the FILE is left first).
 */
static void
leave(FILE *fp)
{
	REAL(funlockfile)(fp);
	wake(fp);
	if (unlikely(cancel_after)) {
		cancel_after = false;
		gpi_testcancel_l(gpi_curlwp());
	}
}

/*
 * A write through glibc failed.  If it was EPIPE, the kernel's SIGPIPE
 * went to the worker thread (which blocks it) from glibc's own write,
 * where no interposer saw it: take it back and post the green one, as a
 * green write(2) does (gpi_io_epipe).  Called with the FILE released,
 * since a handler may use stdio.
 */
static void
write_failed(void)
{
	if (errno == EPIPE)
		gpi_io_epipe();
}

/* flockfile/ftrylockfile on an LWP: 0, or EBUSY (with (wait) false). */
static int
green_lock(FILE *fp, struct gp_lwp *l, bool wait)
{
	struct bucket *b = bucket_of(fp);
	struct frec *r, *spare = NULL;
	int gen, error;

	for (;;) {
		gen = atomic_load(&b->b_gen);
		gpi_spin_lock(&b->b_lock);
		if ((r = find(b, fp)) != NULL && r->fr_owner == l) {
			r->fr_count++;	/* glibc's lock is held already */
			gpi_spin_unlock(&b->b_lock);
			free(spare);
			return 0;
		}
		if (r == NULL && spare != NULL) {
			spare->fr_fp = fp;
			spare->fr_owner = l;
			spare->fr_count = 1;
			spare->fr_next = b->b_recs;
			b->b_recs = spare;
			atomic_fetch_add(&nrecs, 1);
			gpi_spin_unlock(&b->b_lock);
			break;
		}
		if (r == NULL) {
			gpi_spin_unlock(&b->b_lock);
			if ((spare = malloc(sizeof(*spare))) == NULL)
				return ENOMEM;
			continue;
		}
		if (!wait) {
			gpi_spin_unlock(&b->b_lock);
			free(spare);
			return EBUSY;
		}
		atomic_fetch_add(&b->b_waiters, 1);
		gpi_spin_unlock(&b->b_lock);
		error = gpi_tsleep(b, &b->b_gen, gen, 0, 0);
		atomic_fetch_sub(&b->b_waiters, 1);
		if (error == EINTR) {
			free(spare);
			spare = NULL;
			gpi_userret();
		}
	}
	/* The record is ours: now glibc's lock, for the host threads. */
	if (wait ? acquire(fp, l) == 0 : REAL(ftrylockfile)(fp) == 0)
		return 0;
	/* Busy, or killed while waiting: the caller drops the record. */
	gpi_spin_lock(&b->b_lock);
	find(b, fp)->fr_count = 0;
	gpi_spin_unlock(&b->b_lock);
	return wait ? EINTR : EBUSY;
}

/*
 * Drop (l)'s record of (fp) once its count is 0, or one level of it.
 * True if (l) held one (it then holds glibc's lock, to be released).
 */
static bool
green_unlock(FILE *fp, struct gp_lwp *l, bool *last)
{
	struct bucket *b = bucket_of(fp);
	struct frec **rp, *r;

	*last = false;
	gpi_spin_lock(&b->b_lock);
	for (rp = &b->b_recs; (r = *rp) != NULL; rp = &r->fr_next)
		if (r->fr_fp == fp)
			break;
	if (r == NULL || r->fr_owner != l) {
		gpi_spin_unlock(&b->b_lock);
		return false;
	}
	if (r->fr_count > 0 && --r->fr_count > 0) {
		gpi_spin_unlock(&b->b_lock);
		return true;
	}
	*rp = r->fr_next;
	atomic_fetch_sub(&nrecs, 1);
	gpi_spin_unlock(&b->b_lock);
	free(r);
	*last = true;
	return true;
}

EXPORT void
flockfile(FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	bool last;
	int error;

	if (l == NULL) {
		REAL(flockfile)(fp);
		return;
	}
	if ((error = green_lock(fp, l, true)) == 0)
		return;
	if (error == ENOMEM) {
		/* No record: glibc's lock alone (may block the worker). */
		REAL(flockfile)(fp);
		return;
	}
	/* Killed while waiting for glibc's lock: drop the record, die. */
	(void)green_unlock(fp, l, &last);
	wake(fp);
	gpi_userret();
	flockfile(fp);	/* not killed after all (a stop): again */
}

EXPORT int
ftrylockfile(FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	bool last;
	int error;

	if (l == NULL)
		return REAL(ftrylockfile)(fp);
	if ((error = green_lock(fp, l, false)) == ENOMEM)
		return REAL(ftrylockfile)(fp);
	if (error != 0 && green_unlock(fp, l, &last))
		wake(fp);
	return error;
}

EXPORT void
funlockfile(FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	bool last = true;

	/*
	 * Not (l)'s record: a host thread, or a FILE locked without one
	 * (ENOMEM above): glibc's unlock, as glibc would do.
	 */
	if (l == NULL || !green_unlock(fp, l, &last) || last) {
		REAL(funlockfile)(fp);
		wake(fp);
	}
}

/*
 * A fork child: a bucket lock another thread held stays held.  Only
 * green code takes them (held_by_other only with records): nothing to
 * do, and no page of buckets[] touched, in the child of a process whose
 * runtime is down and that holds no record.
 */
void
gpi_stdio_fork_child(void)
{
	int i;

	if (atomic_load_explicit(&gpi_rt.rt_state, memory_order_relaxed) ==
	    GPI_RT_DOWN && atomic_load(&nrecs) == 0)
		return;
	for (i = 0; i < NBUCKET; i++)
		gpi_spin_reset(&buckets[i].b_lock);
}

/* ------------------------------------------------------------ readiness */

/* What glibc's call is about to do to the FILE. */
struct op {
	short		 o_events;	/* POLLIN, POLLOUT */
	bool		 o_flush;	/* fflush: write what is pending */
	bool		 o_nl;		/* puts: a newline follows o_data */
	const char	*o_data;	/* POLLOUT: the bytes it adds */
	size_t		 o_len;
};

static const struct op op_read = { .o_events = POLLIN };

static size_t
rbuf(const FILE *fp)
{
	return fp->_IO_read_ptr < fp->_IO_read_end ?
	    (size_t)(fp->_IO_read_end - fp->_IO_read_ptr) : 0;
}

/*
 * Room in (fp)'s write buffer before glibc must write.  A FILE that has
 * not written yet gets the buffer glibc's first write will allocate:
 * BUFSIZ, or st_blksize if smaller (one fstat, on that first write).
 * Reading (a read-write FILE): 0, i.e. ask for readiness.
 */
static size_t
wroom(const FILE *fp)
{
	struct stat st;

	if (fp->_flags & F_PUTTING)
		return (size_t)(fp->_IO_buf_end - fp->_IO_write_ptr);
	if (fp->_IO_buf_base != NULL)
		return (fp->_flags & F_NO_READS) ?
		    (size_t)(fp->_IO_buf_end - fp->_IO_buf_base) : 0;
	if (fstat(fp->_fileno, &st) != 0)
		return 0;
	return st.st_blksize > 0 && st.st_blksize < BUFSIZ ?
	    (size_t)st.st_blksize : BUFSIZ;
}

/*
 * Would glibc's call make a read or write system call?  (glibc's lock
 * held.)  Wide-oriented streams keep their buffers elsewhere and a
 * FILE with no descriptor (fmemopen, fopencookie) has no readiness: no.
 */
static bool
would_block(const FILE *fp, const struct op *o)
{
	int fl = fp->_flags;

	if (fp->_fileno < 0 || fp->_mode > 0)
		return false;
	if (o->o_events == POLLIN)
		/* An empty ungetc area hides the main buffer; EOF sticks. */
		return rbuf(fp) == 0 && !(fl & (F_IN_BACKUP | _IO_EOF_SEEN));
	if (o->o_flush)
		return (fl & F_PUTTING) &&
		    fp->_IO_write_ptr > fp->_IO_write_base;
	if ((fl & F_UNBUFFERED) || o->o_len + o->o_nl >= wroom(fp))
		return true;
	return (fl & F_LINE_BUF) && (o->o_nl ||
	    memchr(o->o_data, '\n', o->o_len) != NULL);
}

/*
 * Before glibc's call on (fp) by LWP (l): wait until it will not block,
 * then take glibc's lock (acquire).  Returns 0 holding it, or -1 with
 * errno EINTR and the FILE's error flag set, holding nothing: a handler
 * without SA_RESTART interrupted the wait, as it would have interrupted
 * glibc's read or write.
 */
static int
enter(FILE *fp, struct gp_lwp *l, const struct op *o)
{
	struct pollfd pfd;
	bool wait = true;
	int error, fd, fl;

	for (;;) {
		acquire_or_die(fp, l);
		if (!wait || !would_block(fp, o))
			return 0;
		pfd.fd = fd = fp->_fileno;
		pfd.events = o->o_events;
		if (gpi_poll_now(&pfd, 1) != 0) {
			/*
			 * Ready (or an error): glibc's call will read or
			 * write, and glibc's read and write are
			 * cancellation points (optional ones of stdio in
			 * POSIX): a cancel in effect acts, with the FILE
			 * left, as glibc's cleanup unlocks it natively.  A
			 * read's acts here, before anything is read.  A
			 * write's after the call (leave): natively the data
			 * goes into the buffer, the write is cancelled and
			 * the buffer is flushed later (exit), so the bytes
			 * come out either way.  A thread cancelled in a
			 * loop of fprintf to /dev/null never ended (glibc's
			 * tst-cancel9).
			 */
			if (unlikely(atomic_load_explicit(&l->l_flags,
			    memory_order_relaxed) & GPI_LWP_CANCEL)) {
				if (o->o_events == POLLOUT) {
					cancel_after = true;
					return 0;
				}
				leave(fp);
				gpi_testcancel_l(l);
				continue;
			}
			return 0;	/* glibc's call */
		}
		/* The program's own O_NONBLOCK: EAGAIN, as natively. */
		if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_NONBLOCK))
			return 0;
		leave(fp);
		if ((error = gpi_stdio_fdwait(fd, o->o_events)) == EINTR)
			break;
		if (error != 0)
			wait = false;	/* the engine refused: glibc's call */
	}
	acquire_or_die(fp, l);
	fp->_flags |= _IO_ERR_SEEN;
	leave(fp);
	errno = EINTR;
	return -1;
}

/* ------------------------------------------------------------ reading */

/*
 * One piece of a long read: (fp) has buffered data, or a ready
 * descriptor behind an empty buffer (glibc's lock held).  Copy up to
 * (max) bytes, to and including (delim) if (delim) >= 0, without a
 * second system call.  Returns the count; 0 at EOF or on an error.
 */
/*
 * A buffer fill of a FILE on a regular file (or block device) whose next
 * page is not in the page cache would wait for the disk on the worker:
 * such a fill runs on the helper pool instead (issue 14: stdio on files
 * goes where file reads go).  Probed with a one-byte RWF_NOWAIT read at
 * the descriptor's position: cached data (the common case) costs that
 * probe and is read here.  The probe's errors are its own: errno is
 * left as it was, as glibc's read that succeeds leaves it (CPython's ssl
 * module zeroes errno, lets OpenSSL read a PEM file and reads errno after
 * a parse error: a PEM file out of the page cache gave test_ssl an
 * OSError EAGAIN for its SSLError; gr_errno).
 */
static bool
fill_would_wait(const FILE *fp)
{
	struct stat st;
	struct iovec iov;
	off_t pos;
	int saved_errno = errno;
	bool wait;
	char c;

	if (fstat(fp->_fileno, &st) != 0 || !(S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode)) ||
	    (pos = lseek(fp->_fileno, 0, SEEK_CUR)) < 0) {
		errno = saved_errno;
		return false;
	}
	iov.iov_base = &c;
	iov.iov_len = 1;
	wait = preadv2(fp->_fileno, &iov, 1, pos, RWF_NOWAIT) < 0 &&
	    errno == EAGAIN;
	errno = saved_errno;
	return wait;
}

/* FIONREAD of (fd), or 0; errno left alone (a character device: ENOTTY). */
static int
readable_now(int fd)
{
	int avail, saved_errno = errno;

	if (GPI_LIBC(ioctl)(fd, FIONREAD, &avail) != 0 || avail < 0) {
		errno = saved_errno;
		return 0;
	}
	return avail;
}

struct filljob {
	FILE		*fj_fp;
	char		*fj_dst;
	size_t		 fj_max;	/* fread: how much; else one fill */
	int		 fj_c;		/* one fill: the byte, or EOF */
};

/*
 * On a helper thread.  The LWP holds glibc's lock of the FILE through its
 * worker (and a green record, so no other LWP of that worker enters):
 * the unlocked calls.
 */
static long
fill_job(void *arg)
{
	struct filljob *j = arg;

	if (j->fj_dst != NULL)
		return (long)fread_unlocked(j->fj_dst, 1, j->fj_max, j->fj_fp);
	j->fj_c = getc_unlocked(j->fj_fp);
	return 0;
}

/* Run a fill on the pool, the FILE held by (l) meanwhile. */
static long
fill_offloaded(FILE *fp, struct gp_lwp *l, struct filljob *j)
{
	bool last;
	long r;

	if (green_lock(fp, l, true) != 0) {
		(void)green_unlock(fp, l, &last);
		return fill_job(j);	/* no record: here, as before */
	}
	r = gpi_pool_call(fill_job, j, 0);
	if (green_unlock(fp, l, &last) && last) {
		REAL(funlockfile)(fp);
		wake(fp);
	}
	return r;
}

static size_t
piece(FILE *fp, char *dst, size_t max, int delim, bool *found)
{
	size_t have = rbuf(fp);
	const char *p;
	int avail, c;
	struct filljob j = { .fj_fp = fp };

	*found = false;
	if (have == 0 && fp->_fileno >= 0 && fill_would_wait(fp)) {
		if (delim < 0) {
			j.fj_dst = dst;
			j.fj_max = max;
			return (size_t)fill_offloaded(fp, gpi_io_lwp(), &j);
		}
		(void)fill_offloaded(fp, gpi_io_lwp(), &j);
		if ((c = j.fj_c) == EOF)
			return 0;
		*dst = (char)c;
		*found = c == delim;
		return 1;
	}
	if (have == 0 && delim < 0 && fp->_fileno >= 0 &&
	    (avail = readable_now(fp->_fileno)) > 0)
		/* fread: what the descriptor holds, in one go. */
		return REAL(fread)(dst, 1, max < (size_t)avail ? max :
		    (size_t)avail, fp);
	if (have == 0) {
		/* One buffer fill: glibc's underflow reads once. */
		if ((c = REAL(fgetc)(fp)) == EOF)
			return 0;
		*dst = (char)c;
		*found = c == delim;
		return 1;
	}
	if (have > max)
		have = max;
	if (delim >= 0 && (p = memchr(fp->_IO_read_ptr, delim, have)) !=
	    NULL) {
		have = (size_t)(p - fp->_IO_read_ptr) + 1;
		*found = true;
	}
	/* Served from the buffer: glibc's fread copies, reads nothing. */
	return REAL(fread)(dst, 1, have, fp);
}

static char *
green_fgets(char *s, int n, FILE *fp, struct gp_lwp *l)
{
	size_t done = 0, got;
	bool found = false, err;
	int old;

	if (n <= 1)
		return REAL(fgets)(s, n, fp);	/* reads nothing */
	while (!found && done < (size_t)n - 1) {
		if (enter(fp, l, &op_read) != 0)
			return NULL;
		/* fgets's rule: an error now (not an old one) loses the line. */
		old = fp->_flags & _IO_ERR_SEEN;
		fp->_flags &= ~_IO_ERR_SEEN;
		got = piece(fp, s + done, (size_t)n - 1 - done, '\n', &found);
		err = (fp->_flags & _IO_ERR_SEEN) && errno != EAGAIN;
		fp->_flags |= old;
		leave(fp);
		if (err)
			return NULL;
		if (got == 0)
			break;
		done += got;
	}
	if (done == 0)
		return NULL;
	s[done] = '\0';
	return s;
}

EXPORT char *
fgets(char *s, int n, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	if (l == NULL)
		return REAL(fgets)(s, n, fp);
	return green_fgets(s, n, fp, l);
}

EXPORT char *
__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
	if (n > 0 && (size_t)n > size)
		__chk_fail();
	return fgets(s, n, fp);
}

static ssize_t
green_getdelim(char **line, size_t *cap, int delim, FILE *fp,
    struct gp_lwp *l)
{
	size_t done = 0, got, room;
	bool found = false;
	char *nb;

	if (*line == NULL || *cap == 0) {
		if ((nb = realloc(*line, 120)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		*line = nb;
		*cap = 120;
	}
	while (!found) {
		if (*cap - done < 2) {
			room = *cap * 2;
			if ((nb = realloc(*line, room)) == NULL) {
				errno = ENOMEM;
				return -1;
			}
			*line = nb;
			*cap = room;
		}
		if (enter(fp, l, &op_read) != 0)
			return -1;
		got = piece(fp, *line + done, *cap - done - 1,
		    (unsigned char)delim, &found);
		leave(fp);
		if (got == 0)
			break;
		done += got;
	}
	if (done == 0)
		return -1;
	(*line)[done] = '\0';
	return (ssize_t)done;
}

EXPORT ssize_t
getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	if (l == NULL || line == NULL || cap == NULL)
		return REAL(getdelim)(line, cap, delim, fp);
	return green_getdelim(line, cap, delim, fp, l);
}

EXPORT ssize_t
__getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
	return getdelim(line, cap, delim, fp);
}

EXPORT ssize_t
x_getline(char **line, size_t *cap, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	if (l == NULL || line == NULL || cap == NULL)
		return REAL(getline)(line, cap, fp);
	return green_getdelim(line, cap, '\n', fp, l);
}

EXPORT size_t
fread(void *buf, size_t size, size_t n, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	size_t want, done = 0, got;
	bool found;

	if (l == NULL || __builtin_mul_overflow(size, n, &want) || want == 0)
		return REAL(fread)(buf, size, n, fp);
	while (done < want) {
		if (enter(fp, l, &op_read) != 0)
			break;
		got = piece(fp, (char *)buf + done, want - done, -1, &found);
		leave(fp);
		if (got == 0)
			break;
		done += got;
	}
	return done / size;
}

EXPORT size_t
__fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
	size_t want;

	if (__builtin_mul_overflow(size, n, &want) || want > buflen)
		__chk_fail();
	return fread(buf, size, n, fp);
}

/* One character: a wait if the buffer is empty, then glibc's fgetc. */
static int
green_getc(FILE *fp, struct gp_lwp *l)
{
	int c;

	if (enter(fp, l, &op_read) != 0)
		return EOF;
	c = REAL(fgetc)(fp);
	leave(fp);
	return c;
}

EXPORT int
fgetc(FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(fgetc)(fp) : green_getc(fp, l);
}

EXPORT int
getc(FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(getc)(fp) : green_getc(fp, l);
}

EXPORT int
_IO_getc(FILE *fp)
{
	return getc(fp);
}

EXPORT int
x_getchar(void)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(getchar)() : green_getc(stdin, l);
}

/*
 * scanf: only its first read is waited for (it may need more, which
 * then blocks the worker: docs).  (iso) is the C99 variant, whose %a is
 * a float rather than GNU's allocation flag.
 */
static int
green_vfscanf(FILE *fp, bool iso, const char *fmt, va_list ap)
{
	struct gp_lwp *l = gpi_io_lwp();
	int r;

	if (l == NULL)
		return iso ? REAL(__isoc99_vfscanf)(fp, fmt, ap) :
		    REAL(vfscanf)(fp, fmt, ap);
	if (enter(fp, l, &op_read) != 0)
		return EOF;
	r = iso ? REAL(__isoc99_vfscanf)(fp, fmt, ap) :
	    REAL(vfscanf)(fp, fmt, ap);
	leave(fp);
	return r;
}

/*
 * glibc's stdio.h sends scanf, fscanf, vscanf and vfscanf to their
 * __isoc99_ forms (even with _GNU_SOURCE): the plain names, which old
 * binaries and -std=c89 code call, are defined under other C names.
 */
EXPORT int	gnu_vfscanf(FILE *, const char *, va_list) __asm__("vfscanf");
EXPORT int	gnu_vscanf(const char *, va_list) __asm__("vscanf");
EXPORT int	gnu_fscanf(FILE *, const char *, ...) __asm__("fscanf");
EXPORT int	gnu_scanf(const char *, ...) __asm__("scanf");

EXPORT int
gnu_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return green_vfscanf(fp, false, fmt, ap);
}

EXPORT int
__isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return green_vfscanf(fp, true, fmt, ap);
}

EXPORT int
gnu_vscanf(const char *fmt, va_list ap)
{
	return green_vfscanf(stdin, false, fmt, ap);
}

EXPORT int
__isoc99_vscanf(const char *fmt, va_list ap)
{
	return green_vfscanf(stdin, true, fmt, ap);
}

#define SCANF(fp, iso, fmt) ({						\
	va_list ap_;							\
	int r_;								\
	va_start(ap_, fmt);						\
	r_ = green_vfscanf(fp, iso, fmt, ap_);				\
	va_end(ap_);							\
	r_;								\
})

EXPORT int
gnu_fscanf(FILE *fp, const char *fmt, ...)
{
	return SCANF(fp, false, fmt);
}

EXPORT int
__isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
	return SCANF(fp, true, fmt);
}

EXPORT int
gnu_scanf(const char *fmt, ...)
{
	return SCANF(stdin, false, fmt);
}

EXPORT int
__isoc99_scanf(const char *fmt, ...)
{
	return SCANF(stdin, true, fmt);
}

/* ------------------------------------------------------------ writing */

EXPORT size_t
fwrite(const void *buf, size_t size, size_t n, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	struct op o = { .o_events = POLLOUT, .o_data = buf };
	size_t r;

	if (l == NULL)
		return REAL(fwrite)(buf, size, n, fp);
	if (__builtin_mul_overflow(size, n, &o.o_len))
		o.o_len = SIZE_MAX;
	if (enter(fp, l, &o) != 0)
		return 0;
	r = REAL(fwrite)(buf, size, n, fp);
	leave(fp);
	if (r < n)
		write_failed();
	return r;
}

EXPORT int
fputs(const char *s, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();
	struct op o = { .o_events = POLLOUT, .o_data = s };
	int r;

	if (l == NULL)
		return REAL(fputs)(s, fp);
	o.o_len = strlen(s);
	if (enter(fp, l, &o) != 0)
		return EOF;
	r = REAL(fputs)(s, fp);
	leave(fp);
	if (r == EOF)
		write_failed();
	return r;
}

EXPORT int
puts(const char *s)
{
	struct gp_lwp *l = gpi_io_lwp();
	struct op o = { .o_events = POLLOUT, .o_data = s, .o_nl = true };
	FILE *fp = stdout;
	int r;

	if (l == NULL)
		return REAL(puts)(s);
	o.o_len = strlen(s);
	if (enter(fp, l, &o) != 0)
		return EOF;
	r = REAL(puts)(s);
	leave(fp);
	if (r == EOF)
		write_failed();
	return r;
}

static int
green_putc(int c, FILE *fp, struct gp_lwp *l)
{
	char ch = (char)c;
	struct op o = { .o_events = POLLOUT, .o_data = &ch, .o_len = 1 };
	int r;

	if (enter(fp, l, &o) != 0)
		return EOF;
	r = REAL(fputc)(c, fp);
	leave(fp);
	if (r == EOF)
		write_failed();
	return r;
}

EXPORT int
fputc(int c, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(fputc)(c, fp) : green_putc(c, fp, l);
}

EXPORT int
putc(int c, FILE *fp)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(putc)(c, fp) : green_putc(c, fp, l);
}

EXPORT int
_IO_putc(int c, FILE *fp)
{
	return putc(c, fp);
}

EXPORT int
x_putchar(int c)
{
	struct gp_lwp *l = gpi_io_lwp();

	return l == NULL ? REAL(putchar)(c) : green_putc(c, stdout, l);
}

EXPORT int
fflush(FILE *fp)
{
	static const struct op o = { .o_events = POLLOUT, .o_flush = true };
	struct gp_lwp *l = gpi_io_lwp();
	int r;

	/* fflush(NULL): every stream; not waited for (docs). */
	if (l == NULL || fp == NULL)
		return REAL(fflush)(fp);
	if (enter(fp, l, &o) != 0)
		return EOF;
	r = REAL(fflush)(fp);
	leave(fp);
	if (r == EOF)
		write_failed();
	return r;
}

/*
 * The _unlocked writes (coreutils and others map fwrite and friends to
 * them), and __overflow, which the inline putc_unlocked of <stdio.h>
 * calls when the buffer is full.  Their caller holds the FILE (or does
 * not care), so no lock is taken here: wait until glibc's write will not
 * block, call it, and turn an EPIPE into the green SIGPIPE.
 */
static int
bare_wait(FILE *fp, const struct op *o)
{
	struct pollfd pfd;
	int error, fl;

	while (would_block(fp, o)) {
		pfd.fd = fp->_fileno;
		pfd.events = o->o_events;
		if (gpi_poll_now(&pfd, 1) != 0 ||
		    (fl = fcntl(pfd.fd, F_GETFL)) < 0 || (fl & O_NONBLOCK))
			return 0;
		if ((error = gpi_stdio_fdwait(pfd.fd, o->o_events)) == EINTR) {
			fp->_flags |= _IO_ERR_SEEN;
			errno = EINTR;
			return -1;
		}
		if (error != 0)
			return 0;
	}
	return 0;
}

EXPORT size_t
x_fwrite_unlocked(const void *buf, size_t size, size_t n, FILE *fp)
{
	struct op o = { .o_events = POLLOUT, .o_data = buf };
	size_t r;

	if (gpi_io_lwp() == NULL)
		return REAL(fwrite_unlocked)(buf, size, n, fp);
	if (__builtin_mul_overflow(size, n, &o.o_len))
		o.o_len = SIZE_MAX;
	if (bare_wait(fp, &o) != 0)
		return 0;
	if ((r = REAL(fwrite_unlocked)(buf, size, n, fp)) < n)
		write_failed();
	return r;
}

EXPORT int
x_fputs_unlocked(const char *str, FILE *fp)
{
	struct op o = { .o_events = POLLOUT, .o_data = str };
	int r;

	if (gpi_io_lwp() == NULL)
		return REAL(fputs_unlocked)(str, fp);
	o.o_len = strlen(str);
	if (bare_wait(fp, &o) != 0)
		return EOF;
	if ((r = REAL(fputs_unlocked)(str, fp)) == EOF)
		write_failed();
	return r;
}

static int
bare_putc(int c, FILE *fp, int (*real)(int, FILE *))
{
	char ch = (char)c;
	struct op o = { .o_events = POLLOUT, .o_data = &ch, .o_len = 1 };
	int r;

	if (bare_wait(fp, &o) != 0)
		return EOF;
	if ((r = real(c, fp)) == EOF)
		write_failed();
	return r;
}

EXPORT int
x_fputc_unlocked(int c, FILE *fp)
{
	if (gpi_io_lwp() == NULL)
		return REAL(fputc_unlocked)(c, fp);
	return bare_putc(c, fp, REAL(fputc_unlocked));
}

EXPORT int
x_putc_unlocked(int c, FILE *fp)
{
	if (gpi_io_lwp() == NULL)
		return REAL(putc_unlocked)(c, fp);
	return bare_putc(c, fp, REAL(putc_unlocked));
}

EXPORT int
x_putchar_unlocked(int c)
{
	if (gpi_io_lwp() == NULL)
		return REAL(putchar_unlocked)(c);
	return bare_putc(c, stdout, REAL(fputc_unlocked));
}

EXPORT int
__overflow(FILE *fp, int c)
{
	char ch = (char)c;
	struct op o = { .o_events = POLLOUT, .o_data = &ch, .o_len = 1 };
	int r;

	if (gpi_io_lwp() == NULL)
		return REAL(__overflow)(fp, c);
	if (bare_wait(fp, &o) != 0)
		return EOF;
	if ((r = REAL(__overflow)(fp, c)) == EOF)
		write_failed();
	return r;
}

EXPORT int
x_fflush_unlocked(FILE *fp)
{
	static const struct op o = { .o_events = POLLOUT, .o_flush = true };
	int r;

	if (gpi_io_lwp() == NULL || fp == NULL)
		return REAL(fflush_unlocked)(fp);
	if (bare_wait(fp, &o) != 0)
		return EOF;
	if ((r = REAL(fflush_unlocked)(fp)) == EOF)
		write_failed();
	return r;
}

/*
 * printf and friends on an LWP: formatted first (vsnprintf, or its _chk
 * form with (flag) >= 0), so that the wait knows what will be written,
 * then written as fwrite would.  Returns what printf returns.
 */
static int
format(char *buf, size_t len, int flag, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = flag < 0 ? vsnprintf(buf, len, fmt, aq) :
	    __vsnprintf_chk(buf, len, flag, len, fmt, aq);
	va_end(aq);
	return n;
}

static int
green_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap)
{
	struct gp_lwp *l = gpi_io_lwp();
	struct op o = { .o_events = POLLOUT };
	char stk[FMT_STACK], *buf = stk;
	size_t w;
	int n;

	if (l == NULL)
		return flag < 0 ? REAL(vfprintf)(fp, fmt, ap) :
		    REAL(__vfprintf_chk)(fp, flag, fmt, ap);
	if ((n = format(stk, sizeof(stk), flag, fmt, ap)) < 0)
		return -1;
	if ((size_t)n >= sizeof(stk)) {
		if ((buf = malloc((size_t)n + 1)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		(void)format(buf, (size_t)n + 1, flag, fmt, ap);
	}
	o.o_data = buf;
	o.o_len = (size_t)n;
	w = 0;
	if (enter(fp, l, &o) == 0) {
		w = REAL(fwrite)(buf, 1, (size_t)n, fp);
		leave(fp);
		if (w < (size_t)n)
			write_failed();
	}
	if (buf != stk)
		free(buf);
	return w == (size_t)n ? n : -1;
}

EXPORT int
vfprintf(FILE *fp, const char *fmt, va_list ap)
{
	return green_vfprintf(fp, -1, fmt, ap);
}

EXPORT int
__vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	return green_vfprintf(fp, flag, fmt, ap);
}

EXPORT int
x_vprintf(const char *fmt, va_list ap)
{
	return green_vfprintf(stdout, -1, fmt, ap);
}

EXPORT int
__vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return green_vfprintf(stdout, flag, fmt, ap);
}

#define PRINTF(fp, flag, fmt) ({					\
	va_list ap_;							\
	int r_;								\
	va_start(ap_, fmt);						\
	r_ = green_vfprintf(fp, flag, fmt, ap_);			\
	va_end(ap_);							\
	r_;								\
})

EXPORT int
fprintf(FILE *fp, const char *fmt, ...)
{
	return PRINTF(fp, -1, fmt);
}

EXPORT int
__fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	return PRINTF(fp, flag, fmt);
}

EXPORT int
printf(const char *fmt, ...)
{
	return PRINTF(stdout, -1, fmt);
}

EXPORT int
__printf_chk(int flag, const char *fmt, ...)
{
	return PRINTF(stdout, flag, fmt);
}

/* ------------------------------------------------------------ resolve */

#define RESOLVE(name) __atomic_store_n(&gpi_real.name,			\
	(__typeof__(gpi_real.name))gpi_preload_resolve_one(#name),	\
	__ATOMIC_RELAXED)

void
gpi_stdio_resolve(void)
{
	RESOLVE(flockfile);
	RESOLVE(ftrylockfile);
	RESOLVE(funlockfile);
	RESOLVE(fgets);
	RESOLVE(getline);
	RESOLVE(getdelim);
	RESOLVE(fread);
	RESOLVE(fgetc);
	RESOLVE(getc);
	RESOLVE(getchar);
	RESOLVE(vfscanf);
	RESOLVE(__isoc99_vfscanf);
	RESOLVE(fwrite);
	RESOLVE(fputs);
	RESOLVE(puts);
	RESOLVE(fputc);
	RESOLVE(putc);
	RESOLVE(putchar);
	RESOLVE(vfprintf);
	RESOLVE(__vfprintf_chk);
	RESOLVE(fflush);
	RESOLVE(fwrite_unlocked);
	RESOLVE(fputs_unlocked);
	RESOLVE(fputc_unlocked);
	RESOLVE(putc_unlocked);
	RESOLVE(putchar_unlocked);
	RESOLVE(fflush_unlocked);
	RESOLVE(__overflow);
}
