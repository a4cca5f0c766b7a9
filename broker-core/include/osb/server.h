/** @file server.h  Run a broker: the whole `main` of a broker binary. */
#ifndef OSB_SERVER_H
#define OSB_SERVER_H

#include "common.h"
#include "driver.h"

/**
 * Parse the command line (`--config FILE`, `--check-config`, `--version`,
 * `--help`, `--reconcile[=purge]`), load the configuration and the catalog, check the
 * driver, open the state store, resume unfinished operations, serve HTTP
 * until SIGTERM or SIGINT, then shut down cleanly.
 * @return the process exit status: 0, 1 on a runtime failure, 2 on bad usage or config.
 */
OSB_EXTERN(int) osb_main(int argc, char **argv, const struct osb_driver *driver);

#endif
