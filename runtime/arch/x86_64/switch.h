/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * switch.h -- the x86-64 context switch, inline (included by arch.h).
 *
 * The switch is one asm statement that declares every register it does
 * not give back as clobbered: all general registers but rsp and rbp,
 * xmm0-15 (and xmm16-31, k1-k7 where AVX-512 is enabled), the x87 and
 * MMX registers, the flags and memory.  So the compiler keeps nothing in
 * a register across it, and saves the callee-saved registers its
 * function uses in that function's prologue, as for any call: each of
 * them is saved and restored once a switch.  (An out-of-line switch
 * must push all six again, since it cannot know which are live: the
 * switch.S this replaces did, 12 pushes and 12 pops or moves more a
 * round trip.)
 *
 * What a context keeps is three words of struct gp_ctx, not a frame on
 * its stack: rsp, rbp and the address it resumes at.  rbp is saved,
 * not clobbered, because frame-pointer builds (the sanitizers') refuse
 * an rbp clobber.  The switch ends with a jmp to (to)'s resume address,
 * not a ret: no call is made, so the return stack buffer stays paired
 * with the calls and returns around it.  Nothing is written to the
 * stack (a function's red zone below rsp stays as it was).
 *
 * The loads of (to)'s three words come first and the stores of (from)'s
 * after them.  gp_ctx sits in struct gp_lwp, at the top of its stack, so
 * two LWPs' contexts are at the same address modulo 4 KiB whenever their
 * stacks have the same colour (stack.c): loads issued right behind
 * stores to such an address wait for them (4K aliasing), loads issued
 * first do not (ARCHITECTURE section 4).
 *
 * A new context (gpi_md_makectx, md.c) resumes at gpi_md_trampoline
 * with rbp 0 and rsp at { entry, arg }.  unwind.c and
 * tools/greenproc-gdb.py take a suspended LWP's rip, rsp and rbp from
 * here; its other registers are dead at the resume address.
 *
 * MXCSR and the x87 control word are callee-saved in the ABI but not
 * switched: every LWP shares the worker's floating-point modes (as
 * threads sharing one fesetround() would), which keeps the slow ldmxcsr
 * out of the switch.  The signal mask is not touched either.
 */
#ifndef GREENPROC_X86_64_SWITCH_H
#define GREENPROC_X86_64_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The offsets the asm below uses. */
_Static_assert(offsetof(struct gp_ctx, c_sp) == 0 &&
    offsetof(struct gp_ctx, c_pc) == 8 && offsetof(struct gp_ctx, c_bp) == 16,
    "switch.h: struct gp_ctx layout");

#if defined(__AVX512F__)
#define X86_64_SWITCH_AVX512						\
	"xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",	\
	"xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",	\
	"xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
#else
#define X86_64_SWITCH_AVX512
#endif

static inline __attribute__((__always_inline__)) void
gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to)
{
	/*
	 * from and to are in/out operands only so that rdi and rsi count
	 * as lost: they hold the resumer's values afterwards.  Scratch:
	 * rax, rcx, rdx, r8.
	 */
	__asm__ __volatile__(
	    "movq	0(%%rsi), %%rax\n\t"	/* to->c_sp */
	    "movq	8(%%rsi), %%rcx\n\t"	/* to->c_pc */
	    "movq	16(%%rsi), %%rdx\n\t"	/* to->c_bp */
	    "leaq	1f(%%rip), %%r8\n\t"
	    "movq	%%rsp, 0(%%rdi)\n\t"	/* from->c_sp */
	    "movq	%%r8, 8(%%rdi)\n\t"	/* from->c_pc: 1 below */
	    "movq	%%rbp, 16(%%rdi)\n\t"	/* from->c_bp */
	    "movq	%%rax, %%rsp\n\t"
	    "movq	%%rdx, %%rbp\n\t"
	    "jmp	*%%rcx\n"
	    "1:"
	    : "+D"(from), "+S"(to)
	    :
	    : "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12",
	      "r13", "r14", "r15",
	      "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
	      "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
	      "xmm15", X86_64_SWITCH_AVX512
	      "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)",
	      "st(7)", "mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7",
	      "cc", "memory");
}

/*
 * The last switch of a context that will never run again (a dying LWP):
 * resume (to) and save nothing.  Since it never comes back it declares
 * no register lost, so the compiler saves none for it (a dying LWP's
 * switch is half of every create+join).  Only memory is clobbered: every
 * store before it (the LWP's state, its joiner's hand-off) is made
 * before the jump.
 */
static inline __attribute__((__always_inline__, __noreturn__)) void
gpi_md_switch_last(struct gp_ctx *to)
{
	__asm__ __volatile__(
	    "movq	8(%0), %%rcx\n\t"	/* to->c_pc */
	    "movq	16(%0), %%rbp\n\t"	/* to->c_bp */
	    "movq	0(%0), %%rsp\n\t"	/* to->c_sp */
	    "jmp	*%%rcx"
	    :
	    : "a"(to)
	    : "rcx", "memory");
	__builtin_unreachable();
}

/*
 * Call fn(a, b), which never returns, without a call instruction: push
 * the return address a call would push (so that the stack, and what an
 * unwinder reads from it, are as after a call) and jump.  A call also
 * pushes that address on the CPU's return stack buffer, and an entry
 * pushed by a call that never returns is never popped by its own ret:
 * the next ret on this CPU pops it instead and is mispredicted, and so
 * is each one after it in the same run of rets.  An LWP's way from the
 * trampoline to its last switch was three such calls (gpi_lwp_start,
 * gpi_lwp_exit, gpi_mi_switch_last), and its joiner, resumed, returns
 * twice before it calls again (gpi_mi_switch, gp_lwp_join): two
 * mispredicted rets on every create+join (ARCHITECTURE sections 4, 20).
 *
 * WARNING: the caller's rsp should be as at a call, 16-byte aligned,
 * and gcc and clang keep it so only in the body of a function that
 * makes other calls: in one that makes none (a leaf but for this) it is
 * 8 modulo 16, and (fn) would run misaligned (movaps faults).  So the
 * asm does not trust the compiler's frame layout: a misaligned rsp is
 * moved down 8 first, by an and that leaves an aligned one as it is
 * (one instruction, no branch; fn never returns, so nothing pops the
 * word; only a backtrace taken inside fn sees the frame 8 off).  DEBUG
 * builds trap instead, so that a compiler that lays the frame out
 * otherwise is seen in the tests.  (fn) must be a function's name, a
 * link-time constant.
 */
#ifdef GREENPROC_DEBUG
#define GPI_MD_CALL_LAST_ALIGN	"testq	$15, %%rsp\n\tjz	2f\n\tud2\n2:\t"
#else
#define GPI_MD_CALL_LAST_ALIGN	"andq	$-16, %%rsp\n\t"
#endif
#define gpi_md_call_last(fn, a, b) do {					\
	if (0)								\
		(fn)((a), (b));	/* type-check (fn), (a) and (b) */	\
	__asm__ __volatile__(						\
	    GPI_MD_CALL_LAST_ALIGN					\
	    "leaq	1f(%%rip), %%rax\n\t"				\
	    "pushq	%%rax\n\t"					\
	    "jmp	%c2\n"						\
	    "1:\tud2"							\
	    :								\
	    : "D"(a), "S"(b), "i"(fn)					\
	    : "rax", "cc", "memory");					\
	__builtin_unreachable();					\
} while (0)

/*
 * A new context's stack (md.c's gpi_md_makectx): rsp at three words
 * below (hi), { gpi_md_trampoline_ret, entry, arg }, 8 modulo 16.
 */
void	gpi_md_trampoline(void) __attribute__((visibility("hidden")));
extern const char gpi_md_trampoline_ret[] __attribute__((visibility("hidden")));

static inline __attribute__((__always_inline__)) uint64_t *
gpi_md_newsp(void *hi)
{
	return (uint64_t *)(((uintptr_t)hi & ~(uintptr_t)15) - 24);
}

/*
 * gpi_md_renewctx (arch.h).  The stack still holds gpi_md_makectx's
 * three words below (hi): the entry function, entered by a jmp with the
 * first of them as its return address, writes only below it, and so
 * does everything it calls.  c_sp, c_pc and c_bp, which its switches
 * overwrote, are set as gpi_md_makectx sets them.
 */
static inline __attribute__((__always_inline__)) void
gpi_md_renewctx(struct gp_ctx *ctx, void *lo, void *hi,
    void (*entry)(void *), void *arg)
{
	(void)lo;
	(void)entry;
	(void)arg;
	ctx->c_sp = gpi_md_newsp(hi);
	ctx->c_pc = (void *)(uintptr_t)gpi_md_trampoline;
	ctx->c_bp = NULL;
}

/* For DEBUG builds: are gpi_md_makectx's three words still there? */
static inline bool
gpi_md_renewable(void *hi, void (*entry)(void *), void *arg)
{
	uint64_t *sp = gpi_md_newsp(hi);

	return sp[0] == (uint64_t)(uintptr_t)gpi_md_trampoline_ret &&
	    sp[1] == (uint64_t)(uintptr_t)entry &&
	    sp[2] == (uint64_t)(uintptr_t)arg;
}

#endif /* GREENPROC_X86_64_SWITCH_H */
