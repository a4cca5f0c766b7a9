/** @file common.h  Export macro, version and clock of the osb core library. */
#ifndef OSB_COMMON_H
#define OSB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define OSB_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define OSB_EXTERN(type) extern type
#endif

#if defined(__GNUC__)
#define OSB_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define OSB_PRINTF(fmt_index, first_arg)
#endif

/** Version of the suite, also printed by `--version`. */
#define OSB_VERSION "0.1.0"

/** Oldest and newest X-Broker-API-Version the core accepts. */
#define OSB_API_VERSION_MIN_MINOR 13
#define OSB_API_VERSION_MAX_MINOR 17

/**
 * Milliseconds on CLOCK_MONOTONIC, for deadlines and elapsed times (not wall time).
 * @return the reading; only differences between readings mean anything.
 */
OSB_EXTERN(int64_t) osb_clock_ms(void);

/**
 * Milliseconds left until `deadline` (an osb_clock_ms() reading), for connect
 * and I/O timeouts.
 * @return at least 1 (a poll with 0 would not wait at all), at most INT32_MAX.
 */
OSB_EXTERN(int) osb_ms_left(int64_t deadline);

#endif
