/** @file uri.h  URIs: pieces of the ones drivers put into credentials, and http(s) URLs read from the config. */
#ifndef OSB_URI_H
#define OSB_URI_H

#include "common.h"
#include "errors.h"
#include "request.h"

/**
 * Percent-encode `s` for a user, password or path part of a URI: every byte
 * but the RFC 3986 unreserved characters [A-Za-z0-9-._~] becomes %XX
 * (as osb_http_escape_segment()). Owned by the request.
 * @return the encoded copy, or NULL when out of memory.
 */
OSB_EXTERN(char *) osb_uri_escape(osb_request *req, const char *s);

/**
 * A host as a URI's authority needs it: an IPv6 address (it has a ':') in
 * brackets, anything else as it is. Owned by the request (or `host` itself).
 * @return the host, or NULL when out of memory.
 */
OSB_EXTERN(const char *) osb_uri_host(osb_request *req, const char *host);

/** An http or https URL split into its parts. */
typedef struct {
	/** "http" or "https". */
	char scheme[8];
	/** Host name or address, without the brackets of an IPv6 literal. */
	char host[256];
	/** Port, the scheme's default (80, 443) when the URL has none. */
	int port;
	/** Path without trailing '/', "" when none, such as "/rabbit". */
	char path[1024];
} osb_url;

/**
 * Split "scheme://host[:port][/path]" (host may be "[v6]"). Refused: other
 * schemes, user info, a query, a fragment, spaces, quotes and backslashes,
 * host characters outside [A-Za-z0-9.-] (and ':' inside brackets).
 * @param[out] out  the parts; untouched on error.
 * @param err  says what is wrong, naming the URL as `what`.
 * @return 0 or OSB_EBADREQUEST.
 */
OSB_EXTERN(int) osb_url_parse(osb_url *out, const char *url, const char *what, osb_errbuf *err);

/**
 * Format a parsed URL back as "scheme://host:port/path" (IPv6 in brackets,
 * the port always written).
 * @return 0, or OSB_ERROR when `size` is too small.
 */
OSB_EXTERN(int) osb_url_format(char *out, size_t size, const osb_url *url);

#endif
