/* nkeys (base32 of a prefix, 32 key bytes and a CRC-16) and ed25519-nkey JWTs, as nats-server 2.9 verifies them. */
#include "nats_jwt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Prefix byte of a public key of each type (the first base32 letter is the type). */
static int nt_prefix(char type)
{
	switch (type) {
	case 'O': return 14 << 3;
	case 'A': return 0;
	case 'U': return 20 << 3;
	default: return -1;
	}
}

/* CRC-16/XMODEM, the nkey checksum. */
static uint16_t nt_crc16(const unsigned char *p, size_t n)
{
	uint16_t crc = 0;

	while (n--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int i = 0; i < 8; i++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

/* base32 without padding of n bytes (out holds n * 8 / 5 + 2). */
static void nt_b32(char *out, const unsigned char *p, size_t n)
{
	unsigned int acc = 0, bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		for (bits += 8; bits >= 5; bits -= 5)
			*out++ = b32_alphabet[(acc >> (bits - 5)) & 31];
	}
	if (bits)
		*out++ = b32_alphabet[(acc << (5 - bits)) & 31];
	*out = '\0';
}

/* Decode base32 into at most `size` bytes. @return the byte count, or -1. */
static int nt_unb32(unsigned char *out, size_t size, const char *s)
{
	unsigned int acc = 0, bits = 0;
	size_t n = 0;

	for (; *s; s++) {
		const char *c = strchr(b32_alphabet, *s);
		if (!c)
			return -1;
		acc = (acc << 5) | (unsigned int)(c - b32_alphabet);
		if ((bits += 5) >= 8) {
			if (n == size)
				return -1;
			out[n++] = (unsigned char)(acc >> (bits -= 8));
		}
	}
	return (int)n;
}

/* Encode prefix bytes and 32 key bytes with their checksum. */
static void nt_encode(char *out, const unsigned char *prefix, size_t plen, const unsigned char key[32])
{
	unsigned char buf[36];
	uint16_t crc;

	memcpy(buf, prefix, plen);
	memcpy(buf + plen, key, 32);
	crc = nt_crc16(buf, plen + 32);
	buf[plen + 32] = (unsigned char)(crc & 0xff);
	buf[plen + 33] = (unsigned char)(crc >> 8);
	nt_b32(out, buf, plen + 34);
	OPENSSL_cleanse(buf, sizeof(buf));
}

void nt_key_seed(const nt_key *k, char out[NT_SEED_SIZE])
{
	int p = nt_prefix(k->type);
	unsigned char prefix[2] = { (unsigned char)((18 << 3) | (p >> 5)), (unsigned char)((p & 31) << 3) };

	nt_encode(out, prefix, 2, k->raw);
}

int nt_key_from_seed(nt_key *k, const char *seed, char type)
{
	unsigned char buf[40];
	int n = seed ? nt_unb32(buf, sizeof(buf), seed) : -1, p = nt_prefix(type), rc = -1;

	if (n == 36 && p >= 0 && buf[0] == ((18 << 3) | (p >> 5)) && buf[1] == ((p & 31) << 3) &&
	    nt_crc16(buf, 34) == (uint16_t)(buf[34] | buf[35] << 8)) {
		memcpy(k->raw, buf + 2, 32);
		k->type = type;
		rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int nt_key_derive(nt_key *k, char type, const char *secret, const char *label)
{
	unsigned int len = 0;

	k->type = type;
	return HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)label, strlen(label), k->raw,
		    &len) && len == 32
		       ? 0
		       : -1;
}

int nt_key_random(nt_key *k, char type)
{
	k->type = type;
	return RAND_bytes(k->raw, 32) == 1 ? 0 : -1;
}

void nt_key_wipe(nt_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int nt_key_public(const nt_key *k, char out[NT_PUBLIC_SIZE])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->raw, 32);
	unsigned char pub[32], prefix[1] = { (unsigned char)nt_prefix(k->type) };
	size_t len = sizeof(pub);
	int rc = pk && EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 && len == 32 ? 0 : -1;

	if (rc == 0)
		nt_encode(out, prefix, 1, pub);
	EVP_PKEY_free(pk);
	return rc;
}

int nt_sign(const nt_key *k, const void *data, size_t len, unsigned char sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->raw, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = pk && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
				 EVP_DigestSign(ctx, sig, &siglen, data, len) == 1 && siglen == 64
			 ? 0
			 : -1;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

/* base64url without padding (out holds n * 4 / 3 + 4). */
static void nt_b64url(char *out, const unsigned char *p, size_t n)
{
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *c = out; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
}

char *nt_jwt_sign(const nt_key *issuer, cJSON *claims)
{
	static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
	char iss[NT_PUBLIC_SIZE], jti[64], *body = NULL, *token = NULL;
	unsigned char rnd[32], sig[64];
	size_t hlen, blen;

	if (nt_key_public(issuer, iss) != 0 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return NULL;
	nt_b32(jti, rnd, sizeof(rnd));
	cJSON_DeleteItemFromObjectCaseSensitive(claims, "jti");
	cJSON_DeleteItemFromObjectCaseSensitive(claims, "iat");
	cJSON_DeleteItemFromObjectCaseSensitive(claims, "iss");
	if (!cJSON_AddStringToObject(claims, "jti", jti) ||
	    !cJSON_AddNumberToObject(claims, "iat", (double)time(NULL)) ||
	    !cJSON_AddStringToObject(claims, "iss", iss) || !(body = cJSON_PrintUnformatted(claims)))
		return NULL;
	hlen = (sizeof(header) - 1 + 2) / 3 * 4 + 1;
	blen = (strlen(body) + 2) / 3 * 4 + 1;
	if ((token = malloc(hlen + blen + 90 + 3))) {
		char *p = token;
		nt_b64url(p, (const unsigned char *)header, sizeof(header) - 1);
		p += strlen(p);
		*p++ = '.';
		nt_b64url(p, (const unsigned char *)body, strlen(body));
		p += strlen(p);
		if (nt_sign(issuer, token, (size_t)(p - token), sig) != 0) {
			free(token);
			token = NULL;
		} else {
			*p++ = '.';
			nt_b64url(p, sig, sizeof(sig));
		}
	}
	free(body);
	return token;
}

cJSON *nt_jwt_claims(const char *token)
{
	const char *a = token ? strchr(token, '.') : NULL, *b = a ? strchr(a + 1, '.') : NULL;
	size_t n = b ? (size_t)(b - a - 1) : 0, len;
	unsigned char *raw;
	char *text;
	int out;
	cJSON *claims = NULL;

	if (!b || n == 0 || n > 1 << 20)
		return NULL;
	text = malloc(n + 4);
	raw = malloc(n + 4);
	if (!text || !raw) {
		free(text);
		free(raw);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		text[i] = a[1 + i] == '-' ? '+' : a[1 + i] == '_' ? '/' : a[1 + i];
	for (len = n; len % 4; len++)
		text[len] = '=';
	text[len] = '\0';
	out = EVP_DecodeBlock(raw, (unsigned char *)text, (int)len);
	if (out >= 0) {
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		out -= (int)(len - n);
		claims = cJSON_ParseWithLength((const char *)raw, (size_t)(out > 0 ? out : 0));
	}
	free(text);
	free(raw);
	return claims;
}
