/* Verbs on bindings: bind-service (prints the credentials; they are never stored) and unbind-service. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* --no-wait's answer with --json: the binding and that it is under way. */
static int pending_json(cli *c, const char *name, const char *binding, const char *binding_id)
{
	if (!c->json)
		return CLI_OK;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "name", name);
	cJSON_AddStringToObject(doc, "binding", binding);
	cJSON_AddStringToObject(doc, "binding_id", binding_id);
	cJSON_AddStringToObject(doc, "state", "in progress");
	return out_json(doc);
}

/* Print what a bind answered: the credentials (stdout), and with --json everything but the parameters. */
static int print_binding(cli *c, const char *name, const char *binding, const char *binding_id, const cJSON *answer)
{
	const cJSON *creds = cJSON_GetObjectItemCaseSensitive(answer, "credentials");
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddStringToObject(doc, "binding", binding);
		cJSON_AddStringToObject(doc, "binding_id", binding_id);
		for (const cJSON *m = answer ? answer->child : NULL; m; m = m->next)
			if (strcmp(m->string, "parameters") != 0)
				cJSON_AddItemToObject(doc, m->string, cJSON_Duplicate(m, 1));
		if (!creds)
			cJSON_AddObjectToObject(doc, "credentials");
		return out_json(doc);
	}
	out_note(c, "Bound %s to %s. Its credentials:", binding, name);
	char *text = creds ? cJSON_Print(creds) : NULL;
	puts(text ? text : "{}");
	free(text);
	return CLI_OK;
}

int cmd_bind_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { NULL, 0, NULL, 0 } };
	const char *params_arg = NULL;
	cli_brokers brokers = { 0 };
	cli_broker *b = NULL;
	cJSON *params = NULL, *doc = NULL, *entry = NULL, *body = NULL;
	broker_resp r = { 0 };
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (opt == 'c')
			params_arg = optarg;
		else if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 2)
		return usage(c);
	const char *name = argv[optind], *binding = argv[optind + 1];
	if (!cli_valid_name(binding))
		return out_fail(c, CLI_USAGE, NULL,
				"%s: a binding name is 1 to 64 of A-Z a-z 0-9 . _ - (a letter or digit first)",
				binding);
	if (params_arg && (rc = params_parse(c, params_arg, &params)))
		return rc;
	if ((rc = inst_load(c, name, &brokers, &entry, &b)))
		goto done;
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(entry, "bindings"), binding)) {
		rc = out_fail(c, CLI_FAILED, NULL, "%s has a binding named %s already", name, binding);
		goto done;
	}
	const cJSON *svc = NULL;
	if ((rc = inst_service(c, &brokers, b, jstr(entry, "service_id"), &doc, &svc)))
		goto done;
	const cJSON *plan = svc ? market_find_plan(svc, jstr(entry, "plan_id")) : NULL;
	if (plan && (rc = params_check(c, plan, "service_binding", "create", params)))
		goto done;

	char id[37], path[2048];
	broker_new_id(id);
	if ((rc = inst_binding_set(c, name, binding, id, "unknown", NULL, NULL)))
		goto done;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "service_id", jstr(entry, "service_id"));
	cJSON_AddStringToObject(body, "plan_id", jstr(entry, "plan_id"));
	cJSON *ctx = cJSON_AddObjectToObject(body, "context");
	cJSON_AddStringToObject(ctx, "platform", "osb");
	cJSON_AddStringToObject(ctx, "instance_name", name);
	cJSON_AddStringToObject(ctx, "binding_name", binding);
	if (params)
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(params, 1));
	inst_binding_path(path, sizeof path, entry, id);
	char put_path[2100];
	snprintf(put_path, sizeof put_path, "%s?accepts_incomplete=true", path);
	out_note(c, "Binding %s to %s...", binding, name);
	if (broker_call(b, "PUT", put_path, body, &r) != 0) {
		rc = cli_interrupted
			     ? op_interrupted(c, name, "binding")
			     : out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r),
					"broker %s did not answer (%s); see: osb service %s", b->name, r.error, name);
		goto done;
	}
	if (r.status == 200 || r.status == 201) {
		rc = inst_binding_set(c, name, binding, id, "succeeded", NULL, NULL);
		rc = rc ? rc : print_binding(c, name, binding, id, r.json);
	} else if (r.status == 202) {
		const char *op = jstr(r.json, "operation");
		if ((rc = inst_binding_set(c, name, binding, id, "in progress", op, NULL)))
			goto done;
		if (!c->wait) {
			out_note(
				c,
				"The broker is creating binding %s; see how it goes with: osb service %s (its credentials "
				"are shown only by a bind-service that waits)",
				binding, name);
			rc = pending_json(c, name, binding, id);
			goto done;
		}
		char lo[2200], what[256];
		op_result res;
		snprintf(lo, sizeof lo, "%s/last_operation", path);
		snprintf(what, sizeof what, "binding %s to %s", binding, name);
		rc = op_wait(c, b, lo, op, jstr(entry, "service_id"), jstr(entry, "plan_id"), what, &res);
		if (rc == CLI_INTERRUPTED) {
			rc = op_interrupted(c, name, "binding");
			goto done;
		}
		if (rc)
			goto done;
		if (strcmp(res.state, "succeeded") != 0) {
			inst_binding_set(c, name, binding, id, NULL, NULL, NULL);
			rc = out_fail(c, CLI_FAILED, NULL, "binding %s to %s failed: %s", binding, name,
				      res.description ? res.description : "the broker gave no reason");
			op_result_free(&res);
			goto done;
		}
		op_result_free(&res);
		if ((rc = inst_binding_set(c, name, binding, id, "succeeded", NULL, NULL)))
			goto done;
		/* An asynchronous bind's credentials come from fetching the binding. */
		broker_resp_free(&r);
		if (broker_call(b, "GET", path, NULL, &r) != 0 || r.status != 200) {
			char why[512];
			broker_describe(&r, why, sizeof why);
			rc = out_fail(c, CLI_FAILED, broker_error_extra(&r),
				      "bound, but fetching the credentials failed: %s", why);
			goto done;
		}
		rc = print_binding(c, name, binding, id, r.json);
	} else {
		char why[1024];
		broker_describe(&r, why, sizeof why);
		inst_binding_set(c, name, binding, id, NULL, NULL, NULL);
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "broker %s refused to bind %s: %s", b->name, name,
			      why);
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

int cmd_unbind_service(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "no-wait", no_argument, NULL, 'W' }, { NULL, 0, NULL, 0 } };
	cli_brokers brokers = { 0 };
	cli_broker *b = NULL;
	cJSON *entry = NULL;
	broker_resp r = { 0 };
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'W')
			c->wait = 0;
		else
			return usage(c);
	}
	if (argc - optind != 2)
		return usage(c);
	const char *name = argv[optind], *binding = argv[optind + 1];
	if ((rc = inst_load(c, name, &brokers, &entry, &b)))
		goto done;
	const cJSON *be =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(entry, "bindings"), binding);
	const char *bid = jstr(be, "binding_id");
	if (!bid) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "%s has no binding named %s (osb service %s)", name, binding,
			      name);
		goto done;
	}
	char path[2048], del[2600], *sid = broker_escape(jstr(entry, "service_id")),
				    *pid = broker_escape(jstr(entry, "plan_id"));
	inst_binding_path(path, sizeof path, entry, bid);
	snprintf(del, sizeof del, "%s?accepts_incomplete=true&service_id=%s&plan_id=%s", path, sid ? sid : "",
		 pid ? pid : "");
	free(sid);
	free(pid);
	out_note(c, "Unbinding %s from %s...", binding, name);
	if (broker_call(b, "DELETE", del, NULL, &r) != 0) {
		rc = cli_interrupted ? op_interrupted(c, name, "unbinding")
				     : out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r),
						"broker %s did not answer (%s)", b->name, r.error);
		goto done;
	}
	if (r.status == 202) {
		const char *op = jstr(r.json, "operation");
		char lo[2200], what[256];
		op_result res;
		if ((rc = inst_binding_set(c, name, binding, bid, "deleting", op, NULL)))
			goto done;
		if (!c->wait) {
			out_note(c, "The broker is deleting binding %s; see how it goes with: osb service %s", binding,
				 name);
			rc = pending_json(c, name, binding, bid);
			goto done;
		}
		snprintf(lo, sizeof lo, "%s/last_operation", path);
		snprintf(what, sizeof what, "unbinding %s from %s", binding, name);
		rc = op_wait(c, b, lo, op, jstr(entry, "service_id"), jstr(entry, "plan_id"), what, &res);
		if (rc == CLI_INTERRUPTED) {
			rc = op_interrupted(c, name, "unbinding");
			goto done;
		}
		if (rc)
			goto done;
		int ok = strcmp(res.state, "succeeded") == 0 || strcmp(res.state, "gone") == 0 ||
			 strcmp(res.state, "missing") == 0;
		if (!ok) {
			inst_binding_set(c, name, binding, bid, "succeeded", NULL, NULL);
			rc = out_fail(c, CLI_FAILED, NULL, "unbinding %s failed: %s", binding,
				      res.description ? res.description : "the broker gave no reason");
			op_result_free(&res);
			goto done;
		}
		op_result_free(&res);
	} else if (r.status != 200 && r.status != 410) {
		char why[1024];
		broker_describe(&r, why, sizeof why);
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "broker %s refused to unbind %s: %s", b->name,
			      binding, why);
		goto done;
	}
	if ((rc = inst_binding_set(c, name, binding, bid, NULL, NULL, NULL)))
		goto done;
	out_note(c, "Unbound %s from %s.", binding, name);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddStringToObject(doc, "binding", binding);
		cJSON_AddBoolToObject(doc, "deleted", 1);
		rc = out_json(doc);
	}
done:
	broker_resp_free(&r);
	cJSON_Delete(entry);
	local_brokers_free(&brokers);
	return rc;
}
