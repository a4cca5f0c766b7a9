/* The error table (errors.def) expanded into status, name and text lookups; osb_errbuf. */
#include "osb/errors.h"
#include "errors_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct error_row {
	int code;
	int status;
	const char *name;
	const char *text;
};

static const struct error_row error_rows[] = {
#define OSB_ERROR_ROW(code, value, status, name, text) { code, status, name, text },
#include "osb/errors.def"
#undef OSB_ERROR_ROW
};

static const struct error_row *error_find(int code)
{
	for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++)
		if (error_rows[i].code == code)
			return &error_rows[i];
	return &error_rows[1]; /* OSB_ERROR: an unknown code is an internal error */
}

int osb_error_http_status(int code)
{
	return error_find(code)->status;
}

const char *osb_error_name(int code)
{
	return error_find(code)->name;
}

const char *osb_strerror(int code)
{
	return error_find(code)->text;
}

void osb_errbuf__one_line(char *msg)
{
	size_t n = 0;
	for (const char *p = msg; *p; p++) {
		char c = (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p;
		if (c == ' ' && (n == 0 || msg[n - 1] == ' '))
			continue;
		msg[n++] = c;
	}
	while (n > 0 && msg[n - 1] == ' ')
		n--;
	msg[n] = '\0';
}

int osb_errbuf_set(osb_errbuf *e, int code, const char *fmt, ...)
{
	char msg[sizeof(e->msg)];
	va_list ap;

	/* Through a copy: the arguments may point into the buffer itself. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	osb_errbuf__one_line(msg);
	memcpy(e->msg, msg, sizeof(msg));
	e->code = code;
	return code;
}
