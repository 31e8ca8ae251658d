/* utf8.h — is this text UTF-8? (PostgreSQL's rules: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Plain C. */
#ifndef STALLMIG_UTF8_H
#define STALLMIG_UTF8_H

#include <stddef.h>

/* The offset of the first byte that does not start a valid UTF-8 sequence,
 * or len when all of text is valid. */
size_t utf8_invalid_at(const char *text, size_t len);

#endif
