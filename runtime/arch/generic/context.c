/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * context.c -- portable fallback for machines without switch.S: ucontext.
 *
 * swapcontext() saves and restores the signal mask with a system call, so
 * this is an order of magnitude slower than the assembly switch; it exists
 * so that greenproc builds and runs everywhere, and as a test oracle.
 *
 * c_sp points at the ucontext_t of the suspended context: for a new
 * context it lives at the top of the new stack, for a suspended one in
 * the frame of its gpi_md_switch() call, which stays live until resumed.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "arch.h"
#if defined(__x86_64__)
#include "arch/x86_64/sigframe.h"
#endif

static void
start(unsigned int hi_entry, unsigned int lo_entry, unsigned int hi_arg,
    unsigned int lo_arg)
{
	void (*entry)(void *) = (void (*)(void *))(uintptr_t)
	    (((uint64_t)hi_entry << 32) | lo_entry);
	void *arg = (void *)(uintptr_t)(((uint64_t)hi_arg << 32) | lo_arg);

	entry(arg);
	__builtin_trap();
}

void
gpi_md_makectx(struct gp_ctx *ctx, void *lo, void *hi,
    void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)hi - sizeof(ucontext_t)) & ~(uintptr_t)63;
	ucontext_t *uc = (ucontext_t *)top;
	uint64_t e = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;

	getcontext(uc);
	uc->uc_stack.ss_sp = lo;
	uc->uc_stack.ss_size = top - (uintptr_t)lo;
	uc->uc_link = NULL;
	makecontext(uc, (void (*)(void))start, 4, (unsigned int)(e >> 32),
	    (unsigned int)e, (unsigned int)(a >> 32), (unsigned int)a);
	ctx->c_sp = uc;
}

void
gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to)
{
	ucontext_t self;

	from->c_sp = &self;
	swapcontext(&self, (ucontext_t *)to->c_sp);
}

void *
gpi_md_fault_pc(void *uc)
{
#if defined(__x86_64__)
	return x86_64_fault_pc(uc);
#else
	(void)uc;
	return NULL;
#endif
}

/* On an unknown layout: no registers, so no backtrace of the fault. */
void
gpi_md_fault_regs(void *uc, uint64_t regs[8])
{
#if defined(__x86_64__)
	/* The portable switch on x86-64 still has x86-64 signal frames. */
	x86_64_fault_regs(uc, regs);
#else
	(void)uc;
	memset(regs, 0, 8 * sizeof(regs[0]));
#endif
}

unsigned long long
gpi_md_ticks(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
