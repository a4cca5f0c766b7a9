/* Unit tests of file.c's tree copy: what dedicated servers' templates are copied with. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

int main(void)
{
	static const osb_test_case cases[] = {
		{ "copy_tree", test_copy_tree },
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
