/* Unit tests of server_block.c: the base URL of a server spec with a url_key, however the server is given. */
#include <stdlib.h>

#include "osb/errors.h"
#include "server_block.h"
#include "unit.h"

/* As a management-API driver declares it (rabbitmq's api_url). */
static const osb_server_spec api_spec = {
	.default_port = 15672,
	.url_key = "api_url",
	.default_url = "http://127.0.0.1:15672",
};

/* Read `json` as the `driver` object with `spec`; check host, port, tls and url. */
static void reads(const osb_server_spec *spec, const char *json, const char *host, int port, int tls, const char *url)
{
	cJSON *config = cJSON_Parse(json);
	osb_server_block b;

	CHECK(config != NULL);
	CHECK_INT(osb_server_block_read(&b, config, "unit", spec), 0);
	CHECK_STR(b.target.host, host);
	CHECK_INT(b.target.port, port);
	CHECK_INT(b.target.tls, tls);
	if (url)
		CHECK_STR(b.target.url, url);
	else
		CHECK(b.target.url == NULL);
	osb_server_block_free(&b);
	cJSON_Delete(config);
}

static void test_url_key(void)
{
	reads(&api_spec, "{\"admin_user\":\"a\",\"admin_password\":\"p\"}", "127.0.0.1", 15672, 0,
	      "http://127.0.0.1:15672");
	/* The path stays (a driver may strip its own suffix); trailing '/' goes. */
	reads(&api_spec,
	      "{\"api_url\":\"https://mq.example:15671/rabbit/api/\",\"admin_user\":\"a\",\"admin_password\":\"p\"}",
	      "mq.example", 15671, 1, "https://mq.example:15671/rabbit/api");
	reads(&api_spec, "{\"api_url\":\"http://[::1]\",\"admin_user\":\"a\",\"admin_password\":\"p\"}", "::1", 80, 0,
	      "http://[::1]:80");
}

/* The server given as host, port and tls instead of the URL key still gets its base URL. */
static void test_url_from_host_and_port(void)
{
	reads(&api_spec, "{\"host\":\"10.0.0.1\",\"admin_user\":\"a\",\"admin_password\":\"p\"}", "10.0.0.1", 15672, 0,
	      "http://10.0.0.1:15672");
	reads(&api_spec,
	      "{\"host\":\"mq.example\",\"port\":15671,\"tls\":true,\"admin_user\":\"a\",\"admin_password\":\"p\"}",
	      "mq.example", 15671, 1, "https://mq.example:15671");
	reads(&api_spec, "{\"host\":\"fd00::5\",\"port\":8080,\"admin_user\":\"a\",\"admin_password\":\"p\"}",
	      "fd00::5", 8080, 0, "http://[fd00::5]:8080");
}

/* A spec without a URL key has no URL. */
static void test_no_url_key(void)
{
	static const osb_server_spec plain = { .default_port = 5432, .default_admin_user = "postgres" };

	reads(&plain, "{\"host\":\"db.example\",\"admin_password\":\"p\"}", "db.example", 5432, 0, NULL);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_url_key), OSB_TEST_CASE(test_url_from_host_and_port), OSB_TEST_CASE(test_no_url_key))
