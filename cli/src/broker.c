/* One OSB request to a broker over libcurl: headers the spec asks for, auth, timeouts, Retry-After, Ctrl-C. */
#include "broker.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"

#define BODY_MAX (32u << 20)
#define TIMEOUT_S 90L
#define CONNECT_TIMEOUT_S 10L

void broker_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void broker_global_cleanup(void)
{
	curl_global_cleanup();
}

void broker_new_id(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* Never on Linux >= 3.17; still, never two equal ids. */
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)(rand() ^ getpid() ^ (int)i);
	}
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

char *broker_escape(const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0);
	char *copy = e ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}

typedef struct {
	broker_resp *r;
	size_t cap;
	int too_large;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
	sink *s = payload;
	size_t len = size * n;
	if (s->r->len + len > BODY_MAX) {
		s->too_large = 1;
		return 0;
	}
	if (s->r->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		while (cap < s->r->len + len + 1)
			cap *= 2;
		char *p = realloc(s->r->body, cap);
		if (!p)
			return 0;
		s->r->body = p;
		s->cap = cap;
	}
	memcpy(s->r->body + s->r->len, data, len);
	s->r->len += len;
	s->r->body[s->r->len] = '\0';
	return len;
}

/* Retry-After in seconds (the form brokers send; an HTTP date is ignored). */
static size_t on_header(char *data, size_t size, size_t n, void *payload)
{
	broker_resp *r = payload;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		const char *p = data + sizeof name - 1;
		while (p < data + len && (*p == ' ' || *p == '\t'))
			p++;
		if (p < data + len && isdigit((unsigned char)*p)) {
			long v = strtol(p, NULL, 10);
			r->retry_after = v > 3600 ? 3600 : (int)v;
		}
	}
	return len;
}

static int on_progress(void *payload, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)payload, (void)dt, (void)dn, (void)ut, (void)un;
	return cli_interrupted ? 1 : 0; /* non-zero aborts the transfer */
}

/* "<platform> <base64 JSON>": the local user asks, and usage records say who. */
static void identity_header(char *out, size_t size)
{
	char name[256] = "unknown", json[400];
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		snprintf(name, sizeof name, "%s", pw->pw_name);
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "user_id", name);
	char *text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	snprintf(json, sizeof json, "%s", text ? text : "{}");
	free(text);
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(json), j = (size_t)snprintf(out, size, "X-Broker-API-Originating-Identity: osb ");
	for (size_t i = 0; i < n && j + 5 < size; i += 3) {
		unsigned v24 = (unsigned char)json[i] << 16 | (i + 1 < n ? (unsigned char)json[i + 1] << 8 : 0) |
			       (i + 2 < n ? (unsigned char)json[i + 2] : 0);
		out[j++] = b64[v24 >> 18 & 63];
		out[j++] = b64[v24 >> 12 & 63];
		out[j++] = i + 1 < n ? b64[v24 >> 6 & 63] : '=';
		out[j++] = i + 2 < n ? b64[v24 & 63] : '=';
	}
	out[j] = '\0';
}

/*
 * A broker's texts reach the user's terminal (descriptions, catalogs, errors): control
 * characters in them could move the cursor or rewrite the screen. Replace C0 (but newline
 * and tab), DEL and, UTF-8 encoded, C1 controls with '?'. Credentials are left as they are:
 * they are only ever printed as JSON, escaped.
 */
static void defuse(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) {
			*p = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
}

static void defuse_tree(cJSON *item, int depth)
{
	for (cJSON *c = item ? item->child : NULL; c && depth < 64; c = c->next) {
		if (c->string && strcmp(c->string, "credentials") == 0)
			continue;
		if (c->string)
			defuse(c->string); /* keys are shown too: parameter names */
		if (cJSON_IsString(c) && c->valuestring)
			defuse(c->valuestring);
		defuse_tree(c, depth + 1);
	}
}

int broker_call(const cli_broker *b, const char *method, const char *path, const cJSON *body, broker_resp *out)
{
	char url[8192], request_id[37], hdr_id[96], hdr_identity[1024];
	char *json = NULL;
	struct curl_slist *headers = NULL;
	sink s = { out, 0, 0 };
	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	if (snprintf(url, sizeof url, "%s%s", b->url, path) >= (int)sizeof url) {
		snprintf(out->error, sizeof out->error, "the URL is too long");
		return -1;
	}
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(out->error, sizeof out->error, "cannot start libcurl");
		return -1;
	}
	broker_new_id(request_id);
	snprintf(hdr_id, sizeof hdr_id, "X-Broker-API-Request-Identity: %s", request_id);
	identity_header(hdr_identity, sizeof hdr_identity);
	headers = curl_slist_append(headers, "X-Broker-API-Version: 2.17");
	headers = curl_slist_append(headers, hdr_id);
	headers = curl_slist_append(headers, hdr_identity);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (body) {
		json = cJSON_PrintUnformatted(body);
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json ? json : "{}");
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	/* The account never appears on a command line or in a URL: libcurl builds the Authorization header. */
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERNAME, b->username);
	curl_easy_setopt(h, CURLOPT_PASSWORD, b->password);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	const char *ca = getenv("OSB_CA_FILE");
	if (ca && *ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		if (!out->body)
			out->body = strdup("");
		out->json = cJSON_ParseWithLength(out->body ? out->body : "", out->len);
		defuse_tree(out->json, 0);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(out->error, sizeof out->error, "interrupted");
	} else if (s.too_large) {
		snprintf(out->error, sizeof out->error, "the answer is larger than %u bytes", BODY_MAX);
	} else {
		snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	free(json);
	return rc == CURLE_OK ? 0 : -1;
}

void broker_resp_free(broker_resp *r)
{
	cJSON_Delete(r->json);
	free(r->body);
	memset(r, 0, sizeof *r);
}

void broker_describe(const broker_resp *r, char *out, size_t size)
{
	if (!r->status) {
		snprintf(out, size, "%s", r->error[0] ? r->error : "no answer");
		return;
	}
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->json, "description");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	snprintf(out, size, "%ld%s%s%s%s", r->status, cJSON_IsString(e) ? " " : "",
		 cJSON_IsString(e) ? e->valuestring : "", cJSON_IsString(d) ? ": " : "",
		 cJSON_IsString(d) ? d->valuestring : "");
}

cJSON *broker_error_extra(const broker_resp *r)
{
	cJSON *x = cJSON_CreateObject();
	if (!r->status) {
		cJSON_AddStringToObject(x, "transport_error", r->error);
		return x;
	}
	cJSON_AddNumberToObject(x, "status", (double)r->status);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->json, "description");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	if (cJSON_IsString(e))
		cJSON_AddStringToObject(x, "broker_error", e->valuestring);
	if (cJSON_IsString(d))
		cJSON_AddStringToObject(x, "broker_description", d->valuestring);
	return x;
}
