/* JSON Schema (draft-04 to draft-07 keywords) compiler and validator for OSB `parameters`. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "osb/jsonschema.h"

#include <arpa/inet.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"
#include "osb/utf8.h"

/*
 * Numbers: cJSON keeps every number as a double, so integers beyond 2^53 have
 * already lost precision when they reach us. minimum, maximum, multipleOf,
 * enum, const and uniqueItems all compare those rounded doubles.
 */

#define MAX_DEPTH 64        /* nesting of instances, of schemas and of enum/const/default values */
#define MAX_CHAIN 64        /* $ref/allOf/anyOf/oneOf/not applied to one value in a row */
#define MAX_EVAL_DEPTH 1024 /* validation recursion; a last guard, the two above bound it */
#define MAX_ECHO 64         /* bytes of a value that a message may show */
#define QUOTE_CAP (MAX_ECHO * 4 + 8)
#define MAX_LITERAL_TEXT 200 /* bytes of an enum/const listing in a message */
#define PATH_CAP 1024
#define MATCH_LIMIT 1000000u /* PCRE2 backtracking budget per match: subjects are hostile */
#define HEAP_LIMIT_KIB 8192u

enum { K_OBJECT, K_TRUE, K_FALSE, K_REF };

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_STRING = 1 << 5,
	T_INTEGER = 1 << 6,
};

enum {
	F_MIN = 1 << 0,
	F_MAX = 1 << 1,
	F_XMIN = 1 << 2,
	F_XMAX = 1 << 3,
	F_XMIN_BOOL = 1 << 4, /* draft-04 "exclusiveMinimum": true */
	F_XMAX_BOOL = 1 << 5,
	F_MULT = 1 << 6,
	F_CONST = 1 << 7,
	F_UNIQUE = 1 << 8,
	F_TUPLE = 1 << 9,
};

enum { FMT_NONE, FMT_EMAIL, FMT_HOSTNAME, FMT_IPV4, FMT_IPV6, FMT_URI, FMT_DATE_TIME, FMT_DATE, FMT_TIME, FMT_UUID };

static const char *const format_names[] = {
	[FMT_EMAIL] = "email", [FMT_HOSTNAME] = "hostname", [FMT_IPV4] = "ipv4",
	[FMT_IPV6] = "ipv6",   [FMT_URI] = "uri",           [FMT_DATE_TIME] = "date-time",
	[FMT_DATE] = "date",   [FMT_TIME] = "time",         [FMT_UUID] = "uuid",
};

/* In the order messages list them. */
static const struct {
	const char *name;
	const char *noun;
	unsigned bit;
} type_names[] = {
	{ "string", "a string", T_STRING },  { "integer", "an integer", T_INTEGER },
	{ "number", "a number", T_NUMBER },  { "boolean", "a boolean", T_BOOLEAN },
	{ "object", "an object", T_OBJECT }, { "array", "an array", T_ARRAY },
	{ "null", "null", T_NULL },
};

struct node;

struct list {
	struct node **v;
	size_t n;
};

struct prop {
	char *name;
	struct node *schema;
};

struct pprop {
	pcre2_code *re;
	struct node *schema;
};

struct node {
	struct node *next; /* every node of a schema, so refs can share nodes */
	int kind;
	struct node *ref; /* K_REF: the target */
	char *ref_path;   /* K_REF: schema path of the $ref, for cycle messages */
	unsigned types, flags;
	double min, max, xmin, xmax, mult;
	long min_len, max_len, min_items, max_items, min_props, max_props; /* -1: unset */
	pcre2_code *pattern;
	char *pattern_text; /* quoted, for messages */
	int format;
	struct prop *props;
	size_t nprops;
	char **required;
	size_t nrequired;
	struct pprop *pprops;
	size_t npprops;
	struct node *addl_props;
	struct node *items;
	struct list tuple;
	struct node *addl_items;
	cJSON *enum_values;
	char *enum_text;
	cJSON *const_value;
	char *const_text;
	struct list all_of, any_of, one_of;
	struct node *not_schema;
	cJSON *default_value;
	int mark, height; /* compile-time search for $ref cycles */
};

struct osb_schema {
	struct node *root;
	struct node *nodes;
};

struct path {
	char buf[PATH_CAP];
	size_t len;
};

/* ---- text helpers ---- */

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Code points in s; each byte that is not part of valid UTF-8 counts as one. */
static size_t utf8_count(const char *s, size_t n)
{
	size_t i = 0, count = 0;

	while (i < n) {
		size_t k = osb_utf8_sequence(s + i, n - i);

		i += k ? k : 1;
		count++;
	}
	return count;
}

/* Cut point at or before n that does not split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n)
{
	while (n > 0 && is_cont((unsigned char)s[n]))
		n--;
	return n;
}

/* Writes s in double quotes, escaped, at most MAX_ECHO bytes of it; out has QUOTE_CAP bytes. */
static void quote(char *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, MAX_ECHO + 4), i = 0, o = 0;

	out[o++] = '"';
	while (i < n && i < MAX_ECHO) {
		size_t k = osb_utf8_sequence(s + i, n - i);

		if (k > 1) {
			if (i + k > MAX_ECHO)
				break;
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else if (k == 1 && p[i] >= 0x20 && p[i] != 0x7F) {
			if (p[i] == '"' || p[i] == '\\')
				out[o++] = '\\';
			out[o++] = (char)p[i++];
		} else {
			o += (size_t)snprintf(out + o, QUOTE_CAP - o, "\\x%02x", p[i++]);
		}
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* Shortest of %.15g and %.17g that reads back as the same double. */
static void fmt_num(char *buf, size_t size, double d)
{
	snprintf(buf, size, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, size, "%.17g", d);
}

/* A message cut by the buffer must not end inside a UTF-8 sequence. */
static void trim_cut(char *buf, size_t size, int written)
{
	size_t end, i;

	if (written < 0 || (size_t)written < size)
		return;
	end = strlen(buf);
	for (i = end; i > 0 && end - i < 3 && is_cont((unsigned char)buf[i - 1]); i--)
		;
	if (i > 0 && (unsigned char)buf[i - 1] >= 0xC0 && !osb_utf8_sequence(buf + i - 1, end - i + 1))
		buf[i - 1] = '\0';
}

static void path_append(struct path *p, const char *s, size_t n)
{
	size_t room = PATH_CAP - 1 - p->len;

	if (n > room)
		n = utf8_cut(s, room);
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void path_pop(struct path *p, size_t len)
{
	p->len = len;
	p->buf[len] = '\0';
}

static int key_is_simple(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= MAX_ECHO)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '$'))
			return 0;
	}
	return i > 0;
}

/* Appends .key or ["key"]; returns the length to restore with path_pop(). */
static size_t path_key(struct path *p, const char *key)
{
	size_t old = p->len;
	char q[QUOTE_CAP];

	if (key_is_simple(key)) {
		if (p->len)
			path_append(p, ".", 1);
		path_append(p, key, strlen(key));
	} else {
		quote(q, key);
		path_append(p, "[", 1);
		path_append(p, q, strlen(q));
		path_append(p, "]", 1);
	}
	return old;
}

static size_t path_index(struct path *p, size_t i)
{
	size_t old = p->len;
	char b[32];
	int n = snprintf(b, sizeof b, "[%zu]", i);

	path_append(p, b, (size_t)n);
	return old;
}

/* ---- JSON values ---- */

static int is_container(const cJSON *x)
{
	return cJSON_IsArray(x) || cJSON_IsObject(x);
}

/* Whether arrays/objects nest deeper than MAX_DEPTH; iterative, so any input is safe. */
static int json_too_deep(const cJSON *root)
{
	const cJSON *stack[MAX_DEPTH];
	const cJSON *cur = root;
	int top = 0;

	for (;;) {
		while (!cur) {
			const cJSON *done = stack[--top];

			if (top == 0)
				return 0;
			cur = done->next;
		}
		if (is_container(cur)) {
			if (top == MAX_DEPTH)
				return 1;
			stack[top++] = cur;
			cur = cur->child;
		} else if (top == 0) {
			return 0;
		} else {
			cur = cur->next;
		}
	}
}

static int json_equal(const cJSON *a, const cJSON *b);

static int cmp_key(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;

	return strcmp(a->string ? a->string : "", b->string ? b->string : "");
}

/* Large objects are compared sorted by key, so hostile key orders cost n log n. */
static int object_equal_sorted(const cJSON *a, const cJSON *b, size_t n)
{
	const cJSON **va = malloc(2 * n * sizeof *va), **vb;
	const cJSON *x;
	size_t i = 0;
	int rc = 1;

	if (!va)
		return OSB_ENOMEM;
	vb = va + n;
	cJSON_ArrayForEach(x, a) va[i++] = x;
	i = 0;
	cJSON_ArrayForEach(x, b) vb[i++] = x;
	qsort(va, n, sizeof *va, cmp_key);
	qsort(vb, n, sizeof *vb, cmp_key);
	for (i = 0; i < n && rc == 1; i++) {
		if (cmp_key(&va[i], &vb[i]) != 0)
			rc = 0;
		else
			rc = json_equal(va[i], vb[i]);
	}
	free(va);
	return rc;
}

static int object_equal(const cJSON *a, const cJSON *b)
{
	size_t n = (size_t)cJSON_GetArraySize(a);
	const cJSON *x;

	if ((size_t)cJSON_GetArraySize(b) != n)
		return 0;
	if (n > 8)
		return object_equal_sorted(a, b, n);
	cJSON_ArrayForEach(x, a)
	{
		const cJSON *y = x->string ? cJSON_GetObjectItemCaseSensitive(b, x->string) : NULL;
		int rc;

		if (!y)
			return 0;
		rc = json_equal(x, y);
		if (rc != 1)
			return rc;
	}
	return 1;
}

/* 1 equal, 0 not, OSB_ENOMEM. Numbers by value, objects regardless of key order. */
static int json_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	int rc;

	if ((a->type & 0xFF) != (b->type & 0xFF))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return a->valuestring && b->valuestring && strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsObject(a))
		return object_equal(a, b);
	if (!cJSON_IsArray(a))
		return 1; /* true, false, null */
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
		rc = json_equal(x, y);
		if (rc != 1)
			return rc;
	}
	return !x && !y;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Equal values (json_equal) hash alike: object members are summed, so order does not count. */
static uint64_t json_hash(const cJSON *x)
{
	const cJSON *c;
	uint64_t h, bits;
	double d;

	if (cJSON_IsNumber(x)) {
		d = x->valuedouble == 0 ? 0.0 : x->valuedouble; /* -0 == 0 */
		memcpy(&bits, &d, sizeof bits);
		return mix64(bits ^ 1);
	}
	if (cJSON_IsString(x))
		return mix64(hash_str(x->valuestring) ^ 2);
	if (cJSON_IsArray(x)) {
		h = 3;
		cJSON_ArrayForEach(c, x) h = mix64(h * 31 + json_hash(c));
		return h;
	}
	if (cJSON_IsObject(x)) {
		h = 4;
		cJSON_ArrayForEach(c, x) h += mix64(hash_str(c->string) ^ json_hash(c));
		return mix64(h);
	}
	return mix64((uint64_t)(x->type & 0xFF) + 5);
}

/* ---- formats ---- */

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Exactly n decimal digits at s (stops at the NUL, never reads past it). */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static const char *scan_date(const char *s)
{
	int y, m, d;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' || !digits(s + 8, 2, &d))
		return NULL;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return NULL;
	return s + 10;
}

static const char *scan_hh_mm(const char *s)
{
	int h, m;

	if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &m) || h > 23 || m > 59)
		return NULL;
	return s + 5;
}

/* RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM); second 60 for leap seconds. */
static const char *scan_time(const char *s)
{
	const char *p = scan_hh_mm(s);
	int sec;

	if (!p || *p != ':' || !digits(p + 1, 2, &sec) || sec > 60)
		return NULL;
	p += 3;
	if (*p == '.') {
		if (!is_digit(*++p))
			return NULL;
		while (is_digit(*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		return p + 1;
	if (*p == '+' || *p == '-')
		return scan_hh_mm(p + 1);
	return NULL;
}

static int format_date_time(const char *s)
{
	const char *p = scan_date(s);

	if (!p || (*p != 'T' && *p != 't'))
		return 0;
	p = scan_time(p + 1);
	return p && !*p;
}

static int format_date(const char *s)
{
	const char *p = scan_date(s);

	return p && !*p;
}

static int format_time(const char *s)
{
	const char *p = scan_time(s);

	return p && !*p;
}

static int format_hostname(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-') {
			if ((label == 0 && c == '-') || ++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

static int format_ipv4(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			start = ++i;
		}
		while (i < n && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return 0;
	}
	return i == n;
}

static int format_ipv6(const char *s, size_t n)
{
	char buf[64];
	unsigned char addr[16];

	if (n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

static int format_uri(const char *s)
{
	const char *p = s;
	int hashes = 0;

	if (!is_alpha(*p))
		return 0;
	while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p++ != ':')
		return 0;
	for (; *p; p++) {
		if (*p == '%') {
			if (!is_xdigit(p[1]) || !is_xdigit(p[2]))
				return 0;
			p += 2;
		} else if (*p == '#') {
			if (hashes++)
				return 0;
		} else if (!is_alpha(*p) && !is_digit(*p) && !strchr("-._~!$&'()*+,;=:@/?[]", *p)) {
			return 0;
		}
	}
	return 1;
}

static int is_atext(char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int email_local(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return 0;
		for (size_t i = 1; i < n - 1; i++) {
			if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '"')
				return 0;
			if (s[i] == '\\' && ++i >= n - 1)
				return 0;
		}
		return 1;
	}
	if (s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return 0;
	}
	return 1;
}

static int format_email(const char *s)
{
	const char *at = strrchr(s, '@'), *d;
	size_t n;

	if (!at || !email_local(s, (size_t)(at - s)))
		return 0;
	d = at + 1;
	n = strlen(d);
	if (n > 2 && d[0] == '[' && d[n - 1] == ']') {
		if (n > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
			return format_ipv6(d + 6, n - 7);
		return format_ipv4(d + 1, n - 2);
	}
	return format_hostname(d, n);
}

static int format_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_xdigit(s[i])) {
			return 0;
		}
	}
	return s[36] == '\0';
}

static int format_ok(int format, const char *s)
{
	switch (format) {
	case FMT_EMAIL: return format_email(s);
	case FMT_HOSTNAME: return format_hostname(s, strlen(s));
	case FMT_IPV4: return format_ipv4(s, strlen(s));
	case FMT_IPV6: return format_ipv6(s, strlen(s));
	case FMT_URI: return format_uri(s);
	case FMT_DATE_TIME: return format_date_time(s);
	case FMT_DATE: return format_date(s);
	case FMT_TIME: return format_time(s);
	case FMT_UUID: return format_uuid(s);
	default: return 1;
	}
}

/* ---- nodes ---- */

static void node_free(struct node *n)
{
	size_t i;

	free(n->ref_path);
	pcre2_code_free(n->pattern);
	free(n->pattern_text);
	for (i = 0; i < n->nprops; i++)
		free(n->props[i].name);
	free(n->props);
	for (i = 0; i < n->nrequired; i++)
		free(n->required[i]);
	free(n->required);
	for (i = 0; i < n->npprops; i++)
		pcre2_code_free(n->pprops[i].re);
	free(n->pprops);
	free(n->tuple.v);
	free(n->all_of.v);
	free(n->any_of.v);
	free(n->one_of.v);
	cJSON_Delete(n->enum_values);
	free(n->enum_text);
	cJSON_Delete(n->const_value);
	free(n->const_text);
	cJSON_Delete(n->default_value);
	free(n);
}

void osb_schema_free(osb_schema *schema)
{
	struct node *n, *next;

	if (!schema)
		return;
	for (n = schema->nodes; n; n = next) {
		next = n->next;
		node_free(n);
	}
	free(schema);
}

/* ---- compile ---- */

struct def {
	const char *container; /* "definitions" or "$defs" */
	const char *name;
	const cJSON *json;
	struct node *node;
};

struct cctx {
	osb_schema *s;
	struct def *defs;
	size_t ndefs;
	struct path path;
	int depth;
	int reported;
	char *err;
	size_t err_size;
};

static int cerr(struct cctx *c, const char *fmt, ...) OSB_PRINTF(2, 3);

static int cerr(struct cctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->reported = 1;
	if (!c->err || !c->err_size)
		return OSB_EBADREQUEST;
	n = snprintf(c->err, c->err_size, "%s: ", c->path.len ? c->path.buf : "(root)");
	if (n >= 0 && (size_t)n < c->err_size) {
		va_start(ap, fmt);
		n += vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	trim_cut(c->err, c->err_size, n);
	return OSB_EBADREQUEST;
}

static int coom(struct cctx *c)
{
	if (c->err && c->err_size)
		snprintf(c->err, c->err_size, "out of memory");
	c->reported = 1;
	return OSB_ENOMEM;
}

static struct node *new_node(struct cctx *c)
{
	struct node *n = calloc(1, sizeof *n);

	if (!n)
		return NULL;
	n->min_len = n->max_len = -1;
	n->min_items = n->max_items = -1;
	n->min_props = n->max_props = -1;
	n->next = c->s->nodes;
	c->s->nodes = n;
	return n;
}

static int compile_into(struct cctx *c, struct node *n, const cJSON *js);

static int compile_sub(struct cctx *c, const cJSON *js, struct node **out)
{
	*out = new_node(c);
	if (!*out)
		return coom(c);
	return compile_into(c, *out, js);
}

/* Copies a literal value (enum, const, default) the schema gives. */
static int copy_literal(struct cctx *c, const cJSON *v, cJSON **out)
{
	if (json_too_deep(v))
		return cerr(c, "value nested deeper than %d levels", MAX_DEPTH);
	*out = cJSON_Duplicate(v, 1);
	return *out ? 0 : coom(c);
}

/* Message text of schema literals, cut at MAX_LITERAL_TEXT bytes. */
struct text {
	char buf[MAX_LITERAL_TEXT + 16];
	size_t len;
	int full;
};

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->full)
		return;
	if (t->len + n > MAX_LITERAL_TEXT) {
		n = utf8_cut(s, MAX_LITERAL_TEXT - t->len);
		t->full = 1;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static int text_add_json(struct text *t, const cJSON *v)
{
	char *s;

	if (t->full)
		return 0;
	s = cJSON_PrintUnformatted(v);
	if (!s)
		return OSB_ENOMEM;
	text_add(t, s);
	cJSON_free(s);
	return 0;
}

/* The compact JSON of v, or for a list ["a", "b"]. */
static int literal_text(struct cctx *c, const cJSON *v, int list, char **out)
{
	struct text t = { .len = 0 };
	const cJSON *x;
	int rc = 0;

	if (!list) {
		rc = text_add_json(&t, v);
	} else {
		text_add(&t, "[");
		cJSON_ArrayForEach(x, v)
		{
			if (x != v->child)
				text_add(&t, ", ");
			rc = text_add_json(&t, x);
			if (rc)
				break;
		}
	}
	if (rc)
		return coom(c);
	if (t.full) {
		memcpy(t.buf + t.len, "...", 3);
		t.len += 3;
	}
	if (list)
		t.buf[t.len++] = ']';
	t.buf[t.len] = '\0';
	*out = strdup(t.buf);
	return *out ? 0 : coom(c);
}

static int type_bit(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		if (strcmp(type_names[i].name, name) == 0) {
			*bit = type_names[i].bit;
			return 1;
		}
	}
	return 0;
}

static int add_type(struct cctx *c, struct node *n, const cJSON *v)
{
	char q[QUOTE_CAP];
	unsigned bit;

	if (!cJSON_IsString(v))
		return cerr(c, "must be a string");
	if (!type_bit(v->valuestring, &bit)) {
		quote(q, v->valuestring);
		return cerr(c, "unknown type %s", q);
	}
	n->types |= bit;
	return 0;
}

static int kw_type(struct cctx *c, struct node *n, const cJSON *v)
{
	const cJSON *x;
	size_t i = 0, old;
	int rc;

	if (cJSON_IsString(v))
		return add_type(c, n, v);
	if (!cJSON_IsArray(v) || !v->child)
		return cerr(c, "must be a string or a non-empty array of strings");
	cJSON_ArrayForEach(x, v)
	{
		old = path_index(&c->path, i++);
		rc = add_type(c, n, x);
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int kw_properties(struct cctx *c, struct node *n, const cJSON *v)
{
	const cJSON *x;
	size_t old;
	int rc;

	if (!cJSON_IsObject(v))
		return cerr(c, "must be an object");
	n->props = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *n->props);
	if (!n->props)
		return coom(c);
	cJSON_ArrayForEach(x, v)
	{
		struct prop *p = &n->props[n->nprops];

		p->name = strdup(x->string ? x->string : "");
		if (!p->name)
			return coom(c);
		n->nprops++;
		old = path_key(&c->path, p->name);
		rc = compile_sub(c, x, &p->schema);
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int compile_regex(struct cctx *c, const char *src, pcre2_code **out)
{
	PCRE2_UCHAR msg[128];
	PCRE2_SIZE off;
	int code;

	/* ECMA-262 flavour: $ only at the very end, \uHHHH escapes. */
	*out = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY, &code, &off,
			     NULL);
	if (*out)
		return 0;
	if (code == PCRE2_ERROR_HEAP_FAILED)
		return coom(c);
	if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", code);
	return cerr(c, "invalid regular expression: %s at offset %zu", (const char *)msg, (size_t)off);
}

static int kw_pattern_properties(struct cctx *c, struct node *n, const cJSON *v)
{
	const cJSON *x;
	size_t old;
	int rc;

	if (!cJSON_IsObject(v))
		return cerr(c, "must be an object");
	n->pprops = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *n->pprops);
	if (!n->pprops)
		return coom(c);
	cJSON_ArrayForEach(x, v)
	{
		struct pprop *p = &n->pprops[n->npprops];

		old = path_key(&c->path, x->string ? x->string : "");
		rc = compile_regex(c, x->string ? x->string : "", &p->re);
		if (!rc) {
			n->npprops++;
			rc = compile_sub(c, x, &p->schema);
		}
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int kw_required(struct cctx *c, struct node *n, const cJSON *v)
{
	const cJSON *x;

	if (!cJSON_IsArray(v))
		return cerr(c, "must be an array of strings");
	cJSON_ArrayForEach(x, v)
	{
		if (!cJSON_IsString(x))
			return cerr(c, "must be an array of strings");
	}
	n->required = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *n->required);
	if (!n->required)
		return coom(c);
	cJSON_ArrayForEach(x, v)
	{
		n->required[n->nrequired] = strdup(x->valuestring);
		if (!n->required[n->nrequired])
			return coom(c);
		n->nrequired++;
	}
	return 0;
}

static int kw_additional_properties(struct cctx *c, struct node *n, const cJSON *v)
{
	return compile_sub(c, v, &n->addl_props);
}

static int kw_additional_items(struct cctx *c, struct node *n, const cJSON *v)
{
	return compile_sub(c, v, &n->addl_items);
}

static int kw_not(struct cctx *c, struct node *n, const cJSON *v)
{
	return compile_sub(c, v, &n->not_schema);
}

static int compile_list(struct cctx *c, const cJSON *v, struct list *l)
{
	const cJSON *x;
	size_t old;
	int rc;

	l->v = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *l->v);
	if (!l->v)
		return coom(c);
	cJSON_ArrayForEach(x, v)
	{
		old = path_index(&c->path, l->n);
		rc = compile_sub(c, x, &l->v[l->n]);
		l->n++;
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int kw_items(struct cctx *c, struct node *n, const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return compile_sub(c, v, &n->items);
	n->flags |= F_TUPLE;
	return compile_list(c, v, &n->tuple);
}

static int kw_combinator(struct cctx *c, struct node *n, const cJSON *v)
{
	const char *name = v->string;
	struct list *l = strcmp(name, "allOf") == 0 ? &n->all_of : strcmp(name, "anyOf") == 0 ? &n->any_of : &n->one_of;

	if (!cJSON_IsArray(v) || !v->child)
		return cerr(c, "must be a non-empty array of schemas");
	return compile_list(c, v, l);
}

static int kw_enum(struct cctx *c, struct node *n, const cJSON *v)
{
	int rc;

	if (!cJSON_IsArray(v) || !v->child)
		return cerr(c, "must be a non-empty array");
	rc = copy_literal(c, v, &n->enum_values);
	return rc ? rc : literal_text(c, v, 1, &n->enum_text);
}

static int kw_const(struct cctx *c, struct node *n, const cJSON *v)
{
	int rc = copy_literal(c, v, &n->const_value);

	n->flags |= F_CONST;
	return rc ? rc : literal_text(c, v, 0, &n->const_text);
}

static int kw_default(struct cctx *c, struct node *n, const cJSON *v)
{
	return copy_literal(c, v, &n->default_value);
}

static int kw_bound(struct cctx *c, struct node *n, const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return cerr(c, "must be a number");
	if (strcmp(v->string, "minimum") == 0) {
		n->min = v->valuedouble;
		n->flags |= F_MIN;
	} else {
		n->max = v->valuedouble;
		n->flags |= F_MAX;
	}
	return 0;
}

/* Draft-04 boolean form (modifies minimum/maximum) or draft-06 number form. */
static int kw_exclusive(struct cctx *c, struct node *n, const cJSON *v)
{
	int lower = strcmp(v->string, "exclusiveMinimum") == 0;

	if (cJSON_IsBool(v)) {
		if (cJSON_IsTrue(v))
			n->flags |= lower ? F_XMIN_BOOL : F_XMAX_BOOL;
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return cerr(c, "must be a number or a boolean");
	if (lower) {
		n->xmin = v->valuedouble;
		n->flags |= F_XMIN;
	} else {
		n->xmax = v->valuedouble;
		n->flags |= F_XMAX;
	}
	return 0;
}

static int kw_multiple_of(struct cctx *c, struct node *n, const cJSON *v)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
		return cerr(c, "must be a number greater than 0");
	n->mult = v->valuedouble;
	n->flags |= F_MULT;
	return 0;
}

static long *count_field(struct node *n, const char *name)
{
	if (strcmp(name, "minLength") == 0)
		return &n->min_len;
	if (strcmp(name, "maxLength") == 0)
		return &n->max_len;
	if (strcmp(name, "minItems") == 0)
		return &n->min_items;
	if (strcmp(name, "maxItems") == 0)
		return &n->max_items;
	if (strcmp(name, "minProperties") == 0)
		return &n->min_props;
	return &n->max_props;
}

static int kw_count(struct cctx *c, struct node *n, const cJSON *v)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

	if (!(d >= 0) || d != floor(d))
		return cerr(c, "must be a non-negative integer");
	/* Beyond LONG_MAX cannot be reached anyway; the cast would be undefined. */
	*count_field(n, v->string) = d >= 9e18 ? LONG_MAX : (long)d;
	return 0;
}

static int kw_pattern(struct cctx *c, struct node *n, const cJSON *v)
{
	char q[QUOTE_CAP];

	if (!cJSON_IsString(v))
		return cerr(c, "must be a string");
	quote(q, v->valuestring);
	n->pattern_text = strdup(q);
	if (!n->pattern_text)
		return coom(c);
	return compile_regex(c, v->valuestring, &n->pattern);
}

/* Unknown formats are ignored, as the drafts allow. */
static int kw_format(struct cctx *c, struct node *n, const cJSON *v)
{
	if (!cJSON_IsString(v))
		return cerr(c, "must be a string");
	for (int i = FMT_EMAIL; i <= FMT_UUID; i++) {
		if (strcmp(format_names[i], v->valuestring) == 0)
			n->format = i;
	}
	return 0;
}

static int kw_unique_items(struct cctx *c, struct node *n, const cJSON *v)
{
	if (!cJSON_IsBool(v))
		return cerr(c, "must be a boolean");
	if (cJSON_IsTrue(v))
		n->flags |= F_UNIQUE;
	return 0;
}

typedef int (*kw_fn)(struct cctx *c, struct node *n, const cJSON *v);

/* At most 64 entries: a bit each tells duplicates apart. Others are ignored. */
static const struct {
	const char *name;
	kw_fn fn;
} keywords[] = {
	{ "type", kw_type },
	{ "properties", kw_properties },
	{ "required", kw_required },
	{ "additionalProperties", kw_additional_properties },
	{ "patternProperties", kw_pattern_properties },
	{ "enum", kw_enum },
	{ "const", kw_const },
	{ "default", kw_default },
	{ "minimum", kw_bound },
	{ "maximum", kw_bound },
	{ "exclusiveMinimum", kw_exclusive },
	{ "exclusiveMaximum", kw_exclusive },
	{ "multipleOf", kw_multiple_of },
	{ "minLength", kw_count },
	{ "maxLength", kw_count },
	{ "pattern", kw_pattern },
	{ "format", kw_format },
	{ "items", kw_items },
	{ "additionalItems", kw_additional_items },
	{ "minItems", kw_count },
	{ "maxItems", kw_count },
	{ "uniqueItems", kw_unique_items },
	{ "minProperties", kw_count },
	{ "maxProperties", kw_count },
	{ "allOf", kw_combinator },
	{ "anyOf", kw_combinator },
	{ "oneOf", kw_combinator },
	{ "not", kw_not },
};

static int find_keyword(const char *name)
{
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		if (strcmp(keywords[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int hex_value(char ch)
{
	return is_digit(ch) ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

/*
 * Percent- and ~-decodes one JSON pointer token into *out.
 * @return 0, 1 when it is not a single token (a deeper pointer), or OSB_ENOMEM.
 */
static int decode_ref_token(const char *s, char **out)
{
	char *buf = malloc(strlen(s) + 1), *o = buf;

	*out = NULL;
	if (!buf)
		return OSB_ENOMEM;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '%' && is_xdigit(s[1]) && is_xdigit(s[2])) {
			ch = (char)(hex_value(s[1]) << 4 | hex_value(s[2]));
			s += 2;
		}
		if (ch == '~' && (s[1] == '0' || s[1] == '1')) {
			ch = s[1] == '0' ? '~' : '/';
			s++;
		} else if (ch == '/' || ch == '\0') {
			free(buf);
			return 1;
		}
		*o++ = ch;
	}
	*o = '\0';
	*out = buf;
	return 0;
}

static struct node *find_def(struct cctx *c, const char *container, const char *name)
{
	for (size_t i = 0; i < c->ndefs; i++) {
		if (strcmp(c->defs[i].container, container) == 0 && strcmp(c->defs[i].name, name) == 0)
			return c->defs[i].node;
	}
	return NULL;
}

/* Local refs only: "#", "#/definitions/<name>", "#/$defs/<name>". */
static int resolve_ref(struct cctx *c, const char *ref, struct node **out)
{
	const char *container = NULL, *rest = NULL;
	char q[QUOTE_CAP], *name;
	int rc;

	quote(q, ref);
	if (ref[0] != '#')
		return cerr(c, "%s is not a local reference (only \"#/definitions/...\" and \"#/$defs/...\")", q);
	if (strcmp(ref, "#") == 0) {
		*out = c->s->root;
		return 0;
	}
	if (strncmp(ref, "#/definitions/", 14) == 0) {
		container = "definitions";
		rest = ref + 14;
	} else if (strncmp(ref, "#/$defs/", 8) == 0) {
		container = "$defs";
		rest = ref + 8;
	} else {
		return cerr(c, "cannot resolve %s", q);
	}
	rc = decode_ref_token(rest, &name);
	if (rc < 0)
		return coom(c);
	*out = rc ? NULL : find_def(c, container, name);
	free(name);
	return *out ? 0 : cerr(c, "cannot resolve %s", q);
}

/* Draft 4 to 7: keywords beside $ref are ignored; we still keep a `default` there. */
static int compile_ref(struct cctx *c, struct node *n, const cJSON *js, const cJSON *ref)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(js, "default");
	size_t old = path_key(&c->path, "$ref");
	int rc;

	n->kind = K_REF;
	if (!cJSON_IsString(ref))
		rc = cerr(c, "must be a string");
	else
		rc = resolve_ref(c, ref->valuestring, &n->ref);
	if (!rc) {
		n->ref_path = strdup(c->path.buf);
		if (!n->ref_path)
			rc = coom(c);
	}
	path_pop(&c->path, old);
	if (rc || !d)
		return rc;
	old = path_key(&c->path, "default");
	rc = kw_default(c, n, d);
	path_pop(&c->path, old);
	return rc;
}

static int compile_keywords(struct cctx *c, struct node *n, const cJSON *js)
{
	uint64_t seen = 0;
	const cJSON *kw;
	size_t old;
	int i, rc;

	cJSON_ArrayForEach(kw, js)
	{
		i = kw->string ? find_keyword(kw->string) : -1;
		if (i < 0)
			continue;
		old = path_key(&c->path, kw->string);
		if (seen & (UINT64_C(1) << i))
			rc = cerr(c, "duplicate keyword");
		else
			rc = keywords[i].fn(c, n, kw);
		seen |= UINT64_C(1) << i;
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	if ((n->flags & F_XMIN_BOOL) && (n->flags & F_MIN)) {
		n->flags = (n->flags & ~(unsigned)F_MIN) | F_XMIN;
		n->xmin = n->min;
	}
	if ((n->flags & F_XMAX_BOOL) && (n->flags & F_MAX)) {
		n->flags = (n->flags & ~(unsigned)F_MAX) | F_XMAX;
		n->xmax = n->max;
	}
	return 0;
}

static int compile_into(struct cctx *c, struct node *n, const cJSON *js)
{
	const cJSON *ref;
	int rc;

	if (cJSON_IsBool(js)) {
		n->kind = cJSON_IsTrue(js) ? K_TRUE : K_FALSE;
		return 0;
	}
	if (!cJSON_IsObject(js))
		return cerr(c, "must be a schema (an object or a boolean)");
	if (c->depth >= MAX_DEPTH)
		return cerr(c, "schema nested deeper than %d levels", MAX_DEPTH);
	c->depth++;
	ref = cJSON_GetObjectItemCaseSensitive(js, "$ref");
	n->kind = ref ? K_REF : K_OBJECT;
	rc = ref ? compile_ref(c, n, js, ref) : compile_keywords(c, n, js);
	c->depth--;
	return rc;
}

/* Only the root's definitions can be referenced; they are compiled even when unused. */
static int register_defs(struct cctx *c, const cJSON *root, const char *container)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(root, container), *x;
	struct def *grown;
	size_t old;

	if (!defs)
		return 0;
	if (!cJSON_IsObject(defs)) {
		old = path_key(&c->path, container);
		cerr(c, "must be an object");
		path_pop(&c->path, old);
		return OSB_EBADREQUEST;
	}
	cJSON_ArrayForEach(x, defs)
	{
		grown = realloc(c->defs, (c->ndefs + 1) * sizeof *c->defs);
		if (!grown)
			return coom(c);
		c->defs = grown;
		c->defs[c->ndefs].container = container;
		c->defs[c->ndefs].name = x->string ? x->string : "";
		c->defs[c->ndefs].json = x;
		c->defs[c->ndefs].node = new_node(c);
		if (!c->defs[c->ndefs].node)
			return coom(c);
		c->ndefs++;
	}
	return 0;
}

static int compile_defs(struct cctx *c)
{
	size_t old;
	int rc;

	for (size_t i = 0; i < c->ndefs; i++) {
		old = path_key(&c->path, c->defs[i].container);
		path_key(&c->path, c->defs[i].name);
		rc = compile_into(c, c->defs[i].node, c->defs[i].json);
		path_pop(&c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int chain_height(struct cctx *c, struct node *n, int depth);

static int chain_list(struct cctx *c, const struct list *l, int depth, int *h)
{
	for (size_t i = 0; i < l->n; i++) {
		int r = chain_height(c, l->v[i], depth + 1);

		if (r < 0)
			return r;
		if (r + 1 > *h)
			*h = r + 1;
	}
	return 0;
}

/*
 * Longest run of $ref/allOf/anyOf/oneOf/not that applies to one value; -1 on a
 * cycle (validation would never end), -2 when longer than MAX_CHAIN.
 */
static int chain_height(struct cctx *c, struct node *n, int depth)
{
	int h = 0, r = 0;

	if (n->mark == 2)
		return n->height;
	if (n->mark == 1)
		return -1;
	if (depth > MAX_CHAIN)
		return -2;
	n->mark = 1;
	if (n->ref) {
		r = chain_height(c, n->ref, depth + 1);
		h = r + 1;
	}
	if (r >= 0)
		r = chain_list(c, &n->all_of, depth, &h);
	if (r >= 0)
		r = chain_list(c, &n->any_of, depth, &h);
	if (r >= 0)
		r = chain_list(c, &n->one_of, depth, &h);
	if (r >= 0 && n->not_schema) {
		r = chain_height(c, n->not_schema, depth + 1);
		if (r + 1 > h)
			h = r + 1;
	}
	if (r >= 0 && h > MAX_CHAIN)
		r = -2;
	if (r < 0 && n->ref_path && !c->reported) {
		/* the innermost $ref on the way is the one to blame */
		path_pop(&c->path, 0);
		path_append(&c->path, n->ref_path, strlen(n->ref_path));
		cerr(c, r == -1 ? "circular reference" : "chain of $ref/allOf/anyOf/oneOf/not deeper than 64");
	}
	if (r < 0)
		return r;
	n->mark = 2;
	n->height = h;
	return h;
}

static int check_chains(struct cctx *c)
{
	for (struct node *n = c->s->nodes; n; n = n->next) {
		if (chain_height(c, n, 0) < 0) {
			if (!c->reported) {
				path_pop(&c->path, 0);
				cerr(c, "chain of $ref/allOf/anyOf/oneOf/not deeper than 64");
			}
			return OSB_EBADREQUEST;
		}
	}
	return 0;
}

int osb_schema_compile(osb_schema **out, const cJSON *schema, char *err, size_t err_size)
{
	struct cctx c;
	int rc;

	memset(&c, 0, sizeof c);
	c.err = err;
	c.err_size = err_size;
	if (err && err_size)
		err[0] = '\0';
	*out = NULL;
	if (!schema)
		return cerr(&c, "no schema");
	c.s = calloc(1, sizeof *c.s);
	if (!c.s)
		return coom(&c);
	c.s->root = new_node(&c);
	if (!c.s->root) {
		rc = coom(&c);
		goto done;
	}
	if (cJSON_IsObject(schema)) {
		rc = register_defs(&c, schema, "definitions");
		if (!rc)
			rc = register_defs(&c, schema, "$defs");
		if (rc)
			goto done;
	}
	rc = compile_into(&c, c.s->root, schema);
	if (!rc)
		rc = compile_defs(&c);
	if (!rc)
		rc = check_chains(&c);
done:
	free(c.defs);
	if (rc) {
		osb_schema_free(c.s);
		return rc;
	}
	*out = c.s;
	return 0;
}

/* ---- validate ---- */

struct vctx {
	struct path path;
	char *err;
	size_t err_size;
	int apply_defaults;
	int quiet; /* inside anyOf/oneOf/not: no messages, no defaults */
	int depth;
	pcre2_match_data *md; /* per call: compiled patterns are shared by threads */
	pcre2_match_context *mc;
	char scratch[QUOTE_CAP]; /* message parts: keeps recursive frames small */
};

static int vfail(struct vctx *v, const char *fmt, ...) OSB_PRINTF(2, 3);

static int vfail(struct vctx *v, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (v->quiet || !v->err || !v->err_size)
		return OSB_EBADREQUEST;
	n = snprintf(v->err, v->err_size, "%s: ", v->path.buf);
	if (n >= 0 && (size_t)n < v->err_size) {
		va_start(ap, fmt);
		n += vsnprintf(v->err + n, v->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	trim_cut(v->err, v->err_size, n);
	return OSB_EBADREQUEST;
}

static int voom(struct vctx *v)
{
	if (v->err && v->err_size)
		snprintf(v->err, v->err_size, "out of memory");
	return OSB_ENOMEM;
}

static int validate_node(struct vctx *v, const struct node *n, cJSON *x);

static unsigned instance_bits(const cJSON *x)
{
	if (cJSON_IsNull(x))
		return T_NULL;
	if (cJSON_IsBool(x))
		return T_BOOLEAN;
	if (cJSON_IsNumber(x)) {
		double d = x->valuedouble;

		return T_NUMBER | (isfinite(d) && d == floor(d) ? T_INTEGER : 0);
	}
	if (cJSON_IsString(x))
		return T_STRING;
	if (cJSON_IsArray(x))
		return T_ARRAY;
	if (cJSON_IsObject(x))
		return T_OBJECT;
	return 0;
}

static int check_type(struct vctx *v, const struct node *n, const cJSON *x)
{
	char *buf = v->scratch;
	size_t len = 0, count = 0, total = 0, i;

	if (!n->types || (n->types & instance_bits(x)))
		return 0;
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		total += (n->types & type_names[i].bit) != 0;
	buf[0] = '\0';
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		if (!(n->types & type_names[i].bit))
			continue;
		count++;
		len += (size_t)snprintf(buf + len, sizeof v->scratch - len, "%s%s",
					count == 1       ? ""
					: count == total ? " or "
							 : ", ",
					type_names[i].noun);
	}
	return vfail(v, "must be %s", buf);
}

static int check_literals(struct vctx *v, const struct node *n, const cJSON *x)
{
	const cJSON *e;
	int rc;

	if (n->enum_values) {
		rc = 0;
		cJSON_ArrayForEach(e, n->enum_values)
		{
			rc = json_equal(x, e);
			if (rc)
				break;
		}
		if (rc < 0)
			return voom(v);
		if (!rc)
			return vfail(v, "must be one of %s", n->enum_text);
	}
	if (n->flags & F_CONST) {
		rc = json_equal(x, n->const_value);
		if (rc < 0)
			return voom(v);
		if (!rc)
			return vfail(v, "must be equal to %s", n->const_text);
	}
	return 0;
}

static int is_multiple(double d, double m)
{
	double q, r;

	if (fmod(d, m) == 0)
		return 1;
	q = d / m;
	if (!isfinite(q))
		return 0;
	r = nearbyint(q);
	/* Decimal steps like 0.1 are inexact in binary: allow a few ulps of q. */
	return fabs(q - r) <= fabs(q) * 4 * DBL_EPSILON;
}

static int check_number(struct vctx *v, const struct node *n, const cJSON *x)
{
	double d = x->valuedouble;
	char *b = v->scratch;
	size_t size = sizeof v->scratch;

	if ((n->flags & F_MIN) && d < n->min) {
		fmt_num(b, size, n->min);
		return vfail(v, "must be >= %s", b);
	}
	if ((n->flags & F_XMIN) && d <= n->xmin) {
		fmt_num(b, size, n->xmin);
		return vfail(v, "must be > %s", b);
	}
	if ((n->flags & F_MAX) && d > n->max) {
		fmt_num(b, size, n->max);
		return vfail(v, "must be <= %s", b);
	}
	if ((n->flags & F_XMAX) && d >= n->xmax) {
		fmt_num(b, size, n->xmax);
		return vfail(v, "must be < %s", b);
	}
	if ((n->flags & F_MULT) && !is_multiple(d, n->mult)) {
		fmt_num(b, size, n->mult);
		return vfail(v, "must be a multiple of %s", b);
	}
	return 0;
}

/* 1 match, 0 no match, -1 too costly to decide, or OSB_ENOMEM (< -1). */
static int regex_match(struct vctx *v, const pcre2_code *re, const char *s)
{
	int r;

	if (!v->md || !v->mc) {
		if (!v->md)
			v->md = pcre2_match_data_create(1, NULL);
		if (!v->mc)
			v->mc = pcre2_match_context_create(NULL);
		if (!v->md || !v->mc)
			return OSB_ENOMEM;
		pcre2_set_match_limit(v->mc, MATCH_LIMIT);
		pcre2_set_heap_limit(v->mc, HEAP_LIMIT_KIB);
	}
	r = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, v->md, v->mc);
	if (r >= 0)
		return 1; /* 0: matched, ovector too small for the groups, which we do not need */
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r == PCRE2_ERROR_NOMEMORY)
		return OSB_ENOMEM;
	return -1;
}

static int check_string(struct vctx *v, const struct node *n, const cJSON *x)
{
	const char *s = x->valuestring ? x->valuestring : "";
	size_t len;
	int r;

	if (n->min_len >= 0 || n->max_len >= 0) {
		len = utf8_count(s, strlen(s));
		if (n->min_len >= 0 && len < (size_t)n->min_len)
			return vfail(v, "must be at least %ld character%s long", n->min_len,
				     n->min_len == 1 ? "" : "s");
		if (n->max_len >= 0 && len > (size_t)n->max_len)
			return vfail(v, "must be at most %ld character%s long", n->max_len, n->max_len == 1 ? "" : "s");
	}
	if (n->pattern) {
		r = regex_match(v, n->pattern, s);
		if (r < -1)
			return voom(v);
		if (r == -1)
			return vfail(v, "is too complex to match against pattern %s", n->pattern_text);
		if (r == 0)
			return vfail(v, "must match pattern %s", n->pattern_text);
	}
	if (n->format && !format_ok(n->format, s))
		return vfail(v, "must be a valid %s", format_names[n->format]);
	return 0;
}

struct hashed {
	uint64_t h;
	size_t i;
	const cJSON *x;
};

static int cmp_hashed(const void *a, const void *b)
{
	const struct hashed *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Hash, sort, compare neighbours: n log n even for huge hostile arrays. */
static int check_unique(struct vctx *v, const cJSON *arr, size_t count)
{
	struct hashed *t;
	const cJSON *x;
	size_t i = 0, j, a = 0, b = 0;
	int rc = 0;

	if (count < 2)
		return 0;
	t = malloc(count * sizeof *t);
	if (!t)
		return voom(v);
	cJSON_ArrayForEach(x, arr)
	{
		t[i].h = json_hash(x);
		t[i].i = i;
		t[i].x = x;
		i++;
	}
	qsort(t, count, sizeof *t, cmp_hashed);
	for (i = 0; i < count && rc == 0; i++) {
		for (j = i + 1; j < count && t[j].h == t[i].h && rc == 0; j++) {
			rc = json_equal(t[i].x, t[j].x);
			a = t[i].i;
			b = t[j].i;
		}
	}
	free(t);
	if (rc < 0)
		return voom(v);
	if (rc)
		return vfail(v, "must not contain duplicate items ([%zu] and [%zu] are equal)", a, b);
	return 0;
}

static int validate_at_index(struct vctx *v, const struct node *n, cJSON *x, size_t i)
{
	size_t old = path_index(&v->path, i);
	int rc;

	if (n->kind == K_FALSE)
		rc = vfail(v, "additional item not allowed");
	else
		rc = validate_node(v, n, x);
	path_pop(&v->path, old);
	return rc;
}

static int check_array(struct vctx *v, const struct node *n, cJSON *x)
{
	size_t count = (size_t)cJSON_GetArraySize(x), i = 0;
	const struct node *sub;
	cJSON *item;
	int rc;

	if (n->min_items >= 0 && count < (size_t)n->min_items)
		return vfail(v, "must have at least %ld item%s", n->min_items, n->min_items == 1 ? "" : "s");
	if (n->max_items >= 0 && count > (size_t)n->max_items)
		return vfail(v, "must have at most %ld item%s", n->max_items, n->max_items == 1 ? "" : "s");
	if (n->flags & F_UNIQUE) {
		rc = check_unique(v, x, count);
		if (rc)
			return rc;
	}
	cJSON_ArrayForEach(item, x)
	{
		if (n->flags & F_TUPLE)
			sub = i < n->tuple.n ? n->tuple.v[i] : n->addl_items;
		else
			sub = n->items;
		if (sub) {
			rc = validate_at_index(v, sub, item, i);
			if (rc)
				return rc;
		}
		i++;
	}
	return 0;
}

/* The default of a property schema, following $ref. */
static const cJSON *effective_default(const struct node *n)
{
	for (int i = 0; n && i <= MAX_CHAIN; i++) {
		if (n->default_value)
			return n->default_value;
		n = n->kind == K_REF ? n->ref : NULL;
	}
	return NULL;
}

static int apply_defaults(struct vctx *v, const struct node *n, cJSON *obj)
{
	for (size_t i = 0; i < n->nprops; i++) {
		const cJSON *d = effective_default(n->props[i].schema);
		cJSON *copy;

		if (!d || cJSON_GetObjectItemCaseSensitive(obj, n->props[i].name))
			continue;
		copy = cJSON_Duplicate(d, 1);
		if (!copy)
			return voom(v);
		if (!cJSON_AddItemToObject(obj, n->props[i].name, copy)) {
			cJSON_Delete(copy);
			return voom(v);
		}
	}
	return 0;
}

static const struct node *find_prop(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->nprops; i++) {
		if (strcmp(n->props[i].name, name) == 0)
			return n->props[i].schema;
	}
	return NULL;
}

/* One member: its property schema, matching patternProperties, else additionalProperties. */
static int check_member(struct vctx *v, const struct node *n, cJSON *m)
{
	const char *key = m->string ? m->string : "";
	const struct node *p = find_prop(n, key);
	int rc = 0, r, matched = p != NULL;

	if (p)
		rc = validate_node(v, p, m);
	for (size_t i = 0; i < n->npprops && !rc; i++) {
		r = regex_match(v, n->pprops[i].re, key);
		if (r < -1)
			return voom(v);
		if (r == -1)
			return vfail(v, "name is too complex to match against patternProperties");
		if (r == 1) {
			matched = 1;
			rc = validate_node(v, n->pprops[i].schema, m);
		}
	}
	if (rc || matched || !n->addl_props)
		return rc;
	if (n->addl_props->kind == K_FALSE)
		return vfail(v, "additional property not allowed");
	return validate_node(v, n->addl_props, m);
}

static int check_object(struct vctx *v, const struct node *n, cJSON *x)
{
	size_t count, old;
	cJSON *m;
	int rc;

	if (v->apply_defaults && !v->quiet && n->nprops) {
		rc = apply_defaults(v, n, x);
		if (rc)
			return rc;
	}
	count = (size_t)cJSON_GetArraySize(x);
	if (n->min_props >= 0 && count < (size_t)n->min_props)
		return vfail(v, "must have at least %ld propert%s", n->min_props, n->min_props == 1 ? "y" : "ies");
	if (n->max_props >= 0 && count > (size_t)n->max_props)
		return vfail(v, "must have at most %ld propert%s", n->max_props, n->max_props == 1 ? "y" : "ies");
	for (size_t i = 0; i < n->nrequired; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(x, n->required[i])) {
			quote(v->scratch, n->required[i]);
			return vfail(v, "missing required property %s", v->scratch);
		}
	}
	if (!n->nprops && !n->npprops && !n->addl_props)
		return 0;
	cJSON_ArrayForEach(m, x)
	{
		old = path_key(&v->path, m->string ? m->string : "");
		rc = check_member(v, n, m);
		path_pop(&v->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

/* Runs a subschema only to learn whether it matches: 0, OSB_EBADREQUEST or another error. */
static int try_node(struct vctx *v, const struct node *n, cJSON *x)
{
	int rc;

	v->quiet++;
	rc = validate_node(v, n, x);
	v->quiet--;
	return rc;
}

static int check_any_of(struct vctx *v, const struct node *n, cJSON *x)
{
	int rc;

	for (size_t i = 0; i < n->any_of.n; i++) {
		rc = try_node(v, n->any_of.v[i], x);
		if (rc != OSB_EBADREQUEST)
			return rc;
	}
	return vfail(v, "must match at least one schema in anyOf");
}

static int check_one_of(struct vctx *v, const struct node *n, cJSON *x)
{
	size_t first = 0, matches = 0;
	int rc;

	for (size_t i = 0; i < n->one_of.n; i++) {
		rc = try_node(v, n->one_of.v[i], x);
		if (rc && rc != OSB_EBADREQUEST)
			return rc;
		if (rc)
			continue;
		if (matches++)
			return vfail(v, "must match exactly one schema in oneOf, matches oneOf[%zu] and oneOf[%zu]",
				     first, i);
		first = i;
	}
	return matches ? 0 : vfail(v, "must match exactly one schema in oneOf, matches none");
}

static int check_combinators(struct vctx *v, const struct node *n, cJSON *x)
{
	int rc;

	for (size_t i = 0; i < n->all_of.n; i++) {
		rc = validate_node(v, n->all_of.v[i], x);
		if (rc)
			return rc;
	}
	if (n->any_of.n) {
		rc = check_any_of(v, n, x);
		if (rc)
			return rc;
	}
	if (n->one_of.n) {
		rc = check_one_of(v, n, x);
		if (rc)
			return rc;
	}
	if (n->not_schema) {
		rc = try_node(v, n->not_schema, x);
		if (rc == 0)
			return vfail(v, "must not match the schema in \"not\"");
		if (rc != OSB_EBADREQUEST)
			return rc;
	}
	return 0;
}

static int validate_object_node(struct vctx *v, const struct node *n, cJSON *x)
{
	int rc = check_type(v, n, x);

	if (!rc)
		rc = check_literals(v, n, x);
	if (!rc && cJSON_IsNumber(x))
		rc = check_number(v, n, x);
	if (!rc && cJSON_IsString(x))
		rc = check_string(v, n, x);
	if (!rc && cJSON_IsArray(x))
		rc = check_array(v, n, x);
	if (!rc && cJSON_IsObject(x))
		rc = check_object(v, n, x);
	if (!rc)
		rc = check_combinators(v, n, x);
	return rc;
}

static int validate_node(struct vctx *v, const struct node *n, cJSON *x)
{
	int rc;

	if (v->depth >= MAX_EVAL_DEPTH)
		return vfail(v, "schema evaluation nested too deeply");
	v->depth++;
	switch (n->kind) {
	case K_TRUE: rc = 0; break;
	case K_FALSE: rc = vfail(v, "not allowed"); break;
	case K_REF: rc = validate_node(v, n->ref, x); break;
	default: rc = validate_object_node(v, n, x); break;
	}
	v->depth--;
	return rc;
}

int osb_schema_validate(const osb_schema *schema, cJSON *instance, int apply_defaults, const char *root_name, char *err,
			size_t err_size)
{
	struct vctx *v;
	int rc;

	if (err && err_size)
		err[0] = '\0';
	/* On the heap: the path buffer would be a large frame on small thread stacks. */
	v = calloc(1, sizeof *v);
	if (!v) {
		if (err && err_size)
			snprintf(err, err_size, "out of memory");
		return OSB_ENOMEM;
	}
	v->err = err;
	v->err_size = err_size;
	v->apply_defaults = apply_defaults;
	root_name = root_name ? root_name : "parameters";
	path_append(&v->path, root_name, strlen(root_name));
	if (!schema || !instance)
		rc = vfail(v, "no value");
	else if (json_too_deep(instance))
		rc = vfail(v, "nested deeper than %d levels", MAX_DEPTH);
	else
		rc = validate_node(v, schema->root, instance);
	pcre2_match_data_free(v->md);
	pcre2_match_context_free(v->mc);
	free(v);
	return rc;
}
