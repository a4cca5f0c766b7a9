/* The shared server's connection block: host, port, admin account, public address, TLS (server_block.h). */
#include "server_block.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osb/driver_config.h"
#include "osb/log.h"
#include "osb/uri.h"

static const char *const block_keys[] = {
	"host", "port", "admin_user", "admin_password", "public_host", "public_port", "tls", "ca_file",
};

void osb_server_block_keys(const osb_server_spec *spec, const char *keys[12])
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof block_keys / sizeof block_keys[0]; i++)
		keys[n++] = block_keys[i];
	if (spec && spec->url_key)
		keys[n++] = spec->url_key;
	keys[n] = NULL;
}

static int block_error(const char *driver, const char *fmt, ...) OSB_PRINTF(2, 3);

static int block_error(const char *driver, const char *fmt, ...)
{
	char event[64], msg[400];
	va_list ap;
	snprintf(event, sizeof event, "%s.config", driver);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	osb_log(OSB_LOG_ERROR, event, "%s", msg);
	return OSB_EBADREQUEST;
}

/* Host names and addresses only: they go into URLs, credentials and connection strings. */
static int host_ok(const char *host)
{
	size_t len = strlen(host);
	if (len == 0 || len > 253)
		return 0;
	for (const char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '.' || *c == ':'))
			return 0;
	return 1;
}

/* host/port/tls from the spec's URL key (present, or its default when host is not given either). */
static int read_url(osb_server_block *b, const cJSON *config, const char *driver, const osb_server_spec *spec,
		    int *port)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, spec->url_key);
	const char *text = cJSON_IsString(item) ? item->valuestring : spec->default_url;
	osb_errbuf err = { 0 };
	osb_url u;
	char base[1400];

	if (item && !cJSON_IsString(item))
		return block_error(driver, "driver.%s must be an http:// or https:// URL", spec->url_key);
	if (!text)
		return block_error(driver, "driver.%s is required", spec->url_key);
	if (cJSON_GetObjectItemCaseSensitive(config, "host") || cJSON_GetObjectItemCaseSensitive(config, "port"))
		return block_error(driver, "driver.%s names the server: leave out driver.host and driver.port",
				   spec->url_key);
	if (osb_url_parse(&u, text, spec->url_key, &err) != 0)
		return block_error(driver, "driver.%s", err.msg);
	if (osb_url_format(base, sizeof base, &u) != 0)
		return block_error(driver, "driver.%s is too long", spec->url_key);
	if (!(b->url = strdup(base)) || !(b->host = strdup(u.host)))
		return OSB_ENOMEM;
	*port = u.port;
	b->target.tls = strcmp(u.scheme, "https") == 0;
	return 0;
}

/* The base URL of a URL-keyed server given as host, port and tls instead (target.h promises one). */
static int host_port_url(osb_server_block *b, int port)
{
	osb_url u = { .port = port };
	char base[300];

	snprintf(u.scheme, sizeof u.scheme, "%s", b->target.tls ? "https" : "http");
	snprintf(u.host, sizeof u.host, "%s", b->host);
	if (osb_url_format(base, sizeof base, &u) != 0 || !(b->url = strdup(base)))
		return OSB_ENOMEM;
	return 0;
}

int osb_server_block_read(osb_server_block *out, const cJSON *config, const char *driver, const osb_server_spec *spec)
{
	osb_server_block b;
	int rc, port = 0, public_port = 0, tls = 0;

	memset(&b, 0, sizeof b);
	memset(out, 0, sizeof *out);
	if (spec->url_key && (cJSON_GetObjectItemCaseSensitive(config, spec->url_key) ||
			      !cJSON_GetObjectItemCaseSensitive(config, "host"))) {
		if ((rc = read_url(&b, config, driver, spec, &port)) < 0)
			goto fail;
		if (cJSON_GetObjectItemCaseSensitive(config, "tls") &&
		    (rc = block_error(driver, "driver.tls: the scheme of driver.%s says whether TLS is used",
				      spec->url_key)) < 0)
			goto fail;
	} else {
		if ((rc = osb_driver_config_string(&b.host, config, driver, "host", "127.0.0.1")) < 0 ||
		    (rc = osb_driver_config_port(&port, config, driver, "port", spec->default_port)) < 0 ||
		    (rc = osb_driver_config_bool(&tls, config, driver, "tls", 0)) < 0)
			goto fail;
		if (port == 0 && (rc = block_error(driver, "driver.port is required")) < 0)
			goto fail;
		b.target.tls = tls;
	}
	if (!host_ok(b.host) && (rc = block_error(driver, "driver.host must be a host name or address")) < 0)
		goto fail;
	if (spec->url_key && !b.url && (rc = host_port_url(&b, port)) < 0)
		goto fail;
	if (!spec->default_admin_user || spec->default_admin_user[0]) {
		if ((rc = osb_driver_config_string(&b.admin_user, config, driver, "admin_user",
						   spec->default_admin_user)) < 0)
			goto fail;
		/* It goes into URIs, AUTH commands and Basic auth: printable, no spaces or ':'. */
		for (const unsigned char *c = (const unsigned char *)b.admin_user; *c; c++)
			if ((*c <= ' ' || *c >= 0x7f || *c == ':') &&
			    (rc = block_error(driver,
					      "driver.admin_user must be printable ASCII without spaces or ':'")) < 0)
				goto fail;
	}
	if (cJSON_GetObjectItemCaseSensitive(config, "admin_password") || !spec->password_optional) {
		if ((rc = osb_driver_config_string(&b.admin_password, config, driver, "admin_password", NULL)) < 0)
			goto fail;
	}
	if ((rc = osb_driver_config_string(&b.public_host, config, driver, "public_host", b.host)) < 0 ||
	    (rc = osb_driver_config_port(&public_port, config, driver, "public_port", port)) < 0)
		goto fail;
	if (!host_ok(b.public_host) &&
	    (rc = block_error(driver, "driver.public_host must be a host name or address")) < 0)
		goto fail;
	if (cJSON_GetObjectItemCaseSensitive(config, "ca_file")) {
		if ((rc = osb_driver_config_string(&b.ca_file, config, driver, "ca_file", NULL)) < 0)
			goto fail;
		if (access(b.ca_file, R_OK) != 0 &&
		    (rc = block_error(driver, "driver.ca_file %s cannot be read: %s", b.ca_file, strerror(errno))) < 0)
			goto fail;
	}
	b.target.host = b.host;
	b.target.port = port;
	b.target.admin_user = b.admin_user;
	b.target.admin_password = b.admin_password;
	b.target.public_host = b.public_host;
	b.target.public_port = public_port;
	b.target.ca_file = b.ca_file;
	b.target.url = b.url;
	*out = b;
	return 0;
fail:
	osb_server_block_free(&b);
	return rc;
}

void osb_server_block_free(osb_server_block *b)
{
	osb_driver_config_free_secret(b->admin_password);
	free(b->host);
	free(b->admin_user);
	free(b->public_host);
	free(b->ca_file);
	free(b->url);
	memset(b, 0, sizeof *b);
}
