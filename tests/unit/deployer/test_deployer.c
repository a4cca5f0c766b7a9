/* Unit tests of the deployer (real redis-server processes), the safe exec helper and the `dedicated` config. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "deployer_internal.h"
#include "deployer.h"
#include "dedicated_run.h"
#include "request_internal.h"
#include "catalog.h"
#include "osb/errors.h"
#include "osb/exec.h"
#include "osb/names.h"
#include "unit.h"

/* ---- Environment ---- */

static char tmp_root[64];
static int case_no;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int port_free(int port)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* The first port of `count` free consecutive ports, from a random start (others run tests at the same time). */
static int free_range(int count)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)now_ms();
	for (int tries = 0; tries < 200; tries++) {
		int first = 20000 + (int)(rand_r(&seed) % 20000), ok = 1;
		for (int p = first; ok && p < first + count; p++)
			ok = port_free(p);
		if (ok)
			return first;
	}
	return 0;
}

/* A fresh base_dir and a deployer over `count` free ports. */
static osb_deployer *make_deployer(char base[256], int count, int *first)
{
	osb_deployer *d = NULL;
	snprintf(base, 256, "%s/case%d/dedicated", tmp_root, ++case_no);
	*first = free_range(count);
	CHECK(*first > 0);
	osb_deployer_options o = { base, *first, *first + count - 1, NULL };
	CHECK_INT(osb_deployer__create(&d, &o), 0);
	return d;
}

static void rm_rf(const char *path)
{
	const char *argv[] = { "rm", "-rf", "--", path, NULL };
	osb_exec_options o = { .argv = argv, .timeout_ms = 10000 };
	osb_exec(NULL, &o);
}

/* Our children: those alive (not zombies) and zombies. */
static void count_children(int *alive, int *zombies)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	*alive = *zombies = 0;
	while (dir && (e = readdir(dir)) != NULL) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		char st;
		int ppid;
		if (p && sscanf(p + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid()) {
			if (st == 'Z') {
				(*zombies)++;
				fprintf(stderr, "zombie child: %s", buf);
			} else
				(*alive)++;
		}
	}
	if (dir)
		closedir(dir);
}

static int proc_gone(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static int wait_proc_gone(int pid, int ms)
{
	long long end = now_ms() + ms;
	while (!proc_gone(pid) && now_ms() < end)
		sleep_ms(20);
	return proc_gone(pid);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- A real server: redis ---- */

typedef struct {
	int ready_calls;
	int prepare_calls;
	int prepare_sleep_ms;
	int prepare_rc;
} redis_payload;

/* Send PING, expect +PONG: the server answers its protocol, not just the TCP handshake. */
static int redis_ping(int port)
{
	struct sockaddr_in sa;
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;
	if (fd < 0)
		return -1;
	struct timeval tv = { 0, 500000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n >= 5 && memcmp(buf, "+PONG", 5) == 0)
			rc = 0;
	}
	close(fd);
	return rc;
}

static int redis_ready(int port, const char *dir, void *payload)
{
	redis_payload *p = payload;
	(void)dir;
	if (p)
		__atomic_add_fetch(&p->ready_calls, 1, __ATOMIC_SEQ_CST);
	return redis_ping(port);
}

static int redis_prepare(const char *dir, int port, void *payload)
{
	redis_payload *p = payload;
	char path[600];
	snprintf(path, sizeof path, "%s/prepared.txt", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return OSB_ERROR;
	fprintf(f, "%d\n", port);
	fclose(f);
	if (p) {
		__atomic_add_fetch(&p->prepare_calls, 1, __ATOMIC_SEQ_CST);
		if (p->prepare_sleep_ms)
			sleep_ms(p->prepare_sleep_ms);
		return p->prepare_rc;
	}
	return 0;
}

static const char *const redis_argv[] = { "redis-server", "--port", "{port}", "--bind",       "127.0.0.1", "--dir",
					  "{dir}",        "--save", "",       "--appendonly", "no",        NULL };

static osb_process_spec redis_spec(redis_payload *p)
{
	osb_process_spec s;
	memset(&s, 0, sizeof s);
	s.kind = "redis";
	s.argv = redis_argv;
	s.prepare = redis_prepare;
	s.ready = redis_ready;
	s.payload = p;
	s.start_timeout_ms = 15000;
	return s;
}

static void expected_dir(char out[512], const char *base, const char *id)
{
	char name[OSB_NAME_SIZE];
	osb_name_instance(name, id);
	snprintf(out, 512, "%s/%s", base, name);
}

/* ---- Deployer cases ---- */

static void test_ensure_lookup_remove(void)
{
	char base[256], dir[512], path[700];
	int first;
	redis_payload pl = { 0 };
	osb_process_spec spec = redis_spec(&pl);
	osb_deployment dep, again, look;
	osb_deployer *d = make_deployer(base, 5, &first);

	CHECK_INT(osb_deployer_lookup(d, "inst-a", &look), OSB_ENOTFOUND);
	CHECK_INT(osb_deployer_ensure(d, "inst-a", &spec, &dep), 0);
	CHECK(dep.port >= first && dep.port < first + 5);
	CHECK(dep.pid > 0);
	expected_dir(dir, base, "inst-a");
	CHECK_STR(dep.dir, dir);
	CHECK_INT(redis_ping(dep.port), 0);
	CHECK_INT(pl.prepare_calls, 1);

	struct stat st;
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(path, sizeof path, "%s/deployment.json", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof path, "%s/prepared.txt", dir);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/server.log", dir);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/deployment.json.tmp", dir);
	CHECK(!exists(path));

	/* The record says what runs where, with {port} and {dir} substituted. */
	snprintf(path, sizeof path, "%s/deployment.json", dir);
	FILE *f = fopen(path, "r");
	char text[8192] = "";
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = '\0';
		fclose(f);
	}
	cJSON *rec = cJSON_Parse(text);
	CHECK(rec != NULL);
	CHECK_INT(cJSON_GetObjectItem(rec, "port")->valuedouble, dep.port);
	CHECK_INT(cJSON_GetObjectItem(rec, "pid")->valuedouble, dep.pid);
	CHECK_STR(cJSON_GetObjectItem(rec, "kind")->valuestring, "redis");
	CHECK_STR(cJSON_GetObjectItem(rec, "state")->valuestring, "running");
	char port_text[16];
	snprintf(port_text, sizeof port_text, "%d", dep.port);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "argv"), 2)->valuestring, port_text);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "argv"), 6)->valuestring, dir);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "argv"), 8)->valuestring, "");
	cJSON_Delete(rec);

	/* Already running: same server, no second prepare, at once. */
	long long t0 = now_ms();
	CHECK_INT(osb_deployer_ensure(d, "inst-a", &spec, &again), 0);
	CHECK(now_ms() - t0 < 3000);
	CHECK_INT(again.port, dep.port);
	CHECK_INT(again.pid, dep.pid);
	CHECK_INT(pl.prepare_calls, 1);

	CHECK_INT(osb_deployer_lookup(d, "inst-a", &look), 0);
	CHECK_INT(look.port, dep.port);
	CHECK_INT(look.pid, dep.pid);
	CHECK_STR(look.dir, dir);

	/* Remove: stopped with SIGTERM (blocked in this process, so the child must have it unblocked). */
	t0 = now_ms();
	CHECK_INT(osb_deployer_remove(d, "inst-a"), 0);
	CHECK(now_ms() - t0 < 8000); /* the SIGKILL fallback comes after 10 s */
	CHECK(wait_proc_gone(dep.pid, 2000));
	CHECK(!exists(dir));
	CHECK(redis_ping(dep.port) != 0);
	CHECK_INT(osb_deployer_lookup(d, "inst-a", &look), OSB_ENOTFOUND);
	CHECK_INT(osb_deployer_remove(d, "inst-a"), 0);
	CHECK_INT(osb_deployer_remove(d, "never-existed"), 0);
	osb_deployer__free(d);
}

static void test_two_instances_two_ports(void)
{
	char base[256];
	int first;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment a, b;
	osb_deployer *d = make_deployer(base, 5, &first);

	CHECK_INT(osb_deployer_ensure(d, "inst-a", &spec, &a), 0);
	CHECK_INT(osb_deployer_ensure(d, "inst-b", &spec, &b), 0);
	CHECK(a.port != b.port);
	CHECK(a.pid != b.pid);
	CHECK(strcmp(a.dir, b.dir) != 0);
	CHECK_INT(redis_ping(a.port), 0);
	CHECK_INT(redis_ping(b.port), 0);
	/* The lowest free ports of the range, in order. */
	CHECK_INT(a.port, first);
	CHECK_INT(b.port, first + 1);
	CHECK_INT(osb_deployer_remove(d, "inst-a"), 0);
	CHECK_INT(osb_deployer_remove(d, "inst-b"), 0);
	CHECK(wait_proc_gone(a.pid, 2000) && wait_proc_gone(b.pid, 2000));
	osb_deployer__free(d);
}

static void test_restart_after_kill(void)
{
	char base[256];
	int first, alive, zombies;
	redis_payload pl = { 0 };
	osb_process_spec spec = redis_spec(&pl);
	osb_deployment a, b;
	osb_deployer *d = make_deployer(base, 3, &first);

	CHECK_INT(osb_deployer_ensure(d, "inst-k", &spec, &a), 0);
	CHECK_INT(kill(a.pid, SIGKILL), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	/* Recorded but dead: started again on the same port, without a second prepare. */
	CHECK_INT(osb_deployer_ensure(d, "inst-k", &spec, &b), 0);
	CHECK(b.pid != a.pid);
	CHECK_INT(b.port, a.port);
	CHECK_INT(redis_ping(b.port), 0);
	CHECK_INT(pl.prepare_calls, 1);
	/* The killed one was reaped (by the reaper thread or the call). */
	sleep_ms(700);
	count_children(&alive, &zombies);
	CHECK_INT(zombies, 0);
	CHECK_INT(osb_deployer_remove(d, "inst-k"), 0);
	osb_deployer__free(d);
}

static void test_port_range_exhausted(void)
{
	char base[256], dir[512];
	int first;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment a, b;
	osb_deployer *d = make_deployer(base, 1, &first);

	CHECK_INT(osb_deployer_ensure(d, "inst-1", &spec, &a), 0);
	CHECK_INT(a.port, first);
	CHECK_INT(osb_deployer_ensure(d, "inst-2", &spec, &b), OSB_EBACKEND);
	CHECK_INT(b.start_failed, 0); /* nothing was tried: a port may come free, worth a retry */
	expected_dir(dir, base, "inst-2");
	CHECK(!exists(dir));
	CHECK_INT(osb_deployer_lookup(d, "inst-2", &b), OSB_ENOTFOUND);
	/* Removing the first releases its port. */
	CHECK_INT(osb_deployer_remove(d, "inst-1"), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	CHECK_INT(osb_deployer_ensure(d, "inst-2", &spec, &b), 0);
	CHECK_INT(b.port, first);
	CHECK_INT(osb_deployer_remove(d, "inst-2"), 0);
	osb_deployer__free(d);
}

static void test_busy_port_skipped(void)
{
	char base[256];
	int first, one = 1;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment a;
	osb_deployer *d = make_deployer(base, 2, &first);

	/* Someone else listens on the first port of the range. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)first);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	CHECK_INT(listen(fd, 4), 0);
	CHECK_INT(osb_deployer_ensure(d, "inst-busy", &spec, &a), 0);
	CHECK_INT(a.port, first + 1);
	close(fd);
	CHECK_INT(osb_deployer_remove(d, "inst-busy"), 0);
	osb_deployer__free(d);
}

static void test_failures_leave_nothing_running(void)
{
	char base[256], dir[512];
	int first, alive0, zombies0, alive, zombies;
	osb_deployment out, look;
	osb_deployer *d = make_deployer(base, 5, &first);
	count_children(&alive0, &zombies0);

	/* Exits at once. */
	static const char *const false_argv[] = { "false", NULL };
	osb_process_spec spec = redis_spec(NULL);
	spec.kind = "false";
	spec.argv = false_argv;
	long long t0 = now_ms();
	CHECK_INT(osb_deployer_ensure(d, "inst-exit", &spec, &out), OSB_EBACKEND);
	CHECK(now_ms() - t0 < 3000);
	CHECK_INT(out.pid, 0);
	CHECK_INT(out.start_failed, 1);

	/* Runs but never answers. */
	static const char *const sleep_argv[] = { "sleep", "60", NULL };
	spec.kind = "sleep";
	spec.argv = sleep_argv;
	spec.start_timeout_ms = 500;
	t0 = now_ms();
	CHECK_INT(osb_deployer_ensure(d, "inst-hang", &spec, &out), OSB_EBACKEND);
	CHECK(now_ms() - t0 >= 500 && now_ms() - t0 < 5000);
	CHECK_INT(out.start_failed, 1);

	/* Cannot be executed. */
	static const char *const missing_argv[] = { "/nonexistent/osb-server", NULL };
	spec.argv = missing_argv;
	CHECK_INT(osb_deployer_ensure(d, "inst-missing", &spec, &out), OSB_EBACKEND);
	CHECK_INT(out.start_failed, 1);

	/* prepare fails: its code comes back, nothing starts. */
	redis_payload pl = { 0 };
	pl.prepare_rc = OSB_EBACKEND;
	spec = redis_spec(&pl);
	CHECK_INT(osb_deployer_ensure(d, "inst-prep", &spec, &out), OSB_EBACKEND);
	CHECK_INT(pl.ready_calls, 0);

	count_children(&alive, &zombies);
	CHECK_INT(alive, alive0);
	CHECK_INT(zombies, 0);

	/* The failed record keeps the directory and port until removed; lookup says nothing runs. */
	CHECK_INT(osb_deployer_lookup(d, "inst-hang", &look), 0);
	CHECK_INT(look.pid, 0);
	expected_dir(dir, base, "inst-hang");
	char path[700];
	snprintf(path, sizeof path, "%s/deployment.json", dir);
	FILE *f = fopen(path, "r");
	char text[8192] = "";
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = '\0';
		fclose(f);
	}
	CHECK_CONTAINS(text, "\"failed\"");
	CHECK_CONTAINS(text, "not ready on port");

	/* A failed instance starts once its cause is gone. */
	pl.prepare_rc = 0;
	CHECK_INT(osb_deployer_ensure(d, "inst-prep", &spec, &out), 0);
	CHECK_INT(pl.prepare_calls, 2);
	CHECK_INT(redis_ping(out.port), 0);

	const char *ids[] = { "inst-exit", "inst-hang", "inst-missing", "inst-prep" };
	for (int i = 0; i < 4; i++) {
		CHECK_INT(osb_deployer_remove(d, ids[i]), 0);
		expected_dir(dir, base, ids[i]);
		CHECK(!exists(dir));
	}
	osb_deployer__free(d);
}

static void test_readopt(void)
{
	char base[256];
	int first;
	redis_payload pl = { 0 };
	osb_process_spec spec = redis_spec(&pl);
	osb_deployment a, b, look;
	osb_deployer *d = make_deployer(base, 3, &first);

	CHECK_INT(osb_deployer_ensure(d, "inst-r", &spec, &a), 0);
	/* "Broker restart": the deployer goes, the server stays. */
	osb_deployer__free(d);
	CHECK_INT(redis_ping(a.port), 0);
	osb_deployer_options o = { base, first, first + 2, NULL };
	CHECK_INT(osb_deployer__create(&d, &o), 0);
	CHECK_INT(osb_deployer__readopt(d), 0);
	CHECK_INT(osb_deployer_lookup(d, "inst-r", &look), 0);
	CHECK_INT(look.pid, a.pid);
	CHECK_INT(osb_deployer_ensure(d, "inst-r", &spec, &b), 0);
	CHECK_INT(b.pid, a.pid);
	CHECK_INT(b.port, a.port);
	CHECK_INT(pl.prepare_calls, 1);

	/* Died while the broker was down: restarted at readopt, on its port, with its argv. */
	osb_deployer__free(d);
	CHECK_INT(kill(a.pid, SIGKILL), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	CHECK_INT(osb_deployer__create(&d, &o), 0);
	long long t0 = now_ms();
	CHECK_INT(osb_deployer__readopt(d), 0);
	CHECK(now_ms() - t0 < 10000);
	CHECK_INT(osb_deployer_lookup(d, "inst-r", &look), 0);
	CHECK(look.pid > 0 && look.pid != a.pid);
	CHECK_INT(look.port, a.port);
	CHECK_INT(redis_ping(look.port), 0);
	CHECK_INT(osb_deployer_ensure(d, "inst-r", &spec, &b), 0);
	CHECK_INT(b.pid, look.pid);
	CHECK_INT(pl.prepare_calls, 1);

	/* The adopted server (our child here) is reaped after remove: no zombie. */
	CHECK_INT(osb_deployer_remove(d, "inst-r"), 0);
	sleep_ms(200);
	int alive, zombies;
	count_children(&alive, &zombies);
	CHECK_INT(zombies, 0);
	/* Nothing to adopt any more. */
	CHECK_INT(osb_deployer__readopt(d), 0);
	osb_deployer__free(d);
}

static void test_readopt_failed_and_taken(void)
{
	char base[256];
	int first, one = 1;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment a, look;
	osb_deployer *d = make_deployer(base, 2, &first);

	CHECK_INT(osb_deployer_ensure(d, "inst-t", &spec, &a), 0);
	osb_deployer__free(d);
	CHECK_INT(kill(a.pid, SIGKILL), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	/* Its port was taken meanwhile: readopt reports it and leaves it failed. */
	int fd = socket(AF_INET, SOCK_STREAM, 0), bound = -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)a.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* The killed server's last threads may hold the port a moment longer. */
	for (int i = 0; i < 100 && bound != 0; i++)
		if ((bound = bind(fd, (struct sockaddr *)&sa, sizeof sa)) != 0)
			sleep_ms(20);
	CHECK_INT(bound, 0);
	CHECK_INT(listen(fd, 4), 0);
	osb_deployer_options o = { base, first, first + 1, NULL };
	CHECK_INT(osb_deployer__create(&d, &o), 0);
	CHECK_INT(osb_deployer__readopt(d), 1);
	CHECK_INT(osb_deployer_lookup(d, "inst-t", &look), 0);
	CHECK_INT(look.pid, 0);
	/* ensure moves it to the next free port (prepare runs again for it). */
	CHECK_INT(osb_deployer_ensure(d, "inst-t", &spec, &a), 0);
	CHECK_INT(a.port, first + 1);
	CHECK_INT(redis_ping(a.port), 0);
	close(fd);
	CHECK_INT(osb_deployer_remove(d, "inst-t"), 0);
	osb_deployer__free(d);
}

static char *slurp(const char *path)
{
	static char text[16384];
	FILE *f = fopen(path, "r");
	text[0] = '\0';
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = '\0';
		fclose(f);
	}
	return text;
}

/* Rewrite the record as a broker killed between the start and the record's write would have left it. */
static void forget_pid_in_record(const char *dir)
{
	char path[700];
	snprintf(path, sizeof path, "%s/deployment.json", dir);
	cJSON *rec = cJSON_Parse(slurp(path));
	CHECK(rec != NULL);
	if (!rec)
		return;
	cJSON_ReplaceItemInObject(rec, "pid", cJSON_CreateNumber(0));
	cJSON_ReplaceItemInObject(rec, "proc_start", cJSON_CreateNumber(0));
	cJSON_ReplaceItemInObject(rec, "state", cJSON_CreateString("starting"));
	char *text = cJSON_Print(rec);
	FILE *f = fopen(path, "w");
	if (f && text)
		fputs(text, f);
	if (f)
		fclose(f);
	free(text);
	cJSON_Delete(rec);
}

static void test_stray_server_killed(void)
{
	char base[256];
	int first;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment a, b;
	osb_deployer *d = make_deployer(base, 3, &first);

	/* ensure finds the unrecorded server by its directory and name, kills it, and starts one it knows. */
	CHECK_INT(osb_deployer_ensure(d, "inst-stray", &spec, &a), 0);
	forget_pid_in_record(a.dir);
	CHECK_INT(osb_deployer_ensure(d, "inst-stray", &spec, &b), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	CHECK(b.pid != a.pid);
	CHECK_INT(b.port, a.port);
	CHECK_INT(redis_ping(b.port), 0);

	/* The same at readopt. */
	osb_deployer__free(d);
	forget_pid_in_record(b.dir);
	osb_deployer_options o = { base, first, first + 2, NULL };
	CHECK_INT(osb_deployer__create(&d, &o), 0);
	CHECK_INT(osb_deployer__readopt(d), 0);
	CHECK(wait_proc_gone(b.pid, 2000));
	CHECK_INT(osb_deployer_ensure(d, "inst-stray", &spec, &a), 0);
	CHECK(a.pid != b.pid);
	CHECK_INT(redis_ping(a.port), 0);

	/* And at remove: nothing keeps running in a deleted directory. */
	forget_pid_in_record(a.dir);
	CHECK_INT(osb_deployer_remove(d, "inst-stray"), 0);
	CHECK(wait_proc_gone(a.pid, 2000));
	CHECK(!exists(a.dir));

	/* A shell of an operator in the directory is left alone. */
	CHECK_INT(osb_deployer_ensure(d, "inst-stray", &spec, &a), 0);
	const char *sh_argv[] = { "sleep", "30", NULL };
	pid_t shell;
	char *const sh_env[] = { NULL };
	CHECK_INT(osb_exec__spawn(&shell, "/bin/sleep", (char *const *)sh_argv, sh_env, a.dir, -1, -1, -1, 1), 0);
	forget_pid_in_record(a.dir);
	CHECK_INT(osb_deployer_ensure(d, "inst-stray", &spec, &b), 0);
	CHECK(!proc_gone(shell));
	kill(shell, SIGKILL);
	waitpid(shell, NULL, 0);
	CHECK_INT(osb_deployer_remove(d, "inst-stray"), 0);
	osb_deployer__free(d);
}

typedef struct {
	osb_deployer *d;
	const char *id;
	osb_process_spec spec;
	osb_deployment out;
	int rc;
} ensure_job;

static void *ensure_thread(void *arg)
{
	ensure_job *j = arg;
	j->rc = osb_deployer_ensure(j->d, j->id, &j->spec, &j->out);
	return NULL;
}

static void test_parallel(void)
{
	char base[256];
	int first;
	redis_payload slow = { 0 };
	slow.prepare_sleep_ms = 2000;
	osb_deployer *d = make_deployer(base, 4, &first);
	ensure_job jobs[4];
	pthread_t th[4];

	/* Two instances whose prepare takes 2 s each start side by side, not one after the other. */
	for (int i = 0; i < 2; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].d = d;
		jobs[i].id = i ? "inst-p2" : "inst-p1";
		jobs[i].spec = redis_spec(&slow);
	}
	long long t0 = now_ms();
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, ensure_thread, &jobs[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK(now_ms() - t0 < 3600);
	CHECK_INT(jobs[0].rc, 0);
	CHECK_INT(jobs[1].rc, 0);
	CHECK(jobs[0].out.port != jobs[1].out.port);

	/* Two calls for one instance are serialized: one server, one prepare. */
	redis_payload same = { 0 };
	for (int i = 0; i < 4; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].d = d;
		jobs[i].id = "inst-same";
		jobs[i].spec = redis_spec(&same);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, ensure_thread, &jobs[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(jobs[i].rc, 0);
		CHECK_INT(jobs[i].out.pid, jobs[0].out.pid);
		CHECK_INT(jobs[i].out.port, jobs[0].out.port);
	}
	CHECK_INT(same.prepare_calls, 1);
	CHECK_INT(osb_deployer_remove(d, "inst-p1"), 0);
	CHECK_INT(osb_deployer_remove(d, "inst-p2"), 0);
	CHECK_INT(osb_deployer_remove(d, "inst-same"), 0);
	osb_deployer__free(d);
}

static int file_ready(int port, const char *dir, void *payload)
{
	char path[600];
	(void)port;
	(void)payload;
	snprintf(path, sizeof path, "%s/env.txt", dir);
	return access(path, F_OK);
}

static void test_environment_and_arguments(void)
{
	char base[256], path[700];
	int first;
	osb_deployment out;
	osb_deployer *d = make_deployer(base, 2, &first);
	static const char *const argv[] = { "tests/unit/deployer/env-server.sh", "{dir}", "{port}", NULL };
	static const char *const env[] = { "OSB_TEST_GREETING=hello on {port}", NULL };
	osb_process_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.kind = "env";
	spec.argv = argv;
	spec.env = env;
	spec.ready = file_ready;
	spec.start_timeout_ms = 5000;

	/* A secret in the broker's environment must not reach a server. */
	setenv("OSB_BROKER_PASSWORD", "broker-secret-value", 1);
	CHECK_INT(osb_deployer_ensure(d, "inst-env", &spec, &out), 0);
	snprintf(path, sizeof path, "%s/env.txt", out.dir);
	char want[64];
	snprintf(want, sizeof want, "OSB_TEST_GREETING=hello on %d", out.port);
	const char *text = slurp(path);
	CHECK_CONTAINS(text, want);
	CHECK_CONTAINS(text, "PATH=");
	CHECK(strstr(text, "broker-secret-value") == NULL);
	char home[600];
	snprintf(home, sizeof home, "HOME=%s", out.dir);
	CHECK_CONTAINS(text, home);
	snprintf(path, sizeof path, "%s/args.txt", out.dir);
	snprintf(want, sizeof want, " %d", out.port);
	CHECK_CONTAINS(slurp(path), want);
	snprintf(path, sizeof path, "%s/server.log", out.dir);
	CHECK_CONTAINS(slurp(path), "env-server: started on port");
	unsetenv("OSB_BROKER_PASSWORD");

	/* A script's cmdline starts with its interpreter; it is still recognised as running. */
	osb_deployment again;
	CHECK_INT(osb_deployer_ensure(d, "inst-env", &spec, &again), 0);
	CHECK_INT(again.pid, out.pid);
	CHECK_INT(osb_deployer_remove(d, "inst-env"), 0);
	CHECK(wait_proc_gone(out.pid, 2000));
	osb_deployer__free(d);
}

/* A ready() that always refuses, as memcached's does when SASL cannot log the admin in. */
static int never_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	(void)state;
	return osb_errbuf_set(err, OSB_EBACKEND, "test server at port %d refused the admin login", t->port);
}

static void test_never_ready_says_why(void)
{
	char base[256];
	int first;
	osb_deployer *d = make_deployer(base, 2, &first);
	static const char *const args[] = { "{dir}", "{port}", NULL };
	osb_dedicated_spec spec;
	osb_dedicated_runner runner;
	osb_dedicated_frame frame;
	osb_plan plan;
	osb_request *req = osb_request__new();

	memset(&spec, 0, sizeof spec);
	spec.kind = "never";
	spec.program = "tests/unit/deployer/env-server.sh";
	spec.args = args;
	spec.ready = never_ready;
	spec.start_timeout_ms = 500;
	memset(&plan, 0, sizeof plan);
	CHECK(req != NULL);
	req->instance_id = "inst-never";
	req->plan = &plan;
	req->deadline_ms = osb_clock_ms() + 10000;
	CHECK_INT(osb_dedicated_runner_init(&runner, &spec, "test", NULL, NULL), 0);
	/* The start fails, and the request's error says what the last readiness check answered. */
	CHECK_INT(osb_dedicated_runner_ensure(&runner, d, req, NULL, &frame), OSB_EBACKEND);
	CHECK_CONTAINS(req->err.msg,
		       "the dedicated never server did not start (last readiness check: test server at port");
	CHECK_CONTAINS(req->err.msg, "refused the admin login");
	/* Retries of the same operation: the second failure is still worth a retry, the third is not. */
	memset(&req->err, 0, sizeof req->err);
	CHECK_INT(osb_dedicated_runner_ensure(&runner, d, req, NULL, &frame), OSB_EBACKEND);
	memset(&req->err, 0, sizeof req->err);
	CHECK_INT(osb_dedicated_runner_ensure(&runner, d, req, NULL, &frame), OSB_ERROR);
	CHECK_CONTAINS(req->err.msg, "the dedicated never server did not start in 3 tries (last readiness check:");
	CHECK_CONTAINS(req->err.msg, "refused the admin login");
	osb_dedicated_runner_fini(&runner);
	osb_request__free(req);
	osb_deployer__free(d);
}

static void test_symlinks_not_followed(void)
{
	char base[256], dir[512], outside[300], victim[400];
	int first;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployment out;
	osb_deployer *d = make_deployer(base, 2, &first);

	snprintf(outside, sizeof outside, "%s/case%d-outside", tmp_root, case_no);
	CHECK_INT(mkdir(outside, 0700), 0);
	snprintf(victim, sizeof victim, "%s/precious.txt", outside);
	FILE *f = fopen(victim, "w");
	if (f) {
		fputs("keep me\n", f);
		fclose(f);
	}
	/* The instance's directory is a symlink to elsewhere: never used, never entered. */
	const char *mk[] = { "mkdir", "-p", base, NULL };
	osb_exec_options eo = { .argv = mk };
	CHECK_INT(osb_exec(NULL, &eo), 0);
	expected_dir(dir, base, "inst-link");
	CHECK_INT(symlink(outside, dir), 0);
	CHECK(osb_deployer_ensure(d, "inst-link", &spec, &out) != 0);
	CHECK_INT(osb_deployer_lookup(d, "inst-link", &out), OSB_ENOTFOUND);
	CHECK_INT(osb_deployer_remove(d, "inst-link"), 0);
	CHECK(!exists(dir));
	CHECK(exists(victim));

	/* A symlink inside a real instance directory is unlinked, not followed. */
	CHECK_INT(osb_deployer_ensure(d, "inst-real", &spec, &out), 0);
	char link[700];
	snprintf(link, sizeof link, "%s/escape", out.dir);
	CHECK_INT(symlink(outside, link), 0);
	CHECK_INT(osb_deployer_remove(d, "inst-real"), 0);
	CHECK(!exists(out.dir));
	CHECK(exists(victim));
	osb_deployer__free(d);
}

static void test_bad_arguments(void)
{
	char base[256];
	int first;
	osb_deployment out;
	osb_process_spec spec = redis_spec(NULL);
	osb_deployer *d = make_deployer(base, 1, &first), *none = NULL;

	CHECK_INT(osb_deployer_ensure(d, NULL, &spec, &out), OSB_ERROR);
	CHECK_INT(osb_deployer_ensure(d, "", &spec, &out), OSB_ERROR);
	CHECK_INT(osb_deployer_ensure(d, "x", NULL, &out), OSB_ERROR);
	CHECK_INT(osb_deployer_ensure(NULL, "x", &spec, &out), OSB_ERROR);
	spec.ready = NULL;
	CHECK_INT(osb_deployer_ensure(d, "x", &spec, &out), OSB_ERROR);
	spec = redis_spec(NULL);
	static const char *const bad_env[] = { "NOEQUALS", NULL };
	spec.env = bad_env;
	CHECK_INT(osb_deployer_ensure(d, "x", &spec, &out), OSB_ERROR);
	CHECK_INT(osb_deployer_remove(NULL, "x"), OSB_ERROR);
	CHECK_INT(osb_deployer_lookup(d, NULL, &out), OSB_ERROR);
	CHECK_INT(osb_deployer_remove_name(d, "../etc"), OSB_ERROR);
	CHECK_STR(osb_deployer_host(d), "127.0.0.1");

	osb_deployer_options o = { base, 2000, 1999, NULL };
	CHECK_INT(osb_deployer__create(&none, &o), OSB_EBADREQUEST);
	o.port_first = 80;
	o.port_last = 90;
	CHECK_INT(osb_deployer__create(&none, &o), OSB_EBADREQUEST);
	o.port_first = 2000;
	o.port_last = 2001;
	o.base_dir = "";
	CHECK_INT(osb_deployer__create(&none, &o), OSB_EBADREQUEST);
	CHECK(none == NULL);
	osb_deployer__free(NULL);
	osb_deployer__free(d);
}

/* ---- exec cases ---- */

static int run(osb_exec_result *r, const char *const *argv, int timeout_ms)
{
	osb_exec_options o;
	memset(&o, 0, sizeof o);
	o.argv = argv;
	o.timeout_ms = timeout_ms;
	return osb_exec(r, &o);
}

static void test_exec_exit_codes(void)
{
	osb_exec_result r;
	const char *t[] = { "true", NULL }, *f[] = { "false", NULL }, *seven[] = { "sh", "-c", "exit 7", NULL };
	CHECK_INT(run(&r, t, 5000), 0);
	osb_exec_result_free(&r);
	CHECK_INT(run(&r, f, 5000), 1);
	osb_exec_result_free(&r);
	CHECK_INT(run(&r, seven, 5000), 7);
	CHECK_INT(r.signal, 0);
	CHECK_INT(r.timed_out, 0);
	osb_exec_result_free(&r);
	const char *self_kill[] = { "sh", "-c", "kill -9 $$", NULL };
	CHECK_INT(run(&r, self_kill, 5000), OSB_EBACKEND);
	CHECK_INT(r.signal, SIGKILL);
	osb_exec_result_free(&r);
	/* Without a result. */
	CHECK_INT(run(NULL, seven, 5000), 7);
}

static void test_exec_output(void)
{
	osb_exec_result r;
	const char *both[] = { "sh", "-c", "printf 'to out'; printf 'to err' >&2", NULL };
	CHECK_INT(run(&r, both, 5000), 0);
	CHECK_STR(r.out, "to out");
	CHECK_INT(r.out_len, 6);
	CHECK_STR(r.err, "to err");
	CHECK_INT(r.truncated, 0);
	osb_exec_result_free(&r);
	CHECK(r.out == NULL);

	/* Past the limit: kept up to it, the rest read and dropped (the program is not blocked). */
	const char *big[] = { "head", "-c", "1000000", "/dev/zero", NULL };
	osb_exec_options o;
	memset(&o, 0, sizeof o);
	o.argv = big;
	o.max_output = 1000;
	o.timeout_ms = 10000;
	CHECK_INT(osb_exec(&r, &o), 0);
	CHECK_INT(r.out_len, 1000);
	CHECK_INT(r.truncated, 1);
	CHECK_INT(r.timed_out, 0);
	osb_exec_result_free(&r);

	/* stdin from input; cwd. */
	const char *cat[] = { "cat", NULL };
	memset(&o, 0, sizeof o);
	o.argv = cat;
	o.input = "line one\nline two\n";
	o.input_len = strlen(o.input);
	CHECK_INT(osb_exec(&r, &o), 0);
	CHECK_STR(r.out, "line one\nline two\n");
	osb_exec_result_free(&r);
	o.input = NULL;
	o.input_len = 0;
	CHECK_INT(osb_exec(&r, &o), 0); /* stdin is /dev/null: cat ends at once */
	CHECK_STR(r.out, "");
	osb_exec_result_free(&r);
	const char *pwd[] = { "pwd", NULL };
	memset(&o, 0, sizeof o);
	o.argv = pwd;
	o.cwd = "/";
	CHECK_INT(osb_exec(&r, &o), 0);
	CHECK_STR(r.out, "/\n");
	osb_exec_result_free(&r);

	/* A program that does not read its large input still ends cleanly. */
	static char lots[1 << 20];
	memset(lots, 'x', sizeof lots);
	memset(&o, 0, sizeof o);
	o.argv = (const char *[]){ "true", NULL };
	o.input = lots;
	o.input_len = sizeof lots;
	CHECK_INT(osb_exec(&r, &o), 0);
	osb_exec_result_free(&r);

	/* A background child keeps the pipe open: the call still returns when the program exits. */
	const char *bg[] = { "sh", "-c", "sleep 4 & echo started", NULL };
	long long t0 = now_ms();
	CHECK_INT(run(&r, bg, 10000), 0);
	CHECK(now_ms() - t0 < 3000);
	CHECK_STR(r.out, "started\n");
	osb_exec_result_free(&r);
}

static void test_exec_no_shell(void)
{
	osb_exec_result r;
	const char *hostile = "$(touch /tmp/osb-pwned); `id` | cat > /tmp/osb-pwned && * ; rm -rf ~ '\"\n";
	const char *argv[] = { "printf", "%s", hostile, NULL };
	CHECK_INT(run(&r, argv, 5000), 0);
	CHECK_STR(r.out, hostile);
	CHECK(!exists("/tmp/osb-pwned"));
	osb_exec_result_free(&r);
	/* A command line in argv[0] is a (missing) program name, not a command. */
	const char *line[] = { "echo hi; touch /tmp/osb-pwned", NULL };
	CHECK_INT(run(&r, line, 5000), OSB_ENOTFOUND);
	CHECK_INT(r.start_errno, ENOENT);
	CHECK(!exists("/tmp/osb-pwned"));
	osb_exec_result_free(&r);
}

static void test_exec_timeout(void)
{
	osb_exec_result r;
	const char *sleeper[] = { "sleep", "30", NULL };
	long long t0 = now_ms();
	CHECK_INT(run(&r, sleeper, 300), OSB_ETIMEOUT);
	CHECK(now_ms() - t0 < 5000);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.signal, SIGTERM);
	osb_exec_result_free(&r);

	/* SIGTERM ignored: SIGKILL after the grace period, to the whole process group. */
	const char *stubborn[] = { "sh", "-c", "trap '' TERM; sleep 30; sleep 30", NULL };
	t0 = now_ms();
	CHECK_INT(run(&r, stubborn, 300), OSB_ETIMEOUT);
	CHECK(now_ms() - t0 < 8000); /* 0.3 s + 2 s grace, with room for a loaded machine */
	CHECK_INT(r.signal, SIGKILL);
	osb_exec_result_free(&r);
}

static void test_exec_environment_and_errors(void)
{
	osb_exec_result r;
	const char *env_argv[] = { "env", NULL };
	setenv("OSB_DRIVER_ADMIN_PASSWORD", "driver-secret-value", 1);
	CHECK_INT(run(&r, env_argv, 5000), 0);
	CHECK_CONTAINS(r.out, "PATH=");
	CHECK(strstr(r.out, "driver-secret-value") == NULL);
	osb_exec_result_free(&r);
	unsetenv("OSB_DRIVER_ADMIN_PASSWORD");

	osb_exec_options o;
	memset(&o, 0, sizeof o);
	o.argv = env_argv;
	o.env = (const char *[]){ "ONLY=this", NULL };
	CHECK_INT(osb_exec(&r, &o), 0);
	CHECK_STR(r.out, "ONLY=this\n");
	osb_exec_result_free(&r);

	const char *missing[] = { "osb-no-such-program", NULL };
	CHECK_INT(run(&r, missing, 5000), OSB_ENOTFOUND);
	CHECK_INT(r.start_errno, ENOENT);
	osb_exec_result_free(&r);
	const char *not_exec[] = { "/etc/passwd", NULL };
	CHECK_INT(run(&r, not_exec, 5000), OSB_ENOTFOUND);
	osb_exec_result_free(&r);
	CHECK_INT(osb_exec(&r, NULL), OSB_ERROR);
	osb_exec_result_free(&r);
	memset(&o, 0, sizeof o);
	CHECK_INT(osb_exec(&r, &o), OSB_ERROR);
	osb_exec_result_free(&r);
	o.argv = (const char *[]){ "pwd", NULL };
	o.cwd = "/nonexistent/dir";
	CHECK_INT(osb_exec(&r, &o), OSB_ENOTFOUND);
	osb_exec_result_free(&r);
	osb_exec_result_free(NULL);
}

/* ---- config ---- */

static int load_config(osb_config **c, const char *dedicated, char *err, size_t err_size)
{
	char path[300];
	snprintf(path, sizeof path, "%s/config%d.json", tmp_root, ++case_no);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"{\"accounts\": [{\"username\": \"broker\", \"password\": \"long-enough-pw\"}], "
		"\"catalog\": \"catalog/x.json\", \"data_dir\": \"/var/lib/osb\"%s%s}",
		dedicated ? ", \"dedicated\": " : "", dedicated ? dedicated : "");
	fclose(f);
	return osb_config_load(c, path, err, err_size);
}

static void test_config_dedicated(void)
{
	osb_config *c = NULL;
	char err[512];
	CHECK_INT(load_config(&c, NULL, err, sizeof err), 0);
	CHECK(c && !c->has_dedicated);
	osb_config_free(c);

	CHECK_INT(load_config(&c, "{\"port_range\": [40000, 40099]}", err, sizeof err), 0);
	CHECK(c && c->has_dedicated);
	if (c) {
		CHECK_INT(c->dedicated_port_first, 40000);
		CHECK_INT(c->dedicated_port_last, 40099);
		CHECK_STR(c->dedicated_base_dir, "/var/lib/osb/dedicated");
		CHECK_STR(c->dedicated_host, "127.0.0.1");
	}
	osb_config_free(c);

	CHECK_INT(load_config(&c,
			      "{\"port_range\": [40000, 40000], \"base_dir\": \"/srv/osb\", \"host\": \"10.0.0.5\"}",
			      err, sizeof err),
		  0);
	if (c) {
		CHECK_STR(c->dedicated_base_dir, "/srv/osb");
		CHECK_STR(c->dedicated_host, "10.0.0.5");
	}
	osb_config_free(c);

	static const struct {
		const char *json;
		const char *message;
	} bad[] = {
		{ "[]", "dedicated: must be an object" },
		{ "{}", "dedicated.port_range: must be [first, last]" },
		{ "{\"port_range\": [40000]}", "dedicated.port_range" },
		{ "{\"port_range\": [40001, 40000]}", "dedicated.port_range" },
		{ "{\"port_range\": [80, 90]}", "dedicated.port_range" },
		{ "{\"port_range\": [40000, 70000]}", "dedicated.port_range" },
		{ "{\"port_range\": [40000.5, 40010]}", "dedicated.port_range" },
		{ "{\"port_range\": [\"40000\", 40010]}", "dedicated.port_range" },
		{ "{\"port_range\": [40000, 40010], \"base_dir\": 5}", "dedicated.base_dir" },
		{ "{\"port_range\": [40000, 40010], \"host\": \"a b\"}", "dedicated.host" },
		{ "{\"port_range\": [40000, 40010], \"host\": \"x;rm\"}", "dedicated.host" },
		{ "{\"port_range\": [40000, 40010], \"ports\": 1}", "dedicated.ports: unknown key" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK_INT(load_config(&c, bad[i].json, err, sizeof err), OSB_EBADREQUEST);
		CHECK(c == NULL);
		CHECK_CONTAINS(err, bad[i].message);
	}
}

/* After a failed case: no server of ours may outlive the test run. */
static void kill_leftovers(void)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	while (dir && (e = readdir(dir)) != NULL) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		char st;
		int ppid, pid = atoi(e->d_name);
		if (p && sscanf(p + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid()) {
			if (st != 'Z')
				fprintf(stderr, "left over: process %d, killing it\n", pid);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	if (dir)
		closedir(dir);
}

static void test_no_zombies_at_end(void)
{
	int alive, zombies;
	sleep_ms(600); /* a reaper pass */
	count_children(&alive, &zombies);
	CHECK_INT(zombies, 0);
	CHECK_INT(alive, 0);
}

int main(void)
{
	static const osb_test_case cases[] = {
		OSB_TEST_CASE(test_exec_exit_codes),
		OSB_TEST_CASE(test_exec_output),
		OSB_TEST_CASE(test_exec_no_shell),
		OSB_TEST_CASE(test_exec_timeout),
		OSB_TEST_CASE(test_exec_environment_and_errors),
		OSB_TEST_CASE(test_config_dedicated),
		OSB_TEST_CASE(test_bad_arguments),
		OSB_TEST_CASE(test_ensure_lookup_remove),
		OSB_TEST_CASE(test_two_instances_two_ports),
		OSB_TEST_CASE(test_restart_after_kill),
		OSB_TEST_CASE(test_port_range_exhausted),
		OSB_TEST_CASE(test_busy_port_skipped),
		OSB_TEST_CASE(test_failures_leave_nothing_running),
		OSB_TEST_CASE(test_readopt),
		OSB_TEST_CASE(test_readopt_failed_and_taken),
		OSB_TEST_CASE(test_stray_server_killed),
		OSB_TEST_CASE(test_parallel),
		OSB_TEST_CASE(test_environment_and_arguments),
		OSB_TEST_CASE(test_symlinks_not_followed),
		OSB_TEST_CASE(test_never_ready_says_why),
		OSB_TEST_CASE(test_no_zombies_at_end),
	};
	/* As in the broker: SIGTERM/SIGINT blocked (servers must get them unblocked), SIGPIPE ignored. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	osb_exec_result r;
	const char *which[] = { "redis-server", "--version", NULL };
	if (run(&r, which, 10000) != 0) {
		fprintf(stderr, "FATAL: redis-server is not installed (apt-get install -y redis-server)\n");
		osb_exec_result_free(&r);
		return 1;
	}
	osb_exec_result_free(&r);
	snprintf(tmp_root, sizeof tmp_root, "/tmp/osb-deployer-XXXXXX");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	int rc = osb_test_run(cases, sizeof cases / sizeof cases[0]);
	kill_leftovers();
	rm_rf(tmp_root);
	return rc;
}
