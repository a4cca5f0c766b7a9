/* Unit tests of utf8.c: sequences, spans (cutting on a character boundary), well-formedness, scrubbing. */
#include "osb/utf8.h"
#include "unit.h"

#define VALID(lit) osb_utf8_valid(lit, sizeof lit - 1)

static void test_valid(void)
{
	CHECK(VALID(""));
	CHECK(VALID("plain ASCII {\"a\":1}"));
	CHECK(VALID("a\0b"));
	CHECK(VALID("caf\xc3\xa9"));      /* U+00E9 */
	CHECK(VALID("\xe2\x82\xac"));     /* U+20AC */
	CHECK(VALID("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
	CHECK(VALID("\xee\x80\x80"));     /* U+E000, just above */
	CHECK(VALID("\xef\xbf\xbf"));     /* U+FFFF */
	CHECK(VALID("\xf0\x90\x80\x80")); /* U+10000 */
	CHECK(VALID("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	CHECK(!VALID("\xff\xfe"));        /* the bytes the outside check sent */
	CHECK(!VALID("\xfe"));
	CHECK(!VALID("\x80")); /* a continuation byte alone */
	CHECK(!VALID("\xc3")); /* cut off */
	CHECK(!VALID("caf\xc3"));
	CHECK(!VALID("\xe2\x82"));
	CHECK(!VALID("\xf0\x90\x80"));
	CHECK(!VALID("\xc0\xaf")); /* overlong '/' */
	CHECK(!VALID("\xc1\xbf"));
	CHECK(!VALID("\xe0\x80\xaf")); /* overlong, 3 bytes */
	CHECK(!VALID("\xe0\x9f\xbf"));
	CHECK(!VALID("\xf0\x80\x80\xaf")); /* overlong, 4 bytes */
	CHECK(!VALID("\xf0\x8f\xbf\xbf"));
	CHECK(!VALID("\xed\xa0\x80"));     /* U+D800, a surrogate */
	CHECK(!VALID("\xed\xbf\xbf"));     /* U+DFFF */
	CHECK(!VALID("\xf4\x90\x80\x80")); /* U+110000 */
	CHECK(!VALID("\xf5\x80\x80\x80"));
	CHECK(!VALID("\xc3\x28")); /* second byte not a continuation */
	CHECK(!VALID("\xe2\x28\xa1"));
	CHECK(!VALID("\xe2\x82\x28"));
	CHECK(!VALID("\xf0\x28\x8c\xbc"));
	CHECK(!VALID("ok \xf0\x90\x28\xbc"));
	CHECK(osb_utf8_valid("\xff", 0)); /* only len bytes are read */
	CHECK(osb_utf8_valid("ab\xff", 2));
}

static void test_sequence(void)
{
	CHECK_INT(osb_utf8_sequence("a", 1), 1);
	CHECK_INT(osb_utf8_sequence("", 0), 0);
	CHECK_INT(osb_utf8_sequence("\xc3\xa9x", 3), 2);
	CHECK_INT(osb_utf8_sequence("\xe2\x82\xac", 3), 3);
	CHECK_INT(osb_utf8_sequence("\xe2\x82\xac", 2), 0); /* cut off by len */
	CHECK_INT(osb_utf8_sequence("\xf0\x90\x80\x80", 4), 4);
	CHECK_INT(osb_utf8_sequence("\xed\xa0\x80", 3), 0); /* surrogate */
	CHECK_INT(osb_utf8_sequence("\xc0\xaf", 2), 0);     /* overlong */
	CHECK_INT(osb_utf8_sequence("\x80", 1), 0);
}

static void test_span(void)
{
	CHECK_INT(osb_utf8_span("hello", 5), 5);
	CHECK_INT(osb_utf8_span("", 0), 0);
	CHECK_INT(osb_utf8_span("caf\xc3\xa9", 5), 5);
	CHECK_INT(osb_utf8_span("caf\xc3\xa9", 4), 3); /* never half of the é */
	CHECK_INT(osb_utf8_span("\xe2\x82\xac\xe2\x82\xac", 5), 3);
	CHECK_INT(osb_utf8_span("\xf0\x90\x80\x80x", 4), 4);
	CHECK_INT(osb_utf8_span("\xf0\x90\x80\x80x", 3), 0);
	CHECK_INT(osb_utf8_span("ab\xff\xfe"
				"cd",
				6),
		  2); /* the first byte that is not UTF-8 */
	CHECK_INT(osb_utf8_span("\xffrest", 5), 0);
	CHECK_INT(osb_utf8_span("a\0b", 3), 3); /* NUL is well-formed */
}

static void test_scrub(void)
{
	char a[] = "{\"d\":\"\xff\xfe"
		   "abc\"}";
	CHECK_INT(osb_utf8_scrub(a, sizeof a - 1), 2);
	CHECK_STR(a, "{\"d\":\"??abc\"}");
	char b[] = "caf\xc3\xa9 \xe2\x82\xac";
	CHECK_INT(osb_utf8_scrub(b, sizeof b - 1), 0);
	CHECK_STR(b, "caf\xc3\xa9 \xe2\x82\xac");
	char c[] = "cut \xe2\x82"; /* a sequence cut at the end */
	CHECK_INT(osb_utf8_scrub(c, sizeof c - 1), 2);
	CHECK_STR(c, "cut ??");
	CHECK(osb_utf8_valid(c, sizeof c - 1));
	char d[] = "\xc3\x28\xed\xa0\x80"; /* bad second byte; a surrogate */
	CHECK_INT(osb_utf8_scrub(d, sizeof d - 1), 4);
	CHECK_STR(d, "?(???");
	char e[] = "\xff";
	CHECK_INT(osb_utf8_scrub(e, 0), 0);
	CHECK_STR(e, "\xff");
}

/* Every 1- and 2-byte string: scrubbed text is always valid, and valid text is never changed. */
static void test_scrub_exhaustive(void)
{
	int bad = 0;
	for (int x = 0; x < 256; x++) {
		for (int y = 0; y < 256; y++) {
			char s[2] = { (char)x, (char)y }, t[2];
			memcpy(t, s, 2);
			int was_valid = osb_utf8_valid(s, 2);
			size_t n = osb_utf8_scrub(t, 2);
			if (!osb_utf8_valid(t, 2) || (was_valid && (n || memcmp(s, t, 2))) || (!was_valid && !n))
				bad++;
		}
	}
	CHECK_INT(bad, 0);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_valid), OSB_TEST_CASE(test_sequence), OSB_TEST_CASE(test_span),
	      OSB_TEST_CASE(test_scrub), OSB_TEST_CASE(test_scrub_exhaustive))
