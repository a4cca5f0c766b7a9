/* Handlers of /v2/service_instances/:instance_id/service_bindings/:binding_id and its last_operation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_common.h"
#include "record.h"

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int binding_exists(const osb_binding_rec *bind)
{
	return bind && bind->state != OSB_REC_DELETED && bind->state != OSB_REC_CREATE_FAILED;
}

/* The body of 200/201 and GET: credentials, metadata, endpoints, volume mounts. */
static cJSON *binding_body(const osb_binding_rec *bind, int with_parameters)
{
	cJSON *body = cJSON_CreateObject();
	if (!body)
		return NULL;
	if (bind->expires_at || bind->renew_before) {
		char t[32];
		cJSON *md = cJSON_AddObjectToObject(body, "metadata");
		if (bind->expires_at) {
			osb_api_format_time(t, bind->expires_at);
			cJSON_AddStringToObject(md, "expires_at", t);
		}
		if (bind->renew_before) {
			osb_api_format_time(t, bind->renew_before);
			cJSON_AddStringToObject(md, "renew_before", t);
		}
	}
	osb_api_add_json(body, "credentials", bind->credentials ? bind->credentials : "{}");
	cJSON *extras = bind->response_extras ? cJSON_Parse(bind->response_extras) : NULL;
	for (cJSON *c = extras ? extras->child : NULL; c; c = c->next)
		cJSON_AddItemToObject(body, c->string, cJSON_Duplicate(c, 1));
	cJSON_Delete(extras);
	if (with_parameters)
		osb_api_add_json(body, "parameters", bind->parameters);
	return body;
}

static void send_binding(osb_http *h, int status, const osb_binding_rec *bind, int with_parameters)
{
	cJSON *body = binding_body(bind, with_parameters);
	osb_http_send_json(h, status, body, NULL);
	cJSON_Delete(body);
}

/* A finished bind answered from its record, with its credentials. */
static void send_bound_with(osb_http *h, int status)
{
	osb_store_tx *tx = NULL;
	osb_binding_rec *bind = NULL;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_binding_get(tx, h->binding_id, &bind);
	osb_store_rollback(tx);
	if (rc == 0)
		send_binding(h, status, bind, 0);
	else
		osb_api_store_failed(h, rc);
	osb_binding_rec_free(bind);
}

/* A bind that finished inline: 201. */
static void send_bound(osb_http *h)
{
	send_bound_with(h, 201);
}

/* A re-sent bind whose first copy finished while it waited: 200, as for an identical repeat. */
static void send_bound_again(osb_http *h)
{
	send_bound_with(h, 200);
}

/* bind_resource.app_guid, else the deprecated top-level app_guid. Answers 400 on bad types. */
static int read_bind_resource(osb_http *h, const cJSON *body, const cJSON **resource, const char **app_guid)
{
	const char *top;
	if (osb_api_object(h, body, "bind_resource", resource) || osb_api_string(h, body, "app_guid", 0, &top))
		return -1;
	*app_guid = top;
	if (*resource) {
		const char *inner, *route;
		if (osb_api_string(h, *resource, "app_guid", 0, &inner) ||
		    osb_api_string(h, *resource, "route", 0, &route))
			return -1;
		if (inner)
			*app_guid = inner;
	}
	return 0;
}

void osb_api_binding_put(osb_http *h)
{
	struct osb_broker *b = h->broker;
	const char *service_id, *plan_id, *app_guid, *pred_id;
	const cJSON *context, *given_params, *resource;
	cJSON *params = NULL, *attrs = NULL, *saved = NULL;
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_binding_rec *bind = NULL, *pred = NULL, fresh;
	osb_operation_rec *op = NULL;
	char fp[65], op_id[OSB_OP_ID_SIZE];
	int rc;
	memset(&fresh, 0, sizeof fresh);

	int incomplete = osb_http_accepts_incomplete(h);
	if (incomplete < 0)
		return;
	cJSON *body = osb_http_parse_body(h);
	if (!body)
		return;
	if (osb_api_string(h, body, "service_id", 1, &service_id) || osb_api_string(h, body, "plan_id", 1, &plan_id) ||
	    osb_api_object(h, body, "context", &context) || osb_api_object(h, body, "parameters", &given_params) ||
	    read_bind_resource(h, body, &resource, &app_guid) ||
	    osb_api_string(h, body, "predecessor_binding_id", 0, &pred_id))
		goto done;
	const osb_service *service = osb_catalog_service(b->catalog, service_id);
	const osb_plan *plan = osb_catalog_plan(b->catalog, plan_id);
	if (!service || !plan || plan->service != service) {
		osb_http_fail(h, OSB_EBADREQUEST, 0,
			      "service_id and plan_id must name a plan of this broker's catalog");
		goto done;
	}
	if (!plan->bindable) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "plan %s is not bindable", plan->name);
		goto done;
	}
	if (pred_id && (!plan->binding_rotatable || !osb_http_valid_id(pred_id))) {
		osb_http_fail(h, OSB_EBADREQUEST, 0,
			      plan->binding_rotatable ? "predecessor_binding_id is not a valid id"
						      : "bindings of plan %s cannot be rotated",
			      plan->name);
		goto done;
	}
	const cJSON *requires_app = cJSON_GetObjectItemCaseSensitive(plan->settings, "requires_app");
	if (cJSON_IsTrue(requires_app) && !app_guid) {
		osb_http_fail(h, OSB_EREQUIRESAPP, 0,
			      "This Service supports generation of credentials through binding an application only.");
		goto done;
	}
	if (plan->async_bindings && !incomplete) {
		osb_http_fail(h, OSB_EASYNCREQUIRED, 0,
			      "This Service Instance requires client support for asynchronous binding operations.");
		goto done;
	}
	attrs = cJSON_CreateObject();
	cJSON_AddStringToObject(attrs, "instance_id", h->instance_id);
	cJSON_AddStringToObject(attrs, "service_id", service_id);
	cJSON_AddStringToObject(attrs, "plan_id", plan_id);
	if (app_guid)
		cJSON_AddStringToObject(attrs, "app_guid", app_guid);
	if (resource)
		cJSON_AddItemToObject(attrs, "bind_resource", cJSON_Duplicate(resource, 1));
	if (given_params)
		cJSON_AddItemToObject(attrs, "parameters", cJSON_Duplicate(given_params, 1));
	if (pred_id)
		cJSON_AddStringToObject(attrs, "predecessor_binding_id", pred_id);
	if (osb_api_fingerprint(fp, attrs)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "parameters are nested too deeply");
		goto done;
	}

	if ((rc = osb_store_begin(b->store, h->instance_id, &tx))) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	rc = osb_store_binding_get(tx, h->binding_id, &bind);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (binding_exists(bind)) {
		if (strcmp(bind->instance_id, h->instance_id) != 0 ||
		    strcmp(bind->fingerprint ? bind->fingerprint : "", fp))
			osb_http_fail(h, OSB_ECONFLICT, 0, "binding %s already exists with different attributes",
				      h->binding_id);
		else if (bind->state == OSB_REC_READY)
			send_binding(h, 200, bind, 0);
		else if (bind->state == OSB_REC_CREATING) {
			osb_store_rollback(tx);
			tx = NULL;
			osb_api_answer_resent(h, bind->op_id, OSB_OP_BIND, incomplete, NULL, send_bound_again);
		} else
			osb_http_fail(h, OSB_ECONCURRENCY, 0,
				      "Another operation for this Service Binding is in progress.");
		goto done;
	}
	rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (!inst || inst->state == OSB_REC_DELETED || inst->state == OSB_REC_CREATE_FAILED) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "instance %s does not exist", h->instance_id);
		goto done;
	}
	if (inst->state != OSB_REC_READY) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0, "The Service Instance is being provisioned or deleted.");
		goto done;
	}
	if (strcmp(inst->service_id, service_id) != 0 || strcmp(inst->plan_id, plan_id) != 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "service_id and plan_id must be those of instance %s",
			      h->instance_id);
		goto done;
	}
	if (pred_id) {
		rc = osb_store_binding_get(tx, pred_id, &pred);
		if (rc || !binding_exists(pred) || pred->state != OSB_REC_READY ||
		    strcmp(pred->instance_id, h->instance_id) != 0) {
			osb_http_fail(h, OSB_EBADREQUEST, 0,
				      "predecessor_binding_id %s is not a binding of instance %s", pred_id,
				      h->instance_id);
			goto done;
		}
		if (pred->expires_at && pred->expires_at <= now_s()) {
			osb_http_fail(h, OSB_EBADREQUEST, 0, "predecessor binding %s has expired", pred_id);
			goto done;
		}
	}
	/* A rotation without parameters takes its predecessor's, so platforms need not keep them. */
	if (given_params)
		params = cJSON_Duplicate(given_params, 1);
	else if (pred && pred->parameters)
		params = cJSON_Parse(pred->parameters);
	if (!params)
		params = cJSON_CreateObject();
	if (!params || osb_api_validate_parameters(h, plan->bind_schema, params)) {
		if (!params)
			osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}

	int64_t now = now_s();
	osb_api_new_op_id(op_id);
	saved = osb_api_saved_request(h);
	cJSON_AddStringToObject(saved, "service_id", service_id);
	cJSON_AddStringToObject(saved, "plan_id", plan_id);
	cJSON_AddItemToObject(saved, "parameters", cJSON_Duplicate(params, 1));
	if (context)
		cJSON_AddItemToObject(saved, "context", cJSON_Duplicate(context, 1));
	if (app_guid)
		cJSON_AddStringToObject(saved, "app_guid", app_guid);
	if (pred_id)
		cJSON_AddStringToObject(saved, "predecessor_binding_id", pred_id);
	if (plan->credential_ttl > 0) {
		fresh.expires_at = now + plan->credential_ttl;
		fresh.renew_before = fresh.expires_at - plan->renew_before;
		cJSON_AddNumberToObject(saved, "expires_at", (double)fresh.expires_at);
	}
	op = osb_api_new_operation(h, OSB_OP_BIND, h->instance_id, h->binding_id, plan->async_bindings,
				   osb_api_deadline(h, plan, plan->async_bindings), saved, op_id);
	fresh.id = h->binding_id;
	fresh.instance_id = h->instance_id;
	fresh.service_id = (char *)service_id;
	fresh.plan_id = (char *)plan_id;
	fresh.parameters = cJSON_PrintUnformatted(params);
	fresh.bind_resource = resource ? cJSON_PrintUnformatted(resource) : NULL;
	fresh.context = context ? cJSON_PrintUnformatted(context) : NULL;
	fresh.fingerprint = fp;
	fresh.predecessor_id = (char *)pred_id;
	fresh.state = OSB_REC_CREATING;
	fresh.op_id = op_id;
	fresh.created_at = now;
	fresh.updated_at = now;
	if (!op || !fresh.parameters) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	if ((rc = osb_store_binding_put(tx, &fresh)) || (rc = osb_store_operation_put(tx, op)) ||
	    (rc = osb_store_commit(tx))) {
		tx = NULL;
		osb_api_store_failed(h, rc);
		goto done;
	}
	tx = NULL;
	osb_api_start_operation(h, op_id, OSB_OP_BIND, plan->async_bindings, NULL, send_bound);
done:
	osb_store_rollback(tx);
	free(fresh.parameters);
	free(fresh.bind_resource);
	free(fresh.context);
	osb_instance_rec_free(inst);
	osb_binding_rec_free(bind);
	osb_binding_rec_free(pred);
	osb_operation_rec_free(op);
	cJSON_Delete(saved);
	cJSON_Delete(attrs);
	cJSON_Delete(params);
	cJSON_Delete(body);
}

void osb_api_binding_delete(osb_http *h)
{
	struct osb_broker *b = h->broker;
	char service_id[OSB_ID_MAX + 1], plan_id[OSB_ID_MAX + 1], op_id[OSB_OP_ID_SIZE];
	osb_store_tx *tx = NULL;
	osb_instance_rec *inst = NULL;
	osb_binding_rec *bind = NULL;
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
	rc = osb_store_binding_get(tx, h->binding_id, &bind);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (!binding_exists(bind) || strcmp(bind->instance_id, h->instance_id) != 0) {
		osb_http_send_json(h, 410, NULL, NULL);
		goto done;
	}
	rc = osb_store_instance_get(tx, h->instance_id, &inst);
	if (rc) {
		osb_api_store_failed(h, rc == OSB_ENOTFOUND ? OSB_EBACKEND : rc);
		goto done;
	}
	/* After a plan update, platforms send the instance's current plan: accept it too. */
	if (strcmp(bind->service_id, service_id) != 0 ||
	    (strcmp(bind->plan_id, plan_id) != 0 && strcmp(inst->plan_id, plan_id) != 0)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "service_id and plan_id must be those of binding %s",
			      h->binding_id);
		goto done;
	}
	const osb_plan *plan = osb_catalog_plan(b->catalog, bind->plan_id);
	int async = plan && plan->async_bindings;
	if (async && !incomplete) {
		osb_http_fail(h, OSB_EASYNCREQUIRED, 0,
			      "This Service Instance requires client support for asynchronous binding operations.");
		goto done;
	}
	if (bind->state == OSB_REC_DELETING) {
		if ((rc = osb_store_operation_get(tx, bind->op_id, &running)) == 0 &&
		    running->state == OSB_OPSTATE_IN_PROGRESS) {
			/* A re-sent DELETE: 202 (or, synchronously, how it ends), whoever runs it. */
			osb_store_rollback(tx);
			tx = NULL;
			osb_api_answer_resent(h, running->id, OSB_OP_UNBIND, incomplete, NULL, NULL);
		} else {
			osb_http_fail(h, OSB_ECONCURRENCY, 0, "This Service Binding is being deleted.");
		}
		goto done;
	}
	if (bind->state != OSB_REC_READY) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0, "This Service Binding is being created.");
		goto done;
	}
	if (inst->state == OSB_REC_DELETING) {
		osb_http_fail(h, OSB_ECONCURRENCY, 0, "The Service Instance is being deleted.");
		goto done;
	}
	osb_api_new_op_id(op_id);
	saved = osb_api_saved_request(h);
	cJSON_AddStringToObject(saved, "service_id", bind->service_id);
	cJSON_AddStringToObject(saved, "plan_id", bind->plan_id);
	op = osb_api_new_operation(h, OSB_OP_UNBIND, h->instance_id, h->binding_id, async,
				   osb_api_deadline(h, plan, async), saved, op_id);
	if (!op) {
		osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
		goto done;
	}
	bind->state = OSB_REC_DELETING;
	osb_record_set_str(&bind->op_id, op_id);
	bind->updated_at = now_s();
	if ((rc = osb_store_binding_put(tx, bind)) || (rc = osb_store_operation_put(tx, op)) ||
	    (rc = osb_store_commit(tx))) {
		tx = NULL;
		osb_api_store_failed(h, rc);
		goto done;
	}
	tx = NULL;
	osb_api_start_operation(h, op_id, OSB_OP_UNBIND, async, NULL, NULL);
done:
	osb_store_rollback(tx);
	osb_instance_rec_free(inst);
	osb_binding_rec_free(bind);
	osb_operation_rec_free(op);
	osb_operation_rec_free(running);
	cJSON_Delete(saved);
}

void osb_api_binding_get(osb_http *h)
{
	char hint[OSB_ID_MAX + 1];
	osb_store_tx *tx = NULL;
	osb_binding_rec *bind = NULL;
	if (osb_api_optional_query(h, "service_id", hint, sizeof hint) < 0 ||
	    osb_api_optional_query(h, "plan_id", hint, sizeof hint) < 0)
		return;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_binding_get(tx, h->binding_id, &bind);
	osb_store_rollback(tx);
	if (rc && rc != OSB_ENOTFOUND) {
		osb_api_store_failed(h, rc);
	} else if (!bind || bind->state != OSB_REC_READY || strcmp(bind->instance_id, h->instance_id) != 0) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "binding %s does not exist or is still being created",
			      h->binding_id);
	} else {
		send_binding(h, 200, bind, 1);
	}
	osb_binding_rec_free(bind);
}

/* last_operation of a binding: as for instances (api_instance.c), with unbind for delete. */
void osb_api_binding_last_operation(osb_http *h)
{
	char hint[OSB_ID_MAX + 1], opq[OSB_OP_ID_SIZE + 32];
	osb_store_tx *tx = NULL;
	osb_binding_rec *bind = NULL;
	osb_operation_rec *op = NULL;
	int given;
	if (osb_api_optional_query(h, "service_id", hint, sizeof hint) < 0 ||
	    osb_api_optional_query(h, "plan_id", hint, sizeof hint) < 0 ||
	    (given = osb_api_operation_query(h, opq, sizeof opq)) < 0)
		return;
	int rc = osb_store_begin(h->broker->store, NULL, &tx);
	if (rc == 0)
		rc = osb_store_binding_get(tx, h->binding_id, &bind);
	if (rc == OSB_ENOTFOUND || (rc == 0 && strcmp(bind->instance_id, h->instance_id) != 0)) {
		osb_http_fail(h, OSB_ENOTFOUND, 0, "binding %s does not exist", h->binding_id);
		goto done;
	}
	if (rc) {
		osb_api_store_failed(h, rc);
		goto done;
	}
	if (given == 1) {
		rc = osb_store_operation_get(tx, opq, &op);
		if (rc == 0 && (!op->binding_id || strcmp(op->binding_id, h->binding_id) != 0)) {
			osb_http_fail(h, OSB_EBADREQUEST, 0, "operation %.*s is not an operation of binding %s",
				      OSB_HTTP_CUT(opq, 64), h->binding_id);
			goto done;
		}
		if (rc && rc != OSB_ENOTFOUND) {
			osb_api_store_failed(h, rc);
			goto done;
		}
	}
	int asked = op != NULL;
	if (!op && (rc = osb_store_operation_get(tx, bind->op_id, &op)) != 0) {
		if (rc == OSB_ENOTFOUND)
			osb_http_fail(h, OSB_ENOTFOUND, 0, "binding %s has no operation", h->binding_id);
		else
			osb_api_store_failed(h, rc);
		goto done;
	}
	if (bind->state == OSB_REC_DELETED &&
	    !(asked && op->kind == OSB_OP_UNBIND && op->state == OSB_OPSTATE_SUCCEEDED)) {
		osb_http_send_json(h, 410, NULL, NULL);
		goto done;
	}
	osb_api_send_operation_state(h, op);
done:
	osb_store_rollback(tx);
	osb_binding_rec_free(bind);
	osb_operation_rec_free(op);
}
