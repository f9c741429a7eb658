/* UTF-8 validation for every string that enters an object tree. */
#include <string.h>

#include "api/object/obj.h"

/* Whether the 8 bytes in @w are all ASCII and none is NUL. */
static bool plain_ascii8(uint64_t w)
{
    const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;

    /* (w - lo) & ~w & hi is non-zero exactly when some byte is 0. */
    return (w & hi) == 0 && ((w - lo) & ~w & hi) == 0;
}

/* Length of the valid multi-byte sequence at @p (lead byte >= 0x80), or 0.
 * Table 3-7 of the Unicode standard: rejects overlong forms, surrogates
 * (ED A0..BF) and code points above U+10FFFF. */
static size_t multibyte(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

bool obj_utf8_check(const char *s, size_t len, size_t *ret_bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        uint64_t w;
        size_t n;

        if (len - i >= 8) {
            memcpy(&w, p + i, 8);
            if (plain_ascii8(w)) {
                i += 8;
                continue;
            }
        }
        if (p[i] != 0 && p[i] < 0x80) {
            i++;
            continue;
        }
        n = p[i] == 0 ? 0 : multibyte(p + i, len - i);
        if (n == 0) {
            if (ret_bad != NULL)
                *ret_bad = i;
            return false;
        }
        i += n;
    }
    return true;
}
