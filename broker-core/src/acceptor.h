/*
 * Private: the acceptor in front of civetweb's worker threads.
 *
 * civetweb 1.15 gives every accepted connection a worker thread until it closes, idle ones too, and
 * has no way to be handed a connection or to drop one before its request arrives. The acceptor takes
 * civetweb's place at accept(2): a thread of its own accepts the connections, keeps them (in epoll,
 * without a thread) until a whole request head has arrived, and only then gives them to civetweb. A
 * connection that sends nothing, or drips its headers, never holds a worker; it is closed when its
 * head is late (timeouts.request_ms), or, the oldest first, when the acceptor is full. It also caps the
 * connections one address holds (limits.connections_per_address), and tells the HTTP front whether
 * an answered connection may stay open (keep-alive) so idle kept-alive connections never hold more
 * than half the workers. See docs/architecture.md, "Idle and slow connections".
 */
#ifndef OSB_ACCEPTOR_H
#define OSB_ACCEPTOR_H

struct mg_connection;

/** Longest request head civetweb reads (its max_request_size): the acceptor hands a longer one over as it is. */
#define OSB_MAX_HEAD_BYTES 16384
#define OSB_MAX_HEAD_BYTES_TEXT "16384"

typedef struct osb_acceptor osb_acceptor;

typedef struct {
	int per_address;     /* most connections one address may hold open at once; 0: no cap */
	int head_timeout_ms; /* a connection whose request head has not arrived by then is closed */
	int max_waiting;     /* most connections waiting for their head; the oldest go first beyond it */
	int threads;         /* civetweb worker threads */
	int tls;             /* the listeners speak TLS: wait for the first whole TLS record instead */
	int max_head_bytes;  /* civetweb's max_request_size: a head this long is handed over as it is */
} osb_acceptor_options;

/**
 * Start the acceptor's thread; from now on accept(2) on civetweb's listeners goes through it.
 * One acceptor per process. @return 0, OSB_ENOMEM or OSB_ERROR.
 */
int osb_acceptor_start(osb_acceptor **out, const osb_acceptor_options *options);

/** Before mg_stop(): accept(2) hands nothing more to civetweb. NULL is fine. */
void osb_acceptor_stop(osb_acceptor *acceptor);

/** After mg_stop(): stop the thread and close every connection still held. NULL is fine. */
void osb_acceptor_free(osb_acceptor *acceptor);

/** civetweb's connection_close callback: a connection the acceptor handed over is closing. */
void osb_acceptor__connection_close(const struct mg_connection *conn);

/** A request started (1) or was answered (-1) on a connection civetweb holds. */
void osb_acceptor__request(int delta);

/** Whether a connection answered now may stay open for another request. */
int osb_acceptor__keep_alive(void);

#endif
