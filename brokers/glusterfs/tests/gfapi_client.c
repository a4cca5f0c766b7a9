/*
 * A GlusterFS client for the glusterfs broker's tests, on gfapi (libgfapi): it uses a binding's
 * TLS identity the way an application does, with no FUSE mount.
 *
 * Usage: osb-glusterfs-gfapi-client COMMAND HOST PORT VOLUME TLS_DIR FILE [ARG]
 *   put FILE VALUE          write VALUE into FILE (created or truncated)
 *   get FILE                print FILE's content
 *   fill FILE MB            write MB mebibytes; exit 4 when the volume's quota refuses them (EDQUOT)
 *   hold FILE SECONDS MARK  stay connected, writing and reading back every 200 ms; create the local
 *                           file MARK once connected; exit 0 when the server ends the session, 3
 *                           when it still runs after SECONDS
 * TLS_DIR holds cert.pem, key.pem and ca.pem (the binding's tls_cert, password and tls_ca).
 * A refused identity makes gfapi retry for ever: the client watches gfapi's log for the bricks'
 * "Authentication failed" and then exits 2 at once; after OSB_GF_TIMEOUT seconds (default 8)
 * without a session it gives up with exit 2 too. Exit 1: any other failure. gfapi's log is a
 * temporary file (kept as $OSB_GF_LOG when that is set).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glusterfs/api/glfs.h>

static char log_path[4096];
static int log_is_temporary;
static volatile int connected;

static void timed_out(int sig)
{
	static const char msg[] = "gfapi-client: no session in time (identity refused or server down)\n";

	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0 || log_is_temporary)
		unlink(log_path);
	_exit(2);
}

/* glfs_fini() takes about 10 s: leave without it, the server sees the connection close. */
static void leave(int code)
{
	fflush(stdout);
	if (log_is_temporary)
		unlink(log_path);
	_exit(code);
}

/* Until the session is up: the bricks refusing the identity end the client (gfapi would retry for ever). */
static void *watch_log(void *arg)
{
	char buf[65536];

	(void)arg;
	while (!connected) {
		FILE *f = fopen(log_path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		if (strstr(buf, "Authentication failed")) {
			fprintf(stderr, "gfapi-client: the volume refused this identity (Authentication failed)\n");
			leave(2);
		}
		usleep(50000);
	}
	return NULL;
}

static glfs_t *connect_volume(const char *host, int port, const char *volume, const char *tls_dir)
{
	const char *log = getenv("OSB_GF_LOG");
	char path[4096];
	glfs_t *fs = glfs_new(volume);
	pthread_t watcher;
	int fd;

	if (log && *log) {
		snprintf(log_path, sizeof log_path, "%s", log);
	} else {
		snprintf(log_path, sizeof log_path, "/tmp/osb-gfapi-client.XXXXXX");
		if ((fd = mkstemp(log_path)) < 0) {
			perror("gfapi-client: mkstemp");
			leave(1);
		}
		close(fd);
		log_is_temporary = 1;
	}
	static const char *const files[][2] = {
		{ "transport.socket.ssl-own-cert", "cert.pem" },
		{ "transport.socket.ssl-private-key", "key.pem" },
		{ "transport.socket.ssl-ca-list", "ca.pem" },
	};

	if (!fs || glfs_set_volfile_server(fs, "tcp", host, port) != 0 || glfs_set_logging(fs, log_path, 7) != 0) {
		perror("gfapi-client: glfs_new");
		leave(1);
	}
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tls_dir, files[i][1]);
		if (access(path, R_OK) != 0 || glfs_set_xlator_option(fs, "*-client-*", files[i][0], path) != 0) {
			fprintf(stderr, "gfapi-client: cannot use %s\n", path);
			leave(1);
		}
	}
	if (pthread_create(&watcher, NULL, watch_log, NULL) != 0 || pthread_detach(watcher) != 0) {
		perror("gfapi-client: pthread_create");
		leave(1);
	}
	if (glfs_init(fs) != 0) {
		fprintf(stderr, "gfapi-client: glfs_init: %s\n", strerror(errno));
		leave(2);
	}
	connected = 1;
	return fs;
}

static int put(glfs_t *fs, const char *file, const char *value)
{
	glfs_fd_t *fd = glfs_creat(fs, file, O_WRONLY | O_TRUNC, 0644);

	if (!fd || glfs_write(fd, value, strlen(value), 0) < 0 || glfs_close(fd) != 0) {
		fprintf(stderr, "gfapi-client: write %s: %s\n", file, strerror(errno));
		return 1;
	}
	return 0;
}

static int get(glfs_t *fs, const char *file)
{
	char buf[65536];
	glfs_fd_t *fd = glfs_open(fs, file, O_RDONLY);
	ssize_t n;

	if (!fd || (n = glfs_read(fd, buf, sizeof buf, 0)) < 0) {
		fprintf(stderr, "gfapi-client: read %s: %s\n", file, strerror(errno));
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	glfs_close(fd);
	return 0;
}

/* Write `mb` MiB; the quota refuses them with EDQUOT (at once or at close, as gluster accounts late). */
static int fill(glfs_t *fs, const char *file, long mb)
{
	static char block[1 << 20];
	glfs_fd_t *fd = glfs_creat(fs, file, O_WRONLY | O_TRUNC, 0644);
	long i;

	memset(block, 'x', sizeof block);
	if (!fd) {
		fprintf(stderr, "gfapi-client: create %s: %s\n", file, strerror(errno));
		return errno == EDQUOT ? 4 : 1;
	}
	for (i = 0; i < mb; i++) {
		if (glfs_write(fd, block, sizeof block, 0) < 0) {
			int e = errno;
			fprintf(stderr, "gfapi-client: refused after %ld MiB: %s\n", i, strerror(e));
			glfs_close(fd);
			return e == EDQUOT ? 4 : 1;
		}
	}
	if (glfs_close(fd) != 0) {
		fprintf(stderr, "gfapi-client: close after %ld MiB: %s\n", i, strerror(errno));
		return errno == EDQUOT ? 4 : 1;
	}
	printf("%ld MiB written\n", i);
	return 0;
}

static int hold(glfs_t *fs, const char *file, long seconds, const char *mark)
{
	glfs_fd_t *fd = glfs_creat(fs, file, O_RDWR | O_TRUNC, 0644);
	struct stat st;
	FILE *m;

	if (!fd) {
		fprintf(stderr, "gfapi-client: create %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (!(m = fopen(mark, "w")) || fclose(m) != 0) {
		perror(mark);
		return 1;
	}
	for (long i = 0; i < seconds * 5; i++) {
		char line[32];
		int n = snprintf(line, sizeof line, "%ld\n", i);

		if (glfs_pwrite(fd, line, (size_t)n, 0, 0, NULL, NULL) < 0 || glfs_fstat(fd, &st) != 0) {
			printf("session ended by the server after %ld writes: %s\n", i, strerror(errno));
			return 0;
		}
		usleep(200000);
	}
	fprintf(stderr, "gfapi-client: the session still runs after %ld s\n", seconds);
	return 3;
}

int main(int argc, char **argv)
{
	const char *timeout = getenv("OSB_GF_TIMEOUT");
	glfs_t *fs;
	int rc;

	if (argc < 7) {
		fprintf(stderr, "usage: %s put|get|fill|hold HOST PORT VOLUME TLS_DIR FILE [ARG...]\n", argv[0]);
		return 1;
	}
	signal(SIGALRM, timed_out);
	alarm(timeout && atoi(timeout) > 0 ? (unsigned)atoi(timeout) : 8);
	fs = connect_volume(argv[2], atoi(argv[3]), argv[4], argv[5]);
	if (strcmp(argv[1], "put") == 0 && argc == 8) {
		rc = put(fs, argv[6], argv[7]);
	} else if (strcmp(argv[1], "get") == 0 && argc == 7) {
		rc = get(fs, argv[6]);
	} else if (strcmp(argv[1], "fill") == 0 && argc == 8) {
		alarm(0);
		rc = fill(fs, argv[6], atol(argv[7]));
	} else if (strcmp(argv[1], "hold") == 0 && argc == 9) {
		alarm(0);
		rc = hold(fs, argv[6], atol(argv[7]), argv[8]);
	} else {
		fprintf(stderr, "gfapi-client: bad command or arguments\n");
		rc = 1;
	}
	leave(rc);
	return rc;
}
