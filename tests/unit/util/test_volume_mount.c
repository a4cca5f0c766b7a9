/* Unit tests of volume_mount.c: a volume service's volume_mounts against the spec's Volume Mount Object. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "osb/errors.h"
#include "volume_mount.h"
#include "unit.h"

#define GOOD_MOUNT                                                                                                     \
	"{\"driver\":\"smbdriver\",\"container_dir\":\"/var/vcap/data/x\",\"mode\":\"rw\","                            \
	"\"device_type\":\"shared\",\"device\":{\"volume_id\":\"i-1\",\"mount_config\":{\"source\":\"//h/s\"}}}"

/* osb_volume_mounts_check() of the JSON text; `why` gets the message. */
static int check(const char *json, char *why, size_t size)
{
	cJSON *v = cJSON_Parse(json);
	int rc;

	why[0] = '\0';
	if (!v) {
		fprintf(stderr, "test JSON does not parse: %s\n", json);
		return -999;
	}
	rc = osb_volume_mounts_check(v, why, size);
	cJSON_Delete(v);
	return rc;
}

static void test_valid(void)
{
	char why[160];

	CHECK_INT(check("[" GOOD_MOUNT "]", why, sizeof why), 0);
	CHECK_INT(check("[" GOOD_MOUNT "," GOOD_MOUNT "]", why, sizeof why), 0);
	/* mount_config is optional; read-only mounts; members the spec does not name are left alone */
	CHECK_INT(check("[{\"driver\":\"d\",\"container_dir\":\"/data\",\"mode\":\"r\",\"device_type\":\"shared\","
			"\"device\":{\"volume_id\":\"v\"},\"x-extra\":1}]",
			why, sizeof why),
		  0);
}

static const struct {
	const char *json;
	const char *why;
} bad_cases[] = {
	{ "{}", "volume_mounts: must be a non-empty array" },
	{ "[]", "volume_mounts: must be a non-empty array" },
	{ "[1]", "volume_mounts[0]: must be an object" },
	{ "[" GOOD_MOUNT ",\"x\"]", "volume_mounts[1]: must be an object" },
	{ "[{\"container_dir\":\"/d\",\"mode\":\"r\",\"device_type\":\"shared\",\"device\":{\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].driver: must be a non-empty string" },
	{ "[{\"driver\":\"\",\"container_dir\":\"/"
	  "d\",\"mode\":\"r\",\"device_type\":\"shared\",\"device\":{\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].driver: must be a non-empty string" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"data\",\"mode\":\"r\",\"device_type\":\"shared\",\"device\":{"
	  "\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].container_dir: must be an absolute path" },
	{ "[{\"driver\":\"d\",\"container_dir\":7,\"mode\":\"r\",\"device_type\":\"shared\",\"device\":{\"volume_id\":"
	  "\"v\"}}]",
	  "volume_mounts[0].container_dir: must be an absolute path" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/"
	  "d\",\"mode\":\"w\",\"device_type\":\"shared\",\"device\":{\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].mode: must be \"r\" or \"rw\"" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/d\",\"device_type\":\"shared\",\"device\":{\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].mode: must be \"r\" or \"rw\"" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/"
	  "d\",\"mode\":\"rw\",\"device_type\":\"block\",\"device\":{\"volume_id\":\"v\"}}]",
	  "volume_mounts[0].device_type: must be \"shared\"" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/d\",\"mode\":\"rw\",\"device_type\":\"shared\"}]",
	  "volume_mounts[0].device: must be an object" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/d\",\"mode\":\"rw\",\"device_type\":\"shared\",\"device\":{}}]",
	  "volume_mounts[0].device.volume_id: must be a non-empty string" },
	{ "[{\"driver\":\"d\",\"container_dir\":\"/d\",\"mode\":\"rw\",\"device_type\":\"shared\","
	  "\"device\":{\"volume_id\":\"v\",\"mount_config\":\"user=x\"}}]",
	  "volume_mounts[0].device.mount_config: must be an object" },
};

static void test_invalid(void)
{
	char why[160];

	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		CHECK_INT(check(bad_cases[i].json, why, sizeof why), OSB_ERROR);
		CHECK_STR(why, bad_cases[i].why);
	}
}

/* A message names the member, never its value: mount_config may hold a password. */
static void test_no_value_in_message(void)
{
	char why[160];

	CHECK_INT(
		check("[{\"driver\":\"d\",\"container_dir\":\"secret-dir\",\"mode\":\"rw\",\"device_type\":\"shared\","
		      "\"device\":{\"volume_id\":\"v\",\"mount_config\":{\"password\":\"hunter2\"}}}]",
		      why, sizeof why),
		OSB_ERROR);
	CHECK(!strstr(why, "secret-dir"));
	CHECK_INT(check("[{\"driver\":\"d\",\"container_dir\":\"/d\",\"mode\":\"hunter2\",\"device_type\":\"shared\","
			"\"device\":{\"volume_id\":\"v\"}}]",
			why, sizeof why),
		  OSB_ERROR);
	CHECK(!strstr(why, "hunter2"));
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_valid), OSB_TEST_CASE(test_invalid), OSB_TEST_CASE(test_no_value_in_message))
