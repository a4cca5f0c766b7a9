/* InfluxDB driver: an instance is a database with the plan's retention, a binding a user with ALL (or READ) on it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <osb.h>

/* The database's default retention policy, the one writes without `rp` go to; the plan sets its duration. */
#define IFX_RP "autogen"
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define IFX_READY_TIMEOUT_MS 500
/* The dedicated template: its server's config and pid, and the admin's first password (copied into each instance). */
#define IFX_CONF "influxdb.conf"
#define IFX_TEMPLATE_PID "influxd.pid"
#define IFX_TEMPLATE_PW "template.pw"
#define IFX_TEMPLATE_TIMEOUT_MS 60000
/* Characters of paths written into influxdb.conf (TOML strings): nothing to escape. */
#define IFX_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

/* One callback's calls: the server, who logs in, the deadline and where errors go. */
struct ifx_ctx {
	const osb_target *t;
	const char *user, *password; /* the target's admin, or another login; user NULL: none */
	char base[300];              /* "http://host:port" */
	int64_t deadline;            /* osb_clock_ms() */
	osb_errbuf *err;
	long status;   /* HTTP status of the last call, 0 when none came */
	char why[256]; /* InfluxDB's error text of the last statement, "" when none */
};

static void ifx_ctx_init(struct ifx_ctx *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->user = t->admin_user;
	c->password = t->admin_password;
	snprintf(c->base, sizeof(c->base), strchr(t->host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
		 t->tls ? "https" : "http", t->host, t->port);
	c->deadline = osb_clock_ms() + timeout_ms;
	c->err = err;
}

static void ifx_req_ctx(struct ifx_ctx *c, osb_request *req)
{
	ifx_ctx_init(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/*
 * Build an InfluxQL statement: %I is an identifier (derived names, the policy,
 * the admin: only [A-Za-z0-9_] is taken, double-quoted), %S a string literal
 * (single-quoted, backslash and quote escaped as InfluxQL reads them; control
 * characters, which it refuses, are refused here), %d an int, %s plain text
 * of the driver's own; everything else is copied.
 */
static int ifx_vstmt(osb_buf *b, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		const char *s;

		if (*p != '%' || !p[1]) {
			osb_buf_add(b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'I':
			s = va_arg(ap, const char *);
			if (!*s || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")])
				return OSB_EBADREQUEST;
			osb_buf_printf(b, "\"%s\"", s);
			break;
		case 'S':
			osb_buf_puts(b, "'");
			for (s = va_arg(ap, const char *); *s; s++) {
				if ((unsigned char)*s < 0x20 || *s == 0x7f)
					return OSB_EBADREQUEST;
				if (*s == '\\' || *s == '\'')
					osb_buf_puts(b, "\\");
				osb_buf_add(b, s, 1);
			}
			osb_buf_puts(b, "'");
			break;
		case 'd': osb_buf_printf(b, "%d", va_arg(ap, int)); break;
		case 's': osb_buf_puts(b, va_arg(ap, const char *)); break;
		default: return OSB_ERROR;
		}
	}
	return osb_buf_text(b) ? 0 : OSB_ENOMEM;
}

/* What InfluxDB said, unless it repeats `secret` (a parse error quotes the statement). */
static const char *ifx_safe(const char *text, const char *secret)
{
	return secret && *secret && strstr(text, secret) ? "(withheld: the server's text repeats a secret)" : text;
}

/*
 * Run one statement as c->user and return the statement's result object. The
 * statement travels form-encoded in the body, never in the URL that InfluxDB's
 * access log records. A statement InfluxDB refuses gives OSB_EBACKEND with its
 * text in c->why (callers that expect "user not found" and the like look there).
 * @param secret  a password in the statement, kept out of every message.
 * @param[out] result  the result object when not NULL (caller frees).
 */
static int ifx_exec(struct ifx_ctx *c, const char *secret, cJSON **result, const char *fmt, ...)
{
	const osb_http_options opts = { .ca_file = c->t->ca_file, .content_type = "application/x-www-form-urlencoded" };
	osb_buf stmt = OSB_BUF_INIT, body = OSB_BUF_INIT;
	osb_http_response resp = { 0 };
	cJSON *answer = NULL, *first;
	const char *error;
	char url[340], *escaped = NULL;
	va_list ap;
	int rc;

	c->status = 0;
	c->why[0] = '\0';
	if (result)
		*result = NULL;
	va_start(ap, fmt);
	rc = ifx_vstmt(&stmt, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		osb_buf_free(&stmt);
		return osb_errbuf_set(c->err, rc, "cannot build an InfluxQL statement: a name or value it cannot hold");
	}
	if ((escaped = malloc(3 * stmt.len + 1)) && osb_http_escape_segment(escaped, 3 * stmt.len + 1, stmt.data) >= 0)
		osb_buf_printf(&body, "q=%s", escaped);
	if (escaped)
		explicit_bzero(escaped, 3 * stmt.len + 1);
	free(escaped);
	osb_buf_free(&stmt);
	snprintf(url, sizeof(url), "%s/query", c->base);
	if (!osb_buf_text(&body)) {
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	} else if (c->deadline <= osb_clock_ms()) {
		rc = osb_errbuf_set(c->err, OSB_ETIMEOUT, "out of time before a statement on InfluxDB at %s", c->base);
	} else {
		rc = osb_http_request(&opts, "POST", url, c->user, c->password, body.data, osb_ms_left(c->deadline),
				      &resp);
		if (rc == OSB_ETIMEOUT)
			osb_errbuf_set(c->err, rc, "InfluxDB at %s did not answer in time", c->base);
		else if (rc < 0)
			rc = osb_errbuf_set(c->err, rc == OSB_ENOMEM ? rc : OSB_EBACKEND,
					    "cannot reach InfluxDB at %s: %s", c->base, resp.error);
	}
	osb_buf_free(&body);
	if (rc < 0)
		goto done;
	c->status = resp.status;
	answer = cJSON_ParseWithLength(resp.body, resp.body_len);
	first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "results"), 0);
	error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first ? first : answer, "error"));
	if (resp.status == 401) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "InfluxDB at %s refused the login of %s%s%s", c->base,
				    c->user ? c->user : "(none)", error ? ": " : "", error ? error : "");
	} else if (resp.status != 200 || !first || error) {
		snprintf(c->why, sizeof(c->why), "%s", error ? ifx_safe(error, secret) : "");
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "InfluxDB at %s answered %ld: %s", c->base, resp.status,
				    error ? c->why : "not the JSON of a query result");
	} else if (result) {
		*result = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(answer, "results"), 0);
	}
done:
	cJSON_Delete(answer);
	if (resp.body)
		explicit_bzero(resp.body, resp.body_len);
	osb_http_response_free(&resp);
	return rc;
}

/* The rows of a result's first series ("values"), or NULL when it has none. */
static const cJSON *ifx_rows(const cJSON *result)
{
	const cJSON *series = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(result, "series"), 0);
	return cJSON_GetObjectItemCaseSensitive(series, "values");
}

/* Column `i` of a row as a string, or NULL. */
static const char *ifx_cell(const cJSON *row, int i)
{
	return cJSON_GetStringValue(cJSON_GetArrayItem(row, i));
}

/* -- server-side steps ----------------------------------------------------- */

/* Drop a binding's user; a user already gone is fine. */
static int ifx_drop_user(struct ifx_ctx *c, const char *user)
{
	int rc = ifx_exec(c, NULL, NULL, "DROP USER %I", user);
	return rc < 0 && strcmp(c->why, "user not found") == 0 ? 0 : rc;
}

/*
 * Whether `user` holds privileges on `db` and nowhere else (a binding of that
 * instance; a user without any may be another bind's, half way).
 * @return 1, 0 or an error code.
 */
static int ifx_only_on(struct ifx_ctx *c, const char *user, const char *db)
{
	cJSON *grants = NULL;
	const cJSON *row;
	int rc = ifx_exec(c, NULL, &grants, "SHOW GRANTS FOR %I", user);

	if (rc < 0)
		return strcmp(c->why, "user not found") == 0 ? 0 : rc;
	rc = cJSON_GetArraySize(ifx_rows(grants)) > 0;
	cJSON_ArrayForEach(row, ifx_rows(grants)) if (!ifx_cell(row, 0) || strcmp(ifx_cell(row, 0), db) != 0) rc = 0;
	cJSON_Delete(grants);
	return rc;
}

/* Remove an instance: the broker-made users whose privileges are all on its database, then the database. */
static int ifx_drop_instance(struct ifx_ctx *c, const char *db)
{
	cJSON *users = NULL;
	const cJSON *row;
	int rc = ifx_exec(c, NULL, &users, "SHOW USERS");

	for (row = rc == 0 && ifx_rows(users) ? ifx_rows(users)->child : NULL; row && rc >= 0; row = row->next) {
		const char *user = ifx_cell(row, 0);

		if (osb_name_is_derived(user) && (rc = ifx_only_on(c, user, db)) == 1)
			rc = ifx_drop_user(c, user);
	}
	cJSON_Delete(users);
	return rc < 0 ? rc : ifx_exec(c, NULL, NULL, "DROP DATABASE %I", db);
}

/*
 * The instance's retention in days: its `retention_days` parameter (the schema
 * bounds it by the plan's maximum), else the plan's default. A plan change keeps
 * the parameter, so it is checked against the new plan's maximum here.
 */
static int ifx_retention(osb_request *req, int *days)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "retention_days");
	long long max = osb_request_plan_int(req, "max_retention_days", 0);
	long long d = cJSON_IsNumber(p) ? (long long)p->valuedouble : osb_request_plan_int(req, "retention_days", 0);

	if (max < 1 || max > 36500 || d < 1)
		return osb_req_fail(req, OSB_ERROR,
				    "the plan's x-osb.retention_days and max_retention_days must be "
				    "whole numbers of days from 1 to 36500");
	if (d > max)
		return osb_req_fail(req, OSB_EBADREQUEST,
				    "retention_days %lld is more than this plan allows (%lld): "
				    "give a smaller retention_days",
				    d, max);
	*days = (int)d;
	return 0;
}

/* The retention policy's duration, with the shard duration InfluxDB itself would pick for it. */
static int ifx_set_retention(struct ifx_ctx *c, osb_request *req, const char *db)
{
	int days = 0, rc;

	if ((rc = ifx_retention(req, &days)) < 0 ||
	    (rc = ifx_exec(c, NULL, NULL, "ALTER RETENTION POLICY %I ON %I DURATION %dd SHARD DURATION %s DEFAULT",
			   IFX_RP, db, days,
			   days < 2      ? "1h"
			   : days <= 180 ? "1d"
					 : "7d")) < 0)
		return rc;
	osb_request_note(req, "database %s keeps %d days of data (policy " IFX_RP ")", db, days);
	return 0;
}

/* -- instances ------------------------------------------------------------- */

static int influxdb_provision(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req);
	struct ifx_ctx c;
	int rc;

	(void)state;
	ifx_req_ctx(&c, req);
	/* CREATE DATABASE keeps a database that is there: a retry after an interruption goes on. */
	if ((rc = ifx_exec(&c, NULL, NULL, "CREATE DATABASE %I", db)) < 0)
		return rc;
	return ifx_set_retention(&c, req, db);
}

static int influxdb_update(osb_request *req, void *state)
{
	struct ifx_ctx c;

	(void)state;
	ifx_req_ctx(&c, req);
	return ifx_set_retention(&c, req, osb_request_instance_name(req));
}

static int influxdb_deprovision(osb_request *req, void *state)
{
	struct ifx_ctx c;

	(void)state;
	ifx_req_ctx(&c, req);
	osb_request_note(req, "database and its users dropped");
	return ifx_drop_instance(&c, osb_request_instance_name(req));
}

/* -- bindings -------------------------------------------------------------- */

static int ifx_credentials(osb_request *req, const char *db, const char *user, const char *password, int read_only)
{
	const osb_target *t = osb_request_target(req);
	const osb_credentials_spec spec = { .scheme = t->tls ? "https+influxdb" : "influxdb",
					    .username = user,
					    .password = password,
					    .path = db,
					    .database_keys = 1 };
	cJSON *cred = osb_credentials_new(req, &spec);
	const char *host = osb_uri_host(req, t->public_host);
	char *url = host ? osb_req_sprintf(req, "%s://%s:%d", t->tls ? "https" : "http", host, t->public_port) : NULL;

	if (cred &&
	    (!url || !cJSON_AddStringToObject(cred, "http_url", url) ||
	     !cJSON_AddStringToObject(cred, "retention_policy", IFX_RP) ||
	     !cJSON_AddBoolToObject(cred, "read_only", read_only) || !cJSON_AddBoolToObject(cred, "ssl", t->tls))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	return osb_credentials_set(req, cred);
}

static int influxdb_bind(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	int read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only"));
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	struct ifx_ctx c;
	int rc;

	(void)state;
	ifx_req_ctx(&c, req);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	/* A user an interrupted attempt made gets this attempt's password: only the answered one works. */
	rc = ifx_exec(&c, password, NULL, "CREATE USER %I WITH PASSWORD %S", user, password);
	if (rc < 0 && strcmp(c.why, "user already exists") == 0)
		rc = ifx_exec(&c, password, NULL, "SET PASSWORD FOR %I = %S", user, password);
	/* Read-only: whatever an earlier attempt granted goes first. A missing database fails here. */
	if (rc == 0 && read_only && (rc = ifx_exec(&c, NULL, NULL, "REVOKE ALL ON %I FROM %I", db, user)) == 0)
		rc = ifx_exec(&c, NULL, NULL, "GRANT READ ON %I TO %I", db, user);
	else if (rc == 0 && !read_only)
		rc = ifx_exec(&c, NULL, NULL, "GRANT ALL ON %I TO %I", db, user);
	if (rc == 0 && (rc = ifx_credentials(req, db, user, password, read_only)) == 0)
		osb_request_note(req, "user %s may %s database %s", user, read_only ? "read" : "read and write", db);
	explicit_bzero(password, sizeof(password));
	return rc;
}

/* InfluxDB checks the login of every HTTP request, so a dropped user's next request is refused. */
static int influxdb_unbind(osb_request *req, void *state)
{
	struct ifx_ctx c;

	(void)state;
	ifx_req_ctx(&c, req);
	osb_request_note(req, "user dropped");
	return ifx_drop_user(&c, osb_request_binding_name(req));
}

/* -- health and reconciliation --------------------------------------------- */

/* SHOW USERS needs admin privileges: the check that the broker's login can make tenants. */
static int influxdb_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct ifx_ctx c;

	(void)state;
	ifx_ctx_init(&c, server, OSB_HEALTH_TIMEOUT_MS, err);
	return ifx_exec(&c, NULL, NULL, "SHOW USERS");
}

/* Databases with derived names are instances, users with derived names bindings. */
static int influxdb_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	static const char *const statements[] = { "SHOW DATABASES", "SHOW USERS" };
	const cJSON *row;
	struct ifx_ctx c;
	int rc = 0, stop = 0;

	(void)state;
	ifx_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	for (int i = 0; i < 2 && rc == 0 && !stop; i++) {
		cJSON *result = NULL;

		if ((rc = ifx_exec(&c, NULL, &result, "%s", statements[i])) < 0)
			break;
		for (row = ifx_rows(result) ? ifx_rows(result)->child : NULL; row && !stop; row = row->next)
			if (osb_name_is_derived(ifx_cell(row, 0)))
				stop = cb(i == 0 ? OSB_TENANT_INSTANCE : OSB_TENANT_BINDING, ifx_cell(row, 0), payload);
		cJSON_Delete(result);
	}
	return rc;
}

static int influxdb_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name,
			  osb_errbuf *err)
{
	struct ifx_ctx c;

	(void)state;
	ifx_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	return kind == OSB_TENANT_INSTANCE ? ifx_drop_instance(&c, name) : ifx_drop_user(&c, name);
}

/* -- dedicated servers ----------------------------------------------------- */

/* The plan's limits a dedicated influxd enforces (x-osb key, influxdb.conf section and key; durations in s). */
static const struct {
	const char *key, *section, *setting;
	int seconds;
} ifx_limits[] = {
	{ "max_series_per_database", "data", "max-series-per-database", 0 },
	{ "max_values_per_tag", "data", "max-values-per-tag", 0 },
	{ "max_concurrent_queries", "coordinator", "max-concurrent-queries", 0 },
	{ "query_timeout_s", "coordinator", "query-timeout", 1 },
	{ "max_select_point", "coordinator", "max-select-point", 0 },
	{ "max_body_size", "http", "max-body-size", 0 },
	{ "max_connection_limit", "http", "max-connection-limit", 0 },
};

/*
 * influxdb.conf for a server with its files under `data` and its API on
 * host:port, with authentication on. The RPC service (backup and restore,
 * which has no authentication) listens on a loopback port the kernel picks.
 */
static int ifx_render_conf(osb_buf *b, osb_request *req, const char *data, const char *host, int port)
{
	static const char *const sections[] = { "data", "coordinator", "http" };

	if (strspn(data, IFX_PATH_CHARS) != strlen(data))
		return OSB_EBADREQUEST;
	osb_buf_printf(b,
		       "# Rendered by osb-influxdb-broker.\nreporting-enabled = false\n"
		       "bind-address = \"127.0.0.1:0\"\n[meta]\n  dir = \"%s/meta\"\n"
		       "[monitor]\n  store-enabled = false\n",
		       data);
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		osb_buf_printf(b, "[%s]\n", sections[s]);
		if (s == 0)
			osb_buf_printf(b, "  dir = \"%s/data\"\n  wal-dir = \"%s/wal\"\n  query-log-enabled = false\n",
				       data, data);
		if (s == 2)
			osb_buf_printf(b,
				       "  bind-address = \"%s%s%s:%d\"\n  auth-enabled = true\n"
				       "  log-enabled = false\n",
				       strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
		for (size_t i = 0; req && i < sizeof(ifx_limits) / sizeof(ifx_limits[0]); i++) {
			long long v = osb_request_plan_int(req, ifx_limits[i].key, -1);

			if (v >= 0 && strcmp(ifx_limits[i].section, sections[s]) == 0)
				osb_buf_printf(b, ifx_limits[i].seconds ? "  %s = \"%llds\"\n" : "  %s = %lld\n",
					       ifx_limits[i].setting, v);
		}
	}
	return osb_buf_text(b) ? 0 : OSB_ENOMEM;
}

/* A loopback port nothing listens on now, for the template's short-lived server. */
static int ifx_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The template's server, while template_init runs it: the admin is made from another thread. */
struct ifx_boot {
	osb_target t;
	const char *dir;
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	atomic_int exited; /* the server has exited: stop trying */
	int made;          /* the admin was made */
	osb_errbuf err;
};

/*
 * InfluxDB takes one statement without a login while it has no user: make the
 * admin with the template's password, then stop the server (SIGTERM), which
 * ends the osb_exec() that runs it. The template server listens on loopback only.
 */
static void *ifx_boot_admin(void *arg)
{
	struct ifx_boot *b = arg;
	struct ifx_ctx c;
	char pid[32] = "";

	ifx_ctx_init(&c, &b->t, IFX_TEMPLATE_TIMEOUT_MS - 5000, &b->err);
	c.user = NULL;
	while (!atomic_load(&b->exited) && osb_clock_ms() < c.deadline) {
		b->err.code = 0;
		if (ifx_exec(&c, b->password, NULL, "CREATE USER %I WITH PASSWORD %S WITH ALL PRIVILEGES", "admin",
			     b->password) == 0) {
			b->made = 1;
			break;
		}
		usleep(50 * 1000);
	}
	if (osb_file_read_secret(pid, sizeof(pid), b->dir, IFX_TEMPLATE_PID) > 0 && atoi(pid) > 1)
		kill((pid_t)atoi(pid), SIGTERM);
	return NULL;
}

/*
 * The template every dedicated server starts from, made once per broker: an
 * influxd's meta store with the admin user, whose password (template.pw, in
 * each copy) ready() replaces with the instance's own at the first start. So
 * no dedicated server ever answers without a login, not even for a moment.
 */
static int ifx_template_init(const char *dir, void *state, osb_errbuf *err)
{
	struct ifx_boot b = { .t = { .host = "127.0.0.1", .port = ifx_free_port() }, .dir = dir };
	char conf[4200], pidfile[4200];
	const char *argv[] = { state, "run", "-config", conf, "-pidfile", pidfile, NULL };
	osb_exec_options opt = { .argv = argv, .timeout_ms = IFX_TEMPLATE_TIMEOUT_MS };
	osb_exec_result res = { 0 };
	osb_buf text = OSB_BUF_INIT;
	pthread_t thread;
	int rc;

	if ((size_t)snprintf(conf, sizeof(conf), "%s/" IFX_CONF, dir) >= sizeof(conf) ||
	    (size_t)snprintf(pidfile, sizeof(pidfile), "%s/" IFX_TEMPLATE_PID, dir) >= sizeof(pidfile))
		return osb_errbuf_set(err, OSB_ERROR, "the template directory's path is too long");
	if (b.t.port < 0 || osb_secret_generate(b.password, sizeof(b.password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot pick a port or a password for the template's server");
	if ((rc = ifx_render_conf(&text, NULL, dir, "127.0.0.1", b.t.port)) < 0 ||
	    osb_file_write_private(dir, IFX_CONF, text.data, text.len, 0) != 0 ||
	    osb_file_write_private(dir, IFX_TEMPLATE_PW, b.password, strlen(b.password), 0) != 0) {
		osb_buf_free(&text);
		return osb_errbuf_set(err, OSB_ERROR, "cannot write the template's files in %s (a plain path?)", dir);
	}
	osb_buf_free(&text);
	if (pthread_create(&thread, NULL, ifx_boot_admin, &b) != 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot start a thread");
	rc = osb_exec(&res, &opt);
	atomic_store(&b.exited, 1);
	pthread_join(thread, NULL);
	unlink(conf);
	if (!b.made) {
		/* Its output names no secret (the admin's password travels in an HTTP body): the operator's clue. */
		osb_log(OSB_LOG_ERROR, "influxdb.template",
			"%s ended (%d) before the admin was made: %s; its output "
			"ends: %s",
			(const char *)state, rc, b.err.msg,
			res.err && res.err_len > 600 ? res.err + res.err_len - 600
			: res.err                    ? res.err
						     : "");
		rc = osb_errbuf_set(err, OSB_EBACKEND,
				    "%s could not make the dedicated servers' template "
				    "(the broker's log says why)",
				    (const char *)state);
	} else {
		rc = 0;
	}
	osb_exec_result_free(&res);
	explicit_bzero(b.password, sizeof(b.password));
	return rc;
}

/* influxdb.conf of an instance, for its port and plan; its data is the template's copy in {dir}/data. */
static int ifx_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	char data[4200];
	osb_buf conf = OSB_BUF_INIT;
	int rc;

	(void)state;
	snprintf(data, sizeof(data), "%s/data", t->dir);
	if ((rc = ifx_render_conf(&conf, req, data, t->host, t->port)) < 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot render influxdb.conf for %s (a plain path?)", t->dir);
	else if (osb_file_write_private(t->dir, IFX_CONF, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s/" IFX_CONF, t->dir);
	osb_buf_free(&conf);
	return rc;
}

/*
 * The admin's login works. At the first start of a copy of the template it is
 * refused (401): the template's password replaced by the instance's then. Once
 * the instance's works, the copy of the template's password goes.
 */
static int ifx_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	char first[OSB_SECRET_DEFAULT_LEN + 2], data[4200];
	struct ifx_ctx c;
	int rc;

	(void)state;
	ifx_ctx_init(&c, t, IFX_READY_TIMEOUT_MS, err);
	snprintf(data, sizeof(data), "%s/data", t->dir);
	if ((rc = ifx_exec(&c, NULL, NULL, "SHOW USERS")) < 0 && c.status == 401 &&
	    osb_file_read_secret(first, sizeof(first), data, IFX_TEMPLATE_PW) > 0) {
		err->code = 0;
		c.password = first;
		rc = ifx_exec(&c, t->admin_password, NULL, "SET PASSWORD FOR %I = %S", t->admin_user,
			      t->admin_password);
		explicit_bzero(first, sizeof(first));
	}
	if (rc == 0 && (size_t)snprintf(data, sizeof(data), "%s/data/" IFX_TEMPLATE_PW, t->dir) < sizeof(data))
		unlink(data);
	return rc;
}

/* -- the driver ------------------------------------------------------------ */

/* The state is the influxd program, for the template's server. */
static int influxdb_init(void **state, const cJSON *config, const osb_broker *broker)
{
	char *influxd = NULL;
	int rc;

	(void)broker;
	if ((rc = osb_driver_config_string(&influxd, config, "influxdb", "influxd", "influxd")) < 0)
		return rc;
	*state = influxd;
	return 0;
}

static void influxdb_shutdown(void *state)
{
	free(state);
}

static const osb_server_spec influxdb_server = { .default_port = 8086, .default_admin_user = "admin" };

static const osb_dedicated_spec influxdb_dedicated = {
	.kind = "influxdb",
	.program_key = "influxd",
	.program = "influxd",
	.args = (const char *const[]){ "run", "-config", "{dir}/" IFX_CONF, NULL },
	.admin_user = "admin",
	.template_init = ifx_template_init,
	.prepare = ifx_prepare,
	.ready = ifx_ready,
};

static const struct osb_driver influxdb_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "influxdb",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.server = &influxdb_server,
	.dedicated = &influxdb_dedicated,
	OSB_DRIVER_SLOTS(influxdb, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(influxdb, influxdb_driver);
