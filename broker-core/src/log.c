/* Structured logging: one JSON object per line on stderr, written atomically. */
#include "log_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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

void osb_log__write_line(const char *json)
{
	size_t len = strlen(json);
	char stack[4096];
	char *buf = len + 2 <= sizeof stack ? stack : malloc(len + 2);
	if (!buf)
		return;
	memcpy(buf, json, len);
	buf[len] = '\n';
	/* One write(2) per line so lines from many threads never interleave. */
	ssize_t n = write(STDERR_FILENO, buf, len + 1);
	(void)n;
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
	if (level < min_level || level > OSB_LOG_ERROR)
		return;
	char msg[2048], ts[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
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
