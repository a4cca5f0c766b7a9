/**
 * @file credentials.h  The base of every binding's credentials, in the shape apps already read.
 *
 * Cloud Foundry and PaaS-TA apps read `hostname` (or `host`), `port`,
 * `username`, `password` and a `uri`, plus `jdbcUrl` for SQL databases and
 * `name`/`database` for the database itself. The builder makes those keys the
 * same way for every broker, from the request's target, and adds the target as
 * the binding's network endpoint; a driver then adds its protocol's own keys.
 */
#ifndef OSB_CREDENTIALS_H
#define OSB_CREDENTIALS_H

#include <cjson/cJSON.h>

#include "common.h"
#include "request.h"

/** What goes into the base credentials. Every pointer is borrowed for the call. */
typedef struct {
	/** URI scheme, such as "postgresql", "redis", "amqp"; NULL: no `uri` key. */
	const char *scheme;
	/** Login name, or NULL for servers without user names. */
	const char *username;
	/** Password (secret), or NULL. */
	const char *password;
	/** The URI's path without its leading '/' (a database, a vhost), percent-encoded by the builder; NULL: none. */
	const char *path;
	/** Also set `name` and `database` to `path` (SQL databases). */
	int database_keys;
	/** JDBC subprotocol ("postgresql", "mysql") for a `jdbcUrl` key, or NULL. */
	const char *jdbc;
	/** Host in the credentials; NULL: the target's public host. */
	const char *host;
	/** Port in the credentials; 0: the target's public port. */
	int port;
} osb_credentials_spec;

/**
 * Build the base credentials: `host`, `hostname`, `port`, then `username`,
 * `password`, `uri` (scheme://user:password@host:port/path, each part
 * percent-encoded, an IPv6 host in brackets), `name`/`database` and `jdbcUrl`
 * as the spec asks; and add host:port as the binding's tcp endpoint.
 * @return a new object the caller adds keys to and hands to
 *         osb_request_set_credentials() (or frees with cJSON_Delete()); NULL
 *         when out of memory (the request's error buffer says so).
 */
OSB_EXTERN(cJSON *) osb_credentials_new(osb_request *req, const osb_credentials_spec *spec);

/**
 * Set `credentials` on the request: osb_request_set_credentials() that records
 * OSB_ENOMEM in the error buffer when `credentials` is NULL. Takes ownership.
 * @return 0 or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_credentials_set(osb_request *req, cJSON *credentials);

/**
 * A URI "scheme://user:password@host:port/path" with each part percent-encoded
 * and an IPv6 host in brackets; user, password and path may be NULL.
 * @return the URI, owned by the request; NULL when out of memory.
 */
OSB_EXTERN(char *)
osb_credentials_uri(osb_request *req, const char *scheme, const char *user, const char *password, const char *host,
		    int port, const char *path);

#endif
