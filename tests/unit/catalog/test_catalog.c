/* Unit tests of catalog.c: loading, strict validation, capability checks, served body, ETag, lookups. */
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "hash.h"
#include "osb/driver.h"
#include "osb/errors.h"
#include "unit.h"

#define ALL_CAPS                                                                                                       \
	(OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_VOLUME_MOUNTS | OSB_CAP_RECONCILE |      \
	 OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED)

#define SCHEMA_OBJ                                                                                                     \
	"{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\","                                \
	"\"properties\":{\"billing-account\":{\"description\":\"Billing account.\",\"type\":\"string\"}}}"

/* The spec's example catalog, plus a second service, private settings and a dashboard client. */
static const char full_catalog[] =
	"{\n"
	"  \"services\": [{\n"
	"    \"name\": \"fake-service\",\n"
	"    \"id\": \"acb56d7c-XXXX-XXXX-XXXX-feb140a59a66\",\n"
	"    \"description\": \"A fake service.\",\n"
	"    \"tags\": [\"no-sql\", \"relational\"],\n"
	"    \"requires\": [\"route_forwarding\", \"volume_mount\"],\n"
	"    \"bindable\": true,\n"
	"    \"allow_context_updates\": true,\n"
	"    \"metadata\": {\n"
	"      \"provider\": {\"name\": \"The name\"},\n"
	"      \"listing\": {\"imageUrl\": \"http://example.com/cat.gif\", \"blurb\": \"Add a blurb here\"},\n"
	"      \"displayName\": \"The Fake Service Broker\"\n"
	"    },\n"
	"    \"dashboard_client\": {\"id\": \"398e2f8e\", \"secret\": \"277cabb0\", \"redirect_uri\": \"http://localhost:1234\"},\n"
	"    \"plan_updateable\": true,\n"
	"    \"plans\": [{\n"
	"      \"name\": \"fake-plan-1\",\n"
	"      \"id\": \"d3031751-XXXX-XXXX-XXXX-a42377d3320e\",\n"
	"      \"description\": \"Shared fake Server, 5tb persistent disk, 40 max concurrent connections.\",\n"
	"      \"free\": false,\n"
	"      \"binding_rotatable\": true,\n"
	"      \"maximum_polling_duration\": 3600,\n"
	"      \"metadata\": {\n"
	"        \"max_storage_tb\": 5,\n"
	"        \"costs\": [{\"amount\": {\"usd\": 99.0}, \"unit\": \"MONTHLY\"},\n"
	"                  {\"amount\": {\"usd\": 0.99, \"eur\": 0.9}, \"unit\": \"1GB of messages over 20GB\"}],\n"
	"        \"bullets\": [\"Shared fake server\", \"5 TB storage\", \"40 concurrent connections\"]\n"
	"      },\n"
	"      \"schemas\": {\n"
	"        \"service_instance\": {\n"
	"          \"create\": {\"parameters\": " SCHEMA_OBJ "},\n"
	"          \"update\": {\"parameters\": " SCHEMA_OBJ "}\n"
	"        },\n"
	"        \"service_binding\": {\"create\": {\"parameters\": " SCHEMA_OBJ "}}\n"
	"      },\n"
	"      \"maintenance_info\": {\"version\": \"2.1.1+abcdef\", \"description\": \"OS image update.\\nExpect downtime.\"},\n"
	"      \"x-osb\": {\"async\": true, \"async_bindings\": true, \"credential_ttl\": 86400,\n"
	"                \"size_mb\": 512, \"template\": \"template0\"}\n"
	"    }, {\n"
	"      \"name\": \"fake-plan-2\",\n"
	"      \"id\": \"0f4008b5-XXXX-XXXX-XXXX-dace631cd648\",\n"
	"      \"description\": \"Shared fake Server, 5tb persistent disk, 40 max concurrent connections. 100 async.\",\n"
	"      \"free\": false,\n"
	"      \"bindable\": false,\n"
	"      \"plan_updateable\": false,\n"
	"      \"metadata\": {\"costs\": [{\"amount\": {\"usd\": 199.0}, \"unit\": \"MONTHLY\"}], \"bullets\": [\"40 concurrent connections\"]}\n"
	"    }]\n"
	"  }, {\n"
	"    \"name\": \"plain-service\",\n"
	"    \"id\": \"svc-2\",\n"
	"    \"description\": \"Not bindable at all.\",\n"
	"    \"bindable\": false,\n"
	"    \"plans\": [{\"name\": \"fake-plan-1\", \"id\": \"plan-3\", \"description\": \"Same name, other service.\",\n"
	"                \"x-osb\": {\"async\": false}}]\n"
	"  }, {\n"
	"    \"name\": \"explicit-service\",\n"
	"    \"id\": \"svc-3\",\n"
	"    \"description\": \"Says what it serves.\",\n"
	"    \"bindable\": true,\n"
	"    \"instances_retrievable\": false,\n"
	"    \"bindings_retrievable\": false,\n"
	"    \"plans\": [{\"name\": \"small\", \"id\": \"plan-4\", \"description\": \"Small.\",\n"
	"                \"x-osb\": {\"credential_ttl\": 3600, \"renew_before\": 600}}]\n"
	"  }]\n"
	"}\n";

static osb_catalog *parse(const char *json, uint32_t caps, int *rc, char *err, size_t err_size)
{
	osb_catalog *cat = NULL;
	*rc = osb_catalog_parse(&cat, json, strlen(json), "catalog/test.json", caps, err, err_size);
	return cat;
}

static void test_full_catalog(void)
{
	char err[512] = "";
	int rc;
	osb_catalog *cat = parse(full_catalog, ALL_CAPS, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_STR(err, "");
	CHECK(cat != NULL);
	if (!cat)
		return;

	CHECK_INT(osb_catalog_service_count(cat), 3);
	const osb_service *s = osb_catalog_service_at(cat, 0);
	CHECK_STR(s->id, "acb56d7c-XXXX-XXXX-XXXX-feb140a59a66");
	CHECK_STR(s->name, "fake-service");
	CHECK_INT(s->bindable, 1);
	CHECK_INT(s->plan_updateable, 1);
	CHECK_INT(s->instances_retrievable, 1);
	CHECK_INT(s->bindings_retrievable, 1);
	CHECK_INT(s->allow_context_updates, 1);
	CHECK_INT(s->requires_volume_mount, 1);
	CHECK_INT(s->plan_count, 2);

	const osb_plan *p = &s->plans[0];
	CHECK_STR(p->id, "d3031751-XXXX-XXXX-XXXX-a42377d3320e");
	CHECK_STR(p->name, "fake-plan-1");
	CHECK(p->service == s);
	CHECK_INT(p->bindable, 1);
	CHECK_INT(p->plan_updateable, 1);
	CHECK_INT(p->binding_rotatable, 1);
	CHECK_STR(p->maintenance_version, "2.1.1+abcdef");
	CHECK_INT(p->maximum_polling_duration, 3600);
	CHECK_INT(p->async, 1);
	CHECK_INT(p->async_bindings, 1);
	CHECK_INT(p->credential_ttl, 86400);
	CHECK_INT(p->renew_before, 86400 / 5);
	CHECK(p->create_schema != NULL);
	CHECK(p->update_schema != NULL);
	CHECK(p->bind_schema != NULL);
	CHECK(p->settings != NULL);
	CHECK_INT(cJSON_GetObjectItemCaseSensitive(p->settings, "size_mb")->valueint, 512);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->settings, "template")), "template0");

	p = &s->plans[1];
	CHECK_INT(p->bindable, 0);
	CHECK_INT(p->plan_updateable, 0);
	CHECK_INT(p->binding_rotatable, 0);
	CHECK(p->maintenance_version == NULL);
	CHECK_INT(p->maximum_polling_duration, 0);
	CHECK_INT(p->async, 0);
	CHECK_INT(p->credential_ttl, 0);
	CHECK_INT(p->renew_before, 0);
	CHECK(p->create_schema == NULL && p->update_schema == NULL && p->bind_schema == NULL);
	CHECK(p->settings != NULL && cJSON_IsObject(p->settings) && p->settings->child == NULL);

	s = osb_catalog_service_at(cat, 1);
	CHECK_INT(s->bindable, 0);
	CHECK_INT(s->instances_retrievable, 1);
	CHECK_INT(s->bindings_retrievable, 0);
	CHECK_INT(s->requires_volume_mount, 0);
	CHECK_INT(s->plans[0].bindable, 0);

	s = osb_catalog_service_at(cat, 2);
	CHECK_INT(s->instances_retrievable, 0);
	CHECK_INT(s->bindings_retrievable, 0);
	CHECK_INT(s->plans[0].credential_ttl, 3600);
	CHECK_INT(s->plans[0].renew_before, 600);
	CHECK(osb_catalog_service_at(cat, 3) == NULL);
	osb_catalog_free(cat);
}

static void test_served_body(void)
{
	char err[512] = "";
	int rc;
	size_t len = 0;
	osb_catalog *cat = parse(full_catalog, ALL_CAPS, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	if (!cat)
		return;
	const char *body = osb_catalog_body(cat, &len);
	CHECK(body != NULL);
	CHECK_INT(len, strlen(body));
	CHECK(strstr(body, "x-osb") == NULL);
	CHECK(strstr(body, "credential_ttl") == NULL);
	CHECK(strchr(body, '\n') == NULL); /* compact */
	CHECK(strstr(body, "\": ") == NULL);

	cJSON *doc = cJSON_Parse(body);
	CHECK(doc != NULL);
	cJSON *svcs = cJSON_GetObjectItemCaseSensitive(doc, "services");
	CHECK_INT(cJSON_GetArraySize(svcs), 3);
	cJSON *s0 = cJSON_GetArrayItem(svcs, 0), *s1 = cJSON_GetArrayItem(svcs, 1), *s2 = cJSON_GetArrayItem(svcs, 2);
	/* filled in */
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s0, "instances_retrievable")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s0, "bindings_retrievable")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s1, "instances_retrievable")));
	/* nothing bindable: no bindings_retrievable */
	CHECK(cJSON_GetObjectItemCaseSensitive(s1, "bindings_retrievable") == NULL);
	/* explicit values are kept */
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s2, "instances_retrievable")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s2, "bindings_retrievable")));
	/* the rest is served as written */
	cJSON *plan0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s0, "plans"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(plan0, "maintenance_info"), "version")),
		  "2.1.1+abcdef");
	CHECK(cJSON_GetObjectItemCaseSensitive(plan0, "schemas") != NULL);
	CHECK(cJSON_GetObjectItemCaseSensitive(plan0, "x-osb") == NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(s0, "dashboard_client"), "secret")),
		  "277cabb0");
	cJSON_Delete(doc);

	/* ETag: quoted first 32 hex digits of SHA-256 of the body. */
	char hex[65], want[35];
	osb_sha256_hex(hex, body, len);
	snprintf(want, sizeof want, "\"%.32s\"", hex);
	CHECK_STR(osb_catalog_etag(cat), want);
	osb_catalog_free(cat);
}

static void test_empty_catalog(void)
{
	char err[256] = "";
	int rc;
	size_t len;
	osb_catalog *cat = parse("  {\"services\": []}\n", 0, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	if (!cat)
		return;
	CHECK_STR(osb_catalog_body(cat, &len), "{\"services\":[]}");
	CHECK_INT(len, 15);
	CHECK_INT(osb_catalog_service_count(cat), 0);
	CHECK(osb_catalog_plan(cat, "x") == NULL);
	CHECK(osb_catalog_service(cat, "x") == NULL);
	osb_catalog_free(cat);
}

static void test_lookups(void)
{
	char err[512] = "";
	int rc;
	osb_catalog *cat = parse(full_catalog, ALL_CAPS, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	if (!cat)
		return;
	static const char *const plan_ids[] = { "d3031751-XXXX-XXXX-XXXX-a42377d3320e",
						"0f4008b5-XXXX-XXXX-XXXX-dace631cd648", "plan-3", "plan-4" };
	static const char *const plan_names[] = { "fake-plan-1", "fake-plan-2", "fake-plan-1", "small" };
	static const char *const plan_services[] = { "fake-service", "fake-service", "plain-service",
						     "explicit-service" };
	for (size_t i = 0; i < 4; i++) {
		const osb_plan *p = osb_catalog_plan(cat, plan_ids[i]);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_STR(p->id, plan_ids[i]);
		CHECK_STR(p->name, plan_names[i]);
		CHECK_STR(p->service->name, plan_services[i]);
		CHECK(osb_catalog_service(cat, p->service->id) == p->service);
	}
	CHECK_STR(osb_catalog_service(cat, "svc-2")->name, "plain-service");
	CHECK_STR(osb_catalog_service(cat, "svc-3")->name, "explicit-service");
	CHECK_STR(osb_catalog_service(cat, "acb56d7c-XXXX-XXXX-XXXX-feb140a59a66")->name, "fake-service");
	/* ids only, exact and case-sensitive */
	CHECK(osb_catalog_service(cat, "fake-service") == NULL);
	CHECK(osb_catalog_service(cat, "SVC-2") == NULL);
	CHECK(osb_catalog_plan(cat, "plan-") == NULL);
	CHECK(osb_catalog_plan(cat, "plan-30") == NULL);
	CHECK(osb_catalog_plan(cat, "") == NULL);
	CHECK(osb_catalog_plan(cat, "svc-2") == NULL);
	CHECK(osb_catalog_plan(cat, NULL) == NULL);
	CHECK(osb_catalog_plan(NULL, "plan-3") == NULL);
	CHECK(osb_catalog_service(NULL, "svc-2") == NULL);
	CHECK_INT(osb_catalog_service_count(NULL), 0);
	osb_catalog_free(cat);
	osb_catalog_free(NULL);
}

/* A catalog with many plans: every id is found through the sorted index. */
static void test_many_lookups(void)
{
	size_t cap = 200000, n = 0;
	char *json = malloc(cap);
	char err[256] = "";
	int rc;
	CHECK(json != NULL);
	if (!json)
		return;
	n += (size_t)snprintf(json + n, cap - n, "{\"services\":[");
	for (int s = 0; s < 20; s++) {
		n += (size_t)snprintf(
			json + n, cap - n,
			"%s{\"id\":\"svc-%d\",\"name\":\"s%d\",\"description\":\"d\",\"bindable\":false,\"plans\":[",
			s ? "," : "", 19 - s, s);
		for (int p = 0; p < 25; p++)
			n += (size_t)snprintf(json + n, cap - n,
					      "%s{\"id\":\"plan-%03d\",\"name\":\"p%d\",\"description\":\"d\"}",
					      p ? "," : "", ((s * 25 + p) * 7) % 500, p);
		n += (size_t)snprintf(json + n, cap - n, "]}");
	}
	snprintf(json + n, cap - n, "]}");
	osb_catalog *cat = parse(json, 0, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_STR(err, "");
	if (cat) {
		for (int i = 0; i < 500; i++) {
			char id[32];
			snprintf(id, sizeof id, "plan-%03d", i);
			const osb_plan *p = osb_catalog_plan(cat, id);
			CHECK(p != NULL && strcmp(p->id, id) == 0);
		}
		for (int i = 0; i < 20; i++) {
			char id[32];
			snprintf(id, sizeof id, "svc-%d", i);
			const osb_service *s = osb_catalog_service(cat, id);
			CHECK(s != NULL && strcmp(s->id, id) == 0 && s->plan_count == 25);
		}
		osb_catalog_free(cat);
	}
	free(json);
}

static void test_etag(void)
{
	char err[512];
	int rc;
	osb_catalog *a = parse(full_catalog, ALL_CAPS, &rc, err, sizeof err);
	osb_catalog *b = parse(full_catalog, ALL_CAPS, &rc, err, sizeof err);
	CHECK(a && b);
	if (!a || !b)
		goto out;
	const char *etag = osb_catalog_etag(a);
	CHECK_INT(strlen(etag), 34);
	CHECK(etag[0] == '"' && etag[33] == '"');
	for (int i = 1; i < 33; i++)
		CHECK((etag[i] >= '0' && etag[i] <= '9') || (etag[i] >= 'a' && etag[i] <= 'f'));
	CHECK_STR(osb_catalog_etag(a), osb_catalog_etag(b));

	/* One byte of a served field changes the ETag. */
	char *copy = strdup(full_catalog);
	char *at = strstr(copy, "A fake service.");
	at[2] = 'F';
	osb_catalog *c = parse(copy, ALL_CAPS, &rc, err, sizeof err);
	CHECK(c != NULL);
	if (c)
		CHECK(strcmp(osb_catalog_etag(a), osb_catalog_etag(c)) != 0);
	osb_catalog_free(c);

	/* Private settings are not served: changing them keeps the body and the ETag. */
	strcpy(copy, full_catalog);
	at = strstr(copy, "\"size_mb\": 512");
	memcpy(at, "\"size_mb\": 999", 14);
	c = parse(copy, ALL_CAPS, &rc, err, sizeof err);
	CHECK(c != NULL);
	if (c)
		CHECK_STR(osb_catalog_etag(a), osb_catalog_etag(c));
	osb_catalog_free(c);

	/* Whitespace is not served either. */
	strcpy(copy, full_catalog);
	for (char *p = copy; *p; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	c = parse(copy, ALL_CAPS, &rc, err, sizeof err);
	CHECK(c != NULL);
	if (c)
		CHECK_STR(osb_catalog_etag(a), osb_catalog_etag(c));
	osb_catalog_free(c);
	free(copy);
out:
	osb_catalog_free(a);
	osb_catalog_free(b);
}

static void test_load_file(void)
{
	char path[] = "/tmp/osb-test-catalog-XXXXXX";
	char err[512] = "";
	osb_catalog *cat = NULL, *mem = NULL;
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, full_catalog, strlen(full_catalog)), (long long)strlen(full_catalog));
	close(fd);
	CHECK_INT(osb_catalog_load(&cat, path, ALL_CAPS, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(osb_catalog_parse(&mem, full_catalog, strlen(full_catalog), "x", ALL_CAPS, err, sizeof err), 0);
	if (cat && mem)
		CHECK_STR(osb_catalog_etag(cat), osb_catalog_etag(mem));
	osb_catalog_free(cat);
	osb_catalog_free(mem);

	/* Errors name the file. */
	cat = NULL;
	CHECK_INT(osb_catalog_load(&cat, path, 0, err, sizeof err), OSB_EBADREQUEST);
	CHECK(cat == NULL);
	CHECK_CONTAINS(err, path);
	CHECK_CONTAINS(err, ": services[0].requires[1]: volume_mount needs");
	unlink(path);

	cat = (osb_catalog *)&err; /* must be reset */
	CHECK_INT(osb_catalog_load(&cat, "/nonexistent/dir/pg.json", ALL_CAPS, err, sizeof err), OSB_ERROR);
	CHECK(cat == NULL);
	CHECK_CONTAINS(err, "/nonexistent/dir/pg.json: cannot open: ");
	CHECK_CONTAINS(err, "No such file");

	/* A directory opens but does not read. */
	CHECK_INT(osb_catalog_load(&cat, "/tmp", ALL_CAPS, err, sizeof err), OSB_ERROR);
	CHECK_CONTAINS(err, "/tmp: cannot read");

	/* No error buffer at all is fine. */
	CHECK_INT(osb_catalog_load(&cat, "/nonexistent/pg.json", 0, NULL, 0), OSB_ERROR);
}

/* ---- failing catalogs: one per rule; each message names the path ---- */

/* A catalog of one service with one plan; extra fields go in SVC_X / PLAN_X. */
#define CAT(svcs) "{\"services\":[" svcs "]}"
#define SVC(id, name, extra, plans)                                                                                    \
	"{\"id\":\"" id "\",\"name\":\"" name "\",\"description\":\"d\",\"bindable\":false" extra ",\"plans\":[" plans \
	"]}"
#define PLAN(id, name, extra) "{\"id\":\"" id "\",\"name\":\"" name "\",\"description\":\"d\"" extra "}"
#define ONE_SVC(svc_extra, plan_extra) CAT(SVC("s1", "svc", svc_extra, PLAN("p1", "plan", plan_extra)))
#define WITH_SCHEMA(where, schema) ",\"schemas\":{" where "{\"parameters\":" schema "}}}"
#define SI_CREATE "\"service_instance\":{\"create\":"
#define SI_UPDATE "\"service_instance\":{\"update\":"
#define SB_CREATE "\"service_binding\":{\"create\":"

struct fail_case {
	const char *json;
	uint32_t caps;
	const char *want; /* the message after "catalog/test.json: " */
};

static const struct fail_case fail_cases[] = {
	/* document */
	{ "{", ALL_CAPS, "invalid JSON at line 1" },
	{ "{\"services\":[]}\n{}", ALL_CAPS, "invalid JSON at line 2, column 1" },
	{ "{\"services\":[],}", ALL_CAPS, "invalid JSON at line 1, column 16" },
	{ "{\"services\":[\"\xc0\xaf\"]}", ALL_CAPS, "invalid UTF-8 at line 1, column 15" },
	{ "[]", ALL_CAPS, "the catalog must be a JSON object, not an array" },
	{ "{}", ALL_CAPS, "services: required field is missing (an array)" },
	{ "{\"services\":{}}", ALL_CAPS, "services: must be an array, not an object" },
	{ "{\"services\":[],\"x-osb\":{}}", ALL_CAPS, "x-osb: private settings are only allowed in plan objects" },
	{ "{\"services\":[],\"services\":[]}", ALL_CAPS, "services: key appears twice in the object" },
	{ "{\"services\":[],\"n\":1e999}", ALL_CAPS, "n: number out of range" },
	/* service offering */
	{ "{\"services\":[1]}", ALL_CAPS, "services[0]: must be an object, not a number" },
	{ CAT("{\"name\":\"a\",\"description\":\"d\",\"bindable\":false,\"plans\":[" PLAN("p", "p", "") "]}"), ALL_CAPS,
	  "services[0].id: required field is missing (a non-empty string)" },
	{ CAT(SVC("", "svc", "", PLAN("p1", "plan", ""))), ALL_CAPS, "services[0].id: must be a non-empty string" },
	{ CAT("{\"id\":7,\"name\":\"a\",\"description\":\"d\",\"bindable\":false,\"plans\":[" PLAN("p", "p", "") "]}"),
	  ALL_CAPS, "services[0].id: must be a non-empty string, not a number" },
	{ CAT("{\"id\":\"s\",\"description\":\"d\",\"bindable\":false,\"plans\":[" PLAN("p", "p", "") "]}"), ALL_CAPS,
	  "services[0].name: required field is missing" },
	{ CAT(SVC("s1", "", "", PLAN("p1", "plan", ""))), ALL_CAPS, "services[0].name: must be a non-empty string" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"bindable\":false,\"plans\":[" PLAN("p", "p", "") "]}"), ALL_CAPS,
	  "services[0].description: required field is missing" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"\",\"bindable\":false,\"plans\":[" PLAN("p", "p",
												      "") "]}"),
	  ALL_CAPS, "services[0].description: must be a non-empty string" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"plans\":[" PLAN("p", "p", "") "]}"), ALL_CAPS,
	  "services[0].bindable: required field is missing (a boolean)" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":\"true\",\"plans\":[" PLAN("p", "p",
													  "") "]}"),
	  ALL_CAPS, "services[0].bindable: must be a boolean, not a string" },
	{ CAT(SVC("s1", "a", "", PLAN("p1", "p", "")) "," SVC("s1", "b", "", PLAN("p2", "p", ""))), ALL_CAPS,
	  "services[1].id: duplicate service id \"s1\" (first at services[0].id)" },
	{ CAT(SVC("s1", "a", "", PLAN("p1", "p", "")) "," SVC("s2", "a", "", PLAN("p2", "p", ""))), ALL_CAPS,
	  "services[1].name: duplicate service name \"a\" (first at services[0].name)" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":false}"), ALL_CAPS,
	  "services[0].plans: required field is missing (an array)" },
	{ CAT(SVC("s1", "svc", "", "")), ALL_CAPS, "services[0].plans: must contain at least one plan" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":false,\"plans\":{}}"), ALL_CAPS,
	  "services[0].plans: must be an array, not an object" },
	{ ONE_SVC(",\"tags\":\"sql\"", ""), ALL_CAPS, "services[0].tags: must be an array, not a string" },
	{ ONE_SVC(",\"tags\":[\"sql\",5]", ""), ALL_CAPS, "services[0].tags[1]: must be a string, not a number" },
	{ ONE_SVC(",\"requires\":[\"syslog_drain\",\"root\"]", ""), ALL_CAPS,
	  "services[0].requires[1]: unknown permission \"root\"" },
	{ ONE_SVC(",\"requires\":[null]", ""), ALL_CAPS, "services[0].requires[0]: must be a string, not null" },
	{ ONE_SVC(",\"requires\":{}", ""), ALL_CAPS, "services[0].requires: must be an array" },
	{ ONE_SVC(",\"instances_retrievable\":1", ""), ALL_CAPS,
	  "services[0].instances_retrievable: must be a boolean, not a number" },
	{ ONE_SVC(",\"bindings_retrievable\":\"yes\"", ""), ALL_CAPS,
	  "services[0].bindings_retrievable: must be a boolean" },
	{ ONE_SVC(",\"allow_context_updates\":null", ""), ALL_CAPS,
	  "services[0].allow_context_updates: must be a boolean, not null" },
	{ ONE_SVC(",\"plan_updateable\":[]", ""), ALL_CAPS, "services[0].plan_updateable: must be a boolean" },
	{ ONE_SVC(",\"metadata\":[]", ""), ALL_CAPS, "services[0].metadata: must be an object, not an array" },
	{ ONE_SVC(",\"dashboard_client\":\"x\"", ""), ALL_CAPS, "services[0].dashboard_client: must be an object" },
	{ ONE_SVC(",\"dashboard_client\":{\"secret\":\"s\"}", ""), ALL_CAPS,
	  "services[0].dashboard_client.id: required field is missing" },
	{ ONE_SVC(",\"dashboard_client\":{\"id\":\"i\",\"secret\":\"\"}", ""), ALL_CAPS,
	  "services[0].dashboard_client.secret: must be a non-empty string" },
	{ ONE_SVC(",\"dashboard_client\":{\"id\":\"i\",\"secret\":\"s\",\"redirect_uri\":1}", ""), ALL_CAPS,
	  "services[0].dashboard_client.redirect_uri: must be a string" },
	{ ONE_SVC(",\"x-osb\":{}", ""), ALL_CAPS,
	  "services[0].x-osb: private settings are only allowed in plan objects" },
	/* service plan */
	{ CAT(SVC("s1", "svc", "", "\"p\"")), ALL_CAPS, "services[0].plans[0]: must be an object, not a string" },
	{ CAT(SVC("s1", "svc", "", "{\"name\":\"n\",\"description\":\"d\"}")), ALL_CAPS,
	  "services[0].plans[0].id: required field is missing" },
	{ CAT(SVC("s1", "svc", "", PLAN("", "plan", ""))), ALL_CAPS,
	  "services[0].plans[0].id: must be a non-empty string" },
	{ CAT(SVC("s1", "svc", "", "{\"id\":\"p\",\"description\":\"d\"}")), ALL_CAPS,
	  "services[0].plans[0].name: required field is missing" },
	{ CAT(SVC("s1", "svc", "", PLAN("p1", "", ""))), ALL_CAPS,
	  "services[0].plans[0].name: must be a non-empty string" },
	{ CAT(SVC("s1", "svc", "", "{\"id\":\"p\",\"name\":\"n\",\"description\":\"\"}")), ALL_CAPS,
	  "services[0].plans[0].description: must be a non-empty string" },
	{ CAT(SVC("s1", "svc", "", "{\"id\":\"p\",\"name\":\"n\"}")), ALL_CAPS,
	  "services[0].plans[0].description: required field is missing" },
	{ CAT(SVC("s1", "svc", "", PLAN("abc", "a", "") "," PLAN("abc", "b", ""))), ALL_CAPS,
	  "services[0].plans[1].id: duplicate plan id \"abc\" (first at services[0].plans[0].id)" },
	{ CAT(SVC("s1", "a", "", PLAN("p0", "x", "") "," PLAN("abc", "y", "")) "," SVC("s2", "b", "",
										       PLAN("abc", "x", ""))),
	  ALL_CAPS, "services[1].plans[0].id: duplicate plan id \"abc\" (first at services[0].plans[1].id)" },
	{ CAT(SVC("s1", "svc", "", PLAN("p1", "small", "") "," PLAN("p2", "small", ""))), ALL_CAPS,
	  "services[0].plans[1].name: duplicate plan name \"small\" in this service (first at plans[0])" },
	{ ONE_SVC("", ",\"name\":\"again\""), ALL_CAPS, "services[0].plans[0].name: key appears twice in the object" },
	{ ONE_SVC("", ",\"metadata\":\"m\""), ALL_CAPS,
	  "services[0].plans[0].metadata: must be an object, not a string" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":{}}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs: must be an array, not an object" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[3]}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs[0]: must be an object, not a number" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[{\"unit\":\"MONTHLY\"}]}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs[0].amount: required field is missing (an object)" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[{\"amount\":99,\"unit\":\"MONTHLY\"}]}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs[0].amount: must be an object, not a number" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[{\"amount\":{\"usd\":1},\"unit\":\"M\"},{\"amount\":{\"usd\":1}}]}"),
	  ALL_CAPS, "services[0].plans[0].metadata.costs[1].unit: required field is missing (a string)" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[{\"amount\":{\"usd\":1},\"unit\":5}]}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs[0].unit: must be a string, not a number" },
	{ ONE_SVC("", ",\"metadata\":{\"costs\":[{\"amount\":{\"usd\":\"1\"},\"unit\":\"M\"}]}"), ALL_CAPS,
	  "services[0].plans[0].metadata.costs[0].amount.usd: must be a number, not a string" },
	{ ONE_SVC("", ",\"free\":\"no\""), ALL_CAPS, "services[0].plans[0].free: must be a boolean, not a string" },
	{ ONE_SVC("", ",\"bindable\":1"), ALL_CAPS, "services[0].plans[0].bindable: must be a boolean, not a number" },
	{ ONE_SVC("", ",\"binding_rotatable\":null"), ALL_CAPS,
	  "services[0].plans[0].binding_rotatable: must be a boolean, not null" },
	{ ONE_SVC("", ",\"plan_updateable\":\"true\""), ALL_CAPS,
	  "services[0].plans[0].plan_updateable: must be a boolean, not a string" },
	{ ONE_SVC("", ",\"maximum_polling_duration\":0"), ALL_CAPS,
	  "services[0].plans[0].maximum_polling_duration: must be a positive integer" },
	{ ONE_SVC("", ",\"maximum_polling_duration\":-60"), ALL_CAPS,
	  "services[0].plans[0].maximum_polling_duration: must be a positive integer" },
	{ ONE_SVC("", ",\"maximum_polling_duration\":1.5"), ALL_CAPS,
	  "services[0].plans[0].maximum_polling_duration: must be a positive integer" },
	{ ONE_SVC("", ",\"maximum_polling_duration\":1e12"), ALL_CAPS,
	  "services[0].plans[0].maximum_polling_duration: must be a positive integer of at most 2147483647" },
	{ ONE_SVC("", ",\"maximum_polling_duration\":\"60\""), ALL_CAPS,
	  "services[0].plans[0].maximum_polling_duration: must be a positive integer, not a string" },
	{ ONE_SVC("", ",\"maintenance_info\":\"1.0.0\""), ALL_CAPS,
	  "services[0].plans[0].maintenance_info: must be an object, not a string" },
	{ ONE_SVC("", ",\"maintenance_info\":{\"description\":\"d\"}"), ALL_CAPS,
	  "services[0].plans[0].maintenance_info.version: required field is missing (a non-empty string)" },
	{ ONE_SVC("", ",\"maintenance_info\":{\"version\":100}"), ALL_CAPS,
	  "services[0].plans[0].maintenance_info.version: must be a non-empty string, not a number" },
	{ ONE_SVC("", ",\"maintenance_info\":{\"version\":\"1.0\"}"), ALL_CAPS,
	  "services[0].plans[0].maintenance_info.version: \"1.0\" is not a Semantic Versioning 2.0.0 version" },
	{ ONE_SVC("", ",\"maintenance_info\":{\"version\":\"1.0.0\",\"description\":false}"), ALL_CAPS,
	  "services[0].plans[0].maintenance_info.description: must be a string, not a boolean" },
	/* schemas */
	{ ONE_SVC("", ",\"schemas\":[]"), ALL_CAPS, "services[0].plans[0].schemas: must be an object, not an array" },
	{ ONE_SVC("", ",\"schemas\":{\"service_instance\":1}"), ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance: must be an object, not a number" },
	{ ONE_SVC("", ",\"schemas\":{\"service_binding\":{\"create\":\"x\"}}"), ALL_CAPS,
	  "services[0].plans[0].schemas.service_binding.create: must be an object, not a string" },
	{ ONE_SVC("", WITH_SCHEMA(SI_CREATE, "[]")), ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance.create.parameters: must be an object, not an array" },
	{ ONE_SVC("", WITH_SCHEMA(SI_CREATE, "true")), ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance.create.parameters: must be an object, not a boolean" },
	{ ONE_SVC("", WITH_SCHEMA(SI_CREATE, "{\"type\":\"object\"}")), ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance.create.parameters.$schema: required field is missing" },
	{ ONE_SVC("", WITH_SCHEMA(SB_CREATE, "{\"$schema\":\"\",\"type\":\"object\"}")), ALL_CAPS,
	  "services[0].plans[0].schemas.service_binding.create.parameters.$schema: must be a non-empty string" },
	{ ONE_SVC("", WITH_SCHEMA(SI_UPDATE, "{\"$schema\":\"http://json-schema.org/draft-04/schema#\","
					     "\"$ref\":\"http://example.com/other.json\"}")),
	  ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance.update.parameters.$ref: external reference "
	  "\"http://example.com/other.json\"" },
	{ ONE_SVC("", WITH_SCHEMA(SI_CREATE, "{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
					     "\"properties\":{\"a\":{\"items\":[{\"$ref\":\"other.json#/x\"}]}}}")),
	  ALL_CAPS,
	  "services[0].plans[0].schemas.service_instance.create.parameters.properties.a.items[0].$ref: "
	  "external reference \"other.json#/x\"" },
	{ ONE_SVC("", WITH_SCHEMA(SI_CREATE, "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":12}")),
	  ALL_CAPS, "services[0].plans[0].schemas.service_instance.create.parameters: type" },
	/* private settings */
	{ ONE_SVC("", ",\"x-osb\":[]"), ALL_CAPS, "services[0].plans[0].x-osb: must be an object, not an array" },
	{ ONE_SVC("", ",\"x-osb\":{\"async\":\"yes\"}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.async: must be a boolean, not a string" },
	{ ONE_SVC("", ",\"x-osb\":{\"async_bindings\":1}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.async_bindings: must be a boolean, not a number" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"credential_ttl\":0}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.credential_ttl: must be a positive integer" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"credential_ttl\":\"1h\"}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.credential_ttl: must be a positive integer, not a string" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"credential_ttl\":3600,\"renew_before\":-1}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.renew_before: must be a positive integer" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"credential_ttl\":3600,\"renew_before\":3600}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.renew_before: must be less than credential_ttl (3600)" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"renew_before\":60}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.renew_before: needs credential_ttl" },
	{ ONE_SVC("", ",\"x-osb\":{\"credential_ttl\":60}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.credential_ttl: credential_ttl applies to binding credentials but the plan is not bindable" },
	/* capabilities */
	{ ONE_SVC("", ",\"bindable\":true"), ALL_CAPS & ~OSB_CAP_BINDABLE,
	  "services[0].plans[0].bindable: plan is bindable but the driver has no OSB_CAP_BINDABLE" },
	{ CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[" PLAN(
		  "p", "p", ",\"bindable\":false") "," PLAN("q", "q", "") "]}"),
	  ALL_CAPS & ~OSB_CAP_BINDABLE,
	  "services[0].plans[1]: plan inherits bindable: true from its service but the driver has no OSB_CAP_BINDABLE" },
	{ ONE_SVC("", ",\"plan_updateable\":true"), ALL_CAPS & ~OSB_CAP_PLAN_UPDATEABLE,
	  "services[0].plans[0].plan_updateable: plan is plan_updateable but the driver has no OSB_CAP_PLAN_UPDATEABLE" },
	{ ONE_SVC(",\"plan_updateable\":true", ""), ALL_CAPS & ~OSB_CAP_PLAN_UPDATEABLE,
	  "services[0].plans[0]: plan inherits plan_updateable: true from its service but the driver has no "
	  "OSB_CAP_PLAN_UPDATEABLE" },
	{ ONE_SVC("", WITH_SCHEMA(SI_UPDATE, SCHEMA_OBJ)), ALL_CAPS & ~OSB_CAP_PLAN_UPDATEABLE,
	  "services[0].plans[0].schemas.service_instance.update.parameters: an update schema needs a driver with "
	  "OSB_CAP_PLAN_UPDATEABLE" },
	{ ONE_SVC("", ",\"x-osb\":{\"async\":true}"), ALL_CAPS & ~OSB_CAP_ASYNC,
	  "services[0].plans[0].x-osb.async: asynchronous plans need a driver with OSB_CAP_ASYNC" },
	{ ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"async_bindings\":true}"), ALL_CAPS & ~OSB_CAP_ASYNC,
	  "services[0].plans[0].x-osb.async_bindings: asynchronous bindings need a driver with OSB_CAP_ASYNC" },
	{ ONE_SVC("", ",\"x-osb\":{\"async_bindings\":true}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.async_bindings: async_bindings on a plan that is not bindable" },
	{ ONE_SVC("", ",\"bindable\":true,\"binding_rotatable\":true"), ALL_CAPS & ~OSB_CAP_BINDING_ROTATION,
	  "services[0].plans[0].binding_rotatable: binding_rotatable needs a driver with OSB_CAP_BINDING_ROTATION" },
	{ ONE_SVC("", ",\"binding_rotatable\":true"), ALL_CAPS,
	  "services[0].plans[0].binding_rotatable: binding_rotatable on a plan that is not bindable" },
	{ ONE_SVC(",\"requires\":[\"route_forwarding\",\"volume_mount\"]", ""), ALL_CAPS & ~OSB_CAP_VOLUME_MOUNTS,
	  "services[0].requires[1]: volume_mount needs a driver with OSB_CAP_VOLUME_MOUNTS" },
	{ ONE_SVC("", ",\"x-osb\":{\"dedicated\":true}"), ALL_CAPS & ~OSB_CAP_DEDICATED,
	  "services[0].plans[0].x-osb.dedicated: dedicated plans need a driver with OSB_CAP_DEDICATED" },
	{ ONE_SVC("", ",\"x-osb\":{\"dedicated\":1}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.dedicated: must be a boolean" },
	{ ONE_SVC("", ""), ALL_CAPS | OSB_CATALOG_NO_SHARED,
	  "services[0].plans[0]: plan is shared (no x-osb.dedicated) but the driver has no shared server" },
	{ ONE_SVC("", ",\"x-osb\":{\"max_instances\":0}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.max_instances: must be a positive integer" },
	{ ONE_SVC("", ",\"x-osb\":{\"max_instances\":\"ten\"}"), ALL_CAPS,
	  "services[0].plans[0].x-osb.max_instances: must be a positive integer" },
};

static void test_failures(void)
{
	for (size_t i = 0; i < sizeof fail_cases / sizeof fail_cases[0]; i++) {
		const struct fail_case *fc = &fail_cases[i];
		char err[1024] = "";
		char want[1024];
		int rc;
		osb_catalog *cat = parse(fc->json, fc->caps, &rc, err, sizeof err);
		snprintf(want, sizeof want, "catalog/test.json: %s", fc->want);
		if (rc != OSB_EBADREQUEST || !strstr(err, want))
			fprintf(stderr, "fail case %zu: %s\n", i, fc->json);
		CHECK_INT(rc, OSB_EBADREQUEST);
		CHECK(cat == NULL);
		CHECK_CONTAINS(err, want);
		/* The message starts with the file name. */
		CHECK(strncmp(err, "catalog/test.json: ", 19) == 0);
		osb_catalog_free(cat);
	}
}

static void test_document_edge_cases(void)
{
	char err[512] = "";
	osb_catalog *cat = NULL;
	static const char nul_doc[] = "{\"services\":[]}\0garbage";
	CHECK_INT(osb_catalog_parse(&cat, nul_doc, sizeof nul_doc - 1, "n.json", 0, err, sizeof err), OSB_EBADREQUEST);
	CHECK_STR(err, "n.json: contains a NUL byte");
	CHECK_INT(osb_catalog_parse(&cat, "", 0, "e.json", 0, err, sizeof err), OSB_EBADREQUEST);
	CHECK_STR(err, "e.json: empty document");
	/* len bounds the document even without a NUL. */
	static const char longer[] = "{\"services\":[]}   {{{{";
	CHECK_INT(osb_catalog_parse(&cat, longer, 18, "l.json", 0, err, sizeof err), 0);
	osb_catalog_free(cat);
	/* A tiny error buffer truncates but never overflows. */
	char tiny[8];
	CHECK_INT(osb_catalog_parse(&cat, "[]", 2, "t.json", 0, tiny, sizeof tiny), OSB_EBADREQUEST);
	CHECK_STR(tiny, "t.json:");
	/* A UTF-8 BOM-free, non-ASCII catalog is fine and served as is. */
	const char *utf = CAT(SVC("s1", "caf\xc3\xa9", "", PLAN("p1", "\xe2\x82\xac", "")));
	CHECK_INT(osb_catalog_parse(&cat, utf, strlen(utf), "u.json", 0, err, sizeof err), 0);
	if (cat) {
		CHECK_CONTAINS(osb_catalog_body(cat, NULL), "caf\xc3\xa9");
		CHECK_STR(osb_catalog_plan(cat, "p1")->name, "\xe2\x82\xac");
	}
	osb_catalog_free(cat);
	/* Long values are cut in messages. */
	char big[1024];
	char id[300];
	memset(id, 'x', 200);
	id[200] = '\0';
	snprintf(big, sizeof big, CAT(SVC("s1", "a", "", PLAN("%s", "a", "") "," PLAN("%s", "b", ""))), id, id);
	CHECK_INT(osb_catalog_parse(&cat, big, strlen(big), "b.json", 0, err, sizeof err), OSB_EBADREQUEST);
	CHECK_CONTAINS(err, "services[0].plans[1].id: duplicate plan id \"xxxxxxxx");
	CHECK_CONTAINS(err, "xxx...\" (first at");
	CHECK(strlen(err) < 200);
}

/* Inheritance and overrides between a service and its plans. */
static void test_inheritance(void)
{
	char err[512] = "";
	int rc;
	const char *json = CAT(
		"{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plan_updateable\":true,"
		"\"plans\":[" PLAN("p1", "one", "") "," PLAN(
			"p2", "two",
			",\"bindable\":false,\"plan_updateable\":false") "]},"
									 "{\"id\":\"t\",\"name\":\"b\",\"description\":\"d\",\"bindable\":false,"
									 "\"plans\":[" PLAN(
										 "p3", "one",
										 ",\"bindable\":true,\"plan_updateable\":true") "]}");
	osb_catalog *cat = parse(json, ALL_CAPS, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_STR(err, "");
	if (!cat)
		return;
	CHECK_INT(osb_catalog_plan(cat, "p1")->bindable, 1);
	CHECK_INT(osb_catalog_plan(cat, "p1")->plan_updateable, 1);
	CHECK_INT(osb_catalog_plan(cat, "p2")->bindable, 0);
	CHECK_INT(osb_catalog_plan(cat, "p2")->plan_updateable, 0);
	CHECK_INT(osb_catalog_plan(cat, "p3")->bindable, 1);
	CHECK_INT(osb_catalog_plan(cat, "p3")->plan_updateable, 1);
	/* a plan makes the offering bindable enough to serve bindings_retrievable */
	CHECK_INT(osb_catalog_service(cat, "t")->bindings_retrievable, 1);
	CHECK_CONTAINS(osb_catalog_body(cat, NULL),
		       "\"bindable\":false,\"plans\":[{\"id\":\"p3\",\"name\":\"one\",\"description\":\"d\","
		       "\"bindable\":true,\"plan_updateable\":true}],\"instances_retrievable\":true,"
		       "\"bindings_retrievable\":true}");
	osb_catalog_free(cat);

	/* A service bindable by default whose plans all opt out needs no bind capability. */
	json = CAT("{\"id\":\"s\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,"
		   "\"plans\":[" PLAN("p1", "one", ",\"bindable\":false") "]}");
	cat = parse(json, 0, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	osb_catalog_free(cat);
	/* renew_before defaults to a fifth of the TTL */
	json = ONE_SVC("", ",\"bindable\":true,\"x-osb\":{\"credential_ttl\":1000}");
	cat = parse(json, OSB_CAP_BINDABLE, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	if (cat)
		CHECK_INT(osb_catalog_plan(cat, "p1")->renew_before, 200);
	osb_catalog_free(cat);
}

/* References that are local or not references at all are accepted. */
static void test_schema_refs_allowed(void)
{
	char err[512] = "";
	int rc;
	const char *json = ONE_SVC(
		"",
		WITH_SCHEMA(SI_CREATE,
			    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
			    "\"definitions\":{\"size\":{\"type\":\"integer\"}},"
			    "\"properties\":{\"size\":{\"$ref\":\"#/definitions/size\"},"
			    "\"$ref\":{\"type\":\"string\",\"default\":{\"$ref\":\"http://data.example/not-a-ref\"}},"
			    "\"mode\":{\"enum\":[{\"$ref\":\"http://also-data\"}]}}}"));
	osb_catalog *cat = parse(json, ALL_CAPS, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_STR(err, "");
	if (cat)
		CHECK(osb_catalog_plan(cat, "p1")->create_schema != NULL);
	osb_catalog_free(cat);
}

static char *schema_of_size(size_t desc_len)
{
	static const char head[] =
		"{\"services\":[{\"id\":\"s1\",\"name\":\"svc\",\"description\":\"d\",\"bindable\":false,"
		"\"plans\":[{\"id\":\"p1\",\"name\":\"plan\",\"description\":\"d\",\"schemas\":{"
		"\"service_instance\":{\"create\":{\"parameters\":{"
		"\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"description\":\"";
	static const char tail[] = "\"}}}}}]}]}";
	char *json = malloc(sizeof head + desc_len + sizeof tail);
	if (!json)
		return NULL;
	memcpy(json, head, sizeof head - 1);
	memset(json + sizeof head - 1, 'a', desc_len);
	memcpy(json + sizeof head - 1 + desc_len, tail, sizeof tail);
	return json;
}

static void test_schema_size(void)
{
	/* {"$schema":"http://json-schema.org/draft-04/schema#","description":"..."} is 69 bytes + text */
	size_t fixed = strlen("{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"description\":\"\"}");
	char err[512] = "";
	int rc;
	char *json = schema_of_size(65536 - fixed);
	osb_catalog *cat = parse(json, 0, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	osb_catalog_free(cat);
	free(json);

	json = schema_of_size(65536 - fixed + 1);
	cat = parse(json, 0, &rc, err, sizeof err);
	CHECK_INT(rc, OSB_EBADREQUEST);
	CHECK_CONTAINS(err, "catalog/test.json: services[0].plans[0].schemas.service_instance.create.parameters: "
			    "schema is 65537 bytes compact, more than the 65536 allowed");
	osb_catalog_free(cat);
	free(json);
}

static void test_semver(void)
{
	static const char *const valid[] = {
		"1.0.0",
		"0.0.0",
		"2.1.1+abcdef",
		"1.0.0-alpha.1",
		"1.0.0-alpha",
		"1.0.0-0.3.7",
		"1.0.0-x.7.z.92",
		"1.0.0-x-y-z.--",
		"1.0.0-alpha+001",
		"1.0.0+20130313144700",
		"1.0.0-beta+exp.sha.5114f85",
		"1.0.0+21AF26D3----117B344092BD",
		"10.20.30",
		"1.0.0-0A.is.legal",
		"1.0.0-rc.1+build.1",
		"999999999999999999999.0.0",
		"1.0.0+0.0001",
		"1.0.0--",
		"1.0.0-0",
	};
	static const char *const invalid[] = {
		"1.0",
		"1",
		"01.0.0",
		"1.01.0",
		"1.0.01",
		"1.0.0-01",
		"1.0.0+",
		"v1.0.0",
		"1.0.0-",
		"1.0.0-alpha..1",
		"1.0.0+a..b",
		"1.0.0-alpha_beta",
		"1.0.0 ",
		" 1.0.0",
		"1.0.0.0",
		"1.0.0-+build",
		"1.0.0+build+more",
		"1.0.0-\xc3\xa9",
		"-1.0.0",
		"1.-1.0",
		"a.b.c",
		"1..0",
		"1.0.0-alpha.",
		"1.0.0+.",
		"1.0.0-00",
		"1.0.0-01a.00",
	};
	char json[512], err[512];
	int rc;
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		snprintf(json, sizeof json, ONE_SVC("", ",\"maintenance_info\":{\"version\":\"%s\"}"), valid[i]);
		osb_catalog *cat = parse(json, 0, &rc, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "semver \"%s\" refused: %s\n", valid[i], err);
		CHECK_INT(rc, 0);
		if (cat)
			CHECK_STR(osb_catalog_plan(cat, "p1")->maintenance_version, valid[i]);
		osb_catalog_free(cat);
	}
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		snprintf(json, sizeof json, ONE_SVC("", ",\"maintenance_info\":{\"version\":\"%s\"}"), invalid[i]);
		osb_catalog *cat = parse(json, 0, &rc, err, sizeof err);
		if (rc != OSB_EBADREQUEST)
			fprintf(stderr, "semver \"%s\" accepted\n", invalid[i]);
		CHECK_INT(rc, OSB_EBADREQUEST);
		CHECK_CONTAINS(err, "services[0].plans[0].maintenance_info.version: ");
		CHECK_CONTAINS(err, "is not a Semantic Versioning 2.0.0 version");
		osb_catalog_free(cat);
	}
}

/* The capability checks pass with exactly the needed flags. */
static void test_caps_exact(void)
{
	char err[512] = "";
	osb_catalog *cat = NULL;
	uint32_t need = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_VOLUME_MOUNTS |
			OSB_CAP_BINDING_ROTATION;
	CHECK_INT(osb_catalog_parse(&cat, full_catalog, strlen(full_catalog), "f", need, err, sizeof err), 0);
	osb_catalog_free(cat);
	for (uint32_t bit = 1; bit <= OSB_CAP_BINDING_ROTATION; bit <<= 1) {
		if (!(need & bit))
			continue;
		cat = NULL;
		CHECK_INT(
			osb_catalog_parse(&cat, full_catalog, strlen(full_catalog), "f", need & ~bit, err, sizeof err),
			OSB_EBADREQUEST);
		CHECK(cat == NULL);
		CHECK_CONTAINS(err, "f: services[0].");
	}
	/* A driver without a shared server takes dedicated plans, and the core reads the quota. */
	const char *dedicated = ONE_SVC("", ",\"x-osb\":{\"dedicated\":true,\"max_instances\":7}");
	CHECK_INT(osb_catalog_parse(&cat, dedicated, strlen(dedicated), "d", OSB_CAP_DEDICATED | OSB_CATALOG_NO_SHARED,
				    err, sizeof err),
		  0);
	CHECK(cat && osb_catalog_service_at(cat, 0)->plans[0].dedicated == 1);
	CHECK(cat && osb_catalog_service_at(cat, 0)->plans[0].max_instances == 7);
	osb_catalog_free(cat);
	/* A catalog of nothing bindable, updateable or async runs on a minimal driver. */
	const char *json =
		ONE_SVC(",\"requires\":[\"syslog_drain\"]", ",\"x-osb\":{\"async\":false,\"driver_key\":[1]}");
	CHECK_INT(osb_catalog_parse(&cat, json, strlen(json), "m", 0, err, sizeof err), 0);
	osb_catalog_free(cat);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_full_catalog), OSB_TEST_CASE(test_served_body), OSB_TEST_CASE(test_empty_catalog),
	      OSB_TEST_CASE(test_lookups), OSB_TEST_CASE(test_many_lookups), OSB_TEST_CASE(test_etag),
	      OSB_TEST_CASE(test_load_file), OSB_TEST_CASE(test_failures), OSB_TEST_CASE(test_document_edge_cases),
	      OSB_TEST_CASE(test_inheritance), OSB_TEST_CASE(test_schema_refs_allowed), OSB_TEST_CASE(test_schema_size),
	      OSB_TEST_CASE(test_semver), OSB_TEST_CASE(test_caps_exact))
