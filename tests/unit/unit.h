/* A small test harness: each tests/unit/<area>/test_<file>.c is one executable. */
#ifndef OSB_TEST_UNIT_H
#define OSB_TEST_UNIT_H

#include <stdio.h>
#include <string.h>

static int osb_test_failed_checks;

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                       \
			osb_test_failed_checks++;                                                                      \
		}                                                                                                      \
	} while (0)

#define CHECK_INT(got, want)                                                                                           \
	do {                                                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);                                               \
		if (g_ != w_) {                                                                                        \
			fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);           \
			osb_test_failed_checks++;                                                                      \
		}                                                                                                      \
	} while (0)

#define CHECK_STR(got, want)                                                                                           \
	do {                                                                                                           \
		const char *g_ = (got), *w_ = (want);                                                                  \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                                               \
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got,                \
				g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                               \
			osb_test_failed_checks++;                                                                      \
		}                                                                                                      \
	} while (0)

/* CHECK_CONTAINS(haystack, needle): the string contains the substring. */
#define CHECK_CONTAINS(got, needle)                                                                                    \
	do {                                                                                                           \
		const char *g_ = (got);                                                                                \
		if (!g_ || !strstr(g_, (needle))) {                                                                    \
			fprintf(stderr, "%s:%d: %s is \"%s\", want it to contain \"%s\"\n", __FILE__, __LINE__, #got,  \
				g_ ? g_ : "(null)", (needle));                                                         \
			osb_test_failed_checks++;                                                                      \
		}                                                                                                      \
	} while (0)

typedef struct {
	const char *name;
	void (*fn)(void);
} osb_test_case;

/* Runs every case, prints one line per case and the closing "N passed, N failed". */
static inline int osb_test_run(const osb_test_case *cases, size_t n)
{
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		int before = osb_test_failed_checks;
		cases[i].fn();
		if (osb_test_failed_checks == before) {
			passed++;
			printf("ok   %s\n", cases[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define OSB_TEST_CASE(fn)                                                                                              \
	{                                                                                                              \
#fn, fn                                                                                                \
	}
#define OSB_TEST_MAIN(...)                                                                                             \
	int main(void)                                                                                                 \
	{                                                                                                              \
		static const osb_test_case cases_[] = { __VA_ARGS__ };                                                 \
		return osb_test_run(cases_, sizeof cases_ / sizeof cases_[0]);                                         \
	}

#endif
