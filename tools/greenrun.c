/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * greenrun.c -- run an unmodified program as a green process.
 *
 *	greenrun [-w WORKERS] [--] prog args...
 *
 * Execs prog (searched in PATH, as execvp does) with
 * libgreenproc_preload.so put first in LD_PRELOAD (kept where it already
 * is if present) and GREENPROC_INIT=1, which turns on the preload's
 * green-init mode: main() runs as the first green process and every
 * thread it makes is a green LWP (docs/ARCHITECTURE.md, "Green-init
 * mode").  -w sets GREENPROC_WORKERS.  Setting both variables by hand
 * does the same.
 *
 * The preload is looked for next to this program (the build tree:
 * build/greenrun beside build/libgreenproc_preload.so), then in ../lib
 * from it, then in the LIBDIR it was built for (make install).
 *
 * Exit status: prog's, since greenrun is replaced by it; 127 if prog or
 * the preload cannot be found, 126 if prog cannot be executed, 2 for a
 * usage error.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GREENRUN_LIBDIR
#define GREENRUN_LIBDIR	"/usr/local/lib"
#endif
#define PRELOAD_NAME	"libgreenproc_preload.so"

static void
usage(void)
{
	fprintf(stderr, "usage: greenrun [-w WORKERS] [--] prog args...\n");
	exit(2);
}

/* (dir)(sub)/PRELOAD_NAME into (buf) if it fits and is readable. */
static bool
try_path(char *buf, size_t len, const char *dir, const char *sub)
{
	int n = snprintf(buf, len, "%s%s/%s", dir, sub, PRELOAD_NAME);

	return n > 0 && (size_t)n < len && access(buf, R_OK) == 0;
}

/* An absolute path to the preload in (buf), or false. */
static bool
find_preload(char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		if (try_path(buf, len, self, "") ||
		    try_path(buf, len, self, "/../lib"))
			return true;
	}
	return try_path(buf, len, GREENRUN_LIBDIR, "");
}

/* Does the LD_PRELOAD list (ld) already name the preload? */
static bool
listed(const char *ld)
{
	const char *p = ld, *end;
	size_t n = strlen(PRELOAD_NAME);

	/* Entries are separated by spaces or colons (ld.so(8)). */
	while (*p != '\0') {
		end = p + strcspn(p, " :");
		if ((size_t)(end - p) >= n && strncmp(end - n, PRELOAD_NAME,
		    n) == 0 && (end - p == (ptrdiff_t)n || end[-n - 1] == '/'))
			return true;
		p = *end != '\0' ? end + 1 : end;
	}
	return false;
}

int
main(int argc, char **argv)
{
	char preload[PATH_MAX], *ld, *nld;
	long w;
	int c;

	while ((c = getopt(argc, argv, "+w:")) != -1) {
		switch (c) {
		case 'w':
			errno = 0;
			w = strtol(optarg, &ld, 10);
			if (errno != 0 || *ld != '\0' || ld == optarg || w < 1 ||
			    w > 1024) {
				fprintf(stderr, "greenrun: -w wants 1..1024, "
				    "not '%s'\n", optarg);
				return 2;
			}
			if (setenv("GREENPROC_WORKERS", optarg, 1) != 0) {
				perror("greenrun: setenv");
				return 127;
			}
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (!find_preload(preload, sizeof(preload))) {
		fprintf(stderr, "greenrun: %s not found next to greenrun nor "
		    "in %s\n", PRELOAD_NAME, GREENRUN_LIBDIR);
		return 127;
	}
	ld = getenv("LD_PRELOAD");
	if (ld == NULL || ld[0] == '\0') {
		nld = preload;
	} else if (listed(ld)) {
		nld = ld;
	} else {
		if ((nld = malloc(strlen(preload) + strlen(ld) + 2)) == NULL) {
			perror("greenrun");
			return 127;
		}
		sprintf(nld, "%s:%s", preload, ld);
	}
	if (setenv("LD_PRELOAD", nld, 1) != 0 ||
	    setenv("GREENPROC_INIT", "1", 1) != 0) {
		perror("greenrun: setenv");
		return 127;
	}
	execvp(argv[optind], &argv[optind]);
	c = errno;
	fprintf(stderr, "greenrun: %s: %s\n", argv[optind], strerror(c));
	return c == ENOENT ? 127 : 126;
}
