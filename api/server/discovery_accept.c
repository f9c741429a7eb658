/* Accept header parsing: a comma-separated list of media ranges, each
 * "type/subtype" followed by ";name=value" parameters (values may be
 * quoted strings). Lenient like Go's parsers: a malformed range is skipped,
 * never an error for the whole header. */
#include <string.h>

#include "api/server/discovery_accept.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Characters of an RFC 9110 token. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Step over @c at *@p; false (and no step) when something else is
 * there, the terminating NUL included. */
static bool eat(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Copy a token at *@p into @out (lower-cased if @fold); false when empty
 * or too long. */
static bool take_token(const char **p, char *out, bool fold)
{
    size_t n = 0;

    while (is_tchar(**p)) {
        if (n + 1 >= SRV_ACCEPT_TOKEN_MAX)
            return false;
        out[n++] = fold ? lower(**p) : **p;
        (*p)++;
    }
    out[n] = '\0';
    return n > 0;
}

/* Copy a quoted string at *@p (after the opening quote was seen) into
 * @out, undoing backslash escapes. */
static bool take_quoted(const char **p, char *out)
{
    size_t n = 0;

    for ((*p)++; **p != '"'; (*p)++) {
        if (**p == '\\' && (*p)[1] != '\0')
            (*p)++;
        if (**p == '\0' || n + 1 >= SRV_ACCEPT_TOKEN_MAX)
            return false;
        out[n++] = **p;
    }
    (*p)++;
    out[n] = '\0';
    return true;
}

/* A q value: "0", "1", "0.xyz", "1.000" (RFC 9110 12.4.2), x 1000. */
static bool parse_q(const char *s, unsigned *ret)
{
    unsigned v, scale = 100;

    if (s[0] != '0' && s[0] != '1')
        return false;
    v = (unsigned)(s[0] - '0') * 1000;
    if (s[1] == '\0')
        goto done;
    if (s[1] != '.')
        return false;
    for (s += 2; *s != '\0'; s++, scale /= 10) {
        if (*s < '0' || *s > '9' || scale == 0)
            return false;
        v += (unsigned)(*s - '0') * scale;
    }
done:
    if (v > 1000)
        return false;
    *ret = v;
    return true;
}

/* Store parameter @name=@value where it belongs; unknown ones are
 * ignored (charset, pretty, profile...). */
static bool set_param(struct srv_media_range *m,
                      const char *name,
                      const char *value)
{
    char *dst = strcmp(name, "g") == 0    ? m->group
                : strcmp(name, "v") == 0  ? m->version
                : strcmp(name, "as") == 0 ? m->as
                                          : NULL;

    if (strcmp(name, "q") == 0)
        return parse_q(value, &m->q);
    if (dst != NULL)
        memcpy(dst, value, strlen(value) + 1);
    return true;
}

/* Parse ";name=value" parameters at *@p up to the end of the range. */
static bool parse_params(const char **p, struct srv_media_range *m)
{
    char name[SRV_ACCEPT_TOKEN_MAX], value[SRV_ACCEPT_TOKEN_MAX];

    for (;;) {
        while (is_ows(**p))
            (*p)++;
        if (**p != ';')
            return **p == ',' || **p == '\0';
        (*p)++;
        while (is_ows(**p))
            (*p)++;
        if (!take_token(p, name, true) || !eat(p, '='))
            return false;
        if (**p == '"' ? !take_quoted(p, value) : !take_token(p, value, false))
            return false;
        if (!set_param(m, name, value))
            return false;
    }
}

/* Parse one range at *@p into @m; on return *@p is at the next ',' or the
 * end, whether the range was good or not. */
static bool parse_range(const char **p, struct srv_media_range *m)
{
    bool ok;

    memset(m, 0, sizeof *m);
    m->q = 1000;
    while (is_ows(**p))
        (*p)++;
    ok = take_token(p, m->type, true) && eat(p, '/') &&
         take_token(p, m->subtype, true) && parse_params(p, m);
    /* "*" / "json" is not a valid range: a wildcard type needs a wildcard
     * subtype. */
    if (ok && strcmp(m->type, "*") == 0 && strcmp(m->subtype, "*") != 0)
        ok = false;
    while (**p != ',' && **p != '\0')
        (*p)++;
    return ok;
}

/* Insertion sort by q, descending and stable (a handful of entries). */
static void sort_by_q(struct srv_media_range *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct srv_media_range x = m[i];
        size_t j = i;

        for (; j > 0 && m[j - 1].q < x.q; j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

size_t srv_accept_parse(const char *accept,
                        struct srv_media_range *out,
                        size_t max)
{
    const char *p = accept;
    size_t n = 0;

    if (p == NULL)
        return 0;
    while (*p != '\0' && n < max) {
        if (parse_range(&p, &out[n]) && out[n].q > 0)
            n++;
        if (*p == ',')
            p++;
    }
    sort_by_q(out, n);
    return n;
}

static bool wild_eq(const char *range, const char *offer)
{
    return strcmp(range, "*") == 0 || strcmp(range, offer) == 0;
}

bool srv_media_match(const struct srv_media_range *m,
                     const struct srv_media_offer *o)
{
    return wild_eq(m->type, o->type) && wild_eq(m->subtype, o->subtype) &&
           strcmp(m->group, o->group) == 0 &&
           strcmp(m->version, o->version) == 0 && strcmp(m->as, o->as) == 0;
}

int srv_accept_negotiate(const char *accept,
                         const struct srv_media_offer *offers,
                         size_t n_offers)
{
    struct srv_media_range ranges[SRV_ACCEPT_MAX];
    size_t n;
    const char *p = accept;

    /* No header (or only blanks) means anything: the default form. */
    while (p != NULL && (is_ows(*p) || *p == ','))
        p++;
    if (p == NULL || *p == '\0')
        return n_offers > 0 ? 0 : -1;
    n = srv_accept_parse(accept, ranges, SRV_ACCEPT_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_offers; j++)
            if (srv_media_match(&ranges[i], &offers[j]))
                return (int)j;
    return -1;
}
