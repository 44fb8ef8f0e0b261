/*
 * cli_eval.c - `polc eval`: decides one request with a policy and prints
 * the decision, as text or as one JSON object, optionally after a trace of
 * every condition test.
 *
 * A .epb file is loaded and verified by libep and decided by its
 * evaluator, exactly as on a device; a .ep file is compiled and decided by
 * the reference evaluator (eval_ref.c). It never writes a file and never
 * decides anything itself. Exit codes: 0 whatever the decision, 1 when the
 * policy is invalid, 2 for usage and I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "cli.h"
#include "compile.h"
#include "disasm.h"
#include "eval_ref.h"
#include "iso_time.h"
#include "json.h"
#include "source.h"

struct eval_cli {
	const char *policy;
	bool json, trace;
	bool have_at;
	struct ep_request req;
	const char **groups;           /* argc slots */
	int64_t *grants;               /* argc slots */
	char **trust;                  /* argc slots: --trust KEY.pub */
	size_t ntrust;
	char hostname[256];            /* the default host */
};

/* Where trace lines and the decision go, and what the trace refers to. */
struct eval_output {
	FILE *out;
	bool json, trace;
	unsigned ntrace;
	const struct source *src;      /* .ep */
	const struct ep_program *prog; /* .epb */
};

static void eval_usage(FILE *out)
{
	fputs("usage: polc eval POLICY.ep|POLICY.epb --user USER [--group GROUP]... [--host HOST]\n"
	      "                 [--session console|remote] [--at TIME] [--grant-at TIME]...\n"
	      "                 [--json] [--trace] [--trust KEY.pub]...\n"
	      "\n"
	      "  TIME is ISO 8601 with an offset: 2026-12-07T23:30:00+02:00, 2026-12-07T21:30Z.\n"
	      "  --at sets the request's time and UTC offset (default: now, this machine's offset);\n"
	      "  --grant-at gives an earlier grant, counted for `limit` in the request's offset.\n"
	      "  --host defaults to this machine's name, --session to console.\n"
	      "  --json prints one JSON object; --trace shows every condition test first.\n"
	      "  --trust loads an .epb only if one of these keys signed it; who signed it,\n"
	      "  and whether that was checked, goes to standard error.\n",
	      out);
}


/* ---- times ------------------------------------------------------------------------ */

static int64_t tm_seconds(const struct tm *tm)
{
	int64_t day = ep_days_from_civil(tm->tm_year + 1900, (unsigned)tm->tm_mon + 1,
	                                 (unsigned)tm->tm_mday);
	return day * 86400 + tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
}

/* This machine's UTC offset at t: its local calendar time minus UTC's. */
static int32_t local_offset(time_t t)
{
	struct tm local, utc;
	if (!localtime_r(&t, &local) || !gmtime_r(&t, &utc))
		return 0;
	return (int32_t)(tm_seconds(&local) - tm_seconds(&utc));
}

/* ---- the command line ----------------------------------------------------------------- */

static int take_time(const char *arg, int64_t *t, int32_t *offset)
{
	if (iso_time_parse(arg, t, offset))
		return -1;
	return cli_usage_error("polc eval", "bad time '%s' (expected e.g. 2026-12-07T23:30:00+02:00)", arg);
}

/* Handles one option; returns -1 to go on, else the exit code. */
static int take_option(struct eval_cli *cli, int opt, const char *arg)
{
	int32_t ignored;
	switch (opt) {
	case 'u': cli->req.user = arg; return -1;
	case 'g': cli->groups[cli->req.ngroups++] = arg; return -1;
	case 'H': cli->req.host = arg; return -1;
	case 'j': cli->json = true; return -1;
	case 't': cli->trace = true; return -1;
	case 'T': cli->trust[cli->ntrust++] = (char *)arg; return -1;
	case 's':
		if (strcmp(arg, "console") == 0 || strcmp(arg, "remote") == 0) {
			cli->req.session = arg[0] == 'c' ? EP_SESSION_CONSOLE : EP_SESSION_REMOTE;
			return -1;
		}
		return cli_usage_error("polc eval", "unknown session '%s' (console or remote)", arg);
	case 'a':
		cli->have_at = true;
		return take_time(arg, &cli->req.now, &cli->req.utc_offset);
	case 'G':
		return take_time(arg, &cli->grants[cli->req.ngrants++], &ignored);
	default:
		return cli_usage_error("polc eval", "%s", "internal error: unknown option");
	}
}

/* Fills what the command line left out: time, offset and host of this machine. */
static void fill_defaults(struct eval_cli *cli)
{
	if (!cli->have_at) {
		time_t now = time(NULL);
		cli->req.now = (int64_t)now;
		cli->req.utc_offset = local_offset(now);
	}
	if (!cli->req.host) {
		if (gethostname(cli->hostname, sizeof(cli->hostname)) < 0)
			cli->hostname[0] = '\0';
		cli->hostname[sizeof(cli->hostname) - 1] = '\0';
		cli->req.host = cli->hostname;
	}
	cli->req.groups = cli->groups;
	cli->req.grants = cli->grants;
}

/* Returns -1 when the request is ready, else the exit code. */
static int parse_eval_args(struct eval_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "host", required_argument, NULL, 'H' },
		{ "session", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, 'a' },
		{ "grant-at", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'j' },
		{ "trace", no_argument, NULL, 't' },
		{ "trust", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			eval_usage(stdout);
			return 0;
		}
		if (opt == ':')
			return cli_usage_error("polc eval", "option '%s' needs a value", argv[optind - 1]);
		if (opt == '?') {
			char short_opt[3] = { '-', (char)optopt, '\0' };
			return cli_usage_error("polc eval", "unknown option '%s'", optopt ? short_opt : argv[optind - 1]);
		}
		if ((rc = take_option(cli, opt, optarg)) >= 0)
			return rc;
	}
	if (optind != argc - 1)
		return cli_usage_error("polc eval", "%s", optind >= argc ? "no policy file given"
		                                             : "more than one policy file given");
	cli->policy = argv[optind];
	if (!cli->req.user)
		return cli_usage_error("polc eval", "%s", "no user given (--user USER)");
	fill_defaults(cli);
	return -1;
}

/* ---- output ------------------------------------------------------------------------------ */

static const char *const code_names[] = {
	[EP_REASON_ALLOWED] = "allowed",
	[EP_REASON_RULE_DENIED] = "rule-denied",
	[EP_REASON_DEFAULT_DENIED] = "default-denied",
	[EP_REASON_LIMIT_REACHED] = "limit-reached",
	[EP_REASON_FAULT] = "fault",
};
static const char *const mode_names[] = { "none", "optional", "required" };
static const char *const period_names[] = { "none", "day", "week", "month" };

static void json_string_or_null(FILE *out, const char *s)
{
	if (s)
		json_write_string(out, s);
	else
		fputs("null", out);
}

static void json_auth(FILE *out, unsigned auth)
{
	fputc('[', out);
	if (auth & EP_AUTH_BIOMETRIC)
		fputs(auth & EP_AUTH_PASSWORD ? "\"biometric\"," : "\"biometric\"", out);
	if (auth & EP_AUTH_PASSWORD)
		fputs("\"password\"", out);
	fputc(']', out);
}

static void json_reason(FILE *out, const struct ep_decision *d)
{
	fprintf(out, "{\"mode\":\"%s\",\"min\":%" PRIu32 ",\"max\":", mode_names[d->reason.mode],
	        d->reason.min);
	if (d->reason.max)
		fprintf(out, "%" PRIu32, d->reason.max);
	else
		fputs("null", out);
	fputs(",\"choices\":[", out);
	for (uint32_t i = 0; i < d->reason.nchoices; i++) {
		if (i)
			fputc(',', out);
		json_write_string(out, d->reason.choices[i]);
	}
	fprintf(out, "],\"other_allowed\":%s}", d->reason.other_allowed ? "true" : "false");
}

static void json_limit(FILE *out, const struct ep_decision *d)
{
	if (d->limit.period == EP_PERIOD_NONE) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"count\":%" PRIu32 ",\"period\":\"%s\",\"used\":%" PRIu32 ",\"left\":%" PRIu32 "}",
	        d->limit.count, period_names[d->limit.period], d->limit.used, d->limit.left);
}

/* The decision's members, without the braces around them. */
static void json_decision(FILE *out, const struct ep_decision *d)
{
	fprintf(out, "\"decision\":\"%s\",\"code\":\"%s\",\"rule\":",
	        d->verdict == EP_ALLOW ? "allow" : "deny", code_names[d->code]);
	json_string_or_null(out, d->rule_name);
	fputs(",\"rule_index\":", out);
	if (d->rule == EP_RULE_OTHERWISE)
		fputs("null", out);
	else
		fprintf(out, "%" PRId32, d->rule);
	fputs(",\"message\":", out);
	json_string_or_null(out, d->message);
	fprintf(out, ",\"duration\":%" PRIu32 ",\"max\":%" PRIu32 ",\"authenticate\":", d->duration,
	        d->max);
	json_auth(out, d->auth);
	fputs(",\"reason\":", out);
	json_reason(out, d);
	fprintf(out, ",\"timer_shown\":%s,\"limit\":", d->timer_shown ? "true" : "false");
	json_limit(out, d);
}

static void text_rule(FILE *out, const struct ep_decision *d)
{
	if (d->code == EP_REASON_FAULT)
		fputs("rule:         none (the request or the policy is faulty)\n", out);
	else if (d->rule == EP_RULE_OTHERWISE)
		fputs("rule:         otherwise\n", out);
	else
		fprintf(out, "rule:         \"%s\" (rule %" PRId32 ")\n", d->rule_name, d->rule);
}

static void text_reason(FILE *out, const struct ep_decision *d)
{
	fprintf(out, "reason:       %s", mode_names[d->reason.mode]);
	if (d->reason.max)
		fprintf(out, ", %" PRIu32 " to %" PRIu32 " characters", d->reason.min, d->reason.max);
	else if (d->reason.min)
		fprintf(out, ", at least %" PRIu32 " characters", d->reason.min);
	fputc('\n', out);
	if (!d->reason.nchoices && !d->reason.other_allowed)
		return;
	fputs("choices:      ", out);
	for (uint32_t i = 0; i < d->reason.nchoices; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", d->reason.choices[i]);
	fprintf(out, "%s\n", !d->reason.other_allowed ? "" : d->reason.nchoices ? ", or other (free text)"
	                                                                        : "other (free text)");
}

static void text_settings(FILE *out, const struct ep_decision *d)
{
	fprintf(out, "duration:     %" PRIu32 "s (up to %" PRIu32 "s on request)\n", d->duration, d->max);
	fprintf(out, "authenticate: %s\n", d->auth == (EP_AUTH_BIOMETRIC | EP_AUTH_PASSWORD)
	                                       ? "biometric or password"
	                                   : d->auth == EP_AUTH_BIOMETRIC ? "biometric"
	                                   : d->auth == EP_AUTH_PASSWORD ? "password" : "none");
	text_reason(out, d);
	fprintf(out, "timer:        %s\n", d->timer_shown ? "shown" : "hidden");
}

static void text_decision(FILE *out, const struct ep_decision *d)
{
	fprintf(out, "decision:     %s (%s)\n", d->verdict == EP_ALLOW ? "allow" : "deny",
	        code_names[d->code]);
	text_rule(out, d);
	if (d->message)
		fprintf(out, "message:      %s\n", d->message);
	if (d->verdict == EP_ALLOW)
		text_settings(out, d);
	if (d->limit.period != EP_PERIOD_NONE)
		fprintf(out, "limit:        %" PRIu32 " per %s: %" PRIu32 " used, %" PRIu32 " left\n",
		        d->limit.count, period_names[d->limit.period], d->limit.used, d->limit.left);
}

/* ---- the trace --------------------------------------------------------------------------- */

/* Where a traced test is: a pc in the code, or a place in the source. */
struct trace_site {
	bool is_pc;
	uint32_t pc;
	struct position pos;
};

static void trace_line(struct eval_output *o, struct trace_site at, const char *test, bool result)
{
	if (!o->json) {
		if (at.is_pc)
			fprintf(o->out, "test at pc %04" PRIx32 ": ", at.pc);
		else
			fprintf(o->out, "test at %s:%" PRIu32 ":%" PRIu32 ": ", o->src->name, at.pos.line,
			        at.pos.column);
		fprintf(o->out, "%s -> %s\n", test, result ? "true" : "false");
		return;
	}
	fputs(o->ntrace ? ",{" : "{", o->out);
	if (at.is_pc)
		fprintf(o->out, "\"pc\":%" PRIu32 ",", at.pc);
	else
		fprintf(o->out, "\"line\":%" PRIu32 ",\"column\":%" PRIu32 ",", at.pos.line, at.pos.column);
	fputs("\"test\":", o->out);
	json_write_string(o->out, test);
	fprintf(o->out, ",\"result\":%s}", result ? "true" : "false");
	o->ntrace++;
}

/* A span of source on one line: whitespace runs become one space, comments go. */
static void print_span_flat(FILE *out, const char *text, struct span sp)
{
	bool in_string = false, space = false;
	for (uint32_t i = 0; i < sp.len; i++) {
		char ch = text[sp.off + i];
		if (!in_string && ch == '#') {
			while (i + 1 < sp.len && text[sp.off + i + 1] != '\n')
				i++;
			continue;
		}
		if (!in_string && (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')) {
			space = true;
			continue;
		}
		if (space)
			fputc(' ', out);
		space = false;
		fputc(ch, out);
		if (ch == '\\' && in_string && i + 1 < sp.len)
			fputc(text[sp.off + ++i], out);
		else if (ch == '"')
			in_string = !in_string;
	}
}

/* A trace line's text is printed into memory first, then written as text or JSON. */
struct trace_text {
	char *buf;
	size_t len;
	FILE *mem;
};

static bool trace_text_begin(struct trace_text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->mem = open_memstream(&t->buf, &t->len);
	return t->mem != NULL;
}

static void trace_text_end(struct trace_text *t, struct eval_output *o, struct trace_site at,
                           bool result)
{
	if (fclose(t->mem) == 0)
		trace_line(o, at, t->buf, result);
	free(t->buf);
}

static void trace_source_test(void *ctx, const struct cond *test, bool result)
{
	struct eval_output *o = ctx;
	struct trace_text t;
	if (!trace_text_begin(&t))
		return;
	print_span_flat(t.mem, o->src->text, test->span);
	struct trace_site at = { .is_pc = false, .pos = source_position(o->src, test->span.off) };
	trace_text_end(&t, o, at, result);
}

static void trace_bytecode_test(void *ctx, uint32_t pc, bool result)
{
	struct eval_output *o = ctx;
	struct trace_text t;
	if (!trace_text_begin(&t))
		return;
	disasm_describe(t.mem, o->prog, pc);
	trace_text_end(&t, o, (struct trace_site){ .is_pc = true, .pc = pc }, result);
}

/* Before evaluation: with --json --trace the object starts with the trace. */
static void begin_output(struct eval_output *o)
{
	if (o->json && o->trace)
		fputs("{\"trace\":[", o->out);
}

static void end_output(struct eval_output *o, const struct ep_decision *d)
{
	if (!o->json) {
		text_decision(o->out, d);
		return;
	}
	fputs(o->trace ? "]," : "{", o->out);
	json_decision(o->out, d);
	fputs("}\n", o->out);
}

/* ---- the two kinds of policy --------------------------------------------------------------- */

static int eval_source(const struct eval_cli *cli, struct eval_output *o)
{
	struct source src;
	if (source_load_file(&src, cli->policy) < 0) {
		fprintf(stderr, "polc: cannot read '%s': %s\n", cli->policy, strerror(errno));
		return EXIT_USAGE;
	}
	struct compilation c;
	struct compile_options opts = { .target = NULL, .warnings_are_errors = false };
	int failed = compile_source(&c, &src, &opts) < 0;
	diag_render(&c.diags, stderr, DIAG_FORMAT_TEXT, false);
	if (failed) {
		compilation_free(&c);
		return EXIT_POLICY;
	}
	struct ep_decision d;
	o->src = &c.src;
	begin_output(o);
	eval_reference(c.policy, &cli->req, &d, o->trace ? trace_source_test : NULL, o);
	end_output(o, &d);
	compilation_free(&c);
	return 0;
}

static int eval_bytecode(const struct eval_cli *cli, struct eval_output *o)
{
	struct bytecode_file f;
	int rc = cli_load_bytecode(cli->policy, cli->trust, cli->ntrust, &f);
	if (rc)
		return rc;
	fprintf(stderr, "polc: %s: %s\n", cli->policy, f.signer);
	struct ep_decision d;
	o->prog = &f.prog;
	begin_output(o);
	ep_evaluate_traced(&f.prog, &cli->req, &d, o->trace ? trace_bytecode_test : NULL, o);
	end_output(o, &d);
	cli_free_bytecode(&f);
	return 0;
}

static bool is_bytecode_path(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcmp(path + n - 4, ".epb") == 0;
}

int eval_command(int argc, char **argv)
{
	struct eval_cli cli = { 0 };
	size_t slots = argc > 0 ? (size_t)argc : 1;
	cli.groups = calloc(slots, sizeof(*cli.groups));
	cli.grants = calloc(slots, sizeof(*cli.grants));
	cli.trust = calloc(slots, sizeof(*cli.trust));
	int rc = EXIT_USAGE;
	if (!cli.groups || !cli.grants || !cli.trust)
		fputs("polc: out of memory\n", stderr);
	else
		rc = parse_eval_args(&cli, argc, argv);
	if (rc < 0) {
		struct eval_output o = { .out = stdout, .json = cli.json, .trace = cli.trace };
		rc = is_bytecode_path(cli.policy) ? eval_bytecode(&cli, &o) : eval_source(&cli, &o);
	}
	free(cli.groups);
	free(cli.grants);
	free(cli.trust);
	return rc;
}
