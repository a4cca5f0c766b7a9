/* osb help [VERB]: what each verb does, its options, and the exit codes (docs/cli.md says the same at length). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"

typedef struct {
	const char *verb;
	const char *usage;
	const char *text;
} verb_help;

static const verb_help verbs[] = {
	{ "marketplace", "osb marketplace [-s SERVICE] [-b BROKER] [--serve ADDR]",
	  "List the services and plans of every registered broker.\n"
	  "  -s, --service SERVICE  one service in detail: plans, costs, features, parameters\n"
	  "  -b, --broker BROKER    only this broker's catalog\n"
	  "      --serve ADDR       serve the marketplace page on ADDR (HOST:PORT; port 0 picks one) until Ctrl-C\n" },
	{ "services", "osb services", "List the service instances made with this tool, with their last operation.\n" },
	{ "service", "osb service NAME [--no-wait]",
	  "Show a service instance. When an operation on it is still running (or its answer was\n"
	  "lost), wait for it first, as create-service would have.\n"
	  "      --no-wait          look once, do not wait\n" },
	{ "create-service", "osb create-service SERVICE PLAN NAME [-c JSON|@FILE] [-b BROKER] [--no-wait]",
	  "Create a service instance of SERVICE with PLAN, named NAME here. Parameters are checked\n"
	  "against the plan's schema before anything is sent. Asynchronous plans are waited for.\n"
	  "  -c, --config JSON      parameters: a JSON object, @FILE or @- (standard input)\n"
	  "  -b, --broker BROKER    the broker, when several offer SERVICE\n"
	  "      --no-wait          return once the broker accepted the request\n" },
	{ "update-service", "osb update-service NAME [-p PLAN] [-c JSON|@FILE] [--no-wait]",
	  "Change the plan or the parameters of a service instance.\n"
	  "  -p, --plan PLAN        the new plan\n"
	  "  -c, --config JSON      parameters to change: a JSON object, @FILE or @-\n"
	  "      --no-wait          return once the broker accepted the request\n" },
	{ "delete-service", "osb delete-service NAME [-f] [--no-wait]",
	  "Delete a service instance and its bindings.\n"
	  "  -f, --force            do not ask for confirmation (needed without a terminal)\n"
	  "      --no-wait          return once the broker accepted the request\n" },
	{ "bind-service", "osb bind-service NAME BINDING [-c JSON|@FILE] [--no-wait]",
	  "Create a binding named BINDING and print its credentials on standard output.\n"
	  "The credentials are not kept: save them, or bind again for new ones.\n"
	  "  -c, --config JSON      parameters: a JSON object, @FILE or @-\n" },
	{ "unbind-service", "osb unbind-service NAME BINDING [--no-wait]",
	  "Delete a binding: its credentials stop working.\n" },
	{ "brokers", "osb brokers", "List the registered brokers (never their passwords).\n" },
	{ "register-broker", "osb register-broker NAME URL",
	  "Register a broker under NAME. The account comes from OSB_BROKER_USERNAME and\n"
	  "OSB_BROKER_PASSWORD, or is asked for on a terminal; never from the command line.\n"
	  "The broker is asked for its catalog first, to check the URL and the account.\n" },
	{ "unregister-broker", "osb unregister-broker NAME",
	  "Forget a broker. Refused while instances made through it exist here.\n" },
	{ "help", "osb help [VERB]", "Show this help, or a verb's.\n" },
};

static const char common[] =
	"Options of every verb:\n"
	"      --json             one JSON document on standard output, also for errors\n"
	"  -h, --help             this help\n"
	"\n"
	"Exit codes: 0 done; 1 the broker refused or the operation failed; 2 bad command line;\n"
	"3 no such service, plan, instance, binding or broker; 4 parameters do not match the plan's\n"
	"schema (nothing sent); 5 a broker cannot be reached or did not answer like one; 6 the local\n"
	"configuration or state cannot be read or written; 130 interrupted while waiting (the\n"
	"operation goes on: osb service NAME).\n"
	"\n"
	"Files: $OSB_HOME, else $XDG_CONFIG_HOME/osb, else ~/.config/osb: config.json (brokers, 0600)\n"
	"and state.json (instance names). OSB_BROKER_URL with OSB_BROKER_USERNAME and\n"
	"OSB_BROKER_PASSWORD adds a broker for one run (named $OSB_BROKER_NAME, default \"env\").\n"
	"More: docs/cli.md.\n";

const char *cli_usage_line(const char *verb)
{
	for (size_t i = 0; verb && i < sizeof verbs / sizeof *verbs; i++)
		if (strcmp(verbs[i].verb, verb) == 0)
			return verbs[i].usage;
	return "osb VERB [ARGS...]";
}

static cJSON *verb_json(const verb_help *v)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "verb", v->verb);
	cJSON_AddStringToObject(x, "usage", v->usage);
	cJSON_AddStringToObject(x, "description", v->text);
	return x;
}

int cmd_help(cli *c, int argc, char **argv)
{
	if (argc > 2)
		return out_fail(c, CLI_USAGE, NULL, "usage: osb help [VERB]");
	if (c->json) {
		cJSON *doc = NULL;
		for (size_t i = 0; argc == 2 && i < sizeof verbs / sizeof *verbs; i++)
			if (strcmp(verbs[i].verb, argv[1]) == 0)
				doc = verb_json(&verbs[i]);
		if (argc == 2 && !doc)
			return out_fail(c, CLI_USAGE, NULL, "no verb %s (osb help)", argv[1]);
		if (!doc) {
			doc = cJSON_CreateObject();
			cJSON *arr = cJSON_AddArrayToObject(doc, "verbs");
			for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
				cJSON_AddItemToArray(arr, verb_json(&verbs[i]));
		}
		cJSON_AddStringToObject(doc, "common", common);
		return out_json(doc);
	}
	if (argc == 2) {
		for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
			if (strcmp(verbs[i].verb, argv[1]) != 0)
				continue;
			printf("Usage: %s\n\n%s\n%s", verbs[i].usage, verbs[i].text, common);
			return CLI_OK;
		}
		return out_fail(c, CLI_USAGE, NULL, "no verb %s (osb help)", argv[1]);
	}
	printf("Usage: osb [--json] VERB [ARGS...]\n\n"
	       "A client of Open Service Broker API brokers: browse their marketplace, create,\n"
	       "bind and delete service instances, as a platform would.\n\nVerbs:\n");
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		printf("  %s\n", verbs[i].usage);
	printf("\nosb help VERB tells more.\n\n%s", common);
	return CLI_OK;
}
