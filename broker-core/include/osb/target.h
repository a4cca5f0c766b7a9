/**
 * @file target.h  The server a driver callback acts on, and how the core finds it.
 *
 * A driver never reads host, port or admin credentials itself. For a shared
 * plan the core reads them from the `driver` section of the config (the
 * server block, shaped by the driver's osb_server_spec); for a dedicated plan
 * the core starts the instance's own server and fills the target with its
 * address and its generated admin password. Either way a callback gets one
 * osb_target (osb_request_target()) and connects to it the same way.
 */
#ifndef OSB_TARGET_H
#define OSB_TARGET_H

#include "common.h"

/** Where a callback connects, and what credentials name. Borrowed; valid for the callback. */
typedef struct {
	/** Host the broker connects to (127.0.0.1 for a dedicated server). */
	const char *host;
	/** Its TCP port. */
	int port;
	/** Admin user, or NULL when the server has no user names. */
	const char *admin_user;
	/** Admin password (secret: never log it), or NULL when none is configured. */
	const char *admin_password;
	/** Host applications reach the server at: what credentials name. */
	const char *public_host;
	/** Port applications reach the server at. */
	int public_port;
	/** Connect with TLS (the block's `tls`, or an https URL). */
	int tls;
	/** CA bundle that verifies the server's certificate, or NULL for the system's. */
	const char *ca_file;
	/** Base URL of an HTTP admin API without a trailing '/', when the spec has a url_key; else NULL. */
	const char *url;
	/** A dedicated server's directory (config, data, log), or NULL on a shared server. */
	const char *dir;
	/** 1 when the server is the instance's own (a dedicated plan). */
	int dedicated;
} osb_target;

/**
 * The shared server's connection block: which keys of `driver` the core reads
 * and their defaults. Keys: `host` (default 127.0.0.1), `port`, `admin_user`,
 * `admin_password` (or OSB_DRIVER_ADMIN_PASSWORD), `public_host` (default
 * host), `public_port` (default port), `tls` (default false), `ca_file`, and
 * `url_key` when set. Bad values stop the broker with a message naming the key.
 */
typedef struct {
	/** Default of `port`; 0 makes `port` (or the URL) required. */
	int default_port;
	/** Default of `admin_user`; NULL makes it required, "" means the server has no user names. */
	const char *default_admin_user;
	/** Whether `admin_password` may be absent (servers without authentication). */
	int password_optional;
	/**
	 * Name of a key taking the server as an http(s) URL instead of host, port and
	 * tls (such as "api_url"), or NULL. Its path becomes part of osb_target.url.
	 */
	const char *url_key;
	/** The URL used when url_key is absent from the config, or NULL to make it required. */
	const char *default_url;
} osb_server_spec;

#endif
