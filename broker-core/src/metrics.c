/* Counters and a latency histogram kept in atomics, rendered in Prometheus text format. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[OSB_ROUTE_COUNT] = {
	"unknown",
	"/v2/catalog",
	"/v2/service_instances/:instance_id",
	"/v2/service_instances/:instance_id/last_operation",
	"/v2/service_instances/:instance_id/service_bindings/:binding_id",
	"/v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation",
	"/health/live",
	"/health/ready",
	"/metrics",
	"/usage/events",
	"/marketplace",
};

static const char *const method_names[] = { "GET", "PUT", "PATCH", "DELETE", "OTHER" };
#define METHOD_COUNT 5

/* The statuses the broker answers with; anything else is counted as the last slot. */
static const int statuses[] = { 200, 201, 202, 304, 400, 401, 404, 405, 409, 410,
				412, 413, 422, 429, 500, 502, 503, 504, 0 };
#define STATUS_COUNT (sizeof statuses / sizeof statuses[0])

/* Latency bucket upper bounds in microseconds. */
static const int64_t buckets_us[] = { 250,    500,    1000,   2500,    5000,    10000,   25000,   50000,
				      100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000 };
#define BUCKET_COUNT (sizeof buckets_us / sizeof buckets_us[0])

static atomic_ulong requests[OSB_ROUTE_COUNT][METHOD_COUNT][STATUS_COUNT];
static atomic_ulong latency_buckets[OSB_ROUTE_COUNT][BUCKET_COUNT + 1];
static atomic_ullong latency_sum_us[OSB_ROUTE_COUNT];
static atomic_ulong auth_failures;
static atomic_ulong rate_limited;
static atomic_ulong operations[6][2];
static atomic_ulong connections_dropped[OSB_CONN_REASON_COUNT];
static atomic_long connections_waiting;

const char *osb_route_name(osb_route route)
{
	return route < OSB_ROUTE_COUNT ? route_names[route] : "unknown";
}

static size_t method_index(const char *method)
{
	for (size_t i = 0; i < METHOD_COUNT - 1; i++)
		if (method && strcmp(method, method_names[i]) == 0)
			return i;
	return METHOD_COUNT - 1;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < STATUS_COUNT - 1; i++)
		if (statuses[i] == status)
			return i;
	return STATUS_COUNT - 1;
}

void osb_metrics_request(osb_route route, const char *method, int status, int64_t duration_us)
{
	if (route >= OSB_ROUTE_COUNT)
		route = OSB_ROUTE_UNKNOWN;
	atomic_fetch_add_explicit(&requests[route][method_index(method)][status_index(status)], 1,
				  memory_order_relaxed);
	size_t b = 0;
	while (b < BUCKET_COUNT && duration_us > buckets_us[b])
		b++;
	atomic_fetch_add_explicit(&latency_buckets[route][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us[route], (unsigned long long)(duration_us < 0 ? 0 : duration_us),
				  memory_order_relaxed);
}

void osb_metrics_auth_failure(void)
{
	atomic_fetch_add_explicit(&auth_failures, 1, memory_order_relaxed);
}

void osb_metrics_rate_limited(void)
{
	atomic_fetch_add_explicit(&rate_limited, 1, memory_order_relaxed);
}

void osb_metrics_connection_dropped(osb_conn_drop_reason reason)
{
	if (reason < OSB_CONN_REASON_COUNT)
		atomic_fetch_add_explicit(&connections_dropped[reason], 1, memory_order_relaxed);
}

void osb_metrics_connections_waiting(int delta)
{
	atomic_fetch_add_explicit(&connections_waiting, delta, memory_order_relaxed);
}

void osb_metrics_operation(int kind, int succeeded)
{
	if (kind >= 1 && kind <= 5)
		atomic_fetch_add_explicit(&operations[kind][succeeded ? 1 : 0], 1, memory_order_relaxed);
}

/* A growable string for the rendering. */
typedef struct {
	char *buf;
	size_t len, cap;
	int oom;
} strbuf;

static void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *sb, const char *fmt, ...)
{
	if (sb->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = 1;
			return;
		}
		if ((size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = (sb->cap + (size_t)n + 1) * 2;
		char *p = realloc(sb->buf, cap);
		if (!p) {
			sb->oom = 1;
			return;
		}
		sb->buf = p;
		sb->cap = cap;
	}
}

char *osb_metrics_render(const char *extra_gauges)
{
	static const char *const kinds[] = { "", "provision", "update", "deprovision", "bind", "unbind" };
	strbuf sb = { malloc(8192), 0, 8192, 0 };
	if (!sb.buf)
		return NULL;
	sb.buf[0] = '\0';
	sb_printf(&sb, "# HELP osb_requests_total HTTP requests answered, by route, method and status.\n"
		       "# TYPE osb_requests_total counter\n");
	for (size_t r = 0; r < OSB_ROUTE_COUNT; r++)
		for (size_t m = 0; m < METHOD_COUNT; m++)
			for (size_t s = 0; s < STATUS_COUNT; s++) {
				unsigned long n = atomic_load_explicit(&requests[r][m][s], memory_order_relaxed);
				if (!n)
					continue;
				char status[8];
				if (statuses[s])
					snprintf(status, sizeof status, "%d", statuses[s]);
				else
					snprintf(status, sizeof status, "other");
				sb_printf(&sb, "osb_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %lu\n",
					  route_names[r], method_names[m], status, n);
			}
	sb_printf(&sb, "# HELP osb_request_duration_seconds Time to answer a request, by route.\n"
		       "# TYPE osb_request_duration_seconds histogram\n");
	for (size_t r = 0; r < OSB_ROUTE_COUNT; r++) {
		unsigned long cumulative = 0;
		for (size_t b = 0; b <= BUCKET_COUNT; b++)
			cumulative += atomic_load_explicit(&latency_buckets[r][b], memory_order_relaxed);
		if (!cumulative)
			continue;
		unsigned long running = 0;
		for (size_t b = 0; b < BUCKET_COUNT; b++) {
			running += atomic_load_explicit(&latency_buckets[r][b], memory_order_relaxed);
			sb_printf(&sb, "osb_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
				  route_names[r], (double)buckets_us[b] / 1e6, running);
		}
		sb_printf(&sb, "osb_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n", route_names[r],
			  cumulative);
		sb_printf(&sb, "osb_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
			  (double)atomic_load_explicit(&latency_sum_us[r], memory_order_relaxed) / 1e6);
		sb_printf(&sb, "osb_request_duration_seconds_count{route=\"%s\"} %lu\n", route_names[r], cumulative);
	}
	sb_printf(&sb,
		  "# HELP osb_auth_failures_total Requests refused for bad or missing credentials.\n"
		  "# TYPE osb_auth_failures_total counter\nosb_auth_failures_total %lu\n",
		  atomic_load_explicit(&auth_failures, memory_order_relaxed));
	sb_printf(&sb,
		  "# HELP osb_rate_limited_total Requests refused by the per-client rate limit.\n"
		  "# TYPE osb_rate_limited_total counter\nosb_rate_limited_total %lu\n",
		  atomic_load_explicit(&rate_limited, memory_order_relaxed));
	static const char *const drop_reasons[OSB_CONN_REASON_COUNT] = { "per_address_cap", "head_timeout",
									 "acceptor_full" };
	sb_printf(&sb, "# HELP osb_connections_dropped_total Connections closed before their first request reached a "
		       "worker thread, by reason.\n# TYPE osb_connections_dropped_total counter\n");
	for (int r = 0; r < OSB_CONN_REASON_COUNT; r++)
		sb_printf(&sb, "osb_connections_dropped_total{reason=\"%s\"} %lu\n", drop_reasons[r],
			  atomic_load_explicit(&connections_dropped[r], memory_order_relaxed));
	sb_printf(&sb,
		  "# HELP osb_connections_waiting Connections whose request head has not arrived yet.\n"
		  "# TYPE osb_connections_waiting gauge\nosb_connections_waiting %ld\n",
		  atomic_load_explicit(&connections_waiting, memory_order_relaxed));
	sb_printf(&sb, "# HELP osb_operations_finished_total Operations finished since start, by kind and result.\n"
		       "# TYPE osb_operations_finished_total counter\n");
	for (int k = 1; k <= 5; k++)
		for (int ok = 0; ok < 2; ok++)
			sb_printf(&sb, "osb_operations_finished_total{kind=\"%s\",result=\"%s\"} %lu\n", kinds[k],
				  ok ? "succeeded" : "failed",
				  atomic_load_explicit(&operations[k][ok], memory_order_relaxed));
	if (extra_gauges)
		sb_printf(&sb, "%s", extra_gauges);
	if (sb.oom) {
		free(sb.buf);
		return NULL;
	}
	return sb.buf;
}
