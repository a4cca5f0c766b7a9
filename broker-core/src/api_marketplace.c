/* Handler of /marketplace: the page of this broker's own catalog, its style sheet, script and data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "gateway.h"
#include "http.h"
#include "osb/marketplace.h"

/*
 * The marketplace document of this broker: the catalog's services as served,
 * and what the served catalog leaves out but users ask about (asynchronous
 * plans, dedicated servers). Never anything of an instance.
 */
static cJSON *broker_document(const struct osb_broker *b)
{
	size_t len;
	const char *body = osb_catalog_body(b->catalog, &len);
	cJSON *catalog = cJSON_ParseWithLength(body, len);
	cJSON *doc = cJSON_CreateObject();
	cJSON *brokers = cJSON_AddArrayToObject(doc, "brokers");
	cJSON *me = cJSON_CreateObject();
	cJSON_AddItemToArray(brokers, me);
	cJSON_AddStringToObject(me, "name", osb_gateway_name(b->gateway));
	cJSON *services = cJSON_DetachItemFromObjectCaseSensitive(catalog, "services");
	cJSON_AddItemToObject(me, "services", services ? services : cJSON_CreateArray());
	cJSON *features = cJSON_AddObjectToObject(me, "plan_features");
	for (size_t i = 0; i < osb_catalog_service_count(b->catalog); i++) {
		const osb_service *s = osb_catalog_service_at(b->catalog, i);
		for (size_t j = 0; j < s->plan_count; j++) {
			const osb_plan *p = &s->plans[j];
			cJSON *f = cJSON_AddObjectToObject(features, p->id);
			cJSON_AddBoolToObject(f, "asynchronous", p->async);
			cJSON_AddBoolToObject(f, "asynchronous_bindings", p->async_bindings);
			cJSON_AddBoolToObject(f, "dedicated", p->dedicated);
		}
	}
	cJSON_Delete(catalog);
	if (!doc || !brokers || !me || !features) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

void osb_api_marketplace(osb_http *h)
{
	const char *path = h->ri->local_uri_raw ? h->ri->local_uri_raw : h->ri->local_uri;
	const char *rest = path + strlen("/marketplace");
	static const char headers[] = OSB_MARKETPLACE_HEADERS;
	size_t len;
	const char *type;

	if (*rest == '/' && rest[1] && strcmp(rest, "/catalog.json") != 0) {
		const unsigned char *asset = osb_marketplace_asset(rest + 1, &len, &type);
		if (!asset) {
			osb_http_fail(h, OSB_ENOTFOUND, 404, "no such page");
			return;
		}
		osb_http_send_raw(h, 200, type, (const char *)asset, len, headers);
		return;
	}
	cJSON *doc = broker_document(h->broker);
	if (!doc) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		return;
	}
	if (strcmp(rest, "/catalog.json") == 0) {
		osb_http_send_json(h, 200, doc, headers);
		cJSON_Delete(doc);
		return;
	}
	char query[257], title[128];
	/* A query the page cannot use (too long, control characters) is ignored, not an error page. */
	int has_query = osb_http_query(h, "q", query, sizeof query) == 1;
	snprintf(title, sizeof title, "Service marketplace: %s broker", osb_gateway_name(h->broker->gateway));
	char *html = NULL;
	int rc = osb_marketplace_render(&html, doc, title, has_query ? query : NULL);
	cJSON_Delete(doc);
	if (rc) {
		osb_http_fail(h, rc, 0, "cannot render the marketplace page");
		return;
	}
	osb_http_send_raw(h, 200, "text/html; charset=utf-8", html, strlen(html), headers);
	free(html);
}
