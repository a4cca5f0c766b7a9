/* Unit tests of driver_config.c: reading a driver's `driver` config object. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "osb/driver_config.h"
#include "osb/errors.h"
#include "unit.h"

/* What the last call logged on stderr (log lines are written at once, no writer thread here). */
static char logged[4096];
static int saved_stderr = -1;
static FILE *capture;

static void log_start(void)
{
	fflush(stderr);
	capture = tmpfile();
	saved_stderr = dup(STDERR_FILENO);
	if (capture)
		dup2(fileno(capture), STDERR_FILENO);
}

static void log_stop(void)
{
	size_t n = 0;

	logged[0] = '\0';
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (capture) {
		rewind(capture);
		n = fread(logged, 1, sizeof(logged) - 1, capture);
		logged[n] = '\0';
		fclose(capture);
		capture = NULL;
	}
}

/* Run one call with its log captured in `logged`; the value is the call's. */
static int logged_rc;
#define LOGGED(call) (log_start(), logged_rc = (call), log_stop(), logged_rc)

/* The call (run through LOGGED) was refused and logged `want`. */
static void refused(int rc, const char *want)
{
	CHECK_INT(rc, OSB_EBADREQUEST);
	CHECK_CONTAINS(logged, want);
}

/* The call succeeded with *s == want; frees *s. Pointers, as the call fills them after argument reads. */
static void took_string(int rc, char **s, const char *want)
{
	CHECK_INT(rc, 0);
	CHECK_STR(*s, want);
	free(*s);
	*s = NULL;
}

static void took_long(int rc, const long *v, long want)
{
	CHECK_INT(rc, 0);
	CHECK_INT(*v, want);
}

static void took_int(int rc, const int *v, int want)
{
	CHECK_INT(rc, 0);
	CHECK_INT(*v, want);
}

static cJSON *parse(const char *json)
{
	cJSON *c = cJSON_Parse(json);

	CHECK(c != NULL);
	return c;
}

static void test_check_keys(void)
{
	static const char *const known[] = { "host", "port", NULL };
	cJSON *c;

	CHECK_INT(osb_driver_config_check_keys(NULL, "pg", known), 0);
	c = parse("{\"host\":\"h\",\"port\":1}");
	CHECK_INT(osb_driver_config_check_keys(c, "pg", known), 0);
	cJSON_Delete(c);
	c = parse("{}");
	CHECK_INT(osb_driver_config_check_keys(c, "pg", known), 0);
	cJSON_Delete(c);

	c = parse("{\"host\":\"h\",\"hots\":\"x\"}");
	refused(LOGGED(osb_driver_config_check_keys(c, "pg", known)), "driver.hots is not a known key");
	CHECK_CONTAINS(logged, "\"pg.config\"");
	cJSON_Delete(c);

	c = parse("[1,2]");
	refused(LOGGED(osb_driver_config_check_keys(c, "pg", known)), "driver must be an object");
	cJSON_Delete(c);

	c = parse("\"text\"");
	refused(LOGGED(osb_driver_config_check_keys(c, "pg", known)), "driver must be an object");
	cJSON_Delete(c);
}

static void test_string(void)
{
	cJSON *c = parse("{\"host\":\"db.example\",\"empty\":\"\",\"num\":5,\"nul\":null}");
	char *s = NULL;

	took_string(osb_driver_config_string(&s, c, "my", "host", "127.0.0.1"), &s, "db.example");
	took_string(osb_driver_config_string(&s, c, "my", "absent", "fallback"), &s, "fallback");
	took_string(osb_driver_config_string(&s, NULL, "my", "absent", "fb"), &s, "fb");

	refused(LOGGED(osb_driver_config_string(&s, c, "my", "absent", NULL)), "driver.absent is required");
	CHECK(s == NULL);
	CHECK_CONTAINS(logged, "\"my.config\"");

	refused(LOGGED(osb_driver_config_string(&s, c, "my", "empty", "fb")),
		"driver.empty must be a non-empty string");
	CHECK(s == NULL);

	refused(LOGGED(osb_driver_config_string(&s, c, "my", "num", "fb")), "driver.num must be a non-empty string");
	refused(LOGGED(osb_driver_config_string(&s, c, "my", "nul", "fb")), "driver.nul must be a non-empty string");
	CHECK(s == NULL);
	cJSON_Delete(c);
}

static void test_int(void)
{
	cJSON *c = parse("{\"n\":42,\"neg\":-3,\"s\":\"17\",\"sneg\":\"-17\",\"half\":1.5,\"big\":1e300,"
			 "\"junk\":\"12x\",\"space\":\" 12\",\"plus\":\"+12\",\"empty\":\"\",\"hex\":\"0x10\","
			 "\"t\":true,\"huge\":\"99999999999999999999999\",\"minus\":\"-\"}");
	static const char *const bad[] = {
		"half", "big", "junk", "space", "plus", "empty", "hex", "t", "huge", "minus"
	};
	long v = 0;
	size_t i;

	took_long(osb_driver_config_int(&v, c, "rd", "n", 0, 0, 100), &v, 42);
	took_long(osb_driver_config_int(&v, c, "rd", "neg", 0, -10, 10), &v, -3);
	took_long(osb_driver_config_int(&v, c, "rd", "s", 0, 0, 100), &v, 17);
	took_long(osb_driver_config_int(&v, c, "rd", "sneg", 0, -100, 100), &v, -17);
	/* The fallback is taken as it is, even outside the range. */
	took_long(osb_driver_config_int(&v, c, "rd", "absent", -1, 0, 100), &v, -1);
	took_long(osb_driver_config_int(&v, NULL, "rd", "n", 7, 0, 100), &v, 7);

	v = 99;
	refused(LOGGED(osb_driver_config_int(&v, c, "rd", "n", 0, 0, 41)),
		"driver.n must be a whole number from 0 to 41");
	CHECK_CONTAINS(logged, "\"rd.config\"");
	refused(LOGGED(osb_driver_config_int(&v, c, "rd", "sneg", 0, 0, 100)),
		"driver.sneg must be a whole number from 0 to 100");
	CHECK_INT(v, 99);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(LOGGED(osb_driver_config_int(&v, c, "rd", bad[i], 0, LONG_MIN, LONG_MAX)), bad[i]);
		CHECK_INT(v, 99);
	}
	cJSON_Delete(c);
}

static void test_port(void)
{
	cJSON *c =
		parse("{\"port\":5432,\"sport\":\"6379\",\"zero\":0,\"high\":65536,\"shigh\":\"70000\",\"max\":65535}");
	int port = 0;

	took_int(osb_driver_config_port(&port, c, "pg", "port", 1), &port, 5432);
	took_int(osb_driver_config_port(&port, c, "pg", "sport", 1), &port, 6379);
	took_int(osb_driver_config_port(&port, c, "pg", "max", 1), &port, 65535);
	took_int(osb_driver_config_port(&port, c, "pg", "absent", 3306), &port, 3306);

	refused(LOGGED(osb_driver_config_port(&port, c, "pg", "zero", 1)),
		"driver.zero must be a TCP port number (1-65535)");
	refused(LOGGED(osb_driver_config_port(&port, c, "pg", "high", 1)), "driver.high must be a TCP port number");
	refused(LOGGED(osb_driver_config_port(&port, c, "pg", "shigh", 1)), "driver.shigh must be a TCP port number");
	CHECK_INT(port, 3306);
	cJSON_Delete(c);
}

static void test_bool(void)
{
	cJSON *c = parse("{\"t\":true,\"f\":false,\"st\":\"true\",\"sf\":\"false\",\"s1\":\"1\",\"s0\":\"0\","
			 "\"yes\":\"yes\",\"n\":1,\"nul\":null}");
	int b;

	/* Each key read with the opposite fallback, so the value must come from the key. */
	static const struct {
		const char *key;
		int want;
	} good[] = {
		{ "t", 1 }, { "f", 0 }, { "st", 1 }, { "sf", 0 }, { "s1", 1 }, { "s0", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		b = -1;
		CHECK_INT(osb_driver_config_bool(&b, c, "rmq", good[i].key, !good[i].want), 0);
		CHECK_INT(b, good[i].want);
	}
	took_int(osb_driver_config_bool(&b, c, "rmq", "absent", 5), &b, 1);
	took_int(osb_driver_config_bool(&b, NULL, "rmq", "absent", 0), &b, 0);

	b = -1;
	refused(LOGGED(osb_driver_config_bool(&b, c, "rmq", "yes", 0)), "driver.yes must be true or false");
	CHECK_CONTAINS(logged, "\"rmq.config\"");
	refused(LOGGED(osb_driver_config_bool(&b, c, "rmq", "n", 0)), "driver.n must be true or false");
	refused(LOGGED(osb_driver_config_bool(&b, c, "rmq", "nul", 0)), "driver.nul must be true or false");
	CHECK_INT(b, -1);
	cJSON_Delete(c);
}

static void test_ip(void)
{
	cJSON *c = parse("{\"v4\":\"10.0.0.7\",\"v6\":\"::1\",\"name\":\"db.example\",\"arg\":\"1.2.3.4 --x\"}");
	char *h = NULL;

	took_string(osb_driver_config_ip(&h, c, "my", "absent", "127.0.0.1"), &h, "127.0.0.1");
	took_string(osb_driver_config_ip(&h, c, "my", "v4", "127.0.0.1"), &h, "10.0.0.7");
	took_string(osb_driver_config_ip(&h, c, "my", "v6", NULL), &h, "::1");

	refused(LOGGED(osb_driver_config_ip(&h, c, "my", "name", NULL)), "driver.name must be an IP address");
	refused(LOGGED(osb_driver_config_ip(&h, c, "my", "arg", NULL)), "driver.arg must be an IP address");
	refused(LOGGED(osb_driver_config_ip(&h, c, "my", "absent", NULL)), "driver.absent is required");
	CHECK(h == NULL);
	cJSON_Delete(c);
}

static void test_free_secret(void)
{
	char *s = NULL;
	cJSON *c = parse("{\"admin_password\":\"hunter2hunter2\"}");

	osb_driver_config_free_secret(NULL);
	CHECK_INT(osb_driver_config_string(&s, c, "pg", "admin_password", NULL), 0);
	CHECK_STR(s, "hunter2hunter2");
	osb_driver_config_free_secret(s);
	cJSON_Delete(c);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_check_keys), OSB_TEST_CASE(test_string), OSB_TEST_CASE(test_int),
	      OSB_TEST_CASE(test_port), OSB_TEST_CASE(test_bool), OSB_TEST_CASE(test_ip),
	      OSB_TEST_CASE(test_free_secret))
