/** @file utf8.h  Checking text from outside (bodies, catalogs, server messages) before it goes into JSON or SQL. */
#ifndef OSB_UTF8_H
#define OSB_UTF8_H

#include <stddef.h>

#include "common.h"

/**
 * The length of the well-formed UTF-8 sequence (RFC 3629) that starts at `s`, of the `len` bytes
 * there: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * @return 1 to 4, or 0 when the bytes at `s` are no such sequence (or `len` is 0).
 */
OSB_EXTERN(size_t) osb_utf8_sequence(const char *s, size_t len);

/**
 * How many bytes at the start of `s[0..len)` are well-formed UTF-8: the offset of the first byte
 * that is not, or `len`. A sequence cut off by `len` is not well-formed, so
 * `osb_utf8_span(s, strnlen(s, max))` is where to cut text to at most `max` bytes without
 * splitting a character.
 * @return 0 to `len`.
 */
OSB_EXTERN(size_t) osb_utf8_span(const char *s, size_t len);

/**
 * Whether `s[0..len)` is well-formed UTF-8. NUL bytes are.
 * @return 1 or 0.
 */
OSB_EXTERN(int) osb_utf8_valid(const char *s, size_t len);

/**
 * Make `s[0..len)` well-formed UTF-8 in place: every byte that is not part of a well-formed
 * sequence becomes '?'. The length does not change, and bytes below 0x80 (JSON's structural
 * characters among them) are never touched, so JSON text stays JSON.
 * @return how many bytes were replaced.
 */
OSB_EXTERN(size_t) osb_utf8_scrub(char *s, size_t len);

#endif
