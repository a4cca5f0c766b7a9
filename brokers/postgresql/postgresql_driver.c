/* PostgreSQL driver: an instance is a database owned by a NOLOGIN role, a binding a LOGIN role in that role. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include <osb.h>

#include "postgresql_driver.h"

/* The names osb_name_instance()/osb_name_binding() make, as a POSIX regex for SQL. */
#define PG_NAME_REGEX "^osb_[0-9a-f]{20}$"

/* list and purge run outside any request, so they get their own budget. */
#define PG_RECONCILE_TIMEOUT_MS 30000
#define PG_HEALTH_TIMEOUT_MS 1000

/* Extensions a tenant may ask for: contrib extensions marked trusted in PostgreSQL 13+. */
static const char *const pg_allowed_extensions[] = {
	"btree_gin", "btree_gist", "citext", "cube", "fuzzystrmatch", "hstore",
	"intarray", "isn", "lo", "ltree", "pg_trgm", "pgcrypto", "seg",
	"tablefunc", "unaccent", "uuid-ossp",
};

static const char *const pg_sslmodes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
};

/* The driver's configuration; read-only after init, so callbacks share it without locks. */
struct pg_state {
	char *host;            /* server the broker connects to */
	char port[8];          /* its port, as text for libpq and endpoints */
	int port_number;       /* the same, for credentials */
	char *admin_user;      /* role with CREATEDB and CREATEROLE (a superuser in practice) */
	char *admin_password;  /* its password; never logged */
	char *admin_database;  /* database the admin connects to */
	char *public_host;     /* host written into credentials */
	char *sslmode;         /* libpq sslmode */
};

/* One admin connection with the deadline of the callback that opened it. */
struct pg_session {
	PGconn *conn;
	long long deadline;    /* CLOCK_MONOTONIC milliseconds */
	osb_errbuf *err;
	char sqlstate[6];      /* SQLSTATE of the last statement that failed, "" if none */
};

/* libpq messages span lines ("...failed: ...\n\tIs the server running..."): keep one line. */
static void pg_one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	if (!src)
		src = "";
	for (; *src && n + 1 < size; src++) {
		char c = (*src == '\n' || *src == '\t' || *src == '\r') ? ' ' : *src;

		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;
		dst[n++] = c;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static int pg_conn_fail(struct pg_session *s, const char *what)
{
	char line[400];

	pg_one_line(line, sizeof(line), PQerrorMessage(s->conn));
	return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL %s: %s", what, line[0] ? line : "connection lost");
}

/* Keep the server's NOTICEs ("already exists, skipping") out of the broker's JSON log on stderr. */
static void pg_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int pg_left_ms(const struct pg_session *s)
{
	long long left = s->deadline - osb_clock_ms();

	if (left < 1)
		return 1;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void pg_close(struct pg_session *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

/*
 * Connect without blocking past timeout_ms: PQconnectStartParams + poll, since
 * connect_timeout has whole-second granularity and a 2 s minimum. Statements
 * get a server-side statement_timeout a little under the budget, so the
 * server's "canceling statement" error comes back before our own deadline.
 */
static int pg_open(struct pg_session *s, const struct pg_state *st, const char *dbname,
		   int timeout_ms, osb_errbuf *err)
{
	char connect_timeout[16], options[64];
	const char *keys[] = {
		"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout",
		"options", "application_name", "client_encoding", NULL
	};
	const char *values[] = {
		st->host, st->port, st->admin_user, st->admin_password, dbname, st->sslmode,
		connect_timeout, options, "osb-postgresql-broker", "UTF8", NULL
	};
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	int statement_ms = timeout_ms - timeout_ms / 10 - 100;

	s->conn = NULL;
	s->err = err;
	s->deadline = osb_clock_ms() + timeout_ms;
	if (statement_ms < 50)
		statement_ms = 50;
	snprintf(connect_timeout, sizeof(connect_timeout), "%d", timeout_ms / 1000 + 2);
	snprintf(options, sizeof(options), "-c statement_timeout=%d", statement_ms);

	s->conn = PQconnectStartParams(keys, values, 0);
	if (!s->conn)
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory connecting to PostgreSQL");
	PQsetNoticeProcessor(s->conn, pg_ignore_notice, NULL);
	if (PQstatus(s->conn) == CONNECTION_BAD)
		return pg_conn_fail(s, "connect");

	while (ps != PGRES_POLLING_OK) {
		struct pollfd pfd;
		long long left = s->deadline - osb_clock_ms();
		int n;

		if (ps == PGRES_POLLING_FAILED)
			return pg_conn_fail(s, "connect");
		if (left <= 0)
			return osb_errbuf_set(err, OSB_EBACKEND, "PostgreSQL at %s:%s did not accept a connection within %d ms",
					      st->host, st->port, timeout_ms);
		pfd.fd = PQsocket(s->conn);
		pfd.events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return pg_conn_fail(s, "connect");
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return osb_errbuf_set(err, OSB_EBACKEND, "poll: %s", strerror(errno));
		if (n > 0)
			ps = PQconnectPoll(s->conn);
	}
	return 0;
}

/* Map a failed result to an error; SQLSTATE class 57014 is the statement timeout. */
static int pg_result_fail(struct pg_session *s, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char line[400];

	if (!state)
		return pg_conn_fail(s, "query");
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state);
	pg_one_line(line, sizeof(line), primary ? primary : PQresultErrorMessage(res));
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return osb_errbuf_set(s->err, OSB_ETIMEOUT, "PostgreSQL did not finish in time: %s", line);
	return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL: %s (SQLSTATE %s)", line, state);
}

/*
 * Run one statement and wait for it until the session's deadline. One statement
 * per call: CREATE/DROP DATABASE refuse to run inside a multi-statement string.
 * @param[out] out  the result when the statement returns rows; caller PQclear()s.
 */
static int pg_exec(struct pg_session *s, PGresult **out, const char *sql, int nparams, const char *const *params)
{
	PGresult *res, *keep = NULL;
	int rc = 0, sent;

	if (out)
		*out = NULL;
	s->sqlstate[0] = '\0';
	if (!s->conn)
		return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL connection already closed");
	if (nparams > 0)
		sent = PQsendQueryParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	else
		sent = PQsendQuery(s->conn, sql);
	if (!sent)
		return pg_conn_fail(s, "query");

	while (PQisBusy(s->conn)) {
		struct pollfd pfd = { .fd = PQsocket(s->conn), .events = POLLIN, .revents = 0 };
		long long left = s->deadline - osb_clock_ms();
		int n;

		if (left <= 0) {
			/* The server's statement_timeout ends the statement; this connection is unusable now. */
			pg_close(s);
			return osb_errbuf_set(s->err, OSB_ETIMEOUT, "PostgreSQL did not answer in time");
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return osb_errbuf_set(s->err, OSB_EBACKEND, "poll: %s", strerror(errno));
		if (n > 0 && !PQconsumeInput(s->conn))
			return pg_conn_fail(s, "query");
	}

	/* Read every result; the first error wins. */
	while ((res = PQgetResult(s->conn)) != NULL) {
		ExecStatusType status = PQresultStatus(res);

		if (rc == 0 && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
			rc = pg_result_fail(s, res);
		if (keep)
			PQclear(keep);
		keep = res;
	}
	if (rc == 0 && !keep)
		rc = pg_conn_fail(s, "query");
	if (rc == 0 && out) {
		*out = keep;
		keep = NULL;
	}
	if (keep)
		PQclear(keep);
	return rc;
}

static int pg_buf_add(char **buf, size_t *len, size_t *cap, const char *piece)
{
	size_t n = strlen(piece);

	if (*len + n + 1 > *cap) {
		size_t ncap = (*cap + n + 1) * 2;
		char *nbuf = realloc(*buf, ncap);

		if (!nbuf)
			return OSB_ENOMEM;
		*buf = nbuf;
		*cap = ncap;
	}
	memcpy(*buf + *len, piece, n + 1);
	*len += n;
	return 0;
}

/*
 * Build and run a statement, in the manner of PostgreSQL's format(): %I quotes
 * an identifier with PQescapeIdentifier, %L a literal with PQescapeLiteral,
 * %d prints an int and %s inserts trusted SQL text. So every name passes
 * through libpq's quoting even though ours are plain hex.
 */
static int pg_run(struct pg_session *s, const char *fmt, ...)
{
	char *buf = NULL, num[24], one[2] = { 0, 0 };
	size_t len = 0, cap = 0;
	const char *p;
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	if ((rc = pg_buf_add(&buf, &len, &cap, "")) < 0)
		goto done;
	for (p = fmt; *p && rc == 0; p++) {
		const char *arg;
		char *quoted = NULL;

		if (*p != '%') {
			one[0] = *p;
			rc = pg_buf_add(&buf, &len, &cap, one);
			continue;
		}
		switch (*++p) {
		case 'I':
		case 'L':
			arg = va_arg(ap, const char *);
			quoted = *p == 'I' ? PQescapeIdentifier(s->conn, arg, strlen(arg))
					   : PQescapeLiteral(s->conn, arg, strlen(arg));
			if (!quoted) {
				rc = pg_conn_fail(s, "quoting");
				goto done;
			}
			rc = pg_buf_add(&buf, &len, &cap, quoted);
			PQfreemem(quoted);
			break;
		case 'd':
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			rc = pg_buf_add(&buf, &len, &cap, num);
			break;
		case 's':
			rc = pg_buf_add(&buf, &len, &cap, va_arg(ap, const char *));
			break;
		default:
			rc = osb_errbuf_set(s->err, OSB_ERROR, "bad SQL template");
			goto done;
		}
	}
	if (rc < 0) {
		osb_errbuf_set(s->err, rc, "out of memory building SQL");
		goto done;
	}
	rc = pg_exec(s, NULL, buf, 0, NULL);
done:
	va_end(ap);
	/* Statements may carry a password verifier: wipe before freeing. */
	if (buf)
		explicit_bzero(buf, cap);
	free(buf);
	return rc;
}

/* @param[out] found  whether `sql` with $1 = value returns a row. */
static int pg_exists(struct pg_session *s, int *found, const char *sql, const char *value)
{
	PGresult *res = NULL;
	int rc;

	*found = 0;
	if ((rc = pg_exec(s, &res, sql, 1, &value)) < 0)
		return rc;
	*found = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static int pg_role_exists(struct pg_session *s, int *found, const char *role)
{
	return pg_exists(s, found, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role);
}

static int pg_database_exists(struct pg_session *s, int *found, const char *db)
{
	return pg_exists(s, found, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", db);
}

/* End the sessions of a user (after unbind) or on a database (before it is dropped). */
static int pg_terminate(struct pg_session *s, const char *column, const char *value)
{
	PGresult *res = NULL;
	char sql[160];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
		 " WHERE %s = $1 AND pid <> pg_catalog.pg_backend_pid()", column);
	rc = pg_exec(s, &res, sql, 1, &value);
	PQclear(res);
	return rc;
}

/* -- parameters ----------------------------------------------------------- */

static int pg_extension_allowed(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pg_allowed_extensions) / sizeof(pg_allowed_extensions[0]); i++)
		if (strcmp(name, pg_allowed_extensions[i]) == 0)
			return 1;
	return 0;
}

/*
 * The core validated parameters against the catalog's schema already; this
 * repeats the checks that keep SQL safe, in case the catalog is edited.
 */
static int pg_check_parameters(const cJSON *params, osb_errbuf *err)
{
	const cJSON *item, *ext, *other;

	if (!params)
		return 0;
	if (!cJSON_IsObject(params))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "parameters must be an object");
	cJSON_ArrayForEach(item, params) {
		if (!item->string || strcmp(item->string, "extensions") != 0)
			return osb_errbuf_set(err, OSB_EBADREQUEST, "unknown parameter \"%.64s\"",
					      item->string ? item->string : "");
	}
	ext = cJSON_GetObjectItemCaseSensitive(params, "extensions");
	if (!ext)
		return 0;
	if (!cJSON_IsArray(ext))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "parameter extensions must be an array of extension names");
	cJSON_ArrayForEach(item, ext) {
		if (!cJSON_IsString(item) || !pg_extension_allowed(item->valuestring))
			return osb_errbuf_set(err, OSB_EBADREQUEST, "extension %s%.64s%s is not allowed",
					      cJSON_IsString(item) ? "\"" : "",
					      cJSON_IsString(item) ? item->valuestring : "(not a string)",
					      cJSON_IsString(item) ? "\"" : "");
		for (other = ext->child; other != item; other = other->next)
			if (strcmp(other->valuestring, item->valuestring) == 0)
				return osb_errbuf_set(err, OSB_EBADREQUEST, "extension \"%s\" is listed twice",
						      item->valuestring);
	}
	return 0;
}

static int pg_connection_limit(const osb_request *req)
{
	long long limit = osb_request_plan_int(req, "connection_limit", -1);

	/* -1 is PostgreSQL's "no limit". */
	if (limit < -1 || limit > INT_MAX)
		return -1;
	return (int)limit;
}

/* In the instance's database: lock down schema public and add the extensions asked for. */
static int pg_setup_database(const struct pg_state *st, const char *db, const cJSON *params,
			     int timeout_ms, int schema_too, osb_errbuf *err)
{
	struct pg_session s = { 0 };
	const cJSON *ext = params ? cJSON_GetObjectItemCaseSensitive(params, "extensions") : NULL;
	const cJSON *item;
	int rc;

	if ((rc = pg_open(&s, st, db, timeout_ms, err)) < 0)
		goto done;
	if (schema_too) {
		if ((rc = pg_run(&s, "REVOKE ALL ON SCHEMA public FROM PUBLIC")) < 0)
			goto done;
		if ((rc = pg_run(&s, "ALTER SCHEMA public OWNER TO %I", db)) < 0)
			goto done;
	}
	cJSON_ArrayForEach(item, ext) {
		if ((rc = pg_run(&s, "CREATE EXTENSION IF NOT EXISTS %I SCHEMA public", item->valuestring)) < 0)
			goto done;
	}
done:
	pg_close(&s);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

static int postgresql_provision(osb_request *req, void *state)
{
	const struct pg_state *st = state;
	const cJSON *params = osb_request_parameters(req);
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	char name[OSB_NAME_SIZE];
	cJSON *saved = NULL;
	int rc, found, limit = pg_connection_limit(req);

	/* The database and its owner role share the instance's derived name. */
	osb_name_instance(name, osb_request_instance_id(req));
	if ((rc = pg_check_parameters(params, &err)) < 0)
		goto done;
	if ((rc = pg_open(&s, st, st->admin_database, osb_request_timeout_ms(req), &err)) < 0)
		goto done;

	if ((rc = pg_role_exists(&s, &found, name)) < 0)
		goto done;
	if (!found) {
		rc = pg_run(&s, "CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION", name);
		if (rc < 0 && strcmp(s.sqlstate, "42710") != 0)
			goto done;
	}
	if ((rc = pg_database_exists(&s, &found, name)) < 0)
		goto done;
	if (!found) {
		rc = pg_run(&s, "CREATE DATABASE %I OWNER %I", name, name);
		if (rc < 0 && strcmp(s.sqlstate, "42P04") != 0)
			goto done;
	}
	/* Repeated on a retry, in case an earlier attempt stopped between steps. */
	if ((rc = pg_run(&s, "ALTER DATABASE %I OWNER TO %I", name, name)) < 0)
		goto done;
	if ((rc = pg_run(&s, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name)) < 0)
		goto done;
	if ((rc = pg_run(&s, "ALTER DATABASE %I CONNECTION LIMIT %d", name, limit)) < 0)
		goto done;
	pg_close(&s);

	if ((rc = pg_setup_database(st, name, params, pg_left_ms(&s), 1, &err)) < 0)
		goto done;

	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "database", name) ||
	    !cJSON_AddStringToObject(saved, "owner", name)) {
		cJSON_Delete(saved);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_instance_state(req, saved)) < 0) {
		osb_errbuf_set(&err, rc, "cannot save instance state");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "postgresql.provisioned", "database %s ready (connection limit %d)", name, limit);
done:
	pg_close(&s);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int postgresql_update(osb_request *req, void *state)
{
	const struct pg_state *st = state;
	const cJSON *params = osb_request_parameters(req);
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	char name[OSB_NAME_SIZE];
	int rc, found, limit = pg_connection_limit(req);

	osb_name_instance(name, osb_request_instance_id(req));
	if ((rc = pg_check_parameters(params, &err)) < 0)
		goto done;
	if ((rc = pg_open(&s, st, st->admin_database, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = pg_database_exists(&s, &found, name)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "database %s is missing on the server", name);
		goto done;
	}
	if ((rc = pg_run(&s, "ALTER DATABASE %I CONNECTION LIMIT %d", name, limit)) < 0)
		goto done;
	pg_close(&s);
	/* Extensions are only ever added: dropping one would drop the tenant's objects using it. */
	if ((rc = pg_setup_database(st, name, params, pg_left_ms(&s), 0, &err)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "postgresql.updated", "database %s updated (connection limit %d)", name, limit);
done:
	pg_close(&s);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/*
 * Remove a binding role: no new logins, end its sessions, hand what it owns in
 * the instance's database to the owner and drop its grants there, then drop it.
 * `owner` may be NULL when unknown (purge of a role whose instance is gone).
 */
static int pg_drop_binding(struct pg_session *s, const struct pg_state *st, const char *owner, const char *user)
{
	struct pg_session db = { 0 };
	int rc, found;

	if ((rc = pg_role_exists(s, &found, user)) < 0 || !found)
		return rc;
	if ((rc = pg_run(s, "ALTER ROLE %I NOLOGIN", user)) < 0)
		return rc;
	if ((rc = pg_terminate(s, "usename", user)) < 0)
		return rc;
	if (owner) {
		if ((rc = pg_database_exists(s, &found, owner)) < 0)
			return rc;
		if (found) {
			if ((rc = pg_open(&db, st, owner, pg_left_ms(s), s->err)) < 0)
				goto done;
			if ((rc = pg_role_exists(&db, &found, owner)) < 0)
				goto done;
			if (found && (rc = pg_run(&db, "REASSIGN OWNED BY %I TO %I", user, owner)) < 0)
				goto done;
			if ((rc = pg_run(&db, "DROP OWNED BY %I", user)) < 0)
				goto done;
			pg_close(&db);
		}
	}
	/* A session that logged in before NOLOGIN took effect. */
	if ((rc = pg_terminate(s, "usename", user)) < 0)
		goto done;
	rc = pg_run(s, "DROP ROLE IF EXISTS %I", user);
done:
	pg_close(&db);
	return rc;
}

/* Remove an instance: its database (ending its sessions), its bindings' roles, its owner role. */
static int pg_drop_instance(struct pg_session *s, const struct pg_state *st, const char *name)
{
	PGresult *res = NULL;
	int rc, i;

	if ((rc = pg_terminate(s, "datname", name)) < 0)
		goto done;
	if ((rc = pg_run(s, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name)) < 0)
		goto done;
	rc = pg_exec(s, &res,
		     "SELECT m.rolname FROM pg_catalog.pg_auth_members a"
		     " JOIN pg_catalog.pg_roles m ON m.oid = a.member"
		     " JOIN pg_catalog.pg_roles o ON o.oid = a.roleid"
		     " WHERE o.rolname = $1 AND m.rolname ~ '" PG_NAME_REGEX "'", 1, &name);
	if (rc < 0)
		goto done;
	for (i = 0; i < PQntuples(res); i++) {
		/* The database is gone, so nothing is left to reassign. */
		if ((rc = pg_drop_binding(s, st, NULL, PQgetvalue(res, i, 0))) < 0)
			goto done;
	}
	rc = pg_run(s, "DROP ROLE IF EXISTS %I", name);
done:
	PQclear(res);
	return rc;
}

static int postgresql_deprovision(osb_request *req, void *state)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	char name[OSB_NAME_SIZE];
	int rc;

	osb_name_instance(name, osb_request_instance_id(req));
	if ((rc = pg_open(&s, st, st->admin_database, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = pg_drop_instance(&s, st, name)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "postgresql.deprovisioned", "database %s and its roles dropped", name);
done:
	pg_close(&s);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- bindings ------------------------------------------------------------- */

static int pg_set_credentials(osb_request *req, const struct pg_state *st, const char *db,
			      const char *user, const char *password, osb_errbuf *err)
{
	const char *host = st->public_host;
	const char *url_host = osb_uri_host(req, host);
	char *euser = osb_uri_escape(req, user), *epass = osb_uri_escape(req, password);
	char *uri = NULL, *jdbc = NULL;
	cJSON *cred = NULL;
	int rc;

	if (url_host && euser && epass) {
		uri = osb_req_sprintf(req, "postgresql://%s:%s@%s:%d/%s", euser, epass, url_host, st->port_number, db);
		jdbc = osb_req_sprintf(req, "jdbc:postgresql://%s:%d/%s?user=%s&password=%s",
					      url_host, st->port_number, db, euser, epass);
	}
	cred = cJSON_CreateObject();
	if (!uri || !jdbc || !cred ||
	    !cJSON_AddStringToObject(cred, "hostname", host) ||
	    !cJSON_AddStringToObject(cred, "host", host) ||
	    !cJSON_AddNumberToObject(cred, "port", st->port_number) ||
	    !cJSON_AddStringToObject(cred, "name", db) ||
	    !cJSON_AddStringToObject(cred, "database", db) ||
	    !cJSON_AddStringToObject(cred, "username", user) ||
	    !cJSON_AddStringToObject(cred, "password", password) ||
	    !cJSON_AddStringToObject(cred, "uri", uri) ||
	    !cJSON_AddStringToObject(cred, "jdbcUrl", jdbc)) {
		cJSON_Delete(cred);
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_credentials(req, cred)) < 0)
		return osb_errbuf_set(err, rc, "cannot store credentials");
	if ((rc = osb_request_add_endpoint(req, host, st->port, "tcp")) < 0)
		return osb_errbuf_set(err, rc, "cannot store endpoint");
	return 0;
}

static int postgresql_bind(osb_request *req, void *state)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	char owner[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", valid_until[40] = "infinity";
	char *verifier = NULL;
	time_t expires = osb_request_expires_at(req);
	cJSON *saved = NULL;
	int rc, found;

	osb_name_instance(owner, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_errbuf_set(&err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if (expires != 0) {
		struct tm tm;

		if (!gmtime_r(&expires, &tm) ||
		    strftime(valid_until, sizeof(valid_until), "%Y-%m-%d %H:%M:%S+00", &tm) == 0) {
			rc = osb_errbuf_set(&err, OSB_ERROR, "bad credential expiry time");
			goto done;
		}
	}
	if ((rc = pg_open(&s, st, st->admin_database, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = pg_database_exists(&s, &found, owner)) < 0)
		goto done;
	if (found && (rc = pg_role_exists(&s, &found, owner)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "database or role %s of the instance is missing on the server", owner);
		goto done;
	}
	/*
	 * Send a SCRAM verifier, never the password itself: the server would write
	 * the statement, password and all, to its log if it failed.
	 */
	verifier = PQencryptPasswordConn(s.conn, password, user, "scram-sha-256");
	if (!verifier) {
		rc = pg_conn_fail(&s, "password hashing");
		goto done;
	}
	if ((rc = pg_role_exists(&s, &found, user)) < 0)
		goto done;
	if (!found) {
		rc = pg_run(&s, "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
			    " PASSWORD %L VALID UNTIL %L IN ROLE %I", user, verifier, valid_until, owner);
		if (rc < 0 && strcmp(s.sqlstate, "42710") != 0)
			goto done;
		found = rc < 0;
	}
	if (found) {
		/* A retry: the role is there, so give it this attempt's password. */
		if ((rc = pg_run(&s, "ALTER ROLE %I LOGIN PASSWORD %L VALID UNTIL %L",
				 user, verifier, valid_until)) < 0)
			goto done;
		if ((rc = pg_run(&s, "GRANT %I TO %I", owner, user)) < 0)
			goto done;
	}
	/* Objects the binding creates belong to the owner, so every binding of the instance can use them. */
	if ((rc = pg_run(&s, "ALTER ROLE %I SET role = %L", user, owner)) < 0)
		goto done;

	if ((rc = pg_set_credentials(req, st, owner, user, password, &err)) < 0)
		goto done;
	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "username", user)) {
		cJSON_Delete(saved);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_binding_state(req, saved)) < 0) {
		osb_errbuf_set(&err, rc, "cannot save binding state");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "postgresql.bound", "role %s can log in to %s", user, owner);
done:
	if (verifier) {
		explicit_bzero(verifier, strlen(verifier));
		PQfreemem(verifier);
	}
	explicit_bzero(password, sizeof(password));
	pg_close(&s);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int postgresql_unbind(osb_request *req, void *state)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	char owner[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	int rc;

	osb_name_instance(owner, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	if ((rc = pg_open(&s, st, st->admin_database, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = pg_drop_binding(&s, st, owner, user)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "postgresql.unbound", "role %s dropped", user);
done:
	pg_close(&s);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- health and reconciliation -------------------------------------------- */

static int postgresql_health(void *state, char *msg, size_t msg_size)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	int rc;

	if ((rc = pg_open(&s, st, st->admin_database, PG_HEALTH_TIMEOUT_MS, &err)) < 0)
		goto done;
	rc = pg_run(&s, "SELECT 1");
done:
	pg_close(&s);
	if (rc < 0) {
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s", err.msg);
		return OSB_EBACKEND;
	}
	return 0;
}

static int postgresql_list(void *state, osb_tenant_cb cb, void *payload)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	PGresult *res = NULL;
	int rc, i, stop = 0;

	if ((rc = pg_open(&s, st, st->admin_database, PG_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	/* An owner role without its database is what an interrupted provision leaves: report it too. */
	rc = pg_exec(&s, &res,
		     "SELECT datname FROM pg_catalog.pg_database WHERE datname ~ '" PG_NAME_REGEX "'"
		     " UNION SELECT rolname FROM pg_catalog.pg_roles"
		     " WHERE NOT rolcanlogin AND rolname ~ '" PG_NAME_REGEX "' ORDER BY 1", 0, NULL);
	if (rc < 0)
		goto done;
	for (i = 0; i < PQntuples(res) && !stop; i++)
		stop = cb(OSB_TENANT_INSTANCE, PQgetvalue(res, i, 0), payload);
	PQclear(res);
	res = NULL;
	if (stop)
		goto done;
	rc = pg_exec(&s, &res,
		     "SELECT DISTINCT m.rolname FROM pg_catalog.pg_auth_members a"
		     " JOIN pg_catalog.pg_roles m ON m.oid = a.member"
		     " JOIN pg_catalog.pg_roles o ON o.oid = a.roleid"
		     " WHERE o.rolname ~ '" PG_NAME_REGEX "' AND m.rolname ~ '" PG_NAME_REGEX "'"
		     " ORDER BY 1", 0, NULL);
	if (rc < 0)
		goto done;
	for (i = 0; i < PQntuples(res) && !stop; i++)
		stop = cb(OSB_TENANT_BINDING, PQgetvalue(res, i, 0), payload);
done:
	PQclear(res);
	pg_close(&s);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "postgresql.list_failed", "%s", err.msg);
	return rc;
}

static int postgresql_purge(void *state, osb_tenant_kind kind, const char *name)
{
	const struct pg_state *st = state;
	struct pg_session s = { 0 };
	osb_errbuf err = { 0 };
	PGresult *res = NULL;
	int rc;

	if (!osb_name_is_derived(name)) {
		rc = osb_errbuf_set(&err, OSB_EBADREQUEST, "refusing to purge \"%.64s\": not a broker-made name",
			     name ? name : "");
		goto done;
	}
	if ((rc = pg_open(&s, st, st->admin_database, PG_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	if (kind == OSB_TENANT_INSTANCE) {
		rc = pg_drop_instance(&s, st, name);
	} else {
		/* The owner is the broker-made role it is a member of. */
		rc = pg_exec(&s, &res,
			     "SELECT o.rolname FROM pg_catalog.pg_auth_members a"
			     " JOIN pg_catalog.pg_roles m ON m.oid = a.member"
			     " JOIN pg_catalog.pg_roles o ON o.oid = a.roleid"
			     " WHERE m.rolname = $1 AND o.rolname ~ '" PG_NAME_REGEX "' LIMIT 1", 1, &name);
		if (rc < 0)
			goto done;
		rc = pg_drop_binding(&s, st, PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : NULL, name);
	}
done:
	PQclear(res);
	pg_close(&s);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "postgresql.purge_failed", "%s", err.msg);
	else
		osb_log(OSB_LOG_INFO, "postgresql.purged", "%s %s removed",
			kind == OSB_TENANT_INSTANCE ? "instance" : "binding", name);
	return rc;
}

/* -- configuration -------------------------------------------------------- */

static void pg_state_free(struct pg_state *st)
{
	if (!st)
		return;
	osb_driver_config_free_secret(st->admin_password);
	free(st->host);
	free(st->admin_user);
	free(st->admin_database);
	free(st->public_host);
	free(st->sslmode);
	free(st);
}

static int postgresql_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char *const known[] = {
		"host", "port", "admin_user", "admin_password", "admin_database", "public_host", "sslmode", NULL,
	};
	static const char *const me = "postgresql";
	struct pg_state *st = NULL;
	size_t i;
	int rc = 0;

	(void)broker;
	*state = NULL;
	if ((rc = osb_driver_config_check_keys(config, me, known)) < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->host, config, me, "host", "127.0.0.1")) < 0 ||
	    (rc = osb_driver_config_port(&st->port_number, config, me, "port", 5432)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_user, config, me, "admin_user", "postgres")) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_password, config, me, "admin_password", NULL)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_database, config, me, "admin_database", "postgres")) < 0 ||
	    (rc = osb_driver_config_string(&st->public_host, config, me, "public_host", st->host)) < 0 ||
	    (rc = osb_driver_config_string(&st->sslmode, config, me, "sslmode", "prefer")) < 0)
		goto done;
	/* libpq takes the port as text. */
	snprintf(st->port, sizeof(st->port), "%d", st->port_number);
	for (i = 0; i < sizeof(pg_sslmodes) / sizeof(pg_sslmodes[0]); i++)
		if (strcmp(st->sslmode, pg_sslmodes[i]) == 0)
			break;
	if (i == sizeof(pg_sslmodes) / sizeof(pg_sslmodes[0])) {
		osb_log(OSB_LOG_ERROR, "postgresql.config",
			"driver.sslmode must be disable, allow, prefer, require, verify-ca or verify-full");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	/* No connection here: the broker starts while the server is down and reports unready. */
	osb_log(OSB_LOG_INFO, "postgresql.config", "PostgreSQL at %s:%s as %s, database %s, sslmode %s",
		st->host, st->port, st->admin_user, st->admin_database, st->sslmode);
	*state = st;
	st = NULL;
done:
	pg_state_free(st);
	return rc;
}

static void postgresql_shutdown(void *state)
{
	pg_state_free(state);
}

static const struct osb_driver postgresql_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "postgresql",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_ASYNC,
	.init = postgresql_init,
	.shutdown = postgresql_shutdown,
	.provision = postgresql_provision,
	.deprovision = postgresql_deprovision,
	.update = postgresql_update,
	.bind = postgresql_bind,
	.unbind = postgresql_unbind,
	.health = postgresql_health,
	.list = postgresql_list,
	.purge = postgresql_purge,
};

const struct osb_driver *osb_postgresql_driver(void)
{
	return &postgresql_driver;
}
