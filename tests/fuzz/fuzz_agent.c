/*
 * fuzz_agent.c - libFuzzer entry point for the parsers of elevate
 * (runtime/agent/) that read untrusted or damaged input. The first byte
 * picks one (byte % 5), the rest is its input:
 *   0 config_parse                       the configuration file
 *   1 state_open and its readers         DIR/state; a parsed file must
 *                                        serialise to its own bytes, which
 *                                        must reparse to the same bytes
 *   2 auditlog_verify, auditlog_open,    the audit log; a log that verifies
 *     auditlog_find_unpinned             must open at its last seq and have
 *                                        nothing unpinned
 *   3 policyfile_read                    raw bytecode or managed preferences
 *   4 reason_check                       a decision's reason rules and the
 *                                        user's choice and text
 * Files go to one private directory (mode 0700) made once per process and
 * removed at exit. Nothing may crash, leak or break those properties.
 * tests/fuzz/replay.c replays the corpus in `make check`.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/audit.h"
#include "agent/config.h"
#include "agent/policyfile.h"
#include "agent/reason.h"
#include "agent/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STATE_NAME  "state"       /* the name state.c reads in its directory */
#define AUDIT_NAME  "audit.log"
#define POLICY_NAME "policy"

static char dir[64];

static void remove_dir(void)
{
	static const char *const names[] = { STATE_NAME, AUDIT_NAME, POLICY_NAME };
	char path[sizeof(dir) + 16];
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

/* The private directory: made by mkdtemp (0700, ours), removed at exit. */
static const char *private_dir(void)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/fuzz-agent-XXXXXX",
		         tmp && *tmp && strlen(tmp) < sizeof(dir) - 20 ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	return dir;
}

/* Writes bytes to DIR/name, mode 0600, replacing it; the path goes to path. */
static void put_file(const char *name, const uint8_t *p, size_t n, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", private_dir(), name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0)
		abort();
}

static void fuzz_config(const uint8_t *p, size_t n)
{
	static struct elevate_config cfg;
	char err[256];
	config_defaults(&cfg);
	if (config_parse(&cfg, (const char *)p, n, err, sizeof(err)) != 0 && !err[0])
		abort();   /* a refusal names its line */
}

/* Reads st the way the agent does, and returns its serialisation. */
static char *read_state(struct state *st, size_t *len)
{
	struct state_list list, mine = { NULL, 0 };
	int64_t times[16];
	size_t ntimes;
	unsigned causes;
	char *bytes;
	if (state_pending_repairs(st, &list) != 0)
		abort();
	if (list.n > 0 && (state_user_grants(st, list.v[0].user, &mine) != 0 || mine.n == 0))
		abort();   /* a pending record's user has records */
	state_list_free(&mine);
	state_list_free(&list);
	if (state_grant_times(st, "alice", times, 16, &ntimes) != 0 || ntimes > 16 ||
	    state_lock_causes(st, &causes) != 0 || causes > STATE_LOCK_ALL ||
	    state_serialize(st, &bytes, len) != 0)
		abort();
	return bytes;
}

static void fuzz_state(const uint8_t *p, size_t n)
{
	char path[128];
	struct state *st;
	size_t len, len2;
	put_file(STATE_NAME, p, n, path, sizeof(path));
	if (state_open(private_dir(), geteuid(), &st) != 0)
		return;
	char *bytes = read_state(st, &len);
	if (len != n || memcmp(bytes, p, n) != 0)
		abort();   /* the reader accepts only what the writer writes */
	/* The round trip: what was written must read back as the same bytes. */
	put_file(STATE_NAME, (const uint8_t *)bytes, len, path, sizeof(path));
	if (state_reload(st) != 0)
		abort();
	char *again = read_state(st, &len2);
	if (len2 != len || memcmp(again, bytes, len) != 0)
		abort();
	free(again);
	free(bytes);
	state_close(st);
}

static void fuzz_audit(const uint8_t *p, size_t n)
{
	char path[128];
	struct auditlog_verify_result r;
	struct auditlog_log log;
	put_file(AUDIT_NAME, p, n, path, sizeof(path));
	int verified = auditlog_verify(path, &r);
	int opened = auditlog_open_flags(&log, path, AUDIT_NO_SYSLOG);
	if (opened == 0 || opened == AUDIT_ETAMPERED)
		auditlog_close(&log);
	if (verified == 0 && (opened != 0 || log.seq != r.lines))
		abort();   /* a log that verifies continues at its last line */
	if (verified == AUDIT_ETAMPERED && (r.bad_line == 0 || r.fault == AUDIT_FAULT_NONE))
		abort();   /* a rejection names the line and the fault */
	struct auditlog_verify_result u;
	int unpinned = auditlog_find_unpinned(path, &u);
	if (verified == 0 && unpinned != 0)
		abort();   /* a log that verifies has nothing to pin */
	if (unpinned == AUDIT_ETAMPERED && (u.bad_line < r.bad_line || u.fault == AUDIT_FAULT_NONE))
		abort();   /* pinned damage is never after the first damage */
}

static void fuzz_policyfile(const uint8_t *p, size_t n)
{
	char path[128], err[256];
	struct policyfile pf;
	put_file(POLICY_NAME, p, n, path, sizeof(path));
	if (policyfile_read(path, geteuid(), &pf, err, sizeof(err)) != 0)
		return;
	if (!pf.bytecode || pf.len == 0 || strlen(pf.sha256) != 64)
		abort();
	free(pf.bytecode);
}

/*
 * A decision and an answer from the bytes: mode, flags (bit 0 other
 * allowed, bit 1 a text given, bit 2 a small output buffer), nchoices,
 * min, max, choice, then NUL-separated strings: the choices, then the text.
 */
static void fuzz_reason(const uint8_t *p, size_t n)
{
	enum { HEAD = 6 };
	struct ep_decision d;
	char out[REASON_OUT_SIZE], msg[REASON_MESSAGE_SIZE];
	if (n < HEAD)
		return;
	memset(&d, 0, sizeof(d));
	d.reason.mode = (enum ep_reason_mode)(p[0] % 4);   /* 3 is not a mode */
	d.reason.other_allowed = p[1] & 1;
	d.reason.nchoices = p[2] % (EP_MAX_CHOICES + 2);
	d.reason.min = p[3] % 40;
	d.reason.max = p[4] % 200;
	unsigned choice = p[5] % 40;
	size_t outsize = p[1] & 4 ? (size_t)p[5] % 16 : sizeof(out);
	char *strings = malloc(n - HEAD + 1);
	if (!strings)
		return;
	memcpy(strings, p + HEAD, n - HEAD);
	strings[n - HEAD] = '\0';
	char *s = strings, *end = strings + (n - HEAD);
	for (uint32_t i = 0; i < d.reason.nchoices && i < EP_MAX_CHOICES && s < end; i++) {
		d.reason.choices[i] = s;
		s += strlen(s) + 1;
	}
	const char *text = p[1] & 2 ? (s <= end ? s : "") : NULL;
	memset(out, 0x5a, sizeof(out));
	int rc = reason_check(&d, choice, text, out, outsize);
	if (rc == REASON_OK && !memchr(out, '\0', outsize))
		abort();   /* the reason is a string within the buffer */
	for (size_t i = 0; rc != REASON_OK && i < sizeof(out); i++)
		if (out[i] != 0x5a)
			abort();   /* nothing is written on failure */
	reason_message(rc, &d, msg, sizeof(msg));
	reason_message(rc, &d, msg, (size_t)p[3] % 8);
	if (text && reason_parse_choice(text, &choice) == REASON_OK && choice == 0)
		abort();
	free(strings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(const uint8_t *, size_t) = {
		fuzz_config, fuzz_state, fuzz_audit, fuzz_policyfile, fuzz_reason,
	};
	if (size == 0)
		return 0;
	/* A private copy, so that reads past the end are caught by the sanitizers. */
	uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	parsers[data[0] % (sizeof(parsers) / sizeof(*parsers))](copy, size - 1);
	free(copy);
	return 0;
}
