/** @file secret.h  Generated passwords and random tokens. */
#ifndef OSB_SECRET_H
#define OSB_SECRET_H

#include "common.h"

/** Characters of a default password: 32 from [A-Za-z0-9], about 190 bits. */
#define OSB_SECRET_DEFAULT_LEN 32

/**
 * Fill `out` with `len` characters drawn uniformly from [A-Za-z0-9] with
 * getrandom(2), then a NUL. `out_size` must be at least len + 1.
 * @return 0, or OSB_ERROR when the kernel gives no randomness or len < 22.
 */
OSB_EXTERN(int) osb_secret_generate(char *out, size_t out_size, size_t len);

/** Fill `out` with `len` random bytes from getrandom(2). @return 0 or OSB_ERROR. */
OSB_EXTERN(int) osb_random_bytes(void *out, size_t len);

#endif
