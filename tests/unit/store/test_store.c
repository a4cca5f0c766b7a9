/* Unit tests of the state store and credential sealing, against SQLite and (with OSB_TEST_PG_URL) PostgreSQL. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "crypto.h"
#include "osb/errors.h"
#include "store.h"
#include "unit.h"

#define PASSWORD "Zq8-unit-test-Passw0rd-4711"
/* A secret in a binding's response extras (a volume service's mount_config). */
#define MOUNT_PASSWORD "Mq7-mount-config-Passw0rd-0815"

#include "store_env.h"

/* ---- Records ---- */

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define CHECK_SAME(got, want) CHECK_SAME_(got, want, #got)
#define CHECK_SAME_(got, want, what)                                                                                   \
	do {                                                                                                           \
		if (!same((got), (want))) {                                                                            \
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, what,                \
				(got) ? (got) : "(null)", (want) ? (want) : "(null)");                                 \
			osb_test_failed_checks++;                                                                      \
		}                                                                                                      \
	} while (0)

static osb_instance_rec full_instance(char *id)
{
	osb_instance_rec r = {
		.id = id,
		.service_id = "svc-1",
		.plan_id = "plan-small",
		.parameters = "{\"size\":3}",
		.context = "{\"platform\":\"cloudfoundry\"}",
		.maintenance_version = "2.1.0",
		.dashboard_url = "https://dash.example/x?y=1",
		.driver_state = "{\"db\":\"d_1\"}",
		.metadata = "{\"labels\":{\"a\":\"b\"}}",
		.fingerprint = "ab12cd",
		.state = OSB_REC_READY,
		.op_id = "op-9",
		.created_at = 1700000000,
		.updated_at = (int64_t)1 << 40, /* more than 32 bits */
	};
	return r;
}

static void check_instance(const osb_instance_rec *g, const osb_instance_rec *w)
{
	CHECK_SAME(g->id, w->id);
	CHECK_SAME(g->service_id, w->service_id);
	CHECK_SAME(g->plan_id, w->plan_id);
	CHECK_SAME(g->parameters, w->parameters);
	CHECK_SAME(g->context, w->context);
	CHECK_SAME(g->maintenance_version, w->maintenance_version);
	CHECK_SAME(g->dashboard_url, w->dashboard_url);
	CHECK_SAME(g->driver_state, w->driver_state);
	CHECK_SAME(g->metadata, w->metadata);
	CHECK_SAME(g->fingerprint, w->fingerprint);
	CHECK_INT(g->state, w->state);
	CHECK_SAME(g->op_id, w->op_id);
	CHECK_INT(g->created_at, w->created_at);
	CHECK_INT(g->updated_at, w->updated_at);
}

static osb_binding_rec full_binding(char *id, char *instance_id, int64_t created)
{
	osb_binding_rec r = {
		.id = id,
		.instance_id = instance_id,
		.service_id = "svc-1",
		.plan_id = "plan-small",
		.parameters = "{\"role\":\"ro\"}",
		.bind_resource = "{\"app_guid\":\"app-1\"}",
		.context = "{\"platform\":\"kubernetes\"}",
		.credentials = "{\"username\":\"u1\",\"password\":\"" PASSWORD "\"}",
		.response_extras =
			"{\"endpoints\":[],\"volume_mounts\":[{\"device\":{\"mount_config\":{\"password\":\"" MOUNT_PASSWORD
			"\"}}}]}",
		.driver_state = "{\"role\":\"r_1\"}",
		.fingerprint = "ff00",
		.predecessor_id = "b-old",
		.state = OSB_REC_READY,
		.op_id = "op-b",
		.expires_at = 1800000000,
		.renew_before = 1790000000,
		.created_at = created,
		.updated_at = created + 1,
	};
	return r;
}

static void check_binding(const osb_binding_rec *g, const osb_binding_rec *w)
{
	CHECK_SAME(g->id, w->id);
	CHECK_SAME(g->instance_id, w->instance_id);
	CHECK_SAME(g->service_id, w->service_id);
	CHECK_SAME(g->plan_id, w->plan_id);
	CHECK_SAME(g->parameters, w->parameters);
	CHECK_SAME(g->bind_resource, w->bind_resource);
	CHECK_SAME(g->context, w->context);
	CHECK_SAME(g->credentials, w->credentials);
	CHECK_SAME(g->response_extras, w->response_extras);
	CHECK_SAME(g->driver_state, w->driver_state);
	CHECK_SAME(g->fingerprint, w->fingerprint);
	CHECK_SAME(g->predecessor_id, w->predecessor_id);
	CHECK_INT(g->state, w->state);
	CHECK_SAME(g->op_id, w->op_id);
	CHECK_INT(g->expires_at, w->expires_at);
	CHECK_INT(g->renew_before, w->renew_before);
	CHECK_INT(g->created_at, w->created_at);
	CHECK_INT(g->updated_at, w->updated_at);
}

static osb_operation_rec full_operation(char *id, int state, char *owner, int64_t lease_until)
{
	osb_operation_rec r = {
		.id = id,
		.kind = 4,
		.instance_id = "i-1",
		.binding_id = "b-1",
		.state = state,
		.async = 1,
		.description = "creating role",
		.request = "{\"accepts_incomplete\":true}",
		.instance_usable = -1,
		.update_repeatable = 0,
		.owner = owner,
		.lease_until = lease_until,
		.deadline_at = 1700003600,
		.created_at = 1700000000,
		.updated_at = 1700000001,
	};
	return r;
}

static void check_operation(const osb_operation_rec *g, const osb_operation_rec *w)
{
	CHECK_SAME(g->id, w->id);
	CHECK_INT(g->kind, w->kind);
	CHECK_SAME(g->instance_id, w->instance_id);
	CHECK_SAME(g->binding_id, w->binding_id);
	CHECK_INT(g->state, w->state);
	CHECK_INT(g->async, w->async);
	CHECK_SAME(g->description, w->description);
	CHECK_SAME(g->request, w->request);
	CHECK_INT(g->instance_usable, w->instance_usable);
	CHECK_INT(g->update_repeatable, w->update_repeatable);
	CHECK_SAME(g->owner, w->owner);
	CHECK_INT(g->lease_until, w->lease_until);
	CHECK_INT(g->deadline_at, w->deadline_at);
	CHECK_INT(g->created_at, w->created_at);
	CHECK_INT(g->updated_at, w->updated_at);
}

/* Put records in one write transaction. */
static void put_instance(osb_store *s, const osb_instance_rec *r)
{
	osb_store_tx *tx = NULL;
	CHECK_INT(osb_store_begin(s, r->id, &tx), 0);
	CHECK_INT(osb_store_instance_put(tx, r), 0);
	CHECK_INT(osb_store_commit(tx), 0);
}

static void put_binding(osb_store *s, const osb_binding_rec *r)
{
	osb_store_tx *tx = NULL;
	CHECK_INT(osb_store_begin(s, r->instance_id, &tx), 0);
	CHECK_INT(osb_store_binding_put(tx, r), 0);
	CHECK_INT(osb_store_commit(tx), 0);
}

static void put_operation(osb_store *s, const osb_operation_rec *r)
{
	osb_store_tx *tx = NULL;
	CHECK_INT(osb_store_begin(s, r->instance_id, &tx), 0);
	CHECK_INT(osb_store_operation_put(tx, r), 0);
	CHECK_INT(osb_store_commit(tx), 0);
}

/* ---- Crypto (no back end) ---- */

static void crypto_seal_open(void)
{
	unsigned char key[32], other[32];
	char *a = NULL, *b = NULL, *plain = NULL;

	CHECK_INT(osb_crypto_parse_key(key, "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F"), 0);
	CHECK_INT(key[0], 0);
	CHECK_INT(key[26], 0x1a);
	CHECK_INT(key[31], 0x1f);
	CHECK_INT(osb_crypto_parse_key(other, "00"), OSB_ERROR);
	CHECK_INT(osb_crypto_parse_key(other, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
		  OSB_ERROR);
	CHECK_INT(osb_crypto_parse_key(other, NULL), OSB_ERROR);
	test_key(other, 9);

	CHECK_INT(osb_crypto_seal(key, "b-1", "{\"password\":\"" PASSWORD "\"}", &a), 0);
	CHECK_INT(osb_crypto_seal(key, "b-1", "{\"password\":\"" PASSWORD "\"}", &b), 0);
	CHECK(a && strncmp(a, "v1:", 3) == 0);
	CHECK(a && !strstr(a, PASSWORD));
	CHECK(a && b && strcmp(a, b) != 0); /* a fresh nonce each time */
	CHECK_INT(osb_crypto_open(key, "b-1", a, &plain), 0);
	CHECK_STR(plain, "{\"password\":\"" PASSWORD "\"}");
	osb_crypto_free_secret(plain);
	plain = NULL;

	CHECK_INT(osb_crypto_open(other, "b-1", a, &plain), OSB_ERROR); /* wrong key */
	CHECK_INT(osb_crypto_open(key, "b-2", a, &plain), OSB_ERROR);   /* moved to another row */
	CHECK(plain == NULL);
	if (a) {
		a[10] = a[10] == 'A' ? 'B' : 'A'; /* tampered */
		CHECK_INT(osb_crypto_open(key, "b-1", a, &plain), OSB_ERROR);
	}
	CHECK_INT(osb_crypto_open(key, "b-1", "v1:", &plain), OSB_ERROR);
	CHECK_INT(osb_crypto_open(key, "b-1", "v1:AAAA", &plain), OSB_ERROR);
	CHECK_INT(osb_crypto_open(key, "b-1", "v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &plain), OSB_ERROR);
	CHECK_INT(osb_crypto_open(key, "b-1", "v1:!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &plain), OSB_ERROR);
	free(a);
	free(b);

	/* Empty plaintext round-trips too. */
	CHECK_INT(osb_crypto_seal(key, NULL, "", &a), 0);
	CHECK_INT(osb_crypto_open(key, NULL, a, &plain), 0);
	CHECK_STR(plain, "");
	osb_crypto_free_secret(plain);
	free(a);
}

/* ---- Cases run against each back end ---- */

static void round_trips(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	osb_instance_rec *ig = NULL;
	osb_binding_rec *bg = NULL;
	osb_operation_rec *og = NULL;
	char msg[128];

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_ping(s, msg, sizeof(msg)), 0);

	osb_instance_rec i1 = full_instance("i-1");
	osb_instance_rec i2 = { .id = "i-2", .state = OSB_REC_CREATING }; /* every string NULL */
	osb_binding_rec b1 = full_binding("b-1", "i-1", 100);
	osb_binding_rec b2 = { .id = "b-2", .instance_id = "i-1", .state = OSB_REC_DELETED };
	osb_operation_rec o1 = full_operation("op-1", OSB_OPSTATE_SUCCEEDED, "replica-a", 1700000100);
	osb_operation_rec o2 = { .id = "op-2",
				 .kind = 1,
				 .instance_id = "i-2",
				 .state = OSB_OPSTATE_IN_PROGRESS,
				 .instance_usable = 1,
				 .update_repeatable = -1 };

	CHECK_INT(osb_store_begin(s, "i-1", &tx), 0);
	CHECK_INT(osb_store_instance_put(tx, &i1), 0);
	CHECK_INT(osb_store_instance_put(tx, &i2), 0);
	CHECK_INT(osb_store_binding_put(tx, &b1), 0);
	CHECK_INT(osb_store_binding_put(tx, &b2), 0);
	CHECK_INT(osb_store_operation_put(tx, &o1), 0);
	CHECK_INT(osb_store_operation_put(tx, &o2), 0);
	/* The writer sees its own writes before commit. */
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0);
	osb_instance_rec_free(ig);
	CHECK_INT(osb_store_commit(tx), 0);

	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0);
	if (ig)
		check_instance(ig, &i1);
	osb_instance_rec_free(ig);
	CHECK_INT(osb_store_instance_get(tx, "i-2", &ig), 0);
	if (ig)
		check_instance(ig, &i2);
	osb_instance_rec_free(ig);
	CHECK_INT(osb_store_binding_get(tx, "b-1", &bg), 0);
	if (bg)
		check_binding(bg, &b1);
	osb_binding_rec_free(bg);
	CHECK_INT(osb_store_binding_get(tx, "b-2", &bg), 0);
	if (bg)
		check_binding(bg, &b2);
	osb_binding_rec_free(bg);
	CHECK_INT(osb_store_operation_get(tx, "op-1", &og), 0);
	if (og)
		check_operation(og, &o1);
	osb_operation_rec_free(og);
	CHECK_INT(osb_store_operation_get(tx, "op-2", &og), 0);
	if (og)
		check_operation(og, &o2);
	osb_operation_rec_free(og);

	/* Not found. */
	ig = (void *)1;
	CHECK_INT(osb_store_instance_get(tx, "nope", &ig), OSB_ENOTFOUND);
	CHECK(ig == NULL);
	CHECK_INT(osb_store_binding_get(tx, "nope", &bg), OSB_ENOTFOUND);
	CHECK_INT(osb_store_operation_get(tx, "nope", &og), OSB_ENOTFOUND);
	/* A read transaction cannot write. */
	CHECK(osb_store_instance_put(tx, &i1) != 0);
	osb_store_rollback(tx);

	/* Replace: every field, some strings back to NULL, credentials changed. */
	i1.plan_id = "plan-large";
	i1.dashboard_url = NULL;
	i1.state = OSB_REC_DELETING;
	i1.updated_at = 1700009999;
	put_instance(s, &i1);
	b1.credentials = "{\"password\":\"rotated\"}";
	b1.predecessor_id = NULL;
	put_binding(s, &b1);
	o2.state = OSB_OPSTATE_FAILED;
	o2.description = "driver said no";
	put_operation(s, &o2);

	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0);
	if (ig)
		check_instance(ig, &i1);
	osb_instance_rec_free(ig);
	CHECK_INT(osb_store_binding_get(tx, "b-1", &bg), 0);
	if (bg)
		check_binding(bg, &b1);
	osb_binding_rec_free(bg);
	CHECK_INT(osb_store_operation_get(tx, "op-2", &og), 0);
	if (og)
		check_operation(og, &o2);
	osb_operation_rec_free(og);
	CHECK_INT(osb_store_commit(tx), 0);

	/* Rolled back writes are gone. */
	osb_instance_rec i3 = full_instance("i-3");
	CHECK_INT(osb_store_begin(s, "i-3", &tx), 0);
	CHECK_INT(osb_store_instance_put(tx, &i3), 0);
	osb_store_rollback(tx);
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-3", &ig), OSB_ENOTFOUND);
	osb_store_rollback(tx);
	osb_store_rollback(NULL);
	osb_store_close(s);
done:
	osb_store_close(NULL);
	env_fini(&e);
}

typedef struct {
	int n;
	char ids[16][32];
	bool creds_ok;
	int stop_after;
} collect;

static int collect_binding(const osb_binding_rec *r, void *p)
{
	collect *c = p;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", r->id);
	c->n++;
	if (r->credentials && !strstr(r->credentials, PASSWORD))
		c->creds_ok = false;
	return c->stop_after && c->n >= c->stop_after;
}

static int collect_instance(const osb_instance_rec *r, void *p)
{
	collect *c = p;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", r->id);
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

typedef struct {
	osb_store_tx *tx;
	int inner;
	int gets;
} nested;

static int nested_binding(const osb_binding_rec *r, void *p)
{
	nested *n = p;
	collect c = { .creds_ok = true };
	osb_binding_rec *b = NULL;

	/* Other statements, and the same list, while the outer list is still running. */
	if (osb_store_binding_get(n->tx, r->id, &b) == 0)
		n->gets++;
	osb_binding_rec_free(b);
	if (osb_store_binding_list(n->tx, r->instance_id, collect_binding, &c) == 0)
		n->inner += c.n;
	return 0;
}

static void lists(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	collect c;

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_instance_rec i1 = full_instance("i-1"), i2 = full_instance("i-2"), i3 = full_instance("i-3");
	put_instance(s, &i1);
	put_instance(s, &i2);
	put_instance(s, &i3);
	/* Created out of id order: lists come in creation order. */
	osb_binding_rec b1 = full_binding("b-z", "i-1", 300), b2 = full_binding("b-a", "i-1", 200);
	osb_binding_rec b3 = full_binding("b-m", "i-2", 100);
	osb_binding_rec b4 = { .id = "b-t", .instance_id = "i-1", .state = OSB_REC_DELETED, .created_at = 400 };
	put_binding(s, &b1);
	put_binding(s, &b2);
	put_binding(s, &b3);
	put_binding(s, &b4);

	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	c = (collect){ .creds_ok = true };
	CHECK_INT(osb_store_binding_list(tx, "i-1", collect_binding, &c), 0);
	CHECK_INT(c.n, 3);
	CHECK_STR(c.ids[0], "b-a");
	CHECK_STR(c.ids[1], "b-z");
	CHECK_STR(c.ids[2], "b-t"); /* tombstones included */
	CHECK(c.creds_ok);
	c = (collect){ .creds_ok = true };
	CHECK_INT(osb_store_binding_list(tx, "i-3", collect_binding, &c), 0);
	CHECK_INT(c.n, 0);
	c = (collect){ .creds_ok = true, .stop_after = 1 };
	CHECK_INT(osb_store_binding_list(tx, "i-1", collect_binding, &c), 0);
	CHECK_INT(c.n, 1);

	nested n = { .tx = tx };
	CHECK_INT(osb_store_binding_list(tx, "i-1", nested_binding, &n), 0);
	CHECK_INT(n.gets, 3);
	CHECK_INT(n.inner, 9);
	osb_store_rollback(tx);

	c = (collect){ .creds_ok = true };
	CHECK_INT(osb_store_instance_list_all(s, collect_instance, &c), 0);
	CHECK_INT(c.n, 3);
	c = (collect){ .creds_ok = true };
	CHECK_INT(osb_store_binding_list_all(s, collect_binding, &c), 0);
	CHECK_INT(c.n, 4);
	CHECK(c.creds_ok);
	c = (collect){ .creds_ok = true, .stop_after = 2 };
	CHECK_INT(osb_store_binding_list_all(s, collect_binding, &c), 0);
	CHECK_INT(c.n, 2);
	osb_store_close(s);
done:
	env_fini(&e);
}

static void counts_and_size(void)
{
	env e;
	osb_store *s;
	osb_store_counts n;
	int64_t size = -1;
	static const int istates[] = { OSB_REC_CREATING,      OSB_REC_READY,    OSB_REC_READY,
				       OSB_REC_CREATE_FAILED, OSB_REC_DELETING, OSB_REC_DELETED };

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_counts_get(s, &n), 0);
	CHECK_INT(n.instances + n.bindings + n.ops_in_progress + n.ops_succeeded + n.ops_failed, 0);
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "i-%d", i);
		osb_instance_rec r = { .id = id, .state = istates[i] };
		put_instance(s, &r);
		snprintf(id, sizeof(id), "b-%d", i);
		osb_binding_rec b = { .id = id, .instance_id = "i-0", .state = istates[(i + 3) % 6] };
		put_binding(s, &b);
		snprintf(id, sizeof(id), "o-%d", i);
		osb_operation_rec o = { .id = id, .instance_id = "i-0", .state = 1 + i % 3 };
		put_operation(s, &o);
	}
	osb_operation_rec extra = { .id = "o-x", .instance_id = "i-0", .state = OSB_OPSTATE_IN_PROGRESS };
	put_operation(s, &extra);
	CHECK_INT(osb_store_counts_get(s, &n), 0);
	CHECK_INT(n.instances, 4);
	CHECK_INT(n.bindings, 4);
	CHECK_INT(n.ops_in_progress, 3);
	CHECK_INT(n.ops_succeeded, 2);
	CHECK_INT(n.ops_failed, 2);
	CHECK_INT(osb_store_size(s, &size), 0);
	CHECK(size > 0);
	osb_store_close(s);
done:
	env_fini(&e);
}

typedef struct {
	int n;
	char ids[8][16];
	char owner[16];
	int64_t lease;
	int stop_after;
} claimed;

static int on_claim(const osb_operation_rec *r, void *p)
{
	claimed *c = p;
	if (c->n < 8)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", r->id);
	snprintf(c->owner, sizeof(c->owner), "%s", r->owner ? r->owner : "");
	c->lease = r->lease_until;
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static bool has_id(const claimed *c, const char *id)
{
	for (int i = 0; i < c->n && i < 8; i++)
		if (strcmp(c->ids[i], id) == 0)
			return true;
	return false;
}

static void claim_and_renew(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	osb_operation_rec *og = NULL;
	claimed c;
	int64_t now = (int64_t)time(NULL);

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_operation_rec free_op = full_operation("op-free", OSB_OPSTATE_IN_PROGRESS, NULL, 0);
	osb_operation_rec held = full_operation("op-held", OSB_OPSTATE_IN_PROGRESS, "other", now + 600);
	osb_operation_rec expired = full_operation("op-expired", OSB_OPSTATE_IN_PROGRESS, "dead", now - 10);
	osb_operation_rec done_op = full_operation("op-done", OSB_OPSTATE_SUCCEEDED, NULL, 0);
	put_operation(s, &free_op);
	put_operation(s, &held);
	put_operation(s, &expired);
	put_operation(s, &done_op);

	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "me", 60, on_claim, &c), 0);
	CHECK_INT(c.n, 2);
	CHECK(has_id(&c, "op-free"));
	CHECK(has_id(&c, "op-expired"));
	CHECK_STR(c.owner, "me");
	CHECK(c.lease >= now + 60 && c.lease <= now + 62);

	/* Claimed ops are not claimed again while their lease runs. */
	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "you", 60, on_claim, &c), 0);
	CHECK_INT(c.n, 0);

	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_operation_get(tx, "op-free", &og), 0);
	if (og) {
		CHECK_STR(og->owner, "me");
		CHECK_SAME(og->description, free_op.description); /* the rest untouched */
	}
	osb_operation_rec_free(og);
	osb_store_rollback(tx);

	/* Renew: only by the owner. */
	CHECK_INT(osb_store_operation_renew(s, "op-free", "me", 300), 0);
	CHECK_INT(osb_store_operation_renew(s, "op-free", "you", 300), OSB_ENOTFOUND);
	CHECK_INT(osb_store_operation_renew(s, "op-missing", "me", 300), OSB_ENOTFOUND);
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_operation_get(tx, "op-free", &og), 0);
	if (og)
		CHECK(og->lease_until >= now + 300);
	osb_operation_rec_free(og);
	osb_store_rollback(tx);

	/* A lease in the past has expired: the next claim takes the op over. */
	CHECK_INT(osb_store_operation_renew(s, "op-expired", "me", -5), 0);
	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "you", 60, on_claim, &c), 0);
	CHECK_INT(c.n, 1);
	CHECK(has_id(&c, "op-expired"));
	CHECK_INT(osb_store_operation_renew(s, "op-expired", "me", 60), OSB_ENOTFOUND); /* lost it */

	/* Lease 0: ends now, so is claimable once the clock moves on. */
	osb_operation_rec zero = full_operation("op-zero", OSB_OPSTATE_IN_PROGRESS, NULL, 0);
	put_operation(s, &zero);
	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "a", 0, on_claim, &c), 0);
	CHECK_INT(c.n, 1);
	CHECK_INT(osb_store_operation_renew(s, "op-zero", "a", -1), 0);
	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "b", 0, on_claim, &c), 0);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.owner, "b");

	/* A callback that stops: the ops it never saw are released, not kept. */
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "op-s%d", i);
		osb_operation_rec o = full_operation(id, OSB_OPSTATE_IN_PROGRESS, NULL, 0);
		put_operation(s, &o);
	}
	c = (claimed){ .stop_after = 1 };
	CHECK_INT(osb_store_operation_claim(s, "stopper", 600, on_claim, &c), 0);
	CHECK_INT(c.n, 1);
	c = (claimed){ 0 };
	CHECK_INT(osb_store_operation_claim(s, "next", 600, on_claim, &c), 0);
	CHECK_INT(c.n, 2);
	osb_store_close(s);
done:
	env_fini(&e);
}

/* Replicas claiming at once: each op exactly once. */
typedef struct {
	env *e;
	char owner[16];
	int counts[200];
	int rc;
} claimer;

static int count_claim(const osb_operation_rec *r, void *p)
{
	claimer *c = p;
	int i = atoi(r->id + 3);
	if (i >= 0 && i < 200)
		c->counts[i]++;
	return 0;
}

static void *claim_thread(void *p)
{
	claimer *c = p;
	osb_store *s = NULL;

	c->rc = osb_store_open(&s, &c->e->opt);
	for (int round = 0; round < 5 && !c->rc; round++)
		c->rc = osb_store_operation_claim(s, c->owner, 600, count_claim, c);
	osb_store_close(s);
	return NULL;
}

static void claim_concurrent(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	static claimer cl[4];
	pthread_t th[4];

	env_init(&e, 10000);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, "x", &tx), 0);
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "op-%d", i);
		osb_operation_rec o = { .id = id, .instance_id = "x", .state = OSB_OPSTATE_IN_PROGRESS };
		CHECK_INT(osb_store_operation_put(tx, &o), 0);
	}
	CHECK_INT(osb_store_commit(tx), 0);
	for (int t = 0; t < 4; t++) {
		memset(&cl[t], 0, sizeof(cl[t]));
		cl[t].e = &e;
		snprintf(cl[t].owner, sizeof(cl[t].owner), "replica-%d", t);
		pthread_create(&th[t], NULL, claim_thread, &cl[t]);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		CHECK_INT(cl[t].rc, 0);
	}
	int twice = 0, never = 0;
	for (int i = 0; i < 200; i++) {
		int sum = cl[0].counts[i] + cl[1].counts[i] + cl[2].counts[i] + cl[3].counts[i];
		twice += sum > 1;
		never += sum == 0;
	}
	CHECK_INT(twice, 0);
	CHECK_INT(never, 0);
	osb_store_close(s);
done:
	env_fini(&e);
}

/* A writer that holds the lock on `id` for hold_ms, then writes a marker and commits. */
typedef struct {
	osb_store *s;
	const char *id;
	int hold_ms;
	int begun;            /* atomic */
	int64_t committed_us; /* atomic: when the holder began to commit */
	int rc;
} holder;

static void *hold_thread(void *p)
{
	holder *h = p;
	osb_store_tx *tx = NULL;

	h->rc = osb_store_begin(h->s, h->id, &tx);
	__atomic_store_n(&h->begun, 1, __ATOMIC_SEQ_CST);
	if (h->rc)
		return NULL;
	sleep_ms(h->hold_ms);
	osb_instance_rec r = { .id = (char *)h->id, .state = OSB_REC_READY, .plan_id = "written-by-holder" };
	h->rc = osb_store_instance_put(tx, &r);
	__atomic_store_n(&h->committed_us, (int64_t)(now_ms() * 1000), __ATOMIC_SEQ_CST);
	if (!h->rc)
		h->rc = osb_store_commit(tx);
	else
		osb_store_rollback(tx);
	return NULL;
}

static void wait_begun(holder *h)
{
	while (!__atomic_load_n(&h->begun, __ATOMIC_SEQ_CST))
		sleep_ms(1);
}

static void lock_excludes(void)
{
	env e;
	osb_store *a, *b = NULL;
	osb_store_tx *tx = NULL;
	osb_instance_rec *got = NULL;
	pthread_t th;

	env_init(&e, 10000);
	a = env_open(&e);
	if (!a)
		goto done;
	b = env_open(&e); /* another replica on the same database */
	/* Same store, then another store: the second writer waits for the first's commit and sees it. */
	for (int round = 0; round < 2 && b; round++) {
		osb_store *second = round ? b : a;
		holder h = { .s = a, .id = "i-lock", .hold_ms = 300 };
		double t0;

		pthread_create(&th, NULL, hold_thread, &h);
		wait_begun(&h);
		t0 = now_ms();
		CHECK_INT(osb_store_begin(second, "i-lock", &tx), 0);
		CHECK(now_ms() - t0 >= 200);
		CHECK(__atomic_load_n(&h.committed_us, __ATOMIC_SEQ_CST) > 0);
		CHECK_INT(osb_store_instance_get(tx, "i-lock", &got), 0);
		if (got)
			CHECK_STR(got->plan_id, "written-by-holder");
		osb_instance_rec_free(got);
		got = NULL;
		CHECK_INT(osb_store_commit(tx), 0);
		pthread_join(th, NULL);
		CHECK_INT(h.rc, 0);
	}

	/* Readers are not blocked by a writer. */
	holder h = { .s = a, .id = "i-lock", .hold_ms = 1000 };
	pthread_create(&th, NULL, hold_thread, &h);
	wait_begun(&h);
	double t0 = now_ms();
	CHECK_INT(osb_store_begin(b, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-lock", &got), 0);
	osb_instance_rec_free(got);
	osb_store_rollback(tx);
	CHECK(now_ms() - t0 < 600);
	pthread_join(th, NULL);

	/* Different ids: PostgreSQL locks per instance; SQLite has one writer at a time. */
	if (e.type == OSB_STORE_POSTGRESQL) {
		holder x = { .s = a, .id = "i-x", .hold_ms = 1000 };
		pthread_create(&th, NULL, hold_thread, &x);
		wait_begun(&x);
		t0 = now_ms();
		CHECK_INT(osb_store_begin(b, "i-y", &tx), 0);
		CHECK(now_ms() - t0 < 600);
		CHECK_INT(osb_store_commit(tx), 0);
		CHECK_INT(osb_store_begin(a, "i-z", &tx), 0); /* same store, other id */
		CHECK(now_ms() - t0 < 600);
		CHECK_INT(osb_store_commit(tx), 0);
		pthread_join(th, NULL);
		CHECK_INT(x.rc, 0);
	}
done:
	osb_store_close(b);
	osb_store_close(a);
	env_fini(&e);
}

static void busy_timeout(void)
{
	env e;
	osb_store *a, *b = NULL;
	osb_store_tx *tx = NULL, *held = NULL;
	double t0, took;

	env_init(&e, 300);
	e.opt.pool_size = 2;
	a = env_open(&e);
	if (!a)
		goto done;
	b = env_open(&e);
	if (!b)
		goto done;
	CHECK_INT(osb_store_begin(a, "i-1", &held), 0);
	for (int round = 0; round < 2; round++) {
		osb_store *other = round ? b : a;
		t0 = now_ms();
		tx = (void *)1;
		CHECK_INT(osb_store_begin(other, "i-1", &tx), OSB_ETIMEOUT);
		took = now_ms() - t0;
		CHECK(tx == NULL);
		CHECK(took >= 250 && took < 3000);
	}
	CHECK_INT(osb_store_commit(held), 0);
	CHECK_INT(osb_store_begin(b, "i-1", &tx), 0); /* free again */
	CHECK_INT(osb_store_commit(tx), 0);

	/* Every pooled connection in a transaction: the next begin times out too. */
	osb_store_tx *r1 = NULL, *r2 = NULL;
	CHECK_INT(osb_store_begin(a, NULL, &r1), 0);
	CHECK_INT(osb_store_begin(a, NULL, &r2), 0);
	t0 = now_ms();
	CHECK_INT(osb_store_begin(a, NULL, &tx), OSB_ETIMEOUT);
	CHECK(now_ms() - t0 >= 250);
	osb_store_rollback(r1);
	CHECK_INT(osb_store_begin(a, NULL, &tx), 0);
	osb_store_rollback(tx);
	osb_store_rollback(r2);

	/* SQLite: a lock held by another process (here: a raw connection) times out as well. */
	if (e.type == OSB_STORE_SQLITE) {
		sqlite3 *db = NULL;
		CHECK_INT(sqlite3_open(e.path, &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
		t0 = now_ms();
		CHECK_INT(osb_store_begin(a, "i-2", &tx), OSB_ETIMEOUT);
		took = now_ms() - t0;
		CHECK(took >= 250 && took < 3000);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
		CHECK_INT(osb_store_begin(a, "i-2", &tx), 0);
		CHECK_INT(osb_store_commit(tx), 0);
	}
done:
	osb_store_close(b);
	osb_store_close(a);
	env_fini(&e);
}

static void durability(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	osb_instance_rec *ig = NULL;
	osb_binding_rec *bg = NULL;
	osb_operation_rec *og = NULL;
	int fds[2];
	pid_t pid;
	char ok = 0;

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_instance_rec i1 = full_instance("i-1");
	osb_binding_rec b1 = full_binding("b-1", "i-1", 5);
	osb_operation_rec o1 = full_operation("op-1", OSB_OPSTATE_IN_PROGRESS, NULL, 0);
	put_instance(s, &i1);
	put_binding(s, &b1);
	put_operation(s, &o1);
	osb_store_close(s);

	/* Close and reopen. */
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0);
	if (ig)
		check_instance(ig, &i1);
	CHECK_INT(osb_store_binding_get(tx, "b-1", &bg), 0);
	if (bg)
		check_binding(bg, &b1);
	CHECK_INT(osb_store_operation_get(tx, "op-1", &og), 0);
	if (og)
		check_operation(og, &o1);
	osb_instance_rec_free(ig);
	osb_binding_rec_free(bg);
	osb_operation_rec_free(og);
	osb_store_rollback(tx);
	osb_store_close(s);

	/* A process killed right after commit returned: what it committed is there. */
	CHECK_INT(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		osb_store *cs = NULL;
		osb_store_tx *ctx = NULL;
		osb_instance_rec k = full_instance("i-killed");
		close(fds[0]);
		if (osb_store_open(&cs, &e.opt) || osb_store_begin(cs, "i-killed", &ctx) ||
		    osb_store_instance_put(ctx, &k) || osb_store_commit(ctx))
			_exit(1);
		if (write(fds[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	CHECK(read(fds[0], &ok, 1) == 1 && ok == 'k');
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-killed", &ig), 0);
	osb_instance_rec_free(ig);
	osb_store_rollback(tx);
	osb_store_close(s);
done:
	env_fini(&e);
}

static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;
	bool found;

	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	found = buf && fread(buf, 1, (size_t)len, f) == (size_t)len &&
		memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
	free(buf);
	fclose(f);
	return found;
}

/* A column of a binding's row as the database holds it (`column` is a constant of the test). */
static char *raw_column(env *e, const char *column, const char *id)
{
	char q[128];
	char *out = NULL;

	if (e->type == OSB_STORE_SQLITE) {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		snprintf(q, sizeof(q), "SELECT %s FROM osb_bindings WHERE id = ?1", column);
		if (sqlite3_open(e->path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				out = strdup((const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		return out;
	}
	snprintf(q, sizeof(q), "SELECT %s FROM osb_bindings WHERE id = $1", column);
	PGconn *c = PQconnectdb(e->url);
	const char *params[1] = { id };
	PGresult *r = PQexecParams(c, q, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		out = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return out;
}

/* Run one statement behind the store's back. */
static void exec_sql(env *e, const char *q)
{
	if (e->type == OSB_STORE_SQLITE) {
		sqlite3 *db = NULL;
		CHECK_INT(sqlite3_open(e->path, &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		return;
	}
	PGconn *c = PQconnectdb(e->url);
	PGresult *r = PQexec(c, q);
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
}

/* Swap the sealed credentials of two rows behind the store's back. */
static void swap_credentials(env *e, const char *a, const char *b)
{
	static const char sql[] =
		"UPDATE osb_bindings SET credentials = (SELECT credentials FROM osb_bindings WHERE id = '%s') WHERE id = '%s'";
	char q[256];

	snprintf(q, sizeof(q), sql, b, a);
	exec_sql(e, q);
}

static void encryption_at_rest(void)
{
	env e;
	osb_store *s;
	char wal[160];
	char *raw;

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_binding_rec b1 = full_binding("b-secret", "i-1", 1);
	put_binding(s, &b1);
	raw = raw_column(&e, "credentials", "b-secret");
	CHECK(raw && strncmp(raw, "v1:", 3) == 0);
	CHECK(raw && !strstr(raw, PASSWORD));
	free(raw);
	/* The response extras too: a volume service's mount_config holds a password. */
	raw = raw_column(&e, "response_extras", "b-secret");
	CHECK(raw && strncmp(raw, "v1:", 3) == 0);
	CHECK(raw && !strstr(raw, MOUNT_PASSWORD));
	free(raw);
	if (e.type == OSB_STORE_SQLITE) {
		snprintf(wal, sizeof(wal), "%s-wal", e.path);
		/* The row really is on disk (so we read the right files), its secret is not. */
		CHECK(file_contains(e.path, "b-secret") || file_contains(wal, "b-secret"));
		CHECK(file_contains(e.path, "app-1") || file_contains(wal, "app-1"));
		CHECK(!file_contains(e.path, PASSWORD));
		CHECK(!file_contains(wal, PASSWORD));
		CHECK(!file_contains(e.path, MOUNT_PASSWORD));
		CHECK(!file_contains(wal, MOUNT_PASSWORD));
		osb_store_close(s);
		/* After close (checkpoint) too. */
		CHECK(file_contains(e.path, "b-secret"));
		CHECK(!file_contains(e.path, PASSWORD));
		CHECK(!file_contains(wal, PASSWORD));
		CHECK(!file_contains(e.path, MOUNT_PASSWORD));
	} else {
		osb_store_close(s);
	}
done:
	env_fini(&e);
}

static void wrong_key(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	osb_binding_rec *bg = NULL;
	osb_instance_rec *ig = NULL;
	collect c = { .creds_ok = true };

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_instance_rec i1 = full_instance("i-1");
	osb_binding_rec b1 = full_binding("b-1", "i-1", 1), b2 = full_binding("b-2", "i-1", 2);
	b2.credentials = "{\"password\":\"other\"}";
	put_instance(s, &i1);
	put_binding(s, &b1);
	put_binding(s, &b2);
	osb_store_close(s);

	test_key(e.opt.key, 2);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0); /* the rest is readable */
	osb_instance_rec_free(ig);
	bg = (void *)1;
	CHECK_INT(osb_store_binding_get(tx, "b-1", &bg), OSB_EBACKEND);
	CHECK(bg == NULL);
	CHECK_INT(osb_store_binding_list(tx, "i-1", collect_binding, &c), OSB_EBACKEND);
	CHECK_INT(c.n, 0);
	osb_store_rollback(tx);
	osb_store_close(s);

	/* The right key, but b-2's sealed value moved into b-1's row: refused. */
	test_key(e.opt.key, 1);
	swap_credentials(&e, "b-1", "b-2");
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_binding_get(tx, "b-1", &bg), OSB_EBACKEND);
	CHECK_INT(osb_store_binding_get(tx, "b-2", &bg), 0);
	if (bg)
		CHECK_STR(bg->credentials, "{\"password\":\"other\"}");
	osb_binding_rec_free(bg);
	osb_store_rollback(tx);
	osb_store_close(s);

	/* Response extras written before they were sealed are plain JSON: read as they are. */
	exec_sql(&e, "UPDATE osb_bindings SET response_extras = '{\"endpoints\":[]}' WHERE id = 'b-2'");
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	bg = NULL;
	CHECK_INT(osb_store_binding_get(tx, "b-2", &bg), 0);
	if (bg)
		CHECK_STR(bg->response_extras, "{\"endpoints\":[]}");
	osb_binding_rec_free(bg);
	osb_store_rollback(tx);
	osb_store_close(s);
	/* The row's sealed credentials moved into its extras: refused (each column has its own associated data). */
	exec_sql(&e, "UPDATE osb_bindings SET response_extras = credentials WHERE id = 'b-2'");
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	bg = (void *)1;
	CHECK_INT(osb_store_binding_get(tx, "b-2", &bg), OSB_EBACKEND);
	CHECK(bg == NULL);
	osb_store_rollback(tx);
	osb_store_close(s);
done:
	env_fini(&e);
}

/* Many threads, each on its own instance, through one store. */
typedef struct {
	osb_store *s;
	int n;
	int errors;
} worker;

static void *work_thread(void *p)
{
	worker *w = p;
	char id[32], bid[32];

	snprintf(id, sizeof(id), "i-thread-%d", w->n);
	snprintf(bid, sizeof(bid), "b-thread-%d", w->n);
	for (int i = 0; i < 25; i++) {
		osb_store_tx *tx = NULL;
		osb_instance_rec *got = NULL;
		osb_instance_rec r = { .id = id, .state = OSB_REC_READY, .updated_at = i };
		osb_binding_rec b = full_binding(bid, id, i);

		if (osb_store_begin(w->s, id, &tx)) {
			w->errors++;
			continue;
		}
		if (osb_store_instance_get(tx, id, &got) == 0 && got->updated_at != i - 1)
			w->errors++; /* lost update */
		osb_instance_rec_free(got);
		if (osb_store_instance_put(tx, &r) || osb_store_binding_put(tx, &b) || osb_store_commit(tx))
			w->errors++;
		if (osb_store_begin(w->s, NULL, &tx) == 0) {
			osb_binding_rec *bg = NULL;
			if (osb_store_binding_get(tx, bid, &bg) || !strstr(bg->credentials, PASSWORD))
				w->errors++;
			osb_binding_rec_free(bg);
			osb_store_rollback(tx);
		} else {
			w->errors++;
		}
	}
	return NULL;
}

static void threads(void)
{
	env e;
	osb_store *s;
	pthread_t th[8];
	worker w[8];
	osb_store_counts n;

	env_init(&e, 20000);
	e.opt.pool_size = 4; /* fewer connections than threads: they queue for them */
	s = env_open(&e);
	if (!s)
		goto done;
	for (int i = 0; i < 8; i++) {
		w[i] = (worker){ .s = s, .n = i };
		pthread_create(&th[i], NULL, work_thread, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].errors, 0);
	}
	CHECK_INT(osb_store_counts_get(s, &n), 0);
	CHECK_INT(n.instances, 8);
	CHECK_INT(n.bindings, 8);
	osb_store_close(s);
done:
	env_fini(&e);
}

static void bad_open(void)
{
	osb_store *s = (void *)1;
	osb_store_options o = { .type = backend };

	if (backend == OSB_STORE_SQLITE)
		o.path = "/nonexistent-dir/x/state.db";
	else
		o.url = "postgresql://nobody:wrong@127.0.0.1:1/none?connect_timeout=2";
	CHECK_INT(osb_store_open(&s, &o), OSB_EBACKEND);
	CHECK(s == NULL);
	o.path = NULL;
	o.url = NULL;
	CHECK_INT(osb_store_open(&s, &o), OSB_EBACKEND);
}

/* PostgreSQL only: the server drops every session of the store; the next calls reconnect by themselves. */
static void kill_sessions(env *e)
{
	char sql[256];

	snprintf(
		sql, sizeof(sql),
		"DO $$BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'; END$$",
		e->schema);
	CHECK_INT(pg_admin(sql), 0);
	/* Wait until those server processes are gone, so the store's sockets are closed. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'", e->schema);
	for (int i = 0; i < 200 && pg_admin_value(sql) != 0; i++)
		sleep_ms(10);
	sleep_ms(20);
}

static void pg_reconnect(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL, *tx2 = NULL;
	osb_instance_rec *ig = NULL;
	osb_store_counts n;
	claimed c = { 0 };
	char msg[128];

	if (!pg_url())
		return;
	backend = OSB_STORE_POSTGRESQL;
	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_instance_rec i1 = full_instance("i-1");
	put_instance(s, &i1);
	/* Two pooled connections, both idle. */
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_begin(s, NULL, &tx2), 0);
	osb_store_rollback(tx);
	osb_store_rollback(tx2);

	kill_sessions(&e);
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_instance_get(tx, "i-1", &ig), 0);
	osb_instance_rec_free(ig);
	osb_store_rollback(tx);
	kill_sessions(&e);
	put_instance(s, &i1);
	kill_sessions(&e);
	CHECK_INT(osb_store_counts_get(s, &n), 0);
	CHECK_INT(n.instances, 1);
	kill_sessions(&e);
	CHECK_INT(osb_store_operation_claim(s, "me", 60, on_claim, &c), 0);
	kill_sessions(&e);
	CHECK_INT(osb_store_ping(s, msg, sizeof(msg)), 0);

	/* Lost in the middle of a transaction: that transaction fails, the next one works. */
	CHECK_INT(osb_store_begin(s, "i-1", &tx), 0);
	kill_sessions(&e);
	CHECK(osb_store_instance_put(tx, &i1) != 0);
	CHECK_INT(osb_store_commit(tx), OSB_EBACKEND);
	put_instance(s, &i1);
	osb_store_close(s);
done:
	env_fini(&e);
}

/* ---- Each case twice: SQLite, then PostgreSQL when OSB_TEST_PG_URL is set ---- */

#define BOTH(fn)                                                                                                       \
	static void sqlite_##fn(void)                                                                                  \
	{                                                                                                              \
		backend = OSB_STORE_SQLITE;                                                                            \
		fn();                                                                                                  \
	}                                                                                                              \
	static void pg_##fn(void)                                                                                      \
	{                                                                                                              \
		if (!pg_url())                                                                                         \
			return;                                                                                        \
		backend = OSB_STORE_POSTGRESQL;                                                                        \
		fn();                                                                                                  \
	}

BOTH(round_trips)
BOTH(lists)
BOTH(counts_and_size)
BOTH(claim_and_renew)
BOTH(claim_concurrent)
BOTH(lock_excludes)
BOTH(busy_timeout)
BOTH(durability)
BOTH(encryption_at_rest)
BOTH(wrong_key)
BOTH(threads)
BOTH(bad_open)

static void pg_half(void)
{
	if (!pg_url())
		printf("note: OSB_TEST_PG_URL is not set: the PostgreSQL half was NOT run (pg_* cases pass vacuously)\n");
	else
		printf("note: PostgreSQL half runs against OSB_TEST_PG_URL\n");
}

OSB_TEST_MAIN(OSB_TEST_CASE(crypto_seal_open), OSB_TEST_CASE(sqlite_round_trips), OSB_TEST_CASE(sqlite_lists),
	      OSB_TEST_CASE(sqlite_counts_and_size), OSB_TEST_CASE(sqlite_claim_and_renew),
	      OSB_TEST_CASE(sqlite_claim_concurrent), OSB_TEST_CASE(sqlite_lock_excludes),
	      OSB_TEST_CASE(sqlite_busy_timeout), OSB_TEST_CASE(sqlite_durability),
	      OSB_TEST_CASE(sqlite_encryption_at_rest), OSB_TEST_CASE(sqlite_wrong_key), OSB_TEST_CASE(sqlite_threads),
	      OSB_TEST_CASE(sqlite_bad_open), OSB_TEST_CASE(pg_half), OSB_TEST_CASE(pg_round_trips),
	      OSB_TEST_CASE(pg_lists), OSB_TEST_CASE(pg_counts_and_size), OSB_TEST_CASE(pg_claim_and_renew),
	      OSB_TEST_CASE(pg_claim_concurrent), OSB_TEST_CASE(pg_lock_excludes), OSB_TEST_CASE(pg_busy_timeout),
	      OSB_TEST_CASE(pg_durability), OSB_TEST_CASE(pg_encryption_at_rest), OSB_TEST_CASE(pg_wrong_key),
	      OSB_TEST_CASE(pg_threads), OSB_TEST_CASE(pg_bad_open), OSB_TEST_CASE(pg_reconnect))
