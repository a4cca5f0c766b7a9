/* Unit tests of uri.c: URI parts for credentials, in a request's arena. */
#include "osb/uri.h"
#include "request_internal.h"
#include "unit.h"

static void test_escape(void)
{
	osb_request *req = osb_request__new();

	CHECK(req != NULL);
	if (!req)
		return;
	CHECK_STR(osb_uri_escape(req, "osb_0123abc"), "osb_0123abc");
	CHECK_STR(osb_uri_escape(req, "AZaz09-._~"), "AZaz09-._~");
	CHECK_STR(osb_uri_escape(req, ""), "");
	CHECK_STR(osb_uri_escape(req, "p@ss:w/rd?#%"), "p%40ss%3Aw%2Frd%3F%23%25");
	CHECK_STR(osb_uri_escape(req, "a b+c"), "a%20b%2Bc");
	CHECK_STR(osb_uri_escape(req, "\xc3\xa9\x7f"), "%C3%A9%7F");
	CHECK(osb_uri_escape(req, NULL) == NULL);
	osb_request__free(req);
}

static void test_host(void)
{
	osb_request *req = osb_request__new();
	const char *name = "db.example";

	CHECK(req != NULL);
	if (!req)
		return;
	CHECK(osb_uri_host(req, name) == name);
	CHECK_STR(osb_uri_host(req, "10.1.2.3"), "10.1.2.3");
	CHECK_STR(osb_uri_host(req, "::1"), "[::1]");
	CHECK_STR(osb_uri_host(req, "fd00::12:34"), "[fd00::12:34]");
	CHECK(osb_uri_host(req, NULL) == NULL);
	osb_request__free(req);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_escape), OSB_TEST_CASE(test_host))
