/* Private: pieces the instance and binding handlers share. */
#ifndef OSB_API_COMMON_H
#define OSB_API_COMMON_H

#include <cjson/cJSON.h>

#include "engine.h"
#include "http.h"
#include "store.h"

/** Size of an operation id with its NUL: 32 hex digits. */
#define OSB_OP_ID_SIZE 33

/** A fresh random operation id. */
void osb_api_new_op_id(char out[OSB_OP_ID_SIZE]);

/** SHA-256 hex of the canonical form (object keys sorted) of `attrs`: the 200-or-409 test. */
int osb_api_fingerprint(char out[65], const cJSON *attrs);

/**
 * Read an optional (required = 0) or required string member that must be
 * non-empty when present. Answers 400 on error.
 * @return 0, or -1 after answering.
 */
int osb_api_string(osb_http *h, const cJSON *body, const char *key, int required, const char **out);

/** Read an optional member that must be an object when present (null counts as absent). Answers 400 on error. */
int osb_api_object(osb_http *h, const cJSON *body, const char *key, const cJSON **out);

/** Read a required, non-empty query parameter (service_id, plan_id of DELETE). Answers 400 on error. */
int osb_api_required_query(osb_http *h, const char *name, char *out, size_t size);

/** Read an optional query hint that must be non-empty when present. Answers 400 on error. @return 0/1 present, -1 */
int osb_api_optional_query(osb_http *h, const char *name, char *out, size_t size);

/**
 * Read last_operation's `operation` query parameter into out (OSB_OP_ID_SIZE or more).
 * @return 0 when absent, 1 when present, 2 when present but longer than any id this broker
 * makes (so certainly unknown), or -1 after answering 400 (empty, or not valid).
 */
int osb_api_operation_query(osb_http *h, char *out, size_t size);

/** Answer 503 when the store cannot be reached (or 503 for a lock timeout). */
void osb_api_store_failed(osb_http *h, int code);

/**
 * A new in-progress operation record owned by this replica.
 * `request` is the saved request (not owned; copied as text).
 */
osb_operation_rec *osb_api_new_operation(osb_http *h, int kind, const char *instance_id, const char *binding_id,
					 int async, long deadline_s, const cJSON *request, const char *op_id);

/** The deadline (seconds from now) for an operation of this plan. */
long osb_api_deadline(osb_http *h, const osb_plan *plan, int async);

/** The saved request every operation starts from (request id, originating identity); callers add the rest. */
cJSON *osb_api_saved_request(osb_http *h);

/** Sends the answer of an operation that succeeded inline. */
typedef void (*osb_api_success_fn)(osb_http *h);

/**
 * Start an operation whose records are committed: when `async`, queue it and
 * answer 202 (with `dashboard_url` when known); otherwise run it now and answer
 * its failure, or let `on_success` answer (NULL answers 200 {}).
 */
void osb_api_start_operation(osb_http *h, const char *op_id, int kind, int async, const char *dashboard_url,
			     osb_api_success_fn on_success);

/**
 * Answer a re-sent request whose operation (`op_id`, of `kind`) is still running, perhaps resumed
 * after its broker was killed. The spec wants 202 with that operation when the client accepts
 * incomplete answers (`incomplete`); otherwise the request waits for it, up to the synchronous
 * deadline (timeouts.sync_s from the request's arrival), and gets how it ended: `on_success`
 * answers a success (NULL answers 200 {}), a failure gets its description, and an operation still
 * running then gets 422 ConcurrencyError. Call it with no store transaction open.
 */
void osb_api_answer_resent(osb_http *h, const char *op_id, int kind, int incomplete, const char *dashboard_url,
			   osb_api_success_fn on_success);

/** Answer 202 {"operation": id} (and the dashboard_url when known). */
void osb_api_send_accepted(osb_http *h, const char *op_id, const char *dashboard_url);

/** Answer the failure of an inline operation with its status and description. */
void osb_api_send_outcome_error(osb_http *h, const osb_op_outcome *outcome, int kind);

/** Answer a last_operation request from an operation record. */
void osb_api_send_operation_state(osb_http *h, const osb_operation_rec *op);

/** Check `parameters` against a compiled schema, applying defaults. Answers 400 on error. */
int osb_api_validate_parameters(osb_http *h, const osb_schema *schema, cJSON *params);

/** Parse JSON text of a record into an item added to `obj` under `key` (skipped when NULL or bad). */
void osb_api_add_json(cJSON *obj, const char *key, const char *json_text);

/** "yyyy-mm-ddThh:mm:ss.0Z" for a UTC time. */
void osb_api_format_time(char out[32], int64_t t);

#endif
