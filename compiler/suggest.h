/*
 * suggest.h - "did you mean" for misspelt words.
 */
#ifndef POLC_SUGGEST_H
#define POLC_SUGGEST_H

#include <stddef.h>

/* Optimal-string-alignment edit distance between two strings. */
size_t edit_distance(const char *a, const char *b);

/*
 * The candidate closest to word, or NULL when none is close enough to be a
 * plausible typo (distance at most 2, and less than half the word's length).
 */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

#endif
