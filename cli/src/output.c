/* Output of the osb tool: errors, notes, tables, JSON and the progress line. */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int out_fail(cli *c, int code, cJSON *extra, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON *err = cJSON_AddObjectToObject(doc, "error");
		cJSON_AddNumberToObject(err, "code", code);
		cJSON_AddStringToObject(err, "message", msg);
		for (cJSON *m = extra ? extra->child : NULL; m; m = m->next)
			cJSON_AddItemToObject(err, m->string, cJSON_Duplicate(m, 1));
		out_json(doc);
	} else {
		fprintf(stderr, "%s%s%s: %s\n", c->prog, c->verb ? " " : "", c->verb ? c->verb : "", msg);
	}
	cJSON_Delete(extra);
	return code;
}

void out_note(cli *c, const char *fmt, ...)
{
	va_list ap;
	if (c->json)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int out_json(cJSON *doc)
{
	char *text = doc ? cJSON_Print(doc) : NULL;
	cJSON_Delete(doc);
	if (!text)
		return CLI_LOCAL;
	puts(text);
	free(text);
	fflush(stdout);
	return CLI_OK;
}

void out_table_init(out_table *t, size_t cols)
{
	t->cols = cols;
	t->rows = 0;
	t->cells = NULL;
}

void out_table_row(out_table *t, ...)
{
	char **cells = realloc(t->cells, (t->rows + 1) * t->cols * sizeof *cells);
	va_list ap;
	if (!cells)
		return;
	t->cells = cells;
	va_start(ap, t);
	for (size_t i = 0; i < t->cols; i++) {
		const char *v = va_arg(ap, const char *);
		cells[t->rows * t->cols + i] = strdup(v ? v : "");
	}
	va_end(ap);
	t->rows++;
}

void out_table_print(out_table *t)
{
	size_t *w = calloc(t->cols ? t->cols : 1, sizeof *w);
	for (size_t r = 0; w && r < t->rows; r++)
		for (size_t i = 0; i < t->cols; i++) {
			const char *v = t->cells[r * t->cols + i];
			size_t n = v ? strlen(v) : 0;
			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = 0; w && r < t->rows; r++) {
		for (size_t i = 0; i < t->cols; i++) {
			const char *v = t->cells[r * t->cols + i];
			if (i + 1 < t->cols)
				printf("%-*s   ", (int)w[i], v ? v : "");
			else
				printf("%s", v ? v : "");
		}
		putchar('\n');
	}
	for (size_t k = 0; k < t->rows * t->cols; k++)
		free(t->cells[k]);
	free(t->cells);
	free(w);
	t->cells = NULL;
	t->rows = 0;
}

void out_field(const char *key, const char *value)
{
	char label[64];
	snprintf(label, sizeof label, "%s:", key);
	printf("%-18s %s\n", label, value ? value : "");
}

/* ---- progress ------------------------------------------------------------ */

static int progress_open; /* a line is on the terminal */
static char last_state[64];
static char last_description[512];

void out_progress(const char *what, long elapsed_s, const char *state, const char *description)
{
	if (isatty(STDERR_FILENO)) {
		/* \r and erase-line: one line that changes in place. */
		fprintf(stderr, "\r\033[K%s: %s, %lds%s%.200s", what, state, elapsed_s, description ? " - " : "",
			description ? description : "");
		progress_open = 1;
		fflush(stderr);
		return;
	}
	if (strcmp(last_state, state) == 0 && strcmp(last_description, description ? description : "") == 0)
		return;
	snprintf(last_state, sizeof last_state, "%s", state);
	snprintf(last_description, sizeof last_description, "%s", description ? description : "");
	fprintf(stderr, "%s: %s after %lds%s%s\n", what, state, elapsed_s, description ? " - " : "",
		description ? description : "");
}

void out_progress_end(void)
{
	if (progress_open)
		fputc('\n', stderr);
	progress_open = 0;
	last_state[0] = '\0';
	last_description[0] = '\0';
}
