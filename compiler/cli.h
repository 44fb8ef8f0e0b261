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

/* polc disasm FILE.epb (compiler/cli.c); argv[0] is "disasm". */
int disasm_command(int argc, char **argv);

/* polc eval POLICY --user U ... (compiler/cli_eval.c); argv[0] is "eval". */
int eval_command(int argc, char **argv);

#endif
