/* UTF-8 well-formedness: sequences, spans, checks and scrubbing (utf8.h). */
#include "osb/utf8.h"

size_t osb_utf8_sequence(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (!len)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range depends on the first: that refuses overlong forms, surrogates and
	 * code points above U+10FFFF (Unicode, table 3-7). */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

size_t osb_utf8_span(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		/* ASCII runs are the common case: step over them without the table. */
		size_t n = (unsigned char)s[i] < 0x80 ? 1 : osb_utf8_sequence(s + i, len - i);
		if (!n)
			break;
		i += n;
	}
	return i;
}

int osb_utf8_valid(const char *s, size_t len)
{
	return osb_utf8_span(s, len) == len;
}

size_t osb_utf8_scrub(char *s, size_t len)
{
	size_t i = 0, replaced = 0;

	while (i < len) {
		size_t n = (unsigned char)s[i] < 0x80 ? 1 : osb_utf8_sequence(s + i, len - i);
		if (n) {
			i += n;
			continue;
		}
		s[i++] = '?';
		replaced++;
	}
	return replaced;
}
