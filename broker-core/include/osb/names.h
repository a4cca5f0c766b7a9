/** @file names.h  Server-side names derived from OSB ids. */
#ifndef OSB_NAMES_H
#define OSB_NAMES_H

#include "common.h"

/** Size of a derived name with its NUL: "osb_" and 20 lowercase hex digits. */
#define OSB_NAME_SIZE 25

/**
 * Name of an instance's tenant on the server: "osb_" + 20 hex digits of
 * SHA-256("instance:" + id). Only [a-z0-9_], so it is a valid identifier on every
 * server we support, and raw request text never reaches one.
 * @param[out] out  at least OSB_NAME_SIZE bytes.
 */
OSB_EXTERN(void) osb_name_instance(char out[OSB_NAME_SIZE], const char *instance_id);

/** Name of a binding's principal: the same with SHA-256("binding:" + id). */
OSB_EXTERN(void) osb_name_binding(char out[OSB_NAME_SIZE], const char *binding_id);

/**
 * Whether `name` has the form the two functions above give ("osb_" and 20
 * lowercase hex digits), so a reconciler purges nothing the broker did not make.
 * @return 1 or 0 (also for NULL).
 */
OSB_EXTERN(int) osb_name_is_derived(const char *name);

/** The same for the `len` bytes at `s`, part of a longer text (a key, a line, a file name). */
OSB_EXTERN(int) osb_name_is_derived_n(const char *s, size_t len);

#endif
