/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vfork.S -- the preload's vfork() on x86-64: a frame-less stub.
 *
 * vfork's child runs on its parent's stack until it calls exec or _exit,
 * and the parent is suspended meanwhile.  A C wrapper cannot pass that
 * on: the child would return from the wrapper's frame and call on, and
 * the parent would resume in a frame the child has overwritten.  So the
 * stub asks gpi_vfork_route() (spawn.c) where to go -- glibc's vfork on
 * a host thread, the green one (a fork) on an LWP -- and jumps there with
 * the stack exactly as its caller left it: the callee returns straight to
 * vfork's caller, in the parent and in the child alike.
 *
 * Invariant: nothing of ours is on the stack when the real vfork runs.
 * The call below uses the 16 bytes under the caller's stack pointer and
 * is over before the jump; vfork takes no arguments, so the registers
 * the call clobbers carry nothing.
 */
	.text
	.globl	vfork
	.type	vfork, @function
	.p2align 4
vfork:
	.cfi_startproc
	subq	$8, %rsp		/* entry: rsp = 8 (mod 16); the ABI
					 * wants 0 at the call */
	.cfi_adjust_cfa_offset 8
	call	gpi_vfork_route
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	jmp	*%rax
	.cfi_endproc
	.size	vfork, .-vfork

	.section .note.GNU-stack, "", @progbits
