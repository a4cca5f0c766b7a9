/* Talking to a broker: one OSB request over HTTP (libcurl), with its headers, auth and timeouts. */
#ifndef OSB_CLI_BROKER_H
#define OSB_CLI_BROKER_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "local.h"

/* The answer to one request. */
typedef struct {
	long status;     /* HTTP status, 0 when no answer came */
	char *body;      /* the body, NUL-terminated ("" when empty) */
	size_t len;      /* its length */
	cJSON *json;     /* the body parsed, when it is JSON */
	int retry_after; /* Retry-After in seconds, -1 when absent */
	char error[256]; /* why no answer came (status 0) */
} broker_resp;

/**
 * Send one request: Basic auth with the broker's account, X-Broker-API-Version
 * 2.17, a fresh X-Broker-API-Request-Identity, an X-Broker-API-Originating-Identity
 * naming the local user, and `body` as JSON when given. Waits at most 90 s
 * (a synchronous operation may take 60); Ctrl-C ends the wait early.
 * @param path  path and query, starting with "/", ids already escaped.
 * @param[out] out  the answer; free it with broker_resp_free() whatever the result.
 * @return 0 when an answer came (any status), -1 when none did (out->error says why).
 */
int broker_call(const cli_broker *b, const char *method, const char *path, const cJSON *body, broker_resp *out);

void broker_resp_free(broker_resp *r);

/** "409 Conflict: <the broker's description>" of an answer, or its transport error. */
void broker_describe(const broker_resp *r, char *out, size_t size);

/** The broker's status, error and description, as members for out_fail()'s `extra`. Caller owns it. */
cJSON *broker_error_extra(const broker_resp *r);

/** A query value percent-encoded. Caller frees with free(); NULL when out of memory. */
char *broker_escape(const char *value);

/** A random UUID (version 4), as OSB ids are. */
void broker_new_id(char out[37]);

/** Global libcurl set-up and tear-down, once per run. */
void broker_global_init(void);
void broker_global_cleanup(void);

#endif
