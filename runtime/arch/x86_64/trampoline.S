/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trampoline.S -- the first code a new x86-64 context runs.
 *
 * The switch itself is inline (switch.h): it jumps here, to the resume
 * address gpi_md_makectx() stored, with rbp 0 and rsp at three words it
 * left on the new stack, { gpi_md_trampoline_ret, entry, arg }.  rsp is
 * 8 modulo 16 there, as at the first instruction of a function.
 *
 * entry(arg) never returns, and is entered by a jump, not a call: the
 * stack is as a call from here would leave it (its return address,
 * gpi_md_trampoline_ret, was put there by gpi_md_makectx), but the
 * return stack buffer gets no entry that no ret would ever pop (see
 * gpi_md_call_last in switch.h).  rip is marked undefined, and the
 * return address is inside this function, so that an unwinder
 * (libunwind, gdb) sees this as the outermost frame of the green thread.
 */
	.text

	.globl	gpi_md_trampoline
	.hidden	gpi_md_trampoline
	.globl	gpi_md_trampoline_ret
	.hidden	gpi_md_trampoline_ret
	.type	gpi_md_trampoline, @function
	.p2align 4
gpi_md_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	16(%rsp), %rdi		/* arg */
	jmpq	*8(%rsp)		/* entry(arg): never returns */
gpi_md_trampoline_ret:
	ud2
	.cfi_endproc
	.size	gpi_md_trampoline, .-gpi_md_trampoline

	.section .note.GNU-stack,"",@progbits
