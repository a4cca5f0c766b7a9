/* Private: finding tenants on the server that no record accounts for. */
#ifndef OSB_RECONCILE_H
#define OSB_RECONCILE_H

#include <stdio.h>

#include "broker_internal.h"

/**
 * Ask the driver for every tenant it made, compare with the store's records
 * (names derived from ids), and print one JSON line per orphan to `out`,
 * removing it when `purge` is set. Records being created or deleted count as
 * live, so an operation in flight is never mistaken for an orphan.
 * @return 0 (whether or not orphans were found), OSB_EUNSUPPORTED when the
 *         driver cannot list, or OSB_EBACKEND.
 */
int osb_reconcile(struct osb_broker *broker, int purge, FILE *out);

#endif
