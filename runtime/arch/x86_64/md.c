/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * md.c -- the C half of the x86-64 machine-dependent layer: a new context
 * (the inline switch of switch.h resumes it in trampoline.S), the
 * registers of a fault, and the tick source.
 */
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "arch.h"
#include "arch/x86_64/sigframe.h"

/*
 * A new context resumes at gpi_md_trampoline (trampoline.S) with rbp 0
 * (the end of the frame-pointer chain) and rsp at { ret, entry, arg }:
 * ret is where a call of entry from the trampoline would return to, and
 * rsp is 8 modulo 16, as at a function's first instruction, so that the
 * trampoline can jump to entry with the stack as a call leaves it.
 * gpi_md_renewctx (switch.h) depends on this layout.
 */
void
gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
    void (*entry)(void *), void *arg)
{
	uint64_t *sp = gpi_md_newsp(hi);

	(void)lo;
	sp[0] = (uint64_t)(uintptr_t)gpi_md_trampoline_ret;
	sp[1] = (uint64_t)(uintptr_t)entry;
	sp[2] = (uint64_t)(uintptr_t)arg;
	ctx->c_sp = sp;
	ctx->c_pc = (void *)(uintptr_t)gpi_md_trampoline;
	ctx->c_bp = NULL;
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
