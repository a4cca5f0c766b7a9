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
	log_start();
	CHECK_INT(osb_driver_config_check_keys(c, "pg", known), OSB_EBADREQUEST);
	log_stop();
	CHECK_CONTAINS(logged, "\"pg.config\"");
	CHECK_CONTAINS(logged, "driver.hots is not a known key");
	cJSON_Delete(c);

	c = parse("[1,2]");
	log_start();
	CHECK_INT(osb_driver_config_check_keys(c, "pg", known), OSB_EBADREQUEST);
	log_stop();
	CHECK_CONTAINS(logged, "driver must be an object");
	cJSON_Delete(c);

	c = parse("\"text\"");
	log_start();
	CHECK_INT(osb_driver_config_check_keys(c, "pg", known), OSB_EBADREQUEST);
	log_stop();
	cJSON_Delete(c);
}

static void test_string(void)
{
	cJSON *c = parse("{\"host\":\"db.example\",\"empty\":\"\",\"num\":5,\"nul\":null}");
	char *s = NULL;

	CHECK_INT(osb_driver_config_string(&s, c, "my", "host", "127.0.0.1"), 0);
	CHECK_STR(s, "db.example");
	free(s);
	s = NULL;
	CHECK_INT(osb_driver_config_string(&s, c, "my", "absent", "fallback"), 0);
	CHECK_STR(s, "fallback");
	free(s);
	s = NULL;
	CHECK_INT(osb_driver_config_string(&s, NULL, "my", "absent", "fb"), 0);
	CHECK_STR(s, "fb");
	free(s);
	s = NULL;

	log_start();
	CHECK_INT(osb_driver_config_string(&s, c, "my", "absent", NULL), OSB_EBADREQUEST);
	log_stop();
	CHECK(s == NULL);
	CHECK_CONTAINS(logged, "\"my.config\"");
	CHECK_CONTAINS(logged, "driver.absent is required");

	log_start();
	CHECK_INT(osb_driver_config_string(&s, c, "my", "empty", "fb"), OSB_EBADREQUEST);
	log_stop();
	CHECK(s == NULL);
	CHECK_CONTAINS(logged, "driver.empty must be a non-empty string");

	log_start();
	CHECK_INT(osb_driver_config_string(&s, c, "my", "num", "fb"), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_string(&s, c, "my", "nul", "fb"), OSB_EBADREQUEST);
	log_stop();
	CHECK(s == NULL);
	CHECK_CONTAINS(logged, "driver.num must be a non-empty string");
	CHECK_CONTAINS(logged, "driver.nul must be a non-empty string");
	cJSON_Delete(c);
}

static void test_int(void)
{
	cJSON *c = parse("{\"n\":42,\"neg\":-3,\"s\":\"17\",\"sneg\":\"-17\",\"half\":1.5,\"big\":1e300,"
			 "\"junk\":\"12x\",\"space\":\" 12\",\"plus\":\"+12\",\"empty\":\"\",\"hex\":\"0x10\","
			 "\"t\":true,\"huge\":\"99999999999999999999999\",\"minus\":\"-\"}");
	static const char *const bad[] = { "half", "big", "junk", "space", "plus", "empty", "hex", "t", "huge", "minus" };
	long v = 0;
	size_t i;

	CHECK_INT(osb_driver_config_int(&v, c, "rd", "n", 0, 0, 100), 0);
	CHECK_INT(v, 42);
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "neg", 0, -10, 10), 0);
	CHECK_INT(v, -3);
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "s", 0, 0, 100), 0);
	CHECK_INT(v, 17);
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "sneg", 0, -100, 100), 0);
	CHECK_INT(v, -17);
	/* The fallback is taken as it is, even outside the range. */
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "absent", -1, 0, 100), 0);
	CHECK_INT(v, -1);
	CHECK_INT(osb_driver_config_int(&v, NULL, "rd", "n", 7, 0, 100), 0);
	CHECK_INT(v, 7);

	v = 99;
	log_start();
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "n", 0, 0, 41), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_int(&v, c, "rd", "sneg", 0, 0, 100), OSB_EBADREQUEST);
	log_stop();
	CHECK_INT(v, 99);
	CHECK_CONTAINS(logged, "\"rd.config\"");
	CHECK_CONTAINS(logged, "driver.n must be a whole number from 0 to 41");
	CHECK_CONTAINS(logged, "driver.sneg must be a whole number from 0 to 100");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_start();
		CHECK_INT(osb_driver_config_int(&v, c, "rd", bad[i], 0, LONG_MIN, LONG_MAX), OSB_EBADREQUEST);
		log_stop();
		CHECK_CONTAINS(logged, bad[i]);
		CHECK_INT(v, 99);
	}
	cJSON_Delete(c);
}

static void test_port(void)
{
	cJSON *c = parse("{\"port\":5432,\"sport\":\"6379\",\"zero\":0,\"high\":65536,\"shigh\":\"70000\",\"max\":65535}");
	int port = 0;

	CHECK_INT(osb_driver_config_port(&port, c, "pg", "port", 1), 0);
	CHECK_INT(port, 5432);
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "sport", 1), 0);
	CHECK_INT(port, 6379);
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "max", 1), 0);
	CHECK_INT(port, 65535);
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "absent", 3306), 0);
	CHECK_INT(port, 3306);

	log_start();
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "zero", 1), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "high", 1), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_port(&port, c, "pg", "shigh", 1), OSB_EBADREQUEST);
	log_stop();
	CHECK_INT(port, 3306);
	CHECK_CONTAINS(logged, "driver.zero must be a TCP port number (1-65535)");
	CHECK_CONTAINS(logged, "driver.high must be a TCP port number (1-65535)");
	CHECK_CONTAINS(logged, "driver.shigh must be a TCP port number (1-65535)");
	cJSON_Delete(c);
}

static void test_bool(void)
{
	cJSON *c = parse("{\"t\":true,\"f\":false,\"st\":\"true\",\"sf\":\"false\",\"s1\":\"1\",\"s0\":\"0\","
			 "\"yes\":\"yes\",\"n\":1,\"nul\":null}");
	int b = -1;

	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "t", 0), 0);
	CHECK_INT(b, 1);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "f", 1), 0);
	CHECK_INT(b, 0);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "st", 0), 0);
	CHECK_INT(b, 1);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "sf", 1), 0);
	CHECK_INT(b, 0);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "s1", 0), 0);
	CHECK_INT(b, 1);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "s0", 1), 0);
	CHECK_INT(b, 0);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "absent", 5), 0);
	CHECK_INT(b, 1);
	CHECK_INT(osb_driver_config_bool(&b, NULL, "rmq", "absent", 0), 0);
	CHECK_INT(b, 0);

	b = -1;
	log_start();
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "yes", 0), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "n", 0), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_bool(&b, c, "rmq", "nul", 0), OSB_EBADREQUEST);
	log_stop();
	CHECK_INT(b, -1);
	CHECK_CONTAINS(logged, "\"rmq.config\"");
	CHECK_CONTAINS(logged, "driver.yes must be true or false");
	CHECK_CONTAINS(logged, "driver.nul must be true or false");
	cJSON_Delete(c);
}

static void test_dedicated_host(void)
{
	cJSON *c = parse("{\"v4\":\"10.0.0.7\",\"v6\":\"::1\",\"name\":\"db.example\",\"arg\":\"1.2.3.4 --x\"}");
	char *h = NULL;

	/* Without a broker (or a `dedicated` section): loopback. */
	CHECK_INT(osb_driver_config_dedicated_host(&h, c, "my", "absent", NULL), 0);
	CHECK_STR(h, "127.0.0.1");
	free(h);
	h = NULL;
	CHECK_INT(osb_driver_config_dedicated_host(&h, c, "my", "v4", NULL), 0);
	CHECK_STR(h, "10.0.0.7");
	free(h);
	h = NULL;
	CHECK_INT(osb_driver_config_dedicated_host(&h, c, "my", "v6", NULL), 0);
	CHECK_STR(h, "::1");
	free(h);
	h = NULL;

	log_start();
	CHECK_INT(osb_driver_config_dedicated_host(&h, c, "my", "name", NULL), OSB_EBADREQUEST);
	CHECK_INT(osb_driver_config_dedicated_host(&h, c, "my", "arg", NULL), OSB_EBADREQUEST);
	log_stop();
	CHECK(h == NULL);
	CHECK_CONTAINS(logged, "driver.name must be an IP address");
	CHECK_CONTAINS(logged, "driver.arg must be an IP address");
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
	      OSB_TEST_CASE(test_port), OSB_TEST_CASE(test_bool), OSB_TEST_CASE(test_dedicated_host),
	      OSB_TEST_CASE(test_free_secret))
