/*
 * osb-bench-floor: the PostgreSQL driver's server-side work without the broker. Issues
 * the statement sequence of brokers/postgresql/postgresql_driver.c (same connections,
 * same statements, same SCRAM verifier) for provision, bind, unbind and deprovision
 * with libpq, and reports per-step latency like osb-bench-http lifecycle.
 * Keep in step with the driver when its statements change.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include <osb.h>

#include "bench_util.h"

#define PG_NAME_REGEX "^osb_[0-9a-f]{20}$"

enum { STEP_PROVISION, STEP_BIND, STEP_UNBIND, STEP_DEPROVISION, STEP_COUNT };
static const char *const step_names[STEP_COUNT] = { "provision", "bind", "unbind", "deprovision" };

struct options {
	const char *host;     /* PostgreSQL host */
	const char *port;     /* its port */
	const char *user;     /* admin role */
	const char *password; /* from BENCH_PG_PASSWORD */
	const char *prefix;   /* instance ids start with it */
	const char *samples;  /* append every sample ("STEP MS" lines) to this file, or NULL */
	int count;            /* lifecycles in all */
	int concurrency;      /* threads */
	int limit;            /* CONNECTION LIMIT, as the plan's x-osb.connection_limit */
};

struct worker {
	const struct options *opt;
	int index;
	int todo;
	bench_samples steps[STEP_COUNT];
	int failed;
	char error[512];
	pthread_barrier_t *start;
};

static int fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed++ == 0) {
		va_start(ap, fmt);
		vsnprintf(w->error, sizeof(w->error), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The driver's pg_connect: the same connection keywords, statement_timeout included. */
static PGconn *db_open(struct worker *w, const char *dbname)
{
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
			       NULL };
	const char *values[] = { w->opt->host,
				 w->opt->port,
				 w->opt->user,
				 w->opt->password,
				 dbname,
				 "disable",
				 "62",
				 "-c statement_timeout=53900",
				 "osb-bench-floor",
				 "UTF8",
				 NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 0);

	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		fail(w, "connect to %s: %s", dbname, conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int db_check(struct worker *w, PGresult *res, const char *what)
{
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fail(w, "%s: %s", what, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Run a statement built like the driver's pg_run: %I identifier, %L literal, %d int. */
static int db_run(struct worker *w, PGconn *c, const char *fmt, ...)
{
	char sql[2048];
	size_t len = 0;
	const char *p;
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	for (p = fmt; *p && len + 1 < sizeof(sql) && rc == 0; p++) {
		char *q = NULL;
		const char *piece;
		char num[24];

		if (*p != '%') {
			sql[len++] = *p;
			continue;
		}
		p++;
		if (*p == 'I' || *p == 'L') {
			const char *arg = va_arg(ap, const char *);

			q = *p == 'I' ? PQescapeIdentifier(c, arg, strlen(arg)) : PQescapeLiteral(c, arg, strlen(arg));
			if (!q) {
				rc = fail(w, "quoting: %s", PQerrorMessage(c));
				break;
			}
			piece = q;
		} else {
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			piece = num;
		}
		if (len + strlen(piece) + 1 >= sizeof(sql))
			rc = fail(w, "statement too long");
		else
			len += (size_t)sprintf(sql + len, "%s", piece);
		PQfreemem(q);
	}
	va_end(ap);
	if (rc < 0)
		return rc;
	sql[len] = '\0';
	return db_check(w, PQexec(c, sql), sql);
}

static int db_exists(struct worker *w, PGconn *c, int *found, const char *sql, const char *value)
{
	PGresult *res = PQexecParams(c, sql, 1, NULL, &value, NULL, NULL, 0);

	*found = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_check(w, res, sql);
	PQclear(res);
	return 0;
}

static int role_exists(struct worker *w, PGconn *c, int *found, const char *role)
{
	return db_exists(w, c, found, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role);
}

static int database_exists(struct worker *w, PGconn *c, int *found, const char *db)
{
	return db_exists(w, c, found, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", db);
}

static int terminate(struct worker *w, PGconn *c, const char *column, const char *value)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
		 " WHERE %s = $1 AND pid <> pg_catalog.pg_backend_pid()",
		 column);
	return db_check(w, PQexecParams(c, sql, 1, NULL, &value, NULL, NULL, 0), sql);
}

static int provision(struct worker *w, const char *name)
{
	PGconn *c = db_open(w, "postgres");
	int found, rc = -1;

	if (!c)
		return -1;
	if (role_exists(w, c, &found, name) < 0 ||
	    (!found &&
	     db_run(w, c, "CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION", name) < 0) ||
	    database_exists(w, c, &found, name) < 0 ||
	    (!found && db_run(w, c, "CREATE DATABASE %I OWNER %I", name, name) < 0) ||
	    db_run(w, c, "ALTER DATABASE %I OWNER TO %I", name, name) < 0 ||
	    db_run(w, c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name) < 0 ||
	    db_run(w, c, "ALTER DATABASE %I CONNECTION LIMIT %d", name, w->opt->limit) < 0)
		goto done;
	PQfinish(c);
	if (!(c = db_open(w, name)))
		goto done;
	if (db_run(w, c, "REVOKE ALL ON SCHEMA public FROM PUBLIC") < 0 ||
	    db_run(w, c, "ALTER SCHEMA public OWNER TO %I", name) < 0)
		goto done;
	rc = 0;
done:
	PQfinish(c);
	return rc;
}

static int bind(struct worker *w, const char *owner, const char *user)
{
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	char *verifier = NULL;
	PGconn *c;
	int found, rc = -1;

	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return fail(w, "cannot generate a password");
	if (!(c = db_open(w, "postgres")))
		return -1;
	if (database_exists(w, c, &found, owner) < 0 || !found || role_exists(w, c, &found, owner) < 0 || !found) {
		fail(w, "bind: instance %s missing", owner);
		goto done;
	}
	verifier = PQencryptPasswordConn(c, password, user, "scram-sha-256");
	if (!verifier) {
		fail(w, "password hashing: %s", PQerrorMessage(c));
		goto done;
	}
	if (role_exists(w, c, &found, user) < 0 ||
	    (!found && db_run(w, c,
			      "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
			      " PASSWORD %L VALID UNTIL %L IN ROLE %I",
			      user, verifier, "infinity", owner) < 0) ||
	    db_run(w, c, "ALTER ROLE %I SET role = %L", user, owner) < 0)
		goto done;
	rc = 0;
done:
	if (verifier)
		PQfreemem(verifier);
	PQfinish(c);
	return rc;
}

/* The driver's pg_drop_binding with the owner known (an unbind). */
static int unbind(struct worker *w, const char *owner, const char *user)
{
	PGconn *c = db_open(w, "postgres"), *db = NULL;
	int found, rc = -1;

	if (!c)
		return -1;
	if (role_exists(w, c, &found, user) < 0 || !found || db_run(w, c, "ALTER ROLE %I NOLOGIN", user) < 0 ||
	    terminate(w, c, "usename", user) < 0 || database_exists(w, c, &found, owner) < 0)
		goto done;
	if (found) {
		if (!(db = db_open(w, owner)) || role_exists(w, db, &found, owner) < 0 ||
		    (found && db_run(w, db, "REASSIGN OWNED BY %I TO %I", user, owner) < 0) ||
		    db_run(w, db, "DROP OWNED BY %I", user) < 0)
			goto done;
		PQfinish(db);
		db = NULL;
	}
	if (terminate(w, c, "usename", user) < 0 || db_run(w, c, "DROP ROLE IF EXISTS %I", user) < 0)
		goto done;
	rc = 0;
done:
	PQfinish(db);
	PQfinish(c);
	return rc;
}

/* The driver's pg_drop_instance; the bindings are gone already, as after unbind. */
static int deprovision(struct worker *w, const char *name)
{
	PGconn *c = db_open(w, "postgres");
	PGresult *res;
	int rc = -1;

	if (!c)
		return -1;
	if (terminate(w, c, "datname", name) < 0 || db_run(w, c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name) < 0)
		goto done;
	res = PQexecParams(c,
			   "SELECT m.rolname FROM pg_catalog.pg_auth_members a"
			   " JOIN pg_catalog.pg_roles m ON m.oid = a.member"
			   " JOIN pg_catalog.pg_roles o ON o.oid = a.roleid"
			   " WHERE o.rolname = $1 AND m.rolname ~ '" PG_NAME_REGEX "'",
			   1, NULL, &name, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
		PQclear(res);
		fail(w, "deprovision: %s still has bindings", name);
		goto done;
	}
	if (db_check(w, res, "list binding roles") < 0 || db_run(w, c, "DROP ROLE IF EXISTS %I", name) < 0)
		goto done;
	rc = 0;
done:
	PQfinish(c);
	return rc;
}

static double since_us(long long t0)
{
	return (double)(bench_now_ns() - t0) / 1000.0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char id[128], owner[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	long long t0;
	int k;

	pthread_barrier_wait(w->start);
	for (k = 0; k < w->todo && !w->failed; k++) {
		snprintf(id, sizeof(id), "%s-i-%d-%d", w->opt->prefix, w->index, k);
		osb_name_instance(owner, id);
		snprintf(id, sizeof(id), "%s-b-%d-%d", w->opt->prefix, w->index, k);
		osb_name_binding(user, id);

		t0 = bench_now_ns();
		if (provision(w, owner) < 0)
			break;
		bench_samples_add(&w->steps[STEP_PROVISION], since_us(t0));
		t0 = bench_now_ns();
		if (bind(w, owner, user) < 0)
			break;
		bench_samples_add(&w->steps[STEP_BIND], since_us(t0));
		t0 = bench_now_ns();
		if (unbind(w, owner, user) < 0)
			break;
		bench_samples_add(&w->steps[STEP_UNBIND], since_us(t0));
		t0 = bench_now_ns();
		if (deprovision(w, owner) < 0)
			break;
		bench_samples_add(&w->steps[STEP_DEPROVISION], since_us(t0));
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: osb-bench-floor --port PORT [--host H] [--user postgres] --count N --concurrency C\n"
			"                       [--prefix P] [--limit CONNECTION_LIMIT] [--samples FILE]\n"
			"The admin password comes from BENCH_PG_PASSWORD. Output as osb-bench-http lifecycle.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options opt = {
		.host = "127.0.0.1", .user = "postgres", .prefix = "floor", .count = 100, .concurrency = 1, .limit = 10
	};
	struct worker *w;
	pthread_t *threads;
	pthread_barrier_t start;
	long long t0, t1;
	int i, s, done = 0, failed = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--host") == 0)
			opt.host = v;
		else if (strcmp(k, "--port") == 0)
			opt.port = v;
		else if (strcmp(k, "--user") == 0)
			opt.user = v;
		else if (strcmp(k, "--prefix") == 0)
			opt.prefix = v;
		else if (strcmp(k, "--samples") == 0)
			opt.samples = v;
		else if (strcmp(k, "--count") == 0)
			opt.count = bench_int_arg(k, v, 1, 100000000);
		else if (strcmp(k, "--concurrency") == 0)
			opt.concurrency = bench_int_arg(k, v, 1, 1024);
		else if (strcmp(k, "--limit") == 0)
			opt.limit = bench_int_arg(k, v, -1, 1000000);
		else
			usage();
	}
	if (i != argc || !opt.port)
		usage();
	opt.password = getenv("BENCH_PG_PASSWORD");
	if (!opt.password) {
		fprintf(stderr, "osb-bench-floor: set BENCH_PG_PASSWORD\n");
		return 2;
	}
	w = calloc((size_t)opt.concurrency, sizeof(*w));
	threads = calloc((size_t)opt.concurrency, sizeof(*threads));
	if (!w || !threads)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)opt.concurrency + 1);
	for (i = 0; i < opt.concurrency; i++) {
		w[i].opt = &opt;
		w[i].index = i;
		w[i].todo = opt.count / opt.concurrency + (i < opt.count % opt.concurrency);
		w[i].start = &start;
		if (pthread_create(&threads[i], NULL, work, &w[i]) != 0) {
			fprintf(stderr, "osb-bench-floor: cannot start thread %d\n", i);
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	t0 = bench_now_ns();
	for (i = 0; i < opt.concurrency; i++)
		pthread_join(threads[i], NULL);
	t1 = bench_now_ns();

	for (s = 0; s < STEP_COUNT; s++) {
		bench_samples all = { 0 };

		for (i = 0; i < opt.concurrency; i++)
			bench_samples_merge(&all, &w[i].steps[s]);
		if (opt.samples && bench_samples_write(opt.samples, step_names[s], &all) < 0) {
			fprintf(stderr, "osb-bench-floor: cannot write %s\n", opt.samples);
			failed++;
		}
		bench_samples_sort(&all);
		if (s == 0)
			done = (int)all.n;
		printf("%s %zu %.3f %.3f %.3f\n", step_names[s], all.n, bench_mean(&all) / 1000.0,
		       bench_percentile(&all, 50) / 1000.0, bench_percentile(&all, 99) / 1000.0);
		bench_samples_free(&all);
	}
	printf("total %.3f %.1f\n", (double)(t1 - t0) / 1e9, (double)done / ((double)(t1 - t0) / 1e9));
	printf("hwm_kb %ld\n", bench_self_hwm_kb());
	for (i = 0; i < opt.concurrency; i++) {
		if (w[i].failed && !failed)
			fprintf(stderr, "osb-bench-floor: %s\n", w[i].error);
		failed += w[i].failed;
		for (s = 0; s < STEP_COUNT; s++)
			bench_samples_free(&w[i].steps[s]);
	}
	pthread_barrier_destroy(&start);
	free(w);
	free(threads);
	return failed ? 1 : 0;
}
