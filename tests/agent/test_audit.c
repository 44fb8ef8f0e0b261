/*
 * test_audit.c - the audit log (runtime/agent/audit.c), on real files in a
 * temporary directory: lines and their hash chain as documented (checked
 * against an independent SHA-256); every single-byte edit, deleted,
 * swapped, inserted, duplicated, forged or replaced line and every
 * truncation of the last line caught at the right line; the limits that
 * docs/agent-audit.md admits (a deleted, forged or replaced LAST line)
 * shown to be limits; 8 x 50 concurrent appends from forked processes;
 * hostile strings kept to one line; the chain continued after reopening
 * and restarted, without hiding the damage, after tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "agent/audit.h"

#define POLICY "5d41402abc4b2a76b9719d911017c592aaaabbbbccccddddeeeeffff00001111"
#define T0     1714555800           /* 2024-05-01T09:30:00Z */

struct fixture {
	char dir[64];
	char path[128];
};

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/elevate-audit-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/audit.log", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	DIR *d = opendir(fx->dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void sha256_hex(const void *data, size_t len, char out[AUDIT_HEX_SIZE])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	assert_true(EVP_Digest(data, len, d, &n, EVP_sha256(), NULL));
	assert_int_equal(n, 32);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Line starts: starts[k] is where line k+1 begins; starts[n] == len. */
static size_t split_lines(const char *buf, size_t len, size_t *starts, size_t max)
{
	size_t n = 0;
	starts[0] = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n') {
			assert_true(n + 1 < max);
			starts[++n] = i + 1;
		}
	return n;
}

static void open_log(struct auditlog_log *log, const char *path)
{
	assert_int_equal(auditlog_open_flags(log, path, AUDIT_NO_SYSLOG), 0);
}

/* Event i of a varied sample: every type, with and without optional fields. */
static void sample_event(struct auditlog_event *ev, int i)
{
	auditlog_event_init(ev, (enum auditlog_event_type)(i % AUDIT_EV_COUNT), "alice");
	ev->time = T0 + i;
	ev->host = "mac-042";
	if (i % 3 != 2) {
		ev->rule = "engineers";
		ev->reason = "install printer driver";
		ev->policy = POLICY;
	}
	if (ev->type == AUDIT_EV_GRANT) {
		ev->duration = 300;
		ev->expiry = T0 + i + 300;
	}
	if (i % 4 == 1)
		ev->detail = "pam: authentication failure";
}

static void write_sample_log(const char *path, int n)
{
	struct auditlog_log log;
	struct auditlog_event ev;
	open_log(&log, path);
	for (int i = 0; i < n; i++) {
		sample_event(&ev, i);
		assert_int_equal(auditlog_append(&log, &ev), 0);
	}
	auditlog_close(&log);
}

static void expect_ok(const char *path, unsigned long long lines)
{
	struct auditlog_verify_result r;
	int rc = auditlog_verify(path, &r);
	if (rc != 0)
		print_error("unexpected failure: line %llu: %s\n", r.bad_line, r.why);
	assert_int_equal(rc, 0);
	assert_int_equal(r.lines, lines);
	assert_int_equal(r.bad_line, 0);
}

static void expect_bad(const char *path, unsigned long long line, enum auditlog_fault fault)
{
	struct auditlog_verify_result r;
	int rc = auditlog_verify(path, &r);
	if (rc != AUDIT_ETAMPERED || r.bad_line != line || (fault && r.fault != fault))
		print_error("expected line %llu fault %d, got rc %d line %llu fault %d: %s\n",
		            line, (int)fault, rc, r.bad_line, (int)r.fault, r.why);
	assert_int_equal(rc, AUDIT_ETAMPERED);
	assert_int_equal(r.bad_line, line);
	assert_int_equal(r.lines, line - 1);
	assert_true(r.why[0] != '\0');
	if (fault)
		assert_int_equal(r.fault, fault);
}

/* ---- format --------------------------------------------------------------- */

static void test_append_and_verify(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	expect_ok(fx->path, AUDIT_EV_COUNT);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	struct auditlog_log log;
	open_log(&log, fx->path);
	assert_int_equal(log.seq, AUDIT_EV_COUNT);
	auditlog_close(&log);
	assert_int_equal(log.fd, -1);
}

static void test_event_names_are_stable(void **state)
{
	(void)state;
	const char *want[] = { "request", "auth-failure", "grant", "denial", "revocation",
	                       "expiry", "sweep-repair", "tamper-detected", "clock-jump", "unlock" };
	assert_int_equal(AUDIT_EV_COUNT, 10);
	for (int i = 0; i < AUDIT_EV_COUNT; i++)
		assert_string_equal(auditlog_event_name((enum auditlog_event_type)i), want[i]);
	assert_null(auditlog_event_name(AUDIT_EV_COUNT));
}

/* The exact bytes of two lines, and the chain recomputed independently. */
static void test_known_lines(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	struct auditlog_event ev;
	open_log(&log, fx->path);
	auditlog_event_init(&ev, AUDIT_EV_GRANT, "alice");
	ev.time = T0;
	ev.host = "mac-042";
	ev.rule = "engineers";
	ev.reason = "install printer driver";
	ev.duration = 300;
	ev.expiry = T0 + 300;
	ev.policy = POLICY;
	assert_int_equal(auditlog_append(&log, &ev), 0);
	auditlog_event_init(&ev, AUDIT_EV_REVOCATION, "alice");
	ev.time = T0 + 300;
	ev.host = "mac-042";
	assert_int_equal(auditlog_append(&log, &ev), 0);
	auditlog_close(&log);

	size_t len, starts[4];
	char *buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 4), 2);
	const char *body1 =
		"{\"seq\":1,\"time\":\"2024-05-01T09:30:00Z\",\"host\":\"mac-042\",\"user\":\"alice\","
		"\"event\":\"grant\",\"rule\":\"engineers\",\"reason\":\"install printer driver\","
		"\"duration\":300,\"expiry\":\"2024-05-01T09:35:00Z\",\"policy\":\"" POLICY "\","
		"\"detail\":null,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"";
	const char *body2 =
		"{\"seq\":2,\"time\":\"2024-05-01T09:35:00Z\",\"host\":\"mac-042\",\"user\":\"alice\","
		"\"event\":\"revocation\",\"rule\":null,\"reason\":null,\"duration\":null,"
		"\"expiry\":null,\"policy\":null,\"detail\":null,\"prev\":\"";
	char h1[AUDIT_HEX_SIZE], line_hash1[AUDIT_HEX_SIZE], h2[AUDIT_HEX_SIZE];
	char want[1024];

	sha256_hex(body1, strlen(body1), h1);
	snprintf(want, sizeof(want), "%s,\"hash\":\"%s\"}\n", body1, h1);
	assert_int_equal(starts[1], strlen(want));
	assert_memory_equal(buf, want, strlen(want));

	sha256_hex(buf, starts[1] - 1, line_hash1);     /* line 1 without its newline */
	char body[1024];
	snprintf(body, sizeof(body), "%s%s\"", body2, line_hash1);
	sha256_hex(body, strlen(body), h2);
	snprintf(want, sizeof(want), "%s,\"hash\":\"%s\"}\n", body, h2);
	assert_int_equal(len - starts[1], strlen(want));
	assert_memory_equal(buf + starts[1], want, strlen(want));
	free(buf);
	expect_ok(fx->path, 2);
}

/* ---- tampering --------------------------------------------------------------- */

/* Every byte of every line, changed three ways, is caught on its own line. */
static void test_every_byte_edit_is_caught(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	char *buf = malloc(len);
	assert_non_null(buf);
	size_t line = 0, tried = 0;
	for (size_t i = 0; i < len; i++) {
		while (i >= starts[line + 1])
			line++;
		const char edits[3] = { (char)(orig[i] ^ 0x01), (char)(orig[i] ^ 0x20), '\n' };
		for (int e = 0; e < 3; e++) {
			if (edits[e] == orig[i])
				continue;
			memcpy(buf, orig, len);
			buf[i] = edits[e];
			spit(fx->path, buf, len);
			expect_bad(fx->path, line + 1, i == len - 1 && edits[e] != '\n' ?
			           AUDIT_FAULT_TRUNCATED : AUDIT_FAULT_NONE);
			tried++;
		}
	}
	assert_int_equal(line + 1, n);
	assert_true(tried > 2 * len);
	free(buf);
	free(orig);
}

/* An edit inside the hashed bytes that keeps the shape is a hash mismatch. */
static void test_edited_value_is_hash_fault(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	write_sample_log(fx->path, 5);
	char *buf = slurp(fx->path, &len);
	char *alice = strstr(strstr(buf, "\"seq\":3,"), "alice");
	assert_non_null(alice);
	alice[0] = 'm';                               /* alice -> mlice */
	spit(fx->path, buf, len);
	expect_bad(fx->path, 3, AUDIT_FAULT_HASH);
	free(buf);
}

static void test_deleted_line_is_caught(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	char *buf = malloc(len);
	assert_non_null(buf);
	for (size_t k = 0; k < n; k++) {
		size_t cut = starts[k + 1] - starts[k];
		memcpy(buf, orig, starts[k]);
		memcpy(buf + starts[k], orig + starts[k + 1], len - starts[k + 1]);
		spit(fx->path, buf, len - cut);
		if (k + 1 < n)
			expect_bad(fx->path, k + 1, AUDIT_FAULT_SEQ);
		else
			expect_ok(fx->path, n - 1);           /* the documented limit */
	}
	free(buf);
	free(orig);
}

static void test_swapped_lines_are_caught(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	char *buf = malloc(len);
	assert_non_null(buf);
	for (size_t k = 0; k + 1 < n; k++) {
		size_t a = starts[k + 1] - starts[k], b = starts[k + 2] - starts[k + 1];
		memcpy(buf, orig, len);
		memcpy(buf + starts[k], orig + starts[k + 1], b);
		memcpy(buf + starts[k] + b, orig + starts[k], a);
		spit(fx->path, buf, len);
		expect_bad(fx->path, k + 1, AUDIT_FAULT_SEQ);
	}
	free(buf);
	free(orig);
}

/* Writes orig with `extra` inserted before line k+1. */
static void spit_with_insert(const char *path, const char *orig, size_t len, size_t at,
                             const char *extra, size_t extra_len)
{
	char *buf = malloc(len + extra_len);
	assert_non_null(buf);
	memcpy(buf, orig, at);
	memcpy(buf + at, extra, extra_len);
	memcpy(buf + at + extra_len, orig + at, len - at);
	spit(path, buf, len + extra_len);
	free(buf);
}

static void test_inserted_line_is_caught(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	for (size_t k = 0; k <= n; k++) {
		size_t j = k == 0 ? 1 : 0;               /* a copy of a line whose seq is not k+1 */
		spit_with_insert(fx->path, orig, len, starts[k], orig + starts[j], starts[j + 1] - starts[j]);
		expect_bad(fx->path, k + 1, AUDIT_FAULT_SEQ);
		spit_with_insert(fx->path, orig, len, starts[k], "{}\n", 3);
		expect_bad(fx->path, k + 1, AUDIT_FAULT_MALFORMED);
		spit_with_insert(fx->path, orig, len, starts[k], "\n", 1);
		expect_bad(fx->path, k + 1, AUDIT_FAULT_MALFORMED);
	}
	free(orig);
}

/* A forger who recomputes seq, prev and hash (there is no secret) is caught
   by the next genuine line, and not at all at the end of the log. */
static void test_forged_line_is_caught_by_the_next(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	char forged_path[160];
	snprintf(forged_path, sizeof(forged_path), "%s/forged.log", fx->dir);
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	for (size_t k = 0; k <= n; k++) {
		struct auditlog_log log;
		struct auditlog_event ev;
		size_t flen;
		unlink(forged_path);
		spit(forged_path, orig, starts[k]);
		open_log(&log, forged_path);
		auditlog_event_init(&ev, AUDIT_EV_GRANT, "mallory");
		assert_int_equal(auditlog_append(&log, &ev), 0);
		auditlog_close(&log);
		char *forged = slurp(forged_path, &flen);
		spit_with_insert(fx->path, orig, len, starts[k], forged + starts[k], flen - starts[k]);
		free(forged);
		if (k < n)
			expect_bad(fx->path, k + 2, AUDIT_FAULT_SEQ);
		else
			expect_ok(fx->path, n + 1);           /* the documented limit */
	}
	free(orig);
}

/* A line replaced by one with the right seq, prev and a recomputed hash is
   caught by the next line's prev; the last line so replaced is not. */
static void test_replaced_line_is_caught_by_prev(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	char forged_path[160];
	snprintf(forged_path, sizeof(forged_path), "%s/forged.log", fx->dir);
	write_sample_log(fx->path, AUDIT_EV_COUNT);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	for (size_t k = 0; k < n; k++) {
		struct auditlog_log log;
		struct auditlog_event ev;
		size_t flen;
		unlink(forged_path);
		spit(forged_path, orig, starts[k]);
		open_log(&log, forged_path);
		sample_event(&ev, (int)k);
		ev.user = "mallory";
		assert_int_equal(auditlog_append(&log, &ev), 0);
		auditlog_close(&log);
		char *forged = slurp(forged_path, &flen);
		char *buf = malloc(flen + len);
		assert_non_null(buf);
		memcpy(buf, forged, flen);
		memcpy(buf + flen, orig + starts[k + 1], len - starts[k + 1]);
		spit(fx->path, buf, flen + len - starts[k + 1]);
		free(buf);
		free(forged);
		if (k + 1 < n)
			expect_bad(fx->path, k + 2, AUDIT_FAULT_PREV);
		else
			expect_ok(fx->path, n);               /* the documented limit */
	}
	free(orig);
}

static void test_truncated_last_line_is_caught(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, 4);
	char *orig = slurp(fx->path, &len);
	size_t n = split_lines(orig, len, starts, 16);
	for (size_t cut = starts[n - 1] + 1; cut < len; cut++) {
		spit(fx->path, orig, cut);
		expect_bad(fx->path, n, AUDIT_FAULT_TRUNCATED);
	}
	spit(fx->path, orig, starts[n - 1]);           /* a whole line: the documented limit */
	expect_ok(fx->path, n - 1);
	free(orig);
}

/* ---- opening, appending, restarting ------------------------------------------ */

static void test_reopen_continues_chain(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	struct auditlog_event ev;
	size_t len, starts[16];
	char h[AUDIT_HEX_SIZE];
	write_sample_log(fx->path, 3);
	open_log(&log, fx->path);
	assert_int_equal(log.seq, 3);
	char *buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 16), 3);
	sha256_hex(buf + starts[2], starts[3] - starts[2] - 1, h);
	assert_string_equal(log.head, h);
	free(buf);
	for (int i = 3; i < 5; i++) {
		sample_event(&ev, i);
		assert_int_equal(auditlog_append(&log, &ev), 0);
	}
	assert_int_equal(log.seq, 5);
	auditlog_close(&log);
	expect_ok(fx->path, 5);
}

static void test_damaged_tail_is_refused_then_restarted(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	struct auditlog_event ev;
	size_t len, len2, starts[16];
	char h[AUDIT_HEX_SIZE];
	write_sample_log(fx->path, 4);
	char *orig = slurp(fx->path, &len);
	spit(fx->path, orig, len - 10);                /* a torn last line */

	assert_int_equal(auditlog_open_flags(&log, fx->path, AUDIT_NO_SYSLOG), AUDIT_ETAMPERED);
	assert_true(log.fd >= 0);
	assert_non_null(log.why);
	assert_non_null(strstr(log.why, "no newline"));
	sample_event(&ev, 4);
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_ETAMPERED);
	assert_int_equal(auditlog_restart(&log, &ev), AUDIT_EINVAL);       /* not tamper-detected */
	char *same = slurp(fx->path, &len2);
	assert_int_equal(len2, len - 10);
	free(same);

	auditlog_event_init(&ev, AUDIT_EV_TAMPER_DETECTED, "root");
	ev.detail = log.why;
	assert_int_equal(auditlog_restart(&log, &ev), 0);
	assert_int_equal(log.seq, 5);
	assert_null(log.why);
	sample_event(&ev, 5);
	assert_int_equal(auditlog_append(&log, &ev), 0);
	auditlog_close(&log);

	char *buf = slurp(fx->path, &len2);
	assert_int_equal(split_lines(buf, len2, starts, 16), 6);
	assert_memory_equal(buf, orig, len - 10);       /* the damaged bytes stay */
	assert_int_equal(buf[len - 10], '\n');
	sha256_hex(orig, len - 10, h);                 /* prev pins the damaged file */
	assert_non_null(strstr(buf + starts[4], "\"seq\":5,"));
	assert_non_null(strstr(buf + starts[4], "\"event\":\"tamper-detected\""));
	assert_non_null(strstr(buf + starts[4], h));
	sha256_hex(buf + starts[4], starts[5] - starts[4] - 1, h);
	assert_non_null(strstr(buf + starts[5], "\"seq\":6,"));
	assert_non_null(strstr(buf + starts[5], h));
	free(buf);
	free(orig);

	expect_bad(fx->path, 4, AUDIT_FAULT_MALFORMED);  /* a restart never hides damage */
	open_log(&log, fx->path);                         /* but the new segment continues */
	assert_int_equal(log.seq, 6);
	auditlog_close(&log);
}

/* auditlog_find_unpinned: the first damage no later restart pins, or 0. */
static void expect_unpinned(const char *path, unsigned long long line)
{
	struct auditlog_verify_result r;
	int rc = auditlog_find_unpinned(path, &r);
	if (rc != (line ? AUDIT_ETAMPERED : 0) || r.bad_line != line)
		print_error("expected unpinned line %llu, got rc %d line %llu: %s\n", line, rc,
		            r.bad_line, r.why);
	assert_int_equal(rc, line ? AUDIT_ETAMPERED : 0);
	assert_int_equal(r.bad_line, line);
	assert_true(line == 0 || r.why[0] != '\0');
}

/* Pins the log's current damage the way the agent does. */
static void restart_log(const char *path)
{
	struct auditlog_log log;
	struct auditlog_event ev;
	(void)auditlog_open_flags(&log, path, AUDIT_NO_SYSLOG);   /* damaged or not */
	assert_true(log.fd >= 0);
	auditlog_event_init(&ev, AUDIT_EV_TAMPER_DETECTED, "root");
	ev.detail = "pinned by the test";
	assert_int_equal(auditlog_restart(&log, &ev), 0);
	auditlog_close(&log);
}

/* Replaces the first occurrence of from (same length as to) after byte at. */
static void edit_file(const char *path, size_t at, const char *from, const char *to)
{
	size_t len;
	char *buf = slurp(path, &len);
	char *p = strstr(buf + at, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	spit(path, buf, len);
	free(buf);
}

static void test_unpinned_damage_is_found_until_pinned(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, 6);
	expect_unpinned(fx->path, 0);
	char *buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 16), 6);
	free(buf);

	/* An old line edited on its own: the last line still checks out. */
	edit_file(fx->path, starts[1], "\"user\":\"alice\"", "\"user\":\"mallo\"");
	expect_unpinned(fx->path, 2);
	restart_log(fx->path);                  /* line 7 pins lines 1-6 as they are */
	expect_unpinned(fx->path, 0);
	expect_bad(fx->path, 2, AUDIT_FAULT_HASH);   /* log verify still reports it */
	write_sample_log(fx->path, 2);          /* lines 8, 9 chain on */
	expect_unpinned(fx->path, 0);

	/* Damage after the pin is found at its line. */
	buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 16), 9);
	free(buf);
	edit_file(fx->path, starts[7], "\"user\":\"alice\"", "\"user\":\"eve00\"");
	expect_unpinned(fx->path, 8);
	restart_log(fx->path);
	expect_unpinned(fx->path, 0);

	/* Pinned damage changed again: the pin no longer holds, the first damage shows. */
	edit_file(fx->path, starts[1], "\"user\":\"mallo\"", "\"user\":\"malla\"");
	expect_unpinned(fx->path, 2);
}

static void test_torn_line_pinned_by_restart(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	write_sample_log(fx->path, 3);
	char *orig = slurp(fx->path, &len);
	spit(fx->path, orig, len - 10);         /* torn: the restart adds the newline */
	free(orig);
	expect_unpinned(fx->path, 3);
	restart_log(fx->path);
	expect_unpinned(fx->path, 0);
	expect_bad(fx->path, 3, AUDIT_FAULT_MALFORMED);
}

static void test_forged_pin_does_not_count(void **state)
{
	struct fixture *fx = *state;
	size_t len, starts[16];
	write_sample_log(fx->path, 3);
	char *buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 16), 3);
	free(buf);
	edit_file(fx->path, starts[0], "\"user\":\"alice\"", "\"user\":\"mallo\"");
	restart_log(fx->path);
	/* The pin line itself edited: its hash no longer matches, so nothing is pinned. */
	edit_file(fx->path, starts[2], "pinned by the test", "pinned by the TEST");
	expect_unpinned(fx->path, 1);
}

static void test_edited_tail_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	size_t len;
	write_sample_log(fx->path, 3);
	char *buf = slurp(fx->path, &len);
	char *alice = strstr(strstr(buf, "\"seq\":3,"), "alice");
	alice[0] = 'm';
	spit(fx->path, buf, len);
	free(buf);
	assert_int_equal(auditlog_open_flags(&log, fx->path, AUDIT_NO_SYSLOG), AUDIT_ETAMPERED);
	assert_non_null(strstr(log.why, "hash"));
	auditlog_close(&log);
}

static void test_unsafe_files_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	char other[160];
	write_sample_log(fx->path, 1);
	assert_int_equal(chmod(fx->path, 0620), 0);
	assert_int_equal(auditlog_open_flags(&log, fx->path, AUDIT_NO_SYSLOG), AUDIT_EUNSAFE);
	assert_int_equal(log.fd, -1);
	assert_int_equal(chmod(fx->path, 0602), 0);
	assert_int_equal(auditlog_open_flags(&log, fx->path, AUDIT_NO_SYSLOG), AUDIT_EUNSAFE);
	assert_int_equal(chmod(fx->path, 0600), 0);

	snprintf(other, sizeof(other), "%s/link.log", fx->dir);
	assert_int_equal(symlink(fx->path, other), 0);
	assert_int_equal(auditlog_open_flags(&log, other, AUDIT_NO_SYSLOG), AUDIT_EUNSAFE);
	snprintf(other, sizeof(other), "%s/fifo.log", fx->dir);
	assert_int_equal(mkfifo(other, 0600), 0);
	assert_int_equal(auditlog_open_flags(&log, other, AUDIT_NO_SYSLOG), AUDIT_EUNSAFE);
	assert_int_equal(auditlog_open_flags(&log, fx->dir, AUDIT_NO_SYSLOG), AUDIT_EUNSAFE);
	assert_int_equal(auditlog_open_flags(&log, "", AUDIT_NO_SYSLOG), AUDIT_EINVAL);
	snprintf(other, sizeof(other), "%s/missing/audit.log", fx->dir);
	assert_int_equal(auditlog_open_flags(&log, other, AUDIT_NO_SYSLOG), AUDIT_EIO);
	assert_int_equal(log.fd, -1);
}

static void test_invalid_events_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	struct auditlog_event ev;
	struct stat st;
	open_log(&log, fx->path);
	auditlog_event_init(&ev, AUDIT_EV_GRANT, NULL);
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.user = "";
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.user = "alice";
	ev.type = AUDIT_EV_COUNT;
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.type = (enum auditlog_event_type)-1;
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.type = AUDIT_EV_GRANT;
	ev.policy = "5D41402ABC4B2A76B9719D911017C592AAAABBBBCCCCDDDDEEEEFFFF00001111";
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.policy = "5d41402a";
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.policy = NULL;
	ev.expiry = -5;
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.expiry = 0;
	ev.time = -1;
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.time = 0;
	ev.host = "";
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	ev.host = NULL;                                   /* the log's own host name */
	assert_int_equal(auditlog_append(&log, &ev), 0);
	auditlog_close(&log);
	assert_int_equal(auditlog_append(&log, &ev), AUDIT_EINVAL);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(st.st_size > 0);
	expect_ok(fx->path, 1);
}

/* ---- strings ------------------------------------------------------------------ */

static void expect_field(const char *line, const char *want)
{
	if (!strstr(line, want))
		print_error("missing %s in %s\n", want, line);
	assert_non_null(strstr(line, want));
}

/* "reason" is n copies of unit and then the cut mark. */
static void expect_cut(const char *line, const char *unit, size_t n)
{
	char want[8 * 1024];
	size_t len = 0, u = strlen(unit);
	len += (size_t)snprintf(want, sizeof(want), "\"reason\":\"");
	for (size_t i = 0; i < n; i++, len += u)
		memcpy(want + len, unit, u);
	snprintf(want + len, sizeof(want) - len, "...\",");
	expect_field(line, want);
}

static void test_hostile_strings_stay_on_one_line(void **state)
{
	struct fixture *fx = *state;
	struct auditlog_log log;
	struct auditlog_event ev;
	static char long_a[5000], long_ctl[3000], edge[1030];
	const char *hostile[] = {
		"a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\b\f/",
		"x\xffy\xc0\x80z\xed\xa0\x80w\xf4\x90\x80\x80v\xe2\x82",
		"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8",
		"\",\"hash\":\"00\"}\n{\"seq\":99,\"event\":\"grant\"",
		"\\\\\\\"\\", "\n", "\"", long_a, long_ctl, edge,
	};
	const size_t nh = sizeof(hostile) / sizeof(hostile[0]);
	memset(long_a, 'a', sizeof(long_a) - 1);
	memset(long_ctl, '\x01', sizeof(long_ctl) - 1);
	memset(edge, 'a', 1023);
	memcpy(edge + 1023, "\xc3\xa9", 3);             /* an e-acute straddling the limit */

	open_log(&log, fx->path);
	for (size_t i = 0; i < nh; i++) {
		auditlog_event_init(&ev, AUDIT_EV_REQUEST, hostile[i]);
		ev.time = T0;
		ev.host = hostile[i];
		ev.rule = ev.reason = ev.detail = hostile[i];
		assert_int_equal(auditlog_append(&log, &ev), 0);
	}
	auditlog_close(&log);
	expect_ok(fx->path, nh);

	size_t len, starts[32];
	char *buf = slurp(fx->path, &len);
	assert_int_equal(split_lines(buf, len, starts, 32), nh);
	for (size_t i = 0; i < nh; i++)
		buf[starts[i + 1] - 1] = '\0';
	expect_field(buf + starts[0], "\"reason\":\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\\u007fi\\b\\f/\"");
	expect_field(buf + starts[1], "\"reason\":\"x\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffdw"
	             "\\ufffd\\ufffd\\ufffd\\ufffdv\\ufffd\\ufffd\"");
	expect_field(buf + starts[2], "\"reason\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8\"");
	expect_field(buf + starts[3], "\"reason\":\"\\\",\\\"hash\\\":\\\"00\\\"}\\n{\\\"seq\\\":99,");
	expect_field(buf + starts[4], "\"user\":\"\\\\\\\\\\\\\\\"\\\\\"");
	for (size_t i = 7; i < nh; i++)
		assert_true(strlen(buf + starts[i]) <= AUDIT_LINE_MAX);
	expect_cut(buf + starts[7], "a", 1024);
	expect_cut(buf + starts[8], "\\u0001", 1024);
	expect_cut(buf + starts[9], "a", 1023);          /* the e-acute did not fit */
	free(buf);

	open_log(&log, fx->path);                          /* a 30 KiB last line reads back */
	assert_int_equal(log.seq, nh);
	auditlog_close(&log);
}

/* ---- concurrency --------------------------------------------------------------- */

#define CHILDREN 8
#define PER_CHILD 50

static int child_appends(const char *path, int id)
{
	struct auditlog_log log;
	struct auditlog_event ev;
	char user[16];
	snprintf(user, sizeof(user), "child%d", id);
	if (auditlog_open_flags(&log, path, AUDIT_NO_SYSLOG) != 0)
		return 1;
	for (int i = 0; i < PER_CHILD; i++) {
		auditlog_event_init(&ev, AUDIT_EV_REQUEST, user);
		ev.reason = "a reason long enough to make each write a few hundred bytes, so that "
		            "interleaving would show if the lock did not hold";
		if (auditlog_append(&log, &ev) != 0)
			return 1;
	}
	auditlog_close(&log);
	return 0;
}

static void test_concurrent_appends(void **state)
{
	struct fixture *fx = *state;
	pid_t pids[CHILDREN];
	fflush(NULL);
	for (int c = 0; c < CHILDREN; c++) {
		pids[c] = fork();
		assert_true(pids[c] >= 0);
		if (pids[c] == 0)
			_exit(child_appends(fx->path, c));
	}
	for (int c = 0; c < CHILDREN; c++) {
		int status = 0;
		assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	expect_ok(fx->path, CHILDREN * PER_CHILD);

	size_t len;
	char *buf = slurp(fx->path, &len);
	for (int c = 0; c < CHILDREN; c++) {
		char user[32];
		int count = 0;
		snprintf(user, sizeof(user), "\"user\":\"child%d\"", c);
		for (const char *p = buf; (p = strstr(p, user)); p++)
			count++;
		assert_int_equal(count, PER_CHILD);
	}
	free(buf);
}

/* ---- the command --------------------------------------------------------------- */

static int run_verify_command(const char *path, const char *out_path, char *out, size_t outsize)
{
	fflush(stdout);
	fflush(stderr);
	int saved = dup(1), saved_err = dup(2), fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && saved_err >= 0 && fd >= 0);
	assert_true(dup2(fd, 1) >= 0 && dup2(fd, 2) >= 0);
	int rc = auditlog_verify_command(path);
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(saved, 1) >= 0 && dup2(saved_err, 2) >= 0);
	close(saved);
	close(saved_err);
	close(fd);
	FILE *f = fopen(out_path, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, outsize - 1, f);
	out[n] = '\0';
	fclose(f);
	return rc;
}

static void test_verify_command(void **state)
{
	struct fixture *fx = *state;
	char out_path[160], out[512], missing[160];
	size_t len;
	snprintf(out_path, sizeof(out_path), "%s/out.txt", fx->dir);
	snprintf(missing, sizeof(missing), "%s/missing.log", fx->dir);

	spit(fx->path, "", 0);
	assert_int_equal(run_verify_command(fx->path, out_path, out, sizeof(out)), 0);
	assert_string_equal(out, "ok: 0 lines\n");

	unlink(fx->path);
	write_sample_log(fx->path, 3);
	assert_int_equal(run_verify_command(fx->path, out_path, out, sizeof(out)), 0);
	assert_string_equal(out, "ok: 3 lines\n");

	char *buf = slurp(fx->path, &len);
	*strstr(strstr(buf, "\"seq\":2,"), "alice") = 'm';
	spit(fx->path, buf, len);
	free(buf);
	assert_int_equal(run_verify_command(fx->path, out_path, out, sizeof(out)), 1);
	assert_string_equal(out, "line 2: hash does not match the line's contents: the line was edited\n");

	assert_int_equal(run_verify_command(missing, out_path, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "elevate: "));
	assert_non_null(strstr(out, "missing.log: No such file or directory\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
		cmocka_unit_test(test_event_names_are_stable),
		cmocka_unit_test_setup_teardown(test_known_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_byte_edit_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_value_is_hash_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_line_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_lines_are_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted_line_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_line_is_caught_by_the_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_line_is_caught_by_prev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_last_line_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_tail_is_refused_then_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpinned_damage_is_found_until_pinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_line_pinned_by_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_pin_does_not_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_tail_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_events_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings_stay_on_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_command, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
