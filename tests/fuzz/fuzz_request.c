/* libFuzzer target: the request parsing a client controls: headers, ids and the JSON body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "auth.h"
#include "catalog.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char catalog_json[] =
	"{\"services\":[{\"id\":\"s\",\"name\":\"s\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\","
	"\"name\":\"p\",\"description\":\"d\",\"schemas\":{\"service_instance\":{\"create\":{\"parameters\":{"
	"\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
	"\"integer\",\"maximum\":5,\"default\":1},\"e\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":"
	"[\"a\",\"b\"]},\"uniqueItems\":true}},\"additionalProperties\":false}}}}}]}]}";

/* Input lines: originating identity header, Authorization header, an id, then the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static osb_catalog *catalog;
	static osb_config config;
	static osb_account account = { (char *)"broker", (char *)"password1" };
	char err[256];
	if (!catalog) {
		if (osb_catalog_parse(&catalog, catalog_json, sizeof catalog_json - 1, "fuzz", 0xff, err, sizeof err))
			abort();
		config.accounts = &account;
		config.account_count = 1;
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *lines[3] = { text, NULL, NULL };
	char *body = text;
	for (int i = 1; i <= 3; i++) {
		char *nl = strchr(body, '\n');
		if (!nl)
			break;
		*nl = '\0';
		body = nl + 1;
		if (i < 3)
			lines[i] = body;
	}
	char *identity = NULL;
	if (osb_auth_decode_identity(lines[0], &identity) == 0)
		free(identity);
	const char *user = NULL;
	if (lines[1]) {
		osb_auth_check(&config, lines[1], &user);
		free((void *)user);
	}
	if (lines[2])
		osb_http_valid_id(lines[2]);
	cJSON *json = cJSON_Parse(body);
	if (json) {
		char fp[65];
		osb_api_fingerprint(fp, json);
		const osb_plan *plan = osb_catalog_plan(catalog, "p");
		cJSON *params = cJSON_GetObjectItemCaseSensitive(json, "parameters");
		if (plan && params)
			osb_schema_validate(plan->create_schema, params, 1, "parameters", err, sizeof err);
		cJSON_Delete(json);
	}
	free(text);
	return 0;
}
