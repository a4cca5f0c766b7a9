/**
 * @file driver_config.h  Reading a driver's `driver` config object in init.
 *
 * Every function takes the `driver` object init received (NULL when the file
 * has none), the driver's name for the log event "<driver>.config", and a key.
 * A bad or missing value is logged as "driver.<key> ..." and gives
 * OSB_EBADREQUEST, so init can return the code as it is. Environment
 * overrides (OSB_DRIVER_<KEY>) of keys the file lacks arrive as strings, so
 * the number and boolean readers accept strings too.
 */
#ifndef OSB_DRIVER_CONFIG_H
#define OSB_DRIVER_CONFIG_H

#include <cjson/cJSON.h>

#include "common.h"
#include "driver.h"

/**
 * Check that `config` is an object (or NULL) whose keys are all in `known`.
 * @param known  NULL-terminated list of the keys the driver reads.
 * @return 0, or OSB_EBADREQUEST naming the first unknown key.
 */
OSB_EXTERN(int) osb_driver_config_check_keys(const cJSON *config, const char *driver, const char *const *known);

/**
 * Read a non-empty string, or take `fallback` when the key is absent.
 * Caller frees *out with free() (or osb_driver_config_free_secret()).
 * @param fallback  the default; NULL makes the key required.
 * @param[out] out  a copy of the value; untouched on error.
 * @return 0, OSB_EBADREQUEST (not a non-empty string, or required and absent) or OSB_ENOMEM.
 */
OSB_EXTERN(int)
osb_driver_config_string(char **out, const cJSON *config, const char *driver, const char *key, const char *fallback);

/**
 * Read a whole number, given as a JSON number or a decimal string, in [min, max];
 * `fallback` when the key is absent (it is not range-checked).
 * @param[out] out  the value; untouched on error.
 * @return 0 or OSB_EBADREQUEST.
 */
OSB_EXTERN(int)
osb_driver_config_int(long *out, const cJSON *config, const char *driver, const char *key, long fallback, long min,
		      long max);

/**
 * Read a TCP port (1-65535) as osb_driver_config_int() does.
 * @param[out] out  the port; untouched on error.
 * @return 0 or OSB_EBADREQUEST.
 */
OSB_EXTERN(int)
osb_driver_config_port(int *out, const cJSON *config, const char *driver, const char *key, int fallback);

/**
 * Read a boolean: true or false, or the strings "true", "false", "1", "0".
 * @param[out] out  1 or 0; untouched on error.
 * @return 0 or OSB_EBADREQUEST.
 */
OSB_EXTERN(int)
osb_driver_config_bool(int *out, const cJSON *config, const char *driver, const char *key, int fallback);

/**
 * Read an IPv4 or IPv6 address literal (it may become a server argument), or
 * take `fallback` when the key is absent. Caller frees *out with free().
 * @return 0, OSB_EBADREQUEST or OSB_ENOMEM.
 */
OSB_EXTERN(int)
osb_driver_config_ip(char **out, const cJSON *config, const char *driver, const char *key, const char *fallback);

/** Overwrite a secret read from the config with zeros, then free() it. Accepts NULL. */
OSB_EXTERN(void) osb_driver_config_free_secret(char *secret);

#endif
