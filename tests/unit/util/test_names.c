/* Unit tests of names.c: server-side names derived from ids. */
#include <stdlib.h>

#include "osb/names.h"
#include "unit.h"

static int name_well_formed(const char *n)
{
	if (strlen(n) != OSB_NAME_SIZE - 1 || strncmp(n, "osb_", 4) != 0)
		return 0;
	for (const char *p = n + 4; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	}
	return 1;
}

static void test_format(void)
{
	char n[OSB_NAME_SIZE];
	osb_name_instance(n, "0f4008b5-1234-5678-9abc-dace631cd648");
	CHECK(name_well_formed(n));
	osb_name_binding(n, "0f4008b5-1234-5678-9abc-dace631cd648");
	CHECK(name_well_formed(n));
}

static void test_known_values(void)
{
	char n[OSB_NAME_SIZE];
	/* sha256("instance:abc") = 9c80e43e4233b6e912f8..., sha256("binding:abc") = 4159bb91362cf551d5a4... */
	osb_name_instance(n, "abc");
	CHECK_STR(n, "osb_9c80e43e4233b6e912f8");
	osb_name_binding(n, "abc");
	CHECK_STR(n, "osb_4159bb91362cf551d5a4");
	/* The empty id is hashed like any other. */
	osb_name_instance(n, "");
	CHECK_STR(n, "osb_2e646a54666d41f86910");
}

static void test_stable_and_distinct(void)
{
	char a[OSB_NAME_SIZE], b[OSB_NAME_SIZE], c[OSB_NAME_SIZE];
	osb_name_instance(a, "same-id");
	osb_name_instance(b, "same-id");
	CHECK_STR(a, b);
	osb_name_binding(c, "same-id");
	CHECK(strcmp(a, c) != 0);
	osb_name_instance(b, "same-iD");
	CHECK(strcmp(a, b) != 0);
}

static void test_long_id(void)
{
	/* Longer than the stack buffer: goes through the heap path, same result twice. */
	size_t len = 4000;
	char *id = malloc(len + 1);
	char a[OSB_NAME_SIZE], b[OSB_NAME_SIZE];
	CHECK(id != NULL);
	if (!id)
		return;
	memset(id, 'x', len);
	id[len] = '\0';
	osb_name_instance(a, id);
	osb_name_instance(b, id);
	CHECK(name_well_formed(a));
	CHECK_STR(a, b);
	id[len - 1] = 'y';
	osb_name_instance(b, id);
	CHECK(strcmp(a, b) != 0);
	free(id);
}

static void test_is_derived(void)
{
	char n[OSB_NAME_SIZE];

	osb_name_instance(n, "abc");
	CHECK_INT(osb_name_is_derived(n), 1);
	osb_name_binding(n, "abc");
	CHECK_INT(osb_name_is_derived(n), 1);
	CHECK_INT(osb_name_is_derived("osb_0123456789abcdef0123"), 1);
	CHECK_INT(osb_name_is_derived(NULL), 0);
	CHECK_INT(osb_name_is_derived(""), 0);
	CHECK_INT(osb_name_is_derived("osb_0123456789ABCDEF0123"), 0);
	CHECK_INT(osb_name_is_derived("osb_0123456789abcdef012"), 0);
	CHECK_INT(osb_name_is_derived("osb_0123456789abcdef01234"), 0);
	CHECK_INT(osb_name_is_derived("osc_0123456789abcdef0123"), 0);
	CHECK_INT(osb_name_is_derived("osb_0123456789abcdef012g"), 0);
	CHECK_INT(osb_name_is_derived("postgres"), 0);
	/* inside a longer text: exactly len bytes, whatever follows them */
	CHECK_INT(osb_name_is_derived_n("osb_0123456789abcdef0123:key", OSB_NAME_SIZE - 1), 1);
	CHECK_INT(osb_name_is_derived_n("osb_0123456789abcdef0123.git", OSB_NAME_SIZE - 1), 1);
	CHECK_INT(osb_name_is_derived_n("osb_0123456789abcdef0123", OSB_NAME_SIZE - 2), 0);
	CHECK_INT(osb_name_is_derived_n("osb_0123456789abcdef012:", OSB_NAME_SIZE - 1), 0);
	CHECK_INT(osb_name_is_derived_n(NULL, OSB_NAME_SIZE - 1), 0);
}

OSB_TEST_MAIN(OSB_TEST_CASE(test_format), OSB_TEST_CASE(test_known_values), OSB_TEST_CASE(test_stable_and_distinct),
	      OSB_TEST_CASE(test_long_id), OSB_TEST_CASE(test_is_derived))
