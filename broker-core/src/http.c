/* The HTTP front: routing, auth, API version, request ids, limits, responses and the request log. */
#include "http.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "acceptor.h"
#include "hash.h"
#include "log_internal.h"
#include "osb/secret.h"
#include "osb/utf8.h"
#include "ratelimit.h"

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Unknown";
}

void osb_http_send_raw(osb_http *h, int status, const char *content_type, const char *data, size_t len,
		       const char *extra_headers)
{
	char stack[8192];
	int head_only = strcmp(h->method, "HEAD") == 0;
	/* Idle kept-alive connections each hold a civetweb thread: close this one when too many do. */
	if (!h->close && !osb_acceptor__keep_alive())
		h->close = 1;
	if (h->close)
		mg_disable_connection_keep_alive(h->conn);
	size_t body_len = head_only ? 0 : len;
	size_t cap = 1024 + (extra_headers ? strlen(extra_headers) : 0) + body_len;
	char *buf = cap <= sizeof stack ? stack : malloc(cap);
	if (!buf) {
		static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
		h->status = 500;
		mg_write(h->conn, oom, sizeof oom - 1);
		return;
	}
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "X-Broker-API-Request-Identity: %s\r\n"
			 "Cache-Control: no-store\r\n"
			 "%s%s"
			 "\r\n",
			 status, status_text(status), content_type, len, h->request_id,
			 h->close ? "Connection: close\r\n" : "", extra_headers ? extra_headers : "");
	if (n < 0 || (size_t)n + body_len > cap) {
		n = snprintf(buf, cap, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
		status = 500;
		body_len = 0;
	}
	/* Head and body in one write: one send, one TCP segment for small answers. */
	if (body_len)
		memcpy(buf + n, data, body_len);
	h->status = status;
	mg_write(h->conn, buf, (size_t)n + body_len);
	if (buf != stack)
		free(buf);
}

void osb_http_send_json(osb_http *h, int status, const cJSON *body, const char *extra_headers)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text) {
		static const char oom[] = "{\"error\":\"InternalError\",\"description\":\"out of memory\"}";
		osb_http_send_raw(h, 500, "application/json", oom, sizeof oom - 1, NULL);
		return;
	}
	size_t len = text ? strlen(text) : 2;
	/* cJSON copies bytes as they are: text from a server's message or a record must not make the answer
	 * something other than UTF-8 JSON. Replacing a stray byte by '?' keeps the JSON's structure. */
	if (text && !osb_utf8_valid(text, len))
		osb_utf8_scrub(text, len);
	osb_http_send_raw(h, status, "application/json", text ? text : "{}", len, extra_headers);
	free(text);
}

void osb_http_send_error(osb_http *h, int code, int status, const char *description, int instance_usable,
			 int update_repeatable)
{
	if (!status)
		status = osb_error_http_status(code);
	cJSON *body = cJSON_CreateObject();
	const char *name = osb_error_name(code);
	if (!name)
		name = status == 410 ? "Gone" : status >= 500 ? "InternalError" : "BadRequest";
	cJSON_AddStringToObject(body, "error", name);
	cJSON_AddStringToObject(body, "description", description && *description ? description : osb_strerror(code));
	if (instance_usable >= 0)
		cJSON_AddBoolToObject(body, "instance_usable", instance_usable);
	if (update_repeatable >= 0)
		cJSON_AddBoolToObject(body, "update_repeatable", update_repeatable);
	const char *extra = NULL;
	if (status == 401)
		extra = "WWW-Authenticate: Basic realm=\"osb\"\r\n";
	else if (status == 429)
		extra = "Retry-After: 1\r\n";
	osb_http_send_json(h, status, body, extra);
	cJSON_Delete(body);
}

void osb_http_fail(osb_http *h, int code, int status, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	osb_http_send_error(h, code, status, buf, -1, -1);
}

int osb_http_valid_id(const char *id)
{
	size_t n = 0;
	int only_dots = 1;
	for (const char *p = id; *p; p++, n++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			 c == '.' || c == '_' || c == '~';
		if (!ok || n >= OSB_ID_MAX)
			return 0;
		if (c != '.')
			only_dots = 0;
	}
	return n > 0 && !only_dots;
}

/* Whether the raw query string holds `name=`, to tell "absent" from "empty". */
int osb_http_query(osb_http *h, const char *name, char *out, size_t size)
{
	const char *qs = h->ri->query_string;
	if (!qs)
		return 0;
	int n = mg_get_var(qs, strlen(qs), name, out, size);
	if (n == -1)
		return 0;
	if (n == -2)
		return -2; /* longer than `out` */
	if (n < 0 || strlen(out) != (size_t)n)
		return -1; /* a %00 inside */
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	return 1;
}

int osb_http_accepts_incomplete(osb_http *h)
{
	char v[16];
	int rc = osb_http_query(h, "accepts_incomplete", v, sizeof v);
	if (rc == 0)
		return 0;
	if (rc == 1 && strcmp(v, "true") == 0)
		return 1;
	if (rc == 1 && strcmp(v, "false") == 0)
		return 0;
	osb_http_fail(h, OSB_EBADREQUEST, 0, "accepts_incomplete must be true or false");
	return -1;
}

int osb_http_read_body(osb_http *h)
{
	long long declared = h->ri->content_length;
	long max = h->broker->config->max_body_bytes;
	if (declared > max) {
		osb_http_fail(h, OSB_ETOOLARGE, 0, "request body of %lld bytes is over the limit of %ld bytes",
			      declared, max);
		return -1;
	}
	size_t cap = declared >= 0 ? (size_t)declared : 4096;
	char *buf = malloc(cap + 1);
	size_t len = 0;
	if (!buf)
		goto oom;
	for (;;) {
		if (len == cap) {
			if (declared >= 0)
				break;
			if (cap >= (size_t)max) {
				free(buf);
				osb_http_fail(h, OSB_ETOOLARGE, 0, "request body is over the limit of %ld bytes", max);
				return -1;
			}
			size_t ncap = cap * 2 > (size_t)max ? (size_t)max : cap * 2;
			char *p = realloc(buf, ncap + 1);
			if (!p)
				goto oom;
			buf = p;
			cap = ncap;
		}
		int n = mg_read(h->conn, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (declared >= 0 && len != (size_t)declared) {
		free(buf);
		osb_http_fail(h, OSB_EBADREQUEST, 0, "request body ended after %zu of %lld bytes", len, declared);
		return -1;
	}
	buf[len] = '\0';
	h->body = buf;
	h->body_len = len;
	return 0;
oom:
	free(buf);
	osb_http_fail(h, OSB_ENOMEM, 0, "out of memory");
	return -1;
}

/* Deepest nesting accepted in a request's JSON; deeper input is refused before it is parsed. */
#define JSON_MAX_DEPTH 64

/*
 * One pass over JSON text before cJSON sees it: refuse nesting deeper than
 * JSON_MAX_DEPTH (cJSON and the validators recurse, and civetweb's threads have
 * small stacks) and the escape \u0000 (cJSON would end the string there, so
 * "a\u0000b" would silently become "a").
 * @return NULL when fine, else what is wrong.
 */
static const char *json_prescan(const char *text, size_t len)
{
	int depth = 0, in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\') {
				if (i + 5 < len && text[i + 1] == 'u' && text[i + 2] == '0' && text[i + 3] == '0' &&
				    text[i + 4] == '0' && text[i + 5] == '0')
					return "a string contains the escape \\u0000 (a NUL character)";
				i++; /* skip the escaped character */
			} else if (c == '"') {
				in_string = 0;
			}
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return "JSON is nested deeper than 64 levels";
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return NULL;
}

cJSON *osb_http_parse_body(osb_http *h)
{
	if (!h->body && osb_http_read_body(h) != 0)
		return NULL;
	if (h->body_len == 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "a JSON object body is required");
		return NULL;
	}
	if (memchr(h->body, '\0', h->body_len)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body contains a NUL byte");
		return NULL;
	}
	/* JSON is UTF-8 (RFC 8259); anything else would come back in messages and records as it is. */
	if (!osb_utf8_valid(h->body, h->body_len)) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body is not valid UTF-8");
		return NULL;
	}
	const char *bad = json_prescan(h->body, h->body_len);
	if (bad) {
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body is not acceptable: %s", bad);
		return NULL;
	}
	const char *end = NULL;
	/* cJSON 1.7.15 mishandles require_null_terminated with a length: check the tail ourselves. */
	cJSON *json = cJSON_ParseWithLengthOpts(h->body, h->body_len, &end, 0);
	while (json && end && end < h->body + h->body_len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (json && end != h->body + h->body_len) {
		cJSON_Delete(json);
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body has data after its JSON value (at byte %ld)",
			      (long)(end - h->body));
		return NULL;
	}
	if (!json) {
		const char *err = cJSON_GetErrorPtr();
		long at = err && err >= h->body && err <= h->body + h->body_len ? (long)(err - h->body) : -1;
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body is not valid JSON (error near byte %ld)", at);
		return NULL;
	}
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		osb_http_fail(h, OSB_EBADREQUEST, 0, "the body must be a JSON object");
		return NULL;
	}
	return json;
}

/* ---- the gate every /v2 request passes ----------------------------------- */

/* Request ids only need to be unique, not secret: a per-thread generator seeded once from getrandom. */
static uint64_t next_random(void)
{
	static _Thread_local uint64_t state;
	if (!state && (osb_random_bytes(&state, sizeof state) != 0 || !state))
		state = (uint64_t)now_us() | 1;
	/* splitmix64 */
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void new_request_id(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	uint64_t r[2] = { next_random(), next_random() };
	memcpy(b, r, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	int j = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}

static void take_request_id(osb_http *h)
{
	const char *given = mg_get_header(h->conn, "X-Broker-API-Request-Identity");
	size_t n = given ? strlen(given) : 0;
	int ok = n > 0 && n < sizeof h->request_id;
	for (size_t i = 0; ok && i < n; i++)
		if ((unsigned char)given[i] < 0x20 || (unsigned char)given[i] > 0x7e)
			ok = 0;
	if (ok)
		memcpy(h->request_id, given, n + 1);
	else
		new_request_id(h->request_id);
}

/* X-Broker-API-Version: 2.13 to 2.17. */
static int check_api_version(osb_http *h)
{
	const char *v = mg_get_header(h->conn, "X-Broker-API-Version");
	if (!v) {
		osb_http_fail(h, OSB_EAPIVERSION, 0,
			      "the X-Broker-API-Version header is required; this broker supports 2.%d to 2.%d",
			      OSB_API_VERSION_MIN_MINOR, OSB_API_VERSION_MAX_MINOR);
		return -1;
	}
	int major = -1, minor = -1, used = 0;
	if (sscanf(v, "%3d.%3d%n", &major, &minor, &used) == 2)
		while (v[used] == ' ' || v[used] == '\t') /* trailing whitespace is not part of a header value */
			used++;
	if (sscanf(v, "%3d.%3d", &major, &minor) != 2 || v[used] != '\0' || major != 2 ||
	    minor < OSB_API_VERSION_MIN_MINOR || minor > OSB_API_VERSION_MAX_MINOR || v[0] == '+' || v[0] == '-' ||
	    v[0] == ' ') {
		osb_http_fail(h, OSB_EAPIVERSION, 0, "X-Broker-API-Version %.*s is not supported; use 2.%d to 2.%d",
			      OSB_HTTP_CUT(v, 16), OSB_API_VERSION_MIN_MINOR, OSB_API_VERSION_MAX_MINOR);
		return -1;
	}
	return 0;
}

/* X-Broker-API-Originating-Identity: "<platform> <base64 of a JSON object>". */
static int take_identity(osb_http *h)
{
	const char *v = mg_get_header(h->conn, "X-Broker-API-Originating-Identity");
	if (!v)
		return 0;
	char *decoded = NULL;
	if (osb_auth_decode_identity(v, &decoded) != 0) {
		osb_http_fail(h, OSB_EBADREQUEST, 0,
			      "X-Broker-API-Originating-Identity must be \"<platform> <base64 of a JSON object>\"");
		return -1;
	}
	h->identity = decoded;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode one raw path segment into out (OSB_ID_MAX + 1 bytes). civetweb runs with
 * decode_url=no, so an encoded "/" stays inside its segment and an encoded NUL is seen here
 * and refused, instead of silently cutting the id short.
 */
static int decode_segment(char *out, const char *seg, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)seg[i];
		if (c == '%') {
			int hi = i + 2 < len ? hex_value(seg[i + 1]) : -1;
			int lo = i + 2 < len ? hex_value(seg[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || n >= OSB_ID_MAX)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* Split the path into a route and its ids. @return 0, or the status to answer with. */
static int match_route(osb_http *h, const char *path)
{
	if (strcmp(path, "/v2/catalog") == 0) {
		h->route = OSB_ROUTE_CATALOG;
		return 0;
	}
	if (strcmp(path, "/health/live") == 0) {
		h->route = OSB_ROUTE_HEALTH_LIVE;
		return 0;
	}
	if (strcmp(path, "/health/ready") == 0) {
		h->route = OSB_ROUTE_HEALTH_READY;
		return 0;
	}
	if (strcmp(path, "/metrics") == 0) {
		h->route = OSB_ROUTE_METRICS;
		return 0;
	}
	if (strcmp(path, "/usage/events") == 0) {
		h->route = OSB_ROUTE_USAGE_EVENTS;
		return 0;
	}
	if (strcmp(path, "/marketplace") == 0 || strncmp(path, "/marketplace/", 13) == 0) {
		h->route = OSB_ROUTE_MARKETPLACE;
		return 0;
	}
	static const char prefix[] = "/v2/service_instances/";
	if (strncmp(path, prefix, sizeof prefix - 1) != 0)
		return 404;
	const char *seg[5] = { 0 };
	size_t len[5] = { 0 };
	int nseg = 0;
	const char *p = path + sizeof prefix - 1;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (nseg == 5)
			return 404;
		seg[nseg] = p;
		len[nseg] = n;
		nseg++;
		if (!slash)
			break;
		p = slash + 1;
	}
	for (int i = 0; i < nseg; i++)
		if (len[i] == 0)
			return 404;
	if (decode_segment(h->instance_id, seg[0], len[0]))
		return 400;
	if (nseg == 1) {
		h->route = OSB_ROUTE_INSTANCE;
	} else if (nseg == 2 && len[1] == 14 && strncmp(seg[1], "last_operation", 14) == 0) {
		h->route = OSB_ROUTE_INSTANCE_LAST_OP;
	} else if ((nseg == 3 || nseg == 4) && len[1] == 16 && strncmp(seg[1], "service_bindings", 16) == 0) {
		if (decode_segment(h->binding_id, seg[2], len[2]))
			return 400;
		if (nseg == 3)
			h->route = OSB_ROUTE_BINDING;
		else if (len[3] == 14 && strncmp(seg[3], "last_operation", 14) == 0)
			h->route = OSB_ROUTE_BINDING_LAST_OP;
		else
			return 404;
	} else {
		return 404;
	}
	return 0;
}

typedef void (*handler_fn)(osb_http *);

/*
 * Debian's civetweb gives its worker threads 100 kB stacks. Requests that parse a
 * body, validate it against a schema and call a driver (libpq, libmariadb, libcurl...)
 * run instead on a runner thread with a normal stack, one per civetweb thread, which
 * the civetweb thread waits for. Reads (catalog, fetches, polls) stay where they are.
 */
#define RUNNER_STACK_SIZE (8u << 20)

typedef struct {
	pthread_t thread;
	sem_t go;
	sem_t done;
	osb_http *h;
	handler_fn fn; /* NULL asks the runner to exit */
} runner;

static pthread_key_t runner_key;
static pthread_once_t runner_once = PTHREAD_ONCE_INIT;

static void *runner_main(void *arg)
{
	runner *r = arg;
	for (;;) {
		while (sem_wait(&r->go) != 0)
			;
		if (!r->fn)
			return NULL;
		osb_log__set_request_id(r->h->request_id);
		r->fn(r->h);
		osb_log__set_request_id(NULL);
		sem_post(&r->done);
	}
}

/* When a civetweb thread ends, its runner ends too. */
static void runner_stop(void *arg)
{
	runner *r = arg;
	r->fn = NULL;
	sem_post(&r->go);
	pthread_join(r->thread, NULL);
	sem_destroy(&r->go);
	sem_destroy(&r->done);
	free(r);
}

static void runner_key_init(void)
{
	pthread_key_create(&runner_key, runner_stop);
}

static void run_with_big_stack(osb_http *h, handler_fn fn)
{
	pthread_once(&runner_once, runner_key_init);
	runner *r = pthread_getspecific(runner_key);
	if (!r && (r = calloc(1, sizeof *r))) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, RUNNER_STACK_SIZE);
		sem_init(&r->go, 0, 0);
		sem_init(&r->done, 0, 0);
		if (pthread_create(&r->thread, &attr, runner_main, r) != 0) {
			sem_destroy(&r->go);
			sem_destroy(&r->done);
			free(r);
			r = NULL;
		} else {
			pthread_setspecific(runner_key, r);
		}
		pthread_attr_destroy(&attr);
	}
	if (!r) {
		osb_http_fail(h, OSB_EUNAVAILABLE, 0, "the broker cannot start a thread; retry shortly");
		return;
	}
	r->h = h;
	r->fn = fn;
	sem_post(&r->go);
	while (sem_wait(&r->done) != 0)
		;
}

/* The handler for a route and method, NULL when the method is not allowed. */
static handler_fn find_handler(osb_route route, const char *m, const char **allow)
{
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
	switch (route) {
	case OSB_ROUTE_CATALOG: *allow = "GET"; return get ? osb_api_catalog : NULL;
	case OSB_ROUTE_HEALTH_LIVE: *allow = "GET"; return get ? osb_api_health_live : NULL;
	case OSB_ROUTE_HEALTH_READY: *allow = "GET"; return get ? osb_api_health_ready : NULL;
	case OSB_ROUTE_METRICS: *allow = "GET"; return get ? osb_api_metrics : NULL;
	case OSB_ROUTE_USAGE_EVENTS: *allow = "GET"; return get ? osb_api_usage_events : NULL;
	case OSB_ROUTE_MARKETPLACE: *allow = "GET"; return get ? osb_api_marketplace : NULL;
	case OSB_ROUTE_INSTANCE:
		*allow = "GET, PUT, PATCH, DELETE";
		if (get)
			return osb_api_instance_get;
		if (strcmp(m, "PUT") == 0)
			return osb_api_instance_put;
		if (strcmp(m, "PATCH") == 0)
			return osb_api_instance_patch;
		if (strcmp(m, "DELETE") == 0)
			return osb_api_instance_delete;
		return NULL;
	case OSB_ROUTE_INSTANCE_LAST_OP: *allow = "GET"; return get ? osb_api_instance_last_operation : NULL;
	case OSB_ROUTE_BINDING:
		*allow = "GET, PUT, DELETE";
		if (get)
			return osb_api_binding_get;
		if (strcmp(m, "PUT") == 0)
			return osb_api_binding_put;
		if (strcmp(m, "DELETE") == 0)
			return osb_api_binding_delete;
		return NULL;
	case OSB_ROUTE_BINDING_LAST_OP: *allow = "GET"; return get ? osb_api_binding_last_operation : NULL;
	case OSB_ROUTE_UNKNOWN:
	case OSB_ROUTE_COUNT: break;
	}
	*allow = "";
	return NULL;
}

static void send_method_not_allowed(osb_http *h, const char *allow)
{
	char hdr[96];
	snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "error", "MethodNotAllowed");
	cJSON_AddStringToObject(body, "description", "this method is not allowed on this route");
	osb_http_send_json(h, 405, body, hdr);
	cJSON_Delete(body);
}

/* Append `value` to out as a JSON string (with quotes). */
static size_t json_string(char *out, size_t size, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	if (size < 3)
		return 0;
	out[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p && n + 8 < size; p++) {
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p;
		} else if (*p < 0x20) {
			n += (size_t)snprintf(out + n, size - n, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

/* One JSON line per request, built without allocations: the hot path of every answer. */
static void log_request(osb_http *h, int64_t duration_us)
{
	int error = h->status >= 500;
	if (!osb_log__enabled(error ? OSB_LOG_ERROR : OSB_LOG_INFO))
		return;
	if ((h->route == OSB_ROUTE_HEALTH_LIVE || h->route == OSB_ROUTE_METRICS) && h->status < 400)
		return; /* probes would drown the log */
	char line[3072], ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t t = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + t, sizeof ts - t, ".%03ldZ", now.tv_nsec / 1000000);
	size_t n = (size_t)snprintf(line, sizeof line,
				    "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"request\",\"request_id\":", ts,
				    error ? "error" : "info");
	n += json_string(line + n, sizeof line - n, h->request_id);
	n += (size_t)snprintf(line + n, sizeof line - n, ",\"method\":");
	n += json_string(line + n, sizeof line - n, h->method);
	n += (size_t)snprintf(line + n, sizeof line - n,
			      ",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"remote\":",
			      osb_route_name(h->route), h->status, (double)duration_us / 1000.0);
	n += json_string(line + n, sizeof line - n, h->ri->remote_addr);
	if (h->instance_id[0] && osb_http_valid_id(h->instance_id) && n < sizeof line - 300) {
		n += (size_t)snprintf(line + n, sizeof line - n, ",\"instance_id\":");
		n += json_string(line + n, sizeof line - n, h->instance_id);
	}
	if (h->binding_id[0] && osb_http_valid_id(h->binding_id) && n < sizeof line - 300) {
		n += (size_t)snprintf(line + n, sizeof line - n, ",\"binding_id\":");
		n += json_string(line + n, sizeof line - n, h->binding_id);
	}
	if (h->operation && n < sizeof line - 100) {
		n += (size_t)snprintf(line + n, sizeof line - n, ",\"operation\":");
		n += json_string(line + n, sizeof line - n, h->operation);
	}
	if (h->identity && n < sizeof line - 600) {
		char id[512];
		snprintf(id, sizeof id, "%s", h->identity);
		n += (size_t)snprintf(line + n, sizeof line - n, ",\"originating_identity\":");
		n += json_string(line + n, sizeof line - n, id);
	}
	if (n < sizeof line - 1)
		snprintf(line + n, sizeof line - n, "}");
	osb_utf8_scrub(line, strlen(line));
	osb_log__write_line(line);
}

int osb_http_begin_request(struct mg_connection *conn)
{
	return osb_http_handle(conn, mg_get_user_data(mg_get_context(conn)));
}

int osb_http_handle(struct mg_connection *conn, void *cbdata)
{
	osb_http h;
	memset(&h, 0, sizeof h);
	h.conn = conn;
	h.ri = mg_get_request_info(conn);
	h.broker = cbdata;
	h.method = h.ri->request_method ? h.ri->request_method : "GET";
	h.start_us = now_us();
	osb_acceptor__request(1);
	take_request_id(&h);
	osb_log__set_request_id(h.request_id);

	const char *path = h.ri->local_uri_raw ? h.ri->local_uri_raw : h.ri->local_uri;
	int route_status = path ? match_route(&h, path) : 404;
	const char *allow = NULL;
	handler_fn fn = NULL;
	if (h.broker->ratelimit && !osb_ratelimit_allow(h.broker->ratelimit, h.ri->remote_addr)) {
		osb_metrics_rate_limited();
		osb_http_fail(&h, OSB_ERATELIMIT, 0, "too many requests from %s; slow down", h.ri->remote_addr);
		goto done;
	}
	if (route_status == 404) {
		osb_http_fail(&h, OSB_ENOTFOUND, 404, "no such route");
		goto done;
	}
	int public_route = h.route == OSB_ROUTE_HEALTH_LIVE || h.route == OSB_ROUTE_HEALTH_READY ||
			   (h.route == OSB_ROUTE_METRICS && !h.broker->config->metrics_auth) ||
			   (h.route == OSB_ROUTE_MARKETPLACE && h.broker->config->marketplace_public);
	if (!public_route) {
		const char *user = NULL;
		if (osb_auth_check(h.broker->config, mg_get_header(conn, "Authorization"), &user) != 0) {
			osb_metrics_auth_failure();
			osb_log(OSB_LOG_WARN, "auth.failed", "authentication failed from %s%s%s", h.ri->remote_addr,
				user ? " for user " : "", user ? user : "");
			free((void *)user);
			osb_http_fail(&h, OSB_EUNAUTHORIZED, 0, "valid Basic authentication credentials are required");
			goto done;
		}
	}
	if (route_status) {
		osb_http_fail(&h, OSB_EBADREQUEST, 400,
			      "an id in the path is not valid: longer than 255 bytes, a bad %%-escape or a NUL byte");
		goto done;
	}
	fn = find_handler(h.route, h.method, &allow);
	if (!fn) {
		send_method_not_allowed(&h, allow);
		goto done;
	}
	if (h.route != OSB_ROUTE_HEALTH_LIVE && h.route != OSB_ROUTE_HEALTH_READY && h.route != OSB_ROUTE_METRICS &&
	    h.route != OSB_ROUTE_USAGE_EVENTS && h.route != OSB_ROUTE_MARKETPLACE) {
		if (check_api_version(&h) != 0 || take_identity(&h) != 0)
			goto done;
		if (h.instance_id[0] && !osb_http_valid_id(h.instance_id)) {
			osb_http_fail(&h, OSB_EBADREQUEST, 0,
				      "instance_id must be 1 to 255 characters from A-Z a-z 0-9 - . _ ~");
			goto done;
		}
		if (h.binding_id[0] && !osb_http_valid_id(h.binding_id)) {
			osb_http_fail(&h, OSB_EBADREQUEST, 0,
				      "binding_id must be 1 to 255 characters from A-Z a-z 0-9 - . _ ~");
			goto done;
		}
		if (atomic_load(&h.broker->shutting_down) && strcmp(h.method, "GET") != 0) {
			osb_http_fail(&h, OSB_EUNAVAILABLE, 0, "the broker is shutting down; retry shortly");
			goto done;
		}
	}
	if (strcmp(h.method, "GET") == 0 || strcmp(h.method, "HEAD") == 0)
		fn(&h);
	else
		run_with_big_stack(&h, fn);
done:
	if (!h.status) /* a handler that forgot to answer is a bug: still answer */
		osb_http_fail(&h, OSB_ERROR, 0, "no response was produced");
	int64_t took = now_us() - h.start_us;
	osb_metrics_request(h.route, h.method, h.status, took);
	log_request(&h, took);
	osb_log__set_request_id(NULL);
	free(h.body);
	free(h.identity);
	osb_acceptor__request(-1);
	return h.status;
}

/* Whether `m` is an HTTP method token (RFC 9110 tchar). */
static int method_token(const char *m)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (!*m)
		return 0;
	for (; *m; m++)
		if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') || (*m >= '0' && *m <= '9') ||
		      strchr(extra, *m)))
			return 0;
	return 1;
}

/*
 * civetweb 1.15 refuses a request line whose method it does not know (TRACE, for one) with
 * 400, before any callback sees the request. Such a request is well formed: it gets what other
 * wrong methods get, 404 for an unknown route or 405 with Allow. Its headers were not parsed,
 * so it is answered without looking at them (no auth: the answer tells nothing a 404 does not).
 */
static int answer_unknown_method(struct mg_connection *conn, const struct mg_request_info *ri)
{
	static const char *const known[] = { "GET",  "HEAD",    "PUT",       "PATCH",    "DELETE",
					     "POST", "OPTIONS", "CONNECT",   "PROPFIND", "MKCOL",
					     "LOCK", "UNLOCK",  "PROPPATCH", "REPORT",   NULL };
	const char *m = ri->request_method, *uri = ri->request_uri, *v = ri->http_version;
	if (!m || !uri || !v || !method_token(m) || (strcmp(v, "1.1") != 0 && strcmp(v, "1.0") != 0))
		return 0;
	for (int i = 0; known[i]; i++)
		if (strcmp(m, known[i]) == 0)
			return 0; /* civetweb knows it: the 400 is about something else */
	osb_http h;
	memset(&h, 0, sizeof h);
	h.conn = conn;
	h.ri = ri;
	h.broker = mg_get_user_data(mg_get_context(conn));
	h.method = m;
	h.start_us = now_us();
	h.close = 1; /* civetweb closes the connection after an error */
	new_request_id(h.request_id);
	char path[2048];
	size_t n = strcspn(uri, "?");
	int route_status = uri[0] == '/' && n < sizeof path ? 0 : 404;
	if (!route_status) {
		memcpy(path, uri, n);
		path[n] = '\0';
		route_status = match_route(&h, path);
	}
	const char *allow = "";
	if (route_status == 404 || (find_handler(h.route, m, &allow), !allow[0]))
		osb_http_fail(&h, OSB_ENOTFOUND, 404, "no such route");
	else
		send_method_not_allowed(&h, allow);
	int64_t took = now_us() - h.start_us;
	osb_metrics_request(h.route, "OTHER", h.status, took);
	log_request(&h, took);
	return 1;
}

int osb_http_error(struct mg_connection *conn, int status, const char *msg)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	if (status == 400 && ri && answer_unknown_method(conn, ri))
		return 0;
	char body[512];
	cJSON *s = cJSON_CreateString(msg ? msg : "bad request");
	char *m = s ? cJSON_PrintUnformatted(s) : NULL;
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"description\":%s}",
			 status == 413   ? "PayloadTooLarge"
			 : status >= 500 ? "InternalError"
					 : "BadRequest",
			 m ? m : "\"bad request\"");
	free(m);
	cJSON_Delete(s);
	if (n < 0 || (size_t)n >= sizeof body)
		n = snprintf(body, sizeof body, "{\"error\":\"BadRequest\",\"description\":\"bad request\"}");
	osb_utf8_scrub(body, (size_t)n);
	mg_printf(
		conn,
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, status_text(status), n, body);
	osb_metrics_request(OSB_ROUTE_UNKNOWN, "OTHER", status, 0);
	return 0;
}
