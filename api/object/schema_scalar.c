/* Syntax checks of the string-encoded scalars (quantity, base64, time)
 * and the words used for types in messages. */
#include <stdio.h>
#include <string.h>

#include "api/object/schema_internal.h"

static const char *scalar_words(enum obj_stype_kind k)
{
    switch (k) {
    case OBJ_ST_STRING:
        return "a string";
    case OBJ_ST_INT32:
        return "a 32-bit integer";
    case OBJ_ST_INT64:
        return "an integer";
    case OBJ_ST_BOOL:
        return "a boolean";
    case OBJ_ST_DOUBLE:
        return "a number";
    case OBJ_ST_BYTES:
        return "a base64 string";
    case OBJ_ST_QUANTITY:
        return "a quantity";
    case OBJ_ST_INTSTR:
        return "an integer or a string";
    case OBJ_ST_TIME:
    case OBJ_ST_MICROTIME:
        return "an RFC 3339 time";
    case OBJ_ST_DURATION:
        return "a duration string";
    case OBJ_ST_ANY:
        return "any value";
    default:
        return "an object";
    }
}

const char *obj__stype_describe(const struct obj_stype *t)
{
    static __thread char buf[160];

    switch (t->kind) {
    case OBJ_ST_STRUCT:
        snprintf(buf, sizeof buf, "an object (%s)", t->st->name);
        return buf;
    case OBJ_ST_LIST:
    case OBJ_ST_MAP: {
        const struct obj_stype *e = t->elem;
        const char *what = e->kind == OBJ_ST_STRUCT ? e->st->name
                           : e->kind == OBJ_ST_LIST ? "arrays"
                           : e->kind == OBJ_ST_MAP  ? "maps"
                                                    : scalar_words(e->kind);
        snprintf(buf, sizeof buf, "%s of %s",
                 t->kind == OBJ_ST_LIST ? "an array" : "a map", what);
        return buf;
    }
    default:
        return scalar_words(t->kind);
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool obj__quantity_ok(const char *s, size_t len)
{
    static const char *const suffixes[] = {"",   "n",  "u",  "m",  "k",  "M",
                                           "G",  "T",  "P",  "E",  "Ki", "Mi",
                                           "Gi", "Ti", "Pi", "Ei", NULL};
    size_t i = 0, digits = 0, dots = 0;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < len && (is_digit(s[i]) || s[i] == '.'); i++) {
        digits += is_digit(s[i]);
        dots += s[i] == '.';
    }
    if (digits == 0 || dots > 1)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E') && i + 1 < len &&
        (is_digit(s[i + 1]) || s[i + 1] == '+' || s[i + 1] == '-')) {
        size_t j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-');
        if (j == len)
            return false;
        for (; j < len; j++)
            if (!is_digit(s[j]))
                return false;
        return true;
    }
    for (size_t k = 0; suffixes[k] != NULL; k++)
        if (strlen(suffixes[k]) == len - i &&
            memcmp(suffixes[k], s + i, len - i) == 0)
            return true;
    return false;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
           c == '+' || c == '/';
}

bool obj__base64_ok(const char *s, size_t len)
{
    size_t pad = 0;

    /* Go's decoder skips \r and \n; kubectl never sends them. */
    if (len % 4 != 0)
        return false;
    if (len > 0 && s[len - 1] == '=')
        pad++;
    if (len > 1 && s[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (!is_b64(s[i]))
            return false;
    return true;
}

/* @n digits at @s. */
static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

bool obj__rfc3339_ok(const char *s, size_t len)
{
    size_t i = 19;

    if (len < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
        s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
        s[16] != ':' || !digits(s + 17, 2))
        return false;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i == len - 1 && (s[i] == 'Z' || s[i] == 'z'))
        return true;
    return i + 6 == len && (s[i] == '+' || s[i] == '-') &&
           digits(s + i + 1, 2) && s[i + 3] == ':' && digits(s + i + 4, 2);
}
