/* Private: a token bucket per client address, so one client cannot flood the broker. */
#ifndef OSB_RATELIMIT_H
#define OSB_RATELIMIT_H

typedef struct osb_ratelimit osb_ratelimit;

/** @return a limiter allowing `rate` requests per second with bursts of `burst`, or NULL on OOM. */
osb_ratelimit *osb_ratelimit_new(double rate, int burst);

/** Take one token for this address. @return 1 when allowed, 0 when over the limit. */
int osb_ratelimit_allow(osb_ratelimit *rl, const char *addr);

void osb_ratelimit_free(osb_ratelimit *rl);

#endif
