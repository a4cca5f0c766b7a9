/* Quotas of live service instances (quota.h). */
#include "quota.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "osb/errors.h"

long osb_quota_plan_limit(const osb_config *c, const osb_plan *p)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->quota_plans, p->id);
	if (!v)
		v = cJSON_GetObjectItemCaseSensitive(c->quota_plans, p->name);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : p->max_instances;
}

int osb_quota_check(osb_store_tx *tx, const osb_config *c, const osb_plan *plan, int new_instance, char *msg,
		    size_t msg_size)
{
	long plan_limit = osb_quota_plan_limit(c, plan), total_limit = new_instance ? c->quota_max_instances : 0, n = 0;
	int rc;

	if (!plan_limit && !total_limit)
		return 0;
	/* Instances of other ids are recorded under other locks: this one makes the count exact across replicas. */
	if ((rc = osb_store_lock(tx, "osb:quota")) != 0)
		return rc;
	if (plan_limit) {
		if ((rc = osb_store_instance_count(tx, plan->id, &n)) != 0)
			return rc;
		if (n >= plan_limit) {
			snprintf(msg, msg_size,
				 "The quota of plan %s is used up: %ld of %ld instances exist. Delete one, "
				 "choose another plan or ask the operator for a larger quota.",
				 plan->name, n, plan_limit);
			return OSB_EQUOTA;
		}
	}
	if (total_limit) {
		if ((rc = osb_store_instance_count(tx, NULL, &n)) != 0)
			return rc;
		if (n >= total_limit) {
			snprintf(msg, msg_size,
				 "The broker's quota is used up: %ld of %ld instances exist. Delete one or "
				 "ask the operator for a larger quota.",
				 n, total_limit);
			return OSB_EQUOTA;
		}
	}
	return 0;
}

/* Append formatted text at `at`, never past `size`; returns the new end (size when full). */
static size_t put(char *out, size_t size, size_t at, const char *fmt, ...) OSB_PRINTF(4, 5);

static size_t put(char *out, size_t size, size_t at, const char *fmt, ...)
{
	va_list ap;
	if (at >= size)
		return size;
	va_start(ap, fmt);
	int n = vsnprintf(out + at, size - at, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size - at ? size : at + (size_t)n;
}

static size_t gauge(char *out, size_t size, size_t at, int *header, const char *plan, long limit, long used)
{
	if (!(*header)++)
		at = put(
			out, size, at,
			"# HELP osb_quota_instances_limit Live instances allowed, per plan (plan=\"\": the whole broker).\n"
			"# TYPE osb_quota_instances_limit gauge\n"
			"# HELP osb_quota_instances_used Live instances that count against the limit.\n"
			"# TYPE osb_quota_instances_used gauge\n");
	return put(out, size, at,
		   "osb_quota_instances_limit{plan=\"%s\"} %ld\nosb_quota_instances_used{plan=\"%s\"} %ld\n", plan,
		   limit, plan, used);
}

void osb_quota_metrics(osb_store *store, const osb_config *c, const osb_catalog *cat, char *out, size_t size)
{
	osb_store_tx *tx = NULL;
	size_t at = strlen(out);
	int header = 0;
	long n;

	if (osb_store_begin(store, NULL, &tx) != 0)
		return;
	for (size_t i = 0; i < osb_catalog_service_count(cat); i++) {
		const osb_service *s = osb_catalog_service_at(cat, i);
		for (size_t j = 0; j < s->plan_count; j++) {
			long limit = osb_quota_plan_limit(c, &s->plans[j]);
			if (limit && osb_store_instance_count(tx, s->plans[j].id, &n) == 0)
				at = gauge(out, size, at, &header, s->plans[j].name, limit, n);
		}
	}
	if (c->quota_max_instances && osb_store_instance_count(tx, NULL, &n) == 0)
		gauge(out, size, at, &header, "", c->quota_max_instances, n);
	osb_store_rollback(tx);
}
