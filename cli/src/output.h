/* How the tool speaks: errors, tables, key-value lines, JSON documents and the progress line. */
#ifndef OSB_CLI_OUTPUT_H
#define OSB_CLI_OUTPUT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "cli.h"

/**
 * Report a failure and return `code`. Human mode: "osb VERB: message" on stderr.
 * --json: {"error": {"code": code, "message": ...}} on stdout (plus `extra`'s
 * members when given: the broker's status, error and description).
 * Takes ownership of `extra` (may be NULL).
 */
int out_fail(cli *c, int code, cJSON *extra, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** A note for people (stderr, human mode only). */
void out_note(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Print a JSON document on stdout (pretty) and free it. @return CLI_OK, or CLI_LOCAL when it cannot be printed. */
int out_json(cJSON *doc);

/** A table: columns of text, aligned; the first row is the header. */
typedef struct {
	size_t cols;
	size_t rows;
	char **cells; /* rows * cols, each malloc'd or NULL */
} out_table;

void out_table_init(out_table *t, size_t cols);
/** Add a row of `cols` strings (copied; NULL prints as ""). */
void out_table_row(out_table *t, ...);
/** Print it on stdout, then free it. */
void out_table_print(out_table *t);

/** "key:   value" lines, aligned. */
void out_field(const char *key, const char *value);

/**
 * The progress of a wait on stderr: on a terminal one line rewritten in place
 * (elapsed time, state, the broker's description); otherwise a plain line each
 * time the state or the description changes. out_progress_end() finishes it.
 */
void out_progress(const char *what, long elapsed_s, const char *state, const char *description);
void out_progress_end(void);

#endif
