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

void	gpi_md_trampoline(void) __attribute__((visibility("hidden")));

/*
 * A new context resumes at gpi_md_trampoline (trampoline.S) with rbp 0
 * (the end of the frame-pointer chain) and rsp at { entry, arg }, 16-byte
 * aligned as the ABI wants at the trampoline's call of entry.
 */
void
gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
    void (*entry)(void *), void *arg)
{
	uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 16);

	(void)lo;
	sp[0] = (uint64_t)(uintptr_t)entry;
	sp[1] = (uint64_t)(uintptr_t)arg;
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
