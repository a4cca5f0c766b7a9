/* Redis driver: an instance is a key prefix on a shared server, a binding an ACL user confined to it. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include <osb.h>

#include "redis_driver.h"

/* list and purge run outside any request, so they get their own budget. */
#define RD_RECONCILE_TIMEOUT_MS 30000
#define RD_HEALTH_TIMEOUT_MS 1000
/* Keys asked for per SCAN step and removed per UNLINK. */
#define RD_SCAN_COUNT "1000"
#define RD_MAX_ARGS 64

/*
 * What a binding may do on a shared server, after `~prefix:*` and `&prefix:*`
 * confine its keys and channels. Redis checks key and channel names itself, so
 * this list takes away what ignores them: commands that see or change the whole
 * keyspace or server, other databases (out of the prefix's reach and of the SCAN
 * that deprovision runs), and server-wide lists of channels, clients, scripts
 * and functions. Order matters: Redis applies the rules left to right.
 */
static const char *const rd_shared_rules[] = {
	"+@all", "-@dangerous", "-@admin",
	/* the whole keyspace: KEYS/SCAN/RANDOMKEY ignore key patterns, DBSIZE and INFO leak counts */
	"-keys", "-scan", "-randomkey", "-dbsize", "-info", "-flushdb", "-flushall", "-swapdb",
	/* other databases */
	"-select", "-move", "-copy",
	/* the server itself (all in @dangerous already; listed so a renamed category cannot let them through) */
	"-config", "-debug", "-monitor", "-shutdown", "-migrate", "-restore", "-module", "-acl",
	"+acl|whoami", "+acl|cat", "+acl|genpass",
	/* every tenant's channels (PUBSUB CHANNELS/NUMSUB/SHARDCHANNELS) */
	"-pubsub",
	/* other clients, and key tracking that would report other tenants' key names */
	"-client", "+client|id", "+client|info", "+client|setname", "+client|getname", "+client|reply",
	/* server-wide script and function registries */
	"-function", "-fcall", "-fcall_ro", "-script|flush", "-script|kill",
	"-memory", "+memory|usage",
	"-cluster|getkeysinslot", "-cluster|countkeysinslot",
	/* Redis 7 refuses SORT's BY and GET unless the user may read every key, so plain SORT is safe */
	"+sort", "+sort_ro",
};

/* The driver's configuration; read-only after init except the log-once flag. */
struct rd_state {
	char *host;              /* shared server the broker connects to */
	int port;                /* its port */
	char *admin_user;        /* ACL user with +@all ~* &* (or "default" with requirepass) */
	char *admin_password;    /* its password; never logged */
	char *public_host;       /* host written into credentials */
	atomic_int no_aclfile_logged; /* the "no aclfile, ACL SAVE skipped" warning was logged */
};

/* Why a step failed: an osb_error_code and a text without secrets. */
struct rd_err {
	int code;
	char msg[512];
};

/* One admin connection with the deadline of the callback that opened it. */
struct rd_conn {
	redisContext *ctx;
	long long deadline;      /* CLOCK_MONOTONIC milliseconds */
	struct rd_err *err;
	char where[80];          /* "127.0.0.1:6379", for messages */
};

/* A set of broker-made names (reconciler). */
struct rd_names {
	char (*v)[OSB_NAME_SIZE];
	size_t n, cap;
};

static long long rd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rd_fail(struct rd_err *err, int code, const char *fmt, ...) OSB_PRINTF(3, 4);

static int rd_fail(struct rd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

static int rd_is_hex_name(const char *s, size_t len)
{
	size_t i;

	if (len != OSB_NAME_SIZE - 1 || strncmp(s, "osb_", 4) != 0)
		return 0;
	for (i = 4; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Whether `name` is what osb_name_instance()/osb_name_binding() make: ^osb_[0-9a-f]{20}$. */
static int rd_is_osb_name(const char *name)
{
	return name && rd_is_hex_name(name, strlen(name));
}

static struct timeval rd_tv(long long ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static void rd_close(struct rd_conn *c)
{
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
}

/* An I/O failure of the connection: a timeout (EAGAIN from SO_RCVTIMEO) or a lost server. */
static int rd_io_fail(struct rd_conn *c, const char *what)
{
	int timed_out = c->ctx && c->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
	const char *why = c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "connection lost";

	if (timed_out || rd_now_ms() >= c->deadline) {
		rd_close(c);
		return rd_fail(c->err, OSB_ETIMEOUT, "Redis at %s did not answer %s in time", c->where, what);
	}
	rd_fail(c->err, OSB_EBACKEND, "Redis at %s: %s failed: %s", c->where, what, why);
	rd_close(c);
	return c->err->code;
}

/*
 * Send one command as binary-safe arguments and read its reply, within the
 * connection's deadline. An error reply becomes OSB_EBACKEND with Redis's text,
 * unless `secret` is set and the text contains it (never echo a password).
 * @param[out] out  the reply on success (caller frees), or NULL to drop it.
 */
static int rd_cmdv(struct rd_conn *c, redisReply **out, int argc, const char **argv, const size_t *lens,
		   const char *secret)
{
	redisReply *r;
	long long left = c->deadline - rd_now_ms();

	if (out)
		*out = NULL;
	if (!c->ctx)
		return rd_fail(c->err, OSB_EBACKEND, "Redis connection to %s already closed", c->where);
	if (left <= 0)
		return rd_fail(c->err, OSB_ETIMEOUT, "no time left for %s on Redis at %s", argv[0], c->where);
	if (redisSetTimeout(c->ctx, rd_tv(left)) != REDIS_OK)
		return rd_io_fail(c, argv[0]);
	r = redisCommandArgv(c->ctx, argc, argv, lens);
	if (!r)
		return rd_io_fail(c, argv[0]);
	if (r->type == REDIS_REPLY_ERROR) {
		const char *text = r->str ? r->str : "";

		if (secret && secret[0] && strstr(text, secret))
			text = "(error text withheld: it repeats a secret)";
		rd_fail(c->err, OSB_EBACKEND, "Redis at %s refused %s: %.300s", c->where, argv[0], text);
		freeReplyObject(r);
		return OSB_EBACKEND;
	}
	if (out)
		*out = r;
	else
		freeReplyObject(r);
	return 0;
}

/* rd_cmdv for NULL-terminated C-string arguments. */
static int rd_cmd(struct rd_conn *c, redisReply **out, const char *secret, const char *const *args)
{
	size_t lens[RD_MAX_ARGS];
	int n;

	for (n = 0; args[n]; n++) {
		if (n == RD_MAX_ARGS)
			return rd_fail(c->err, OSB_ERROR, "too many arguments for %s", args[0]);
		lens[n] = strlen(args[n]);
	}
	return rd_cmdv(c, out, n, (const char **)args, lens, secret);
}

/* Connect, authenticate and check the server is Redis 7 or newer (its ACL rules are what isolation rests on). */
static int rd_open(struct rd_conn *c, const char *host, int port, const char *user, const char *password,
		   int timeout_ms, struct rd_err *err)
{
	redisReply *r = NULL;
	const char *v;
	int rc;

	c->ctx = NULL;
	c->err = err;
	c->deadline = rd_now_ms() + timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	c->ctx = redisConnectWithTimeout(host, port, rd_tv(timeout_ms));
	if (!c->ctx)
		return rd_fail(err, OSB_ENOMEM, "out of memory connecting to Redis");
	if (c->ctx->err) {
		rc = rd_fail(err, OSB_EBACKEND, "cannot connect to Redis at %s: %s", c->where, c->ctx->errstr);
		rd_close(c);
		return rc;
	}
	/* AUTH user password: a refusal keeps Redis's reason (WRONGPASS...), never the password. */
	if ((rc = rd_cmd(c, NULL, password, (const char *const[]){ "AUTH", user, password, NULL })) < 0)
		return rc;
	if ((rc = rd_cmd(c, &r, NULL, (const char *const[]){ "INFO", "server", NULL })) < 0)
		return rc;
	v = r->type == REDIS_REPLY_STRING && r->str ? strstr(r->str, "redis_version:") : NULL;
	if (!v || atoi(v + strlen("redis_version:")) < 7) {
		rc = rd_fail(err, OSB_EBACKEND, "Redis at %s is older than 7.0: its ACLs cannot confine a tenant",
			     c->where);
		goto done;
	}
done:
	freeReplyObject(r);
	return rc;
}

static int rd_open_admin(struct rd_conn *c, const struct rd_state *st, int timeout_ms, struct rd_err *err)
{
	return rd_open(c, st->host, st->port, st->admin_user, st->admin_password, timeout_ms, err);
}

/*
 * Persist the users to the server's ACL file. A server without one keeps users
 * in memory only (they vanish on restart): say so once and go on.
 */
static int rd_acl_save(struct rd_conn *c, struct rd_state *st)
{
	int rc = rd_cmd(c, NULL, NULL, (const char *const[]){ "ACL", "SAVE", NULL });

	if (rc == OSB_EBACKEND && c->ctx && strstr(c->err->msg, "not configured to use an ACL file")) {
		if (atomic_exchange(&st->no_aclfile_logged, 1) == 0)
			osb_log(OSB_LOG_WARN, "redis.no_aclfile",
				"Redis at %s has no aclfile: ACL SAVE skipped, users last until the server restarts",
				c->where);
		return 0;
	}
	return rc;
}

static int rd_del_user(struct rd_conn *c, const char *user)
{
	/* DELUSER also closes the user's connections, subscribers included. */
	return rd_cmd(c, NULL, NULL, (const char *const[]){ "ACL", "DELUSER", user, NULL });
}

/*
 * Call fn(user, payload) for each broker-made ACL user; with `prefix`, only those
 * whose key pattern is exactly `~<prefix>:*` (the binding users of that instance).
 * Reads ACL LIST, whose lines are "user <name> <rules...>".
 */
static int rd_for_users(struct rd_conn *c, const char *prefix, int (*fn)(const char *user, const char *instance,
									   void *payload), void *payload)
{
	redisReply *r = NULL;
	char want[OSB_NAME_SIZE + 8] = "";
	size_t i;
	int rc;

	if (prefix)
		snprintf(want, sizeof(want), "~%s:*", prefix);
	if ((rc = rd_cmd(c, &r, NULL, (const char *const[]){ "ACL", "LIST", NULL })) < 0)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = rd_fail(c->err, OSB_EBACKEND, "Redis at %s: unexpected ACL LIST reply", c->where);
		goto done;
	}
	for (i = 0; i < r->elements && rc == 0; i++) {
		const redisReply *e = r->element[i];
		char user[OSB_NAME_SIZE], instance[OSB_NAME_SIZE] = "";
		const char *p, *q;
		int match = !prefix;

		if (e->type != REDIS_REPLY_STRING || !e->str || strncmp(e->str, "user ", 5) != 0)
			continue;
		p = e->str + 5;
		q = strchr(p, ' ');
		if (!q || !rd_is_hex_name(p, (size_t)(q - p)))
			continue;
		memcpy(user, p, OSB_NAME_SIZE - 1);
		user[OSB_NAME_SIZE - 1] = '\0';
		/* Walk the rules for the key pattern of a shared binding: ~osb_<hex>:* */
		for (p = q; *p; p = q) {
			size_t len;

			while (*p == ' ')
				p++;
			q = strchr(p, ' ');
			if (!q)
				q = p + strlen(p);
			len = (size_t)(q - p);
			if (len == OSB_NAME_SIZE + 2 && p[0] == '~' && p[len - 2] == ':' && p[len - 1] == '*' &&
			    rd_is_hex_name(p + 1, OSB_NAME_SIZE - 1)) {
				memcpy(instance, p + 1, OSB_NAME_SIZE - 1);
				instance[OSB_NAME_SIZE - 1] = '\0';
				if (prefix && strcmp(instance, prefix) == 0)
					match = 1;
			}
		}
		if (match)
			rc = fn(user, instance, payload);
	}
done:
	freeReplyObject(r);
	return rc;
}

/*
 * SCAN the keyspace for keys matching `pattern` and call fn on each batch (the
 * reply's key array). SCAN never blocks the server the way KEYS does.
 */
static int rd_scan(struct rd_conn *c, const char *pattern, int (*fn)(struct rd_conn *c, const redisReply *keys,
								       void *payload), void *payload)
{
	char cursor[32] = "0";
	int rc = 0;

	do {
		redisReply *r = NULL;
		const redisReply *next, *keys;

		rc = rd_cmd(c, &r, NULL,
			    (const char *const[]){ "SCAN", cursor, "MATCH", pattern, "COUNT", RD_SCAN_COUNT, NULL });
		if (rc < 0)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[0]->len >= sizeof(cursor)) {
			freeReplyObject(r);
			return rd_fail(c->err, OSB_EBACKEND, "Redis at %s: unexpected SCAN reply", c->where);
		}
		next = r->element[0];
		keys = r->element[1];
		memcpy(cursor, next->str, next->len);
		cursor[next->len] = '\0';
		if (keys->elements > 0)
			rc = fn(c, keys, payload);
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	return rc;
}

/* UNLINK one SCAN batch: keys are binary, so pass their lengths. */
static int rd_unlink_batch(struct rd_conn *c, const redisReply *keys, void *payload)
{
	const char **argv = NULL;
	size_t *lens = NULL, i, n = keys->elements + 1;
	long long *removed = payload;
	redisReply *r = NULL;
	int rc;

	if (n > INT_MAX)
		return rd_fail(c->err, OSB_ERROR, "SCAN batch too large");
	argv = calloc(n, sizeof(*argv));
	lens = calloc(n, sizeof(*lens));
	if (!argv || !lens) {
		rc = rd_fail(c->err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	argv[0] = "UNLINK";
	lens[0] = 6;
	for (i = 0; i < keys->elements; i++) {
		if (keys->element[i]->type != REDIS_REPLY_STRING) {
			rc = rd_fail(c->err, OSB_EBACKEND, "Redis at %s: unexpected key in a SCAN reply", c->where);
			goto done;
		}
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	if ((rc = rd_cmdv(c, &r, (int)n, argv, lens, NULL)) < 0)
		goto done;
	if (r->type == REDIS_REPLY_INTEGER)
		*removed += r->integer;
done:
	freeReplyObject(r);
	free(argv);
	free(lens);
	return rc;
}

static int rd_del_user_cb(const char *user, const char *instance, void *payload)
{
	(void)instance;
	return rd_del_user(payload, user);
}

/* Remove an instance of a shared plan: its binding users first (no new writes), then its keys. */
static int rd_drop_shared(struct rd_conn *c, struct rd_state *st, const char *prefix, long long *removed)
{
	char pattern[OSB_NAME_SIZE + 4];
	int rc;

	*removed = 0;
	if ((rc = rd_for_users(c, prefix, rd_del_user_cb, c)) < 0)
		return rc;
	if ((rc = rd_acl_save(c, st)) < 0)
		return rc;
	snprintf(pattern, sizeof(pattern), "%s:*", prefix);
	return rd_scan(c, pattern, rd_unlink_batch, removed);
}

/* -- instances ------------------------------------------------------------ */

static int rd_set_instance_state(osb_request *req, const char *prefix, struct rd_err *err)
{
	cJSON *saved = cJSON_CreateObject();
	char key_prefix[OSB_NAME_SIZE + 1];
	int rc;

	snprintf(key_prefix, sizeof(key_prefix), "%s:", prefix);
	if (!saved || !cJSON_AddStringToObject(saved, "mode", "shared") ||
	    !cJSON_AddStringToObject(saved, "key_prefix", key_prefix)) {
		cJSON_Delete(saved);
		return rd_fail(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_instance_state(req, saved)) < 0)
		return rd_fail(err, rc, "cannot save instance state");
	return 0;
}

static int redis_provision(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	char prefix[OSB_NAME_SIZE];
	int rc;

	/*
	 * A shared instance is only a key prefix: nothing to create until a
	 * binding writes. Connecting checks the server is there and new enough.
	 */
	osb_name_instance(prefix, osb_request_instance_id(req));
	if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL })) < 0)
		goto done;
	if ((rc = rd_set_instance_state(req, prefix, &err)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "redis.provisioned", "key prefix %s: ready on %s", prefix, c.where);
done:
	rd_close(&c);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int redis_update(osb_request *req, void *state)
{
	(void)state;
	/* Shared plans differ in nothing Redis can enforce per tenant; a same-plan update has nothing to apply. */
	if (strcmp(osb_request_plan_id(req), osb_request_previous_plan_id(req)) != 0)
		return osb_req_fail(req, OSB_EUNSUPPORTED,
				    "a shared Redis instance cannot change plan: its keys would have to move");
	return 0;
}

static int redis_deprovision(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	char prefix[OSB_NAME_SIZE];
	long long removed = 0;
	int rc;

	osb_name_instance(prefix, osb_request_instance_id(req));
	if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_drop_shared(&c, st, prefix, &removed)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "redis.deprovisioned", "key prefix %s: %lld keys and its users removed", prefix, removed);
done:
	rd_close(&c);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- bindings ------------------------------------------------------------- */

/* Percent-encode everything but RFC 3986 unreserved characters, into the request's arena. */
static char *rd_urlencode(osb_request *req, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = osb_req_alloc(req, strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

static int rd_set_credentials(osb_request *req, const char *host, int port, const char *user,
			      const char *password, const char *key_prefix, struct rd_err *err)
{
	/* An IPv6 address needs brackets inside a URL. */
	const char *url_host = strchr(host, ':') ? osb_req_sprintf(req, "[%s]", host) : host;
	char *euser = rd_urlencode(req, user), *epass = rd_urlencode(req, password);
	char *uri = NULL, ports[8];
	cJSON *cred = NULL;
	int rc;

	if (url_host && euser && epass)
		uri = osb_req_sprintf(req, "redis://%s:%s@%s:%d", euser, epass, url_host, port);
	cred = cJSON_CreateObject();
	if (!uri || !cred ||
	    !cJSON_AddStringToObject(cred, "host", host) ||
	    !cJSON_AddStringToObject(cred, "hostname", host) ||
	    !cJSON_AddNumberToObject(cred, "port", port) ||
	    !cJSON_AddStringToObject(cred, "username", user) ||
	    !cJSON_AddStringToObject(cred, "password", password) ||
	    (key_prefix && !cJSON_AddStringToObject(cred, "key_prefix", key_prefix)) ||
	    !cJSON_AddStringToObject(cred, "uri", uri)) {
		cJSON_Delete(cred);
		return rd_fail(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_credentials(req, cred)) < 0)
		return rd_fail(err, rc, "cannot store credentials");
	snprintf(ports, sizeof(ports), "%d", port);
	if ((rc = osb_request_add_endpoint(req, host, ports, "tcp")) < 0)
		return rd_fail(err, rc, "cannot store endpoint");
	return 0;
}

static int rd_read_only(const osb_request *req)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only");

	return cJSON_IsTrue(ro);
}

/*
 * ACL SETUSER <user> reset on ><password> <keys> <channels> <rules...> [-@write].
 * `reset` first makes a repeated bind (a retry) converge on this attempt's password and rules.
 */
static int rd_set_user(struct rd_conn *c, const char *user, const char *password, const char *keys,
		       const char *channels, const char *const *rules, size_t nrules, int read_only)
{
	const char *argv[RD_MAX_ARGS + 1];
	char pass_rule[OSB_SECRET_DEFAULT_LEN + 2];
	size_t i, n = 0;
	int rc;

	if (nrules + 9 > RD_MAX_ARGS)
		return rd_fail(c->err, OSB_ERROR, "too many ACL rules");
	snprintf(pass_rule, sizeof(pass_rule), ">%s", password);
	argv[n++] = "ACL";
	argv[n++] = "SETUSER";
	argv[n++] = user;
	argv[n++] = "reset";
	argv[n++] = "on";
	argv[n++] = pass_rule;
	argv[n++] = keys;
	argv[n++] = channels;
	for (i = 0; i < nrules; i++)
		argv[n++] = rules[i];
	if (read_only)
		argv[n++] = "-@write";
	argv[n] = NULL;
	rc = rd_cmd(c, NULL, password, argv);
	explicit_bzero(pass_rule, sizeof(pass_rule));
	return rc;
}

static int redis_bind(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	char prefix[OSB_NAME_SIZE], user[OSB_NAME_SIZE], password[OSB_SECRET_DEFAULT_LEN + 1] = "";
	char keys[OSB_NAME_SIZE + 4], channels[OSB_NAME_SIZE + 4], key_prefix[OSB_NAME_SIZE + 1];
	int rc, read_only = rd_read_only(req);
	cJSON *saved = NULL;

	osb_name_instance(prefix, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	snprintf(keys, sizeof(keys), "~%s:*", prefix);
	snprintf(channels, sizeof(channels), "&%s:*", prefix);
	snprintf(key_prefix, sizeof(key_prefix), "%s:", prefix);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = rd_fail(&err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_set_user(&c, user, password, keys, channels, rd_shared_rules,
			      sizeof(rd_shared_rules) / sizeof(rd_shared_rules[0]), read_only)) < 0)
		goto done;
	if ((rc = rd_acl_save(&c, st)) < 0)
		goto done;
	if ((rc = rd_set_credentials(req, st->public_host, st->port, user, password, key_prefix, &err)) < 0)
		goto done;
	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "username", user) ||
	    !cJSON_AddStringToObject(saved, "key_prefix", key_prefix) ||
	    !cJSON_AddBoolToObject(saved, "read_only", read_only)) {
		cJSON_Delete(saved);
		rc = rd_fail(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_binding_state(req, saved)) < 0) {
		rd_fail(&err, rc, "cannot save binding state");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "redis.bound", "ACL user %s confined to %s:*%s", user, prefix,
		read_only ? " (read-only)" : "");
done:
	explicit_bzero(password, sizeof(password));
	rd_close(&c);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int redis_unbind(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	char user[OSB_NAME_SIZE];
	int rc;

	osb_name_binding(user, osb_request_binding_id(req));
	if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_del_user(&c, user)) < 0)
		goto done;
	if ((rc = rd_acl_save(&c, st)) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "redis.unbound", "ACL user %s deleted, its connections closed", user);
done:
	rd_close(&c);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

/* -- health and reconciliation -------------------------------------------- */

static int redis_health(void *state, char *msg, size_t msg_size)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	int rc;

	if ((rc = rd_open_admin(&c, st, RD_HEALTH_TIMEOUT_MS, &err)) < 0)
		goto done;
	rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL });
done:
	rd_close(&c);
	if (rc < 0) {
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s", err.msg);
		return OSB_EBACKEND;
	}
	return 0;
}

static int rd_names_add(struct rd_names *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *p = realloc(s->v, cap * sizeof(*s->v));

		if (!p)
			return OSB_ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	memcpy(s->v[s->n++], name, OSB_NAME_SIZE);
	return 0;
}

struct rd_listing {
	struct rd_names instances;
	struct rd_names bindings;
};

static int rd_list_user(const char *user, const char *instance, void *payload)
{
	struct rd_listing *l = payload;
	int rc = rd_names_add(&l->bindings, user);

	if (rc == 0 && instance[0])
		rc = rd_names_add(&l->instances, instance);
	return rc;
}

/* Keys named osb_<hex>:... belong to an instance's prefix. */
static int rd_list_keys(struct rd_conn *c, const redisReply *keys, void *payload)
{
	struct rd_listing *l = payload;
	char name[OSB_NAME_SIZE];
	size_t i;
	int rc = 0;

	(void)c;
	for (i = 0; i < keys->elements && rc == 0; i++) {
		const redisReply *k = keys->element[i];

		if (k->type != REDIS_REPLY_STRING || k->len < OSB_NAME_SIZE || k->str[OSB_NAME_SIZE - 1] != ':' ||
		    !rd_is_hex_name(k->str, OSB_NAME_SIZE - 1))
			continue;
		memcpy(name, k->str, OSB_NAME_SIZE - 1);
		name[OSB_NAME_SIZE - 1] = '\0';
		rc = rd_names_add(&l->instances, name);
	}
	return rc;
}

/*
 * Tenants on the shared server: ACL users named osb_<hex> are bindings, and the
 * prefix in their `~osb_<hex>:*` pattern is an instance; a full SCAN MATCH
 * osb_*:* adds prefixes that have keys but no user left. Names are gathered
 * first and reported after the connection is closed, so a purge from the
 * callback runs on its own connection.
 */
static int redis_list(void *state, osb_tenant_cb cb, void *payload)
{
	struct rd_state *st = state;
	struct rd_listing l = { { 0 }, { 0 } };
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	size_t i;
	int rc, stop = 0;

	if ((rc = rd_open_admin(&c, st, RD_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	if ((rc = rd_for_users(&c, NULL, rd_list_user, &l)) < 0)
		goto done;
	if ((rc = rd_scan(&c, "osb_*:*", rd_list_keys, &l)) < 0)
		goto done;
	rd_close(&c);
	for (i = 0; i < l.instances.n && !stop; i++)
		stop = cb(OSB_TENANT_INSTANCE, l.instances.v[i], payload);
	for (i = 0; i < l.bindings.n && !stop; i++)
		stop = cb(OSB_TENANT_BINDING, l.bindings.v[i], payload);
done:
	rd_close(&c);
	free(l.instances.v);
	free(l.bindings.v);
	if (rc == OSB_ENOMEM && !err.msg[0])
		rd_fail(&err, rc, "out of memory");
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "redis.list_failed", "%s", err.msg);
	return rc;
}

static int redis_purge(void *state, osb_tenant_kind kind, const char *name)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	struct rd_err err = { 0 };
	long long removed = 0;
	int rc;

	if (!rd_is_osb_name(name)) {
		rc = rd_fail(&err, OSB_EBADREQUEST, "refusing to purge \"%.64s\": not a broker-made name",
			     name ? name : "");
		goto done;
	}
	if ((rc = rd_open_admin(&c, st, RD_RECONCILE_TIMEOUT_MS, &err)) < 0)
		goto done;
	if (kind == OSB_TENANT_INSTANCE) {
		rc = rd_drop_shared(&c, st, name, &removed);
	} else {
		if ((rc = rd_del_user(&c, name)) == 0)
			rc = rd_acl_save(&c, st);
	}
done:
	rd_close(&c);
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "redis.purge_failed", "%s", err.msg);
	else
		osb_log(OSB_LOG_INFO, "redis.purged", "%s %s removed",
			kind == OSB_TENANT_INSTANCE ? "key prefix" : "ACL user", name);
	return rc;
}

/* -- configuration -------------------------------------------------------- */

static void rd_state_free(struct rd_state *st)
{
	if (!st)
		return;
	if (st->admin_password) {
		explicit_bzero(st->admin_password, strlen(st->admin_password));
		free(st->admin_password);
	}
	free(st->host);
	free(st->admin_user);
	free(st->public_host);
	free(st);
}

/* Read an optional non-empty string key into *out (a copy), or copy `fallback`. */
static int rd_config_string(char **out, const cJSON *config, const char *key, const char *fallback)
{
	const cJSON *item = config ? cJSON_GetObjectItemCaseSensitive(config, key) : NULL;
	const char *value = fallback;

	if (item) {
		if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
			osb_log(OSB_LOG_ERROR, "redis.config", "driver.%s must be a non-empty string", key);
			return OSB_EBADREQUEST;
		}
		value = item->valuestring;
	}
	if (!value) {
		osb_log(OSB_LOG_ERROR, "redis.config", "driver.%s is required", key);
		return OSB_EBADREQUEST;
	}
	*out = strdup(value);
	return *out ? 0 : OSB_ENOMEM;
}

/* A TCP port as a number, or as a string (environment overrides of absent keys arrive as strings). */
static int rd_config_port(int *out, const cJSON *config, const char *key, int fallback)
{
	const cJSON *item = config ? cJSON_GetObjectItemCaseSensitive(config, key) : NULL;
	long port = fallback;
	char *end = NULL;

	if (cJSON_IsNumber(item)) {
		port = item->valuedouble == (double)item->valueint ? item->valueint : -1;
	} else if (cJSON_IsString(item)) {
		errno = 0;
		port = strtol(item->valuestring, &end, 10);
		if (errno || end == item->valuestring || *end)
			port = -1;
	} else if (item) {
		port = -1;
	}
	if (port < 1 || port > 65535) {
		osb_log(OSB_LOG_ERROR, "redis.config", "driver.%s must be a TCP port number (1-65535)", key);
		return OSB_EBADREQUEST;
	}
	*out = (int)port;
	return 0;
}

/* A user name for AUTH: printable, no spaces (it is also shown in logs). */
static int rd_check_user(const char *user)
{
	const unsigned char *p;

	for (p = (const unsigned char *)user; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -1;
	return 0;
}

static int redis_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char *const known[] = {
		"host", "port", "admin_user", "admin_password", "public_host",
	};
	struct rd_state *st = NULL;
	const cJSON *item;
	size_t i;
	int rc = 0;

	(void)broker;
	*state = NULL;
	if (config && !cJSON_IsObject(config)) {
		osb_log(OSB_LOG_ERROR, "redis.config", "driver must be an object");
		return OSB_EBADREQUEST;
	}
	cJSON_ArrayForEach(item, config) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (item->string && strcmp(item->string, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			osb_log(OSB_LOG_ERROR, "redis.config", "driver.%.64s is not a known key",
				item->string ? item->string : "");
			return OSB_EBADREQUEST;
		}
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return OSB_ENOMEM;
	atomic_init(&st->no_aclfile_logged, 0);
	if ((rc = rd_config_string(&st->host, config, "host", "127.0.0.1")) < 0 ||
	    (rc = rd_config_port(&st->port, config, "port", 6379)) < 0 ||
	    (rc = rd_config_string(&st->admin_user, config, "admin_user", "default")) < 0 ||
	    (rc = rd_config_string(&st->admin_password, config, "admin_password", NULL)) < 0 ||
	    (rc = rd_config_string(&st->public_host, config, "public_host", st->host)) < 0)
		goto done;
	if (rd_check_user(st->admin_user) < 0) {
		osb_log(OSB_LOG_ERROR, "redis.config", "driver.admin_user must be printable ASCII without spaces");
		rc = OSB_EBADREQUEST;
		goto done;
	}
	/* No connection here: the broker starts while the server is down and reports unready. */
	osb_log(OSB_LOG_INFO, "redis.config", "Redis at %s:%d as %s", st->host, st->port, st->admin_user);
	*state = st;
	st = NULL;
done:
	rd_state_free(st);
	return rc;
}

static void redis_shutdown(void *state)
{
	rd_state_free(state);
}

static const struct osb_driver redis_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "redis",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION,
	.init = redis_init,
	.shutdown = redis_shutdown,
	.provision = redis_provision,
	.deprovision = redis_deprovision,
	.update = redis_update,
	.bind = redis_bind,
	.unbind = redis_unbind,
	.health = redis_health,
	.list = redis_list,
	.purge = redis_purge,
};

const struct osb_driver *osb_redis_driver(void)
{
	return &redis_driver;
}
