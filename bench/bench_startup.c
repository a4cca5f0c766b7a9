/* osb-bench-startup: time from exec of a server to its first 200 on a URL, repeated; prints the median. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* A failed probe waits this long before the next one. */
#define PROBE_GAP_NS 200000L
#define GIVE_UP_NS 10000000000LL

static void base64(char *out, size_t size, const char *in)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(in), i, o = 0;

	for (i = 0; i < len && o + 5 < size; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* One GET on a fresh connection. @return the HTTP status, or 0 when nothing answers yet. */
static int probe(const struct sockaddr_in *addr, const char *request)
{
	char buf[64];
	size_t got = 0;
	int fd, status = 0, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0)
		goto done;
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request))
		goto done;
	while (got < 12) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			goto done;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) == 0)
		status = atoi(buf + 9);
done:
	close(fd);
	return status;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: osb-bench-startup --port PORT --path PATH --runs N [--user U] -- COMMAND [ARGS...]\n"
		"Runs COMMAND N times; each time measures exec to the first 200 on http://127.0.0.1:PORT/PATH,\n"
		"then stops it with SIGTERM. The password (with --user) comes from BENCH_BROKER_PASSWORD.\n"
		"Prints: startup RUNS MEDIAN_MS MIN_MS MAX_MS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = "/", *user = NULL;
	char request[1024], auth[512] = "", cred[256], b64[400];
	struct sockaddr_in addr;
	bench_samples times = { 0 };
	int port = 0, runs = 20, i, r, early_status = 0, early_runs = 0, last_early = 0, early_code = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--port") == 0)
			port = bench_int_arg("--port", argv[i + 1], 1, 65535);
		else if (strcmp(argv[i], "--path") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--runs") == 0)
			runs = bench_int_arg("--runs", argv[i + 1], 1, 10000);
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[i + 1];
		else
			usage();
	}
	if (i >= argc - 1 || port == 0)
		usage();
	argv += i + 1;
	if (user) {
		const char *pw = getenv("BENCH_BROKER_PASSWORD");

		if (!pw) {
			fprintf(stderr, "osb-bench-startup: set BENCH_BROKER_PASSWORD\n");
			return 2;
		}
		snprintf(cred, sizeof(cred), "%s:%s", user, pw);
		base64(b64, sizeof(b64), cred);
		snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n", b64);
	}
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sX-Broker-API-Version: 2.17\r\nConnection: close\r\n\r\n",
		 path, port, auth);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	for (r = 0; r < runs; r++) {
		long long t0, t;
		int status = 0, wstatus;
		pid_t pid;

		if (probe(&addr, request) != 0) {
			fprintf(stderr, "osb-bench-startup: something already answers on port %d\n", port);
			return 1;
		}
		t0 = bench_now_ns();
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execvp(argv[0], argv);
			perror(argv[0]);
			_exit(127);
		}
		for (;;) {
			struct timespec gap = { 0, PROBE_GAP_NS };

			status = probe(&addr, request);
			t = bench_now_ns();
			if (status != 0 && status != 200 && early_status == 0) {
				/* Listening before its routes are in place: note it, keep polling. */
				early_status = status;
				early_runs++;
				if (!early_code)
					early_code = status;
			}
			if (status == 200 || t - t0 > GIVE_UP_NS || waitpid(pid, &wstatus, WNOHANG) == pid)
				break;
			nanosleep(&gap, NULL);
		}
		early_status = 0;
		if (status != 200) {
			fprintf(stderr, "osb-bench-startup: run %d: %s (last HTTP status %d)\n", r + 1,
				"no 200 within 10 s (or the server exited)", status);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		bench_samples_add(&times, (double)(t - t0) / 1000.0);
		if (early_runs > 0 && last_early == 0)
			last_early = r + 1;
		kill(pid, SIGTERM);
		if (waitpid(pid, &wstatus, 0) < 0 && errno != ECHILD)
			perror("waitpid");
	}
	if (early_runs)
		fprintf(stderr,
			"osb-bench-startup: note: %d of %d runs answered HTTP %d (or another non-200) before the"
			" first 200 (first in run %d)\n",
			early_runs, runs, early_code, last_early);
	bench_samples_sort(&times);
	printf("startup %zu %.3f %.3f %.3f\n", times.n, bench_percentile(&times, 50) / 1000.0, times.v[0] / 1000.0,
	       times.v[times.n - 1] / 1000.0);
	bench_samples_free(&times);
	return 0;
}
