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
 * not block costs nothing here.  close() costs two loads (its number's
 * list head, its bucket's count) when nobody is parked.
 *
 * Where registrations live: per number, a list of the LWPs parked on it
 * (almost always one or none), whose heads are kept in chunks of
 * FDP_CHUNK numbers, made on the first park on one of their numbers and
 * never freed (8 bytes a number: an idle connection's thread is parked,
 * so they count in its memory).  A number past the table, or whose chunk
 * could not be made, goes on its bucket's b_head instead.  The lists are
 * guarded by the bucket's lock either way.  Why not the buckets' lists
 * alone, as before: with thousands of LWPs parked, a bucket's list
 * linked LWPs of unrelated numbers, and every park and leave wrote its
 * neighbours' links, cold lines of other LWPs' stacks (gpi_fdpark_leave
 * was 2-4 % of a 10k-connection echo server's time).  Now a leave
 * writes its number's head and, only if others are parked on the same
 * number, theirs.
 * NOTE: a close that comes before the LWP registered is a close before
 * the call: the next attempt gets EBADF, or the new file of a reused
 * number, as a read racing a close does in the kernel.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "internal.h"

#define NBUCKETS	64

struct fdshare {
	int		 fs_fd;		/* the private duplicate */
	int		 fs_refs;	/* (b) parked LWPs using it */
};

static struct fdbucket {
	gpi_spin_t	 b_lock;	/* the lists of its numbers */
	atomic_int	 b_count;	/* (b, a) registrations on b_head:
					 * stored under b_lock, read without
					 * it by a closer, which then locks */
	struct gpi_fdpark *b_head;	/* (b) numbers with no chunk */
} buckets[NBUCKETS] = {
	[0 ... NBUCKETS - 1] = { .b_lock = GPI_SPIN_INIT(GPI_RANK_FDPARK) },
};

#define FDP_CHUNK_SHIFT	10
#define FDP_CHUNK	(1u << FDP_CHUNK_SHIFT)
#define FDP_NCHUNK	1024u

/*
 * (a) The chunks of list heads: a pointer is set once (CAS from NULL)
 * and never changes.  A head is stored (seq_cst) under its bucket's
 * b_lock and loaded (seq_cst) without it by a closer, which then locks:
 * as b_count was, a registration stored before the closer's load is
 * seen, and one after it is a park after the close.
 */
static _Atomic(void *) fdp_chunks[FDP_NCHUNK];	/* of list heads */

/*
 * (a) Set (seq_cst) before the first registration: until then a closer
 * -- every close under the preload -- has nobody to hand its file to,
 * and reads this passthrough word instead of a page of buckets[].
 */
static atomic_bool fdpark_used GPI_PASSDATA;

static struct fdbucket *
bucket(int fd)
{
	return &buckets[(unsigned)fd % NBUCKETS];
}

/* (fd)'s list head, or NULL: none (past the table, or no chunk made). */
static _Atomic(struct gpi_fdpark *) *
head_of(int fd, bool make)
{
	return gpi_fdtable_slot(fdp_chunks, FDP_NCHUNK, FDP_CHUNK_SHIFT,
	    sizeof(_Atomic(struct gpi_fdpark *)), fd, make);
}

void
gpi_fdpark_enter(struct gpi_fdpark *fp, int fd)
{
	struct fdbucket *b = bucket(fd);
	_Atomic(struct gpi_fdpark *) *h;
	struct gpi_fdpark *first;

	/* One at a time: handlers run unregistered (iocall.c). */
	KASSERT(gpi_curlwp()->l_fdpark == NULL);
	fp->fp_orig = fd;
	atomic_store_explicit(&fp->fp_fd, fd, memory_order_relaxed);
	fp->fp_share = NULL;
	gpi_curlwp()->l_fdpark = fp;
	if (!atomic_load_explicit(&fdpark_used, memory_order_relaxed))
		atomic_store(&fdpark_used, true);
	h = head_of(fd, true);		/* a calloc: not under the lock */
	fp->fp_head = h;
	gpi_spin_lock(&b->b_lock);
	if (h != NULL) {
		first = atomic_load_explicit(h, memory_order_relaxed);
		fp->fp_next = first;
		fp->fp_prev = NULL;
		if (first != NULL)
			first->fp_prev = fp;
		atomic_store(h, fp);
	} else {
		GPI_DLIST_INSERT_HEAD(&b->b_head, fp, fp_next, fp_prev);
		atomic_fetch_add(&b->b_count, 1);
	}
	gpi_spin_unlock(&b->b_lock);
}

void
gpi_fdpark_leave(struct gpi_fdpark *fp)
{
	struct fdbucket *b = bucket(fp->fp_orig);
	struct fdshare *fs = fp->fp_share;
	_Atomic(struct gpi_fdpark *) *h = fp->fp_head;
	bool last = false;

	gpi_curlwp()->l_fdpark = NULL;
	gpi_spin_lock(&b->b_lock);
	if (h != NULL) {
		if (fp->fp_prev != NULL)
			fp->fp_prev->fp_next = fp->fp_next;
		else
			atomic_store(h, fp->fp_next);
		if (fp->fp_next != NULL)
			fp->fp_next->fp_prev = fp->fp_prev;
	} else {
		GPI_DLIST_REMOVE(&b->b_head, fp, fp_next, fp_prev);
		atomic_fetch_sub(&b->b_count, 1);
	}
	if (fs != NULL)
		last = --fs->fs_refs == 0;
	gpi_spin_unlock(&b->b_lock);
	if (last) {
		(void)gpi_rtfd_close(fs->fs_fd);
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
	struct gpi_fdpark *fp, *lists[2];
	_Atomic(struct gpi_fdpark *) *h;
	struct fdshare *fs = NULL;
	int dup = -1, i;

	/* Under a runtime lock: a library's close for the runtime (owner()). */
	if (fd < 0 || gpi_tls_nlocks != 0 || !atomic_load(&fdpark_used))
		return;
	b = bucket(fd);
	h = head_of(fd, false);
	if ((h == NULL || atomic_load(h) == NULL) &&
	    atomic_load(&b->b_count) == 0)
		return;
	gpi_spin_lock(&b->b_lock);
	/*
	 * The number's own list, then the bucket's: a number whose chunk
	 * could not be made when one LWP parked may have one for the next.
	 */
	lists[0] = h != NULL ? atomic_load_explicit(h, memory_order_relaxed) :
	    NULL;
	lists[1] = b->b_head;
	for (i = 0; i < 2; i++) {
		for (fp = lists[i]; fp != NULL; fp = fp->fp_next) {
			if (fp->fp_share != NULL || gpi_fdpark_fd(fp) != fd)
				continue;
			if (fs == NULL) {
				/* A system call under a leaf lock: rare, short. */
				if ((fs = malloc(sizeof(*fs))) == NULL ||
				    (dup = gpi_rtfd_dup(fd)) < 0)
					goto out;
				fs->fs_fd = dup;
				fs->fs_refs = 0;
			}
			fs->fs_refs++;
			fp->fp_share = fs;
			atomic_store_explicit(&fp->fp_fd, dup,
			    memory_order_relaxed);
		}
	}
out:
	gpi_spin_unlock(&b->b_lock);
	if (fs != NULL && fs->fs_refs == 0) {
		if (dup >= 0)
			(void)gpi_rtfd_close(dup);
		free(fs);
	}
}

/* Forward: the owned-descriptor bookkeeping below. */
static void	fd_forget(int fd);

/* One of the runtime's own (rtfd.c): to the program, not open. */
static int
not_open(void)
{
	errno = EBADF;
	return -1;
}

GPI_PASSTEXT int
gp_close(int fd)
{
	int r;

	if (gpi_rtfd_is(fd))
		return not_open();
	fd_forget(fd);		/* before: the number may be reused at once */
	release_number(fd);
	r = GPI_LIBC(close)(fd);
	gpi_fdinfo_forget(fd);	/* after: the old file is gone (fdinfo.c) */
	return r;
}

/*
 * dup2 and dup3 replace (newfd) atomically, so the number is never free:
 * it is recorded as ours afterwards, not forgotten before (a failed call
 * leaves it as it was).  dup2(fd, fd) makes nothing.
 */
GPI_PASSTEXT int
gp_dup2(int oldfd, int newfd)
{
	int r;

	if (gpi_rtfd_is(oldfd) || gpi_rtfd_is(newfd))
		return not_open();
	if (oldfd == newfd)
		return GPI_LIBC(dup2)(oldfd, newfd);
	release_number(newfd);
	if ((r = GPI_LIBC(dup2)(oldfd, newfd)) >= 0)
		gpi_fd_opened(r);	/* forgets what newfd was (fdinfo.c) */
	return r;
}

int
gp_dup3(int oldfd, int newfd, int flags)
{
	int r;

	if (gpi_rtfd_is(oldfd) || gpi_rtfd_is(newfd))
		return not_open();
	if (oldfd != newfd)
		release_number(newfd);
	if ((r = GPI_LIBC(dup3)(oldfd, newfd, flags)) >= 0)
		gpi_fd_opened(r);	/* forgets what newfd was (fdinfo.c) */
	return r;
}

/* ------------------------------------------------------------ fdfree */

/*
 * The descriptors a green process owns, closed at its exit (the seed's
 * fdfree).  The host has one descriptor table for every green process,
 * so "owning" is bookkeeping on top of it: a number that the process
 * made through the runtime (an interposed open, socket, accept, pipe,
 * dup, fopen, opendir... or a gp_ call: gp_accept4, gp_dup2, gp_fd_own)
 * is recorded here with the device and inode it named then; close,
 * fclose and closedir forget it.  Whatever is left is closed by exit1,
 * and gp_exec closes the FD_CLOEXEC ones.
 *
 * NOTE: the record is a claim, checked before it is acted on.  The
 * program may close the number behind the runtime's back (syscall(),
 * close_range, another process of the same host, a host thread) and the
 * host may reuse it; so exit1 and exec fstat the number first and close
 * it only if it still names the recorded device and inode.  A reopened
 * regular file at the same number passes the check: that is the limit.
 *
 * Never recorded: 0-2 (a process that closes and reopens its stdin
 * still shares it with the host), anything made on a host thread or in
 * init (init never exits while the runtime runs), and what the runtime
 * makes for itself (GPI_LIBC calls, which the interposers never see).
 *
 * The table is an open-addressing hash of numbers (linear probing,
 * deletion by backward shift), allocated at the first open: most
 * processes open nothing and pay one NULL test at exit.  Descriptor
 * numbers are dense, so number & mask rarely collides.  Only the
 * process's own LWPs touch it, and its spawner before the child's pid is
 * published; LWPs on different workers race, hence ft_lock (a leaf,
 * GPI_RANK_FDTAB, never held across a system call or malloc).
 */
#define FT_MIN	8

/*
 * 8 bytes a slot: a process owning 10k sockets has a 16384-slot table
 * (3/4 full at most), 128 KiB, where the device and inode in full (24
 * bytes, doubled at half full) took 768 KiB: 79 bytes of bench_echo's
 * 8.1 KiB per idle connection, whose floor is its two stack pages.
 * The check before a close compares a 32-bit tag
 * of what the number named: a number reused behind our back now also
 * passes when its new file's tag is equal (2^-32 for an arbitrary file;
 * never for two inodes of one device that differ only in their low 32
 * bits, as sockets' and pipes' sequential inode numbers do).
 */
struct fdent {
	int		 fe_fd;		/* -1: empty slot */
	uint32_t	 fe_tag;	/* fd_tag() of what it named at open */
};


static unsigned
home(const struct gpi_fdtab *t, int fd)
{
	return (unsigned)fd & (t->ft_cap - 1);
}

/* (fd)'s slot, or -1.  ft_lock held. */
static int
tab_find(const struct gpi_fdtab *t, int fd)
{
	unsigned i;

	if (t->ft_cap == 0)
		return -1;
	for (i = home(t, fd); t->ft_ent[i].fe_fd >= 0;
	    i = (i + 1) & (t->ft_cap - 1))
		if (t->ft_ent[i].fe_fd == fd)
			return (int)i;
	return -1;
}

/* Put (e) in a table known to have room for it.  ft_lock held. */
static void
tab_put(struct gpi_fdtab *t, const struct fdent *e)
{
	unsigned i;

	for (i = home(t, e->fe_fd); t->ft_ent[i].fe_fd >= 0;
	    i = (i + 1) & (t->ft_cap - 1))
		;
	t->ft_ent[i] = *e;
}

/* Empty slot (i), shifting back what probed past it.  ft_lock held. */
static void
tab_del(struct gpi_fdtab *t, unsigned i)
{
	unsigned mask = t->ft_cap - 1, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (t->ft_ent[j].fe_fd < 0)
			break;
		k = home(t, t->ft_ent[j].fe_fd);
		/* Stays if its home is cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->ft_ent[i] = t->ft_ent[j];
		i = j;
	}
	t->ft_ent[i].fe_fd = -1;
}

/* The device and inode of (st) in 32 bits (struct fdent). */
static uint32_t
fd_tag(const struct stat *st)
{
	uint64_t ino = (uint64_t)st->st_ino, dev = (uint64_t)st->st_dev;

	return (uint32_t)(ino ^ (ino >> 32)) ^
	    (uint32_t)((dev ^ (dev >> 32)) * 0x9e3779b1u);
}

/* (p)'s host struct, made if (make) and missing (gpi_proc_host). */
static struct gpi_phost *
tab_get(struct gp_proc *p, bool make)
{
	struct gpi_phost *h = gpi_phost(p);

	return h != NULL || !make ? h : gpi_proc_host(p);
}

/*
 * Record (fd), naming (st), as (p)'s: a new entry, or the old one of a
 * number that was reused behind our back.  ENOMEM leaves it unowned.
 */
static int
own(struct gp_proc *p, int fd, uint32_t tag)
{
	struct gpi_phost *h = tab_get(p, true);
	struct gpi_fdtab *t;
	struct fdent e = { fd, tag }, *v, *old;
	unsigned cap, i;
	int n, slot;

	if (h == NULL)
		return ENOMEM;
	t = &h->h_fdtab;
	for (;;) {
		gpi_spin_lock(&t->ft_lock);
		if ((slot = tab_find(t, fd)) >= 0) {
			t->ft_ent[slot] = e;
			gpi_spin_unlock(&t->ft_lock);
			return 0;
		}
		n = atomic_load_explicit(&h->h_nfds, memory_order_relaxed);
		/* Up to 3/4 full: numbers are dense, so probes stay short. */
		if (4 * (unsigned)(n + 1) <= 3 * t->ft_cap) {
			tab_put(t, &e);
			atomic_store_explicit(&h->h_nfds, n + 1,
			    memory_order_relaxed);
			gpi_spin_unlock(&t->ft_lock);
			return 0;
		}
		/* Grow, allocating unlocked; another LWP may beat us. */
		cap = t->ft_cap != 0 ? 2 * t->ft_cap : FT_MIN;
		gpi_spin_unlock(&t->ft_lock);
		if ((v = malloc(cap * sizeof(*v))) == NULL)
			return ENOMEM;
		for (i = 0; i < cap; i++)
			v[i].fe_fd = -1;
		gpi_spin_lock(&t->ft_lock);
		old = v;
		if (t->ft_cap < cap) {
			struct gpi_fdtab nt = { .ft_cap = cap, .ft_ent = v };

			for (i = 0; i < t->ft_cap; i++)
				if (t->ft_ent[i].fe_fd >= 0)
					tab_put(&nt, &t->ft_ent[i]);
			old = t->ft_ent;
			__atomic_store_n(&t->ft_ent, v, __ATOMIC_RELAXED);
			t->ft_cap = cap;
		}
		gpi_spin_unlock(&t->ft_lock);
		free(old);
	}
}

/* Forget (fd) in (p)'s table.  True if it was there. */
static bool
disown(struct gp_proc *p, int fd)
{
	struct gpi_phost *h = tab_get(p, false);
	struct gpi_fdtab *t;
	int slot;

	if (h == NULL || atomic_load_explicit(&h->h_nfds,
	    memory_order_relaxed) == 0)
		return false;
	t = &h->h_fdtab;
	gpi_spin_lock(&t->ft_lock);
	if ((slot = tab_find(t, fd)) >= 0) {
		tab_del(t, (unsigned)slot);
		atomic_store_explicit(&h->h_nfds, atomic_load_explicit(
		    &h->h_nfds, memory_order_relaxed) - 1,
		    memory_order_relaxed);
	}
	gpi_spin_unlock(&t->ft_lock);
	return slot >= 0;
}

/*
 * The calling green process, or NULL on a host thread, in init, and
 * while the runtime holds a lock of its own.
 * NOTE: the last is the runtime calling a library for itself -- libdw,
 * under dw.lock, opens and caches descriptors for gp_dump's backtraces.
 * Those are the runtime's, not the process's that happened to ask: its
 * exit must not close them under libdw (nor may ft_lock nest in a leaf).
 */
static struct gp_proc *
owner(void)
{
	struct gp_lwp *l = gpi_curlwp();

	return l != NULL && l->l_proc != &gpi_proc0 && gpi_tls_nlocks == 0 ?
	    l->l_proc : NULL;
}

void
gpi_fd_opened_stat(int fd, const struct stat *known)
{
	struct gp_proc *p;
	struct stat st;

	/* A new file under the number: what fdinfo.c knew is void. */
	gpi_fdinfo_forget(fd);
	if (fd <= 2 || (p = owner()) == NULL)
		return;
	if (known == NULL) {
		if (fstat(fd, &st) != 0)
			return;
		known = &st;
	}
	(void)own(p, fd, fd_tag(known));
}

void
gpi_fd_opened(int fd)
{
	gpi_fd_opened_stat(fd, NULL);
}

void
gpi_fd_closing(int fd)
{
	fd_forget(fd);
}

static void
fd_forget(int fd)
{
	struct gp_proc *p;

	if (fd > 2 && (p = owner()) != NULL)
		(void)disown(p, fd);
}

/*
 * Does (e)'s number still name what it named at open?  Never one of the
 * runtime's own (rtfd.c): every eventfd shares one anonymous inode, so a
 * number closed behind our back and reused by the runtime for its own
 * eventfd would pass the tag check.
 */
static bool
still_ours(const struct fdent *e)
{
	struct stat st;

	return !gpi_rtfd_is(e->fe_fd) && fstat(e->fe_fd, &st) == 0 &&
	    fd_tag(&st) == e->fe_tag;
}

/* Close an owned number: an LWP of another process parked on it keeps
 * its open file (release_number), as with gp_close. */
static void
close_owned(int fd)
{
	release_number(fd);
	(void)GPI_LIBC(close)(fd);
	gpi_fdinfo_forget(fd);
}

/*
 * Take (p)'s entries out of its table: the caller is the process's only
 * LWP (exit1, exec), so nothing is added meanwhile; the lock pairs with
 * the last unlock of the LWPs that are gone.  Returns the array (*cap
 * slots) for the caller to free, NULL if there is none.
 */
static struct fdent *
tab_take(struct gp_proc *p, unsigned *cap)
{
	struct gpi_phost *h = tab_get(p, false);
	struct gpi_fdtab *t;
	struct fdent *v;

	*cap = 0;
	if (h == NULL)
		return NULL;
	t = &h->h_fdtab;
	gpi_spin_lock(&t->ft_lock);
	v = t->ft_ent;
	*cap = t->ft_cap;
	__atomic_store_n(&t->ft_ent, NULL, __ATOMIC_RELAXED);
	t->ft_cap = 0;
	atomic_store_explicit(&h->h_nfds, 0, memory_order_relaxed);
	gpi_spin_unlock(&t->ft_lock);
	return v;
}

void
gpi_fdfree(struct gp_proc *p)
{
	struct fdent *v;
	unsigned cap, i;

	/*
	 * The host struct stays, empty: the constructed state for the
	 * struct's next process (struct gpi_phost).
	 */
	if ((v = tab_take(p, &cap)) == NULL)
		return;
	for (i = 0; i < cap; i++)
		if (v[i].fe_fd >= 0 && still_ours(&v[i]))
			close_owned(v[i].fe_fd);
	free(v);
}

void
gpi_fd_exec(struct gp_proc *p)
{
	struct fdent *v;
	unsigned cap, i;
	int fl;

	if ((v = tab_take(p, &cap)) == NULL)
		return;
	for (i = 0; i < cap; i++) {
		if (v[i].fe_fd < 0 || !still_ours(&v[i]))
			continue;	/* not ours any more: forgotten */
		fl = GPI_LIBC(fcntl)(v[i].fe_fd, F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC)) {
			close_owned(v[i].fe_fd);
		} else {
			/* Back in: room was there a moment ago (or ENOMEM:
			 * the number is left to the host). */
			(void)own(p, v[i].fe_fd, v[i].fe_tag);
		}
	}
	free(v);
}

int
gpi_fd_spawn_prepare(struct gp_proc *p, const gp_attr_t *attr)
{
	struct stat st;
	int i, error;

	if (attr == NULL || attr->a_nfds == 0)
		return 0;
	for (i = 0; i < attr->a_nfds; i++) {
		if (fstat(attr->a_fds[i], &st) != 0)
			error = EBADF;
		else
			error = own(p, attr->a_fds[i], fd_tag(&st));
		if (error != 0) {
			gpi_fd_spawn_abort(p);
			return error;
		}
	}
	return 0;
}

void
gpi_fd_spawn_commit(struct gp_proc *pp, const gp_attr_t *attr)
{
	int i;

	if (attr == NULL || pp == &gpi_proc0)
		return;
	for (i = 0; i < attr->a_nfds; i++)
		(void)disown(pp, attr->a_fds[i]);
}

void
gpi_fd_spawn_abort(struct gp_proc *p)
{
	unsigned cap;

	free(tab_take(p, &cap));
}

/* ------------------------------------------------------------ the API */

int
gp_fd_own(int fd)
{
	struct gp_proc *p;
	struct stat st;
	int error;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fd <= 2) {
		errno = EINVAL;
		return -1;
	}
	if ((p = owner()) == NULL) {
		errno = EPERM;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		errno = EBADF;
		return -1;
	}
	if ((error = own(p, fd, fd_tag(&st))) != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

int
gp_fd_disown(int fd)
{
	struct gp_proc *p = owner();

	if (p == NULL || fd < 0 || !disown(p, fd)) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int
gp_attr_setfds(gp_attr_t *attr, const int *fds, int n)
{
	int *v = NULL, i;

	if (attr == NULL || n < 0 || (n > 0 && fds == NULL))
		return EINVAL;
	for (i = 0; i < n; i++)
		if (fds[i] <= 2)
			return EINVAL;
	if (n > 0 && (v = malloc((size_t)n * sizeof(*v))) == NULL)
		return ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = fds[i];
	free(attr->a_fds);
	attr->a_fds = v;
	attr->a_nfds = n;
	return 0;
}
