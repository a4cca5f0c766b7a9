/* Handlers of /v2/service_instances/:instance_id and its last_operation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_common.h"
#include "request_internal.h"
#include "osb/log.h"
#include "gateway.h"
#include "quota.h"
#include "record.h"

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Whether a record counts as existing (not a tombstone, not a rolled-back creation). */
static int instance_exists(const osb_instance_rec *inst)
{
	return inst && inst->state != OSB_REC_DELETED && inst->state != OSB_REC_CREATE_FAILED;
}

/* Whether the instance's last operation is still running. */
static int op_running(osb_store_tx *tx, const char *op_id, osb_operation_rec **out)
{
	osb_operation_rec *op = NULL;
	*out = NULL;
	if (!op_id || osb_store_operation_get(tx, op_id, &op) != 0)
		return 0;
	if (op->state != OSB_OPSTATE_IN_PROGRESS) {
		osb_operation_rec_free(op);
		return 0;
	}
	*out = op;
	return 1;
}

/* The maintenance_info check of provision and update: 422 when the version is not the plan's. */
static int check_maintenance(osb_http *h, const cJSON *body, const osb_plan *plan, const char **version_out)
{
	const cJSON *mi;
	*version_out = NULL;
	if (osb_api_object(h, body, "maintenance_info", &mi))
		return -1;
	if (!mi)
		return 0;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(mi, "version");
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "maintenance_info.version must be a non-empty string");
		return -1;
	}
	if (!plan->maintenance_version || strcmp(plan->maintenance_version, v->valuestring) != 0) {
		osb_http_fail(h, OSB_EMAINTENANCEINFO, 0,
			      "The maintenance information for the requested Service Plan has changed: it is %s.",
			      plan->maintenance_version ? plan->maintenance_version : "not set");
		return -1;
	}
	*version_out = v->valuestring;
	return 0;
}

/* Answer 422 QuotaExceeded (or the store's failure) when the plan or the broker has no room left. */
static int quota_refused(osb_http *h, osb_store_tx *tx, const osb_plan *plan, int new_instance)
{
	char msg[300] = "";
	int rc = osb_quota_check(tx, h->broker->config, plan, new_instance, msg, sizeof msg);
	if (rc == OSB_EQUOTA)
		osb_http_fail(h, OSB_EQUOTA, 0, "%s", msg);
	else if (rc)
		osb_api_store_failed(h, rc);
	return rc != 0;
}

static void send_instance_created(osb_http *h, int status, const osb_instance_rec *inst)
{
	cJSON *body = cJSON_CreateObject();
	if (inst->dashboard_url)
		cJSON_AddStringToObject(body, "dashboard_url", inst->dashboard_url);
	osb_api_add_json(body, "metadata", inst->metadata);
	osb_http_send_json(h, status, body, NULL);
	cJSON_Delete(body);
}

/*
 * A finished provision answered from its record. The instance exists even if the record
 * cannot be read now: the answer is then an empty body with the same status.
 */
static void send_provisioned_with(osb_http *h, int status)
{
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_instance_get(tx, h->instance_id, &inst);
	osb_store_rollback(tx);
	if (rc == 0)
		send_instance_created(h, status, inst);
	else
		osb_http_send_json(h, status, NULL, NULL);
	osb_instance_rec_free(inst);
}

/* A provision that finished inline: 201. */
static void send_provisioned(osb_http *h)
{
	send_provisioned_with(h, 201);
}

/* A re-sent provision whose first copy finished while it waited: 200, as for an identical repeat. */
static void send_provisioned_again(osb_http *h)
{
	send_provisioned_with(h, 200);
}

/* Ask the driver for the dashboard URL before provisioning, so the first answer (even a 202) has it. */
static int early_dashboard_url(osb_http *h, const osb_plan *plan, const cJSON *params, char **out)
{
	struct osb_broker *b = h->broker;
	osb_request *req = osb_request__new();
	int rc = OSB_ENOMEM;
	if (!req)
		return rc;
	req->kind = OSB_OP_PROVISION;
	req->instance_id = osb_req_strdup(req, h->instance_id);
	req->service_id = osb_req_strdup(req, plan->service->id);
	req->plan_id = osb_req_strdup(req, plan->id);
	req->plan = plan;
	req->parameters = cJSON_Duplicate(params, 1);
	req->instance_parameters = cJSON_Duplicate(params, 1);
	req->deadline_ms = osb_clock_ms() + 1000;
	if (req->instance_id && req->service_id && req->plan_id && req->parameters && req->instance_parameters)
		rc = osb_gateway_dashboard_url(b->gateway, req, out);
	osb_request__free(req);
	return rc;
}

void osb_api_instance_put(osb_http *h)
{
	struct osb_broker *b = h->broker;
	const char *service_id, *plan_id, *org, *space, *mversion;
	const cJSON *context, *given_params;
	cJSON *params = NULL, *attrs = NULL, *saved = NULL;
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL, fresh;
	osb_operation_rec *op = NULL;
	char fp[65], op_id[OSB_OP_ID_SIZE];
	char *dashboard = NULL;
	int rc, async = 0;
	memset(&fresh, 0, sizeof fresh);

	int incomplete = osb_http_accepts_incomplete(h);
	if (incomplete < 0)
		return;
	cJSON *body = osb_http_parse_body(h);
	if (!body)
		return;
	if (osb_api_string(h, body, "service_id", 1, &service_id) || osb_api_string(h, body, "plan_id", 1, &plan_id) ||
	    osb_api_string(h, body, "organization_guid", 1, &org) || osb_api_string(h, body, "space_guid", 1, &space) ||
	    osb_api_object(h, body, "context", &context) || osb_api_object(h, body, "parameters", &given_params))
		goto done;
	const osb_service *service = osb_catalog_service(b->catalog, service_id);
	const osb_plan *plan = osb_catalog_plan(b->catalog, plan_id);
	if (!service) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "service_id %.*s is not in this broker's catalog",
			      OSB_HTTP_CUT(service_id, 64));
		goto done;
	}
	if (!plan || plan->service != service) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "plan_id %.*s is not a plan of service %s",
			      OSB_HTTP_CUT(plan_id, 64), service->name);
		goto done;
	}
	if (check_maintenance(h, body, plan, &mversion))
		goto done;
	params = given_params ? cJSON_Duplicate(given_params, 1) : cJSON_CreateObject();
	if (!params) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	if (osb_api_validate_parameters(h, plan->create_schema, params))
		goto done;
	async = plan->async;
	if (async && !incomplete) {
		osb_http_fail(h, OSB_EASYNCREQUIRED, 0,
			      "This Service Plan requires client support for asynchronous service operations.");
		goto done;
	}
	attrs = cJSON_CreateObject();
	cJSON_AddStringToObject(attrs, "service_id", service_id);
	cJSON_AddStringToObject(attrs, "plan_id", plan_id);
	cJSON_AddStringToObject(attrs, "organization_guid", org);
	cJSON_AddStringToObject(attrs, "space_guid", space);
	cJSON_AddItemToObject(attrs, "parameters",
			      given_params ? cJSON_Duplicate(given_params, 1) : cJSON_CreateObject());
	if (osb_api_fingerprint(fp, attrs)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "parameters are nested too deeply");
		goto done;
	}

	if ((rc = osb_store_begin(b->store, h->instance_id, &tx))) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (instance_exists(inst)) {
		if (strcmp(inst->fingerprint ? inst->fingerprint : "", fp) != 0) {
			osb_http_fail(h, OSB_ECONFLICT, 0, "instance %s already exists with different attributes",
				      h->instance_id);
		} else if (inst->state == OSB_REC_READY) {
			send_instance_created(h, 200, inst);
		} else if (inst->state == OSB_REC_CREATING) {
			osb_store_rollback(tx);
			tx = NULL;
			osb_api_answer_resent(h, inst->op_id, OSB_OP_PROVISION, incomplete, inst->dashboard_url,
					      send_provisioned_again);
		} else {
			osb_http_fail(h, OSB_ECONCURRENCY, 0,
				      "Another operation for this Service Instance is in progress.");
		}
		goto done;
	}
	if (quota_refused(h, tx, plan, 1))
		goto done;

	osb_api_new_op_id(op_id);
	saved = osb_api_saved_request(h);
	cJSON_AddStringToObject(saved, "service_id", service_id);
	cJSON_AddStringToObject(saved, "plan_id", plan_id);
	cJSON_AddItemToObject(saved, "parameters", cJSON_Duplicate(params, 1));
	if (context)
		cJSON_AddItemToObject(saved, "context", cJSON_Duplicate(context, 1));
	op = osb_api_new_operation(h, OSB_OP_PROVISION, h->instance_id, NULL, async, osb_api_deadline(h, plan, async),
				   saved, op_id);
	int64_t now = now_s();
	fresh.id = h->instance_id;
	fresh.service_id = (char *)service_id;
	fresh.plan_id = (char *)plan_id;
	fresh.parameters = cJSON_PrintUnformatted(params);
	fresh.context = context ? cJSON_PrintUnformatted(context) : NULL;
	fresh.maintenance_version = (char *)plan->maintenance_version;
	fresh.fingerprint = fp;
	fresh.state = OSB_REC_CREATING;
	fresh.op_id = op_id;
	fresh.created_at = now;
	fresh.updated_at = now;
	if (!op || !fresh.parameters) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	if ((rc = early_dashboard_url(h, plan, params, &dashboard)) != 0) {
		osb_http_fail(h, rc, 0, "cannot make the dashboard URL of instance %s", h->instance_id);
		goto done;
	}
	fresh.dashboard_url = dashboard;
	if ((rc = osb_store_instance_put(tx, &fresh)) || (rc = osb_store_operation_put(tx, op)) ||
	    (rc = osb_store_commit(tx))) {
		tx = NULL;
		osb_api_store_failed(h, rc);
		goto done;
	}
	tx = NULL;
	osb_api_start_operation(h, op_id, OSB_OP_PROVISION, async, dashboard, send_provisioned);
done:
	osb_store_rollback(tx);
	free(dashboard);
	free(fresh.parameters);
	free(fresh.context);
	osb_instance_rec_free(inst);
	osb_operation_rec_free(op);
	cJSON_Delete(saved);
	cJSON_Delete(attrs);
	cJSON_Delete(params);
	cJSON_Delete(body);
}

/* A shallow merge: the new parameters replace the old ones key by key. */
static cJSON *merge_parameters(const char *old_json, const cJSON *given)
{
	cJSON *merged = old_json ? cJSON_Parse(old_json) : NULL;
	if (!cJSON_IsObject(merged)) {
		cJSON_Delete(merged);
		merged = cJSON_CreateObject();
	}
	for (const cJSON *c = given ? given->child : NULL; merged && c; c = c->next) {
		cJSON_DeleteItemFromObjectCaseSensitive(merged, c->string);
		cJSON_AddItemToObject(merged, c->string, cJSON_Duplicate(c, 1));
	}
	return merged;
}

void osb_api_instance_patch(osb_http *h)
{
	struct osb_broker *b = h->broker;
	const char *service_id, *plan_id, *mversion;
	const cJSON *context, *given_params, *previous;
	cJSON *params = NULL, *attrs = NULL, *saved = NULL, *merged = NULL;
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_operation_rec *op = NULL, *running = NULL;
	char fp[65], op_id[OSB_OP_ID_SIZE];
	int rc;

	int incomplete = osb_http_accepts_incomplete(h);
	if (incomplete < 0)
		return;
	cJSON *body = osb_http_parse_body(h);
	if (!body)
		return;
	if (osb_api_string(h, body, "service_id", 1, &service_id) || osb_api_string(h, body, "plan_id", 0, &plan_id) ||
	    osb_api_object(h, body, "context", &context) || osb_api_object(h, body, "parameters", &given_params) ||
	    osb_api_object(h, body, "previous_values", &previous))
		goto done;
	if ((rc = osb_store_begin(b->store, h->instance_id, &tx))) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (!instance_exists(inst)) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "instance %s does not exist", h->instance_id);
		goto done;
	}
	if (strcmp(inst->service_id, service_id) != 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "service_id %.*s is not the service of instance %s",
			      OSB_HTTP_CUT(service_id, 64), h->instance_id);
		goto done;
	}
	const osb_plan *current = osb_catalog_plan(b->catalog, inst->plan_id);
	const osb_plan *target = plan_id ? osb_catalog_plan(b->catalog, plan_id) : current;
	if (!target || strcmp(target->service->id, service_id) != 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "plan_id %.*s is not a plan of this service",
			      OSB_HTTP_CUT(plan_id ? plan_id : inst->plan_id, 64));
		goto done;
	}
	if (check_maintenance(h, body, target, &mversion))
		goto done;
	params = given_params ? cJSON_Duplicate(given_params, 1) : NULL;
	if (params && target->update_schema) {
		char err[512];
		rc = osb_schema_validate(target->update_schema, params, 0, "parameters", err, sizeof err);
		if (rc) {
			osb_http_fail(h, OSB_EBADREQUEST, 0, "invalid parameters: %s", err);
			goto done;
		}
	}
	attrs = cJSON_CreateObject();
	cJSON_AddStringToObject(attrs, "plan_id", target->id);
	if (given_params)
		cJSON_AddItemToObject(attrs, "parameters", cJSON_Duplicate(given_params, 1));
	if (mversion)
		cJSON_AddStringToObject(attrs, "maintenance_version", mversion);
	if (osb_api_fingerprint(fp, attrs)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "parameters are nested too deeply");
		goto done;
	}
	/* An asynchronous plan runs every update asynchronously, even one that changes nothing. */
	int async = target->async || (current && current->async);
	if (async && !incomplete) {
		osb_http_fail(h, OSB_EASYNCREQUIRED, 0,
			      "This Service Plan requires client support for asynchronous service operations.");
		goto done;
	}
	if (inst->state != OSB_REC_READY || op_running(tx, inst->op_id, &running)) {
		cJSON *rs = running ? cJSON_Parse(running->request) : NULL;
		const cJSON *rfp = cJSON_GetObjectItemCaseSensitive(rs, "fingerprint");
		int resent = running && running->kind == OSB_OP_UPDATE && cJSON_IsString(rfp) &&
			     strcmp(rfp->valuestring, fp) == 0;
		cJSON_Delete(rs);
		if (resent) {
			osb_store_rollback(tx);
			tx = NULL;
			osb_api_answer_resent(h, running->id, OSB_OP_UPDATE, incomplete, NULL, NULL);
		} else {
			osb_http_fail(h, OSB_ECONCURRENCY, 0,
				      "Another operation for this Service Instance is in progress.");
		}
		goto done;
	}
	int plan_change = strcmp(target->id, inst->plan_id) != 0;
	if (plan_change && !(current ? current->plan_updateable : 1)) {
		osb_http_send_error(h, OSB_EUNPROCESSABLE, 0, "this plan cannot be changed to another plan", 1, 0);
		goto done;
	}
	if (plan_change && current && current->dedicated != target->dedicated) {
		osb_http_fail(
			h, OSB_EBADREQUEST, 0,
			"instance %s cannot move from the %s plan %s to the %s plan %s: its data would have to move "
			"to another server. Create a new instance of plan %s instead.",
			h->instance_id, current->dedicated ? "dedicated" : "shared", current->name,
			target->dedicated ? "dedicated" : "shared", target->name, target->name);
		goto done;
	}
	if (plan_change && quota_refused(h, tx, target, 0))
		goto done;
	int maintenance_change =
		mversion && (!inst->maintenance_version || strcmp(mversion, inst->maintenance_version));
	int param_change = params && params->child;
	int can_update = osb_gateway_supports(b->gateway, OSB_OP_UPDATE);
	if (!can_update && (plan_change || param_change)) {
		osb_http_send_error(h, OSB_EUNPROCESSABLE, 0, "this service does not support updates", 1, 0);
		goto done;
	}
	if (!plan_change && !param_change && (!maintenance_change || !can_update)) {
		/* Nothing for the server to do: record context and maintenance version, answer 200, or on an
		 * asynchronous plan 202 with an operation that has already succeeded. */
		int64_t now = now_s();
		if (context)
			osb_record_set_json(&inst->context, context);
		if (maintenance_change)
			osb_record_set_str(&inst->maintenance_version, mversion);
		inst->updated_at = now;
		if (async) {
			osb_api_new_op_id(op_id);
			saved = osb_api_saved_request(h);
			cJSON_AddStringToObject(saved, "fingerprint", fp);
			op = osb_api_new_operation(h, OSB_OP_UPDATE, h->instance_id, NULL, 1, 0, saved, op_id);
			if (!op) {
				osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
				goto done;
			}
			osb_record_set_str(&inst->op_id, op_id);
			op->state = OSB_OPSTATE_SUCCEEDED;
			osb_record_set_str(&op->owner, NULL);
			op->lease_until = 0;
		}
		if ((rc = osb_store_instance_put(tx, inst)) || (op && (rc = osb_store_operation_put(tx, op))) ||
		    (rc = osb_store_commit(tx))) {
			tx = NULL;
			osb_api_store_failed(h, rc);
			goto done;
		}
		tx = NULL;
		if (op)
			osb_api_send_accepted(h, op_id, NULL);
		else
			osb_http_send_json(h, 200, NULL, NULL);
		goto done;
	}
	merged = merge_parameters(inst->parameters, params);
	osb_api_new_op_id(op_id);
	saved = osb_api_saved_request(h);
	cJSON_AddStringToObject(saved, "service_id", service_id);
	cJSON_AddStringToObject(saved, "plan_id", target->id);
	cJSON_AddStringToObject(saved, "previous_plan_id", inst->plan_id);
	if (params)
		cJSON_AddItemToObject(saved, "parameters", cJSON_Duplicate(params, 1));
	cJSON_AddItemToObject(saved, "merged_parameters", merged);
	merged = NULL;
	if (context)
		cJSON_AddItemToObject(saved, "context", cJSON_Duplicate(context, 1));
	if (target->maintenance_version)
		cJSON_AddStringToObject(saved, "maintenance_version", target->maintenance_version);
	cJSON_AddStringToObject(saved, "fingerprint", fp);
	op = osb_api_new_operation(h, OSB_OP_UPDATE, h->instance_id, NULL, async, osb_api_deadline(h, target, async),
				   saved, op_id);
	if (!op) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	osb_record_set_str(&inst->op_id, op_id);
	inst->updated_at = now_s();
	if ((rc = osb_store_instance_put(tx, inst)) || (rc = osb_store_operation_put(tx, op)) ||
	    (rc = osb_store_commit(tx))) {
		tx = NULL;
		osb_api_store_failed(h, rc);
		goto done;
	}
	tx = NULL;
	osb_api_start_operation(h, op_id, OSB_OP_UPDATE, async, NULL, NULL);
done:
	osb_store_rollback(tx);
	osb_instance_rec_free(inst);
	osb_operation_rec_free(op);
	osb_operation_rec_free(running);
	cJSON_Delete(saved);
	cJSON_Delete(merged);
	cJSON_Delete(attrs);
	cJSON_Delete(params);
	cJSON_Delete(body);
}

typedef struct {
	int busy;
	int live;
} binding_census;

static int count_bindings(const osb_binding_rec *rec, void *payload)
{
	binding_census *c = payload;
	if (rec->state == OSB_REC_CREATING || rec->state == OSB_REC_DELETING)
		c->busy++;
	if (rec->state == OSB_REC_READY)
		c->live++;
	return 0;
}

void osb_api_instance_delete(osb_http *h)
{
	struct osb_broker *b = h->broker;
	char service_id[OSB_ID_MAX + 1], plan_id[OSB_ID_MAX + 1], op_id[OSB_OP_ID_SIZE];
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_operation_rec *op = NULL, *running = NULL;
	cJSON *saved = NULL;
	int rc;

	int incomplete = osb_http_accepts_incomplete(h);
	if (incomplete < 0)
		return;
	if (osb_api_required_query(h, "service_id", service_id, sizeof service_id) ||
	    osb_api_required_query(h, "plan_id", plan_id, sizeof plan_id))
		return;
	if ((rc = osb_store_begin(b->store, h->instance_id, &tx))) {
		osb_api_store_failed(h, rc);
		return;
	}
	rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (!instance_exists(inst)) {
		osb_http_send_json(h, 410, NULL, NULL);
		goto done;
	}
	if (strcmp(inst->service_id, service_id) != 0 || strcmp(inst->plan_id, plan_id) != 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "service_id and plan_id must be those of instance %s",
			      h->instance_id);
		goto done;
	}
	const osb_plan *plan = osb_catalog_plan(b->catalog, inst->plan_id);
	int async = plan && plan->async;
	if (async && !incomplete) {
		osb_http_fail(h, OSB_EASYNCREQUIRED, 0,
			      "This Service Plan requires client support for asynchronous service operations.");
		goto done;
	}
	if (inst->state == OSB_REC_DELETING && op_running(tx, inst->op_id, &running)) {
		/* A re-sent DELETE: 202 (or, synchronously, how it ends), whoever runs it. */
		osb_store_rollback(tx);
		tx = NULL;
		osb_api_answer_resent(h, running->id, OSB_OP_DEPROVISION, incomplete, NULL, NULL);
		goto done;
	}
	if (inst->state != OSB_REC_READY || op_running(tx, inst->op_id, &running)) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0, "Another operation for this Service Instance is in progress.");
		goto done;
	}
	binding_census census = { 0, 0 };
	if ((rc = osb_store_binding_list(tx, h->instance_id, count_bindings, &census))) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (census.busy) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0,
			      "A binding of this Service Instance is being created or deleted.");
		goto done;
	}
	osb_api_new_op_id(op_id);
	saved = osb_api_saved_request(h);
	op = osb_api_new_operation(h, OSB_OP_DEPROVISION, h->instance_id, NULL, async, osb_api_deadline(h, plan, async),
				   saved, op_id);
	if (!op) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	inst->state = OSB_REC_DELETING;
	osb_record_set_str(&inst->op_id, op_id);
	inst->updated_at = now_s();
	if ((rc = osb_store_instance_put(tx, inst)) || (rc = osb_store_operation_put(tx, op)) ||
	    (rc = osb_store_commit(tx))) {
		tx = NULL;
		osb_api_store_failed(h, rc);
		goto done;
	}
	tx = NULL;
	osb_api_start_operation(h, op_id, OSB_OP_DEPROVISION, async, NULL, NULL);
done:
	osb_store_rollback(tx);
	osb_instance_rec_free(inst);
	osb_operation_rec_free(op);
	osb_operation_rec_free(running);
	cJSON_Delete(saved);
}

void osb_api_instance_get(osb_http *h)
{
	char hint[OSB_ID_MAX + 1];
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_operation_rec *running = NULL;
	if (osb_api_optional_query(h, "service_id", hint, sizeof hint) < 0 ||
	    osb_api_optional_query(h, "plan_id", hint, sizeof hint) < 0)
		return;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (!instance_exists(inst) || inst->state == OSB_REC_CREATING) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "instance %s does not exist or is still being provisioned",
			      h->instance_id);
		goto done;
	}
	if (inst->state == OSB_REC_DELETING || op_running(tx, inst->op_id, &running)) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0, "The Service Instance is being updated or deleted.");
		goto done;
	}
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "service_id", inst->service_id);
	cJSON_AddStringToObject(body, "plan_id", inst->plan_id);
	if (inst->dashboard_url)
		cJSON_AddStringToObject(body, "dashboard_url", inst->dashboard_url);
	osb_api_add_json(body, "parameters", inst->parameters);
	if (inst->maintenance_version) {
		cJSON *mi = cJSON_AddObjectToObject(body, "maintenance_info");
		cJSON_AddStringToObject(mi, "version", inst->maintenance_version);
	}
	osb_api_add_json(body, "metadata", inst->metadata);
	osb_http_send_json(h, 200, body, NULL);
	cJSON_Delete(body);
done:
	osb_store_rollback(tx);
	osb_instance_rec_free(inst);
	osb_operation_rec_free(running);
}

/*
 * last_operation of an instance. An `operation` this broker never issued (clients that poll with
 * their own names) is answered about the latest operation; one of another resource is a 400.
 * Once the instance is deleted, asking about that delete gets 200 succeeded, anything else 410.
 */
void osb_api_instance_last_operation(osb_http *h)
{
	char hint[OSB_ID_MAX + 1], opq[OSB_OP_ID_SIZE + 32];
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_operation_rec *op = NULL;
	int given;
	if (osb_api_optional_query(h, "service_id", hint, sizeof hint) < 0 ||
	    osb_api_optional_query(h, "plan_id", hint, sizeof hint) < 0 ||
	    (given = osb_api_operation_query(h, opq, sizeof opq)) < 0)
		return;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc == OSB_ENOTFOUND) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "instance %s does not exist", h->instance_id);
		goto done;
	}
	if (rc) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (given == 1) {
		rc = osb_store_operation_get(tx, opq, &op);
		if (rc == 0 && (strcmp(op->instance_id, h->instance_id) != 0 || op->binding_id)) {
			osb_http_fail(h, OSB_EBADREQUEST, 0, "operation %.*s is not an operation of instance %s",
				      OSB_HTTP_CUT(opq, 64), h->instance_id);
			goto done;
		}
		if (rc && rc != OSB_ENOTFOUND) {
			osb_api_store_failed(h, rc);
			goto done;
		}
	}
	int asked = op != NULL;
	if (!op && (rc = osb_store_operation_get(tx, inst->op_id, &op)) != 0) {
		if (rc == OSB_ENOTFOUND)
			osb_http_fail(h, OSB_ENOTFOUND, 0, "instance %s has no operation", h->instance_id);
		else
			osb_api_store_failed(h, rc);
		goto done;
	}
	if (inst->state == OSB_REC_DELETED &&
	    !(asked && op->kind == OSB_OP_DEPROVISION && op->state == OSB_OPSTATE_SUCCEEDED)) {
		osb_http_send_json(h, 410, NULL, NULL);
		goto done;
	}
	osb_api_send_operation_state(h, op);
done:
	osb_store_rollback(tx);
	osb_instance_rec_free(inst);
	osb_operation_rec_free(op);
}
