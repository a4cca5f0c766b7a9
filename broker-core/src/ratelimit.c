/* Per-address token buckets in a fixed hash table; collisions share a bucket, which only errs strict. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 4096
#define STRIPES 64

typedef struct {
	double tokens;
	double last; /* seconds, monotonic */
} bucket;

struct osb_ratelimit {
	double rate;
	double burst;
	bucket slots[SLOTS];
	pthread_mutex_t locks[STRIPES];
};

osb_ratelimit *osb_ratelimit_new(double rate, int burst)
{
	osb_ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->rate = rate;
	rl->burst = burst;
	for (int i = 0; i < SLOTS; i++)
		rl->slots[i].tokens = -1; /* unused: full on first sight */
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&rl->locks[i], NULL);
	return rl;
}

static uint32_t hash_addr(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int osb_ratelimit_allow(osb_ratelimit *rl, const char *addr)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	uint32_t h = hash_addr(addr) % SLOTS;
	pthread_mutex_t *lock = &rl->locks[h % STRIPES];
	pthread_mutex_lock(lock);
	bucket *b = &rl->slots[h];
	if (b->tokens < 0) {
		b->tokens = rl->burst;
		b->last = now;
	}
	b->tokens += (now - b->last) * rl->rate;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->last = now;
	int ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	pthread_mutex_unlock(lock);
	return ok;
}

void osb_ratelimit_free(osb_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&rl->locks[i]);
	free(rl);
}
