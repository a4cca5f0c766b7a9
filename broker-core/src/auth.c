/* Basic authentication with constant-time comparison, and the originating identity header. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "hash.h"
#include "osb/utf8.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long osb_base64_decode(const char *in, size_t len, unsigned char *out)
{
	if (len % 4 != 0)
		return -1;
	long n = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + j];
			if (c == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (pad || (v[j] = b64_value(c)) < 0) {
				return -1;
			}
		}
		unsigned triple = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
		out[n++] = (unsigned char)(triple >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(triple >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)triple;
	}
	out[n] = '\0';
	return n;
}

int osb_auth_check(const osb_config *config, const char *authorization, const char **user_out)
{
	*user_out = NULL;
	if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
		return -1;
	const char *b64 = authorization + 6;
	while (*b64 == ' ')
		b64++;
	size_t len = strlen(b64);
	while (len && b64[len - 1] == ' ')
		len--;
	if (len == 0 || len > 1024)
		return -1;
	unsigned char *plain = malloc(len + 1);
	if (!plain)
		return -1;
	long n = osb_base64_decode(b64, len, plain);
	char *colon = n > 0 ? memchr(plain, ':', (size_t)n) : NULL;
	if (!colon || memchr(plain, '\0', (size_t)n)) {
		free(plain);
		return -1;
	}
	/* Compare digests of "user:password" so that lengths leak nothing, and try every account. */
	unsigned char given[32], want[32];
	osb_sha256(given, plain, (size_t)n);
	int match = 0;
	for (size_t i = 0; i < config->account_count; i++) {
		const osb_account *a = &config->accounts[i];
		size_t ul = strlen(a->username), pl = strlen(a->password);
		char *pair = malloc(ul + pl + 2);
		if (!pair)
			continue;
		memcpy(pair, a->username, ul);
		pair[ul] = ':';
		memcpy(pair + ul + 1, a->password, pl + 1);
		osb_sha256(want, pair, ul + pl + 1);
		OPENSSL_cleanse(pair, ul + pl + 1);
		free(pair);
		match |= CRYPTO_memcmp(given, want, sizeof want) == 0;
	}
	if (!match) {
		*colon = '\0';
		size_t ulen = strlen((char *)plain);
		int printable = ulen > 0 && ulen <= 64;
		for (size_t i = 0; printable && i < ulen; i++)
			if (plain[i] < 0x20 || plain[i] > 0x7e || plain[i] == '"' || plain[i] == '\\')
				printable = 0;
		*user_out = printable ? strdup((char *)plain) : NULL;
	}
	OPENSSL_cleanse(plain, len + 1);
	free(plain);
	return match ? 0 : -1;
}

int osb_auth_decode_identity(const char *header, char **out)
{
	const char *space = strchr(header, ' ');
	if (!space || space == header || strlen(header) > 8192)
		return -1;
	size_t plat_len = (size_t)(space - header);
	for (size_t i = 0; i < plat_len; i++)
		if ((unsigned char)header[i] <= 0x20 || (unsigned char)header[i] > 0x7e)
			return -1;
	const char *b64 = space + 1;
	size_t len = strlen(b64);
	unsigned char *json = malloc(len + 1);
	if (!json)
		return -1;
	long n = osb_base64_decode(b64, len, json);
	/* Keep cJSON's recursion shallow (small thread stacks) and refuse escaped NULs. */
	int depth = 0, max_depth = 0;
	for (long i = 0; i < n; i++) {
		if (json[i] == '[' || json[i] == '{')
			max_depth = ++depth > max_depth ? depth : max_depth;
		else if (json[i] == ']' || json[i] == '}')
			depth--;
		else if (json[i] == '\\' && i + 1 < n && json[i + 1] == 'u' && i + 5 < n &&
			 memcmp(json + i + 2, "0000", 4) == 0)
			max_depth = 1000;
	}
	/* JSON is UTF-8: anything else would reach the log and the drivers as it is. */
	int utf8 = n > 0 && osb_utf8_valid((const char *)json, (size_t)n);
	cJSON *obj = utf8 && max_depth <= 16 ? cJSON_ParseWithLength((char *)json, (size_t)n) : NULL;
	free(json);
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return -1;
	}
	char *compact = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!compact)
		return -1;
	size_t total = plat_len + 1 + strlen(compact) + 1;
	*out = malloc(total);
	if (*out)
		snprintf(*out, total, "%.*s %s", (int)plat_len, header, compact);
	free(compact);
	return *out ? 0 : -1;
}
