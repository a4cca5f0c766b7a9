/* URI parts for credentials, allocated in the request's arena, and http(s) URLs from the config (uri.h). */
#include "osb/uri.h"

#include <stdio.h>
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

static int host_char(char c, int v6)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       (v6 && c == ':');
}

int osb_url_parse(osb_url *out, const char *url, const char *what, osb_errbuf *err)
{
	osb_url u;
	const char *p, *h, *hend, *end;
	int v6 = 0;

	memset(&u, 0, sizeof u);
	if (strncmp(url, "http://", 7) == 0) {
		snprintf(u.scheme, sizeof u.scheme, "http");
		u.port = 80;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		snprintf(u.scheme, sizeof u.scheme, "https");
		u.port = 443;
		p = url + 8;
	} else {
		return osb_errbuf_set(err, OSB_EBADREQUEST, "%s must be an http:// or https:// URL", what);
	}
	if (strpbrk(url, "@?# \t\r\n\\\"'<>"))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "%s must not have user info, a query, a fragment or spaces",
				      what);
	end = p + strcspn(p, "/");
	if (*p == '[') {
		v6 = 1;
		h = p + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad IPv6 address", what);
		p = hend + 1;
	} else {
		h = p;
		hend = memchr(h, ':', (size_t)(end - h));
		if (!hend)
			hend = end;
		p = hend;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof u.host)
		return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad host name", what);
	for (const char *c = h; c < hend; c++)
		if (!host_char(*c, v6))
			return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad host name", what);
	memcpy(u.host, h, (size_t)(hend - h));
	if (*p == ':') {
		long port = 0;
		if (end - p < 2 || end - p > 6)
			return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad port", what);
		for (const char *c = p + 1; c < end; c++) {
			if (*c < '0' || *c > '9')
				return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad port", what);
			port = port * 10 + (*c - '0');
		}
		if (port < 1 || port > 65535)
			return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad port", what);
		u.port = (int)port;
	} else if (p != end) {
		return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a bad host name", what);
	}
	size_t plen = strlen(end);
	while (plen > 0 && end[plen - 1] == '/')
		plen--;
	if (plen >= sizeof u.path)
		return osb_errbuf_set(err, OSB_EBADREQUEST, "%s has a path that is too long", what);
	memcpy(u.path, end, plen);
	*out = u;
	return 0;
}

int osb_url_format(char *out, size_t size, const osb_url *url)
{
	int v6 = strchr(url->host, ':') != NULL;
	int n = snprintf(out, size, "%s://%s%s%s:%d%s", url->scheme, v6 ? "[" : "", url->host, v6 ? "]" : "", url->port,
			 url->path);
	return n < 0 || (size_t)n >= size ? OSB_ERROR : 0;
}
