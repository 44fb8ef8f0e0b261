/*
 * cli.h - what the polc subcommands share (compiler/main.c).
 */
#ifndef POLC_CLI_H
#define POLC_CLI_H

#include "ep.h"

#define EXIT_POLICY 1
#define EXIT_USAGE 2

/* "COMMAND: message" and a pointer to --help on standard error; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, const char *arg);

/* "polc: FILE: message (NAME) at byte N, pc X" on standard error. */
void print_load_error(const char *path, const struct ep_error *err);

/* A compiled policy read from a file and loaded; data must outlive prog. */
struct bytecode_file {
	char *data;
	size_t len;
	struct ep_program prog;
	char signer[160];   /* "signed by key ..., verified with K.pub", "unsigned, not verified ..." */
};

/*
 * Reads and loads an .epb. With trusted public keys (PEM files), only if it
 * is signed by one of them. Returns 0, or the exit code after printing why.
 */
int cli_load_bytecode(const char *path, char *const *trust, size_t ntrust, struct bytecode_file *f);
void cli_free_bytecode(struct bytecode_file *f);

/* polc disasm [--trust KEY.pub]... FILE.epb (compiler/cli.c); argv[0] is "disasm". */
int disasm_command(int argc, char **argv);

/* polc eval POLICY --user U ... (compiler/cli_eval.c); argv[0] is "eval". */
int eval_command(int argc, char **argv);

/* polc verify PROFILE [--ca CA.pem] [--trust KEY.pub]... [--allow-unsigned]
 * (compiler/cli_verify.c); argv[0] is "verify". */
int verify_command(int argc, char **argv);

#endif
