/* The marketplace verb: every broker's services and plans, one service in detail, or the page (--serve). */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "local.h"
#include "market.h"
#include "output.h"
#include "serve.h"

static int usage(cli *c)
{
	return out_fail(c, CLI_USAGE, NULL, "usage: %s (osb help %s)", cli_usage_line(c->verb), c->verb);
}

/* Brokers that could not be read are noted; when none could, that is the answer. */
static int note_errors(cli *c, const cJSON *doc)
{
	const cJSON *b;
	int ok = 0, bad = 0;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
	{
		if (jstr(b, "error")) {
			bad++;
			out_note(c, "note: broker %s could not be read: %s", jstr(b, "name"), jstr(b, "error"));
		} else {
			ok++;
		}
	}
	return bad && !ok ? CLI_UNREACHABLE : CLI_OK;
}

static const char *display(const cJSON *obj)
{
	const char *d = jstr(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "displayName");
	return d ? d : jstr(obj, "name");
}

/* "free", or "15.00 USD/MONTHLY" from the plan's costs, or "paid". */
static void cost(const cJSON *plan, char *out, size_t size)
{
	const cJSON *costs =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(plan, "metadata"), "costs");
	const cJSON *free_ = cJSON_GetObjectItemCaseSensitive(plan, "free");
	const cJSON *first = cJSON_GetArrayItem(costs, 0);
	const cJSON *amount = cJSON_GetObjectItemCaseSensitive(first, "amount");
	if (amount && amount->child && cJSON_IsNumber(amount->child) && amount->child->string) {
		char currency[16];
		size_t i = 0;
		for (const char *p = amount->child->string; *p && i + 1 < sizeof currency; p++)
			currency[i++] = (char)toupper((unsigned char)*p);
		currency[i] = '\0';
		snprintf(out, size, "%.2f %s/%s", amount->child->valuedouble, currency,
			 jstr(first, "unit") ? jstr(first, "unit") : "?");
		return;
	}
	snprintf(out, size, "%s", cJSON_IsFalse(free_) ? "paid" : "free");
}

static void print_parameters(const cJSON *plan, const char *scope, const char *action, const char *label)
{
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(plan, "schemas"), scope),
			action),
		"parameters");
	const cJSON *p, *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	if (!props || !props->child)
		return;
	printf("    %s parameters:\n", label);
	cJSON_ArrayForEach(p, props)
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "default");
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "enum");
		char *deftext = def ? cJSON_PrintUnformatted(def) : NULL;
		char *entext = en ? cJSON_PrintUnformatted(en) : NULL;
		printf("      %-22s %-8s %s%s%s%s\n", p->string, cJSON_IsString(type) ? type->valuestring : "",
		       jstr(p, "description") ? jstr(p, "description") : "", deftext ? " (default " : "",
		       deftext ? deftext : "", deftext ? ")" : "");
		if (entext)
			printf("      %-22s %-8s one of %s\n", "", "", entext);
		free(deftext);
		free(entext);
	}
}

static void print_service(const cJSON *svc, const cJSON *broker)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(svc, "metadata"), *plan, *t;
	char tags[512] = "";
	size_t n = 0;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(svc, "tags")) if (cJSON_IsString(t) && n < sizeof tags)
		n += (size_t)snprintf(tags + n, sizeof tags - n, "%s%s", n ? ", " : "", t->valuestring);
	out_field("service", jstr(svc, "name"));
	out_field("name", display(svc));
	out_field("broker", jstr(broker, "name"));
	out_field("description", jstr(svc, "description"));
	if (jstr(md, "longDescription"))
		out_field("details", jstr(md, "longDescription"));
	if (jstr(md, "providerDisplayName"))
		out_field("provider", jstr(md, "providerDisplayName"));
	if (jstr(md, "documentationUrl"))
		out_field("documentation", jstr(md, "documentationUrl"));
	if (jstr(md, "supportUrl"))
		out_field("support", jstr(md, "supportUrl"));
	if (n)
		out_field("tags", tags);
	printf("plans:\n");
	cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(svc, "plans"))
	{
		const cJSON *f = market_plan_features(broker, plan);
		char price[96];
		cost(plan, price, sizeof price);
		printf("  %s (%s)%s%s%s\n", jstr(plan, "name"), price,
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "dedicated")) ? ", dedicated" : "",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "asynchronous")) ? ", asynchronous" : "",
		       cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(plan, "bindable")) ? ", not bindable" : "");
		if (jstr(plan, "description"))
			printf("    %s\n", jstr(plan, "description"));
		const cJSON *bullet;
		cJSON_ArrayForEach(bullet,
				   cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(plan, "metadata"),
								    "bullets")) if (cJSON_IsString(bullet))
			printf("    - %s\n", bullet->valuestring);
		print_parameters(plan, "service_instance", "create", "create");
		print_parameters(plan, "service_instance", "update", "update");
		print_parameters(plan, "service_binding", "create", "bind");
	}
}

int cmd_marketplace(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "service", required_argument, NULL, 's' },
					      { "broker", required_argument, NULL, 'b' },
					      { "serve", required_argument, NULL, 'S' },
					      { NULL, 0, NULL, 0 } };
	const char *service = NULL, *only = NULL, *serve = NULL;
	cli_brokers brokers = { 0 };
	cJSON *doc = NULL;
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:b:", opts, NULL)) != -1) {
		if (opt == 's')
			service = optarg;
		else if (opt == 'b')
			only = optarg;
		else if (opt == 'S')
			serve = optarg;
		else
			return usage(c);
	}
	if (optind != argc || (serve && service))
		return usage(c);
	if ((rc = local_brokers_load(c, &brokers)))
		return rc;
	if (!brokers.n) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "no broker is registered: osb register-broker NAME URL");
		goto done;
	}
	if (only && !local_broker_find(&brokers, only)) {
		rc = out_fail(c, CLI_NOT_FOUND, NULL, "no broker named %s (osb brokers)", only);
		goto done;
	}
	if (serve) {
		rc = serve_marketplace(c, &brokers, only, serve);
		goto done;
	}
	doc = market_fetch(&brokers, only);
	if (!doc) {
		rc = out_fail(c, CLI_LOCAL, NULL, "out of memory");
		goto done;
	}
	if ((rc = note_errors(c, doc))) {
		rc = out_fail(c, rc, NULL, "no broker could be read");
		goto done;
	}
	const cJSON *b, *s;
	if (service) {
		int found = 0;
		cJSON *filtered = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(filtered, "brokers");
		cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
		{
			cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(b, "services"))
			{
				const char *n = jstr(s, "name");
				if (!n || strcmp(n, service) != 0)
					continue;
				if (c->json) {
					cJSON *x = cJSON_CreateObject();
					cJSON_AddStringToObject(x, "name", jstr(b, "name"));
					cJSON_AddItemToObject(cJSON_AddArrayToObject(x, "services"), "",
							      cJSON_Duplicate(s, 1));
					const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "plan_features");
					if (f)
						cJSON_AddItemToObject(x, "plan_features", cJSON_Duplicate(f, 1));
					cJSON_AddItemToArray(arr, x);
				} else {
					if (found)
						putchar('\n');
					print_service(s, b);
				}
				found++;
			}
		}
		if (!found) {
			cJSON_Delete(filtered);
			rc = out_fail(c, CLI_NOT_FOUND, NULL, "no service %s in the marketplace", service);
			goto done;
		}
		rc = c->json ? out_json(filtered) : (cJSON_Delete(filtered), CLI_OK);
		goto done;
	}
	if (c->json) {
		rc = out_json(doc);
		doc = NULL;
		goto done;
	}
	out_table t;
	out_table_init(&t, 4);
	out_table_row(&t, "service", "plans", "description", "broker");
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
	{
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(b, "services"))
		{
			char plans[1024];
			market_plan_names(s, plans, sizeof plans);
			out_table_row(&t, jstr(s, "name"), plans, jstr(s, "description"), jstr(b, "name"));
		}
	}
	out_table_print(&t);
	out_note(c, "\nosb marketplace -s SERVICE shows a service's plans and parameters.");
done:
	cJSON_Delete(doc);
	local_brokers_free(&brokers);
	return rc;
}
