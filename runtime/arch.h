/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arch.h -- the whole machine-dependent interface of the runtime.
 *
 * A context is what a suspended LWP leaves behind.  On x86-64 it is three
 * words in struct gp_ctx itself: the stack pointer, the frame pointer and
 * the address it resumes at.  The switch is inline assembly
 * (runtime/arch/x86_64/switch.h) that tells the compiler every other
 * register is lost, so the compiler saves what is live, once, in the
 * frame of the function the switch is inlined into (sched.c's
 * switch_to), and nothing is pushed on the stack.  The generic fallback
 * (runtime/arch/generic/context.c) keeps in c_sp a pointer to a
 * ucontext_t on the suspended stack instead.
 *
 * GPI_ARCH_X86_64 is set by the Makefile when runtime/arch/x86_64 is
 * built (not under ARCH=generic).
 *
 * ABI zone: gp_ctx is read and written from assembly (switch.h) and read
 * by tools/greenproc-gdb.py.  Do not reorder.
 */
#ifndef GREENPROC_ARCH_H
#define GREENPROC_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(GPI_ARCH_X86_64)
struct gp_ctx {
	void	*c_sp;		/* rsp while suspended */
	void	*c_pc;		/* where it resumes (by jmp, not ret) */
	void	*c_bp;		/* rbp: frame-pointer builds (sanitizers)
				   need it kept, others may hold any value */
};
#else
struct gp_ctx {
	void	*c_sp;		/* the suspended context's ucontext_t */
};
#endif

/*
 * void gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to);
 *
 * Save the running context into (from) and resume (to).  Returns when
 * something switches back to (from).  Never fails.  x86-64: inline,
 * never enters the kernel; generic: out of line, swapcontext() sets the
 * signal mask.
 */
#if defined(GPI_ARCH_X86_64)
#include "arch/x86_64/switch.h"
#else
void	gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to)
	    __attribute__((visibility("hidden")));
#endif

/*
 * void gpi_md_switch_last(struct gp_ctx *to);
 *
 * Resume (to) from a context that will never run again: nothing is
 * saved.  Never returns.
 */
#if !defined(GPI_ARCH_X86_64)
static inline __attribute__((__noreturn__)) void
gpi_md_switch_last(struct gp_ctx *to)
{
	struct gp_ctx dead;

	gpi_md_switch(&dead, to);
	__builtin_trap();
}
#endif

/*
 * gpi_md_call_last(fn, a, b): call fn(a, b), a function that never
 * returns.  x86-64 (switch.h): without a call instruction, so that the
 * return stack buffer keeps no entry that no ret will pop.  Generic: a
 * call.
 */
#if !defined(GPI_ARCH_X86_64)
#define gpi_md_call_last(fn, a, b) do {					\
	(fn)((a), (b));							\
	__builtin_unreachable();					\
} while (0)
#endif

/*
 * Prepare (ctx) so that the first switch to it calls entry(arg) on the
 * stack [lo, hi).  entry must never return.  The entry frame is marked
 * as the outermost frame, so unwinders stop there cleanly.
 */
void	gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
	    void (*entry)(void *), void *arg)
	    __attribute__((visibility("hidden")));

/*
 * void gpi_md_renewctx(struct gp_ctx *ctx, void *lo, void *hi,
 *     void (*entry)(void *), void *arg);
 *
 * gpi_md_makectx again, with the same arguments, for a context whose
 * stack gpi_md_makectx prepared before and that has run and ended since
 * (a stack reused from the cache, section 1's constructed state).
 * x86-64 (switch.h): the words gpi_md_makectx left on the stack are
 * still there, above the entry function's return address, where no code
 * writes; only the three words of (ctx) are set again.  Generic: all of
 * gpi_md_makectx.  gpi_md_renewable(hi, entry, arg) says whether the
 * stack below (hi) is still as gpi_md_makectx left it (DEBUG checks).
 */
#if !defined(GPI_ARCH_X86_64)
#define gpi_md_renewctx(ctx, lo, hi, entry, arg)			\
	gpi_md_makectx((ctx), (lo), (hi), (entry), (arg))
#define gpi_md_renewable(hi, entry, arg)	true
#endif

/* Spin-wait hint to the CPU. */
#if defined(__x86_64__) || defined(__i386__)
#define gpi_md_relax()	__builtin_ia32_pause()
#elif defined(__aarch64__)
#define gpi_md_relax()	__asm__ __volatile__("yield" ::: "memory")
#else
#define gpi_md_relax()	__asm__ __volatile__("" ::: "memory")
#endif

/* The faulting instruction of a signal's ucontext_t, or NULL. */
void	*gpi_md_fault_pc(void *uc) __attribute__((visibility("hidden")));

/*
 * The registers a backtrace of the faulting code starts from, out of a
 * signal's ucontext_t: regs[] = { pc, sp, fp, and the callee-saved ones }
 * (x86-64: rip, rsp, rbp, rbx, r12, r13, r14, r15).  All zero where the
 * machine layer does not know the layout (generic).
 */
void	gpi_md_fault_regs(void *uc, uint64_t regs[8])
	    __attribute__((visibility("hidden")));

/* Cheap monotonic tick (TSC on x86-64), for run-time accounting. */
unsigned long long gpi_md_ticks(void) __attribute__((visibility("hidden")));

#endif /* GREENPROC_ARCH_H */
