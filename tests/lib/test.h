/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small test harness: tagged assertions that print what differed, and
 * one result line per test, "PASS suite: name" or "FAIL suite: name",
 * which tests/run.sh counts. A test that asserted nothing fails: it could
 * not have failed otherwise.
 */
#ifndef NFXDP_TEST_H
#define NFXDP_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern const char *test_suite;
extern int test_passed, test_failed;
extern bool test_ok; /* the current test has not failed yet */
extern int test_asserts; /* assertions the current test has made */

#define ASSERT_TRUE(cond, what)                                                                \
	({                                                                                     \
		bool ___ok = (cond);                                                           \
		test_asserts++;                                                                \
		if (!___ok) {                                                                  \
			fprintf(stderr, "  %s:%d: %s: expected true\n", __FILE__, __LINE__,    \
				what);                                                         \
			test_ok = false;                                                       \
		}                                                                              \
		___ok;                                                                         \
	})

#define ASSERT_EQ(got, want, what)                                                             \
	({                                                                                     \
		long long ___g = (long long)(got), ___w = (long long)(want);                   \
		bool ___ok = ___g == ___w;                                                     \
		test_asserts++;                                                                \
		if (!___ok) {                                                                  \
			fprintf(stderr, "  %s:%d: %s: got %lld, want %lld\n", __FILE__,        \
				__LINE__, what, ___g, ___w);                                   \
			test_ok = false;                                                       \
		}                                                                              \
		___ok;                                                                         \
	})

#define ASSERT_STREQ(got, want, what)                                                          \
	({                                                                                     \
		const char *___g = (got), *___w = (want);                                      \
		bool ___ok = ___g && ___w && !strcmp(___g, ___w);                              \
		test_asserts++;                                                                \
		if (!___ok) {                                                                  \
			fprintf(stderr, "  %s:%d: %s: got '%s', want '%s'\n", __FILE__,        \
				__LINE__, what, ___g ? ___g : "(null)", ___w ? ___w : "(null)"); \
			test_ok = false;                                                       \
		}                                                                              \
		___ok;                                                                         \
	})

#define ASSERT_NEAR(got, want, eps, what)                                                      \
	({                                                                                     \
		double ___g = (got), ___w = (want);                                            \
		bool ___ok = ___g - ___w <= (eps) && ___w - ___g <= (eps);                     \
		test_asserts++;                                                                \
		if (!___ok) {                                                                  \
			fprintf(stderr, "  %s:%d: %s: got %.6f, want %.6f\n", __FILE__,        \
				__LINE__, what, ___g, ___w);                                   \
			test_ok = false;                                                       \
		}                                                                              \
		___ok;                                                                         \
	})

/* Starts a test; end it with test_end(). */
void test_begin(const char *name);
void test_end(void);
/* Prints the suite's summary; returns the process exit status. */
int test_summary(void);

#define TEST(name) for (int ___t = (test_begin(name), 1); ___t; ___t = 0, test_end())

#endif /* NFXDP_TEST_H */
