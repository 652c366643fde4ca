/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preempt.c -- take a worker back from a program thread that computes
 * without ever calling the runtime (green-init mode only).
 *
 * Green threads are cooperative: an LWP switches inside runtime calls.
 * Programs written for kernel threads do not all make one: a thread that
 * busy-waits on a flag another thread sets (redis's I/O threads, a
 * hand-made spin barrier, a token ring) holds its worker for good if the
 * thread it waits for is queued behind it on the same worker.  Natively
 * the kernel's timer tick preempts it.  Here the watchdog plays the
 * tick: once a worker has not switched for RESCHED_NS it asks for a yield
 * at the next signal point (w_resched); if another tick passes without a
 * switch and the worker's thread is running (not asleep in a system
 * call), it sends the worker PREEMPT_SIG.  The handler runs on the
 * interrupted LWP's own stack and, where that is safe, goes through a
 * signal point (gpi_sigpoint_slow): the LWP yields, and its pending green
 * signals and a kill of its process are acted on, as a kernel signal
 * would interrupt the loop natively.  When the LWP is picked again, the
 * handler returns and sigreturn resumes the loop where it was.
 *
 * Where it is safe.  Switching away is what any blocking call of the
 * program already does, with two differences: the point is not one the
 * program chose, and the interrupted code is not known to hold nothing.
 * What it holds is safe to hold across a switch if it is a lock the
 * preload makes green (pthread mutexes, rwlocks, semaphores, futexes
 * through syscall()): the next LWP that wants it parks.  It is not if the
 * lock is owned by the kernel thread or waited for with a futex system
 * call made inline: another LWP of the same worker would enter it as if
 * it held it, or block the worker's thread with the holder queued behind
 * it.  So the handler switches only if the interrupted instruction lies
 * in the code (PT_LOAD segments with PF_X, found once at init; for an
 * object dlopen'd later, glibc's lock-free _dl_find_object) of an
 * object that is none of these (unsafe_objects, by file name): glibc
 * and the dynamic loader (malloc arenas, stdio, the loader's locks);
 * the runtime and what it calls holding its own spin locks; libgcc_s and
 * libstdc++, which glibc enters holding its locks to unwind; libgomp
 * (inline futexes); sanitizer runtimes and allocators with spin locks of
 * their own.  The executable and its other libraries are preempted: a
 * busy-wait is written in the program, and its compute loops may be in
 * any library (a shared libpython's interpreter loop, liblz's
 * compressor), where a thread queued behind them would wait for good or
 * for a whole block; a Python extension module is dlopen'd.  Code that
 * runs under ld.so's lock is not preempted: the preload marks
 * dl_iterate_phdr's callbacks and dlclose's destructors (l_nopreempt,
 * preload/loader.c; dlopen's constructors cannot be, see there).  The
 * stack pointer must also lie in the LWP's stack with PREEMPT_ROOM to
 * spare: the kernel has pushed the signal frame there already, and the
 * switch needs a little more.  And the signal mask of the interrupted
 * code must be the workers' usual one (rt_workmask): a program's fault
 * handler that fault.c chains to runs with its signal blocked, and the
 * next LWP must not inherit that.
 *
 * The signal.  SIGURG (as Go's runtime uses it): rarely used, ignored by
 * default.  Under greenrun every host thread but the workers blocks it
 * and the forwarder takes it from outside; the workers leave it open
 * (gpi_preempt_delset, in rt_workmask).  One sent by the kernel or
 * another process to the host process may therefore land on a worker:
 * the handler tells ours (SI_QUEUE from our own pid, with PREEMPT_MAGIC
 * in si_errno) from those, and hands the others, siginfo and all, to the
 * forwarder thread (rt_tgsigqueueinfo to our own process may carry any
 * si_code), which makes them green as before.
 *
 * The handler is installed SA_NODEFER with an empty sa_mask, so taking it
 * changes no signal mask: the worker that goes on with another LWP while
 * this handler's frame waits on a parked stack runs with its usual mask,
 * and the sigreturn that ends the handler restores the mask of the
 * interruption, which is that same mask.  SA_RESTART: a system call the
 * signal catches (it was aimed at a computing thread, so rarely) starts
 * again, as if nothing came.  Not SA_ONSTACK: the handler must run on
 * the LWP's stack, which it may leave for a while.
 *
 * The stamp.  The watchdog sends the worker's w_nswitch as it saw it
 * (si_value).  If the worker switched since, the LWP it meant is gone
 * from the CPU and the one now running has not held it long: nothing is
 * done.
 */
#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

#define PREEMPT_SIG	SIGURG
#define PREEMPT_MAGIC	0x67707270	/* si_errno of ours: "gprp" */
#define PREEMPT_ROOM	(16 * 1024)	/* stack left below the frame */
#define PREEMPT_NSEG	128		/* code segments recorded */

/*
 * (g) Set before gp_init starts the workers, read-only while they run:
 * whether preemption is wanted (greenrun's constructor), whether it is
 * on (gp_init installed the handler), and the code it may preempt.
 */
static bool want;
static bool on;
static struct {
	uintptr_t	 lo, hi;
	bool		 safe;		/* not an unsafe object's */
} code_seg[PREEMPT_NSEG];
static int ncode_seg;
/*
 * glibc's _dl_find_object (2.35), or NULL: the object of an address,
 * without a lock (made for unwinders, async-signal-safe), for code that
 * is not in code_seg -- an object dlopen'd later.
 */
typedef int (*find_object_fn)(void *, struct dl_find_object *);
static find_object_fn find_object;
static struct sigaction old_act;	/* (g) restored by gpi_preempt_fini */
/*
 * The kernel tid of the thread foreign ones go to, or 0 until greenrun's
 * forwarder runs; one that comes before waits in early_si.  Both sides
 * publish first and look at the other's after (seq_cst), so at least one
 * sees both, and the exchange on early_state lets exactly one send it.
 */
enum { EARLY_EMPTY, EARLY_FILLING, EARLY_FULL };
static atomic_int forward_tid;		/* (a) */
static atomic_int early_state;		/* (a) EARLY_*: a handler claims
					 * the slot with a CAS from EMPTY */
static siginfo_t early_si;		/* (early_state) */
/* (a, relaxed) Preemptions done and signals sent, for gp_dump. */
static atomic_ulong npreempt, nkick;

void
gpi_preempt_want(void)
{
	want = gpi_env(GPI_ENV_PREEMPT) != 0;
}

/* Send what early_si holds to (tid), if nobody did. */
static void
send_early(pid_t tid)
{
	int full = EARLY_FULL;

	if (atomic_compare_exchange_strong(&early_state, &full, EARLY_EMPTY))
		gpi_sig_requeue(tid, &early_si);
}

void
gpi_preempt_forward_to(pid_t tid)
{
	atomic_store(&forward_tid, tid);
	send_early(tid);
}

/*
 * Objects never preempted, by the start of their file name (see the head
 * of this file for why each).  The runtime's own object is found by
 * address, whatever its name.
 */
static const char *const unsafe_objects[] = {
	/* glibc and the loader */
	"ld-linux", "ld64.so", "libc.so", "libpthread.so", "libdl.so",
	"librt.so", "libanl.so", "libresolv.so", "libutil.so", "libnss_",
	"libthread_db", "libmemusage", "libpcprofile", "libSegFault",
	/* what the runtime calls */
	"libunwind", "liburcu", "libdw.", "libdw-", "libelf.", "libelf-",
	"liburing.",
	/* unwinding */
	"libgcc_s.", "libstdc++.",
	/* inline futexes, spin locks of their own */
	"libgomp.", "libasan.", "libtsan.", "libubsan.", "liblsan.",
	"libhwasan.", "libjemalloc.", "libtcmalloc", "libmimalloc.",
};

/* Whether an object of file (path) is one of unsafe_objects. */
static bool
unsafe_name(const char *path)
{
	const char *base;
	size_t i;

	if (path == NULL)
		return true;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	for (i = 0; i < sizeof(unsafe_objects) / sizeof(unsafe_objects[0]); i++)
		if (strncmp(base, unsafe_objects[i],
		    strlen(unsafe_objects[i])) == 0)
			return true;
	return false;
}

/* Whether the object of (info) contains (addr). */
static bool
object_has(const struct dl_phdr_info *info, uintptr_t addr)
{
	const ElfW(Phdr) *ph;
	uintptr_t lo;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz)
			return true;
	}
	return false;
}

/*
 * Record the code of (info) and whether it may be preempted.  The first
 * object dl_iterate_phdr reports is the executable (named ""), then the
 * objects loaded with it, the runtime's own among them (found by
 * address, whatever its name).  Segments past PREEMPT_NSEG are looked up
 * as those of a later dlopen are.
 */
static int
find_code(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph;
	bool safe;
	int i;

	(void)size;
	(void)arg;
	safe = !unsafe_name(info->dlpi_name) &&
	    !object_has(info, (uintptr_t)&gpi_preempt_init);
	for (i = 0; i < info->dlpi_phnum && ncode_seg < PREEMPT_NSEG; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		code_seg[ncode_seg].lo = info->dlpi_addr + ph->p_vaddr;
		code_seg[ncode_seg].hi = code_seg[ncode_seg].lo + ph->p_memsz;
		code_seg[ncode_seg].safe = safe;
		ncode_seg++;
	}
	return 0;
}

/*
 * The mask at the interruption is rt_workmask, in the kernel's 64 bits
 * but for what no mask holds: SIGKILL and SIGSTOP, and glibc's two
 * internal signals (32, 33), which its pthread_sigmask leaves out.
 */
static bool
usual_mask(const ucontext_t *uc)
{
	const uint64_t never = (1ULL << (SIGKILL - 1)) |
	    (1ULL << (SIGSTOP - 1)) | (1ULL << 31) | (1ULL << 32);
	uint64_t got, usual;

	memcpy(&got, &uc->uc_sigmask, sizeof(got));
	memcpy(&usual, &gpi_rt.rt_workmask, sizeof(usual));
	return ((got ^ usual) & ~never) == 0;
}

static bool
preemptible_code(uintptr_t pc)
{
	struct dl_find_object fo;
	int i;

	for (i = 0; i < ncode_seg; i++)
		if (pc >= code_seg[i].lo && pc < code_seg[i].hi)
			return code_seg[i].safe;
	/*
	 * Loaded later.  The object cannot be unloaded under us: its code
	 * is what this thread was running.
	 */
	if (find_object == NULL || find_object((void *)pc, &fo) != 0 ||
	    fo.dlfo_link_map == NULL)
		return false;
	return !unsafe_name(fo.dlfo_link_map->l_name);
}

/*
 * Somebody else's PREEMPT_SIG: to the forwarder, siginfo kept but for
 * its code (gpi_sig_requeue).  The program's main may run before the
 * forwarder does: then the signal waits in early_si (one slot: a second
 * SIGURG merges with a pending one natively too).
 */
static void
forward(int sig, siginfo_t *si)
{
	int empty = EARLY_EMPTY;
	pid_t tid;

	(void)sig;
	if ((tid = atomic_load(&forward_tid)) != 0) {
		gpi_sig_requeue(tid, si);
		return;
	}
	/* Taken: merged with the one waiting, as natively. */
	if (!atomic_compare_exchange_strong(&early_state, &empty,
	    EARLY_FILLING))
		return;
	early_si = *si;
	atomic_store(&early_state, EARLY_FULL);
	if ((tid = atomic_load(&forward_tid)) != 0)
		send_early(tid);
}

static void
preempt_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct gp_worker *w = gpi_tls_worker;
	struct gp_lwp *l;
	uint64_t regs[8];		/* pc, sp, ... (gpi_md_fault_regs) */
	int saved_errno = errno;

	if (si->si_code != SI_QUEUE || si->si_errno != PREEMPT_MAGIC ||
	    si->si_pid != gpi_host_pid()) {
		forward(sig, si);
		goto out;
	}
	/* The scheduler loop, or the worker switched since the look. */
	if (w == NULL || (l = w->w_curlwp) == NULL ||
	    GPI_RD(w->w_nswitch) != (unsigned long)si->si_value.sival_ptr)
		goto out;
	gpi_md_fault_regs(uc, regs);
	if (l->l_nopreempt != 0 || !preemptible_code((uintptr_t)regs[0]) ||
	    !usual_mask(uc) ||
	    regs[1] < (uintptr_t)l->l_stklo + PREEMPT_ROOM ||
	    regs[1] >= (uintptr_t)l->l_stklo + l->l_stksize)
		goto out;
	atomic_fetch_add_explicit(&npreempt, 1, memory_order_relaxed);
	/* w_resched is set: it yields, then acts on signals and kills. */
	gpi_sigpoint_slow(l);
out:
	errno = saved_errno;
}

int
gpi_preempt_init(void)
{
	struct sigaction sa;

	if (!want || on)
		return 0;
	ncode_seg = 0;
	(void)GPI_LIBC(dl_iterate_phdr)(find_code, NULL);
	find_object = (find_object_fn)dlsym(RTLD_DEFAULT, "_dl_find_object");
	if (ncode_seg == 0)
		return 0;		/* nothing to recognize: stay off */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = preempt_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (GPI_LIBC(sigaction)(PREEMPT_SIG, &sa, &old_act) != 0)
		return errno;
	on = true;
	return 0;
}

void
gpi_preempt_fini(void)
{
	if (!on)
		return;
	(void)GPI_LIBC(sigaction)(PREEMPT_SIG, &old_act, NULL);
	on = false;
}

void
gpi_preempt_delset(sigset_t *set)
{
	if (on)
		sigdelset(set, PREEMPT_SIG);
}

bool
gpi_preempt_on(void)
{
	return on;
}

/*
 * The watchdog's tick for worker (w), seen at switch count (stamp) for
 * a tick and more after it asked for a yield.  Only a thread that runs
 * is signalled: one asleep in a system call would only be woken with
 * EINTR, and cannot be preempted there anyway.
 */
void
gpi_preempt_kick(struct gp_worker *w, unsigned long stamp)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = PREEMPT_SIG;
	si.si_code = SI_QUEUE;
	si.si_errno = PREEMPT_MAGIC;
	si.si_pid = gpi_host_pid();
	si.si_uid = getuid();
	si.si_value.sival_ptr = (void *)stamp;
	if (GPI_LIBC(syscall)(SYS_rt_tgsigqueueinfo, si.si_pid,
	    __atomic_load_n(&w->w_tid, __ATOMIC_RELAXED), PREEMPT_SIG,
	    &si) == 0)
		atomic_fetch_add_explicit(&nkick, 1, memory_order_relaxed);
}

void
gpi_preempt_counts(unsigned long *preempted, unsigned long *kicked)
{
	*preempted = atomic_load_explicit(&npreempt, memory_order_relaxed);
	*kicked = atomic_load_explicit(&nkick, memory_order_relaxed);
}
