/* utf8.c — UTF-8 validation (see utf8.h). */
#include "utf8.h"

/* Length of the valid sequence at s (at most n bytes), or 0. */
static size_t sequence_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;      /* the second byte's range */
    if (c == 0xE0)
        lo = 0xA0;                           /* overlong */
    else if (c == 0xED)
        hi = 0x9F;                           /* surrogates */
    else if (c == 0xF0)
        lo = 0x90;                           /* overlong */
    else if (c == 0xF4)
        hi = 0x8F;                           /* above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t utf8_invalid_at(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t n = sequence_length(s + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}
