/** @file file.h  Private files: configuration and secrets a broker writes for the servers it runs. */
#ifndef OSB_FILE_H
#define OSB_FILE_H

#include <sys/types.h>

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
