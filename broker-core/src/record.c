/* Helpers that change fields of store records in place. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "osb/errors.h"

void osb_record_set_str(char **slot, const char *value)
{
	char *copy = value ? strdup(value) : NULL;
	free(*slot);
	*slot = copy;
}

void osb_record_set_json(char **slot, const cJSON *value)
{
	char *text = value ? cJSON_PrintUnformatted(value) : NULL;
	free(*slot);
	*slot = text;
}

void osb_crypto_wipe_set(char **slot, char *value)
{
	osb_crypto_free_secret(*slot);
	*slot = value;
}

typedef struct {
	osb_store_tx *tx;
	int64_t now;
	int err;
	char **ids;
	size_t n, cap;
} tombstone_ctx;

static int collect_live(const osb_binding_rec *rec, void *payload)
{
	tombstone_ctx *t = payload;
	if (rec->state == OSB_REC_DELETED || rec->state == OSB_REC_CREATE_FAILED)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **p = realloc(t->ids, cap * sizeof *p);
		if (!p) {
			t->err = OSB_ENOMEM;
			return 1;
		}
		t->ids = p;
		t->cap = cap;
	}
	if (!(t->ids[t->n] = strdup(rec->id))) {
		t->err = OSB_ENOMEM;
		return 1;
	}
	t->n++;
	return 0;
}

int osb_record_tombstone_bindings(osb_store_tx *tx, const char *instance_id, int64_t now, osb_record_tombstone_cb cb,
				  void *payload)
{
	tombstone_ctx t = { tx, now, 0, NULL, 0, 0 };
	int err = osb_store_binding_list(tx, instance_id, collect_live, &t);
	if (!err)
		err = t.err;
	/* Put outside the list callback: a store may not allow writes while it iterates. */
	for (size_t i = 0; !err && i < t.n; i++) {
		osb_binding_rec *b = NULL;
		if ((err = osb_store_binding_get(tx, t.ids[i], &b)))
			break;
		int was = b->state;
		b->state = OSB_REC_DELETED;
		osb_crypto_wipe_set(&b->credentials, NULL);
		b->updated_at = now;
		err = osb_store_binding_put(tx, b);
		if (!err && cb)
			err = cb(tx, b, was, payload);
		osb_binding_rec_free(b);
	}
	for (size_t i = 0; i < t.n; i++)
		free(t.ids[i]);
	free(t.ids);
	return err;
}
