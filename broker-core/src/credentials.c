/* The base keys of a binding's credentials, the same for every broker (credentials.h). */
#include "osb/credentials.h"

#include <stdio.h>
#include <string.h>

#include "osb/uri.h"

char *osb_credentials_uri(osb_request *req, const char *scheme, const char *user, const char *password,
			  const char *host, int port, const char *path)
{
	const char *h = osb_uri_host(req, host);
	char *u = user ? osb_uri_escape(req, user) : NULL;
	char *p = password ? osb_uri_escape(req, password) : NULL;
	char *d = path ? osb_uri_escape(req, path) : NULL;

	if (!h || (user && !u) || (password && !p) || (path && !d))
		return NULL;
	return osb_req_sprintf(req, "%s://%s%s%s%s%s:%d%s%s", scheme, u ? u : "", p ? ":" : "", p ? p : "",
			       u || p ? "@" : "", h, port, d ? "/" : "", d ? d : "");
}

static int add_string(cJSON *o, const char *key, const char *value)
{
	return !value || cJSON_AddStringToObject(o, key, value) != NULL;
}

cJSON *osb_credentials_new(osb_request *req, const osb_credentials_spec *spec)
{
	const osb_target *t = osb_request_target(req);
	const char *host = spec->host ? spec->host : t->public_host;
	int port = spec->port ? spec->port : t->public_port;
	char *uri = NULL, *jdbc = NULL, ports[8];
	cJSON *c = cJSON_CreateObject();

	if (spec->scheme &&
	    !(uri = osb_credentials_uri(req, spec->scheme, spec->username, spec->password, host, port, spec->path)))
		goto oom;
	if (spec->jdbc) {
		const char *h = osb_uri_host(req, host);
		char *d = osb_uri_escape(req, spec->path ? spec->path : "");
		char *u = osb_uri_escape(req, spec->username ? spec->username : "");
		char *p = osb_uri_escape(req, spec->password ? spec->password : "");
		if (!h || !d || !u || !p ||
		    !(jdbc = osb_req_sprintf(req, "jdbc:%s://%s:%d/%s?user=%s&password=%s", spec->jdbc, h, port, d, u,
					     p)))
			goto oom;
	}
	if (!c || !add_string(c, "host", host) || !add_string(c, "hostname", host) ||
	    !cJSON_AddNumberToObject(c, "port", port) ||
	    (spec->database_keys && (!add_string(c, "name", spec->path) || !add_string(c, "database", spec->path))) ||
	    !add_string(c, "username", spec->username) || !add_string(c, "password", spec->password) ||
	    !add_string(c, "uri", uri) || !add_string(c, "jdbcUrl", jdbc))
		goto oom;
	snprintf(ports, sizeof ports, "%d", port);
	if (osb_request_add_endpoint(req, host, ports, "tcp") != 0)
		goto oom;
	return c;
oom:
	cJSON_Delete(c);
	osb_errbuf_set(osb_request_errbuf(req), OSB_ENOMEM, "out of memory building credentials");
	return NULL;
}

int osb_credentials_set(osb_request *req, cJSON *credentials)
{
	if (!credentials)
		return osb_errbuf_set(osb_request_errbuf(req), OSB_ENOMEM, "out of memory building credentials");
	if (osb_request_set_credentials(req, credentials) != 0)
		return osb_errbuf_set(osb_request_errbuf(req), OSB_ENOMEM, "out of memory storing credentials");
	return 0;
}
