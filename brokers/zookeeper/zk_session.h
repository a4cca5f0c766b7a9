/**
 * @file zk_session.h  One admin session with a ZooKeeper server, bounded by a deadline.
 *
 * libzookeeper-mt's synchronous calls wait as long as the session lives; these
 * run its asynchronous calls and wait for their completion until the deadline
 * of the callback that opened the session, so that no broker callback blocks
 * past it. The tree walks keep up to ZK_WINDOW calls in flight, which lets the
 * server commit their writes together. After a timeout the session is spent
 * (its deadline has passed) and only zk_close() remains.
 *
 * Every call returns 0 on success, 1 when ZooKeeper answered the call's
 * harmless "no" (the znode exists for a create, it does not for the others),
 * or an osb_error_code with the session's errbuf set (ZNOAUTH names the super
 * user the broker's admin must be).
 */
#ifndef OSB_ZK_SESSION_H
#define OSB_ZK_SESSION_H

#define THREADED /* the multi-threaded client library: its I/O thread runs the calls issued here */
#include <pthread.h>
#include <zookeeper/zookeeper.h>

#include <osb.h>

/** Calls a tree walk keeps in flight. */
#define ZK_WINDOW 256

/** Where one call completes. */
struct zk_slot {
	struct zk_conn *c;
	int zrc;                    /* ZooKeeper's result (ZOK, ZNONODE...) */
	struct String_vector names; /* what a getChildren read */
	char value[64];             /* what a get read, cut to fit (the broker's own znodes hold short values) */
};

/** One admin session. Calls run one at a time, or one window at a time in the walks. */
struct zk_conn {
	zhandle_t *zh;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;             /* lock and cond initialised */
	int session;           /* 1 connected, 0 connecting, -1 expired or refused */
	int outstanding;       /* calls submitted and not completed */
	struct zk_slot *slots; /* ZK_WINDOW of them; a single call completes into the first */
	int64_t deadline;      /* an osb_clock_ms() reading */
	osb_errbuf *err;
	char where[80]; /* "host:port", for messages */
};

/** Connect to the target and log in as its admin with the digest scheme (the super user when it matches). */
int zk_open(struct zk_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err);
/** End the session; safe after a failed zk_open and twice. */
void zk_close(struct zk_conn *c);

/** Create `path` with data `value` (NULL: none) and `acl`. @return 0, or 1 when it exists. */
int zk_create(struct zk_conn *c, const char *path, const char *value, const struct ACL_vector *acl);
/** Set the data of `path`. @return 0, or 1 when it does not exist. */
int zk_set(struct zk_conn *c, const char *path, const char *value);
/** Read the data of `path` into c->slots[0].value. @return 0, or 1 when it does not exist. */
int zk_get(struct zk_conn *c, const char *path);
/** Set the ACL of `path`. @return 0, or 1 when it does not exist. */
int zk_set_acl(struct zk_conn *c, const char *path, const struct ACL_vector *acl);
/** Delete `path` (childless). @return 0, or 1 when it does not exist. */
int zk_delete(struct zk_conn *c, const char *path);
/**
 * The children of `path` into *names (empty when it does not exist); free
 * them with deallocate_String_vector(). @return 0, or 1 when it does not exist.
 */
int zk_children(struct zk_conn *c, const char *path, struct String_vector *names);

/**
 * Give `root` and every znode under it `acl`, level by level: the children of
 * a znode are listed after its ACL is set, so a znode made under it earlier
 * (by an identity the new ACL drops, say) is found and set too, and one made
 * later was made by an identity the new ACL allows.
 * @param[out] count  znodes set (0 when `root` does not exist).
 */
int zk_tree_set_acl(struct zk_conn *c, const char *root, const struct ACL_vector *acl, long *count);
/**
 * Delete `root` and everything under it, deepest level first; when a znode
 * was made meanwhile, the tree is read again. @param[out] removed  znodes deleted.
 */
int zk_tree_delete(struct zk_conn *c, const char *root, long *removed);

/** "parent/name", or NULL when out of memory; free() it. */
char *zk_child(const char *parent, const char *name);

#endif
