/**
 * @file request.h  What a driver callback reads from, and writes to, the request it serves.
 *
 * A request is one operation on one instance or binding: provision, update,
 * deprovision, bind or unbind. The core owns it; drivers read its inputs and set
 * its results through these functions, and never free anything they get from it.
 */
#ifndef OSB_REQUEST_H
#define OSB_REQUEST_H

#include <stdarg.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "common.h"
#include "errors.h"
#include "names.h"
#include "target.h"

/** One operation the core asks a driver to carry out. Opaque. */
typedef struct osb_request osb_request;

/** The kinds of operation. Values are stored in the state store: never renumber. */
typedef enum {
	OSB_OP_PROVISION = 1,
	OSB_OP_UPDATE = 2,
	OSB_OP_DEPROVISION = 3,
	OSB_OP_BIND = 4,
	OSB_OP_UNBIND = 5
} osb_operation_kind;

/**
 * The server this operation acts on: the shared server of the config, or the
 * instance's dedicated server (started by the core when it was not running).
 * @return the target (never NULL in a callback). Owned by the request.
 */
OSB_EXTERN(const osb_target *) osb_request_target(const osb_request *req);

/**
 * The instance's name on the server: osb_name_instance() of its id.
 * @return OSB_NAME_SIZE - 1 characters. Owned by the request.
 */
OSB_EXTERN(const char *) osb_request_instance_name(const osb_request *req);

/** @return the binding's name on the server (osb_name_binding() of its id), or NULL for instance operations. */
OSB_EXTERN(const char *) osb_request_binding_name(const osb_request *req);

/**
 * The request's error buffer: helpers deep in a driver record why they failed
 * here and return the code; a callback that returns that code needs nothing
 * else, the core makes the OSB description of it. osb_req_fail() fills it too.
 * @return the buffer. Owned by the request.
 */
OSB_EXTERN(osb_errbuf *) osb_request_errbuf(osb_request *req);

/**
 * Add a short detail to the line the core logs when the callback ends, such
 * as "database osb_... ready (utf8mb4)". Never a secret. Cut to 256 bytes.
 */
OSB_EXTERN(void) osb_request_note(osb_request *req, const char *fmt, ...) OSB_PRINTF(2, 3);

/** @return the kind of operation this request asks for. */
OSB_EXTERN(osb_operation_kind) osb_request_operation(const osb_request *req);

/** @return the instance id (never NULL). Owned by the request. */
OSB_EXTERN(const char *) osb_request_instance_id(const osb_request *req);

/** @return the binding id, or NULL for instance operations. Owned by the request. */
OSB_EXTERN(const char *) osb_request_binding_id(const osb_request *req);

/** @return the service offering id (never NULL). Owned by the request. */
OSB_EXTERN(const char *) osb_request_service_id(const osb_request *req);

/**
 * The plan the operation targets: the new plan for an update that changes it,
 * the instance's plan otherwise.
 * @return the plan id (never NULL). Owned by the request.
 */
OSB_EXTERN(const char *) osb_request_plan_id(const osb_request *req);

/** @return the plan before an update that changes it, else the same as the plan id. */
OSB_EXTERN(const char *) osb_request_previous_plan_id(const osb_request *req);

/**
 * The plan's private settings: the `x-osb` object of the plan in the catalog
 * file (stripped from the catalog that platforms see).
 * @return an object (empty when the plan has none). Owned by the request.
 */
OSB_EXTERN(const cJSON *) osb_request_plan_settings(const osb_request *req);

/**
 * One setting of the plan as an integer.
 * @return the value, or `fallback` when absent or not a number.
 */
OSB_EXTERN(long long) osb_request_plan_int(const osb_request *req, const char *key, long long fallback);

/**
 * The request's `parameters`, validated against the plan's schema and with the
 * schema's defaults filled in. For bind and unbind, see also
 * osb_request_instance_parameters(). For an update without `parameters`, the
 * instance's current parameters.
 * @return an object (empty when none were given). Owned by the request.
 */
OSB_EXTERN(const cJSON *) osb_request_parameters(const osb_request *req);

/** @return the instance's parameters as last provisioned or updated. Owned by the request. */
OSB_EXTERN(const cJSON *) osb_request_instance_parameters(const osb_request *req);

/** @return the request's `context` object, or NULL. Owned by the request. */
OSB_EXTERN(const cJSON *) osb_request_context(const osb_request *req);

/** @return `bind_resource.app_guid` (or the deprecated `app_guid`) of a bind, or NULL. */
OSB_EXTERN(const char *) osb_request_app_guid(const osb_request *req);

/** @return the binding this bind rotates (2.17 `predecessor_binding_id`), or NULL. */
OSB_EXTERN(const char *) osb_request_predecessor_binding_id(const osb_request *req);

/**
 * The platform and decoded JSON of X-Broker-API-Originating-Identity, as
 * "cloudfoundry {\"user_id\":...}", for audit logs.
 * @return the string, or NULL when the header was absent. Owned by the request.
 */
OSB_EXTERN(const char *) osb_request_originating_identity(const osb_request *req);

/**
 * The state the driver saved for the instance (osb_request_set_instance_state()
 * of an earlier operation).
 * @return an object, or NULL when none was saved. Owned by the request.
 */
OSB_EXTERN(const cJSON *) osb_request_instance_state(const osb_request *req);

/** @return the state saved for the binding, or NULL. Owned by the request. */
OSB_EXTERN(const cJSON *) osb_request_binding_state(const osb_request *req);

/**
 * When the binding's credentials expire, from the plan's `credential_ttl`
 * setting (seconds). Drivers that can, make the server enforce it too.
 * @return a UTC time, or 0 when the credentials do not expire.
 */
OSB_EXTERN(time_t) osb_request_expires_at(const osb_request *req);

/**
 * Milliseconds left before the core's deadline for this callback. Drivers use it
 * for connect and statement timeouts so that no callback blocks past it.
 * @return at least 1.
 */
OSB_EXTERN(int) osb_request_timeout_ms(const osb_request *req);

/**
 * Whether this call repeats an operation that was interrupted (broker restart,
 * retry after an outage). Callbacks are idempotent anyway; this is for logs.
 */
OSB_EXTERN(int) osb_request_is_retry(const osb_request *req);

/** Allocate from the request's arena, released after the response. @return NULL on OOM. */
OSB_EXTERN(void *) osb_req_alloc(osb_request *req, size_t size);

/** Copy a string into the request's arena. @return the copy, or NULL on OOM. */
OSB_EXTERN(char *) osb_req_strdup(osb_request *req, const char *s);

/** Format into the request's arena. @return the string, or NULL on OOM. */
OSB_EXTERN(char *) osb_req_sprintf(osb_request *req, const char *fmt, ...) OSB_PRINTF(2, 3);

/**
 * Record why the operation failed (in the request's error buffer) and return
 * the code, so that a callback can
 * `return osb_req_fail(req, OSB_EBACKEND, "cannot reach %s", host);`.
 * The description reaches the platform's user: never put a credential in it.
 * It is made one line, as osb_errbuf_set() does.
 * @return `code`.
 */
OSB_EXTERN(int) osb_req_fail(osb_request *req, int code, const char *fmt, ...) OSB_PRINTF(3, 4);

/**
 * Save driver state with the instance (provision, update) or the binding (bind):
 * names made on the server, ports, anything later callbacks need to undo it.
 * Takes ownership of `state`, even on failure. Never put secrets here: use
 * osb_request_set_credentials(), which is encrypted at rest.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_request_set_instance_state(osb_request *req, cJSON *state);
OSB_EXTERN(int) osb_request_set_binding_state(osb_request *req, cJSON *state);

/**
 * Add one key to the instance's or the binding's state (what later callbacks need: the
 * server-side name, a mode), keeping the keys saved before. An out-of-memory is recorded in
 * the error buffer.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_request_save_instance_str(osb_request *req, const char *key, const char *value);
OSB_EXTERN(int) osb_request_save_binding_str(osb_request *req, const char *key, const char *value);
OSB_EXTERN(int) osb_request_save_binding_bool(osb_request *req, const char *key, int value);

/**
 * Set the binding's credentials object. Takes ownership of `credentials`, even
 * on failure. The core stores them encrypted and never logs them.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_request_set_credentials(osb_request *req, cJSON *credentials);

/** Set the instance's dashboard URL (copied). @return 0 or OSB_ENOMEM. */
OSB_EXTERN(int) osb_request_set_dashboard_url(osb_request *req, const char *url);

/**
 * Add a network endpoint of the binding (copied).
 * @param ports  one port or a range, such as "5432" or "9000-9010".
 * @param protocol  "tcp", "udp", "all", or NULL for tcp.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_request_add_endpoint(osb_request *req, const char *host, const char *ports, const char *protocol);

/**
 * Set the binding's `volume_mounts` array (volume services). Takes ownership.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_request_set_volume_mounts(osb_request *req, cJSON *volume_mounts);

/** Set a progress text for last_operation while an asynchronous operation runs (copied). */
OSB_EXTERN(void) osb_request_set_progress(osb_request *req, const char *description);

#endif
