/* Shared helpers of the benchmark programs: clocks and latency statistics. */
#include "bench_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int bench_samples_add(bench_samples *s, double us)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		double *nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = us;
	return 0;
}

int bench_samples_merge(bench_samples *to, const bench_samples *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		if (bench_samples_add(to, from->v[i]) < 0)
			return -1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_samples_sort(bench_samples *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_double);
}

double bench_percentile(const bench_samples *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
	rank = (size_t)ceil(p / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

double bench_mean(const bench_samples *s)
{
	double sum = 0;
	size_t i;

	if (s->n == 0)
		return 0;
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	return sum / (double)s->n;
}

int bench_samples_write(const char *path, const char *step, const bench_samples *s)
{
	FILE *f = fopen(path, "a");
	size_t i;
	int rc = 0;

	if (!f)
		return -1;
	for (i = 0; i < s->n; i++)
		if (fprintf(f, "%s %.3f\n", step, s->v[i] / 1000.0) < 0)
			rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

void bench_samples_free(bench_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

long bench_self_hwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int bench_int_arg(const char *name, const char *value, int min, int max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = value ? strtol(value, &end, 10) : 0;
	if (!value || errno || end == value || *end || v < min || v > max) {
		fprintf(stderr, "%s must be an integer from %d to %d (got \"%s\")\n", name, min, max,
			value ? value : "");
		exit(2);
	}
	return (int)v;
}
