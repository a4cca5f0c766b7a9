/* Private to the store: back-end vtable, record column tables, connection pool, shared SQL text. */
#ifndef OSB_STORE_INTERNAL_H
#define OSB_STORE_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "store.h"

/* Current schema version, kept in osb_meta under key "schema_version". */
#define OSB_STORE_SCHEMA_VERSION 2

typedef enum {
	OSB_COL_TEXT = 1, /* char *, NULL <-> SQL NULL */
	OSB_COL_INT = 2,  /* int */
	OSB_COL_I64 = 3   /* int64_t */
} osb_store_col_type;

typedef struct {
	const char *name;
	osb_store_col_type type;
	size_t offset;
} osb_store_col;

/* A record type as a table: cols[0] is the primary key "id" (TEXT). */
typedef struct {
	const char *name;
	const osb_store_col *cols;
	size_t ncols;
	size_t rec_size;
} osb_store_table;

extern const osb_store_table osb_store_instances;
extern const osb_store_table osb_store_bindings;
extern const osb_store_table osb_store_operations;
/* Usage records: cols[0] is "seq" (I64), assigned by the database, never written. */
extern const osb_store_table osb_store_usage_events;

/* Row callback of a back end's list: the record is borrowed; non-zero stops. */
typedef int (*osb_store_row_cb)(const void *rec, void *payload);

/*
 * What a back end implements. Back ends never see plaintext credentials: the
 * column arrives sealed in put and leaves sealed from get/list; store.c seals
 * and opens it.
 */
typedef struct {
	void (*close)(osb_store *store);
	int (*ping)(osb_store *store, char *msg, size_t msg_size);
	int (*begin)(osb_store *store, const char *lock_id, osb_store_tx **out);
	int (*commit)(osb_store_tx *tx);
	void (*rollback)(osb_store_tx *tx);
	/* Fill the zeroed record `rec` of table t. */
	int (*get)(osb_store_tx *tx, const osb_store_table *t, const char *id, void *rec);
	int (*put)(osb_store_tx *tx, const osb_store_table *t, const void *rec);
	/* Rows of t; with instance_id non-NULL only those whose instance_id matches. */
	int (*list)(osb_store_tx *tx, const osb_store_table *t, const char *instance_id, osb_store_row_cb cb,
		    void *payload);
	/* Claim, commit, then hand back the claimed records (caller frees them and the array). */
	int (*claim)(osb_store *store, const char *owner, int64_t now, int64_t lease_until, osb_operation_rec ***out,
		     size_t *n);
	/* Set owner/lease_until of op_id when it is owned by `owner`; OSB_ENOTFOUND otherwise. */
	int (*lease)(osb_store *store, const char *op_id, const char *owner, const char *new_owner,
		     int64_t lease_until);
	/* Insert a usage record (every column but seq) in a write transaction. */
	int (*usage_append)(osb_store_tx *tx, const osb_usage_event *ev);
	/* Usage records with seq > after, in seq order, at most limit, each to cb. */
	int (*usage_list)(osb_store *store, int64_t after, int limit, osb_store_row_cb cb, void *payload);
	int (*plan_counts)(osb_store *store, osb_plan_count_cb cb, void *payload);
	int (*counts)(osb_store *store, osb_store_counts *out);
	/* Live instances (creating, ready, deleting) of plan_id, or of every plan when NULL. */
	int (*count_live)(osb_store_tx *tx, const char *plan_id, long *out);
	/* One more lock on `key` until the write transaction ends (across replicas). */
	int (*lock)(osb_store_tx *tx, const char *key);
	int (*size)(osb_store *store, int64_t *bytes);
} osb_store_backend;

/* The first member of every back end's store. */
struct osb_store {
	const osb_store_backend *be;
	unsigned char key[32];
	int pool_size;
	int busy_timeout_ms;
};

/* The first member of every back end's transaction. */
struct osb_store_tx {
	osb_store *store;
	int write;  /* holds the write lock */
	int failed; /* a statement failed: commit must roll back */
};

/* Back-end constructors; options are complete (defaults applied). */
int osb_store_sqlite_open(osb_store **out, const osb_store_options *options);
int osb_store_pg_open(osb_store **out, const osb_store_options *options);

/* Free the TEXT columns of a record (credentials wiped first) but not the record. */
void osb_store_rec_clear(const osb_store_table *t, void *rec);

/* Address of column c in record rec. */
#define OSB_STORE_FIELD(rec, c) ((void *)((char *)(rec) + (c)->offset))

/* --- Connection pool: at most `size` connections, idle ones kept for reuse. --- */
typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void **idle;
	int nidle;
	int total; /* connections that exist or are being opened */
	int size;
	void (*destroy)(void *conn);
} osb_store_pool;

int osb_store_pool_init(osb_store_pool *pool, int size, void (*destroy)(void *conn));
/* Destroy idle connections; every taken connection must have been given back. */
void osb_store_pool_fini(osb_store_pool *pool);
/*
 * Take a connection: *conn is an idle one, or NULL when a slot was reserved and
 * the caller must open a new connection (or give NULL back if it cannot).
 * @return 0 or OSB_ETIMEOUT (deadline passed with every connection in use).
 */
int osb_store_pool_take(osb_store_pool *pool, const struct timespec *deadline, void **conn);
/* Give a connection back; NULL (or a broken one the caller destroyed) frees its slot. */
void osb_store_pool_give(osb_store_pool *pool, void *conn);

/* Deadline `ms` from now on CLOCK_MONOTONIC, and condition variables that use that clock. */
void osb_store_deadline(struct timespec *ts, int ms);
int osb_store_ms_left(const struct timespec *deadline);
int osb_store_cond_init(pthread_cond_t *cv);

/* --- SQL text shared by both back ends; `ph` is the placeholder: '?' (SQLite ?N) or '$'. --- */
char *osb_store_sql_create(const osb_store_table *t, int pg);
/* SELECT every column; where_col NULL: whole table, else WHERE where_col = <1>. */
char *osb_store_sql_select(const osb_store_table *t, char ph, const char *where_col);
/* Insert or replace the whole row (upsert on id). */
char *osb_store_sql_put(const osb_store_table *t, char ph);
/* Comma-separated column list. */
char *osb_store_sql_columns(const osb_store_table *t);
/* count(*) of live instances, of the plan in parameter 1 or of all when it is NULL. */
extern const char osb_store_sql_count_live[];
/* One row of five counts, in the order of osb_store_counts. */
extern const char osb_store_sql_counts[];
/* The meta table (key "schema_version" holds the version as decimal text). */
extern const char osb_store_sql_meta[];
/* CREATE INDEX IF NOT EXISTS statements, NULL-terminated. */
extern const char *const osb_store_sql_indexes[];
/* Schema version 2: the usage log. `pg` picks the back end's auto-increment column. */
const char *osb_store_sql_usage_create(int pg);
/* INSERT of every usage column but seq, with placeholders 1..ncols-1. */
char *osb_store_sql_usage_insert(char ph);
/* SELECT every usage column WHERE seq > <1> ORDER BY seq LIMIT <2>. */
char *osb_store_sql_usage_list(char ph);
/* Live instances per plan: rows of (plan_id, count). */
extern const char osb_store_sql_plan_counts[];
/* Usage records for what existed before the log did (the upgrade from version 1), NULL-terminated. */
extern const char *const osb_store_sql_usage_backfill[];

#endif
