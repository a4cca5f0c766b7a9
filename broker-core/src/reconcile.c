/* The reconciler: server-side tenants without a record are orphans, reported or purged. */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "osb/log.h"
#include "osb/names.h"

typedef struct {
	char (*names)[OSB_NAME_SIZE];
	size_t n, cap;
	int oom;
} name_set;

static void set_add(name_set *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		void *p = realloc(s->names, cap * sizeof *s->names);
		if (!p) {
			s->oom = 1;
			return;
		}
		s->names = p;
		s->cap = cap;
	}
	memcpy(s->names[s->n++], name, OSB_NAME_SIZE);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int set_has(const name_set *s, const char *name)
{
	return s->n && bsearch(name, s->names, s->n, sizeof *s->names, cmp_name) != NULL;
}

static int live_state(int state)
{
	return state == OSB_REC_READY || state == OSB_REC_CREATING || state == OSB_REC_DELETING;
}

static int add_instance(const osb_instance_rec *rec, void *payload)
{
	char name[OSB_NAME_SIZE];
	if (live_state(rec->state)) {
		osb_name_instance(name, rec->id);
		set_add(payload, name);
	}
	return 0;
}

static int add_binding(const osb_binding_rec *rec, void *payload)
{
	char name[OSB_NAME_SIZE];
	if (live_state(rec->state)) {
		osb_name_binding(name, rec->id);
		set_add(payload, name);
	}
	return 0;
}

typedef struct {
	struct osb_broker *broker;
	name_set *instances;
	name_set *bindings;
	int purge;
	FILE *out;
	long orphans;
	long purged;
} scan_ctx;

static int on_tenant(osb_tenant_kind kind, const char *name, void *payload)
{
	scan_ctx *c = payload;
	const name_set *known = kind == OSB_TENANT_INSTANCE ? c->instances : c->bindings;
	if (strlen(name) + 1 != OSB_NAME_SIZE || set_has(known, name))
		return 0;
	c->orphans++;
	int removed = 0;
	if (c->purge && c->broker->driver->purge(c->broker->driver_state, kind, name) == 0) {
		removed = 1;
		c->purged++;
	}
	fprintf(c->out, "{\"orphan\":\"%s\",\"kind\":\"%s\",\"purged\":%s}\n", name,
		kind == OSB_TENANT_INSTANCE ? "instance" : "binding", removed ? "true" : "false");
	osb_log(OSB_LOG_WARN, "reconcile.orphan", "%s %s has no record%s",
		kind == OSB_TENANT_INSTANCE ? "instance" : "binding", name, removed ? "; purged" : "");
	return 0;
}

int osb_reconcile(struct osb_broker *broker, int purge, FILE *out)
{
	if (!broker->driver->list)
		return OSB_EUNSUPPORTED;
	name_set instances = { 0 }, bindings = { 0 };
	int rc = osb_store_instance_list_all(broker->store, add_instance, &instances);
	if (!rc)
		rc = osb_store_binding_list_all(broker->store, add_binding, &bindings);
	if (!rc && (instances.oom || bindings.oom))
		rc = OSB_ENOMEM;
	if (!rc) {
		if (instances.n)
			qsort(instances.names, instances.n, sizeof *instances.names, cmp_name);
		if (bindings.n)
			qsort(bindings.names, bindings.n, sizeof *bindings.names, cmp_name);
		scan_ctx c = { broker, &instances, &bindings, purge, out, 0, 0 };
		rc = broker->driver->list(broker->driver_state, on_tenant, &c);
		fprintf(out, "{\"orphans\":%ld,\"purged\":%ld,\"records\":{\"instances\":%zu,\"bindings\":%zu}}\n",
			c.orphans, c.purged, instances.n, bindings.n);
		fflush(out);
	}
	free(instances.names);
	free(bindings.names);
	return rc;
}
