/* Private: the gateway, the one place in the core that calls a driver.
 *
 * It owns the driver and its state, reads the server block and the dedicated
 * settings of the `driver` config, and for each callback: derives the names,
 * picks the target (the shared server or the instance's dedicated one, started
 * by the core), hands the deadline and an error buffer through the request,
 * runs the callback, and logs "<driver>.<operation>" with the outcome. No other
 * core file calls a driver pointer. */
#ifndef OSB_GATEWAY_H
#define OSB_GATEWAY_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "osb/driver.h"
#include "catalog.h"

struct osb_broker;
typedef struct osb_gateway osb_gateway;

/**
 * Check the driver against the ABI, refuse unknown keys of `config`, read the
 * server block and the dedicated settings, then run the driver's init.
 * Config errors are logged under "<driver>.config".
 * @param[out] out  close with osb_gateway_close().
 * @return 0, OSB_ERROR (invalid driver), OSB_EBADREQUEST (bad config) or OSB_ENOMEM.
 */
int osb_gateway_open(osb_gateway **out, struct osb_broker *broker, const struct osb_driver *driver,
		     const cJSON *config);

/** Run the driver's shutdown and free everything; NULL is fine. */
void osb_gateway_close(osb_gateway *gw);

/** The driver's name and capabilities (valid before open succeeds, for the catalog check). */
const char *osb_gateway_name(const osb_gateway *gw);

/** Whether the driver can run this operation at all (an update callback, say). */
int osb_gateway_supports(const osb_gateway *gw, osb_operation_kind kind);

/** Whether the request's instance lives on a server of its own (its plan, or a deployment on record). */
int osb_gateway_is_dedicated(const osb_gateway *gw, const osb_request *req);

/**
 * Run one operation's driver work: provision, update, deprovision, bind or
 * unbind, on the shared server or the instance's dedicated server. On failure
 * the request's error buffer holds the code and a description for the user.
 * @return 0 or an osb_error_code.
 */
int osb_gateway_run(osb_gateway *gw, osb_request *req);

/**
 * The dashboard URL of a new instance, before anything is made.
 * @param[out] out  malloc'd URL, or NULL when the driver gives none.
 * @return 0 or an error code.
 */
int osb_gateway_dashboard_url(osb_gateway *gw, osb_request *req, char **out);

/**
 * Whether the shared server answers (the driver's health). Dedicated-only
 * drivers check that the deployer's directory is usable.
 * @return 0, or OSB_EBACKEND with a reason in msg.
 */
int osb_gateway_health(osb_gateway *gw, char *msg, size_t msg_size);

/** A tenant found on a server by the reconciler. */
typedef struct {
	osb_tenant_kind kind;     /* instance or binding */
	char name[OSB_NAME_SIZE]; /* its derived name */
	int dedicated;            /* a dedicated server's directory, not a tenant of the shared server */
} osb_gateway_tenant;

/**
 * Everything the broker made: the driver's list of the shared server (when it
 * can list) and the deployer's dedicated servers. The whole list is read
 * before anything is purged.
 * @param[out] out  caller frees with free().
 * @return 0, OSB_EUNSUPPORTED (nothing can be listed) or an error code (logged).
 */
int osb_gateway_list(osb_gateway *gw, osb_gateway_tenant **out, size_t *n);

/**
 * Remove one orphan: a dedicated server through the deployer, a shared
 * tenant through the driver's purge. Names that are not broker-made are
 * refused. The outcome is logged.
 * @return 0 or an error code.
 */
int osb_gateway_purge(osb_gateway *gw, const osb_gateway_tenant *tenant);

#endif
