/*
 * S3 driver on Ceph's RADOS Gateway: an instance is an RGW user owning one bucket, with the plan's
 * quota; a binding is an S3 access key of that user. Everything goes through RGW's admin ops API,
 * each call signed with AWS signature version 2 (HMAC-SHA1 of the request's method, type, date and
 * path under the admin's secret key), which RGW accepts for the admin API and S3 alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <osb.h>

/* URLs we build: the endpoint, a short path and a query of derived names. */
#define S3_URL_MAX 4096
/* A bucket name: "osb-" and the 20 hex digits of the instance's name (S3 names allow no '_'). */
#define S3_BUCKET_SIZE OSB_NAME_SIZE

/* The driver's own settings; read-only after init. */
struct s3_state {
	char *region; /* what S3 clients sign with; RGW takes any for its default zone group */
};

/* One callback's calls: the gateway, its deadline and where errors go. */
struct s3_ctx {
	const osb_target *t;
	int64_t deadline;
	osb_errbuf *err;
};

static void s3_ctx_init(struct s3_ctx *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	c->t = t;
	c->deadline = osb_clock_ms() + timeout_ms;
	c->err = err;
}

static void s3_req_ctx(struct s3_ctx *c, osb_request *req)
{
	s3_ctx_init(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

static void s3_bucket_name(char out[S3_BUCKET_SIZE], const char *instance)
{
	snprintf(out, S3_BUCKET_SIZE, "osb-%s", instance + 4);
}

/* "Authorization: AWS key:base64(HMAC-SHA1(secret, string to sign))" for one request. @return 0 or -1. */
static int s3_sign(char *out, size_t size, const char *key, const char *secret, const char *method, const char *ctype,
		   const char *date, const char *path)
{
	unsigned char mac[EVP_MAX_MD_SIZE], b64[4 * EVP_MAX_MD_SIZE / 3 + 4];
	unsigned int mac_len = 0;
	char text[S3_URL_MAX + 128];
	int n = snprintf(text, sizeof(text), "%s\n\n%s\n%s\n%s", method, ctype, date, path);

	if (n < 0 || (size_t)n >= sizeof(text) ||
	    !HMAC(EVP_sha1(), secret, (int)strlen(secret), (unsigned char *)text, (size_t)n, mac, &mac_len))
		return -1;
	EVP_EncodeBlock(b64, mac, (int)mac_len);
	n = snprintf(out, size, "Authorization: AWS %s:%s", key, (char *)b64);
	explicit_bzero(mac, sizeof(mac));
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The error code in RGW's answer: {"Code":"NoSuchUser"} (admin API) or <Code>...</Code> (S3). */
static void s3_error_code(char *out, size_t size, const char *body)
{
	cJSON *json = cJSON_Parse(body);
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "Code"));
	const char *xml = code ? NULL : strstr(body, "<Code>");

	if (code)
		snprintf(out, size, "%.64s", code);
	else if (xml)
		snprintf(out, size, "%.*s", (int)strcspn(xml + 6, "<"), xml + 6);
	else
		snprintf(out, size, "no error code");
	cJSON_Delete(json);
}

/*
 * One signed call: METHOD <endpoint><path>?<query>, as the admin or as `key`/`secret`. 2xx gives
 * 0 (and the parsed body in *json when asked); 404 OSB_ENOTFOUND; a refused admin key, anything
 * else or no answer OSB_EBACKEND; no answer in time OSB_ETIMEOUT. The error
 * text names the method, the path and RGW's error code: never the query (it may name a key).
 */
static int s3_call(struct s3_ctx *c, const char *method, const char *path, const char *query, const char *body,
		   cJSON **json, const char *key, const char *secret)
{
	const osb_target *t = c->t;
	const char *base = strstr(t->url, "://"), *base_path = base ? strchr(base + 3, '/') : NULL;
	char url[S3_URL_MAX], resource[S3_URL_MAX], date[64], auth[256], code[72];
	const char *headers[4] = { date, auth, NULL, NULL };
	osb_http_options opts = { .ca_file = t->ca_file, .headers = headers };
	osb_http_response resp;
	struct tm tm;
	time_t now = time(NULL);
	int rc, n;

	if (json)
		*json = NULL;
	strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
	/* The signature covers the path as the gateway sees it, the endpoint's own path included. */
	snprintf(resource, sizeof(resource), "%s%s", base_path ? base_path : "", path);
	n = snprintf(url, sizeof(url), "%s%s%s%s", t->url, path, query ? "?" : "", query ? query : "");
	if (n < 0 || (size_t)n >= sizeof(url) ||
	    s3_sign(auth, sizeof(auth), key ? key : t->admin_user, secret ? secret : t->admin_password, method,
		    body ? "application/json" : "", date + 6, resource) < 0)
		return osb_errbuf_set(c->err, OSB_ERROR, "cannot sign %s %s for the gateway", method, path);
	if (c->deadline <= osb_clock_ms())
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "out of time before %s %s on the gateway", method, path);
	rc = osb_http_request(&opts, method, url, NULL, NULL, body, osb_ms_left(c->deadline), &resp);
	explicit_bzero(auth, sizeof(auth));
	if (rc == 0 && resp.status >= 200 && resp.status < 300) {
		if (json && !(*json = cJSON_ParseWithLength(resp.body, resp.body_len)))
			rc = osb_errbuf_set(c->err, OSB_EBACKEND,
					    "the gateway answered %s %s with a body that is not JSON", method, path);
	} else if (rc == OSB_ETIMEOUT) {
		osb_errbuf_set(c->err, rc, "the gateway at %s did not answer %s %s in time", t->url, method, path);
	} else if (rc == OSB_ENOMEM) {
		osb_errbuf_set(c->err, rc, "out of memory calling the gateway");
	} else if (rc < 0) {
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "cannot reach the gateway at %s: %s", t->url, resp.error);
	} else {
		s3_error_code(code, sizeof(code), resp.body);
		if (!key && resp.status == 403 &&
		    (strcmp(code, "InvalidAccessKeyId") == 0 || strcmp(code, "SignatureDoesNotMatch") == 0 ||
		     strcmp(code, "AccessDenied") == 0))
			rc = osb_errbuf_set(
				c->err, OSB_EBACKEND,
				"the gateway refused the broker's admin key (%s): check "
				"driver.admin_user and driver.admin_password, and that the user has the caps "
				"users=* and buckets=*",
				code);
		else
			rc = osb_errbuf_set(c->err, resp.status == 404 ? OSB_ENOTFOUND : OSB_EBACKEND,
					    "the gateway answered %ld to %s %s: %s", resp.status, method, path, code);
	}
	osb_http_response_free(&resp);
	return rc;
}

/* An admin ops call whose query is built from fmt (values are derived names, ids or numbers). */
static int s3_admin(struct s3_ctx *c, const char *method, const char *path, const char *body, cJSON **json,
		    const char *fmt, ...) OSB_PRINTF(6, 7);

static int s3_admin(struct s3_ctx *c, const char *method, const char *path, const char *body, cJSON **json,
		    const char *fmt, ...)
{
	char query[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(query, sizeof(query), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(query))
		return osb_errbuf_set(c->err, OSB_ERROR, "gateway query too long");
	return s3_call(c, method, path, query, body, json, NULL, NULL);
}

/* The secret of `key` in an admin answer's key list ([{user, access_key, secret_key}]), or NULL. */
static const char *s3_key_secret(const cJSON *keys, const char *key)
{
	const cJSON *k;

	cJSON_ArrayForEach(k, keys)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "access_key"));

		if (id && strcmp(id, key) == 0)
			return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "secret_key"));
	}
	return NULL;
}

/* Add (or replace) S3 key `key` of `uid` with a secret RGW generates: no secret travels in a URL. */
static int s3_key_create(struct s3_ctx *c, const char *uid, const char *key, char *secret, size_t size)
{
	cJSON *keys;
	const char *s;
	int rc = s3_admin(c, "PUT", "/admin/user", NULL, &keys,
			  "key&uid=%s&key-type=s3&access-key=%s&generate-key=true", uid, key);

	if (rc < 0)
		return rc;
	s = s3_key_secret(keys, key);
	if (!s || strlen(s) >= size)
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "the gateway made key %s without a usable secret", key);
	else
		snprintf(secret, size, "%s", s);
	cJSON_Delete(keys);
	return rc;
}

/* Remove key `key` of `uid` if it is there (RGW answers 403, not 404, for a key it does not know). */
static int s3_key_drop(struct s3_ctx *c, const char *uid, const char *key)
{
	cJSON *user;
	int rc = s3_admin(c, "GET", "/admin/user", NULL, &user, "uid=%s", uid);

	if (rc == OSB_ENOTFOUND)
		return 0;
	if (rc == 0 && s3_key_secret(cJSON_GetObjectItemCaseSensitive(user, "keys"), key))
		rc = s3_admin(c, "DELETE", "/admin/user", NULL, NULL, "key&uid=%s&access-key=%s", uid, key);
	cJSON_Delete(user);
	return rc;
}

/* Who owns `bucket`: 1 `uid`, 0 nobody (no such bucket), 2 another user; or an error code. */
static int s3_bucket_owner(struct s3_ctx *c, const char *bucket, const char *uid)
{
	cJSON *info;
	const char *owner;
	int rc = s3_admin(c, "GET", "/admin/bucket", NULL, &info, "bucket=%s", bucket);

	if (rc == OSB_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	owner = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "owner"));
	rc = owner && strcmp(owner, uid) == 0 ? 1 : 2;
	cJSON_Delete(info);
	return rc;
}

/*
 * Make the bucket as its owner: the admin API cannot create one, so the user gets a key of its own
 * for one S3 PUT, and loses it right after, whatever happened: an instance holds only binding keys.
 */
static int s3_bucket_create(struct s3_ctx *c, const char *uid, const char *bucket)
{
	char secret[128], path[S3_BUCKET_SIZE + 1];
	int rc = s3_key_create(c, uid, uid, secret, sizeof(secret)), drop;

	snprintf(path, sizeof(path), "/%s", bucket);
	/* Refused: maybe a concurrent attempt made it first, which is fine when the bucket is ours. */
	if (rc == 0 && (rc = s3_call(c, "PUT", path, NULL, NULL, NULL, uid, secret)) < 0 &&
	    s3_bucket_owner(c, bucket, uid) == 1)
		rc = 0;
	explicit_bzero(secret, sizeof(secret));
	drop = s3_key_drop(c, uid, uid);
	return rc < 0 ? rc : drop;
}

/* The plan's quota on the user and on each of its buckets: RGW refuses writes past it (403 QuotaExceeded). */
static int s3_set_quota(struct s3_ctx *c, osb_request *req, const char *uid)
{
	long long mb = osb_request_plan_int(req, "max_size_mb", -1),
		  objects = osb_request_plan_int(req, "max_objects", -1);
	char body[160];
	int rc;

	snprintf(body, sizeof(body), "{\"enabled\":%s,\"max_size\":%lld,\"max_objects\":%lld}",
		 mb >= 0 || objects >= 0 ? "true" : "false", mb >= 0 ? mb * 1024 * 1024 : -1,
		 objects >= 0 ? objects : -1);
	if ((rc = s3_admin(c, "PUT", "/admin/user", body, NULL, "quota&uid=%s&quota-type=user", uid)) < 0 ||
	    (rc = s3_admin(c, "PUT", "/admin/user", body, NULL, "quota&uid=%s&quota-type=bucket", uid)) < 0)
		return rc;
	osb_request_note(req, "user %s: quota %lld MiB, %lld objects", uid, mb, objects);
	return 0;
}

/* Remove an instance: its bucket with every object, then its user with any key left. Absent parts are fine. */
static int s3_drop_instance(struct s3_ctx *c, const char *uid)
{
	char bucket[S3_BUCKET_SIZE];
	int rc;

	s3_bucket_name(bucket, uid);
	rc = s3_bucket_owner(c, bucket, uid);
	if (rc == 1)
		rc = s3_admin(c, "DELETE", "/admin/bucket", NULL, NULL, "bucket=%s&purge-objects=true", bucket);
	if (rc < 0 && rc != OSB_ENOTFOUND)
		return rc;
	rc = s3_admin(c, "DELETE", "/admin/user", NULL, NULL, "uid=%s&purge-data=true", uid);
	return rc == OSB_ENOTFOUND ? 0 : rc;
}

/* -- instances ------------------------------------------------------------- */

static int s3_provision(osb_request *req, void *state)
{
	const char *uid = osb_request_instance_name(req);
	char bucket[S3_BUCKET_SIZE];
	struct s3_ctx c;
	int rc;

	(void)state;
	s3_req_ctx(&c, req);
	s3_bucket_name(bucket, uid);
	/* One bucket per user: the binding keys cannot make more, so the quota covers all they store. */
	rc = s3_admin(&c, "GET", "/admin/user", NULL, NULL, "uid=%s", uid);
	if (rc == OSB_ENOTFOUND)
		rc = s3_admin(&c, "PUT", "/admin/user", NULL, NULL,
			      "uid=%s&display-name=%s&max-buckets=1&generate-key=false", uid, uid);
	if (rc < 0 || (rc = s3_set_quota(&c, req, uid)) < 0)
		return rc;
	rc = s3_bucket_owner(&c, bucket, uid);
	if (rc == 0)
		rc = s3_bucket_create(&c, uid, bucket);
	else if (rc == 2)
		rc = osb_req_fail(req, OSB_EBACKEND, "bucket %s exists on the gateway and belongs to another user",
				  bucket);
	return rc < 0 ? rc : 0;
}

static int s3_update(osb_request *req, void *state)
{
	const char *uid = osb_request_instance_name(req);
	struct s3_ctx c;
	int rc;

	(void)state;
	s3_req_ctx(&c, req);
	rc = s3_admin(&c, "GET", "/admin/user", NULL, NULL, "uid=%s", uid);
	if (rc == OSB_ENOTFOUND)
		return osb_req_fail(req, OSB_EBACKEND, "user %s of the instance is missing on the gateway", uid);
	return rc < 0 ? rc : s3_set_quota(&c, req, uid);
}

static int s3_deprovision(osb_request *req, void *state)
{
	struct s3_ctx c;

	(void)state;
	s3_req_ctx(&c, req);
	osb_request_note(req, "bucket with its objects and user deleted");
	return s3_drop_instance(&c, osb_request_instance_name(req));
}

/* -- bindings -------------------------------------------------------------- */

static int s3_credentials(osb_request *req, const struct s3_state *st, const char *key, const char *secret,
			  const char *bucket)
{
	const osb_target *t = osb_request_target(req);
	cJSON *cred = osb_credentials_new(
		req, &(osb_credentials_spec){ .scheme = "s3", .username = key, .password = secret, .path = bucket });
	const char *host = osb_uri_host(req, t->public_host);
	const char *endpoint =
		host ? osb_req_sprintf(req, "%s://%s:%d", t->tls ? "https" : "http", host, t->public_port) : NULL;

	if (cred &&
	    (!endpoint || !cJSON_AddStringToObject(cred, "access_key_id", key) ||
	     !cJSON_AddStringToObject(cred, "secret_access_key", secret) ||
	     !cJSON_AddStringToObject(cred, "bucket", bucket) || !cJSON_AddStringToObject(cred, "endpoint", endpoint) ||
	     !cJSON_AddStringToObject(cred, "region", st->region))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	return osb_credentials_set(req, cred);
}

static int s3_bind(osb_request *req, void *state)
{
	const char *uid = osb_request_instance_name(req), *key = osb_request_binding_name(req);
	char secret[128], bucket[S3_BUCKET_SIZE];
	struct s3_ctx c;
	int rc;

	s3_req_ctx(&c, req);
	s3_bucket_name(bucket, uid);
	/* A repeat after an interruption replaces the key's secret: only this attempt's works. */
	rc = s3_admin(&c, "GET", "/admin/user", NULL, NULL, "uid=%s", uid);
	if (rc == OSB_ENOTFOUND)
		return osb_req_fail(req, OSB_EBACKEND, "user %s of the instance is missing on the gateway", uid);
	if (rc == 0 && (rc = s3_key_create(&c, uid, key, secret, sizeof(secret))) == 0 &&
	    (rc = s3_credentials(req, state, key, secret, bucket)) == 0)
		osb_request_note(req, "S3 key %s of user %s, bucket %s", key, uid, bucket);
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

static int s3_unbind(osb_request *req, void *state)
{
	struct s3_ctx c;

	(void)state;
	s3_req_ctx(&c, req);
	osb_request_note(req, "S3 key deleted: the gateway refuses it from the next request on");
	return s3_key_drop(&c, osb_request_instance_name(req), osb_request_binding_name(req));
}

/* -- health and reconciliation --------------------------------------------- */

/* The admin key works and may read users: what every operation needs. */
static int s3_health(const osb_target *server, void *state, osb_errbuf *err)
{
	char key[256];
	struct s3_ctx c;

	(void)state;
	s3_ctx_init(&c, server, OSB_HEALTH_TIMEOUT_MS, err);
	if (osb_http_escape_segment(key, sizeof(key), server->admin_user) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "driver.admin_user is too long");
	return s3_admin(&c, "GET", "/admin/user", NULL, NULL, "access-key=%s", key);
}

/* Report the keys of user `uid` whose names the broker makes for bindings (not the owner's own). */
static int s3_list_keys(struct s3_ctx *c, const char *uid, osb_tenant_cb cb, void *payload, int *stop)
{
	const cJSON *k;
	cJSON *user;
	int rc = s3_admin(c, "GET", "/admin/user", NULL, &user, "uid=%s", uid);

	if (rc < 0)
		return rc == OSB_ENOTFOUND ? 0 : rc;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(user, "keys"))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "access_key"));

		if (!*stop && id && osb_name_is_derived(id) && strcmp(id, uid) != 0)
			*stop = cb(OSB_TENANT_BINDING, id, payload);
	}
	cJSON_Delete(user);
	return 0;
}

static int s3_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	char marker[256] = "", name[OSB_NAME_SIZE];
	const cJSON *item;
	cJSON *page = NULL, *buckets = NULL;
	struct s3_ctx c;
	int rc, stop = 0, more = 1;

	(void)state;
	s3_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	/* Users, a page at a time: instances, and their keys: bindings. */
	while (more && !stop) {
		if ((rc = s3_admin(&c, "GET", "/admin/user", NULL, &page, "list&max-entries=1000%s%s",
				   marker[0] ? "&marker=" : "", marker)) < 0)
			return rc;
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(page, "keys"))
		{
			const char *uid = cJSON_GetStringValue(item);

			if (stop || !uid || !osb_name_is_derived(uid))
				continue;
			if (!(stop = cb(OSB_TENANT_INSTANCE, uid, payload)) &&
			    (rc = s3_list_keys(&c, uid, cb, payload, &stop)) < 0)
				break;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "truncated"));
		item = cJSON_GetObjectItemCaseSensitive(page, "marker");
		if (more &&
		    (!cJSON_IsString(item) || osb_http_escape_segment(marker, sizeof(marker), item->valuestring) < 0))
			rc = osb_errbuf_set(err, OSB_EBACKEND, "the gateway listed users without a usable marker");
		cJSON_Delete(page);
		if (rc < 0)
			return rc;
	}
	/* Buckets a lost user left behind: "osb-<hex>" belongs to instance "osb_<hex>". */
	if (stop || (rc = s3_admin(&c, "GET", "/admin/bucket", NULL, &buckets, "stats=false")) < 0)
		return stop ? 0 : rc;
	cJSON_ArrayForEach(item, buckets)
	{
		const char *b = cJSON_GetStringValue(item);

		if (stop || !b || strncmp(b, "osb-", 4) != 0 || strlen(b) != OSB_NAME_SIZE - 1)
			continue;
		snprintf(name, sizeof(name), "osb_%s", b + 4);
		if (osb_name_is_derived(name))
			stop = cb(OSB_TENANT_INSTANCE, name, payload);
	}
	cJSON_Delete(buckets);
	return 0;
}

static int s3_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	const char *uid;
	struct s3_ctx c;
	cJSON *user;
	int rc;

	(void)state;
	s3_ctx_init(&c, server, OSB_RECONCILE_TIMEOUT_MS, err);
	if (kind == OSB_TENANT_INSTANCE)
		return s3_drop_instance(&c, name);
	/* A binding's key: find the user it belongs to. */
	rc = s3_admin(&c, "GET", "/admin/user", NULL, &user, "access-key=%s", name);
	if (rc == OSB_ENOTFOUND)
		return 0;
	uid = rc == 0 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(user, "user_id")) : NULL;
	if (rc == 0 && (!uid || !osb_name_is_derived(uid)))
		rc = osb_errbuf_set(err, OSB_EBACKEND, "key %s belongs to a user the broker did not make", name);
	else if (rc == 0)
		rc = s3_key_drop(&c, uid, name);
	cJSON_Delete(user);
	return rc;
}

/* -- configuration --------------------------------------------------------- */

static void s3_shutdown(void *state)
{
	struct s3_state *st = state;

	if (!st)
		return;
	free(st->region);
	free(st);
}

static int s3_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct s3_state *st = calloc(1, sizeof(*st));
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->region, config, "s3", "region", "us-east-1")) < 0)
		goto fail;
	if (!st->region[0] || st->region[strspn(st->region, "abcdefghijklmnopqrstuvwxyz0123456789-")] ||
	    strlen(st->region) > 63) {
		osb_log(OSB_LOG_ERROR, "s3.config", "driver.region must be a region name such as us-east-1");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	*state = st;
	return 0;
fail:
	s3_shutdown(st);
	return rc;
}

/* The gateway as a URL; admin_user and admin_password: the key and secret of a user with caps users=*, buckets=*. */
static const osb_server_spec s3_server = {
	.default_port = 7480,
	.default_admin_user = NULL,
	.url_key = "endpoint",
	.default_url = "http://127.0.0.1:7480",
};

static const char *const s3_keys[] = { "region", NULL };

static const struct osb_driver s3_driver = { .abi_version = OSB_DRIVER_INIT,
					     .name = "s3",
					     .caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC |
						     OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION,
					     .server = &s3_server,
					     .config_keys = s3_keys,
					     OSB_DRIVER_SLOTS(s3, init, shutdown, provision, deprovision, update, bind,
							      unbind, health, list, purge) };

OSB_DRIVER_DEFINE(s3, s3_driver);
