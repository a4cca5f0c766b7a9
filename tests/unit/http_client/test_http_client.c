/* Unit tests of the HTTP client (http_client.c) against a local civetweb server, and an OpenSSL one for https. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <civetweb.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "osb/http_client.h"
#include "unit.h"

static struct mg_context *plain_ctx;
static int plain_port;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reply(struct mg_connection *conn, int status, const char *extra, const char *body)
{
	mg_printf(
		conn,
		"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
		status, strlen(body), extra ? extra : "", body);
}

/* Echo what came: method, path, Authorization, Content-Type, Content-Length and the body, as JSON-ish text. */
static int echo_handler(struct mg_connection *conn, void *payload)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *auth = mg_get_header(conn, "Authorization");
	const char *ctype = mg_get_header(conn, "Content-Type");
	const char *clen = mg_get_header(conn, "Content-Length");
	const char *date = mg_get_header(conn, "Date");
	char body[4096] = "", out[8192];
	int n, got = 0;

	(void)payload;
	while ((n = mg_read(conn, body + got, sizeof(body) - 1 - (size_t)got)) > 0)
		got += n;
	body[got] = '\0';
	snprintf(out, sizeof(out), "method=%s|uri=%s|query=%s|auth=%s|ctype=%s|clen=%s|date=%s|body=%s",
		 ri->request_method, ri->local_uri_raw, ri->query_string ? ri->query_string : "", auth ? auth : "",
		 ctype ? ctype : "", clen ? clen : "", date ? date : "", body);
	reply(conn, strcmp(ri->request_method, "PUT") == 0 ? 201 : 200, NULL, out);
	return 1;
}

static int status_handler(struct mg_connection *conn, void *payload)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	(void)payload;
	if (strcmp(ri->local_uri, "/status/204") == 0) {
		mg_printf(conn, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
		return 1;
	}
	if (strcmp(ri->local_uri, "/status/302") == 0) {
		reply(conn, 302, "Location: /echo\r\n", "{}");
		return 1;
	}
	if (strcmp(ri->local_uri, "/status/401") == 0) {
		reply(conn, 401, NULL, "{\"error\":\"not_authorized\"}");
		return 1;
	}
	reply(conn, 404, NULL, "{\"error\":\"Object Not Found\"}");
	return 1;
}

static int slow_handler(struct mg_connection *conn, void *payload)
{
	(void)payload;
	usleep(1500 * 1000);
	reply(conn, 200, NULL, "{\"slow\":true}");
	return 1;
}

static int big_handler(struct mg_connection *conn, void *payload)
{
	static char big[100001];

	(void)payload;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reply(conn, 200, NULL, big);
	return 1;
}

static struct mg_context *start_server(const char *listen, const char *cert, int *port)
{
	const char *opts[] = { "listening_ports",
			       listen,
			       "num_threads",
			       "16",
			       "enable_keep_alive",
			       "no",
			       cert ? "ssl_certificate" : NULL,
			       cert,
			       NULL };
	struct mg_server_port ports[4];
	struct mg_callbacks cb;
	struct mg_context *ctx;

	memset(&cb, 0, sizeof(cb));
	ctx = mg_start(&cb, NULL, opts);
	if (!ctx)
		return NULL;
	mg_set_request_handler(ctx, "/echo", echo_handler, NULL);
	mg_set_request_handler(ctx, "/status", status_handler, NULL);
	mg_set_request_handler(ctx, "/slow", slow_handler, NULL);
	mg_set_request_handler(ctx, "/big", big_handler, NULL);
	if (mg_get_server_ports(ctx, 4, ports) < 1) {
		mg_stop(ctx);
		return NULL;
	}
	*port = ports[0].port;
	return ctx;
}

static char *url(const char *path)
{
	static __thread char buf[256];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", plain_port, path);
	return buf;
}

static void test_escape_segment(void)
{
	char out[64];

	CHECK_INT(osb_http_escape_segment(out, sizeof(out), "osb_0123456789abcdef0123"), 24);
	CHECK_STR(out, "osb_0123456789abcdef0123");
	CHECK_INT(osb_http_escape_segment(out, sizeof(out), "/"), 3);
	CHECK_STR(out, "%2F");
	CHECK_INT(osb_http_escape_segment(out, sizeof(out), "a b%/?#@:~._-"), 27);
	CHECK_STR(out, "a%20b%25%2F%3F%23%40%3A~._-");
	CHECK_INT(osb_http_escape_segment(out, sizeof(out), "\xc3\xa9"), 6);
	CHECK_STR(out, "%C3%A9");
	CHECK_INT(osb_http_escape_segment(out, sizeof(out), ""), 0);
	CHECK_STR(out, "");
	/* Exactly enough room, then one byte short. */
	CHECK_INT(osb_http_escape_segment(out, 4, "/"), 3);
	CHECK_INT(osb_http_escape_segment(out, 3, "/"), OSB_ERROR);
	CHECK_STR(out, "");
	CHECK_INT(osb_http_escape_segment(out, 3, "abc"), OSB_ERROR);
	CHECK_INT(osb_http_escape_segment(out, sizeof(out), NULL), OSB_ERROR);
	CHECK_INT(osb_http_escape_segment(NULL, 0, "a"), OSB_ERROR);
}

static void test_get_with_basic_auth(void)
{
	osb_http_response r;
	unsigned char want[128];
	char expect[160];

	EVP_EncodeBlock(want, (const unsigned char *)"admin:pa:ss w0rd", 16);
	snprintf(expect, sizeof(expect), "auth=Basic %s|", want);
	CHECK_INT(osb_http_request(NULL, "GET", url("/echo/a%2Fb?columns=name"), "admin", "pa:ss w0rd", NULL, 2000, &r),
		  0);
	CHECK_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "method=GET|");
	/* civetweb decodes the path it reports. */
	CHECK_CONTAINS(r.body, "uri=/echo/a/b|");
	CHECK_CONTAINS(r.body, "query=columns=name|");
	CHECK_CONTAINS(r.body, expect);
	CHECK_CONTAINS(r.body, "|body=");
	CHECK_INT(r.body_len, strlen(r.body));
	CHECK_STR(r.error, "");
	osb_http_response_free(&r);

	/* No user: no Authorization header. */
	CHECK_INT(osb_http_request(NULL, "GET", url("/echo"), NULL, NULL, NULL, 2000, &r), 0);
	CHECK_CONTAINS(r.body, "|auth=|");
	osb_http_response_free(&r);
}

static void test_put_delete_bodies(void)
{
	osb_http_options opts = { 0 };
	osb_http_response r;

	CHECK_INT(osb_http_request(NULL, "PUT", url("/echo"), "u", "p", "{\"password\":\"x\",\"tags\":\"\"}", 2000, &r),
		  0);
	CHECK_INT(r.status, 201);
	CHECK_CONTAINS(r.body, "method=PUT|");
	CHECK_CONTAINS(r.body, "ctype=application/json|");
	CHECK_CONTAINS(r.body, "clen=26|");
	CHECK_CONTAINS(r.body, "body={\"password\":\"x\",\"tags\":\"\"}");
	osb_http_response_free(&r);

	/* A PUT without a body still says Content-Length: 0, and announces no type (a signature covers it). */
	CHECK_INT(osb_http_request(NULL, "PUT", url("/echo"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 201);
	CHECK_CONTAINS(r.body, "clen=0|");
	CHECK_CONTAINS(r.body, "|ctype=|");
	osb_http_response_free(&r);

	CHECK_INT(osb_http_request(NULL, "POST", url("/echo"), "u", "p", "[1]", 2000, &r), 0);
	CHECK_CONTAINS(r.body, "method=POST|");
	CHECK_CONTAINS(r.body, "body=[1]");
	osb_http_response_free(&r);

	/* Another Content-Type for a form or a query in plain text; a header line cannot be smuggled in. */
	opts.content_type = "application/x-www-form-urlencoded";
	CHECK_INT(osb_http_request(&opts, "POST", url("/echo"), "u", "p", "q=SHOW%20USERS", 2000, &r), 0);
	CHECK_CONTAINS(r.body, "ctype=application/x-www-form-urlencoded|");
	CHECK_CONTAINS(r.body, "body=q=SHOW%20USERS");
	osb_http_response_free(&r);
	opts.content_type = "text/plain\r\nX-Evil: 1";
	CHECK_INT(osb_http_request(&opts, "POST", url("/echo"), "u", "p", "SELECT 1", 2000, &r), OSB_EBADREQUEST);
	CHECK_CONTAINS(r.error, "Content-Type");
	osb_http_response_free(&r);

	CHECK_INT(osb_http_request(NULL, "DELETE", url("/echo"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "method=DELETE|");
	osb_http_response_free(&r);

	CHECK_INT(osb_http_request(NULL, "HEAD", url("/echo"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "");
	osb_http_response_free(&r);
}

/* Extra header lines go out as they are (a signed Authorization replaces Basic auth); broken lines are refused. */
static void test_extra_headers(void)
{
	const char *const signed_req[] = { "Date: Tue, 01 Dec 2026 10:00:00 GMT", "Authorization: AWS key:c2ln", NULL };
	const char *const split[] = { "Date: x\r\nX-Injected: 1", NULL };
	const char *const no_colon[] = { "Date", NULL };
	osb_http_options opts = { .headers = signed_req };
	osb_http_response r;

	CHECK_INT(osb_http_request(&opts, "PUT", url("/echo"), NULL, NULL, NULL, 2000, &r), 0);
	CHECK_INT(r.status, 201);
	CHECK_CONTAINS(r.body, "|auth=AWS key:c2ln|");
	CHECK_CONTAINS(r.body, "|ctype=|");
	CHECK_CONTAINS(r.body, "|date=Tue, 01 Dec 2026 10:00:00 GMT|");
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(&opts, "PUT", url("/echo"), NULL, NULL, "{}", 2000, &r), 0);
	CHECK_CONTAINS(r.body, "|ctype=application/json|");
	osb_http_response_free(&r);
	opts.headers = split;
	CHECK_INT(osb_http_request(&opts, "GET", url("/echo"), NULL, NULL, NULL, 2000, &r), OSB_EBADREQUEST);
	CHECK_CONTAINS(r.error, "request header");
	osb_http_response_free(&r);
	opts.headers = no_colon;
	CHECK_INT(osb_http_request(&opts, "GET", url("/echo"), NULL, NULL, NULL, 2000, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
}

static void test_statuses(void)
{
	osb_http_response r;

	CHECK_INT(osb_http_request(NULL, "DELETE", url("/status/204"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 204);
	CHECK(r.body != NULL);
	CHECK_INT(r.body_len, 0);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", url("/status/404"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 404);
	CHECK_CONTAINS(r.body, "Object Not Found");
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", url("/status/401"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 401);
	osb_http_response_free(&r);
	/* Redirects are not followed: credentials never go to another place. */
	CHECK_INT(osb_http_request(NULL, "GET", url("/status/302"), "u", "p", NULL, 2000, &r), 0);
	CHECK_INT(r.status, 302);
	osb_http_response_free(&r);
}

static void test_timeout(void)
{
	osb_http_response r;
	long long start = now_ms(), took;

	CHECK_INT(osb_http_request(NULL, "GET", url("/slow"), "u", "p", NULL, 200, &r), OSB_ETIMEOUT);
	took = now_ms() - start;
	CHECK(took >= 150 && took < 1200);
	CHECK_INT(r.status, 0);
	CHECK(r.error[0] != '\0');
	CHECK_STR(r.body, "");
	osb_http_response_free(&r);
}

static void test_unreachable_and_no_secret_in_error(void)
{
	osb_http_response r;
	char u[64];
	int port;
	struct mg_context *ctx = start_server("127.0.0.1:0", NULL, &port);

	/* A port that was just listening and is closed now. */
	CHECK(ctx != NULL);
	if (!ctx)
		return;
	mg_stop(ctx);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/api/overview", port);
	CHECK_INT(osb_http_request(NULL, "GET", u, "admin", "Sup3rSecretPassw0rd", NULL, 2000, &r), OSB_EBACKEND);
	CHECK_INT(r.status, 0);
	CHECK(r.error[0] != '\0');
	CHECK(strstr(r.error, "Sup3rSecretPassw0rd") == NULL);
	CHECK(strchr(r.error, '\n') == NULL);
	osb_http_response_free(&r);
}

static void test_refusals(void)
{
	osb_http_response r;

	CHECK_INT(osb_http_request(NULL, "GET", "http://admin:pw@127.0.0.1:1/", NULL, NULL, NULL, 100, &r),
		  OSB_EBADREQUEST);
	CHECK(strstr(r.error, "pw") == NULL);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", "ftp://127.0.0.1/", NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", "file:///etc/passwd", NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", "http:///nohost", NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", "http://127.0.0.1/a b", NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", "http://127.0.0.1/\r\nX: y", NULL, NULL, NULL, 100, &r),
		  OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "TRACE", url("/echo"), NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET\r\nX", url("/echo"), NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, NULL, url("/echo"), NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", NULL, NULL, NULL, NULL, 100, &r), OSB_EBADREQUEST);
	CHECK(r.body != NULL);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(NULL, "GET", url("/echo"), NULL, NULL, NULL, 100, NULL), OSB_EBADREQUEST);
	osb_http_response_free(NULL);
}

static void test_response_size_limit(void)
{
	osb_http_options small = { .max_response = 10000 };
	osb_http_response r;

	CHECK_INT(osb_http_request(NULL, "GET", url("/big"), NULL, NULL, NULL, 5000, &r), 0);
	CHECK_INT(r.body_len, 100000);
	CHECK_INT(strlen(r.body), 100000);
	osb_http_response_free(&r);
	CHECK_INT(osb_http_request(&small, "GET", url("/big"), NULL, NULL, NULL, 5000, &r), OSB_EBACKEND);
	CHECK_CONTAINS(r.error, "larger than");
	CHECK_STR(r.body, "");
	osb_http_response_free(&r);
}

static void *thread_main(void *arg)
{
	long id = (long)arg, bad = 0;
	int i;

	for (i = 0; i < 25; i++) {
		osb_http_response r;
		char body[64], want[80];

		snprintf(body, sizeof(body), "{\"thread\":%ld,\"i\":%d}", id, i);
		snprintf(want, sizeof(want), "body=%s", body);
		if (osb_http_request(NULL, "PUT", url("/echo"), "t", "p", body, 5000, &r) != 0 || r.status != 201 ||
		    !strstr(r.body, want))
			bad++;
		osb_http_response_free(&r);
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t t[8];
	long i;

	for (i = 0; i < 8; i++)
		CHECK_INT(pthread_create(&t[i], NULL, thread_main, (void *)i), 0);
	for (i = 0; i < 8; i++) {
		void *bad = NULL;

		pthread_join(t[i], &bad);
		CHECK_INT((long)bad, 0);
	}
}

/* A self-signed certificate for 127.0.0.1: `both` gets key and certificate (for civetweb), `cert` the certificate. */
static int make_certificate(const char *both, const char *cert)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	X509_NAME *name;
	FILE *f = NULL;
	int rc = -1;

	if (!key || !x)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256()))
		goto done;
	if (!(f = fopen(both, "w")) || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_X509(f, x) || fclose(f) != 0) {
		f = NULL;
		goto done;
	}
	if (!(f = fopen(cert, "w")) || !PEM_write_X509(f, x) || fclose(f) != 0) {
		f = NULL;
		goto done;
	}
	f = NULL;
	rc = 0;
done:
	if (f)
		fclose(f);
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/*
 * A one-thread HTTPS server on OpenSSL, for the TLS cases. Not civetweb: the
 * Debian 12 libcivetweb dlopens libssl and calls SSL_get_peer_certificate,
 * which OpenSSL 3 no longer exports, so its TLS workers jump to NULL.
 */
struct tls_server {
	int fd;
	int port;
	SSL_CTX *ctx;
	pthread_t thread;
	volatile int stop;
};

static void *tls_server_main(void *arg)
{
	static const char answer[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
		"method=GET|\n";
	struct tls_server *srv = arg;

	while (!srv->stop) {
		struct pollfd pfd = { .fd = srv->fd, .events = POLLIN, .revents = 0 };
		char buf[2048];
		size_t got = 0;
		SSL *ssl;
		int c, n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		c = accept(srv->fd, NULL, NULL);
		if (c < 0)
			continue;
		ssl = SSL_new(srv->ctx);
		if (ssl && SSL_set_fd(ssl, c) == 1 && SSL_accept(ssl) == 1) {
			while (got + 1 < sizeof(buf) &&
			       (n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got))) > 0) {
				got += (size_t)n;
				buf[got] = '\0';
				if (strstr(buf, "\r\n\r\n"))
					break;
			}
			SSL_write(ssl, answer, (int)strlen(answer));
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(c);
	}
	return NULL;
}

static int tls_server_start(struct tls_server *srv, const char *pem)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	memset(srv, 0, sizeof(*srv));
	srv->fd = -1;
	srv->ctx = SSL_CTX_new(TLS_server_method());
	if (!srv->ctx || SSL_CTX_use_certificate_chain_file(srv->ctx, pem) != 1 ||
	    SSL_CTX_use_PrivateKey_file(srv->ctx, pem, SSL_FILETYPE_PEM) != 1)
		return -1;
	srv->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv->fd < 0 || bind(srv->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(srv->fd, 8) != 0 ||
	    getsockname(srv->fd, (struct sockaddr *)&addr, &len) != 0)
		return -1;
	srv->port = ntohs(addr.sin_port);
	return pthread_create(&srv->thread, NULL, tls_server_main, srv) == 0 ? 0 : -1;
}

static void tls_server_stop(struct tls_server *srv, int started)
{
	srv->stop = 1;
	if (started)
		pthread_join(srv->thread, NULL);
	if (srv->fd >= 0)
		close(srv->fd);
	SSL_CTX_free(srv->ctx);
}

static void test_tls_verification(void)
{
	char dir[] = "/tmp/osb-http-client-XXXXXX", both[128], cert[128], u[128];
	osb_http_options trust = { 0 }, insecure = { .insecure = 1 };
	struct tls_server srv;
	osb_http_response r;
	int started;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(both, sizeof(both), "%s/server.pem", dir);
	snprintf(cert, sizeof(cert), "%s/ca.pem", dir);
	CHECK_INT(make_certificate(both, cert), 0);
	started = tls_server_start(&srv, both) == 0;
	CHECK(started);
	if (!started)
		goto done;
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/echo", srv.port);

	/* Verification is on by default: a self-signed certificate is refused. */
	CHECK_INT(osb_http_request(NULL, "GET", u, "u", "p", NULL, 3000, &r), OSB_EBACKEND);
	CHECK_INT(r.status, 0);
	CHECK(r.error[0] != '\0');
	osb_http_response_free(&r);
	/* Trusted through ca_file: accepted, host name (IP) checked. */
	trust.ca_file = cert;
	CHECK_INT(osb_http_request(&trust, "GET", u, "u", "p", NULL, 3000, &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "method=GET|");
	osb_http_response_free(&r);
	/* The same certificate for another name fails the host check... */
	snprintf(u, sizeof(u), "https://localhost:%d/echo", srv.port);
	CHECK_INT(osb_http_request(&trust, "GET", u, "u", "p", NULL, 3000, &r), OSB_EBACKEND);
	osb_http_response_free(&r);
	/* ...unless verification is turned off. */
	CHECK_INT(osb_http_request(&insecure, "GET", u, "u", "p", NULL, 3000, &r), 0);
	CHECK_INT(r.status, 200);
	osb_http_response_free(&r);
	/* https to a plain HTTP port fails cleanly. */
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/echo", plain_port);
	CHECK_INT(osb_http_request(&insecure, "GET", u, "u", "p", NULL, 3000, &r), OSB_EBACKEND);
	osb_http_response_free(&r);
done:
	tls_server_stop(&srv, started);
	unlink(both);
	unlink(cert);
	rmdir(dir);
}

static void run_all(void);

int main(void)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mg_init_library(0);
	plain_ctx = start_server("127.0.0.1:0", NULL, &plain_port);
	if (!plain_ctx) {
		fprintf(stderr, "cannot start the test HTTP server\n");
		return 1;
	}
	run_all();
	rc = osb_test_failed_checks ? 1 : 0;
	mg_stop(plain_ctx);
	mg_exit_library();
	return rc;
}

static void run_all(void)
{
	static const osb_test_case cases[] = {
		OSB_TEST_CASE(test_escape_segment),
		OSB_TEST_CASE(test_get_with_basic_auth),
		OSB_TEST_CASE(test_put_delete_bodies),
		OSB_TEST_CASE(test_extra_headers),
		OSB_TEST_CASE(test_statuses),
		OSB_TEST_CASE(test_timeout),
		OSB_TEST_CASE(test_unreachable_and_no_secret_in_error),
		OSB_TEST_CASE(test_refusals),
		OSB_TEST_CASE(test_response_size_limit),
		OSB_TEST_CASE(test_threads),
		OSB_TEST_CASE(test_tls_verification),
	};

	osb_test_run(cases, sizeof(cases) / sizeof(cases[0]));
}
