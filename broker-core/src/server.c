/* osb_main: command line, start-up, serving, and clean shutdown of a broker process. */
#include "osb/server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <civetweb.h>

#include "acceptor.h"
#include "broker_internal.h"
#include "crypto.h"
#include "deployer_internal.h"
#include "engine.h"
#include "gateway.h"
#include "osb/file.h"
#include "http.h"
#include "log_internal.h"
#include "osb/secret.h"
#include "ratelimit.h"
#include "reconcile.h"
#include "tls_shim.h"

const char *osb_broker_data_dir(const osb_broker *broker)
{
	return broker->config->data_dir;
}

static void usage(FILE *out, const char *prog, const struct osb_driver *driver)
{
	fprintf(out,
		"Usage: %s --config FILE [--check-config | --reconcile[=purge]]\n"
		"\n"
		"An Open Service Broker API 2.17 broker for %s.\n"
		"\n"
		"  -c, --config FILE      the broker's JSON configuration (see docs/configuration.md)\n"
		"      --check-config     check the configuration, the catalog and the driver settings, then exit\n"
		"      --reconcile        list tenants on the server that have no record, then exit\n"
		"      --reconcile=purge  ... and remove them\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             print this help and exit\n"
		"\n"
		"Environment: OSB_BROKER_USERNAME, OSB_BROKER_PASSWORD, OSB_ENCRYPTION_KEY, OSB_STORE_URL,\n"
		"OSB_DRIVER_<KEY> override the file's values.\n",
		prog, driver && driver->name ? driver->name : "a middleware");
}

/* With no key configured, the embedded store keeps one in data_dir/encryption.key (0600). */
static int load_or_create_key(osb_config *c)
{
	char path[4096], hex[80];
	snprintf(path, sizeof path, "%s/encryption.key", c->data_dir);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(hex, 1, sizeof hex - 1, f);
		fclose(f);
		hex[n] = '\0';
		while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
			hex[--n] = '\0';
		if (osb_crypto_parse_key(c->key, hex) != 0) {
			osb_log(OSB_LOG_ERROR, "config.key", "%s is not 64 hexadecimal digits", path);
			return -1;
		}
		c->has_key = 1;
		return 0;
	}
	unsigned char key[32];
	static const char digits[] = "0123456789abcdef";
	if (osb_random_bytes(key, sizeof key) != 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 15];
	}
	hex[64] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, hex, 65) != 65 || fsync(fd) != 0) {
		if (fd >= 0)
			close(fd);
		osb_log(OSB_LOG_ERROR, "config.key", "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	memcpy(c->key, key, 32);
	c->has_key = 1;
	osb_log(OSB_LOG_INFO, "config.key", "created a new credentials encryption key in %s", path);
	return 0;
}

/* civetweb wants one PEM holding the certificate and the key. */
static char *tls_pem(const osb_config *c)
{
	if (!c->tls_private_key || strcmp(c->tls_private_key, c->tls_certificate) == 0)
		return strdup(c->tls_certificate);
	char path[4096];
	snprintf(path, sizeof path, "%s/tls-listener.pem", c->data_dir);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0)
		return NULL;
	const char *parts[2] = { c->tls_private_key, c->tls_certificate };
	for (int i = 0; i < 2; i++) {
		FILE *in = fopen(parts[i], "r");
		char buf[4096];
		size_t n;
		if (!in) {
			close(out);
			return NULL;
		}
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			if (write(out, buf, n) != (ssize_t)n)
				break;
		fclose(in);
	}
	close(out);
	return strdup(path);
}

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	osb_log(OSB_LOG_WARN, "http.server", "%s", message);
	return 1;
}

/*
 * Every connection waiting in the acceptor holds a descriptor: take the most the system lets this
 * process have (the soft limit up to the hard one). @return the limit now in force.
 */
static long raise_open_files(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return 1024;
	if (r.rlim_cur < r.rlim_max) {
		rlim_t want = r.rlim_max == RLIM_INFINITY || r.rlim_max > 1048576 ? 1048576 : r.rlim_max;
		if (want > r.rlim_cur) {
			struct rlimit n = { want, r.rlim_max };
			if (setrlimit(RLIMIT_NOFILE, &n) == 0)
				r.rlim_cur = want;
		}
	}
	return r.rlim_cur == RLIM_INFINITY ? 1048576 : (long)r.rlim_cur;
}

/* civetweb's listening_ports with TLS: an "s" after each port ("127.0.0.1:8443s,[::1]:8443s"). */
static void tls_ports(char *out, size_t size, const char *listen)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = listen; *p && n + 2 < size;) {
		size_t len = strcspn(p, ",");
		if (len && n + len + 2 < size) {
			n += (size_t)snprintf(out + n, size - n, "%s%.*s%s", n ? "," : "", (int)len, p,
					      p[len - 1] == 's' ? "" : "s");
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

static struct mg_context *start_http(struct osb_broker *b, char **pem_out)
{
	const osb_config *c = b->config;
	char threads[16], timeout[16], keepalive[16], listen[512];
	snprintf(threads, sizeof threads, "%d", c->threads);
	snprintf(timeout, sizeof timeout, "%d", c->request_timeout_ms);
	snprintf(keepalive, sizeof keepalive, "%d", c->request_timeout_ms < 5000 ? c->request_timeout_ms : 5000);
	snprintf(listen, sizeof listen, "%s", c->listen);
	const char *opts[32];
	int n = 0;
	*pem_out = NULL;
	if (c->tls_certificate) {
		*pem_out = tls_pem(c);
		if (!*pem_out) {
			osb_log(OSB_LOG_ERROR, "http.tls", "cannot prepare the TLS certificate and key");
			return NULL;
		}
		tls_ports(listen, sizeof listen, c->listen);
		opts[n++] = "ssl_certificate";
		opts[n++] = *pem_out;
		opts[n++] = "ssl_protocol_version";
		opts[n++] = "4"; /* TLS 1.2 and newer */
	}
	opts[n++] = "listening_ports";
	opts[n++] = listen;
	opts[n++] = "num_threads";
	opts[n++] = threads;
	opts[n++] = "request_timeout_ms";
	opts[n++] = timeout;
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	/* civetweb holds a thread per connection, idle keep-alive ones too: never longer than request_ms. */
	opts[n++] = "keep_alive_timeout_ms";
	opts[n++] = keepalive;
	opts[n++] = "max_request_size";
	opts[n++] = OSB_MAX_HEAD_BYTES_TEXT;
	opts[n++] = "enable_directory_listing";
	opts[n++] = "no";
	opts[n++] = "decode_url"; /* ids are decoded by http.c, which refuses %00 */
	opts[n++] = "no";
	opts[n++] = "tcp_nodelay";
	opts[n++] = "1";
	/* Connections wait in the acceptor, not in the kernel's queue; a short queue would drop SYNs (a 1 s retry). */
	opts[n++] = "listen_backlog";
	opts[n++] = "4096";
	opts[n] = NULL;

	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	/* begin_request is in place before the first connection is accepted (a request
	 * handler would be registered only after mg_start2 returns), and it bypasses
	 * civetweb's file serving and .htpasswd lookups. */
	cb.begin_request = osb_http_begin_request;
	cb.http_error = osb_http_error;
	cb.connection_close = osb_acceptor__connection_close;
	cb.log_message = log_civetweb;
	struct mg_init_data init = { &cb, b, opts };
	struct mg_error_data err;
	char errtext[256] = "";
	unsigned errcode = 0;
	memset(&err, 0, sizeof err);
	err.code = &errcode;
	err.text = errtext;
	err.text_buffer_size = sizeof errtext;
	struct mg_context *ctx = mg_start2(&init, &err);
	if (!ctx) {
		osb_log(OSB_LOG_ERROR, "http.start", "cannot listen on %s: %s", listen,
			errtext[0] ? errtext : "unknown error");
		return NULL;
	}
	return ctx;
}

/* The acceptor in front of civetweb's threads (acceptor.h), sized from the open-files limit. */
static osb_acceptor *start_acceptor(const osb_config *c)
{
	long files = raise_open_files();
	/* Room for civetweb's threads, the store, drivers and servers' pipes; the rest may wait in the acceptor. */
	long waiting = files - (2L * c->threads + 2L * c->store_pool_size + 256);
	if (waiting < 64)
		waiting = 64;
	if (waiting > 1000000)
		waiting = 1000000;
	osb_acceptor_options o = { c->connections_per_address, c->request_timeout_ms, (int)waiting, c->threads,
				   c->tls_certificate != NULL, OSB_MAX_HEAD_BYTES };
	osb_acceptor *g = NULL;
	if (osb_acceptor_start(&g, &o) != 0) {
		osb_log(OSB_LOG_ERROR, "http.acceptor", "cannot start the acceptor");
		return NULL;
	}
	osb_log(OSB_LOG_INFO, "http.acceptor", "up to %d connections may wait for their request head (open files: %ld)",
		o.max_waiting, files);
	return g;
}

static void log_listening(struct mg_context *ctx, const char *driver)
{
	struct mg_server_port ports[8];
	int n = mg_get_server_ports(ctx, 8, ports);
	for (int i = 0; i < n; i++)
		osb_log(OSB_LOG_INFO, "broker.started", "%s broker %s listening on port %d (%s)", driver, OSB_VERSION,
			ports[i].port, ports[i].is_ssl ? "https" : "http");
}

int osb_main(int argc, char **argv, const struct osb_driver *driver)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "reconcile", optional_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	int check_only = 0, reconcile = 0, purge = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'k': check_only = 1; break;
		case 'r':
			reconcile = 1;
			if (optarg && strcmp(optarg, "purge") == 0)
				purge = 1;
			else if (optarg) {
				fprintf(stderr, "%s: --reconcile takes no value or =purge\n", argv[0]);
				return 2;
			}
			break;
		case 'V':
			printf("%s %s (OSB API 2.%d-2.%d, driver ABI %u)\n", argv[0], OSB_VERSION,
			       OSB_API_VERSION_MIN_MINOR, OSB_API_VERSION_MAX_MINOR, OSB_DRIVER_ABI_VERSION);
			return 0;
		case 'h': usage(stdout, argv[0], driver); return 0;
		default: usage(stderr, argv[0], driver); return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr, argv[0], driver);
		return 2;
	}

	/* Signals go to this thread only: block them before any thread starts. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 1;
	char err[1024];
	osb_config *config = NULL;
	osb_catalog *catalog = NULL;
	struct osb_broker broker;
	struct mg_context *ctx = NULL;
	osb_acceptor *acceptor = NULL;
	char *pem = NULL;
	memset(&broker, 0, sizeof broker);

	if (osb_driver_check(driver) != 0) {
		fprintf(stderr, "%s: the driver is not valid for this core (see the log line above)\n", argv[0]);
		return 2;
	}
	if (osb_config_load(&config, config_path, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	osb_log__set_level((osb_log_level)config->log_level);
	if (osb_catalog_load(&catalog, config->catalog, driver->caps | (driver->server ? 0 : OSB_CATALOG_NO_SHARED),
			     err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		status = 2;
		goto done;
	}
	broker.config = config;
	broker.catalog = catalog;
	if (config->has_dedicated) {
		/* Before the driver's init, which may ask for it; it touches the disk only when used. */
		osb_deployer_options dopt = { config->dedicated_base_dir, config->dedicated_port_first,
					      config->dedicated_port_last, config->dedicated_host };
		if (osb_deployer__create(&broker.deployer, &dopt) != 0) {
			fprintf(stderr, "%s: %s: dedicated: cannot set up the deployer\n", argv[0], config_path);
			status = 2;
			goto done;
		}
	}
	if (check_only) {
		if (osb_gateway_open(&broker.gateway, &broker, driver, config->driver) != 0) {
			fprintf(stderr, "%s: %s: driver: invalid settings (see the log line above)\n", argv[0],
				config_path);
			status = 2;
			goto done;
		}
		printf("%s: configuration OK (catalog %s: %zu service(s))\n", config_path, config->catalog,
		       osb_catalog_service_count(catalog));
		status = 0;
		goto done;
	}
	if (osb_mkdir_p(config->data_dir, 0700) != 0) {
		fprintf(stderr, "%s: cannot create data_dir %s: %s\n", argv[0], config->data_dir, strerror(errno));
		goto done;
	}
	if (config->store_type == OSB_STORE_SQLITE && strchr(config->store_path, '/')) {
		char parent[4096];
		snprintf(parent, sizeof parent, "%s", config->store_path);
		*strrchr(parent, '/') = '\0';
		if (parent[0] && osb_mkdir_p(parent, 0700) != 0) {
			fprintf(stderr, "%s: cannot create %s for store.path: %s\n", argv[0], parent, strerror(errno));
			goto done;
		}
	}
	if (!config->has_key && load_or_create_key(config) != 0)
		goto done;

	osb_store_options so;
	memset(&so, 0, sizeof so);
	so.type = config->store_type;
	so.path = config->store_path;
	so.url = config->store_url;
	memcpy(so.key, config->key, sizeof so.key);
	so.pool_size = config->store_pool_size;
	so.busy_timeout_ms = 5000;
	int rc = osb_store_open(&broker.store, &so);
	memset(so.key, 0, sizeof so.key);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot open the state store (see the log)\n", argv[0]);
		goto done;
	}
	if (osb_gateway_open(&broker.gateway, &broker, driver, config->driver) != 0) {
		fprintf(stderr, "%s: %s: driver: invalid settings (see the log line above)\n", argv[0], config_path);
		status = 2;
		goto done;
	}
	if (reconcile) {
		status = osb_reconcile(&broker, purge, stdout) == 0 ? 0 : 1;
		goto done;
	}
	/* Before the engine resumes operations that may need their servers. */
	if (broker.deployer && osb_deployer__readopt(broker.deployer) != 0)
		osb_log(OSB_LOG_WARN, "broker.dedicated", "some dedicated servers could not be restarted (see above)");
	if (config->rate_limit > 0 && !(broker.ratelimit = osb_ratelimit_new(config->rate_limit, config->rate_burst)))
		goto done;
	if (osb_engine_start(&broker.engine, &broker) != 0) {
		fprintf(stderr, "%s: cannot start the operation engine\n", argv[0]);
		goto done;
	}
	if (config->tls_certificate) {
		char shim_dir[4096];
		snprintf(shim_dir, sizeof shim_dir, "%s/tls-shim", config->data_dir);
		if (osb_tls_shim_load(shim_dir) != 0) {
			fprintf(stderr, "%s: cannot prepare TLS (see the log)\n", argv[0]);
			goto done;
		}
	}
	mg_init_library(config->tls_certificate ? MG_FEATURES_TLS : 0);
	if (!(acceptor = start_acceptor(config))) {
		fprintf(stderr, "%s: cannot start the HTTP listener (see the log)\n", argv[0]);
		goto done;
	}
	ctx = start_http(&broker, &pem);
	if (!ctx) {
		fprintf(stderr, "%s: cannot start the HTTP listener on %s (see the log)\n", argv[0], config->listen);
		goto done;
	}
	log_listening(ctx, driver->name);
	osb_log__start_writer();

	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	osb_log(OSB_LOG_INFO, "broker.stopping", "signal %d: finishing requests in flight", sig);
	atomic_store(&broker.shutting_down, 1);
	status = 0;
done:
	osb_acceptor_stop(acceptor);
	if (ctx) {
		mg_stop(ctx); /* waits for the requests in flight */
		mg_exit_library();
	}
	osb_acceptor_free(acceptor); /* closes the connections that never got to civetweb */
	osb_engine_stop(broker.engine);
	osb_gateway_close(broker.gateway);
	/* Dedicated servers keep running: the next broker re-adopts them. */
	osb_deployer__free(broker.deployer);
	osb_store_close(broker.store);
	osb_ratelimit_free(broker.ratelimit);
	osb_catalog_free(catalog);
	osb_config_free(config);
	free(pem);
	if (ctx)
		osb_log(OSB_LOG_INFO, "broker.stopped", "clean shutdown");
	osb_log__stop_writer();
	return status;
}
