/* Private: usage records (metering), written in the transaction of the change they record. */
#ifndef OSB_USAGE_H
#define OSB_USAGE_H

#include <stdint.h>

#include "catalog.h"
#include "store.h"

#define OSB_USAGE_INSTANCE_CREATED "instance_created"
#define OSB_USAGE_INSTANCE_PLAN_CHANGED "instance_plan_changed"
#define OSB_USAGE_INSTANCE_DELETED "instance_deleted"
#define OSB_USAGE_BINDING_CREATED "binding_created"
#define OSB_USAGE_BINDING_DELETED "binding_deleted"

/**
 * Append `ev` to the usage log in `tx`, naming its plans from the catalog
 * (plan_name and previous_plan_name are filled in when NULL; `ev` is not changed).
 * Call it after the transaction's other writes, just before committing.
 * @return 0, OSB_EBACKEND or OSB_ETIMEOUT.
 */
int osb_usage__append(osb_store_tx *tx, const osb_catalog *catalog, const osb_usage_event *ev);

#endif
