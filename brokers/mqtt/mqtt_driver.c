/* MQTT driver: an instance is a topic tree <name>/# guarded by a Mosquitto dynamic-security role,
 * a binding a client in that role. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/evp.h>

#include <osb.h>

/* The dynamic-security plugin's admin protocol: JSON commands in, JSON answers out. */
#define MQ_CONTROL "$CONTROL/dynamic-security/v1"
#define MQ_RESPONSE MQ_CONTROL "/response"
/* Every role, and every client with its roles. */
#define MQ_LIST_ALL "[{\"command\":\"listRoles\"},{\"command\":\"listClients\",\"verbose\":true}]"
/* A dedicated server's files; the broker administers it through a unix socket no tenant can reach or fill. */
#define MQ_CONF_FILE "mosquitto.conf"
#define MQ_DYNSEC_FILE "dynamic-security.json"
#define MQ_ADMIN_SOCKET "admin.sock"
/* ready() is polled while a dedicated server starts: each try must fail fast. */
#define MQ_READY_TIMEOUT_MS 500
/* PBKDF2-SHA512 rounds of the admin password in a dedicated server's dynsec file (the plugin's own default is 101). */
#define MQ_PBKDF2_ROUNDS 10000
#define MQ_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

static const char *const mq_plugin_paths[] = {
	"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
	"/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
	"/usr/lib/mosquitto_dynamic_security.so",
	"/usr/local/lib/mosquitto_dynamic_security.so",
	NULL,
};

/* The driver's state: the plugin dedicated servers load; read-only after init. */
struct mq_state {
	char *plugin;
};

/* One MQTT connection of a callback, its deadline, and what its callbacks saw. */
struct mq_conn {
	struct mosquitto *m;
	int64_t deadline; /* osb_clock_ms() */
	osb_errbuf *err;
	char where[160];        /* "127.0.0.1:1883" or the admin socket, for messages */
	char id[48];            /* the client id: random, so that two callbacks never take over each other's session */
	int connected, connack; /* CONNACK came, and its code */
	int sub_mid, subacked;  /* the SUBSCRIBE waited for, and whether its SUBACK came */
	int granted;            /* the QoS its SUBACK granted (0x80: refused) */
	int lost;               /* the server closed the connection */
	int seq;                /* commands sent on this connection */
	char corr[64];          /* correlation data of the commands waited for: the plugin answers every admin */
	cJSON *answer;          /* their "responses" */
	int answered;
	const char *marker; /* retained scan: the topic that ends a pass */
	int marker_seen;
	cJSON *retained; /* retained scan: topics holding a retained message */
};

static int mq_fail(struct mq_conn *c, int code, const char *fmt, ...) OSB_PRINTF(3, 4);

static int mq_fail(struct mq_conn *c, int code, const char *fmt, ...)
{
	char msg[OSB_ERRBUF_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return osb_errbuf_set(c->err, code, "Mosquitto at %s: %s", c->where, msg);
}

/* A string member of a JSON object, "" when absent. */
static const char *mq_str(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));

	return s ? s : "";
}

/* -- the connection -------------------------------------------------------- */

static void mq_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct mq_conn *c = obj;

	(void)m;
	c->connack = rc;
	c->connected = 1;
}

static void mq_on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted)
{
	struct mq_conn *c = obj;

	(void)m;
	if (mid == c->sub_mid) {
		c->granted = count > 0 ? granted[0] : 0x80;
		c->subacked = 1;
	}
}

static void mq_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	(void)rc;
	((struct mq_conn *)obj)->lost = 1;
}

static void mq_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct mq_conn *c = obj;
	const cJSON *first;
	cJSON *doc, *responses;

	(void)m;
	if (c->corr[0] && !c->answer && strcmp(msg->topic, MQ_RESPONSE) == 0) {
		doc = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
		responses = cJSON_DetachItemFromObjectCaseSensitive(doc, "responses");
		first = cJSON_GetArrayItem(responses, 0);
		if (cJSON_IsArray(responses) && strcmp(mq_str(first, "correlationData"), c->corr) == 0) {
			c->answer = responses;
			c->answered = 1;
		} else
			cJSON_Delete(responses);
		cJSON_Delete(doc);
	} else if (c->marker && strcmp(msg->topic, c->marker) == 0 && !msg->retain) {
		c->marker_seen = 1;
	} else if (c->retained && msg->retain && msg->payloadlen > 0) {
		cJSON_AddItemToArray(c->retained, cJSON_CreateString(msg->topic));
	}
}

/* Run the connection's I/O (poll, not libmosquitto's select loop: any fd number works) until *done or the deadline. */
static int mq_wait(struct mq_conn *c, const int *done, const char *what)
{
	while (!*done) {
		struct pollfd p = { .fd = mosquitto_socket(c->m), .events = POLLIN };
		int64_t left = c->deadline - osb_clock_ms();
		int rc = MOSQ_ERR_SUCCESS, n;

		if (c->lost || p.fd < 0)
			return mq_fail(c, OSB_EBACKEND, "the connection closed while waiting for %s", what);
		if (left <= 0)
			return mq_fail(c, OSB_ETIMEOUT, "no %s in time", what);
		if (mosquitto_want_write(c->m))
			p.events |= POLLOUT;
		n = poll(&p, 1, left > 200 ? 200 : (int)left);
		if (n < 0 && errno != EINTR)
			return mq_fail(c, OSB_EBACKEND, "poll: %s", strerror(errno));
		/* A TLS handshake advances in loop_read, whichever way the socket is ready. */
		if (n > 0)
			rc = mosquitto_loop_read(c->m, 1);
		if (rc == MOSQ_ERR_SUCCESS && n > 0 && (p.revents & POLLOUT))
			rc = mosquitto_loop_write(c->m, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(c->m);
		if (rc != MOSQ_ERR_SUCCESS && !*done)
			return mq_fail(c, OSB_EBACKEND, "connection lost waiting for %s: %s", what,
				       rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	}
	return 0;
}

/* A TCP connect within the deadline: libmosquitto's own connect has no timeout. */
static int mq_probe(struct mq_conn *c, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char service[8];
	int fd = -1, rc, soerr = 0;
	socklen_t len = sizeof(soerr);

	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &ai)) != 0)
		return mq_fail(c, OSB_EBACKEND, "cannot resolve the host: %s", gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		rc = poll(&p, 1, osb_ms_left(c->deadline));
		if (rc == 0)
			rc = mq_fail(c, OSB_ETIMEOUT, "no TCP connection in time");
		else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
			rc = 0;
		else
			rc = mq_fail(c, OSB_EBACKEND, "cannot connect: %s", strerror(soerr ? soerr : errno));
	} else if (rc < 0) {
		rc = mq_fail(c, OSB_EBACKEND, "cannot connect: %s", strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static void mq_close(struct mq_conn *c)
{
	if (c->m) {
		if (!c->lost)
			mosquitto_disconnect(c->m);
		mosquitto_destroy(c->m);
	}
	c->m = NULL;
	cJSON_Delete(c->answer);
	c->answer = NULL;
	cJSON_Delete(c->retained);
	c->retained = NULL;
}

/* Subscribe to one filter and wait for the SUBACK; a refusal means the login lacks the ACL. */
static int mq_subscribe(struct mq_conn *c, const char *filter)
{
	int rc;

	c->subacked = 0;
	if ((rc = mosquitto_subscribe(c->m, &c->sub_mid, filter, 0)) != MOSQ_ERR_SUCCESS)
		return mq_fail(c, OSB_EBACKEND, "cannot subscribe to %s: %s", filter, mosquitto_strerror(rc));
	if ((rc = mq_wait(c, &c->subacked, "a SUBACK")) < 0)
		return rc;
	return c->granted >= 0x80 ? mq_fail(c, OSB_EBACKEND, "subscription to %s refused", filter) : 0;
}

/*
 * Log in on the target as `user` (NULL: the target's admin, who then listens
 * for the plugin's answers). A dedicated server's admin goes through the
 * instance's unix socket, which max_connections does not count.
 */
static int mq_open(struct mq_conn *c, const osb_target *t, const char *user, const char *password, int timeout_ms,
		   osb_errbuf *err)
{
	char rnd[23], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *host = t->host;
	int port = t->port, rc;

	memset(c, 0, sizeof(*c));
	c->err = err;
	c->deadline = osb_clock_ms() + timeout_ms;
	if (!user && t->dedicated && t->dir) {
		if ((size_t)snprintf(sock, sizeof(sock), "%s/" MQ_ADMIN_SOCKET, t->dir) >= sizeof(sock))
			return osb_errbuf_set(err, OSB_ERROR, "%s: the admin socket's path is too long", t->dir);
		host = sock;
		port = 0;
		snprintf(c->where, sizeof(c->where), "%s", sock);
	} else {
		snprintf(c->where, sizeof(c->where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
		if ((rc = mq_probe(c, host, port)) < 0)
			return rc;
	}
	if (osb_secret_generate(rnd, sizeof(rnd), 22) < 0)
		return osb_errbuf_set(err, OSB_ERROR, "cannot generate a client id");
	snprintf(c->id, sizeof(c->id), "osb-broker-%s", rnd);
	if (!(c->m = mosquitto_new(c->id, true, c)))
		return osb_errbuf_set(err, OSB_ENOMEM, "cannot make an MQTT client: %s", strerror(errno));
	mosquitto_connect_callback_set(c->m, mq_on_connect);
	mosquitto_subscribe_callback_set(c->m, mq_on_subscribe);
	mosquitto_disconnect_callback_set(c->m, mq_on_disconnect);
	mosquitto_message_callback_set(c->m, mq_on_message);
	rc = mosquitto_username_pw_set(c->m, user ? user : t->admin_user, user ? password : t->admin_password);
	if (rc == MOSQ_ERR_SUCCESS && t->tls && port) {
		rc = t->ca_file ? mosquitto_tls_set(c->m, t->ca_file, NULL, NULL, NULL, NULL)
				: mosquitto_int_option(c->m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	}
	if (rc != MOSQ_ERR_SUCCESS)
		return mq_fail(c, OSB_ERROR, "cannot set up the client: %s", mosquitto_strerror(rc));
	/* Blocking only for the TCP connect the probe just made; TLS and CONNACK wait in mq_wait. */
	if ((rc = mosquitto_connect(c->m, host, port, 30)) != MOSQ_ERR_SUCCESS)
		return mq_fail(c, OSB_EBACKEND, "cannot connect: %s",
			       rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	if ((rc = mq_wait(c, &c->connected, "CONNACK")) < 0)
		return rc;
	if (c->connack != 0)
		return mq_fail(c, OSB_EBACKEND, "login of %s refused: %s", user ? user : t->admin_user,
			       mosquitto_connack_string(c->connack));
	return user ? 0 : mq_subscribe(c, MQ_RESPONSE);
}

static int mq_open_req(struct mq_conn *c, osb_request *req)
{
	return mq_open(c, osb_request_target(req), NULL, NULL, osb_request_timeout_ms(req), osb_request_errbuf(req));
}

/* -- dynamic-security commands --------------------------------------------- */

/*
 * Commands are built into one array: mq_cmd() appends one, and on a failed
 * allocation frees the whole array and clears the pointer, so a caller checks
 * once, in mq_run(), which takes the array in every case.
 */
static cJSON *mq_cmd(cJSON **cmds, const char *name, ...)
{
	cJSON *cmd = *cmds ? cJSON_CreateObject() : NULL;
	const char *key;
	va_list ap;
	int ok = cmd && cJSON_AddStringToObject(cmd, "command", name) && cJSON_AddItemToArray(*cmds, cmd);

	if (!ok)
		cJSON_Delete(cmd);
	va_start(ap, name);
	while (ok && (key = va_arg(ap, const char *)) != NULL)
		ok = cJSON_AddStringToObject(cmd, key, va_arg(ap, const char *)) != NULL;
	va_end(ap);
	if (ok)
		return cmd;
	cJSON_Delete(*cmds);
	*cmds = NULL;
	return NULL;
}

/* Add "roles": [{"rolename": role}] to the last command (a createClient). */
static void mq_cmd_roles(cJSON **cmds, const char *role)
{
	cJSON *cmd = cJSON_GetArrayItem(*cmds, cJSON_GetArraySize(*cmds) - 1);
	cJSON *roles = cmd ? cJSON_AddArrayToObject(cmd, "roles") : NULL, *r = cJSON_CreateObject();

	if (!roles || !r || !cJSON_AddStringToObject(r, "rolename", role) || !cJSON_AddItemToArray(roles, r)) {
		cJSON_Delete(r);
		cJSON_Delete(*cmds);
		*cmds = NULL;
	}
}

/* Answers that mean "already as wanted": the commands are idempotent this way. */
static int mq_benign(const char *command, const char *error)
{
	return (strcmp(command, "createRole") == 0 && strcmp(error, "Role already exists") == 0) ||
	       (strcmp(command, "deleteRole") == 0 && strcmp(error, "Role not found") == 0) ||
	       (strcmp(command, "deleteClient") == 0 && strcmp(error, "Client not found") == 0);
}

/*
 * Send `cmds` (taken, also when NULL: memory ran out building it) and wait for
 * the plugin's answer. Any error but a benign one fails the batch with the
 * plugin's text.
 * @param[out] answer  the responses when not NULL (caller frees).
 */
static int mq_run(struct mq_conn *c, cJSON *cmds, cJSON **answer)
{
	cJSON *doc = cmds ? cJSON_CreateObject() : NULL;
	const cJSON *r;
	char *text = NULL;
	int rc, i = 0;

	if (answer)
		*answer = NULL;
	cJSON_Delete(c->answer);
	c->answer = NULL;
	c->answered = 0;
	snprintf(c->corr, sizeof(c->corr), "%s-%d", c->id, ++c->seq);
	if (!doc || !cJSON_AddItemToObject(doc, "commands", cmds)) {
		cJSON_Delete(doc);
		cJSON_Delete(cmds);
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	}
	if (cJSON_AddStringToObject(cJSON_GetArrayItem(cmds, 0), "correlationData", c->corr))
		text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return osb_errbuf_set(c->err, OSB_ENOMEM, "out of memory");
	rc = mosquitto_publish(c->m, NULL, MQ_CONTROL, (int)strlen(text), text, 1, false);
	/* Commands may hold a password. */
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc != MOSQ_ERR_SUCCESS)
		return mq_fail(c, OSB_EBACKEND, "cannot publish to " MQ_CONTROL ": %s", mosquitto_strerror(rc));
	if ((rc = mq_wait(c, &c->answered, "answer from the dynamic-security plugin")) < 0)
		return rc;
	cJSON_ArrayForEach(r, c->answer)
	{
		i++;
		if (cJSON_GetObjectItemCaseSensitive(r, "error") &&
		    !mq_benign(mq_str(r, "command"), mq_str(r, "error")))
			return mq_fail(c, OSB_EBACKEND, "the dynamic-security plugin refused %s (command %d): %.200s",
				       mq_str(r, "command"), i, mq_str(r, "error"));
	}
	if (answer) {
		*answer = c->answer;
		c->answer = NULL;
	}
	return 0;
}

/* The data of the n-th response of an answer. */
static const cJSON *mq_data(const cJSON *answer, int n)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(answer, n), "data");
}

/* Whether a client of listClients (verbose) has `role`. */
static int mq_has_role(const cJSON *client, const char *role)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(client, "roles")) if (strcmp(mq_str(r, "rolename"),
											    role) == 0) return 1;
	return 0;
}

/* Deleting a client also disconnects every session logged in as it. */
static int mq_delete_client(struct mq_conn *c, const char *user)
{
	cJSON *cmds = cJSON_CreateArray();

	mq_cmd(&cmds, "deleteClient", "username", user, NULL);
	return mq_run(c, cmds, NULL);
}

/* -- removing an instance ---------------------------------------------------- */

/*
 * Clear every retained message under `tree`/#, logged in as a client that has
 * the instance's role. Each pass subscribes (the server then sends the retained
 * messages), publishes a marker behind them on the same connection (the server
 * handles one connection's packets in order) and clears what came before it;
 * passes repeat until one finds nothing, in case the server dropped some.
 */
static int mq_clear_retained(struct mq_conn *p, const char *tree, long *cleared)
{
	char filter[OSB_NAME_SIZE + 2], marker[OSB_NAME_SIZE + 48], rnd[23];
	const cJSON *topic;
	int rc, n;

	snprintf(filter, sizeof(filter), "%s/#", tree);
	if (osb_secret_generate(rnd, sizeof(rnd), 22) < 0)
		return osb_errbuf_set(p->err, OSB_ERROR, "cannot generate a marker");
	snprintf(marker, sizeof(marker), "%s/osb-purge-end-%s", tree, rnd);
	p->marker = marker;
	do {
		cJSON_Delete(p->retained);
		if (!(p->retained = cJSON_CreateArray()))
			return osb_errbuf_set(p->err, OSB_ENOMEM, "out of memory");
		p->marker_seen = 0;
		if ((rc = mq_subscribe(p, filter)) < 0)
			return rc;
		if ((rc = mosquitto_publish(p->m, NULL, marker, 0, NULL, 0, false)) != MOSQ_ERR_SUCCESS)
			return mq_fail(p, OSB_EBACKEND, "cannot publish: %s", mosquitto_strerror(rc));
		if ((rc = mq_wait(p, &p->marker_seen, "the retained messages")) < 0)
			return rc;
		n = 0;
		cJSON_ArrayForEach(topic, p->retained)
		{
			if ((rc = mosquitto_publish(p->m, NULL, topic->valuestring, 0, NULL, 0, true)) !=
			    MOSQ_ERR_SUCCESS)
				return mq_fail(p, OSB_EBACKEND, "cannot clear a retained message: %s",
					       mosquitto_strerror(rc));
			n++;
		}
		*cleared += n;
	} while (n > 0);
	return 0;
}

/*
 * Remove an instance: the clients in its role (bindings a crash left, a
 * purger), its retained messages (through a purger: a client named like the
 * instance, in its role, made for this), then the role (which ends any session
 * left). Finds everything from the role's name alone, so a retry converges.
 */
static int mq_drop_instance(struct mq_conn *c, const osb_target *t, const char *role, long *cleared)
{
	char password[OSB_SECRET_DEFAULT_LEN + 1];
	cJSON *cmds = cJSON_Parse(MQ_LIST_ALL), *answer = NULL;
	struct mq_conn p = { 0 };
	const cJSON *client;
	int rc, has_role;

	*cleared = 0;
	if ((rc = mq_run(c, cmds, &answer)) < 0)
		return rc;
	has_role = 0;
	cJSON_ArrayForEach(client, cJSON_GetObjectItemCaseSensitive(mq_data(answer, 0), "roles")) has_role |=
		strcmp(cJSON_GetStringValue(client) ? client->valuestring : "", role) == 0;
	cmds = cJSON_CreateArray();
	cJSON_ArrayForEach(
		client, cJSON_GetObjectItemCaseSensitive(mq_data(answer, 1),
							 "clients")) if (mq_has_role(client, role) ||
									 strcmp(mq_str(client, "username"), role) == 0)
		mq_cmd(&cmds, "deleteClient", "username", mq_str(client, "username"), NULL);
	cJSON_Delete(answer);
	if (cJSON_GetArraySize(cmds) > 0 || !cmds)
		rc = mq_run(c, cmds, NULL);
	else
		cJSON_Delete(cmds);
	if (rc < 0 || !has_role)
		return rc;
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_errbuf_set(c->err, OSB_ERROR, "cannot generate a password");
	cmds = cJSON_CreateArray();
	mq_cmd(&cmds, "createClient", "username", role, "password", password, "textname",
	       "osb: clears retained messages", NULL);
	mq_cmd_roles(&cmds, role);
	if ((rc = mq_run(c, cmds, NULL)) == 0 &&
	    (rc = mq_open(&p, t, role, password, osb_ms_left(c->deadline), c->err)) == 0)
		rc = mq_clear_retained(&p, role, cleared);
	explicit_bzero(password, sizeof(password));
	mq_close(&p);
	if (rc < 0)
		return rc;
	cmds = cJSON_CreateArray();
	mq_cmd(&cmds, "deleteClient", "username", role, NULL);
	mq_cmd(&cmds, "deleteRole", "rolename", role, NULL);
	return mq_run(c, cmds, NULL);
}

/* -- instances ------------------------------------------------------------- */

/* One ACL of an instance's role: allowed on its tree (priority 1), or refused everywhere else (priority 0). */
static void mq_acl(cJSON **cmds, cJSON *acls, const char *type, const char *topic, int allow)
{
	cJSON *acl = cJSON_CreateObject();

	if (!acl || !acls || !cJSON_AddStringToObject(acl, "acltype", type) ||
	    !cJSON_AddStringToObject(acl, "topic", topic) || !cJSON_AddNumberToObject(acl, "priority", allow) ||
	    !cJSON_AddBoolToObject(acl, "allow", allow) || !cJSON_AddItemToArray(acls, acl)) {
		cJSON_Delete(acl);
		cJSON_Delete(*cmds);
		*cmds = NULL;
	}
}

/*
 * The instance's role: publish, subscribe and receive on <name>/#, and an
 * explicit refusal of every other topic at a lower priority, so the role
 * confines its clients whatever the server's default ACL access says (with the
 * plugin's defaults, receiving is allowed: a client that takes over another
 * tenant's client id would get that session's subscriptions' messages).
 */
static int mqtt_provision(osb_request *req, void *state)
{
	static const char *const types[] = { "publishClientSend", "publishClientReceive", "subscribePattern" };
	const char *role = osb_request_instance_name(req);
	char tree[OSB_NAME_SIZE + 2];
	cJSON *cmds = cJSON_CreateArray(), *cmd, *acls;
	struct mq_conn c;
	size_t i;
	int rc;

	(void)state;
	snprintf(tree, sizeof(tree), "%s/#", role);
	cmd = mq_cmd(&cmds, "createRole", "rolename", role, "textname", "osb service instance", NULL);
	acls = cmd ? cJSON_AddArrayToObject(cmd, "acls") : NULL;
	for (i = 0; cmds && i < sizeof(types) / sizeof(types[0]); i++) {
		mq_acl(&cmds, acls, types[i], tree, 1);
		mq_acl(&cmds, acls, types[i], "#", 0);
	}
	if ((rc = mq_open_req(&c, req)) < 0)
		cJSON_Delete(cmds);
	else if ((rc = mq_run(&c, cmds, NULL)) == 0)
		osb_request_note(req, "role %s confined to %s", role, tree);
	mq_close(&c);
	return rc;
}

static int mqtt_deprovision(osb_request *req, void *state)
{
	struct mq_conn c;
	long cleared = 0;
	int rc;

	(void)state;
	if ((rc = mq_open_req(&c, req)) == 0 &&
	    (rc = mq_drop_instance(&c, osb_request_target(req), osb_request_instance_name(req), &cleared)) == 0)
		osb_request_note(req, "role, its clients and %ld retained messages removed", cleared);
	mq_close(&c);
	return rc;
}

/* -- bindings -------------------------------------------------------------- */

static int mqtt_bind(osb_request *req, void *state)
{
	const char *user = osb_request_binding_name(req), *role = osb_request_instance_name(req);
	const osb_target *t = osb_request_target(req);
	char password[OSB_SECRET_DEFAULT_LEN + 1] = "";
	struct mq_conn c;
	cJSON *cmds, *cred;
	int rc;

	(void)state;
	if (osb_secret_generate(password, sizeof(password), OSB_SECRET_DEFAULT_LEN) < 0)
		return osb_req_fail(req, OSB_ERROR, "cannot generate a password");
	if ((rc = mq_open_req(&c, req)) < 0)
		goto done;
	/* Delete, then create in the instance's role: a repeated bind converges on this attempt's password. */
	cmds = cJSON_CreateArray();
	mq_cmd(&cmds, "deleteClient", "username", user, NULL);
	mq_cmd(&cmds, "createClient", "username", user, "password", password, "textname", "osb service binding", NULL);
	mq_cmd_roles(&cmds, role);
	if ((rc = mq_run(&c, cmds, NULL)) < 0) {
		if (strstr(c.err->msg, "Role not found"))
			rc = osb_req_fail(req, OSB_EBACKEND, "the instance's role %s is missing on the server", role);
		goto done;
	}
	cred = osb_credentials_new(
		req,
		&(osb_credentials_spec){ .scheme = t->tls ? "mqtts" : "mqtt", .username = user, .password = password });
	if (cred &&
	    (!cJSON_AddStringToObject(cred, "topic_root", role) || !cJSON_AddBoolToObject(cred, "ssl", t->tls))) {
		cJSON_Delete(cred);
		cred = NULL;
	}
	if ((rc = osb_credentials_set(req, cred)) == 0)
		osb_request_note(req, "client %s in role %s (topics %s/#)", user, role, role);
done:
	explicit_bzero(password, sizeof(password));
	mq_close(&c);
	return rc;
}

static int mqtt_unbind(osb_request *req, void *state)
{
	struct mq_conn c;
	int rc;

	(void)state;
	if ((rc = mq_open_req(&c, req)) == 0 && (rc = mq_delete_client(&c, osb_request_binding_name(req))) == 0)
		osb_request_note(req, "client deleted, its sessions disconnected");
	mq_close(&c);
	return rc;
}

/* -- health and reconciliation --------------------------------------------- */

static int mqtt_health(const osb_target *server, void *state, osb_errbuf *err)
{
	cJSON *cmds = cJSON_CreateArray();
	struct mq_conn c;
	int rc;

	(void)state;
	mq_cmd(&cmds, "getDefaultACLAccess", NULL);
	if ((rc = mq_open(&c, server, NULL, NULL, OSB_HEALTH_TIMEOUT_MS, err)) == 0)
		rc = mq_run(&c, cmds, NULL);
	else
		cJSON_Delete(cmds);
	mq_close(&c);
	return rc;
}

/* Roles osb_<hex> are instances; clients osb_<hex> bindings, but one named like a role it has is an
 * instance's purger. */
static int mqtt_list(const osb_target *server, void *state, osb_tenant_cb cb, void *payload, osb_errbuf *err)
{
	cJSON *cmds = cJSON_Parse(MQ_LIST_ALL), *answer = NULL;
	const cJSON *item;
	struct mq_conn c;
	int rc, stop = 0;

	(void)state;
	if ((rc = mq_open(&c, server, NULL, NULL, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = mq_run(&c, cmds, &answer);
	else
		cJSON_Delete(cmds);
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(
					 mq_data(answer, 0),
					 "roles")) if (!stop && osb_name_is_derived(cJSON_GetStringValue(item))) stop =
		cb(OSB_TENANT_INSTANCE, item->valuestring, payload);
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(mq_data(answer, 1), "clients"))
	{
		const char *name = mq_str(item, "username");

		if (!stop && osb_name_is_derived(name))
			stop = cb(mq_has_role(item, name) ? OSB_TENANT_INSTANCE : OSB_TENANT_BINDING, name, payload);
	}
	cJSON_Delete(answer);
	mq_close(&c);
	return rc;
}

static int mqtt_purge(const osb_target *server, void *state, osb_tenant_kind kind, const char *name, osb_errbuf *err)
{
	struct mq_conn c;
	long cleared = 0;
	int rc;

	(void)state;
	if ((rc = mq_open(&c, server, NULL, NULL, OSB_RECONCILE_TIMEOUT_MS, err)) == 0)
		rc = kind == OSB_TENANT_INSTANCE ? mq_drop_instance(&c, server, name, &cleared)
						 : mq_delete_client(&c, name);
	mq_close(&c);
	return rc;
}

/* -- dedicated servers ----------------------------------------------------- */

/* The dynsec file of a new server: its admin (password as a salted PBKDF2-SHA512 hash), nothing else
 * allowed by default. */
static int mq_dynsec_file(const osb_target *t, osb_errbuf *err)
{
	unsigned char salt[12], hash[64];
	char salt64[32], hash64[96];
	osb_buf b = OSB_BUF_INIT;
	int rc = 0;

	if (osb_random_bytes(salt, sizeof(salt)) < 0 ||
	    !PKCS5_PBKDF2_HMAC(t->admin_password, (int)strlen(t->admin_password), salt, sizeof(salt), MQ_PBKDF2_ROUNDS,
			       EVP_sha512(), sizeof(hash), hash))
		return osb_errbuf_set(err, OSB_ERROR, "cannot hash the admin password");
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
	osb_buf_printf(
		&b,
		"{\"clients\":[{\"username\":\"%s\",\"password\":\"%s\",\"salt\":\"%s\",\"iterations\":%d,"
		"\"roles\":[{\"rolename\":\"osb-admin\"}]}],\n\"roles\":[{\"rolename\":\"osb-admin\",\"acls\":["
		"{\"acltype\":\"publishClientSend\",\"topic\":\"$CONTROL/dynamic-security/#\",\"allow\":true},"
		"{\"acltype\":\"publishClientReceive\",\"topic\":\"$CONTROL/dynamic-security/#\",\"allow\":true},"
		"{\"acltype\":\"subscribePattern\",\"topic\":\"$CONTROL/dynamic-security/#\",\"allow\":true}]}],\n"
		"\"defaultACLAccess\":{\"publishClientSend\":false,\"publishClientReceive\":false,"
		"\"subscribe\":false,\"unsubscribe\":true}}\n",
		t->admin_user, hash64, salt64, MQ_PBKDF2_ROUNDS);
	if (!osb_buf_text(&b))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, MQ_DYNSEC_FILE, b.data, b.len, OSB_FILE_KEEP) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s in %s", MQ_DYNSEC_FILE, t->dir);
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(hash64, sizeof(hash64));
	osb_buf_free(&b);
	return rc;
}

/*
 * Before the first start: the dynsec file (made once, then the plugin's) and
 * mosquitto.conf for the port and the plan. Clients reach the server on the
 * dedicated host's address only; the broker through the admin socket.
 */
static int mq_prepare(osb_request *req, const osb_target *t, void *state, osb_errbuf *err)
{
	const struct mq_state *st = state;
	const struct passwd *pw = getpwuid(geteuid());
	long long conns = osb_request_plan_int(req, "max_connections", -1);
	long long memory = osb_request_plan_int(req, "memory_limit", 0);
	long long packet = osb_request_plan_int(req, "max_packet_size", 0);
	long long queued = osb_request_plan_int(req, "max_queued_messages", 1000);
	osb_buf conf = OSB_BUF_INIT;
	int rc;

	if (strspn(t->dir, MQ_PATH_CHARS) != strlen(t->dir) || !pw ||
	    strspn(pw->pw_name, MQ_PATH_CHARS) != strlen(pw->pw_name))
		return osb_errbuf_set(err, OSB_ERROR, "%s: a dedicated server's directory and user must be plain names",
				      t->dir);
	if (access(st->plugin, R_OK) != 0)
		return osb_errbuf_set(err, OSB_ERROR, "driver.dynsec_plugin %s: %s", st->plugin, strerror(errno));
	if ((rc = mq_dynsec_file(t, err)) < 0)
		return rc;
	/* mosquitto drops root for user "mosquitto" unless told otherwise: keep the broker's, which owns {dir}. */
	osb_buf_printf(
		&conf,
		"# Rendered by osb-mqtt-broker for one service instance; rewritten when its port changes.\n"
		"user %s\nper_listener_settings false\nallow_anonymous false\n"
		"listener %d %s\nmax_connections %lld\nlistener 0 %s/" MQ_ADMIN_SOCKET "\n"
		"persistence true\npersistence_location %s/\nautosave_interval 60\n"
		"log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nconnection_messages true\n"
		"memory_limit %lld\nmax_packet_size %lld\nmax_queued_messages %lld\npersistent_client_expiration 7d\n"
		"plugin %s\nplugin_opt_config_file %s/" MQ_DYNSEC_FILE "\n",
		pw->pw_name, t->port, t->host, conns, t->dir, t->dir, memory, packet, queued, st->plugin, t->dir);
	if (!osb_buf_text(&conf))
		rc = osb_errbuf_set(err, OSB_ENOMEM, "out of memory");
	else if (osb_file_write_private(t->dir, MQ_CONF_FILE, conf.data, conf.len, 0) != 0)
		rc = osb_errbuf_set(err, OSB_ERROR, "cannot write %s in %s", MQ_CONF_FILE, t->dir);
	osb_buf_free(&conf);
	return rc;
}

static int mq_ready(const osb_target *t, void *state, osb_errbuf *err)
{
	struct mq_conn c;
	int rc;

	(void)state;
	rc = mq_open(&c, t, NULL, NULL, MQ_READY_TIMEOUT_MS, err);
	mq_close(&c);
	return rc;
}

/* -- the driver ------------------------------------------------------------ */

static void mqtt_shutdown(void *state)
{
	struct mq_state *st = state;

	if (st)
		free(st->plugin);
	free(st);
	mosquitto_lib_cleanup();
}

static int mqtt_init(void **state, const cJSON *config, const osb_broker *broker)
{
	struct mq_state *st = calloc(1, sizeof(*st));
	const char *plugin = mq_plugin_paths[0];
	int rc;

	(void)broker;
	if (!st)
		return OSB_ENOMEM;
	for (size_t i = 0; mq_plugin_paths[i]; i++)
		if (access(mq_plugin_paths[i], R_OK) == 0) {
			plugin = mq_plugin_paths[i];
			break;
		}
	if ((rc = osb_driver_config_string(&st->plugin, config, "mqtt", "dynsec_plugin", plugin)) < 0) {
		free(st);
		return rc;
	}
	if (strspn(st->plugin, MQ_PATH_CHARS) != strlen(st->plugin) || st->plugin[0] != '/') {
		osb_log(OSB_LOG_ERROR, "mqtt.config",
			"driver.dynsec_plugin must be an absolute path of plain characters");
		free(st->plugin);
		free(st);
		return OSB_EBADREQUEST;
	}
	mosquitto_lib_init();
	*state = st;
	return 0;
}

static const osb_server_spec mqtt_server = { .default_port = 1883, .default_admin_user = "admin" };

static const char *const mqtt_keys[] = { "dynsec_plugin", NULL };

static const osb_dedicated_spec mqtt_dedicated = {
	.kind = "mqtt",
	.program_key = "mosquitto",
	.program = "mosquitto",
	.args = (const char *const[]){ "-c", "{dir}/" MQ_CONF_FILE, NULL },
	.admin_user = "admin",
	.prepare = mq_prepare,
	.ready = mq_ready,
};

static const struct osb_driver mqtt_driver = {
	.abi_version = OSB_DRIVER_INIT,
	.name = "mqtt",
	.caps = OSB_CAP_BINDABLE | OSB_CAP_ASYNC | OSB_CAP_RECONCILE | OSB_CAP_BINDING_ROTATION | OSB_CAP_DEDICATED,
	.server = &mqtt_server,
	.config_keys = mqtt_keys,
	.dedicated = &mqtt_dedicated,
	OSB_DRIVER_SLOTS(mqtt, init, shutdown, provision, deprovision, bind, unbind, health, list, purge)
};

OSB_DRIVER_DEFINE(mqtt, mqtt_driver);
