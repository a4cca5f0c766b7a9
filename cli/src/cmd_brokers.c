/* Verbs on brokers: brokers, register-broker, unregister-broker. Accounts come from the environment or a prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "local.h"
#include "market.h"
#include "output.h"

static int usage(cli *c)
{
	return out_fail(c, CLI_USAGE, NULL, "usage: %s (osb help %s)", cli_usage_line(c->verb), c->verb);
}

int cmd_brokers(cli *c, int argc, char **argv)
{
	cli_brokers brokers;
	out_table t;
	int rc;
	(void)argv;
	if (argc != 1)
		return usage(c);
	if ((rc = local_brokers_load(c, &brokers)))
		return rc;
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(doc, "brokers");
		for (size_t i = 0; i < brokers.n; i++) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "name", brokers.v[i].name);
			cJSON_AddStringToObject(b, "url", brokers.v[i].url);
			cJSON_AddStringToObject(b, "username", brokers.v[i].username);
			cJSON_AddStringToObject(b, "source", brokers.v[i].from_env ? "environment" : "config");
			cJSON_AddItemToArray(arr, b);
		}
		local_brokers_free(&brokers);
		return out_json(doc);
	}
	if (!brokers.n) {
		out_note(c, "No broker registered yet: osb register-broker NAME URL");
	} else {
		out_table_init(&t, 4);
		out_table_row(&t, "name", "url", "username", "from");
		for (size_t i = 0; i < brokers.n; i++)
			out_table_row(&t, brokers.v[i].name, brokers.v[i].url, brokers.v[i].username,
				      brokers.v[i].from_env ? "environment" : "config");
		out_table_print(&t);
	}
	local_brokers_free(&brokers);
	return CLI_OK;
}

/* A line from the terminal, without echo when `secret`. */
static int prompt(const char *label, int secret, char *out, size_t size)
{
	struct termios old, quiet;
	int restore = 0;
	fprintf(stderr, "%s", label);
	fflush(stderr);
	if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	char *got = fgets(out, (int)size, stdin);
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -1;
}

int cmd_register_broker(cli *c, int argc, char **argv)
{
	cli_brokers brokers = { 0 };
	char user[256], pass[512];
	broker_resp r = { 0 };
	local_state st;
	int rc, locked = 0;
	if (argc != 3)
		return usage(c);
	const char *name = argv[1], *url = argv[2];
	if (!cli_valid_name(name))
		return out_fail(c, CLI_USAGE, NULL,
				"%s: a broker name is 1 to 64 of A-Z a-z 0-9 . _ - (a letter or digit first)", name);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return out_fail(c, CLI_USAGE, NULL, "%s: the URL must start with http:// or https://", url);
	const char *host = strstr(url, "://") + 3;
	size_t authority = strcspn(host, "/?#");
	if (memchr(host, '@', authority))
		return out_fail(c, CLI_USAGE, NULL,
				"put no account in the URL: set OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD");
	/* Never from the command line, where ps and shell history would show it. */
	const char *eu = getenv("OSB_BROKER_USERNAME"), *ep = getenv("OSB_BROKER_PASSWORD");
	if (eu && *eu && ep && *ep) {
		snprintf(user, sizeof user, "%s", eu);
		snprintf(pass, sizeof pass, "%s", ep);
	} else if (isatty(STDIN_FILENO) && !c->json) {
		if (prompt("Broker username: ", 0, user, sizeof user) != 0 ||
		    prompt("Broker password: ", 1, pass, sizeof pass) != 0)
			return out_fail(c, CLI_USAGE, NULL, "a username and a password are needed");
	} else {
		return out_fail(
			c, CLI_USAGE, NULL,
			"set OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD (or run it on a terminal to be asked)");
	}
	cli_broker probe = { (char *)name, (char *)url, user, pass, 0 };
	char base[2048];
	snprintf(base, sizeof base, "%s", url);
	for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	probe.url = base;
	/* Check the URL and the account now rather than at the first create-service. */
	if (broker_call(&probe, "GET", "/v2/catalog", NULL, &r) != 0) {
		rc = out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r), "cannot reach %s: %s", base, r.error);
		goto done;
	}
	if (r.status == 401) {
		rc = out_fail(c, CLI_FAILED, broker_error_extra(&r), "%s refused this username and password", base);
		goto done;
	}
	if (r.status != 200 || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r.json, "services"))) {
		char why[512];
		broker_describe(&r, why, sizeof why);
		rc = out_fail(c, CLI_UNREACHABLE, broker_error_extra(&r), "%s does not answer like an OSB broker: %s",
			      base, why);
		goto done;
	}
	int services = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "services"));
	/* The state lock also guards config.json: two registrations at once both land. */
	if ((rc = local_state_begin(c, &st)))
		goto done;
	locked = 1;
	if ((rc = local_brokers_load(c, &brokers)))
		goto done;
	cli_broker *old = local_broker_find(&brokers, name);
	if (old && old->from_env) {
		rc = out_fail(c, CLI_USAGE, NULL, "%s is the name of the broker from OSB_BROKER_URL; pick another",
			      name);
		goto done;
	}
	if (old) {
		free(old->url);
		free(old->username);
		memset(old->password, 0, strlen(old->password));
		free(old->password);
		old->url = strdup(base);
		old->username = strdup(user);
		old->password = strdup(pass);
	} else {
		cli_broker *v = realloc(brokers.v, (brokers.n + 1) * sizeof *v);
		if (!v) {
			rc = out_fail(c, CLI_LOCAL, NULL, "out of memory");
			goto done;
		}
		brokers.v = v;
		v[brokers.n] = (cli_broker){ strdup(name), strdup(base), strdup(user), strdup(pass), 0 };
		brokers.n++;
	}
	if ((rc = local_brokers_save(c, &brokers)))
		goto done;
	out_note(c, "%s broker %s at %s (%d service%s).", old ? "Updated" : "Registered", name, base, services,
		 services == 1 ? "" : "s");
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddStringToObject(doc, "url", base);
		cJSON_AddNumberToObject(doc, "services", services);
		rc = out_json(doc);
	}
done:
	if (locked)
		local_state_end(&st);
	memset(pass, 0, sizeof pass);
	broker_resp_free(&r);
	local_brokers_free(&brokers);
	return rc;
}

int cmd_unregister_broker(cli *c, int argc, char **argv)
{
	cli_brokers brokers;
	int rc;
	if (argc != 2)
		return usage(c);
	const char *name = argv[1];
	local_state st;
	if ((rc = local_state_begin(c, &st)))
		return rc;
	if ((rc = local_brokers_load(c, &brokers))) {
		local_state_end(&st);
		return rc;
	}
	cli_broker *b = local_broker_find(&brokers, name);
	const cJSON *e;
	int used = 0;
	/* Instances made through it would be orphaned here, not at the broker: refuse while any exist. */
	cJSON_ArrayForEach(e, local_instances(&st)) used += jstr(e, "broker") && strcmp(jstr(e, "broker"), name) == 0;
	if (!b || b->from_env || used) {
		local_state_end(&st);
		local_brokers_free(&brokers);
		if (used && b && !b->from_env)
			return out_fail(c, CLI_FAILED, NULL,
					"%d service instance%s of broker %s still exist%s: delete them first", used,
					used == 1 ? "" : "s", name, used == 1 ? "s" : "");
		return out_fail(c, CLI_NOT_FOUND, NULL,
				b ? "%s comes from OSB_BROKER_URL: unset it instead"
				  : "no broker named %s (osb brokers)",
				name);
	}
	size_t i = (size_t)(b - brokers.v);
	free(b->name);
	free(b->url);
	free(b->username);
	memset(b->password, 0, strlen(b->password));
	free(b->password);
	memmove(&brokers.v[i], &brokers.v[i + 1], (brokers.n - i - 1) * sizeof *brokers.v);
	brokers.n--;
	rc = local_brokers_save(c, &brokers);
	local_state_end(&st);
	local_brokers_free(&brokers);
	if (rc)
		return rc;
	out_note(c, "Unregistered broker %s.", name);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddBoolToObject(doc, "unregistered", 1);
		return out_json(doc);
	}
	return CLI_OK;
}
