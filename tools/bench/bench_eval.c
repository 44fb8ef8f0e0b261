/*
 * bench_eval.c - measures libep's evaluator against the native baseline for
 * one policy (`make bench`, driven by tools/bench/run).
 *
 * usage: bench_eval [-r RUNS] [-t MS] NAME POLICY.epb REQUESTS
 *
 * Linked with libep and with the C that `polc --emit-c` wrote for the same
 * policy (polc_native_evaluate). It loads and verifies POLICY.epb with
 * ep_load(), reads a fixed request mix from REQUESTS, and checks, before
 * timing anything, that the VM and the native code return identical
 * decisions for every request and that each decision is the one the mix
 * expects; any difference is fatal (exit 1). Then it warms up, calibrates
 * an iteration count for runs of about MS milliseconds (default 100), and
 * times RUNS runs (default 7) of the VM and of the native code, alternating,
 * with clock_gettime(CLOCK_MONOTONIC). It prints the medians as
 * `name value` lines (ns per decision over the mix):
 *
 *   eval.NAME.requests          requests in the mix
 *   eval.NAME.ns_per_decision   libep (ep_evaluate), median
 *   eval.NAME.native_ns         native baseline, median
 *   eval.NAME.native_ratio      ns_per_decision / native_ns
 *   eval.NAME.ns_min            libep, fastest run
 *   eval.NAME.native_ns_min     native baseline, fastest run
 *
 * Lines starting with '#' are commentary (decisions, every run).
 *
 * REQUESTS holds one request per line, fields separated by blanks, '#'
 * comments and blank lines ignored:
 *
 *   LABEL EXPECT USER GROUPS HOST SESSION TIME GRANTS
 *
 * EXPECT is allow@R, deny@R or limit@R (allowed by rule R, denied by it, or
 * refused because R's limit is used up), R a rule index or `otherwise`.
 * GROUPS is a comma-separated list, GRANTS a comma-separated list of TIMEs,
 * HOST may be empty; `-` stands for an empty field. SESSION is console or
 * remote. TIME is local ISO 8601 with its offset, 2026-12-07T10:15:00+01:00
 * or ...Z; the request's utc_offset is the offset of its TIME.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "ep.h"
#include "iso_time.h"

/* The native baseline, from `polc --emit-c`. */
int polc_native_evaluate(const struct ep_request *req, struct ep_decision *out);

#define MAX_REQUESTS 64
#define MAX_LIST 64
#define MAX_RUNS 101

enum expect_kind { EXPECT_ALLOW, EXPECT_DENY, EXPECT_LIMIT };

struct bench_request {
	char *line;                    /* owns the strings below */
	const char *label;
	enum expect_kind expect;
	int32_t expect_rule;
	const char *groups[MAX_LIST];
	int64_t grants[MAX_LIST];
	struct ep_request req;
};

static const char *progname = "bench_eval";

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			die("out of memory reading %s", path);
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f))
		die("cannot read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

/* ---- reading the request mix ------------------------------------------------------ */

static bool parse_expect(const char *s, struct bench_request *r)
{
	const char *at = strchr(s, '@');
	if (!at)
		return false;
	size_t n = (size_t)(at - s);
	if (n == 5 && strncmp(s, "allow", n) == 0)
		r->expect = EXPECT_ALLOW;
	else if (n == 4 && strncmp(s, "deny", n) == 0)
		r->expect = EXPECT_DENY;
	else if (n == 5 && strncmp(s, "limit", n) == 0)
		r->expect = EXPECT_LIMIT;
	else
		return false;
	if (strcmp(at + 1, "otherwise") == 0) {
		r->expect_rule = EP_RULE_OTHERWISE;
		return true;
	}
	char *end;
	errno = 0;
	long v = strtol(at + 1, &end, 10);
	if (errno || *end || end == at + 1 || v < 0 || v > INT32_MAX)
		return false;
	r->expect_rule = (int32_t)v;
	return true;
}

/* Splits a comma-separated list in place; "-" is the empty list. */
static size_t split_list(char *s, char **items, size_t max, const char *what, const char *label)
{
	if (strcmp(s, "-") == 0)
		return 0;
	size_t n = 0;
	for (char *p = s;;) {
		if (n == max)
			die("request %s: too many %s", label, what);
		items[n++] = p;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

static void parse_request(char *line, struct bench_request *r, const char *path)
{
	char *field[8];
	size_t n = 0;
	r->line = line;
	for (char *p = line; *p;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		if (n == 8)
			die("%s: too many fields in request %s", path, field[0]);
		field[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	if (n != 8)
		die("%s: a request needs 8 fields: LABEL EXPECT USER GROUPS HOST SESSION TIME GRANTS (%s)",
		    path, n ? field[0] : "");
	r->label = field[0];
	if (!parse_expect(field[1], r))
		die("request %s: bad expectation %s (allow@R, deny@R, limit@R)", r->label, field[1]);
	r->req.user = field[2];
	char *items[MAX_LIST];
	r->req.ngroups = split_list(field[3], items, MAX_LIST, "groups", r->label);
	for (size_t i = 0; i < r->req.ngroups; i++)
		r->groups[i] = items[i];
	r->req.groups = r->groups;
	r->req.host = strcmp(field[4], "-") == 0 ? "" : field[4];
	if (strcmp(field[5], "console") == 0)
		r->req.session = EP_SESSION_CONSOLE;
	else if (strcmp(field[5], "remote") == 0)
		r->req.session = EP_SESSION_REMOTE;
	else
		die("request %s: bad session %s", r->label, field[5]);
	if (!iso_time_parse(field[6], &r->req.now, &r->req.utc_offset))
		die("request %s: bad time %s", r->label, field[6]);
	r->req.ngrants = split_list(field[7], items, MAX_LIST, "grants", r->label);
	for (size_t i = 0; i < r->req.ngrants; i++) {
		int32_t unused;
		if (!iso_time_parse(items[i], &r->grants[i], &unused))
			die("request %s: bad grant time %s", r->label, items[i]);
	}
	r->req.grants = r->grants;
	if (!ep_request_valid(&r->req))
		die("request %s: libep finds it malformed", r->label);
}

static size_t read_requests(const char *path, struct bench_request *reqs)
{
	size_t len;
	char *text = (char *)read_file(path, &len);
	text = realloc(text, len + 1);
	if (!text)
		die("out of memory");
	text[len] = '\0';
	size_t n = 0;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *p = line + strspn(line, " \t\r");
		p[strcspn(p, "\r")] = '\0';
		if (*p && *p != '#') {
			if (n == MAX_REQUESTS)
				die("%s: more than %d requests", path, MAX_REQUESTS);
			parse_request(p, &reqs[n++], path);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (n == 0)
		die("%s: no requests", path);
	return n;
}

/* ---- checking ------------------------------------------------------------------------ */


static void print_decision(FILE *out, const char *who, int rc, const struct ep_decision *d)
{
	fprintf(out,
	        "#   %-6s rc %d verdict %d code %d rule %d name %s message %s duration %u max %u "
	        "auth %u reason %d min %u max %u choices %u other %d timer %d limit %d %u used %u "
	        "left %u\n",
	        who, rc, d->verdict, d->code, (int)d->rule, d->rule_name ? d->rule_name : "(null)",
	        d->message ? d->message : "(null)", d->duration, d->max, d->auth, d->reason.mode,
	        d->reason.min, d->reason.max, d->reason.nchoices, d->reason.other_allowed,
	        d->timer_shown, d->limit.period, d->limit.count, d->limit.used, d->limit.left);
}

static bool as_expected(const struct bench_request *r, const struct ep_decision *d)
{
	if (d->rule != r->expect_rule)
		return false;
	switch (r->expect) {
	case EXPECT_ALLOW:
		return d->verdict == EP_ALLOW && d->code == EP_REASON_ALLOWED;
	case EXPECT_DENY:
		return d->verdict == EP_DENY &&
		       d->code == (r->expect_rule == EP_RULE_OTHERWISE ? EP_REASON_DEFAULT_DENIED
		                                                       : EP_REASON_RULE_DENIED);
	case EXPECT_LIMIT:
		return d->verdict == EP_DENY && d->code == EP_REASON_LIMIT_REACHED;
	}
	return false;
}

/* VM and native must agree on every request, and decide as the mix says. */
static void check(const struct ep_program *prog, const struct bench_request *reqs, size_t n,
                  const char *name)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct ep_decision vm, native;
		memset(&native, 0xA5, sizeof(native));
		int vm_rc = ep_evaluate(prog, &reqs[i].req, &vm);
		int native_rc = polc_native_evaluate(&reqs[i].req, &native);
		bool same = vm_rc == native_rc && (vm_rc != 0 || ep_decision_equal(&vm, &native));
		bool expected = vm_rc == 0 && as_expected(&reqs[i], &vm);
		printf("# %s %s: %s rule %d%s%s\n", name, reqs[i].label,
		       vm.verdict == EP_ALLOW ? "allow" : "deny", (int)vm.rule,
		       same ? "" : " VM AND NATIVE DIFFER", expected ? "" : " NOT AS EXPECTED");
		if (!same || !expected) {
			print_decision(stdout, "vm", vm_rc, &vm);
			print_decision(stdout, "native", native_rc, &native);
			ok = false;
		}
	}
	fflush(stdout);
	if (!ok)
		die("%s: the VM and the native baseline disagree, or a decision is not the one the "
		    "request mix expects (see above)", name);
}

/* ---- timing -------------------------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime: %s", strerror(errno));
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile unsigned sink;

/* ns per decision over `iters` passes through the mix. */
static double run_vm(const struct ep_program *prog, const struct bench_request *reqs, size_t n,
                     uint64_t iters)
{
	struct ep_decision d;
	unsigned acc = 0;
	double t0 = now_ns();
	for (uint64_t k = 0; k < iters; k++)
		for (size_t i = 0; i < n; i++) {
			ep_evaluate(prog, &reqs[i].req, &d);
			acc += (unsigned)d.verdict + (unsigned)d.rule;
		}
	double t1 = now_ns();
	sink += acc;
	return (t1 - t0) / ((double)iters * (double)n);
}

static double run_native(const struct ep_program *prog, const struct bench_request *reqs,
                         size_t n, uint64_t iters)
{
	struct ep_decision d;
	unsigned acc = 0;
	(void)prog;
	double t0 = now_ns();
	for (uint64_t k = 0; k < iters; k++)
		for (size_t i = 0; i < n; i++) {
			polc_native_evaluate(&reqs[i].req, &d);
			acc += (unsigned)d.verdict + (unsigned)d.rule;
		}
	double t1 = now_ns();
	sink += acc;
	return (t1 - t0) / ((double)iters * (double)n);
}

typedef double (*run_fn)(const struct ep_program *, const struct bench_request *, size_t, uint64_t);

/* Passes through the mix for a run of about run_ms; also warms up. */
static uint64_t calibrate(run_fn run, const struct ep_program *prog,
                          const struct bench_request *reqs, size_t n, double run_ms)
{
	uint64_t iters = 1;
	double ns;
	for (;;) {
		ns = run(prog, reqs, n, iters) * (double)iters * (double)n;
		if (ns >= run_ms * 1e6 / 8 || iters >= ((uint64_t)1 << 40))
			break;
		iters *= 2;
	}
	double want = (double)iters * run_ms * 1e6 / ns;
	return want < 1 ? 1 : (uint64_t)want;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [-r RUNS] [-t MS] NAME POLICY.epb REQUESTS\n", progname);
	exit(2);
}

int main(int argc, char **argv)
{
	int runs = 7;
	double run_ms = 100;
	int opt;
	while ((opt = getopt(argc, argv, "r:t:")) != -1) {
		switch (opt) {
		case 'r': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > MAX_RUNS)
				usage();
			runs = (int)v;
			break;
		}
		case 't':
			run_ms = atof(optarg);
			if (!(run_ms > 0 && run_ms <= 60000))
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	const char *name = argv[optind], *epb = argv[optind + 1], *mix = argv[optind + 2];

	size_t len;
	unsigned char *bytes = read_file(epb, &len);
	struct ep_program prog;
	struct ep_error err;
	int rc = ep_load(&prog, bytes, len, &err);
	if (rc != 0) {
		fprintf(stderr, "%s: %s: %s at offset %u: %s\n", progname, epb, ep_status_name(rc),
		        (unsigned)err.offset, ep_status_message(rc));
		return 1;
	}

	static struct bench_request reqs[MAX_REQUESTS];
	size_t n = read_requests(mix, reqs);
	check(&prog, reqs, n, name);

	uint64_t vm_iters = calibrate(run_vm, &prog, reqs, n, run_ms);
	uint64_t native_iters = calibrate(run_native, &prog, reqs, n, run_ms);
	run_vm(&prog, reqs, n, vm_iters);              /* warm-up at full length */
	run_native(&prog, reqs, n, native_iters);

	double vm[MAX_RUNS], native[MAX_RUNS];
	for (int r = 0; r < runs; r++) {
		vm[r] = run_vm(&prog, reqs, n, vm_iters);
		native[r] = run_native(&prog, reqs, n, native_iters);
	}
	printf("# %s: %d runs of %llu (VM) and %llu (native) passes through %zu requests\n", name,
	       runs, (unsigned long long)vm_iters, (unsigned long long)native_iters, n);
	printf("# %s vm ns:", name);
	for (int r = 0; r < runs; r++)
		printf(" %.1f", vm[r]);
	printf("\n# %s native ns:", name);
	for (int r = 0; r < runs; r++)
		printf(" %.1f", native[r]);
	printf("\n");

	double vm_ns = median(vm, runs), native_ns = median(native, runs);
	printf("eval.%s.requests %zu\n", name, n);
	printf("eval.%s.ns_per_decision %.1f\n", name, vm_ns);
	printf("eval.%s.native_ns %.1f\n", name, native_ns);
	printf("eval.%s.native_ratio %.4g\n", name, vm_ns / native_ns);
	printf("eval.%s.ns_min %.1f\n", name, vm[0]);             /* sorted by median() */
	printf("eval.%s.native_ns_min %.1f\n", name, native[0]);
	free(bytes);
	return 0;
}
