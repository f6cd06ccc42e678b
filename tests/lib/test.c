// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "test.h"

const char *test_suite = "test";
int test_passed, test_failed;
bool test_ok;
int test_asserts;
static const char *test_name;

void test_begin(const char *name)
{
	test_name = name;
	test_ok = true;
	test_asserts = 0;
}

void test_end(void)
{
	if (!test_asserts) {
		fprintf(stderr, "  %s: asserted nothing, so it could not fail\n", test_name);
		test_ok = false;
	}
	if (test_ok)
		test_passed++;
	else
		test_failed++;
	printf("%s %s: %s\n", test_ok ? "PASS" : "FAIL", test_suite, test_name);
	fflush(stdout);
}

int test_summary(void)
{
	printf("# %s: %d passed, %d failed\n", test_suite, test_passed, test_failed);
	return test_failed ? 1 : 0;
}
