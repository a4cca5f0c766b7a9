/* MySQL/MariaDB driver: an instance is a database (shared server or a mariadbd of its own), a binding a user with ALL on it only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/evp.h>

#include <osb.h>

/* The names osb_name_instance()/osb_name_binding() make, as a MariaDB regex. */
#define MY_NAME_REGEX "^osb_[0-9a-f]{20}$"

/* The broker-made users holding a grant on a database: by the grant pattern the broker writes, or by its plain name. */
#define MY_INSTANCE_USERS                                                                                              \
	"SELECT DISTINCT User FROM mysql.db WHERE Host = '%%' AND (Db = %L OR Db = %L)"                                \
	" AND User REGEXP '" MY_NAME_REGEX "' ORDER BY User"

/* "*" and 40 hex digits: a mysql_native_password hash, plus NUL. */
#define MY_HASH_SIZE 42

/* mariadb-install-db makes the dedicated servers' template once; a busy machine may need a while. */
#define MY_INSTALL_DB_TIMEOUT_MS 120000
/* SQL file that install-db runs into the template, deleted afterwards. */
#define MY_TEMPLATE_SQL "osb-template.sql"

/* Character sets a tenant may ask for, each with its allowed collations; the first is the default. */
static const char *const my_charsets[][6] = {
	{ "utf8mb4", "utf8mb4_unicode_ci", "utf8mb4_general_ci", "utf8mb4_unicode_520_ci", "utf8mb4_bin", NULL },
	{ "utf8mb3", "utf8mb3_unicode_ci", "utf8mb3_general_ci", "utf8mb3_unicode_520_ci", "utf8mb3_bin", NULL },
	{ "latin1", "latin1_swedish_ci", "latin1_general_ci", "latin1_german1_ci", "latin1_bin", NULL },
};

/* One admin connection with the deadline of the callback that opened it. */
struct my_session {
	MYSQL *conn;
	int64_t deadline; /* osb_clock_ms() */
	osb_errbuf *err;
	unsigned int errnum; /* the server's error number of the last failure, 0 if none */
};

/*
 * The database name as a GRANT pattern: "_" is a wildcard in the database part
 * of a grant (and in mysql.db.Db), so escape it to match this database only.
 */
static void my_grant_pattern(char out[2 * OSB_NAME_SIZE], const char *db)
{
	size_t n = 0;

	for (; *db; db++) {
		if (*db == '_' || *db == '%')
			out[n++] = '\\';
		out[n++] = *db;
	}
	out[n] = '\0';
}

static void my_close(struct my_session *s)
{
	if (s->conn)
		mysql_close(s->conn);
	s->conn = NULL;
}

/* Map the connection's last error: statement and lock timeouts, or a read cut by our own deadline, are timeouts. */
static int my_conn_fail(struct my_session *s, const char *what)
{
	unsigned int e = s->conn ? mysql_errno(s->conn) : 0;
	const char *text = s->conn ? mysql_error(s->conn) : "no connection";

	s->errnum = e;
	if (e == ER_STATEMENT_TIMEOUT || e == ER_LOCK_WAIT_TIMEOUT ||
	    ((e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR) && osb_clock_ms() >= s->deadline - 50))
		return osb_errbuf_set(s->err, OSB_ETIMEOUT, "MySQL did not finish in time (%s): %s", what, text);
	return osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL %s: %s (error %u)", what, text[0] ? text : "connection lost",
			      e);
}

/*
 * Connect to the target as its admin, with client timeouts (whole seconds)
 * and a server-side statement time limit a little under the budget, so that
 * the server's own "query interrupted" comes back before our deadline.
 */
static int my_open(struct my_session *s, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	unsigned int secs = (unsigned int)(timeout_ms + 999) / 1000, protocol = MYSQL_PROTOCOL_TCP;
	double statement_s = (timeout_ms - timeout_ms / 10 - 100) / 1000.0;
	my_bool on = 1;
	char sql[96];

	memset(s, 0, sizeof(*s));
	s->err = err;
	s->deadline = osb_clock_ms() + timeout_ms;
	if (secs < 1)
		secs = 1;
	if (statement_s < 0.05)
		statement_s = 0.05;
	if (!(s->conn = mysql_init(NULL)))
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory connecting to MySQL");
	mysql_options(s->conn, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_PROTOCOL, &protocol);
	mysql_options(s->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(s->conn, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "osb-mysql-broker");
	if (t->tls) {
		mysql_optionsv(s->conn, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_optionsv(s->conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		if (t->ca_file)
			mysql_optionsv(s->conn, MYSQL_OPT_SSL_CA, t->ca_file);
	}
	if (!mysql_real_connect(s->conn, t->host, t->admin_user, t->admin_password, NULL, (unsigned int)t->port, NULL,
				0)) {
		s->errnum = mysql_errno(s->conn);
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot connect to MySQL at %s:%d as %s: %s (error %u)",
				      t->host, t->port, t->admin_user, mysql_error(s->conn), s->errnum);
	}
	snprintf(sql, sizeof(sql), "SET SESSION max_statement_time = %.3f, lock_wait_timeout = %u", statement_s, secs);
	if (mysql_real_query(s->conn, sql, strlen(sql)) == 0)
		return 0;
	/* MySQL has no max_statement_time (MariaDB's): keep the lock limit and the client timeouts. */
	if (mysql_errno(s->conn) != ER_UNKNOWN_SYSTEM_VARIABLE)
		return my_conn_fail(s, "session setup");
	snprintf(sql, sizeof(sql), "SET SESSION lock_wait_timeout = %u", secs);
	if (mysql_real_query(s->conn, sql, strlen(sql)) != 0)
		return my_conn_fail(s, "session setup");
	return 0;
}

/* Run one statement; @param[out] out  its rows when it returns some (caller mysql_free_result()s). */
static int my_exec(struct my_session *s, MYSQL_RES **out, const char *sql)
{
	MYSQL_RES *res;

	s->errnum = 0;
	if (osb_clock_ms() >= s->deadline)
		return osb_errbuf_set(s->err, OSB_ETIMEOUT, "MySQL did not answer in time");
	if (mysql_real_query(s->conn, sql, strlen(sql)) != 0)
		return my_conn_fail(s, "query");
	res = mysql_store_result(s->conn);
	if (!res && mysql_field_count(s->conn) != 0)
		return my_conn_fail(s, "reading a result");
	if (out)
		*out = res;
	else if (res)
		mysql_free_result(res);
	return 0;
}

/*
 * Build and run a statement: %I quotes an identifier and %L a string literal
 * (osb/sql.h), %d prints an int and %s inserts trusted SQL text (a value from
 * this file's tables at most). Every name is quoted even though ours are
 * plain hex. The text is wiped afterwards: it may hold a password hash.
 * @param[out] out  the rows, when not NULL.
 */
static int my_run_v(struct my_session *s, MYSQL_RES **out, const char *fmt, va_list ap)
{
	osb_buf sql = OSB_BUF_INIT;
	const char *p;
	int rc = 0;

	for (p = fmt; rc == 0 && *p; p++) {
		char *quoted = NULL;

		if (*p != '%') {
			osb_buf_add(&sql, p, 1);
			continue;
		}
		switch (*++p) {
		case 'I': rc = osb_sql_quote_identifier(&quoted, va_arg(ap, const char *), OSB_SQL_MYSQL); break;
		case 'L': rc = osb_sql_quote_literal(&quoted, va_arg(ap, const char *), OSB_SQL_MYSQL); break;
		case 'd': osb_buf_printf(&sql, "%d", va_arg(ap, int)); break;
		case 's': osb_buf_puts(&sql, va_arg(ap, const char *)); break;
		case '%': osb_buf_add(&sql, "%", 1); break;
		default: rc = OSB_ERROR;
		}
		if (quoted) {
			osb_buf_puts(&sql, quoted);
			explicit_bzero(quoted, strlen(quoted));
			free(quoted);
		}
	}
	if (rc != 0)
		rc = osb_errbuf_set(s->err, OSB_ERROR, "cannot build an SQL statement (bad template or name)");
	else if (!osb_buf_text(&sql))
		rc = osb_errbuf_set(s->err, OSB_ENOMEM, "out of memory building SQL");
	else
		rc = my_exec(s, out, osb_buf_text(&sql));
	osb_buf_free(&sql);
	return rc;
}

static int my_run(struct my_session *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = my_run_v(s, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* What my_each calls for each row: non-zero stops, a negative value is an error. */
typedef int (*my_row_fn)(struct my_session *s, const char *value, void *payload);

/* Run a query and hand the first column of each row (NULLs skipped) to `fn`. @return 0 or fn's error. */
static int my_each(struct my_session *s, my_row_fn fn, void *payload, const char *fmt, ...)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = my_run_v(s, &res, fmt, ap);
	va_end(ap);
	if (rc == 0 && !res)
		rc = osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL returned no rows where a result was expected");
	/* The rows are all in `res` already, so fn may run statements on the same connection. */
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL)
		if (row[0])
			rc = fn(s, row[0], payload);
	if (res)
		mysql_free_result(res);
	return rc < 0 ? rc : 0;
}

static int my_found(struct my_session *s, const char *value, void *payload)
{
	(void)s;
	(void)value;
	*(int *)payload = 1;
	return 1;
}

static int my_database_exists(struct my_session *s, const char *db, int *found)
{
	*found = 0;
	return my_each(s, my_found, found, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %L", db);
}

static int my_kill_one(struct my_session *s, const char *id, void *payload)
{
	int rc;

	(void)payload;
	/* The server's own number, checked anyway since it is pasted into SQL. */
	if (!*id || id[strspn(id, "0123456789")])
		return 0;
	rc = my_run(s, "KILL CONNECTION %s", id);
	/* The session may have ended on its own meanwhile. */
	return rc < 0 && s->errnum != ER_NO_SUCH_THREAD ? rc : 0;
}

/* End every session of `column` = value in the processlist (USER after a DROP USER, DB before a DROP DATABASE). */
static int my_kill_sessions(struct my_session *s, const char *column, const char *value)
{
	return my_each(s, my_kill_one, NULL,
		       "SELECT ID FROM information_schema.PROCESSLIST"
		       " WHERE %s = %L AND ID <> CONNECTION_ID()",
		       column, value);
}

/* Revoke a binding's user: no new logins, then end the sessions that had logged in already. */
static int my_drop_user(struct my_session *s, const char *user, void *payload)
{
	int rc;

	(void)payload;
	if ((rc = my_run(s, "DROP USER IF EXISTS %L@'%%'", user)) < 0)
		return rc;
	return my_kill_sessions(s, "USER", user);
}

/* Remove an instance: the users the broker made for it (ending their sessions), then the database. */
static int my_drop_instance(struct my_session *s, const char *db)
{
	char pattern[2 * OSB_NAME_SIZE];
	int rc, found;

	my_grant_pattern(pattern, db);
	if ((rc = my_each(s, my_drop_user, NULL, MY_INSTANCE_USERS, pattern, db)) < 0 ||
	    (rc = my_kill_sessions(s, "DB", db)) < 0)
		return rc;
	/* Skip the DROP when there is nothing to drop: it would still wait behind a global read lock. */
	if ((rc = my_database_exists(s, db, &found)) < 0 || !found)
		return rc;
	return my_run(s, "DROP DATABASE IF EXISTS %I", db);
}

/*
 * The character set and collation the parameters ask for (the plan's schema
 * allows only the pairs of my_charsets): a collation alone picks its character
 * set, a character set alone takes its first collation. Both reach SQL as they
 * are, so they come from the table, never from the request; a value the
 * table lacks (an edited catalog) is refused.
 * @return 1 when the parameters name them, 0 when they name neither (the default), or an error.
 */
static int my_charset(const cJSON *params, const char **charset, const char **collation, osb_errbuf *err)
{
	const char *cs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "character_set"));
	const char *co = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "collation"));
	size_t i, j;

	*charset = my_charsets[0][0];
	*collation = my_charsets[0][1];
	if (!cs && !co)
		return 0;
	for (i = 0; i < sizeof(my_charsets) / sizeof(my_charsets[0]); i++)
		for (j = 1; my_charsets[i][j]; j++)
			if ((!cs || !strcmp(cs, my_charsets[i][0])) && (!co || !strcmp(co, my_charsets[i][j]))) {
				*charset = my_charsets[i][0];
				*collation = my_charsets[i][j];
				return 1;
			}
	return osb_errbuf_set(err, OSB_EBADREQUEST, "character_set and collation must be an allowed pair");
}

/* MAX_USER_CONNECTIONS of the plan's bindings; 0 means no limit. */
static int my_max_user_connections(const osb_request *req)
{
	long long limit = osb_request_plan_int(req, "max_user_connections", 0);

	return limit < 0 || limit > 1000000 ? 0 : (int)limit;
}

/* mysql_native_password's hash, "*" + HEX(SHA1(SHA1(password))), so the password itself never reaches the server. */
static int my_password_hash(char out[MY_HASH_SIZE], const char *password)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char one[EVP_MAX_MD_SIZE], two[EVP_MAX_MD_SIZE];
	unsigned int n1 = 0, n2 = 0, i;
	int rc = OSB_ERROR;

	if (EVP_Digest(password, strlen(password), one, &n1, EVP_sha1(), NULL) && n1 == 20 &&
	    EVP_Digest(one, n1, two, &n2, EVP_sha1(), NULL) && n2 == 20) {
		out[0] = '*';
		for (i = 0; i < 20; i++) {
			out[1 + 2 * i] = hex[two[i] >> 4];
			out[2 + 2 * i] = hex[two[i] & 15];
		}
		out[41] = '\0';
		rc = 0;
	}
	explicit_bzero(one, sizeof(one));
	explicit_bzero(two, sizeof(two));
	return rc;
}

/* -- instances and bindings ------------------------------------------------ */

static int my_provision(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req), *charset, *collation;
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_charset(osb_request_parameters(req), &charset, &collation, osb_request_errbuf(req))) < 0)
		return rc;
	if ((rc = my_open(&s, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req))) == 0 &&
	    (rc = my_run(&s, "CREATE DATABASE IF NOT EXISTS %I CHARACTER SET %s COLLATE %s", db, charset, collation)) ==
		    0)
		/* A retry may find the database an earlier attempt made: give it this request's settings. */
		rc = my_run(&s, "ALTER DATABASE %I CHARACTER SET %s COLLATE %s", db, charset, collation);
	my_close(&s);
	if (rc == 0)
		osb_request_note(req, "database %s (%s, %s)", db, charset, collation);
	return rc;
}

static int my_set_limit(struct my_session *s, const char *user, void *payload)
{
	return my_run(s, "ALTER USER IF EXISTS %L@'%%' WITH MAX_USER_CONNECTIONS %d", user, *(const int *)payload);
}

static int my_update(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req), *charset, *collation;
	osb_errbuf *err = osb_request_errbuf(req);
	int rc, found, asked, limit = my_max_user_connections(req);
	char pattern[2 * OSB_NAME_SIZE];
	struct my_session s = { 0 };

	(void)state;
	if ((asked = my_charset(osb_request_parameters(req), &charset, &collation, err)) < 0)
		return asked;
	my_grant_pattern(pattern, db);
	if ((rc = my_open(&s, osb_request_target(req), osb_request_timeout_ms(req), err)) < 0 ||
	    (rc = my_database_exists(&s, db, &found)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "database %s is missing on the server", db);
		goto done;
	}
	/* Existing tables keep theirs: this is the default for new tables. */
	if (asked && (rc = my_run(&s, "ALTER DATABASE %I CHARACTER SET %s COLLATE %s", db, charset, collation)) < 0)
		goto done;
	/* The server is the list of bindings, so a repeat after a crash finds the same ones. */
	if ((rc = my_each(&s, my_set_limit, &limit, MY_INSTANCE_USERS, pattern, db)) == 0)
		osb_request_note(req, "database %s, max_user_connections %d for its bindings", db, limit);
done:
	my_close(&s);
	return rc;
}

/* Only for shared servers: the core removes a dedicated instance's server with everything on it. */
static int my_deprovision(osb_request *req, void *state)
{
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_open(&s, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req))) == 0)
		rc = my_drop_instance(&s, osb_request_instance_name(req));
	my_close(&s);
	return rc;
}

static int my_bind(osb_request *req, void *state)
{
	const char *db = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", hash[MY_HASH_SIZE] = "", pattern[2 * OSB_NAME_SIZE];
	int rc, found, limit = my_max_user_connections(req);
	osb_errbuf *err = osb_request_errbuf(req);
	struct my_session s = { 0 };
	osb_credentials_spec cs = { .scheme = "mysql",
				    .username = user,
				    .password = password,
				    .path = db,
				    .database_keys = 1,
				    .jdbc = "mysql" };

	(void)state;
	my_grant_pattern(pattern, db);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    my_password_hash(hash, password) < 0) {
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if ((rc = my_open(&s, osb_request_target(req), osb_request_timeout_ms(req), err)) < 0 ||
	    (rc = my_database_exists(&s, db, &found)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "database %s of the instance is missing on the server", db);
		goto done;
	}
	/* IDENTIFIED WITH … AS: the same on MariaDB and MySQL 5.7/8.0. A retry gives an earlier attempt's user this one. */
	if ((rc = my_run(&s,
			 "CREATE USER IF NOT EXISTS %L@'%%' IDENTIFIED WITH mysql_native_password AS %L"
			 " WITH MAX_USER_CONNECTIONS %d",
			 user, hash, limit)) < 0 ||
	    (rc = my_run(&s,
			 "ALTER USER %L@'%%' IDENTIFIED WITH mysql_native_password AS %L"
			 " WITH MAX_USER_CONNECTIONS %d",
			 user, hash, limit)) < 0 ||
	    (rc = my_run(&s, "GRANT ALL PRIVILEGES ON %I.* TO %L@'%%'", pattern, user)) < 0 ||
	    (rc = osb_credentials_set(req, osb_credentials_new(req, &cs))) < 0)
		goto done;
	osb_request_note(req, "user %s can use %s (max_user_connections %d)", user, db, limit);
done:
	my_close(&s);
	explicit_bzero(password, sizeof(password));
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

static int my_unbind(osb_request *req, void *state)
{
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_open(&s, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req))) == 0)
		rc = my_drop_user(&s, osb_request_binding_name(req), NULL);
	my_close(&s);
	return rc;
}

/* -- health and reconciliation --------------------------------------------- */

/* Whether the server takes the admin's login and a statement: /health/ready, and a dedicated server's readiness. */
static int my_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_open(&s, server, OSB_HEALTH_TIMEOUT_MS, err)) == 0)
		rc = my_run(&s, "SELECT 1");
	my_close(&s);
	return rc;
}

struct my_listing {
	osb_tenant_kind kind;
	osb_tenant_cb cb;
	void *payload;
	int stopped; /* cb asked to stop */
};

static int my_report(struct my_session *s, const char *name, void *payload)
{
	struct my_listing *l = payload;

	(void)s;
	l->stopped = l->cb(l->kind, name, l->payload) != 0;
	return l->stopped;
}

static int my_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct my_listing l = { OSB_TENANT_INSTANCE, cb, payload, 0 };
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_open(&s, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = my_each(&s, my_report, &l,
			     "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
			     " WHERE SCHEMA_NAME REGEXP '" MY_NAME_REGEX "' ORDER BY 1");
	l.kind = OSB_TENANT_BINDING;
	if (rc == 0 && !l.stopped)
		rc = my_each(&s, my_report, &l,
			     "SELECT DISTINCT User FROM mysql.user WHERE Host = '%%'"
			     " AND User REGEXP '" MY_NAME_REGEX "' ORDER BY 1");
	my_close(&s);
	return rc;
}

static int my_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct my_session s = { 0 };
	int rc;

	(void)state;
	if ((rc = my_open(&s, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = kind == OSB_TENANT_INSTANCE ? my_drop_instance(&s, name) : my_drop_user(&s, name, NULL);
	my_close(&s);
	return rc;
}

/* -- dedicated servers ------------------------------------------------------ */

/*
 * A dedicated instance's mariadbd, on its copy of the template. --init-file
 * runs at every start, before the server takes a connection: it gives root the
 * instance's own password (prepare writes it), so the template's root, which
 * has none, never answers.
 */
static const char *my_server_args[] = {
	"--no-defaults",
	"--datadir={dir}/data",
	"--bind-address={host}",
	"--port={port}",
	"--socket={dir}/mysqld.sock",
	"--pid-file={dir}/mysqld.pid",
	"--log-error={dir}/error.log",
	"--skip-name-resolve",
	"--innodb-buffer-pool-size=32M",
	"--init-file={dir}/init.sql",
	"--user=root", /* last: init drops it unless the broker runs as root, the only case mariadbd needs it */
	NULL,
};

/* Run by mariadb-install-db in bootstrap mode (grant tables loaded first): root on localhost and 127.0.0.1 only. */
static const char my_template_sql[] =
	"FLUSH PRIVILEGES;\n"
	"DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));\n"
	"DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1');\n"
	"FLUSH PRIVILEGES;\n"
	"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n"
	"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n";

/*
 * The template every dedicated server starts from, made once per broker in
 * `dir` (the core's temporary directory, renamed when this returns 0): a
 * stopped data directory with the system tables and no password yet.
 */
static int my_template_init(const char *dir, void *state, osb_errbuf *err)
{
	const char *argv[10] = { state, "--no-defaults" };
	char datadir[4200], extra[4200];
	osb_exec_options opt = { 0 };
	osb_exec_result res = { 0 };
	size_t n = 2;
	int rc;

	if ((size_t)snprintf(datadir, sizeof(datadir), "--datadir=%s", dir) >= sizeof(datadir) ||
	    (size_t)snprintf(extra, sizeof(extra), "--extra-file=%s/" MY_TEMPLATE_SQL, dir) >= sizeof(extra))
		return osb_errbuf_set(err, OSB_ERROR, "the template directory's path is too long");
	if (osb_file_write_private(dir, MY_TEMPLATE_SQL, my_template_sql, strlen(my_template_sql), 0) != 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot write %s/%s", dir, MY_TEMPLATE_SQL);
	argv[n++] = datadir;
	if (geteuid() == 0)
		argv[n++] = "--user=root";
	argv[n++] = "--auth-root-authentication-method=normal";
	argv[n++] = "--skip-test-db";
	argv[n++] = "--skip-name-resolve";
	argv[n++] = extra;
	opt.argv = argv;
	opt.timeout_ms = MY_INSTALL_DB_TIMEOUT_MS;
	rc = osb_exec(&res, &opt);
	unlink(strchr(extra, '=') + 1);
	if (rc != 0) {
		char why[64];

		if (rc > 0)
			snprintf(why, sizeof(why), "exit status %d", rc);
		else
			snprintf(why, sizeof(why), "%s", osb_strerror(rc));
		/* Its output names no secret (the template has no password): the operator's clue. */
		osb_log(OSB_LOG_ERROR, "mysql.install_db", "%s failed (%s); its output ends: %s %s", argv[0], why,
			res.out && res.out_len > 600 ? res.out + res.out_len - 600
			: res.out                    ? res.out
						     : "",
			res.err && res.err_len > 600 ? res.err + res.err_len - 600
			: res.err                    ? res.err
						     : "");
		rc = osb_errbuf_set(err, OSB_EBACKEND,
				    "%s could not make the dedicated servers' template"
				    " (the broker's log says why)",
				    argv[0]);
	}
	osb_exec_result_free(&res);
	return rc;
}

/* The instance's init.sql: root's password from the core ({dir}/admin.pw), as its hash only, in a file of mode 0600. */
static int my_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	char hash[MY_HASH_SIZE] = "", sql[160];
	int len, rc = OSB_ERROR;

	(void)req;
	(void)state;
	if (my_password_hash(hash, t->admin_password) == 0 &&
	    (len = snprintf(sql, sizeof(sql),
			    "ALTER USER 'root'@'localhost', 'root'@'127.0.0.1'"
			    " IDENTIFIED BY PASSWORD '%s';\n",
			    hash)) > 0 &&
	    (size_t)len < sizeof(sql) && osb_file_write_private(t->dir, "init.sql", sql, (size_t)len, 0) == 0)
		rc = 0;
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(sql, sizeof(sql));
	if (rc != 0)
		return osb_errbuf_set(err, rc, "cannot write the dedicated server's init.sql in %s", t->dir);
	return 0;
}

/* -- the driver -------------------------------------------------------------- */

static int my_init(void **state, const cJSON *config, const osb_broker *broker)
{
	char *install_db = NULL;
	int rc;

	(void)broker;
	*state = NULL;
	if ((rc = osb_driver_config_string(&install_db, config, "mysql", "install_db", "mariadb-install-db")) < 0)
		return rc;
	if (geteuid() != 0)
		my_server_args[sizeof(my_server_args) / sizeof(my_server_args[0]) - 2] = NULL;
	/* Not thread-safe, so once here, before the callbacks' threads use the library. */
	if (mysql_library_init(0, NULL, NULL) != 0) {
		osb_log(OSB_LOG_ERROR, "mysql.init", "cannot initialise the MariaDB client library");
		free(install_db);
		return OSB_ERROR;
	}
	*state = install_db;
	return 0;
}

static void my_shutdown(void *state)
{
	free(state);
	mysql_library_end();
}

static const osb_server_spec my_server = { .default_port = 3306, .default_admin_user = "root" };

static const char *const my_config_keys[] = { "install_db", NULL };

static const osb_dedicated_spec my_dedicated = {
	.kind = "mariadb",
	.program_key = "mariadbd",
	.program = "mariadbd",
	.args = my_server_args,
	.admin_user = "root",
	.template_init = my_template_init,
	.prepare = my_prepare,
	.ready = my_health,
	.start_timeout_ms = 60000,
};

static const struct osb_driver driver = { .abi_version = OSB_DRIVER_INIT,
					  .name = "mysql",
					  .caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC |
						  OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
					  .server = &my_server,
					  .config_keys = my_config_keys,
					  .dedicated = &my_dedicated,
					  OSB_DRIVER_SLOTS(my, init, shutdown, provision, deprovision, update, bind,
							   unbind, health, list, purge) };

OSB_DRIVER_DEFINE(mysql, driver);
