/* The tool's local files: config.json (brokers, with passwords: 0600) and state.json (instance names -> ids). */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

#define FILE_MAX (4u << 20)

const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void jset(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (value)
		cJSON_AddStringToObject(obj, key, value);
}

int local_dir(char *out, size_t size)
{
	const char *home = getenv("OSB_HOME"), *xdg = getenv("XDG_CONFIG_HOME"), *user = getenv("HOME");
	int n;
	if (home && *home)
		n = snprintf(out, size, "%s", home);
	else if (xdg && *xdg)
		n = snprintf(out, size, "%s/osb", xdg);
	else if (user && *user)
		n = snprintf(out, size, "%s/.config/osb", user);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The directory, made with its parents when missing; it holds passwords, so only its owner may enter. */
static int dir_create(cli *c, char *dir, size_t size)
{
	if (local_dir(dir, size) != 0)
		return out_fail(c, CLI_LOCAL, NULL, "cannot name the configuration directory: set HOME or OSB_HOME");
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			*p = '/';
			return out_fail(c, CLI_LOCAL, NULL, "cannot create %s: %s", dir, strerror(e));
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return out_fail(c, CLI_LOCAL, NULL, "cannot create %s: %s", dir, strerror(errno));
	return CLI_OK;
}

/* Read a whole file; *out NULL (and CLI_OK) when it does not exist. */
static int read_json(cli *c, const char *path, int secret, cJSON **out)
{
	struct stat sb;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? CLI_OK
				       : out_fail(c, CLI_LOCAL, NULL, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || sb.st_size > (off_t)FILE_MAX) {
		close(fd);
		return out_fail(c, CLI_LOCAL, NULL, "%s: cannot read it, or it is too large", path);
	}
	if (secret && (sb.st_mode & 077)) {
		close(fd);
		return out_fail(c, CLI_LOCAL, NULL, "%s holds broker passwords but others may read it: chmod 600 %s",
				path, path);
	}
	char *text = malloc((size_t)sb.st_size + 1);
	ssize_t n = text ? read(fd, text, (size_t)sb.st_size) : -1;
	close(fd);
	if (n != (ssize_t)sb.st_size) {
		free(text);
		return out_fail(c, CLI_LOCAL, NULL, "cannot read %s", path);
	}
	text[n] = '\0';
	*out = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return out_fail(c, CLI_LOCAL, NULL, "%s is not a JSON object; fix or remove it", path);
	}
	return CLI_OK;
}

/* Replace `path` with `doc`: a temporary file (0600), fsync, rename, fsync the directory. */
static int write_json(cli *c, const char *dir, const char *path, const cJSON *doc)
{
	char tmp[4200];
	char *text = cJSON_Print(doc);
	if (!text)
		return out_fail(c, CLI_LOCAL, NULL, "out of memory");
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	int ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
		 fsync(fd) == 0;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(text);
	if (!ok || rename(tmp, path) != 0) {
		if (ok)
			e = errno;
		unlink(tmp);
		return out_fail(c, CLI_LOCAL, NULL, "cannot write %s: %s", path, strerror(e));
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return CLI_OK;
}

/* ---- brokers ------------------------------------------------------------- */

static int add_broker(cli_brokers *b, const char *name, const char *url, const char *user, const char *pass,
		      int from_env)
{
	cli_broker *v = realloc(b->v, (b->n + 1) * sizeof *v);
	if (!v)
		return -1;
	b->v = v;
	cli_broker *x = &v[b->n];
	memset(x, 0, sizeof *x);
	x->name = strdup(name);
	x->url = strdup(url);
	x->username = strdup(user);
	x->password = strdup(pass);
	x->from_env = from_env;
	b->n++;
	/* No trailing slash: paths are appended. */
	size_t n = x->url ? strlen(x->url) : 0;
	while (n > 0 && x->url[n - 1] == '/')
		x->url[--n] = '\0';
	return x->name && x->url && x->username && x->password ? 0 : -1;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void local_brokers_free(cli_brokers *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].name);
		free(b->v[i].url);
		free(b->v[i].username);
		wipe_free(b->v[i].password);
	}
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

cli_broker *local_broker_find(const cli_brokers *b, const char *name)
{
	for (size_t i = 0; name && i < b->n; i++)
		if (strcmp(b->v[i].name, name) == 0)
			return &b->v[i];
	return NULL;
}

int local_brokers_load(cli *c, cli_brokers *out)
{
	char dir[4096], path[4200];
	cJSON *doc = NULL;
	int rc;
	memset(out, 0, sizeof *out);
	if (local_dir(dir, sizeof dir) != 0)
		return out_fail(c, CLI_LOCAL, NULL, "cannot name the configuration directory: set HOME or OSB_HOME");
	snprintf(path, sizeof path, "%s/config.json", dir);
	if ((rc = read_json(c, path, 1, &doc)))
		return rc;
	const cJSON *b;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(doc, "brokers"))
	{
		const char *name = jstr(b, "name"), *url = jstr(b, "url"), *user = jstr(b, "username"),
			   *pass = jstr(b, "password");
		if (!name || !url || !user || !pass) {
			cJSON_Delete(doc);
			local_brokers_free(out);
			return out_fail(c, CLI_LOCAL, NULL, "%s: every broker needs name, url, username and password",
					path);
		}
		if (add_broker(out, name, url, user, pass, 0) != 0) {
			cJSON_Delete(doc);
			local_brokers_free(out);
			return out_fail(c, CLI_LOCAL, NULL, "out of memory");
		}
	}
	cJSON_Delete(doc);
	const char *url = getenv("OSB_BROKER_URL");
	if (url && *url) {
		const char *name = getenv("OSB_BROKER_NAME"), *user = getenv("OSB_BROKER_USERNAME"),
			   *pass = getenv("OSB_BROKER_PASSWORD");
		if (!name || !*name)
			name = "env";
		if (!user || !*user || !pass || !*pass) {
			local_brokers_free(out);
			return out_fail(
				c, CLI_LOCAL, NULL,
				"OSB_BROKER_URL is set: OSB_BROKER_USERNAME and OSB_BROKER_PASSWORD must be set too");
		}
		if (!local_broker_find(out, name) && add_broker(out, name, url, user, pass, 1) != 0) {
			local_brokers_free(out);
			return out_fail(c, CLI_LOCAL, NULL, "out of memory");
		}
	}
	return CLI_OK;
}

int local_brokers_save(cli *c, const cli_brokers *b)
{
	char dir[4096], path[4200];
	int rc = dir_create(c, dir, sizeof dir);
	if (rc)
		return rc;
	snprintf(path, sizeof path, "%s/config.json", dir);
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "brokers");
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].from_env)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", b->v[i].name);
		cJSON_AddStringToObject(x, "url", b->v[i].url);
		cJSON_AddStringToObject(x, "username", b->v[i].username);
		cJSON_AddStringToObject(x, "password", b->v[i].password);
		cJSON_AddItemToArray(arr, x);
	}
	rc = write_json(c, dir, path, doc);
	/* The text held passwords; cJSON_Delete frees it without wiping, so wipe the copies first. */
	cJSON *x;
	cJSON_ArrayForEach(x, arr)
	{
		cJSON *p = cJSON_GetObjectItemCaseSensitive(x, "password");
		if (cJSON_IsString(p))
			memset(p->valuestring, 0, strlen(p->valuestring));
	}
	cJSON_Delete(doc);
	return rc;
}

/* ---- state --------------------------------------------------------------- */

int local_state_begin(cli *c, local_state *st)
{
	char dir[4096], path[4200];
	int rc = dir_create(c, dir, sizeof dir);
	st->lock_fd = -1;
	st->doc = NULL;
	if (rc)
		return rc;
	snprintf(path, sizeof path, "%s/state.lock", dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return out_fail(c, CLI_LOCAL, NULL, "cannot open %s: %s", path, strerror(errno));
	while (flock(st->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			local_state_end(st);
			return out_fail(c, CLI_LOCAL, NULL, "cannot lock %s: %s", path, strerror(errno));
		}
	}
	snprintf(path, sizeof path, "%s/state.json", dir);
	if ((rc = read_json(c, path, 0, &st->doc))) {
		local_state_end(st);
		return rc;
	}
	if (!st->doc)
		st->doc = cJSON_CreateObject();
	if (!st->doc) {
		local_state_end(st);
		return out_fail(c, CLI_LOCAL, NULL, "out of memory");
	}
	return CLI_OK;
}

int local_state_commit(cli *c, local_state *st)
{
	char dir[4096], path[4200];
	int rc = CLI_LOCAL;
	if (local_dir(dir, sizeof dir) == 0) {
		snprintf(path, sizeof path, "%s/state.json", dir);
		rc = write_json(c, dir, path, st->doc);
	}
	local_state_end(st);
	return rc;
}

void local_state_end(local_state *st)
{
	cJSON_Delete(st->doc);
	st->doc = NULL;
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	st->lock_fd = -1;
}

cJSON *local_instances(local_state *st)
{
	cJSON *i = cJSON_GetObjectItemCaseSensitive(st->doc, "instances");
	if (!cJSON_IsObject(i)) {
		cJSON_DeleteItemFromObjectCaseSensitive(st->doc, "instances");
		i = cJSON_AddObjectToObject(st->doc, "instances");
	}
	return i;
}

cJSON *local_instance(local_state *st, const char *name)
{
	cJSON *i = cJSON_GetObjectItemCaseSensitive(local_instances(st), name);
	return cJSON_IsObject(i) ? i : NULL;
}
