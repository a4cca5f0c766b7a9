/* Handlers of /v2/catalog, /health/live, /health/ready and /metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "gateway.h"
#include "http.h"
#include "quota.h"

void osb_api_catalog(osb_http *h)
{
	size_t len;
	const char *body = osb_catalog_body(h->broker->catalog, &len);
	const char *etag = osb_catalog_etag(h->broker->catalog);
	char hdr[128];
	snprintf(hdr, sizeof hdr, "ETag: %s\r\n", etag);
	const char *inm = mg_get_header(h->conn, "If-None-Match");
	if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
		osb_http_send_raw(h, 304, "application/json", "", 0, hdr);
		return;
	}
	osb_http_send_raw(h, 200, "application/json", body, len, hdr);
}

void osb_api_health_live(osb_http *h)
{
	static const char ok[] = "{\"status\":\"live\"}";
	osb_http_send_raw(h, 200, "application/json", ok, sizeof ok - 1, NULL);
}

void osb_api_health_ready(osb_http *h)
{
	struct osb_broker *b = h->broker;
	char store_msg[256] = "", driver_msg[256] = "";
	int store_ok = osb_store_ping(b->store, store_msg, sizeof store_msg) == 0;
	int driver_ok = osb_gateway_health(b->gateway, driver_msg, sizeof driver_msg) == 0;
	int shutting = atomic_load(&b->shutting_down);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "status", store_ok && driver_ok && !shutting ? "ready" : "unready");
	cJSON *checks = cJSON_AddObjectToObject(body, "checks");
	cJSON *s = cJSON_AddObjectToObject(checks, "store");
	cJSON_AddBoolToObject(s, "ok", store_ok);
	if (!store_ok)
		cJSON_AddStringToObject(s, "message", store_msg[0] ? store_msg : "unreachable");
	cJSON *d = cJSON_AddObjectToObject(checks, osb_gateway_name(b->gateway));
	cJSON_AddBoolToObject(d, "ok", driver_ok);
	if (!driver_ok)
		cJSON_AddStringToObject(d, "message", driver_msg[0] ? driver_msg : "unreachable");
	if (shutting)
		cJSON_AddBoolToObject(body, "shutting_down", 1);
	osb_http_send_json(h, store_ok && driver_ok && !shutting ? 200 : 503, body, NULL);
	cJSON_Delete(body);
}

void osb_api_metrics(osb_http *h)
{
	osb_store_counts counts;
	char gauges[8192] = "";
	if (osb_store_counts_get(h->broker->store, &counts) == 0) {
		snprintf(gauges, sizeof gauges,
			 "# HELP osb_instances Service instances in the state store (live).\n"
			 "# TYPE osb_instances gauge\nosb_instances %ld\n"
			 "# HELP osb_bindings Service bindings in the state store (live).\n"
			 "# TYPE osb_bindings gauge\nosb_bindings %ld\n"
			 "# HELP osb_operations Operations in the state store, by state.\n"
			 "# TYPE osb_operations gauge\n"
			 "osb_operations{state=\"in progress\"} %ld\n"
			 "osb_operations{state=\"succeeded\"} %ld\n"
			 "osb_operations{state=\"failed\"} %ld\n",
			 counts.instances, counts.bindings, counts.ops_in_progress, counts.ops_succeeded,
			 counts.ops_failed);
		osb_quota_metrics(h->broker->store, h->broker->config, h->broker->catalog, gauges, sizeof gauges);
	}
	char *plans = NULL, *all = NULL;
	osb_api_usage_gauges(h, &plans);
	size_t n = plans ? strlen(gauges) + strlen(plans) + 1 : 0;
	if (plans && (all = malloc(n)))
		snprintf(all, n, "%s%s", gauges, plans);
	free(plans);
	char *text = osb_metrics_render(all ? all : gauges);
	free(all);
	if (!text) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		return;
	}
	osb_http_send_raw(h, 200, "text/plain; version=0.0.4", text, strlen(text), NULL);
	free(text);
}
