/*
 * test_sig.c - signed bytecode: polc keygen's key pair, bytecode_sign(),
 * and libep's ep_load_signed(). A signed file loads only with its key;
 * every single-bit flip anywhere in a signed file, an unknown key, an
 * unsigned file and a cut signature are each refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "sig.h"
#include "sign_bytecode.h"

struct keys {
	char dir[64];
	char key[96], pub[96], other_pub[96];
};

static void run_keygen(const char *base)
{
	char *argv[] = { "keygen", "--out", (char *)base, NULL };
	assert_int_equal(keygen_command(3, argv), 0);
}

static int setup_keys(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	snprintf(k->dir, sizeof(k->dir), "/tmp/polc-sig-XXXXXX");
	if (!k || !mkdtemp(k->dir))
		return -1;
	char base[96];
	snprintf(base, sizeof(base), "%s/a", k->dir);
	run_keygen(base);
	snprintf(base, sizeof(base), "%s/b", k->dir);
	run_keygen(base);
	snprintf(k->key, sizeof(k->key), "%s/a.key", k->dir);
	snprintf(k->pub, sizeof(k->pub), "%s/a.pub", k->dir);
	snprintf(k->other_pub, sizeof(k->other_pub), "%s/b.pub", k->dir);
	*state = k;
	return 0;
}

static int teardown_keys(void **state)
{
	struct keys *k = *state;
	const char *names[] = { "a.key", "a.pub", "b.key", "b.pub" };
	for (size_t i = 0; i < 4; i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", k->dir, names[i]);
		unlink(path);
	}
	rmdir(k->dir);
	free(k);
	return 0;
}

/* examples/rules.ep-like policy, compiled and signed with key a. */
static void signed_policy(const struct keys *k, unsigned char **bytes, size_t *len)
{
	struct compilation c;
	assert_int_equal(compile_text(&c, TEST_PROFILE "rule \"Kiosk\" {\n    when user == \"kiosk\"\n    deny\n}\n",
	                              NULL, false), 0);
	*len = c.bytecode_len;
	*bytes = malloc(*len);
	memcpy(*bytes, c.bytecode, *len);
	compilation_free(&c);
	assert_int_equal(bytecode_sign(k->key, bytes, len), 0);
}

static void read_key(const char *path, struct ep_public_key *key)
{
	assert_int_equal(bytecode_read_public_key(path, key), 0);
}

static void test_keygen_writes_private_key_0600(void **state)
{
	const struct keys *k = *state;
	struct stat st;
	assert_int_equal(stat(k->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(k->pub, &st), 0);
}

static void test_keygen_never_overwrites(void **state)
{
	const struct keys *k = *state;
	char base[96];
	snprintf(base, sizeof(base), "%s/a", k->dir);
	char *argv[] = { "keygen", "--out", base, NULL };
	assert_int_not_equal(keygen_command(3, argv), 0);   /* prints why on stderr */
}

static void test_signed_file_loads_with_its_key(void **state)
{
	const struct keys *k = *state;
	unsigned char *b;
	size_t len;
	struct ep_public_key key;
	struct ep_program prog;
	struct ep_error err;

	signed_policy(k, &b, &len);
	read_key(k->pub, &key);
	assert_int_equal(ep_load_signed(&prog, b, len, &key, 1, &err), 0);
	uint8_t id[EP_KEY_ID_SIZE];
	assert_int_equal(ep_signer_id(b, len, id, NULL), 0);
	assert_memory_equal(id, key.id, EP_KEY_ID_SIZE);
	free(b);
}

static void test_unknown_key_is_refused(void **state)
{
	const struct keys *k = *state;
	unsigned char *b;
	size_t len;
	struct ep_public_key other;
	struct ep_program prog;
	struct ep_error err;

	signed_policy(k, &b, &len);
	read_key(k->other_pub, &other);
	assert_int_equal(ep_load_signed(&prog, b, len, &other, 1, &err), -EP_UNKNOWN_KEY);
	assert_int_equal(ep_load_signed(&prog, b, len, NULL, 0, &err), -EP_UNKNOWN_KEY);
	assert_int_not_equal(prog.verified, EP_VERIFIED_MAGIC);
	free(b);
}

static void test_unsigned_file_is_refused(void **state)
{
	const struct keys *k = *state;
	struct compilation c;
	struct ep_public_key key;
	struct ep_program prog;
	struct ep_error err;

	read_key(k->pub, &key);
	assert_int_equal(compile_text(&c, TEST_PROFILE, NULL, false), 0);
	assert_int_equal(ep_load_signed(&prog, c.bytecode, c.bytecode_len, &key, 1, &err), -EP_UNSIGNED);
	compilation_free(&c);
}

static void test_cut_signature_is_refused(void **state)
{
	const struct keys *k = *state;
	unsigned char *b;
	size_t len;
	struct ep_public_key key;
	struct ep_program prog;
	struct ep_error err;

	signed_policy(k, &b, &len);
	read_key(k->pub, &key);
	for (size_t cut = 1; cut <= EP_SIGNATURE_SIZE; cut++)
		assert_int_equal(ep_load_signed(&prog, b, len - cut, &key, 1, &err), -EP_BAD_SIGNATURE_SECTION);
	free(b);
}

/* Every single-bit flip of a signed file is refused, whatever it hits. */
static void test_every_bit_flip_is_refused(void **state)
{
	const struct keys *k = *state;
	unsigned char *b;
	size_t len;
	struct ep_public_key key;
	struct ep_program prog;
	struct ep_error err;

	signed_policy(k, &b, &len);
	read_key(k->pub, &key);
	for (size_t bit = 0; bit < len * 8; bit++) {
		b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		int rc = ep_load_signed(&prog, b, len, &key, 1, &err);
		if (rc == 0)
			print_error("flipping bit %zu still loads\n", bit);
		assert_true(rc < 0);
		assert_int_not_equal(prog.verified, EP_VERIFIED_MAGIC);
		b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	assert_int_equal(ep_load_signed(&prog, b, len, &key, 1, &err), 0);
	free(b);
}

static void test_signing_twice_is_refused(void **state)
{
	const struct keys *k = *state;
	unsigned char *b;
	size_t len;

	signed_policy(k, &b, &len);
	assert_int_equal(bytecode_sign(k->key, &b, &len), -1);   /* prints why on stderr */
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_writes_private_key_0600),
		cmocka_unit_test(test_keygen_never_overwrites),
		cmocka_unit_test(test_signed_file_loads_with_its_key),
		cmocka_unit_test(test_unknown_key_is_refused),
		cmocka_unit_test(test_unsigned_file_is_refused),
		cmocka_unit_test(test_cut_signature_is_refused),
		cmocka_unit_test(test_every_bit_flip_is_refused),
		cmocka_unit_test(test_signing_twice_is_refused),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
