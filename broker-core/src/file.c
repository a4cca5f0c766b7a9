/* Files written atomically, read back whole, locked, removed as trees; directories made with their parents (file.h). */
#include "osb/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_internal.h"

#include "osb/errors.h"
#include "osb/log.h"

/* Deeper trees are refused: nothing a server writes nests this far. */
#define MAX_TREE_DEPTH 64

int osb_file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int osb_file_write_private(const char *dir, const char *name, const void *data, size_t len, int flags)
{
	return osb_file_write_mode(dir, name, data, len, flags, 0600);
}

int osb_file_write_mode(const char *dir, const char *name, const void *data, size_t len, int flags, mode_t mode)
{
	char path[4096], tmp[4096];
	int fd = -1, rc = OSB_ERROR;

	if (!name || !*name || strchr(name, '/') ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.%d.tmp", dir, name, (int)getpid()) >= sizeof tmp) {
		osb_log(OSB_LOG_ERROR, "file.write", "bad file name or path too long in %s", dir);
		return OSB_ERROR;
	}
	if ((flags & OSB_FILE_KEEP) && access(path, F_OK) == 0)
		return 0;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* The mode is set before the data goes in, and exactly: the umask would narrow a 0640. */
	if (fd < 0 || fchmod(fd, mode & 07777) != 0 || osb_file_write_all(fd, data, len) != 0 || fsync(fd) != 0)
		goto done;
	if (close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if ((flags & OSB_FILE_KEEP) ? link(tmp, path) != 0 && errno != EEXIST : rename(tmp, path) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		osb_log(OSB_LOG_ERROR, "file.write", "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int osb_file_read(osb_buf *out, const char *dir, const char *name, size_t max)
{
	char path[4096], chunk[4096];
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
		errno = ENAMETOOLONG;
		return OSB_ERROR;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? OSB_ENOTFOUND : OSB_ERROR;
	while (rc == 0 && (n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = OSB_ERROR;
		else if ((got += (size_t)n) > max)
			rc = OSB_ETOOLARGE;
		else if (osb_buf_add(out, chunk, (size_t)n) != 0)
			rc = OSB_ENOMEM;
	}
	explicit_bzero(chunk, sizeof chunk);
	close(fd);
	return rc;
}

int osb_file_edit_lines(const char *dir, const char *name, mode_t mode, size_t max,
			int (*drop)(const char *line, size_t len, void *arg), void *arg, const char *add)
{
	osb_buf in = OSB_BUF_INIT, out = OSB_BUF_INIT;
	const char *p, *end;
	int rc = osb_file_read(&in, dir, name, max);

	if (rc == OSB_ENOTFOUND)
		rc = 0;
	for (p = in.data ? in.data : ""; rc == 0 && *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (end > p && !drop(p, (size_t)(end - p), arg)) {
			osb_buf_add(&out, p, (size_t)(end - p));
			osb_buf_puts(&out, "\n");
		}
	}
	if (rc == 0 && add)
		osb_buf_printf(&out, "%s\n", add);
	if (rc == 0 && !osb_buf_text(&out))
		rc = OSB_ENOMEM;
	if (rc == 0)
		rc = osb_file_write_mode(dir, name, out.data ? out.data : "", out.len, 0, mode);
	osb_buf_free(&in);
	osb_buf_free(&out);
	return rc;
}

int osb_file_lock(const char *dir, const char *name, int timeout_ms)
{
	char path[4096];
	int64_t deadline = osb_clock_ms() + timeout_ms;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
		errno = ENAMETOOLONG;
		return OSB_ERROR;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return OSB_ERROR;
	/* flock has no timeout of its own: try, then sleep a little, until the deadline. */
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		int e = errno;
		if (e != EWOULDBLOCK && e != EINTR) {
			close(fd);
			errno = e;
			return OSB_ERROR;
		}
		if (osb_clock_ms() >= deadline) {
			close(fd);
			return OSB_ETIMEOUT;
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
}

void osb_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the descriptor releases its flock */
}

int osb_file_remove(const char *dir, const char *name)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = osb_file_remove_tree(fd, name);
	close(fd);
	return rc;
}

static int secret_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("._~+/=-", c));
}

int osb_file_read_secret(char *out, size_t out_size, const char *dir, const char *name)
{
	char path[4096];
	ssize_t n = -1;
	int fd;

	if (!out || out_size < 2)
		return OSB_ERROR;
	memset(out, 0, out_size);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return OSB_ERROR;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? OSB_ENOTFOUND : OSB_ERROR;
	size_t got = 0;
	/* One byte more than fits, to tell a long file from one that fits exactly. */
	while (got < out_size && (n = read(fd, out + got, out_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (n < 0 || got == out_size) {
		explicit_bzero(out, out_size);
		return OSB_ERROR;
	}
	while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
		out[--got] = '\0';
	for (size_t i = 0; i < got; i++)
		if (!secret_char(out[i]))
			got = 0;
	if (got == 0) {
		explicit_bzero(out, out_size);
		return OSB_ERROR;
	}
	return (int)got;
}

int osb_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(buf, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int remove_tree(int parentfd, const char *name, int depth)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parentfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
		return -1;
	}
	if (depth > MAX_TREE_DEPTH) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			is_dir = fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		}
		if (is_dir ? remove_tree(dirfd(dir), e->d_name, depth + 1) : unlinkat(dirfd(dir), e->d_name, 0))
			if (errno != ENOENT)
				rc = -1;
	}
	closedir(dir);
	if (rc == 0 && unlinkat(parentfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int osb_file_remove_tree(int parentfd, const char *name)
{
	return remove_tree(parentfd, name, 0);
}

static int copy_file(int srcdir, const char *name, int dstdir, mode_t mode)
{
	char buf[65536];
	int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	off_t size = 0;
	ssize_t n;

	if (in < 0)
		return -1;
	out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
	if (out < 0)
		goto done;
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		/* Zeros become a hole: a server's preallocated files (redo logs, WAL) cost no writes, no space. */
		if (buf[0] == 0 && memcmp(buf, buf + 1, (size_t)n - 1) == 0) {
			if (lseek(out, n, SEEK_CUR) < 0)
				goto done;
		} else if (osb_file_write_all(out, buf, (size_t)n) != 0) {
			goto done;
		}
		size += n;
	}
	/* A file that ends in a hole gets its length here. */
	if (ftruncate(out, size) == 0)
		rc = fchmod(out, mode & 07777);
done:
	if (out >= 0 && close(out) != 0)
		rc = -1;
	close(in);
	return rc;
}

static int copy_tree(int srcfd, int dstparent, const char *name, mode_t mode, int depth)
{
	if (depth > MAX_TREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if (mkdirat(dstparent, name, 0700) != 0)
		return -1;
	int dstfd = openat(dstparent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = dstfd >= 0 ? fdopendir(srcfd) : NULL;
	int rc = dir ? 0 : -1;
	struct dirent *e;

	if (!dir)
		close(srcfd);
	while (rc == 0 && dir && (e = readdir(dir)) != NULL) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = sub < 0 ? -1 : copy_tree(sub, dstfd, e->d_name, st.st_mode, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(dirfd(dir), e->d_name, dstfd, st.st_mode);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(dirfd(dir), e->d_name, target, sizeof target - 1);
			if (n < 0) {
				rc = -1;
			} else {
				target[n] = '\0';
				rc = symlinkat(target, dstfd, e->d_name);
			}
		} /* sockets, pipes and devices are a running server's, never a template's: skip them */
	}
	if (dir)
		closedir(dir);
	if (rc == 0 && fchmod(dstfd, mode & 07777) != 0)
		rc = -1;
	if (dstfd >= 0)
		close(dstfd);
	return rc;
}

int osb_file_copy_tree(const char *src, const char *dst)
{
	char parent[4096];
	const char *slash = strrchr(dst, '/');
	struct stat st;
	int srcfd, parentfd, rc;

	if (!slash || slash == dst || (size_t)(slash - dst) >= sizeof parent) {
		errno = EINVAL;
		return -1;
	}
	memcpy(parent, dst, (size_t)(slash - dst));
	parent[slash - dst] = '\0';
	if ((srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(srcfd, &st) != 0 || (parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		close(srcfd);
		return -1;
	}
	rc = copy_tree(srcfd, parentfd, slash + 1, st.st_mode, 0);
	close(parentfd);
	return rc;
}
