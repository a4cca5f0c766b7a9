/* URI parts for credentials, allocated in the request's arena (uri.h). */
#include "osb/uri.h"

#include <string.h>

#include "osb/http_client.h"

char *osb_uri_escape(osb_request *req, const char *s)
{
	size_t size;
	char *out;

	if (!s)
		return NULL;
	size = strlen(s) * 3 + 1;
	out = osb_req_alloc(req, size);
	if (!out || osb_http_escape_segment(out, size, s) < 0)
		return NULL;
	return out;
}

const char *osb_uri_host(osb_request *req, const char *host)
{
	if (!host)
		return NULL;
	return strchr(host, ':') ? osb_req_sprintf(req, "[%s]", host) : host;
}
