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

/* The names the core derives (osb/names.h), as a POSIX regex literal for SQL. */
#define PG_NAME_REGEX "'^osb_[0-9a-f]{20}$'"

/* Broker-made login roles (m) and the broker-made owner roles they are members of (o). */
#define PG_MEMBERSHIPS                                                                                                 \
	" FROM pg_catalog.pg_auth_members a JOIN pg_catalog.pg_roles m ON m.oid = a.member"                            \
	" JOIN pg_catalog.pg_roles o ON o.oid = a.roleid"                                                              \
	" WHERE m.rolname ~ " PG_NAME_REGEX " AND o.rolname ~ " PG_NAME_REGEX

/* In order of strength: with driver.tls, the first three are refused. */
static const char *const pg_sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL };

/* The driver's own keys of `driver` (the core reads the server block); read-only after init. */
struct pg_config {
	char *admin_database; /* database the admin connects to */
	char *sslmode;        /* libpq sslmode of the admin connections */
};

/* One admin connection, bounded by the deadline of the callback that opened it. */
struct pg_session {
	PGconn *conn;
	const osb_target *t; /* the server and its admin account */
	const struct pg_config *cfg;
	int64_t deadline; /* an osb_clock_ms() reading */
	osb_errbuf *err;  /* where a failure is described */
	char sqlstate[6]; /* SQLSTATE of the last statement that failed, "" if none */
};

static struct pg_session pg_session(const osb_target *t, const void *cfg, int timeout_ms, osb_errbuf *err)
{
	struct pg_session s = { NULL, t, cfg, osb_clock_ms() + timeout_ms, err, "" };

	return s;
}

static struct pg_session pg_request_session(osb_request *req, const void *cfg)
{
	return pg_session(osb_request_target(req), cfg, osb_request_timeout_ms(req), osb_request_errbuf(req));
}

static int pg_conn_fail(struct pg_session *s, const char *what)
{
	const char *msg = PQerrorMessage(s->conn);

	return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL %s: %.400s", what,
			      msg && msg[0] ? msg : "connection lost");
}

/* Keep the server's NOTICEs ("already exists, skipping") out of the broker's JSON log on stderr. */
static void pg_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void pg_close(struct pg_session *s)
{
	PQfinish(s->conn);
	s->conn = NULL;
}

/* Wait for the connection's socket until the deadline. @return 1 when ready, 0 when not yet, or an error. */
static int pg_poll(struct pg_session *s, short events)
{
	struct pollfd pfd = { .fd = PQsocket(s->conn), .events = events, .revents = 0 };
	int n;

	if (pfd.fd < 0)
		return pg_conn_fail(s, "connection");
	if ((n = poll(&pfd, 1, osb_ms_left(s->deadline))) < 0 && errno != EINTR)
		return osb_errbuf_set(s->err, OSB_EBACKEND, "poll: %s", strerror(errno));
	return n > 0;
}

/*
 * (Re)connect to database `db` (NULL: the admin database) without blocking past
 * the deadline: PQconnectStartParams + poll, since connect_timeout has
 * whole-second granularity and a 2 s minimum. Statements get a server-side
 * statement_timeout a little under the time left, so the server's "canceling
 * statement" error comes back before our own deadline.
 */
static int pg_connect(struct pg_session *s, const char *db)
{
	int left = osb_ms_left(s->deadline), statement_ms = left - left / 10 - 100, rc;
	char port[8], connect_timeout[16], options[64];
	const char *keys[] = { "host",
			       "port",
			       "user",
			       "password",
			       "dbname",
			       "sslmode",
			       "connect_timeout",
			       "options",
			       "application_name",
			       "client_encoding",
			       "sslrootcert",
			       NULL };
	const char *values[] = { s->t->host,
				 port,
				 s->t->admin_user,
				 s->t->admin_password,
				 db ? db : s->cfg->admin_database,
				 s->cfg->sslmode,
				 connect_timeout,
				 options,
				 "osb-postgresql-broker",
				 "UTF8",
				 s->t->ca_file,
				 NULL };
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;

	pg_close(s);
	snprintf(port, sizeof(port), "%d", s->t->port);
	snprintf(connect_timeout, sizeof(connect_timeout), "%d", left / 1000 + 2);
	snprintf(options, sizeof(options), "-c statement_timeout=%d", statement_ms < 50 ? 50 : statement_ms);
	if (!(s->conn = PQconnectStartParams(keys, values, 0)))
		return osb_errbuf_set(s->err, OSB_ENOMEM, "out of memory connecting to PostgreSQL");
	PQsetNoticeProcessor(s->conn, pg_ignore_notice, NULL);
	while (ps != PGRES_POLLING_OK) {
		if (ps == PGRES_POLLING_FAILED || PQstatus(s->conn) == CONNECTION_BAD)
			return pg_conn_fail(s, "connect");
		if (osb_clock_ms() >= s->deadline)
			return osb_errbuf_set(s->err, OSB_EBACKEND,
					      "PostgreSQL at %s:%d did not accept a connection within %d ms",
					      s->t->host, s->t->port, left);
		if ((rc = pg_poll(s, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT)) < 0)
			return rc;
		if (rc > 0)
			ps = PQconnectPoll(s->conn);
	}
	return 0;
}

/* Describe a failed statement; SQLSTATE 57014 is the statement timeout, 55P03 a lock timeout. */
static int pg_result_fail(struct pg_session *s, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (!state)
		return pg_conn_fail(s, "query");
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state);
	if (!primary)
		primary = PQresultErrorMessage(res);
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return osb_errbuf_set(s->err, OSB_ETIMEOUT, "PostgreSQL did not finish in time: %.400s", primary);
	return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL: %.400s (SQLSTATE %s)", primary, state);
}

/*
 * Run one statement and wait for it until the session's deadline. One statement
 * per call: CREATE/DROP DATABASE refuse to run inside a multi-statement string.
 * @param[out] out  the result when the statement returns rows (may be NULL); caller PQclear()s.
 */
static int pg_exec(struct pg_session *s, PGresult **out, const char *sql, int nparams, const char *const *params)
{
	PGresult *res, *last = NULL;
	int rc;

	if (out)
		*out = NULL;
	s->sqlstate[0] = '\0';
	if (!s->conn)
		return osb_errbuf_set(s->err, OSB_EBACKEND, "PostgreSQL connection already closed");
	if (!(nparams ? PQsendQueryParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0)
		      : PQsendQuery(s->conn, sql)))
		return pg_conn_fail(s, "query");
	while (PQisBusy(s->conn)) {
		if (osb_clock_ms() >= s->deadline) {
			/* The server's statement_timeout ends the statement; this connection is unusable now. */
			pg_close(s);
			return osb_errbuf_set(s->err, OSB_ETIMEOUT, "PostgreSQL did not answer in time");
		}
		if ((rc = pg_poll(s, POLLIN)) < 0)
			return rc;
		if (rc > 0 && !PQconsumeInput(s->conn))
			return pg_conn_fail(s, "query");
	}
	/* Read every result; the first error wins. */
	for (rc = 0; (res = PQgetResult(s->conn)) != NULL; last = res) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			rc = pg_result_fail(s, res);
		PQclear(last);
	}
	if (rc == 0 && !last)
		rc = pg_conn_fail(s, "query");
	if (rc == 0 && out) {
		*out = last;
		last = NULL;
	}
	PQclear(last);
	return rc;
}

/*
 * Build and run a statement in the manner of PostgreSQL's format(): %I quotes an
 * identifier with PQescapeIdentifier, %L a literal with PQescapeLiteral, %d
 * prints an int. So every name passes through libpq's quoting even though ours
 * are plain hex.
 */
static int pg_run(struct pg_session *s, const char *fmt, ...)
{
	osb_buf sql = OSB_BUF_INIT;
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	for (const char *p = fmt; rc == 0 && *p; p++) {
		if (*p != '%') {
			osb_buf_add(&sql, p, 1);
		} else if (*++p == 'd') {
			osb_buf_printf(&sql, "%d", va_arg(ap, int));
		} else if (*p == 'I' || *p == 'L') {
			const char *arg = va_arg(ap, const char *);
			char *quoted = *p == 'I' ? PQescapeIdentifier(s->conn, arg, strlen(arg))
						 : PQescapeLiteral(s->conn, arg, strlen(arg));

			if (!quoted) {
				rc = pg_conn_fail(s, "quoting");
				break;
			}
			osb_buf_puts(&sql, quoted);
			/* A literal may be a password verifier. */
			explicit_bzero(quoted, strlen(quoted));
			PQfreemem(quoted);
		} else {
			rc = osb_errbuf_set(s->err, OSB_ERROR, "bad SQL template");
		}
	}
	va_end(ap);
	if (rc == 0 && !osb_buf_text(&sql))
		rc = osb_errbuf_set(s->err, OSB_ENOMEM, "out of memory building SQL");
	if (rc == 0)
		rc = pg_exec(s, NULL, osb_buf_text(&sql), 0, NULL);
	osb_buf_free(&sql);
	return rc;
}

/* @return 1 when `sql` with $1 = value returns a row, 0 when not, or an error. */
static int pg_exists(struct pg_session *s, const char *sql, const char *value)
{
	PGresult *res;
	int rc = pg_exec(s, &res, sql, 1, &value);

	if (rc == 0)
		rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

static int pg_role_exists(struct pg_session *s, const char *role)
{
	return pg_exists(s, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role);
}

static int pg_database_exists(struct pg_session *s, const char *db)
{
	return pg_exists(s, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", db);
}

/* End the sessions of a user (after unbind) or on a database (before it is dropped). */
static int pg_terminate(struct pg_session *s, const char *column, const char *value)
{
	PGresult *res;
	char sql[160];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
		 " WHERE %s = $1 AND pid <> pg_catalog.pg_backend_pid()",
		 column);
	rc = pg_exec(s, &res, sql, 1, &value);
	PQclear(res);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

/* The plan's x-osb.connection_limit; out of int range (a catalog typo) means -1, PostgreSQL's "no limit". */
static int pg_connection_limit(const osb_request *req)
{
	long long limit = osb_request_plan_int(req, "connection_limit", -1);

	return limit < -1 || limit > INT_MAX ? -1 : (int)limit;
}

/*
 * In the instance's database: lock down schema public (on provision), then add
 * the extensions asked for as the owner role, so that the server itself refuses
 * an extension that is not trusted even if an edited catalog lets one through.
 */
static int pg_setup_database(struct pg_session *s, const char *db, const cJSON *params, int lock_schema)
{
	const cJSON *item, *extensions = cJSON_GetObjectItemCaseSensitive(params, "extensions");
	int rc;

	if ((rc = pg_connect(s, db)) < 0)
		return rc;
	if (lock_schema && ((rc = pg_run(s, "REVOKE ALL ON SCHEMA public FROM PUBLIC")) < 0 ||
			    (rc = pg_run(s, "ALTER SCHEMA public OWNER TO %I", db)) < 0))
		return rc;
	if (cJSON_GetArraySize(extensions) > 0 && (rc = pg_run(s, "SET ROLE %I", db)) < 0)
		return rc;
	cJSON_ArrayForEach(item, extensions)
	{
		/* The schema says these are names; a plan without one must not crash the broker. */
		if (!cJSON_IsString(item))
			return osb_errbuf_set(s->err, OSB_EBADREQUEST, "extensions must be extension names");
		if ((rc = pg_run(s, "CREATE EXTENSION IF NOT EXISTS %I SCHEMA public", item->valuestring)) < 0)
			return rc;
	}
	return 0;
}

/* Every step is repeated on a retry, in case an earlier attempt stopped between steps. */
static int postgresql_provision(osb_request *req, void *state)
{
	struct pg_session s = pg_request_session(req, state);
	const char *name = osb_request_instance_name(req); /* of the database and of its owner role */
	int rc, limit = pg_connection_limit(req);

	if ((rc = pg_connect(&s, NULL)) < 0 || (rc = pg_role_exists(&s, name)) < 0)
		goto done;
	if (!rc &&
	    (rc = pg_run(&s, "CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION", name)) < 0 &&
	    strcmp(s.sqlstate, "42710") != 0)
		goto done;
	if ((rc = pg_database_exists(&s, name)) < 0)
		goto done;
	if (!rc && (rc = pg_run(&s, "CREATE DATABASE %I OWNER %I", name, name)) < 0 && strcmp(s.sqlstate, "42P04") != 0)
		goto done;
	if ((rc = pg_run(&s, "ALTER DATABASE %I OWNER TO %I", name, name)) < 0 ||
	    (rc = pg_run(&s, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name)) < 0 ||
	    (rc = pg_run(&s, "ALTER DATABASE %I CONNECTION LIMIT %d", name, limit)) < 0 ||
	    (rc = pg_setup_database(&s, name, osb_request_parameters(req), 1)) < 0)
		goto done;
	osb_request_note(req, "connection limit %d", limit);
done:
	pg_close(&s);
	return rc;
}

static int postgresql_update(osb_request *req, void *state)
{
	struct pg_session s = pg_request_session(req, state);
	const char *name = osb_request_instance_name(req);
	int rc, limit = pg_connection_limit(req);

	if ((rc = pg_connect(&s, NULL)) < 0 || (rc = pg_database_exists(&s, name)) < 0)
		goto done;
	if (!rc) {
		rc = osb_errbuf_set(s.err, OSB_EBACKEND, "database %s is missing on the server", name);
		goto done;
	}
	/* Extensions are only ever added: dropping one would drop the tenant's objects using it. */
	if ((rc = pg_run(&s, "ALTER DATABASE %I CONNECTION LIMIT %d", name, limit)) < 0 ||
	    (rc = pg_setup_database(&s, name, osb_request_parameters(req), 0)) < 0)
		goto done;
	osb_request_note(req, "connection limit %d", limit);
done:
	pg_close(&s);
	return rc;
}

/*
 * Remove a binding role: no new logins, end its sessions, hand what it owns in
 * the instance's database to the owner and drop its grants there, then drop it.
 * `owner` may be NULL when unknown (purge of a role whose instance is gone).
 */
static int pg_drop_binding(struct pg_session *s, const char *owner, const char *user)
{
	struct pg_session db = *s;
	int rc;

	db.conn = NULL;
	if ((rc = pg_role_exists(s, user)) <= 0)
		return rc;
	if ((rc = pg_run(s, "ALTER ROLE %I NOLOGIN", user)) < 0 || (rc = pg_terminate(s, "usename", user)) < 0 ||
	    (owner && (rc = pg_database_exists(s, owner)) < 0))
		return rc;
	if (owner && rc > 0) {
		if ((rc = pg_connect(&db, owner)) == 0 && (rc = pg_role_exists(&db, owner)) > 0)
			rc = pg_run(&db, "REASSIGN OWNED BY %I TO %I", user, owner);
		if (rc == 0)
			rc = pg_run(&db, "DROP OWNED BY %I", user);
		pg_close(&db);
		if (rc < 0)
			return rc;
	}
	/* A session that logged in before NOLOGIN took effect. */
	if ((rc = pg_terminate(s, "usename", user)) < 0)
		return rc;
	return pg_run(s, "DROP ROLE IF EXISTS %I", user);
}

/* Remove an instance: its database (ending its sessions), its bindings' roles, its owner role. */
static int pg_drop_instance(struct pg_session *s, const char *name)
{
	PGresult *res = NULL;
	int rc, i;

	if ((rc = pg_terminate(s, "datname", name)) < 0 ||
	    (rc = pg_run(s, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name)) < 0 ||
	    (rc = pg_exec(s, &res, "SELECT m.rolname" PG_MEMBERSHIPS " AND o.rolname = $1", 1, &name)) < 0)
		goto done;
	/* The database is gone, so nothing is left to reassign. */
	for (i = 0; rc == 0 && i < PQntuples(res); i++)
		rc = pg_drop_binding(s, NULL, PQgetvalue(res, i, 0));
	if (rc == 0)
		rc = pg_run(s, "DROP ROLE IF EXISTS %I", name);
done:
	PQclear(res);
	return rc;
}

static int postgresql_deprovision(osb_request *req, void *state)
{
	struct pg_session s = pg_request_session(req, state);
	int rc = pg_connect(&s, NULL);

	if (rc == 0)
		rc = pg_drop_instance(&s, osb_request_instance_name(req));
	pg_close(&s);
	return rc;
}

/* -- bindings ------------------------------------------------------------- */

static int postgresql_bind(osb_request *req, void *state)
{
	struct pg_session s = pg_request_session(req, state);
	const char *owner = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", valid_until[40] = "infinity", *verifier = NULL;
	osb_credentials_spec spec = { .scheme = "postgresql",
				      .username = user,
				      .password = password,
				      .path = owner,
				      .database_keys = 1,
				      .jdbc = "postgresql" };
	time_t expires = osb_request_expires_at(req);
	struct tm tm;
	int rc, found;

	if (expires != 0 &&
	    (!gmtime_r(&expires, &tm) || strftime(valid_until, sizeof(valid_until), "%Y-%m-%d %H:%M:%S+00", &tm) == 0))
		return osb_errbuf_set(s.err, OSB_ERROR, "bad credential expiry time");
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_errbuf_set(s.err, OSB_ERROR, "cannot generate a password");
	if ((rc = pg_connect(&s, NULL)) < 0 || (rc = pg_database_exists(&s, owner)) < 0 ||
	    (rc > 0 && (rc = pg_role_exists(&s, owner)) < 0))
		goto done;
	if (!rc) {
		rc = osb_errbuf_set(s.err, OSB_EBACKEND, "database or role %s of the instance is missing on the server",
				    owner);
		goto done;
	}
	/*
	 * Send a SCRAM verifier, never the password itself: the server would write
	 * the statement, password and all, to its log if it failed.
	 */
	if (!(verifier = PQencryptPasswordConn(s.conn, password, user, "scram-sha-256"))) {
		rc = pg_conn_fail(&s, "password hashing");
		goto done;
	}
	if ((rc = found = pg_role_exists(&s, user)) < 0)
		goto done;
	if (!found) {
		rc = pg_run(&s,
			    "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
			    " PASSWORD %L VALID UNTIL %L IN ROLE %I",
			    user, verifier, valid_until, owner);
		if (rc < 0 && strcmp(s.sqlstate, "42710") != 0)
			goto done;
		found = rc < 0;
	}
	/* A retry: the role is there, so give it this attempt's password. */
	if (found &&
	    ((rc = pg_run(&s, "ALTER ROLE %I LOGIN PASSWORD %L VALID UNTIL %L", user, verifier, valid_until)) < 0 ||
	     (rc = pg_run(&s, "GRANT %I TO %I", owner, user)) < 0))
		goto done;
	/* Objects the binding creates belong to the owner, so every binding of the instance can use them. */
	if ((rc = pg_run(&s, "ALTER ROLE %I SET role = %L", user, owner)) < 0)
		goto done;
	if ((rc = osb_credentials_set(req, osb_credentials_new(req, &spec))) == 0)
		osb_request_note(req, "login valid until %s", valid_until);
done:
	if (verifier) {
		explicit_bzero(verifier, strlen(verifier));
		PQfreemem(verifier);
	}
	explicit_bzero(password, sizeof(password));
	pg_close(&s);
	return rc;
}

static int postgresql_unbind(osb_request *req, void *state)
{
	struct pg_session s = pg_request_session(req, state);
	int rc = pg_connect(&s, NULL);

	if (rc == 0)
		rc = pg_drop_binding(&s, osb_request_instance_name(req), osb_request_binding_name(req));
	pg_close(&s);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

static int postgresql_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct pg_session s = pg_session(server, state, OSB_HEALTH_TIMEOUT_MS, err);
	int rc = pg_connect(&s, NULL);

	if (rc == 0)
		rc = pg_run(&s, "SELECT 1");
	pg_close(&s);
	return rc;
}

static int postgresql_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct pg_session s = pg_session(server, state, OSB_RECONCILE_TIMEOUT_MS, err);
	PGresult *res = NULL;
	int rc, i;

	/* An owner role without its database is what an interrupted provision leaves: an instance too. */
	if ((rc = pg_connect(&s, NULL)) == 0)
		rc = pg_exec(&s, &res,
			     "SELECT 1, datname FROM pg_catalog.pg_database WHERE datname ~ " PG_NAME_REGEX
			     " UNION SELECT 1, rolname FROM pg_catalog.pg_roles"
			     " WHERE NOT rolcanlogin AND rolname ~ " PG_NAME_REGEX
			     " UNION SELECT 2, m.rolname" PG_MEMBERSHIPS,
			     0, NULL);
	for (i = 0; rc == 0 && i < PQntuples(res); i++)
		if (cb(PQgetvalue(res, i, 0)[0] == '1' ? OSB_TENANT_INSTANCE : OSB_TENANT_BINDING,
		       PQgetvalue(res, i, 1), payload))
			break;
	PQclear(res);
	pg_close(&s);
	return rc;
}

static int postgresql_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name,
			    osb_errbuf *err)
{
	struct pg_session s = pg_session(server, state, OSB_RECONCILE_TIMEOUT_MS, err);
	PGresult *res = NULL;
	int rc = pg_connect(&s, NULL);

	if (rc == 0 && kind == OSB_TENANT_INSTANCE)
		rc = pg_drop_instance(&s, name);
	/* A binding's owner is the broker-made role it is a member of. */
	else if (rc == 0 && (rc = pg_exec(&s, &res, "SELECT o.rolname" PG_MEMBERSHIPS " AND m.rolname = $1 LIMIT 1", 1,
					  &name)) == 0)
		rc = pg_drop_binding(&s, PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : NULL, name);
	PQclear(res);
	pg_close(&s);
	return rc;
}

/* -- configuration -------------------------------------------------------- */

static void postgresql_shutdown(void *state)
{
	struct pg_config *cfg = state;

	free(cfg->admin_database);
	free(cfg->sslmode);
	free(cfg);
}

static int postgresql_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char *const me = "postgresql";
	int tls = osb_broker_server(broker)->tls;
	struct pg_config *cfg = calloc(1, sizeof(*cfg));
	size_t i = 0;
	int rc;

	if (!cfg)
		return OSB_ENOMEM;
	/* driver.tls asks for TLS: the default sslmode requires it then, and modes that may do without are refused. */
	if ((rc = osb_driver_config_string(&cfg->admin_database, config, me, "admin_database", "postgres")) < 0 ||
	    (rc = osb_driver_config_string(&cfg->sslmode, config, me, "sslmode", tls ? "require" : "prefer")) < 0)
		goto fail;
	while (pg_sslmodes[i] && strcmp(cfg->sslmode, pg_sslmodes[i]) != 0)
		i++;
	if (!pg_sslmodes[i] || (tls && i < 3)) {
		osb_log(OSB_LOG_ERROR, "postgresql.config", "driver.sslmode must be %s",
			tls ? "require, verify-ca or verify-full with driver.tls"
			    : "disable, allow, prefer, require, verify-ca or verify-full");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	osb_log(OSB_LOG_INFO, "postgresql.config", "admin database %s, sslmode %s", cfg->admin_database, cfg->sslmode);
	*state = cfg;
	return 0;
fail:
	postgresql_shutdown(cfg);
	return rc;
}

static const osb_server_spec postgresql_server = { .default_port = 5432, .default_admin_user = "postgres" };
static const char *const postgresql_keys[] = { "admin_database", "sslmode", NULL };

static const struct osb_driver postgresql_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "postgresql",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION |
		OSB_CAP_ASYNC,
	.server = &postgresql_server,
	.config_keys = postgresql_keys,
	OSB_DRIVER_SLOTS(postgresql, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(postgresql, postgresql_driver);
