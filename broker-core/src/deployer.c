/* Dedicated plans (deployer.h): a server process per instance, recorded on disk, re-adopted at broker start. */
#include "deployer.h"

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

#include "broker_internal.h"
#include "deployer_internal.h"
#include "file_internal.h"
#include "osb/errors.h"
#include "osb/log.h"
#include "osb/names.h"

#define RECORD "deployment.json"
#define RECORD_TMP "deployment.json.tmp"
#define SERVER_LOG "server.log"
#define DEFAULT_START_TIMEOUT_MS 30000
#define STOP_GRACE_MS 10000
#define KILL_WAIT_MS 5000
#define POLL_MS 50
#define REAP_INTERVAL_MS 500
#define MAX_ARGS 256
#define MAX_ARG_BYTES 8192
#define MAX_RECORD_BYTES (512 * 1024)

/* One per instance with a call in progress: serializes calls on that instance. */
struct slot {
	char name[OSB_NAME_SIZE];
	pthread_mutex_t lock;
	int users;           /* threads holding or waiting for lock */
	struct slot *next;
};

/* A server we started: only these pids are ever waited for (exec.c waits for its own). */
struct child {
	pid_t pid;
	int reaped;          /* waitpid returned it */
	int status;          /* its wait status, -1 when unknown */
};

struct osb_deployer {
	char *base_dir;
	char *host;
	int port_first;
	int port_last;
	pthread_mutex_t lock;   /* slots, children, and port allocation with its record write */
	pthread_cond_t wake;    /* wakes the reaper to stop */
	struct slot *slots;
	struct child *children;
	size_t child_count;
	size_t child_cap;
	int stopping;
	pthread_t reaper;
};

/* The content of deployment.json. */
typedef struct {
	char kind[32];
	int port;
	int pid;                        /* 0 when not started */
	unsigned long long proc_start;  /* /proc/<pid>/stat start time: tells a reused pid apart */
	char *exe;                      /* resolved program */
	char **argv;                    /* after substitution, NULL-terminated */
	char **env;                     /* the spec's extra entries, NULL-terminated */
	int stop_signal;
	int start_timeout_ms;
	int prepared;                   /* prepare() succeeded for this port */
	char state[16];                 /* starting, running, failed */
	long long started_at;           /* unix time of the last start */
	char *error;                    /* why the last start failed */
} record;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int valid_name(const char *s)
{
	if (strncmp(s, "osb_", 4) != 0 || strlen(s) != OSB_NAME_SIZE - 1)
		return 0;
	for (const char *p = s + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void record_free(record *r)
{
	free(r->exe);
	free_strv(r->argv);
	free_strv(r->env);
	free(r->error);
	memset(r, 0, sizeof *r);
}

static void set_error(record *r, const char *why)
{
	free(r->error);
	r->error = why ? strdup(why) : NULL;
}

/*
 * Slots and children.
 */

static struct slot *slot_acquire(osb_deployer *d, const char *name)
{
	struct slot *s;
	pthread_mutex_lock(&d->lock);
	for (s = d->slots; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			break;
	if (!s && (s = calloc(1, sizeof *s)) != NULL) {
		snprintf(s->name, sizeof s->name, "%s", name);
		pthread_mutex_init(&s->lock, NULL);
		s->next = d->slots;
		d->slots = s;
	}
	if (s)
		s->users++;
	pthread_mutex_unlock(&d->lock);
	if (s)
		pthread_mutex_lock(&s->lock);
	return s;
}

static void slot_release(osb_deployer *d, struct slot *s)
{
	if (!s)
		return;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&d->lock);
	if (--s->users == 0) {
		for (struct slot **p = &d->slots; *p; p = &(*p)->next) {
			if (*p == s) {
				*p = s->next;
				break;
			}
		}
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Caller holds d->lock. waitpid only on our own pids, never -1, so exec.c's children stay its own. */
static void reap_locked(osb_deployer *d)
{
	for (size_t i = 0; i < d->child_count; i++) {
		struct child *c = &d->children[i];
		int status;
		if (c->reaped)
			continue;
		pid_t w = waitpid(c->pid, &status, WNOHANG);
		if (w == c->pid) {
			c->reaped = 1;
			c->status = status;
		} else if (w < 0 && errno == ECHILD) {
			c->reaped = 1;
			c->status = -1;
		}
	}
}

static void child_add(osb_deployer *d, pid_t pid)
{
	pthread_mutex_lock(&d->lock);
	size_t i;
	for (i = 0; i < d->child_count; i++)
		if (d->children[i].pid == pid)
			break;
	if (i == d->child_count && d->child_count == d->child_cap) {
		size_t cap = d->child_cap ? 2 * d->child_cap : 16;
		struct child *grown = realloc(d->children, cap * sizeof *grown);
		if (!grown) {
			/* It will be a zombie until the broker exits: worth a log line, not a failure. */
			pthread_mutex_unlock(&d->lock);
			osb_log(OSB_LOG_WARN, "deployer.reap", "out of memory: process %d will not be reaped", (int)pid);
			return;
		}
		d->children = grown;
		d->child_cap = cap;
	}
	if (i == d->child_count)
		d->child_count++;
	d->children[i] = (struct child){ pid, 0, -1 };
	pthread_mutex_unlock(&d->lock);
}

/* Drop a pid we no longer watch. @return its wait status when it was reaped, else -1. */
static int child_forget(osb_deployer *d, pid_t pid)
{
	int status = -1;
	pthread_mutex_lock(&d->lock);
	reap_locked(d);
	for (size_t i = 0; i < d->child_count; i++) {
		if (d->children[i].pid == pid && d->children[i].reaped) {
			status = d->children[i].status;
			d->children[i] = d->children[--d->child_count];
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return status;
}

static void *reaper_main(void *arg)
{
	osb_deployer *d = arg;
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec ts;
		reap_locked(d);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)REAP_INTERVAL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * Processes.
 */

/* Fields of /proc/<pid>/stat. @return 0, or -1 when there is no such process. */
static int proc_stat(int pid, char *state, int *ppid, int *sid, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	char st = 0;
	int pp = 0, session = 0;
	unsigned long long start_time = 0;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		if (field == 3)
			st = *p;
		else if (field == 4)
			pp = atoi(p);
		else if (field == 6)
			session = atoi(p);
		else if (field == 22)
			start_time = strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (state)
		*state = st;
	if (ppid)
		*ppid = pp;
	if (sid)
		*sid = session;
	if (start)
		*start = start_time;
	return 0;
}

/* Alive: exists, is no zombie, and (when known) started when the recorded process did. */
static int pid_alive(osb_deployer *d, int pid, unsigned long long start)
{
	char st;
	unsigned long long t;
	if (pid <= 0)
		return 0;
	pthread_mutex_lock(&d->lock);
	reap_locked(d);
	pthread_mutex_unlock(&d->lock);
	if (proc_stat(pid, &st, NULL, NULL, &t) != 0 || st == 'Z' || st == 'X' || st == 'x')
		return 0;
	return start == 0 || t == start;
}

/*
 * Gone: our child once waitpid returned it (a multi-threaded server shows 'Z'
 * while its other threads still exit and hold its sockets); another process
 * once it is no longer alive (its parent reaps it, not us).
 */
static int pid_gone(osb_deployer *d, int pid, unsigned long long start)
{
	int ours = 0, reaped = 0;
	pthread_mutex_lock(&d->lock);
	reap_locked(d);
	for (size_t i = 0; i < d->child_count; i++) {
		if (d->children[i].pid == pid) {
			ours = 1;
			reaped = d->children[i].reaped;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ours ? reaped : !pid_alive(d, pid, start);
}

static const char *base_name(const char *s, size_t len, size_t *out_len)
{
	const char *b = s;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/')
			b = s + i + 1;
	*out_len = len - (size_t)(b - s);
	return b;
}

/*
 * /proc/<pid>/cmdline names the recorded program. Servers rewrite their title
 * ("redis-server 127.0.0.1:6379"), so words are compared by base name; a
 * script's first word is its interpreter, so the second one counts too.
 */
static int cmdline_matches(int pid, const char *argv0)
{
	char path[64], buf[4096];
	size_t want_len;
	const char *want = base_name(argv0, strlen(argv0), &want_len);
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0 || want_len == 0)
		return 0;
	buf[n] = '\0';
	const char *p = buf, *end = buf + n;
	for (int word = 0; word < 2 && p < end; word++) {
		size_t len = strcspn(p, " "), got_len;
		const char *got = base_name(p, len, &got_len);
		if (got_len == want_len && memcmp(got, want, got_len) == 0)
			return 1;
		p += len + 1;
	}
	return 0;
}

/*
 * The recorded server runs: its pid is alive and is the process we started.
 * The start time in /proc/<pid>/stat proves that even when a wrapper script
 * exec'd another program or the server renamed itself; without it, the
 * command line must name the recorded program.
 */
static int rec_running(osb_deployer *d, const record *r)
{
	if (r->pid <= 0 || !r->argv || !pid_alive(d, r->pid, r->proc_start))
		return 0;
	return r->proc_start != 0 || cmdline_matches(r->pid, r->argv[0]);
}

/*
 * A recorded server that died as our child while no deployer watched it (the
 * deployer was recreated in this process): the pid and its start time prove it
 * is ours, so reaping it cannot steal another module's child.
 */
static int port_bindable(int port);

static void reap_orphan(const record *r)
{
	char st;
	int ppid;
	unsigned long long t;
	if (r->pid > 0 && r->proc_start && proc_stat(r->pid, &st, &ppid, NULL, &t) == 0 && st == 'Z' &&
	    ppid == (int)getpid() && t == r->proc_start) {
		/* Its last threads may still be exiting: give them a moment. */
		for (int i = 0; i < 100 && waitpid(r->pid, NULL, WNOHANG) == 0; i++)
			sleep_ms(10);
	}
}

/* A dead server's port may be held a moment longer by its exiting threads. */
static int port_bindable_within(int port, int ms)
{
	long long deadline = osb_clock_ms() + ms;
	while (!port_bindable(port)) {
		if (osb_clock_ms() >= deadline)
			return 0;
		sleep_ms(POLL_MS);
	}
	return 1;
}

static int wait_gone(osb_deployer *d, int pid, unsigned long long start, int ms)
{
	long long deadline = osb_clock_ms() + ms;
	while (!pid_gone(d, pid, start)) {
		if (osb_clock_ms() >= deadline)
			return -1;
		sleep_ms(POLL_MS);
	}
	return 0;
}

/*
 * Stop a server: its stop signal to the process, then SIGKILL to its whole
 * process group (it leads its own session). A re-adopted server is not our
 * child, so "gone" means no process or a zombie someone else must reap.
 * @return 0 once it is gone, -1 when it survived SIGKILL.
 */
static int stop_process(osb_deployer *d, int pid, unsigned long long start, int sig)
{
	if (pid_gone(d, pid, start))
		return 0;
	int group = getpgid(pid) == pid;
	if (sig > 0) {
		kill(pid, sig);
		if (wait_gone(d, pid, start, STOP_GRACE_MS) == 0)
			return 0;
		osb_log(OSB_LOG_WARN, "deployer.stop", "process %d ignored signal %d for %d s, killing it", pid, sig,
			STOP_GRACE_MS / 1000);
	}
	kill(group ? -pid : pid, SIGKILL);
	return wait_gone(d, pid, start, KILL_WAIT_MS);
}

/*
 * A server whose pid never reached the record (the broker died between the
 * start and the record's write) still runs in the instance's directory. Find
 * such strays by what we started them as: session leaders whose working
 * directory is in `dirpath` and whose command line names the program. An
 * operator's shell in that directory has another name and is left alone.
 */
static void kill_strays(osb_deployer *d, const char *dirpath, const char *argv0, int known_pid)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	size_t dlen = strlen(dirpath);
	while (proc && (e = readdir(proc)) != NULL) {
		char link[64], cwd[4096];
		int sid;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		int pid = atoi(e->d_name);
		if (pid == known_pid || pid == (int)getpid())
			continue;
		snprintf(link, sizeof link, "/proc/%d/cwd", pid);
		ssize_t n = readlink(link, cwd, sizeof cwd - 1);
		if (n < (ssize_t)dlen)
			continue;
		cwd[n] = '\0';
		if (memcmp(cwd, dirpath, dlen) != 0 || (cwd[dlen] != '\0' && cwd[dlen] != '/'))
			continue;
		if (proc_stat(pid, NULL, NULL, &sid, NULL) != 0 || sid != pid || !pid_alive(d, pid, 0) ||
		    !cmdline_matches(pid, argv0))
			continue;
		osb_log(OSB_LOG_WARN, "deployer.stray", "process %d runs in %s without a record (a broker stopped while "
			"starting it): killing it", pid, dirpath);
		int ppid = 0;
		proc_stat(pid, NULL, &ppid, NULL, NULL);
		kill(-pid, SIGKILL);
		if (wait_gone(d, pid, 0, KILL_WAIT_MS) != 0)
			osb_log(OSB_LOG_ERROR, "deployer.stray", "process %d survived SIGKILL", pid);
		/* Our child that no deployer watched (one was freed in this process): reap it, it is a server we started. */
		for (int i = 0; ppid == (int)getpid() && i < 100 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			sleep_ms(10);
	}
	if (proc)
		closedir(proc);
}

/*
 * Files. Instance directories are opened with O_NOFOLLOW and everything inside
 * them through the directory's descriptor, so a symlink never leads out of base_dir.
 */

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, mode) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int open_base(const osb_deployer *d, int create)
{
	if (create && mkdir_p(d->base_dir, 0700) != 0)
		return -1;
	return open(d->base_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int open_instance(int basefd, const char *name, int create)
{
	if (!valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	if (create && mkdirat(basefd, name, 0700) != 0 && errno != EEXIST)
		return -1;
	return openat(basefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static cJSON *strv_json(char *const *v)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && v && v[i]; i++) {
		cJSON *s = cJSON_CreateString(v[i]);
		if (!s) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, s);
	}
	return a;
}

/* Write tmp, fsync, rename, fsync the directory: a killed broker leaves the old record or the new one. */
static int record_write(int dirfd, const char *name, const record *r)
{
	int rc = OSB_ERROR, fd = -1;
	char *text = NULL, stamp[32] = "";
	cJSON *o = cJSON_CreateObject();
	struct tm tm;
	time_t t = (time_t)r->started_at;

	if (!o)
		return OSB_ENOMEM;
	if (r->started_at && gmtime_r(&t, &tm))
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON *argv = strv_json(r->argv), *env = strv_json(r->env);
	if (!argv || !env) {
		cJSON_Delete(argv);
		cJSON_Delete(env);
		rc = OSB_ENOMEM;
		goto done;
	}
	cJSON_AddStringToObject(o, "instance", name);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddStringToObject(o, "state", r->state);
	cJSON_AddNumberToObject(o, "port", r->port);
	cJSON_AddNumberToObject(o, "pid", r->pid);
	cJSON_AddNumberToObject(o, "proc_start", (double)r->proc_start);
	cJSON_AddStringToObject(o, "exe", r->exe ? r->exe : "");
	cJSON_AddItemToObject(o, "argv", argv);
	cJSON_AddItemToObject(o, "env", env);
	cJSON_AddNumberToObject(o, "stop_signal", r->stop_signal);
	cJSON_AddNumberToObject(o, "start_timeout_ms", r->start_timeout_ms);
	cJSON_AddBoolToObject(o, "prepared", r->prepared);
	cJSON_AddNumberToObject(o, "started_at", (double)r->started_at);
	cJSON_AddStringToObject(o, "started", stamp);
	if (r->error)
		cJSON_AddStringToObject(o, "error", r->error);
	if (!(text = cJSON_Print(o))) {
		rc = OSB_ENOMEM;
		goto done;
	}
	fd = openat(dirfd, RECORD_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 || fsync(fd) != 0)
		goto done;
	close(fd);
	fd = -1;
	if (renameat(dirfd, RECORD_TMP, dirfd, RECORD) != 0 || fsync(dirfd) != 0)
		goto done;
	rc = 0;
done:
	if (rc == OSB_ERROR)
		osb_log(OSB_LOG_ERROR, "deployer.record", "cannot write the record of %s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
	cJSON_Delete(o);
	return rc;
}

static char **json_strv(const cJSON *a, int need_one)
{
	if (!cJSON_IsArray(a))
		return NULL;
	int n = cJSON_GetArraySize(a);
	if (n > MAX_ARGS || (need_one && n < 1))
		return NULL;
	char **v = calloc((size_t)n + 1, sizeof *v);
	int i = 0;
	for (const cJSON *c = a->child; v && c; c = c->next, i++) {
		if (!cJSON_IsString(c) || !(v[i] = strdup(c->valuestring))) {
			free_strv(v);
			return NULL;
		}
	}
	return v;
}

static int json_int(const cJSON *o, const char *key, long long min, long long max, long long fallback, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v) {
		*out = fallback;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max)
		return -1;
	*out = (long long)v->valuedouble;
	return 0;
}

/* @return 0, OSB_ENOTFOUND (no record) or OSB_ERROR (unreadable: logged). */
static int record_read(int dirfd, const char *name, record *r)
{
	int rc = OSB_ERROR;
	char *text = NULL;
	cJSON *o = NULL;
	long long v;
	memset(r, 0, sizeof *r);
	int fd = openat(dirfd, RECORD, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return OSB_ENOTFOUND;
		goto done;
	}
	text = malloc(MAX_RECORD_BYTES + 1);
	size_t len = 0;
	while (text && len < MAX_RECORD_BYTES) {
		ssize_t n = read(fd, text + len, MAX_RECORD_BYTES - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!text)
		goto done;
	o = cJSON_ParseWithLength(text, len);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(o, "state");
	const cJSON *exe = cJSON_GetObjectItemCaseSensitive(o, "exe");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (!cJSON_IsObject(o) || !cJSON_IsString(kind) || !cJSON_IsString(state) ||
	    strlen(kind->valuestring) >= sizeof r->kind || strlen(state->valuestring) >= sizeof r->state)
		goto done;
	snprintf(r->kind, sizeof r->kind, "%s", kind->valuestring);
	snprintf(r->state, sizeof r->state, "%s", state->valuestring);
	if (json_int(o, "port", 1, 65535, -1, &v) || v < 0)
		goto done;
	r->port = (int)v;
	if (json_int(o, "pid", 0, 4194304, 0, &v))
		goto done;
	r->pid = (int)v;
	if (json_int(o, "proc_start", 0, 9007199254740992LL, 0, &v))
		goto done;
	r->proc_start = (unsigned long long)v;
	if (json_int(o, "stop_signal", 1, 64, SIGTERM, &v))
		goto done;
	r->stop_signal = (int)v;
	if (json_int(o, "start_timeout_ms", 1, 86400000, DEFAULT_START_TIMEOUT_MS, &v))
		goto done;
	r->start_timeout_ms = (int)v;
	if (json_int(o, "started_at", 0, 1LL << 40, 0, &v))
		goto done;
	r->started_at = v;
	r->prepared = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "prepared"));
	if (!(r->argv = json_strv(cJSON_GetObjectItemCaseSensitive(o, "argv"), 1)) ||
	    !(r->env = json_strv(cJSON_GetObjectItemCaseSensitive(o, "env"), 0)))
		goto done;
	if (cJSON_IsString(exe) && exe->valuestring[0] && !(r->exe = strdup(exe->valuestring)))
		goto done;
	if (cJSON_IsString(error) && !(r->error = strdup(error->valuestring)))
		goto done;
	rc = 0;
done:
	if (rc) {
		osb_log(OSB_LOG_ERROR, "deployer.record", "the record of %s is unreadable or invalid", name);
		record_free(r);
	}
	cJSON_Delete(o);
	free(text);
	return rc;
}

/* Delete a tree without following symlinks: links are unlinked, never entered. */
/* The last lines of server.log, on one line, for the failure log (a server's own messages, no credentials). */
static void log_tail(int dirfd, char *out, size_t size)
{
	char buf[2048];
	out[0] = '\0';
	int fd = openat(dirfd, SERVER_LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	/* Keep the last 5 lines. */
	char *start = buf + n;
	for (int lines = 0; start > buf; start--) {
		if (start[-1] == '\n' && ++lines == 5)
			break;
	}
	size_t o = 0;
	for (const char *p = start; *p && o + 4 < size; p++) {
		if (*p == '\n') {
			memcpy(out + o, " | ", 3);
			o += 3;
		} else {
			out[o++] = (*p >= 32 && *p < 127) ? *p : '?';
		}
	}
	out[o] = '\0';
}

/*
 * Ports.
 */

/* Nothing listens on it (SO_REUSEADDR, as servers bind, so TIME_WAIT does not count). */
static int port_bindable(int port)
{
	const in_addr_t addrs[2] = { htonl(INADDR_LOOPBACK), htonl(INADDR_ANY) };
	for (int i = 0; i < 2; i++) {
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa;
		if (fd < 0)
			return 0;
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = addrs[i];
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (!ok)
			return 0;
	}
	return 1;
}

/*
 * Caller holds d->lock (and writes its record before releasing it, so two
 * instances never get the same port). Ports of other records stay taken even
 * when their server is stopped: they come back to the same port.
 * @return a port, or 0 when the range is full.
 */
static int allocate_port(osb_deployer *d, int basefd, const char *self, int prefer)
{
	size_t span = (size_t)(d->port_last - d->port_first + 1);
	unsigned char *used = calloc(span, 1);
	int port = 0;
	if (!used)
		return 0;
	int fd = dup(basefd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir && fd >= 0)
		close(fd);
	struct dirent *e;
	while (dir && (e = readdir(dir)) != NULL) {
		record r;
		if (!valid_name(e->d_name) || strcmp(e->d_name, self) == 0)
			continue;
		int ifd = open_instance(basefd, e->d_name, 0);
		if (ifd < 0)
			continue;
		if (record_read(ifd, e->d_name, &r) == 0) {
			if (r.port >= d->port_first && r.port <= d->port_last)
				used[r.port - d->port_first] = 1;
			record_free(&r);
		}
		close(ifd);
	}
	if (dir)
		closedir(dir);
	if (prefer >= d->port_first && prefer <= d->port_last && !used[prefer - d->port_first] && port_bindable(prefer))
		port = prefer;
	for (int p = d->port_first; !port && p <= d->port_last; p++)
		if (!used[p - d->port_first] && port_bindable(p))
			port = p;
	free(used);
	return port;
}

/*
 * Starting and waiting.
 */

static char *substitute(const char *s, int port, const char *dir)
{
	char port_text[16];
	size_t cap = strlen(s) + 1, len = 0;
	snprintf(port_text, sizeof port_text, "%d", port);
	for (const char *p = s; (p = strchr(p, '{')) != NULL; p++)
		cap += strlen(dir) + sizeof port_text;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		const char *with = NULL;
		if (strncmp(p, "{port}", 6) == 0) {
			with = port_text;
			p += 6;
		} else if (strncmp(p, "{dir}", 5) == 0) {
			with = dir;
			p += 5;
		}
		if (with) {
			memcpy(out + len, with, strlen(with));
			len += strlen(with);
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return out;
}

static char **substitute_strv(const char *const *v, int port, const char *dir)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++) {
		if (!(out[i] = substitute(v[i], port, dir))) {
			free_strv(out);
			return NULL;
		}
	}
	return out;
}

static int has_var(char *const *env, const char *prefix)
{
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

/*
 * Start the recorded program: new session, output to server.log, working
 * directory the instance's. Its environment is the spec's entries plus PATH
 * and HOME, never the broker's own (which may hold secrets).
 */
static int start_server(osb_deployer *d, int dirfd, const char *dirpath, const char *name, record *r)
{
	char exe[4096], path_var[4200], home_var[600];
	char *envp[MAX_ARGS + 3];
	size_t n = 0;
	int logfd = -1, rc = OSB_EBACKEND;

	if ((!r->exe || osb_exec__resolve(exe, sizeof exe, r->exe) != 0) &&
	    osb_exec__resolve(exe, sizeof exe, r->argv[0]) != 0) {
		char why[256];
		snprintf(why, sizeof why, "cannot find program %.100s: %s", r->argv[0], strerror(errno));
		set_error(r, why);
		goto done;
	}
	free(r->exe);
	if (!(r->exe = strdup(exe))) {
		rc = OSB_ENOMEM;
		goto done;
	}
	for (size_t i = 0; r->env && r->env[i] && n < MAX_ARGS; i++)
		envp[n++] = r->env[i];
	snprintf(path_var, sizeof path_var, "PATH=%s", osb_exec__path());
	snprintf(home_var, sizeof home_var, "HOME=%s", dirpath);
	if (!has_var(r->env, "PATH="))
		envp[n++] = path_var;
	if (!has_var(r->env, "HOME="))
		envp[n++] = home_var;
	envp[n] = NULL;

	logfd = openat(dirfd, SERVER_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0) {
		set_error(r, "cannot open server.log");
		goto done;
	}
	pid_t pid;
	int e = osb_exec__spawn(&pid, exe, r->argv, envp, dirpath, -1, logfd, logfd, 1);
	if (e != 0) {
		char why[256];
		snprintf(why, sizeof why, "cannot start %.100s: %s", exe, strerror(e));
		set_error(r, why);
		goto done;
	}
	child_add(d, pid);
	r->pid = (int)pid;
	r->proc_start = 0;
	proc_stat(r->pid, NULL, NULL, NULL, &r->proc_start);
	r->started_at = (long long)time(NULL);
	snprintf(r->state, sizeof r->state, "starting");
	set_error(r, NULL);
	/* Record the pid at once: a broker killed now must find this server again. */
	rc = record_write(dirfd, name, r);
done:
	if (logfd >= 0)
		close(logfd);
	return rc;
}

/* A TCP connection to 127.0.0.1:port is accepted within 250 ms. */
static int tcp_ready(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc = -1;
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		rc = 0;
	} else if (errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int err = 0;
		socklen_t len = sizeof err;
		if (poll(&p, 1, 250) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			rc = 0;
	}
	close(fd);
	return rc;
}

static void describe_exit(int status, char *why, size_t size)
{
	if (status >= 0 && WIFEXITED(status))
		snprintf(why, size, "exited during start-up with status %d", WEXITSTATUS(status));
	else if (status >= 0 && WIFSIGNALED(status))
		snprintf(why, size, "was killed by signal %d during start-up", WTERMSIG(status));
	else
		snprintf(why, size, "exited during start-up");
}

/*
 * Poll readiness every 50 ms: the spec's ready(), or a TCP connect when there
 * is no spec (re-adoption at start-up). @return 0, or -1 with why set.
 */
static int wait_ready(osb_deployer *d, const record *r, const char *dirpath, const osb_process_spec *spec,
		      char *why, size_t why_size)
{
	long long deadline = osb_clock_ms() + r->start_timeout_ms;
	for (;;) {
		if (!pid_alive(d, r->pid, r->proc_start)) {
			wait_gone(d, r->pid, r->proc_start, 1000);
			describe_exit(child_forget(d, r->pid), why, why_size);
			return -1;
		}
		if (spec ? spec->ready(r->port, dirpath, spec->payload) == 0 : tcp_ready(r->port) == 0)
			return 0;
		if (osb_clock_ms() >= deadline) {
			snprintf(why, why_size, "not ready on port %d after %d ms", r->port, r->start_timeout_ms);
			return -1;
		}
		sleep_ms(POLL_MS);
	}
}

/* Kill a server that failed to start, record why, and log it with the end of server.log. */
static void fail_start(osb_deployer *d, int dirfd, const char *name, record *r, const char *why)
{
	char tail[700];
	if (r->pid > 0) {
		if (stop_process(d, r->pid, r->proc_start, 0) != 0)
			osb_log(OSB_LOG_ERROR, "deployer.stop", "process %d of %s survived SIGKILL", r->pid, name);
		child_forget(d, r->pid);
	}
	r->pid = 0;
	r->proc_start = 0;
	snprintf(r->state, sizeof r->state, "failed");
	set_error(r, why);
	record_write(dirfd, name, r);
	log_tail(dirfd, tail, sizeof tail);
	osb_log(OSB_LOG_ERROR, "deployer.start_failed", "%s server of %s %s%s%s", r->kind, name, why,
		tail[0] ? "; server.log ends: " : "", tail);
}

static void fill_out(osb_deployment *out, const record *r, const char *dirpath)
{
	out->port = r->port;
	out->pid = r->pid;
	snprintf(out->dir, sizeof out->dir, "%s", dirpath);
}

static int check_spec(const osb_process_spec *spec)
{
	size_t n = 0;
	if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0] || !spec->ready)
		return -1;
	for (; spec->argv[n]; n++)
		if (n >= MAX_ARGS || strlen(spec->argv[n]) > MAX_ARG_BYTES)
			return -1;
	for (n = 0; spec->env && spec->env[n]; n++) {
		const char *eq = strchr(spec->env[n], '=');
		if (n >= MAX_ARGS || !eq || eq == spec->env[n] || strlen(spec->env[n]) > MAX_ARG_BYTES)
			return -1;
	}
	if (spec->kind && strlen(spec->kind) >= sizeof ((record *)0)->kind)
		return -1;
	return spec->stop_signal < 0 || spec->stop_signal > 64 ? -1 : 0;
}

/*
 * Public API.
 */

int osb_deployer_ensure(osb_deployer *d, const char *instance_id, const osb_process_spec *spec, osb_deployment *out)
{
	char name[OSB_NAME_SIZE], dirpath[sizeof out->dir], why[256];
	record r;
	int rc = OSB_ERROR, basefd = -1, dirfd = -1, have = 0, port = 0;
	struct slot *s = NULL;

	memset(&r, 0, sizeof r);
	if (out)
		memset(out, 0, sizeof *out);
	if (!d || !instance_id || !*instance_id || !out || check_spec(spec) != 0) {
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "invalid arguments (instance id, process spec or output)");
		return OSB_ERROR;
	}
	osb_name_instance(name, instance_id);
	snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, name);
	if (!(s = slot_acquire(d, name)))
		return OSB_ENOMEM;
	if ((basefd = open_base(d, 1)) < 0) {
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "cannot create or open %s: %s", d->base_dir, strerror(errno));
		goto done;
	}
	dirfd = open_instance(basefd, name, 0);
	if (dirfd < 0 && errno != ENOENT) {
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "%s is not a directory we can use: %s", dirpath, strerror(errno));
		goto done;
	}
	if (dirfd >= 0) {
		int r_rc = record_read(dirfd, name, &r);
		if (r_rc == OSB_ERROR)
			goto done;
		have = r_rc == 0;
	}

	if (have && rec_running(d, &r)) {
		/* Still starting (a re-adopted restart, say): wait as long as this caller may. */
		r.start_timeout_ms = spec->start_timeout_ms > 0 ? spec->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
		if (wait_ready(d, &r, dirpath, spec, why, sizeof why) != 0) {
			fail_start(d, dirfd, name, &r, why);
			rc = OSB_EBACKEND;
			goto done;
		}
		if (strcmp(r.state, "running") != 0) {
			snprintf(r.state, sizeof r.state, "running");
			record_write(dirfd, name, &r);
		}
		fill_out(out, &r, dirpath);
		rc = 0;
		goto done;
	}
	if (have && r.pid > 0) {
		/* Dead or dying: let it finish exiting so that its port is free again. */
		wait_gone(d, r.pid, r.proc_start, KILL_WAIT_MS);
		child_forget(d, r.pid);
		reap_orphan(&r);
	}
	if (have) {
		kill_strays(d, dirpath, r.argv[0], 0);
		port_bindable_within(r.port, 1000);
	}

	/* Reserve a port: choose and record it under the deployer's lock. */
	pthread_mutex_lock(&d->lock);
	port = allocate_port(d, basefd, name, have ? r.port : 0);
	if (port && dirfd < 0 && (dirfd = open_instance(basefd, name, 1)) < 0)
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "cannot create %s: %s", dirpath, strerror(errno));
	if (port && dirfd >= 0) {
		if (port != r.port)
			r.prepared = 0; /* a configuration rendered for another port is stale */
		r.port = port;
		r.pid = 0;
		r.proc_start = 0;
		snprintf(r.kind, sizeof r.kind, "%s", spec->kind ? spec->kind : "server");
		snprintf(r.state, sizeof r.state, "starting");
		r.stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
		r.start_timeout_ms = spec->start_timeout_ms > 0 ? spec->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
		free_strv(r.argv);
		free_strv(r.env);
		r.env = NULL;
		if (!(r.argv = substitute_strv(spec->argv, port, dirpath)) ||
		    !(r.env = substitute_strv(spec->env, port, dirpath)))
			rc = OSB_ENOMEM;
		else
			rc = record_write(dirfd, name, &r);
	}
	pthread_mutex_unlock(&d->lock);
	if (!port) {
		osb_log(OSB_LOG_ERROR, "deployer.no_port", "no free port in %d-%d for the %s server of %s", d->port_first,
			d->port_last, spec->kind ? spec->kind : "dedicated", name);
		rc = OSB_EBACKEND;
		goto done;
	}
	if (dirfd < 0 || rc != 0)
		goto done;

	if (!r.prepared && spec->prepare) {
		int p_rc = spec->prepare(dirpath, port, spec->payload);
		if (p_rc != 0) {
			snprintf(why, sizeof why, "prepare failed: %s", osb_strerror(p_rc));
			fail_start(d, dirfd, name, &r, why);
			rc = p_rc < 0 && p_rc > OSB_ERROR_LAST ? p_rc : OSB_ERROR;
			goto done;
		}
	}
	r.prepared = 1;
	rc = start_server(d, dirfd, dirpath, name, &r);
	if (rc != 0) {
		snprintf(why, sizeof why, "%s", r.error ? r.error : "cannot start");
		fail_start(d, dirfd, name, &r, why);
		rc = rc == OSB_ENOMEM ? OSB_ENOMEM : OSB_EBACKEND;
		goto done;
	}
	if (wait_ready(d, &r, dirpath, spec, why, sizeof why) != 0) {
		fail_start(d, dirfd, name, &r, why);
		rc = OSB_EBACKEND;
		goto done;
	}
	snprintf(r.state, sizeof r.state, "running");
	if ((rc = record_write(dirfd, name, &r)) != 0) {
		fail_start(d, dirfd, name, &r, "cannot record the running server");
		goto done;
	}
	osb_log(OSB_LOG_INFO, "deployer.started", "%s server of %s runs on port %d (pid %d)", r.kind, name, r.port, r.pid);
	fill_out(out, &r, dirpath);
done:
	if (dirfd >= 0)
		close(dirfd);
	if (basefd >= 0)
		close(basefd);
	record_free(&r);
	slot_release(d, s);
	return rc;
}

int osb_deployer_remove(osb_deployer *d, const char *instance_id)
{
	char name[OSB_NAME_SIZE];

	if (!d || !instance_id || !*instance_id)
		return OSB_ERROR;
	osb_name_instance(name, instance_id);
	return osb_deployer_remove_name(d, name);
}

int osb_deployer_remove_name(osb_deployer *d, const char *name)
{
	record r;
	int rc = OSB_ERROR, basefd = -1, dirfd = -1;
	struct slot *s = NULL;

	memset(&r, 0, sizeof r);
	if (!d || !valid_name(name))
		return OSB_ERROR;
	if (!(s = slot_acquire(d, name)))
		return OSB_ENOMEM;
	if ((basefd = open_base(d, 0)) < 0) {
		rc = errno == ENOENT ? 0 : OSB_ERROR;
		goto done;
	}
	dirfd = open_instance(basefd, name, 0);
	if (dirfd >= 0) {
		int r_rc = record_read(dirfd, name, &r);
		if (r_rc == OSB_ERROR)
			osb_log(OSB_LOG_WARN, "deployer.remove", "deleting %s without a readable record: a server may still run",
				name);
		if (r_rc == 0 && r.pid > 0) {
			if (rec_running(d, &r) && stop_process(d, r.pid, r.proc_start, r.stop_signal) != 0) {
				osb_log(OSB_LOG_ERROR, "deployer.remove", "the %s server of %s (pid %d) does not stop", r.kind,
					name, r.pid);
				goto done;
			}
			child_forget(d, r.pid);
		}
		if (r_rc == 0) {
			char dirpath[sizeof ((osb_deployment *)0)->dir];
			snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, name);
			kill_strays(d, dirpath, r.argv[0], 0);
		}
		close(dirfd);
		dirfd = -1;
	} else if (errno == ENOENT) {
		rc = 0;
		goto done;
	}
	/* The name is an osb_ name under basefd: nothing outside base_dir can be reached. */
	if (osb_file_remove_tree(basefd, name) != 0) {
		osb_log(OSB_LOG_ERROR, "deployer.remove", "cannot delete %s/%s: %s", d->base_dir, name, strerror(errno));
		goto done;
	}
	if (r.port)
		osb_log(OSB_LOG_INFO, "deployer.removed", "%s server of %s stopped and deleted (port %d released)", r.kind,
			name, r.port);
	rc = 0;
done:
	if (dirfd >= 0)
		close(dirfd);
	if (basefd >= 0)
		close(basefd);
	record_free(&r);
	slot_release(d, s);
	return rc;
}

int osb_deployer_lookup(osb_deployer *d, const char *instance_id, osb_deployment *out)
{
	char name[OSB_NAME_SIZE];
	record r;
	int rc = OSB_ENOTFOUND, basefd = -1, dirfd = -1;

	if (out)
		memset(out, 0, sizeof *out);
	if (!d || !instance_id || !*instance_id || !out)
		return OSB_ERROR;
	osb_name_instance(name, instance_id);
	/* No slot lock: records are replaced atomically, and a lookup must not wait for a start. */
	if ((basefd = open_base(d, 0)) < 0 || (dirfd = open_instance(basefd, name, 0)) < 0)
		goto done;
	if ((rc = record_read(dirfd, name, &r)) != 0) {
		rc = OSB_ENOTFOUND;
		goto done;
	}
	out->port = r.port;
	out->pid = strcmp(r.state, "running") == 0 ? r.pid : 0;
	snprintf(out->dir, sizeof out->dir, "%s/%s", d->base_dir, name);
	record_free(&r);
done:
	if (dirfd >= 0)
		close(dirfd);
	if (basefd >= 0)
		close(basefd);
	return rc;
}

/*
 * Core life cycle.
 */

int osb_deployer__create(osb_deployer **out, const osb_deployer_options *o)
{
	pthread_condattr_t ca;
	osb_deployer *d;

	*out = NULL;
	if (!o || !o->base_dir || !o->base_dir[0] || o->port_first < 1024 || o->port_last > 65535 ||
	    o->port_first > o->port_last)
		return OSB_EBADREQUEST;
	/* base_dir + "/" + name + "/" + a file name must fit osb_deployment.dir and our buffers. */
	if (strlen(o->base_dir) + OSB_NAME_SIZE + 1 > sizeof ((osb_deployment *)0)->dir)
		return OSB_EBADREQUEST;
	if (!(d = calloc(1, sizeof *d)))
		return OSB_ENOMEM;
	d->base_dir = strdup(o->base_dir);
	d->host = strdup(o->host ? o->host : "127.0.0.1");
	d->port_first = o->port_first;
	d->port_last = o->port_last;
	if (!d->base_dir || !d->host) {
		free(d->base_dir);
		free(d->host);
		free(d);
		return OSB_ENOMEM;
	}
	/* Keep trailing slashes out of the paths we build. */
	for (size_t n = strlen(d->base_dir); n > 1 && d->base_dir[n - 1] == '/'; n--)
		d->base_dir[n - 1] = '\0';
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->reaper, NULL, reaper_main, d) != 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d->base_dir);
		free(d->host);
		free(d);
		return OSB_ENOMEM;
	}
	*out = d;
	return 0;
}

void osb_deployer__free(osb_deployer *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->reaper, NULL);
	while (d->slots) {
		struct slot *s = d->slots;
		d->slots = s->next;
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
	free(d->children);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d->base_dir);
	free(d->host);
	free(d);
}

const char *osb_deployer_base_dir(const osb_deployer *d)
{
	return d->base_dir;
}

int osb_deployer_list(osb_deployer *d, int (*cb)(const char *name, void *payload), void *payload)
{
	int basefd = open_base(d, 0), fd = -1, rc = 0;
	DIR *dir = NULL;
	struct dirent *e;

	if (basefd < 0)
		return errno == ENOENT ? 0 : OSB_ERROR;
	if ((fd = dup(basefd)) < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		close(basefd);
		return OSB_ERROR;
	}
	while (rc == 0 && (e = readdir(dir)) != NULL)
		if (valid_name(e->d_name))
			rc = cb(e->d_name, payload);
	closedir(dir);
	close(basefd);
	return rc;
}

const char *osb_deployer_host(const osb_deployer *d)
{
	return d ? d->host : "127.0.0.1";
}

/* A server restarted by readopt, waiting for its port. */
typedef struct {
	char name[OSB_NAME_SIZE];
	record rec;
} pending;

int osb_deployer__readopt(osb_deployer *d)
{
	int failures = 0, adopted = 0, restarted = 0, basefd, fd;
	pending *wait = NULL;
	size_t waiting = 0, cap = 0;
	DIR *dir = NULL;
	struct dirent *e;

	if (!d)
		return 0;
	if ((basefd = open_base(d, 0)) < 0) {
		if (errno == ENOENT)
			return 0;
		osb_log(OSB_LOG_ERROR, "deployer.readopt", "cannot open %s: %s", d->base_dir, strerror(errno));
		return 1;
	}
	if ((fd = dup(basefd)) < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		close(basefd);
		return 1;
	}
	/* First pass: adopt the living, start the dead ones (all at once, so their start-ups overlap). */
	while ((e = readdir(dir)) != NULL) {
		record r;
		char dirpath[sizeof ((osb_deployment *)0)->dir];
		if (!valid_name(e->d_name))
			continue;
		snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, e->d_name);
		struct slot *s = slot_acquire(d, e->d_name);
		int ifd = s ? open_instance(basefd, e->d_name, 0) : -1;
		if (ifd < 0) {
			osb_log(OSB_LOG_WARN, "deployer.readopt", "skipping %s: not a directory we can use", dirpath);
			slot_release(d, s);
			continue;
		}
		if (record_read(ifd, e->d_name, &r) != 0) {
			/* A directory without a record is an ensure() that stopped before reserving a port. */
			close(ifd);
			slot_release(d, s);
			continue;
		}
		if (rec_running(d, &r)) {
			int ppid = 0;
			/* Still our child when only the deployer, not the process, was restarted. */
			if (proc_stat(r.pid, NULL, &ppid, NULL, NULL) == 0 && ppid == (int)getpid())
				child_add(d, r.pid);
			adopted++;
			osb_log(OSB_LOG_INFO, "deployer.adopted", "%s server of %s adopted: pid %d, port %d", r.kind, e->d_name,
				r.pid, r.port);
			record_free(&r);
			close(ifd);
			slot_release(d, s);
			continue;
		}
		reap_orphan(&r);
		kill_strays(d, dirpath, r.argv[0], 0);
		if (strcmp(r.state, "failed") == 0 || !r.prepared) {
			osb_log(OSB_LOG_INFO, "deployer.readopt", "%s server of %s left stopped (%s); the driver's next ensure starts it",
				r.kind, e->d_name, strcmp(r.state, "failed") == 0 ? "its last start failed" : "never prepared");
			record_free(&r);
		} else if (!port_bindable_within(r.port, 1000)) {
			char why[128];
			snprintf(why, sizeof why, "port %d is taken by another process", r.port);
			fail_start(d, ifd, e->d_name, &r, why);
			record_free(&r);
			failures++;
		} else if (start_server(d, ifd, dirpath, e->d_name, &r) != 0) {
			char why[256];
			snprintf(why, sizeof why, "%s", r.error ? r.error : "cannot start");
			fail_start(d, ifd, e->d_name, &r, why);
			record_free(&r);
			failures++;
		} else {
			size_t want = waiting == cap ? (cap ? 2 * cap : 8) : cap;
			pending *grown = want != cap ? realloc(wait, want * sizeof *wait) : wait;
			if (grown)
				cap = want;
			if (!grown) {
				fail_start(d, ifd, e->d_name, &r, "out of memory");
				record_free(&r);
				failures++;
			} else {
				wait = grown;
				snprintf(wait[waiting].name, sizeof wait[waiting].name, "%s", e->d_name);
				wait[waiting++].rec = r;
			}
		}
		close(ifd);
		slot_release(d, s);
	}
	closedir(dir);
	/* Second pass: the driver's ready() is not known yet, so a TCP connect must do. */
	for (size_t i = 0; i < waiting; i++) {
		char why[256], dirpath[sizeof ((osb_deployment *)0)->dir];
		record *r = &wait[i].rec;
		snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, wait[i].name);
		struct slot *s = slot_acquire(d, wait[i].name);
		int ifd = s ? open_instance(basefd, wait[i].name, 0) : -1;
		if (ifd < 0 || wait_ready(d, r, dirpath, NULL, why, sizeof why) != 0) {
			if (ifd < 0)
				snprintf(why, sizeof why, "its directory vanished");
			if (ifd >= 0)
				fail_start(d, ifd, wait[i].name, r, why);
			failures++;
		} else {
			snprintf(r->state, sizeof r->state, "running");
			record_write(ifd, wait[i].name, r);
			restarted++;
			osb_log(OSB_LOG_INFO, "deployer.restarted", "%s server of %s restarted: pid %d, port %d", r->kind,
				wait[i].name, r->pid, r->port);
		}
		if (ifd >= 0)
			close(ifd);
		slot_release(d, s);
		record_free(r);
	}
	free(wait);
	close(basefd);
	if (adopted || restarted || failures)
		osb_log(failures ? OSB_LOG_WARN : OSB_LOG_INFO, "deployer.readopt",
			"dedicated servers: %d adopted, %d restarted, %d failed", adopted, restarted, failures);
	return failures;
}
