/* Structured logging: one JSON object per line on stderr, written atomically. */
#include "log_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "osb/utf8.h"

static osb_log_level min_level = OSB_LOG_INFO;
static _Thread_local const char *thread_request_id;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void osb_log__set_level(osb_log_level level)
{
	min_level = level;
}

int osb_log__parse_level(const char *name, osb_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (osb_log_level)i;
			return 0;
		}
	}
	return -1;
}

void osb_log__set_request_id(const char *request_id)
{
	thread_request_id = request_id;
}

int osb_log__enabled(osb_log_level level)
{
	return level >= min_level && level <= OSB_LOG_ERROR;
}

static void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere to report a failing log */
		buf += n;
		len -= (size_t)n;
	}
}

/* The asynchronous writer: lines are appended to `pending` and written by one thread. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running;
	int stopping;
	int waiting; /* the writer sleeps: wake it, so lines reach stderr at once when the broker is quiet */
	char *pending;
	size_t len, cap;
} writer = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, 0, 0 };

#define WRITER_FLUSH_BYTES (64u << 10)
#define WRITER_MAX_BYTES (8u << 20) /* beyond this, write synchronously rather than grow */

static void *writer_main(void *arg)
{
	(void)arg;
	char *out = NULL;
	size_t out_cap = 0;
	pthread_mutex_lock(&writer.mu);
	for (;;) {
		if (!writer.len && !writer.stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 50 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			writer.waiting = 1;
			pthread_cond_timedwait(&writer.cv, &writer.mu, &until);
			writer.waiting = 0;
		}
		if (writer.len) {
			/* swap buffers so writers never wait for the write(2) */
			char *b = writer.pending;
			size_t cap = writer.cap, len = writer.len;
			writer.pending = out;
			writer.cap = out_cap;
			writer.len = 0;
			out = b;
			out_cap = cap;
			pthread_mutex_unlock(&writer.mu);
			write_all(out, len);
			pthread_mutex_lock(&writer.mu);
			continue;
		}
		if (writer.stopping)
			break;
	}
	pthread_mutex_unlock(&writer.mu);
	free(out);
	return NULL;
}

void osb_log__start_writer(void)
{
	pthread_mutex_lock(&writer.mu);
	if (!writer.running && pthread_create(&writer.thread, NULL, writer_main, NULL) == 0) {
		writer.running = 1;
		writer.stopping = 0;
	}
	pthread_mutex_unlock(&writer.mu);
}

void osb_log__stop_writer(void)
{
	pthread_mutex_lock(&writer.mu);
	int running = writer.running;
	writer.stopping = 1;
	pthread_cond_signal(&writer.cv);
	pthread_mutex_unlock(&writer.mu);
	if (running)
		pthread_join(writer.thread, NULL);
	pthread_mutex_lock(&writer.mu);
	writer.running = 0;
	free(writer.pending);
	writer.pending = NULL;
	writer.len = writer.cap = 0;
	pthread_mutex_unlock(&writer.mu);
}

void osb_log__write_line(const char *json)
{
	size_t len = strlen(json);
	pthread_mutex_lock(&writer.mu);
	if (writer.running && !writer.stopping && writer.len + len + 1 <= WRITER_MAX_BYTES) {
		if (writer.len + len + 1 > writer.cap) {
			size_t cap = writer.cap ? writer.cap * 2 : 16384;
			while (cap < writer.len + len + 1)
				cap *= 2;
			char *p = realloc(writer.pending, cap);
			if (p) {
				writer.pending = p;
				writer.cap = cap;
			}
		}
		if (writer.len + len + 1 <= writer.cap) {
			memcpy(writer.pending + writer.len, json, len);
			writer.pending[writer.len + len] = '\n';
			writer.len += len + 1;
			/* Busy writer: lines gather and go out in one write. Idle writer: wake it now. */
			if (writer.waiting || writer.len >= WRITER_FLUSH_BYTES)
				pthread_cond_signal(&writer.cv);
			pthread_mutex_unlock(&writer.mu);
			return;
		}
	}
	pthread_mutex_unlock(&writer.mu);
	/* No writer (start-up, tools) or no memory: one write(2) per line, never interleaved. */
	char stack[4096];
	char *buf = len + 2 <= sizeof stack ? stack : malloc(len + 2);
	if (!buf)
		return;
	memcpy(buf, json, len);
	buf[len] = '\n';
	write_all(buf, len + 1);
	if (buf != stack)
		free(buf);
}

static void format_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void osb_log(osb_log_level level, const char *event, const char *fmt, ...)
{
	if (!osb_log__enabled(level))
		return;
	char msg[2048], ts[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A server's message or a cut at the buffer's end must not make the line something other than UTF-8. */
	osb_utf8_scrub(msg, strlen(msg));
	format_time(ts, sizeof ts);

	cJSON *line = cJSON_CreateObject();
	if (!line)
		return;
	cJSON_AddStringToObject(line, "ts", ts);
	cJSON_AddStringToObject(line, "level", level_names[level]);
	cJSON_AddStringToObject(line, "event", event ? event : "log");
	if (thread_request_id)
		cJSON_AddStringToObject(line, "request_id", thread_request_id);
	cJSON_AddStringToObject(line, "msg", msg);
	char *text = cJSON_PrintUnformatted(line);
	if (text) {
		osb_log__write_line(text);
		free(text);
	}
	cJSON_Delete(line);
}
