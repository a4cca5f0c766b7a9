/* Private: whole directory trees, for dedicated servers' directories and their template. */
#ifndef OSB_FILE_INTERNAL_H
#define OSB_FILE_INTERNAL_H

#include <stddef.h>

/**
 * Delete `name` under the directory `parentfd` with everything in it, never
 * following a symbolic link out of it. A missing entry is fine.
 * @return 0, or -1 with errno set.
 */
int osb_file_remove_tree(int parentfd, const char *name);

/**
 * Copy the tree at `src` to the new directory `dst` (which must not exist):
 * directories, regular files and symbolic links, with their modes.
 * @return 0, or -1 with errno set (a partial `dst` may be left: remove it).
 */
int osb_file_copy_tree(const char *src, const char *dst);

/**
 * Write all `len` bytes to `fd`, again after EINTR and short writes.
 * @return 0, or -1 with errno set.
 */
int osb_file_write_all(int fd, const void *data, size_t len);

#endif
