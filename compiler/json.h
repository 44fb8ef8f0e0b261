/*
 * json.h - the little JSON writing polc needs (diagnostics, eval output).
 * Writes only; polc never parses JSON.
 */
#ifndef POLC_JSON_H
#define POLC_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string, escaping control characters. */
void json_write_string(FILE *out, const char *s);

#endif
