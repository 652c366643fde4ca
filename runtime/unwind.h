/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwind.h -- what unwind.c (snapshots, walks, printing) and unwas.c
 * (libunwind and the address space over a snapshot) share.  x86-64
 * builds only; private to those two files.
 */
#ifndef GREENPROC_UNWIND_H
#define GREENPROC_UNWIND_H

#include "internal.h"
#include "arch/x86_64/unwframe.h"

#define UW_NPAGES	16		/* readable pages remembered per walk */
#define UW_NREGS	X86_64_UNW_NREGS

/* What a walk reads: the snapshot, passed to the accessors as their arg. */
struct uw_snap {
	uintptr_t	 s_lo;		/* copied live range [s_lo, s_hi) */
	uintptr_t	 s_hi;
	unsigned char	*s_buf;		/* the copy of [s_lo, s_hi) */
	size_t		 s_cap;		/* bytes allocated at s_buf */
	uintptr_t	 s_stklo;	/* the whole stack [s_stklo, s_stkhi) */
	uintptr_t	 s_stkhi;
	unw_word_t	 s_regs[UW_NREGS];
	uintptr_t	 s_pages[UW_NPAGES]; /* known readable, not stack */
	unsigned	 s_npages;
	unsigned	 s_pagenext;
	unsigned long long s_gen[2];	/* dl_iterate_phdr adds, subs */
	bool		 s_pinned;	/* the stack stays mapped meanwhile */
};

/* libunwind's entry points and our address space: set once by gpi_uw_init. */
struct gpi_uw {
	unw_addr_space_t (*create_addr_space)(unw_accessors_t *, int);
	unw_accessors_t *(*get_accessors)(unw_addr_space_t);
	int	(*init_remote)(unw_cursor_t *, unw_addr_space_t, void *);
	int	(*step)(unw_cursor_t *);
	int	(*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
	int	(*get_proc_name)(unw_cursor_t *, char *, size_t,
		    unw_word_t *);
	unw_addr_space_t local_as;	/* libunwind's own address space */
	unw_accessors_t	 local_acc;	/* its accessors, for delegation */
	unw_addr_space_t as;		/* ours (accessors below) */
	void		*handle;
	char		 why[160];	/* why loading failed */
};
GPI_HIDDEN extern struct gpi_uw gpi_uw;

/* dlopen libunwind, once; gpi_uw.as is NULL and gpi_uw.why says why if
 * that failed. */
GPI_HIDDEN void	gpi_uw_init(void);
/* Copy (len) bytes, a multiple of 8, of memory that may change under us. */
GPI_HIDDEN void	gpi_uw_copy_raw(void *dst, uintptr_t src, size_t len);
/* libunwind's get_proc_name accessor, over snapshot (arg). */
GPI_HIDDEN int	gpi_uw_get_proc_name(unw_addr_space_t as, unw_word_t ip,
    char *buf, size_t len, unw_word_t *offp, void *arg);

#endif /* GREENPROC_UNWIND_H */
