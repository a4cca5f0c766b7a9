/* The PostgreSQL driver: an instance is a database owned by a NOLOGIN role, a binding a LOGIN role in it. */
#ifndef OSB_POSTGRESQL_DRIVER_H
#define OSB_POSTGRESQL_DRIVER_H

#include <osb/driver.h>

/** @return the PostgreSQL driver, a static object. */
const struct osb_driver *osb_postgresql_driver(void);

#endif
