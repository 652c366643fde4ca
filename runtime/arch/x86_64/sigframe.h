/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sigframe.h -- registers of an x86-64 signal's ucontext_t, for fault
 * reports.  Shared by md.c and by the portable switch, which on x86-64
 * still receives x86-64 signal frames.
 */
#ifndef GREENPROC_X86_64_SIGFRAME_H
#define GREENPROC_X86_64_SIGFRAME_H

#include <stdint.h>
#include <ucontext.h>

static inline void *
x86_64_fault_pc(void *uc)
{
	return (void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
}

/* regs[] = { rip, rsp, rbp, rbx, r12, r13, r14, r15 }, as unwind.c wants. */
static inline void
x86_64_fault_regs(void *uc, uint64_t regs[8])
{
	const greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;

	regs[0] = (uint64_t)g[REG_RIP];
	regs[1] = (uint64_t)g[REG_RSP];
	regs[2] = (uint64_t)g[REG_RBP];
	regs[3] = (uint64_t)g[REG_RBX];
	regs[4] = (uint64_t)g[REG_R12];
	regs[5] = (uint64_t)g[REG_R13];
	regs[6] = (uint64_t)g[REG_R14];
	regs[7] = (uint64_t)g[REG_R15];
}

#endif /* GREENPROC_X86_64_SIGFRAME_H */
