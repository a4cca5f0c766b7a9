/**
 * @file driver.h  The contract between the core and a middleware driver.
 *
 * A driver is one `static const struct osb_driver` that knows how to make and
 * remove tenants on one kind of server. The core does everything the OSB
 * protocol asks (HTTP, auth, validation, state, operations) and calls the
 * driver only to act on the server. See docs/writing-a-broker.md.
 *
 * Deprovision: before the driver's deprovision runs, the core unbinds every
 * live binding of the instance through the driver's unbind, so deprovision
 * only has to remove the instance's own tenant (and may still sweep leftovers).
 *
 * Rules for every callback:
 *  - Idempotent: "create if missing", "drop if present". The core repeats a
 *    callback after a crash or an outage, and calls deprovision/unbind to roll
 *    back a provision/bind that failed half way.
 *  - Names made on the server come from the ids through osb_name_instance() and
 *    osb_name_binding() (names.h), never from request text, so a callback can
 *    find what an earlier, interrupted call made even without saved state.
 *  - Never block past osb_request_timeout_ms().
 *  - Return 0, or the error code from osb_req_fail().
 *  - Several callbacks run at once on different threads (never two on the same
 *    instance), so driver state must be thread-safe.
 */
#ifndef OSB_DRIVER_H
#define OSB_DRIVER_H

#include <cjson/cJSON.h>

#include "common.h"
#include "errors.h"
#include "request.h"

/** The driver ABI this header describes. Drivers set it through OSB_DRIVER_INIT. */
#define OSB_DRIVER_ABI_VERSION 1u

/** Capability flags: what a driver can do. The catalog is checked against them. */
enum {
	/** bind and unbind are set: plans may be bindable. */
	OSB_CAP_BINDABLE = 1u << 0,
	/** update is set: plans may be plan_updateable and take update parameters. */
	OSB_CAP_PLAN_UPDATEABLE = 1u << 1,
	/** Some plans run asynchronously (their `x-osb.async` is true). */
	OSB_CAP_ASYNC = 1u << 2,
	/** Bindings may carry `volume_mounts` (catalog must declare requires volume_mount). */
	OSB_CAP_VOLUME_MOUNTS = 1u << 3,
	/** list and purge are set: the reconciler can find orphans on the server. */
	OSB_CAP_RECONCILE = 1u << 4,
	/** Bindings of rotatable plans may be rotated (2.17 binding_rotatable). */
	OSB_CAP_BINDING_ROTATION = 1u << 5
};

/** What the core offers a driver at init. Opaque. */
typedef struct osb_broker osb_broker;

/** @return the broker's data directory (exists, private to the broker). */
OSB_EXTERN(const char *) osb_broker_data_dir(const osb_broker *broker);

/** Kind of a server-side tenant found by a driver's list callback. */
typedef enum {
	OSB_TENANT_INSTANCE = 1,
	OSB_TENANT_BINDING = 2
} osb_tenant_kind;

/**
 * Called by a driver's list callback for each tenant it finds on the server.
 * @param name  the name osb_name_instance() / osb_name_binding() gave it.
 * @return 0 to go on, non-zero to stop listing.
 */
typedef int (*osb_tenant_cb)(osb_tenant_kind kind, const char *name, void *payload);

struct osb_driver {
	/** OSB_DRIVER_ABI_VERSION of the header the driver was built with. */
	unsigned int abi_version;
	/** Short name, such as "postgresql": logs, metrics, config messages. */
	const char *name;
	/** OSB_CAP_* flags. */
	uint32_t caps;

	/**
	 * Required. Read the `driver` object of the config file (environment
	 * overrides already applied) and connect or check what is needed.
	 * A config error is reported with osb_log and OSB_EBADREQUEST, naming the key.
	 * @param[out] state  the driver's state, handed to every other callback.
	 */
	int (*init)(void **state, const cJSON *config, const osb_broker *broker);
	/** Required. Release everything init made. Called once, after the last callback. */
	void (*shutdown)(void *state);

	/** Required. Make the instance's tenant on the server. */
	int (*provision)(osb_request *req, void *state);
	/** Required. Remove the instance's tenant (its bindings were unbound just before). */
	int (*deprovision)(osb_request *req, void *state);
	/** Optional (OSB_CAP_PLAN_UPDATEABLE). Apply a plan change or new parameters. */
	int (*update)(osb_request *req, void *state);
	/** Optional (OSB_CAP_BINDABLE). Make the binding's credentials. */
	int (*bind)(osb_request *req, void *state);
	/** Optional (OSB_CAP_BINDABLE). Revoke the binding's credentials and end its sessions. */
	int (*unbind)(osb_request *req, void *state);

	/**
	 * Optional. Check the server answers, for /health/ready; must return within
	 * about a second. Write a short reason into `msg` on failure.
	 * @return 0 when healthy, OSB_EBACKEND otherwise.
	 */
	int (*health)(void *state, char *msg, size_t msg_size);
	/** Optional (OSB_CAP_RECONCILE). Report every tenant the broker made on the server. */
	int (*list)(void *state, osb_tenant_cb cb, void *payload);
	/** Optional (OSB_CAP_RECONCILE). Remove an orphan tenant found by list. */
	int (*purge)(void *state, osb_tenant_kind kind, const char *name);
	/**
	 * Optional. Set the instance's dashboard URL (osb_request_set_dashboard_url)
	 * before provisioning starts, from the ids and the plan only, without
	 * touching the server. The spec wants the URL in the first answer to a
	 * provision, even a 202, so drivers with dashboards of asynchronous
	 * instances implement this instead of setting the URL in provision.
	 */
	int (*dashboard_url)(osb_request *req, void *state);
	/* ABI 1 ends here */
};

/** Start of every driver definition: `static const struct osb_driver d = { OSB_DRIVER_INIT, ... }`. */
#define OSB_DRIVER_INIT OSB_DRIVER_ABI_VERSION

/**
 * Check a driver against this ABI: version, required callbacks, and a callback
 * for each capability. Logs the driver and the field at fault.
 * @return 0 or OSB_ERROR.
 */
OSB_EXTERN(int) osb_driver_check(const struct osb_driver *driver);

#endif
