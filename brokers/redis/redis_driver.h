/* The Redis driver: an instance is a key prefix on a shared server, a binding an ACL user limited to it. */
#ifndef OSB_REDIS_DRIVER_H
#define OSB_REDIS_DRIVER_H

#include <osb/driver.h>

/** @return the Redis driver, a static object. */
const struct osb_driver *osb_redis_driver(void);

#endif
