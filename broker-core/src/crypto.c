/* AES-256-GCM sealing of secrets at rest with OpenSSL EVP: "v1:" + base64(nonce || ciphertext || tag). */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "osb/errors.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define PREFIX "v1:"
#define PREFIX_LEN 3

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int osb_crypto_parse_key(unsigned char key[OSB_CRYPTO_KEY_LEN], const char *hex)
{
	if (!hex || strlen(hex) != 2 * OSB_CRYPTO_KEY_LEN)
		goto bad;
	for (int i = 0; i < OSB_CRYPTO_KEY_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
bad:
	OPENSSL_cleanse(key, OSB_CRYPTO_KEY_LEN);
	return OSB_ERROR;
}

void osb_crypto_free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int osb_crypto_seal(const unsigned char key[OSB_CRYPTO_KEY_LEN], const char *aad, const char *plain, char **out)
{
	int rc = OSB_ERROR, n = 0, fin = 0;
	size_t plen = strlen(plain), alen = aad ? strlen(aad) : 0;
	size_t blen = NONCE_LEN + plen + TAG_LEN;
	unsigned char *buf = NULL;
	char *text = NULL;
	EVP_CIPHER_CTX *ctx = NULL;

	*out = NULL;
	if (plen > (size_t)INT32_MAX - NONCE_LEN - TAG_LEN || alen > INT32_MAX)
		return OSB_ERROR;
	buf = malloc(blen);
	/* base64 of blen bytes is 4 * ceil(blen / 3) characters, plus the NUL. */
	text = malloc(PREFIX_LEN + 4 * ((blen + 2) / 3) + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!buf || !text || !ctx) {
		rc = OSB_ENOMEM;
		goto done;
	}
	if (RAND_bytes(buf, NONCE_LEN) != 1)
		goto done;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, buf) != 1)
		goto done;
	if (alen && EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)alen) != 1)
		goto done;
	if (EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n, (const unsigned char *)plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &fin) != 1 || (size_t)(n + fin) != plen ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + NONCE_LEN + plen) != 1)
		goto done;
	memcpy(text, PREFIX, PREFIX_LEN);
	EVP_EncodeBlock((unsigned char *)text + PREFIX_LEN, buf, (int)blen);
	*out = text;
	text = NULL;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	free(text);
	return rc;
}

int osb_crypto_open(const unsigned char key[OSB_CRYPTO_KEY_LEN], const char *aad, const char *sealed, char **out)
{
	int rc = OSB_ERROR, n = 0, fin = 0;
	size_t slen, alen = aad ? strlen(aad) : 0, blen, clen;
	unsigned char *buf = NULL;
	char *plain = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	const char *b64;
	int dec;

	*out = NULL;
	if (!sealed || strncmp(sealed, PREFIX, PREFIX_LEN) != 0 || alen > INT32_MAX)
		return OSB_ERROR;
	b64 = sealed + PREFIX_LEN;
	slen = strlen(b64);
	if (slen == 0 || slen % 4 != 0 || slen > INT32_MAX)
		return OSB_ERROR;
	buf = malloc(slen / 4 * 3);
	ctx = EVP_CIPHER_CTX_new();
	if (!buf || !ctx) {
		rc = OSB_ENOMEM;
		goto done;
	}
	dec = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)slen);
	if (dec < 0)
		goto done;
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	blen = (size_t)dec - (b64[slen - 1] == '=') - (b64[slen - 2] == '=');
	if (blen < NONCE_LEN + TAG_LEN)
		goto done;
	clen = blen - NONCE_LEN - TAG_LEN;
	plain = malloc(clen + 1);
	if (!plain) {
		rc = OSB_ENOMEM;
		goto done;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, buf) != 1)
		goto done;
	if (alen && EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)alen) != 1)
		goto done;
	if (EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, buf + NONCE_LEN, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, buf + NONCE_LEN + clen) != 1)
		goto done;
	/* Final checks the tag: a wrong key, aad or any flipped bit fails here. */
	if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1 || (size_t)(n + fin) != clen)
		goto done;
	plain[clen] = '\0';
	if (strlen(plain) != clen)
		goto done; /* an embedded NUL would truncate the secret silently */
	*out = plain;
	plain = NULL;
	rc = 0;
done:
	if (plain) {
		OPENSSL_cleanse(plain, clen + 1);
		free(plain);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}
