/* PostgreSQL back end of the state store: pooled libpq connections, advisory locks per instance, parameterized SQL. */
#include "store_internal.h"

#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hash.h"
#include "osb/errors.h"
#include "osb/log.h"

/* Two-int advisory key space ("OSB", 1): never collides with the one-bigint instance locks. */
#define SCHEMA_LOCK_SQL "SELECT pg_advisory_xact_lock(5198658, 1)"
#define LIST_BATCH "500"

typedef struct {
	osb_store base;
	char *url;
	char connect_timeout[16];
	char lock_timeout[16];
	char statement_timeout[16];
	char *sql_get[3];
	char *sql_put[3];
	char *sql_all[3];
	char *sql_bindings_of;
	char *sql_claim;
	char *sql_usage_append;
	char *sql_usage_list;
	osb_store_pool pool;
} pstore;

typedef struct {
	osb_store_tx base;
	PGconn *conn;
	int cursors; /* names cursors of nested lists apart */
} ptx;

static const osb_store_table *const tables[3] = { &osb_store_instances, &osb_store_bindings, &osb_store_operations };

static int table_index(const osb_store_table *t)
{
	return t == &osb_store_instances ? 0 : t == &osb_store_bindings ? 1 : 2;
}

/* libpq prints NOTICEs ("relation already exists, skipping") on stderr by default. */
static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Log the primary message and SQLSTATE only: DETAIL may quote row values. */
static void log_result(PGconn *conn, const PGresult *res, const char *what)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char buf[256];

	if (!msg) {
		snprintf(buf, sizeof(buf), "%s", conn ? PQerrorMessage(conn) : "no connection");
		buf[strcspn(buf, "\n")] = '\0';
		msg = buf;
	}
	/* `what` is SQL text without values; its start says enough. */
	osb_log(OSB_LOG_ERROR, "store.error", "postgresql: %.60s: %s (%s)", what, msg, state ? state : "-");
}

static int map_result(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	/* lock_not_available (lock_timeout) and query_canceled (statement_timeout). */
	if (state && (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0))
		return OSB_ETIMEOUT;
	return OSB_EBACKEND;
}

/*
 * Run one parameterized statement. With res non-NULL the result of a query is
 * handed over (caller PQclear's it). @return 0, OSB_ETIMEOUT or OSB_EBACKEND.
 */
static int q(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **res, bool quiet)
{
	PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc;

	if (res)
		*res = NULL;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	rc = map_result(r);
	if (!quiet || rc != OSB_ETIMEOUT)
		log_result(conn, r, sql);
	PQclear(r);
	return rc;
}

/* Session settings, again after every reconnect. */
static int conn_setup(pstore *s, PGconn *conn)
{
	const char *params[2] = { s->lock_timeout, s->statement_timeout };

	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	return q(conn, "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", 2,
		 params, NULL, false);
}

static void conn_destroy(void *conn)
{
	PQfinish(conn);
}

static int conn_open(pstore *s, PGconn **out)
{
	/* Keywords apply in order: a connect_timeout in the URL overrides ours. */
	const char *keys[] = { "connect_timeout", "dbname", NULL };
	const char *vals[] = { s->connect_timeout, s->url, NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	*out = NULL;
	if (!conn)
		return OSB_ENOMEM;
	if (PQstatus(conn) != CONNECTION_OK) {
		log_result(conn, NULL, "connect");
		PQfinish(conn);
		return OSB_EBACKEND;
	}
	if (conn_setup(s, conn) != 0) {
		PQfinish(conn);
		return OSB_EBACKEND;
	}
	*out = conn;
	return 0;
}

/* Reconnect a connection the server or network dropped, once. */
static int conn_reset(pstore *s, PGconn *conn)
{
	PQreset(conn);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_result(conn, NULL, "reconnect");
		return OSB_EBACKEND;
	}
	osb_log(OSB_LOG_WARN, "store.reconnected", "postgresql: reconnected a broken pooled connection");
	return conn_setup(s, conn);
}

/*
 * Whether an idle pooled connection is still up, without a round trip: read
 * what the server sent it meanwhile. A server that went away (restart,
 * terminated backend, idle timeout) sent a FATAL and then closed; the read
 * that meets the end of the stream turns the status bad.
 */
static bool conn_alive(PGconn *conn)
{
	for (int i = 0; i < 4 && PQstatus(conn) == CONNECTION_OK; i++) {
		struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(conn))
			break;
	}
	return PQstatus(conn) == CONNECTION_OK;
}

static int conn_take(pstore *s, const struct timespec *deadline, PGconn **out)
{
	void *p;
	int rc = osb_store_pool_take(&s->pool, deadline, &p);

	*out = NULL;
	if (rc) {
		osb_log(OSB_LOG_WARN, "store.pool_exhausted", "postgresql: all %d connections in use; raise pool_size",
			s->pool.size);
		return rc;
	}
	if (!p) {
		PGconn *fresh = NULL;
		rc = conn_open(s, &fresh);
		p = fresh;
	} else if (!conn_alive(p)) {
		rc = conn_reset(s, p);
	}
	if (rc) {
		if (p)
			PQfinish(p);
		osb_store_pool_give(&s->pool, NULL);
		return rc;
	}
	*out = p;
	return 0;
}

static void conn_give(pstore *s, PGconn *conn)
{
	PGTransactionStatusType ts = PQtransactionStatus(conn);

	/* Never hand out a connection still inside a transaction. */
	if (ts != PQTRANS_IDLE && ts != PQTRANS_UNKNOWN) {
		PQfinish(conn);
		conn = NULL;
	}
	osb_store_pool_give(&s->pool, conn);
}

/*
 * A statement outside any transaction on a pooled connection; when the
 * connection turns out broken it is reset and the statement tried once more.
 */
static int q_once(pstore *s, const char *sql, int n, const char *const *params, PGresult **res, bool retry)
{
	struct timespec deadline;
	PGconn *conn;
	int rc;

	osb_store_deadline(&deadline, s->base.busy_timeout_ms);
	rc = conn_take(s, &deadline, &conn);
	if (rc)
		return rc;
	rc = q(conn, sql, n, params, res, false);
	if (rc && retry && PQstatus(conn) != CONNECTION_OK && conn_reset(s, conn) == 0)
		rc = q(conn, sql, n, params, res, false);
	conn_give(s, conn);
	return rc;
}

static int read_row(const PGresult *res, int row, const osb_store_table *t, void *rec)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const osb_store_col *col = &t->cols[i];
		void *f = OSB_STORE_FIELD(rec, col);
		int n = (int)i;
		const char *v;

		if (PQgetisnull(res, row, n))
			continue;
		v = PQgetvalue(res, row, n);
		if (col->type == OSB_COL_TEXT) {
			size_t len = (size_t)PQgetlength(res, row, n);
			char *copy = malloc(len + 1);
			if (!copy)
				return OSB_ENOMEM;
			memcpy(copy, v, len);
			copy[len] = '\0';
			*(char **)f = copy;
		} else if (col->type == OSB_COL_INT) {
			*(int *)f = (int)strtol(v, NULL, 10);
		} else {
			*(int64_t *)f = (int64_t)strtoll(v, NULL, 10);
		}
	}
	return 0;
}

/* Tuples of a command ("UPDATE 3" -> 3). */
static long affected(const PGresult *res)
{
	return strtol(PQcmdTuples((PGresult *)res), NULL, 10);
}

static void p_rollback(osb_store_tx *base)
{
	ptx *tx = (ptx *)base;
	pstore *s = (pstore *)base->store;

	if (PQstatus(tx->conn) == CONNECTION_OK && PQtransactionStatus(tx->conn) != PQTRANS_IDLE)
		q(tx->conn, "ROLLBACK", 0, NULL, NULL, false);
	conn_give(s, tx->conn);
	free(tx);
}

/* A transaction-long advisory lock on a 64-bit hash of `id`. */
static int advisory_lock(PGconn *conn, const char *id)
{
	unsigned char d[32];
	char key[24];
	const char *params[1] = { key };
	uint64_t k = 0;

	osb_sha256(d, id, strlen(id));
	for (int i = 0; i < 8; i++)
		k = k << 8 | d[i];
	snprintf(key, sizeof(key), "%" PRId64, (int64_t)k);
	/* Waits at most lock_timeout (busy_timeout_ms); 55P03 then maps to OSB_ETIMEOUT. */
	return q(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, NULL, true);
}

static int p_begin(osb_store *store, const char *lock_id, osb_store_tx **out)
{
	pstore *s = (pstore *)store;
	/* Read transactions see one snapshot, as SQLite's do; writers see each other's commits. */
	const char *begin = lock_id ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
	struct timespec deadline;
	PGconn *conn = NULL;
	ptx *tx;
	int rc;

	*out = NULL;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return OSB_ENOMEM;
	osb_store_deadline(&deadline, store->busy_timeout_ms);
	rc = conn_take(s, &deadline, &conn);
	if (rc)
		goto done;
	rc = q(conn, begin, 0, NULL, NULL, false);
	/* A pooled connection whose server went away only shows it now: reconnect once. */
	if (rc && PQstatus(conn) != CONNECTION_OK) {
		rc = conn_reset(s, conn);
		if (!rc)
			rc = q(conn, begin, 0, NULL, NULL, false);
	}
	if (rc)
		goto done;
	if (lock_id)
		rc = advisory_lock(conn, lock_id);
done:
	if (rc) {
		if (conn) {
			if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
				q(conn, "ROLLBACK", 0, NULL, NULL, false);
			conn_give(s, conn);
		}
		free(tx);
		return rc;
	}
	tx->base.store = store;
	tx->base.write = lock_id != NULL;
	tx->conn = conn;
	*out = &tx->base;
	return 0;
}

static int p_commit(osb_store_tx *base)
{
	ptx *tx = (ptx *)base;
	PGresult *res = NULL;
	int rc;

	if (base->failed) {
		p_rollback(base);
		return OSB_EBACKEND;
	}
	rc = q(tx->conn, "COMMIT", 0, NULL, &res, false);
	/* COMMIT of a transaction that had an error answers "ROLLBACK" without failing. */
	if (!rc && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		osb_log(OSB_LOG_ERROR, "store.error", "postgresql: transaction was rolled back by the server");
		rc = OSB_EBACKEND;
	}
	PQclear(res);
	if (rc) {
		p_rollback(base);
		return OSB_EBACKEND;
	}
	conn_give((pstore *)base->store, tx->conn);
	free(tx);
	return 0;
}

static int p_get(osb_store_tx *base, const osb_store_table *t, const char *id, void *rec)
{
	ptx *tx = (ptx *)base;
	pstore *s = (pstore *)base->store;
	const char *params[1] = { id };
	PGresult *res;
	int rc = q(tx->conn, s->sql_get[table_index(t)], 1, params, &res, false);

	if (rc) {
		base->failed = 1;
		return rc;
	}
	rc = PQntuples(res) == 0 ? OSB_ENOTFOUND : read_row(res, 0, t, rec);
	PQclear(res);
	return rc;
}

static int p_put(osb_store_tx *base, const osb_store_table *t, const void *rec)
{
	ptx *tx = (ptx *)base;
	pstore *s = (pstore *)base->store;
	const char *params[32];
	char nums[32][24];
	int rc;

	if (t->ncols > 32)
		return OSB_ERROR;
	for (size_t i = 0; i < t->ncols; i++) {
		const osb_store_col *col = &t->cols[i];
		const void *f = OSB_STORE_FIELD(rec, col);

		if (col->type == OSB_COL_TEXT) {
			params[i] = *(char *const *)f;
			continue;
		}
		if (col->type == OSB_COL_INT)
			snprintf(nums[i], sizeof(nums[i]), "%d", *(const int *)f);
		else
			snprintf(nums[i], sizeof(nums[i]), "%" PRId64, *(const int64_t *)f);
		params[i] = nums[i];
	}
	rc = q(tx->conn, s->sql_put[table_index(t)], (int)t->ncols, params, NULL, false);
	if (rc)
		base->failed = 1;
	return rc;
}

/* Hand every row of res to cb; *stop is set when cb asks to stop. */
static int rows_to_cb(const PGresult *res, const osb_store_table *t, osb_store_row_cb cb, void *payload, bool *stop)
{
	union {
		osb_instance_rec i;
		osb_binding_rec b;
		osb_operation_rec o;
	} rec;
	int n = PQntuples(res), rc = 0;

	for (int row = 0; row < n && !*stop; row++) {
		memset(&rec, 0, sizeof(rec));
		rc = read_row(res, row, t, &rec);
		if (rc || cb(&rec, payload))
			*stop = true;
		osb_store_rec_clear(t, &rec);
	}
	return rc;
}

static int p_list(osb_store_tx *base, const osb_store_table *t, const char *instance_id, osb_store_row_cb cb,
		  void *payload)
{
	ptx *tx = (ptx *)base;
	pstore *s = (pstore *)base->store;
	PGresult *res = NULL;
	bool stop = false;
	char declare[64], fetch[64], close_cur[32];
	char *sql = NULL;
	size_t len;
	int rc, cur;

	if (instance_id) {
		const char *params[1] = { instance_id };
		rc = q(tx->conn, s->sql_bindings_of, 1, params, &res, false);
		if (!rc)
			rc = rows_to_cb(res, t, cb, payload, &stop);
		PQclear(res);
		if (rc)
			base->failed = 1;
		return rc;
	}
	/* Whole tables go through a cursor so 100,000 rows never sit in memory at once. */
	cur = ++tx->cursors;
	snprintf(declare, sizeof(declare), "DECLARE osb_cur%d NO SCROLL CURSOR FOR ", cur);
	snprintf(fetch, sizeof(fetch), "FETCH " LIST_BATCH " FROM osb_cur%d", cur);
	snprintf(close_cur, sizeof(close_cur), "CLOSE osb_cur%d", cur);
	len = strlen(declare) + strlen(s->sql_all[table_index(t)]) + 1;
	sql = malloc(len);
	if (!sql)
		return OSB_ENOMEM;
	snprintf(sql, len, "%s%s", declare, s->sql_all[table_index(t)]);
	rc = q(tx->conn, sql, 0, NULL, NULL, false);
	while (!rc && !stop) {
		rc = q(tx->conn, fetch, 0, NULL, &res, false);
		if (rc)
			break;
		if (PQntuples(res) == 0)
			stop = true;
		else
			rc = rows_to_cb(res, t, cb, payload, &stop);
		PQclear(res);
		res = NULL;
	}
	if (!rc)
		rc = q(tx->conn, close_cur, 0, NULL, NULL, false);
	free(sql);
	if (rc)
		base->failed = 1;
	return rc;
}

static int p_claim(osb_store *store, const char *owner, int64_t now, int64_t lease_until, osb_operation_rec ***out,
		   size_t *n)
{
	pstore *s = (pstore *)store;
	char lease[24], nowbuf[24];
	const char *params[3] = { owner, lease, nowbuf };
	osb_operation_rec **recs = NULL;
	PGresult *res = NULL;
	int rc, rows = 0, i;

	*out = NULL;
	*n = 0;
	snprintf(lease, sizeof(lease), "%" PRId64, lease_until);
	snprintf(nowbuf, sizeof(nowbuf), "%" PRId64, now);
	/* One statement, one implicit transaction; not retried, as it may have committed. */
	rc = q_once(s, s->sql_claim, 3, params, &res, false);
	if (rc)
		return rc;
	rows = PQntuples(res);
	if (rows > 0) {
		recs = calloc((size_t)rows, sizeof(*recs));
		if (!recs) {
			rc = OSB_ENOMEM;
			goto done;
		}
	}
	for (i = 0; i < rows; i++) {
		recs[i] = calloc(1, sizeof(**recs));
		if (!recs[i]) {
			rc = OSB_ENOMEM;
			goto done;
		}
		rc = read_row(res, i, &osb_store_operations, recs[i]);
		if (rc)
			goto done;
	}
done:
	PQclear(res);
	if (rc) {
		for (i = 0; recs && i < rows; i++)
			osb_operation_rec_free(recs[i]);
		free(recs);
		return rc;
	}
	*out = recs;
	*n = (size_t)rows;
	return 0;
}

static int p_lease(osb_store *store, const char *op_id, const char *owner, const char *new_owner, int64_t lease_until)
{
	pstore *s = (pstore *)store;
	char lease[24];
	const char *params[4] = { new_owner, lease, op_id, owner };
	PGresult *res = NULL;
	int rc;

	snprintf(lease, sizeof(lease), "%" PRId64, lease_until);
	rc = q_once(s, "UPDATE osb_operations SET owner = $1, lease_until = $2 WHERE id = $3 AND owner = $4", 4, params,
		    &res, true);
	if (!rc && affected(res) == 0)
		rc = OSB_ENOTFOUND;
	PQclear(res);
	return rc;
}

static int p_usage_append(osb_store_tx *base, const osb_usage_event *ev)
{
	ptx *tx = (ptx *)base;
	pstore *s = (pstore *)base->store;
	const osb_store_table *t = &osb_store_usage_events;
	const char *params[16];
	char nums[16][24];
	int rc;

	if (t->ncols > 16)
		return OSB_ERROR;
	for (size_t i = 1; i < t->ncols; i++) {
		const osb_store_col *col = &t->cols[i];
		const void *f = OSB_STORE_FIELD(ev, col);
		if (col->type == OSB_COL_TEXT) {
			params[i - 1] = *(char *const *)f;
		} else {
			snprintf(nums[i - 1], sizeof(nums[i - 1]), "%" PRId64, *(const int64_t *)f);
			params[i - 1] = nums[i - 1];
		}
	}
	rc = q(tx->conn, s->sql_usage_append, (int)t->ncols - 1, params, NULL, false);
	if (rc)
		base->failed = 1;
	return rc;
}

static int p_usage_list(osb_store *store, int64_t after, int limit, osb_store_row_cb cb, void *payload)
{
	pstore *s = (pstore *)store;
	char a[24], l[16];
	const char *params[2] = { a, l };
	PGresult *res = NULL;
	bool stop = false;
	osb_usage_event ev;
	int rc;

	snprintf(a, sizeof(a), "%" PRId64, after);
	snprintf(l, sizeof(l), "%d", limit);
	rc = q_once(s, s->sql_usage_list, 2, params, &res, true);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(res) && !stop && !rc; row++) {
		memset(&ev, 0, sizeof(ev));
		rc = read_row(res, row, &osb_store_usage_events, &ev);
		if (!rc && cb(&ev, payload))
			stop = true;
		osb_store_rec_clear(&osb_store_usage_events, &ev);
	}
	PQclear(res);
	return rc;
}

static int p_plan_counts(osb_store *store, osb_plan_count_cb cb, void *payload)
{
	PGresult *res = NULL;
	int rc = q_once((pstore *)store, osb_store_sql_plan_counts, 0, NULL, &res, true);

	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(res); row++)
		if (cb(PQgetvalue(res, row, 0), strtol(PQgetvalue(res, row, 1), NULL, 10), payload))
			break;
	PQclear(res);
	return 0;
}

static int p_counts(osb_store *store, osb_store_counts *out)
{
	PGresult *res = NULL;
	int rc = q_once((pstore *)store, osb_store_sql_counts, 0, NULL, &res, true);

	if (rc)
		return rc;
	if (PQntuples(res) == 1 && PQnfields(res) == 5) {
		out->instances = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		out->bindings = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		out->ops_in_progress = strtol(PQgetvalue(res, 0, 2), NULL, 10);
		out->ops_succeeded = strtol(PQgetvalue(res, 0, 3), NULL, 10);
		out->ops_failed = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	} else {
		rc = OSB_EBACKEND;
	}
	PQclear(res);
	return rc;
}

static int p_count_live(osb_store_tx *base, const char *plan_id, long *out)
{
	ptx *tx = (ptx *)base;
	const char *params[1] = { plan_id };
	PGresult *res = NULL;
	int rc = q(tx->conn, osb_store_sql_count_live, 1, params, &res, false);

	if (rc == 0 && PQntuples(res) == 1)
		*out = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else if (rc == 0)
		rc = OSB_EBACKEND;
	PQclear(res);
	if (rc)
		base->failed = 1;
	return rc;
}

static int p_lock(osb_store_tx *base, const char *key)
{
	int rc = advisory_lock(((ptx *)base)->conn, key);
	if (rc)
		base->failed = 1;
	return rc;
}

static int p_size(osb_store *store, int64_t *bytes)
{
	PGresult *res = NULL;
	/* Tables with their indexes and TOAST, found through search_path. */
	int rc = q_once((pstore *)store,
			"SELECT pg_total_relation_size('osb_instances') + pg_total_relation_size('osb_bindings')"
			" + pg_total_relation_size('osb_operations') + pg_total_relation_size('osb_meta')"
			" + pg_total_relation_size('osb_usage_events')",
			0, NULL, &res, true);

	if (rc)
		return rc;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*bytes = (int64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		rc = OSB_EBACKEND;
	PQclear(res);
	return rc;
}

static int p_ping(osb_store *store, char *msg, size_t msg_size)
{
	PGresult *res = NULL;
	int rc =
		q_once((pstore *)store, "SELECT value FROM osb_meta WHERE key = 'schema_version'", 0, NULL, &res, true);

	PQclear(res);
	if (rc && msg && msg_size)
		snprintf(msg, msg_size, "postgresql: %s",
			 rc == OSB_ETIMEOUT ? "no answer in time"
					    : "the server cannot be reached or refused the query");
	return rc ? OSB_EBACKEND : 0;
}

static void p_close(osb_store *store)
{
	pstore *s = (pstore *)store;

	osb_store_pool_fini(&s->pool);
	for (int i = 0; i < 3; i++) {
		free(s->sql_get[i]);
		free(s->sql_put[i]);
		free(s->sql_all[i]);
	}
	free(s->sql_bindings_of);
	free(s->sql_claim);
	free(s->sql_usage_append);
	free(s->sql_usage_list);
	if (s->url) {
		/* It may hold a password. */
		memset(s->url, 0, strlen(s->url));
		free(s->url);
	}
	memset(s->base.key, 0, sizeof(s->base.key));
	free(s);
}

static int build_sql(pstore *s)
{
	char *cols = osb_store_sql_columns(&osb_store_operations);

	for (int i = 0; i < 3; i++) {
		s->sql_get[i] = osb_store_sql_select(tables[i], '$', "id");
		s->sql_put[i] = osb_store_sql_put(tables[i], '$');
		s->sql_all[i] = osb_store_sql_select(tables[i], '$', NULL);
		if (!s->sql_get[i] || !s->sql_put[i] || !s->sql_all[i]) {
			free(cols);
			return OSB_ENOMEM;
		}
	}
	s->sql_bindings_of = osb_store_sql_select(&osb_store_bindings, '$', "instance_id");
	if (cols) {
		/* SKIP LOCKED: replicas claiming at once split the work instead of waiting on each other. */
		static const char pre[] = "UPDATE osb_operations SET owner = $1, lease_until = $2 WHERE id IN"
					  " (SELECT id FROM osb_operations WHERE state = 1"
					  " AND (owner IS NULL OR lease_until < $3) FOR UPDATE SKIP LOCKED) RETURNING ";
		size_t n = sizeof(pre) + strlen(cols);
		s->sql_claim = malloc(n);
		if (s->sql_claim)
			snprintf(s->sql_claim, n, "%s%s", pre, cols);
		free(cols);
	}
	s->sql_usage_append = osb_store_sql_usage_insert('$');
	s->sql_usage_list = osb_store_sql_usage_list('$');
	return s->sql_bindings_of && s->sql_claim && s->sql_usage_append && s->sql_usage_list ? 0 : OSB_ENOMEM;
}

/* Create or migrate the schema under an advisory lock, so replicas starting together do not race. */
static int schema_init(PGconn *conn)
{
	char version[16];
	const char *params[1] = { version };
	PGresult *res = NULL;
	char *ddl;
	int rc, have = 0;

	rc = q(conn, "BEGIN", 0, NULL, NULL, false);
	if (rc)
		return rc;
	rc = q(conn, SCHEMA_LOCK_SQL, 0, NULL, NULL, false);
	if (!rc)
		rc = q(conn, osb_store_sql_meta, 0, NULL, NULL, false);
	if (!rc)
		rc = q(conn, "SELECT value FROM osb_meta WHERE key = 'schema_version'", 0, NULL, &res, false);
	if (rc)
		goto done;
	if (PQntuples(res) > 0)
		have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (have > OSB_STORE_SCHEMA_VERSION) {
		osb_log(OSB_LOG_ERROR, "store.error", "postgresql: schema version %d is newer than this broker's %d",
			have, OSB_STORE_SCHEMA_VERSION);
		rc = OSB_EBACKEND;
		goto done;
	}
	if (have == OSB_STORE_SCHEMA_VERSION)
		goto done;
	/* Version 0 is an empty schema: version 1's tables first, then each later version's steps. */
	for (int i = 0; have < 1 && i < 3 && !rc; i++) {
		ddl = osb_store_sql_create(tables[i], 1);
		rc = ddl ? q(conn, ddl, 0, NULL, NULL, false) : OSB_ENOMEM;
		free(ddl);
	}
	for (int i = 0; have < 1 && osb_store_sql_indexes[i] && !rc; i++)
		rc = q(conn, osb_store_sql_indexes[i], 0, NULL, NULL, false);
	if (!rc && have < 2)
		rc = q(conn, osb_store_sql_usage_create(1), 0, NULL, NULL, false);
	for (int i = 0; have == 1 && osb_store_sql_usage_backfill[i] && !rc; i++)
		rc = q(conn, osb_store_sql_usage_backfill[i], 0, NULL, NULL, false);
	if (!rc && have > 0)
		osb_log(OSB_LOG_INFO, "store.migrated", "postgresql: schema migrated from version %d to %d", have,
			OSB_STORE_SCHEMA_VERSION);
	snprintf(version, sizeof(version), "%d", OSB_STORE_SCHEMA_VERSION);
	if (!rc)
		rc = q(conn,
		       "INSERT INTO osb_meta (key, value) VALUES ('schema_version', $1)"
		       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		       1, params, NULL, false);
done:
	if (rc) {
		q(conn, "ROLLBACK", 0, NULL, NULL, false);
		return rc;
	}
	return q(conn, "COMMIT", 0, NULL, NULL, false);
}

static const osb_store_backend pg_backend = {
	.close = p_close,
	.ping = p_ping,
	.begin = p_begin,
	.commit = p_commit,
	.rollback = p_rollback,
	.get = p_get,
	.put = p_put,
	.list = p_list,
	.claim = p_claim,
	.lease = p_lease,
	.usage_append = p_usage_append,
	.usage_list = p_usage_list,
	.plan_counts = p_plan_counts,
	.counts = p_counts,
	.count_live = p_count_live,
	.lock = p_lock,
	.size = p_size,
};

int osb_store_pg_open(osb_store **out, const osb_store_options *options)
{
	pstore *s = calloc(1, sizeof(*s));
	struct timespec deadline;
	PGconn *conn = NULL;
	int rc, ms = options->busy_timeout_ms;

	*out = NULL;
	if (!s)
		return OSB_ENOMEM;
	s->base.be = &pg_backend;
	s->base.busy_timeout_ms = ms;
	s->base.pool_size = options->pool_size;
	snprintf(s->connect_timeout, sizeof(s->connect_timeout), "%d", ms / 1000 < 2 ? 2 : ms / 1000);
	snprintf(s->lock_timeout, sizeof(s->lock_timeout), "%d", ms);
	/* Statements get far longer than a lock wait: whole-table lists and claims are legitimate. */
	snprintf(s->statement_timeout, sizeof(s->statement_timeout), "%d", ms < 7500 ? 30000 : 4 * ms);
	s->url = strdup(options->url);
	if (!s->url) {
		free(s);
		return OSB_ENOMEM;
	}
	rc = osb_store_pool_init(&s->pool, options->pool_size, conn_destroy);
	if (rc) {
		free(s->url);
		free(s);
		return rc;
	}
	rc = build_sql(s);
	if (rc)
		goto done;
	osb_store_deadline(&deadline, ms);
	rc = conn_take(s, &deadline, &conn);
	if (rc) {
		rc = rc == OSB_ENOMEM ? rc : OSB_EBACKEND;
		goto done;
	}
	rc = schema_init(conn);
	conn_give(s, conn);
	if (rc == OSB_ETIMEOUT)
		rc = OSB_EBACKEND;
done:
	if (rc) {
		p_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
