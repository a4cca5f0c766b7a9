/* A small AMQP 0-9-1 client on librabbitmq for the integration test: use the credentials a binding returns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

/*
 * Usage:
 *   amqp-client login URI                      connect, log in, open a channel, close
 *   amqp-client roundtrip URI QUEUE MESSAGE    declare QUEUE, publish MESSAGE to it, get it back
 *   amqp-client hold URI SECONDS READYFILE     stay connected; write READYFILE once in, report when closed
 *   amqp-client connections URI N              open up to N connections at once, report how many worked
 *   amqp-client queues URI N PREFIX            declare up to N queues PREFIX.1.., report how many worked
 *   amqp-client put URI QUEUE MESSAGE          make QUEUE hold MESSAGE only (declare, purge, publish)
 *   amqp-client peek URI QUEUE                 print the message at the head of QUEUE and leave it there
 * Exit: 0 done, 1 usage or local error, 2 refused while connecting or logging in,
 *       3 the server closed the connection (hold), 4 an operation failed after login.
 * "refused: CODE TEXT" / "closed: CODE TEXT" lines tell what the server said.
 */

enum { EXIT_REFUSED = 2, EXIT_CLOSED = 3, EXIT_OPFAILED = 4 };

struct client {
	amqp_connection_state_t conn;
	int channel_open;
};

/* Describe an RPC reply that is not normal into `out`. */
static void describe(const amqp_rpc_reply_t *r, char *out, size_t size)
{
	switch (r->reply_type) {
	case AMQP_RESPONSE_NORMAL: snprintf(out, size, "0 normal"); break;
	case AMQP_RESPONSE_NONE: snprintf(out, size, "0 missing RPC reply"); break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION: snprintf(out, size, "0 %s", amqp_error_string2(r->library_error)); break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r->reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			const amqp_connection_close_t *m = r->reply.decoded;

			snprintf(out, size, "%u %.*s", m->reply_code, (int)m->reply_text.len,
				 (const char *)m->reply_text.bytes);
		} else if (r->reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			const amqp_channel_close_t *m = r->reply.decoded;

			snprintf(out, size, "%u %.*s", m->reply_code, (int)m->reply_text.len,
				 (const char *)m->reply_text.bytes);
		} else {
			snprintf(out, size, "0 server method 0x%08X", r->reply.id);
		}
		break;
	}
}

/*
 * One attempt to connect and log in with an amqp:// URI and open channel 1. A refusal is described
 * in `refusal` ("CODE TEXT (at STEP)"); `silent` is set when the server dropped the socket without
 * a close frame, which says nothing of the credentials. @return 0, EXIT_REFUSED or 1.
 */
static int client_open_once(struct client *c, const char *uri, char *refusal, size_t size, int *silent)
{
	struct amqp_connection_info info;
	struct timeval tv = { .tv_sec = 10, .tv_usec = 0 };
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	const char *step = "login";
	char *copy = strdup(uri), why[512];
	int st, rc = 1;

	memset(c, 0, sizeof(*c));
	*silent = 0;
	if (!copy)
		return 1;
	amqp_default_connection_info(&info);
	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
		fprintf(stderr, "amqp-client: cannot parse the URI\n");
		goto done;
	}
	c->conn = amqp_new_connection();
	sock = c->conn ? amqp_tcp_socket_new(c->conn) : NULL;
	if (!sock) {
		fprintf(stderr, "amqp-client: out of memory\n");
		goto done;
	}
	st = amqp_socket_open_noblock(sock, info.host, info.port, &tv);
	if (st != AMQP_STATUS_OK) {
		snprintf(refusal, size, "0 cannot connect to %s:%d: %s", info.host, info.port, amqp_error_string2(st));
		rc = EXIT_REFUSED;
		goto done;
	}
	/* No heartbeats: hold mode only reads, and a test run is short. */
	r = amqp_login(c->conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		step = "channel.open";
		amqp_channel_open(c->conn, 1);
		r = amqp_get_rpc_reply(c->conn);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		describe(&r, why, sizeof(why));
		snprintf(refusal, size, "%s (at %s)", why, step);
		*silent = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
			  r.library_error == AMQP_STATUS_CONNECTION_CLOSED;
		rc = EXIT_REFUSED;
		goto done;
	}
	c->channel_open = 1;
	rc = 0;
done:
	free(copy);
	if (rc != 0 && c->conn) {
		amqp_destroy_connection(c->conn); /* the socket is gone or was never logged in: nothing to close */
		c->conn = NULL;
	}
	return rc;
}

/*
 * Connect, log in, open channel 1; print "refused: ..." when the server says no. A socket dropped
 * without a close frame is tried again twice, as an application's client would: a refusal of the
 * credentials always comes with a reason (403, 530) and is never retried.
 */
static int client_open(struct client *c, const char *uri)
{
	char refusal[600];
	int rc, silent;

	for (int attempt = 1;; attempt++) {
		refusal[0] = '\0';
		rc = client_open_once(c, uri, refusal, sizeof(refusal), &silent);
		if (rc != EXIT_REFUSED || !silent || attempt == 3)
			break;
		fprintf(stderr, "amqp-client: attempt %d: %s; trying again\n", attempt, refusal);
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = 300 * 1000000 }, NULL);
	}
	if (rc == EXIT_REFUSED)
		printf("refused: %s\n", refusal);
	return rc;
}

static void client_close(struct client *c)
{
	if (!c->conn)
		return;
	if (c->channel_open)
		amqp_channel_close(c->conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c->conn);
	c->conn = NULL;
}

static int op_failed(struct client *c, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c->conn);
	char why[512];

	describe(&r, why, sizeof(why));
	printf("failed: %s: %s\n", what, why);
	return EXIT_OPFAILED;
}

static int cmd_roundtrip(const char *uri, const char *queue, const char *message)
{
	struct client c;
	amqp_rpc_reply_t r;
	amqp_message_t msg;
	int rc;

	if ((rc = client_open(&c, uri)) != 0)
		return rc;
	if (!amqp_queue_declare(c.conn, 1, amqp_cstring_bytes(queue), 0, 0, 0, 0, amqp_empty_table)) {
		rc = op_failed(&c, "queue.declare");
		goto done;
	}
	if (amqp_basic_publish(c.conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0, NULL,
			       amqp_cstring_bytes(message)) != AMQP_STATUS_OK) {
		rc = op_failed(&c, "basic.publish");
		goto done;
	}
	/* The publish is asynchronous: a basic.get may run before the message is queued, so retry a little. */
	for (int i = 0; i < 50; i++) {
		r = amqp_basic_get(c.conn, 1, amqp_cstring_bytes(queue), 1);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			rc = op_failed(&c, "basic.get");
			goto done;
		}
		if (r.reply.id == AMQP_BASIC_GET_OK_METHOD)
			break;
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = 20 * 1000000 }, NULL);
	}
	if (r.reply.id != AMQP_BASIC_GET_OK_METHOD) {
		printf("failed: basic.get found the queue empty\n");
		rc = EXIT_OPFAILED;
		goto done;
	}
	r = amqp_read_message(c.conn, 1, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = op_failed(&c, "reading the message");
		goto done;
	}
	if (msg.body.len != strlen(message) || memcmp(msg.body.bytes, message, msg.body.len) != 0) {
		printf("failed: got back \"%.*s\", sent \"%s\"\n", (int)msg.body.len, (const char *)msg.body.bytes,
		       message);
		rc = EXIT_OPFAILED;
	} else {
		printf("ok: got back \"%s\" from queue %s\n", message, queue);
	}
	amqp_destroy_message(&msg);
done:
	client_close(&c);
	return rc;
}

/*
 * Wait for a message at the head of `queue` (a publish is asynchronous), print its body and put it
 * back, unacknowledged, so the queue keeps it. @return 0 or EXIT_OPFAILED.
 */
static int peek(struct client *c, const char *queue, int print)
{
	amqp_rpc_reply_t r;
	amqp_message_t msg;

	for (int i = 0; i < 50; i++) {
		r = amqp_basic_get(c->conn, 1, amqp_cstring_bytes(queue), 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return op_failed(c, "basic.get");
		if (r.reply.id == AMQP_BASIC_GET_OK_METHOD)
			break;
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = 20 * 1000000 }, NULL);
	}
	if (r.reply.id != AMQP_BASIC_GET_OK_METHOD) {
		printf("failed: queue %s is empty\n", queue);
		return EXIT_OPFAILED;
	}
	uint64_t tag = ((amqp_basic_get_ok_t *)r.reply.decoded)->delivery_tag;
	r = amqp_read_message(c->conn, 1, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return op_failed(c, "reading the message");
	if (print)
		printf("%.*s\n", (int)msg.body.len, (const char *)msg.body.bytes);
	amqp_destroy_message(&msg);
	amqp_basic_reject(c->conn, 1, tag, 1);
	return 0;
}

static int cmd_put(const char *uri, const char *queue, const char *message)
{
	amqp_basic_properties_t props = { ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG, .delivery_mode = 2 };
	struct client c;
	int rc;

	if ((rc = client_open(&c, uri)) != 0)
		return rc;
	if (!amqp_queue_declare(c.conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table))
		rc = op_failed(&c, "queue.declare");
	else if (!amqp_queue_purge(c.conn, 1, amqp_cstring_bytes(queue)))
		rc = op_failed(&c, "queue.purge");
	else if (amqp_basic_publish(c.conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0, &props,
				    amqp_cstring_bytes(message)) != AMQP_STATUS_OK)
		rc = op_failed(&c, "basic.publish");
	else
		rc = peek(&c, queue, 0);
	client_close(&c);
	return rc;
}

static int cmd_peek(const char *uri, const char *queue)
{
	struct client c;
	int rc;

	if ((rc = client_open(&c, uri)) != 0)
		return rc;
	rc = peek(&c, queue, 1);
	client_close(&c);
	return rc;
}

static int cmd_login(const char *uri)
{
	struct client c;
	int rc = client_open(&c, uri);

	if (rc == 0)
		printf("ok: logged in\n");
	client_close(&c);
	return rc;
}

static int cmd_hold(const char *uri, int seconds, const char *ready_file)
{
	struct client c;
	time_t until = time(NULL) + seconds;
	FILE *f;
	int rc;

	if ((rc = client_open(&c, uri)) != 0)
		return rc;
	f = fopen(ready_file, "w");
	if (!f || fputs("connected\n", f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "amqp-client: cannot write %s\n", ready_file);
		client_close(&c);
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	while (time(NULL) < until) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
		amqp_frame_t frame;
		int st = amqp_simple_wait_frame_noblock(c.conn, &frame, &tv);

		if (st == AMQP_STATUS_TIMEOUT)
			continue;
		if (st != AMQP_STATUS_OK) {
			printf("closed: 0 %s\n", amqp_error_string2(st));
			amqp_destroy_connection(c.conn);
			return EXIT_CLOSED;
		}
		if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
			const amqp_connection_close_t *m = frame.payload.method.decoded;

			printf("closed: %u %.*s\n", m->reply_code, (int)m->reply_text.len,
			       (const char *)m->reply_text.bytes);
			amqp_destroy_connection(c.conn);
			return EXIT_CLOSED;
		}
	}
	printf("still open after %d s\n", seconds);
	client_close(&c);
	return 0;
}

static int cmd_connections(const char *uri, int n)
{
	struct client *cs = calloc((size_t)n, sizeof(*cs));
	int i, opened = 0, rc = 0;

	if (!cs)
		return 1;
	for (i = 0; i < n; i++) {
		rc = client_open(&cs[i], uri);
		if (rc != 0) {
			client_close(&cs[i]);
			break;
		}
		opened++;
	}
	printf("opened %d\n", opened);
	for (i = 0; i < opened; i++)
		client_close(&cs[i]);
	free(cs);
	return rc == 1 ? 1 : 0;
}

static int cmd_queues(const char *uri, int n, const char *prefix)
{
	struct client c;
	char name[256];
	int i, declared = 0, rc;

	if ((rc = client_open(&c, uri)) != 0)
		return rc;
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "%s.%d", prefix, i);
		if (!amqp_queue_declare(c.conn, 1, amqp_cstring_bytes(name), 0, 0, 0, 0, amqp_empty_table)) {
			op_failed(&c, "queue.declare");
			/* The channel is closed by the exception. */
			c.channel_open = 0;
			break;
		}
		declared++;
	}
	printf("declared %d\n", declared);
	client_close(&c);
	return 0;
}

static int number(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100000)
		return -1;
	return (int)v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "login") == 0)
		return cmd_login(argv[2]);
	if (argc == 5 && strcmp(argv[1], "roundtrip") == 0)
		return cmd_roundtrip(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "hold") == 0 && number(argv[3]) >= 0)
		return cmd_hold(argv[2], number(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "connections") == 0 && number(argv[3]) > 0)
		return cmd_connections(argv[2], number(argv[3]));
	if (argc == 5 && strcmp(argv[1], "queues") == 0 && number(argv[3]) > 0)
		return cmd_queues(argv[2], number(argv[3]), argv[4]);
	if (argc == 5 && strcmp(argv[1], "put") == 0)
		return cmd_put(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "peek") == 0)
		return cmd_peek(argv[2], argv[3]);
	fprintf(stderr, "usage: amqp-client login URI | roundtrip URI QUEUE MESSAGE | hold URI SECONDS READYFILE |"
			" connections URI N | queues URI N PREFIX | put URI QUEUE MESSAGE | peek URI QUEUE\n");
	return 1;
}
