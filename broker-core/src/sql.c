/* Quoting of SQL identifiers and string literals (sql.h). */
#include "osb/sql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"
#include "osb/utf8.h"

/* Longest identifier accepted, in bytes (the header's contract). */
#define IDENT_MAX 255

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
	if (len == 0 || len > IDENT_MAX || !osb_utf8_valid(ident, len))
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
	/* Strict UTF-8: a server might otherwise read a quote hidden in a bad sequence. */
	if (!osb_utf8_valid(value, len))
		return OSB_EBADREQUEST;
	/* MySQL reads \' as a quote unless NO_BACKSLASH_ESCAPES; PostgreSQL with
	 * standard_conforming_strings takes backslashes literally. */
	return quote(out, value, len, '\'', dialect == OSB_SQL_MYSQL);
}
