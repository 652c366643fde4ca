/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdinfo.c -- what the green I/O calls learned about a socket or a plain
 * file, kept per descriptor number so that the next call that would
 * block need not ask the kernel again.
 *
 * When a transfer would block, iocall.c must know what the kernel would
 * do: the program's own O_NONBLOCK means EAGAIN, a socket timeout is a
 * deadline, a regular file has no readiness.  Asking costs F_GETFL and a
 * getsockopt on every blocking transfer: about a tenth of a busy echo
 * server's time.  Here a socket's answer is kept: its kind (a socket; a
 * stream), O_NONBLOCK, and whether SO_RCVTIMEO and SO_SNDTIMEO are zero
 * (a socket with a timeout is not cached in that direction: rare, and
 * its deadline starts at each call anyway).  And a plain file's: that
 * it has no readiness, its O_NONBLOCK, and whether its writes refuse
 * RWF_NOWAIT (ext4's buffered writes do): a program that writes a file
 * a byte at a time (GLib's live-g-file test, 65536 writes) made four
 * system calls more per write before, each write asking all again.
 *
 * Only under the preload (gpi_preloaded): its interposers are what keep
 * the entries true.  A program linked without it changes its
 * descriptors through glibc, unseen, so there nothing is cached.
 *
 * INVARIANT: an entry may be used only while nothing that the preload
 * sees has changed what it describes.  What changes it:
 *  - the number stops naming the file (close, dup2/dup3 over it, fclose,
 *    closedir, freopen, exit1's and exec's close of owned descriptors):
 *    gpi_fdinfo_forget(fd) after the call, when the old file is gone
 *    from the number;
 *  - a new descriptor gets the number (every interposed maker, accept
 *    included): gpi_fdinfo_forget(fd) before the program sees it.  This
 *    also covers a close the preload did not see (syscall(SYS_close),
 *    close_range, glibc's internal closes) whose number an interposed
 *    call then reuses;
 *  - O_NONBLOCK or a timeout changes (fcntl(F_SETFL), ioctl(FIONBIO),
 *    setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)): through any number of the
 *    open file description, a dup or the same socket from an earlier
 *    accept, so the change invalidates every entry: gpi_fdinfo_flush()
 *    bumps the generation, after the call.
 *
 * Forget and store race: a learner reads the entry (its version and the
 * generation) before its system calls and stores its answer with a
 * compare-and-swap against what it read; forget bumps the entry's
 * version and flush the generation, both after the change, so an answer
 * learned from the old file or the old flags never lands.
 *
 * NOTE -- when an entry can be stale (docs: section 23):
 *  - another process that shares the description (a fork, SCM_RIGHTS, a
 *    shared listening socket) sets O_NONBLOCK or a timeout on it; or the
 *    program does so with a raw syscall(2).  The green call then parks
 *    where the native one would have said EAGAIN (or vice versa), as if
 *    it had begun before the change.  Data is never wrong: every attempt
 *    is a MSG_DONTWAIT call on the real description;
 *  - the number is closed and made again both behind the preload (raw
 *    system calls, io_uring, a descriptor received with SCM_RIGHTS into
 *    a number closed by syscall(2)).  If the new file is not a socket,
 *    the first attempt says ENOTSOCK and the entry is dropped
 *    (iocall.c); a new socket with other flags keeps the old answer.
 *
 * The table: FDI_CHUNK entries per chunk, allocated on the first store,
 * never freed (8 bytes a descriptor); numbers past FDI_MAX are not
 * cached.
 */
#include "internal.h"

#define FDI_CHUNK_SHIFT	10
#define FDI_CHUNK	(1u << FDI_CHUNK_SHIFT)
#define FDI_NCHUNK	1024u
#define FDI_MAX		((int)(FDI_CHUNK * FDI_NCHUNK))

/*
 * An entry: bits 0-9 what was learned (GPI_FDI_*, 0: nothing), 10-39 the
 * generation it was learned in (its low 30 bits), 40-63 a version that
 * every forget bumps.
 */
#define E_NBITS		10
#define E_BITMASK	((1u << E_NBITS) - 1)
#define E_GENMASK	0x3fffffffu
#define E_BITS(e)	((unsigned)(e) & E_BITMASK)
#define E_GEN(e)	((uint32_t)((e) >> E_NBITS) & E_GENMASK)
#define E_VER(e)	((e) >> 40)
#define E_MAKE(v, g, b)	(((uint64_t)(v) << 40) |			\
			    ((uint64_t)((g) & E_GENMASK) << E_NBITS) | (b))

/*
 * (a) The chunks: a pointer is set once (CAS from NULL) and never
 * changes.  Entries are atomic words: loaded relaxed, stored by CAS
 * (learner) or fetch_add (forget); no lock.
 */
static _Atomic(void *) chunks[FDI_NCHUNK];	/* of _Atomic uint64_t */
/* (a) Bumped by gpi_fdinfo_flush; an entry of another generation is
 * void.  30 bits of it are kept: it would take 2^30 flag changes during
 * one learn for a stale answer to pass. */
static atomic_uint fdi_gen;
/*
 * (a) Set (seq_cst) before the first chunk is made.  Until then every
 * number is unknown, and a forget -- every close and dup2 under the
 * preload, green or not -- reads this word, which is passthrough data,
 * instead of a page of chunks[] that no process without green code
 * would otherwise touch.
 */
static atomic_bool fdi_any GPI_PASSDATA;

static _Atomic uint64_t *
slot(int fd, bool make)
{
	if (fd < 0 || fd >= FDI_MAX || (!make && !atomic_load(&fdi_any)))
		return NULL;
	if (make && !atomic_load_explicit(&fdi_any, memory_order_relaxed))
		atomic_store(&fdi_any, true);
	return gpi_fdtable_slot(chunks, FDI_NCHUNK, FDI_CHUNK_SHIFT,
	    sizeof(_Atomic uint64_t), fd, make);
}

void *
gpi_fdtable_slot(_Atomic(void *) *tab, unsigned ntab, unsigned shift,
    size_t size, int fd, bool make)
{
	void *c, *mine;

	if (fd < 0 || (unsigned)fd >> shift >= ntab)
		return NULL;
	c = atomic_load_explicit(&tab[(unsigned)fd >> shift],
	    memory_order_acquire);
	if (c == NULL && make) {
		if ((mine = calloc((size_t)1 << shift, size)) == NULL)
			return NULL;
		if (atomic_compare_exchange_strong_explicit(
		    &tab[(unsigned)fd >> shift], &c, mine,
		    memory_order_acq_rel, memory_order_acquire))
			c = mine;
		else
			free(mine);	/* another thread was first: c is its */
	}
	return c != NULL ? (char *)c + ((unsigned)fd &
	    ((1u << shift) - 1)) * size : NULL;
}

unsigned
gpi_fdinfo_getv(int fd, unsigned *ver)
{
	_Atomic uint64_t *s;
	uint64_t e;

	*ver = 0;
	if (!gpi_preloaded || (s = slot(fd, false)) == NULL)
		return 0;
	e = atomic_load_explicit(s, memory_order_acquire);
	if (E_BITS(e) == 0 || E_GEN(e) != (atomic_load_explicit(&fdi_gen,
	    memory_order_acquire) & E_GENMASK))
		return 0;
	/*
	 * The version names the file under the number (every forget bumps
	 * it), so ioepoll.c keys a standing registration with it.  24 bits:
	 * a registration is taken for the new file's only if 2^24 forgets
	 * of this one number came between two of its waits.
	 */
	*ver = (unsigned)E_VER(e) + 1;
	return E_BITS(e);
}

unsigned
gpi_fdinfo_get(int fd)
{
	unsigned ver;

	return gpi_fdinfo_getv(fd, &ver);
}

uint64_t
gpi_fdinfo_begin(int fd)
{
	_Atomic uint64_t *s;
	uint64_t e;
	uint32_t g;

	if (!gpi_preloaded || (s = slot(fd, true)) == NULL)
		return 0;
	/* The generation first: a flush after this voids what we store. */
	g = atomic_load_explicit(&fdi_gen, memory_order_seq_cst);
	e = atomic_load_explicit(s, memory_order_seq_cst);
	return E_MAKE(E_VER(e), g, 1);	/* never 0: "not cached" */
}

void
gpi_fdinfo_put(int fd, uint64_t ticket, unsigned bits)
{
	_Atomic uint64_t *s;
	uint64_t seen;

	if (!gpi_preloaded || (s = slot(fd, false)) == NULL)
		return;
	/*
	 * The ticket holds the version read before the learner's system
	 * calls and the generation of then; the entry must still have that
	 * version (no forget since).  Its other bits are what the entry
	 * held: compare against the word itself.
	 */
	seen = atomic_load_explicit(s, memory_order_relaxed);
	if (E_VER(seen) != E_VER(ticket))
		return;
	(void)atomic_compare_exchange_strong_explicit(s, &seen,
	    E_MAKE(E_VER(ticket), E_GEN(ticket), bits & E_BITMASK),
	    memory_order_seq_cst, memory_order_relaxed);
}

GPI_PASSTEXT void
gpi_fdinfo_forget(int fd)
{
	_Atomic uint64_t *s;
	uint64_t e, n;

	if ((s = slot(fd, false)) == NULL)
		return;
	/* A new version and nothing learned: a racing put's CAS fails. */
	e = atomic_load_explicit(s, memory_order_relaxed);
	do
		n = E_MAKE(E_VER(e) + 1, 0, 0);
	while (!atomic_compare_exchange_weak_explicit(s, &e, n,
	    memory_order_seq_cst, memory_order_relaxed));
}

void
gpi_fdinfo_flush(void)
{
	(void)atomic_fetch_add_explicit(&fdi_gen, 1, memory_order_seq_cst);
}
