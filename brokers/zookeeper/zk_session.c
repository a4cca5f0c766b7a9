/* One admin session with a ZooKeeper server over libzookeeper-mt, each call bounded by the session's deadline. */
#include "zk_session.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ZK_SESSION_MS 10000

static void zk_log(const char *message)
{
	osb_log(OSB_LOG_DEBUG, "zookeeper.client", "%s", message);
}

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zk_conn *c = ctx;

	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&c->lock);
	c->session = state == ZOO_CONNECTED_STATE ? 1 : state == ZOO_CONNECTING_STATE ? 0 : -1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void zk_done(const void *data, int rc, const struct String_vector *names, const char *value, int len)
{
	struct zk_conn *c = (struct zk_conn *)data;

	pthread_mutex_lock(&c->lock);
	c->zrc = rc;
	if (rc == ZOK && names) {
		c->names.data = calloc((size_t)names->count + 1, sizeof(char *));
		for (int32_t i = 0; c->names.data && i < names->count; i++)
			if ((c->names.data[c->names.count] = strdup(names->data[i])))
				c->names.count++;
		if (!c->names.data || c->names.count != names->count)
			c->zrc = ZSYSTEMERROR;
	}
	if (rc == ZOK && value)
		snprintf(c->value, sizeof(c->value), "%.*s", len < 0 ? 0 : len, value);
	c->pending = 0;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void zk_void_cb(int rc, const void *data)
{
	zk_done(data, rc, NULL, NULL, 0);
}

static void zk_string_cb(int rc, const char *value, const void *data)
{
	(void)value;
	zk_done(data, rc, NULL, NULL, 0);
}

static void zk_stat_cb(int rc, const struct Stat *stat, const void *data)
{
	(void)stat;
	zk_done(data, rc, NULL, NULL, 0);
}

static void zk_names_cb(int rc, const struct String_vector *names, const void *data)
{
	zk_done(data, rc, names, NULL, 0);
}

static void zk_data_cb(int rc, const char *value, int len, const struct Stat *stat, const void *data)
{
	(void)stat;
	zk_done(data, rc, NULL, value ? value : "", len);
}

static void zk_names_free(struct zk_conn *c)
{
	deallocate_String_vector(&c->names);
	memset(&c->names, 0, sizeof(c->names));
}

/* Wait until *flag (read under the lock) is `until`, or the deadline passes. @return 1 when it is. */
static int zk_wait_for(struct zk_conn *c, const int *flag, int until)
{
	struct timespec ts;
	int ms, done;

	pthread_mutex_lock(&c->lock);
	while (*flag != until && (ms = osb_ms_left(c->deadline)) > 1) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += ms / 1000 + (ts.tv_nsec + (ms % 1000) * 1000000L) / 1000000000L;
		ts.tv_nsec = (ts.tv_nsec + (ms % 1000) * 1000000L) % 1000000000L;
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		if (&c->session == flag && c->session < 0)
			break;
	}
	done = *flag == until;
	pthread_mutex_unlock(&c->lock);
	return done;
}

/* What ZooKeeper's result code means for the operation. */
static int zk_fail(struct zk_conn *c, int zrc, const char *what, const char *path)
{
	if (zrc == ZNOAUTH)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "ZooKeeper at %s refused %s %.200s: the broker's admin is not its "
				      "super user (zookeeper.DigestAuthenticationProvider.superDigest)", c->where, what, path);
	if (zrc == ZCONNECTIONLOSS || zrc == ZOPERATIONTIMEOUT || zrc == ZSESSIONEXPIRED || zrc == ZCLOSING ||
	    zrc == ZINVALIDSTATE)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "lost the session with ZooKeeper at %s during %s %.200s: %s",
				      c->where, what, path, zerror(zrc));
	return osb_errbuf_set(c->err, OSB_EBACKEND, "ZooKeeper at %s: %s %.200s failed: %s", c->where, what, path,
			      zerror(zrc));
}

/*
 * Finish the call `submitted` (the result of a zoo_a* function) within the
 * deadline. @return 0 on ZOK, 1 when ZooKeeper answered `fine` (such as
 * ZNONODE for a delete), else an error code in the errbuf.
 */
static int zk_finish(struct zk_conn *c, int submitted, const char *what, const char *path, int fine)
{
	if (submitted != ZOK) {
		c->pending = 0;
		c->zrc = submitted;
		return zk_fail(c, submitted, what, path);
	}
	if (!zk_wait_for(c, &c->pending, 0))
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "ZooKeeper at %s did not answer %s %.200s in time", c->where,
				      what, path);
	return c->zrc == ZOK ? 0 : c->zrc == fine ? 1 : zk_fail(c, c->zrc, what, path);
}

/* Start a call: refuse when the deadline has passed (a call then has no time to answer). */
static int zk_start(struct zk_conn *c, const char *what, const char *path)
{
	if (!c->zh)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "no session with ZooKeeper at %s", c->where);
	if (osb_ms_left(c->deadline) <= 1)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "no time left for %s %.200s on ZooKeeper at %s", what, path,
				      c->where);
	c->pending = 1;
	return 0;
}

#define ZK_CALL(c, what, path, fine, call) \
	(zk_start(c, what, path) < 0 ? c->err->code : zk_finish(c, (call), what, path, fine))

int zk_create(struct zk_conn *c, const char *path, const char *value, const struct ACL_vector *acl)
{
	return ZK_CALL(c, "create", path, ZNODEEXISTS,
		       zoo_acreate(c->zh, path, value, value ? (int)strlen(value) : -1, acl, 0,
				   zk_string_cb, c));
}

int zk_set(struct zk_conn *c, const char *path, const char *value)
{
	return ZK_CALL(c, "set", path, ZNONODE, zoo_aset(c->zh, path, value, (int)strlen(value), -1, zk_stat_cb, c));
}

int zk_get(struct zk_conn *c, const char *path)
{
	c->value[0] = '\0';
	return ZK_CALL(c, "get", path, ZNONODE, zoo_aget(c->zh, path, 0, zk_data_cb, c));
}

int zk_set_acl(struct zk_conn *c, const char *path, const struct ACL_vector *acl)
{
	return ZK_CALL(c, "setAcl", path, ZNONODE,
		       zoo_aset_acl(c->zh, path, -1, (struct ACL_vector *)acl, zk_void_cb, c));
}

int zk_delete(struct zk_conn *c, const char *path)
{
	return ZK_CALL(c, "delete", path, ZNONODE, zoo_adelete(c->zh, path, -1, zk_void_cb, c));
}

int zk_children(struct zk_conn *c, const char *path)
{
	zk_names_free(c);
	return ZK_CALL(c, "getChildren", path, ZNONODE, zoo_aget_children(c->zh, path, 0, zk_names_cb, c));
}

void zk_close(struct zk_conn *c)
{
	if (c->zh)
		zookeeper_close(c->zh); /* runs the completions of calls still pending, with ZCLOSING */
	c->zh = NULL;
	zk_names_free(c);
	if (c->ready) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
	}
	c->ready = 0;
}

/* Whether something listens at host:port: the client library retries a refused connection until the deadline. */
static int zk_probe(struct zk_conn *c, const osb_target *t)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, e = 0, rc;
	socklen_t len = sizeof(e);

	snprintf(port, sizeof(port), "%d", t->port);
	if ((rc = getaddrinfo(t->host, port, &hints, &ai)) != 0)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "cannot resolve ZooKeeper host %s: %s", t->host, gai_strerror(rc));
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS))
		e = errno;
	else {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if ((rc = poll(&p, 1, osb_ms_left(c->deadline))) <= 0)
			e = rc == 0 ? ETIMEDOUT : errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (e == ETIMEDOUT)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "ZooKeeper at %s did not accept a connection in time", c->where);
	return e ? osb_errbuf_set(c->err, OSB_EBACKEND, "cannot connect to ZooKeeper at %s: %s", c->where, strerror(e)) : 0;
}

/* A session as the target's admin: a digest login, which a server whose superDigest it matches makes the super user. */
int zk_open(struct zk_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	pthread_condattr_t attr;
	osb_buf login = OSB_BUF_INIT;
	int rc;

	memset(c, 0, sizeof(*c));
	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host, t->port);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	c->ready = 1;
	if ((rc = zk_probe(c, t)) < 0)
		return rc;
	if (!(c->zh = zookeeper_init2(c->where, zk_watcher, ZK_SESSION_MS, NULL, c, 0, zk_log)))
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot start a ZooKeeper client for %s: %s", c->where,
				      strerror(errno));
	if (!zk_wait_for(c, &c->session, 1))
		return osb_errbuf_set(err, c->session < 0 ? OSB_EBACKEND : OSB_ETIMEOUT,
				      "ZooKeeper at %s did not open a session in time", c->where);
	osb_buf_printf(&login, "%s:%s", t->admin_user, t->admin_password ? t->admin_password : "");
	if (!osb_buf_text(&login))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else
		rc = ZK_CALL(c, "addauth digest", t->admin_user, ZOK,
			     zoo_add_auth(c->zh, "digest", login.data, (int)login.len, zk_void_cb, c));
	osb_buf_free(&login);
	return rc;
}

char *zk_child(const char *parent, const char *name)
{
	char *path;
	return asprintf(&path, "%s/%s", parent, name) < 0 ? NULL : path;
}

/* A path list that grows: the walks below keep their queue or stack in it. */
struct zk_paths {
	char **v;
	size_t n, cap, head;
};

static int zk_paths_push(struct zk_paths *p, char *path)
{
	if (!path)
		return OSB_ENOMEM;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			free(path);
			return OSB_ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = path;
	return 0;
}

static void zk_paths_free(struct zk_paths *p)
{
	for (size_t i = p->head; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

int zk_tree_set_acl(struct zk_conn *c, const char *root, const struct ACL_vector *acl, long *count)
{
	struct zk_paths q = { 0 };
	int rc = zk_paths_push(&q, strdup(root));

	*count = 0;
	while (rc >= 0 && q.head < q.n) {
		char *path = q.v[q.head++];

		if ((rc = zk_set_acl(c, path, acl)) == 0 && (rc = zk_children(c, path)) == 0) {
			++*count;
			for (int32_t i = 0; rc >= 0 && i < c->names.count; i++)
				rc = zk_paths_push(&q, zk_child(path, c->names.data[i]));
		}
		free(path);
		if (rc == OSB_ENOMEM)
			rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	}
	zk_paths_free(&q);
	return rc < 0 ? rc : 0;
}

/* Without recursion: znodes nest as deep as apps like. */
int zk_tree_delete(struct zk_conn *c, const char *root, long *removed)
{
	struct zk_paths s = { 0 };
	int rc = zk_paths_push(&s, strdup(root));

	while (rc >= 0 && s.n > 0) {
		char *path = s.v[s.n - 1];

		if ((rc = zk_children(c, path)) == 0 && c->names.count > 0) {
			for (int32_t i = 0; rc >= 0 && i < c->names.count; i++)
				rc = zk_paths_push(&s, zk_child(path, c->names.data[i]));
			continue;
		}
		if (rc == 0) {
			/* Childless: delete it. ZNOTEMPTY (a child made meanwhile) lists it again; ZNONODE: gone meanwhile. */
			rc = ZK_CALL(c, "delete", path, ZNOTEMPTY, zoo_adelete(c->zh, path, -1, zk_void_cb, c));
			if (rc == 1)
				continue;
			*removed += rc == 0;
			rc = rc < 0 && !c->pending && c->zrc == ZNONODE ? 0 : rc;
		}
		if (rc < 0)
			break;
		free(s.v[--s.n]);
	}
	if (rc == OSB_ENOMEM)
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	zk_paths_free(&s);
	return rc < 0 ? rc : 0;
}

