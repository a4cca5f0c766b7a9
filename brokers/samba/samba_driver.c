/*
 * Samba driver: an instance is a share of its own (registry share osb_<hex>, its directory under
 * share_dir owned by a Unix group of the same name, `valid users = +group`); a binding is a Unix
 * account in that group with an SMB password in the server's passdb. A volume service: binds
 * answer volume_mounts in the shape of Cloud Foundry's SMB volume service. Samba needs a Unix
 * account per SMB user, so the broker runs on smbd's machine, as root, and uses Samba's own tools
 * (net conf, smbpasswd, smbstatus, smbcontrol) and the shadow tools (useradd, groupadd).
 */
#include <errno.h>
#include <dirent.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <osb.h>

#define SM_MAX_ARGS 16

struct sm_state {
	char *smb_conf, *share_dir;
	const char *data_dir;     /* the broker's: a share's definition is written there for `net conf import` */
	pthread_mutex_t accounts; /* the shadow tools lock /etc/passwd and /etc/group: one change at a time */
};

struct sm_ctx {
	struct sm_state *st;
	int64_t deadline;
	osb_errbuf *err;
};

static struct sm_ctx sm_req(osb_request *req, void *state)
{
	return (struct sm_ctx){ state, osb_clock_ms() + osb_request_timeout_ms(req), osb_request_errbuf(req) };
}

static int sm_said(const osb_exec_result *r, const char *text)
{
	return (r->out && strstr(r->out, text)) || (r->err && strstr(r->err, text));
}

/*
 * Run a tool before the deadline, `input` on its stdin. @return 0, an OSB error code, or the tool's
 * non-zero exit status with `err` holding its words (OSB_EBACKEND) for the caller to accept or return.
 */
static int sm_run(struct sm_ctx *c, osb_exec_result *res, const char *input, const char *const *argv)
{
	int rc;

	osb_exec_result_free(res);
	rc = osb_exec(res, &(osb_exec_options){ .argv = argv,
						.input = input,
						.input_len = input ? strlen(input) : 0,
						.timeout_ms = osb_ms_left(c->deadline) });
	if (rc == OSB_ETIMEOUT)
		return osb_errbuf_set(c->err, OSB_ETIMEOUT, "%s %s did not finish in time", argv[0], argv[1]);
	if (rc < 0)
		return osb_errbuf_set(c->err, OSB_EBACKEND, "cannot run %s: %s", argv[0],
				      res->start_errno ? strerror(res->start_errno) : osb_strerror(rc));
	if (rc > 0)
		osb_errbuf_set(c->err, OSB_EBACKEND, "%s %s: %s", argv[0], argv[1],
			       res->err && res->err[0]   ? res->err
			       : res->out && res->out[0] ? res->out
							 : "failed");
	return rc;
}

/* sm_run accepting exit status `ok_status` or a message `ok` (nothing left to do). @return 0 or an error code. */
static int sm_do(struct sm_ctx *c, const char *input, int ok_status, const char *ok, const char *const *argv)
{
	osb_exec_result res = { 0 };
	int rc = sm_run(c, &res, input, argv);

	if (rc > 0)
		rc = rc == ok_status || (ok && sm_said(&res, ok)) ? 0 : OSB_EBACKEND;
	osb_exec_result_free(&res);
	return rc;
}

/* A shadow tool (useradd, userdel, groupadd, groupdel), one at a time, again while another holds the lock. */
static int sm_account(struct sm_ctx *c, int ok_status, const char *const *argv)
{
	osb_exec_result res = { 0 };
	int rc;

	pthread_mutex_lock(&c->st->accounts);
	while ((rc = sm_run(c, &res, NULL, argv)) > 0 && rc != ok_status &&
	       (sm_said(&res, "lock") || sm_said(&res, "currently used by process")) && osb_ms_left(c->deadline) > 300)
		usleep(100000);
	pthread_mutex_unlock(&c->st->accounts);
	osb_exec_result_free(&res);
	return rc > 0 ? (rc == ok_status ? 0 : OSB_EBACKEND) : rc;
}

/* A Unix account's uid and group, or -1 when there is none. */
static int sm_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof buf, &found) != 0 || !found)
		return -1;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

static int sm_group(const char *name, gid_t *gid)
{
	struct group gr, *found = NULL;
	char buf[8192];

	if (getgrnam_r(name, &gr, buf, sizeof buf, &found) != 0 || !found)
		return -1;
	*gid = gr.gr_gid;
	return 0;
}

/*
 * smbd answers an SMB2 NEGOTIATE on the target before the deadline (a frozen or stopped smbd does
 * not). Samba's tools work on its files without smbd, so operations ask this first: a tenant made
 * while smbd is down would be made for nobody to see.
 */
static int sm_ping(const osb_target *t, int64_t deadline, osb_errbuf *err)
{
	/* clang-format off */
	static const unsigned char negotiate[] = {
		0, 0, 0, 108,                                     /* NetBIOS session message, 108 bytes */
		0xfe, 'S', 'M', 'B', 64, 0, 0, 0, 0, 0, 0, 0,     /* SMB2 header: size 64, credit charge, status */
		0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,               /* NEGOTIATE, 1 credit, flags, next command */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* message id, process id, tree id */
		0, 0, 0, 0, 0, 0, 0, 0,                           /* session id */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* signature */
		36, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0,              /* size 36, 4 dialects, signing enabled */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* client guid */
		0, 0, 0, 0, 0, 0, 0, 0,                           /* start time */
		0x02, 0x02, 0x10, 0x02, 0x00, 0x03, 0x02, 0x03,   /* SMB 2.0.2, 2.1, 3.0, 3.0.2 */
	};
	/* clang-format on */
	_Static_assert(sizeof negotiate == 4 + 108, "NetBIOS header and a 108-byte SMB2 NEGOTIATE");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	unsigned char reply[8];
	char port[8];
	size_t got = 0;
	int fd = -1, e = 0;
	socklen_t elen = sizeof e;

	snprintf(port, sizeof port, "%d", t->port);
	if (getaddrinfo(t->host, port, &hints, &ai) == 0 && ai &&
	    (fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) >= 0 &&
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		if (errno != EINPROGRESS || poll(&p, 1, osb_ms_left(deadline)) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0 || e) {
			close(fd);
			fd = -1;
		}
	}
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0 && send(fd, negotiate, sizeof negotiate, MSG_NOSIGNAL) == (ssize_t)sizeof negotiate) {
		while (got < sizeof reply) {
			struct pollfd p = { fd, POLLIN, 0 };
			ssize_t n;
			if (poll(&p, 1, osb_ms_left(deadline)) != 1 ||
			    (n = recv(fd, reply + got, sizeof reply - got, 0)) <= 0)
				break;
			got += (size_t)n;
		}
	}
	if (fd >= 0)
		close(fd);
	if (got == sizeof reply && memcmp(reply + 4, "\xfeSMB", 4) == 0)
		return 0;
	return osb_errbuf_set(err, OSB_EBACKEND, "smbd does not answer SMB on %s:%d", t->host, t->port);
}

/* -- shares ---------------------------------------------------------------- */

/* The share's `read list` (the read-only bindings), space-separated, malloc'd ("" when unset); NULL on error. */
static char *sm_read_list(struct sm_ctx *c, const char *share)
{
	osb_exec_result res = { 0 };
	int rc = sm_run(
		c, &res, NULL,
		(const char *const[]){ "net", "-s", c->st->smb_conf, "conf", "getparm", share, "read list", NULL });
	char *out = rc == 0 ? strdup(res.out) : rc > 0 && sm_said(&res, "is not set") ? strdup("") : NULL;

	for (char *p = out; p && *p; p++)
		if (*p == ',' || *p == '\n')
			*p = ' ';
	osb_exec_result_free(&res);
	return out;
}

/* Take `user` out of the share's read list, or put it in (read-only bindings). */
static int sm_set_read_only(struct sm_ctx *c, const char *share, const char *user, int read_only)
{
	char *list = sm_read_list(c, share), *save = NULL, *word;
	osb_buf next = OSB_BUF_INIT;
	int had = 0, rc = 0;

	if (!list)
		return c->err->code ? c->err->code
				    : osb_errbuf_set(c->err, OSB_EBACKEND, "cannot read share %s", share);
	for (word = strtok_r(list, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		if (strcmp(word, user) == 0)
			had = 1;
		else
			osb_buf_printf(&next, "%s%s", next.len ? " " : "", word);
	}
	if (read_only)
		osb_buf_printf(&next, "%s%s", next.len ? " " : "", user);
	if (!osb_buf_text(&next))
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	else if (had != read_only && next.len)
		rc = sm_do(c, NULL, -1, NULL,
			   (const char *const[]){ "net", "-s", c->st->smb_conf, "conf", "setparm", share, "read list",
						  next.data, NULL });
	else if (had != read_only)
		rc = sm_do(c, NULL, -1, "is not set",
			   (const char *const[]){ "net", "-s", c->st->smb_conf, "conf", "delparm", share, "read list",
						  NULL });
	osb_buf_free(&next);
	free(list);
	return rc;
}

static int sm_share_exists(struct sm_ctx *c, const char *share)
{
	osb_exec_result res = { 0 };
	int rc = sm_run(c, &res, NULL,
			(const char *const[]){ "net", "-s", c->st->smb_conf, "conf", "showshare", share, NULL });

	if (rc > 0)
		rc = sm_said(&res, "No such service") || sm_said(&res, "NO_SUCH_SERVICE") ? OSB_ENOTFOUND
											  : OSB_EBACKEND;
	osb_exec_result_free(&res);
	return rc;
}

/* rm -rf a directory of ours: share_dir and a derived name. */
static int sm_remove_tree(struct sm_ctx *c, const char *path)
{
	return sm_do(c, NULL, -1, NULL, (const char *const[]){ "rm", "-rf", "--one-file-system", "--", path, NULL });
}

/* -- bindings' accounts ---------------------------------------------------- */

/* End the smbd connections of a uid: the per-client smbd processes serving its sessions. */
static int sm_end_sessions(struct sm_ctx *c, uid_t uid, int *ended)
{
	osb_exec_result res = { 0 };
	int rc = sm_run(c, &res, NULL, (const char *const[]){ "smbstatus", "-s", c->st->smb_conf, "--json", NULL });
	cJSON *status = rc == 0 ? cJSON_Parse(res.out) : NULL, *s;
	char pids[64][16];
	int n = 0;

	osb_exec_result_free(&res);
	if (rc != 0)
		return rc > 0 ? OSB_EBACKEND : rc;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(status, "sessions"))
	{
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, "uid");
		const cJSON *pid =
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "server_id"), "pid");
		if (cJSON_IsNumber(u) && (uid_t)u->valuedouble == uid && cJSON_IsString(pid) && n < 64 &&
		    strspn(pid->valuestring, "0123456789") == strlen(pid->valuestring) && strlen(pid->valuestring) < 16)
			snprintf(pids[n++], sizeof pids[0], "%s", pid->valuestring);
	}
	cJSON_Delete(status);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = sm_do(c, NULL, -1, "No such process",
			   (const char *const[]){ "smbcontrol", "-s", c->st->smb_conf, pids[i], "shutdown", NULL });
	*ended = n;
	return rc;
}

/* Revoke a binding: its SMB password, its sessions, then its Unix account (only once no smbd serves it). */
static int sm_drop_user(struct sm_ctx *c, const char *user, int *ended)
{
	uid_t uid;
	gid_t gid;
	int rc = sm_do(c, NULL, -1, "Failed to find entry",
		       (const char *const[]){ "smbpasswd", "-c", c->st->smb_conf, "-x", user, NULL });

	*ended = 0;
	if (rc == 0 && sm_user(user, &uid, &gid) == 0) {
		rc = sm_end_sessions(c, uid, ended);
		if (rc == 0)
			rc = sm_account(c, 6, (const char *const[]){ "userdel", user, NULL });
	}
	return rc;
}

/* Every broker-made account whose group is the instance's: the bindings of a share being deleted. */
static int sm_drop_group_users(struct sm_ctx *c, gid_t gid)
{
	FILE *f = fopen("/etc/passwd", "r");
	char names[256][OSB_NAME_SIZE];
	struct passwd pw, *found;
	char buf[4096];
	int n = 0, rc = 0, ended;

	while (f && n < 256 && fgetpwent_r(f, &pw, buf, sizeof buf, &found) == 0)
		if (pw.pw_gid == gid && osb_name_is_derived(pw.pw_name))
			snprintf(names[n++], OSB_NAME_SIZE, "%s", pw.pw_name);
	if (f)
		fclose(f);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = sm_drop_user(c, names[i], &ended);
	return rc;
}

/* Delete a share: its bindings' accounts, the share, its connections, its group and its directory with every file. */
static int sm_drop_share(struct sm_ctx *c, const char *share)
{
	char *path = NULL;
	gid_t gid;
	int rc = 0;

	if (sm_group(share, &gid) == 0)
		rc = sm_drop_group_users(c, gid);
	if (rc == 0)
		rc = sm_do(c, NULL, -1, "NO_SUCH_SERVICE",
			   (const char *const[]){ "net", "-s", c->st->smb_conf, "conf", "delshare", share, NULL });
	if (rc == 0) {
		/* Tree connects that outlived their users; no smbd, nothing to close. */
		osb_exec_result res = { 0 };
		sm_run(c, &res, NULL,
		       (const char *const[]){ "smbcontrol", "-s", c->st->smb_conf, "smbd", "close-share", share,
					      NULL });
		osb_exec_result_free(&res);
		rc = sm_account(c, 6, (const char *const[]){ "groupdel", share, NULL });
	}
	if (rc == 0 && asprintf(&path, "%s/%s", c->st->share_dir, share) < 0)
		rc = osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sm_remove_tree(c, path);
	free(path);
	return rc;
}

/* -- instances ------------------------------------------------------------ */

/* The plan's connection limit: Samba refuses more tree connects to the share. */
static int sm_max_connections(osb_request *req, long long *max)
{
	*max = osb_request_plan_int(req, "max_connections", 0);
	if (*max < 1 || *max > 100000)
		return osb_req_fail(req, OSB_ERROR,
				    "the plan's x-osb.max_connections must be a number from 1 to 100000");
	return 0;
}

/*
 * The share as the instance needs it: a group, a directory only the group reaches (setgid, so
 * files stay the group's), and the share in one `net conf import`, so that it never exists
 * without its `valid users`.
 */
static int samba_provision(osb_request *req, void *state)
{
	struct sm_ctx c = sm_req(req, state);
	const char *share = osb_request_instance_name(req);
	char *path = osb_req_sprintf(req, "%s/%s", c.st->share_dir, share), *def;
	long long max;
	gid_t gid;
	int rc;

	if ((rc = sm_max_connections(req, &max)) != 0 ||
	    (rc = sm_ping(osb_request_target(req), c.deadline, c.err)) != 0)
		return rc;
	if (!path ||
	    !(def = osb_req_sprintf(req,
				    "[%s]\n\tpath = %s\n\tcomment = OSB instance %s\n\tvalid users = +%s\n"
				    "\tread only = no\n\tguest ok = no\n\tcreate mask = 0660\n"
				    "\tdirectory mask = 2770\n\tforce directory mode = 2770\n\twide links = no\n"
				    "\taccess based share enum = yes\n\tmax connections = %lld\n",
				    share, path, share, share, max)))
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	if (sm_group(share, &gid) != 0 &&
	    (rc = sm_account(&c, 9, (const char *const[]){ "groupadd", share, NULL })) != 0)
		return rc;
	if (sm_group(share, &gid) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "group %s was made but cannot be read back", share);
	if (osb_mkdir_p(c.st->share_dir, 0755) != 0 || (mkdir(path, 0770) != 0 && errno != EEXIST) ||
	    chown(path, 0, gid) != 0 || chmod(path, 02770) != 0)
		return osb_req_fail(req, OSB_EBACKEND, "cannot make the share's directory %s: %s", path,
				    strerror(errno));
	/* net conf import reads a regular file only: the definition goes through one in the broker's directory. */
	if ((rc = sm_share_exists(&c, share)) == OSB_ENOTFOUND) {
		char *file = osb_req_sprintf(req, "%s.smb.conf", share),
		     *at = osb_req_sprintf(req, "%s/%s", c.st->data_dir, file ? file : "");
		if (!file || !at || osb_file_write_private(c.st->data_dir, file, def, strlen(def), 0) != 0)
			return osb_req_fail(req, OSB_ERROR, "cannot write the share's definition in %s",
					    c.st->data_dir);
		rc = sm_do(&c, NULL, -1, NULL,
			   (const char *const[]){ "net", "-s", c.st->smb_conf, "conf", "import", at, share, NULL });
		unlink(at);
	}
	if (rc == 0)
		osb_request_note(req, "share %s on %s for group %s, at most %lld connections", share, path, share, max);
	return rc;
}

static int samba_update(osb_request *req, void *state)
{
	struct sm_ctx c = sm_req(req, state);
	const char *share = osb_request_instance_name(req);
	char max_text[24];
	long long max;
	int rc = sm_max_connections(req, &max);

	snprintf(max_text, sizeof max_text, "%lld", max);
	if (rc == 0)
		rc = sm_do(&c, NULL, -1, NULL,
			   (const char *const[]){ "net", "-s", c.st->smb_conf, "conf", "setparm", share,
						  "max connections", max_text, NULL });
	if (rc == 0)
		osb_request_note(req, "at most %lld connections", max);
	return rc;
}

static int samba_deprovision(osb_request *req, void *state)
{
	struct sm_ctx c = sm_req(req, state);
	int rc = sm_drop_share(&c, osb_request_instance_name(req));

	if (rc == 0)
		osb_request_note(req, "share, group, directory and every file in it deleted");
	return rc;
}

/* -- bindings ------------------------------------------------------------- */

/* The volume mount of Cloud Foundry's SMB volume service (smbdriver): the share and the login in mount_config. */
static int sm_mounts(osb_request *req, const char *share, const char *user, const char *password, int read_only)
{
	const osb_target *t = osb_request_target(req);
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "container_dir");
	char *def = osb_req_sprintf(req, "/var/vcap/data/%s", osb_request_instance_id(req));
	char *source = osb_req_sprintf(req, "//%s/%s", t->public_host, share);
	char *id = osb_req_sprintf(req, "%s-%s", osb_request_instance_id(req), user);
	char port[8];
	cJSON *mounts = cJSON_CreateArray(), *m = cJSON_CreateObject(), *dev, *conf;

	snprintf(port, sizeof port, "%d", t->public_port);
	if (!cJSON_AddItemToArray(mounts, m))
		cJSON_Delete(m);
	dev = cJSON_AddObjectToObject(m, "device");
	conf = cJSON_AddObjectToObject(dev, "mount_config");
	if (!def || !source || !id || !conf || !cJSON_AddStringToObject(m, "driver", "smbdriver") ||
	    !cJSON_AddStringToObject(m, "container_dir", cJSON_IsString(dir) ? dir->valuestring : def) ||
	    !cJSON_AddStringToObject(m, "mode", read_only ? "r" : "rw") ||
	    !cJSON_AddStringToObject(m, "device_type", "shared") || !cJSON_AddStringToObject(dev, "volume_id", id) ||
	    !cJSON_AddStringToObject(conf, "source", source) || !cJSON_AddStringToObject(conf, "username", user) ||
	    !cJSON_AddStringToObject(conf, "password", password) ||
	    (t->public_port != 445 && !cJSON_AddStringToObject(conf, "port", port)) ||
	    (read_only && !cJSON_AddBoolToObject(conf, "readonly", 1))) {
		cJSON_Delete(mounts);
		return osb_req_fail(req, OSB_ENOMEM, "out of memory");
	}
	return osb_request_set_volume_mounts(req, mounts);
}

/*
 * A Unix account in the instance's group (no home, no shell, no Unix password), its SMB password
 * (smbpasswd reads it on stdin), and for mode "r" a place in the share's read list.
 */
static int samba_bind(osb_request *req, void *state)
{
	struct sm_ctx c = sm_req(req, state);
	const char *share = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(osb_request_parameters(req), "mode");
	int read_only = cJSON_IsString(mode) && strcmp(mode->valuestring, "r") == 0;
	char password[OSB_SECRET_DEFAULT_LEN + 1], input[2 * OSB_SECRET_DEFAULT_LEN + 3];
	cJSON *cred;
	uid_t uid;
	gid_t gid, ugid;
	int rc;

	if ((rc = sm_ping(osb_request_target(req), c.deadline, c.err)) != 0)
		return rc;
	if ((rc = sm_share_exists(&c, share)) != 0 || sm_group(share, &gid) != 0)
		return rc == OSB_ENOTFOUND || rc == 0 ? osb_req_fail(req, OSB_EBACKEND,
								     "the instance's share %s or its group "
								     "does not exist",
								     share)
						      : rc;
	if (sm_user(user, &uid, &ugid) != 0 &&
	    (rc = sm_account(&c, 9,
			     (const char *const[]){ "useradd", "-M", "-N", "-g", share, "-d", "/nonexistent", "-s",
						    "/usr/sbin/nologin", "-c", "OSB binding", user, NULL })) != 0)
		return rc;
	if (sm_user(user, &uid, &ugid) != 0 || ugid != gid)
		return osb_req_fail(req, OSB_EBACKEND, "the Unix account %s is missing or not in group %s", user,
				    share);
	if (osb_secret_generate(password, sizeof password, OSB_SECRET_DEFAULT_LEN) != 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	snprintf(input, sizeof input, "%s\n%s\n", password, password);
	rc = sm_do(&c, input, -1, NULL,
		   (const char *const[]){ "smbpasswd", "-c", c.st->smb_conf, "-s", "-a", user, NULL });
	explicit_bzero(input, sizeof input);
	if (rc == 0)
		rc = sm_set_read_only(&c, share, user, read_only);
	cred = rc == 0 ? osb_credentials_new(req, &(osb_credentials_spec){ .scheme = "smb",
									   .username = user,
									   .password = password,
									   .path = share })
		       : NULL;
	if (rc == 0 &&
	    (!cred || !cJSON_AddStringToObject(cred, "share", share) ||
	     !cJSON_AddStringToObject(cred, "source",
				      osb_req_sprintf(req, "//%s/%s", osb_request_target(req)->public_host, share)))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if (rc == 0 && (rc = osb_credentials_set(req, cred)) == 0 &&
	    (rc = sm_mounts(req, share, user, password, read_only)) == 0) {
		if ((rc = osb_request_save_binding_str(req, "user", user)) == 0 &&
		    (rc = osb_request_save_binding_bool(req, "read_only", read_only)) == 0) {
			osb_request_note(req, "user %s (uid %u) on share %s%s", user, (unsigned)uid, share,
					 read_only ? ", read-only" : "");
		}
	}
	explicit_bzero(password, sizeof password);
	return rc;
}

/* Unbind: no more logins, no more sessions (their smbd processes end), no more Unix account. */
static int samba_unbind(osb_request *req, void *state)
{
	struct sm_ctx c = sm_req(req, state);
	const char *share = osb_request_instance_name(req), *user = osb_request_binding_name(req);
	int ended, rc = sm_drop_user(&c, user, &ended);

	if (rc == 0 && sm_share_exists(&c, share) == 0)
		rc = sm_set_read_only(&c, share, user, 0);
	if (rc == 0)
		osb_request_note(req, "login and account of %s removed, %d session(s) ended", user, ended);
	return rc;
}

/* -- health and reconciliation -------------------------------------------- */

static int samba_health(const osb_target *server, void *state, osb_errbuf *err)
{
	(void)state;
	return sm_ping(server, osb_clock_ms() + OSB_HEALTH_TIMEOUT_MS, err);
}

/* Call cb for each derived name at the start of a line of `text` (up to a ':' or the line's end). */
static int sm_each_name(const char *text, osb_tenant_kind kind, osb_tenant_cb cb, void *payload)
{
	char name[OSB_NAME_SIZE];

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t len = strcspn(p, ":\n");
		if (len == OSB_NAME_SIZE - 1) {
			snprintf(name, sizeof name, "%.*s", (int)len, p);
			if (osb_name_is_derived(name) && cb(kind, name, payload))
				return 1;
		}
	}
	return 0;
}

/* Shares named osb_... (instances), passdb users named osb_... (bindings), and share directories left behind. */
static int samba_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	struct sm_ctx c = { state, osb_clock_ms() + OSB_RECONCILE_TIMEOUT_MS, err };
	osb_exec_result shares = { 0 }, users = { 0 };
	struct dirent *e;
	DIR *d;
	int rc;

	(void)server;
	rc = sm_run(&c, &shares, NULL,
		    (const char *const[]){ "net", "-s", c.st->smb_conf, "conf", "listshares", NULL });
	if (rc == 0)
		rc = sm_run(&c, &users, NULL, (const char *const[]){ "pdbedit", "-s", c.st->smb_conf, "-L", NULL });
	if (rc == 0 && !sm_each_name(shares.out, OSB_TENANT_INSTANCE, cb, payload) &&
	    !sm_each_name(users.out, OSB_TENANT_BINDING, cb, payload) && (d = opendir(c.st->share_dir))) {
		while ((e = readdir(d)) &&
		       !(osb_name_is_derived(e->d_name) && cb(OSB_TENANT_INSTANCE, e->d_name, payload)))
			;
		closedir(d);
	}
	osb_exec_result_free(&shares);
	osb_exec_result_free(&users);
	return rc > 0 ? OSB_EBACKEND : rc;
}

static int samba_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct sm_ctx c = { state, osb_clock_ms() + OSB_RECONCILE_TIMEOUT_MS, err };
	int ended;

	(void)server;
	return kind == OSB_TENANT_INSTANCE ? sm_drop_share(&c, name) : sm_drop_user(&c, name, &ended);
}

/* -- the driver ------------------------------------------------------------ */

static void samba_shutdown(void *state)
{
	struct sm_state *st = state;

	if (!st)
		return;
	pthread_mutex_destroy(&st->accounts);
	free(st->smb_conf);
	free(st->share_dir);
	free(st);
}

static int samba_init(void **state, const cJSON *config, const osb_broker *broker)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-";
	struct sm_state *st = calloc(1, sizeof *st);
	int rc = st ? 0 : OSB_ENOMEM;

	if (rc == 0) {
		pthread_mutex_init(&st->accounts, NULL);
		st->data_dir = osb_broker_data_dir(broker);
	}
	if (rc == 0)
		rc = osb_driver_config_string(&st->smb_conf, config, "samba", "smb_conf", "/etc/samba/smb.conf");
	if (rc == 0)
		rc = osb_driver_config_string(&st->share_dir, config, "samba", "share_dir", "/srv/samba/osb");
	/* Both reach Samba's tools and a share's definition: plain absolute paths only. */
	for (int i = 0; rc == 0 && i < 2; i++) {
		const char *p = i ? st->share_dir : st->smb_conf;
		if (p[0] != '/' || strstr(p, "..") || strspn(p, plain) != strlen(p)) {
			osb_log(OSB_LOG_ERROR, "samba.config", "driver.%s must be a plain absolute path",
				i ? "share_dir" : "smb_conf");
			rc = OSB_EBADREQUEST;
		}
	}
	if (rc) {
		samba_shutdown(st);
		return rc;
	}
	*state = st;
	return 0;
}

/* Samba's admin is root on its machine: no admin login in the server block. */
static const osb_server_spec samba_server = { .default_port = 445, .default_admin_user = "", .password_optional = 1 };
static const char *const samba_keys[] = { "smb_conf", "share_dir", NULL };

static const struct osb_driver samba_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "samba",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_PLAN_UPDATEABLE | OSB_CAP_VOLUME_MOUNTS | OSB_CAP_RECONCILE,
	.server = &samba_server,
	.config_keys = samba_keys,
	OSB_DRIVER_SLOTS(samba, init, shutdown, provision, deprovision, update, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(samba, samba_driver);
