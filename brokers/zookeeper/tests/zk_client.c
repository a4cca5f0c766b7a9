/*
 * A small ZooKeeper client on libzookeeper-mt (the server's own C client) for the tests: one
 * operation with a digest login, its outcome as the exit status and ZooKeeper's error name.
 *
 * Usage: osb-zookeeper-zk-client OP CONNECT AUTH PATH [ARGS]
 *   CONNECT  host:port[/chroot], as a binding's connect_string
 *   AUTH     user:password for `addauth digest`, or - for none
 *   OP       get PATH              print the znode's data
 *            put PATH VALUE        set it, or create it with its parent's ACL (the recipe the
 *                                  credentials name: create_acl "parent")
 *            create PATH VALUE ACL create with ACL world (world:anyone), creator (auth) or parent
 *            ls PATH               print the children, one per line
 *            getacl PATH           print the ACL, "scheme:id:perms" per line
 *            rm PATH               delete the znode
 *            hold PATH SECONDS FILE  read PATH every 50 ms on one session for SECONDS (writes FILE
 *                                  once the session is in); exit 3 as soon as a read is refused
 *            fill PATH N           create PATH/0 ... PATH/N-1 with PATH's ACL (empty data)
 */
#define THREADED
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int connected, auth_done, auth_rc;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh, (void)path, (void)ctx;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&lock);
	connected = state == ZOO_CONNECTED_STATE ? 1 : state == ZOO_CONNECTING_STATE ? 0 : -1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void auth_completion(int rc, const void *data)
{
	(void)data;
	pthread_mutex_lock(&lock);
	auth_rc = rc;
	auth_done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void quiet(const char *message)
{
	(void)message;
}

/* Wait until *flag is set (or connected is non-zero) for at most 10 s. */
static int wait_for(int *flag)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&lock);
	while (!*flag && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cond, &lock, &until);
	pthread_mutex_unlock(&lock);
	return *flag;
}

static int fail(const char *what, const char *path, int rc)
{
	fprintf(stderr, "%s %s: %s\n", what, path, zerror(rc));
	return rc == ZNOAUTH ? 3 : 1;
}

/* The ACL of PATH's parent, for a znode created the way the credentials say. */
static int parent_acl(zhandle_t *zh, const char *path, struct ACL_vector *acl)
{
	char parent[1024];
	struct Stat st;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return ZBADARGUMENTS;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	return zoo_get_acl(zh, parent, acl, &st);
}

static int create(zhandle_t *zh, const char *path, const char *value, const char *how)
{
	struct ACL_vector acl = { 0, NULL };
	int rc, got = 0;

	if (strcmp(how, "world") == 0)
		acl = ZOO_OPEN_ACL_UNSAFE;
	else if (strcmp(how, "creator") == 0)
		acl = ZOO_CREATOR_ALL_ACL;
	else if ((rc = parent_acl(zh, path, &acl)) != ZOK)
		return fail("getacl of the parent of", path, rc);
	else
		got = 1;
	rc = zoo_create(zh, path, value, (int)strlen(value), &acl, 0, NULL, 0);
	if (got)
		deallocate_ACL_vector(&acl);
	return rc == ZOK ? 0 : fail("create", path, rc);
}

static int hold(zhandle_t *zh, const char *path, int seconds, const char *file)
{
	FILE *f = fopen(file, "w");
	char buf[256];
	long n;

	if (f)
		fclose(f);
	for (n = 0; n < seconds * 20L; n++) {
		int len = sizeof(buf), rc = zoo_get(zh, path, 0, buf, &len, NULL);

		if (rc != ZOK) {
			fprintf(stderr, "read %ld of %s refused: %s\n", n + 1, path, zerror(rc));
			return rc == ZNOAUTH ? 3 : 1;
		}
		usleep(50000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *op, *path;
	zhandle_t *zh;
	int rc = 0, len;
	char buf[1024 * 1024];

	if (argc < 5) {
		fprintf(stderr, "usage: %s OP CONNECT AUTH PATH [ARGS]\n", argv[0]);
		return 2;
	}
	op = argv[1];
	path = argv[4];
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if (!(zh = zookeeper_init2(argv[2], watcher, 10000, NULL, NULL, 0, quiet)) || wait_for(&connected) != 1) {
		fprintf(stderr, "cannot connect to %s\n", argv[2]);
		return 1;
	}
	if (strcmp(argv[3], "-") != 0 &&
	    ((rc = zoo_add_auth(zh, "digest", argv[3], (int)strlen(argv[3]), auth_completion, NULL)) != ZOK ||
	     !wait_for(&auth_done) || auth_rc != ZOK)) {
		fprintf(stderr, "addauth refused: %s\n", zerror(rc ? rc : auth_rc));
		zookeeper_close(zh);
		return 1;
	}
	if (strcmp(op, "get") == 0) {
		len = sizeof(buf) - 1;
		if ((rc = zoo_get(zh, path, 0, buf, &len, NULL)) == ZOK) {
			buf[len < 0 ? 0 : len] = '\0';
			printf("%s\n", buf);
		}
		rc = rc == ZOK ? 0 : fail("get", path, rc);
	} else if (strcmp(op, "put") == 0 && argc == 6) {
		rc = zoo_set(zh, path, argv[5], (int)strlen(argv[5]), -1);
		rc = rc == ZNONODE ? create(zh, path, argv[5], "parent") : rc == ZOK ? 0 : fail("set", path, rc);
	} else if (strcmp(op, "create") == 0 && argc == 7) {
		rc = create(zh, path, argv[5], argv[6]);
	} else if (strcmp(op, "ls") == 0) {
		struct String_vector children = { 0, NULL };

		if ((rc = zoo_get_children(zh, path, 0, &children)) == ZOK)
			for (int i = 0; i < children.count; i++)
				printf("%s\n", children.data[i]);
		deallocate_String_vector(&children);
		rc = rc == ZOK ? 0 : fail("ls", path, rc);
	} else if (strcmp(op, "getacl") == 0) {
		struct ACL_vector acl = { 0, NULL };
		struct Stat st;

		if ((rc = zoo_get_acl(zh, path, &acl, &st)) == ZOK)
			for (int i = 0; i < acl.count; i++)
				printf("%s:%s:%d\n", acl.data[i].id.scheme, acl.data[i].id.id, acl.data[i].perms);
		deallocate_ACL_vector(&acl);
		rc = rc == ZOK ? 0 : fail("getacl", path, rc);
	} else if (strcmp(op, "rm") == 0) {
		rc = zoo_delete(zh, path, -1);
		rc = rc == ZOK ? 0 : fail("delete", path, rc);
	} else if (strcmp(op, "fill") == 0 && argc == 6) {
		struct ACL_vector acl = { 0, NULL };
		struct Stat st;
		char child[1024];

		if ((rc = zoo_get_acl(zh, path, &acl, &st)) != ZOK)
			rc = fail("getacl", path, rc);
		for (int i = 0; rc == 0 && i < atoi(argv[5]); i++) {
			snprintf(child, sizeof(child), "%s/%d", path, i);
			if ((rc = zoo_create(zh, child, "", 0, &acl, 0, NULL, 0)) != ZOK)
				rc = fail("create", child, rc);
		}
		deallocate_ACL_vector(&acl);
	} else if (strcmp(op, "hold") == 0 && argc == 7) {
		rc = hold(zh, path, atoi(argv[5]), argv[6]);
	} else {
		fprintf(stderr, "unknown operation or wrong arguments: %s\n", op);
		rc = 2;
	}
	zookeeper_close(zh);
	return rc;
}
