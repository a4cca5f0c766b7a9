/**
 * @file jsonschema.h  JSON Schema validation of OSB `parameters`, as the brokers
 * check them: compiled once, then used by many threads. Clients (the `osb`
 * tool) use it to check parameters before sending them, with the same messages.
 */
#ifndef OSB_JSONSCHEMA_H
#define OSB_JSONSCHEMA_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "common.h"

/** A compiled schema. Immutable after compile: validate may run on many threads at once. */
typedef struct osb_schema osb_schema;

/**
 * Compile a JSON Schema (draft-04 to draft-07 keywords that catalogs use).
 * Refuses: a schema that is not an object or boolean, keywords with values of the
 * wrong type, invalid regular expressions, and any `$ref` that is not local
 * ("#/definitions/..." or "#/$defs/..."; the spec forbids external references).
 * Does not keep a pointer to `schema`.
 * @param[out] out  caller frees with osb_schema_free().
 * @param err  on failure, a message naming the schema path at fault, such as
 *             "properties.size.minimum: must be a number".
 * @return 0, OSB_EBADREQUEST (invalid schema) or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_schema_compile(osb_schema **out, const cJSON *schema, char *err, size_t err_size);

/**
 * Validate `instance` against the schema. With `apply_defaults`, properties that
 * are absent but have a `default` in the schema are added to `instance`
 * (so `instance` is not const). Stops at the first error.
 * @param err  on failure, a message naming the offending field from the root
 *             `root_name`, such as "parameters.extensions[1]: must be one of
 *             [\"pgcrypto\", \"hstore\"]". Never echoes more than 64 bytes of a value.
 * @return 0, OSB_EBADREQUEST (invalid instance) or OSB_ENOMEM.
 */
OSB_EXTERN(int)
osb_schema_validate(const osb_schema *schema, cJSON *instance, int apply_defaults, const char *root_name, char *err,
		    size_t err_size);

/** Free a compiled schema; NULL is fine. */
OSB_EXTERN(void) osb_schema_free(osb_schema *schema);

#endif
