/* The marketplace: every broker's catalog in one marketplace document (osb/marketplace.h), and lookups in it. */
#ifndef OSB_CLI_MARKET_H
#define OSB_CLI_MARKET_H

#include <cjson/cJSON.h>

#include "local.h"

/**
 * Read the catalog of each broker (or only `only`, when not NULL): the broker's
 * marketplace document when it has one (it also says which plans are
 * asynchronous or dedicated), else GET /v2/catalog, so that any OSB broker works.
 * A broker that cannot be read gets an "error" instead of "services".
 * @return the document {"brokers": [...]}, caller frees; NULL when out of memory.
 */
cJSON *market_fetch(const cli_brokers *brokers, const char *only);

/**
 * Find a service by name (or id). With `broker_name` non-NULL only that broker's.
 * @param[out] svc  the first match; `broker` its broker entry of the document.
 * @return how many services matched (so callers can ask to disambiguate).
 */
int market_find_service(const cJSON *doc, const char *name, const char *broker_name, const cJSON **svc,
			const cJSON **broker);

/** A plan of a service by name (or id), or NULL. */
const cJSON *market_find_plan(const cJSON *svc, const char *name);

/** The `plan_features` entry of a plan in its broker entry, or NULL. */
const cJSON *market_plan_features(const cJSON *broker, const cJSON *plan);

/** Names of the plans of a service, comma-separated, into out. */
void market_plan_names(const cJSON *svc, char *out, size_t size);

#endif
