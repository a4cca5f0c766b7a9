/* Redis driver: an instance is a key prefix on a shared server, a binding an ACL user confined to it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <osb.h>
#include <osb/deployer.h>

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
	char *redis_server;      /* program of dedicated servers */
	char *dedicated_host;    /* IP address dedicated servers listen on (besides 127.0.0.1) and credentials name */
	const osb_broker *broker; /* for the deployer of dedicated plans */
	atomic_int no_aclfile_logged; /* the "no aclfile, ACL SAVE skipped" warning was logged */
};

/* One admin connection with the deadline of the callback that opened it. */
struct rd_conn {
	redisContext *ctx;
	long long deadline;      /* CLOCK_MONOTONIC milliseconds */
	osb_errbuf *err;
	char where[80];          /* "127.0.0.1:6379", for messages */
	int version;             /* the server's major * 100 + minor, such as 700 */
};

/* A set of broker-made names (reconciler). */
struct rd_names {
	char (*v)[OSB_NAME_SIZE];
	size_t n, cap;
};

/* Whether the `len` bytes at `s` (part of a key or a reply) are a name osb_name_instance()/osb_name_binding() make. */
static int rd_is_hex_name(const char *s, size_t len)
{
	char name[OSB_NAME_SIZE];

	if (len != OSB_NAME_SIZE - 1)
		return 0;
	memcpy(name, s, len);
	name[len] = '\0';
	return osb_name_is_derived(name);
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

	if (timed_out || osb_clock_ms() >= c->deadline) {
		rd_close(c);
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "Redis at %s did not answer %s in time", c->where, what);
	}
	osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: %s failed: %s", c->where, what, why);
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
	long long left = c->deadline - osb_clock_ms();

	if (out)
		*out = NULL;
	if (!c->ctx)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "Redis connection to %s already closed", c->where);
	if (left <= 0)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "no time left for %s on Redis at %s", argv[0], c->where);
	if (redisSetTimeout(c->ctx, rd_tv(left)) != REDIS_OK)
		return rd_io_fail(c, argv[0]);
	r = redisCommandArgv(c->ctx, argc, argv, lens);
	if (!r)
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

/* Connect, authenticate and check the server is Redis 7 or newer (its ACL rules are what isolation rests on). */
static int rd_open(struct rd_conn *c, const char *host, int port, const char *user, const char *password,
		   int timeout_ms, osb_errbuf *err)
{
	redisReply *r = NULL;
	const char *v;
	int rc;

	c->ctx = NULL;
	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	c->ctx = redisConnectWithTimeout(host, port, rd_tv(timeout_ms));
	if (!c->ctx)
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory connecting to Redis");
	if (c->ctx->err) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "cannot connect to Redis at %s: %s", c->where, c->ctx->errstr);
		rd_close(c);
		return rc;
	}
	/* AUTH user password: a refusal keeps Redis's reason (WRONGPASS...), never the password. */
	if ((rc = rd_cmd(c, NULL, password, (const char *const[]){ "AUTH", user, password, NULL })) < 0)
		return rc;
	if ((rc = rd_cmd(c, &r, NULL, (const char *const[]){ "INFO", "server", NULL })) < 0)
		return rc;
	v = r->type == REDIS_REPLY_STRING && r->str ? strstr(r->str, "redis_version:") : NULL;
	if (v) {
		const char *minor = strchr(v, '.');

		c->version = atoi(v + strlen("redis_version:")) * 100 + (minor ? atoi(minor + 1) : 0);
	}
	if (!v || c->version < 700) {
		rc = osb_errbuf_set(err, OSB_EBACKEND, "Redis at %s is older than 7.0: its ACLs cannot confine a tenant",
				    c->where);
		goto done;
	}
done:
	freeReplyObject(r);
	return rc;
}

static int rd_open_admin(struct rd_conn *c, const struct rd_state *st, int timeout_ms, osb_errbuf *err)
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
		rc = osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected ACL LIST reply", c->where);
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
			return osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected SCAN reply", c->where);
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
		return osb_errbuf_set(c->err, OSB_ERROR, "SCAN batch too large");
	argv = calloc(n, sizeof(*argv));
	lens = calloc(n, sizeof(*lens));
	if (!argv || !lens) {
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	argv[0] = "UNLINK";
	lens[0] = 6;
	for (i = 0; i < keys->elements; i++) {
		if (keys->element[i]->type != REDIS_REPLY_STRING) {
			rc = osb_errbuf_set(c->err, OSB_EBACKEND, "Redis at %s: unexpected key in a SCAN reply", c->where);
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

/* -- dedicated servers ----------------------------------------------------- */

/* Files of a dedicated server in its directory, besides what Redis writes itself. */
#define RD_CONF_FILE "redis.conf"
#define RD_ACL_FILE "users.acl"
#define RD_ADMIN_FILE "admin.pw"
/* The dedicated server's own admin user; its password lives only in RD_ADMIN_FILE (mode 0600). */
#define RD_DEDICATED_ADMIN "admin"
#define RD_READY_TIMEOUT_MS 500
#define RD_START_TIMEOUT_MS 30000

/*
 * What a binding may do on a dedicated server: the whole keyspace is its
 * instance's, so KEYS, SCAN, FLUSHDB, INFO and other databases are fine; the
 * server's configuration, files, replication and users stay the broker's.
 */
static const char *const rd_dedicated_rules[] = {
	"+@all", "-@dangerous", "-@admin",
	"+keys", "+flushdb", "+flushall", "+swapdb", "+info", "+sort", "+sort_ro",
	"+client|list", "+client|kill", "+slowlog|get", "+slowlog|len", "+latency|latest",
	"-config", "-debug", "-monitor", "-shutdown", "-module", "-replicaof", "-slaveof", "-migrate",
	"-failover", "-save", "-bgsave", "-bgrewriteaof",
	"-acl", "+acl|whoami", "+acl|cat", "+acl|genpass",
};

static const char *const rd_policies[] = {
	"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
};

/* Settings a dedicated server is rendered with: payload of prepare and ready. */
struct rd_dedicated {
	const struct rd_state *st;
	char maxmemory[24];      /* "64mb", from the plan's x-osb.maxmemory */
	char policy[24];         /* maxmemory-policy, from the parameters or the plan */
	const char *host;        /* address in credentials; the server binds it too when it is an IP */
};

/*
 * Whether the instance runs on a server of its own. The mode saved at
 * provision wins, so an update sees the instance's current kind, not the
 * target plan's; before any state is saved (a provision's rollback), the plan says.
 */
static int rd_is_dedicated(const osb_request *req)
{
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(osb_request_instance_state(req), "mode");

	if (cJSON_IsString(mode))
		return strcmp(mode->valuestring, "dedicated") == 0;
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_plan_settings(req), "dedicated"));
}

/* A Redis memory size as the config file takes it: 1-12 digits and kb, mb or gb. */
static int rd_valid_memory(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 12 || s[0] == '0')
		return 0;
	return strcmp(s + n, "kb") == 0 || strcmp(s + n, "mb") == 0 || strcmp(s + n, "gb") == 0;
}

static int rd_valid_policy(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(rd_policies) / sizeof(rd_policies[0]); i++)
		if (strcmp(s, rd_policies[i]) == 0)
			return 1;
	return 0;
}

/* A directory Redis's config file can name without quoting. */
static int rd_plain_path(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '/' || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* The address written into a dedicated server's credentials. */
static const char *rd_dedicated_host(const struct rd_state *st)
{
	return st->dedicated_host;
}

/* Fill the settings of a dedicated server from the plan and the parameters that apply to this request. */
static int rd_dedicated_settings(osb_request *req, const struct rd_state *st, struct rd_dedicated *d,
				 osb_errbuf *err)
{
	const cJSON *settings = osb_request_plan_settings(req);
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(settings, "maxmemory");
	const cJSON *params, *policy;
	osb_operation_kind op = osb_request_operation(req);

	memset(d, 0, sizeof(*d));
	d->st = st;
	d->host = rd_dedicated_host(st);
	if (!cJSON_IsString(mem) || !rd_valid_memory(mem->valuestring) || strlen(mem->valuestring) >= sizeof(d->maxmemory))
		return osb_errbuf_set(err, OSB_ERROR, "the plan's x-osb.maxmemory must be a size such as \"64mb\"");
	snprintf(d->maxmemory, sizeof(d->maxmemory), "%s", mem->valuestring);
	params = op == OSB_OP_PROVISION || op == OSB_OP_UPDATE ? osb_request_parameters(req)
							       : osb_request_instance_parameters(req);
	policy = cJSON_GetObjectItemCaseSensitive(params, "maxmemory_policy");
	if (!policy)
		policy = cJSON_GetObjectItemCaseSensitive(settings, "maxmemory_policy");
	snprintf(d->policy, sizeof(d->policy), "%s", cJSON_IsString(policy) ? policy->valuestring : "noeviction");
	if (!rd_valid_policy(d->policy) || (policy && !cJSON_IsString(policy)))
		return osb_errbuf_set(err, OSB_EBADREQUEST, "maxmemory_policy must be one of noeviction, allkeys-lru, "
					  "allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl");
	return 0;
}

/* Write `text` to dir/name through a temporary file and a rename, mode 0600. */
static int rd_write_file(const char *dir, const char *name, const char *text, int only_if_missing)
{
	char path[600], tmp[620];
	size_t len = strlen(text), off = 0;
	int fd, rc = OSB_ERROR;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	if (only_if_missing && access(path, F_OK) == 0)
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto done;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto done;
	if (close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (only_if_missing ? link(tmp, path) != 0 && errno != EEXIST : rename(tmp, path) != 0)
		goto done;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		osb_log(OSB_LOG_ERROR, "redis.dedicated_file", "cannot write %s: %s", path, strerror(errno));
	unlink(tmp);
	return rc;
}

/* The dedicated server's admin password from dir/admin.pw: 32 characters of [A-Za-z0-9]. */
static int rd_read_admin_password(const char *dir, char out[OSB_SECRET_DEFAULT_LEN + 1])
{
	char path[600];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "%s/" RD_ADMIN_FILE, dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return OSB_ENOTFOUND;
	n = read(fd, out, OSB_SECRET_DEFAULT_LEN);
	close(fd);
	if (n != OSB_SECRET_DEFAULT_LEN)
		return OSB_ERROR;
	out[OSB_SECRET_DEFAULT_LEN] = '\0';
	for (i = 0; i < OSB_SECRET_DEFAULT_LEN; i++)
		if (!((out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= 'a' && out[i] <= 'z') ||
		      (out[i] >= '0' && out[i] <= '9')))
			return OSB_ERROR;
	return 0;
}

/*
 * The deployer's prepare: the admin password (made once), an ACL file with the
 * default user off and that admin (made once: it then carries the bindings),
 * and redis.conf (rendered every time, for the current port and plan).
 */
static int rd_prepare(const char *dir, int port, void *payload)
{
	const struct rd_dedicated *d = payload;
	char password[OSB_SECRET_DEFAULT_LEN + 1], acl[160], conf[2048], bind[80] = "127.0.0.1";
	struct in6_addr addr6;
	struct in_addr addr4;
	int rc;

	if (!rd_plain_path(dir) || strlen(dir) > 400) {
		osb_log(OSB_LOG_ERROR, "redis.dedicated_dir", "%s: a dedicated server's directory must be a plain path "
			"([A-Za-z0-9/._-])", dir);
		return OSB_ERROR;
	}
	if (rd_read_admin_password(dir, password) == OSB_ENOTFOUND) {
		if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
			return OSB_ERROR;
		if ((rc = rd_write_file(dir, RD_ADMIN_FILE, password, 1)) < 0)
			goto done;
	}
	/* Re-read: another attempt may have written it first. */
	if ((rc = rd_read_admin_password(dir, password)) < 0) {
		osb_log(OSB_LOG_ERROR, "redis.dedicated_file", "%s/" RD_ADMIN_FILE " is unreadable or damaged", dir);
		goto done;
	}
	snprintf(acl, sizeof(acl), "user default off\nuser " RD_DEDICATED_ADMIN " on >%s ~* &* +@all\n", password);
	if ((rc = rd_write_file(dir, RD_ACL_FILE, acl, 1)) < 0)
		goto done;
	/* The broker talks to 127.0.0.1; applications to the credentials' address, when it is another one. */
	if (d->host && strcmp(d->host, "127.0.0.1") != 0 &&
	    (inet_pton(AF_INET, d->host, &addr4) == 1 || inet_pton(AF_INET6, d->host, &addr6) == 1))
		snprintf(bind, sizeof(bind), "127.0.0.1 %s", d->host);
	snprintf(conf, sizeof(conf),
		 "# Rendered by osb-redis-broker; maxmemory settings are rewritten by plan updates.\n"
		 "bind %s\n"
		 "port %d\n"
		 "protected-mode yes\n"
		 "daemonize no\n"
		 "dir %s\n"
		 "logfile \"\"\n"
		 "aclfile %s/" RD_ACL_FILE "\n"
		 "save \"\"\n"
		 "appendonly yes\n"
		 "appendfsync everysec\n"
		 "maxmemory %s\n"
		 "maxmemory-policy %s\n"
		 "enable-debug-command no\n"
		 "enable-module-command no\n"
		 "enable-protected-configs no\n",
		 bind, port, dir, dir, d->maxmemory, d->policy);
	rc = rd_write_file(dir, RD_CONF_FILE, conf, 0);
done:
	explicit_bzero(password, sizeof(password));
	explicit_bzero(acl, sizeof(acl));
	return rc;
}

static int rd_open_dedicated(struct rd_conn *c, const char *dir, int port, int timeout_ms, osb_errbuf *err)
{
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	int rc;

	if (rd_read_admin_password(dir, password) < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "the admin password of the dedicated server in %s is missing", dir);
	rc = rd_open(c, "127.0.0.1", port, RD_DEDICATED_ADMIN, password, timeout_ms, err);
	explicit_bzero(password, sizeof(password));
	return rc;
}

/* The deployer's ready: the server accepts our admin and answers PING. */
static int rd_ready(int port, const char *dir, void *payload)
{
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	int rc;

	(void)payload;
	if ((rc = rd_open_dedicated(&c, dir, port, RD_READY_TIMEOUT_MS, &err)) == 0)
		rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL });
	rd_close(&c);
	return rc;
}

/* Start (or find) the instance's server through the core's deployer. */
static int rd_ensure(osb_request *req, const struct rd_state *st, struct rd_dedicated *d, osb_deployment *dep,
		     osb_errbuf *err)
{
	osb_deployer *deployer = osb_broker_deployer(st->broker);
	const char *argv[] = { st->redis_server, "{dir}/" RD_CONF_FILE, NULL };
	osb_process_spec spec = { 0 };
	int rc, left = osb_request_timeout_ms(req);

	if (!deployer)
		return osb_errbuf_set(err, OSB_EUNSUPPORTED, "dedicated plans need a \"dedicated\" section in the broker's config");
	if ((rc = rd_dedicated_settings(req, st, d, err)) < 0)
		return rc;
	spec.kind = "redis";
	spec.argv = argv;
	spec.prepare = rd_prepare;
	spec.ready = rd_ready;
	spec.payload = d;
	spec.start_timeout_ms = left < RD_START_TIMEOUT_MS ? left : RD_START_TIMEOUT_MS;
	rc = osb_deployer_ensure(deployer, osb_request_instance_id(req), &spec, dep);
	if (rc < 0)
		return osb_errbuf_set(err, rc, "the dedicated Redis server did not start (see the broker's log)");
	return 0;
}

/* -- instances ------------------------------------------------------------ */

static int rd_set_instance_state(osb_request *req, const char *prefix, int port, osb_errbuf *err)
{
	cJSON *saved = cJSON_CreateObject();
	char key_prefix[OSB_NAME_SIZE + 1];
	int rc, ok;

	snprintf(key_prefix, sizeof(key_prefix), "%s:", prefix);
	if (port)
		ok = saved && cJSON_AddStringToObject(saved, "mode", "dedicated") &&
		     cJSON_AddNumberToObject(saved, "port", port);
	else
		ok = saved && cJSON_AddStringToObject(saved, "mode", "shared") &&
		     cJSON_AddStringToObject(saved, "key_prefix", key_prefix);
	if (!ok) {
		cJSON_Delete(saved);
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_instance_state(req, saved)) < 0)
		return osb_errbuf_set(err, rc, "cannot save instance state");
	return 0;
}

static int redis_provision(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	struct rd_dedicated d = { 0 };
	osb_deployment dep = { 0 };
	char prefix[OSB_NAME_SIZE];
	int rc;

	osb_name_instance(prefix, osb_request_instance_id(req));
	if (rd_is_dedicated(req)) {
		osb_request_set_progress(req, "starting a dedicated Redis server");
		if ((rc = rd_ensure(req, st, &d, &dep, &err)) < 0)
			goto done;
		if ((rc = rd_set_instance_state(req, prefix, dep.port, &err)) < 0)
			goto done;
		osb_log(OSB_LOG_INFO, "redis.provisioned", "dedicated server of %s on port %d (maxmemory %s, %s)",
			prefix, dep.port, d.maxmemory, d.policy);
		goto done;
	}
	/*
	 * A shared instance is only a key prefix: nothing to create until a
	 * binding writes. Connecting checks the server is there and new enough.
	 */
	if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "PING", NULL })) < 0)
		goto done;
	if ((rc = rd_set_instance_state(req, prefix, 0, &err)) < 0)
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
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	struct rd_dedicated d = { 0 };
	osb_deployment dep = { 0 };
	int rc, to_dedicated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_plan_settings(req),
										      "dedicated"));

	if (rd_is_dedicated(req) != to_dedicated) {
		rc = osb_errbuf_set(&err, OSB_EUNSUPPORTED, "a Redis instance cannot move between a shared and a dedicated "
				    "server: its keys would have to move");
		goto done;
	}
	/* Shared plans differ in nothing Redis can enforce per tenant: nothing to apply. */
	if (!to_dedicated) {
		rc = 0;
		goto done;
	}
	/* The new plan's memory and the policy, live, then into redis.conf for the next start. */
	if ((rc = rd_ensure(req, st, &d, &dep, &err)) < 0)
		goto done;
	if ((rc = rd_open_dedicated(&c, dep.dir, dep.port, osb_request_timeout_ms(req), &err)) < 0)
		goto done;
	if ((rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "CONFIG", "SET", "maxmemory", d.maxmemory,
							       "maxmemory-policy", d.policy, NULL })) < 0)
		goto done;
	if ((rc = rd_cmd(&c, NULL, NULL, (const char *const[]){ "CONFIG", "REWRITE", NULL })) < 0)
		goto done;
	osb_log(OSB_LOG_INFO, "redis.updated", "dedicated server on port %d: maxmemory %s, %s", dep.port, d.maxmemory,
		d.policy);
done:
	rd_close(&c);
	if (rc < 0)
		return osb_req_fail(req, rc, "%s", err.msg);
	return 0;
}

static int redis_deprovision(osb_request *req, void *state)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	char prefix[OSB_NAME_SIZE];
	long long removed = 0;
	int rc;

	osb_name_instance(prefix, osb_request_instance_id(req));
	if (rd_is_dedicated(req)) {
		osb_deployer *deployer = osb_broker_deployer(st->broker);

		osb_request_set_progress(req, "stopping the dedicated Redis server");
		/* Without a deployer nothing was ever started: a failed provision's rollback lands here. */
		if (!deployer) {
			rc = 0;
			goto done;
		}
		if ((rc = osb_deployer_remove(deployer, osb_request_instance_id(req))) < 0) {
			osb_errbuf_set(&err, OSB_EBACKEND, "the dedicated Redis server could not be stopped (see the broker's log)");
			goto done;
		}
		osb_log(OSB_LOG_INFO, "redis.deprovisioned", "dedicated server of %s stopped and deleted", prefix);
		goto done;
	}
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

static int rd_set_credentials(osb_request *req, const char *host, int port, const char *user,
			      const char *password, const char *key_prefix, osb_errbuf *err)
{
	const char *url_host = osb_uri_host(req, host);
	char *euser = osb_uri_escape(req, user), *epass = osb_uri_escape(req, password);
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
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	}
	if ((rc = osb_request_set_credentials(req, cred)) < 0)
		return osb_errbuf_set(err, rc, "cannot store credentials");
	snprintf(ports, sizeof(ports), "%d", port);
	if ((rc = osb_request_add_endpoint(req, host, ports, "tcp")) < 0)
		return osb_errbuf_set(err, rc, "cannot store endpoint");
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

	if (nrules + 11 > RD_MAX_ARGS)
		return osb_errbuf_set(c->err, OSB_ERROR, "too many ACL rules");
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
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	struct rd_dedicated d = { 0 };
	osb_deployment dep = { 0 };
	char prefix[OSB_NAME_SIZE], user[OSB_NAME_SIZE], password[OSB_SECRET_DEFAULT_LEN + 1] = "";
	char keys[OSB_NAME_SIZE + 4], channels[OSB_NAME_SIZE + 4], key_prefix[OSB_NAME_SIZE + 1];
	int rc, read_only = rd_read_only(req), dedicated = rd_is_dedicated(req);
	cJSON *saved = NULL;

	osb_name_instance(prefix, osb_request_instance_id(req));
	osb_name_binding(user, osb_request_binding_id(req));
	snprintf(keys, sizeof(keys), "~%s:*", prefix);
	snprintf(channels, sizeof(channels), "&%s:*", prefix);
	snprintf(key_prefix, sizeof(key_prefix), "%s:", prefix);
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_errbuf_set(&err, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if (dedicated) {
		/* The whole server is the instance's: every key and channel. */
		if ((rc = rd_ensure(req, st, &d, &dep, &err)) < 0)
			goto done;
		if ((rc = rd_open_dedicated(&c, dep.dir, dep.port, osb_request_timeout_ms(req), &err)) < 0)
			goto done;
		rc = rd_set_user(&c, user, password, "~*", "&*", rd_dedicated_rules,
				 sizeof(rd_dedicated_rules) / sizeof(rd_dedicated_rules[0]), read_only);
	} else {
		if ((rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err)) < 0)
			goto done;
		rc = rd_set_user(&c, user, password, keys, channels, rd_shared_rules,
				 sizeof(rd_shared_rules) / sizeof(rd_shared_rules[0]), read_only);
	}
	if (rc < 0)
		goto done;
	if ((rc = rd_acl_save(&c, st)) < 0)
		goto done;
	if (dedicated)
		rc = rd_set_credentials(req, d.host, dep.port, user, password, NULL, &err);
	else
		rc = rd_set_credentials(req, st->public_host, st->port, user, password, key_prefix, &err);
	if (rc < 0)
		goto done;
	saved = cJSON_CreateObject();
	if (!saved || !cJSON_AddStringToObject(saved, "username", user) ||
	    (!dedicated && !cJSON_AddStringToObject(saved, "key_prefix", key_prefix)) ||
	    !cJSON_AddBoolToObject(saved, "read_only", read_only)) {
		cJSON_Delete(saved);
		rc = osb_errbuf_set(&err, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = osb_request_set_binding_state(req, saved)) < 0) {
		osb_errbuf_set(&err, rc, "cannot save binding state");
		goto done;
	}
	if (dedicated)
		osb_log(OSB_LOG_INFO, "redis.bound", "ACL user %s on the dedicated server of %s (port %d)%s", user,
			prefix, dep.port, read_only ? " (read-only)" : "");
	else
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
	osb_errbuf err = { 0 };
	struct rd_dedicated d = { 0 };
	osb_deployment dep = { 0 };
	char user[OSB_NAME_SIZE];
	int rc;

	osb_name_binding(user, osb_request_binding_id(req));
	if (rd_is_dedicated(req)) {
		osb_deployer *deployer = osb_broker_deployer(st->broker);

		/* No server left means no user left. */
		if (deployer && osb_deployer_lookup(deployer, osb_request_instance_id(req), &dep) == OSB_ENOTFOUND) {
			rc = 0;
			goto done;
		}
		if ((rc = rd_ensure(req, st, &d, &dep, &err)) < 0)
			goto done;
		rc = rd_open_dedicated(&c, dep.dir, dep.port, osb_request_timeout_ms(req), &err);
	} else {
		rc = rd_open_admin(&c, st, osb_request_timeout_ms(req), &err);
	}
	if (rc < 0)
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
	osb_errbuf err = { 0 };
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
	osb_errbuf err = { 0 };
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
		osb_errbuf_set(&err, rc, "out of memory");
	if (rc < 0)
		osb_log(OSB_LOG_ERROR, "redis.list_failed", "%s", err.msg);
	return rc;
}

static int redis_purge(void *state, osb_tenant_kind kind, const char *name)
{
	struct rd_state *st = state;
	struct rd_conn c = { 0 };
	osb_errbuf err = { 0 };
	long long removed = 0;
	int rc;

	if (!osb_name_is_derived(name)) {
		rc = osb_errbuf_set(&err, OSB_EBADREQUEST, "refusing to purge \"%.64s\": not a broker-made name",
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
	osb_driver_config_free_secret(st->admin_password);
	free(st->host);
	free(st->admin_user);
	free(st->public_host);
	free(st->redis_server);
	free(st->dedicated_host);
	free(st);
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
		"host", "port", "admin_user", "admin_password", "public_host", "redis_server", "dedicated_host", NULL,
	};
	static const char *const me = "redis";
	struct rd_state *st = NULL;
	int rc = 0;

	*state = NULL;
	if ((rc = osb_driver_config_check_keys(config, me, known)) < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return OSB_ENOMEM;
	atomic_init(&st->no_aclfile_logged, 0);
	if ((rc = osb_driver_config_string(&st->host, config, me, "host", "127.0.0.1")) < 0 ||
	    (rc = osb_driver_config_port(&st->port, config, me, "port", 6379)) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_user, config, me, "admin_user", "default")) < 0 ||
	    (rc = osb_driver_config_string(&st->admin_password, config, me, "admin_password", NULL)) < 0 ||
	    (rc = osb_driver_config_string(&st->public_host, config, me, "public_host", st->host)) < 0 ||
	    (rc = osb_driver_config_string(&st->redis_server, config, me, "redis_server", "redis-server")) < 0 ||
	    (rc = osb_driver_config_dedicated_host(&st->dedicated_host, config, me, "dedicated_host", broker)) < 0)
		goto done;
	st->broker = broker;
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
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION,
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
