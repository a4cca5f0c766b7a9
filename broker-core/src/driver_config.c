/* Readers of a driver's `driver` config object, shared by every driver's init (driver_config.h). */
#include "osb/driver_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"
#include "osb/log.h"

#include "crypto.h"

/* Log one config error under "<driver>.config"; driver names are short, so the event fits. */
static int config_error(const char *driver, const char *fmt, ...) OSB_PRINTF(2, 3);

static int config_error(const char *driver, const char *fmt, ...)
{
	char event[64], msg[300];
	va_list ap;

	snprintf(event, sizeof(event), "%s.config", driver ? driver : "driver");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	osb_log(OSB_LOG_ERROR, event, "%s", msg);
	return OSB_EBADREQUEST;
}

static const cJSON *config_item(const cJSON *config, const char *key)
{
	return cJSON_IsObject(config) ? cJSON_GetObjectItemCaseSensitive(config, key) : NULL;
}

int osb_driver_config_check_keys(const cJSON *config, const char *driver, const char *const *known)
{
	const cJSON *item;
	size_t i;

	if (!config)
		return 0;
	if (!cJSON_IsObject(config))
		return config_error(driver, "driver must be an object");
	cJSON_ArrayForEach(item, config)
	{
		for (i = 0; known && known[i]; i++)
			if (item->string && strcmp(item->string, known[i]) == 0)
				break;
		if (!known || !known[i])
			return config_error(driver, "driver.%.64s is not a known key",
					    item->string ? item->string : "");
	}
	return 0;
}

int osb_driver_config_string(char **out, const cJSON *config, const char *driver, const char *key, const char *fallback)
{
	const cJSON *item = config_item(config, key);
	const char *value = fallback;
	char *copy;

	if (item) {
		if (!cJSON_IsString(item) || item->valuestring[0] == '\0')
			return config_error(driver, "driver.%s must be a non-empty string", key);
		value = item->valuestring;
	}
	if (!value)
		return config_error(driver, "driver.%s is required", key);
	copy = strdup(value);
	if (!copy)
		return OSB_ENOMEM;
	*out = copy;
	return 0;
}

/*
 * A JSON number that is whole, or a string of an optional "-" and digits only
 * (no spaces, no "+", no hex): what an environment override can hold.
 * @return 0, or -1 when the item is neither or does not fit a long.
 */
static int parse_whole(long *out, const cJSON *item)
{
	const char *s, *p;
	char *end = NULL;
	long v;

	if (cJSON_IsNumber(item)) {
		double d = item->valuedouble;

		/* Compare within ±2^62 so the cast back is defined. */
		if (!(d >= -4.6e18 && d <= 4.6e18) || (double)(long)d != d)
			return -1;
		*out = (long)d;
		return 0;
	}
	if (!cJSON_IsString(item))
		return -1;
	s = item->valuestring;
	p = *s == '-' ? s + 1 : s;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Read a whole number in [min, max]; `what` says what it must be in the error. */
static int config_whole(long *out, const cJSON *config, const char *driver, const char *key, long fallback, long min,
			long max, const char *what)
{
	const cJSON *item = config_item(config, key);
	long v = fallback;

	if (item && (parse_whole(&v, item) < 0 || v < min || v > max)) {
		if (what)
			return config_error(driver, "driver.%s must be %s", key, what);
		return config_error(driver, "driver.%s must be a whole number from %ld to %ld", key, min, max);
	}
	*out = v;
	return 0;
}

int osb_driver_config_int(long *out, const cJSON *config, const char *driver, const char *key, long fallback, long min,
			  long max)
{
	return config_whole(out, config, driver, key, fallback, min, max, NULL);
}

int osb_driver_config_port(int *out, const cJSON *config, const char *driver, const char *key, int fallback)
{
	long port = fallback;
	int rc;

	rc = config_whole(&port, config, driver, key, fallback, 1, 65535, "a TCP port number (1-65535)");
	if (rc < 0)
		return rc;
	*out = (int)port;
	return 0;
}

int osb_driver_config_bool(int *out, const cJSON *config, const char *driver, const char *key, int fallback)
{
	const cJSON *item = config_item(config, key);
	const char *s;

	if (!item) {
		*out = fallback ? 1 : 0;
		return 0;
	}
	if (cJSON_IsBool(item)) {
		*out = cJSON_IsTrue(item) ? 1 : 0;
		return 0;
	}
	s = cJSON_IsString(item) ? item->valuestring : NULL;
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)) {
		*out = 1;
		return 0;
	}
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)) {
		*out = 0;
		return 0;
	}
	return config_error(driver, "driver.%s must be true or false", key);
}

int osb_driver_config_ip(char **out, const cJSON *config, const char *driver, const char *key, const char *fallback)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char *host = NULL;
	int rc;

	rc = osb_driver_config_string(&host, config, driver, key, fallback);
	if (rc < 0)
		goto done;
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1) {
		rc = config_error(driver, "driver.%s must be an IP address", key);
		goto done;
	}
	*out = host;
	host = NULL;
done:
	free(host);
	return rc;
}

void osb_driver_config_free_secret(char *secret)
{
	osb_crypto_free_secret(secret);
}
