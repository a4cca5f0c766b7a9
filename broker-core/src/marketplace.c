/* The marketplace page: a marketplace document rendered into the page template (cli/marketplace/). */
#include "osb/marketplace.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/buf.h"
#include "osb/errors.h"

/* The page's files, embedded at build time (cmake/EmbedFile.cmake). */
extern const unsigned char osb_marketplace_page[];
extern const size_t osb_marketplace_page_size;
extern const unsigned char osb_marketplace_css[];
extern const size_t osb_marketplace_css_size;
extern const unsigned char osb_marketplace_js[];
extern const size_t osb_marketplace_js_size;

/* Nested schema properties shown, and the longest query honoured. */
#define PARAM_DEPTH 3
#define QUERY_MAX 256

/* ---- output: an osb_buf (osb/buf.h) ---------------------------------------- */

typedef osb_buf buf;

static void put(buf *b, const char *s, size_t n)
{
	osb_buf_add(b, s, n);
}

static void puts_(buf *b, const char *s)
{
	osb_buf_puts(b, s);
}

#define putf osb_buf_printf

/* Text and attribute values alike: the five characters HTML gives a meaning to. */
static void put_html(buf *b, const char *text)
{
	const char *run = text;
	for (const char *p = text; *p; p++) {
		const char *esc = NULL;
		switch (*p) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '"': esc = "&quot;"; break;
		case '\'': esc = "&#39;"; break;
		}
		if (esc) {
			put(b, run, (size_t)(p - run));
			puts_(b, esc);
			run = p + 1;
		}
	}
	puts_(b, run);
}

/* ---- reading the document ---------------------------------------------- */

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* A boolean member: 1, 0, or `fallback` when absent. */
static int flag(const cJSON *obj, const char *key, int fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : fallback;
}

static const cJSON *path(const cJSON *obj, const char *const *keys)
{
	for (; obj && *keys; keys++)
		obj = cJSON_GetObjectItemCaseSensitive(obj, *keys);
	return obj;
}

/* A URL a link or an image may carry: http(s), and for images data:image/. */
static int safe_url(const char *url, int image)
{
	if (!url)
		return 0;
	if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)
		return 1;
	return image && strncmp(url, "data:image/", 11) == 0;
}

/* ---- search ------------------------------------------------------------- */

/* ASCII lower case of text appended to b (the search text and query agree on it). */
static void put_lower(buf *b, const char *text)
{
	for (const char *p = text; p && *p; p++) {
		char c = (char)tolower((unsigned char)*p);
		put(b, &c, 1);
	}
	put(b, " ", 1);
}

/* Everything a search may match in a service: names, descriptions, provider, tags, plans, broker. */
static char *search_text(const cJSON *svc, const char *broker)
{
	buf b = OSB_BUF_INIT;
	static const char *const keys[] = { "name", "description" };
	static const char *const md_keys[] = { "displayName", "providerDisplayName", "longDescription" };
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(svc, "metadata");
	const cJSON *t, *plan;

	put_lower(&b, broker);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		put_lower(&b, str(svc, keys[i]));
	for (size_t i = 0; i < sizeof md_keys / sizeof *md_keys; i++)
		put_lower(&b, str(md, md_keys[i]));
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(svc, "tags")) if (cJSON_IsString(t))
		put_lower(&b, t->valuestring);
	cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(svc, "plans"))
	{
		put_lower(&b, str(plan, "name"));
		put_lower(&b, str(plan, "description"));
		put_lower(&b, str(cJSON_GetObjectItemCaseSensitive(plan, "metadata"), "displayName"));
	}
	if (!osb_buf_text(&b)) {
		osb_buf_free(&b);
		return NULL;
	}
	return b.data ? osb_buf_take(&b) : strdup("");
}

/* Every whitespace-separated word of the query is in the text. */
static int matches(const char *text, const char *query)
{
	char word[QUERY_MAX + 1];
	const char *p = query;
	while (p && *p) {
		size_t n = 0;
		while (*p && isspace((unsigned char)*p))
			p++;
		while (*p && !isspace((unsigned char)*p) && n < QUERY_MAX)
			word[n++] = (char)tolower((unsigned char)*p++);
		while (*p && !isspace((unsigned char)*p))
			p++;
		word[n] = '\0';
		if (n && !strstr(text, word))
			return 0;
	}
	return 1;
}

static int has_words(const char *query)
{
	for (const char *p = query; *p; p++)
		if (!isspace((unsigned char)*p))
			return 1;
	return 0;
}

/* ---- the services, sorted into categories ------------------------------- */

typedef struct {
	const cJSON *svc;
	const cJSON *features; /* the broker's plan_features, or NULL */
	const char *broker;
	char category[64]; /* the first tag, lower case, or "other" */
	char *search;
	int shown;
} entry;

static const char *display_name(const cJSON *svc)
{
	const char *d = str(cJSON_GetObjectItemCaseSensitive(svc, "metadata"), "displayName");
	return d ? d : str(svc, "name") ? str(svc, "name") : "(unnamed)";
}

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	int ox = strcmp(x->category, "other") == 0, oy = strcmp(y->category, "other") == 0;
	if (ox != oy)
		return ox - oy; /* "other" last */
	int c = strcmp(x->category, y->category);
	if (c)
		return c;
	c = strcasecmp(display_name(x->svc), display_name(y->svc));
	return c ? c : strcmp(x->broker, y->broker);
}

/* Category ids in URLs and element ids: letters, digits and '-' only. */
static void put_slug(buf *b, const char *text)
{
	for (const char *p = text; *p; p++) {
		char c = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
		put(b, &c, 1);
	}
}

/* ---- a plan -------------------------------------------------------------- */

static void put_number(buf *b, double v)
{
	if (v == (double)(long long)v && v > -1e15 && v < 1e15)
		putf(b, "%lld", (long long)v);
	else
		putf(b, "%g", v);
}

static void put_json_value(buf *b, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	if (!text) {
		b->failed = 1;
		return;
	}
	put_html(b, text);
	free(text);
}

/* "15.00 USD per month" from [{"amount": {"usd": 15.0}, "unit": "MONTHLY"}, ...]. */
static void put_costs(buf *b, const cJSON *costs)
{
	const cJSON *c, *a;
	int first = 1;
	cJSON_ArrayForEach(c, costs)
	{
		const char *unit = str(c, "unit");
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(c, "amount"))
		{
			if (!cJSON_IsNumber(a) || !a->string)
				continue;
			puts_(b, first ? "" : " or ");
			first = 0;
			putf(b, "%.2f ", a->valuedouble);
			for (const char *p = a->string; *p; p++) {
				char u = (char)toupper((unsigned char)*p);
				put_html(b, (char[]){ u, '\0' });
			}
			if (unit) {
				puts_(b, " / ");
				for (const char *p = unit; *p; p++) {
					char l = (char)tolower((unsigned char)*p);
					put_html(b, (char[]){ l, '\0' });
				}
			}
		}
	}
}

static void put_constraints(buf *b, const cJSON *s)
{
	static const struct {
		const char *key;
		const char *label;
	} nums[] = { { "minimum", "at least " },
		     { "maximum", "at most " },
		     { "exclusiveMinimum", "more than " },
		     { "exclusiveMaximum", "less than " },
		     { "minLength", "at least %s characters" },
		     { "maxLength", "at most %s characters" },
		     { "minItems", "at least %s items" },
		     { "maxItems", "at most %s items" },
		     { "multipleOf", "a multiple of " } };
	const cJSON *v;
	int any = 0;
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		v = cJSON_GetObjectItemCaseSensitive(s, nums[i].key);
		if (!cJSON_IsNumber(v))
			continue;
		puts_(b, any ? "; " : " (");
		any = 1;
		const char *hole = strstr(nums[i].label, "%s");
		if (hole) {
			put(b, nums[i].label, (size_t)(hole - nums[i].label));
			put_number(b, v->valuedouble);
			puts_(b, hole + 2);
		} else {
			puts_(b, nums[i].label);
			put_number(b, v->valuedouble);
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "enum")) && cJSON_IsArray(v)) {
		puts_(b, any ? "; " : " (");
		any = 1;
		puts_(b, "one of ");
		const cJSON *e;
		int first = 1;
		cJSON_ArrayForEach(e, v)
		{
			puts_(b, first ? "" : ", ");
			first = 0;
			puts_(b, "<code>");
			put_json_value(b, e);
			puts_(b, "</code>");
		}
	}
	if (str(s, "pattern")) {
		puts_(b, any ? "; " : " (");
		any = 1;
		puts_(b, "matching <code>");
		put_html(b, str(s, "pattern"));
		puts_(b, "</code>");
	}
	if (str(s, "format")) {
		puts_(b, any ? "; " : " (");
		any = 1;
		put_html(b, str(s, "format"));
	}
	if (any)
		puts_(b, ")");
}

static void put_type(buf *b, const cJSON *s)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
	if (cJSON_IsString(t)) {
		put_html(b, t->valuestring);
	} else if (cJSON_IsArray(t)) {
		const cJSON *e;
		int first = 1;
		cJSON_ArrayForEach(e, t)
		{
			if (!cJSON_IsString(e))
				continue;
			puts_(b, first ? "" : " or ");
			first = 0;
			put_html(b, e->valuestring);
		}
	} else if (cJSON_GetObjectItemCaseSensitive(s, "enum")) {
		puts_(b, "one of the values");
	} else if (str(s, "$ref")) {
		puts_(b, "see the schema");
	} else {
		puts_(b, "any");
	}
}

static int is_required(const cJSON *schema, const char *name)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(schema, "required")) if (cJSON_IsString(r) &&
											strcmp(r->valuestring, name) ==
												0) return 1;
	return 0;
}

static void put_param_rows(buf *b, const cJSON *schema, const char *prefix, int depth)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(schema, "properties"))
	{
		char name[256];
		if (!cJSON_IsObject(p) || !p->string)
			continue;
		snprintf(name, sizeof name, "%s%s", prefix, p->string);
		puts_(b, "<tr><td><code>");
		put_html(b, name);
		puts_(b, "</code></td><td>");
		put_type(b, p);
		puts_(b, "</td><td>");
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "default");
		if (def) {
			puts_(b, "<code>");
			put_json_value(b, def);
			puts_(b, "</code>");
		}
		puts_(b, "</td><td");
		puts_(b, is_required(schema, p->string) ? " class=\"req\">required. " : ">");
		if (str(p, "description"))
			put_html(b, str(p, "description"));
		else if (str(p, "title"))
			put_html(b, str(p, "title"));
		put_constraints(b, p);
		puts_(b, "</td></tr>\n");
		if (depth < PARAM_DEPTH && cJSON_GetObjectItemCaseSensitive(p, "properties")) {
			char sub[260];
			snprintf(sub, sizeof sub, "%s.", name);
			put_param_rows(b, p, sub, depth + 1);
		}
	}
}

static void put_parameters(buf *b, const cJSON *plan, const char *const *keys, const char *what)
{
	const cJSON *schema = path(cJSON_GetObjectItemCaseSensitive(plan, "schemas"), keys);
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	int n = cJSON_IsObject(props) ? cJSON_GetArraySize(props) : 0;
	if (!cJSON_IsObject(schema))
		return;
	putf(b, "<details class=\"parameters\"><summary>%s: %d parameter%s</summary>\n", what, n, n == 1 ? "" : "s");
	if (n) {
		puts_(b, "<table class=\"params\"><thead><tr><th>Parameter</th><th>Type</th><th>Default</th>"
			 "<th>Description</th></tr></thead><tbody>\n");
		put_param_rows(b, schema, "", 1);
		puts_(b, "</tbody></table>\n");
	}
	const cJSON *addl = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
	if (cJSON_IsFalse(addl))
		puts_(b, n ? "<p>No other parameters are accepted.</p>\n" : "<p>No parameters are accepted.</p>\n");
	puts_(b, "</details>\n");
}

static void put_feature(buf *b, const char *cls, const char *text)
{
	puts_(b, "<li");
	if (cls)
		putf(b, " class=\"%s\"", cls);
	puts_(b, ">");
	put_html(b, text);
	puts_(b, "</li>");
}

static void put_plan(buf *b, const cJSON *svc, const cJSON *plan, const cJSON *features)
{
	static const char *const create_keys[] = { "service_instance", "create", "parameters", NULL };
	static const char *const update_keys[] = { "service_instance", "update", "parameters", NULL };
	static const char *const bind_keys[] = { "service_binding", "create", "parameters", NULL };
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(plan, "metadata");
	const char *name = str(plan, "name") ? str(plan, "name") : "(unnamed)";
	const char *id = str(plan, "id");
	const cJSON *f = id ? cJSON_GetObjectItemCaseSensitive(features, id) : NULL;
	const cJSON *costs = cJSON_GetObjectItemCaseSensitive(md, "costs");
	int free_plan = flag(plan, "free", 1);
	char text[96];

	puts_(b, "<section class=\"plan\" data-plan=\"");
	put_html(b, name);
	puts_(b, "\">\n<h4>");
	put_html(b, str(md, "displayName") ? str(md, "displayName") : name);
	puts_(b, "</h4> <span class=\"plan-name\"><code>");
	put_html(b, name);
	puts_(b, "</code></span>\n");
	if (str(plan, "description")) {
		puts_(b, "<p>");
		put_html(b, str(plan, "description"));
		puts_(b, "</p>\n");
	}
	puts_(b, "<p class=\"cost\">");
	if (cJSON_GetArraySize(costs) > 0)
		put_costs(b, costs);
	else
		puts_(b, free_plan ? "Free" : "Paid");
	puts_(b, "</p>\n<ul class=\"features\">");
	put_feature(b, NULL, free_plan ? "free" : "paid");
	put_feature(b, NULL, flag(plan, "bindable", flag(svc, "bindable", 0)) ? "bindable" : "not bindable");
	if (flag(plan, "plan_updateable", flag(svc, "plan_updateable", 0)))
		put_feature(b, NULL, "plan can be changed");
	if (flag(plan, "binding_rotatable", 0))
		put_feature(b, NULL, "credentials can be rotated");
	if (f) {
		int dedicated = flag(f, "dedicated", -1);
		if (dedicated >= 0)
			put_feature(b, dedicated ? "dedicated" : NULL,
				    dedicated ? "dedicated server" : "shared server");
		if (flag(f, "asynchronous", 0))
			put_feature(b, "async", "asynchronous: takes a while");
		if (flag(f, "asynchronous_bindings", 0))
			put_feature(b, "async", "asynchronous bindings");
	}
	const cJSON *mp = cJSON_GetObjectItemCaseSensitive(plan, "maximum_polling_duration");
	if (cJSON_IsNumber(mp)) {
		snprintf(text, sizeof text, "done within %.0f s", mp->valuedouble);
		put_feature(b, NULL, text);
	}
	const char *mv = str(cJSON_GetObjectItemCaseSensitive(plan, "maintenance_info"), "version");
	if (mv) {
		snprintf(text, sizeof text, "version %.80s", mv);
		put_feature(b, NULL, text);
	}
	puts_(b, "</ul>\n");
	const cJSON *bullet, *bullets = cJSON_GetObjectItemCaseSensitive(md, "bullets");
	if (cJSON_GetArraySize(bullets) > 0) {
		puts_(b, "<ul class=\"bullets\">");
		cJSON_ArrayForEach(bullet, bullets)
		{
			if (!cJSON_IsString(bullet))
				continue;
			puts_(b, "<li>");
			put_html(b, bullet->valuestring);
			puts_(b, "</li>");
		}
		puts_(b, "</ul>\n");
	}
	put_parameters(b, plan, create_keys, "Create");
	put_parameters(b, plan, update_keys, "Update");
	put_parameters(b, plan, bind_keys, "Bind");
	puts_(b, "</section>\n");
}

/* ---- a service ----------------------------------------------------------- */

static void put_link(buf *b, const char *url, const char *label)
{
	if (!safe_url(url, 0))
		return;
	puts_(b, "<a href=\"");
	put_html(b, url);
	puts_(b, "\" rel=\"noopener noreferrer\">");
	puts_(b, label);
	puts_(b, "</a>");
}

static void put_service(buf *b, const entry *e)
{
	const cJSON *svc = e->svc;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(svc, "metadata");
	const char *name = str(svc, "name") ? str(svc, "name") : "(unnamed)";
	const char *image = str(md, "imageUrl");
	const cJSON *t, *plan;

	puts_(b, "<article class=\"service\" id=\"service-");
	put_slug(b, e->broker);
	puts_(b, "-");
	put_slug(b, name);
	puts_(b, "\" data-service=\"");
	put_html(b, e->broker);
	puts_(b, "/");
	put_html(b, str(svc, "id") ? str(svc, "id") : name);
	puts_(b, "\" data-search=\"");
	put_html(b, e->search);
	puts_(b, e->shown ? "\">\n<header>" : "\" hidden>\n<header>");
	if (safe_url(image, 1)) {
		puts_(b, "<img class=\"logo\" alt=\"\" src=\"");
		put_html(b, image);
		puts_(b, "\">");
	}
	puts_(b, "<div>\n<h3>");
	put_html(b, display_name(svc));
	puts_(b, "</h3>\n<p class=\"name\"><code>");
	put_html(b, name);
	puts_(b, "</code> from broker <span class=\"broker\">");
	put_html(b, e->broker);
	puts_(b, "</span></p>\n");
	if (str(md, "providerDisplayName")) {
		puts_(b, "<p class=\"provider\">Provided by ");
		put_html(b, str(md, "providerDisplayName"));
		puts_(b, "</p>\n");
	}
	if (str(svc, "description")) {
		puts_(b, "<p class=\"description\">");
		put_html(b, str(svc, "description"));
		puts_(b, "</p>\n");
	}
	puts_(b, "</div></header>\n");
	if (str(md, "longDescription")) {
		puts_(b, "<p class=\"long\">");
		put_html(b, str(md, "longDescription"));
		puts_(b, "</p>\n");
	}
	if (safe_url(str(md, "documentationUrl"), 0) || safe_url(str(md, "supportUrl"), 0)) {
		puts_(b, "<p class=\"links\">");
		put_link(b, str(md, "documentationUrl"), "Documentation");
		put_link(b, str(md, "supportUrl"), "Support");
		puts_(b, "</p>\n");
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(svc, "tags")) > 0) {
		puts_(b, "<ul class=\"tags\">");
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(svc, "tags"))
		{
			if (!cJSON_IsString(t))
				continue;
			puts_(b, "<li>");
			put_html(b, t->valuestring);
			puts_(b, "</li>");
		}
		puts_(b, "</ul>\n");
	}
	puts_(b, "<div class=\"plans\">\n");
	cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(svc, "plans")) if (cJSON_IsObject(plan))
		put_plan(b, svc, plan, e->features);
	puts_(b, "</div>\n</article>\n");
}

/* ---- the page ------------------------------------------------------------ */

typedef struct {
	entry *v;
	size_t n, cap;
	size_t plans, brokers, shown;
} entries;

static int add_entry(entries *es, const cJSON *svc, const cJSON *features, const char *broker, const char *query)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		entry *v = realloc(es->v, cap * sizeof *v);
		if (!v)
			return OSB_ENOMEM;
		es->v = v;
		es->cap = cap;
	}
	entry *e = &es->v[es->n];
	memset(e, 0, sizeof *e);
	e->svc = svc;
	e->features = features;
	e->broker = broker;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(svc, "tags");
	const char *first =
		cJSON_IsString(cJSON_GetArrayItem(tags, 0)) ? cJSON_GetArrayItem(tags, 0)->valuestring : NULL;
	snprintf(e->category, sizeof e->category, "%s", first && first[0] ? first : "other");
	for (char *p = e->category; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	e->search = search_text(svc, broker);
	if (!e->search)
		return OSB_ENOMEM;
	e->shown = matches(e->search, query);
	es->shown += (size_t)e->shown;
	es->plans += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(svc, "plans"));
	es->n++;
	return 0;
}

static void put_categories(buf *b, const entries *es)
{
	puts_(b, "<ul>");
	for (size_t i = 0; i < es->n; i++) {
		if (i && strcmp(es->v[i].category, es->v[i - 1].category) == 0)
			continue;
		size_t n = 0;
		for (size_t j = i; j < es->n && strcmp(es->v[j].category, es->v[i].category) == 0; j++)
			n++;
		puts_(b, "<li><a href=\"#category-");
		put_slug(b, es->v[i].category);
		puts_(b, "\">");
		put_html(b, es->v[i].category);
		putf(b, " (%zu)</a></li>", n);
	}
	puts_(b, "</ul>");
}

static void put_services(buf *b, const entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		const entry *e = &es->v[i];
		if (!i || strcmp(e->category, es->v[i - 1].category) != 0) {
			int shown = 0;
			for (size_t j = i; j < es->n && strcmp(es->v[j].category, e->category) == 0; j++)
				shown |= es->v[j].shown;
			puts_(b, "<section class=\"category\" id=\"category-");
			put_slug(b, e->category);
			puts_(b, shown ? "\">\n<h2>" : "\" hidden>\n<h2>");
			put_html(b, e->category);
			puts_(b, "</h2>\n");
		}
		put_service(b, e);
		if (i + 1 == es->n || strcmp(es->v[i + 1].category, e->category) != 0)
			puts_(b, "</section>\n");
	}
}

/* Fill the template: each {{name}} becomes what the matching part wrote. */
static void fill(buf *out, const char *name, size_t name_len, const char *const *names, buf *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == name_len && strncmp(names[i], name, name_len) == 0) {
			if (parts[i].data)
				put(out, parts[i].data, parts[i].len);
			return;
		}
}

int osb_marketplace_render(char **out, const cJSON *doc, const char *title, const char *query)
{
	static const char *const names[] = { "title",      "summary", "query",    "count",       "total",
					     "categories", "notices", "services", "empty_hidden" };
	enum { P_TITLE, P_SUMMARY, P_QUERY, P_COUNT, P_TOTAL, P_CATEGORIES, P_NOTICES, P_SERVICES, P_EMPTY, P_N };
	buf parts[P_N], page = OSB_BUF_INIT;
	entries es = { 0 };
	const cJSON *brokers = cJSON_GetObjectItemCaseSensitive(doc, "brokers"), *broker, *svc;
	int rc = 0;

	if (!out)
		return OSB_EBADREQUEST;
	*out = NULL;
	if (!cJSON_IsArray(brokers))
		return OSB_EBADREQUEST;
	memset(parts, 0, sizeof parts);
	if (query && strlen(query) > QUERY_MAX)
		query = NULL;
	cJSON_ArrayForEach(broker, brokers)
	{
		const char *bname = str(broker, "name") ? str(broker, "name") : "broker";
		const cJSON *features = cJSON_GetObjectItemCaseSensitive(broker, "plan_features");
		es.brokers++;
		if (str(broker, "error")) {
			puts_(&parts[P_NOTICES], "<p class=\"notice\">Broker <b>");
			put_html(&parts[P_NOTICES], bname);
			puts_(&parts[P_NOTICES], "</b> could not be read: ");
			put_html(&parts[P_NOTICES], str(broker, "error"));
			puts_(&parts[P_NOTICES], "</p>\n");
		}
		cJSON_ArrayForEach(svc, cJSON_GetObjectItemCaseSensitive(
						broker, "services")) if (cJSON_IsObject(svc) &&
									 (rc = add_entry(&es, svc, features, bname,
											 query))) goto done;
	}
	if (es.n)
		qsort(es.v, es.n, sizeof *es.v, cmp_entry);

	put_html(&parts[P_TITLE], title ? title : "Service marketplace");
	putf(&parts[P_SUMMARY], "%zu service%s and %zu plan%s from %zu broker%s", es.n, es.n == 1 ? "" : "s", es.plans,
	     es.plans == 1 ? "" : "s", es.brokers, es.brokers == 1 ? "" : "s");
	if (query)
		put_html(&parts[P_QUERY], query);
	if (query && has_words(query))
		putf(&parts[P_COUNT], "%zu of %zu services match", es.shown, es.n);
	else
		putf(&parts[P_COUNT], "%zu services", es.n);
	putf(&parts[P_TOTAL], "%zu", es.n);
	put_categories(&parts[P_CATEGORIES], &es);
	put_services(&parts[P_SERVICES], &es);
	if (es.shown)
		puts_(&parts[P_EMPTY], " hidden");

	const char *t = (const char *)osb_marketplace_page, *end = t + osb_marketplace_page_size;
	while (t < end) {
		const char *open = memmem(t, (size_t)(end - t), "{{", 2);
		const char *close = open ? memmem(open, (size_t)(end - open), "}}", 2) : NULL;
		if (!open || !close) {
			put(&page, t, (size_t)(end - t));
			break;
		}
		put(&page, t, (size_t)(open - t));
		fill(&page, open + 2, (size_t)(close - open - 2), names, parts, P_N);
		t = close + 2;
	}
	for (int i = 0; i < P_N; i++)
		page.failed |= parts[i].failed;
	rc = page.failed ? OSB_ENOMEM : 0;
done:
	for (int i = 0; i < P_N; i++)
		osb_buf_free(&parts[i]);
	for (size_t i = 0; i < es.n; i++)
		free(es.v[i].search);
	free(es.v);
	if (rc) {
		osb_buf_free(&page);
		return rc;
	}
	*out = osb_buf_take(&page);
	return *out ? 0 : OSB_ENOMEM;
}

const unsigned char *osb_marketplace_asset(const char *name, size_t *len, const char **content_type)
{
	if (name && strcmp(name, "style.css") == 0) {
		*len = osb_marketplace_css_size;
		*content_type = "text/css; charset=utf-8";
		return osb_marketplace_css;
	}
	if (name && strcmp(name, "search.js") == 0) {
		*len = osb_marketplace_js_size;
		*content_type = "text/javascript; charset=utf-8";
		return osb_marketplace_js;
	}
	return NULL;
}
