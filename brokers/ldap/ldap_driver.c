/* LDAP driver: an instance is an organizational unit under the broker's base DN, a binding a service account in it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <ldap.h>
#include <openssl/evp.h>

#include <osb.h>

/* A dedicated server's suffix and admin (its rootdn); the shared server's are the config's. */
#define LD_DEDICATED_BASE "dc=osb"
#define LD_DEDICATED_ADMIN "cn=admin," LD_DEDICATED_BASE
#define LD_READY_TIMEOUT_MS 500
#define LD_SALT_SIZE 8
#define LD_PLAIN "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

struct ld_state {
	char *base; /* the broker's base DN on the shared server, in LDAPv3 string form */
	int depth;  /* its number of RDNs */
};

/* One admin connection, bounded by the deadline of the callback that opened it. */
struct ld_conn {
	LDAP *ld;
	int64_t deadline;
	osb_errbuf *err;
	char where[300]; /* "ldap://host:port" */
};

static struct timeval ld_tv(int ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };
	return tv;
}

static void ld_close(struct ld_conn *c)
{
	if (c->ld)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* What an LDAP result code means for the operation (with the server's diagnostic text when it gave one). */
static int ld_fail(struct ld_conn *c, int lrc, const char *what, const char *dn)
{
	char *diag = NULL;
	int code = lrc == LDAP_TIMEOUT ? OSB_ETIMEOUT : OSB_EBACKEND;

	if (c->ld)
		ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	osb_errbuf_set(c->err, code, "LDAP server %s: %s %.200s: %s%s%.200s", c->where, what, dn, ldap_err2string(lrc),
		       diag && diag[0] ? ": " : "", diag ? diag : "");
	ldap_memfree(diag);
	if (lrc == LDAP_SERVER_DOWN || lrc == LDAP_TIMEOUT || lrc == LDAP_CONNECT_ERROR)
		ld_close(c);
	return code;
}

/* Before each call: the synchronous API waits at most what is left of the deadline. */
static int ld_ready(struct ld_conn *c, const char *what, const char *dn)
{
	struct timeval tv = ld_tv(osb_ms_left(c->deadline));

	if (!c->ld)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "LDAP connection to %s already closed", c->where);
	if (osb_ms_left(c->deadline) <= 1)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "no time left for %s %.200s on %s", what, dn, c->where);
	ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	return 0;
}

/* Connect and bind as the target's admin (a DN and its password). */
static int ld_open(struct ld_conn *c, const osb_target *t, int timeout_ms, osb_errbuf *err)
{
	struct berval cred = { t->admin_password ? strlen(t->admin_password) : 0, (char *)t->admin_password };
	int v3 = LDAP_VERSION3, rc;

	memset(c, 0, sizeof(*c));
	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	snprintf(c->where, sizeof(c->where), strchr(t->host, ':') ? "ldap://[%s]:%d" : "ldap://%s:%d", t->host,
		 t->port);
	if ((rc = ldap_initialize(&c->ld, c->where)) != LDAP_SUCCESS)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot use LDAP URL %s: %s", c->where, ldap_err2string(rc));
	ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	if ((rc = ld_ready(c, "bind as", t->admin_user)) < 0)
		return rc;
	if ((rc = ldap_sasl_bind_s(c->ld, t->admin_user, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL)) != LDAP_SUCCESS)
		return ld_fail(c, rc, "bind as", t->admin_user);
	return 0;
}

static int ld_open_req(struct ld_conn *c, osb_request *req)
{
	return ld_open(c, osb_request_target(req), osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* Add an entry of one or two object classes and attributes given as type, value pairs (NULL-terminated). */
static int ld_add(struct ld_conn *c, const char *dn, const char *const *classes, const char *const *pairs)
{
	LDAPMod mods[8], *list[9];
	char *values[8][2];
	size_t n = 0;
	int rc;

	mods[n] = (LDAPMod){ .mod_op = LDAP_MOD_ADD, .mod_type = "objectClass", .mod_values = (char **)classes };
	list[n] = &mods[n];
	for (n = 1; pairs[0] && n < 8; pairs += 2, n++) {
		values[n][0] = (char *)pairs[1];
		values[n][1] = NULL;
		mods[n] = (LDAPMod){ .mod_op = LDAP_MOD_ADD, .mod_type = (char *)pairs[0], .mod_values = values[n] };
		list[n] = &mods[n];
	}
	list[n] = NULL;
	if ((rc = ld_ready(c, "add", dn)) < 0)
		return rc;
	rc = ldap_add_ext_s(c->ld, dn, list, NULL, NULL);
	return rc == LDAP_SUCCESS ? 0 : rc == LDAP_ALREADY_EXISTS ? 1 : ld_fail(c, rc, "add", dn);
}

/* @return 0, 1 when `dn` does not exist, 2 when it has entries under it, or an error code. */
static int ld_delete(struct ld_conn *c, const char *dn)
{
	int rc = ld_ready(c, "delete", dn);

	if (rc < 0)
		return rc;
	rc = ldap_delete_ext_s(c->ld, dn, NULL, NULL);
	return rc == LDAP_SUCCESS                  ? 0
	       : rc == LDAP_NO_SUCH_OBJECT         ? 1
	       : rc == LDAP_NOT_ALLOWED_ON_NONLEAF ? 2
						   : ld_fail(c, rc, "delete", dn);
}

/*
 * Search `base` and call fn(dn, payload) for each entry, without attributes.
 * A size limit (a non-root admin's) gives what fits: callers that remove
 * entries search again until none is left.
 * @return 0, 1 when `base` does not exist, or an error code.
 */
static int ld_search(struct ld_conn *c, const char *base, int scope, const char *filter,
		     int (*fn)(struct ld_conn *c, const char *dn, void *payload), void *payload)
{
	struct timeval tv = ld_tv(osb_ms_left(c->deadline));
	LDAPMessage *res = NULL, *e;
	int rc = ld_ready(c, "search", base);

	if (rc < 0)
		return rc;
	rc = ldap_search_ext_s(c->ld, base, scope, filter, (char *[]){ LDAP_NO_ATTRS, NULL }, 0, NULL, NULL, &tv,
			       LDAP_NO_LIMIT, &res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		return 1;
	}
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(res);
		return ld_fail(c, rc, "search", base);
	}
	rc = 0;
	for (e = ldap_first_entry(c->ld, res); rc == 0 && e; e = ldap_next_entry(c->ld, e)) {
		char *dn = ldap_get_dn(c->ld, e);
		rc = dn ? fn(c, dn, payload) : osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
		ldap_memfree(dn);
	}
	ldap_msgfree(res);
	return rc;
}

/* -- names --------------------------------------------------------------------- */

static const char *ld_base(const osb_target *t, const struct ld_state *st)
{
	return t->dedicated ? LD_DEDICATED_BASE : st->base;
}

/* Whether RDN i of `dn` is `type`=<derived name> alone; the name goes to `name`. */
static int ld_rdn_name(LDAPDN dn, int i, const char *type, char name[OSB_NAME_SIZE])
{
	LDAPAVA *a = dn[i][0];

	if (!a || dn[i][1] || a->la_attr.bv_len != strlen(type) ||
	    strncasecmp(a->la_attr.bv_val, type, a->la_attr.bv_len) != 0 || a->la_value.bv_len != OSB_NAME_SIZE - 1)
		return 0;
	memcpy(name, a->la_value.bv_val, OSB_NAME_SIZE - 1);
	name[OSB_NAME_SIZE - 1] = '\0';
	return osb_name_is_derived(name);
}

/*
 * Whether `dn` is a broker-made entry right under a base of `depth` RDNs: an
 * instance's OU (ou=<name>,base) or, with `binding`, a service account
 * (uid=<name>,ou=<instance>,base). Its name goes to `name`.
 */
static int ld_tenant(const char *dn, int depth, int binding, char name[OSB_NAME_SIZE])
{
	char instance[OSB_NAME_SIZE];
	LDAPDN parsed = NULL;
	int n = 0, ok;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !parsed)
		return 0;
	while (parsed[n])
		n++;
	ok = binding ? n == depth + 2 && ld_rdn_name(parsed, 0, "uid", name) && ld_rdn_name(parsed, 1, "ou", instance)
		     : n == depth + 1 && ld_rdn_name(parsed, 0, "ou", name);
	ldap_dnfree(parsed);
	return ok;
}

/* {SSHA}: base64(SHA-1(password salt) salt), which slapd checks simple binds against. */
static int ld_ssha(char *out, size_t size, const char *password)
{
	unsigned char salt[LD_SALT_SIZE], md[EVP_MAX_MD_SIZE + LD_SALT_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && osb_random_bytes(salt, sizeof(salt)) == 0 && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
		 EVP_DigestUpdate(ctx, salt, sizeof(salt)) == 1 && EVP_DigestFinal_ex(ctx, md, &n) == 1 &&
		 size >= 6 + 4 * ((n + LD_SALT_SIZE + 2) / 3) + 1;

	EVP_MD_CTX_free(ctx);
	if (ok) {
		memcpy(md + n, salt, sizeof(salt));
		memcpy(out, "{SSHA}", 6);
		EVP_EncodeBlock((unsigned char *)out + 6, md, (int)(n + LD_SALT_SIZE));
	}
	explicit_bzero(md, sizeof(md));
	return ok ? 0 : OSB_ERROR;
}

/* -- removing entries ------------------------------------------------------------ */

struct ld_dns {
	char **v;
	size_t n, cap;
};

static int ld_collect(struct ld_conn *c, const char *dn, void *payload)
{
	struct ld_dns *d = payload;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
		d->v = v;
		d->cap = cap;
	}
	if (!(d->v[d->n] = strdup(dn)))
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	d->n++;
	return 0;
}

/* Longer DNs first: an entry's DN ends with its parent's, so children go before their parents. */
static int ld_deeper_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Delete `dn` and everything under it; an entry added meanwhile (or past a size limit) is found on the next pass. */
static int ld_delete_tree(struct ld_conn *c, const char *dn, long *removed)
{
	int rc = 0;

	*removed = 0;
	while (rc == 0) {
		struct ld_dns d = { 0 };

		rc = ld_search(c, dn, LDAP_SCOPE_SUBTREE, "(objectClass=*)", ld_collect, &d);
		if (rc == 0 && d.n == 0)
			rc = 1;
		if (d.n > 1)
			qsort(d.v, d.n, sizeof(*d.v), ld_deeper_first);
		for (size_t i = 0; i < d.n; i++) {
			/* 2: not a leaf any more (an entry was added under it meanwhile): the next pass takes it. */
			int r = rc == 0 ? ld_delete(c, d.v[i]) : 1;

			*removed += r == 0;
			rc = r < 0 ? r : rc;
			free(d.v[i]);
		}
		free(d.v);
	}
	return rc < 0 ? rc : 0;
}

/* -- dedicated servers ------------------------------------------------------------ */

/*
 * The ACLs that confine every tenant OU under the base whose regular
 * expression is `re` (README.md, "The server"): a service account may write
 * in its own OU and nowhere else, and only while its entry exists (set=), so a
 * deleted account's open connection is refused at its next operation; its own
 * and its siblings' entries are the broker's alone.
 */
static void ld_acl_ldif(osb_buf *b, const char *re, long long search_limit)
{
	const char *sa = "uid=osb_[0-9a-f]{20},ou=osb_[0-9a-f]{20},";

	osb_buf_printf(b, "olcLimits: {0}dn.regex=\"^%s%s$\" size=%lld time=10\n", sa, re, search_limit);
	osb_buf_printf(b, "olcAccess: {0}to dn.regex=\"^%s%s$\" attrs=userPassword by anonymous auth by * none\n", sa,
		       re);
	osb_buf_printf(b, "olcAccess: {1}to dn.regex=\"^%s%s$\" by self read by * none\n", sa, re);
	osb_buf_printf(b,
		       "olcAccess: {2}to dn.regex=\"^(.+,)?ou=(osb_[0-9a-f]{20}),%s$\" attrs=userPassword"
		       " by dn.regex=\"^uid=osb_[0-9a-f]{20},ou=$2,%s$\" set=\"user/uid\" write"
		       " by self write by anonymous auth by * none\n",
		       re, re);
	osb_buf_printf(b,
		       "olcAccess: {3}to dn.regex=\"^(.+,)?ou=(osb_[0-9a-f]{20}),%s$\""
		       " by dn.regex=\"^uid=osb_[0-9a-f]{20},ou=$2,%s$\" set=\"user/uid\" write"
		       " by self read by * none\n",
		       re, re);
	osb_buf_printf(b, "olcAccess: {4}to dn.base=\"%s\" by users search by * none\nolcAccess: {5}to * by * none\n",
		       LD_DEDICATED_BASE);
}

static int ld_run(const char *const *argv, const char *input, osb_errbuf *err)
{
	osb_exec_result r = { 0 };
	int rc = osb_exec(&r, &(osb_exec_options){ .argv = argv,
						   .input = input,
						   .input_len = input ? strlen(input) : 0,
						   .timeout_ms = 20000 });

	if (rc != 0)
		osb_errbuf_set(err, OSB_ERROR, "%s failed (%d): %.300s", argv[0], rc, r.err ? r.err : "");
	osb_exec_result_free(&r);
	return rc != 0 ? OSB_ERROR : 0;
}

/*
 * Once: a cn=config with the instance's database (suffix dc=osb, rootdn with
 * the core's admin password as {SSHA}, the plan's size and search limit) and
 * the tenant ACLs, and the suffix entry; made in slapd.d.tmp and renamed, so
 * that an interrupted attempt is made again from scratch.
 */
static int ld_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	char hash[64], conf[4200], tmp[4200], data[4200], ldif[4200];
	osb_buf b = OSB_BUF_INIT;
	int rc;

	(void)state;
	if (strspn(t->dir, LD_PLAIN) != strlen(t->dir))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory must be a plain path",
				      t->dir);
	snprintf(conf, sizeof(conf), "%s/slapd.d", t->dir);
	snprintf(tmp, sizeof(tmp), "%s/slapd.d.tmp", t->dir);
	snprintf(data, sizeof(data), "%s/data", t->dir);
	snprintf(ldif, sizeof(ldif), "%s/config.ldif", t->dir);
	if (access(conf, F_OK) == 0)
		return 0;
	if (ld_ssha(hash, sizeof(hash), t->admin_password) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot hash the dedicated server's admin password");
	osb_buf_printf(&b,
		       "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\n"
		       "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
		       "olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n"
		       "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
		       "include: file:///etc/ldap/schema/core.ldif\ninclude: file:///etc/ldap/schema/cosine.ldif\n"
		       "include: file:///etc/ldap/schema/inetorgperson.ldif\n\n"
		       "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
		       "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n"
		       "olcAccess: {0}to dn.base=\"\" by * read\n"
		       "olcAccess: {1}to dn.base=\"cn=subschema\" by * read\n\n"
		       "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\n"
		       "olcAccess: {0}to * by * none\n\n"
		       "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n"
		       "olcDatabase: {1}mdb\nolcSuffix: " LD_DEDICATED_BASE "\nolcRootDN: " LD_DEDICATED_ADMIN "\n"
		       "olcRootPW: %s\nolcDbDirectory: %s\nolcDbMaxSize: %lld\n"
		       "olcDbIndex: objectClass eq\nolcDbIndex: ou,uid eq\n",
		       hash, data, osb_request_plan_int(req, "max_size_mb", 64) * 1048576);
	ld_acl_ldif(&b, LD_DEDICATED_BASE, osb_request_plan_int(req, "search_limit", 1000));
	explicit_bzero(hash, sizeof(hash));
	if (!osb_buf_text(&b))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if ((rc = ld_run((const char *const[]){ "rm", "-rf", tmp, data, NULL }, NULL, err)) == 0 &&
		 (osb_file_write_private(t->dir, "config.ldif", b.data, b.len, 0) != 0 || osb_mkdir_p(tmp, 0700) != 0 ||
		  osb_mkdir_p(data, 0700) != 0))
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write the dedicated server's files in %s", t->dir);
	osb_buf_free(&b);
	if (rc == 0 &&
	    (rc = ld_run((const char *const[]){ "slapadd", "-n", "0", "-F", tmp, "-l", ldif, NULL }, NULL, err)) == 0 &&
	    (rc = ld_run((const char *const[]){ "slapadd", "-n", "1", "-F", tmp, NULL },
			 "dn: " LD_DEDICATED_BASE "\nobjectClass: dcObject\nobjectClass: organization\n"
			 "o: osb\ndc: osb\n",
			 err)) == 0 &&
	    rename(tmp, conf) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot rename %s: %s", tmp, strerror(errno));
	unlink(ldif);
	return rc;
}

static int ld_ready_cb(const osb_target *t, void *state, osb_errbuf *err)
{
	struct ld_conn c;
	int rc;

	(void)state;
	rc = ld_open(&c, t, LD_READY_TIMEOUT_MS, err);
	ld_close(&c);
	return rc;
}

/* -- instances --------------------------------------------------------------------- */

static char *ld_instance_dn(osb_request *req, const struct ld_state *st)
{
	return osb_req_sprintf(req, "ou=%s,%s", osb_request_instance_name(req), ld_base(osb_request_target(req), st));
}

static int ld_provision(osb_request *req, void *state)
{
	const char *name = osb_request_instance_name(req), *dn = ld_instance_dn(req, state);
	struct ld_conn c = { 0 };
	int rc;

	if (!dn)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if ((rc = ld_open_req(&c, req)) < 0 ||
	    (rc = ld_add(&c, dn, (const char *const[]){ "organizationalUnit", NULL },
			 (const char *const[]){ "ou", name, "description", "Open Service Broker instance", NULL })) < 0)
		goto done;
	if ((rc = osb_request_save_instance_str(req, "base_dn", dn)) != 0)
		goto done;
	osb_request_note(req, "organizational unit %s", dn);
done:
	ld_close(&c);
	return rc;
}

static int ld_deprovision(osb_request *req, void *state)
{
	const char *dn = ld_instance_dn(req, state);
	struct ld_conn c = { 0 };
	long removed = 0;
	int rc;

	if (!dn)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if ((rc = ld_open_req(&c, req)) == 0 && (rc = ld_delete_tree(&c, dn, &removed)) == 0)
		osb_request_note(req, "%ld entries removed", removed);
	ld_close(&c);
	return rc;
}

/* -- bindings ---------------------------------------------------------------------- */

static int ld_bind(osb_request *req, void *state)
{
	const char *user = osb_request_binding_name(req), *base_dn = ld_instance_dn(req, state);
	const osb_target *t = osb_request_target(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "", hash[64] = "";
	struct ld_conn c = { 0 };
	const char *dn = base_dn ? osb_req_sprintf(req, "uid=%s,%s", user, base_dn) : NULL;
	char *uri = osb_credentials_uri(req, "ldap", NULL, NULL, t->public_host, t->public_port, base_dn);
	cJSON *cred;
	int rc;

	if (!dn || !uri) {
		rc = osb_req_fail(req, OSB_ENOMEM, "out of memory");
		goto done;
	}
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0 ||
	    ld_ssha(hash, sizeof(hash), password) < 0) {
		rc = osb_req_fail(req, OSB_ERROR, "cannot generate a password");
		goto done;
	}
	if ((rc = ld_open_req(&c, req)) < 0)
		goto done;
	rc = ld_add(&c, dn, (const char *const[]){ "account", "simpleSecurityObject", NULL },
		    (const char *const[]){ "uid", user, "userPassword", hash, "description",
					   "Open Service Broker binding", NULL });
	/* A repeated bind (a retry) gives the account this attempt's password. */
	if (rc == 1 && (rc = ld_ready(&c, "modify", dn)) == 0) {
		LDAPMod mod = { .mod_op = LDAP_MOD_REPLACE,
				.mod_type = "userPassword",
				.mod_values = (char *[]){ hash, NULL } };
		int lrc = ldap_modify_ext_s(c.ld, dn, (LDAPMod *[]){ &mod, NULL }, NULL, NULL);
		rc = lrc == LDAP_SUCCESS ? 0 : ld_fail(&c, lrc, "modify", dn);
	}
	if (rc < 0)
		goto done;
	cred = osb_credentials_new(req, &(osb_credentials_spec){ .username = dn, .password = password });
	if (cred && (!cJSON_AddStringToObject(cred, "uri", uri) || !cJSON_AddStringToObject(cred, "base_dn", base_dn) ||
		     !cJSON_AddStringToObject(cred, "bind_dn", dn))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) < 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "bind_dn", dn)) != 0)
		goto done;
	osb_request_note(req, "service account %s", dn);
done:
	explicit_bzero(password, sizeof(password));
	explicit_bzero(hash, sizeof(hash));
	ld_close(&c);
	return rc;
}

/* Deleting the account refuses its logins and, through the ACL's set= clause, every operation of its connections. */
static int ld_unbind(osb_request *req, void *state)
{
	const char *base_dn = ld_instance_dn(req, state);
	const char *dn = base_dn ? osb_req_sprintf(req, "uid=%s,%s", osb_request_binding_name(req), base_dn) : NULL;
	struct ld_conn c = { 0 };
	int rc;

	if (!dn)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if ((rc = ld_open_req(&c, req)) == 0 && (rc = ld_delete(&c, dn)) == 2)
		rc = osb_req_fail(req, OSB_EBACKEND,
				  "%s has entries under it: the server's ACLs are not the ones README.md asks for", dn);
	ld_close(&c);
	return rc < 0 ? rc : 0;
}

/* -- health and reconciliation ------------------------------------------------------ */

static int ld_exists(struct ld_conn *c, const char *dn, void *payload)
{
	(void)c;
	(void)dn;
	*(int *)payload = 1;
	return 0;
}

/* The admin binds and sees the base entry. */
static int ld_health(const osb_target *server, void *state, osb_errbuf *err)
{
	const struct ld_state *st = state;
	struct ld_conn c;
	int rc, found = 0;

	if ((rc = ld_open(&c, server, OSB_HEALTH_TIMEOUT_MS, err)) == 0 &&
	    (rc = ld_search(&c, st->base, LDAP_SCOPE_BASE, "(objectClass=*)", ld_exists, &found)) >= 0 && !found)
		rc = osb_errbuf_set(err, OSB_EBACKEND,
				    "the base DN %s is not on the LDAP server %s (or the admin cannot read it)",
				    st->base, c.where);
	ld_close(&c);
	return rc < 0 ? rc : 0;
}

struct ld_listing {
	const struct ld_state *st;
	osb_tenant_cb cb;
	void *payload;
	int binding;      /* list service accounts, else instance OUs */
	const char *only; /* purge: the service account's name */
	int stop;
};

static int ld_list_one(struct ld_conn *c, const char *dn, void *payload)
{
	struct ld_listing *l = payload;
	char name[OSB_NAME_SIZE];

	(void)c;
	if (!l->stop && ld_tenant(dn, l->st->depth, l->binding, name))
		l->stop = l->cb(l->binding ? OSB_TENANT_BINDING : OSB_TENANT_INSTANCE, name, l->payload);
	return 0;
}

/* Instances: the derived OUs right under the base; bindings: the derived service accounts right under those. */
static int ld_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct ld_listing l = { state, cb, payload, 0, NULL, 0 };
	struct ld_conn c;
	int rc;

	if ((rc = ld_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0 &&
	    (rc = ld_search(&c, l.st->base, LDAP_SCOPE_ONELEVEL, "(objectClass=organizationalUnit)", ld_list_one,
			    &l)) >= 0 &&
	    !l.stop) {
		l.binding = 1;
		rc = ld_search(&c, l.st->base, LDAP_SCOPE_SUBTREE, "(&(objectClass=simpleSecurityObject)(uid=osb_*))",
			       ld_list_one, &l);
	}
	ld_close(&c);
	return rc < 0 ? rc : 0;
}

static int ld_purge_account(struct ld_conn *c, const char *dn, void *payload)
{
	struct ld_listing *l = payload;
	char name[OSB_NAME_SIZE];
	int rc;

	if (!ld_tenant(dn, l->st->depth, 1, name) || strcmp(name, l->only) != 0)
		return 0;
	rc = ld_delete(c, dn);
	return rc < 0 ? rc : 0;
}

static int ld_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct ld_listing l = { state, NULL, NULL, 1, name, 0 };
	struct ld_conn c;
	char dn[1200], filter[64];
	long removed;
	int rc;

	snprintf(dn, sizeof(dn), "ou=%s,%s", name, l.st->base);
	snprintf(filter, sizeof(filter), "(uid=%s)", name);
	if ((rc = ld_open(&c, server, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = kind == OSB_TENANT_INSTANCE
			     ? ld_delete_tree(&c, dn, &removed)
			     : ld_search(&c, l.st->base, LDAP_SCOPE_SUBTREE, filter, ld_purge_account, &l);
	ld_close(&c);
	return rc < 0 ? rc : 0;
}

/* -- the driver ---------------------------------------------------------------------- */

static void ld_shutdown(void *state)
{
	struct ld_state *st = state;

	if (st)
		free(st->base);
	free(st);
}

/* driver.base_dn: where the instances' OUs go; kept in LDAPv3 string form, its RDNs counted. */
static int ld_init(void **state, const cJSON *config, const osb_broker *broker)
{
	const osb_target *server = osb_broker_server(broker);
	struct ld_state *st = calloc(1, sizeof(*st));
	char *given = NULL, *text = NULL;
	LDAPDN parsed = NULL;
	int rc;

	if (!st)
		return OSB_ENOMEM;
	if ((rc = osb_driver_config_string(&given, config, "ldap", "base_dn", NULL)) < 0)
		goto fail;
	if (ldap_str2dn(given, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !parsed ||
	    ldap_dn2str(parsed, &text, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || strlen(text) > 1000 ||
	    !(st->base = strdup(text))) {
		osb_log(OSB_LOG_ERROR, "ldap.config",
			"driver.base_dn: not a distinguished name, such as \"ou=osb,dc=example,dc=org\"");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	while (parsed[st->depth])
		st->depth++;
	if (server && server->tls) {
		osb_log(OSB_LOG_ERROR, "ldap.config", "driver.tls: StartTLS is not supported yet");
		rc = OSB_EBADREQUEST;
		goto fail;
	}
	ldap_dnfree(parsed);
	ldap_memfree(text);
	free(given);
	*state = st;
	return 0;
fail:
	if (parsed)
		ldap_dnfree(parsed);
	ldap_memfree(text);
	free(given);
	ld_shutdown(st);
	return rc;
}

static const char *const ld_config_keys[] = { "base_dn", NULL };

static const osb_server_spec ld_server = { .default_port = 389, .default_admin_user = NULL };

static const osb_dedicated_spec ld_dedicated = {
	.kind = "ldap",
	.program_key = "slapd",
	.program = "slapd",
	.args = (const char *const[]){ "-d", "0", "-F", "{dir}/slapd.d", "-h", "ldap://{host}:{port}/", NULL },
	.admin_user = LD_DEDICATED_ADMIN,
	.prepare = ld_prepare,
	.ready = ld_ready_cb,
};

static const struct osb_driver ldap_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "ldap",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE | OSB_CAP_DEDICATED,
	.server = &ld_server,
	.config_keys = ld_config_keys,
	.dedicated = &ld_dedicated,
	OSB_DRIVER_SLOTS(ld, init, shutdown, provision, deprovision, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(ldap, ldap_driver);
