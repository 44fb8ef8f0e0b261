/*
 * groupdb.c - edits one group's member list in ROOT/group and ROOT/gshadow
 * under the shadow-utils lock, by atomic rename (see groupdb.h and
 * docs/agent-groups.md).
 *
 * Each file is read whole; the target group's line is located and checked
 * strictly; the new file is the old bytes with only that line's member list
 * replaced, written to FILE+, synced, given the old file's owner and mode;
 * FILE- becomes a hard link to the old version; FILE+ is renamed over FILE
 * and the directory synced. It must never write anything before every
 * check on both files has passed, never follow a symbolic link, and never
 * leave FILE as anything but the old or the new version.
 */
#include "groupdb.h"

#include "lockwait.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>      /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_FILE ".pwd.lock"   /* PASSWD_LOCKFILE of lckpwdf(3), relative to ROOT */

enum file_kind { KIND_GROUP, KIND_GSHADOW };

/* One file of the database, as read, and the change planned for it. */
struct dbfile {
	const char *name, *temp, *backup;   /* "group", "group+", "group-" */
	enum file_kind kind;
	bool present;                       /* the file exists (group must) */
	struct stat st;
	char *data;                         /* the whole file, not NUL-terminated */
	size_t len;
	bool found;                         /* it has a line for the group */
	size_t field_off, field_len;        /* that line's member list */
	bool listed;                        /* the member list names the user */
	char *field;                        /* the new member list, if changing */
	size_t field_new_len;
};

#define GROUPDB_MSG_(name, value, msg) case name: return msg;
const char *groupdb_strerror(int status)
{
	switch (status) {
	GROUPDB_STATUSES(GROUPDB_MSG_)
	}
	return "unknown status";
}
#undef GROUPDB_MSG_

/* ---- names and lines ----------------------------------------------------- */

/* Whitespace that may start a line glibc still reads as an entry (isspace without '\n'). */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes never allowed in a name or in the target line: whitespace, controls, DEL. */
static bool is_forbidden(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

bool groupdb_valid_name(const char *name)
{
	if (!name || name[0] == '\0' || name[0] == '-' || name[0] == '+' || name[0] == '#')
		return false;
	size_t n = strnlen(name, GROUPDB_NAME_MAX + 1);
	if (n > GROUPDB_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (is_forbidden(c) || c == ':' || c == ',')
			return false;
	}
	return true;
}

/*
 * Whether the line names the group, the way glibc reads it: leading blanks
 * skipped, name up to the first ':' (or the end). A leading '#' never
 * matches because a valid group name cannot start with one.
 */
static bool names_group(const char *line, size_t n, const char *group, size_t glen)
{
	size_t i = 0;
	while (i < n && is_blank(line[i]))
		i++;
	if (n - i < glen || memcmp(line + i, group, glen) != 0)
		return false;
	return i + glen == n || line[i + glen] == ':';
}

/*
 * Checks the target line [start, end) strictly: exactly four ':'-separated
 * fields, no whitespace or control bytes anywhere, and in the group file a
 * numeric gid. Sets the member list's offset and length.
 */
static bool parse_target(struct dbfile *f, size_t start, size_t end)
{
	size_t colon[3], ncolons = 0;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)f->data[i];
		if (is_forbidden(c))
			return false;
		if (c == ':') {
			if (ncolons == 3)
				return false;
			colon[ncolons++] = i;
		}
	}
	if (ncolons != 3)
		return false;
	if (f->kind == KIND_GROUP) {
		if (colon[2] == colon[1] + 1)
			return false;
		for (size_t i = colon[1] + 1; i < colon[2]; i++)
			if (f->data[i] < '0' || f->data[i] > '9')
				return false;
	}
	f->field_off = colon[2] + 1;
	f->field_len = end - f->field_off;
	return true;
}

/* Finds and checks the one line for the group. */
static int find_target(struct dbfile *f, const char *group)
{
	size_t glen = strlen(group), pos = 0, start = 0, end = 0, count = 0;
	while (pos < f->len) {
		const char *line = f->data + pos;
		const char *nl = memchr(line, '\n', f->len - pos);
		size_t n = nl ? (size_t)(nl - line) : f->len - pos;
		if (names_group(line, n, group, glen)) {
			count++;
			start = pos;
			end = pos + n;
		}
		pos += n + (nl != NULL);
	}
	if (count == 0)
		return GROUPDB_E_NO_GROUP;
	if (count > 1)
		return f->kind == KIND_GROUP ? GROUPDB_E_DUP_GROUP : GROUPDB_E_GSHADOW_DUP;
	if (!parse_target(f, start, end))
		return f->kind == KIND_GROUP ? GROUPDB_E_MALFORMED : GROUPDB_E_GSHADOW_MALFORMED;
	f->found = true;
	return 0;
}

/* Whether the ','-separated list names the user (empty entries ignored). */
static bool list_has(const char *list, size_t len, const char *user)
{
	size_t ulen = strlen(user), pos = 0;
	while (pos <= len) {
		const char *comma = memchr(list + pos, ',', len - pos);
		size_t n = comma ? (size_t)(comma - (list + pos)) : len - pos;
		if (n == ulen && memcmp(list + pos, user, n) == 0)
			return true;
		pos += n + 1;
	}
	return false;
}

/* New member list: the old one, byte for byte, with ",user" (or "user") after it. */
static int plan_added(struct dbfile *f, const char *user)
{
	const char *old = f->data + f->field_off;
	size_t n = f->field_len, ulen = strlen(user);
	bool comma = n > 0 && old[n - 1] != ',';
	f->field = malloc(n + comma + ulen);
	if (!f->field)
		return GROUPDB_E_NOMEM;
	memcpy(f->field, old, n);
	if (comma)
		f->field[n] = ',';
	memcpy(f->field + n + comma, user, ulen);
	f->field_new_len = n + comma + ulen;
	return 0;
}

/* New member list: the old entries in order, without the user and without empty entries. */
static int plan_removed(struct dbfile *f, const char *user)
{
	const char *old = f->data + f->field_off;
	size_t len = f->field_len, ulen = strlen(user), pos = 0, out = 0;
	f->field = malloc(len + 1);
	if (!f->field)
		return GROUPDB_E_NOMEM;
	while (pos <= len) {
		const char *comma = memchr(old + pos, ',', len - pos);
		size_t n = comma ? (size_t)(comma - (old + pos)) : len - pos;
		if (n > 0 && !(n == ulen && memcmp(old + pos, user, n) == 0)) {
			if (out > 0)
				f->field[out++] = ',';
			memcpy(f->field + out, old + pos, n);
			out += n;
		}
		pos += n + 1;
	}
	f->field_new_len = out;
	return 0;
}

/* ---- files ---------------------------------------------------------------- */

/* Reads the whole file; an absent optional file leaves f->present false. */
static int read_file(int dirfd, struct dbfile *f, bool optional)
{
	int fd = openat(dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && optional)
			return 0;
		return errno == ELOOP ? GROUPDB_E_NOT_REGULAR : GROUPDB_E_IO;
	}
	int rc = 0;
	size_t cap = 0;
	if (fstat(fd, &f->st) != 0)
		rc = GROUPDB_E_IO;
	else if (!S_ISREG(f->st.st_mode))
		rc = GROUPDB_E_NOT_REGULAR;
	else if ((unsigned long long)f->st.st_size > GROUPDB_FILE_MAX)
		rc = GROUPDB_E_TOO_BIG;
	else
		cap = (size_t)f->st.st_size + 1;
	while (rc == 0) {
		if (f->len == cap) {
			if (cap > GROUPDB_FILE_MAX) {
				rc = GROUPDB_E_TOO_BIG;
				break;
			}
			char *bigger = realloc(f->data, cap * 2);
			if (!bigger) {
				rc = GROUPDB_E_NOMEM;
				break;
			}
			f->data = bigger;
			cap *= 2;
		}
		if (!f->data && !(f->data = malloc(cap))) {
			rc = GROUPDB_E_NOMEM;
			break;
		}
		ssize_t got = read(fd, f->data + f->len, cap - f->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			rc = GROUPDB_E_IO;
		else if (got == 0)
			break;
		else
			f->len += (size_t)got;
	}
	int saved = errno;
	if (close(fd) != 0 && rc == 0)
		return GROUPDB_E_IO;
	errno = saved;
	if (rc == 0)
		f->present = true;
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t put = write(fd, p, n);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return GROUPDB_E_IO;
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* FILE+ with the new bytes, the old file's owner and mode, synced. */
static int write_temp(int dirfd, const struct dbfile *f)
{
	if (unlinkat(dirfd, f->temp, 0) != 0 && errno != ENOENT)
		return GROUPDB_E_IO;   /* a stale FILE+ is left by a crash; remove it */
	int fd = openat(dirfd, f->temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return GROUPDB_E_IO;
	size_t after = f->field_off + f->field_len;
	int rc = 0;
	if (fchown(fd, f->st.st_uid, f->st.st_gid) != 0 || fchmod(fd, f->st.st_mode & 07777) != 0)
		rc = GROUPDB_E_IO;
	if (rc == 0)
		rc = write_all(fd, f->data, f->field_off);
	if (rc == 0)
		rc = write_all(fd, f->field, f->field_new_len);
	if (rc == 0)
		rc = write_all(fd, f->data + after, f->len - after);
	if (rc == 0 && fsync(fd) != 0)
		rc = GROUPDB_E_IO;
	if (close(fd) != 0 && rc == 0)
		rc = GROUPDB_E_IO;
	return rc;
}

/* FILE- becomes another name for the current FILE, which is about to be replaced. */
static int link_backup(int dirfd, const struct dbfile *f)
{
	if (unlinkat(dirfd, f->backup, 0) != 0 && errno != ENOENT)
		return GROUPDB_E_IO;
	if (linkat(dirfd, f->name, dirfd, f->backup, 0) != 0)
		return GROUPDB_E_IO;
	return 0;
}

static int run_hook(const struct groupdb_options *opt, enum groupdb_step step, const char *file)
{
	if (opt && opt->step_hook && opt->step_hook(opt->step_arg, step, file) != 0)
		return GROUPDB_E_HOOK;
	return 0;
}

/* Replaces FILE with the planned version; on failure FILE is untouched and FILE+ gone. */
static int replace_file(int dirfd, const struct dbfile *f, const struct groupdb_options *opt)
{
	int rc = write_temp(dirfd, f);
	if (rc == 0)
		rc = run_hook(opt, GROUPDB_STEP_TEMP_WRITTEN, f->name);
	if (rc == 0)
		rc = link_backup(dirfd, f);
	if (rc == 0)
		rc = run_hook(opt, GROUPDB_STEP_BACKUP_LINKED, f->name);
	if (rc == 0 && renameat(dirfd, f->temp, dirfd, f->name) != 0)
		rc = GROUPDB_E_IO;
	if (rc != 0) {
		int saved = errno;
		(void)unlinkat(dirfd, f->temp, 0);   /* best effort: FILE is intact either way */
		errno = saved;
		return rc;
	}
	if (fsync(dirfd) != 0)
		return GROUPDB_E_IO;
	return run_hook(opt, GROUPDB_STEP_RENAMED, f->name);
}

/* ---- lock ----------------------------------------------------------------- */


/*
 * lckpwdf(3)'s lock: an fcntl write lock on ROOT/.pwd.lock, created 0600 if
 * missing. Polled with F_SETLK rather than F_SETLKW with an alarm, so that
 * the wait is bounded without touching signal handlers.
 */
static int take_lock(int dirfd, unsigned timeout_ms, int *lockfd)
{
	int fd = openat(dirfd, LOCK_FILE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return GROUPDB_E_IO;
	enum lock_wait_result w = lock_wait(fd, timeout_ms);
	int rc = w == LOCK_WAIT_OK ? 0 : w == LOCK_WAIT_TIMEOUT ? GROUPDB_E_LOCK_TIMEOUT : GROUPDB_E_IO;
	if (rc == 0) {
		*lockfd = fd;
		return 0;
	}
	int saved = errno;
	(void)close(fd);   /* read-only use so far; nothing to lose */
	errno = saved;
	return rc;
}

/* ---- the operations ------------------------------------------------------- */

static int open_root(const char *root, int *dirfd)
{
	*dirfd = open(root ? root : GROUPDB_DEFAULT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *dirfd < 0 ? GROUPDB_E_IO : 0;
}

static int check_args(const char *group, const char *user, const bool *out)
{
	if (!group || !user || !out)
		return GROUPDB_E_ARG;
	if (!groupdb_valid_name(group))
		return GROUPDB_E_BAD_GROUP;
	if (!groupdb_valid_name(user))
		return GROUPDB_E_BAD_USER;
	return 0;
}

/* Reads group (required) and gshadow (optional) and finds the group in both. */
static int load(int dirfd, struct dbfile files[2], const char *group, const char *user)
{
	int rc = read_file(dirfd, &files[0], false);
	if (rc == 0)
		rc = find_target(&files[0], group);
	if (rc == 0)
		rc = read_file(dirfd, &files[1], true);
	if (rc == 0 && files[1].present) {
		rc = find_target(&files[1], group);
		if (rc == GROUPDB_E_NO_GROUP)
			rc = 0;   /* as usermod: a group without a gshadow line is edited in group only */
	}
	for (int i = 0; i < 2 && rc == 0; i++)
		if (files[i].found)
			files[i].listed = list_has(files[i].data + files[i].field_off,
			                           files[i].field_len, user);
	return rc;
}

/* Plans the change for each file and writes the ones that change, in a crash-safe order. */
static int apply(int dirfd, struct dbfile files[2], bool add, const char *user,
                 const struct groupdb_options *opt)
{
	if (add && files[0].listed)
		return 0;   /* already a member: nothing is written at all */
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++)
		if (files[i].found && files[i].listed != add)
			rc = add ? plan_added(&files[i], user) : plan_removed(&files[i], user);
	/* Adding: gshadow first, so group (what grants) changes last. Removing: group first. */
	int order[2] = { add ? 1 : 0, add ? 0 : 1 };
	for (int i = 0; i < 2 && rc == 0; i++)
		if (files[order[i]].field)
			rc = replace_file(dirfd, &files[order[i]], opt);
	return rc;
}

static void free_files(struct dbfile files[2])
{
	for (int i = 0; i < 2; i++) {
		free(files[i].data);
		free(files[i].field);
	}
}

#define DBFILE(n, k) { .name = n, .temp = n "+", .backup = n "-", .kind = k }

static int edit(const char *root, const char *group, const char *user,
                const struct groupdb_options *opt, bool add, bool *out)
{
	struct dbfile files[2] = { DBFILE("group", KIND_GROUP), DBFILE("gshadow", KIND_GSHADOW) };
	unsigned timeout = opt && opt->lock_timeout_ms ? opt->lock_timeout_ms : GROUPDB_LOCK_TIMEOUT_MS;
	int dirfd = -1, lockfd = -1;
	int rc = check_args(group, user, out);
	if (rc == 0)
		rc = open_root(root, &dirfd);
	if (rc == 0)
		rc = take_lock(dirfd, timeout, &lockfd);
	if (rc == 0)
		rc = run_hook(opt, GROUPDB_STEP_LOCKED, NULL);
	if (rc == 0)
		rc = load(dirfd, files, group, user);
	if (rc == 0)
		rc = apply(dirfd, files, add, user, opt);
	if (rc == 0)
		*out = files[0].listed;
	int saved = errno;
	free_files(files);
	/* Closing releases the lock whatever close() returns; everything is synced already. */
	if (lockfd >= 0)
		(void)close(lockfd);
	if (dirfd >= 0)
		(void)close(dirfd);
	errno = saved;
	return rc;
}

int groupdb_add_member_opt(const char *root, const char *group, const char *user,
                           const struct groupdb_options *opt, bool *already)
{
	return edit(root, group, user, opt, true, already);
}

int groupdb_remove_member_opt(const char *root, const char *group, const char *user,
                              const struct groupdb_options *opt, bool *was_member)
{
	return edit(root, group, user, opt, false, was_member);
}

int groupdb_add_member(const char *root, const char *group, const char *user, bool *already)
{
	return edit(root, group, user, NULL, true, already);
}

int groupdb_remove_member(const char *root, const char *group, const char *user, bool *was_member)
{
	return edit(root, group, user, NULL, false, was_member);
}

/* Reads without the lock: writers replace the file by rename, so any read sees one whole version. */
int groupdb_is_member(const char *root, const char *group, const char *user, bool *member)
{
	struct dbfile f = DBFILE("group", KIND_GROUP);
	int dirfd = -1;
	int rc = check_args(group, user, member);
	if (rc == 0)
		rc = open_root(root, &dirfd);
	if (rc == 0)
		rc = read_file(dirfd, &f, false);
	if (rc == 0)
		rc = find_target(&f, group);
	if (rc == 0)
		*member = list_has(f.data + f.field_off, f.field_len, user);
	int saved = errno;
	free(f.data);
	if (dirfd >= 0)
		(void)close(dirfd);
	errno = saved;
	return rc;
}
