/* Private: a volume service's `volume_mounts`, checked against the spec's Volume Mount Object. */
#ifndef OSB_VOLUME_MOUNT_H
#define OSB_VOLUME_MOUNT_H

#include <stddef.h>
#include <cjson/cJSON.h>

/**
 * Check what a driver answered a bind with: a non-empty array of Volume Mount
 * Objects, each with a non-empty `driver`, an absolute `container_dir`, `mode`
 * "r" or "rw", `device_type` "shared" (the only type the spec has) and a
 * `device` object with a non-empty `volume_id` and, when present, an object
 * `mount_config`. Members the spec does not name are left alone.
 * @param why  on failure, the member at fault and the rule, such as
 *             "volume_mounts[0].mode: must be \"r\" or \"rw\"" (never a value).
 * @return 0, or OSB_ERROR.
 */
int osb_volume_mounts_check(const cJSON *mounts, char *why, size_t why_size);

#endif
