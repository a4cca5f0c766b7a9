/* SHA-256 through OpenSSL's one-shot EVP interface. */
#include "hash.h"

#include <openssl/evp.h>

void osb_sha256(unsigned char out[32], const void *data, size_t len)
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void osb_sha256_hex(char out[65], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	osb_sha256(d, data, len);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
