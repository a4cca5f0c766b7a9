/* SQLite back end of the state store: WAL, synchronous=FULL, a pool of connections with cached statements. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "osb/errors.h"
#include "osb/log.h"

/* Statements every connection caches; the text is built once per store. */
enum {
	ST_GET, /* + table index (3) */
	ST_PUT = ST_GET + 3,
	ST_ALL = ST_PUT + 3,
	ST_BINDINGS_OF = ST_ALL + 3,
	ST_CLAIM,
	ST_LEASE,
	ST_COUNTS,
	ST_USAGE_APPEND,
	ST_USAGE_LIST,
	ST_PLAN_COUNTS,
	ST_VERSION,
	ST_BEGIN,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

typedef struct {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
} lconn;

typedef struct {
	osb_store base;
	char *path;
	char *sql[ST_COUNT];
	osb_store_pool pool;
	/*
	 * SQLite has one writer per database. Writers of this process queue here,
	 * where a commit wakes the next at once, instead of polling the file lock
	 * in SQLite's busy handler; other processes still meet BEGIN IMMEDIATE.
	 */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	bool gate_busy;
	bool gate_ready;
} lstore;

typedef struct {
	osb_store_tx base;
	lconn *c;
} ltx;

static const osb_store_table *const tables[3] = { &osb_store_instances, &osb_store_bindings, &osb_store_operations };

static int table_index(const osb_store_table *t)
{
	return t == &osb_store_instances ? 0 : t == &osb_store_bindings ? 1 : 2;
}

static void log_db(sqlite3 *db, const char *what)
{
	osb_log(OSB_LOG_ERROR, "store.error", "sqlite: %s: %s (code %d)", what,
		db ? sqlite3_errmsg(db) : "cannot allocate", db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM);
}

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return OSB_ETIMEOUT;
	case SQLITE_NOMEM: return OSB_ENOMEM;
	default: return OSB_EBACKEND;
	}
}

static void conn_destroy(void *p)
{
	lconn *c = p;

	if (!c)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_db(db, sql);
		return map_rc(rc);
	}
	return 0;
}

static int journal_mode_cb(void *payload, int n, char **values, char **names)
{
	(void)names;
	if (n > 0 && values[0])
		*(bool *)payload = strcmp(values[0], "wal") == 0;
	return 0;
}

static int conn_open(lstore *s, lconn **out)
{
	lconn *c = calloc(1, sizeof(*c));
	bool wal = false;
	int rc;

	*out = NULL;
	if (!c)
		return OSB_ENOMEM;
	/* NOMUTEX: the pool gives a connection to one thread at a time. */
	rc = sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_db(c->db, "open");
		rc = OSB_EBACKEND;
		goto done;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, s->base.busy_timeout_ms);
	rc = sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", journal_mode_cb, &wal, NULL);
	if (rc != SQLITE_OK || !wal) {
		log_db(c->db, "cannot switch to WAL mode");
		rc = OSB_EBACKEND;
		goto done;
	}
	/* FULL: a commit returns only after the WAL is fsync'ed. */
	rc = exec_sql(c->db, "PRAGMA synchronous = FULL");
done:
	if (rc) {
		conn_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* A cached statement, or a private one when the cached one is still iterating (nested list). */
static sqlite3_stmt *stmt_get(lstore *s, lconn *c, int which, bool *owned)
{
	sqlite3_stmt *st = NULL;

	*owned = false;
	if (c->st[which] && !sqlite3_stmt_busy(c->st[which]))
		return c->st[which];
	if (!c->st[which]) {
		if (sqlite3_prepare_v3(c->db, s->sql[which], -1, SQLITE_PREPARE_PERSISTENT, &c->st[which], NULL) !=
		    SQLITE_OK) {
			log_db(c->db, "prepare");
			return NULL;
		}
		return c->st[which];
	}
	if (sqlite3_prepare_v2(c->db, s->sql[which], -1, &st, NULL) != SQLITE_OK) {
		log_db(c->db, "prepare");
		return NULL;
	}
	*owned = true;
	return st;
}

static void stmt_done(sqlite3_stmt *st, bool owned)
{
	if (owned) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Run a statement without results on the connection. */
static int run(lstore *s, lconn *c, int which)
{
	bool owned;
	sqlite3_stmt *st = stmt_get(s, c, which, &owned);
	int rc;

	if (!st)
		return OSB_EBACKEND;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		if ((rc & 0xff) != SQLITE_BUSY)
			log_db(c->db, s->sql[which]);
		rc = map_rc(rc);
	} else {
		rc = 0;
	}
	stmt_done(st, owned);
	return rc;
}

static int bind_row(sqlite3_stmt *st, const osb_store_table *t, const void *rec)
{
	int rc = SQLITE_OK;

	for (size_t i = 0; i < t->ncols && rc == SQLITE_OK; i++) {
		const osb_store_col *col = &t->cols[i];
		const void *f = OSB_STORE_FIELD(rec, col);
		int n = (int)i + 1;

		if (col->type == OSB_COL_TEXT) {
			const char *v = *(char *const *)f;
			rc = v ? sqlite3_bind_text(st, n, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, n);
		} else if (col->type == OSB_COL_INT) {
			rc = sqlite3_bind_int(st, n, *(const int *)f);
		} else {
			rc = sqlite3_bind_int64(st, n, *(const int64_t *)f);
		}
	}
	return rc == SQLITE_OK ? 0 : map_rc(rc);
}

static int read_row(sqlite3_stmt *st, const osb_store_table *t, void *rec)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const osb_store_col *col = &t->cols[i];
		void *f = OSB_STORE_FIELD(rec, col);
		int n = (int)i;

		if (col->type == OSB_COL_TEXT) {
			const unsigned char *v;
			size_t len;
			char *copy;

			if (sqlite3_column_type(st, n) == SQLITE_NULL)
				continue;
			v = sqlite3_column_text(st, n);
			len = (size_t)sqlite3_column_bytes(st, n);
			copy = malloc(len + 1);
			if (!v || !copy) {
				free(copy);
				return OSB_ENOMEM;
			}
			memcpy(copy, v, len);
			copy[len] = '\0';
			*(char **)f = copy;
		} else if (col->type == OSB_COL_INT) {
			*(int *)f = sqlite3_column_int(st, n);
		} else {
			*(int64_t *)f = sqlite3_column_int64(st, n);
		}
	}
	return 0;
}

static int gate_enter(lstore *s, const struct timespec *deadline)
{
	int rc = 0;

	pthread_mutex_lock(&s->gate_mu);
	while (s->gate_busy) {
		if (pthread_cond_timedwait(&s->gate_cv, &s->gate_mu, deadline) == ETIMEDOUT && s->gate_busy) {
			rc = OSB_ETIMEOUT;
			break;
		}
	}
	if (!rc)
		s->gate_busy = true;
	pthread_mutex_unlock(&s->gate_mu);
	return rc;
}

static void gate_leave(lstore *s)
{
	pthread_mutex_lock(&s->gate_mu);
	s->gate_busy = false;
	pthread_cond_signal(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_mu);
}

static int conn_take(lstore *s, const struct timespec *deadline, lconn **out)
{
	void *p;
	int rc = osb_store_pool_take(&s->pool, deadline, &p);

	*out = NULL;
	if (rc) {
		osb_log(OSB_LOG_WARN, "store.pool_exhausted", "sqlite: all %d connections in use; raise pool_size",
			s->pool.size);
		return rc;
	}
	if (!p) {
		lconn *fresh = NULL;
		rc = conn_open(s, &fresh);
		p = fresh;
		if (rc) {
			osb_store_pool_give(&s->pool, NULL);
			return rc;
		}
	}
	*out = p;
	return 0;
}

static void conn_give(lstore *s, lconn *c)
{
	/* A connection left inside a transaction is not reusable. */
	if (c && !sqlite3_get_autocommit(c->db)) {
		conn_destroy(c);
		c = NULL;
	}
	osb_store_pool_give(&s->pool, c);
}

static void tx_end(ltx *tx)
{
	lstore *s = (lstore *)tx->base.store;

	conn_give(s, tx->c);
	if (tx->base.write)
		gate_leave(s);
	free(tx);
}

static int l_begin(osb_store *store, const char *lock_id, osb_store_tx **out)
{
	lstore *s = (lstore *)store;
	bool write = lock_id != NULL;
	struct timespec deadline;
	ltx *tx = NULL;
	lconn *c = NULL;
	int rc;

	*out = NULL;
	osb_store_deadline(&deadline, store->busy_timeout_ms);
	if (write && gate_enter(s, &deadline) != 0)
		return OSB_ETIMEOUT;
	rc = conn_take(s, &deadline, &c);
	if (rc)
		goto done;
	tx = calloc(1, sizeof(*tx));
	if (!tx) {
		rc = OSB_ENOMEM;
		goto done;
	}
	/* What is left of busy_timeout_ms goes to the file lock (other processes). */
	sqlite3_busy_timeout(c->db, osb_store_ms_left(&deadline));
	rc = run(s, c, write ? ST_BEGIN_WRITE : ST_BEGIN);
	sqlite3_busy_timeout(c->db, store->busy_timeout_ms);
done:
	if (rc) {
		free(tx);
		if (c)
			conn_give(s, c);
		if (write)
			gate_leave(s);
		return rc;
	}
	tx->base.store = store;
	tx->base.write = write;
	tx->c = c;
	*out = &tx->base;
	return 0;
}

static void l_rollback(osb_store_tx *base)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;

	if (!sqlite3_get_autocommit(tx->c->db))
		run(s, tx->c, ST_ROLLBACK);
	tx_end(tx);
}

static int l_commit(osb_store_tx *base)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;
	int rc;

	/* SQLite may have rolled back by itself after an error (autocommit is on again). */
	if (base->failed || sqlite3_get_autocommit(tx->c->db)) {
		l_rollback(base);
		return OSB_EBACKEND;
	}
	rc = run(s, tx->c, ST_COMMIT);
	if (rc) {
		l_rollback(base);
		return OSB_EBACKEND;
	}
	tx_end(tx);
	return 0;
}

static int l_get(osb_store_tx *base, const osb_store_table *t, const char *id, void *rec)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;
	bool owned;
	sqlite3_stmt *st = stmt_get(s, tx->c, ST_GET + table_index(t), &owned);
	int rc;

	if (!st)
		return OSB_EBACKEND;
	rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = read_row(st, t, rec);
	} else if (rc == SQLITE_DONE) {
		rc = OSB_ENOTFOUND;
	} else {
		log_db(tx->c->db, "get");
		rc = map_rc(rc);
	}
	stmt_done(st, owned);
	return rc;
}

static int l_put(osb_store_tx *base, const osb_store_table *t, const void *rec)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;
	bool owned;
	sqlite3_stmt *st = stmt_get(s, tx->c, ST_PUT + table_index(t), &owned);
	int rc;

	if (!st) {
		base->failed = 1;
		return OSB_EBACKEND;
	}
	rc = bind_row(st, t, rec);
	if (!rc) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			rc = 0;
		} else {
			log_db(tx->c->db, "put");
			rc = OSB_EBACKEND;
		}
	}
	stmt_done(st, owned);
	if (rc)
		base->failed = 1;
	return rc;
}

static int l_list(osb_store_tx *base, const osb_store_table *t, const char *instance_id, osb_store_row_cb cb,
		  void *payload)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;
	union {
		osb_instance_rec i;
		osb_binding_rec b;
		osb_operation_rec o;
	} rec;
	bool owned;
	sqlite3_stmt *st = stmt_get(s, tx->c, instance_id ? ST_BINDINGS_OF : ST_ALL + table_index(t), &owned);
	int rc = 0;

	if (!st)
		return OSB_EBACKEND;
	if (instance_id && sqlite3_bind_text(st, 1, instance_id, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = OSB_EBACKEND;
		goto done;
	}
	for (;;) {
		int step = sqlite3_step(st);
		int stop;

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			log_db(tx->c->db, "list");
			rc = map_rc(step);
			break;
		}
		memset(&rec, 0, sizeof(rec));
		rc = read_row(st, t, &rec);
		stop = rc ? 1 : cb(&rec, payload);
		osb_store_rec_clear(t, &rec);
		if (stop)
			break;
	}
done:
	stmt_done(st, owned);
	return rc;
}

static int l_claim(osb_store *store, const char *owner, int64_t now, int64_t lease_until, osb_operation_rec ***out,
		   size_t *n)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	osb_operation_rec **recs = NULL;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	bool owned = false;
	int rc;

	*out = NULL;
	*n = 0;
	/* BEGIN IMMEDIATE: no other process can claim between our read and our write. */
	rc = l_begin(store, "", &tx);
	if (rc)
		return rc;
	st = stmt_get(s, ((ltx *)tx)->c, ST_CLAIM, &owned);
	if (!st) {
		rc = OSB_EBACKEND;
		goto done;
	}
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lease_until);
	sqlite3_bind_int64(st, 3, now);
	for (;;) {
		int step = sqlite3_step(st);
		osb_operation_rec *rec;

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			log_db(((ltx *)tx)->c->db, "claim");
			rc = map_rc(step);
			goto done;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			osb_operation_rec **grown = realloc(recs, ncap * sizeof(*recs));
			if (!grown) {
				rc = OSB_ENOMEM;
				goto done;
			}
			recs = grown;
			cap = ncap;
		}
		rec = calloc(1, sizeof(*rec));
		if (!rec) {
			rc = OSB_ENOMEM;
			goto done;
		}
		recs[count++] = rec;
		rc = read_row(st, &osb_store_operations, rec);
		if (rc)
			goto done;
	}
	stmt_done(st, owned);
	st = NULL;
	rc = l_commit(tx);
	tx = NULL;
done:
	if (st)
		stmt_done(st, owned);
	if (tx)
		l_rollback(tx);
	if (rc) {
		for (size_t i = 0; i < count; i++)
			osb_operation_rec_free(recs[i]);
		free(recs);
		return rc;
	}
	*out = recs;
	*n = count;
	return 0;
}

static int l_lease(osb_store *store, const char *op_id, const char *owner, const char *new_owner, int64_t lease_until)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	sqlite3_stmt *st;
	bool owned;
	int rc;

	rc = l_begin(store, "", &tx);
	if (rc)
		return rc;
	st = stmt_get(s, ((ltx *)tx)->c, ST_LEASE, &owned);
	if (!st) {
		l_rollback(tx);
		return OSB_EBACKEND;
	}
	if (new_owner)
		sqlite3_bind_text(st, 1, new_owner, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, lease_until);
	sqlite3_bind_text(st, 3, op_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, owner, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		rc = sqlite3_changes(((ltx *)tx)->c->db) > 0 ? 0 : OSB_ENOTFOUND;
	} else {
		log_db(((ltx *)tx)->c->db, "renew");
		rc = map_rc(rc);
	}
	stmt_done(st, owned);
	if (rc) {
		l_rollback(tx);
		return rc;
	}
	return l_commit(tx);
}

static int l_usage_append(osb_store_tx *base, const osb_usage_event *ev)
{
	ltx *tx = (ltx *)base;
	lstore *s = (lstore *)base->store;
	const osb_store_table *t = &osb_store_usage_events;
	bool owned;
	sqlite3_stmt *st = stmt_get(s, tx->c, ST_USAGE_APPEND, &owned);
	int rc = SQLITE_OK;

	if (!st) {
		base->failed = 1;
		return OSB_EBACKEND;
	}
	/* Every column but seq (cols[0]): SQLite's AUTOINCREMENT gives it, and one writer at a time commits. */
	for (size_t i = 1; i < t->ncols && rc == SQLITE_OK; i++) {
		const osb_store_col *col = &t->cols[i];
		const void *f = OSB_STORE_FIELD(ev, col);
		if (col->type == OSB_COL_TEXT) {
			const char *v = *(char *const *)f;
			rc = v ? sqlite3_bind_text(st, (int)i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, (int)i);
		} else {
			rc = sqlite3_bind_int64(st, (int)i, *(const int64_t *)f);
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		log_db(tx->c->db, "usage append");
		rc = OSB_EBACKEND;
		base->failed = 1;
	}
	stmt_done(st, owned);
	return rc;
}

static int l_usage_list(osb_store *store, int64_t after, int limit, osb_store_row_cb cb, void *payload)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	osb_usage_event ev;
	sqlite3_stmt *st;
	bool owned;
	int rc = l_begin(store, NULL, &tx);

	if (rc)
		return rc;
	st = stmt_get(s, ((ltx *)tx)->c, ST_USAGE_LIST, &owned);
	if (!st) {
		l_rollback(tx);
		return OSB_EBACKEND;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	for (;;) {
		int step = sqlite3_step(st), stop;
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			log_db(((ltx *)tx)->c->db, "usage list");
			rc = map_rc(step);
			break;
		}
		memset(&ev, 0, sizeof(ev));
		rc = read_row(st, &osb_store_usage_events, &ev);
		stop = rc ? 1 : cb(&ev, payload);
		osb_store_rec_clear(&osb_store_usage_events, &ev);
		if (stop)
			break;
	}
	stmt_done(st, owned);
	l_rollback(tx);
	return rc;
}

static int l_plan_counts(osb_store *store, osb_plan_count_cb cb, void *payload)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	sqlite3_stmt *st;
	bool owned;
	int rc = l_begin(store, NULL, &tx);

	if (rc)
		return rc;
	st = stmt_get(s, ((ltx *)tx)->c, ST_PLAN_COUNTS, &owned);
	if (!st) {
		l_rollback(tx);
		return OSB_EBACKEND;
	}
	for (;;) {
		int step = sqlite3_step(st);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			log_db(((ltx *)tx)->c->db, "plan counts");
			rc = map_rc(step);
			break;
		}
		const unsigned char *plan = sqlite3_column_text(st, 0);
		if (plan && cb((const char *)plan, (long)sqlite3_column_int64(st, 1), payload))
			break;
	}
	stmt_done(st, owned);
	l_rollback(tx);
	return rc;
}

static int l_counts(osb_store *store, osb_store_counts *out)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	sqlite3_stmt *st;
	bool owned;
	int rc = l_begin(store, NULL, &tx);

	if (rc)
		return rc;
	st = stmt_get(s, ((ltx *)tx)->c, ST_COUNTS, &owned);
	if (!st) {
		l_rollback(tx);
		return OSB_EBACKEND;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->instances = (long)sqlite3_column_int64(st, 0);
		out->bindings = (long)sqlite3_column_int64(st, 1);
		out->ops_in_progress = (long)sqlite3_column_int64(st, 2);
		out->ops_succeeded = (long)sqlite3_column_int64(st, 3);
		out->ops_failed = (long)sqlite3_column_int64(st, 4);
		rc = 0;
	} else {
		log_db(((ltx *)tx)->c->db, "counts");
		rc = map_rc(rc);
	}
	stmt_done(st, owned);
	l_rollback(tx);
	return rc;
}

static int l_count_live(osb_store_tx *base, const char *plan_id, long *out)
{
	sqlite3 *db = ((ltx *)base)->c->db;
	sqlite3_stmt *st = NULL;
	/* The shared text uses PostgreSQL's $1::text; SQLite reads ?1 the same way without the casts. */
	int rc = sqlite3_prepare_v2(
		db, "SELECT count(*) FROM osb_instances WHERE state IN (1, 2, 4) AND (?1 IS NULL OR plan_id = ?1)", -1,
		&st, NULL);

	if (rc == SQLITE_OK)
		rc = plan_id ? sqlite3_bind_text(st, 1, plan_id, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (long)sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		log_db(db, "count");
		rc = map_rc(rc);
		base->failed = 1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int l_lock(osb_store_tx *base, const char *key)
{
	(void)base;
	(void)key; /* BEGIN IMMEDIATE made this the only writer already */
	return 0;
}

static int l_size(osb_store *store, int64_t *bytes)
{
	lstore *s = (lstore *)store;
	struct stat sb;
	size_t len = strlen(s->path);
	char *wal = malloc(len + 5);

	if (!wal)
		return OSB_ENOMEM;
	if (stat(s->path, &sb) != 0) {
		osb_log(OSB_LOG_ERROR, "store.error", "sqlite: cannot stat the database file: %s", strerror(errno));
		free(wal);
		return OSB_EBACKEND;
	}
	*bytes = (int64_t)sb.st_size;
	memcpy(wal, s->path, len);
	memcpy(wal + len, "-wal", 5);
	if (stat(wal, &sb) == 0)
		*bytes += (int64_t)sb.st_size;
	free(wal);
	return 0;
}

static int l_ping(osb_store *store, char *msg, size_t msg_size)
{
	lstore *s = (lstore *)store;
	osb_store_tx *tx = NULL;
	int rc = l_begin(store, NULL, &tx);

	if (!rc) {
		rc = run(s, ((ltx *)tx)->c, ST_VERSION);
		if (rc && msg && msg_size)
			snprintf(msg, msg_size, "sqlite: %s", sqlite3_errmsg(((ltx *)tx)->c->db));
		l_rollback(tx);
	} else if (msg && msg_size) {
		snprintf(msg, msg_size, "sqlite: %s",
			 rc == OSB_ETIMEOUT ? "no connection free in time" : "cannot open the database");
	}
	return rc ? OSB_EBACKEND : 0;
}

static void l_close(osb_store *store)
{
	lstore *s = (lstore *)store;

	osb_store_pool_fini(&s->pool);
	for (int i = 0; i < ST_COUNT; i++)
		free(s->sql[i]);
	if (s->gate_ready) {
		pthread_cond_destroy(&s->gate_cv);
		pthread_mutex_destroy(&s->gate_mu);
	}
	free(s->path);
	memset(s->base.key, 0, sizeof(s->base.key));
	free(s);
}

static int build_sql(lstore *s)
{
	char *cols = osb_store_sql_columns(&osb_store_operations);
	size_t n;

	for (int i = 0; i < 3; i++) {
		s->sql[ST_GET + i] = osb_store_sql_select(tables[i], '?', "id");
		s->sql[ST_PUT + i] = osb_store_sql_put(tables[i], '?');
		s->sql[ST_ALL + i] = osb_store_sql_select(tables[i], '?', NULL);
	}
	s->sql[ST_BINDINGS_OF] = osb_store_sql_select(&osb_store_bindings, '?', "instance_id");
	if (cols) {
		static const char pre[] = "UPDATE osb_operations SET owner = ?1, lease_until = ?2"
					  " WHERE state = 1 AND (owner IS NULL OR lease_until < ?3) RETURNING ";
		n = sizeof(pre) + strlen(cols);
		s->sql[ST_CLAIM] = malloc(n);
		if (s->sql[ST_CLAIM])
			snprintf(s->sql[ST_CLAIM], n, "%s%s", pre, cols);
		free(cols);
	}
	s->sql[ST_LEASE] =
		strdup("UPDATE osb_operations SET owner = ?1, lease_until = ?2 WHERE id = ?3 AND owner = ?4");
	s->sql[ST_COUNTS] = strdup(osb_store_sql_counts);
	s->sql[ST_USAGE_APPEND] = osb_store_sql_usage_insert('?');
	s->sql[ST_USAGE_LIST] = osb_store_sql_usage_list('?');
	s->sql[ST_PLAN_COUNTS] = strdup(osb_store_sql_plan_counts);
	s->sql[ST_VERSION] = strdup("SELECT value FROM osb_meta WHERE key = 'schema_version'");
	s->sql[ST_BEGIN] = strdup("BEGIN");
	s->sql[ST_BEGIN_WRITE] = strdup("BEGIN IMMEDIATE");
	s->sql[ST_COMMIT] = strdup("COMMIT");
	s->sql[ST_ROLLBACK] = strdup("ROLLBACK");
	for (int i = 0; i < ST_COUNT; i++)
		if (!s->sql[i])
			return OSB_ENOMEM;
	return 0;
}

/* Create the schema or migrate it to OSB_STORE_SCHEMA_VERSION, in one write transaction. */
static int schema_init(lstore *s, lconn *c)
{
	sqlite3_stmt *st = NULL;
	int rc, version = 0;
	char *ddl = NULL;

	rc = run(s, c, ST_BEGIN_WRITE);
	if (rc) {
		log_db(c->db, "cannot lock the database to create the schema");
		return rc;
	}
	rc = exec_sql(c->db, osb_store_sql_meta);
	if (rc)
		goto done;
	if (sqlite3_prepare_v2(c->db, s->sql[ST_VERSION], -1, &st, NULL) != SQLITE_OK) {
		log_db(c->db, "schema version");
		rc = OSB_EBACKEND;
		goto done;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = atoi((const char *)sqlite3_column_text(st, 0));
	if (version > OSB_STORE_SCHEMA_VERSION) {
		osb_log(OSB_LOG_ERROR, "store.error", "sqlite: schema version %d is newer than this broker's %d",
			version, OSB_STORE_SCHEMA_VERSION);
		rc = OSB_EBACKEND;
		goto done;
	}
	if (version == OSB_STORE_SCHEMA_VERSION)
		goto done;
	/* Version 0 is an empty database: version 1's tables first, then each later version's steps. */
	for (int i = 0; version < 1 && i < 3 && !rc; i++) {
		ddl = osb_store_sql_create(tables[i], 0);
		rc = ddl ? exec_sql(c->db, ddl) : OSB_ENOMEM;
		free(ddl);
	}
	for (int i = 0; version < 1 && osb_store_sql_indexes[i] && !rc; i++)
		rc = exec_sql(c->db, osb_store_sql_indexes[i]);
	if (!rc && version < 2)
		rc = exec_sql(c->db, osb_store_sql_usage_create(0));
	for (int i = 0; version == 1 && osb_store_sql_usage_backfill[i] && !rc; i++)
		rc = exec_sql(c->db, osb_store_sql_usage_backfill[i]);
	if (!rc) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO osb_meta (key, value) VALUES ('schema_version', '%d')",
			 OSB_STORE_SCHEMA_VERSION);
		rc = exec_sql(c->db, sql);
	}
	if (!rc && version > 0)
		osb_log(OSB_LOG_INFO, "store.migrated", "sqlite: schema migrated from version %d to %d", version,
			OSB_STORE_SCHEMA_VERSION);
done:
	sqlite3_finalize(st);
	if (rc) {
		run(s, c, ST_ROLLBACK);
		return rc;
	}
	rc = run(s, c, ST_COMMIT);
	if (rc)
		run(s, c, ST_ROLLBACK);
	return rc;
}

static const osb_store_backend sqlite_backend = {
	.close = l_close,
	.ping = l_ping,
	.begin = l_begin,
	.commit = l_commit,
	.rollback = l_rollback,
	.get = l_get,
	.put = l_put,
	.list = l_list,
	.claim = l_claim,
	.lease = l_lease,
	.usage_append = l_usage_append,
	.usage_list = l_usage_list,
	.plan_counts = l_plan_counts,
	.counts = l_counts,
	.count_live = l_count_live,
	.lock = l_lock,
	.size = l_size,
};

int osb_store_sqlite_open(osb_store **out, const osb_store_options *options)
{
	lstore *s = calloc(1, sizeof(*s));
	lconn *c = NULL;
	int fd, rc;

	*out = NULL;
	if (!s)
		return OSB_ENOMEM;
	s->base.be = &sqlite_backend;
	s->base.busy_timeout_ms = options->busy_timeout_ms;
	s->base.pool_size = options->pool_size;
	s->path = strdup(options->path);
	if (!s->path || pthread_mutex_init(&s->gate_mu, NULL) != 0) {
		free(s->path);
		free(s);
		return OSB_ENOMEM;
	}
	if (osb_store_cond_init(&s->gate_cv) != 0) {
		pthread_mutex_destroy(&s->gate_mu);
		free(s->path);
		free(s);
		return OSB_ENOMEM;
	}
	s->gate_ready = true;
	rc = osb_store_pool_init(&s->pool, options->pool_size, conn_destroy);
	if (!rc)
		rc = build_sql(s);
	if (rc)
		goto done;
	/* Owner-only file; SQLite gives its -wal and -shm files the same mode. */
	fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		osb_log(OSB_LOG_ERROR, "store.error", "sqlite: cannot open %s: %s", s->path, strerror(errno));
		rc = OSB_EBACKEND;
		goto done;
	}
	close(fd);
	struct timespec deadline;
	osb_store_deadline(&deadline, options->busy_timeout_ms);
	rc = conn_take(s, &deadline, &c);
	if (!rc)
		rc = schema_init(s, c);
done:
	if (c)
		conn_give(s, c);
	if (rc) {
		l_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
