/* Number formatting shared by the JSON and YAML writers. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/internal.h"

size_t obj__fmt_int(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    /* Work on the magnitude as unsigned so INT64_MIN does not overflow. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/* @v in scientific notation with @digits significant digits into @buf;
 * whether it reads back as @v. */
static bool sci_exact(double v, int digits, char *buf)
{
    (void)snprintf(buf, 32, "%.*e", digits - 1, v);
    return strtod(buf, NULL) == v;
}

size_t obj__fmt_float(double v, char *buf)
{
    char sci[32] = "", digits[24] = ""; /* set before use; GCC -O2 cannot tell */
    int lo = 1, hi = 17, exp, nd = 0;
    size_t len = 0;
    const char *p;

    /* The fewest significant digits that read back exactly ("0.1", not
     * "0.10000000000000001"; "5e-324"), as Go and JavaScript print. More
     * digits never stop reading back exactly, so search: 15 digits cover
     * almost every value people write, then narrow down. */
    if (sci_exact(v, 15, sci))
        hi = 15;
    else
        lo = 16;
    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (sci_exact(v, mid, sci))
            hi = mid;
        else
            lo = mid + 1;
    }
    (void)sci_exact(v, lo, sci);
    /* sci is "-d.ddde+XX": split into digits and a decimal exponent. */
    p = sci;
    if (*p == '-')
        buf[len++] = *p++;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    exp = atoi(p + 1);
    if (exp < -6 || exp >= 21) {
        /* Far from 1: keep scientific notation, "1e+300", "5e-324". */
        buf[len++] = digits[0];
        if (nd > 1) {
            buf[len++] = '.';
            memcpy(buf + len, digits + 1, (size_t)nd - 1);
            len += (size_t)nd - 1;
        }
        len += (size_t)snprintf(buf + len, 8, "e%s%d", exp < 0 ? "-" : "+",
                                abs(exp));
        return len;
    }
    /* Fixed notation, always with a fraction so every reader takes the
     * text back as a float, not an int: "100.0", "0.001", "-0.0". */
    if (exp < 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = -1; i > exp; i--)
            buf[len++] = '0';
        memcpy(buf + len, digits, (size_t)nd);
        len += (size_t)nd;
    } else {
        for (int i = 0; i <= exp; i++)
            buf[len++] = i < nd ? digits[i] : '0';
        buf[len++] = '.';
        if (nd > exp + 1) {
            memcpy(buf + len, digits + exp + 1, (size_t)(nd - exp - 1));
            len += (size_t)(nd - exp - 1);
        } else {
            buf[len++] = '0';
        }
    }
    buf[len] = '\0';
    return len;
}
