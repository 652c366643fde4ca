/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_tls.c -- the cost of per-LWP TLS at a switch (issue 16).
 *
 * On one worker, two LWPs yield to each other (medians of RUNS runs of
 * YIELDS yields each), with their own TLS (gp_attr_settls: the switch
 * copies this program's TLS blocks, ~TLS_BYTES, plus h_errno) and without
 * (the one-branch path), then the two ways of changing the thread
 * pointer instead of copying, measured directly: arch_prctl(ARCH_SET_FS)
 * (a system call per switch: rejected) and, where the kernel allows it
 * (AT_HWCAP2 FSGSBASE), wrfsbase (rejected too: see ARCHITECTURE.md
 * section 27).  Linked with libgreenproc.so, not the archive: the
 * runtime's own TLS must not be in the executable's block, which is then
 * left out of the copy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <asm/prctl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "greenproc.h"
#include "benchutil.h"

#define RUNS		9
#define YIELDS		500000L
#define PRCTLS		100000L
#define TLS_BYTES	256

/* Not static: visible, so the compiler keeps every byte of the block. */
__thread char bench_tls_buf[TLS_BYTES - sizeof(long)] = "x";
__thread long bench_tls_count;
static atomic_int arrived, done;
static _Atomic uint64_t t0, t1;

static void *
yielder(void *arg)
{
	long i;

	(void)arg;
	if (atomic_fetch_add(&arrived, 1) == 1)
		atomic_store(&t0, now_ns());
	else
		while (atomic_load(&arrived) < 2)
			gp_yield();
	for (i = 0; i < YIELDS; i++) {
		/* It uses its TLS: the copy is not wasted. */
		bench_tls_buf[i & 127] += (char)++bench_tls_count;
		gp_yield();
	}
	if (atomic_fetch_add(&done, 1) == 1)
		atomic_store(&t1, now_ns());
	return NULL;
}

static double
run(const gp_attr_t *attr)
{
	gp_lwp_t a, b;

	atomic_store(&arrived, 0);
	atomic_store(&done, 0);
	if (gp_lwp_create(&a, yielder, NULL, attr) != 0 ||
	    gp_lwp_create(&b, yielder, NULL, attr) != 0 ||
	    gp_lwp_join(a, NULL) != 0 || gp_lwp_join(b, NULL) != 0) {
		fprintf(stderr, "bench_tls: gp_lwp_create/join failed\n");
		exit(1);
	}
	return (double)(atomic_load(&t1) - atomic_load(&t0)) / (2.0 * YIELDS);
}

static double
series(const gp_attr_t *attr)
{
	double v[RUNS];
	int i;

	(void)run(attr);	/* warm the stack caches */
	for (i = 0; i < RUNS; i++)
		v[i] = run(attr);
	return median(v, RUNS);
}

/* Bytes of the executable's static TLS block (what the copy moves). */
static int
exe_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS)
			*(size_t *)arg = info->dlpi_phdr[i].p_memsz;
	return 1;		/* the first module is the executable */
}

static double
arch_prctl_ns(void)
{
	unsigned long fs;
	uint64_t s;
	long i;

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) != 0)
		return -1;
	s = now_ns();
	for (i = 0; i < PRCTLS; i++)
		(void)syscall(SYS_arch_prctl, ARCH_SET_FS, fs);
	return (double)(now_ns() - s) / PRCTLS;
}

static double
wrfsbase_ns(void)
{
#if defined(__x86_64__)
	unsigned long fs;
	uint64_t s;
	long i;

	if (!(getauxval(AT_HWCAP2) & 2))	/* HWCAP2_FSGSBASE */
		return -1;
	__asm__ volatile("rdfsbase %0" : "=r"(fs));
	s = now_ns();
	for (i = 0; i < PRCTLS * 10; i++)
		__asm__ volatile("wrfsbase %0" : : "r"(fs) : "memory");
	return (double)(now_ns() - s) / (PRCTLS * 10);
#else
	return -1;
#endif
}

int
main(void)
{
	gp_attr_t *own;
	size_t bytes = 0;
	double none, tls, prctl, wrfs;

	quiet_begin();
	dl_iterate_phdr(exe_tls, &bytes);
	prctl = arch_prctl_ns();
	wrfs = wrfsbase_ns();
	if (gp_init(1) != 0 || gp_attr_init(&own) != 0 ||
	    gp_attr_settls(own, 1) != 0) {
		perror("bench_tls: gp_init");
		return 1;
	}
	none = series(NULL);
	tls = series(own);
	gp_attr_destroy(own);
	printf("bench_tls: a switch between two LWPs on one worker "
	    "(median of %d runs)\n", RUNS);
	row("yield, no own TLS", none);
	printf("  chosen: copy the TLS blocks (%zu bytes + h_errno)\n", bytes);
	row("yield, own TLS", tls);
	row("  its cost per switch", tls - none);
	printf("  rejected: change the thread pointer per switch\n");
	row("arch_prctl(ARCH_SET_FS)", prctl);
	row("wrfsbase (FSGSBASE)", wrfs);
	fig("yield, own TLS", "ns", tls, "yield, no own TLS");
	fig("yield, no own TLS", "ns", none, NULL);
	fig("arch_prctl(ARCH_SET_FS)", "ns", prctl, NULL);
	quiet_end();
	judge("own TLS, cost per switch", tls - none, 100.0, "ns", 1);
	return 0;
}
