/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trampoline.S -- the first code a new x86-64 context runs.
 *
 * The switch itself is inline (switch.h): it jumps here, to the resume
 * address gpi_md_makectx() stored, with rbp 0 and rsp at two words it
 * left on the new stack, { entry, arg }.  rsp is 16-byte aligned there,
 * so the call below leaves entry the alignment the ABI gives a callee.
 * rip is marked undefined so that an unwinder (libunwind, gdb) sees this
 * as the outermost frame of the green thread.
 */
	.text

	.globl	gpi_md_trampoline
	.hidden	gpi_md_trampoline
	.type	gpi_md_trampoline, @function
	.p2align 4
gpi_md_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	8(%rsp), %rdi		/* arg */
	callq	*(%rsp)			/* entry(arg): never returns */
	ud2
	.cfi_endproc
	.size	gpi_md_trampoline, .-gpi_md_trampoline

	.section .note.GNU-stack,"",@progbits
