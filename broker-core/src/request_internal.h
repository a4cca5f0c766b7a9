/* Private: the layout of osb_request, shared by request.c and the operation engine. */
#ifndef OSB_REQUEST_INTERNAL_H
#define OSB_REQUEST_INTERNAL_H

#include <stdint.h>

#include "osb/request.h"
#include "osb/names.h"
#include "catalog.h"

struct osb_arena_block;

struct osb_request {
	/* inputs, set by the engine; strings live in the arena */
	osb_operation_kind kind;            /* what to do */
	const char *instance_id;            /* instance id */
	const char *binding_id;             /* binding id or NULL */
	const char *service_id;             /* service id */
	const char *plan_id;                /* target plan id */
	const char *previous_plan_id;       /* plan before an update */
	const osb_plan *plan;               /* target plan */
	cJSON *parameters;                  /* owned: validated parameters, defaults applied */
	cJSON *instance_parameters;         /* owned: the instance's parameters */
	cJSON *context;                     /* owned or NULL */
	const char *app_guid;               /* bind_resource.app_guid or NULL */
	const char *predecessor_binding_id; /* rotation source or NULL */
	const char *originating_identity;   /* decoded header or NULL */
	cJSON *instance_state;              /* owned or NULL: saved driver state */
	cJSON *binding_state;               /* owned or NULL */
	time_t expires_at;                  /* credentials expiry or 0 */
	int64_t deadline_ms;                /* CLOCK_MONOTONIC deadline in ms */
	int is_retry;                       /* resumed after a restart or outage */
	int dedicated_start_failures;       /* starts of its dedicated server that failed, this run */

	/* set by the gateway before each callback */
	char instance_name[OSB_NAME_SIZE]; /* osb_name_instance(instance_id) */
	char binding_name[OSB_NAME_SIZE];  /* osb_name_binding(binding_id), "" without a binding */
	const osb_target *target;          /* the server the callback acts on */
	char note[256];                    /* the driver's osb_request_note() for the outcome log */

	/* results, set by the driver */
	osb_errbuf err;            /* why it failed: code 0 and msg "" while nothing did */
	cJSON *new_instance_state; /* owned or NULL */
	cJSON *new_binding_state;  /* owned or NULL */
	cJSON *credentials;        /* owned or NULL: secret */
	cJSON *endpoints;          /* owned array or NULL */
	cJSON *volume_mounts;      /* owned array or NULL */
	char *dashboard_url;       /* malloc'd or NULL */

	/* progress reporting for asynchronous operations */
	void (*on_progress)(const char *description, void *payload);
	void *progress_payload;

	struct osb_arena_block *arena; /* every osb_req_alloc */
};

/** A new empty request. @return NULL on OOM. Free with osb_request__free(). */
osb_request *osb_request__new(void);

/** Free a request and everything it owns; NULL is fine. */
void osb_request__free(osb_request *req);

#endif
