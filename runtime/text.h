/*
 * text.h - the string rules libep and polc share: UTF-8 validity and the
 * glob patterns of `matches`.
 */
#ifndef EP_TEXT_H
#define EP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at p, or 0 if invalid or p >= end. */
size_t ep_utf8_sequence_length(const unsigned char *p, const unsigned char *end);
bool ep_utf8_valid(const unsigned char *p, size_t len);

#endif
