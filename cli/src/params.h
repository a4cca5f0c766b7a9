/* Parameters of create/update/bind: read from -c, checked against the plan's JSON Schema before sending. */
#ifndef OSB_CLI_PARAMS_H
#define OSB_CLI_PARAMS_H

#include <cjson/cJSON.h>

#include "cli.h"

/**
 * Read -c's argument: a JSON object, "@FILE" or "@-" (standard input).
 * @param[out] out  the object, caller frees.
 * @return CLI_OK, or CLI_USAGE / CLI_LOCAL after reporting.
 */
int params_parse(cli *c, const char *arg, cJSON **out);

/**
 * Check parameters against a plan's schema, with the validator and the messages
 * the brokers use (osb/jsonschema.h), before anything is sent. The schema is
 * schemas.<scope>.<action>.parameters of the plan; no schema accepts anything.
 * @param scope  "service_instance" or "service_binding".
 * @param action  "create" or "update".
 * @return CLI_OK, or CLI_PARAMS after reporting what is wrong (and what the
 *         schema says the field is for).
 */
int params_check(cli *c, const cJSON *plan, const char *scope, const char *action, const cJSON *params);

#endif
