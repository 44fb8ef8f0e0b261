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

/* polc disasm FILE.epb: verify, then print the program. */
int disasm_command(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: polc disasm FILE.epb\n\nVerifies FILE.epb and prints its code and rule table.");
		return 0;
	}
	if (argc != 2)
		return cli_usage_error("polc disasm", "%s", "usage: polc disasm FILE.epb");
	char *data;
	size_t len;
	if (read_file(argv[1], &data, &len) < 0) {
		fprintf(stderr, "polc: cannot read '%s': %s\n", argv[1], strerror(errno));
		return EXIT_USAGE;
	}
	struct ep_program prog;
	struct ep_error err;
	int rc = 0;
	if (ep_load(&prog, data, len, &err) < 0) {
		print_load_error(argv[1], &err);
		rc = EXIT_POLICY;
	} else {
		disasm_print(stdout, &prog, prog.section[EP_SECTION_SIGNATURE].size
		                                ? "has a signature section that polc does not check"
		                                : NULL);
	}
	free(data);
	return rc;
}
