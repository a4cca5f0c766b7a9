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

/*
 * Processes.
 */

/*
 * A recorded server that died as our child while no deployer watched it (the
 * deployer was recreated in this process): the pid and its start time prove it
 * is ours, so reaping it cannot steal another module's child.
 */

/*
 * Files. Instance directories are opened with O_NOFOLLOW and everything inside
 * them through the directory's descriptor, so a symlink never leads out of base_dir.
 */

/* Delete a tree without following symlinks: links are unlinked, never entered. */

/*
 * Ports.
 */

/*
 * Starting and waiting.
 */

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
	if (spec->kind && strlen(spec->kind) >= sizeof((record *)0)->kind)
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
	if ((basefd = osb_deployer__open_base(d, 1)) < 0) {
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "cannot create or open %s: %s", d->base_dir, strerror(errno));
		goto done;
	}
	dirfd = osb_deployer__open_instance(basefd, name, 0);
	if (dirfd < 0 && errno != ENOENT) {
		osb_log(OSB_LOG_ERROR, "deployer.ensure", "%s is not a directory we can use: %s", dirpath,
			strerror(errno));
		goto done;
	}
	if (dirfd >= 0) {
		int r_rc = osb_deployer__record_read(dirfd, name, &r);
		if (r_rc == OSB_ERROR)
			goto done;
		have = r_rc == 0;
	}

	if (have && osb_deployer__rec_running(d, &r)) {
		/* Still starting (a re-adopted restart, say): wait as long as this caller may. */
		r.start_timeout_ms = spec->start_timeout_ms > 0 ? spec->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
		if (osb_deployer__wait_ready(d, &r, dirpath, spec, why, sizeof why) != 0) {
			osb_deployer__fail_start(d, dirfd, name, &r, why);
			out->start_failed = 1;
			rc = OSB_EBACKEND;
			goto done;
		}
		if (strcmp(r.state, "running") != 0) {
			snprintf(r.state, sizeof r.state, "running");
			osb_deployer__record_write(dirfd, name, &r);
		}
		fill_out(out, &r, dirpath);
		rc = 0;
		goto done;
	}
	if (have && r.pid > 0) {
		/* Dead or dying: let it finish exiting so that its port is free again. */
		osb_deployer__wait_gone(d, r.pid, r.proc_start, KILL_WAIT_MS);
		osb_deployer__child_forget(d, r.pid);
		osb_deployer__reap_orphan(&r);
	}
	if (have) {
		osb_deployer__kill_strays(d, dirpath, r.argv[0], 0);
		osb_deployer__port_bindable_within(r.port, 1000);
	}

	/* Reserve a port: choose and record it under the deployer's lock. */
	pthread_mutex_lock(&d->lock);
	port = osb_deployer__allocate_port(d, basefd, name, have ? r.port : 0);
	if (port && dirfd < 0 && (dirfd = osb_deployer__open_instance(basefd, name, 1)) < 0)
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
		osb_deployer__free_strv(r.argv);
		osb_deployer__free_strv(r.env);
		r.env = NULL;
		if (!(r.argv = osb_deployer__substitute_strv(spec->argv, port, dirpath)) ||
		    !(r.env = osb_deployer__substitute_strv(spec->env, port, dirpath)))
			rc = OSB_ENOMEM;
		else
			rc = osb_deployer__record_write(dirfd, name, &r);
	}
	pthread_mutex_unlock(&d->lock);
	if (!port) {
		osb_log(OSB_LOG_ERROR, "deployer.no_port", "no free port in %d-%d for the %s server of %s",
			d->port_first, d->port_last, spec->kind ? spec->kind : "dedicated", name);
		rc = OSB_EBACKEND;
		goto done;
	}
	if (dirfd < 0 || rc != 0)
		goto done;

	if (!r.prepared && spec->prepare) {
		int p_rc = spec->prepare(dirpath, port, spec->payload);
		if (p_rc != 0) {
			snprintf(why, sizeof why, "prepare failed: %s", osb_strerror(p_rc));
			osb_deployer__fail_start(d, dirfd, name, &r, why);
			out->start_failed = 1;
			rc = p_rc < 0 && p_rc > OSB_ERROR_LAST ? p_rc : OSB_ERROR;
			goto done;
		}
	}
	r.prepared = 1;
	rc = osb_deployer__start_server(d, dirfd, dirpath, name, &r);
	if (rc != 0) {
		snprintf(why, sizeof why, "%s", r.error ? r.error : "cannot start");
		osb_deployer__fail_start(d, dirfd, name, &r, why);
		out->start_failed = 1;
		rc = rc == OSB_ENOMEM ? OSB_ENOMEM : OSB_EBACKEND;
		goto done;
	}
	if (osb_deployer__wait_ready(d, &r, dirpath, spec, why, sizeof why) != 0) {
		osb_deployer__fail_start(d, dirfd, name, &r, why);
		out->start_failed = 1;
		rc = OSB_EBACKEND;
		goto done;
	}
	snprintf(r.state, sizeof r.state, "running");
	if ((rc = osb_deployer__record_write(dirfd, name, &r)) != 0) {
		osb_deployer__fail_start(d, dirfd, name, &r, "cannot record the running server");
		out->start_failed = 1;
		goto done;
	}
	osb_log(OSB_LOG_INFO, "deployer.started", "%s server of %s runs on port %d (pid %d)", r.kind, name, r.port,
		r.pid);
	fill_out(out, &r, dirpath);
done:
	if (dirfd >= 0)
		close(dirfd);
	if (basefd >= 0)
		close(basefd);
	osb_deployer__record_free(&r);
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
	if (!d || !osb_name_is_derived(name))
		return OSB_ERROR;
	if (!(s = slot_acquire(d, name)))
		return OSB_ENOMEM;
	if ((basefd = osb_deployer__open_base(d, 0)) < 0) {
		rc = errno == ENOENT ? 0 : OSB_ERROR;
		goto done;
	}
	dirfd = osb_deployer__open_instance(basefd, name, 0);
	if (dirfd >= 0) {
		int r_rc = osb_deployer__record_read(dirfd, name, &r);
		if (r_rc == OSB_ERROR)
			osb_log(OSB_LOG_WARN, "deployer.remove",
				"deleting %s without a readable record: a server may still run", name);
		if (r_rc == 0 && r.pid > 0) {
			if (osb_deployer__rec_running(d, &r) &&
			    osb_deployer__stop_process(d, r.pid, r.proc_start, r.stop_signal) != 0) {
				osb_log(OSB_LOG_ERROR, "deployer.remove", "the %s server of %s (pid %d) does not stop",
					r.kind, name, r.pid);
				goto done;
			}
			osb_deployer__child_forget(d, r.pid);
		}
		if (r_rc == 0) {
			char dirpath[sizeof((osb_deployment *)0)->dir];
			snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, name);
			osb_deployer__kill_strays(d, dirpath, r.argv[0], 0);
		}
		close(dirfd);
		dirfd = -1;
	} else if (errno == ENOENT) {
		rc = 0;
		goto done;
	}
	/* The name is an osb_ name under basefd: nothing outside base_dir can be reached. */
	if (osb_file_remove_tree(basefd, name) != 0) {
		osb_log(OSB_LOG_ERROR, "deployer.remove", "cannot delete %s/%s: %s", d->base_dir, name,
			strerror(errno));
		goto done;
	}
	if (r.port)
		osb_log(OSB_LOG_INFO, "deployer.removed", "%s server of %s stopped and deleted (port %d released)",
			r.kind, name, r.port);
	rc = 0;
done:
	if (dirfd >= 0)
		close(dirfd);
	if (basefd >= 0)
		close(basefd);
	osb_deployer__record_free(&r);
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
	if ((basefd = osb_deployer__open_base(d, 0)) < 0 || (dirfd = osb_deployer__open_instance(basefd, name, 0)) < 0)
		goto done;
	if ((rc = osb_deployer__record_read(dirfd, name, &r)) != 0) {
		rc = OSB_ENOTFOUND;
		goto done;
	}
	out->port = r.port;
	out->pid = strcmp(r.state, "running") == 0 ? r.pid : 0;
	snprintf(out->dir, sizeof out->dir, "%s/%s", d->base_dir, name);
	osb_deployer__record_free(&r);
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
	if (strlen(o->base_dir) + OSB_NAME_SIZE + 1 > sizeof((osb_deployment *)0)->dir)
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
	if (pthread_create(&d->reaper, NULL, osb_deployer__reaper_main, d) != 0) {
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
	int basefd = osb_deployer__open_base(d, 0), fd = -1, rc = 0;
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
		if (osb_name_is_derived(e->d_name))
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
	if ((basefd = osb_deployer__open_base(d, 0)) < 0) {
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
		char dirpath[sizeof((osb_deployment *)0)->dir];
		if (!osb_name_is_derived(e->d_name))
			continue;
		snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, e->d_name);
		struct slot *s = slot_acquire(d, e->d_name);
		int ifd = s ? osb_deployer__open_instance(basefd, e->d_name, 0) : -1;
		if (ifd < 0) {
			osb_log(OSB_LOG_WARN, "deployer.readopt", "skipping %s: not a directory we can use", dirpath);
			slot_release(d, s);
			continue;
		}
		if (osb_deployer__record_read(ifd, e->d_name, &r) != 0) {
			/* A directory without a record is an ensure() that stopped before reserving a port. */
			close(ifd);
			slot_release(d, s);
			continue;
		}
		if (osb_deployer__rec_running(d, &r)) {
			int ppid = 0;
			/* Still our child when only the deployer, not the process, was restarted. */
			if (osb_deployer__proc_stat(r.pid, NULL, &ppid, NULL, NULL) == 0 && ppid == (int)getpid())
				osb_deployer__child_add(d, r.pid);
			adopted++;
			osb_log(OSB_LOG_INFO, "deployer.adopted", "%s server of %s adopted: pid %d, port %d", r.kind,
				e->d_name, r.pid, r.port);
			osb_deployer__record_free(&r);
			close(ifd);
			slot_release(d, s);
			continue;
		}
		osb_deployer__reap_orphan(&r);
		osb_deployer__kill_strays(d, dirpath, r.argv[0], 0);
		if (strcmp(r.state, "failed") == 0 || !r.prepared) {
			osb_log(OSB_LOG_INFO, "deployer.readopt",
				"%s server of %s left stopped (%s); the driver's next ensure starts it", r.kind,
				e->d_name, strcmp(r.state, "failed") == 0 ? "its last start failed" : "never prepared");
			osb_deployer__record_free(&r);
		} else if (!osb_deployer__port_bindable_within(r.port, 1000)) {
			char why[128];
			snprintf(why, sizeof why, "port %d is taken by another process", r.port);
			osb_deployer__fail_start(d, ifd, e->d_name, &r, why);
			osb_deployer__record_free(&r);
			failures++;
		} else if (osb_deployer__start_server(d, ifd, dirpath, e->d_name, &r) != 0) {
			char why[256];
			snprintf(why, sizeof why, "%s", r.error ? r.error : "cannot start");
			osb_deployer__fail_start(d, ifd, e->d_name, &r, why);
			osb_deployer__record_free(&r);
			failures++;
		} else {
			size_t want = waiting == cap ? (cap ? 2 * cap : 8) : cap;
			pending *grown = want != cap ? realloc(wait, want * sizeof *wait) : wait;
			if (grown)
				cap = want;
			if (!grown) {
				osb_deployer__fail_start(d, ifd, e->d_name, &r, "out of memory");
				osb_deployer__record_free(&r);
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
		char why[256], dirpath[sizeof((osb_deployment *)0)->dir];
		record *r = &wait[i].rec;
		snprintf(dirpath, sizeof dirpath, "%s/%s", d->base_dir, wait[i].name);
		struct slot *s = slot_acquire(d, wait[i].name);
		int ifd = s ? osb_deployer__open_instance(basefd, wait[i].name, 0) : -1;
		if (ifd < 0 || osb_deployer__wait_ready(d, r, dirpath, NULL, why, sizeof why) != 0) {
			if (ifd < 0)
				snprintf(why, sizeof why, "its directory vanished");
			if (ifd >= 0)
				osb_deployer__fail_start(d, ifd, wait[i].name, r, why);
			failures++;
		} else {
			snprintf(r->state, sizeof r->state, "running");
			osb_deployer__record_write(ifd, wait[i].name, r);
			restarted++;
			osb_log(OSB_LOG_INFO, "deployer.restarted", "%s server of %s restarted: pid %d, port %d",
				r->kind, wait[i].name, r->pid, r->port);
		}
		if (ifd >= 0)
			close(ifd);
		slot_release(d, s);
		osb_deployer__record_free(r);
	}
	free(wait);
	close(basefd);
	if (adopted || restarted || failures)
		osb_log(failures ? OSB_LOG_WARN : OSB_LOG_INFO, "deployer.readopt",
			"dedicated servers: %d adopted, %d restarted, %d failed", adopted, restarted, failures);
	return failures;
}
