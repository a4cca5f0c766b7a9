/* Private: the catalog, loaded and validated once at start, served as prepared bytes. */
#ifndef OSB_CATALOG_H
#define OSB_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "osb/jsonschema.h"

typedef struct osb_catalog osb_catalog;

/** A driver_caps bit for osb_catalog_load(): the driver has no shared server, so every plan must be dedicated. */
#define OSB_CATALOG_NO_SHARED (1u << 31)
typedef struct osb_service osb_service;

/** A plan as the core uses it. Borrowed from the catalog; valid until osb_catalog_free(). */
typedef struct osb_plan {
	const char *id;                  /* plan id */
	const char *name;                /* plan name */
	const osb_service *service;      /* its service offering */
	int bindable;                    /* plan's bindable, else the service's */
	int plan_updateable;             /* plan's plan_updateable, else the service's, else 0 */
	int binding_rotatable;           /* 2.17 binding_rotatable, default 0 */
	const char *maintenance_version; /* maintenance_info.version, or NULL */
	long maximum_polling_duration;   /* seconds, 0 when not set */
	const cJSON *settings;           /* the plan's private `x-osb` object (never NULL, may be empty) */
	int async;                       /* x-osb.async: provision/update/deprovision run asynchronously */
	int async_bindings;              /* x-osb.async_bindings: bind/unbind run asynchronously */
	int dedicated;                   /* x-osb.dedicated: each instance gets a server of its own */
	long max_instances;              /* x-osb.max_instances: quota of live instances, 0 = none */
	long credential_ttl;             /* x-osb.credential_ttl seconds, 0 = credentials never expire */
	long renew_before;               /* x-osb.renew_before seconds before expiry, default ttl/5 */
	osb_schema *create_schema;       /* schemas.service_instance.create.parameters, or NULL */
	osb_schema *update_schema;       /* schemas.service_instance.update.parameters, or NULL */
	osb_schema *bind_schema;         /* schemas.service_binding.create.parameters, or NULL */
} osb_plan;

/** A service offering. Borrowed from the catalog. */
struct osb_service {
	const char *id;            /* service id */
	const char *name;          /* service name */
	int bindable;              /* service's bindable */
	int plan_updateable;       /* service's plan_updateable, default 0 */
	int instances_retrievable; /* as served (the core supports GET instance) */
	int bindings_retrievable;  /* as served */
	int allow_context_updates; /* as served, default 0 */
	int requires_volume_mount; /* "volume_mount" in requires */
	size_t plan_count;         /* number of plans */
	const osb_plan *plans;     /* the plans */
};

/**
 * Load, validate and prepare a catalog file (the OSB catalog document, plans
 * may carry a private `x-osb` object). Checks: required fields and their types,
 * non-empty strings, unique service ids and names, plan ids unique across the
 * catalog, plan names unique within a service, maintenance_info.version is
 * SemVer 2.0, every schema has `$schema`, is at most 64 kB, has no external
 * `$ref` and compiles; and that the driver's capabilities cover the catalog
 * (a bindable plan needs OSB_CAP_BINDABLE, plan_updateable or an update schema
 * needs OSB_CAP_PLAN_UPDATEABLE, x-osb.async needs OSB_CAP_ASYNC, binding_rotatable
 * needs OSB_CAP_BINDING_ROTATION, requires volume_mount needs OSB_CAP_VOLUME_MOUNTS,
 * x-osb.dedicated needs OSB_CAP_DEDICATED, and with OSB_CATALOG_NO_SHARED every
 * plan must be dedicated).
 * The served bytes omit every `x-osb` and are compact JSON; the ETag is a
 * quoted hash of them.
 * @param[out] out  caller frees with osb_catalog_free().
 * @param err  on failure, a message naming the file and the JSON path at fault,
 *             such as "catalog/pg.json: services[0].plans[1].id: duplicate plan id".
 * @return 0, OSB_EBADREQUEST (invalid catalog), OSB_ERROR (cannot read) or OSB_ENOMEM.
 */
int osb_catalog_load(osb_catalog **out, const char *path, uint32_t driver_caps, char *err, size_t err_size);

/** Same from a string already in memory; `name` is used in messages. */
int osb_catalog_parse(osb_catalog **out, const char *json, size_t len, const char *name, uint32_t driver_caps,
		      char *err, size_t err_size);

/** @return the service with this id, or NULL. */
const osb_service *osb_catalog_service(const osb_catalog *catalog, const char *service_id);

/** @return the plan with this id (in any service), or NULL. */
const osb_plan *osb_catalog_plan(const osb_catalog *catalog, const char *plan_id);

/** Number of services, and the i-th one (for metrics and the reconciler). */
size_t osb_catalog_service_count(const osb_catalog *catalog);
const osb_service *osb_catalog_service_at(const osb_catalog *catalog, size_t i);

/** The prepared response body of GET /v2/catalog. Borrowed. */
const char *osb_catalog_body(const osb_catalog *catalog, size_t *len);

/** The ETag of that body, with its quotes, such as "\"3f2a...\"". Borrowed. */
const char *osb_catalog_etag(const osb_catalog *catalog);

/** Free a catalog; NULL is fine. */
void osb_catalog_free(osb_catalog *catalog);

#endif
