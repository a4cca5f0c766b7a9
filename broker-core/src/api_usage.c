/* Handler of GET /usage/events (the usage log, paged by cursor) and the per-plan gauges of /metrics. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_common.h"

#define USAGE_LIMIT_DEFAULT 100
#define USAGE_LIMIT_MAX 1000

/* "2024-05-01T12:00:00Z": what jq's fromdateiso8601 and most tools read. */
static void iso_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_str(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* The stored "<platform> <JSON object>" as {"platform": ..., "value": {...}}. */
static void add_identity(cJSON *obj, const char *stored)
{
	const char *space = stored ? strchr(stored, ' ') : NULL;
	cJSON *value = space ? cJSON_Parse(space + 1) : NULL;
	if (!value) {
		cJSON_AddNullToObject(obj, "originating_identity");
		return;
	}
	char platform[128];
	snprintf(platform, sizeof platform, "%.*s", (int)(space - stored), stored);
	cJSON *id = cJSON_AddObjectToObject(obj, "originating_identity");
	cJSON_AddStringToObject(id, "platform", platform);
	cJSON_AddItemToObject(id, "value", value);
}

typedef struct {
	const osb_catalog *catalog;
	cJSON *events;
	int64_t last;
	int n;
} usage_page;

static int add_event(const osb_usage_event *ev, void *payload)
{
	usage_page *p = payload;
	cJSON *e = cJSON_CreateObject();
	char cursor[24], at[32];
	if (!e)
		return 1;
	snprintf(cursor, sizeof cursor, "%" PRId64, ev->seq);
	iso_time(at, ev->occurred_at);
	const osb_service *svc = osb_catalog_service(p->catalog, ev->service_id);
	const osb_plan *plan = osb_catalog_plan(p->catalog, ev->plan_id);
	const osb_plan *prev = osb_catalog_plan(p->catalog, ev->previous_plan_id);
	cJSON_AddStringToObject(e, "cursor", cursor);
	cJSON_AddStringToObject(e, "type", ev->kind);
	cJSON_AddStringToObject(e, "occurred_at", at);
	cJSON_AddStringToObject(e, "instance_id", ev->instance_id);
	add_str(e, "binding_id", ev->binding_id);
	add_str(e, "service_id", ev->service_id);
	add_str(e, "service_name", svc ? svc->name : NULL);
	add_str(e, "plan_id", ev->plan_id);
	/* The name recorded then; records rebuilt at an upgrade take today's. */
	add_str(e, "plan_name", ev->plan_name ? ev->plan_name : plan ? plan->name : NULL);
	if (ev->previous_plan_id) {
		add_str(e, "previous_plan_id", ev->previous_plan_id);
		add_str(e, "previous_plan_name",
			ev->previous_plan_name ? ev->previous_plan_name
			: prev                 ? prev->name
					       : NULL);
	}
	cJSON *ctx = ev->context ? cJSON_Parse(ev->context) : NULL;
	if (ctx)
		cJSON_AddItemToObject(e, "context", ctx);
	else
		cJSON_AddObjectToObject(e, "context");
	add_identity(e, ev->originating_identity);
	add_str(e, "operation", ev->operation_id);
	cJSON_AddItemToArray(p->events, e);
	p->last = ev->seq;
	p->n++;
	return 0;
}

/* A cursor is the decimal seq of the last record read; "0" (or none) starts at the beginning. */
static int parse_cursor(const char *text, int64_t *out)
{
	size_t n = strlen(text);
	if (n == 0 || n > 18 || strspn(text, "0123456789") != n)
		return -1;
	*out = (int64_t)strtoll(text, NULL, 10);
	return 0;
}

void osb_api_usage_events(osb_http *h)
{
	char after_text[32] = "0", limit_text[16];
	int64_t after = 0;
	int limit = USAGE_LIMIT_DEFAULT;
	int rc = osb_http_query(h, "after", after_text, sizeof after_text);
	if (rc < 0 || (rc == 1 && parse_cursor(after_text, &after) != 0)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0,
			      "after must be a cursor this endpoint returned (a decimal number)");
		return;
	}
	rc = osb_http_query(h, "limit", limit_text, sizeof limit_text);
	if (rc == 1) {
		char *end = NULL;
		errno = 0;
		long v = strtol(limit_text, &end, 10);
		limit = errno || !end || *end || end == limit_text || v < 1 || v > USAGE_LIMIT_MAX ? -1 : (int)v;
	}
	if (rc < 0 || limit < 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "limit must be an integer from 1 to %d", USAGE_LIMIT_MAX);
		return;
	}
	usage_page p = { h->broker->catalog, cJSON_CreateArray(), after, 0 };
	cJSON *body = cJSON_CreateObject();
	if (!p.events || !body) {
		cJSON_Delete(p.events);
		cJSON_Delete(body);
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		return;
	}
	cJSON_AddItemToObject(body, "events", p.events);
	/* One more than asked: tells whether another page follows. */
	rc = osb_store_usage_list(h->broker->store, after, limit + 1, add_event, &p);
	if (rc) {
		cJSON_Delete(body);
		osb_api_store_failed(h, rc);
		return;
	}
	int more = p.n > limit;
	if (more) {
		cJSON_DeleteItemFromArray(p.events, limit);
		const cJSON *last = cJSON_GetArrayItem(p.events, limit - 1);
		p.last = (int64_t)strtoll(cJSON_GetObjectItemCaseSensitive(last, "cursor")->valuestring, NULL, 10);
	}
	char next[24];
	snprintf(next, sizeof next, "%" PRId64, p.last);
	cJSON_AddStringToObject(body, "next_cursor", next);
	cJSON_AddBoolToObject(body, "has_more", more);
	osb_http_send_json(h, 200, body, NULL);
	cJSON_Delete(body);
}

/* ---- /metrics: live instances per plan ---------------------------------- */

typedef struct {
	const osb_catalog *catalog;
	long *counts; /* per catalog plan, in catalog order */
	size_t nplans;
	char *extra; /* lines of plans no longer in the catalog */
	size_t extra_len;
	int oom;
} plan_gauges;

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(char *out, size_t size, const char *v)
{
	size_t n = 0;
	for (; v && *v && n + 3 < size; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			out[n++] = '\\';
			out[n++] = *v == '\n' ? 'n' : *v;
		} else {
			out[n++] = *v;
		}
	}
	out[n] = '\0';
}

static int count_plan(const char *plan_id, long instances, void *payload)
{
	plan_gauges *g = payload;
	size_t k = 0;
	for (size_t i = 0; i < osb_catalog_service_count(g->catalog); i++) {
		const osb_service *s = osb_catalog_service_at(g->catalog, i);
		for (size_t j = 0; j < s->plan_count; j++, k++)
			if (strcmp(s->plans[j].id, plan_id) == 0) {
				g->counts[k] = instances;
				return 0;
			}
	}
	/* Instances of a plan the catalog no longer has still exist, and still count. */
	char id[300], line[400];
	label(id, sizeof id, plan_id);
	int n = snprintf(line, sizeof line, "osb_plan_instances{service=\"\",plan=\"\",plan_id=\"%s\"} %ld\n", id,
			 instances);
	char *p = realloc(g->extra, g->extra_len + (size_t)n + 1);
	if (!p) {
		g->oom = 1;
		return 1;
	}
	memcpy(p + g->extra_len, line, (size_t)n + 1);
	g->extra = p;
	g->extra_len += (size_t)n;
	return 0;
}

void osb_api_usage_gauges(osb_http *h, char **out)
{
	const osb_catalog *cat = h->broker->catalog;
	plan_gauges g = { cat, NULL, 0, NULL, 0, 0 };
	*out = NULL;
	for (size_t i = 0; i < osb_catalog_service_count(cat); i++)
		g.nplans += osb_catalog_service_at(cat, i)->plan_count;
	g.counts = calloc(g.nplans ? g.nplans : 1, sizeof *g.counts);
	if (!g.counts || osb_store_plan_counts(h->broker->store, count_plan, &g) != 0 || g.oom) {
		free(g.counts);
		free(g.extra);
		return;
	}
	static const char head[] =
		"# HELP osb_plan_instances Service instances that exist (created, not yet deleted), by plan.\n"
		"# TYPE osb_plan_instances gauge\n";
	size_t cap = sizeof head + g.extra_len + g.nplans * 1024 + 1, len = 0, k = 0;
	char *text = malloc(cap);
	if (text) {
		len = (size_t)snprintf(text, cap, "%s", head);
		for (size_t i = 0; i < osb_catalog_service_count(cat); i++) {
			const osb_service *s = osb_catalog_service_at(cat, i);
			char sname[300], pname[300], pid[300];
			label(sname, sizeof sname, s->name);
			for (size_t j = 0; j < s->plan_count; j++, k++) {
				label(pname, sizeof pname, s->plans[j].name);
				label(pid, sizeof pid, s->plans[j].id);
				len += (size_t)snprintf(
					text + len, cap - len,
					"osb_plan_instances{service=\"%s\",plan=\"%s\",plan_id=\"%s\"} %ld\n", sname,
					pname, pid, g.counts[k]);
			}
		}
		if (g.extra)
			snprintf(text + len, cap - len, "%s", g.extra);
	}
	free(g.counts);
	free(g.extra);
	*out = text;
}
