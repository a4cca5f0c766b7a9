/**
 * @file file.h  Files a broker writes for servers: configuration, secrets, and the
 * password and group files of servers configured by files (Apache, svnserve).
 */
#ifndef OSB_FILE_H
#define OSB_FILE_H

#include <sys/types.h>

#include "buf.h"
#include "common.h"

/** osb_file_write_private() flag: leave an existing file as it is (first writer wins). */
#define OSB_FILE_KEEP 1

/**
 * Write `len` bytes to dir/name, mode 0600, atomically: a temporary file in
 * `dir`, fsync, then rename over the old file (or, with OSB_FILE_KEEP, link it
 * in place only when there is none). A crash leaves the old file or the new
 * one, never half of one. `name` must be a plain file name (no '/').
 * @return 0, or OSB_ERROR with the reason logged.
 */
OSB_EXTERN(int) osb_file_write_private(const char *dir, const char *name, const void *data, size_t len, int flags);

/**
 * osb_file_write_private() with another mode, exactly (the umask does not
 * narrow it): for a file a server reads under another user of the file's
 * group, such as an Apache htpasswd file (0640) or a repository hook (0750).
 * @return 0, or OSB_ERROR with the reason logged.
 */
OSB_EXTERN(int)
osb_file_write_mode(const char *dir, const char *name, const void *data, size_t len, int flags, mode_t mode);

/**
 * Append the whole of dir/name to `out` (a buffer that wipes itself: the file
 * may hold password hashes or passwords).
 * @param max  most bytes accepted.
 * @return 0, OSB_ENOTFOUND when the file does not exist, OSB_ETOOLARGE when it
 *         is longer than max, OSB_ENOMEM, or OSB_ERROR with errno set.
 */
OSB_EXTERN(int) osb_file_read(osb_buf *out, const char *dir, const char *name, size_t max);

/**
 * Rewrite the line file dir/name (a password or group file) atomically with
 * osb_file_write_mode(): each non-empty line for which drop(line, len, arg)
 * returns 0 is kept as it is, then `add` (one line without its newline) is
 * appended when not NULL. A missing file counts as empty. Callers that may race
 * hold osb_file_lock() around it. Memory that held the file is wiped.
 * @param max  largest file accepted, in bytes.
 * @return 0, OSB_ETOOLARGE, OSB_ENOMEM, or OSB_ERROR (the reason logged or in errno).
 */
OSB_EXTERN(int)
osb_file_edit_lines(const char *dir, const char *name, mode_t mode, size_t max,
		    int (*drop)(const char *line, size_t len, void *arg), void *arg, const char *add);

/**
 * Take the exclusive lock dir/name (the file is made when missing, mode 0600)
 * around a read-modify-write of files a server reads. It holds against other
 * threads and other processes (a `--reconcile=purge` run beside the broker):
 * each call locks a descriptor of its own with flock(2).
 * @return the descriptor, for osb_file_unlock(); OSB_ETIMEOUT when another
 *         holder kept the lock past timeout_ms, or OSB_ERROR with errno set.
 */
OSB_EXTERN(int) osb_file_lock(const char *dir, const char *name, int timeout_ms);

/** Release a lock osb_file_lock() took. Negative values are ignored. */
OSB_EXTERN(void) osb_file_unlock(int fd);

/**
 * Delete dir/name with everything in it (a file, or a directory tree such as
 * a repository), never following a symbolic link out of it. A missing entry is fine.
 * @return 0, or -1 with errno set.
 */
OSB_EXTERN(int) osb_file_remove(const char *dir, const char *name);

/**
 * Read a secret of [A-Za-z0-9._~+/=-] characters from dir/name, such as a
 * password osb_secret_generate() made (a trailing newline is dropped).
 * @param[out] out  NUL-terminated; zeroed on failure.
 * @return the secret's length, OSB_ENOTFOUND when the file does not exist, or
 *         OSB_ERROR when it is unreadable, empty, longer than out_size - 1 or
 *         holds other characters.
 */
OSB_EXTERN(int) osb_file_read_secret(char *out, size_t out_size, const char *dir, const char *name);

/**
 * Create a directory and its missing parents; existing ones are fine.
 * @return 0, or -1 with errno set.
 */
OSB_EXTERN(int) osb_mkdir_p(const char *path, mode_t mode);

#endif
