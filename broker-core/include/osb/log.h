/** @file log.h  Structured logs: one JSON object per line on stderr. */
#ifndef OSB_LOG_H
#define OSB_LOG_H

#include "common.h"

typedef enum { OSB_LOG_DEBUG = 0, OSB_LOG_INFO = 1, OSB_LOG_WARN = 2, OSB_LOG_ERROR = 3 } osb_log_level;

/**
 * Write one log line {"ts","level","event","msg", "request_id"?}. The request
 * id of the calling thread's current request is added by the core. Never pass
 * a credential: logs are not secret.
 * @param event  a short, stable name such as "driver.connect_failed".
 */
OSB_EXTERN(void) osb_log(osb_log_level level, const char *event, const char *fmt, ...) OSB_PRINTF(3, 4);

#endif
