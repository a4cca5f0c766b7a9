/* HTTP client for drivers' admin APIs: one libcurl easy handle per call, Basic auth, JSON (or other) bodies, hard timeouts. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "osb/http_client.h"

static pthread_once_t http_client_once = PTHREAD_ONCE_INIT;
static CURLcode http_client_init_rc = CURLE_FAILED_INIT;

/* Where the response body accumulates, up to `max` bytes. */
struct http_sink {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	int too_large;
};

static void http_client_global_init(void)
{
	/* curl_global_init is not thread-safe in every libcurl build: run it once. */
	http_client_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t http_client_write(char *data, size_t size, size_t nmemb, void *payload)
{
	struct http_sink *sink = payload;
	size_t n = size * nmemb;

	if (n > sink->max - sink->len) {
		sink->too_large = 1;
		return 0;
	}
	if (sink->len + n + 1 > sink->cap) {
		size_t ncap = sink->cap ? sink->cap : 1024;
		char *nbuf;

		while (ncap < sink->len + n + 1)
			ncap *= 2;
		nbuf = realloc(sink->buf, ncap);
		if (!nbuf)
			return 0;
		sink->buf = nbuf;
		sink->cap = ncap;
	}
	memcpy(sink->buf + sink->len, data, n);
	sink->len += n;
	sink->buf[sink->len] = '\0';
	return n;
}

static int http_client_method_ok(const char *method)
{
	static const char *const methods[] = { "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD" };
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i]) == 0)
			return 1;
	return 0;
}

/* Only http(s) URLs without user info: credentials travel in the options, never in a URL that may be logged. */
static int http_client_url_ok(const char *url)
{
	const char *p, *end;

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return 0;
	end = p + strcspn(p, "/?#");
	if (end == p || memchr(p, '@', (size_t)(end - p)))
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static int http_client_header(struct curl_slist **headers, const char *line)
{
	struct curl_slist *h = curl_slist_append(*headers, line);

	if (!h)
		return OSB_ENOMEM;
	*headers = h;
	return 0;
}

/* Copy a libcurl error text into one line of `out`. */
static void http_client_error(osb_http_response *out, CURLcode rc, const char *detail)
{
	size_t i;

	snprintf(out->error, sizeof(out->error), "%s", detail && detail[0] ? detail : curl_easy_strerror(rc));
	for (i = 0; out->error[i]; i++)
		if (out->error[i] == '\n' || out->error[i] == '\r')
			out->error[i] = ' ';
}

int osb_http_request(const osb_http_options *opts, const char *method, const char *url, const char *user,
		     const char *password, const char *json_body, int timeout_ms, osb_http_response *out)
{
	static const osb_http_options defaults = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "", ctype[128];
	struct http_sink sink = { 0 };
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	CURLcode crc;
	int rc = 0;

	if (!out)
		return OSB_EBADREQUEST;
	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	sink.max = opts->max_response ? opts->max_response : OSB_HTTP_MAX_RESPONSE_DEFAULT;

	if (!method || !http_client_method_ok(method)) {
		snprintf(out->error, sizeof(out->error), "unsupported HTTP method");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	if (!url || !http_client_url_ok(url)) {
		snprintf(out->error, sizeof(out->error), "not an http(s) URL without user info");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	if (timeout_ms < 1)
		timeout_ms = 1;
	pthread_once(&http_client_once, http_client_global_init);
	if (http_client_init_rc != CURLE_OK) {
		http_client_error(out, http_client_init_rc, "libcurl initialisation failed");
		rc = OSB_ERROR;
		goto done;
	}
	curl = curl_easy_init();
	if (!curl) {
		rc = OSB_ENOMEM;
		goto done;
	}

	/*
	 * Accept stays libcurl's default (any type): RabbitMQ 3.10 answers 406 to a PUT on
	 * /api/vhost-limits/... that says "Accept: application/json".
	 * No "Expect: 100-continue" round trip for bodies over 1 KiB.
	 * Without a body, "Content-Type:" drops the form type libcurl would announce
	 * for an empty PUT or POST: a signed request (S3) covers the type it sends.
	 */
	if (opts->content_type && (strpbrk(opts->content_type, "\r\n") ||
				   strlen(opts->content_type) > sizeof(ctype) - sizeof("Content-Type: "))) {
		snprintf(out->error, sizeof(out->error), "the Content-Type is not one short line");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	if (json_body)
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 opts->content_type ? opts->content_type : "application/json");
	else
		snprintf(ctype, sizeof(ctype), "Content-Type:");
	if (http_client_header(&headers, "Expect:") < 0 || http_client_header(&headers, ctype) < 0) {
		rc = OSB_ENOMEM;
		goto done;
	}
	for (const char *const *h = opts->headers; h && *h; h++) {
		/* One line each: a CR or LF would smuggle another header or a request in. */
		if (strpbrk(*h, "\r\n") || !strchr(*h, ':')) {
			snprintf(out->error, sizeof(out->error), "a request header is not one \"Name: value\" line");
			rc = OSB_EBADREQUEST;
			goto done;
		}
		if (http_client_header(&headers, *h) < 0) {
			rc = OSB_ENOMEM;
			goto done;
		}
	}

	/* Every setopt below takes values libcurl 7.85+ accepts; a failure would be a programming error. */
	crc = curl_easy_setopt(curl, CURLOPT_URL, url);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_USERAGENT, "osb-broker/" OSB_VERSION);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_client_write);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, opts->insecure ? 0L : 1L);
	if (crc == CURLE_OK)
		crc = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, opts->insecure ? 0L : 2L);
	if (crc == CURLE_OK && opts->ca_file)
		crc = curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
	if (crc == CURLE_OK && user) {
		crc = curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		if (crc == CURLE_OK)
			crc = curl_easy_setopt(curl, CURLOPT_USERNAME, user);
		if (crc == CURLE_OK)
			crc = curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
	}
	if (crc == CURLE_OK) {
		if (strcmp(method, "HEAD") == 0) {
			crc = curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		} else if (json_body || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0 ||
			   strcmp(method, "PATCH") == 0) {
			/* A PUT or POST without a body still says Content-Length: 0. */
			const char *data = json_body ? json_body : "";

			crc = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(data));
			if (crc == CURLE_OK)
				crc = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
			if (crc == CURLE_OK && strcmp(method, "POST") != 0)
				crc = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		} else if (strcmp(method, "GET") != 0) {
			crc = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		}
	}
	if (crc != CURLE_OK) {
		http_client_error(out, crc, errbuf);
		rc = crc == CURLE_OUT_OF_MEMORY ? OSB_ENOMEM : OSB_ERROR;
		goto done;
	}

	crc = curl_easy_perform(curl);
	if (crc != CURLE_OK) {
		if (sink.too_large) {
			snprintf(out->error, sizeof(out->error), "response body larger than %zu bytes", sink.max);
			rc = OSB_EBACKEND;
		} else if (crc == CURLE_OPERATION_TIMEDOUT) {
			http_client_error(out, crc, errbuf);
			rc = OSB_ETIMEOUT;
		} else if (crc == CURLE_OUT_OF_MEMORY || (crc == CURLE_WRITE_ERROR && !sink.too_large)) {
			http_client_error(out, crc, "out of memory reading the response");
			rc = OSB_ENOMEM;
		} else if (crc == CURLE_URL_MALFORMAT || crc == CURLE_UNSUPPORTED_PROTOCOL) {
			http_client_error(out, crc, errbuf);
			rc = OSB_EBADREQUEST;
		} else {
			http_client_error(out, crc, errbuf);
			rc = OSB_EBACKEND;
		}
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
done:
	if (curl)
		curl_easy_cleanup(curl);
	/* The header lines may hold secrets (a token, a signature): wipe the copies libcurl made. */
	for (struct curl_slist *h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
	if (rc < 0) {
		free(sink.buf);
		sink.buf = NULL;
		sink.len = 0;
	}
	if (!sink.buf)
		sink.buf = calloc(1, 1);
	if (!sink.buf && rc == 0)
		rc = OSB_ENOMEM;
	out->body = sink.buf;
	out->body_len = sink.len;
	return rc;
}

void osb_http_response_free(osb_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int osb_http_escape_segment(char *out, size_t out_size, const char *segment)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	const char *s;

	if (!out || out_size == 0)
		return OSB_ERROR;
	/* The length is returned as an int. */
	if (out_size > INT_MAX)
		out_size = INT_MAX;
	out[0] = '\0';
	if (!segment)
		return OSB_ERROR;
	for (s = segment; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '.' || c == '_' || c == '~';

		if (n + (plain ? 1 : 3) + 1 > out_size) {
			out[0] = '\0';
			return OSB_ERROR;
		}
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return (int)n;
}
