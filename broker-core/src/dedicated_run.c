/* Dedicated servers for the gateway: admin password, template copy, prepare and readiness around the deployer. */
#include "dedicated_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osb/buf.h"
#include "osb/driver_config.h"
#include "osb/file.h"
#include "osb/log.h"
#include "osb/secret.h"
#include "file_internal.h"
#include "request_internal.h"

#define ADMIN_FILE "admin.pw"
#define TEMPLATES ".templates"
#define TEMPLATE_DONE ".osb-template-complete"
#define DEFAULT_START_MS 30000
/*
 * A server that exits or never gets ready this many times in a row will not start on a retry
 * either (a missing module, a bad setting): the operation fails rather than wait for its deadline.
 */
#define START_TRIES 3
#define MAX_ARGV 64

int osb_dedicated_runner_init(osb_dedicated_runner *r, const osb_dedicated_spec *spec, const char *driver,
			      const cJSON *config, const char *host)
{
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->spec = spec;
	r->driver = driver;
	pthread_mutex_init(&r->template_lock, NULL);
	if (spec->program_key)
		rc = osb_driver_config_string(&r->program, config, driver, spec->program_key, spec->program);
	else if (!(r->program = strdup(spec->program)))
		rc = OSB_ENOMEM;
	if (rc == 0)
		rc = osb_driver_config_ip(&r->host, config, driver, "dedicated_host", host ? host : "127.0.0.1");
	return rc;
}

void osb_dedicated_runner_fini(osb_dedicated_runner *r)
{
	free(r->program);
	free(r->host);
	pthread_mutex_destroy(&r->template_lock);
	memset(r, 0, sizeof *r);
}

void osb_dedicated_frame_wipe(osb_dedicated_frame *f)
{
	explicit_bzero(f->secret, sizeof f->secret);
}

/* What the deployer's prepare and ready callbacks need. */
typedef struct {
	osb_dedicated_runner *r;
	osb_deployer *dep;
	osb_request *req;
	void *state;
	osb_errbuf *err;
	osb_errbuf ready_err; /* why the last ready() failed: what a start that never got ready reports */
} run_ctx;

static void fill_target(const osb_dedicated_runner *r, osb_dedicated_frame *f, int port, const char *dir)
{
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	memset(&f->target, 0, sizeof f->target);
	f->target.host = r->host;
	f->target.port = port;
	f->target.admin_user = r->spec->admin_user;
	f->target.admin_password = f->secret;
	f->target.public_host = r->host;
	f->target.public_port = port;
	f->target.dir = f->dir;
	f->target.dedicated = 1;
}

/* The instance's admin password: made once (the first writer wins), then always read back. */
static int admin_password(char *out, size_t size, const char *dir, osb_errbuf *err)
{
	int rc = osb_file_read_secret(out, size, dir, ADMIN_FILE);
	if (rc == OSB_ENOTFOUND) {
		char fresh[OSB_SECRET_DEFAULT_LEN + 1];
		if (osb_secret_generate(fresh, sizeof fresh, OSB_SECRET_DEFAULT_LEN) != 0)
			return osb_errbuf_set(err, OSB_ERROR, "cannot generate the dedicated server's admin password");
		rc = osb_file_write_private(dir, ADMIN_FILE, fresh, strlen(fresh), OSB_FILE_KEEP);
		explicit_bzero(fresh, sizeof fresh);
		if (rc == 0)
			rc = osb_file_read_secret(out, size, dir, ADMIN_FILE);
	}
	if (rc < 0)
		return osb_errbuf_set(err, OSB_ERROR,
				      "the admin password file of the dedicated server in %s is unusable", dir);
	return 0;
}

/*
 * Remove what interrupted attempts left: "<kind>.tmp*" directories. Best
 * effort: a tool such an attempt started (a child of a killed broker) may
 * still be writing into one, so what stays is removed next time.
 */
static void remove_attempts(int parentfd, const char *kind)
{
	size_t n = strlen(kind);
	int fd = dup(parentfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, kind, n) == 0 && strncmp(e->d_name + n, ".tmp", 4) == 0)
			osb_file_remove_tree(parentfd, e->d_name);
	closedir(d);
}

/* The template of this kind under base_dir/.templates, made once per broker by the driver's template_init. */
static int ensure_template(run_ctx *c, char *path, size_t size)
{
	osb_dedicated_runner *r = c->r;
	const char *base = osb_deployer_base_dir(c->dep);
	char tmp[4200], marker[4300], parent[4096];
	int rc = 0, parentfd = -1;

	if ((size_t)snprintf(parent, sizeof parent, "%s/" TEMPLATES, base) >= sizeof parent ||
	    (size_t)snprintf(path, size, "%s/%s", parent, r->spec->kind) >= size)
		return osb_errbuf_set(c->err, OSB_ERROR, "the dedicated base directory's path is too long");
	snprintf(marker, sizeof marker, "%s/" TEMPLATE_DONE, path);
	/* Each attempt has a directory of its own, never one an interrupted attempt's tool may still write into. */
	snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
	pthread_mutex_lock(&r->template_lock);
	if (r->template_ready)
		goto done;
	if (osb_mkdir_p(parent, 0700) != 0 || (parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = osb_errbuf_set(c->err, OSB_ERROR, "cannot create %s: %s", parent, strerror(errno));
		goto done;
	}
	remove_attempts(parentfd, r->spec->kind);
	if (access(marker, F_OK) == 0)
		goto done;
	osb_request_set_progress(c->req, "preparing the first dedicated server's data (once per broker)");
	/* A template without its marker was not finished: it is made again. */
	if (osb_file_remove_tree(parentfd, r->spec->kind) != 0 || !mkdtemp(tmp)) {
		rc = osb_errbuf_set(c->err, OSB_ERROR, "cannot make %s: %s", tmp, strerror(errno));
		goto done;
	}
	int64_t t0 = osb_clock_ms();
	if ((rc = r->spec->template_init(tmp, c->state, c->err)) == 0 &&
	    (osb_file_write_private(tmp, TEMPLATE_DONE, "", 0, 0) != 0 || rename(tmp, path) != 0))
		rc = osb_errbuf_set(c->err, OSB_ERROR, "cannot complete the template %s: %s", path, strerror(errno));
	if (rc != 0) {
		osb_file_remove_tree(parentfd, strrchr(tmp, '/') + 1);
		goto done;
	}
	osb_log(OSB_LOG_INFO, "deployer.template", "%s template made in %s in %lld ms", r->spec->kind, path,
		(long long)(osb_clock_ms() - t0));
done:
	if (rc == 0)
		r->template_ready = 1;
	if (parentfd >= 0)
		close(parentfd);
	pthread_mutex_unlock(&r->template_lock);
	return rc;
}

/* {dir}/data from the template, through a temporary copy so that a crash never leaves half of it. */
static int copy_template(run_ctx *c, const char *dir)
{
	char tmpl[4200], data[700], tmp[720];
	int rc, dirfd;

	snprintf(data, sizeof data, "%s/data", dir);
	if (access(data, F_OK) == 0)
		return 0;
	if ((rc = ensure_template(c, tmpl, sizeof tmpl)) != 0)
		return rc;
	snprintf(tmp, sizeof tmp, "%s/data.tmp", dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || osb_file_remove_tree(dirfd, "data.tmp") != 0 || osb_file_copy_tree(tmpl, tmp) != 0 ||
	    rename(tmp, data) != 0)
		rc = osb_errbuf_set(c->err, OSB_ERROR, "cannot copy the %s template into %s: %s", c->r->spec->kind, dir,
				    strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static int prepare_cb(const char *dir, int port, void *payload)
{
	run_ctx *c = payload;
	osb_dedicated_frame f;
	int rc;

	if ((rc = admin_password(f.secret, sizeof f.secret, dir, c->err)) == 0 && c->r->spec->template_init)
		rc = copy_template(c, dir);
	if (rc == 0 && c->r->spec->prepare) {
		fill_target(c->r, &f, port, dir);
		rc = c->r->spec->prepare(c->req, &f.target, c->state, c->err);
		if (rc != 0 && !c->err->msg[0])
			osb_errbuf_set(c->err, rc, "preparing the dedicated server failed: %s", osb_strerror(rc));
	}
	if (rc != 0)
		osb_log(OSB_LOG_ERROR, "deployer.prepare", "%s server in %s: %s", c->r->spec->kind, dir, c->err->msg);
	osb_dedicated_frame_wipe(&f);
	return rc;
}

static int ready_cb(int port, const char *dir, void *payload)
{
	run_ctx *c = payload;
	osb_dedicated_frame f;
	int rc = osb_file_read_secret(f.secret, sizeof f.secret, dir, ADMIN_FILE) < 0 ? OSB_ERROR : 0;

	if (rc == 0) {
		fill_target(c->r, &f, port, dir);
		rc = c->r->spec->ready(&f.target, c->state, &c->ready_err);
	}
	osb_dedicated_frame_wipe(&f);
	return rc;
}

static int plain_value(const char *s)
{
	return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

/* The text of "{plan:KEY}" or "{plan:KEY|DEFAULT}" (between "{plan:" and "}") as a value. */
static int plan_value(char *value, size_t size, const char *spec, size_t len, const cJSON *settings, osb_errbuf *err)
{
	const char *bar = memchr(spec, '|', len);
	size_t klen = bar ? (size_t)(bar - spec) : len;
	char key[128];
	const cJSON *item;

	if (klen == 0 || klen >= sizeof key)
		return osb_errbuf_set(err, OSB_ERROR, "a dedicated server argument has a bad {plan:...} reference");
	memcpy(key, spec, klen);
	key[klen] = '\0';
	item = cJSON_GetObjectItemCaseSensitive(settings, key);
	if (cJSON_IsNumber(item) && item->valuedouble == (double)(long long)item->valuedouble)
		snprintf(value, size, "%lld", (long long)item->valuedouble);
	else if (cJSON_IsString(item) && plain_value(item->valuestring) && strlen(item->valuestring) < size)
		snprintf(value, size, "%s", item->valuestring);
	else if (!item && bar && (size_t)(len - klen - 1) < size)
		snprintf(value, size, "%.*s", (int)(len - klen - 1), bar + 1);
	else
		return osb_errbuf_set(err, OSB_ERROR,
				      "the plan's x-osb.%s must be a whole number or a plain string: the "
				      "dedicated server's arguments need it",
				      key);
	return 0;
}

int osb_dedicated_expand(char **out, const char *arg, const char *host, const cJSON *settings, osb_errbuf *err)
{
	osb_buf b = OSB_BUF_INIT;
	const char *p = arg, *end;
	char value[64];
	int rc = 0;

	*out = NULL;
	while (rc == 0 && *p) {
		if (strncmp(p, "{host}", 6) == 0) {
			osb_buf_puts(&b, host);
			p += 6;
		} else if (strncmp(p, "{plan:", 6) == 0 && (end = strchr(p, '}')) != NULL) {
			if ((rc = plan_value(value, sizeof value, p + 6, (size_t)(end - p - 6), settings, err)) == 0)
				osb_buf_puts(&b, value);
			p = end + 1;
		} else {
			osb_buf_add(&b, p++, 1);
		}
	}
	if (rc == 0 && !(*out = osb_buf_take(&b)))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	osb_buf_free(&b);
	return rc;
}

/* argv (program, then the spec's args) or the spec's env, expanded for this request's plan; NULL-terminated. */
static int expand_all(char **v, size_t max, const char *first, const char *const *list, const osb_dedicated_runner *r,
		      osb_request *req, osb_errbuf *err)
{
	const cJSON *settings = osb_request_plan_settings(req);
	size_t n = 0;
	int rc = 0;

	if (first && !(v[n++] = strdup(first)))
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && list && list[i]; i++) {
		if (n >= max)
			return osb_errbuf_set(err, OSB_ERROR, "too many dedicated server arguments");
		rc = osb_dedicated_expand(&v[n++], list[i], r->host, settings, err);
	}
	return rc;
}

int osb_dedicated_runner_ensure(osb_dedicated_runner *r, osb_deployer *dep, osb_request *req, void *state,
				osb_dedicated_frame *f)
{
	const osb_dedicated_spec *spec = r->spec;
	osb_errbuf *err = osb_request_errbuf(req);
	char *argv[MAX_ARGV + 2] = { NULL }, *env[MAX_ARGV + 1] = { NULL };
	run_ctx c = { r, dep, req, state, err, { 0 } };
	char tries[32] = "";
	osb_process_spec ps;
	osb_deployment d;
	int rc, left = osb_request_timeout_ms(req),
		start_ms = spec->start_timeout_ms ? spec->start_timeout_ms : DEFAULT_START_MS;

	if ((rc = expand_all(argv, MAX_ARGV + 1, r->program, spec->args, r, req, err)) == 0 &&
	    (rc = expand_all(env, MAX_ARGV, NULL, spec->env, r, req, err)) == 0) {
		memset(&ps, 0, sizeof ps);
		ps.kind = spec->kind;
		ps.argv = (const char *const *)argv;
		ps.env = spec->env ? (const char *const *)env : NULL;
		ps.prepare = prepare_cb;
		ps.ready = ready_cb;
		ps.payload = &c;
		ps.stop_signal = spec->stop_signal;
		ps.start_timeout_ms = left < start_ms ? left : start_ms;
		rc = osb_deployer_ensure(dep, osb_request_instance_id(req), &ps, &d);
		if (rc == OSB_EBACKEND && d.start_failed && ++req->dedicated_start_failures >= START_TRIES) {
			rc = OSB_ERROR; /* not transient any more: no retry */
			snprintf(tries, sizeof tries, " in %d tries", START_TRIES);
		}
		if (rc != 0 && !err->msg[0] && c.ready_err.msg[0])
			osb_errbuf_set(err, rc,
				       "the dedicated %s server did not start%s (last readiness check: %s; the "
				       "broker's log says more)",
				       spec->kind, tries, c.ready_err.msg);
		else if (rc != 0 && !err->msg[0])
			osb_errbuf_set(err, rc, "the dedicated %s server did not start%s (the broker's log says why)",
				       spec->kind, tries);
	}
	if (rc == 0 && osb_file_read_secret(f->secret, sizeof f->secret, d.dir, ADMIN_FILE) < 0)
		rc = osb_errbuf_set(err, OSB_EBACKEND, "the admin password of the dedicated server in %s is missing",
				    d.dir);
	if (rc == 0)
		fill_target(r, f, d.port, d.dir);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	return rc;
}
