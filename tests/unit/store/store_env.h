/* The store tests' environment: one fresh database per case, SQLite or (with OSB_TEST_PG_URL) PostgreSQL. */
#ifndef OSB_TEST_STORE_ENV_H
#define OSB_TEST_STORE_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store.h"
#include "unit.h"

static osb_store_type backend = OSB_STORE_SQLITE;
static int case_no;

typedef struct {
	osb_store_type type;
	char dir[64];
	char path[128];
	char schema[64];
	char *url;
	osb_store_options opt;
} env;

static inline const char *pg_url(void)
{
	const char *u = getenv("OSB_TEST_PG_URL");
	return u && *u ? u : NULL;
}

static inline void test_key(unsigned char key[32], unsigned char seed)
{
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)(seed + i * 7);
}

static inline void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static inline int pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(pg_url());
	PGresult *r;
	int rc = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, quiet, NULL);
		r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		if (rc)
			fprintf(stderr, "pg admin: %s", PQerrorMessage(c));
		PQclear(r);
	} else {
		fprintf(stderr, "pg admin: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return rc;
}

/* First column of the first row of a query, as a number; -1 on error. */
static inline long pg_admin_value(const char *sql)
{
	PGconn *c = PQconnectdb(pg_url());
	PGresult *r = PQexec(c, sql);
	long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

static inline void env_init(env *e, int busy_ms)
{
	memset(e, 0, sizeof(*e));
	e->type = backend;
	e->opt.type = backend;
	e->opt.pool_size = 8;
	e->opt.busy_timeout_ms = busy_ms;
	test_key(e->opt.key, 1);
	case_no++;
	if (backend == OSB_STORE_SQLITE) {
		snprintf(e->dir, sizeof(e->dir), "/tmp/osb-store-XXXXXX");
		CHECK(mkdtemp(e->dir) != NULL);
		snprintf(e->path, sizeof(e->path), "%s/state.db", e->dir);
		e->opt.path = e->path;
		return;
	}
	/* A schema of its own, reached through search_path in the connection URL. */
	const char *base = pg_url();
	char sql[128];
	size_t n;
	unsigned r = 0;
	FILE *f = fopen("/dev/urandom", "rb");

	CHECK(f && fread(&r, sizeof(r), 1, f) == 1);
	if (f)
		fclose(f);
	snprintf(e->schema, sizeof(e->schema), "osb_t_%d_%d_%08x", (int)getpid(), case_no, r);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", e->schema);
	CHECK_INT(pg_admin(sql), 0);
	n = strlen(base) + 2 * strlen(e->schema) + 96;
	e->url = malloc(n);
	/* application_name lets a test find (and kill) this store's server sessions. */
	if (strstr(base, "://"))
		snprintf(e->url, n, "%s%soptions=-csearch_path%%3D%s&application_name=%s", base,
			 strchr(base, '?') ? "&" : "?", e->schema, e->schema);
	else
		snprintf(e->url, n, "%s options=-csearch_path=%s application_name=%s", base, e->schema, e->schema);
	e->opt.url = e->url;
}

static inline osb_store *env_open(env *e)
{
	osb_store *s = NULL;
	int rc = osb_store_open(&s, &e->opt);
	CHECK_INT(rc, 0);
	return rc ? NULL : s;
}

static inline void env_fini(env *e)
{
	if (e->type == OSB_STORE_SQLITE) {
		char p[160];
		snprintf(p, sizeof(p), "%s-wal", e->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", e->path);
		unlink(p);
		unlink(e->path);
		rmdir(e->dir);
		return;
	}
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", e->schema);
	pg_admin(sql);
	free(e->url);
}

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

#endif
