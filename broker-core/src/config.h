/* Private: the broker's configuration file, with environment overrides. */
#ifndef OSB_CONFIG_H
#define OSB_CONFIG_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "store.h"

typedef struct {
	char *username; /* Basic auth user */
	char *password; /* its password (secret) */
} osb_account;

typedef struct {
	char *path;                /* the file it was read from */
	char *listen;              /* civetweb listening_ports, such as "127.0.0.1:8080" or "0.0.0.0:8443s" */
	char *tls_certificate;     /* PEM certificate (chain) file, or NULL for plain HTTP */
	char *tls_private_key;     /* PEM key file, or NULL when the certificate file holds it */
	osb_account *accounts;     /* Basic auth accounts (several, so passwords can rotate) */
	size_t account_count;      /* at least one */
	char *catalog;             /* catalog file */
	char *data_dir;            /* broker's private directory */
	osb_store_type store_type; /* sqlite (default) or postgresql */
	char *store_path;          /* SQLite file, default data_dir/state.db */
	char *store_url;           /* PostgreSQL URL (secret) */
	int store_pool_size;       /* connections to the store */
	unsigned char key[32];     /* credentials encryption key */
	int has_key;               /* key given in config or environment */
	int log_level;             /* osb_log_level */
	int threads;               /* HTTP worker threads */
	int workers;               /* asynchronous operation workers */
	long max_body_bytes;       /* larger bodies get 413 */
	int request_timeout_ms;    /* idle/slow client timeout */
	int sync_timeout_s;        /* deadline of a synchronous driver call */
	int async_timeout_s; /* deadline of an asynchronous one (unless the plan's maximum_polling_duration is shorter) */
	int retry_after_s;   /* Retry-After on last_operation while in progress */
	double rate_limit;   /* requests per second per client address, 0 = unlimited */
	int rate_burst;      /* bucket size of the rate limit */
	int connections_per_address; /* most connections one client address holds open, 0 = no cap */
	int metrics_auth;            /* /metrics needs Basic auth too */
	int marketplace_public;      /* marketplace.public: the /marketplace page needs no auth */
	char *replica_id;            /* this process's name in operation leases */
	int has_dedicated;           /* the `dedicated` section is present */
	int dedicated_port_first;    /* dedicated.port_range[0] */
	int dedicated_port_last;     /* dedicated.port_range[1] */
	char *dedicated_base_dir;    /* dedicated.base_dir, default data_dir/dedicated */
	char *dedicated_host;        /* dedicated.host, the address written into credentials */
	long quota_max_instances;    /* quotas.max_instances: live instances of the broker, 0 = no limit */
	cJSON *quota_plans;          /* quotas.plans: {plan id or name: limit}, or NULL */
	cJSON *driver;               /* the `driver` object, environment overrides applied */
} osb_config;

/**
 * Read and check a config file, then apply environment overrides:
 * OSB_BROKER_USERNAME/OSB_BROKER_PASSWORD (first account), OSB_ENCRYPTION_KEY,
 * OSB_STORE_URL, and OSB_DRIVER_<KEY> for each driver key (upper-cased).
 * @param err  on failure, a message naming the file and the key at fault.
 * @return 0, or OSB_EBADREQUEST / OSB_ERROR with err set.
 */
int osb_config_load(osb_config **out, const char *path, char *err, size_t err_size);

/** Free a config, wiping secrets; NULL is fine. */
void osb_config_free(osb_config *config);

#endif
