/* Git driver: an instance is a bare repository Apache serves over smart HTTP, a binding a login in its group. */
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <osb.h>

/*
 * The tree the broker writes under driver.root, and Apache reads (README.md has
 * its configuration): one Apache config for every repository, so no reload is
 * ever needed; Apache reads both files again on every request.
 *   repos/<instance>.git   a bare repository (GIT_PROJECT_ROOT is repos)
 *   htpasswd               "<binding>:<bcrypt hash>", a line per binding
 *   groups                 "<instance>: <binding>" (read-write) or "<instance>.ro: <binding>"
 */
#define GT_REPOS "repos"
#define GT_HTPASSWD "htpasswd"
#define GT_GROUPS "groups"
#define GT_LOCK ".osb-git.lock"
/* Apache (another user of the tree's group) reads the files and runs the hook. */
#define GT_FILE_MODE 0640
#define GT_HOOK_MODE 0750
/* Largest htpasswd or groups file read: about 500,000 bindings. */
#define GT_MAX_FILE (64u * 1024u * 1024u)
/* bcrypt's cost as `htpasswd -B` sets it: Apache checks the hash on every request, and the passwords are random. */
#define GT_BCRYPT_COST 5
#define GT_READ_ONLY_SUFFIX ".ro"
#define GT_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"

/* The driver's settings; read-only after init. */
struct gt_state {
	char *root;     /* driver.root: the tree above */
	char *repos;    /* root/repos */
	char *url_path; /* driver.url_path: where Apache serves repos, "" or "/git"-like */
	char *git;      /* driver.git: the git program */
};

/* -- the server ------------------------------------------------------------- */

/* Apache answers HTTP at the target (any status: the broker has no login of its own), and the tree is writable. */
static int gt_probe(const struct gt_state *st, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	osb_http_options opts = { .ca_file = t->ca_file };
	osb_http_response resp = { 0 };
	char url[1200];
	int rc;

	if (access(st->repos, W_OK | X_OK) != 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "the repository tree %s is missing or not writable: %s",
				      st->repos, strerror(errno));
	snprintf(url, sizeof(url), strchr(t->host, ':') ? "%s://[%s]:%d%s/" : "%s://%s:%d%s/",
		 t->tls ? "https" : "http", t->host, t->port, st->url_path);
	if ((rc = osb_http_request(&opts, "GET", url, NULL, NULL, NULL, timeout_ms, &resp)) != 0)
		osb_errbuf_set(err, rc, "Apache at %s:%d does not answer: %s", t->host, t->port, resp.error);
	osb_http_response_free(&resp);
	return rc;
}

/* Run git with argv (after the program), within timeout_ms; a failure carries git's own words. */
static int gt_git(const struct gt_state *st, int timeout_ms, osb_errbuf *err, const char *const *args)
{
	const char *argv[16] = { st->git };
	osb_exec_options opt = { .argv = argv, .timeout_ms = timeout_ms };
	osb_exec_result res = { 0 };
	size_t n = 1;
	int rc;

	while (args[n - 1] && n < 15)
		argv[n] = args[n - 1], n++;
	argv[n] = NULL;
	if ((rc = osb_exec(&res, &opt)) > 0)
		rc = osb_errbuf_set(err, OSB_EBACKEND, "git %s failed: %.300s", args[0], res.err ? res.err : "");
	else if (rc < 0)
		rc = osb_errbuf_set(err, rc == OSB_ETIMEOUT ? OSB_ETIMEOUT : OSB_EBACKEND, "git %s: %s", args[0],
				    osb_strerror(rc));
	osb_exec_result_free(&res);
	return rc;
}

/* -- htpasswd and groups ------------------------------------------------------ */

/*
 * The names of a line, "user:hash" of htpasswd or "group: user" of groups (a
 * group "<instance>.ro" gives "<instance>"): 0 unless the first field is a
 * derived name; `user` is "" unless the rest of the line is one.
 */
static int gt_line_names(const char *line, size_t len, char first[OSB_NAME_SIZE], char user[OSB_NAME_SIZE])
{
	const size_t ro = strlen(GT_READ_ONLY_SUFFIX);
	const char *colon = memchr(line, ':', len), *u;
	size_t n;

	if (!colon)
		return 0;
	n = (size_t)(colon - line);
	if (n > ro && memcmp(colon - ro, GT_READ_ONLY_SUFFIX, ro) == 0)
		n -= ro;
	if (!osb_name_is_derived_n(line, n))
		return 0;
	snprintf(first, OSB_NAME_SIZE, "%.*s", (int)n, line);
	for (u = colon + 1; u < line + len && *u == ' '; u++)
		;
	user[0] = '\0';
	if (osb_name_is_derived_n(u, (size_t)(line + len - u)))
		snprintf(user, OSB_NAME_SIZE, "%.*s", OSB_NAME_SIZE - 1, u);
	return 1;
}

/* Which lines a rewrite drops: those naming `name` as their first field (GT_BY_FIRST) or as their user (GT_BY_USER). */
enum { GT_BY_FIRST, GT_BY_USER };
struct gt_match {
	int by;
	const char *name;
};

static int gt_drops(const char *line, size_t len, void *arg)
{
	const struct gt_match *m = arg;
	char first[OSB_NAME_SIZE], user[OSB_NAME_SIZE];

	if (!gt_line_names(line, len, first, user))
		return 0;
	return strcmp(m->by == GT_BY_FIRST ? first : user, m->name) == 0;
}

/*
 * Rewrite root/file without the lines that name `name`, plus the line `add`
 * when given, atomically: Apache sees the old file or the new one. Callers
 * hold the tree's lock.
 */
static int gt_rewrite(const struct gt_state *st, const char *file, int by, const char *name, const char *add,
		      osb_errbuf *err)
{
	struct gt_match m = { by, name };
	int rc = osb_file_edit_lines(st->root, file, GT_FILE_MODE, GT_MAX_FILE, gt_drops, &m, add);

	if (rc < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot rewrite %s/%s: %s", st->root, file,
				      rc == OSB_ERROR ? "the broker's log says why" : osb_strerror(rc));
	return 0;
}

static int gt_lock(const struct gt_state *st, int timeout_ms, osb_errbuf *err)
{
	int fd = osb_file_lock(st->root, GT_LOCK, timeout_ms);

	if (fd == OSB_ETIMEOUT)
		return osb_errbuf_set(err, OSB_ETIMEOUT, "another change of %s held its lock too long", st->root);
	if (fd < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot lock %s/%s: %s", st->root, GT_LOCK, strerror(errno));
	return fd;
}

/* Take a binding's access away: its group line first (no access from the next request on), then its login. */
static int gt_drop_user(const struct gt_state *st, const char *user, int timeout_ms, osb_errbuf *err)
{
	int lock = gt_lock(st, timeout_ms, err), rc;

	if (lock < 0)
		return lock;
	if ((rc = gt_rewrite(st, GT_GROUPS, GT_BY_USER, user, NULL, err)) == 0)
		rc = gt_rewrite(st, GT_HTPASSWD, GT_BY_FIRST, user, NULL, err);
	osb_file_unlock(lock);
	return rc;
}

/* -- repositories ----------------------------------------------------------- */

/*
 * The plan's size limit, enforced by the server on every push: the hook sees
 * the pushed objects in the repository's objects/ (their quarantine is inside
 * it) before any ref moves, and receive.maxInputSize stops a pack larger than
 * the whole limit while it is still arriving.
 */
static int gt_apply_plan(const struct gt_state *st, osb_request *req, const char *dir)
{
	long long mb = osb_request_plan_int(req, "repository_mb", 0);
	char hooks[4200], path[4200], bytes[32];
	osb_buf hook = OSB_BUF_INIT;
	int rc = 0;

	if (mb <= 0 || mb > 1024 * 1024)
		return osb_req_fail(req, OSB_ERROR, "the plan's x-osb.repository_mb must be a size in MB");
	snprintf(hooks, sizeof(hooks), "%s/hooks", dir);
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(bytes, sizeof(bytes), "%lld", mb * 1024 * 1024);
	osb_buf_printf(&hook,
		       "#!/bin/sh\n"
		       "# Written by osb-git-broker: a push may not take the repository past %lld MB.\n"
		       "PATH=/usr/bin:/bin\nset -- $(du -sk objects)\n"
		       "if [ \"$1\" -gt %lld ]; then\n"
		       "\techo \"osb: refused: the repository would take $1 KB, more than its plan's %lld MB\" >&2\n"
		       "\texit 1\nfi\n",
		       mb, mb * 1024, mb);
	if (!osb_buf_text(&hook))
		rc = osb_req_fail(req, OSB_ENOMEM, "out of memory");
	/* chmod, since mkdir's mode passes through the broker's umask: Apache must reach the hook. */
	else if ((mkdir(hooks, 02770) != 0 && errno != EEXIST) || chmod(hooks, 02770) != 0 ||
		 osb_file_write_mode(hooks, "pre-receive", hook.data, hook.len, 0, GT_HOOK_MODE) != 0)
		rc = osb_req_fail(req, OSB_EBACKEND, "cannot write the size hook of %s", dir);
	else
		rc = gt_git(st, osb_request_timeout_ms(req), osb_request_errbuf(req),
			    (const char *const[]){ "config", "--file", path, "receive.maxInputSize", bytes, NULL });
	osb_buf_free(&hook);
	if (rc == 0)
		osb_request_note(req, "size limit %lld MB", mb);
	return rc;
}

/* Remove the instance's repository and what interrupted calls left (".<name>.git.tmp", ".<name>.git.del"). */
static int gt_remove_repo(const struct gt_state *st, const char *name, osb_errbuf *err)
{
	char repo[4200], del[4200], tmp[64];

	snprintf(repo, sizeof(repo), "%s/%s.git", st->repos, name);
	snprintf(del, sizeof(del), "%s/.%s.git.del", st->repos, name);
	snprintf(tmp, sizeof(tmp), ".%s.git.tmp", name);
	/* Out of Apache's sight in one step, then removed (a crash leaves .del, which the next try removes). */
	if (osb_file_remove(st->repos, strrchr(del, '/') + 1) != 0 || (rename(repo, del) != 0 && errno != ENOENT) ||
	    osb_file_remove(st->repos, strrchr(del, '/') + 1) != 0 || osb_file_remove(st->repos, tmp) != 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot remove the repository %s.git from %s: %s", name,
				      st->repos, strerror(errno));
	return 0;
}

/* Remove an instance: its group lines (no binding reaches it any more), then its repository. */
static int gt_drop_instance(const struct gt_state *st, const char *name, int timeout_ms, osb_errbuf *err)
{
	int lock = gt_lock(st, timeout_ms, err), rc;

	if (lock < 0)
		return lock;
	if ((rc = gt_rewrite(st, GT_GROUPS, GT_BY_FIRST, name, NULL, err)) == 0)
		rc = gt_remove_repo(st, name, err);
	osb_file_unlock(lock);
	return rc;
}

/* The instance's repository directory, "<repos>/<name>.git" (or its temporary twin), in the request's arena. */
static char *gt_repo_dir(const struct gt_state *st, osb_request *req, int tmp)
{
	return osb_req_sprintf(req, tmp ? "%s/.%s.git.tmp" : "%s/%s.git", st->repos, osb_request_instance_name(req));
}

/* -- instances ---------------------------------------------------------------- */

static int git_provision(osb_request *req, void *state)
{
	const struct gt_state *st = state;
	const cJSON *branch = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "default_branch");
	char *dir = gt_repo_dir(st, req, 0), *tmp = gt_repo_dir(st, req, 1), *initial;
	struct stat sb;
	int rc;

	initial = osb_req_sprintf(req, "--initial-branch=%s", cJSON_IsString(branch) ? branch->valuestring : "main");
	if (!dir || !tmp || !initial)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if ((rc = gt_probe(st, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req))) < 0)
		return rc;
	/* A repeat finds the repository made: the plan's limit is written again, nothing else changes. */
	if (stat(dir, &sb) == 0)
		return gt_apply_plan(st, req, dir);
	/* Made aside and renamed into place, so Apache never serves half a repository. */
	if (osb_file_remove(st->repos, strrchr(tmp, '/') + 1) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "cannot remove %s: %s", tmp, strerror(errno));
	if ((rc = gt_git(st, osb_request_timeout_ms(req), osb_request_errbuf(req),
			 (const char *const[]){ "init", "--bare", "--quiet", "--shared=0660", "--template=", initial,
						tmp, NULL })) < 0 ||
	    (rc = gt_apply_plan(st, req, tmp)) < 0)
		return rc;
	if (rename(tmp, dir) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "cannot move the new repository to %s: %s", dir,
				    strerror(errno));
	osb_request_note(req, "bare repository %s", dir);
	return 0;
}

static int git_update(osb_request *req, void *state)
{
	const struct gt_state *st = state;
	char *dir = gt_repo_dir(st, req, 0);
	struct stat sb;

	if (!dir)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if (stat(dir, &sb) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "the repository %s is missing", dir);
	return gt_apply_plan(st, req, dir);
}

static int git_deprovision(osb_request *req, void *state)
{
	return gt_drop_instance(state, osb_request_instance_name(req), osb_request_timeout_ms(req),
				osb_request_errbuf(req));
}

/* -- bindings ----------------------------------------------------------------- */

/* "<binding>:<bcrypt hash>" for htpasswd, into a buffer that wipes itself. */
static int gt_htpasswd_line(osb_buf *out, const char *user, const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *hash;
	int rc = OSB_ERROR;

	/* $2y$: bcrypt as Apache checks it itself (apr), whatever the system's crypt() knows. */
	if (cd && crypt_gensalt_rn("$2y$", GT_BCRYPT_COST, NULL, 0, salt, sizeof(salt)) &&
	    (hash = crypt_r(password, salt, cd)) && hash[0] == '$')
		rc = osb_buf_printf(out, "%s:%s", user, hash) == 0 ? 0 : OSB_ENOMEM;
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	return rc;
}

/* The repository's URL, with the binding's login in it or without. */
static char *gt_url(osb_request *req, const struct gt_state *st, const char *user, const char *password)
{
	const osb_target *t = osb_request_target(req);
	char *base = osb_credentials_uri(req, t->tls ? "https" : "http", user, password, t->public_host, t->public_port,
					 NULL);

	return base ? osb_req_sprintf(req, "%s%s/%s.git", base, st->url_path, osb_request_instance_name(req)) : NULL;
}

static int git_bind(osb_request *req, void *state)
{
	const struct gt_state *st = state;
	const char *user = osb_request_binding_name(req), *name = osb_request_instance_name(req);
	int read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "read_only"));
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", member[2 * OSB_NAME_SIZE + 8], *dir = gt_repo_dir(st, req, 0);
	osb_buf line = OSB_BUF_INIT;
	cJSON *cred = NULL;
	struct stat sb;
	int rc, lock = -1;

	snprintf(member, sizeof(member), "%s%s: %s", name, read_only ? GT_READ_ONLY_SUFFIX : "", user);
	if ((rc = gt_probe(st, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req))) < 0)
		goto done;
	if (!dir || stat(dir, &sb) != 0) {
		rc = osb_req_fail(req, OSB_EBACKEND, "the instance's repository %s.git is missing", name);
		goto done;
	}
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    (rc = gt_htpasswd_line(&line, user, password)) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot make a password and its bcrypt hash");
		goto done;
	}
	/* The login first, then the group that opens the repository to it; a repeat replaces both. */
	if ((rc = lock = gt_lock(st, osb_request_timeout_ms(req), osb_request_errbuf(req))) < 0 ||
	    (rc = gt_rewrite(st, GT_HTPASSWD, GT_BY_FIRST, user, line.data, osb_request_errbuf(req))) < 0 ||
	    (rc = gt_rewrite(st, GT_GROUPS, GT_BY_USER, user, member, osb_request_errbuf(req))) < 0)
		goto done;
	cred = osb_credentials_new(req, &(osb_credentials_spec){ .username = user, .password = password });
	{
		char *uri = gt_url(req, st, user, password), *clone = gt_url(req, st, NULL, NULL);
		char *repo = osb_req_sprintf(req, "%s.git", name);

		if (cred && (!uri || !clone || !repo || !cJSON_AddStringToObject(cred, "uri", uri) ||
			     !cJSON_AddStringToObject(cred, "clone_url", clone) ||
			     !cJSON_AddStringToObject(cred, "repository", repo) ||
			     !cJSON_AddBoolToObject(cred, "read_only", read_only))) {
			cJSON_Delete(cred);
			cred = NULL;
		}
	}
	if ((rc = osb_credentials_set(req, cred)) == 0)
		osb_request_note(req, "htpasswd user in group %s%s", name,
				 read_only ? GT_READ_ONLY_SUFFIX " (read-only)" : "");
done:
	osb_file_unlock(lock);
	osb_buf_free(&line);
	explicit_bzero(password, sizeof(password));
	return rc;
}

static int git_unbind(osb_request *req, void *state)
{
	return gt_drop_user(state, osb_request_binding_name(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* -- health and reconciliation -------------------------------------------- */

static int git_health(const osb_target *server, void *state, osb_errbuf *err)
{
	return gt_probe(state, server, OSB_HEALTH_TIMEOUT_MS, err);
}

/* Report each derived name of each line of root/file: the first field as `first`, a group line's user as a binding. */
static int gt_list_file(const struct gt_state *st, const char *file, osb_tenant_kind first, osb_tenant_cb cb,
			void *payload, osb_errbuf *err)
{
	osb_buf in = OSB_BUF_INIT;
	char first_name[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	const char *p, *end;
	int rc = osb_file_read(&in, st->root, file, GT_MAX_FILE);

	if (rc == OSB_ENOTFOUND)
		rc = 0;
	else if (rc < 0)
		rc = osb_errbuf_set(err, OSB_EBACKEND, "cannot read %s/%s", st->root, file);
	for (p = in.data ? in.data : ""; rc == 0 && *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (!gt_line_names(p, (size_t)(end - p), first_name, user))
			continue;
		if (cb(first, first_name, payload) || (user[0] && cb(OSB_TENANT_BINDING, user, payload)))
			rc = 1;
	}
	osb_buf_free(&in);
	return rc;
}

/* Repositories (and leftovers of interrupted calls) are instances; htpasswd users and group members bindings. */
static int git_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	const struct gt_state *st = state;
	DIR *d = opendir(st->repos);
	struct dirent *e;
	int rc = 0;

	(void)server;
	if (!d)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot read %s: %s", st->repos, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		const char *n = e->d_name + (e->d_name[0] == '.');
		size_t len = strspn(n, GT_NAME_CHARS);
		char name[OSB_NAME_SIZE];

		if (!osb_name_is_derived_n(n, len) || strncmp(n + len, ".git", 4) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)len, n);
		rc = cb(OSB_TENANT_INSTANCE, name, payload);
	}
	closedir(d);
	if (rc == 0)
		rc = gt_list_file(st, GT_GROUPS, OSB_TENANT_INSTANCE, cb, payload, err);
	if (rc == 0)
		rc = gt_list_file(st, GT_HTPASSWD, OSB_TENANT_BINDING, cb, payload, err);
	return rc > 0 ? 0 : rc;
}

static int git_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	(void)server;
	if (kind == OSB_TENANT_INSTANCE)
		return gt_drop_instance(state, name, OSB_RECONCILE_TIMEOUT_MS, err);
	return gt_drop_user(state, name, OSB_RECONCILE_TIMEOUT_MS, err);
}

/* -- the driver ------------------------------------------------------------ */

static void git_shutdown(void *state)
{
	struct gt_state *st = state;

	if (!st)
		return;
	free(st->root);
	free(st->repos);
	free(st->url_path);
	free(st->git);
	free(st);
}

/* A URL path of plain segments ("" or "/git", "/scm/repos"): it goes into URLs as it is. */
static int gt_url_path_ok(const char *p)
{
	if (!*p)
		return 1;
	for (; *p == '/'; p += strcspn(p + 1, "/") + 1) {
		size_t n = strcspn(p + 1, "/");

		if (n == 0 || strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") < n ||
		    (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return 0;
	}
	return *p == '\0';
}

static int git_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct gt_state *st = calloc(1, sizeof(*st));
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->root, config, "git", "root", "/srv/git")) < 0 ||
	    (rc = osb_driver_config_string(&st->url_path, config, "git", "url_path", "/git")) < 0 ||
	    (rc = osb_driver_config_string(&st->git, config, "git", "git", "git")) < 0)
		goto fail;
	if (st->root[0] != '/' || strlen(st->root) > 3000) {
		osb_log(OSB_LOG_ERROR, "git.config", "driver.root must be an absolute directory path");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	if (strcmp(st->url_path, "/") == 0)
		st->url_path[0] = '\0';
	if (!gt_url_path_ok(st->url_path)) {
		osb_log(OSB_LOG_ERROR, "git.config", "driver.url_path must be a path of plain segments, such as /git");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	if (!(st->repos = malloc(strlen(st->root) + sizeof("/" GT_REPOS)))) {
		rc = OSB_ENOMEM;
		goto fail;
	}
	sprintf(st->repos, "%s/" GT_REPOS, st->root);
	*state = st;
	return 0;
fail:
	git_shutdown(st);
	return rc;
}

static const osb_server_spec git_server = { .default_port = 80, .default_admin_user = "", .password_optional = 1 };

static const struct osb_driver git_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "git",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION,
	.server = &git_server,
	.config_keys = (const char *const[]){ "root", "url_path", "git", NULL },
	OSB_DRIVER_SLOTS(git, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(git, git_driver);
