/* ZooKeeper driver: an instance is a znode <base>/<name>, a binding a digest identity on the ACL of all its znodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "zk_session.h"

/* Broker-private znodes: each instance's registry of binding digests, and the quota tree. */
#define ZK_REGISTRY "/.bindings"
#define ZK_QUOTA "/zookeeper/quota"
/* A digest identity nobody can log in as (no password hashes to "-"): ZooKeeper needs a non-empty ACL. */
#define ZK_NOBODY "osb-broker:-"
/* base64 of a SHA-1: 28 characters. */
#define ZK_DIGEST_SIZE 29
#define ZK_READY_TIMEOUT_MS 500
#define ZK_PLAIN "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

struct zk_state {
	char *base;               /* the broker's znode, such as "/osb" */
	char *classpath;          /* of a dedicated server's JVM */
	struct ACL nobody_entry;  /* ZK_NOBODY, read only */
	struct ACL_vector nobody; /* the ACL of the broker's own znodes: only the super user gets in */
};

static int zk_open_req(struct zk_conn *c, osb_request *req)
{
	return zk_open(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* -- the instance's znodes -------------------------------------------------- */

/* base64(SHA-1(user ":" password)): the id ZooKeeper's digest scheme gives a login. */
static int zk_digest(char out[ZK_DIGEST_SIZE], const char *user, const char *password)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	osb_buf login = OSB_BUF_INIT;
	int ok;

	osb_buf_printf(&login, "%s:%s", user, password);
	ok = osb_buf_text(&login) && EVP_Digest(login.data, login.len, md, &n, EVP_sha1(), NULL) == 1 && n == 20;
	osb_buf_free(&login);
	return ok && EVP_EncodeBlock((unsigned char *)out, md, (int)n) == ZK_DIGEST_SIZE - 1 ? 0 : OSB_ERROR;
}

static void zk_acl_free(struct ACL_vector *acl)
{
	for (int32_t i = 0; acl->data && i < acl->count; i++)
		free(acl->data[i].id.id);
	free(acl->data);
	memset(acl, 0, sizeof(*acl));
}

/* Append (perms, digest, id) to acl, whose data has room. */
static int zk_acl_add(struct ACL_vector *acl, int32_t perms, const char *id)
{
	char *copy = strdup(id);

	if (!copy)
		return OSB_ENOMEM;
	acl->data[acl->count].perms = perms;
	acl->data[acl->count].id.scheme = "digest";
	acl->data[acl->count].id.id = copy;
	acl->count++;
	return 0;
}

/*
 * The ACL every znode of the instance gets: each binding of its registry
 * (`registry` holds one znode per binding, named after it, whose data is its
 * digest) with every permission, or nobody when it has none.
 */
static int zk_instance_acl(struct zk_conn *c, const char *registry, struct ACL_vector *acl)
{
	struct String_vector names;
	char *path, id[OSB_NAME_SIZE + ZK_DIGEST_SIZE + 1];
	int rc;

	memset(acl, 0, sizeof(*acl));
	if ((rc = zk_children(c, registry, &names)) < 0)
		return rc;
	if (!(acl->data = calloc((size_t)names.count + 1, sizeof(*acl->data))))
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	for (int32_t i = 0; rc >= 0 && i < names.count; i++) {
		if (!osb_name_is_derived(names.data[i]))
			continue;
		if (!(path = zk_child(registry, names.data[i]))) {
			rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
			break;
		}
		rc = zk_get(c, path);
		free(path);
		snprintf(id, sizeof(id), "%s:%s", names.data[i], c->slots[0].value);
		if (rc == 0 && strlen(c->slots[0].value) == ZK_DIGEST_SIZE - 1 && zk_acl_add(acl, ZOO_PERM_ALL, id) < 0)
			rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	}
	deallocate_String_vector(&names);
	if (rc >= 0 && acl->count == 0 && zk_acl_add(acl, ZOO_PERM_READ, ZK_NOBODY) < 0)
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	if (rc < 0)
		zk_acl_free(acl);
	return rc < 0 ? rc : 0;
}

/* The znodes of instance `name`: its own, its registry and its quota. */
struct zk_znodes {
	char node[256], registry[256], quota[256];
};

static void zk_instance_paths(struct zk_znodes *p, const struct zk_state *st, const char *name)
{
	snprintf(p->node, sizeof(p->node), "%s/%s", st->base, name);
	snprintf(p->registry, sizeof(p->registry), "%s" ZK_REGISTRY "/%s", st->base, name);
	snprintf(p->quota, sizeof(p->quota), ZK_QUOTA "%s/%s", st->base, name);
}

/* Remove everything of an instance; its bindings go with its registry. */
static int zk_drop_instance(struct zk_conn *c, const struct zk_state *st, const char *name, long *removed)
{
	struct zk_znodes p;
	int rc;

	zk_instance_paths(&p, st, name);
	*removed = 0;
	if ((rc = zk_tree_delete(c, p.node, removed)) == 0 && (rc = zk_tree_delete(c, p.registry, &(long){ 0 })) == 0)
		rc = zk_tree_delete(c, p.quota, &(long){ 0 });
	return rc;
}

/* Recompute the instance's ACL from its registry and put it on all its znodes. */
static int zk_sync_acl(struct zk_conn *c, const struct zk_state *st, const char *name, long *count)
{
	struct ACL_vector acl;
	struct zk_znodes p;
	int rc;

	zk_instance_paths(&p, st, name);
	if ((rc = zk_instance_acl(c, p.registry, &acl)) < 0)
		return rc;
	rc = zk_tree_set_acl(c, p.node, &acl, count);
	zk_acl_free(&acl);
	return rc;
}

/*
 * The broker's znodes, only the broker's (super) session may read: the base
 * with the instances, the registry, and the base's quota subtree. A base made
 * earlier by someone else is taken back. On a dedicated server the root and
 * the quota tree become read-only for everyone else, as server.sh sets a shared one up.
 */
static int zk_ensure_base(struct zk_conn *c, const struct zk_state *st, int dedicated)
{
	struct ACL_vector world_read = { 1, &(struct ACL){ ZOO_PERM_READ, { "world", "anyone" } } };
	char registry[256], quota[256];
	int rc;

	snprintf(registry, sizeof(registry), "%s" ZK_REGISTRY, st->base);
	snprintf(quota, sizeof(quota), ZK_QUOTA "%s", st->base);
	if (dedicated &&
	    ((rc = zk_set_acl(c, "/", &world_read)) < 0 || (rc = zk_set_acl(c, ZK_QUOTA, &world_read)) < 0))
		return rc;
	if ((rc = zk_create(c, st->base, NULL, &st->nobody)) < 0 || (rc = zk_set_acl(c, st->base, &st->nobody)) < 0 ||
	    (rc = zk_create(c, registry, NULL, &st->nobody)) < 0 || (rc = zk_set_acl(c, registry, &st->nobody)) < 0 ||
	    (rc = zk_create(c, quota, NULL, &st->nobody)) < 0 || (rc = zk_set_acl(c, quota, &st->nobody)) < 0)
		return rc;
	return 0;
}

/* The plan's quota: ZooKeeper refuses creates and writes past it when started with zookeeper.enforceQuota=true. */
static int zk_set_quota(struct zk_conn *c, const struct zk_state *st, osb_request *req, const char *quota)
{
	char limits[300], stats[300], value[128];
	long long znodes = osb_request_plan_int(req, "max_znodes", -1);
	long long bytes = osb_request_plan_int(req, "max_bytes", -1);
	int rc;

	snprintf(limits, sizeof(limits), "%s/zookeeper_limits", quota);
	snprintf(stats, sizeof(stats), "%s/zookeeper_stats", quota);
	snprintf(value, sizeof(value), "count=-1,bytes=-1,countHardLimit=%lld,byteHardLimit=%lld", znodes, bytes);
	/* The limits first: creating the stats znode makes the server count the subtree against them. */
	if ((rc = zk_create(c, quota, NULL, &st->nobody)) < 0 || (rc = zk_set(c, limits, value)) < 0 ||
	    (rc == 1 && (rc = zk_create(c, limits, value, &st->nobody)) < 0) ||
	    (rc = zk_create(c, stats, "count=0,bytes=0", &st->nobody)) < 0)
		return rc;
	osb_request_note(req, "quota %lld znodes, %lld bytes", znodes, bytes);
	return 0;
}

/* -- instances --------------------------------------------------------------- */

static int zk_provision(osb_request *req, void *state)
{
	const struct zk_state *st = state;
	struct zk_conn c;
	struct zk_znodes p;
	int rc;

	zk_instance_paths(&p, st, osb_request_instance_name(req));
	if ((rc = zk_open_req(&c, req)) < 0 || (rc = zk_ensure_base(&c, st, osb_request_target(req)->dedicated)) < 0 ||
	    (rc = zk_create(&c, p.node, NULL, &st->nobody)) < 0 ||
	    (rc = zk_create(&c, p.registry, NULL, &st->nobody)) < 0 || (rc = zk_set_quota(&c, st, req, p.quota)) < 0)
		goto done;
	if ((rc = osb_request_save_instance_str(req, "znode", p.node)) != 0)
		goto done;
	osb_request_note(req, "znode %s", p.node);
done:
	zk_close(&c);
	return rc;
}

static int zk_update(osb_request *req, void *state)
{
	const struct zk_state *st = state;
	struct zk_conn c;
	struct zk_znodes p;
	int rc;

	zk_instance_paths(&p, st, osb_request_instance_name(req));
	if ((rc = zk_open_req(&c, req)) == 0)
		rc = zk_set_quota(&c, st, req, p.quota);
	zk_close(&c);
	return rc;
}

static int zk_deprovision(osb_request *req, void *state)
{
	struct zk_conn c;
	long removed = 0;
	int rc;

	if ((rc = zk_open_req(&c, req)) == 0 &&
	    (rc = zk_drop_instance(&c, state, osb_request_instance_name(req), &removed)) == 0)
		osb_request_note(req, "%ld znodes removed", removed);
	zk_close(&c);
	return rc;
}

/* -- bindings ---------------------------------------------------------------- */

static int zk_bind_credentials(osb_request *req, const struct zk_state *st, const char *user, const char *password)
{
	const osb_target *t = osb_request_target(req);
	const char *host = osb_uri_host(req, t->public_host);
	char *chroot = osb_req_sprintf(req, "%s/%s", st->base, osb_request_instance_name(req));
	char *uri = osb_credentials_uri(req, "zookeeper", user, password, t->public_host, t->public_port, NULL);
	char *auth = osb_req_sprintf(req, "%s:%s", user, password);
	cJSON *cred = osb_credentials_new(req, &(osb_credentials_spec){ .username = user, .password = password });

	if (cred && host && chroot && uri && auth &&
	    cJSON_AddStringToObject(cred, "uri", osb_req_sprintf(req, "%s%s", uri, chroot)) &&
	    cJSON_AddStringToObject(cred, "connect_string",
				    osb_req_sprintf(req, "%s:%d%s", host, t->public_port, chroot)) &&
	    cJSON_AddStringToObject(cred, "chroot", chroot) && cJSON_AddStringToObject(cred, "auth_scheme", "digest") &&
	    cJSON_AddStringToObject(cred, "auth", auth) && cJSON_AddStringToObject(cred, "create_acl", "parent"))
		return osb_credentials_set(req, cred);
	cJSON_Delete(cred);
	return osb_credentials_set(req, NULL);
}

static int zk_bind(osb_request *req, void *state)
{
	const struct zk_state *st = state;
	const char *user = osb_request_binding_name(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", digest[ZK_DIGEST_SIZE], *entry;
	struct zk_conn c = { 0 };
	struct zk_znodes p;
	long count = 0;
	int rc;

	zk_instance_paths(&p, st, osb_request_instance_name(req));
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    zk_digest(digest, user, password) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if (!(entry = osb_req_sprintf(req, "%s/%s", p.registry, user))) {
		rc = osb_req_fail(req, OSB_ENOMEM, "out of memory");
		goto done;
	}
	/* The registry first, so that a walk interrupted now is finished by the next bind or unbind. */
	if ((rc = zk_open_req(&c, req)) < 0 || (rc = zk_create(&c, p.registry, NULL, &st->nobody)) < 0 ||
	    (rc = zk_set(&c, entry, digest)) < 0 || (rc == 1 && (rc = zk_create(&c, entry, digest, &st->nobody)) < 0) ||
	    (rc = zk_sync_acl(&c, st, osb_request_instance_name(req), &count)) < 0)
		goto done;
	if (count == 0) {
		rc = osb_req_fail(req, OSB_EBACKEND, "the instance's znode %s is missing on ZooKeeper at %s", p.node,
				  c.where);
		goto done;
	}
	if ((rc = zk_bind_credentials(req, st, user, password)) < 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "username", user)) != 0)
		goto done;
	osb_request_note(req, "digest identity on the ACL of %ld znodes", count);
done:
	explicit_bzero(password, sizeof(password));
	zk_close(&c);
	return rc;
}

static int zk_unbind_name(struct zk_conn *c, const struct zk_state *st, const char *instance, const char *binding,
			  long *count)
{
	struct zk_znodes p;
	char entry[300];
	int rc;

	zk_instance_paths(&p, st, instance);
	snprintf(entry, sizeof(entry), "%s/%s", p.registry, binding);
	if ((rc = zk_delete(c, entry)) < 0)
		return rc;
	return zk_sync_acl(c, st, instance, count);
}

static int zk_unbind(osb_request *req, void *state)
{
	struct zk_conn c;
	long count = 0;
	int rc;

	if ((rc = zk_open_req(&c, req)) == 0 && (rc = zk_unbind_name(&c, state, osb_request_instance_name(req),
								     osb_request_binding_name(req), &count)) == 0)
		osb_request_note(req, "digest identity off the ACL of %ld znodes", count);
	zk_close(&c);
	return rc;
}

/* -- health and reconciliation ----------------------------------------------- */

/* The admin reads the base, which only the super user may (absent before the first provision). */
static int zk_health(const osb_target *server, void *state, osb_errbuf *err)
{
	const struct zk_state *st = state;
	struct String_vector names = { 0, NULL };
	struct zk_conn c;
	int rc;

	if ((rc = zk_open(&c, server, OSB_HEALTH_TIMEOUT_MS, err)) == 0)
		rc = zk_children(&c, st->base, &names);
	deallocate_String_vector(&names);
	zk_close(&c);
	return rc < 0 ? rc : 0;
}

/* Call cb(kind, name) for each derived name among the children of `path`. */
static int zk_list_children(struct zk_conn *c, const char *path, osb_tenant_kind kind, osb_tenant_cb cb, void *payload,
			    struct String_vector *keep)
{
	struct String_vector names;
	int rc = zk_children(c, path, &names);

	for (int32_t i = 0; rc == 0 && i < names.count; i++)
		if (osb_name_is_derived(names.data[i]) && cb(kind, names.data[i], payload))
			rc = 1;
	if (keep)
		*keep = names;
	else
		deallocate_String_vector(&names);
	return rc < 0 ? rc : rc == 1;
}

/* Instances: the base's, the registry's and the quota tree's children; bindings: each registry's. */
static int zk_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	const struct zk_state *st = state;
	struct String_vector registries = { 0, NULL };
	char registry[256], quota[256], *path;
	struct zk_conn c;
	int rc;

	snprintf(registry, sizeof(registry), "%s" ZK_REGISTRY, st->base);
	snprintf(quota, sizeof(quota), ZK_QUOTA "%s", st->base);
	if ((rc = zk_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0 &&
	    (rc = zk_list_children(&c, st->base, OSB_TENANT_INSTANCE, cb, payload, NULL)) == 0 &&
	    (rc = zk_list_children(&c, quota, OSB_TENANT_INSTANCE, cb, payload, NULL)) == 0)
		rc = zk_list_children(&c, registry, OSB_TENANT_INSTANCE, cb, payload, &registries);
	for (int32_t i = 0; rc == 0 && i < registries.count; i++) {
		if (!osb_name_is_derived(registries.data[i]))
			continue;
		if (!(path = zk_child(registry, registries.data[i])))
			rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
		else
			rc = zk_list_children(&c, path, OSB_TENANT_BINDING, cb, payload, NULL);
		free(path);
	}
	deallocate_String_vector(&registries);
	zk_close(&c);
	return rc < 0 ? rc : 0;
}

/* A binding is purged from whichever instance's registry names it. */
static int zk_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	const struct zk_state *st = state;
	struct String_vector registries = { 0, NULL };
	char registry[256];
	struct zk_conn c;
	long n = 0;
	int rc;

	snprintf(registry, sizeof(registry), "%s" ZK_REGISTRY, st->base);
	if ((rc = zk_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) < 0 || kind == OSB_TENANT_INSTANCE) {
		rc = rc < 0 ? rc : zk_drop_instance(&c, st, name, &n);
		goto done;
	}
	if ((rc = zk_children(&c, registry, &registries)) < 0)
		goto done;
	for (int32_t i = 0; rc >= 0 && i < registries.count; i++)
		if (osb_name_is_derived(registries.data[i]))
			rc = zk_unbind_name(&c, st, registries.data[i], name, &n);
done:
	deallocate_String_vector(&registries);
	zk_close(&c);
	return rc < 0 ? rc : 0;
}

/* -- dedicated servers -------------------------------------------------------- */

/* zoo.cfg and the JVM's argument file (the super user's digest, the plan's heap), both mode 0600. */
static int zk_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	const struct zk_state *st = state;
	char digest[ZK_DIGEST_SIZE];
	osb_buf cfg = OSB_BUF_INIT, args = OSB_BUF_INIT;
	int rc = 0;

	if (strspn(t->dir, ZK_PLAIN) != strlen(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	if (zk_digest(digest, t->admin_user, t->admin_password) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot hash the dedicated server's admin password");
	osb_buf_printf(&cfg,
		       "# Written by osb-zookeeper-broker.\ntickTime=2000\ndataDir=%s/data\nclientPort=%d\n"
		       "clientPortAddress=%s\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr\n"
		       "maxClientCnxns=%lld\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=1\n",
		       t->dir, t->port, t->host, osb_request_plan_int(req, "max_connections", 60));
	osb_buf_printf(&args,
		       "-Xmx%lldm\n-Dorg.slf4j.simpleLogger.defaultLogLevel=warn\n"
		       "-Dzookeeper.DigestAuthenticationProvider.superDigest=%s:%s\n-Dzookeeper.enforceQuota=true\n"
		       "-cp\n%s\norg.apache.zookeeper.server.ZooKeeperServerMain\n%s/zoo.cfg\n",
		       osb_request_plan_int(req, "heap_mb", 128), t->admin_user, digest, st->classpath, t->dir);
	if (!osb_buf_text(&cfg) || !osb_buf_text(&args))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, "zoo.cfg", cfg.data, cfg.len, 0) != 0 ||
		 osb_file_write_private(t->dir, "jvm.args", args.data, args.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write the dedicated server's files in %s", t->dir);
	osb_buf_free(&cfg);
	osb_buf_free(&args);
	return rc;
}

static int zk_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct String_vector names = { 0, NULL };
	struct zk_conn c;
	int rc;

	(void)state;
	if ((rc = zk_open(&c, t, ZK_READY_TIMEOUT_MS, err)) == 0)
		rc = zk_children(&c, "/", &names);
	deallocate_String_vector(&names);
	zk_close(&c);
	return rc < 0 ? rc : 0;
}

/* -- the driver ----------------------------------------------------------------- */

static void zk_shutdown(void *state)
{
	struct zk_state *st = state;

	if (st) {
		free(st->base);
		free(st->classpath);
	}
	free(st);
}

static int zk_init(void **state, const cJSON *config, const osb_broker *broker)
{
	const osb_target *server = osb_broker_server(broker);
	struct zk_state *st = calloc(1, sizeof(*st));
	const char *b;
	int rc;

	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->base, config, "zookeeper", "base_znode", "/osb")) < 0 ||
	    (rc = osb_driver_config_string(&st->classpath, config, "zookeeper", "classpath",
					   "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar")) < 0)
		goto fail;
	b = st->base;
	if (b[0] != '/' || strlen(b) > 64 || strspn(b + 1, ZK_PLAIN) != strlen(b + 1) || strchr(b + 1, '/') ||
	    strcmp(b, "/zookeeper") == 0 || strcmp(b, "/.") == 0 || strcmp(b, "/..") == 0 || !b[1]) {
		osb_log(OSB_LOG_ERROR, "zookeeper.config",
			"driver.base_znode must be one znode under the root, such as \"/osb\" (letters, digits, "
			"'.', '_', '-'), and not /zookeeper");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	if (strspn(st->classpath, ZK_PLAIN ":+") != strlen(st->classpath)) {
		osb_log(OSB_LOG_ERROR, "zookeeper.config",
			"driver.classpath must be jar paths joined by ':' (no spaces)");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	if (server && server->tls) {
		osb_log(OSB_LOG_ERROR, "zookeeper.config", "driver.tls: Debian's ZooKeeper C client has no TLS");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	st->nobody_entry = (struct ACL){ ZOO_PERM_READ, { "digest", ZK_NOBODY } };
	st->nobody = (struct ACL_vector){ 1, &st->nobody_entry };
	zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
	*state = st;
	return 0;
fail:
	zk_shutdown(st);
	return rc;
}

static const char *const zk_config_keys[] = { "base_znode", "classpath", NULL };

static const osb_server_spec zk_server = { .default_port = 2181, .default_admin_user = "super" };

static const osb_dedicated_spec zk_dedicated = {
	.kind = "zookeeper",
	.program_key = "java",
	.program = "java",
	.args = (const char *const[]){ "@{dir}/jvm.args", NULL },
	.admin_user = "super",
	.prepare = zk_prepare,
	.ready = zk_ready,
};

static const struct osb_driver zookeeper_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "zookeeper",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE | OSB_CAP_DEDICATED,
	.server = &zk_server,
	.config_keys = zk_config_keys,
	.dedicated = &zk_dedicated,
	OSB_DRIVER_SLOTS(zk, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(zookeeper, zookeeper_driver);
