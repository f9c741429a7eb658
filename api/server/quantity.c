/* Kubernetes quantities as exact numbers (objects.h: srv_qty). */
#include <stdio.h>
#include <string.h>

#include "api/server/objects.h"

#define NANO 1000000000LL
/* Past this (in nano units) a quantity is refused rather than wrapped:
 * 10^30, far above any resource amount (an exbibyte is 1.2 * 10^27). */
#define LIMIT ((srv_qty)1000000000000000LL * (srv_qty)1000000000000000LL)

static bool mul(srv_qty *v, srv_qty by)
{
    if (*v > LIMIT / by)
        return false;
    *v *= by;
    return true;
}

/* Scale @v by 10^@exp, rounding a remainder up (as Kubernetes rounds
 * quantities up to nano precision). */
static bool scale10(srv_qty *v, int exp)
{
    for (; exp > 0; exp--)
        if (!mul(v, 10))
            return false;
    for (; exp < 0; exp++)
        *v = *v / 10 + (*v % 10 != 0);
    return true;
}

bool srv_qty_parse(const char *s, srv_qty *out)
{
    static const struct {
        const char *suffix;
        int exp10;        /* decimal suffixes */
        int pow1024;      /* binary suffixes */
    } suffixes[] = {
        {"Ki", 0, 1}, {"Mi", 0, 2}, {"Gi", 0, 3}, {"Ti", 0, 4}, {"Pi", 0, 5},
        {"Ei", 0, 6}, {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"", 0, 0},
        {"k", 3, 0},  {"M", 6, 0},  {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0},
        {"E", 18, 0},
    };
    const char *p = s;
    srv_qty v = 0;
    int frac = 0, digits = 0;
    bool neg = false, dot = false;

    if (s == NULL)
        return false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        digits++;
        if (!mul(&v, 10))
            return false;
        v += *p - '0';
        frac += dot;
    }
    if (digits == 0)
        return false;
    /* nano units: v * 10^9 / 10^frac */
    if (!scale10(&v, 9 - frac))
        return false;
    if ((*p == 'e' || *p == 'E') && p[1] != '\0' && p[1] != 'i') {
        char *end;
        long x = strtol(p + 1, &end, 10);
        if (*end != '\0' || end == p + 1 || x > 40 || x < -40 ||
            !scale10(&v, (int)x))
            return false;
        *out = neg ? -v : v;
        return true;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strcmp(p, suffixes[i].suffix) != 0)
            continue;
        for (int k = 0; k < suffixes[i].pow1024; k++)
            if (!mul(&v, 1024))
                return false;
        if (!scale10(&v, suffixes[i].exp10))
            return false;
        *out = neg ? -v : v;
        return true;
    }
    return false;
}

void srv_qty_format(srv_qty v, char *out, size_t size)
{
    static const struct {
        srv_qty unit;
        const char *suffix;
    } units[] = {{NANO, ""}, {1000000, "m"}, {1000, "u"}, {1, "n"}};
    const char *sign = v < 0 ? "-" : "";

    if (v < 0)
        v = -v;
    for (size_t i = 0; i < 4; i++)
        if (v % units[i].unit == 0) {
            srv_qty n = v / units[i].unit;
            /* up to 10^21 here: two halves keep printf to long long */
            if (n >= (srv_qty)1000000000000000000LL)
                (void)snprintf(out, size, "%s%lld%018lld%s", sign,
                               (long long)(n / 1000000000000000000LL),
                               (long long)(n % 1000000000000000000LL),
                               units[i].suffix);
            else
                (void)snprintf(out, size, "%s%lld%s", sign, (long long)n,
                               units[i].suffix);
            return;
        }
}
