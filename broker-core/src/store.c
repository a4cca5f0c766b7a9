/* The state store's public functions: dispatch to a back end, seal and open credentials (store_shared.c has what the back ends share). */
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "osb/errors.h"
#include "osb/log.h"

#define DEFAULT_POOL_SIZE 8
#define DEFAULT_BUSY_TIMEOUT_MS 5000

void osb_instance_rec_free(osb_instance_rec *rec)
{
	if (!rec)
		return;
	osb_store_rec_clear(&osb_store_instances, rec);
	free(rec);
}

void osb_binding_rec_free(osb_binding_rec *rec)
{
	if (!rec)
		return;
	osb_store_rec_clear(&osb_store_bindings, rec);
	free(rec);
}

void osb_operation_rec_free(osb_operation_rec *rec)
{
	if (!rec)
		return;
	osb_store_rec_clear(&osb_store_operations, rec);
	free(rec);
}

static int no_timeout(int rc)
{
	return rc == OSB_ETIMEOUT ? OSB_EBACKEND : rc;
}

int osb_store_open(osb_store **out, const osb_store_options *options)
{
	osb_store_options o;
	osb_store *s = NULL;
	int rc;

	if (!out)
		return OSB_ERROR;
	*out = NULL;
	if (!options)
		return OSB_ERROR;
	o = *options;
	if (o.pool_size <= 0)
		o.pool_size = DEFAULT_POOL_SIZE;
	if (o.busy_timeout_ms <= 0)
		o.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
	switch (o.type) {
	case OSB_STORE_SQLITE:
		if (!o.path) {
			osb_log(OSB_LOG_ERROR, "store.error", "sqlite store: no path");
			return OSB_EBACKEND;
		}
		rc = osb_store_sqlite_open(&s, &o);
		break;
	case OSB_STORE_POSTGRESQL:
		if (!o.url) {
			osb_log(OSB_LOG_ERROR, "store.error", "postgresql store: no url");
			return OSB_EBACKEND;
		}
		rc = osb_store_pg_open(&s, &o);
		break;
	default: osb_log(OSB_LOG_ERROR, "store.error", "unknown store type %d", (int)o.type); return OSB_EBACKEND;
	}
	if (rc)
		return rc;
	memcpy(s->key, o.key, sizeof(s->key));
	s->pool_size = o.pool_size;
	s->busy_timeout_ms = o.busy_timeout_ms;
	*out = s;
	return 0;
}

void osb_store_close(osb_store *store)
{
	if (!store)
		return;
	store->be->close(store);
}

int osb_store_ping(osb_store *store, char *msg, size_t msg_size)
{
	if (msg && msg_size)
		msg[0] = '\0';
	if (!store)
		return OSB_EBACKEND;
	return no_timeout(store->be->ping(store, msg, msg_size));
}

int osb_store_begin(osb_store *store, const char *lock_id, osb_store_tx **out)
{
	if (!out)
		return OSB_ERROR;
	*out = NULL;
	if (!store)
		return OSB_ERROR;
	return store->be->begin(store, lock_id, out);
}

int osb_store_commit(osb_store_tx *tx)
{
	if (!tx)
		return OSB_ERROR;
	return tx->store->be->commit(tx);
}

void osb_store_rollback(osb_store_tx *tx)
{
	if (tx)
		tx->store->be->rollback(tx);
}

static int get_rec(osb_store_tx *tx, const osb_store_table *t, const char *id, void **out)
{
	void *rec;
	int rc;

	*out = NULL;
	if (!tx || !id)
		return OSB_ERROR;
	rec = calloc(1, t->rec_size);
	if (!rec)
		return OSB_ENOMEM;
	rc = tx->store->be->get(tx, t, id, rec);
	if (rc) {
		osb_store_rec_clear(t, rec);
		free(rec);
		return no_timeout(rc);
	}
	*out = rec;
	return 0;
}

static int put_rec(osb_store_tx *tx, const osb_store_table *t, const void *rec)
{
	char *const *id = OSB_STORE_FIELD(rec, &t->cols[0]);

	if (!tx || !rec || !*id)
		return OSB_ERROR;
	if (!tx->write) {
		/* A write in a read transaction would bypass the instance lock. */
		osb_log(OSB_LOG_ERROR, "store.error", "put into %s in a read transaction", t->name);
		return OSB_ERROR;
	}
	return no_timeout(tx->store->be->put(tx, t, rec));
}

int osb_store_instance_get(osb_store_tx *tx, const char *id, osb_instance_rec **out)
{
	void *rec;
	int rc = get_rec(tx, &osb_store_instances, id, &rec);
	*out = rec;
	return rc;
}

/*
 * The associated data that ties a sealed column to its row: the id for the
 * credentials, "<id>#response_extras" for the extras (a volume service's
 * mount_config holds a password), so neither value can move to the other column.
 */
static int extras_aad(char *out, size_t size, const char *id)
{
	int n = snprintf(out, size, "%s#response_extras", id);
	return n < 0 || (size_t)n >= size ? OSB_ENOMEM : 0;
}

/* Open one sealed column of a binding read from the back end; *plain NULL when there is none. */
static int open_column(osb_store *store, const char *id, const char *aad, const char *what, const char *sealed,
		       char **plain)
{
	int rc;

	*plain = NULL;
	if (!sealed)
		return 0;
	rc = osb_crypto_open(store->key, aad, sealed, plain);
	if (rc == OSB_ENOMEM)
		return rc;
	if (rc) {
		osb_log(OSB_LOG_ERROR, "store.decrypt_failed",
			"%s of binding %s cannot be opened: wrong store key or altered data", what, id);
		return OSB_EBACKEND;
	}
	return 0;
}

/*
 * Open the sealed columns of a binding record in place: the credentials, and
 * the response extras when sealed (records written before they were sealed
 * hold plain JSON, which is read as it is).
 */
static int open_binding(osb_store *store, osb_binding_rec *b)
{
	char aad[320], *creds, *extras = NULL;
	int rc = open_column(store, b->id, b->id, "credentials", b->credentials, &creds);

	if (rc)
		return rc;
	if (b->response_extras && strncmp(b->response_extras, "v1:", 3) == 0) {
		rc = extras_aad(aad, sizeof aad, b->id);
		if (rc == 0)
			rc = open_column(store, b->id, aad, "response extras", b->response_extras, &extras);
		if (rc) {
			osb_crypto_free_secret(creds);
			return rc;
		}
		b->response_extras = extras;
	}
	b->credentials = creds;
	return 0;
}

int osb_store_binding_get(osb_store_tx *tx, const char *id, osb_binding_rec **out)
{
	void *rec;
	osb_binding_rec *b, sealed;
	int rc = get_rec(tx, &osb_store_bindings, id, &rec);

	*out = NULL;
	if (rc)
		return rc;
	b = rec;
	sealed = *b;
	rc = open_binding(tx->store, b);
	if (rc) {
		osb_binding_rec_free(b);
		return rc;
	}
	free(sealed.credentials);
	if (sealed.response_extras != b->response_extras)
		free(sealed.response_extras);
	*out = b;
	return 0;
}

int osb_store_operation_get(osb_store_tx *tx, const char *id, osb_operation_rec **out)
{
	void *rec;
	int rc = get_rec(tx, &osb_store_operations, id, &rec);
	*out = rec;
	return rc;
}

int osb_store_instance_put(osb_store_tx *tx, const osb_instance_rec *rec)
{
	return put_rec(tx, &osb_store_instances, rec);
}

int osb_store_binding_put(osb_store_tx *tx, const osb_binding_rec *rec)
{
	osb_binding_rec sealed_rec;
	char aad[320], *sealed = NULL, *sealed_extras = NULL;
	int rc;

	if (!tx || !rec || !rec->id)
		return OSB_ERROR;
	sealed_rec = *rec;
	if (rec->credentials) {
		rc = osb_crypto_seal(tx->store->key, rec->id, rec->credentials, &sealed);
		if (rc) {
			osb_log(OSB_LOG_ERROR, "store.error", "cannot seal credentials of binding %s", rec->id);
			return rc;
		}
		sealed_rec.credentials = sealed;
	}
	if (rec->response_extras) {
		rc = extras_aad(aad, sizeof aad, rec->id);
		if (rc == 0)
			rc = osb_crypto_seal(tx->store->key, aad, rec->response_extras, &sealed_extras);
		if (rc) {
			osb_log(OSB_LOG_ERROR, "store.error", "cannot seal the response extras of binding %s", rec->id);
			free(sealed);
			return rc;
		}
		sealed_rec.response_extras = sealed_extras;
	}
	rc = put_rec(tx, &osb_store_bindings, &sealed_rec);
	free(sealed);
	free(sealed_extras);
	return rc;
}

int osb_store_operation_put(osb_store_tx *tx, const osb_operation_rec *rec)
{
	return put_rec(tx, &osb_store_operations, rec);
}

/* Lists: back-end rows pass through these trampolines to the typed callbacks. */
typedef struct {
	osb_store *store;
	osb_instance_cb icb;
	osb_binding_cb bcb;
	void *payload;
	int rc;
} list_ctx;

static int instance_row(const void *rec, void *payload)
{
	list_ctx *ctx = payload;
	return ctx->icb(rec, ctx->payload);
}

static int binding_row(const void *rec, void *payload)
{
	list_ctx *ctx = payload;
	const osb_binding_rec *row = rec;
	osb_binding_rec b = *row;
	int stop;

	ctx->rc = open_binding(ctx->store, &b);
	if (ctx->rc)
		return 1;
	stop = ctx->bcb(&b, ctx->payload);
	osb_crypto_free_secret(b.credentials);
	if (b.response_extras != row->response_extras)
		osb_crypto_free_secret(b.response_extras);
	return stop;
}

static int list_tx(osb_store_tx *tx, const osb_store_table *t, const char *instance_id, list_ctx *ctx)
{
	int rc = tx->store->be->list(tx, t, instance_id, ctx->icb ? instance_row : binding_row, ctx);
	return no_timeout(rc ? rc : ctx->rc);
}

int osb_store_binding_list(osb_store_tx *tx, const char *instance_id, osb_binding_cb cb, void *payload)
{
	list_ctx ctx = { 0 };

	if (!tx || !instance_id || !cb)
		return OSB_ERROR;
	ctx.store = tx->store;
	ctx.bcb = cb;
	ctx.payload = payload;
	return list_tx(tx, &osb_store_bindings, instance_id, &ctx);
}

static int list_all(osb_store *store, const osb_store_table *t, list_ctx *ctx)
{
	osb_store_tx *tx = NULL;
	int rc;

	if (!store)
		return OSB_ERROR;
	ctx->store = store;
	rc = store->be->begin(store, NULL, &tx);
	if (rc)
		return no_timeout(rc);
	rc = list_tx(tx, t, NULL, ctx);
	store->be->rollback(tx); /* read only: nothing to keep */
	return rc;
}

int osb_store_instance_list_all(osb_store *store, osb_instance_cb cb, void *payload)
{
	list_ctx ctx = { 0 };

	if (!cb)
		return OSB_ERROR;
	ctx.icb = cb;
	ctx.payload = payload;
	return list_all(store, &osb_store_instances, &ctx);
}

int osb_store_binding_list_all(osb_store *store, osb_binding_cb cb, void *payload)
{
	list_ctx ctx = { 0 };

	if (!cb)
		return OSB_ERROR;
	ctx.bcb = cb;
	ctx.payload = payload;
	return list_all(store, &osb_store_bindings, &ctx);
}

int osb_store_operation_claim(osb_store *store, const char *owner, int lease_s, osb_operation_cb cb, void *payload)
{
	osb_operation_rec **recs = NULL;
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);
	int rc, stop = 0;

	if (!store || !owner || !cb)
		return OSB_ERROR;
	rc = store->be->claim(store, owner, now, now + lease_s, &recs, &n);
	if (rc)
		return no_timeout(rc);
	/* Callbacks run after the claim committed, so they may open transactions themselves. */
	for (size_t i = 0; i < n; i++) {
		if (!stop) {
			stop = cb(recs[i], payload);
		} else if (store->be->lease(store, recs[i]->id, owner, NULL, 0) != 0) {
			/* Not handed out: give it back so another pass or replica runs it. */
			osb_log(OSB_LOG_WARN, "store.error",
				"could not release operation %s; it waits for its lease to end", recs[i]->id);
		}
		osb_operation_rec_free(recs[i]);
	}
	free(recs);
	return 0;
}

int osb_store_operation_renew(osb_store *store, const char *op_id, const char *owner, int lease_s)
{
	if (!store || !op_id || !owner)
		return OSB_ERROR;
	return no_timeout(store->be->lease(store, op_id, owner, owner, (int64_t)time(NULL) + lease_s));
}

int osb_store_usage_append(osb_store_tx *tx, const osb_usage_event *ev)
{
	int rc;
	if (!tx || !ev || !ev->kind || !ev->instance_id)
		return OSB_ERROR;
	if (!tx->write) {
		osb_log(OSB_LOG_ERROR, "store.error", "usage record appended in a read transaction");
		return OSB_ERROR;
	}
	/*
	 * Held to the end of the transaction: transactions that append records commit
	 * one at a time, so seq order is commit order, and a reader that saw seq N never
	 * later meets a smaller one (docs/operations.md, "Usage records"). The key has a
	 * ':', which no instance id has, so it never shares a lock with an instance.
	 */
	if ((rc = osb_store_lock(tx, "osb:usage-log")) != 0)
		return rc;
	return tx->store->be->usage_append(tx, ev);
}

typedef struct {
	osb_usage_cb cb;
	void *payload;
} usage_ctx;

static int usage_row(const void *rec, void *payload)
{
	usage_ctx *ctx = payload;
	return ctx->cb(rec, ctx->payload);
}

int osb_store_usage_list(osb_store *store, int64_t after, int limit, osb_usage_cb cb, void *payload)
{
	usage_ctx ctx = { cb, payload };

	if (!store || !cb || limit <= 0 || after < 0)
		return OSB_ERROR;
	return no_timeout(store->be->usage_list(store, after, limit, usage_row, &ctx));
}

int osb_store_plan_counts(osb_store *store, osb_plan_count_cb cb, void *payload)
{
	if (!store || !cb)
		return OSB_ERROR;
	return no_timeout(store->be->plan_counts(store, cb, payload));
}

int osb_store_counts_get(osb_store *store, osb_store_counts *out)
{
	if (!store || !out)
		return OSB_ERROR;
	memset(out, 0, sizeof(*out));
	return no_timeout(store->be->counts(store, out));
}

int osb_store_instance_count(osb_store_tx *tx, const char *plan_id, long *out)
{
	if (!tx || !out)
		return OSB_ERROR;
	*out = 0;
	return tx->store->be->count_live(tx, plan_id, out);
}

int osb_store_lock(osb_store_tx *tx, const char *key)
{
	if (!tx || !tx->write || !key)
		return OSB_ERROR;
	return tx->store->be->lock(tx, key);
}

int osb_store_size(osb_store *store, int64_t *bytes)
{
	if (!store || !bytes)
		return OSB_ERROR;
	*bytes = 0;
	return no_timeout(store->be->size(store, bytes));
}
