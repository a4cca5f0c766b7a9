/* Subversion driver: an instance is a repository on a shared or its own svnserve, a binding a login of it. */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <osb.h>

/*
 * What the broker writes under svnserve's root (-r), per repository <name>:
 *   conf/svnserve.conf   no anonymous access, this repository's passwd and authz
 *   conf/passwd          "[users]", then "<binding> = <password>" (plain text: svnserve has no hashes)
 *   conf/authz           "[/]", then "<binding> = rw" or "= r"
 *   hooks/pre-commit     the plan's size limit
 * svnserve reads passwd and authz on every connection: nothing is reloaded.
 */
#define SV_LOCK ".osb-svn.lock"
#define SV_MAX_FILE (16u * 1024u * 1024u)
#define SV_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define SV_READY_TIMEOUT_MS 500

/* The driver's settings; read-only after init. */
struct sv_state {
	char *root;     /* driver.root: svnserve's -r directory of the shared server */
	char *svnadmin; /* driver.svnadmin: the program */
};

/* The repositories' directory of a target: the shared root, or "<dir>/repos" of a dedicated server. */
static const char *sv_root(const struct sv_state *st, const osb_target *t, char *buf, size_t size)
{
	if (!t->dedicated)
		return st->root;
	snprintf(buf, size, "%s/repos", t->dir);
	return buf;
}

/* -- the server ------------------------------------------------------------- */

/* svnserve's greeting "( success ( <versions> ..." on a new connection, within timeout_ms. */
static int sv_greeting(const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int64_t deadline = osb_clock_ms() + timeout_ms;
	char port[8], buf[128] = "";
	size_t got = 0;
	int fd = -1, rc = OSB_EBACKEND, soerr = 0;
	socklen_t len = sizeof(soerr);
	struct pollfd p;

	snprintf(port, sizeof(port), "%d", t->port);
	if (getaddrinfo(t->host, port, &hints, &ai) != 0 || !ai)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot resolve svnserve's host %s", t->host);
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
		osb_errbuf_set(err, OSB_EBACKEND, "cannot connect to svnserve at %s:%d: %s", t->host, t->port,
			       strerror(errno));
		goto done;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, osb_ms_left(deadline)) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
	    soerr) {
		rc = soerr || osb_clock_ms() < deadline ? OSB_EBACKEND : OSB_ETIMEOUT;
		osb_errbuf_set(err, rc, "cannot connect to svnserve at %s:%d: %s", t->host, t->port,
			       soerr ? strerror(soerr) : "no answer in time");
		goto done;
	}
	while (got < sizeof(buf) - 1 && !strstr(buf, "( success ( ")) {
		ssize_t n;

		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (osb_clock_ms() >= deadline || poll(&p, 1, osb_ms_left(deadline)) != 1) {
			rc = osb_errbuf_set(err, OSB_ETIMEOUT, "svnserve at %s:%d did not greet in time", t->host,
					    t->port);
			goto done;
		}
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0) {
			osb_errbuf_set(err, OSB_EBACKEND, "svnserve at %s:%d closed the connection", t->host, t->port);
			goto done;
		}
		got += (size_t)n;
		buf[got] = '\0';
	}
	rc = strstr(buf, "( success ( ")
		     ? 0
		     : osb_errbuf_set(err, OSB_EBACKEND, "%s:%d does not speak svn's protocol", t->host, t->port);
done:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* svnserve greets, and the repositories' directory is writable. */
static int sv_probe(const struct sv_state *st, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	char buf[4200];
	const char *root = sv_root(st, t, buf, sizeof(buf));

	if (access(root, W_OK | X_OK) != 0)
		return osb_errbuf_set(err, OSB_EBACKEND,
				      "the repositories' directory %s is missing or not writable: "
				      "%s",
				      root, strerror(errno));
	return sv_greeting(t, timeout_ms, err);
}

static int sv_lock(const char *root, int timeout_ms, osb_errbuf *err)
{
	int fd = osb_file_lock(root, SV_LOCK, timeout_ms);

	if (fd == OSB_ETIMEOUT)
		return osb_errbuf_set(err, OSB_ETIMEOUT, "another change of %s held its lock too long", root);
	if (fd < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot lock %s/%s: %s", root, SV_LOCK, strerror(errno));
	return fd;
}

/* -- passwd and authz ---------------------------------------------------------- */

/* The user of a "<name> = <value>" line, when it is a derived name. */
static int sv_line_user(const char *line, size_t len, char user[OSB_NAME_SIZE])
{
	size_t n = strspn(line, SV_NAME_CHARS);

	if (n > len || !osb_name_is_derived_n(line, n) || (line[n] != ' ' && line[n] != '='))
		return 0;
	snprintf(user, OSB_NAME_SIZE, "%.*s", (int)n, line);
	return 1;
}

static int sv_drops(const char *line, size_t len, void *user)
{
	char u[OSB_NAME_SIZE];

	return sv_line_user(line, len, u) && strcmp(u, user) == 0;
}

/* Rewrite <root>/<repo>/conf/<file> without `user`'s line, plus `add` when given (mode 0600: plain-text passwords). */
static int sv_rewrite(const char *root, const char *repo, const char *file, const char *user, const char *add,
		      osb_errbuf *err)
{
	char conf[4300];
	int rc;

	snprintf(conf, sizeof(conf), "%s/%s/conf", root, repo);
	if ((rc = osb_file_edit_lines(conf, file, 0600, SV_MAX_FILE, sv_drops, (void *)user, add)) < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot rewrite %s/%s: %s", conf, file,
				      rc == OSB_ERROR ? "the broker's log says why" : osb_strerror(rc));
	return 0;
}

/* Take a login away: authz first (no access from the next connection on), then its password. */
static int sv_drop_user(const char *root, const char *repo, const char *user, osb_errbuf *err)
{
	int rc = sv_rewrite(root, repo, "authz", user, NULL, err);

	return rc < 0 ? rc : sv_rewrite(root, repo, "passwd", user, NULL, err);
}

/* -- repositories ----------------------------------------------------------- */

/* Write one file of a repository (private to svnserve's user, which is the broker's). */
static int sv_write(const char *dir, const char *sub, const char *file, const char *text, mode_t mode, osb_errbuf *err)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (osb_file_write_mode(path, file, text, strlen(text), 0, mode) != 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot write %s/%s (the broker's log says why)", path, file);
	return 0;
}

/*
 * The plan's size limit, enforced by svnserve on every commit: the hook runs
 * when the transaction's data is in db/ already, before it becomes a revision.
 */
static int sv_apply_plan(osb_request *req, const char *dir)
{
	long long mb = osb_request_plan_int(req, "repository_mb", 0);
	osb_buf hook = OSB_BUF_INIT;
	int rc;

	if (mb <= 0 || mb > 1024 * 1024)
		return osb_req_fail(req, OSB_ERROR, "the plan's x-osb.repository_mb must be a size in MB");
	osb_buf_printf(&hook,
		       "#!/bin/sh\n"
		       "# Written by osb-svn-broker: a commit may not take the repository past %lld MB.\n"
		       "PATH=/usr/bin:/bin\nset -- $(du -sk \"$1/db\")\n"
		       "if [ \"$1\" -gt %lld ]; then\n"
		       "\techo \"osb: refused: the repository would take $1 KB, more than its plan's %lld MB\" >&2\n"
		       "\texit 1\nfi\n",
		       mb, mb * 1024, mb);
	rc = osb_buf_text(&hook) ? sv_write(dir, "hooks", "pre-commit", hook.data, 0700, osb_request_errbuf(req))
				 : osb_req_fail(req, OSB_ENOMEM, "out of memory");
	osb_buf_free(&hook);
	if (rc == 0)
		osb_request_note(req, "size limit %lld MB", mb);
	return rc;
}

/* svnadmin create, then the files that close the repository to all but its bindings. */
static int sv_create(const struct sv_state *st, osb_request *req, const char *dir)
{
	const char *argv[] = { st->svnadmin, "create", "--fs-type", "fsfs", dir, NULL };
	osb_exec_options opt = { .argv = argv, .timeout_ms = osb_request_timeout_ms(req) };
	osb_exec_result res = { 0 };
	const char *name = osb_request_instance_name(req);
	osb_errbuf *err = osb_request_errbuf(req);
	char conf[512];
	int rc = osb_exec(&res, &opt);

	if (rc != 0)
		rc = osb_errbuf_set(err, rc == OSB_ETIMEOUT ? OSB_ETIMEOUT : OSB_EBACKEND,
				    "svnadmin create failed: %.300s", rc > 0 && res.err ? res.err : osb_strerror(rc));
	osb_exec_result_free(&res);
	snprintf(conf, sizeof(conf),
		 "# Written by osb-svn-broker\n[general]\nanon-access = none\nauth-access = write\n"
		 "password-db = passwd\nauthz-db = authz\nrealm = %s\n[sasl]\nuse-sasl = false\n",
		 name);
	if (rc == 0 && (rc = sv_write(dir, "conf", "passwd", "[users]\n", 0600, err)) == 0 &&
	    (rc = sv_write(dir, "conf", "authz", "[/]\n* =\n", 0600, err)) == 0 &&
	    (rc = sv_write(dir, "conf", "svnserve.conf", conf, 0600, err)) == 0)
		rc = sv_apply_plan(req, dir);
	return rc;
}

/* Remove a repository and what interrupted calls left (".<name>.tmp", ".<name>.del"). */
static int sv_drop_instance(const char *root, const char *name, int timeout_ms, osb_errbuf *err)
{
	char repo[4200], del[4200], tmp[64];
	int lock = sv_lock(root, timeout_ms, err), rc = 0;

	if (lock < 0)
		return lock;
	snprintf(repo, sizeof(repo), "%s/%s", root, name);
	snprintf(del, sizeof(del), "%s/.%s.del", root, name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	/* Out of svnserve's sight in one step, then removed (a crash leaves .del, which the next try removes). */
	if (osb_file_remove(root, strrchr(del, '/') + 1) != 0 || (rename(repo, del) != 0 && errno != ENOENT) ||
	    osb_file_remove(root, strrchr(del, '/') + 1) != 0 || osb_file_remove(root, tmp) != 0)
		rc = osb_errbuf_set(err, OSB_EBACKEND, "cannot remove the repository %s from %s: %s", name, root,
				    strerror(errno));
	osb_file_unlock(lock);
	return rc;
}

/* -- instances ---------------------------------------------------------------- */

static int svn_provision(osb_request *req, void *state)
{
	const struct sv_state *st = state;
	const osb_target *t = osb_request_target(req);
	const char *name = osb_request_instance_name(req);
	char buf[4200], dir[4300], tmp[4300];
	const char *root = sv_root(st, t, buf, sizeof(buf));
	struct stat sb;
	int rc;

	if ((rc = sv_probe(st, t, osb_request_timeout_ms(req), osb_request_errbuf(req))) < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", root, name);
	/* A repeat finds the repository made: the plan's limit is written again, nothing else changes. */
	if (stat(dir, &sb) == 0)
		return sv_apply_plan(req, dir);
	/* Made aside and renamed into place, so svnserve never serves half a repository. */
	if (osb_file_remove(root, strrchr(tmp, '/') + 1) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "cannot remove %s: %s", tmp, strerror(errno));
	if ((rc = sv_create(st, req, tmp)) < 0)
		return rc;
	if (rename(tmp, dir) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "cannot move the new repository to %s: %s", dir,
				    strerror(errno));
	osb_request_note(req, "repository %s", dir);
	return 0;
}

static int svn_update(osb_request *req, void *state)
{
	char buf[4200], dir[4300];

	snprintf(dir, sizeof(dir), "%s/%s", sv_root(state, osb_request_target(req), buf, sizeof(buf)),
		 osb_request_instance_name(req));
	if (access(dir, F_OK) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "the repository %s is missing", dir);
	return sv_apply_plan(req, dir);
}

static int svn_deprovision(osb_request *req, void *state)
{
	char buf[4200];

	return sv_drop_instance(sv_root(state, osb_request_target(req), buf, sizeof(buf)),
				osb_request_instance_name(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* -- bindings ----------------------------------------------------------------- */

static int svn_bind(osb_request *req, void *state)
{
	const osb_target *t = osb_request_target(req);
	const char *user = osb_request_binding_name(req), *name = osb_request_instance_name(req);
	int read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only"));
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", buf[4200], line[OSB_NAME_SIZE + OSB_SECRET_DEFAULT_LEN + 8];
	char access_line[OSB_NAME_SIZE + 8], dir[4300];
	const char *root = sv_root(state, t, buf, sizeof(buf));
	osb_errbuf *err = osb_request_errbuf(req);
	cJSON *cred;
	int rc, lock = -1;

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(access_line, sizeof(access_line), "%s = %s", user, read_only ? "r" : "rw");
	if ((rc = sv_probe(state, t, osb_request_timeout_ms(req), err)) < 0)
		goto done;
	if (access(dir, F_OK) != 0) {
		rc = osb_req_fail(req, OSB_EBACKEND, "the instance's repository %s is missing", dir);
		goto done;
	}
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	snprintf(line, sizeof(line), "%s = %s", user, password);
	/* The login first, then the access that opens the repository to it; a repeat replaces both. */
	if ((rc = lock = sv_lock(root, osb_request_timeout_ms(req), err)) < 0 ||
	    (rc = sv_rewrite(root, name, "passwd", user, line, err)) < 0 ||
	    (rc = sv_rewrite(root, name, "authz", user, access_line, err)) < 0)
		goto done;
	cred = osb_credentials_new(
		req, &(osb_credentials_spec){ .scheme = "svn", .username = user, .password = password, .path = name });
	{
		char *url = osb_credentials_uri(req, "svn", NULL, NULL, t->public_host, t->public_port, name);

		if (cred && (!url || !cJSON_AddStringToObject(cred, "checkout_url", url) ||
			     !cJSON_AddStringToObject(cred, "repository", name) ||
			     !cJSON_AddBoolToObject(cred, "read_only", read_only))) {
			cJSON_Delete(cred);
			cred = NULL;
		}
	}
	if ((rc = osb_credentials_set(req, cred)) == 0)
		osb_request_note(req, "svnserve login of %s%s", name, read_only ? " (read-only)" : "");
done:
	osb_file_unlock(lock);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(password, sizeof(password));
	return rc;
}

static int svn_unbind(osb_request *req, void *state)
{
	char buf[4200];
	const char *root = sv_root(state, osb_request_target(req), buf, sizeof(buf));
	const char *name = osb_request_instance_name(req);
	int lock = sv_lock(root, osb_request_timeout_ms(req), osb_request_errbuf(req)), rc = 0;
	char dir[4300];

	if (lock < 0)
		return lock;
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	/* Without its repository, a binding has nothing left to revoke. */
	if (access(dir, F_OK) == 0)
		rc = sv_drop_user(root, name, osb_request_binding_name(req), osb_request_errbuf(req));
	osb_file_unlock(lock);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

static int svn_health(const osb_target *server, void *state, osb_errbuf *err)
{
	return sv_probe(state, server, OSB_HEALTH_TIMEOUT_MS, err);
}

/* Call fn for each repository (and leftover) of the shared root, with its name; stop at a non-zero return. */
static int sv_each_repo(const struct sv_state *st, int (*fn)(const char *name, int leftover, void *arg), void *arg,
			osb_errbuf *err)
{
	DIR *d = opendir(st->root);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot read %s: %s", st->root, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		int leftover = e->d_name[0] == '.';
		const char *n = e->d_name + leftover;
		size_t len = strspn(n, SV_NAME_CHARS);
		char name[OSB_NAME_SIZE];

		if (!osb_name_is_derived_n(n, len) ||
		    (leftover ? strcmp(n + len, ".tmp") != 0 && strcmp(n + len, ".del") != 0 : n[len] != '\0'))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)len, n);
		rc = fn(name, leftover, arg);
	}
	closedir(d);
	return rc;
}

struct sv_listing {
	const struct sv_state *st;
	osb_tenant_cb cb;
	void *payload;
	const char *user; /* purge: the binding to remove */
	osb_errbuf *err;
};

/* A repository is an instance; each login of its passwd a binding. */
static int sv_list_repo(const char *name, int leftover, void *arg)
{
	struct sv_listing *l = arg;
	osb_buf in = OSB_BUF_INIT;
	char conf[4300], user[OSB_NAME_SIZE];
	const char *p, *end;
	int rc = l->cb(OSB_TENANT_INSTANCE, name, l->payload);

	snprintf(conf, sizeof(conf), "%s/%s/conf", l->st->root, name);
	if (rc || leftover || osb_file_read(&in, conf, "passwd", SV_MAX_FILE) != 0) {
		osb_buf_free(&in);
		return rc;
	}
	for (p = in.data ? in.data : ""; rc == 0 && *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (sv_line_user(p, (size_t)(end - p), user))
			rc = l->cb(OSB_TENANT_BINDING, user, l->payload);
	}
	osb_buf_free(&in);
	return rc;
}

static int svn_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct sv_listing l = { state, cb, payload, NULL, err };
	int rc;

	(void)server;
	rc = sv_each_repo(state, sv_list_repo, &l, err);
	return rc > 0 ? 0 : rc;
}

/* The binding's lines go from whichever repository holds them. */
static int sv_purge_user(const char *name, int leftover, void *arg)
{
	struct sv_listing *l = arg;

	return leftover ? 0 : sv_drop_user(l->st->root, name, l->user, l->err);
}

static int svn_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct sv_listing l = { state, NULL, NULL, name, err };
	const struct sv_state *st = state;
	int lock, rc;

	(void)server;
	if (kind == OSB_TENANT_INSTANCE)
		return sv_drop_instance(st->root, name, OSB_RECONCILE_TIMEOUT_MS, err);
	if ((lock = sv_lock(st->root, OSB_RECONCILE_TIMEOUT_MS, err)) < 0)
		return lock;
	rc = sv_each_repo(st, sv_purge_user, &l, err);
	osb_file_unlock(lock);
	return rc;
}

/* -- dedicated servers ----------------------------------------------------- */

/* Before the first start: the directory svnserve serves. */
static int sv_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	char root[4200];

	(void)req;
	(void)state;
	snprintf(root, sizeof(root), "%s/repos", t->dir);
	if (mkdir(root, 0700) != 0 && errno != EEXIST)
		return osb_errbuf_set(err, OSB_ERROR, "cannot create %s: %s", root, strerror(errno));
	return 0;
}

static int sv_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	(void)state;
	return sv_greeting(t, SV_READY_TIMEOUT_MS, err);
}

/* -- the driver ------------------------------------------------------------ */

static void svn_shutdown(void *state)
{
	struct sv_state *st = state;

	if (!st)
		return;
	free(st->root);
	free(st->svnadmin);
	free(st);
}

static int svn_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct sv_state *st = calloc(1, sizeof(*st));
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->root, config, "svn", "root", "/srv/svn")) < 0 ||
	    (rc = osb_driver_config_string(&st->svnadmin, config, "svn", "svnadmin", "svnadmin")) < 0)
		goto fail;
	if (st->root[0] != '/' || strlen(st->root) > 3000) {
		osb_log(OSB_LOG_ERROR, "svn.config", "driver.root must be an absolute directory path");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	*state = st;
	return 0;
fail:
	svn_shutdown(st);
	return rc;
}

static const osb_server_spec svn_server = { .default_port = 3690, .default_admin_user = "", .password_optional = 1 };

static const osb_dedicated_spec svn_dedicated = {
	.kind = "svn",
	.program_key = "svnserve",
	.program = "svnserve",
	.args = (const char *const[]){ "--daemon", "--foreground", "--listen-host", "{host}", "--listen-port", "{port}",
				       "--root", "{dir}/repos", "--log-file", "{dir}/svnserve.log", NULL },
	.prepare = sv_prepare,
	.ready = sv_ready,
};

static const struct osb_driver svn_driver = { .abi_version = OSB_DRIVER_INIT,
					      .name = "svn",
					      .caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC |
						      OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
					      .server = &svn_server,
					      .config_keys = (const char *const[]){ "root", "svnadmin", NULL },
					      .dedicated = &svn_dedicated,
					      OSB_DRIVER_SLOTS(svn, init, shutdown, provision, deprovision, update,
							       bind, unbind, health, list, purge) };

OSB_DRIVER_DEFINE(svn, svn_driver);
