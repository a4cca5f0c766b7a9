/* Polling last_operation with the broker's Retry-After, a progress line, and Ctrl-C that stops only the wait. */
#include "operation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "output.h"

#define DEFAULT_INTERVAL_S 2
#define MAX_INTERVAL_S 30
#define UNREACHABLE_GIVE_UP_S 120

static long now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* Sleep one second unless interrupted (SIGINT ends nanosleep early). */
static void tick(void)
{
	struct timespec ts = { 1, 0 };
	if (!cli_interrupted)
		nanosleep(&ts, NULL);
}

static void add_query(char *q, size_t size, const char *key, const char *value)
{
	char *e = value ? broker_escape(value) : NULL;
	size_t n = strlen(q);
	if (e)
		snprintf(q + n, size - n, "%s%s=%s", n ? "&" : "?", key, e);
	free(e);
}

void op_result_free(op_result *res)
{
	free(res->description);
	res->description = NULL;
}

int op_interrupted(cli *c, const char *name, const char *what)
{
	out_progress_end();
	return out_fail(c, CLI_INTERRUPTED, NULL,
			"stopped waiting; the %s goes on at the broker. See how it ends with: osb service %s", what,
			name);
}

int op_wait(cli *c, const cli_broker *b, const char *lo_path, const char *operation, const char *service_id,
	    const char *plan_id, const char *what, op_result *res)
{
	char path[4096], query[2048] = "";
	long start = now_s(), failing_since = 0;
	memset(res, 0, sizeof *res);
	add_query(query, sizeof query, "operation", operation);
	add_query(query, sizeof query, "service_id", service_id);
	add_query(query, sizeof query, "plan_id", plan_id);
	snprintf(path, sizeof path, "%s%s", lo_path, query);
	/* The broker accepted it: say so before the first answer, which may already be the last. */
	out_progress(what, 0, "in progress", NULL);
	for (;;) {
		broker_resp r;
		int interval = DEFAULT_INTERVAL_S;
		if (cli_interrupted)
			return CLI_INTERRUPTED;
		int sent = broker_call(b, "GET", path, NULL, &r);
		if (cli_interrupted) {
			broker_resp_free(&r);
			return CLI_INTERRUPTED;
		}
		const char *state = r.status == 200 ? jstr(r.json, "state") : NULL;
		if (r.status == 410 || r.status == 404) {
			/* 410: what was deleted is gone; 404: the broker has no such instance or binding at all. */
			snprintf(res->state, sizeof res->state, "%s", r.status == 410 ? "gone" : "missing");
			broker_resp_free(&r);
			out_progress_end();
			return CLI_OK;
		}
		if (state && strcmp(state, "in progress") != 0) {
			snprintf(res->state, sizeof res->state, "%s", state);
			const char *d = jstr(r.json, "description");
			res->description = d ? strdup(d) : NULL;
			broker_resp_free(&r);
			out_progress_end();
			return CLI_OK;
		}
		if (state) {
			failing_since = 0;
			out_progress(what, now_s() - start, state, jstr(r.json, "description"));
		} else if (sent != 0 || r.status >= 500 || r.status == 429) {
			/* A broker restarting, or overloaded: keep asking for a while. */
			char why[512];
			broker_describe(&r, why, sizeof why);
			if (!failing_since)
				failing_since = now_s();
			if (now_s() - failing_since > UNREACHABLE_GIVE_UP_S) {
				cJSON *extra = broker_error_extra(&r);
				broker_resp_free(&r);
				out_progress_end();
				return out_fail(
					c, CLI_UNREACHABLE, extra,
					"the broker has not answered for %d s (%s); the operation may go on there",
					UNREACHABLE_GIVE_UP_S, why);
			}
			out_progress(what, now_s() - start, "waiting for the broker", why);
		} else {
			char why[512];
			broker_describe(&r, why, sizeof why);
			cJSON *extra = broker_error_extra(&r);
			broker_resp_free(&r);
			out_progress_end();
			return out_fail(c, CLI_FAILED, extra, "last_operation answered %s", why);
		}
		if (r.retry_after >= 0)
			interval = r.retry_after < 1                ? 1
				   : r.retry_after > MAX_INTERVAL_S ? MAX_INTERVAL_S
								    : r.retry_after;
		int answered = state != NULL;
		char *desc = answered && jstr(r.json, "description") ? strdup(jstr(r.json, "description")) : NULL;
		char shown[32];
		snprintf(shown, sizeof shown, "%s", answered ? state : "waiting for the broker");
		broker_resp_free(&r);
		/* One second at a time, so the elapsed time on a terminal moves and Ctrl-C is prompt. */
		for (int i = 0; i < interval && !cli_interrupted; i++) {
			tick();
			if (answered)
				out_progress(what, now_s() - start, shown, desc);
		}
		free(desc);
	}
}
