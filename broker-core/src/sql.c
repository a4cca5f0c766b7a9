/* Quoting of SQL identifiers and string literals (sql.h). */
#include "osb/sql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"

/* Longest identifier accepted, in bytes (the header's contract). */
#define IDENT_MAX 255

/*
 * Strict UTF-8 (RFC 3629): shortest form only, no UTF-16 surrogates, nothing
 * above U+10FFFF. A server might otherwise read a quote hidden in a bad sequence.
 */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			/* 0x80-0xC1: stray continuation or overlong 2-byte lead; 0xF5+: out of range. */
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			unsigned char cc = s[i + k];
			if ((cc & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (cc & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return 0; /* overlong */
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return 0; /* surrogate */
		if (cp > 0x10FFFF)
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Wrap `s` in `quote`, doubling `quote` and, when escape_backslash, backslashes. */
static int quote(char **out, const char *s, size_t len, char q, int escape_backslash)
{
	size_t extra = 0;
	char *buf, *p;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == q || (escape_backslash && s[i] == '\\'))
			extra++;
	}
	if (len > SIZE_MAX - extra - 3)
		return OSB_ENOMEM;
	buf = malloc(len + extra + 3);
	if (!buf)
		return OSB_ENOMEM;
	p = buf;
	*p++ = q;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == q)
			*p++ = q;
		else if (escape_backslash && s[i] == '\\')
			*p++ = '\\';
		*p++ = s[i];
	}
	*p++ = q;
	*p = '\0';
	*out = buf;
	return 0;
}

int osb_sql_quote_identifier(char **out, const char *ident, osb_sql_dialect dialect)
{
	size_t len;

	if (!out)
		return OSB_EBADREQUEST;
	*out = NULL;
	if (!ident || (dialect != OSB_SQL_STANDARD && dialect != OSB_SQL_MYSQL))
		return OSB_EBADREQUEST;
	len = strlen(ident);
	if (len == 0 || len > IDENT_MAX || !utf8_valid((const unsigned char *)ident, len))
		return OSB_EBADREQUEST;
	/* Backslashes mean nothing inside quoted identifiers in either dialect. */
	return quote(out, ident, len, dialect == OSB_SQL_MYSQL ? '`' : '"', 0);
}

int osb_sql_quote_literal(char **out, const char *value, osb_sql_dialect dialect)
{
	size_t len;

	if (!out)
		return OSB_EBADREQUEST;
	*out = NULL;
	if (!value || (dialect != OSB_SQL_STANDARD && dialect != OSB_SQL_MYSQL))
		return OSB_EBADREQUEST;
	len = strlen(value);
	if (!utf8_valid((const unsigned char *)value, len))
		return OSB_EBADREQUEST;
	/* MySQL reads \' as a quote unless NO_BACKSLASH_ESCAPES; PostgreSQL with
	 * standard_conforming_strings takes backslashes literally. */
	return quote(out, value, len, '\'', dialect == OSB_SQL_MYSQL);
}
