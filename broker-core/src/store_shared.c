/* What the state store's back ends share: the record types as column tables, the SQL text both
 * speak, the connection pool and deadlines. Used by store_sqlite.c and store_pg.c, never by the front. */
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "osb/buf.h"
#include "osb/errors.h"
#include "osb/log.h"

/* ---- Record types as column tables ---- */

#define COL(type, field, kind)                                                                                         \
	{                                                                                                              \
#field, kind, offsetof(type, field)                                                                    \
	}

static const osb_store_col instance_cols[] = {
	COL(osb_instance_rec, id, OSB_COL_TEXT),
	COL(osb_instance_rec, service_id, OSB_COL_TEXT),
	COL(osb_instance_rec, plan_id, OSB_COL_TEXT),
	COL(osb_instance_rec, parameters, OSB_COL_TEXT),
	COL(osb_instance_rec, context, OSB_COL_TEXT),
	COL(osb_instance_rec, maintenance_version, OSB_COL_TEXT),
	COL(osb_instance_rec, dashboard_url, OSB_COL_TEXT),
	COL(osb_instance_rec, driver_state, OSB_COL_TEXT),
	COL(osb_instance_rec, metadata, OSB_COL_TEXT),
	COL(osb_instance_rec, fingerprint, OSB_COL_TEXT),
	COL(osb_instance_rec, state, OSB_COL_INT),
	COL(osb_instance_rec, op_id, OSB_COL_TEXT),
	COL(osb_instance_rec, created_at, OSB_COL_I64),
	COL(osb_instance_rec, updated_at, OSB_COL_I64),
};

static const osb_store_col binding_cols[] = {
	COL(osb_binding_rec, id, OSB_COL_TEXT),
	COL(osb_binding_rec, instance_id, OSB_COL_TEXT),
	COL(osb_binding_rec, service_id, OSB_COL_TEXT),
	COL(osb_binding_rec, plan_id, OSB_COL_TEXT),
	COL(osb_binding_rec, parameters, OSB_COL_TEXT),
	COL(osb_binding_rec, bind_resource, OSB_COL_TEXT),
	COL(osb_binding_rec, context, OSB_COL_TEXT),
	COL(osb_binding_rec, credentials, OSB_COL_TEXT),
	COL(osb_binding_rec, response_extras, OSB_COL_TEXT),
	COL(osb_binding_rec, driver_state, OSB_COL_TEXT),
	COL(osb_binding_rec, fingerprint, OSB_COL_TEXT),
	COL(osb_binding_rec, predecessor_id, OSB_COL_TEXT),
	COL(osb_binding_rec, state, OSB_COL_INT),
	COL(osb_binding_rec, op_id, OSB_COL_TEXT),
	COL(osb_binding_rec, expires_at, OSB_COL_I64),
	COL(osb_binding_rec, renew_before, OSB_COL_I64),
	COL(osb_binding_rec, created_at, OSB_COL_I64),
	COL(osb_binding_rec, updated_at, OSB_COL_I64),
};

static const osb_store_col operation_cols[] = {
	COL(osb_operation_rec, id, OSB_COL_TEXT),
	COL(osb_operation_rec, kind, OSB_COL_INT),
	COL(osb_operation_rec, instance_id, OSB_COL_TEXT),
	COL(osb_operation_rec, binding_id, OSB_COL_TEXT),
	COL(osb_operation_rec, state, OSB_COL_INT),
	COL(osb_operation_rec, async, OSB_COL_INT),
	COL(osb_operation_rec, description, OSB_COL_TEXT),
	COL(osb_operation_rec, request, OSB_COL_TEXT),
	COL(osb_operation_rec, instance_usable, OSB_COL_INT),
	COL(osb_operation_rec, update_repeatable, OSB_COL_INT),
	COL(osb_operation_rec, owner, OSB_COL_TEXT),
	COL(osb_operation_rec, lease_until, OSB_COL_I64),
	COL(osb_operation_rec, deadline_at, OSB_COL_I64),
	COL(osb_operation_rec, created_at, OSB_COL_I64),
	COL(osb_operation_rec, updated_at, OSB_COL_I64),
};

static const osb_store_col usage_cols[] = {
	COL(osb_usage_event, seq, OSB_COL_I64),
	COL(osb_usage_event, kind, OSB_COL_TEXT),
	COL(osb_usage_event, instance_id, OSB_COL_TEXT),
	COL(osb_usage_event, binding_id, OSB_COL_TEXT),
	COL(osb_usage_event, service_id, OSB_COL_TEXT),
	COL(osb_usage_event, plan_id, OSB_COL_TEXT),
	COL(osb_usage_event, plan_name, OSB_COL_TEXT),
	COL(osb_usage_event, previous_plan_id, OSB_COL_TEXT),
	COL(osb_usage_event, previous_plan_name, OSB_COL_TEXT),
	COL(osb_usage_event, context, OSB_COL_TEXT),
	COL(osb_usage_event, originating_identity, OSB_COL_TEXT),
	COL(osb_usage_event, operation_id, OSB_COL_TEXT),
	COL(osb_usage_event, occurred_at, OSB_COL_I64),
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

const osb_store_table osb_store_instances = { "osb_instances", instance_cols, NCOLS(instance_cols),
					      sizeof(osb_instance_rec) };
const osb_store_table osb_store_bindings = { "osb_bindings", binding_cols, NCOLS(binding_cols),
					     sizeof(osb_binding_rec) };
const osb_store_table osb_store_operations = { "osb_operations", operation_cols, NCOLS(operation_cols),
					       sizeof(osb_operation_rec) };
const osb_store_table osb_store_usage_events = { "osb_usage_events", usage_cols, NCOLS(usage_cols),
						 sizeof(osb_usage_event) };

void osb_store_rec_clear(const osb_store_table *t, void *rec)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const osb_store_col *c = &t->cols[i];
		char **s;
		if (c->type != OSB_COL_TEXT)
			continue;
		s = OSB_STORE_FIELD(rec, c);
		/* Wipe every string: cheap, and credentials are among them. */
		osb_crypto_free_secret(*s);
		*s = NULL;
	}
}

/* ---- SQL text ---- */

/* SQL text is built with the core's osb_buf; a failed append makes osb_buf_take() NULL. */

static void sb_placeholder(osb_buf *b, char ph, size_t n)
{
	osb_buf_printf(b, "%c%zu", ph, n);
}

static void sb_columns(osb_buf *b, const osb_store_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		osb_buf_printf(b, "%s%s", i ? ", " : "", t->cols[i].name);
}

char *osb_store_sql_columns(const osb_store_table *t)
{
	osb_buf b = OSB_BUF_INIT;
	sb_columns(&b, t);
	return osb_buf_take(&b);
}

char *osb_store_sql_create(const osb_store_table *t, int pg)
{
	osb_buf b = OSB_BUF_INIT;

	osb_buf_printf(&b, "CREATE TABLE IF NOT EXISTS %s (", t->name);
	for (size_t i = 0; i < t->ncols; i++) {
		const osb_store_col *c = &t->cols[i];
		const char *type = c->type == OSB_COL_TEXT  ? "TEXT"
				   : c->type == OSB_COL_INT ? "INTEGER"
				   : pg                     ? "BIGINT"
							    : "INTEGER";
		osb_buf_printf(&b, "%s%s %s%s", i ? ", " : "", c->name, type,
			       i == 0                    ? " PRIMARY KEY"
			       : c->type == OSB_COL_TEXT ? ""
							 : " NOT NULL");
	}
	osb_buf_printf(&b, ")");
	return osb_buf_take(&b);
}

char *osb_store_sql_select(const osb_store_table *t, char ph, const char *where_col)
{
	osb_buf b = OSB_BUF_INIT;

	osb_buf_printf(&b, "SELECT ");
	sb_columns(&b, t);
	osb_buf_printf(&b, " FROM %s", t->name);
	if (where_col) {
		osb_buf_printf(&b, " WHERE %s = ", where_col);
		sb_placeholder(&b, ph, 1);
		/* Lists come back in creation order, which callers find natural. */
		if (strcmp(where_col, "id") != 0)
			osb_buf_printf(&b, " ORDER BY created_at, id");
	}
	return osb_buf_take(&b);
}

char *osb_store_sql_put(const osb_store_table *t, char ph)
{
	osb_buf b = OSB_BUF_INIT;

	osb_buf_printf(&b, "INSERT INTO %s (", t->name);
	sb_columns(&b, t);
	osb_buf_printf(&b, ") VALUES (");
	for (size_t i = 0; i < t->ncols; i++) {
		osb_buf_printf(&b, "%s", i ? ", " : "");
		sb_placeholder(&b, ph, i + 1);
	}
	osb_buf_printf(&b, ") ON CONFLICT (id) DO UPDATE SET ");
	for (size_t i = 1; i < t->ncols; i++)
		osb_buf_printf(&b, "%s%s = excluded.%s", i > 1 ? ", " : "", t->cols[i].name, t->cols[i].name);
	return osb_buf_take(&b);
}

/* Live records are READY, CREATING or DELETING; failed creations and tombstones are not counted. */
const char osb_store_sql_counts[] = "SELECT (SELECT count(*) FROM osb_instances WHERE state IN (1, 2, 4)),"
				    " (SELECT count(*) FROM osb_bindings WHERE state IN (1, 2, 4)),"
				    " (SELECT count(*) FROM osb_operations WHERE state = 1),"
				    " (SELECT count(*) FROM osb_operations WHERE state = 2),"
				    " (SELECT count(*) FROM osb_operations WHERE state = 3)";

const char osb_store_sql_count_live[] =
	"SELECT count(*) FROM osb_instances WHERE state IN (1, 2, 4) AND ($1::text IS NULL OR plan_id = $1::text)";

const char osb_store_sql_meta[] = "CREATE TABLE IF NOT EXISTS osb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/* What lists, claims and counts filter on, so 100,000 records stay fast. */
const char *const osb_store_sql_indexes[] = {
	"CREATE INDEX IF NOT EXISTS osb_instances_state ON osb_instances (state)",
	"CREATE INDEX IF NOT EXISTS osb_bindings_instance ON osb_bindings (instance_id)",
	"CREATE INDEX IF NOT EXISTS osb_bindings_state ON osb_bindings (state)",
	"CREATE INDEX IF NOT EXISTS osb_operations_state ON osb_operations (state)", NULL
};

const char *osb_store_sql_usage_create(int pg)
{
	/* seq only grows: SQLite's AUTOINCREMENT never reuses a value, nor does a PostgreSQL sequence. */
	return pg ? "CREATE TABLE IF NOT EXISTS osb_usage_events (seq BIGSERIAL PRIMARY KEY,"
		    " kind TEXT NOT NULL, instance_id TEXT NOT NULL, binding_id TEXT, service_id TEXT, plan_id TEXT,"
		    " plan_name TEXT, previous_plan_id TEXT, previous_plan_name TEXT, context TEXT,"
		    " originating_identity TEXT, operation_id TEXT, occurred_at BIGINT NOT NULL)"
		  : "CREATE TABLE IF NOT EXISTS osb_usage_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		    " kind TEXT NOT NULL, instance_id TEXT NOT NULL, binding_id TEXT, service_id TEXT, plan_id TEXT,"
		    " plan_name TEXT, previous_plan_id TEXT, previous_plan_name TEXT, context TEXT,"
		    " originating_identity TEXT, operation_id TEXT, occurred_at INTEGER NOT NULL)";
}

char *osb_store_sql_usage_insert(char ph)
{
	const osb_store_table *t = &osb_store_usage_events;
	osb_buf b = OSB_BUF_INIT;

	osb_buf_printf(&b, "INSERT INTO %s (", t->name);
	for (size_t i = 1; i < t->ncols; i++)
		osb_buf_printf(&b, "%s%s", i > 1 ? ", " : "", t->cols[i].name);
	osb_buf_printf(&b, ") VALUES (");
	for (size_t i = 1; i < t->ncols; i++) {
		osb_buf_printf(&b, "%s", i > 1 ? ", " : "");
		sb_placeholder(&b, ph, i);
	}
	osb_buf_printf(&b, ")");
	return osb_buf_take(&b);
}

char *osb_store_sql_usage_list(char ph)
{
	const osb_store_table *t = &osb_store_usage_events;
	osb_buf b = OSB_BUF_INIT;

	osb_buf_printf(&b, "SELECT ");
	sb_columns(&b, t);
	osb_buf_printf(&b, " FROM %s WHERE seq > ", t->name);
	sb_placeholder(&b, ph, 1);
	osb_buf_printf(&b, " ORDER BY seq LIMIT ");
	sb_placeholder(&b, ph, 2);
	return osb_buf_take(&b);
}

/* Created and not yet deleted: READY or DELETING, as the usage log counts them. */
const char osb_store_sql_plan_counts[] =
	"SELECT plan_id, count(*) FROM osb_instances WHERE state IN (2, 4) GROUP BY plan_id ORDER BY plan_id";

/* Instances and bindings that exist get a "created" record dated from their creation, with the plan they
 * have now; operation_id NULL marks them as rebuilt. */
const char *const osb_store_sql_usage_backfill[] = {
	"INSERT INTO osb_usage_events (kind, instance_id, binding_id, service_id, plan_id, context, occurred_at)"
	" SELECT kind, instance_id, binding_id, service_id, plan_id, context, created_at FROM ("
	" SELECT 'instance_created' AS kind, id AS instance_id, NULL AS binding_id, service_id, plan_id, context,"
	" created_at, 0 AS sort FROM osb_instances WHERE state IN (2, 4)"
	" UNION ALL SELECT 'binding_created', instance_id, id, service_id, plan_id, context, created_at, 1"
	" FROM osb_bindings WHERE state IN (2, 4)) AS live ORDER BY created_at, sort, instance_id, binding_id",
	NULL
};

/* ---- Time and the connection pool ---- */

void osb_store_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int osb_store_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int osb_store_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return OSB_ENOMEM;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return rc ? OSB_ENOMEM : 0;
}

int osb_store_pool_init(osb_store_pool *pool, int size, void (*destroy)(void *conn))
{
	memset(pool, 0, sizeof(*pool));
	pool->idle = calloc((size_t)size, sizeof(void *));
	if (!pool->idle)
		return OSB_ENOMEM;
	if (pthread_mutex_init(&pool->mu, NULL) != 0) {
		free(pool->idle);
		return OSB_ENOMEM;
	}
	if (osb_store_cond_init(&pool->cv) != 0) {
		pthread_mutex_destroy(&pool->mu);
		free(pool->idle);
		return OSB_ENOMEM;
	}
	pool->size = size;
	pool->destroy = destroy;
	return 0;
}

void osb_store_pool_fini(osb_store_pool *pool)
{
	if (!pool->idle)
		return;
	for (int i = 0; i < pool->nidle; i++)
		pool->destroy(pool->idle[i]);
	if (pool->total != pool->nidle)
		osb_log(OSB_LOG_ERROR, "store.error", "store closed with %d transactions still open",
			pool->total - pool->nidle);
	free(pool->idle);
	pool->idle = NULL;
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
}

int osb_store_pool_take(osb_store_pool *pool, const struct timespec *deadline, void **conn)
{
	int rc = 0;

	*conn = NULL;
	pthread_mutex_lock(&pool->mu);
	for (;;) {
		if (pool->nidle > 0) {
			*conn = pool->idle[--pool->nidle];
			break;
		}
		if (pool->total < pool->size) {
			pool->total++; /* the caller opens it outside the lock */
			break;
		}
		if (pthread_cond_timedwait(&pool->cv, &pool->mu, deadline) == ETIMEDOUT && pool->nidle == 0 &&
		    pool->total >= pool->size) {
			rc = OSB_ETIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&pool->mu);
	return rc;
}

void osb_store_pool_give(osb_store_pool *pool, void *conn)
{
	pthread_mutex_lock(&pool->mu);
	if (conn)
		pool->idle[pool->nidle++] = conn;
	else
		pool->total--;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

/* ---- Public functions ---- */

/* Functions whose contract names only OSB_EBACKEND report a pool or lock timeout as that. */
