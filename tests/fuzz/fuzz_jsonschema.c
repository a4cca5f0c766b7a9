/* libFuzzer target: compile a schema and validate an instance, both from the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osb/jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: schema JSON, a NUL byte, instance JSON. Without a NUL, a fixed schema is used. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char fixed[] =
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":1,\"default\":3},"
		"\"b\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":8},"
		"\"c\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",\"y\"]},\"uniqueItems\":true}},"
		"\"required\":[\"b\"],\"additionalProperties\":false}";
	const uint8_t *nul = memchr(data, 0, size);
	cJSON *schema_json = nul ? cJSON_ParseWithLength((const char *)data, (size_t)(nul - data)) : cJSON_Parse(fixed);
	const char *inst_text = nul ? (const char *)nul + 1 : (const char *)data;
	size_t inst_len = nul ? size - (size_t)(nul - data) - 1 : size;
	cJSON *instance = cJSON_ParseWithLength(inst_text, inst_len);
	osb_schema *schema = NULL;
	char err[256];
	if (schema_json && osb_schema_compile(&schema, schema_json, err, sizeof err) == 0 && instance) {
		osb_schema_validate(schema, instance, 1, "parameters", err, sizeof err);
		osb_schema_validate(schema, instance, 0, NULL, err, sizeof err);
	}
	osb_schema_free(schema);
	cJSON_Delete(schema_json);
	cJSON_Delete(instance);
	return 0;
}
