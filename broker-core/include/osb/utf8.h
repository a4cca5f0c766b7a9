/** @file utf8.h  Checking text from outside (request bodies, server messages) before it goes into JSON. */
#ifndef OSB_UTF8_H
#define OSB_UTF8_H

#include <stddef.h>

#include "common.h"

/**
 * Whether `s[0..len)` is well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no cut-off sequence.
 * NUL bytes are well-formed.
 * @return 1 or 0.
 */
OSB_EXTERN(int) osb_utf8_valid(const char *s, size_t len);

/**
 * How many bytes of NUL-terminated `s` to keep so that at most `max` bytes
 * are kept and no character is cut in two: for "%.*s" when quoting text in a
 * message. Stops before the first byte that is not well-formed UTF-8.
 * @return the byte count, at most min(strlen(s), max).
 */
OSB_EXTERN(size_t) osb_utf8_prefix(const char *s, size_t max);

/**
 * Make `s[0..len)` well-formed UTF-8 in place: every byte that is not part of
 * a well-formed sequence becomes '?'. The length does not change, and bytes
 * below 0x80 (JSON's structural characters among them) are never touched, so
 * JSON text stays JSON.
 * @return how many bytes were replaced.
 */
OSB_EXTERN(size_t) osb_utf8_scrub(char *s, size_t len);

#endif
