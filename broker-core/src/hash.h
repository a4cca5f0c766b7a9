/* Private: SHA-256 digests (OpenSSL) for names, fingerprints and ETags. */
#ifndef OSB_HASH_H
#define OSB_HASH_H

#include <stddef.h>

/** Write the lowercase hex SHA-256 of data (64 digits + NUL) into out. */
void osb_sha256_hex(char out[65], const void *data, size_t len);

/** Raw SHA-256 of data into out. */
void osb_sha256(unsigned char out[32], const void *data, size_t len);

#endif
