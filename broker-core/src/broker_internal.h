/* Private: the running broker, shared by the HTTP handlers and the operation engine. */
#ifndef OSB_BROKER_INTERNAL_H
#define OSB_BROKER_INTERNAL_H

#include <stdatomic.h>

#include "osb/driver.h"
#include "catalog.h"
#include "config.h"
#include "store.h"

struct osb_engine;
struct osb_ratelimit;

struct osb_broker {
	const osb_config *config;        /* borrowed from osb_main */
	const osb_catalog *catalog;      /* validated catalog */
	osb_store *store;                /* state store */
	struct osb_gateway *gateway;     /* the driver, reached only through the gateway */
	struct osb_engine *engine;       /* operation engine */
	struct osb_ratelimit *ratelimit; /* per-client limiter, NULL when off */
	struct osb_deployer *deployer;   /* dedicated plans, NULL without a `dedicated` config section */
	atomic_int shutting_down;        /* set on SIGTERM: new mutations get 503 */
};

#endif
