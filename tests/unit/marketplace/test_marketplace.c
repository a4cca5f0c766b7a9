/* Unit tests of the marketplace page renderer (osb/marketplace.h): content, grouping, search, escaping. */
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"
#include "osb/marketplace.h"
#include "unit.h"

static const char doc_text[] =
	"{\"brokers\": ["
	" {\"name\": \"b1\", \"plan_features\": {\"p-ded\": {\"asynchronous\": true, \"dedicated\": true},"
	"                                      \"p-sh\": {\"asynchronous\": false, \"dedicated\": false}},"
	"  \"services\": ["
	"   {\"id\": \"s-cache\", \"name\": \"cache\", \"description\": \"A cache\", \"bindable\": true,"
	"    \"tags\": [\"Key-Value\", \"cache\"],"
	"    \"metadata\": {\"displayName\": \"Cache <fast>\", \"providerDisplayName\": \"ACME & Co\","
	"                 \"imageUrl\": \"data:image/png;base64,AAAA\", \"documentationUrl\": \"https://docs.example/\","
	"                 \"supportUrl\": \"javascript:alert(1)\", \"longDescription\": \"Long text\"},"
	"    \"plans\": ["
	"     {\"id\": \"p-sh\", \"name\": \"shared\", \"description\": \"Shared\", \"free\": true},"
	"     {\"id\": \"p-ded\", \"name\": \"dedicated\", \"description\": \"Own server\", \"free\": false,"
	"      \"maintenance_info\": {\"version\": \"1.2.3\"}, \"maximum_polling_duration\": 600,"
	"      \"metadata\": {\"bullets\": [\"64 MB\"], \"costs\": [{\"amount\": {\"usd\": 15, \"eur\": 14.5}, \"unit\": \"MONTHLY\"}]},"
	"      \"schemas\": {\"service_instance\": {\"create\": {\"parameters\": {\"type\": \"object\","
	"        \"required\": [\"size\"], \"additionalProperties\": false,"
	"        \"properties\": {\"size\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 8, \"default\": 2,"
	"                                   \"description\": \"GB\"},"
	"                         \"mode\": {\"enum\": [\"a\", \"b\"]},"
	"                         \"net\": {\"type\": \"object\", \"properties\": {\"port\": {\"type\": \"integer\"}}}}}}}}}"
	"    ]},"
	"   {\"id\": \"s-db\", \"name\": \"db\", \"description\": \"A database\", \"plans\": []}"
	"  ]},"
	" {\"name\": \"down\", \"error\": \"connection refused\"}"
	"]}";

static char *render(const char *query)
{
	cJSON *doc = cJSON_Parse(doc_text);
	char *html = NULL;
	CHECK(doc != NULL);
	CHECK_INT(osb_marketplace_render(&html, doc, "T <1>", query), 0);
	cJSON_Delete(doc);
	return html;
}

static void test_content(void)
{
	char *html = render(NULL);
	CHECK_CONTAINS(html, "<title>T &lt;1&gt;</title>");
	CHECK_CONTAINS(html, "2 services and 2 plans from 2 brokers");
	CHECK_CONTAINS(html, "<body data-total=\"2\">");
	/* Grouped by first tag (lower case), services without tags under "other", listed last. */
	CHECK_CONTAINS(html, "<section class=\"category\" id=\"category-key-value\">");
	CHECK(strstr(html, "id=\"category-key-value\"") < strstr(html, "id=\"category-other\""));
	CHECK_CONTAINS(html, "<h3>Cache &lt;fast&gt;</h3>");
	CHECK_CONTAINS(html, "Provided by ACME &amp; Co");
	CHECK_CONTAINS(html, "<img class=\"logo\" alt=\"\" src=\"data:image/png;base64,AAAA\">");
	CHECK_CONTAINS(html, "<a href=\"https://docs.example/\" rel=\"noopener noreferrer\">Documentation</a>");
	CHECK(!strstr(html, "javascript:"));
	CHECK_CONTAINS(html, "<p class=\"long\">Long text</p>");
	CHECK_CONTAINS(html, "15.00 USD / monthly or 14.50 EUR / monthly");
	CHECK_CONTAINS(html, "<li class=\"dedicated\">dedicated server</li>");
	CHECK_CONTAINS(html, "<li class=\"async\">asynchronous: takes a while</li>");
	CHECK_CONTAINS(html, "<li>shared server</li>");
	CHECK_CONTAINS(html, "<li>version 1.2.3</li>");
	CHECK_CONTAINS(html, "<li>done within 600 s</li>");
	CHECK_CONTAINS(html, "<ul class=\"bullets\"><li>64 MB</li></ul>");
	CHECK_CONTAINS(html, "<summary>Create: 3 parameters</summary>");
	CHECK_CONTAINS(html, "<td class=\"req\">required. GB (at least 1; at most 8)</td>");
	CHECK_CONTAINS(html, "<td><code>2</code></td>");
	CHECK_CONTAINS(html, "one of <code>&quot;a&quot;</code>, <code>&quot;b&quot;</code>");
	CHECK_CONTAINS(html, "<code>net.port</code>");
	CHECK_CONTAINS(html, "No other parameters are accepted.");
	CHECK_CONTAINS(html, "<p class=\"notice\">Broker <b>down</b> could not be read: connection refused</p>");
	CHECK_CONTAINS(html, "<p class=\"empty\" id=\"empty\" hidden>");
	CHECK(!strstr(html, "{{"));
	free(html);
}

static void test_search(void)
{
	char *html = render("CACHE  acme");
	CHECK_CONTAINS(html, "data-service=\"b1/s-cache\" data-search=\"");
	CHECK_CONTAINS(html, "1 of 2 services match");
	CHECK_CONTAINS(html, "value=\"CACHE  acme\"");
	/* The database does not match: rendered, but hidden, and so is its category. */
	CHECK(strstr(html, "data-service=\"b1/s-db\""));
	CHECK(strstr(strstr(html, "data-service=\"b1/s-db\""), "\" hidden>") != NULL);
	CHECK_CONTAINS(html, "<section class=\"category\" id=\"category-other\" hidden>");
	free(html);

	html = render("\"><script>");
	CHECK_CONTAINS(html, "0 of 2 services match");
	CHECK_CONTAINS(html, "value=\"&quot;&gt;&lt;script&gt;\"");
	CHECK_CONTAINS(html, "<p class=\"empty\" id=\"empty\">");
	free(html);

	html = render("   ");
	CHECK_CONTAINS(html, "<p class=\"count\" id=\"count\" aria-live=\"polite\">2 services</p>");
	free(html);
}

static void test_bad_input(void)
{
	char *html = (char *)1;
	cJSON *doc = cJSON_Parse("{\"services\": []}");
	CHECK_INT(osb_marketplace_render(&html, doc, NULL, NULL), OSB_EBADREQUEST);
	CHECK(html == NULL);
	cJSON_Delete(doc);
	/* Members of the wrong type are skipped, never dereferenced. */
	doc = cJSON_Parse(
		"{\"brokers\": [1, {\"name\": 2, \"services\": [\"x\", {\"plans\": 3, \"tags\": {}, \"metadata\": []}]}]}");
	CHECK_INT(osb_marketplace_render(&html, doc, NULL, NULL), 0);
	CHECK_CONTAINS(html, "(unnamed)");
	free(html);
	CHECK_INT(osb_marketplace_render(NULL, doc, NULL, NULL), OSB_EBADREQUEST);
	cJSON_Delete(doc);
}

static void test_assets(void)
{
	size_t len = 0;
	const char *type = NULL;
	const unsigned char *css = osb_marketplace_asset("style.css", &len, &type);
	CHECK(css && len > 100);
	CHECK_STR(type, "text/css; charset=utf-8");
	const unsigned char *js = osb_marketplace_asset("search.js", &len, &type);
	CHECK(js && len > 100);
	CHECK_STR(type, "text/javascript; charset=utf-8");
	CHECK(osb_marketplace_asset("../page.html", &len, &type) == NULL);
	CHECK(osb_marketplace_asset("page.html", &len, &type) == NULL);
	CHECK(osb_marketplace_asset(NULL, &len, &type) == NULL);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_content), OSB_TEST_CASE(test_search), OSB_TEST_CASE(test_bad_input),
	      OSB_TEST_CASE(test_assets))
