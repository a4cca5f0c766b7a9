/* nkeys and JWTs of NATS operator mode (what nsc makes), with OpenSSL's ed25519. */
#ifndef OSB_NATS_JWT_H
#define OSB_NATS_JWT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Encoded lengths with the NUL: a public key "A..." (56 characters), a seed "SA..." (58). */
#define NT_PUBLIC_SIZE 57
#define NT_SEED_SIZE 59

/** An ed25519 key of one nkey type: 'O' operator, 'A' account, 'U' user. */
typedef struct {
	unsigned char raw[32]; /* the ed25519 seed: secret */
	char type;
} nt_key;

/** Decode an encoded seed ("SO...", "SA...") of the given type. @return 0, or -1 (bad text, checksum or type). */
int nt_key_from_seed(nt_key *k, const char *seed, char type);

/** A key of `type` derived from a secret: HMAC-SHA256(secret, label). @return 0 or -1. */
int nt_key_derive(nt_key *k, char type, const char *secret, const char *label);

/** A random key of `type`. @return 0 or -1. */
int nt_key_random(nt_key *k, char type);

/** The encoded public key ("A..."). @return 0 or -1. */
int nt_key_public(const nt_key *k, char out[NT_PUBLIC_SIZE]);

/** The encoded seed ("SU..."): a secret. */
void nt_key_seed(const nt_key *k, char out[NT_SEED_SIZE]);

/** Overwrite a key. */
void nt_key_wipe(nt_key *k);

/**
 * Sign `claims` as `issuer`: sets jti, iat and iss, then returns
 * base64url(header).base64url(claims).base64url(ed25519 signature).
 * @return the token (free()), or NULL.
 */
char *nt_jwt_sign(const nt_key *issuer, cJSON *claims);

/** The claims of a token, not verified (tokens the server hands back). @return a new object, or NULL. */
cJSON *nt_jwt_claims(const char *token);

/** ed25519 signature of `len` bytes: 64 bytes in `sig`. @return 0 or -1. */
int nt_sign(const nt_key *k, const void *data, size_t len, unsigned char sig[64]);

#endif
