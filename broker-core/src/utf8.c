/* UTF-8 well-formedness: checking, cutting on a character boundary, scrubbing (utf8.h). */
#include "osb/utf8.h"

#include <string.h>

/*
 * The length of the well-formed sequence at s[0..len), or 0 when there is none
 * (RFC 3629, table 3-7 of the Unicode standard: the second byte's range
 * depends on the first so that overlong forms and surrogates are refused).
 */
static size_t sequence_length(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int osb_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		/* ASCII runs are the common case: skip them a byte at a time without the table. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = sequence_length(p + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

size_t osb_utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max), i = 0;

	while (i < len) {
		size_t n = sequence_length(p + i, len - i);
		if (!n)
			break;
		i += n;
	}
	return i;
}

size_t osb_utf8_scrub(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, replaced = 0;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : sequence_length(p + i, len - i);
		if (n) {
			i += n;
			continue;
		}
		p[i++] = '?';
		replaced++;
	}
	return replaced;
}
