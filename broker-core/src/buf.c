/* osb_buf: a growable string buffer that wipes its memory when released (buf.h). */
#include "osb/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osb/errors.h"

/* Grow to hold `more` bytes and a NUL, moving through a fresh block so no copy of the text is left behind. */
static int reserve(osb_buf *b, size_t more)
{
	if (b->failed)
		return OSB_ENOMEM;
	if (more > ((size_t)-1) / 4 - b->len) {
		b->failed = 1;
		return OSB_ENOMEM;
	}
	if (b->data && b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = malloc(cap);
	if (!p) {
		b->failed = 1;
		return OSB_ENOMEM;
	}
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int osb_buf_add(osb_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return OSB_ENOMEM;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int osb_buf_puts(osb_buf *b, const char *s)
{
	return osb_buf_add(b, s, strlen(s));
}

int osb_buf_vprintf(osb_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0) {
		b->failed = 1;
		return OSB_ENOMEM;
	}
	if (reserve(b, (size_t)n) != 0)
		return OSB_ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int osb_buf_printf(osb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = osb_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *osb_buf_text(const osb_buf *b)
{
	if (b->failed)
		return NULL;
	return b->data ? b->data : "";
}

char *osb_buf_take(osb_buf *b)
{
	char *text = NULL;
	if (!b->failed)
		text = b->data ? b->data : strdup("");
	if (b->failed)
		osb_buf_free(b);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
	return text;
}

void osb_buf_free(osb_buf *b)
{
	if (b->data) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}
