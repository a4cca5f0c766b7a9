/* The acceptor: connections reach civetweb's worker threads only once their request head has arrived (acceptor.h). */
#include "acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <civetweb.h>

#include "metrics.h"
#include "osb/common.h"
#include "osb/errors.h"
#include "osb/log.h"

#define MAX_LISTENERS 8
#define ADDR_BUCKETS 1024
#define STOP_TAG 0xffffu /* epoll data of the stop eventfd; listeners are 1..MAX_LISTENERS; the rest pointers */

/* A connection the acceptor holds: waiting for its head, or ready for civetweb. */
typedef struct acceptor_conn {
	struct acceptor_conn *prev, *next; /* in the waiting list (arrival, so deadline, order) or a ready queue */
	int fd;
	int listener;          /* index in osb_acceptor.listeners */
	int dead;              /* closed during this epoll batch: its events are stale */
	size_t scanned;        /* head bytes already searched for the blank line */
	int64_t deadline_ms;   /* CLOCK_MONOTONIC */
	unsigned char key[16]; /* the peer's address (IPv4 mapped into IPv6) */
	struct sockaddr_storage addr;
	socklen_t addr_len;
} acceptor_conn;

typedef struct {
	acceptor_conn *head, *tail;
} conn_list;

typedef struct {
	int civet_fd;    /* the number civetweb polls and accepts on, now an eventfd of ready ones */
	int event_fd;    /* the acceptor's own reference to that eventfd */
	int socket_fd;   /* the listening socket */
	conn_list ready; /* heads complete, waiting for civetweb's accept */
} listener;

typedef struct addr_count {
	struct addr_count *next;
	unsigned char key[16];
	int n; /* connections open: waiting, ready or held by civetweb */
} addr_count;

struct osb_acceptor {
	osb_acceptor_options opt;
	pthread_mutex_t mu; /* everything below but the atomics and the thread's own fields */
	pthread_t thread;
	int thread_started;
	int epfd;
	int stop_fd;         /* eventfd that wakes the thread to exit */
	int spare_fd;        /* kept open to be closed when accept(2) meets EMFILE */
	atomic_int stopping; /* accept(2) hands nothing more to civetweb */
	listener listeners[MAX_LISTENERS];
	int nlisteners;
	conn_list waiting;
	int nwaiting;
	conn_list dead; /* closed this batch, freed after it (the thread only) */
	addr_count *counts[ADDR_BUCKETS];
	atomic_int held;   /* connections handed to civetweb and not yet closed */
	atomic_int active; /* of those, the ones in a request */
	char *peek;        /* max_head_bytes + 1 */
};

/* One acceptor per process: accept(2) and civetweb's callbacks have nowhere else to find it. */
static _Atomic(osb_acceptor *) the_acceptor;

/* ---- lists and counts (callers hold mu) ---------------------------------------------------- */

static void list_append(conn_list *l, acceptor_conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void list_remove(conn_list *l, acceptor_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void key_of(unsigned char key[16], const struct sockaddr *sa)
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* The same key from civetweb's text form of the address ("1.2.3.4", "::1", "::ffff:1.2.3.4"). */
static int key_of_text(unsigned char key[16], const char *text)
{
	struct in_addr a4;
	memset(key, 0, 16);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, text, key) == 1 ? 0 : -1;
}

static addr_count **count_slot(osb_acceptor *g, const unsigned char key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	addr_count **p = &g->counts[h % ADDR_BUCKETS];
	while (*p && memcmp((*p)->key, key, 16) != 0)
		p = &(*p)->next;
	return p;
}

static int count_get(osb_acceptor *g, const unsigned char key[16])
{
	addr_count *a = *count_slot(g, key);
	return a ? a->n : 0;
}

static int count_add(osb_acceptor *g, const unsigned char key[16], int delta)
{
	addr_count **p = count_slot(g, key);
	if (!*p) {
		if (delta <= 0)
			return 0; /* a connection the acceptor never counted */
		if (!(*p = calloc(1, sizeof **p)))
			return OSB_ENOMEM;
		memcpy((*p)->key, key, 16);
	}
	(*p)->n += delta;
	if ((*p)->n <= 0) {
		addr_count *gone = *p;
		*p = gone->next;
		free(gone);
	}
	return 0;
}

/* ---- the acceptor's thread ------------------------------------------------------------------------ */

/* Close a connection the acceptor holds (waiting or ready); its memory goes when the batch ends. */
static void drop(osb_acceptor *g, acceptor_conn *c, conn_list *from)
{
	list_remove(from, c);
	if (from == &g->waiting) {
		g->nwaiting--;
		osb_metrics_connections_waiting(-1);
	}
	count_add(g, c->key, -1);
	/* Read what it sent first: closing with unread bytes would reset the connection instead of ending it. */
	for (int i = 0; i < 4 && recv(c->fd, g->peek, (size_t)g->opt.max_head_bytes + 1, MSG_DONTWAIT) > 0; i++)
		;
	close(c->fd);
	c->dead = 1;
	list_append(&g->dead, c);
}

/* Whether the peeked bytes hold what civetweb needs to start at once. */
static int head_complete(osb_acceptor *g, acceptor_conn *c, const unsigned char *b, size_t n)
{
	if (g->opt.tls) /* the first TLS record (the ClientHello), or bytes that are not TLS at all */
		return b[0] != 0x16 || (n >= 5 && n >= 5 + ((size_t)b[3] << 8 | b[4]));
	if (n >= (size_t)g->opt.max_head_bytes)
		return 1; /* civetweb answers an oversized head itself */
	for (size_t i = c->scanned; i < n; i++)
		if (b[i] == '\n' && ((i >= 1 && b[i - 1] == '\n') || (i >= 3 && b[i - 1] == '\r' && b[i - 2] == '\n')))
			return 1;
	c->scanned = n;
	return 0;
}

/* New data (or a hang-up) on a waiting connection. */
static void look_at(osb_acceptor *g, acceptor_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	ssize_t n = recv(c->fd, g->peek, (size_t)g->opt.max_head_bytes + 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	int complete = n > 0 && head_complete(g, c, (const unsigned char *)g->peek, (size_t)n);
	pthread_mutex_lock(&g->mu);
	if (!complete) {
		/* Gone, or half-closed before its head was whole: nothing will come. */
		if (n <= 0 || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			drop(g, c, &g->waiting);
		pthread_mutex_unlock(&g->mu);
		return;
	}
	epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	list_remove(&g->waiting, c);
	g->nwaiting--;
	osb_metrics_connections_waiting(-1);
	listener *l = &g->listeners[c->listener];
	list_append(&l->ready, c);
	uint64_t one = 1;
	if (write(l->event_fd, &one, sizeof one) != sizeof one)
		osb_log(OSB_LOG_WARN, "http.acceptor", "cannot signal civetweb: %s", strerror(errno));
	pthread_mutex_unlock(&g->mu);
}

/* Accept what the kernel has queued on a listener. */
static void take_new(osb_acceptor *g, int li, int64_t now)
{
	int lfd = g->listeners[li].socket_fd;
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof sa;
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			/* Out of descriptors: make room with the oldest waiting connection, else refuse this one
			 * (through the spare descriptor) so that the listener does not stay readable forever. */
			pthread_mutex_lock(&g->mu);
			acceptor_conn *oldest = g->waiting.head;
			if (oldest) {
				drop(g, oldest, &g->waiting);
				osb_metrics_connection_dropped(OSB_CONN_EVICTED);
			}
			pthread_mutex_unlock(&g->mu);
			if (!oldest && g->spare_fd >= 0) {
				close(g->spare_fd);
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				if (fd >= 0) {
					close(fd);
					osb_metrics_connection_dropped(OSB_CONN_REFUSED);
				}
				g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			}
			if (!oldest && g->spare_fd < 0)
				return; /* nothing to free: try again on the next wake-up */
			continue;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN: all taken */
		}
		acceptor_conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		key_of(c->key, (struct sockaddr *)&sa);
		pthread_mutex_lock(&g->mu);
		if ((g->opt.per_address > 0 && count_get(g, c->key) >= g->opt.per_address) ||
		    count_add(g, c->key, 1) != 0) {
			pthread_mutex_unlock(&g->mu);
			close(fd);
			free(c);
			osb_metrics_connection_dropped(OSB_CONN_REFUSED);
			continue;
		}
		if (g->nwaiting >= g->opt.max_waiting && g->waiting.head) {
			drop(g, g->waiting.head, &g->waiting); /* the head timeout tightens as the acceptor fills up */
			osb_metrics_connection_dropped(OSB_CONN_EVICTED);
		}
		c->fd = fd;
		c->listener = li;
		c->deadline_ms = now + g->opt.head_timeout_ms;
		memcpy(&c->addr, &sa, sl);
		c->addr_len = sl;
		list_append(&g->waiting, c);
		g->nwaiting++;
		osb_metrics_connections_waiting(1);
		/* Edge-triggered: woken once per arrival, since peeking leaves the bytes where they are. An
		 * arrival before this call is reported at once. */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			drop(g, c, &g->waiting);
		pthread_mutex_unlock(&g->mu);
	}
}

/* Close waiting connections whose head is late; @return ms until the next deadline (at most 1000). */
static int expire(osb_acceptor *g, int64_t now)
{
	int wait = 1000;
	pthread_mutex_lock(&g->mu);
	while (g->waiting.head && g->waiting.head->deadline_ms <= now) {
		drop(g, g->waiting.head, &g->waiting);
		osb_metrics_connection_dropped(OSB_CONN_TIMED_OUT);
	}
	if (g->waiting.head && g->waiting.head->deadline_ms - now < wait)
		wait = (int)(g->waiting.head->deadline_ms - now);
	while (g->dead.head) {
		acceptor_conn *c = g->dead.head;
		list_remove(&g->dead, c);
		free(c);
	}
	pthread_mutex_unlock(&g->mu);
	return wait;
}

static void *acceptor_main(void *arg)
{
	osb_acceptor *g = arg;
	struct epoll_event events[64];
	int timeout = 1000;
	for (;;) {
		int n = epoll_wait(g->epfd, events, 64, timeout);
		int64_t now = osb_clock_ms();
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			if (tag == STOP_TAG)
				return NULL;
			if (tag >= 1 && tag <= MAX_LISTENERS)
				take_new(g, (int)tag - 1, now);
			else
				look_at(g, events[i].data.ptr, events[i].events);
		}
		timeout = expire(g, now);
	}
}

/* ---- civetweb's side -------------------------------------------------------------------------- */

/* First accept(2) on a civetweb listener: the acceptor takes the socket, civetweb gets an eventfd in its place. */
static int adopt_listener(osb_acceptor *g, int fd)
{
	int on = 0;
	socklen_t len = sizeof on;
	if (g->nlisteners == MAX_LISTENERS || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0 || !on)
		return -1;
	listener *l = &g->listeners[g->nlisteners];
	l->socket_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	l->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)g->nlisteners + 1 };
	if (l->socket_fd < 0 || l->event_fd < 0 || fcntl(l->socket_fd, F_SETFL, O_NONBLOCK) != 0 ||
	    dup3(l->event_fd, fd, O_CLOEXEC) < 0) {
		if (l->socket_fd >= 0)
			close(l->socket_fd);
		if (l->event_fd >= 0)
			close(l->event_fd);
		return -1;
	}
	l->civet_fd = fd;
	g->nlisteners++;
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, l->socket_fd, &ev) != 0)
		osb_log(OSB_LOG_ERROR, "http.acceptor", "cannot watch the listening socket: %s", strerror(errno));
	return 0;
}

/* @return a connection's descriptor, -1 with errno, or -2 when `fd` is not the acceptor's business. */
static int acceptor_accept(osb_acceptor *g, int fd, struct sockaddr *addr, socklen_t *addr_len)
{
	pthread_mutex_lock(&g->mu);
	listener *l = NULL;
	for (int i = 0; i < g->nlisteners; i++)
		if (g->listeners[i].civet_fd == fd)
			l = &g->listeners[i];
	if (!l) {
		int adopted = adopt_listener(g, fd) == 0;
		pthread_mutex_unlock(&g->mu);
		if (!adopted)
			return -2;
		errno = EAGAIN; /* the acceptor's thread takes what is queued */
		return -1;
	}
	uint64_t one;
	acceptor_conn *c = l->ready.head;
	if (atomic_load(&g->stopping) || !c || read(fd, &one, sizeof one) != sizeof one) {
		pthread_mutex_unlock(&g->mu);
		errno = EAGAIN;
		return -1;
	}
	list_remove(&l->ready, c);
	atomic_fetch_add(&g->held, 1);
	pthread_mutex_unlock(&g->mu);
	int cfd = c->fd;
	if (addr && addr_len) {
		memcpy(addr, &c->addr, *addr_len < c->addr_len ? *addr_len : c->addr_len);
		*addr_len = c->addr_len;
	}
	free(c);
	return cfd;
}

/*
 * civetweb's master thread takes its connections with accept(2). A broker binary defines accept
 * itself (this definition, linked from the core), so civetweb's calls come here: the acceptor's
 * listeners get the acceptor's connections, anything else the kernel's.
 */
__attribute__((visibility("default"))) int accept(int fd, struct sockaddr *addr, socklen_t *addr_len);
__attribute__((visibility("default"))) int accept(int fd, struct sockaddr *addr, socklen_t *addr_len)
{
	osb_acceptor *g = atomic_load(&the_acceptor);
	if (g) {
		int rc = acceptor_accept(g, fd, addr, addr_len);
		if (rc != -2)
			return rc;
	}
	return accept4(fd, addr, addr_len, 0);
}

void osb_acceptor__connection_close(const struct mg_connection *mconn)
{
	osb_acceptor *g = atomic_load(&the_acceptor);
	const struct mg_request_info *ri = mg_get_request_info(mconn);
	unsigned char key[16];
	if (!g || !ri || key_of_text(key, ri->remote_addr) != 0)
		return;
	pthread_mutex_lock(&g->mu);
	count_add(g, key, -1);
	pthread_mutex_unlock(&g->mu);
	if (atomic_fetch_sub(&g->held, 1) <= 0)
		atomic_fetch_add(&g->held, 1); /* a connection from before the acceptor took the listener */
}

void osb_acceptor__request(int delta)
{
	osb_acceptor *g = atomic_load(&the_acceptor);
	if (g)
		atomic_fetch_add(&g->active, delta);
}

int osb_acceptor__keep_alive(void)
{
	osb_acceptor *g = atomic_load(&the_acceptor);
	if (!g)
		return 1;
	/* Connections civetweb holds outside a request wait, each on a worker, for their next request:
	 * fewer than half the workers may do that, so the other half always serves new requests. */
	int idle = atomic_load(&g->held) - atomic_load(&g->active);
	return idle + 1 <= g->opt.threads / 2;
}

/* ---- start and stop ----------------------------------------------------------------------------- */

int osb_acceptor_start(osb_acceptor **out, const osb_acceptor_options *options)
{
	osb_acceptor *g = calloc(1, sizeof *g);
	if (!g)
		return OSB_ENOMEM;
	g->opt = *options;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g->peek = malloc((size_t)g->opt.max_head_bytes + 1);
	pthread_mutex_init(&g->mu, NULL);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STOP_TAG };
	if (g->epfd < 0 || g->stop_fd < 0 || !g->peek || epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->stop_fd, &ev) != 0 ||
	    pthread_create(&g->thread, NULL, acceptor_main, g) != 0) {
		osb_acceptor_free(g);
		return OSB_ERROR;
	}
	g->thread_started = 1;
	osb_acceptor *none = NULL;
	if (!atomic_compare_exchange_strong(&the_acceptor, &none, g)) {
		osb_acceptor_free(g);
		return OSB_ERROR;
	}
	*out = g;
	return 0;
}

void osb_acceptor_stop(osb_acceptor *g)
{
	if (g)
		atomic_store(&g->stopping, 1);
}

static void close_list(osb_acceptor *g, conn_list *l)
{
	while (l->head) {
		acceptor_conn *c = l->head;
		list_remove(l, c);
		if (!c->dead)
			close(c->fd);
		free(c);
	}
	(void)g;
}

void osb_acceptor_free(osb_acceptor *g)
{
	if (!g)
		return;
	osb_acceptor *self = g;
	atomic_compare_exchange_strong(&the_acceptor, &self, NULL);
	if (g->thread_started) {
		uint64_t one = 1;
		if (write(g->stop_fd, &one, sizeof one) == sizeof one)
			pthread_join(g->thread, NULL);
	}
	osb_metrics_connections_waiting(-g->nwaiting);
	close_list(g, &g->waiting);
	close_list(g, &g->dead);
	for (int i = 0; i < g->nlisteners; i++) {
		close_list(g, &g->listeners[i].ready);
		close(g->listeners[i].socket_fd);
		close(g->listeners[i].event_fd);
	}
	for (int i = 0; i < ADDR_BUCKETS; i++)
		while (g->counts[i]) {
			addr_count *a = g->counts[i];
			g->counts[i] = a->next;
			free(a);
		}
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->stop_fd >= 0)
		close(g->stop_fd);
	if (g->spare_fd >= 0)
		close(g->spare_fd);
	pthread_mutex_destroy(&g->mu);
	free(g->peek);
	free(g);
}
