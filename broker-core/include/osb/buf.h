/** @file buf.h  A growable string buffer that wipes what it held (SQL with password hashes, request bodies). */
#ifndef OSB_BUF_H
#define OSB_BUF_H

#include <stdarg.h>

#include "common.h"

/**
 * A NUL-terminated string that grows as text is appended. Zero-initialise it
 * (`osb_buf b = OSB_BUF_INIT;`). After a failed append the buffer keeps what it
 * had and every later append fails too, so a caller may check once at the end.
 * Memory is overwritten with zeros whenever it is released.
 */
typedef struct {
	char *data; /* the text, NUL-terminated; NULL until the first append */
	size_t len; /* bytes of text, without the NUL */
	size_t cap; /* bytes allocated */
	int failed; /* an append ran out of memory */
} osb_buf;

#define OSB_BUF_INIT                                                                                                   \
	{                                                                                                              \
		NULL, 0, 0, 0                                                                                          \
	}

/** Append `n` bytes of `s`. @return 0 or OSB_ENOMEM. */
OSB_EXTERN(int) osb_buf_add(osb_buf *b, const char *s, size_t n);

/** Append a C string. @return 0 or OSB_ENOMEM. */
OSB_EXTERN(int) osb_buf_puts(osb_buf *b, const char *s);

/** Append formatted text. @return 0 or OSB_ENOMEM. */
OSB_EXTERN(int) osb_buf_printf(osb_buf *b, const char *fmt, ...) OSB_PRINTF(2, 3);
OSB_EXTERN(int) osb_buf_vprintf(osb_buf *b, const char *fmt, va_list ap) OSB_PRINTF(2, 0);

/**
 * @return the text ("" when nothing was appended), or NULL after a failed
 *         append. Owned by the buffer.
 */
OSB_EXTERN(const char *) osb_buf_text(const osb_buf *b);

/**
 * Hand the text over to the caller and reset the buffer. Caller frees with free().
 * @return the text, or NULL after a failed append (the buffer is wiped then).
 */
OSB_EXTERN(char *) osb_buf_take(osb_buf *b);

/** Wipe and free the buffer's memory and reset it; safe to call twice. */
OSB_EXTERN(void) osb_buf_free(osb_buf *b);

#endif
