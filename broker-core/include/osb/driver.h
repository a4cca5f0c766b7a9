/**
 * @file driver.h  The contract between the core and a middleware driver.
 *
 * A driver is one `static const struct osb_driver` that knows how to make and
 * remove tenants on one kind of server. The core does everything the OSB
 * protocol asks (HTTP, auth, validation, state, operations, dedicated servers)
 * and calls the driver, through one gateway, only to act on the server.
 * See docs/writing-a-broker.md.
 *
 * What the core hands every operation callback, through the request:
 *  - the server to act on: osb_request_target() (the shared server of the
 *    config's server block, or the instance's dedicated server);
 *  - the names to use on it: osb_request_instance_name() and
 *    osb_request_binding_name() ("osb_" + 20 hex digits derived from the ids,
 *    never request text, so a callback finds what an interrupted call made);
 *  - the deadline: osb_request_timeout_ms();
 *  - an error buffer: osb_request_errbuf(). A callback may fill it on the way
 *    down and return its code; the core turns it into the OSB description.
 *  - parameters already validated against the plan's JSON Schema (trust them).
 * The core logs each callback's outcome as "<driver>.<operation>" with the
 * names, the time it took and the driver's osb_request_note().
 *
 * Rules for every callback:
 *  - Idempotent: "create if missing", "drop if present". The core repeats a
 *    callback after a crash or an outage, and calls deprovision/unbind to roll
 *    back a provision/bind that failed half way.
 *  - Never block past osb_request_timeout_ms().
 *  - Return 0 or an osb_error_code (OSB_EBACKEND: the server failed or is
 *    unreachable; OSB_ETIMEOUT; OSB_EBADREQUEST: the server refused the input).
 *  - Several callbacks run at once on different threads (never two on the same
 *    instance), so driver state must be thread-safe (read-only after init).
 *
 * Deprovision: before it runs, the core unbinds every live binding of the
 * instance through unbind, so deprovision only removes the instance's tenant.
 */
#ifndef OSB_DRIVER_H
#define OSB_DRIVER_H

#include <cjson/cJSON.h>

#include "common.h"
#include "errors.h"
#include "request.h"
#include "target.h"
#include "dedicated.h"

/**
 * The driver ABI this header describes. Drivers set it through OSB_DRIVER_INIT.
 * ABI 2 (core 0.2) replaced ABI 1: the server block, dedicated plans and the
 * error buffer moved into the core, and health/list/purge take the target.
 */
#define OSB_DRIVER_ABI_VERSION 2u

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
	OSB_CAP_BINDING_ROTATION = 1u << 5,
	/** dedicated is set: plans with `x-osb.dedicated` get a server of their own. */
	OSB_CAP_DEDICATED = 1u << 6
};

/** Time a health callback has: /health/ready must answer quickly even when the server hangs. */
#define OSB_HEALTH_TIMEOUT_MS 1000
/** Time a list or purge callback has (they run outside any request, in --reconcile). */
#define OSB_RECONCILE_TIMEOUT_MS 30000

/** What the core offers a driver at init. Opaque. */
typedef struct osb_broker osb_broker;

/** @return the broker's data directory (exists, private to the broker). */
OSB_EXTERN(const char *) osb_broker_data_dir(const osb_broker *broker);

/**
 * The shared server as the core read it from the server block, for an init
 * that derives defaults from it.
 * @return the target, or NULL when the driver has no server spec. Owned by the core.
 */
OSB_EXTERN(const osb_target *) osb_broker_server(const osb_broker *broker);

/** Kind of a server-side tenant found by a driver's list callback. */
typedef enum { OSB_TENANT_INSTANCE = 1, OSB_TENANT_BINDING = 2 } osb_tenant_kind;

/**
 * Called by a driver's list callback for each tenant it finds on the server.
 * @param name  the name osb_name_instance() / osb_name_binding() gave it.
 * @return 0 to go on, non-zero to stop listing.
 */
typedef int (*osb_tenant_cb)(osb_tenant_kind kind, const char *name, void *payload);

struct osb_driver {
	/** OSB_DRIVER_ABI_VERSION of the header the driver was built with. */
	unsigned int abi_version;
	/** Short name, such as "postgresql": logs ("<name>.<operation>"), metrics, config messages. */
	const char *name;
	/** OSB_CAP_* flags. The catalog is checked against them at start. */
	uint32_t caps;
	/**
	 * The shared server's connection block, read from `driver` by the core and
	 * handed to callbacks as their target. NULL when the broker has no shared
	 * server (every plan dedicated): the catalog may then hold dedicated plans only.
	 */
	const osb_server_spec *server;
	/** The driver's own keys of `driver` besides the server block's, NULL-terminated; NULL for none. */
	const char *const *config_keys;
	/** How to run a dedicated server (required with OSB_CAP_DEDICATED, else NULL). */
	const osb_dedicated_spec *dedicated;

	/**
	 * Optional. Read the driver's own keys of `config` (the `driver` object,
	 * environment overrides applied; unknown keys were refused already) and
	 * build the state every callback gets. Must not connect to the server: the
	 * broker starts and serves its catalog while the server is down. A config
	 * error is logged with osb_log(OSB_LOG_ERROR, "<name>.config", "driver.<key> ...")
	 * and returned as OSB_EBADREQUEST.
	 * @param[out] state  the driver's state, handed to every other callback.
	 */
	int (*init)(void **state, const cJSON *config, const osb_broker *broker);
	/** Optional. Release everything init made. Called once, after the last callback. */
	void (*shutdown)(void *state);

	/** Required with a shared server. Make the instance's tenant on the target. */
	int (*provision)(osb_request *req, void *state);
	/** Required with a shared server. Remove the instance's tenant (its bindings were unbound just before). */
	int (*deprovision)(osb_request *req, void *state);
	/** Optional (OSB_CAP_PLAN_UPDATEABLE). Apply a plan change or new parameters. */
	int (*update)(osb_request *req, void *state);
	/** Optional (OSB_CAP_BINDABLE). Make the binding's credentials. */
	int (*bind)(osb_request *req, void *state);
	/** Optional (OSB_CAP_BINDABLE). Revoke the binding's credentials and end its sessions. */
	int (*unbind)(osb_request *req, void *state);
	/**
	 * Optional. Set the instance's dashboard URL (osb_request_set_dashboard_url)
	 * before provisioning starts, from the ids and the plan only, without
	 * touching the server: the spec wants it in the first answer, even a 202.
	 */
	int (*dashboard_url)(osb_request *req, void *state);

	/**
	 * Optional. Whether the shared server takes the admin credentials, for
	 * /health/ready; must return within about a second.
	 * @return 0 when healthy, else an error code with `err` saying why.
	 */
	int (*health)(const osb_target *server, void *state, osb_errbuf *err);
	/**
	 * Optional (OSB_CAP_RECONCILE). Report every tenant the broker made on the
	 * shared server (names osb_name_is_derived() accepts) through `cb`. The core
	 * collects the whole list before it purges anything.
	 */
	int (*list)(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err);
	/**
	 * Optional (OSB_CAP_RECONCILE). Remove one orphan that list reported. The
	 * core passes only broker-made names, and logs the outcome.
	 */
	int (*purge)(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err);
	/* ABI 2 ends here */
};

/** Start of every driver definition: `static const struct osb_driver d = { OSB_DRIVER_INIT, ... }`. */
#define OSB_DRIVER_INIT OSB_DRIVER_ABI_VERSION

/**
 * The callback slots of a descriptor, for a driver whose callbacks follow the
 * naming rule `<prefix>_<slot>`: `OSB_DRIVER_SLOTS(redis, init, provision, bind)`
 * gives `.init = redis_init, .provision = redis_provision, .bind = redis_bind,`.
 * The list says in one line which callbacks the driver has (at most 12).
 */
#define OSB_DRIVER_SLOTS(prefix, ...)                                                                                  \
	OSB__SLOTS_N(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)(prefix, __VA_ARGS__)
#define OSB__SLOTS_N(a, b, c, d, e, f, g, h, i, j, k, l, n, ...) OSB__SLOTS_##n
#define OSB__SLOT(p, s) .s = p##_##s,
#define OSB__SLOTS_1(p, s) OSB__SLOT(p, s)
#define OSB__SLOTS_2(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_1(p, __VA_ARGS__)
#define OSB__SLOTS_3(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_2(p, __VA_ARGS__)
#define OSB__SLOTS_4(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_3(p, __VA_ARGS__)
#define OSB__SLOTS_5(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_4(p, __VA_ARGS__)
#define OSB__SLOTS_6(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_5(p, __VA_ARGS__)
#define OSB__SLOTS_7(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_6(p, __VA_ARGS__)
#define OSB__SLOTS_8(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_7(p, __VA_ARGS__)
#define OSB__SLOTS_9(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_8(p, __VA_ARGS__)
#define OSB__SLOTS_10(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_9(p, __VA_ARGS__)
#define OSB__SLOTS_11(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_10(p, __VA_ARGS__)
#define OSB__SLOTS_12(p, s, ...) OSB__SLOT(p, s) OSB__SLOTS_11(p, __VA_ARGS__)

/**
 * End of a driver file: defines `const struct osb_driver *osb_<name>_driver(void)`,
 * returning `&driver_variable`, which the broker's main() (generated by the build,
 * cmake/OsbBroker.cmake) hands to osb_main(). `name` is the broker's name in
 * brokers/list. Write it with a semicolon: `OSB_DRIVER_DEFINE(redis, redis_driver);`
 */
#define OSB_DRIVER_DEFINE(name, driver_variable)                                                                       \
	const struct osb_driver *osb_##name##_driver(void);                                                            \
	const struct osb_driver *osb_##name##_driver(void)                                                             \
	{                                                                                                              \
		return &(driver_variable);                                                                             \
	}                                                                                                              \
	struct osb_driver /* takes the user's semicolon */

/**
 * Check a driver against this ABI: version, required callbacks, and a callback
 * or spec for each capability. Logs the driver and the field at fault.
 * @return 0 or OSB_ERROR.
 */
OSB_EXTERN(int) osb_driver_check(const struct osb_driver *driver);

#endif
