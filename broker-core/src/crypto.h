/* Private: AES-256-GCM sealing of secrets at rest (credentials column of the store). */
#ifndef OSB_CRYPTO_H
#define OSB_CRYPTO_H

#include <stddef.h>

#define OSB_CRYPTO_KEY_LEN 32

/**
 * Parse a key written as exactly 64 hexadecimal digits (either case).
 * @return 0, or OSB_ERROR when the text is not such a key (key is then zeroed).
 */
int osb_crypto_parse_key(unsigned char key[OSB_CRYPTO_KEY_LEN], const char *hex);

/**
 * Seal `plain` with AES-256-GCM under `key`, binding it to `aad` (the row's
 * id, so a sealed value cannot be moved to another row; NULL means "").
 * @param[out] out  "v1:" + base64(nonce || ciphertext || tag); caller frees.
 * @return 0, OSB_ENOMEM or OSB_ERROR (no randomness, cipher failure).
 */
int osb_crypto_seal(const unsigned char key[OSB_CRYPTO_KEY_LEN], const char *aad, const char *plain, char **out);

/**
 * Open a value made by osb_crypto_seal() with the same key and aad.
 * @param[out] out  the plaintext, NUL-terminated; caller wipes and frees.
 * @return 0, OSB_ENOMEM, or OSB_ERROR (wrong key or aad, tampered or malformed text).
 */
int osb_crypto_open(const unsigned char key[OSB_CRYPTO_KEY_LEN], const char *aad, const char *sealed, char **out);

/** Overwrite a NUL-terminated secret with zeros, then free it; NULL is fine. */
void osb_crypto_free_secret(char *s);

#endif
