/* RabbitMQ driver: an instance is a vhost with plan limits, a binding a user with permissions on that vhost only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osb.h>

/* How long unbind waits for the server to drop the user's connections. */
#define RMQ_CLOSE_WAIT_MS 5000
/* URLs we build: base + /api + a few escaped segments of at most 3 * 255 bytes. */
#define RMQ_URL_MAX 4096
/* What amqp_host may hold: it goes into credentials and URIs, as the core's public_host does. */
#define RMQ_HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:"

/* The driver's own settings (the management API is the target); read-only after init. */
struct rmq_state {
	char *public_host; /* AMQP host in credentials: public_host, else amqp_host, else the API's host */
	int public_port;   /* AMQP port in credentials: public_port, else amqp_port */
	char *mgmt_url;    /* management UI/API base that apps and people see, without a trailing "/" */
	osb_url mgmt;      /* its parts */
};

/* One callback's calls: the management API, its deadline and where errors go. */
struct rmq_ctx {
	const osb_target *t;
	int base_len;     /* length of t->url without a trailing "/api": api_url may name either */
	int64_t deadline; /* osb_clock_ms() time */
	osb_errbuf *err;
};

static int rmq_base_len(const char *url)
{
	size_t len = strlen(url);

	return (int)(len >= 4 && strcmp(url + len - 4, "/api") == 0 ? len - 4 : len);
}

static void rmq_ctx_init(struct rmq_ctx *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	c->t = t;
	c->base_len = rmq_base_len(t->url);
	c->deadline = osb_clock_ms() + timeout_ms;
	c->err = err;
}

static void rmq_req_ctx(struct rmq_ctx *c, osb_request *req)
{
	rmq_ctx_init(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* "<base>/api" + fmt, where each %s is a path segment that gets percent-encoded; the rest is copied. */
static int rmq_vurl(char *out, size_t size, const struct rmq_ctx *c, const char *fmt, va_list ap)
{
	int w = snprintf(out, size, "%.*s/api", c->base_len, c->t->url);
	size_t n = w < 0 ? size : (size_t)w;

	for (const char *p = fmt; *p && n < size; p++) {
		if (p[0] == '%' && p[1] == 's') {
			w = osb_http_escape_segment(out + n, size - n, va_arg(ap, const char *));
			n = w < 0 ? size : n + (size_t)w;
			p++;
		} else if (n + 1 < size) {
			out[n++] = *p;
			out[n] = '\0';
		} else {
			n = size;
		}
	}
	return n < size ? 0 : OSB_ERROR;
}

/*
 * One management API call to the URL rmq_vurl() makes of `fmt`. 2xx gives 0;
 * 404 gives OSB_ENOTFOUND (the error text is set, callers that expect it ignore
 * it); 401 is the admin credentials; anything else is OSB_EBACKEND with the
 * server's reason.
 * @param body  JSON text to send, or NULL.
 * @param[out] json  the parsed body of a 2xx answer when not NULL; caller frees.
 */
static int rmq_call(struct rmq_ctx *c, const char *method, const char *body, cJSON **json, const char *fmt, ...)
	OSB_PRINTF(5, 6);

static int rmq_call(struct rmq_ctx *c, const char *method, const char *body, cJSON **json, const char *fmt, ...)
{
	const osb_target *t = c->t;
	osb_http_options opts = { .ca_file = t->ca_file };
	osb_http_response resp;
	char url[RMQ_URL_MAX];
	const char *path = url + c->base_len;
	va_list ap;
	int rc;

	if (json)
		*json = NULL;
	va_start(ap, fmt);
	rc = rmq_vurl(url, sizeof(url), c, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return osb_errbuf_set(c->err, OSB_ERROR, "RabbitMQ management URL too long");
	if (c->deadline <= osb_clock_ms())
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "out of time before %s %s on the RabbitMQ management API",
				      method, path);
	rc = osb_http_request(&opts, method, url, t->admin_user, t->admin_password, body, osb_ms_left(c->deadline),
			      &resp);
	if (rc == 0 && resp.status >= 200 && resp.status < 300) {
		if (json && !(*json = cJSON_ParseWithLength(resp.body, resp.body_len)))
			rc = osb_errbuf_set(c->err, OSB_EBACKEND,
					    "RabbitMQ answered %s %s with a body that is not JSON", method, path);
	} else if (rc == OSB_ETIMEOUT) {
		osb_errbuf_set(c->err, rc, "the RabbitMQ management API at %.*s did not answer %s %s in time",
			       c->base_len, t->url, method, path);
	} else if (rc == OSB_ENOMEM) {
		osb_errbuf_set(c->err, rc, "out of memory calling the RabbitMQ management API");
	} else if (rc < 0) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "cannot reach the RabbitMQ management API at %.*s: %s",
				    c->base_len, t->url, resp.error);
	} else if (resp.status == 401) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND,
				    "RabbitMQ refused the broker's admin credentials (user %s): "
				    "check driver.admin_user and driver.admin_password, and that the user has the "
				    "administrator tag",
				    t->admin_user);
	} else {
		cJSON *answer = cJSON_ParseWithLength(resp.body, resp.body_len);
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(answer, "reason");
		const char *reason = cJSON_IsString(r) ? r->valuestring : "";

		rc = osb_errbuf_set(c->err, resp.status == 404 ? OSB_ENOTFOUND : OSB_EBACKEND,
				    "RabbitMQ answered %ld to %s %s%s%.200s", resp.status, method, path,
				    reason[0] ? ": " : "", reason);
		cJSON_Delete(answer);
	}
	osb_http_response_free(&resp);
	return rc;
}

/* -- server-side steps ----------------------------------------------------- */

/* The instance's vhost must be there before a binding or an update touches it. */
static int rmq_vhost_check(struct rmq_ctx *c, const char *vhost)
{
	int rc = rmq_call(c, "GET", NULL, NULL, "/vhosts/%s", vhost);

	if (rc == OSB_ENOTFOUND)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "vhost %s of the instance is missing on the server", vhost);
	return rc;
}

/* The plan's limits (x-osb max_connections, max_queues); absent means RabbitMQ's "no limit", -1. */
static int rmq_set_limits(struct rmq_ctx *c, osb_request *req, const char *vhost)
{
	long long conns = osb_request_plan_int(req, "max_connections", -1);
	long long queues = osb_request_plan_int(req, "max_queues", -1);
	char body[64];
	int rc;

	snprintf(body, sizeof(body), "{\"value\":%lld}", conns < 0 ? -1 : conns);
	if ((rc = rmq_call(c, "PUT", body, NULL, "/vhost-limits/%s/max-connections", vhost)) < 0)
		return rc;
	snprintf(body, sizeof(body), "{\"value\":%lld}", queues < 0 ? -1 : queues);
	if ((rc = rmq_call(c, "PUT", body, NULL, "/vhost-limits/%s/max-queues", vhost)) < 0)
		return rc;
	osb_request_note(req, "vhost %s: max-connections %lld, max-queues %lld", vhost, conns, queues);
	return 0;
}

/*
 * Close the connections `user` still has open, in `vhost` (anywhere when NULL),
 * and keep checking until none is left or the time runs out. The list comes
 * from the management statistics, which see a new connection only after their
 * next collection (5 s by default), so this backs up RabbitMQ's own closing of
 * a deleted user's connections; it cannot replace it.
 * @param[out] left  how many were still open at the last look.
 */
static int rmq_close_connections(struct rmq_ctx *c, const char *vhost, const char *user, int *left)
{
	int64_t until = osb_clock_ms() + RMQ_CLOSE_WAIT_MS;
	const cJSON *conn;
	cJSON *list;
	int rc;

	for (;;) {
		*left = 0;
		if (vhost)
			rc = rmq_call(c, "GET", NULL, &list, "/vhosts/%s/connections?columns=name,user", vhost);
		else
			rc = rmq_call(c, "GET", NULL, &list, "/connections?columns=name,user");
		if (rc == OSB_ENOTFOUND)
			return 0; /* the vhost is gone, and its connections with it */
		if (rc == 0 && !cJSON_IsArray(list))
			rc = osb_errbuf_set(c->err, OSB_EBACKEND, "RabbitMQ listed connections in an unexpected shape");
		for (conn = rc == 0 ? list->child : NULL; conn && rc == 0; conn = conn->next) {
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(conn, "user");
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(conn, "name");

			if (!cJSON_IsString(u) || !cJSON_IsString(n) || strcmp(u->valuestring, user) != 0)
				continue;
			/* A listed connection that is already gone answers 404: the list lags behind. */
			rc = rmq_call(c, "DELETE", NULL, NULL, "/connections/%s", n->valuestring);
			if (rc == 0)
				(*left)++;
			else if (rc == OSB_ENOTFOUND)
				rc = 0;
		}
		cJSON_Delete(list);
		if (rc < 0 || *left == 0 || osb_clock_ms() >= until || c->deadline - osb_clock_ms() < 200)
			return rc;
		usleep(100 * 1000);
	}
}

/* Remove a binding's user: no new logins, then end the connections it still has. */
static int rmq_drop_user(struct rmq_ctx *c, const char *vhost, const char *user)
{
	int rc = rmq_call(c, "DELETE", NULL, NULL, "/users/%s", user), left = 0;

	if (rc < 0 && rc != OSB_ENOTFOUND)
		return rc;
	/* RabbitMQ closes a deleted user's connections itself; make sure of it. */
	if ((rc = rmq_close_connections(c, vhost, user, &left)) < 0)
		return rc;
	if (left > 0)
		return osb_errbuf_set(c->err, OSB_EBACKEND,
				      "user %s is deleted but %d of its connections are still open", user, left);
	return 0;
}

/* Whether every permission `user` has is on `vhost`. @return 1, 0, or an error code. */
static int rmq_only_on(struct rmq_ctx *c, const char *user, const char *vhost)
{
	cJSON *perms;
	const cJSON *p;
	int rc = rmq_call(c, "GET", NULL, &perms, "/users/%s/permissions", user);

	if (rc < 0)
		return rc == OSB_ENOTFOUND ? 0 : rc;
	rc = 1;
	cJSON_ArrayForEach(p, perms)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "vhost");

		if (!cJSON_IsString(v) || strcmp(v->valuestring, vhost) != 0)
			rc = 0;
	}
	cJSON_Delete(perms);
	return rc;
}

/*
 * Remove an instance: the broker-made users whose only permissions are on this
 * vhost, then the vhost (which drops its queues, exchanges and connections).
 * Users first, so that a retry after an interruption still finds them.
 */
static int rmq_drop_vhost(struct rmq_ctx *c, const char *vhost)
{
	cJSON *perms;
	const cJSON *p;
	int rc = rmq_call(c, "GET", NULL, &perms, "/vhosts/%s/permissions", vhost);

	if (rc == OSB_ENOTFOUND)
		return 0;
	for (p = rc == 0 ? perms->child : NULL; p; p = p->next) {
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(p, "user");

		if (!cJSON_IsString(user) || !osb_name_is_derived(user->valuestring))
			continue;
		if ((rc = rmq_only_on(c, user->valuestring, vhost)) == 1)
			rc = rmq_drop_user(c, vhost, user->valuestring);
		if (rc < 0)
			break;
	}
	cJSON_Delete(perms);
	if (rc < 0)
		return rc;
	rc = rmq_call(c, "DELETE", NULL, NULL, "/vhosts/%s", vhost);
	return rc == OSB_ENOTFOUND ? 0 : rc;
}

/* -- instances ------------------------------------------------------------- */

/* The management UI's login page: known from the config alone, so even the first answer has it. */
static int rabbitmq_dashboard_url(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	char *url = osb_req_sprintf(req, "%s/#/login/", st->mgmt_url);

	return url ? osb_request_set_dashboard_url(req, url) : OSB_ENOMEM;
}

static int rabbitmq_provision(osb_request *req, void *state)
{
	const char *vhost = osb_request_instance_name(req);
	struct rmq_ctx c;
	int rc;

	(void)state;
	rmq_req_ctx(&c, req);
	/* PUT is "create or keep": a retry after an interruption finds the vhost and goes on. */
	rc = rmq_call(&c, "PUT", "{\"description\":\"OSB service instance\",\"tags\":\"osb\"}", NULL, "/vhosts/%s",
		      vhost);
	return rc < 0 ? rc : rmq_set_limits(&c, req, vhost);
}

static int rabbitmq_update(osb_request *req, void *state)
{
	const char *vhost = osb_request_instance_name(req);
	struct rmq_ctx c;
	int rc;

	(void)state;
	rmq_req_ctx(&c, req);
	rc = rmq_vhost_check(&c, vhost);
	return rc < 0 ? rc : rmq_set_limits(&c, req, vhost);
}

static int rabbitmq_deprovision(osb_request *req, void *state)
{
	struct rmq_ctx c;

	(void)state;
	rmq_req_ctx(&c, req);
	osb_request_note(req, "vhost and its users deleted");
	return rmq_drop_vhost(&c, osb_request_instance_name(req));
}

/* -- bindings -------------------------------------------------------------- */

/* Add key: [s]; the CF shape repeats each address as a one-item list. @return 0 or -1. */
static int rmq_add_list(cJSON *obj, const char *key, const char *s)
{
	cJSON *a = cJSON_CreateStringArray(&s, 1);

	if (a && cJSON_AddItemToObject(obj, key, a))
		return 0;
	cJSON_Delete(a);
	return -1;
}

/* One entry of "protocols": where the protocol is and how to log in. @return it, or NULL without memory. */
static cJSON *rmq_protocol(cJSON *protocols, const char *name, const char *host, int port, const char *user,
			   const char *password, const char *uri, int ssl)
{
	cJSON *p = cJSON_AddObjectToObject(protocols, name);

	if (!p || !cJSON_AddStringToObject(p, "host", host) || rmq_add_list(p, "hosts", host) < 0 ||
	    !cJSON_AddNumberToObject(p, "port", port) || !cJSON_AddStringToObject(p, "username", user) ||
	    !cJSON_AddStringToObject(p, "password", password) || !cJSON_AddStringToObject(p, "uri", uri) ||
	    rmq_add_list(p, "uris", uri) < 0 || !cJSON_AddBoolToObject(p, "ssl", ssl))
		return NULL;
	return p;
}

/*
 * The credentials in the shape apps written for Cloud Foundry's and PaaS-TA's
 * RabbitMQ service read: top-level uri/username/... for AMQP, http_api_uri for
 * the management API, and the same per protocol under "protocols".
 */
static int rmq_credentials(osb_request *req, const struct rmq_state *st, const char *vhost, const char *user,
			   const char *password)
{
	const osb_credentials_spec spec = { .scheme = "amqp",
					    .username = user,
					    .password = password,
					    .path = vhost,
					    .host = st->public_host,
					    .port = st->public_port };
	cJSON *cred = osb_credentials_new(req, &spec), *protocols, *p;
	const char *uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "uri"));
	const char *api_base =
		osb_credentials_uri(req, st->mgmt.scheme, user, password, st->mgmt.host, st->mgmt.port, NULL);
	const char *api_path = osb_req_sprintf(req, "%s/api/", st->mgmt.path);
	const char *api_uri = api_base && api_path ? osb_req_sprintf(req, "%s%s", api_base, api_path) : NULL;
	const char *dashboard = osb_req_sprintf(req, "%s/#/login/", st->mgmt_url);
	char port[8];

	if (!cred)
		return OSB_ENOMEM;
	/* That shape names the AMQP host in hostname only, and its port under protocols. */
	cJSON_DeleteItemFromObjectCaseSensitive(cred, "host");
	cJSON_DeleteItemFromObjectCaseSensitive(cred, "port");
	protocols = cJSON_AddObjectToObject(cred, "protocols");
	snprintf(port, sizeof(port), "%d", st->mgmt.port);
	if (!uri || !api_uri || !dashboard || rmq_add_list(cred, "uris", uri) < 0 ||
	    rmq_add_list(cred, "hostnames", st->public_host) < 0 || !cJSON_AddStringToObject(cred, "vhost", vhost) ||
	    !cJSON_AddStringToObject(cred, "http_api_uri", api_uri) ||
	    rmq_add_list(cred, "http_api_uris", api_uri) < 0 || !cJSON_AddBoolToObject(cred, "ssl", 0) ||
	    !cJSON_AddStringToObject(cred, "dashboard_url", dashboard) ||
	    !(p = rmq_protocol(protocols, "amqp", st->public_host, st->public_port, user, password, uri, 0)) ||
	    !cJSON_AddStringToObject(p, "vhost", vhost) ||
	    !(p = rmq_protocol(protocols, "management", st->mgmt.host, st->mgmt.port, user, password, api_uri,
			       strcmp(st->mgmt.scheme, "https") == 0)) ||
	    !cJSON_AddStringToObject(p, "path", api_path) ||
	    osb_request_add_endpoint(req, st->mgmt.host, port, "tcp") < 0) {
		cJSON_Delete(cred);
		return osb_errbuf_set(osb_request_errbuf(req), OSB_ENOMEM, "out of memory building credentials");
	}
	return osb_credentials_set(req, cred);
}

static int rabbitmq_bind(osb_request *req, void *state)
{
	const char *vhost = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1], body[128];
	struct rmq_ctx c;
	int rc;

	rmq_req_ctx(&c, req);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	/* The password is [A-Za-z0-9] only, so it needs no JSON escaping. */
	snprintf(body, sizeof(body), "{\"password\":\"%s\",\"tags\":\"management\"}", password);
	/*
	 * PUT replaces the password of a user an interrupted attempt made: only this
	 * attempt's works. Tag "management" lets its http_api_uri see its own vhost, nothing else.
	 */
	if ((rc = rmq_vhost_check(&c, vhost)) == 0 && (rc = rmq_call(&c, "PUT", body, NULL, "/users/%s", user)) == 0 &&
	    (rc = rmq_call(&c, "PUT", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}", NULL,
			   "/permissions/%s/%s", vhost, user)) == 0 &&
	    (rc = rmq_credentials(req, state, vhost, user, password)) == 0)
		osb_request_note(req, "user %s can use vhost %s", user, vhost);
	explicit_bzero(password, sizeof(password));
	explicit_bzero(body, sizeof(body));
	return rc;
}

static int rabbitmq_unbind(osb_request *req, void *state)
{
	struct rmq_ctx c;

	(void)state;
	rmq_req_ctx(&c, req);
	osb_request_note(req, "user deleted and its connections closed");
	return rmq_drop_user(&c, osb_request_instance_name(req), osb_request_binding_name(req));
}

/* -- health and reconciliation --------------------------------------------- */

static int rabbitmq_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct rmq_ctx c;

	(void)state;
	rmq_ctx_init(&c, server, OSB_HEALTH_TIMEOUT_MS, err);
	return rmq_call(&c, "GET", NULL, NULL, "/overview?columns=rabbitmq_version");
}

/* Report every vhost (instances) or user (bindings) whose name the broker could have made. */
static int rmq_list_names(struct rmq_ctx *c, osb_tenant_kind kind, osb_tenant_cb cb, void *payload, int *stop)
{
	const cJSON *item;
	cJSON *list;
	int rc = rmq_call(c, "GET", NULL, &list,
			  kind == OSB_TENANT_INSTANCE ? "/vhosts?columns=name" : "/users?columns=name");

	if (rc < 0)
		return rc;
	if (!cJSON_IsArray(list))
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "RabbitMQ listed %s in an unexpected shape",
				    kind == OSB_TENANT_INSTANCE ? "vhosts" : "users");
	for (item = rc == 0 ? list->child : NULL; item && !*stop; item = item->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");

		if (cJSON_IsString(name) && osb_name_is_derived(name->valuestring))
			*stop = cb(kind, name->valuestring, payload);
	}
	cJSON_Delete(list);
	return rc;
}

static int rabbitmq_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct rmq_ctx c;
	int rc, stop = 0;

	(void)state;
	rmq_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	rc = rmq_list_names(&c, OSB_TENANT_INSTANCE, cb, payload, &stop);
	if (rc == 0 && !stop)
		rc = rmq_list_names(&c, OSB_TENANT_BINDING, cb, payload, &stop);
	return rc;
}

static int rabbitmq_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name,
			  osb_errbuf *err)
{
	struct rmq_ctx c;

	(void)state;
	rmq_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	return kind == OSB_TENANT_INSTANCE ? rmq_drop_vhost(&c, name) : rmq_drop_user(&c, NULL, name);
}

/* -- configuration --------------------------------------------------------- */

static void rabbitmq_shutdown(void *state)
{
	struct rmq_state *st = state;

	if (!st)
		return;
	free(st->public_host);
	free(st->mgmt_url);
	free(st);
}

static int rabbitmq_init(void **state, const cJSON *config, const osb_broker *broker)
{
	const osb_target *api = osb_broker_server(broker);
	struct rmq_state *st = calloc(1, sizeof(*st));
	char *amqp_host = NULL, *api_base = strndup(api->url, (size_t)rmq_base_len(api->url));
	osb_errbuf err = { 0 };
	int rc = OSB_ENOMEM, amqp_port = 0;
	size_t len;

	if (!st || !api_base)
		goto done;
	if ((rc = osb_driver_config_string(&amqp_host, config, "rabbitmq", "amqp_host", api->host)) < 0 ||
	    (rc = osb_driver_config_port(&amqp_port, config, "rabbitmq", "amqp_port", 5672)) < 0 ||
	    (rc = osb_driver_config_string(&st->mgmt_url, config, "rabbitmq", "management_public_url", api_base)) < 0)
		goto done;
	if (amqp_host[strspn(amqp_host, RMQ_HOST_CHARS)] || strlen(amqp_host) > 253) {
		osb_log(OSB_LOG_ERROR, "rabbitmq.config", "driver.amqp_host must be a host name or address");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	if ((rc = osb_url_parse(&st->mgmt, st->mgmt_url, "driver.management_public_url", &err)) < 0) {
		osb_log(OSB_LOG_ERROR, "rabbitmq.config", "%s", err.msg);
		goto done;
	}
	/* The UI's address as people see it, without a trailing "/". */
	for (len = strlen(st->mgmt_url); len > 0 && st->mgmt_url[len - 1] == '/'; len--)
		st->mgmt_url[len - 1] = '\0';
	/* Credentials name public_host and public_port (the core checked them) when set, else the AMQP listener. */
	if ((rc = osb_driver_config_string(&st->public_host, config, "rabbitmq", "public_host", amqp_host)) < 0 ||
	    (rc = osb_driver_config_port(&st->public_port, config, "rabbitmq", "public_port", amqp_port)) < 0)
		goto done;
	/* No call here: the broker starts while RabbitMQ is down and reports unready. */
	osb_log(OSB_LOG_INFO, "rabbitmq.config", "AMQP at %s:%d for apps; management UI %s", st->public_host,
		st->public_port, st->mgmt_url);
	*state = st;
	st = NULL;
done:
	free(amqp_host);
	free(api_base);
	rabbitmq_shutdown(st);
	return rc;
}

/* The management API: api_url (with or without "/api"), or host and port; admin_user is required. */
static const osb_server_spec rabbitmq_server = {
	.default_port = 15672,
	.default_admin_user = NULL,
	.url_key = "api_url",
	.default_url = "http://127.0.0.1:15672",
};

static const char *const rabbitmq_keys[] = { "amqp_host", "amqp_port", "management_public_url", NULL };

static const struct osb_driver rabbitmq_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "rabbitmq",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION,
	.server = &rabbitmq_server,
	.config_keys = rabbitmq_keys,
	OSB_DRIVER_SLOTS(rabbitmq, init, shutdown, provision, deprovision, update, bind, unbind, dashboard_url, health,
			 list, purge)
};

OSB_DRIVER_DEFINE(rabbitmq, rabbitmq_driver);
