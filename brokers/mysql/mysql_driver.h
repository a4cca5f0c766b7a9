/* The MySQL driver: an instance is a database (on a shared server or a mariadbd of its own), a binding a user with grants on it. */
#ifndef OSB_MYSQL_DRIVER_H
#define OSB_MYSQL_DRIVER_H

#include <osb/driver.h>

/** @return the MySQL driver, a static object. */
const struct osb_driver *osb_mysql_driver(void);

#endif
