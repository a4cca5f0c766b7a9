/* etcd driver: an instance is a key prefix /<name>/ guarded by an etcd role, a binding a user with
 * that role (through the v3 JSON gateway). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <osb.h>

/* A dedicated server's configuration file. */
#define EC_CONF_FILE "etcd.yml"
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define EC_READY_TIMEOUT_MS 500
/* Keys the reconciler reads per step of its walk over /osb_ prefixes. */
#define EC_KEY_MAX 1024
#define EC_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

/*
 * The driver's state: the shared server's admin token, kept between callbacks
 * (a login costs etcd a bcrypt of the password) and replaced when etcd stops
 * taking it (idle for --auth-token-ttl, a restart, root's password changed).
 */
struct ec_state {
	pthread_mutex_t lock;
	char token[256];
};

/* One callback's calls: the server, its deadline, the admin's token and where errors go. */
struct ec_ctx {
	const osb_target *t;
	struct ec_state *st; /* where the shared server's token is kept; NULL for a dedicated server */
	char base[320];      /* "http://127.0.0.1:2379" */
	char token[256];     /* the admin's token (a secret) */
	int cached;          /* the token came from st: a refusal of it calls for a new login */
	int64_t deadline;    /* osb_clock_ms() */
	osb_errbuf *err;
};

/* A string member of a JSON object, "0" when absent (etcd leaves out zero counts). */
static const char *ec_str(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));

	return s ? s : "0";
}

/* base64 of `len` bytes, as the gateway wants keys and values. @return the text (caller frees) or NULL. */
static char *ec_b64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Decode a base64 key of at most EC_KEY_MAX bytes into out (NUL-terminated). @return its length or -1. */
static int ec_unb64(const char *in, char out[EC_KEY_MAX + 4])
{
	size_t len = strlen(in);
	int n;

	if (len == 0 || len % 4 || len / 4 * 3 > EC_KEY_MAX)
		return -1;
	if ((n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len)) < 0)
		return -1;
	n -= (in[len - 1] == '=') + (in[len - 2] == '=');
	out[n] = '\0';
	return n;
}

/*
 * One gateway call: POST base+path with the JSON `body` and the admin's token.
 * A 2xx answer gives 0 (and its JSON in *out when asked); etcd's refusals give
 * OSB_ENOTFOUND ("... not found"), OSB_ECONFLICT ("... already exists"),
 * OSB_EUNAUTHORIZED (the token) or OSB_EBACKEND with etcd's text, which callers
 * that expect one ignore.
 */
static int ec_post(struct ec_ctx *c, const char *path, const char *text, cJSON **out)
{
	char url[400], auth[sizeof(c->token) + 16];
	const char *const headers[] = { auth, NULL };
	osb_http_options opts = { .ca_file = c->t->ca_file, .headers = c->token[0] ? headers : NULL };
	osb_http_response resp = { 0 };
	int rc = OSB_ETIMEOUT;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
	if (osb_clock_ms() < c->deadline)
		rc = osb_http_request(&opts, "POST", url, NULL, NULL, text, osb_ms_left(c->deadline), &resp);
	explicit_bzero(auth, sizeof(auth));
	if (rc == OSB_ETIMEOUT || rc == OSB_ENOMEM) {
		osb_errbuf_set(c->err, rc, rc == OSB_ENOMEM ? "out of memory" : "etcd at %s did not answer %s in time",
			       c->base, path);
	} else if (rc < 0) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "cannot reach etcd at %s: %s", c->base, resp.error);
	} else if (resp.status >= 200 && resp.status < 300) {
		if (out && !(*out = cJSON_ParseWithLength(resp.body, resp.body_len)))
			rc = osb_errbuf_set(c->err, OSB_EBACKEND, "etcd at %s answered %s with a body that is not JSON",
					    c->base, path);
	} else {
		cJSON *answer = cJSON_ParseWithLength(resp.body, resp.body_len);
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "error"));

		if (!why)
			why = resp.status == 404 ? "no such API: is the v3 JSON gateway on (enable-grpc-gateway)?"
						 : "no reason given";
		rc = resp.status == 401              ? OSB_EUNAUTHORIZED
		     : strstr(why, "not found")      ? OSB_ENOTFOUND
		     : strstr(why, "already exists") ? OSB_ECONFLICT
						     : OSB_EBACKEND;
		osb_errbuf_set(c->err, rc, "etcd at %s refused %s (HTTP %ld): %.200s", c->base, path, resp.status, why);
		cJSON_Delete(answer);
	}
	osb_http_response_free(&resp);
	return rc;
}

static int ec_login(struct ec_ctx *c);

/* ec_post of `body`; a kept token etcd no longer takes is replaced by a new login, once. */
static int ec_call(struct ec_ctx *c, const char *path, const cJSON *body, cJSON **out)
{
	char *text = cJSON_PrintUnformatted(body);
	int rc;

	if (out)
		*out = NULL;
	if (!text)
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	rc = ec_post(c, path, text, out);
	if (rc == OSB_EUNAUTHORIZED && c->cached && (rc = ec_login(c)) == 0)
		rc = ec_post(c, path, text, out);
	if (rc == OSB_EUNAUTHORIZED)
		rc = OSB_EBACKEND;
	/* Bodies may hold a password. */
	explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}

/* ec_call with a body of string pairs (NULL-terminated); values are JSON-escaped by cJSON. */
static int ec_callv(struct ec_ctx *c, const char *path, cJSON **out, ...)
{
	cJSON *body = cJSON_CreateObject();
	const char *key;
	va_list ap;
	int rc = body ? 0 : OSB_ENOMEM;

	va_start(ap, out);
	while (rc == 0 && (key = va_arg(ap, const char *)) != NULL)
		if (!cJSON_AddStringToObject(body, key, va_arg(ap, const char *)))
			rc = OSB_ENOMEM;
	va_end(ap);
	rc = rc < 0 ? osb_errbuf_set(c->err, rc, "out of memory") : ec_call(c, path, body, out);
	cJSON_Delete(body);
	return rc;
}

/* Log in as the target's admin: every later call carries the token, which a shared server's callbacks share. */
static int ec_login(struct ec_ctx *c)
{
	const osb_target *t = c->t;
	cJSON *answer = NULL;
	const char *token;
	int rc;

	c->token[0] = '\0';
	c->cached = 0;
	rc = ec_callv(c, "/v3/auth/authenticate", &answer, "name", t->admin_user, "password", t->admin_password, NULL);
	if (rc == OSB_EBACKEND && strstr(c->err->msg, "authentication is not enabled"))
		rc = osb_errbuf_set(c->err, OSB_EBACKEND,
				    "etcd at %s has authentication off: it cannot confine tenants "
				    "(make the user %s with the role root, then `etcdctl auth enable`)",
				    c->base, t->admin_user);
	token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "token"));
	if (rc == 0 && (!token || strlen(token) >= sizeof(c->token)))
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "etcd at %s answered the login without a usable token",
				    c->base);
	if (rc == 0)
		snprintf(c->token, sizeof(c->token), "%s", token);
	if (token)
		explicit_bzero((char *)token, strlen(token));
	cJSON_Delete(answer);
	if (c->st) {
		pthread_mutex_lock(&c->st->lock);
		snprintf(c->st->token, sizeof(c->st->token), "%s", c->token);
		pthread_mutex_unlock(&c->st->lock);
	}
	return rc;
}

/* Start a callback's calls on `t` with the kept token of the shared server, or a new login. */
static int ec_open(struct ec_ctx *c, const osb_target *t, struct ec_state *st, int timeout_ms, osb_errbuf *err)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->st = t->dedicated ? NULL : st;
	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	snprintf(c->base, sizeof(c->base), strchr(t->host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
		 t->tls ? "https" : "http", t->host, t->port);
	if (c->st) {
		pthread_mutex_lock(&c->st->lock);
		snprintf(c->token, sizeof(c->token), "%s", c->st->token);
		pthread_mutex_unlock(&c->st->lock);
	}
	c->cached = c->token[0] != '\0';
	return c->cached ? 0 : ec_login(c);
}

static int ec_open_req(struct ec_ctx *c, osb_request *req, void *state)
{
	return ec_open(c, osb_request_target(req), state, osb_request_timeout_ms(req), osb_request_errbuf(req));
}

static void ec_close(struct ec_ctx *c)
{
	explicit_bzero(c->token, sizeof(c->token));
}

/* The instance's keys: [/<name>/, /<name>0), the prefix and the prefix with its last byte + 1, in base64. */
static int ec_range(struct ec_ctx *c, const char *name, char **key, char **end)
{
	char prefix[OSB_NAME_SIZE + 3];

	snprintf(prefix, sizeof(prefix), "/%s/", name);
	*key = ec_b64(prefix, strlen(prefix));
	prefix[strlen(prefix) - 1]++;
	*end = ec_b64(prefix, strlen(prefix));
	if (*key && *end)
		return 0;
	free(*key);
	free(*end);
	*key = *end = NULL;
	return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
}

/* Remove an instance: its role first (every user of it loses access at once), then its keys. */
static int ec_drop_instance(struct ec_ctx *c, const char *name, long long *deleted)
{
	cJSON *answer = NULL;
	char *key, *end;
	int rc = ec_callv(c, "/v3/auth/role/delete", NULL, "role", name, NULL);

	*deleted = 0;
	if ((rc < 0 && rc != OSB_ENOTFOUND) || (rc = ec_range(c, name, &key, &end)) < 0)
		return rc;
	rc = ec_callv(c, "/v3/kv/deleterange", &answer, "key", key, "range_end", end, NULL);
	*deleted = atoll(ec_str(answer, "deleted"));
	cJSON_Delete(answer);
	free(key);
	free(end);
	return rc;
}

/* -- instances ------------------------------------------------------------- */

/* A role with READWRITE on the instance's prefix only; adding the same role or permission again is harmless. */
static int etcd_provision(osb_request *req, void *state)
{
	const char *name = osb_request_instance_name(req);
	cJSON *body = cJSON_CreateObject(), *perm;
	struct ec_ctx c;
	char *key = NULL, *end = NULL;
	int rc;

	if ((rc = ec_open_req(&c, req, state)) < 0 || (rc = ec_range(&c, name, &key, &end)) < 0)
		goto done;
	if ((rc = ec_callv(&c, "/v3/auth/role/add", NULL, "name", name, NULL)) < 0 && rc != OSB_ECONFLICT)
		goto done;
	perm = cJSON_AddObjectToObject(body, "perm");
	if (!cJSON_AddStringToObject(body, "name", name) || !perm ||
	    !cJSON_AddStringToObject(perm, "permType", "READWRITE") || !cJSON_AddStringToObject(perm, "key", key) ||
	    !cJSON_AddStringToObject(perm, "range_end", end)) {
		rc = osb_req_fail(req, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = ec_call(&c, "/v3/auth/role/grant", body, NULL)) == 0)
		osb_request_note(req, "role %s: readwrite on /%s/", name, name);
done:
	cJSON_Delete(body);
	free(key);
	free(end);
	ec_close(&c);
	return rc;
}

static int etcd_deprovision(osb_request *req, void *state)
{
	struct ec_ctx c;
	long long deleted = 0;
	int rc;

	if ((rc = ec_open_req(&c, req, state)) == 0 &&
	    (rc = ec_drop_instance(&c, osb_request_instance_name(req), &deleted)) == 0)
		osb_request_note(req, "role and %lld keys deleted", deleted);
	ec_close(&c);
	return rc;
}

/* -- bindings -------------------------------------------------------------- */

static int etcd_bind(osb_request *req, void *state)
{
	const char *user = osb_request_binding_name(req), *role = osb_request_instance_name(req);
	const osb_target *t = osb_request_target(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", prefix[OSB_NAME_SIZE + 3];
	const char *endpoint;
	cJSON *cred = NULL, *endpoints;
	struct ec_ctx c;
	int rc;

	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	if ((rc = ec_open_req(&c, req, state)) < 0)
		goto done;
	/* A user an interrupted attempt made gets this attempt's password. */
	rc = ec_callv(&c, "/v3/auth/user/add", NULL, "name", user, "password", password, NULL);
	if (rc == OSB_ECONFLICT)
		rc = ec_callv(&c, "/v3/auth/user/changepw", NULL, "name", user, "password", password, NULL);
	if (rc < 0)
		goto done;
	if ((rc = ec_callv(&c, "/v3/auth/user/grant", NULL, "user", user, "role", role, NULL)) < 0) {
		if (rc == OSB_ENOTFOUND)
			rc = osb_req_fail(req, OSB_EBACKEND, "the instance's role %s is missing on etcd", role);
		goto done;
	}
	snprintf(prefix, sizeof(prefix), "/%s/", role);
	cred = osb_credentials_new(
		req,
		&(osb_credentials_spec){ .scheme = t->tls ? "https" : "http", .username = user, .password = password });
	endpoint = cred ? osb_req_sprintf(req, "%s://%s:%d", t->tls ? "https" : "http",
					  osb_uri_host(req, t->public_host), t->public_port)
			: NULL;
	endpoints = endpoint ? cJSON_CreateStringArray(&endpoint, 1) : NULL;
	if (!endpoints || !cJSON_AddItemToObject(cred, "endpoints", endpoints) ||
	    !cJSON_AddStringToObject(cred, "prefix", prefix)) {
		if (!cJSON_GetObjectItemCaseSensitive(cred, "endpoints"))
			cJSON_Delete(endpoints);
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) == 0)
		osb_request_note(req, "user %s with role %s (readwrite on %s)", user, role, prefix);
done:
	explicit_bzero(password, sizeof(password));
	ec_close(&c);
	return rc;
}

/* The user's tokens are refused from the next request on; a watch it opened before goes on (see README). */
static int etcd_unbind(osb_request *req, void *state)
{
	struct ec_ctx c;
	int rc;

	if ((rc = ec_open_req(&c, req, state)) == 0 &&
	    (rc = ec_callv(&c, "/v3/auth/user/delete", NULL, "name", osb_request_binding_name(req), NULL)) ==
		    OSB_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		osb_request_note(req, "user deleted, its tokens refused");
	ec_close(&c);
	return rc;
}

/* -- health and reconciliation --------------------------------------------- */

static int etcd_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct ec_ctx c;
	int rc;

	if ((rc = ec_open(&c, server, state, OSB_HEALTH_TIMEOUT_MS, err)) == 0)
		rc = ec_callv(&c, "/v3/maintenance/status", NULL, NULL);
	ec_close(&c);
	return rc;
}

/* Report the derived names of a list answer's `member` (role/list: "roles", user/list: "users"). */
static int ec_list_names(struct ec_ctx *c, const char *path, const char *member, osb_tenant_kind kind, osb_tenant_cb cb,
			 void *payload, int *stop)
{
	cJSON *answer = NULL;
	const cJSON *item;
	int rc = ec_callv(c, path, &answer, NULL);

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(
					 answer, member)) if (!*stop &&
							      osb_name_is_derived(cJSON_GetStringValue(item))) *stop =
		cb(kind, item->valuestring, payload);
	cJSON_Delete(answer);
	return rc;
}

/*
 * Instances that still have keys: walk the keys under "/osb_" one prefix at a
 * time (the first key at or after `from`, then on from just past its prefix),
 * so a prefix with a million keys costs one request. Keys are bytes.
 */
static int ec_list_prefixes(struct ec_ctx *c, osb_tenant_cb cb, void *payload, int *stop)
{
	char from[EC_KEY_MAX + 4] = "/osb_", key[EC_KEY_MAX + 4];
	size_t from_len = 5;
	int rc = 0;

	while (rc == 0 && !*stop) {
		char *k = ec_b64(from, from_len), *end = ec_b64("/osb`", 5);
		cJSON *answer = NULL, *body = cJSON_CreateObject();
		const char *first;
		int n;

		if (!k || !end || !body || !cJSON_AddStringToObject(body, "key", k) ||
		    !cJSON_AddStringToObject(body, "range_end", end) || !cJSON_AddNumberToObject(body, "limit", 1) ||
		    !cJSON_AddBoolToObject(body, "keys_only", 1))
			rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
		else
			rc = ec_call(c, "/v3/kv/range", body, &answer);
		first = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "kvs"), 0), "key"));
		n = first ? ec_unb64(first, key) : -1;
		if (rc < 0 || !first) {
			*stop = rc == 0; /* no key left */
		} else if (n < 0 || (size_t)n + 1 >= sizeof(from)) {
			rc = osb_errbuf_set(c->err, OSB_EBACKEND,
					    "etcd at %s: a key under /osb_ is too long to walk past", c->base);
		} else if (n >= OSB_NAME_SIZE + 1 && key[OSB_NAME_SIZE] == '/' &&
			   memchr(key, '\0', OSB_NAME_SIZE) == NULL) {
			key[OSB_NAME_SIZE] = '\0';
			if (osb_name_is_derived(key + 1))
				*stop = cb(OSB_TENANT_INSTANCE, key + 1, payload);
			key[OSB_NAME_SIZE] = '0'; /* past "/<name>/" */
			memcpy(from, key, OSB_NAME_SIZE + 1);
			from_len = OSB_NAME_SIZE + 1;
		} else {
			memcpy(from, key, (size_t)n); /* a key of no instance: just past it */
			from[n] = '\0';
			from_len = (size_t)n + 1;
		}
		cJSON_Delete(answer);
		cJSON_Delete(body);
		free(k);
		free(end);
	}
	return rc;
}

static int etcd_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct ec_ctx c;
	int rc, stop = 0;

	if ((rc = ec_open(&c, server, state, OSB_RECONCILE_TIMEOUT_MS, err)) == 0 &&
	    (rc = ec_list_names(&c, "/v3/auth/role/list", "roles", OSB_TENANT_INSTANCE, cb, payload, &stop)) == 0 &&
	    (rc = ec_list_names(&c, "/v3/auth/user/list", "users", OSB_TENANT_BINDING, cb, payload, &stop)) == 0)
		rc = ec_list_prefixes(&c, cb, payload, &stop);
	ec_close(&c);
	return rc;
}

static int etcd_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct ec_ctx c;
	long long deleted;
	int rc;

	if ((rc = ec_open(&c, server, state, OSB_RECONCILE_TIMEOUT_MS, err)) == 0) {
		if (kind == OSB_TENANT_INSTANCE)
			rc = ec_drop_instance(&c, name, &deleted);
		else if ((rc = ec_callv(&c, "/v3/auth/user/delete", NULL, "name", name, NULL)) == OSB_ENOTFOUND)
			rc = 0;
	}
	ec_close(&c);
	return rc;
}

/* -- dedicated servers ----------------------------------------------------- */

/*
 * etcd.yml for the port and the plan: clients on the dedicated host, the one
 * member's peer traffic on a unix socket in the instance's directory (its
 * working directory), the v2 API (which knows no v3 roles) off, history
 * compacted hourly.
 */
static int ec_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	long long quota = osb_request_plan_int(req, "quota_backend_bytes", 0);
	long long request = osb_request_plan_int(req, "max_request_bytes", 1572864);
	long long txn = osb_request_plan_int(req, "max_txn_ops", 128);
	osb_buf conf = OSB_BUF_INIT;
	int rc = 0;

	(void)state;
	if (strspn(t->dir, EC_PATH_CHARS) != strlen(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	osb_buf_printf(
		&conf,
		"# Rendered by osb-etcd-broker for one service instance; rewritten when its port changes.\n"
		"name: osb\ndata-dir: %s/data\nlisten-client-urls: http://%s:%d\nadvertise-client-urls: http://%s:%d\n"
		"listen-peer-urls: unix://peer:1\ninitial-advertise-peer-urls: unix://peer:1\n"
		"initial-cluster: osb=unix://peer:1\ninitial-cluster-state: new\nenable-v2: "
		"false\nenable-grpc-gateway: true\n"
		"quota-backend-bytes: %lld\nmax-request-bytes: %lld\nmax-txn-ops: %lld\n"
		"auto-compaction-mode: periodic\nauto-compaction-retention: \"1h\"\nlog-outputs: [stderr]\n",
		t->dir, t->host, t->port, t->host, t->port, quota, request, txn);
	if (!osb_buf_text(&conf))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, EC_CONF_FILE, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s in %s", EC_CONF_FILE, t->dir);
	osb_buf_free(&conf);
	return rc;
}

/* Whether a list answer's `member` holds no name but root: nobody made anything before authentication was on. */
static int ec_only_root(struct ec_ctx *c, const char *path, const char *member)
{
	cJSON *answer = NULL;
	const cJSON *name;
	int rc = ec_callv(c, path, &answer, NULL);

	cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(
					 answer, member)) if (rc == 0 && (!cJSON_IsString(name) ||
									  strcmp(name->valuestring, "root") != 0)) rc =
		osb_errbuf_set(c->err, OSB_EBACKEND,
			       "etcd at %s had %s made by someone else before "
			       "authentication was on: refusing it",
			       c->base, member);
	cJSON_Delete(answer);
	return rc;
}

/*
 * Ready when root logs in. A new server has authentication off: make root (the
 * core's generated password), check that nobody else made a user, a role or a
 * key in the moment it was open, then turn authentication on.
 */
static int ec_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct ec_ctx c;
	cJSON *answer = NULL, *all = NULL;
	int rc;

	(void)state;
	if ((rc = ec_open(&c, t, NULL, EC_READY_TIMEOUT_MS, err)) == 0 || !strstr(err->msg, "authentication off"))
		goto done;
	c.deadline = osb_clock_ms() + 10 * EC_READY_TIMEOUT_MS;
	if ((rc = ec_callv(&c, "/v3/auth/user/add", NULL, "name", "root", "password", t->admin_password, NULL)) < 0 &&
	    rc != OSB_ECONFLICT)
		goto done;
	if ((rc = ec_callv(&c, "/v3/auth/user/grant", NULL, "user", "root", "role", "root", NULL)) < 0 ||
	    (rc = ec_only_root(&c, "/v3/auth/user/list", "users")) < 0 ||
	    (rc = ec_only_root(&c, "/v3/auth/role/list", "roles")) < 0)
		goto done;
	/* Every key: from "\0" to the end ("\0" as range_end). */
	if (!(all = cJSON_Parse("{\"key\":\"AA==\",\"range_end\":\"AA==\",\"count_only\":true}"))) {
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = ec_call(&c, "/v3/kv/range", all, &answer)) < 0)
		goto done;
	if (atoll(ec_str(answer, "count")) != 0) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "etcd at %s had keys written before authentication was on",
				    c.base);
		goto done;
	}
	if ((rc = ec_callv(&c, "/v3/auth/enable", NULL, NULL)) == 0)
		rc = ec_open(&c, t, NULL, EC_READY_TIMEOUT_MS, err);
done:
	cJSON_Delete(answer);
	cJSON_Delete(all);
	ec_close(&c);
	return rc;
}

/* -- the driver ------------------------------------------------------------ */

static int etcd_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct ec_state *st = calloc(1, sizeof(*st));

	(void)config;
	(void)broker;
	if (!st || pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return OSB_ENOMEM;
	}
	*state = st;
	return 0;
}

static void etcd_shutdown(void *state)
{
	struct ec_state *st = state;

	if (!st)
		return;
	explicit_bzero(st->token, sizeof(st->token));
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static const osb_server_spec etcd_server = { .default_port = 2379, .default_admin_user = "root" };

static const osb_dedicated_spec etcd_dedicated = {
	.kind = "etcd",
	.program_key = "etcd",
	.program = "etcd",
	.args = (const char *const[]){ "--config-file", "{dir}/" EC_CONF_FILE, NULL },
	.admin_user = "root",
	.prepare = ec_prepare,
	.ready = ec_ready,
};

static const struct osb_driver etcd_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "etcd",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.server = &etcd_server,
	.dedicated = &etcd_dedicated,
	OSB_DRIVER_SLOTS(etcd, init, shutdown, provision, deprovision, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(etcd, etcd_driver);
