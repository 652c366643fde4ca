/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grtlsdl.c -- libgrtlsdl.so for gr_tls_dlopen: a library loaded with
 * dlopen, so its TLS is dynamic (allocated per thread on first use, found
 * through the thread's DTV), not at a fixed offset from the thread pointer.
 */
__thread int grtlsdl_value = 7;		/* .tdata */
__thread long grtlsdl_count;		/* .tbss */
__thread char grtlsdl_pad[200] = "pad";	/* a block wider than a line */

int	grtlsdl_get(void);
void	grtlsdl_set(int v);
long	grtlsdl_bump(long by);
int	grtlsdl_pad_ok(void);

int
grtlsdl_get(void)
{
	return grtlsdl_value;
}

void
grtlsdl_set(int v)
{
	grtlsdl_value = v;
	grtlsdl_pad[199] = (char)v;
}

long
grtlsdl_bump(long by)
{
	grtlsdl_count += by;
	return grtlsdl_count;
}

/* The byte at the end of the block is the one set() last stored here. */
int
grtlsdl_pad_ok(void)
{
	return grtlsdl_pad[0] == 'p' &&
	    grtlsdl_pad[199] == (char)grtlsdl_value;
}
