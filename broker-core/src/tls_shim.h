/* Private: make Debian 12's civetweb able to do TLS with OpenSSL 3 (see tls-shim/). */
#ifndef OSB_TLS_SHIM_H
#define OSB_TLS_SHIM_H

/**
 * Write the embedded compatibility library into `dir` (created 0700) and load it
 * globally, before civetweb loads "libssl.so". Call once, before mg_init_library().
 * @return 0, or -1 with the reason logged.
 */
int osb_tls_shim_load(const char *dir);

#endif
