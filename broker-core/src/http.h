/* Private: one HTTP request as the handlers see it, and the helpers that answer it. */
#ifndef OSB_HTTP_H
#define OSB_HTTP_H

#include <stdint.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "broker_internal.h"
#include "metrics.h"
#include "osb/utf8.h"

struct mg_connection;
struct mg_request_info;

#define OSB_ID_MAX 255

/**
 * The two arguments of a "%.*s" that quotes at most `max` bytes of text from a request without
 * cutting a character in two (the text is UTF-8, or quoted up to where it stops being so).
 */
#define OSB_HTTP_CUT(s, max) (int)osb_utf8_span((s), strnlen((s), (max))), (s)

typedef struct {
	struct mg_connection *conn;       /* civetweb connection */
	const struct mg_request_info *ri; /* its request */
	struct osb_broker *broker;        /* the running broker */
	osb_route route;                  /* matched route */
	const char *method;               /* "GET", "PUT"... */
	char request_id[130];             /* X-Broker-API-Request-Identity or a new one */
	char *identity;                   /* decoded originating identity, malloc'd or NULL */
	char instance_id[OSB_ID_MAX + 1]; /* from the path, or "" */
	char binding_id[OSB_ID_MAX + 1];  /* from the path, or "" */
	char *body;                       /* request body (NUL-terminated), malloc'd or NULL */
	size_t body_len;                  /* its length */
	int status;                       /* status sent */
	const char *operation;            /* operation id answered, for the log; borrowed or NULL */
	char op_buf[64];                  /* storage for `operation` */
	int64_t start_us;                 /* when the request arrived */
	int close;                        /* answer with "Connection: close"; civetweb closes the connection */
} osb_http;

/** Send `body` (may be NULL for "{}") as JSON with `status` and optional extra header lines ("Name: value\r\n"...). */
void osb_http_send_json(osb_http *h, int status, const cJSON *body, const char *extra_headers);

/** Send raw bytes with a content type. */
void osb_http_send_raw(osb_http *h, int status, const char *content_type, const char *data, size_t len,
		       const char *extra_headers);

/**
 * Send an OSB error body {"error", "description"} for `code`; `status` 0 means
 * the table's status. `instance_usable` / `update_repeatable`: -1 leaves them out.
 */
void osb_http_send_error(osb_http *h, int code, int status, const char *description, int instance_usable,
			 int update_repeatable);

/** Same with a formatted description. */
void osb_http_fail(osb_http *h, int code, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * Read a query-string parameter into out.
 * @return 1 when present (out filled), 0 when absent, -2 when longer than `out`, -1 when not valid.
 */
int osb_http_query(osb_http *h, const char *name, char *out, size_t size);

/**
 * Parse `accepts_incomplete`: absent or "false" gives 0, "true" gives 1.
 * @return 0 or 1, or -1 after answering 400 for any other value.
 */
int osb_http_accepts_incomplete(osb_http *h);

/** Read the body (up to the configured limit). @return 0, or -1 after answering 413/400. */
int osb_http_read_body(osb_http *h);

/**
 * Parse the body as a JSON object. @return the object (caller frees), or NULL
 * after answering 400 with where the syntax error is.
 */
cJSON *osb_http_parse_body(osb_http *h);

/** Whether an id taken from a path or body is one the broker accepts (RFC 3986 unreserved, 1..255). */
int osb_http_valid_id(const char *id);

/* The handlers of each route (api_*.c). Each sends exactly one response. */
void osb_api_catalog(osb_http *h);
void osb_api_instance_put(osb_http *h);
void osb_api_instance_patch(osb_http *h);
void osb_api_instance_delete(osb_http *h);
void osb_api_instance_get(osb_http *h);
void osb_api_instance_last_operation(osb_http *h);
void osb_api_binding_put(osb_http *h);
void osb_api_binding_delete(osb_http *h);
void osb_api_binding_get(osb_http *h);
void osb_api_binding_last_operation(osb_http *h);
void osb_api_health_live(osb_http *h);
void osb_api_health_ready(osb_http *h);
void osb_api_metrics(osb_http *h);
void osb_api_usage_events(osb_http *h);
void osb_api_marketplace(osb_http *h);

/** Prometheus gauges of live instances per plan (api_usage.c), appended to `out`; "" when the store fails. */
void osb_api_usage_gauges(osb_http *h, char **out);

/** The civetweb request handler for every path; cbdata is the osb_broker. */
int osb_http_handle(struct mg_connection *conn, void *cbdata);

/** civetweb's begin_request callback: every request, with the broker as the context's user data. */
int osb_http_begin_request(struct mg_connection *conn);

/** The civetweb error callback: answers civetweb's own errors (bad request line...) with JSON. */
int osb_http_error(struct mg_connection *conn, int status, const char *msg);

#endif
