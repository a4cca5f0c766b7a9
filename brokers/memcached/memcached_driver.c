/* memcached driver: every instance is a memcached of its own (binary protocol, SASL only); a binding a SASL user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

#include <osb.h>

/* The files of a dedicated server besides what the core keeps there. */
#define MC_CONF_FILE "memcached.conf" /* Cyrus SASL's configuration for the application "memcached" */
#define MC_DB_FILE "sasldb2"          /* the users, read by memcached at every authentication */
#define MC_DB_NEXT "sasldb2.next"     /* the copy saslpasswd2 changes before it replaces MC_DB_FILE */
#define MC_DB_MAX (16 * 1024 * 1024)
/* ready() is polled while a server starts: each try must fail fast. */
#define MC_READY_TIMEOUT_MS 500

/* The driver's settings, read-only after init. */
struct mc_state {
	char *saslpasswd; /* the saslpasswd2 program (driver.saslpasswd2) */
	char *path_env;   /* "PATH=..." for it: osb_exec passes no other environment */
};

/* A directory that goes into memcached.conf and argv as it is: only plain path characters. */
static int mc_plain_dir(const char *dir)
{
	return dir[0] == '/' &&
	       strspn(dir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") == strlen(dir);
}

/* -- the users: Cyrus SASL's sasldb, changed with saslpasswd2 -------------- */

/* The whole of dir/name into a new buffer (empty when the file does not exist yet). */
static int mc_read_file(const char *dir, const char *name, char **data, size_t *len, osb_errbuf *err)
{
	char path[600];
	struct stat st;
	int fd, rc = 0;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0
				       : osb_errbuf_set(err, OSB_ERROR, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MC_DB_MAX)
		rc = osb_errbuf_set(err, OSB_ERROR, "%s is not a user database the broker made", path);
	else if (!(*data = malloc((size_t)st.st_size + 1)))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	while (rc == 0 && *len < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + *len, (size_t)st.st_size - *len);
		if (n <= 0)
			rc = osb_errbuf_set(err, OSB_ERROR, "cannot read %s: %s", path,
					    n ? strerror(errno) : "file shrank");
		else
			*len += (size_t)n;
	}
	close(fd);
	if (rc != 0) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

/*
 * Add (password set) or delete (NULL) one user of the server in t->dir.
 * memcached opens the sasldb at every authentication, so the change counts
 * from the next login on, without a restart. The file is never changed in
 * place under a reading server: saslpasswd2 works on a copy that then
 * replaces it atomically. The realm is the host's name, as memcached's own.
 */
static int mc_user(struct mc_state *st, const osb_target *t, const char *user, const char *password, int timeout_ms,
		   osb_errbuf *err)
{
	char realm[256], next[600], conf_env[600];
	char *data = NULL;
	size_t len = 0;
	osb_exec_result res = { 0 };
	int rc;

	if (gethostname(realm, sizeof(realm)) != 0 || !realm[0])
		return osb_errbuf_set(err, OSB_ERROR, "cannot read the host's name (memcached's SASL realm)");
	realm[sizeof(realm) - 1] = '\0';
	snprintf(next, sizeof(next), "%s/" MC_DB_NEXT, t->dir);
	snprintf(conf_env, sizeof(conf_env), "SASL_CONF_PATH=%s", t->dir);
	if ((rc = mc_read_file(t->dir, MC_DB_FILE, &data, &len, err)) < 0)
		return rc;
	if (osb_file_write_private(t->dir, MC_DB_NEXT, data ? data : "", len, 0) != 0) {
		free(data);
		return osb_errbuf_set(err, OSB_ERROR, "cannot copy the user database in %s", t->dir);
	}
	free(data);
	/* -p: the password comes on stdin, never in argv; -c: create the user. */
	const char *argv[] = { st->saslpasswd, password ? "-p" : "-d", "-a", "memcached", "-u", realm, "-f",
			       next,           password ? "-c" : "-d", "--", user,        NULL };
	rc = osb_exec(&res,
		      &(osb_exec_options){ .argv = argv,
					   .env = (const char *const[]){ st->path_env, "LC_ALL=C", conf_env, NULL },
					   .input = password,
					   .input_len = password ? strlen(password) : 0,
					   .timeout_ms = timeout_ms });
	if (rc == OSB_ETIMEOUT)
		rc = osb_errbuf_set(err, OSB_ETIMEOUT, "saslpasswd2 did not finish in time");
	else if (rc == OSB_ENOTFOUND)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot run %s (package sasl2-bin)", st->saslpasswd);
	else if (rc != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "saslpasswd2 failed (%d) for user %s: %.200s", rc, user,
				    res.err && res.err[0] ? res.err : "no message");
	osb_exec_result_free(&res);
	if (rc == 0 && (rc = mc_read_file(t->dir, MC_DB_NEXT, &data, &len, err)) == 0) {
		if (osb_file_write_private(t->dir, MC_DB_FILE, data, len, 0) != 0)
			rc = osb_errbuf_set(err, OSB_ERROR, "cannot replace the user database in %s", t->dir);
		free(data);
	}
	unlink(next);
	return rc;
}

/* -- logins with libmemcached -------------------------------------------- */

/* Log in to the server at t as user and read a key: 0 when the server takes the login. */
static int mc_login(const osb_target *t, const char *user, const char *password, int timeout_ms, osb_errbuf *err)
{
	memcached_st *m = memcached_create(NULL);
	memcached_return_t r = MEMCACHED_MEMORY_ALLOCATION_FAILURE;
	size_t len = 0;
	uint32_t flags = 0;
	char *value;
	int rc;

	if (!m)
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	memcached_behavior_set(m, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
	memcached_behavior_set(m, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(m, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(m, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(m, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)timeout_ms * 1000);
	if (memcached_server_add(m, t->host, (in_port_t)t->port) == MEMCACHED_SUCCESS &&
	    memcached_set_sasl_auth_data(m, user, password) == MEMCACHED_SUCCESS) {
		value = memcached_get(m, "osb:login", strlen("osb:login"), &len, &flags, &r);
		free(value);
	}
	if (r == MEMCACHED_SUCCESS || r == MEMCACHED_NOTFOUND)
		rc = 0;
	else if (r == MEMCACHED_TIMEOUT)
		rc = osb_errbuf_set(err, OSB_ETIMEOUT, "memcached at %s:%d did not answer in time", t->host, t->port);
	else
		rc = osb_errbuf_set(err, OSB_EBACKEND, "memcached at %s:%d refused the login of %s: %s", t->host,
				    t->port, user, memcached_strerror(m, r));
	memcached_destroy_sasl_auth_data(m);
	memcached_free(m);
	return rc;
}

/* -- the dedicated server ------------------------------------------------ */

/*
 * Before the first start: Cyrus SASL's configuration (PLAIN against the
 * instance's own sasldb) and the broker's admin user in that sasldb, made
 * again with the same password when prepare repeats.
 */
static int mc_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	osb_buf conf = OSB_BUF_INIT;
	int rc;

	if (!mc_plain_dir(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	osb_buf_printf(&conf,
		       "# Written by osb-memcached-broker: SASL PLAIN against this instance's users only.\n"
		       "mech_list: plain\npwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s/" MC_DB_FILE
		       "\n",
		       t->dir);
	if (!osb_buf_text(&conf))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, MC_CONF_FILE, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s/" MC_CONF_FILE, t->dir);
	else
		rc = mc_user(state, t, t->admin_user, t->admin_password, osb_request_timeout_ms(req), err);
	osb_buf_free(&conf);
	return rc;
}

static int mc_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	(void)state;
	return mc_login(t, t->admin_user, t->admin_password, MC_READY_TIMEOUT_MS, err);
}

/* -- instances and bindings --------------------------------------------- */

static int memcached_provision(osb_request *req, void *state)
{
	const osb_target *t = osb_request_target(req);
	int rc;

	(void)state;
	/* The core started the server (and its ready() took the admin login); say what it enforces. */
	if ((rc = mc_login(t, t->admin_user, t->admin_password, osb_request_timeout_ms(req),
			   osb_request_errbuf(req))) == 0)
		osb_request_note(req, "memcached on port %d: %lld MB, %lld connections", t->port,
				 osb_request_plan_int(req, "memory_mb", 0),
				 osb_request_plan_int(req, "max_connections", 0));
	return rc;
}

static int memcached_bind(osb_request *req, void *state)
{
	const osb_target *t = osb_request_target(req);
	const char *user = osb_request_binding_name(req);
	osb_errbuf *err = osb_request_errbuf(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", server[300];
	cJSON *cred = NULL, *servers;
	int rc;

	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	/* The new login must work before the platform gets it: this also catches a host renamed under its sasldb. */
	if ((rc = mc_user(state, t, user, password, osb_request_timeout_ms(req), err)) < 0 ||
	    (rc = mc_login(t, user, password, osb_request_timeout_ms(req), err)) < 0)
		goto done;
	snprintf(server, sizeof(server), strchr(t->public_host, ':') ? "[%s]:%d" : "%s:%d", t->public_host,
		 t->public_port);
	cred = osb_credentials_new(
		req, &(osb_credentials_spec){ .scheme = "memcached", .username = user, .password = password });
	if (!cred || !(servers = cJSON_AddArrayToObject(cred, "servers")) ||
	    !cJSON_AddItemToArray(servers, cJSON_CreateString(server))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) < 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "username", user)) != 0)
		goto done;
	osb_request_note(req, "SASL user of the instance's memcached on port %d", t->port);
done:
	explicit_bzero(password, sizeof(password));
	return rc;
}

static int memcached_unbind(osb_request *req, void *state)
{
	/* New logins are refused from now on; a connection that logged in before stays (memcached cannot end it). */
	return mc_user(state, osb_request_target(req), osb_request_binding_name(req), NULL, osb_request_timeout_ms(req),
		       osb_request_errbuf(req));
}

/* -- the driver ------------------------------------------------------------ */

static const char *const memcached_keys[] = { "saslpasswd2", NULL };

static int memcached_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct mc_state *st = calloc(1, sizeof(*st));
	const char *path = getenv("PATH");
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&st->saslpasswd, config, "memcached", "saslpasswd2", "saslpasswd2")) == 0 &&
	    asprintf(&st->path_env, "PATH=%s",
		     path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0) {
		st->path_env = NULL;
		rc = OSB_ENOMEM;
	}
	if (rc != 0) {
		free(st->saslpasswd);
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static void memcached_shutdown(void *state)
{
	struct mc_state *st = state;

	free(st->saslpasswd);
	free(st->path_env);
	free(st);
}

static const osb_dedicated_spec memcached_dedicated = {
	.kind = "memcached",
	.program_key = "memcached",
	.program = "memcached",
	/* SASL alone (-S refuses the ASCII protocol and UDP), the plan's memory and connections, the broker's user. */
	.args = (const char *const[]){ "-S", "-B", "binary", "-U", "0", "-l", "{host}", "-p", "{port}", "-u", "root",
				       "-m", "{plan:memory_mb|64}", "-c", "{plan:max_connections|256}", "-I",
				       "{plan:max_item_size|1m}", NULL },
	.env = (const char *const[]){ "SASL_CONF_PATH={dir}", NULL },
	.admin_user = "osb_admin",
	.prepare = mc_prepare,
	.ready = mc_ready,
	.start_timeout_ms = 10000,
};

static const struct osb_driver memcached_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "memcached",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_ASYNC | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.config_keys = memcached_keys,
	.dedicated = &memcached_dedicated,
	OSB_DRIVER_SLOTS(memcached, init, shutdown, provision, bind, unbind)
};

OSB_DRIVER_DEFINE(memcached, memcached_driver);
