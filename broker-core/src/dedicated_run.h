/* Private: dedicated servers as the gateway runs them: start or find one, hand its target, remove it. */
#ifndef OSB_DEDICATED_RUN_H
#define OSB_DEDICATED_RUN_H

#include <pthread.h>

#include <cjson/cJSON.h>

#include "osb/dedicated.h"
#include "deployer.h"

/** A driver's dedicated spec with the settings the config gave it. */
typedef struct {
	const osb_dedicated_spec *spec; /* the driver's */
	const char *driver;             /* driver name, for log events */
	char *program;                  /* the server program (spec->program_key or spec->program) */
	char *host;                     /* address servers listen on and credentials name */
	pthread_mutex_t template_lock;  /* one template_init at a time */
	int template_ready;             /* the template exists */
} osb_dedicated_runner;

/** Where a started server is: the target handed to callbacks and the strings it points to. */
typedef struct {
	osb_target target;
	char secret[128]; /* its admin password: wiped by osb_dedicated_frame_wipe() */
	char dir[512];
} osb_dedicated_frame;

/**
 * Read the dedicated keys of `config` (spec->program_key; `dedicated_host`,
 * which overrides the broker's dedicated.host). `host` is that address.
 * @return 0, OSB_EBADREQUEST (logged) or OSB_ENOMEM.
 */
int osb_dedicated_runner_init(osb_dedicated_runner *r, const osb_dedicated_spec *spec, const char *driver,
			      const cJSON *config, const char *host);
void osb_dedicated_runner_fini(osb_dedicated_runner *r);

/**
 * Make sure the request's instance has a running server (made from the
 * template and prepared on first start) and fill `f` with its target.
 * @return 0 or an error code, with the request's error buffer set.
 */
int osb_dedicated_runner_ensure(osb_dedicated_runner *r, osb_deployer *dep, osb_request *req, void *state,
				osb_dedicated_frame *f);

/**
 * One argument or environment entry of a spec, for the server of a plan:
 * "{host}" becomes `host`, "{plan:KEY}" and "{plan:KEY|DEFAULT}" the plan's
 * setting KEY of `settings` (see osb_dedicated_spec.args); "{port}" and "{dir}"
 * are left for the deployer.
 * @param[out] out  the expanded string (caller frees) on success, else NULL.
 * @return 0, OSB_ERROR with `err` set (a missing or unusable setting) or OSB_ENOMEM.
 */
int osb_dedicated_expand(char **out, const char *arg, const char *host, const cJSON *settings, osb_errbuf *err);

/** Overwrite the frame's secret. */
void osb_dedicated_frame_wipe(osb_dedicated_frame *f);

#endif
