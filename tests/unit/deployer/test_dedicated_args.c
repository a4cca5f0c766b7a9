/* Unit tests of osb_dedicated_expand(): a dedicated server's arguments and environment for a plan. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "dedicated_run.h"
#include "unit.h"

static const char *settings_json =
	"{\"memory_mb\": 64, \"policy\": \"allkeys-lru\", \"ratio\": 1.5, \"bad\": \"a b\", \"flag\": true, "
	"\"long\": \"0123456789012345678901234567890123456789012345678901234567890123456789\"}";

/* Expand `arg` with the settings above; "ERR" when it fails (the error buffer then says why). */
static char *expand(const char *arg, osb_errbuf *err)
{
	cJSON *settings = cJSON_Parse(settings_json);
	char *out = NULL;
	int rc = osb_dedicated_expand(&out, arg, "10.0.0.5", settings, err);

	cJSON_Delete(settings);
	if (rc != 0) {
		CHECK(out == NULL);
		CHECK(err->msg[0] != '\0');
		return strdup("ERR");
	}
	return out;
}

static void check(const char *arg, const char *want)
{
	osb_errbuf err = { 0 };
	char *got = expand(arg, &err);

	CHECK_STR(got, want);
	free(got);
}

static void test_plain_and_host(void)
{
	check("-U", "-U");
	check("", "");
	check("{host}", "10.0.0.5");
	check("-l{host},127.0.0.1", "-l10.0.0.5,127.0.0.1");
	/* {port} and {dir} are the deployer's: left as they are. */
	check("{dir}/redis.conf", "{dir}/redis.conf");
	check("SASL_CONF_PATH={dir}", "SASL_CONF_PATH={dir}");
}

static void test_plan_settings(void)
{
	check("{plan:memory_mb}", "64");
	check("--maxmemory-policy={plan:policy}", "--maxmemory-policy=allkeys-lru");
	check("{plan:memory_mb}:{plan:policy}", "64:allkeys-lru");
	/* A default applies only when the plan has no such setting. */
	check("{plan:memory_mb|128}", "64");
	check("{plan:absent|128}", "128");
	check("{plan:absent|}", "");
	/* An unclosed reference is plain text. */
	check("{plan:memory_mb", "{plan:memory_mb");
}

static void test_refused(void)
{
	osb_errbuf err = { 0 };
	char *got;

	/* Missing without a default, not a whole number, not plain text, not a string or number, too long. */
	check("{plan:absent}", "ERR");
	check("{plan:ratio}", "ERR");
	check("{plan:bad}", "ERR");
	check("{plan:flag}", "ERR");
	check("{plan:long}", "ERR");
	check("{plan:}", "ERR");
	check("{plan:|1}", "ERR");
	got = expand("-m {plan:absent}", &err);
	CHECK_STR(got, "ERR");
	CHECK_CONTAINS(err.msg, "x-osb.absent");
	free(got);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_plain_and_host), OSB_TEST_CASE(test_plan_settings), OSB_TEST_CASE(test_refused))
