/* The reconciler: server-side tenants without a record are orphans, reported or purged. */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "osb/log.h"
#include "osb/names.h"
#include "gateway.h"

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

int osb_reconcile(struct osb_broker *broker, int purge, FILE *out)
{
	name_set instances = { 0 }, bindings = { 0 };
	osb_gateway_tenant *found = NULL;
	size_t nfound = 0;
	long orphans = 0, purged = 0;
	/* Everything on the servers first, then the records: a tenant made in between is never taken for an orphan. */
	int rc = osb_gateway_list(broker->gateway, &found, &nfound);
	if (!rc)
		rc = osb_store_instance_list_all(broker->store, add_instance, &instances);
	if (!rc)
		rc = osb_store_binding_list_all(broker->store, add_binding, &bindings);
	if (!rc && (instances.oom || bindings.oom))
		rc = OSB_ENOMEM;
	if (!rc) {
		if (instances.n)
			qsort(instances.names, instances.n, sizeof *instances.names, cmp_name);
		if (bindings.n)
			qsort(bindings.names, bindings.n, sizeof *bindings.names, cmp_name);
		for (size_t i = 0; i < nfound; i++) {
			const osb_gateway_tenant *t = &found[i];
			const char *kind = t->dedicated                     ? "dedicated server"
					   : t->kind == OSB_TENANT_INSTANCE ? "instance"
									    : "binding";
			if (set_has(t->kind == OSB_TENANT_INSTANCE ? &instances : &bindings, t->name))
				continue;
			orphans++;
			int removed = purge && osb_gateway_purge(broker->gateway, t) == 0;
			purged += removed;
			fprintf(out, "{\"orphan\":\"%s\",\"kind\":\"%s\",\"purged\":%s}\n", t->name, kind,
				removed ? "true" : "false");
			osb_log(OSB_LOG_WARN, "reconcile.orphan", "%s %s has no record%s", kind, t->name,
				removed ? "; purged" : "");
		}
		fprintf(out, "{\"orphans\":%ld,\"purged\":%ld,\"records\":{\"instances\":%zu,\"bindings\":%zu}}\n",
			orphans, purged, instances.n, bindings.n);
		fflush(out);
	}
	free(found);
	free(instances.names);
	free(bindings.names);
	return rc;
}
