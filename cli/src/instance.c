/* An instance's local entry: load, edit under the lock, find its service in the catalog, show it. */
#include "instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "market.h"
#include "output.h"

int inst_load(cli *c, const char *name, cli_brokers *brokers, cJSON **entry, cli_broker **b)
{
	local_state st;
	int rc;
	*entry = NULL;
	*b = NULL;
	if ((rc = local_brokers_load(c, brokers)))
		return rc;
	if ((rc = local_state_begin(c, &st)))
		return rc;
	cJSON *e = local_instance(&st, name);
	*entry = e ? cJSON_Duplicate(e, 1) : NULL;
	local_state_end(&st);
	if (!*entry)
		return out_fail(c, CLI_NOT_FOUND, NULL, "no service instance named %s (see: osb services)", name);
	*b = local_broker_find(brokers, jstr(*entry, "broker"));
	if (!*b) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL,
			      "instance %s belongs to broker %s, which is not registered (osb brokers)", name,
			      jstr(*entry, "broker") ? jstr(*entry, "broker") : "?");
		cJSON_Delete(*entry);
		*entry = NULL;
		return rc;
	}
	return CLI_OK;
}

int inst_edit(cli *c, const char *name, inst_edit_fn fn, void *payload)
{
	local_state st;
	int rc = local_state_begin(c, &st);
	if (rc)
		return rc;
	cJSON *e = local_instance(&st, name);
	if (!e) {
		local_state_end(&st);
		return CLI_OK;
	}
	if (fn(e, payload))
		cJSON_DeleteItemFromObjectCaseSensitive(local_instances(&st), name);
	return local_state_commit(c, &st);
}

static int remove_it(cJSON *entry, void *payload)
{
	(void)entry, (void)payload;
	return 1;
}

int inst_remove(cli *c, const char *name)
{
	return inst_edit(c, name, remove_it, NULL);
}

void inst_set_op(cJSON *entry, const char *type, const char *state, const char *description, const char *operation)
{
	cJSON *op = cJSON_CreateObject();
	cJSON_AddStringToObject(op, "type", type);
	cJSON_AddStringToObject(op, "state", state);
	if (description)
		cJSON_AddStringToObject(op, "description", description);
	if (operation)
		cJSON_AddStringToObject(op, "operation", operation);
	cJSON_DeleteItemFromObjectCaseSensitive(entry, "last_operation");
	cJSON_AddItemToObject(entry, "last_operation", op);
}

int inst_service(cli *c, const cli_brokers *brokers, const cli_broker *b, const char *service_id, cJSON **doc,
		 const cJSON **svc)
{
	const cJSON *entry;
	*svc = NULL;
	*doc = market_fetch(brokers, b->name);
	if (!*doc)
		return out_fail(c, CLI_LOCAL, NULL, "out of memory");
	const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(*doc, "brokers"), 0);
	if (jstr(first, "error")) {
		int rc = out_fail(c, CLI_UNREACHABLE, NULL, "cannot read the catalog of broker %s: %s", b->name,
				  jstr(first, "error"));
		cJSON_Delete(*doc);
		*doc = NULL;
		return rc;
	}
	market_find_service(*doc, service_id, b->name, svc, &entry);
	return CLI_OK;
}

cJSON *inst_view(const char *name, const cJSON *entry)
{
	static const char *const keys[] = { "broker",     "service", "plan",         "instance_id",
					    "service_id", "plan_id", "dashboard_url" };
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "name", name);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (jstr(entry, keys[i]))
			cJSON_AddStringToObject(v, keys[i], jstr(entry, keys[i]));
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(entry, "last_operation");
	if (op)
		cJSON_AddItemToObject(v, "last_operation", cJSON_Duplicate(op, 1));
	cJSON *bindings = cJSON_AddArrayToObject(v, "bindings");
	const cJSON *bnd;
	cJSON_ArrayForEach(bnd, cJSON_GetObjectItemCaseSensitive(entry, "bindings"))
	{
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", bnd->string);
		if (jstr(bnd, "binding_id"))
			cJSON_AddStringToObject(x, "binding_id", jstr(bnd, "binding_id"));
		if (jstr(bnd, "state"))
			cJSON_AddStringToObject(x, "state", jstr(bnd, "state"));
		cJSON_AddItemToArray(bindings, x);
	}
	return v;
}

void inst_print(const char *name, const cJSON *entry)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(entry, "last_operation");
	char last[1024], names[1024] = "";
	size_t n = 0;
	snprintf(last, sizeof last, "%s %s%s%s", jstr(op, "type") ? jstr(op, "type") : "-",
		 jstr(op, "state") ? jstr(op, "state") : "", jstr(op, "description") ? ": " : "",
		 jstr(op, "description") ? jstr(op, "description") : "");
	const cJSON *bnd;
	cJSON_ArrayForEach(bnd, cJSON_GetObjectItemCaseSensitive(entry, "bindings")) if (n < sizeof names) n +=
		(size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", bnd->string);
	out_field("name", name);
	out_field("service", jstr(entry, "service"));
	out_field("plan", jstr(entry, "plan"));
	out_field("broker", jstr(entry, "broker"));
	out_field("instance id", jstr(entry, "instance_id"));
	if (jstr(entry, "dashboard_url"))
		out_field("dashboard", jstr(entry, "dashboard_url"));
	out_field("last operation", last);
	out_field("bindings", n ? names : "none");
}

void inst_path(char *out, size_t size, const char *instance_id)
{
	char *e = broker_escape(instance_id);
	snprintf(out, size, "/v2/service_instances/%s", e ? e : "");
	free(e);
}

void inst_binding_path(char *out, size_t size, const cJSON *entry, const char *binding_id)
{
	char *bid = broker_escape(binding_id);
	inst_path(out, size, jstr(entry, "instance_id"));
	size_t n = strlen(out);
	snprintf(out + n, size - n, "/service_bindings/%s", bid ? bid : "");
	free(bid);
}

typedef struct {
	const char *binding;
	const char *binding_id;
	const char *state;
	const char *operation;
	int existed;
} binding_edit;

static int edit_binding(cJSON *entry, void *payload)
{
	binding_edit *e = payload;
	cJSON *all = cJSON_GetObjectItemCaseSensitive(entry, "bindings");
	if (!cJSON_IsObject(all)) {
		cJSON_DeleteItemFromObjectCaseSensitive(entry, "bindings");
		all = cJSON_AddObjectToObject(entry, "bindings");
	}
	e->existed = cJSON_GetObjectItemCaseSensitive(all, e->binding) != NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(all, e->binding);
	if (e->state) {
		cJSON *b = cJSON_AddObjectToObject(all, e->binding);
		cJSON_AddStringToObject(b, "binding_id", e->binding_id);
		cJSON_AddStringToObject(b, "state", e->state);
		if (e->operation)
			cJSON_AddStringToObject(b, "operation", e->operation);
	}
	return 0;
}

int inst_binding_set(cli *c, const char *name, const char *binding, const char *binding_id, const char *state,
		     const char *operation, int *existed)
{
	binding_edit e = { binding, binding_id, state, operation, 0 };
	int rc = inst_edit(c, name, edit_binding, &e);
	if (existed)
		*existed = e.existed;
	return rc;
}
