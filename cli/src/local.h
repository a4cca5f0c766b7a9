/* The tool's local files: the brokers it knows (config.json) and the instances it made (state.json). */
#ifndef OSB_CLI_LOCAL_H
#define OSB_CLI_LOCAL_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "cli.h"

/* A broker the tool talks to. */
typedef struct {
	char *name;     /* the user's name for it */
	char *url;      /* base URL, without a trailing slash */
	char *username; /* Basic auth account */
	char *password; /* its password (secret: never printed) */
	int from_env;   /* given by OSB_BROKER_URL, not saved */
} cli_broker;

typedef struct {
	cli_broker *v;
	size_t n;
} cli_brokers;

/**
 * The directory of the tool's files: $OSB_HOME, else $XDG_CONFIG_HOME/osb, else
 * $HOME/.config/osb. Created (mode 0700) by local_dir_create().
 * @return 0, or -1 when no directory can be named.
 */
int local_dir(char *out, size_t size);

/**
 * Every broker: config.json's, then the one of OSB_BROKER_URL (with
 * OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD, named $OSB_BROKER_NAME or "env").
 * A config.json that others may read is refused: it holds passwords.
 * @return CLI_OK, or CLI_LOCAL after reporting.
 */
int local_brokers_load(cli *c, cli_brokers *out);

/** Write config.json (mode 0600, atomically) with every broker not from the environment. @return CLI_OK or CLI_LOCAL. */
int local_brokers_save(cli *c, const cli_brokers *brokers);

void local_brokers_free(cli_brokers *brokers);

/** @return the broker of that name, or NULL. */
cli_broker *local_broker_find(const cli_brokers *brokers, const char *name);

/*
 * state.json: {"instances": {"NAME": {"broker", "instance_id", "service", "service_id", "plan", "plan_id",
 * "dashboard_url", "last_operation": {"type", "state", "description", "operation"},
 * "bindings": {"NAME": {"binding_id", "state", "operation"}}}}}. Never credentials.
 * Read-modify-write happens under an exclusive lock (state.lock), so two osb
 * processes never lose each other's changes; the file is replaced atomically.
 */
typedef struct {
	int lock_fd; /* flock'ed state.lock */
	cJSON *doc;  /* the whole state */
} local_state;

/** Lock and read the state (an empty one when there is none yet). @return CLI_OK or CLI_LOCAL after reporting. */
int local_state_begin(cli *c, local_state *st);

/** Write the state, unlock and free it. @return CLI_OK or CLI_LOCAL after reporting. */
int local_state_commit(cli *c, local_state *st);

/** Unlock and free without writing. */
void local_state_end(local_state *st);

/** The "instances" object of a state (created when missing). */
cJSON *local_instances(local_state *st);

/** An instance's entry, or NULL. */
cJSON *local_instance(local_state *st, const char *name);

/** A string member of an object, or NULL. */
const char *jstr(const cJSON *obj, const char *key);

/** Set (replace) a string member; NULL removes it. */
void jset(cJSON *obj, const char *key, const char *value);

#endif
