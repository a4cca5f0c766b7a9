/* The operation engine: runs recorded operations through the driver and completes their records. */
#include "engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log_internal.h"
#include "metrics.h"
#include "crypto.h"
#include "gateway.h"
#include "record.h"
#include "request_internal.h"
#include "usage.h"

/* An operation this replica holds a lease on: queued or running. */
typedef struct owned_op {
	struct owned_op *next;
	char *id;
	int resumed; /* claimed from a crashed or stopped replica */
	int queued;  /* waiting for a worker */
} owned_op;

struct osb_engine {
	struct osb_broker *broker;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;   /* a queued op or stopping */
	pthread_cond_t keeper_cv; /* wakes the keeper early on stop */
	owned_op *owned;          /* every op we hold a lease on */
	int stopping;
	int nworkers;
	pthread_t *workers;
	pthread_t keeper;
	int keeper_started;
	osb_plan missing_plan; /* stands in for a plan removed from the catalog */
	cJSON *empty_settings;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- the owned set ---------------------------------------------------- */

static owned_op *owned_find(osb_engine *e, const char *id)
{
	for (owned_op *o = e->owned; o; o = o->next)
		if (strcmp(o->id, id) == 0)
			return o;
	return NULL;
}

/* Add an op to the owned set; with `queue`, also hand it to a worker. Caller holds mu. */
static int owned_add(osb_engine *e, const char *id, int resumed, int queue)
{
	if (owned_find(e, id))
		return 0;
	owned_op *o = calloc(1, sizeof *o);
	if (!o || !(o->id = strdup(id))) {
		free(o);
		return OSB_ENOMEM;
	}
	o->resumed = resumed;
	o->queued = queue;
	o->next = e->owned;
	e->owned = o;
	if (queue)
		pthread_cond_signal(&e->work_cv);
	return 0;
}

static void owned_remove(osb_engine *e, const char *id)
{
	pthread_mutex_lock(&e->mu);
	for (owned_op **p = &e->owned; *p; p = &(*p)->next) {
		if (strcmp((*p)->id, id) == 0) {
			owned_op *o = *p;
			*p = o->next;
			free(o->id);
			free(o);
			break;
		}
	}
	pthread_mutex_unlock(&e->mu);
}

/* ---- building the driver's request ------------------------------------ */

static cJSON *parse_or_empty(const char *json)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	return v ? v : cJSON_CreateObject();
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *json_take(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(obj, key);
	if (cJSON_IsNull(v)) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* Everything the driver reads, from the operation's saved request and the records. */
static osb_request *build_request(osb_engine *e, const osb_operation_rec *op, const osb_instance_rec *inst,
				  const osb_binding_rec *bind, cJSON *saved)
{
	osb_request *req = osb_request__new();
	if (!req)
		return NULL;
	req->kind = (osb_operation_kind)op->kind;
	req->instance_id = osb_req_strdup(req, op->instance_id);
	req->binding_id = osb_req_strdup(req, op->binding_id);
	req->service_id =
		osb_req_strdup(req, json_str(saved, "service_id") ? json_str(saved, "service_id") : inst->service_id);
	req->plan_id = osb_req_strdup(req, json_str(saved, "plan_id") ? json_str(saved, "plan_id") : inst->plan_id);
	req->previous_plan_id = osb_req_strdup(req, json_str(saved, "previous_plan_id"));
	req->plan = osb_catalog_plan(e->broker->catalog, req->plan_id);
	if (!req->plan)
		req->plan = &e->missing_plan;
	req->app_guid = osb_req_strdup(req, json_str(saved, "app_guid"));
	req->predecessor_binding_id = osb_req_strdup(req, json_str(saved, "predecessor_binding_id"));
	req->originating_identity = osb_req_strdup(req, json_str(saved, "originating_identity"));
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(saved, "expires_at");
	req->expires_at = cJSON_IsNumber(exp) ? (time_t)exp->valuedouble : 0;

	req->instance_parameters = parse_or_empty(inst->parameters);
	req->parameters = json_take(saved, "parameters");
	if (!req->parameters) {
		if (bind && (op->kind == OSB_OP_BIND || op->kind == OSB_OP_UNBIND))
			req->parameters = parse_or_empty(bind->parameters);
		else
			req->parameters = cJSON_Duplicate(req->instance_parameters, 1);
	}
	req->context = json_take(saved, "context");
	if (!req->context && inst->context)
		req->context = cJSON_Parse(inst->context);
	req->instance_state = inst->driver_state ? cJSON_Parse(inst->driver_state) : NULL;
	req->binding_state = bind && bind->driver_state ? cJSON_Parse(bind->driver_state) : NULL;
	if (!req->service_id || !req->plan_id || !req->instance_parameters || !req->parameters) {
		osb_request__free(req);
		return NULL;
	}
	return req;
}

/* ---- running the driver ------------------------------------------------- */

/* The operation that undoes a failed creation, or 0 when there is nothing to undo. */
static osb_operation_kind undo_kind(int kind)
{
	if (kind == OSB_OP_PROVISION)
		return OSB_OP_DEPROVISION;
	if (kind == OSB_OP_BIND)
		return OSB_OP_UNBIND;
	return 0;
}

typedef struct {
	osb_engine *engine;
	const char *op_id;
	const char *instance_id;
} progress_ctx;

static void save_progress(const char *description, void *payload)
{
	progress_ctx *p = payload;
	osb_store_tx *tx = NULL;
	osb_operation_rec *op = NULL;
	if (osb_store_begin(p->engine->broker->store, p->instance_id, &tx) != 0)
		return;
	if (osb_store_operation_get(tx, p->op_id, &op) == 0 && op->state == OSB_OPSTATE_IN_PROGRESS) {
		free(op->description);
		op->description = strdup(description);
		op->updated_at = now_s();
		if (op->description && osb_store_operation_put(tx, op) == 0) {
			osb_store_commit(tx);
			tx = NULL;
		}
	}
	osb_operation_rec_free(op);
	osb_store_rollback(tx);
}

/* Sleep up to `ms`, returning early (1) when the engine stops. */
static int engine_sleep(osb_engine *e, int64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->mu);
	while (!e->stopping && pthread_cond_timedwait(&e->keeper_cv, &e->mu, &until) == 0)
		;
	int stopping = e->stopping;
	pthread_mutex_unlock(&e->mu);
	return stopping;
}

static int unbind_all(osb_engine *e, const osb_operation_rec *op, osb_request *dreq);

/* run_forward's answer when the engine stops mid-retry: leave the operation to be resumed. */
#define RUN_ABANDONED 1

/* Forward run with retries while the server is unreachable (asynchronous operations only). */
static int run_forward(osb_engine *e, const osb_operation_rec *op, osb_request *req, int64_t deadline_s)
{
	int64_t backoff_ms = 1000;
	for (;;) {
		int rc = op->kind == OSB_OP_DEPROVISION ? unbind_all(e, op, req) : 0;
		if (rc == 0)
			rc = osb_gateway_run(e->broker->gateway, req);
		int transient = rc == OSB_EBACKEND || rc == OSB_ETIMEOUT;
		if (rc == 0 || !op->async || !transient)
			return rc;
		if (now_s() + backoff_ms / 1000 >= deadline_s)
			return rc;
		char msg[600];
		snprintf(msg, sizeof msg, "Waiting for the service's server: %s", req->err.msg);
		osb_request_set_progress(req, msg);
		osb_log(OSB_LOG_WARN, "operation.retry", "operation %s: %s; retrying in %lld ms", op->id, req->err.msg,
			(long long)backoff_ms);
		if (engine_sleep(e, backoff_ms))
			return RUN_ABANDONED;
		req->is_retry = 1;
		backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
	}
}

/* Before a deprovision: unbind every live binding through the driver, so that no
 * binding's credentials outlive the instance whatever the driver's deprovision does. */
typedef struct {
	char **ids;
	size_t n, cap;
	int oom;
} id_list;

static int collect_live_binding(const osb_binding_rec *rec, void *payload)
{
	id_list *l = payload;
	if (rec->state != OSB_REC_READY && rec->state != OSB_REC_DELETING)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **p = realloc(l->ids, cap * sizeof *p);
		if (!p) {
			l->oom = 1;
			return 1;
		}
		l->ids = p;
		l->cap = cap;
	}
	if (!(l->ids[l->n] = strdup(rec->id))) {
		l->oom = 1;
		return 1;
	}
	l->n++;
	return 0;
}

static int unbind_all(osb_engine *e, const osb_operation_rec *op, osb_request *dreq)
{
	osb_gateway *gw = e->broker->gateway;
	id_list l = { NULL, 0, 0, 0 };
	osb_binding_rec **binds = NULL;
	osb_instance_rec *inst = NULL;
	osb_store_tx *tx = NULL;
	/* Removing a dedicated server revokes every binding with it; without unbind nothing is revoked one by one. */
	if (osb_gateway_is_dedicated(gw, dreq) || !osb_gateway_supports(gw, OSB_OP_UNBIND))
		return 0;
	/* Read everything first: no transaction stays open while the driver works. */
	int rc = osb_store_begin(e->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_instance_get(tx, op->instance_id, &inst);
	if (rc == 0)
		rc = osb_store_binding_list(tx, op->instance_id, collect_live_binding, &l);
	if (rc == 0 && l.oom)
		rc = OSB_ENOMEM;
	if (rc == 0 && l.n && !(binds = calloc(l.n, sizeof *binds)))
		rc = OSB_ENOMEM;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = osb_store_binding_get(tx, l.ids[i], &binds[i]);
	osb_store_rollback(tx);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		osb_operation_rec bop = *op;
		bop.kind = OSB_OP_UNBIND;
		bop.binding_id = binds[i]->id;
		cJSON *saved = cJSON_CreateObject();
		osb_request *req = saved ? build_request(e, &bop, inst, binds[i], saved) : NULL;
		if (!req) {
			rc = OSB_ENOMEM;
		} else {
			req->deadline_ms = dreq->deadline_ms;
			req->is_retry = dreq->is_retry;
			rc = osb_gateway_run(gw, req);
			if (rc)
				osb_req_fail(dreq, rc, "unbinding %s first: %s", binds[i]->id, req->err.msg);
		}
		osb_request__free(req);
		cJSON_Delete(saved);
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.ids[i]);
		if (binds)
			osb_binding_rec_free(binds[i]);
	}
	free(binds);
	free(l.ids);
	osb_instance_rec_free(inst);
	return rc;
}

/* ---- completing the records --------------------------------------------- */

/* The usage record of a binding the deprovision deleted with its instance. */
typedef struct {
	const osb_catalog *catalog;
	const osb_usage_event *instance_event;
} tombstone_usage;

static int tombstoned_binding_usage(osb_store_tx *tx, const osb_binding_rec *b, int was, void *payload)
{
	const tombstone_usage *u = payload;
	osb_usage_event ev = *u->instance_event;

	/* Only bindings that were created have a "created" record to close. */
	if (was != OSB_REC_READY && was != OSB_REC_DELETING)
		return 0;
	ev.kind = OSB_USAGE_BINDING_DELETED;
	ev.binding_id = b->id;
	if (b->context)
		ev.context = b->context;
	return osb_usage__append(tx, u->catalog, &ev);
}

/*
 * Usage records of a successful operation, appended last in complete()'s
 * transaction: they commit with the change or not at all, and complete() runs
 * once per operation (it returns early when the operation already ended).
 */
static int record_usage(osb_engine *e, osb_store_tx *tx, const osb_operation_rec *op, const osb_instance_rec *inst,
			const osb_binding_rec *bind, const cJSON *saved, int64_t now)
{
	const osb_catalog *catalog = e->broker->catalog;
	osb_usage_event ev;
	memset(&ev, 0, sizeof ev);
	ev.instance_id = inst->id;
	ev.service_id = inst->service_id;
	ev.plan_id = inst->plan_id;
	ev.context = inst->context;
	ev.originating_identity = (char *)json_str(saved, "originating_identity");
	ev.operation_id = op->id;
	ev.occurred_at = now;
	switch ((osb_operation_kind)op->kind) {
	case OSB_OP_PROVISION: ev.kind = OSB_USAGE_INSTANCE_CREATED; break;
	case OSB_OP_UPDATE: {
		const char *previous = json_str(saved, "previous_plan_id");
		if (!previous || strcmp(previous, inst->plan_id) == 0)
			return 0; /* parameters or maintenance only: billing does not change */
		ev.kind = OSB_USAGE_INSTANCE_PLAN_CHANGED;
		ev.previous_plan_id = (char *)previous;
		break;
	}
	case OSB_OP_DEPROVISION: {
		tombstone_usage u = { catalog, &ev };
		int err = osb_record_tombstone_bindings(tx, inst->id, now, tombstoned_binding_usage, &u);
		if (err)
			return err;
		ev.kind = OSB_USAGE_INSTANCE_DELETED;
		break;
	}
	case OSB_OP_BIND:
	case OSB_OP_UNBIND:
		if (!bind)
			return 0;
		/* The instance's plan now, which a plan change since the bind may have changed. */
		ev.kind = op->kind == OSB_OP_BIND ? OSB_USAGE_BINDING_CREATED : OSB_USAGE_BINDING_DELETED;
		ev.binding_id = bind->id;
		if (bind->context)
			ev.context = bind->context;
		break;
	}
	return osb_usage__append(tx, catalog, &ev);
}

/* Apply the outcome of an operation to its records, in one transaction. */
static int complete(osb_engine *e, const char *op_id, const char *instance_id, osb_request *req, int rc,
		    const char *failure)
{
	osb_store_tx *tx = NULL;
	osb_operation_rec *op = NULL;
	osb_instance_rec *inst = NULL;
	osb_binding_rec *bind = NULL;
	cJSON *saved = NULL;
	int err = osb_store_begin(e->broker->store, instance_id, &tx);
	if (err)
		goto done;
	if ((err = osb_store_operation_get(tx, op_id, &op)))
		goto done;
	if (op->state != OSB_OPSTATE_IN_PROGRESS)
		goto done; /* completed elsewhere (another replica took it over) */
	if ((err = osb_store_instance_get(tx, op->instance_id, &inst)))
		goto done;
	if (op->binding_id && (err = osb_store_binding_get(tx, op->binding_id, &bind)))
		goto done;
	saved = parse_or_empty(op->request);
	int64_t now = now_s();
	int ok = rc == 0;

	switch ((osb_operation_kind)op->kind) {
	case OSB_OP_PROVISION:
		inst->state = ok ? OSB_REC_READY : OSB_REC_CREATE_FAILED;
		if (ok) {
			osb_record_set_json(&inst->driver_state, req->new_instance_state);
			if (req->dashboard_url)
				osb_record_set_str(&inst->dashboard_url, req->dashboard_url);
		}
		break;
	case OSB_OP_UPDATE:
		if (ok) {
			const cJSON *params = cJSON_GetObjectItemCaseSensitive(saved, "merged_parameters");
			const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(saved, "context");
			osb_record_set_str(&inst->plan_id, req->plan_id);
			if (cJSON_IsObject(params))
				osb_record_set_json(&inst->parameters, params);
			if (cJSON_IsObject(ctx))
				osb_record_set_json(&inst->context, ctx);
			if (json_str(saved, "maintenance_version"))
				osb_record_set_str(&inst->maintenance_version, json_str(saved, "maintenance_version"));
			if (req->new_instance_state)
				osb_record_set_json(&inst->driver_state, req->new_instance_state);
			if (req->dashboard_url)
				osb_record_set_str(&inst->dashboard_url, req->dashboard_url);
		}
		break;
	case OSB_OP_DEPROVISION:
		inst->state = ok ? OSB_REC_DELETED : OSB_REC_READY;
		if (ok)
			osb_record_set_str(&inst->driver_state, NULL); /* its bindings are deleted in record_usage() */
		break;
	case OSB_OP_BIND:
		if (!bind)
			break;
		bind->state = ok ? OSB_REC_READY : OSB_REC_CREATE_FAILED;
		if (ok) {
			char *creds = req->credentials ? cJSON_PrintUnformatted(req->credentials) : strdup("{}");
			osb_crypto_wipe_set(&bind->credentials, creds);
			osb_record_set_json(&bind->driver_state, req->new_binding_state);
			cJSON *extras = cJSON_CreateObject();
			if (extras && req->endpoints)
				cJSON_AddItemReferenceToObject(extras, "endpoints", req->endpoints);
			if (extras && req->volume_mounts)
				cJSON_AddItemReferenceToObject(extras, "volume_mounts", req->volume_mounts);
			osb_record_set_json(&bind->response_extras, extras);
			cJSON_Delete(extras);
		}
		break;
	case OSB_OP_UNBIND:
		if (!bind)
			break;
		bind->state = ok ? OSB_REC_DELETED : OSB_REC_READY;
		if (ok) {
			osb_crypto_wipe_set(&bind->credentials, NULL);
			osb_record_set_str(&bind->driver_state, NULL);
		}
		break;
	}
	op->state = ok ? OSB_OPSTATE_SUCCEEDED : OSB_OPSTATE_FAILED;
	osb_record_set_str(&op->description, ok ? NULL : failure);
	if (!ok && op->kind == OSB_OP_UPDATE) {
		op->instance_usable = 1;
		op->update_repeatable =
			rc == OSB_EBADREQUEST || rc == OSB_EUNSUPPORTED || rc == OSB_EUNPROCESSABLE ? 0 : 1;
	}
	osb_record_set_str(&op->owner, NULL);
	op->updated_at = now;
	inst->updated_at = now;
	if ((err = osb_store_instance_put(tx, inst)))
		goto done;
	if (bind) {
		bind->updated_at = now;
		if ((err = osb_store_binding_put(tx, bind)))
			goto done;
	}
	if ((err = osb_store_operation_put(tx, op)))
		goto done;
	if (ok && (err = record_usage(e, tx, op, inst, bind, saved, now)))
		goto done;
	err = osb_store_commit(tx);
	tx = NULL;
	if (!err)
		osb_metrics_operation(op->kind, ok);
done:
	osb_store_rollback(tx);
	cJSON_Delete(saved);
	osb_operation_rec_free(op);
	osb_instance_rec_free(inst);
	osb_binding_rec_free(bind);
	return err;
}

static const char *const kind_names[] = { "", "provision", "update", "deprovision", "bind", "unbind" };

/* Run one operation to its end and record the outcome. */
static osb_op_outcome run_operation(osb_engine *e, const char *op_id, int resumed)
{
	osb_op_outcome out = { 0, NULL };
	osb_store_tx *tx = NULL;
	osb_operation_rec *op = NULL;
	osb_instance_rec *inst = NULL;
	osb_binding_rec *bind = NULL;
	osb_request *req = NULL;
	cJSON *saved = NULL;
	char failure[1200];
	int rc = osb_store_begin(e->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_operation_get(tx, op_id, &op);
	if (rc == 0 && op->state != OSB_OPSTATE_IN_PROGRESS) {
		/* already finished: report how */
		out.code = op->state == OSB_OPSTATE_SUCCEEDED ? 0 : OSB_ERROR;
		out.description = op->description ? strdup(op->description) : NULL;
		goto done;
	}
	if (rc == 0)
		rc = osb_store_instance_get(tx, op->instance_id, &inst);
	if (rc == 0 && op->binding_id)
		rc = osb_store_binding_get(tx, op->binding_id, &bind);
	osb_store_rollback(tx);
	tx = NULL;
	if (rc) {
		out.code = rc;
		out.description = strdup("cannot read the operation's records from the state store");
		goto done;
	}
	saved = parse_or_empty(op->request);
	osb_log__set_request_id(json_str(saved, "request_id"));
	req = build_request(e, op, inst, bind, saved);
	if (!req) {
		out.code = OSB_ENOMEM;
		out.description = strdup("out of memory");
		goto done;
	}
	progress_ctx pctx = { e, op->id, op->instance_id };
	req->on_progress = save_progress;
	req->progress_payload = &pctx;
	req->is_retry = resumed;
	int64_t deadline_s = op->deadline_at ? op->deadline_at : now_s() + e->broker->config->sync_timeout_s;
	req->deadline_ms = osb_clock_ms() + (deadline_s - now_s()) * 1000;

	osb_operation_kind undo = undo_kind(op->kind);
	if (resumed && !op->async && undo) {
		/* A synchronous creation whose client never got an answer: undo it. */
		snprintf(failure, sizeof failure, "The broker restarted during this %s; it was rolled back.",
			 kind_names[op->kind]);
		rc = OSB_ERROR;
	} else if (now_s() >= deadline_s) {
		snprintf(failure, sizeof failure, "The %s did not finish before its deadline.", kind_names[op->kind]);
		rc = OSB_ETIMEOUT;
	} else {
		osb_log(OSB_LOG_INFO, "operation.start", "%s %s of instance %s%s%s", resumed ? "resuming" : "running",
			kind_names[op->kind], op->instance_id, op->binding_id ? " binding " : "",
			op->binding_id ? op->binding_id : "");
		rc = run_forward(e, op, req, deadline_s);
		if (rc == RUN_ABANDONED) {
			out.code = OSB_EUNAVAILABLE;
			out.description = strdup("The broker is shutting down; the operation will be resumed.");
			goto done;
		}
		if (rc)
			snprintf(failure, sizeof failure, "%s", req->err.msg[0] ? req->err.msg : osb_strerror(rc));
	}
	if (rc && undo) {
		osb_errbuf why = req->err;
		osb_operation_kind kind = req->kind;
		req->kind = undo;
		/* What is left of the operation's time, but at least min(sync_s, 10 s) to undo: a
		 * synchronous client still gets its answer before platforms give up (60 s). */
		int64_t undo_ms = (int64_t)e->broker->config->sync_timeout_s * 1000;
		int64_t floor_ms = osb_clock_ms() + (undo_ms < 10000 ? undo_ms : 10000);
		if (req->deadline_ms < floor_ms)
			req->deadline_ms = floor_ms;
		if (osb_gateway_run(e->broker->gateway, req) != 0)
			osb_log(OSB_LOG_ERROR, "operation.rollback_failed",
				"rolling back %s of instance %s failed: %s; the reconciler will report the leftovers",
				kind_names[op->kind], op->instance_id, req->err.msg);
		req->kind = kind;
		req->err = why;
	}
	if (complete(e, op->id, op->instance_id, req, rc, failure) != 0) {
		/* Not recorded: the lease will lapse and the operation be resumed. Never claim success. */
		osb_log(OSB_LOG_ERROR, "operation.unrecorded", "cannot record the end of operation %s", op->id);
		out.code = rc ? rc : OSB_EBACKEND;
		out.description =
			strdup("The outcome could not be saved in the broker's state store; it will be retried.");
		goto done;
	}
	osb_log(rc ? OSB_LOG_WARN : OSB_LOG_INFO, "operation.end", "%s of instance %s %s%s%s", kind_names[op->kind],
		op->instance_id, rc ? "failed: " : "succeeded", rc ? failure : "", "");
	out.code = rc;
	out.description = rc ? strdup(failure) : NULL;
done:
	osb_log__set_request_id(NULL);
	osb_store_rollback(tx);
	osb_request__free(req);
	cJSON_Delete(saved);
	osb_operation_rec_free(op);
	osb_instance_rec_free(inst);
	osb_binding_rec_free(bind);
	return out;
}

osb_op_outcome osb_engine_run_inline(osb_engine *e, const char *op_id)
{
	pthread_mutex_lock(&e->mu);
	int rc = owned_add(e, op_id, 0, 0);
	pthread_mutex_unlock(&e->mu);
	if (rc) {
		osb_op_outcome out = { OSB_ENOMEM, strdup("out of memory") };
		return out;
	}
	osb_op_outcome out = run_operation(e, op_id, 0);
	owned_remove(e, op_id);
	return out;
}

int osb_engine_submit(osb_engine *e, const char *op_id)
{
	pthread_mutex_lock(&e->mu);
	int rc = owned_add(e, op_id, 0, 1);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

/* ---- threads ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	osb_engine *e = arg;
	for (;;) {
		pthread_mutex_lock(&e->mu);
		owned_op *job = NULL;
		while (!e->stopping) {
			for (owned_op *o = e->owned; o; o = o->next)
				if (o->queued)
					job = o;
			if (job)
				break;
			pthread_cond_wait(&e->work_cv, &e->mu);
		}
		if (e->stopping) {
			pthread_mutex_unlock(&e->mu);
			return NULL;
		}
		job->queued = 0;
		char *id = strdup(job->id);
		int resumed = job->resumed;
		pthread_mutex_unlock(&e->mu);
		if (!id)
			continue;
		osb_op_outcome out = run_operation(e, id, resumed);
		free(out.description);
		owned_remove(e, id);
		free(id);
	}
}

static int claim_cb(const osb_operation_rec *op, void *payload)
{
	osb_engine *e = payload;
	pthread_mutex_lock(&e->mu);
	if (!owned_find(e, op->id)) {
		osb_log(OSB_LOG_INFO, "operation.claimed", "taking over unfinished %s operation %s of instance %s",
			op->kind >= 1 && op->kind <= 5 ? kind_names[op->kind] : "?", op->id, op->instance_id);
		owned_add(e, op->id, 1, 1);
	}
	pthread_mutex_unlock(&e->mu);
	return 0;
}

/* Renews the leases of every owned operation and claims abandoned ones. */
static void *keeper_main(void *arg)
{
	osb_engine *e = arg;
	const char *me = e->broker->config->replica_id;
	for (;;) {
		/* renew */
		pthread_mutex_lock(&e->mu);
		size_t n = 0;
		for (owned_op *o = e->owned; o; o = o->next)
			n++;
		char **ids = calloc(n + 1, sizeof *ids);
		size_t i = 0;
		for (owned_op *o = e->owned; ids && o; o = o->next)
			ids[i++] = strdup(o->id);
		pthread_mutex_unlock(&e->mu);
		for (i = 0; ids && i < n; i++) {
			if (ids[i] &&
			    osb_store_operation_renew(e->broker->store, ids[i], me, OSB_LEASE_SECONDS) == OSB_ENOTFOUND)
				osb_log(OSB_LOG_WARN, "operation.lease_lost", "lost the lease on operation %s", ids[i]);
			free(ids[i]);
		}
		free(ids);
		/* claim what nobody runs */
		osb_store_operation_claim(e->broker->store, me, OSB_LEASE_SECONDS, claim_cb, e);
		if (engine_sleep(e, OSB_LEASE_SECONDS * 1000 / 5))
			return NULL;
	}
}

int osb_engine_start(osb_engine **out, struct osb_broker *broker)
{
	osb_engine *e = calloc(1, sizeof *e);
	if (!e)
		return OSB_ENOMEM;
	e->broker = broker;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->work_cv, NULL);
	pthread_cond_init(&e->keeper_cv, NULL);
	e->empty_settings = cJSON_CreateObject();
	e->missing_plan.id = "";
	e->missing_plan.name = "(removed from catalog)";
	e->missing_plan.settings = e->empty_settings;
	e->nworkers = broker->config->workers;
	e->workers = calloc((size_t)e->nworkers, sizeof *e->workers);
	if (!e->workers || !e->empty_settings) {
		osb_engine_stop(e);
		return OSB_ENOMEM;
	}
	for (int i = 0; i < e->nworkers; i++) {
		if (pthread_create(&e->workers[i], NULL, worker_main, e) != 0) {
			e->nworkers = i;
			osb_engine_stop(e);
			return OSB_ERROR;
		}
	}
	if (pthread_create(&e->keeper, NULL, keeper_main, e) != 0) {
		osb_engine_stop(e);
		return OSB_ERROR;
	}
	e->keeper_started = 1;
	*out = e;
	return 0;
}

void osb_engine_stop(osb_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = 1;
	pthread_cond_broadcast(&e->work_cv);
	pthread_cond_broadcast(&e->keeper_cv);
	pthread_mutex_unlock(&e->mu);
	for (int i = 0; i < e->nworkers; i++)
		pthread_join(e->workers[i], NULL);
	if (e->keeper_started)
		pthread_join(e->keeper, NULL);
	while (e->owned) {
		owned_op *o = e->owned;
		e->owned = o->next;
		free(o->id);
		free(o);
	}
	free(e->workers);
	cJSON_Delete(e->empty_settings);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->work_cv);
	pthread_cond_destroy(&e->keeper_cv);
	free(e);
}
