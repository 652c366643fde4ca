/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwframe.h -- where an x86-64 backtrace starts: the registers of a
 * suspended context and of a fault, in libunwind's numbering.  Used by
 * unwind.c under both ARCH=x86_64 and ARCH=generic (on an x86-64 host
 * the portable switch leaves x86-64 ucontexts), like sigframe.h.
 *
 * Suspended context: under ARCH=x86_64 the inline switch (switch.h)
 * keeps rip, rsp and rbp in struct gp_ctx (c_pc, c_sp, c_bp) and
 * nothing on the stack; the other registers are dead where it resumes
 * (the switch declared them lost), and every frame above restores its
 * callee-saved ones from the stack by its CFI.  c_pc is where the
 * context resumes, not a return address.  Under ARCH=generic c_sp points
 * at the ucontext_t saved by swapcontext() instead, which holds the
 * registers (and rip is a return address into swapcontext's caller).
 */
#ifndef GREENPROC_X86_64_UNWFRAME_H
#define GREENPROC_X86_64_UNWFRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <libunwind.h>
#include <ucontext.h>

#define X86_64_UNW_NREGS	(UNW_X86_64_RIP + 1)

/*
 * X86_64_CTX_EXACT_PC: a suspended context's rip is the instruction it
 * resumes at (its line is its own), not a return address.
 */
#if defined(GPI_ARCH_X86_64)
#define X86_64_CTX_EXACT_PC	true
#else
#define X86_64_CTX_EXACT_PC	false
#endif

/* Bytes at c_sp a snapshot must hold to find a suspended context's registers. */
static inline size_t
x86_64_ctx_size(void)
{
#if defined(GPI_ARCH_X86_64)
	return 8;			/* a stack of at least one word */
#else
	return sizeof(ucontext_t);
#endif
}

/*
 * The registers of a suspended context: its gp_ctx words (pc, sp, bp:
 * c_pc, c_sp, c_bp; ARCH=generic has c_sp only, pc and bp are 0) and
 * (f), a copy of at least x86_64_ctx_size() bytes of its stack at sp.
 * Others stay as they are.
 */
static inline void
x86_64_ctx_regs(const void *f, uintptr_t pc, uintptr_t sp, uintptr_t bp,
    unw_word_t regs[X86_64_UNW_NREGS])
{
#if defined(GPI_ARCH_X86_64)
	(void)f;
	regs[UNW_X86_64_RIP] = pc;
	regs[UNW_X86_64_RSP] = sp;
	regs[UNW_X86_64_RBP] = bp;
#else
	/* ARCH=generic: where the registers are in a ucontext_t. */
	static const struct {
		int	unw;
		int	greg;
	} uc_regs[] = {
		{ UNW_X86_64_R15, REG_R15 }, { UNW_X86_64_R14, REG_R14 },
		{ UNW_X86_64_R13, REG_R13 }, { UNW_X86_64_R12, REG_R12 },
		{ UNW_X86_64_RBX, REG_RBX }, { UNW_X86_64_RBP, REG_RBP },
		{ UNW_X86_64_RIP, REG_RIP }, { UNW_X86_64_RSP, REG_RSP },
	};
	const ucontext_t *uc = f;
	size_t i;

	(void)pc;
	(void)sp;
	(void)bp;
	for (i = 0; i < sizeof(uc_regs) / sizeof(uc_regs[0]); i++)
		regs[uc_regs[i].unw] =
		    (uint64_t)uc->uc_mcontext.gregs[uc_regs[i].greg];
#endif
}

/* A fault's regs[] (gpi_md_fault_regs, sigframe.h) in libunwind's order. */
static inline void
x86_64_fault_unw_regs(const uint64_t fregs[8],
    unw_word_t regs[X86_64_UNW_NREGS])
{
	static const unw_regnum_t regnum[8] = {
		UNW_X86_64_RIP, UNW_X86_64_RSP, UNW_X86_64_RBP,
		UNW_X86_64_RBX, UNW_X86_64_R12, UNW_X86_64_R13,
		UNW_X86_64_R14, UNW_X86_64_R15,
	};
	int i;

	for (i = 0; i < 8; i++)
		regs[regnum[i]] = fregs[i];
}

#endif /* GREENPROC_X86_64_UNWFRAME_H */
