/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fd.c -- descriptors that green threads are parked on.
 *
 * In the kernel a blocked read holds a reference to the open file it
 * started on: another thread's close(2) or dup2(2) over the number does
 * not end it, and it never reads from whatever file later gets that
 * number.  A parked LWP holds only the number (its next attempt is a new
 * system call), so the runtime keeps the file for it: an LWP about to
 * park registers its descriptor here (struct gpi_fdpark, on its stack),
 * and gp_close/gp_dup2/gp_dup3 -- the preload's close, dup2 and dup3 --
 * first give every LWP parked on that number a private duplicate
 * (F_DUPFD_CLOEXEC) of the same open file, shared among them and closed
 * by the last to leave.  The engine's own wait needs nothing: an
 * io_uring poll holds the file, and an epoll registration lives as long
 * as the file does, which the duplicate keeps open.
 *
 * The registration is taken only on the way to park, so a call that does
 * not block costs nothing here.  close() costs one load of its bucket's
 * count when nobody is parked.
 * NOTE: a close that comes before the LWP registered is a close before
 * the call: the next attempt gets EBADF, or the new file of a reused
 * number, as a read racing a close does in the kernel.
 */
#include <fcntl.h>

#include "internal.h"

#define NBUCKETS	64

struct fdshare {
	int		 fs_fd;		/* the private duplicate */
	int		 fs_refs;	/* (b) parked LWPs using it */
};

static struct fdbucket {
	gpi_spin_t	 b_lock;
	atomic_int	 b_count;	/* (b, a) registrations here: stored
					 * under b_lock, read without it by
					 * a closer, which then locks */
	struct gpi_fdpark *b_head;	/* (b) */
} buckets[NBUCKETS] = {
	[0 ... NBUCKETS - 1] = { .b_lock = GPI_SPIN_INIT(GPI_RANK_FDPARK) },
};

static struct fdbucket *
bucket(int fd)
{
	return &buckets[(unsigned)fd % NBUCKETS];
}

void
gpi_fdpark_enter(struct gpi_fdpark *fp, int fd)
{
	struct fdbucket *b = bucket(fd);

	fp->fp_orig = fd;
	atomic_store_explicit(&fp->fp_fd, fd, memory_order_relaxed);
	fp->fp_share = NULL;
	gpi_spin_lock(&b->b_lock);
	GPI_DLIST_INSERT_HEAD(&b->b_head, fp, fp_next, fp_prev);
	atomic_fetch_add(&b->b_count, 1);
	gpi_spin_unlock(&b->b_lock);
}

void
gpi_fdpark_leave(struct gpi_fdpark *fp)
{
	struct fdbucket *b = bucket(fp->fp_orig);
	struct fdshare *fs = fp->fp_share;
	bool last = false;

	gpi_spin_lock(&b->b_lock);
	GPI_DLIST_REMOVE(&b->b_head, fp, fp_next, fp_prev);
	atomic_fetch_sub(&b->b_count, 1);
	if (fs != NULL)
		last = --fs->fs_refs == 0;
	gpi_spin_unlock(&b->b_lock);
	if (last) {
		(void)GPI_LIBC(close)(fs->fs_fd);
		free(fs);
	}
}

int
gpi_fdpark_fd(struct gpi_fdpark *fp)
{
	return atomic_load_explicit(&fp->fp_fd, memory_order_relaxed);
}

/*
 * (fd) is about to stop naming its open file: hand the file to whoever
 * is parked on it.  If the duplicate cannot be made (EMFILE), they are
 * left on the number, as before this existed.
 */
static void
release_number(int fd)
{
	struct fdbucket *b;
	struct gpi_fdpark *fp;
	struct fdshare *fs = NULL;
	int dup = -1;

	if (fd < 0)
		return;
	b = bucket(fd);
	if (atomic_load(&b->b_count) == 0)
		return;
	gpi_spin_lock(&b->b_lock);
	for (fp = b->b_head; fp != NULL; fp = fp->fp_next) {
		if (fp->fp_share != NULL || gpi_fdpark_fd(fp) != fd)
			continue;
		if (fs == NULL) {
			/* A system call under a leaf lock: rare, and short. */
			if ((fs = malloc(sizeof(*fs))) == NULL ||
			    (dup = GPI_LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, 0)) < 0)
				break;
			fs->fs_fd = dup;
			fs->fs_refs = 0;
		}
		fs->fs_refs++;
		fp->fp_share = fs;
		atomic_store_explicit(&fp->fp_fd, dup, memory_order_relaxed);
	}
	gpi_spin_unlock(&b->b_lock);
	if (fs != NULL && fs->fs_refs == 0) {
		if (dup >= 0)
			(void)GPI_LIBC(close)(dup);
		free(fs);
	}
}

int
gp_close(int fd)
{
	release_number(fd);
	return GPI_LIBC(close)(fd);
}

int
gp_dup2(int oldfd, int newfd)
{
	if (oldfd != newfd)
		release_number(newfd);
	return GPI_LIBC(dup2)(oldfd, newfd);
}

int
gp_dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd)
		release_number(newfd);
	return GPI_LIBC(dup3)(oldfd, newfd, flags);
}
