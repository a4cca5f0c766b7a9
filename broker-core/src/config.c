/* Loading and checking the broker's JSON configuration file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osb/errors.h"
#include "crypto.h"
#include "log_internal.h"

extern char **environ;

#define FAIL(...)                                                                                                      \
	do {                                                                                                           \
		snprintf(err, err_size, __VA_ARGS__);                                                                  \
		rc = OSB_EBADREQUEST;                                                                                  \
		goto done;                                                                                             \
	} while (0)

static char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf || n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A string member: absent gives `fallback`; present must be a non-empty string. */
static int get_string(const cJSON *obj, const char *key, const char *fallback, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		*out = fallback ? strdup(fallback) : NULL;
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return -1;
	*out = strdup(v->valuestring);
	return 0;
}

/* An integer member within [min, max]; absent gives fallback. */
static int get_int(const cJSON *obj, const char *key, long fallback, long min, long max, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		*out = fallback;
		return 0;
	}
	/* Range first: converting an out-of-range double to long is undefined. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min && v->valuedouble <= (double)max) ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return -1;
	*out = (long)v->valuedouble;
	return 0;
}

static int check_known_keys(const cJSON *obj, const char *const *known, char *bad, size_t bad_size)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		int ok = 0;
		for (const char *const *k = known; *k; k++)
			if (strcmp(c->string, *k) == 0)
				ok = 1;
		if (!ok) {
			snprintf(bad, bad_size, "%s", c->string);
			return -1;
		}
	}
	return 0;
}

/* OSB_DRIVER_ADMIN_PASSWORD=x sets driver.admin_password = "x" (numbers stay numbers). */
static int apply_driver_env(cJSON *driver)
{
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "OSB_DRIVER_", 11) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e + 11)
			continue;
		char key[128];
		size_t n = (size_t)(eq - (*e + 11));
		if (n >= sizeof key)
			continue;
		for (size_t i = 0; i < n; i++)
			key[i] = (char)tolower((unsigned char)(*e)[11 + i]);
		key[n] = '\0';
		const char *value = eq + 1;
		cJSON *old = cJSON_GetObjectItemCaseSensitive(driver, key);
		cJSON *item;
		if (cJSON_IsNumber(old)) {
			char *end;
			double d = strtod(value, &end);
			if (*value == '\0' || *end != '\0')
				return -1;
			item = cJSON_CreateNumber(d);
		} else if (cJSON_IsBool(old)) {
			int t = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
			if (!t && strcmp(value, "false") != 0 && strcmp(value, "0") != 0)
				return -1; /* "yes" must not silently mean false */
			item = cJSON_CreateBool(t);
		} else {
			item = cJSON_CreateString(value);
		}
		if (!item)
			return -1;
		if (old)
			cJSON_ReplaceItemInObjectCaseSensitive(driver, key, item);
		else
			cJSON_AddItemToObject(driver, key, item);
	}
	return 0;
}

static int load_accounts(osb_config *c, const cJSON *root, char *err, size_t err_size)
{
	int rc = 0;
	const cJSON *accounts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
	const char *env_user = getenv("OSB_BROKER_USERNAME");
	const char *env_pass = getenv("OSB_BROKER_PASSWORD");
	size_t n = cJSON_IsArray(accounts) ? (size_t)cJSON_GetArraySize(accounts) : 0;
	if (accounts && !cJSON_IsArray(accounts))
		FAIL("%s: accounts: must be an array of {\"username\", \"password\"}", c->path);
	c->accounts = calloc(n + 1, sizeof *c->accounts);
	if (!c->accounts)
		FAIL("out of memory");
	size_t i = 0;
	for (const cJSON *a = accounts ? accounts->child : NULL; a; a = a->next, i++) {
		static const char *const known[] = { "username", "password", NULL };
		char bad[128];
		c->account_count++; /* counted first, so a half-read entry is freed too */
		if (!cJSON_IsObject(a))
			FAIL("%s: accounts[%zu]: must be an object", c->path, i);
		if (check_known_keys(a, known, bad, sizeof bad))
			FAIL("%s: accounts[%zu].%s: unknown key", c->path, i, bad);
		if (get_string(a, "username", NULL, &c->accounts[i].username) || !c->accounts[i].username ||
		    strchr(c->accounts[i].username, ':'))
			FAIL("%s: accounts[%zu].username: must be a non-empty string without ':'", c->path, i);
		if (get_string(a, "password", NULL, &c->accounts[i].password) || !c->accounts[i].password)
			FAIL("%s: accounts[%zu].password: must be a non-empty string", c->path, i);
	}
	if (env_user || env_pass) {
		if (!env_user || !env_pass || !*env_user || !*env_pass || strchr(env_user, ':'))
			FAIL("environment: OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD must both be set and non-empty");
		if (c->account_count == 0)
			c->account_count = 1;
		free(c->accounts[0].username);
		free(c->accounts[0].password);
		c->accounts[0].username = strdup(env_user);
		c->accounts[0].password = strdup(env_pass);
	}
	if (c->account_count == 0)
		FAIL("%s: accounts: at least one account is required (or set OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD)",
		     c->path);
	if (strlen(c->accounts[0].password) < 8)
		FAIL("%s: accounts[0].password: use at least 8 characters", c->path);
done:
	return rc;
}

/* An address for credentials: a host name or an IP literal, nothing a URL or a shell would read twice. */
static int valid_host(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253)
		return 0;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':')
			return 0;
	return 1;
}

/* The optional `dedicated` object: where the deployer runs per-instance servers. */
static int load_dedicated(osb_config *c, const cJSON *root, char *err, size_t err_size)
{
	static const char *const known[] = { "port_range", "base_dir", "host", NULL };
	int rc = 0;
	char bad[128];
	const cJSON *ded = cJSON_GetObjectItemCaseSensitive(root, "dedicated");
	if (!ded)
		return 0;
	if (!cJSON_IsObject(ded))
		FAIL("%s: dedicated: must be an object {\"port_range\": [first, last], \"base_dir\", \"host\"}",
		     c->path);
	if (check_known_keys(ded, known, bad, sizeof bad))
		FAIL("%s: dedicated.%s: unknown key", c->path, bad);
	const cJSON *range = cJSON_GetObjectItemCaseSensitive(ded, "port_range");
	const cJSON *first = cJSON_IsArray(range) && cJSON_GetArraySize(range) == 2 ? range->child : NULL;
	const cJSON *last = first ? first->next : NULL;
	if (!first || !cJSON_IsNumber(first) || !cJSON_IsNumber(last) ||
	    first->valuedouble != (double)(int)first->valuedouble ||
	    last->valuedouble != (double)(int)last->valuedouble || first->valuedouble < 1024 ||
	    last->valuedouble > 65535 || first->valuedouble > last->valuedouble)
		FAIL("%s: dedicated.port_range: must be [first, last], integers from 1024 to 65535 with first <= last",
		     c->path);
	c->dedicated_port_first = (int)first->valuedouble;
	c->dedicated_port_last = (int)last->valuedouble;
	char fallback[4096];
	snprintf(fallback, sizeof fallback, "%s/dedicated", c->data_dir);
	if (get_string(ded, "base_dir", fallback, &c->dedicated_base_dir) || !c->dedicated_base_dir)
		FAIL("%s: dedicated.base_dir: must be a directory path", c->path);
	/* Instance directories (base_dir/osb_<20 hex>) must fit the deployer's 512-byte paths. */
	if (strlen(c->dedicated_base_dir) > 400)
		FAIL("%s: dedicated.base_dir: must be at most 400 characters long", c->path);
	if (get_string(ded, "host", "127.0.0.1", &c->dedicated_host) || !c->dedicated_host ||
	    !valid_host(c->dedicated_host))
		FAIL("%s: dedicated.host: must be a host name or an IP address", c->path);
	c->has_dedicated = 1;
done:
	return rc;
}

/* The optional `quotas` object: live instances allowed per broker and per plan (by id or name). */
static int load_quotas(osb_config *c, const cJSON *root, char *err, size_t err_size)
{
	static const char *const known[] = { "max_instances", "plans", NULL };
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quotas");
	int rc = 0;
	char bad[128];
	long v;
	if (!q)
		return 0;
	if (!cJSON_IsObject(q))
		FAIL("%s: quotas: must be an object {\"max_instances\", \"plans\": {plan id or name: limit}}", c->path);
	if (check_known_keys(q, known, bad, sizeof bad))
		FAIL("%s: quotas.%s: unknown key", c->path, bad);
	if (get_int(q, "max_instances", 0, 1, 100000000, &v))
		FAIL("%s: quotas.max_instances: must be an integer from 1 to 100000000", c->path);
	c->quota_max_instances = v;
	const cJSON *plans = cJSON_GetObjectItemCaseSensitive(q, "plans");
	if (plans && !cJSON_IsObject(plans))
		FAIL("%s: quotas.plans: must be an object of plan ids or names and limits", c->path);
	for (const cJSON *p = plans ? plans->child : NULL; p; p = p->next)
		if (!cJSON_IsNumber(p) || !(p->valuedouble >= 1 && p->valuedouble <= 1e8) ||
		    p->valuedouble != (double)(long)p->valuedouble)
			FAIL("%s: quotas.plans.%.64s: must be an integer from 1 to 100000000", c->path, p->string);
	if (plans && !(c->quota_plans = cJSON_Duplicate(plans, 1)))
		FAIL("out of memory");
done:
	return rc;
}

int osb_config_load(osb_config **out, const char *path, char *err, size_t err_size)
{
	static const char *const known[] = {
		"listen",      "tls",     "accounts",  "catalog", "data_dir", "store",      "encryption_key",
		"log_level",   "threads", "workers",   "limits",  "timeouts", "replica_id", "metrics_auth",
		"marketplace", "driver",  "dedicated", "quotas",  NULL
	};
	int rc = 0;
	size_t len = 0;
	char bad[128];
	long v;
	cJSON *root = NULL;
	osb_config *c = calloc(1, sizeof *c);
	char *text = read_file(path, 1 << 20, &len);
	if (!c) {
		snprintf(err, err_size, "out of memory");
		free(text);
		return OSB_ENOMEM;
	}
	c->path = strdup(path);
	if (!text) {
		snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
		rc = OSB_ERROR;
		goto done;
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root || !cJSON_IsObject(root))
		FAIL("%s: not a JSON object (syntax error near byte %ld)", path,
		     root ? 0L : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
	if (check_known_keys(root, known, bad, sizeof bad))
		FAIL("%s: %s: unknown key", path, bad);

	if (get_string(root, "listen", "127.0.0.1:8080", &c->listen))
		FAIL("%s: listen: must be a non-empty string such as \"127.0.0.1:8080\"", path);
	const cJSON *tls = cJSON_GetObjectItemCaseSensitive(root, "tls");
	if (tls) {
		static const char *const tls_known[] = { "certificate", "private_key", NULL };
		if (!cJSON_IsObject(tls))
			FAIL("%s: tls: must be an object {\"certificate\", \"private_key\"}", path);
		if (check_known_keys(tls, tls_known, bad, sizeof bad))
			FAIL("%s: tls.%s: unknown key", path, bad);
		if (get_string(tls, "certificate", NULL, &c->tls_certificate) || !c->tls_certificate)
			FAIL("%s: tls.certificate: must be the path of a PEM file", path);
		if (get_string(tls, "private_key", NULL, &c->tls_private_key))
			FAIL("%s: tls.private_key: must be the path of a PEM file", path);
		if (access(c->tls_certificate, R_OK) != 0)
			FAIL("%s: tls.certificate: cannot read %s", path, c->tls_certificate);
		if (c->tls_private_key && access(c->tls_private_key, R_OK) != 0)
			FAIL("%s: tls.private_key: cannot read %s", path, c->tls_private_key);
	}
	if ((rc = load_accounts(c, root, err, err_size)))
		goto done;
	if (get_string(root, "catalog", NULL, &c->catalog) || !c->catalog)
		FAIL("%s: catalog: must be the path of the catalog file", path);
	if (get_string(root, "data_dir", NULL, &c->data_dir) || !c->data_dir)
		FAIL("%s: data_dir: must be the path of the broker's data directory", path);

	if ((rc = load_dedicated(c, root, err, err_size)))
		goto done;
	if ((rc = load_quotas(c, root, err, err_size)))
		goto done;

	const cJSON *store = cJSON_GetObjectItemCaseSensitive(root, "store");
	char *store_type = NULL;
	c->store_type = OSB_STORE_SQLITE;
	if (store) {
		static const char *const store_known[] = { "type", "path", "url", "pool_size", NULL };
		if (!cJSON_IsObject(store))
			FAIL("%s: store: must be an object", path);
		if (check_known_keys(store, store_known, bad, sizeof bad))
			FAIL("%s: store.%s: unknown key", path, bad);
		if (get_string(store, "type", "sqlite", &store_type))
			FAIL("%s: store.type: must be \"sqlite\" or \"postgresql\"", path);
		if (strcmp(store_type, "postgresql") == 0) {
			c->store_type = OSB_STORE_POSTGRESQL;
		} else if (strcmp(store_type, "sqlite") != 0) {
			free(store_type);
			FAIL("%s: store.type: must be \"sqlite\" or \"postgresql\"", path);
		}
		free(store_type);
		if (get_string(store, "path", NULL, &c->store_path))
			FAIL("%s: store.path: must be a file path", path);
		if (get_string(store, "url", NULL, &c->store_url))
			FAIL("%s: store.url: must be a PostgreSQL connection URL", path);
		if (get_int(store, "pool_size", 8, 1, 256, &v))
			FAIL("%s: store.pool_size: must be an integer from 1 to 256", path);
		c->store_pool_size = (int)v;
	} else {
		c->store_pool_size = 8;
	}
	if (getenv("OSB_STORE_URL") && *getenv("OSB_STORE_URL")) {
		free(c->store_url);
		c->store_url = strdup(getenv("OSB_STORE_URL"));
	}
	if (c->store_type == OSB_STORE_POSTGRESQL && !c->store_url)
		FAIL("%s: store.url: required when store.type is \"postgresql\" (or set OSB_STORE_URL)", path);
	if (c->store_type == OSB_STORE_SQLITE && !c->store_path) {
		size_t n = strlen(c->data_dir) + 16;
		c->store_path = malloc(n);
		if (c->store_path)
			snprintf(c->store_path, n, "%s/state.db", c->data_dir);
	}

	const char *key_text = getenv("OSB_ENCRYPTION_KEY");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(root, "encryption_key");
	if (!key_text || !*key_text)
		key_text = cJSON_IsString(key) ? key->valuestring : NULL;
	else
		key = NULL;
	if (key && !cJSON_IsString(key))
		FAIL("%s: encryption_key: must be 64 hexadecimal digits", path);
	if (key_text) {
		if (osb_crypto_parse_key(c->key, key_text) != 0)
			FAIL("%s: encryption_key: must be 64 hexadecimal digits (from config or OSB_ENCRYPTION_KEY)",
			     path);
		c->has_key = 1;
	}
	if (c->store_type == OSB_STORE_POSTGRESQL && !c->has_key)
		FAIL("%s: encryption_key: required with a shared postgresql store, so that every replica uses the same key",
		     path);

	char *level = NULL;
	osb_log_level lvl;
	if (get_string(root, "log_level", "info", &level) || osb_log__parse_level(level, &lvl)) {
		free(level);
		FAIL("%s: log_level: must be one of debug, info, warn, error", path);
	}
	free(level);
	c->log_level = (int)lvl;

	if (get_int(root, "threads", 128, 2, 1024, &v))
		FAIL("%s: threads: must be an integer from 2 to 1024", path);
	c->threads = (int)v;
	if (get_int(root, "workers", 4, 1, 256, &v))
		FAIL("%s: workers: must be an integer from 1 to 256", path);
	c->workers = (int)v;

	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(root, "limits");
	if (limits && !cJSON_IsObject(limits))
		FAIL("%s: limits: must be an object", path);
	{
		static const char *const limits_known[] = { "max_body_bytes", "rate_per_second", "rate_burst",
							    "connections_per_address", NULL };
		if (limits && check_known_keys(limits, limits_known, bad, sizeof bad))
			FAIL("%s: limits.%s: unknown key", path, bad);
		if (get_int(limits, "max_body_bytes", 1 << 20, 1024, 64 << 20, &v))
			FAIL("%s: limits.max_body_bytes: must be an integer from 1024 to 67108864", path);
		c->max_body_bytes = v;
		if (get_int(limits, "rate_per_second", 0, 0, 1000000, &v))
			FAIL("%s: limits.rate_per_second: must be an integer from 0 (unlimited) to 1000000", path);
		c->rate_limit = (double)v;
		if (get_int(limits, "rate_burst", v ? 2 * v : 0, 0, 10000000, &v))
			FAIL("%s: limits.rate_burst: must be a non-negative integer", path);
		c->rate_burst = (int)v;
		if (c->rate_limit > 0 && c->rate_burst < 1)
			c->rate_burst = 1;
		if (get_int(limits, "connections_per_address", 256, 0, 1000000, &v))
			FAIL("%s: limits.connections_per_address: must be an integer from 0 (no cap) to 1000000", path);
		c->connections_per_address = (int)v;
	}
	const cJSON *timeouts = cJSON_GetObjectItemCaseSensitive(root, "timeouts");
	if (timeouts && !cJSON_IsObject(timeouts))
		FAIL("%s: timeouts: must be an object", path);
	{
		static const char *const t_known[] = { "request_ms", "sync_s", "async_s", "retry_after_s", NULL };
		if (timeouts && check_known_keys(timeouts, t_known, bad, sizeof bad))
			FAIL("%s: timeouts.%s: unknown key", path, bad);
		if (get_int(timeouts, "request_ms", 10000, 100, 3600000, &v))
			FAIL("%s: timeouts.request_ms: must be an integer from 100 to 3600000", path);
		c->request_timeout_ms = (int)v;
		if (get_int(timeouts, "sync_s", 45, 1, 3600, &v))
			FAIL("%s: timeouts.sync_s: must be an integer from 1 to 3600", path);
		c->sync_timeout_s = (int)v;
		if (get_int(timeouts, "async_s", 1800, 1, 7 * 86400, &v))
			FAIL("%s: timeouts.async_s: must be an integer from 1 to 604800", path);
		c->async_timeout_s = (int)v;
		if (get_int(timeouts, "retry_after_s", 2, 1, 3600, &v))
			FAIL("%s: timeouts.retry_after_s: must be an integer from 1 to 3600", path);
		c->retry_after_s = (int)v;
	}
	const cJSON *mauth = cJSON_GetObjectItemCaseSensitive(root, "metrics_auth");
	if (mauth && !cJSON_IsBool(mauth))
		FAIL("%s: metrics_auth: must be true or false", path);
	c->metrics_auth = cJSON_IsTrue(mauth);
	const cJSON *market = cJSON_GetObjectItemCaseSensitive(root, "marketplace");
	if (market) {
		static const char *const m_known[] = { "public", NULL };
		const cJSON *pub = cJSON_GetObjectItemCaseSensitive(market, "public");
		if (!cJSON_IsObject(market))
			FAIL("%s: marketplace: must be an object {\"public\": true|false}", path);
		if (check_known_keys(market, m_known, bad, sizeof bad))
			FAIL("%s: marketplace.%s: unknown key", path, bad);
		if (pub && !cJSON_IsBool(pub))
			FAIL("%s: marketplace.public: must be true or false", path);
		c->marketplace_public = cJSON_IsTrue(pub);
	}
	{
		char host[64] = "broker";
		gethostname(host, sizeof host - 1);
		char fallback[96];
		snprintf(fallback, sizeof fallback, "%s-%ld", host, (long)getpid());
		if (get_string(root, "replica_id", fallback, &c->replica_id))
			FAIL("%s: replica_id: must be a non-empty string", path);
	}

	const cJSON *driver = cJSON_GetObjectItemCaseSensitive(root, "driver");
	if (driver && !cJSON_IsObject(driver))
		FAIL("%s: driver: must be an object", path);
	c->driver = driver ? cJSON_Duplicate(driver, 1) : cJSON_CreateObject();
	if (!c->driver || apply_driver_env(c->driver))
		FAIL("environment: an OSB_DRIVER_* variable has a value of the wrong type");
done:
	cJSON_Delete(root);
	free(text);
	if (rc) {
		osb_config_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

static void free_secret(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void osb_config_free(osb_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->accounts && i < c->account_count; i++) {
		free(c->accounts[i].username);
		free_secret(c->accounts[i].password);
	}
	free(c->accounts);
	free(c->path);
	free(c->listen);
	free(c->tls_certificate);
	free(c->tls_private_key);
	free(c->catalog);
	free(c->data_dir);
	free(c->store_path);
	free_secret(c->store_url);
	free(c->replica_id);
	free(c->dedicated_base_dir);
	free(c->dedicated_host);
	cJSON_Delete(c->driver);
	cJSON_Delete(c->quota_plans);
	memset(c->key, 0, sizeof c->key);
	free(c);
}
