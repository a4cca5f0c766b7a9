/* Verbs on service instances: create-service, update-service, delete-service, service, services. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "instance.h"
#include "market.h"
#include "operation.h"
#include "output.h"
#include "params.h"

static int usage(cli *c)
{
	return out_fail(c, CLI_USAGE, NULL, "usage: %s (osb help %s)", cli_usage_line(c->verb), c->verb);
}

/* The context every request carries: the platform (this tool), org and space, and the instance's name. */
static cJSON *context_of(const char *name)
{
	cJSON *ctx = cJSON_CreateObject();
	const char *org = getenv("OSB_ORG"), *space = getenv("OSB_SPACE");
	cJSON_AddStringToObject(ctx, "platform", "osb");
	cJSON_AddStringToObject(ctx, "organization_guid", org && *org ? org : "osb-cli");
	cJSON_AddStringToObject(ctx, "space_guid", space && *space ? space : "osb-cli");
	cJSON_AddStringToObject(ctx, "instance_name", name);
	return ctx;
}

/* The outcome of a request as an entry update, for inst_edit(). */
typedef struct {
	const char *type;
	const char *state;
	const char *description;
	const char *operation;
	const char *dashboard_url;
	const char *plan; /* a new plan (update), or NULL */
	const char *plan_id;
} op_update;

static int apply_op(cJSON *entry, void *payload)
{
	const op_update *u = payload;
	inst_set_op(entry, u->type, u->state, u->description, u->operation);
	if (u->dashboard_url)
		jset(entry, "dashboard_url", u->dashboard_url);
	if (u->plan) {
		jset(entry, "plan", u->plan);
		jset(entry, "plan_id", u->plan_id);
	}
	return 0;
}

/* Show the entry as it is now, or the failure; the exit code is `code`. */
static int finish(cli *c, const char *name, int code)
{
	local_state st;
	if (local_state_begin(c, &st))
		return CLI_LOCAL;
	cJSON *e = local_instance(&st, name);
	if (e && c->json)
		out_json(inst_view(name, e));
	else if (e)
		inst_print(name, e);
	local_state_end(&st);
	return code;
}

/* Wait for an accepted operation and record how it ended. @return the exit code. */
static int wait_and_record(cli *c, const cli_broker *b, const char *name, const cJSON *entry, const char *type,
			   const char *operation, const char *new_plan, const char *new_plan_id)
{
	char path[1024], what[256];
	op_result res;
	inst_path(path, sizeof path, jstr(entry, "instance_id"));
	strncat(path, "/last_operation", sizeof path - strlen(path) - 1);
	snprintf(what, sizeof what, "%s %s",
		 strcmp(type, "create") == 0   ? "creating"
		 : strcmp(type, "update") == 0 ? "updating"
					       : "deleting",
		 name);
	int rc = op_wait(c, b, path, operation, jstr(entry, "service_id"),
			 new_plan_id ? new_plan_id : jstr(entry, "plan_id"), what, &res);
	if (rc == CLI_INTERRUPTED)
		return op_interrupted(c, name,
				      strcmp(type, "create") == 0   ? "creation"
				      : strcmp(type, "update") == 0 ? "update"
								    : "deletion");
	if (rc)
		return rc;
	int gone = strcmp(res.state, "gone") == 0 || strcmp(res.state, "missing") == 0;
	int ok = strcmp(res.state, "succeeded") == 0 || (strcmp(type, "delete") == 0 && gone);
	if (!ok && !res.description && strcmp(res.state, "missing") == 0)
		res.description = strdup("the broker has no record of this instance");
	if (ok && strcmp(type, "delete") == 0) {
		op_result_free(&res);
		return inst_remove(c, name);
	}
	if (!ok && strcmp(type, "create") == 0) {
		/* The broker rolled it back: nothing is left to name. */
		inst_remove(c, name);
		rc = out_fail(c, CLI_FAILED, NULL, "creating %s failed: %s", name,
			      res.description ? res.description : "the broker gave no reason");
		op_result_free(&res);
		return rc;
	}
	op_update u = { type, ok ? "succeeded" : "failed", res.description, operation,
			NULL, ok ? new_plan : NULL,        new_plan_id };
	rc = inst_edit(c, name, apply_op, &u);
	if (!rc && !ok)
		rc = out_fail(c, CLI_FAILED, NULL, "%s of %s failed: %s", type, name,
			      res.description ? res.description : "the broker gave no reason");
	op_result_free(&res);
	return rc;
}

/*
 * The broker took a create or an update (`type`): done (200, 201) or in progress (202), which
 * is waited for unless --no-wait. Records it and shows the entry. @return the exit code.
 */
static int record_accepted(cli *c, const cli_broker *b, const char *name, const cJSON *entry, const char *type,
			   const broker_resp *r, const char *new_plan, const char *new_plan_id)
{
	const char *dashboard = jstr(r->json, "dashboard_url");
	int rc;
	if (r->status != 202) {
		op_update u = { type, "succeeded", NULL, NULL, dashboard, new_plan, new_plan_id };
		rc = inst_edit(c, name, apply_op, &u);
		return rc ? rc : finish(c, name, CLI_OK);
	}
	const char *op = jstr(r->json, "operation");
	op_update u = { type, "in progress", NULL, op, dashboard, NULL, NULL };
	if ((rc = inst_edit(c, name, apply_op, &u)))
		return rc;
	if (!c->wait) {
		out_note(c, "The broker is %s %s; see how it goes with: osb service %s",
			 strcmp(type, "create") == 0 ? "creating" : "updating", name, name);
		return finish(c, name, CLI_OK);
	}
	rc = wait_and_record(c, b, name, entry, type, op, new_plan, new_plan_id);
	return rc == CLI_OK ? finish(c, name, CLI_OK) : rc;
}

/* ---- create-service ------------------------------------------------------- */

static int add_entry(cli *c, const char *name, cJSON *entry)
{
	local_state st;
	int rc = local_state_begin(c, &st);
	if (rc)
		return rc;
	if (local_instance(&st, name)) {
		local_state_end(&st);
		return out_fail(c, CLI_FAILED, NULL, "a service instance named %s exists already (osb service %s)",
				name, name);
	}
	cJSON_AddItemToObject(local_instances(&st), name, cJSON_Duplicate(entry, 1));
	return local_state_commit(c, &st);
}

int cmd_create_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "broker", required_argument, NULL, 'b' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { NULL, 0, NULL, 0 } };
	const char *params_arg = NULL, *only = NULL;
	cli_brokers brokers = { 0 };
	cJSON *params = NULL, *doc = NULL, *entry = NULL, *body = NULL;
	broker_resp r = { 0 };
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:b:", opts, NULL)) != -1) {
		if (opt == 'c')
			params_arg = optarg;
		else if (opt == 'b')
			only = optarg;
		else if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 3)
		return usage(c);
	const char *service = argv[optind], *plan_name = argv[optind + 1], *name = argv[optind + 2];
	if (!cli_valid_name(name))
		return out_fail(c, CLI_USAGE, NULL,
				"%s: an instance name is 1 to 64 of A-Z a-z 0-9 . _ - (a letter or digit first)", name);
	if (params_arg && (rc = params_parse(c, params_arg, &params)))
		return rc;
	if ((rc = local_brokers_load(c, &brokers)))
		goto done;
	if (!brokers.n) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "no broker is registered: osb register-broker NAME URL");
		goto done;
	}
	if (only && !local_broker_find(&brokers, only)) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "no broker named %s (osb brokers)", only);
		goto done;
	}
	doc = market_fetch(&brokers, only);
	const cJSON *svc, *bentry;
	int found = doc ? market_find_service(doc, service, only, &svc, &bentry) : 0;
	if (!found) {
		const cJSON *b;
		cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers")) if (jstr(b, "error"))
			out_note(c, "note: broker %s could not be read: %s", jstr(b, "name"), jstr(b, "error"));
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "no service %s in the marketplace (osb marketplace)", service);
		goto done;
	}
	if (found > 1) {
		rc = out_fail(c, CLI_USAGE, NULL, "several brokers offer %s: choose one with -b BROKER", service);
		goto done;
	}
	const cJSON *plan = market_find_plan(svc, plan_name);
	if (!plan) {
		char names[1024];
		market_plan_names(svc, names, sizeof names);
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "service %s has no plan %s; its plans: %s", service, plan_name,
			      names);
		goto done;
	}
	if ((rc = params_check(c, plan, "service_instance", "create", params)))
		goto done;

	/* The entry comes first, so a Ctrl-C or a crash still leaves a name to look up. */
	cli_broker *b = local_broker_find(&brokers, jstr(bentry, "name"));
	char id[37], path[1024];
	broker_new_id(id);
	entry = cJSON_CreateObject();
	jset(entry, "broker", b->name);
	jset(entry, "instance_id", id);
	jset(entry, "service", jstr(svc, "name"));
	jset(entry, "service_id", jstr(svc, "id"));
	jset(entry, "plan", jstr(plan, "name"));
	jset(entry, "plan_id", jstr(plan, "id"));
	inst_set_op(entry, "create", "unknown", "sent to the broker, no answer yet", NULL);
	if ((rc = add_entry(c, name, entry)))
		goto done;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "service_id", jstr(svc, "id"));
	cJSON_AddStringToObject(body, "plan_id", jstr(plan, "id"));
	cJSON *ctx = context_of(name);
	cJSON_AddStringToObject(body, "organization_guid", jstr(ctx, "organization_guid"));
	cJSON_AddStringToObject(body, "space_guid", jstr(ctx, "space_guid"));
	cJSON_AddItemToObject(body, "context", ctx);
	if (params)
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(params, 1));
	inst_path(path, sizeof path, id);
	strncat(path, "?accepts_incomplete=true", sizeof path - strlen(path) - 1);
	out_note(c, "Creating %s (%s %s) at broker %s...", name, jstr(svc, "name"), jstr(plan, "name"), b->name);
	if (broker_call(b, "PUT", path, body, &r) != 0) {
		if (cli_interrupted) {
			rc = op_interrupted(c, name, "creation");
			goto done;
		}
		rc = out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r),
			      "broker %s did not answer (%s); whether %s was created is unknown: osb service %s",
			      b->name, r.error, name, name);
		goto done;
	}
	if (r.status == 200 || r.status == 201 || r.status == 202) {
		rc = record_accepted(c, b, name, entry, "create", &r, NULL, NULL);
	} else {
		char why[1024];
		broker_describe(&r, why, sizeof why);
		inst_remove(c, name);
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "broker %s refused to create %s: %s", b->name,
			      name, why);
	}
done:
	broker_resp_free(&r);
	cJSON_Delete(body);
	cJSON_Delete(entry);
	cJSON_Delete(doc);
	cJSON_Delete(params);
	local_brokers_free(&brokers);
	return rc;
}

/* ---- update-service ------------------------------------------------------- */

int cmd_update_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "plan", required_argument, NULL, 'p' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { NULL, 0, NULL, 0 } };
	const char *params_arg = NULL, *plan_name = NULL;
	cli_brokers brokers = { 0 };
	cli_broker *b = NULL;
	cJSON *params = NULL, *doc = NULL, *entry = NULL, *body = NULL;
	broker_resp r = { 0 };
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:p:", opts, NULL)) != -1) {
		if (opt == 'c')
			params_arg = optarg;
		else if (opt == 'p')
			plan_name = optarg;
		else if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 1 || (!params_arg && !plan_name))
		return usage(c);
	const char *name = argv[optind];
	if (params_arg && (rc = params_parse(c, params_arg, &params)))
		return rc;
	if ((rc = inst_load(c, name, &brokers, &entry, &b)))
		goto done;
	const cJSON *svc = NULL;
	if ((rc = inst_service(c, &brokers, b, jstr(entry, "service_id"), &doc, &svc)))
		goto done;
	if (!svc) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "broker %s no longer offers service %s", b->name,
			      jstr(entry, "service"));
		goto done;
	}
	const cJSON *plan = market_find_plan(svc, plan_name ? plan_name : jstr(entry, "plan_id"));
	if (!plan) {
		char names[1024];
		market_plan_names(svc, names, sizeof names);
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "service %s has no plan %s; its plans: %s",
			      jstr(entry, "service"), plan_name ? plan_name : jstr(entry, "plan"), names);
		goto done;
	}
	if ((rc = params_check(c, plan, "service_instance", "update", params)))
		goto done;
	const char *new_plan_id = plan_name ? jstr(plan, "id") : NULL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "service_id", jstr(entry, "service_id"));
	if (new_plan_id)
		cJSON_AddStringToObject(body, "plan_id", new_plan_id);
	if (params)
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(params, 1));
	cJSON_AddItemToObject(body, "context", context_of(name));
	cJSON *prev = cJSON_AddObjectToObject(body, "previous_values");
	cJSON_AddStringToObject(prev, "service_id", jstr(entry, "service_id"));
	cJSON_AddStringToObject(prev, "plan_id", jstr(entry, "plan_id"));
	char path[1024];
	inst_path(path, sizeof path, jstr(entry, "instance_id"));
	strncat(path, "?accepts_incomplete=true", sizeof path - strlen(path) - 1);
	out_note(c, "Updating %s...", name);
	if (broker_call(b, "PATCH", path, body, &r) != 0) {
		rc = cli_interrupted ? op_interrupted(c, name, "update")
				     : out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r),
						"broker %s did not answer (%s)", b->name, r.error);
		goto done;
	}
	const char *new_plan = new_plan_id ? jstr(plan, "name") : NULL;
	if (r.status == 200 || r.status == 202) {
		rc = record_accepted(c, b, name, entry, "update", &r, new_plan, new_plan_id);
	} else {
		char why[1024];
		broker_describe(&r, why, sizeof why);
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "broker %s refused to update %s: %s", b->name,
			      name, why);
	}
done:
	broker_resp_free(&r);
	cJSON_Delete(body);
	cJSON_Delete(entry);
	cJSON_Delete(doc);
	cJSON_Delete(params);
	local_brokers_free(&brokers);
	return rc;
}

/* ---- delete-service ------------------------------------------------------- */

static int confirm(const char *name)
{
	char answer[16] = "";
	fprintf(stderr, "Really delete the service instance %s and all its bindings? [y/N] ", name);
	if (!fgets(answer, sizeof answer, stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static void deleted_json(cli *c, const char *name)
{
	if (!c->json)
		return;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "name", name);
	cJSON_AddBoolToObject(doc, "deleted", 1);
	out_json(doc);
}

int cmd_delete_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { NULL, 0, NULL, 0 } };
	cli_brokers brokers = { 0 };
	cli_broker *b = NULL;
	cJSON *entry = NULL;
	broker_resp r = { 0 };
	int opt, rc, force = 0;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (opt == 'f')
			force = 1;
		else if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 1)
		return usage(c);
	const char *name = argv[optind];
	if ((rc = inst_load(c, name, &brokers, &entry, &b)))
		goto done;
	if (!force) {
		if (!isatty(STDIN_FILENO) || c->json) {
			rc = out_fail(c, CLI_USAGE, NULL, "deleting %s needs a confirmation: add -f", name);
			goto done;
		}
		if (!confirm(name)) {
			out_note(c, "Nothing deleted.");
			rc = CLI_OK;
			goto done;
		}
	}
	char path[2048], *sid = broker_escape(jstr(entry, "service_id")), *pid = broker_escape(jstr(entry, "plan_id"));
	inst_path(path, sizeof path, jstr(entry, "instance_id"));
	size_t n = strlen(path);
	snprintf(path + n, sizeof path - n, "?accepts_incomplete=true&service_id=%s&plan_id=%s", sid ? sid : "",
		 pid ? pid : "");
	free(sid);
	free(pid);
	out_note(c, "Deleting %s...", name);
	if (broker_call(b, "DELETE", path, NULL, &r) != 0) {
		rc = cli_interrupted ? op_interrupted(c, name, "deletion")
				     : out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r),
						"broker %s did not answer (%s)", b->name, r.error);
		goto done;
	}
	if (r.status == 200 || r.status == 410) {
		if (r.status == 410)
			out_note(c, "The broker had no instance %s any more.", name);
		rc = inst_remove(c, name);
		if (!rc) {
			out_note(c, "Deleted %s.", name);
			deleted_json(c, name);
		}
	} else if (r.status == 202) {
		const char *op = jstr(r.json, "operation");
		op_update u = { "delete", "in progress", NULL, op, NULL, NULL, NULL };
		if ((rc = inst_edit(c, name, apply_op, &u)))
			goto done;
		if (!c->wait) {
			out_note(c, "The broker is deleting %s; see how it goes with: osb service %s", name, name);
			rc = finish(c, name, CLI_OK);
			goto done;
		}
		rc = wait_and_record(c, b, name, entry, "delete", op, NULL, NULL);
		if (rc == CLI_OK) {
			out_note(c, "Deleted %s.", name);
			deleted_json(c, name);
		}
	} else {
		char why[1024];
		broker_describe(&r, why, sizeof why);
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "broker %s refused to delete %s: %s", b->name,
			      name, why);
	}
done:
	broker_resp_free(&r);
	cJSON_Delete(entry);
	local_brokers_free(&brokers);
	return rc;
}

/* ---- service -------------------------------------------------------------- */

/* The instance as the broker has it now (parameters, dashboard); NULL when it cannot say. */
static cJSON *fetch_instance(const cli_broker *b, const cJSON *entry)
{
	char path[1024];
	broker_resp r;
	inst_path(path, sizeof path, jstr(entry, "instance_id"));
	if (broker_call(b, "GET", path, NULL, &r) != 0 || r.status != 200 || !cJSON_IsObject(r.json)) {
		broker_resp_free(&r);
		return NULL;
	}
	cJSON *v = r.json;
	r.json = NULL;
	broker_resp_free(&r);
	return v;
}

/* Bindings whose operation was still running, or whose answer was lost: wait for them too. */
static int refresh_bindings(cli *c, const cli_broker *b, const char *name, const cJSON *entry)
{
	const cJSON *be;
	cJSON_ArrayForEach(be, cJSON_GetObjectItemCaseSensitive(entry, "bindings"))
	{
		const char *state = jstr(be, "state"), *bid = jstr(be, "binding_id");
		char path[2300], what[256];
		op_result res;
		if (!state || !bid || strcmp(state, "succeeded") == 0)
			continue;
		int deleting = strcmp(state, "deleting") == 0;
		inst_binding_path(path, sizeof path - 16, entry, bid);
		strncat(path, "/last_operation", sizeof path - strlen(path) - 1);
		snprintf(what, sizeof what, "%s %s %s %s", deleting ? "unbinding" : "binding", be->string,
			 deleting ? "from" : "to", name);
		int rc = op_wait(c, b, path, jstr(be, "operation"), jstr(entry, "service_id"), jstr(entry, "plan_id"),
				 what, &res);
		if (rc == CLI_INTERRUPTED)
			return op_interrupted(c, name, deleting ? "unbinding" : "binding");
		if (rc)
			return rc;
		int ok = strcmp(res.state, "succeeded") == 0;
		if (deleting) {
			ok = ok || strcmp(res.state, "gone") == 0 || strcmp(res.state, "missing") == 0;
			rc = inst_binding_set(c, name, be->string, bid, ok ? NULL : "succeeded", NULL, NULL);
			if (ok)
				out_note(c, "Binding %s is deleted.", be->string);
			else
				out_note(c, "Unbinding %s failed (%s); it is still bound.", be->string,
					 res.description ? res.description : "no reason given");
		} else {
			rc = inst_binding_set(c, name, be->string, bid, ok ? "succeeded" : NULL, NULL, NULL);
			if (ok)
				out_note(c,
					 "Binding %s was created; its credentials were not shown: unbind-service and "
					 "bind-service again for new ones.",
					 be->string);
			else
				out_note(c, "Binding %s was not created (%s).", be->string,
					 res.description ? res.description : "the broker has no record of it");
		}
		op_result_free(&res);
		if (rc)
			return rc;
	}
	return CLI_OK;
}

int cmd_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "no-wait", no_argument, NULL, 'W' }, { NULL, 0, NULL, 0 } };
	cli_brokers brokers = { 0 };
	cli_broker *b = NULL;
	cJSON *entry = NULL, *live = NULL;
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 1)
		return usage(c);
	const char *name = argv[optind];
	if ((rc = inst_load(c, name, &brokers, &entry, &b)))
		goto done;
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(entry, "last_operation");
	const char *state = jstr(op, "state"), *type = jstr(op, "type") ? jstr(op, "type") : "create";
	if (state && (strcmp(state, "in progress") == 0 || strcmp(state, "unknown") == 0)) {
		char path[1024], what[256];
		op_result res;
		inst_path(path, sizeof path, jstr(entry, "instance_id"));
		strncat(path, "/last_operation", sizeof path - strlen(path) - 1);
		snprintf(what, sizeof what, "%s %s", type, name);
		if (!c->wait) {
			/* One look, no wait. */
			broker_resp r;
			if (broker_call(b, "GET", path, NULL, &r) == 0 && r.status == 200 && jstr(r.json, "state") &&
			    strcmp(jstr(r.json, "state"), "in progress") == 0) {
				op_update u = {
					type, "in progress", jstr(r.json, "description"), jstr(op, "operation"), NULL,
					NULL, NULL
				};
				inst_edit(c, name, apply_op, &u);
				broker_resp_free(&r);
				rc = finish(c, name, CLI_OK);
				goto done;
			}
			broker_resp_free(&r);
		}
		rc = op_wait(c, b, path, jstr(op, "operation"), jstr(entry, "service_id"), jstr(entry, "plan_id"), what,
			     &res);
		if (rc == CLI_INTERRUPTED) {
			rc = op_interrupted(c, name, "operation");
			goto done;
		}
		if (rc)
			goto done;
		if (strcmp(res.state, "missing") == 0 && strcmp(type, "create") == 0) {
			/* The broker never recorded the creation whose answer was lost, or rolled it back. */
			op_result_free(&res);
			inst_remove(c, name);
			rc = out_fail(c, CLI_FAILED, NULL, "%s was not created (the broker has no record of it)", name);
			goto done;
		}
		int ok = strcmp(res.state, "succeeded") == 0 || strcmp(res.state, "gone") == 0 ||
			 (strcmp(type, "delete") == 0 && strcmp(res.state, "missing") == 0);
		if (!ok && !res.description && strcmp(res.state, "missing") == 0)
			res.description = strdup("the broker has no record of this instance");
		if (strcmp(type, "delete") == 0 && ok) {
			op_result_free(&res);
			rc = inst_remove(c, name);
			if (!rc) {
				out_note(c, "%s is deleted.", name);
				deleted_json(c, name);
			}
			goto done;
		}
		if (strcmp(type, "create") == 0 && !ok) {
			inst_remove(c, name);
			rc = out_fail(c, CLI_FAILED, NULL, "creating %s failed: %s", name,
				      res.description ? res.description : "the broker gave no reason");
			op_result_free(&res);
			goto done;
		}
		op_update u = { type, ok ? "succeeded" : "failed", res.description, jstr(op, "operation"), NULL, NULL,
				NULL };
		rc = inst_edit(c, name, apply_op, &u);
		op_result_free(&res);
		if (rc)
			goto done;
	}
	if (c->wait && (rc = refresh_bindings(c, b, name, entry)))
		goto done;
	live = fetch_instance(b, entry);
	local_state st;
	if ((rc = local_state_begin(c, &st)))
		goto done;
	cJSON *now = local_instance(&st, name);
	if (now && c->json) {
		cJSON *v = inst_view(name, now);
		if (live) {
			cJSON *p = cJSON_GetObjectItemCaseSensitive(live, "parameters");
			if (p)
				cJSON_AddItemToObject(v, "parameters", cJSON_Duplicate(p, 1));
		}
		out_json(v);
	} else if (now) {
		inst_print(name, now);
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(live, "parameters");
		if (p) {
			char *text = cJSON_PrintUnformatted(p);
			out_field("parameters", text);
			free(text);
		}
	}
	local_state_end(&st);
done:
	cJSON_Delete(live);
	cJSON_Delete(entry);
	local_brokers_free(&brokers);
	return rc;
}

/* ---- services ------------------------------------------------------------- */

int cmd_services(cli *c, int argc, char **argv)
{
	local_state st;
	out_table t;
	int rc;
	if (argc != 1)
		return usage(c);
	(void)argv;
	if ((rc = local_state_begin(c, &st)))
		return rc;
	cJSON *all = local_instances(&st), *e;
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(doc, "services");
		cJSON_ArrayForEach(e, all) cJSON_AddItemToArray(arr, inst_view(e->string, e));
		local_state_end(&st);
		return out_json(doc);
	}
	if (!all->child) {
		local_state_end(&st);
		out_note(c, "No service instances yet: osb create-service SERVICE PLAN NAME");
		return CLI_OK;
	}
	out_table_init(&t, 6);
	out_table_row(&t, "name", "service", "plan", "bindings", "last operation", "broker");
	cJSON_ArrayForEach(e, all)
	{
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "last_operation");
		char last[128], nb[16];
		snprintf(last, sizeof last, "%s %s", jstr(op, "type") ? jstr(op, "type") : "-",
			 jstr(op, "state") ? jstr(op, "state") : "");
		snprintf(nb, sizeof nb, "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "bindings")));
		out_table_row(&t, e->string, jstr(e, "service"), jstr(e, "plan"), nb, last, jstr(e, "broker"));
	}
	local_state_end(&st);
	out_table_print(&t);
	return CLI_OK;
}
