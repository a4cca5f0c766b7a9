/* Helpers shared by the instance and binding handlers: fields, fingerprints, operations, answers. */
#include "api_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "osb/log.h"
#include "osb/secret.h"

void osb_api_new_op_id(char out[OSB_OP_ID_SIZE])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	if (osb_random_bytes(b, sizeof b) != 0) {
		/* getrandom never fails on Linux >= 3.17; still, never reuse an id */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof ts < sizeof b ? sizeof ts : sizeof b);
	}
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
}

static int compare_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

/* Sort object members by key, recursively, so that equal documents print equally. */
static int canonicalize(cJSON *item, int depth)
{
	if (depth > 128)
		return -1;
	if (cJSON_IsObject(item)) {
		size_t n = 0;
		for (cJSON *c = item->child; c; c = c->next)
			n++;
		if (n > 1) {
			cJSON **v = malloc(n * sizeof *v);
			if (!v)
				return -1;
			size_t i = 0;
			for (cJSON *c = item->child; c; c = c->next)
				v[i++] = c;
			qsort(v, n, sizeof *v, compare_keys);
			for (i = 0; i < n; i++) {
				v[i]->prev = i ? v[i - 1] : v[n - 1];
				v[i]->next = i + 1 < n ? v[i + 1] : NULL;
			}
			item->child = v[0];
			free(v);
		}
	}
	for (cJSON *c = item->child; c; c = c->next)
		if (canonicalize(c, depth + 1))
			return -1;
	return 0;
}

int osb_api_fingerprint(char out[65], const cJSON *attrs)
{
	cJSON *copy = cJSON_Duplicate(attrs, 1);
	if (!copy || canonicalize(copy, 0)) {
		cJSON_Delete(copy);
		return -1;
	}
	char *text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (!text)
		return -1;
	osb_sha256_hex(out, text, strlen(text));
	free(text);
	return 0;
}

int osb_api_string(osb_http *h, const cJSON *body, const char *key, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		osb_http_fail(h, OSB_EBADREQUEST, 0, "%s is required", key);
		return -1;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "%s must be a non-empty string", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

int osb_api_object(osb_http *h, const cJSON *body, const char *key, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "%s must be an object", key);
		return -1;
	}
	*out = v;
	return 0;
}

int osb_api_required_query(osb_http *h, const char *name, char *out, size_t size)
{
	int rc = osb_http_query(h, name, out, size);
	if (rc == 1 && out[0])
		return 0;
	osb_http_fail(h, OSB_EBADREQUEST, 0, "the query parameter %s is required and must be a non-empty string", name);
	return -1;
}

int osb_api_optional_query(osb_http *h, const char *name, char *out, size_t size)
{
	int rc = osb_http_query(h, name, out, size);
	if (rc == 0)
		return 0;
	if (rc == 1 && out[0])
		return 1;
	osb_http_fail(h, OSB_EBADREQUEST, 0, "the query parameter %s must be a non-empty string when present", name);
	return -1;
}

int osb_api_operation_query(osb_http *h, char *out, size_t size)
{
	int rc = osb_http_query(h, "operation", out, size);
	if (rc == 0)
		return 0;
	if (rc == -2)
		return 2;
	if (rc == 1 && out[0])
		return 1;
	osb_http_fail(h, OSB_EBADREQUEST, 0, "the query parameter operation must be a non-empty string when present");
	return -1;
}

void osb_api_store_failed(osb_http *h, int code)
{
	if (code == OSB_ETIMEOUT)
		osb_http_fail(h, OSB_ECONCURRENCY, 0,
			      "Another operation for this resource is in progress; retry later.");
	else
		osb_http_fail(h, OSB_EUNAVAILABLE, 0, "the broker's state store is unavailable; retry later");
}

long osb_api_deadline(osb_http *h, const osb_plan *plan, int async)
{
	const osb_config *c = h->broker->config;
	if (!async)
		return c->sync_timeout_s;
	long d = c->async_timeout_s;
	if (plan && plan->maximum_polling_duration > 0 && plan->maximum_polling_duration < d)
		d = plan->maximum_polling_duration;
	return d;
}

osb_operation_rec *osb_api_new_operation(osb_http *h, int kind, const char *instance_id, const char *binding_id,
					 int async, long deadline_s, const cJSON *request, const char *op_id)
{
	osb_operation_rec *op = calloc(1, sizeof *op);
	if (!op)
		return NULL;
	int64_t now = (int64_t)time(NULL);
	op->id = strdup(op_id);
	op->kind = kind;
	op->instance_id = strdup(instance_id);
	op->binding_id = binding_id ? strdup(binding_id) : NULL;
	op->state = OSB_OPSTATE_IN_PROGRESS;
	op->async = async;
	op->request = cJSON_PrintUnformatted(request);
	op->instance_usable = -1;
	op->update_repeatable = -1;
	op->owner = strdup(h->broker->config->replica_id);
	op->lease_until = now + OSB_LEASE_SECONDS;
	op->deadline_at = now + deadline_s;
	op->created_at = now;
	op->updated_at = now;
	if (!op->id || !op->instance_id || (binding_id && !op->binding_id) || !op->request || !op->owner) {
		osb_operation_rec_free(op);
		return NULL;
	}
	return op;
}

void osb_api_send_accepted(osb_http *h, const char *op_id, const char *dashboard_url)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "operation", op_id);
	if (dashboard_url)
		cJSON_AddStringToObject(body, "dashboard_url", dashboard_url);
	snprintf(h->op_buf, sizeof h->op_buf, "%s", op_id);
	h->operation = h->op_buf;
	osb_http_send_json(h, 202, body, NULL);
	cJSON_Delete(body);
}

void osb_api_send_outcome_error(osb_http *h, const osb_op_outcome *o, int kind)
{
	int usable = -1, repeatable = -1;
	if (kind == OSB_OP_UPDATE) {
		usable = 1;
		repeatable = o->code == OSB_EBADREQUEST || o->code == OSB_EUNSUPPORTED || o->code == OSB_EUNPROCESSABLE
				     ? 0
				     : 1;
	}
	osb_http_send_error(h, o->code ? o->code : OSB_ERROR, 0, o->description, usable, repeatable);
}

void osb_api_send_operation_state(osb_http *h, const osb_operation_rec *op)
{
	cJSON *body = cJSON_CreateObject();
	const char *state = op->state == OSB_OPSTATE_SUCCEEDED ? "succeeded"
			    : op->state == OSB_OPSTATE_FAILED  ? "failed"
							       : "in progress";
	cJSON_AddStringToObject(body, "state", state);
	if (op->description && op->description[0])
		cJSON_AddStringToObject(body, "description", op->description);
	if (op->state == OSB_OPSTATE_FAILED && op->binding_id == NULL &&
	    (op->kind == OSB_OP_UPDATE || op->kind == OSB_OP_DEPROVISION)) {
		if (op->instance_usable >= 0)
			cJSON_AddBoolToObject(body, "instance_usable", op->instance_usable);
		if (op->kind == OSB_OP_UPDATE && op->update_repeatable >= 0)
			cJSON_AddBoolToObject(body, "update_repeatable", op->update_repeatable);
	}
	char hdr[48] = "";
	if (op->state == OSB_OPSTATE_IN_PROGRESS)
		snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", h->broker->config->retry_after_s);
	snprintf(h->op_buf, sizeof h->op_buf, "%s", op->id);
	h->operation = h->op_buf;
	osb_http_send_json(h, 200, body, hdr[0] ? hdr : NULL);
	cJSON_Delete(body);
}

int osb_api_validate_parameters(osb_http *h, const osb_schema *schema, cJSON *params)
{
	if (!schema)
		return 0;
	char err[512];
	int rc = osb_schema_validate(schema, params, 1, "parameters", err, sizeof err);
	if (rc == 0)
		return 0;
	if (rc == OSB_ENOMEM)
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
	else
		osb_http_fail(h, OSB_EBADREQUEST, 0, "invalid parameters: %s", err);
	return -1;
}

void osb_api_add_json(cJSON *obj, const char *key, const char *json_text)
{
	cJSON *v = json_text ? cJSON_Parse(json_text) : NULL;
	if (v)
		cJSON_AddItemToObject(obj, key, v);
}

void osb_api_format_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.0Z", &tm);
}

cJSON *osb_api_saved_request(osb_http *h)
{
	cJSON *saved = cJSON_CreateObject();
	if (saved) {
		cJSON_AddStringToObject(saved, "request_id", h->request_id);
		if (h->identity)
			cJSON_AddStringToObject(saved, "originating_identity", h->identity);
	}
	return saved;
}

void osb_api_start_operation(osb_http *h, const char *op_id, int kind, int async, const char *dashboard_url,
			     osb_api_success_fn on_success)
{
	if (async) {
		/* A queue failure is not fatal: the record is committed and the resumer will claim it. */
		if (osb_engine_submit(h->broker->engine, op_id) != 0)
			osb_log(OSB_LOG_WARN, "operation.queue", "cannot queue %s now; the resumer will pick it up",
				op_id);
		osb_api_send_accepted(h, op_id, dashboard_url);
		return;
	}
	osb_op_outcome out = osb_engine_run_inline(h->broker->engine, op_id);
	snprintf(h->op_buf, sizeof h->op_buf, "%s", op_id);
	h->operation = h->op_buf;
	if (out.code != 0)
		osb_api_send_outcome_error(h, &out, kind);
	else if (on_success)
		on_success(h);
	else
		osb_http_send_json(h, 200, NULL, NULL);
	free(out.description);
}

/* The state of a recorded operation: 0 and the record, or the store's error. */
static int read_operation(osb_http *h, const char *op_id, osb_operation_rec **out)
{
	osb_store_tx *tx = NULL;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_operation_get(tx, op_id, out);
	osb_store_rollback(tx);
	return rc;
}

void osb_api_answer_resent(osb_http *h, const char *op_id, int kind, int incomplete, const char *dashboard_url,
			   osb_api_success_fn on_success)
{
	osb_operation_rec *op = NULL;
	int rc;
	if (incomplete) {
		osb_api_send_accepted(h, op_id, dashboard_url);
		return;
	}
	/* The operation may run in this process, in another replica, or be resumed here once its lease
	 * lapses: the store is the one place that knows when it ends. */
	int64_t deadline_us = h->start_us + (int64_t)h->broker->config->sync_timeout_s * 1000000;
	useconds_t pause = 50000;
	for (;;) {
		osb_operation_rec_free(op);
		op = NULL;
		if ((rc = read_operation(h, op_id, &op)) != 0) {
			osb_api_store_failed(h, rc);
			return;
		}
		if (op->state != OSB_OPSTATE_IN_PROGRESS || osb_clock_ms() * 1000 + pause >= deadline_us)
			break;
		if (atomic_load(&h->broker->shutting_down)) {
			osb_operation_rec_free(op);
			osb_http_fail(h, OSB_EUNAVAILABLE, 0, "the broker is shutting down; retry shortly");
			return;
		}
		usleep(pause);
		if (pause < 400000)
			pause *= 2;
	}
	snprintf(h->op_buf, sizeof h->op_buf, "%s", op->id);
	h->operation = h->op_buf;
	if (op->state == OSB_OPSTATE_IN_PROGRESS)
		osb_http_fail(h, OSB_ECONCURRENCY, 0,
			      "This request's earlier copy is still in progress; "
			      "retry later, or with accepts_incomplete=true.");
	else if (op->state == OSB_OPSTATE_FAILED)
		osb_http_send_error(h, OSB_ERROR, 0, op->description, kind == OSB_OP_UPDATE ? op->instance_usable : -1,
				    kind == OSB_OP_UPDATE ? op->update_repeatable : -1);
	else if (on_success)
		on_success(h);
	else
		osb_http_send_json(h, 200, NULL, NULL);
	osb_operation_rec_free(op);
}
