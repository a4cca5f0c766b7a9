/* The catalog: load it, have it validated (catalog_check.c), then index it and prepare the served body and its ETag. */
#include "catalog_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "osb/driver.h"
#include "osb/errors.h"

/* A catalog file larger than this is a mistake, not a catalog. */
#define CATALOG_FILE_MAX (16u << 20)

/* ---- the catalog ---- */

static int cmp_service_ptr(const void *a, const void *b)
{
	return strcmp((*(const osb_service *const *)a)->id, (*(const osb_service *const *)b)->id);
}

static int cmp_plan_ptr(const void *a, const void *b)
{
	return strcmp((*(const osb_plan *const *)a)->id, (*(const osb_plan *const *)b)->id);
}

static int cmp_key_service(const void *key, const void *el)
{
	return strcmp(key, (*(const osb_service *const *)el)->id);
}

static int cmp_key_plan(const void *key, const void *el)
{
	return strcmp(key, (*(const osb_plan *const *)el)->id);
}

/* Lookups by id, and the served body without the private settings, with its ETag. */
static int build_index(osb_catalog *cat)
{
	cJSON *services = cJSON_GetObjectItemCaseSensitive(cat->root, "services"), *svc, *plans, *plan;
	char hex[65];

	for (size_t i = 0; i < cat->service_count; i++)
		cat->services_by_id[i] = &cat->services[i];
	for (size_t i = 0; i < cat->plan_count; i++)
		cat->plans_by_id[i] = &cat->plans[i];
	qsort(cat->services_by_id, cat->service_count, sizeof *cat->services_by_id, cmp_service_ptr);
	qsort(cat->plans_by_id, cat->plan_count, sizeof *cat->plans_by_id, cmp_plan_ptr);

	/* Move every plan's x-osb out of the served tree; plans' settings still point at them. */
	cJSON_ArrayForEach(svc, services)
	{
		plans = cJSON_GetObjectItemCaseSensitive(svc, "plans");
		cJSON_ArrayForEach(plan, plans)
		{
			cJSON *x = cJSON_DetachItemFromObjectCaseSensitive(plan, "x-osb");
			if (x)
				cJSON_AddItemToArray(cat->private_items, x);
		}
	}

	cat->body = cJSON_PrintUnformatted(cat->root);
	if (!cat->body)
		return OSB_ENOMEM;
	cat->body_len = strlen(cat->body);
	osb_sha256_hex(hex, cat->body, cat->body_len);
	cat->etag[0] = '"';
	memcpy(cat->etag + 1, hex, 32);
	cat->etag[33] = '"';
	cat->etag[34] = '\0';
	return 0;
}

int osb_catalog_parse(osb_catalog **out, const char *json, size_t len, const char *name, uint32_t driver_caps,
		      char *err, size_t err_size)
{
	const char *label = name ? name : "catalog";
	osb_catalog *cat;
	int rc;

	if (err && err_size)
		err[0] = '\0';
	if (!out)
		return OSB_ERROR;
	*out = NULL;
	cat = calloc(1, sizeof *cat);
	if (!cat || (rc = osb_catalog__check(cat, json, len, label, driver_caps, err, err_size)) == 0)
		rc = cat ? build_index(cat) : OSB_ENOMEM;
	if (rc == OSB_ENOMEM && err && err_size)
		snprintf(err, err_size, "%s: out of memory", label);
	if (rc) {
		osb_catalog_free(cat);
		return rc;
	}
	*out = cat;
	return 0;
}

/* A message about the catalog file, "<path>: <what>". @return OSB_EBADREQUEST. */
static int load_fail(char *err, size_t err_size, const char *path, const char *fmt, ...) OSB_PRINTF(4, 5);

static int load_fail(char *err, size_t err_size, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && err_size)
		snprintf(err, err_size, "%s: %s", path ? path : "(null)", msg);
	return OSB_EBADREQUEST;
}

int osb_catalog_load(osb_catalog **out, const char *path, uint32_t driver_caps, char *err, size_t err_size)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	if (err && err_size)
		err[0] = '\0';
	if (out)
		*out = NULL;
	if (!path || !out) {
		load_fail(err, err_size, path, "no catalog file given");
		return OSB_ERROR;
	}
	f = fopen(path, "rb");
	if (!f) {
		load_fail(err, err_size, path, "cannot open: %s", strerror(errno));
		return OSB_ERROR;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nbuf;
			if (cap > CATALOG_FILE_MAX) {
				fclose(f);
				free(buf);
				return load_fail(err, err_size, path, "larger than %u bytes", CATALOG_FILE_MAX);
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				fclose(f);
				free(buf);
				return load_fail(err, err_size, path, "out of memory");
			}
			buf = nbuf;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		load_fail(err, err_size, path, "cannot read: %s", strerror(errno));
		fclose(f);
		free(buf);
		return OSB_ERROR;
	}
	fclose(f);
	if (len > CATALOG_FILE_MAX) {
		free(buf);
		return load_fail(err, err_size, path, "larger than %u bytes", CATALOG_FILE_MAX);
	}
	rc = osb_catalog_parse(out, buf, len, path, driver_caps, err, err_size);
	free(buf);
	return rc;
}

const osb_service *osb_catalog_service(const osb_catalog *catalog, const char *service_id)
{
	const osb_service *const *hit;
	if (!catalog || !service_id)
		return NULL;
	hit = bsearch(service_id, catalog->services_by_id, catalog->service_count, sizeof *catalog->services_by_id,
		      cmp_key_service);
	return hit ? *hit : NULL;
}

const osb_plan *osb_catalog_plan(const osb_catalog *catalog, const char *plan_id)
{
	const osb_plan *const *hit;
	if (!catalog || !plan_id)
		return NULL;
	hit = bsearch(plan_id, catalog->plans_by_id, catalog->plan_count, sizeof *catalog->plans_by_id, cmp_key_plan);
	return hit ? *hit : NULL;
}

size_t osb_catalog_service_count(const osb_catalog *catalog)
{
	return catalog ? catalog->service_count : 0;
}

const osb_service *osb_catalog_service_at(const osb_catalog *catalog, size_t i)
{
	if (!catalog || i >= catalog->service_count)
		return NULL;
	return &catalog->services[i];
}

const char *osb_catalog_body(const osb_catalog *catalog, size_t *len)
{
	if (!catalog) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = catalog->body_len;
	return catalog->body;
}

const char *osb_catalog_etag(const osb_catalog *catalog)
{
	return catalog ? catalog->etag : NULL;
}

void osb_catalog_free(osb_catalog *catalog)
{
	if (!catalog)
		return;
	for (size_t i = 0; i < catalog->plan_count; i++) {
		osb_schema_free(catalog->plans[i].create_schema);
		osb_schema_free(catalog->plans[i].update_schema);
		osb_schema_free(catalog->plans[i].bind_schema);
	}
	free(catalog->plans);
	free(catalog->services);
	free(catalog->services_by_id);
	free(catalog->plans_by_id);
	if (catalog->body)
		cJSON_free(catalog->body);
	cJSON_Delete(catalog->private_items);
	cJSON_Delete(catalog->root);
	free(catalog);
}
