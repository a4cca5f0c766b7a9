/* osb marketplace --serve: the marketplace page of every registered broker, over HTTP (civetweb). */
#ifndef OSB_CLI_SERVE_H
#define OSB_CLI_SERVE_H

#include "cli.h"
#include "local.h"

/**
 * Serve the page on `addr` ("127.0.0.1:8090"; port 0 picks a free one) until
 * SIGINT or SIGTERM. Catalogs are read again at most every 10 seconds. The URL
 * served is printed on stdout once listening.
 * @return CLI_OK, or CLI_USAGE when it cannot listen there, after reporting.
 */
int serve_marketplace(cli *c, const cli_brokers *brokers, const char *only, const char *addr);

#endif
