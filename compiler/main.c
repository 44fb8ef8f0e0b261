/*
 * main.c - the polc command line: options, files and exit codes.
 *
 * Exit codes: 0 success (warnings allowed), 1 the policy has errors,
 * 2 usage, I/O or signing error. On any error no output file is written and an
 * existing one is left untouched. All policy logic lives in the pipeline
 * (compile.c); this file only reads, dispatches and writes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compile.h"
#include "disasm.h"
#include "emit_c.h"
#include "sign_bytecode.h"
#include "output.h"
#include "profile.h"
#include "sign_profile.h"

#ifndef POLC_VERSION
#define POLC_VERSION "0.1.0"
#endif

struct cli {
	bool check_only;
	const char *input;
	const char *output;
	const char *bytecode;
	const char *native_c;
	const char *bytecode_key;   /* --bytecode-key: sign the .epb (and its copy in the profile) */
	const struct target *target;
	enum payload_style style;
	enum diag_format diag_format;
	bool werror;
	struct sign_options sign;   /* --sign/--key/--chain/--p12/--pass: the profile's CMS signature */
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: polc POLICY.ep [-o OUT.mobileconfig] [options]\n"
	        "       polc check POLICY.ep [options]\n"
	        "       polc disasm [--trust KEY.pub]... FILE.epb\n"
	        "       polc keygen --out NAME\n"
	        "       polc eval POLICY.ep|FILE.epb --user USER [options] (see polc eval --help)\n"
	        "       polc verify PROFILE.mobileconfig [--ca CA.pem] [--trust KEY.pub]... [--allow-unsigned]\n"
	        "\n"
	        "  -o FILE                  write the profile to FILE ('-' for standard output;\n"
	        "                           default: POLICY.mobileconfig)\n"
	        "  --bytecode FILE.epb      also write the compiled policy for the runtime\n"
	        "  --emit-c FILE.c          also write the policy as C (the benchmarks' baseline)\n"
	        "  --bytecode-key KEY.key   sign the bytecode with an Ed25519 key from polc keygen\n"
	        "  --target NAME            vendor settings to emit: %s\n"
	        "                           (default jamf-connect)\n"
	        "  --payload-style STYLE    managed (default, as Jamf Pro writes) or inline\n"
	        "  --diagnostics=FORMAT     text (default) or json, on standard error\n"
	        SIGN_USAGE
	        "  -Werror                  treat warnings as errors\n"
	        "  -h, --help               show this help\n"
	        "  -V, --version            show the version\n",
	        target_names());
}


static char *default_output_path(const char *input)
{
	size_t n = strlen(input);
	if (n > 3 && strcmp(input + n - 3, ".ep") == 0)
		n -= 3;
	char *out = malloc(n + sizeof(".mobileconfig"));
	if (out) {
		memcpy(out, input, n);
		memcpy(out + n, ".mobileconfig", sizeof(".mobileconfig"));
	}
	return out;
}

/* Returns -1 on success, else the exit code to use. */
static int parse_args(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TARGET = 256, OPT_STYLE, OPT_DIAGNOSTICS, OPT_BYTECODE, OPT_EMIT_C, OPT_BYTECODE_KEY,
	       OPT_SIGN = 512 /* to OPT_SIGN + SIGN_OPT_COUNT - 1 */ };
	static const struct option longopts[] = {
		{ "bytecode", required_argument, NULL, OPT_BYTECODE },
		{ "emit-c", required_argument, NULL, OPT_EMIT_C },
		{ "bytecode-key", required_argument, NULL, OPT_BYTECODE_KEY },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "payload-style", required_argument, NULL, OPT_STYLE },
		{ "diagnostics", required_argument, NULL, OPT_DIAGNOSTICS },
		SIGN_LONGOPTS(OPT_SIGN),
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cli->target = &target_jamf_connect;
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		cli->check_only = true;
		argv++;
		argc--;
	}
	while ((opt = getopt_long(argc, argv, "o:W:hV", longopts, NULL)) != -1) {
		if (opt >= OPT_SIGN && opt < OPT_SIGN + SIGN_OPT_COUNT) {
			if (sign_option_set(&cli->sign, opt - OPT_SIGN, optarg) != 0)
				return EXIT_USAGE;
			continue;
		}
		switch (opt) {
		case 'o':
			cli->output = optarg;
			break;
		case 'W':
			if (strcmp(optarg, "error") != 0)
				return cli_usage_error("polc", "unknown option '-W%s'", optarg);
			cli->werror = true;
			break;
		case OPT_BYTECODE:
			cli->bytecode = optarg;
			break;
		case OPT_EMIT_C:
			cli->native_c = optarg;
			break;
		case OPT_BYTECODE_KEY:
			cli->bytecode_key = optarg;
			break;
		case OPT_TARGET:
			cli->target = target_find(optarg);
			if (!cli->target)
				return cli_usage_error("polc", "unknown target '%s'", optarg);
			break;
		case OPT_STYLE:
			if (strcmp(optarg, "managed") == 0)
				cli->style = PAYLOAD_MANAGED;
			else if (strcmp(optarg, "inline") == 0)
				cli->style = PAYLOAD_INLINE;
			else
				return cli_usage_error("polc", "unknown payload style '%s' (managed or inline)", optarg);
			break;
		case OPT_DIAGNOSTICS:
			if (strcmp(optarg, "text") == 0)
				cli->diag_format = DIAG_FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cli->diag_format = DIAG_FORMAT_JSON;
			else
				return cli_usage_error("polc", "unknown diagnostics format '%s' (text or json)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("polc %s\n", POLC_VERSION);
			return 0;
		default:
			fputs("Try 'polc --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("polc", "%s", optind >= argc ? "no policy file given" : "more than one policy file given");
	cli->input = argv[optind];
	if (cli->check_only && (cli->output || cli->bytecode || cli->native_c || cli->bytecode_key))
		return cli_usage_error("polc", "%s", "'polc check' writes nothing; -o, --bytecode and --emit-c are not allowed");
	if (cli->check_only && sign_options_given(&cli->sign))
		return cli_usage_error("polc", "%s", "'polc check' signs nothing; --sign, --key, --chain, --p12 and --pass are not allowed");
	if (sign_options_check(&cli->sign) != 0)
		return EXIT_USAGE;
	return -1;
}


/* Diagnostics go out in one buffered burst: stderr is unbuffered, and a
 * policy with thousands of warnings would otherwise cost a write per byte. */
static void render_diagnostics(const struct diag_list *dl, enum diag_format fmt, bool colour)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		diag_render(dl, stderr, fmt, colour);
		return;
	}
	diag_render(dl, mem, fmt, colour);
	if (fclose(mem) == 0)
		fwrite(text, 1, len, stderr);
	free(text);
}

static bool use_colour(void)
{
	const char *no = getenv("NO_COLOR");
	return !(no && *no) && isatty(STDERR_FILENO);
}

static int write_outputs(const struct cli *cli, const struct compilation *c)
{
	struct profile_options opts = { cli->target, cli->style, c->bytecode, c->bytecode_len };
	struct output_file files[3];
	size_t n = 0;
	char *xml, *path = NULL;
	unsigned char *native = NULL, *der = NULL;
	size_t len, native_len = 0, der_len = 0;
	const char *dest = cli->output;

	if (!dest)
		dest = path = strcmp(cli->input, "-") == 0 ? NULL : default_output_path(cli->input);
	if (!dest)
		dest = "-";
	if (profile_build_xml(c->policy, &opts, &xml, &len) < 0) {
		fprintf(stderr, "polc: could not build the profile\n");
		free(path);
		return EXIT_USAGE;
	}
	if ((cli->sign.cert || cli->sign.p12) && sign_profile(&cli->sign, xml, len, &der, &der_len) < 0) {
		free(xml);
		free(path);
		return EXIT_USAGE;
	}
	if (cli->bytecode)
		files[n++] = (struct output_file){ cli->bytecode, c->bytecode, c->bytecode_len, 0644 };
	if (cli->native_c) {
		emit_c_source(c->policy, &native, &native_len);
		files[n++] = (struct output_file){ cli->native_c, native, native_len, 0644 };
	}
	if (der)
		files[n++] = (struct output_file){ dest, der, der_len, 0644 };
	else
		files[n++] = (struct output_file){ dest, xml, len, 0644 };
	int rc = 0;
	const char *failed = dest;
	if (output_write_all(files, n, &failed) < 0) {
		fprintf(stderr, "polc: cannot write '%s': %s\n", failed, strerror(errno));
		rc = EXIT_USAGE;
	}
	free(xml);
	free(der);
	free(native);
	free(path);
	return rc;
}


/* Signs the bytecode first, so that the copy inside the profile is signed too. */
static int sign_and_write(const struct cli *cli, struct compilation *c)
{
	if (cli->bytecode_key && bytecode_sign(cli->bytecode_key, &c->bytecode, &c->bytecode_len) < 0)
		return EXIT_USAGE;
	return write_outputs(cli, c);
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	if (argc > 1 && strcmp(argv[1], "disasm") == 0)
		return disasm_command(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return keygen_command(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "eval") == 0)
		return eval_command(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return verify_command(argc - 1, argv + 1);
	int rc = parse_args(&cli, argc, argv);
	if (rc >= 0)
		return rc;

	struct source src;
	if (source_load_file(&src, cli.input) < 0) {
		fprintf(stderr, "polc: cannot read '%s': %s\n", cli.input, strerror(errno));
		return EXIT_USAGE;
	}
	struct compilation c;
	struct compile_options opts = { cli.target, cli.werror };
	int failed = compile_source(&c, &src, &opts) < 0;
	render_diagnostics(&c.diags, cli.diag_format, cli.diag_format == DIAG_FORMAT_TEXT && use_colour());
	if (failed)
		rc = EXIT_POLICY;
	else if (cli.check_only)
		rc = 0;
	else
		rc = sign_and_write(&cli, &c);
	compilation_free(&c);
	return rc;
}
