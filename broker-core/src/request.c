/* osb_request: the accessors drivers use, and the request's memory arena. */
#include "request_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/log.h"
#include "errors_internal.h"

struct osb_arena_block {
	struct osb_arena_block *next;
	size_t used;
	size_t size;
	_Alignas(max_align_t) char data[];
};

#define ARENA_BLOCK_SIZE 4096

int64_t osb_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int osb_ms_left(int64_t deadline)
{
	int64_t left = deadline - osb_clock_ms();
	if (left < 1)
		return 1;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

osb_request *osb_request__new(void)
{
	return calloc(1, sizeof(osb_request));
}

void osb_request__free(osb_request *req)
{
	if (!req)
		return;
	cJSON_Delete(req->parameters);
	cJSON_Delete(req->instance_parameters);
	cJSON_Delete(req->context);
	cJSON_Delete(req->instance_state);
	cJSON_Delete(req->binding_state);
	cJSON_Delete(req->new_instance_state);
	cJSON_Delete(req->new_binding_state);
	cJSON_Delete(req->credentials);
	cJSON_Delete(req->endpoints);
	cJSON_Delete(req->volume_mounts);
	free(req->dashboard_url);
	struct osb_arena_block *b = req->arena;
	while (b) {
		struct osb_arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(req);
}

void *osb_req_alloc(osb_request *req, size_t size)
{
	size_t aligned = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	struct osb_arena_block *b = req->arena;
	if (!b || b->size - b->used < aligned) {
		size_t cap = aligned > ARENA_BLOCK_SIZE ? aligned : ARENA_BLOCK_SIZE;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->size = cap;
		b->used = 0;
		b->next = req->arena;
		req->arena = b;
	}
	void *p = b->data + b->used;
	b->used += aligned;
	return p;
}

char *osb_req_strdup(osb_request *req, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = osb_req_alloc(req, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *osb_req_sprintf(osb_request *req, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = osb_req_alloc(req, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int osb_req_fail(osb_request *req, int code, const char *fmt, ...)
{
	char msg[sizeof req->err.msg];
	va_list ap;
	/* Through a copy: the arguments may point into the buffer itself. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	osb_errbuf__one_line(msg);
	memcpy(req->err.msg, msg, sizeof msg);
	req->err.code = code;
	return code;
}

osb_errbuf *osb_request_errbuf(osb_request *req)
{
	return &req->err;
}

void osb_request_note(osb_request *req, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->note, sizeof req->note, fmt, ap);
	va_end(ap);
}

const osb_target *osb_request_target(const osb_request *req)
{
	return req->target;
}
const char *osb_request_instance_name(const osb_request *req)
{
	return req->instance_name;
}

const char *osb_request_binding_name(const osb_request *req)
{
	return req->binding_name[0] ? req->binding_name : NULL;
}

osb_operation_kind osb_request_operation(const osb_request *req)
{
	return req->kind;
}
const char *osb_request_instance_id(const osb_request *req)
{
	return req->instance_id;
}
const char *osb_request_binding_id(const osb_request *req)
{
	return req->binding_id;
}
const char *osb_request_service_id(const osb_request *req)
{
	return req->service_id;
}
const char *osb_request_plan_id(const osb_request *req)
{
	return req->plan_id;
}
const char *osb_request_app_guid(const osb_request *req)
{
	return req->app_guid;
}
const char *osb_request_predecessor_binding_id(const osb_request *req)
{
	return req->predecessor_binding_id;
}
const char *osb_request_originating_identity(const osb_request *req)
{
	return req->originating_identity;
}
const cJSON *osb_request_context(const osb_request *req)
{
	return req->context;
}
const cJSON *osb_request_instance_state(const osb_request *req)
{
	return req->instance_state;
}
const cJSON *osb_request_binding_state(const osb_request *req)
{
	return req->binding_state;
}
time_t osb_request_expires_at(const osb_request *req)
{
	return req->expires_at;
}
int osb_request_is_retry(const osb_request *req)
{
	return req->is_retry;
}

const char *osb_request_previous_plan_id(const osb_request *req)
{
	return req->previous_plan_id ? req->previous_plan_id : req->plan_id;
}

const cJSON *osb_request_plan_settings(const osb_request *req)
{
	return req->plan->settings;
}

long long osb_request_plan_int(const osb_request *req, const char *key, long long fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req->plan->settings, key);
	/* Out of range (or NaN) would make the conversion undefined: take the fallback. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18))
		return fallback;
	return (long long)v->valuedouble;
}

const cJSON *osb_request_parameters(const osb_request *req)
{
	return req->parameters;
}

const cJSON *osb_request_instance_parameters(const osb_request *req)
{
	return req->instance_parameters;
}

int osb_request_timeout_ms(const osb_request *req)
{
	int64_t left = req->deadline_ms - osb_clock_ms();
	if (left < 1)
		return 1;
	return left > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)left;
}

static int replace_json(cJSON **slot, cJSON *value)
{
	cJSON_Delete(*slot);
	*slot = value;
	return 0;
}

int osb_request_set_instance_state(osb_request *req, cJSON *state)
{
	return replace_json(&req->new_instance_state, state);
}

int osb_request_set_binding_state(osb_request *req, cJSON *state)
{
	return replace_json(&req->new_binding_state, state);
}

/* Put `item` (owned) at `key` of a state (`*slot`), made an object first when it is none. */
static int save_state_item(osb_request *req, cJSON **slot, const char *key, cJSON *item)
{
	int saved = 0;

	if (item && !cJSON_IsObject(*slot)) {
		cJSON_Delete(*slot);
		*slot = cJSON_CreateObject();
	}
	if (item && *slot) {
		if (cJSON_GetObjectItemCaseSensitive(*slot, key))
			saved = cJSON_ReplaceItemInObjectCaseSensitive(*slot, key, item);
		else
			saved = cJSON_AddItemToObject(*slot, key, item);
	}
	if (!saved) {
		cJSON_Delete(item);
		return osb_req_fail(req, OSB_ENOMEM, "out of memory saving the driver's state");
	}
	return 0;
}

int osb_request_save_instance_str(osb_request *req, const char *key, const char *value)
{
	return save_state_item(req, &req->new_instance_state, key, cJSON_CreateString(value));
}

int osb_request_save_binding_str(osb_request *req, const char *key, const char *value)
{
	return save_state_item(req, &req->new_binding_state, key, cJSON_CreateString(value));
}

int osb_request_save_binding_bool(osb_request *req, const char *key, int value)
{
	return save_state_item(req, &req->new_binding_state, key, cJSON_CreateBool(value));
}

int osb_request_set_credentials(osb_request *req, cJSON *credentials)
{
	return replace_json(&req->credentials, credentials);
}

int osb_request_set_volume_mounts(osb_request *req, cJSON *volume_mounts)
{
	return replace_json(&req->volume_mounts, volume_mounts);
}

int osb_request_set_dashboard_url(osb_request *req, const char *url)
{
	char *copy = url ? strdup(url) : NULL;
	if (url && !copy)
		return OSB_ENOMEM;
	free(req->dashboard_url);
	req->dashboard_url = copy;
	return 0;
}

int osb_request_add_endpoint(osb_request *req, const char *host, const char *ports, const char *protocol)
{
	if (!req->endpoints && !(req->endpoints = cJSON_CreateArray()))
		return OSB_ENOMEM;
	cJSON *e = cJSON_CreateObject();
	cJSON *p = cJSON_CreateArray();
	if (!e || !p || !cJSON_AddItemToArray(p, cJSON_CreateString(ports)) ||
	    !cJSON_AddStringToObject(e, "host", host) || !cJSON_AddItemToObject(e, "ports", p)) {
		cJSON_Delete(e);
		return OSB_ENOMEM;
	}
	if (protocol && !cJSON_AddStringToObject(e, "protocol", protocol)) {
		cJSON_Delete(e);
		return OSB_ENOMEM;
	}
	cJSON_AddItemToArray(req->endpoints, e);
	return 0;
}

void osb_request_set_progress(osb_request *req, const char *description)
{
	if (req->on_progress && description && *description)
		req->on_progress(description, req->progress_payload);
}
