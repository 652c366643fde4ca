/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pipe.c -- a seq-like writer: numbers to stdout until the reader
 * goes away; SIGPIPE (default action) must kill it.  argv[1] = "stdio"
 * writes with printf, "unlocked" with fwrite_unlocked and putc_unlocked
 * (as coreutils' seq does), else with write(2).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	bool stdio = argc > 1 && strcmp(argv[1], "stdio") == 0;
	bool unlocked = argc > 1 && strcmp(argv[1], "unlocked") == 0;
	char buf[32];
	long i;
	int n;

	for (i = 1; i < 100000000; i++) {
		if (stdio) {
			printf("%ld\n", i);
			continue;
		}
		n = snprintf(buf, sizeof(buf), "%ld", i);
		if (unlocked) {
			fwrite_unlocked(buf, 1, (size_t)n, stdout);
			putc_unlocked('\n', stdout);
			continue;
		}
		buf[n++] = '\n';
		if (write(1, buf, (size_t)n) != n) {
			perror("write");
			return 1;
		}
	}
	return 0;
}
