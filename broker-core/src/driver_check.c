/* Validation of a driver against the ABI it claims, once, before the broker starts. */
#include "osb/driver.h"
#include "osb/log.h"

#define REQUIRE(cond, field, why)                                                                                      \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			osb_log(OSB_LOG_ERROR, "driver.invalid", "driver %s: %s %s", name, field, why);                \
			return OSB_ERROR;                                                                              \
		}                                                                                                      \
	} while (0)

int osb_driver_check(const struct osb_driver *d)
{
	const char *name = d && d->name ? d->name : "(unnamed)";
	REQUIRE(d != NULL, "driver", "is NULL");
	/* ABI 1 callbacks had other signatures: such a driver must be rebuilt, not run. */
	REQUIRE(d->abi_version == OSB_DRIVER_ABI_VERSION, "abi_version",
		"is not the one this core supports (rebuild the driver against these headers)");
	REQUIRE(d->name && d->name[0], "name", "is missing");
	REQUIRE(d->server || d->dedicated, "server/dedicated", "are both missing: the driver has no server to act on");
	REQUIRE(!d->server || d->provision, "provision", "is required with a shared server");
	REQUIRE(!d->server || d->deprovision, "deprovision", "is required with a shared server");
	REQUIRE(!(d->caps & OSB_CAP_BINDABLE) || (d->bind && d->unbind), "bind/unbind",
		"are required with OSB_CAP_BINDABLE");
	REQUIRE(!(d->bind || d->unbind) || (d->caps & OSB_CAP_BINDABLE), "caps",
		"lacks OSB_CAP_BINDABLE although bind/unbind are set");
	REQUIRE(!(d->caps & OSB_CAP_PLAN_UPDATEABLE) || d->update, "update",
		"is required with OSB_CAP_PLAN_UPDATEABLE");
	REQUIRE(!(d->caps & OSB_CAP_RECONCILE) || (d->list && d->purge) || !d->server, "list/purge",
		"are required with OSB_CAP_RECONCILE and a shared server");
	REQUIRE(!(d->caps & OSB_CAP_BINDING_ROTATION) || (d->caps & OSB_CAP_BINDABLE), "caps",
		"has OSB_CAP_BINDING_ROTATION without OSB_CAP_BINDABLE");
	REQUIRE(!(d->caps & OSB_CAP_DEDICATED) == !d->dedicated, "dedicated",
		"must be set exactly when caps has OSB_CAP_DEDICATED");
	REQUIRE(!d->dedicated || (d->dedicated->kind && d->dedicated->kind[0]), "dedicated->kind", "is missing");
	REQUIRE(!d->dedicated || (d->dedicated->program && d->dedicated->program[0]), "dedicated->program",
		"is missing");
	REQUIRE(!d->dedicated || d->dedicated->ready, "dedicated->ready", "is required");
	return 0;
}
