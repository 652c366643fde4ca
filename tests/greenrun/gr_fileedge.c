/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fileedge.c -- the file calls' answers at their edges, natively and
 * under greenrun: bad descriptors and pointers, a pipe given to pread,
 * a directory read or written, O_APPEND with pwrite, reads of zero bytes,
 * /dev/zero and /dev/null, and the opens that greenrun makes on the
 * worker (iofile.c: open_here, create_here) with every odd argument they
 * must hand back as the kernel answers it: a NULL or bad path with and
 * without O_CREAT (EFAULT, never a fault of ours), an empty path, a
 * trailing slash, O_CREAT through a symlink and with O_NOFOLLOW, O_EXCL
 * of an existing name, a FIFO without a reader, the umask's mode bits,
 * and a name too long.  Each line is one call's result.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static char dir[] = "/tmp/gr_fileedge.XXXXXX";

/* Bad arguments the compiler must not see through (it warns of them). */
static char *volatile bad = (char *)8;
static const char *volatile null_path;
static volatile int minus_one = -1, too_many = IOV_MAX + 1;

static void
say(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %ld\n", what, r);
}

/* An open: only whether it opened (descriptor numbers may differ). */
static void
said_open(const char *what, int fd)
{
	if (fd < 0) {
		printf("%s: -1 %s\n", what, strerror(errno));
		return;
	}
	printf("%s: opened\n", what);
	close(fd);
}

static const char *
in(const char *name)
{
	static char path[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

int
main(void)
{
	char buf[8192];
	struct iovec iov[2] = { { buf, 10 }, { buf + 10, 10 } };
	struct stat st;
	int d, f, ro, wo, z, nul, p[2];

	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	if (mkdtemp(dir) == NULL || mkdir(in("sub"), 0700) != 0 ||
	    pipe(p) != 0) {
		perror("setup");
		return 2;
	}

	d = open(in("sub"), O_RDONLY | O_DIRECTORY);
	say("read of a directory", read(d, buf, 10));
	say("pread of a directory", pread(d, buf, 10, 0));
	say("fsync of a directory", fsync(d));
	say("write to a directory", write(d, "x", 1));
	close(d);

	f = open(in("file"), O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	say("write of 0 bytes", write(f, "", 0));
	say("write", write(f, "abcdef", 6));
	say("pwrite at 0, O_APPEND", pwrite(f, "XY", 2, 0));
	say("position", lseek(f, 0, SEEK_CUR));
	say("read of 0 bytes", read(f, buf, 0));
	lseek(f, 0, SEEK_SET);
	memset(buf, 0, sizeof(buf));
	say("read", read(f, buf, 100));
	printf("contents: %s\n", buf);
	say("pread at -1", pread(f, buf, 10, -1));
	lseek(f, 0, SEEK_SET);
	say("readv", readv(f, iov, 2));
	say("readv of -1 buffers", readv(f, iov, minus_one));
	say("readv of IOV_MAX + 1", readv(f, iov, too_many));
	say("read at the end into a bad buffer", read(f, bad, 10));
	lseek(f, 0, SEEK_SET);
	say("read into a bad buffer", read(f, bad, 10));
	say("write from a bad buffer", write(f, bad, 10));
	say("read of a bad descriptor", read(9999, buf, 1));
	say("pread of a bad descriptor", pread(9999, buf, 1, 0));
	say("fsync of a bad descriptor", fsync(9999));
	say("pread of a pipe", pread(p[0], buf, 1, 0));
	say("pwrite to a pipe", pwrite(p[1], "x", 1, 0));
	say("fdatasync of a pipe", fdatasync(p[0]));

	ro = open(in("file"), O_RDONLY);
	wo = open(in("file"), O_WRONLY);
	say("write to a read-only descriptor", write(ro, "x", 1));
	say("pwrite to a read-only descriptor", pwrite(ro, "x", 1, 0));
	say("fsync of a read-only descriptor", fsync(ro));
	say("read of a write-only descriptor", read(wo, buf, 1));
	say("pread of a write-only descriptor", pread(wo, buf, 1, 0));
	lseek(ro, 0, SEEK_SET);
	say("sendfile", sendfile(wo, ro, NULL, 4));
	close(ro);
	close(wo);
	close(f);
	z = open("/dev/zero", O_RDONLY);
	nul = open("/dev/null", O_WRONLY);
	say("read of /dev/zero", read(z, buf, 4096));
	say("pread of /dev/zero", pread(z, buf, 4096, 0));
	say("write to /dev/null", write(nul, buf, 4096));
	say("pwrite to /dev/null", pwrite(nul, buf, 4096, 5));
	close(z);
	close(nul);

	said_open("open of a directory for writing", open(in("sub"), O_RDWR));
	said_open("open of a NULL path", open(null_path, O_RDONLY));
	said_open("open of a bad path", open(bad, O_RDONLY));
	said_open("open of an empty path", open("", O_RDONLY));
	said_open("openat of a bad descriptor", openat(9999, "x", O_RDONLY));
	said_open("openat of a bad descriptor, absolute",
	    openat(9999, in("file"), O_RDONLY));
	ro = open(in("file"), O_RDONLY);
	said_open("openat of a file as the directory", openat(ro, "x",
	    O_RDONLY));
	close(ro);
	memset(buf, 'a', 5000);
	buf[5000] = '\0';
	said_open("open of a name too long", open(buf, O_RDONLY));
	said_open("creat of a name too long", open(buf, O_WRONLY | O_CREAT,
	    0600));

	said_open("creat of a NULL path", open(null_path, O_WRONLY | O_CREAT,
	    0600));
	said_open("creat of a bad path", open(bad, O_WRONLY | O_CREAT, 0600));
	said_open("creat of an empty path", open("", O_WRONLY | O_CREAT,
	    0600));
	said_open("creat of a directory/", open(in("sub/"), O_WRONLY | O_CREAT,
	    0600));
	said_open("creat in a directory not there", open(in("none/x"),
	    O_WRONLY | O_CREAT, 0600));
	said_open("creat, O_EXCL", open(in("new"), O_WRONLY | O_CREAT | O_EXCL,
	    0666));
	if (stat(in("new"), &st) == 0)
		printf("its mode: %o\n", st.st_mode & 0777);
	said_open("creat, O_EXCL, of an existing name", open(in("new"),
	    O_WRONLY | O_CREAT | O_EXCL, 0600));
	f = open(in("new"), O_WRONLY | O_TRUNC | O_APPEND);
	printf("O_TRUNC | O_APPEND leaves: %#x\n", fcntl(f, F_GETFL) &
	    (O_ACCMODE | O_APPEND | O_NONBLOCK));
	close(f);
	if (symlink(in("target"), in("link")) != 0)
		perror("symlink");
	said_open("creat through a symlink", open(in("link"),
	    O_WRONLY | O_CREAT, 0600));
	say("its target is there", access(in("target"), F_OK));
	said_open("creat through a symlink, O_NOFOLLOW", open(in("link"),
	    O_WRONLY | O_CREAT | O_NOFOLLOW, 0600));
	said_open("creat through a symlink, O_EXCL", open(in("link"),
	    O_WRONLY | O_CREAT | O_EXCL, 0600));
	if (mkfifo(in("fifo"), 0600) != 0)
		perror("mkfifo");
	said_open("creat of a FIFO without a reader, O_NONBLOCK",
	    open(in("fifo"), O_WRONLY | O_CREAT | O_NONBLOCK, 0600));
	said_open("creat in /proc", open("/proc/self/none", O_WRONLY | O_CREAT,
	    0600));

	unlink(in("fifo"));
	unlink(in("link"));
	unlink(in("target"));
	unlink(in("new"));
	unlink(in("file"));
	rmdir(in("sub"));
	rmdir(dir);
	return 0;
}
