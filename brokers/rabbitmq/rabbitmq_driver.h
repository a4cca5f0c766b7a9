/* The RabbitMQ driver: an instance is a vhost with plan limits, a binding a user with permissions on it. */
#ifndef OSB_RABBITMQ_DRIVER_H
#define OSB_RABBITMQ_DRIVER_H

#include <osb/driver.h>

/** @return the RabbitMQ driver, a static object. */
const struct osb_driver *osb_rabbitmq_driver(void);

#endif
