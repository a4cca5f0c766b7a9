/*
 * NATS driver (nats-server 2.9 in operator mode): an instance is an account, pushed as a JWT to the
 * server's account resolver; a binding is a scoped signing key of that account and a user signed by it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include <osb.h>

#include "nats_jwt.h"
#include "nats_resolver.h"

#define NT_CONF_FILE "nats.conf"
#define NT_READY_TIMEOUT_MS 500

/* The driver's settings, read-only after init. */
struct nt_state {
	nt_key op; /* the shared server's operator (or operator signing) key: driver.operator_seed */
};

/* The keys that act on one server: its operator's and its system account's. */
struct nt_keys {
	nt_key op, sys;
};

static int nt_is_name(const cJSON *s)
{
	return cJSON_IsString(s) && osb_name_is_derived(s->valuestring);
}

/* The operator and system account of a target: a dedicated server's are derived from its admin password. */
static int nt_keys_of(const osb_target *t, struct nt_state *st, struct nt_keys *k, osb_errbuf *err)
{
	if (t->dedicated) {
		if (nt_key_derive(&k->op, 'O', t->admin_password, "osb-nats operator") != 0 ||
		    nt_key_derive(&k->sys, 'A', t->admin_password, "osb-nats system") != 0)
			return osb_errbuf_set(err, OSB_ERROR, "cannot derive the dedicated server's keys");
		return 0;
	}
	k->op = st->op;
	if (nt_key_from_seed(&k->sys, t->admin_password, 'A') != 0)
		return osb_errbuf_set(err, OSB_ERROR,
				      "driver.admin_password must be the system account's seed (SA...)");
	return 0;
}

/* An instance's account key: derived from the operator key and the instance's name, so no secret is stored. */
static int nt_account_key(const nt_key *op, const char *name, nt_key *acc)
{
	char seed[NT_SEED_SIZE], label[64];
	int rc;

	nt_key_seed(op, seed);
	snprintf(label, sizeof(label), "osb-nats account:%s", name);
	rc = nt_key_derive(acc, 'A', seed, label);
	explicit_bzero(seed, sizeof(seed));
	return rc;
}

static int nt_open_sys(struct nt_conn *c, const osb_target *t, struct nt_keys *k, int timeout_ms, osb_errbuf *err)
{
	return nt_open(c, t, &k->sys, timeout_ms, err);
}

/* A request to the server's system services; the reply's JSON, or its raw text in "raw" when it is a JWT. */
/* Remove account `pub` (named `name`): its streams when the broker holds its key, then the account itself. */
static int nt_account_drop(struct nt_conn *c, const osb_target *t, struct nt_keys *k, const char *pub, const char *name)
{
	char acc_pub[NT_PUBLIC_SIZE];
	nt_key acc;
	int rc = 0, dropped = 0;

	if (nt_account_key(&k->op, name, &acc) == 0 && nt_key_public(&acc, acc_pub) == 0 && strcmp(acc_pub, pub) == 0)
		rc = nt_drop_streams(t, &acc, c->timeout_ms, c->err, &dropped);
	nt_key_wipe(&acc);
	return rc == 0 ? nt_account_delete(c, &k->op, pub) : rc;
}

/* -- the plan's limits and the account's claims --------------------------- */

static int nt_set_number(cJSON *o, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	return cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* Account limits the server enforces, from the plan's x-osb (-1: no limit; no JetStream without storage). */
static int nt_set_limits(cJSON *nats, osb_request *req)
{
	static const struct {
		const char *claim, *setting;
		long long fallback;
	} map[] = {
		{ "conn", "max_connections", -1 },
		{ "subs", "max_subscriptions", -1 },
		{ "payload", "max_payload", -1 },
		{ "data", "max_data", -1 },
		{ "imports", "max_imports", -1 },
		{ "exports", "max_exports", -1 },
		{ "leaf", "max_leafnodes", 0 },
		{ "mem_storage", "jetstream_memory", 0 },
		{ "disk_storage", "jetstream_disk", 0 },
		{ "streams", "jetstream_streams", -1 },
		{ "consumer", "jetstream_consumers", -1 },
	};
	cJSON *limits = cJSON_GetObjectItemCaseSensitive(nats, "limits");

	if (!limits && !(limits = cJSON_AddObjectToObject(nats, "limits")))
		return -1;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!nt_set_number(limits, map[i].claim,
				   (double)osb_request_plan_int(req, map[i].setting, map[i].fallback)))
			return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(limits, "wildcards");
	return cJSON_AddBoolToObject(limits, "wildcards", 1) ? 0 : -1;
}

/* A new account's claims: the plan's limits, no signing keys yet. */
static cJSON *nt_account_new(osb_request *req, const char *pub, const char *name)
{
	cJSON *claims = cJSON_Parse("{\"nats\":{\"default_permissions\":{\"pub\":{},\"sub\":{}},\"signing_keys\":[],"
				    "\"type\":\"account\",\"version\":2}}");

	if (!claims || !cJSON_AddStringToObject(claims, "sub", pub) || !cJSON_AddStringToObject(claims, "name", name) ||
	    nt_set_limits(cJSON_GetObjectItemCaseSensitive(claims, "nats"), req) != 0) {
		cJSON_Delete(claims);
		return NULL;
	}
	return claims;
}

/* Remove the scoped signing keys whose role is `role` (a binding's). @return how many. */
static int nt_drop_role(cJSON *claims, const char *role)
{
	cJSON *keys =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(claims, "nats"), "signing_keys");
	int n = 0;

	for (int i = cJSON_GetArraySize(keys) - 1; i >= 0; i--) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, i), "role");
		if (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0) {
			cJSON_DeleteItemFromArray(keys, i);
			n++;
		}
	}
	return n;
}

/* -- the instance's account ------------------------------------------------ */

/* What every instance operation starts with: the keys, the system connection, the account's key and its claims. */
struct nt_op {
	struct nt_keys k;
	struct nt_conn c;
	nt_key acc;
	char pub[NT_PUBLIC_SIZE];
	cJSON *claims; /* NULL when the resolver has no such account */
};

static void nt_op_end(struct nt_op *o)
{
	nt_close(&o->c);
	cJSON_Delete(o->claims);
	nt_key_wipe(&o->acc);
	nt_key_wipe(&o->k.op);
	nt_key_wipe(&o->k.sys);
}

static int nt_op_begin(struct nt_op *o, osb_request *req, struct nt_state *st)
{
	const osb_target *t = osb_request_target(req);
	osb_errbuf *err = osb_request_errbuf(req);
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = nt_keys_of(t, st, &o->k, err)) < 0)
		return rc;
	if (nt_account_key(&o->k.op, osb_request_instance_name(req), &o->acc) != 0 ||
	    nt_key_public(&o->acc, o->pub) != 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot derive the instance's account key");
	if ((rc = nt_open_sys(&o->c, t, &o->k, osb_request_timeout_ms(req), err)) < 0)
		return rc;
	return nt_account_get(&o->c, o->pub, &o->claims);
}

/* The account as the plan wants it: made when missing (a lost resolver file comes back), limits from the plan. */
static int nt_op_account(struct nt_op *o, osb_request *req)
{
	if (!o->claims)
		o->claims = nt_account_new(req, o->pub, osb_request_instance_name(req));
	else if (nt_set_limits(cJSON_GetObjectItemCaseSensitive(o->claims, "nats"), req) != 0) {
		cJSON_Delete(o->claims);
		o->claims = NULL;
	}
	return o->claims ? 0 : osb_req_fail(req, OSB_ENOMEM, "out of memory");
}

static int nats_provision(osb_request *req, void *state)
{
	struct nt_op o;
	int rc;

	if ((rc = nt_op_begin(&o, req, state)) == 0 && (rc = nt_op_account(&o, req)) == 0 &&
	    (rc = nt_account_put(&o.c, &o.k.op, o.claims)) == 0)
		osb_request_note(req, "account %s on %s: %lld connections, JetStream %lld MB on disk", o.pub, o.c.where,
				 osb_request_plan_int(req, "max_connections", -1),
				 osb_request_plan_int(req, "jetstream_disk", 0) >> 20);
	nt_op_end(&o);
	return rc;
}

static int nats_update(osb_request *req, void *state)
{
	/* New limits, same signing keys: the bindings' users stay connected. */
	return nats_provision(req, state);
}

static int nats_deprovision(osb_request *req, void *state)
{
	struct nt_op o;
	int rc;

	if ((rc = nt_op_begin(&o, req, state)) == 0 && o.claims)
		rc = nt_account_drop(&o.c, osb_request_target(req), &o.k, o.pub, osb_request_instance_name(req));
	nt_op_end(&o);
	return rc;
}

/* -- bindings --------------------------------------------------------------- */

/* The creds file apps hand to NATS clients (nats.go UserCredentials, `nats --creds`). */
static char *nt_creds(osb_request *req, const char *jwt, const char *seed)
{
	return osb_req_sprintf(req,
			       "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
			       "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n",
			       jwt, seed);
}

/* The binding's scoped signing key in the account's claims (replacing one of an earlier attempt). */
static int nt_add_scope(cJSON *claims, const char *key, const char *role)
{
	cJSON *nats = cJSON_GetObjectItemCaseSensitive(claims, "nats"), *keys, *scope;

	nt_drop_role(claims, role);
	if (!(keys = cJSON_GetObjectItemCaseSensitive(nats, "signing_keys")) &&
	    !(keys = cJSON_AddArrayToObject(nats, "signing_keys")))
		return -1;
	/* Users it signs may do anything inside the account: the account is the instance's whole subject space. */
	scope = cJSON_Parse("{\"kind\":\"user_scope\",\"template\":{\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,"
			    "\"payload\":-1}}");
	if (!scope || !cJSON_AddStringToObject(scope, "key", key) || !cJSON_AddStringToObject(scope, "role", role) ||
	    !cJSON_AddItemToArray(keys, scope)) {
		cJSON_Delete(scope);
		return -1;
	}
	return 0;
}

/* The binding's user JWT, signed by its scoped key (a scoped user carries no permissions of its own). */
static char *nt_user_jwt(osb_request *req, const nt_key *sk, const char *user_pub, const char *account_pub)
{
	cJSON *claims = cJSON_Parse("{\"nats\":{\"type\":\"user\",\"version\":2}}");
	time_t expires = osb_request_expires_at(req);
	char *jwt = NULL;

	if (claims && cJSON_AddStringToObject(claims, "sub", user_pub) &&
	    cJSON_AddStringToObject(claims, "name", osb_request_binding_name(req)) &&
	    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(claims, "nats"), "issuer_account", account_pub) &&
	    (!expires || cJSON_AddNumberToObject(claims, "exp", (double)expires)))
		jwt = nt_jwt_sign(sk, claims);
	cJSON_Delete(claims);
	return jwt;
}

static int nats_bind(osb_request *req, void *state)
{
	const osb_target *t = osb_request_target(req);
	const char *name = osb_request_binding_name(req);
	char sk_pub[NT_PUBLIC_SIZE], user_pub[NT_PUBLIC_SIZE], seed[NT_SEED_SIZE] = "";
	struct nt_conn login = { 0 };
	cJSON *cred = NULL;
	char *creds;
	nt_key sk = { 0 };
	struct nt_op o;
	int rc;

	/* A signing key of the binding's own, scoped to users of this account, signs its user and is then forgotten. */
	if ((rc = nt_op_begin(&o, req, state)) < 0 || (rc = nt_op_account(&o, req)) < 0)
		goto done;
	if (nt_key_random(&sk, 'A') != 0 || nt_key_random(&login.user, 'U') != 0 || nt_key_public(&sk, sk_pub) != 0 ||
	    nt_key_public(&login.user, user_pub) != 0 || nt_add_scope(o.claims, sk_pub, name) != 0 ||
	    !(login.jwt = nt_user_jwt(req, &sk, user_pub, o.pub))) {
		rc = osb_req_fail(req, OSB_ENOMEM, "cannot make the binding's keys");
		goto done;
	}
	nt_key_seed(&login.user, seed);
	/* Push, then prove the login works before the platform gets it. */
	if ((rc = nt_account_put(&o.c, &o.k.op, o.claims)) < 0 ||
	    (rc = nt_connect(&login, t, osb_request_timeout_ms(req), osb_request_errbuf(req))) < 0)
		goto done;
	if (!(creds = nt_creds(req, login.jwt, seed))) {
		rc = osb_req_fail(req, OSB_ENOMEM, "out of memory");
		goto done;
	}
	/* No user in the uri: NATS operator mode logs in with the JWT and the seed, never a password. */
	cred = osb_credentials_new(req, &(osb_credentials_spec){ .scheme = t->tls ? "tls" : "nats" });
	if (!cred || !cJSON_AddStringToObject(cred, "username", name) ||
	    !cJSON_AddStringToObject(cred, "password", seed) || !cJSON_AddStringToObject(cred, "jwt", login.jwt) ||
	    !cJSON_AddStringToObject(cred, "seed", seed) || !cJSON_AddStringToObject(cred, "creds", creds) ||
	    !cJSON_AddStringToObject(cred, "account", o.pub) ||
	    !cJSON_AddStringToObject(cred, "account_name", osb_request_instance_name(req)) ||
	    !cJSON_AddStringToObject(cred, "user", user_pub)) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) < 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "account", o.pub)) != 0 ||
	    (rc = osb_request_save_binding_str(req, "signing_key", sk_pub)) != 0 ||
	    (rc = osb_request_save_binding_str(req, "user", user_pub)) != 0)
		goto done;
	osb_request_note(req, "user %s of account %s (scoped signing key %s)", user_pub, o.pub, sk_pub);
done:
	nt_close(&login);
	explicit_bzero(seed, sizeof(seed));
	nt_key_wipe(&sk);
	nt_op_end(&o);
	return rc;
}

static int nats_unbind(osb_request *req, void *state)
{
	struct nt_op o;
	int rc;

	/* Without its signing key the binding's user is refused, and the server closes its connections at once. */
	if ((rc = nt_op_begin(&o, req, state)) == 0 && o.claims &&
	    nt_drop_role(o.claims, osb_request_binding_name(req)))
		rc = nt_account_put(&o.c, &o.k.op, o.claims);
	nt_op_end(&o);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

static int nats_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct nt_keys k;
	struct nt_conn c = { 0 };
	int rc;

	if ((rc = nt_keys_of(server, state, &k, err)) == 0 &&
	    (rc = nt_open_sys(&c, server, &k, OSB_HEALTH_TIMEOUT_MS, err)) == 0) {
		natsStatus s = natsConnection_FlushTimeout(c.nc, OSB_HEALTH_TIMEOUT_MS);
		if (s != NATS_OK)
			rc = nt_fail(&c, s, "flush");
	}
	nt_close(&c);
	nt_key_wipe(&k.sys);
	return rc;
}

/* Call fn on each broker-made account of the resolver (name derived), with its public key and claims. */
static int nt_for_accounts(struct nt_conn *c, int (*fn)(const char *pub, cJSON *claims, void *payload), void *payload)
{
	cJSON *list = NULL, *e;
	int rc = nt_accounts(c, &list);

	cJSON_ArrayForEach(e, list)
	{
		cJSON *claims = NULL;
		if (rc != 0)
			break;
		if (!cJSON_IsString(e) || (rc = nt_lookup(c, e->valuestring, &claims)) != 0)
			continue;
		if (nt_is_name(cJSON_GetObjectItemCaseSensitive(claims, "name")))
			rc = fn(e->valuestring, claims, payload);
		cJSON_Delete(claims);
	}
	cJSON_Delete(list);
	return rc;
}

struct nt_listing {
	osb_tenant_cb cb;
	void *payload;
};

/* An account named osb_<hex> is an instance; each scoped signing key with such a role a binding. */
static int nt_list_account(const char *pub, cJSON *claims, void *payload)
{
	struct nt_listing *l = payload;
	const cJSON *k;

	(void)pub;
	if (l->cb(OSB_TENANT_INSTANCE, cJSON_GetObjectItemCaseSensitive(claims, "name")->valuestring, l->payload))
		return 1;
	cJSON_ArrayForEach(
		k, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(claims, "nats"), "signing_keys"))
	{
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(k, "role");
		if (nt_is_name(role) && l->cb(OSB_TENANT_BINDING, role->valuestring, l->payload))
			return 1;
	}
	return 0;
}

static int nats_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct nt_listing l = { cb, payload };
	struct nt_keys k;
	struct nt_conn c = { 0 };
	int rc;

	if ((rc = nt_keys_of(server, state, &k, err)) == 0 &&
	    (rc = nt_open_sys(&c, server, &k, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = nt_for_accounts(&c, nt_list_account, &l);
	nt_close(&c);
	nt_key_wipe(&k.sys);
	return rc > 0 ? 0 : rc;
}

struct nt_purge {
	struct nt_conn *c;
	const osb_target *server;
	struct nt_keys *k;
	osb_tenant_kind kind;
	const char *name;
};

static int nt_purge_account(const char *pub, cJSON *claims, void *payload)
{
	struct nt_purge *p = payload;

	if (p->kind == OSB_TENANT_INSTANCE)
		return strcmp(cJSON_GetObjectItemCaseSensitive(claims, "name")->valuestring, p->name) == 0
			       ? nt_account_drop(p->c, p->server, p->k, pub, p->name)
			       : 0;
	return nt_drop_role(claims, p->name) ? nt_account_put(p->c, &p->k->op, claims) : 0;
}

static int nats_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct nt_keys k;
	struct nt_conn c = { 0 };
	struct nt_purge p = { &c, server, &k, kind, name };
	int rc;

	if ((rc = nt_keys_of(server, state, &k, err)) == 0 &&
	    (rc = nt_open_sys(&c, server, &k, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = nt_for_accounts(&c, nt_purge_account, &p);
	nt_close(&c);
	nt_key_wipe(&k.sys);
	return rc;
}

/* -- dedicated servers ------------------------------------------------------ */

/*
 * nats.conf of an instance's own server: the same operator mode as a shared
 * server, with an operator and a system account derived from the admin
 * password, the full resolver and JetStream sized by the plan.
 */
static int nt_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	char op_pub[NT_PUBLIC_SIZE], sys_pub[NT_PUBLIC_SIZE];
	cJSON *op_claims = NULL, *sys_claims = NULL;
	char *op_jwt = NULL, *sys_jwt = NULL;
	long long mem = osb_request_plan_int(req, "jetstream_memory", 0),
		  disk = osb_request_plan_int(req, "jetstream_disk", 0);
	osb_buf conf = OSB_BUF_INIT;
	struct nt_keys k;
	int rc = 0;

	if (strspn(t->dir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") != strlen(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	if ((rc = nt_keys_of(t, state, &k, err)) < 0)
		return rc;
	op_claims = cJSON_Parse("{\"name\":\"osb-dedicated\",\"nats\":{\"type\":\"operator\",\"version\":2}}");
	sys_claims =
		cJSON_Parse("{\"name\":\"SYS\",\"nats\":{\"limits\":{\"subs\":-1,\"data\":-1,\"payload\":-1,"
			    "\"imports\":-1,\"exports\":-1,\"wildcards\":true,\"conn\":-1,\"leaf\":-1},"
			    "\"default_permissions\":{\"pub\":{},\"sub\":{}},\"type\":\"account\",\"version\":2}}");
	if (nt_key_public(&k.op, op_pub) != 0 || nt_key_public(&k.sys, sys_pub) != 0 || !op_claims || !sys_claims ||
	    !cJSON_AddStringToObject(op_claims, "sub", op_pub) ||
	    !cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(op_claims, "nats"), "system_account", sys_pub) ||
	    !cJSON_AddStringToObject(sys_claims, "sub", sys_pub) || !(op_jwt = nt_jwt_sign(&k.op, op_claims)) ||
	    !(sys_jwt = nt_jwt_sign(&k.op, sys_claims))) {
		rc = osb_errbuf_set(err, OSB_ENOMEM, "cannot make the dedicated server's operator");
		goto done;
	}
	osb_buf_printf(
		&conf,
		"# Written by osb-nats-broker: operator mode, accounts pushed to the full resolver.\n"
		"server_name: %s\nlisten: \"%s:%d\"\noperator: %s\nsystem_account: %s\n"
		"resolver: { type: full, dir: \"%s/jwt\", allow_delete: true, interval: \"2m\", timeout: \"2s\" }\n"
		"resolver_preload: { %s: %s }\n",
		strrchr(t->dir, '/') + 1, t->host, t->port, op_jwt, sys_pub, t->dir, sys_pub, sys_jwt);
	if (mem > 0 || disk > 0)
		osb_buf_printf(&conf,
			       "jetstream: { store_dir: \"%s\", max_memory_store: %lld, max_file_store: %lld }\n",
			       t->dir, mem > 0 ? mem : 0, disk > 0 ? disk : 0);
	if (!osb_buf_text(&conf))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, NT_CONF_FILE, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s/" NT_CONF_FILE, t->dir);
done:
	osb_buf_free(&conf);
	free(op_jwt);
	free(sys_jwt);
	cJSON_Delete(op_claims);
	cJSON_Delete(sys_claims);
	nt_key_wipe(&k.op);
	nt_key_wipe(&k.sys);
	return rc;
}

static int nt_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct nt_keys k;
	struct nt_conn c = { 0 };
	int rc;

	if ((rc = nt_keys_of(t, state, &k, err)) == 0 && (rc = nt_open_sys(&c, t, &k, NT_READY_TIMEOUT_MS, err)) == 0) {
		cJSON *list = NULL;
		/* The resolver answers only once the server is fully up. */
		rc = nt_accounts(&c, &list);
		cJSON_Delete(list);
	}
	nt_close(&c);
	nt_key_wipe(&k.op);
	nt_key_wipe(&k.sys);
	return rc;
}

/* -- the driver ------------------------------------------------------------ */

static const char *const nats_keys[] = { "operator_seed", NULL };

static int nats_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct nt_state *st = calloc(1, sizeof(*st));
	const osb_target *server = osb_broker_server(broker);
	char *seed = NULL;
	nt_key sys = { 0 };
	int rc;

	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&seed, config, "nats", "operator_seed", NULL)) == 0 &&
	    nt_key_from_seed(&st->op, seed, 'O') != 0) {
		osb_log(OSB_LOG_ERROR, "nats.config", "driver.operator_seed must be an operator seed (SO...)");
		rc = OSB_EBADREQUEST;
	}
	if (rc == 0 && server && nt_key_from_seed(&sys, server->admin_password, 'A') != 0) {
		osb_log(OSB_LOG_ERROR, "nats.config",
			"driver.admin_password must be the system account's seed (SA...)");
		rc = OSB_EBADREQUEST;
	}
	nt_key_wipe(&sys);
	osb_driver_config_free_secret(seed);
	if (rc != 0) {
		nt_key_wipe(&st->op);
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static void nats_shutdown(void *state)
{
	nt_key_wipe(&((struct nt_state *)state)->op);
	free(state);
	/* The library's threads and memory go once no connection is left. */
	nats_Close();
}

static const osb_server_spec nats_server = { .default_port = 4222, .default_admin_user = "" };

static const osb_dedicated_spec nats_dedicated = {
	.kind = "nats",
	.program_key = "nats_server",
	.program = "nats-server",
	.args = (const char *const[]){ "-c", "{dir}/" NT_CONF_FILE, NULL },
	.prepare = nt_prepare,
	.ready = nt_ready,
	.start_timeout_ms = 10000,
};

static const struct osb_driver nats_driver = { .abi_version = OSB_DRIVER_INIT,
					       .name = "nats",
					       .caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC |
						       OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
					       .server = &nats_server,
					       .config_keys = nats_keys,
					       .dedicated = &nats_dedicated,
					       OSB_DRIVER_SLOTS(nats, init, shutdown, provision, deprovision, update,
								bind, unbind, health, list, purge) };

OSB_DRIVER_DEFINE(nats, nats_driver);
