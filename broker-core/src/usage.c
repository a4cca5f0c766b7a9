/* Usage records: name the plans of an event and append it to the store's usage log. */
#include "usage.h"

static const char *plan_name(const osb_catalog *catalog, const char *plan_id)
{
	const osb_plan *plan = plan_id ? osb_catalog_plan(catalog, plan_id) : NULL;
	return plan ? plan->name : NULL;
}

int osb_usage__append(osb_store_tx *tx, const osb_catalog *catalog, const osb_usage_event *ev)
{
	osb_usage_event named = *ev;

	/* Names as the catalog has them now: a later rename does not rewrite what was billed. */
	if (!named.plan_name)
		named.plan_name = (char *)plan_name(catalog, ev->plan_id);
	if (!named.previous_plan_name)
		named.previous_plan_name = (char *)plan_name(catalog, ev->previous_plan_id);
	return osb_store_usage_append(tx, &named);
}
