/* Private: quotas of live service instances, per plan and per broker, checked before anything is made. */
#ifndef OSB_QUOTA_H
#define OSB_QUOTA_H

#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "store.h"

/** The plan's limit: the config's quotas.plans entry (by id, then name), else x-osb.max_instances; 0 = none. */
long osb_quota_plan_limit(const osb_config *config, const osb_plan *plan);

/**
 * Whether one more live instance of `plan` fits, inside the write transaction
 * that will record it (so two requests never both take the last place).
 * `new_instance` is 0 for a plan change, which leaves the broker's total as it is.
 * @return 0, OSB_EQUOTA with a message for the user in `msg`, or a store error.
 */
int osb_quota_check(osb_store_tx *tx, const osb_config *config, const osb_plan *plan, int new_instance, char *msg,
		    size_t msg_size);

/** Append the quota gauges (limit and use per limited plan, and of the broker) to `out`. */
void osb_quota_metrics(osb_store *store, const osb_config *config, const osb_catalog *catalog, char *out,
		       size_t out_size);

#endif
