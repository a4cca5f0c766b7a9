/* The marketplace document of every registered broker, read over the OSB API, and lookups by name. */
#include "market.h"

#include <stdio.h>
#include <string.h>

#include "broker.h"

/* One broker's entry: its own marketplace document, else its OSB catalog, else why neither came. */
static cJSON *broker_entry(const cli_broker *b)
{
	cJSON *entry = cJSON_CreateObject();
	broker_resp r;
	char why[512];
	if (!entry)
		return NULL;
	cJSON_AddStringToObject(entry, "name", b->name);
	cJSON_AddStringToObject(entry, "url", b->url);
	if (broker_call(b, "GET", "/marketplace/catalog.json", NULL, &r) == 0 && r.status == 200) {
		cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "brokers"), 0);
		cJSON *services = cJSON_DetachItemFromObjectCaseSensitive(first, "services");
		cJSON *features = cJSON_DetachItemFromObjectCaseSensitive(first, "plan_features");
		if (cJSON_IsArray(services)) {
			cJSON_AddItemToObject(entry, "services", services);
			if (cJSON_IsObject(features))
				cJSON_AddItemToObject(entry, "plan_features", features);
			else
				cJSON_Delete(features);
			broker_resp_free(&r);
			return entry;
		}
		cJSON_Delete(services);
		cJSON_Delete(features);
	}
	/* Not a broker of this suite, or an older one: the catalog every OSB broker has. */
	broker_resp_free(&r);
	if (broker_call(b, "GET", "/v2/catalog", NULL, &r) == 0 && r.status == 200 &&
	    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r.json, "services"))) {
		cJSON_AddItemToObject(entry, "services", cJSON_DetachItemFromObjectCaseSensitive(r.json, "services"));
	} else {
		broker_describe(&r, why, sizeof why);
		if (r.status == 200)
			snprintf(why, sizeof why, "GET /v2/catalog did not answer a catalog");
		cJSON_AddStringToObject(entry, "error", why);
	}
	broker_resp_free(&r);
	return entry;
}

cJSON *market_fetch(const cli_brokers *brokers, const char *only)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "brokers");
	if (!arr) {
		cJSON_Delete(doc);
		return NULL;
	}
	for (size_t i = 0; i < brokers->n; i++) {
		if (only && strcmp(brokers->v[i].name, only) != 0)
			continue;
		cJSON *e = broker_entry(&brokers->v[i]);
		if (!e) {
			cJSON_Delete(doc);
			return NULL;
		}
		cJSON_AddItemToArray(arr, e);
	}
	return doc;
}

static int named(const cJSON *obj, const char *name)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, "name");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	return (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) ||
	       (cJSON_IsString(id) && strcmp(id->valuestring, name) == 0);
}

int market_find_service(const cJSON *doc, const char *name, const char *broker_name, const cJSON **svc,
			const cJSON **broker)
{
	const cJSON *b, *s;
	int n = 0;
	*svc = NULL;
	*broker = NULL;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
	{
		if (broker_name && !named(b, broker_name))
			continue;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(b, "services"))
		{
			if (!named(s, name))
				continue;
			if (!n++) {
				*svc = s;
				*broker = b;
			}
		}
	}
	return n;
}

const cJSON *market_find_plan(const cJSON *svc, const char *name)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(svc, "plans")) if (named(p, name)) return p;
	return NULL;
}

const cJSON *market_plan_features(const cJSON *broker, const cJSON *plan)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(plan, "id");
	if (!cJSON_IsString(id))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(broker, "plan_features"),
						id->valuestring);
}

void market_plan_names(const cJSON *svc, char *out, size_t size)
{
	const cJSON *p;
	size_t n = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(svc, "plans"))
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
		if (!cJSON_IsString(name) || n >= size)
			continue;
		n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", name->valuestring);
	}
}
