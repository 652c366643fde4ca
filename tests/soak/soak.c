/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * soak.c -- the process model under random churn for a long time, with a
 * ledger that knows what every spawned process may legitimately report.
 *
 *	soak [SECONDS]		(default 600; the SOAK_S variable also works)
 *
 * On two workers, NHOST host threads and NLWP LWPs of init (the
 * "actors"), plus the green processes they spawn, do random operations
 * until the time is up: spawn, kill (KILL, TERM, a caught USR1, STOP,
 * CONT) by pid and by group, wait by pid, any and group with WNOHANG,
 * WUNTRACED and WCONTINUED (blocking waits too), setpgid, reaper acquire
 * and release, LWP create/join/detach.  The processes are of three sorts:
 *
 *	leaves		exit at once (return, gp_exit, gp__exit), yield, nap,
 *			run LWPs, ignore TERM, catch USR1, linger, or move to
 *			a group of their own, then exit with a code they chose;
 *	managers (M)	green parents: spawn leaves, signal them and their
 *			groups, regroup them, wait for them (blocking or not),
 *			and often exit first, orphaning the rest;
 *	reapers (R)	acquire reaper status, spawn managers and reap what
 *			their managers leave behind; release and reacquire.
 *
 * THE LEDGER.  Every spawned process has an entry (a spawn serial, its
 * pid, its group, who spawned it, the code it will exit with).  Pids are
 * reused at once, so an answer that names a pid must be matched with the
 * right generation.  The rules that make this exact:
 *
 *  - One mutex, L, is held across every gp_spawn and the insertion of its
 *    entry, across every gp_kill and its marking, every gp_setpgid and its
 *    update, and across every WNOHANG wait of init and of reapers together
 *    with the recording of what it returned.  None of those calls is a
 *    cancellation point except the wait's way out, and init and reapers
 *    are never signalled, so no holder of L ever dies or parks holding it.
 *    Under L, an entry still in the ledger whose pid was not reused since
 *    names its process, or nothing at all (see ghosts).
 *  - A manager waits without L (it can be killed in its wait), for its own
 *    children only, from its one main LWP, which also does all of its
 *    spawns: the child with that pid among the manager's own entries is
 *    unique, so the manager records after the fact, under L.
 *  - An entry whose process is known to be gone although nobody recorded
 *    it (a manager reaped it and has not recorded it yet, a manager was
 *    killed in the wait that reaped it, or init adopted it as an orphan and
 *    the runtime reaped it by itself, as init does) is a *ghost*: a spawn
 *    that gets its pid again, or a kill that finds no process, marks it.
 *    Ghosts are never matched with a later answer about that pid.
 *  - Blocking waits of init and reapers look with WNOWAIT (no L), then
 *    take the report with a WNOHANG wait under L.
 *
 * What a status may be.  A final status is accepted only if it was
 * possible: WIFEXITED with the entry's code, only if the process got as
 * far as choosing to exit; WIFSIGNALED with KILL, TERM or USR1 only if
 * that signal was sent to it (gp_kill returned 0, to its pid or to a group
 * the ledger has it in) at a time when it did not yet ignore TERM or catch
 * USR1.  A stop report needs a STOP sent; a continue report needs a STOP
 * sent before.  SIGHUP comes only from orphaned-group job control (init
 * regroups its children, so a group of init's can lose its last link to
 * a manager): every process ignores it, inherited from green parents,
 * and a child of init sets it first and says so after a cancellation
 * point (hup_safe); HUP is accepted only before that.  Marking a zombie
 * that a signal can no longer reach widens the accepted set a little; the
 * runtime's group kill skips zombies, but a kill by pid reaches them.
 *
 * Strict answers.  Under L, for init's children: a kill or a wait by pid
 * never says ESRCH/ECHILD, wait(-1) says ECHILD exactly when the ledger
 * has none, a group wait ECHILD exactly when the ledger has none in that
 * group; a pid reused while an entry of init's still holds it is a
 * violation.  A manager's wait by pid or any never says ECHILD while the
 * ledger has its children.  Every reap names a pid the ledger holds.
 *
 * Epochs.  The run is cut into EPOCHS epochs.  At the end of each, the
 * actors stop, everything left is killed and reaped, and then: gp_stats'
 * live processes, LWPs and stacks are back where they started; spawns,
 * exits and reaps each equal the processes the ledger spawned; every
 * entry left unrecorded is one whose reap was not ours to see (orphans
 * init adopted, reaps lost with a killed manager) -- never a child of
 * init; and RSS is sampled.  What is compared is memory that grows with
 * time, not a peak reached once: RssAnon (the process's own memory:
 * VmRSS also counts libc's text, paged in as late code paths first run)
 * after malloc_trim (free pages malloc keeps are nobody's), minus the
 * resident bytes of the runtime's stack slabs.  Slabs are a bounded
 * cache kept at its high-water mark: each new peak of stacks in use or
 * cached carves one, 256 KiB at once (a page in each of its 64 slots),
 * and none is unmapped before shutdown; a stack leak shows in
 * live_stacks instead.  Minus, for the same reason, the malloc bytes of
 * the type-stable process structs and their handler tables
 * (gpi_proc_held): a cache at its high-water mark, kept in malloc; a
 * process leak shows in live_procs.  The ledger's entries are made up
 * front, for the same reason.  That remainder after the first epoch and after the last
 * must be within SOAK_RSS_TOL percent.
 * The default is 1 for a run of 10 minutes or more (first sample after a
 * minute); a shorter run samples first after seconds, while the
 * runtime's caches (stacks, process structs, pid table) are still
 * filling, so it allows 100, catching only a leak that doubles.  Not
 * enforced under ASan, whose quarantine grows by design, or TSan, whose
 * shadow memory does.  SOAK_SEED fixes the random seed.
 *
 * Exit status 0 on success; 1 after any violation (each is named on
 * stderr, with the entry and status involved).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"

/* The runtime's (stack.c), linked in from the static library. */
size_t	gpi_stack_resident(size_t *mapped);
size_t	gpi_proc_held(void);


#define NWORKERS	2
#define NHOST		2		/* host-thread actors */
#define NLWP		2		/* init-LWP actors (NHOST + NLWP <= 8) */
#define EPOCHS		10
#define MAXLIVE		384		/* ledger entries in play at once */
#define PREALLOC	1024		/* ledger entries made up front */
#define MAXREAPERS	2
#define MCHILD		4		/* children a manager keeps */
#define NBUCKET		1024		/* pid hash */
#define DRAIN_S		60		/* a drain that takes longer hangs */
#define JANITOR_MS	10		/* how long a stop may last */

/* ------------------------------------------------------------ ledger */

enum kind {
	K_RETURN, K_EXIT, K__EXIT, K_YIELD, K_NAP, K_LWPS, K_IGNTERM,
	K_CATCH, K_LINGER, K_SETPGID, K_MANAGER, K_REAPER, NKIND
};
static const char *const kind_name[NKIND] = {
	"return", "gp_exit", "gp__exit", "yield", "nap", "lwps", "ignterm",
	"catch", "linger", "setpgid", "manager", "reaper"
};

/* Who spawned it, hence who may reap it and whether we see the reap. */
enum pkind { PK_INIT, PK_MANAGER, PK_REAPER };

/* Bits of ent.maydie. */
#define MAY_KILL	1u
#define MAY_TERM	2u
#define MAY_USR1	4u

struct ent {
	/* All but the atomics: under L. */
	uint64_t	serial;		/* spawn number from 1; 0 when free */
	uint64_t	parent;		/* spawner's serial; 0: init */
	pid_t		pid, pgid;	/* pgid as the ledger tracks it */
	int		pkind, kind, code;
	bool		ghost;		/* gone, unrecorded (see above) */
	bool		immune;		/* a reaper: never signalled */
	bool		stop_sent;	/* a STOP reached it at some time */
	unsigned	maydie;		/* MAY_*: fatal signals that reached it */
	unsigned	seed;		/* its own random stream */
	int		live_idx;	/* in live[] while not a ghost, or -1 */
	struct ent	*hnext;		/* pid hash chain, or the free list */
	struct ent	*pptr;		/* its spawner's entry while that lives */
	/* A manager's children that are ghosts, waiting for its record. */
	struct ent	*ghosts, *gnext, **gprev;
	/* Set by the process itself, read under L. */
	atomic_bool	returning;	/* it chose to exit with (code) */
	atomic_bool	ign_term;	/* SIGTERM is SIG_IGN in it */
	atomic_bool	caught_usr1;	/* SIGUSR1 has a handler in it */
	atomic_bool	hup_safe;	/* SIGHUP can no longer kill it */
};

/*
 * L: the ledger lock (see the head comment for what it is held across).
 * Its holders never park or die holding it, but they may switch: a
 * WNOHANG wait that reaps yields until the zombie's last LWP is off its
 * stack (gpi_proc_reap).  So a green LWP must never block its worker on
 * L -- the holder may be suspended on that very worker -- and takes it
 * with trylock and gp_yield (lock_L); host threads block.
 */
static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static struct ent *bucket[NBUCKET];	/* (L) unrecorded entries by pid */
static struct ent *live[MAXLIVE];	/* (L) unrecorded, not ghosts */
static int nlive;			/* (L) */
static int ninit;			/* (L) unrecorded children of init */
static int nreapers;			/* (L) unrecorded reapers */
static struct ent *freelist;		/* (L) recycled entries */
static uint64_t next_serial;		/* (L) */
static long nents;			/* (L) entries ever allocated */

static atomic_int stop;			/* the epoch is over */
static atomic_int active;		/* actors still running */
static atomic_long violations;

/* Operation counters, for the summary. */
enum op {
	OP_SPAWN, OP_KILL, OP_GKILL, OP_WAIT_NOHANG, OP_WAIT_BLOCK,
	OP_PEEK, OP_SETPGID, OP_REAPER, OP_LWP_CREATE, OP_LWP_JOIN,
	OP_LWP_DETACH, OP_YIELD, NOP
};
static const char *const op_name[NOP] = {
	"spawn", "kill", "group kill", "wait WNOHANG", "wait blocking",
	"waitid WNOWAIT", "setpgid", "reaper acq/rel", "lwp create",
	"lwp join", "lwp detach", "yield/nap"
};
static atomic_long nop[NOP];
static atomic_long nspawn_kind[NKIND];
static atomic_long nsig[5];		/* sent ok: KILL TERM USR1 STOP CONT */
static atomic_long reaped_exit, reaped_sig, stops_seen, conts_seen;
static atomic_long unobserved;		/* reaps not ours to see */
static atomic_long pgid_reuse;		/* a new pid equal to a live pgid */
static long spawned_total;		/* (L) */

#define VIOLATION(...) do {						\
	fprintf(stderr, "soak: VIOLATION: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
	atomic_fetch_add(&violations, 1);				\
} while (0)

static void
lock_L(void)
{
	if (gp_lwp_self() == NULL) {
		pthread_mutex_lock(&L);
		return;
	}
	/* A killed caller dies in gp_yield, before it holds L. */
	while (pthread_mutex_trylock(&L) != 0)
		gp_yield();
}

static void
unlock_L(void)
{
	pthread_mutex_unlock(&L);
}

static unsigned
rnd(unsigned *s)
{
	/* xorshift32: a stream per actor, never 0. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static unsigned
below(unsigned *s, unsigned n)
{
	return rnd(s) % n;
}

static void
ent_desc(const struct ent *e, char *buf, size_t len)
{
	snprintf(buf, len, "#%llu pid %d pgid %d %s, parent #%llu, code %d, "
	    "returning %d, maydie %#x, stop_sent %d, ghost %d",
	    (unsigned long long)e->serial, (int)e->pid, (int)e->pgid,
	    kind_name[e->kind], (unsigned long long)e->parent, e->code,
	    (int)atomic_load(&e->returning), e->maydie, (int)e->stop_sent,
	    (int)e->ghost);
}

#define EVIOLATION(e, st, what) do {					\
	char d_[256];							\
	ent_desc((e), d_, sizeof(d_));					\
	VIOLATION("%s (status %#x): %s", (what), (unsigned)(st), d_);	\
} while (0)

static struct ent **
chain(pid_t pid)
{
	return &bucket[(unsigned)pid % NBUCKET];
}

static void
live_del(struct ent *e)
{
	int i = e->live_idx;

	if (i < 0)
		return;
	live[i] = live[--nlive];
	live[i]->live_idx = i;
	e->live_idx = -1;
}

static void ent_drop(struct ent *e);
static void ent_forget(struct ent *e);

/* (L) Does (e)'s spawner still live (its entry not recorded)? */
static bool
parent_lives(const struct ent *e)
{
	return e->pptr != NULL && e->pptr->serial == e->parent;
}

/*
 * (L) It is gone and its reap was not recorded: never match it again.  Only
 * a live manager may still record it (after its wait returned); otherwise
 * nobody will, and it leaves the ledger now, counted as unobserved.
 */
static void
ghost(struct ent *e)
{
	live_del(e);
	if (e->pkind != PK_MANAGER || !parent_lives(e)) {
		atomic_fetch_add(&unobserved, 1);
		ent_forget(e);
		return;
	}
	e->ghost = true;
	e->gprev = &e->pptr->ghosts;
	if ((e->gnext = e->pptr->ghosts) != NULL)
		e->gnext->gprev = &e->gnext;
	e->pptr->ghosts = e;
}

/* (L) Recorded: out of the ledger, back to the free list. */
static void
ent_drop(struct ent *e)
{
	struct ent **pp;

	for (pp = chain(e->pid); *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	live_del(e);
	if (e->ghost && (*e->gprev = e->gnext) != NULL)
		e->gnext->gprev = e->gprev;
	/* A dead manager records nothing more: its ghosts go too. */
	while (e->ghosts != NULL) {
		atomic_fetch_add(&unobserved, 1);
		ent_forget(e->ghosts);
	}
	if (e->pkind == PK_INIT)
		ninit--;
	if (e->kind == K_REAPER)
		nreapers--;
	e->serial = 0;
	e->hnext = freelist;
	freelist = e;
}

#ifdef TU_UNDER_TSAN
/*
 * (L) Under TSan an entry whose reap we did not see is never reused: its
 * process is gone (its pid was free, or a kill found nothing), but what
 * orders its last accesses before ours is gpi_pfind's rcu_dereference in
 * liburcu, which TSan does not see.  A few thousand entries a minute.
 */
static struct ent *graveyard;		/* (L) */

static void
ent_forget(struct ent *e)
{
	ent_drop(e);
	freelist = e->hnext;
	e->hnext = graveyard;
	graveyard = e;
}
#else
static void
ent_forget(struct ent *e)
{
	ent_drop(e);
}
#endif

/* (L) The unique unrecorded non-ghost entry with (pid), or NULL. */
static struct ent *
find_live(pid_t pid)
{
	struct ent *e, *found = NULL;

	for (e = *chain(pid); e != NULL; e = e->hnext) {
		if (e->pid != pid || e->ghost)
			continue;
		if (found != NULL)
			VIOLATION("ledger: two live entries for pid %d",
			    (int)pid);
		found = e;
	}
	return found;
}

/* (L) The unique unrecorded child of (parent) with (pid), or NULL. */
static struct ent *
find_child(pid_t pid, uint64_t parent)
{
	struct ent *e, *found = NULL;

	for (e = *chain(pid); e != NULL; e = e->hnext) {
		if (e->pid != pid || e->parent != parent)
			continue;
		if (found != NULL)
			VIOLATION("ledger: two children of #%llu with pid %d",
			    (unsigned long long)parent, (int)pid);
		found = e;
	}
	return found;
}

/*
 * (L) Check and record one wait answer (r, st) for entry (e).  A final
 * status drops the entry.  Returns 1 if it was a reap.
 */
static int
record(struct ent *e, int st)
{
	int sig;

	if (WIFSTOPPED(st)) {
		atomic_fetch_add(&stops_seen, 1);
		if (WSTOPSIG(st) != SIGSTOP || !e->stop_sent)
			EVIOLATION(e, st, "a stop report without a STOP sent");
		return 0;
	}
	if (WIFCONTINUED(st)) {
		atomic_fetch_add(&conts_seen, 1);
		if (!e->stop_sent)
			EVIOLATION(e, st, "a continue report, never stopped");
		return 0;
	}
	if (WIFEXITED(st)) {
		atomic_fetch_add(&reaped_exit, 1);
		if (!atomic_load(&e->returning) ||
		    WEXITSTATUS(st) != e->code)
			EVIOLATION(e, st, "an exit it did not choose");
	} else if (WIFSIGNALED(st)) {
		atomic_fetch_add(&reaped_sig, 1);
		sig = WTERMSIG(st);
		if (!((sig == SIGKILL && (e->maydie & MAY_KILL)) ||
		    (sig == SIGTERM && (e->maydie & MAY_TERM)) ||
		    (sig == SIGUSR1 && (e->maydie & MAY_USR1)) ||
		    (sig == SIGHUP && !atomic_load(&e->hup_safe))))
			EVIOLATION(e, st, "killed by a signal that could not "
			    "kill it");
	} else {
		EVIOLATION(e, st, "a status that is none of the four");
	}
	ent_drop(e);
	return 1;
}

/* (L) A reap answer of init or a reaper: the pid must be in the ledger. */
static void
record_pid(pid_t r, int st, bool by_init)
{
	struct ent *e = find_live(r);

	if (e == NULL) {
		VIOLATION("wait returned pid %d (status %#x), which the "
		    "ledger does not hold", (int)r, (unsigned)st);
		return;
	}
	if (by_init != (e->pkind == PK_INIT))
		EVIOLATION(e, st, by_init ? "init reaped another's child" :
		    "a reaper reaped a child of init");
	(void)record(e, st);
}

/* ------------------------------------------------------------ spawn */

static int proc_main(void *arg);

/*
 * (L) Spawn a process of (kind) for the caller, whose entry is (self)
 * (NULL: init).  Returns its entry, or NULL.
 */
static struct ent *
spawn_locked(struct ent *self, int kind, unsigned *seed)
{
	struct ent *e, *o;
	pid_t p;

	if (nlive >= MAXLIVE)
		return NULL;
	if ((e = freelist) != NULL) {
		freelist = e->hnext;
	} else if ((e = calloc(1, sizeof(*e))) != NULL) {
		nents++;
	} else {
		VIOLATION("out of memory");
		return NULL;
	}
	e->serial = ++next_serial;
	e->parent = self != NULL ? self->serial : 0;
	e->pkind = self == NULL ? PK_INIT : self->kind == K_REAPER ?
	    PK_REAPER : PK_MANAGER;
	e->kind = kind;
	e->code = (int)below(seed, 120) + 1;
	e->ghost = e->immune = e->stop_sent = false;
	e->pptr = self;
	e->ghosts = NULL;
	e->maydie = 0;
	e->seed = rnd(seed) | 1;
	e->live_idx = -1;
	atomic_store(&e->returning, false);
	atomic_store(&e->ign_term, false);
	atomic_store(&e->caught_usr1, false);
	/* Green spawners ignore SIGHUP before they spawn: inherited. */
	atomic_store(&e->hup_safe, self != NULL);
	p = gp_spawn(proc_main, e, NULL);
	if (p == -1) {
		/* A green spawner that is being killed gets EAGAIN. */
		if (self == NULL || errno != EAGAIN)
			VIOLATION("gp_spawn: %s", strerror(errno));
		e->serial = 0;
		e->hnext = freelist;
		freelist = e;
		return NULL;
	}
	/* The pid was free: whatever still holds it is gone. */
	while ((o = find_live(p)) != NULL) {
		if (o->pkind == PK_INIT)
			EVIOLATION(o, 0, "its pid was reused, but it was "
			    "never reaped");
		ghost(o);
	}
	for (int i = 0; i < nlive; i++)
		if (live[i]->pgid == p) {
			atomic_fetch_add(&pgid_reuse, 1);
			break;
		}
	e->pid = p;
	e->pgid = self == NULL ? p : self->pgid;
	e->immune = kind == K_REAPER;
	e->hnext = *chain(p);
	*chain(p) = e;
	e->live_idx = nlive;
	live[nlive++] = e;
	if (self == NULL)
		ninit++;
	if (kind == K_REAPER)
		nreapers++;
	spawned_total++;
	atomic_fetch_add(&nop[OP_SPAWN], 1);
	atomic_fetch_add(&nspawn_kind[kind], 1);
	return e;
}

/* ------------------------------------------------------------ signals */

static const int sigtab[5] = { SIGKILL, SIGTERM, SIGUSR1, SIGSTOP, SIGCONT };

static int
pick_sig(unsigned *s)
{
	unsigned r = below(s, 100);

	return r < 8 ? 0 : r < 20 ? 1 : r < 35 ? 2 : r < 65 ? 3 : 4;
}

/*
 * (L) What (e) would make of signal index (si) now: the MAY_* bit it may
 * die of, or 0.  Read BEFORE the kill: a flag set after that may belong
 * to a sigaction that came after the signal was posted.
 */
static unsigned
may_bit(const struct ent *e, int si)
{
	switch (sigtab[si]) {
	case SIGKILL:
		return MAY_KILL;
	case SIGTERM:
		return atomic_load(&e->ign_term) ? 0 : MAY_TERM;
	case SIGUSR1:
		return atomic_load(&e->caught_usr1) ? 0 : MAY_USR1;
	}
	return 0;
}

/* (L) Signal index (si) reached (e); (bit) is may_bit() from before. */
static void
mark(struct ent *e, int si, unsigned bit)
{
	e->maydie |= bit;
	if (sigtab[si] == SIGSTOP)
		e->stop_sent = true;
}

/* (L) Send signal index (si) to (e) by pid. */
static void
kill_ent(struct ent *e, int si)
{
	if (e->immune)
		return;
	unsigned bit = may_bit(e, si);

	if (gp_kill(e->pid, sigtab[si]) == 0) {
		mark(e, si, bit);
		atomic_fetch_add(&nsig[si], 1);
	} else if (errno == ESRCH) {
		if (e->pkind == PK_INIT)
			EVIOLATION(e, 0, "gp_kill: ESRCH for a child of init "
			    "never reaped");
		ghost(e);
	} else {
		VIOLATION("gp_kill(%d, %d): %s", (int)e->pid, sigtab[si],
		    strerror(errno));
	}
	atomic_fetch_add(&nop[OP_KILL], 1);
}

/*
 * (L) Send signal index (si) to group (g), or to the caller's own group if
 * (own).  Groups with a reaper in them are left alone.
 */
static void
kill_group(pid_t g, int si, bool own)
{
	static unsigned bits[MAXLIVE];		/* (L) */
	int i, r;

	for (i = 0; i < nlive; i++) {
		if (live[i]->pgid == g && live[i]->immune)
			return;
		bits[i] = may_bit(live[i], si);
	}
	atomic_fetch_add(&nop[OP_GKILL], 1);
	r = gp_kill(own ? 0 : -g, sigtab[si]);
	if (r == 0) {
		for (i = 0; i < nlive; i++)
			if (live[i]->pgid == g)
				mark(live[i], si, bits[i]);
		atomic_fetch_add(&nsig[si], 1);
	} else if (errno != ESRCH) {
		/* ESRCH: every member may be a zombie, which a kill skips. */
		VIOLATION("gp_kill(-%d, %d): %s", (int)g, sigtab[si],
		    strerror(errno));
	}
}

/* ------------------------------------------------------------ LWPs */

static void *
lwp_body(void *arg)
{
	uintptr_t a = (uintptr_t)arg;
	struct timespec ts = { 0, 10000 };

	if (a & 1)
		gp_yield();
	if (a & 2)
		(void)gp_nanosleep(&ts, NULL);
	return (void *)(a ^ 0x5a5a);
}

/*
 * Create a few LWPs of the caller's process (init on a host thread), detach
 * some with gp_lwp_detach and join the others, checking what they return.
 */
static void
lwp_churn(unsigned *s)
{
	gp_lwp_t h[4];
	uintptr_t a[4];
	void *got;
	int i, n = 1 + (int)below(s, 4), made = 0, rc;

	for (i = 0; i < n; i++, made++) {
		a[i] = 0x1000 | (rnd(s) & 0xff0) | below(s, 4);
		if ((rc = gp_lwp_create(&h[i], lwp_body, (void *)a[i],
		    NULL)) != 0) {
			/* A green caller that is exiting (being killed). */
			if (rc != EAGAIN)
				VIOLATION("gp_lwp_create: %s", strerror(rc));
			break;
		}
		atomic_fetch_add(&nop[OP_LWP_CREATE], 1);
		if (below(s, 3) == 0) {
			if ((rc = gp_lwp_detach(h[i])) != 0)
				VIOLATION("gp_lwp_detach: %s", strerror(rc));
			a[i] = 0;	/* not to be joined */
			atomic_fetch_add(&nop[OP_LWP_DETACH], 1);
		}
	}
	for (i = 0; i < made; i++) {
		if (a[i] == 0)
			continue;
		got = NULL;
		if ((rc = gp_lwp_join(h[i], &got)) != 0)
			VIOLATION("gp_lwp_join: %s", strerror(rc));
		else if ((uintptr_t)got != (a[i] ^ 0x5a5a))
			VIOLATION("gp_lwp_join: %p for %#lx", got,
			    (unsigned long)a[i]);
		atomic_fetch_add(&nop[OP_LWP_JOIN], 1);
	}
}

/* ------------------------------------------------------------ leaves */

static void
nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	/* EINTR: a caught USR1 interrupted it; that is fine. */
	(void)gp_nanosleep(&ts, NULL);
}

static void
usr1_handler(int sig)
{
	(void)sig;
}

static void
set_disp(int sig, void (*h)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (gp_sigaction(sig, &sa, NULL) != 0)
		VIOLATION("gp_sigaction(%d): %s", sig, strerror(errno));
}

/* Exit with the code the ledger expects, one of three ways. */
static int
finish(struct ent *e, int how)
{
	int code = e->code;

	atomic_store(&e->returning, true);
	if (how == 1)
		gp_exit(code);
	if (how == 2)
		gp__exit(code);
	return code;
}

static int
leaf(struct ent *e)
{
	unsigned s = e->seed;
	int i, n = (int)below(&s, 20);

	switch (e->kind) {
	case K_RETURN:
		return finish(e, 0);
	case K_EXIT:
		return finish(e, 1);
	case K__EXIT:
		return finish(e, 2);
	case K_YIELD:
		for (i = 0; i < n; i++)
			gp_yield();
		break;
	case K_NAP:
		for (i = 0; i < n % 5; i++)
			nap_us(50 + below(&s, 500));
		break;
	case K_LWPS:
		lwp_churn(&s);
		/* Sometimes leave a detached one running: killalllwps. */
		if (below(&s, 2) == 0) {
			gp_lwp_t h;

			if (gp_lwp_create(&h, lwp_body, (void *)(uintptr_t)2,
			    NULL) == 0 && gp_lwp_detach(h) != 0)
				VIOLATION("gp_lwp_detach of a new LWP");
		}
		break;
	case K_IGNTERM:
		set_disp(SIGTERM, SIG_IGN);
		atomic_store(&e->ign_term, true);
		for (i = 0; i < n % 4; i++)
			nap_us(200);
		break;
	case K_CATCH:
		set_disp(SIGUSR1, usr1_handler);
		atomic_store(&e->caught_usr1, true);
		for (i = 0; i < n % 4; i++)
			nap_us(200);
		break;
	case K_LINGER:
		/* Long enough to be stopped, continued and killed. */
		for (i = 0; i < 20 + n * 10 && !atomic_load(&stop); i++)
			nap_us(1000);
		break;
	case K_SETPGID:
		lock_L();
		if (gp_setpgid(0, 0) == 0)
			e->pgid = e->pid;
		else
			VIOLATION("gp_setpgid(0, 0): %s", strerror(errno));
		atomic_fetch_add(&nop[OP_SETPGID], 1);
		unlock_L();
		for (i = 0; i < n % 4; i++)
			gp_yield();
		break;
	}
	return finish(e, (int)below(&s, 3));
}

/* ------------------------------------------------------------ managers */

/* A manager's children: entry and serial (the entry may be recycled). */
struct kids {
	struct ent	*e[MCHILD];
	uint64_t	ser[MCHILD];
	int		n;
};

/* (L) Is slot (i) still the child it was? */
static bool
kid_valid(const struct kids *k, int i)
{
	return k->e[i]->serial == k->ser[i];
}

/* (L) Forget the children that were recorded (reaped) since. */
static void
kids_prune(struct kids *k)
{
	int i = 0;

	while (i < k->n) {
		if (kid_valid(k, i)) {
			i++;
			continue;
		}
		k->n--;
		k->e[i] = k->e[k->n];
		k->ser[i] = k->ser[k->n];
	}
}

/*
 * One wait of manager (self) for its own children, without L: blocking or
 * not, by pid, any, own group or a child's group.  The answer is recorded
 * under L afterwards.
 */
static void
manager_wait(struct ent *self, struct kids *k, unsigned *s)
{
	int opt = 0, st = 0, sel = (int)below(s, 4), i = -1;
	pid_t arg = -1, r;
	bool strict = false;

	if (below(s, 2) == 0)
		opt |= WNOHANG;
	if (below(s, 2) == 0)
		opt |= WUNTRACED;
	if (below(s, 2) == 0)
		opt |= WCONTINUED;
	lock_L();
	kids_prune(k);
	if (k->n > 0) {
		i = (int)below(s, (unsigned)k->n);
		switch (sel) {
		case 0:
			arg = k->e[i]->pid;
			strict = true;
			break;
		case 1:
			arg = -1;
			strict = true;
			break;
		case 2:
			arg = 0;
			break;
		default:
			arg = -k->e[i]->pgid;
			break;
		}
	}
	unlock_L();
	if (k->n == 0)
		return;
	/* Blocking: no stop must leave us here forever; others CONT. */
	atomic_fetch_add(&nop[(opt & WNOHANG) ? OP_WAIT_NOHANG :
	    OP_WAIT_BLOCK], 1);
	r = gp_waitpid(arg, &st, opt);
	lock_L();
	if (r > 0) {
		struct ent *e = find_child(r, self->serial);

		if (e == NULL)
			VIOLATION("manager #%llu: waitpid(%d) gave %d "
			    "(status %#x), not a child the ledger holds",
			    (unsigned long long)self->serial, (int)arg,
			    (int)r, (unsigned)st);
		else
			(void)record(e, st);
	} else if (r == -1 && errno == ECHILD) {
		/*
		 * Its children are reaped only by it while it lives: by pid
		 * or any, ECHILD means the ledger has none left.  (A group
		 * may have emptied by a child's own setpgid.)
		 */
		if (strict) {
			for (int j = 0; j < k->n; j++)
				if (kid_valid(k, j) && (arg == -1 ||
				    k->e[j]->pid == arg)) {
					EVIOLATION(k->e[j], 0, "manager's "
					    "waitpid: ECHILD for a child "
					    "never reaped");
					break;
				}
		}
	} else if (r == -1 && errno != EINTR) {
		VIOLATION("manager waitpid(%d, %#x): %s", (int)arg, opt,
		    strerror(errno));
	}
	unlock_L();
}

static int
manager(struct ent *self)
{
	unsigned s = self->seed;
	struct kids k = { .n = 0 };
	int ops = 5 + (int)below(&s, 40), op, i;
	struct ent *c;

	while (ops-- > 0 && !atomic_load(&stop)) {
		op = (int)below(&s, 100);
		if (op < 30) {
			lock_L();
			kids_prune(&k);
			c = k.n == MCHILD ? NULL : spawn_locked(self, (int)below(&s, K_MANAGER), &s);
			if (c != NULL) {
				k.e[k.n] = c;
				k.ser[k.n++] = c->serial;
			}
			unlock_L();
		} else if (op < 45) {
			if (k.n == 0)
				continue;
			i = (int)below(&s, (unsigned)k.n);
			lock_L();
			if (kid_valid(&k, i) && !k.e[i]->ghost)
				kill_ent(k.e[i], pick_sig(&s));
			unlock_L();
		} else if (op < 50) {
			/* Its own group (itself included) or a child's. */
			lock_L();
			i = k.n > 0 ? (int)below(&s, (unsigned)k.n) : -1;
			if (i < 0 || below(&s, 2) == 0)
				kill_group(self->pgid, 4 - (int)below(&s, 2) *
				    2, true);	/* CONT or USR1 */
			else if (kid_valid(&k, i) && !k.e[i]->ghost)
				kill_group(k.e[i]->pgid, pick_sig(&s), false);
			unlock_L();
		} else if (op < 58) {
			if (k.n == 0)
				continue;
			i = (int)below(&s, (unsigned)k.n);
			lock_L();
			if (kid_valid(&k, i) && !k.e[i]->ghost) {
				pid_t g = below(&s, 2) ? k.e[i]->pid :
				    self->pgid;

				if (gp_setpgid(k.e[i]->pid, g) == 0)
					k.e[i]->pgid = g;
				else if (errno != ESRCH && errno != EPERM)
					VIOLATION("manager setpgid: %s",
					    strerror(errno));
				atomic_fetch_add(&nop[OP_SETPGID], 1);
			}
			unlock_L();
		} else if (op < 90) {
			manager_wait(self, &k, &s);
		} else if (op < 95) {
			lwp_churn(&s);
		} else {
			atomic_fetch_add(&nop[OP_YIELD], 1);
			if (below(&s, 2))
				gp_yield();
			else
				nap_us(100);
		}
	}
	/* What is left is orphaned: to a reaper, or to init. */
	return finish(self, (int)below(&s, 3));
}

/* ------------------------------------------------------------ reaping */

/*
 * (L) One WNOHANG wait of init or a reaper (by_init says which), by
 * (arg); records the answer.  With (strict), ECHILD is checked against
 * the ledger (init's children are reaped only here).
 */
static void
wait_locked(pid_t arg, int opt, bool by_init)
{
	int st = 0, i;
	pid_t r;

	r = gp_waitpid(arg, &st, opt | WNOHANG);
	atomic_fetch_add(&nop[OP_WAIT_NOHANG], 1);
	if (r > 0) {
		record_pid(r, st, by_init);
		return;
	}
	if (r == 0 || !by_init)
		return;
	if (errno != ECHILD) {
		VIOLATION("waitpid(%d, %#x): %s", (int)arg, opt,
		    strerror(errno));
		return;
	}
	if (arg == -1 && ninit != 0)
		VIOLATION("init's waitpid(-1): ECHILD, but %d children are "
		    "in the ledger", ninit);
	for (i = 0; arg != -1 && i < nlive; i++)
		if (live[i]->pkind == PK_INIT && (arg > 0 ?
		    live[i]->pid == arg : live[i]->pgid == -arg)) {
			EVIOLATION(live[i], 0, "init's waitpid: ECHILD "
			    "for a child never reaped");
			break;
		}
}

/*
 * A blocking wait of init or a reaper: look with WNOWAIT without L, then
 * take the report under L.  Init and reapers are never signalled, so the
 * look returns only with something to take, or ECHILD.
 */
/* What each host actor is blocked in, for a drain that hangs. */
static struct { _Atomic int idt, id, opt; } peeking[NHOST + NLWP + 1];
static _Thread_local int actor_id = NHOST + NLWP;

static void
wait_blocking(idtype_t idt, id_t id, int opt, bool by_init)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	atomic_fetch_add(&nop[OP_PEEK], 1);
	if (by_init && gp_lwp_self() == NULL) {
		atomic_store(&peeking[actor_id].idt, (int)idt);
		atomic_store(&peeking[actor_id].id, (int)id);
		atomic_store(&peeking[actor_id].opt, opt | 0x10000);
	}
	r = gp_waitid(idt, id, &si, WEXITED | WNOWAIT |
	    ((opt & WUNTRACED) ? WSTOPPED : 0) |
	    ((opt & WCONTINUED) ? WCONTINUED : 0));
	if (by_init && gp_lwp_self() == NULL)
		atomic_store(&peeking[actor_id].opt, 0);
	if (r != 0) {
		if (errno != ECHILD)
			VIOLATION("waitid(%d, %d): %s", (int)idt, (int)id,
			    strerror(errno));
		return;
	}
	if (si.si_pid <= 0) {
		VIOLATION("a blocking waitid returned no child");
		return;
	}
	atomic_fetch_add(&nop[OP_WAIT_BLOCK], 1);
	lock_L();
	wait_locked(si.si_pid, opt, by_init);
	unlock_L();
}

static int
wait_opts(unsigned *s)
{
	return (below(s, 2) ? WUNTRACED : 0) | (below(s, 2) ? WCONTINUED : 0);
}

static int
reaper(struct ent *self)
{
	unsigned s = self->seed;
	bool held;
	int op, i, nkids;
	struct ent *c;

	held = gp_reaper_acquire() == 0;
	if (!held)
		VIOLATION("gp_reaper_acquire: %s", strerror(errno));
	while (!atomic_load(&stop)) {
		op = (int)below(&s, 100);
		if (op < 25) {
			/*
			 * Its managers get groups of their own at once, under
			 * the same hold of L: no group kill aimed at them can
			 * reach the reaper, which must never be signalled.
			 */
			lock_L();
			for (nkids = 0, i = 0; i < nlive; i++)
				nkids += live[i]->parent == self->serial;
			c = nkids < 4 ? spawn_locked(self, K_MANAGER, &s) :
			    NULL;
			if (c != NULL) {
				if (gp_setpgid(c->pid, c->pid) == 0)
					c->pgid = c->pid;
				else if (errno != ESRCH)
					VIOLATION("reaper setpgid: %s",
					    strerror(errno));
			}
			unlock_L();
		} else if (op < 55) {
			lock_L();
			wait_locked(-1, wait_opts(&s), false);
			unlock_L();
		} else if (op < 85) {
			wait_blocking(P_ALL, 0, wait_opts(&s), false);
		} else if (op < 92) {
			atomic_fetch_add(&nop[OP_REAPER], 1);
			if (held) {
				if (gp_reaper_release() != 0)
					VIOLATION("gp_reaper_release: %s",
					    strerror(errno));
				held = false;
			} else {
				errno = 0;
				if (gp_reaper_release() != -1 ||
				    errno != EINVAL)
					VIOLATION("gp_reaper_release not "
					    "held: not EINVAL");
				if (gp_reaper_acquire() != 0)
					VIOLATION("gp_reaper_acquire: %s",
					    strerror(errno));
				held = true;
			}
		} else {
			atomic_fetch_add(&nop[OP_YIELD], 1);
			nap_us(200);
		}
	}
	return finish(self, 0);
}

static int
proc_main(void *arg)
{
	struct ent *e = arg;

	/*
	 * Orphaned-group job control (SIGHUP then SIGCONT) can reach a
	 * child of init: init regroups its children, so a group may hold
	 * one of them and a manager's child whose parent is elsewhere.  So
	 * every process ignores SIGHUP (children of green parents inherit
	 * it); a child of init says so only after a cancellation point, by
	 * which a SIGHUP posted before the sigaction has killed it.
	 */
	if (e->pkind == PK_INIT) {
		set_disp(SIGHUP, SIG_IGN);
		gp_yield();
		atomic_store(&e->hup_safe, true);
	}

	switch (e->kind) {
	case K_MANAGER:
		return manager(e);
	case K_REAPER:
		return reaper(e);
	default:
		return leaf(e);
	}
}

/* ------------------------------------------------------------ actors */

/* (L) A random entry of init's, or NULL after a few misses. */
static struct ent *
pick_init_child(unsigned *s)
{
	for (int t = 0; t < 4 && nlive > 0; t++) {
		struct ent *e = live[below(s, (unsigned)nlive)];

		if (e->pkind == PK_INIT)
			return e;
	}
	return NULL;
}

static int
spawn_kind(unsigned *s)
{
	unsigned r = below(s, 100);

	if (r < 3 && nreapers < MAXREAPERS)
		return K_REAPER;
	if (r < 15)
		return K_MANAGER;
	return (int)below(s, K_MANAGER);
}

/* One operation of an actor (a host thread or an LWP of init). */
static void
actor_op(unsigned *s)
{
	unsigned op = below(s, 100);
	struct ent *e;
	pid_t arg;

	if (op < 22) {
		lock_L();
		(void)spawn_locked(NULL, spawn_kind(s), s);
		unlock_L();
	} else if (op < 42) {
		lock_L();
		if (nlive > 0)
			kill_ent(live[below(s, (unsigned)nlive)],
			    pick_sig(s));
		unlock_L();
	} else if (op < 47) {
		lock_L();
		if (nlive > 0)
			kill_group(live[below(s, (unsigned)nlive)]->pgid,
			    pick_sig(s), false);
		unlock_L();
	} else if (op < 65) {
		/* WNOHANG under L: by pid, any, or a group of init's. */
		lock_L();
		e = pick_init_child(s);
		switch (below(s, 3)) {
		case 0:
			arg = e != NULL ? e->pid : -1;
			break;
		case 1:
			arg = -1;
			break;
		default:
			arg = e != NULL ? -e->pgid : -1;
			break;
		}
		wait_locked(arg, wait_opts(s), true);
		unlock_L();
	} else if (op < 77) {
		idtype_t idt = P_ALL;
		id_t id = 0;

		lock_L();
		e = pick_init_child(s);
		if (e != NULL && below(s, 3) == 0) {
			idt = P_PID;
			id = (id_t)e->pid;
		} else if (e != NULL && below(s, 2) == 0) {
			idt = P_PGID;
			id = (id_t)e->pgid;
		}
		unlock_L();
		wait_blocking(idt, id, wait_opts(s), true);
	} else if (op < 83) {
		/* Regroup a child of init: alone, or into another's group. */
		lock_L();
		e = pick_init_child(s);
		if (e != NULL && !e->immune) {
			struct ent *o = pick_init_child(s);
			pid_t g = o != NULL && !o->immune &&
			    below(s, 2) ? o->pgid : e->pid;

			for (int i = 0; i < nlive; i++)
				if (live[i]->pgid == g && live[i]->immune)
					g = e->pid;
			if (gp_setpgid(e->pid, g) == 0)
				e->pgid = g;
			else if (errno != ESRCH && errno != EPERM)
				VIOLATION("gp_setpgid(%d, %d): %s",
				    (int)e->pid, (int)g, strerror(errno));
			atomic_fetch_add(&nop[OP_SETPGID], 1);
		}
		unlock_L();
	} else if (op < 85) {
		/* Init: acquire is a no-op, release is EINVAL. */
		atomic_fetch_add(&nop[OP_REAPER], 1);
		if (gp_reaper_acquire() != 0)
			VIOLATION("init's gp_reaper_acquire: %s",
			    strerror(errno));
		errno = 0;
		if (gp_reaper_release() != -1 || errno != EINVAL)
			VIOLATION("init's gp_reaper_release: not EINVAL");
	} else if (op < 95) {
		lwp_churn(s);
	} else {
		atomic_fetch_add(&nop[OP_YIELD], 1);
		if (gp_lwp_self() != NULL)
			gp_yield();
		else
			tu_host_sleep_ns(20000);
	}
}

static void *
actor(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;

	actor_id = (int)(s & 7);	/* start_actors put it there */
	s |= 8;
	while (!atomic_load(&stop))
		actor_op(&s);
	atomic_fetch_sub(&active, 1);
	return NULL;
}

/* ------------------------------------------------------------ epochs */

/*
 * RSS in KiB from /proc/self/status: (anon) RssAnon, the process's own
 * memory, else VmRSS, which also counts the file pages of libc and the
 * program that are first touched late in a run (a drain's code paths)
 * and so drifts with no leak at all.
 */
static long
rss_kib(bool anon)
{
	const char *key = anon ? "RssAnon:" : "VmRSS:";
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			kib = atol(line + strlen(key));
			break;
		}
	fclose(f);
	return kib;
}

static struct gp_counters base;
static long base_spawned;

/*
 * End an epoch: stop the actors, kill what is left until init has
 * reaped every child of its own (reapers end on their own), then check
 * that the runtime is back where it started and the ledger agrees.
 */
static int
drain(pthread_t *th, gp_lwp_t *lw)
{
	struct gp_counters st;
	uint64_t end = tu_now_ns() + DRAIN_S * TU_S;
	struct ent *e;
	long n, left = 0;
	int i;

	atomic_store(&stop, 1);
	for (;;) {
		lock_L();
		for (i = nlive - 1; i >= 0; i--)
			if (i < nlive && !live[i]->immune)
				kill_ent(live[i], 0);
		while (ninit > 0) {
			int st0, r = gp_waitpid(-1, &st0, WNOHANG);

			if (r <= 0)
				break;
			record_pid(r, st0, true);
		}
		n = ninit;
		unlock_L();
		if (n == 0 && atomic_load(&active) == 0)
			break;
		if (tu_now_ns() >= end) {
			VIOLATION("drain: %ld children of init and %d actors "
			    "still there after %d s; gp_ps:", n,
			    atomic_load(&active), DRAIN_S);
			for (i = 0; i < NHOST; i++)
				if (atomic_load(&peeking[i].opt) != 0)
					fprintf(stderr, "host actor %d in "
					    "waitid(%d, %d, %#x)\n", i,
					    atomic_load(&peeking[i].idt),
					    atomic_load(&peeking[i].id),
					    atomic_load(&peeking[i].opt));
			(void)gp_dump(stderr);
			return -1;
		}
		tu_host_sleep_ns(TU_MS);
	}
	for (i = 0; i < NHOST; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NLWP; i++)
		if (gp_lwp_join(lw[i], NULL) != 0)
			VIOLATION("joining an LWP actor failed");

	/* Orphans init adopted are reaped by the runtime, in its time. */
	for (;;) {
		if (gp_stats(&st) != 0) {
			VIOLATION("gp_stats: %s", strerror(errno));
			return -1;
		}
		if (st.live_procs == base.live_procs || tu_now_ns() >= end)
			break;
		tu_host_sleep_ns(TU_MS);
	}
	if (st.live_procs != base.live_procs) {
		VIOLATION("live_procs %ld, was %ld; gp_ps:", st.live_procs,
		    base.live_procs);
		(void)gp_ps(stderr);
	}
	if (tu_wait_live(base.live_lwps, base.live_stacks, 10 * TU_S,
	    &st) != 0)
		VIOLATION("live_lwps %ld (was %ld), live_stacks %ld (was %ld)",
		    st.live_lwps, base.live_lwps, st.live_stacks,
		    base.live_stacks);
	if ((long)(st.lwps_created - st.lwps_reaped) !=
	    st.live_lwps - base.live_lwps + (long)(base.lwps_created -
	    base.lwps_reaped))
		VIOLATION("lwps created %lu - reaped %lu disagrees with "
		    "live_lwps %ld", st.lwps_created, st.lwps_reaped,
		    st.live_lwps);

	/* What the ledger still holds was reaped where we cannot see. */
	lock_L();
	for (i = 0; i < NBUCKET; i++) {
		/* A drop may take others with it: always take the head. */
		while ((e = bucket[i]) != NULL) {
			if (e->pkind == PK_INIT)
				EVIOLATION(e, 0, "a child of init was never "
				    "reaped");
			left++;
			ent_forget(e);
		}
	}
	n = spawned_total - base_spawned;
	unlock_L();
	atomic_fetch_add(&unobserved, left);
	if ((long)(st.spawns - base.spawns) != n ||
	    (long)(st.exits - base.exits) != n ||
	    (long)(st.reaps - base.reaps) != n)
		VIOLATION("gp_stats spawns %lu exits %lu reaps %lu; the "
		    "ledger spawned %ld", st.spawns - base.spawns,
		    st.exits - base.exits, st.reaps - base.reaps, n);
	if (nlive != 0 || ninit != 0 || nreapers != 0)
		VIOLATION("ledger counters %d/%d/%d after the drain", nlive,
		    ninit, nreapers);
	return 0;
}

/*
 * Until (end): every JANITOR_MS, continue whatever was stopped, so that a
 * blocking wait without WUNTRACED for a stopped process (or a manager
 * waiting for its stopped children) is never stuck for long.  A stop
 * lasts from a moment to JANITOR_MS.
 */
static void
janitor(uint64_t end)
{
	int i;

	while (tu_now_ns() < end) {
		tu_host_sleep_ns(JANITOR_MS * TU_MS);
		lock_L();
		for (i = nlive - 1; i >= 0; i--)
			if (i < nlive && live[i]->stop_sent)
				kill_ent(live[i], 4);
		unlock_L();
	}
}

static int
start_actors(pthread_t *th, gp_lwp_t *lw, unsigned *s)
{
	int i, rc;

	atomic_store(&stop, 0);
	atomic_store(&active, NHOST + NLWP);
	for (i = 0; i < NLWP; i++)
		if ((rc = gp_lwp_create(&lw[i], actor, (void *)(uintptr_t)
		    ((rnd(s) & ~7u) | (unsigned)(NHOST + i)), NULL)) != 0) {
			fprintf(stderr, "soak: gp_lwp_create: %s\n",
			    strerror(rc));
			return -1;
		}
	for (i = 0; i < NHOST; i++)
		if (pthread_create(&th[i], NULL, actor, (void *)(uintptr_t)
		    ((rnd(s) & ~7u) | (unsigned)i)) != 0) {
			fprintf(stderr, "soak: pthread_create failed\n");
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *env = argc > 1 ? argv[1] : getenv("SOAK_S");
	const char *senv = getenv("SOAK_SEED"), *tenv = getenv("SOAK_RSS_TOL");
	long secs = env != NULL ? atol(env) : 600, rss[EPOCHS], vm[EPOCHS];
	long total = 0, anon, stk, procs;
	size_t stkmap;
	struct mallinfo2 mi;
	unsigned seed = senv != NULL ? (unsigned)strtoul(senv, NULL, 0) :
	    (unsigned)tu_now_ns();
	double tol, drift;
	pthread_t th[NHOST];
	gp_lwp_t lw[NLWP];
	uint64_t t0, epoch_ns;
	unsigned seed0;
	int ep, i;

	if (secs <= 0)
		secs = 600;
	seed |= 1;
	seed0 = seed;
	tol = tenv != NULL ? atof(tenv) : secs >= 600 ? 1.0 : 100.0;
	epoch_ns = (uint64_t)secs * TU_S / EPOCHS;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("soak: %ld s on %d workers, %d host + %d LWP actors, "
	    "SOAK_SEED=%#x\n", secs, NWORKERS, NHOST, NLWP, seed0);
	if (gp_init(NWORKERS) != 0 || gp_stats(&base) != 0) {
		perror("soak: gp_init");
		return 1;
	}
	/*
	 * The ledger's entries are kept on the freelist at their high-water
	 * mark (live ones plus ghosts), which creeps up as rarer peaks come:
	 * make more than a run needs up front, so that the RSS check sees
	 * the runtime's memory, not the ledger's.
	 */
	for (i = 0; i < PREALLOC; i++) {
		struct ent *e = calloc(1, sizeof(*e));

		if (e == NULL)
			break;
		e->hnext = freelist;
		freelist = e;
		nents++;
	}
	t0 = tu_now_ns();
	for (ep = 0; ep < EPOCHS; ep++) {
		base_spawned = spawned_total;
		if (gp_stats(&base) != 0) {
			perror("soak: gp_stats");
			return 1;
		}
		if (start_actors(th, lw, &seed) != 0)
			return 1;
		janitor(t0 + (uint64_t)(ep + 1) * epoch_ns);
		if (drain(th, lw) != 0)
			break;
		/* Free pages malloc keeps are nobody's memory. */
		(void)malloc_trim(0);
		anon = rss_kib(true);
		vm[ep] = rss_kib(false);
		stk = (long)(gpi_stack_resident(&stkmap) / 1024);
		procs = (long)(gpi_proc_held() / 1024);
		rss[ep] = anon - stk - procs;
		mi = mallinfo2();
		printf("soak: epoch %d/%d at %.0f s: %ld processes, RssAnon "
		    "%ld KiB = %ld in stack slabs (%zu KiB mapped) + %ld in "
		    "process structs + %ld other (malloc: %zu KiB in use, "
		    "%ld ledger entries), VmRSS %ld KiB, %ld violations\n",
		    ep + 1, EPOCHS, (tu_now_ns() - t0) / 1e9,
		    spawned_total - base_spawned, anon, stk, stkmap / 1024,
		    procs, rss[ep], mi.uordblks / 1024,
		    nents, vm[ep], atomic_load(&violations));
		if (atomic_load(&violations) != 0)
			break;
	}

	printf("soak: %.0f s, SOAK_SEED=%#x\n", (tu_now_ns() - t0) / 1e9,
	    seed0);
	for (i = 0; i < NOP; i++) {
		printf("  %-16s %12ld\n", op_name[i], atomic_load(&nop[i]));
		total += atomic_load(&nop[i]);
	}
	printf("  %-16s %12ld\n", "operations", total);
	printf("  signals sent ok: KILL %ld TERM %ld USR1 %ld STOP %ld "
	    "CONT %ld\n", atomic_load(&nsig[0]), atomic_load(&nsig[1]),
	    atomic_load(&nsig[2]), atomic_load(&nsig[3]),
	    atomic_load(&nsig[4]));
	printf("  spawned by kind:");
	for (i = 0; i < NKIND; i++)
		printf(" %s %ld", kind_name[i], atomic_load(&nspawn_kind[i]));
	printf("\n  processes: %ld spawned; %ld reaped by our waits (%ld "
	    "exited, %ld signaled), %ld reaped out of sight (orphans of "
	    "init, reaps lost by a killed manager)\n", spawned_total,
	    atomic_load(&reaped_exit) + atomic_load(&reaped_sig),
	    atomic_load(&reaped_exit), atomic_load(&reaped_sig),
	    atomic_load(&unobserved));
	printf("  reports: %ld stops, %ld continues; ledger entries "
	    "allocated: %ld; new pids equal to a live pgid: %ld\n",
	    atomic_load(&stops_seen), atomic_load(&conts_seen), nents,
	    atomic_load(&pgid_reuse));
	if (ep == EPOCHS) {
		drift = 100.0 * (double)(rss[EPOCHS - 1] - rss[0]) /
		    (double)rss[0];
		printf("  RssAnon less stack slabs and process structs: %ld "
		    "KiB after epoch 1 (%.0f s), %ld KiB at the end: drift %+.2f %% (tolerance %.1f "
		    "%%%s); VmRSS %ld -> %ld KiB\n", rss[0], (double)epoch_ns / 1e9,
		    rss[EPOCHS - 1], drift, tol,
#ifdef TU_UNDER_SAN
		    ", not enforced under a sanitizer",
#else
		    "",
#endif
		    vm[0], vm[EPOCHS - 1]);
#ifndef TU_UNDER_SAN
		if (drift > tol || drift < -tol)
			VIOLATION("rss drift %+.2f %% beyond %.1f %%", drift,
			    tol);
#endif
	}
	if (gp_shutdown() != 0)
		VIOLATION("gp_shutdown: %s", strerror(errno));
	if (atomic_load(&violations) != 0) {
		fprintf(stderr, "soak: FAILED: %ld violations (SOAK_SEED=%#x)"
		    "\n", atomic_load(&violations), seed0);
		return 1;
	}
	printf("soak: ok\n");
	return 0;
}
