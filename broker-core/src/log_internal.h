/* Private: logger set-up and the per-thread request id that log lines carry. */
#ifndef OSB_LOG_INTERNAL_H
#define OSB_LOG_INTERNAL_H

#include "osb/log.h"

/** Lowest level written; lines below it are dropped. */
void osb_log__set_level(osb_log_level level);

/** Parse "debug", "info", "warn" or "error". @return 0 or -1. */
int osb_log__parse_level(const char *name, osb_log_level *out);

/** Set (or clear with NULL) the request id added to this thread's log lines. Not copied. */
void osb_log__set_request_id(const char *request_id);

/** Write a prepared JSON object as one line (the request log). Takes no ownership. */
void osb_log__write_line(const char *json);

/** Whether lines of this level are written. */
int osb_log__enabled(osb_log_level level);

/**
 * From now on, lines go to a buffer that one writer thread flushes (at once when
 * it is large, else within 50 ms), so request threads never queue on stderr.
 * Before this, and after osb_log__stop_writer(), every line is written at once.
 */
void osb_log__start_writer(void);

/** Flush what is buffered and stop the writer thread. */
void osb_log__stop_writer(void);

#endif
