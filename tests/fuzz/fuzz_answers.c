/*
 * libFuzzer target: every answer the broker writes is UTF-8 JSON. Requests built from the input go through
 * the core's real request path (osb_http_handle: routing, auth, version, ids, bodies, the handlers, the
 * store, the engine) against a test driver whose failure messages carry bytes that are not UTF-8, and
 * through the civetweb error callback (osb_http_error). The civetweb calls the core makes on a
 * connection are answered by a fake connection defined here; the answer must be a whole HTTP message
 * whose JSON body is well-formed UTF-8 and parses, or the target aborts.
 *
 * Input: lines "METHOD", "PATH", "QUERY", "X-Broker-API-Version" (empty: 2.17),
 * "X-Broker-API-Originating-Identity" (empty: none), then the body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "broker_internal.h"
#include "catalog.h"
#include "config.h"
#include "engine.h"
#include "gateway.h"
#include "http.h"
#include "log_internal.h"
#include "osb/utf8.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a fake civetweb connection ------------------------------------------------------------ */

struct mg_connection {
	struct mg_request_info ri;
	const char *version;  /* X-Broker-API-Version */
	const char *identity; /* X-Broker-API-Originating-Identity or NULL */
	const char *body;
	size_t body_len, body_pos;
	char *out; /* everything written */
	size_t out_len, out_cap;
	struct osb_broker *broker;
};

const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn)
{
	return &conn->ri;
}

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
	if (strcasecmp(name, "Authorization") == 0)
		return "Basic YnJva2VyOnBhc3N3b3JkMQ=="; /* broker:password1 */
	if (strcasecmp(name, "X-Broker-API-Version") == 0)
		return conn->version;
	if (strcasecmp(name, "X-Broker-API-Originating-Identity") == 0)
		return conn->identity;
	return NULL;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len)
{
	if (conn->out_len + len > conn->out_cap) {
		size_t cap = (conn->out_len + len) * 2;
		char *p = realloc(conn->out, cap);
		if (!p)
			abort();
		conn->out = p;
		conn->out_cap = cap;
	}
	memcpy(conn->out + conn->out_len, buf, len);
	conn->out_len += len;
	return (int)len;
}

int mg_printf(struct mg_connection *conn, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		abort(); /* the core's error answers are small */
	return mg_write(conn, buf, (size_t)n);
}

int mg_read(struct mg_connection *conn, void *buf, size_t len)
{
	size_t left = conn->body_len - conn->body_pos;
	size_t n = len < left ? len : left;
	memcpy(buf, conn->body + conn->body_pos, n);
	conn->body_pos += n;
	return (int)n;
}

struct mg_context *mg_get_context(const struct mg_connection *conn)
{
	return (struct mg_context *)conn->broker;
}

void *mg_get_user_data(const struct mg_context *ctx)
{
	return (void *)ctx;
}

void mg_disable_connection_keep_alive(struct mg_connection *conn)
{
	(void)conn;
}

/* ---- a driver whose failures carry bytes that are not UTF-8 ------------------------------------ */

/* "fail": "<text>" in the parameters fails the operation with that text and a stray 0xFF byte. */
static int fuzz_op(osb_request *req, void *state)
{
	(void)state;
	const cJSON *fail = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "fail");
	if (cJSON_IsString(fail))
		return osb_req_fail(req, OSB_EBACKEND, "the server said: %s \xff\xfe", fail->valuestring);
	return 0;
}

static int fuzz_init(void **state, const cJSON *config, const osb_broker *broker)
{
	(void)config;
	(void)broker;
	*state = NULL;
	return 0;
}

static void fuzz_shutdown(void *state)
{
	(void)state;
}

/* No real server: the driver only answers. */
static const osb_server_spec fuzz_server = { .default_port = 1, .default_admin_user = "", .password_optional = 1 };

static const struct osb_driver fuzz_driver = {
	OSB_DRIVER_INIT,
	.name = "fuzz",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC,
	.server = &fuzz_server,
	.init = fuzz_init,
	.shutdown = fuzz_shutdown,
	.provision = fuzz_op,
	.deprovision = fuzz_op,
	.update = fuzz_op,
	.bind = fuzz_op,
	.unbind = fuzz_op,
};

static const char catalog_json[] =
	"{\"services\":[{\"id\":\"s\",\"name\":\"s\",\"description\":\"d\",\"bindable\":true,\"plan_updateable\":true,"
	"\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"d\",\"maintenance_info\":{\"version\":\"1.0.0\"},"
	"\"schemas\":{\"service_instance\":{\"create\":{\"parameters\":{"
	"\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
	"\"integer\",\"maximum\":5,\"default\":1},\"fail\":{\"type\":\"string\"},\"e\":{\"type\":\"string\",\"enum\":"
	"[\"a\",\"\xc3\xa9\"]}}}}}}},"
	"{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"x-osb\":{\"async\":true,\"async_bindings\":true}}]}]}";

static struct osb_broker broker;

static void setup(void)
{
	static char dir[] = "/dev/shm/osb-fuzz-answers.XXXXXX";
	char path[256], err[512];
	if (!mkdtemp(dir) && !mkdtemp(strcpy(dir, "/tmp/osb-fuzz-answers.XXXXXX")))
		abort();
	/* The configuration as a broker reads it, from a file. */
	char cfg[1024];
	int n = snprintf(cfg, sizeof cfg,
			 "{\"listen\":\"127.0.0.1:1\","
			 "\"accounts\":[{\"username\":\"broker\",\"password\":\"password1\"}],"
			 "\"catalog\":\"unused.json\",\"data_dir\":\"%s\",\"workers\":1,"
			 "\"timeouts\":{\"sync_s\":5,\"async_s\":5},"
			 "\"encryption_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
			 dir);
	snprintf(path, sizeof path, "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(cfg, 1, (size_t)n, f) != (size_t)n || fclose(f))
		abort();
	osb_config *config = NULL;
	osb_catalog *catalog = NULL;
	if (osb_config_load(&config, path, err, sizeof err) ||
	    osb_catalog_parse(&catalog, catalog_json, sizeof catalog_json - 1, "fuzz", fuzz_driver.caps, err,
			      sizeof err)) {
		fprintf(stderr, "fuzz_answers: %s\n", err);
		abort();
	}
	osb_log__set_level((osb_log_level)(OSB_LOG_ERROR + 1)); /* nothing: a line per request would drown the run */
	osb_store_options so;
	memset(&so, 0, sizeof so);
	so.type = OSB_STORE_SQLITE;
	snprintf(path, sizeof path, "%s/state.db", dir);
	so.path = path;
	memcpy(so.key, config->key, sizeof so.key);
	so.pool_size = 4;
	so.busy_timeout_ms = 5000;
	broker.config = config;
	broker.catalog = catalog;
	if (osb_store_open(&broker.store, &so) ||
	    osb_gateway_open(&broker.gateway, &broker, &fuzz_driver, config->driver) ||
	    osb_engine_start(&broker.engine, &broker))
		abort();
}

/* The answer written on `conn` is one HTTP message; a JSON one is UTF-8 and parses. */
static void check_answer(const struct mg_connection *conn, const char *method)
{
	if (!conn->out_len)
		abort(); /* every request gets an answer */
	char *text = malloc(conn->out_len + 1);
	if (!text)
		abort();
	memcpy(text, conn->out, conn->out_len);
	text[conn->out_len] = '\0';
	int status = 0;
	char *end = strstr(text, "\r\n\r\n");
	if (!end || sscanf(text, "HTTP/1.1 %3d ", &status) != 1 || status < 200 || status > 599)
		abort();
	const char *cl = strstr(text, "Content-Length: ");
	long declared = cl && cl < end ? strtol(cl + 16, NULL, 10) : -1;
	const char *body = end + 4;
	size_t len = conn->out_len - (size_t)(body - text);
	int head = strcmp(method, "HEAD") == 0;
	if (declared < 0 || (!head && (size_t)declared != len) || (head && len != 0))
		abort();
	const char *ct = strstr(text, "Content-Type: application/json");
	if (ct && ct < end && !head && status != 304) {
		if (!osb_utf8_valid(body, len))
			abort(); /* the outside check's finding: an answer that is not UTF-8 */
		cJSON *json = cJSON_ParseWithLength(body, len);
		if (!json)
			abort();
		cJSON_Delete(json);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!broker.store)
		setup();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* method, path, query, version, identity, then the body */
	char *lines[5] = { NULL };
	char *p = text;
	for (int i = 0; i < 5; i++) {
		char *nl = memchr(p, '\n', size - (size_t)(p - text));
		if (!nl)
			goto out;
		*nl = '\0';
		lines[i] = p;
		p = nl + 1;
	}
	if (!lines[0][0] || strlen(lines[0]) > 16 || lines[1][0] != '/')
		goto out;
	struct mg_connection conn;
	memset(&conn, 0, sizeof conn);
	conn.broker = &broker;
	conn.ri.request_method = lines[0];
	conn.ri.request_uri = lines[1];
	conn.ri.local_uri = lines[1];
	conn.ri.local_uri_raw = lines[1];
	conn.ri.http_version = "1.1";
	conn.ri.query_string = lines[2][0] ? lines[2] : NULL;
	strcpy(conn.ri.remote_addr, "127.0.0.1");
	conn.version = lines[3][0] ? lines[3] : "2.17";
	conn.identity = lines[4][0] ? lines[4] : NULL;
	conn.body = p;
	conn.body_len = size - (size_t)(p - text);
	conn.ri.content_length = conn.body_len ? (long long)conn.body_len : -1;
	osb_http_handle(&conn, &broker);
	check_answer(&conn, conn.ri.request_method);

	/* The same request line refused by civetweb itself (it does so for methods it does not know). */
	conn.out_len = 0;
	conn.ri.num_headers = 0;
	osb_http_error(&conn, 400, conn.body_len ? conn.body : "Bad request");
	check_answer(&conn, "GET");
	free(conn.out);
out:
	free(text);
	return 0;
}
