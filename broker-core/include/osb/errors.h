/** @file errors.h  Error codes of the core and of drivers, and their OSB mapping. */
#ifndef OSB_ERRORS_H
#define OSB_ERRORS_H

#include "common.h"

/** Every error a core function or a driver callback can return (table: errors.def). */
typedef enum {
#define OSB_ERROR_ROW(code, value, status, name, text) code = value,
#include "errors.def"
#undef OSB_ERROR_ROW
	OSB_ERROR_LAST = -22 /* sentinel: one below the lowest code */
} osb_error_code;

/**
 * HTTP status the spec prescribes for a code (404 for OSB_ENOTFOUND; DELETE
 * routes turn it into 410 themselves).
 * @return the status, 500 for an unknown code.
 */
OSB_EXTERN(int) osb_error_http_status(int code);

/**
 * The OSB `error` string for a code, such as "ConcurrencyError".
 * @return a static string, or NULL where the spec defines none.
 */
OSB_EXTERN(const char *) osb_error_name(int code);

/**
 * Default user-facing description of a code.
 * @return a static, non-empty string.
 */
OSB_EXTERN(const char *) osb_strerror(int code);

/** Size of osb_errbuf.msg, NUL included; longer messages are cut. */
#define OSB_ERRBUF_MSG_SIZE 512

/**
 * Why a step failed: an osb_error_code and a one-line text without secrets.
 * A driver fills one on the way down and hands `msg` to osb_req_fail() at the top.
 * Zero-initialise it (`osb_errbuf err = { 0 };`); it owns no memory.
 */
typedef struct {
	int code;                      /* an osb_error_code, 0 while nothing failed */
	char msg[OSB_ERRBUF_MSG_SIZE]; /* NUL-terminated, cut to fit */
} osb_errbuf;

/**
 * Record a failure in `e`: set its code and format its message, cut to fit.
 * The message is made one line: control characters (a server's multi-line
 * errors, tabs) become spaces and runs of spaces one, so drivers can pass a
 * server's own text as it is.
 * @return `code`, so a caller can write `return osb_errbuf_set(e, OSB_EBACKEND, ...);`.
 */
OSB_EXTERN(int) osb_errbuf_set(osb_errbuf *e, int code, const char *fmt, ...) OSB_PRINTF(3, 4);

#endif
