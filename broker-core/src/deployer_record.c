/* The deployer's records: deployment.json of each instance directory, written atomically; the directories themselves. */
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
#include "file_internal.h"

void osb_deployer__free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void osb_deployer__record_free(record *r)
{
	free(r->exe);
	osb_deployer__free_strv(r->argv);
	osb_deployer__free_strv(r->env);
	free(r->error);
	memset(r, 0, sizeof *r);
}

void osb_deployer__set_error(record *r, const char *why)
{
	free(r->error);
	r->error = why ? strdup(why) : NULL;
}

int osb_deployer__open_base(const osb_deployer *d, int create)
{
	if (create && osb_mkdir_p(d->base_dir, 0700) != 0)
		return -1;
	return open(d->base_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int osb_deployer__open_instance(int basefd, const char *name, int create)
{
	if (!osb_name_is_derived(name)) {
		errno = EINVAL;
		return -1;
	}
	if (create && mkdirat(basefd, name, 0700) != 0 && errno != EEXIST)
		return -1;
	return openat(basefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
int osb_deployer__record_write(int dirfd, const char *name, const record *r)
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
	if (fd < 0 || osb_file_write_all(fd, text, strlen(text)) != 0 || osb_file_write_all(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0)
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
			osb_deployer__free_strv(v);
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
int osb_deployer__record_read(int dirfd, const char *name, record *r)
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
		osb_deployer__record_free(r);
	}
	cJSON_Delete(o);
	free(text);
	return rc;
}

/* The last lines of server.log, on one line, for the failure log (a server's own messages, no credentials). */
void osb_deployer__log_tail(int dirfd, char *out, size_t size)
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
