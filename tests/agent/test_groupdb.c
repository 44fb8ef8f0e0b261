/*
 * test_groupdb.c - the agent's group-database editor on real files in a
 * temporary root: adding and removing members (none, one, several, already
 * there, listed twice), every other line unchanged byte for byte, gshadow
 * kept in step or absent, malformed and ambiguous lines and bad names
 * refused with the files untouched, the .pwd.lock lock waited for and timed
 * out on, eight processes adding at once, and crashes and failures at every
 * step leaving the real files whole. Results are read back with fgetgrent(3).
 *
 * The sample files are C strings rather than files under tests/agent/data so
 * that their exact bytes (a CRLF line, no newline at the end) cannot be
 * changed by an editor or by git's line-ending conversion.
 */
#define _DEFAULT_SOURCE   /* fgetgrent */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/groupdb.h"
#include "agent/monoclock.h"
#include "helpers.h"

/* Debian's default /etc/group, with comments, blank and odd lines and broken entries added. */
static const char GROUP_SAMPLE[] =
	"root:x:0:\n"
	"daemon:x:1:\n"
	"bin:x:2:\n"
	"sys:x:3:\n"
	"adm:x:4:syslog,alice\n"
	"# local groups follow; keep them sorted\n"
	"tty:x:5:\n"
	"disk:x:6:\n"
	"\n"
	"lp:x:7:\n"
	"   \t \n"
	"mail:x:8:\r\n"
	"news:x:9:\n"
	"   # an indented comment with sudo:x:27:mallory in it\n"
	"cdrom:x:24:alice,bob\n"
	"sudo:x:27:\n"
	"#sudo:x:27:mallory\n"
	"audio:x:29:pulse\n"
	"wheel:x:10:alice,bob,carol\n"
	"users:x:100:\n"
	"sudoers:x:1009:mallory\n"
	"dup:x:1001:dave,alice,dave\n"
	"bad3:x:1002\n"
	"bad5:x:1003:a:b\n"
	"badgid:x:zz:\n"
	"crlf:x:1004:erin\r\n"
	"spaced:x:1005: alice\n"
	"twice:x:1006:\n"
	"twice:x:1006:bob\n"
	"  indented:x:1007:\n"
	"+::::\n"
	"nogroup:x:65534:\n"
	"last:x:1008:frank";

/* The matching gshadow; "news" has no line here. */
static const char GSHADOW_SAMPLE[] =
	"root:*::\n"
	"daemon:*::\n"
	"bin:*::\n"
	"sys:*::\n"
	"adm:*::syslog,alice\n"
	"# local groups follow\n"
	"tty:*::\n"
	"disk:*::\n"
	"\n"
	"lp:*::\n"
	"mail:*::\r\n"
	"cdrom:*::alice,bob\n"
	"sudo:*::\n"
	"audio:*::pulse\n"
	"wheel:!:alice:alice,bob,carol\n"
	"users:*::\n"
	"sudoers:!::mallory\n"
	"dup:!::dave,alice,dave\n"
	"twice:!::\n"
	"nogroup:*::\n"
	"last:!::frank";

struct fx {
	char root[64];
	char group[96], gshadow[96];
};

static char *path_in(const struct fx *f, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", f->root, name);
	assert_true(n > 0 && (size_t)n < size);
	return buf;
}


static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = malloc((1 << 16) + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, fp);
	assert_true(*len < (1 << 16));
	buf[*len] = '\0';   /* for strstr(); the files have no NUL bytes */
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static bool exists(const struct fx *f, const char *name)
{
	char p[128];
	struct stat st;
	return lstat(path_in(f, name, p, sizeof(p)), &st) == 0;
}

static void assert_file_is(const char *path, const char *data, size_t len)
{
	size_t got;
	char *buf = read_all(path, &got);
	assert_int_equal(got, len);
	assert_memory_equal(buf, data, len);
	free(buf);
}

static void assert_unchanged(const struct fx *f)
{
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_file_is(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1);
	assert_false(exists(f, "group+"));
	assert_false(exists(f, "gshadow+"));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/polc-groupdb-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	path_in(f, "group", f->group, sizeof(f->group));
	path_in(f, "gshadow", f->gshadow, sizeof(f->gshadow));
	write_file(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1, 0644);
	write_file(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1, 0640);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->root);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char p[512];
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof(p), "%s/%s", f->root, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	int rc = rmdir(f->root);
	free(f);
	return rc;
}

/* ---- reading the results back ---------------------------------------------- */

struct lines {
	size_t n;
	const char *p[64];
	size_t len[64];   /* including the '\n', if any */
};

static void split(const char *d, size_t len, struct lines *l)
{
	l->n = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(d + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (d + pos)) + 1 : len - pos;
		assert_true(l->n < 64);
		l->p[l->n] = d + pos;
		l->len[l->n++] = n;
		pos += n;
	}
}

/*
 * The file at path equals before except the one line that starts with
 * "name:", which now reads expected (without its terminator, which must be
 * the old one).
 */
static void assert_only_line(const char *path, const char *before, size_t blen,
                             const char *name, const char *expected)
{
	size_t alen, nlen = strlen(name), matched = 0;
	char *after = read_all(path, &alen);
	struct lines a, b;
	split(before, blen, &b);
	split(after, alen, &a);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < b.n; i++) {
		bool target = b.len[i] > nlen && memcmp(b.p[i], name, nlen) == 0 && b.p[i][nlen] == ':';
		if (!target) {
			assert_int_equal(a.len[i], b.len[i]);
			assert_memory_equal(a.p[i], b.p[i], b.len[i]);
			continue;
		}
		matched++;
		bool nl = b.p[i][b.len[i] - 1] == '\n';
		assert_int_equal(a.len[i], strlen(expected) + nl);
		assert_memory_equal(a.p[i], expected, strlen(expected));
		if (nl)
			assert_int_equal(a.p[i][a.len[i] - 1], '\n');
	}
	assert_int_equal(matched, 1);
	free(after);
}

static void assert_group_line(const struct fx *f, const char *name, const char *expected)
{
	assert_only_line(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1, name, expected);
}

static void assert_gshadow_line(const struct fx *f, const char *name, const char *expected)
{
	assert_only_line(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1, name, expected);
}

/* fgetgrent(3): how many entries glibc reads, and one group's members joined by ','. */
static size_t parse_group(const char *path, const char *name, char *members, size_t size, bool *found)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t count = 0;
	struct group *gr;
	*found = false;
	while ((gr = fgetgrent(fp)) != NULL) {
		count++;
		if (*found || strcmp(gr->gr_name, name) != 0)
			continue;
		*found = true;
		members[0] = '\0';
		for (char **m = gr->gr_mem; *m; m++) {
			size_t used = strlen(members);
			snprintf(members + used, size - used, "%s%s", used ? "," : "", *m);
		}
	}
	assert_int_equal(fclose(fp), 0);
	return count;
}

static void assert_members(const struct fx *f, const char *name, const char *expected)
{
	char members[512], orig[512];
	bool found;
	size_t n = parse_group(f->group, name, members, sizeof(members), &found);
	assert_true(found);
	assert_string_equal(members, expected);
	/* Every entry glibc read before, it still reads. */
	char tmp[128];
	path_in(f, "sample.orig", tmp, sizeof(tmp));
	write_file(tmp, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1, 0600);
	assert_int_equal(parse_group(tmp, name, orig, sizeof(orig), &found), n);
	assert_int_equal(unlink(tmp), 0);
}

static bool member(const struct fx *f, const char *group, const char *user)
{
	bool m = false;
	assert_int_equal(groupdb_is_member(f->root, group, user, &m), 0);
	return m;
}

/* ---- adding ------------------------------------------------------------------ */

static void test_add_to_group_without_members(void **state)
{
	struct fx *f = *state;
	bool already = true;
	assert_false(member(f, "sudo", "alice"));
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &already), 0);
	assert_false(already);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	assert_members(f, "sudo", "alice");
	assert_true(member(f, "sudo", "alice"));
	assert_false(exists(f, "group+"));
	assert_false(exists(f, "gshadow+"));
}

static void test_add_to_group_with_one_member(void **state)
{
	struct fx *f = *state;
	bool already = true;
	assert_int_equal(groupdb_add_member(f->root, "audio", "alice", &already), 0);
	assert_false(already);
	assert_group_line(f, "audio", "audio:x:29:pulse,alice");
	assert_gshadow_line(f, "audio", "audio:*::pulse,alice");
	assert_members(f, "audio", "pulse,alice");
}

static void test_add_to_group_with_several_members(void **state)
{
	struct fx *f = *state;
	bool already = true;
	assert_int_equal(groupdb_add_member(f->root, "wheel", "dave", &already), 0);
	assert_false(already);
	assert_group_line(f, "wheel", "wheel:x:10:alice,bob,carol,dave");
	assert_gshadow_line(f, "wheel", "wheel:!:alice:alice,bob,carol,dave");
	assert_members(f, "wheel", "alice,bob,carol,dave");
}

static void test_add_already_member_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct stat before, after;
	bool already = false;
	assert_int_equal(stat(f->group, &before), 0);
	assert_int_equal(groupdb_add_member(f->root, "wheel", "bob", &already), 0);
	assert_true(already);
	assert_int_equal(groupdb_add_member(f->root, "dup", "dave", &already), 0);
	assert_true(already);
	assert_int_equal(stat(f->group, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_unchanged(f);
	assert_false(exists(f, "group-"));
}

static void test_add_to_last_line_without_newline(void **state)
{
	struct fx *f = *state;
	bool already;
	assert_int_equal(groupdb_add_member(f->root, "last", "alice", &already), 0);
	assert_group_line(f, "last", "last:x:1008:frank,alice");
	assert_gshadow_line(f, "last", "last:!::frank,alice");
	assert_members(f, "last", "frank,alice");
}

static void test_add_keeps_owner_mode_and_backup(void **state)
{
	struct fx *f = *state;
	struct stat orig, st, sst;
	char p[128];
	bool already;
	assert_int_equal(stat(f->group, &orig), 0);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &already), 0);
	assert_int_equal(stat(f->group, &st), 0);
	assert_int_equal(stat(f->gshadow, &sst), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(sst.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, orig.st_uid);
	assert_int_equal(st.st_gid, orig.st_gid);
	assert_int_not_equal(st.st_ino, orig.st_ino);
	assert_file_is(path_in(f, "group-", p, sizeof(p)), GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_file_is(path_in(f, "gshadow-", p, sizeof(p)), GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1);
}

static void test_add_without_gshadow(void **state)
{
	struct fx *f = *state;
	bool already;
	assert_int_equal(unlink(f->gshadow), 0);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &already), 0);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
	assert_false(exists(f, "gshadow"));
	assert_false(exists(f, "gshadow+"));
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &already), 0);
	assert_true(already);
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_false(exists(f, "gshadow"));
}

static void test_group_without_gshadow_line(void **state)
{
	struct fx *f = *state;
	bool already;
	assert_int_equal(groupdb_add_member(f->root, "news", "alice", &already), 0);
	assert_group_line(f, "news", "news:x:9:alice");
	assert_file_is(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1);
}

static void test_add_then_remove_restores_every_byte(void **state)
{
	struct fx *f = *state;
	const char *groups[] = { "sudo", "audio", "wheel", "last", "users", "nogroup", "root" };
	bool flag;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		assert_int_equal(groupdb_add_member(f->root, groups[i], "zoe", &flag), 0);
		assert_false(flag);
		assert_true(member(f, groups[i], "zoe"));
		assert_int_equal(groupdb_remove_member(f->root, groups[i], "zoe", &flag), 0);
		assert_true(flag);
		assert_false(member(f, groups[i], "zoe"));
		assert_unchanged(f);
	}
}

/* ---- removing ------------------------------------------------------------------ */

static void test_remove_only_member(void **state)
{
	struct fx *f = *state;
	bool was = false;
	assert_int_equal(groupdb_remove_member(f->root, "audio", "pulse", &was), 0);
	assert_true(was);
	assert_group_line(f, "audio", "audio:x:29:");
	assert_gshadow_line(f, "audio", "audio:*::");
	assert_members(f, "audio", "");
}

static void test_remove_one_of_several(void **state)
{
	struct fx *f = *state;
	bool was = false;
	assert_int_equal(groupdb_remove_member(f->root, "wheel", "alice", &was), 0);
	assert_true(was);
	assert_group_line(f, "wheel", "wheel:x:10:bob,carol");
	/* The gshadow administrators field is not the member list: alice stays there. */
	assert_gshadow_line(f, "wheel", "wheel:!:alice:bob,carol");
	assert_members(f, "wheel", "bob,carol");
	assert_false(member(f, "wheel", "alice"));
}

static void test_remove_listed_twice_removes_all(void **state)
{
	struct fx *f = *state;
	bool was = false;
	assert_int_equal(groupdb_remove_member(f->root, "dup", "dave", &was), 0);
	assert_true(was);
	assert_group_line(f, "dup", "dup:x:1001:alice");
	assert_gshadow_line(f, "dup", "dup:!::alice");
	assert_members(f, "dup", "alice");
}

static void test_remove_last_line_without_newline(void **state)
{
	struct fx *f = *state;
	bool was = false;
	assert_int_equal(groupdb_remove_member(f->root, "last", "frank", &was), 0);
	assert_true(was);
	assert_group_line(f, "last", "last:x:1008:");
	assert_gshadow_line(f, "last", "last:!::");
}

static void test_remove_non_member_writes_nothing(void **state)
{
	struct fx *f = *state;
	bool was = true;
	assert_int_equal(groupdb_remove_member(f->root, "wheel", "bo", &was), 0);
	assert_false(was);
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &was), 0);
	assert_false(was);
	assert_unchanged(f);
	assert_false(exists(f, "group-"));
}

static void test_remove_repairs_gshadow_only(void **state)
{
	struct fx *f = *state;
	static const char gs[] = "sudo:*::alice\nwheel:!::\n";
	bool was = true;
	write_file(f->gshadow, gs, sizeof(gs) - 1, 0640);
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &was), 0);
	assert_false(was);
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_file_is(f->gshadow, "sudo:*::\nwheel:!::\n", 19);
}

/* ---- membership --------------------------------------------------------------- */

static void test_is_member_exact_names_only(void **state)
{
	struct fx *f = *state;
	assert_true(member(f, "wheel", "alice"));
	assert_true(member(f, "wheel", "bob"));
	assert_true(member(f, "wheel", "carol"));
	assert_false(member(f, "wheel", "ali"));
	assert_false(member(f, "wheel", "alicex"));
	assert_false(member(f, "wheel", "ob"));
	assert_false(member(f, "sudo", "mallory"));      /* only in comments and sudoers */
	assert_false(member(f, "sudo", "root"));
	assert_true(member(f, "last", "frank"));
	bool m;
	assert_int_equal(groupdb_is_member(f->root, "nosuch", "alice", &m), GROUPDB_E_NO_GROUP);
	assert_int_equal(groupdb_is_member(f->root, "bad3", "alice", &m), GROUPDB_E_MALFORMED);
	assert_int_equal(groupdb_is_member(f->root, "twice", "bob", &m), GROUPDB_E_DUP_GROUP);
}

/* ---- refusals ----------------------------------------------------------------- */

static void test_malformed_target_lines_refused(void **state)
{
	struct fx *f = *state;
	const char *bad[] = { "bad3", "bad5", "badgid", "crlf", "spaced", "indented" };
	bool flag;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(groupdb_add_member(f->root, bad[i], "alice", &flag), GROUPDB_E_MALFORMED);
		assert_int_equal(groupdb_remove_member(f->root, bad[i], "alice", &flag), GROUPDB_E_MALFORMED);
		assert_unchanged(f);
	}
	assert_int_equal(groupdb_add_member(f->root, "twice", "alice", &flag), GROUPDB_E_DUP_GROUP);
	assert_int_equal(groupdb_remove_member(f->root, "twice", "bob", &flag), GROUPDB_E_DUP_GROUP);
	assert_int_equal(groupdb_add_member(f->root, "nosuch", "alice", &flag), GROUPDB_E_NO_GROUP);
	assert_int_equal(groupdb_remove_member(f->root, "nosuch", "alice", &flag), GROUPDB_E_NO_GROUP);
	assert_unchanged(f);
	assert_false(exists(f, "group-"));
}

static void test_malformed_gshadow_refused(void **state)
{
	struct fx *f = *state;
	static const char short_line[] = "sudo:*:\nwheel:!::\n";
	static const char twice[] = "sudo:*::\nwheel:!::\nsudo:*::bob\n";
	static const char spaced[] = "sudo:*:: alice\n";
	bool flag;
	write_file(f->gshadow, short_line, sizeof(short_line) - 1, 0640);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), GROUPDB_E_GSHADOW_MALFORMED);
	assert_file_is(f->gshadow, short_line, sizeof(short_line) - 1);
	write_file(f->gshadow, twice, sizeof(twice) - 1, 0640);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), GROUPDB_E_GSHADOW_DUP);
	assert_file_is(f->gshadow, twice, sizeof(twice) - 1);
	write_file(f->gshadow, spaced, sizeof(spaced) - 1, 0640);
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &flag), GROUPDB_E_GSHADOW_MALFORMED);
	assert_file_is(f->gshadow, spaced, sizeof(spaced) - 1);
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_false(exists(f, "group+"));
	assert_false(exists(f, "group-"));
}

static void test_bad_names_refused(void **state)
{
	struct fx *f = *state;
	char longname[GROUPDB_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const char *bad[] = { "", "a:b", "a,b", "a\nb", "a b", "a\tb", "a\rb", "a\x7f", "-x", "+x", "#x",
	                      ":", ",", "\n", longname };
	bool flag;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(groupdb_valid_name(bad[i]));
		assert_int_equal(groupdb_add_member(f->root, "sudo", bad[i], &flag), GROUPDB_E_BAD_USER);
		assert_int_equal(groupdb_remove_member(f->root, "sudo", bad[i], &flag), GROUPDB_E_BAD_USER);
		assert_int_equal(groupdb_is_member(f->root, "sudo", bad[i], &flag), GROUPDB_E_BAD_USER);
		assert_int_equal(groupdb_add_member(f->root, bad[i], "alice", &flag), GROUPDB_E_BAD_GROUP);
		assert_int_equal(groupdb_remove_member(f->root, bad[i], "alice", &flag), GROUPDB_E_BAD_GROUP);
	}
	longname[GROUPDB_NAME_MAX] = '\0';
	assert_true(groupdb_valid_name(longname));
	assert_true(groupdb_valid_name("j.doe-admin_2$"));
	assert_false(groupdb_valid_name(NULL));
	assert_int_equal(groupdb_add_member(f->root, NULL, "alice", &flag), GROUPDB_E_ARG);
	assert_int_equal(groupdb_add_member(f->root, "sudo", NULL, &flag), GROUPDB_E_ARG);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", NULL), GROUPDB_E_ARG);
	assert_unchanged(f);
}

static void test_unusable_files_refused(void **state)
{
	struct fx *f = *state;
	char real[128], missing[128];
	bool flag;
	/* A symbolic link is never followed, even to a good file. */
	path_in(f, "group.real", real, sizeof(real));
	assert_int_equal(rename(f->group, real), 0);
	assert_int_equal(symlink("group.real", f->group), 0);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), GROUPDB_E_NOT_REGULAR);
	assert_int_equal(groupdb_is_member(f->root, "sudo", "alice", &flag), GROUPDB_E_NOT_REGULAR);
	assert_file_is(real, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_int_equal(unlink(f->group), 0);
	/* No group file, and no root at all. */
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), GROUPDB_E_IO);
	assert_int_equal(errno, ENOENT);
	path_in(f, "nowhere", missing, sizeof(missing));
	assert_int_equal(groupdb_add_member(missing, "sudo", "alice", &flag), GROUPDB_E_IO);
	assert_int_equal(rename(real, f->group), 0);
	assert_unchanged(f);
}

static void test_strerror_names_every_status(void **state)
{
	(void)state;
	for (int s = GROUPDB_OK; s >= GROUPDB_E_HOOK; s--) {
		assert_non_null(groupdb_strerror(s));
		assert_string_not_equal(groupdb_strerror(s), "unknown status");
		for (int t = s + 1; t <= GROUPDB_OK; t++)
			assert_string_not_equal(groupdb_strerror(s), groupdb_strerror(t));
	}
	assert_string_equal(groupdb_strerror(1), "unknown status");
	assert_string_equal(groupdb_strerror(GROUPDB_E_HOOK - 1), "unknown status");
}

/* ---- locking and concurrency ---------------------------------------------------- */

/* A child that holds ROOT/.pwd.lock the way lckpwdf(3) does, for ms (or until killed if < 0). */
static pid_t hold_lock(const struct fx *f, int ms)
{
	int p[2];
	char path[128], c;
	assert_int_equal(pipe(p), 0);
	path_in(f, ".pwd.lock", path, sizeof(path));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT, 0600);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fd < 0 || fcntl(fd, F_SETLKW, &fl) != 0 || write(p[1], "x", 1) != 1)
			_exit(1);
		if (ms < 0)
			for (;;)
				pause();
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		_exit(0);
	}
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(close(p[0]), 0);
	return pid;
}

static void reap(pid_t pid, int expect)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), expect);
}

static void test_waits_for_lock_then_succeeds(void **state)
{
	struct fx *f = *state;
	struct groupdb_options opt = { .lock_timeout_ms = 10000 };
	bool already;
	pid_t pid = hold_lock(f, 400);
	long long start = monoclock_ms();
	assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &already), 0);
	assert_true(monoclock_ms() - start >= 300);
	reap(pid, 0);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
}

static void test_lock_timeout_leaves_files(void **state)
{
	struct fx *f = *state;
	struct groupdb_options opt = { .lock_timeout_ms = 200 };
	bool flag;
	pid_t pid = hold_lock(f, -1);
	long long start = monoclock_ms();
	assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &flag), GROUPDB_E_LOCK_TIMEOUT);
	assert_int_equal(groupdb_remove_member_opt(f->root, "wheel", "bob", &opt, &flag), GROUPDB_E_LOCK_TIMEOUT);
	long long took = monoclock_ms() - start;
	assert_true(took >= 400 && took < 5000);
	assert_unchanged(f);
	/* Readers do not need the lock. */
	assert_true(member(f, "wheel", "bob"));
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &flag), 0);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
}

static void test_eight_concurrent_adds(void **state)
{
	struct fx *f = *state;
	pid_t pids[8];
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char user[16];
			bool already = true;
			snprintf(user, sizeof(user), "user%d", i);
			int rc = groupdb_add_member(f->root, "sudo", user, &already);
			_exit(rc == 0 && !already ? 0 : 1);
		}
	}
	for (int i = 0; i < 8; i++)
		reap(pids[i], 0);
	char members[512];
	bool found;
	parse_group(f->group, "sudo", members, sizeof(members), &found);
	assert_true(found);
	assert_int_equal(strlen(members), 8 * 5 + 7);
	for (int i = 0; i < 8; i++) {
		char user[16];
		snprintf(user, sizeof(user), "user%d", i);
		assert_true(member(f, "sudo", user));
		assert_non_null(strstr(members, user));
	}
	/* gshadow lists the same eight, and nothing else moved. */
	size_t len;
	char *gs = read_all(f->gshadow, &len);
	char expected[128];
	snprintf(expected, sizeof(expected), "sudo:*::%s\n", members);
	assert_non_null(strstr(gs, expected));
	free(gs);
	char line[128];
	snprintf(line, sizeof(line), "sudo:x:27:%s", members);
	assert_group_line(f, "sudo", line);
	assert_members(f, "sudo", members);
}

/* ---- failures and crashes at every step ----------------------------------------- */

struct stop {
	enum groupdb_step step;
	const char *file;   /* NULL matches any */
	bool crash;         /* _exit() instead of failing */
	int hits;
};

static int stop_at(void *arg, enum groupdb_step step, const char *file)
{
	struct stop *s = arg;
	if (step != s->step || (s->file && (!file || strcmp(file, s->file) != 0)))
		return 0;
	s->hits++;
	if (s->crash)
		_exit(42);
	return 1;
}

static void test_failure_at_each_step_keeps_original(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "gshadow", "group" };
	enum groupdb_step steps[] = { GROUPDB_STEP_TEMP_WRITTEN, GROUPDB_STEP_BACKUP_LINKED };
	bool flag;
	struct stop s = { .step = GROUPDB_STEP_LOCKED };
	struct groupdb_options opt = { .step_hook = stop_at, .step_arg = &s };
	assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &flag), GROUPDB_E_HOOK);
	assert_int_equal(s.hits, 1);
	assert_unchanged(f);
	/* Adding writes gshadow first: a failure anywhere up to group's rename leaves group as it was. */
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < 2; j++) {
			s = (struct stop){ .step = steps[j], .file = files[i] };
			assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &flag), GROUPDB_E_HOOK);
			assert_int_equal(s.hits, 1);
			assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
			assert_false(exists(f, "group+"));
			assert_false(exists(f, "gshadow+"));
			assert_false(member(f, "sudo", "alice"));
			/* gshadow is either untouched or already done, never partial. */
			if (i == 0)
				assert_file_is(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1);
			else
				assert_gshadow_line(f, "sudo", "sudo:*::alice");
			write_file(f->gshadow, GSHADOW_SAMPLE, sizeof(GSHADOW_SAMPLE) - 1, 0640);
		}
	}
	/* Stopped after gshadow's rename: group still does not list alice; a retry finishes once. */
	s = (struct stop){ .step = GROUPDB_STEP_RENAMED, .file = "gshadow" };
	assert_int_equal(groupdb_add_member_opt(f->root, "sudo", "alice", &opt, &flag), GROUPDB_E_HOOK);
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_false(member(f, "sudo", "alice"));
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), 0);
	assert_false(flag);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	/* Removing writes group first: stopped after its rename, the user is no longer listed. */
	s = (struct stop){ .step = GROUPDB_STEP_RENAMED, .file = "group" };
	assert_int_equal(groupdb_remove_member_opt(f->root, "sudo", "alice", &opt, &flag), GROUPDB_E_HOOK);
	assert_false(member(f, "sudo", "alice"));
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &flag), 0);
	assert_false(flag);
	assert_unchanged(f);
}

/* Runs an edit in a child that dies at the given step; returns after it has died. */
static void crash_at(const struct fx *f, bool add, const char *group, const char *user,
                     enum groupdb_step step, const char *file)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stop s = { .step = step, .file = file, .crash = true };
		struct groupdb_options opt = { .step_hook = stop_at, .step_arg = &s };
		bool flag;
		if (add)
			(void)groupdb_add_member_opt(f->root, group, user, &opt, &flag);
		else
			(void)groupdb_remove_member_opt(f->root, group, user, &opt, &flag);
		_exit(0);
	}
	reap(pid, 42);
}

static void test_crash_before_rename_keeps_original(void **state)
{
	struct fx *f = *state;
	bool flag;
	/* Killed with group+ complete but not renamed: group is the old file, group+ a leftover. */
	crash_at(f, true, "sudo", "alice", GROUPDB_STEP_TEMP_WRITTEN, "group");
	assert_file_is(f->group, GROUP_SAMPLE, sizeof(GROUP_SAMPLE) - 1);
	assert_true(exists(f, "group+"));
	assert_false(member(f, "sudo", "alice"));
	assert_members(f, "sudo", "");
	/* The next edit replaces the leftover and finishes the job, listing alice once. */
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), 0);
	assert_false(flag);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	assert_false(exists(f, "group+"));
	/* The same during a removal: alice stays listed until a retry. */
	crash_at(f, false, "sudo", "alice", GROUPDB_STEP_BACKUP_LINKED, "group");
	assert_true(member(f, "sudo", "alice"));
	assert_true(exists(f, "group+"));
	assert_int_equal(groupdb_remove_member(f->root, "sudo", "alice", &flag), 0);
	assert_true(flag);
	assert_unchanged(f);
}

static void test_stale_temp_file_is_replaced(void **state)
{
	struct fx *f = *state;
	char p[128];
	bool flag;
	write_file(path_in(f, "group+", p, sizeof(p)), "garbage", 7, 0666);
	assert_int_equal(symlink("/nonexistent", path_in(f, "gshadow+", p, sizeof(p))), 0);
	assert_int_equal(groupdb_add_member(f->root, "sudo", "alice", &flag), 0);
	assert_group_line(f, "sudo", "sudo:x:27:alice");
	assert_gshadow_line(f, "sudo", "sudo:*::alice");
	assert_false(exists(f, "group+"));
	assert_false(exists(f, "gshadow+"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_to_group_without_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_to_group_with_one_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_to_group_with_several_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_already_member_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_to_last_line_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_keeps_owner_mode_and_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_without_gshadow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_without_gshadow_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_then_remove_restores_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_only_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_one_of_several, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_listed_twice_removes_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_last_line_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_non_member_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_repairs_gshadow_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_member_exact_names_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_target_lines_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_gshadow_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_files_refused, setup, teardown),
		cmocka_unit_test(test_strerror_names_every_status),
		cmocka_unit_test_setup_teardown(test_waits_for_lock_then_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_timeout_leaves_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eight_concurrent_adds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_at_each_step_keeps_original, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_rename_keeps_original, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_temp_file_is_replaced, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
