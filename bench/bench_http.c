/* osb-bench-http: OSB load generator (lifecycles, GETs) that reports per-step latency percentiles. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bench_util.h"

enum { STEP_PROVISION, STEP_BIND, STEP_UNBIND, STEP_DEPROVISION, STEP_COUNT };
static const char *const step_names[STEP_COUNT] = { "provision", "bind", "unbind", "deprovision" };

enum { GET_INSTANCE, GET_BINDING, GET_LAST_OPERATION };

struct options {
	const char *mode;     /* "lifecycle" or "get" */
	const char *url;      /* broker base URL, no trailing slash */
	const char *user;     /* Basic auth user */
	const char *password; /* from BENCH_BROKER_PASSWORD, never the command line */
	const char *service;  /* service id */
	const char *plan;     /* plan id */
	const char *prefix;   /* lifecycle ids start with it */
	const char *samples;  /* append every sample ("STEP MS" lines) to this file, or NULL */
	int count;            /* lifecycles, or GET requests, in all */
	int concurrency;      /* worker threads, one connection each */
	int kind;             /* GET_* */
	int records;          /* get: ids are bench-i-0000000 .. records-1 */
};

struct worker {
	const struct options *opt;
	int index;                       /* worker number */
	int todo;                        /* lifecycles or requests for this worker */
	bench_samples steps[STEP_COUNT]; /* lifecycle: latency per step; get: steps[0] */
	int errors;                      /* failed requests */
	char first_error[512];           /* what the first failure was */
	unsigned long long rng;          /* get: xorshift state */
	pthread_barrier_t *start;        /* all workers begin together */
};

/* The first bytes of an answer, for error messages; the rest is read and dropped. */
struct answer {
	char text[256];
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
	struct answer *a = payload;
	size_t bytes = size * n, room = sizeof(a->text) - 1 - a->len;

	if (room > bytes)
		room = bytes;
	memcpy(a->text + a->len, data, room);
	a->len += room;
	a->text[a->len] = '\0';
	return bytes;
}

/*
 * One request on the worker's connection (kept alive). Records the latency in
 * `samples` when the status is `want`, else counts an error.
 */
static int call(struct worker *w, CURL *curl, const char *method, const char *path, const char *body, long want,
		bench_samples *samples)
{
	char url[1024];
	struct answer a = { .len = 0 };
	long status = 0;
	long long t0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", w->opt->url, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	a.text[0] = '\0';
	t0 = bench_now_ns();
	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK && status == want)
		return bench_samples_add(samples, (double)(bench_now_ns() - t0) / 1000.0);
	if (w->errors++ == 0)
		snprintf(w->first_error, sizeof(w->first_error), "%s %s: %s", method, path,
			 cc != CURLE_OK ? curl_easy_strerror(cc) : a.text);
	if (cc == CURLE_OK && w->errors == 1) {
		size_t len = strlen(w->first_error);

		snprintf(w->first_error + len, sizeof(w->first_error) - len, " (HTTP %ld, wanted %ld)", status, want);
	}
	return -1;
}

static CURL *open_connection(const struct options *opt, struct curl_slist **headers)
{
	CURL *curl = curl_easy_init();

	*headers = NULL;
	if (!curl)
		return NULL;
	*headers = curl_slist_append(*headers, "X-Broker-API-Version: 2.17");
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	*headers = curl_slist_append(*headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(curl, CURLOPT_USERNAME, opt->user);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, opt->password);
	curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	return curl;
}

static void lifecycle(struct worker *w, CURL *curl)
{
	const struct options *o = w->opt;
	char inst[128], bind[128], path[512], body[512], query[300];
	int k;

	snprintf(body, sizeof(body),
		 "{\"service_id\":\"%s\",\"plan_id\":\"%s\",\"organization_guid\":\"bench-org\","
		 "\"space_guid\":\"bench-space\",\"bind_resource\":{\"app_guid\":\"bench-app\"}}",
		 o->service, o->plan);
	snprintf(query, sizeof(query), "?service_id=%s&plan_id=%s", o->service, o->plan);
	for (k = 0; k < w->todo && w->errors == 0; k++) {
		snprintf(inst, sizeof(inst), "%s-i-%d-%d", o->prefix, w->index, k);
		snprintf(bind, sizeof(bind), "%s-b-%d-%d", o->prefix, w->index, k);

		snprintf(path, sizeof(path), "/v2/service_instances/%s", inst);
		if (call(w, curl, "PUT", path, body, 201, &w->steps[STEP_PROVISION]) < 0)
			break;
		snprintf(path, sizeof(path), "/v2/service_instances/%s/service_bindings/%s", inst, bind);
		if (call(w, curl, "PUT", path, body, 201, &w->steps[STEP_BIND]) < 0)
			break;
		snprintf(path, sizeof(path), "/v2/service_instances/%s/service_bindings/%s%s", inst, bind, query);
		if (call(w, curl, "DELETE", path, NULL, 200, &w->steps[STEP_UNBIND]) < 0)
			break;
		snprintf(path, sizeof(path), "/v2/service_instances/%s%s", inst, query);
		if (call(w, curl, "DELETE", path, NULL, 200, &w->steps[STEP_DEPROVISION]) < 0)
			break;
	}
}

static unsigned long long next_random(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void get_loop(struct worker *w, CURL *curl)
{
	const struct options *o = w->opt;
	char path[512];
	int k;

	for (k = 0; k < w->todo && w->errors == 0; k++) {
		int i = (int)(next_random(&w->rng) % (unsigned long long)o->records);

		if (o->kind == GET_INSTANCE)
			snprintf(path, sizeof(path), "/v2/service_instances/bench-i-%07d", i);
		else if (o->kind == GET_BINDING)
			snprintf(path, sizeof(path), "/v2/service_instances/bench-i-%07d/service_bindings/bench-b-%07d",
				 i, i);
		else
			snprintf(path, sizeof(path), "/v2/service_instances/bench-i-%07d/last_operation", i);
		if (call(w, curl, "GET", path, NULL, 200, &w->steps[0]) < 0)
			break;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct curl_slist *headers = NULL;
	bench_samples warm = { 0 };
	CURL *curl = open_connection(w->opt, &headers);

	if (!curl) {
		w->errors++;
		snprintf(w->first_error, sizeof(w->first_error), "cannot create a curl handle");
		pthread_barrier_wait(w->start);
		return NULL;
	}
	/* Open the connection before the clock starts. */
	call(w, curl, "GET", "/v2/catalog", NULL, 200, &warm);
	bench_samples_free(&warm);
	pthread_barrier_wait(w->start);
	if (w->errors == 0) {
		if (strcmp(w->opt->mode, "lifecycle") == 0)
			lifecycle(w, curl);
		else
			get_loop(w, curl);
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: osb-bench-http lifecycle --url URL --user U --service ID --plan ID --count N --concurrency C [--prefix P]\n"
		"       osb-bench-http get --url URL --user U --kind instance|binding|last_operation --records N\n"
		"                          --count N --concurrency C\n"
		"Both take --samples FILE to append every latency as a \"STEP MS\" line.\n"
		"The password comes from BENCH_BROKER_PASSWORD. Prints one line per step:\n"
		"  STEP n MEAN_MS P50_MS P99_MS\n"
		"and a last line: total SECONDS RATE_PER_S\n");
	exit(2);
}

static void parse(struct options *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->count = 100;
	o->concurrency = 1;
	o->prefix = "bench";
	o->user = "broker";
	if (argc < 2)
		usage();
	o->mode = argv[1];
	if (strcmp(o->mode, "lifecycle") != 0 && strcmp(o->mode, "get") != 0)
		usage();
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--url") == 0)
			o->url = v;
		else if (strcmp(k, "--user") == 0)
			o->user = v;
		else if (strcmp(k, "--service") == 0)
			o->service = v;
		else if (strcmp(k, "--plan") == 0)
			o->plan = v;
		else if (strcmp(k, "--prefix") == 0)
			o->prefix = v;
		else if (strcmp(k, "--samples") == 0)
			o->samples = v;
		else if (strcmp(k, "--count") == 0)
			o->count = bench_int_arg(k, v, 1, 100000000);
		else if (strcmp(k, "--concurrency") == 0)
			o->concurrency = bench_int_arg(k, v, 1, 1024);
		else if (strcmp(k, "--records") == 0)
			o->records = bench_int_arg(k, v, 1, 100000000);
		else if (strcmp(k, "--kind") == 0)
			o->kind = strcmp(v, "instance") == 0         ? GET_INSTANCE
				  : strcmp(v, "binding") == 0        ? GET_BINDING
				  : strcmp(v, "last_operation") == 0 ? GET_LAST_OPERATION
								     : -1;
		else
			usage();
	}
	if (i != argc || !o->url || o->kind < 0)
		usage();
	if (strcmp(o->mode, "lifecycle") == 0 && (!o->service || !o->plan))
		usage();
	if (strcmp(o->mode, "get") == 0 && o->records == 0)
		usage();
	o->password = getenv("BENCH_BROKER_PASSWORD");
	if (!o->password) {
		fprintf(stderr, "osb-bench-http: set BENCH_BROKER_PASSWORD\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options opt;
	struct worker *w;
	pthread_t *threads;
	pthread_barrier_t start;
	long long t0, t1;
	int i, s, errors = 0, done = 0, status = 0;

	parse(&opt, argc, argv);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "osb-bench-http: curl_global_init failed\n");
		return 1;
	}
	w = calloc((size_t)opt.concurrency, sizeof(*w));
	threads = calloc((size_t)opt.concurrency, sizeof(*threads));
	if (!w || !threads) {
		fprintf(stderr, "osb-bench-http: out of memory\n");
		return 1;
	}
	pthread_barrier_init(&start, NULL, (unsigned)opt.concurrency + 1);
	for (i = 0; i < opt.concurrency; i++) {
		w[i].opt = &opt;
		w[i].index = i;
		w[i].todo = opt.count / opt.concurrency + (i < opt.count % opt.concurrency);
		w[i].rng = 0x9E3779B97F4A7C15ULL * (unsigned long long)(i + 1) ^ (unsigned long long)time(NULL);
		if (w[i].rng == 0)
			w[i].rng = 1;
		w[i].start = &start;
		if (pthread_create(&threads[i], NULL, work, &w[i]) != 0) {
			fprintf(stderr, "osb-bench-http: cannot start thread %d\n", i);
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	t0 = bench_now_ns();
	for (i = 0; i < opt.concurrency; i++)
		pthread_join(threads[i], NULL);
	t1 = bench_now_ns();

	for (s = 0; s < STEP_COUNT; s++) {
		bench_samples all = { 0 };

		if (strcmp(opt.mode, "get") == 0 && s > 0)
			break;
		for (i = 0; i < opt.concurrency; i++)
			bench_samples_merge(&all, &w[i].steps[s]);
		if (opt.samples &&
		    bench_samples_write(opt.samples, strcmp(opt.mode, "get") == 0 ? "get" : step_names[s], &all) < 0) {
			fprintf(stderr, "osb-bench-http: cannot write %s\n", opt.samples);
			status = 1;
		}
		bench_samples_sort(&all);
		if (s == 0)
			done = (int)all.n;
		printf("%s %zu %.3f %.3f %.3f\n", strcmp(opt.mode, "get") == 0 ? "get" : step_names[s], all.n,
		       bench_mean(&all) / 1000.0, bench_percentile(&all, 50) / 1000.0,
		       bench_percentile(&all, 99) / 1000.0);
		bench_samples_free(&all);
	}
	printf("total %.3f %.1f\n", (double)(t1 - t0) / 1e9, (double)done / ((double)(t1 - t0) / 1e9));
	for (i = 0; i < opt.concurrency; i++) {
		if (w[i].errors && errors == 0)
			fprintf(stderr, "osb-bench-http: %s\n", w[i].first_error);
		errors += w[i].errors;
		for (s = 0; s < STEP_COUNT; s++)
			bench_samples_free(&w[i].steps[s]);
	}
	if (errors) {
		fprintf(stderr, "osb-bench-http: %d request(s) failed\n", errors);
		status = 1;
	}
	pthread_barrier_destroy(&start);
	free(w);
	free(threads);
	curl_global_cleanup();
	return status;
}
