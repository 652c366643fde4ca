/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwind.c -- backtraces of suspended green LWPs, from their saved
 * registers, with libunwind loaded by dlopen() on first use.
 *
 * Interface (internal.h):
 *
 *	GPI_HIDDEN int gpi_unwind_lwp(const struct gp_lwp *l, FILE *out,
 *	    const char *indent);
 *
 *	Print the backtrace of (l) to (out), one frame a line, each line
 *	starting with (indent):
 *		#n 0xPC function+0xoff (file:line)
 *	("(file:line)" only where libdw finds line information; "??" for
 *	code no symbol table names).  An LWP that is running (LONPROC,
 *	or current on its worker) prints "(running on a worker)"; one not
 *	started yet prints the function it will start in; one exiting
 *	prints "(exiting)".  Returns 0, or -1 with one line saying why if
 *	libunwind cannot be loaded (-1 without output if l or out is NULL).
 *	Never waits for the LWP and never faults on a stack that changes
 *	under it.  Cost: the first call loads libunwind and libdw (a few
 *	ms); then a few us a frame, since libdw keeps what it read.
 *	Stack: it needs 40 KB of the caller's stack, and prints file:line
 *	only with 512 KB to spare (libdw's line tables take ~160 KB): host
 *	threads and gp_dump's own thread, not a default 64 KB green stack,
 *	whose dumps show function+0xoff only.
 *	The caller keeps (l) from being freed: it holds l->l_proc->p_lock
 *	with (l) on p_lwps, or otherwise knows the LWP cannot be reaped
 *	meanwhile.  Any thread may call it, green or host, and several at
 *	once.
 *
 *	GPI_HIDDEN struct gpi_unwind *gpi_unwind_new(void);
 *	GPI_HIDDEN void gpi_unwind_free(struct gpi_unwind *u);
 *	GPI_HIDDEN void gpi_unwind_take(struct gpi_unwind *u,
 *	    const struct gp_lwp *l);
 *	GPI_HIDDEN int gpi_unwind_show(struct gpi_unwind *u, FILE *out,
 *	    const char *indent, bool last);
 *
 *	The same in two steps, for a caller that pins (l) with a spinlock
 *	(gp_dump: p_lock) and must not print or unwind under it.  take,
 *	under the pin, copies into (u) everything show needs: the snapshot
 *	(1. below, retried without yielding), l's state, l_fn and stack
 *	bounds; no I/O, no libunwind, no lock, only a malloc when the copy
 *	buffer grows.  show, after the pin is dropped, walks the copy and
 *	prints; it never touches (l) or its stack, which may be gone by
 *	then (reads of the stack outside the copy fail; see uw_access_mem).
 *	show returns 1, printing nothing, when the walk is not whole and
 *	(last) is false: the caller may pin (l) again, take and show again
 *	(at most UW_TRIES times, like gpi_unwind_lwp); otherwise as
 *	gpi_unwind_lwp.  A gpi_unwind may be taken again and again.
 *
 *	GPI_HIDDEN int gpi_unwind_regs(const struct gp_lwp *l,
 *	    const uint64_t regs[8], FILE *out, const char *indent);
 *
 *	The same for (l), an LWP that died of a stack overflow (fault.c):
 *	its stack is intact and will never run again, and regs[] = { rip,
 *	rsp, rbp, rbx, r12, r13, r14, r15 } are the fault's.  The copy is
 *	[rsp, top of stack), taken once (nothing moves it); rsp may lie in
 *	or below the guard page, and then the copy starts at l_stklo and
 *	reads below it fail cleanly like any other checked read.  Frame #0
 *	is the faulting instruction itself, not a return address: cursors
 *	from init_remote start with use_prev_instr clear, so libunwind
 *	looks its unwind entry and name up at rip exactly (rip - 1 would
 *	be the previous function when the fault is a function's first
 *	instruction, a push or a stack probe, as overflows often are),
 *	and its file:line is looked up at rip too.  Output format, frame
 *	cap and room check as for gpi_unwind_lwp.  Returns 0, or -1 with
 *	one line saying why nothing could be walked (no registers, sp
 *	off the stack, no room, no libunwind, no memory).  The caller
 *	keeps (l) from being freed
 *	(the proxy of fault.c: a dead LWP sits on p_zlwps until its
 *	process is reaped, which waits for the proxy's exit1).
 *
 * Why not simply unw_init_local() on a ucontext built from the saved
 * frame: a dump runs while other workers run, so a "suspended" LWP may
 * be resumed halfway through its walk and rewrite its stack; a local
 * cursor follows the torn values wherever they point and faults.  So:
 *
 *   1. Snapshot.  The live part of the stack, [c_sp, top of stack), is
 *	copied (up to UW_COPY_MAX bytes), bracketed by reads of everything
 *	a switch changes: l_stat, the worker's w_curlwp, l_ctx (c_sp, and
 *	c_pc and c_bp, the other registers the x86-64 switch keeps there,
 *	which the walk starts from) and l_nvcsw (bumped by every switch
 *	out, gpi_mi_switch).  If any moved the copy may be torn: try again,
 *	then give up with a note.  One window stays open: an LWP that set
 *	its state (LSLEEP/LRUN) and handed w_curlwp to the next context but
 *	has not yet stored its l_ctx in gpi_md_switch looks suspended with
 *	its previous one; if it then saves the same words (same call depth:
 *	c_pc and c_bp are often the same too) the copy may be torn.  So a
 *	walk must also look whole (reach gpi_md_trampoline, see below) or
 *	the snapshot is taken again; what survives UW_TRIES is printed
 *	with a note.  At worst a trace is stale (where the LWP was a
 *	moment ago).  It never faults: see 2.
 *   2. Unwind the copy with a libunwind "remote" address space of our own
 *	(unwas.c; the generic _Ux86_64_* API of libunwind-x86_64.so.8):
 *	registers come from the snapshot; a memory read inside the copied
 *	range is served from the copy; any other read is checked first
 *	(process_vm_readv on ourselves, which fails with EFAULT instead of
 *	faulting; or, where that call is not allowed, the address must lie
 *	in a loaded object's segment or in the LWP's own stack).  Unwind
 *	tables come from libunwind's own local address space:
 *	find_proc_info is delegated to it.  Names come from the objects'
 *	ELF symbol tables (unwsym.c), then from libunwind's get_proc_name
 *	(see unwsym.c for why in that order), cached by address.
 *
 * Saved registers: runtime/arch/x86_64/unwframe.h decodes a suspended
 * context (rip, rsp and rbp from l_ctx, where the inline switch of
 * switch.h keeps them; under ARCH=generic, where the weak
 * gpi_md_trampoline is NULL, the ucontext_t of swapcontext() at c_sp)
 * and a fault's registers.  Frame #0 of a suspended LWP is its resume
 * address, exact like a fault's rip (ARCH=generic: a return address).
 * A never-run LWP resumes at gpi_md_trampoline, whose CFI marks rip
 * undefined, so every walk ends there.
 *
 * Names and file:line are unwsym.c's.
 */
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

GPI_HIDDEN int	gpi_unwind_lwp(const struct gp_lwp *l, FILE *out,
    const char *indent);
GPI_HIDDEN int	gpi_unwind_regs(const struct gp_lwp *l, const uint64_t regs[8],
    FILE *out, const char *indent);

#if defined(__x86_64__)

#include "unwind.h"

#define UW_MAXFRAMES	64		/* frames printed at most */
#define UW_COPY_MAX	((size_t)1 << 20)	/* bytes of stack copied */
#define UW_TRIES	6		/* snapshots before giving up */

/* ARCH=x86_64 only (trampoline.S): NULL under ARCH=generic. */
extern void gpi_md_trampoline(void)
    __attribute__((__weak__, __visibility__("hidden")));

/*
 * One LWP's backtrace in two steps (gpi_unwind_take, then
 * gpi_unwind_show): everything the second needs of the LWP is copied by
 * the first, so that only the first needs the LWP pinned.
 */
struct gpi_unwind {
	struct uw_snap	 u_snap;
	int		 u_rc;		/* UW_*: what the last take found */
	int		 u_stat;	/* l_stat then */
	uintptr_t	 u_fn;		/* l_fn: where a new LWP will start */
	void		*u_sp;		/* l_ctx.c_sp, l_stklo, l_stksize: */
	void		*u_stklo;	/* for the message of a bad sp */
	size_t		 u_stksize;
};

/* ------------------------------------------------------------ snapshot */

enum { UW_OK, UW_RUNNING, UW_MOVED, UW_BADSP, UW_NOMEM, UW_EXITING };

struct uw_marks {
	int		 stat;
	bool		 current;
	uintptr_t	 sp;		/* l_ctx: c_sp, c_pc, c_bp */
	uintptr_t	 pc;		/* (ARCH=generic: c_sp only) */
	uintptr_t	 bp;
	unsigned long	 nsw;
};

/*
 * Everything a switch changes.  Acquire loads: on x86-64 plain loads in
 * program order, which is what the bracketing needs.
 */
static void
uw_marks(const struct gp_lwp *l, struct uw_marks *m)
{
	struct gp_worker *w;

	m->stat = __atomic_load_n(&l->l_stat, __ATOMIC_ACQUIRE);
	w = __atomic_load_n(&l->l_worker, __ATOMIC_ACQUIRE);
	m->current = w != NULL &&
	    __atomic_load_n(&w->w_curlwp, __ATOMIC_ACQUIRE) == l;
	m->sp = (uintptr_t)__atomic_load_n(&l->l_ctx.c_sp, __ATOMIC_ACQUIRE);
#if defined(GPI_ARCH_X86_64)
	m->pc = (uintptr_t)__atomic_load_n(&l->l_ctx.c_pc, __ATOMIC_ACQUIRE);
	m->bp = (uintptr_t)__atomic_load_n(&l->l_ctx.c_bp, __ATOMIC_ACQUIRE);
#else
	m->pc = m->bp = 0;
#endif
	m->nsw = __atomic_load_n(&l->l_nvcsw, __ATOMIC_ACQUIRE);
}

static int
uw_snapshot(const struct gp_lwp *l, struct uw_snap *s)
{
	struct uw_marks m0, m1;
	uintptr_t top = gpi_stack_top(l), lo = (uintptr_t)l->l_stklo;
	size_t len;
	void *nbuf;

	uw_marks(l, &m0);
	if (m0.stat == GPI_LONPROC || m0.current)
		return UW_RUNNING;
	if (m0.stat == GPI_LZOMB)
		return UW_EXITING;
	if (m0.sp < lo || m0.sp >= top || (m0.sp & 7) != 0)
		return UW_BADSP;
	/* Word-aligned copy of [sp, top), at most UW_COPY_MAX bytes. */
	len = (top - m0.sp) & ~(size_t)7;
	if (len > UW_COPY_MAX)
		len = UW_COPY_MAX;
	if (len < x86_64_ctx_size())
		return UW_BADSP;
	if (len > s->s_cap) {
		if ((nbuf = realloc(s->s_buf, len)) == NULL)
			return UW_NOMEM;
		s->s_buf = nbuf;
		s->s_cap = len;
	}
	gpi_uw_copy_raw(s->s_buf, m0.sp, len);
	atomic_thread_fence(memory_order_acquire);
	uw_marks(l, &m1);
	if (m1.stat != m0.stat || m1.current || m1.sp != m0.sp ||
	    m1.pc != m0.pc || m1.bp != m0.bp || m1.nsw != m0.nsw)
		return UW_MOVED;

	s->s_lo = m0.sp;
	s->s_hi = m0.sp + len;
	s->s_stklo = lo;
	s->s_stkhi = top;
	s->s_npages = s->s_pagenext = 0;
	memset(s->s_regs, 0, sizeof(s->s_regs));
	x86_64_ctx_regs(s->s_buf, m0.pc, m0.sp, m0.bp, s->s_regs);
	return UW_OK;
}

/* ------------------------------------------------------------ walking */

struct uw_frame {
	uintptr_t	 f_ip;
	unw_word_t	 f_off;
	bool		 f_named;
	char		 f_name[GPI_SYM_NAMELEN];
};

/* One walk of a snapshot: frames, and how it ended. */
struct uw_walk {
	struct uw_frame	*w_frames;	/* UW_MAXFRAMES of them */
	int		 w_n;
	int		 w_end;		/* UW_END_* or an unw_step() error */
};
#define UW_END_OUTER	0	/* the outermost frame: rip undefined */
#define UW_END_CAP	1	/* UW_MAXFRAMES frames and more */

/*
 * Walk snapshot (s).  Returns whether the walk looks whole: it reached
 * the outermost frame, at gpi_md_trampoline (ARCH=generic: any outermost
 * frame), or the frame cap.  A snapshot torn by the hole described at
 * the top usually is not.
 */
static bool
uw_walk(struct uw_snap *s, struct uw_walk *wk)
{
	struct uw_frame *f;
	unw_cursor_t cur;
	unw_word_t ip;
	uintptr_t tramp = (uintptr_t)gpi_md_trampoline;
	int rc;

	wk->w_n = 0;
	if ((rc = gpi_uw.init_remote(&cur, gpi_uw.as, s)) < 0) {
		wk->w_end = rc;
		return false;
	}
	for (;;) {
		if (wk->w_n == UW_MAXFRAMES) {
			wk->w_end = UW_END_CAP;
			return true;
		}
		if (gpi_uw.get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0) {
			wk->w_end = UW_END_OUTER;
			break;
		}
		f = &wk->w_frames[wk->w_n++];
		f->f_ip = ip;
		f->f_off = 0;
		f->f_named = gpi_uw.get_proc_name(&cur, f->f_name,
		    sizeof(f->f_name), &f->f_off) == 0 && f->f_name[0] != '\0';
		if ((rc = gpi_uw.step(&cur)) <= 0) {
			wk->w_end = rc;		/* 0: UW_END_OUTER */
			break;
		}
	}
	if (wk->w_end != UW_END_OUTER || wk->w_n == 0)
		return false;
	if (tramp == 0)
		return true;
	ip = wk->w_frames[wk->w_n - 1].f_ip;
	return ip >= tramp && ip < tramp + 32;
}

/*
 * Print walk (wk) of (s).  (exact0): frame #0's ip is the instruction
 * that was executing (a fault), not a return address, so its line is its
 * own.  (broken): why a walk that is not whole may have ended early.
 */
static void
uw_print_walk(struct uw_snap *s, struct uw_walk *wk, bool whole,
    bool lines, bool exact0, const char *broken, FILE *out,
    const char *indent)
{
	struct uw_frame *f;
	char fl[320];
	uintptr_t at;
	int n;

	fl[0] = '\0';
	for (n = 0; n < wk->w_n; n++) {
		f = &wk->w_frames[n];
		/* A return address: its line is the call's, at ip - 1. */
		at = n == 0 && (exact0 ||
		    f->f_ip == (uintptr_t)gpi_md_trampoline) ?
		    f->f_ip : f->f_ip - 1;
		if (lines)
			gpi_sym_fileline(at, s->s_gen, fl, sizeof(fl));
		if (f->f_named)
			fprintf(out, "%s#%d 0x%lx %s+0x%lx%s\n", indent, n,
			    (unsigned long)f->f_ip, f->f_name,
			    (unsigned long)f->f_off, fl);
		else
			fprintf(out, "%s#%d 0x%lx ??%s\n", indent, n,
			    (unsigned long)f->f_ip, fl);
	}
	if (wk->w_end == UW_END_CAP)
		fprintf(out, "%s(more frames not shown)\n", indent);
	else if (!whole)
		fprintf(out, "%s(backtrace ends early (unw_step %d): %s)\n",
		    indent, wk->w_end, broken);
}

/* ------------------------------------------------------------ entry */

/*
 * Stack the caller has left.  Unwinding needs about 12 KB (the first
 * call dlopen()s libunwind), libdw's names ~22 KB more (measured: the
 * first lookup reads the maps and a symbol table); its line tables want
 * ~160 KB more, which a green stack (64 KB by default) does not have.
 */
#define UW_MIN_ROOM	(40 * 1024)
#define UW_DW_ROOM	(512 * 1024)

static __thread uintptr_t uw_tls_stklo;	/* host thread's stack; 1: unknown */

static size_t
uw_stack_room(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo;
	struct gp_lwp *cur = gpi_curlwp();
	pthread_attr_t a;
	size_t size;
	void *addr;

	if (cur != NULL) {
		lo = (uintptr_t)cur->l_stklo;
	} else {
		if (uw_tls_stklo == 0) {
			uw_tls_stklo = 1;
			if (GPI_LIBC(pthread_getattr_np)(
			    GPI_LIBC(pthread_self)(), &a) == 0) {
				if (pthread_attr_getstack(&a, &addr, &size) ==
				    0 && addr != NULL)
					uw_tls_stklo = (uintptr_t)addr;
				pthread_attr_destroy(&a);
			}
		}
		if ((lo = uw_tls_stklo) == 1)
			return SIZE_MAX;	/* unknown: a thread's own */
	}
	return sp > lo ? sp - lo : 0;
}

/* The name of code address (pc), for an LWP that has not run yet. */
static void
uw_name_of(struct uw_snap *s, uintptr_t pc, char *buf, size_t len)
{
	unw_word_t off = 0;

	if (gpi_uw_get_proc_name(gpi_uw.as, pc, buf, len, &off, s) != 0 ||
	    buf[0] == '\0')
		snprintf(buf, len, "0x%lx", (unsigned long)pc);
	else if (off != 0)
		snprintf(buf + strlen(buf), len - strlen(buf), "+0x%lx",
		    (unsigned long)off);
}

struct gpi_unwind *
gpi_unwind_new(void)
{
	return calloc(1, sizeof(struct gpi_unwind));
}

void
gpi_unwind_free(struct gpi_unwind *u)
{
	if (u != NULL)
		free(u->u_snap.s_buf);
	free(u);
}

/*
 * Under the caller's pin: a snapshot that held still (tried UW_TRIES
 * times, spinning, not yielding: the caller may hold a spinlock).  No
 * I/O, no libunwind, no lock; the copy buffer may grow (malloc).
 */
void
gpi_unwind_take(struct gpi_unwind *u, const struct gp_lwp *l)
{
	int i, rc = UW_MOVED;

	for (i = 0; i < UW_TRIES && rc == UW_MOVED; i++) {
		if (i > 0)
			gpi_md_relax();
		rc = uw_snapshot(l, &u->u_snap);
	}
	u->u_rc = rc;
	u->u_snap.s_pinned = false;
	u->u_stat = __atomic_load_n(&l->l_stat, __ATOMIC_RELAXED);
	u->u_fn = (uintptr_t)l->l_fn;
	u->u_sp = l->l_ctx.c_sp;
	u->u_stklo = l->l_stklo;
	u->u_stksize = l->l_stksize;
}

int
gpi_unwind_show(struct gpi_unwind *u, FILE *out, const char *indent,
    bool last)
{
	struct uw_walk wk = { NULL, 0, 0 };
	struct uw_snap *s = &u->u_snap;
	char name[256];
	bool whole;
	size_t room;

	switch (u->u_rc) {
	case UW_OK:
		break;
	case UW_RUNNING:
		fprintf(out, "%s(running on a worker)\n", indent);
		return 0;
	case UW_EXITING:
		fprintf(out, "%s(exiting)\n", indent);
		return 0;
	case UW_MOVED:
		fprintf(out, "%s(no backtrace: the LWP kept running during "
		    "the dump)\n", indent);
		return 0;
	case UW_BADSP:
		fprintf(out, "%s(no backtrace: saved stack pointer %p outside "
		    "its stack %p+%zu)\n", indent, u->u_sp, u->u_stklo,
		    u->u_stksize);
		return 0;
	default:
		fprintf(out, "%s(no backtrace: out of memory)\n", indent);
		return 0;
	}
	if ((room = uw_stack_room()) < UW_MIN_ROOM) {
		fprintf(out, "%s(no backtrace: %zu bytes of stack left here, "
		    "%d needed)\n", indent, room, UW_MIN_ROOM);
		return 0;
	}
	gpi_uw_init();
	if (gpi_uw.as == NULL) {
		fprintf(out, "%s(no backtrace: libunwind not loaded: %s)\n",
		    indent, gpi_uw.why);
		return -1;
	}
	if ((wk.w_frames = malloc(UW_MAXFRAMES * sizeof(*wk.w_frames))) ==
	    NULL) {
		fprintf(out, "%s(no backtrace: out of memory)\n", indent);
		return 0;
	}
	gpi_sym_dlgen(s->s_gen);
	s->s_npages = s->s_pagenext = 0;
	whole = uw_walk(s, &wk);
	if (!whole && !last) {
		free(wk.w_frames);
		return 1;
	}
	if (u->u_stat == GPI_LIDL) {
		uw_name_of(s, u->u_fn, name, sizeof(name));
		fprintf(out, "%s(not started yet: will run %s)\n", indent,
		    name);
	}
	uw_print_walk(s, &wk, whole, room >= UW_DW_ROOM, X86_64_CTX_EXACT_PC,
	    "a corrupt stack, or the LWP kept switching", out, indent);
	free(wk.w_frames);
	return 0;
}

int
gpi_unwind_lwp(const struct gp_lwp *l, FILE *out, const char *indent)
{
	struct gpi_unwind u;
	int i, rc = 1;

	if (out == NULL || l == NULL)
		return -1;
	if (indent == NULL)
		indent = "";
	memset(&u, 0, sizeof(u));
	/*
	 * Snapshot and walk until a snapshot's walk is whole; after
	 * UW_TRIES, show the last walk for what it is.
	 */
	for (i = 0; i < UW_TRIES && rc == 1; i++) {
		if (i >= 2)
			gpi_os_yield();	/* its worker may be preempted */
		gpi_unwind_take(&u, l);
		u.u_snap.s_pinned = true;	/* the caller's promise */
		rc = gpi_unwind_show(&u, out, indent, i == UW_TRIES - 1);
	}
	free(u.u_snap.s_buf);
	return rc;
}

/*
 * How far below l_stklo a fault's rsp may be and still be taken for this
 * stack's: a frame that stepped over the guard (fault.c's guard_hit
 * allows the fault address 16 pages below it).
 */
#define UW_SP_BELOW	((uintptr_t)64 * 4096)

int
gpi_unwind_regs(const struct gp_lwp *l, const uint64_t regs[8], FILE *out,
    const char *indent)
{
	struct uw_walk wk = { NULL, 0, 0 };
	struct uw_snap s;
	uintptr_t lo, top, sp, from;
	size_t room, len;
	bool whole;
	int ret = -1;

	if (out == NULL)
		return -1;
	if (indent == NULL)
		indent = "";
	if (l == NULL || regs == NULL || regs[0] == 0) {
		fprintf(out, "%s(no backtrace: no registers from the fault)\n",
		    indent);
		return -1;
	}
	lo = (uintptr_t)l->l_stklo;
	top = gpi_stack_top(l);
	sp = (uintptr_t)regs[1];
	if (sp >= top || sp + UW_SP_BELOW < lo) {
		fprintf(out, "%s(no backtrace: stack pointer 0x%lx outside "
		    "its stack %p+%zu)\n", indent, (unsigned long)sp,
		    l->l_stklo, l->l_stksize);
		return -1;
	}
	if ((room = uw_stack_room()) < UW_MIN_ROOM) {
		fprintf(out, "%s(no backtrace: %zu bytes of stack left here, "
		    "%d needed)\n", indent, room, UW_MIN_ROOM);
		return -1;
	}
	gpi_uw_init();
	if (gpi_uw.as == NULL) {
		fprintf(out, "%s(no backtrace: libunwind not loaded: %s)\n",
		    indent, gpi_uw.why);
		return -1;
	}

	/*
	 * One copy of [rsp, top), or of [l_stklo, top) when rsp is in or
	 * below the guard: the LWP is dead, nothing changes it, so there is
	 * nothing to bracket and no walk to retry.
	 */
	from = sp < lo ? lo : sp & ~(uintptr_t)7;
	len = (top - from) & ~(size_t)7;
	if (len > UW_COPY_MAX)
		len = UW_COPY_MAX;
	memset(&s, 0, sizeof(s));
	gpi_sym_dlgen(s.s_gen);
	wk.w_frames = malloc(UW_MAXFRAMES * sizeof(*wk.w_frames));
	s.s_buf = malloc(len > 0 ? len : 8);
	if (wk.w_frames == NULL || s.s_buf == NULL) {
		fprintf(out, "%s(no backtrace: out of memory)\n", indent);
		goto out;
	}
	s.s_cap = len;
	gpi_uw_copy_raw(s.s_buf, from, len);
	s.s_lo = from;
	s.s_hi = from + len;
	s.s_stklo = lo;
	s.s_stkhi = top;
	x86_64_fault_unw_regs(regs, s.s_regs);
	s.s_pinned = true;	/* dead, but its stack stays (fault.c) */

	whole = uw_walk(&s, &wk);
	uw_print_walk(&s, &wk, whole, room >= UW_DW_ROOM, true,
	    "a corrupt stack", out, indent);
	ret = wk.w_n > 0 ? 0 : -1;
out:
	free(wk.w_frames);
	free(s.s_buf);
	return ret;
}

#else /* !__x86_64__ */

struct gpi_unwind *
gpi_unwind_new(void)
{
	return malloc(1);
}

void
gpi_unwind_free(struct gpi_unwind *u)
{
	free(u);
}

void
gpi_unwind_take(struct gpi_unwind *u, const struct gp_lwp *l)
{
	(void)u;
	(void)l;
}

int
gpi_unwind_show(struct gpi_unwind *u, FILE *out, const char *indent,
    bool last)
{
	(void)u;
	(void)last;
	fprintf(out, "%s(no backtrace: green backtraces need x86-64)\n",
	    indent != NULL ? indent : "");
	return -1;
}

int
gpi_unwind_lwp(const struct gp_lwp *l, FILE *out, const char *indent)
{
	(void)l;
	if (out == NULL)
		return -1;
	fprintf(out, "%s(no backtrace: green backtraces need x86-64)\n",
	    indent != NULL ? indent : "");
	return -1;
}

int
gpi_unwind_regs(const struct gp_lwp *l, const uint64_t regs[8], FILE *out,
    const char *indent)
{
	(void)l;
	(void)regs;
	if (out == NULL)
		return -1;
	fprintf(out, "%s(no backtrace: green backtraces need x86-64)\n",
	    indent != NULL ? indent : "");
	return -1;
}

#endif /* __x86_64__ */
