/* SPDX-License-Identifier: BSD-2-Clause */
/* grtls.c -- libgrtls.so for gr_tls_lib: a shared library's own TLS. */
__thread int grtls_value = 7;		/* .tdata */
__thread int grtls_count;		/* .tbss */

int	grtls_bump(int by);

int
grtls_bump(int by)
{
	grtls_count += by;
	return grtls_count;
}
