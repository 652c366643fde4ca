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

/*
 * void gpi_md_switch(struct gp_ctx *from, struct gp_ctx *to)
 *
 * The loads of (to)'s registers come first, into scratch registers, and
 * the stores of (from)'s after them.  Popping them after the pushes, as
 * a plain switch does, puts six loads right behind six stores to another
 * stack: when the two frames sit at the same address modulo 4 KiB (two
 * stacks of the same colour, stack.c) the core cannot tell at once that
 * the loads do not read the stores, and they wait for the stores (4K
 * aliasing).  bench_switch, medians over random pairs of 64 LWPs: pairs
 * of one colour 12.4-14.5 ns per yield against 10.8-11.9 for all pairs;
 * loads first, 10.9-11.3 for both (ARCHITECTURE section 4).  The return
 * still goes through ret from (to)'s frame, so that the return stack
 * buffer stays paired with the calls (a jmp would leave it one deep and
 * mispredict every return above).
 *
 * Scratch: rax (to's sp), rcx rdx r8-r11 (its six registers); rdi, rsi
 * are the arguments.  The frame layout is the one gpi_md_makectx builds
 * and unwind.c reads.
 */
	.globl	gpi_md_switch
	.hidden	gpi_md_switch
	.type	gpi_md_switch, @function
	.p2align 4
gpi_md_switch:
	.cfi_startproc
	movq	(%rsi), %rax		/* rax = to->c_sp */
	movq	0(%rax), %r11		/* (to)'s r15 r14 r13 r12 rbx rbp */
	movq	8(%rax), %r10
	movq	16(%rax), %r9
	movq	24(%rax), %r8
	movq	32(%rax), %rdx
	movq	40(%rax), %rcx
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
	leaq	48(%rax), %rsp		/* now on (to)'s stack, at its return */
	.cfi_adjust_cfa_offset -48
	movq	%r11, %r15
	movq	%r10, %r14
	movq	%r9, %r13
	movq	%r8, %r12
	movq	%rdx, %rbx
	movq	%rcx, %rbp
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
