/*
 * GlusterFS driver: an instance is a volume of one brick (a directory under brick_dir) with the
 * plan's quota; a binding is a TLS client certificate, signed by the broker's CA, whose CN alone
 * the volume admits besides the bricks' own (auth.ssl-allow). A volume service: binds answer
 * volume_mounts. The broker runs on glusterd's machine and drives it with the gluster CLI on its
 * socket (glusterd takes volume changes from remote hosts on no port).
 */
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <osb.h>

#define GL_MAX_ARGS 24
/* A binding's CN: its derived name, '-', 16 hex digits drawn at each bind, so that a certificate
 * of an earlier binding with the same id never becomes valid again. */
#define GL_NONCE_HEX 16
#define GL_CN_SIZE (OSB_NAME_SIZE + 1 + GL_NONCE_HEX)
/* How long a certificate lasts when the plan sets no credential_ttl: revocation is the allow list. */
#define GL_CERT_DAYS 3650
/* Quota checks against the brick's accounting: below 80% of the limit every 5 s, above it every
 * second (GlusterFS's defaults, 60 s and 5 s, let a burst overshoot a small volume far). */
#define GL_QUOTA_TIMEOUTS "features.soft-timeout", "5", "features.hard-timeout", "1"

struct gl_state {
	char *brick_host, *brick_dir, *glusterd_socket, *gluster, *tls_cert, *tls_key, *tls_ca, *tls_ca_key,
		*volume_driver;
	char *sock_arg; /* --glusterd-sock=<glusterd_socket> */
};

/* What `gluster volume info` says of one volume. */
struct gl_volume {
	char name[OSB_NAME_SIZE + 8];
	int started, tls; /* Status: Started; server.ssl: on */
	char *allow;      /* auth.ssl-allow, malloc'd, or NULL */
};

static int gl_plain_path(const char *p)
{
	return p && p[0] == '/' && !strstr(p, "..") &&
	       strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") == strlen(p);
}

static int gl_said(const osb_exec_result *r, const char *text)
{
	return (r->out && strstr(r->out, text)) || (r->err && strstr(r->err, text));
}

/*
 * gluster --glusterd-sock=S --mode=script ARGS... before `deadline`, again while glusterd is busy
 * with another transaction. A non-zero exit is OSB_EBACKEND with gluster's words in `err`; `res`
 * keeps the output for the caller (who may accept "already started" and the like).
 */
static int gl_run(const struct gl_state *st, int64_t deadline, osb_errbuf *err, osb_exec_result *res,
		  const char *const *args)
{
	const char *argv[GL_MAX_ARGS + 4] = { st->gluster, st->sock_arg, "--mode=script" };
	size_t n = 3;
	int rc;

	for (; *args && n < GL_MAX_ARGS + 3; args++)
		argv[n++] = *args;
	for (;;) {
		osb_exec_result_free(res);
		rc = osb_exec(res, &(osb_exec_options){ .argv = argv, .timeout_ms = osb_ms_left(deadline) });
		if (rc == 0)
			return 0;
		if (rc == OSB_ETIMEOUT)
			return osb_errbuf_set(err, OSB_ETIMEOUT, "gluster %s %s: no answer from glusterd in time",
					      argv[3], argv[4] ? argv[4] : "");
		if (rc < 0)
			return osb_errbuf_set(err, OSB_EBACKEND, "cannot run %s: %s", st->gluster,
					      res->start_errno ? strerror(res->start_errno) : osb_strerror(rc));
		if (!(gl_said(res, "Another transaction is in progress") || gl_said(res, "Locking failed")) ||
		    osb_ms_left(deadline) < 500)
			break;
		usleep(250000);
	}
	return osb_errbuf_set(err, OSB_EBACKEND, "gluster %s %s: %s", argv[3], argv[4] ? argv[4] : "",
			      res->err && res->err[0]   ? res->err
			      : res->out && res->out[0] ? res->out
							: "failed");
}

/* gl_run that only says yes or no; `ok` is a message gluster gives when there was nothing to do. */
static int gl_do(const struct gl_state *st, int64_t deadline, osb_errbuf *err, const char *ok, const char *const *args)
{
	osb_exec_result res = { 0 };
	int rc = gl_run(st, deadline, err, &res, args);

	if (rc == OSB_EBACKEND && ok && gl_said(&res, ok))
		rc = 0;
	osb_exec_result_free(&res);
	return rc;
}

/* Parse `volume info` output: fn(volume, payload) for each volume (its allow list is then the callee's to free). */
static int gl_parse_info(char *text, int (*fn)(struct gl_volume *v, void *payload), void *payload)
{
	struct gl_volume v = { 0 };
	char *line, *save = NULL;
	int rc = 0, have = 0;

	for (line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Volume Name: ", 13) == 0) {
			if (have)
				rc = fn(&v, payload);
			memset(&v, 0, sizeof v);
			snprintf(v.name, sizeof v.name, "%s", line + 13);
			have = 1;
		} else if (strcmp(line, "Status: Started") == 0) {
			v.started = 1;
		} else if (strcmp(line, "server.ssl: on") == 0) {
			v.tls = 1;
		} else if (strncmp(line, "auth.ssl-allow: ", 16) == 0) {
			free(v.allow);
			v.allow = strdup(line + 16);
		}
	}
	if (have && rc == 0)
		rc = fn(&v, payload);
	else
		free(v.allow);
	return rc;
}

static int gl_keep_one(struct gl_volume *v, void *payload)
{
	*(struct gl_volume *)payload = *v;
	return 1;
}

/* The volume `name`: 0 when it exists (v filled), OSB_ENOTFOUND when glusterd has none, or an error. */
static int gl_volume_get(const struct gl_state *st, int64_t deadline, osb_errbuf *err, const char *name,
			 struct gl_volume *v)
{
	osb_exec_result res = { 0 };
	int rc = gl_run(st, deadline, err, &res, (const char *const[]){ "volume", "info", name, NULL });

	memset(v, 0, sizeof *v);
	if (rc == OSB_EBACKEND && gl_said(&res, "does not exist"))
		rc = OSB_ENOTFOUND;
	else if (rc == 0 && gl_parse_info(res.out, gl_keep_one, v) != 1)
		rc = osb_errbuf_set(err, OSB_EBACKEND, "gluster volume info %s: no volume in the answer", name);
	osb_exec_result_free(&res);
	return rc;
}

/* rm -rf a directory of ours (a brick): a path the driver made from brick_dir and a derived name. */
static int gl_remove_tree(const char *path, int64_t deadline, osb_errbuf *err)
{
	osb_exec_result res = { 0 };
	int rc = osb_exec(&res, &(osb_exec_options){ .argv = (const char *const[]){ "rm", "-rf", "--one-file-system",
										    "--", path, NULL },
						     .timeout_ms = osb_ms_left(deadline) });

	if (rc != 0)
		rc = osb_errbuf_set(err, rc == OSB_ETIMEOUT ? OSB_ETIMEOUT : OSB_EBACKEND, "cannot delete %s: %s", path,
				    res.err && res.err[0] ? res.err : osb_strerror(rc < 0 ? rc : OSB_ERROR));
	osb_exec_result_free(&res);
	return rc;
}

/* -- TLS identities ------------------------------------------------------- */

/* The CN of the bricks' certificate: the identity glusterd's own clients (quotad) connect with. */
static int gl_server_cn(const struct gl_state *st, char *cn, size_t size, osb_errbuf *err)
{
	FILE *f = fopen(st->tls_cert, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int n = x ? X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)size) : -1;

	if (f)
		fclose(f);
	X509_free(x);
	if (n <= 0 || strspn(cn, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != (size_t)n ||
	    osb_name_is_derived(cn))
		return osb_errbuf_set(err, OSB_ERROR, "driver.tls_cert %s: no certificate with a plain CN",
				      st->tls_cert);
	return 0;
}

/* PEM text of a BIO, NUL-terminated (the BIO is a secure one for keys). */
static char *gl_bio_text(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n < 0 || !(out = malloc((size_t)n + 1)))
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

/* An EC P-256 key and a client certificate of CN `cn`, signed by the CA, valid until `expires` (0: GL_CERT_DAYS). */
static int gl_make_identity(const struct gl_state *st, const char *cn, time_t expires, char **cert_pem, char **key_pem,
			    osb_errbuf *err)
{
	FILE *cf = fopen(st->tls_ca, "r"), *kf = fopen(st->tls_ca_key, "r");
	X509 *ca = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL, *x = X509_new();
	EVP_PKEY *ca_key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL, *key = EVP_EC_gen("P-256");
	X509V3_CTX ctx;
	X509_EXTENSION *ext[3] = { 0 };
	BIGNUM *serial = BN_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_secmem());
	int rc = OSB_ERROR, ok;

	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	*cert_pem = *key_pem = NULL;
	if (!ca || !ca_key) {
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot read the CA (driver.tls_ca %s, driver.tls_ca_key %s)",
				    st->tls_ca, st->tls_ca_key);
		goto done;
	}
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	ok = x && key && serial && cb && kb && X509_set_version(x, 2) && BN_rand(serial, 127, BN_RAND_TOP_ANY, 0) &&
	     BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) && X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
	     (expires ? ASN1_TIME_set(X509_getm_notAfter(x), expires) != NULL
		      : X509_gmtime_adj(X509_getm_notAfter(x), 86400L * GL_CERT_DAYS) != NULL) &&
	     X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, X509_get_subject_name(ca)) && X509_set_pubkey(x, key) &&
	     (ext[0] = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE")) &&
	     (ext[1] = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,digitalSignature,keyAgreement")) &&
	     (ext[2] = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "clientAuth")) &&
	     X509_add_ext(x, ext[0], -1) && X509_add_ext(x, ext[1], -1) && X509_add_ext(x, ext[2], -1) &&
	     X509_sign(x, ca_key, EVP_sha256()) > 0 && PEM_write_bio_X509(cb, x) &&
	     PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) && (*cert_pem = gl_bio_text(cb)) &&
	     (*key_pem = gl_bio_text(kb));
	if (ok)
		rc = 0;
	else
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot make a client certificate with the CA of driver.tls_ca");
done:
	if (rc && *key_pem)
		osb_driver_config_free_secret(*key_pem);
	if (rc) {
		free(*cert_pem);
		*cert_pem = *key_pem = NULL;
	}
	for (int i = 0; i < 3; i++)
		X509_EXTENSION_free(ext[i]);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	BN_free(serial);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

/*
 * The allow list `allow` without the CNs of binding `name` (every "<name>-..."), plus `add`
 * (NULL: nothing), with the bricks' CN kept first. The caller frees the result.
 */
static char *gl_allow_edit(const char *allow, const char *server_cn, const char *name, const char *add)
{
	osb_buf out = OSB_BUF_INIT;
	const char *p = allow ? allow : "";
	size_t nlen = strlen(name);

	osb_buf_puts(&out, server_cn);
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len && !(len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '-') &&
		    !(len == strlen(server_cn) && strncmp(p, server_cn, len) == 0))
			osb_buf_printf(&out, ",%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	if (add)
		osb_buf_printf(&out, ",%s", add);
	return osb_buf_take(&out);
}

/* Set the volume's allow list to `allow` without binding `name`'s CNs, plus `add`. */
static int gl_allow_set(const struct gl_state *st, int64_t deadline, osb_errbuf *err, const char *volume,
			const char *allow, const char *name, const char *add)
{
	char server_cn[256], *list;
	int rc;

	if ((rc = gl_server_cn(st, server_cn, sizeof server_cn, err)) != 0)
		return rc;
	if (!(list = gl_allow_edit(allow, server_cn, name, add)))
		return osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	if (allow && strcmp(list, allow) == 0)
		rc = 0; /* nothing of this binding there */
	else
		rc = gl_do(st, deadline, err, NULL,
			   (const char *const[]){ "volume", "set", volume, "auth.ssl-allow", list, NULL });
	free(list);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

/* The plan's quota, such as "10GB": what `volume quota limit-usage` takes. */
static int gl_quota(osb_request *req, const char **quota)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(osb_request_plan_settings(req), "quota");
	size_t digits;

	*quota = cJSON_IsString(q) ? q->valuestring : "";
	digits = strspn(*quota, "0123456789");
	if (digits < 1 || digits > 6 || (*quota)[0] == '0' ||
	    !(strcmp(*quota + digits, "MB") == 0 || strcmp(*quota + digits, "GB") == 0 ||
	      strcmp(*quota + digits, "TB") == 0))
		return osb_req_fail(req, OSB_ERROR,
				    "the plan's x-osb.quota must be a size such as \"10GB\" (MB, GB or TB)");
	return 0;
}

/* The volume as the instance needs it: made with TLS on and only the bricks' CN admitted, started, its quota set. */
static int glusterfs_provision(osb_request *req, void *state)
{
	const struct gl_state *st = state;
	const char *name = osb_request_instance_name(req), *quota;
	int64_t deadline = osb_clock_ms() + osb_request_timeout_ms(req);
	osb_errbuf *err = osb_request_errbuf(req);
	char *brick = osb_req_sprintf(req, "%s/%s", st->brick_dir, name);
	char *spec = osb_req_sprintf(req, "%s:%s", st->brick_host, brick ? brick : "");
	char server_cn[256];
	struct gl_volume v;
	int rc;

	if (!brick || !spec)
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if ((rc = gl_quota(req, &quota)) != 0 || (rc = gl_server_cn(st, server_cn, sizeof server_cn, err)) != 0)
		return rc;
	rc = gl_volume_get(st, deadline, err, name, &v);
	free(v.allow);
	if (rc == OSB_ENOTFOUND) {
		/* A brick left by an interrupted provision or deprovision: glusterd refuses to reuse it. */
		if ((rc = gl_remove_tree(brick, deadline, err)) != 0)
			return rc;
		if (osb_mkdir_p(st->brick_dir, 0755) != 0)
			return osb_req_fail(req, OSB_EBACKEND, "cannot make driver.brick_dir %s: %s", st->brick_dir,
					    strerror(errno));
		if ((rc = gl_do(st, deadline, err, NULL,
				(const char *const[]){ "volume", "create", name, spec, "force", NULL })) != 0)
			return rc;
	} else if (rc != 0) {
		return rc;
	}
	/* Before the first start: a volume never serves a client without TLS and the allow list. */
	if (!v.tls)
		rc = gl_do(st, deadline, err, NULL,
			   (const char *const[]){ "volume", "set", name, "ssl.own-cert", st->tls_cert,
						  "ssl.private-key", st->tls_key, "ssl.ca-list", st->tls_ca,
						  "auth.ssl-allow", server_cn, "client.ssl", "on", "server.ssl", "on",
						  NULL });
	if (rc == 0 && !v.started)
		rc = gl_do(st, deadline, err, "already started",
			   (const char *const[]){ "volume", "start", name, NULL });
	if (rc == 0)
		rc = gl_do(st, deadline, err, "already enabled",
			   (const char *const[]){ "volume", "quota", name, "enable", NULL });
	if (rc == 0)
		rc = gl_do(st, deadline, err, NULL,
			   (const char *const[]){ "volume", "quota", name, "limit-usage", "/", quota, NULL });
	if (rc == 0)
		rc = gl_do(st, deadline, err, NULL,
			   (const char *const[]){ "volume", "set", name, GL_QUOTA_TIMEOUTS, NULL });
	if (rc == 0)
		osb_request_note(req, "volume on %s, quota %s, TLS clients of the CA admitted by CN", spec, quota);
	return rc;
}

static int glusterfs_update(osb_request *req, void *state)
{
	const char *quota;
	int rc = gl_quota(req, &quota);

	if (rc == 0)
		rc = gl_do(state, osb_clock_ms() + osb_request_timeout_ms(req), osb_request_errbuf(req), NULL,
			   (const char *const[]){ "volume", "quota", osb_request_instance_name(req), "limit-usage", "/",
						  quota, NULL });
	if (rc == 0)
		osb_request_note(req, "quota %s", quota);
	return rc;
}

/* Stop and delete the volume, then its brick with every file in it. */
static int gl_drop_volume(const struct gl_state *st, const char *name, int64_t deadline, osb_errbuf *err)
{
	char brick[4096];
	struct gl_volume v;
	int rc = gl_volume_get(st, deadline, err, name, &v);

	free(v.allow);
	if (rc == 0 && v.started)
		rc = gl_do(st, deadline, err, "is not in the started state",
			   (const char *const[]){ "volume", "stop", name, "force", NULL });
	if (rc == 0)
		rc = gl_do(st, deadline, err, "does not exist",
			   (const char *const[]){ "volume", "delete", name, NULL });
	if (rc == 0 || rc == OSB_ENOTFOUND) {
		snprintf(brick, sizeof brick, "%s/%s", st->brick_dir, name);
		rc = gl_remove_tree(brick, deadline, err);
	}
	return rc;
}

static int glusterfs_deprovision(osb_request *req, void *state)
{
	int rc = gl_drop_volume(state, osb_request_instance_name(req), osb_clock_ms() + osb_request_timeout_ms(req),
				osb_request_errbuf(req));

	if (rc == 0)
		osb_request_note(req, "volume, brick and data deleted");
	return rc;
}

/* -- bindings ------------------------------------------------------------- */

/* A small text file (a CA certificate, at most 64 kB) as a string the caller frees; NULL when unreadable. */
static char *gl_read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *out = f ? calloc(1, 65536) : NULL;
	size_t n = out ? fread(out, 1, 65535, f) : 0;
	int whole = f && feof(f);

	if (f)
		fclose(f);
	if (n == 0 || !whole) {
		free(out);
		return NULL;
	}
	return out;
}

/* The volume_mounts of a binding: CF's shape, the mount's TLS identity in mount_config. */
static int gl_mounts(osb_request *req, const struct gl_state *st, const char *volume, const char *cn, const char *cert,
		     const char *key, const char *ca)
{
	const osb_target *t = osb_request_target(req);
	const cJSON *params = osb_request_parameters(req);
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(params, "container_dir");
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(params, "mode");
	char *def = osb_req_sprintf(req, "/var/vcap/data/%s", osb_request_instance_id(req));
	char *source = osb_req_sprintf(req, "%s:/%s", t->public_host, volume);
	char *id = osb_req_sprintf(req, "%s-%s", osb_request_instance_id(req), cn);
	cJSON *mounts = cJSON_CreateArray(), *m = cJSON_CreateObject(), *dev, *conf;

	if (!cJSON_AddItemToArray(mounts, m))
		cJSON_Delete(m);
	dev = cJSON_AddObjectToObject(m, "device");
	conf = cJSON_AddObjectToObject(dev, "mount_config");
	if (!def || !source || !id || !conf || !cJSON_AddStringToObject(m, "driver", st->volume_driver) ||
	    !cJSON_AddStringToObject(m, "container_dir", cJSON_IsString(dir) ? dir->valuestring : def) ||
	    !cJSON_AddStringToObject(m, "mode", cJSON_IsString(mode) ? mode->valuestring : "rw") ||
	    !cJSON_AddStringToObject(m, "device_type", "shared") || !cJSON_AddStringToObject(dev, "volume_id", id) ||
	    !cJSON_AddStringToObject(conf, "source", source) ||
	    !cJSON_AddStringToObject(conf, "volfile_server", t->public_host) ||
	    !cJSON_AddNumberToObject(conf, "volfile_port", t->public_port) ||
	    !cJSON_AddStringToObject(conf, "volume", volume) || !cJSON_AddStringToObject(conf, "tls_cert", cert) ||
	    !cJSON_AddStringToObject(conf, "tls_key", key) || !cJSON_AddStringToObject(conf, "tls_ca", ca)) {
		cJSON_Delete(mounts);
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	}
	return osb_request_set_volume_mounts(req, mounts);
}

static int glusterfs_bind(osb_request *req, void *state)
{
	const struct gl_state *st = state;
	const char *volume = osb_request_instance_name(req), *name = osb_request_binding_name(req);
	int64_t deadline = osb_clock_ms() + osb_request_timeout_ms(req);
	osb_errbuf *err = osb_request_errbuf(req);
	unsigned char nonce[GL_NONCE_HEX / 2];
	char cn[GL_CN_SIZE], *cert = NULL, *key = NULL, *ca;
	struct gl_volume v = { 0 };
	cJSON *cred = NULL;
	int rc;

	if (osb_random_bytes(nonce, sizeof nonce) != 0)
		return osb_req_fail(req, OSB_ERROR, "no randomness for the certificate's CN");
	snprintf(cn, sizeof cn, "%s-", name);
	for (size_t i = 0; i < sizeof nonce; i++)
		snprintf(cn + strlen(cn), 3, "%02x", nonce[i]);
	if (!(ca = gl_read_text(st->tls_ca)))
		return osb_req_fail(req, OSB_ERROR, "cannot read driver.tls_ca %s", st->tls_ca);
	if ((rc = gl_volume_get(st, deadline, err, volume, &v)) == OSB_ENOTFOUND)
		rc = osb_req_fail(req, OSB_EBACKEND, "the instance's volume %s does not exist on glusterd", volume);
	if (rc != 0 || (rc = gl_make_identity(st, cn, osb_request_expires_at(req), &cert, &key, err)) != 0 ||
	    (rc = gl_allow_set(st, deadline, err, volume, v.allow, name, cn)) != 0)
		goto done;
	cred = osb_credentials_new(req, &(osb_credentials_spec){ .scheme = "glusterfs", .path = volume });
	if (!cred || !cJSON_AddStringToObject(cred, "volume", volume) ||
	    !cJSON_AddStringToObject(cred, "username", cn) || !cJSON_AddStringToObject(cred, "password", key) ||
	    !cJSON_AddStringToObject(cred, "tls_cert", cert) || !cJSON_AddStringToObject(cred, "tls_ca", ca)) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) != 0 || (rc = gl_mounts(req, st, volume, cn, cert, key, ca)) != 0)
		goto done;
	if ((rc = osb_request_save_binding_str(req, "cn", cn)) != 0)
		goto done;
	osb_request_note(req, "client certificate CN %s admitted on volume %s", cn, volume);
done:
	free(v.allow);
	free(cert);
	free(ca);
	if (key)
		osb_driver_config_free_secret(key);
	return rc;
}

/* Unbind: the binding's CNs leave the allow list; glusterd re-checks connected clients at once. */
static int glusterfs_unbind(osb_request *req, void *state)
{
	const char *volume = osb_request_instance_name(req);
	int64_t deadline = osb_clock_ms() + osb_request_timeout_ms(req);
	struct gl_volume v;
	int rc = gl_volume_get(state, deadline, osb_request_errbuf(req), volume, &v);

	if (rc == OSB_ENOTFOUND) {
		osb_request_note(req, "no volume left: nothing to revoke");
		return 0;
	}
	if (rc == 0)
		rc = gl_allow_set(state, deadline, osb_request_errbuf(req), volume, v.allow,
				  osb_request_binding_name(req), NULL);
	free(v.allow);
	if (rc == 0)
		osb_request_note(req, "CN removed from volume %s's allow list; its connections dropped", volume);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

/* A stream socket to `addr` connected before `deadline`, or -1. */
static int gl_connect(int family, const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e = 0;
	socklen_t elen = sizeof e;
	struct pollfd p = { fd, POLLOUT, 0 };

	if (fd < 0 || connect(fd, addr, len) == 0)
		return fd;
	if (errno == EINPROGRESS && poll(&p, 1, osb_ms_left(deadline)) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && !e)
		return fd;
	close(fd);
	return -1;
}

/*
 * One ONC RPC call on glusterd's CLI socket (RFC 5531, record-marked): procedure 0 of the CLI
 * program, no credentials. glusterd answers any call, a refusal too; an answer with our xid before
 * the deadline shows its event loop serves the broker's way in (a frozen glusterd still accepts
 * connections: only an answer tells).
 */
static int gl_rpc_ping(const char *path, int64_t deadline)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	uint32_t xid = (uint32_t)osb_clock_ms(), call[11] = {
		htonl(0x80000000u | 40), htonl(xid), 0, htonl(2), htonl(1238463), htonl(2), 0, 0, 0, 0, 0
	};
	unsigned char reply[12];
	size_t got = 0;
	int fd, ok = 0;

	snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
	if ((fd = gl_connect(AF_UNIX, (struct sockaddr *)&un, sizeof un, deadline)) < 0)
		return 0;
	if (send(fd, call, sizeof call, MSG_NOSIGNAL) == (ssize_t)sizeof call) {
		while (got < sizeof reply) {
			struct pollfd p = { fd, POLLIN, 0 };
			ssize_t n;
			if (poll(&p, 1, osb_ms_left(deadline)) != 1 ||
			    (n = recv(fd, reply + got, sizeof reply - got, 0)) <= 0)
				break;
			got += (size_t)n;
		}
		ok = got == sizeof reply && memcmp(reply + 4, &call[1], 4) == 0 && reply[8] == 0 && reply[9] == 0 &&
		     reply[10] == 0 && reply[11] == 1;
	}
	close(fd);
	return ok;
}

/* glusterd answers on its CLI socket (the broker's way in) and takes connections on its volfile port (the clients'). */
static int glusterfs_health(const osb_target *server, void *state, osb_errbuf *err)
{
	const struct gl_state *st = state;
	int64_t deadline = osb_clock_ms() + OSB_HEALTH_TIMEOUT_MS;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	const char *sock = st->glusterd_socket;
	char port[8];
	int fd;

	if (!gl_rpc_ping(sock, deadline))
		return osb_errbuf_set(err, OSB_EBACKEND, "glusterd does not answer on its socket %s", sock);
	snprintf(port, sizeof port, "%d", server->port);
	if (getaddrinfo(server->host, port, &hints, &ai) != 0 || !ai)
		return osb_errbuf_set(err, OSB_EBACKEND, "cannot resolve glusterd's host %s", server->host);
	fd = gl_connect(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
	freeaddrinfo(ai);
	if (fd < 0)
		return osb_errbuf_set(err, OSB_EBACKEND, "glusterd takes no connection on %s:%d", server->host,
				      server->port);
	close(fd);
	return 0;
}

struct gl_listing {
	const struct gl_state *st;
	osb_tenant_cb cb;
	void *payload;
	const char *purge; /* with a binding to purge: its CNs leave every volume's list */
	int64_t deadline;
	osb_errbuf *err;
	int rc;
};

/* Report a volume and the bindings of its allow list, or purge one binding from it. */
static int gl_list_volume(struct gl_volume *v, void *payload)
{
	struct gl_listing *l = payload;
	const char *p = v->allow ? v->allow : "";
	int stop = 0;

	if (l->purge) {
		if (osb_name_is_derived(v->name) && v->allow && strstr(v->allow, l->purge))
			l->rc = gl_allow_set(l->st, l->deadline, l->err, v->name, v->allow, l->purge, NULL);
		stop = l->rc != 0;
	} else if (osb_name_is_derived(v->name)) {
		stop = l->cb(OSB_TENANT_INSTANCE, v->name, l->payload);
		while (*p && !stop) {
			size_t len = strcspn(p, ",");
			char name[OSB_NAME_SIZE];
			if (len > OSB_NAME_SIZE && p[OSB_NAME_SIZE - 1] == '-') {
				snprintf(name, sizeof name, "%.*s", OSB_NAME_SIZE - 1, p);
				if (osb_name_is_derived(name))
					stop = l->cb(OSB_TENANT_BINDING, name, l->payload);
			}
			p += len + (p[len] == ',');
		}
	}
	free(v->allow);
	return stop;
}

/* Every volume glusterd has (or, with l->purge, take one binding out of every allow list). */
static int gl_each_volume(struct gl_listing *l)
{
	osb_exec_result res = { 0 };
	int rc = gl_run(l->st, l->deadline, l->err, &res, (const char *const[]){ "volume", "info", "all", NULL });

	if (rc == 0)
		gl_parse_info(res.out, gl_list_volume, l);
	else if (gl_said(&res, "No volumes present"))
		rc = 0;
	osb_exec_result_free(&res);
	return rc ? rc : l->rc;
}

/* Volumes named osb_..., the bindings their allow lists name, and bricks left without a volume. */
static int glusterfs_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	const struct gl_state *st = state;
	struct gl_listing l = { st, cb, payload, NULL, osb_clock_ms() + OSB_RECONCILE_TIMEOUT_MS, err, 0 };
	DIR *d;
	struct dirent *e;
	int rc;

	(void)server;
	if ((rc = gl_each_volume(&l)) != 0)
		return rc;
	if (!(d = opendir(st->brick_dir)))
		return errno == ENOENT ? 0
				       : osb_errbuf_set(err, OSB_EBACKEND, "cannot list driver.brick_dir %s: %s",
							st->brick_dir, strerror(errno));
	while ((e = readdir(d)) && !(osb_name_is_derived(e->d_name) && cb(OSB_TENANT_INSTANCE, e->d_name, payload)))
		;
	closedir(d);
	return 0;
}

static int glusterfs_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name,
			   osb_errbuf *err)
{
	struct gl_listing l = { state, NULL, NULL, name, osb_clock_ms() + OSB_RECONCILE_TIMEOUT_MS, err, 0 };

	(void)server;
	if (kind == OSB_TENANT_INSTANCE)
		return gl_drop_volume(state, name, l.deadline, err);
	return gl_each_volume(&l);
}

/* -- the driver ------------------------------------------------------------ */

/* The driver's keys: where each goes, its default (NULL: the server block's host), whether it is a path. */
#define GL_KEY(key, fallback, path)                                                                                    \
	{                                                                                                              \
#key, fallback, offsetof(struct gl_state, key), path                                                   \
	}
static const struct {
	const char *key, *fallback;
	size_t offset;
	int path;
} gl_keys[] = {
	GL_KEY(brick_host, NULL, 0),
	GL_KEY(brick_dir, "/srv/glusterfs/bricks", 1),
	GL_KEY(glusterd_socket, "/var/run/glusterd.socket", 1),
	GL_KEY(gluster, "gluster", 0),
	GL_KEY(tls_cert, "/etc/ssl/glusterfs.pem", 1),
	GL_KEY(tls_key, "/etc/ssl/glusterfs.key", 1),
	GL_KEY(tls_ca, "/etc/ssl/glusterfs.ca", 1),
	GL_KEY(tls_ca_key, "/etc/ssl/glusterfs-ca.key", 1),
	GL_KEY(volume_driver, "glusterfsdriver", 0),
};
#define GL_FIELD(st, i) ((char **)((char *)(st) + gl_keys[i].offset))

static void glusterfs_shutdown(void *state)
{
	struct gl_state *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < sizeof gl_keys / sizeof gl_keys[0]; i++)
		free(*GL_FIELD(st, i));
	free(st->sock_arg);
	free(st);
}

static int glusterfs_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct gl_state *st = calloc(1, sizeof *st);
	int rc = st ? 0 : OSB_ENOMEM;

	for (size_t i = 0; rc == 0 && i < sizeof gl_keys / sizeof gl_keys[0]; i++) {
		rc = osb_driver_config_string(GL_FIELD(st, i), config, "glusterfs", gl_keys[i].key,
					      gl_keys[i].fallback ? gl_keys[i].fallback
								  : osb_broker_server(broker)->host);
		/* Paths reach gluster's volume files and the CLI: plain absolute ones only. */
		if (rc == 0 && gl_keys[i].path && !gl_plain_path(*GL_FIELD(st, i))) {
			osb_log(OSB_LOG_ERROR, "glusterfs.config", "driver.%s must be a plain absolute path",
				gl_keys[i].key);
			rc = OSB_EBADREQUEST;
		}
	}
	if (rc == 0 && (strspn(st->brick_host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:") !=
				strlen(st->brick_host) ||
			st->brick_host[0] == '-')) {
		osb_log(OSB_LOG_ERROR, "glusterfs.config", "driver.brick_host must be a host name or an IP address");
		rc = OSB_EBADREQUEST;
	}
	if (rc == 0) {
		osb_buf arg = OSB_BUF_INIT;
		osb_buf_printf(&arg, "--glusterd-sock=%s", st->glusterd_socket);
		if (!(st->sock_arg = osb_buf_take(&arg)))
			rc = OSB_ENOMEM;
	}
	if (rc) {
		glusterfs_shutdown(st);
		return rc;
	}
	*state = st;
	return 0;
}

/* glusterd has no user names and no admin password: root on its socket is the admin. */
static const osb_server_spec glusterfs_server = { .default_port = 24007,
						  .default_admin_user = "",
						  .password_optional = 1 };
static const char *const glusterfs_keys[] = { "brick_host", "brick_dir", "glusterd_socket", "gluster",       "tls_cert",
					      "tls_key",    "tls_ca",    "tls_ca_key",      "volume_driver", NULL };

static const struct osb_driver glusterfs_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "glusterfs",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_VOLUME_MOUNTS | OSB_CAP_RECONCILE,
	.server = &glusterfs_server,
	.config_keys = glusterfs_keys,
	OSB_DRIVER_SLOTS(glusterfs, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(glusterfs, glusterfs_driver);
