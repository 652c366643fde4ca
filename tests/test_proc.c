/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proc.c -- green processes: spawn, pids, gp_getpid/gp_getppid, names
 * shown by gp_ps, process groups, reapers, the process limit and the
 * process counters of gp_stats.
 *
 * Suites: proc (gp_init(0)) and proclimit (GREENPROC_MAX_PROCS set before
 * gp_init).  Criterion asserts run only on the host thread; green code
 * reports with GCHECK() (proctest.h) and the host asserts the count.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"

#define LIMIT	64		/* GREENPROC_MAX_PROCS of the proclimit suite */

/* The runtime with GREENPROC_MAX_PROCS=(limit). */
static void
setup_with_limit(int limit)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", limit);
	cr_assert(eq(int, setenv("GREENPROC_MAX_PROCS", v, 1), 0));
	pt_setup();
}

static void
setup_limit(void)
{
	setup_with_limit(LIMIT);
}

/* A broken wait or exit hangs instead of failing: bound every test. */
TestSuite(proc, .init = pt_setup, .fini = pt_teardown, .timeout = 60.0);
TestSuite(proclimit, .init = setup_limit, .fini = pt_teardown, .timeout = 60.0);

/* See test_lwp.c: a failing .fini does not fail the test (Criterion#211). */

/* Every green process the test made is gone (reaped) within 5 s. */
static void
assert_procs_back_to_base(void)
{
	assert_procs_back_within(5 * TU_S);
}

static int
pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* --- spawn and pids ---------------------------------------------------- */

struct ids {
	atomic_int	ran;
	pid_t		pid;
	pid_t		ppid;
	pid_t		pgid;
	void		*arg;
	int		green;		/* gp_lwp_self() != NULL */
};

static struct ids ids1;

static int
record_ids(void *arg)
{
	ids1.pid = gp_getpid();
	ids1.ppid = gp_getppid();
	ids1.pgid = gp_getpgid(0);
	ids1.arg = arg;
	ids1.green = gp_lwp_self() != NULL;
	atomic_store(&ids1.ran, 1);
	return 0;
}

Test(proc, spawn_runs_entry_in_a_new_green_process)
{
	static int token;
	pid_t pid;
	int st;

	cr_assert(eq(int, (int)gp_getpid(), GP_PID_INIT));
	pid = gp_spawn(record_ids, &token, NULL);
	cr_assert(ge(int, (int)pid, GP_PID_INIT + 1), "gp_spawn: %s",
	    strerror(errno));
	cr_assert(ne(int, (int)GP_IS_GREEN(pid), 0));
	st = host_reap(pid);
	cr_assert(ne(int, (int)WIFEXITED(st), 0), "status %#x", st);
	cr_assert(eq(int, WEXITSTATUS(st), 0));
	cr_assert(eq(int, tu_ld(&ids1.ran), 1));
	cr_assert(eq(int, (int)ids1.pid, (int)pid));
	cr_assert(eq(int, (int)ids1.ppid, GP_PID_INIT));
	cr_assert(eq(ptr, ids1.arg, &token));
	cr_assert(eq(int, ids1.green, 1));
	/* The host is still init. */
	cr_assert(eq(int, (int)gp_getpid(), GP_PID_INIT));
	assert_procs_back_to_base();
	end_test();
}

Test(proc, spawn_rejects_bad_arguments)
{
	char *argv[] = { "x", NULL };

	errno = 0;
	cr_assert(eq(int, (int)gp_spawn(NULL, NULL, NULL), -1));
	cr_assert(eq(int, errno, EINVAL));
	errno = 0;
	cr_assert(eq(int, (int)gp_spawn_main(NULL, 1, argv, NULL), -1));
	cr_assert(eq(int, errno, EINVAL));
	assert_procs_back_to_base();
	end_test();
}

/* LWPs made by a host thread belong to init. */
static atomic_int lwp_pid;

static void *
lwp_record_pid(void *arg)
{
	atomic_store(&lwp_pid, (int)gp_getpid());
	return arg;
}

Test(proc, lwps_made_by_a_host_thread_belong_to_init)
{
	gp_lwp_t h;

	cr_assert(eq(int, gp_lwp_create(&h, lwp_record_pid, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	cr_assert(eq(int, tu_ld(&lwp_pid), GP_PID_INIT));
	end_test();
}

/* Every LWP of a green process has that process's pid and parent. */
#define NLWPS	4
static pid_t lwp_pids[NLWPS], lwp_ppids[NLWPS];

static void *
lwp_record_slot(void *arg)
{
	int i = (int)(intptr_t)arg;

	gp_yield();
	lwp_pids[i] = gp_getpid();
	lwp_ppids[i] = gp_getppid();
	return arg;
}

static int
make_lwps_and_join(void *arg)
{
	gp_lwp_t h[NLWPS];
	int i;

	(void)arg;
	for (i = 0; i < NLWPS; i++)
		GCHECK(gp_lwp_create(&h[i], lwp_record_slot,
		    (void *)(intptr_t)i, NULL) == 0, "lwp %d", i);
	for (i = 0; i < NLWPS; i++)
		GCHECK(gp_lwp_join(h[i], NULL) == 0, "join %d", i);
	return 5;
}

Test(proc, lwps_of_a_green_process_share_its_pid_and_parent)
{
	pid_t pid;
	int i, st;

	pid = gp_spawn(make_lwps_and_join, NULL, NULL);
	cr_assert(ge(int, (int)pid, GP_PID_INIT + 1));
	st = host_reap(pid);
	cr_assert(eq(int, WEXITSTATUS(st), 5));
	assert_no_green_failures();
	for (i = 0; i < NLWPS; i++) {
		cr_assert(eq(int, (int)lwp_pids[i], (int)pid), "lwp %d", i);
		cr_assert(eq(int, (int)lwp_ppids[i], GP_PID_INIT), "lwp %d", i);
	}
	end_test();
}

/* A grandchild's parent is the green process that spawned it. */
static pid_t gc_pid, gc_ppid;

static int
gc_record(void *arg)
{
	(void)arg;
	gc_pid = gp_getpid();
	gc_ppid = gp_getppid();
	return 3;
}

static int
spawn_grandchild(void *arg)
{
	pid_t g;
	int st = -1;

	(void)arg;
	GCHECK(gp_getppid() == GP_PID_INIT, "ppid %d", (int)gp_getppid());
	g = gp_spawn(gc_record, NULL, NULL);
	GCHECK(g > GP_PID_INIT, "gp_spawn: %s", strerror(errno));
	GCHECK(g != gp_getpid(), "same pid as parent");
	GCHECK(gp_waitpid(g, &st, 0) == g, "waitpid: %s", strerror(errno));
	GCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %#x", st);
	GCHECK(gc_pid == g, "grandchild saw pid %d, spawn said %d",
	    (int)gc_pid, (int)g);
	GCHECK(gc_ppid == gp_getpid(), "grandchild's ppid %d, parent %d",
	    (int)gc_ppid, (int)gp_getpid());
	return 0;
}

Test(proc, a_green_parents_child_sees_it_as_ppid)
{
	pid_t pid;
	int st;

	pid = gp_spawn(spawn_grandchild, NULL, NULL);
	cr_assert(ge(int, (int)pid, GP_PID_INIT + 1));
	st = host_reap(pid);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}

/* Processes alive at once have distinct green pids. */
#define NALIVE	1000
static atomic_int release_all;
static atomic_int started;

static int
count_and_block(void *arg)
{
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&release_all))
		pt_nap_ns(5 * TU_MS);
	return (int)(intptr_t)arg;
}

Test(proc, live_processes_have_distinct_green_pids)
{
	static pid_t pids[NALIVE], sorted[NALIVE];
	static int seen[NALIVE];
	int i, j, st, dups = 0;
	pid_t r;

	for (i = 0; i < NALIVE; i++) {
		pids[i] = gp_spawn(count_and_block, (void *)(intptr_t)(i & 0x7f),
		    NULL);
		cr_assert(ge(int, (int)pids[i], GP_PID_INIT + 1),
		    "spawn %d: %s", i, strerror(errno));
		cr_assert(ne(int, (int)GP_IS_GREEN(pids[i]), 0));
	}
	memcpy(sorted, pids, sizeof(pids));
	qsort(sorted, NALIVE, sizeof(sorted[0]), pid_cmp);
	for (i = 1; i < NALIVE; i++)
		if (sorted[i] == sorted[i - 1])
			dups++;
	cr_assert(eq(int, dups, 0), "pids given twice among live processes");
	cr_assert(eq(int, pt_wait_for(&started, NALIVE, 20 * TU_S), 0));

	atomic_store(&release_all, 1);
	for (i = 0; i < NALIVE; i++) {
		r = gp_waitpid(-1, &st, 0);
		cr_assert(ge(int, (int)r, GP_PID_INIT + 1), "waitpid: %s",
		    strerror(errno));
		for (j = 0; j < NALIVE && pids[j] != r; j++)
			continue;
		cr_assert(lt(int, j, NALIVE), "unknown pid %d", (int)r);
		cr_assert(eq(int, seen[j], 0), "pid %d reported twice", (int)r);
		seen[j] = 1;
		cr_assert(eq(int, WEXITSTATUS(st), j & 0x7f));
	}
	errno = 0;
	cr_assert(eq(int, (int)gp_waitpid(-1, &st, WNOHANG), -1));
	cr_assert(eq(int, errno, ECHILD));
	assert_procs_back_to_base();
	end_test();
}

/* A zombie's pid is not given to anyone else until it is reaped. */
static atomic_int zombie_ran;

static int
exit_at_once(void *arg)
{
	atomic_store(&zombie_ran, 1);
	return (int)(intptr_t)arg;
}

static int
ret_zero(void *arg)
{
	(void)arg;
	return 0;
}

#define NREUSE	3000

Test(proc, zombie_pid_is_not_reused_until_reaped)
{
	pid_t z, p;
	int i, st;

	z = gp_spawn(exit_at_once, (void *)(intptr_t)17, NULL);
	cr_assert(ge(int, (int)z, GP_PID_INIT + 1));
	cr_assert(eq(int, pt_wait_for(&zombie_ran, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);	/* let it become a zombie */
	for (i = 0; i < NREUSE; i++) {
		p = gp_spawn(ret_zero, NULL, NULL);
		cr_assert(ge(int, (int)p, GP_PID_INIT + 1), "spawn %d: %s", i,
		    strerror(errno));
		cr_assert(ne(int, (int)p, (int)z),
		    "zombie's pid given out again after %d spawns", i);
		cr_assert(eq(int, (int)gp_waitpid(p, &st, 0), (int)p));
	}
	st = host_reap(z);
	cr_assert(eq(int, WEXITSTATUS(st), 17));
	assert_procs_back_to_base();
	end_test();
}

/*
 * A reaped process's struct is reused at once by the next spawn (the same
 * worker's cache).  Its pid must then name nothing -- kill, getpgid,
 * setpgid and proc_watch say ESRCH and reach no one -- and the next
 * process must start clean: no handler or group of the old one.
 */
static atomic_int reuse_go;

static void
reuse_handler(int sig)
{
	(void)sig;
}

static int
reuse_first(void *arg)
{
	struct sigaction sa;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reuse_handler;
	GCHECK(gp_sigaction(SIGTERM, &sa, NULL) == 0, "sigaction");
	GCHECK(gp_setpgid(0, 0) == 0, "setpgid");
	return 3;
}

static int
reuse_second(void *arg)
{
	struct sigaction old;

	(void)arg;
	GCHECK(gp_sigaction(SIGTERM, NULL, &old) == 0 &&
	    old.sa_handler == SIG_DFL, "a handler left by the reaped process");
	GCHECK(gp_getpgid(0) == gp_getpgid(gp_getppid()),
	    "the reaped process's group left over");
	pt_green_wait(&reuse_go);
	return 0;
}

static int
reuse_parent(void *arg)
{
	pid_t a, b;
	int st, i, fd;

	(void)arg;
	for (i = 0; i < 100; i++) {
		a = gp_spawn(reuse_first, NULL, NULL);
		GCHECK(a > 0 && gp_waitpid(a, &st, 0) == a && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 3, "first child");
		atomic_store(&reuse_go, 0);
		b = gp_spawn(reuse_second, NULL, NULL);
		GCHECK(b > 0 && b != a, "second child");
		errno = 0;
		GCHECK(gp_kill(a, SIGTERM) == -1 && errno == ESRCH,
		    "kill of a reaped pid");
		errno = 0;
		GCHECK(gp_getpgid(a) == -1 && errno == ESRCH, "getpgid");
		errno = 0;
		GCHECK(gp_setpgid(a, 0) == -1 && errno == ESRCH, "setpgid");
		errno = 0;
		fd = gp_proc_watch(a);
		GCHECK(fd == -1 && errno == ESRCH, "proc_watch");
		atomic_store(&reuse_go, 1);
		GCHECK(gp_waitpid(b, &st, 0) == b && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0, "second child's status %#x: a "
		    "signal meant for the reaped pid reached it", st);
	}
	return 0;
}

Test(proc, a_reaped_pid_names_nothing_when_its_memory_is_reused)
{
	pid_t p = spawn_ok(reuse_parent, NULL);
	int st = host_reap(p);

	cr_assert(eq(int, st, 0), "parent status %#x", st);
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}

/*
 * Reaped process structs are reused at once, and what a burst leaves
 * beyond the pool's keep goes back to malloc after an RCU grace period:
 * 40k processes alive at once, then all reaped, must not leave 40k
 * structs behind.
 */
#define NBURST		40000
/*
 * What may stay, as a share of the burst's peak: the pool keeps 16k
 * structs (PROC_POOL_KEEP, 41 % of 40k), plus caches and slack.  A share,
 * not bytes: the struct's size is the build's (DEBUG=1 adds fields), and
 * a fixed 5 MB failed there when the struct grew by a pointer.
 */
#define BURST_KEEP_PCT	55

static atomic_int burst_go;

static int
burst_child(void *arg)
{
	(void)arg;
	pt_green_wait(&burst_go);
	return 0;
}

Test(proc, a_burst_of_processes_gives_its_structs_back_after_a_grace_period)
{
	static pid_t pids[NBURST];
	size_t before, peak, keep, now = 0;
	uint64_t end;
	int i, st;

	before = mallinfo2().uordblks;
	for (i = 0; i < NBURST; i++)
		pids[i] = spawn_ok(burst_child, NULL);
	peak = mallinfo2().uordblks;
	if (peak == 0) {
		/* A sanitizer's allocator keeps no malloc statistics. */
		atomic_store(&burst_go, 1);
		for (i = 0; i < NBURST; i++)
			(void)gp_waitpid(pids[i], &st, 0);
		end_test();
		cr_skip_test("mallinfo2() gives no figures under this allocator");
	}
	cr_assert(gt(sz, peak - before, (size_t)NBURST * 200),
	    "%d processes took only %zu bytes of malloc", NBURST,
	    peak - before);
	atomic_store(&burst_go, 1);
	for (i = 0; i < NBURST; i++) {
		cr_assert(eq(int, (int)gp_waitpid(pids[i], &st, 0),
		    (int)pids[i]));
		cr_assert(eq(int, st, 0));
	}
	keep = (peak - before) / 100 * BURST_KEEP_PCT;
	end = tu_now_ns() + 10 * TU_S;
	while ((now = mallinfo2().uordblks) > before + keep &&
	    tu_now_ns() < end)
		tu_host_sleep_ns(10 * TU_MS);
	cr_assert(le(sz, now - before, keep),
	    "%zu bytes still held after reaping %d processes (peak %zu)",
	    now - before, NBURST, peak - before);
	assert_procs_back_to_base();
	end_test();
}

/* --- counters ---------------------------------------------------------- */

/* Poll gp_stats() until n processes have exited since gp_init(). */
static int
wait_exits(unsigned long n, struct gp_counters *st)
{
	uint64_t end = tu_now_ns() + 5 * TU_S;

	for (;;) {
		if (gp_stats(st) != 0)
			return -1;
		if (st->exits - base.exits >= n)
			return 0;
		if (tu_now_ns() >= end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
}

#define NCOUNT	10

Test(proc, stats_count_spawns_exits_reaps_and_live_zombies)
{
	struct gp_counters st;
	pid_t pids[NCOUNT];
	int i, ws;

	for (i = 0; i < NCOUNT; i++) {
		pids[i] = gp_spawn(count_and_block, NULL, NULL);
		cr_assert(ge(int, (int)pids[i], GP_PID_INIT + 1));
	}
	cr_assert(eq(int, pt_wait_for(&started, NCOUNT, 5 * TU_S), 0));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.live_procs - base.live_procs, (long)NCOUNT));
	cr_assert(eq(ulong, st.spawns - base.spawns, (unsigned long)NCOUNT));
	cr_assert(eq(ulong, st.exits - base.exits, 0ul));

	/* Zombies still count as live until reaped. */
	atomic_store(&release_all, 1);
	cr_assert(eq(int, wait_exits(NCOUNT, &st), 0), "%lu exits",
	    st.exits - base.exits);
	cr_assert(eq(ulong, st.exits - base.exits, (unsigned long)NCOUNT));
	cr_assert(eq(ulong, st.reaps - base.reaps, 0ul));
	cr_assert(eq(long, st.live_procs - base.live_procs, (long)NCOUNT));

	for (i = 0; i < NCOUNT; i++)
		cr_assert(eq(int, (int)gp_waitpid(pids[i], &ws, 0),
		    (int)pids[i]));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(ulong, st.reaps - base.reaps, (unsigned long)NCOUNT));
	assert_procs_back_to_base();
	end_test();
}

/* --- gp_ps ------------------------------------------------------------- */

struct psrow {
	long	pid, ppid, pgid, nlwp;
	char	stat[16];
	char	name[64];
	int	ntok;
};

/* Find the line of pid in gp_ps output; 0 if found. */
static int
ps_find(const char *buf, pid_t pid, struct psrow *r)
{
	char line[512], *tok, *save, *last;
	const char *p = buf, *nl;
	size_t n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);

		memset(r, 0, sizeof(*r));
		last = NULL;
		for (tok = strtok_r(line, " \t", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t", &save)) {
			switch (r->ntok) {
			case 0: r->pid = strtol(tok, NULL, 10); break;
			case 1: r->ppid = strtol(tok, NULL, 10); break;
			case 2: r->pgid = strtol(tok, NULL, 10); break;
			case 3: snprintf(r->stat, sizeof(r->stat), "%s", tok);
				break;
			case 4: r->nlwp = strtol(tok, NULL, 10); break;
			}
			r->ntok++;
			last = tok;
		}
		if (r->ntok >= 1 && r->pid == (long)pid) {
			if (last != NULL)
				snprintf(r->name, sizeof(r->name), "%s", last);
			return 0;
		}
	}
	return -1;
}

static char *
ps_capture(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&buf, &len);
	cr_assert(not(eq(ptr, f, NULL)));
	rc = gp_ps(f);
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(ge(int, rc, 0), "gp_ps: %s", strerror(errno));
	return buf;
}

static atomic_int ps_release;
static atomic_int ps_ready;
static atomic_int gamma_pid;

static void *
lwp_block(void *arg)
{
	pt_green_wait(&ps_release);
	return arg;
}

/* "alpha": three LWPs, blocked until ps_release. */
static int
alpha_main(void *arg)
{
	gp_lwp_t h[2];
	int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		GCHECK(gp_lwp_create(&h[i], lwp_block, NULL, NULL) == 0,
		    "lwp");
	atomic_fetch_add(&ps_ready, 1);
	pt_green_wait(&ps_release);
	for (i = 0; i < 2; i++)
		GCHECK(gp_lwp_join(h[i], NULL) == 0, "join");
	return 0;
}

static int
gamma_main(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ps_ready, 1);
	pt_green_wait(&ps_release);
	return 0;
}

/* "beta": names and spawns "gamma" itself. */
static int
beta_main(void *arg)
{
	gp_attr_t *a;
	pid_t g;
	int st;

	(void)arg;
	GCHECK(gp_attr_init(&a) == 0, "attr");
	GCHECK(gp_attr_setname(a, "gamma") == 0, "setname");
	g = gp_spawn(gamma_main, NULL, a);
	GCHECK(g > GP_PID_INIT, "spawn: %s", strerror(errno));
	gp_attr_destroy(a);
	atomic_store(&gamma_pid, (int)g);
	atomic_fetch_add(&ps_ready, 1);
	GCHECK(gp_waitpid(g, &st, 0) == g, "waitpid: %s", strerror(errno));
	return 0;
}

static pid_t
spawn_named(int (*fn)(void *), const char *name)
{
	gp_attr_t *a;
	pid_t p;

	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setname(a, name), 0));
	p = gp_spawn(fn, NULL, a);
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1), "spawn %s: %s", name,
	    strerror(errno));
	return p;
}

Test(proc, ps_lists_pid_ppid_pgid_stat_nlwp_and_name)
{
	struct gp_counters st0;
	struct psrow r;
	pid_t alpha, beta, zed;
	char *buf;
	int st;

	alpha = spawn_named(alpha_main, "alpha");
	beta = spawn_named(beta_main, "beta");
	zed = spawn_named(exit_at_once, "zed");
	cr_assert(eq(int, pt_wait_for(&ps_ready, 3, 5 * TU_S), 0));
	cr_assert(eq(int, pt_wait_for(&zombie_ran, 1, 5 * TU_S), 0));
	/* zed is the only one that exits: wait until it is a zombie. */
	cr_assert(eq(int, wait_exits(1, &st0), 0));
	tu_host_sleep_ns(20 * TU_MS);	/* alpha's LWPs started */

	buf = ps_capture();
	cr_assert(not(eq(ptr, strstr(buf, "PID"), NULL)), "no header:\n%s",
	    buf);
	cr_assert(not(eq(ptr, strstr(buf, "PPID"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "PGID"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "STAT"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "NLWP"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "TIME"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "NAME"), NULL)), "%s", buf);

	cr_assert(eq(int, ps_find(buf, alpha, &r), 0), "alpha missing:\n%s",
	    buf);
	cr_assert(ge(int, r.ntok, 7), "%s", buf);
	cr_assert(eq(long, r.ppid, (long)GP_PID_INIT), "%s", buf);
	cr_assert(eq(long, r.pgid, (long)alpha), "%s", buf);
	cr_assert(eq(long, r.nlwp, 3L), "%s", buf);
	cr_assert(eq(str, r.name, "alpha"), "%s", buf);

	cr_assert(eq(int, ps_find(buf, beta, &r), 0), "beta missing:\n%s",
	    buf);
	cr_assert(eq(str, r.name, "beta"), "%s", buf);
	cr_assert(eq(int, ps_find(buf, atomic_load(&gamma_pid), &r), 0),
	    "gamma missing:\n%s", buf);
	cr_assert(eq(long, r.ppid, (long)beta), "%s", buf);
	cr_assert(eq(long, r.pgid, (long)beta), "%s", buf);
	cr_assert(eq(str, r.name, "gamma"), "%s", buf);

	cr_assert(eq(int, ps_find(buf, zed, &r), 0), "zombie missing:\n%s",
	    buf);
	cr_assert(not(eq(ptr, strchr(r.stat, 'Z'), NULL)),
	    "zombie's STAT is '%s':\n%s", r.stat, buf);
	cr_assert(eq(str, r.name, "zed"), "%s", buf);
	free(buf);

	atomic_store(&ps_release, 1);
	st = host_reap(alpha);
	cr_assert(eq(int, st, 0));
	st = host_reap(beta);
	cr_assert(eq(int, st, 0));
	(void)host_reap(zed);

	/* Reaped processes are no longer listed. */
	buf = ps_capture();
	cr_assert(ne(int, ps_find(buf, alpha, &r), 0), "%s", buf);
	cr_assert(ne(int, ps_find(buf, zed, &r), 0), "%s", buf);
	free(buf);
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}

/* --- process groups ---------------------------------------------------- */

static int
report_pgid(void *arg)
{
	pid_t *out = arg;

	*out = gp_getpgid(0);
	return 0;
}

Test(proc, a_child_of_init_leads_a_group_of_its_own)
{
	pid_t pid, seen = 0;
	int st;

	pid = gp_spawn(report_pgid, &seen, NULL);
	cr_assert(ge(int, (int)pid, GP_PID_INIT + 1));
	st = host_reap(pid);
	cr_assert(eq(int, st, 0));
	cr_assert(eq(int, (int)seen, (int)pid));
	end_test();
}

static atomic_int grp_go;

static int
wait_go_then_report_pgid(void *arg)
{
	pid_t *out = arg;

	pt_green_wait(&grp_go);
	*out = gp_getpgid(0);
	return 0;
}

static int
block_on_grp_go(void *arg)
{
	(void)arg;
	pt_green_wait(&grp_go);
	return 0;
}

/*
 * In a green parent P (leader of group P): children join P's group;
 * setpgid(c, 0) makes c a leader; setpgid(c2, c) moves c2 into it;
 * setpgid(0, 0) in a child; POSIX errors.
 */
static pid_t g_seen[3];

static int
group_parent(void *arg)
{
	pid_t me = gp_getpid(), c[3], other = (pid_t)(intptr_t)arg;
	int i, st;

	GCHECK(gp_getpgid(0) == me, "parent pgid %d", (int)gp_getpgid(0));
	for (i = 0; i < 3; i++) {
		c[i] = gp_spawn(wait_go_then_report_pgid, &g_seen[i], NULL);
		GCHECK(c[i] > GP_PID_INIT, "spawn: %s", strerror(errno));
		GCHECK(gp_getpgid(c[i]) == me, "child %d pgid %d", i,
		    (int)gp_getpgid(c[i]));
	}
	/* c[1] leads a new group; c[2] joins it. */
	GCHECK(gp_setpgid(c[1], 0) == 0, "setpgid(c1, 0): %s",
	    strerror(errno));
	GCHECK(gp_getpgid(c[1]) == c[1], "c1 pgid %d", (int)gp_getpgid(c[1]));
	GCHECK(gp_setpgid(c[2], c[1]) == 0, "setpgid(c2, c1): %s",
	    strerror(errno));
	GCHECK(gp_getpgid(c[2]) == c[1], "c2 pgid %d", (int)gp_getpgid(c[2]));
	/* And back into the parent's group, which exists in the session. */
	GCHECK(gp_setpgid(c[2], me) == 0, "setpgid(c2, me): %s",
	    strerror(errno));
	GCHECK(gp_getpgid(c[2]) == me, "c2 pgid %d", (int)gp_getpgid(c[2]));

	/* Errors. */
	errno = 0;
	GCHECK(gp_setpgid(c[0], -5) == -1 && errno == EINVAL,
	    "negative pgid: errno %d", errno);
	errno = 0;
	GCHECK(gp_setpgid(c[0], GP_PID_BASE + 0x3fff0000) == -1 &&
	    errno == EPERM, "no such group: errno %d", errno);
	errno = 0;
	GCHECK(gp_setpgid(GP_PID_BASE + 0x3fff0001, 0) == -1 &&
	    errno == ESRCH, "no such process: errno %d", errno);
	errno = 0;
	GCHECK(gp_setpgid(other, 0) == -1 && errno == ESRCH,
	    "not a child (a sibling): errno %d", errno);
	errno = 0;
	GCHECK(gp_getpgid(GP_PID_BASE + 0x3fff0001) == -1 && errno == ESRCH,
	    "getpgid of no such process: errno %d", errno);
	/* getpgid of a process that is not a child works (POSIX). */
	GCHECK(gp_getpgid(other) == other, "sibling's pgid %d",
	    (int)gp_getpgid(other));

	atomic_store(&grp_go, 1);
	for (i = 0; i < 3; i++)
		GCHECK(gp_waitpid(c[i], &st, 0) == c[i], "wait %d: %s", i,
		    strerror(errno));
	GCHECK(g_seen[0] == me, "c0 saw pgid %d", (int)g_seen[0]);
	GCHECK(g_seen[1] == c[1], "c1 saw pgid %d", (int)g_seen[1]);
	GCHECK(g_seen[2] == me, "c2 saw pgid %d", (int)g_seen[2]);
	return 0;
}

Test(proc, green_children_join_the_parents_group_and_setpgid_follows_posix)
{
	pid_t sib, p;
	int st;

	sib = gp_spawn(block_on_grp_go, NULL, NULL);
	cr_assert(ge(int, (int)sib, GP_PID_INIT + 1));
	p = gp_spawn(group_parent, (void *)(intptr_t)sib, NULL);
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1));
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	(void)host_reap(sib);
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}

/* setpgid(0, 0) and setpgid(0, parent's group) by the process itself. */
static int
self_regroup(void *arg)
{
	pid_t me = gp_getpid(), pg = gp_getpgid(0);

	(void)arg;
	GCHECK(pg == gp_getppid(), "started in group %d, parent %d", (int)pg,
	    (int)gp_getppid());
	GCHECK(gp_setpgid(0, 0) == 0, "setpgid(0, 0): %s", strerror(errno));
	GCHECK(gp_getpgid(0) == me, "pgid %d", (int)gp_getpgid(0));
	GCHECK(gp_getpgid(me) == me, "getpgid(me) %d", (int)gp_getpgid(me));
	GCHECK(gp_setpgid(me, pg) == 0, "back to parent's group: %s",
	    strerror(errno));
	GCHECK(gp_getpgid(0) == pg, "pgid %d", (int)gp_getpgid(0));
	return 0;
}

static int
spawn_self_regroup(void *arg)
{
	pid_t c;
	int st = -1;

	(void)arg;
	c = gp_spawn(self_regroup, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn: %s", strerror(errno));
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait: %s", strerror(errno));
	GCHECK(st == 0, "status %#x", st);
	return 0;
}

Test(proc, a_process_can_regroup_itself)
{
	pid_t p;
	int st;

	p = gp_spawn(spawn_self_regroup, NULL, NULL);
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1));
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	end_test();
}

/* Init may regroup any of its children; not its grandchildren. */
static atomic_int gkid_pid;

static int
spawn_blocked_grandchild(void *arg)
{
	pid_t g;
	int st;

	(void)arg;
	g = gp_spawn(block_on_grp_go, NULL, NULL);
	GCHECK(g > GP_PID_INIT, "spawn: %s", strerror(errno));
	atomic_store(&gkid_pid, (int)g);
	GCHECK(gp_waitpid(g, &st, 0) == g, "wait: %s", strerror(errno));
	return 0;
}

Test(proc, init_regroups_its_children_with_posix_errors)
{
	pid_t a, b, p;
	int st;

	a = gp_spawn(block_on_grp_go, NULL, NULL);
	b = gp_spawn(block_on_grp_go, NULL, NULL);
	p = gp_spawn(spawn_blocked_grandchild, NULL, NULL);
	cr_assert(ge(int, (int)a, GP_PID_INIT + 1));
	cr_assert(ge(int, (int)b, GP_PID_INIT + 1));
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1));
	cr_assert(eq(int, (int)gp_getpgid(b), (int)b));

	cr_assert(eq(int, gp_setpgid(b, a), 0), "setpgid(b, a): %s",
	    strerror(errno));
	cr_assert(eq(int, (int)gp_getpgid(b), (int)a));
	cr_assert(eq(int, gp_setpgid(b, 0), 0), "setpgid(b, 0): %s",
	    strerror(errno));
	cr_assert(eq(int, (int)gp_getpgid(b), (int)b));
	cr_assert(eq(int, gp_setpgid(b, b), 0));

	errno = 0;
	cr_assert(eq(int, gp_setpgid(b, GP_PID_BASE + 0x3fff0000), -1));
	cr_assert(eq(int, errno, EPERM));
	errno = 0;
	cr_assert(eq(int, gp_setpgid(b, -3), -1));
	cr_assert(eq(int, errno, EINVAL));

	cr_assert(eq(int, pt_wait_for(&gkid_pid, GP_PID_INIT + 1, 5 * TU_S),
	    0));
	errno = 0;
	cr_assert(eq(int, gp_setpgid(atomic_load(&gkid_pid), 0), -1),
	    "init regrouped a grandchild");
	cr_assert(eq(int, errno, ESRCH));
	/* The grandchild is in its parent's group (p's). */
	cr_assert(eq(int, (int)gp_getpgid(atomic_load(&gkid_pid)), (int)p));

	atomic_store(&grp_go, 1);
	(void)host_reap(a);
	(void)host_reap(b);
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}

/* --- reapers ----------------------------------------------------------- */

Test(proc, reaper_acquire_succeeds_in_init)
{
	cr_assert(eq(int, gp_reaper_acquire(), 0), "%s", strerror(errno));
	end_test();
}

/*
 * A (reaper) -> B (not a reaper: status is not inherited) -> C -> D.
 * C exits: D goes to A, the nearest ancestor that is a reaper, not to B
 * nor to init.  A then reaps D.
 */
static atomic_int d_started, c_reaped, d_release;
static atomic_int d_ppid_before, d_ppid_after;
static atomic_int d_pid, c_pid;

static int
chain_d(void *arg)
{
	(void)arg;
	atomic_store(&d_ppid_before, (int)gp_getppid());
	atomic_store(&d_started, 1);
	pt_green_wait(&c_reaped);
	atomic_store(&d_ppid_after, (int)gp_getppid());
	pt_green_wait(&d_release);
	return 44;
}

static int
chain_c(void *arg)
{
	pid_t d;

	(void)arg;
	atomic_store(&c_pid, (int)gp_getpid());
	d = gp_spawn(chain_d, NULL, NULL);
	GCHECK(d > GP_PID_INIT, "spawn d: %s", strerror(errno));
	atomic_store(&d_pid, (int)d);
	pt_green_wait(&d_started);
	return 33;		/* orphans d */
}

static int
chain_b(void *arg)
{
	pid_t c, d;
	int st = -1;

	(void)arg;
	c = gp_spawn(chain_c, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn c: %s", strerror(errno));
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait c: %s", strerror(errno));
	GCHECK(WEXITSTATUS(st) == 33, "c's status %#x", st);
	d = (pid_t)atomic_load(&d_pid);
	errno = 0;
	GCHECK(gp_waitpid(d, &st, WNOHANG) == -1 && errno == ECHILD,
	    "grandchild d went to b: errno %d", errno);
	atomic_store(&c_reaped, 1);
	return 22;
}

static int
chain_a(void *arg)
{
	pid_t me = gp_getpid(), b, r;
	int st = -1;

	(void)arg;
	GCHECK(gp_reaper_acquire() == 0, "acquire: %s", strerror(errno));
	b = gp_spawn(chain_b, NULL, NULL);
	GCHECK(b > GP_PID_INIT, "spawn b: %s", strerror(errno));
	GCHECK(gp_waitpid(b, &st, 0) == b, "wait b: %s", strerror(errno));
	GCHECK(WEXITSTATUS(st) == 22, "b's status %#x", st);
	/* d is now our child. */
	pt_green_wait(&d_ppid_after);
	GCHECK(atomic_load(&d_ppid_after) == me, "d's ppid %d, reaper %d",
	    atomic_load(&d_ppid_after), (int)me);
	errno = 0;
	GCHECK(gp_waitpid(-1, &st, WNOHANG) == 0,
	    "d is alive: WNOHANG must give 0 (errno %d)", errno);
	atomic_store(&d_release, 1);
	r = gp_waitpid(-1, &st, 0);
	GCHECK(r == (pid_t)atomic_load(&d_pid), "wait(-1) gave %d, d is %d"
	    " (errno %d)", (int)r, atomic_load(&d_pid), errno);
	GCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 44, "d's status %#x", st);
	errno = 0;
	GCHECK(gp_waitpid(-1, &st, 0) == -1 && errno == ECHILD,
	    "more children: errno %d", errno);
	return 11;
}

Test(proc, orphans_go_to_the_nearest_reaper_which_reaps_them)
{
	pid_t a;
	int st;

	a = gp_spawn(chain_a, NULL, NULL);
	cr_assert(ge(int, (int)a, GP_PID_INIT + 1));
	st = host_reap(a);
	assert_no_green_failures();
	cr_assert(eq(int, WEXITSTATUS(st), 11));
	cr_assert(eq(int, tu_ld(&d_ppid_before), tu_ld(&c_pid)));
	cr_assert(eq(int, tu_ld(&d_ppid_after), (int)a));
	assert_procs_back_to_base();
	end_test();
}

/*
 * A acquires, spawns B, B spawns C (alive), A releases, B exits: C goes
 * to init, not to A.  Init reaps C itself when it exits.
 */
static atomic_int rel_c_started, rel_b_go, rel_c_checked, rel_c_release;
static atomic_int rel_c_ppid;

static int
rel_c(void *arg)
{
	(void)arg;
	atomic_store(&rel_c_started, 1);
	pt_green_wait(&rel_c_checked);
	atomic_store(&rel_c_ppid, (int)gp_getppid());
	pt_green_wait(&rel_c_release);
	return 0;
}

static int
rel_b(void *arg)
{
	(void)arg;
	GCHECK(gp_spawn(rel_c, NULL, NULL) > GP_PID_INIT, "spawn c: %s",
	    strerror(errno));
	pt_green_wait(&rel_c_started);
	pt_green_wait(&rel_b_go);
	return 0;		/* orphans c */
}

static int
rel_a(void *arg)
{
	pid_t b;
	int st;

	(void)arg;
	GCHECK(gp_reaper_acquire() == 0, "acquire: %s", strerror(errno));
	b = gp_spawn(rel_b, NULL, NULL);
	GCHECK(b > GP_PID_INIT, "spawn b: %s", strerror(errno));
	pt_green_wait(&rel_c_started);
	GCHECK(gp_reaper_release() == 0, "release: %s", strerror(errno));
	atomic_store(&rel_b_go, 1);
	GCHECK(gp_waitpid(b, &st, 0) == b, "wait b: %s", strerror(errno));
	errno = 0;
	GCHECK(gp_waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	    "released reaper still adopted c: errno %d", errno);
	atomic_store(&rel_c_checked, 1);
	pt_green_wait(&rel_c_ppid);
	return 0;
}

Test(proc, a_released_reaper_no_longer_adopts)
{
	pid_t a;
	int st;

	a = gp_spawn(rel_a, NULL, NULL);
	cr_assert(ge(int, (int)a, GP_PID_INIT + 1));
	st = host_reap(a);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	cr_assert(eq(int, tu_ld(&rel_c_ppid), GP_PID_INIT));
	atomic_store(&rel_c_release, 1);
	/* Init reaps its adopted orphan itself. */
	assert_procs_back_to_base();
	end_test();
}

/* --- the process limit ------------------------------------------------- */

static atomic_int lim_release[LIMIT + 8];
static atomic_int lim_probe_go;
static atomic_int lim_probe_rc, lim_probe_errno, lim_probe_done;

static int
lim_block(void *arg)
{
	int i = (int)(intptr_t)arg;

	pt_green_wait(&lim_release[i]);
	return i;
}

/* Child 0 also tries a spawn of its own once the limit is reached. */
static int
lim_prober(void *arg)
{
	pid_t r;

	pt_green_wait(&lim_probe_go);
	errno = 0;
	r = gp_spawn(ret_zero, NULL, NULL);
	atomic_store(&lim_probe_errno, errno);
	atomic_store(&lim_probe_rc, (int)r);
	atomic_store(&lim_probe_done, 1);
	if (r > 0)
		(void)gp_waitpid(r, NULL, 0);
	return lim_block(arg);
}

Test(proclimit, spawn_at_the_limit_fails_with_eagain_and_succeeds_after_a_wait)
{
	pid_t pids[LIMIT + 8], p;
	int n, st;

	for (n = 0; n < LIMIT + 8; n++) {
		errno = 0;
		p = gp_spawn(n == 0 ? lim_prober : lim_block,
		    (void *)(intptr_t)n, NULL);
		if (p == -1)
			break;
		pids[n] = p;
	}
	cr_assert(lt(int, n, LIMIT + 8), "no limit: %d spawns succeeded", n);
	cr_assert(eq(int, errno, EAGAIN), "errno %d (%s)", errno,
	    strerror(errno));
	cr_assert(le(int, n, LIMIT), "%d processes under a limit of %d", n,
	    LIMIT);
	cr_assert(ge(int, n, LIMIT - 2), "only %d of %d", n, LIMIT);
	/* Still at the limit. */
	errno = 0;
	cr_assert(eq(int, (int)gp_spawn(ret_zero, NULL, NULL), -1));
	cr_assert(eq(int, errno, EAGAIN));

	/* A green process at the limit gets EAGAIN too. */
	atomic_store(&lim_probe_go, 1);
	cr_assert(eq(int, pt_wait_for(&lim_probe_done, 1, 5 * TU_S), 0));
	cr_assert(eq(int, tu_ld(&lim_probe_rc), -1));
	cr_assert(eq(int, tu_ld(&lim_probe_errno), EAGAIN));

	/* Wait one child; a spawn right after succeeds, the next fails. */
	atomic_store(&lim_release[n - 1], 1);
	cr_assert(eq(int, (int)gp_waitpid(pids[n - 1], &st, 0),
	    (int)pids[n - 1]));
	cr_assert(eq(int, WEXITSTATUS(st), n - 1));
	atomic_store(&lim_release[n - 1], 0);
	p = gp_spawn(lim_block, (void *)(intptr_t)(n - 1), NULL);
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1),
	    "spawn right after a wait at the limit: %s", strerror(errno));
	pids[n - 1] = p;
	errno = 0;
	cr_assert(eq(int, (int)gp_spawn(ret_zero, NULL, NULL), -1));
	cr_assert(eq(int, errno, EAGAIN));

	/* Repeat it many times: the slot is freed before the wait returns. */
	for (int k = 0; k < 200; k++) {
		int i = k % n;

		atomic_store(&lim_release[i], 1);
		cr_assert(eq(int, (int)gp_waitpid(pids[i], &st, 0),
		    (int)pids[i]));
		atomic_store(&lim_release[i], 0);
		p = gp_spawn(lim_block, (void *)(intptr_t)i, NULL);
		cr_assert(ge(int, (int)p, GP_PID_INIT + 1),
		    "round %d: spawn after a wait: %s", k, strerror(errno));
		pids[i] = p;
	}

	for (int i = 0; i < n; i++)
		atomic_store(&lim_release[i], 1);
	for (int i = 0; i < n; i++)
		cr_assert(eq(int, (int)gp_waitpid(pids[i], &st, 0),
		    (int)pids[i]));
	assert_procs_back_to_base();
	end_test();
}

/*
 * The limit with the per-worker counts: two green parents spawn on both
 * workers from far below the limit (each worker counts on its own) up to
 * it (exact).  Together they reach it exactly; then a reap by one parent
 * lets the other spawn at once, and only once.
 */
#define WLIMIT	400		/* > (workers + 1) * 32: both regimes */

static atomic_int wl_start, wl_first, wl_release, wl_reaped, wl_stop;
static atomic_int wl_count[2], wl_done[2], wl_after[2], wl_after_errno[2];

static int
wl_child(void *arg)
{
	(void)arg;
	pt_green_wait(&wl_release);
	return 0;
}

static int
wl_one_child(void *arg)
{
	int expected = 0;

	(void)arg;
	/* Only one child of parent 0 leaves when asked. */
	for (;;) {
		if (atomic_load(&wl_release))
			return 0;
		if (atomic_load(&wl_stop) == 1 &&
		    atomic_compare_exchange_strong(&wl_stop, &expected, 2))
			return 0;
		expected = 1;
		pt_nap_ns(TU_MS);
	}
}

static int
wl_parent(void *arg)
{
	int me = (int)(intptr_t)arg, n = 0, st;
	pid_t p;

	pt_green_wait(&wl_start);	/* both parents exist */
	/* One child each before the race to the limit: both have some. */
	GCHECK(gp_spawn(me == 0 ? wl_one_child : wl_child, NULL, NULL) > 0,
	    "first child");
	n++;
	atomic_fetch_add(&wl_first, 1);
	while (atomic_load(&wl_first) < 2)
		pt_nap_ns(TU_MS);
	while ((p = gp_spawn(me == 0 ? wl_one_child : wl_child, NULL,
	    NULL)) > 0)
		n++;
	GCHECK(errno == EAGAIN, "parent %d: errno %d", me, errno);
	atomic_store(&wl_count[me], n);
	atomic_store(&wl_done[me], 1);
	if (me == 0) {
		/* One child goes; we reap it; the other parent spawns. */
		pt_green_wait(&wl_stop);
		GCHECK(gp_waitpid(-1, &st, 0) > 0, "reap one");
		atomic_store(&wl_reaped, 1);
	} else {
		pt_green_wait(&wl_reaped);
		p = gp_spawn(wl_child, NULL, NULL);
		atomic_store(&wl_after_errno[me], p > 0 ? 0 : errno);
		atomic_store(&wl_after[me], p > 0);
		errno = 0;
		GCHECK(gp_spawn(wl_child, NULL, NULL) == -1 && errno == EAGAIN,
		    "a second spawn past the limit");
	}
	pt_green_wait(&wl_release);
	while (gp_waitpid(-1, &st, 0) > 0)
		;
	return 0;
}

static void
setup_wlimit(void)
{
	setup_with_limit(WLIMIT);
}

TestSuite(proclimit_workers, .init = setup_wlimit, .fini = pt_teardown,
    .timeout = 60.0);

Test(proclimit_workers, two_workers_reach_the_limit_exactly_and_share_a_freed_slot)
{
	struct gp_counters st;
	pid_t a, b;

	a = spawn_ok(wl_parent, (void *)(intptr_t)0);
	b = spawn_ok(wl_parent, (void *)(intptr_t)1);
	atomic_store(&wl_start, 1);
	cr_assert(eq(int, pt_wait_for(&wl_done[0], 1, 10 * TU_S), 0));
	cr_assert(eq(int, pt_wait_for(&wl_done[1], 1, 10 * TU_S), 0));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.live_procs, WLIMIT), "live %ld, limit %d",
	    st.live_procs, WLIMIT);
	cr_assert(eq(int, tu_ld(&wl_count[0]) + tu_ld(&wl_count[1]) + 2,
	    WLIMIT));
	atomic_store(&wl_stop, 1);
	cr_assert(eq(int, pt_wait_for(&wl_after[1], 1, 10 * TU_S), 0),
	    "spawn right after another worker's reap at the limit: %s "
	    "(green failures: %d, %s)", strerror(tu_ld(&wl_after_errno[1])),
	    pt_nbad_now(), pt_msg);
	atomic_store(&wl_release, 1);
	cr_assert(eq(int, WEXITSTATUS(host_reap(a)), 0));
	cr_assert(eq(int, WEXITSTATUS(host_reap(b)), 0));
	assert_no_green_failures();
	assert_procs_back_to_base();
	end_test();
}
