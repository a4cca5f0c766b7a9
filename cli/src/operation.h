/* Waiting for an asynchronous operation: poll last_operation as the broker asks (Retry-After), show progress. */
#ifndef OSB_CLI_OPERATION_H
#define OSB_CLI_OPERATION_H

#include "cli.h"
#include "local.h"

/* How an operation ended, as last_operation said. */
typedef struct {
	char state[32];    /* "succeeded", "failed", "gone" (410: what was deleted is gone) or
				  "missing" (404: the broker has no such instance or binding) */
	char *description; /* the broker's description, malloc'd, or NULL */
} op_result;

/**
 * Poll `lo_path` (".../last_operation") until the operation is no longer in
 * progress: every Retry-After seconds (2 when the broker sends none, at least
 * 1, at most 30), with a progress line naming `what`. A broker that cannot be
 * reached is tried again for 2 minutes before giving up.
 * @param operation  the operation id the broker answered, or NULL.
 * @return CLI_OK (res filled), CLI_INTERRUPTED (Ctrl-C: the operation goes on),
 *         CLI_UNREACHABLE or CLI_FAILED (the broker answered with an error), after reporting.
 */
int op_wait(cli *c, const cli_broker *b, const char *lo_path, const char *operation, const char *service_id,
	    const char *plan_id, const char *what, op_result *res);

void op_result_free(op_result *res);

/** Tell how to resume after Ctrl-C, and return CLI_INTERRUPTED. */
int op_interrupted(cli *c, const char *name, const char *what);

#endif
