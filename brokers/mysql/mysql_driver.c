/* MySQL/MariaDB driver: an instance is a database (shared server or a mariadbd of its own), a binding a user with ALL on it only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/evp.h>

#include <osb.h>
#include <osb/deployer.h>
#include <osb/exec.h>

#include "mysql_driver.h"

/* The names osb_name_instance()/osb_name_binding() make, as a MariaDB regex. */
#define MY_NAME_REGEX "^osb_[0-9a-f]{20}$"

/* list and purge run outside any request, so they get their own budget. */
#define MY_RECONCILE_TIMEOUT_MS 30000
#define MY_HEALTH_TIMEOUT_MS 1000

/* A dedicated server: how long its start and its data directory's initialisation may take. */
#define MY_DEDICATED_START_MS 60000
#define MY_INSTALL_DB_TIMEOUT_MS 120000
/* The dedicated server's root password, in its instance directory (mode 0600). */
#define MY_ROOT_PW_FILE "root.pw"

/* "*" and 40 hex digits: a mysql_native_password hash, plus NUL. */
#define MY_HASH_SIZE 42

/* Character sets a tenant may ask for, each with its allowed collations; the first is the default. */
static const char *const my_charsets[][6] = {
	{ "utf8mb4", "utf8mb4_unicode_ci", "utf8mb4_general_ci", "utf8mb4_unicode_520_ci", "utf8mb4_bin", NULL },
	{ "utf8mb3", "utf8mb3_unicode_ci", "utf8mb3_general_ci", "utf8mb3_unicode_520_ci", "utf8mb3_bin", NULL },
	{ "latin1", "latin1_swedish_ci", "latin1_general_ci", "latin1_german1_ci", "latin1_bin", NULL },
};

/* The driver's configuration; read-only after init, so callbacks share it without locks. */
struct my_state {
	char *host;            /* shared server the broker connects to */
	int port;              /* its port */
	char *admin_user;      /* user with CREATE USER, GRANT OPTION and ALL on osb_ databases */
	char *admin_password;  /* its password; never logged */
	char *public_host;     /* host written into credentials */
	int public_port;       /* port written into credentials */
	osb_deployer *deployer; /* the core's, for dedicated plans; NULL without a `dedicated` config section */
	char *mariadbd;        /* server program of dedicated instances */
	char *install_db;      /* mariadb-install-db, which initialises their data directories */
	char *dedicated_host;  /* IP address dedicated servers listen on, and credentials name */
};

/* Where one operation connects: the shared server, or an instance's own server. */
struct my_target {
	const char *host;
	int port;
	const char *user;
	const char *password;
	const char *public_host;
	int public_port;
	int dedicated;         /* an instance's own server */
	char secret[OSB_SECRET_DEFAULT_LEN + 1]; /* its root password, read from its directory */
};

/* One admin connection with the deadline of the callback that opened it. */
struct my_session {
	MYSQL *conn;
	long long deadline;    /* CLOCK_MONOTONIC milliseconds */
	osb_errbuf *err;
	unsigned int errnum;   /* the server's error number of the last failure, 0 if none */
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
	return osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL %s: %s (error %u)", what, text[0] ? text : "connection lost", e);
}

/*
 * Connect with client timeouts (whole seconds) and a server-side statement
 * time limit a little under the budget, so that the server's own "query
 * interrupted" comes back before our deadline.
 */
static int my_open(struct my_session *s, const struct my_target *t, int timeout_ms, osb_errbuf *err)
{
	unsigned int secs = (unsigned int)(timeout_ms + 999) / 1000;
	unsigned int protocol = MYSQL_PROTOCOL_TCP;
	double statement_s = (timeout_ms - timeout_ms / 10 - 100) / 1000.0;
	char sql[96];

	s->conn = NULL;
	s->err = err;
	s->deadline = osb_clock_ms() + timeout_ms;
	if (secs < 1)
		secs = 1;
	if (statement_s < 0.05)
		statement_s = 0.05;
	s->conn = mysql_init(NULL);
	if (!s->conn)
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory connecting to MySQL");
	mysql_options(s->conn, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	mysql_options(s->conn, MYSQL_OPT_PROTOCOL, &protocol);
	mysql_options(s->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(s->conn, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "osb-mysql-broker");
	if (!mysql_real_connect(s->conn, t->host, t->user, t->password, NULL, (unsigned int)t->port, NULL, 0)) {
		s->errnum = mysql_errno(s->conn);
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot connect to MySQL at %s:%d as %s: %s (error %u)",
				      t->host, t->port, t->user, mysql_error(s->conn), mysql_errno(s->conn));
	}
	snprintf(sql, sizeof(sql), "SET SESSION max_statement_time = %.3f, lock_wait_timeout = %u",
		 statement_s, secs);
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

	if (out)
		*out = NULL;
	s->errnum = 0;
	if (!s->conn)
		return osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL connection already closed");
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

static int my_buf_add(char **buf, size_t *len, size_t *cap, const char *piece, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*cap + n + 1) * 2;
		char *nbuf = malloc(ncap);

		/* Copy rather than realloc, so no stray copy of a hash is left in freed memory. */
		if (!nbuf)
			return OSB_ENOMEM;
		if (*buf) {
			memcpy(nbuf, *buf, *len);
			explicit_bzero(*buf, *cap);
			free(*buf);
		}
		*buf = nbuf;
		*cap = ncap;
	}
	memcpy(*buf + *len, piece, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/*
 * Build and run a statement: %I quotes an identifier with backticks
 * (osb_sql_quote_identifier), %L a string literal with
 * mysql_real_escape_string, %d prints an int and %s inserts trusted SQL text
 * (a validated enum value at most). Every name passes through quoting even
 * though ours are plain hex.
 * @param[out] out  the rows, when not NULL.
 */
static int my_run_v(struct my_session *s, MYSQL_RES **out, const char *fmt, va_list ap)
{
	char *buf = NULL, *quoted = NULL, num[24];
	size_t len = 0, cap = 0;
	const char *p;
	int rc = 0;

	if (!s->conn)
		return osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL connection already closed");
	for (p = fmt; *p && rc == 0; p++) {
		const char *arg;
		size_t n;

		if (*p != '%') {
			rc = my_buf_add(&buf, &len, &cap, p, 1);
			continue;
		}
		switch (*++p) {
		case 'I':
			arg = va_arg(ap, const char *);
			if ((rc = osb_sql_quote_identifier(&quoted, arg, OSB_SQL_MYSQL)) < 0) {
				osb_errbuf_set(s->err, rc, "cannot quote identifier");
				goto done;
			}
			rc = my_buf_add(&buf, &len, &cap, quoted, strlen(quoted));
			free(quoted);
			quoted = NULL;
			break;
		case 'L':
			arg = va_arg(ap, const char *);
			n = strlen(arg);
			quoted = malloc(2 * n + 3);
			if (!quoted) {
				rc = OSB_ENOMEM;
				break;
			}
			quoted[0] = '\'';
			n = mysql_real_escape_string(s->conn, quoted + 1, arg, (unsigned long)n);
			quoted[n + 1] = '\'';
			quoted[n + 2] = '\0';
			rc = my_buf_add(&buf, &len, &cap, quoted, n + 2);
			explicit_bzero(quoted, n + 2);
			free(quoted);
			quoted = NULL;
			break;
		case 'd':
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			rc = my_buf_add(&buf, &len, &cap, num, strlen(num));
			break;
		case 's':
			arg = va_arg(ap, const char *);
			rc = my_buf_add(&buf, &len, &cap, arg, strlen(arg));
			break;
		case '%':
			rc = my_buf_add(&buf, &len, &cap, "%", 1);
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
	rc = my_exec(s, out, buf ? buf : "");
done:
	/* Statements may carry a password hash: wipe before freeing. */
	if (buf)
		explicit_bzero(buf, cap);
	free(buf);
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

static int my_select(struct my_session *s, MYSQL_RES **out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = my_run_v(s, out, fmt, ap);
	va_end(ap);
	if (rc == 0 && !*out)
		rc = osb_errbuf_set(s->err, OSB_EBACKEND, "MySQL returned no rows where a result was expected");
	return rc;
}

static int my_database_exists(struct my_session *s, int *found, const char *db)
{
	MYSQL_RES *res = NULL;
	int rc;

	*found = 0;
	rc = my_select(s, &res, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %L", db);
	if (rc == 0)
		*found = mysql_num_rows(res) > 0;
	if (res)
		mysql_free_result(res);
	return rc;
}

/* End every session of `column` = value in the processlist (USER after a DROP USER, DB before a DROP DATABASE). */
static int my_kill_sessions(struct my_session *s, const char *column, const char *value)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	rc = my_select(s, &res, "SELECT ID FROM information_schema.PROCESSLIST WHERE %s = %L AND ID <> CONNECTION_ID()",
		       column, value);
	if (rc < 0)
		goto done;
	while ((row = mysql_fetch_row(res)) != NULL) {
		char *end = NULL, id[24];
		unsigned long long n;

		if (!row[0])
			continue;
		errno = 0;
		n = strtoull(row[0], &end, 10);
		if (errno || end == row[0] || *end)
			continue;
		snprintf(id, sizeof(id), "%llu", n);
		rc = my_run(s, "KILL CONNECTION %s", id);
		/* The session may have ended on its own meanwhile. */
		if (rc < 0 && s->errnum != ER_NO_SUCH_THREAD)
			goto done;
		rc = 0;
	}
done:
	if (res)
		mysql_free_result(res);
	return rc;
}

/* Revoke a binding's user: no new logins, then end the sessions that had logged in already. */
static int my_drop_user(struct my_session *s, const char *user)
{
	int rc;

	if ((rc = my_run(s, "DROP USER IF EXISTS %L@'%%'", user)) < 0)
		return rc;
	return my_kill_sessions(s, "USER", user);
}

/*
 * The broker-made users holding a grant on the database: the grant pattern
 * the broker writes, and the plain name in case someone granted by hand.
 * @param[out] out  the rows (User), caller frees.
 */
static int my_instance_users(struct my_session *s, MYSQL_RES **out, const char *db)
{
	char pattern[2 * OSB_NAME_SIZE];

	my_grant_pattern(pattern, db);
	return my_select(s, out,
			 "SELECT DISTINCT User FROM mysql.db WHERE Host = '%%' AND (Db = %L OR Db = %L)"
			 " AND User REGEXP '" MY_NAME_REGEX "' ORDER BY User", pattern, db);
}

/* Remove an instance: the users the broker made for it (ending their sessions), then the database. */
static int my_drop_instance(struct my_session *s, const char *db)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc, found;

	if ((rc = my_instance_users(s, &res, db)) < 0)
		goto done;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] && osb_name_is_derived(row[0]) && (rc = my_drop_user(s, row[0])) < 0)
			goto done;
	}
	if ((rc = my_kill_sessions(s, "DB", db)) < 0)
		goto done;
	/* Skip the DROP when there is nothing to drop: it would still wait behind a global read lock. */
	if ((rc = my_database_exists(s, &found, db)) < 0 || !found)
		goto done;
	rc = my_run(s, "DROP DATABASE IF EXISTS %I", db);
done:
	if (res)
		mysql_free_result(res);
	return rc;
}

/* -- parameters ----------------------------------------------------------- */

static int my_charset_index(const char *charset)
{
	size_t i;

	for (i = 0; i < sizeof(my_charsets) / sizeof(my_charsets[0]); i++)
		if (strcmp(charset, my_charsets[i][0]) == 0)
			return (int)i;
	return -1;
}

/*
 * The core validated parameters against the catalog's schema already; this
 * repeats the checks that keep SQL safe, in case the catalog is edited, and
 * checks that the collation belongs to the character set.
 * @param[out] charset, collation  static strings, NULL when not asked for.
 */
static int my_check_parameters(const cJSON *params, const char **charset, const char **collation,
			       osb_errbuf *err)
{
	const cJSON *item, *cs, *co;
	int i, j;

	*charset = NULL;
	*collation = NULL;
	if (!params)
		return 0;
	if (!cJSON_IsObject(params))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "parameters must be an object");
	cJSON_ArrayForEach(item, params) {
		if (!item->string || (strcmp(item->string, "character_set") != 0 && strcmp(item->string, "collation") != 0))
			return osb_errbuf_set(err, OSB_EBADREQUEST, "unknown parameter \"%.64s\"",
					      item->string ? item->string : "");
	}
	cs = cJSON_GetObjectItemCaseSensitive(params, "character_set");
	co = cJSON_GetObjectItemCaseSensitive(params, "collation");
	if (cs && (!cJSON_IsString(cs) || (i = my_charset_index(cs->valuestring)) < 0))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "character_set must be utf8mb4, utf8mb3 or latin1");
	if (co && !cJSON_IsString(co))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "collation must be a string");
	if (!cs && !co)
		return 0;
	/* A collation alone picks its character set; a character set alone takes its default collation. */
	if (!cs) {
		for (i = 0; i < (int)(sizeof(my_charsets) / sizeof(my_charsets[0])); i++)
			for (j = 1; my_charsets[i][j]; j++)
				if (strcmp(co->valuestring, my_charsets[i][j]) == 0)
					goto found;
		return osb_errbuf_set(err, OSB_EBADREQUEST, "collation \"%.64s\" is not allowed", co->valuestring);
	}
	i = my_charset_index(cs->valuestring);
	if (!co) {
		j = 1;
		goto found;
	}
	for (j = 1; my_charsets[i][j]; j++)
		if (strcmp(co->valuestring, my_charsets[i][j]) == 0)
			goto found;
	return osb_errbuf_set(err, OSB_EBADREQUEST, "collation \"%.64s\" does not belong to character set %s",
			      co->valuestring, my_charsets[i][0]);
found:
	*charset = my_charsets[i][0];
	*collation = my_charsets[i][j];
	return 0;
}

/* MAX_USER_CONNECTIONS of the plan's bindings; 0 means no limit. */
static int my_max_user_connections(const osb_request *req)
{
	long long limit = osb_request_plan_int(req, "max_user_connections", 0);

	if (limit < 0 || limit > 1000000)
		return 0;
	return (int)limit;
}

/* mysql_native_password's hash, "*" + HEX(SHA1(SHA1(password))), so the password itself never reaches the server. */
static int my_password_hash(char out[MY_HASH_SIZE], const char *password)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char one[EVP_MAX_MD_SIZE], two[EVP_MAX_MD_SIZE];
	unsigned int n1 = 0, n2 = 0, i;
	int rc = OSB_ERROR;

	if (!EVP_Digest(password, strlen(password), one, &n1, EVP_sha1(), NULL) || n1 != 20)
		goto done;
	if (!EVP_Digest(one, n1, two, &n2, EVP_sha1(), NULL) || n2 != 20)
		goto done;
	out[0] = '*';
	for (i = 0; i < 20; i++) {
		out[1 + 2 * i] = hex[two[i] >> 4];
		out[2 + 2 * i] = hex[two[i] & 15];
	}
	out[41] = '\0';
	rc = 0;
done:
	explicit_bzero(one, sizeof(one));
	explicit_bzero(two, sizeof(two));
	return rc;
}

/* -- targets -------------------------------------------------------------- */

static void my_shared_target(const struct my_state *st, struct my_target *t)
{
	t->host = st->host;
	t->port = st->port;
	t->user = st->admin_user;
	t->password = st->admin_password;
	t->public_host = st->public_host;
	t->public_port = st->public_port;
}

/* Whether the request's instance has a server of its own: its saved state says, else (provision) its plan. */
static int my_is_dedicated(const osb_request *req)
{
	const cJSON *saved = osb_request_instance_state(req), *item = NULL;

	if (saved)
		item = cJSON_GetObjectItemCaseSensitive(saved, "dedicated");
	if (!item)
		item = cJSON_GetObjectItemCaseSensitive(osb_request_plan_settings(req), "dedicated");
	return cJSON_IsTrue(item);
}

/* Read a dedicated server's root password from its directory. */
static int my_read_root_password(char out[OSB_SECRET_DEFAULT_LEN + 1], const char *dir)
{
	char path[640], buf[OSB_SECRET_DEFAULT_LEN + 2];
	ssize_t n;
	int fd, rc = OSB_ERROR;

	out[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, MY_ROOT_PW_FILE) >= sizeof(path))
		return OSB_ERROR;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return OSB_ERROR;
	n = read(fd, buf, sizeof(buf));
	if (n == OSB_SECRET_DEFAULT_LEN) {
		memcpy(out, buf, OSB_SECRET_DEFAULT_LEN);
		out[OSB_SECRET_DEFAULT_LEN] = '\0';
		rc = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int my_dedicated_ready(int port, const char *dir, void *payload);
static int my_dedicated_prepare(const char *dir, int port, void *payload);

/* How the deployer runs an instance's mariadbd; the strings live in `bind`. */
static void my_dedicated_spec(const struct my_state *st, osb_process_spec *spec, const char *argv[16],
			      char bind[80], int timeout_ms)
{
	size_t n = 0;

	snprintf(bind, 80, "--bind-address=%s", st->dedicated_host);
	argv[n++] = st->mariadbd;
	argv[n++] = "--no-defaults";
	argv[n++] = "--datadir={dir}/data";
	if (geteuid() == 0)
		argv[n++] = "--user=root";
	argv[n++] = bind;
	argv[n++] = "--port={port}";
	argv[n++] = "--socket={dir}/mysqld.sock";
	argv[n++] = "--pid-file={dir}/mysqld.pid";
	argv[n++] = "--log-error={dir}/error.log";
	argv[n++] = "--skip-name-resolve";
	argv[n++] = "--innodb-buffer-pool-size=32M";
	argv[n] = NULL;
	memset(spec, 0, sizeof(*spec));
	spec->kind = "mariadb";
	spec->argv = argv;
	spec->prepare = my_dedicated_prepare;
	spec->ready = my_dedicated_ready;
	spec->payload = (void *)st;
	spec->stop_signal = 0;
	spec->start_timeout_ms = timeout_ms < MY_DEDICATED_START_MS ? timeout_ms : MY_DEDICATED_START_MS;
}

/*
 * The instance's own server: started (again) when `start`, else only when the
 * deployer has it on record already.
 * @return 0, OSB_ENOTFOUND (no server on record and !start) or an error.
 */
static int my_dedicated_target(osb_request *req, const struct my_state *st, struct my_target *t, int start,
			       osb_errbuf *err)
{
	osb_process_spec spec;
	osb_deployment dep;
	const char *argv[16];
	char bind[80];
	int rc;

	if (!st->deployer)
		/* Not OSB_EBACKEND: retrying cannot help, so an asynchronous provision fails at once. */
		return osb_errbuf_set(err, OSB_EUNSUPPORTED, "this broker has no \"dedicated\" section (port_range) in its config,"
				      " so it cannot run dedicated plans");
	if (!start) {
		rc = osb_deployer_lookup(st->deployer, osb_request_instance_id(req), &dep);
		if (rc == OSB_ENOTFOUND)
			return rc;
		if (rc < 0)
			return osb_errbuf_set(err, rc, "cannot look up the instance's dedicated server");
	}
	my_dedicated_spec(st, &spec, argv, bind, osb_request_timeout_ms(req));
	osb_request_set_progress(req, "starting a dedicated MariaDB server");
	rc = osb_deployer_ensure(st->deployer, osb_request_instance_id(req), &spec, &dep);
	if (rc < 0)
		return osb_errbuf_set(err, rc, "the instance's dedicated MariaDB server did not start (the broker's log says why)");
	if (my_read_root_password(t->secret, dep.dir) < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "the dedicated server's admin password is missing from its directory");
	t->host = st->dedicated_host;
	t->port = dep.port;
	t->user = "root";
	t->password = t->secret;
	t->public_host = st->dedicated_host;
	t->public_port = dep.port;
	t->dedicated = 1;
	return 0;
}

/* Where the request's instance lives; a dedicated server is started when it is not running. */
static int my_target_for(osb_request *req, const struct my_state *st, struct my_target *t, osb_errbuf *err)
{
	if (my_is_dedicated(req))
		return my_dedicated_target(req, st, t, osb_request_operation(req) == OSB_OP_PROVISION, err);
	my_shared_target(st, t);
	return 0;
}

static void my_target_free(struct my_target *t)
{
	explicit_bzero(t->secret, sizeof(t->secret));
}

/* -- dedicated servers ---------------------------------------------------- */

/* Write `len` bytes to a new file of mode 0600 in `dir`, replacing an older one. */
static int my_write_private(const char *dir, const char *name, const char *data, size_t len)
{
	char path[640];
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return OSB_ERROR;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return OSB_ERROR;
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = OSB_ERROR;
		else {
			data += n;
			len -= (size_t)n;
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = OSB_ERROR;
	if (close(fd) != 0)
		rc = OSB_ERROR;
	return rc;
}

/* Run a program of the server's own tools; its output goes to {dir}/{log}, never to the broker's log. */
static int my_run_tool(const char *dir, const char *log, const char *const *argv, int timeout_ms)
{
	osb_exec_options opt = { 0 };
	osb_exec_result res = { 0 };
	int rc;

	opt.argv = argv;
	opt.cwd = dir;
	opt.timeout_ms = timeout_ms;
	rc = osb_exec(&res, &opt);
	if (res.out && res.err) {
		char *text = malloc(res.out_len + res.err_len + 1);

		if (text) {
			memcpy(text, res.out, res.out_len);
			memcpy(text + res.out_len, res.err, res.err_len);
			my_write_private(dir, log, text, res.out_len + res.err_len);
			free(text);
		}
	}
	if (rc > 0)
		osb_log(OSB_LOG_ERROR, "mysql.tool_failed", "%s exited with status %d; its output is in %s/%s",
			argv[0], rc, dir, log);
	else if (rc < 0)
		osb_log(OSB_LOG_ERROR, "mysql.tool_failed", "%s failed: %s%s%s", argv[0], osb_strerror(rc),
			res.start_errno ? ": " : "", res.start_errno ? strerror(res.start_errno) : "");
	osb_exec_result_free(&res);
	return rc > 0 ? OSB_EBACKEND : rc;
}

/* The pid holding a write lock on {data}/{file} (InnoDB and Aria lock theirs), or 0. */
static pid_t my_lock_holder(const char *data, const char *file)
{
	struct flock lk = { 0 };
	char path[640];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", data, file) >= sizeof(path))
		return 0;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &lk) != 0 || lk.l_type == F_UNLCK)
		lk.l_pid = 0;
	close(fd);
	return lk.l_pid;
}

/*
 * A broker killed during mariadb-install-db leaves its bootstrap mariadbd
 * running on the data directory for a moment. Wait for it to end (or end it:
 * it holds this instance's own files) before the directory is made anew.
 */
static void my_release_datadir(const char *data)
{
	static const char *const files[] = { "ibdata1", "aria_log_control" };
	size_t i;
	int tries;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		pid_t pid = my_lock_holder(data, files[i]);

		for (tries = 0; pid > 0 && tries < 150; tries++) {
			if (tries == 100) {
				osb_log(OSB_LOG_WARN, "mysql.prepare", "process %d still holds %s/%s: ending it",
					(int)pid, data, files[i]);
				kill(pid, SIGKILL);
			}
			usleep(100 * 1000);
			pid = my_lock_holder(data, files[i]);
		}
	}
}

/*
 * Initialise an instance's data directory: a fresh system database whose root
 * (on localhost and 127.0.0.1 only, no anonymous users) has a generated
 * password. The password goes to {dir}/root.pw (0600); mariadb-install-db gets
 * only its hash. Idempotent: a partial directory of an interrupted attempt is
 * removed first.
 */
static int my_dedicated_prepare(const char *dir, int port, void *payload)
{
	const struct my_state *st = payload;
	char data[600], datadir[620], extra[620], initsql[640], sql[1024];
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", hash[MY_HASH_SIZE] = "";
	const char *rm[] = { "rm", "-rf", "--", data, NULL };
	const char *install[10];
	size_t n = 0;
	int len, rc;

	(void)port;
	if ((size_t)snprintf(data, sizeof(data), "%s/data", dir) >= sizeof(data) ||
	    (size_t)snprintf(datadir, sizeof(datadir), "--datadir=%s", data) >= sizeof(datadir) ||
	    (size_t)snprintf(initsql, sizeof(initsql), "%s/init.sql", dir) >= sizeof(initsql) ||
	    (size_t)snprintf(extra, sizeof(extra), "--extra-file=%s", initsql) >= sizeof(extra)) {
		osb_log(OSB_LOG_ERROR, "mysql.prepare", "the instance directory's path is too long");
		return OSB_ERROR;
	}
	my_release_datadir(data);
	if ((rc = my_run_tool(dir, "rm.log", rm, 30000)) < 0)
		goto done;
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    my_password_hash(hash, password) < 0) {
		rc = OSB_ERROR;
		goto done;
	}
	if ((rc = my_write_private(dir, MY_ROOT_PW_FILE, password, strlen(password))) < 0) {
		osb_log(OSB_LOG_ERROR, "mysql.prepare", "cannot write %s/%s: %s", dir, MY_ROOT_PW_FILE, strerror(errno));
		goto done;
	}
	/* Run by mariadb-install-db in bootstrap mode, where the grant tables must be loaded first. */
	len = snprintf(sql, sizeof(sql),
		       "FLUSH PRIVILEGES;\n"
		       "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));\n"
		       "FLUSH PRIVILEGES;\n"
		       "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n"
		       "ALTER USER 'root'@'localhost', 'root'@'127.0.0.1' IDENTIFIED BY PASSWORD '%s';\n"
		       "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n", hash);
	if (len < 0 || (size_t)len >= sizeof(sql) || (rc = my_write_private(dir, "init.sql", sql, (size_t)len)) < 0) {
		rc = OSB_ERROR;
		goto done;
	}
	install[n++] = st->install_db;
	install[n++] = "--no-defaults";
	install[n++] = datadir;
	if (geteuid() == 0)
		install[n++] = "--user=root";
	install[n++] = "--auth-root-authentication-method=normal";
	install[n++] = "--skip-test-db";
	install[n++] = "--skip-name-resolve";
	install[n++] = extra;
	install[n] = NULL;
	rc = my_run_tool(dir, "install-db.log", install, MY_INSTALL_DB_TIMEOUT_MS);
done:
	unlink(initsql);
	explicit_bzero(sql, sizeof(sql));
	explicit_bzero(password, sizeof(password));
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* Whether the instance's server takes its root's login and a statement. */
static int my_dedicated_ready(int port, const char *dir, void *payload)
{
	const struct my_state *st = payload;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	int rc;

	if (my_read_root_password(t.secret, dir) < 0)
		return OSB_ERROR;
	t.host = st->dedicated_host;
	t.port = port;
	t.user = "root";
	t.password = t.secret;
	if ((rc = my_open(&s, &t, MY_HEALTH_TIMEOUT_MS, &err)) == 0)
		rc = my_run(&s, "SELECT 1");
	my_close(&s);
	my_target_free(&t);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

static int my_save_instance(osb_request *req, const struct my_target *t, const char *db, osb_errbuf *err)
{
	cJSON *saved = cJSON_CreateObject();
	int rc;

	/* No secret here: a dedicated server's password stays in its directory. */
	if (!saved || !cJSON_AddStringToObject(saved, "database", db) ||
	    !cJSON_AddBoolToObject(saved, "dedicated", t->dedicated) ||
	    (t->dedicated && !cJSON_AddNumberToObject(saved, "port", t->port))) {
		cJSON_Delete(saved);
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_instance_state(req, saved)) < 0)
		return osb_errbuf_set(err, rc, "cannot save instance state");
	return 0;
}

static int mysql_provision(osb_request *req, void *state)
{
	const struct my_state *st = state;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	const char *charset, *collation;
	char db[OSB_NAME_SIZE];
	int rc;

	osb_name_instance(db, osb_request_instance_id(req));
	if ((rc = my_check_parameters(osb_request_parameters(req), &charset, &collation, &err)) < 0)
		goto done;
	if (!charset) {
		charset = my_charsets[0][0];
		collation = my_charsets[0][1];
	}
	if ((rc = my_target_for(req, st, &t, &err)) < 0)
		goto done;
	if ((rc = my_open(&s, &t, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = my_run(&s, "CREATE DATABASE IF NOT EXISTS %I CHARACTER SET %s COLLATE %s", db, charset, collation)) < 0)
		goto done;
	/* A retry may find the database an earlier attempt made: give it this request's settings. */
	if ((rc = my_run(&s, "ALTER DATABASE %I CHARACTER SET %s COLLATE %s", db, charset, collation)) < 0)
		goto done;
	if ((rc = my_save_instance(req, &t, db, &err)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "mysql.provisioned", "database %s ready on %s:%d (%s, %s)", db,
		t.dedicated ? "its own server" : "the shared server", t.port, charset, collation);
done:
	my_close(&s);
	my_target_free(&t);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int mysql_update(osb_request *req, void *state)
{
	const struct my_state *st = state;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	const char *charset, *collation;
	char db[OSB_NAME_SIZE];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc, found, limit = my_max_user_connections(req), users = 0;

	osb_name_instance(db, osb_request_instance_id(req));
	if ((rc = my_check_parameters(osb_request_parameters(req), &charset, &collation, &err)) < 0)
		goto done;
	if (my_is_dedicated(req) !=
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_plan_settings(req), "dedicated"))) {
		rc = osb_errbuf_set(&err, OSB_EUNSUPPORTED,
				    "an instance cannot move between a shared server and a dedicated one: create a new instance");
		goto done;
	}
	if ((rc = my_target_for(req, st, &t, &err)) < 0)
		goto done;
	if ((rc = my_open(&s, &t, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = my_database_exists(&s, &found, db)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "database %s is missing on the server", db);
		goto done;
	}
	/* Existing tables keep theirs: this is the default for new tables. */
	if (charset && (rc = my_run(&s, "ALTER DATABASE %I CHARACTER SET %s COLLATE %s", db, charset, collation)) < 0)
		goto done;
	/* The server is the list of bindings, so a repeat after a crash finds the same ones. */
	if ((rc = my_instance_users(&s, &res, db)) < 0)
		goto done;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !osb_name_is_derived(row[0]))
			continue;
		if ((rc = my_run(&s, "ALTER USER IF EXISTS %L@'%%' WITH MAX_USER_CONNECTIONS %d", row[0], limit)) < 0)
			goto done;
		users++;
	}
	osb_log(OSB_LOG_INFO, "mysql.updated", "database %s updated (max_user_connections %d for %d bindings)",
		db, limit, users);
done:
	if (res)
		mysql_free_result(res);
	my_close(&s);
	my_target_free(&t);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int mysql_deprovision(osb_request *req, void *state)
{
	const struct my_state *st = state;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	char db[OSB_NAME_SIZE];
	int rc = 0;

	osb_name_instance(db, osb_request_instance_id(req));
	if (my_is_dedicated(req)) {
		if (!st->deployer && osb_request_instance_state(req))
			rc = osb_errbuf_set(&err, OSB_EBACKEND, "the instance has a dedicated server, but the broker's config"
					    " has no \"dedicated\" section to reach it");
		else if (st->deployer && osb_deployer_remove(st->deployer, osb_request_instance_id(req)) != 0)
			rc = osb_errbuf_set(&err, OSB_EBACKEND, "cannot stop and delete the instance's dedicated server"
					    " (the broker's log says why)");
		else
			/* Without a deployer and saved state nothing was started: a failed provision's rollback. */
			osb_log(OSB_LOG_INFO, "mysql.deprovisioned", "dedicated server of %s stopped and deleted", db);
		goto done;
	}
	if ((rc = my_target_for(req, st, &t, &err)) < 0)
		goto done;
	if ((rc = my_open(&s, &t, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = my_drop_instance(&s, db)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "mysql.deprovisioned", "database %s and its users dropped", db);
done:
	my_close(&s);
	my_target_free(&t);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- bindings ------------------------------------------------------------- */

static int my_set_credentials(osb_request *req, const struct my_target *t, const char *db,
			      const char *user, const char *password, osb_errbuf *err)
{
	const char *host = t->public_host;
	const char *url_host = osb_uri_host(req, host);
	char *euser = osb_uri_escape(req, user), *epass = osb_uri_escape(req, password);
	char *uri = NULL, *jdbc = NULL, *port = osb_req_sprintf(req, "%d", t->public_port);
	cJSON *cred = NULL;
	int rc;

	if (url_host && euser && epass) {
		uri = osb_req_sprintf(req, "mysql://%s:%s@%s:%d/%s", euser, epass, url_host, t->public_port, db);
		jdbc = osb_req_sprintf(req, "jdbc:mysql://%s:%d/%s?user=%s&password=%s",
				       url_host, t->public_port, db, euser, epass);
	}
	cred = cJSON_CreateObject();
	if (!uri || !jdbc || !port || !cred ||
	    !cJSON_AddStringToObject(cred, "hostname", host) ||
	    !cJSON_AddStringToObject(cred, "host", host) ||
	    !cJSON_AddNumberToObject(cred, "port", t->public_port) ||
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
	if ((rc = osb_request_add_endpoint(req, host, port, "tcp")) < 0)
		return osb_errbuf_set(err, rc, "cannot store endpoint");
	return 0;
}

static int mysql_bind(osb_request *req, void *state)
{
	const struct my_state *st = state;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	char db[OSB_NAME_SIZE], user[OSB_NAME_SIZE], pattern[2 * OSB_NAME_SIZE];
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", hash[MY_HASH_SIZE] = "";
	int rc, found, limit = my_max_user_connections(req);
	cJSON *saved = NULL;

	osb_name_instance(db, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	my_grant_pattern(pattern, db);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    my_password_hash(hash, password) < 0) {
		rc = osb_errbuf_set(&err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	rc = my_target_for(req, st, &t, &err);
	if (rc == OSB_ENOTFOUND)
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "the instance's dedicated server is missing");
	if (rc < 0)
		goto done;
	if ((rc = my_open(&s, &t, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = my_database_exists(&s, &found, db)) < 0)
		goto done;
	if (!found) {
		rc = osb_errbuf_set(&err, OSB_EBACKEND, "database %s of the instance is missing on the server", db);
		goto done;
	}
	/* IDENTIFIED WITH … AS: the same on MariaDB and MySQL 5.7/8.0. */
	if ((rc = my_run(&s, "CREATE USER IF NOT EXISTS %L@'%%' IDENTIFIED WITH mysql_native_password AS %L"
			 " WITH MAX_USER_CONNECTIONS %d", user, hash, limit)) < 0)
		goto done;
	/* A retry finds the user an earlier attempt made: give it this attempt's password. */
	if ((rc = my_run(&s, "ALTER USER %L@'%%' IDENTIFIED WITH mysql_native_password AS %L"
			 " WITH MAX_USER_CONNECTIONS %d", user, hash, limit)) < 0)
		goto done;
	if ((rc = my_run(&s, "GRANT ALL PRIVILEGES ON %I.* TO %L@'%%'", pattern, user)) < 0)
		goto done;

	if ((rc = my_set_credentials(req, &t, db, user, password, &err)) < 0)
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
	osb_log(OSB_LOG_INFO, "mysql.bound", "user %s can use %s (max_user_connections %d)", user, db, limit);
done:
	explicit_bzero(password, sizeof(password));
	explicit_bzero(hash, sizeof(hash));
	my_close(&s);
	my_target_free(&t);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int mysql_unbind(osb_request *req, void *state)
{
	const struct my_state *st = state;
	struct my_target t = { 0 };
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	char user[OSB_NAME_SIZE];
	int rc;

	osb_name_binding(user, osb_request_binding_id(req));
	rc = my_target_for(req, st, &t, &err);
	if (rc == OSB_ENOTFOUND) {
		/* The instance's server is gone, and the user with it. */
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	if ((rc = my_open(&s, &t, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = my_drop_user(&s, user)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "mysql.unbound", "user %s dropped and its sessions ended", user);
done:
	my_close(&s);
	my_target_free(&t);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- health and reconciliation -------------------------------------------- */

static int mysql_health(void *state, char *msg, size_t msg_size)
{
	const struct my_state *st = state;
	struct my_target t;
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	int rc;

	my_shared_target(st, &t);
	if ((rc = my_open(&s, &t, MY_HEALTH_TIMEOUT_MS, &err)) < 0)
		goto done;
	rc = my_run(&s, "SELECT 1");
done:
	my_close(&s);
	if (rc < 0) {
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s", err.msg);
		return OSB_EBACKEND;
	}
	return 0;
}

static int mysql_list(void *state, osb_tenant_cb cb, void *payload)
{
	const struct my_state *st = state;
	struct my_target t;
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc, stop = 0;

	my_shared_target(st, &t);
	if ((rc = my_open(&s, &t, MY_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	rc = my_select(&s, &res, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
			  " WHERE SCHEMA_NAME REGEXP '" MY_NAME_REGEX "' ORDER BY 1");
	if (rc < 0)
		goto done;
	while (!stop && (row = mysql_fetch_row(res)) != NULL)
		if (row[0] && osb_name_is_derived(row[0]))
			stop = cb(OSB_TENANT_INSTANCE, row[0], payload);
	mysql_free_result(res);
	res = NULL;
	if (stop)
		goto done;
	rc = my_select(&s, &res, "SELECT DISTINCT User FROM mysql.user WHERE Host = '%%'"
			  " AND User REGEXP '" MY_NAME_REGEX "' ORDER BY 1");
	if (rc < 0)
		goto done;
	while (!stop && (row = mysql_fetch_row(res)) != NULL)
		if (row[0] && osb_name_is_derived(row[0]))
			stop = cb(OSB_TENANT_BINDING, row[0], payload);
done:
	if (res)
		mysql_free_result(res);
	my_close(&s);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "mysql.list_failed", "%s", err.msg);
	return rc;
}

static int mysql_purge(void *state, osb_tenant_kind kind, const char *name)
{
	const struct my_state *st = state;
	struct my_target t;
	struct my_session s = { 0 };
	osb_errbuf err = { 0 };
	int rc;

	if (!osb_name_is_derived(name)) {
		rc = osb_errbuf_set(&err, OSB_EBADREQUEST, "refusing to purge \"%.64s\": not a broker-made name",
				    name ? name : "");
		goto done;
	}
	my_shared_target(st, &t);
	if ((rc = my_open(&s, &t, MY_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	if (kind == OSB_TENANT_INSTANCE)
		rc = my_drop_instance(&s, name);
	else
		rc = my_drop_user(&s, name);
done:
	my_close(&s);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "mysql.purge_failed", "%s", err.msg);
	else
		osb_log(OSB_LOG_INFO, "mysql.purged", "%s %s removed",
			kind == OSB_TENANT_INSTANCE ? "instance" : "binding", name);
	return rc;
}

/* -- configuration -------------------------------------------------------- */

static void my_state_free(struct my_state *st)
{
	if (!st)
		return;
	osb_driver_config_free_secret(st->admin_password);
	free(st->host);
	free(st->admin_user);
	free(st->public_host);
	free(st->mariadbd);
	free(st->install_db);
	free(st->dedicated_host);
	free(st);
}

/* Not mysql_init/mysql_shutdown: those are the client library's. */
static int mysql_driver_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char *const known[] = {
		"host", "port", "admin_user", "admin_password", "public_host", "public_port",
		"mariadbd", "install_db", "dedicated_host", NULL,
	};
	static const char *const me = "mysql";
	struct my_state *st = NULL;
	int rc = 0;

	*state = NULL;
	if ((rc = osb_driver_config_check_keys(config, me, known)) < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return OSB_ENOMEM;
	/* dedicated_host becomes a server argument: the helper accepts an IP address literal only. */
	if ((rc = osb_driver_config_string(&st->host, config, me, "host", "127.0.0.1")) < 0 ||
	    (rc = osb_driver_config_port(&st->port, config, me, "port", 3306)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_user, config, me, "admin_user", "root")) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_password, config, me, "admin_password", NULL)) < 0 ||
	    (rc = osb_driver_config_string(&st->public_host, config, me, "public_host", st->host)) < 0 ||
	    (rc = osb_driver_config_port(&st->public_port, config, me, "public_port", st->port)) < 0 ||
	    (rc = osb_driver_config_string(&st->mariadbd, config, me, "mariadbd", "mariadbd")) < 0 ||
	    (rc = osb_driver_config_string(&st->install_db, config, me, "install_db", "mariadb-install-db")) < 0 ||
	    (rc = osb_driver_config_dedicated_host(&st->dedicated_host, config, me, "dedicated_host", broker)) < 0)
		goto done;
	st->deployer = broker ? osb_broker_deployer(broker) : NULL;
	/* Not thread-safe, so once here, before the callbacks' threads use the library. */
	if (mysql_library_init(0, NULL, NULL) != 0) {
		osb_log(OSB_LOG_ERROR, "mysql.init", "cannot initialise the MariaDB client library");
		rc = OSB_ERROR;
		goto done;
	}
	/* No connection here: the broker starts while the server is down and reports unready. */
	osb_log(OSB_LOG_INFO, "mysql.config", "MySQL at %s:%d as %s, credentials name %s:%d; dedicated plans %s",
		st->host, st->port, st->admin_user, st->public_host, st->public_port,
		st->deployer ? "enabled" : "disabled (no \"dedicated\" section)");
	*state = st;
	st = NULL;
done:
	my_state_free(st);
	return rc;
}

static void mysql_driver_shutdown(void *state)
{
	my_state_free(state);
	mysql_library_end();
}

static const struct osb_driver driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "mysql",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION,
	.init = mysql_driver_init,
	.shutdown = mysql_driver_shutdown,
	.provision = mysql_provision,
	.deprovision = mysql_deprovision,
	.update = mysql_update,
	.bind = mysql_bind,
	.unbind = mysql_unbind,
	.health = mysql_health,
	.list = mysql_list,
	.purge = mysql_purge,
};

const struct osb_driver *osb_mysql_driver(void)
{
	return &driver;
}
