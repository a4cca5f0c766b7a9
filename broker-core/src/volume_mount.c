/* The Volume Mount Object of the spec (volume services), checked before a bind's answer is stored. */
#include <stdio.h>
#include <string.h>

#include "osb/errors.h"
#include "volume_mount.h"

static int bad(char *why, size_t size, size_t i, const char *member, const char *rule)
{
	snprintf(why, size, "volume_mounts[%zu].%s: %s", i, member, rule);
	return OSB_ERROR;
}

/* The member `name` of `obj` as a non-empty string, or NULL. */
static const char *text(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int osb_volume_mounts_check(const cJSON *mounts, char *why, size_t why_size)
{
	const cJSON *m;
	size_t i = 0;

	if (!cJSON_IsArray(mounts) || cJSON_GetArraySize(mounts) == 0) {
		snprintf(why, why_size, "volume_mounts: must be a non-empty array");
		return OSB_ERROR;
	}
	cJSON_ArrayForEach(m, mounts)
	{
		const cJSON *device, *config;
		const char *dir, *mode, *type;

		if (!cJSON_IsObject(m)) {
			snprintf(why, why_size, "volume_mounts[%zu]: must be an object", i);
			return OSB_ERROR;
		}
		device = cJSON_GetObjectItemCaseSensitive(m, "device");
		config = cJSON_GetObjectItemCaseSensitive(device, "mount_config");
		dir = text(m, "container_dir");
		mode = text(m, "mode");
		type = text(m, "device_type");
		if (!text(m, "driver"))
			return bad(why, why_size, i, "driver", "must be a non-empty string");
		if (!dir || dir[0] != '/')
			return bad(why, why_size, i, "container_dir", "must be an absolute path");
		if (!mode || (strcmp(mode, "r") != 0 && strcmp(mode, "rw") != 0))
			return bad(why, why_size, i, "mode", "must be \"r\" or \"rw\"");
		if (!type || strcmp(type, "shared") != 0)
			return bad(why, why_size, i, "device_type", "must be \"shared\"");
		if (!cJSON_IsObject(device))
			return bad(why, why_size, i, "device", "must be an object");
		if (!text(device, "volume_id"))
			return bad(why, why_size, i, "device.volume_id", "must be a non-empty string");
		if (config && !cJSON_IsObject(config))
			return bad(why, why_size, i, "device.mount_config", "must be an object");
		i++;
	}
	return 0;
}
