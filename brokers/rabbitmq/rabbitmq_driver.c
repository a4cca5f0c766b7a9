/* RabbitMQ driver: an instance is a vhost with plan limits, a binding a user with permissions on that vhost only. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osb.h>
#include <osb/http_client.h>

#include "rabbitmq_driver.h"

/* list and purge run outside any request, so they get their own budget. */
#define RMQ_RECONCILE_TIMEOUT_MS 30000
#define RMQ_HEALTH_TIMEOUT_MS 1000
/* How long unbind waits for the server to drop the user's connections. */
#define RMQ_CLOSE_WAIT_MS 5000
/* URLs we build: base + /api + a few escaped segments of at most 3 * 255 bytes. */
#define RMQ_URL_MAX 4096

/* Tags of a binding's user: "management" lets its http_api_uri see its own vhost, nothing else. */
#define RMQ_BINDING_TAGS "management"

/* The driver's configuration; read-only after init, so callbacks share it without locks. */
struct rmq_state {
	char *api_url;          /* management API base the broker calls, without "/api" or a trailing "/" */
	char *admin_user;       /* a user with the administrator tag */
	char *admin_password;   /* its password; never logged */
	char *ca_file;          /* CA bundle for an https api_url, or NULL for the system's */
	char *amqp_host;        /* where the AMQP listener is */
	int amqp_port;          /* its port */
	char *public_host;      /* AMQP host written into credentials */
	char *mgmt_url;         /* management UI/API base that apps and people see, no trailing "/" */
	char *mgmt_scheme;      /* "http" or "https" of mgmt_url */
	char *mgmt_host;        /* its host, without brackets */
	int mgmt_port;          /* its port */
	char *mgmt_path;        /* its path prefix ("" or "/rabbit") */
	osb_http_options http;  /* TLS settings of every call */
};

/* One callback's calls: the state, its deadline and where errors go. */
struct rmq_ctx {
	const struct rmq_state *st;
	long long deadline;     /* CLOCK_MONOTONIC milliseconds */
	osb_errbuf *err;
};

static void rmq_ctx_init(struct rmq_ctx *c, const struct rmq_state *st, int timeout_ms, osb_errbuf *err)
{
	c->st = st;
	c->deadline = osb_clock_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	c->err = err;
}

static int rmq_left_ms(const struct rmq_ctx *c)
{
	long long left = c->deadline - osb_clock_ms();

	if (left < 1)
		return 1;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Keep a server's text to one short printable line (it goes into an OSB description). */
static void rmq_one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	if (!src)
		src = "";
	for (; *src && n + 1 < size; src++)
		dst[n++] = ((unsigned char)*src < ' ' || (unsigned char)*src == 0x7f) ? ' ' : *src;
	dst[n] = '\0';
}

/*
 * Build "<api_url>/api" followed by `fmt`, where each %s is one path segment
 * that gets percent-encoded and %q a query string copied as is (ours only).
 */
static int rmq_url(char *out, size_t size, const struct rmq_state *st, const char *fmt, ...)
{
	size_t n;
	const char *p;
	va_list ap;
	int rc = 0, w;

	w = snprintf(out, size, "%s/api", st->api_url);
	if (w < 0 || (size_t)w >= size)
		return OSB_ERROR;
	n = (size_t)w;
	va_start(ap, fmt);
	for (p = fmt; *p && rc == 0; p++) {
		if (p[0] == '%' && (p[1] == 's' || p[1] == 'q')) {
			const char *arg = va_arg(ap, const char *);

			if (p[1] == 's') {
				w = osb_http_escape_segment(out + n, size - n, arg);
				if (w < 0)
					rc = OSB_ERROR;
				else
					n += (size_t)w;
			} else {
				w = snprintf(out + n, size - n, "%s", arg);
				if (w < 0 || (size_t)w >= size - n)
					rc = OSB_ERROR;
				else
					n += (size_t)w;
			}
			p++;
		} else if (n + 1 < size) {
			out[n++] = *p;
			out[n] = '\0';
		} else {
			rc = OSB_ERROR;
		}
	}
	va_end(ap);
	return rc;
}

/*
 * One management API call. 2xx gives 0; 404 gives OSB_ENOTFOUND (the error
 * text is set, callers that expect it ignore it); 401 is the admin
 * credentials; anything else is OSB_EBACKEND with the server's reason.
 * @param[out] json  the parsed body of a 2xx answer when not NULL; caller frees.
 */
static int rmq_call(struct rmq_ctx *c, const char *method, const char *url, const char *body, cJSON **json)
{
	const struct rmq_state *st = c->st;
	osb_http_response resp;
	const char *path = url + strlen(st->api_url);
	char reason[200] = "";
	int rc;

	if (json)
		*json = NULL;
	if (c->deadline - osb_clock_ms() <= 0)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "out of time before %s %s on the RabbitMQ management API", method, path);
	rc = osb_http_request(&st->http, method, url, st->admin_user, st->admin_password, body, rmq_left_ms(c), &resp);
	if (rc == OSB_ETIMEOUT) {
		osb_errbuf_set(c->err, rc, "the RabbitMQ management API at %s did not answer %s %s in time",
			       st->api_url, method, path);
		goto done;
	}
	if (rc == OSB_ENOMEM) {
		osb_errbuf_set(c->err, rc, "out of memory calling the RabbitMQ management API");
		goto done;
	}
	if (rc < 0) {
		osb_errbuf_set(c->err, OSB_EBACKEND, "cannot reach the RabbitMQ management API at %s: %s", st->api_url, resp.error);
		rc = OSB_EBACKEND;
		goto done;
	}
	if (resp.status >= 200 && resp.status < 300) {
		if (json) {
			*json = cJSON_ParseWithLength(resp.body, resp.body_len);
			if (!*json)
				rc = osb_errbuf_set(c->err, OSB_EBACKEND, "RabbitMQ answered %s %s with a body that is not JSON",
						    method, path);
		}
		goto done;
	}
	if (resp.status == 401) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND,
				    "RabbitMQ refused the broker's admin credentials (user %s): check driver.admin_user and "
				    "driver.admin_password, and that the user has the administrator tag", st->admin_user);
		goto done;
	}
	{
		cJSON *err = cJSON_ParseWithLength(resp.body, resp.body_len);
		const cJSON *r = err ? cJSON_GetObjectItemCaseSensitive(err, "reason") : NULL;

		rmq_one_line(reason, sizeof(reason), cJSON_IsString(r) ? r->valuestring : "");
		cJSON_Delete(err);
	}
	rc = osb_errbuf_set(c->err, resp.status == 404 ? OSB_ENOTFOUND : OSB_EBACKEND,
			    "RabbitMQ answered %ld to %s %s%s%s", resp.status, method, path, reason[0] ? ": " : "", reason);
done:
	osb_http_response_free(&resp);
	return rc;
}

/* A call where "not found" is as good as done (DELETE of something already gone). */
static int rmq_call_gone_ok(struct rmq_ctx *c, const char *method, const char *url)
{
	int rc = rmq_call(c, method, url, NULL, NULL);

	return rc == OSB_ENOTFOUND ? 0 : rc;
}

/* PUT a JSON object built by the caller; the object is freed here. */
static int rmq_put_json(struct rmq_ctx *c, const char *url, cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	int rc;

	cJSON_Delete(obj);
	if (!text)
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	rc = rmq_call(c, "PUT", url, text, NULL);
	/* User bodies carry a password: wipe it before freeing. */
	explicit_bzero(text, strlen(text));
	cJSON_free(text);
	return rc;
}

static int rmq_url_fail(struct rmq_ctx *c)
{
	return osb_errbuf_set(c->err, OSB_ERROR, "RabbitMQ management URL too long");
}

/* -- server-side steps ----------------------------------------------------- */

static int rmq_vhost_exists(struct rmq_ctx *c, const char *vhost, int *found)
{
	char url[RMQ_URL_MAX];
	int rc;

	*found = 0;
	if (rmq_url(url, sizeof(url), c->st, "/vhosts/%s", vhost) < 0)
		return rmq_url_fail(c);
	rc = rmq_call(c, "GET", url, NULL, NULL);
	if (rc == OSB_ENOTFOUND)
		return 0;
	if (rc == 0)
		*found = 1;
	return rc;
}

/* Set one vhost limit; a negative value is RabbitMQ's "no limit". */
static int rmq_set_limit(struct rmq_ctx *c, const char *vhost, const char *limit, long long value)
{
	char url[RMQ_URL_MAX];
	cJSON *obj = cJSON_CreateObject();

	if (value < 0)
		value = -1;
	if (rmq_url(url, sizeof(url), c->st, "/vhost-limits/%s/%s", vhost, limit) < 0) {
		cJSON_Delete(obj);
		return rmq_url_fail(c);
	}
	if (!obj || !cJSON_AddNumberToObject(obj, "value", (double)value)) {
		cJSON_Delete(obj);
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	}
	return rmq_put_json(c, url, obj);
}

/* The plan's limits (x-osb max_connections, max_queues); absent means no limit. */
static int rmq_apply_limits(struct rmq_ctx *c, const osb_request *req, const char *vhost,
			    long long *max_connections, long long *max_queues)
{
	int rc;

	*max_connections = osb_request_plan_int(req, "max_connections", -1);
	*max_queues = osb_request_plan_int(req, "max_queues", -1);
	if (*max_connections > INT_MAX || *max_queues > INT_MAX)
		return osb_errbuf_set(c->err, OSB_ERROR, "plan limits out of range");
	if ((rc = rmq_set_limit(c, vhost, "max-connections", *max_connections)) < 0)
		return rc;
	return rmq_set_limit(c, vhost, "max-queues", *max_queues);
}

/*
 * Close the connections `user` still has open: in `vhost`, or anywhere when
 * vhost is NULL. With `wait`, keep checking until none is left or the time
 * runs out. The list comes from the management statistics, which see a new
 * connection only after their next collection (5 s by default), so this backs
 * up RabbitMQ's own closing of a deleted user's connections; it cannot replace it.
 * @param[out] left  how many were still open at the last look.
 */
static int rmq_close_connections(struct rmq_ctx *c, const char *vhost, const char *user, int wait, int *left)
{
	long long until = osb_clock_ms() + RMQ_CLOSE_WAIT_MS;
	char url[RMQ_URL_MAX];
	int rc = 0;

	*left = 0;
	for (;;) {
		cJSON *list = NULL;
		const cJSON *conn;
		int seen = 0;

		if (vhost)
			rc = rmq_url(url, sizeof(url), c->st, "/vhosts/%s/connections%q", vhost, "?columns=name,user");
		else
			rc = rmq_url(url, sizeof(url), c->st, "/connections%q", "?columns=name,user");
		if (rc < 0)
			return rmq_url_fail(c);
		rc = rmq_call(c, "GET", url, NULL, &list);
		if (rc == OSB_ENOTFOUND) {
			/* The vhost is gone, and its connections with it. */
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(list);
			return osb_errbuf_set(c->err, OSB_EBACKEND, "RabbitMQ listed connections in an unexpected shape");
		}
		cJSON_ArrayForEach(conn, list) {
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(conn, "user");
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(conn, "name");

			if (!cJSON_IsString(u) || !cJSON_IsString(n) || strcmp(u->valuestring, user) != 0)
				continue;
			if (rmq_url(url, sizeof(url), c->st, "/connections/%s", n->valuestring) < 0) {
				rc = rmq_url_fail(c);
				break;
			}
			/* A listed connection that is already gone answers 404: the list lags behind. */
			rc = rmq_call(c, "DELETE", url, NULL, NULL);
			if (rc == OSB_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc < 0)
				break;
			seen++;
		}
		cJSON_Delete(list);
		*left = seen;
		if (rc < 0 || seen == 0 || !wait)
			break;
		if (osb_clock_ms() >= until || c->deadline - osb_clock_ms() < 200)
			break;
		usleep(100 * 1000);
	}
	return rc;
}

/* Remove a binding's user: no new logins, then end the connections it still has. */
static int rmq_drop_user(struct rmq_ctx *c, const char *vhost, const char *user)
{
	char url[RMQ_URL_MAX];
	int rc, left = 0;

	if (rmq_url(url, sizeof(url), c->st, "/users/%s", user) < 0)
		return rmq_url_fail(c);
	if ((rc = rmq_call_gone_ok(c, "DELETE", url)) < 0)
		return rc;
	/* RabbitMQ closes a deleted user's connections itself; make sure of it. */
	if ((rc = rmq_close_connections(c, vhost, user, 1, &left)) < 0)
		return rc;
	if (left > 0)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "user %s is deleted but %d of its connections are still open",
				      user, left);
	return 0;
}

/*
 * Remove an instance: the broker-made users whose only permissions are on this
 * vhost, then the vhost (which drops its queues, exchanges and connections).
 * Users first, so that a retry after an interruption still finds them.
 */
static int rmq_drop_vhost(struct rmq_ctx *c, const char *vhost)
{
	char url[RMQ_URL_MAX];
	cJSON *perms = NULL, *theirs = NULL;
	const cJSON *p, *q;
	int rc;

	if (rmq_url(url, sizeof(url), c->st, "/vhosts/%s/permissions", vhost) < 0)
		return rmq_url_fail(c);
	rc = rmq_call(c, "GET", url, NULL, &perms);
	if (rc == OSB_ENOTFOUND)
		return 0;
	if (rc < 0)
		goto done;
	cJSON_ArrayForEach(p, perms) {
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(p, "user");
		int only_here = 1;

		if (!cJSON_IsString(user) || !osb_name_is_derived(user->valuestring))
			continue;
		if (rmq_url(url, sizeof(url), c->st, "/users/%s/permissions", user->valuestring) < 0) {
			rc = rmq_url_fail(c);
			goto done;
		}
		rc = rmq_call(c, "GET", url, NULL, &theirs);
		if (rc == OSB_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto done;
		cJSON_ArrayForEach(q, theirs) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(q, "vhost");

			if (!cJSON_IsString(v) || strcmp(v->valuestring, vhost) != 0)
				only_here = 0;
		}
		cJSON_Delete(theirs);
		theirs = NULL;
		if (only_here && (rc = rmq_drop_user(c, vhost, user->valuestring)) < 0)
			goto done;
	}
	if (rmq_url(url, sizeof(url), c->st, "/vhosts/%s", vhost) < 0) {
		rc = rmq_url_fail(c);
		goto done;
	}
	rc = rmq_call_gone_ok(c, "DELETE", url);
done:
	cJSON_Delete(theirs);
	cJSON_Delete(perms);
	return rc;
}

/* The platform validated parameters against the catalog's schema; this keeps the driver strict if it changes. */
static int rmq_check_parameters(const cJSON *params, osb_errbuf *err)
{
	if (params && cJSON_IsObject(params) && params->child)
		return osb_errbuf_set(err, OSB_EBADREQUEST, "unknown parameter \"%.64s\": this service takes no parameters",
				      params->child->string ? params->child->string : "");
	if (params && !cJSON_IsObject(params))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "parameters must be an object");
	return 0;
}

/* -- instances ------------------------------------------------------------- */

static int rabbitmq_provision(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char vhost[OSB_NAME_SIZE], url[RMQ_URL_MAX];
	long long max_connections, max_queues;
	cJSON *body = NULL, *saved = NULL;
	char *dashboard;
	int rc;

	rmq_ctx_init(&c, st, osb_request_timeout_ms(req), &err);
	osb_name_instance(vhost, osb_request_instance_id(req));
	if ((rc = rmq_check_parameters(osb_request_parameters(req), &err)) < 0)
		goto done;
	if (rmq_url(url, sizeof(url), st, "/vhosts/%s", vhost) < 0) {
		rc = rmq_url_fail(&c);
		goto done;
	}
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "description", "OSB service instance") ||
	    !cJSON_AddStringToObject(body, "tags", "osb")) {
		cJSON_Delete(body);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	/* PUT is "create or keep": a retry after an interruption finds the vhost and goes on. */
	if ((rc = rmq_put_json(&c, url, body)) < 0)
		goto done;
	if ((rc = rmq_apply_limits(&c, req, vhost, &max_connections, &max_queues)) < 0)
		goto done;

	dashboard = osb_req_sprintf(req, "%s/#/login/", st->mgmt_url);
	if (!dashboard || osb_request_set_dashboard_url(req, dashboard) < 0) {
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "vhost", vhost)) {
		cJSON_Delete(saved);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_instance_state(req, saved)) < 0) {
		osb_errbuf_set(&err, rc, "cannot save instance state");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "rabbitmq.provisioned", "vhost %s ready (max-connections %lld, max-queues %lld)",
		vhost, max_connections, max_queues);
done:
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int rabbitmq_update(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char vhost[OSB_NAME_SIZE];
	long long max_connections, max_queues;
	int rc, found;

	rmq_ctx_init(&c, st, osb_request_timeout_ms(req), &err);
	osb_name_instance(vhost, osb_request_instance_id(req));
	if ((rc = rmq_check_parameters(osb_request_parameters(req), &err)) < 0)
		goto done;
	if ((rc = rmq_vhost_exists(&c, vhost, &found)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "vhost %s of the instance is missing on the server", vhost);
		goto done;
	}
	if ((rc = rmq_apply_limits(&c, req, vhost, &max_connections, &max_queues)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "rabbitmq.updated", "vhost %s now has max-connections %lld, max-queues %lld",
		vhost, max_connections, max_queues);
done:
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int rabbitmq_deprovision(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char vhost[OSB_NAME_SIZE];
	int rc;

	rmq_ctx_init(&c, st, osb_request_timeout_ms(req), &err);
	osb_name_instance(vhost, osb_request_instance_id(req));
	if ((rc = rmq_drop_vhost(&c, vhost)) < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	osb_log(OSB_LOG_INFO, "rabbitmq.deprovisioned", "vhost %s and its users deleted", vhost);
	return 0;
}

/* -- bindings -------------------------------------------------------------- */

static cJSON *rmq_string_array(const char *s)
{
	cJSON *a = cJSON_CreateArray(), *item = cJSON_CreateString(s);

	if (!a || !item || !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(a);
		cJSON_Delete(item);
		return NULL;
	}
	return a;
}

/* Add key: [s] to obj. @return 0 or -1. */
static int rmq_add_list(cJSON *obj, const char *key, const char *s)
{
	cJSON *a = rmq_string_array(s);

	if (!a)
		return -1;
	if (!cJSON_AddItemToObject(obj, key, a)) {
		cJSON_Delete(a);
		return -1;
	}
	return 0;
}

/*
 * The credentials in the shape apps written for Cloud Foundry's and PaaS-TA's
 * RabbitMQ service read: top-level uri/username/... for AMQP, http_api_uri for
 * the management API, and the same per protocol under "protocols".
 */
static cJSON *rmq_credentials(osb_request *req, const struct rmq_state *st, const char *vhost,
			      const char *user, const char *password)
{
	const char *amqp_host = osb_uri_host(req, st->public_host);
	const char *mgmt_host = osb_uri_host(req, st->mgmt_host);
	char *euser = osb_uri_escape(req, user), *epass = osb_uri_escape(req, password);
	char *evhost = osb_uri_escape(req, vhost);
	char *uri = NULL, *api_uri = NULL, *api_path = NULL, *dashboard = NULL;
	cJSON *cred = NULL, *protocols, *amqp, *mgmt;
	int https = strcmp(st->mgmt_scheme, "https") == 0;

	if (!amqp_host || !mgmt_host || !euser || !epass || !evhost)
		return NULL;
	uri = osb_req_sprintf(req, "amqp://%s:%s@%s:%d/%s", euser, epass, amqp_host, st->amqp_port, evhost);
	api_path = osb_req_sprintf(req, "%s/api/", st->mgmt_path);
	if (api_path)
		api_uri = osb_req_sprintf(req, "%s://%s:%s@%s:%d%s", st->mgmt_scheme, euser, epass, mgmt_host,
					  st->mgmt_port, api_path);
	dashboard = osb_req_sprintf(req, "%s/#/login/", st->mgmt_url);
	if (!uri || !api_uri || !dashboard)
		return NULL;

	cred = cJSON_CreateObject();
	protocols = cJSON_AddObjectToObject(cred, "protocols");
	amqp = cJSON_AddObjectToObject(protocols, "amqp");
	mgmt = cJSON_AddObjectToObject(protocols, "management");
	if (!cred || !protocols || !amqp || !mgmt ||
	    !cJSON_AddStringToObject(cred, "uri", uri) || rmq_add_list(cred, "uris", uri) < 0 ||
	    !cJSON_AddStringToObject(cred, "hostname", st->public_host) ||
	    rmq_add_list(cred, "hostnames", st->public_host) < 0 ||
	    !cJSON_AddStringToObject(cred, "username", user) ||
	    !cJSON_AddStringToObject(cred, "password", password) ||
	    !cJSON_AddStringToObject(cred, "vhost", vhost) ||
	    !cJSON_AddStringToObject(cred, "http_api_uri", api_uri) ||
	    rmq_add_list(cred, "http_api_uris", api_uri) < 0 ||
	    !cJSON_AddBoolToObject(cred, "ssl", 0) ||
	    !cJSON_AddStringToObject(cred, "dashboard_url", dashboard) ||
	    !cJSON_AddStringToObject(amqp, "host", st->public_host) ||
	    rmq_add_list(amqp, "hosts", st->public_host) < 0 ||
	    !cJSON_AddNumberToObject(amqp, "port", st->amqp_port) ||
	    !cJSON_AddStringToObject(amqp, "username", user) ||
	    !cJSON_AddStringToObject(amqp, "password", password) ||
	    !cJSON_AddStringToObject(amqp, "vhost", vhost) ||
	    !cJSON_AddStringToObject(amqp, "uri", uri) || rmq_add_list(amqp, "uris", uri) < 0 ||
	    !cJSON_AddBoolToObject(amqp, "ssl", 0) ||
	    !cJSON_AddStringToObject(mgmt, "host", st->mgmt_host) ||
	    rmq_add_list(mgmt, "hosts", st->mgmt_host) < 0 ||
	    !cJSON_AddNumberToObject(mgmt, "port", st->mgmt_port) ||
	    !cJSON_AddStringToObject(mgmt, "username", user) ||
	    !cJSON_AddStringToObject(mgmt, "password", password) ||
	    !cJSON_AddStringToObject(mgmt, "path", api_path) ||
	    !cJSON_AddStringToObject(mgmt, "uri", api_uri) || rmq_add_list(mgmt, "uris", api_uri) < 0 ||
	    !cJSON_AddBoolToObject(mgmt, "ssl", https)) {
		cJSON_Delete(cred);
		return NULL;
	}
	return cred;
}

static int rabbitmq_bind(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char vhost[OSB_NAME_SIZE], user[OSB_NAME_SIZE], url[RMQ_URL_MAX], port[16];
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "";
	cJSON *body = NULL, *cred = NULL, *saved = NULL;
	int rc, found;

	rmq_ctx_init(&c, st, osb_request_timeout_ms(req), &err);
	osb_name_instance(vhost, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	if ((rc = rmq_check_parameters(osb_request_parameters(req), &err)) < 0)
		goto done;
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_errbuf_set(&err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if ((rc = rmq_vhost_exists(&c, vhost, &found)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "vhost %s of the instance is missing on the server", vhost);
		goto done;
	}

	/* PUT replaces the password of a user an interrupted attempt made: only this attempt's works. */
	if (rmq_url(url, sizeof(url), st, "/users/%s", user) < 0) {
		rc = rmq_url_fail(&c);
		goto done;
	}
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "password", password) ||
	    !cJSON_AddStringToObject(body, "tags", RMQ_BINDING_TAGS)) {
		cJSON_Delete(body);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = rmq_put_json(&c, url, body)) < 0)
		goto done;

	if (rmq_url(url, sizeof(url), st, "/permissions/%s/%s", vhost, user) < 0) {
		rc = rmq_url_fail(&c);
		goto done;
	}
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "configure", ".*") ||
	    !cJSON_AddStringToObject(body, "write", ".*") || !cJSON_AddStringToObject(body, "read", ".*")) {
		cJSON_Delete(body);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = rmq_put_json(&c, url, body)) < 0)
		goto done;

	cred = rmq_credentials(req, st, vhost, user, password);
	if (!cred) {
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_credentials(req, cred)) < 0) {
		osb_errbuf_set(&err, rc, "cannot store credentials");
		goto done;
	}
	snprintf(port, sizeof(port), "%d", st->amqp_port);
	if ((rc = osb_request_add_endpoint(req, st->public_host, port, "tcp")) < 0) {
		osb_errbuf_set(&err, rc, "cannot store endpoint");
		goto done;
	}
	snprintf(port, sizeof(port), "%d", st->mgmt_port);
	if ((rc = osb_request_add_endpoint(req, st->mgmt_host, port, "tcp")) < 0) {
		osb_errbuf_set(&err, rc, "cannot store endpoint");
		goto done;
	}
	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "username", user) ||
	    !cJSON_AddStringToObject(saved, "vhost", vhost)) {
		cJSON_Delete(saved);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_binding_state(req, saved)) < 0) {
		osb_errbuf_set(&err, rc, "cannot save binding state");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "rabbitmq.bound", "user %s can use vhost %s", user, vhost);
done:
	explicit_bzero(password, sizeof(password));
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int rabbitmq_unbind(osb_request *req, void *state)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char vhost[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	int rc;

	rmq_ctx_init(&c, st, osb_request_timeout_ms(req), &err);
	osb_name_instance(vhost, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	if ((rc = rmq_drop_user(&c, vhost, user)) < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	osb_log(OSB_LOG_INFO, "rabbitmq.unbound", "user %s deleted and its connections closed", user);
	return 0;
}

/* -- health and reconciliation --------------------------------------------- */

static int rabbitmq_health(void *state, char *msg, size_t msg_size)
{
	const struct rmq_state *st = state;
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	char url[RMQ_URL_MAX];
	int rc;

	rmq_ctx_init(&c, st, RMQ_HEALTH_TIMEOUT_MS, &err);
	if (rmq_url(url, sizeof(url), st, "/overview%q", "?columns=rabbitmq_version") < 0)
		rc = rmq_url_fail(&c);
	else
		rc = rmq_call(&c, "GET", url, NULL, NULL);
	if (rc < 0) {
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s", err.msg);
		return OSB_EBACKEND;
	}
	return 0;
}

/* Report every name in a list of {"name": ...} objects that the broker could have made. */
static int rmq_list_names(struct rmq_ctx *c, const char *what, osb_tenant_kind kind, osb_tenant_cb cb,
			  void *payload, int *stop)
{
	char url[RMQ_URL_MAX];
	cJSON *list = NULL;
	const cJSON *item;
	int rc;

	if (rmq_url(url, sizeof(url), c->st, "/%q%q", what, "?columns=name") < 0)
		return rmq_url_fail(c);
	if ((rc = rmq_call(c, "GET", url, NULL, &list)) < 0)
		return rc;
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		return osb_errbuf_set(c->err, OSB_EBACKEND, "RabbitMQ listed %s in an unexpected shape", what);
	}
	cJSON_ArrayForEach(item, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");

		if (*stop)
			break;
		if (cJSON_IsString(name) && osb_name_is_derived(name->valuestring))
			*stop = cb(kind, name->valuestring, payload);
	}
	cJSON_Delete(list);
	return 0;
}

static int rabbitmq_list(void *state, osb_tenant_cb cb, void *payload)
{
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	int rc, stop = 0;

	rmq_ctx_init(&c, state, RMQ_RECONCILE_TIMEOUT_MS, &err);
	rc = rmq_list_names(&c, "vhosts", OSB_TENANT_INSTANCE, cb, payload, &stop);
	if (rc == 0 && !stop)
		rc = rmq_list_names(&c, "users", OSB_TENANT_BINDING, cb, payload, &stop);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "rabbitmq.list_failed", "%s", err.msg);
	return rc;
}

static int rabbitmq_purge(void *state, osb_tenant_kind kind, const char *name)
{
	osb_errbuf err = { 0 };
	struct rmq_ctx c;
	int rc;

	rmq_ctx_init(&c, state, RMQ_RECONCILE_TIMEOUT_MS, &err);
	if (!osb_name_is_derived(name))
		rc = osb_errbuf_set(&err, OSB_EBADREQUEST, "refusing to purge \"%.64s\": not a broker-made name",
				    name ? name : "");
	else if (kind == OSB_TENANT_INSTANCE)
		rc = rmq_drop_vhost(&c, name);
	else
		rc = rmq_drop_user(&c, NULL, name);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "rabbitmq.purge_failed", "%s", err.msg);
	else
		osb_log(OSB_LOG_INFO, "rabbitmq.purged", "%s %s removed",
			kind == OSB_TENANT_INSTANCE ? "vhost" : "user", name);
	return rc;
}

/* -- configuration --------------------------------------------------------- */

static void rmq_state_free(struct rmq_state *st)
{
	if (!st)
		return;
	osb_driver_config_free_secret(st->admin_password);
	free(st->api_url);
	free(st->admin_user);
	free(st->ca_file);
	free(st->amqp_host);
	free(st->public_host);
	free(st->mgmt_url);
	free(st->mgmt_scheme);
	free(st->mgmt_host);
	free(st->mgmt_path);
	free(st);
}

static int rmq_config_error(const char *fmt, ...) OSB_PRINTF(1, 2);

static int rmq_config_error(const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	osb_log(OSB_LOG_ERROR, "rabbitmq.config", "%s", msg);
	return OSB_EBADREQUEST;
}

static int rmq_parse_port(const char *s, size_t len)
{
	long port = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535 ? (int)port : -1;
}

/* Host names and addresses only: they go into URLs and credentials. */
static int rmq_host_ok(const char *host, size_t len)
{
	size_t i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = host[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '.' || ch == ':'))
			return 0;
	}
	return 1;
}

/*
 * Split an http(s) URL "scheme://host[:port][/path]" (host may be "[v6]").
 * No user info, query or fragment. Trailing "/" are dropped from the path.
 */
static int rmq_parse_url(const char *url, const char *key, char **scheme, char **host, int *port, char **path)
{
	const char *p, *h, *hend, *pend;
	size_t plen;
	int def_port;

	if (strncmp(url, "http://", 7) == 0) {
		*scheme = strdup("http");
		p = url + 7;
		def_port = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		*scheme = strdup("https");
		p = url + 8;
		def_port = 443;
	} else {
		return rmq_config_error("driver.%s must be an http:// or https:// URL", key);
	}
	if (!*scheme)
		return OSB_ENOMEM;
	if (strpbrk(url, "@?# \t\r\n\\\"'<>"))
		return rmq_config_error("driver.%s must not have user info, a query, a fragment or spaces", key);
	pend = p + strcspn(p, "/");
	if (*p == '[') {
		h = p + 1;
		hend = memchr(h, ']', (size_t)(pend - h));
		if (!hend)
			return rmq_config_error("driver.%s has a bad IPv6 address", key);
		p = hend + 1;
	} else {
		h = p;
		hend = memchr(h, ':', (size_t)(pend - h));
		if (!hend)
			hend = pend;
		p = hend;
	}
	if (!rmq_host_ok(h, (size_t)(hend - h)) || (h[-1] != '[' && memchr(h, ':', (size_t)(hend - h))))
		return rmq_config_error("driver.%s has a bad host name", key);
	if (*p == ':') {
		*port = rmq_parse_port(p + 1, (size_t)(pend - p - 1));
		if (*port < 0)
			return rmq_config_error("driver.%s has a bad port", key);
	} else if (p == pend) {
		*port = def_port;
	} else {
		return rmq_config_error("driver.%s has a bad host name", key);
	}
	*host = strndup(h, (size_t)(hend - h));
	plen = strlen(pend);
	while (plen > 0 && pend[plen - 1] == '/')
		plen--;
	*path = strndup(pend, plen);
	return *host && *path ? 0 : OSB_ENOMEM;
}

/* api_url: the base, or the base with "/api" — both are accepted; kept without "/api" and "/". */
static int rmq_config_api(struct rmq_state *st, char **api_host)
{
	char *scheme = NULL, *path = NULL;
	size_t len;
	int port, rc;

	rc = rmq_parse_url(st->api_url, "api_url", &scheme, api_host, &port, &path);
	if (rc == 0) {
		len = strlen(path);
		if (len >= 4 && strcmp(path + len - 4, "/api") == 0)
			path[len - 4] = '\0';
		free(st->api_url);
		st->api_url = NULL;
		if (strchr(*api_host, ':'))
			rc = asprintf(&st->api_url, "%s://[%s]:%d%s", scheme, *api_host, port, path) < 0 ? OSB_ENOMEM : 0;
		else
			rc = asprintf(&st->api_url, "%s://%s:%d%s", scheme, *api_host, port, path) < 0 ? OSB_ENOMEM : 0;
		if (rc < 0)
			st->api_url = NULL;
	}
	free(scheme);
	free(path);
	return rc;
}

static int rabbitmq_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char *const known[] = {
		"api_url", "admin_user", "admin_password", "ca_file", "amqp_host", "amqp_port",
		"public_host", "management_public_url", NULL,
	};
	static const char *const me = "rabbitmq";
	struct rmq_state *st = NULL;
	char *api_host = NULL;
	size_t i;
	int rc = 0;

	(void)broker;
	*state = NULL;
	if ((rc = osb_driver_config_check_keys(config, me, known)) < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->api_url, config, me, "api_url", "http://127.0.0.1:15672")) < 0 ||
	    (rc = rmq_config_api(st, &api_host)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_user, config, me, "admin_user", NULL)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_password, config, me, "admin_password", NULL)) < 0 ||
	    (rc = osb_driver_config_string(&st->amqp_host, config, me, "amqp_host", api_host)) < 0 ||
	    (rc = osb_driver_config_port(&st->amqp_port, config, me, "amqp_port", 5672)) < 0 ||
	    (rc = osb_driver_config_string(&st->public_host, config, me, "public_host", st->amqp_host)) < 0 ||
	    (rc = osb_driver_config_string(&st->mgmt_url, config, me, "management_public_url", st->api_url)) < 0)
		goto done;
	if (cJSON_GetObjectItemCaseSensitive(config, "ca_file") &&
	    (rc = osb_driver_config_string(&st->ca_file, config, me, "ca_file", NULL)) < 0)
		goto done;
	if (!rmq_host_ok(st->amqp_host, strlen(st->amqp_host))) {
		rc = rmq_config_error("driver.amqp_host must be a host name or address");
		goto done;
	}
	if (!rmq_host_ok(st->public_host, strlen(st->public_host))) {
		rc = rmq_config_error("driver.public_host must be a host name or address");
		goto done;
	}
	if (strchr(st->admin_user, ':')) {
		rc = rmq_config_error("driver.admin_user must not contain ':'");
		goto done;
	}
	if (st->ca_file && access(st->ca_file, R_OK) != 0) {
		rc = rmq_config_error("driver.ca_file %s cannot be read: %s", st->ca_file, strerror(errno));
		goto done;
	}
	if ((rc = rmq_parse_url(st->mgmt_url, "management_public_url", &st->mgmt_scheme, &st->mgmt_host,
				&st->mgmt_port, &st->mgmt_path)) < 0)
		goto done;
	/* The UI's address as people see it, without a trailing "/". */
	for (i = strlen(st->mgmt_url); i > 0 && st->mgmt_url[i - 1] == '/'; i--)
		st->mgmt_url[i - 1] = '\0';
	st->http.ca_file = st->ca_file;

	/* No call here: the broker starts while RabbitMQ is down and reports unready. */
	osb_log(OSB_LOG_INFO, "rabbitmq.config", "RabbitMQ management API %s as %s; AMQP at %s:%d for apps (%s)",
		st->api_url, st->admin_user, st->public_host, st->amqp_port, st->mgmt_url);
	*state = st;
	st = NULL;
done:
	free(api_host);
	rmq_state_free(st);
	return rc;
}

static void rabbitmq_shutdown(void *state)
{
	rmq_state_free(state);
}

static const struct osb_driver rabbitmq_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "rabbitmq",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION,
	.init = rabbitmq_init,
	.shutdown = rabbitmq_shutdown,
	.provision = rabbitmq_provision,
	.deprovision = rabbitmq_deprovision,
	.update = rabbitmq_update,
	.bind = rabbitmq_bind,
	.unbind = rabbitmq_unbind,
	.health = rabbitmq_health,
	.list = rabbitmq_list,
	.purge = rabbitmq_purge,
};

const struct osb_driver *osb_rabbitmq_driver(void)
{
	return &rabbitmq_driver;
}
