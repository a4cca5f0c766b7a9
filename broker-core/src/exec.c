/* Safe exec (exec.h): argv arrays through posix_spawn, no shell, bounded capture, timeout with SIGTERM then SIGKILL. */
#include "osb/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deployer_internal.h"
#include "osb/errors.h"

/* Searched after PATH: server binaries (mariadbd, slapd) live in sbin, which a service's PATH may lack. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_OUTPUT 65536
#define KILL_GRACE_MS 2000

typedef struct {
	int fd;        /* our end, -1 once at EOF */
	char *data;    /* NUL-terminated capture */
	size_t len;    /* bytes kept */
	size_t max;    /* most bytes kept */
	int truncated; /* bytes were dropped */
} capture;

const char *osb_exec__path(void)
{
	const char *p = getenv("PATH");
	return p && *p ? p : DEFAULT_PATH;
}

static int is_executable_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return 0;
	}
	return access(path, X_OK) == 0;
}

int osb_exec__resolve(char *out, size_t out_size, const char *program)
{
	if (!out || !out_size || !program || !*program) {
		errno = EINVAL;
		return OSB_ENOTFOUND;
	}
	out[0] = '\0';
	if (strchr(program, '/')) {
		char cwd[4096];
		int n;
		/* Absolute, because the program may be started in another working directory. */
		if (program[0] == '/')
			n = snprintf(out, out_size, "%s", program);
		else if (getcwd(cwd, sizeof cwd))
			n = snprintf(out, out_size, "%s/%s", cwd, program);
		else
			return OSB_ENOTFOUND;
		if (n < 0 || (size_t)n >= out_size) {
			out[0] = '\0';
			errno = ENAMETOOLONG;
			return OSB_ENOTFOUND;
		}
		if (!is_executable_file(out)) {
			out[0] = '\0';
			return OSB_ENOTFOUND;
		}
		return 0;
	}
	const char *lists[2] = { osb_exec__path(), DEFAULT_PATH };
	for (int l = 0; l < 2; l++) {
		const char *p = lists[l];
		while (*p) {
			size_t n = strcspn(p, ":");
			/* An empty or relative entry would mean the working directory: skip it. */
			if (n > 0 && p[0] == '/') {
				int w = snprintf(out, out_size, "%.*s/%s", (int)n, p, program);
				if (w > 0 && (size_t)w < out_size && is_executable_file(out))
					return 0;
			}
			p += n;
			if (*p == ':')
				p++;
		}
	}
	out[0] = '\0';
	errno = ENOENT;
	return OSB_ENOTFOUND;
}

int osb_exec__spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd, int fd_in,
		    int fd_out, int fd_err, int new_session)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc, fa_ok = 0, attr_ok = 0;
	const int fds[3] = { fd_in, fd_out, fd_err };
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		goto done;
	fa_ok = 1;
	if ((rc = posix_spawnattr_init(&attr)) != 0)
		goto done;
	attr_ok = 1;
	/* The broker blocks SIGTERM/SIGINT and ignores SIGPIPE; a server must not inherit that. */
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	flags |= new_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
	if ((rc = posix_spawnattr_setflags(&attr, flags)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
	    (!new_session && (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0))
		goto done;
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			rc = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
		else
			rc = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		if (rc != 0)
			goto done;
	}
	if (cwd && (rc = posix_spawn_file_actions_addchdir_np(&fa, cwd)) != 0)
		goto done;
	if ((rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0)
		goto done;
	rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
done:
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static int capture_init(capture *c, size_t max)
{
	c->fd = -1;
	c->len = 0;
	c->max = max;
	c->truncated = 0;
	c->data = malloc(1);
	if (!c->data)
		return -1;
	c->data[0] = '\0';
	return 0;
}

/* Read what is there; past the limit, read and drop so that the program never blocks on a full pipe. */
static int capture_read(capture *c)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			close(c->fd);
			c->fd = -1;
			return 0;
		}
		size_t keep = (size_t)n;
		if (c->len + keep > c->max) {
			keep = c->max - c->len;
			c->truncated = 1;
		}
		if (keep) {
			char *grown = realloc(c->data, c->len + keep + 1);
			if (!grown)
				return -1;
			c->data = grown;
			memcpy(c->data + c->len, buf, keep);
			c->len += keep;
			c->data[c->len] = '\0';
		}
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int osb_exec(osb_exec_result *result, const osb_exec_options *o)
{
	osb_exec_result local;
	osb_exec_result *r = result ? result : &local;
	capture cap[2];
	char path[4096];
	char *env_path = NULL;
	char *default_env[3];
	int in_sock[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	int pidfd = -1, status = 0, reaped = 0, stage = 0, rc = OSB_ERROR;
	size_t written = 0;
	pid_t pid = -1;

	memset(r, 0, sizeof *r);
	cap[0].data = cap[1].data = NULL;
	cap[0].fd = cap[1].fd = -1;
	if (capture_init(&cap[0], 0) || capture_init(&cap[1], 0)) {
		rc = OSB_ENOMEM;
		goto done;
	}
	if (!o || !o->argv || !o->argv[0] || (o->input_len && !o->input))
		goto done;
	cap[0].max = cap[1].max = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
	if (osb_exec__resolve(path, sizeof path, o->argv[0]) != 0) {
		r->start_errno = errno;
		rc = OSB_ENOTFOUND;
		goto done;
	}
	char *const *envp = (char *const *)o->env;
	if (!envp) {
		size_t n = strlen(osb_exec__path()) + 6;
		if (!(env_path = malloc(n))) {
			rc = OSB_ENOMEM;
			goto done;
		}
		snprintf(env_path, n, "PATH=%s", osb_exec__path());
		default_env[0] = env_path;
		default_env[1] = (char *)"LC_ALL=C";
		default_env[2] = NULL;
		envp = default_env;
	}
	/* A socket for stdin: send(MSG_NOSIGNAL) survives a program that exits without reading, even without SIGPIPE ignored. */
	if (o->input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sock) != 0)
		goto done;
	if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
		goto done;
	int e = osb_exec__spawn(&pid, path, (char *const *)o->argv, envp, o->cwd, in_sock[1], out_pipe[1], err_pipe[1],
				0);
	close_fd(&in_sock[1]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	if (e != 0) {
		pid = -1;
		r->start_errno = e;
		rc = e == ENOMEM ? OSB_ENOMEM : e == EAGAIN ? OSB_ERROR : OSB_ENOTFOUND;
		goto done;
	}
	cap[0].fd = out_pipe[0];
	cap[1].fd = err_pipe[0];
	out_pipe[0] = err_pipe[0] = -1;
	fcntl(cap[0].fd, F_SETFL, O_NONBLOCK);
	fcntl(cap[1].fd, F_SETFL, O_NONBLOCK);
	if (in_sock[0] >= 0) {
		fcntl(in_sock[0], F_SETFL, O_NONBLOCK);
		if (o->input_len == 0)
			close_fd(&in_sock[0]);
	}
	pidfd = pidfd_open(pid, 0);

	long long deadline = osb_clock_ms() + (o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
	while (!reaped) {
		struct pollfd p[4];
		int n = 0, idx_out = -1, idx_err = -1, idx_in = -1;
		if (cap[0].fd >= 0) {
			idx_out = n;
			p[n++] = (struct pollfd){ cap[0].fd, POLLIN, 0 };
		}
		if (cap[1].fd >= 0) {
			idx_err = n;
			p[n++] = (struct pollfd){ cap[1].fd, POLLIN, 0 };
		}
		if (in_sock[0] >= 0) {
			idx_in = n;
			p[n++] = (struct pollfd){ in_sock[0], POLLOUT, 0 };
		}
		if (pidfd >= 0)
			p[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		long long now = osb_clock_ms();
		if (now >= deadline) {
			/* The group too: a script's own children must not outlive it. */
			if (stage == 0) {
				r->timed_out = 1;
				kill(-pid, SIGTERM);
				deadline = now + KILL_GRACE_MS;
			} else {
				kill(-pid, SIGKILL);
				deadline = now + 1000;
			}
			stage++;
		}
		long long wait = deadline - now;
		if (pidfd < 0 && wait > 10)
			wait = 10;
		if (wait < 0)
			wait = 0;
		int ready = poll(p, (nfds_t)n, (int)wait);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0) {
			if (idx_out >= 0 && p[idx_out].revents && capture_read(&cap[0]) != 0) {
				rc = OSB_ENOMEM;
				break;
			}
			if (idx_err >= 0 && p[idx_err].revents && capture_read(&cap[1]) != 0) {
				rc = OSB_ENOMEM;
				break;
			}
			if (idx_in >= 0 && p[idx_in].revents) {
				ssize_t w = send(in_sock[0], o->input + written, o->input_len - written, MSG_NOSIGNAL);
				if (w > 0)
					written += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == o->input_len)
					close_fd(&in_sock[0]);
			}
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			reaped = 1;
		else if (w < 0 && errno != EINTR)
			break; /* ECHILD: someone else reaped it; the status is lost */
	}
	if (!reaped) {
		/* Out of memory or an unexpected poll error: do not leave the program running. */
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		goto done;
	}
	/* What the program wrote before it exited is still in the pipes. */
	for (int i = 0; i < 2; i++)
		if (cap[i].fd >= 0 && capture_read(&cap[i]) != 0)
			rc = OSB_ENOMEM;
	if (r->timed_out)
		kill(-pid, SIGKILL);
	if (rc == OSB_ENOMEM)
		goto done;
	if (r->timed_out) {
		rc = OSB_ETIMEOUT;
		if (WIFSIGNALED(status))
			r->signal = WTERMSIG(status);
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
		rc = OSB_EBACKEND;
	}
done:
	close_fd(&in_sock[0]);
	close_fd(&in_sock[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&pidfd);
	for (int i = 0; i < 2; i++)
		close_fd(&cap[i].fd);
	free(env_path);
	r->out = cap[0].data;
	r->out_len = cap[0].data ? cap[0].len : 0;
	r->err = cap[1].data;
	r->err_len = cap[1].data ? cap[1].len : 0;
	r->truncated = (cap[0].data && cap[0].truncated) || (cap[1].data && cap[1].truncated);
	if (r == &local)
		osb_exec_result_free(&local);
	return rc;
}

void osb_exec_result_free(osb_exec_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}
