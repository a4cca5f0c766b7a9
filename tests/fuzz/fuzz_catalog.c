/* libFuzzer target: load a catalog document with every driver capability and without. */
#include <stdint.h>

#include "catalog.h"
#include "osb/driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	osb_catalog *c = NULL;
	char err[512];
	uint32_t caps = size ? (uint32_t)data[0] : 0xffu;
	if (osb_catalog_parse(&c, (const char *)data, size, "fuzz.json", caps, err, sizeof err) == 0) {
		size_t len;
		osb_catalog_body(c, &len);
		for (size_t i = 0; i < osb_catalog_service_count(c); i++) {
			const osb_service *s = osb_catalog_service_at(c, i);
			for (size_t j = 0; j < s->plan_count; j++)
				osb_catalog_plan(c, s->plans[j].id);
		}
		osb_catalog_free(c);
	}
	return 0;
}
