/* Server-side tenant names derived from OSB ids (names.h). */
#include "osb/names.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* Hex digits of the digest kept in a name: 80 bits, collisions are not a concern. */
#define NAME_HEX_DIGITS (OSB_NAME_SIZE - 5)

static void derive(char out[OSB_NAME_SIZE], const char *prefix, const char *id)
{
	char stack_buf[512];
	char *buf = stack_buf;
	size_t plen = strlen(prefix);
	size_t ilen = id ? strlen(id) : 0;
	char hex[65];

	/* Ids are short in practice (routes cap them); only odd callers need the heap. */
	if (plen + ilen > sizeof stack_buf) {
		buf = malloc(plen + ilen);
		/* The signature cannot report failure, and a wrong name would be worse. */
		if (!buf)
			abort();
	}
	memcpy(buf, prefix, plen);
	if (ilen)
		memcpy(buf + plen, id, ilen);
	osb_sha256_hex(hex, buf, plen + ilen);
	if (buf != stack_buf)
		free(buf);

	memcpy(out, "osb_", 4);
	memcpy(out + 4, hex, NAME_HEX_DIGITS);
	out[4 + NAME_HEX_DIGITS] = '\0';
}

void osb_name_instance(char out[OSB_NAME_SIZE], const char *instance_id)
{
	derive(out, "instance:", instance_id);
}

void osb_name_binding(char out[OSB_NAME_SIZE], const char *binding_id)
{
	derive(out, "binding:", binding_id);
}

int osb_name_is_derived_n(const char *s, size_t len)
{
	size_t i;

	if (!s || len != OSB_NAME_SIZE - 1 || strncmp(s, "osb_", 4) != 0)
		return 0;
	for (i = 4; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int osb_name_is_derived(const char *name)
{
	return name && osb_name_is_derived_n(name, strlen(name));
}
