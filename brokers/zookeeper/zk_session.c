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

/* -- completions --------------------------------------------------------------- */

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

/* A call completed into slot `data`: keep its result (the library frees its own copies after this). */
static void zk_done(const void *data, int rc, const struct String_vector *names, const char *value, int len)
{
	struct zk_slot *s = (struct zk_slot *)data;
	struct zk_conn *c = s->c;

	pthread_mutex_lock(&c->lock);
	s->zrc = rc;
	if (rc == ZOK && names && names->count > 0) {
		s->names.data = calloc((size_t)names->count, sizeof(char *));
		for (int32_t i = 0; s->names.data && i < names->count; i++)
			if ((s->names.data[s->names.count] = strdup(names->data[i])))
				s->names.count++;
		if (s->names.count != names->count)
			s->zrc = ZSYSTEMERROR;
	}
	if (rc == ZOK && value)
		snprintf(s->value, sizeof(s->value), "%.*s", len < 0 ? 0 : len, value);
	c->outstanding--;
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
		return osb_errbuf_set(c->err, OSB_EBACKEND,
				      "ZooKeeper at %s refused %s %.200s: the broker's admin is not its super user "
				      "(zookeeper.DigestAuthenticationProvider.superDigest)",
				      c->where, what, path);
	if (zrc == ZCONNECTIONLOSS || zrc == ZOPERATIONTIMEOUT || zrc == ZSESSIONEXPIRED || zrc == ZCLOSING ||
	    zrc == ZINVALIDSTATE)
		return osb_errbuf_set(c->err, OSB_EBACKEND,
				      "lost the session with ZooKeeper at %s during %s %.200s: %s", c->where, what,
				      path, zerror(zrc));
	return osb_errbuf_set(c->err, OSB_EBACKEND, "ZooKeeper at %s: %s %.200s failed: %s", c->where, what, path,
			      zerror(zrc));
}

/* -- single calls (slot 0) ------------------------------------------------------- */

/* Make slot `s` ready for a call: refuse when the deadline has passed (the call would have no time to answer). */
static int zk_arm(struct zk_conn *c, struct zk_slot *s, const char *what, const char *path)
{
	if (!c->zh)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "no session with ZooKeeper at %s", c->where);
	if (osb_ms_left(c->deadline) <= 1)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "no time left for %s %.200s on ZooKeeper at %s", what, path,
				      c->where);
	deallocate_String_vector(&s->names);
	memset(&s->names, 0, sizeof(s->names));
	s->value[0] = '\0';
	s->zrc = ZOK;
	pthread_mutex_lock(&c->lock);
	c->outstanding++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* The call was submitted (or refused: `submitted` is not ZOK, no completion will come). */
static void zk_submitted(struct zk_conn *c, struct zk_slot *s, int submitted)
{
	if (submitted == ZOK)
		return;
	pthread_mutex_lock(&c->lock);
	c->outstanding--;
	s->zrc = submitted;
	pthread_mutex_unlock(&c->lock);
}

/* Wait for every submitted call until the deadline. */
static int zk_wait_all(struct zk_conn *c, const char *what, const char *path)
{
	if (!zk_wait_for(c, &c->outstanding, 0))
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "ZooKeeper at %s did not answer %s %.200s in time",
				      c->where, what, path);
	return 0;
}

/* @return 0 on ZOK, 1 on `fine` (such as ZNONODE for a delete), else an error code with the errbuf set. */
static int zk_finish(struct zk_conn *c, int submitted, const char *what, const char *path, int fine)
{
	int rc;

	zk_submitted(c, &c->slots[0], submitted);
	if ((rc = zk_wait_all(c, what, path)) < 0)
		return rc;
	rc = c->slots[0].zrc;
	return rc == ZOK ? 0 : rc == fine ? 1 : zk_fail(c, rc, what, path);
}

#define ZK_CALL(c, what, path, fine, call)                                                                             \
	(zk_arm(c, &(c)->slots[0], what, path) < 0 ? (c)->err->code : zk_finish(c, (call), what, path, fine))

int zk_create(struct zk_conn *c, const char *path, const char *value, const struct ACL_vector *acl)
{
	return ZK_CALL(
		c, "create", path, ZNODEEXISTS,
		zoo_acreate(c->zh, path, value, value ? (int)strlen(value) : -1, acl, 0, zk_string_cb, c->slots));
}

int zk_set(struct zk_conn *c, const char *path, const char *value)
{
	return ZK_CALL(c, "set", path, ZNONODE,
		       zoo_aset(c->zh, path, value, (int)strlen(value), -1, zk_stat_cb, c->slots));
}

int zk_get(struct zk_conn *c, const char *path)
{
	return ZK_CALL(c, "get", path, ZNONODE, zoo_aget(c->zh, path, 0, zk_data_cb, c->slots));
}

int zk_set_acl(struct zk_conn *c, const char *path, const struct ACL_vector *acl)
{
	return ZK_CALL(c, "setAcl", path, ZNONODE,
		       zoo_aset_acl(c->zh, path, -1, (struct ACL_vector *)acl, zk_void_cb, c->slots));
}

int zk_delete(struct zk_conn *c, const char *path)
{
	return ZK_CALL(c, "delete", path, ZNONODE, zoo_adelete(c->zh, path, -1, zk_void_cb, c->slots));
}

int zk_children(struct zk_conn *c, const char *path, struct String_vector *names)
{
	int rc = ZK_CALL(c, "getChildren", path, ZNONODE, zoo_aget_children(c->zh, path, 0, zk_names_cb, c->slots));

	memset(names, 0, sizeof(*names));
	if (rc == 0) {
		*names = c->slots[0].names;
		memset(&c->slots[0].names, 0, sizeof(c->slots[0].names));
	}
	return rc;
}

/* -- the session ------------------------------------------------------------------ */

void zk_close(struct zk_conn *c)
{
	if (c->zh)
		zookeeper_close(c->zh); /* runs the completions of calls still pending, with ZCLOSING */
	c->zh = NULL;
	for (int i = 0; c->slots && i < ZK_WINDOW; i++)
		deallocate_String_vector(&c->slots[i].names);
	free(c->slots);
	c->slots = NULL;
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
		return osb_errbuf_set(c->err, OSB_EBACKEND, "cannot resolve ZooKeeper host %s: %s", t->host,
				      gai_strerror(rc));
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
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "ZooKeeper at %s did not accept a connection in time",
				      c->where);
	if (e)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "cannot connect to ZooKeeper at %s: %s", c->where,
				      strerror(e));
	return 0;
}

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
	if (!(c->slots = calloc(ZK_WINDOW, sizeof(*c->slots))))
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	for (int i = 0; i < ZK_WINDOW; i++)
		c->slots[i].c = c;
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
			     zoo_add_auth(c->zh, "digest", login.data, (int)login.len, zk_void_cb, c->slots));
	osb_buf_free(&login);
	return rc;
}

/* -- tree walks: a window of calls at a time ---------------------------------------- */

char *zk_child(const char *parent, const char *name)
{
	char *path;
	return asprintf(&path, "%s/%s", parent, name) < 0 ? NULL : path;
}

/* A list of paths that grows (owned strings). */
struct zk_paths {
	char **v;
	size_t n, cap;
};

static int zk_paths_push(struct zk_paths *p, char *path)
{
	if (path && p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			free(path);
			return OSB_ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	if (!path)
		return OSB_ENOMEM;
	p->v[p->n++] = path;
	return 0;
}

static void zk_paths_free(struct zk_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

enum zk_op { ZK_SET_ACL, ZK_CHILDREN, ZK_DELETE };

/* Run `op` on paths[0..n) (n <= ZK_WINDOW) at once; slot i gets path i's result. */
static int zk_window(struct zk_conn *c, enum zk_op op, char *const *paths, size_t n, const struct ACL_vector *acl)
{
	static const char *const what[] = { "setAcl", "getChildren", "delete" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct zk_slot *s = &c->slots[i];

		if ((rc = zk_arm(c, s, what[op], paths[i])) < 0)
			break;
		if (op == ZK_SET_ACL)
			zk_submitted(c, s, zoo_aset_acl(c->zh, paths[i], -1, (struct ACL_vector *)acl, zk_void_cb, s));
		else if (op == ZK_CHILDREN)
			zk_submitted(c, s, zoo_aget_children(c->zh, paths[i], 0, zk_names_cb, s));
		else
			zk_submitted(c, s, zoo_adelete(c->zh, paths[i], -1, zk_void_cb, s));
	}
	/* Even after a refused start, wait for what was submitted: the slots must not be reused under a completion. */
	if (zk_wait_all(c, what[op], n ? paths[0] : "") < 0 || rc < 0)
		return rc < 0 ? rc : c->err->code;
	return 0;
}

int zk_tree_set_acl(struct zk_conn *c, const char *root, const struct ACL_vector *acl, long *count)
{
	struct zk_paths level = { 0 }, next = { 0 };
	char *found[ZK_WINDOW];
	int rc = zk_paths_push(&level, strdup(root));

	*count = 0;
	while (rc == 0 && level.n > 0) {
		for (size_t at = 0; rc == 0 && at < level.n; at += ZK_WINDOW) {
			size_t n = level.n - at < ZK_WINDOW ? level.n - at : ZK_WINDOW, k = 0;

			/* The ACL first, then the children of the znodes that still exist. */
			if ((rc = zk_window(c, ZK_SET_ACL, level.v + at, n, acl)) < 0)
				break;
			for (size_t i = 0; rc == 0 && i < n; i++) {
				if (c->slots[i].zrc == ZOK)
					found[k++] = level.v[at + i];
				else if (c->slots[i].zrc != ZNONODE)
					rc = zk_fail(c, c->slots[i].zrc, "setAcl", level.v[at + i]);
			}
			if (rc < 0 || (rc = zk_window(c, ZK_CHILDREN, found, k, NULL)) < 0)
				break;
			*count += (long)k;
			for (size_t i = 0; rc == 0 && i < k; i++) {
				const struct String_vector *names = &c->slots[i].names;

				if (c->slots[i].zrc != ZOK && c->slots[i].zrc != ZNONODE)
					rc = zk_fail(c, c->slots[i].zrc, "getChildren", found[i]);
				for (int32_t j = 0; rc == 0 && j < names->count; j++)
					rc = zk_paths_push(&next, zk_child(found[i], names->data[j]));
			}
		}
		zk_paths_free(&level);
		level = next;
		memset(&next, 0, sizeof(next));
	}
	if (rc == OSB_ENOMEM)
		osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	zk_paths_free(&level);
	zk_paths_free(&next);
	return rc;
}

/* The tree under `root`, level by level: levels[0] holds `root`, levels[d + 1] the children of levels[d]. */
static int zk_read_tree(struct zk_conn *c, const char *root, struct zk_paths **levels, size_t *depth)
{
	int rc;

	if (!(*levels = calloc(1, sizeof(**levels))))
		return OSB_ENOMEM;
	*depth = 1;
	rc = zk_paths_push(&(*levels)[0], strdup(root));
	while (rc == 0 && (*levels)[*depth - 1].n > 0) {
		struct zk_paths *more = realloc(*levels, (*depth + 1) * sizeof(**levels)), *level, *next;

		if (!more)
			return OSB_ENOMEM;
		*levels = more;
		level = &more[*depth - 1];
		next = &more[(*depth)++];
		memset(next, 0, sizeof(*next));
		for (size_t at = 0; rc == 0 && at < level->n; at += ZK_WINDOW) {
			size_t n = level->n - at < ZK_WINDOW ? level->n - at : ZK_WINDOW;

			if ((rc = zk_window(c, ZK_CHILDREN, level->v + at, n, NULL)) < 0)
				break;
			for (size_t i = 0; rc == 0 && i < n; i++) {
				const struct String_vector *names = &c->slots[i].names;

				if (c->slots[i].zrc != ZOK && c->slots[i].zrc != ZNONODE)
					rc = zk_fail(c, c->slots[i].zrc, "getChildren", level->v[at + i]);
				for (int32_t j = 0; rc == 0 && j < names->count; j++)
					rc = zk_paths_push(next, zk_child(level->v[at + i], names->data[j]));
			}
		}
	}
	return rc;
}

int zk_tree_delete(struct zk_conn *c, const char *root, long *removed)
{
	int rc = 0, again = 1;

	*removed = 0;
	while (rc == 0 && again) {
		struct zk_paths *levels = NULL;
		size_t depth = 0;

		again = 0;
		rc = zk_read_tree(c, root, &levels, &depth);
		/* Deepest level first; ZNOTEMPTY (a znode made meanwhile) reads the tree again. */
		for (size_t d = depth; rc == 0 && d-- > 0;) {
			for (size_t at = 0; rc == 0 && at < levels[d].n; at += ZK_WINDOW) {
				size_t n = levels[d].n - at < ZK_WINDOW ? levels[d].n - at : ZK_WINDOW;

				if ((rc = zk_window(c, ZK_DELETE, levels[d].v + at, n, NULL)) < 0)
					break;
				for (size_t i = 0; rc == 0 && i < n; i++) {
					int zrc = c->slots[i].zrc;

					*removed += zrc == ZOK;
					again |= zrc == ZNOTEMPTY;
					if (zrc != ZOK && zrc != ZNONODE && zrc != ZNOTEMPTY)
						rc = zk_fail(c, zrc, "delete", levels[d].v[at + i]);
				}
			}
		}
		for (size_t d = 0; d < depth; d++)
			zk_paths_free(&levels[d]);
		free(levels);
	}
	if (rc == OSB_ENOMEM)
		osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	return rc;
}
