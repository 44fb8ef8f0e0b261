/*
 * passphrase.h - passphrases for encrypted private keys and PKCS#12 files.
 *
 * A passphrase never comes from the command line itself. Its source is
 * "env:VAR" (the variable's value), "file:PATH" (the file's first line,
 * without its line end) or, when none is given, a prompt on the terminal
 * with echo turned off, only when standard input is a terminal. It is
 * fetched only when a key turns out to need it, held in one buffer, and
 * wiped when it is cleared.
 */
#ifndef POLC_PASSPHRASE_H
#define POLC_PASSPHRASE_H

#include <stdbool.h>

struct passphrase {
	const char *source;   /* "env:VAR", "file:PATH", or NULL for a prompt */
	const char *what;     /* the file it unlocks, for the prompt and messages */
	char *value;          /* once fetched; wiped and freed by passphrase_clear */
	bool asked;           /* a passphrase was needed (the key is encrypted) */
	bool failed;          /* it could not be had; a message was printed */
};

/* True if source has the form env:VAR or file:PATH. */
bool passphrase_source_valid(const char *source);

/* Fetches the passphrase once (later calls return the same): 0, or -1
 * after printing "polc: ..." on standard error. */
int passphrase_get(struct passphrase *pp);

/* An OpenSSL pem_password_cb; u is a struct passphrase. */
int passphrase_pem_cb(char *buf, int size, int rwflag, void *u);

/* Wipes and frees the value. */
void passphrase_clear(struct passphrase *pp);

/* Warns on standard error if the file at path (a private key, a PKCS#12
 * identity, a passphrase file: `what`) is open to group or others. */
void secret_file_check(const char *path, const char *what);

#endif
