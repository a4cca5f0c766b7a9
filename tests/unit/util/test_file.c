/* Unit tests of file.c: the tree copy of dedicated servers' templates, and the files of servers configured by files. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "osb/errors.h"

#include "file_internal.h"
#include "osb/file.h"
#include "unit.h"

static char root[] = "/tmp/osb-test-file.XXXXXX";

/* Write `len` bytes of `byte` at `offset` of root/name (made with mode 0640 when missing). */
static void put(const char *name, off_t offset, int byte, size_t len)
{
	char path[256], *buf = malloc(len ? len : 1);
	snprintf(path, sizeof path, "%s/%s", root, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0640);
	CHECK(fd >= 0 && buf);
	if (fd < 0 || !buf) {
		free(buf);
		return;
	}
	memset(buf, byte, len);
	CHECK_INT(pwrite(fd, buf, len, offset), (long long)len);
	close(fd);
	free(buf);
}

/* Whether root/a and root/b hold the same bytes. */
static int same(const char *a, const char *b)
{
	char pa[256], pb[256], ba[4096], bb[4096];
	snprintf(pa, sizeof pa, "%s/%s", root, a);
	snprintf(pb, sizeof pb, "%s/%s", root, b);
	FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
	int eq = fa && fb;
	size_t na, nb;
	while (eq && ((na = fread(ba, 1, sizeof ba, fa)) | (nb = fread(bb, 1, sizeof bb, fb))) != 0)
		eq = na == nb && memcmp(ba, bb, na) == 0;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return eq;
}

static struct stat stat_of(const char *name)
{
	char path[256];
	struct stat st;
	memset(&st, 0, sizeof st);
	snprintf(path, sizeof path, "%s/%s", root, name);
	CHECK_INT(stat(path, &st), 0);
	return st;
}

static void test_copy_tree(void)
{
	const size_t mb = 1024 * 1024;
	char src[256], sub[256], dst[256];

	snprintf(src, sizeof src, "%s/src", root);
	snprintf(sub, sizeof sub, "%s/src/sub", root);
	snprintf(dst, sizeof dst, "%s/dst", root);
	CHECK_INT(osb_mkdir_p(src, 0750), 0);
	CHECK_INT(chmod(src, 0750), 0); /* whatever the umask */
	CHECK_INT(mkdir(sub, 0700), 0);
	put("src/small", 0, 'a', 10);
	put("src/empty", 0, 0, 0);
	/* A preallocated log: data at the start, then zeros to the end (4 MB). */
	put("src/log", 0, 'x', 5000);
	put("src/log", 5000, 0, 4 * mb - 5000);
	/* Data after zeros, and a run of zeros shorter than a read between data. */
	put("src/sub/mixed", 0, 0, 2 * mb);
	put("src/sub/mixed", 2 * mb, 'y', 100);
	put("src/sub/mixed", 2 * mb + 100, 0, 1000);
	put("src/sub/mixed", 2 * mb + 1100, 'z', 1);

	CHECK_INT(osb_file_copy_tree(src, dst), 0);
	CHECK(same("src/small", "dst/small"));
	CHECK(same("src/empty", "dst/empty"));
	CHECK(same("src/log", "dst/log"));
	CHECK(same("src/sub/mixed", "dst/sub/mixed"));
	CHECK_INT(stat_of("dst/log").st_size, 4 * mb);
	CHECK_INT(stat_of("dst/sub/mixed").st_size, 2 * mb + 1101);
	CHECK_INT(stat_of("dst/small").st_mode & 07777, 0640);
	CHECK_INT(stat_of("dst").st_mode & 07777, 0750);
	CHECK_INT(stat_of("dst/sub").st_mode & 07777, 0700);
	/* The zeros were not written: the copy of the log takes a few blocks, not 4 MB. */
	CHECK(stat_of("dst/log").st_blocks * 512 < 1 * (long long)mb);
	/* The destination must not exist: a copy never merges into an old one. */
	CHECK(osb_file_copy_tree(src, dst) != 0);
}

/* A file another user of its group reads: the mode is exact whatever the umask, and a rewrite replaces it whole. */
static void test_write_mode_and_read(void)
{
	osb_buf b = OSB_BUF_INIT;
	mode_t old = umask(077);

	CHECK_INT(osb_file_write_mode(root, "htpasswd", "a:1\n", 4, 0, 0640), 0);
	CHECK_INT(stat_of("htpasswd").st_mode & 07777, 0640);
	CHECK_INT(osb_file_write_mode(root, "htpasswd", "b:2\nc:3\n", 8, 0, 0640), 0);
	CHECK_INT(stat_of("htpasswd").st_mode & 07777, 0640);
	CHECK_INT(osb_file_write_mode(root, "htpasswd", "d:4\n", 4, OSB_FILE_KEEP, 0640), 0);
	CHECK_INT(osb_file_write_mode(root, "hook", "#!/bin/sh\n", 10, 0, 0750), 0);
	CHECK_INT(stat_of("hook").st_mode & 07777, 0750);
	CHECK_INT(osb_file_write_private(root, "private", "x", 1, 0), 0);
	CHECK_INT(stat_of("private").st_mode & 07777, 0600);
	CHECK(osb_file_write_mode(root, "a/b", "x", 1, 0, 0640) != 0);
	umask(old);

	CHECK_INT(osb_buf_puts(&b, "kept:"), 0);
	CHECK_INT(osb_file_read(&b, root, "htpasswd", 100), 0);
	CHECK_STR(osb_buf_text(&b), "kept:b:2\nc:3\n");
	CHECK_INT(osb_file_read(&b, root, "htpasswd", 7), OSB_ETOOLARGE);
	CHECK_INT(osb_file_read(&b, root, "missing", 100), OSB_ENOTFOUND);
	osb_buf_free(&b);
	CHECK_INT(osb_file_read(&b, root, "private", 1), 0);
	CHECK_STR(osb_buf_text(&b), "x");
	osb_buf_free(&b);
}

static int drop_user(const char *line, size_t len, void *arg)
{
	size_t n = strlen(arg);
	return len > n && memcmp(line, arg, n) == 0 && line[n] == ':';
}

/* A password file: a user's line replaced, others kept in order, a missing file made, blank lines gone. */
static void test_edit_lines(void)
{
	osb_buf b = OSB_BUF_INIT;

	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 1000, drop_user, "bob", "bob:1"), 0);
	CHECK_INT(stat_of("users").st_mode & 07777, 0640);
	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 1000, drop_user, "al", "al:2"), 0);
	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 1000, drop_user, "bob", "bob:3"), 0);
	CHECK_INT(osb_file_read(&b, root, "users", 1000), 0);
	CHECK_STR(osb_buf_text(&b), "al:2\nbob:3\n");
	osb_buf_free(&b);
	CHECK_INT(osb_file_write_mode(root, "users", "\nal:2\n\nbob:3\n", 13, 0, 0640), 0); /* blank lines */
	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 1000, drop_user, "al", NULL), 0);
	CHECK_INT(osb_file_read(&b, root, "users", 1000), 0);
	CHECK_STR(osb_buf_text(&b), "bob:3\n");
	osb_buf_free(&b);
	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 3, drop_user, "al", NULL), OSB_ETOOLARGE);
	CHECK_INT(osb_file_edit_lines(root, "users", 0640, 1000, drop_user, "bob", NULL), 0);
	CHECK_INT(stat_of("users").st_size, 0);
}

/* One holder at a time, among threads (a descriptor each) and processes; a waiter gives up at its timeout. */
static void test_lock(void)
{
	int a = osb_file_lock(root, ".lock", 1000), status = -1;
	pid_t child;

	CHECK(a >= 0);
	CHECK_INT(stat_of(".lock").st_mode & 07777, 0600);
	int64_t t0 = osb_clock_ms();
	CHECK_INT(osb_file_lock(root, ".lock", 100), OSB_ETIMEOUT);
	CHECK(osb_clock_ms() - t0 >= 100);
	child = fork();
	if (child == 0)
		_exit(osb_file_lock(root, ".lock", 50) == OSB_ETIMEOUT ? 0 : 1);
	CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	osb_file_unlock(a);
	int b = osb_file_lock(root, ".lock", 100);
	CHECK(b >= 0);
	osb_file_unlock(b);
	osb_file_unlock(-1);
	CHECK_INT(osb_file_lock("/nonexistent-dir", ".lock", 10), OSB_ERROR);
}

static void test_remove(void)
{
	char dir[256];

	snprintf(dir, sizeof dir, "%s/repo.git/objects/ab", root);
	CHECK_INT(osb_mkdir_p(dir, 0700), 0);
	put("repo.git/objects/ab/cdef", 0, 'o', 10);
	put("repo.git/HEAD", 0, 'h', 10);
	CHECK_INT(osb_file_remove(root, "repo.git"), 0);
	snprintf(dir, sizeof dir, "%s/repo.git", root);
	CHECK(access(dir, F_OK) != 0);
	CHECK_INT(osb_file_remove(root, "repo.git"), 0);
	CHECK_INT(osb_file_remove("/nonexistent-dir", "x"), 0);
	put("plain", 0, 'p', 3);
	CHECK_INT(osb_file_remove(root, "plain"), 0);
}

int main(void)
{
	static const osb_test_case cases[] = {
		{ "copy_tree", test_copy_tree },   { "write_mode_and_read", test_write_mode_and_read },
		{ "edit_lines", test_edit_lines }, { "lock", test_lock },
		{ "remove", test_remove },
	};
	if (!mkdtemp(root))
		return 1;
	int rc = osb_test_run(cases, sizeof cases / sizeof cases[0]);
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		osb_file_remove_tree(fd, root + 5);
		close(fd);
	}
	return rc;
}
