/* Parameters from the command line, checked against the plan's schema with the brokers' own validator. */
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"
#include "osb/jsonschema.h"
#include "output.h"

#define PARAMS_MAX (1u << 20)

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0 || n > PARAMS_MAX)
			break;
		if (n + 1 == cap) {
			char *p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

int params_parse(cli *c, const char *arg, cJSON **out)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (arg[0] == '@') {
		FILE *f = strcmp(arg, "@-") == 0 ? stdin : fopen(arg + 1, "r");
		if (!f)
			return out_fail(c, CLI_LOCAL, NULL, "cannot read parameters from %s: %s", arg + 1,
					strerror(errno));
		text = read_all(f, &len);
		if (f != stdin)
			fclose(f);
		if (!text)
			return out_fail(c, CLI_LOCAL, NULL, "out of memory");
		if (len > PARAMS_MAX) {
			free(text);
			return out_fail(c, CLI_USAGE, NULL, "parameters: larger than %u bytes", PARAMS_MAX);
		}
	}
	const char *json = text ? text : arg;
	const char *end = NULL;
	*out = cJSON_ParseWithOpts(json, &end, 1);
	if (!*out) {
		const char *at = cJSON_GetErrorPtr();
		long pos = at && at >= json ? (long)(at - json) : 0;
		free(text);
		return out_fail(c, CLI_USAGE, NULL, "parameters are not valid JSON (near byte %ld)", pos);
	}
	free(text);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return out_fail(c, CLI_USAGE, NULL, "parameters must be a JSON object, such as '{\"size\": 2}'");
	}
	return CLI_OK;
}

/* The schema's description of the field a message names ("parameters.size: ..." -> properties.size). */
static const char *field_description(const cJSON *schema, const char *message, char *field, size_t size)
{
	static const char root[] = "parameters.";
	field[0] = '\0';
	if (strncmp(message, root, sizeof root - 1) != 0)
		return NULL;
	const char *p = message + sizeof root - 1;
	size_t n = strcspn(p, ".[:");
	if (n == 0 || n >= size)
		return NULL;
	memcpy(field, p, n);
	field[n] = '\0';
	const cJSON *prop =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(schema, "properties"), field);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(prop, "description");
	return cJSON_IsString(d) ? d->valuestring : NULL;
}

int params_check(cli *c, const cJSON *plan, const char *scope, const char *action, const cJSON *params)
{
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(plan, "schemas"), scope),
			action),
		"parameters");
	osb_schema *compiled = NULL;
	char err[512], field[128];
	if (!schema || !params)
		return CLI_OK;
	if (osb_schema_compile(&compiled, schema, err, sizeof err) != 0) {
		/* The broker checks again; a schema we cannot read is the broker's to judge. */
		out_note(c, "note: the plan's %s schema cannot be checked here (%s); the broker checks it", action,
			 err);
		return CLI_OK;
	}
	cJSON *copy = cJSON_Duplicate(params, 1);
	int rc = copy ? osb_schema_validate(compiled, copy, 0, "parameters", err, sizeof err) : OSB_ENOMEM;
	cJSON_Delete(copy);
	osb_schema_free(compiled);
	if (rc == 0)
		return CLI_OK;
	if (rc == OSB_ENOMEM)
		return out_fail(c, CLI_LOCAL, NULL, "out of memory");
	const char *about = field_description(schema, err, field, sizeof field);
	cJSON *extra = cJSON_CreateObject();
	cJSON_AddStringToObject(extra, "schema_error", err);
	if (about) {
		cJSON_AddStringToObject(extra, "field", field);
		cJSON_AddStringToObject(extra, "field_description", about);
		return out_fail(c, CLI_PARAMS, extra, "invalid parameters: %s (%s: %s); nothing was sent", err, field,
				about);
	}
	return out_fail(c, CLI_PARAMS, extra, "invalid parameters: %s; nothing was sent", err);
}
