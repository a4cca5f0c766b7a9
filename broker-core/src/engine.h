/* Private: the operation engine. Runs driver callbacks for recorded operations,
 * inline (synchronous plans) or on a worker pool (asynchronous ones), completes
 * their records, keeps leases on them, and resumes or rolls back operations
 * that a crashed broker left unfinished. */
#ifndef OSB_ENGINE_H
#define OSB_ENGINE_H

#include "broker_internal.h"

typedef struct osb_engine osb_engine;

/** Outcome of running an operation inline. */
typedef struct {
	int code;          /* 0, or the osb_error_code it failed with */
	char *description; /* malloc'd failure text, or NULL */
} osb_op_outcome;

/**
 * Start the worker pool, the lease keeper and the resumer (which at once, and
 * every few seconds, claims unfinished operations nobody runs).
 * @return 0, OSB_ENOMEM or OSB_ERROR.
 */
int osb_engine_start(osb_engine **out, struct osb_broker *broker);

/** Stop taking work, let running callbacks finish, join the threads. NULL is fine. */
void osb_engine_stop(osb_engine *engine);

/**
 * Run a recorded operation now, on the calling thread (synchronous plans), and
 * complete its records. The operation must have been written with this
 * replica as owner.
 */
osb_op_outcome osb_engine_run_inline(osb_engine *engine, const char *op_id);

/** Queue a recorded asynchronous operation for the workers. @return 0 or OSB_ENOMEM. */
int osb_engine_submit(osb_engine *engine, const char *op_id);

/** Lease length in seconds that operation records are written with. */
#define OSB_LEASE_SECONDS 15

#endif
