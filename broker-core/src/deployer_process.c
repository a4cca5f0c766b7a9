/* The deployer's processes: start without a shell, watch, reap our own children, stop, find strays. */
#include "deployer_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "osb/errors.h"
#include "osb/file.h"
#include "osb/log.h"

void osb_deployer__sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Caller holds d->lock. waitpid only on our own pids, never -1, so exec.c's children stay its own. */
void osb_deployer__reap_locked(osb_deployer *d)
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

void osb_deployer__child_add(osb_deployer *d, pid_t pid)
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
			osb_log(OSB_LOG_WARN, "deployer.reap", "out of memory: process %d will not be reaped",
				(int)pid);
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
int osb_deployer__child_forget(osb_deployer *d, pid_t pid)
{
	int status = -1;
	pthread_mutex_lock(&d->lock);
	osb_deployer__reap_locked(d);
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

void *osb_deployer__reaper_main(void *arg)
{
	osb_deployer *d = arg;
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec ts;
		osb_deployer__reap_locked(d);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)REAP_INTERVAL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Fields of /proc/<pid>/stat. @return 0, or -1 when there is no such process. */
int osb_deployer__proc_stat(int pid, char *state, int *ppid, int *sid, unsigned long long *start)
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
int osb_deployer__pid_alive(osb_deployer *d, int pid, unsigned long long start)
{
	char st;
	unsigned long long t;
	if (pid <= 0)
		return 0;
	pthread_mutex_lock(&d->lock);
	osb_deployer__reap_locked(d);
	pthread_mutex_unlock(&d->lock);
	if (osb_deployer__proc_stat(pid, &st, NULL, NULL, &t) != 0 || st == 'Z' || st == 'X' || st == 'x')
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
	osb_deployer__reap_locked(d);
	for (size_t i = 0; i < d->child_count; i++) {
		if (d->children[i].pid == pid) {
			ours = 1;
			reaped = d->children[i].reaped;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ours ? reaped : !osb_deployer__pid_alive(d, pid, start);
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
int osb_deployer__rec_running(osb_deployer *d, const record *r)
{
	if (r->pid <= 0 || !r->argv || !osb_deployer__pid_alive(d, r->pid, r->proc_start))
		return 0;
	return r->proc_start != 0 || cmdline_matches(r->pid, r->argv[0]);
}

void osb_deployer__reap_orphan(const record *r)
{
	char st;
	int ppid;
	unsigned long long t;
	if (r->pid > 0 && r->proc_start && osb_deployer__proc_stat(r->pid, &st, &ppid, NULL, &t) == 0 && st == 'Z' &&
	    ppid == (int)getpid() && t == r->proc_start) {
		/* Its last threads may still be exiting: give them a moment. */
		for (int i = 0; i < 100 && waitpid(r->pid, NULL, WNOHANG) == 0; i++)
			osb_deployer__sleep_ms(10);
	}
}

int osb_deployer__wait_gone(osb_deployer *d, int pid, unsigned long long start, int ms)
{
	long long deadline = osb_clock_ms() + ms;
	while (!pid_gone(d, pid, start)) {
		if (osb_clock_ms() >= deadline)
			return -1;
		osb_deployer__sleep_ms(POLL_MS);
	}
	return 0;
}

/*
 * Stop a server: its stop signal to the process, then SIGKILL to its whole
 * process group (it leads its own session). A re-adopted server is not our
 * child, so "gone" means no process or a zombie someone else must reap.
 * @return 0 once it is gone, -1 when it survived SIGKILL.
 */
int osb_deployer__stop_process(osb_deployer *d, int pid, unsigned long long start, int sig)
{
	if (pid_gone(d, pid, start))
		return 0;
	int group = getpgid(pid) == pid;
	if (sig > 0) {
		kill(pid, sig);
		if (osb_deployer__wait_gone(d, pid, start, STOP_GRACE_MS) == 0)
			return 0;
		osb_log(OSB_LOG_WARN, "deployer.stop", "process %d ignored signal %d for %d s, killing it", pid, sig,
			STOP_GRACE_MS / 1000);
	}
	kill(group ? -pid : pid, SIGKILL);
	return osb_deployer__wait_gone(d, pid, start, KILL_WAIT_MS);
}

/*
 * A server whose pid never reached the record (the broker died between the
 * start and the record's write) still runs in the instance's directory. Find
 * such strays by what we started them as: session leaders whose working
 * directory is in `dirpath` and whose command line names the program. An
 * operator's shell in that directory has another name and is left alone.
 */
void osb_deployer__kill_strays(osb_deployer *d, const char *dirpath, const char *argv0, int known_pid)
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
		if (osb_deployer__proc_stat(pid, NULL, NULL, &sid, NULL) != 0 || sid != pid ||
		    !osb_deployer__pid_alive(d, pid, 0) || !cmdline_matches(pid, argv0))
			continue;
		osb_log(OSB_LOG_WARN, "deployer.stray",
			"process %d runs in %s without a record (a broker stopped while "
			"starting it): killing it",
			pid, dirpath);
		int ppid = 0;
		osb_deployer__proc_stat(pid, NULL, &ppid, NULL, NULL);
		kill(-pid, SIGKILL);
		if (osb_deployer__wait_gone(d, pid, 0, KILL_WAIT_MS) != 0)
			osb_log(OSB_LOG_ERROR, "deployer.stray", "process %d survived SIGKILL", pid);
		/* Our child that no deployer watched (one was freed in this process): reap it, it is a server we started. */
		for (int i = 0; ppid == (int)getpid() && i < 100 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			osb_deployer__sleep_ms(10);
	}
	if (proc)
		closedir(proc);
}

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

char **osb_deployer__substitute_strv(const char *const *v, int port, const char *dir)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++) {
		if (!(out[i] = substitute(v[i], port, dir))) {
			osb_deployer__free_strv(out);
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
int osb_deployer__start_server(osb_deployer *d, int dirfd, const char *dirpath, const char *name, record *r)
{
	char exe[4096], path_var[4200], home_var[600];
	char *envp[MAX_ARGS + 3];
	size_t n = 0;
	int logfd = -1, rc = OSB_EBACKEND;

	if ((!r->exe || osb_exec__resolve(exe, sizeof exe, r->exe) != 0) &&
	    osb_exec__resolve(exe, sizeof exe, r->argv[0]) != 0) {
		char why[256];
		snprintf(why, sizeof why, "cannot find program %.100s: %s", r->argv[0], strerror(errno));
		osb_deployer__set_error(r, why);
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
		osb_deployer__set_error(r, "cannot open server.log");
		goto done;
	}
	pid_t pid;
	int e = osb_exec__spawn(&pid, exe, r->argv, envp, dirpath, -1, logfd, logfd, 1);
	if (e != 0) {
		char why[256];
		snprintf(why, sizeof why, "cannot start %.100s: %s", exe, strerror(e));
		osb_deployer__set_error(r, why);
		goto done;
	}
	osb_deployer__child_add(d, pid);
	r->pid = (int)pid;
	r->proc_start = 0;
	osb_deployer__proc_stat(r->pid, NULL, NULL, NULL, &r->proc_start);
	r->started_at = (long long)time(NULL);
	snprintf(r->state, sizeof r->state, "starting");
	osb_deployer__set_error(r, NULL);
	/* Record the pid at once: a broker killed now must find this server again. */
	rc = osb_deployer__record_write(dirfd, name, r);
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
int osb_deployer__wait_ready(osb_deployer *d, const record *r, const char *dirpath, const osb_process_spec *spec,
			     char *why, size_t why_size)
{
	long long deadline = osb_clock_ms() + r->start_timeout_ms;
	for (;;) {
		if (!osb_deployer__pid_alive(d, r->pid, r->proc_start)) {
			osb_deployer__wait_gone(d, r->pid, r->proc_start, 1000);
			describe_exit(osb_deployer__child_forget(d, r->pid), why, why_size);
			return -1;
		}
		if (spec ? spec->ready(r->port, dirpath, spec->payload) == 0 : tcp_ready(r->port) == 0)
			return 0;
		if (osb_clock_ms() >= deadline) {
			snprintf(why, why_size, "not ready on port %d after %d ms", r->port, r->start_timeout_ms);
			return -1;
		}
		osb_deployer__sleep_ms(POLL_MS);
	}
}

/* Kill a server that failed to start, record why, and log it with the end of server.log. */
void osb_deployer__fail_start(osb_deployer *d, int dirfd, const char *name, record *r, const char *why)
{
	char tail[700];
	if (r->pid > 0) {
		if (osb_deployer__stop_process(d, r->pid, r->proc_start, 0) != 0)
			osb_log(OSB_LOG_ERROR, "deployer.stop", "process %d of %s survived SIGKILL", r->pid, name);
		osb_deployer__child_forget(d, r->pid);
	}
	r->pid = 0;
	r->proc_start = 0;
	snprintf(r->state, sizeof r->state, "failed");
	osb_deployer__set_error(r, why);
	osb_deployer__record_write(dirfd, name, r);
	osb_deployer__log_tail(dirfd, tail, sizeof tail);
	osb_log(OSB_LOG_ERROR, "deployer.start_failed", "%s server of %s %s%s%s", r->kind, name, why,
		tail[0] ? "; server.log ends: " : "", tail);
}
