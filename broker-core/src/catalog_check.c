/* The catalog's validation: every rule of the spec and of the core, with messages that name the JSON path. */
#include "catalog_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/driver.h"
#include "osb/errors.h"
#include "osb/utf8.h"

/* The spec's "Schemas MUST NOT be larger than 64kB", measured compact. */
#define SCHEMA_MAX_BYTES 65536
/* Bound of integer settings (seconds): keeps them exact in a double and in any long. */
#define INT_SETTING_MAX 2147483647L
/* Bytes of a value quoted in a message. */
#define EXCERPT_MAX 64

/* Validation state: where we are in the document, for messages. */
typedef struct {
	const char *name;
	uint32_t caps;
	char *err;
	size_t err_size;
	char path[512];
	size_t path_len;
} ctx;

static int fail(ctx *c, const char *fmt, ...) OSB_PRINTF(2, 3);

static int fail(ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->err && c->err_size) {
		if (c->path_len)
			snprintf(c->err, c->err_size, "%s: %s: %s", c->name, c->path, msg);
		else
			snprintf(c->err, c->err_size, "%s: %s", c->name, msg);
	}
	return OSB_EBADREQUEST;
}

static int fail_nomem(ctx *c)
{
	if (c->err && c->err_size)
		snprintf(c->err, c->err_size, "%s: out of memory", c->name);
	return OSB_ENOMEM;
}

static void path_set_len(ctx *c, size_t len)
{
	c->path_len = len;
	c->path[len] = '\0';
}

/* Append ".key" (or "key" at the root); returns the length to restore with path_pop. */
static size_t path_push_key(ctx *c, const char *key)
{
	size_t old = c->path_len;
	int n = snprintf(c->path + old, sizeof c->path - old, old ? ".%s" : "%s", key ? key : "");
	size_t len = n < 0 ? old : old + (size_t)n;
	path_set_len(c, len < sizeof c->path ? len : sizeof c->path - 1);
	return old;
}

static size_t path_push_index(ctx *c, size_t i)
{
	size_t old = c->path_len;
	int n = snprintf(c->path + old, sizeof c->path - old, "[%zu]", i);
	size_t len = n < 0 ? old : old + (size_t)n;
	path_set_len(c, len < sizeof c->path ? len : sizeof c->path - 1);
	return old;
}

static void path_pop(ctx *c, size_t old)
{
	path_set_len(c, old);
}

/* A value quoted in a message: at most EXCERPT_MAX bytes, control characters and quotes masked. */
static const char *excerpt(char buf[EXCERPT_MAX + 4], const char *s)
{
	size_t n = 0;
	for (; s[n] && n < EXCERPT_MAX; n++) {
		unsigned char ch = (unsigned char)s[n];
		buf[n] = (ch < 0x20 || ch == 0x7f || ch == '"') ? '?' : (char)ch;
	}
	if (s[n]) {
		/* Cut before a partial UTF-8 sequence, then mark the cut. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "invalid";
}

typedef enum { K_STRING, K_NONEMPTY, K_BOOL, K_OBJECT, K_ARRAY } kind;

static int is_kind(const cJSON *v, kind k)
{
	switch (k) {
	case K_STRING:
	case K_NONEMPTY: return cJSON_IsString(v) && v->valuestring;
	case K_BOOL: return cJSON_IsBool(v);
	case K_OBJECT: return cJSON_IsObject(v);
	case K_ARRAY: return cJSON_IsArray(v);
	}
	return 0;
}

static const char *kind_name(kind k)
{
	switch (k) {
	case K_STRING: return "a string";
	case K_NONEMPTY: return "a non-empty string";
	case K_BOOL: return "a boolean";
	case K_OBJECT: return "an object";
	case K_ARRAY: return "an array";
	}
	return "?";
}

/* Report at `path` that `v` is not of kind `k`. */
static int fail_kind(ctx *c, const cJSON *v, kind k)
{
	if (k == K_NONEMPTY && cJSON_IsString(v))
		return fail(c, "must be a non-empty string");
	return fail(c, "must be %s, not %s", kind_name(k), type_name(v));
}

static int check_kind(ctx *c, const cJSON *v, kind k)
{
	if (!is_kind(v, k) || (k == K_NONEMPTY && v->valuestring[0] == '\0'))
		return fail_kind(c, v, k);
	return 0;
}

/* Member `key` of `obj` of kind `k`: *out is NULL when absent and not required. */
static int get_field(ctx *c, cJSON *obj, const char *key, kind k, int required, cJSON **out)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t old;
	int rc = 0;

	*out = NULL;
	if (!v && !required)
		return 0;
	old = path_push_key(c, key);
	if (!v)
		rc = fail(c, "required field is missing (%s)", kind_name(k));
	else
		rc = check_kind(c, v, k);
	path_pop(c, old);
	if (rc == 0)
		*out = v;
	return rc;
}

/* Optional boolean: *out keeps `dflt` when absent; *present tells (may be NULL). */
static int get_bool(ctx *c, cJSON *obj, const char *key, int dflt, int *out, int *present)
{
	cJSON *v;
	int rc = get_field(c, obj, key, K_BOOL, 0, &v);
	if (rc)
		return rc;
	*out = v ? cJSON_IsTrue(v) : dflt;
	if (present)
		*present = v != NULL;
	return 0;
}

/* Optional positive integer (JSON number with no fraction), 0 when absent. */
static int get_posint(ctx *c, cJSON *obj, const char *key, long *out, int *present)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t old;
	int rc = 0;

	*out = 0;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	old = path_push_key(c, key);
	if (!cJSON_IsNumber(v)) {
		rc = fail(c, "must be a positive integer, not %s", type_name(v));
	} else {
		double d = v->valuedouble;
		if (!(d >= 1 && d <= (double)INT_SETTING_MAX) || d != (double)(long)d)
			rc = fail(c, "must be a positive integer of at most %ld, not %.17g", INT_SETTING_MAX, d);
		else
			*out = (long)d;
	}
	path_pop(c, old);
	return rc;
}

/* ---- Semantic Versioning 2.0.0 ---- */

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_ident_char(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-';
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]; numeric ones without leading zeros if asked. */
static const char *semver_identifiers(const char *s, int numeric_no_leading_zero)
{
	for (;;) {
		const char *start = s;
		int all_digits = 1;
		while (is_ident_char(*s)) {
			if (!is_digit(*s))
				all_digits = 0;
			s++;
		}
		if (s == start)
			return NULL;
		if (numeric_no_leading_zero && all_digits && *start == '0' && s - start > 1)
			return NULL;
		if (*s != '.')
			return s;
		s++;
	}
}

/* The grammar of semver.org 2.0.0: MAJOR.MINOR.PATCH[-prerelease][+build]. */
static int semver_valid(const char *s)
{
	for (int part = 0; part < 3; part++) {
		if (!is_digit(*s))
			return 0;
		if (*s == '0' && is_digit(s[1]))
			return 0;
		while (is_digit(*s))
			s++;
		if (part < 2) {
			if (*s != '.')
				return 0;
			s++;
		}
	}
	if (*s == '-') {
		s = semver_identifiers(s + 1, 1);
		if (!s)
			return 0;
	}
	if (*s == '+') {
		/* Build metadata identifiers may have leading zeros. */
		s = semver_identifiers(s + 1, 0);
		if (!s)
			return 0;
	}
	return *s == '\0';
}

/* ---- whole-document checks ---- */

/* No duplicate keys (the served body must mean one thing) and only finite numbers. */
static int check_tree(ctx *c, cJSON *node)
{
	cJSON *child;
	size_t i = 0;

	if (cJSON_IsNumber(node) && !isfinite(node->valuedouble))
		return fail(c, "number out of range");
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	cJSON_ArrayForEach(child, node)
	{
		size_t old;
		int rc = 0;
		if (cJSON_IsObject(node)) {
			old = path_push_key(c, child->string);
			for (cJSON *prev = node->child; prev != child; prev = prev->next) {
				if (strcmp(prev->string, child->string) == 0) {
					rc = fail(c, "key appears twice in the object");
					break;
				}
			}
		} else {
			old = path_push_index(c, i);
		}
		if (rc == 0)
			rc = check_tree(c, child);
		path_pop(c, old);
		if (rc)
			return rc;
		i++;
	}
	return 0;
}

/* ---- schemas ---- */

static int key_in(const char *key, const char *const *set)
{
	for (; *set; set++) {
		if (strcmp(key, *set) == 0)
			return 1;
	}
	return 0;
}

/*
 * Every `$ref` of a schema must be local ("#..."). Values of data keywords
 * (enum, const, default, examples) are instances, not schemas, so a "$ref" key
 * in them is data; members of properties/definitions are schemas whatever their name.
 */
static int check_refs(ctx *c, cJSON *node)
{
	static const char *const data_keywords[] = { "enum", "const", "default", "examples", NULL };
	static const char *const schema_maps[] = { "properties",   "patternProperties", "definitions", "$defs",
						   "dependencies", "dependentSchemas",  NULL };
	cJSON *m;
	size_t i = 0;

	if (cJSON_IsArray(node)) {
		cJSON_ArrayForEach(m, node)
		{
			size_t old = path_push_index(c, i++);
			int rc = check_refs(c, m);
			path_pop(c, old);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!cJSON_IsObject(node))
		return 0;
	cJSON_ArrayForEach(m, node)
	{
		size_t old = path_push_key(c, m->string);
		int rc = 0;
		if (strcmp(m->string, "$ref") == 0 && cJSON_IsString(m)) {
			char ex[EXCERPT_MAX + 4];
			if (m->valuestring[0] != '#')
				rc = fail(c, "external reference \"%s\": schemas must not contain external references",
					  excerpt(ex, m->valuestring));
		} else if (key_in(m->string, data_keywords)) {
			rc = 0;
		} else if (key_in(m->string, schema_maps) && cJSON_IsObject(m)) {
			cJSON *sub;
			cJSON_ArrayForEach(sub, m)
			{
				size_t old2 = path_push_key(c, sub->string);
				rc = check_refs(c, sub);
				path_pop(c, old2);
				if (rc)
					break;
			}
		} else {
			rc = check_refs(c, m);
		}
		path_pop(c, old);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * holder.key is an Input Parameters Schema Object: its `parameters`, when
 * present, is checked and compiled into *out. `need_cap`: driver capability
 * required when a schema is present (0 for none).
 */
static int check_input_schema(ctx *c, cJSON *holder, const char *key, uint32_t need_cap, const char *cap_text,
			      osb_schema **out)
{
	cJSON *ips, *params, *dollar;
	size_t old, old2, size;
	char *printed;
	char serr[384];
	int rc;

	*out = NULL;
	rc = get_field(c, holder, key, K_OBJECT, 0, &ips);
	if (rc || !ips)
		return rc;
	old = path_push_key(c, key);
	rc = get_field(c, ips, "parameters", K_OBJECT, 0, &params);
	if (rc || !params)
		goto out;
	old2 = path_push_key(c, "parameters");
	if (need_cap && (c->caps & need_cap) != need_cap) {
		rc = fail(c, "%s", cap_text);
		goto out2;
	}
	/* The spec: "The `$schema` key MUST be present". */
	rc = get_field(c, params, "$schema", K_NONEMPTY, 1, &dollar);
	if (rc)
		goto out2;
	printed = cJSON_PrintUnformatted(params);
	if (!printed) {
		rc = fail_nomem(c);
		goto out2;
	}
	size = strlen(printed);
	cJSON_free(printed);
	if (size > SCHEMA_MAX_BYTES) {
		rc = fail(c, "schema is %zu bytes compact, more than the %d allowed", size, SCHEMA_MAX_BYTES);
		goto out2;
	}
	rc = check_refs(c, params);
	if (rc)
		goto out2;
	serr[0] = '\0';
	rc = osb_schema_compile(out, params, serr, sizeof serr);
	if (rc)
		*out = NULL;
	if (rc == OSB_ENOMEM)
		rc = fail_nomem(c);
	else if (rc)
		rc = fail(c, "%s", serr[0] ? serr : "invalid schema");
out2:
	path_pop(c, old2);
out:
	path_pop(c, old);
	return rc;
}

static int check_schemas(ctx *c, cJSON *plan, osb_plan *p)
{
	cJSON *schemas, *si, *sb;
	size_t old;
	int rc;

	rc = get_field(c, plan, "schemas", K_OBJECT, 0, &schemas);
	if (rc || !schemas)
		return rc;
	old = path_push_key(c, "schemas");
	rc = get_field(c, schemas, "service_instance", K_OBJECT, 0, &si);
	if (rc == 0 && si) {
		size_t o = path_push_key(c, "service_instance");
		rc = check_input_schema(c, si, "create", 0, NULL, &p->create_schema);
		if (rc == 0)
			rc = check_input_schema(c, si, "update", OSB_CAP_PLAN_UPDATEABLE,
						"an update schema needs a driver with OSB_CAP_PLAN_UPDATEABLE (update)",
						&p->update_schema);
		path_pop(c, o);
	}
	if (rc == 0)
		rc = get_field(c, schemas, "service_binding", K_OBJECT, 0, &sb);
	if (rc == 0 && sb) {
		size_t o = path_push_key(c, "service_binding");
		rc = check_input_schema(c, sb, "create", 0, NULL, &p->bind_schema);
		path_pop(c, o);
	}
	path_pop(c, old);
	return rc;
}

/* ---- plans ---- */

/* metadata: an object; its conventional `costs` (profile.md) are objects with `amount` and `unit`. */
static int check_metadata(ctx *c, cJSON *owner, int is_plan)
{
	cJSON *md, *costs, *cost;
	size_t old, i = 0;
	int rc;

	rc = get_field(c, owner, "metadata", K_OBJECT, 0, &md);
	if (rc || !md || !is_plan)
		return rc;
	old = path_push_key(c, "metadata");
	rc = get_field(c, md, "costs", K_ARRAY, 0, &costs);
	if (rc == 0 && costs) {
		size_t o = path_push_key(c, "costs");
		cJSON_ArrayForEach(cost, costs)
		{
			size_t oi = path_push_index(c, i++);
			cJSON *amount, *unit, *cur;
			rc = check_kind(c, cost, K_OBJECT);
			if (rc == 0)
				rc = get_field(c, cost, "amount", K_OBJECT, 1, &amount);
			if (rc == 0)
				rc = get_field(c, cost, "unit", K_STRING, 1, &unit);
			if (rc == 0) {
				/* amount maps currency codes to numbers. */
				size_t oa = path_push_key(c, "amount");
				cJSON_ArrayForEach(cur, amount)
				{
					if (!cJSON_IsNumber(cur)) {
						size_t ok = path_push_key(c, cur->string);
						rc = fail(c, "must be a number, not %s", type_name(cur));
						path_pop(c, ok);
						break;
					}
				}
				path_pop(c, oa);
			}
			path_pop(c, oi);
			if (rc)
				break;
		}
		path_pop(c, o);
	}
	path_pop(c, old);
	return rc;
}

/* The plan's private `x-osb` object: the core's keys are typed, the rest is the driver's. */
static int check_settings(ctx *c, cJSON *plan, osb_plan *p, cJSON *empty)
{
	cJSON *x;
	size_t old;
	int have_ttl, have_renew, rc;

	rc = get_field(c, plan, "x-osb", K_OBJECT, 0, &x);
	if (rc)
		return rc;
	p->settings = x ? x : empty;
	if (!x)
		return 0;
	old = path_push_key(c, "x-osb");
	rc = get_bool(c, x, "async", 0, &p->async, NULL);
	if (rc == 0)
		rc = get_bool(c, x, "async_bindings", 0, &p->async_bindings, NULL);
	if (rc == 0)
		rc = get_bool(c, x, "dedicated", 0, &p->dedicated, NULL);
	if (rc == 0)
		rc = get_posint(c, x, "max_instances", &p->max_instances, NULL);
	if (rc == 0)
		rc = get_posint(c, x, "credential_ttl", &p->credential_ttl, &have_ttl);
	if (rc == 0)
		rc = get_posint(c, x, "renew_before", &p->renew_before, &have_renew);
	if (rc == 0 && have_renew) {
		size_t o = path_push_key(c, "renew_before");
		if (!have_ttl)
			rc = fail(c, "needs credential_ttl");
		else if (p->renew_before >= p->credential_ttl)
			rc = fail(c, "must be less than credential_ttl (%ld)", p->credential_ttl);
		path_pop(c, o);
	}
	if (rc == 0 && have_ttl && !have_renew)
		p->renew_before = p->credential_ttl / 5;
	path_pop(c, old);
	return rc;
}

/* Capability and coherence checks of one plan, once its fields are read. */
static int check_plan_caps(ctx *c, cJSON *plan, const osb_plan *p, int own_bindable, int own_updateable)
{
	size_t old;
	int rc = 0;

	if (p->bindable && !(c->caps & OSB_CAP_BINDABLE)) {
		if (own_bindable) {
			old = path_push_key(c, "bindable");
			rc = fail(c, "plan is bindable but the driver has no OSB_CAP_BINDABLE (bind/unbind)");
			path_pop(c, old);
		} else {
			rc = fail(c, "plan inherits bindable: true from its service but the driver has no "
				     "OSB_CAP_BINDABLE (bind/unbind)");
		}
		return rc;
	}
	if (p->plan_updateable && !(c->caps & OSB_CAP_PLAN_UPDATEABLE)) {
		if (own_updateable) {
			old = path_push_key(c, "plan_updateable");
			rc = fail(c, "plan is plan_updateable but the driver has no OSB_CAP_PLAN_UPDATEABLE (update)");
			path_pop(c, old);
		} else {
			rc = fail(c, "plan inherits plan_updateable: true from its service but the driver has no "
				     "OSB_CAP_PLAN_UPDATEABLE (update)");
		}
		return rc;
	}
	if (p->binding_rotatable) {
		old = path_push_key(c, "binding_rotatable");
		if (!(c->caps & OSB_CAP_BINDING_ROTATION))
			rc = fail(c, "binding_rotatable needs a driver with OSB_CAP_BINDING_ROTATION");
		else if (!p->bindable)
			rc = fail(c, "binding_rotatable on a plan that is not bindable");
		path_pop(c, old);
		if (rc)
			return rc;
	}
	if (!p->dedicated && (c->caps & OSB_CATALOG_NO_SHARED))
		return fail(
			c,
			"plan is shared (no x-osb.dedicated) but the driver has no shared server, only dedicated ones");
	if (cJSON_GetObjectItemCaseSensitive(plan, "x-osb")) {
		old = path_push_key(c, "x-osb");
		if (p->dedicated && !(c->caps & OSB_CAP_DEDICATED)) {
			size_t o = path_push_key(c, "dedicated");
			rc = fail(c, "dedicated plans need a driver with OSB_CAP_DEDICATED (a dedicated server spec)");
			path_pop(c, o);
		} else if (p->async && !(c->caps & OSB_CAP_ASYNC)) {
			size_t o = path_push_key(c, "async");
			rc = fail(c, "asynchronous plans need a driver with OSB_CAP_ASYNC");
			path_pop(c, o);
		} else if (p->async_bindings) {
			size_t o = path_push_key(c, "async_bindings");
			if (!(c->caps & OSB_CAP_ASYNC))
				rc = fail(c, "asynchronous bindings need a driver with OSB_CAP_ASYNC");
			else if (!p->bindable)
				rc = fail(c, "async_bindings on a plan that is not bindable");
			path_pop(c, o);
		}
		if (rc == 0 && p->credential_ttl && !p->bindable) {
			size_t o = path_push_key(c, "credential_ttl");
			rc = fail(c, "credential_ttl applies to binding credentials but the plan is not bindable");
			path_pop(c, o);
		}
		path_pop(c, old);
	}
	return rc;
}

/* Validate services[si].plans[pi] into *p; plans[0..done) are the catalog's earlier plans. */
static int check_plan(ctx *c, osb_catalog *cat, cJSON *plan, osb_service *s, osb_plan *p, size_t pi, size_t done)
{
	cJSON *id, *name, *desc, *mi, *ver;
	int own_bindable = 0, own_updateable = 0, free_plan, rc;
	char ex[EXCERPT_MAX + 4];
	size_t old;

	rc = check_kind(c, plan, K_OBJECT);
	if (rc)
		return rc;
	p->service = s;
	rc = get_field(c, plan, "id", K_NONEMPTY, 1, &id);
	if (rc)
		return rc;
	for (size_t k = 0; k < done; k++) {
		if (strcmp(cat->plans[k].id, id->valuestring) == 0) {
			const osb_service *ks = cat->plans[k].service;
			old = path_push_key(c, "id");
			rc = fail(c, "duplicate plan id \"%s\" (first at services[%zu].plans[%zu].id)",
				  excerpt(ex, id->valuestring), (size_t)(ks - cat->services),
				  (size_t)(&cat->plans[k] - ks->plans));
			path_pop(c, old);
			return rc;
		}
	}
	p->id = id->valuestring;
	rc = get_field(c, plan, "name", K_NONEMPTY, 1, &name);
	if (rc)
		return rc;
	for (size_t k = 0; k < pi; k++) {
		if (strcmp(s->plans[k].name, name->valuestring) == 0) {
			old = path_push_key(c, "name");
			rc = fail(c, "duplicate plan name \"%s\" in this service (first at plans[%zu])",
				  excerpt(ex, name->valuestring), k);
			path_pop(c, old);
			return rc;
		}
	}
	p->name = name->valuestring;
	rc = get_field(c, plan, "description", K_NONEMPTY, 1, &desc);
	if (rc == 0)
		rc = check_metadata(c, plan, 1);
	if (rc == 0)
		rc = get_bool(c, plan, "free", 1, &free_plan, NULL);
	if (rc == 0)
		rc = get_bool(c, plan, "bindable", s->bindable, &p->bindable, &own_bindable);
	if (rc == 0)
		rc = get_bool(c, plan, "binding_rotatable", 0, &p->binding_rotatable, NULL);
	if (rc == 0)
		rc = get_bool(c, plan, "plan_updateable", s->plan_updateable, &p->plan_updateable, &own_updateable);
	if (rc == 0)
		rc = get_posint(c, plan, "maximum_polling_duration", &p->maximum_polling_duration, NULL);
	if (rc == 0)
		rc = get_field(c, plan, "maintenance_info", K_OBJECT, 0, &mi);
	if (rc == 0 && mi) {
		old = path_push_key(c, "maintenance_info");
		rc = get_field(c, mi, "version", K_NONEMPTY, 1, &ver);
		if (rc == 0 && !semver_valid(ver->valuestring)) {
			size_t o = path_push_key(c, "version");
			rc = fail(c, "\"%s\" is not a Semantic Versioning 2.0.0 version",
				  excerpt(ex, ver->valuestring));
			path_pop(c, o);
		}
		if (rc == 0)
			p->maintenance_version = ver->valuestring;
		if (rc == 0)
			rc = get_field(c, mi, "description", K_STRING, 0, &desc);
		path_pop(c, old);
	}
	if (rc == 0)
		rc = check_settings(c, plan, p, cat->empty_settings);
	if (rc == 0)
		rc = check_plan_caps(c, plan, p, own_bindable, own_updateable);
	/* Schemas last: compiling is the costly part. */
	if (rc == 0)
		rc = check_schemas(c, plan, p);
	return rc;
}

/* ---- services ---- */

static int check_string_array(ctx *c, cJSON *owner, const char *key, cJSON **out)
{
	cJSON *arr, *el;
	size_t old, i = 0;
	int rc;

	rc = get_field(c, owner, key, K_ARRAY, 0, &arr);
	*out = arr;
	if (rc || !arr)
		return rc;
	old = path_push_key(c, key);
	cJSON_ArrayForEach(el, arr)
	{
		size_t o = path_push_index(c, i++);
		rc = check_kind(c, el, K_STRING);
		path_pop(c, o);
		if (rc)
			break;
	}
	path_pop(c, old);
	return rc;
}

static int check_requires(ctx *c, cJSON *svc, osb_service *s)
{
	static const char *const permissions[] = { "syslog_drain", "route_forwarding", "volume_mount", NULL };
	char ex[EXCERPT_MAX + 4];
	cJSON *arr, *el;
	size_t old, i = 0;
	int rc;

	rc = check_string_array(c, svc, "requires", &arr);
	if (rc || !arr)
		return rc;
	old = path_push_key(c, "requires");
	cJSON_ArrayForEach(el, arr)
	{
		size_t o = path_push_index(c, i++);
		if (!key_in(el->valuestring, permissions))
			rc = fail(c, "unknown permission \"%s\" (syslog_drain, route_forwarding or volume_mount)",
				  excerpt(ex, el->valuestring));
		else if (strcmp(el->valuestring, "volume_mount") == 0 && !(c->caps & OSB_CAP_VOLUME_MOUNTS))
			rc = fail(c, "volume_mount needs a driver with OSB_CAP_VOLUME_MOUNTS");
		else if (strcmp(el->valuestring, "volume_mount") == 0)
			s->requires_volume_mount = 1;
		path_pop(c, o);
		if (rc)
			break;
	}
	path_pop(c, old);
	return rc;
}

static int check_dashboard_client(ctx *c, cJSON *svc)
{
	cJSON *dc, *v;
	size_t old;
	int rc;

	rc = get_field(c, svc, "dashboard_client", K_OBJECT, 0, &dc);
	if (rc || !dc)
		return rc;
	old = path_push_key(c, "dashboard_client");
	rc = get_field(c, dc, "id", K_NONEMPTY, 1, &v);
	if (rc == 0)
		rc = get_field(c, dc, "secret", K_NONEMPTY, 1, &v);
	if (rc == 0)
		rc = get_field(c, dc, "redirect_uri", K_STRING, 0, &v);
	path_pop(c, old);
	return rc;
}

/* Validate services[si] into cat->services[si]; its plans go to cat->plans from *plan_index on. */
static int check_service(ctx *c, osb_catalog *cat, cJSON *svc, size_t si, size_t *plan_index)
{
	osb_service *s = &cat->services[si];
	cJSON *id, *name, *v, *plans, *plan;
	int have_inst = 0, have_bind = 0, any_bindable, rc;
	char ex[EXCERPT_MAX + 4];
	size_t old, pi = 0;

	rc = check_kind(c, svc, K_OBJECT);
	if (rc)
		return rc;
	/* Private settings live in plans only: anywhere else they would be served. */
	if (cJSON_GetObjectItemCaseSensitive(svc, "x-osb")) {
		old = path_push_key(c, "x-osb");
		rc = fail(c, "private settings are only allowed in plan objects");
		path_pop(c, old);
		return rc;
	}
	rc = get_field(c, svc, "id", K_NONEMPTY, 1, &id);
	if (rc)
		return rc;
	for (size_t k = 0; k < si; k++) {
		if (strcmp(cat->services[k].id, id->valuestring) == 0) {
			old = path_push_key(c, "id");
			rc = fail(c, "duplicate service id \"%s\" (first at services[%zu].id)",
				  excerpt(ex, id->valuestring), k);
			path_pop(c, old);
			return rc;
		}
	}
	s->id = id->valuestring;
	rc = get_field(c, svc, "name", K_NONEMPTY, 1, &name);
	if (rc)
		return rc;
	for (size_t k = 0; k < si; k++) {
		if (strcmp(cat->services[k].name, name->valuestring) == 0) {
			old = path_push_key(c, "name");
			rc = fail(c, "duplicate service name \"%s\" (first at services[%zu].name)",
				  excerpt(ex, name->valuestring), k);
			path_pop(c, old);
			return rc;
		}
	}
	s->name = name->valuestring;
	rc = get_field(c, svc, "description", K_NONEMPTY, 1, &v);
	if (rc == 0)
		rc = get_field(c, svc, "bindable", K_BOOL, 1, &v);
	if (rc == 0)
		s->bindable = cJSON_IsTrue(v);
	if (rc == 0)
		rc = check_string_array(c, svc, "tags", &v);
	if (rc == 0)
		rc = check_requires(c, svc, s);
	if (rc == 0)
		rc = get_bool(c, svc, "instances_retrievable", 1, &s->instances_retrievable, &have_inst);
	if (rc == 0)
		rc = get_bool(c, svc, "bindings_retrievable", 0, &s->bindings_retrievable, &have_bind);
	if (rc == 0)
		rc = get_bool(c, svc, "allow_context_updates", 0, &s->allow_context_updates, NULL);
	if (rc == 0)
		rc = get_bool(c, svc, "plan_updateable", 0, &s->plan_updateable, NULL);
	if (rc == 0)
		rc = check_metadata(c, svc, 0);
	if (rc == 0)
		rc = check_dashboard_client(c, svc);
	if (rc == 0)
		rc = get_field(c, svc, "plans", K_ARRAY, 1, &plans);
	if (rc)
		return rc;

	old = path_push_key(c, "plans");
	if (!plans->child) {
		rc = fail(c, "must contain at least one plan");
		path_pop(c, old);
		return rc;
	}
	s->plans = &cat->plans[*plan_index];
	any_bindable = s->bindable;
	cJSON_ArrayForEach(plan, plans)
	{
		size_t o = path_push_index(c, pi);
		osb_plan *p = &cat->plans[*plan_index];
		rc = check_plan(c, cat, plan, s, p, pi, *plan_index);
		path_pop(c, o);
		/* Count the plan even on failure: its compiled schemas must be freed. */
		(*plan_index)++;
		pi++;
		s->plan_count = pi;
		if (rc)
			break;
		any_bindable |= p->bindable;
	}
	path_pop(c, old);
	if (rc)
		return rc;

	/* Served flags the core supports, filled in when the catalog is silent. */
	if (!have_inst && !cJSON_AddTrueToObject(svc, "instances_retrievable"))
		return fail_nomem(c);
	if (!have_bind && any_bindable) {
		if (!cJSON_AddTrueToObject(svc, "bindings_retrievable"))
			return fail_nomem(c);
		s->bindings_retrievable = 1;
	}
	return 0;
}

/* Parse into cat->root, with JSON and UTF-8 errors located by line and column. */
static int parse_document(ctx *c, osb_catalog *cat, const char *json, size_t len)
{
	const char *end = NULL;
	size_t bad, line = 1, col = 1;
	int bad_utf8;
	char *copy;

	if (!json || len == 0)
		return fail(c, "empty document");
	if (memchr(json, '\0', len))
		return fail(c, "contains a NUL byte");
	/* Strict UTF-8: the document is served as JSON. */
	bad = osb_utf8_span(json, len);
	bad_utf8 = bad != len;
	if (!bad_utf8) {
		/* A terminated copy: nothing can read past the caller's bytes. */
		copy = malloc(len + 1);
		if (!copy)
			return fail_nomem(c);
		memcpy(copy, json, len);
		copy[len] = '\0';
		cat->root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
		if (cat->root) {
			/* cJSON stops after the value: only whitespace may follow. */
			const char *p = end;
			while (p < copy + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
				p++;
			bad = (size_t)(p - copy);
		} else {
			bad = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
		}
		free(copy);
		if (bad == len && cat->root)
			return 0;
	}
	for (size_t i = 0; i < bad; i++) {
		if (json[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)json[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (bad_utf8)
		return fail(c, "invalid UTF-8 at line %zu, column %zu", line, col);
	return fail(c, "invalid JSON at line %zu, column %zu", line, col);
}

int osb_catalog__check(osb_catalog *cat, const char *json, size_t len, const char *name, uint32_t caps, char *err,
		       size_t err_size)
{
	cJSON *services, *svc, *plans;
	size_t nsvc = 0, nplan = 0, si = 0, plan_index = 0;
	int rc;
	ctx cc = { .name = name ? name : "catalog", .caps = caps, .err = err, .err_size = err_size }, *c = &cc;

	rc = parse_document(c, cat, json, len);
	if (rc)
		return rc;
	if (!cJSON_IsObject(cat->root))
		return fail(c, "the catalog must be a JSON object, not %s", type_name(cat->root));
	rc = check_tree(c, cat->root);
	if (rc)
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(cat->root, "x-osb")) {
		size_t old = path_push_key(c, "x-osb");
		rc = fail(c, "private settings are only allowed in plan objects");
		path_pop(c, old);
		return rc;
	}
	rc = get_field(c, cat->root, "services", K_ARRAY, 1, &services);
	if (rc)
		return rc;

	cat->private_items = cJSON_CreateArray();
	cat->empty_settings = cJSON_CreateObject();
	if (!cat->private_items || !cat->empty_settings) {
		cJSON_Delete(cat->empty_settings);
		cat->empty_settings = NULL;
		return fail_nomem(c);
	}
	cJSON_AddItemToArray(cat->private_items, cat->empty_settings);

	/* Size the arrays first; a `plans` that is no array fails in check_service. */
	cJSON_ArrayForEach(svc, services)
	{
		nsvc++;
		plans = cJSON_GetObjectItemCaseSensitive(svc, "plans");
		if (cJSON_IsArray(plans))
			nplan += (size_t)cJSON_GetArraySize(plans);
	}
	cat->services = calloc(nsvc ? nsvc : 1, sizeof *cat->services);
	cat->plans = calloc(nplan ? nplan : 1, sizeof *cat->plans);
	cat->services_by_id = calloc(nsvc ? nsvc : 1, sizeof *cat->services_by_id);
	cat->plans_by_id = calloc(nplan ? nplan : 1, sizeof *cat->plans_by_id);
	if (!cat->services || !cat->plans || !cat->services_by_id || !cat->plans_by_id)
		return fail_nomem(c);

	size_t old = path_push_key(c, "services");
	cJSON_ArrayForEach(svc, services)
	{
		size_t o = path_push_index(c, si);
		rc = check_service(c, cat, svc, si, &plan_index);
		path_pop(c, o);
		cat->service_count = ++si;
		cat->plan_count = plan_index;
		if (rc)
			break;
	}
	path_pop(c, old);
	if (rc)
		return rc;

	return 0;
}
