/* Private: the state store. Instances, bindings and operations, in SQLite or PostgreSQL. */
#ifndef OSB_STORE_H
#define OSB_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct osb_store osb_store;
typedef struct osb_store_tx osb_store_tx;

/** Life of an instance or binding record. Stored as integers: never renumber. */
typedef enum {
	OSB_REC_CREATING = 1,      /* provision/bind running */
	OSB_REC_READY = 2,         /* created; usable */
	OSB_REC_CREATE_FAILED = 3, /* creation failed and was rolled back; a new PUT may retry */
	OSB_REC_DELETING = 4,      /* deprovision/unbind running */
	OSB_REC_DELETED = 5        /* tombstone: answers late polls with 410 */
} osb_record_state;

/** State of an operation. Stored as integers: never renumber. */
typedef enum { OSB_OPSTATE_IN_PROGRESS = 1, OSB_OPSTATE_SUCCEEDED = 2, OSB_OPSTATE_FAILED = 3 } osb_op_state;

/* Records. Every string is heap-allocated and owned by the record; NULL means absent.
 * JSON columns hold JSON text. Times are UNIX seconds (UTC). */

typedef struct {
	char *id;                  /* instance id (primary key) */
	char *service_id;          /* service offering id */
	char *plan_id;             /* current plan id */
	char *parameters;          /* JSON object: parameters as provisioned/updated */
	char *context;             /* JSON object: last context */
	char *maintenance_version; /* maintenance_info.version in effect */
	char *dashboard_url;       /* dashboard URL */
	char *driver_state;        /* JSON object the driver saved */
	char *metadata;            /* JSON object: ServiceInstanceMetadata (labels, attributes) */
	char *fingerprint;         /* digest of the creating request, for 200-vs-409 */
	int state;                 /* osb_record_state */
	char *op_id;               /* last operation's id */
	int64_t created_at;        /* creation time */
	int64_t updated_at;        /* last change */
} osb_instance_rec;

typedef struct {
	char *id;              /* binding id (primary key; globally unique) */
	char *instance_id;     /* its instance */
	char *service_id;      /* service offering id */
	char *plan_id;         /* plan id at bind time */
	char *parameters;      /* JSON object: bind parameters */
	char *bind_resource;   /* JSON object: bind_resource (app_guid, route...) */
	char *context;         /* JSON object: context */
	char *credentials;     /* JSON object: SECRET; encrypted at rest by the store */
	char *response_extras; /* JSON object: endpoints, volume_mounts, syslog_drain_url... */
	char *driver_state;    /* JSON object the driver saved */
	char *fingerprint;     /* digest of the creating request */
	char *predecessor_id;  /* binding this one rotated, or NULL */
	int state;             /* osb_record_state */
	char *op_id;           /* last operation's id */
	int64_t expires_at;    /* credentials expiry, 0 = never */
	int64_t renew_before;  /* renew-before time, 0 = none */
	int64_t created_at;    /* creation time */
	int64_t updated_at;    /* last change */
} osb_binding_rec;

typedef struct {
	char *id;              /* operation id, returned to the platform as `operation` */
	int kind;              /* osb_operation_kind (request.h) */
	char *instance_id;     /* instance it acts on */
	char *binding_id;      /* binding it acts on, NULL for instance operations */
	int state;             /* osb_op_state */
	int async;             /* 1 when the platform polls it (answered 202) */
	char *description;     /* progress or failure text for last_operation */
	char *request;         /* JSON object: all the core needs to run or resume it */
	int instance_usable;   /* after a failed update/deprovision: -1 unknown, 0, 1 */
	int update_repeatable; /* after a failed update: -1 unknown, 0, 1 */
	char *owner;           /* replica that runs it (NULL when nobody does) */
	int64_t lease_until;   /* the owner's claim ends then unless renewed */
	int64_t deadline_at;   /* fail it when still running then (maximum_polling_duration) */
	int64_t created_at;    /* creation time */
	int64_t updated_at;    /* last change */
} osb_operation_rec;

/*
 * A usage record: one change billed by plan and time. Appended in the same
 * transaction as the change it records, never updated, never deleted.
 */
typedef struct {
	int64_t seq;                /* position in the log, set by the store: increases in commit order */
	char *kind;                 /* "instance_created", "instance_plan_changed", "instance_deleted",
				       "binding_created" or "binding_deleted" */
	char *instance_id;          /* the instance */
	char *binding_id;           /* the binding (binding events), else NULL */
	char *service_id;           /* service offering id */
	char *plan_id;              /* plan in effect after the change (for deletions: the plan it had) */
	char *plan_name;            /* that plan's name in the catalog then, or NULL */
	char *previous_plan_id;     /* plan changes: the plan before, else NULL */
	char *previous_plan_name;   /* its name, or NULL */
	char *context;              /* JSON object: the platform's context (organization and space, or namespace) */
	char *originating_identity; /* "<platform> <JSON object>" as the platform sent it, or NULL */
	char *operation_id;         /* operation that made the change; NULL for events rebuilt at an upgrade */
	int64_t occurred_at;        /* when the change was recorded (UNIX seconds) */
} osb_usage_event;

typedef enum { OSB_STORE_SQLITE = 1, OSB_STORE_POSTGRESQL = 2 } osb_store_type;

typedef struct {
	osb_store_type type;   /* back end */
	const char *path;      /* SQLite: database file */
	const char *url;       /* PostgreSQL: libpq connection string or URI */
	unsigned char key[32]; /* AES-256-GCM key for credentials at rest */
	int pool_size;         /* connections kept open, default 8 */
	int busy_timeout_ms;   /* how long to wait for a lock, default 5000 */
} osb_store_options;

/**
 * Open the store, creating its schema when missing (and migrating older ones).
 * @param[out] out  caller closes with osb_store_close().
 * @return 0, OSB_EBACKEND (cannot open or connect; message logged) or OSB_ENOMEM.
 */
int osb_store_open(osb_store **out, const osb_store_options *options);

/** Close every connection and free the store; NULL is fine. */
void osb_store_close(osb_store *store);

/** Check the store answers. @return 0 or OSB_EBACKEND with a reason in msg. */
int osb_store_ping(osb_store *store, char *msg, size_t msg_size);

/**
 * Start a transaction. With `lock_id` non-NULL it is a write transaction that
 * holds an exclusive lock on that instance id until commit or rollback, across
 * threads and across broker replicas (SQLite: BEGIN IMMEDIATE; PostgreSQL:
 * pg_advisory_xact_lock on a hash of the id). With NULL it is a read
 * transaction. Transactions are short: never call a driver inside one.
 * @param[out] out  finish with osb_store_commit() or osb_store_rollback().
 * @return 0, OSB_EBACKEND or OSB_ETIMEOUT (lock not obtained in busy_timeout_ms).
 */
int osb_store_begin(osb_store *store, const char *lock_id, osb_store_tx **out);

/** Commit and free the transaction. @return 0 or OSB_EBACKEND (then rolled back). */
int osb_store_commit(osb_store_tx *tx);

/** Roll back and free the transaction; NULL is fine. */
void osb_store_rollback(osb_store_tx *tx);

/* Get: @return 0, OSB_ENOTFOUND or OSB_EBACKEND. [out] caller frees with *_free(). */
int osb_store_instance_get(osb_store_tx *tx, const char *id, osb_instance_rec **out);
int osb_store_binding_get(osb_store_tx *tx, const char *id, osb_binding_rec **out);
int osb_store_operation_get(osb_store_tx *tx, const char *id, osb_operation_rec **out);

/* Put: insert or replace the whole record (updated_at is set by the caller). @return 0 or OSB_EBACKEND. */
int osb_store_instance_put(osb_store_tx *tx, const osb_instance_rec *rec);
int osb_store_binding_put(osb_store_tx *tx, const osb_binding_rec *rec);
int osb_store_operation_put(osb_store_tx *tx, const osb_operation_rec *rec);

/** Callback for lists; the record is borrowed for the call. Return non-zero to stop. */
typedef int (*osb_instance_cb)(const osb_instance_rec *rec, void *payload);
typedef int (*osb_binding_cb)(const osb_binding_rec *rec, void *payload);
typedef int (*osb_operation_cb)(const osb_operation_rec *rec, void *payload);

/** Every binding of an instance, tombstones included. @return 0 or OSB_EBACKEND. */
int osb_store_binding_list(osb_store_tx *tx, const char *instance_id, osb_binding_cb cb, void *payload);

/** Every instance (NULL tx: own read transaction), for the reconciler. @return 0 or OSB_EBACKEND. */
int osb_store_instance_list_all(osb_store *store, osb_instance_cb cb, void *payload);

/** Every binding of every instance, for the reconciler. @return 0 or OSB_EBACKEND. */
int osb_store_binding_list_all(osb_store *store, osb_binding_cb cb, void *payload);

/**
 * Claim in-progress operations nobody runs: owner NULL or lease_until < now.
 * Each claimed operation gets owner = `owner` and lease_until = now + lease_s,
 * atomically (two replicas never claim the same one), then is passed to cb.
 * @return 0 or OSB_EBACKEND.
 */
int osb_store_operation_claim(osb_store *store, const char *owner, int lease_s, osb_operation_cb cb, void *payload);

/** Renew the lease of an operation this owner runs. @return 0, OSB_ENOTFOUND (lost it) or OSB_EBACKEND. */
int osb_store_operation_renew(osb_store *store, const char *op_id, const char *owner, int lease_s);

/**
 * Append a usage record in a write transaction; `seq` is ignored and assigned
 * by the store. The append takes a lock (osb_store_lock "osb:usage-log") that
 * serializes every transaction appending records until it ends, so that `seq`
 * order is commit order: append last, just before committing.
 * @return 0 or OSB_EBACKEND (OSB_ETIMEOUT when that lock is not obtained in time).
 */
int osb_store_usage_append(osb_store_tx *tx, const osb_usage_event *ev);

/** Callback of usage lists; the record is borrowed for the call. Return non-zero to stop. */
typedef int (*osb_usage_cb)(const osb_usage_event *ev, void *payload);

/**
 * Usage records with seq > `after`, in seq order, at most `limit` of them
 * (own read transaction). A record committed later never gets a seq lower
 * than one already visible, so a reader that resumes after the last seq it
 * saw misses nothing.
 * @return 0 or OSB_EBACKEND.
 */
int osb_store_usage_list(osb_store *store, int64_t after, int limit, osb_usage_cb cb, void *payload);

/** Callback of osb_store_plan_counts: live instances of one plan. Return non-zero to stop. */
typedef int (*osb_plan_count_cb)(const char *plan_id, long instances, void *payload);

/**
 * Instances that exist per plan (READY or DELETING: created and not yet
 * deleted, as the usage records count them). Plans without any are not listed.
 * @return 0 or OSB_EBACKEND.
 */
int osb_store_plan_counts(osb_store *store, osb_plan_count_cb cb, void *payload);

/** Counts for /metrics. */
typedef struct {
	long instances;       /* records in READY or CREATING/DELETING */
	long bindings;        /* same for bindings */
	long ops_in_progress; /* operations by state */
	long ops_succeeded;
	long ops_failed;
} osb_store_counts;

/** @return 0 or OSB_EBACKEND. */
int osb_store_counts_get(osb_store *store, osb_store_counts *out);

/**
 * Live instances (creating, ready or deleting) of one plan, or of all plans
 * when plan_id is NULL, as this transaction sees them (quotas).
 * @return 0 or OSB_EBACKEND.
 */
int osb_store_instance_count(osb_store_tx *tx, const char *plan_id, long *out);

/**
 * Hold one more lock, on `key`, until the write transaction ends: other
 * writers that take it wait (across replicas). SQLite's single writer already
 * serializes every write transaction, so there it costs nothing.
 * @return 0, OSB_EBACKEND or OSB_ETIMEOUT.
 */
int osb_store_lock(osb_store_tx *tx, const char *key);

/** Size of the store on disk in bytes (SQLite file + WAL; PostgreSQL: its tables). @return 0 or OSB_EBACKEND. */
int osb_store_size(osb_store *store, int64_t *bytes);

void osb_instance_rec_free(osb_instance_rec *rec);
void osb_binding_rec_free(osb_binding_rec *rec);
void osb_operation_rec_free(osb_operation_rec *rec);

#endif
