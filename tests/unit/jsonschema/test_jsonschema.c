/* Unit tests of the JSON Schema compiler and validator (jsonschema.c). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "osb/jsonschema.h"
#include "osb/errors.h"
#include "unit.h"

#define COMPILE_FAILED 99

static char msg[1024];

/* Compiles schema, validates instance (both JSON text); msg holds the message. */
static int run(const char *schema, const char *instance, int defaults)
{
	cJSON *sj = cJSON_Parse(schema), *ij = cJSON_Parse(instance);
	osb_schema *s = NULL;
	int rc;

	msg[0] = '\0';
	if (!sj || !ij) {
		fprintf(stderr, "test JSON does not parse: %s / %s\n", schema, instance);
		rc = -1000;
		goto done;
	}
	rc = osb_schema_compile(&s, sj, msg, sizeof msg);
	if (rc) {
		rc = COMPILE_FAILED;
		goto done;
	}
	rc = osb_schema_validate(s, ij, defaults, "parameters", msg, sizeof msg);
done:
	osb_schema_free(s);
	cJSON_Delete(sj);
	cJSON_Delete(ij);
	return rc;
}

static int ok(const char *schema, const char *instance)
{
	return run(schema, instance, 0) == 0;
}

/* Fails with OSB_EBADREQUEST and exactly this message. */
static int fails(const char *schema, const char *instance, const char *want)
{
	int rc = run(schema, instance, 0);

	if (rc != OSB_EBADREQUEST || strcmp(msg, want) != 0) {
		fprintf(stderr, "  rc %d, message \"%s\", want \"%s\"\n", rc, msg, want);
		return 0;
	}
	return 1;
}

/* Compiling must fail with OSB_EBADREQUEST and this message. */
static int rejects(const char *schema, const char *want)
{
	cJSON *sj = cJSON_Parse(schema);
	osb_schema *s = (osb_schema *)&msg; /* must be reset to NULL */
	int rc;

	if (!sj) {
		fprintf(stderr, "test JSON does not parse: %s\n", schema);
		return 0;
	}
	rc = osb_schema_compile(&s, sj, msg, sizeof msg);
	cJSON_Delete(sj);
	if (rc != OSB_EBADREQUEST || s != NULL || strcmp(msg, want) != 0) {
		fprintf(stderr, "  rc %d, message \"%s\", want \"%s\"\n", rc, msg, want);
		if (!rc)
			osb_schema_free(s);
		return 0;
	}
	return 1;
}

static void test_type(void)
{
	CHECK(ok("{\"type\":\"string\"}", "\"x\""));
	CHECK(fails("{\"type\":\"string\"}", "1", "parameters: must be a string"));
	CHECK(ok("{\"type\":\"number\"}", "1.5"));
	CHECK(ok("{\"type\":\"number\"}", "2"));
	CHECK(fails("{\"type\":\"number\"}", "\"2\"", "parameters: must be a number"));
	CHECK(ok("{\"type\":\"integer\"}", "2"));
	CHECK(ok("{\"type\":\"integer\"}", "2.0"));
	CHECK(ok("{\"type\":\"integer\"}", "-1e3"));
	CHECK(fails("{\"type\":\"integer\"}", "2.5", "parameters: must be an integer"));
	CHECK(ok("{\"type\":\"boolean\"}", "false"));
	CHECK(fails("{\"type\":\"boolean\"}", "0", "parameters: must be a boolean"));
	CHECK(ok("{\"type\":\"object\"}", "{}"));
	CHECK(fails("{\"type\":\"object\"}", "[]", "parameters: must be an object"));
	CHECK(ok("{\"type\":\"array\"}", "[]"));
	CHECK(fails("{\"type\":\"array\"}", "{}", "parameters: must be an array"));
	CHECK(ok("{\"type\":\"null\"}", "null"));
	CHECK(fails("{\"type\":\"null\"}", "false", "parameters: must be null"));
	CHECK(ok("{\"type\":[\"string\",\"null\"]}", "null"));
	CHECK(fails("{\"type\":[\"null\",\"string\"]}", "3", "parameters: must be a string or null"));
	CHECK(fails("{\"type\":[\"null\",\"integer\",\"string\"]}", "3.5",
		    "parameters: must be a string, an integer or null"));
}

static void test_properties(void)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
			"\"db\":{\"type\":\"object\",\"properties\":{\"port\":{\"type\":\"integer\"}}}}}";

	CHECK(ok(s, "{\"name\":\"a\",\"other\":1}"));
	CHECK(ok(s, "{}"));
	CHECK(fails(s, "{\"name\":1}", "parameters.name: must be a string"));
	CHECK(fails(s, "{\"db\":{\"port\":\"x\"}}", "parameters.db.port: must be an integer"));
	/* properties only constrain objects */
	CHECK(ok("{\"properties\":{\"a\":{\"type\":\"string\"}}}", "[1]"));
}

static void test_required(void)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"size\",\"name\"]}";

	CHECK(ok(s, "{\"size\":1,\"name\":\"x\"}"));
	CHECK(fails(s, "{\"name\":\"x\"}", "parameters: missing required property \"size\""));
	CHECK(fails(s, "{\"size\":null}", "parameters: missing required property \"name\""));
	CHECK(ok("{\"required\":[]}", "{}"));
	CHECK(ok("{\"required\":[\"a\"]}", "\"not an object\""));
}

static void test_additional_properties(void)
{
	const char *closed = "{\"properties\":{\"a\":{}},\"additionalProperties\":false}";
	const char *typed = "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"integer\"}}";

	CHECK(ok(closed, "{\"a\":1}"));
	CHECK(fails(closed, "{\"a\":1,\"foo\":2}", "parameters.foo: additional property not allowed"));
	CHECK(ok(typed, "{\"a\":\"x\",\"b\":2}"));
	CHECK(fails(typed, "{\"a\":\"x\",\"b\":\"y\"}", "parameters.b: must be an integer"));
	CHECK(ok("{\"additionalProperties\":true}", "{\"x\":1}"));
}

static void test_pattern_properties(void)
{
	const char *s = "{\"patternProperties\":{\"^x-\":{\"type\":\"string\"},\"^n_\\\\d+$\":{\"type\":\"integer\"}},"
			"\"additionalProperties\":false}";

	CHECK(ok(s, "{\"x-a\":\"s\",\"n_12\":3}"));
	CHECK(fails(s, "{\"x-a\":1}", "parameters.x-a: must be a string"));
	CHECK(fails(s, "{\"n_1\":\"s\"}", "parameters.n_1: must be an integer"));
	CHECK(fails(s, "{\"n_1a\":1}", "parameters.n_1a: additional property not allowed"));
	/* a property both named and pattern-matched must satisfy both */
	CHECK(fails("{\"properties\":{\"x-a\":{\"minLength\":3}},\"patternProperties\":{\"^x\":{\"type\":\"string\"}}}",
		    "{\"x-a\":\"ab\"}", "parameters.x-a: must be at least 3 characters long"));
}

static void test_enum(void)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"extensions\":{\"type\":\"array\","
			"\"items\":{\"enum\":[\"pgcrypto\",\"hstore\"]}}}}";

	CHECK(ok(s, "{\"extensions\":[\"hstore\",\"pgcrypto\"]}"));
	CHECK(fails(s, "{\"extensions\":[\"hstore\",\"postgis\"]}",
		    "parameters.extensions[1]: must be one of [\"pgcrypto\", \"hstore\"]"));
	CHECK(ok("{\"enum\":[1,\"a\",null]}", "1.0"));
	CHECK(ok("{\"enum\":[1,\"a\",null]}", "null"));
	CHECK(fails("{\"enum\":[1,\"a\",null]}", "false", "parameters: must be one of [1, \"a\", null]"));
	CHECK(ok("{\"enum\":[{\"a\":1,\"b\":[1,2]}]}", "{\"b\":[1.0,2],\"a\":1}"));
	CHECK(!ok("{\"enum\":[{\"a\":1,\"b\":[1,2]}]}", "{\"b\":[2,1],\"a\":1}"));
	CHECK(!ok("{\"enum\":[{\"a\":1}]}", "{\"a\":1,\"b\":2}"));
	CHECK(!ok("{\"enum\":[[1]]}", "[1,1]"));
	/* large objects compare by sorted keys */
	CHECK(ok("{\"enum\":[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10}]}",
		 "{\"j\":10,\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1}"));
	CHECK(!ok("{\"enum\":[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10}]}",
		  "{\"j\":10,\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"z\":1}"));
}

static void test_enum_message_is_bounded(void)
{
	char schema[4096];
	size_t len = 0;

	len += (size_t)snprintf(schema + len, sizeof schema - len, "{\"enum\":[");
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(schema + len, sizeof schema - len, "%s\"value-%d\"", i ? "," : "", i);
	snprintf(schema + len, sizeof schema - len, "]}");
	CHECK_INT(run(schema, "\"nope\"", 0), OSB_EBADREQUEST);
	CHECK_CONTAINS(msg, "parameters: must be one of [\"value-0\", \"value-1\"");
	CHECK_CONTAINS(msg, "...]");
	CHECK(strlen(msg) < 300);
}

static void test_const(void)
{
	CHECK(ok("{\"const\":5}", "5.0"));
	CHECK(fails("{\"const\":5}", "6", "parameters: must be equal to 5"));
	CHECK(fails("{\"const\":\"a\"}", "\"b\"", "parameters: must be equal to \"a\""));
	CHECK(ok("{\"const\":null}", "null"));
	CHECK(fails("{\"const\":null}", "0", "parameters: must be equal to null"));
	CHECK(ok("{\"const\":{\"x\":[1,{\"y\":true}]}}", "{\"x\":[1,{\"y\":true}]}"));
	CHECK(!ok("{\"const\":{\"x\":[1,{\"y\":true}]}}", "{\"x\":[1,{\"y\":false}]}"));
}

static void test_numeric_bounds(void)
{
	CHECK(ok("{\"minimum\":5}", "5"));
	CHECK(fails("{\"minimum\":5}", "4.9", "parameters: must be >= 5"));
	CHECK(ok("{\"maximum\":10}", "10"));
	CHECK(fails("{\"maximum\":10}", "10.5", "parameters: must be <= 10"));
	/* draft-04 boolean form */
	CHECK(fails("{\"minimum\":5,\"exclusiveMinimum\":true}", "5", "parameters: must be > 5"));
	CHECK(ok("{\"minimum\":5,\"exclusiveMinimum\":true}", "5.1"));
	CHECK(fails("{\"maximum\":0.5,\"exclusiveMaximum\":true}", "0.5", "parameters: must be < 0.5"));
	CHECK(ok("{\"maximum\":5,\"exclusiveMaximum\":false}", "5"));
	/* draft-06 number form */
	CHECK(fails("{\"exclusiveMinimum\":5}", "5", "parameters: must be > 5"));
	CHECK(ok("{\"exclusiveMinimum\":5}", "6"));
	CHECK(fails("{\"exclusiveMaximum\":-1}", "-1", "parameters: must be < -1"));
	CHECK(ok("{\"exclusiveMaximum\":-1}", "-2"));
	/* bounds only constrain numbers */
	CHECK(ok("{\"minimum\":5}", "\"1\""));
	CHECK(fails("{\"minimum\":0.1}", "0", "parameters: must be >= 0.1"));
}

static void test_multiple_of(void)
{
	CHECK(ok("{\"multipleOf\":2}", "10"));
	CHECK(fails("{\"multipleOf\":2}", "7", "parameters: must be a multiple of 2"));
	CHECK(ok("{\"multipleOf\":0.1}", "0.3"));
	CHECK(ok("{\"multipleOf\":0.01}", "19.99"));
	CHECK(fails("{\"multipleOf\":0.1}", "0.35", "parameters: must be a multiple of 0.1"));
	CHECK(ok("{\"multipleOf\":2.5}", "-10"));
	CHECK(ok("{\"multipleOf\":1}", "1e300"));
	CHECK(!ok("{\"multipleOf\":3}", "1e999")); /* cJSON reads it as infinity */
}

static void test_string_length(void)
{
	CHECK(ok("{\"minLength\":2,\"maxLength\":3}", "\"ab\""));
	CHECK(fails("{\"minLength\":2}", "\"a\"", "parameters: must be at least 2 characters long"));
	CHECK(fails("{\"maxLength\":1}", "\"ab\"", "parameters: must be at most 1 character long"));
	/* code points, not bytes: é is 2 bytes, 日本 6, the emoji 4 */
	CHECK(ok("{\"maxLength\":5}", "\"h\xc3\xa9llo\""));
	CHECK(ok("{\"minLength\":2,\"maxLength\":2}", "\"\xe6\x97\xa5\xe6\x9c\xac\""));
	CHECK(ok("{\"maxLength\":1}", "\"\\ud83d\\ude00\""));
	CHECK(ok("{\"minLength\":1,\"maxLength\":1}", "\"\xf0\x9f\x98\x80\""));
	CHECK(ok("{\"minLength\":0}", "\"\""));
	CHECK(ok("{\"maxLength\":0}", "5"));
}

static void test_invalid_utf8_length(void)
{
	/* each byte that is not valid UTF-8 counts as one character */
	static const struct {
		const char *s;
		long chars;
	} cases[] = {
		{ "\xff\xfe", 2 },         { "a\xc3", 2 }, /* truncated sequence */
		{ "\xc0\xaf", 2 },                         /* overlong '/' */
		{ "\xed\xa0\x80", 3 },                     /* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 4 },                 /* above U+10FFFF */
		{ "\xe6\x97", 2 },         { "x\xe6\x97\xa5\x80", 3 },
	};
	char schema[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *sj, *inst = cJSON_CreateString(cases[i].s);
		osb_schema *s = NULL;

		snprintf(schema, sizeof schema, "{\"minLength\":%ld,\"maxLength\":%ld}", cases[i].chars,
			 cases[i].chars);
		sj = cJSON_Parse(schema);
		CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
		CHECK_INT(osb_schema_validate(s, inst, 0, "p", msg, sizeof msg), 0);
		osb_schema_free(s);
		cJSON_Delete(sj);
		cJSON_Delete(inst);
	}
}

static void test_pattern(void)
{
	CHECK(ok("{\"pattern\":\"^[a-z][a-z0-9-]*$\"}", "\"my-db1\""));
	CHECK(fails("{\"pattern\":\"^[a-z][a-z0-9-]*$\"}", "\"1db\"",
		    "parameters: must match pattern \"^[a-z][a-z0-9-]*$\""));
	/* unanchored: search anywhere */
	CHECK(ok("{\"pattern\":\"b+\"}", "\"aaabbbccc\""));
	/* ECMA-ish: \\d, $ only at the very end, \\u escapes */
	CHECK(ok("{\"pattern\":\"^\\\\d{3}$\"}", "\"123\""));
	CHECK(!ok("{\"pattern\":\"^\\\\d{3}$\"}", "\"123\\n\""));
	CHECK(ok("{\"pattern\":\"^\\\\u00e9$\"}", "\"\xc3\xa9\""));
	CHECK(ok("{\"pattern\":\"^.$\"}", "\"\xe6\x97\xa5\""));
	CHECK(ok("{\"pattern\":\"^a\"}", "5"));
}

static void test_pattern_invalid_utf8_subject(void)
{
	cJSON *sj = cJSON_Parse("{\"pattern\":\"^a.c$\"}"), *inst = cJSON_CreateString("a\xff"
										       "c");
	cJSON *inst2 = cJSON_CreateString("\xff\xfe zzz");
	osb_schema *s = NULL;

	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	/* no crash; the invalid byte is not a character that "." matches */
	CHECK_INT(osb_schema_validate(s, inst, 0, "p", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_INT(osb_schema_validate(s, inst2, 0, "p", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "p: must match pattern \"^a.c$\"");
	osb_schema_free(s);
	cJSON_Delete(sj);
	cJSON_Delete(inst);
	cJSON_Delete(inst2);
}

static void test_format(void)
{
	static const struct {
		const char *format, *good, *bad;
	} cases[] = {
		{ "email", "\"joe.bloggs+tag@example.com\"", "\"joe@@example.com\"" },
		{ "email", "\"\\\"joe bloggs\\\"@example.com\"", "\"joe..b@example.com\"" },
		{ "email", "\"a@[192.168.0.1]\"", "\"@example.com\"" },
		{ "email", "\"a@[IPv6:::1]\"", "\"a@-example.com\"" },
		{ "hostname", "\"db-1.example.com\"", "\"-db.example.com\"" },
		{ "hostname", "\"localhost\"", "\"a..b\"" },
		{ "hostname", "\"xn--bcher-kva.example\"", "\"under_score.example\"" },
		{ "ipv4", "\"192.168.0.1\"", "\"256.1.1.1\"" },
		{ "ipv4", "\"0.0.0.0\"", "\"01.2.3.4\"" },
		{ "ipv4", "\"255.255.255.255\"", "\"1.2.3\"" },
		{ "ipv6", "\"::1\"", "\"1:::2\"" },
		{ "ipv6", "\"2001:db8::ff00:42:8329\"", "\"12345::\"" },
		{ "ipv6", "\"::ffff:192.0.2.1\"", "\"fe80::1%eth0\"" },
		{ "uri", "\"https://user@example.com:8443/a/b?c=d#frag\"", "\"/relative/path\"" },
		{ "uri", "\"urn:isbn:0451450523\"", "\"http://exa mple.com\"" },
		{ "uri", "\"mailto:a%20b@example.com\"", "\"http://example.com/%zz\"" },
		{ "date-time", "\"2024-02-29T23:59:60.123Z\"", "\"2023-02-29T00:00:00Z\"" },
		{ "date-time", "\"2024-01-01t10:00:00+05:30\"", "\"2024-01-01 10:00:00Z\"" },
		{ "date-time", "\"1999-12-31T23:59:59-00:00\"", "\"2024-01-01T24:00:00Z\"" },
		{ "date", "\"2000-02-29\"", "\"1900-02-29\"" },
		{ "date", "\"2024-12-31\"", "\"2024-13-01\"" },
		{ "time", "\"08:30:00Z\"", "\"08:30:00\"" },
		{ "uuid", "\"3fa85f64-5717-4562-b3fc-2c963f66afa6\"", "\"3fa85f64-5717-4562-b3fc-2c963f66afa\"" },
		{ "uuid", "\"3FA85F64-5717-4562-B3FC-2C963F66AFA6\"", "\"3fa85f64x5717-4562-b3fc-2c963f66afa6\"" },
	};
	char schema[128], want[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(schema, sizeof schema, "{\"format\":\"%s\"}", cases[i].format);
		snprintf(want, sizeof want, "parameters: must be a valid %s", cases[i].format);
		if (!ok(schema, cases[i].good)) {
			fprintf(stderr, "  %s should accept %s: %s\n", cases[i].format, cases[i].good, msg);
			CHECK(0);
		}
		if (!fails(schema, cases[i].bad, want)) {
			fprintf(stderr, "  %s should reject %s\n", cases[i].format, cases[i].bad);
			CHECK(0);
		}
	}
	/* unknown formats are ignored; formats constrain strings only */
	CHECK(ok("{\"format\":\"x-custom\"}", "\"anything\""));
	CHECK(ok("{\"format\":\"ipv4\"}", "17"));
}

static void test_items(void)
{
	const char *list = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}";
	const char *tuple = "{\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"additionalItems\":false}";
	const char *tuple2 = "{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"boolean\"}}";

	CHECK(ok(list, "[1,2,3]"));
	CHECK(fails(list, "[1,\"2\"]", "parameters[1]: must be an integer"));
	CHECK(fails(list, "[]", "parameters: must have at least 1 item"));
	CHECK(fails(list, "[1,2,3,4]", "parameters: must have at most 3 items"));
	CHECK(ok(tuple, "[\"a\",1]"));
	CHECK(ok(tuple, "[\"a\"]"));
	CHECK(fails(tuple, "[1]", "parameters[0]: must be a string"));
	CHECK(fails(tuple, "[\"a\",1,2]", "parameters[2]: additional item not allowed"));
	CHECK(ok(tuple2, "[\"a\",true,false]"));
	CHECK(fails(tuple2, "[\"a\",true,0]", "parameters[2]: must be a boolean"));
	/* additionalItems means nothing without the tuple form */
	CHECK(ok("{\"items\":{},\"additionalItems\":false}", "[1,2,3]"));
	CHECK(ok("{\"items\":[{}]}", "[1,2,3]"));
}

static void test_unique_items(void)
{
	const char *s = "{\"uniqueItems\":true}";

	CHECK(ok(s, "[1,2,\"1\",[1],{\"a\":1},true,false,null]"));
	CHECK(fails(s, "[1,2,1.0]", "parameters: must not contain duplicate items ([0] and [2] are equal)"));
	CHECK(!ok(s, "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]"));
	CHECK(!ok(s, "[[1,[2]],[1,[2.0]]]"));
	CHECK(!ok(s, "[null,null]"));
	CHECK(ok(s, "[0,false]"));
	CHECK(ok(s, "[[1,2],[2,1]]"));
	CHECK(!ok(s, "[0,-0]"));
	CHECK(ok("{\"uniqueItems\":false}", "[1,1]"));
}

static void test_unique_items_large(void)
{
	cJSON *sj = cJSON_Parse("{\"uniqueItems\":true}"), *arr = cJSON_CreateArray();
	osb_schema *s = NULL;
	clock_t t0;

	for (int i = 0; i < 200000; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(i));
	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	t0 = clock();
	CHECK_INT(osb_schema_validate(s, arr, 0, "p", msg, sizeof msg), 0);
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(123456.0));
	CHECK_INT(osb_schema_validate(s, arr, 0, "p", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "p: must not contain duplicate items ([123456] and [200000] are equal)");
	/* hashing keeps it n log n: a quadratic check would take minutes */
	CHECK((clock() - t0) / CLOCKS_PER_SEC < 10);
	osb_schema_free(s);
	cJSON_Delete(sj);
	cJSON_Delete(arr);
}

static void test_object_sizes(void)
{
	CHECK(ok("{\"minProperties\":1,\"maxProperties\":2}", "{\"a\":1}"));
	CHECK(fails("{\"minProperties\":1}", "{}", "parameters: must have at least 1 property"));
	CHECK(fails("{\"maxProperties\":2}", "{\"a\":1,\"b\":2,\"c\":3}",
		    "parameters: must have at most 2 properties"));
	CHECK(ok("{\"maxProperties\":0}", "[1]"));
}

static void test_combinators(void)
{
	const char *all = "{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}";
	const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":10}]}";
	const char *one = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}";
	const char *neg = "{\"not\":{\"type\":\"string\"}}";

	CHECK(ok(all, "4"));
	CHECK(fails(all, "2", "parameters: must be >= 3"));
	CHECK(fails(all, "3.5", "parameters: must be an integer"));
	CHECK(ok(any, "\"x\""));
	CHECK(ok(any, "11"));
	CHECK(fails(any, "5", "parameters: must match at least one schema in anyOf"));
	CHECK(ok(one, "3"));
	CHECK(ok(one, "5.5"));
	CHECK(fails(one, "7", "parameters: must match exactly one schema in oneOf, matches oneOf[0] and oneOf[1]"));
	CHECK(fails(one, "1.5", "parameters: must match exactly one schema in oneOf, matches none"));
	CHECK(ok(neg, "1"));
	CHECK(fails(neg, "\"s\"", "parameters: must not match the schema in \"not\""));
	/* a failing branch leaves no message behind when another branch matches */
	CHECK(fails(
		"{\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},\"b\":{\"type\":\"string\"}}}",
		"{\"a\":null,\"b\":1}", "parameters.b: must be a string"));
}

static void test_ref(void)
{
	const char *defs = "{\"definitions\":{\"size\":{\"type\":\"integer\",\"minimum\":1}},"
			   "\"properties\":{\"size\":{\"$ref\":\"#/definitions/size\"}}}";
	const char *dollar = "{\"$defs\":{\"a/b\":{\"type\":\"string\"},\"t~x\":{\"type\":\"null\"}},"
			     "\"items\":[{\"$ref\":\"#/$defs/a~1b\"},{\"$ref\":\"#/$defs/t~0x\"}]}";
	const char *tree = "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
			   "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";
	const char *chain = "{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},\"b\":{\"type\":\"string\"}},"
			    "\"$ref\":\"#/definitions/a\"}";

	CHECK(ok(defs, "{\"size\":3}"));
	CHECK(fails(defs, "{\"size\":0}", "parameters.size: must be >= 1"));
	CHECK(ok(dollar, "[\"s\",null]"));
	CHECK(fails(dollar, "[\"s\",1]", "parameters[1]: must be null"));
	CHECK(ok(tree, "{\"v\":1,\"children\":[{\"v\":2,\"children\":[{\"v\":3}]}]}"));
	CHECK(fails(tree, "{\"v\":1,\"children\":[{\"v\":2,\"children\":[{\"v\":\"x\"}]}]}",
		    "parameters.children[0].children[0].v: must be an integer"));
	CHECK(ok(chain, "\"s\""));
	CHECK(fails(chain, "1", "parameters: must be a string"));
	/* percent-encoded fragment */
	CHECK(ok("{\"definitions\":{\"a b\":{\"type\":\"null\"}},\"$ref\":\"#/definitions/a%20b\"}", "null"));
	/* draft-04..07: keywords beside $ref are ignored */
	CHECK(ok(
		"{\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":{\"x\":{\"$ref\":\"#/definitions/s\",\"maxLength\":1}}}",
		"{\"x\":\"long\"}"));
}

static void test_ref_cycles(void)
{
	CHECK(rejects("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/a\"}},\"$ref\":\"#/definitions/a\"}",
		      "definitions.a.$ref: circular reference"));
	CHECK_INT(
		run("{\"definitions\":{\"a\":{\"allOf\":[{\"$ref\":\"#/definitions/b\"}]},\"b\":{\"not\":{\"$ref\":\"#/definitions/a\"}}}}",
		    "1", 0),
		COMPILE_FAILED);
	CHECK_CONTAINS(msg, ".$ref: circular reference");
	CHECK(rejects("{\"anyOf\":[{\"$ref\":\"#\"}]}", "anyOf[0].$ref: circular reference"));
	/* recursion through a property or items consumes the value: allowed */
	cJSON *sj = cJSON_Parse("{\"properties\":{\"next\":{\"$ref\":\"#\"}}}"), *inst = cJSON_CreateObject();
	cJSON *cur = inst;
	osb_schema *s = NULL;

	for (int i = 0; i < 63; i++)
		cur = cJSON_AddObjectToObject(cur, "next");
	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	CHECK_INT(osb_schema_validate(s, inst, 0, "p", msg, sizeof msg), 0);
	cJSON_AddObjectToObject(cur, "next");
	CHECK_INT(osb_schema_validate(s, inst, 0, "p", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "p: nested deeper than 64 levels");
	osb_schema_free(s);
	cJSON_Delete(sj);
	cJSON_Delete(inst);
}

static void test_ref_chain_too_long(void)
{
	char *schema = malloc(100000);
	size_t len = 0;

	len += (size_t)sprintf(schema + len, "{\"$ref\":\"#/definitions/d0\",\"definitions\":{");
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(schema + len, "\"d%d\":{\"$ref\":\"#/definitions/d%d\"},", i, i + 1);
	sprintf(schema + len, "\"d100\":true}}");
	CHECK_INT(run(schema, "1", 0), COMPILE_FAILED);
	CHECK_CONTAINS(msg, ".$ref: chain of $ref/allOf/anyOf/oneOf/not deeper than 64");
	free(schema);
}

static void test_boolean_schemas(void)
{
	CHECK(ok("true", "{\"anything\":[1]}"));
	CHECK(fails("false", "1", "parameters: not allowed"));
	CHECK(fails("{\"properties\":{\"legacy\":false}}", "{\"legacy\":1}", "parameters.legacy: not allowed"));
	CHECK(ok("{\"properties\":{\"legacy\":false}}", "{}"));
	CHECK(ok("{\"items\":true}", "[1]"));
	CHECK(fails("{\"items\":false}", "[1]", "parameters[0]: additional item not allowed"));
}

static void test_ignored_keywords(void)
{
	CHECK(ok("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"$id\":\"x\",\"title\":1,"
		 "\"description\":[],\"examples\":[1],\"x-vendor\":{\"minimum\":\"bad\"},\"propertyNames\":false}",
		 "{\"a\":1}"));
	CHECK(ok("{\"type\":\"string\",\"x-ui\":\"textarea\"}", "\"s\""));
}

static int run_defaults(const char *schema, cJSON **inst, const char *instance)
{
	cJSON *sj = cJSON_Parse(schema);
	osb_schema *s = NULL;
	int rc;

	*inst = cJSON_Parse(instance);
	rc = osb_schema_compile(&s, sj, msg, sizeof msg);
	if (!rc)
		rc = osb_schema_validate(s, *inst, 1, "parameters", msg, sizeof msg);
	osb_schema_free(s);
	cJSON_Delete(sj);
	return rc;
}

static void expect_json(const cJSON *x, const char *want)
{
	char *got = cJSON_PrintUnformatted(x);

	CHECK_STR(got, want);
	cJSON_free(got);
}

static void test_defaults(void)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"size\"],\"properties\":{"
			"\"size\":{\"type\":\"integer\",\"default\":10},"
			"\"tags\":{\"type\":\"array\",\"default\":[\"a\",{\"b\":1}]},"
			"\"name\":{\"type\":\"string\"},"
			"\"opts\":{\"type\":\"object\",\"properties\":{\"ha\":{\"default\":false}}},"
			"\"absent\":{\"type\":\"object\",\"properties\":{\"x\":{\"default\":1}}}}}";
	cJSON *inst;

	/* added, and `required` is satisfied by the default */
	CHECK_INT(run_defaults(s, &inst, "{\"name\":\"n\",\"opts\":{}}"), 0);
	expect_json(inst, "{\"name\":\"n\",\"opts\":{\"ha\":false},\"size\":10,\"tags\":[\"a\",{\"b\":1}]}");
	cJSON_Delete(inst);
	/* present values are kept */
	CHECK_INT(run_defaults(s, &inst, "{\"size\":3,\"tags\":[],\"opts\":{\"ha\":true}}"), 0);
	expect_json(inst, "{\"size\":3,\"tags\":[],\"opts\":{\"ha\":true}}");
	cJSON_Delete(inst);
	/* without apply_defaults nothing changes */
	CHECK(fails(s, "{}", "parameters: missing required property \"size\""));
	/* not applied inside anyOf/oneOf/not branches */
	CHECK_INT(run_defaults("{\"anyOf\":[{\"properties\":{\"a\":{\"default\":1}}}]}", &inst, "{}"), 0);
	expect_json(inst, "{}");
	cJSON_Delete(inst);
	/* applied inside allOf and through $ref */
	CHECK_INT(run_defaults(
			  "{\"definitions\":{\"p\":{\"default\":\"x\"}},"
			  "\"allOf\":[{\"properties\":{\"a\":{\"default\":1},\"b\":{\"$ref\":\"#/definitions/p\"}}}]}",
			  &inst, "{}"),
		  0);
	expect_json(inst, "{\"a\":1,\"b\":\"x\"}");
	cJSON_Delete(inst);
	/* a default that breaks the schema is reported like any value */
	CHECK_INT(run_defaults("{\"properties\":{\"n\":{\"type\":\"integer\",\"default\":\"x\"}}}", &inst, "{}"),
		  OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters.n: must be an integer");
	cJSON_Delete(inst);
}

static void test_defaults_are_copies(void)
{
	cJSON *sj = cJSON_Parse("{\"properties\":{\"t\":{\"default\":{\"k\":[1]}}}}");
	cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
	osb_schema *s = NULL;

	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	cJSON_Delete(sj); /* the compiled schema keeps no pointer into it */
	CHECK_INT(osb_schema_validate(s, a, 1, "p", msg, sizeof msg), 0);
	cJSON_AddNumberToObject(cJSON_GetObjectItem(a, "t"), "changed", 1);
	CHECK_INT(osb_schema_validate(s, b, 1, "p", msg, sizeof msg), 0);
	expect_json(b, "{\"t\":{\"k\":[1]}}");
	osb_schema_free(s);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void test_compile_rejects(void)
{
	CHECK(rejects("5", "(root): must be a schema (an object or a boolean)"));
	CHECK(rejects("[]", "(root): must be a schema (an object or a boolean)"));
	CHECK(rejects("{\"minimum\":\"5\"}", "minimum: must be a number"));
	CHECK(rejects("{\"properties\":{\"size\":{\"minimum\":\"5\"}}}", "properties.size.minimum: must be a number"));
	CHECK(rejects("{\"required\":\"x\"}", "required: must be an array of strings"));
	CHECK(rejects("{\"required\":[\"a\",1]}", "required: must be an array of strings"));
	CHECK(rejects("{\"minLength\":-1}", "minLength: must be a non-negative integer"));
	CHECK(rejects("{\"maxItems\":1.5}", "maxItems: must be a non-negative integer"));
	CHECK(rejects("{\"minProperties\":\"1\"}", "minProperties: must be a non-negative integer"));
	CHECK(rejects("{\"type\":\"str\"}", "type: unknown type \"str\""));
	CHECK(rejects("{\"type\":[\"string\",7]}", "type[1]: must be a string"));
	CHECK(rejects("{\"type\":[]}", "type: must be a string or a non-empty array of strings"));
	CHECK(rejects("{\"pattern\":\"(a\"}",
		      "pattern: invalid regular expression: missing closing parenthesis at offset 2"));
	CHECK(rejects("{\"pattern\":5}", "pattern: must be a string"));
	CHECK(rejects("{\"patternProperties\":{\"(\":{}}}",
		      "patternProperties[\"(\"]: invalid regular expression: missing closing parenthesis at offset 1"));
	CHECK(rejects(
		"{\"properties\":{\"a\":{\"$ref\":\"http://example.com/s.json\"}}}",
		"properties.a.$ref: \"http://example.com/s.json\" is not a local reference (only \"#/definitions/...\" and \"#/$defs/...\")"));
	CHECK(rejects("{\"$ref\":\"#/definitions/missing\",\"definitions\":{}}",
		      "$ref: cannot resolve \"#/definitions/missing\""));
	CHECK(rejects("{\"definitions\":{\"a\":{\"properties\":{\"b\":{}}}},\"$ref\":\"#/definitions/a/properties/b\"}",
		      "$ref: cannot resolve \"#/definitions/a/properties/b\""));
	CHECK(rejects("{\"$ref\":\"#/properties/x\"}", "$ref: cannot resolve \"#/properties/x\""));
	CHECK(rejects("{\"$ref\":5}", "$ref: must be a string"));
	CHECK(rejects("{\"definitions\":[]}", "definitions: must be an object"));
	CHECK(rejects("{\"definitions\":{\"a\":{\"type\":1}}}",
		      "definitions.a.type: must be a string or a non-empty array of strings"));
	CHECK(rejects("{\"enum\":[]}", "enum: must be a non-empty array"));
	CHECK(rejects("{\"enum\":\"a\"}", "enum: must be a non-empty array"));
	CHECK(rejects("{\"multipleOf\":0}", "multipleOf: must be a number greater than 0"));
	CHECK(rejects("{\"exclusiveMinimum\":\"1\"}", "exclusiveMinimum: must be a number or a boolean"));
	CHECK(rejects("{\"uniqueItems\":1}", "uniqueItems: must be a boolean"));
	CHECK(rejects("{\"format\":1}", "format: must be a string"));
	CHECK(rejects("{\"items\":[{},5]}", "items[1]: must be a schema (an object or a boolean)"));
	CHECK(rejects("{\"additionalProperties\":\"no\"}",
		      "additionalProperties: must be a schema (an object or a boolean)"));
	CHECK(rejects("{\"allOf\":[]}", "allOf: must be a non-empty array of schemas"));
	CHECK(rejects("{\"oneOf\":{}}", "oneOf: must be a non-empty array of schemas"));
	CHECK(rejects("{\"anyOf\":[{\"not\":{\"maximum\":null}}]}", "anyOf[0].not.maximum: must be a number"));
	CHECK(rejects("{\"properties\":{\"my key\":{\"type\":\"x\"}}}",
		      "properties[\"my key\"].type: unknown type \"x\""));
	CHECK(rejects("{\"minimum\":1,\"minimum\":2}", "minimum: duplicate keyword"));
}

static void test_compile_depth(void)
{
	char *schema = malloc(10000), *p = schema;
	osb_schema *s = NULL;
	int rc;

	for (int i = 0; i < 100; i++)
		p += sprintf(p, "{\"not\":");
	p += sprintf(p, "{}");
	for (int i = 0; i < 100; i++)
		*p++ = '}';
	*p = '\0';
	cJSON *sj = cJSON_Parse(schema);

	rc = osb_schema_compile(&s, sj, msg, sizeof msg);
	CHECK_INT(rc, OSB_EBADREQUEST);
	CHECK_CONTAINS(msg, "schema nested deeper than 64 levels");
	CHECK(s == NULL);
	cJSON_Delete(sj);
	free(schema);
}

static cJSON *nested_arrays(int levels)
{
	cJSON *root = cJSON_CreateArray(), *cur = root;

	for (int i = 1; i < levels; i++) {
		cJSON *next = cJSON_CreateArray();

		cJSON_AddItemToArray(cur, next);
		cur = next;
	}
	return root;
}

static void test_compile_deep_literal(void)
{
	cJSON *sj = cJSON_CreateObject();
	osb_schema *s = NULL;

	/* a deeply nested enum/const/default value is refused too */
	cJSON_AddItemToObject(sj, "const", nested_arrays(65));
	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "const: value nested deeper than 64 levels");
	cJSON_Delete(sj);
	sj = cJSON_CreateObject();
	cJSON_AddItemToObject(sj, "default", nested_arrays(64));
	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	osb_schema_free(s);
	cJSON_Delete(sj);
}

static void test_deep_instance(void)
{
	cJSON *sj = cJSON_Parse("{\"items\":{\"$ref\":\"#\"},\"uniqueItems\":true}");
	cJSON *deep = nested_arrays(1000), *ok64 = nested_arrays(64), *bad65 = nested_arrays(65);
	cJSON *wrapped = cJSON_CreateObject();
	osb_schema *s = NULL, *any = NULL;
	cJSON *tj = cJSON_Parse("{\"type\":\"object\"}");

	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	CHECK_INT(osb_schema_validate(s, deep, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters: nested deeper than 64 levels");
	CHECK_INT(osb_schema_validate(s, ok64, 0, "parameters", msg, sizeof msg), 0);
	CHECK_INT(osb_schema_validate(s, bad65, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	/* refused even where the schema would not look */
	cJSON_AddItemToObject(wrapped, "x", nested_arrays(1000));
	CHECK_INT(osb_schema_compile(&any, tj, msg, sizeof msg), 0);
	CHECK_INT(osb_schema_validate(any, wrapped, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters: nested deeper than 64 levels");
	osb_schema_free(s);
	osb_schema_free(any);
	cJSON_Delete(sj);
	cJSON_Delete(tj);
	cJSON_Delete(deep);
	cJSON_Delete(ok64);
	cJSON_Delete(bad65);
	cJSON_Delete(wrapped);
}

static void test_deep_instance_parsed(void)
{
	/* the same through cJSON_Parse, which allows up to 1000 levels */
	char *text = malloc(2001);

	memset(text, '[', 999);
	memset(text + 999, ']', 999);
	text[1998] = '\0';
	CHECK_INT(run("{}", text, 0), OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters: nested deeper than 64 levels");
	free(text);
}

static void test_huge_strings(void)
{
	size_t n = 8u << 20;
	char *big = malloc(n + 1);
	cJSON *sj =
		cJSON_Parse("{\"type\":\"object\",\"properties\":{\"s\":{\"maxLength\":10,\"pattern\":\"^[a-z]+$\"},"
			    "\"t\":{\"pattern\":\"^(a+)+$\"}},\"additionalProperties\":false}");
	cJSON *inst = cJSON_CreateObject(), *inst2 = cJSON_CreateObject(), *inst3 = cJSON_CreateObject();
	osb_schema *s = NULL;

	memset(big, 'a', n);
	big[n] = '\0';
	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	cJSON_AddStringToObject(inst, "s", big);
	CHECK_INT(osb_schema_validate(s, inst, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters.s: must be at most 10 characters long");
	/* a huge key is shown with at most 64 bytes of it */
	cJSON_AddStringToObject(inst2, big, "v");
	CHECK_INT(osb_schema_validate(s, inst2, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_CONTAINS(msg, "...\"]: additional property not allowed");
	CHECK(strlen(msg) < 64 + 80);
	/* catastrophic backtracking is cut off, not hung on */
	memset(big, 'a', 40);
	strcpy(big + 40, "!");
	cJSON_AddStringToObject(inst3, "t", big);
	CHECK_INT(osb_schema_validate(s, inst3, 0, "parameters", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_CONTAINS(msg, "parameters.t: ");
	osb_schema_free(s);
	cJSON_Delete(sj);
	cJSON_Delete(inst);
	cJSON_Delete(inst2);
	cJSON_Delete(inst3);
	free(big);
}

static void test_key_escaping(void)
{
	const char *s = "{\"additionalProperties\":false}";

	CHECK(fails(s, "{\"a\\\"b\\u0001\":1}", "parameters[\"a\\\"b\\x01\"]: additional property not allowed"));
	CHECK(fails(s, "{\"\":1}", "parameters[\"\"]: additional property not allowed"));
	CHECK(fails(s, "{\"caf\xc3\xa9\":1}", "parameters[\"caf\xc3\xa9\"]: additional property not allowed"));
	CHECK(fails(s, "{\"a\xff\":1}", "parameters[\"a\\xff\"]: additional property not allowed"));
	CHECK(fails(s, "{\"ok_key-1\":1}", "parameters.ok_key-1: additional property not allowed"));
}

static void test_error_buffer(void)
{
	cJSON *sj = cJSON_Parse("{\"properties\":{\"name\":{\"type\":\"string\"}}}");
	cJSON *inst = cJSON_Parse("{\"name\":1}"), *u = cJSON_Parse("{\"caf\xc3\xa9\":1}");
	cJSON *closed = cJSON_Parse("{\"additionalProperties\":false}");
	osb_schema *s = NULL, *c = NULL;
	char small[12];

	CHECK_INT(osb_schema_compile(&s, sj, NULL, 0), 0);
	CHECK_INT(osb_schema_validate(s, inst, 0, "parameters", NULL, 0), OSB_EBADREQUEST);
	CHECK_INT(osb_schema_validate(s, inst, 0, "parameters", small, sizeof small), OSB_EBADREQUEST);
	CHECK_STR(small, "parameters.");
	CHECK_INT(osb_schema_validate(s, inst, 0, NULL, msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "parameters.name: must be a string");
	CHECK_INT(osb_schema_validate(s, inst, 0, "body", msg, sizeof msg), OSB_EBADREQUEST);
	CHECK_STR(msg, "body.name: must be a string");
	/* a cut message never ends inside a UTF-8 sequence */
	CHECK_INT(osb_schema_compile(&c, closed, NULL, 0), 0);
	CHECK_INT(osb_schema_validate(c, u, 0, "p", small, 8), OSB_EBADREQUEST);
	CHECK_STR(small, "p[\"caf");
	CHECK_INT(osb_schema_validate(s, NULL, 0, "p", msg, sizeof msg), OSB_EBADREQUEST);
	osb_schema_free(s);
	osb_schema_free(c);
	osb_schema_free(NULL);
	cJSON_Delete(sj);
	cJSON_Delete(inst);
	cJSON_Delete(u);
	cJSON_Delete(closed);
}

struct worker {
	const osb_schema *s;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char err[256];

	for (int i = 0; i < 2000; i++) {
		cJSON *good = cJSON_Parse("{\"name\":\"db-1\",\"ext\":[\"hstore\"]}");
		cJSON *bad = cJSON_Parse("{\"name\":\"DB\",\"ext\":[\"hstore\"]}");

		if (osb_schema_validate(w->s, good, 1, "parameters", err, sizeof err) != 0)
			w->failures++;
		if (!cJSON_GetObjectItem(good, "size"))
			w->failures++;
		if (osb_schema_validate(w->s, bad, 1, "parameters", err, sizeof err) != OSB_EBADREQUEST ||
		    strcmp(err, "parameters.name: must match pattern \"^[a-z][a-z0-9-]*$\"") != 0)
			w->failures++;
		cJSON_Delete(good);
		cJSON_Delete(bad);
	}
	return NULL;
}

static void test_threads(void)
{
	cJSON *sj = cJSON_Parse(
		"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z][a-z0-9-]*$\"},"
		"\"ext\":{\"type\":\"array\",\"uniqueItems\":true,\"items\":{\"enum\":[\"hstore\",\"pgcrypto\"]}},"
		"\"size\":{\"type\":\"integer\",\"default\":5}}}");
	struct worker w[8];
	pthread_t t[8];
	osb_schema *s = NULL;

	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	for (int i = 0; i < 8; i++) {
		w[i].s = s;
		w[i].failures = 0;
		CHECK_INT(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(w[i].failures, 0);
	}
	osb_schema_free(s);
	cJSON_Delete(sj);
}

static void test_osb_example(void)
{
	/* a plan's create schema as a catalog would declare it */
	const char *s =
		"{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\","
		"\"additionalProperties\":false,\"required\":[\"size\"],\"properties\":{"
		"\"size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
		"\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63},"
		"\"admin\":{\"type\":\"string\",\"format\":\"email\"},"
		"\"extensions\":{\"type\":\"array\",\"uniqueItems\":true,\"items\":{\"enum\":[\"pgcrypto\",\"hstore\"]}}}}";

	CHECK(ok(s, "{\"size\":10,\"name\":\"x\",\"admin\":\"a@b.io\",\"extensions\":[\"hstore\"]}"));
	CHECK(fails(s, "{}", "parameters: missing required property \"size\""));
	CHECK(fails(s, "{\"size\":1,\"name\":2}", "parameters.name: must be a string"));
	CHECK(fails(s, "{\"size\":1,\"foo\":2}", "parameters.foo: additional property not allowed"));
	CHECK(fails(s, "{\"size\":101}", "parameters.size: must be <= 100"));
	CHECK(fails(s, "{\"size\":1,\"admin\":\"nope\"}", "parameters.admin: must be a valid email"));
	CHECK(fails(s, "{\"size\":1,\"extensions\":[\"pgcrypto\",\"x\"]}",
		    "parameters.extensions[1]: must be one of [\"pgcrypto\", \"hstore\"]"));
}

static unsigned long long rng_state = 42;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng_state >> 33) % n;
}

static int random_keywords; /* random objects use schema keywords as keys */

static cJSON *random_value(int depth)
{
	static const char *const plain[] = { "a", "name", "size", "x-a", "n_1", "", "k\xff", "tags" };
	static const char *const kw[] = { "type",      "properties", "items",
					  "enum",      "const",      "minimum",
					  "maxLength", "pattern",    "additionalProperties",
					  "anyOf",     "not",        "$ref",
					  "required",  "default",    "uniqueItems",
					  "format",    "a" };
	const char *const *keys = random_keywords ? kw : plain;
	size_t nkeys = random_keywords ? sizeof kw / sizeof kw[0] : sizeof plain / sizeof plain[0];
	char str[16];
	cJSON *v;
	int n;

	switch (depth > 6 ? rnd(5) : rnd(7)) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateBool(rnd(2));
	case 2: return cJSON_CreateNumber((double)rnd(200) / (rnd(3) + 1) - 50);
	case 3:
	case 4:
		n = (int)rnd(sizeof str);
		for (int i = 0; i < n; i++)
			str[i] = (char)(rnd(4) ? 'a' + rnd(26) : 1 + rnd(255));
		str[n] = '\0';
		return cJSON_CreateString(str);
	case 5:
		v = cJSON_CreateArray();
		for (n = (int)rnd(5); n > 0; n--)
			cJSON_AddItemToArray(v, random_value(depth + 1));
		return v;
	default:
		v = cJSON_CreateObject();
		for (n = (int)rnd(5); n > 0; n--)
			cJSON_AddItemToObject(v, keys[rnd((unsigned)nkeys)], random_value(depth + 1));
		return v;
	}
}

/* Random values against a schema using every keyword: no crash, leak or odd code. */
static void test_random_instances(void)
{
	cJSON *sj = cJSON_Parse(
		"{\"definitions\":{\"v\":{\"anyOf\":[{\"type\":[\"string\",\"null\"],\"minLength\":1,\"maxLength\":8,"
		"\"pattern\":\"^[a-m]\",\"format\":\"hostname\"},{\"type\":\"number\",\"minimum\":-10,"
		"\"exclusiveMaximum\":40,\"multipleOf\":0.5},{\"type\":\"array\",\"uniqueItems\":true,"
		"\"items\":{\"$ref\":\"#/definitions/v\"},\"maxItems\":3},{\"$ref\":\"#\"}]}},"
		"\"type\":\"object\",\"properties\":{\"name\":{\"$ref\":\"#/definitions/v\",\"default\":\"n\"},"
		"\"size\":{\"oneOf\":[{\"type\":\"integer\"},{\"const\":2.5}],\"default\":1},"
		"\"tags\":{\"items\":[{\"enum\":[\"a\",1,null]}],\"additionalItems\":{\"not\":{\"type\":\"object\"}}}},"
		"\"patternProperties\":{\"^x-\":{\"allOf\":[{\"$ref\":\"#/definitions/v\"},true]}},"
		"\"additionalProperties\":{\"$ref\":\"#\"},\"maxProperties\":4,\"required\":[\"size\"]}");
	osb_schema *s = NULL;
	int counts[2] = { 0, 0 };

	CHECK_INT(osb_schema_compile(&s, sj, msg, sizeof msg), 0);
	for (int i = 0; i < 20000 && s; i++) {
		cJSON *inst = random_value(0);
		int rc = osb_schema_validate(s, inst, (int)rnd(2), "p", msg, sizeof msg);

		CHECK(rc == 0 || rc == OSB_EBADREQUEST);
		if (rc)
			CHECK(strncmp(msg, "p", 1) == 0 && strlen(msg) > 3);
		counts[rc != 0]++;
		cJSON_Delete(inst);
	}
	CHECK(counts[0] > 0 && counts[1] > 0);
	osb_schema_free(s);
	cJSON_Delete(sj);
}

/* Random values as schemas: compile either works or says why, never crashes. */
static void test_random_schemas(void)
{
	int compiled = 0;

	for (int i = 0; i < 20000; i++) {
		cJSON *sj, *inst;
		osb_schema *s = NULL;
		int rc;

		random_keywords = 1;
		sj = random_value(0);
		random_keywords = 0;
		inst = random_value(0);
		msg[0] = '\0';
		rc = osb_schema_compile(&s, sj, msg, sizeof msg);
		CHECK(rc == 0 || (rc == OSB_EBADREQUEST && msg[0] && s == NULL));
		if (!rc) {
			compiled++;
			rc = osb_schema_validate(s, inst, 1, "p", msg, sizeof msg);
			CHECK(rc == 0 || rc == OSB_EBADREQUEST);
		}
		osb_schema_free(s);
		cJSON_Delete(sj);
		cJSON_Delete(inst);
	}
	CHECK(compiled > 100);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_type), OSB_TEST_CASE(test_properties), OSB_TEST_CASE(test_required),
	      OSB_TEST_CASE(test_additional_properties), OSB_TEST_CASE(test_pattern_properties),
	      OSB_TEST_CASE(test_enum), OSB_TEST_CASE(test_enum_message_is_bounded), OSB_TEST_CASE(test_const),
	      OSB_TEST_CASE(test_numeric_bounds), OSB_TEST_CASE(test_multiple_of), OSB_TEST_CASE(test_string_length),
	      OSB_TEST_CASE(test_invalid_utf8_length), OSB_TEST_CASE(test_pattern),
	      OSB_TEST_CASE(test_pattern_invalid_utf8_subject), OSB_TEST_CASE(test_format), OSB_TEST_CASE(test_items),
	      OSB_TEST_CASE(test_unique_items), OSB_TEST_CASE(test_unique_items_large),
	      OSB_TEST_CASE(test_object_sizes), OSB_TEST_CASE(test_combinators), OSB_TEST_CASE(test_ref),
	      OSB_TEST_CASE(test_ref_cycles), OSB_TEST_CASE(test_ref_chain_too_long),
	      OSB_TEST_CASE(test_boolean_schemas), OSB_TEST_CASE(test_ignored_keywords), OSB_TEST_CASE(test_defaults),
	      OSB_TEST_CASE(test_defaults_are_copies), OSB_TEST_CASE(test_compile_rejects),
	      OSB_TEST_CASE(test_compile_depth), OSB_TEST_CASE(test_compile_deep_literal),
	      OSB_TEST_CASE(test_deep_instance), OSB_TEST_CASE(test_deep_instance_parsed),
	      OSB_TEST_CASE(test_huge_strings), OSB_TEST_CASE(test_key_escaping), OSB_TEST_CASE(test_error_buffer),
	      OSB_TEST_CASE(test_threads), OSB_TEST_CASE(test_osb_example), OSB_TEST_CASE(test_random_instances),
	      OSB_TEST_CASE(test_random_schemas))
