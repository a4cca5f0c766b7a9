/* Private to the catalog: its layout, shared by the validation (catalog_check.c) and the index (catalog.c). */
#ifndef OSB_CATALOG_INTERNAL_H
#define OSB_CATALOG_INTERNAL_H

#include "catalog.h"

struct osb_catalog {
	cJSON *root;           /* the served document; ids and names point into it */
	cJSON *private_items;  /* detached `x-osb` objects and the shared empty one */
	cJSON *empty_settings; /* settings of plans without `x-osb` */
	osb_service *services; /* document order */
	size_t service_count;
	osb_plan *plans; /* all plans in document order; services point at slices */
	size_t plan_count;
	const osb_service **services_by_id; /* sorted by id, for bsearch */
	const osb_plan **plans_by_id;       /* sorted by id, for bsearch */
	char *body;
	size_t body_len;
	char etag[35]; /* quote, 32 hex digits, quote, NUL */
};

/**
 * Parse and validate a catalog document into `cat`: its root, services and
 * plans (with their settings and compiled schemas) and the detached `x-osb`
 * holders. The index (lookups, served body) is built afterwards by catalog.c.
 * @return 0, OSB_EBADREQUEST with `err` naming the JSON path at fault, or OSB_ENOMEM.
 */
int osb_catalog__check(osb_catalog *cat, const char *json, size_t len, const char *name, uint32_t caps, char *err,
		       size_t err_size);

#endif
