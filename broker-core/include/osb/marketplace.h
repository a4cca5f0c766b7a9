/**
 * @file marketplace.h  The marketplace page: the services and plans of one or
 * more brokers' catalogs as one read-only HTML page, with its style sheet and
 * search script. Brokers serve it for their own catalog (`marketplace` in the
 * configuration); `osb marketplace --serve` serves it for every registered broker.
 *
 * A marketplace document is the page's input:
 *
 *     {"brokers": [{"name": "redis",
 *                   "services": [ ...the catalog's services, as GET /v2/catalog has them... ],
 *                   "plan_features": {"<plan id>": {"asynchronous": true,
 *                                                   "asynchronous_bindings": false,
 *                                                   "dedicated": true}},
 *                   "error": "set instead of services when the broker could not be read"}]}
 *
 * `plan_features` is optional: a broker that is not from this suite has none,
 * and its plans are shown without those marks.
 */
#ifndef OSB_MARKETPLACE_H
#define OSB_MARKETPLACE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "common.h"

/**
 * Render the page of a marketplace document. Every text of the catalogs is
 * escaped; links and images keep only http(s) URLs (images also data:image/).
 * @param title  the page's title, or NULL for "Service marketplace".
 * @param query  what the search box holds (the `q` of the page's URL), or NULL:
 *               services that do not match every word of it are rendered hidden.
 * @param[out] out  NUL-terminated HTML; the caller frees it with free().
 * @return 0, OSB_EBADREQUEST (`doc` is not a marketplace document) or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_marketplace_render(char **out, const cJSON *doc, const char *title, const char *query);

/**
 * A static file of the page: "style.css" or "search.js".
 * @param[out] len  its length in bytes.
 * @param[out] content_type  its Content-Type.
 * @return its bytes (static, not NUL-terminated), or NULL for any other name.
 */
OSB_EXTERN(const unsigned char *) osb_marketplace_asset(const char *name, size_t *len, const char **content_type);

/** Headers every answer of the page carries: a strict Content-Security-Policy and friends ("Name: value\r\n"...). */
#define OSB_MARKETPLACE_HEADERS                                                                                        \
	"Content-Security-Policy: default-src 'none'; style-src 'self'; script-src 'self'; img-src data: https: "      \
	"http:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'\r\n"                                       \
	"X-Content-Type-Options: nosniff\r\n"                                                                          \
	"Referrer-Policy: no-referrer\r\n"

#endif
