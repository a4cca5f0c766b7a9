/* The gateway: the one place the core calls a driver (gateway.h). */
#include "gateway.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osb/driver_config.h"
#include "osb/log.h"
#include "broker_internal.h"
#include "dedicated_run.h"
#include "deployer.h"
#include "request_internal.h"
#include "server_block.h"
#include "volume_mount.h"

/* Keys of `driver` the gateway knows: server block, driver's own, dedicated ones, and the end. */
#define MAX_KEYS 64

struct osb_gateway {
	const struct osb_driver *d;
	struct osb_broker *broker;
	void *state;             /* what the driver's init returned */
	int initialized;         /* init ran and succeeded: shutdown is owed */
	int has_server;          /* the driver has a shared server */
	osb_server_block server; /* its block, read from the config */
	int has_dedicated;       /* the driver runs dedicated servers */
	osb_dedicated_runner dedicated;
};

static const char *const op_names[] = { "operation", "provision", "update", "deprovision", "bind", "unbind" };

static const char *op_name(osb_operation_kind kind)
{
	return kind >= OSB_OP_PROVISION && kind <= OSB_OP_UNBIND ? op_names[kind] : op_names[0];
}

typedef int (*op_callback)(osb_request *, void *);

static op_callback callback_for(const struct osb_driver *d, osb_operation_kind kind)
{
	switch (kind) {
	case OSB_OP_PROVISION: return d->provision;
	case OSB_OP_UPDATE: return d->update;
	case OSB_OP_DEPROVISION: return d->deprovision;
	case OSB_OP_BIND: return d->bind;
	case OSB_OP_UNBIND: return d->unbind;
	}
	return NULL;
}

/* ---- opening and closing ------------------------------------------------ */

static int known_keys(const struct osb_driver *d, const char *known[MAX_KEYS])
{
	size_t n = 0;
	if (d->server) {
		osb_server_block_keys(d->server, known);
		while (known[n])
			n++;
	}
	for (size_t i = 0; d->config_keys && d->config_keys[i]; i++)
		if (n < MAX_KEYS - 3)
			known[n++] = d->config_keys[i];
	if (d->dedicated) {
		if (d->dedicated->program_key)
			known[n++] = d->dedicated->program_key;
		known[n++] = "dedicated_host";
	}
	known[n] = NULL;
	return 0;
}

int osb_gateway_open(osb_gateway **out, struct osb_broker *broker, const struct osb_driver *d, const cJSON *config)
{
	const char *known[MAX_KEYS];
	osb_gateway *g;
	int rc;

	*out = NULL;
	if (osb_driver_check(d) != 0)
		return OSB_ERROR;
	if (!(g = calloc(1, sizeof *g)))
		return OSB_ENOMEM;
	g->d = d;
	g->broker = broker;
	broker->gateway = g; /* so that the driver's init can ask for osb_broker_server() */
	known_keys(d, known);
	if ((rc = osb_driver_config_check_keys(config, d->name, known)) != 0)
		goto fail;
	if (d->server) {
		if ((rc = osb_server_block_read(&g->server, config, d->name, d->server)) != 0)
			goto fail;
		g->has_server = 1;
	}
	if (d->dedicated) {
		const char *host = broker->deployer ? osb_deployer_host(broker->deployer) : NULL;
		if ((rc = osb_dedicated_runner_init(&g->dedicated, d->dedicated, d->name, config, host)) != 0)
			goto fail;
		g->has_dedicated = 1;
	}
	if (d->init && (rc = d->init(&g->state, config, broker)) != 0)
		goto fail;
	g->initialized = 1;
	if (g->has_server)
		osb_log(OSB_LOG_INFO, "gateway.server", "%s server %s:%d%s as %s; credentials name %s:%d", d->name,
			g->server.target.host, g->server.target.port, g->server.target.tls ? " (TLS)" : "",
			g->server.target.admin_user ? g->server.target.admin_user : "(no user)",
			g->server.target.public_host, g->server.target.public_port);
	*out = g;
	return 0;
fail:
	osb_gateway_close(g);
	broker->gateway = NULL;
	return rc;
}

void osb_gateway_close(osb_gateway *g)
{
	if (!g)
		return;
	if (g->initialized && g->d->shutdown)
		g->d->shutdown(g->state);
	if (g->has_server)
		osb_server_block_free(&g->server);
	if (g->has_dedicated)
		osb_dedicated_runner_fini(&g->dedicated);
	free(g);
}

const osb_target *osb_broker_server(const osb_broker *broker)
{
	const osb_gateway *g = broker ? broker->gateway : NULL;
	return g && g->has_server ? &g->server.target : NULL;
}

const char *osb_gateway_name(const osb_gateway *g)
{
	return g->d->name;
}

int osb_gateway_supports(const osb_gateway *g, osb_operation_kind kind)
{
	/* A dedicated instance's deprovision is the core's alone. */
	return callback_for(g->d, kind) != NULL || (kind == OSB_OP_PROVISION && g->has_dedicated) ||
	       (kind == OSB_OP_DEPROVISION && g->has_dedicated);
}

int osb_gateway_is_dedicated(const osb_gateway *g, const osb_request *req)
{
	osb_deployment d;

	if (!g->has_dedicated)
		return 0;
	if (req->plan && req->plan->dedicated)
		return 1;
	/* A plan that left the catalog: the deployer's record says where the instance lives. */
	return g->broker->deployer && osb_deployer_lookup(g->broker->deployer, req->instance_id, &d) == 0;
}

/* ---- operations --------------------------------------------------------- */

static void set_names(osb_request *req)
{
	osb_name_instance(req->instance_name, req->instance_id);
	req->binding_name[0] = '\0';
	if (req->binding_id)
		osb_name_binding(req->binding_name, req->binding_id);
}

static int call(op_callback cb, osb_request *req, void *state)
{
	int rc = cb(req, state);
	/* Only the table's codes mean something to the engine and the error mapping. */
	if (rc > 0 || rc <= OSB_ERROR_LAST)
		rc = OSB_ERROR;
	return rc;
}

static int run_shared(osb_gateway *g, osb_request *req)
{
	op_callback cb = callback_for(g->d, req->kind);

	if (!g->has_server) {
		/* Only dedicated plans here: a shared tenant was never made, so there is nothing to undo. */
		if (req->kind == OSB_OP_DEPROVISION || req->kind == OSB_OP_UNBIND)
			return 0;
		return osb_req_fail(req, OSB_EUNSUPPORTED, "%s has no shared server: only dedicated plans", g->d->name);
	}
	if (!cb)
		return osb_req_fail(req, OSB_EUNSUPPORTED, "%s does not support %s", g->d->name, op_name(req->kind));
	req->target = &g->server.target;
	return call(cb, req, g->state);
}

static int run_dedicated(osb_gateway *g, osb_request *req)
{
	osb_deployer *dep = g->broker->deployer;
	const char *kind = g->d->dedicated->kind;
	op_callback cb = callback_for(g->d, req->kind);
	osb_dedicated_frame f;
	osb_deployment d;
	int rc;

	if (!dep) {
		/* Without a deployer nothing was ever started: deleting it is done. */
		if (req->kind == OSB_OP_DEPROVISION || req->kind == OSB_OP_UNBIND)
			return 0;
		/* Not OSB_EBACKEND: retrying cannot help, so an asynchronous operation fails at once. */
		return osb_req_fail(req, OSB_EUNSUPPORTED,
				    "dedicated plans need a \"dedicated\" section (port_range) in "
				    "the broker's config");
	}
	if (req->kind == OSB_OP_DEPROVISION) {
		osb_request_set_progress(req, "stopping the dedicated server");
		if (osb_deployer_remove(dep, req->instance_id) != 0)
			return osb_req_fail(req, OSB_EBACKEND,
					    "the dedicated %s server could not be stopped and deleted "
					    "(the broker's log says why)",
					    kind);
		osb_request_note(req, "dedicated %s server stopped and deleted", kind);
		return 0;
	}
	if (req->kind == OSB_OP_UNBIND && osb_deployer_lookup(dep, req->instance_id, &d) == OSB_ENOTFOUND) {
		osb_request_note(req, "no dedicated server left: nothing to revoke");
		return 0;
	}
	if (!cb && req->kind != OSB_OP_PROVISION)
		return osb_req_fail(req, OSB_EUNSUPPORTED, "%s does not support %s", g->d->name, op_name(req->kind));
	if (req->kind == OSB_OP_PROVISION) {
		char progress[96];
		snprintf(progress, sizeof progress, "starting a dedicated %s server", kind);
		osb_request_set_progress(req, progress);
	}
	if ((rc = osb_dedicated_runner_ensure(&g->dedicated, dep, req, g->state, &f)) != 0)
		return rc;
	req->target = &f.target;
	rc = cb ? call(cb, req, g->state) : 0;
	if (rc == 0 && req->kind == OSB_OP_PROVISION && !req->note[0])
		osb_request_note(req, "dedicated %s server on port %d", kind, f.target.port);
	req->target = NULL;
	osb_dedicated_frame_wipe(&f);
	return rc;
}

/*
 * What a bind answered beyond credentials: a volume service's binding MUST carry
 * volume_mounts (spec, Volume Services) in the spec's shape, and any other
 * service's none (the platform may reject them). A failure is the driver's: the
 * bind fails and the engine undoes it.
 */
static int check_bind_answer(const osb_gateway *g, osb_request *req)
{
	int requires = req->plan && req->plan->service->requires_volume_mount;
	char why[160];

	if (!requires && req->volume_mounts)
		return osb_req_fail(req, OSB_ERROR,
				    "the %s driver answered volume_mounts for a service that does not "
				    "require volume_mount",
				    g->d->name);
	if (requires && !req->volume_mounts)
		return osb_req_fail(req, OSB_ERROR, "the %s driver answered no volume_mounts for a volume service",
				    g->d->name);
	if (requires && osb_volume_mounts_check(req->volume_mounts, why, sizeof why) != 0)
		return osb_req_fail(req, OSB_ERROR, "the %s driver answered invalid volume_mounts: %s", g->d->name,
				    why);
	return 0;
}

int osb_gateway_run(osb_gateway *g, osb_request *req)
{
	int64_t started = osb_clock_ms();
	char event[64], subject[96];
	int rc, dedicated;

	set_names(req);
	memset(&req->err, 0, sizeof req->err);
	req->note[0] = '\0';
	dedicated = osb_gateway_is_dedicated(g, req);
	rc = dedicated ? run_dedicated(g, req) : run_shared(g, req);
	if (rc == 0 && req->kind == OSB_OP_BIND)
		rc = check_bind_answer(g, req);
	req->target = NULL;
	if (rc == 0) {
		memset(&req->err, 0, sizeof req->err);
	} else {
		req->err.code = rc;
		if (!req->err.msg[0])
			snprintf(req->err.msg, sizeof req->err.msg, "%s", osb_strerror(rc));
	}
	snprintf(event, sizeof event, "%s.%s", g->d->name, op_name(req->kind));
	if (req->binding_id)
		snprintf(subject, sizeof subject, "binding %s of instance %s", req->binding_name, req->instance_name);
	else
		snprintf(subject, sizeof subject, "instance %s", req->instance_name);
	osb_log(rc ? OSB_LOG_WARN : OSB_LOG_INFO, event, "%s%s: %s in %lld ms%s%s", subject,
		dedicated ? " (dedicated)" : "", rc ? "failed" : "done", (long long)(osb_clock_ms() - started),
		rc || req->note[0] ? ": " : "", rc ? req->err.msg : req->note);
	return rc;
}

int osb_gateway_dashboard_url(osb_gateway *g, osb_request *req, char **out)
{
	int rc;

	*out = NULL;
	if (!g->d->dashboard_url)
		return 0;
	set_names(req);
	req->target = g->has_server ? &g->server.target : NULL;
	rc = call(g->d->dashboard_url, req, g->state);
	req->target = NULL;
	if (rc == 0 && req->dashboard_url) {
		*out = req->dashboard_url;
		req->dashboard_url = NULL;
	}
	return rc;
}

int osb_gateway_health(osb_gateway *g, char *msg, size_t msg_size)
{
	osb_errbuf err = { 0 };
	int rc = 0;

	if (g->has_server && g->d->health) {
		rc = g->d->health(&g->server.target, g->state, &err);
	} else if (!g->has_server && g->broker->deployer) {
		const char *base = osb_deployer_base_dir(g->broker->deployer);
		/* Dedicated servers only: the broker is ready when it can make their directories. */
		if (access(base, W_OK) != 0 && access(base, F_OK) == 0)
			rc = osb_errbuf_set(&err, OSB_EBACKEND, "cannot write to %s", base);
	}
	if (rc == 0)
		return 0;
	if (msg && msg_size)
		snprintf(msg, msg_size, "%s", err.msg[0] ? err.msg : osb_strerror(rc));
	return OSB_EBACKEND;
}

/* ---- reconciliation ----------------------------------------------------- */

typedef struct {
	osb_gateway_tenant *v;
	size_t n, cap;
	int oom;
} tenant_list;

static int add_tenant(tenant_list *l, osb_tenant_kind kind, const char *name, int dedicated)
{
	if (!osb_name_is_derived(name))
		return 0; /* never the broker's: never reported, never purged */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		osb_gateway_tenant *p = realloc(l->v, cap * sizeof *p);
		if (!p) {
			l->oom = 1;
			return 1;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n].kind = kind;
	memcpy(l->v[l->n].name, name, OSB_NAME_SIZE);
	l->v[l->n++].dedicated = dedicated;
	return 0;
}

static int on_shared(osb_tenant_kind kind, const char *name, void *payload)
{
	return add_tenant(payload, kind, name, 0);
}

static int on_dedicated(const char *name, void *payload)
{
	return add_tenant(payload, OSB_TENANT_INSTANCE, name, 1);
}

static int cmp_tenant(const void *a, const void *b)
{
	const osb_gateway_tenant *x = a, *y = b;
	if (x->dedicated != y->dedicated)
		return x->dedicated - y->dedicated;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return strcmp(x->name, y->name);
}

int osb_gateway_list(osb_gateway *g, osb_gateway_tenant **out, size_t *n)
{
	tenant_list l = { NULL, 0, 0, 0 };
	int listed = 0, rc = 0;

	*out = NULL;
	*n = 0;
	if (g->has_server && g->d->list) {
		osb_errbuf err = { 0 };
		listed = 1;
		if ((rc = g->d->list(&g->server.target, g->state, on_shared, &l, &err)) != 0 && !l.oom) {
			char event[64];
			snprintf(event, sizeof event, "%s.list", g->d->name);
			osb_log(OSB_LOG_ERROR, event, "listing the tenants failed: %s",
				err.msg[0] ? err.msg : osb_strerror(rc));
		}
	}
	if (rc == 0 && g->has_dedicated && g->broker->deployer) {
		listed = 1;
		if (osb_deployer_list(g->broker->deployer, on_dedicated, &l) != 0 && !l.oom) {
			osb_log(OSB_LOG_ERROR, "deployer.list", "cannot read %s",
				osb_deployer_base_dir(g->broker->deployer));
			rc = OSB_ERROR;
		}
	}
	if (l.oom)
		rc = OSB_ENOMEM;
	if (rc == 0 && !listed)
		rc = OSB_EUNSUPPORTED;
	if (rc != 0) {
		free(l.v);
		return rc;
	}
	/* Drivers may find a tenant twice (a key prefix through its keys and its users): report it once. */
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_tenant);
	size_t kept = 0;
	for (size_t i = 0; i < l.n; i++)
		if (kept == 0 || cmp_tenant(&l.v[kept - 1], &l.v[i]) != 0)
			l.v[kept++] = l.v[i];
	*out = l.v;
	*n = kept;
	return 0;
}

int osb_gateway_purge(osb_gateway *g, const osb_gateway_tenant *t)
{
	const char *what = t->dedicated ? "dedicated server" : t->kind == OSB_TENANT_INSTANCE ? "instance" : "binding";
	osb_errbuf err = { 0 };
	char event[64];
	int rc;

	snprintf(event, sizeof event, "%s.purge", g->d->name);
	if (!osb_name_is_derived(t->name)) {
		osb_log(OSB_LOG_ERROR, event, "refusing to purge \"%.64s\": not a broker-made name", t->name);
		return OSB_EBADREQUEST;
	}
	if (t->dedicated)
		rc = g->broker->deployer ? osb_deployer_remove_name(g->broker->deployer, t->name) : OSB_EUNSUPPORTED;
	else if (g->has_server && g->d->purge)
		rc = g->d->purge(&g->server.target, g->state, t->kind, t->name, &err);
	else
		rc = OSB_EUNSUPPORTED;
	if (rc != 0)
		osb_log(OSB_LOG_ERROR, event, "%s %s: purge failed: %s", what, t->name,
			err.msg[0] ? err.msg : osb_strerror(rc));
	else
		osb_log(OSB_LOG_INFO, event, "%s %s removed", what, t->name);
	return rc;
}
