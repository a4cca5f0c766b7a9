/**
 * @file http_client.h  A small HTTP client for drivers that talk to an admin API (libcurl).
 *
 * One call is one request with Basic auth, an optional JSON body and a hard
 * timeout; the whole response body comes back in memory. Safe to call from any
 * number of threads at once (each call has its own connection). TLS peers are
 * verified unless the caller turns it off. Credentials are never logged, and
 * never put into an error text.
 */
#ifndef OSB_HTTP_CLIENT_H
#define OSB_HTTP_CLIENT_H

#include "common.h"
#include "errors.h"

/** Largest response body accepted when osb_http_options.max_response is 0: 16 MiB. */
#define OSB_HTTP_MAX_RESPONSE_DEFAULT (16u * 1024u * 1024u)

/** Settings of a call beyond the usual. Zero-initialise, then set what differs. */
typedef struct {
	/** PEM file of the CAs to trust for https, or NULL for the system's store. */
	const char *ca_file;
	/** Non-zero turns off TLS peer and host name verification: tests only. */
	int insecure;
	/** Largest response body in bytes; 0 means OSB_HTTP_MAX_RESPONSE_DEFAULT. */
	size_t max_response;
	/**
	 * More request header lines ("Name: value"), NULL-terminated, or NULL for
	 * none: for APIs that sign requests themselves (an S3 Authorization and its
	 * Date). They may hold secrets: never logged, never in an error text.
	 */
	const char *const *headers;
	/**
	 * Content-Type of the body instead of application/json, such as
	 * "application/x-www-form-urlencoded" (InfluxDB's /query) or "text/plain"
	 * (ClickHouse's SQL); NULL for JSON. One line: no CR or LF.
	 */
	const char *content_type;
} osb_http_options;

/** What came back. Release with osb_http_response_free(). */
typedef struct {
	/** HTTP status of the response, or 0 when none came. */
	long status;
	/** The response body, NUL-terminated ("" when empty); malloc'd, never NULL after a call. */
	char *body;
	/** Its length in bytes, without the NUL. */
	size_t body_len;
	/** Why the call failed, one line without credentials; "" when a response came. */
	char error[256];
} osb_http_response;

/**
 * Send one request and wait for the whole response.
 * @param opts  NULL for the defaults (verify TLS with the system's CAs).
 * @param method  "GET", "PUT", "POST", "DELETE", "PATCH" or "HEAD".
 * @param url  http:// or https:// URL, path segments already escaped with
 *             osb_http_escape_segment(); user info in it is refused.
 * @param user  Basic auth user, or NULL for no auth.
 * @param password  its password (may be NULL when user is NULL).
 * @param json_body  the body, sent with Content-Type: application/json (or
 *                   opts->content_type), or NULL for no body (then no
 *                   Content-Type either: a PUT says Content-Length: 0).
 * @param timeout_ms  the whole exchange, connect included; at least 1.
 * @param[out] out  the response; the caller frees it with osb_http_response_free()
 *                  whatever the result.
 * @return 0 when a response came (whatever its status), OSB_ETIMEOUT when the
 *         timeout passed first, OSB_EBACKEND when the server cannot be reached,
 *         TLS fails or the response is too large or malformed, OSB_EBADREQUEST
 *         for a bad method or URL, OSB_ENOMEM.
 */
OSB_EXTERN(int)
osb_http_request(const osb_http_options *opts, const char *method, const char *url, const char *user,
		 const char *password, const char *json_body, int timeout_ms, osb_http_response *out);

/** Release what a response holds (not the struct itself). Accepts NULL. */
OSB_EXTERN(void) osb_http_response_free(osb_http_response *resp);

/**
 * Percent-encode `segment` for one URL path segment (or a user info part):
 * every byte but the RFC 3986 unreserved characters [A-Za-z0-9-._~] becomes
 * %XX, so "/" turns into "%2F" and cannot split the path.
 * @param[out] out  receives the NUL-terminated result.
 * @param out_size  its size; 3 * strlen(segment) + 1 always suffices.
 * @return the length written, or OSB_ERROR when `out` is too small (then `out` is "").
 */
OSB_EXTERN(int) osb_http_escape_segment(char *out, size_t out_size, const char *segment);

#endif
