/* Redis driver: an instance is a key prefix on a shared server (or a server of its own), a binding an ACL user. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include <osb.h>

/* Keys asked for per SCAN step and removed per UNLINK. */
#define RD_SCAN_COUNT "1000"
#define RD_MAX_ARGS 64
/* A dedicated server's files besides what Redis writes itself. */
#define RD_CONF_FILE "redis.conf"
#define RD_ACL_FILE "users.acl"
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define RD_READY_TIMEOUT_MS 500

/*
 * What a binding may do on a shared server, after `~prefix:*` and `&prefix:*`
 * confine its keys and channels. Redis checks key and channel names itself, so
 * this list takes away what ignores them: commands that see or change the whole
 * keyspace or server, other databases (out of the prefix's reach and of the SCAN
 * that deprovision runs), and server-wide lists of channels, clients, scripts
 * and functions. Order matters: Redis applies the rules left to right.
 */
static const char *const rd_shared_rules[] = {
	"+@all",
	"-@dangerous",
	"-@admin",
	/* the whole keyspace: KEYS/SCAN/RANDOMKEY ignore key patterns, DBSIZE and INFO leak counts */
	"-keys",
	"-scan",
	"-randomkey",
	"-dbsize",
	"-info",
	"-flushdb",
	"-flushall",
	"-swapdb",
	/* other databases */
	"-select",
	"-move",
	"-copy",
	/* the server itself (all in @dangerous already; listed so a renamed category cannot let them through) */
	"-config",
	"-debug",
	"-monitor",
	"-shutdown",
	"-migrate",
	"-restore",
	"-module",
	"-acl",
	"+acl|whoami",
	"+acl|cat",
	"+acl|genpass",
	/* every tenant's channels (PUBSUB CHANNELS/NUMSUB/SHARDCHANNELS) */
	"-pubsub",
	/* other clients, and key tracking that would report other tenants' key names */
	"-client",
	"+client|id",
	"+client|info",
	"+client|setname",
	"+client|getname",
	"+client|reply",
	/* server-wide script and function registries */
	"-function",
	"-fcall",
	"-fcall_ro",
	"-script|flush",
	"-script|kill",
	"-memory",
	"+memory|usage",
	"-cluster|getkeysinslot",
	"-cluster|countkeysinslot",
	/* Redis 7 refuses SORT's BY and GET unless the user may read every key, so plain SORT is safe */
	"+sort",
	"+sort_ro",
};

/*
 * What a binding may do on a dedicated server: the whole keyspace is its
 * instance's, so KEYS, SCAN, FLUSHDB, INFO and other databases are fine; the
 * server's configuration, files, replication and users stay the broker's.
 */
static const char *const rd_dedicated_rules[] = {
	"+@all",        "-@dangerous",  "-@admin",         "+keys",    "+flushdb",     "+flushall",
	"+swapdb",      "+info",        "+sort",           "+sort_ro", "+client|list", "+client|kill",
	"+slowlog|get", "+slowlog|len", "+latency|latest", "-config",  "-debug",       "-monitor",
	"-shutdown",    "-module",      "-replicaof",      "-slaveof", "-migrate",     "-failover",
	"-save",        "-bgsave",      "-bgrewriteaof",   "-acl",     "+acl|whoami",  "+acl|cat",
	"+acl|genpass",
};

#define RD_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The driver's state: only the log-once flag, so callbacks share it without locks. */
struct rd_state {
	atomic_int no_aclfile_logged; /* the "no aclfile, ACL SAVE skipped" warning was logged */
};

/* One admin connection with the deadline of the callback that opened it. */
struct rd_conn {
	redisContext *ctx;
	int64_t deadline; /* osb_clock_ms() */
	osb_errbuf *err;
	char where[80]; /* "127.0.0.1:6379", for messages */
	int version;    /* the server's major * 100 + minor, such as 700 */
};

static struct timeval rd_tv(int ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };
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
	int rc;

	if (timed_out || osb_clock_ms() >= c->deadline)
		rc = osb_errbuf_set(c->err, OSB_ETIMEOUT, "Redis at %s did not answer %s in time", c->where, what);
	else
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: %s failed: %s", c->where, what, why);
	rd_close(c);
	return rc;
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

	if (out)
		*out = NULL;
	if (!c->ctx)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "Redis connection to %s already closed", c->where);
	if (osb_clock_ms() >= c->deadline)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "no time left for %s on Redis at %s", argv[0], c->where);
	if (redisSetTimeout(c->ctx, rd_tv(osb_ms_left(c->deadline))) != REDIS_OK)
		return rd_io_fail(c, argv[0]);
	if (!(r = redisCommandArgv(c->ctx, argc, argv, lens)))
		return rd_io_fail(c, argv[0]);
	if (r->type == REDIS_REPLY_ERROR) {
		const char *text = r->str ? r->str : "";

		if (secret && secret[0] && strstr(text, secret))
			text = "(error text withheld: it repeats a secret)";
		osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s refused %s: %.300s", c->where, argv[0], text);
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
			return osb_errbuf_set(c->err, OSB_ERROR, "too many arguments for %s", args[0]);
		lens[n] = strlen(args[n]);
	}
	return rd_cmdv(c, out, n, (const char **)args, lens, secret);
}

/* Connect to the target as its admin and check it is Redis 7 or newer (its ACL rules are what isolation rests on). */
static int rd_open(struct rd_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	redisReply *r = NULL;
	const char *v;
	int rc;

	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host, t->port);
	if (!(c->ctx = redisConnectWithTimeout(t->host, t->port, rd_tv(timeout_ms))))
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory connecting to Redis");
	if (c->ctx->err) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "cannot connect to Redis at %s: %s", c->where, c->ctx->errstr);
		rd_close(c);
		return rc;
	}
	/* AUTH user password: a refusal keeps Redis's reason (WRONGPASS...), never the password. */
	if ((rc = rd_cmd(c, NULL, t->admin_password,
			 (const char *const[]){ "AUTH", t->admin_user, t->admin_password, NULL })) < 0 ||
	    (rc = rd_cmd(c, &r, NULL, (const char *const[]){ "INFO", "server", NULL })) < 0)
		return rc;
	v = r->type == REDIS_REPLY_STRING && r->str ? strstr(r->str, "redis_version:") : NULL;
	if (v) {
		const char *minor = strchr(v, '.');
		c->version = atoi(v + strlen("redis_version:")) * 100 + (minor ? atoi(minor + 1) : 0);
	}
	if (!v || c->version < 700)
		rc = osb_errbuf_set(err, OSB_EBACKEND,
				    "Redis at %s is older than 7.0: its ACLs cannot confine a tenant", c->where);
	freeReplyObject(r);
	return rc;
}

static int rd_open_req(struct rd_conn *c, osb_request *req)
{
	return rd_open(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
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

/* DELUSER also closes the user's connections, subscribers included; then the file forgets it. */
static int rd_drop_user(struct rd_conn *c, struct rd_state *st, const char *user)
{
	int rc = rd_cmd(c, NULL, NULL, (const char *const[]){ "ACL", "DELUSER", user, NULL });
	return rc < 0 ? rc : rd_acl_save(c, st);
}

/*
 * Call fn(user, instance, payload) for each broker-made ACL user, `instance`
 * being the prefix of its `~osb_<hex>:*` key pattern ("" when it has none);
 * with `prefix`, only the users of that instance. Reads ACL LIST, whose lines
 * are "user <name> <rules...>".
 */
static int rd_for_users(struct rd_conn *c, const char *prefix,
			int (*fn)(const char *user, const char *instance, void *payload), void *payload)
{
	redisReply *r = NULL;
	size_t i;
	int rc;

	if ((rc = rd_cmd(c, &r, NULL, (const char *const[]){ "ACL", "LIST", NULL })) < 0)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY)
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected ACL LIST reply", c->where);
	for (i = 0; rc == 0 && i < r->elements; i++) {
		const redisReply *e = r->element[i];
		char user[OSB_NAME_SIZE], instance[OSB_NAME_SIZE] = "";
		const char *p, *q;

		if (e->type != REDIS_REPLY_STRING || !e->str || strncmp(e->str, "user ", 5) != 0)
			continue;
		p = e->str + 5;
		q = strchr(p, ' ');
		if (!q || !osb_name_is_derived_n(p, (size_t)(q - p)))
			continue;
		snprintf(user, sizeof(user), "%.*s", (int)(q - p), p);
		/* The key pattern of a shared binding: ~osb_<hex>:* */
		for (p = q; *p; p = q) {
			while (*p == ' ')
				p++;
			q = p + strcspn(p, " ");
			if ((size_t)(q - p) == OSB_NAME_SIZE + 2 && p[0] == '~' && q[-2] == ':' && q[-1] == '*' &&
			    osb_name_is_derived_n(p + 1, OSB_NAME_SIZE - 1))
				snprintf(instance, sizeof(instance), "%.*s", OSB_NAME_SIZE - 1, p + 1);
		}
		if (!prefix || strcmp(instance, prefix) == 0)
			rc = fn(user, instance, payload);
	}
	freeReplyObject(r);
	return rc;
}

/* SCAN the keyspace for `pattern` and call fn on each batch; SCAN never blocks the server as KEYS does. */
static int rd_scan(struct rd_conn *c, const char *pattern,
		   int (*fn)(struct rd_conn *c, const redisReply *keys, void *payload), void *payload)
{
	char cursor[32] = "0";
	int rc = 0;

	do {
		redisReply *r = NULL;

		if ((rc = rd_cmd(c, &r, NULL,
				 (const char *const[]){ "SCAN", cursor, "MATCH", pattern, "COUNT", RD_SCAN_COUNT,
							NULL })) < 0)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[0]->len >= sizeof(cursor)) {
			freeReplyObject(r);
			return osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected SCAN reply", c->where);
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		if (r->element[1]->elements > 0)
			rc = fn(c, r->element[1], payload);
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	return rc;
}

/* UNLINK one SCAN batch: keys are binary, so pass their lengths. */
static int rd_unlink_batch(struct rd_conn *c, const redisReply *keys, void *payload)
{
	size_t i, n = keys->elements + 1;
	const char **argv = calloc(n, sizeof(*argv));
	size_t *lens = calloc(n, sizeof(*lens));
	redisReply *r = NULL;
	int rc = 0;

	if (!argv || !lens || n > INT_MAX)
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < keys->elements; i++) {
		if (keys->element[i]->type != REDIS_REPLY_STRING)
			rc = osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected key in a SCAN reply",
					    c->where);
		else {
			argv[i + 1] = keys->element[i]->str;
			lens[i + 1] = keys->element[i]->len;
		}
	}
	if (rc == 0) {
		argv[0] = "UNLINK";
		lens[0] = 6;
		if ((rc = rd_cmdv(c, &r, (int)n, argv, lens, NULL)) == 0 && r->type == REDIS_REPLY_INTEGER)
			*(long long *)payload += r->integer;
	}
	freeReplyObject(r);
	free(argv);
	free(lens);
	return rc;
}

struct rd_drop {
	struct rd_conn *c;
	struct rd_state *st;
};

static int rd_drop_user_cb(const char *user, const char *instance, void *payload)
{
	struct rd_drop *d = payload;
	(void)instance;
	return rd_drop_user(d->c, d->st, user);
}

/* Remove a shared instance: its binding users first (no new writes), then its keys. */
static int rd_drop_prefix(struct rd_conn *c, struct rd_state *st, const char *prefix, long long *removed)
{
	struct rd_drop d = { c, st };
	char pattern[OSB_NAME_SIZE + 4];
	int rc;

	*removed = 0;
	if ((rc = rd_for_users(c, prefix, rd_drop_user_cb, &d)) < 0)
		return rc;
	snprintf(pattern, sizeof(pattern), "%s:*", prefix);
	return rd_scan(c, pattern, rd_unlink_batch, removed);
}

/* -- dedicated servers ----------------------------------------------------- */

/* A setting that goes into redis.conf: only [a-z0-9-], so nothing can start a new directive. */
static int rd_plain(const char *s)
{
	return s && *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* The plan's memory and the policy that applies to this request (parameters, else the plan's, else noeviction). */
static int rd_memory_settings(osb_request *req, const char **maxmemory, const char **policy)
{
	const cJSON *settings = osb_request_plan_settings(req);
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(settings, "maxmemory");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "maxmemory_policy");

	if (!p)
		p = cJSON_GetObjectItemCaseSensitive(osb_request_instance_parameters(req), "maxmemory_policy");
	if (!p)
		p = cJSON_GetObjectItemCaseSensitive(settings, "maxmemory_policy");
	*maxmemory = cJSON_IsString(mem) ? mem->valuestring : NULL;
	*policy = cJSON_IsString(p) ? p->valuestring : "noeviction";
	if (!rd_plain(*maxmemory) || !rd_plain(*policy))
		return osb_req_fail(req, OSB_ERROR,
				    "the plan's x-osb.maxmemory (such as \"64mb\") and maxmemory_policy "
				    "must be plain Redis settings");
	return 0;
}

/*
 * Before the first start: an ACL file with the default user off and the
 * broker's admin (made once: it then carries the bindings ACL SAVE writes), and
 * redis.conf for the current port and plan. The broker reaches the server on
 * the dedicated host's address, and so do applications.
 */
static int rd_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	const char *maxmemory, *policy;
	osb_buf acl = OSB_BUF_INIT, conf = OSB_BUF_INIT;
	int rc;

	(void)state;
	if (strspn(t->dir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") != strlen(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	if ((rc = rd_memory_settings(req, &maxmemory, &policy)) < 0)
		return rc;
	osb_buf_printf(&acl, "user default off\nuser %s on >%s ~* &* +@all\n", t->admin_user, t->admin_password);
	osb_buf_printf(&conf,
		       "# Rendered by osb-redis-broker; maxmemory settings are rewritten by plan updates.\n"
		       "bind 127.0.0.1%s%s\nport %d\nprotected-mode yes\ndaemonize no\ndir %s\nlogfile \"\"\n"
		       "aclfile %s/" RD_ACL_FILE "\nsave \"\"\nappendonly yes\nappendfsync everysec\n"
		       "maxmemory %s\nmaxmemory-policy %s\nenable-debug-command no\nenable-module-command no\n"
		       "enable-protected-configs no\n",
		       strcmp(t->host, "127.0.0.1") ? " " : "", strcmp(t->host, "127.0.0.1") ? t->host : "", t->port,
		       t->dir, t->dir, maxmemory, policy);
	if (!osb_buf_text(&acl) || !osb_buf_text(&conf))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, RD_ACL_FILE, acl.data, acl.len, OSB_FILE_KEEP) != 0 ||
		 osb_file_write_private(t->dir, RD_CONF_FILE, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write the dedicated server's files in %s", t->dir);
	osb_buf_free(&acl);
	osb_buf_free(&conf);
	return rc;
}

static int rd_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct rd_conn c = { 0 };
	int rc;

	(void)state;
	if ((rc = rd_open(&c, t, RD_READY_TIMEOUT_MS, err)) == 0)
		rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL });
	rd_close(&c);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

static int redis_provision(osb_request *req, void *state)
{
	struct rd_conn c = { 0 };
	int rc;

	(void)state;
	/* A shared instance is only a key prefix: nothing to create until a binding writes. A dedicated
	 * server was started by the core. Either way, check the server is there and new enough. */
	if ((rc = rd_open_req(&c, req)) == 0 &&
	    (rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL })) == 0)
		osb_request_note(req, "ready on %s", c.where);
	rd_close(&c);
	return rc;
}

static int redis_update(osb_request *req, void *state)
{
	struct rd_conn c = { 0 };
	const char *maxmemory, *policy;
	int rc;

	(void)state;
	/* Shared plans differ in nothing Redis can enforce per tenant. */
	if (!osb_request_target(req)->dedicated)
		return 0;
	/* The new plan's memory and the policy, live, then into redis.conf for the next start. */
	if ((rc = rd_memory_settings(req, &maxmemory, &policy)) < 0 || (rc = rd_open_req(&c, req)) < 0 ||
	    (rc = rd_cmd(&c, NULL, NULL,
			 (const char *const[]){ "CONFIG", "SET", "maxmemory", maxmemory, "maxmemory-policy", policy,
						NULL })) < 0 ||
	    (rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "CONFIG", "REWRITE", NULL })) < 0)
		goto done;
	osb_request_note(req, "maxmemory %s, %s", maxmemory, policy);
done:
	rd_close(&c);
	return rc;
}

static int redis_deprovision(osb_request *req, void *state)
{
	struct rd_conn c = { 0 };
	long long removed = 0;
	int rc;

	if ((rc = rd_open_req(&c, req)) == 0 &&
	    (rc = rd_drop_prefix(&c, state, osb_request_instance_name(req), &removed)) == 0)
		osb_request_note(req, "%lld keys and the instance's users removed", removed);
	rd_close(&c);
	return rc;
}

/* -- bindings ------------------------------------------------------------- */

/*
 * ACL SETUSER <user> reset on ><password> <keys> <channels> <rules...> [-@write].
 * `reset` first makes a repeated bind (a retry) converge on this attempt's password and rules.
 */
static int rd_set_user(struct rd_conn *c, const char *user, const char *password, const char *keys,
		       const char *channels, int dedicated, int read_only)
{
	const char *const *rules = dedicated ? rd_dedicated_rules : rd_shared_rules;
	size_t i, n = 0, nrules = dedicated ? RD_COUNT(rd_dedicated_rules) : RD_COUNT(rd_shared_rules);
	const char *argv[RD_MAX_ARGS + 1];
	char pass_rule[OSB_SECRET_DEFAULT_LEN + 2];
	int rc;

	snprintf(pass_rule, sizeof(pass_rule), ">%s", password);
	argv[n++] = "ACL";
	argv[n++] = "SETUSER";
	argv[n++] = user;
	argv[n++] = "reset";
	argv[n++] = "on";
	argv[n++] = pass_rule;
	argv[n++] = keys;
	argv[n++] = channels;
	for (i = 0; i < nrules && n < RD_MAX_ARGS - 3; i++)
		argv[n++] = rules[i];
	/* Clients of Redis 7.2+ announce themselves with CLIENT SETINFO; 7.0 does not know it (nor the rule). */
	if (c->version >= 702) {
		argv[n++] = "+client|setinfo";
		argv[n++] = "+client|no-touch";
	}
	if (read_only)
		argv[n++] = "-@write";
	argv[n] = NULL;
	rc = rd_cmd(c, NULL, password, argv);
	explicit_bzero(pass_rule, sizeof(pass_rule));
	return rc;
}

static int redis_bind(osb_request *req, void *state)
{
	const char *user = osb_request_binding_name(req), *prefix = osb_request_instance_name(req);
	int dedicated = osb_request_target(req)->dedicated;
	int read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only"));
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", keys[OSB_NAME_SIZE + 4], channels[OSB_NAME_SIZE + 4];
	char key_prefix[OSB_NAME_SIZE + 1];
	struct rd_conn c = { 0 };
	cJSON *cred;
	int rc;

	/* On a dedicated server the whole keyspace is the instance's. */
	snprintf(keys, sizeof(keys), dedicated ? "~*" : "~%s:*", prefix);
	snprintf(channels, sizeof(channels), dedicated ? "&*" : "&%s:*", prefix);
	snprintf(key_prefix, sizeof(key_prefix), "%s:", prefix);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if ((rc = rd_open_req(&c, req)) < 0 ||
	    (rc = rd_set_user(&c, user, password, keys, channels, dedicated, read_only)) < 0 ||
	    (rc = rd_acl_save(&c, state)) < 0)
		goto done;
	cred = osb_credentials_new(
		req, &(osb_credentials_spec){ .scheme = "redis", .username = user, .password = password });
	if (cred && !dedicated && !cJSON_AddStringToObject(cred, "key_prefix", key_prefix)) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) < 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "username", user)) != 0 ||
	    (!dedicated && (rc = osb_request_save_binding_str(req, "key_prefix", key_prefix)) != 0) ||
	    (rc = osb_request_save_binding_bool(req, "read_only", read_only)) != 0)
		goto done;
	osb_request_note(req, "ACL user confined to %s%s", dedicated ? "its server" : key_prefix,
			 read_only ? " (read-only)" : "");
done:
	explicit_bzero(password, sizeof(password));
	rd_close(&c);
	return rc;
}

static int redis_unbind(osb_request *req, void *state)
{
	struct rd_conn c = { 0 };
	int rc;

	if ((rc = rd_open_req(&c, req)) == 0)
		rc = rd_drop_user(&c, state, osb_request_binding_name(req));
	rd_close(&c);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

static int redis_health(const osb_target *server, void *state, osb_errbuf *err)
{
	struct rd_conn c = { 0 };
	int rc;

	(void)state;
	if ((rc = rd_open(&c, server, OSB_HEALTH_TIMEOUT_MS, err)) == 0)
		rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL });
	rd_close(&c);
	return rc;
}

struct rd_listing {
	osb_tenant_cb cb;
	void *payload;
};

static int rd_list_user(const char *user, const char *instance, void *payload)
{
	struct rd_listing *l = payload;

	if (l->cb(OSB_TENANT_BINDING, user, l->payload))
		return 1;
	return instance[0] ? l->cb(OSB_TENANT_INSTANCE, instance, l->payload) : 0;
}

/* Keys named osb_<hex>:... belong to an instance's prefix. */
static int rd_list_keys(struct rd_conn *c, const redisReply *keys, void *payload)
{
	struct rd_listing *l = payload;
	char name[OSB_NAME_SIZE];
	size_t i;

	(void)c;
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type != REDIS_REPLY_STRING || k->len < OSB_NAME_SIZE || k->str[OSB_NAME_SIZE - 1] != ':' ||
		    !osb_name_is_derived_n(k->str, OSB_NAME_SIZE - 1))
			continue;
		snprintf(name, sizeof(name), "%.*s", OSB_NAME_SIZE - 1, k->str);
		if (l->cb(OSB_TENANT_INSTANCE, name, l->payload))
			return 1;
	}
	return 0;
}

/* ACL users named osb_<hex> are bindings and their key pattern's prefix an instance; prefixes with keys but no user too. */
static int redis_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct rd_listing l = { cb, payload };
	struct rd_conn c = { 0 };
	int rc;

	(void)state;
	if ((rc = rd_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0 &&
	    (rc = rd_for_users(&c, NULL, rd_list_user, &l)) == 0)
		rc = rd_scan(&c, "osb_*:*", rd_list_keys, &l);
	rd_close(&c);
	return rc > 0 ? 0 : rc;
}

static int redis_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct rd_conn c = { 0 };
	long long removed = 0;
	int rc;

	if ((rc = rd_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = kind == OSB_TENANT_INSTANCE ? rd_drop_prefix(&c, state, name, &removed)
						 : rd_drop_user(&c, state, name);
	rd_close(&c);
	return rc;
}

/* -- the driver ------------------------------------------------------------ */

static int redis_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct rd_state *st = calloc(1, sizeof(*st));

	(void)config;
	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	atomic_init(&st->no_aclfile_logged, 0);
	*state = st;
	return 0;
}

static void redis_shutdown(void *state)
{
	free(state);
}

static const osb_server_spec redis_server = { .default_port = 6379, .default_admin_user = "default" };

static const osb_dedicated_spec redis_dedicated = {
	.kind = "redis",
	.program_key = "redis_server",
	.program = "redis-server",
	.args = (const char *const[]){ "{dir}/" RD_CONF_FILE, NULL },
	.admin_user = "admin",
	.prepare = rd_prepare,
	.ready = rd_ready,
};

static const struct osb_driver redis_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "redis",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.server = &redis_server,
	.dedicated = &redis_dedicated,
	OSB_DRIVER_SLOTS(redis, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(redis, redis_driver);
