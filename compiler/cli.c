/*
 * cli.c - what polc's subcommands share: usage errors and load errors,
 * worded the same way everywhere. The `disasm` subcommand lives here too,
 * being a few lines around compiler/disasm.c.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "sign_bytecode.h"
#include "source.h"

int cli_usage_error(const char *command, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", command);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", command);
	return EXIT_USAGE;
}

void print_load_error(const char *path, const struct ep_error *err)
{
	fprintf(stderr, "polc: %s: %s (%s) at byte %" PRIu32, path, ep_status_message(err->status),
	        ep_status_name(err->status), err->offset);
	if (err->has_pc)
		fprintf(stderr, ", pc %04" PRIx32, err->pc);
	fputc('\n', stderr);
}

/* Who signed a loaded file, and whether that was checked. */
static void describe_signer(struct bytecode_file *f, const char *trusted_with)
{
	uint8_t id[EP_KEY_ID_SIZE];
	char hex[2 * EP_KEY_ID_SIZE + 1];
	if (ep_signer_id(f->data, f->len, id, NULL) < 0) {
		snprintf(f->signer, sizeof(f->signer), "unsigned, not verified (no --trust given)");
		return;
	}
	bytecode_format_key_id(id, hex);
	if (trusted_with)
		snprintf(f->signer, sizeof(f->signer), "signed by key %s, verified with %s", hex, trusted_with);
	else
		snprintf(f->signer, sizeof(f->signer), "signed by key %s, not verified (no --trust given)", hex);
}

/* Loads with the trusted keys; returns the index of the one that signed, or -1. */
static int load_trusted(struct bytecode_file *f, const char *path, char *const *trust, size_t ntrust,
                        int *rc)
{
	struct ep_error err;
	for (size_t i = 0; i < ntrust; i++) {
		struct ep_public_key key;
		if (bytecode_read_public_key(trust[i], &key) < 0) {
			*rc = EXIT_USAGE;
			return -1;
		}
		if (ep_load_signed(&f->prog, f->data, f->len, &key, 1, &err) == 0)
			return (int)i;
		if (err.status != EP_UNKNOWN_KEY || i + 1 == ntrust) {
			print_load_error(path, &err);
			*rc = EXIT_POLICY;
			return -1;
		}
	}
	return -1;
}

int cli_load_bytecode(const char *path, char *const *trust, size_t ntrust, struct bytecode_file *f)
{
	struct ep_error err;
	int rc = 0;
	memset(f, 0, sizeof(*f));
	if (read_file(path, &f->data, &f->len) < 0) {
		fprintf(stderr, "polc: cannot read '%s': %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (ntrust) {
		int signer = load_trusted(f, path, trust, ntrust, &rc);
		if (signer >= 0)
			describe_signer(f, trust[signer]);
	} else if (ep_load(&f->prog, f->data, f->len, &err) < 0) {
		print_load_error(path, &err);
		rc = EXIT_POLICY;
	} else {
		describe_signer(f, NULL);
	}
	if (rc)
		cli_free_bytecode(f);
	return rc;
}

void cli_free_bytecode(struct bytecode_file *f)
{
	free(f->data);
	f->data = NULL;
}

/* polc disasm [--trust KEY.pub]... FILE.epb: verify, then print the program. */
int disasm_command(int argc, char **argv)
{
	static const char usage[] = "usage: polc disasm [--trust KEY.pub]... FILE.epb";
	char **trust = calloc((size_t)argc + 1, sizeof(*trust));
	size_t ntrust = 0;
	const char *path = NULL;
	int rc = 0;

	for (int i = 1; trust && i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("%s\n\nVerifies FILE.epb and prints its code and rule table; with --trust,\n"
			       "only if it is signed by one of those keys.\n", usage);
			free(trust);
			return 0;
		}
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
			trust[ntrust++] = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			rc = cli_usage_error("polc disasm", "%s", usage);
	}
	if (!trust) {
		fputs("polc: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	if (rc == 0 && !path)
		rc = cli_usage_error("polc disasm", "%s", usage);
	struct bytecode_file f;
	if (rc == 0 && (rc = cli_load_bytecode(path, trust, ntrust, &f)) == 0) {
		disasm_print(stdout, &f.prog, f.signer);
		cli_free_bytecode(&f);
	}
	free(trust);
	return rc;
}
