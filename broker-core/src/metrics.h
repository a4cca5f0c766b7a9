/* Private: request and operation counters, served as Prometheus text on /metrics. */
#ifndef OSB_METRICS_H
#define OSB_METRICS_H

#include <stddef.h>
#include <stdint.h>

/** Routes, as counted in metrics and named in logs. */
typedef enum {
	OSB_ROUTE_UNKNOWN = 0,
	OSB_ROUTE_CATALOG,
	OSB_ROUTE_INSTANCE,
	OSB_ROUTE_INSTANCE_LAST_OP,
	OSB_ROUTE_BINDING,
	OSB_ROUTE_BINDING_LAST_OP,
	OSB_ROUTE_HEALTH_LIVE,
	OSB_ROUTE_HEALTH_READY,
	OSB_ROUTE_METRICS,
	OSB_ROUTE_USAGE_EVENTS,
	OSB_ROUTE_MARKETPLACE,
	OSB_ROUTE_COUNT
} osb_route;

/** Name of a route for logs and metric labels, such as "/v2/service_instances/:id". */
const char *osb_route_name(osb_route route);

/** Count one answered request. Lock-free; any thread. */
void osb_metrics_request(osb_route route, const char *method, int status, int64_t duration_us);

/** Count one failed authentication. */
void osb_metrics_auth_failure(void);

/** Count one request refused by the rate limit. */
void osb_metrics_rate_limited(void);

/** Why the acceptor closed a connection before civetweb saw it. */
typedef enum {
	OSB_CONN_REFUSED = 0, /* its address already held limits.connections_per_address */
	OSB_CONN_TIMED_OUT,   /* its request head did not arrive within timeouts.request_ms */
	OSB_CONN_EVICTED,     /* the oldest waiting one, closed to make room */
	OSB_CONN_REASON_COUNT
} osb_conn_drop_reason;

/** Count one connection the acceptor closed. */
void osb_metrics_connection_dropped(osb_conn_drop_reason reason);

/** Add to the gauge of connections waiting in the acceptor for their request head. */
void osb_metrics_connections_waiting(int delta);

/** Count one operation finished by the engine. */
void osb_metrics_operation(int kind, int succeeded);

/**
 * Render every metric in Prometheus text format, plus the gauges given.
 * @return a malloc'd string (caller frees) or NULL on OOM.
 */
char *osb_metrics_render(const char *extra_gauges);

#endif
