/* Unit tests of secret.c: generated passwords and random bytes. */
#include "osb/errors.h"
#include "osb/secret.h"
#include "unit.h"

static int in_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void test_length_and_alphabet(void)
{
	char buf[OSB_SECRET_DEFAULT_LEN + 1];
	CHECK_INT(osb_secret_generate(buf, sizeof buf, OSB_SECRET_DEFAULT_LEN), 0);
	CHECK_INT(strlen(buf), OSB_SECRET_DEFAULT_LEN);
	for (size_t i = 0; i < OSB_SECRET_DEFAULT_LEN; i++)
		CHECK(in_alphabet(buf[i]));

	char big[200];
	memset(big, '#', sizeof big);
	CHECK_INT(osb_secret_generate(big, sizeof big, 150), 0);
	CHECK_INT(strlen(big), 150);
	CHECK(big[151] == '#'); /* nothing written past the NUL */

	char min[23];
	CHECK_INT(osb_secret_generate(min, sizeof min, 22), 0);
	CHECK_INT(strlen(min), 22);
}

static void test_two_calls_differ(void)
{
	char a[33], b[33];
	CHECK_INT(osb_secret_generate(a, sizeof a, 32), 0);
	CHECK_INT(osb_secret_generate(b, sizeof b, 32), 0);
	CHECK(strcmp(a, b) != 0);
}

static void test_refusals(void)
{
	char buf[64] = "x";
	CHECK_INT(osb_secret_generate(buf, sizeof buf, 21), OSB_ERROR);
	CHECK_STR(buf, "");
	CHECK_INT(osb_secret_generate(buf, sizeof buf, 0), OSB_ERROR);
	/* out_size must hold len + NUL */
	CHECK_INT(osb_secret_generate(buf, 32, 32), OSB_ERROR);
	CHECK_INT(osb_secret_generate(buf, 33, 32), 0);
	CHECK_INT(osb_secret_generate(NULL, 33, 32), OSB_ERROR);
	CHECK_INT(osb_random_bytes(NULL, 4), OSB_ERROR);
	CHECK_INT(osb_random_bytes(NULL, 0), 0);
}

static void test_random_bytes(void)
{
	unsigned char a[1000], b[1000];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	CHECK_INT(osb_random_bytes(a, sizeof a), 0);
	CHECK_INT(osb_random_bytes(b, sizeof b), 0);
	CHECK(memcmp(a, b, sizeof a) != 0);
	/* 1000 zero bytes by chance: never. */
	int nonzero = 0;
	for (size_t i = 0; i < sizeof a; i++)
		nonzero += a[i] != 0;
	CHECK(nonzero > 900);
}

static int index_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return 26 + c - 'a';
	return 52 + c - '0';
}

static void test_rough_uniformity(void)
{
	/* 62 * 4000 draws: each count ~ 4000 +- 63 (sd); a biased modulo would skew
	 * the first 8 symbols by 25%. Bounds at about 8 sd never fail by chance. */
	enum { PER = 4000, LEN = 248 };
	long counts[62] = { 0 };
	char buf[LEN + 1];
	long total = 0;
	while (total < 62L * PER) {
		CHECK_INT(osb_secret_generate(buf, sizeof buf, LEN), 0);
		for (int i = 0; i < LEN; i++) {
			CHECK(in_alphabet(buf[i]));
			counts[index_of(buf[i])]++;
		}
		total += LEN;
	}
	for (int i = 0; i < 62; i++) {
		double expect = (double)total / 62;
		if (counts[i] < expect - 500 || counts[i] > expect + 500) {
			fprintf(stderr, "symbol %d drawn %ld times, expected about %.0f\n", i, counts[i], expect);
			CHECK(0);
		}
	}
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_length_and_alphabet), OSB_TEST_CASE(test_two_calls_differ),
	      OSB_TEST_CASE(test_refusals), OSB_TEST_CASE(test_random_bytes), OSB_TEST_CASE(test_rough_uniformity))
