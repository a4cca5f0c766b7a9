/* The marketplace page served by the tool: civetweb, the core's renderer, catalogs cached for a few seconds. */
#include "serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "market.h"
#include "osb/marketplace.h"
#include "output.h"

#define CACHE_S 10

typedef struct {
	const cli_brokers *brokers;
	const char *only;
	pthread_mutex_t mu;
	cJSON *doc; /* the last marketplace document */
	time_t fetched_at;
} server;

/* The document, read again when older than CACHE_S. Caller frees the copy. */
static cJSON *current_doc(server *s)
{
	pthread_mutex_lock(&s->mu);
	time_t now = time(NULL);
	if (!s->doc || now - s->fetched_at >= CACHE_S) {
		cJSON *fresh = market_fetch(s->brokers, s->only);
		if (fresh) {
			cJSON_Delete(s->doc);
			s->doc = fresh;
			s->fetched_at = now;
		}
	}
	cJSON *copy = s->doc ? cJSON_Duplicate(s->doc, 1) : NULL;
	pthread_mutex_unlock(&s->mu);
	return copy;
}

static int reply(struct mg_connection *conn, int status, const char *type, const char *data, size_t len)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int head = ri->request_method && strcmp(ri->request_method, "HEAD") == 0;
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
		  status,
		  status == 200   ? "OK"
		  : status == 404 ? "Not Found"
		  : status == 405 ? "Method Not Allowed"
				  : "Internal Server Error",
		  type, len, OSB_MARKETPLACE_HEADERS);
	if (!head && len)
		mg_write(conn, data, len);
	return status;
}

static int handle(struct mg_connection *conn)
{
	server *s = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri ? ri->local_uri : "/";
	const char *method = ri->request_method ? ri->request_method : "GET";
	static const char text[] = "text/plain; charset=utf-8";
	size_t len;
	const char *type;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, 405, text, "read-only\n", 10);
	if (strncmp(path, "/marketplace/", 13) == 0 && path[13] && strcmp(path + 13, "catalog.json") != 0) {
		const unsigned char *asset = osb_marketplace_asset(path + 13, &len, &type);
		return asset ? reply(conn, 200, type, (const char *)asset, len)
			     : reply(conn, 404, text, "not found\n", 10);
	}
	int page = strcmp(path, "/") == 0 || strcmp(path, "/marketplace") == 0 || strcmp(path, "/marketplace/") == 0;
	if (!page && strcmp(path, "/marketplace/catalog.json") != 0)
		return reply(conn, 404, text, "not found\n", 10);
	cJSON *doc = current_doc(s);
	if (!doc)
		return reply(conn, 500, text, "out of memory\n", 14);
	/* Registered URLs stay on this machine: the page names brokers, never where they are. */
	cJSON *b;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
		cJSON_DeleteItemFromObjectCaseSensitive(b, "url");
	int status;
	if (!page) {
		char *json = cJSON_PrintUnformatted(doc);
		status =
			json ? reply(conn, 200, "application/json", json, strlen(json)) : reply(conn, 500, text, "", 0);
		free(json);
	} else {
		char q[257], *html = NULL;
		const char *qs = ri->query_string;
		int has_q = qs && mg_get_var(qs, strlen(qs), "q", q, sizeof q) > 0;
		if (osb_marketplace_render(&html, doc, "Service marketplace", has_q ? q : NULL) == 0)
			status = reply(conn, 200, "text/html; charset=utf-8", html, strlen(html));
		else
			status = reply(conn, 500, text, "cannot render the page\n", 23);
		free(html);
	}
	cJSON_Delete(doc);
	return status;
}

static int quiet_log(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	(void)message;
	return 1;
}

int serve_marketplace(cli *c, const cli_brokers *brokers, const char *only, const char *addr)
{
	server s = { brokers, only, PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
	const char *opts[] = { "listening_ports",          addr, "num_threads", "4", "request_timeout_ms", "10000",
			       "enable_directory_listing", "no", NULL };
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.begin_request = handle;
	cb.log_message = quiet_log;
	/* The server's threads inherit this mask: the signals reach sigwait() below only. */
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	mg_init_library(0);
	struct mg_context *ctx = mg_start(&cb, &s, opts);
	if (!ctx) {
		mg_exit_library();
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return out_fail(c, CLI_USAGE, NULL, "cannot listen on %s (in use, or not HOST:PORT)", addr);
	}
	struct mg_server_port ports[4];
	int n = mg_get_server_ports(ctx, 4, ports);
	char host[256];
	snprintf(host, sizeof host, "%s", addr);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	if (!colon || !host[0] || strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	char url[400];
	snprintf(url, sizeof url, "http://%s:%d/marketplace", host, n > 0 ? ports[0].port : 0);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "url", url);
		out_json(doc);
	} else {
		printf("%s\n", url);
		fflush(stdout);
		out_note(c, "Serving the marketplace of %zu broker%s; Ctrl-C stops.", only ? (size_t)1 : brokers->n,
			 !only && brokers->n != 1 ? "s" : "");
	}
	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	mg_stop(ctx);
	mg_exit_library();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	cJSON_Delete(s.doc);
	pthread_mutex_destroy(&s.mu);
	return CLI_OK;
}
