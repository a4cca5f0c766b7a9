/* Unit tests of sql.c: identifier and literal quoting in both dialects. */
#include <stdlib.h>

#include "osb/errors.h"
#include "osb/sql.h"
#include "unit.h"

struct quote_case {
	const char *in;
	osb_sql_dialect dialect;
	int rc;
	const char *want;
};

static void run_table(const struct quote_case *t, size_t n, int identifier)
{
	for (size_t i = 0; i < n; i++) {
		char *out = (char *)"sentinel";
		int rc = identifier ? osb_sql_quote_identifier(&out, t[i].in, t[i].dialect)
				    : osb_sql_quote_literal(&out, t[i].in, t[i].dialect);
		if (rc != t[i].rc)
			fprintf(stderr, "case %zu (%s)\n", i, identifier ? "identifier" : "literal");
		CHECK_INT(rc, t[i].rc);
		if (t[i].want) {
			CHECK_STR(out, t[i].want);
		} else {
			CHECK(out == NULL);
		}
		if (rc == 0)
			free(out);
	}
}

static void test_identifiers(void)
{
	static const struct quote_case t[] = {
		{ "osb_abc", OSB_SQL_STANDARD, 0, "\"osb_abc\"" },
		{ "osb_abc", OSB_SQL_MYSQL, 0, "`osb_abc`" },
		{ "a\"b", OSB_SQL_STANDARD, 0, "\"a\"\"b\"" },
		{ "a\"b", OSB_SQL_MYSQL, 0, "`a\"b`" },
		{ "a`b", OSB_SQL_MYSQL, 0, "`a``b`" },
		{ "a`b", OSB_SQL_STANDARD, 0, "\"a`b\"" },
		{ "\"", OSB_SQL_STANDARD, 0, "\"\"\"\"" },
		{ "``", OSB_SQL_MYSQL, 0, "``````" },
		{ "a\\b", OSB_SQL_STANDARD, 0, "\"a\\b\"" },
		{ "a\\b", OSB_SQL_MYSQL, 0, "`a\\b`" },
		{ "it's", OSB_SQL_STANDARD, 0, "\"it's\"" },
		{ "caf\xc3\xa9", OSB_SQL_STANDARD, 0, "\"caf\xc3\xa9\"" },
		{ "\xf0\x9f\x90\x98", OSB_SQL_MYSQL, 0, "`\xf0\x9f\x90\x98`" },
		{ "", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },
		{ "", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },
		{ "\xc0\xa2", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },         /* overlong '"' */
		{ "\xe0\x80\xa2", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },        /* overlong 3-byte */
		{ "\xf0\x80\x80\xa2", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },    /* overlong 4-byte */
		{ "\xed\xa0\x80", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },     /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL }, /* U+110000 */
		{ "\xf5\x80\x80\x80", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },
		{ "a\x80", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL }, /* stray continuation */
		{ "a\xc3", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL }, /* truncated */
		{ "\xe2\x82", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL }, /* truncated */
		{ "\xc3\x28", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL }, /* bad continuation */
		{ "\xff", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },
		{ "x", (osb_sql_dialect)7, OSB_EBADREQUEST, NULL },
	};
	run_table(t, sizeof t / sizeof t[0], 1);
}

static void test_identifier_length(void)
{
	char s[300];
	char *out = NULL;
	memset(s, 'a', sizeof s);
	s[255] = '\0';
	CHECK_INT(osb_sql_quote_identifier(&out, s, OSB_SQL_STANDARD), 0);
	CHECK_INT(out ? strlen(out) : 0, 257);
	free(out);
	s[255] = 'a';
	s[256] = '\0';
	CHECK_INT(osb_sql_quote_identifier(&out, s, OSB_SQL_MYSQL), OSB_EBADREQUEST);
	CHECK(out == NULL);
	CHECK_INT(osb_sql_quote_identifier(&out, NULL, OSB_SQL_MYSQL), OSB_EBADREQUEST);
	CHECK_INT(osb_sql_quote_identifier(NULL, "a", OSB_SQL_MYSQL), OSB_EBADREQUEST);
}

static void test_literals(void)
{
	static const struct quote_case t[] = {
		{ "secret", OSB_SQL_STANDARD, 0, "'secret'" },
		{ "secret", OSB_SQL_MYSQL, 0, "'secret'" },
		{ "", OSB_SQL_STANDARD, 0, "''" },
		{ "", OSB_SQL_MYSQL, 0, "''" },
		{ "it's", OSB_SQL_STANDARD, 0, "'it''s'" },
		{ "it's", OSB_SQL_MYSQL, 0, "'it''s'" },
		{ "'", OSB_SQL_STANDARD, 0, "''''" },
		{ "a\\b", OSB_SQL_STANDARD, 0, "'a\\b'" },
		{ "a\\b", OSB_SQL_MYSQL, 0, "'a\\\\b'" },
		{ "\\'", OSB_SQL_STANDARD, 0, "'\\'''" },
		{ "\\'", OSB_SQL_MYSQL, 0, "'\\\\'''" },
		{ "say \"hi\"", OSB_SQL_MYSQL, 0, "'say \"hi\"'" },
		{ "`x`", OSB_SQL_MYSQL, 0, "'`x`'" },
		{ "\xe2\x82\xac 5", OSB_SQL_STANDARD, 0, "'\xe2\x82\xac 5'" },
		{ "\xef\xbf\xbf", OSB_SQL_STANDARD, 0, "'\xef\xbf\xbf'" },      /* U+FFFF */
		{ "\xf4\x8f\xbf\xbf", OSB_SQL_MYSQL, 0, "'\xf4\x8f\xbf\xbf'" }, /* U+10FFFF */
		{ "\xed\x9f\xbf", OSB_SQL_MYSQL, 0, "'\xed\x9f\xbf'" },         /* U+D7FF */
		{ "\xc0\xa7", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },           /* overlong '\'' */
		{ "\xc1\x9c", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },           /* overlong '\\' */
		{ "\xed\xbf\xbf", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },    /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", OSB_SQL_MYSQL, OSB_EBADREQUEST, NULL },
		{ "ok\xbf", OSB_SQL_STANDARD, OSB_EBADREQUEST, NULL },
		{ "x", (osb_sql_dialect)-1, OSB_EBADREQUEST, NULL },
	};
	run_table(t, sizeof t / sizeof t[0], 0);
}

static void test_long_literal(void)
{
	/* Literals have no length cap; 100 kB of quotes doubles cleanly. */
	size_t n = 100000;
	char *s = malloc(n + 1);
	char *out = NULL;
	CHECK(s != NULL);
	if (!s)
		return;
	memset(s, '\'', n);
	s[n] = '\0';
	CHECK_INT(osb_sql_quote_literal(&out, s, OSB_SQL_MYSQL), 0);
	CHECK_INT(out ? strlen(out) : 0, 2 * n + 2);
	free(out);
	free(s);
	CHECK_INT(osb_sql_quote_literal(&out, NULL, OSB_SQL_MYSQL), OSB_EBADREQUEST);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_identifiers), OSB_TEST_CASE(test_identifier_length), OSB_TEST_CASE(test_literals),
	      OSB_TEST_CASE(test_long_literal))
