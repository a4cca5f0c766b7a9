/* Random passwords and bytes from getrandom(2) (secret.h). */
#include "osb/secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "osb/errors.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_LEN 62
/* Largest multiple of 62 that fits in a byte: bytes at or above it are redrawn. */
#define ACCEPT_LIMIT (256 / ALPHABET_LEN * ALPHABET_LEN)

/* memset the compiler may not drop: the buffers held secret material. */
static void wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;
	while (len--)
		*v++ = 0;
}

int osb_random_bytes(void *out, size_t len)
{
	unsigned char *p = out;

	if (!out && len)
		return OSB_ERROR;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return OSB_ERROR;
		}
		/* Reads above 256 bytes may come back short when a signal arrives. */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int osb_secret_generate(char *out, size_t out_size, size_t len)
{
	unsigned char pool[64];
	size_t have = 0, used = 0, i = 0;

	if (!out || out_size == 0)
		return OSB_ERROR;
	out[0] = '\0';
	/* 22 characters of 62 symbols are about 131 bits: below that, refuse. */
	if (len < 22 || len >= out_size)
		return OSB_ERROR;

	while (i < len) {
		if (used == have) {
			if (osb_random_bytes(pool, sizeof pool) != 0) {
				wipe(pool, sizeof pool);
				wipe(out, len);
				out[0] = '\0';
				return OSB_ERROR;
			}
			have = sizeof pool;
			used = 0;
		}
		unsigned char b = pool[used++];
		/* Rejection sampling: byte % 62 is uniform only below ACCEPT_LIMIT. */
		if (b >= ACCEPT_LIMIT)
			continue;
		out[i++] = alphabet[b % ALPHABET_LEN];
	}
	out[len] = '\0';
	wipe(pool, sizeof pool);
	return 0;
}
