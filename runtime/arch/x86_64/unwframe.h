/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwframe.h -- where an x86-64 backtrace starts: the registers of a
 * suspended context and of a fault, in libunwind's numbering.  Used by
 * unwind.c under both ARCH=x86_64 and ARCH=generic (on an x86-64 host
 * the portable switch leaves x86-64 ucontexts), like sigframe.h.
 *
 * Saved frame (switch.S): c_sp points at r15, r14, r13, r12, rbx, rbp,
 * then the return address into gpi_md_switch's caller; rsp after the
 * switch returned is c_sp + 7 words.  Under ARCH=generic c_sp points at
 * the ucontext_t saved by swapcontext() instead, which holds the same
 * registers.
 */
#ifndef GREENPROC_X86_64_UNWFRAME_H
#define GREENPROC_X86_64_UNWFRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <libunwind.h>
#include <ucontext.h>

#define X86_64_UNW_NREGS	(UNW_X86_64_RIP + 1)

/* Bytes at c_sp that hold a suspended context's registers. */
static inline size_t
x86_64_ctx_size(bool switch_frame)
{
	return switch_frame ? 7 * 8 : sizeof(ucontext_t);
}

/*
 * The registers of a suspended context from (f), a copy of at least
 * x86_64_ctx_size() bytes of its stack at (sp) = c_sp; switch_frame:
 * switch.S's frame, else a ucontext_t.  Others stay as they are.
 */
static inline void
x86_64_ctx_regs(const void *f, uintptr_t sp, bool switch_frame,
    unw_word_t regs[X86_64_UNW_NREGS])
{
	/* ARCH=generic: where the callee-saved registers are in a ucontext_t. */
	static const struct {
		int	unw;
		int	greg;
	} uc_regs[] = {
		{ UNW_X86_64_R15, REG_R15 }, { UNW_X86_64_R14, REG_R14 },
		{ UNW_X86_64_R13, REG_R13 }, { UNW_X86_64_R12, REG_R12 },
		{ UNW_X86_64_RBX, REG_RBX }, { UNW_X86_64_RBP, REG_RBP },
		{ UNW_X86_64_RIP, REG_RIP }, { UNW_X86_64_RSP, REG_RSP },
	};
	const ucontext_t *uc;
	const uint64_t *w;
	size_t i;

	if (switch_frame) {
		/* switch.S: r15 r14 r13 r12 rbx rbp <return address> */
		w = f;
		regs[UNW_X86_64_R15] = w[0];
		regs[UNW_X86_64_R14] = w[1];
		regs[UNW_X86_64_R13] = w[2];
		regs[UNW_X86_64_R12] = w[3];
		regs[UNW_X86_64_RBX] = w[4];
		regs[UNW_X86_64_RBP] = w[5];
		regs[UNW_X86_64_RIP] = w[6];
		regs[UNW_X86_64_RSP] = sp + 7 * 8;
	} else {
		/* ARCH=generic: the ucontext_t swapcontext() filled. */
		uc = f;
		for (i = 0; i < sizeof(uc_regs) / sizeof(uc_regs[0]); i++)
			regs[uc_regs[i].unw] =
			    (uint64_t)uc->uc_mcontext.gregs[uc_regs[i].greg];
	}
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
