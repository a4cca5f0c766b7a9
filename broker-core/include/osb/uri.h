/** @file uri.h  Pieces of the URIs drivers put into credentials ("scheme://user:pass@host:port/..."). */
#ifndef OSB_URI_H
#define OSB_URI_H

#include "common.h"
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

#endif
