/* How a plain YAML scalar is typed: the rules of go-yaml v2 (YAML 1.1),
 * which Kubernetes (sigs.k8s.io/yaml) applies before converting to JSON.
 * The decoder uses them to type scalars and the encoder to decide which
 * strings must be quoted. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/internal.h"
#include "api/object/yaml_internal.h"
#include "lib/mem.h"

/* Words with a fixed meaning, in the capitalisations go-yaml accepts. */
static const struct {
    const char *word;  /* The scalar text. */
    enum obj__yres res; /* Its type. */
    bool b;            /* Value of a boolean. */
} words[] = {
    {"", OBJ__YRES_NULL, 0},       {"~", OBJ__YRES_NULL, 0},
    {"null", OBJ__YRES_NULL, 0},   {"Null", OBJ__YRES_NULL, 0},
    {"NULL", OBJ__YRES_NULL, 0},   {"y", OBJ__YRES_BOOL, 1},
    {"Y", OBJ__YRES_BOOL, 1},      {"yes", OBJ__YRES_BOOL, 1},
    {"Yes", OBJ__YRES_BOOL, 1},    {"YES", OBJ__YRES_BOOL, 1},
    {"true", OBJ__YRES_BOOL, 1},   {"True", OBJ__YRES_BOOL, 1},
    {"TRUE", OBJ__YRES_BOOL, 1},   {"on", OBJ__YRES_BOOL, 1},
    {"On", OBJ__YRES_BOOL, 1},     {"ON", OBJ__YRES_BOOL, 1},
    {"n", OBJ__YRES_BOOL, 0},      {"N", OBJ__YRES_BOOL, 0},
    {"no", OBJ__YRES_BOOL, 0},     {"No", OBJ__YRES_BOOL, 0},
    {"NO", OBJ__YRES_BOOL, 0},     {"false", OBJ__YRES_BOOL, 0},
    {"False", OBJ__YRES_BOOL, 0},  {"FALSE", OBJ__YRES_BOOL, 0},
    {"off", OBJ__YRES_BOOL, 0},    {"Off", OBJ__YRES_BOOL, 0},
    {"OFF", OBJ__YRES_BOOL, 0},    {".nan", OBJ__YRES_RANGE, 0},
    {".NaN", OBJ__YRES_RANGE, 0},  {".NAN", OBJ__YRES_RANGE, 0},
    {".inf", OBJ__YRES_RANGE, 0},  {".Inf", OBJ__YRES_RANGE, 0},
    {".INF", OBJ__YRES_RANGE, 0},  {"+.inf", OBJ__YRES_RANGE, 0},
    {"+.Inf", OBJ__YRES_RANGE, 0}, {"+.INF", OBJ__YRES_RANGE, 0},
    {"-.inf", OBJ__YRES_RANGE, 0}, {"-.Inf", OBJ__YRES_RANGE, 0},
    {"-.INF", OBJ__YRES_RANGE, 0},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Value of digit @c in @base, or -1. */
static int digit_value(char c, unsigned base)
{
    int v = is_digit(c)               ? c - '0'
            : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                      : -1;

    return v >= 0 && (unsigned)v < base ? v : -1;
}

/* Go's strconv.ParseInt(s, 0, 64) on @s (underscores already removed):
 * sign, then 0x/0o/0b or a leading 0 for octal. Returns 0 and *@ret; 1
 * when the syntax is right but the value does not fit int64; -1 when it is
 * not an integer. */
static int parse_int(const char *s, size_t len, int64_t *ret)
{
    bool neg = false;
    unsigned base = 10;
    uint64_t v = 0, limit;
    size_t i = 0;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (len - i >= 2 && s[i] == '0') {
        char p = (char)(s[i + 1] | 0x20);

        if (p == 'x' || p == 'o' || p == 'b') {
            base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
            i += 2;
        } else {
            base = 8;
            i++;
        }
    }
    if (i == len)
        return base == 8 && i > 0 && s[i - 1] == '0' ? (*ret = 0, 0) : -1;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (bool over = false; i <= len; i++) {
        int d;

        if (i == len) {
            if (over)
                return 1;
            *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
            return 0;
        }
        if ((d = digit_value(s[i], base)) < 0)
            return -1;
        if (v > (limit - (uint64_t)d) / base)
            over = true;
        else
            v = v * base + (uint64_t)d;
    }
    return -1;
}

/* go-yaml's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s, size_t len)
{
    size_t i = 0, d = 0;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++)
            d++;
        if (d == 0)
            return false;
    } else {
        for (; i < len && is_digit(s[i]); i++)
            d++;
        if (d == 0)
            return false;
        if (i < len && s[i] == '.')
            for (i++; i < len && is_digit(s[i]); i++)
                ;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = 0; i < len && is_digit(s[i]); i++)
            d++;
        if (d == 0)
            return false;
    }
    return i == len;
}

/* strtod on @len bytes (a float_syntax() match, so short enough to copy
 * unless absurd). */
static enum obj__yres parse_float(const char *s, size_t len, double *ret)
{
    char small[64], *t = small;
    double f;

    if (len >= sizeof small && (t = mem_malloc(len + 1)) == NULL)
        return OBJ__YRES_NOMEM;
    memcpy(t, s, len);
    t[len] = '\0';
    f = strtod(t, NULL);
    if (t != small)
        mem_free(t);
    if (!isfinite(f))
        return OBJ__YRES_STR; /* go-yaml: ParseFloat fails, so a string. */
    *ret = f;
    return OBJ__YRES_FLOAT;
}

/* Whether the decimal digits @s (no sign, no '_') fit uint64. */
static bool fits_uint64(const char *s, size_t len)
{
    uint64_t v = 0;

    if (s[0] == '+')
        s++, len--;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]) || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return len > 0;
}

enum obj__yres obj__yaml_resolve(const char *s, size_t len, bool *ret_b,
                                 int64_t *ret_i, double *ret_f)
{
    char small[64], *plain = small;
    enum obj__yres res = OBJ__YRES_STR;
    size_t n = 0;
    int r;

    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k].word) == len &&
            memcmp(words[k].word, s, len) == 0) {
            *ret_b = words[k].b;
            return words[k].res;
        }
    if (s[0] == '.')
        return len > 1 && is_digit(s[1]) && float_syntax(s, len)
                   ? parse_float(s, len, ret_f)
                   : OBJ__YRES_STR;
    if (!is_digit(s[0]) && s[0] != '+' && s[0] != '-')
        return OBJ__YRES_STR;
    /* Integers and floats may carry '_' separators: drop them. */
    if (len >= sizeof small && (plain = mem_malloc(len + 1)) == NULL)
        return OBJ__YRES_NOMEM;
    for (size_t k = 0; k < len; k++)
        if (s[k] != '_')
            plain[n++] = s[k];
    r = parse_int(plain, n, ret_i);
    if (r == 0)
        res = OBJ__YRES_INT;
    else if (r > 0 && (!float_syntax(plain, n) || fits_uint64(plain, n)))
        /* go-yaml keeps these integers (uint64, or a 0x/0o/0b form),
         * which JSON could carry but int64 cannot. */
        res = OBJ__YRES_RANGE;
    else if (float_syntax(plain, n))
        /* Decimal integers beyond uint64 become floats, as in go-yaml. */
        res = parse_float(plain, n, ret_f);
    if (plain != small)
        mem_free(plain);
    return res;
}

/* 4 digits, '-', 1-2 digits, '-', 1-2 digits at the start: what go-yaml
 * treats as a timestamp (and kubectl prints quoted). */
static bool timestamp_like(const char *s, size_t len)
{
    size_t i = 0, d;

    for (; i < len && i < 4 && is_digit(s[i]); i++)
        ;
    if (i != 4 || i >= len || s[i] != '-')
        return false;
    for (int part = 0; part < 2; part++) {
        for (d = 0, i++; i < len && is_digit(s[i]) && d < 2; i++)
            d++;
        if (d == 0 || (part == 0 && (i >= len || s[i] != '-')))
            return false;
    }
    return true;
}

bool obj__yaml_needs_quotes(const char *s, size_t len)
{
    bool b;
    int64_t i;
    double f;

    if (len == 0 || timestamp_like(s, len) ||
        (len == 2 && memcmp(s, "<<", 2) == 0))
        return true;
    /* Numbers too big for us, base-60 forms like 1:20 and anything else
     * that starts like a number: quote rather than guess how the reader
     * will take it. */
    if (is_digit(s[0]) || ((s[0] == '-' || s[0] == '+' || s[0] == '.') &&
                           len > 1 && (is_digit(s[1]) || s[1] == '.')))
        if (float_syntax(s, len) || memchr(s, ':', len) != NULL ||
            memchr(s, '_', len) != NULL)
            return true;
    return obj__yaml_resolve(s, len, &b, &i, &f) != OBJ__YRES_STR;
}
