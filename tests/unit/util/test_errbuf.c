/* Unit tests of osb_errbuf_set() (errors.c) and osb_clock_ms() (request.c). */
#include <time.h>

#include "osb/common.h"
#include "osb/errors.h"
#include "unit.h"

static void test_set_returns_code(void)
{
	osb_errbuf e = { 0 };
	CHECK_INT(osb_errbuf_set(&e, OSB_EBACKEND, "PostgreSQL: %s (SQLSTATE %s)", "boom", "42P04"), OSB_EBACKEND);
	CHECK_INT(e.code, OSB_EBACKEND);
	CHECK_STR(e.msg, "PostgreSQL: boom (SQLSTATE 42P04)");

	/* A later failure replaces the earlier one. */
	CHECK_INT(osb_errbuf_set(&e, OSB_ETIMEOUT, "late"), OSB_ETIMEOUT);
	CHECK_INT(e.code, OSB_ETIMEOUT);
	CHECK_STR(e.msg, "late");

	CHECK_INT(osb_errbuf_set(&e, 0, "%s", ""), 0);
	CHECK_INT(e.code, 0);
	CHECK_STR(e.msg, "");
}

static void test_long_message_cut(void)
{
	osb_errbuf e = { 0 };
	char big[2 * OSB_ERRBUF_MSG_SIZE];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_INT(osb_errbuf_set(&e, OSB_ERROR, "%s", big), OSB_ERROR);
	CHECK_INT(strlen(e.msg), OSB_ERRBUF_MSG_SIZE - 1);
	CHECK(e.msg[0] == 'x' && e.msg[OSB_ERRBUF_MSG_SIZE - 2] == 'x');
	CHECK_INT(sizeof e.msg, OSB_ERRBUF_MSG_SIZE);
}

static void test_clock_monotonic_ms(void)
{
	struct timespec pause = { 0, 30 * 1000000L };
	int64_t a = osb_clock_ms();
	CHECK(a >= 0);
	nanosleep(&pause, NULL);
	int64_t b = osb_clock_ms();
	CHECK(b - a >= 29);
	CHECK(b - a < 5000); /* milliseconds, not micro- or nanoseconds */

	/* Same clock as CLOCK_MONOTONIC, in ms. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t mono = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	int64_t c = osb_clock_ms();
	CHECK(c >= mono && c - mono < 1000);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_set_returns_code), OSB_TEST_CASE(test_long_message_cut),
	      OSB_TEST_CASE(test_clock_monotonic_ms))
