/* A test double of a middleware driver: tenants are files, failures come on demand. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <osb.h>

/*
 * Behaviour is steered by the request's parameters (or the instance's, for
 * deprovision), so a test asks for exactly the failure it checks:
 *   "fail": "<op>:<code>"   e.g. "provision:EBACKEND", "bind:ETIMEOUT", "update:EBADREQUEST"
 *   "delay_ms": N            sleep before acting (concurrency and kill tests)
 *   "fail_times": N          with "fail", fail only the first N calls (per instance or binding), then succeed
 *   "fail_late": true        with "fail", fail after the tenant or user was made (the core must undo it)
 *   "mounts": <any JSON>     bind answers it as its volume_mounts, as it is (invalid ones too)
 *   "no_mounts": true        bind of a volume service answers no volume_mounts
 * and by files in the data directory:
 *   fake-down                every callback and health fail with OSB_EBACKEND (an outage)
 * Tenants are files under <data_dir>/fake-tenants/, named like a real server's.
 */

/* How often an operation kind was called for one instance or binding, for "fail_times". */
typedef struct fake_count {
	struct fake_count *next;
	int kind;
	int calls;
	char id[];
} fake_count;

typedef struct {
	char dir[1024];
	char down[1024];
	pthread_mutex_t mu;
	fake_count *counts;
} fake_state;

/* Count one more call of `kind` for `id`; @return the count, or -1 without memory. */
static int count_call(fake_state *s, int kind, const char *id)
{
	int n = -1;
	pthread_mutex_lock(&s->mu);
	fake_count *c = s->counts;
	while (c && (c->kind != kind || strcmp(c->id, id) != 0))
		c = c->next;
	if (!c && (c = calloc(1, sizeof *c + strlen(id) + 1))) {
		c->kind = kind;
		strcpy(c->id, id);
		c->next = s->counts;
		s->counts = c;
	}
	if (c)
		n = ++c->calls;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static const char *const op_names[] = { "", "provision", "update", "deprovision", "bind", "unbind" };

static const struct {
	const char *name;
	int code;
} codes[] = {
	{ "ERROR", OSB_ERROR },         { "EBACKEND", OSB_EBACKEND },
	{ "ETIMEOUT", OSB_ETIMEOUT },   { "EBADREQUEST", OSB_EBADREQUEST },
	{ "ECONFLICT", OSB_ECONFLICT }, { "EUNPROCESSABLE", OSB_EUNPROCESSABLE },
	{ "ENOMEM", OSB_ENOMEM },       { "EUNSUPPORTED", OSB_EUNSUPPORTED },
};

/* The request's steering parameters (the instance's for deprovision). */
static const cJSON *steering(osb_request *req)
{
	if (osb_request_operation(req) == OSB_OP_DEPROVISION)
		return osb_request_instance_parameters(req);
	return osb_request_parameters(req);
}

/* The injected failure of this call, if any: "fail", "fail_times"; `late` picks the "fail_late" ones. */
static int fake_failure(osb_request *req, fake_state *s, int late)
{
	osb_operation_kind kind = osb_request_operation(req);
	const cJSON *p = steering(req);
	if (late != cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "fail_late")))
		return 0;
	const cJSON *fail = cJSON_GetObjectItemCaseSensitive(p, "fail");
	if (!cJSON_IsString(fail))
		return 0;
	const char *colon = strchr(fail->valuestring, ':');
	if (!colon || strncmp(fail->valuestring, op_names[kind], (size_t)(colon - fail->valuestring)) != 0 ||
	    strlen(op_names[kind]) != (size_t)(colon - fail->valuestring))
		return 0;
	const cJSON *times = cJSON_GetObjectItemCaseSensitive(p, "fail_times");
	const char *id = osb_request_binding_id(req) ? osb_request_binding_id(req) : osb_request_instance_id(req);
	int n = count_call(s, kind, id);
	if (n < 0)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if (cJSON_IsNumber(times) && n > (int)times->valuedouble)
		return 0;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(colon + 1, codes[i].name) == 0)
			return osb_req_fail(req, codes[i].code, "injected %s failure (%s)", op_names[kind],
					    codes[i].name);
	return osb_req_fail(req, OSB_ERROR, "injected failure");
}

/* Before any work: the outage, the delay, then an early failure. */
static int fake_injected(osb_request *req, fake_state *s)
{
	const cJSON *p = steering(req);
	if (access(s->down, F_OK) == 0)
		return osb_req_fail(req, OSB_EBACKEND, "fake server is down");
	const cJSON *delay = cJSON_GetObjectItemCaseSensitive(p, "delay_ms");
	if (cJSON_IsNumber(delay) && delay->valuedouble > 0) {
		long ms = (long)delay->valuedouble;
		long left = osb_request_timeout_ms(req);
		struct timespec ts = { (ms < left ? ms : left) / 1000, ((ms < left ? ms : left) % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return fake_failure(req, s, 0);
}

static int tenant_path(char *out, size_t size, fake_state *s, const char *name)
{
	return snprintf(out, size, "%s/%s", s->dir, name) >= (int)size ? -1 : 0;
}

static int write_tenant(fake_state *s, const char *name, const char *content)
{
	char path[1200];
	if (tenant_path(path, sizeof path, s, name))
		return OSB_ERROR;
	FILE *f = fopen(path, "w");
	if (!f)
		return OSB_EBACKEND;
	fputs(content, f);
	fclose(f);
	return 0;
}

static int fake_init(void **state, const cJSON *config, const osb_broker *broker)
{
	fake_state *s = calloc(1, sizeof *s);
	if (!s)
		return OSB_ENOMEM;
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(config, "tenant_dir");
	if (dir && !cJSON_IsString(dir)) {
		osb_log(OSB_LOG_ERROR, "fake.config", "driver.tenant_dir: must be a string");
		free(s);
		return OSB_EBADREQUEST;
	}
	snprintf(s->dir, sizeof s->dir, "%s/fake-tenants",
		 cJSON_IsString(dir) ? dir->valuestring : osb_broker_data_dir(broker));
	snprintf(s->down, sizeof s->down, "%s/fake-down", osb_broker_data_dir(broker));
	mkdir(s->dir, 0700);
	pthread_mutex_init(&s->mu, NULL);
	*state = s;
	return 0;
}

static void fake_shutdown(void *state)
{
	fake_state *s = state;
	while (s->counts) {
		fake_count *c = s->counts;
		s->counts = c->next;
		free(c);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int fake_provision(osb_request *req, void *state)
{
	const char *name = osb_request_instance_name(req);
	int rc = fake_injected(req, state);
	if (rc)
		return rc;
	if ((rc = write_tenant(state, name, osb_request_plan_id(req))))
		return osb_req_fail(req, rc, "cannot create tenant %s", name);
	if ((rc = fake_failure(req, state, 1)))
		return rc;
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "tenant", name);
	osb_request_set_instance_state(req, st);
	char *url = osb_req_sprintf(req, "https://dashboard.example.test/%s", name);
	return url ? osb_request_set_dashboard_url(req, url) : OSB_ENOMEM;
}

/* The dashboard URL is known before provisioning starts, so even a 202 carries it. */
static int fake_dashboard_url(osb_request *req, void *state)
{
	(void)state;
	const char *name = osb_request_instance_name(req);
	char *url = osb_req_sprintf(req, "https://dashboard.example.test/%s", name);
	return url ? osb_request_set_dashboard_url(req, url) : OSB_ENOMEM;
}

static int fake_update(osb_request *req, void *state)
{
	int rc = fake_injected(req, state);
	if (rc)
		return rc;
	return write_tenant(state, osb_request_instance_name(req), osb_request_plan_id(req));
}

static int remove_tenant(fake_state *s, const char *name)
{
	char path[1200];
	if (tenant_path(path, sizeof path, s, name))
		return OSB_ERROR;
	if (unlink(path) != 0 && errno != ENOENT)
		return OSB_EBACKEND;
	return 0;
}

static int fake_deprovision(osb_request *req, void *state)
{
	int rc = fake_injected(req, state);
	if (rc)
		return rc;
	return remove_tenant(state, osb_request_instance_name(req));
}

/*
 * Volume mounts: the "mounts" parameter as it is, else for the volume service
 * (svc-volume) a shared device whose mount_config holds the binding's password,
 * unless "no_mounts" asks for none.
 */
static int fake_mounts(osb_request *req, const char *name, const char *password)
{
	const cJSON *params = osb_request_parameters(req);
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(params, "mounts");
	cJSON *mounts;

	if (given)
		return osb_request_set_volume_mounts(req, cJSON_Duplicate(given, 1));
	if (strcmp(osb_request_service_id(req), "svc-volume") != 0 ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "no_mounts")))
		return 0;
	mounts = cJSON_CreateArray();
	cJSON *m = cJSON_CreateObject(), *device = cJSON_CreateObject(), *config = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "driver", "fakedriver");
	cJSON_AddStringToObject(m, "container_dir", "/var/vcap/data/fake");
	cJSON_AddStringToObject(m, "mode", "rw");
	cJSON_AddStringToObject(m, "device_type", "shared");
	cJSON_AddStringToObject(device, "volume_id", name);
	cJSON_AddStringToObject(config, "username", name);
	cJSON_AddStringToObject(config, "password", password);
	cJSON_AddItemToObject(device, "mount_config", config);
	cJSON_AddItemToObject(m, "device", device);
	cJSON_AddItemToArray(mounts, m);
	return osb_request_set_volume_mounts(req, mounts);
}

static int fake_bind(osb_request *req, void *state)
{
	const char *name = osb_request_binding_name(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	int rc = fake_injected(req, state);
	if (rc)
		return rc;
	if (osb_secret_generate(password, sizeof password, OSB_SECRET_DEFAULT_LEN))
		return osb_req_fail(req, OSB_ERROR, "no randomness");
	if ((rc = write_tenant(state, name, osb_request_instance_id(req))))
		return osb_req_fail(req, rc, "cannot create user %s", name);
	if ((rc = fake_failure(req, state, 1)))
		return rc;
	osb_credentials_spec cs = { .scheme = "fake", .username = name, .password = password };
	if ((rc = osb_credentials_set(req, osb_credentials_new(req, &cs))))
		return rc;
	if ((rc = fake_mounts(req, name, password)))
		return rc;
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "user", name);
	return osb_request_set_binding_state(req, st);
}

static int fake_unbind(osb_request *req, void *state)
{
	int rc = fake_injected(req, state);
	if (rc)
		return rc;
	return remove_tenant(state, osb_request_binding_name(req));
}

static int fake_health(const osb_target *server, void *state, osb_errbuf *err)
{
	fake_state *s = state;
	(void)server;
	if (access(s->down, F_OK) == 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "fake server is down");
	return 0;
}

static int fake_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	(void)server;
	(void)err;
	fake_state *s = state;
	DIR *d = opendir(s->dir);
	if (!d)
		return OSB_EBACKEND;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "osb_", 4) != 0)
			continue;
		char path[1200], content[512] = "";
		tenant_path(path, sizeof path, s, e->d_name);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(content, sizeof content, f))
				content[0] = '\0';
			fclose(f);
		}
		/* instances hold a plan id, bindings an instance id; the plan ids of the test catalog start with "plan-" */
		osb_tenant_kind kind = strncmp(content, "plan-", 5) == 0 ? OSB_TENANT_INSTANCE : OSB_TENANT_BINDING;
		if (cb(kind, e->d_name, payload))
			break;
	}
	closedir(d);
	return 0;
}

static int fake_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	(void)server;
	(void)kind;
	(void)err;
	return remove_tenant(state, name);
}

/* The "server" is the tenant directory: no user names, no password, credentials name 127.0.0.1:1. */
static const osb_server_spec fake_server = { .default_port = 1, .default_admin_user = "", .password_optional = 1 };
static const char *const fake_keys[] = { "tenant_dir", NULL };

static const struct osb_driver fake_driver = {
	OSB_DRIVER_INIT,
	.name = "fake",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE |
		OSB_CAP_BINDING_ROTATION | OSB_CAP_VOLUME_MOUNTS,
	.server = &fake_server,
	.config_keys = fake_keys,
	.init = fake_init,
	.shutdown = fake_shutdown,
	.provision = fake_provision,
	.deprovision = fake_deprovision,
	.update = fake_update,
	.bind = fake_bind,
	.unbind = fake_unbind,
	.health = fake_health,
	.list = fake_list,
	.purge = fake_purge,
	.dashboard_url = fake_dashboard_url,
};

int main(int argc, char **argv)
{
	return osb_main(argc, argv, &fake_driver);
}
