/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * md.c -- the C half of the x86-64 machine-dependent layer: building the
 * first frame of a new context (switch.S resumes it), the registers of a
 * fault, and the tick source.
 */
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "arch.h"
#include "arch/x86_64/sigframe.h"

void	gpi_md_trampoline(void) __attribute__((visibility("hidden")));

/*
 * Lay out a frame that gpi_md_switch() pops: six callee-saved registers
 * (r12 = entry, r13 = arg, the rest zero) and a return address that
 * lands in gpi_md_trampoline with rsp 16-byte aligned, as the ABI wants
 * at a call site.
 */
void
gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
    void (*entry)(void *), void *arg)
{
	uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
	uint64_t *sp;

	(void)lo;
	/* After "ret" pops the return address, rsp must be 0 mod 16. */
	sp = (uint64_t *)(top - 16);
	*--sp = (uint64_t)(uintptr_t)gpi_md_trampoline;
	*--sp = 0;				/* rbp */
	*--sp = 0;				/* rbx */
	*--sp = (uint64_t)(uintptr_t)entry;	/* r12 */
	*--sp = (uint64_t)(uintptr_t)arg;	/* r13 */
	*--sp = 0;				/* r14 */
	*--sp = 0;				/* r15 */
	ctx->c_sp = sp;
}

void *
gpi_md_fault_pc(void *uc)
{
	return x86_64_fault_pc(uc);
}

void
gpi_md_fault_regs(void *uc, uint64_t regs[8])
{
	x86_64_fault_regs(uc, regs);
}

unsigned long long
gpi_md_ticks(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((unsigned long long)hi << 32) | lo;
}
