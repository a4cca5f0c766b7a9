/* Private: Basic authentication against the configured accounts, and header decoding. */
#ifndef OSB_AUTH_H
#define OSB_AUTH_H

#include "config.h"

/**
 * Check an Authorization header against every account, in constant time
 * whatever matches (so timing tells nothing about names or passwords).
 * @param[out] user_out  on failure, the user name that was tried (malloc'd, for
 *                       the log) or NULL; never the password.
 * @return 0 when an account matches, -1 otherwise.
 */
int osb_auth_check(const osb_config *config, const char *authorization, const char **user_out);

/**
 * Decode "<platform> <base64 JSON object>" into "<platform> <JSON>".
 * @param[out] out  malloc'd on success.
 * @return 0, or -1 when malformed.
 */
int osb_auth_decode_identity(const char *header, char **out);

/** Decode standard base64 (padding required). @return decoded length, or -1. out must hold 3*len/4+1. */
long osb_base64_decode(const char *in, size_t len, unsigned char *out);

#endif
