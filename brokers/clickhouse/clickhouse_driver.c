/*
 * ClickHouse driver: an instance is a database with its plan's settings profile
 * and quota, a binding a user allowed on that database only. ClickHouse 18.16
 * has no SQL for users: they are files in the server's users.d, which it
 * reloads on its own, so the broker runs on the server's host (or the plan is
 * dedicated: the instance's own server, on the broker's host).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <osb.h>

/* users.d files: one per instance (its profiles and quota), one per binding (its user). */
#define CH_INSTANCE_FILE ".instance.xml"
#define CH_BINDING_FILE ".binding.xml"
/* How often a bind or unbind looks whether the server has reloaded users.d (it looks every 2 s or so). */
#define CH_POLL_MS 100
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define CH_READY_TIMEOUT_MS 500
/* ClickHouse's error codes for a login it does not know, and for a wrong password. */
#define CH_UNKNOWN_USER 192
#define CH_WRONG_PASSWORD 193
/* Characters of a dedicated server's directory, written into its XML: nothing to escape. */
#define CH_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

/* The driver's settings, read-only after init. */
struct ch_state {
	char *users_dir; /* the shared server's users.d */
	int native_port; /* its native protocol's port for credentials, 0 for none */
};

/* One callback's calls: the server, its users.d, the deadline and where errors go. */
struct ch_ctx {
	const osb_target *t;
	char users_dir[4200]; /* the shared server's, or {dir}/users.d of a dedicated one */
	char base[300];       /* "http://host:port" */
	int64_t deadline;     /* osb_clock_ms() */
	osb_errbuf *err;
	long status; /* HTTP status of the last call, 0 when none came */
	int code;    /* ClickHouse's error code of the last call, 0 when none */
};

static void ch_ctx_init(struct ch_ctx *c, const osb_target *t, const struct ch_state *st, int timeout_ms,
			osb_errbuf *err)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	if (t->dedicated)
		snprintf(c->users_dir, sizeof(c->users_dir), "%s/users.d", t->dir);
	else
		snprintf(c->users_dir, sizeof(c->users_dir), "%s", st ? st->users_dir : "");
	snprintf(c->base, sizeof(c->base), strchr(t->host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
		 t->tls ? "https" : "http", t->host, t->port);
	c->deadline = osb_clock_ms() + timeout_ms;
	c->err = err;
}

static void ch_req_ctx(struct ch_ctx *c, osb_request *req, const struct ch_state *st)
{
	ch_ctx_init(c, osb_request_target(req), st, osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/*
 * Run one SQL statement as `user` (NULL: the target's admin) over the HTTP
 * interface; the SQL is the body. Names in it are derived (osb_<hex>), so they
 * need no quoting beyond backquotes; no secret is ever in SQL (passwords live
 * in users.d files, as hashes). A refusal keeps ClickHouse's code in c->code.
 * @param[out] out  the answer's body on success when not NULL (caller frees).
 */
static int ch_call(struct ch_ctx *c, const char *user, const char *password, char **out, const char *fmt, ...)
	OSB_PRINTF(5, 6);

static int ch_call(struct ch_ctx *c, const char *user, const char *password, char **out, const char *fmt, ...)
{
	const osb_http_options opts = { .ca_file = c->t->ca_file, .content_type = "text/plain; charset=utf-8" };
	osb_http_response resp = { 0 };
	char sql[512], url[320];
	const char *text, *end;
	va_list ap;
	int rc, n;

	c->status = 0;
	c->code = 0;
	if (out)
		*out = NULL;
	va_start(ap, fmt);
	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return osb_errbuf_set(c->err, OSB_ERROR, "an SQL statement for ClickHouse is too long");
	if (c->deadline <= osb_clock_ms())
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "out of time before a statement on ClickHouse at %s",
				      c->base);
	snprintf(url, sizeof(url), "%s/", c->base);
	if (!user) {
		user = c->t->admin_user;
		password = c->t->admin_password;
	}
	rc = osb_http_request(&opts, "POST", url, user, password, sql, osb_ms_left(c->deadline), &resp);
	if (rc == OSB_ETIMEOUT)
		osb_errbuf_set(c->err, rc, "ClickHouse at %s did not answer in time", c->base);
	else if (rc < 0)
		rc = osb_errbuf_set(c->err, rc == OSB_ENOMEM ? rc : OSB_EBACKEND, "cannot reach ClickHouse at %s: %s",
				    c->base, resp.error);
	if (rc < 0)
		goto done;
	c->status = resp.status;
	if (resp.status == 200) {
		if (out && !(*out = strdup(resp.body)))
			rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	/* "Code: 192, e.displayText() = DB::Exception: Unknown user x, e.what() = DB::Exception" */
	text = strstr(resp.body, "DB::Exception: ") ? strstr(resp.body, "DB::Exception: ") + 15 : resp.body;
	end = strstr(text, ", e.what()");
	if (strncmp(resp.body, "Code: ", 6) == 0)
		c->code = atoi(resp.body + 6);
	rc = osb_errbuf_set(c->err, OSB_EBACKEND, "ClickHouse at %s answered %ld: %.*s", c->base, resp.status,
			    end ? (int)(end - text) : (int)strcspn(text, "\n"), text);
done:
	osb_http_response_free(&resp);
	return rc;
}

/* -- users.d files ---------------------------------------------------------- */

static int ch_path(struct ch_ctx *c, char *out, size_t size, const char *name, const char *kind)
{
	if (!osb_name_is_derived(name) || (size_t)snprintf(out, size, "%s/%s%s", c->users_dir, name, kind) >= size)
		return osb_errbuf_set(c->err, OSB_ERROR, "bad users.d file name or path too long");
	return 0;
}

/*
 * Write a users.d file atomically (a temporary file, then a rename): the server
 * never reads half of one. Mode 0640: a server running as another user of the
 * file's group reads it (it holds password hashes only).
 */
static int ch_write(struct ch_ctx *c, const char *name, const char *kind, const osb_buf *text)
{
	char file[64];

	snprintf(file, sizeof(file), "%s%s", name, kind);
	if (!osb_buf_text(text))
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	if (osb_file_write_mode(c->users_dir, file, text->data, text->len, 0, 0640) != 0)
		return osb_errbuf_set(c->err, OSB_ERROR,
				      "cannot write %s in %s: the broker must run on the ClickHouse "
				      "server's host, with write access to its users.d (driver.users_dir)",
				      file, c->users_dir);
	return 0;
}

static int ch_remove(struct ch_ctx *c, const char *name, const char *kind)
{
	char path[4300];
	int rc = ch_path(c, path, sizeof(path), name, kind);

	if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
		rc = osb_errbuf_set(c->err, OSB_ERROR, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}

/*
 * Call fn(name, payload) for every broker-made users.d file of `kind`; with
 * `db`, only the binding files that allow that database.
 */
static int ch_files(struct ch_ctx *c, const char *kind, const char *db, int (*fn)(const char *, void *), void *payload)
{
	DIR *d = opendir(c->users_dir);
	size_t klen = strlen(kind);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return errno == ENOENT
			       ? 0
			       : osb_errbuf_set(c->err, OSB_ERROR, "cannot read %s: %s", c->users_dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char name[OSB_NAME_SIZE], want[64];
		size_t len = strlen(e->d_name);
		osb_buf text = OSB_BUF_INIT;
		int mine = 1;

		if (len != OSB_NAME_SIZE - 1 + klen || strcmp(e->d_name + len - klen, kind) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", OSB_NAME_SIZE - 1, e->d_name);
		if (!osb_name_is_derived(name))
			continue;
		if (db) {
			snprintf(want, sizeof(want), "<database>%s</database>", db);
			mine = osb_file_read(&text, c->users_dir, e->d_name, 65536) == 0 && osb_buf_text(&text) &&
			       strstr(osb_buf_text(&text), want);
			osb_buf_free(&text);
		}
		if (mine)
			rc = fn(name, payload);
	}
	closedir(d);
	return rc;
}

/*
 * Append the plan's x-osb object `key` as XML elements: names [a-z0-9_],
 * values whole numbers, booleans or plain words, so nothing can break the XML.
 */
static int ch_elements(osb_buf *b, const cJSON *settings, const char *key, const char *skip)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(settings, key))
	{
		const char *v = cJSON_GetStringValue(item);

		if (!item->string[0] || item->string[strspn(item->string, "abcdefghijklmnopqrstuvwxyz0123456789_")])
			return OSB_ERROR;
		if (skip && strcmp(item->string, skip) == 0)
			continue;
		if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble <= 9.2e18 &&
		    item->valuedouble == (double)(long long)item->valuedouble)
			osb_buf_printf(b, "<%s>%lld</%s>", item->string, (long long)item->valuedouble, item->string);
		else if (cJSON_IsBool(item))
			osb_buf_printf(b, "<%s>%d</%s>", item->string, cJSON_IsTrue(item), item->string);
		else if (v && *v && !v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
			osb_buf_printf(b, "<%s>%s</%s>", item->string, v, item->string);
		else
			return OSB_ERROR;
	}
	return 0;
}

/*
 * The instance's file: profiles <db> and <db>_ro (the same settings, read-only)
 * and quota <db>, from the plan's x-osb "profile" and "quota" (with its
 * "duration" in seconds). ClickHouse counts a quota per user: per binding.
 */
static int ch_write_instance(struct ch_ctx *c, osb_request *req, const char *db)
{
	const cJSON *plan = osb_request_plan_settings(req);
	osb_buf b = OSB_BUF_INIT;
	int rc;

	osb_buf_printf(&b,
		       "<?xml version=\"1.0\"?>\n<!-- Written by osb-clickhouse-broker for instance %s: its "
		       "bindings' profiles and quota. -->\n<yandex>\n  <profiles>\n    <%s>",
		       db, db);
	rc = ch_elements(&b, plan, "profile", NULL);
	osb_buf_printf(&b, "</%s>\n    <%s_ro><readonly>1</readonly>", db, db);
	if (rc == 0)
		rc = ch_elements(&b, plan, "profile", "readonly");
	osb_buf_printf(&b, "</%s_ro>\n  </profiles>\n  <quotas>\n    <%s><interval><duration>%lld</duration>", db, db,
		       osb_request_plan_int(req, "quota_duration_s", 3600));
	if (rc == 0)
		rc = ch_elements(&b, plan, "quota", NULL);
	osb_buf_printf(&b, "</interval></%s>\n  </quotas>\n</yandex>\n", db);
	if (rc < 0)
		rc = osb_errbuf_set(c->err, OSB_ERROR,
				    "the plan's x-osb.profile and x-osb.quota must map names "
				    "[a-z0-9_] to whole numbers, booleans or plain words");
	else
		rc = ch_write(c, db, CH_INSTANCE_FILE, &b);
	osb_buf_free(&b);
	return rc;
}

/*
 * ClickHouse reloads users.d on its own: wait until `user` logs in with
 * `password`, or, with password NULL, until the server no longer knows `user`
 * (a login with a throw-away password answers "Unknown user" instead of "Wrong
 * password"). Each look is one login; a bind's counts once in its quota.
 */
static int ch_wait_users(struct ch_ctx *c, const char *user, const char *password)
{
	char probe[OSB_SECRET_DEFAULT_LEN + 1];
	int rc;

	if (!password && osb_secret_generate(probe, sizeof(probe), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_errbuf_set(c->err, OSB_ERROR, "cannot generate a password");
	for (;;) {
		rc = ch_call(c, user, password ? password : probe, NULL, "SELECT 1");
		if (password ? rc == 0 : c->code == CH_UNKNOWN_USER)
			return 0;
		/* Unreachable, or an answer that is not about this login (a proxy's 502): no reload will help. */
		if (c->status == 0 || (c->status >= 502 && c->status <= 504))
			return rc;
		if (osb_clock_ms() + CH_POLL_MS >= c->deadline)
			return osb_errbuf_set(c->err, OSB_ETIMEOUT,
					      "ClickHouse at %s has not %s user %s in time (last "
					      "answer: code %d): is driver.users_dir (%s) the users.d of that server?",
					      c->base, password ? "loaded" : "removed", user, c->code, c->users_dir);
		usleep(CH_POLL_MS * 1000);
	}
}

/*
 * Remove a binding's user: its file, then wait until the server forgets it,
 * then end its running queries. A server that is down (refuses connections)
 * reads users.d afresh when it starts, without the user, and runs no query:
 * then the removed file is all it takes.
 */
static int ch_drop_user(struct ch_ctx *c, const char *user)
{
	int rc;

	if ((rc = ch_remove(c, user, CH_BINDING_FILE)) < 0)
		return rc;
	if ((rc = ch_wait_users(c, user, NULL)) == OSB_EBACKEND && c->status == 0) {
		*c->err = (osb_errbuf){ 0 };
		return 0;
	}
	if (rc < 0)
		return rc;
	return ch_call(c, NULL, NULL, NULL, "KILL QUERY WHERE user = '%s' ASYNC FORMAT Null", user);
}

static int ch_drop_user_cb(const char *user, void *payload)
{
	return ch_drop_user(payload, user);
}

/* Remove an instance: its users first (no new logins), then the database, then its profiles and quota. */
static int ch_drop_instance(struct ch_ctx *c, const char *db)
{
	int rc;

	if ((rc = ch_files(c, CH_BINDING_FILE, db, ch_drop_user_cb, c)) < 0 ||
	    (rc = ch_call(c, NULL, NULL, NULL, "DROP DATABASE IF EXISTS `%s`", db)) < 0)
		return rc;
	return ch_remove(c, db, CH_INSTANCE_FILE);
}

/* -- instances -------------------------------------------------------------- */

static int clickhouse_provision(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req);
	struct ch_ctx c;
	int rc;

	ch_req_ctx(&c, req, state);
	if ((rc = ch_write_instance(&c, req, db)) == 0 &&
	    (rc = ch_call(&c, NULL, NULL, NULL, "CREATE DATABASE IF NOT EXISTS `%s`", db)) == 0)
		osb_request_note(req, "database %s, profiles and quota in %s", db, c.users_dir);
	return rc;
}

/* The database of a binding or an update must be there. */
static int ch_check_database(struct ch_ctx *c, const char *db)
{
	char *out = NULL;
	int rc = ch_call(c, NULL, NULL, &out, "SELECT count() FROM system.databases WHERE name = '%s'", db);

	if (rc == 0 && atoi(out) != 1)
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "database %s of the instance is missing on the server", db);
	free(out);
	return rc;
}

/* The new plan's profiles and quota, which the server applies at its next reload of users.d (within seconds). */
static int clickhouse_update(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req);
	struct ch_ctx c;
	int rc;

	ch_req_ctx(&c, req, state);
	if ((rc = ch_check_database(&c, db)) == 0 && (rc = ch_write_instance(&c, req, db)) == 0)
		osb_request_note(req, "profiles and quota of %s rewritten", db);
	return rc;
}

static int clickhouse_deprovision(osb_request *req, void *state)
{
	struct ch_ctx c;

	ch_req_ctx(&c, req, state);
	osb_request_note(req, "users, database, profiles and quota removed");
	return ch_drop_instance(&c, osb_request_instance_name(req));
}

/* -- bindings --------------------------------------------------------------- */

static int ch_sha256_hex(char out[65], const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return OSB_ERROR;
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The binding's file: its user, the password's SHA-256 (ClickHouse accepts a hash), allowed on the database only. */
static int ch_write_binding(struct ch_ctx *c, const char *user, const char *password, const char *db, int read_only)
{
	osb_buf b = OSB_BUF_INIT;
	char hash[65];
	int rc;

	if (ch_sha256_hex(hash, password) < 0)
		return osb_errbuf_set(c->err, OSB_ERROR, "cannot hash a password");
	osb_buf_printf(&b,
		       "<?xml version=\"1.0\"?>\n<!-- Written by osb-clickhouse-broker for binding %s of instance "
		       "%s. -->\n<yandex>\n  <users>\n    <%s>\n      <password_sha256_hex>%s</password_sha256_hex>\n"
		       "      <networks><ip>::/0</ip></networks>\n      <profile>%s%s</profile>\n"
		       "      <quota>%s</quota>\n      <allow_databases><database>%s</database></allow_databases>\n"
		       "    </%s>\n  </users>\n</yandex>\n",
		       user, db, user, hash, db, read_only ? "_ro" : "", db, db, user);
	rc = ch_write(c, user, CH_BINDING_FILE, &b);
	osb_buf_free(&b);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

static int ch_credentials(osb_request *req, const struct ch_state *st, const char *db, const char *user,
			  const char *password, int read_only)
{
	const osb_target *t = osb_request_target(req);
	const osb_credentials_spec spec = { .scheme = "clickhouse",
					    .username = user,
					    .password = password,
					    .path = db,
					    .database_keys = 1,
					    .jdbc = "clickhouse" };
	cJSON *cred = osb_credentials_new(req, &spec);
	const char *host = osb_uri_host(req, t->public_host);
	char *url = host ? osb_req_sprintf(req, "%s://%s:%d/", t->tls ? "https" : "http", host, t->public_port) : NULL;
	int native = !t->dedicated && st->native_port;
	char port[8];

	snprintf(port, sizeof(port), "%d", st->native_port);
	if (cred &&
	    (!url || !cJSON_AddStringToObject(cred, "http_url", url) ||
	     !cJSON_AddBoolToObject(cred, "read_only", read_only) || !cJSON_AddBoolToObject(cred, "ssl", t->tls) ||
	     (native && !cJSON_AddNumberToObject(cred, "native_port", st->native_port)) ||
	     (native && osb_request_add_endpoint(req, t->public_host, port, "tcp") < 0))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	return osb_credentials_set(req, cred);
}

static int clickhouse_bind(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	int read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only"));
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	struct ch_ctx c;
	int rc;

	ch_req_ctx(&c, req, state);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	/* The instance's file again (a lost one comes back); a retry's file replaces the user's: its password only. */
	if ((rc = ch_check_database(&c, db)) == 0 && (rc = ch_write_instance(&c, req, db)) == 0 &&
	    (rc = ch_write_binding(&c, user, password, db, read_only)) == 0 &&
	    (rc = ch_wait_users(&c, user, password)) == 0 &&
	    (rc = ch_credentials(req, state, db, user, password, read_only)) == 0) {
		if ((rc = osb_request_save_binding_str(req, "username", user)) == 0)
			rc = osb_request_save_binding_bool(req, "read_only", read_only);
		osb_request_note(req, "user %s allowed on database %s only%s", user, db,
				 read_only ? " (read-only)" : "");
	}
	explicit_bzero(password, sizeof(password));
	return rc;
}

static int clickhouse_unbind(osb_request *req, void *state)
{
	struct ch_ctx c;

	ch_req_ctx(&c, req, state);
	osb_request_note(req, "user removed from users.d and its queries killed");
	return ch_drop_user(&c, osb_request_binding_name(req));
}

/* -- health and reconciliation ---------------------------------------------- */

/* The admin's login answers, and users.d is the broker's to write: the shared plans need both. */
static int clickhouse_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct ch_ctx c;
	int rc;

	ch_ctx_init(&c, server, state, OSB_HEALTH_TIMEOUT_MS, err);
	if ((rc = ch_call(&c, NULL, NULL, NULL, "SELECT 1")) == 0 && access(c.users_dir, W_OK) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR,
				    "driver.users_dir %s is not a directory the broker can write "
				    "(%s): the broker must run on the ClickHouse server's host",
				    c.users_dir, strerror(errno));
	return rc;
}

struct ch_listing {
	osb_tenant_cb cb;
	void *payload;
	osb_tenant_kind kind;
};

static int ch_list_file(const char *name, void *payload)
{
	struct ch_listing *l = payload;
	return l->cb(l->kind, name, l->payload) ? 1 : 0;
}

/* Databases and instance files named osb_<hex> are instances, binding files bindings. */
static int clickhouse_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct ch_listing l = { cb, payload, OSB_TENANT_INSTANCE };
	struct ch_ctx c;
	char *out = NULL, *line, *save = NULL;
	int rc, stop = 0;

	ch_ctx_init(&c, server, state, OSB_RECONCILE_TIMEOUT_MS, err);
	if ((rc = ch_call(&c, NULL, NULL, &out, "SELECT name FROM system.databases WHERE name LIKE 'osb\\\\_%%'")) < 0)
		return rc;
	for (line = strtok_r(out, "\n", &save); line && !stop; line = strtok_r(NULL, "\n", &save))
		if (osb_name_is_derived(line))
			stop = cb(OSB_TENANT_INSTANCE, line, payload);
	free(out);
	if (!stop && (rc = ch_files(&c, CH_INSTANCE_FILE, NULL, ch_list_file, &l)) == 0) {
		l.kind = OSB_TENANT_BINDING;
		rc = ch_files(&c, CH_BINDING_FILE, NULL, ch_list_file, &l);
	}
	return rc > 0 ? 0 : rc;
}

static int clickhouse_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name,
			    osb_errbuf *err)
{
	struct ch_ctx c;

	ch_ctx_init(&c, server, state, OSB_RECONCILE_TIMEOUT_MS, err);
	return kind == OSB_TENANT_INSTANCE ? ch_drop_instance(&c, name) : ch_drop_user(&c, name);
}

/* -- dedicated servers ------------------------------------------------------ */

/*
 * A dedicated server's config.xml and users.xml: its HTTP interface on
 * {host}:{port} (and 127.0.0.1), no native port (the deployer gives one port),
 * files under {dir}, the plan's server limits, and the admin with the SHA-256
 * of its password, allowed from this host only. users.d is the bindings'.
 */
static int ch_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	/* A wildcard host covers 127.0.0.1 (both would not bind), and the broker's logins then come from loopback. */
	int wild = !strcmp(t->host, "0.0.0.0") || !strcmp(t->host, "::");
	const char *also = wild || !strcmp(t->host, "127.0.0.1") ? NULL : t->host;
	osb_buf conf = OSB_BUF_INIT, users = OSB_BUF_INIT;
	char hash[65], dir[4200];
	int rc = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/users.d", t->dir);
	if (strspn(t->dir, CH_PATH_CHARS) != strlen(t->dir) || osb_mkdir_p(dir, 0700) != 0 ||
	    ch_sha256_hex(hash, t->admin_password) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot prepare %s (a plain path is needed)", t->dir);
	osb_buf_printf(&conf,
		       "<?xml version=\"1.0\"?>\n<!-- Rendered by osb-clickhouse-broker. -->\n<yandex>\n"
		       "  <logger><level>warning</level><console>1</console></logger>\n"
		       "  <listen_host>%s</listen_host>\n",
		       wild ? t->host : "127.0.0.1");
	if (also)
		osb_buf_printf(&conf, "  <listen_host>%s</listen_host>\n", also);
	osb_buf_printf(&conf,
		       "  <http_port>%d</http_port>\n  <path>%s/data/</path>\n  <tmp_path>%s/tmp/</tmp_path>\n"
		       "  <user_files_path>%s/user_files/</user_files_path>\n"
		       "  <format_schema_path>%s/format_schemas/</format_schema_path>\n"
		       "  <users_config>%s/users.xml</users_config>\n  <default_profile>default</default_profile>\n"
		       "  <default_database>default</default_database>\n  <mlock_executable>false</mlock_executable>\n"
		       "  <mark_cache_size>%lld</mark_cache_size>\n"
		       "  <uncompressed_cache_size>%lld</uncompressed_cache_size>\n"
		       "  <max_concurrent_queries>%lld</max_concurrent_queries>\n"
		       "  <max_connections>%lld</max_connections>\n</yandex>\n",
		       t->port, t->dir, t->dir, t->dir, t->dir, t->dir,
		       osb_request_plan_int(req, "mark_cache_size", 67108864),
		       osb_request_plan_int(req, "uncompressed_cache_size", 67108864),
		       osb_request_plan_int(req, "max_concurrent_queries", 100),
		       osb_request_plan_int(req, "max_connections", 1024));
	osb_buf_printf(&users,
		       "<?xml version=\"1.0\"?>\n<!-- Rendered by osb-clickhouse-broker. -->\n<yandex>\n"
		       "  <profiles><default></default></profiles>\n  <quotas><default></default></quotas>\n  <users>\n"
		       "    <%s>\n      <password_sha256_hex>%s</password_sha256_hex>\n"
		       "      <networks><ip>127.0.0.1</ip><ip>::1</ip>%s%s%s</networks>\n"
		       "      <profile>default</profile>\n      <quota>default</quota>\n    </%s>\n"
		       "  </users>\n</yandex>\n",
		       t->admin_user, hash, also ? "<ip>" : "", also ? also : "", also ? "</ip>" : "", t->admin_user);
	explicit_bzero(hash, sizeof(hash));
	if (!osb_buf_text(&conf) || !osb_buf_text(&users))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, "config.xml", conf.data, conf.len, 0) != 0 ||
		 osb_file_write_private(t->dir, "users.xml", users.data, users.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write the dedicated server's files in %s", t->dir);
	osb_buf_free(&conf);
	osb_buf_free(&users);
	return rc;
}

static int ch_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct ch_ctx c;

	ch_ctx_init(&c, t, state, CH_READY_TIMEOUT_MS, err);
	return ch_call(&c, NULL, NULL, NULL, "SELECT 1");
}

/* -- the driver ------------------------------------------------------------- */

static void clickhouse_shutdown(void *state)
{
	struct ch_state *st = state;

	if (st)
		free(st->users_dir);
	free(st);
}

static int clickhouse_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct ch_state *st = calloc(1, sizeof(*st));
	long native = 0;
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->users_dir, config, "clickhouse", "users_dir",
					   "/etc/clickhouse-server/users.d")) < 0 ||
	    (rc = osb_driver_config_int(&native, config, "clickhouse", "native_port", 0, 0, 65535)) < 0) {
		clickhouse_shutdown(st);
		return rc;
	}
	if (st->users_dir[0] != '/' || strlen(st->users_dir) > 4000) {
		osb_log(OSB_LOG_ERROR, "clickhouse.config", "driver.users_dir must be an absolute path");
		clickhouse_shutdown(st);
		return OSB_EBADREQUEST;
	}
	st->native_port = (int)native;
	*state = st;
	return 0;
}

static const osb_server_spec clickhouse_server = { .default_port = 8123, .default_admin_user = "default" };

static const char *const clickhouse_keys[] = { "users_dir", "native_port", NULL };

static const osb_dedicated_spec clickhouse_dedicated = {
	.kind = "clickhouse",
	.program_key = "clickhouse_server",
	.program = "clickhouse-server",
	.args = (const char *const[]){ "--config-file={dir}/config.xml", NULL },
	.admin_user = "admin",
	.prepare = ch_prepare,
	.ready = ch_ready,
};

static const struct osb_driver clickhouse_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "clickhouse",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.server = &clickhouse_server,
	.config_keys = clickhouse_keys,
	.dedicated = &clickhouse_dedicated,
	OSB_DRIVER_SLOTS(clickhouse, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(clickhouse, clickhouse_driver);
