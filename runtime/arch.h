/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arch.h -- the whole machine-dependent interface of the runtime.
 *
 * A context is what a suspended LWP leaves behind: on x86-64 only the
 * stack pointer, with the callee-saved registers pushed on the stack it
 * points into (runtime/arch/x86_64/switch.S).  The generic fallback
 * (runtime/arch/generic/context.c) keeps a ucontext_t there instead.
 *
 * ABI zone: gp_ctx is read and written from assembly.  Do not reorder.
 */
#ifndef GREENPROC_ARCH_H
#define GREENPROC_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct gp_ctx {
	void	*c_sp;		/* Saved stack pointer while suspended. */
};

/*
 * Save the running context into (from) and resume (to).  Returns when
 * something switches back to (from).  Never fails, never enters the kernel.
 */
void	gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to)
	    __attribute__((visibility("hidden")));

/*
 * Prepare (ctx) so that the first switch to it calls entry(arg) on the
 * stack [lo, hi).  entry must never return.  The entry frame is marked
 * as the outermost frame, so unwinders stop there cleanly.
 */
void	gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
	    void (*entry)(void *), void *arg)
	    __attribute__((visibility("hidden")));

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
