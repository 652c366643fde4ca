/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * switch.S -- context switch for x86-64 (System V ABI).
 *
 * Only what the ABI says a callee must preserve is saved: rbx, rbp,
 * r12-r15 and rsp.  Caller-saved registers are already dead at the call
 * site.  MXCSR and the x87 control word are callee-saved in the ABI too,
 * but greenproc does not switch them: every LWP shares the worker's
 * floating-point modes (as threads sharing one fesetround() would), which
 * keeps a switch free of the slow ldmxcsr.  No signal mask is touched, so
 * a switch never enters the kernel.
 *
 * Saved frame, from the saved rsp upward:
 *	r15 r14 r13 r12 rbx rbp <return address>
 */
	.text

/* void gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to) */
	.globl	gpi_md_switch
	.hidden	gpi_md_switch
	.type	gpi_md_switch, @function
	.p2align 4
gpi_md_switch:
	.cfi_startproc
	pushq	%rbp			/* callee-saved registers of (from) */
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	movq	%rsp, (%rdi)		/* from->c_sp = rsp */
	movq	(%rsi), %rsp		/* rsp = to->c_sp: now on (to)'s stack */
	popq	%r15			/* restore (to)'s registers */
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	ret				/* into (to) where it called us */
	.cfi_endproc
	.size	gpi_md_switch, .-gpi_md_switch

/*
 * First code run on a new stack: gpi_md_makectx() left entry in r12 and
 * its argument in r13.  rip is marked undefined so that an unwinder
 * (libunwind, gdb) sees this as the outermost frame of the green thread.
 */
	.globl	gpi_md_trampoline
	.hidden	gpi_md_trampoline
	.type	gpi_md_trampoline, @function
	.p2align 4
gpi_md_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp		/* end of the frame-pointer chain */
	movq	%r13, %rdi		/* arg */
	callq	*%r12			/* entry(arg): never returns */
	ud2
	.cfi_endproc
	.size	gpi_md_trampoline, .-gpi_md_trampoline

	.section .note.GNU-stack,"",@progbits
