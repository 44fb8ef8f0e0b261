/*
 * test_uuid.c - compiler/uuid.c: RFC 4122 version 5 UUIDs against
 * published and python3-computed vectors, upper-case text form, version
 * nibble, variant bits and determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uuid.h"

/* RFC 4122 appendix C: 6ba7b811-9dad-11d1-80b4-00c04fd430c8. */
static const uint8_t namespace_url[16] = {
	0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

static void assert_uuid5(const uint8_t ns[16], const char *name, const char *want)
{
	char out[UUID_STRING_LEN + 1];

	memset(out, 'x', sizeof(out));
	assert_int_equal(uuid_v5(ns, name, out), 0);
	assert_string_equal(out, want);
}

/* Checks the text form: 8-4-4-4-12 upper-case hex, version 5, RFC 4122 variant. */
static void assert_well_formed(const char *u)
{
	assert_int_equal(strlen(u), UUID_STRING_LEN);
	for (size_t i = 0; i < UUID_STRING_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			assert_int_equal(u[i], '-');
			continue;
		}
		assert_true((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'A' && u[i] <= 'F'));
	}
	assert_int_equal(u[14], '5');
	assert_non_null(strchr("89AB", u[19]));
}

static void test_python_org_in_dns_namespace(void **state)
{
	(void)state;
	/* The example of Python's uuid documentation, in upper case. */
	assert_uuid5(uuid_namespace_dns, "python.org", "886313E1-3B8A-5372-9B90-0C9AEE199E5D");
}

static void test_more_dns_vectors(void **state)
{
	(void)state;
	/* python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, NAME))' */
	assert_uuid5(uuid_namespace_dns, "www.example.com", "2ED6657D-E927-568B-95E1-2665A8AEA6A2");
	assert_uuid5(uuid_namespace_dns, "com.example.elevation",
	             "047CC906-CEC3-57AC-9B67-C30469C57E67");
	assert_uuid5(uuid_namespace_dns, "", "4EBD0208-8328-5D69-8C44-EC50939C0967");
}

static void test_other_namespace(void **state)
{
	(void)state;
	/* python3: uuid.uuid5(uuid.NAMESPACE_URL, "https://www.python.org/") */
	assert_uuid5(namespace_url, "https://www.python.org/", "5406F80D-92E9-51CD-A176-77445955E733");
}

static void test_dns_namespace_constant(void **state)
{
	static const uint8_t want[16] = {
		0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
		0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
	};
	(void)state;
	assert_memory_equal(uuid_namespace_dns, want, 16);
}

static void test_version_and_variant_bits(void **state)
{
	static const char *const names[] = {
		"", "a", "python.org", "com.example.elevation.com.jamf.connect",
		"caf\xC3\xA9",
		("a much longer name that spans more than one SHA-1 block of input, "
		 "which is sixty-four bytes, so that the digest's padding is exercised too"),
	};
	char out[UUID_STRING_LEN + 1];
	(void)state;

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		assert_int_equal(uuid_v5(uuid_namespace_dns, names[i], out), 0);
		assert_well_formed(out);
		assert_int_equal(uuid_v5(namespace_url, names[i], out), 0);
		assert_well_formed(out);
	}
}

static void test_same_input_gives_same_uuid(void **state)
{
	char a[UUID_STRING_LEN + 1], b[UUID_STRING_LEN + 1];
	(void)state;

	assert_int_equal(uuid_v5(uuid_namespace_dns, "com.example.elevation", a), 0);
	assert_int_equal(uuid_v5(uuid_namespace_dns, "com.example.elevation", b), 0);
	assert_string_equal(a, b);
}

static void test_name_and_namespace_change_the_uuid(void **state)
{
	char a[UUID_STRING_LEN + 1], b[UUID_STRING_LEN + 1], c[UUID_STRING_LEN + 1];
	(void)state;

	assert_int_equal(uuid_v5(uuid_namespace_dns, "com.example.elevation", a), 0);
	assert_int_equal(uuid_v5(uuid_namespace_dns, "com.example.Elevation", b), 0);
	assert_int_equal(uuid_v5(namespace_url, "com.example.elevation", c), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_org_in_dns_namespace),
		cmocka_unit_test(test_more_dns_vectors),
		cmocka_unit_test(test_other_namespace),
		cmocka_unit_test(test_dns_namespace_constant),
		cmocka_unit_test(test_version_and_variant_bits),
		cmocka_unit_test(test_same_input_gives_same_uuid),
		cmocka_unit_test(test_name_and_namespace_change_the_uuid),
	};
	return cmocka_run_group_tests_name("uuid", tests, NULL, NULL);
}
