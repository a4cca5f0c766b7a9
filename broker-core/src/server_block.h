/* Private: the shared server's connection block of the `driver` config (osb_server_spec), read once at start. */
#ifndef OSB_SERVER_BLOCK_H
#define OSB_SERVER_BLOCK_H

#include <cjson/cJSON.h>

#include "osb/target.h"

typedef struct {
	osb_target target; /* what callbacks get; its strings are the ones below */
	char *host;
	char *admin_user;
	char *admin_password; /* secret: wiped on free */
	char *public_host;
	char *ca_file;
	char *url;
} osb_server_block;

/** The keys a block of this spec reads, NULL-terminated (the url key last when set). */
void osb_server_block_keys(const osb_server_spec *spec, const char *keys[12]);

/**
 * Read the block from `config` (the `driver` object). A bad value is logged
 * under "<driver>.config" naming the key.
 * @return 0, OSB_EBADREQUEST or OSB_ENOMEM; *out is zeroed on error.
 */
int osb_server_block_read(osb_server_block *out, const cJSON *config, const char *driver, const osb_server_spec *spec);

/** Free the strings (the password wiped); safe on a zeroed block. */
void osb_server_block_free(osb_server_block *block);

#endif
