/* An instance the tool made: its local entry (name -> ids), how verbs read and change it, how it is shown. */
#ifndef OSB_CLI_INSTANCE_H
#define OSB_CLI_INSTANCE_H

#include <cjson/cJSON.h>

#include "cli.h"
#include "local.h"

/**
 * Read an instance's entry and find its broker.
 * @param[out] entry  a copy of the entry, caller frees.
 * @param[out] b  its broker, borrowed from `brokers` (which the caller frees).
 * @return CLI_OK, or CLI_NOT_FOUND / CLI_LOCAL after reporting.
 */
int inst_load(cli *c, const char *name, cli_brokers *brokers, cJSON **entry, cli_broker **b);

/** Change an entry under the state lock; return 1 from the callback to remove the entry. */
typedef int (*inst_edit_fn)(cJSON *entry, void *payload);

/** @return CLI_OK (also when the entry is gone meanwhile), or CLI_LOCAL after reporting. */
int inst_edit(cli *c, const char *name, inst_edit_fn fn, void *payload);

/** Remove an entry. @return CLI_OK or CLI_LOCAL. */
int inst_remove(cli *c, const char *name);

/** Record the last operation of an entry ("create", "update", "delete"; state; description; operation id). */
void inst_set_op(cJSON *entry, const char *type, const char *state, const char *description, const char *operation);

/**
 * The service offering of an instance in its broker's catalog, for plans and schemas.
 * @param[out] doc  the marketplace document of that broker, caller frees.
 * @param[out] svc  the service in it (borrowed from doc); NULL when the broker no longer offers it.
 * @return CLI_OK, or CLI_UNREACHABLE after reporting.
 */
int inst_service(cli *c, const cli_brokers *brokers, const cli_broker *b, const char *service_id, cJSON **doc,
		 const cJSON **svc);

/** The entry as shown by --json: name, ids, broker, plan, last operation, bindings. Caller frees. */
cJSON *inst_view(const char *name, const cJSON *entry);

/** Print an entry for people. */
void inst_print(const char *name, const cJSON *entry);

/** The path of an instance ("/v2/service_instances/ID") with the id escaped. */
void inst_path(char *out, size_t size, const char *instance_id);

/** The path of one of its bindings (".../service_bindings/ID"). */
void inst_binding_path(char *out, size_t size, const cJSON *entry, const char *binding_id);

/**
 * Set a binding's entry under its instance (`state` non-NULL), or remove it (`state` NULL).
 * @param[out] existed  whether the binding was there before (may be NULL).
 * @return CLI_OK or CLI_LOCAL after reporting.
 */
int inst_binding_set(cli *c, const char *name, const char *binding, const char *binding_id, const char *state,
		     const char *operation, int *existed);

#endif
