/*
 * test_profile.c - profile_build_xml() read back with libplist (envelope, UUIDs, Jamf Connect
 * keys in managed and inline form) and output_write_all()'s all-or-nothing file writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <plist/plist.h>

#include "helpers.h"
#include "output.h"
#include "profile.h"

/* ---- building and reading profiles ---------------------------------------- */

struct built {
	struct compilation c;
	char *xml;          /* profile_build_xml()'s bytes, not NUL-terminated */
	size_t len;
	char *text;         /* the same bytes with a NUL, for string searches */
	plist_t root;
};

static void build_xml(struct compilation *c, enum payload_style style, char **xml, size_t *len)
{
	struct profile_options opts = {
		.target = &target_jamf_connect,
		.style = style,
		.bytecode = c->bytecode,
		.bytecode_len = c->bytecode_len,
	};
	assert_int_equal(profile_build_xml(c->policy, &opts, xml, len), 0);
	assert_non_null(*xml);
	assert_true(*len > 0);
}

/* Compiles text for Jamf Connect, builds the profile and parses it back. */
static void build(struct built *b, const char *text, enum payload_style style)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(compile_text(&b->c, text, &target_jamf_connect, false), 0);
	assert_non_null(b->c.policy);
	build_xml(&b->c, style, &b->xml, &b->len);
	b->text = malloc(b->len + 1);
	assert_non_null(b->text);
	memcpy(b->text, b->xml, b->len);
	b->text[b->len] = '\0';
	plist_from_xml(b->xml, (uint32_t)b->len, &b->root);
	assert_non_null(b->root);
	assert_int_equal(plist_get_node_type(b->root), PLIST_DICT);
}

static void built_free(struct built *b)
{
	plist_free(b->root);
	free(b->text);
	free(b->xml);
	compilation_free(&b->c);
}

static plist_t get(plist_t dict, const char *key, plist_type type)
{
	assert_non_null(dict);
	assert_int_equal(plist_get_node_type(dict), PLIST_DICT);
	plist_t v = plist_dict_get_item(dict, key);
	if (!v)
		print_error("missing key %s\n", key);
	assert_non_null(v);
	assert_int_equal(plist_get_node_type(v), type);
	return v;
}

static plist_t item(plist_t array, uint32_t i)
{
	assert_int_equal(plist_get_node_type(array), PLIST_ARRAY);
	assert_true(i < plist_array_get_size(array));
	return plist_array_get_item(array, i);
}

static void assert_string_key(plist_t dict, const char *key, const char *want)
{
	const char *s = plist_get_string_ptr(get(dict, key, PLIST_STRING), NULL);
	assert_string_equal(s, want);
}

static void assert_uint_key(plist_t dict, const char *key, uint64_t want)
{
	uint64_t v = 0;
	plist_get_uint_val(get(dict, key, PLIST_UINT), &v);
	assert_int_equal(v, want);
}

static void assert_bool_key(plist_t dict, const char *key, bool want)
{
	uint8_t v = 2;
	plist_get_bool_val(get(dict, key, PLIST_BOOLEAN), &v);
	assert_int_equal(v != 0, want);
}

static void assert_no_key(plist_t dict, const char *key)
{
	if (plist_dict_get_item(dict, key))
		print_error("unexpected key %s\n", key);
	assert_null(plist_dict_get_item(dict, key));
}

/* Fails unless dict holds exactly the keys listed (any order). */
static void assert_exact_keys(plist_t dict, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_non_null(plist_dict_get_item(dict, keys[i]));
	if (plist_dict_get_size(dict) != n) {
		plist_dict_iter it = NULL;
		plist_dict_new_iter(dict, &it);
		for (;;) {
			char *key = NULL;
			plist_t v = NULL;
			plist_dict_next_item(dict, it, &key, &v);
			if (!key)
				break;
			print_error("has key %s\n", key);
			free(key);
		}
		free(it);
	}
	assert_int_equal(plist_dict_get_size(dict), n);
}

static plist_t first_payload(const struct built *b)
{
	return item(get(b->root, "PayloadContent", PLIST_ARRAY), 0);
}

/* PayloadContent[0] > PayloadContent > com.jamf.connect > Forced[0] > mcx_preference_settings. */
static plist_t managed_prefs(const struct built *b)
{
	plist_t payload = first_payload(b);
	assert_string_key(payload, "PayloadType", "com.apple.ManagedClient.preferences");
	plist_t content = get(payload, "PayloadContent", PLIST_DICT);
	assert_int_equal(plist_dict_get_size(content), 1);
	plist_t forced = get(get(content, "com.jamf.connect", PLIST_DICT), "Forced", PLIST_ARRAY);
	assert_int_equal(plist_array_get_size(forced), 1);
	return get(item(forced, 0), "mcx_preference_settings", PLIST_DICT);
}

static plist_t temporary_user_permissions(const struct built *b)
{
	return get(managed_prefs(b), "TemporaryUserPermissions", PLIST_DICT);
}

/* The Jamf Connect keys of a policy with the given elevation block body. */
static plist_t permissions_for(struct built *b, const char *elevation_body)
{
	char text[1024];
	snprintf(text, sizeof(text), TEST_PROFILE "elevation {\n%s}\n", elevation_body);
	build(b, text, PAYLOAD_MANAGED);
	return temporary_user_permissions(b);
}

static void assert_uuid_text(const char *u)
{
	assert_int_equal(strlen(u), 36);
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_true((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'A' && u[i] <= 'F'));
	}
	assert_int_equal(u[14], '5');
}

static const char *uuid_of(plist_t dict)
{
	return plist_get_string_ptr(get(dict, "PayloadUUID", PLIST_STRING), NULL);
}

/* ---- the envelope ------------------------------------------------------------ */

static void test_output_is_an_xml_plist(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	assert_true(b.len > 5 && memcmp(b.xml, "<?xml", 5) == 0);
	assert_non_null(strstr(b.text, "<!DOCTYPE plist"));
	assert_int_equal(strlen(b.text), b.len);      /* no NUL bytes inside */
	built_free(&b);
}

static void test_envelope_keys(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	assert_string_key(b.root, "PayloadType", "Configuration");
	assert_uint_key(b.root, "PayloadVersion", 1);
	assert_string_key(b.root, "PayloadScope", "System");
	assert_uint_key(b.root, "TargetDeviceType", 5);
	assert_string_key(b.root, "PayloadIdentifier", "com.example.elevation");
	assert_string_key(b.root, "PayloadDisplayName", "Temporary Admin Rights");
	assert_string_key(b.root, "PayloadOrganization", "Example Corp");
	assert_string_key(b.root, "PayloadDescription",
	                  "Standard users may become admin for five minutes.");
	assert_true(plist_array_get_size(get(b.root, "PayloadContent", PLIST_ARRAY)) >= 1);
	built_free(&b);
}

static void test_envelope_omits_organization_and_description_not_given(void **state)
{
	struct built b;
	(void)state;

	build(&b, TEST_PROFILE, PAYLOAD_MANAGED);
	assert_no_key(b.root, "PayloadOrganization");
	assert_no_key(b.root, "PayloadDescription");
	assert_string_key(b.root, "PayloadDisplayName", "Test");
	built_free(&b);
}

static void test_payload_uuids_are_upper_case_v5_and_distinct(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	const char *top = uuid_of(b.root);
	assert_uuid_text(top);
	plist_t payloads = get(b.root, "PayloadContent", PLIST_ARRAY);
	uint32_t n = plist_array_get_size(payloads);
	for (uint32_t i = 0; i < n; i++) {
		const char *u = uuid_of(item(payloads, i));
		assert_uuid_text(u);
		assert_string_not_equal(u, top);
		for (uint32_t j = 0; j < i; j++)
			assert_string_not_equal(u, uuid_of(item(payloads, j)));
	}
	built_free(&b);
}

static void test_payloads_have_common_keys(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	plist_t payloads = get(b.root, "PayloadContent", PLIST_ARRAY);
	for (uint32_t i = 0; i < plist_array_get_size(payloads); i++) {
		plist_t p = item(payloads, i);
		assert_uint_key(p, "PayloadVersion", 1);
		assert_bool_key(p, "PayloadEnabled", true);
		get(p, "PayloadType", PLIST_STRING);
		get(p, "PayloadDisplayName", PLIST_STRING);
		const char *id = plist_get_string_ptr(get(p, "PayloadIdentifier", PLIST_STRING), NULL);
		/* Payload identifiers live under the profile's own. */
		assert_true(strncmp(id, "com.example.elevation.", 22) == 0);
	}
	built_free(&b);
}

static void test_two_builds_are_byte_identical(void **state)
{
	struct built a, b;
	char *again = NULL;
	size_t again_len = 0;
	(void)state;

	build(&a, JAMF_SEED, PAYLOAD_MANAGED);
	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.xml, b.xml, a.len);
	build_xml(&a.c, PAYLOAD_MANAGED, &again, &again_len);
	assert_int_equal(again_len, a.len);
	assert_memory_equal(again, a.xml, a.len);
	free(again);
	built_free(&a);
	built_free(&b);
}

static void test_uuids_follow_the_identifier_only(void **state)
{
	struct built a, b, c;
	(void)state;

	build(&a, JAMF_SEED, PAYLOAD_MANAGED);
	/* Same identifier, other name, settings and description: a re-upload replaces. */
	build(&b, "profile \"Renamed\" {\n    identifier \"com.example.elevation\"\n"
	          "    description \"Changed.\"\n}\nelevation {\n    duration 10m\n}\n",
	      PAYLOAD_MANAGED);
	build(&c, "profile \"Temporary Admin Rights\" {\n    identifier \"com.example.other\"\n}\n",
	      PAYLOAD_MANAGED);
	assert_string_equal(uuid_of(a.root), uuid_of(b.root));
	assert_string_equal(uuid_of(first_payload(&a)), uuid_of(first_payload(&b)));
	assert_string_not_equal(uuid_of(a.root), uuid_of(c.root));
	assert_string_not_equal(uuid_of(first_payload(&a)), uuid_of(first_payload(&c)));
	built_free(&a);
	built_free(&b);
	built_free(&c);
}

/* ---- Jamf Connect keys ------------------------------------------------------- */

static const char *const seed_keys[] = {
	"TemporaryUserPromotion", "UserPromotionDuration", "VerifyUserPromotion",
	"UserPromotionBiometrics", "UserPromotionReason", "UserPromotionLimit",
	"UserPromotionChoices",
};

static void assert_seed_permissions(plist_t tup)
{
	assert_exact_keys(tup, seed_keys, sizeof(seed_keys) / sizeof(*seed_keys));
	assert_bool_key(tup, "TemporaryUserPromotion", true);
	assert_uint_key(tup, "UserPromotionDuration", 5);
	assert_bool_key(tup, "VerifyUserPromotion", true);
	assert_bool_key(tup, "UserPromotionBiometrics", true);
	assert_bool_key(tup, "UserPromotionReason", true);
	assert_uint_key(tup, "UserPromotionLimit", 0);
	plist_t choices = get(tup, "UserPromotionChoices", PLIST_ARRAY);
	assert_int_equal(plist_array_get_size(choices), 2);
	assert_int_equal(plist_get_node_type(item(choices, 0)), PLIST_STRING);
	assert_string_equal(plist_get_string_ptr(item(choices, 0), NULL),
	                    "Install/Remove an Application");
	assert_string_equal(plist_get_string_ptr(item(choices, 1), NULL), "Change a Setting");
}

static void test_managed_form_carries_exactly_the_seed_keys(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_MANAGED);
	plist_t mcx = managed_prefs(&b);
	assert_int_equal(plist_dict_get_size(mcx), 1);
	assert_seed_permissions(get(mcx, "TemporaryUserPermissions", PLIST_DICT));
	built_free(&b);
}

static void test_inline_form_puts_settings_in_the_payload(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED, PAYLOAD_INLINE);
	plist_t payload = first_payload(&b);
	assert_string_key(payload, "PayloadType", "com.jamf.connect");
	assert_no_key(payload, "PayloadContent");
	assert_seed_permissions(get(payload, "TemporaryUserPermissions", PLIST_DICT));
	/* The envelope does not depend on the style. */
	assert_string_key(b.root, "PayloadType", "Configuration");
	built_free(&b);
}

static void test_timer_shown_and_hidden(void **state)
{
	struct built b;
	(void)state;

	plist_t tup = permissions_for(&b, "    timer shown\n");
	assert_bool_key(tup, "UserPromotionTimer", true);
	built_free(&b);

	tup = permissions_for(&b, "    timer hidden\n");
	assert_bool_key(tup, "UserPromotionTimer", false);
	built_free(&b);
}

static void test_limit_is_carried_per_month(void **state)
{
	struct built b;
	(void)state;

	plist_t tup = permissions_for(&b, "    limit 3 per day\n");
	assert_uint_key(tup, "UserPromotionLimit", 93);
	built_free(&b);

	tup = permissions_for(&b, "    limit 2 per week\n");
	assert_uint_key(tup, "UserPromotionLimit", 12);
	built_free(&b);

	tup = permissions_for(&b, "    limit 10 per month\n");
	assert_uint_key(tup, "UserPromotionLimit", 10);
	built_free(&b);
}

static void test_duration_is_carried_in_whole_minutes(void **state)
{
	struct built b;
	(void)state;

	plist_t tup = permissions_for(&b, "    duration 90s\n");
	assert_uint_key(tup, "UserPromotionDuration", 1);
	built_free(&b);

	tup = permissions_for(&b, "    duration 30s\n");
	assert_uint_key(tup, "UserPromotionDuration", 1);
	built_free(&b);

	tup = permissions_for(&b, "    duration 1h30m\n");
	assert_uint_key(tup, "UserPromotionDuration", 90);
	built_free(&b);
}

static void test_authentication_keys(void **state)
{
	struct built b;
	(void)state;

	plist_t tup = permissions_for(&b, "    authenticate password\n");
	assert_bool_key(tup, "VerifyUserPromotion", true);
	assert_bool_key(tup, "UserPromotionBiometrics", false);
	built_free(&b);

	tup = permissions_for(&b, "    authenticate none\n");
	assert_bool_key(tup, "VerifyUserPromotion", false);
	assert_bool_key(tup, "UserPromotionBiometrics", false);
	built_free(&b);
}

static void test_optional_reason_is_not_required(void **state)
{
	struct built b;
	(void)state;

	plist_t tup = permissions_for(&b, "    reason optional\n");
	assert_bool_key(tup, "UserPromotionReason", false);
	built_free(&b);
}

static void test_keys_absent_when_not_set(void **state)
{
	struct built b;
	static const char *const duration_only[] = {
		"TemporaryUserPromotion", "UserPromotionDuration", "VerifyUserPromotion",
		"UserPromotionBiometrics",
	};
	(void)state;

	/* No reason, limit, choices or timer: their keys are left out. */
	plist_t tup = permissions_for(&b, "    duration 10m\n");
	assert_exact_keys(tup, duration_only, 4);
	assert_uint_key(tup, "UserPromotionDuration", 10);
	built_free(&b);
}

static void test_duration_and_authentication_keys_carry_polc_defaults(void **state)
{
	struct built b;
	static const char *const always[] = {
		"TemporaryUserPromotion", "UserPromotionDuration", "VerifyUserPromotion",
		"UserPromotionBiometrics",
	};
	(void)state;

	/* Without an elevation block polc allows 5 minutes after a password. */
	build(&b, TEST_PROFILE, PAYLOAD_MANAGED);
	plist_t tup = temporary_user_permissions(&b);
	assert_exact_keys(tup, always, 4);
	assert_bool_key(tup, "TemporaryUserPromotion", true);
	assert_uint_key(tup, "UserPromotionDuration", 5);
	assert_bool_key(tup, "VerifyUserPromotion", true);
	assert_bool_key(tup, "UserPromotionBiometrics", false);
	built_free(&b);
}

static void test_rules_do_not_change_the_jamf_keys(void **state)
{
	struct built b;
	(void)state;

	build(&b, JAMF_SEED "rule \"Contractors\" {\n    when group == \"c\"\n    duration 2m\n}\n",
	      PAYLOAD_MANAGED);
	assert_seed_permissions(temporary_user_permissions(&b));
	built_free(&b);
}

/* ---- output.c -------------------------------------------------------------- */

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/polc-test-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

/* Removes the directory and every file directly in it. */
static void tmpdir_remove(struct tmpdir *t)
{
	DIR *d = opendir(t->path);
	if (d) {
		struct dirent *e;
		char p[256];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			join(p, sizeof(p), t->path, e->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(t->path);
}

static size_t count_entries(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void assert_file_is(const char *path, const char *want)
{
	char buf[256];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

static int write_one(const char *path, const char *text, mode_t mode, const char **failed)
{
	struct output_file f = { path, text, strlen(text), mode };
	return output_write_all(&f, 1, failed);
}

static void test_output_writes_a_new_file_with_its_mode(void **state)
{
	struct tmpdir t;
	char path[128];
	struct stat st;
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "out.mobileconfig");
	assert_int_equal(write_one(path, "hello\n", 0640, NULL), 0);
	assert_file_is(path, "hello\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* Nothing but the file itself is left behind. */
	assert_int_equal(count_entries(t.path), 1);
	tmpdir_remove(&t);
}

static void test_output_writes_an_empty_file(void **state)
{
	struct tmpdir t;
	char path[128];
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "empty");
	assert_int_equal(write_one(path, "", 0644, NULL), 0);
	assert_file_is(path, "");
	tmpdir_remove(&t);
}

static void test_output_replaces_an_existing_file(void **state)
{
	struct tmpdir t;
	char path[128];
	struct stat st;
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "out");
	write_file(path, "old contents that are longer than the new ones\n");
	assert_int_equal(write_one(path, "new\n", 0600, NULL), 0);
	assert_file_is(path, "new\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(t.path), 1);
	tmpdir_remove(&t);
}

static void test_output_fails_when_the_directory_is_missing(void **state)
{
	struct tmpdir t;
	char path[128];
	const char *failed = NULL;
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "missing/out");
	errno = 0;
	assert_int_equal(write_one(path, "x", 0644, &failed), -1);
	assert_int_equal(errno, ENOENT);
	assert_ptr_equal(failed, path);
	assert_int_equal(count_entries(t.path), 0);
	tmpdir_remove(&t);
}

static void test_output_fails_in_an_unwritable_directory(void **state)
{
	struct tmpdir t;
	char path[128];
	int status = 0;
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "out");
	write_file(path, "old\n");
	assert_int_equal(chmod(t.path, 0555), 0);
	/* In a child, as an unprivileged user when we are root (root writes anywhere). */
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(2);
		errno = 0;
		int rc = write_one(path, "new\n", 0644, NULL);
		_exit(rc == -1 && errno == EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(t.path, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_file_is(path, "old\n");
	assert_int_equal(count_entries(t.path), 1);
	tmpdir_remove(&t);
	if (WEXITSTATUS(status) == 2)
		skip();     /* cannot drop privileges here */
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_output_failed_rename_leaves_old_and_no_temporary(void **state)
{
	struct tmpdir t;
	char path[128], inside[192];
	(void)state;

	/* The destination is a non-empty directory: rename() must fail. */
	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "out");
	assert_int_equal(mkdir(path, 0755), 0);
	join(inside, sizeof(inside), path, "keep");
	write_file(inside, "old\n");
	errno = 0;
	assert_int_equal(write_one(path, "new\n", 0644, NULL), -1);
	assert_int_not_equal(errno, 0);
	assert_file_is(inside, "old\n");
	assert_int_equal(count_entries(t.path), 1);
	assert_int_equal(unlink(inside), 0);
	tmpdir_remove(&t);
}

static void test_output_writes_all_files_or_none(void **state)
{
	struct tmpdir t;
	char first[128], second[128];
	const char *failed = NULL;
	(void)state;

	tmpdir_make(&t);
	join(first, sizeof(first), t.path, "a.mobileconfig");
	join(second, sizeof(second), t.path, "missing/b.epb");
	write_file(first, "old\n");
	struct output_file files[] = {
		{ first, "new\n", 4, 0644 },
		{ second, "bytes", 5, 0644 },
	};
	assert_int_equal(output_write_all(files, 2, &failed), -1);
	assert_ptr_equal(failed, second);
	assert_file_is(first, "old\n");
	assert_int_equal(count_entries(t.path), 1);

	join(second, sizeof(second), t.path, "b.epb");
	files[1].path = second;
	assert_int_equal(output_write_all(files, 2, NULL), 0);
	assert_file_is(first, "new\n");
	assert_file_is(second, "bytes");
	assert_int_equal(count_entries(t.path), 2);
	tmpdir_remove(&t);
}

static void test_output_dash_means_standard_output(void **state)
{
	struct tmpdir t;
	char path[128];
	(void)state;

	tmpdir_make(&t);
	join(path, sizeof(path), t.path, "stdout");
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	close(fd);
	int rc = write_one("-", "to stdout\n", 0644, NULL);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_int_equal(rc, 0);
	assert_file_is(path, "to stdout\n");
	assert_int_equal(count_entries(t.path), 1);
	tmpdir_remove(&t);
}

static void test_output_writes_devices_in_place(void **state)
{
	struct stat st;
	(void)state;

	assert_int_equal(write_one("/dev/null", "discarded\n", 0644, NULL), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_is_an_xml_plist),
		cmocka_unit_test(test_envelope_keys),
		cmocka_unit_test(test_envelope_omits_organization_and_description_not_given),
		cmocka_unit_test(test_payload_uuids_are_upper_case_v5_and_distinct),
		cmocka_unit_test(test_payloads_have_common_keys),
		cmocka_unit_test(test_two_builds_are_byte_identical),
		cmocka_unit_test(test_uuids_follow_the_identifier_only),
		cmocka_unit_test(test_managed_form_carries_exactly_the_seed_keys),
		cmocka_unit_test(test_inline_form_puts_settings_in_the_payload),
		cmocka_unit_test(test_timer_shown_and_hidden),
		cmocka_unit_test(test_limit_is_carried_per_month),
		cmocka_unit_test(test_duration_is_carried_in_whole_minutes),
		cmocka_unit_test(test_authentication_keys),
		cmocka_unit_test(test_optional_reason_is_not_required),
		cmocka_unit_test(test_keys_absent_when_not_set),
		cmocka_unit_test(test_duration_and_authentication_keys_carry_polc_defaults),
		cmocka_unit_test(test_rules_do_not_change_the_jamf_keys),
		cmocka_unit_test(test_output_writes_a_new_file_with_its_mode),
		cmocka_unit_test(test_output_writes_an_empty_file),
		cmocka_unit_test(test_output_replaces_an_existing_file),
		cmocka_unit_test(test_output_fails_when_the_directory_is_missing),
		cmocka_unit_test(test_output_fails_in_an_unwritable_directory),
		cmocka_unit_test(test_output_failed_rename_leaves_old_and_no_temporary),
		cmocka_unit_test(test_output_writes_all_files_or_none),
		cmocka_unit_test(test_output_dash_means_standard_output),
		cmocka_unit_test(test_output_writes_devices_in_place),
	};
	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
