/* Shared helpers of the benchmark programs: clocks and latency statistics. */
#ifndef OSB_BENCH_UTIL_H
#define OSB_BENCH_UTIL_H

#include <stddef.h>

/** CLOCK_MONOTONIC in nanoseconds. */
long long bench_now_ns(void);

/** A growable list of latencies in microseconds. */
typedef struct {
	double *v;  /* samples */
	size_t n;   /* how many */
	size_t cap; /* room */
} bench_samples;

/** Append one sample. @return 0 or -1 when out of memory. */
int bench_samples_add(bench_samples *s, double us);

/** Append all of `from` to `to`. @return 0 or -1. */
int bench_samples_merge(bench_samples *to, const bench_samples *from);

/** Sort in place (needed once before bench_percentile). */
void bench_samples_sort(bench_samples *s);

/** The p-th percentile (0..100, nearest rank) of sorted samples; 0 when empty. */
double bench_percentile(const bench_samples *s, double p);

/** Arithmetic mean; 0 when empty. */
double bench_mean(const bench_samples *s);

void bench_samples_free(bench_samples *s);

/** Append every sample to `path` as "STEP MS" lines. @return 0 or -1. */
int bench_samples_write(const char *path, const char *step, const bench_samples *s);

/** This process's peak resident memory (VmHWM) in kB, or -1. */
long bench_self_hwm_kb(void);

/** Parse a positive int option value or exit(2) naming the option. */
int bench_int_arg(const char *name, const char *value, int min, int max);

#endif
