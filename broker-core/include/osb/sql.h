/** @file sql.h  Quoting of SQL identifiers and literals for drivers. */
#ifndef OSB_SQL_H
#define OSB_SQL_H

#include "common.h"

/** Quoting dialects. */
typedef enum {
	/** PostgreSQL and standard SQL: "ident", 'literal' (standard_conforming_strings on). */
	OSB_SQL_STANDARD = 0,
	/** MySQL and MariaDB: `ident`, 'literal' with backslashes escaped too. */
	OSB_SQL_MYSQL = 1
} osb_sql_dialect;

/**
 * Quote an identifier: wrap it in the dialect's quote and double any quote inside.
 * Refuses empty strings, strings longer than 255 bytes and invalid UTF-8.
 * @param[out] out  the quoted string; caller frees with free().
 * @return 0, OSB_EBADREQUEST or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_sql_quote_identifier(char **out, const char *ident, osb_sql_dialect dialect);

/**
 * Quote a string literal: wrap it in single quotes, double single quotes and, in
 * OSB_SQL_MYSQL, escape backslashes. Refuses invalid UTF-8.
 * @param[out] out  the quoted string; caller frees with free().
 * @return 0, OSB_EBADREQUEST or OSB_ENOMEM.
 */
OSB_EXTERN(int) osb_sql_quote_literal(char **out, const char *value, osb_sql_dialect dialect);

#endif
