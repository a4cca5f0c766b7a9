/* Private: small helpers for changing store records in place. */
#ifndef OSB_RECORD_H
#define OSB_RECORD_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "store.h"

/** Replace a string field with a copy of `value` (NULL clears it). */
void osb_record_set_str(char **slot, const char *value);

/** Replace a JSON field with the compact text of `value` (NULL clears it). */
void osb_record_set_json(char **slot, const cJSON *value);

/** Replace a secret field, wiping the old value; takes ownership of `value`. */
void osb_crypto_wipe_set(char **slot, char *value);

/**
 * Called for each binding osb_record_tombstone_bindings() marked deleted, after
 * writing it; `was` is its state before. Non-zero stops and is returned.
 */
typedef int (*osb_record_tombstone_cb)(osb_store_tx *tx, const osb_binding_rec *binding, int was, void *payload);

/**
 * Mark every live binding of an instance deleted and wipe its credentials.
 * `cb` (may be NULL) hears of each one.
 * @return 0, OSB_EBACKEND or what `cb` returned.
 */
int osb_record_tombstone_bindings(osb_store_tx *tx, const char *instance_id, int64_t now, osb_record_tombstone_cb cb,
				  void *payload);

#endif
