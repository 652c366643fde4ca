/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grdlcheck.c -- libgrdlcheck.so, a preload for
 * tests/programs/passthru_dlnext.c: preload/dlnext.c compiled into an
 * object of its own, so that its lookup and dlsym(RTLD_NEXT) can be asked
 * the same names from the same caller.  Wherever the program puts this
 * object in LD_PRELOAD, grdlcheck() asks both for every name that the
 * objects dlnext.c searches define (libc's every symbol, every version
 * of it, greenproc's interposers when its preload follows this one):
 * a superset of the names the preload resolves.  dlnext.c may answer
 * NULL (its caller then asks dlsym), never another address; and for the
 * names the preload resolves (dlnames.h, made by the Makefile from its
 * tables) it must answer itself, since a lookup left to dlsym in a
 * signal handler or a fork child is not async-signal-safe.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "../../preload/dlnext.c"

int	grdlcheck(void);

/* The names the preload looks up: a few the sources name are not libc's. */
static const char *const table[] = {
#include "dlnames.h"
};

/* The symbol count of (o)'s GNU hash table: past the last chain's end. */
static uint32_t
dlobj_nsyms(const struct dlobj *o)
{
	const uint32_t *gh = o->o_gnuhash, *buckets, *chain;
	uint32_t nbuckets = gh[0], symoffset = gh[1], nbloom = gh[2];
	uint32_t b, last = 0;

	buckets = (const uint32_t *)(const void *)
	    &((const ElfW(Addr) *)(const void *)&gh[4])[nbloom];
	chain = &buckets[nbuckets];
	for (b = 0; b < nbuckets; b++) {
		if (buckets[b] > last)
			last = buckets[b];
	}
	if (last < symoffset)
		return symoffset;
	while ((chain[last - symoffset] & 1) == 0)
		last++;
	return last + 1;
}

/*
 * Compare for every name; print each disagreement and the counts.  The
 * number of disagreements, or -1 if dlnext.c cannot walk at all here.
 */
__attribute__((visibility("default"))) int
grdlcheck(void)
{
	const struct dlnext *nx;
	struct dlnext local;
	unsigned names = 0, same = 0, asked = 0, bad = 0, ours = 0;
	void *mine, *theirs;
	size_t t;
	int k;

	if ((nx = dlnext_get(&local)) == NULL) {
		printf("grdlcheck: dlnext.c does not walk here\n");
		return -1;
	}
	for (k = 0; k < nx->n_count; k++) {
		const struct dlobj *o = &nx->n_obj[k];
		uint32_t i, nsym = dlobj_nsyms(o);

		for (i = o->o_gnuhash[1]; i < nsym; i++) {
			const ElfW(Sym) *s = &o->o_sym[i];
			const char *name = o->o_str + s->st_name;

			if (s->st_shndx == SHN_UNDEF || name[0] == '\0')
				continue;
			names++;
			mine = gpi_dlnext(name);
			theirs = dlsym(RTLD_NEXT, name);
			if (mine == theirs)
				same++;
			else if (mine == NULL)
				asked++;	/* the preload asks dlsym */
			else {
				bad++;
				printf("grdlcheck: %s: dlnext %p, dlsym %p\n",
				    name, mine, theirs);
			}
		}
	}
	for (t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
		if ((theirs = dlsym(RTLD_NEXT, table[t])) == NULL)
			continue;
		ours++;
		if ((mine = gpi_dlnext(table[t])) != theirs) {
			bad++;
			printf("grdlcheck: the preload's %s: dlnext %p, "
			    "dlsym %p\n", table[t], mine, theirs);
		}
	}
	printf("grdlcheck: %d objects, %u names: %u same, %u left to dlsym, "
	    "%u wrong; %u of the preload's names\n",
	    nx->n_count, names, same, asked, bad, ours);
	return (int)bad;
}
